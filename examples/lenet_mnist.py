"""Train LeNet-5 on MNIST: the classic, written out as a plain training loop.

    python examples/lenet_mnist.py                  # MNIST from root, $NPCONV_DATA or ~/.cache
    python examples/lenet_mnist.py --download       # fetch it first (checksums verified)

Three epochs of SGD with momentum reach about 99% test accuracy.
"""
import argparse
import time

import numpy as np

import npconv as nc
import npconv.nn.functional as F
from npconv import optim
from npconv.data import MNIST, DataLoader, DatasetNotFoundError, Subset
from npconv.data import transforms as T
from npconv.models import lenet5


def accuracy(model, dataset, batch_size=1000):
    model.eval()
    correct = 0
    with nc.no_grad():
        for x, y in DataLoader(dataset, batch_size):
            correct += int((model(x).numpy().argmax(axis=1) == y.numpy()).sum())
    return correct / len(dataset)


def _not_found(error, args):
    """The library's not-found message, with this script's own options as the ways out
    (the library's suggests npconv.train's flags)."""
    lines = str(error).splitlines()
    if "Ways to get it:" in lines:
        lines = lines[:lines.index("Ways to get it:")]
    how = ("check the network connection, or download on a machine with internet access"
           if args.download else
           "run this script with --download on a machine with internet access")
    return "\n".join(lines + [
        "Ways to get it:",
        "  * " + how,
        "  * or copy the four MNIST IDX files (train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) "
        "into a folder and pass it as --root FOLDER ($NPCONV_DATA/mnist and "
        "~/.cache/npconv/mnist are searched too)"])


def _positive(text):
    """argparse type: an integer >= 1."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be a positive integer, got %s" % text)
    return n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=None, help="folder with the MNIST IDX files")
    p.add_argument("--download", action="store_true")
    p.add_argument("--epochs", type=_positive, default=3)
    p.add_argument("--batch-size", type=_positive, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--limit", type=_positive, default=None, help="use only the first N images")
    args = p.parse_args(argv)

    nc.manual_seed(0)
    normalize = T.Normalize((0.1307,), (0.3081,))           # MNIST's pixel mean and std
    try:
        train = MNIST(args.root, train=True, download=args.download, transform=normalize)
        test = MNIST(args.root, train=False, download=args.download, transform=normalize)
    except DatasetNotFoundError as e:
        p.error(_not_found(e, args))
    if args.limit:
        train = Subset(train, np.arange(min(args.limit, len(train))))
        test = Subset(test, np.arange(min(args.limit, len(test))))

    model = lenet5()
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True)
    acc = 0.0
    for epoch in range(args.epochs):
        model.train()
        t0, total = time.perf_counter(), 0.0
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
        acc = accuracy(model, test)
        print("epoch %d: train loss %.4f, test accuracy %.4f (%.0f images/s)"
              % (epoch + 1, total / len(train), acc, len(train) / (time.perf_counter() - t0)))
    return acc


if __name__ == "__main__":
    main()
