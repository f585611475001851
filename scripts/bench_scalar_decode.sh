#!/usr/bin/env bash
# Decode speed of the scalar reference path: a random 256-dim, 8-layer,
# 16384-vocab model, greedy, 128 generated tokens, median of 5 runs.
# Usage: bash scripts/bench_scalar_decode.sh   (after a native build)
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=./build/bitt
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$bitt init --out "$dir/m.bitt" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 2>/dev/null
rates=()
for i in 1 2 3 4 5; do
  # a long --max-tokens with greedy decoding; </s> may stop it early, tok_s is per token either way
  out=$($bitt generate --model "$dir/m.bitt" --prompt "Once upon a time there was" --max-tokens 128 --temp 0 --json)
  rates+=("$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["tok_s"], d["tokens"])' "$out")")
done
printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1; t[NR]=$2} END {printf "scalar decode: median %.1f tok/s over %d runs (tokens per run: %s)\n", a[int((NR+1)/2)], NR, t[1]}'
