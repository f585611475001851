#!/usr/bin/env bash
# cli_long_context: the tools that measure how a model uses a long context
# (docs/LONG_CONTEXT.md). `bitt corpus --task recall`: deterministic, each
# answer in the key is the value its fact stated, the gaps grow as asked (in
# tokens of the tokenizer). `bitt eval --task recall`: every question scored,
# accuracy within [0, 1], the distance fact -> answer tracks the gap; a key
# from another tokenizer or one that points outside the text is refused.
# `bitt eval --task repeat`: the first copy is the same story at every gap.
# `bitt eval --by-position`: the bins hold every scored token and average to
# the overall loss; --plot writes an SVG. Stories separated by <|endoftext|>
# are scored as `bitt prepare` encodes them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" corpus --out train.txt --stories 400 --seed 1
run_ok "$BITT" corpus --out val.txt --stories 60 --seed 2
run_ok "$BITT" tokenizer train --input train.txt --vocab 400 --out tok.json
run_ok "$BITT" init --out m.bitt --dim 64 --layers 1 --tokenizer tok.json

# --- the recall corpus
run_ok "$BITT" corpus --task recall --tokenizer tok.json --out rec.txt --gaps 0,32,300 --docs 3 --facts 3 --filler val.txt --seed 5
run_ok "$BITT" corpus --task recall --tokenizer tok.json --out rec2.txt --gaps 0,32,300 --docs 3 --facts 3 --filler val.txt --seed 5
cmp -s rec.txt rec2.txt && cmp -s rec.txt.json rec2.txt.json || fail "the same seed gave another recall corpus"
python3 - rec.txt <<'PY' || fail "the recall key does not match its corpus"
import json, re, sys
text = open(sys.argv[1], "rb").read().decode()
key = json.load(open(sys.argv[1] + ".json"))
assert key["format"] == "bitt-recall" and key["facts"] == 3 and len(key["documents"]) == 9
for d in key["documents"]:
    doc = text[d["start"]:d["end"]]
    facts = dict(re.findall(r"The (\w+ \w+) holds an? (\w+)\.", doc.split("\n")[0]))
    assert len(facts) == 3, doc[:200]
    for (a, b) in d["answers"]:
        ans = text[a:b]
        q = text[text.rfind("What is in the ", 0, a) + 15:text.rfind("?", 0, a)]
        assert ans == " " + facts[q], (q, ans, facts)
PY
ok
# the filler is cut at a word, so the gap (in tokens) is within a few tokens of what was asked
run_ok "$BITT" eval --model m.bitt --text rec.txt --task recall --json
jcheck out '[g["gap"] for g in d["by_gap"]] == [0, 32, 300]'
jcheck out 'all(g["questions"] == 9 and 0 <= g["recalled"] <= 9 and 0 <= g["accuracy"] <= 1 for g in d["by_gap"])'
jcheck out 'all(g["answer_tokens"] >= 9 and g["loss"] > 0 for g in d["by_gap"])'
jcheck out 'd["by_gap"][0]["distance"] < d["by_gap"][1]["distance"] - 25 and abs(d["by_gap"][2]["distance"] - d["by_gap"][0]["distance"] - 300) < 30'
run_ok "$BITT" eval --model m.bitt --text rec.txt --task recall
grep -q "accuracy" out || fail "recall: no table"
# refusals: another tokenizer, a key outside the text, not a key
run_ok "$BITT" tokenizer train --input val.txt --vocab 300 --out tok2.json
run_ok "$BITT" init --out m2.bitt --dim 64 --layers 1 --tokenizer tok2.json
expect_fail "recall key of another tokenizer" "another tokenizer" "$BITT" eval --model m2.bitt --text rec.txt --task recall
head -c 500 rec.txt > short.txt
expect_fail "recall key past the text" "bad start, end|byte range" "$BITT" eval --model m.bitt --text short.txt --task recall --key rec.txt.json
echo '{"format": "other"}' > bad.json
expect_fail "not a recall key" "not a recall answer key" "$BITT" eval --model m.bitt --text rec.txt --task recall --key bad.json
expect_fail "recall without a tokenizer" "tokenizer" "$BITT" corpus --task recall --out r.txt
expect_fail "bad gaps" "gaps" "$BITT" corpus --task recall --tokenizer tok.json --out r.txt --gaps 1,x
expect_fail "too many facts" "facts" "$BITT" corpus --task recall --tokenizer tok.json --out r.txt --facts 9

# --- the repeated story
run_ok "$BITT" eval --model m.bitt --text val.txt --task repeat --gaps 0,64,256 --trials 5 --json
jcheck out '[g["gap"] for g in d["by_gap"]] == [0, 64, 256] and all(g["trials"] == 5 for g in d["by_gap"])'
jcheck out 'len({round(g["first_loss"], 9) for g in d["by_gap"]}) == 1 and all(abs(g["gain"] - (g["control_loss"] - g["second_loss"])) < 1e-5 for g in d["by_gap"])'
jcheck out 'abs(d["by_gap"][0]["gain_vs_first_gap"] - 1) < 1e-9'
echo "just one story" > one.txt
expect_fail "repeat on one story" "at least 2 stories" "$BITT" eval --model m.bitt --text one.txt --task repeat

# --- loss by position
run_ok "$BITT" eval --model m.bitt --text val.txt --by-position --plot pos.svg --json
jcheck out 'd["documents_separated"] is True'
jcheck out 'sum(b["tokens"] for b in d["by_position"]) == d["tokens"] == sum(b["tokens"] for b in d["by_document_position"])'
jcheck out 'abs(sum(b["tokens"] * b["loss"] for b in d["by_position"]) / d["tokens"] - d["loss"]) < 1e-5'
jcheck out 'd["by_document_position"][0]["from"] == 0 and d["by_document_position"][0]["tokens"] == 59'
grep -q "<svg" pos.svg && grep -q "polyline" pos.svg || fail "--plot wrote no chart"
# the separated text is scored as bitt prepare encodes it: one token per story more than its stories
run_ok "$BITT" prepare --tokenizer tok.json --input val.txt --out val.bin --quiet
run_ok "$BITT" eval --model m.bitt --text val.txt --json
python3 -c 'import json,sys; d=json.load(open("out")); s=json.load(open("val.bin.json")); sys.exit(0 if d["tokens"] == s["token_count"] - 1 else 1)' ||
    fail "eval of a separated text: not the token count of bitt prepare minus one"
expect_fail "plot without bins" "by-position" "$BITT" eval --model m.bitt --text val.txt --plot p.svg
expect_fail "bins with recall" "task loss" "$BITT" eval --model m.bitt --text rec.txt --task recall --by-position
expect_fail "unknown task" "task" "$BITT" eval --model m.bitt --text val.txt --task bogus
finish
