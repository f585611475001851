#!/usr/bin/env bash
# cli_bad_input: bad flags and bad files are refused (SPEC 4): non-zero exit,
# no crash (exit < 128), no hang, and a message on stderr naming the problem.
# Usage: bash bad_input.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512
run_ok "$BITT" init --out p.bitt --dim 64 --layers 2 --vocab 512 --packed
run_ok "$BITT" init --out dir --dim 64 --layers 2 --vocab 512
G=(generate --prompt hi --max-tokens 2)

# --- command line ---------------------------------------------------------------
expect_fail "no command" 'usage' "$BITT"
expect_fail "unknown subcommand" 'unknown.*frobnicate|frobnicate.*unknown' "$BITT" frobnicate
expect_fail "unknown flag" 'bogus-flag' "$BITT" generate --model m.bitt --bogus-flag
expect_fail "unknown flag (inspect)" 'no-such' "$BITT" inspect m.bitt --no-such
expect_fail "missing value at the end" 'max-tokens.*value|value.*max-tokens' \
    "$BITT" generate --model m.bitt --prompt hi --max-tokens
expect_fail "non-numeric --max-tokens" 'abc' "$BITT" generate --model m.bitt --prompt hi --max-tokens abc
expect_fail "--max-tokens with trailing junk" '12x' "$BITT" generate --model m.bitt --prompt hi --max-tokens 12x
expect_fail "--max-tokens -1" 'max-tokens|max_tokens' "$BITT" generate --model m.bitt --prompt hi --max-tokens -1
expect_fail "--max-tokens past int range" 'max-tokens|integer' \
    "$BITT" generate --model m.bitt --prompt hi --max-tokens 99999999999999999999
expect_fail "--temp -1" 'temp' "$BITT" generate --model m.bitt --prompt hi --temp -1
expect_fail "--temp nan" 'temp|number' "$BITT" generate --model m.bitt --prompt hi --temp nan
expect_fail "--top-p 0" 'top-p|top_p' "$BITT" generate --model m.bitt --prompt hi --top-p 0
expect_fail "--top-p 1.5" 'top-p|top_p' "$BITT" generate --model m.bitt --prompt hi --top-p 1.5
expect_fail "--top-k -3" 'top-k|top_k' "$BITT" generate --model m.bitt --prompt hi --top-k -3
expect_fail "--seed -1" 'seed' "$BITT" generate --model m.bitt --prompt hi --seed -1
expect_fail "--seed ' -1' (strtoull skips the space and wraps the minus)" 'seed.*non-negative' \
    "$BITT" generate --model m.bitt --prompt hi --seed ' -1'
# a float flag beyond float's range was stored as infinity (found by fuzz_cli_args)
expect_fail "--temp 1e39" 'temp.*out of range' "$BITT" generate --model m.bitt --prompt hi --temp 1e39
expect_fail "--lr -1e39" 'lr.*out of range' "$BITT" train --data d.bin --tokenizer t.json --out r --lr -1e39
expect_fail "a value for a boolean flag" 'json' "$BITT" generate --model m.bitt --prompt hi --json=yes
expect_fail "stray positional argument" 'stray' "$BITT" generate --model m.bitt --prompt hi stray
expect_fail "missing --model" 'model' "$BITT" generate --prompt hi
expect_fail "model path that does not exist" 'nothere\.bitt' "$BITT" "${G[@]}" --model nothere.bitt
expect_fail "model directory that does not exist" 'nothere_dir' "$BITT" "${G[@]}" --model nothere_dir
expect_fail "inspect without a model" 'model' "$BITT" inspect

# --- model files: every reader refuses them (inspect, generate, eval, convert) -----
# bad_model WHAT REGEX PATH: all four commands fail on PATH with a matching message
printf 'A sentence for the evaluation of a broken model file.\n' >t.txt
bad_model() {
    local what=$1 re=$2 path=$3
    expect_fail "$what (inspect)" "$re" "$BITT" inspect "$path" --json
    expect_fail "$what (generate)" "$re" "$BITT" "${G[@]}" --model "$path"
    expect_fail "$what (eval)" "$re" "$BITT" eval --model "$path" --text t.txt
    expect_fail "$what (convert)" "$re" "$BITT" convert "$path" converted.bitt
    [[ ! -e converted.bitt ]] || fail "$what: a failed convert left converted.bitt"
    ok
}

