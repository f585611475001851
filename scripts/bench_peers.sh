#!/usr/bin/env bash
# bench_peers.sh: Bit-TTT against llama.cpp (TQ2_0, Q4_0, F16) and llama2.c (float32) on
# random-weight models of one shape (D 256, 8 layers, 4 heads, FFN 1,024, vocab 16,384),
# measured side by side, the engines taking turns round by round; figures are medians over rounds.
#
# Usage: bash scripts/bench_peers.sh LLAMA_CPP_BUILD_DIR LLAMA2C_DIR [--runs N]
#   LLAMA_CPP_BUILD_DIR  a llama.cpp CMake build with bin/llama-bench, bin/llama-quantize, bin/libllama.so
#                        (its source tree is read from CMakeCache.txt, for include/llama.h)
#   LLAMA2C_DIR          a llama2.c checkout with run.c built as `run` (gcc -Ofast -march=native) and,
#                        for 2 threads, `runomp` (the same with -fopenmp); built here if missing
#   --runs N             rounds (default 3)
# Environment: OUT (folder for models and raw JSON; default a new /tmp folder, kept),
#   DEPTH_FORMATS (llama.cpp formats measured at depth, default "TQ2_0 Q4_0 F16"),
#   DEPTH_T2 (those of them also measured at depth with 2 threads; default none: see below),
#   LLAMA2C_LONG_THREADS (thread counts for llama2.c's 16k run, default 1) and
#   LLAMA2C_LONG_ROUNDS (rounds that make it, default 1): one 16k run of llama2.c takes about
#   6 minutes on one core, so later rounds run it to 4,300 tokens (4k figure) only.
#   On a machine whose second core is busy, the peers' 2-thread builds (ggml's thread pool,
#   OpenMP) slow to a crawl (about 10 tok/s), so at 2 threads llama2.c runs a 600-token prompt and
#   llama.cpp no depth run.
#
# What is run, each round:
#   ours      build/bitt bench --dim 256 --layers 8 --heads 4 --vocab 16384 --threads T --json
#             --contexts 4k,16k --runs 3 (T = 1, 2), and --dense-f32 (float32 baseline, T = 1, --runs 1)
#   llama.cpp llama-bench -m X.gguf -t T -p 512 -n 128 -r 3 -o json (X = TQ2_0, Q4_0, F16, and TQ2_0
#             with F16 token_embd/output like our .bitt v2); this llama.cpp has no depth option
#             (-d), so decode at 4k and 16k comes from tools/llama_depth.c (ours, on llama.h: fills
#             the KV cache to each depth in batches of 512, then times 128 single-token decodes)
#   llama2.c  tools/peer_models.py --time-llama2c: run.c on a prompt of 16,513 one-byte tokens;
#             its prefill is token by token with the same forward as decode, and it flushes one
#             piece per step, so the step times come from its output (run.c is not modified)
#   peak RSS  bitt and llama_depth report getrusage's; llama-bench under /usr/bin/time -v;
#             llama2.c from the wrapper's RUSAGE_CHILDREN
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
LLB=$(cd "$1" && pwd)
L2C=$(cd "$2" && pwd)
shift 2
rounds=3
while [ $# -gt 0 ]; do
    case $1 in
        --runs) rounds=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ "$rounds" -ge 1 ] || { echo "--runs must be >= 1" >&2; exit 2; }
cd "$(dirname "$0")/.."
root=$(pwd)
py=/usr/bin/python3
[ -x $py ] || py=python3
out=${OUT:-$(mktemp -d /tmp/bench_peers.XXXXXX)}
mkdir -p "$out"
depth_t2=${DEPTH_T2:-}
depth_formats=${DEPTH_FORMATS:-TQ2_0 Q4_0 F16}
depths=${DEPTHS:-4096,16384}   # SMOKE=1: a quick check of the plumbing (1k context, short llama2.c run)
l2c_long=${LLAMA2C_LONG_THREADS:-1}
l2c_short=4300
l2c_long_rounds=${LLAMA2C_LONG_ROUNDS:-1}
if [ "${SMOKE:-0}" = 1 ]; then depths=1024; l2c_long=""; l2c_short=600; fi
echo "bench_peers: raw figures in $out" >&2

# --- builds ---
if [ ! -x build/bitt ]; then
    cmake --preset native >&2
    nice -n 10 cmake --build --preset native -j1 --target bitt >&2
