#!/usr/bin/env python3
"""gate_lengths.py: what the forget gate of a trained TTT-Linear model
(SPEC 1.2.1) keeps. Runs the PyTorch reference (tests/reference/bitllama.py)
in one pass over the first N tokens of a token file, records every layer's
per-token, per-head log-gate l_t = -softplus(forget(x_t)[h]) and prints, per
layer and head: the memory length the head was initialised with (1/(-l) of
the bias), the memory length it has on real text (1/mean(-l): the e-folding
length in tokens of the memory's deviation from its resting point), the share
of the memory kept after 256 and 1,024 tokens (exp of the mean sum of l over
such spans), and the gate at </s> tokens (a gate near 0 resets the memory
there). --json writes the same as JSON. --closes LAYER:HEAD:K lists the K
tokens where that head forgets most, each with the text around it.

Usage: /usr/bin/python3 scripts/gate_lengths.py CHECKPOINT TOKENS [--tokens N] [--json]
                                                [--closes LAYER:HEAD:K]
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import bitllama  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("tokens")
    ap.add_argument("--tokens", dest="n", type=int, default=4096)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--closes", help="LAYER:HEAD:K: the K tokens where that head keeps least")
    a = ap.parse_args()
    model = bitllama.load_model(a.checkpoint, dtype=torch.float32, requires_grad=False)
    c = model.c
    if c["ttt_variant"] != "linear" or not c["forget_gate"]:
        sys.exit(f"{a.checkpoint}: not a TTT-Linear model with the forget gate")
    ids, _ = bitllama.read_tokens(a.tokens)
    ids = ids[: a.n]
    n = len(ids)
    logkeep = {}  # layer -> (H, T) log-gates
    original = bitllama.ttt_linear_dual

    def recording(x, P, pre, cfg, W_eff, state=None):
        u = x @ P[pre + "forget.weight"].t() + P[pre + "forget.bias"]
        logkeep[int(pre.split(".")[1])] = torch.nn.functional.logsigmoid(-u)[0].t()  # (H, T)
        return original(x, P, pre, cfg, W_eff, state)

    bitllama.ttt_linear_dual = recording
    with torch.no_grad():
        model.forward(torch.as_tensor(ids).view(1, n))
    eos = torch.as_tensor(ids == 2)
    if a.closes:
        print_closes(a, model, ids, logkeep)
        return
    rows = []
    for layer in range(c["num_layers"]):
        bias = model.params[f"layers.{layer}.ttt.forget.bias"]
        for h in range(c["num_heads"]):
            l = logkeep[layer][h].double()
            init = 1.0 / torch.nn.functional.softplus(torch.as_tensor(bitllama.forget_bias_init(c["num_heads"])[h],
                                                                        dtype=torch.float64)).item()
            kept = {}
            for span in (256, 1024):
                if n > span:
                    s = torch.cumsum(torch.cat([torch.zeros(1, dtype=l.dtype), l]), 0)
                    kept[span] = torch.exp(s[span:] - s[:-span]).mean().item()
            rows.append({
                "layer": layer, "head": h,
                "init_length": init,
                "bias_length": 1.0 / torch.nn.functional.softplus(bias[h].double()).item(),
                "length": 1.0 / max(-l.mean().item(), 1e-12),
                "median_gate_length": 1.0 / max(torch.median(-l).item(), 1e-12),
                "kept_256": kept.get(256), "kept_1024": kept.get(1024),
                "gate_at_eos": torch.exp(l[eos]).mean().item() if eos.any() else None,
                "gate_elsewhere": torch.exp(l[~eos]).mean().item(),
            })
    if a.json:
        print(json.dumps({"checkpoint": a.checkpoint, "tokens": n, "eos_tokens": int(eos.sum()), "heads": rows},
                         indent=1))
        return
    print(f"{a.checkpoint}: {n} tokens of {a.tokens} ({int(eos.sum())} </s>)")
    print(f"{'layer':>5} {'head':>4} {'init len':>9} {'len':>9} {'median':>9} {'kept@256':>9} {'kept@1k':>9}"
          f" {'gate@</s>':>9} {'gate else':>9}")
    fmt = lambda v, p: "" if v is None else (f"{v:.{p}f}" if v < 1e6 else f"{v:.2e}")
    for r in rows:
        print(f"{r['layer']:5} {r['head']:4} {r['init_length']:9.0f} {fmt(r['length'], 1):>9}"
              f" {fmt(r['median_gate_length'], 1):>9} {fmt(r['kept_256'], 3):>9} {fmt(r['kept_1024'], 3):>9}"
              f" {fmt(r['gate_at_eos'], 3):>9} {fmt(r['gate_elsewhere'], 4):>9}")


def print_closes(a, model, ids, logkeep):
    """The K tokens of one head with the smallest gate, in text order, with 6 tokens before and 2 after."""
    layer, head, k = (int(x) for x in a.closes.split(":"))
    vocab = {i: t for t, i in model.tokenizer["model"]["vocab"].items()}
    # byte-level BPE: show the space and newline marks as text
    tok = lambda i: vocab.get(int(ids[i]), "?").replace("\u0120", " ").replace("\u010a", "\\n")
    l = logkeep[layer][head]
    for i in sorted(torch.argsort(l)[:k].tolist()):
        before = "".join(tok(j) for j in range(max(0, i - 6), i))
        after = "".join(tok(j) for j in range(i + 1, min(len(ids), i + 3)))
        print(f"{i:7}  keep {torch.exp(l[i]).item():.3f}  ...{before}[{tok(i)}]{after}")


if __name__ == "__main__":
    main()
