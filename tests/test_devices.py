"""The same code on every device: ops, kernels, modules, optimizers, training, checkpoints,
data and random numbers, parametrised over ``cpu``, the stand-in GPU and (when present) CUDA.

Each device result is compared with the CPU result of the same computation. On the stand-in,
any hard-coded ``numpy.`` call on device data, implicit conversion to a host array, mixing
with a host array, or an ``xp`` name CuPy lacks makes the test fail.
"""
import copy

import numpy
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F
from npconv import backend as B
from npconv import _standin
from npconv import random as nrandom
from devices import (DEVICES, GPU_LIKE, STANDIN, array_type, assert_close, assert_on,
                     on_devices, on_gpu_like, reset_current_device, to_host,  # noqa: F401
                     xp_for)

R = numpy.random.default_rng(1234)


def _data(*shape, positive=False):
    a = R.standard_normal(shape).astype(numpy.float32)
    return numpy.abs(a) + 0.5 if positive else a


def _need(module, name, issue):
    """``module.name``; a missing name fails the test, naming the issue that provides it."""
    assert hasattr(module, name), "%s: %s.%s is missing" % (issue, module.__name__, name)
    return getattr(module, name)


# ------------------------------------------------------------------------------ creation
@on_devices
def test_tensor_and_factories_on_device(device):
    t = nc.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert_on(t, device)
    assert t.device == nc.device(device) and t.dtype == numpy.float32
    assert to_host(t).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    made = [nc.zeros(2, 3, device=device), nc.ones(2, device=device),
            nc.full((2,), 7.0, device=device), nc.empty(3, device=device),
            nc.arange(5, device=device), nc.linspace(0, 1, 5, device=device),
            nc.eye(3, device=device), nc.randn(2, 2, device=device),
            nc.rand(2, device=device), nc.randint(0, 5, (4,), device=device),
            nc.zeros_like(t), nc.ones_like(t), nc.full_like(t, 2.0), nc.randn_like(t),
            nc.rand_like(t)]
    for m in made:
        assert_on(m, device)
    assert nc.arange(5, device=device).dtype == numpy.int64
    r = nc.randn(2, 3, requires_grad=True, device=device)
    assert r.requires_grad and r.is_leaf and r.device == nc.device(device)


@on_devices
def test_to_cpu_cuda_and_back(device):
    a = _data(3, 4)
    t = nc.tensor(a)
    d = t.to(device)
    assert_on(d, device)
    assert d.to(device) is d                       # already there: the same tensor
    c = d.cpu()
    assert_on(c, "cpu") and numpy.array_equal(c.numpy(), a)
    assert numpy.array_equal(d.numpy(), a)         # .numpy() is an explicit way out
    assert d.tolist() == a.tolist()
    assert d.sum().item() == pytest.approx(float(a.sum()), rel=1e-5)
    assert d.to(device, numpy.float64).dtype == numpy.float64
    assert_on(d.to(device, numpy.float64), device)
    assert_on(d.double(), device)
    if device == "cuda":
        assert_on(t.cuda(), "cuda")


@on_gpu_like
def test_device_tensor_refuses_implicit_numpy(device):
    d = nc.tensor([1.0, 2.0], device=device)
    with pytest.raises(TypeError):
        numpy.asarray(d)
    assert "device=" in repr(d)


@on_gpu_like
def test_move_is_differentiable(device):
    x = nc.tensor(_data(3, 4), requires_grad=True)
    y = x.to(device)
    assert y.grad_fn is not None
    (y * y).sum().backward()
    assert_on(x.grad, "cpu")
    assert_close(x.grad, 2 * x.detach().numpy())
    # and back: a device leaf whose graph goes through the host
    z = nc.tensor(_data(2), requires_grad=True, device=device)
    (z.cpu() * 3).sum().backward()
    assert_on(z.grad, device)
    assert_close(z.grad, numpy.full(2, 3.0, numpy.float32))


@on_gpu_like
def test_op_on_two_devices_names_both(device):
    a = nc.ones(2, device=device)
    b = nc.ones(2)
    for f in (lambda: a + b, lambda: b * a, lambda: nc.cat([a, b]), lambda: a @ b,
              lambda: nc.where(a > 0, a, b), lambda: nc.maximum(a, b)):
        with pytest.raises(RuntimeError, match=r"(?s)%s.*cpu|cpu.*%s" % (device, device)):
            f()
    if device == STANDIN:
        c = nc.ones(2, device="standin:1")
        with pytest.raises(RuntimeError, match="standin:0 and standin:1"):
            a + c


# A 0-d CPU tensor in an op on another device is taken as a scalar, as in PyTorch (checked
# against its rules: 0-d only, any dtype, with or without requires_grad; the gradient comes
# back to the CPU tensor; cat, matmul and a 0-d CPU in-place target still refuse).
_SCALAR_OPS = {
    "add": lambda d, s: d + s, "radd": lambda d, s: s + d, "sub": lambda d, s: d - s,
    "rsub": lambda d, s: s - d, "mul": lambda d, s: d * s, "rmul": lambda d, s: s * d,
    "div": lambda d, s: d / s, "rdiv": lambda d, s: s / d, "pow": lambda d, s: d.abs() ** s,
    "rpow": lambda d, s: s ** d, "mod": lambda d, s: d % s, "floordiv": lambda d, s: d // s,
    "maximum": lambda d, s: nc.maximum(d, s), "minimum": lambda d, s: nc.minimum(s, d),
    "t.maximum": lambda d, s: d.maximum(s), "max(t)": lambda d, s: d.max(s),
    "clamp": lambda d, s: d.clamp(min=s), "clamp2": lambda d, s: d.clamp(-s, s),
    "where_b": lambda d, s: nc.where(d > 0, d, s), "where_a": lambda d, s: nc.where(d > 0, s, d),
    "eq": lambda d, s: d == s, "lt": lambda d, s: d < s, "ge": lambda d, s: s >= d,
    "ne": lambda d, s: s != d,
}


@on_gpu_like
@pytest.mark.parametrize("name", sorted(_SCALAR_OPS))
def test_a_0d_cpu_tensor_is_a_scalar_in_a_device_op(name, device):
    fn = _SCALAR_OPS[name]
    a = _data(2, 3)
    cpu = fn(nc.tensor(a), nc.tensor(0.5))
    out = fn(nc.tensor(a, device=device), nc.tensor(0.5))
    assert_on(out, device)
    assert out.dtype == cpu.dtype and out.shape == cpu.shape
    assert_close(out, cpu)


@on_gpu_like
@pytest.mark.parametrize("name", sorted(n for n in _SCALAR_OPS
                                        if n not in ("eq", "lt", "ge", "ne", "floordiv")))
def test_the_gradient_of_a_0d_cpu_operand_comes_back_to_the_cpu(name, device):
    fn = _SCALAR_OPS[name]
    a = _data(2, 3)
    ref_d, ref_s = nc.tensor(a, requires_grad=True), nc.tensor(0.5, requires_grad=True)
    fn(ref_d, ref_s).sum().backward()
    d = nc.tensor(a, device=device, requires_grad=True)
    s = nc.tensor(0.5, requires_grad=True)
    y = fn(d, s)
    assert_on(y, device)
    y.sum().backward()
    assert_on(s.grad, "cpu")
    assert s.grad.shape == () and s.grad.dtype == numpy.float32
    assert_close(s.grad, ref_s.grad, rtol=1e-5, atol=1e-5)
    assert_on(d.grad, device)
    assert_close(d.grad, ref_d.grad, rtol=1e-5, atol=1e-5)


