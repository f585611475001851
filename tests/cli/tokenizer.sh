#!/usr/bin/env bash
# cli_tokenizer: `bitt tokenizer train` end to end: the hand-checked merges of
# a tiny corpus, a Hugging Face tokenizer.json with the vocab size asked for,
# the same file twice and from split inputs, --special and --min-frequency,
# text round-tripping through the trained tokenizer with `bitt tokenize`; bad
# input (empty text, --vocab 100, unreadable files, tokenizer.json files of an
# unsupported model type) fails with a clear message.
# Usage: bash tokenizer.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" tokenizer train --help
grep -q -- '--min-frequency' out || fail "tokenizer train --help does not list --min-frequency"
ok
run_ok "$BITT" tokenizer --help

# --- hand-checked merges (worked out in tests/test_bpe_train.c) ------------------
printf 'low\nlow\nlow\nlow\nlow\nlower\nlower\nnewest\nnewest\nnewest\nnewest\nnewest\nnewest\nwidest\nwidest\nwidest' >s.txt
run_ok "$BITT" tokenizer train --input s.txt --vocab 1000 --out s.json
grep -q 'only 271 of the 1000 ids' err || fail "no note that only 271 ids could be made: $(cat err)"
ok
cp s.json sj
jcheck sj '[" ".join(m) if isinstance(m, list) else m for m in d["model"]["merges"]] == "e s|es t|l o|lo w|e w|n ew|new est|d est|i dest|w idest|e r|low er".split("|")'
jcheck sj 'd["model"]["type"] == "BPE" and d["pre_tokenizer"]["type"] == "ByteLevel" and d["decoder"]["type"] == "ByteLevel"'
jcheck sj '[(t["id"], t["content"], t["special"]) for t in d["added_tokens"]] == [(0, "<unk>", True), (1, "<s>", True), (2, "</s>", True)]'
jcheck sj 'd["model"]["vocab"]["!"] == 3 and d["model"]["vocab"]["\u0120"] == 223 and d["model"]["vocab"]["es"] == 259'
run_ok "$BITT" tokenizer train --input s.txt --vocab 1000 --min-frequency 7 --out s7.json
cp s7.json sj
jcheck sj 'len(d["model"]["merges"]) == 4 and len(d["model"]["vocab"]) == 263'
grep -q 'min-frequency' err || fail "--min-frequency 7 stopped early without saying why: $(cat err)"
ok

