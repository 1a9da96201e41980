"""Every differentiable op: float64 gradcheck over varied shapes (broadcasting, size-1 dims,
batch of one, odd sizes), and its forward values against NumPy."""
import numpy as np
import pytest

import npconv as nc
from npconv.ops import activation
from npconv.testing import assert_gradcheck


def T(*shape, low=-2.0, high=2.0, seed=None, away=0.0):
    """A float64 leaf that requires grad, values uniform in [low, high] and at least
    ``away`` from zero (for kinks and poles)."""
    rng = np.random.default_rng(abs(hash((shape, low, high, seed))) % 2**32)
    a = rng.uniform(low, high, size=shape)
    if away:
        a = np.where(np.abs(a) < away, np.sign(a + 1e-12) * away + a, a)
    return nc.tensor(a, dtype=nc.float64, requires_grad=True)


def P(*shape, **kw):
    """Strictly positive values (for log, sqrt, division, pow)."""
    return T(*shape, low=0.5, high=2.0, **kw)


BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((1,), (5,)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1, 1), (1, 1)),
    ((1, 3, 1), (2, 1, 5)),
    ((7,), (1,)),
]


@pytest.mark.parametrize("sa,sb", BINARY_SHAPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_binary_gradcheck(op, sa, sb):
    a = P(*sa) if op in ("pow",) else T(*sa)
    b = P(*sb) if op in ("div", "pow") else T(*sb, seed=1)
    fns = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
           "div": lambda x, y: x / y, "pow": lambda x, y: x ** y,
           "maximum": nc.maximum, "minimum": nc.minimum}
    assert_gradcheck(fns[op], (a, b))


@pytest.mark.parametrize("sa,sb", BINARY_SHAPES[:5])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_binary_forward_matches_numpy(op, sa, sb):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2, sa).astype(np.float32)
    b = rng.uniform(0.5, 2, sb).astype(np.float32)
    npf = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
           "pow": np.power, "maximum": np.maximum, "minimum": np.minimum}[op]
    ncf = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
           "div": lambda x, y: x / y, "pow": lambda x, y: x ** y,
           "maximum": nc.maximum, "minimum": nc.minimum}[op]
    out = ncf(nc.tensor(a), nc.tensor(b))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), npf(a, b), rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda x: x + 2.5, lambda x: 2.5 + x, lambda x: x - 1, lambda x: 3 - x,
    lambda x: x * -1.5, lambda x: 0.5 * x, lambda x: x / 4, lambda x: 2.0 / x, lambda x: -x,
    lambda x: x ** 2, lambda x: x ** 3, lambda x: x ** 0.5, lambda x: x ** -1.5,
    lambda x: 2 ** x, lambda x: 1.7 ** x, lambda x: +x,
], ids=["add_s", "radd_s", "sub_s", "rsub_s", "mul_s", "rmul_s", "div_s", "rdiv_s", "neg",
        "sq", "cube", "pow_half", "pow_neg", "rpow_int", "rpow_float", "pos"])
@pytest.mark.parametrize("shape", [(3, 4), (1,), (), (5, 1, 2)])
def test_scalar_operand_gradcheck(fn, shape):
    assert_gradcheck(fn, (P(*shape),))


def test_pow_zero_exponent_and_zero_base_gradients_are_finite():
    x = nc.tensor([0.0, 1.0, 2.0], dtype=nc.float64, requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])
    e = nc.tensor([2.0, 1.0, 3.0], dtype=nc.float64, requires_grad=True)
    b = nc.tensor([0.0, 1.0, 2.0], dtype=nc.float64, requires_grad=True)
    (b ** e).sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), [0.0, 0.0, 8 * np.log(2)])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 1.0, 12.0])


MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((1, 1), (1, 1)),
    ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (3, 3, 4)),
    ((1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 3), (4, 3, 5)),
    ((1, 3), (3, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_gradcheck(sa, sb):
    assert_gradcheck(lambda a, b: a @ b, (T(*sa), T(*sb, seed=2)))


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_and_single_side_grads(sa, sb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    np.testing.assert_allclose(nc.matmul(nc.tensor(a), nc.tensor(b)).numpy(), a @ b,
                               rtol=1e-5, atol=1e-6)
    # only one side requires grad (the other branch of the backward)
    assert_gradcheck(lambda x: x @ nc.tensor(b.astype(np.float64)), (T(*sa),))
    assert_gradcheck(lambda y: nc.tensor(a.astype(np.float64)) @ y, (T(*sb),))


UNARY = {
    "exp": (lambda x: x.exp(), np.exp, {}),
    "log": (lambda x: x.log(), np.log, {"low": 0.3, "high": 3.0}),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, {"low": 0.3, "high": 3.0}),
    "abs": (lambda x: x.abs(), np.abs, {"away": 0.05}),
    "abs_builtin": (lambda x: abs(x), np.abs, {"away": 0.05}),
    "relu": (lambda x: x.relu(), lambda a: np.maximum(a, 0), {"away": 0.05}),
    "sigmoid": (lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), {}),
    "tanh": (lambda x: x.tanh(), np.tanh, {}),
    "neg": (lambda x: x.neg(), np.negative, {}),
    "clamp_min": (lambda x: x.clamp(min=-0.5), lambda a: np.maximum(a, -0.5), {}),
    "clamp_max": (lambda x: x.clamp(max=0.7), lambda a: np.minimum(a, 0.7), {}),
    "clamp_both": (lambda x: nc.clamp(x, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), {}),
    "square_mul": (lambda x: x * x, np.square, {}),
}


def _avoid(a, points=(-0.5, 0.7), gap=0.02):
    for p in points:
        a = np.where(np.abs(a - p) < gap, a + 2 * gap, a)
    return a


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(3, 4), (1,), (), (2, 1, 5), (1, 7)])
def test_unary_gradcheck_and_forward(name, shape):
    fn, ref, kw = UNARY[name]
    x = T(*shape, **kw)
    if name.startswith("clamp"):
        x = nc.tensor(_avoid(x.detach().numpy()), requires_grad=True)
    assert_gradcheck(fn, (x,))
    a32 = x.detach().numpy().astype(np.float32)
    out = fn(nc.tensor(a32))
    assert out.dtype == np.float32 and out.shape == a32.shape
    np.testing.assert_allclose(out.numpy(), ref(a32), rtol=2e-6, atol=1e-7)


def test_sigmoid_is_stable_for_large_inputs():
    x = nc.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise"):
        y = x.sigmoid().numpy()
    np.testing.assert_allclose(y, [0.0, 1.9287e-22, 0.5, 1.0, 1.0], rtol=1e-3)