@on_gpu_like
def test_0d_cpu_operands_of_other_dtypes_and_places(device):
    d = nc.tensor([1.0, 2.0, 3.0], device=device)
    # a 0-d tensor does not widen a dimensioned one (float64 and int64 scalars: float32)
    for s in (nc.tensor(2.0, dtype=nc.float64), nc.tensor(2), nc.tensor(True)):
        y = d * s
        assert_on(y, device)
        assert y.dtype == numpy.float32
    i = nc.tensor([1, 2, 3], device=device)
    assert_on(i + nc.tensor(1), device) and (i + nc.tensor(1)).dtype == numpy.int64
    assert to_host(i & nc.tensor(1)).tolist() == [1, 0, 1]
    assert to_host((i > 1) | nc.tensor(True)).tolist() == [True] * 3
    # a 0-d device tensor with a 0-d CPU one: the device wins
    y = nc.tensor(2.0, device=device) * nc.tensor(3.0)
    assert_on(y, device) and to_host(y).tolist() == 6.0
    # where: the condition and both values may be 0-d CPU tensors, numbers become them
    assert_on(nc.where(d > 1.5, 1.0, 0.0), device)
    assert to_host(nc.where(nc.tensor(True), d, nc.tensor(0.0))).tolist() == [1.0, 2.0, 3.0]
    assert to_host(nc.where(d > 1.5, nc.tensor(1.0), nc.tensor(0.0))).tolist() == [0.0, 1.0, 1.0]
    # in place into the device tensor
    t = nc.ones(3, device=device)
    t.add_(nc.tensor(1.0)).mul_(nc.tensor(3.0)).sub_(nc.tensor(1.0), alpha=2).div_(nc.tensor(2.0))
    assert_on(t, device) and to_host(t).tolist() == [2.0] * 3
    t += nc.tensor(1.0)
    t.fill_(nc.tensor(4.0))
    t[0] = nc.tensor(5.0)
    assert_on(t, device) and to_host(t).tolist() == [5.0, 4.0, 4.0]


@on_gpu_like
def test_dimensioned_cpu_tensors_still_refuse_device_ones(device):
    d = nc.ones(3, device=device)
    clash = r"Expected all tensors to be on the same device, but found at least two devices"
    for other in (nc.ones(3), nc.ones(1)):          # even one element: not 0-d
        for f in (lambda: d + other, lambda: other * d, lambda: d == other,
                  lambda: nc.where(d > 0, d, other), lambda: nc.maximum(d, other),
                  lambda: d.clamp(min=other), lambda: d % other, lambda: d // other,
                  lambda: d.add_(other), lambda: d.bool() & other.bool()):
            with pytest.raises(RuntimeError, match=clash):
                f()
    s = nc.tensor(1.0)
    # a 0-d CPU tensor cannot take a device result in place; matmul and cat take no scalars
    with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the "
                                           r"broadcast shape \[3\]"):
        s.add_(d)
    with pytest.raises(RuntimeError, match=clash):
        s.add_(nc.tensor(1.0, device=device))
    with pytest.raises(RuntimeError, match=clash):
        d @ nc.ones(3)
    with pytest.raises(RuntimeError, match=clash):
        nc.cat([d, s.reshape(1)])
    with pytest.raises(RuntimeError, match=clash):
        nc.where(nc.ones(3) > 0, d, s)                 # a dimensioned CPU condition
    assert s.tolist() == 1.0 and to_host(d).tolist() == [1.0] * 3
    if device == STANDIN:
        # two device indices: no single device to take the scalar to
        e = nc.ones(3, device="standin:1")
        with pytest.raises(RuntimeError, match="standin:0 and standin:1"):
            nc.where(d > 0, e, s)


@on_devices
def test_shape_errors_are_pytorchs_on_every_device(device):
    a, b = nc.ones(2, 3, device=device), nc.ones(2, 4, device=device)
    msg = (r"^The size of tensor a \(3\) must match the size of tensor b \(4\) at "
           r"non-singleton dimension 1$")
    for f in (lambda: a + b, lambda: a * b, lambda: a == b, lambda: a < b,
              lambda: nc.where(a > 0, a, b), lambda: nc.maximum(a, b), lambda: a % b,
              lambda: a // b, lambda: a.clamp(max=b), lambda: a.add_(b), lambda: a.copy_(b)):
        with pytest.raises(RuntimeError, match=msg):
            f()
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match"):
        nc.ones(3, device=device).mul_(a)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        nc.cat([a, b])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions"):
        nc.cat([a, nc.ones(2, 3, 1, device=device)])
    with pytest.raises(RuntimeError, match=r"but got \[2, 3\] at entry 0 and \[2, 4\]"):
        nc.stack([a, b])
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        a.reshape(4, -1)
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        a.view(5)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match"):
        a.expand(2, 4)
    with pytest.raises(RuntimeError, match=r"Target sizes: \[3\].  Tensor sizes: \[4\]"):
        a[0] = nc.ones(4, device=device)
    assert to_host(a).tolist() == [[1.0] * 3] * 2


# ------------------------------------------------------------------------------ ops
def _w(shape):
    return numpy.asarray(R.standard_normal(shape), numpy.float32)


OPS = {
    "add_broadcast": (lambda a, b: a + b, [(3, 4), (4,)]),
    "sub": (lambda a, b: a - b, [(3, 4), (3, 1)]),
    "mul": (lambda a, b: a * b, [(2, 3), (2, 3)]),
    "div": (lambda a, b: a / b, [(2, 3), "pos(2, 3)"]),
    "scalar_ops": (lambda a: 2.0 - a * 3 + 1 / (a * a + 1), [(5,)]),
    "numpy_scalar": (lambda a: a * numpy.float32(2) + numpy.float64(1), [(3,)]),
    "pow": (lambda a, b: a ** b, ["pos(2, 3)", (2, 3)]),
    "pow_scalar": (lambda a: a ** 2 + a.abs() ** 1.5, [(4,)]),
    "neg_abs": (lambda a: -a.abs(), [(4,)]),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul_batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matvec": (lambda a, b: a @ b, [(3, 4), (4,)]),
    "vecvec": (lambda a, b: a @ b, [(4,), (4,)]),
    "exp_log_sqrt": (lambda a: a.exp() + a.log() + a.sqrt(), ["pos(3, 2)"]),
    "relu": (lambda a: a.relu(), [(4, 5)]),
    "sigmoid_tanh": (lambda a: a.sigmoid() * a.tanh(), [(4, 5)]),
    "softmax": (lambda a: a.softmax(1), [(3, 5)]),
    "log_softmax": (lambda a: a.log_softmax(-1), [(3, 5)]),
    "sum_mean": (lambda a: a.sum(1) + a.mean(1), [(3, 4)]),
    "sum_all": (lambda a: a.sum() * a.mean(), [(3, 4)]),
    "var_std": (lambda a: a.var(0) + a.std(0, keepdim=True), [(5, 3)]),
    "max_min_dim": (lambda a: a.max(1)[0] - a.min(0, keepdim=True)[0].sum(), [(4, 5)]),
    "max_all": (lambda a: a.max() + a.min(), [(4, 5)]),
    "amax": (lambda a: a.amax(1), [(3, 4)]),
    "reshape_permute": (lambda a: a.reshape(3, 2, 4).permute(2, 0, 1).flatten(1), [(6, 4)]),
    "transpose_T": (lambda a: a.transpose(0, 1) + a.T, [(3, 3)]),
    "squeeze_unsqueeze_expand": (lambda a: a.unsqueeze(0).expand(2, 3, 4).squeeze(), [(3, 4)]),
    "getitem_basic": (lambda a: a[1:, ::2] * a[0, 1], [(4, 5)]),
    "getitem_list": (lambda a: a[[0, 0, 2]], [(4, 3)]),
    "getitem_tensor_index": (lambda a: a[nc.tensor([3, 1, 3], device=a.device)], [(4, 3)]),
    "getitem_mask": (lambda a: a[a > 0], [(4, 3)]),
    "getitem_2d_adv": (lambda a: a[[0, 2], [1, 1]], [(3, 3)]),
    "cat_stack": (lambda a, b: nc.cat([a, b], 1).sum(1) + nc.stack([a, b]).sum((0, 2)),
                  [(2, 3), (2, 3)]),
    "where": (lambda a, b: nc.where(a > b, a, b * 2), [(3, 4), (3, 4)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5) + a.clamp(min=0.1), [(10,)]),
    "maximum_minimum": (lambda a, b: nc.maximum(a, b) - nc.minimum(a, 0.0), [(3, 4), (3, 4)]),
    "cast": (lambda a: a.double().float() * 2, [(3,)]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1), [(4, 4)]),
}