fi
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$LLB/CMakeCache.txt")
for t in llama-bench llama-quantize; do
    [ -x "$LLB/bin/$t" ] || nice -n 10 cmake --build "$LLB" -j1 --target $t >&2
done
if [ ! -x "$out/llama_depth" ]; then
    cc -O2 -I "$src/include" -I "$src/ggml/include" tools/llama_depth.c -L "$LLB/bin" -lllama \
        -Wl,-rpath,"$LLB/bin" -o "$out/llama_depth"
fi
[ -x "$L2C/run" ] || (cd "$L2C" && gcc -Ofast -march=native -o run run.c -lm)
[ -x "$L2C/runomp" ] || (cd "$L2C" && gcc -Ofast -march=native -fopenmp -o runomp run.c -lm)

# --- models ---
m=$out/models
if [ ! -f "$m/model-f32.gguf" ]; then
    $py tools/peer_models.py --out "$m" --dim 256 --layers 8 --heads 4 --kv-heads 4 --ffn 1024 --vocab 16384 >&2
    $py tools/peer_models.py --check "$m/model-f32.gguf" >"$m/check.txt"
fi
for q in TQ2_0 Q4_0 F16; do
    [ -f "$m/model-$q.gguf" ] || "$LLB/bin/llama-quantize" "$m/model-f32.gguf" "$m/model-$q.gguf" $q \
        >"$m/quantize-$q.log" 2>&1 || { echo "llama-quantize $q failed:" >&2; tail -5 "$m/quantize-$q.log" >&2; }
done
[ -f "$m/model-TQ2_0e16.gguf" ] || "$LLB/bin/llama-quantize" --token-embedding-type f16 --output-tensor-type f16 \
    "$m/model-f32.gguf" "$m/model-TQ2_0e16.gguf" TQ2_0 >"$m/quantize-TQ2_0e16.log" 2>&1 || true
formats=""
for q in TQ2_0 TQ2_0e16 Q4_0 F16; do [ -f "$m/model-$q.gguf" ] && formats="$formats $q"; done

