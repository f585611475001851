"""train_attention.py: a baseline trainer in PyTorch with the optimisation of
`bitt train`, to compare Bit-Llama against attention on the same data.

The model (--model attention, the default) is a Llama-style causal
transformer: token embedding, L blocks of x + Attn(RMSNorm(x)) and
x + SwiGLU(RMSNorm(x)), RMSNorm, an untied lm_head; softmax attention with
RoPE over H heads of f = D/H. --bitlinear makes every projection (q, k, v, o,
gate, up, down) a BitLinear of SPEC 1.1 (b1.58 attention); embedding,
lm_head and norms stay full precision, as in Bit-Llama. --model bitllama
trains our own architecture through bitllama.py (SPEC 1) instead, for
timings against other trainers; it writes OUT/checkpoint, a model directory
bitt reads.

Optimisation as bitt train (docs/TRAINING.md): random windows of --context+1
tokens drawn with bitt's generator (xorshift64* seeded through splitmix64
from seed ^ 0x7261696e5eed, offset = next_u64 % (n - context)), so the same
--seed draws the same windows; the loss is the mean over the batch of each
window's mean token cross-entropy; global gradient-norm clipping to --clip;
AdamW (betas 0.9/0.95, eps 1e-8, decoupled weight decay on matrices only:
embedding, lm_head, projections, lr/forget gate weights, W0; not norms, LN or
biases); linear warmup to --lr, then cosine to --min-lr at the last step.
--carry-state (bitllama only) runs bitt's streams (B consecutive-window
streams, restart probability --state-reset).

Output: OUT/metrics.jsonl in bitt's format ({"step","loss","lr","tok_s"} per
step, {"step","val_loss","val_bpb"[, "val_stream_loss","val_stream_bpb"]}
per evaluation) and OUT/model.pt. Validation as bitt: val_loss over
--val-windows windows spread evenly over the file, val_bpb = val_loss x
token_count / text_bytes / ln 2 (the sidecar's counts); val_stream_*: one
pass over the first --val-tokens tokens: attention with a sliding window of
--context tokens (stride --eval-stride, each token scored once with at least
context - stride tokens before it once the window is full), bitllama with the
state carried as bitt eval does. Its bits per byte use the same sidecar
ratio (bitt counts the decoded bytes of the scored tokens, which differs
slightly). --steps 0 --load OUT/model.pt only evaluates.

Shapes: B windows, T tokens, D hidden, H heads, f = D/H, I intermediate, V vocabulary.

  python3 tests/reference/train_attention.py --data train.bin --val val.bin --out runs/attn \\
      --dim 64 --layers 2 --heads 1 --context 64 --batch 16 --steps 400 --warmup 40 --lr 3e-3 --min-lr 1e-4"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitllama as bl  # noqa: E402

MASK64 = (1 << 64) - 1


class BittRng:
    """bitt's generator (src/sampling/rng.h): splitmix64 seeding, xorshift64*."""

    def __init__(self, seed):
        z = (seed + 0x9E3779B97F4A7C15) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        self.state = z or 0x2545F4914F6CDD1D

    def next_u64(self):
        x = self.state
        x ^= x >> 12
        x = (x ^ (x << 25)) & MASK64
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & MASK64

    def next_float(self):
        return (self.next_u64() >> 40) * (1.0 / 16777216.0)


def lr_schedule(step, total, warmup, lr, min_lr):
    """bitt's schedule for update `step` (1-based) of `total`."""
    if warmup > 0 and step <= warmup:
        return lr * step / warmup
    if step >= total:
        return min_lr
    span = total - warmup
    progress = (step - warmup) / span if span > 0 else 1.0
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * progress))


# ---------------------------------------------------------------- the attention model

class Linear(nn.Module):
    """A projection (out x in, no bias); as a BitLinear (SPEC 1.1, STE) when bit."""

    def __init__(self, d_in, d_out, bit, act_quant, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * std)
        self.bit, self.act_quant = bit, act_quant

    def forward(self, x):
        if not self.bit:
            return x @ self.weight.t()
        if self.act_quant:
            x = bl.act_quant_int8(x)
        return x @ bl.ternary_weight(self.weight).t()


class RMSNorm(nn.Module):
    def __init__(self, D, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))
        self.eps = eps

    def forward(self, x):
        return bl.rmsnorm(x, self.weight, self.eps)


