#!/usr/bin/env bash
# gpu_check.sh: the one prepared run of the CUDA trainer on a GPU machine
# (docs/CUDA.md, "The first GPU run"). It builds with CUDA, runs the GPU
# tests (tests/cuda, the CLI device test, the PyTorch reference on the GPU
# with the C CUDA trainer checked against it), then times `bitt train
# --device cuda` (math f32 and tf32) at two sizes against the PyTorch
# reference trainer (train_attention.py --model bitllama, eager and
# torch.compile), with a per-op time breakdown (BITT_CUDA_PROFILE, and nsys
# when present) and peak GPU memory. Everything goes under $OUT: one log per
# part, gpu_check.log, parts.tsv, summary.json (rewritten after every part,
# so a cut-off run still leaves one).
#
# Defensive: every part has its own timeout, cut to what is left of the
# budget (GPU_CHECK_BUDGET_S, default 540 s); a failed part does not stop
# the rest; parts are in priority order (correctness, then bitt's timings,
# then the comparisons), so a short budget drops the least important.
#   OUT=/tmp/out bash scripts/gpu_check.sh
#   GPU_CHECK_ONLY=build,ctest_cuda,reference bash scripts/gpu_check.sh   (a rerun of some parts)
# Other knobs: GPU_CHECK_BUILD (build directory, default build-gpu),
# GPU_CHECK_PYTHON (a python3 with torch; default: the first that has CUDA).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu_check_out}
mkdir -p "$OUT"
BUDGET=${GPU_CHECK_BUDGET_S:-540}
ONLY=${GPU_CHECK_ONLY:-}
BUILD=${GPU_CHECK_BUILD:-$ROOT/build-gpu}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
JOBS=$(nproc 2>/dev/null || echo 4)
T0=$(date +%s)
PARTS=$OUT/parts.tsv
: >"$PARTS"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
echo "gpu_check: $(date -u +%FT%TZ), budget ${BUDGET}s, out $OUT, work $WORK"

# ---- the GPU's memory and load, sampled every 0.5 s for the whole run ----
SAMPLER_PID=
if command -v nvidia-smi >/dev/null; then
    (while :; do
        printf '%s,%s\n' "$(date +%s.%N)" \
            "$(nvidia-smi --query-gpu=memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits | head -1)"
        sleep 0.5
    done) >"$OUT/gpu_samples.csv" 2>/dev/null &
    SAMPLER_PID=$!
fi

