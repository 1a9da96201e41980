"""The main job: train a CNN on Fashion-MNIST (or MNIST, KMNIST) with one command.

    python -m npconv.train          # simple_cnn on Fashion-MNIST (or the bundled subset)
    python -m npconv.train --model resnet --epochs 10 --out runs/resnet
    python -m npconv.train --resume runs/simple_cnn-fashion-mnist/last.npz

Each epoch shows a progress bar (loss, accuracy, images/s; plain lines when stdout is not a
terminal) and then the test-set loss and accuracy. In ``--out`` it writes ``best.npz`` (the
weights of the best epoch, ``npconv.load``-able), ``last.npz`` (a resumable checkpoint: model,
optimizer, position, random state), ``metrics.json`` and, when matplotlib is installed,
``curves.png`` and ``confusion_matrix.png``. Ctrl-C stops after the current step, saves
``last.npz`` and exits cleanly; ``--resume`` continues exactly where it stopped (the same seed
gives the same metrics, interrupted or not).
"""
import argparse
import json
import math
import os
import signal
import sys
import tempfile
import time

import numpy as np

import npconv as nc
from npconv import optim
from npconv import random as _random
from npconv.data import (KMNIST, MNIST, BundledFashionMNIST, DataLoader, DatasetNotFoundError,
                         FashionMNIST, Subset)
from npconv.data import transforms as T
from npconv.models import get_model

import npconv.nn.functional as F

__all__ = ["main", "build_parser", "train", "load_datasets", "evaluate"]

DATASETS = {"fashion-mnist": FashionMNIST, "mnist": MNIST, "kmnist": KMNIST,
            "bundled": BundledFashionMNIST}
# per-dataset (mean, std) of the training pixels in [0, 1]
NORM = {"fashion-mnist": (0.2860, 0.3530), "bundled": (0.2860, 0.3530),
        "mnist": (0.1307, 0.3081), "kmnist": (0.1918, 0.3483)}
# default learning rate per optimizer
DEFAULT_LR = {"sgd": 0.05, "adam": 2e-3, "adamw": 2e-3}


def build_parser():
    p = argparse.ArgumentParser(
        prog="npconv-train", description="Train a CNN from the npconv model zoo on "
        "Fashion-MNIST, MNIST or KMNIST and evaluate it on the test set every epoch.")
    p.add_argument("--model", default="simple_cnn",
                   help="lenet5, seed_cnn, simple_cnn (default), resnet, resnetD (D=6n+2), resnetDwW (width W)")
    p.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS),
                   help="default fashion-mnist; falls back to the bundled subset when the "
                   "full set is not found")
    p.add_argument("--data-root", default=None, help="folder with the IDX files")
    p.add_argument("--download", action="store_true",
                   help="download the dataset from its official mirrors if it is missing")
    p.add_argument("--epochs", type=int, default=None,
                   help="default: 4 on the bundled subset, 1 on a full 60,000-image set "
                   "(about the same number of steps: a few minutes on 2 CPU cores)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=None,
                   help="peak learning rate (default: sgd 0.05, adam/adamw 0.002)")
    p.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw"])
    p.add_argument("--weight-decay", type=float, default=None,
                   help="default 5e-4 for sgd, 0 for adam, 0.01 for adamw")
    p.add_argument("--schedule", default="onecycle", choices=["onecycle", "cosine", "constant"],
                   help="learning-rate schedule over all steps (default onecycle: linear "
                   "warm-up for 20%% of the steps, then cosine decay)")
    p.add_argument("--augment", action="store_true",
                   help="random crops (padding 2), plus horizontal flips for Fashion-MNIST")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--out", default=None,
                   help="output folder (default runs/<model>-<dataset>)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue from a last.npz written by an earlier (interrupted) run")
    p.add_argument("--eval-batch-size", type=int, default=256)
    p.add_argument("--limit-train", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--limit-test", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--no-plots", action="store_true", help="do not write the PNG figures")
    return p


# ------------------------------------------------------------------------------- data
def load_datasets(name, root=None, download=False, augment=False, log=print):
    """(train set, test set, dataset name actually used); falls back to the bundled subset,
    with a message, when the full Fashion-MNIST is not found."""
    used = name
    cls = DATASETS[name]
    mean, std = NORM[name]
    try:
        train_ds = cls(root=root, train=True, download=download)
        test_ds = cls(root=root, train=False, download=download)
    except DatasetNotFoundError as e:
        if name != "fashion-mnist":
            raise
        log("note: the full Fashion-MNIST was not found, training on the bundled subset "
            "(12,000 train / 2,000 test images) instead.\n" + "\n".join(
                "      " + line for line in str(e).splitlines()[1:]))
        used = "bundled"
        train_ds, test_ds = BundledFashionMNIST(train=True), BundledFashionMNIST(train=False)
    steps = []
    if augment:
        steps.append(T.RandomCrop(28, padding=2))
        if used in ("fashion-mnist", "bundled"):
            steps.append(T.RandomHorizontalFlip())
    train_ds.transform = T.Compose(steps + [T.Normalize((mean,), (std,))])
    test_ds.transform = T.Normalize((mean,), (std,))
    return train_ds, test_ds, used


