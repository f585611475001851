#!/usr/bin/env bash
# cli_convert: `bitt convert` round trip v1 -> v2 (--packed) -> directory -> v1
# keeps the model: same fingerprint and config, same greedy text and eval loss
# after packing; conversions without packing are lossless; bad requests fail.
# Usage: bash convert.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out a.bitt --dim 64 --layers 2 --vocab 512 --seed 1
run_ok "$BITT" convert a.bitt b.bitt --packed
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
run_ok "$BITT" convert b.bitt b_again.bitt --packed
cmp -s b.bitt b_again.bitt || fail "v2 -> v2 is not byte-identical"
ok
# packing what was already packed (via float) gives the same v2 file
run_ok "$BITT" convert d.bitt d_packed.bitt --packed
cmp -s b.bitt d_packed.bitt || fail "v1 (from v2) -> v2 differs from the original v2"
ok
# a variant seed model converts too
run_ok "$BITT" init --out s.bitt --dim 64 --layers 2 --vocab 512 --variant seed
run_ok "$BITT" convert s.bitt s_dir
run_ok "$BITT" convert s_dir s2.bitt --packed
run_ok "$BITT" inspect s2.bitt --json
jcheck out 'd["bitt_version"] == 2 and d["config"]["ttt_variant"] == "seed"'

# refusals
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
