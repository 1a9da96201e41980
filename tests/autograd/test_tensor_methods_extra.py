"""The Tensor methods added after the core set (elementwise math, prod/cumsum/norm,
sort/topk, split/chunk/repeat, gather/index_select, mm/bmm/mv/dot/outer, new_*), checked
without PyTorch: gradients by gradcheck, values against NumPy or written out, dtypes, errors,
and a run on the stand-in GPU. (Cross-checks with PyTorch: ..._torch.py.)"""
import warnings

import numpy
import pytest

import npconv as nc
from devices import assert_on, on_devices, reset_current_device, to_host  # noqa: F401

R = numpy.random.default_rng(7)


def _t(*shape, low=None, requires_grad=True, dtype=numpy.float64):
    a = R.standard_normal(shape)
    if low is not None:
        a = numpy.abs(a) + low
    return nc.tensor(a.astype(dtype), requires_grad=requires_grad)


SHAPES = [(), (1,), (5,), (3, 1), (2, 3, 5)]

# ------------------------------------------------------------------ elementwise
UNARY = [
    ("sin", numpy.sin, None), ("cos", numpy.cos, None), ("log1p", numpy.log1p, 0.1),
    ("expm1", numpy.expm1, None), ("reciprocal", lambda a: 1 / a, 0.5),
    ("rsqrt", lambda a: 1 / numpy.sqrt(a), 0.5),
]


@pytest.mark.parametrize("name,ref,low", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_gradcheck_and_values(name, ref, low, shape):
    x = _t(*shape, low=low)
    assert nc.gradcheck(lambda a: getattr(a, name)(), (x,))
    y = getattr(x, name)()
    assert y.shape == shape and y.dtype == numpy.float64
    numpy.testing.assert_allclose(y.detach().numpy(), ref(x.detach().numpy()), rtol=1e-12)
    assert getattr(nc, name)(x).shape == shape


@pytest.mark.parametrize("name,ref,low", UNARY)
def test_unary_keeps_float32_and_promotes_ints(name, ref, low):
    x = _t(4, low=low, dtype=numpy.float32, requires_grad=True)
    y = getattr(x, name)()
    assert y.dtype == numpy.float32
    y.sum().backward()
    assert x.grad.dtype == numpy.float32
    i = nc.tensor([1, 2, 3])
    yi = getattr(i, name)()
    assert yi.dtype == numpy.float32        # PyTorch's default dtype, not NumPy's float64
    numpy.testing.assert_allclose(yi.numpy(), ref(numpy.array([1.0, 2.0, 3.0])), rtol=1e-6)


def test_known_values():
    assert nc.tensor([0.0, numpy.pi / 2]).sin().tolist() == pytest.approx([0.0, 1.0])
    assert nc.tensor([0.0]).cos().tolist() == [1.0]
    assert nc.tensor([4.0, 0.25]).rsqrt().tolist() == [0.5, 2.0]
    assert nc.tensor([4.0, -0.5]).reciprocal().tolist() == [0.25, -2.0]
    assert nc.tensor([0.0]).reciprocal().tolist() == [float("inf")]
    # log1p / expm1 keep precision where log(1 + x) would lose it all
    assert nc.tensor([1e-10], dtype=nc.float64).log1p().item() == pytest.approx(1e-10, rel=1e-9)
    assert nc.tensor([1e-10], dtype=nc.float64).expm1().item() == pytest.approx(1e-10, rel=1e-9)


def test_rounding_values_and_zero_gradient():
    x = nc.tensor([0.5, 1.5, 2.5, -0.5, -1.7, 1.2], requires_grad=True)
    assert x.round().tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 1.0]    # half to even
    assert x.floor().tolist() == [0.0, 1.0, 2.0, -1.0, -2.0, 1.0]
    assert x.ceil().tolist() == [1.0, 2.0, 3.0, -0.0, -1.0, 2.0]
    assert x.trunc().tolist() == [0.0, 1.0, 2.0, -0.0, -1.0, 1.0]
    assert nc.tensor([1.25, 1.35, 12.5]).round(decimals=1).tolist() == pytest.approx(
        [1.2, 1.4, 12.5])
    with warnings.catch_warnings():        # near float32's maximum: inf, silently (PyTorch)
        warnings.simplefilter("error")
        assert nc.tensor([3.4e38, 1.25]).round(decimals=1).tolist()[0] == float("inf")
    for name in ("floor", "ceil", "trunc", "round"):
        y = getattr(x, name)()
        assert y.dtype == numpy.float32 and y.requires_grad
        assert y.grad_fn.name() == name.capitalize() + "Backward"
        (g,) = nc.autograd.grad(y.sum(), x)
        assert g.tolist() == [0.0] * 6
        i = nc.tensor([3, -2])
        assert getattr(i, name)().dtype == numpy.int64
        assert getattr(i, name)().tolist() == [3, -2]
    assert nc.gradcheck(lambda a: a.floor() + a, (_t(2, 3) + 0.3,))