def _make_inputs(spec):
    out = []
    for s in spec:
        if isinstance(s, str):
            out.append(_data(*eval(s[3:]), positive=True))
        else:
            out.append(_data(*s))
    return out


@on_devices
@pytest.mark.parametrize("name", sorted(OPS))
def test_op_forward_backward_matches_cpu(name, device):
    fn, spec = OPS[name]
    arrays = _make_inputs(spec)
    cpu_in = [nc.tensor(a, requires_grad=True) for a in arrays]
    dev_in = [nc.tensor(a, requires_grad=True, device=device) for a in arrays]
    y_cpu = fn(*cpu_in)
    y_dev = fn(*dev_in)
    assert_on(y_dev, device)
    assert y_dev.shape == y_cpu.shape and y_dev.dtype == y_cpu.dtype
    assert_close(y_dev, y_cpu, rtol=1e-5, atol=1e-5)
    w = _w(y_cpu.shape)
    (y_cpu * nc.tensor(w)).sum().backward()
    (y_dev * nc.tensor(w, device=device)).sum().backward()
    for c, d in zip(cpu_in, dev_in):
        assert (c.grad is None) == (d.grad is None)
        if d.grad is not None:
            assert_on(d.grad, device)
            assert d.grad.dtype == d.dtype
            assert_close(d.grad, c.grad, rtol=1e-4, atol=1e-5)


@on_devices
def test_reductions_of_a_0d_tensor_with_a_dim_on_device(device):
    # PyTorch takes dim 0 / -1 on a 0-d tensor; CuPy's reductions refuse any axis there
    t = nc.tensor(2.5, device=device, requires_grad=True)
    for y in (t.sum(0), t.mean(-1), t.max(0)[0], t.amax(0), t.softmax(0),
              t.log_softmax(-1), t.sum(dim=[0], keepdim=True)):
        assert_on(y, device)
        assert y.shape == ()
    assert float(t.sum(0)) == 2.5 and float(t.softmax(0)) == 1.0
    assert int(t.argmax(0)) == 0
    b = t > 0
    assert bool(b.all(0)) and bool(b.any(-1)) and b.all(0, keepdim=True).shape == ()
    t.max(0)[0].backward()
    assert float(t.grad) == 1.0


def test_any_all_dims_as_pytorch():
    x = nc.tensor([[True, False], [True, True]])
    assert x.all(0).tolist() == [True, False] and x.any(1).tolist() == [True, True]
    assert not x.all((0, 1)).item() and x.any(dim=(0, 1)).item()
    # an empty dim list reduces nothing (unlike sum's, which reduces all)
    assert x.all([]).tolist() == [[True, False], [True, True]] == x.any(()).tolist()
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                          r"of \[-2, 1\], but got 2\)"):
        x.all(2)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        x.any((0, -2))


@on_devices
def test_no_grad_methods_and_inplace_on_device(device):
    a = nc.tensor(_data(3, 4), device=device)
    assert_on(a.argmax(1), device)
    assert_on(a > 0, device)
    assert (a == a).all().item() if hasattr(a, "all") else True
    b = a.clone() if hasattr(a, "clone") else a * 1
    with nc.no_grad():
        b.add_(1.0)
        b.mul_(2)
        b.sub_(a)
        b.clamp_(-1, 1)
    assert_on(b, device)
    z = nc.zeros(3, 4, device=device)
    z.copy_(a)
    assert_close(z, a)
    z.zero_()
    assert float(z.sum()) == 0.0
    # copy_ takes a source on any device, as PyTorch's (the values move first)
    z.copy_(nc.ones(3, 4, device="cpu"))
    assert_on(z, device)
    assert float(z.sum()) == 12.0
    h = nc.zeros(2, 4)
    with nc.no_grad():
        h.copy_(a[:1])                           # device -> host, broadcast over rows
    assert_on(h, "cpu")
    numpy.testing.assert_allclose(h.numpy(), numpy.repeat(to_host(a.data)[:1], 2, 0))


@on_devices
def test_grad_accumulates_on_device(device):
    x = nc.tensor(_data(3), requires_grad=True, device=device)
    for _ in range(2):
        (x * 2).sum().backward()
    assert_on(x.grad, device)
    assert_close(x.grad, numpy.full(3, 4.0, numpy.float32))


@on_devices
def test_index_backward_with_repeated_rows_is_exact_on_device(device):
    # repeated indices over rows of several columns: the gradient rows are summed per target
    # row. CuPy's add.reduceat is a running-sum difference, which in float32 turned the
    # second row's 1 + 1 into 0 after the first's 1e8 + 1e8
    x = nc.zeros(100, 2, requires_grad=True, device=device)
    w = numpy.array([[1e8, 1e8], [1e8, 1e8], [1, 1], [1, 1]], numpy.float32)
    (x[[0, 0, 1, 1]] * nc.tensor(w, device=device)).sum().backward()
    assert_on(x.grad, device)
    g = to_host(x.grad)
    assert g[0].tolist() == [2e8, 2e8] and g[1].tolist() == [2.0, 2.0] and not g[2:].any()


