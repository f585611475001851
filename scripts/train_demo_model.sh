#!/usr/bin/env bash
# train_demo_model.sh: makes the small story model that the web demo opens
# with (web-demo/models/story-gate.bitt) and its model card
# (web-demo/models/MODEL_CARD.md): a BPE tokenizer of 4,096 ids trained on
# the TinyStories training slices, a gated TTT-Linear model (dim 128, 4
# layers: the defaults of `bitt train`, the settings of docs/LONG_CONTEXT.md's
# gate-fresh run), converted to .bitt v2 with I8 embeddings, scored in one
# pass over valid-head.txt (never trained on), with three samples.
# About 35 minutes on 2 cores at STEPS=800.
#
# Usage: scripts/train_demo_model.sh [BITT_BINARY]   (STEPS, DATA, WORK, OUT override)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BITT=${1:-$ROOT/build/bitt}
DATA=${DATA:-$ROOT/../shared/data/tinystories}
WORK=${WORK:-$ROOT/runs/demo-model}
OUT=${OUT:-$ROOT/web-demo/models}
STEPS=${STEPS:-800}
[[ -x $BITT ]] || { echo "no bitt binary at $BITT (build first: cmake --preset native && cmake --build --preset native)" >&2; exit 1; }
[[ -f $DATA/valid-head.txt ]] || { echo "no TinyStories slices in $DATA" >&2; exit 1; }
mkdir -p "$WORK" "$OUT"
cd "$WORK"

[[ -f tok4k.json ]] || "$BITT" tokenizer train --input "$DATA"/train-*.txt --vocab 4096 --out tok4k.json
[[ -f train.bin ]] || "$BITT" prepare --tokenizer tok4k.json --input "$DATA"/train-*.txt --out train.bin
[[ -f val.bin ]] || "$BITT" prepare --tokenizer tok4k.json --input "$DATA/valid-head.txt" --out val.bin

train_args=(--data train.bin --val val.bin --tokenizer tok4k.json --dim 128 --layers 4 --context 128 --batch 16
            --steps "$STEPS" --lr 1e-3 --warmup 60 --min-lr 1e-5 --eval-interval 100 --save-interval 200 --out run)
start=$(date +%s)
if [[ -d run/checkpoint ]]; then "$BITT" train "${train_args[@]}" --resume; else "$BITT" train "${train_args[@]}"; fi >train.log 2>&1
train_s=$(( $(date +%s) - start ))

model=$OUT/story-gate.bitt
"$BITT" convert run/checkpoint "$model" --packed
"$BITT" eval --model "$model" --text "$DATA/valid-head.txt" --json >eval.json
"$BITT" inspect "$model" >inspect.json
prompts=("Once upon a time, there was a little girl named Lily." "Tom and his dog went to the park." "The sun was hot, so")
for i in 0 1 2; do
    "$BITT" generate --model "$model" --prompt "${prompts[$i]}" --max-tokens 80 --seed $((i + 1)) --stop "<|endoftext|>" >sample$i.txt 2>/dev/null || true
done

python3 - "$OUT/MODEL_CARD.md" "$model" "$STEPS" "$train_s" "${prompts[@]}" <<'EOF'
import json, os, sys
card, model, steps, train_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
prompts = sys.argv[5:8]
ev = json.load(open("eval.json"))
info = json.load(open("inspect.json"))
cfg = info["config"]
metrics = [json.loads(l) for l in open("run/metrics.jsonl") if l.strip()]
val = [m for m in metrics if "val_loss" in m]
last = val[-1] if val else {}
samples = []
for i, p in enumerate(prompts):
    try:
        samples.append((p, open("sample%d.txt" % i, encoding="utf-8", errors="replace").read()))
    except OSError:
        pass
with open(card, "w") as f:
    f.write("# story-gate.bitt: the web demo's story model\n\n")
    f.write("Made by `scripts/train_demo_model.sh` (STEPS=%d) on %s; %d parameters, .bitt v2 with I8 embeddings, "
            "%s bytes, fingerprint `%s`.\n\n" % (steps, __import__("datetime").date.today().isoformat(),
                                             info["params"], format(os.path.getsize(model), ","), info["fingerprint"]))
    f.write("## What it is\n\nA Bit-Llama model (SPEC 1): ternary BitLinear projections with int8 activations, "
            "TTT-Linear memory with the learned forget gate (SPEC 1.2.1), dim %d, %d layers, %d heads, FFN %d, "
            "vocabulary %d (a byte-level BPE trained on the training slices below). It writes short children's "
            "stories in simple English; it knows nothing else, and at this size its stories wander.\n\n"
            % (cfg["hidden_dim"], cfg["num_layers"], cfg["num_heads"], cfg["intermediate_dim"], cfg["vocab_size"]))
    f.write("## Data and licence\n\nTrained on slices of **TinyStories** (Eldan & Li, 2023, \"TinyStories: How Small "
            "Can Language Models Be and Still Speak Coherent English?\", dataset `roneneldan/TinyStories`), licensed "
            "under **CDLA-Sharing-1.0**: `train-v1-head.txt`, `train-v2-head.txt`, `train-maxme1-01.txt` "
            "(about 7,000 stories, 6 MB). The tokenizer was fitted on the same files. `valid-head.txt` (the "
            "evaluation text) was never trained on. This model is a result of that data and is shared under the "
            "same terms (CDLA-Sharing-1.0); no dataset text is in this repository.\n\n")
    f.write("## Training\n\n```sh\nbitt tokenizer train --input train-*.txt --vocab 4096 --out tok4k.json\n"
            "bitt prepare --tokenizer tok4k.json --input train-*.txt --out train.bin\n"
            "bitt train --data train.bin --val val.bin --tokenizer tok4k.json --dim 128 --layers 4 --context 128 "
            "--batch 16 --steps %d --lr 1e-3 --warmup 60 --min-lr 1e-5 --out run\n"
            "bitt convert run/checkpoint story-gate.bitt --packed\n```\n\n"
            "CPU trainer, %d s on a shared 2-vCPU VM. Forget gate on and independent windows: the defaults of "
            "`bitt train` (docs/LONG_CONTEXT.md).\n\n" % (steps, train_s))
    f.write("## Metrics (valid-head.txt)\n\n| measure | value |\n| --- | ---: |\n")
    f.write("| one pass (`bitt eval`, the memory carried over all %s tokens) | %.3f nats/token, %.3f bits/byte |\n"
            % (format(ev["tokens"], ","), ev["loss"], ev["bits_per_byte"]))
    if last:
        f.write("| windows of 128 at step %d (the trainer's validation) | %.3f nats/token |\n" % (last.get("step", 0), last["val_loss"]))
    f.write("\n## Samples (`bitt generate --max-tokens 80 --seed 1..3`)\n\n")
    for p, t in samples:
        f.write("> **%s** %s\n\n" % (p, t.strip().replace("\n", " ")))
EOF
echo "wrote $model and $OUT/MODEL_CARD.md"
