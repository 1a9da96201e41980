#!/usr/bin/env python3
"""Accuracy and training throughput of the model zoo (and PyTorch, when installed).

    python benchmarks/train.py                               # throughput only, all models
    python benchmarks/train.py --epochs 10 --dataset fashion-mnist --models simple_cnn,resnet
    python benchmarks/train.py --json results.json

Throughput: images/s of full training steps (forward, cross-entropy, backward, optimizer step)
at ``--batch-size`` (64) on real images: the median step time over ``--steps`` timed steps
after a warm-up, in ``--rounds`` rounds interleaved with PyTorch; the median round is shown. Accuracy (``--epochs`` > 0): the best test accuracy of ``python -m npconv.train``
with the job's defaults for the chosen dataset. With PyTorch installed, the same models are
timed in PyTorch in the same process (same batch, same thread count) and the ratio shown;
otherwise that column says "skipped". On a busy machine, compare single-threaded:
``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/train.py``.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import npconv as nc  # noqa: E402  (before NumPy: it sets OpenBLAS's idle-thread timeout)
import numpy as np  # noqa: E402
import npconv.nn.functional as F  # noqa: E402
from npconv import optim  # noqa: E402
from npconv import train as job  # noqa: E402
from npconv.models import get_model  # noqa: E402

MODELS = ["lenet5", "seed_cnn", "simple_cnn", "resnet"]


def _batches(dataset_name, batch_size, n_batches):
    train, _, used = job.load_datasets(dataset_name, log=lambda s: None)
    idx = np.random.default_rng(0).permutation(len(train))[:batch_size * n_batches]
    out = []
    for k in range(n_batches):
        x, y = train.__getitems__(idx[k * batch_size:(k + 1) * batch_size])
        out.append((np.ascontiguousarray(x, np.float32), y.astype(np.int64)))
    return out, used


def _time_steps(step, batches, steps, warmup):
    for i in range(warmup):
        step(*batches[i % len(batches)])
    times = []
    for i in range(steps):
        t = time.perf_counter()
        step(*batches[i % len(batches)])
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def npconv_timer(name, batches, steps, warmup):
    nc.manual_seed(0)
    model = get_model(name)
    model.train()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = [(nc.tensor(x), nc.tensor(y)) for x, y in batches]

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return lambda: len(batches[0][1]) / _time_steps(step, data, steps, warmup)


def torch_model(name, torch):
    nn = torch.nn
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    if name == "seed_cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, 10))
    if name == "simple_cnn":
        ours = get_model("simple_cnn")
        layers = []
        for m in ours:
            k = type(m).__name__
            if k == "Conv2d":
                layers.append(nn.Conv2d(m.in_channels, m.out_channels, 3, padding=1,
                                        bias=False))
            elif k == "BatchNorm2d":
                layers.append(nn.BatchNorm2d(m.num_features))
            elif k == "ReLU":
                layers.append(nn.ReLU())
            elif k == "MaxPool2d":
                layers.append(nn.MaxPool2d(2))
            elif k == "Flatten":
                layers.append(nn.Flatten())
            elif k == "Dropout":
                layers.append(nn.Dropout(m.p))
            elif k == "Linear":
                layers.append(nn.Linear(m.in_features, m.out_features))
        return nn.Sequential(*layers)
    if name == "resnet":
        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.b1 = nn.BatchNorm2d(cout)
                self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                self.b2 = nn.BatchNorm2d(cout)
                self.sc = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                         nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else nn.Identity())

            def forward(self, x):
                y = torch.relu(self.b1(self.c1(x)))
                return torch.relu(self.b2(self.c2(y)) + self.sc(x))

        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    raise ValueError(name)


def torch_timer(name, batches, steps, warmup):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    # the same thread count as NumPy's BLAS: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS if set
    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
    torch.set_num_threads(int(threads) if threads else (os.cpu_count() or 1))
    model = torch_model(name, torch)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return lambda: len(batches[0][1]) / _time_steps(step, data, steps, warmup)


def accuracy(name, dataset, epochs, out):
    args = job.build_parser().parse_args(["--model", name, "--dataset", dataset,
                                          "--epochs", str(epochs), "--no-plots",
                                          "--out", os.path.join(out, name)])
    t = time.perf_counter()
    doc = job.train(args, log=lambda s: print("   " + s, flush=True)
                    if s.startswith("epoch") and ": train" in s else None)
    return doc["best"]["test_acc"], time.perf_counter() - t, doc["dataset"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--dataset", default="bundled")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    p.add_argument("--epochs", type=int, default=0, help="train each model to measure "
                   "accuracy (0: throughput only)")
    p.add_argument("--out", default="runs/bench")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    batches, used = _batches(args.dataset, args.batch_size, 8)
    rows = []
    for name in args.models.split(","):
        row = {"model": name, "batch": args.batch_size, "params": sum(
            q.numel() for q in get_model(name).parameters())}
        # interleaved rounds (npconv, torch, npconv, torch, ...): the machine's noise hits
        # both alike; the median round is reported
        timers = {"npconv": npconv_timer(name, batches, args.steps, args.warmup),
                  "torch": torch_timer(name, batches, args.steps, args.warmup)}
        got = {k: [] for k in timers}
        for _ in range(args.rounds):
            for k, timer in timers.items():
                if timer is not None:
                    got[k].append(timer())
        row["npconv_img_s"] = round(statistics.median(got["npconv"]), 1)
        row["torch_img_s"] = round(statistics.median(got["torch"]), 1) if got["torch"] else None
        if args.epochs > 0:
            acc, secs, ds = accuracy(name, args.dataset, args.epochs, args.out)
            row.update(test_acc=round(acc, 4), epochs=args.epochs, train_s=round(secs, 1),
                       dataset=ds)
        rows.append(row)
        print(json.dumps(row), flush=True)

    print("\n| model | params | npconv img/s (batch %d) | PyTorch img/s | ratio |%s"
          % (args.batch_size, " test acc | epochs | time |" if args.epochs else ""))
    print("|---|---|---|---|---|%s" % ("---|---|---|" if args.epochs else ""))
    for r in rows:
        tor = "skipped (not installed)" if r["torch_img_s"] is None else "%.0f" % r["torch_img_s"]
        ratio = "" if r["torch_img_s"] is None else "%.2f" % (r["npconv_img_s"] / r["torch_img_s"])
        acc = (" %.2f%% | %d | %.0f s |" % (100 * r["test_acc"], r["epochs"], r["train_s"])
               if args.epochs else "")
        print("| %s | %s | %.0f | %s | %s |%s" % (r["model"], "{:,}".format(r["params"]),
                                                  r["npconv_img_s"], tor, ratio, acc))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dataset": used, "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
