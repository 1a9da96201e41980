"""The main job: train a CNN on Fashion-MNIST (or MNIST, KMNIST) with one command.

    python -m npconv.train          # simple_cnn on Fashion-MNIST (or the bundled subset)
    python -m npconv.train --model resnet --epochs 10 --out runs/resnet
    python -m npconv.train --resume runs/simple_cnn-fashion-mnist/last.npz

Each epoch shows a progress bar (loss, accuracy, images/s; plain lines when stdout is not a
terminal) and then the test-set loss and accuracy. In ``--out`` it writes ``best.npz`` (the
weights of the best epoch, ``npconv.load``-able), ``last.npz`` (a resumable checkpoint: model,
optimizer, position, random state), ``metrics.json`` and, when matplotlib is installed,
``curves.png`` and ``confusion_matrix.png``. Ctrl-C stops after the current step, saves
``last.npz`` and exits cleanly (status 130; on an epoch's last step the epoch is evaluated
and saved first, and on the run's last step the run simply finishes); ``--resume`` continues
exactly where it stopped (the same seed gives the same metrics, interrupted or not), except
that on a GPU the dropout masks after the resume differ (see ``_rng_state``).

A resumed run keeps the checkpoint's options. Given on the command line, ``--epochs`` (more
epochs extend a run), ``--device``, ``--eval-batch-size``, ``--data-root``, ``--download`` and
``--out`` replace the saved ones, and ``--no-plots`` applies to this invocation; any other
option given with a value that differs from the checkpoint's is an error.

A loss that becomes NaN or infinite stops the run with an error (exit status 1) before any
checkpoint is saved: ``best.npz`` and ``last.npz`` keep the last good state, and
``metrics.json`` records the error.
"""
import argparse
import json
import math
import os
import re
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
from npconv.models import MODELS, get_model
from npconv.serialization import CheckpointError

import npconv.nn.functional as F

__all__ = ["main", "build_parser", "train", "load_datasets", "evaluate", "OptionError",
           "DivergedError"]

DATASETS = {"fashion-mnist": FashionMNIST, "mnist": MNIST, "kmnist": KMNIST,
            "bundled": BundledFashionMNIST}
# per-dataset (mean, std) of the training pixels in [0, 1]
NORM = {"fashion-mnist": (0.2860, 0.3530), "bundled": (0.2860, 0.3530),
        "mnist": (0.1307, 0.3081), "kmnist": (0.1918, 0.3483)}
# default learning rate per optimizer
DEFAULT_LR = {"sgd": 0.05, "adam": 2e-3, "adamw": 2e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adam": 0.0, "adamw": 0.01}


class OptionError(ValueError):
    """An option, or an option and the checkpoint to resume, that cannot work (the CLI prints
    it as a usage error: one line, exit status 2)."""


class DivergedError(RuntimeError):
    """The loss became NaN or infinite (the CLI prints it, exit status 1)."""


# ------------------------------------------------------------------------------- options
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % text)
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:           # NumPy's generators take no negative seeds
        raise argparse.ArgumentTypeError("expected an integer >= 0, got %r" % text)
    return value


def _float(minimum_excluded):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and (value > 0 if minimum_excluded else value >= 0)
        if not ok:
            raise argparse.ArgumentTypeError("expected a finite number %s, got %r" % (
                "> 0" if minimum_excluded else ">= 0", text))
        return value
    return parse


def _model_name(text):
    # the names get_model knows, checked here so that a typo fails before any data is read
    key = text.lower().replace("-", "_")
    m = re.fullmatch(r"resnet(\d+)(?:w(\d+))?", key)
    if key in MODELS or (m and int(m.group(1)) >= 8 and (int(m.group(1)) - 2) % 6 == 0
                         and (m.group(2) is None or int(m.group(2)) >= 1)):
        return text
    raise argparse.ArgumentTypeError(
        "%r is not a model: expected %s, resnetD (depth D = 6n + 2 >= 8, e.g. resnet14) or "
        "resnetDwW (width W >= 1, e.g. resnet8w32)" % (text, ", ".join(MODELS)))


