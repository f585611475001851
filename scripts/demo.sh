#!/usr/bin/env bash
# The main job on a fresh machine, CPU only: build the bitt CLI, write a
# small random-weight Bit-Llama model, and stream text from it.
# (A random model writes gibberish: what you see is the engine running
# end to end -- tokenizer, ternary BitLinear, the TTT memory, sampling.)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset native >/dev/null
cmake --build --preset native >/dev/null
mkdir -p demo
./build/bitt init --out demo/random.bitt --dim 256 --layers 8 --vocab 16384 --packed --seed 1
./build/bitt inspect demo/random.bitt --json | head -c 400; echo
echo "--- generating (random weights, so expect gibberish) ---"
./build/bitt generate --model demo/random.bitt --prompt "Once upon a time" --max-tokens 64 --seed 7
