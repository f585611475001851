#!/usr/bin/env bash
# cli_tokenize: `bitt tokenize` encodes text to ids and --decode gives the text
# back, byte for byte, for ASCII and UTF-8 (emoji, CJK, accents) from --text or
# --input; --tokenizer T.json agrees with --model; bad requests fail.
# Usage: bash tokenize.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out m.bitt --dim 64 --layers 1 --vocab 512
run_ok "$BITT" init --out mdir --dim 64 --layers 1 --vocab 512
run_ok "$BITT" init --out small --dim 64 --layers 1 --vocab 300

# --- Hello world ----------------------------------------------------------------
run_ok "$BITT" tokenize --model m.bitt --text "Hello world" --json
cp out hw.json
jcheck hw.json 'list(d) == ["ids"] and isinstance(d["ids"], list) and len(d["ids"]) >= 2'
jcheck hw.json 'all(type(i) is int and 0 <= i < 512 for i in d["ids"])'
# BPE merges: fewer ids than bytes
jcheck hw.json 'len(d["ids"]) < len("Hello world")'
ids=$(python3 -c 'import json, sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["ids"])))' hw.json)

# plain output: the same ids, space separated
run_ok "$BITT" tokenize --model m.bitt --text "Hello world"
[[ $(cat out) == "$ids" ]] || fail "plain tokenize output '$(cat out)' != JSON ids '$ids'"
ok

run_ok "$BITT" tokenize --model m.bitt --decode --text "$ids"
[[ $(cat out) == "Hello world" ]] || fail "decode of '$ids' gave '$(cat out)'"
ok
run_ok "$BITT" tokenize --model m.bitt --decode --text "$ids" --json
jcheck out 'd == {"text": "Hello world"}'

# no special tokens are added; the empty text has no ids
run_ok "$BITT" tokenize --model m.bitt --text "" --json
jcheck out 'd["ids"] == []'
# special tokens in the text map to their ids (<s> 1, </s> 2)
run_ok "$BITT" tokenize --model m.bitt --text "<s>hi</s>" --json
jcheck out 'd["ids"][0] == 1 and d["ids"][-1] == 2 and 0 not in d["ids"]'

# --- UTF-8 from a file ------------------------------------------------------------
cat >utf8.txt <<'EOF'
Grüße aus Köln — naïve café, déjà vu, señor, Ærøskøbing.
Emoji: 🎉🚀👩‍💻 and flags 🇯🇵; CJK: 日本語のテキスト, 中文文本, 한국어 문장.
Combining: e\u0301 é; Greek αβγ; Cyrillic привет; Arabic مرحبا.
	tab,   three spaces, trailing space 
EOF
printf '\n\nlast line without newline' >>utf8.txt

run_ok "$BITT" tokenize --model m.bitt --input utf8.txt --json
cp out u.json
jcheck u.json 'len(d["ids"]) > 0 and all(0 <= i < 512 for i in d["ids"])'
python3 -c 'import json, sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["ids"])))' u.json >u.ids
# decode from a file of ids, JSON out: exactly the original bytes
run_ok "$BITT" tokenize --model m.bitt --decode --input u.ids --json
python3 - out utf8.txt <<'EOF' || fail "decode(encode(utf8.txt)) is not utf8.txt"
import json, sys
got = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))["text"].encode("utf-8")
want = open(sys.argv[2], "rb").read()
if got != want:
    sys.exit("decoded %r\n   != %r" % (got[:300], want[:300]))
