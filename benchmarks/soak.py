#!/usr/bin/env python3
"""Soak test: many training steps in a row, resident memory sampled as they go.

    python benchmarks/soak.py                         # LeNet, batch 64, 2,000 steps
    python benchmarks/soak.py --model seedcnn --steps 2000 --every 100

Each step builds a fresh graph (forward, cross-entropy, backward, SGD-momentum update); once a
step is over, its graph and the buffers saved for backward must be gone, so after the warm-up
(caches filled, scratch workspaces made, optimizer state allocated) the RSS stays flat.
Prints a table of samples (step, RSS MiB, live Python objects) and the growth after warm-up;
``--json`` also writes them. Exit status 1 when the growth exceeds ``--max-growth-mib``
(default: no check). The figures are in ``benchmarks/RESULTS.md``.
"""
import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _models  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="lenet", choices=("lenet", "seedcnn"))
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100, help="steps before the reference sample")
    ap.add_argument("--every", type=int, default=100, help="sample every this many steps")
    ap.add_argument("--max-growth-mib", type=float, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    warmup = min(args.warmup, args.steps)

    _, step = _models.npconv_step(args.model)
    data = _models.batches(args.batch)
    samples = [{"step": 0, "rss_mib": _models.rss_mib(), "objects": len(gc.get_objects())}]
    t0 = time.perf_counter()
    loss = None
    for i in range(1, args.steps + 1):
        loss = step(*data[i % len(data)])
        if i % args.every == 0 or i == warmup or i == args.steps:
            samples.append({"step": i, "rss_mib": _models.rss_mib(),
                            "objects": len(gc.get_objects()), "loss": round(loss, 4)})
    wall = time.perf_counter() - t0
    ref = next(s for s in samples if s["step"] >= warmup)
    after = [s for s in samples if s["step"] >= warmup]
    growth = after[-1]["rss_mib"] - ref["rss_mib"]
    spread = max(s["rss_mib"] for s in after) - min(s["rss_mib"] for s in after)
    obj_growth = after[-1]["objects"] - ref["objects"]

    print("soak: %s, batch %d, %d steps in %.1f s (%.1f ms/step)"
          % (args.model, args.batch, args.steps, wall, 1e3 * wall / args.steps))
    print("| step | RSS MiB | live objects | loss |")
    print("|---:|---:|---:|---:|")
    for s in samples:
        print("| %d | %.1f | %d | %s |" % (s["step"], s["rss_mib"], s["objects"],
                                          s.get("loss", "")))
    print("RSS growth after warm-up (step %d -> %d): %+.2f MiB (max-min %.2f MiB); "
          "live objects %+d; peak RSS %.1f MiB"
          % (ref["step"], args.steps, growth, spread, obj_growth, _models.peak_rss_mib()))
    result = {"model": args.model, "batch": args.batch, "steps": args.steps,
              "warmup": warmup, "samples": samples, "growth_mib": growth,
              "spread_mib": spread, "object_growth": obj_growth,
              "peak_rss_mib": _models.peak_rss_mib(), "wall_s": wall}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    if args.max_growth_mib is not None and growth > args.max_growth_mib:
        print("FAIL: RSS grew by %.2f MiB > %.2f" % (growth, args.max_growth_mib))
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