def rope_tables(T, f, base=10000.0):
    """cos, sin (T, f/2) for rotary position embeddings over pairs (i, i + f/2)."""
    inv = base ** (-torch.arange(0, f // 2, dtype=torch.float64) / (f // 2))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    """x (B, H, T, f) rotated by position: (x1, x2) -> (x1 cos - x2 sin, x1 sin + x2 cos)."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, D, H, I, L, bit, act_quant, eps):
        super().__init__()
        s, so = 0.02, 0.02 / math.sqrt(2 * L)
        self.H = H
        self.norm1, self.norm2 = RMSNorm(D, eps), RMSNorm(D, eps)
        self.q, self.k, self.v = (Linear(D, D, bit, act_quant, s) for _ in range(3))
        self.o = Linear(D, D, bit, act_quant, so)
        self.gate, self.up = Linear(D, I, bit, act_quant, s), Linear(D, I, bit, act_quant, s)
        self.down = Linear(I, D, bit, act_quant, so)

    def forward(self, x, cos, sin):
        B, T, D = x.shape
        H, f = self.H, D // self.H
        xn = self.norm1(x)

        def heads(t):  # (B, T, D) -> (B, H, T, f)
            return t.view(B, T, H, f).transpose(1, 2)

        q, k, v = heads(self.q(xn)), heads(self.k(xn)), heads(self.v(xn))
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q @ k.transpose(-1, -2)) / math.sqrt(f)                         # (B, H, T, T)
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            a = torch.softmax(s.masked_fill(~causal, float("-inf")), dim=-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, D))
        xn = self.norm2(x)
        return x + self.down(F.silu(self.gate(xn)) * self.up(xn))


