"""test_reference.py: the ctest test `reference_pytorch`: the independent
PyTorch implementation (bitllama.py, written from SPEC 1) against the C
trainer and engine.

  python3 test_reference.py --bitt build/bitt --dump-grads build/bitt_dump_grads \
                            --dump-logits build/bitt_dump_logits [--keep DIR] \
                            [--device cpu|cuda] [--cuda-trainer]

--device cuda (or BITT_REFERENCE_DEVICE=cuda) runs the reference's
gradient and logit cases on the GPU (float64; the reference's own
self-checks stay on the CPU); SKIP when torch sees no GPU. --cuda-trainer
adds the C trainer's CUDA backend (bitt_dump_grads --precision f32 --device
cuda, the plugin next to it): for every model with float activations and
latent weights (no rounding flips), fresh and carried, against the C CPU
trainer in float32 (loss 1e-5, every gradient 1e-4) and the float64
reference (loss 1e-5, gradients 1e-3), the carried state it starts from,
and W0/b0 exactly without gradient where they must be; SKIP when the
plugin finds no GPU. scripts/gpu_check.sh runs both.

It makes its own data (bitt corpus, tokenizer train, prepare), tiny models
(bitt init, weights then perturbed so that every part matters; one model
from a short bitt train run), and checks:
  - gradients: for each variant (linear, linear with state_decay, linear with
    the forget gate when `bitt init --help` offers --forget-gate, seed, none),
    act_quant int8 and none, ternary weights on and off, a fresh state (with
    a partial last mini-batch) and a carried one: bitt_dump_grads (float64)
    and the reference (float64) give the same batch loss (relative error
    <= 1e-5) and every parameter gradient (|g_ref - g_c| / |g_c| <= 1e-4, the
    denominator floored at 1e-9 of the largest gradient norm); the names
    match; every tensor has a gradient, except W0/b0 from a carried state
    without decay or gate, which must get exactly none on both sides;
  - one float32 trainer run against the float64 reference (looser);
  - logits: packed .bitt v2 files (bitt convert --packed, F16 and I8
    embeddings), a .bitt v1 and the checkpoint directory read by the
    reference give bitt_dump_logits' last logits after a text with the float
    lm_head (max difference <= 1e-4 of the largest logit);
  - the reference itself: dual form = primal form (plain, decay, gate; fresh
    and carried), the closed-form inner gradient = autograd, round half away
    from zero, the I8 + row_scale embedding form;
  - that the comparison can fail: C with ternary weights against the
    reference without them, and the decay model run without its decay, must
    both disagree by far more than the tolerances.
Exit status 0 pass, 1 fail, 77 skip (no torch: ctest SKIP_RETURN_CODE)."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77

try:
    import numpy as np
    import torch
except ImportError as e:  # reported as a skip through ctest's SKIP_RETURN_CODE
    print(f"SKIP: the PyTorch reference needs torch and numpy ({e}); install python3-torch")
    sys.exit(SKIP)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitllama as bl  # noqa: E402

LOSS_TOL = 1e-5
GRAD_TOL = 1e-4
LOGIT_TOL = 1e-4
CUDA_REF_GRAD_TOL = 1e-3  # the float32 CUDA trainer against the float64 reference
DEVICE = "cpu"            # where the reference runs (--device)

DIM, LAYERS, HEADS, INTER, MB = 16, 2, 2, 24, 4   # f = 8, mini-batch 4
T_FRESH, T_CARRY, CARRY = 22, 16, 2              # 5 full mini-batches + a partial one; 4 full
STARTS = [40, 333, 1001]

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL: " + msg)
    return ok


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr}")
    return r.stdout


class Tools:
    def __init__(self, a, work):
        self.bitt, self.dump_grads, self.dump_logits, self.work = a.bitt, a.dump_grads, a.dump_logits, work
        self.init_help = run([self.bitt, "init", "--help"])
        self.has_gate = "--forget-gate" in self.init_help


# ---------------------------------------------------------------- data

def make_data(tools):
    w = tools.work
    run([tools.bitt, "corpus", "--out", f"{w}/stories.txt", "--stories", "40", "--seed", "3"])
    run([tools.bitt, "tokenizer", "train", "--input", f"{w}/stories.txt", "--vocab", "300", "--out",
         f"{w}/tok.json", "--quiet"])
    run([tools.bitt, "prepare", "--tokenizer", f"{w}/tok.json", "--input", f"{w}/stories.txt", "--out",
         f"{w}/train.bin", "--quiet"])
    ids, _ = bl.read_tokens(f"{w}/train.bin")
    assert len(ids) > max(STARTS) + T_FRESH + 1, len(ids)
    return ids


# ---------------------------------------------------------------- models

def perturb(directory, seed, base_lr=None, inner_lr=None):
    """Adds noise to every weight of a checkpoint (norms, LN and biases away
    from 1/0, W0 and the gates big enough to matter) and sets base_lr /
    inner_lr, writing model.safetensors back through the reference's writer."""
    rng = np.random.default_rng(seed)
    cfg_path = os.path.join(directory, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    shapes = bl.param_shapes(bl.normalize_config(cfg))
    path = os.path.join(directory, "model.safetensors")
    tensors, _ = bl.read_safetensors(path)
    for name, t in tensors.items():
        if ".lr." in name:
            amp = 1.0
        elif "lm_head" in name:
            amp = 0.5
        elif ".forget." in name:
            amp = 0.5
        elif ".W0" in name or shapes[name][1]:  # W0, BitLinear latent weights
            amp = 0.3
        else:                                   # embed, norms, LN, biases
            amp = 0.2
        tensors[name] = (t + amp * rng.standard_normal(t.shape)).astype(np.float32)
    bl.write_safetensors(path, tensors)
    if base_lr is not None:
        cfg["base_lr"] = base_lr
    if inner_lr is not None:
        cfg["inner_lr"] = inner_lr
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)