# --- rounds ---
raw=$out/raw.jsonl
: >"$raw"
tag() { sed "s/^{/{\"engine\":\"$1\",\"format\":\"$2\",\"threads\":$3,\"round\":$r,/"; }
for r in $(seq 1 "$rounds"); do
    echo "round $r of $rounds ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    echo "{\"engine\":\"load\",\"round\":$r,\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$raw"
    for t in 1 2; do
        build/bitt bench --dim 256 --layers 8 --heads 4 --vocab 16384 --threads $t --json --contexts "$depths" \
            --runs 3 2>/dev/null | tag bitt "ternary v2" $t >>"$raw"
        for q in $formats; do
            /usr/bin/time -v -o "$out/time.txt" "$LLB/bin/llama-bench" -m "$m/model-$q.gguf" -t $t -p 512 -n 128 \
                -r 3 -o json 2>/dev/null >"$out/lb.json"
            rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time.txt")
            $py -c 'import json,sys; a=json.load(open(sys.argv[1])); p=[x for x in a if x["n_prompt"]][0]; g=[x for x in a if x["n_gen"]][0]
print(json.dumps({"prefill_tok_s":p["avg_ts"],"decode_tok_s":g["avg_ts"],"model_bytes":p["model_size"],"peak_rss_bytes":int(sys.argv[2])*1024,"commit":p["build_commit"]}))' \
                "$out/lb.json" "$rss" | tag llama.cpp $q $t >>"$raw"
            if [[ " $depth_formats " == *" $q "* ]] && { [ $t = 1 ] || [[ " $depth_t2 " == *" $q "* ]]; }; then
                "$out/llama_depth" "$m/model-$q.gguf" $t "$depths" 128 | tag llama.cpp-depth $q $t >>"$raw"
            fi
        done
        bin=$L2C/run
        [ $t = 1 ] || bin=$L2C/runomp
        n=$l2c_short
        [ $t = 1 ] || n=600
        [[ " $l2c_long " == *" $t "* && " $l2c_long_rounds " == *" $r "* ]] && n=$((16384 + 129))
        $py tools/peer_models.py --time-llama2c "$bin" "$m/model.bin" "$m/tokenizer.bin" --prompt-tokens $n \
            --threads $t | tag llama2.c f32 $t >>"$raw"
    done
    build/bitt bench --dim 256 --layers 8 --heads 4 --vocab 16384 --threads 1 --json --contexts "$depths" \
        --runs 1 --dense-f32 2>/dev/null | tag bitt "dense f32" 1 >>"$raw"
done

# --- table ---
$py - "$raw" "$m" "$m/model.bin" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
mdir = sys.argv[2]
med = lambda xs: statistics.median(xs) if xs else None
def figs(engine, fmt, t):
    sel = [r for r in rows if r.get("engine") == engine and r.get("format") == fmt and r.get("threads") == t]
    out = {}
    for k in ("prefill_tok_s", "decode_tok_s", "peak_rss_bytes"):
        out[k] = med([r[k] for r in sel if r.get(k) is not None])
    for c in (4096, 16384):
        out[c] = med([x["decode_tok_s"] for r in sel for x in r.get("contexts", []) if x["context"] == c and x["decode_tok_s"]])
        out["rss%d" % c] = med([x["rss_bytes"] for r in sel for x in r.get("contexts", []) if x["context"] == c and "rss_bytes" in x])
    out["n"] = len(sel)
    out["bytes"] = sel[0].get("model_bytes") if sel else None
    return out
lines = []
def row(name, fmt, size, t, f, rss16):
    g = lambda v: "—" if v is None else ("%.0f" % v)
    mb = lambda v: "—" if v is None else ("%.0f MB" % (v / 1e6))
    lines.append((name, fmt, t, f))
    print("| %s | %s | %s | %d | %s | %s | %s | %s | %s / %s |" % (name, fmt, size, t, g(f["prefill_tok_s"]),
          g(f["decode_tok_s"]), g(f[4096]), g(f[16384]), mb(f["peak_rss_bytes"]), mb(rss16)))
print("| engine | format | file | threads | prefill tok/s (512) | decode tok/s | decode at 4k | decode at 16k | peak RSS (short / 16k) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
mbs = lambda b: "%.1f MB" % (b / 1e6)
ours = {}
for t in (1, 2):
    f = figs("bitt", "ternary v2", t)
    ours[t] = f
    row("Bit-TTT", "ternary (.bitt v2, F16 embed)", mbs(f["bytes"]) if f["bytes"] else "—", t, f, f["peak_rss_bytes"])
f = figs("bitt", "dense f32", 1)
row("Bit-TTT --dense-f32", "float32 in memory", "—", 1, f, f["peak_rss_bytes"])
peers = []
names = {"TQ2_0": "TQ2_0 (Q4_K embed, Q6_K output)", "TQ2_0e16": "TQ2_0 (F16 embed, F16 output)",
         "Q4_0": "Q4_0 (Q6_K output)", "F16": "F16"}
for q in ("TQ2_0", "TQ2_0e16", "Q4_0", "F16"):
    for t in (1, 2):
        a, d = figs("llama.cpp", q, t), figs("llama.cpp-depth", q, t)
        if not a["n"]:
            continue
        a[4096], a[16384] = d[4096], d[16384]
        size = os.path.getsize(os.path.join(mdir, "model-%s.gguf" % q))
        row("llama.cpp", names[q], mbs(size), t, a, d["peak_rss_bytes"])
        peers.append(("llama.cpp " + q, t, a))
for t in (1, 2):
    f = figs("llama2.c", "f32", t)
    if f["n"]:
        row("llama2.c" + (" (OpenMP)" if t == 2 else ""), "float32", mbs(os.path.getsize(sys.argv[3])), t, f,
            f["peak_rss_bytes"] if f[16384] else None)
        peers.append(("llama2.c", t, f))
print()
print("Ratios, Bit-TTT ternary / peer at the same thread count (> 1: we are faster):")
print()
print("| peer | threads | prefill | decode | decode at 4k | decode at 16k |")
print("|---|---:|---:|---:|---:|---:|")
ratio = lambda a, b: "—" if a is None or b is None else "%.2f" % (a / b)
for name, t, f in peers:
    o = ours[t]
    print("| %s | %d | %s | %s | %s | %s |" % (name, t, ratio(o["prefill_tok_s"], f["prefill_tok_s"]),
          ratio(o["decode_tok_s"], f["decode_tok_s"]), ratio(o[4096], f[4096]), ratio(o[16384], f[16384])))
loads = [r["loadavg"] for r in rows if r.get("engine") == "load"]
print()
print("medians over %d rounds; load average at the start of each round: %s" % (len(loads), "; ".join(loads)))
PY