@pytest.mark.parametrize("shape,dim", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((1, 6), 1),
                                       ((6,), 0), ((4, 1), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck_and_forward(name, shape, dim):
    fn = lambda x: getattr(x, name)(dim)  # noqa: E731
    x = T(*shape, low=-3, high=3)
    assert_gradcheck(fn, (x,))
    a = x.detach().numpy()
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    sm = e / e.sum(axis=dim, keepdims=True)
    ref = sm if name == "softmax" else np.log(sm)
    np.testing.assert_allclose(getattr(nc, name)(x, dim).detach().numpy(), ref, rtol=1e-10)


def test_softmax_numerically_stable():
    x = nc.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    sm = x.softmax(-1).numpy()
    lsm = x.log_softmax(-1).numpy()
    assert np.isfinite(sm).all() and np.isfinite(lsm).all()
    np.testing.assert_allclose(sm[0], [0.09003057, 0.24472847, 0.66524096], rtol=1e-5)
    np.testing.assert_allclose(lsm[1], [-np.log(3)] * 3, rtol=1e-6)
    assert sm.dtype == np.float32 and lsm.dtype == np.float32


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name, value", [("softmax", 1.0), ("log_softmax", 0.0)])
def test_softmax_of_a_0d_tensor(name, value, dim):
    # PyTorch: softmax of one element is 1 (log_softmax 0), and the gradient is 0
    F = nc.nn.functional
    x = nc.tensor(0.3, requires_grad=True)
    for f in (getattr(F, name), getattr(nc, name), lambda t, d: getattr(t, name)(d)):
        y = f(x, dim)
        assert y.shape == () and y.dtype == np.float32 and y.item() == value
        x.grad = None
        y.backward()
        assert x.grad.dtype == np.float32 and x.grad.item() == 0.0
    assert_gradcheck(lambda t: getattr(F, name)(t, dim) * t, (T(),))
    with pytest.raises(IndexError, match=r"range of \[-1, 0\], but got 1"):
        getattr(F, name)(x, 1)


class _CupyStrict(np.ndarray):
    """An ndarray that refuses an axis in a reduction of a 0-d array, as CuPy does (NumPy
    takes axis 0 and -1 there)."""

    def _check(self, axis):
        if self.ndim == 0 and axis is not None:
            raise ValueError("axis %s is out of bounds for array of dimension 0" % axis)

    def max(self, axis=None, **kw):
        self._check(axis)
        return super().max(axis=axis, **kw)

    def sum(self, axis=None, **kw):
        self._check(axis)
        return super().sum(axis=axis, **kw)


@pytest.mark.parametrize("name, value", [("Softmax", 1.0), ("LogSoftmax", 0.0)])
def test_softmax_of_a_0d_array_reduces_without_an_axis(name, value):
    # (the stand-in device does not model this CuPy rule; real CuPy raises AxisError)
    fn = getattr(activation, name)
    x = nc.Tensor._wrap(np.asarray(0.3).view(_CupyStrict), requires_grad=True)
    y = fn.apply(x, 0)
    assert float(y.data) == value
    y.backward()
    assert float(x.grad.data) == 0.0
    p = fn.apply(nc.Tensor._wrap(np.asarray([0.3, 0.1]).view(_CupyStrict)), 0).data
    np.testing.assert_allclose((p if name == "Softmax" else np.exp(p)).sum(), 1.0)


REDUCTIONS = [
    ((3, 4), None, False), ((3, 4), 0, False), ((3, 4), -1, True), ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (0, 2), True), ((2, 3, 4), 1, True), ((1, 5), 0, False), ((5,), 0, True),
    ((1,), None, True), ((2, 1, 3), (-1, 0), False), ((4, 1), 1, False),
]


@pytest.mark.parametrize("shape,dim,keepdim", REDUCTIONS)
@pytest.mark.parametrize("name", ["sum", "mean", "var", "var_biased", "std", "amax", "amin"])
def test_reduction_gradcheck_and_forward(name, shape, dim, keepdim):
    x = T(*shape)
    if name == "var_biased":
        fn = lambda t: t.var(dim=dim, unbiased=False, keepdim=keepdim)  # noqa: E731
        ref = lambda a: a.var(axis=dim, keepdims=keepdim)  # noqa: E731
    elif name in ("var", "std"):
        n = x.data.size if dim is None else int(np.prod([shape[d] for d in np.atleast_1d(dim)]))
        if n < 2:   # unbiased variance of one element: nan, with PyTorch's warning
            with np.errstate(divide="ignore", invalid="ignore"), \
                    pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
                assert np.isnan(getattr(x, name)(dim=dim, keepdim=keepdim).detach().numpy()).all()
            return
        fn = lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)  # noqa: E731
        ref = lambda a: getattr(a, name)(axis=dim, keepdims=keepdim, ddof=1)  # noqa: E731
    else:
        fn = lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)  # noqa: E731
        npname = {"amax": "max", "amin": "min"}.get(name, name)
        ref = lambda a: getattr(a, npname)(axis=dim, keepdims=keepdim)  # noqa: E731
    assert_gradcheck(fn, (x,))
    a32 = x.detach().numpy().astype(np.float32)
    out = fn(nc.tensor(a32))
    expect = np.asarray(ref(a32))
    assert out.shape == expect.shape and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape,dim,keepdim", [((3, 4), 1, False), ((3, 4), 0, True),
                                                ((2, 3, 4), -1, False), ((5,), 0, False)])
