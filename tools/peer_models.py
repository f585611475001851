#!/usr/bin/env python3
"""Random-weight transformer models for the peers we measure against (scripts/bench_peers.sh).

Writes one llama-style model (RMSNorm, multi-head attention with RoPE, SwiGLU FFN, untied
output matrix) in two containers, with the same weights in both:

  OUT/model.bin      llama2.c checkpoint (run.c's format: 7 int32 header, then float32
                     weights in run.c's order; negative vocab_size = untied classifier)
  OUT/tokenizer.bin  run.c tokenizer of `vocab` tokens: 0 "<unk>", 1 "<s>", 2 "</s>",
                     3 " ", 4 "a", then "t5" .. "t{V-1}" (so a prompt of N 'a' characters
                     is exactly BOS, " ", then N tokens, each printing one byte: the timing
                     wrapper below counts them)
  OUT/model-f32.gguf GGUF v3, architecture llama, all tensors F32, an SPM ("llama") vocabulary
                     of the same size (<unk>, <s>, </s>, 256 byte tokens <0x00>..<0xFF>,
                     then t259..), for llama-quantize to TQ2_0 / Q4_0 / F16

Only the Python 3 standard library (struct, array, random). Usage:

  peer_models.py --out DIR [--dim 256 --layers 8 --heads 4 --kv-heads 4 --ffn 1024
                 --vocab 16384 --seq-len 17408 --seed 42]
  peer_models.py --check FILE.gguf      re-read a GGUF header, print its metadata and tensors
  peer_models.py --time-llama2c RUN MODEL TOKENIZER --prompt-tokens N [--window W]
                 [--threads T]          run llama2.c once on a prompt of N 'a' tokens
                 and print JSON: per-step wall times from its flushed output (run.c prints and
                 flushes one piece per forward step), summarised as prefill tok/s over the
                 first 512 positions, decode tok/s over positions 1..W, and the decode rate in
                 windows of W steps starting at 4096 and 16384 (when the prompt reaches them).
                 llama2.c's prompt steps are the same forward pass as its decode steps, minus
                 sampling, which is what llama-bench and bitt bench time too.
"""

import argparse
import array
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time

# ---- GGUF (v3) -------------------------------------------------------------------------------

GGUF_UINT32, GGUF_INT32, GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY, GGUF_UINT64 = 4, 5, 6, 7, 8, 9, 10
GGML_TYPE_F32 = 0
ALIGN = 32
TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K",
              11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 34: "TQ1_0", 35: "TQ2_0"}


def gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, vtype, value):
    out = gguf_str(key) + struct.pack("<I", vtype)
    if vtype == GGUF_STRING:
        return out + gguf_str(value)
    if vtype == GGUF_ARRAY:
        etype, items = value
        out += struct.pack("<IQ", etype, len(items))
        if etype == GGUF_STRING:
            return out + b"".join(gguf_str(x) for x in items)
        fmt = {GGUF_INT32: "i", GGUF_FLOAT32: "f", GGUF_UINT32: "I"}[etype]
        return out + array.array(fmt, items).tobytes()
    fmt = {GGUF_UINT32: "<I", GGUF_INT32: "<i", GGUF_FLOAT32: "<f", GGUF_BOOL: "<?", GGUF_UINT64: "<Q"}[vtype]
    return out + struct.pack(fmt, value)


def spm_vocab(n):
    """<unk>, <s>, </s>, the 256 byte tokens, then plain tokens: a valid SPM vocabulary."""
    tokens, types = ["<unk>", "<s>", "</s>"], [2, 3, 3]  # UNKNOWN, CONTROL, CONTROL
    for b in range(256):
        tokens.append("<0x%02X>" % b)
        types.append(6)  # BYTE
    i = len(tokens)
    while len(tokens) < n:
        tokens.append("t%d" % i)
        types.append(1)  # NORMAL
        i += 1
    tokens, types = tokens[:n], types[:n]
    scores = [0.0] * 3 + [0.0] * 256 + [-float(k) for k in range(n - 259)]
    return tokens, scores[:n], types


