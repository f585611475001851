#!/usr/bin/env bash
# cli_train_device: `bitt train --device cpu|cuda|auto` and --cuda-math. A
# probe run with --device cuda decides which case this machine is:
#   - no usable GPU (or no plugin: a build without nvcc): --device cuda is
#     one clear error line ("--device cuda: no CUDA GPU (...)" / "no CUDA
#     plugin (...)"); --device auto, and the default, train on the CPU and
#     say so in exactly one line; that run is the --device cpu run bit for bit;
#   - a GPU: the probe trained on it and says so, and so does auto.
# Bad values of both flags are refused. (Training on the GPU itself:
# tests/cuda/train_cuda.sh.) Usage: bash train_device.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" corpus --out train.txt --stories 60 --seed 4
run_ok "$BITT" tokenizer train --input train.txt --vocab 300 --out tok.json --quiet
run_ok "$BITT" prepare --tokenizer tok.json --input train.txt --out train.bin --quiet
ARGS=(--data train.bin --tokenizer tok.json --dim 32 --layers 1 --heads 2 --mini-batch 8 --context 16 --batch 2
      --steps 3 --warmup 1 --threads 1 --val-tokens 0 --save-interval 0 --eval-interval 0)

expect_fail "bad --device" "--device: 'tpu' is not cpu, cuda or auto" "$BITT" train "${ARGS[@]}" --out X --device tpu
expect_fail "bad --cuda-math" "--cuda-math takes f32 or tf32 \\(got 'fp16'\\)" "$BITT" train "${ARGS[@]}" --out X \
    --cuda-math fp16
[[ ! -e X/checkpoint ]] || fail "a refused run left a checkpoint"
ok

rc=0
timeout 120 "$BITT" train "${ARGS[@]}" --out P --device cuda >out 2>err || rc=$?
if [[ $rc -ne 0 ]]; then
    # no GPU here: one clear line, nothing trained
    [[ $rc -eq 1 ]] || { cat err >&2; fail "--device cuda without a GPU: exit $rc, expected 1"; }
    [[ $(wc -l <err) -eq 1 ]] || { cat err >&2; fail "--device cuda without a GPU: expected one line on stderr"; }
    grep -Eq '^bitt train: --device cuda: no CUDA (GPU \(cudaGetDeviceCount: .+\)|plugin \(.+\))$' err ||
        { cat err >&2; fail "--device cuda without a GPU: unclear message"; }
    [[ ! -e P/checkpoint ]] || fail "--device cuda without a GPU left a checkpoint"
    ok
    why=$(sed -e 's/^bitt train: --device cuda: //' err)
    for dev in auto default; do
        if [[ $dev == auto ]]; then run_ok "$BITT" train "${ARGS[@]}" --out A --device auto
        else run_ok "$BITT" train "${ARGS[@]}" --out A2; fi
        [[ $(grep -c "training on the CPU" err) -eq 1 ]] || { cat err >&2; fail "$dev: expected one fallback line"; }
        grep -qxF "$why: training on the CPU" err ||
            { cat err >&2; fail "$dev: the fallback line is not '$why: training on the CPU'"; }
        [[ $(grep -ci "cuda" err) -eq 1 ]] || { cat err >&2; fail "$dev: CUDA is mentioned more than once"; }
        ok
    done
    run_ok "$BITT" train "${ARGS[@]}" --out C --device cpu --cuda-math tf32 # an option for the GPU only
    if grep -qi "cuda\|gpu" err; then cat err >&2; fail "--device cpu talks about CUDA"; fi
    cmp A/checkpoint/model.safetensors C/checkpoint/model.safetensors || fail "auto (CPU) and cpu: other models"
    cmp A/checkpoint/model.safetensors A2/checkpoint/model.safetensors || fail "the default and auto: other models"
    ok
else
    grep -q "^training on the GPU (" err || { cat err >&2; fail "--device cuda trained but did not say so"; }
    [[ -f P/checkpoint/model.safetensors ]] || fail "--device cuda left no checkpoint"
    run_ok "$BITT" train "${ARGS[@]}" --out A --device auto --cuda-math tf32
    grep -q "^training on the GPU (.*math=tf32)" err || { cat err >&2; fail "--device auto with a GPU: not on it"; }
    ok
fi
finish
