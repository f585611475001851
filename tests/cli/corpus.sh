#!/usr/bin/env bash
# cli_corpus: `bitt corpus` writes the synthetic story corpus: exactly the
# number of stories asked for, each followed by "\n<|endoftext|>\n", printable
# text, the same bytes for the same seed and other stories for another seed;
# the corpus feeds `bitt tokenizer train` and `bitt prepare`; bad flags fail.
# Usage: bash corpus.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" corpus --help
run_ok "$BITT" corpus --out a.txt --stories 200 --seed 7
grep -q 'wrote a.txt: 200 stories' err || fail "corpus summary: $(cat err)"
ok
run_ok "$BITT" corpus --out b.txt --stories 200 --seed 7
cmp -s a.txt b.txt || fail "the same seed gave different corpora"
ok
run_ok "$BITT" corpus --out c.txt --stories 200 --seed 8
! cmp -s a.txt c.txt || fail "seeds 7 and 8 gave the same corpus"
ok
# the first stories do not depend on how many follow
run_ok "$BITT" corpus --out short.txt --stories 20 --seed 7
head -c "$(stat -c %s short.txt)" a.txt | cmp -s - short.txt || fail "--stories 20 is not a prefix of --stories 200"
ok

python3 - a.txt <<'EOF' || fail "the corpus is not 200 separated stories of printable text"
import sys
t = open(sys.argv[1], "rb").read()
assert t.endswith(b"\n<|endoftext|>\n"), t[-40:]
parts = t.split(b"\n<|endoftext|>\n")
assert parts[-1] == b"" and len(parts) == 201, len(parts)
stories = parts[:-1]
assert all(len(s) > 100 for s in stories), min(map(len, stories))
assert all(32 <= c < 127 or c == 10 for c in t), "not printable ASCII"
assert len(set(stories)) >= 190, "too many repeated stories: %d distinct" % len(set(stories))
assert all(s[:1].isupper() and s.rstrip()[-1:] in b".!\"" for s in stories)
EOF
ok

# defaults: 1000 stories
run_ok "$BITT" corpus --out d.txt
grep -q 'wrote d.txt: 1000 stories' err || fail "default corpus: $(cat err)"
ok

# it trains a tokenizer and prepares into 200 documents
run_ok "$BITT" tokenizer train --input a.txt --vocab 500 --out t.json --quiet
run_ok "$BITT" prepare --tokenizer t.json --input a.txt --out a.bin --quiet
cp a.bin.json side
jcheck side 'd["documents"] == 200'

# --- bad flags -----------------------------------------------------------------------------
expect_fail "no --out" 'out.*required' "$BITT" corpus --stories 3
expect_fail "--stories 0" 'stories 0' "$BITT" corpus --out x.txt --stories 0
expect_fail "--stories -4" 'stories' "$BITT" corpus --out x.txt --stories -4
expect_fail "--stories too large" 'stories' "$BITT" corpus --out x.txt --stories 10000001
expect_fail "--seed abc" 'seed|abc' "$BITT" corpus --out x.txt --seed abc
expect_fail "an output in a missing directory" 'nodir' "$BITT" corpus --out nodir/x.txt --stories 3
[[ ! -e x.txt ]] || fail "a failed corpus left x.txt"
ok

finish
