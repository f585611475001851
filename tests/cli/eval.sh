#!/usr/bin/env bash
# cli_eval: `bitt eval --json` reports tokens, bytes, loss, ppl, bits_per_byte
# consistent with each other and with the tokenizer (SPEC 5), reproducibly and
# alike for the same weights in every format; too short or missing text fails.
# Usage: bash eval.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512 --seed 1
run_ok "$BITT" convert m.bitt mdir
run_ok "$BITT" convert m.bitt mp.bitt --packed

cat >text.txt <<'EOF'
The lighthouse keeper climbed the stairs before sunrise, counting each step.
Below, the fishing boats rocked gently while the tide crept over the pebbles.
At the bakery on the corner, Zoë set out warm rolls and a jar of plum jam.
Numbers help too: 3 boats, 17 gulls, and 2048 grains of sand on one palm.
EOF

run_ok "$BITT" eval --model m.bitt --text text.txt --json
cp out e1.json
[[ $(wc -l <e1.json) -eq 1 ]] || fail "eval --json printed more than one line"
jcheck e1.json 'all(k in d for k in ("tokens", "bytes", "loss", "ppl", "bits_per_byte"))'
jcheck e1.json 'type(d["tokens"]) is int and type(d["bytes"]) is int'
jcheck e1.json 'd["loss"] > 0 and math.isfinite(d["loss"])'
jcheck e1.json 'abs(d["ppl"] - math.exp(d["loss"])) <= 1e-3 * math.exp(d["loss"])'
# bits per byte = summed nats / ln 2 / bytes
jcheck e1.json 'abs(d["bits_per_byte"] - d["loss"] * d["tokens"] / math.log(2) / d["bytes"]) <= 1e-3 * d["bits_per_byte"]'
# a random model is roughly uniform over 512 ids: loss near ln 512 = 6.24 nats
jcheck e1.json '3 < d["loss"] < 12'

# tokens = every token after the first; bytes = the text after the first token
run_ok "$BITT" tokenize --model m.bitt --input text.txt
read -r -a ids <out
((${#ids[@]} > 2)) || fail "tokenize gave fewer than 3 ids for the text"
run_ok "$BITT" tokenize --model m.bitt --decode --text "${ids[0]}" --json
cp out first.json
size=$(stat -c %s text.txt)
python3 - e1.json first.json "${#ids[@]}" "$size" <<'EOF' || fail "eval counts disagree with the tokenizer"
import json, sys
e = json.load(open(sys.argv[1]))
first = json.loads(open(sys.argv[2], "rb").read().decode("utf-8", "surrogateescape"))["text"]
n_ids, size = int(sys.argv[3]), int(sys.argv[4])
if e["tokens"] != n_ids - 1:
    sys.exit("eval tokens %d, tokenize gives %d ids: expected %d" % (e["tokens"], n_ids, n_ids - 1))
want = size - len(first.encode("utf-8", "surrogateescape"))
if e["bytes"] != want:
    sys.exit("eval bytes %d, expected %d (file %d bytes minus the first token %r)" % (e["bytes"], want, size, first))
EOF
ok

# reproducible
run_ok "$BITT" eval --model m.bitt --text text.txt --json
jcheck out "d['loss'] == $(jget e1.json loss)"

# the same weights in a checkpoint directory: the same numbers
run_ok "$BITT" eval --model mdir --text text.txt --json
jcheck out "d['loss'] == $(jget e1.json loss) and d['tokens'] == $(jget e1.json tokens) and d['bytes'] == $(jget e1.json bytes)"
# packed (f16 embeddings): close
run_ok "$BITT" eval --model mp.bitt --text text.txt --json
jcheck out "abs(d['loss'] - $(jget e1.json loss)) < 0.01 * $(jget e1.json loss)"

# another model scores the same text differently
run_ok "$BITT" init --out other.bitt --dim 64 --layers 2 --vocab 512 --seed 2
run_ok "$BITT" eval --model other.bitt --text text.txt --json
jcheck out "d['loss'] != $(jget e1.json loss)"

# the text plays a part: a shorter text has fewer tokens and another loss
head -n 2 text.txt >half.txt
run_ok "$BITT" eval --model m.bitt --text half.txt --json
jcheck out "d['tokens'] < $(jget e1.json tokens) and d['loss'] != $(jget e1.json loss)"

# without --json: a human-readable report with the same loss
run_ok "$BITT" eval --model m.bitt --text text.txt
grep -qi 'loss' out || fail "eval without --json does not mention the loss: $(cat out)"
grep -qi 'perplexity\|ppl' out || fail "eval without --json does not mention the perplexity: $(cat out)"
ok

# too little text, no text, missing file
printf 'a' >one.txt
expect_fail "a one-character text" 'token' "$BITT" eval --model m.bitt --text one.txt
: >empty.txt
expect_fail "an empty text" 'token|empty' "$BITT" eval --model m.bitt --text empty.txt
expect_fail "a missing text file" 'nothere\.txt' "$BITT" eval --model m.bitt --text nothere.txt
expect_fail "eval without --text" 'text' "$BITT" eval --model m.bitt
expect_fail "eval without --model" 'model' "$BITT" eval --text text.txt

finish
