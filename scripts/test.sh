#!/usr/bin/env bash
# Builds everything and runs every test: the native release build (gcc,
# warnings as errors; with the CUDA plugin libbitt_cuda.so where nvcc is
# found: its GPU tests SKIP without a GPU, its kernels' emulator tests run)
# under ctest; `bitt serve` against the official openai
# client and under load (node --test tests/server); the WebAssembly build (emcc, SIMD128,
# bitt.wasm into npm/) with its C tests under node and the Node harness of
# the npm package against the native CLI (node --test tests/js); the web
# demo in headless Chromium (tests/browser, with the package's loading: progress,
# the OPFS model cache, Range resume); the package as packed by npm:
# its types under tsc and a Vite build of it in Chromium (tests/bundle); then
# the same C suite built with clang, AddressSanitizer and UBSan; then the fuzz
# harnesses (tests/fuzz, clang's libFuzzer): their regression inputs under
# ctest and 10 s of fuzzing each (scripts/fuzz.sh; SKIP without the runtime).
# Usage: bash scripts/test.sh [--no-asan] [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
run_asan=1
run_fuzz=1
for a in "$@"; do
  case "$a" in
    --no-asan) run_asan=0 ;;
    --no-fuzz) run_fuzz=0 ;;
    *) echo "test.sh: unknown argument $a (--no-asan, --no-fuzz)" >&2; exit 2 ;;
  esac
done

echo "== native build =="
# the CUDA plugin (cuda/) is built where CMake finds nvcc: also the toolkit's usual place off PATH
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export CUDACXX=/usr/local/cuda/bin/nvcc; fi
cmake --preset native -DBITT_WERROR=ON >/dev/null
cmake --build --preset native
if [ -f build/libbitt_cuda.so ]; then
  echo "== CUDA plugin: build/libbitt_cuda.so built (its GPU tests SKIP without a GPU)"
else
  echo "== CUDA plugin: not built (no nvcc found); the emulated kernel tests still run"
fi
echo "== native tests =="
ctest --preset native
echo "== bitt serve with the openai client, and under load (node --test tests/server) =="
[ -d tests/server/node_modules/openai ] || (cd tests/server && npm ci --no-audit --no-fund)
node --test tests/server

echo "== wasm build =="
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"  # emcc's JS tools need acorn
cmake --preset wasm -DBITT_WERROR=ON >/dev/null
cmake --build --preset wasm
echo "== wasm tests (C tests under node, then the npm package: node --test tests/js) =="
ctest --preset wasm
node --test tests/js
echo "== web demo in headless Chromium (node --test tests/browser) =="
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund)
node --test tests/browser
echo "== the packed package: tsc over tests/types/usage.ts, a Vite build in headless Chromium (node --test tests/bundle) =="
[ -d tests/bundle/node_modules/vite ] || (cd tests/bundle && npm ci --no-audit --no-fund)
node --test tests/bundle

if [ "$run_asan" = 1 ]; then
  echo "== AddressSanitizer + UBSan build =="
  cmake --preset asan -DBITT_WERROR=ON >/dev/null
  cmake --build --preset asan
  echo "== AddressSanitizer + UBSan tests =="
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --preset asan
fi

if [ "$run_fuzz" = 1 ]; then
  echo "== fuzz =="
  if bash scripts/fuzz.sh --probe; then
    cmake --preset fuzz -DBITT_WERROR=ON >/dev/null
    cmake --build --preset fuzz
    echo "== fuzz: regression inputs (ctest --preset fuzz) =="
    ctest --preset fuzz
    echo "== fuzz: 10 s per harness (scripts/fuzz.sh; summary in build-fuzz/fuzz-summary.md) =="
    bash scripts/fuzz.sh --seconds 10 --no-build
  fi
fi