def make_model(tools, name, variant, act_quant, decay=1.0, gate=False, seed=1):
    d = os.path.join(tools.work, name)
    cmd = [tools.bitt, "init", "--out", d, "--tokenizer", f"{tools.work}/tok.json", "--dim", str(DIM),
           "--layers", str(LAYERS), "--heads", str(HEADS), "--intermediate", str(INTER), "--mini-batch", str(MB),
           "--variant", variant, "--seed", str(seed)]
    if not act_quant:
        cmd.append("--no-act-quant")
    if decay != 1.0:
        cmd += ["--state-decay", str(decay)]
    if variant == "linear" and tools.has_gate:
        cmd += ["--forget-gate", "on" if gate else "off"]
    run(cmd)
    with open(os.path.join(d, "config.json")) as f:
        got = bool(json.load(f).get("forget_gate", False))
    if variant == "linear" and got != gate:
        raise RuntimeError(f"{name}: bitt init gave forget_gate {got}, wanted {gate} (which flag turns it off?)")
    perturb(d, seed + 100, base_lr=2.0 if variant == "linear" else None, inner_lr=0.5 if variant == "seed" else None)
    return d


def make_trained(tools):
    """A checkpoint of a real (3-step) stateful bitt train run: linear, state_decay 0.8, int8."""
    out = os.path.join(tools.work, "run")
    cmd = [tools.bitt, "train", "--data", f"{tools.work}/train.bin", "--tokenizer", f"{tools.work}/tok.json",
           "--out", out, "--dim", str(DIM), "--layers", str(LAYERS), "--heads", str(HEADS), "--mini-batch", str(MB),
           "--context", "16", "--batch", "4", "--steps", "3", "--warmup", "1", "--lr", "1e-2", "--state-decay", "0.8",
           "--carry-state", "--threads", "1", "--val-tokens", "0", "--save-interval", "0", "--eval-interval", "0"]
    if "--forget-gate" in run([tools.bitt, "train", "--help"]):
        cmd += ["--forget-gate", "off"]  # state_decay 0.8: the fixed decay, not the gate
    run(cmd)
    return os.path.join(out, "checkpoint")


# ---------------------------------------------------------------- gradient cases

def c_grads(tools, model_dir, T, carry, quant_weights, precision="f64", device="cpu"):
    out = os.path.join(tools.work, f"grads-{device}.safetensors")
    cmd = [tools.dump_grads, "--model", model_dir, "--data", f"{tools.work}/train.bin", "--context", str(T),
           "--starts", ",".join(map(str, STARTS)), "--carry", str(carry), "--precision", precision, "--out", out]
    if device != "cpu":
        cmd += ["--device", device]
    if not quant_weights:
        cmd.append("--no-quant-weights")
    run(cmd)
    tensors, _ = bl.read_safetensors(out)
    return tensors


