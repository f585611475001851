#!/usr/bin/env bash
# cli_roofline: tools/roofline.c (bitt_roofline, beside bitt in the build
# directory) measures the peaks, the bandwidth sweep, the hot loops and the
# model, and gives fractions of the roofline in (0, 1.5] (the rates are
# only checked to be measured: sanitizer builds run them far slower); bad flags fail.
# Skipped where it is not built (not x86-64).
# Usage: bash roofline.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
R="$(dirname "$BITT")/bitt_roofline"
if [[ ! -x $R ]]; then
    echo "$TEST_NAME: SKIP: bitt_roofline is not built here (x86-64 only)"
    exit 77
fi
run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512 --packed --embed i8
run_ok "$R" --model m.bitt --runs 1 --json --quick
cp out r.json
jcheck r.json 'd["peak_mac_s"]["avx2_maddubs"] > 1e6 and d["peak_cpu_mac_s"] >= d["peak_kernel_mac_s"] > 0'
jcheck r.json 'len(d["read_bytes_s"]) == 8 and all(b["bytes_s"] > 1e6 for b in d["read_bytes_s"])'
jcheck r.json 'len(d["loops"]) == 4 and all(l["mac_s"] > 0 and 0 < l["of_kernel_peak_mac"] for l in d["loops"])'
jcheck r.json 'd["decode_tok_s"] > 0 and 0 < d["decode_of_roofline"] <= 1.5 and 0 < d["prefill_of_roofline"] <= 1.5'
jcheck r.json 'd["decode_macs_per_token"] >= 2 * (4 * 64 * 64 + 3 * 64 * 256) + 512 * 64'
ok
expect_fail "no model" "usage" "$R"
expect_fail "missing model" "m2.bitt" "$R" --model m2.bitt
finish
