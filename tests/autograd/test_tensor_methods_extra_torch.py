"""The added Tensor methods against PyTorch itself: values, dtypes and gradients of the same
computation in both (skipped where PyTorch is not installed)."""
import numpy
import pytest

import npconv as nc

torch = pytest.importorskip("torch")

R = numpy.random.default_rng(11)
INF = float("inf")


def _pair(a, requires_grad=True):
    return (nc.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _same(ours, theirs, rtol=1e-6, atol=1e-7):
    if isinstance(theirs, torch.Tensor):
        t = theirs.detach().numpy()
        o = ours.detach().numpy() if isinstance(ours, nc.Tensor) else numpy.asarray(ours)
        assert o.dtype == t.dtype, (o.dtype, t.dtype)
        assert o.shape == t.shape, (o.shape, t.shape)
        numpy.testing.assert_allclose(o, t, rtol=rtol, atol=atol)
    else:
        assert ours == theirs


def _check(fn, a, *, grad=True, rtol=1e-6):
    """fn(nc tensor) and fn(torch tensor) agree, and so do the input gradients of a random
    projection of the (first) output."""
    x, tx = _pair(a, requires_grad=grad)
    y, ty = fn(x), fn(tx)
    if isinstance(ty, tuple):
        for o, t in zip(y, ty):
            _same(o, t, rtol)
        y, ty = y[0], ty[0]
    else:
        _same(y, ty, rtol)
    if grad and ty.requires_grad:
        w = R.standard_normal(ty.shape).astype(a.dtype)
        (y * nc.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        # PyTorch leaves .grad None where the gradient is zero by construction (norm p=0)
        want = numpy.zeros(a.shape) if tx.grad is None else tx.grad.numpy()
        numpy.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5, atol=1e-6)


def _data(*shape, dtype=numpy.float64, positive=False):
    a = R.standard_normal(shape)
    return (numpy.abs(a) + 0.2 if positive else a).astype(dtype)


ELEMENTWISE = ["sin", "cos", "floor", "ceil", "round", "trunc", "expm1", "isnan", "isinf",
               "isfinite", "nan_to_num"]


@pytest.mark.parametrize("name", ELEMENTWISE + ["log1p", "reciprocal", "rsqrt"])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_elementwise(name, dtype):
    a = _data(3, 4, dtype=dtype, positive=name in ("log1p", "reciprocal", "rsqrt"))
    a[0, :2] = [0.5, 2.5]               # rounding ties
    _check(lambda t: getattr(t, name)(), a)


@pytest.mark.parametrize("name", ELEMENTWISE + ["log1p", "reciprocal", "rsqrt"])
def test_elementwise_int(name):
    a = numpy.array([1, 2, 5])
    _check(lambda t: getattr(t, name)(), a, grad=False)


# the check's weighted sum of the outputs meets inf (float32's maximum, rounded to 1
# decimal, as in PyTorch) in NumPy, which warns where torch is silent
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_to_num_and_round_decimals():
    a = numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1.25, 2.35], dtype=numpy.float32)
    _check(lambda t: t.nan_to_num(), a)
    _check(lambda t: t.nan_to_num(1.0, 2.0, -3.0), a)
    _check(lambda t: t.nan_to_num().round(decimals=1), a)


def test_masked_fill_and_where():
    a = _data(2, 3)
    m = numpy.array([True, False, True])
    _check(lambda t: t.masked_fill(nc.tensor(m) if isinstance(t, nc.Tensor)
                                   else torch.tensor(m), -1.5), a)
    _check(lambda t: t.masked_fill(nc.tensor([[True], [False]]) if isinstance(t, nc.Tensor)
                                   else torch.tensor([[True], [False]]), 2.0), a)
    _check(lambda t: t.where(t > 0, 0.25), a)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_prod(dim, keepdim):
    a = _data(3, 4)
    a[0, 1] = 0.0                      # one zero in a row
    a[1, :2] = 0.0                     # two zeros in a row
    _check(lambda t: t.prod() if dim is None else t.prod(dim, keepdim), a)


@pytest.mark.parametrize("dtype", [numpy.int32, numpy.uint8, numpy.bool_])
def test_prod_cumsum_int_dtypes(dtype):
    a = numpy.array([[1, 2], [3, 1]]).astype(dtype)
    _check(lambda t: t.prod(), a, grad=False)
    _check(lambda t: t.prod(1), a, grad=False)
    _check(lambda t: t.cumsum(0), a, grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim):
    _check(lambda t: t.cumsum(dim), _data(3, 4, dtype=numpy.float32))


@pytest.mark.parametrize("p", ["fro", 2, 1, INF, -INF, 0, 3, 0.5])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, 2), False), (-1, False)])
def test_norm(p, dim, keepdim):
    a = _data(2, 3, 4, dtype=numpy.float32)
    a[0, 0, :2] = [3.0, -3.0]          # a tie for the inf-norm
    a[1, 1, :] = [3.0, -3.0, 1.0, 0.5]
    _check(lambda t: t.norm(p, dim, keepdim), a, rtol=1e-5)


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_argsort(dim, descending):
    a = R.permutation(24).reshape(4, 6).astype(numpy.float32)   # no ties: indices agree
    _check(lambda t: tuple(t.sort(dim, descending)), a)
    _check(lambda t: t.argsort(dim, descending), a, grad=False)
    b = numpy.array([2.0, 1.0, 2.0, numpy.nan, 1.0], dtype=numpy.float32)
    # stable=True in PyTorch: its ties are ordered as ours
    x, tx = _pair(b, False)
    s, ts = x.sort(descending=descending), tx.sort(descending=descending, stable=True)
    _same(s.values, ts.values)
    _same(s.indices, ts.indices)


