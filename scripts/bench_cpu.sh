#!/usr/bin/env bash
# CPU inference benchmark, every configuration in one run so the
# ratios are taken under the same machine conditions: the packed ternary
# kernels (best for this CPU, and plain AVX2) with int8 and float lm_head,
# the dense float32 baseline (--dense-f32) and the scalar reference, at 1
# and 2 threads, then decode speed and RSS at contexts 128, 1k, 8k and 32k.
# Model: a random 256-dim, 8-layer, 16,384-vocab .bitt v2 (or MODEL=path).
# The configurations take turns: ROUNDS rounds, each running every
# configuration once (RUNS runs, their median); a figure is the median over
# the rounds, so a slow spell of a shared machine hits all of them alike.
# Usage: bash scripts/bench_cpu.sh     (ROUNDS=5, RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=./build/bitt
[ -x "$bitt" ] || { cmake --preset native >/dev/null && cmake --build --preset native >/dev/null; }
runs=${RUNS:-3}
rounds=${ROUNDS:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
model=${MODEL:-$dir/m.bitt}
[ -n "${MODEL:-}" ] || $bitt init --out "$model" --dim 256 --layers 8 --vocab 16384 --packed --seed 1 2>/dev/null

bench() {  # name, then bench flags
  local name=$1; shift
  $bitt bench --model "$model" --runs "$runs" --json "$@" | sed "s/^{/{\"name\":\"$name\",/" >> "$dir/results.jsonl"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  for t in 1 2; do
    bench "packed best, int8 lm_head, ${t}T" --threads $t --lm-head int8 --contexts none
    bench "packed best, f32 lm_head, ${t}T" --threads $t --lm-head f32 --contexts none
    bench "packed avx2 (maddubs), int8 lm_head, ${t}T" --threads $t --kernels avx2 --lm-head int8 --contexts none
    bench "dense float32 baseline, ${t}T" --threads $t --dense-f32 --lm-head f32 --contexts none
  done
  bench "scalar reference, int8 lm_head, 1T" --threads 1 --kernels scalar --lm-head int8 --contexts none
  bench "scalar reference, f32 lm_head, 1T" --threads 1 --kernels scalar --lm-head f32 --contexts none
  bench "long context, packed best, int8 lm_head, 1T" --threads 1 --lm-head int8 --contexts 128,1k,8k,32k --gen-tokens 256
done

python3 - "$dir/results.jsonl" <<'PY'
import json, sys
from statistics import median
raw = [json.loads(l) for l in open(sys.argv[1])]
names = list(dict.fromkeys(r["name"] for r in raw))
rows = []
for n in names:  # medians over the rounds, field by field
    rs = [r for r in raw if r["name"] == n]
    m = dict(rs[0])
    for k in ("decode_tok_s", "prefill_tok_s", "peak_rss_bytes", "load_s", "rss_loaded_bytes", "rss_before_load_bytes", "rss_ready_bytes"):
        m[k] = median(r[k] for r in rs)
    m["contexts"] = [dict(c, decode_tok_s=median(r["contexts"][i]["decode_tok_s"] for r in rs),
                          rss_bytes=max(r["contexts"][i]["rss_bytes"] for r in rs))
                     for i, c in enumerate(rs[0]["contexts"])]
    m["rounds"] = len(rs)
    rows.append(m)
by = {r["name"]: r for r in rows}
first = rows[0]
print(f"\nmodel: D={first['config']['dim']} L={first['config']['layers']} V={first['config']['vocab']} "
      f"{first['config']['variant']}, {first['params']:,} params, .bitt v{first['bitt_version']} of "
      f"{first['model_bytes']/1e6:.1f} MB; prompt {first['prompt_tokens']} tokens, decode {first['gen_tokens']} tokens, "
      f"medians of {first['rounds']} rounds of {first['runs']} runs\n")
print(f"| configuration | kernels | threads | decode tok/s | prefill tok/s | prefill/decode | peak RSS MB |")
print(f"| --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    if r["contexts"]: continue
    print(f"| {r['name']} | {r['kernels']} | {r['threads']} | {r['decode_tok_s']:.0f} | {r['prefill_tok_s']:.0f} | "
          f"{r['prefill_tok_s']/r['decode_tok_s']:.1f} | {r['peak_rss_bytes']/1e6:.1f} |")
best = by["packed best, int8 lm_head, 1T"]
def ratio(a, b, key="decode_tok_s"): return by[a][key] / by[b][key]
print("\nsingle-thread decode ratios:")
print(f"  packed best int8 / dense float32: {ratio('packed best, int8 lm_head, 1T', 'dense float32 baseline, 1T'):.2f}x")
print(f"  packed best f32  / dense float32: {ratio('packed best, f32 lm_head, 1T', 'dense float32 baseline, 1T'):.2f}x")
print(f"  packed best int8 / scalar int8:   {ratio('packed best, int8 lm_head, 1T', 'scalar reference, int8 lm_head, 1T'):.2f}x")
print(f"  packed best int8 / scalar f32:    {ratio('packed best, int8 lm_head, 1T', 'scalar reference, f32 lm_head, 1T'):.2f}x")
print(f"  2 threads / 1 thread (best int8): {ratio('packed best, int8 lm_head, 2T', 'packed best, int8 lm_head, 1T'):.2f}x")
lc = by["long context, packed best, int8 lm_head, 1T"]
print("\n| context | decode tok/s | RSS MB |")
print("| --- | --- | --- |")
for c in lc["contexts"]:
    print(f"| {c['context']} | {c['decode_tok_s']:.0f} | {c['rss_bytes']/1e6:.1f} |")
c0, cN = lc["contexts"][0], lc["contexts"][-1]
print(f"\ncontext {cN['context']} vs {c0['context']}: decode {cN['decode_tok_s']/c0['decode_tok_s']:.3f}x, "
      f"RSS {cN['rss_bytes']/c0['rss_bytes']:.3f}x")
print(f"load: {best['load_s']*1e3:.0f} ms for a {best['model_bytes']/1e6:.1f} MB file; RSS grows by "
      f"{(best['rss_loaded_bytes']-best['rss_before_load_bytes'])/1e6:.1f} MB on load, "
      f"{best['rss_ready_bytes']/1e6:.1f} MB once prepared, peak {best['peak_rss_bytes']/1e6:.1f} MB")
PY
