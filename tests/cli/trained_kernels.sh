#!/usr/bin/env bash
# cli_trained_kernels: the fast CPU backends on a TRAINED model (weights
# whose ternary codes and scales come from training, not the initialiser):
# every backend this CPU has gives the same 128 greedy tokens and the same
# eval loss as the scalar reference, with float and with int8 lm_head, from
# the .bitt v2 file and from the checkpoint.  Usage: bash trained_kernels.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" corpus --out train.txt --stories 300 --seed 1
run_ok "$BITT" corpus --out val.txt --stories 20 --seed 2
run_ok "$BITT" tokenizer train --input train.txt --vocab 400 --out tok.json
run_ok "$BITT" prepare --tokenizer tok.json --input train.txt --out train.bin --quiet
run_ok "$BITT" train --data train.bin --tokenizer tok.json --out run --dim 64 --layers 2 --context 32 \
    --batch 8 --steps 40 --warmup 5 --lr 3e-3 --threads 1 --device cpu
run_ok "$BITT" convert run/checkpoint m.bitt --packed
ok

backends=(scalar)
for k in avx2 avx512vnni; do
    if "$BITT" bench --model m.bitt --kernels "$k" --runs 1 --prompt-tokens 4 --gen-tokens 1 --contexts none >/dev/null 2>&1; then
        backends+=("$k")
    fi
done
echo "backends on this machine: ${backends[*]}"

for model in m.bitt run/checkpoint; do
    for head in f32 int8; do
        ref=""
        for k in "${backends[@]}"; do
            BITT_KERNELS=$k run_ok "$BITT" generate --model "$model" --prompt "Once upon a time" --max-tokens 128 \
                --temp 0 --lm-head "$head" --threads 1 --json
            text=$(jget out text)
            BITT_KERNELS=$k run_ok "$BITT" eval --model "$model" --text val.txt --lm-head "$head" --threads 1 --json
            loss=$(jget out loss)
            if [[ -z $ref ]]; then
                ref=$text ref_loss=$loss
                [[ ${#text} -gt 20 ]] || fail "$model/$head: scalar generated almost nothing: $text"
            else
                [[ $text == "$ref" ]] || fail "$model/$head: $k greedy text differs from scalar"
                python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 1e-4 * abs(a))" \
                    "$loss" "$ref_loss" || fail "$model/$head: $k eval loss $loss vs scalar $ref_loss"
            fi
            ok
        done
    done
done
finish
