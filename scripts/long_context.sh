#!/usr/bin/env bash
# long_context.sh: the measurements of docs/LONG_CONTEXT.md: does a mixer's
# memory use a long context? On the TinyStories slices (tokenizer 4,096,
# dim 128, 4 layers, context 128, batch 16, STEPS steps, the settings of
# docs/TINYSTORIES.md) it trains one model per mixer:
#   gate        TTT-Linear with the forget gate (SPEC 1.2.1), state carried
#   gate-fresh  the same, every window from the start state
#   decay       TTT-Linear with the fixed state_decay 0.9, state carried
#   spec12      TTT-Linear as SPEC 1.2 writes it (no gate, no decay), state carried
#   none        no mixer
#   seed        the seed mixer, state carried
#   NAME-ctx512 run NAME with windows of 512 tokens, batch 4 (the same
#               tokens a step): gradients reach 512 tokens back
# then scores each on valid-head.txt: one pass (bitt eval, with the loss by
# position and its plot), the trainer's windowed validation, and the
# repeated story after a gap (bitt eval --task repeat), and what each forget
# gate keeps (scripts/gate_lengths.py, with torch). The recall task:
# models of the same size trained on recall documents (facts, a gap of
# story text, questions: bitt corpus --task recall, gaps up to 512 tokens,
# filler from the training slices) mixed with the stories, scored on recall
# documents with filler from valid-head at gaps 0, 256, 1k, 4k and 16k.
# Runs two trainings at a time (threads 1 each). Results under $WORK; the
# summary (results.json, a markdown table) under $OUT.
#
# Usage: scripts/long_context.sh [BITT_BINARY]   (STEPS, RUNS, RECALL_RUNS, WORK, OUT override)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BITT=${1:-$ROOT/build/bitt}
DATA=${DATA:-/work/shared/data/tinystories}
WORK=${WORK:-$ROOT/runs/long_context}
OUT=${OUT:-$ROOT/docs/long_context}
STEPS=${STEPS:-1200}
RUNS=${RUNS:-"gate gate-fresh decay spec12 none seed"}
RECALL_RUNS=${RECALL_RUNS:-"gate decay spec12 none"}
RECALL_GAPS=${RECALL_GAPS:-0,256,1024,4096,16384}
REPEAT_GAPS=${REPEAT_GAPS:-0,256,1024,4096}
[[ -x $BITT ]] || { echo "no bitt binary at $BITT (build first)" >&2; exit 1; }
mkdir -p "$WORK" "$OUT"
cd "$WORK"

# ---- data (never trained on valid-head.txt; the tokenizer learns from the train slices only)
[[ -f tok4k.json ]] || "$BITT" tokenizer train --input "$DATA"/train-*.txt --vocab 4096 --out tok4k.json
[[ -f train.bin ]] || "$BITT" prepare --tokenizer tok4k.json --input "$DATA"/train-*.txt --out train.bin --quiet
[[ -f val.bin ]] || "$BITT" prepare --tokenizer tok4k.json --input "$DATA/valid-head.txt" --out val.bin --quiet
if [[ ! -f recall-train.txt ]]; then
    cat "$DATA"/train-*.txt > train-all.txt
    "$BITT" corpus --task recall --tokenizer tok4k.json --out recall-train.txt --gaps 0,16,32,64,128,256,512 \
        --docs 600 --facts 4 --filler train-all.txt --seed 11
fi
[[ -f recall-mix.bin ]] || "$BITT" prepare --tokenizer tok4k.json --input "$DATA"/train-*.txt recall-train.txt \
    --out recall-mix.bin --quiet
[[ -f recall-eval.txt ]] || "$BITT" corpus --task recall --tokenizer tok4k.json --out recall-eval.txt \
    --gaps "$RECALL_GAPS" --docs 25 --facts 4 --filler "$DATA/valid-head.txt" --seed 12

flags_of() { # the mixer flags of a run name
    case $1 in
    gate) echo "--variant linear --forget-gate on --carry-state" ;;
    gate-fresh) echo "--variant linear --forget-gate on --no-carry-state" ;;
    decay) echo "--variant linear --forget-gate off --state-decay 0.9 --carry-state" ;;
    spec12) echo "--variant linear --forget-gate off --carry-state" ;;
    none) echo "--variant none" ;;
    seed) echo "--variant seed --carry-state" ;;
    *) echo "unknown run $1" >&2; exit 1 ;;
    esac
}

train() { # name data-file
    local name=$1 data=$2 mixer=${1#recall-} context=128 batch=16
    [[ -f $name/checkpoint/state.json ]] && grep -q "\"step\": $STEPS," "$name/checkpoint/state.json" && return 0
    if [[ $mixer == *-ctx512 ]]; then mixer=${mixer%-ctx512}; context=512; batch=4; fi
    local args=(--data "$data" --val val.bin --tokenizer tok4k.json --dim 128 --layers 4 --context $context --batch $batch
                --steps "$STEPS" --lr 1e-3 --warmup 60 --min-lr 1e-5 --eval-interval 100 --save-interval 200
                --val-windows 64 --seed 1 --threads 1 --log-interval 50)
    # shellcheck disable=SC2046
    if [[ -d $name/checkpoint ]]; then "$BITT" train "${args[@]}" $(flags_of "$mixer") --out "$name" --resume
    else "$BITT" train "${args[@]}" $(flags_of "$mixer") --out "$name"; fi >"$name.log" 2>&1
}

jobs_list=()
for r in $RUNS; do jobs_list+=("$r train.bin"); done
for r in $RECALL_RUNS; do jobs_list+=("recall-$r recall-mix.bin"); done
running=0
for j in "${jobs_list[@]}"; do
    # shellcheck disable=SC2086
    train $j &
    running=$((running + 1))
    if [[ $running -ge 2 ]]; then wait -n; running=$((running - 1)); fi
done
wait

# ---- scores
for r in $RUNS; do
    [[ -f $r.eval.json ]] || "$BITT" eval --model "$r/checkpoint" --text "$DATA/valid-head.txt" --by-position \
        --plot "$OUT/position-$r.svg" --json --threads 2 >"$r.eval.json"
    [[ -f $r.repeat.json ]] || "$BITT" eval --model "$r/checkpoint" --text "$DATA/valid-head.txt" --task repeat \
        --gaps "$REPEAT_GAPS" --trials 30 --json --threads 2 >"$r.repeat.json"
done
# what the forget gates keep (the PyTorch reference reads the checkpoint; skipped without torch)
for r in $RUNS $(for x in $RECALL_RUNS; do echo "recall-$x"; done); do
    if [[ ! -f $r.gates.json ]] && grep -q '"forget_gate": true' "$r/checkpoint/config.json" &&
        /usr/bin/python3 -c 'import torch' 2>/dev/null; then
        /usr/bin/python3 "$ROOT/scripts/gate_lengths.py" "$r/checkpoint" val.bin --tokens 8192 --json >"$r.gates.json"
    fi
done
for r in $RECALL_RUNS; do
    [[ -f recall-$r.eval.json ]] || "$BITT" eval --model "recall-$r/checkpoint" --text recall-eval.txt --task recall \
        --json --threads 2 >"recall-$r.eval.json"
done
python3 "$ROOT/scripts/long_context_report.py" "$WORK" "$OUT" "$RUNS" "$RECALL_RUNS"
