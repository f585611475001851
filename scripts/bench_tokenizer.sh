#!/usr/bin/env bash
# bench_tokenizer.sh: speed of tokenizer training and of encoding corpora.
# On the TinyStories training slices (read where they lie, never copied):
# `bitt tokenizer train` for a 4,096- and a 16,384-id vocabulary (wall
# seconds, median of 3 runs) and `bitt prepare` with the 16,384 tokenizer
# (single-threaded; MB/s of input over the whole command's wall time, and
# over the encoder's own time as prepare reports it; median of 5 runs).
# Builds build/bitt first if it is missing.
#
# usage: bash scripts/bench_tokenizer.sh
# env:   BITT=path/to/bitt                  (default build/bitt)
#        BENCH_TOKENIZER_TEXT="a.txt b.txt"  (default ../shared/data/tinystories/train-*.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
bitt=${BITT:-./build/bitt}
if [[ ! -x $bitt ]]; then
    if [[ -n ${BITT:-} ]]; then
        echo "bench_tokenizer: BITT=$bitt is not an executable" >&2
        exit 1
    fi
    cmake --preset native >/dev/null && cmake --build --preset native >/dev/null
fi
# shellcheck disable=SC2206
texts=(${BENCH_TOKENIZER_TEXT:-../shared/data/tinystories/train-*.txt})
for f in "${texts[@]}"; do
    [[ -r $f ]] || { echo "bench_tokenizer: cannot read $f (set BENCH_TOKENIZER_TEXT)" >&2; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

python3 - "$bitt" "$dir" "${texts[@]}" <<'PY'
import json, os, re, statistics, subprocess, sys, time
bitt, work, texts = sys.argv[1], sys.argv[2], sys.argv[3:]
size = sum(os.path.getsize(f) for f in texts)

def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode:
        sys.exit("bench_tokenizer: failed: %s\n%s" % (" ".join(cmd), p.stderr))
    return dt, p.stderr

rows = []
for vocab in (4096, 16384):
    out = os.path.join(work, "t%d.json" % vocab)
    secs = [timed([bitt, "tokenizer", "train", "--input", *texts, "--vocab", str(vocab), "--out", out, "--quiet"])[0]
            for _ in range(3)]
    ids = len(json.load(open(out))["model"]["vocab"])
    note = "" if ids == vocab else " (all the pairs this text has)"
    rows.append(("train --vocab %d" % vocab, "%.3f s" % statistics.median(secs),
                 "%d ids%s; runs %s" % (ids, note, ", ".join("%.3f" % s for s in secs))))

tok = os.path.join(work, "t16384.json")
walls, encs = [], []
for _ in range(5):
    dt, err = timed([bitt, "prepare", "--tokenizer", tok, "--input", *texts, "--out", os.path.join(work, "t.bin")])
    m = re.search(r"encoding ([0-9.]+) MB/s", err)
    walls.append(size / 1e6 / dt)
    encs.append(float(m.group(1)) if m else float("nan"))
side = json.load(open(os.path.join(work, "t.bin.json")))
rows.append(("prepare (whole command)", "%.1f MB/s" % statistics.median(walls),
             "%d tokens, %.2f bytes/token; runs %s" % (side["token_count"], side["text_bytes"] / side["token_count"],
                                                       ", ".join("%.1f" % w for w in walls))))
rows.append(("prepare (encoder only)", "%.1f MB/s" % statistics.median(encs),
             "runs %s" % ", ".join("%.1f" % e for e in encs)))

print("bitt tokenizer benchmark: %s (%.2f MB), 1 thread, medians" % (" + ".join(os.path.basename(f) for f in texts),
                                                                   size / 1e6))
w0 = max(len(r[0]) for r in rows)
w1 = max(len(r[1]) for r in rows)
print("| %-*s | %-*s | %s |" % (w0, "what", w1, "median", "notes"))
print("|-%s-|-%s-|-%s-|" % ("-" * w0, "-" * w1, "-" * 5))
for r in rows:
    print("| %-*s | %-*s | %s |" % (w0, r[0], w1, r[1], r[2]))
PY