def compare(label, c, ref_loss, ref_grads, expect_zero=(), ref_state=None):
    """-> (loss relative error, worst gradient error, its tensor); records failures."""
    loss_c = float(c["loss"][0])
    loss_err = abs(ref_loss - loss_c) / abs(loss_c)
    check(loss_err <= LOSS_TOL, f"{label}: loss {ref_loss:.12g} (reference) vs {loss_c:.12g} (C), "
                                f"relative error {loss_err:.2e}")
    c_names = set(c) - {"loss", "seq_loss", "carried_state"}
    check(c_names == set(ref_grads), f"{label}: tensor names differ: only C {sorted(c_names - set(ref_grads))}, "
                                     f"only reference {sorted(set(ref_grads) - c_names)}")
    if ref_state is not None:  # the carried state the batch started from, in the C layout
        e = float(np.abs(ref_state - c["carried_state"]).max() / np.abs(c["carried_state"]).max())
        check(e <= LOSS_TOL, f"{label}: carried state differs by {e:.2e} of its largest value")
    norms = {n: float(np.linalg.norm(c[n])) for n in c_names & set(ref_grads)}
    floor = 1e-9 * max(norms.values())
    worst, worst_name = 0.0, "-"
    for n in sorted(c_names & set(ref_grads)):
        gr = ref_grads[n].detach().cpu().double().numpy()
        gc = c[n].astype(np.float64)
        diff = float(np.linalg.norm(gr - gc))
        if n in expect_zero:  # no gradient reaches the start state from a carried one
            check(norms[n] == 0.0 and float(np.linalg.norm(gr)) == 0.0,
                  f"{label}: {n} must get no gradient (C {norms[n]:.3g}, reference {np.linalg.norm(gr):.3g})")
            continue
        check(norms[n] > floor, f"{label}: {n} has no gradient (|g_c| = {norms[n]:.3g})")
        err = diff / max(norms[n], floor)
        check(err <= GRAD_TOL, f"{label}: {n}: relative gradient error {err:.2e} (|g_c| = {norms[n]:.3g})")
        if err > worst:
            worst, worst_name = err, n
    return loss_err, worst, worst_name


def ref_batch(model_dir, ids, T, carry, quant_weights, dtype=torch.float64, **over):
    """-> (loss, {name: grad}, the carried state flat in the C layout or None)."""
    m = bl.load_model(model_dir, dtype=dtype, device=DEVICE, quant_weights=quant_weights)
    m.c.update(over)
    loss, _, grads, state = bl.batch_grads(m, ids, T, STARTS, carry)
    flat = m.state_to_flat(state).cpu().numpy() if state is not None and m.state_floats() else None
    return loss, grads, flat


def grad_cases(tools, ids, models):
    rows = []
    for label, d, variant, decay, gate in models:
        for act in (1, 0):
            model_dir = d[act]
            for qw in (1, 0):
                for carry in (0, CARRY):
                    T = T_CARRY if carry else T_FRESH
                    c = c_grads(tools, model_dir, T, carry, qw)
                    loss, grads, state = ref_batch(model_dir, ids, T, carry, qw)
                    zero = ()
                    if carry and variant == "linear" and decay == 1.0 and not gate:
                        zero = tuple(n for n in grads if n.endswith(".W0") or n.endswith(".b0"))
                    case = f"{label:13s} act={'int8' if act else 'none'} ternary={qw} {'carried' if carry else 'fresh  '}"
                    le, ge, gn = compare(case, c, loss, grads, zero, state)
                    rows.append((case, le, ge, gn))
    return rows


def dump_errors(a, b, names, floor_scale=1e-9):
    """-> (loss relative error, {name: relative norm error}) of dump b against dump a."""
    le = abs(float(b["loss"][0]) - float(a["loss"][0])) / abs(float(a["loss"][0]))
    norms = {n: float(np.linalg.norm(a[n])) for n in names}
    floor = floor_scale * max(norms.values())
    return le, {n: float(np.linalg.norm(b[n].astype(np.float64) - a[n])) / max(norms[n], floor) for n in names}


