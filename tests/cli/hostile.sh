#!/usr/bin/env bash
# cli_hostile: hostile inputs at the command line (SPEC 4), each a small file
# made here (see the comment of each section): non-zero exit, no crash, no
# hang, and a message naming the file and the problem.
# Usage: bash hostile.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512
run_ok "$BITT" corpus --out c.txt --stories 30 --seed 3
run_ok "$BITT" tokenizer train --input c.txt --vocab 300 --out t.json --quiet
run_ok "$BITT" prepare --tokenizer t.json --input c.txt --out d.bin --quiet
printf 'Some text to read.\n' >t.txt

# --- FIFOs: refused at once, never waited on -----------------------------
# (each command used to block in open() forever; expect_fail counts a hang as a failure)
mkfifo fifo.bitt fifo.json fifo.txt fifo.state
expect_fail "FIFO model (inspect)" 'fifo\.bitt.*not a regular file' "$BITT" inspect fifo.bitt
expect_fail "FIFO model (generate)" 'fifo\.bitt.*not a regular file' "$BITT" generate --model fifo.bitt --prompt hi
expect_fail "FIFO state (generate --state-in)" 'fifo\.state.*not a regular file' \
    "$BITT" generate --model m.bitt --prompt hi --max-tokens 1 --state-in fifo.state
expect_fail "FIFO tokenizer (tokenize)" 'fifo\.json.*not a regular file' "$BITT" tokenize --tokenizer fifo.json --text hi
expect_fail "FIFO text (tokenize --input)" 'fifo\.txt.*not a regular file' "$BITT" tokenize --tokenizer t.json --input fifo.txt
expect_fail "FIFO text (eval --text)" 'fifo\.txt.*not a regular file' "$BITT" eval --model m.bitt --text fifo.txt
expect_fail "FIFO corpus (prepare --input)" 'fifo\.txt.*not a regular file' \
    "$BITT" prepare --tokenizer t.json --input fifo.txt --out p.bin
expect_fail "FIFO corpus (tokenizer train --input)" 'fifo\.txt.*not a regular file' \
    "$BITT" tokenizer train --input fifo.txt --vocab 300 --out t2.json
mkfifo t3.json.tmp p.bin.tmp
expect_fail "FIFO at the temporary output (tokenizer train)" 't3\.json\.tmp.*not a regular file' \
    "$BITT" tokenizer train --input c.txt --vocab 300 --out t3.json --quiet
expect_fail "FIFO at the temporary output (prepare)" 'p\.bin\.tmp.*not a regular file' \
    "$BITT" prepare --tokenizer t.json --input c.txt --out p.bin --quiet
# a token file whose sidecar is fine but which is itself a FIFO
cp d.bin.json e.bin.json
mkfifo e.bin
expect_fail "FIFO token file (train --data)" 'e\.bin.*not a regular file' \
    "$BITT" train --data e.bin --tokenizer t.json --out run --dim 32 --layers 1 --steps 1 --context 16 --batch 1
[[ -p fifo.bitt && -p e.bin ]] || fail "a FIFO was replaced"
ok

# --- a config that asks for terabytes, in a 25 KB file ---------------------
# (it used to reserve the weights first and fail with "out of memory")
python3 - m.bitt big.bitt <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
(h,) = struct.unpack("<Q", b[4:12])
hdr = b[12:12 + h].decode()
for old, new in [('"hidden_dim":64', '"hidden_dim":65536'), ('"num_layers":2', '"num_layers":1024'),
                 ('"intermediate_dim":256', '"intermediate_dim":1048576')]:
    assert old in hdr, old
    hdr = hdr.replace(old, new)
hdr = hdr.encode()
open(sys.argv[2], "wb").write(b[:4] + struct.pack("<Q", len(hdr)) + hdr + b[12 + h:])
EOF
start=$(date +%s)
expect_fail "a config its tensors do not back" "big\.bitt.*embed\.weight.*shape \[512, 64\], expected \[512, 65536\]" \
    "$BITT" inspect big.bitt
(( $(date +%s) - start < 10 )) || fail "refusing big.bitt took $(( $(date +%s) - start )) s"
ok

# --- NaN weights: they used to load ---------------------------------------
python3 - m.bitt nan.bitt <<'EOF'
import json, struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
(h,) = struct.unpack("<Q", b[4:12])
st = 12 + h
(n,) = struct.unpack("<Q", b[st:st + 8])
t = json.loads(b[st + 8:st + 8 + n])["norm_f.weight"]
at = st + 8 + n + t["data_offsets"][0]
b[at:at + 4] = struct.pack("<f", float("nan"))
open(sys.argv[2], "wb").write(b)
EOF
expect_fail "NaN in norm_f.weight" "nan\.bitt.*norm_f\.weight.*NaN" "$BITT" inspect nan.bitt

# --- a state with token_count 2^63 - 1: it loaded, the next token overflowed
run_ok "$BITT" generate --model m.bitt --prompt "Once upon" --max-tokens 0 --temp 0 --state-out s.state
python3 - s.state same.state huge.state <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", b[:8])
hdr = json.loads(b[8:8 + n])
count = int(hdr["__metadata__"]["token_count"])
# the largest int64 with the same position in the mini-batch (16), so that only the count is wrong
for path, c in [(sys.argv[2], count), (sys.argv[3], (2**63 - 1) - ((2**63 - 1 - count) % 16))]:
    hdr["__metadata__"]["token_count"] = str(c)
    text = json.dumps(hdr, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + b[8 + n:])
EOF
run_ok "$BITT" generate --model m.bitt --prompt " a" --max-tokens 1 --temp 0 --state-in same.state
expect_fail "token_count near 2^63" "huge\.state.*token_count" \
    "$BITT" generate --model m.bitt --prompt " a" --max-tokens 1 --temp 0 --state-in huge.state

# --- dense-f32 kernels with int8 activations: a NULL kernel entry crashed ----
BITT_KERNELS=dense-f32 run_ok "$BITT" generate --model m.bitt --prompt "Once upon a time" --max-tokens 4 --temp 0
BITT_KERNELS=dense-f32 run_ok "$BITT" eval --model m.bitt --text t.txt --json
ok

# --- a recall answer key with an answer that is not a [start, end] pair ------
# (found by fuzz_recall_key: the -1 put in for a missing number was converted
# to an unsigned offset, undefined behaviour, before the error was returned)
printf 'Some text of the recall task.\n' >rk.txt
printf '%s' '{"format":"bitt-recall","tokenizer_fingerprint":"7d5d02655916079b","facts":2,"documents":[{"start":0,"end":6,"gap":0,"answers":[[]]}]}' >rk.txt.json
expect_fail "recall key: an answer that is not a pair" 'rk\.txt\.json.*answer 0' \
    "$BITT" eval --model m.bitt --text rk.txt --task recall

finish