summarize() {
    python3 - "$OUT" "$BUDGET" "$T0" <<'PY' >"$OUT/summary.txt" 2>&1 || true
import json, os, re, statistics, sys, time
out, budget, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def read(p):
    try:
        with open(os.path.join(out, p), errors="replace") as f:
            return f.read()
    except OSError:
        return None
parts = []
for line in (read("parts.tsv") or "").splitlines():
    f = line.split("\t")
    if len(f) >= 5:
        parts.append({"part": f[0], "status": f[1], "seconds": int(f[2]), "rc": f[3], "start": float(f[4])})
samples = []
for line in (read("gpu_samples.csv") or "").splitlines():
    f = [x.strip() for x in line.split(",")]
    try:
        samples.append((float(f[0]), float(f[1]), float(f[2]), float(f[3])))
    except (ValueError, IndexError):
        pass
for p in parts:  # peak GPU memory (MiB, whole device) while the part ran
    inside = [s[1] for s in samples if p["start"] <= s[0] <= p["start"] + p["seconds"] + 1]
    if inside:
        p["gpu_mem_peak_mib"] = max(inside)
        p["gpu_util_mean"] = round(statistics.mean(s[3] for s in samples
                                                   if p["start"] <= s[0] <= p["start"] + p["seconds"] + 1), 1)
runs = {}
for name in sorted(os.listdir(out)):
    if not name.endswith(".metrics.jsonl"):
        continue
    rows = [json.loads(l) for l in read(name).splitlines() if l.strip().startswith("{")]
    steps = [r for r in rows if "loss" in r and "tok_s" in r]
    if not steps:
        continue
    settled = [r["tok_s"] for r in steps if r["step"] > 3] or [r["tok_s"] for r in steps]
    runs[name[:-len(".metrics.jsonl")]] = {"steps": len(steps), "tok_s_median": round(statistics.median(settled), 1),
                                           "first_loss": steps[0]["loss"], "last_loss": steps[-1]["loss"]}
profiles = {}
for name in sorted(os.listdir(out)):
    if name.startswith("profile_") and name.endswith(".json"):
        try:
            p = json.loads(read(name))
        except (ValueError, TypeError):
            continue
        ops = sorted(p.get("ops", []), key=lambda o: -o["ms"])
        profiles[name[:-5]] = {"device": p.get("device"), "math": p.get("math"), "total_ms": p.get("total_ms"),
                               "peak_used_mib": round(p.get("peak_used_bytes", 0) / 2**20),
                               "top_ops": [{"op": o["op"], "ms": o["ms"], "calls": o["calls"],
                                            "share": round(100 * o["ms"] / max(p.get("total_ms") or 1, 1e-9), 1)}
                                           for o in ops[:10]]}
tests = {}
for log in ("ctest_cuda.log",):
    for m in re.finditer(r"Test +#\d+: (\S+) \.+\s*(\*+)?(Passed|Failed|Skipped|Not Run|Timeout|\w+)", read(log) or ""):
        tests[m.group(1)] = m.group(3)
ref = read("reference.log") or ""
ref_lines = [l for l in ref.splitlines() if l.startswith(("CUDA trainer (", "all checks", "FAILED", "SKIP", "worst",
                                                        "float32 trainer", "logits:", "torch "))]
env = read("env.log") or ""
summary = {
    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "elapsed_s": int(time.time()) - t0, "budget_s": budget,
    "gpu": next((l for l in env.splitlines() if l.startswith("GPU ")), None),
    "nvcc": next((l for l in env.splitlines() if "release" in l and "cuda" in l.lower()), None),
    "parts": parts, "tests": tests, "reference": ref_lines, "runs": runs, "profiles": profiles,
    "gpu_mem_peak_mib": max((s[1] for s in samples), default=None),
    "gpu_mem_total_mib": max((s[2] for s in samples), default=None),
}
pairs = {}
for k, v in runs.items():  # bitt against the reference trainer, same size
    m = re.match(r"(bitt|torch)_(small|big)_(\w+)", k)
    if m:
        pairs.setdefault(m.group(2), {})[f"{m.group(1)}_{m.group(3)}"] = v["tok_s_median"]
summary["tok_s"] = pairs
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)
print(json.dumps({"tests": tests, "tok_s": pairs, "gpu_mem_peak_mib": summary["gpu_mem_peak_mib"],
                  "parts": [(p["part"], p["status"], p["seconds"]) for p in parts]}, indent=1))
PY
}

