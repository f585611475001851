#!/usr/bin/env bash
# Speed of the scalar reference path (the figure later backends must beat):
# a random 256-dim, 8-layer, 16384-vocab model (.bitt v2), a prompt of a few
# hundred tokens (prefill, dual form), then 128 greedy tokens (decode,
# primal form). Medians of 5 runs.  Usage: bash scripts/bench_scalar.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=./build/bitt
export BITT_KERNELS=scalar   # this script measures the scalar reference path
[ -x "$bitt" ] || { cmake --preset native >/dev/null && cmake --build --preset native >/dev/null; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$bitt init --out "$dir/m.bitt" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 2>/dev/null
prompt=$(for i in $(seq 1 60); do printf 'the little cat sat on a warm mat %d. ' "$i"; done)
for i in 1 2 3 4 5; do
  $bitt generate --model "$dir/m.bitt" --prompt "$prompt" --max-tokens 128 --temp 0 --json
done > "$dir/runs.jsonl"
python3 - "$dir/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
dec = statistics.median(r["tok_s"] for r in runs)
pre = statistics.median(r["prompt_tokens"] / r["prompt_s"] for r in runs)
print(f"scalar path, 256-dim 8-layer 16384-vocab, 1 thread: decode median {dec:.1f} tok/s "
      f"({runs[0]['tokens']} tokens/run), prefill median {pre:.1f} tok/s ({runs[0]['prompt_tokens']} prompt tokens), {len(runs)} runs")
PY
