#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz one after the other (never two
# at once) and writes what each did -- executions, executions per second,
# coverage (cov: edges, ft: features), corpus size, and whether it found
# anything -- to a summary. Builds the fuzz preset first (clang, ASan +
# UBSan) and makes the seed corpora with that build's bitt
# (tests/fuzz/make_seeds.sh). Each harness's corpus grows in
# build-fuzz/corpus/<harness>/ across runs; a crash, hang, leak or sanitizer
# report is kept in build-fuzz/artifacts/<harness>/ and makes the exit
# status 1 (add its smallest form to tests/fuzz/regressions/<harness>/).
#
# Usage: bash scripts/fuzz.sh [--seconds N | --minutes M] [--only h1,h2] [--no-build]
#   --seconds N   each harness runs N seconds (default 20): short CI-style runs
#   --minutes M   a campaign of M minutes in all, split evenly over the harnesses
#   --only LIST   only these harnesses (names as in tests/fuzz, e.g. fuzz_json)
#   --summary F   where to write the summary (default build-fuzz/fuzz-summary.md)
#   --probe       only check that clang can build a fuzzer (exit 0, or 77 and the SKIP line)
# Exits 77 after one line when clang's fuzzer runtime is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
args="$*"
seconds=20
minutes=
only=
build=1
probe_only=0
summary=build-fuzz/fuzz-summary.md
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --probe) probe_only=1; shift ;;
    --summary) summary=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# clang with libFuzzer and the sanitizer runtimes (libclang-rt-14-dev on Debian 12)
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! command -v clang >/dev/null || ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
  echo "SKIP: fuzz: clang's libFuzzer runtime is missing (apt-get install clang libclang-rt-14-dev)"
  exit 77
fi
[ "$probe_only" = 1 ] && exit 0

harnesses=(fuzz_json fuzz_safetensors fuzz_bitt fuzz_checkpoint fuzz_tokenizer_json fuzz_tokenizer_codec
           fuzz_state fuzz_token_file fuzz_server_request fuzz_chat_template fuzz_cli_args fuzz_recall_key fuzz_bpe_train)
if [ -n "$only" ]; then IFS=, read -r -a harnesses <<<"$only"; fi
if [ -n "$minutes" ]; then seconds=$(( minutes * 60 / ${#harnesses[@]} )); [ "$seconds" -ge 1 ] || seconds=1; fi

dict_of() {
  case "$1" in
    fuzz_json|fuzz_recall_key) echo json ;;
    fuzz_safetensors|fuzz_state) echo safetensors ;;
    fuzz_bitt|fuzz_checkpoint) echo model ;;
    fuzz_tokenizer_json|fuzz_tokenizer_codec|fuzz_bpe_train) echo tokenizer ;;
    fuzz_token_file) echo token_file ;;
    fuzz_server_request|fuzz_chat_template) echo server ;;
    fuzz_cli_args) echo cli ;;
  esac
}

if [ "$build" = 1 ]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz
fi
bash tests/fuzz/make_seeds.sh build-fuzz/bitt build-fuzz/seeds

mkdir -p "$(dirname "$summary")"
{
  echo "# Fuzz runs: ${seconds} s per harness"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) cores, $(clang --version | head -1); command: scripts/fuzz.sh ${args}"
  echo
  echo "| harness | seconds | executions | exec/s | cov | ft | corpus | new units | peak RSS MB | result |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} >"$summary"
failed=0
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for h in "${harnesses[@]}"; do
  bin=build-fuzz/fuzz/$h
  [ -x "$bin" ] || { echo "fuzz.sh: $bin is not built" >&2; exit 2; }
  corpus=build-fuzz/corpus/$h
  art=build-fuzz/artifacts/$h
  log=build-fuzz/logs/$h.log
  mkdir -p "$corpus" "$art" build-fuzz/logs
  inputs=("$corpus" "build-fuzz/seeds/$h")
  [ -d "tests/fuzz/regressions/$h" ] && inputs+=("tests/fuzz/regressions/$h")
  echo "== fuzz: $h, ${seconds} s"
  t0=$(date +%s)
  set +e
  # -timeout: an input that takes 10 s is a hang; -malloc_limit_mb: one allocation
  # of 512 MB from an input of at most 256 KB is a size not checked against the
  # file (SPEC 4; the largest any harness makes is a tokenizer's id table, about
  # 50 MB for an id near its 10-million limit: docs/RELIABILITY.md)
  timeout $(( seconds + 120 )) "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=262144 -dict="tests/fuzz/dicts/$(dict_of "$h").dict" \
    -artifact_prefix="$art/" "${inputs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  t1=$(date +%s)
  # the last status line: "#N DONE cov: X ft: Y corp: U/S ..." (or the last "#N ..." before a crash)
  line=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(printf '%s' "$line" | sed -n 's/^#\([0-9]*\).*/\1/p')
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  newu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(printf '%s' "$line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s' "$line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(printf '%s' "$line" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
  if [ "$rc" = 0 ]; then
    result=ok
  else
    failed=1
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|runtime error:.*|fuzz check failed:.*' "$log" | head -1 | cut -c1-120)
    result="FOUND (rc $rc): ${what:-see $log}; input in $art/"
    echo "fuzz: $h: $result" >&2
    grep -E 'ERROR|runtime error|fuzz check failed|#[0-9]+ 0x' "$log" | head -12 >&2 || true
  fi
  echo "| $h | $(( t1 - t0 )) | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${newu:-?} | ${rss:-?} | $result |" >>"$summary"
  echo "   $h: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, $result"
done
echo "fuzz summary: $summary"
exit $failed