finish() {
    [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null
    summarize
    echo "== summary ($OUT/summary.json)"
    cat "$OUT/summary.txt"
    rm -rf "$WORK"
}
trap finish EXIT

remaining() { echo $((BUDGET - ($(date +%s) - T0))); }
wanted() { [[ -z $ONLY || ",$ONLY," == *",$1,"* ]]; }

# part NAME TIMEOUT CMD...: CMD under a timeout cut to the budget left; output in $OUT/NAME.log
part() {
    local name=$1 limit=$2
    shift 2
    wanted "$name" || return 0
    local left=$(($(remaining) - 15))
    if ((left < 20)); then
        printf '%s\tskipped\t0\tno budget left\t%s\n' "$name" "$(date +%s)" >>"$PARTS"
        echo "== $name: skipped (the budget is spent)"
        return 1
    fi
    ((limit > left)) && limit=$left
    echo "== $name (at most ${limit}s): $*"
    local start rc=0
    start=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1 </dev/null || rc=$?
    local secs=$(($(date +%s) - start)) status=ok
    ((rc != 0)) && status=failed
    ((rc == 77)) && status=skipped # the tests' SKIP
    ((rc == 124 || rc == 137)) && status=timeout
    printf '%s\t%s\t%s\trc=%s\t%s\n' "$name" "$status" "$secs" "$rc" "$start" >>"$PARTS"
    echo "   $status after ${secs}s (exit $rc); the log ends:"
    tail -n 6 "$OUT/$name.log" | sed 's/^/   | /'
    summarize
    return $rc
}

# ---- 0. the machine ----
{
    echo "GPU $(nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>&1 | head -1)"
    nvidia-smi 2>&1 | head -20
    command -v nvcc >/dev/null || export PATH=$PATH:/usr/local/cuda/bin
    nvcc --version 2>&1 | tail -2
    command -v nsys && nsys --version
    echo "git $(git log -1 --oneline 2>/dev/null)"
    echo "cores $JOBS; $(free -g 2>/dev/null | sed -n 2p)"
} >"$OUT/env.log" 2>&1
command -v nvcc >/dev/null || export PATH=$PATH:/usr/local/cuda/bin
PY=${GPU_CHECK_PYTHON:-}
if [[ -z $PY ]]; then
    for p in python3 /usr/bin/python3 /usr/local/bin/python3; do
        if "$p" -c "import torch, numpy; assert torch.cuda.is_available()" 2>/dev/null; then PY=$p; break; fi
    done
fi
if [[ -z $PY ]]; then
    for p in python3 /usr/bin/python3; do
        if "$p" -c "import torch, numpy" 2>/dev/null; then PY=$p; break; fi
    done
fi
TORCH_CUDA=0
if [[ -n $PY ]]; then
    echo "python with torch: $PY $("$PY" -c 'import torch; print(torch.__version__, "cuda", torch.cuda.is_available())' 2>&1)" \
        >>"$OUT/env.log"
    "$PY" -c "import torch; assert torch.cuda.is_available()" 2>/dev/null && TORCH_CUDA=1
else
    echo "python with torch: none (the reference parts are skipped)" >>"$OUT/env.log"
fi
cat "$OUT/env.log"

# ---- 1. build (Release, the plugin for sm_80 and sm_90) ----
part build 300 bash -c "cmake -S . -B '$BUILD' -DCMAKE_BUILD_TYPE=Release && cmake --build '$BUILD' -j $JOBS"
BITT=$BUILD/bitt
if [[ ! -x $BITT || ! -f $BUILD/libbitt_cuda.so ]]; then
    echo "gpu_check: no $BITT or $BUILD/libbitt_cuda.so: nothing to run (see $OUT/build.log)"
    exit 1
fi

# ---- 2. correctness on the GPU ----
part ctest_cuda 240 ctest --test-dir "$BUILD" -R '^(test_cuda_ops|test_cuda_step|cli_train_cuda|cli_train_device)$' \
    -V --timeout 200
[[ -f $BUILD/Testing/Temporary/LastTest.log ]] && cp "$BUILD/Testing/Temporary/LastTest.log" "$OUT/ctest_LastTest.log"
if [[ -n $PY ]]; then
    part reference 150 "$PY" tests/reference/test_reference.py --bitt "$BITT" --dump-grads "$BUILD/bitt_dump_grads" \
        --dump-logits "$BUILD/bitt_dump_logits" --device cuda --cuda-trainer
fi

# ---- 3. timings ----
data() {
    "$BITT" corpus --out "$WORK/train.txt" --stories 8000 --seed 11 &&
        "$BITT" tokenizer train --input "$WORK/train.txt" --vocab 4096 --out "$WORK/tok.json" --quiet &&
        "$BITT" prepare --tokenizer "$WORK/tok.json" --input "$WORK/train.txt" --out "$WORK/train.bin" --quiet
}
export -f data
export BITT WORK
part data 60 bash -c data
SMALL=(--dim 256 --layers 8 --context 128 --batch 16)
BIG=(--dim 768 --layers 12 --context 512 --batch 64)

# bitt_run NAME STEPS MATH SIZE...: bitt train on the GPU; its metrics.jsonl into $OUT
bitt_run() {
    local name=$1 steps=$2 math=$3 limit=$4
    shift 4
    part "$name" "$limit" "$BITT" train --data "$WORK/train.bin" --tokenizer "$WORK/tok.json" --out "$WORK/$name" "$@" \
        --steps "$steps" --warmup 5 --lr 1e-3 --save-interval 0 --eval-interval 0 --val-tokens 0 --log-interval 5 \
        --device cuda --cuda-math "$math"
    [[ -f $WORK/$name/metrics.jsonl ]] && cp "$WORK/$name/metrics.jsonl" "$OUT/$name.metrics.jsonl"
    rm -rf "$WORK/$name"
}
# torch_run NAME STEPS MODE SIZE...: the reference trainer (bitllama.py) on the GPU, the same model and windows
torch_run() {
    local name=$1 steps=$2 mode=$3 limit=$4
    shift 4
    if [[ $TORCH_CUDA != 1 ]]; then
        wanted "$name" && printf '%s\tskipped\t0\tno torch with CUDA\t%s\n' "$name" "$(date +%s)" >>"$PARTS"
        return 0
    fi
    local extra=()
    [[ $mode == compile ]] && extra=(--compile)
    part "$name" "$limit" "$PY" tests/reference/train_attention.py --model bitllama --forget-gate --data "$WORK/train.bin" \
        --out "$WORK/$name" "$@" --steps "$steps" --warmup 5 --lr 1e-3 --log-interval 5 --device cuda "${extra[@]}"
    [[ -f $WORK/$name/metrics.jsonl ]] && cp "$WORK/$name/metrics.jsonl" "$OUT/$name.metrics.jsonl"
    rm -rf "$WORK/$name"
}
profile_run() { # profile_run NAME STEPS SIZE...: BITT_CUDA_PROFILE's per-op table and peak memory
    local name=$1 steps=$2 limit=$3
    shift 3
    BITT_CUDA_PROFILE=1 BITT_CUDA_PROFILE_OUT=$OUT/$name.json part "$name" "$limit" "$BITT" train \
        --data "$WORK/train.bin" --tokenizer "$WORK/tok.json" --out "$WORK/$name" "$@" --steps "$steps" --warmup 2 \
        --save-interval 0 --eval-interval 0 --val-tokens 0 --device cuda
    rm -rf "$WORK/$name"
}
if [[ -f $WORK/train.bin ]]; then
    bitt_run bitt_small_f32 40 f32 60 "${SMALL[@]}"
    bitt_run bitt_small_tf32 40 tf32 60 "${SMALL[@]}"
    profile_run profile_small_f32 10 45 "${SMALL[@]}"
    torch_run torch_small_eager 30 eager 90 "${SMALL[@]}"
    bitt_run bitt_big_f32 12 f32 150 "${BIG[@]}"
    bitt_run bitt_big_tf32 12 tf32 120 "${BIG[@]}"
    profile_run profile_big_f32 4 90 "${BIG[@]}"
    torch_run torch_big_eager 8 eager 150 "${BIG[@]}"
    torch_run torch_small_compile 30 compile 150 "${SMALL[@]}"
    torch_run torch_big_compile 8 compile 180 "${BIG[@]}"
    if command -v nsys >/dev/null; then
        part nsys_small 120 nsys profile --stats=true --force-overwrite true -o "$WORK/nsys_small" "$BITT" train \
            --data "$WORK/train.bin" --tokenizer "$WORK/tok.json" --out "$WORK/nsys_run" "${SMALL[@]}" --steps 8 \
            --save-interval 0 --eval-interval 0 --val-tokens 0 --device cuda
    fi
fi
echo "gpu_check: done after $(($(date +%s) - T0))s"
