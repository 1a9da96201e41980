"""Sequential runs ReLU -> MaxPool2d as MaxPool2d -> ReLU (the ReLU on the smaller map): the
results and gradients must be those of the plain order, modules called one by one."""
import numpy as np
import pytest

import npconv as nc
from npconv import nn


def _plain(mods, x):
    for m in mods:
        x = m(x)
    return x


def _run(model, call, x0, g0):
    x = nc.tensor(x0, requires_grad=True)
    y = call(model, x)
    (y * nc.tensor(g0)).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return y.detach().numpy(), x.grad.numpy(), grads


@pytest.mark.parametrize("pool", [
    dict(kernel_size=2),                                     # the 2x2 fast path
    dict(kernel_size=3, stride=2, padding=1),                # general path, -inf padding
    dict(kernel_size=3, stride=2, ceil_mode=True),           # clipped last windows
    dict(kernel_size=2, stride=1, dilation=2),               # overlapping, dilated
])
def test_relu_then_maxpool_matches_plain_order(pool):
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(**pool), nn.Flatten())
    # small integers: ties inside windows, all-negative windows and exact zeros
    x0 = rng.integers(-3, 4, (4, 2, 9, 9)).astype(np.float32)
    conv.weight.data[...] = rng.integers(-1, 2, conv.weight.shape)
    conv.bias.data[...] = rng.integers(-1, 2, conv.bias.shape)
    out_shape = _plain(list(model), nc.tensor(x0)).shape
    g0 = rng.standard_normal(out_shape).astype(np.float32)
    fast = _run(model, lambda m, x: m(x), x0, g0)
    model.zero_grad()
    plain = _run(model, lambda m, x: _plain(list(m), x), x0, g0)
    np.testing.assert_array_equal(fast[0], plain[0])
    np.testing.assert_array_equal(fast[1], plain[1])
    for a, b in zip(fast[2], plain[2]):
        np.testing.assert_array_equal(a, b)


def test_swap_really_happens_and_hooks_or_indices_turn_it_off():
    seen = []
    relu, pool = nn.ReLU(), nn.MaxPool2d(2)
    model = nn.Sequential(relu, pool)
    x = nc.tensor(np.random.default_rng(1).standard_normal((2, 1, 4, 4)).astype(np.float32),
                  requires_grad=True)
    assert "ReLU" in model(x).grad_fn.name()     # swapped: the ReLU ran last
    h = relu.register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    model(x)
    assert seen == [(2, 1, 4, 4)]           # the hook sees ReLU on the full map
    h.remove()
    pre = pool.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].shape))
    model(x)
    assert seen[-1] == (2, 1, 4, 4)
    pre.remove()
    seen.clear()
    relu.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].shape))
    # with a hook on the ReLU only, the order is the plain one
    assert "MaxPool" in model(x).grad_fn.name()
    assert seen == [(2, 1, 4, 4)]
    y, idx = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))(-x.abs())
    assert y.shape == idx.shape == (2, 1, 2, 2)
    assert (idx.numpy() == np.array([[0, 2], [8, 10]])).all()   # first zero of relu(x)
