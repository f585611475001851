#!/usr/bin/env bash
# cli_init: `bitt init` writes .bitt v1, .bitt v2 (--packed) and checkpoint
# directories with the requested config; `bitt inspect --json` reports them.
# Usage: bash init.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

SMALL=(--dim 64 --layers 2 --vocab 512)

# --- the three formats --------------------------------------------------------
run_ok "$BITT" init --out v1.bitt "${SMALL[@]}"
[[ -s v1.bitt ]] || fail "init did not write v1.bitt"
[[ $(head -c 4 v1.bitt) == BITT ]] || fail "v1.bitt does not start with the magic BITT"
ok

run_ok "$BITT" init --out v2.bitt "${SMALL[@]}" --packed
[[ -s v2.bitt ]] || fail "init --packed did not write v2.bitt"
[[ $(head -c 4 v2.bitt) == BITT ]] || fail "v2.bitt does not start with the magic BITT"
ok

run_ok "$BITT" init --out ckpt "${SMALL[@]}"
[[ -d ckpt ]] || fail "init did not create the checkpoint directory"
for f in config.json tokenizer.json model.safetensors; do
    [[ -s ckpt/$f ]] || fail "checkpoint directory lacks $f"
done
ok
# nothing half-written is left beside the outputs (written to a temporary name, then renamed)
extra=$(ls -A | grep -Ev '^(v1\.bitt|v2\.bitt|ckpt|out|err)$' || true)
[[ -z $extra ]] || fail "init left stray files: $extra"
ok
# --embed i8: int8 embeddings (default f16 for init; convert --packed defaults to i8)
run_ok "$BITT" init --out v2i8.bitt "${SMALL[@]}" --packed --embed i8
run_ok "$BITT" inspect v2i8.bitt --json
jcheck out '[t["dtype"] for t in d["tensors"] if t["name"] in ("embed.weight", "lm_head.weight")] == ["I8", "I8"]'
run_ok "$BITT" inspect v2.bitt --json
jcheck out '[t["dtype"] for t in d["tensors"] if t["name"] in ("embed.weight", "lm_head.weight")] == ["F16", "F16"]'
(($(stat -c %s v2i8.bitt) < $(stat -c %s v2.bitt))) || fail "init --embed i8 is not smaller than F16"
expect_fail "--embed without --packed" 'needs --packed' "$BITT" init --out e.bitt "${SMALL[@]}" --embed i8
expect_fail "--embed of another form" 'f16 or i8' "$BITT" init --out e.bitt "${SMALL[@]}" --packed --embed bf16
[[ ! -e e.bitt ]] || fail "a refused --embed wrote e.bitt"
ok

size1=$(stat -c %s v1.bitt)
size2=$(stat -c %s v2.bitt)
# ternary weights in 2 bits and f16 embeddings: well under half the float32 file
((size2 * 2 < size1)) || fail "v2 ($size2 bytes) is not less than half of v1 ($size1 bytes)"
ok

# same seed twice: byte-identical files
run_ok "$BITT" init --out again.bitt "${SMALL[@]}"
cmp -s v1.bitt again.bitt || fail "init with the same seed wrote different files"
ok

# --- inspect --json -----------------------------------------------------------
run_ok "$BITT" inspect v1.bitt --json
cp out v1.json
run_ok "$BITT" inspect v2.bitt --json
cp out v2.json
run_ok "$BITT" inspect ckpt --json
cp out dir.json

jcheck v1.json 'd["bitt_version"] == 1'
jcheck v2.json 'd["bitt_version"] == 2'
jcheck dir.json 'd["bitt_version"] == 0'
for j in v1.json v2.json dir.json; do
    jcheck $j 'd["config"]["hidden_dim"] == 64 and d["config"]["num_layers"] == 2 and d["config"]["vocab_size"] == 512'
    jcheck $j 'd["config"]["ttt_variant"] == "linear"'
    jcheck $j 'isinstance(d["params"], int) and d["params"] > 0'
done
jcheck v1.json "d['file_bytes'] == $size1"
jcheck v2.json "d['file_bytes'] == $size2"
# same weights in all three: same parameter count and fingerprint
p1=$(jget v1.json params)
p2=$(jget v2.json params)
p0=$(jget dir.json params)
[[ $p2 == "$p1" && $p0 == "$p1" ]] || fail "params differ between v1, v2 and the directory"
ok
f1=$(jget v1.json fingerprint)
f2=$(jget v2.json fingerprint)
f0=$(jget dir.json fingerprint)
[[ $f2 == "$f1" && $f0 == "$f1" ]] ||
    fail "fingerprint differs between v1, v2 and the directory made with the same seed"
ok
# config.json on disk agrees with inspect
jcheck ckpt/config.json 'd["hidden_dim"] == 64 and d["num_layers"] == 2 and d["vocab_size"] == 512 and d["ttt_variant"] == "linear"'

# a different seed gives different weights
run_ok "$BITT" init --out seed9.bitt "${SMALL[@]}" --seed 9
run_ok "$BITT" inspect seed9.bitt --json
f9=$(jget out fingerprint)
[[ $f9 != "$f1" ]] || fail "--seed 9 gives the same fingerprint as --seed 1"
ok

# other shapes are honoured
run_ok "$BITT" init --out shape.bitt --dim 128 --layers 3 --heads 2 --vocab 300
run_ok "$BITT" inspect shape.bitt --json
jcheck out 'd["config"]["hidden_dim"] == 128 and d["config"]["num_layers"] == 3 and d["config"]["num_heads"] == 2 and d["config"]["vocab_size"] == 300'
jcheck out 'd["params"] > '"$p1"