@on_devices
def test_orthogonal_init_on_device(device):
    # its QR step: on the stand-in, NumPy's named-tuple result came back as host arrays
    w = nc.empty(6, 4, device=device)
    nc.nn.init.orthogonal_(w)
    assert_on(w, device)
    numpy.testing.assert_allclose(to_host(w.T @ w), numpy.eye(4), atol=1e-5)


_OUT_OF_BOUNDS = r"index %d is out of bounds for dimension %d with size %d"


@on_devices
def test_out_of_range_index_arrays_raise_on_device(device):
    # CuPy wraps them around (t[[4]] of 4 rows would be row 0), NumPy and PyTorch raise
    t = nc.arange(20.0, device=device).reshape(4, 5)
    d = lambda v, **kw: nc.tensor(v, device=device, **kw)                 # noqa: E731
    for f, (i, axis, n) in (
            (lambda: t[[4]], (4, 0, 4)), (lambda: t[d([0, -5])], (-5, 0, 4)),
            (lambda: t[numpy.array([1, 9])], (9, 0, 4)), (lambda: t[:, [5]], (5, 1, 5)),
            (lambda: t[..., d([[0], [9]])], (9, 1, 5)), (lambda: t[[0], d([5])], (5, 1, 5)),
            (lambda: t[None, [1], [-6]], (-6, 1, 5)),
            (lambda: t[d([True, False, True, False]), [7]], (7, 1, 5)),
            (lambda: t[d(numpy.array([6], numpy.uint8))], (6, 0, 4))):
        with pytest.raises(IndexError, match=_OUT_OF_BOUNDS % (i, axis, n)):
            f()
    for f, (i, axis, n) in ((lambda: t.__setitem__([4], 1.0), (4, 0, 4)),
                            (lambda: t.__setitem__((slice(None), d([2, 5])), 1.0), (5, 1, 5))):
        with pytest.raises(IndexError, match=_OUT_OF_BOUNDS % (i, axis, n)):
            f()
    assert to_host(t).tolist() == numpy.arange(20.0).reshape(4, 5).tolist()    # untouched
    # in range, negative ones included: the same values everywhere
    assert to_host(t[[-1, 0]])[:, 0].tolist() == [15.0, 0.0]
    assert to_host(t[:, d([-1, 4])]).tolist() == [[4.0, 4.0], [9.0, 9.0], [14.0, 14.0],
                                                  [19.0, 19.0]]
    assert to_host(t[d([], dtype=nc.int64)]).shape == (0, 5)
    t[d([-4])] = 0.0
    assert to_host(t)[0].tolist() == [0.0] * 5


