"""A ResNet on Fashion-MNIST, with data augmentation and a one-cycle learning rate.

    python examples/resnet_fashion.py --epochs 10 --depth 8

Uses the full Fashion-MNIST when found (``/usr/share/datasets/fashion-mnist``,
``$NPCONV_DATA``, ``~/.cache/npconv``, or ``--download``), else the bundled subset. Saves the
best weights with ``npconv.save`` (reload: ``model.load_state_dict(npconv.load(path))``).
"""
import argparse
import time

import numpy as np

import npconv as nc
import npconv.nn.functional as F
from npconv import optim
from npconv.data import (BundledFashionMNIST, DataLoader, DatasetNotFoundError, FashionMNIST,
                         Subset)
from npconv.data import transforms as T
from npconv.models import resnet


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depth", type=int, default=8)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N training and N test images")
    p.add_argument("--download", action="store_true")
    p.add_argument("--save", default="resnet_fashion.npz")
    args = p.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be a positive number of images, got %d" % args.limit)
    if args.batch_size < 1:
        p.error("--batch-size must be positive, got %d" % args.batch_size)

    nc.manual_seed(0)
    norm = T.Normalize((0.2860,), (0.3530,))
    augment = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), norm])
    try:
        train = FashionMNIST(train=True, download=args.download, transform=augment)
        test = FashionMNIST(train=False, download=args.download, transform=norm)
    except DatasetNotFoundError:
        print("full Fashion-MNIST not found: using the bundled subset")
        train = BundledFashionMNIST(train=True, transform=augment)
        test = BundledFashionMNIST(train=False, transform=norm)
    if args.limit:
        train = Subset(train, np.arange(min(args.limit, len(train))))
        test = Subset(test, np.arange(min(args.limit, len(test))))
    if len(train) < args.batch_size:        # the loader drops the last partial batch
        p.error("%d training images (%s) make no full batch of --batch-size %d: use a larger "
                "--limit or a smaller --batch-size"
                % (len(train), "--limit %d" % args.limit if args.limit else "the whole set",
                   args.batch_size))

    model = resnet(args.depth)
    loader = DataLoader(train, args.batch_size, shuffle=True, drop_last=True)
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                    weight_decay=5e-4)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                          steps_per_epoch=len(loader))
    best = 0.0
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        speed = len(loader) * args.batch_size / (time.perf_counter() - t0)
        model.eval()
        correct = 0
        with nc.no_grad():
            for x, y in DataLoader(test, 1000):
                correct += int((model(x).numpy().argmax(1) == y.numpy()).sum())
        acc = correct / len(test)
        print("epoch %d: loss %.4f, test accuracy %.4f, %.0f images/s"
              % (epoch + 1, loss.item(), acc, speed))
        if acc > best:
            best = acc
            nc.save(model.state_dict(), args.save)
    return best


if __name__ == "__main__":
    main()
