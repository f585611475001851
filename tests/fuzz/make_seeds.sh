#!/usr/bin/env bash
# make_seeds.sh: seed corpora for the fuzz harnesses, made by the project's
# own CLI so that they are what the readers meet in practice (tiny models,
# a tokenizer trained on the synthetic stories, a token file, state files,
# a checkpoint with its optimizer state), plus a few hand-written request
# bodies and chat templates. Nothing here is committed: every run makes
# them again (a few seconds).
# Usage: bash tests/fuzz/make_seeds.sh BITT OUTDIR   (OUTDIR/<harness>/ per harness)
set -euo pipefail
bitt=$(realpath "$1")
out=$2
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")
work=$out/.work
mkdir -p "$work"
cd "$work"
export ASAN_OPTIONS=detect_leaks=0
q() { "$@" >/dev/null 2>&1 || { echo "make_seeds.sh: failed: $*" >&2; "$@" >&2 || true; exit 1; }; }
for h in fuzz_json fuzz_safetensors fuzz_bitt fuzz_checkpoint fuzz_tokenizer_json fuzz_tokenizer_codec \
         fuzz_state fuzz_token_file fuzz_server_request fuzz_chat_template fuzz_cli_args fuzz_recall_key fuzz_bpe_train; do mkdir -p "$out/$h"; done

# u32 little-endian length of $1, then $1, then $2: the two-part input of
# fuzz_checkpoint and fuzz_token_file (fuzz_util.h, fuzz_split)
pack() {
  local n
  n=$(stat -c %s "$1")
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)))" >"$3"
  cat "$1" "$2" >>"$3"
}

# text, tokenizer, token file
q "$bitt" corpus --out stories.txt --stories 30 --seed 1
q "$bitt" tokenizer train --input stories.txt --vocab 300 --out tok.json
head -c 3000 stories.txt >small.txt
q "$bitt" prepare --tokenizer tok.json --input small.txt --out small.bin
q "$bitt" prepare --tokenizer tok.json --input stories.txt --out train.bin
cp tok.json "$out/fuzz_tokenizer_json/trained.json"
pack small.bin.json small.bin "$out/fuzz_token_file/small"
head -c 600 stories.txt >"$out/fuzz_tokenizer_codec/story"
head -c 4000 stories.txt >"$out/fuzz_bpe_train/stories"
cp "$out/fuzz_tokenizer_codec/story" "$out/fuzz_bpe_train/story"
printf 'caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 </s><s> \xff\xc0\x80 \t\r\n  x' >"$out/fuzz_tokenizer_codec/utf8"

# small models of each variant: the ones fuzz_state's models are (fuzz_util.h);
# their states; .bitt v1 and v2; checkpoint directories
small="--dim 16 --layers 1 --vocab 300 --seed 1"
q "$bitt" init --out lin.bitt $small
q "$bitt" init --out lin_nogate.bitt $small --forget-gate off
q "$bitt" init --out seed.bitt $small --variant seed
q "$bitt" init --out none.bitt $small --variant none
for m in lin lin_nogate seed none; do
  q "$bitt" generate --model $m.bitt --prompt "Once upon a time" --max-tokens 3 --threads 1 --state-out $m.state
  cp $m.state "$out/fuzz_state/$m.state"
  cp $m.state "$out/fuzz_safetensors/$m.state"
  cp $m.bitt "$out/fuzz_bitt/${m}_v1.bitt"
  q "$bitt" convert $m.bitt ${m}_v2.bitt --packed
  cp ${m}_v2.bitt "$out/fuzz_bitt/${m}_v2.bitt"
  q "$bitt" convert $m.bitt ${m}_v2f16.bitt --packed --embed f16
  cp ${m}_v2f16.bitt "$out/fuzz_bitt/${m}_v2f16.bitt"
  q "$bitt" convert ${m}_v2.bitt ck_$m
  pack ck_$m/config.json ck_$m/model.safetensors "$out/fuzz_checkpoint/$m"
  cp ck_$m/config.json "$out/fuzz_json/config_$m.json"