@on_devices
def test_writing_into_an_expanded_tensor_raises_on_device(device):
    # its elements share memory: NumPy refuses the write (read-only broadcast view), CuPy
    # has no read-only arrays and would race on the shared elements; PyTorch raises
    x = nc.zeros(3, device=device)
    y = x.expand(2, 3)
    for op in (lambda: y.add_(1), lambda: y.mul_(2), lambda: y.sub_(y), lambda: y.div_(2),
               lambda: y.clamp_(0, 1), lambda: y.copy_(nc.ones(2, 3, device=device)),
               lambda: y.fill_(1.0), lambda: y.zero_(), lambda: y.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            op()
    with pytest.raises(RuntimeError, match="more than one element"):
        y += 1
    assert to_host(x).tolist() == [0.0, 0.0, 0.0]


@on_devices
def test_writing_into_an_empty_tensor_passes_on_device(device):
    # an empty tensor has no shared elements: NumPy gives every axis of an empty array
    # stride 0 (zeros(0, 3).strides == (0, 0)), which must not read as an expand() view;
    # PyTorch writes into empty tensors (adaptive_avg_pool2d to size 0 makes one)
    import npconv.nn.functional as F
    for t in (nc.zeros(0, 3, device=device), nc.zeros(3, 0, device=device),
              F.adaptive_avg_pool2d(nc.zeros(2, 3, 4, 4, device=device), (0, 2))):
        shape = t.shape
        for op in (lambda: t.add_(1), lambda: t.mul_(2), lambda: t.zero_(),
                   lambda: t.fill_(1.0), lambda: t.clamp_(0, 1),
                   lambda: t.__setitem__(slice(None), 5.0)):
            op()
        assert t.shape == shape


@on_devices
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")      # the stand-in's NumPy on 3.0 / 0
def test_float_floor_divide_and_remainder_on_device(device, dtype):
    # Python's (and NumPy's, PyTorch's) rule: from fmod, exactly. CuPy's float loops compute
    # floor(a / b) and a - floor(a / b) * b: 1.0 // 0.1 gave 10.0 and 1.0 % 0.1 gave 0.0
    a_ = numpy.array([1.0, -1.0, 7.5, -7.5, 1.0, -1.0, 0.0, 3.0, 1.0], dtype)
    b_ = numpy.array([0.1, 0.1, 2.0, 2.0, numpy.inf, numpy.inf, -3.0, 0.0, -0.1], dtype)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        want_q, want_r = a_ // b_, a_ % b_
    if dtype == numpy.float64:
        assert want_q[0] == 1.0 // 0.1 == 9.0 and want_r[0] == 1.0 % 0.1
    a = nc.tensor(a_, requires_grad=True, device=device)
    b = nc.tensor(b_, requires_grad=True, device=device)
    q, r = a // b, a % b
    assert_on(q, device) and assert_on(r, device)
    assert q.dtype == dtype and r.dtype == dtype
    numpy.testing.assert_array_equal(to_host(q), want_q)
    numpy.testing.assert_array_equal(to_host(r), want_r)
    assert numpy.array_equal(numpy.signbit(to_host(q)), numpy.signbit(want_q))
    assert numpy.array_equal(numpy.signbit(to_host(r)), numpy.signbit(want_r))
    numpy.testing.assert_array_equal(to_host(a // 0.1), a_ // dtype(0.1))
    numpy.testing.assert_array_equal(to_host(1.0 % b[:2]), dtype(1.0) % b_[:2])
    r.sum().backward()                                # d(a % b)/db = -(a // b)
    numpy.testing.assert_array_equal(to_host(b.grad)[:2], -want_q[:2])


@on_devices
def test_integer_tensor_to_a_negative_power_raises_on_device(device):
    # PyTorch raises; NumPy raises its own error, CuPy's integer power gives 0
    t = nc.tensor([2, 1, -1], device=device)
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        t ** -1
    assert to_host(t ** 2).tolist() == [4, 1, 1]
    assert to_host(t.double() ** -1).tolist() == [0.5, 1.0, -1.0]
    # a tensor exponent: PyTorch (and CuPy) give 1 // a**|b| (0, or +-1 for a base of
    # +-1), on every device alike (NumPy alone would raise)
    base = nc.tensor([2, 1, -1, -1, 0, 3], device=device)
    exp = nc.tensor([-1, -2, -1, -2, 2, -3], device=device)
    assert to_host(base ** exp).tolist() == [0, 1, -1, 1, 0, 0]
    assert to_host(nc.tensor([[2], [3]], device=device) ** nc.tensor([-1, 2], device=device)
                   ).tolist() == [[0, 4], [0, 9]]
    u = nc.tensor([2], dtype=nc.uint8, device=device) ** nc.tensor([3], device=device)
    assert to_host(u).tolist() == [8] and u.dtype == numpy.int64


# ------------------------------------------------------------------------------ hard-coded numpy
class _HardCodedNumpyExp(nc.Function):
    """A deliberately wrong kernel: ``numpy.exp`` instead of ``xp.exp``."""

    @staticmethod
    def forward(ctx, x):
        return numpy.exp(x)

    @staticmethod
    def backward(ctx, g):
        return g


class _HostConstant(nc.Function):
    """Another wrong kernel: mixes a host array into device data."""

    @staticmethod
    def forward(ctx, x):
        return x + numpy.ones(x.shape, x.dtype)

    @staticmethod
    def backward(ctx, g):
        return g


@on_devices
def test_hard_coded_numpy_fails_on_device(device):
    x = nc.tensor([0.0, 1.0], device=device)
    if device == "cpu":
        assert _HardCodedNumpyExp.apply(x).shape == (2,)
        assert _HostConstant.apply(x).shape == (2,)
        return
    if device == "cuda":
        pytest.skip("CuPy itself dispatches numpy ufuncs on cupy arrays; the stand-in is "
                    "the strict check")
    with pytest.raises(TypeError):
        _HardCodedNumpyExp.apply(x)
    with pytest.raises(TypeError):
        _HostConstant.apply(x)


# ------------------------------------------------------------------------------ random
@on_devices
def test_random_numbers_are_drawn_on_device_and_seeded(device):
    nc.manual_seed(123)
    a = to_host(nc.randn(5, device=device))
    b = to_host(nc.rand(5, device=device))
    nc.manual_seed(123)
    assert numpy.array_equal(to_host(nc.randn(5, device=device)), a)
    assert numpy.array_equal(to_host(nc.rand(5, device=device)), b)
    xp = xp_for(device)
    assert (xp.__name__, 0) in nrandom._state["generators"]
    if device != "cpu":
        # device draws do not advance the host stream
        nc.manual_seed(7)
        host = to_host(nc.randn(4))
        nc.manual_seed(7)
        nc.randn(100, device=device)
        assert numpy.array_equal(to_host(nc.randn(4)), host)


def test_factories_make_data_on_the_device_without_a_host_copy(monkeypatch):
    """zeros/randn/... with device= allocate with the device's array module (on the device
    asked for), never on the host followed by a copy; *_like follow their tensor."""
    _standin.install()
    b = B._BACKENDS["standin"]

    def no_host_copy(a, index=0):
        raise AssertionError("a factory went through the host")
    monkeypatch.setattr(b, "from_host", no_host_copy)
    try:
        made = [nc.zeros(2, 3, device="standin:1"), nc.ones(2, device="standin:1"),
                nc.full((2,), 7.0, device="standin:1"), nc.empty(3, device="standin:1"),
                nc.arange(5, device="standin:1"), nc.linspace(0, 1, 5, device="standin:1"),
                nc.eye(3, device="standin:1"), nc.randn(2, 2, device="standin:1"),
                nc.rand(2, device="standin:1"), nc.randint(0, 5, (4,), device="standin:1")]
        for t in made:
            assert str(t.device) == "standin:1", t
        like = [nc.zeros_like(made[0]), nc.ones_like(made[0]), nc.full_like(made[0], 2.0),
                nc.randn_like(made[0]), nc.rand_like(made[0])]
        for t in like:
            assert str(t.device) == "standin:1" and t.shape == (2, 3)
        assert str(nc.zeros_like(made[0], device="standin:0").device) == "standin:0"
        monkeypatch.undo()
        # to another backend: a real move
        assert str(nc.zeros_like(nc.zeros(2), device="standin:1").device) == "standin:1"
    finally:
        _standin.BACKEND.set_device(0)


def test_each_device_has_its_own_generator_seeded_alike():
    """CuPy keeps a generator's state on one GPU (using it with another current raises), so
    npconv keeps one generator per device; manual_seed seeds them alike, as PyTorch."""
    _standin.install()
    try:
        nc.manual_seed(5)
        a = to_host(nc.randn(6, device="standin:0"))
        b = to_host(nc.randn(6, device="standin:1"))     # would raise with device 0's state
        assert numpy.array_equal(a, b)                    # same seed on both devices
        x = nc.ones(50, requires_grad=True, device="standin:1")
        y = F.dropout(x, 0.5, training=True)
        assert str(y.device) == "standin:1"
        keys = set(nrandom._state["generators"])
        assert {(_standin.xp.__name__, 0), (_standin.xp.__name__, 1)} <= keys
        # the stand-in refuses a generator used on another device, as CuPy does
        _standin.BACKEND.set_device(0)
        g = _standin.xp.random.default_rng(0)
        _standin.BACKEND.set_device(1)
        with pytest.raises(Exception, match="standin:0 but the current device is standin:1"):
            g.random(3)
    finally:
        _standin.BACKEND.set_device(0)


@on_devices
def test_dropout_on_device(device):
    dropout = _need(F, "dropout", "issue 3 (F.dropout)")
    x = nc.ones(1000, requires_grad=True, device=device)
    nc.manual_seed(0)
    y = dropout(x, 0.5, True)
    assert_on(y, device)
    kept = to_host(y) != 0
    assert 350 < kept.sum() < 650
    assert numpy.allclose(to_host(y)[kept], 2.0)
    y.sum().backward()
    assert_on(x.grad, device)
    assert numpy.array_equal(to_host(x.grad) != 0, kept)
    nc.manual_seed(0)
    assert numpy.array_equal(to_host(dropout(x, 0.5, True)) != 0, kept)   # seeded
    assert dropout(x, 0.5, False) is x or numpy.array_equal(to_host(dropout(x, 0.5, False)),
                                                            to_host(x))


# ------------------------------------------------------------------------------ kernels
def _kernel_case(fn, x_shape, *extra_shapes, device, rtol=1e-4, atol=1e-4):
    arrays = [_data(*x_shape)] + [_data(*s) for s in extra_shapes]
    c = [nc.tensor(a, requires_grad=True) for a in arrays]
    d = [nc.tensor(a, requires_grad=True, device=device) for a in arrays]
    yc, yd = fn(*c), fn(*d)
    assert_on(yd, device)
    assert_close(yd, yc, rtol=rtol, atol=atol)
    w = _w(yc.shape)
    (yc * nc.tensor(w)).sum().backward()
    (yd * nc.tensor(w, device=device)).sum().backward()
    for a, b in zip(c, d):
        assert_on(b.grad, device)
        assert_close(b.grad, a.grad, rtol=rtol, atol=atol)


@on_devices
@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
def test_conv2d_on_device(device, stride, padding, dilation):
    conv2d = _need(F, "conv2d", "issue 3 (F.conv2d)")
    _kernel_case(lambda x, w, b: conv2d(x, w, b, stride=stride, padding=padding,
                                        dilation=dilation),
                 (2, 3, 9, 9), (4, 3, 3, 3), (4,), device=device)


@on_devices
def test_conv2d_groups_on_device(device):
    conv2d = _need(F, "conv2d", "issue 3 (F.conv2d)")
    _kernel_case(lambda x, w: conv2d(x, w, None, stride=1, padding=1, groups=2),
                 (2, 4, 6, 6), (6, 2, 3, 3), device=device)


@on_devices
def test_conv_transpose2d_on_device(device):
    ct = _need(F, "conv_transpose2d", "issue 3 (F.conv_transpose2d)")
    _kernel_case(lambda x, w, b: ct(x, w, b, stride=2, padding=1),
                 (2, 3, 5, 5), (3, 4, 3, 3), (4,), device=device)


@on_devices
@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_max_pool2d_on_device(device, kernel, stride, padding):
    mp = _need(F, "max_pool2d", "issue 3 (F.max_pool2d)")
    _kernel_case(lambda x: mp(x, kernel, stride, padding), (2, 3, 8, 8), device=device)


@on_devices
@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 2, 1)])
def test_avg_pool2d_on_device(device, kernel, stride, padding):
    ap = _need(F, "avg_pool2d", "issue 3 (F.avg_pool2d)")
    _kernel_case(lambda x: ap(x, kernel, stride, padding), (2, 3, 8, 8), device=device)


