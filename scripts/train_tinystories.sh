#!/usr/bin/env bash
# train_tinystories.sh: the TinyStories comparison of the three mixers. Trains a BPE
# tokenizer (4,096 ids) on the TinyStories training heads, then three small
# models on the CPU (dim 128, 4 layers) that differ only in the mixer:
# TTT-Linear, the seed's mixer, and none; scores each on valid-head.txt
# (the trainer's windowed validation and `bitt eval`'s single pass), draws
# three samples from each, and writes docs/tinystories/ (report.md, the
# loss curves, metrics). The models train on independent windows (the
# trainer's default; CARRY=1 carries the TTT state from window to window,
# see docs/TRAINING.md). About 20-30 minutes per run with 2 cores at the
# default step count; STEPS, CONTEXT, THREADS, VARIANTS, CARRY override.
#
# Usage: scripts/train_tinystories.sh [BITT_BINARY]   (default build/bitt)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BITT=${1:-$ROOT/build/bitt}
DATA=${DATA:-/work/shared/data/tinystories}
WORK=${WORK:-$ROOT/runs/tinystories}
OUT=${OUT:-$ROOT/docs/tinystories}
STEPS=${STEPS:-1500}
CONTEXT=${CONTEXT:-128}
THREADS=${THREADS:-0}
VARIANTS=${VARIANTS:-"linear none seed"}
CARRY=${CARRY:-0}
if [[ $CARRY == 0 ]]; then carry_flag=--no-carry-state; carry_text="independent windows"; else carry_flag=--carry-state; carry_text="state carried across windows"; fi
[[ -x $BITT ]] || { echo "no bitt binary at $BITT (build first: cmake --preset native && cmake --build --preset native)" >&2; exit 1; }
mkdir -p "$WORK" "$OUT"

if [[ ! -f $WORK/tok4k.json ]]; then
    "$BITT" tokenizer train --input "$DATA"/train-*.txt --vocab 4096 --out "$WORK/tok4k.json"
fi
[[ -f $WORK/train.bin ]] || "$BITT" prepare --tokenizer "$WORK/tok4k.json" --input "$DATA"/train-*.txt --out "$WORK/train.bin"
[[ -f $WORK/val.bin ]] || "$BITT" prepare --tokenizer "$WORK/tok4k.json" --input "$DATA/valid-head.txt" --out "$WORK/val.bin"

report=$OUT/report.md
{
    echo "# TinyStories on the CPU: TTT-Linear vs the seed mixer vs no mixer"
    echo
    echo "Made by \`scripts/train_tinystories.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores)."
    echo "Tokenizer: BPE 4,096 trained on \`train-*.txt\`; model dim 128, 4 layers, context $CONTEXT,"
    echo "batch 16 ($carry_text), $STEPS steps, lr 3e-4 (warmup 100, cosine to 1e-5)."
    echo
    echo "| mixer | params | final train loss | val loss (windows of $CONTEXT) | val bits/byte | \`bitt eval\` loss (one pass) | eval bits/byte | tok/s | minutes |"
    echo "|---|---|---|---|---|---|---|---|---|"
} >"$report.tmp"

samples=""
for v in $VARIANTS; do
    run=$WORK/run-$v
    args=(--data "$WORK/train.bin" --val "$WORK/val.bin" --tokenizer "$WORK/tok4k.json" --out "$run"
          --dim 128 --layers 4 --context "$CONTEXT" --batch 16 --steps "$STEPS" --variant "$v"
          --eval-interval 100 --save-interval 250 --threads "$THREADS" --log-interval 25 "$carry_flag")
    start=$(date +%s)
    if [[ -d $run/checkpoint ]]; then
        "$BITT" train --out "$run" --resume --threads "$THREADS" --log-interval 25
    else
        "$BITT" train "${args[@]}"
    fi
    minutes=$(( ($(date +%s) - start + 30) / 60 ))
    "$BITT" eval --model "$run/checkpoint" --text "$DATA/valid-head.txt" --json >"$run/eval.json"
    cp "$run/loss.svg" "$OUT/loss-$v.svg"
    cp "$run/metrics.jsonl" "$OUT/metrics-$v.jsonl"
    python3 - "$run" "$v" "$minutes" >>"$report.tmp" <<'PY'
import json, sys
run, v, minutes = sys.argv[1:4]
rows = [json.loads(l) for l in open(run + "/metrics.jsonl")]
steps = [r for r in rows if "loss" in r]
evals = [r for r in rows if "val_loss" in r]
e = json.load(open(run + "/eval.json"))
cfg = json.load(open(run + "/checkpoint/config.json"))
tail = steps[-50:]
loss = sum(r["loss"] for r in tail) / len(tail)
toks = sorted(r["tok_s"] for r in steps)
print("| %s | D=%d L=%d | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f | %s |" % (
    v, cfg["hidden_dim"], cfg["num_layers"], loss, evals[-1]["val_loss"], evals[-1]["val_bpb"],
    e["loss"], e["bits_per_byte"], toks[len(toks) // 2], minutes))
PY
    samples+=$'\n'"## Samples: $v"$'\n'
    for seed in 1 2 3; do
        text=$("$BITT" generate --model "$run/checkpoint" --prompt "Once upon a time" --max-tokens 120 --temp 0.8 --top-k 40 --seed $seed 2>/dev/null)
        samples+=$'\n'"> Once upon a time${text//$'\n'/ }"$'\n'
    done
done
{
    cat "$report.tmp"
    echo
    echo "Loss curves: $(for v in $VARIANTS; do printf '![%s](loss-%s.svg) ' "$v" "$v"; done)"
    echo "$samples"
} >"$report"
rm -f "$report.tmp"
echo "wrote $report"
