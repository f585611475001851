# lib.bash: helpers shared by the CLI tests in this directory (sourced by
# each tests/cli/*.sh; not a test itself, hence not named *.sh).
#
# Usage inside a test script:   source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
# after which: $BITT is the absolute path of the binary given as $1, the
# current directory is a fresh temporary directory (removed on exit), and
#   ok                        counts one passed check
#   fail MSG                  reports a failure and exits 1
#   run_ok CMD...             runs CMD, stdout -> $TMP/out, stderr -> $TMP/err;
#                             fails the test unless it exits 0
#   expect_fail WHAT RE CMD...  CMD must exit non-zero (but < 128: no crash),
#                             not hang, and print to stderr a message matching
#                             the extended regex RE (case-insensitive)
#   jget FILE KEY             prints json.dumps(value of KEY) from the single
#                             JSON object in FILE (strings come out quoted)
#   jcheck FILE PYEXPR        evaluates PYEXPR with d = that object; fails the
#                             test (with the expression) unless it is true
#   finish                    prints "cli_NAME: N passed, M failed" and exits
#   need_server               exits 77 (ctest: skipped) when this bitt has no `serve`
#   start_server ARGS...      starts `bitt serve --port 0 ARGS` in the background;
#                             sets SERVER_PID and URL (http://127.0.0.1:PORT)
#   stop_server               SIGTERM; the server must exit 0 within 20 s, its
#                             stderr free of sanitizer reports
#   http METHOD PATH [CURL ARGS...]  one request; the status goes to $STATUS,
#                             the body to $TMP/body
#   api_error_is STATUS CODE [PARAM]  the last answer has that status; its body is
#                             kept to be checked by check_errors
#   check_errors              every kept body is an OpenAI error object {message,
#                             type, param, code} with its code (and param), checked
#                             in one python run
set -Eeuo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: bash $0 /path/to/bitt" >&2
    exit 2
