"""Look inside a CNN: its learned first-layer filters and the feature maps of one image.

    python examples/visualize_filters.py --out viz/

Trains ``simple_cnn`` briefly on the bundled Fashion-MNIST subset, then writes
``filters.png`` and ``feature_maps.png`` (with matplotlib), or the same pictures as
dependency-free greyscale ``.pgm`` files when matplotlib is not installed.
"""
import argparse
import os

import numpy as np

import npconv as nc
import npconv.nn.functional as F
from npconv import optim, viz
from npconv.data import BundledFashionMNIST, DataLoader, Subset
from npconv.data import transforms as T
from npconv.models import simple_cnn


def write_pgm(path, img):
    """A [0, 1] float image as an 8-bit binary PGM (any image viewer opens it)."""
    a = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (a.shape[1], a.shape[0]))
        f.write(a.tobytes())


def tile(maps, ncols=8, pad=1):
    """(C, H, W) feature maps -> one image, each map scaled to [0, 1]."""
    return viz.filter_grid(maps[:, None], ncols=ncols, pad=pad)


def _positive(text):
    """argparse type: an integer >= 1."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be a positive integer, got %s" % text)
    return n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="viz")
    p.add_argument("--steps", type=_positive, default=100)
    p.add_argument("--limit", type=_positive, default=None)
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    nc.manual_seed(0)
    data = BundledFashionMNIST(train=True, transform=T.Normalize((0.2860,), (0.3530,)))
    if args.limit:
        data = Subset(data, np.arange(min(args.limit, len(data))))
    model = simple_cnn()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    step = 0
    while step < args.steps:
        for x, y in DataLoader(data, batch_size=64, shuffle=True):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step >= args.steps:
                break
    print("trained %d steps, last loss %.3f" % (step, loss.item()))

    # feature maps: run the first block (conv-BN-ReLU-pool) on one image, with a forward hook
    model.eval()
    conv1 = model[0]
    captured = {}
    handle = model[2].register_forward_hook(lambda m, inp, out: captured.update(relu1=out))
    x, y = next(iter(DataLoader(data, batch_size=1)))
    with nc.no_grad():
        model(x)
    handle.remove()
    maps = captured["relu1"].numpy()[0]                  # (24, 28, 28): conv1's 24 channels

    written = []
    try:
        fig = viz.plot_filters(conv1.weight, title="conv1 filters")
        fig.savefig(os.path.join(args.out, "filters.png"))
        fig = viz.plot_feature_maps(maps, title="conv1 feature maps (after ReLU)")
        fig.savefig(os.path.join(args.out, "feature_maps.png"))
        written = ["filters.png", "feature_maps.png"]
    except ImportError:
        grid = viz.filter_grid(conv1.weight.detach().numpy(), ncols=8)
        write_pgm(os.path.join(args.out, "filters.pgm"),
                  np.kron(grid, np.ones((8, 8))))            # 8x nearest-neighbour zoom
        write_pgm(os.path.join(args.out, "feature_maps.pgm"), np.kron(tile(maps), np.ones((2, 2))))
        written = ["filters.pgm", "feature_maps.pgm"]
    print("wrote " + ", ".join(os.path.join(args.out, w) for w in written))
    return written


if __name__ == "__main__":
    main()
