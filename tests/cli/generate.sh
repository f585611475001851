#!/usr/bin/env bash
# cli_generate: `bitt generate`: JSON output, greedy and seeded sampling are
# reproducible, --max-tokens, streaming to stdout, and the memory (state)
# files: --state-out / --state-in carry the context, and a state is refused
# by another model or when it is not a state file.
# Usage: bash generate.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512 --seed 1
run_ok "$BITT" init --out other.bitt --dim 64 --layers 2 --vocab 512 --seed 2
M=m.bitt
PROMPT="Once upon a time"

gen() { # gen OUTFILE ARGS...: generate --json into OUTFILE
    local o=$1
    shift
    run_ok "$BITT" generate --model "$M" --json "$@"
    cp out "$o"
}
same_text() { # same_text A B: the two JSON outputs have the same text
    local a b
    a=$(jget "$1" text) || fail "no text in $1"
    b=$(jget "$2" text) || fail "no text in $2"
    [[ $a == "$b" ]]
}

# --- JSON output --------------------------------------------------------------
gen g0.json --prompt "$PROMPT" --max-tokens 20 --temp 0
[[ $(wc -l <g0.json) -eq 1 ]] || fail "generate --json printed more than one line: $(head -c 300 g0.json)"
jcheck g0.json 'all(k in d for k in ("text", "tokens", "tok_s"))'
jcheck g0.json 'isinstance(d["text"], str) and type(d["tokens"]) is int and isinstance(d["tok_s"], (int, float))'
jcheck g0.json '1 <= d["tokens"] <= 20 and d["tok_s"] >= 0'

# --- greedy and seeded sampling are reproducible ------------------------------
gen g0b.json --prompt "$PROMPT" --max-tokens 20 --temp 0
same_text g0.json g0b.json || fail "--temp 0 twice gives different texts"
n1=$(jget g0.json tokens)
n2=$(jget g0b.json tokens)
[[ $n1 == "$n2" ]] || fail "--temp 0 twice gives different token counts"
ok
# greedy ignores the seed
gen g0s.json --prompt "$PROMPT" --max-tokens 20 --temp 0 --seed 12345
same_text g0.json g0s.json || fail "--temp 0 depends on --seed"
ok
# top-k 1 keeps only the most likely token: the same as greedy
gen gk1.json --prompt "$PROMPT" --max-tokens 20 --temp 0.8 --top-k 1 --seed 3
same_text g0.json gk1.json || fail "--top-k 1 differs from --temp 0"
ok

gen s7a.json --prompt "$PROMPT" --max-tokens 20 --temp 0.8 --seed 7
gen s7b.json --prompt "$PROMPT" --max-tokens 20 --temp 0.8 --seed 7
same_text s7a.json s7b.json || fail "the same --seed with --temp 0.8 gives different texts"
ok
t7=$(jget s7a.json text)
differs=0
for seed in 1 2 3 4 5; do
    gen s$seed.json --prompt "$PROMPT" --max-tokens 20 --temp 0.8 --seed $seed
    t=$(jget s$seed.json text)
    [[ $t != "$t7" ]] && differs=1
done
((differs)) || fail "seeds 1..5 all give the same text as seed 7 at --temp 0.8"
ok
# sampling at 0.8 is not simply greedy
notgreedy=0
for seed in 1 2 3 4 5 7a; do
    same_text s$seed.json g0.json || notgreedy=1
done
((notgreedy)) || fail "--temp 0.8 gives the greedy text for every seed"
ok

# --- --max-tokens -------------------------------------------------------------
gen z.json --prompt "$PROMPT" --max-tokens 0 --temp 0
jcheck z.json 'd["tokens"] == 0 and d["text"] == ""'
gen five.json --prompt "$PROMPT" --max-tokens 5 --temp 0
jcheck five.json '0 <= d["tokens"] <= 5'
# the first tokens of a greedy run do not depend on how many follow
python3 -c "$_PY_LOAD"'
full = d["text"]
d = json.loads(open(sys.argv[2], "rb").read().decode("utf-8", "surrogateescape"))
short = d["text"].rstrip("\ufffd")  # a character cut at the end may show as U+FFFD
sys.exit(0 if full.startswith(short) else "5-token text %r is not a prefix of the 20-token text %r" % (d["text"], full))
' g0.json five.json || fail "greedy text with --max-tokens 5 is not a prefix of the one with 20"
ok

# --- streaming: without --json the text goes to stdout as is --------------------
run_ok "$BITT" generate --model "$M" --prompt "$PROMPT" --max-tokens 20 --temp 0
[[ -s out ]] || fail "generate without --json printed nothing on stdout"
ok
# (stdout carries the raw bytes; the JSON may show bytes that are not UTF-8 as
# U+FFFD, so both sides are compared with those left out)
python3 -c "$_PY_LOAD"'
streamed = open(sys.argv[2], "rb").read()
got = streamed.decode("utf-8", "ignore").replace("\ufffd", "")
want = d["text"].encode("utf-8", "surrogateescape").decode("utf-8", "ignore").replace("\ufffd", "")
sys.exit(0 if got == want else "streamed %r != JSON text %r" % (streamed[:200], d["text"][:200]))
' g0.json out || fail "streamed text differs from the --json text of the same run"
ok
grep -q '{"text"' out && fail "generate without --json printed JSON on stdout"
ok
# the stats line: on stderr, a line of its own (stdout is not a terminal here:
# no newline is needed before it), nothing of it on stdout
grep -qE '^\[20 tokens in [0-9.]+ s, [0-9.]+ tok/s; prompt: [0-9]+ tokens in [0-9.]+ s\]$' err ||
    fail "no stats line of its own on stderr: $(head -c 300 err)"
