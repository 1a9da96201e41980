#!/usr/bin/env python3
"""Build npconv/data/fashion_mnist_subset.npz, the Fashion-MNIST subset shipped with npconv.

    python scripts/make_bundled.py [--src DIR] [--train-per-class 1200] [--test-per-class 200]

Reads the full Fashion-MNIST IDX files (by default from wherever ``npconv.data.FashionMNIST``
finds them, e.g. /usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist) and
keeps a stratified sample: the same number of images per class, drawn with a fixed seed from
the official training and test splits (train images only from train, test only from test).
The output is deterministic (same input + same arguments -> byte-identical arrays).

Fashion-MNIST is (c) 2017 Zalando SE, released under the MIT licence:
https://github.com/zalandoresearch/fashion-mnist
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from npconv.data import FashionMNIST  # noqa: E402
from npconv.data.datasets import bundled_path  # noqa: E402


def stratified(labels, per_class, seed):
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        if len(idx) < per_class:
            raise SystemExit("class %d has only %d samples (< %d)" % (c, len(idx), per_class))
        keep.append(rng.choice(idx, size=per_class, replace=False))
    keep = np.concatenate(keep)
    return rng.permutation(keep)          # mixed classes, in a fixed order


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=None, help="folder with the Fashion-MNIST IDX files")
    ap.add_argument("--out", default=bundled_path())
    ap.add_argument("--train-per-class", type=int, default=1200)
    ap.add_argument("--test-per-class", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20170825)   # Fashion-MNIST's release date
    args = ap.parse_args(argv)

    train = FashionMNIST(root=args.src, train=True)
    test = FashionMNIST(root=args.src, train=False)
    tr = stratified(train.targets, args.train_per_class, args.seed)
    te = stratified(test.targets, args.test_per_class, args.seed + 1)
    arrays = dict(
        x_train=train.data[tr], y_train=train.targets[tr].astype(np.uint8),
        x_test=test.data[te], y_test=test.targets[te].astype(np.uint8),
        train_index=tr.astype(np.int32), test_index=te.astype(np.int32),
    )
    tmp = args.out + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, args.out)
    print("wrote %s (%.2f MB): %d train / %d test images from %s"
          % (args.out, os.path.getsize(args.out) / 1e6, len(tr), len(te), train.folder))


if __name__ == "__main__":
    main()