fi
BITT=$1
case $BITT in /*) ;; *) BITT=$PWD/$BITT ;; esac
TEST_NAME=cli_$(basename "$0" .sh)
check=0
failed=0
_finished=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/${TEST_NAME}.XXXXXX")

SERVER_PID=
BG_PIDS=()   # other background processes of a test, killed on exit
_on_exit() {
    local rc=$?
    if [[ -n $SERVER_PID ]]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
    for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    cd /
    rm -rf "$TMP"
    if [[ $_finished -eq 0 ]]; then
        [[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
        echo "$TEST_NAME: $check passed, $failed failed"
        [[ $failed -ne 0 ]] && exit 1
    fi
}
trap _on_exit EXIT
trap 'echo "FAIL: line $LINENO: command failed: $BASH_COMMAND" >&2' ERR

fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
    exit 1
}

ok() { check=$((check + 1)); }

finish() {
    _finished=1
    echo "$TEST_NAME: $check passed, $failed failed"
    [[ $failed -eq 0 ]] || exit 1
    exit 0
}

[[ -x $BITT ]] || fail "'$BITT' is not an executable (pass the bitt binary as \$1)"
cd "$TMP"

run_ok() {
    local rc=0
    timeout 60 "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "--- stderr of: $*" >&2
        head -c 2000 "$TMP/err" >&2
        fail "exit $rc from: $*"
    fi
}

expect_fail() {
    local what=$1 re=$2 rc=0
    shift 2
    timeout 60 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
    if [[ $rc -eq 0 ]]; then
        fail "$what: expected a non-zero exit, got 0 from: $*"
    elif [[ $rc -eq 124 ]]; then
        fail "$what: hung (killed after 60 s): $*"
    elif [[ $rc -ge 128 ]]; then
        head -c 2000 "$TMP/err" >&2
        fail "$what: crashed (exit $rc, signal $((rc - 128))): $*"
    elif ! [[ -s $TMP/err ]]; then
        fail "$what: exit $rc but nothing on stderr: $*"
    elif ! grep -Eiq -- "$re" "$TMP/err"; then
        echo "--- stderr:" >&2
        head -c 2000 "$TMP/err" >&2
        fail "$what: stderr does not match /$re/: $*"
    elif grep -Eq 'Sanitizer|runtime error:|Segmentation fault|core dumped|Assertion' "$TMP/err"; then
        head -c 2000 "$TMP/err" >&2
        fail "$what: stderr reports a crash: $*"
    fi
    ok
}

# The JSON object printed by bitt: exactly one object on stdout. Bytes that
# are not UTF-8 are kept (as surrogate escapes) so that text compares byte-exactly.
_PY_LOAD='
import json, sys
raw = open(sys.argv[1], "rb").read()
try:
    d = json.loads(raw.decode("utf-8", "surrogateescape"))
except ValueError as e:
    sys.exit("not one JSON value (%s): %r" % (e, raw[:300]))
if not isinstance(d, dict):
    sys.exit("not a JSON object: %r" % raw[:300])
'

jget() {
    python3 -c "$_PY_LOAD"'
v = d
for k in sys.argv[2].split("."):
    if not isinstance(v, dict) or k not in v:
        sys.exit("key %r missing in %r" % (sys.argv[2], raw[:300]))
    v = v[k]
print(json.dumps(v))
' "$1" "$2" || fail "jget $2 from $1"
}

jcheck() {
    local msg
    if ! msg=$(python3 -c "$_PY_LOAD"'
import math
r = eval(sys.argv[2], {"d": d, "math": math})
if not r:
    print("%s  is false for  %s" % (sys.argv[2], raw[:400].decode("utf-8", "replace")))
    sys.exit(1)
' "$1" "$2" 2>&1); then
        fail "$msg"
    fi
    ok
}

need_server() {
    if ! "$BITT" serve --help >/dev/null 2>&1; then
        echo "$TEST_NAME: SKIP: this bitt was built without the HTTP server (libmicrohttpd)"
        _finished=1
        exit 77
    fi
}

start_server() {
    : >"$TMP/server.out"
    "$BITT" serve --port 0 --quiet "$@" >"$TMP/server.out" 2>"$TMP/server.err" &
    SERVER_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        if grep -q 'listening on' "$TMP/server.out"; then
            URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$TMP/server.out")
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$TMP/server.err" >&2
            SERVER_PID=
            fail "bitt serve $* exited at start"
        fi
        sleep 0.1
    done
    fail "bitt serve $* did not start within 20 s"
}

stop_server() {
    local rc=0 i
    kill -TERM "$SERVER_PID"
    for ((i = 0; i < 200; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$SERVER_PID" 2>/dev/null && fail "bitt serve did not stop within 20 s of SIGTERM"
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    [[ $rc -eq 0 ]] || { cat "$TMP/server.err" >&2; fail "bitt serve exited $rc after SIGTERM"; }
    if grep -Eq 'Sanitizer|runtime error:|Segmentation fault|core dumped|Assertion' "$TMP/server.err"; then
        head -c 3000 "$TMP/server.err" >&2
        fail "bitt serve's stderr reports a crash or a leak"
    fi
    ok
}

http() {
    local method=$1 path=$2
    shift 2
    STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 60 -X "$method" "$@" "$URL$path") ||
        fail "curl $method $path failed (exit $?)"
}

_ERRORS=()
api_error_is() {
    [[ $STATUS == "$1" ]] || fail "expected HTTP $1, got $STATUS: $(head -c 300 "$TMP/body")"
    local n=${#_ERRORS[@]}
    cp "$TMP/body" "$TMP/error_$n.json"
    _ERRORS+=("$TMP/error_$n.json" "$2" "${3:--}")
    ok
}

check_errors() {
    python3 - "${_ERRORS[@]}" <<'PY' || fail "not every refusal is an OpenAI error object with its code"
import json, sys
args, bad = sys.argv[1:], 0
for i in range(0, len(args), 3):
    path, code, param = args[i:i + 3]
    raw = open(path, "rb").read()
    try:
        e = json.loads(raw)["error"]
        assert set(e) == {"message", "type", "param", "code"}, "keys %s" % sorted(e)
        assert isinstance(e["message"], str) and e["message"] and isinstance(e["type"], str), "message or type"
        assert e["code"] == code, "code %r, want %r" % (e["code"], code)
        assert param == "-" or e["param"] == param, "param %r, want %r" % (e["param"], param)
    except Exception as x:
        bad += 1
        print("%s: %s: %r" % (path, x, raw[:300]), file=sys.stderr)
print("%d error objects checked" % (len(args) // 3))
sys.exit(1 if bad else 0)
PY
    ok
}
