#!/usr/bin/env bash
# cli_convert: `bitt convert` round trip v1 -> v2 (--packed --embed f16) ->
# directory -> v1 keeps the model: same fingerprint and config, same greedy
# text and eval loss after packing; conversions without packing are lossless;
# --packed with int8 embeddings (the default) is one model with its F16 and
# float conversions, close to the float model; bad requests fail.
# Usage: bash convert.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out a.bitt --dim 64 --layers 2 --vocab 512 --seed 1
run_ok "$BITT" convert a.bitt b.bitt --packed --embed f16
run_ok "$BITT" convert b.bitt c
run_ok "$BITT" convert c d.bitt
for f in config.json tokenizer.json model.safetensors; do
    [[ -s c/$f ]] || fail "convert to a directory did not write c/$f"
done
ok

# formats
declare -A want_version=([a.bitt]=1 [b.bitt]=2 [c]=0 [d.bitt]=1)
for m in a.bitt b.bitt c d.bitt; do
    run_ok "$BITT" inspect "$m" --json
    cp out "inspect_$m.json"
    jcheck out "d['bitt_version'] == ${want_version[$m]}"
done

# one model throughout: fingerprint and config identical in all four
python3 - inspect_a.bitt.json inspect_b.bitt.json inspect_c.json inspect_d.bitt.json <<'EOF' || fail "inspect differs across formats"
import json, sys
ds = [json.load(open(p)) for p in sys.argv[1:]]
for p, d in zip(sys.argv[2:], ds[1:]):
    if d["fingerprint"] != ds[0]["fingerprint"]:
        sys.exit("fingerprint of %s %r != %r of a.bitt" % (p, d["fingerprint"], ds[0]["fingerprint"]))
    if d["config"] != ds[0]["config"]:
        sys.exit("config of %s %r != %r of a.bitt" % (p, d["config"], ds[0]["config"]))
    if d["params"] != ds[0]["params"]:
        sys.exit("params of %s %r != %r of a.bitt" % (p, d["params"], ds[0]["params"]))
EOF
ok
# (and the fingerprint does tell models apart)
run_ok "$BITT" init --out other.bitt --dim 64 --layers 2 --vocab 512 --seed 2
run_ok "$BITT" inspect other.bitt --json
fa=$(jget inspect_a.bitt.json fingerprint)
fo=$(jget out fingerprint)
[[ $fa != "$fo" ]] || fail "models with seeds 1 and 2 have the same fingerprint"
ok
# the packed file is the small one
((2 * $(stat -c %s b.bitt) < $(stat -c %s a.bitt))) || fail "b.bitt (v2) is not under half of a.bitt (v1)"
ok

# greedy generation: identical once packed (v2, the directory and the final v1)
for m in b.bitt c d.bitt; do
    run_ok "$BITT" generate --model "$m" --prompt "Once upon a time" --max-tokens 16 --temp 0 --json
    cp out "gen_$m.json"
done
jcheck gen_b.bitt.json 'd["tokens"] >= 1'
tb=$(jget gen_b.bitt.json text)
tc=$(jget gen_c.json text)
td=$(jget gen_d.bitt.json text)
[[ $tc == "$tb" ]] || fail "greedy text of the directory differs from the v2 file: $tc vs $tb"
ok
[[ $td == "$tb" ]] || fail "greedy text of the final v1 differs from the v2 file: $td vs $tb"
ok
# and the same eval loss
printf 'A short paragraph about rivers, mountains and the weather in spring.\nIt rained twice.\n' >t.txt
for m in b.bitt c d.bitt; do
    run_ok "$BITT" eval --model "$m" --text t.txt --json
    cp out "eval_$m.json"
done
lb=$(jget eval_b.bitt.json loss)
jcheck eval_c.json "abs(d['loss'] - $lb) <= 1e-5 * $lb"
jcheck eval_d.bitt.json "abs(d['loss'] - $lb) <= 1e-5 * $lb"

# conversions that do not pack are lossless (latent float weights kept)
run_ok "$BITT" convert a.bitt a_copy.bitt
cmp -s a.bitt a_copy.bitt || fail "v1 -> v1 is not byte-identical"
ok
run_ok "$BITT" convert a.bitt a_dir
run_ok "$BITT" convert a_dir a_back.bitt
cmp -s a.bitt a_back.bitt || fail "v1 -> directory -> v1 is not byte-identical"
ok
run_ok "$BITT" convert d.bitt d_dir
for f in config.json tokenizer.json model.safetensors; do
    cmp -s "c/$f" "d_dir/$f" || fail "directory -> v1 -> directory changed $f"
done
ok
run_ok "$BITT" convert b.bitt b_again.bitt --packed --embed f16
cmp -s b.bitt b_again.bitt || fail "v2 -> v2 is not byte-identical"
ok
# packing what was already packed (via float) gives the same v2 file
run_ok "$BITT" convert d.bitt d_packed.bitt --packed --embed f16
cmp -s b.bitt d_packed.bitt || fail "v1 (from v2) -> v2 differs from the original v2"
ok
# a variant seed model converts too
run_ok "$BITT" init --out s.bitt --dim 64 --layers 2 --vocab 512 --variant seed
run_ok "$BITT" convert s.bitt s_dir
run_ok "$BITT" convert s_dir s2.bitt --packed
run_ok "$BITT" inspect s2.bitt --json
jcheck out 'd["bitt_version"] == 2 and d["config"]["ttt_variant"] == "seed"'