class Transformer(nn.Module):
    def __init__(self, V, D, L, H, I, bit=False, act_quant=True, eps=1e-5, max_T=4096):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(V, D) * 0.02)
        self.blocks = nn.ModuleList(Block(D, H, I, L, bit, act_quant, eps) for _ in range(L))
        self.norm_f = RMSNorm(D, eps)
        self.lm_head = nn.Parameter(torch.randn(V, D) * 0.02)
        cos, sin = rope_tables(max_T, D // H)
        self.register_buffer("cos", cos.float(), persistent=False)
        self.register_buffer("sin", sin.float(), persistent=False)

    def forward(self, ids):
        """ids (B, T) -> logits (B, T, V)."""
        T = ids.shape[1]
        cos, sin = self.cos[:T].to(self.embed.dtype), self.sin[:T].to(self.embed.dtype)
        x = self.embed[ids]
        for blk in self.blocks:
            x = blk(x, cos, sin)
        return self.norm_f(x) @ self.lm_head.t()

    def loss(self, ids):
        """ids (B, T+1) -> mean over windows of the mean token cross-entropy."""
        logits = self.forward(ids[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


# ---------------------------------------------------------------- the two models behind one interface

class AttentionRunner:
    def __init__(self, a, V, device):
        self.net = Transformer(V, a.dim, a.layers, a.heads, a.intermediate, a.bitlinear, not a.no_act_quant,
                               max_T=max(a.context, 1) + 1).to(device)
        self.step_fn = self.net.loss
        if a.compile:
            if hasattr(torch, "compile"):
                self.step_fn = torch.compile(self.net.loss)
            else:
                print(f"train_attention: torch {torch.__version__} has no torch.compile; running eagerly", file=sys.stderr)
        self.named = dict(self.net.named_parameters())
        self.stateful = False

    def train_loss(self, ids, state=None):
        return self.step_fn(ids), None

    def seq_nats(self, ids, score_from):
        """ids (1, n+1): summed nats of the predictions of ids[score_from+1 ..]."""
        logits = self.net(ids[:, :-1])[0, score_from:]
        return float(F.cross_entropy(logits, ids[0, score_from + 1:], reduction="sum"))

    def save(self, out, a):
        torch.save({"args": vars(a), "state_dict": self.net.state_dict()}, os.path.join(out, "model.pt"))

    def load(self, path):
        self.net.load_state_dict(torch.load(path, map_location="cpu")["state_dict"])


class BitLlamaRunner:
    def __init__(self, a, V, device):
        if a.init_from:  # a bitt model with float latent weights: its config and weights
            self.cfg, _, params, ternary, _ = bl.read_model_files(a.init_from)
            if ternary:
                sys.exit(f"{a.init_from}: packed ternary weights; --init-from needs float latent weights")
            params = {n: torch.tensor(t, dtype=torch.float32) for n, t in params.items()}
        else:
            self.cfg = bl.normalize_config({
                "vocab_size": V, "hidden_dim": a.dim, "num_layers": a.layers, "intermediate_dim": a.intermediate,
                "ttt_variant": a.variant, "num_heads": a.heads, "mini_batch": a.mini_batch, "base_lr": a.base_lr,
                "state_decay": a.state_decay, "forget_gate": a.forget_gate,
                "act_quant": "none" if a.no_act_quant else "int8"})
            params = {n: t.float() for n, t in bl.init_params(self.cfg, a.seed).items()}
        self.model = bl.BitLlama(self.cfg, params, dtype=torch.float32, device=device, compile=a.compile)
        self.named = self.model.params
        self.stateful = self.cfg["ttt_variant"] != "none"

    def train_loss(self, ids, state=None):
        loss, _, st = self.model.loss(ids, state)
        return loss, bl.detach_state(st)

    def stream_nats(self, ids, window):
        """One pass with the state carried (bitt eval): ids (n,) -> summed nats of ids[1:]."""
        state, nats = None, 0.0
        n = ids.shape[0]
        at = 0
        while at + 1 < n:
            T = min(window, n - 1 - at)
            loss, _, st = self.model.loss(ids[None, at:at + T + 1], state)
            nats += float(loss) * T
            state = bl.detach_state(st) if T == window else None
            at += window
        return nats

    def save(self, out, a):
        torch.save({"args": vars(a), "config": self.cfg, "params": {n: p.detach().cpu() for n, p in self.named.items()}},
                   os.path.join(out, "model.pt"))
        tok = None
        if a.tokenizer:
            with open(a.tokenizer) as f:
                tok = json.load(f)
        bl.save_checkpoint(os.path.join(out, "checkpoint"), self.cfg, self.named, tok)

    def load(self, path):
        saved = torch.load(path, map_location="cpu")["params"]
        with torch.no_grad():
            for n, p in self.named.items():
                p.copy_(saved[n])


# ---------------------------------------------------------------- optimisation

def make_optimizer(named, a):
    decay = [p for n, p in named.items() if bl.decays(n, tuple(p.shape))]
    rest = [p for n, p in named.items() if not bl.decays(n, tuple(p.shape))]
    groups = [{"params": decay, "weight_decay": a.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    # torch's AdamW: p <- p (1 - lr wd) - lr mhat / (sqrt(vhat) + eps), bitt's update exactly
    return torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95), eps=1e-8)


def clip_global(params, clip):
    """bitt's clipping: scale by clip / norm when the global norm exceeds clip. -> the norm."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    if norm > clip:
        for g in grads:
            g.mul_(clip / norm)
    return norm


class Streams:
    """bitt train --carry-state's streams (src/train/train_streams.c)."""

    def __init__(self, B, n_tokens, T):
        span = n_tokens - T - 1
        self.pos = [span * b // B for b in range(B)]
        self.fresh = [True] * B
        self.state = None

    def next(self, rng, reset, tokens, T):
        span = len(tokens) - T
        for b in range(len(self.pos)):
            u = rng.next_float()
            if not self.fresh[b] and u < reset:
                self.fresh[b] = True
                self.pos[b] = rng.next_u64() % span
            if self.pos[b] >= span:
                self.pos[b] = 0
        return np.stack([tokens[p:p + T + 1] for p in self.pos])

    def advance(self, n_tokens, T):
        for b in range(len(self.pos)):
            self.pos[b] += T
            if self.pos[b] + T + 1 > n_tokens:
                self.pos[b] = 0
            self.fresh[b] = False


def reset_rows(runner, state, fresh):
    """The carried state with the rows of fresh streams put back at the start state: (W0, b0)
    themselves, not detached, so those rows give W0, b0 a gradient as a fresh window does in bitt."""
    if state is None or not any(fresh):
        return state
    B = len(fresh)
    mask = torch.tensor(fresh, device=runner.model.device)
    out = []
    for i, st in enumerate(state):
        if isinstance(st, bl.LinearState):
            W0 = runner.model.params[f"layers.{i}.ttt.W0"].unsqueeze(0).expand(B, -1, -1, -1)
            b0 = runner.model.params[f"layers.{i}.ttt.b0"].unsqueeze(0).expand(B, -1, -1)
            out.append(bl.LinearState(torch.where(mask[:, None, None, None], W0, st.W),
                                      torch.where(mask[:, None, None], b0, st.c)))
        elif st is not None:
            out.append(torch.where(mask[:, None, None], torch.zeros_like(st), st))
        else:
            out.append(None)
    return out


# ---------------------------------------------------------------- evaluation

def evaluate(runner, val, side, a, device):
    """-> dict of val_loss, val_bpb and (with --val-tokens) val_stream_loss, val_stream_bpb."""
    T = a.context
    n_tok = len(val)
    bytes_per_token = side["text_bytes"] / side["token_count"] if side.get("text_bytes") else 0.0
    n = min((n_tok - 1) // T, a.val_windows)
    span = n_tok - T - 1
    total = 0.0
    with torch.no_grad():
        for i0 in range(0, n, a.batch):
            starts = [span * i // (n - 1) if n > 1 else 0 for i in range(i0, min(n, i0 + a.batch))]
            ids = torch.tensor(np.stack([val[s:s + T + 1] for s in starts]), device=device)
            loss, _ = runner.train_loss(ids)
            total += float(loss) * len(starts)
    out = {"val_loss": total / n}
    out["val_bpb"] = out["val_loss"] / bytes_per_token / math.log(2) if bytes_per_token else 0.0
    if a.val_tokens > 0:
        m = min(a.val_tokens, n_tok)
        ids = torch.tensor(val[:m], device=device)
        with torch.no_grad():
            if isinstance(runner, BitLlamaRunner):
                mb = runner.cfg["mini_batch"] if runner.cfg["ttt_variant"] == "linear" else 1
                nats = runner.stream_nats(ids, max(mb, T // mb * mb))
            else:
                nats, stride, begin = 0.0, a.eval_stride or T // 2, 0
                done = 0  # predictions of ids[1 .. done] are scored
                while done < m - 1:
                    end = min(begin + T, m - 1)          # window ids[begin .. end] predicts ids[begin+1 .. end]
                    nats += runner.seq_nats(ids[None, begin:end + 1], done - begin)
                    done = end
                    begin = max(0, end - (T - stride))
        out["val_stream_loss"] = nats / (m - 1)
        out["val_stream_bpb"] = out["val_stream_loss"] / bytes_per_token / math.log(2) if bytes_per_token else 0.0
    return out


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--data", required=True, help="token file (bitt prepare)")
    ap.add_argument("--val", help="validation token file")
    ap.add_argument("--out", required=True, help="run directory: metrics.jsonl, model.pt")
    ap.add_argument("--model", choices=["attention", "bitllama"], default="attention")
    ap.add_argument("--like", help="take dim, layers, heads, intermediate (and the TTT settings) from a bitt "
                                   "config.json or checkpoint directory")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=0, help="default D/64 (at least 1), as bitt")
    ap.add_argument("--intermediate", type=int, default=0, help="default 4*D")
    ap.add_argument("--vocab", type=int, default=0, help="default: the token file's vocab_size")
    ap.add_argument("--bitlinear", action="store_true", help="attention: every projection a BitLinear")
    ap.add_argument("--no-act-quant", action="store_true", help="BitLinears with float activations")
    ap.add_argument("--variant", default="linear", help="bitllama: linear, seed or none")
    ap.add_argument("--mini-batch", type=int, default=16)
    ap.add_argument("--base-lr", type=float, default=1.0)
    ap.add_argument("--state-decay", type=float, default=1.0)
    ap.add_argument("--forget-gate", action="store_true")
    ap.add_argument("--carry-state", action="store_true", help="bitllama: bitt's stateful streams")
    ap.add_argument("--state-reset", type=float, default=0.01)
    ap.add_argument("--tokenizer", help="bitllama: copied into OUT/checkpoint")
    ap.add_argument("--init-from", help="bitllama: start from this bitt checkpoint directory or .bitt v1 "
                                        "(its config and weights; e.g. bitt init --seed S, which gives bitt "
                                        "train's initial weights for the same sizes and seed)")
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--eval-interval", type=int, default=100)
    ap.add_argument("--val-windows", type=int, default=64)
    ap.add_argument("--val-tokens", type=int, default=16384)
    ap.add_argument("--eval-stride", type=int, default=0, help="attention one-pass stride (default context/2)")
    ap.add_argument("--log-interval", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--compile", action="store_true", help="torch.compile (torch >= 2)")
    ap.add_argument("--load", help="model.pt to start from (with --steps 0: only evaluate)")
    a = ap.parse_args(argv)

    if a.like:
        path = os.path.join(a.like, "config.json") if os.path.isdir(a.like) else a.like
        with open(path) as f:
            c = bl.normalize_config(json.load(f))
        a.dim, a.layers, a.heads, a.intermediate = c["hidden_dim"], c["num_layers"], c["num_heads"], c["intermediate_dim"]
        a.vocab = a.vocab or c["vocab_size"]
        a.variant, a.mini_batch, a.base_lr = c["ttt_variant"], c["mini_batch"], c["base_lr"]
        a.state_decay, a.forget_gate = c["state_decay"], c["forget_gate"]
        a.no_act_quant = a.no_act_quant or c["act_quant"] == "none"
    a.heads = a.heads or max(1, a.dim // 64 if a.dim % 64 == 0 else 1)
    a.intermediate = a.intermediate or 4 * a.dim
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    torch.manual_seed(a.seed)
    tokens, side = bl.read_tokens(a.data)
    V = a.vocab or side["vocab_size"]
    if len(tokens) < a.context + 1:
        sys.exit(f"{a.data}: {len(tokens)} tokens, fewer than one window of --context {a.context} + 1")
    val = val_side = None
    if a.val:
        val, val_side = bl.read_tokens(a.val)
    runner = AttentionRunner(a, V, device) if a.model == "attention" else BitLlamaRunner(a, V, device)
    if a.load:
        runner.load(a.load)
    if a.carry_state and not (a.model == "bitllama" and runner.stateful):
        sys.exit("--carry-state needs --model bitllama with a mixer")
    if a.carry_state and runner.cfg["ttt_variant"] == "linear" and a.context % runner.cfg["mini_batch"]:
        sys.exit(f"--context {a.context} is not a multiple of the mini-batch {runner.cfg['mini_batch']}")
    params = list(runner.named.values())
    opt = make_optimizer(runner.named, a)
    n_params = sum(p.numel() for p in params)
    print(f"train_attention: {a.model}{' (BitLinear)' if a.bitlinear and a.model == 'attention' else ''}: "
          f"D={a.dim} L={a.layers} H={a.heads} I={a.intermediate} V={V}, {n_params} parameters; "
          f"{a.batch} x {a.context} tokens a step on {device}; torch {torch.__version__}", file=sys.stderr)
    os.makedirs(a.out, exist_ok=True)
    rng = BittRng(a.seed ^ 0x7261696E5EED)
    span = len(tokens) - a.context
    streams = Streams(a.batch, len(tokens), a.context) if a.carry_state else None
    log = open(os.path.join(a.out, "metrics.jsonl"), "w")

    def log_eval(step):
        r = evaluate(runner, val, val_side, a, device)
        line = f'{{"step":{step},"val_loss":{r["val_loss"]:.9g},"val_bpb":{r["val_bpb"]:.9g}'
        if "val_stream_loss" in r:
            line += f',"val_stream_loss":{r["val_stream_loss"]:.9g},"val_stream_bpb":{r["val_stream_bpb"]:.9g}'
        log.write(line + "}\n")
        log.flush()
        print(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in r.items()), file=sys.stderr)

    t_start, last_eval = time.time(), -1
    for step in range(1, a.steps + 1):
        t0 = time.time()
        lr = lr_schedule(step, a.steps, a.warmup, a.lr, a.min_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        if streams:
            batch = streams.next(rng, a.state_reset, tokens, a.context)
            state_in = reset_rows(runner, streams.state, streams.fresh)
        else:
            batch = np.stack([tokens[s:s + a.context + 1] for s in (rng.next_u64() % span for _ in range(a.batch))])
            state_in = None
        ids = torch.tensor(batch, device=device)
        opt.zero_grad(set_to_none=True)
        loss, state_out = runner.train_loss(ids, state_in)
        loss.backward()
        gnorm = clip_global(params, a.clip)
        loss_v = float(loss)
        if not (math.isfinite(loss_v) and math.isfinite(gnorm)):
            sys.exit(f"the loss became {loss_v} at step {step} (gradient norm {gnorm}); stopping")
        opt.step()
        if streams:
            streams.state = state_out
            streams.advance(len(tokens), a.context)
        if device == "cuda":
            torch.cuda.synchronize()
        tok_s = a.batch * a.context / max(time.time() - t0, 1e-9)
        log.write(f'{{"step":{step},"loss":{loss_v:.9g},"lr":{lr:.9g},"tok_s":{tok_s:.1f}}}\n')
        log.flush()
        if step % a.log_interval == 0 or step == a.steps:
            print(f"step {step}/{a.steps}  loss {loss_v:.4f}  lr {lr:.2e}  {tok_s:.0f} tok/s", file=sys.stderr)
        if val is not None and a.eval_interval > 0 and step % a.eval_interval == 0:
            log_eval(step)
            last_eval = step
    if val is not None and last_eval != a.steps:
        log_eval(a.steps)
    log.close()
    runner.save(a.out, a)
    if a.steps:
        print(f"done: {a.steps} steps in {time.time() - t_start:.1f} s, last loss {loss_v:.4f}; {a.out}/metrics.jsonl",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