def _limit(ds, n):
    if n is None or n >= len(ds):
        return ds
    return Subset(ds, np.arange(n))


# ------------------------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar redrawn in place on a terminal; on a pipe or file, plain
    lines (about every 10 seconds, and at the end)."""

    def __init__(self, total, desc, stream=None, width=24):
        self.total, self.desc, self.width = total, desc, width
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self.last = 0.0

    def _line(self, done, stats):
        frac = done / max(self.total, 1)
        parts = ["%s=%s" % (k, v) for k, v in stats.items()]
        if self.tty:
            n = int(frac * self.width)
            bar = "[" + "#" * n + "." * (self.width - n) + "]"
            return "%s %s %3d%% %s" % (self.desc, bar, int(100 * frac), " ".join(parts))
        return "%s %d/%d %s" % (self.desc, done, self.total, " ".join(parts))

    def update(self, done, stats, final=False):
        now = time.perf_counter()
        if self.tty:
            if final or now - self.last > 0.1:
                self.stream.write("\r\x1b[K" + self._line(done, stats))
                if final:
                    self.stream.write("\n")
                self.stream.flush()
                self.last = now
        elif final or now - self.last > 10.0:
            self.stream.write(self._line(done, stats) + "\n")
            self.stream.flush()
            self.last = now


# ------------------------------------------------------------------------------- helpers
def _lr_at(step, total, peak, schedule):
    if schedule == "constant" or total <= 1:
        return peak
    t = step / (total - 1)
    if schedule == "cosine":
        return peak * 0.5 * (1 + math.cos(math.pi * t))
    warm = 0.2
    if t < warm:                                    # onecycle: 4% -> 100% linearly
        return peak * (0.04 + 0.96 * t / warm)
    return peak * (0.5 * (1 + math.cos(math.pi * (t - warm) / (1 - warm))) * 0.999 + 0.001)


def _make_optimizer(name, params, lr, weight_decay):
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True,
                         weight_decay=5e-4 if weight_decay is None else weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay or 0.0)
    return optim.AdamW(params, lr=lr, weight_decay=0.01 if weight_decay is None
                       else weight_decay)


def _set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


def _atomic_write_text(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)       # mkstemp makes 0600; give the usual permissions
    os.replace(tmp, path)


def _rng_state():
    return _random.generator(np).bit_generator.state


def _set_rng_state(state):
    _random.generator(np).bit_generator.state = state


def evaluate(model, dataset, batch_size=256, device=None, num_classes=10):
    """(mean loss, accuracy, confusion matrix [true, predicted]) of ``model`` on ``dataset``."""
    model.eval()
    total_loss, n = 0.0, 0
    conf = np.zeros((num_classes, num_classes), np.int64)
    with nc.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size, device=device):
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            yb = np.asarray(y.to("cpu").numpy())
            pred = np.asarray(logits.to("cpu").numpy()).argmax(axis=1)
            total_loss += float(loss.item()) * len(yb)
            n += len(yb)
            conf += np.bincount(yb * num_classes + pred,
                                minlength=num_classes ** 2).reshape(num_classes, num_classes)
    return total_loss / max(n, 1), float(np.trace(conf)) / max(n, 1), conf


def _plot(out, history, conf, classes, log):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    ep = [h["epoch"] for h in history]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(ep, [h["train_loss"] for h in history], "o-", label="train")
    a1.plot(ep, [h["test_loss"] for h in history], "o-", label="test")
    a1.set_xlabel("epoch"); a1.set_ylabel("cross-entropy"); a1.legend(); a1.grid(alpha=.3)
    a2.plot(ep, [h["train_acc"] for h in history], "o-", label="train")
    a2.plot(ep, [h["test_acc"] for h in history], "o-", label="test")
    a2.set_xlabel("epoch"); a2.set_ylabel("accuracy"); a2.legend(); a2.grid(alpha=.3)
    from matplotlib.ticker import MaxNLocator
    for a in (a1, a2):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    p1 = os.path.join(out, "curves.png")
    fig.savefig(p1, dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(conf, cmap="Blues")
    k = len(conf)
    ax.set_xticks(range(k)); ax.set_yticks(range(k))
    ax.set_xticklabels(classes, rotation=45, ha="right"); ax.set_yticklabels(classes)
    ax.set_xlabel("predicted"); ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(conf[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if conf[i, j] > conf.max() / 2 else "black")
    fig.colorbar(im)
    fig.tight_layout()
    p2 = os.path.join(out, "confusion_matrix.png")
    fig.savefig(p2, dpi=100)
    plt.close(fig)
    return [p1, p2]


# ------------------------------------------------------------------------------- training
def _checkpoint(model, opt, meta):
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "meta": meta}


def train(args, log=print, step_hook=None):
    """Run the job described by ``args`` (an ``argparse.Namespace`` from ``build_parser``).
    Returns the metrics dict (also written to ``<out>/metrics.json``); ``metrics["interrupted"]``
    is true when Ctrl-C stopped it. ``step_hook(global_step)`` is called after every step.

    While it runs, SIGINT (Ctrl-C) only raises a flag: the current step finishes, a resumable
    checkpoint is saved and the function returns. A second Ctrl-C interrupts at once."""
    stop = {"flag": False}

    def on_sigint(signum, frame):
        if stop["flag"]:
            raise KeyboardInterrupt
        stop["flag"] = True

    try:
        old_handler = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:          # not in the main thread: Ctrl-C raises KeyboardInterrupt
        old_handler = None
    try:
        return _train(args, log, step_hook, stop)
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)


def _train(args, log, step_hook, stop):
    resume = None
    if args.resume:
        resume = nc.load(args.resume)
        meta = resume["meta"]
        saved = meta["args"]
        keep = {"resume": args.resume, "out": args.out or saved.get("out"),
                "no_plots": args.no_plots}
        vars(args).update(saved)
        vars(args).update(keep)
        log("resuming %s from %s (epoch %d, step %d)" % (
            args.model, args.resume, meta["epoch"] + 1, meta["step"]))
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    nc.manual_seed(args.seed)

    train_ds, test_ds, used = load_datasets(args.dataset, args.data_root, args.download,
                                            args.augment, log=log)
    args.dataset = used                 # a resumed run keeps the data it started on
    if args.epochs is None:
        args.epochs = 4 if len(train_ds) <= 20000 else 1
    classes = list(getattr(train_ds, "classes", range(10)))
    train_ds, test_ds = _limit(train_ds, args.limit_train), _limit(test_ds, args.limit_test)
    num_classes = len(classes)
    out = args.out or os.path.join("runs", "%s-%s" % (args.model, used))
    args.out = out
    os.makedirs(out, exist_ok=True)

    device = args.device
    model = get_model(args.model, num_classes=num_classes, in_channels=1)
    if device and device != "cpu":
        model.to(device)
    opt = _make_optimizer(args.optimizer, model.parameters(), lr, args.weight_decay)
    n_params = sum(p.numel() for p in model.parameters())

    bs = args.batch_size
    n_train = len(train_ds)
    steps_per_epoch = -(-n_train // bs)
    total_steps = steps_per_epoch * args.epochs
    history, best = [], {"epoch": 0, "test_acc": -1.0}
    start_epoch, start_step, partial = 0, 0, {"loss": 0.0, "correct": 0, "seen": 0,
                                               "time": 0.0}
    if resume is not None:
        model.load_state_dict(resume["model"])
        opt.load_state_dict(resume["optimizer"])
        history, best = meta["history"], meta["best"]
        start_epoch, start_step, partial = meta["epoch"], meta["step"], meta["partial"]
        _set_rng_state(meta["rng"])

    log("npconv-train: %s (%s parameters) on %s: %d train / %d test images, %d epochs, "
        "batch %d, %s lr %g, %s schedule, device %s -> %s" % (
            args.model, "{:,}".format(n_params), used, n_train, len(test_ds), args.epochs, bs,
            args.optimizer, lr, args.schedule, device, out))

    def metrics_doc(interrupted=False, conf=None):
        doc = {"model": args.model, "dataset": used, "parameters": n_params,
               "train_images": n_train, "test_images": len(test_ds), "classes": classes,
               "args": vars(args), "lr": lr, "history": history, "best": best,
               "interrupted": interrupted}
        if conf is not None:
            doc["confusion_matrix"] = conf.tolist()
        return doc

    def save_resumable(epoch, step, part, path):
        meta = {"args": vars(args), "epoch": epoch, "step": step, "partial": part,
                "history": history, "best": best, "rng": _rng_state()}
        nc.save(_checkpoint(model, opt, meta), path)

    last_path = os.path.join(out, "last.npz")
    interrupted = False
    conf = None
    epoch = start_epoch
    try:
        for epoch in range(start_epoch, args.epochs):
            order = np.random.default_rng([args.seed, epoch]).permutation(n_train)
            step0 = start_step if epoch == start_epoch else 0
            part = dict(partial) if epoch == start_epoch else {"loss": 0.0, "correct": 0,
                                                               "seen": 0, "time": 0.0}
            loader = DataLoader(Subset(train_ds, order[step0 * bs:]), batch_size=bs,
                                device=device)
            bar = Progress(steps_per_epoch, "epoch %d/%d" % (epoch + 1, args.epochs))
            model.train()
            t0 = time.perf_counter() - part["time"]
            step = step0
            for x, y in loader:
                _set_lr(opt, _lr_at(epoch * steps_per_epoch + step, total_steps, lr,
                                    args.schedule))
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                nb = len(y)
                part["loss"] += float(loss.item()) * nb
                pred = np.asarray(logits.detach().to("cpu").numpy()).argmax(axis=1)
                part["correct"] += int((pred == np.asarray(y.to("cpu").numpy())).sum())
                part["seen"] += nb
                step += 1
                el = time.perf_counter() - t0
                bar.update(step, {"loss": "%.4f" % (part["loss"] / part["seen"]),
                                  "acc": "%.4f" % (part["correct"] / part["seen"]),
                                  "img/s": "%.0f" % (part["seen"] / max(el, 1e-9))},
                           final=step == steps_per_epoch)
                if step_hook is not None:
                    step_hook(epoch * steps_per_epoch + step)
                if stop["flag"] and step < steps_per_epoch:
                    part["time"] = time.perf_counter() - t0
                    save_resumable(epoch, step, part, last_path)
                    raise KeyboardInterrupt
            train_time = time.perf_counter() - t0
            test_loss, test_acc, conf = evaluate(model, test_ds, args.eval_batch_size, device,
                                                 num_classes)
            rec = {"epoch": epoch + 1, "train_loss": part["loss"] / part["seen"],
                   "train_acc": part["correct"] / part["seen"], "test_loss": test_loss,
                   "test_acc": test_acc, "train_time_s": round(train_time, 3),
                   "images_per_s": round(part["seen"] / max(train_time, 1e-9), 1),
                   "lr_end": _lr_at((epoch + 1) * steps_per_epoch - 1, total_steps, lr,
                                    args.schedule)}
            history.append(rec)
            log("epoch %d/%d: train loss %.4f acc %.4f | test loss %.4f acc %.4f | %.0f img/s"
                % (epoch + 1, args.epochs, rec["train_loss"], rec["train_acc"], test_loss,
                   test_acc, rec["images_per_s"]))
            if test_acc > best["test_acc"]:
                best = {"epoch": epoch + 1, "test_acc": test_acc, "test_loss": test_loss}
                nc.save(model.state_dict(), os.path.join(out, "best.npz"))
            save_resumable(epoch + 1, 0, {"loss": 0.0, "correct": 0, "seen": 0, "time": 0.0},
                           last_path)
            _atomic_write_text(os.path.join(out, "metrics.json"),
                               json.dumps(metrics_doc(False, conf), indent=1))
            if stop["flag"]:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        # the flag path saved last.npz after a whole step; a hard KeyboardInterrupt (second
        # Ctrl-C) keeps the last.npz of the last finished epoch, which is consistent too
        interrupted = True
        if os.path.exists(last_path):
            log("\ninterrupted: resumable checkpoint saved to %s\n  continue with: "
                "python -m npconv.train --resume %s" % (last_path, last_path))
        else:
            log("\ninterrupted before the first checkpoint: nothing to resume")

    doc = metrics_doc(interrupted, conf)
    _atomic_write_text(os.path.join(out, "metrics.json"), json.dumps(doc, indent=1))
    if not interrupted:
        log("best test accuracy %.4f (epoch %d); wrote %s" % (
            best["test_acc"], best["epoch"], ", ".join(
                os.path.join(out, f) for f in ("best.npz", "last.npz", "metrics.json"))))
        if not args.no_plots and conf is not None:
            figs = _plot(out, history, conf, classes, log)
            if figs:
                log("figures: " + ", ".join(figs))
            else:
                log("(install matplotlib for curves.png and confusion_matrix.png)")
    return doc


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        doc = train(args)
    except DatasetNotFoundError as e:
        print("error: " + str(e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:           # a second Ctrl-C before training started
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 130 if doc["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
