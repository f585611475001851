#!/usr/bin/env bash
# cli_sampling: the sampling flags of bitt generate and bitt chat beyond
# temperature / top-k / top-p: --min-p, the penalties and their window, and
# --stop (the text ends right before the first stop string, finish_reason
# "stop"); bad values are refused with a message naming the option.
# Usage: bash sampling.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512 --seed 1
M=m.bitt
gen() { # gen OUTFILE ARGS...
    local o=$1
    shift
    run_ok "$BITT" generate --model "$M" --prompt "Once upon" --max-tokens 40 --json "$@"
    cp out "$o"
}

gen plain.json --temp 0.9 --seed 3
gen rich.json --temp 0.9 --seed 3 --min-p 0.05 --repetition-penalty 1.3 --presence-penalty 0.5 --frequency-penalty 0.2
gen rich2.json --temp 0.9 --seed 3 --min-p 0.05 --repetition-penalty 1.3 --presence-penalty 0.5 --frequency-penalty 0.2
jcheck rich.json 'd["finish_reason"] in ("eos", "length")'
[[ $(jget plain.json text) != "$(jget rich.json text)" ]] || fail "min-p and the penalties change nothing"
ok
[[ $(jget rich.json text) == "$(jget rich2.json text)" ]] || fail "the same options and seed give different texts"
ok
# greedy with a strong presence penalty repeats fewer tokens than plain greedy
gen g.json --temp 0
gen gp.json --temp 0 --presence-penalty 5 --penalty-last-n 0
[[ $(jget g.json text) != "$(jget gp.json text)" ]] || fail "--presence-penalty 5 does not change the greedy text"
ok
gen gw.json --temp 0 --presence-penalty 5 --penalty-last-n 1
[[ $(jget gw.json text) != "$(jget gp.json text)" ]] || fail "--penalty-last-n 1 does not change the penalised text"
ok

# --stop: a piece from the middle of the text
python3 - g.json <<'PY' >stop.txt || fail "no stop string to take from the greedy text"
import json, re, sys
t = json.load(open(sys.argv[1]))["text"]
runs = [m.group(0) for m in re.finditer(r"[a-z]{2,3}", t[3:])]
if not runs:
    sys.exit(1)
print(runs[len(runs) // 2], end="")
PY
STOP=$(cat stop.txt)
gen gs.json --temp 0 --stop "$STOP" "another one"
jcheck gs.json 'd["finish_reason"] == "stop"'
python3 - g.json gs.json "$STOP" <<'PY' || fail "the stopped text is not the greedy text up to the first '$STOP'"
import json, sys
full = json.load(open(sys.argv[1]))["text"]
cut = json.load(open(sys.argv[2]))["text"]
stop = sys.argv[3]
sys.exit(0 if cut == full[:full.index(stop)] else "%r != %r" % (cut, full[:full.index(stop)]))
PY
ok
gen gs2.json --temp 0 --stop="$STOP"
[[ $(jget gs.json text) == "$(jget gs2.json text)" ]] || fail "--stop=S differs from --stop S"
ok
# chat takes the same flags; the stop string is not printed
printf 'Once upon\n' | timeout 60 "$BITT" chat --model "$M" --temp 0 --max-tokens 40 --stop "$STOP" >chat.out 2>chat.err ||
    fail "chat with --stop failed: $(head -c 300 chat.err)"
grep -qF -- "$STOP" chat.out && fail "chat printed the stop string"
ok

# bad values
expect_fail "min-p above 1" 'min-p' "$BITT" generate --model "$M" --min-p 1.5
expect_fail "repetition penalty 0" 'repetition penalty' "$BITT" generate --model "$M" --repetition-penalty 0
expect_fail "penalty window < 0" 'penalty window' "$BITT" generate --model "$M" --penalty-last-n -2
expect_fail "presence penalty not a number" 'presence-penalty' "$BITT" generate --model "$M" --presence-penalty abc
expect_fail "--stop without a value" 'stop' "$BITT" generate --model "$M" --stop
expect_fail "an empty stop string" 'stop' "$BITT" generate --model "$M" --stop ""
expect_fail "17 stop strings" 'at most 16' "$BITT" generate --model "$M" --stop a b c d e f g h i j k l m n o p q
expect_fail "chat: min-p above 1" 'min-p' "$BITT" chat --model "$M" --min-p 2

finish
