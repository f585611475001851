#!/usr/bin/env bash
# bench_pool_ab.sh: where the time goes when threads share the CPU with
# another process: two bitt binaries (e.g. the thread pool before and after
# a change) side by side, taking turns over ROUNDS rounds, decode and prefill
# of a random 256 x 8 x 16,384 .bitt v2 at --threads 1 and 2, quiet and
# beside BUSY busy-loop shell processes. Each bench runs under `perf stat`
# (where perf is allowed) so the table also shows the CPU time the process
# used per second of wall time and its context switches: a pool that polls
# while the thread it waits for is descheduled burns CPU without progress.
# Figures are medians over rounds.
# Usage: bash scripts/bench_pool_ab.sh BITT_A BITT_B   (ROUNDS=5, BUSY=1)
#   e.g. the pool before commit 3b5e95c: a copy of the tree with
#   `git show 3b5e95c^:src/util/threadpool.c > src/util/threadpool.c`, built.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 BITT_A BITT_B" >&2; exit 2; }
a=$1 b=$2
rounds=${ROUNDS:-5}
busy=${BUSY:-1}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
"$a" init --out "$dir/m.bitt" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 2>/dev/null
perf_ok=0
perf stat -x, -e task-clock true 2>/dev/null && perf_ok=1
for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds" >&2
    for c in 0 "$busy"; do
        for _ in $(seq 1 "$c"); do (while :; do :; done) & pids+=($!); done
        for bin in A B; do
            exe=$a; [[ $bin == B ]] && exe=$b
            for t in 1 2; do
                cmd=("$exe" bench --model "$dir/m.bitt" --runs 3 --threads $t --lm-head int8 --contexts none
                     --prompt-tokens 256 --gen-tokens 64 --json)
                if [[ $perf_ok == 1 ]]; then
                    json=$(perf stat -x, -o "$dir/perf.csv" -e task-clock,context-switches "${cmd[@]}")
                    cpu=$(awk -F, '$3=="task-clock"{print $1}' "$dir/perf.csv")
                    cs=$(awk -F, '$3=="context-switches"{print $1}' "$dir/perf.csv")
                    # the CPUs the run kept busy on average (perf: task-clock over wall time)
                    cpus=$(awk -F, '$3=="task-clock"{print $6}' "$dir/perf.csv")
                else json=$("${cmd[@]}"); cpu=0; cs=0; cpus=0; fi
                echo "$json" | sed "s/^{/{\"name\":\"$bin c$c t$t\",\"task_ms\":$cpu,\"cs\":$cs,\"cpus\":\"$cpus\",/" \
                    >>"$dir/ab.jsonl"
            done
        done
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
        pids=()
    done
done
python3 - "$dir/ab.jsonl" "$a" "$b" "$busy" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda name, key: statistics.median(float(r[key] or 0) for r in rows if r["name"] == name)
print(f"A = {sys.argv[2]}\nB = {sys.argv[3]}")
print(f"{'':22} {'threads':>7} {'decode':>8} {'prefill':>8} {'CPU ms':>7} {'CPUs':>5} {'ctx sw':>7}")
for c, what in [(0, "quiet"), (int(sys.argv[4]), f"{sys.argv[4]} busy process(es)")]:
    for bin in "AB":
        for t in (1, 2):
            n = f"{bin} c{c} t{t}"
            print(f"{bin + ', ' + what:22} {t:7} {med(n, 'decode_tok_s'):8.0f} {med(n, 'prefill_tok_s'):8.0f}"
                  f" {med(n, 'task_ms'):7.0f} {med(n, 'cpus'):5.2f} {med(n, 'cs'):7.0f}")
print(f"(medians over {len(rows) // 8} rounds; each bench: 3 runs of a 256-token prompt and 64 decoded tokens)")
PY
