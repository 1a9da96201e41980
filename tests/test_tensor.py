"""The Tensor API: construction and dtypes, float32 preservation, properties, repr,
factories, manual_seed, in-place helpers."""
import numpy as np
import pytest

import npconv as nc
from devices import assert_on, on_devices, reset_current_device  # noqa: F401


# ------------------------------------------------------------------ construction and dtype
def test_python_floats_and_lists_become_float32_ints_int64():
    assert nc.tensor(1.5).dtype == np.float32
    assert nc.tensor([1.0, 2.0]).dtype == np.float32
    assert nc.tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert nc.tensor([True, False]).dtype == np.bool_
    assert nc.tensor([1, 2], dtype=nc.float64).dtype == np.float64
    assert nc.Tensor([1.0, 2.0]).dtype == np.float32


def test_numpy_arrays_keep_their_dtype_and_tensor_copies():
    a = np.array([1.0, 2.0])                       # float64
    t = nc.tensor(a)
    assert t.dtype == np.float64
    a[0] = 5.0
    assert t.tolist() == [1.0, 2.0]                # a copy
    f = nc.from_numpy(a)
    a[1] = 7.0
    assert f.tolist() == [5.0, 7.0]                # shares memory
    assert nc.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32


def test_float32_preserved_through_a_chain_with_python_and_numpy_scalars():
    x = nc.randn(4, 5, requires_grad=True)
    w = nc.randn(5, 3, requires_grad=True)
    y = x @ w
    y = y * 2.5 + 1 - np.float64(0.5)              # NumPy float64 scalar: must not upcast
    y = y / np.sqrt(2.0) * np.float32(3.0)         # np.sqrt(2.0) is a np.float64
    y = np.float64(2.0) * y + np.float64(1.0)      # reflected ops with NumPy scalars
    y = (y ** 2).sqrt().exp().log().abs().tanh().sigmoid().relu()
    y = y.clamp(np.float64(0.1), 0.9).maximum(np.float64(0.2)).softmax(-1).log_softmax(0)
    y = nc.where(y > -1.0, y, np.float64(0.0))
    loss = (y.mean(0).sum() + y.var() + y.max() + 1.0) / 3
    assert loss.dtype == np.float32, loss.dtype
    loss.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    assert np.isfinite(x.grad.numpy()).all()


def test_numpy_array_on_the_left_defers_to_tensor():
    t = nc.tensor([1.0, 2.0], requires_grad=True)
    out = np.array([2.0, 3.0], dtype=np.float32) * t
    assert isinstance(out, nc.Tensor) and out.requires_grad
    assert out.tolist() == [2.0, 6.0]
    out2 = np.float64(2.0) * t
    assert isinstance(out2, nc.Tensor) and out2.dtype == np.float32


def test_properties():
    t = nc.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dim() == 3
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and len(t) == 2
    assert t.dtype == np.float32 and t.is_leaf and t.grad is None and not t.requires_grad
    assert str(t.device) == "cpu"
    assert nc.tensor(2.5).item() == 2.5 and isinstance(nc.tensor(3).item(), int)
    assert nc.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="cannot be converted to Scalar"):
        nc.ones(2).item()
    assert float(nc.tensor(1.5)) == 1.5 and int(nc.tensor(7)) == 7
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().shape == (2, 3, 4)


def test_numpy_on_requires_grad_raises_like_pytorch():
    t = nc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0, 1.0]


def test_bool_of_multi_element_tensor_raises():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(nc.ones(2))
    assert bool(nc.tensor([1.0]))


