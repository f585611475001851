#!/usr/bin/env bash
# cli_chat: `bitt chat` reading a script on stdin: the memory persists across
# turns, /save and /load restore it, /reset forgets, /quit ends (exit 0), and
# an unknown /command is reported on stderr without ending the chat.
# Runs on a .bitt v1 and on a packed .bitt v2.
# Usage: bash chat.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out v1.bitt --dim 64 --layers 2 --vocab 512 --seed 1
run_ok "$BITT" init --out v2.bitt --dim 64 --layers 2 --vocab 512 --seed 1 --packed
run_ok "$BITT" init --out other.bitt --dim 64 --layers 2 --vocab 512 --seed 2

chat() { # chat MODEL SCRIPTFILE [FLAGS...]: stdout -> chat.out, stderr -> chat.err
    local model=$1 script=$2 rc=0
    shift 2
    timeout 60 "$BITT" chat --model "$model" "$@" <"$script" >chat.out 2>chat.err || rc=$?
    [[ $rc -eq 0 ]] || { head -c 2000 chat.err >&2; fail "chat on $model exited $rc"; }
}

# Answers may contain any bytes, newlines included, so the turns are split at
# the output of /help, which is put between them.
printf '/help\n' >help.in
chat v1.bitt help.in
[[ -s chat.out ]] || fail "/help printed nothing on stdout (needed to split the transcript)"
cp chat.out marker
ok

for M in v1.bitt v2.bitt; do
    S=saved_${M%.bitt}.st
    cat >script.in <<EOF
Hello there
/help
How are you today
/help
/save $S
/help
Tell me more
/help
/load $S
/help
Tell me more
/help
Tell me more
/help
/reset
/help
Hello there
/help
/foo
Another line
/help
/load other_state.st
/load nothere.st
/save
Fine
/help
/quit
Never answered
EOF
    # a state of another model, for the refused /load above
    run_ok "$BITT" generate --model other.bitt --prompt "x" --max-tokens 1 --state-out other_state.st
    chat "$M" script.in --temp 0 --max-tokens 8
    ok # /quit (and the whole script) ended with exit 0
    [[ -s $S ]] || fail "$M: /save $S wrote nothing"
    ok

    python3 - chat.out marker "$M" <<'EOF' || fail "$M: chat transcript (see above)"
import sys
out = open(sys.argv[1], "rb").read()
marker = open(sys.argv[2], "rb").read()
M = sys.argv[3]
seg = out.split(marker)
# 0 A1, 1 A2, 2 saved, 3 A3, 4 loaded, 5 A4, 6 A5, 7 reset, 8 A6, 9 A7,
# 10 (/load x2, /save: stderr only) Fine, 11 after /quit: nothing
if len(seg) != 12:
    sys.exit("%s: expected 12 segments split by the /help output, got %d: %r" % (M, len(seg), out[:600]))
a1, a2, saved, a3, loaded, a4, a5, reset, a6, a7, fine, rest = seg
def need(cond, what):
    if not cond:
        sys.exit("%s: %s\ntranscript: %r" % (M, what, out[:800]))
need(a1.strip() != b"", "the first answer is empty (pick another first line)")
need(a3.strip() != b"", "the answer after /save is empty (pick another line)")
need(a4 == a3, "the answer after /load differs from the one after /save: %r vs %r" % (a4, a3))
need(a5 != a3, "asking again without /load gives the same answer: the memory did not move on (%r)" % a5)
need(a6 == a1, "after /reset the first line is not answered as at the start: %r vs %r" % (a6, a1))
need(a2 != a1 or a3 != a1, "every answer is the same: the memory seems unused")
need(rest == b"", "something was printed after /quit: %r" % rest)
need(a7 != b"" and fine != b"", "the chat did not go on after an unknown command or a failed /load")
EOF
    ok
    grep -q '/foo' chat.err || fail "$M: unknown command /foo not reported on stderr: $(cat chat.err)"
    ok
    grep -qi 'another model' chat.err || fail "$M: /load of another model's state not refused on stderr: $(cat chat.err)"
    ok
    grep -q 'nothere\.st' chat.err || fail "$M: /load of a missing file not reported on stderr: $(cat chat.err)"
    ok
    # nothing from the session itself leaks to stdout as an error message
    grep -q '/foo' chat.out && fail "$M: the error for /foo went to stdout"
    ok
done

# the packed and float files hold the same ternary weights: same greedy chat
# (the state files saved by each are interchangeable too)
run_ok "$BITT" generate --model v2.bitt --state-in saved_v1.st --prompt "Tell me more" --max-tokens 8 --temp 0
ok

# end of input without /quit: exit 0
printf 'Hello there\nHow are you today\n' >eof.in
chat v1.bitt eof.in --temp 0 --max-tokens 8
[[ -s chat.out ]] || fail "chat answered nothing before end of input"
ok

# sampling (--temp 0.8) is reproducible from --seed, also across turns
printf 'Hello there\nHow are you today\nTell me more\n' >three.in
chat v1.bitt three.in --temp 0.8 --seed 5 --max-tokens 8
cp chat.out seed5a.out
chat v1.bitt three.in --temp 0.8 --seed 5 --max-tokens 8
cmp -s chat.out seed5a.out || fail "two chats with --seed 5 differ"
ok

# bad flags are refused before reading anything
expect_fail "chat without --model" 'model' "$BITT" chat
expect_fail "chat with a missing model" 'nothere\.bitt' "$BITT" chat --model nothere.bitt
expect_fail "chat --temp -1" 'temp' sh -c 'printf "Hello\n" | "$0" chat --model v1.bitt --temp -1' "$BITT"

finish
