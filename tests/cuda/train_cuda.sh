#!/usr/bin/env bash
# cli_train_cuda (registered where the CUDA plugin is built; SKIP, exit 77,
# when a probe run finds no GPU): `bitt train --device cuda` on a tiny corpus
# made here, against --device cpu with the same seed:
#   - 200 steps on the GPU (math f32) and on the CPU: the first step's loss
#     agrees to 1e-3 (same weights, same windows), the mean of the last 20
#     within 3%, the final validation loss within 3%; math tf32 within 5%;
#   - the GPU run twice gives the same metrics.jsonl (every sum in a fixed order);
#   - one checkpoint directory moves between devices: a GPU run killed at
#     step 101 resumes on the CPU, is killed at 151, resumes on the GPU and
#     finishes: steps 1..100 are the uninterrupted GPU run's exactly, the
#     end is within 3% of it;
#   - stateful training (--carry-state) on the GPU tracks the CPU's;
#   - the GPU checkpoint is a model for bitt eval; BITT_CUDA_PROFILE=1 prints
#     the per-op table.
# Usage: bash train_cuda.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.bash"

run_ok "$BITT" corpus --out train.txt --stories 1500 --seed 7
run_ok "$BITT" corpus --out val.txt --stories 100 --seed 8
run_ok "$BITT" tokenizer train --input train.txt --vocab 512 --out tok.json --quiet
run_ok "$BITT" prepare --tokenizer tok.json --input train.txt --out train.bin --quiet
run_ok "$BITT" prepare --tokenizer tok.json --input val.txt --out val.bin --quiet
ARGS=(--data train.bin --val val.bin --tokenizer tok.json --dim 64 --layers 2 --heads 2 --mini-batch 16
      --context 64 --batch 8 --steps 200 --warmup 20 --lr 3e-3 --seed 5 --eval-interval 100 --save-interval 50
      --val-windows 16 --val-tokens 2000 --threads 4)

rc=0
timeout 120 "$BITT" train "${ARGS[@]}" --steps 1 --out probe --device cuda >out 2>err || rc=$?
if [[ $rc -ne 0 ]]; then
    if grep -q "no CUDA GPU" err; then
        echo "SKIP: $(cat err)"
        _finished=1
        exit 77
    fi
    cat err >&2
    fail "the probe run on the GPU failed (exit $rc)"
fi
ok

run_ok "$BITT" train "${ARGS[@]}" --out G --device cuda
grep -q "^training on the GPU" err || fail "G did not train on the GPU"
run_ok "$BITT" train "${ARGS[@]}" --out G2 --device cuda
run_ok "$BITT" train "${ARGS[@]}" --out C --device cpu
run_ok "$BITT" train "${ARGS[@]}" --out T --device cuda --cuda-math tf32
grep -q "math=tf32" err || fail "T: no math=tf32 in the note"
strip() { sed -E 's/,"tok_s":[0-9.e+-]+//' "$1"; }
diff <(strip G/metrics.jsonl) <(strip G2/metrics.jsonl) >/dev/null || fail "two GPU runs logged other losses"
cmp G/checkpoint/model.safetensors G2/checkpoint/model.safetensors || fail "two GPU runs: other weights"
ok

python3 - G/metrics.jsonl C/metrics.jsonl T/metrics.jsonl <<'PY' || fail "the GPU's loss curve does not track the CPU's"
import json, sys
def load(p):
    rows = [json.loads(l) for l in open(p)]
    return [r["loss"] for r in rows if "loss" in r], [r["val_loss"] for r in rows if "val_loss" in r]
(g, gv), (c, cv), (t, tv) = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
assert len(g) == len(c) == len(t) == 200, (len(g), len(c), len(t))
first = abs(g[0] - c[0]) / c[0]
lg, lc, lt = sum(g[-20:]) / 20, sum(c[-20:]) / 20, sum(t[-20:]) / 20
print(f"first step: GPU {g[0]:.6f} CPU {c[0]:.6f} (rel {first:.1e}); last 20: GPU {lg:.4f} CPU {lc:.4f} "
      f"TF32 {lt:.4f}; val: GPU {gv[-1]:.4f} CPU {cv[-1]:.4f} TF32 {tv[-1]:.4f}")
