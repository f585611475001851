#!/usr/bin/env bash
# bench_gate.sh: what the forget gate (SPEC 1.2.1) costs at inference: two
# random 256-dim, 8-layer, 16,384-vocab .bitt v2 models of the same shape
# and seed, one with the gate and one without, measured by `bitt bench` in
# turns (ROUNDS rounds, each running both once; a figure is the median over
# the rounds, so a slow spell of a shared machine hits both alike): prefill
# of 512 tokens and decode, 1 thread, and decode speed and RSS after 128 and
# 8k tokens of context (the memory stays the same size).
# Usage: bash scripts/bench_gate.sh     (ROUNDS=7, RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=${BITT:-./build/bitt}
runs=${RUNS:-3}
rounds=${ROUNDS:-7}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$bitt init --out "$dir/gate.bitt" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 --forget-gate on 2>/dev/null
$bitt init --out "$dir/nogate.bitt" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 --forget-gate off 2>/dev/null
for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds" >&2
    for m in gate nogate; do
        $bitt bench --model "$dir/$m.bitt" --runs "$runs" --threads 1 --lm-head int8 --contexts 128,8k --json |
            sed "s/^{/{\"name\":\"$m\",/" >>"$dir/results.jsonl"
    done
done
python3 - "$dir/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(name, key):
    return statistics.median(r[key] for r in rows if r["name"] == name)
def med_ctx(name, ctx, key):
    return statistics.median(c[key] for r in rows if r["name"] == name for c in r["contexts"] if c["context"] == ctx)
print(f"{'':22} {'gate':>10} {'no gate':>10} {'gate / no gate':>15}")
for key, label in [("prefill_tok_s", "prefill tok/s (512)"), ("decode_tok_s", "decode tok/s")]:
    g, n = med("gate", key), med("nogate", key)
    print(f"{label:22} {g:10.0f} {n:10.0f} {g / n:15.3f}")
for ctx in (128, 8192):
    g, n = med_ctx("gate", ctx, "decode_tok_s"), med_ctx("nogate", ctx, "decode_tok_s")
    print(f"{'decode after ' + str(ctx):22} {g:10.0f} {n:10.0f} {g / n:15.3f}")
for ctx in (128, 8192):
    g, n = med_ctx("gate", ctx, "rss_bytes"), med_ctx("nogate", ctx, "rss_bytes")
    print(f"{'RSS MB after ' + str(ctx):22} {g / 2**20:10.1f} {n / 2**20:10.1f} {g / n:15.3f}")
print(f"({len(rows) // 2} rounds of {rows[0].get('runs', '?')} runs each; medians over rounds)")
PY