# ------------------------------------------------------------------ repr
def test_repr_like_pytorch():
    assert repr(nc.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(nc.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(nc.tensor([-1.5, 2.25])) == "tensor([-1.5000,  2.2500])"
    assert repr(nc.tensor(3.0)) == "tensor(3.)"
    assert repr(nc.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"
    assert repr(nc.tensor([1.0, 2.0], requires_grad=True)) == \
        "tensor([1., 2.], requires_grad=True)"
    x = nc.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(nc.tensor([1.0], dtype=nc.float64)) == "tensor([1.], dtype=npconv.float64)"
    assert repr(nc.tensor([True, False])) == "tensor([ True, False])"
    assert repr(nc.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"
    assert "..." in repr(nc.zeros(2000))


@pytest.mark.parametrize("value, text", [
    (float("nan"), "tensor(nan)"), (float("inf"), "tensor(inf)"),
    ([1.0, float("nan")], "tensor([1., nan])"), ([1.5, float("nan")], "tensor([1.5000,    nan])"),
    ([float("nan"), -float("inf")], "tensor([nan, -inf])"),
    ([-1.5, float("inf"), 2.25], "tensor([-1.5000,     inf,  2.2500])"),
    ([1e10, float("nan")], "tensor([1.0000e+10,        nan])"),
    ([[1.0, 2.0], [float("nan"), 4.0]], "tensor([[1., 2.],\n        [nan, 4.]])")])
def test_repr_of_nan_and_inf_like_pytorch(value, text):
    # PyTorch pads nan/inf to the column width of the finite values only when they are not
    # all whole numbers (a NaN loss prints as tensor(nan), not tensor(   nan))
    assert repr(nc.tensor(value)) == text


# ------------------------------------------------------------------ factories
@pytest.mark.parametrize("fn", [nc.zeros, nc.ones, nc.randn, nc.rand, nc.empty])
def test_factories_default_float32_and_shape_forms(fn):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = fn(*args)
        assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
    t = fn(4, dtype=nc.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf


@pytest.mark.parametrize("name", ["empty_like", "zeros_like", "ones_like", "full_like",
                                  "rand_like", "randn_like"])
def test_like_factories_as_pytorch(name):
    # PyTorch: shape and dtype of the input, options keyword-only (dtype, requires_grad,
    # device), integer tensors cannot require grad, no integer rand/randn
    fn = getattr(nc, name)
    extra = (2.5,) if name == "full_like" else ()
    base = nc.ones(2, 3)
    t = fn(base, *extra)
    assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
    t = fn(base, *extra, dtype=nc.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf and t.grad_fn is None
    assert fn(nc.tensor(1.0), *extra).shape == ()
    with pytest.raises(TypeError, match="positional argument"):
        fn(base, *extra, nc.float64)
    ints = nc.ones(2, dtype=nc.int64)
    if "rand" in name:
        for call in (lambda: fn(ints), lambda: fn(base, dtype=nc.int64, requires_grad=True)):
            with pytest.raises(NotImplementedError, match=r"%s\(\): expected a floating-point "
                                                          r"dtype, but got int64" % name):
                call()
        assert fn(ints, dtype=nc.float32).dtype == np.float32
    else:
        assert fn(ints, *extra).dtype == np.int64
        with pytest.raises(RuntimeError, match="floating point dtype can require gradients"):
            fn(base, *extra, dtype=nc.int64, requires_grad=True)
    if name == "full_like":
        assert fn(ints, 2.5).tolist() == [2, 2]        # the input's dtype, as PyTorch


@on_devices
def test_like_factories_on_devices(device):
    t = nc.ones(2, 3, device=device)
    for fn in (nc.empty_like, nc.zeros_like, nc.ones_like, nc.rand_like, nc.randn_like):
        e = fn(t, dtype=nc.float64)
        assert_on(e, device)
        assert e.shape == (2, 3) and e.dtype == np.float64
    assert_on(nc.empty_like(nc.ones(2), device=device), device)


def test_rand_and_randn_of_an_integer_dtype_raise_as_pytorch():
    # PyTorch: NotImplementedError ("check_uniform_bounds" / "normal_kernel_cpu" not
    # implemented for 'Long'); NumPy's would be a TypeError
    for fn in (nc.rand, nc.randn):
        with pytest.raises(NotImplementedError, match=r"%s\(\): expected a floating-point "
                                                      r"dtype, but got int64" % fn.__name__):
            fn(2, dtype=nc.int64)


def test_factory_values():
    assert nc.zeros(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert nc.ones(3).tolist() == [1.0, 1.0, 1.0]
    f = nc.full((2, 2), 7.5)
    assert f.tolist() == [[7.5, 7.5], [7.5, 7.5]] and f.dtype == np.float32
    assert nc.full((2,), 3).dtype == np.int64
    assert nc.arange(5).tolist() == [0, 1, 2, 3, 4] and nc.arange(5).dtype == np.int64
    assert nc.arange(1, 7, 2).tolist() == [1, 3, 5]
    a = nc.arange(0.0, 1.0, 0.25)
    assert a.dtype == np.float32 and a.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert nc.arange(3, dtype=nc.float32).dtype == np.float32
    base = nc.tensor([[1, 2, 3]], dtype=nc.float64)
    z, o = nc.zeros_like(base), nc.ones_like(base)
    assert z.shape == (1, 3) and z.dtype == np.float64 and z.tolist() == [[0, 0, 0]]
    assert o.dtype == np.float64 and o.tolist() == [[1, 1, 1]]
    assert nc.ones_like(base, dtype=nc.float32).dtype == np.float32
    assert nc.eye(2).tolist() == [[1, 0], [0, 1]]
    assert nc.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    r = nc.rand(1000).numpy()
    assert 0 <= r.min() and r.max() < 1 and 0.4 < r.mean() < 0.6
    n = nc.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and 0.95 < n.std() < 1.05
    ri = nc.randint(0, 5, (100,))
    assert ri.dtype == np.int64 and ri.shape == (100,) and set(ri.tolist()) <= set(range(5))
    assert nc.randint(3, (4,)).shape == (4,)


def test_manual_seed_reproducibility():
    nc.manual_seed(123)
    a = nc.randn(3, 4).numpy().copy()
    b = nc.rand(5).numpy().copy()
    c = nc.randint(0, 100, (6,)).numpy().copy()
    nc.manual_seed(123)
    np.testing.assert_array_equal(nc.randn(3, 4).numpy(), a)
    np.testing.assert_array_equal(nc.rand(5).numpy(), b)
    np.testing.assert_array_equal(nc.randint(0, 100, (6,)).numpy(), c)
    nc.manual_seed(124)
    assert not np.array_equal(nc.randn(3, 4).numpy(), a)
    assert nc.initial_seed() == 124


# ------------------------------------------------------------------ in place and misc
def test_setitem_and_fill_helpers():
    t = nc.zeros(2, 3)
    t[0, 1] = 5.0
    t[1] = nc.tensor([1.0, 2.0, 3.0])
    assert t.tolist() == [[0, 5, 0], [1, 2, 3]]
    t.fill_(2.0)
    assert t.tolist() == [[2, 2, 2], [2, 2, 2]]
    t.zero_()
    assert t.sum().item() == 0
    t.copy_(nc.ones(2, 3))
    assert t.sum().item() == 6
    t.clamp_(max=0.5)
    assert t.max().item() == 0.5
    p = nc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        p[0] = 3.0
    with nc.no_grad():
        p[0] = 3.0
    assert p.tolist() == [3.0, 1.0]


def test_module_level_functions_match_methods():
    x = nc.tensor([[1.0, -2.0], [3.0, 0.5]])
    for name in ["exp", "sigmoid", "tanh", "relu", "abs", "flatten"]:
        np.testing.assert_array_equal(getattr(nc, name)(x).numpy(), getattr(x, name)().numpy())
    assert nc.sum(x).item() == 2.5 and nc.mean(x, 0).tolist() == [2.0, -0.75]
    assert nc.argmax(x).item() == 2 and nc.argmax(x, dim=1).tolist() == [0, 0]
    assert nc.transpose(x, 0, 1).tolist() == [[1.0, 3.0], [-2.0, 0.5]]
    assert nc.unsqueeze(x, 0).shape == (1, 2, 2) and nc.permute(x, 1, 0).shape == (2, 2)
    assert nc.matmul(x, x).tolist() == (x.numpy() @ x.numpy()).tolist()
    assert nc.minimum(x, 0.0).tolist() == [[0.0, -2.0], [0.0, 0.0]]
    assert nc.is_tensor(x) and not nc.is_tensor(x.numpy())


def test_format_contiguous_square_sign():
    t = nc.tensor(2.0 / 3.0)
    assert f"{t:.3f}" == "0.667" and f"{nc.tensor([1.0])}" == "tensor([1.])"
    x = nc.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    c = x.T.contiguous()
    assert c.is_contiguous() and not x.T.is_contiguous() and x.contiguous() is x
    (c * nc.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    assert x.detach().square().tolist() == [[0, 1, 4], [9, 16, 25]]
    assert nc.tensor([-2.0, 0.0, 3.0]).sign().tolist() == [-1.0, 0.0, 1.0]


def test_integer_tensors_promote_like_pytorch_never_to_float64():
    i = nc.arange(4)
    f = nc.ones(4)
    assert (i + 1).dtype == np.int64 and (i * 2).tolist() == [0, 2, 4, 6]
    for r in [i * 0.5, i / 2, 2 / i[1:], i * f, f * i, i - f, i / (i + 1), (i > 1) * 1.5,
              i ** 0.5, 2.0 ** i]:
        assert r.dtype == np.float32, r.dtype
    assert (i / 2).tolist() == [0.0, 0.5, 1.0, 1.5]
    assert (f.double() * i).dtype == np.float64
    # a 0-d float64 tensor (or 0-d array) does not promote a float32 tensor, as PyTorch
    s64 = nc.tensor(np.array(0.5))
    assert (f * s64).dtype == np.float32 and (s64 * f).dtype == np.float32
    assert (f * np.array(0.5)).dtype == np.float32 and (f / np.array(2.0)).tolist() == [0.5] * 4
    assert (f.double() * nc.tensor(0.5)).dtype == np.float64
    assert (f * nc.ones(4, dtype=nc.float64)).dtype == np.float64   # both dimensioned
    loss = nc.tensor([1.0, 2.0], requires_grad=True)
    total = (loss * nc.tensor([3, 4])).sum() / 2      # int weights: grads stay float32
    total.backward()
    assert total.dtype == np.float32 and loss.grad.tolist() == [1.5, 2.0]


def test_integer_and_logical_ops_without_grad():
    i = nc.tensor([7, -3, 4])
    assert (i // 2).tolist() == [3, -2, 2] and (i % 3).tolist() == [1, 0, 1]
    assert (10 // nc.tensor([3, 4])).tolist() == [3, 2]
    m1, m2 = nc.tensor([True, False, True]), nc.tensor([True, True, False])
    assert (m1 & m2).tolist() == [True, False, False]
    assert (m1 | m2).tolist() == [True, True, True]
    assert (m1 ^ m2).tolist() == [False, True, True]
    assert (~m1).tolist() == [False, True, False]
    assert m1.any().item() is True and m1.all().item() is False
    assert m1.any().shape == () and isinstance(m1.all().data, np.ndarray)
    x = nc.tensor([1.5, -2.5], requires_grad=True)
    assert not (x // 1).requires_grad and (x // 1).tolist() == [1.0, -3.0]


def test_flatten_checks_dims_like_pytorch():
    x = nc.ones(2, 3, 4, 5)
    assert x.flatten().shape == (120,) and x.flatten(1, -2).shape == (2, 12, 5)
    assert x.flatten(-1).shape == (2, 3, 4, 5)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-4, 3\], but got 5"):
        x.flatten(0, 5)
    with pytest.raises(IndexError, match="but got -5"):
        x.flatten(-5)
    for s, e in ((2, 1), (-1, 0), (3, -2)):
        with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
            x.flatten(s, e)
    # a 0-d tensor counts as 1-d: it flattens to (1,), dims 0 and -1 only
    assert nc.tensor(3.0).flatten().shape == (1,)
    assert nc.tensor(3.0).flatten(-1, 0).shape == (1,)
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        nc.tensor(3.0).flatten(1)
    # a 0-size dim next to the merged ones
    assert nc.zeros(0, 3, 4).flatten(1).shape == (0, 12)


@pytest.mark.parametrize("shape, dim", [((0, 3), None), ((3, 0), 1), ((3, 0), (0, 1)),
                                        ((0, 3), 0)])
def test_mean_over_no_elements_is_nan_with_an_empty_gradient(shape, dim):
    # as PyTorch: NaN forward, and backward gives the (empty) input's shape, no error
    x = nc.zeros(*shape, dtype=np.float64, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = x.mean() if dim is None else x.mean(dim)
    assert np.all(np.isnan(y.detach().numpy()))
    y.sum().backward()
    assert x.grad.shape == shape and x.grad.dtype == np.float64


# ------------------------------------------------------------------ where's condition
def test_where_saves_its_condition_like_an_input():
    # the condition goes into the op as a (non-differentiable) Tensor input: an in-place
    # change before backward is caught by its version counter, as in PyTorch, instead of
    # silently changing the gradient
    x = nc.tensor([1.0, -1.0], requires_grad=True)
    c = x > 0
    y = nc.where(c, x, nc.tensor(0.0))
    c[0] = False
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # conditions that are no Tensor, or uint8, still work, and get no gradient
    x.grad = None
    nc.where([True, False], x, 0.0).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]
    u = nc.tensor(np.array([0, 1], np.uint8))
    assert nc.where(u, x, 5.0).tolist() == [5.0, -1.0]
    assert nc.where(np.array([True, False]), 1.0, 0.0).tolist() == [1.0, 0.0]


@on_devices
def test_shape_errors_come_from_the_failure_path_only(device):
    # broadcasting that works is untouched; a failure names the shapes as PyTorch does,
    # whichever backend refused (NumPy's or the device's ValueError)
    a = nc.ones(2, 3, device=device)
    assert (a + nc.ones(3, device=device)).shape == (2, 3)
    assert (a < nc.ones(2, 1, device=device)).shape == (2, 3)
    for other in (nc.ones(2, 4, device=device), nc.ones(4, device=device)):
        with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the "
                                               r"size of tensor b \(4\) at non-singleton "
                                               r"dimension 1$"):
            a - other
        with pytest.raises(RuntimeError, match=r"tensor a \(3\) .* tensor b \(4\)"):
            a.sub_(other)
    assert a.tolist() == [[1.0] * 3] * 2 and a._version[0] == 0


def test_an_op_failing_for_another_reason_keeps_the_backends_error():
    # the failure path turns only shape mismatches (and 0-d CPU operands) into PyTorch's
    # handling; anything else is re-raised as the backend raised it
    with pytest.raises(TypeError, match="boolean subtract"):
        nc.tensor([True]) - nc.tensor([False])
    with pytest.raises(TypeError, match="boolean subtract"):
        nc.tensor([True]).sub_(nc.tensor([False]))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        nc.tensor([True, False]) - nc.tensor([False, True, False])
