"""bitllama.py: an independent PyTorch implementation of Bit-Llama (SPEC 1 of
../shared/SPEC.md), written from the SPEC to check the C engine and trainer:
embedding, RMSNorm, BitLinear (BitNet b1.58, straight-through estimator),
SwiGLU, and the mixers `linear` (TTT-Linear, dual form over mini-batches and a
primal form for checking; the forget gate of SPEC 1.2.1 and the `state_decay`
extension of docs/TTT_MEMORY.md), `seed` and `none`. It reads the project's
files with no dependency beyond torch and numpy: checkpoint directories
(config.json + model.safetensors), .bitt v1 and v2 (SPEC 3.3) and token files
(src/data/token_file.h), and writes safetensors and checkpoint directories.

Shapes in comments: B sequences, T tokens, D hidden, I intermediate, V
vocabulary, H heads of f = D/H, b mini-batch, d = D/4 (seed). Losses in nats.

Library use:
    model = load_model("run/checkpoint", dtype=torch.float64, device="cpu")
    loss, seq_loss, state = model.loss(ids)            # ids: (B, T+1) long
    loss.backward(); grads = model.grads()              # {name: tensor}
    losses, state = carried_windows(model, [w1, w2])    # state carried (detached), as --carry-state

Command line (see --help): `grads` (one batch's loss and gradients to
safetensors, the counterpart of tests/tools/dump_grads.c), `logits` (the last
token's logits after reading ids, the counterpart of dump_logits.c).

Config numbers are used as written; the C engine keeps them as float32 (a
state_decay of 0.7 is 0.699999988 there), which alone moves float64
gradients by about 1e-7 relative.

Runs on torch 1.13 (CPU) and newer (CUDA); `compile=True` uses torch.compile
where it exists (torch >= 2)."""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

LN_EPS = 1e-6        # the inner LayerNorm of TTT-Linear (SPEC 1.2)
QUANT_EPS = 1e-6     # g + 1e-6 in the ternary rounding (SPEC 1.1)
ACT_FLOOR = 1e-5     # max(max|x|, 1e-5) in the int8 activation scale (SPEC 1.1)
NORM_EPS_SEED = 1e-6 # |u| + 1e-6 in the seed mixer (SPEC 1.3)


# --------------------------------------------------------------------------
# safetensors (SPEC 3.2): u64 LE header length N, N bytes of JSON, raw LE data
# --------------------------------------------------------------------------

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def parse_safetensors(buf, source="safetensors"):
    """bytes -> ({name: np.ndarray}, metadata dict). Every size is checked
    against the buffer before it is used."""
    if len(buf) < 8:
        raise ValueError(f"{source}: shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", buf, 0)
    if n > len(buf) - 8:
        raise ValueError(f"{source}: header length {n} exceeds the file ({len(buf)} bytes)")
    header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        dt, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if dt == "BF16":
            itemsize = 2
        elif dt in _ST_DTYPES:
            itemsize = np.dtype(_ST_DTYPES[dt]).itemsize
        else:
            raise ValueError(f"{source}: tensor '{name}' has unknown dtype {dt}")
        if not (0 <= begin <= end <= len(data)) or end - begin != count * itemsize:
            raise ValueError(f"{source}: tensor '{name}' has bad data_offsets [{begin}, {end}] for "
                             f"{dt} {shape} in {len(data)} data bytes")
        raw = bytes(data[begin:end])
        if dt == "BF16":  # the top half of a float32
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, _ST_DTYPES[dt]).copy()
        out[name] = arr.reshape(shape)
    return out, meta


def read_safetensors(path):
    with open(path, "rb") as f:
        return parse_safetensors(f.read(), path)


_NP_TO_ST = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<f2"): "F16",
             np.dtype("<i8"): "I64", np.dtype("<i4"): "I32", np.dtype("i1"): "I8", np.dtype("u1"): "U8"}