# --- a corpus: the vocab size asked for, deterministic ------------------------------
run_ok "$BITT" corpus --out c.txt --stories 400 --seed 5
run_ok "$BITT" tokenizer train --input c.txt --vocab 900 --out t1.json
cp t1.json tj
jcheck tj 'len(d["model"]["vocab"]) == 900 and len(d["model"]["merges"]) == 900 - 259'
jcheck tj 'sorted(d["model"]["vocab"].values()) == list(range(900))'
run_ok "$BITT" tokenizer train --input c.txt --vocab 900 --out t2.json --quiet
[[ ! -s err ]] || fail "--quiet still printed: $(cat err)"
cmp -s t1.json t2.json || fail "two trainings on the same text gave different files"
ok
# the same stories in two files give the same tokenizer
python3 - c.txt <<'EOF'
import sys
t = open(sys.argv[1], "rb").read()
cut = t.index(b"<|endoftext|>\n", len(t) // 2) + len(b"<|endoftext|>\n")
open("c1.txt", "wb").write(t[:cut])
open("c2.txt", "wb").write(t[cut:])
EOF
run_ok "$BITT" tokenizer train --input c1.txt c2.txt --vocab 900 --out t3.json --quiet
cmp -s t1.json t3.json || fail "--input c1.txt c2.txt differs from the whole text"
ok

# --- --special -------------------------------------------------------------------
run_ok "$BITT" tokenizer train --input c.txt --vocab 600 --special '<mask>' '<pad>' --out sp.json --quiet
cp sp.json spj
jcheck spj '[(t["id"], t["content"]) for t in d["added_tokens"]][3:] == [(3, "<mask>"), (4, "<pad>")]'
jcheck spj 'd["model"]["vocab"]["<mask>"] == 3 and d["model"]["vocab"]["!"] == 5 and len(d["model"]["vocab"]) == 600'
run_ok "$BITT" tokenize --tokenizer sp.json --text "a<mask>b<pad>" --json
jcheck out '3 in d["ids"] and 4 in d["ids"]'

# --- the trained tokenizer round-trips text, UTF-8 and not ------------------------
printf 'Lily and Tom went to the park. Grüße, 日本語 🎉!\n\tTabs  and   spaces \n' >u.txt
head -c 300 /dev/urandom >>u.txt
run_ok "$BITT" tokenize --tokenizer t1.json --input u.txt --json
python3 -c 'import json, sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["ids"])))' out >u.ids
run_ok "$BITT" tokenize --tokenizer t1.json --decode --input u.ids
{ cat u.txt; echo; } >want.txt
cmp -s out want.txt || fail "decode(encode(u.txt)) with the trained tokenizer is not u.txt"
ok
# frequent words of the corpus are single tokens
run_ok "$BITT" tokenize --tokenizer t1.json --text " the" --json
jcheck out 'len(d["ids"]) == 1'

# --- bad input ----------------------------------------------------------------------
: >empty.txt
expect_fail "empty input" 'empty\.txt.*no text' "$BITT" tokenizer train --input empty.txt --vocab 1000 --out x.json
printf '\n<|endoftext|>\n<|endoftext|>\n' >seps.txt
expect_fail "only separators" 'seps\.txt.*no text' "$BITT" tokenizer train --input seps.txt --vocab 1000 --out x.json
expect_fail "--vocab 100" 'vocab.*100.*at least 259' "$BITT" tokenizer train --input c.txt --vocab 100 --out x.json
expect_fail "--vocab 258" 'at least 259' "$BITT" tokenizer train --input c.txt --vocab 258 --out x.json
expect_fail "--vocab 259 with a --special" 'at least 260' \
    "$BITT" tokenizer train --input c.txt --vocab 259 --special '<mask>' --out x.json
expect_fail "--vocab -5" 'vocab' "$BITT" tokenizer train --input c.txt --vocab -5 --out x.json
expect_fail "--vocab abc" 'vocab|abc' "$BITT" tokenizer train --input c.txt --vocab abc --out x.json
expect_fail "no --vocab" 'vocab.*required' "$BITT" tokenizer train --input c.txt --out x.json
expect_fail "no --input" 'input.*required' "$BITT" tokenizer train --vocab 1000 --out x.json
expect_fail "no --out" 'out.*required' "$BITT" tokenizer train --input c.txt --vocab 1000
expect_fail "--min-frequency -1" 'min-frequency' \
    "$BITT" tokenizer train --input c.txt --vocab 1000 --min-frequency -1 --out x.json
expect_fail "a missing input" 'nothere\.txt' "$BITT" tokenizer train --input nothere.txt --vocab 1000 --out x.json
expect_fail "a missing second input" 'nothere\.txt' \
    "$BITT" tokenizer train --input c.txt nothere.txt --vocab 1000 --out x.json
mkdir adir
expect_fail "a directory as input" 'adir' "$BITT" tokenizer train --input adir --vocab 1000 --out x.json
if [[ $(id -u) -ne 0 ]]; then
    cp c.txt locked.txt
    chmod 000 locked.txt
    expect_fail "an unreadable input" 'locked\.txt' "$BITT" tokenizer train --input locked.txt --vocab 1000 --out x.json
fi
expect_fail "an output in a missing directory" 'nodir' \
    "$BITT" tokenizer train --input c.txt --vocab 1000 --out nodir/x.json
expect_fail "<s> as --special" "'<s>'.*twice" \
    "$BITT" tokenizer train --input c.txt --vocab 1000 --special '<s>' --out x.json
expect_fail "a byte as --special" 'byte token' \
    "$BITT" tokenizer train --input c.txt --vocab 1000 --special 'a' --out x.json
expect_fail "no subcommand" 'subcommand' "$BITT" tokenizer
expect_fail "unknown subcommand" 'frob' "$BITT" tokenizer frob
[[ ! -e x.json ]] || fail "a failed training left x.json"
ok

# tokenizer.json files of a model type other than BPE are refused by every reader
python3 - t1.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
wp = dict(d)
wp["model"] = {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "##",
               "max_input_chars_per_word": 100, "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3}}
json.dump(wp, open("wordpiece.json", "w"))
ug = dict(d)
ug["model"] = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["<s>", 0.0], ["</s>", 0.0], ["a", -1.0]]}
json.dump(ug, open("unigram.json", "w"))
EOF
for m in wordpiece unigram; do
    expect_fail "$m tokenizer (tokenize)" "$m\.json.*(WordPiece|Unigram)" "$BITT" tokenize --tokenizer $m.json --text hi
    expect_fail "$m tokenizer (prepare)" "$m\.json.*(WordPiece|Unigram)" \
        "$BITT" prepare --tokenizer $m.json --input c.txt --out x.bin
    [[ ! -e x.bin ]] || fail "prepare with $m.json left x.bin"
done

finish
