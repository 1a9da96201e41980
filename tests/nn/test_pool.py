"""Pooling: gradcheck grid, loop-reference equality, the 2x2 fast path, ties, errors."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import npconv as nc
import npconv.nn.functional as F
from npconv.nn._pool import GlobalAvgPool2d, MaxPool2d
from npconv.nn import reference as R


def T(a, grad=False):
    return nc.tensor(a, requires_grad=grad)


def distinct(rng, shape):
    """Values with no ties and gaps >> the gradcheck step (max-pool is then differentiable)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(
        -0.01, 0.01, shape)


# (N, C, H, W, kernel, stride, padding, dilation, ceil_mode)
MAX_GRID = [
    (2, 2, 6, 6, 2, None, 0, 1, False),     # non-overlapping 2x2 (fast path)
    (1, 2, 7, 5, 2, None, 0, 1, False),     # odd sizes: last row/column dropped
    (1, 2, 7, 5, 2, None, 0, 1, True),      # odd sizes, ceil mode: partial windows
    (1, 1, 7, 7, 3, 2, 1, 1, False),        # overlapping, padded
    (1, 2, 7, 7, 3, 2, 1, 1, True),
    (2, 1, 8, 7, 3, 1, 0, 2, False),        # dilation 2
    (1, 2, 9, 9, (3, 2), (2, 3), (1, 1), 1, True),   # non-square
    (1, 1, 6, 6, 5, 3, 2, 1, False),        # kernel 5
    (1, 1, 5, 5, 1, 1, 0, 1, False),        # kernel 1
    (1, 2, 6, 6, 2, 1, 1, 1, False),        # overlapping 2x2 with padding
]


@pytest.mark.parametrize("cfg", MAX_GRID, ids=[str(i) for i in range(len(MAX_GRID))])
def test_max_pool2d_gradcheck_and_reference(cfg, rng):
    N, C, H, W, k, s, p, d, ceil = cfg
    x = distinct(rng, (N, C, H, W))
    y, idx = F.max_pool2d(T(x), k, s, p, d, ceil, return_indices=True)
    ry, ridx = R.max_pool2d(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y.data, ry)
    np.testing.assert_array_equal(idx.data, ridx)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(F.max_pool2d(T(x), k, s, p, d, ceil).data, ry)
    assert nc.gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil), (T(x, True),))


AVG_GRID = [
    # N, C, H, W, kernel, stride, padding, ceil_mode, count_include_pad
    (2, 2, 6, 6, 2, None, 0, False, True),
    (1, 2, 7, 5, 2, None, 0, True, True),
    (1, 2, 7, 7, 3, 2, 1, False, True),
    (1, 2, 7, 7, 3, 2, 1, False, False),
    (1, 1, 8, 7, 3, 2, 1, True, True),
    (1, 1, 8, 7, 3, 2, 1, True, False),
    (1, 2, 9, 8, (3, 2), (2, 3), (1, 0), True, False),
    (1, 1, 6, 6, 5, 3, 2, False, True),
]


@pytest.mark.parametrize("cfg", AVG_GRID, ids=[str(i) for i in range(len(AVG_GRID))])
def test_avg_pool2d_gradcheck_and_reference(cfg, rng):
    N, C, H, W, k, s, p, ceil, cip = cfg
    x = rng.standard_normal((N, C, H, W))
    y = F.avg_pool2d(T(x), k, s, p, ceil, cip).data
    np.testing.assert_allclose(y, R.avg_pool2d(x, k, s, p, ceil, cip), rtol=1e-12, atol=1e-12)
    assert nc.gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil, cip), (T(x, True),))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_pools_match_reference_random(data):
    k = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    p = (data.draw(st.integers(0, k[0] // 2)), data.draw(st.integers(0, k[1] // 2)))
    d = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    ceil = data.draw(st.booleans())
    H = data.draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 9))
    W = data.draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 9))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    # small integers: many ties, which must resolve to the first maximum
    x = rng.integers(-3, 4, (2, 2, H, W)).astype(np.float32)
    y, idx = F.max_pool2d(T(x), k, s, p, d, ceil, return_indices=True)
    ry, ridx = R.max_pool2d(x, k, s, p, d, ceil)
    # a dilated window may fall entirely in the padding (-inf, no meaningful index): skip
    assume(np.isfinite(ry).all())
    np.testing.assert_array_equal(y.data, ry)
    np.testing.assert_array_equal(idx.data, ridx)
    np.testing.assert_array_equal(F.max_pool2d(T(x), k, s, p, d, ceil).data, ry)
    cip = data.draw(st.booleans())
    ya = F.avg_pool2d(T(x), k, s, p, ceil, cip).data
    assert ya.dtype == np.float32
    np.testing.assert_allclose(ya, R.avg_pool2d(x, k, s, p, ceil, cip), rtol=1e-5, atol=1e-5)


