#!/usr/bin/env python3
"""long_context_report.py: the summary of scripts/long_context.sh: reads each
run's metrics.jsonl and its bitt eval JSON files under WORK and writes
OUT/results.json and OUT/report.md (markdown tables: one pass vs windows,
loss by position, the repeated story, recall by gap).

Usage: long_context_report.py WORK OUT "RUNS" "RECALL_RUNS"
"""
import json
import os
import sys


def last_eval(metrics):
    """The last evaluation line of a metrics.jsonl (windowed and one-pass validation)."""
    out = None
    with open(metrics) as f:
        for line in f:
            d = json.loads(line)
            if "val_loss" in d:
                out = d
    return out


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    work, out, runs, recall_runs = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
    res = {"runs": {}, "recall": {}}
    for r in runs:
        m = last_eval(os.path.join(work, r, "metrics.jsonl"))
        e = load(os.path.join(work, f"{r}.eval.json"))
        rep = load(os.path.join(work, f"{r}.repeat.json"))
        res["runs"][r] = {"windowed_loss": m["val_loss"], "windowed_bpb": m["val_bpb"],
                          "one_pass_16k_loss": m.get("val_stream_loss"), "eval": e, "repeat": rep["by_gap"]}
    for r in recall_runs:
        res["recall"][r] = load(os.path.join(work, f"recall-{r}.eval.json"))["by_gap"]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    L = []
    L.append("| mixer | windows of 128 (nats/token) | one pass over valid-head (nats/token) | one pass bits/byte |")
    L.append("|---|---|---|---|")
    for r, d in res["runs"].items():
        L.append(f"| {r} | {d['windowed_loss']:.3f} | {d['eval']['loss']:.3f} | {d['eval']['bits_per_byte']:.3f} |")
    L.append("")
    bins = sorted({(b["from"], b["to"]) for d in res["runs"].values() for b in d["eval"]["by_position"]})
    L.append("Loss by absolute position (one pass over valid-head):")
    L.append("")
    L.append("| positions | " + " | ".join(res["runs"]) + " |")
    L.append("|---|" + "---|" * len(res["runs"]))
    for (a, b) in bins:
        cells = []
        for d in res["runs"].values():
            v = [x["loss"] for x in d["eval"]["by_position"] if x["from"] == a and x["tokens"]]
            cells.append(f"{v[0]:.3f}" if v else "")
        L.append(f"| [{a}, {b}) | " + " | ".join(cells) + " |")
    L.append("")
    if "none" in res["runs"]:
        # what the memory adds at each position: the text's difficulty cancels out
        L.append("The same minus `none` (the gain of the memory at each position, nats/token; negative = better):")
        L.append("")
        others = [r for r in res["runs"] if r != "none"]
        L.append("| positions | " + " | ".join(others) + " |")
        L.append("|---|" + "---|" * len(others))
        base = {x["from"]: x["loss"] for x in res["runs"]["none"]["eval"]["by_position"] if x["tokens"]}
        for (a, b) in bins:
            if a not in base:
                continue
            cells = []
            for r in others:
                v = [x["loss"] for x in res["runs"][r]["eval"]["by_position"] if x["from"] == a and x["tokens"]]
                cells.append(f"{v[0] - base[a]:+.3f}" if v else "")
            L.append(f"| [{a}, {b}) | " + " | ".join(cells) + " |")
        L.append("")
    gates = {r: load(os.path.join(work, f"{r}.gates.json")) for r in runs + [f"recall-{x}" for x in recall_runs]
             if os.path.exists(os.path.join(work, f"{r}.gates.json"))}
    for r, g in gates.items():
        L.append(f"What the forget gate of `{r}` keeps ({g['tokens']} tokens of the validation text; "
                 "memory length = 1/mean(-l_t) tokens; kept = the share of the memory left after 256 / 1,024 tokens):")
        L.append("")
        L.append("| layer | head | initial length | length | median of 1/(-l_t) | kept after 256 | kept after 1,024 |")
        L.append("|---|---|---|---|---|---|---|")
        for h in g["heads"]:
            L.append(f"| {h['layer']} | {h['head']} | {h['init_length']:.0f} | {h['length']:.1f} | "
                     f"{h['median_gate_length']:.0f} | {h['kept_256']:.3f} | {h['kept_1024']:.3f} |")
        L.append("")
    L.append("Repeated story after a gap (valid-head paragraphs; gain = loss on A after another paragraph and the gap - loss on A after A and the gap, nats/token):")
    L.append("")
    gaps = [g["gap"] for g in next(iter(res["runs"].values()))["repeat"]]
    L.append("| mixer | " + " | ".join(f"gain at {g}" for g in gaps) + " | kept at " + str(gaps[-2] if len(gaps) > 2 else gaps[-1]) + " |")
    L.append("|---|" + "---|" * (len(gaps) + 1))
    for r, d in res["runs"].items():
        g = [x["gain"] for x in d["repeat"]]
        ratio = d["repeat"][-2 if len(gaps) > 2 else -1]["gain_vs_first_gap"]
        L.append(f"| {r} | " + " | ".join(f"{x:.3f}" for x in g) + f" | {100 * ratio:.0f}% |")
    L.append("")
    if res["recall"]:
        rgaps = [g["gap"] for g in next(iter(res["recall"].values()))]
        L.append("Recall task (accuracy of the answers, 100 questions per gap):")
        L.append("")
        L.append("| mixer | " + " | ".join(f"gap {g}" for g in rgaps) + " |")
        L.append("|---|" + "---|" * len(rgaps))
        for r, gs in res["recall"].items():
            L.append(f"| {r} | " + " | ".join(f"{100 * g['accuracy']:.0f}%" for g in gs) + " |")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
