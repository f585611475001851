#!/usr/bin/env bash
# bench_i8_quality.sh: what int8 embeddings (.bitt v2 with I8 embed and
# lm_head, SPEC 3.3) cost a trained model. Converts CHECKPOINT to v2 with F16
# and with I8 embeddings, prints both file sizes, the one-pass loss of
# `bitt eval` on TEXT (F16 with the float lm_head, F16 with --lm-head int8,
# I8) and the greedy agreement: for each prompt, GEN greedy tokens from the
# F16 file (float lm_head) and from the I8 file, and how much of the text is
# the same before the first difference.
# Usage: bash scripts/bench_i8_quality.sh CHECKPOINT TEXT   (BITT, GEN=128, THREADS=1)
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 CHECKPOINT TEXT" >&2; exit 2; }
ckpt=$1 text=$2
bitt=${BITT:-$(dirname "$0")/../build/bitt}
gen=${GEN:-128}
threads=${THREADS:-1}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bitt" convert "$ckpt" "$dir/f16.bitt" --packed --embed f16 >/dev/null
"$bitt" convert "$ckpt" "$dir/i8.bitt" --packed --embed i8 >/dev/null
loss() { "$bitt" eval --model "$1" --text "$text" --json --threads "$threads" "${@:2}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.6f %.6f %d" % (d["loss"], d["bits_per_byte"], d["tokens"]))'; }
echo "file sizes: F16 $(stat -c %s "$dir/f16.bitt") bytes, I8 $(stat -c %s "$dir/i8.bitt") bytes"
echo "one pass over $text (nats/token, bits/byte, tokens):"
echo "  F16, float lm_head:  $(loss "$dir/f16.bitt" --lm-head f32)"
echo "  F16, --lm-head int8: $(loss "$dir/f16.bitt" --lm-head int8)"
echo "  I8:                  $(loss "$dir/i8.bitt")"
prompts=("Once upon a time" "Tom and Lily" "The little dog" "One day, a girl named" "The sun was hot and"
         "Mom said" "Ben had a red ball." "In the park,")
same=0
total=0
for p in "${prompts[@]}"; do
    a=$("$bitt" generate --model "$dir/f16.bitt" --prompt "$p" --max-tokens "$gen" --temp 0 --lm-head f32 \
        --threads "$threads" 2>/dev/null)
    b=$("$bitt" generate --model "$dir/i8.bitt" --prompt "$p" --max-tokens "$gen" --temp 0 --threads "$threads" \
        2>/dev/null)
    n=$(python3 -c 'import os,sys; a,b=sys.argv[1],sys.argv[2]; print(len(os.path.commonprefix([a,b])), max(len(a),len(b)))' "$a" "$b")
    read -r common longest <<<"$n"
    same=$((same + common))
    total=$((total + longest))
    echo "  prompt \"$p\": the same for $common of $longest characters"
done
echo "greedy agreement ($gen tokens, ${#prompts[@]} prompts): $same of $total characters before the first difference"