def safetensors_bytes(tensors, metadata=None):
    """{name: array-like} -> the bytes of a safetensors file (data 8-aligned)."""
    header, chunks, off = {}, [], 0
    for name, arr in tensors.items():
        if isinstance(arr, torch.Tensor):
            arr = arr.detach().cpu().numpy()
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        raw = arr.tobytes()
        header[name] = {"dtype": _NP_TO_ST[arr.dtype], "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_safetensors(path, tensors, metadata=None):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(safetensors_bytes(tensors, metadata))
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# token files (src/data/token_file.h): u16/u32 LE ids + TOKENS.bin.json
# --------------------------------------------------------------------------

def read_tokens(path):
    """-> (np.ndarray of int64 ids, sidecar dict)."""
    with open(path + ".json") as f:
        side = json.load(f)
    if side.get("format") != "bitt-tokens" or side.get("version") != 1:
        raise ValueError(f"{path}.json: not a bitt-tokens version 1 sidecar")
    dt = {"u16": "<u2", "u32": "<u4"}.get(side.get("dtype"))
    if dt is None:
        raise ValueError(f"{path}.json: dtype must be u16 or u32")
    ids = np.fromfile(path, dtype=dt)
    if ids.size != side["token_count"] or os.path.getsize(path) != ids.size * np.dtype(dt).itemsize:
        raise ValueError(f"{path}: {os.path.getsize(path)} bytes, the sidecar says {side['token_count']} tokens")
    if ids.size and int(ids.max()) >= side["vocab_size"]:
        raise ValueError(f"{path}: an id >= vocab_size {side['vocab_size']}")
    return ids.astype(np.int64), side


# --------------------------------------------------------------------------
# config and the tensor table (SPEC 3.1)
# --------------------------------------------------------------------------

def normalize_config(raw):
    """config.json (full or the seed's 4-key form) -> a dict with every key."""
    c = dict(raw)
    for key in ("vocab_size", "hidden_dim", "num_layers"):
        if not isinstance(c.get(key), int):
            raise ValueError(f"config needs an integer {key}")
    D = c["hidden_dim"]
    if "ttt_variant" not in c:  # the seed's form
        c["ttt_variant"] = "seed"
        c.setdefault("act_quant", "none")
    if c["ttt_variant"] not in ("linear", "seed", "none"):
        raise ValueError(f"unknown ttt_variant {c['ttt_variant']!r}")
    c.setdefault("intermediate_dim", 4 * D)
    c.setdefault("num_heads", D // 64 if D >= 64 and D % 64 == 0 else 1)
    c.setdefault("mini_batch", 16)
    c.setdefault("base_lr", 1.0)
    c.setdefault("inner_lr", 0.1)
    c.setdefault("act_quant", "int8")
    c.setdefault("rms_eps", 1e-5)
    c.setdefault("state_decay", 1.0)
    c.setdefault("forget_gate", False)
    if c["act_quant"] not in ("int8", "none"):
        raise ValueError("config act_quant must be \"int8\" or \"none\"")
    if D % c["num_heads"] != 0 or D % 4 != 0:
        raise ValueError(f"hidden_dim {D} must be a multiple of 4 and of num_heads {c['num_heads']}")
    if not 0.0 < c["state_decay"] <= 1.0:
        raise ValueError(f"state_decay {c['state_decay']} must be in (0, 1]")
    if c["forget_gate"] and c["state_decay"] != 1.0:
        raise ValueError("forget_gate and state_decay < 1 are not combined (SPEC 1.2.1)")
    return c


def param_shapes(c):
    """{name: (shape, is_bitlinear)} in the SPEC 3.1 order."""
    V, D, L, I = c["vocab_size"], c["hidden_dim"], c["num_layers"], c["intermediate_dim"]
    H = c["num_heads"]
    f, d = D // H, D // 4
    out = {"embed.weight": ((V, D), False)}
    for i in range(L):
        p = f"layers.{i}."
        if c["ttt_variant"] != "none":  # SPEC 1.4: a `none` block is RMSNorm + SwiGLU only
            out[p + "norm1.weight"] = ((D,), False)
        if c["ttt_variant"] == "linear":
            for n in "qkvo":
                out[p + f"ttt.{n}.weight"] = ((D, D), True)
            out[p + "ttt.lr.weight"] = ((H, D), False)
            out[p + "ttt.lr.bias"] = ((H,), False)
            out[p + "ttt.W0"] = ((H, f, f), False)
            out[p + "ttt.b0"] = ((H, f), False)
            out[p + "ttt.ln.weight"] = ((H, f), False)
            out[p + "ttt.ln.bias"] = ((H, f), False)
            out[p + "ttt.post_norm.weight"] = ((D,), False)
            if c["forget_gate"]:
                out[p + "ttt.forget.weight"] = ((H, D), False)
                out[p + "ttt.forget.bias"] = ((H,), False)
        elif c["ttt_variant"] == "seed":
            out[p + "ttt.down.weight"] = ((d, D), True)
            out[p + "ttt.up.weight"] = ((D, d), True)
        out[p + "norm2.weight"] = ((D,), False)
        out[p + "mlp.gate_proj.weight"] = ((I, D), True)
        out[p + "mlp.up_proj.weight"] = ((I, D), True)
        out[p + "mlp.down_proj.weight"] = ((D, I), True)
    out["norm_f.weight"] = ((D,), False)
    out["lm_head.weight"] = ((V, D), False)
    return out


def decays(name, shape):
    """AdamW weight decay applies: matrices (projections, embeddings, gates, W0), not norms/biases."""
    return len(shape) >= 2 and ".ln." not in name and ".b0" not in name and "norm" not in name


def forget_bias_init(H):
    """SPEC 1.2.1: bias[h] = log(exp(1/tau_h) - 1), tau geometric 16 .. 16384 (one head: 1024)."""
    taus = [1024.0] if H == 1 else [16.0 * (1024.0 ** (h / (H - 1))) for h in range(H)]
    return np.array([math.log(math.expm1(1.0 / t)) for t in taus])


def init_params(c, seed=1):
    """SPEC 1.2 initialisation (the generator is torch's, not the C engine's)."""
    g = torch.Generator().manual_seed(seed)
    L = c["num_layers"]
    out = {}
    for name, (shape, bit) in param_shapes(c).items():
        if "norm" in name or ".ln.weight" in name:  # RMSNorm weights, inner LN scale
            t = torch.ones(shape, dtype=torch.float64)
        elif name.endswith((".b0", ".ln.bias", "lr.bias", "forget.weight")):
            t = torch.zeros(shape, dtype=torch.float64)
        elif name.endswith("forget.bias"):
            t = torch.tensor(forget_bias_init(shape[0]))
        else:
            t = torch.randn(shape, generator=g, dtype=torch.float64) * 0.02
            if name.endswith("ttt.o.weight") or name.endswith("down_proj.weight"):
                t = t / math.sqrt(2 * L)
        out[name] = t
    return out


# --------------------------------------------------------------------------
# model files: checkpoint directories and .bitt v1/v2 (SPEC 3.1, 3.3)
# --------------------------------------------------------------------------

def read_bitt(path):
    """-> (config dict, tokenizer object, {name: np.ndarray}, version)."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != b"BITT":
        raise ValueError(f"{path}: wrong magic (not a .bitt file)")
    (h,) = struct.unpack_from("<Q", buf, 4)
    if h > len(buf) - 12:
        raise ValueError(f"{path}: header length {h} exceeds the file")
    header = json.loads(buf[12:12 + h].decode("utf-8"))  # may end in spaces
    version = header.get("bitt_version", 1)
    if version not in (1, 2):
        raise ValueError(f"{path}: unsupported bitt_version {version}")
    tensors, _ = parse_safetensors(buf[12 + h:], path)
    return header["config"], header.get("tokenizer"), tensors, version


def unpack_ternary(packed, rows, cols, name="weight"):
    """U8 [rows, ceil(cols/4)] -> int8 [rows, cols]: weight j in byte j/4 at bits 2*(j%4), code w+1."""
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.shape != (rows, (cols + 3) // 4):
        raise ValueError(f"packed tensor '{name}' has shape {packed.shape}, expected {(rows, (cols + 3) // 4)}")
    codes = np.stack([(packed >> (2 * k)) & 3 for k in range(4)], axis=-1).reshape(rows, -1)[:, :cols]
    if (codes == 3).any():
        r, col = np.argwhere(codes == 3)[0]
        raise ValueError(f"packed tensor '{name}' holds the invalid code 3 at row {r}, column {col}")
    return codes.astype(np.int8) - 1


def read_model_files(path):
    """A checkpoint directory (or a run directory with checkpoint/) or a .bitt
    file -> (normalized config, tokenizer object or None, params, ternary, version):
    params {name: float64 np.ndarray} holds every tensor given in float form,
    ternary {name: (int8 Wt, float g)} the packed BitLinears of a v2 file."""
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "config.json")) and os.path.isdir(os.path.join(path, "checkpoint")):
            path = os.path.join(path, "checkpoint")
        with open(os.path.join(path, "config.json")) as f:
            raw = json.load(f)
        tok = None
        if os.path.exists(os.path.join(path, "tokenizer.json")):
            with open(os.path.join(path, "tokenizer.json")) as f:
                tok = json.load(f)
        tensors, _ = read_safetensors(os.path.join(path, "model.safetensors"))
        version = 0
    else:
        raw, tok, tensors, version = read_bitt(path)
    c = normalize_config(raw)
    params, ternary = {}, {}
    for name, (shape, bit) in param_shapes(c).items():
        if name not in tensors:
            raise ValueError(f"{path}: missing tensor '{name}'")
        t = tensors[name]
        if bit and t.dtype == np.uint8:  # v2: packed ternary + NAME_scale
            scale = tensors.get(name + "_scale")
            if scale is None or scale.size != 1:
                raise ValueError(f"{path}: packed '{name}' has no [1] '{name}_scale'")
            ternary[name] = (unpack_ternary(t, shape[0], shape[1], name), float(scale.reshape(-1)[0]))
            continue
        if t.dtype == np.int8:  # v2 embeddings: int8 * row_scale
            rs = tensors.get(name + "_row_scale")
            if rs is None or rs.shape != (shape[0],):
                raise ValueError(f"{path}: int8 '{name}' has no [{shape[0]}] '{name}_row_scale'")
            t = t.astype(np.float64) * rs.astype(np.float64)[:, None]
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{path}: tensor '{name}' has shape {list(t.shape)}, expected {list(shape)}")
        params[name] = t.astype(np.float64)
    return c, tok, params, ternary, version


def save_checkpoint(directory, config, params, tokenizer=None):
    """A checkpoint directory the C engine reads: config.json, model.safetensors
    (float32), tokenizer.json when given."""
    os.makedirs(directory, exist_ok=True)
    cfg = {k: v for k, v in config.items() if not (k == "state_decay" and v == 1.0)
           and not (k == "forget_gate" and not v)}
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    shapes = param_shapes(normalize_config(config))
    write_safetensors(os.path.join(directory, "model.safetensors"),
                      {n: np.asarray(params[n].detach().cpu() if isinstance(params[n], torch.Tensor) else params[n],
                                     dtype=np.float32) for n in shapes})
    if tokenizer is not None:
        with open(os.path.join(directory, "tokenizer.json"), "w") as f:
            json.dump(tokenizer, f)


# --------------------------------------------------------------------------
# the math of SPEC 1
# --------------------------------------------------------------------------

def round_half_away(x):
    """C roundf: halves away from zero (torch.round rounds them to even). x - trunc(x) is exact."""
    t = torch.trunc(x)
    frac = x - t
    return t + torch.where(frac.abs() >= 0.5, torch.sign(x), torch.zeros_like(x))


def ste(quantized, x):
    """The value of `quantized`, the gradient of the identity in x (straight-through)."""
    return quantized.detach() + (x - x.detach())


def ternary_weight(W):
    """SPEC 1.1: g*Wt with g = mean|W|, Wt = clamp(round(W/(g+1e-6)), -1, 1); STE in W."""
    g = W.detach().abs().mean()
    Wt = torch.clamp(round_half_away(W.detach() / (g + QUANT_EPS)), -1, 1)
    return ste(Wt * g, W)


def act_quant_int8(x):
    """SPEC 1.1, per row of x (..., in): xq/s with s = 127/max(max|x|, 1e-5),
    xq = clamp(round(x s), -127, 127); STE in x."""
    xd = x.detach()
    s = 127.0 / xd.abs().amax(dim=-1, keepdim=True).clamp_min(ACT_FLOOR)
    xq = torch.clamp(round_half_away(xd * s), -127, 127)
    return ste(xq / s, x)


def rmsnorm(x, w, eps):
    """x (..., D) / sqrt(mean(x^2) + eps) * w (D)."""
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def layer_norm_parts(z):
    """(xhat, sigma) of the inner LayerNorm over the last axis (population variance, eps 1e-6)."""
    zc = z - z.mean(dim=-1, keepdim=True)
    sigma = torch.sqrt((zc * zc).mean(dim=-1, keepdim=True) + LN_EPS)
    return zc / sigma, sigma


def inner_ln(z, ln_w, ln_b):
    xhat, _ = layer_norm_parts(z)
    return ln_w * xhat + ln_b


def inner_grad(z, y, ln_w, ln_b):
    """SPEC 1.2: g = dloss/dz of loss = 1/2 |LN(z) - y|^2, closed form:
    (1/sigma)(e - mean e - xhat mean(e xhat)), e = ln_w (zh - y)."""
    xhat, sigma = layer_norm_parts(z)
    e = ln_w * (ln_w * xhat + ln_b - y)
    return (e - e.mean(dim=-1, keepdim=True) - xhat * (e * xhat).mean(dim=-1, keepdim=True)) / sigma


class LinearState:
    """TTT-Linear state at a mini-batch boundary: W (B, H, f, f), c (B, H, f)."""

    def __init__(self, W, c):
        self.W, self.c = W, c

    def detach(self):
        return LinearState(self.W.detach(), self.c.detach())


def ttt_linear_dual(x, P, pre, c, W_eff, state=None):
    """TTT-Linear (SPEC 1.2 / 1.2.1) in the dual form. x (B, T, D) the mixer
    input; P the parameters; pre "layers.i.ttt."; state None (start (W0, b0))
    or a LinearState at a mini-batch boundary. -> (out (B, T, D) before
    post_norm/o, LinearState after the last full mini-batch; None when T is
    not a multiple of b)."""
    B, T, D = x.shape
    H, b = c["num_heads"], c["mini_batch"]
    f = D // H
    base_lr, decay, gate = c["base_lr"], c["state_decay"], c["forget_gate"]

    def heads(t):  # (B, T, D) -> (B, H, T, f)
        return t.view(B, T, H, f).transpose(1, 2)

    q, k, v = (heads(bitlinear(x, W_eff[pre + n + ".weight"], c)) for n in "qkv")
    lr = torch.sigmoid(x @ P[pre + "lr.weight"].t() + P[pre + "lr.bias"]).transpose(1, 2)  # (B, H, T)
    if gate:  # l = -softplus(u) = logsigmoid(-u) (stable), <= 0
        logkeep = F.logsigmoid(-(x @ P[pre + "forget.weight"].t() + P[pre + "forget.bias"])).transpose(1, 2)
    W0, b0 = P[pre + "W0"].unsqueeze(0), P[pre + "b0"].unsqueeze(0)            # (1, H, f, f), (1, H, f)
    ln_w, ln_b = P[pre + "ln.weight"][None, :, None, :], P[pre + "ln.bias"][None, :, None, :]
    Ws, cs = (W0.expand(B, H, f, f), b0.expand(B, H, f)) if state is None else (state.W, state.c)
    outs = []
    for t0 in range(0, T, b):
        n = min(b, T - t0)
        Q, K, Vv = q[:, :, t0:t0 + n], k[:, :, t0:t0 + n], v[:, :, t0:t0 + n]    # (B, H, n, f)
        G = inner_grad(K @ Ws + cs.unsqueeze(2), Vv - K, ln_w, ln_b)            # at (Ws, cs)
        j = torch.arange(1, n + 1, dtype=x.dtype, device=x.device)
        tril = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
        # E[j, i] = base_lr lr_i / (f j) for i <= j          (B, H, n, n)
        E = torch.where(tril, base_lr * lr[:, :, t0:t0 + n].unsqueeze(-2) / (f * j.view(n, 1)),
                        torch.zeros((), dtype=x.dtype, device=x.device))
        QK1 = Q @ K.transpose(-1, -2) + 1
        if gate:
            Lc = torch.cumsum(logkeep[:, :, t0:t0 + n], dim=-1)                 # L_j (B, H, n)
            diff = (Lc.unsqueeze(-1) - Lc.unsqueeze(-2)).masked_fill(~tril, 0.0)
            EM = E * torch.exp(diff)                                             # E * M
            keep = torch.exp(Lc)
            dW, dc = Ws - W0, cs - b0
            Z = (Q @ W0 + b0.unsqueeze(2) + keep.unsqueeze(-1) * (Q @ dW + dc.unsqueeze(2))
                 - (EM * QK1) @ G)
            last = EM[:, :, -1, :].unsqueeze(-1) * G                             # (B, H, n, f)
            W_next = W0 + keep[:, :, -1, None, None] * dW - K.transpose(-1, -2) @ last
            c_next = b0 + keep[:, :, -1, None] * dc - last.sum(dim=2)
        else:
            Z = Q @ Ws + cs.unsqueeze(2) - (E * QK1) @ G
            last = E[:, :, -1, :].unsqueeze(-1) * G
            W_next = Ws - K.transpose(-1, -2) @ last
            c_next = cs - last.sum(dim=2)
        outs.append(Q + inner_ln(Z, ln_w, ln_b))
        if n == b:  # a full mini-batch: the state moves on
            if decay != 1.0:
                W_next = W0 + decay * (W_next - W0)
                c_next = b0 + decay * (c_next - b0)
            Ws, cs = W_next, c_next
    out = torch.cat(outs, dim=2).transpose(1, 2).reshape(B, T, D)
    return out, (LinearState(Ws, cs) if T % b == 0 else None)


def ttt_linear_primal(x, P, pre, c, W_eff, state=None):
    """The same function token by token (SPEC 1.2 primal form, with gamma for
    the forget gate): Ws, cs, the running sums A, a and the position j."""
    B, T, D = x.shape
    H, b = c["num_heads"], c["mini_batch"]
    f = D // H
    base_lr, decay, gate = c["base_lr"], c["state_decay"], c["forget_gate"]
    q, k, v = (bitlinear(x, W_eff[pre + n + ".weight"], c).view(B, T, H, f) for n in "qkv")  # (B, T, H, f)
    lr = torch.sigmoid(x @ P[pre + "lr.weight"].t() + P[pre + "lr.bias"])                  # (B, T, H)
    if gate:
        keep_t = torch.exp(F.logsigmoid(-(x @ P[pre + "forget.weight"].t() + P[pre + "forget.bias"])))
    W0, b0 = P[pre + "W0"].unsqueeze(0), P[pre + "b0"].unsqueeze(0)
    ln_w, ln_b = P[pre + "ln.weight"].unsqueeze(0), P[pre + "ln.bias"].unsqueeze(0)       # (1, H, f)
    Ws, cs = (W0.expand(B, H, f, f), b0.expand(B, H, f)) if state is None else (state.W, state.c)
    A = torch.zeros_like(Ws)
    a = torch.zeros_like(cs)
    gamma = torch.ones(B, H, 1, dtype=x.dtype, device=x.device)
    j = 0
    outs = []
    for t in range(T):
        qt, kt, vt = q[:, t], k[:, t], v[:, t]                                   # (B, H, f)
        g = inner_grad((kt.unsqueeze(-2) @ Ws).squeeze(-2) + cs, vt - kt, ln_w, ln_b)
        lt = lr[:, t].unsqueeze(-1)                                              # (B, H, 1)
        outer = kt.unsqueeze(-1) * g.unsqueeze(-2)                               # k^T g (B, H, f, f)
        j += 1
        if gate:
            at = keep_t[:, t].unsqueeze(-1)
            gamma = at * gamma
            A = at.unsqueeze(-1) * A + lt.unsqueeze(-1) * outer
            a = at * a + lt * g
            Wj = W0 + gamma.unsqueeze(-1) * (Ws - W0) - base_lr / (f * j) * A
            cj = b0 + gamma * (cs - b0) - base_lr / (f * j) * a
        else:
            A = A + lt.unsqueeze(-1) * outer
            a = a + lt * g
            Wj = Ws - base_lr / (f * j) * A
            cj = cs - base_lr / (f * j) * a
        outs.append(qt + inner_ln((qt.unsqueeze(-2) @ Wj).squeeze(-2) + cj, ln_w, ln_b))
        if j == b:
            Ws, cs = Wj, cj
            if decay != 1.0:
                Ws = W0 + decay * (Ws - W0)
                cs = b0 + decay * (cs - b0)
            A, a, j = torch.zeros_like(A), torch.zeros_like(a), 0
            gamma = torch.ones_like(gamma)
    out = torch.stack(outs, dim=1).reshape(B, T, D)
    return out, (LinearState(Ws, cs) if T % b == 0 else None)


def ttt_seed(x, pre, c, W_eff, S=None):
    """SPEC 1.3: u = down(x), uh = u/(|u| + 1e-6), p = S uh, S <- S - inner_lr (p - uh) uh^T, out up(p).
    x (B, T, D); S (B, d, d) or None (zero). -> (out (B, T, D), S)."""
    B, T, D = x.shape
    d = D // 4
    u = bitlinear(x, W_eff[pre + "down.weight"], c)                               # (B, T, d)
    uh = u / (torch.linalg.norm(u, dim=-1, keepdim=True) + NORM_EPS_SEED)
    if S is None:
        S = torch.zeros(B, d, d, dtype=x.dtype, device=x.device)
    ps = []
    for t in range(T):
        ut = uh[:, t]                                                             # (B, d)
        p = (S @ ut.unsqueeze(-1)).squeeze(-1)
        S = S - c["inner_lr"] * (p - ut).unsqueeze(-1) * ut.unsqueeze(-2)
        ps.append(p)
    return bitlinear(torch.stack(ps, dim=1), W_eff[pre + "up.weight"], c), S


def bitlinear(x, W_eff, c):
    """y = quant(x) W_eff^T; W_eff (out, in) is g*Wt (or the latent W with ternary weights off)."""
    if c["act_quant"] == "int8":
        x = act_quant_int8(x)
    return x @ W_eff.t()


class BitLlama:
    """The model: params {name: tensor} (float latent weights, requires_grad),
    ternary {name: (Wt, g)} for packed BitLinears (fixed). quant_weights False
    uses the latent weights unrounded (as bitt_dump_grads --no-quant-weights)."""

    def __init__(self, config, params, ternary=None, dtype=torch.float64, device="cpu", quant_weights=True,
                 compile=False, requires_grad=True):
        self.c = normalize_config(config)
        self.dtype, self.device = dtype, torch.device(device)
        self.shapes = param_shapes(self.c)
        self.params = {}
        for n, t in params.items():
            t = torch.as_tensor(np.asarray(t) if not isinstance(t, torch.Tensor) else t)
            self.params[n] = t.detach().to(device=self.device, dtype=dtype).requires_grad_(requires_grad)
        self.ternary = {n: (torch.as_tensor(w).to(device=self.device, dtype=dtype), g)
                        for n, (w, g) in (ternary or {}).items()}
        missing = [n for n in self.shapes if n not in self.params and n not in self.ternary]
        if missing:
            raise ValueError(f"missing tensors: {missing}")
        self.quant_weights = quant_weights
        self.ttt_form = "dual"
        self._forward = self._forward_impl
        if compile:
            if hasattr(torch, "compile"):
                self._forward = torch.compile(self._forward_impl)
            else:
                print(f"bitllama: torch {torch.__version__} has no torch.compile; running eagerly", file=sys.stderr)

    # ---- parameters ----
    def parameters(self):
        return list(self.params.values())

    def grads(self):
        """{name: gradient} (zeros for a parameter the loss did not reach)."""
        return {n: (p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in self.params.items()}

    def zero_grad(self):
        for p in self.params.values():
            p.grad = None

    def bitlinear_weights(self):
        """{name: the weight each BitLinear's forward uses}."""
        out = {}
        for n, (shape, bit) in self.shapes.items():
            if not bit:
                continue
            if n in self.ternary:
                Wt, g = self.ternary[n]
                out[n] = Wt * g
            else:
                out[n] = ternary_weight(self.params[n]) if self.quant_weights else self.params[n]
        return out

    # ---- forward ----
    def _forward_impl(self, ids, P, W_eff, state):
        c = self.c
        eps = c["rms_eps"]
        x = P["embed.weight"][ids]                                               # (B, T, D)
        new_state = []
        for i in range(c["num_layers"]):
            pre = f"layers.{i}."
            st_in = state[i] if state is not None else None
            st_out = None
            if c["ttt_variant"] != "none":
                xn = rmsnorm(x, P[pre + "norm1.weight"], eps)
                if c["ttt_variant"] == "linear":
                    fn = ttt_linear_dual if self.ttt_form == "dual" else ttt_linear_primal
                    h, st_out = fn(xn, P, pre + "ttt.", c, W_eff, st_in)
                    mix = bitlinear(rmsnorm(h, P[pre + "ttt.post_norm.weight"], eps), W_eff[pre + "ttt.o.weight"], c)
                else:
                    mix, st_out = ttt_seed(xn, pre + "ttt.", c, W_eff, st_in)
                x = x + mix
            new_state.append(st_out)
            xn = rmsnorm(x, P[pre + "norm2.weight"], eps)
            gate = bitlinear(xn, W_eff[pre + "mlp.gate_proj.weight"], c)
            up = bitlinear(xn, W_eff[pre + "mlp.up_proj.weight"], c)
            x = x + bitlinear(F.silu(gate) * up, W_eff[pre + "mlp.down_proj.weight"], c)
        logits = rmsnorm(x, P["norm_f.weight"], eps) @ P["lm_head.weight"].t()  # (B, T, V)
        return logits, new_state

    def forward(self, ids, state=None):
        """ids (B, T) -> (logits (B, T, V), state after the T tokens: a list per
        layer of LinearState / S (B, d, d) / None; a linear layer's entry is None
        when T is not a multiple of the mini-batch)."""
        ids = torch.as_tensor(ids, device=self.device)
        return self._forward(ids, self.params, self.bitlinear_weights(), state)

    def loss(self, ids, state=None):
        """ids (B, T+1): predicts ids[:, 1:]. -> (mean over sequences of the mean
        token cross-entropy, per-sequence losses (B,), state after)."""
        ids = torch.as_tensor(ids, device=self.device)
        logits, st = self.forward(ids[:, :-1], state)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")
        seq = ce.view(ids.shape[0], -1).mean(dim=1)
        return seq.mean(), seq, st

    # ---- state ----
    def state_floats(self):
        """Floats per sequence of the C layout (train_state_floats, model/state_layout.h)."""
        c = self.c
        D, H = c["hidden_dim"], c["num_heads"]
        f = D // H
        per = {"linear": H * (f * f + f), "seed": (D // 4) ** 2, "none": 0}[c["ttt_variant"]]
        return per * c["num_layers"]

    def state_to_flat(self, state):
        """A state -> (B, state_floats) in the C layout: per layer, linear W (H f f) then c (H f); seed S."""
        parts = []
        for st in state:
            if isinstance(st, LinearState):
                parts += [st.W.reshape(st.W.shape[0], -1), st.c.reshape(st.c.shape[0], -1)]
            elif st is not None:
                parts.append(st.reshape(st.shape[0], -1))
        return torch.cat(parts, dim=1) if parts else None

    def state_from_flat(self, flat):
        """(B, state_floats) in the C layout -> a state."""
        c = self.c
        D, H, L = c["hidden_dim"], c["num_heads"], c["num_layers"]
        f, d = D // H, D // 4
        flat = torch.as_tensor(flat, device=self.device, dtype=self.dtype)
        B, out, off = flat.shape[0], [], 0
        for _ in range(L):
            if c["ttt_variant"] == "linear":
                W = flat[:, off:off + H * f * f].reshape(B, H, f, f)
                off += H * f * f
                cc = flat[:, off:off + H * f].reshape(B, H, f)
                off += H * f
                out.append(LinearState(W, cc))
            elif c["ttt_variant"] == "seed":
                out.append(flat[:, off:off + d * d].reshape(B, d, d))
                off += d * d
            else:
                out.append(None)
        return out


def detach_state(state):
    if state is None:
        return None
    return [s.detach() if s is not None else None for s in state]


def carried_windows(model, windows, state=None, backward=False, scale=1.0):
    """Runs windows in sequence carrying the TTT state, as `bitt train
    --carry-state` does: each window (B, T+1) starts from the state the
    previous one left, detached (a constant input: no gradient into the past).
    T must be a multiple of the mini-batch (linear), so the state sits on a
    boundary. backward: each window's loss * scale is back-propagated.
    -> (list of losses (floats), the final state, detached)."""
    losses = []
    for w in windows:
        loss, _, st = model.loss(w, detach_state(state))
        if model.c["ttt_variant"] == "linear" and any(s is None for s in st):
            raise ValueError("carried state: the context must be a multiple of the mini-batch")
        if backward:
            (loss * scale).backward()
        losses.append(float(loss))
        state = detach_state(st)
    return losses, state


def load_model(path, dtype=torch.float64, device="cpu", quant_weights=True, compile=False, requires_grad=True):
    c, tok, params, ternary, version = read_model_files(path)
    m = BitLlama(c, params, ternary, dtype=dtype, device=device, quant_weights=quant_weights, compile=compile,
                 requires_grad=requires_grad)
    m.tokenizer, m.bitt_version = tok, version
    return m


def batch_grads(model, tokens, T, starts, carry=0):
    """The counterpart of bitt_dump_grads: sequence s reads tokens[starts[s] ..
    starts[s] + T], after `carry` preceding windows of its stream run forward
    only (state carried, detached). Returns (loss, per-sequence losses, {name:
    grad}, the carried state the batch started from or None)."""
    tokens = np.asarray(tokens)
    starts = list(starts)
    if carry and min(starts) < carry * T:
        raise ValueError("a start has no room for the carried windows before it")
    state = None
    with torch.no_grad():
        for k in range(carry, 0, -1):
            win = np.stack([tokens[s - k * T: s - k * T + T + 1] for s in starts])
            _, _, state = model.loss(win, state)
            if model.c["ttt_variant"] == "linear" and any(x is None for x in state):
                raise ValueError("carried state: the context must be a multiple of the mini-batch")
    model.zero_grad()
    batch = np.stack([tokens[s: s + T + 1] for s in starts])
    loss, seq, _ = model.loss(batch, detach_state(state))
    loss.backward()
    return float(loss), seq.detach(), model.grads(), state


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

def _dtype(name):
    return {"f64": torch.float64, "f32": torch.float32}[name]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grads", help="one batch's loss and gradients to safetensors (as bitt_dump_grads)")
    g.add_argument("--model", required=True)
    g.add_argument("--data", required=True)
    g.add_argument("--context", type=int, required=True)
    g.add_argument("--starts", required=True, help="window starts S1,S2,...")
    g.add_argument("--carry", type=int, default=0)
    g.add_argument("--no-quant-weights", action="store_true")
    g.add_argument("--out", required=True)
    lg = sub.add_parser("logits", help="the last token's logits after reading ids (JSON)")
    lg.add_argument("--model", required=True)
    lg.add_argument("--ids", required=True, help="comma-separated token ids")
    for p in (g, lg):
        p.add_argument("--precision", choices=["f64", "f32"], default="f64")
        p.add_argument("--device", default="cpu", help="cpu or cuda")
        p.add_argument("--compile", action="store_true", help="torch.compile the forward (torch >= 2)")
    a = ap.parse_args(argv)
    if a.cmd == "grads":
        m = load_model(a.model, _dtype(a.precision), a.device, not a.no_quant_weights, a.compile)
        ids, _ = read_tokens(a.data)
        starts = [int(s) for s in a.starts.split(",")]
        loss, seq, grads, state = batch_grads(m, ids, a.context, starts, a.carry)
        out = {"loss": np.array([loss]), "seq_loss": seq.cpu().double().numpy()}
        out.update({n: t.detach().cpu().numpy() for n, t in grads.items()})
        if state is not None and m.state_floats():
            out["carried_state"] = m.state_to_flat(state).double().cpu().numpy()
        write_safetensors(a.out, out, {"model": a.model, "context": a.context, "carry": a.carry,
                                       "precision": a.precision})
        print(json.dumps({"loss": loss, "sequences": len(starts)}))
    else:
        m = load_model(a.model, _dtype(a.precision), a.device, True, a.compile, requires_grad=False)
        ids = torch.tensor([[int(s) for s in a.ids.split(",")]])
        with torch.no_grad():
            logits, _ = m.forward(ids)
        print(json.dumps({"logits": logits[0, -1].double().cpu().tolist()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