# --- variants -----------------------------------------------------------------
run_ok "$BITT" init --out seed.bitt "${SMALL[@]}" --variant seed
run_ok "$BITT" inspect seed.bitt --json
jcheck out 'd["config"]["ttt_variant"] == "seed"'
jcheck out '"layers.0.ttt.down.weight" in [t["name"] for t in d["tensors"]]'
jcheck out '"layers.0.ttt.q.weight" not in [t["name"] for t in d["tensors"]]'
run_ok "$BITT" generate --model seed.bitt --prompt "Hello" --max-tokens 4 --temp 0 --json
jcheck out '0 <= d["tokens"] <= 4'

run_ok "$BITT" init --out none.bitt "${SMALL[@]}" --variant none
run_ok "$BITT" inspect none.bitt --json
jcheck out 'd["config"]["ttt_variant"] == "none"'
jcheck out 'not any(".ttt." in t["name"] for t in d["tensors"])'
jcheck out 'd["params"] < '"$p1"
run_ok "$BITT" generate --model none.bitt --prompt "Hello" --max-tokens 4 --temp 0 --json
jcheck out '0 <= d["tokens"] <= 4'

run_ok "$BITT" init --out seeddir "${SMALL[@]}" --variant seed
jcheck seeddir/config.json 'd["ttt_variant"] == "seed"'
run_ok "$BITT" init --out seedp.bitt "${SMALL[@]}" --variant seed --packed
run_ok "$BITT" inspect seedp.bitt --json
jcheck out 'd["bitt_version"] == 2 and d["config"]["ttt_variant"] == "seed"'

# --- the forget gate (SPEC 1.2.1): on by default for linear, off on request,
# never for the other mixers, off (and not combinable) with a fixed decay
run_ok "$BITT" init --out gate.bitt "${SMALL[@]}"
run_ok "$BITT" inspect gate.bitt --json
jcheck out 'd["config"]["forget_gate"] is True'
jcheck out 'sum(t["name"].endswith(".ttt.forget.weight") or t["name"].endswith(".ttt.forget.bias") for t in d["tensors"]) == 2 * d["config"]["num_layers"]'
run_ok "$BITT" init --out nogate.bitt "${SMALL[@]}" --forget-gate off
run_ok "$BITT" inspect nogate.bitt --json
jcheck out '"forget_gate" not in d["config"] and not any(".forget." in t["name"] for t in d["tensors"])'
run_ok "$BITT" init --out decay.bitt "${SMALL[@]}" --state-decay 0.9
run_ok "$BITT" inspect decay.bitt --json
jcheck out '"forget_gate" not in d["config"] and abs(d["config"]["state_decay"] - 0.9) < 1e-7'
run_ok "$BITT" init --out seedg.bitt "${SMALL[@]}" --variant seed
run_ok "$BITT" inspect seedg.bitt --json
jcheck out '"forget_gate" not in d["config"]'
run_ok "$BITT" init --out gate2.bitt "${SMALL[@]}" --packed
run_ok "$BITT" generate --model gate2.bitt --prompt "Hello there" --max-tokens 6 --temp 0 --json
jcheck out '0 <= d["tokens"] <= 6'
expect_fail "gate with a fixed decay" 'not combined' "$BITT" init --out gd.bitt "${SMALL[@]}" --forget-gate on --state-decay 0.9
expect_fail "gate on the seed mixer" 'linear' "$BITT" init --out gs.bitt "${SMALL[@]}" --variant seed --forget-gate on
expect_fail "gate neither on nor off" 'on or off' "$BITT" init --out gx.bitt "${SMALL[@]}" --forget-gate yes
[[ ! -e gd.bitt && ! -e gs.bitt && ! -e gx.bitt ]] || fail "a refused --forget-gate left a file behind"

# --- --tokenizer: vocabulary taken from a tokenizer.json --------------------------
run_ok "$BITT" init --out v300 --dim 64 --layers 1 --vocab 300
run_ok "$BITT" init --out fromtok.bitt --dim 64 --layers 1 --tokenizer v300/tokenizer.json
run_ok "$BITT" inspect fromtok.bitt --json
jcheck out 'd["config"]["vocab_size"] == 300'

# --- refusals -----------------------------------------------------------------
expect_fail "unknown variant" 'variant' "$BITT" init --out bad.bitt "${SMALL[@]}" --variant bogus
[[ ! -e bad.bitt ]] || fail "a failed init left bad.bitt behind"
expect_fail "--packed to a directory" 'packed' "$BITT" init --out packeddir "${SMALL[@]}" --packed
[[ ! -e packeddir ]] || fail "a failed init --packed created the directory"
expect_fail "both --vocab and --tokenizer" 'tokenizer' "$BITT" init --out both.bitt --vocab 300 --tokenizer v300/tokenizer.json
expect_fail "missing --out" 'out' "$BITT" init "${SMALL[@]}"
expect_fail "heads not dividing dim" 'head' "$BITT" init --out h.bitt --dim 64 --layers 1 --vocab 512 --heads 3
expect_fail "state-decay above 1" 'state_decay' "$BITT" init --out d.bitt "${SMALL[@]}" --state-decay 1.5
expect_fail "state-decay zero" 'state_decay' "$BITT" init --out d.bitt "${SMALL[@]}" --state-decay 0
[[ ! -e d.bitt ]] || fail "a failed init left d.bitt behind"

finish
