#!/usr/bin/env bash
# cli_kill_writes: what bitt writes survives SIGKILL at any moment (SPEC 3.1,
# issue 19 item 5). Each writer runs over an existing target and is killed
# with kill -9 after a delay, for a range of delays from before it starts
# writing to after it is done; the target must then be the old file intact or
# the new one whole, byte for byte (every writer here is deterministic, so
# "whole" is "equal to a clean run's output"):
#   bitt convert IN OUT.bitt --packed   (file_write_atomic: OUT.tmp + rename)
#   bitt convert IN DIR                 (a checkpoint directory: DIR.tmp-PID + two renames)
#   bitt generate --state-out F         (a state file: F.tmp + rename)
#   bitt train --save-interval 1        (RUN/checkpoint: fsync + the swap with checkpoint.old;
#                                        what --resume recovers is checked, and that it resumes)
# The deterministic kills between the renames are cli_train_resume's; this
# test takes the moments as they come. Usage: bash kill_writes.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

N=${KILL_WRITES_N:-12}   # kill delays per writer

# milliseconds a command takes (a clean run)
duration() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || fail "clean run failed: $*"
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
# the i-th of N delays spread over 0 .. 1.3 x the clean run's time, in seconds for sleep
delay_of() {
    local ms=$(( $2 * 13 * $1 / (10 * N) ))
    printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}
# runs the command in the background and kills it with SIGKILL after $1 s
kill_after() {
    local d=$1 pid
    shift
    "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$d"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
same_dir() { cmp -s "$1/config.json" "$2/config.json" && cmp -s "$1/tokenizer.json" "$2/tokenizer.json" &&
             cmp -s "$1/model.safetensors" "$2/model.safetensors"; }

run_ok "$BITT" init --out a.bitt --dim 128 --layers 4 --vocab 4096 --seed 1
run_ok "$BITT" init --out b.bitt --dim 128 --layers 4 --vocab 4096 --seed 2

# --- bitt convert to a .bitt v2 file ------------------------------------------
run_ok "$BITT" convert a.bitt old.bitt --packed
run_ok "$BITT" convert b.bitt new.bitt --packed
T=$(duration "$BITT" convert b.bitt t.bitt --packed)
n_old=0 n_new=0
for ((i = 0; i < N; i++)); do
    cp old.bitt out.bitt
    kill_after "$(delay_of "$i" "$T")" "$BITT" convert b.bitt out.bitt --packed
    if cmp -s out.bitt old.bitt; then n_old=$((n_old + 1))
    elif cmp -s out.bitt new.bitt; then n_new=$((n_new + 1))
    else fail "convert --packed killed after $(delay_of "$i" "$T") s: out.bitt is neither the old file nor the new one"; fi
    ok
done
echo "convert --packed (clean run ${T} ms): $N kills, old file $n_old times, new file $n_new times"

# --- bitt convert to a checkpoint directory ------------------------------------
run_ok "$BITT" convert a.bitt old_ck
run_ok "$BITT" convert b.bitt new_ck
T=$(duration "$BITT" convert b.bitt t_ck)
n_old=0 n_new=0
for ((i = 0; i < N; i++)); do
    rm -rf ck ck.tmp-* ck.old-*
    cp -r old_ck ck
    kill_after "$(delay_of "$i" "$T")" "$BITT" convert b.bitt ck
    if [[ -d ck ]] && same_dir ck old_ck; then n_old=$((n_old + 1))
    elif [[ -d ck ]] && same_dir ck new_ck; then n_new=$((n_new + 1))
    else fail "convert to a directory killed after $(delay_of "$i" "$T") s: ck is neither the old checkpoint nor the new one ($(ls -d ck* | tr '\n' ' '))"; fi
    ok
done
echo "convert to a checkpoint directory (clean run ${T} ms): $N kills, old $n_old times, new $n_new times"

# --- bitt generate --state-out ---------------------------------------------------
GEN=(generate --model b.bitt --max-tokens 24 --seed 1 --threads 1)
run_ok "$BITT" "${GEN[@]}" --prompt "Once upon a time" --state-out old.state
run_ok "$BITT" "${GEN[@]}" --prompt "A cat sat" --state-out new.state
cmp -s old.state new.state && fail "the two prompts give the same state"
T=$(duration "$BITT" "${GEN[@]}" --prompt "A cat sat" --state-out t.state)
n_old=0 n_new=0
for ((i = 0; i < N; i++)); do
    cp old.state out.state
    kill_after "$(delay_of "$i" "$T")" "$BITT" "${GEN[@]}" --prompt "A cat sat" --state-out out.state
    if cmp -s out.state old.state; then n_old=$((n_old + 1))
    elif cmp -s out.state new.state; then n_new=$((n_new + 1))
    else fail "generate --state-out killed after $(delay_of "$i" "$T") s: the state file is neither the old one nor the new one"; fi
    ok
done
echo "generate --state-out (clean run ${T} ms): $N kills, old state $n_old times, new state $n_new times"

# --- bitt train, a checkpoint every step ----------------------------------------------
run_ok "$BITT" corpus --out train.txt --stories 60 --seed 1
run_ok "$BITT" tokenizer train --input train.txt --vocab 300 --out tok.json --quiet
run_ok "$BITT" prepare --tokenizer tok.json --input train.txt --out train.bin --quiet
TRAIN=(train --data train.bin --tokenizer tok.json --dim 32 --layers 1 --context 16 --batch 2 --steps 30
       --warmup 2 --save-interval 1 --eval-interval 0 --threads 1 --device cpu)
T=$(duration "$BITT" "${TRAIN[@]}" --out t_run)
n_ck=0 n_old=0 n_none=0
for ((i = 0; i < N; i++)); do
    rm -rf run
    kill_after "$(delay_of "$i" "$T")" "$BITT" "${TRAIN[@]}" --out run
    if [[ -d run/checkpoint ]]; then
        "$BITT" inspect run/checkpoint >/dev/null 2>err || fail "train killed after $(delay_of "$i" "$T") s: run/checkpoint does not load: $(cat err)"
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' run/checkpoint/state.json ||
            fail "train killed after $(delay_of "$i" "$T") s: run/checkpoint/state.json is not whole"
        n_ck=$((n_ck + 1))
    elif [[ -d run/checkpoint.old ]]; then  # killed between the renames: --resume puts it back
        "$BITT" inspect run/checkpoint.old >/dev/null 2>err || fail "run/checkpoint.old does not load: $(cat err)"
        n_old=$((n_old + 1))
    else
        n_none=$((n_none + 1))                # killed before the first checkpoint
    fi
    ok
    if [[ -d run/checkpoint || -d run/checkpoint.old ]]; then
        run_ok "$BITT" train --out run --resume --device cpu --threads 1
        "$BITT" inspect run/checkpoint >/dev/null 2>&1 || fail "the resumed run's checkpoint does not load"
        ok
    fi
done
echo "train (clean run ${T} ms): $N kills, a checkpoint $n_ck times, only checkpoint.old $n_old times, none yet $n_none times"
finish
