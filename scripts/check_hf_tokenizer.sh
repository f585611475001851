#!/usr/bin/env bash
# check_hf_tokenizer.sh: the Hugging Face cross-check of the tokenizer (see
# check_hf_tokenizer.mjs for what is compared). Installs the npm package
# `tokenizers` (HF's Rust core through napi) into a folder outside the repo
# if it is not there yet (needs the network the first time; never a
# dependency of this project), trains a 16,384-id tokenizer with bitt on the
# TinyStories training slices, then runs the comparison on the validation
# text (only read for evaluation, never trained on). Not part of the tests.
#
# usage: bash scripts/check_hf_tokenizer.sh
# env:   BITT=path/to/bitt (default build/bitt, built if missing)
#        HF_TOKENIZERS_DIR (default ${TMPDIR:-/tmp}/bitt-hf-tokenizers)
#        TINYSTORIES_DIR   (default ../shared/data/tinystories)
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=${BITT:-./build/bitt}
if [[ ! -x $bitt ]]; then
    [[ -z ${BITT:-} ]] || { echo "check_hf_tokenizer: BITT=$bitt is not an executable" >&2; exit 1; }
    cmake --preset native >/dev/null && cmake --build --preset native >/dev/null
fi
hf=${HF_TOKENIZERS_DIR:-${TMPDIR:-/tmp}/bitt-hf-tokenizers}
if [[ ! -d $hf/node_modules/tokenizers ]]; then
    mkdir -p "$hf"
    (cd "$hf" && { [[ -f package.json ]] || npm init -y >/dev/null; } && npm install --no-save tokenizers@0.23.2 >/dev/null)
fi
data=${TINYSTORIES_DIR:-../shared/data/tinystories}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bitt" tokenizer train --input "$data"/train-*.txt --vocab 16384 --out "$work/tokenizer.json" --quiet
rc=0
HF_TOKENIZERS_DIR=$hf node scripts/check_hf_tokenizer.mjs --bitt "$bitt" --tokenizer "$work/tokenizer.json" \
    --text "$data/valid-head.txt" --train "$data"/train-*.txt --work "$work" "$@" >"$work/log" 2>&1 || rc=$?
# HF's trainer draws progress bars: keep the rest
grep -v -e '^\[' -e '^$' "$work/log" || true
exit "$rc"