def test_max_min_with_dim_returns_values_and_indices(name, shape, dim, keepdim):
    x = T(*shape)
    values, indices = getattr(x, name)(dim, keepdim)
    named = getattr(x, name)(dim=dim, keepdim=keepdim)
    assert named.values.shape == values.shape and named.indices.tolist() == indices.tolist()
    a = x.detach().numpy()
    np.testing.assert_array_equal(values.detach().numpy(),
                                  getattr(a, name)(axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.numpy(),
                                  getattr(a, "arg" + name)(axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert_gradcheck(lambda t: getattr(t, name)(dim, keepdim)[0], (x,))


def test_max_ties_share_gradient_without_dim_and_pick_one_with_dim():
    x = nc.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    x.max(dim=1)[0].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    assert x.max().item() == 3.0 and x.min().item() == 0.0
    np.testing.assert_array_equal(nc.max(x, nc.tensor(2.5)).detach().numpy(),
                                  [[2.5, 3, 3], [2.5, 2.5, 2.5]])


SHAPE_OPS = [
    ("reshape", (2, 3, 4), lambda x: x.reshape(4, 6)),
    ("reshape_tuple", (2, 3, 4), lambda x: x.reshape((-1, 2))),
    ("reshape_scalar", (1,), lambda x: x.reshape(())),
    ("view", (2, 3, 4), lambda x: x.view(6, 4)),
    ("flatten", (2, 3, 4), lambda x: x.flatten()),
    ("flatten_1", (2, 3, 4, 1), lambda x: x.flatten(1)),
    ("flatten_mid", (2, 3, 4, 5), lambda x: nc.flatten(x, 1, 2)),
    ("squeeze", (1, 3, 1, 2), lambda x: x.squeeze()),
    ("squeeze_dim", (1, 3, 1, 2), lambda x: x.squeeze(2)),
    ("unsqueeze", (3, 2), lambda x: x.unsqueeze(1)),
    ("unsqueeze_neg", (3, 2), lambda x: x.unsqueeze(-1)),
    ("transpose", (2, 3, 4), lambda x: x.transpose(0, 2)),
    ("transpose_neg", (2, 3, 4), lambda x: x.transpose(-1, -2)),
    ("permute", (2, 3, 4), lambda x: x.permute(2, 0, 1)),
    ("permute_list", (2, 3, 4), lambda x: x.permute([1, 2, 0])),
    ("T", (3, 5), lambda x: x.T),
    ("expand", (3, 1), lambda x: x.expand(2, 3, 4)),
    ("expand_neg", (1, 4), lambda x: x.expand(3, -1)),
]


@pytest.mark.parametrize("name,shape,fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op_gradcheck(name, shape, fn):
    assert_gradcheck(lambda x: fn(x) * fn(T(*shape, seed=9)).detach(), (T(*shape),))


def test_shape_op_forward_values():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = nc.tensor(a)
    np.testing.assert_array_equal(x.reshape(4, 6).numpy(), a.reshape(4, 6))
    np.testing.assert_array_equal(x.view(-1).numpy(), a.ravel())
    np.testing.assert_array_equal(x.flatten(1).numpy(), a.reshape(2, 12))
    np.testing.assert_array_equal(x.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.transpose(0, 1).numpy(), a.swapaxes(0, 1))
    np.testing.assert_array_equal(x[0].T.numpy(), a[0].T)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(3).shape == (2, 3, 4, 1)
    assert nc.ones(1, 3, 1).squeeze().shape == (3,)
    assert nc.ones(1, 3, 1).squeeze(0).shape == (3, 1)
    assert nc.ones(2, 3).squeeze(0).shape == (2, 3)   # not size 1: unchanged, as PyTorch


def test_view_of_non_contiguous_raises_like_pytorch():
    x = nc.ones(3, 4).T
    with pytest.raises(RuntimeError, match="reshape"):
        x.view(12)
    assert x.reshape(12).shape == (12,)


INDEXES = [
    ("int", (5, 3), 2),
    ("neg_int", (5, 3), -1),
    ("slice", (5, 3), slice(1, 4)),
    ("step", (6, 4), (slice(None, None, 2), slice(1, None))),
    ("ellipsis", (2, 3, 4), (Ellipsis, 1)),
    ("none", (3, 4), (None, 1)),
    ("int_array", (5, 3), np.array([0, 2, 4])),
    ("dup_array", (5, 3), np.array([1, 1, 0, 1])),
    ("list", (5, 3), [4, 4, 0]),
    ("neg_dups", (3, 2), np.array([0, -3, 2, -1])),
    ("2d_array", (5, 3), np.array([[0, 1], [1, 1]])),
    ("array_slice", (4, 3), (np.array([3, 3, 0]), slice(None))),
    ("rows_cols", (4, 3), (np.array([0, 1, 2, 3]), np.array([2, 0, 0, 1]))),
    ("rows_cols_dup", (4, 3), (np.array([0, 0, 2, 0]), np.array([1, 1, 0, 1]))),
    ("int_and_array", (4, 3), (np.array([0, 0, 3]), 1)),
    ("col_array", (4, 3), (slice(None), np.array([2, 2, 0]))),
    ("mixed", (3, 4, 5), (np.array([0, 2, 0]), slice(1, 3))),
    ("bool_mask", (4, 3), np.array([True, False, True, True])),
    ("mask_2d", (2, 3), np.array([[True, False, True], [False, True, True]])),
    ("scalar_array_1col", (6, 1), np.array([5, 5, 5, 0])),
    ("one_col_dups", (6,), np.array([5, 5, 5, 0, 1])),
]


@pytest.mark.parametrize("name,shape,index", INDEXES, ids=[i[0] for i in INDEXES])
def test_getitem_gradcheck_forward_and_scatter(name, shape, index):
    x = T(*shape)
    assert_gradcheck(lambda t: t[index], (x,))
    a = x.detach().numpy()
    out = x[index]
    np.testing.assert_array_equal(out.detach().numpy(), a[index])
    # backward against NumPy's reference scatter (np.add.at handles duplicates)
    g = np.random.default_rng(1).standard_normal(np.shape(a[index]))
    out.backward(nc.tensor(g))
    ref = np.zeros_like(a)
    np.add.at(ref, index if not isinstance(index, list) else np.asarray(index), g)
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12)


def test_getitem_with_tensor_index_and_iteration():
    x = nc.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    idx = nc.tensor([2, 0, 2])
    y = x[idx]
    np.testing.assert_array_equal(y.detach().numpy(), [[5, 6], [1, 2], [5, 6]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [2, 2]])
    rows = [r for r in x]
    assert len(rows) == 3 and rows[1].tolist() == [3.0, 4.0]
    assert x[x > 2.5].tolist() == [3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize("dim,shapes", [
    (0, [(2, 3), (1, 3), (4, 3)]), (1, [(2, 1), (2, 3)]), (-1, [(2, 2, 1), (2, 2, 3)]),
    (0, [(3,), (1,)]), (1, [(1, 2, 3), (1, 1, 3), (1, 2, 3)]),
])
def test_cat_gradcheck_and_forward(dim, shapes):
    xs = [T(*s, seed=i) for i, s in enumerate(shapes)]
    assert_gradcheck(lambda *ts: nc.cat(ts, dim), tuple(xs))
    ref = np.concatenate([x.detach().numpy() for x in xs], axis=dim)
    np.testing.assert_array_equal(nc.cat(xs, dim).detach().numpy(), ref)
    # an input that does not require grad gets none, the others still do
    c = nc.tensor(np.ones(shapes[0]))
    out = nc.cat([c] + xs[1:], dim)
    out.sum().backward()
    assert c.grad is None and xs[1].grad.tolist() == np.ones(shapes[1]).tolist()


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_gradcheck_and_forward(dim):
    xs = [T(2, 3, seed=i) for i in range(3)]
    assert_gradcheck(lambda *ts: nc.stack(ts, dim), tuple(xs))
    ref = np.stack([x.detach().numpy() for x in xs], axis=dim)
    np.testing.assert_array_equal(nc.stack(xs, dim).detach().numpy(), ref)


def test_stack_shape_mismatch_raises():
    with pytest.raises(RuntimeError, match="equal size"):
        nc.stack([nc.ones(2), nc.ones(3)])


@pytest.mark.parametrize("sc,sa,sb", [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)),
                                      ((4,), (3, 4), ()), ((2, 3), (2, 3), (1,))])
def test_where_gradcheck_and_forward(sc, sa, sb):
    cond = np.random.default_rng(3).random(sc) > 0.5
    a, b = T(*sa), T(*sb, seed=5)
    assert_gradcheck(lambda x, y: nc.where(nc.tensor(cond), x, y), (a, b))
    np.testing.assert_array_equal(nc.where(nc.tensor(cond), a, b).detach().numpy(),
                                  np.where(cond, a.detach().numpy(), b.detach().numpy()))


def test_where_with_scalars_keeps_float32():
    x = nc.tensor([1.0, -2.0, 3.0])
    assert nc.where(x > 0, x, 0.0).dtype == np.float32
    assert nc.where(x > 0, 1.0, 0.0).dtype == np.float32
    assert nc.where(x > 0, 1.0, 0.0).tolist() == [1.0, 0.0, 1.0]


def test_clamp_with_tensor_bounds():
    x = T(3, 4)
    lo = T(3, 4, seed=4, low=-3, high=-0.1)
    hi = T(4, seed=5, low=0.1, high=3)
    assert_gradcheck(lambda t, a, b: t.clamp(a, b), (x, lo, hi))


def test_cast_gradcheck_and_dtype_of_gradient():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]
    assert_gradcheck(lambda t: t.to(nc.float64) * t, (T(3),))


def test_comparisons_return_tensors_without_grad():
    x = nc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = nc.tensor([3.0, 2.0, 1.0])
    for op, ref in [("__lt__", [1, 0, 0]), ("__le__", [1, 1, 0]), ("__gt__", [0, 0, 1]),
                    ("__ge__", [0, 1, 1]), ("__eq__", [0, 1, 0]), ("__ne__", [1, 0, 1])]:
        r = getattr(x, op)(y)
        assert r.dtype == np.bool_ and not r.requires_grad and r.grad_fn is None
        assert r.numpy().astype(int).tolist() == ref
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == 2).tolist() == [False, True, False]
    assert x.gt(2).tolist() == [False, False, True]