: >empty.bitt
bad_model "an empty file" 'empty\.bitt.*(short|empty|truncat)' empty.bitt
head -c 1000 /dev/urandom >random.bitt
bad_model "a file of random bytes" 'random\.bitt' random.bitt
: >empty.safetensors
bad_model "an empty file, other extension" 'empty\.safetensors' empty.safetensors

# truncated .bitt (v1 and v2) at several sizes
for f in m.bitt p.bitt; do
    size=$(stat -c %s $f)
    hlen=$(python3 -c 'import struct, sys; print(struct.unpack("<Q", open(sys.argv[1], "rb").read()[4:12])[0])' $f)
    for n in 3 4 11 12 20 $((12 + hlen - 1)) $((12 + hlen)) $((12 + hlen + 7)) $((12 + hlen + 20)) $((size / 2)) $((size - 1)); do
        head -c $n $f >trunc.bitt
        bad_model "$f truncated to $n of $size bytes" 'trunc\.bitt.*(short|truncat|past the end|end of|incomplete|JSON)' trunc.bitt
    done
done

# wrong magic
{ printf 'XXXX'; tail -c +5 m.bitt; } >magic.bitt
bad_model "wrong magic" 'magic' magic.bitt
# header length far past the end: "BITT" + 8 bytes 0xff
printf 'BITT\xff\xff\xff\xff\xff\xff\xff\xff' >hlen.bitt
bad_model "header length 2^64-1" 'hlen\.bitt.*(header|length|past|end)' hlen.bitt
# a huge header length in an otherwise whole file (no allocation of 2^63 bytes)
{ printf 'BITT\xff\xff\xff\xff\xff\xff\xff\x7f'; tail -c +13 m.bitt; } >hlen2.bitt
bad_model "header length 2^63-1" 'hlen2\.bitt.*(header|length|past|end)' hlen2.bitt
# header length 0 and a header that is not JSON
{ printf 'BITT\x00\x00\x00\x00\x00\x00\x00\x00'; tail -c +13 m.bitt; } >hzero.bitt
bad_model "header length 0" 'hzero\.bitt.*(header|JSON|empty)' hzero.bitt
{ printf 'BITT\x05\x00\x00\x00\x00\x00\x00\x00{bad}'; tail -c +13 m.bitt; } >hjson.bitt
bad_model "a header that is not JSON" 'hjson\.bitt.*JSON' hjson.bitt
# a packed weight holding the invalid 2-bit code 3
python3 - p.bitt code3.bitt <<'EOF'
import json, struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
H = struct.unpack("<Q", b[4:12])[0]
st = 12 + H
N = struct.unpack("<Q", b[st:st + 8])[0]
t = json.loads(b[st + 8:st + 8 + N])["layers.0.ttt.q.weight"]
assert t["dtype"] == "U8", t
b[st + 8 + N + t["data_offsets"][0]] = 0xFF
open(sys.argv[2], "wb").write(b)
EOF
bad_model "a packed weight with code 3" 'code3\.bitt.*(code|invalid)' code3.bitt
# I8 embeddings (SPEC 3.3): a negative row scale, an int8 of -128, a truncated file
run_ok "$BITT" init --out i8.bitt --dim 64 --layers 2 --vocab 512 --packed --embed i8
python3 - i8.bitt negscale.bitt m128.bitt <<'EOF'
import json, struct, sys
b = bytes(open(sys.argv[1], "rb").read())
H = struct.unpack("<Q", b[4:12])[0]
st = 12 + H
N = struct.unpack("<Q", b[st:st + 8])[0]
hdr = json.loads(b[st + 8:st + 8 + N])
data = st + 8 + N
t = hdr["lm_head.weight_row_scale"]
assert t["dtype"] == "F32" and t["shape"] == [512], t
neg = bytearray(b)
neg[data + t["data_offsets"][0] + 4 * 7:data + t["data_offsets"][0] + 4 * 8] = struct.pack("<f", -0.25)
open(sys.argv[2], "wb").write(neg)
t = hdr["embed.weight"]
assert t["dtype"] == "I8" and t["shape"] == [512, 64], t
m128 = bytearray(b)
m128[data + t["data_offsets"][0] + 64 * 3 + 5] = 0x80
open(sys.argv[3], "wb").write(m128)
EOF
bad_model "an I8 row scale < 0" 'negscale\.bitt.*lm_head\.weight_row_scale' negscale.bitt
bad_model "an int8 of -128" 'm128\.bitt.*embed\.weight.*-128' m128.bitt
size=$(stat -c %s i8.bitt)
for n in $((size / 2)) $((size - 2048 - 1)) $((size - 1)); do # the end of the file holds lm_head and its scales
    head -c $n i8.bitt >trunc.bitt
    bad_model "i8.bitt truncated to $n of $size bytes" 'trunc\.bitt.*(short|truncat|past the end|end of|incomplete)' trunc.bitt