def test_isnan_isinf_isfinite():
    x = nc.tensor([1.0, float("nan"), float("inf"), -float("inf")], requires_grad=True)
    assert x.isnan().tolist() == [False, True, False, False]
    assert x.isinf().tolist() == [False, False, True, True]
    assert x.isfinite().tolist() == [True, False, False, False]
    for name in ("isnan", "isinf", "isfinite"):
        y = getattr(nc, name)(x)
        assert y.dtype == numpy.bool_ and not y.requires_grad
    assert nc.tensor([1, 2]).isnan().tolist() == [False, False]
    assert nc.tensor([1, 2]).isfinite().tolist() == [True, True]


def test_nan_to_num_values_and_gradient():
    x = nc.tensor([float("nan"), float("inf"), -float("inf"), 1.5], requires_grad=True)
    y = x.nan_to_num()
    big = float(numpy.finfo(numpy.float32).max)
    assert y.dtype == numpy.float32
    assert y.tolist() == [0.0, big, -big, 1.5]
    assert x.nan_to_num(1.0, 2.0, 3.0).tolist() == [1.0, 2.0, 3.0, 1.5]
    (y * 0.5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.5]      # replaced elements get no gradient
    assert nc.nan_to_num(nc.tensor([1, 2])).tolist() == [1, 2]
    assert nc.gradcheck(lambda a: a.nan_to_num(), (_t(3, 2),))


def test_masked_fill():
    x = _t(2, 3)
    mask = nc.tensor([True, False, True])
    y = x.masked_fill(mask, 0.5)
    ref = numpy.where(mask.numpy(), 0.5, x.detach().numpy())
    numpy.testing.assert_array_equal(y.detach().numpy(), ref)
    assert y.dtype == numpy.float64
    assert nc.gradcheck(lambda a: a.masked_fill(mask, 0.5), (x,))
    v = nc.tensor(2.0, dtype=nc.float64, requires_grad=True)
    assert nc.gradcheck(lambda a, b: a.masked_fill(mask, b), (x, v))
    x.masked_fill(mask, v).sum().backward()
    assert v.grad.item() == 4.0                 # two rows, two filled places each
    assert x.grad.tolist() == [[0.0, 1.0, 0.0]] * 2
    # broadcasting grows the result, as PyTorch's out-of-place masked_fill
    assert x.masked_fill(nc.ones(4, 2, 3, dtype=nc.bool), 1.0).shape == (4, 2, 3)
    # a float value into an int tensor is cast to it; float32 stays float32
    assert nc.arange(3).masked_fill(mask, 1.7).tolist() == [1, 1, 1]
    f = nc.zeros(3).masked_fill(mask, nc.tensor(2.0, dtype=nc.float64))
    assert f.dtype == numpy.float32 and f.tolist() == [2.0, 0.0, 2.0]
    with pytest.raises(RuntimeError, match="only supports boolean masks, but got mask with "
                                           "dtype int64"):
        x.masked_fill(nc.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor, but got tensor with "
                                           "1 dimension"):
        x.masked_fill(mask, nc.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="must match the size"):
        x.masked_fill(nc.tensor([True, False]), 0.0)


def test_where_method():
    x = nc.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.where(x > 0, 0.0)
    assert y.tolist() == [1.0, 0.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    assert nc.arange(4).where(nc.arange(4) > 1, 1.5).tolist() == [1.5, 1.5, 2.0, 3.0]


# ------------------------------------------------------------------ reductions
@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((5,), None), ((5,), -1),
                                       ((3, 1), 1), ((2, 3, 5), 1), ((2, 3, 5), -3)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_gradcheck_and_values(shape, dim, keepdim):
    x = _t(*shape)
    assert nc.gradcheck(lambda a: a.prod(dim, keepdim), (x,))
    y = x.prod(dim, keepdim)
    a = x.detach().numpy()
    axis = None if dim is None or not a.ndim else dim
    numpy.testing.assert_allclose(y.detach().numpy(),
                                  a.prod(axis=axis, keepdims=keepdim and dim is not None)
                                  if a.ndim else a, rtol=1e-12)


def test_prod_with_zeros_has_the_right_gradient():
    # one zero in a slice: only the zero gets a gradient (the product of the rest); two or
    # more: none at all; never NaN from 0 / 0
    x = nc.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 4.0, -2.0]], dtype=nc.float64,
                  requires_grad=True)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [-8.0, -2.0, 4.0]]
    z = nc.tensor([3.0, 0.0, 2.0], requires_grad=True)
    z.prod().backward()
    assert z.grad.tolist() == [0.0, 6.0, 0.0]
    assert nc.gradcheck(lambda a: a.prod(0), (x,))
    assert nc.gradcheck(lambda a: a.prod(), (z,))