@on_devices
def test_adaptive_avg_pool_on_device(device):
    aap = _need(F, "adaptive_avg_pool2d", "issue 3 (F.adaptive_avg_pool2d)")
    _kernel_case(lambda x: aap(x, 1), (2, 3, 6, 6), device=device)


@on_devices
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss", "mse_loss", "l1_loss",
                                  "binary_cross_entropy_with_logits"])
def test_losses_on_device(device, loss):
    f = _need(F, loss, "issue 4 (F.%s)" % loss)
    x = _data(6, 5)
    if loss in ("cross_entropy", "nll_loss"):
        target = numpy.array([0, 4, 2, 2, 1, 3])
        pre = (lambda t: t.log_softmax(1)) if loss == "nll_loss" else (lambda t: t)
    else:
        target = R.random((6, 5)).astype(numpy.float32)
        pre = (lambda t: t)
    xc = nc.tensor(x, requires_grad=True)
    xd = nc.tensor(x, requires_grad=True, device=device)
    lc = f(pre(xc), nc.tensor(target))
    ld = f(pre(xd), nc.tensor(target, device=device))
    assert_on(ld, device)
    assert_close(ld, lc, rtol=1e-5)
    lc.backward()
    ld.backward()
    assert_on(xd.grad, device)
    assert_close(xd.grad, xc.grad, rtol=1e-4, atol=1e-6)


@on_devices
def test_batch_norm_functional_on_device(device):
    bn = _need(F, "batch_norm", "issue 4 (F.batch_norm)")
    x = _data(8, 3)
    rm, rv = numpy.zeros(3, numpy.float32), numpy.ones(3, numpy.float32)
    out = {}
    for d in ("cpu", device):
        t = nc.tensor(x, requires_grad=True, device=d)
        m, v = nc.tensor(rm, device=d), nc.tensor(rv, device=d)
        w = nc.ones(3, requires_grad=True, device=d)
        b = nc.zeros(3, requires_grad=True, device=d)
        y = bn(t, m, v, w, b, training=True)
        (y * nc.tensor(numpy.arange(24.0, dtype=numpy.float32).reshape(8, 3),
                       device=d)).sum().backward()
        out[d] = (y, t.grad, w.grad, m, v)
    for a, b in zip(out["cpu"], out[device]):
        assert_on(b, device)
        assert_close(b, a, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------ modules
def _mlp():
    nc.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.0),
                         nn.Linear(16, 3))


def _cnn():
    nc.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.25), nn.Linear(4 * 2 * 2, 3))


def _needs_conv():
    _need(F, "conv2d", "issue 3 (F.conv2d)")
    _need(F, "max_pool2d", "issue 3 (F.max_pool2d)")
    _need(F, "avg_pool2d", "issue 3 (F.avg_pool2d)")
    _need(F, "dropout", "issue 3 (F.dropout)")


@on_devices
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_module_to_moves_parameters_and_buffers(device, arch):
    if arch == "cnn":
        _needs_conv()
    model_cpu = _mlp() if arch == "mlp" else _cnn()
    model = copy.deepcopy(model_cpu)
    params_before = [id(p) for p in model.parameters()]
    assert model.to(device) is model
    assert [id(p) for p in model.parameters()] == params_before   # same Parameter objects
    for name, p in model.named_parameters():
        assert_on(p, device)
        assert p.requires_grad and p.is_leaf, name
    for name, b in model.named_buffers():
        assert_on(b, device)
    x = _data(4, 6) if arch == "mlp" else _data(4, 1, 8, 8)
    model_cpu.eval() if arch == "cnn" else None
    model.eval() if arch == "cnn" else None
    yc = model_cpu(nc.tensor(x))
    yd = model(nc.tensor(x, device=device))
    assert_on(yd, device)
    assert_close(yd, yc, rtol=1e-4, atol=1e-5)
    yc.sum().backward()
    yd.sum().backward()
    for (n, pc), pd in zip(model_cpu.named_parameters(), model.parameters()):
        assert_on(pd.grad, device)
        assert_close(pd.grad, pc.grad, rtol=1e-3, atol=1e-5)
    # and back to the host
    model.cpu()
    for p in model.parameters():
        assert_on(p, "cpu")
        assert_on(p.grad, "cpu")


@on_devices
def test_state_dict_roundtrip_between_devices(device):
    model = _mlp().to(device)
    sd = model.state_dict()
    for v in sd.values():
        assert_on(v, device)
    host = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.0),
                         nn.Linear(16, 3))
    host.load_state_dict(sd)                       # device -> host copy
    for (k, a), b in zip(host.state_dict().items(), sd.values()):
        assert_on(a, "cpu")
        assert_close(a, b, rtol=0, atol=0)
    other = _mlp().to(device)
    other.load_state_dict(host.state_dict())       # host -> device copy
    for v in other.state_dict().values():
        assert_on(v, device)


# ------------------------------------------------------------------------------ optimizers
def _optimizers():
    import npconv.optim as optim
    return {
        "sgd": lambda ps: optim.SGD(ps, lr=0.1),
        "sgd_momentum_wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3,
                                                nesterov=True),
        "adam": lambda ps: optim.Adam(ps, lr=1e-2),
        "adam_amsgrad": lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-3),
        "adamw": lambda ps: optim.AdamW(ps, lr=1e-2),
    }