@pytest.mark.parametrize("k,dim,largest", [(1, 0, True), (3, -1, True), (2, 1, False),
                                           (6, 1, False)])
def test_topk(k, dim, largest):
    a = R.permutation(24).reshape(4, 6).astype(numpy.float64)
    _check(lambda t: tuple(t.topk(k, dim, largest)), a)


@pytest.mark.parametrize("fn", [
    lambda t: t.t(), lambda t: t.reshape(2, 2, 3).mT, lambda t: t.repeat(2, 1, 3),
    lambda t: t.split(2, 1), lambda t: t.split([1, 3], 0), lambda t: t.chunk(4, 1),
    lambda t: t.unbind(1), lambda t: t.reshape(-1)[:3].outer(t[0]),
])
def test_shape_ops(fn):
    x, tx = _pair(_data(4, 3))
    y, ty = fn(x), fn(tx)
    if isinstance(ty, tuple):
        assert isinstance(y, tuple) and len(y) == len(ty)
        for o, t in zip(y, ty):
            _same(o, t)
        w = [R.standard_normal(t.shape) for t in ty]
        sum((o * nc.tensor(v)).sum() for o, v in zip(y, w)).backward()
        sum((t * torch.tensor(v)).sum() for t, v in zip(ty, w)).backward()
        numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    else:
        _check(fn, _data(4, 3))


def test_gather_index_select():
    a = _data(3, 5)
    idx = R.integers(0, 5, (2, 7))
    _check(lambda t: t.gather(1, (nc.tensor if isinstance(t, nc.Tensor) else torch.tensor)(idx)),
           a)
    idx0 = R.integers(0, 3, (4, 5))
    _check(lambda t: t.gather(0, (nc.tensor if isinstance(t, nc.Tensor)
                                  else torch.tensor)(idx0)), a)
    sel = numpy.array([4, 0, 4, 4, 2])
    _check(lambda t: t.index_select(1, (nc.tensor if isinstance(t, nc.Tensor)
                                        else torch.tensor)(sel)), a)
    _check(lambda t: t.index_select(0, (nc.tensor if isinstance(t, nc.Tensor)
                                        else torch.tensor)(numpy.array([2, 2, 0]))), a)


def test_linalg():
    m = _data(3, 4)
    for fn in (lambda t: t.mm(t.t()), lambda t: t.mv(t[0]), lambda t: t[0].dot(t[1]),
               lambda t: t[0].outer(t[1]), lambda t: t.reshape(1, 3, 4).bmm(t.reshape(1, 4, 3))):
        _check(fn, m)


def test_creation_and_comparison():
    for a in (numpy.array([1, 2]), _data(2, dtype=numpy.float32)):
        x, tx = nc.tensor(a), torch.tensor(a)
        for fn in (lambda t: t.new_zeros(2, 3), lambda t: t.new_ones((2,)),
                   lambda t: t.new_full((2,), 1.7), lambda t: t.new_tensor([1.5, -2.5])):
            _same(fn(x), fn(tx))
        assert x.allclose(x + 0) == tx.allclose(tx + 0)
        assert x.equal(x.double()) == tx.equal(tx.double())
        _same(x.type_as(nc.tensor([1.5])), tx.type_as(torch.tensor([1.5])))


def test_error_messages_match():
    x, tx = nc.zeros(2, 3), torch.zeros(2, 3)
    cases = [
        lambda t, T: t.mm(T.zeros(4, 5)), lambda t, T: t.bmm(t),
        lambda t, T: t.mv(T.zeros(4)), lambda t, T: t[0].dot(T.zeros(4)),
        lambda t, T: t.outer(t[0]), lambda t, T: t.reshape(1, 2, 3).t(),
        lambda t, T: t[0].mT, lambda t, T: t.split(0), lambda t, T: t.split([1, 2]),
        lambda t, T: t.chunk(0), lambda t, T: t.repeat(2),
        lambda t, T: t.gather(0, T.tensor([[0, 5]])), lambda t, T: t.gather(0, T.tensor([0])),
        lambda t, T: t.index_select(0, T.tensor([7])), lambda t, T: t.topk(4),
        lambda t, T: t.masked_fill(T.tensor([1, 0, 1]), 0.0), lambda t, T: t.sort(2),
        lambda t, T: t.norm(dim=3), lambda t, T: T.arange(3).norm(),
        lambda t, T: t.allclose(t.double()), lambda t, T: t.prod(5), lambda t, T: t.cumsum(-3),
    ]
    for case in cases:
        with pytest.raises(Exception) as ours:
            case(x, nc)
        with pytest.raises(Exception) as theirs:
            case(tx, torch)
        assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
        msg = str(theirs.value).splitlines()[0]
        if "dtype" not in msg:          # (dtype names are spelt the NumPy way here)
            assert msg in str(ours.value), (str(ours.value), msg)
