#!/usr/bin/env bash
# cli_prepare: `bitt prepare` end to end: a u16 token file and its sidecar
# (counts, dtype, fingerprint, </s> after every story), the ids of each story
# equal to what `bitt tokenize` gives for its text, several inputs, u32 for a
# vocabulary over 65,536 ids; bad input (missing or empty files, a missing or
# unsupported tokenizer, an output in a missing directory) fails clearly and
# leaves no token file.
# Usage: bash prepare.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" prepare --help
run_ok "$BITT" corpus --out c.txt --stories 120 --seed 9
run_ok "$BITT" tokenizer train --input c.txt --vocab 700 --out t.json --quiet

# --- one input --------------------------------------------------------------------
run_ok "$BITT" prepare --tokenizer t.json --input c.txt --out c.bin
grep -Eq 'wrote c\.bin: [0-9]+ tokens \(u16\), 120 stories' err || fail "prepare summary: $(cat err)"
ok
cp c.bin.json side
jcheck side 'd["format"] == "bitt-tokens" and d["version"] == 1 and d["dtype"] == "u16" and d["vocab_size"] == 700'
jcheck side 'd["documents"] == 120 and d["eos_id"] == 2 and d["inputs"] == ["c.txt"] and d["tokenizer"] == "t.json"'
jcheck side 'len(d["tokenizer_fingerprint"]) == 16 and int(d["tokenizer_fingerprint"], 16) >= 0'
jcheck side 'd["token_count"] * 2 == '"$(stat -c %s c.bin)"

# stories, their bytes and their ids as bitt tokenize gives them (a few, one
# process each), against the token file cut at </s>
python3 - c.txt c.bin side <<'EOF' || fail "the token file does not match the stories"
import json, struct, sys
text = open(sys.argv[1], "rb").read()
stories = [s.strip(b"\r\n") for s in text.split(b"<|endoftext|>")]
stories = [s for s in stories if s]
raw = open(sys.argv[2], "rb").read()
ids = list(struct.unpack("<%dH" % (len(raw) // 2), raw))
side = json.load(open(sys.argv[3]))
assert side["text_bytes"] == sum(len(s) for s in stories), (side["text_bytes"], sum(len(s) for s in stories))
assert ids[-1] == 2 and ids.count(2) == len(stories) == 120, (ids.count(2), len(stories))
assert all(i < 700 for i in ids)
pieces, cur = [], []
for i in ids:
    if i == 2:
        pieces.append(cur)
        cur = []
    else:
        cur.append(i)
for k in (0, 1, 57, 119):
    open("story%d.txt" % k, "wb").write(stories[k])
    json.dump(pieces[k], open("piece%d.json" % k, "w"))
EOF
ok
for k in 0 1 57 119; do
    run_ok "$BITT" tokenize --tokenizer t.json --input story$k.txt --json
    python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["ids"] != json.load(open(sys.argv[2])))' \
        out piece$k.json || fail "story $k: bitt tokenize ids differ from what prepare wrote"
    ok
done

# the same file again: the same bytes
run_ok "$BITT" prepare --tokenizer t.json --input c.txt --out c2.bin --quiet
cmp -s c.bin c2.bin || fail "prepare is not deterministic"
ok

# --- several inputs -------------------------------------------------------------------
run_ok "$BITT" corpus --out d.txt --stories 30 --seed 10
run_ok "$BITT" prepare --tokenizer t.json --input c.txt d.txt --out cd.bin --quiet
cp cd.bin.json side2
jcheck side2 'd["documents"] == 150 and d["inputs"] == ["c.txt", "d.txt"]'
head -c "$(stat -c %s c.bin)" cd.bin | cmp -s - c.bin || fail "the first input's tokens are not first"
ok
# a text without separators is one story
printf 'Just one line, no separator.' >one.txt
run_ok "$BITT" prepare --tokenizer t.json --input one.txt --out one.bin --quiet
cp one.bin.json side3
jcheck side3 'd["documents"] == 1 and d["text_bytes"] == 28'

# --- u32 for a vocabulary over 65,536 ids --------------------------------------------------
# t.json with its learned tokens moved to the top ids 69559..69999 and unused
# tokens below them: 70,000 ids, and stories whose ids go past 65,535
python3 - t.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = d["model"]["vocab"]
learned = sorted((i, k) for k, i in v.items() if i >= 259)
for i, k in learned:
    v[k] = i + 70000 - 700
for i in range(259, 70000 - 441):
    v["x%05d" % i] = i
json.dump(d, open("big.json", "w"))
EOF
run_ok "$BITT" prepare --tokenizer big.json --input d.txt --out big.bin --quiet
cp big.bin.json side4
jcheck side4 'd["dtype"] == "u32" and d["vocab_size"] == 70000 and d["token_count"] * 4 == '"$(stat -c %s big.bin)"
python3 - d.txt big.bin <<'EOF' || fail "u32 token file: bad ids"
import struct, sys
raw = open(sys.argv[2], "rb").read()
ids = struct.unpack("<%dI" % (len(raw) // 4), raw)
assert ids[-1] == 2 and ids.count(2) == 30 and 65536 <= max(ids) < 70000, max(ids)
first = ids[:ids.index(2)]
open("first.json", "w").write(repr(list(first)))
open("first.txt", "wb").write(open(sys.argv[1], "rb").read().split(b"\n<|endoftext|>")[0])
EOF
ok
run_ok "$BITT" tokenize --tokenizer big.json --input first.txt --json
python3 -c 'import ast, json, sys; sys.exit(json.load(open(sys.argv[1]))["ids"] != ast.literal_eval(open(sys.argv[2]).read()))' \
    out first.json || fail "u32 file: the first story's ids differ from bitt tokenize"
ok

# --- bad input ------------------------------------------------------------------------------
: >empty.txt
expect_fail "an empty input" 'empty\.txt.*no text' "$BITT" prepare --tokenizer t.json --input empty.txt --out x.bin
printf '<|endoftext|>\n\n<|endoftext|>' >seps.txt
expect_fail "only separators" 'seps\.txt.*no text' "$BITT" prepare --tokenizer t.json --input c.txt seps.txt --out x.bin
expect_fail "a missing input" 'nothere\.txt' "$BITT" prepare --tokenizer t.json --input c.txt nothere.txt --out x.bin
mkdir adir
expect_fail "a directory as input" 'adir' "$BITT" prepare --tokenizer t.json --input adir --out x.bin
expect_fail "a missing tokenizer" 'nothere\.json' "$BITT" prepare --tokenizer nothere.json --input c.txt --out x.bin
printf '{"model": {"type": "BPE", "vocab": ' >broken.json
expect_fail "a truncated tokenizer.json" 'broken\.json' "$BITT" prepare --tokenizer broken.json --input c.txt --out x.bin
printf '{"vocab_size": 700, "hidden_dim": 64}' >config.json
expect_fail "a model config as tokenizer" 'config\.json' \
    "$BITT" prepare --tokenizer config.json --input c.txt --out x.bin
expect_fail "an output in a missing directory" 'nodir' "$BITT" prepare --tokenizer t.json --input c.txt --out nodir/x.bin
expect_fail "no --tokenizer" 'tokenizer' "$BITT" prepare --input c.txt --out x.bin
expect_fail "no --input" 'input' "$BITT" prepare --tokenizer t.json --out x.bin
expect_fail "no --out" 'out' "$BITT" prepare --tokenizer t.json --input c.txt
[[ ! -e x.bin && ! -e x.bin.json && ! -e x.bin.tmp ]] || fail "a failed prepare left x.bin files"
ok

finish