grep -q 'tok/s' out && fail "the stats line went to stdout"
ok

# --- state files: the memory carries the context -------------------------------
A="The cat"
B=" sat on the mat"
run_ok "$BITT" generate --model "$M" --prompt "$A" --max-tokens 0 --temp 0 --state-out s0.st
[[ -s s0.st ]] || fail "--state-out did not write s0.st"
ok
gen in1.json --state-in s0.st --prompt "$B" --max-tokens 12 --temp 0
gen in2.json --state-in s0.st --prompt "$B" --max-tokens 12 --temp 0
same_text in1.json in2.json || fail "the same --state-in and prompt give different texts"
ok
jcheck in1.json 'd["tokens"] >= 1'
# the state really holds A: without it, B alone continues differently
gen alone.json --prompt "$B" --max-tokens 12 --temp 0
same_text in1.json alone.json && fail "--state-in made no difference to the continuation of the prompt"
ok
# state after A + prompt B is the same as one run over A+B (when A+B tokenizes as A then B)
run_ok "$BITT" tokenize --model "$M" --text "$A"
ida=$(cat out)
run_ok "$BITT" tokenize --model "$M" --text "$B"
idb=$(cat out)
run_ok "$BITT" tokenize --model "$M" --text "$A$B"
[[ $(cat out) == "$ida $idb" ]] || fail "precondition: '$A$B' does not tokenize as '$A' then '$B' (pick other strings)"
gen joint.json --prompt "$A$B" --max-tokens 12 --temp 0
same_text in1.json joint.json || fail "state-in after '$A' + prompt '$B' differs from one run over '$A$B'"
ok

# the state's metadata: the model's fingerprint and a token count that grows by
# the generated tokens (every generated token enters the memory)
run_ok "$BITT" inspect "$M" --json
fp=$(jget out fingerprint)
gen more.json --prompt "$A" --max-tokens 5 --temp 0 --state-out s1.st
nmore=$(jget more.json tokens)
python3 - s0.st s1.st "$fp" "$nmore" <<'EOF' || fail "state file metadata"
import json, struct, sys
def meta(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]).get("__metadata__", {})
m0, m1 = meta(sys.argv[1]), meta(sys.argv[2])
fp = json.loads(sys.argv[3])
for m in (m0, m1):
    if m.get("model_fingerprint") != fp:
        sys.exit("state fingerprint %r != model fingerprint %r" % (m.get("model_fingerprint"), fp))
c0, c1 = int(m0["token_count"]), int(m1["token_count"])
if c1 - c0 != int(sys.argv[4]):
    sys.exit("token_count %d after 5 generated tokens, %d before: difference is not %s" % (c1, c0, sys.argv[4]))
EOF
ok
cmp -s s0.st s1.st && fail "the state after generating is byte-identical to the one before"
ok
# state files load into the same weights in other formats (f16 embeddings:
# the same model; int8 embeddings are other numbers, so another model)
run_ok "$BITT" convert "$M" m_packed.bitt --packed --embed f16
run_ok "$BITT" generate --model m_packed.bitt --state-in s0.st --prompt "$B" --max-tokens 4 --temp 0
ok
run_ok "$BITT" convert "$M" m_i8.bitt --packed
expect_fail "a float model's state in its I8 packing" 'another model' \
    "$BITT" generate --model m_i8.bitt --state-in s0.st --prompt "$B" --max-tokens 4
run_ok "$BITT" generate --model m_i8.bitt --prompt "$A" --max-tokens 2 --temp 0 --state-out s8.st
run_ok "$BITT" convert m_i8.bitt m_i8_f16.bitt --packed --embed f16
run_ok "$BITT" generate --model m_i8_f16.bitt --state-in s8.st --prompt "$B" --max-tokens 4 --temp 0
ok

# a state from another model is refused
expect_fail "state of another model" 'another model' \
    "$BITT" generate --model other.bitt --state-in s0.st --prompt "$B" --max-tokens 4
# files that are not states
head -c 1000 /dev/urandom >garbage.st
expect_fail "random bytes as --state-in" 'garbage\.st' \
    "$BITT" generate --model "$M" --state-in garbage.st --prompt "$B" --max-tokens 4
echo "hello" >text.st
expect_fail "a text file as --state-in" 'text\.st' \
    "$BITT" generate --model "$M" --state-in text.st --prompt "$B" --max-tokens 4
head -c 100 s0.st >trunc.st
expect_fail "a truncated state file" 'trunc\.st' \
    "$BITT" generate --model "$M" --state-in trunc.st --prompt "$B" --max-tokens 4
expect_fail "a missing state file" 'nothere\.st' \
    "$BITT" generate --model "$M" --state-in nothere.st --prompt "$B" --max-tokens 4
# model weights are not a state file
expect_fail "a model file as --state-in" "$M" \
    "$BITT" generate --model "$M" --state-in "$M" --prompt "$B" --max-tokens 4
expect_fail "--state-out into a missing directory" 'nodir' \
    "$BITT" generate --model "$M" --prompt "$A" --max-tokens 2 --state-out nodir/s.st

# --- the JSON is valid UTF-8 (RFC 8259) even when tokens split characters -------
# A random model emits arbitrary byte tokens; --json must still print valid JSON.
python3 - g0.json s1.json s2.json s3.json s4.json s5.json s7a.json in1.json <<'EOF' ||
import json, sys
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    try:
        json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        sys.exit("%s: byte 0x%02x at offset %d is not UTF-8 in %r" % (path, raw[e.start], e.start, raw[:60]))
EOF
    fail "generate --json output is not valid UTF-8, so it is not valid JSON (RFC 8259)"
ok

finish