def S(a, grad=False):
    """A tensor sharing ``a``'s memory (strides kept)."""
    return nc.from_numpy(a).requires_grad_(grad)


def _stored(a, perm):
    """``a`` with the same values, its memory in the axis order ``perm``."""
    inv = tuple(np.argsort(perm))
    return np.ascontiguousarray(a.transpose(perm)).transpose(inv)


@pytest.mark.parametrize("shape,stored,gy_stored", [
    ((3, 4, 8, 8), None, None), ((2, 3, 7, 9), None, None), ((1, 1, 2, 2), None, None),
    ((2, 3, 6, 9), None, None), ((2, 3, 9, 6), None, None), ((1, 2, 3, 3), None, None),
    ((2, 3, 10, 6), (0, 1, 3, 2), None),                    # non-contiguous input
    # stored as conv outputs are (C, H, W, N) / (C, N, H, W); gradients either way
    ((4, 3, 7, 9), (1, 2, 3, 0), None), ((4, 3, 8, 6), (1, 2, 3, 0), (1, 2, 3, 0)),
    ((4, 3, 7, 9), (1, 0, 2, 3), None), ((4, 3, 9, 6), (1, 0, 2, 3), (1, 2, 3, 0)),
    ((33, 16, 32, 34), None, None), ((33, 16, 33, 33), None, None),   # split over threads
    ((40, 16, 33, 32), (1, 2, 3, 0), None), ((40, 16, 32, 33), (1, 0, 2, 3), None)])
def test_2x2_fast_path_identical_to_general_path(shape, stored, gy_stored, rng):
    """The 2x2 path (no indices; masks from a column-then-row max) and the general path
    (used when indices are requested) give identical outputs and gradients, ties included,
    for even and odd sizes and inputs stored in any axis order. The output is C-contiguous
    NCHW, or stored (C, H, W, N) when the input is; the gradient is stored like the
    input."""
    x = rng.integers(-2, 3, shape).astype(np.float32)
    if stored is not None:
        x = _stored(x, stored)
    gy = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(
        np.float32)
    if gy_stored is not None:
        gy = _stored(gy, gy_stored)
    xa, xb = S(x, True), S(x, True)
    assert xa.data.strides == x.strides
    ya = F.max_pool2d(xa, 2)
    yb, _ = F.max_pool2d(xb, 2, return_indices=True)
    # C-contiguous, or stored (C, H, W, N) like a (C, H, W, N) input: view(N, -1) works
    assert ya.is_contiguous() or (stored == (1, 2, 3, 0)
                                  and ya.data.transpose(stored).flags.c_contiguous)
    np.testing.assert_array_equal(ya.view(shape[0], -1).data, ya.data.reshape(shape[0], -1))
    ya.backward(S(gy))
    yb.backward(S(gy))
    np.testing.assert_array_equal(ya.data, yb.data)
    np.testing.assert_array_equal(xa.grad.data, xb.grad.data)
    if stored in ((1, 2, 3, 0), (1, 0, 2, 3)):
        # (a leaf's .grad is a C-contiguous copy: look at what the backward hands on)
        yc = F.max_pool2d(S(x, True), 2)
        g = MaxPool2d.backward(yc.grad_fn, gy)
        np.testing.assert_array_equal(g, xa.grad.data)
        assert np.argsort([-s for s in g.strides], kind="stable").tolist() == list(stored)


def test_max_pool_ties_send_gradient_to_first_maximum():
    x = T(np.ones((1, 1, 4, 4), np.float32), True)
    F.max_pool2d(x, 2).sum().backward()
    expect = np.zeros((4, 4), np.float32)
    expect[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.data[0, 0], expect)
    x = T(np.ones((1, 1, 4, 4), np.float32), True)
    y, idx = F.max_pool2d(x, 3, 1, return_indices=True)
    y.sum().backward()
    np.testing.assert_array_equal(idx.data[0, 0], [[0, 1], [4, 5]])
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 1, 0, 0], [1, 1, 0, 0],
                                                     [0, 0, 0, 0], [0, 0, 0, 0]])