def cuda_trainer_cases(tools, ids, models):
    """The C trainer on its CUDA backend against its CPU backend (both float32) and the float64 reference:
    float activations, latent weights (no rounding flips), every model, fresh and carried."""
    rows = []
    for label, d, variant, decay, gate in models:
        model_dir = d[0]  # act_quant none
        for carry in (0, CARRY):
            T = T_CARRY if carry else T_FRESH
            case = f"{label:13s} {'carried' if carry else 'fresh  '}"
            g = c_grads(tools, model_dir, T, carry, 0, precision="f32", device="cuda")
            c = c_grads(tools, model_dir, T, carry, 0, precision="f32")
            loss, grads, state = ref_batch(model_dir, ids, T, carry, 0)
            names = sorted(set(g) - {"loss", "seq_loss", "carried_state"})
            check(names == sorted(set(c) - {"loss", "seq_loss", "carried_state"}), f"CUDA {case}: tensor names differ")
            le, errs = dump_errors(c, g, names)
            check(le <= LOSS_TOL, f"CUDA {case}: loss {float(g['loss'][0]):.9g} vs the CPU's "
                                  f"{float(c['loss'][0]):.9g} ({le:.2e})")
            zero = ()
            if carry and variant == "linear" and decay == 1.0 and not gate:
                zero = tuple(n for n in names if n.endswith(".W0") or n.endswith(".b0"))
            for n in names:
                if n in zero:
                    check(float(np.abs(g[n]).max()) == 0.0, f"CUDA {case}: {n} must get no gradient")
                else:
                    check(errs[n] <= GRAD_TOL, f"CUDA {case}: {n}: {errs[n]:.2e} from the CPU trainer")
            if carry and c["carried_state"].size:
                e = float(np.abs(g["carried_state"] - c["carried_state"]).max() / np.abs(c["carried_state"]).max())
                check(e <= LOSS_TOL, f"CUDA {case}: carried state differs by {e:.2e} of its largest value")
            ref = {n: grads[n].detach().cpu().double().numpy() for n in names}
            ref["loss"] = np.array([loss])
            lr_, rerrs = dump_errors(ref, g, [n for n in names if n not in zero])
            check(lr_ <= LOSS_TOL, f"CUDA {case}: loss {lr_:.2e} from the float64 reference")
            worst_ref = max(rerrs.values())
            check(worst_ref <= CUDA_REF_GRAD_TOL, f"CUDA {case}: gradients {worst_ref:.2e} from the float64 reference")
            worst = max(errs[n] for n in names if n not in zero)
            rows.append((case, le, worst, max(errs, key=lambda n: errs[n] if n not in zero else -1), lr_, worst_ref))
    return rows


# ---------------------------------------------------------------- logits

TEXTS = ["Once upon a time, Tom", "Lily wanted a red ball. She asked her mom, and her mom said yes. They went to",
         "The"]


def logits_cases(tools, models):
    rows = []
    for label, d in models:
        packed, v1 = os.path.join(tools.work, label + ".v2.bitt"), os.path.join(tools.work, label + ".v1.bitt")
        packed_i8 = os.path.join(tools.work, label + ".v2-i8.bitt")
        run([tools.bitt, "convert", d, packed, "--packed", "--embed", "f16"])
        run([tools.bitt, "convert", d, packed_i8, "--packed", "--embed", "i8"])
        run([tools.bitt, "convert", d, v1])
        for path, form in ((packed, "v2"), (packed_i8, "v2-i8"), (v1, "v1"), (d, "dir")):
            m = bl.load_model(path, device=DEVICE, requires_grad=False)
            if form.startswith("v2"):
                check(m.bitt_version == 2 and len(m.ternary) > 0, f"{label}: {packed} did not load as packed v2")
            for text in TEXTS:
                tok = json.loads(run([tools.bitt, "tokenize", "--tokenizer", f"{tools.work}/tok.json", "--text",
                                      text, "--json"]))["ids"]
                ids = torch.tensor([[2] + tok])  # a fresh session reads </s> first
                with torch.no_grad():
                    ref = m.forward(ids)[0][0, -1].cpu().numpy()
                # the float lm_head: the reference dequantises an I8 file's rows as the engine does
                c = np.array(json.loads(run([tools.dump_logits, "--float-lm-head", path, text]))["logits"])
                err = float(np.abs(ref - c).max() / max(1.0, np.abs(c).max()))
                check(err <= LOGIT_TOL, f"logits {label} {form} ({len(tok) + 1} tokens): max difference {err:.2e}")
                rows.append((f"{label} {form} {len(tok) + 1} tokens", err))
    return rows


