#!/usr/bin/env python3
"""Peak memory (RSS) of training steps, npconv against PyTorch, one process per measurement.

    python benchmarks/memory.py                      # lenet and seedcnn, batch 64, 20 steps
    python benchmarks/memory.py --models seedcnn --batch 128 --frameworks npconv

Each (framework, model) runs in a fresh Python process: import the framework, build the
model (the two of ``../shared/bench/peers.py``) and the data, note the RSS ("base"), run
``--steps`` training steps (forward, cross-entropy, backward, SGD-momentum), note the peak
RSS. Reported: base, peak, and the step's own memory (peak - base: activations, saved
buffers, gradients, workspaces). PyTorch's row is skipped when it is not installed.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))


def child(framework, model, batch, steps, threads):
    import _models
    data = _models.batches(batch)
    if framework == "torch":
        _, step = _models.torch_step(model, threads=threads)
    else:
        _, step = _models.npconv_step(model)
    base = _models.peak_rss_mib()
    cur = _models.rss_mib()
    for i in range(steps):
        step(*data[i % len(data)])
    return {"framework": framework, "model": model, "batch": batch, "steps": steps,
            "base_peak_mib": round(base, 1), "base_rss_mib": round(cur, 1),
            "peak_mib": round(_models.peak_rss_mib(), 1),
            "step_mib": round(_models.peak_rss_mib() - cur, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="lenet,seedcnn")
    ap.add_argument("--frameworks", default="npconv,torch")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "MODEL"), help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.batch, args.steps,
                               args.threads)))
        return None
    rows = []
    for model in args.models.split(","):
        for fw in args.frameworks.split(","):
            cmd = [sys.executable, os.path.abspath(__file__), "--child", fw, model,
                   "--batch", str(args.batch), "--steps", str(args.steps),
                   "--threads", str(args.threads)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                err = (p.stderr.strip().splitlines() or ["failed"])[-1]
                rows.append({"framework": fw, "model": model, "error": err})
                continue
            rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
    print("| model | framework | RSS after import+build MiB | peak RSS MiB | "
          "step's own MiB (peak - base) | peak vs torch | step's own vs torch |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        if "error" in r:
            print("| %s | %s | skipped: %s | | | | |" % (r["model"], r["framework"], r["error"]))
            continue
        t = next((q for q in rows if q["model"] == r["model"] and q["framework"] == "torch"
                  and "error" not in q), None)
        ratio = "%.2fx" % (r["peak_mib"] / t["peak_mib"]) if t else "-"
        sratio = ("%.2fx" % (r["step_mib"] / t["step_mib"]) if t and t["step_mib"] > 0
                  else "-")
        print("| %s | %s | %.1f | %.1f | %.1f | %s | %s |"
              % (r["model"], r["framework"], r["base_rss_mib"], r["peak_mib"], r["step_mib"],
                 ratio, sratio))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