NAN = float("nan")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_nan_as_pytorch(dtype):
    """A window holding a NaN gives NaN, and its index and gradient go to its last NaN
    (values from torch 2.13), on the 2x2 fast path and the general path alike."""
    x = np.array([[[[NAN, 2, 3, NAN], [NAN, 0, 4, 1]]]], dtype)
    gy = np.array([[[[10, 20]]]], dtype)
    expect = np.array([[0, 0, 0, 20], [10, 0, 0, 0]], dtype)
    xt = T(x, True)
    y = F.max_pool2d(xt, 2)                                   # fast path
    y.backward(T(gy))
    assert np.isnan(y.data).all() and y.dtype == dtype
    np.testing.assert_array_equal(xt.grad.data[0, 0], expect)
    xt = T(x, True)
    y, idx = F.max_pool2d(xt, 2, return_indices=True)         # general path
    y.backward(T(gy))
    np.testing.assert_array_equal(idx.data.ravel(), [4, 3])
    np.testing.assert_array_equal(xt.grad.data[0, 0], expect)
    # padded, overlapping: no -inf from a NaN behind the padding
    xt = T(np.array([[[[1, 2], [NAN, 0]]]], dtype), True)
    y, idx = F.max_pool2d(xt, 2, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(y.data.ravel(), [1, 2, 2, NAN, NAN, 2, NAN, NAN, 0])
    np.testing.assert_array_equal(idx.data.ravel(), [0, 1, 1, 2, 2, 1, 2, 2, 3])
    y.backward(T(np.arange(1, 10, dtype=dtype).reshape(1, 1, 3, 3)))
    np.testing.assert_array_equal(xt.grad.data.ravel(), [1, 11, 24, 9])


@pytest.mark.parametrize("cfg", MAX_GRID, ids=[str(i) for i in range(len(MAX_GRID))])
def test_max_pool_nan_windows_match_reference(cfg, rng):
    N, C, H, W, k, s, p, d, ceil = cfg
    x = rng.standard_normal((N, C, H, W))
    x[rng.random(x.shape) < 0.2] = NAN
    ref, ref_idx = R.max_pool2d(x, k, s, p, d, ceil)
    gy = rng.standard_normal(ref.shape)
    expect = np.zeros((N * C, H * W))            # gy scattered to the reference's winners
    for plane, (idx, g) in enumerate(zip(ref_idx.reshape(N * C, -1), gy.reshape(N * C, -1))):
        np.add.at(expect[plane], idx, g)
    for indices in (False, True):                # (the 2x2 cases take the fast path without)
        xt = T(x, True)
        out = F.max_pool2d(xt, k, s, p, d, ceil, return_indices=indices)
        y = out[0] if indices else out
        np.testing.assert_array_equal(y.data, ref)
        if indices:
            np.testing.assert_array_equal(out[1].data, ref_idx)
        y.backward(T(gy))                        # (overlapping windows: sums in any order)
        np.testing.assert_allclose(xt.grad.data.reshape(N * C, -1), expect, rtol=1e-12,
                                   atol=1e-12)


def test_float32_preserved(rng):
    x = T(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), True)
    outs = [F.max_pool2d(x, 2), F.max_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1),
            F.adaptive_avg_pool2d(x, 1), F.adaptive_avg_pool2d(x, (2, 3)), F.global_avg_pool2d(x)]
    for y in outs:
        assert y.dtype == np.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_adaptive_and_global_avg_pool(rng):
    x = rng.standard_normal((2, 3, 6, 4))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(T(x), 1).data,
                               x.mean(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(F.global_avg_pool2d(T(x)).data, x.mean(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(T(x), (3, 2)).data,
                               x.reshape(2, 3, 3, 2, 2, 2).mean(axis=(3, 5)))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(T(x), (None, 2)).data,
                               x.reshape(2, 3, 6, 2, 2).mean(axis=4))
    assert F.global_avg_pool2d(T(x)).data.flags.c_contiguous
    for fn in (lambda t: F.adaptive_avg_pool2d(t, 1), lambda t: F.adaptive_avg_pool2d(t, (2, 2)),
               F.global_avg_pool2d):
        assert nc.gradcheck(fn, (T(x, True),))
    with pytest.raises(ValueError, match=r"output size \(4, 4\) must divide the input size"):
        F.adaptive_avg_pool2d(T(x), 4)


@pytest.mark.parametrize("size, shape", [(0, (2, 3, 0, 0)), ((0, 2), (2, 3, 0, 2)),
                                         ((2, 0), (2, 3, 2, 0)), ((0, 7), (2, 3, 0, 7)),
                                         ((None, 0), (2, 3, 5, 0))])
def test_adaptive_avg_pool_to_size_0_is_empty(rng, size, shape):
    # PyTorch returns an empty (N, C, oh, ow) tensor, whatever the other size (even one
    # that does not divide the input's); its backward raises, npconv's gives zeros
    x = T(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), True)
    for y in (F.adaptive_avg_pool2d(x, size), nc.nn.AdaptiveAvgPool2d(size)(x)):
        assert y.shape == shape and y.dtype == np.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.shape == x.shape and x.grad.dtype == np.float32
        assert not x.grad.data.any()
    assert nc.gradcheck(lambda t: F.adaptive_avg_pool2d(t, size),
                        (T(rng.standard_normal((2, 3, 5, 5)), True),))