@on_devices
@pytest.mark.parametrize("opt", ["sgd", "sgd_momentum_wd", "adam", "adam_amsgrad", "adamw"])
def test_optimizer_state_lives_with_params(device, opt):
    make = _optimizers()[opt]
    runs = {}
    for d in ("cpu", device):
        model = _mlp().to(d)
        o = make(model.parameters())
        x = nc.tensor(_data(8, 6) * 0 + numpy.linspace(-1, 1, 48, dtype=numpy.float32)
                      .reshape(8, 6), device=d)
        for _ in range(3):
            o.zero_grad()
            (model(x) ** 2).mean().backward()
            o.step()
        runs[d] = (model, o)
    model, o = runs[device]
    for p in model.parameters():
        assert_on(p, device)
        for k, v in o.state.get(p, {}).items():
            if hasattr(v, "shape") and not isinstance(v, (int, float)):
                data = v.data if isinstance(v, nc.Tensor) else v
                if isinstance(data, numpy.generic) or getattr(data, "ndim", 1) == 0 and \
                        isinstance(data, numpy.ndarray) and device == "cpu":
                    continue
                if getattr(data, "ndim", 0) > 0:
                    assert_on(data, device)
    for pc, pd in zip(runs["cpu"][0].parameters(), model.parameters()):
        assert_close(pd, pc, rtol=1e-4, atol=1e-5)


@on_gpu_like
def test_optimizer_state_follows_model_moved_after_creation(device):
    import npconv.optim as optim
    model = _mlp()
    o = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = nc.tensor(_data(4, 6))
    model(x).sum().backward()
    o.step()                                        # momentum buffers made on the host
    model.to(device)
    o.zero_grad()
    model(x.to(device)).sum().backward()
    o.step()                                        # the state follows its parameter
    for state in o.state.values():
        for v in state.values():
            if getattr(v, "ndim", 0) > 0:
                assert_on(v, device)
    for p in model.parameters():
        assert_on(p, device)


# ------------------------------------------------------------------------------ training
@on_devices
def test_training_steps_match_cpu(device):
    import npconv.optim as optim
    x = _data(32, 6)
    y = (x[:, 0] > 0).astype(numpy.int64) + (x[:, 1] > 0)
    losses = {}
    for d in ("cpu", device):
        model = _mlp().to(d)
        o = optim.Adam(model.parameters(), lr=0.05)
        xt, yt = nc.tensor(x, device=d), nc.tensor(y, device=d)
        ls = []
        for _ in range(15):
            o.zero_grad()
            loss = F.cross_entropy(model(xt), yt)
            loss.backward()
            o.step()
            ls.append(loss.item())
        losses[d] = ls
        for p in model.parameters():
            assert_on(p, d)
    assert losses[device][-1] < losses[device][0] * 0.7
    numpy.testing.assert_allclose(losses[device], losses["cpu"], rtol=1e-3, atol=1e-5)


@on_devices
def test_cnn_training_steps(device):
    _needs_conv()
    import npconv.optim as optim
    x = _data(16, 1, 8, 8)
    y = numpy.arange(16) % 3
    losses = {}
    for d in ("cpu", device):
        model = _cnn().to(d)
        o = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        ls = []
        nc.manual_seed(1)
        for _ in range(8):
            o.zero_grad()
            loss = F.cross_entropy(model(nc.tensor(x, device=d)), nc.tensor(y, device=d))
            loss.backward()
            o.step()
            ls.append(loss.item())
        losses[d] = ls
    assert losses[device][-1] < losses[device][0]
    if device == STANDIN:     # same dropout stream (NumPy PCG64 behind both)
        numpy.testing.assert_allclose(losses[device], losses["cpu"], rtol=1e-3, atol=1e-4)


# ------------------------------------------------------------------------------ checkpoints
@on_devices
def test_save_load_from_device(device, tmp_path):
    import npconv.optim as optim
    model = _mlp().to(device)
    o = optim.Adam(model.parameters(), lr=1e-2)
    x = nc.tensor(_data(4, 6), device=device)
    model(x).sum().backward()
    o.step()
    path = tmp_path / "ckpt.npz"
    nc.save({"model": model.state_dict(), "optim": o.state_dict(), "epoch": 3}, str(path))
    ck = nc.load(str(path))
    assert ck["epoch"] == 3
    for k, v in ck["model"].items():
        assert_on(v, "cpu")                          # checkpoints load to the host
        assert_close(v, model.state_dict()[k], rtol=0, atol=0)
    fresh = _mlp().to(device)
    fresh.load_state_dict(ck["model"])
    for a, b in zip(fresh.parameters(), model.parameters()):
        assert_on(a, device)
        assert_close(a, b, rtol=0, atol=0)
    o2 = optim.Adam(fresh.parameters(), lr=1e-2)
    o2.load_state_dict(ck["optim"])
    fresh(x).sum().backward()
    o2.step()                                       # state from a host checkpoint works
    for p in fresh.parameters():
        assert_on(p, device)


# ------------------------------------------------------------------------------ data
@on_devices
def test_dataloader_batches_to_device(device):
    from npconv.data import DataLoader, TensorDataset
    x = (numpy.arange(40 * 4) % 256).astype(numpy.uint8).reshape(40, 4)
    y = numpy.arange(40) % 3
    ds = TensorDataset(x, y)
    n = 0
    for xb, yb in DataLoader(ds, batch_size=16, shuffle=True):
        xb, yb = xb.to(device), yb.to(device)
        assert_on(xb, device)
        assert_on(yb, device)
        assert xb.dtype == numpy.float32 and yb.dtype == numpy.int64
        n += len(yb)
    assert n == 40
    for xb, yb in DataLoader(ds, batch_size=16, device=device):
        assert_on(xb, device)
        assert_on(yb, device)


# ------------------------------------------------------------------------------ sanity
def test_device_list():
    assert DEVICES[:2] == ["cpu", STANDIN] or set(DEVICES) <= {"cpu", STANDIN, "cuda"}
    assert all(d != "cpu" for d in GPU_LIKE)
    assert array_type(STANDIN) is not numpy.ndarray
    assert B.get_array_module(nc.ones(1, device=STANDIN)) is xp_for(STANDIN)


# ------------------------------------------------------------------------------ second device
def _second_device():
    if "cuda" in DEVICES and nc.cuda.device_count() > 1:
        return ["standin:1", "cuda:1"]
    return ["standin:1"]


@pytest.mark.parametrize("device", _second_device())
def test_training_on_a_second_device(device):
    """Kernels allocate on the current device: moving the model to device 1 makes it current,
    so nothing lands on device 0 (the stand-in refuses to mix its two devices)."""
    import npconv.optim as optim
    nc.manual_seed(0)
    layers = [nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)]
    if hasattr(F, "conv2d"):
        layers = [nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(2 * 3 * 2, 6)] + layers
        x = _data(8, 1, 6, 4)
    else:
        x = _data(8, 6)
    model = nn.Sequential(*layers).to(device)
    o = optim.Adam(model.parameters(), lr=1e-2)
    xt = nc.tensor(x, device=device)
    yt = nc.tensor(numpy.arange(8) % 3, device=device)
    for _ in range(3):
        o.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        o.step()
    for p in model.parameters():
        assert_on(p, device)
        assert_on(p.grad, device)
    # two devices in one program: each one's work under its own guard
    other = nc.tensor(x[:, :1].copy(), device=device.split(":")[0] + ":0")
    with B.device_guard(other.device):
        assert_on(other * 2 + nc.ones(1, device=other.device), str(other.device))
    with B.device_guard(device):
        assert_on(F.cross_entropy(model(xt), yt), device)