@pytest.mark.parametrize("shape,dims", [((5,), (0,)), ((2, 3), (0, 1)), ((3, 1, 4), (-1,)),
                                        ((1, 3, 2, 5), (1, 3)), ((2, 3), ())])
def test_flip_values_gradcheck_and_copy(shape, dims):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape)
    x = nc.tensor(a, requires_grad=True)
    y = x.flip(dims)
    np.testing.assert_array_equal(y.detach().numpy(), np.flip(a, dims) if dims else a)
    assert nc.flip(x, list(dims)).tolist() == y.tolist()
    if y.numel():               # a copy, as PyTorch's: writing it leaves x alone
        y.data.reshape(-1)[0] = 99.0
        assert 99.0 not in x.detach().numpy()
    assert_gradcheck(lambda t: t.flip(*dims) * nc.arange(float(t.numel()), dtype=np.float64)
                     .reshape(t.shape), (nc.tensor(a, requires_grad=True),))
    assert nc.tensor(a.astype(np.float32)).flip(dims).dtype == np.float32


def test_flip_errors_as_pytorch():
    x = nc.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.flip(0, -2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.flip(2)
    with pytest.raises(TypeError, match="argument 'dims' must be tuple of ints, not int"):
        nc.flip(x, 0)
    assert nc.tensor(3.0).flip(()).item() == 3.0
    assert nc.tensor(3.0).flip(0).item() == 3.0 == nc.flip(nc.tensor(3.0), [-1]).item()