def test_global_avg_pool_gradient_stored_like_its_input(rng):
    """A (C, H, W, N)-stored input (a conv output) gets its gradient in that layout, with
    the same values and a C-contiguous output."""
    x = _stored(rng.standard_normal((3, 4, 5, 6)).astype(np.float32), (1, 2, 3, 0))
    gy = rng.standard_normal((3, 4, 1, 1)).astype(np.float32)
    y = F.global_avg_pool2d(S(x, True))
    assert y.is_contiguous()
    np.testing.assert_allclose(y.data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-6)
    g = GlobalAvgPool2d.backward(y.grad_fn, gy)
    np.testing.assert_allclose(g, np.broadcast_to(gy / 30, x.shape), rtol=1e-6)
    assert g.transpose(1, 2, 3, 0).flags.c_contiguous


def test_avg_pool2d_divisor_override(rng):
    x = rng.standard_normal((2, 2, 6, 6))
    y = F.avg_pool2d(T(x), 3, 2, 1, divisor_override=2).data
    ref = R.avg_pool2d(x, 3, 2, 1) * 9 / 2          # window sums (pad counted) / 2
    np.testing.assert_allclose(y, ref, rtol=1e-12)
    assert nc.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, divisor_override=5), (T(x, True),))
    with pytest.raises(ValueError, match="divisor_override must be a non-zero integer"):
        F.avg_pool2d(T(x), 2, divisor_override=0)


def test_pool_errors(rng):
    x = T(np.zeros((2, 3, 6, 6), np.float32))
    with pytest.raises(ValueError, match="4-D input"):
        F.max_pool2d(T(np.zeros((3, 6, 6), np.float32)), 2)
    with pytest.raises(ValueError, match="4-D input"):
        F.avg_pool2d(T(np.zeros((6, 6), np.float32)), 2)
    with pytest.raises(ValueError, match="4-D input"):
        F.global_avg_pool2d(T(np.zeros((6, 6), np.float32)))
    with pytest.raises(ValueError, match="pad should be at most half of the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="pad should be at most half of the kernel size"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match="Kernel size can't be greater"):
        F.max_pool2d(x, 7)
    with pytest.raises(ValueError, match="Kernel size can't be greater"):
        F.max_pool2d(x, 3, dilation=3)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        F.max_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match=r"output_size must be >= 0, but got \(-1, -1\)"):
        F.adaptive_avg_pool2d(x, -1)


def test_max_pool_window_of_fill_values_names_its_first_real_pixel():
    """A window whose real pixels are all -inf (the padding's fill) ties with its padding: as
    in PyTorch (values from torch 2.x), its index is its first in-bounds tap (never a
    negative index into the padding) and its gradient goes there (it was dropped)."""
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 3, 3] = 1.0
    xt = T(x, grad=True)
    y, idx = F.max_pool2d(xt, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.data.ravel(), [0, 1, 4, 15])
    np.testing.assert_array_equal(y.data.ravel(), [-np.inf, -np.inf, -np.inf, 1.0])
    y.backward(T(np.arange(1.0, 5.0).reshape(1, 1, 2, 2)))
    want = np.zeros((4, 4))
    want[0, 0], want[0, 1], want[1, 0], want[3, 3] = 1, 2, 3, 4
    np.testing.assert_array_equal(xt.grad.data[0, 0], want)
    # dilated and ceil mode: every window's first real tap is (1, 1)
    xt = T(np.full((1, 1, 5, 5), -np.inf), grad=True)
    y, idx = F.max_pool2d(xt, 3, 2, 1, dilation=2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(idx.data.ravel(), [6, 6, 6, 6])
    y.backward(T(np.arange(1.0, 5.0).reshape(1, 1, 2, 2)))
    want = np.zeros((5, 5))
    want[1, 1] = 10
    np.testing.assert_array_equal(xt.grad.data[0, 0], want)
    # ceil mode's partial windows (no padding)
    _, idx = F.max_pool2d(T(np.full((1, 1, 5, 5), -np.inf)), 2, ceil_mode=True,
                          return_indices=True)
    np.testing.assert_array_equal(idx.data.ravel(), [0, 2, 4, 10, 12, 14, 20, 22, 24])
    # the integer minimum (the fill for integers) likewise
    xi = np.full((1, 1, 3, 3), np.iinfo(np.int64).min)
    _, idx = F.max_pool2d(T(xi), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(idx.data.ravel(), [0, 0, 1, 0, 0, 1, 3, 3, 4])