done
cp ck_lin/model.safetensors "$out/fuzz_safetensors/model.safetensors"
cp ck_lin/tokenizer.json "$out/fuzz_tokenizer_json/synthetic.json"
# a model with the trained tokenizer and int8 activations off, two layers
q "$bitt" init --out tok_model.bitt --dim 8 --layers 2 --heads 2 --tokenizer tok.json --no-act-quant --mini-batch 4
cp tok_model.bitt "$out/fuzz_bitt/tok_model_v1.bitt"
q "$bitt" convert tok_model.bitt tok_model_v2.bitt --packed
cp tok_model_v2.bitt "$out/fuzz_bitt/tok_model_v2.bitt"

# a checkpoint as training writes it (model, optimizer, state.json)
q "$bitt" train --data train.bin --tokenizer tok.json --out run --dim 16 --layers 1 --context 16 --batch 2 \
  --steps 2 --save-interval 2 --eval-interval 0 --threads 1
cp run/checkpoint/optimizer.safetensors "$out/fuzz_safetensors/optimizer.safetensors"
cp run/checkpoint/state.json "$out/fuzz_json/state.json"
cp run/checkpoint/config.json "$out/fuzz_json/config_trained.json"
cp small.bin.json "$out/fuzz_json/sidecar.json"

# the recall task's answer key, for a text of at most fuzz_recall_key's TEXT_LEN bytes
q "$bitt" corpus --task recall --tokenizer tok.json --out rec.txt --gaps 0,8 --docs 2 --facts 2 --seed 1
if [ "$(stat -c %s rec.txt)" -le 5000 ]; then cp rec.txt.json "$out/fuzz_recall_key/key.json"; fi
printf '%s' '{"format": "bitt-recall", "tokenizer_fingerprint": "0123456789abcdef", "facts": 2, "documents": [{"start": 0, "end": 100, "gap": 8, "answers": [[10, 12], [40, 45]]}]}' >"$out/fuzz_recall_key/hand.json"

# server request bodies (docs/SERVER.md) and chat templates (chat_template.h)
s=$out/fuzz_server_request
printf '%s' '{"prompt": "Once upon a time", "max_tokens": 4, "temperature": 0.8, "top_p": 0.9, "seed": 3}' >$s/completion
printf '%s' '{"prompt": "Hi", "max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}, "logprobs": 2, "stop": ["\n", "the"]}' >$s/stream
printf '%s' '{"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hello"}], "max_tokens": 4, "logprobs": true, "top_logprobs": 3}' >$s/chat
printf '%s' '{"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "conversation_id": "c-1", "frequency_penalty": 0.5, "presence_penalty": 0.2, "min_p": 0.1, "top_k": 5}' >$s/parts
printf '%s' '{"model": "fuzz", "prompt": "", "n": 2, "echo": true, "user": "u", "max_tokens": null}' >$s/refused
c=$out/fuzz_chat_template
printf '%s' '{"system": "{content}\n\n", "user": "User: {content}\n", "assistant": "Assistant: {content}\n", "stop": ["\nUser:"]}' >$c/full
printf '%s' '{"user": "<u>{content}</u>", "assistant": "<a>{content}</a>"}' >$c/short
cp $c/full "$out/fuzz_json/template.json"
cp $s/chat "$out/fuzz_json/request.json"

# command lines (NUL between arguments), as the bitt subcommands take them
a=$out/fuzz_cli_args
printf -- '--out\x00m.bitt\x00--max-tokens\x00100\x00--temp\x00000.8\x00--seed\x000042\x00--packed\x00in.bitt' >$a/flags
printf -- '--out=x\x00--temp=1e-3\x00a\x00b\x00--\x00--name' >$a/equals
printf -- '--help' >$a/help

rm -rf "$work"
echo "make_seeds.sh: $(find "$out" -type f | wc -l) seeds in $out"