done

# --- checkpoint directories ----------------------------------------------------------
baddir() { rm -rf "$1" && cp -r dir "$1"; }
baddir d_json
printf '{"vocab_size": 512, "hidden_dim": ' >d_json/config.json
bad_model "malformed config.json" 'config\.json.*JSON' d_json
baddir d_variant
printf '{"vocab_size": 512, "hidden_dim": 64, "num_layers": 2, "ttt_variant": "bogus"}\n' >d_variant/config.json
bad_model "unknown ttt_variant" 'variant.*bogus|bogus.*variant' d_variant
baddir d_nost
rm d_nost/model.safetensors
bad_model "model.safetensors removed" 'model\.safetensors' d_nost
baddir d_notok
rm d_notok/tokenizer.json
bad_model "tokenizer.json removed" 'tokenizer\.json' d_notok
baddir d_nocfg
rm d_nocfg/config.json
bad_model "config.json removed" 'config\.json' d_nocfg
baddir d_emptycfg
: >d_emptycfg/config.json
bad_model "empty config.json" 'config\.json' d_emptycfg
baddir d_array
printf '[1, 2, 3]\n' >d_array/config.json
bad_model "config.json not an object" 'config\.json' d_array
baddir d_layers
printf '{"vocab_size": 512, "hidden_dim": 64, "num_layers": -1, "ttt_variant": "linear"}\n' >d_layers/config.json
bad_model "num_layers -1" 'num_layers' d_layers
baddir d_vocab
printf '{"vocab_size": 99999999999, "hidden_dim": 64, "num_layers": 2, "ttt_variant": "linear"}\n' >d_vocab/config.json
bad_model "a huge vocab_size" 'vocab_size' d_vocab
baddir d_shape
printf '{"vocab_size": 512, "hidden_dim": 32, "num_layers": 2, "ttt_variant": "linear"}\n' >d_shape/config.json
bad_model "config disagreeing with the tensor shapes" 'shape|expected' d_shape
baddir d_heads
printf '{"vocab_size": 512, "hidden_dim": 64, "num_layers": 2, "ttt_variant": "linear", "num_heads": 3}\n' >d_heads/config.json
bad_model "num_heads not dividing hidden_dim" 'num_heads|head' d_heads
baddir d_trunc
head -c 5000 dir/model.safetensors >d_trunc/model.safetensors
bad_model "truncated model.safetensors" 'model\.safetensors' d_trunc
baddir d_rnd
head -c 1000 /dev/urandom >d_rnd/model.safetensors
bad_model "random model.safetensors" 'model\.safetensors' d_rnd
baddir d_badtok
printf '{"model": {"type": "BPE"' >d_badtok/tokenizer.json
bad_model "malformed tokenizer.json" 'tokenizer\.json' d_badtok
mkdir -p d_empty
bad_model "an empty directory" 'config\.json' d_empty

# --- other inputs ---------------------------------------------------------------------
expect_fail "tokenize --decode out-of-range id" '999999' \
    "$BITT" tokenize --model m.bitt --decode --text "1 2 999999"
expect_fail "tokenize --decode id past int32" 'id|integer' \
    "$BITT" tokenize --model m.bitt --decode --text "1 99999999999"
expect_fail "eval with a missing text file" 'nothere\.txt' "$BITT" eval --model m.bitt --text nothere.txt
expect_fail "eval with a directory as text" 'tdir' sh -c 'mkdir -p tdir && exec "$0" eval --model m.bitt --text tdir' "$BITT"
head -c 1000 /dev/urandom >rnd.json
expect_fail "random bytes as tokenizer.json" 'rnd\.json' "$BITT" tokenize --tokenizer rnd.json --text hi
expect_fail "init with a random tokenizer" 'rnd\.json' "$BITT" init --out x.bitt --tokenizer rnd.json
[[ ! -e x.bitt ]] || fail "a failed init left x.bitt"
ok

finish