def write_gguf(path, cfg, tensors):
    """tensors: list of (name, ne list (ne[0] = row length), array('f'))."""
    d, L, H, KV, F, V = cfg["dim"], cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["ffn"], cfg["vocab"]
    tokens, scores, types = spm_vocab(V)
    kvs = [
        gguf_kv("general.architecture", GGUF_STRING, "llama"),
        gguf_kv("general.name", GGUF_STRING, "bitt-peer-random-%dx%dx%d" % (d, L, V)),
        gguf_kv("general.file_type", GGUF_UINT32, 0),  # ALL_F32
        gguf_kv("general.alignment", GGUF_UINT32, ALIGN),
        gguf_kv("llama.context_length", GGUF_UINT32, cfg["seq_len"]),
        gguf_kv("llama.embedding_length", GGUF_UINT32, d),
        gguf_kv("llama.block_count", GGUF_UINT32, L),
        gguf_kv("llama.feed_forward_length", GGUF_UINT32, F),
        gguf_kv("llama.attention.head_count", GGUF_UINT32, H),
        gguf_kv("llama.attention.head_count_kv", GGUF_UINT32, KV),
        gguf_kv("llama.rope.dimension_count", GGUF_UINT32, d // H),
        gguf_kv("llama.rope.freq_base", GGUF_FLOAT32, 10000.0),
        gguf_kv("llama.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, 1e-5),
        gguf_kv("llama.vocab_size", GGUF_UINT32, V),
        gguf_kv("tokenizer.ggml.model", GGUF_STRING, "llama"),
        gguf_kv("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, tokens)),
        gguf_kv("tokenizer.ggml.scores", GGUF_ARRAY, (GGUF_FLOAT32, scores)),
        gguf_kv("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_INT32, types)),
        gguf_kv("tokenizer.ggml.bos_token_id", GGUF_UINT32, 1),
        gguf_kv("tokenizer.ggml.eos_token_id", GGUF_UINT32, 2),
        gguf_kv("tokenizer.ggml.unknown_token_id", GGUF_UINT32, 0),
        gguf_kv("tokenizer.ggml.add_bos_token", GGUF_BOOL, True),
        gguf_kv("tokenizer.ggml.add_eos_token", GGUF_BOOL, False),
    ]
    infos, offset = [], 0
    for name, ne, data in tensors:
        n = 1
        for x in ne:
            n *= x
        assert n == len(data), name
        infos.append(gguf_str(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
                     + struct.pack("<IQ", GGML_TYPE_F32, offset))
        offset += -(-n * 4 // ALIGN) * ALIGN
    with open(path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)))
        for kv in kvs:
            f.write(kv)
        for info in infos:
            f.write(info)
        f.write(b"\0" * (-f.tell() % ALIGN))
        start = f.tell()
        for _, _, data in tensors:
            f.write(data.tobytes())
            f.write(b"\0" * (-(f.tell() - start) % ALIGN))


def read_gguf_header(path):
    """Parse a GGUF file's header: (version, metadata dict with arrays summarised, tensor infos)."""
    with open(path, "rb") as f:
        buf = f.read(64 << 20)  # a header is far smaller; the data after it is not read
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == GGUF_STRING:
            return string()
        if t == GGUF_ARRAY:
            et, n = take("I"), take("Q")
            items = [value(et) for _ in range(n)]
            return {"array_of": et, "n": n, "first": items[:5]}
        return take(scalar[t])

    if buf[:4] != b"GGUF":
        raise ValueError("%s: not a GGUF file (magic %r)" % (path, buf[:4]))
    pos = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    tensors = []
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        ne = [take("Q") for _ in range(nd)]
        t, off = take("I"), take("Q")
        tensors.append((name, ne, TYPE_NAMES.get(t, str(t)), off))
    return version, meta, tensors


def check(path):
    version, meta, tensors = read_gguf_header(path)
    print("%s: GGUF v%d, %d metadata keys, %d tensors" % (path, version, len(meta), len(tensors)))
    for k, v in meta.items():
        print("  %s = %s" % (k, v))
    counts = {}
    for name, ne, t, off in tensors:
        counts[t] = counts.get(t, 0) + 1
    for name, ne, t, off in tensors[:12]:
        print("  tensor %-24s %-14s %-6s offset %d" % (name, "x".join(map(str, ne)), t, off))
    if len(tensors) > 12:
        print("  ... (%d more)" % (len(tensors) - 12))
    print("  tensor types: %s" % ", ".join("%s x%d" % kv for kv in sorted(counts.items())))
    return version == 3 and meta.get("general.architecture") == "llama"


# ---- llama2.c --------------------------------------------------------------------------------

def write_llama2c(out_dir, cfg, w):
    d, L, H, KV, F, V, T = (cfg[k] for k in ("dim", "layers", "heads", "kv_heads", "ffn", "vocab", "seq_len"))
    head = d // H
    with open(os.path.join(out_dir, "model.bin"), "wb") as f:
        f.write(struct.pack("<7i", d, F, L, H, KV, -V, T))  # -V: untied classifier (wcls at the end)
        f.write(w["token_embd"].tobytes())
        for key in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate",
                    "ffn_down", "ffn_up"):  # run.c: wq wk wv wo, rms_ffn, w1 (gate) w2 (down) w3 (up)
            for l in range(L):
                f.write(w["blk.%d.%s" % (l, key)].tobytes())
        f.write(w["output_norm"].tobytes())
        f.write(b"\0" * (T * head * 4))  # the unused freq_cis_real and freq_cis_imag run.c skips
        f.write(w["output"].tobytes())
    toks = ["<unk>", "\n<s>\n", "\n</s>\n", " ", "a"] + ["t%d" % i for i in range(5, V)]
    toks = toks[:V]
    with open(os.path.join(out_dir, "tokenizer.bin"), "wb") as f:
        f.write(struct.pack("<i", max(len(t.encode()) for t in toks)))
        for i, t in enumerate(toks):
            b = t.encode()
            f.write(struct.pack("<fi", -float(i), len(b)) + b)


def uniform(n, scale, rng):
    r = rng.random
    return array.array("f", [(r() * 2.0 - 1.0) * scale for _ in range(n)])


def make(args):
    cfg = dict(dim=args.dim, layers=args.layers, heads=args.heads, kv_heads=args.kv_heads, ffn=args.ffn,
               vocab=args.vocab, seq_len=args.seq_len)
    d, L, KV, F, V = args.dim, args.layers, args.kv_heads, args.ffn, args.vocab
    kv_dim = d // args.heads * KV
    rng = random.Random(args.seed)
    s = args.scale
    w, order = {}, []

    def add(name, ne, data):
        w[name] = data
        order.append((name + ".weight", ne, data))

    add("token_embd", [d, V], uniform(d * V, s, rng))
    for l in range(L):
        p = "blk.%d." % l
        add(p + "attn_norm", [d], array.array("f", [1.0] * d))
        add(p + "attn_q", [d, d], uniform(d * d, s, rng))
        add(p + "attn_k", [d, kv_dim], uniform(d * kv_dim, s, rng))
        add(p + "attn_v", [d, kv_dim], uniform(d * kv_dim, s, rng))
        add(p + "attn_output", [d, d], uniform(d * d, s, rng))
        add(p + "ffn_norm", [d], array.array("f", [1.0] * d))
        add(p + "ffn_gate", [d, F], uniform(d * F, s, rng))
        add(p + "ffn_up", [d, F], uniform(d * F, s, rng))
        add(p + "ffn_down", [F, d], uniform(F * d, s, rng))
    add("output_norm", [d], array.array("f", [1.0] * d))
    add("output", [d, V], uniform(d * V, s, rng))
    os.makedirs(args.out, exist_ok=True)
    write_gguf(os.path.join(args.out, "model-f32.gguf"), cfg, order)
    write_llama2c(args.out, cfg, w)
    n = sum(len(x) for _, _, x in order)
    print("wrote %s/{model-f32.gguf,model.bin,tokenizer.bin}: D=%d L=%d heads=%d kv=%d FFN=%d V=%d seq_len=%d, "
          "%d parameters" % (args.out, d, L, args.heads, KV, F, V, args.seq_len, n))


# ---- llama2.c timing wrapper -------------------------------------------------------------------

def time_llama2c(args):
    run, model, tok = args.time_llama2c
    n = args.prompt_tokens
    steps = n + 2  # BOS, the dummy-prefix " ", then n 'a' tokens; run.c samples once at the end
    cmd = [run, model, "-z", tok, "-n", str(steps), "-s", "42", "-t", "1.0", "-i", "a" * n]
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stamps = []  # stamps[i] = time the output of forward step i+1 arrived (step 0's piece is empty)
    fd = p.stdout.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        now = time.perf_counter() - t0
        stamps.extend([now] * chunk.count(b"a"))
    err = p.stderr.read().decode(errors="replace")
    rc = p.wait()
    if rc != 0:
        sys.exit("llama2.c failed (%d): %s" % (rc, err[-500:]))
    # stamps[k] is when the step at position k+1 finished, k >= 0 (the prompt's 'a' tokens);
    # the final sampled token may add one more 'a' stamp, harmless.
    W = args.window

    def rate(first, count):  # tok/s over steps at positions first+1 .. first+count
        if first + count >= len(stamps) or first < 0:
            return None
        return count / (stamps[first + count] - stamps[first])

    out = {"prompt_tokens": n, "steps_seen": len(stamps), "wall_s": round(time.perf_counter() - t0, 3),
           "prefill_tok_s": rate(0, 511), "decode_tok_s": rate(0, W),
           "contexts": [{"context": c, "decode_tok_s": rate(c, W)} for c in (4096, 16384) if c + W < len(stamps)],
           "peak_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
           "model_bytes": os.path.getsize(model),
           "run_c_says": err.strip().splitlines()[-1] if err.strip() else ""}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--seq-len", type=int, default=17408, help="16k context plus room for a window")
    ap.add_argument("--scale", type=float, default=0.02, help="weights uniform in +-scale; norms 1")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--check", metavar="GGUF")
    ap.add_argument("--time-llama2c", nargs=3, metavar=("RUN", "MODEL", "TOKENIZER"))
    ap.add_argument("--prompt-tokens", type=int, default=16384 + 129)
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS for an OpenMP build")
    args = ap.parse_args()
    if args.check:
        sys.exit(0 if check(args.check) else 1)
    if args.time_llama2c:
        return time_llama2c(args)
    if not args.out:
        ap.error("--out DIR (or --check / --time-llama2c)")
    if args.dim % args.heads or args.heads % args.kv_heads:
        ap.error("dim must divide by heads, heads by kv heads")
    make(args)


if __name__ == "__main__":
    main()
