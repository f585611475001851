#!/usr/bin/env bash
# cli_bench: `bitt bench` measures a given model or a random one of given
# dims: --json has the SPEC 5 keys with sane values, one entry per context
# asked, the kernels and threads asked for, the dense float32 baseline and
# the scalar path run too; bad flags fail with a clear message.
# Usage: bash bench.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

small=(--dim 64 --layers 2 --vocab 300 --prompt-tokens 40 --gen-tokens 8 --runs 2)

run_ok "$BITT" bench "${small[@]}" --contexts 16,100 --threads 1 --json
cp out b.json
[[ $(wc -l <b.json) -eq 1 ]] || fail "bench --json printed more than one line"
jcheck b.json 'all(k in d for k in ("prefill_tok_s", "decode_tok_s", "peak_rss_bytes", "threads"))'
jcheck b.json 'd["prefill_tok_s"] > 0 and d["decode_tok_s"] > 0 and d["threads"] == 1'
jcheck b.json 'd["peak_rss_bytes"] >= d["rss_ready_bytes"] > 0'
jcheck b.json 'd["bitt_version"] == 2 and d["config"]["dim"] == 64 and d["config"]["vocab"] == 300'
jcheck b.json '[c["context"] for c in d["contexts"]] == [16, 100]'
jcheck b.json 'all(c["decode_tok_s"] > 0 and c["rss_bytes"] > 0 for c in d["contexts"])'
jcheck b.json 'd["model_bytes"] > 0 and d["load_s"] >= 0'
jcheck b.json '[t["threads"] for t in d["by_threads"]] == [1] and d["by_threads"][0]["decode_tok_s"] == d["decode_tok_s"]'
jcheck b.json 'd["intermediate_dim"] == 256'
ok

# --thread-counts: prefill and decode at each count, the contexts at the first
run_ok "$BITT" bench "${small[@]}" --contexts 16 --thread-counts 1,2 --json
cp out t.json
jcheck t.json '[t["threads"] for t in d["by_threads"]] == [1, 2] and d["threads"] == 1'
jcheck t.json 'all(t["prefill_tok_s"] > 0 and t["decode_tok_s"] > 0 for t in d["by_threads"])'
jcheck t.json 'len(d["contexts"]) == 1'
ok
# the random model has I8 embeddings (as convert --packed writes), or F16 when asked
run_ok "$BITT" bench "${small[@]}" --contexts none --threads 1 --json --embed f16
cp out f.json
jcheck f.json 'd["model_bytes"] > 0 and d["lm_head"] == "f32"'
jcheck b.json 'd["lm_head"] == "int8"'
python3 -c 'import json, sys; a, b = (json.load(open(f)) for f in sys.argv[1:]); sys.exit(a["model_bytes"] >= b["model_bytes"])' \
    b.json f.json || fail "the I8 random model is not smaller than the F16 one"
ok

# a given model file; the text report names the phases
run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 300
run_ok "$BITT" bench --model m.bitt --prompt-tokens 20 --gen-tokens 4 --runs 1 --contexts none --threads 1
grep -qE "^1 thread: +prefill +[0-9.]+ tok/s" out || fail "no prefill line in the text report"
grep -qE "decode +[0-9.]+ tok/s" out || fail "no decode figure in the text report"
grep -q "bitt v1" out || fail "a v1 file should be reported as v1"
ok

# the baselines and the other backends run through the same code
for extra in "--dense-f32" "--kernels scalar" "--lm-head int8"; do
    # shellcheck disable=SC2086
    run_ok "$BITT" bench --model m.bitt --prompt-tokens 20 --gen-tokens 4 --runs 1 --contexts none --json $extra
    cp out x.json
    jcheck x.json 'd["decode_tok_s"] > 0'
done
jcheck x.json 'd["lm_head"] == "int8"'
run_ok "$BITT" bench --model m.bitt --prompt-tokens 20 --gen-tokens 4 --runs 1 --contexts none --json --dense-f32
cp out d.json
jcheck d.json 'd["kernels"] == "dense-f32"'
run_ok "$BITT" bench --model m.bitt --prompt-tokens 20 --gen-tokens 4 --runs 1 --contexts none --json --kernels scalar
cp out s.json
jcheck s.json 'd["kernels"] == "scalar"'

# --contend: busy-loop processes beside the measurement, all gone afterwards
run_ok "$BITT" bench --model m.bitt --prompt-tokens 20 --gen-tokens 4 --runs 1 --contexts none --json --contend 2
cp out c.json
jcheck c.json 'd["contend"] == 2 and d["decode_tok_s"] > 0'
pgrep -P $$ -f "bitt bench" >/dev/null && fail "--contend left a busy-loop process behind"
ok
expect_fail "bad contend" "contend" "$BITT" bench --model m.bitt --contend -1

# bad input
expect_fail "missing model" "m2.bitt|no such|cannot" "$BITT" bench --model m2.bitt --runs 1
expect_fail "bad contexts" "contexts" "$BITT" bench --model m.bitt --contexts 12,x
expect_fail "zero runs" "runs" "$BITT" bench --model m.bitt --runs 0
expect_fail "unknown kernels" "kernels" "$BITT" bench --model m.bitt --kernels nope
expect_fail "model and dims" "either" "$BITT" bench --model m.bitt --dim 64
expect_fail "bad lm-head" "lm-head" "$BITT" bench --model m.bitt --lm-head f16
expect_fail "bad thread counts" "thread-counts" "$BITT" bench --model m.bitt --thread-counts 1,x
expect_fail "zero thread count" "thread-counts" "$BITT" bench --model m.bitt --thread-counts 0
expect_fail "threads and counts" "either" "$BITT" bench --model m.bitt --threads 1 --thread-counts 1,2
expect_fail "embed of a given model" "either" "$BITT" bench --model m.bitt --embed f16
expect_fail "bad embed" "f16 or i8" "$BITT" bench --embed bf16 --dim 64 --layers 2 --vocab 300
finish