assert first <= 1e-3, first
assert lc < c[0] - 1.0 and lg < g[0] - 1.0, "no learning"
assert abs(lg - lc) / lc <= 0.03, (lg, lc)
assert abs(gv[-1] - cv[-1]) / cv[-1] <= 0.03, (gv[-1], cv[-1])
assert abs(lt - lc) / lc <= 0.05 and abs(tv[-1] - cv[-1]) / cv[-1] <= 0.05, (lt, lc, tv[-1], cv[-1])
PY
ok

# one checkpoint directory, GPU -> CPU -> GPU
rc=0
BITT_TRAIN_TEST_CRASH=step:101 "$BITT" train "${ARGS[@]}" --out R --device cuda >/dev/null 2>err || rc=$?
[[ $rc -eq 137 ]] || { cat err >&2; fail "expected the GPU run to be killed at step 101 (137), got $rc"; }
grep -q '"step": 100,' R/checkpoint/state.json || fail "R should hold the checkpoint of step 100"
rc=0
BITT_TRAIN_TEST_CRASH=step:151 "$BITT" train --out R --resume --device cpu >/dev/null 2>err || rc=$?
[[ $rc -eq 137 ]] || { cat err >&2; fail "expected the CPU resume to be killed at step 151 (137), got $rc"; }
grep -q '"step": 150,' R/checkpoint/state.json || fail "R should hold the checkpoint of step 150"
run_ok "$BITT" train --out R --resume --device cuda
grep -q "^training on the GPU" err || fail "the last resume did not train on the GPU"
python3 - G/metrics.jsonl R/metrics.jsonl <<'PY' || fail "the run moved between devices went wrong"
import json, sys
def load(p):
    return [json.loads(l) for l in open(p)]
g, r = load(sys.argv[1]), load(sys.argv[2])
gs, rs = [x for x in g if "loss" in x], [x for x in r if "loss" in x]
assert [x["step"] for x in rs] == list(range(1, 201)), [x["step"] for x in rs][:5]
assert [x["loss"] for x in rs[:100]] == [x["loss"] for x in gs[:100]], "steps 1..100 differ from the GPU run"
lg, lr = sum(x["loss"] for x in gs[-20:]) / 20, sum(x["loss"] for x in rs[-20:]) / 20
gv, rv = [x["val_loss"] for x in g if "val_loss" in x][-1], [x["val_loss"] for x in r if "val_loss" in x][-1]
print(f"moved run: last 20 {lr:.4f} (GPU alone {lg:.4f}); val {rv:.4f} (GPU alone {gv:.4f})")
assert abs(lr - lg) / lg <= 0.03 and abs(rv - gv) / gv <= 0.03
PY
ok

# stateful training on the GPU (end states written back on the device)
SARGS=("${ARGS[@]}")
SARGS+=(--steps 100 --carry-state --state-reset 0.05)
run_ok "$BITT" train "${SARGS[@]}" --out SG --device cuda
run_ok "$BITT" train "${SARGS[@]}" --out SC --device cpu
python3 - SG/metrics.jsonl SC/metrics.jsonl <<'PY' || fail "carried-state training on the GPU does not track the CPU"
import json, sys
g, c = ([json.loads(l)["loss"] for l in open(p) if '"loss"' in l] for p in sys.argv[1:])
lg, lc = sum(g[-20:]) / 20, sum(c[-20:]) / 20
print(f"carry-state: last 20 GPU {lg:.4f} CPU {lc:.4f}; first {g[0]:.5f} / {c[0]:.5f}")
assert abs(g[0] - c[0]) / c[0] <= 1e-3 and abs(lg - lc) / lc <= 0.03
PY
ok

run_ok "$BITT" eval --model G/checkpoint --text val.txt --json
jcheck out 'math.isfinite(d["loss"]) and d["loss"] < 5.0'
export BITT_CUDA_PROFILE=1
run_ok "$BITT" train "${ARGS[@]}" --steps 5 --out PR --device cuda --val-tokens 0
unset BITT_CUDA_PROFILE
grep -q "^bitt cuda profile: " err && grep -q " ttt_linear_bwd " err && grep -q " gemm " err ||
    { cat err >&2; fail "BITT_CUDA_PROFILE=1 printed no per-op table"; }
ok
finish
