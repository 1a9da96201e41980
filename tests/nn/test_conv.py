"""conv2d and conv_transpose2d: gradcheck grid, loop-reference equality, dtypes, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import npconv as nc
import npconv.nn.functional as F
from npconv.nn import _chunked_conv, _conv
from npconv.nn import im2col as I
from npconv.nn import reference as R
from npconv.nn.im2col import im2col


def T(a, grad=False):
    return nc.tensor(a, requires_grad=grad)


@pytest.fixture(params=["nhw", "hwn"])
def order(request):
    """Run a test under both column orders of the GEMMs (the choice is a speed heuristic)."""
    old = _conv.FORCE_ORDER
    _conv.FORCE_ORDER = request.param
    yield request.param
    _conv.FORCE_ORDER = old


@pytest.fixture(params=["one_gemm", "chunked"])
def path(request, monkeypatch):
    """Run a test down both ways conv2d has on NumPy (a speed choice): one GEMM over the
    whole patch matrix, or the patch matrix unfolded chunk by chunk, here one output row
    or one image a chunk (edges and uneven last chunks on small inputs), on two threads
    whatever the size."""
    chunked = request.param == "chunked"
    monkeypatch.setattr(_chunked_conv, "FORCE", chunked)
    if chunked:
        monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 1)
        monkeypatch.setattr(I, "_PAR_MIN", 0)
        monkeypatch.setattr(I, "_NTHREADS", 2)
        monkeypatch.setattr(I, "_BUSY_LOAD", 0)
    return request.param


# (N, C, H, W, O, (kH, kW), stride, padding, dilation, groups)
GRID = [
    (2, 2, 5, 5, 3, (1, 1), 1, 0, 1, 1),        # 1x1 fast path
    (1, 2, 5, 4, 2, (1, 1), 2, 1, 1, 1),        # 1x1 strided and padded: general path
    (2, 2, 5, 6, 3, (2, 2), 1, 0, 1, 1),
    (1, 3, 6, 5, 2, (3, 3), 1, 1, 1, 1),
    (2, 2, 7, 7, 2, (3, 3), 2, 1, 1, 1),        # odd size, stride 2
    (1, 2, 8, 7, 2, (3, 3), 3, 2, 1, 1),        # stride 3, padding 2, non-divisible
    (1, 1, 9, 9, 2, (5, 5), 1, 2, 1, 1),        # kernel 5, one channel
    (1, 2, 7, 8, 2, (2, 3), (1, 2), (1, 0), 1, 1),   # non-square everything
    (1, 2, 7, 7, 2, (3, 3), 1, 2, 2, 1),        # dilation 2
    (2, 4, 5, 5, 4, (3, 3), 1, 1, 1, 2),        # groups 2
    (1, 3, 6, 6, 3, (3, 3), 2, 1, 1, 3),        # depthwise
    (1, 2, 5, 5, 4, (3, 3), 1, 1, 1, 2),        # depthwise-ish with multiplier 2
    (1, 2, 6, 5, 3, (3, 2), 1, "same", 1, 1),   # 'same', even kernel width (asymmetric)
    (1, 2, 6, 6, 2, (3, 3), 1, "same", 2, 1),   # 'same' with dilation
    (2, 2, 5, 5, 2, (3, 3), 1, "valid", 1, 1),
]


@pytest.mark.parametrize("cfg", GRID, ids=[str(i) for i in range(len(GRID))])
def test_conv2d_gradcheck(cfg, order, rng, path):
    N, C, H, W, O, k, s, p, d, g = cfg
    x = T(rng.standard_normal((N, C, H, W)), True)
    w = T(rng.standard_normal((O, C // g) + k), True)
    b = T(rng.standard_normal(O), True)
    assert nc.gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), (x, w, b))
    assert nc.gradcheck(lambda x, w: F.conv2d(x, w, None, s, p, d, g), (x, w))


@pytest.mark.parametrize("cfg", GRID, ids=[str(i) for i in range(len(GRID))])
def test_conv2d_matches_reference_grid(cfg, order, rng, path):
    N, C, H, W, O, k, s, p, d, g = cfg
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((O, C // g) + k)
    b = rng.standard_normal(O)
    y = F.conv2d(T(x), T(w), T(b), s, p, d, g).data
    if isinstance(p, str):
        if p == "valid":
            p = 0
        else:   # 'same': PyTorch pads the odd extra at the bottom/right
            tot = [d * (kk - 1) for kk in k]
            lo = [t // 2 for t in tot]
            x = np.pad(x, ((0, 0), (0, 0), (lo[0], tot[0] - lo[0]), (lo[1], tot[1] - lo[1])))
            p = 0
            assert y.shape[2:] == (H, W)
    np.testing.assert_allclose(y, R.conv2d(x, w, b, s, p, d, g), rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_conv2d_matches_reference_random(data):
    N = data.draw(st.integers(1, 2))
    g = data.draw(st.sampled_from([1, 2]))
    C = g * data.draw(st.integers(1, 2))
    O = g * data.draw(st.integers(1, 2))
    kH, kW = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    sH, sW = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    pH, pW = data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))
    dH, dW = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    H = data.draw(st.integers(max(1, dH * (kH - 1) + 1 - 2 * pH), 9))
    W = data.draw(st.integers(max(1, dW * (kW - 1) + 1 - 2 * pW), 9))
    # the input stored as a conv hands it on, (C, N, H, W) or (C, H, W, N), or otherwise
    stored = data.draw(st.sampled_from([(0, 1, 2, 3), (1, 0, 2, 3), (1, 2, 3, 0),
                                        (3, 2, 1, 0)]))
    bias = data.draw(st.booleans())
    _conv.FORCE_ORDER = data.draw(st.sampled_from([None, "nhw", "hwn"]))
    # one GEMM, or chunks of 1 / 3 output rows or images (else ~1,000 columns: one here)
    _chunked_conv.FORCE = data.draw(st.sampled_from([False, True]))
    _chunked_conv._CHUNK_COLS = data.draw(st.sampled_from([1, 3 * W, 1024]))
    try:
        rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
        for _ in range(2):      # twice: reused buffers must not leak the first call's data
            x = rng.standard_normal((N, C, H, W)).astype(np.float32)
            w = rng.standard_normal((O, C // g, kH, kW)).astype(np.float32)
            b = rng.standard_normal(O).astype(np.float32) if bias else None
            xs = np.ascontiguousarray(x.transpose(stored)).transpose(np.argsort(stored))
            args = ((sH, sW), (pH, pW), (dH, dW), g)
            y = F.conv2d(nc.from_numpy(xs), T(w), None if b is None else T(b), *args).data
            assert y.dtype == np.float32
            np.testing.assert_allclose(
                y, R.conv2d(x.astype(np.float64), w.astype(np.float64),
                            None if b is None else b.astype(np.float64), *args),
                rtol=1e-4, atol=1e-4)
    finally:
        _conv.FORCE_ORDER = None
        _chunked_conv.FORCE = None
        _chunked_conv._CHUNK_COLS = 1024


def test_pointwise_fast_path_equals_general_path(rng):
    """1x1 conv is a plain matmul on the input; the result is bit-identical to the im2col
    route (the same GEMM on the same matrix)."""
    x = rng.standard_normal((3, 5, 6, 7)).astype(np.float32)
    w = rng.standard_normal((4, 5, 1, 1)).astype(np.float32)
    y = F.conv2d(T(x), T(w)).data
    col = im2col(x, (1, 1)).reshape(5, -1)
    general = (w.reshape(4, 5) @ col).reshape(4, 3, 6, 7).transpose(1, 0, 2, 3)
    np.testing.assert_array_equal(y, general)


def _in_both_orders(x, w, gy, **kw):
    """[(y, dx, dw)] of conv2d(x, w, **kw) backpropagating gy, in column order 'nhw' then
    'hwn'."""
    res = []
    for o in ("nhw", "hwn"):
        _conv.FORCE_ORDER = o
        try:
            xt, wt = T(x, True), T(w, True)
            y = F.conv2d(xt, wt, **kw)
            y.backward(T(gy))
        finally:
            _conv.FORCE_ORDER = None
        res.append((y.data, xt.grad.data, wt.grad.data))
    return res


def test_orders_agree_exactly_on_outputs_and_grads(rng):
    x = rng.standard_normal((4, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((4, 5, 9, 9)).astype(np.float32)
    for a, b in zip(*_in_both_orders(x, w, gy, padding=1)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_float32_in_float32_out_and_grads(rng, path):
    x = T(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), True)
    w = T(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), True)
    b = T(rng.standard_normal(4).astype(np.float32), True)
    y = F.conv2d(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    yt = F.conv_transpose2d(y.detach(), T(w.data.copy(), True),
                            T(b.data[:3], True), stride=2, padding=1, output_padding=1)
    assert yt.dtype == np.float32 and yt.shape == (2, 3, 8, 8)


@pytest.mark.parametrize("order,stored", [("nhw", (1, 0, 2, 3)), ("hwn", (1, 2, 3, 0))])
def test_outputs_keep_the_gemm_layout(order, stored, rng):
    """On NumPy a conv output is the GEMM result seen as NCHW, stored (C, N, H, W) or
    (C, H, W, N) (as PyTorch's channels_last: ``is_contiguous()`` is False, ``reshape``
    copies, ``view`` works where the strides allow it and raises PyTorch's error where not).
    Pooling hands on (C, H, W, N) or contiguous NCHW, so ``x.view(N, -1)`` after pooling
    works as in PyTorch. The input gradient is stored like the output."""
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    xt = T(x, True)
    _conv.FORCE_ORDER = order
    try:
        y = F.conv2d(xt, T(w), T(b), padding=1)
        y.backward(T(np.ones(y.shape, np.float32)))
    finally:
        _conv.FORCE_ORDER = None
    assert y.data.transpose(stored).flags.c_contiguous and not y.is_contiguous()
    _conv.FORCE_ORDER = order
    try:
        yc = F.conv2d(T(x, True), T(w), T(b), padding=1)
        g = _conv.Conv2d.backward(yc.grad_fn, np.ones(y.shape, np.float32))[0]
    finally:
        _conv.FORCE_ORDER = None
    np.testing.assert_allclose(g, xt.grad.data, rtol=1e-6)
    if order == "hwn":      # (a 'nhw' gradient is a view of a (C, N, Hp, Wp) buffer)
        assert sorted(range(4), key=lambda a: -g.strides[a]) == list(stored)
    ref = R.conv2d(x, w, b, 1, 1)
    np.testing.assert_allclose(y.reshape(2, -1).data, ref.reshape(2, -1), rtol=1e-5,
                               atol=1e-5)
    if order == "nhw":
        with pytest.raises(RuntimeError, match=r"Use \.reshape"):
            y.view(2, -1)
    else:   # (C, H, W, N) storage: (N, C*H*W) is a strided view, as in PyTorch
        np.testing.assert_array_equal(y.view(2, -1).data, y.reshape(2, -1).data)
    assert y.contiguous().view(2, -1).shape == (2, 144)
    p = F.max_pool2d(F.relu(y), 2)
    assert p.view(2, -1).shape == (2, 36)
    assert p.is_contiguous() == (order == "nhw")
    np.testing.assert_allclose(p.data, R.max_pool2d(np.maximum(ref, 0), 2)[0], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("stored", [(0, 1, 2, 3), (1, 0, 2, 3), (1, 2, 3, 0), (0, 1, 3, 2),
                                    (3, 2, 1, 0)])
@pytest.mark.parametrize("order", ["nhw", "hwn"])
def test_inputs_stored_in_any_axis_order(stored, order, rng, path):
    """conv2d reads an input whatever its strides (the previous conv's layout, a user's
    transpose): same output and gradients as from a C-contiguous copy."""
    x = rng.standard_normal((3, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((3, 5, 4, 3)).astype(np.float32)
    inv = tuple(np.argsort(stored))
    xs = np.ascontiguousarray(x.transpose(stored)).transpose(inv)
    res = []
    _conv.FORCE_ORDER = order
    try:
        for a in (x, xs):
            xt, wt = nc.from_numpy(a).requires_grad_(), T(w, True)
            y = F.conv2d(xt, wt, stride=(2, 2), padding=1)
            y.backward(T(gy))
            res.append((y.data, xt.grad.data, wt.grad.data))
    finally:
        _conv.FORCE_ORDER = None
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res[0][0], R.conv2d(x, w, None, 2, 1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("order,stored", [("hwn", (1, 2, 3, 0)), ("nhw", (1, 0, 2, 3)),
                                          ("hwn", (0, 1, 2, 3)), ("nhw", (0, 1, 3, 2))])
@pytest.mark.parametrize("shape,k,s,p,d", [
    ((3, 2, 7, 6), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 2), (1, 1)),
    ((2, 2, 5, 5), (3, 3), (1, 2), (2, 2), (2, 1)),      # offsets reading padding only
    ((2, 1, 3, 4), (5, 5), (1, 1), (2, 2), (1, 1)),
    ((2, 3, 11, 10), (5, 5), (2, 2), (2, 2), (1, 1))])
def test_padded_conv_of_a_stored_input_copies_offset_by_offset(order, stored, shape, k, s,
                                                               p, d, rng, monkeypatch):
    """A padded conv unfolds its input, stored in the column order's layout (what the
    previous conv hands on) or first copied into it, offset by offset into a zero-bordered
    patch buffer kept per geometry, with no padded copy: equal to the loop reference on
    every call (the buffer is reused, the border must stay zero), strides (phase split) and
    the bias folded into the GEMM included."""
    w = rng.standard_normal((4, shape[1]) + k).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    inv = tuple(np.argsort(stored))
    calls = []
    real = I._copy_offsets
    monkeypatch.setattr(I, "_copy_offsets", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(_chunked_conv, "FORCE", False)      # the one-GEMM path's unfolding
    _conv.FORCE_ORDER = order
    try:
        for _ in range(3):
            x = rng.standard_normal(shape).astype(np.float32)
            xs = nc.from_numpy(np.ascontiguousarray(x.transpose(stored)).transpose(inv))
            y = F.conv2d(xs, T(w), T(b), stride=s, padding=p, dilation=d)
            np.testing.assert_allclose(y.data, R.conv2d(x, w, b, s, p, d), rtol=1e-4,
                                       atol=1e-4)
    finally:
        _conv.FORCE_ORDER = None
    assert len(calls) == 3


@pytest.mark.parametrize("w_grad,b_grad", [(True, True), (False, True), (True, False)])
def test_bias_gradient_with_or_without_the_weight_gradient(w_grad, b_grad, rng, path):
    """The bias rides in the GEMMs as a row of ones: its gradient comes from the weight-
    gradient GEMM when that runs, else from a plain sum; either way it is gy summed over
    (N, Ho, Wo), and the weight gradient excludes the ones row."""
    x = rng.standard_normal((3, 4, 6, 5)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    gy = rng.standard_normal((3, 5, 6, 5)).astype(np.float32)
    wt, bt = T(w, w_grad), T(b, b_grad)
    xt = T(x, True)
    F.conv2d(xt, wt, bt, padding=1).backward(T(gy))
    if b_grad:
        np.testing.assert_allclose(bt.grad.data, gy.sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-4)
    else:
        assert bt.grad is None
    if w_grad:
        ref = T(w, True)
        F.conv2d(T(x), ref, None, padding=1).backward(T(gy))
        assert wt.grad.shape == w.shape
        np.testing.assert_allclose(wt.grad.data, ref.grad.data, rtol=1e-4, atol=1e-4)
    else:
        assert wt.grad is None
    ref_x = T(x, True)
    F.conv2d(ref_x, T(w), None, padding=1).backward(T(gy))
    np.testing.assert_allclose(xt.grad.data, ref_x.grad.data, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("order", ["nhw", "hwn"])
@pytest.mark.parametrize("k,s,p", [(3, 1, 1), (3, 2, 1), (1, 1, 0), (3, 1, 0)])
def test_empty_batch(order, k, s, p, path):
    """N = 0 (as PyTorch allows): empty outputs, zero weight and bias gradients, for
    conv2d and conv_transpose2d."""
    x = T(np.zeros((0, 3, 9, 9), np.float32), True)
    w, b = T(np.ones((4, 3, k, k), np.float32), True), T(np.ones(4, np.float32), True)
    _conv.FORCE_ORDER = order
    try:
        y = F.conv2d(x, w, b, stride=s, padding=p)
        y.sum().backward()
        pooled = F.max_pool2d(F.relu(y), 2)
    finally:
        _conv.FORCE_ORDER = None
    ho = (9 + 2 * p - k) // s + 1
    assert y.shape == (0, 4, ho, ho) and pooled.shape == (0, 4, ho // 2, ho // 2)
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(w.grad.data, np.zeros_like(w.data))
    np.testing.assert_array_equal(b.grad.data, np.zeros(4, np.float32))
    xt = T(np.zeros((0, 4, 5, 5), np.float32), True)
    wt = T(np.ones((4, 3, k, k), np.float32), True)
    yt = F.conv_transpose2d(xt, wt, stride=s, padding=p)
    yt.sum().backward()
    assert yt.shape[:2] == (0, 3) and xt.grad.shape == xt.shape
    np.testing.assert_array_equal(wt.grad.data, np.zeros_like(wt.data))


@pytest.mark.parametrize("order", ["nhw", "hwn"])
def test_gradcheck_through_stored_layouts(order, rng, path):
    """float64 gradients of conv -> ReLU -> 2x2 max-pool -> strided conv -> global average
    pool, each op handing on the layout it stores ((C, N, H, W) or (C, H, W, N)), with odd
    sizes, a bias and a non-square stride."""
    x = T(rng.standard_normal((3, 2, 7, 9)), True)
    w1, b1 = T(rng.standard_normal((4, 2, 3, 3)), True), T(rng.standard_normal(4), True)
    w2 = T(rng.standard_normal((5, 4, 3, 2)), True)
    stored = []

    def f(x, w1, b1, w2):
        _conv.FORCE_ORDER = order
        try:
            y = F.relu(F.conv2d(x, w1, b1, padding=1))
            stored.append(not y.is_contiguous())
            y = F.conv2d(F.max_pool2d(y, 2), w2, None, stride=(1, 2), padding=(1, 0))
            stored.append(not y.is_contiguous())
            return F.adaptive_avg_pool2d(y, 1)
        finally:
            _conv.FORCE_ORDER = None
    assert nc.gradcheck(f, (x, w1, b1, w2))
    assert stored and all(stored)


def test_reused_buffers_never_clobber_live_results(rng, path):
    """Scratch arrays are recycled only when nothing refers to them."""
    w = T(rng.standard_normal((8, 16, 3, 3)).astype(np.float32))
    xs = [rng.standard_normal((16, 16, 16, 16)).astype(np.float32) for _ in range(3)]
    ys = [F.conv2d(T(x), w, padding=1) for x in xs]
    for x, y in zip(xs, ys):
        ref = F.conv2d(T(x), w, padding=1).data
        np.testing.assert_array_equal(y.data, ref)
    # gradients survive the next steps as well
    grads = []
    for x in xs:
        xt = T(x, True)
        F.conv2d(xt, w, padding=1).sum().backward()
        grads.append(xt.grad)
    xt = T(xs[0], True)
    F.conv2d(xt, w, padding=1).sum().backward()
    np.testing.assert_array_equal(grads[0].data, xt.grad.data)


def test_training_loop_repeats_exactly(rng, path):
    x = rng.standard_normal((8, 3, 12, 12)).astype(np.float32)
    w = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    out = []
    for _ in range(3):
        xt, wt = T(x, True), T(w, True)
        y = F.max_pool2d(F.relu(F.conv2d(xt, wt, padding=1)), 2)
        (y * y).sum().backward()
        out.append((xt.grad.data.copy(), wt.grad.data.copy()))
    for a, b in zip(out[0], out[2]):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ conv_transpose2d
CT_GRID = [
    # N, C, H, W, O, k, stride, padding, output_padding, dilation, groups
    (2, 2, 4, 4, 3, (3, 3), 1, 0, 0, 1, 1),
    (1, 2, 3, 4, 2, (3, 3), 2, 1, 1, 1, 1),
    (1, 3, 3, 3, 2, (2, 3), (2, 3), (0, 1), (1, 2), 1, 1),
    (1, 2, 4, 4, 2, (3, 3), 1, 1, 0, 2, 1),
    (2, 4, 3, 3, 4, (3, 3), 2, 1, 0, 1, 2),
    (1, 2, 3, 3, 2, (1, 1), 1, 0, 0, 1, 1),
    (1, 1, 3, 3, 2, (3, 3), 1, 0, 1, 2, 1),     # output_padding with dilation > stride
]


@pytest.mark.parametrize("cfg", CT_GRID, ids=[str(i) for i in range(len(CT_GRID))])
def test_conv_transpose2d_gradcheck_and_reference(cfg, rng):
    N, C, H, W, O, k, s, p, op, d, g = cfg
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((C, O // g) + k)
    b = rng.standard_normal(O)
    y = F.conv_transpose2d(T(x), T(w), T(b), s, p, op, g, d).data
    np.testing.assert_allclose(y, R.conv_transpose2d(x, w, b, s, p, op, g, d), atol=1e-10)
    assert nc.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, g, d),
                        (T(x, True), T(w, True), T(b, True)))


@pytest.mark.parametrize("cfg", [
    (2, 3, 7, 7, 4, (3, 3), 1, 1, 1, 1),
    (2, 4, 9, 8, 2, (3, 2), 2, 1, 1, 2),
    (1, 2, 10, 9, 3, (5, 3), 3, 2, 2, 1),
    (1, 4, 6, 6, 4, (3, 3), 2, 0, 1, 4),
])
def test_conv_transpose2d_is_adjoint_of_conv2d(cfg, rng):
    """<conv2d(x), y> == <x, conv_transpose2d(y)> with the same weight and geometry."""
    N, C, H, W, O, k, s, p, d, g = cfg
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((O, C // g) + k)
    cx = F.conv2d(T(x), T(w), None, s, p, d, g).data
    y = rng.standard_normal(cx.shape)
    # output_padding recovers the rows the floor division of conv2d dropped
    op = tuple((n + 2 * p - d * (kk - 1) - 1) % s for n, kk in zip((H, W), k))
    ty = F.conv_transpose2d(T(y), T(w), None, s, p, op, g, d).data
    assert ty.shape == x.shape
    np.testing.assert_allclose((cx * y).sum(), (x * ty).sum(), rtol=1e-10)


# ------------------------------------------------------------------ errors
def test_errors_name_expected_and_got(rng):
    x = T(rng.standard_normal((8, 3, 28, 28)).astype(np.float32))
    w = T(rng.standard_normal((4, 6, 5, 5)).astype(np.float32))
    with pytest.raises(ValueError, match=r"expected input\[8, 3, 28, 28\] to have 6 channels, "
                                         r"but got 3 channels instead"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match="4-D input"):
        F.conv2d(T(np.zeros((3, 28, 28), np.float32)), w)
    with pytest.raises(ValueError, match="4-D weight"):
        F.conv2d(x, T(np.zeros((4, 3, 5), np.float32)))
    w3 = T(np.zeros((4, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="groups=2 must divide the number of input channels"):
        F.conv2d(x, T(np.zeros((4, 1, 3, 3), np.float32)), groups=2)
    with pytest.raises(ValueError, match="groups=3 must divide the number of output channels"):
        F.conv2d(x, T(np.zeros((4, 1, 3, 3), np.float32)), groups=3)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        F.conv2d(x, w3, groups=0)
    with pytest.raises(ValueError, match="Kernel size can't be greater"):
        F.conv2d(T(np.zeros((1, 3, 4, 4), np.float32)), T(np.zeros((2, 3, 5, 5), np.float32)))
    with pytest.raises(ValueError, match="Kernel size can't be greater"):
        F.conv2d(T(np.zeros((1, 3, 4, 4), np.float32)), w3, dilation=2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv2d(x, w3, stride=0)
    with pytest.raises(ValueError, match="stride must be an int or a pair"):
        F.conv2d(x, w3, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        F.conv2d(x, w3, padding=-1)
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        F.conv2d(x, w3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(x, w3, padding="same", stride=2)
    with pytest.raises(ValueError, match="dilation must be >= 1"):
        F.conv2d(x, w3, dilation=0)
    with pytest.raises(ValueError, match=r"expected bias of shape \[4\]"):
        F.conv2d(x, w3, T(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="should be the same"):
        F.conv2d(x, T(np.zeros((4, 3, 3, 3))))


def test_conv_transpose2d_errors(rng):
    x = T(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"expected input\[2, 3, 5, 5\] to have 4 channels"):
        F.conv_transpose2d(x, T(np.zeros((4, 2, 3, 3), np.float32)))
    w = T(np.zeros((3, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="4-D input"):
        F.conv_transpose2d(T(np.zeros((3, 5, 5), np.float32)), w)
    with pytest.raises(ValueError, match="groups=2 must divide"):
        F.conv_transpose2d(x, w, groups=2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(ValueError, match="too small"):
        F.conv_transpose2d(T(np.zeros((1, 3, 1, 1), np.float32)), w, padding=2)


def test_relu_is_the_activation_function(rng):
    x = T(rng.standard_normal((2, 3, 4, 4)), True)
    y = F.relu(x)
    np.testing.assert_array_equal(y.data, np.maximum(x.data, 0))
    assert nc.gradcheck(F.relu, (T(rng.standard_normal((2, 3)) + 0.5, True),))


def test_conv2d_on_standin_device_matches_cpu(rng):
    from devices import STANDIN, to_host
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    outs = []
    for dev in ("cpu", STANDIN):
        xt = nc.tensor(x, requires_grad=True).to(dev).detach().requires_grad_(True)
        wt = nc.tensor(w).to(dev).detach().requires_grad_(True)
        bt = nc.tensor(b).to(dev).detach().requires_grad_(True)
        y = F.conv2d(xt, wt, bt, stride=2, padding=1)
        z = F.max_pool2d(F.relu(y), 2, ceil_mode=True)
        z = F.avg_pool2d(z, 2, ceil_mode=True) + F.adaptive_avg_pool2d(z, 1)
        z.sum().backward()
        yt = F.conv_transpose2d(y.detach(), wt, None, stride=2, padding=1)
        outs.append([to_host(a) for a in (z.data, xt.grad.data, wt.grad.data, bt.grad.data,
                                           yt.data)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(padding=1), dict(),
                                dict(stride=(1, 2), dilation=2),
                                dict(stride=2, padding=2), dict(stride=2)])
def test_batch_innermost_path_with_aliasing_stride(rng, path, kw, monkeypatch):
    """Inputs whose batch stride is a multiple of 2 KiB reach the batch-innermost layout
    through staged channel bands ('hwn' order; strided, padded or neither, one GEMM or
    chunked, bands of one channel here; with padding and size multiples of the stride the
    stride phases take one copy per band); the results equal the 'nhw' order's and the loop
    reference."""
    monkeypatch.setattr(I, "_BAND_BYTES", 1)
    x = rng.standard_normal((16, 2, 16, 16)).astype(np.float32)     # batch stride 2 KiB
    assert I._staged(np, x, "chwn")
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    y = R.conv2d(x.astype(np.float64), w.astype(np.float64), None, kw.get("stride", 1),
                 kw.get("padding", 0), kw.get("dilation", 1))
    gy = rng.standard_normal(y.shape).astype(np.float32)
    got = _in_both_orders(x, w, gy, **kw)
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)   # float32 sum order
    np.testing.assert_allclose(got[1][0], y, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(3, 5, 5, 7), (64, 7, 7, 64), (64, 14, 14, 64), (5, 3, 4, 300),
                                   (40, 9, 9, 130)])
@pytest.mark.parametrize("bias", [False, True])
def test_to_nchw_matches_a_plain_transpose(shape, bias, rng):
    """The (O, Ho, Wo, N) -> (N, O, Ho, Wo) copy (CuPy's conv output), bias included, from a
    contiguous and from a non-contiguous source."""
    src = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[0]).astype(np.float32) if bias else None
    expect = src.transpose(3, 0, 1, 2) + (0 if b is None else b[None, :, None, None])
    np.testing.assert_array_equal(I._to_nchw(np, src, b, "hwn", "t"), expect)
    wide = np.zeros(shape[:3] + (shape[3] + 3,), np.float32)
    wide[..., :shape[3]] = src
    np.testing.assert_array_equal(I._to_nchw(np, wide[..., :shape[3]], b, "hwn", "t"),
                                  expect)