def _device_name(text):
    try:
        nc.device(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected cpu, cuda or cuda:N, got %r" % text) \
            from None
    return text


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that also records which options were given on the command line
    (``args._given``): a resumed run must tell "--lr 0.002 given" from "the default"."""

    def parse_known_args(self, args=None, namespace=None):
        ns, rest = super().parse_known_args(args, namespace)
        # argparse fills in a default only where the namespace lacks the attribute: parse
        # again into a namespace pre-filled with a marker, what is no longer it was given
        unset = object()
        dests = [a.dest for a in self._actions if a.dest != argparse.SUPPRESS]
        probe = argparse.Namespace(**{d: unset for d in dests})
        super().parse_known_args(args, probe)
        ns._given = frozenset(d for d in dests if getattr(probe, d) is not unset)
        return ns, rest

    def error(self, message):
        # one line, not argparse's screenful of usage: the message names the option
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


def build_parser():
    p = _Parser(
        prog="npconv-train", description="Train a CNN from the npconv model zoo on "
        "Fashion-MNIST, MNIST or KMNIST and evaluate it on the test set every epoch.")
    p.add_argument("--model", default="simple_cnn", type=_model_name,
                   help="lenet5, seed_cnn, simple_cnn (default), resnet, resnetD (D=6n+2), resnetDwW (width W)")
    p.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS),
                   help="default fashion-mnist; falls back to the bundled subset when the "
                   "full set is not found")
    p.add_argument("--data-root", default=None, help="folder with the IDX files")
    p.add_argument("--download", action="store_true",
                   help="download the dataset from its official mirrors if it is missing")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help="default: 4 on the bundled subset, 1 on a full 60,000-image set "
                   "(about the same number of steps: a few minutes on 2 CPU cores); with "
                   "--resume, the total to reach (more than the checkpoint's extends a run)")
    p.add_argument("--batch-size", type=_positive_int, default=128)
    p.add_argument("--lr", type=_float(True), default=None,
                   help="peak learning rate (default: sgd 0.05, adam/adamw 0.002)")
    p.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw"])
    p.add_argument("--weight-decay", type=_float(False), default=None,
                   help="default 5e-4 for sgd, 0 for adam, 0.01 for adamw")
    p.add_argument("--schedule", default="onecycle", choices=["onecycle", "cosine", "constant"],
                   help="learning-rate schedule over all steps (default onecycle: linear "
                   "warm-up for 20%% of the steps, then cosine decay)")
    p.add_argument("--augment", action="store_true",
                   help="random crops (padding 2), plus horizontal flips for Fashion-MNIST")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--device", default="cpu", type=_device_name, help="cpu or cuda[:N]")
    p.add_argument("--out", default=None,
                   help="output folder (default runs/<model>-<dataset>)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue from a last.npz written by an earlier (interrupted) run, "
                   "with its options; --epochs, --device, --eval-batch-size, --data-root, "
                   "--download and --out may be changed, any other option must match")
    p.add_argument("--eval-batch-size", type=_positive_int, default=256)
    p.add_argument("--limit-train", type=_positive_int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--limit-test", type=_positive_int, default=None, help=argparse.SUPPRESS)
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
    wd = DEFAULT_WEIGHT_DECAY[name] if weight_decay is None else weight_decay
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    return optim.AdamW(params, lr=lr, weight_decay=wd)


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


# Only the host (NumPy) generator's state is saved: it draws the initial weights (the model
# is built on the CPU), the augmentations and, on the CPU, the dropout masks. On a GPU the
# dropout masks come from the device's generator, ``_random.generator(cupy)``: a
# ``cupy.random.Generator`` over an XORWOW BitGenerator whose state is a buffer of cuRAND
# states in GPU memory. CuPy has no public API to read or set it (``bit_generator.state()``
# returns only a device pointer; the buffer is the private ``bit_generator._state``; the
# legacy ``cupy.random.RandomState`` has no get/set_state either), and the stand-in GPU
# (npconv/_standin.py) models only the public API, so saving it could be neither done
# through supported calls nor tested without a GPU. So a run resumed on a GPU restarts the
# device stream from the seed: a model with dropout (simple_cnn, seed_cnn) then draws other
# masks after the resume than the uninterrupted run would, and its metrics differ slightly
# (tests/test_train.py pins this on the stand-in). Models without dropout (lenet5, resnet)
# and every run on the CPU resume exactly.
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


def _json_safe(obj):
    """``obj`` with every NaN or infinity replaced by None: JSON has no such numbers, and
    ``json.dumps`` would write the invalid tokens NaN and Infinity."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _write_metrics(out, doc):
    _atomic_write_text(os.path.join(out, "metrics.json"),
                       json.dumps(_json_safe(doc), indent=1, allow_nan=False))


def _public(args):
    """The options as a dict, without the parser's bookkeeping (``_given``)."""
    return {k: v for k, v in vars(args).items() if not k.startswith("_")}


# ------------------------------------------------------------------------------- resume
# Given on the command line, these replace a resumed checkpoint's: they say how and where to
# run, not what to train (more --epochs extend the run; the schedule then spans the new total)
RESUME_OVERRIDES = ("epochs", "device", "eval_batch_size", "data_root", "download", "out")
# taken from the command line, never from the checkpoint
RESUME_PER_RUN = ("resume", "no_plots")
_META_KEYS = ("args", "epoch", "step", "partial", "history", "best", "rng")


def _load_checkpoint(path):
    """The checkpoint at ``path``, checked to be one ``train`` can resume."""
    try:
        ck = nc.load(path)
    except FileNotFoundError:
        raise OptionError("--resume %s: no such file" % path) from None
    except IsADirectoryError:
        raise OptionError("--resume %s: is a folder; expected the last.npz file in it"
                          % path) from None
    except OSError as e:        # unreadable (permissions, I/O): no traceback for a CLI user
        raise OptionError("--resume %s: cannot read it: %s" % (path, e.strerror or e)) \
            from None
    except CheckpointError as e:
        raise OptionError("--resume %s: %s" % (path, e)) from None
    if isinstance(ck, dict) and ck and all(isinstance(v, nc.Tensor) for v in ck.values()):
        raise OptionError("not a resumable checkpoint: %s holds model weights only (as "
                          "best.npz does); resume from the run's last.npz" % path)
    missing = [k for k in ("model", "optimizer", "meta") if not isinstance(ck, dict)
               or k not in ck]
    if not missing:
        missing = ["meta." + k for k in _META_KEYS if not isinstance(ck["meta"], dict)
                   or k not in ck["meta"]]
    if missing:
        raise OptionError("not a resumable checkpoint: %s lacks %s (the last.npz written by "
                          "npconv.train holds model, optimizer and meta)"
                          % (path, ", ".join(missing)))
    return ck


def _effective(key, opts):
    """The value option ``key`` stands for in ``opts`` (None means a per-optimizer default)."""
    v = opts.get(key)
    if key == "lr" and v is None:
        return DEFAULT_LR[opts["optimizer"]]
    if key == "weight_decay" and v is None:
        return DEFAULT_WEIGHT_DECAY[opts["optimizer"]]
    if key == "model" and isinstance(v, str):
        return v.lower().replace("-", "_")
    return v


def _option(key):
    return "--" + key.replace("_", "-")


def _merge_resumed(args, meta):
    """Replace ``args`` by the checkpoint's options, keeping the overridable ones given on
    the command line; an explicitly given option that contradicts the checkpoint is an
    error (changing the hyperparameters midway would not continue the same run)."""
    saved = meta["args"]
    given = getattr(args, "_given", None)
    if given is None:           # a Namespace built by hand: what differs from the defaults
        defaults = vars(build_parser().parse_args([]))
        given = {k for k, v in vars(args).items() if k in defaults and v != defaults[k]}
    cli = _public(args)
    for key in sorted(given):
        if key in RESUME_OVERRIDES or key in RESUME_PER_RUN or key not in saved:
            continue
        mine, theirs = _effective(key, cli), _effective(key, saved)
        if mine != theirs:
            if isinstance(theirs, bool):
                raise OptionError("%s is given, but the checkpoint's run had it off: a "
                                  "resumed run keeps its options" % _option(key))
            raise OptionError("%s %s differs from the checkpoint's %s: a resumed run keeps "
                              "its hyperparameters (only %s may change)" % (
                                  _option(key), cli[key], "default" if theirs is None
                                  else theirs, ", ".join(_option(k) for k in RESUME_OVERRIDES)))
    merged = dict(saved)
    for key in RESUME_OVERRIDES:
        if key in given:
            merged[key] = cli[key]
    for key in RESUME_PER_RUN:
        merged[key] = cli[key]
    done = meta["epoch"]
    if merged["epochs"] <= done:
        # epoch index ``done`` is the next to train (step 0) or the one interrupted midway
        finished = "%d epoch%s" % (done, "" if done == 1 else "s")
        if "epochs" in given:
            raise OptionError("--epochs %d: the checkpoint has already finished %s; pass "
                              "--epochs M with M > %d to continue"
                              % (merged["epochs"], finished, done))
        raise OptionError("%s: the run has already finished its %s; pass --epochs M with "
                          "M > %d to continue training" % (args.resume, finished, done))
    vars(args).update(merged)
    return args


def _check_out(out):
    """Refuse an ``--out`` that cannot become a folder (a file, or under a file or a folder
    that is not writable) before any data is read; nothing is created here, so that a
    refused run leaves no trace."""
    path = os.path.abspath(out)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    if not os.path.isdir(path):
        raise OptionError("--out %s: %s is a file, not a folder" % (out, path))
    if not os.access(path, os.W_OK | os.X_OK):
        raise OptionError("--out %s: %s is not writable" % (out, path))


def _check_device(args):
    try:
        nc.zeros(1).to(args.device)
    except RuntimeError as e:
        hint = ""
        if args.resume and "device" not in getattr(args, "_given", ()):
            hint = " (the checkpoint's device; --device cpu resumes on the CPU)"
        raise OptionError("--device %s: %s%s" % (args.device, e, hint)) from None


# ------------------------------------------------------------------------------- training
def _checkpoint(model, opt, meta):
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "meta": meta}