# --packed writes int8 embeddings by default (SPEC 3.3: I8 [V, D] + NAME_row_scale F32 [V])
run_ok "$BITT" convert a.bitt i.bitt --packed
run_ok "$BITT" inspect i.bitt --json
cp out inspect_i.json
python3 - inspect_i.json <<'EOF' || fail "inspect of the I8 file"
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in d["tensors"]}
assert d["bitt_version"] == 2, d["bitt_version"]
for n in ("embed.weight", "lm_head.weight"):
    assert t[n]["dtype"] == "I8" and t[n]["shape"] == [512, 64], t[n]
    assert t[n]["bytes"] == 512 * 64, t[n]
    s = t[n + "_row_scale"]
    assert s["dtype"] == "F32" and s["shape"] == [512] and s["bytes"] == 512 * 4, s
EOF
ok
# smaller than F16 by 2 x (V*D*2 - (V*D + 4V)) bytes, give or take the headers
python3 -c "
import os, sys
f16, i8 = os.path.getsize('b.bitt'), os.path.getsize('i.bitt')
want = 2 * (512 * 64 - 4 * 512)
sys.exit(0 if abs((f16 - i8) - want) < 256 else 'F16 %d - I8 %d bytes = %d, expected about %d' % (f16, i8, f16 - i8, want))
" || fail "the I8 file is not the size it should be"
ok
# one model with its F16 and float conversions (fingerprint of f16(int8 * row_scale)); not the float model
run_ok "$BITT" convert i.bitt i_f16.bitt --packed --embed f16
run_ok "$BITT" convert i.bitt i_dir
for m in i_f16.bitt i_dir; do
    run_ok "$BITT" inspect "$m" --json
    [[ $(jget out fingerprint) == "$(jget inspect_i.json fingerprint)" ]] || fail "fingerprint of $m differs from i.bitt's"
done
jcheck out 'd["bitt_version"] == 0'
[[ $(jget inspect_i.json fingerprint) != "$(jget inspect_a.bitt.json fingerprint)" ]] || fail "I8 and float models share a fingerprint"
ok
# --embed i8 is the default; I8 -> I8 writes the same bytes
run_ok "$BITT" convert a.bitt i_explicit.bitt --packed --embed i8
cmp -s i.bitt i_explicit.bitt || fail "--embed i8 differs from the default"
run_ok "$BITT" convert i.bitt i_again.bitt --packed
cmp -s i.bitt i_again.bitt || fail "I8 v2 -> I8 v2 is not byte-identical"
ok
# dequantised (--lm-head f32), the I8 file is its float conversion: the same greedy text and loss
run_ok "$BITT" generate --model i.bitt --lm-head f32 --prompt "Once upon a time" --max-tokens 16 --temp 0 --json
ti=$(jget out text)
run_ok "$BITT" generate --model i_dir --prompt "Once upon a time" --max-tokens 16 --temp 0 --json
[[ $(jget out text) == "$ti" ]] || fail "greedy text of i.bitt --lm-head f32 differs from its float conversion"
run_ok "$BITT" eval --model i.bitt --lm-head f32 --text t.txt --json
li=$(jget out loss)
run_ok "$BITT" eval --model i_dir --text t.txt --json
jcheck out "abs(d['loss'] - $li) <= 1e-5 * $li"
# read from its int8 rows (the default), close to the float model
run_ok "$BITT" eval --model i.bitt --text t.txt --json
jcheck out "abs(d['loss'] - $lb) <= 0.02 * $lb"
ok

# refusals
expect_fail "--embed without --packed" 'needs --packed' "$BITT" convert a.bitt x.bitt --embed i8
expect_fail "--embed of another form" 'f16 or i8' "$BITT" convert a.bitt x.bitt --packed --embed f32
[[ ! -e x.bitt ]] || fail "a refused --embed wrote x.bitt"
expect_fail "--packed to a directory" 'packed' "$BITT" convert a.bitt packed_dir --packed
[[ ! -e packed_dir ]] || fail "a refused convert --packed created packed_dir"
ok
expect_fail "convert with one argument" 'IN|OUT|argument' "$BITT" convert a.bitt
expect_fail "convert with three arguments" 'unexpected|argument' "$BITT" convert a.bitt x.bitt y.bitt
expect_fail "convert a missing input" 'nothere\.bitt' "$BITT" convert nothere.bitt x.bitt
[[ ! -e x.bitt ]] || fail "a failed convert left x.bitt"
head -c 5000 a.bitt >trunc.bitt
expect_fail "convert a truncated input" 'trunc\.bitt' "$BITT" convert trunc.bitt y.bitt
[[ ! -e y.bitt ]] || fail "a failed convert left y.bitt"
ok
expect_fail "convert into a missing directory" 'nodir' "$BITT" convert a.bitt nodir/z.bitt

finish