EOF
ok
# plain decode: the text then a newline
run_ok "$BITT" tokenize --model m.bitt --decode --input u.ids
{ cat utf8.txt; echo; } >want.txt
cmp -s out want.txt || fail "plain decode of utf8.txt ids differs from the text"
ok
# --text with the same content gives the same ids as --input
run_ok "$BITT" tokenize --model m.bitt --text "$(cat utf8.txt)" --json
cmp -s out u.json || fail "--text and --input give different ids for the same text"
ok
# short pieces round-trip on their own as well
for s in "é" "日本" "🎉" "a🎉b" " " "  x  " "naïve café"; do
    run_ok "$BITT" tokenize --model m.bitt --text "$s"
    read -r -a sid <out || true
    run_ok "$BITT" tokenize --model m.bitt --decode --text "${sid[*]}"
    [[ $(cat out) == "$s" ]] || fail "round trip of '$s' gave '$(cat out)' (ids ${sid[*]})"
done
ok

# --- --tokenizer T.json agrees with --model ------------------------------------------
for src in "--model mdir" "--model m.bitt"; do
    # shellcheck disable=SC2086
    run_ok "$BITT" tokenize $src --input utf8.txt --json
    cp out via_model.json
    run_ok "$BITT" tokenize --tokenizer mdir/tokenizer.json --input utf8.txt --json
    cmp -s out via_model.json || fail "--tokenizer mdir/tokenizer.json and $src give different ids"
    ok
done
run_ok "$BITT" tokenize --tokenizer mdir/tokenizer.json --decode --input u.ids
cmp -s out want.txt || fail "--tokenizer decode differs from --model decode"
ok
# a tokenizer with another vocabulary size gives other ids, all in its range
run_ok "$BITT" tokenize --tokenizer small/tokenizer.json --input utf8.txt --json
jcheck out 'all(0 <= i < 300 for i in d["ids"])'
run_ok "$BITT" tokenize --model small --input utf8.txt --json
cp out small_model.json
run_ok "$BITT" tokenize --tokenizer small/tokenizer.json --input utf8.txt --json
cmp -s out small_model.json || fail "--tokenizer small/tokenizer.json and --model small disagree"
ok

# --- refusals -----------------------------------------------------------------------
expect_fail "both --tokenizer and --model" 'tokenizer|model' \
    "$BITT" tokenize --tokenizer mdir/tokenizer.json --model m.bitt --text hi
expect_fail "neither --tokenizer nor --model" 'tokenizer|model' "$BITT" tokenize --text hi
expect_fail "both --text and --input" 'text|input' "$BITT" tokenize --model m.bitt --text hi --input utf8.txt
expect_fail "neither --text nor --input" 'text|input' "$BITT" tokenize --model m.bitt
expect_fail "decode of something that is not ids" 'id' "$BITT" tokenize --model m.bitt --decode --text "1 two 3"
expect_fail "decode of a negative id" 'id' "$BITT" tokenize --model m.bitt --decode --text "1 -2"
expect_fail "a missing tokenizer file" 'nothere\.json' "$BITT" tokenize --tokenizer nothere.json --text hi
expect_fail "config.json as a tokenizer" 'config\.json' "$BITT" tokenize --tokenizer mdir/config.json --text hi
expect_fail "a missing input file" 'nothere\.txt' "$BITT" tokenize --model m.bitt --input nothere.txt

# --- decode --json is valid JSON (UTF-8) even for ids that split a character -------
# "日" is 3 bytes; its first id alone is an incomplete character. Printing it raw
# in a JSON string is invalid JSON; either replace it (U+FFFD) or refuse.
run_ok "$BITT" tokenize --model m.bitt --text "日"
read -r -a jid <out
((${#jid[@]} >= 2)) || fail "precondition: '日' is a single token here (pick another character)"
rc=0
"$BITT" tokenize --model m.bitt --decode --text "${jid[0]}" --json >part.json 2>part.err || rc=$?
if [[ $rc -eq 0 ]]; then
    python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' part.json 2>/dev/null ||
        fail "tokenize --decode --json of id ${jid[0]} (first byte of '日') printed invalid UTF-8: $(od -An -c part.json | tr -s ' ' | head -2)"
else
    [[ $rc -lt 128 && -s part.err ]] || fail "tokenize --decode --json of a partial character: exit $rc"
fi
ok

finish