def test_prod_dtypes_and_errors():
    assert nc.tensor([1, 2, 3], dtype=nc.int32).prod().dtype == numpy.int64
    assert nc.tensor([200, 2], dtype=nc.uint8).prod().item() == 400
    assert nc.tensor([True, False]).prod().dtype == numpy.int64
    x = _t(3, dtype=numpy.float32)
    assert x.prod().dtype == numpy.float32 and nc.prod(x, 0).dtype == numpy.float32
    assert x.prod(0, dtype=nc.float64).dtype == numpy.float64
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        x.prod(1)
    with pytest.raises(TypeError):
        x.prod((0,))


@pytest.mark.parametrize("shape,dim", [((), 0), ((1,), 0), ((5,), -1), ((3, 1), 0),
                                       ((2, 3, 5), 2), ((2, 3, 5), -2)])
def test_cumsum(shape, dim):
    x = _t(*shape)
    assert nc.gradcheck(lambda a: a.cumsum(dim), (x,))
    a = x.detach().numpy()
    ref = a.cumsum(axis=dim) if a.ndim else a
    numpy.testing.assert_allclose(x.cumsum(dim).detach().numpy(), ref, rtol=1e-12)


def test_cumsum_gradient_values_dtypes_errors():
    x = nc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert x.cumsum(0).tolist() == [1.0, 3.0, 6.0]
    (x.cumsum(0) * nc.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [111.0, 110.0, 100.0]
    assert nc.tensor([1, 2], dtype=nc.int32).cumsum(0).dtype == numpy.int64
    assert nc.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert x.cumsum(0).dtype == numpy.float32
    assert x.cumsum(0, dtype=nc.float64).dtype == numpy.float64
    with pytest.raises(IndexError, match="but got 1"):
        x.cumsum(1)
    with pytest.raises(TypeError):
        x.cumsum()


INF = float("inf")


@pytest.mark.parametrize("p", [2, "fro", 1, INF, -INF, 3, 0.5])
@pytest.mark.parametrize("shape,dim", [((), None), ((5,), None), ((5,), 0), ((3, 1), 1),
                                       ((2, 3, 5), (0, 2)), ((2, 3, 5), -1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm(p, shape, dim, keepdim):
    x = _t(*shape)
    assert nc.gradcheck(lambda a: a.norm(p, dim, keepdim), (x,))
    a = x.detach().numpy()
    q = 2 if p == "fro" else p
    axis = dim if a.ndim else None
    ab = numpy.abs(a)
    if q == INF:
        ref = ab.max(axis=axis, keepdims=keepdim)
    elif q == -INF:
        ref = ab.min(axis=axis, keepdims=keepdim)
    else:
        ref = (ab ** q).sum(axis=axis, keepdims=keepdim) ** (1 / q)
    if dim is None and keepdim:
        ref = numpy.reshape(ref, (1,) * a.ndim)
    numpy.testing.assert_allclose(x.norm(p, dim, keepdim).detach().numpy(), ref, rtol=1e-12)


def test_norm_special_gradients_dtypes_errors():
    z = nc.zeros(3, dtype=nc.float64, requires_grad=True)
    z.norm().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]           # not NaN at the origin
    x = nc.tensor([-3.0, 1.0, 3.0], requires_grad=True)
    x.norm(INF).backward()
    assert x.grad.tolist() == [-0.5, 0.0, 0.5]          # shared by the ties, with the sign
    assert nc.tensor([0.0, 2.0, -1.0]).norm(0).item() == 2.0
    x32 = _t(3, 4, dtype=numpy.float32)
    assert x32.norm().dtype == numpy.float32 and nc.norm(x32, 1, 0).dtype == numpy.float32
    assert x32.norm().item() == pytest.approx(float(numpy.linalg.norm(x32.detach().numpy())),
                                              rel=1e-6)
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as "
                                           "input. Got Long"):
        nc.tensor([1, 2]).norm()
    with pytest.raises(IndexError, match=r"\[-2, 1\], but got 2"):
        x32.norm(dim=2)
    with pytest.raises(NotImplementedError):
        x32.norm("nuc")


@pytest.mark.parametrize("shape,dim", [((1,), 0), ((7,), -1), ((3, 1), 0), ((2, 3, 5), 1),
                                       ((2, 3, 5), -1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, descending):
    x = _t(*shape)
    assert nc.gradcheck(lambda a: a.sort(dim, descending).values, (x,))
    v, i = x.sort(dim, descending)
    a = x.detach().numpy()
    order = numpy.argsort(-a if descending else a, axis=dim, kind="stable")
    numpy.testing.assert_array_equal(i.numpy(), order)
    numpy.testing.assert_array_equal(v.detach().numpy(), numpy.take_along_axis(a, order, dim))
    assert i.dtype == numpy.int64 and not i.requires_grad
    numpy.testing.assert_array_equal(x.argsort(dim, descending).numpy(), order)
    numpy.testing.assert_array_equal(nc.argsort(x, dim, descending=descending).numpy(), order)


def test_sort_ties_nan_gradient_and_0d():
    x = nc.tensor([2.0, 1.0, 2.0, float("nan"), 1.0], requires_grad=True)
    v, i = x.sort()
    assert i.tolist() == [1, 4, 0, 2, 3]                 # stable; NaN last
    r = x.sort(descending=True)
    assert type(r).__name__ == "sort" and r.indices.tolist() == [3, 0, 2, 1, 4]
    (v * nc.tensor([1.0, 2.0, 3.0, 0.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 0.0, 4.0, 2.0]  # each back to where it came from
    s = nc.tensor(3.0).sort()
    assert s.values.shape == () and s.indices.item() == 0
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        x.sort(1)


@pytest.mark.parametrize("shape,k,dim", [((1,), 1, 0), ((7,), 3, -1), ((2, 3, 5), 2, 1),
                                         ((2, 3, 5), 5, -1), ((3, 4), 0, 1)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(shape, k, dim, largest):
    x = _t(*shape)
    if k:
        assert nc.gradcheck(lambda a: a.topk(k, dim, largest).values, (x,))
    v, i = x.topk(k, dim, largest)
    a = x.detach().numpy()
    order = numpy.take(numpy.argsort(-a if largest else a, axis=dim), numpy.arange(k), dim)
    numpy.testing.assert_array_equal(i.numpy(), order)
    numpy.testing.assert_array_equal(v.detach().numpy(), numpy.take_along_axis(a, order, dim))


def test_topk_gradient_and_errors():
    x = nc.tensor([[1.0, 5.0, 3.0, 5.0]], requires_grad=True)
    r = x.topk(2)
    assert type(r).__name__ == "topk" and r.indices.tolist() == [[1, 3]]
    (r.values * nc.tensor([[10.0, 20.0]])).sum().backward()
    assert x.grad.tolist() == [[0.0, 10.0, 0.0, 20.0]]
    assert nc.topk(x, 1, largest=False).values.tolist() == [[1.0]]
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(5)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(-1)
    with pytest.raises(IndexError, match="but got 2"):
        x.topk(1, 2)


# ------------------------------------------------------------------ shapes
def test_t_and_mT():
    x = _t(2, 3)
    assert x.t().shape == (3, 2) and nc.t(x).shape == (3, 2)
    numpy.testing.assert_array_equal(x.t().detach().numpy(), x.detach().numpy().T)
    assert nc.gradcheck(lambda a: a.t(), (x,))
    assert _t(4).t().shape == (4,) and _t().t().shape == ()
    b = _t(4, 2, 3)
    assert b.mT.shape == (4, 3, 2)
    numpy.testing.assert_array_equal(b.mT.detach().numpy(), b.detach().numpy().swapaxes(1, 2))
    assert nc.gradcheck(lambda a: a.mT, (b,))
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but "
                                           "self is 3D"):
        b.t()
    with pytest.raises(RuntimeError, match="only supported on matrices or batches of matrices. "
                                           "Got 1-D tensor."):
        _t(3).mT


def test_as_and_type_as():
    x = _t(2, 6)
    assert x.view_as(_t(3, 4)).shape == (3, 4)
    assert x.reshape_as(_t(4, 3)).shape == (4, 3)
    assert _t(1, 6).expand_as(x).shape == (2, 6)
    assert nc.gradcheck(lambda a: a.expand_as(x), (_t(1, 6),))
    assert x.type_as(nc.tensor([1])).dtype == numpy.int64
    with pytest.raises(RuntimeError, match="shape '\\[5\\]' is invalid for input of size 12"):
        x.view_as(_t(5))


@pytest.mark.parametrize("size,dim,expect", [(2, 0, [2, 2, 1]), (5, 0, [5]), (6, 0, [5]),
                                             ([1, 4], 0, [1, 4]), ([0, 5, 0], -2, [0, 5, 0]),
                                             (2, 1, [2, 1])])
def test_split(size, dim, expect):
    x = _t(5, 3)
    parts = x.split(size, dim)
    assert isinstance(parts, tuple)
    assert [p.shape[dim] for p in parts] == expect
    numpy.testing.assert_array_equal(nc.cat(parts, dim).detach().numpy(), x.detach().numpy())
    assert nc.gradcheck(lambda a: nc.cat([p * (i + 1) for i, p in
                                          enumerate(a.split(size, dim))], dim), (x,))
    assert len(nc.split(x, size, dim)) == len(expect)


def test_split_errors():
    x = _t(5, 3)
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0, "
                                           "but got dimension size of 5"):
        x.split(0)
    with pytest.raises(RuntimeError, match="split_size be non-negative, but got split_size=-1"):
        x.split(-1)
    with pytest.raises(RuntimeError, match=r"to sum exactly to 5 \(input tensor's size at "
                                           r"dimension 0\), but got split_sizes=\[2, 2\]"):
        x.split([2, 2])
    with pytest.raises(RuntimeError, match="at least a 1-dimensional"):
        _t().split(1)
    with pytest.raises(IndexError, match="but got 2"):
        x.split(1, 2)
    assert [p.shape for p in nc.zeros(0, 2).split(2)] == [(0, 2)]


@pytest.mark.parametrize("n,chunks,expect", [(5, 3, [2, 2, 1]), (6, 4, [2, 2, 2]),
                                             (5, 1, [5]), (2, 5, [1, 1]), (0, 3, [0, 0, 0])])
def test_chunk(n, chunks, expect):
    x = _t(3, n)
    parts = x.chunk(chunks, -1)
    assert [p.shape[1] for p in parts] == expect
    if n:
        assert nc.gradcheck(lambda a: nc.cat([p * (i + 2) for i, p in
                                              enumerate(a.chunk(chunks, -1))], -1), (x,))
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, "
                                           "got: 0"):
        x.chunk(0)


def test_unbind():
    x = _t(2, 3, 1)
    parts = x.unbind(1)
    assert len(parts) == 3 and all(p.shape == (2, 1) for p in parts)
    numpy.testing.assert_array_equal(parts[2].detach().numpy(), x.detach().numpy()[:, 2])
    assert nc.gradcheck(lambda a: nc.stack([p * (i + 1) for i, p in
                                            enumerate(a.unbind(-2))]), (x,))
    assert len(nc.unbind(x)) == 2
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no "
                                         "dimensions"):
        _t().unbind()


@pytest.mark.parametrize("shape,sizes", [((), (2, 3)), ((1,), (4,)), ((3,), (2, 2)),
                                         ((2, 3), (1, 1)), ((2, 3), (3, 1, 2)),
                                         ((2, 1, 3), (2, 3, 1))])
def test_repeat(shape, sizes):
    x = _t(*shape)
    y = x.repeat(*sizes)
    numpy.testing.assert_array_equal(y.detach().numpy(), numpy.tile(x.detach().numpy(), sizes))
    assert nc.gradcheck(lambda a: a.repeat(sizes), (x,))


def test_repeat_gradient_and_errors():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    (x.repeat(3) * nc.arange(6).float()).sum().backward()
    assert x.grad.tolist() == [0.0 + 2 + 4, 1.0 + 3 + 5]
    assert x.repeat(2, 0).shape == (2, 0)
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be "
                                           "smaller than number of dimensions of tensor"):
        _t(2, 3).repeat(2)


# ------------------------------------------------------------------ indexing
def test_gather_values_and_duplicates():
    x = nc.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    idx = nc.tensor([[0, 0], [2, 1]])
    y = x.gather(1, idx)
    assert y.tolist() == [[1.0, 1.0], [6.0, 5.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]]     # duplicates add
    assert nc.gather(x, 0, nc.tensor([[1, 0, 1]])).tolist() == [[4.0, 2.0, 6.0]]


@pytest.mark.parametrize("shape,dim,ishape", [((5,), 0, (7,)), ((3, 4), 1, (3, 6)),
                                              ((3, 4), 0, (2, 4)), ((2, 3, 5), -1, (1, 2, 9)),
                                              ((2, 3, 5), 1, (2, 4, 5)), ((1,), 0, (1,))])
def test_gather_gradcheck(shape, dim, ishape):
    x = _t(*shape)
    idx = nc.tensor(R.integers(0, shape[dim], ishape))
    assert nc.gradcheck(lambda a: a.gather(dim, idx), (x,))
    a, i = x.detach().numpy(), idx.numpy()
    d = dim % len(shape)
    small = a[tuple(slice(None) if k == d else slice(0, n) for k, n in enumerate(ishape))]
    numpy.testing.assert_array_equal(x.gather(dim, idx).detach().numpy(),
                                     numpy.take_along_axis(small, i, d))


def test_gather_errors_and_0d():
    x = _t(2, 3)
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        x.gather(0, nc.tensor([[0]], dtype=nc.int32))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(0, nc.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"Size does not match at dimension 1 expected index "
                                           r"\[1, 4\] to be no larger than self \[2, 3\] apart "
                                           r"from dimension 0"):
        x.gather(0, nc.tensor([[0, 1, 0, 1]]))
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with "
                                           "size 2"):
        x.gather(0, nc.tensor([[0, 5]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        x.gather(0, nc.tensor([[0, -1]]))
    with pytest.raises(IndexError, match="but got 2"):
        x.gather(2, nc.tensor([[0]]))
    s = nc.tensor(3.0)
    assert s.gather(0, nc.tensor(0)).item() == 3.0


def test_index_select():
    x = _t(3, 4)
    idx = nc.tensor([3, 0, 3, 1])
    y = x.index_select(1, idx)
    numpy.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy()[:, [3, 0, 3, 1]])
    assert nc.gradcheck(lambda a: a.index_select(1, idx), (x,))
    assert nc.gradcheck(lambda a: a.index_select(-2, nc.tensor([2, 2], dtype=nc.int32)), (x,))
    b = _t(2, 3, 5)
    assert nc.gradcheck(lambda a: a.index_select(2, nc.tensor([4, 0, 4])), (b,))
    assert nc.index_select(x, 0, nc.tensor(1)).shape == (1, 4)      # 0-d index: one entry
    g = nc.tensor([1.0, 2.0], requires_grad=True)
    g.index_select(0, nc.tensor([1, 1, 0, 1])).sum().backward()
    assert g.grad.tolist() == [1.0, 3.0]
    assert nc.tensor(3.0).index_select(0, nc.tensor([0])).shape == ()


def test_index_select_errors():
    x = _t(3, 4)
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, nc.tensor([3]))
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, nc.tensor([-1]))
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        x.index_select(0, nc.tensor([[0]]))
    with pytest.raises(RuntimeError, match="Expected dtype int32 or int64 for index"):
        x.index_select(0, nc.tensor([0.0]))
    with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value, got 2"):
        nc.tensor(3.0).index_select(0, nc.tensor([0, 0]))


# ------------------------------------------------------------------ linear algebra
def test_mm_bmm_mv_dot_outer_values_and_gradcheck():
    a, b = _t(2, 3), _t(3, 5)
    numpy.testing.assert_allclose(a.mm(b).detach().numpy(),
                                  a.detach().numpy() @ b.detach().numpy(), rtol=1e-12)
    assert nc.gradcheck(nc.mm, (a, b))
    p, q = _t(4, 2, 3), _t(4, 3, 1)
    assert p.bmm(q).shape == (4, 2, 1) and nc.gradcheck(nc.bmm, (p, q))
    v = _t(3)
    numpy.testing.assert_allclose(a.mv(v).detach().numpy(),
                                  a.detach().numpy() @ v.detach().numpy(), rtol=1e-12)
    assert nc.gradcheck(nc.mv, (a, v))
    w = _t(3)
    assert a.mv(v).shape == (2,) and v.dot(w).shape == ()
    assert v.dot(w).item() == pytest.approx(float(v.detach().numpy() @ w.detach().numpy()))
    assert nc.gradcheck(nc.dot, (v, w))
    u = _t(1)
    numpy.testing.assert_array_equal(v.outer(u).detach().numpy(),
                                     numpy.outer(v.detach().numpy(), u.detach().numpy()))
    assert nc.gradcheck(nc.outer, (v, u))
    f = _t(3, dtype=numpy.float32)
    assert f.dot(f).dtype == numpy.float32 and f.outer(f).dtype == numpy.float32
    assert nc.tensor([1, 2]).outer(nc.tensor([1.5])).dtype == numpy.float32


def test_linalg_errors():
    a = _t(2, 3)
    for fn, args, msg in [
            ("mm", (_t(4, 5),), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
            ("mm", (_t(3),), "mat2 must be a matrix"),
            ("mm", (a.float().t(),), "expected m1 and m2 to have the same dtype"),
            ("bmm", (a,), "batch1 must be a 3D tensor"),
            ("mv", (_t(4),), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
            ("mv", (a,), "vector \\+ matrix @ vector expected, got 1, 2, 2"),
            ("dot", (_t(3),), "1D tensors expected, but got 2D and 1D tensors"),
            ("outer", (_t(3),), "outer: Expected 1-D argument self, but got 2-D")]:
        with pytest.raises(RuntimeError, match=msg):
            getattr(a, fn)(*args)
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        _t(3).mm(a)
    with pytest.raises(RuntimeError, match="batch2 must be a 3D tensor"):
        _t(2, 3, 4).bmm(a)
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 "
                                           r"tensor to be: \[2, 4\] but got: \[3, 4\]\."):
        _t(2, 3, 4).bmm(_t(3, 4, 6))
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[3\] "
                                           r"and src \[4\]"):
        _t(3).dot(_t(4))
    with pytest.raises(RuntimeError, match="same dtype, but found Double and Float"):
        _t(3).dot(_t(3).float())
    with pytest.raises(RuntimeError, match="Expected 1-D argument vec2, but got 2-D"):
        _t(3).outer(a)


# ------------------------------------------------------------------ creation and comparison
def test_new_factories():
    x = nc.tensor([1, 2])
    z = x.new_zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == numpy.int64 and z.tolist() == [[0] * 3] * 2
    o = _t(2, dtype=numpy.float32).new_ones((2,))
    assert o.dtype == numpy.float32 and o.tolist() == [1.0, 1.0]
    f = x.new_full((2,), 1.7)
    assert f.dtype == numpy.int64 and f.tolist() == [1, 1]
    assert x.new_full((1,), 2.5, dtype=nc.float64).dtype == numpy.float64
    e = x.new_empty(3, dtype=nc.float32, requires_grad=True)
    assert e.shape == (3,) and e.dtype == numpy.float32 and e.requires_grad and e.is_leaf
    t = x.new_tensor([1.5, 2.5])
    assert t.dtype == numpy.int64 and t.tolist() == [1, 2]     # this tensor's dtype, as PyTorch
    d = _t(2).new_tensor([1, 2])
    assert d.dtype == numpy.float64


def test_allclose_and_equal():
    x = nc.tensor([1.0, 2.0, float("nan")])
    assert x.allclose(x + 1e-9, equal_nan=True)
    assert not x.allclose(x)                       # NaN only with equal_nan
    assert nc.allclose(nc.tensor([1.0, 2.0]), nc.tensor([1.0, 2.1]), atol=0.2)
    assert not nc.allclose(nc.tensor([1.0, 2.0]), nc.tensor([1.0, 2.1]))
    assert nc.tensor([[1.0, 1.0]]).allclose(nc.tensor([1.0]))       # broadcasts
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        nc.tensor([1.0]).allclose(nc.tensor([1.0], dtype=nc.float64))
    with pytest.raises(RuntimeError, match="must match the size"):
        nc.tensor([1.0, 2.0]).allclose(nc.tensor([1.0, 2.0, 3.0]))
    a = nc.tensor([1.0, 2.0])
    assert a.equal(nc.tensor([1.0, 2.0])) is True
    assert nc.equal(a, nc.tensor([1.0, 2.5])) is False
    assert a.equal(nc.tensor([[1.0, 2.0]])) is False               # another shape
    # values compare across dtypes, as PyTorch 2's equal
    assert nc.arange(3).equal(nc.arange(3).float()) is True
    assert nc.tensor([1]).equal(nc.tensor([1.5])) is False
    assert not x.equal(x)


# ------------------------------------------------------------------ devices
@on_devices
def test_new_ops_on_device(device):
    a = R.standard_normal((3, 4)).astype(numpy.float32)
    x = nc.tensor(a, device=device, requires_grad=True)
    idx = nc.tensor([[0, 2, 2, 1]] * 3, device=device)
    outs = [x.sin(), x.cos(), (x.abs() + 0.5).log1p(), x.expm1(), x.round(),
            (x.abs() + 0.5).rsqrt(), (x.abs() + 0.5).reciprocal(), x.nan_to_num(),
            x.masked_fill(x > 0, 0.0), x.prod(1), x.cumsum(0), x.norm(), x.norm(INF, 0),
            x.sort(1, True).values, x.topk(2).values, x.repeat(2, 1), x.gather(1, idx),
            x.index_select(1, nc.tensor([3, 3], device=device)), x.mm(x.t()),
            x.split(3, 1)[0]]
    total = sum(o.sum() for o in outs)
    total.backward()
    assert_on(x.grad, device)
    assert x.grad.dtype == numpy.float32
    for o in outs:
        assert_on(o, device)
        assert o.dtype == numpy.float32
    assert_on(x.isnan(), device)
    assert_on(x.sort().indices, device)
    assert_on(x.new_zeros(2), device)
    # the same on the CPU
    c = nc.tensor(a, requires_grad=True)
    ci = nc.tensor([[0, 2, 2, 1]] * 3)
    couts = [c.sin(), c.cos(), (c.abs() + 0.5).log1p(), c.expm1(), c.round(),
             (c.abs() + 0.5).rsqrt(), (c.abs() + 0.5).reciprocal(), c.nan_to_num(),
             c.masked_fill(c > 0, 0.0),
             c.prod(1), c.cumsum(0), c.norm(), c.norm(INF, 0), c.sort(1, True).values,
             c.topk(2).values, c.repeat(2, 1), c.gather(1, ci),
             c.index_select(1, nc.tensor([3, 3])), c.mm(c.t()), c.split(3, 1)[0]]
    sum(o.sum() for o in couts).backward()
    for o, co in zip(outs, couts):
        numpy.testing.assert_allclose(to_host(o), co.detach().numpy(), rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(to_host(x.grad), c.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert x.allclose(nc.tensor(a, device=device)) and x.equal(nc.tensor(a, device=device))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(1, nc.tensor([[4]] * 3, device=device))
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, nc.tensor([3], device=device))


@pytest.mark.parametrize("p", [1.5, 0.5, -1.0, 3.0])
@pytest.mark.parametrize("values", [[0.0, 1.0, -2.0], [0.0, 0.0, 0.0]])
def test_norm_gradient_at_zero_entries_is_zero_not_nan(p, values):
    # PyTorch's norm_backward: |x|^(p-1) sign(x) is 0 where x == 0 (not 0 * inf = NaN for
    # p < 2), and the whole gradient is 0 at the origin; the forward does not warn either
    import warnings
    x = nc.tensor(values, dtype=nc.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.norm(p).backward()
    g = x.grad.numpy()
    assert g[0] == 0.0 and numpy.isfinite(g).all()
    a = numpy.array(values)
    if a.any():
        with numpy.errstate(divide="ignore"):
            y = (numpy.abs(a) ** p).sum() ** (1 / p)        # p < 0: 0 (a zero entry)
        ref = numpy.sign(a[1:]) * numpy.abs(a[1:]) ** (p - 1) * y ** (1 - p)
        numpy.testing.assert_allclose(g[1:], ref, rtol=1e-12)


def test_norm_inf_backward_stays_float32():
    # the tie count must not promote the float32 gradient to float64 inside backward
    from npconv.ops.reduction import Norm
    x = numpy.array([[-3.0, 1.0, 3.0]], dtype=numpy.float32)
    ctx = type("Ctx", (), {})()
    ctx.save_for_backward = lambda *a: setattr(ctx, "saved_tensors", a)
    y = Norm.forward(ctx, x, float("inf"), (1,), False)
    g = Norm.backward(ctx, numpy.ones_like(y))
    assert g.dtype == numpy.float32
    assert g.tolist() == [[-0.5, 0.0, 0.5]]


@pytest.mark.parametrize("device", [d for d in __import__("devices").DEVICES if d != "cpu"])
def test_gather_index_select_take_a_list_index_on_a_device(device):
    # the index given as a list (or a NumPy array) is made where the tensor is, not on the
    # host, where it would fail the same-device check the caller never asked for
    x = nc.arange(12.0).reshape(3, 4).to(device)
    assert to_host(x.index_select(0, [2, 0])).tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    assert to_host(x.index_select(1, numpy.array([3]))).tolist() == [[3], [7], [11]]
    assert to_host(x.gather(1, [[1], [0], [3]])).tolist() == [[1], [4], [11]]
    # a Tensor index on another device is still refused, as PyTorch
    with pytest.raises(RuntimeError, match="same device"):
        x.gather(1, nc.tensor([[1], [0], [3]]))