# ---------------------------------------------------------------- the reference on its own

def self_checks(tools, decay_dir, gate_dir, linear_dir, ids):
    # round half away from zero, as C roundf (torch.round gives 2, -2, 0 for these)
    x = torch.tensor([2.5, -2.5, 0.5, -0.5, 1.49999999, 0.49999999999999994], dtype=torch.float64)
    got = bl.round_half_away(x).tolist()
    check(got == [3.0, -3.0, 1.0, -1.0, 1.0, 0.0], f"round_half_away gives {got}")
    # the closed-form inner gradient of SPEC 1.2 against autograd
    g = torch.Generator().manual_seed(5)
    z = torch.randn(3, 8, dtype=torch.float64, generator=g).requires_grad_(True)
    y, lw, lb = (torch.randn(3, 8, dtype=torch.float64, generator=g) for _ in range(3))
    loss = 0.5 * ((bl.inner_ln(z, lw, lb) - y) ** 2).sum()
    (auto,) = torch.autograd.grad(loss, z)
    err = float((auto - bl.inner_grad(z, y, lw, lb)).abs().max())
    check(err < 1e-12, f"inner gradient closed form vs autograd: {err:.2e}")
    # dual form = primal form (logits and final state), fresh and from a carried state; T_FRESH has a
    # partial mini-batch, T_CARRY ends on a boundary. The gate model is built here when bitt has no gate.
    models = [bl.load_model(d, requires_grad=False) for d in [linear_dir, decay_dir] + ([gate_dir] if gate_dir else [])]
    models.append(with_gate(bl.load_model(linear_dir, requires_grad=False), seed=11))
    first = torch.tensor(np.stack([ids[s - T_CARRY: s + 1] for s in STARTS]))
    worst = 0.0
    for m in models:
        name = "gate" if m.c["forget_gate"] else "decay" if m.c["state_decay"] != 1 else "plain"
        with torch.no_grad():
            _, state = bl.carried_windows(m, [first])
            for st in (None, state):
                for T in (T_FRESH, T_CARRY):
                    win = torch.tensor(np.stack([ids[s: s + T] for s in STARTS]))
                    m.ttt_form = "dual"
                    zd, sd = m.forward(win, st)
                    m.ttt_form = "primal"
                    zp, sp = m.forward(win, st)
                    m.ttt_form = "dual"
                    e = float((zd - zp).abs().max() / zd.abs().max())
                    if T % MB == 0:
                        e = max(e, float((m.state_to_flat(sd) - m.state_to_flat(sp)).abs().max()))
                    check(e < 1e-10, f"dual vs primal form ({name}, {'carried' if st else 'fresh'}, T={T}): {e:.2e}")
                    worst = max(worst, e)
    # the gate's limit a = 1 (bias -> -inf) is SPEC 1.2 exactly; a random gate matters
    plain = bl.load_model(linear_dir, requires_grad=False)
    win = torch.tensor(np.stack([ids[s: s + T_CARRY + 1] for s in STARTS]))
    with torch.no_grad():
        _, state = bl.carried_windows(plain, [first])
        l_plain = float(plain.loss(win, state)[0])
        keep1 = with_gate(bl.load_model(linear_dir, requires_grad=False), seed=12, bias=-60.0)
        e1 = abs(float(keep1.loss(win, state)[0]) - l_plain) / l_plain
        d_gate = abs(float(models[-1].loss(win, state)[0]) - l_plain)
    check(e1 < 1e-12, f"forget gate with a = 1: {e1:.2e} from the model without a gate")
    check(d_gate > 1e-3, f"a random forget gate changes the loss by only {d_gate:.2e}")
    # the I8 + row_scale embedding form of .bitt v2, written here from an F16 file by the SPEC 3.3 rule
    c, tok, params, ternary, _ = bl.read_model_files(os.path.join(tools.work, "linear.v2.bitt"))
    emb = params["embed.weight"]
    rs = np.abs(emb).max(axis=1) / 127.0
    q = bl.round_half_away(torch.tensor(emb / np.where(rs > 0, rs, 1)[:, None])).numpy().astype(np.int8)
    with open(os.path.join(tools.work, "linear.v2.bitt"), "rb") as f:
        buf = f.read()
    h = int.from_bytes(buf[4:12], "little")
    tensors, _ = bl.parse_safetensors(buf[12 + h:])
    tensors["embed.weight"] = q
    tensors["embed.weight_row_scale"] = rs.astype(np.float32)
    i8_path = os.path.join(tools.work, "linear.i8.bitt")
    with open(i8_path, "wb") as f:
        f.write(buf[:12 + h] + bl.safetensors_bytes(tensors))
    _, _, p8, _, _ = bl.read_model_files(i8_path)
    e = float(np.abs(p8["embed.weight"] - emb).max())
    check(0 < e <= float(rs.astype(np.float32).max()) * 0.5 + 1e-7, f"I8 embedding read back off by {e:.3g}")
    return worst


