#!/usr/bin/env bash
# bench_threads.sh: do threads ever make it slower? Decode and prefill of a
# random 256-dim, 8-layer, 16,384-vocab .bitt v2 at --threads 1 and 2, on a
# quiet CPU and beside one and two busy-loop processes (bitt bench
# --contend), the configurations taking turns over ROUNDS rounds (a figure is
# the median over rounds); then bitt train's tokens/s at 1 and 2 threads with
# and without one competing process. Prints a table; figures go to
# docs/BENCHMARKS.md with the machine and date.
# Usage: bash scripts/bench_threads.sh     (ROUNDS=5, RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=${BITT:-./build/bitt}
runs=${RUNS:-3}
rounds=${ROUNDS:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$bitt init --out "$dir/m.bitt" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 2>/dev/null
for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds" >&2
    for c in 0 1 2; do
        for t in 1 2; do
            $bitt bench --model "$dir/m.bitt" --runs "$runs" --threads $t --contend $c --lm-head int8 --contexts none \
                --prompt-tokens 256 --gen-tokens 64 --json | sed "s/^{/{\"name\":\"c$c t$t\",/" >>"$dir/bench.jsonl"
        done
    done
done
# training: a small corpus, 8 steps of a dim-128 model, with and without a busy-loop process
$bitt corpus --out "$dir/s.txt" --stories 2000 --seed 1 2>/dev/null
$bitt tokenizer train --input "$dir/s.txt" --vocab 1024 --out "$dir/t.json" >/dev/null 2>&1
$bitt prepare --tokenizer "$dir/t.json" --input "$dir/s.txt" --out "$dir/s.bin" --quiet
for round in $(seq 1 "$rounds"); do
    for c in 0 1; do
        for t in 1 2; do
            pids=()
            for _ in $(seq 1 $c); do (while :; do :; done) & pids+=($!); done
            rm -rf "$dir/run"
            tok_s=$($bitt train --data "$dir/s.bin" --tokenizer "$dir/t.json" --out "$dir/run" --dim 128 --layers 4 \
                --context 128 --batch 16 --steps 8 --warmup 2 --save-interval 0 --eval-interval 0 --val-tokens 0 \
                --threads $t 2>&1 | sed -n 's/.* \([0-9.]*\) tok\/s\. Model.*/\1/p')
            for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
            echo "{\"name\":\"train c$c t$t\",\"tok_s\":$tok_s}" >>"$dir/train.jsonl"
        done
    done
done
python3 - "$dir/bench.jsonl" "$dir/train.jsonl" <<'PY'
import json, statistics, sys
b = [json.loads(l) for l in open(sys.argv[1])]
tr = [json.loads(l) for l in open(sys.argv[2])]
med = lambda rows, name, key: statistics.median(r[key] for r in rows if r["name"] == name)
print(f"{'':34} {'1 thread':>9} {'2 threads':>9} {'2 / 1':>6}")
for c, what in [(0, "quiet"), (1, "1 busy process"), (2, "2 busy processes")]:
    for key, label in [("prefill_tok_s", "prefill (256 tokens)"), ("decode_tok_s", "decode")]:
        a, d = med(b, f"c{c} t1", key), med(b, f"c{c} t2", key)
        print(f"{label + ', ' + what:34} {a:9.0f} {d:9.0f} {d / a:6.2f}")
for c, what in [(0, "quiet"), (1, "1 busy process")]:
    a, d = med(tr, f"train c{c} t1", "tok_s"), med(tr, f"train c{c} t2", "tok_s")
    print(f"{'bitt train tok/s, ' + what:34} {a:9.0f} {d:9.0f} {d / a:6.2f}")
print(f"(medians over {len(b) // 6} rounds; bitt bench runs {b[0]['runs']} times per figure)")
PY
