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

_on_exit() {
    local rc=$?
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