def train(args, log=print, step_hook=None):
    """Run the job described by ``args`` (an ``argparse.Namespace`` from ``build_parser``).
    Returns the metrics dict (also written to ``<out>/metrics.json``); ``metrics["interrupted"]``
    is true when Ctrl-C stopped it. ``step_hook(global_step)`` is called after every step.
    Raises ``OptionError`` for options that cannot work (a device that is not available, a
    checkpoint that cannot be resumed or contradicts the options given) before anything is
    written, and ``DivergedError`` when the loss becomes NaN or infinite (``metrics.json``
    then says so in ``"error"``; ``best.npz`` and ``last.npz`` keep the last good epoch).

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
        resume = _load_checkpoint(args.resume)
        meta = resume["meta"]
        _merge_resumed(args, meta)
    _check_device(args)
    if args.out:
        _check_out(args.out)
    if resume is not None:
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
        try:
            model.load_state_dict(resume["model"])
            opt.load_state_dict(resume["optimizer"])
        except (KeyError, ValueError, RuntimeError) as e:
            why = " ".join(str(e).split())          # one line, however long the list
            raise OptionError("--resume %s: its state does not fit %s: %s" % (
                args.resume, args.model, why if len(why) < 300 else why[:300] + "...")) \
                from None
        history, best = meta["history"], meta["best"]
        start_epoch, start_step, partial = meta["epoch"], meta["step"], meta["partial"]
        _set_rng_state(meta["rng"])

    try:
        os.makedirs(out, exist_ok=True)     # only now: a refused resume leaves no trace
    except OSError as e:                    # the default runs/... (not checked early)
        raise OptionError("--out %s: cannot create the folder: %s" % (out, e)) from None
    log("npconv-train: %s (%s parameters) on %s: %d train / %d test images, %d epoch%s, "
        "batch %d, %s lr %g, %s schedule, device %s -> %s" % (
            args.model, "{:,}".format(n_params), used, n_train, len(test_ds), args.epochs,
            "" if args.epochs == 1 else "s", bs, args.optimizer, lr, args.schedule, device,
            out))

    def metrics_doc(interrupted=False, conf=None):
        doc = {"model": args.model, "dataset": used, "parameters": n_params,
               "train_images": n_train, "test_images": len(test_ds), "classes": classes,
               "args": _public(args), "lr": lr, "history": history, "best": best,
               "interrupted": interrupted}
        if conf is not None:
            doc["confusion_matrix"] = conf.tolist()
        return doc

    last_path = os.path.join(out, "last.npz")

    def position(epoch, step):
        return "after epoch %d" % epoch if step == 0 else "epoch %d, step %d" % (epoch + 1,
                                                                                step)

    # where this run's last.npz stands: the one it wrote, or the one it resumed from (a
    # last.npz of an earlier run in the same folder is not ours to offer)
    resumed_here = resume is not None and os.path.exists(last_path) and os.path.samefile(
        args.resume, last_path)
    ckpt = {"written": False,
            "at": position(meta["epoch"], meta["step"]) if resumed_here else None}

    def save_resumable(epoch, step, part, path):
        meta = {"args": _public(args), "epoch": epoch, "step": step, "partial": part,
                "history": history, "best": best, "rng": _rng_state()}
        nc.save(_checkpoint(model, opt, meta), path)
        ckpt["written"] = True
        ckpt["at"] = position(epoch, step)

    def diverged(what):
        # nothing is saved from here on: last.npz and best.npz keep the last good state
        kept = ("; %s (%s) is kept" % (last_path, ckpt["at"]) if ckpt["at"]
                else "; nothing was saved")
        msg = "training diverged: %s; try a lower --lr than %g%s%s" % (
            what, lr, " in a new run" if resume is not None else "", kept)
        doc = metrics_doc(False)
        doc["error"] = msg
        _write_metrics(out, doc)
        return DivergedError(msg)

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
                loss_value = float(loss.item())    # the one host sync per step
                if not math.isfinite(loss_value):
                    raise diverged("the loss is %s at epoch %d/%d, step %d/%d (learning rate "
                                   "%.3g)" % (loss_value, epoch + 1, args.epochs, step + 1,
                                              steps_per_epoch, opt.param_groups[0]["lr"]))
                part["loss"] += loss_value * nb
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
            if not math.isfinite(test_loss):    # the last step's update broke the weights
                raise diverged("the test loss after epoch %d/%d is %s"
                               % (epoch + 1, args.epochs, test_loss))
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
            _write_metrics(out, metrics_doc(False, conf))
            if stop["flag"] and epoch + 1 < args.epochs:    # after the last epoch: finish
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        # the flag path saved last.npz after a whole step; a hard KeyboardInterrupt (second
        # Ctrl-C) keeps the last.npz of the last finished epoch, which is consistent too
        interrupted = True
        again = "\n  continue with: python -m npconv.train --resume %s" % last_path
        if ckpt["written"]:
            log("\ninterrupted: resumable checkpoint saved to %s%s" % (last_path, again))
        elif resumed_here:
            log("\ninterrupted: nothing new saved; %s is still the checkpoint this run "
                "resumed from%s" % (last_path, again))
        else:       # a last.npz there would be an earlier run's: not ours to offer
            log("\ninterrupted before the first checkpoint: nothing to resume")

    doc = metrics_doc(interrupted, conf)
    _write_metrics(out, doc)
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        doc = train(args)
    except OptionError as e:
        parser.error(str(e))            # usage and one line, exit status 2, as argparse's own
    except DatasetNotFoundError as e:
        print("error: " + str(e), file=sys.stderr)
        return 2
    except DivergedError as e:
        print("error: " + str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:           # a second Ctrl-C before training started
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 130 if doc["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