def with_gate(m, seed, bias=None):
    """m with a forget gate added (SPEC 1.2.1): forget.weight random, forget.bias the SPEC's
    initialisation plus noise, or the constant bias given."""
    g = torch.Generator().manual_seed(seed)
    H, D = m.c["num_heads"], m.c["hidden_dim"]
    params = {n: p.detach() for n, p in m.params.items()}
    for i in range(m.c["num_layers"]):
        params[f"layers.{i}.ttt.forget.weight"] = 0.5 * torch.randn(H, D, generator=g, dtype=torch.float64)
        b = torch.tensor(bl.forget_bias_init(H)) + 0.2 * torch.randn(H, generator=g, dtype=torch.float64)
        params[f"layers.{i}.ttt.forget.bias"] = b if bias is None else torch.full((H,), bias, dtype=torch.float64)
    if bias is not None:
        for i in range(m.c["num_layers"]):
            params[f"layers.{i}.ttt.forget.weight"].zero_()
    return bl.BitLlama(dict(m.c, forget_gate=True), params, requires_grad=False)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="PyTorch reference vs the C trainer and engine")
    ap.add_argument("--bitt", required=True)
    ap.add_argument("--dump-grads", required=True)
    ap.add_argument("--dump-logits", required=True)
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("--device", default=os.environ.get("BITT_REFERENCE_DEVICE", "cpu"), choices=["cpu", "cuda"],
                    help="where the reference runs (default cpu, or $BITT_REFERENCE_DEVICE)")
    ap.add_argument("--cuda-trainer", action="store_true", help="also check the C trainer's CUDA backend")
    a = ap.parse_args()
    global DEVICE
    DEVICE = a.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print(f"SKIP: --device cuda: torch {torch.__version__} sees no CUDA GPU")
        return SKIP
    torch.set_num_threads(1)
    t0 = time.time()
    work = a.keep or tempfile.mkdtemp(prefix="bitt_reference_")
    if a.keep:  # start empty
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    try:
        tools = Tools(a, work)
        print(f"torch {torch.__version__} on {DEVICE}"
              f"{' (' + torch.cuda.get_device_name(0) + ')' if DEVICE == 'cuda' else ''}; forget gate in bitt: "
              f"{'yes' if tools.has_gate else 'no (bitt init --help has no --forget-gate): gate cases skipped'}")
        ids = make_data(tools)
        specs = [("linear", "linear", 1.0, False), ("linear-decay", "linear", 0.7, False)]
        if tools.has_gate:
            specs.append(("linear-gate", "linear", 1.0, True))
        specs += [("seed", "seed", 1.0, False), ("none", "none", 1.0, False)]
        models = []
        for k, (label, variant, decay, gate) in enumerate(specs):
            dirs = {act: make_model(tools, f"{label}-{'int8' if act else 'none'}", variant, act, decay, gate, seed=k + 1)
                    for act in (1, 0)}
            models.append((label, dirs, variant, decay, gate))
        trained = make_trained(tools)
        if a.cuda_trainer:  # the plugin finds a GPU, or the whole test is a skip
            try:
                c_grads(tools, models[0][1][0], T_FRESH, 0, 0, precision="f32", device="cuda")
            except RuntimeError as e:
                if "no CUDA GPU" in str(e):
                    print("SKIP: --cuda-trainer: " + str(e).strip().splitlines()[-1])
                    return SKIP
                raise

        rows = grad_cases(tools, ids, models)
        for carry in (0, CARRY):  # a real training checkpoint
            T = T_CARRY if carry else T_FRESH
            c = c_grads(tools, trained, T, carry, 1)
            loss, grads, state = ref_batch(trained, ids, T, carry, 1)
            case = f"trained       act=int8 ternary=1 {'carried' if carry else 'fresh  '}"
            rows.append((case,) + compare(case, c, loss, grads, (), state))
        print(f"{'gradient case':46s} {'loss err':>9s} {'grad err':>9s}  worst tensor")
        for case, le, ge, gn in rows:
            print(f"{case:46s} {le:9.1e} {ge:9.1e}  {gn}")
        print(f"worst over {len(rows)} cases: loss {max(r[1] for r in rows):.1e}, gradient {max(r[2] for r in rows):.1e}")

        # the float32 trainer against the float64 reference (quantisation off: no rounding flips)
        lin = models[0][1][0]
        c = c_grads(tools, lin, T_FRESH, 0, 0, precision="f32")
        loss, grads, _ = ref_batch(lin, ids, T_FRESH, 0, 0)
        le32 = abs(loss - float(c["loss"][0])) / loss
        ge32 = max(float(np.linalg.norm(grads[n].detach().cpu().numpy() - c[n]) / np.linalg.norm(c[n])) for n in grads)
        check(le32 < 1e-5 and ge32 < 1e-2, f"float32 trainer: loss error {le32:.2e}, gradient error {ge32:.2e}")
        print(f"float32 trainer vs float64 reference (linear, act none, no ternary): loss {le32:.1e}, gradient {ge32:.1e}")

        # the comparison can fail
        q_on = models[0][1][1]
        c = c_grads(tools, q_on, T_FRESH, 0, 1)
        loss, grads, _ = ref_batch(q_on, ids, T_FRESH, 0, 0)
        ge = max(float(np.linalg.norm(grads[n].detach().cpu().numpy() - c[n]) / max(np.linalg.norm(c[n]), 1e-30))
                 for n in grads)
        check(ge > 100 * GRAD_TOL, f"control: ternary weights on in C, off in the reference: only {ge:.2e} apart")
        dec = models[1][1][1]
        c = c_grads(tools, dec, T_CARRY, CARRY, 1)
        loss, _, _ = ref_batch(dec, ids, T_CARRY, CARRY, 1, state_decay=1.0)
        le = abs(loss - float(c["loss"][0])) / float(c["loss"][0])
        check(le > 100 * LOSS_TOL, f"control: state_decay dropped in the reference: loss only {le:.2e} apart")
        print(f"controls (must disagree): ternary off in the reference {ge:.1e}; decay dropped {le:.1e}")

        if a.cuda_trainer:
            crows = cuda_trainer_cases(tools, ids, models)
            print(f"{'CUDA trainer case':24s} {'loss err':>9s} {'grad err':>9s}  {'worst tensor':34s} "
                  f"{'ref loss':>9s} {'ref grad':>9s}")
            for case, le, ge, gn, rl, rg in crows:
                print(f"{case:24s} {le:9.1e} {ge:9.1e}  {gn:34s} {rl:9.1e} {rg:9.1e}")
            print(f"CUDA trainer (float32, act none, latent weights) over {len(crows)} cases: against the CPU "
                  f"trainer loss {max(r[1] for r in crows):.1e}, gradient {max(r[2] for r in crows):.1e}; against the "
                  f"float64 reference loss {max(r[4] for r in crows):.1e}, gradient {max(r[5] for r in crows):.1e}")

        lrows = logits_cases(tools, [(m[0], m[1][1]) for m in models])
        print(f"logits: worst {max(r[1] for r in lrows):.1e} of the largest logit over {len(lrows)} "
              f"(packed v2, v1, checkpoint dir; {len(models)} models x {len(TEXTS)} texts)")
        gate_dir = models[2][1][1] if tools.has_gate else None
        e = self_checks(tools, models[1][1][1], gate_dir, models[0][1][1], ids)
        print(f"reference self-checks: dual vs primal worst {e:.1e}")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAILED: ' + str(len(failures)) + ' checks' if failures else 'all checks passed'} "
          f"in {time.time() - t0:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
