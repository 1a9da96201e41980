"""Write your own layer as a ``Function``: forward and backward by hand, then gradcheck it.

A Swish activation with a learnable slope, ``y = x * sigmoid(beta * x)`` (Ramachandran et al.
2017). ``forward`` and ``backward`` see raw NumPy (or CuPy) arrays; ``Function.apply`` records
the graph. The pytest test in ``tests/test_examples.py`` checks the hand-written backward
against finite differences with ``npconv.gradcheck``:

    python examples/custom_function.py
"""
import argparse

import numpy as np

import npconv as nc
import npconv.nn.functional as F
from npconv import nn, optim
from npconv.autograd import Function


class SwishFunction(Function):
    """``y = x * s`` with ``s = sigmoid(beta * x)``; ``beta`` has shape (1,)."""

    @staticmethod
    def forward(ctx, x, beta):
        s = 1.0 / (1.0 + np.exp(-beta * x))
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, gy):
        x, beta, s = ctx.saved_tensors
        ds = s * (1.0 - s)                      # sigmoid'(beta x)
        gx = gy * (s + x * beta * ds)           # d/dx   [x s(beta x)]
        gbeta = (gy * x * x * ds).sum().reshape(beta.shape)   # d/dbeta, summed over x
        return gx, gbeta


class Swish(nn.Module):
    """The layer: owns ``beta`` as a Parameter and applies ``SwishFunction``."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = nn.Parameter(np.array([beta], dtype=np.float32))

    def forward(self, x):
        return SwishFunction.apply(x, self.beta)


def demo(steps=30):
    """Fit a tiny MLP with Swish on a toy problem; returns (first loss, last loss, beta)."""
    nc.manual_seed(0)
    g = np.random.default_rng(0)
    x = nc.tensor(g.normal(size=(128, 2)).astype(np.float32))
    t = nc.tensor((x.numpy()[:, 0] * x.numpy()[:, 1] > 0).astype(np.int64))   # XOR-like
    act = Swish()
    model = nn.Sequential(nn.Linear(2, 32), act, nn.Linear(32, 2))
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[0], losses[-1], float(act.beta.detach().numpy()[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=30, help="training steps of the toy problem")
    args = p.parse_args(argv)
    x = nc.randn(4, 5, dtype=nc.float64, requires_grad=True)
    beta = nc.tensor(np.array([0.7]), requires_grad=True)
    ok = nc.gradcheck(SwishFunction.apply, (x, beta))
    print("gradcheck:", ok)
    first, last, b = demo(args.steps)
    print("toy problem: loss %.3f -> %.3f, learned beta %.3f" % (first, last, b))
    return ok, first, last, b


if __name__ == "__main__":
    main()