@on_gpu_like
def test_train_cli_on_device(device, tmp_path, capsys):
    """``python -m npconv.train --device <gpu>`` end to end on a few bundled images, and the
    checkpoint it writes loads on the host."""
    import npconv.train as train
    out = tmp_path / "run"
    rc = train.main(["--device", device, "--epochs", "1", "--limit-train", "128",
                     "--limit-test", "64", "--batch-size", "64", "--no-plots",
                     "--out", str(out)])
    assert rc in (0, None)
    ck = nc.load(str(out / "last.npz"))
    arrays = []

    def walk(o):
        if isinstance(o, nc.Tensor):
            arrays.append(o)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)
    walk(ck)
    assert arrays and all(isinstance(t.data, numpy.ndarray) for t in arrays)


# ------------------------------------------------------------------------------ every layer
def _layer_cases():
    cases = {
        "conv_stride_groups": (lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
                               (2, 4, 7, 7)),
        "conv_dilation_nobias": (lambda: nn.Conv2d(2, 3, 3, dilation=2, bias=False),
                                 (2, 2, 8, 8)),
        "conv_transpose": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                      output_padding=1), (2, 3, 4, 4)),
        "maxpool_3x3_pad": (lambda: nn.MaxPool2d(3, 2, 1), (2, 2, 7, 7)),
        "maxpool_ceil": (lambda: nn.MaxPool2d(2, ceil_mode=True), (1, 2, 5, 5)),
        "avgpool_nopad_count": (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                                (2, 2, 7, 7)),
        "adaptive_avg": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
        "global_avg": (lambda: nn.GlobalAvgPool2d(), (2, 3, 5, 5)),
        "batchnorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 3, 3)),
        "batchnorm1d": (lambda: nn.BatchNorm1d(5), (6, 5)),
        "activations": (lambda: nn.Sequential(nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(),
                                              nn.Softmax(1), nn.LogSoftmax(1)), (3, 4)),
        "flatten_identity_linear": (lambda: nn.Sequential(nn.Identity(), nn.Flatten(),
                                                          nn.Linear(12, 2)), (2, 3, 2, 2)),
    }
    return cases


LAYERS = _layer_cases()


@on_devices
@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_every_layer_on_device(device, name, train):
    make, shape = LAYERS[name]
    nc.manual_seed(0)
    ref = make()
    mod = copy.deepcopy(ref).to(device)
    ref.train(train)
    mod.train(train)
    x = _data(*shape)
    xc = nc.tensor(x, requires_grad=True)
    xd = nc.tensor(x, requires_grad=True, device=device)
    yc, yd = ref(xc), mod(xd)
    assert_on(yd, device)
    assert_close(yd, yc, rtol=1e-4, atol=1e-5)
    w = _w(yc.shape)
    (yc * nc.tensor(w)).sum().backward()
    (yd * nc.tensor(w, device=device)).sum().backward()
    assert_on(xd.grad, device)
    assert_close(xd.grad, xc.grad, rtol=1e-4, atol=1e-5)
    for pc, pd in zip(ref.parameters(), mod.parameters()):
        assert_on(pd.grad, device)
        assert_close(pd.grad, pc.grad, rtol=1e-4, atol=1e-4)
    for (n, bc), bd in zip(ref.named_buffers(), mod.buffers()):
        assert_on(bd, device)
        assert_close(bd, bc, rtol=1e-5, atol=1e-6)


LOSS_MODULES = {
    "ce_weight_smoothing": (lambda d: nn.CrossEntropyLoss(
        weight=nc.tensor([1.0, 2.0, 0.5, 1.0], device=d), label_smoothing=0.1), "class"),
    "ce_ignore_sum": (lambda d: nn.CrossEntropyLoss(ignore_index=1, reduction="sum"), "class"),
    "nll_none": (lambda d: nn.NLLLoss(reduction="none"), "class"),
    "mse_sum": (lambda d: nn.MSELoss(reduction="sum"), "dense"),
    "l1": (lambda d: nn.L1Loss(), "dense"),
    "bce_pos_weight": (lambda d: nn.BCEWithLogitsLoss(
        pos_weight=nc.tensor([1.0, 2.0, 3.0, 0.5], device=d)), "prob"),
}


@on_devices
@pytest.mark.parametrize("name", sorted(LOSS_MODULES))
def test_loss_modules_on_device(device, name):
    make, kind = LOSS_MODULES[name]
    x = _data(5, 4)
    if kind == "class":
        t = numpy.array([0, 1, 3, 2, 1])
    elif kind == "prob":
        t = (R.random((5, 4)) > 0.5).astype(numpy.float32)
    else:
        t = _data(5, 4)
    out = {}
    for d in ("cpu", device):
        xt = nc.tensor(x, requires_grad=True, device=d)
        inp = xt.log_softmax(1) if name.startswith("nll") else xt
        loss = make(d)(inp, nc.tensor(t, device=d))
        assert_on(loss, d)
        loss.sum().backward()
        out[d] = (loss, xt.grad)
    assert_close(out[device][0], out["cpu"][0], rtol=1e-5, atol=1e-6)
    assert_on(out[device][1], device)
    assert_close(out[device][1], out["cpu"][1], rtol=1e-4, atol=1e-6)


@on_devices
@pytest.mark.parametrize("name", ["simple_cnn", "lenet5", "seed_cnn", "resnet"])
def test_models_forward_backward_on_device(device, name):
    from npconv import models
    nc.manual_seed(0)
    ref = models.get_model(name, num_classes=10, in_channels=1)
    mod = copy.deepcopy(ref).to(device)
    ref.eval()
    mod.eval()
    x = _data(2, 1, 28, 28)
    yc = ref(nc.tensor(x))
    yd = mod(nc.tensor(x, device=device))
    assert_on(yd, device)
    assert_close(yd, yc, rtol=1e-3, atol=1e-4)
    mod.train()
    loss = F.cross_entropy(mod(nc.tensor(x, device=device)), nc.tensor([1, 2], device=device))
    loss.backward()
    for p in mod.parameters():
        assert_on(p.grad, device)


@on_gpu_like
def test_backward_with_gradient_from_another_device_is_clear(device):
    y = nc.ones(3, requires_grad=True, device=device) * 2
    with pytest.raises(RuntimeError, match="cpu"):
        y.backward(nc.ones(3))


@on_devices
def test_max_pool_window_of_fill_values_on_device(device):
    # off NumPy the fill check runs without looking at the mask first (no sync)
    x = numpy.full((1, 1, 4, 4), -numpy.inf, numpy.float32)
    x[0, 0, 3, 3] = 1.0
    xt = nc.tensor(x, device=device, requires_grad=True)
    y, idx = nc.nn.functional.max_pool2d(xt, 3, 2, 1, return_indices=True)
    assert to_host(idx).ravel().tolist() == [0, 1, 4, 15]
    y.backward(nc.tensor(numpy.arange(1.0, 5.0, dtype=numpy.float32).reshape(1, 1, 2, 2),
                         device=device))
    want = numpy.zeros((4, 4), numpy.float32)
    want[0, 0], want[0, 1], want[1, 0], want[3, 3] = 1, 2, 3, 4
    assert_on(xt.grad, device)
    numpy.testing.assert_array_equal(to_host(xt.grad)[0, 0], want)
