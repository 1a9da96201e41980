"""Autograd behaviour that a differential review against PyTorch found different: saved
outputs guarded after the output is gone, a second backward through nodes without saved
tensors, std/var gradients at zero spread and with no degrees of freedom, var(unbiased) and
dim lists, remainder's gradient and integer division by zero, clamp with Tensor bounds.
Expected values are PyTorch's (2.x), hard-coded."""
import gc
import math
import weakref

import numpy as np
import pytest

import npconv as nc

NAN, INF = math.nan, math.inf


def f64(values, grad=True):
    return nc.tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


def assert_same(t, expected):
    """Values equal, NaN where NaN expected, the sign of infinities included."""
    np.testing.assert_array_equal(np.asarray(t.detach().numpy() if hasattr(t, "detach") else t),
                                  np.asarray(expected, dtype=np.float64))


# ---------------------------------------------------------------- saved outputs (item 1)

# every op that saves its own output for backward
SAVES_OUTPUT = {
    "exp": lambda x: x.exp(),
    "sqrt": lambda x: x.sqrt(),
    "pow": lambda x: x ** 1.5,
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "softmax": lambda x: x.softmax(0),
    "log_softmax": lambda x: x.log_softmax(0),
}


@pytest.mark.parametrize("name", sorted(SAVES_OUTPUT))
def test_inplace_on_saved_output_through_detach_caught_after_output_dropped(name):
    x = f64([0.5, 1.0, 2.0])
    y = SAVES_OUTPUT[name](x)
    d = y.detach()                     # shares y's data and version counter
    loss = y.sum()                     # Sum saves nothing: y is referenced by nothing
    del y                              # the output Tensor is gone; its node and counter live
    gc.collect()
    d.mul_(0.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; "
                                           "expected version 0"):
        loss.backward()


def test_inplace_on_saved_output_through_a_view_caught_after_output_dropped():
    x = f64([-1.0, 1.0, 2.0])
    v = x.relu()[:]                    # the relu output itself is gone at once
    loss = v.sum()
    with nc.no_grad():
        v.mul_(-1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ReLUBackward"):
        loss.backward()


def test_inplace_on_saved_multi_output_caught():
    x = f64([[1.0, 3.0], [4.0, 2.0]])
    values, indices = x.max(1, keepdim=True)      # max saves the indices output
    loss = values.sum()
    indices.add_(0)
    del indices
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MaxBackward"):
        loss.backward()


def test_saved_output_guard_keeps_no_reference_to_the_output():
    x = f64([0.5, 1.0])
    y = x.exp()
    ref = weakref.ref(y)
    loss = y.sum()
    del y
    assert ref() is None               # no cycle through grad_fn: freed at once
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))


def test_unmodified_saved_output_after_output_dropped_backward_works():
    x = f64([0.5, 1.0])
    y = x.sigmoid()
    d = y.detach()                     # not modified: the guard must not fire
    loss = y.sum()
    del y
    loss.backward()
    assert d.requires_grad is False
    s = 1 / (1 + np.exp(-np.array([0.5, 1.0])))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s))


# ---------------------------------------------------------------- second backward (item 2)

def test_second_backward_through_nodes_without_saved_tensors_accumulates():
    x = nc.tensor([1.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()                       # add and sum save nothing: allowed, as PyTorch
    assert x.grad.tolist() == [2.0]
    z = (x - x.mean() + x.reshape(1, 1).sum()).sum()
    z.backward()
    z.backward()
    assert x.grad.tolist() == [4.0]


def test_second_backward_raises_when_a_node_had_saved_tensors():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = ((x + 1) * x).sum()            # Mul saved its inputs
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    y = ((x + 1) * 2.0).sum()          # PyTorch raises here too (mul saves its operand)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


# ---------------------------------------------------------------- std at zero spread (item 3)

def test_std_gradient_is_zero_for_a_constant_input():
    x = f64([2.0, 2.0, 2.0])
    y = x.std()
    y.backward()
    assert y.item() == 0.0
    assert_same(x.grad, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("correction,row1", [(0, [-0.408248290463863, 0.0, 0.408248290463863]),
                                              (1, [-0.5, 0.0, 0.5])])
def test_std_gradient_zero_only_on_the_constant_row(correction, row1):
    x = f64([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    x.std(1, correction=correction).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0, 0.0], row1], rtol=1e-12)


def test_std_over_size_one_dim_without_correction_has_zero_gradient():
    x = f64([[2.0], [3.0]])
    y = x.std(1, correction=0)
    y.sum().backward()
    assert_same(y, [0.0, 0.0])
    assert_same(x.grad, [[0.0], [0.0]])


@pytest.mark.parametrize("dim,keepdim,correction", [
    (None, False, 1), (0, False, 1), (1, True, 0), ((0, 2), False, 1), (-1, True, 2),
    ([], False, 1)])
def test_std_and_var_gradcheck(dim, keepdim, correction):
    rng = np.random.default_rng(3)
    x = nc.tensor(rng.standard_normal((3, 4, 5)), dtype=nc.float64, requires_grad=True)
    for fn in ("std", "var"):
        assert nc.gradcheck(lambda t: getattr(t, fn)(dim, keepdim=keepdim, correction=correction),
                            (x,))


def test_std_matches_torch_values():
    x = f64([[2.0, 3.0], [1.0, 5.0]])
    y = x.std()
    y.backward()
    np.testing.assert_allclose(y.item(), 1.707825127659933, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [[-0.14638501094227996, 0.04879500364742666],
                                                [-0.3415650255319866, 0.43915503282683993]],
                               rtol=1e-12)


# ---------------------------------------------------------------- no degrees of freedom (item 4)

@pytest.mark.parametrize("fn", ["var", "std"])
@pytest.mark.parametrize("correction", [1, 2, 3])
def test_var_std_of_one_element_are_nan_with_nan_gradient(fn, correction):
    x = f64([2.0])
    with pytest.warns(UserWarning, match="%s\\(\\): degrees of freedom is <= 0" % fn):
        y = getattr(x, fn)(correction=correction)
    y.backward()
    assert_same(y, NAN)
    assert_same(x.grad, [NAN])


# PyTorch's values: (fn, kwargs, x, forward, gradient of the sum)
NO_DOF = [
    ("var", dict(correction=2), [2.0, 3.0], INF, [INF, INF]),
    ("var", dict(correction=2), [2.0, 2.0], NAN, [NAN, NAN]),
    ("var", dict(correction=3), [2.0, 3.0], INF, [INF, INF]),
    ("var", dict(dim=0, correction=2), [2.0, 3.0], INF, [-INF, INF]),
    ("var", dict(dim=0, correction=2), [2.0, 2.0], NAN, [NAN, NAN]),
    ("var", dict(dim=0, correction=3), [2.0, 3.0], INF, [1.0, -1.0]),
    ("var", dict(dim=0, correction=3), [[2.0, 3.0], [1.0, 1.0]], [INF, INF],
     [[-1.0, -2.0], [1.0, 2.0]]),
    ("std", dict(correction=2), [2.0, 3.0], INF, [NAN, NAN]),
    ("std", dict(correction=3), [2.0, 2.0], NAN, [NAN, NAN]),
    ("std", dict(dim=0, correction=2), [2.0, 3.0], INF, [NAN, NAN]),
    ("std", dict(dim=0, correction=3), [2.0, 3.0], INF, [0.0, 0.0]),
    ("std", dict(dim=1, correction=1), [[2.0], [3.0]], [NAN, NAN], [[NAN], [NAN]]),
]


@pytest.mark.parametrize("fn,kw,x,value,grad", NO_DOF)
def test_var_std_without_degrees_of_freedom_match_torch(fn, kw, x, value, grad):
    x = f64(x)
    with pytest.warns(UserWarning):
        y = getattr(x, fn)(**kw)
    y.sum().backward()
    assert_same(y, value)
    assert_same(x.grad, grad)


def test_var_of_a_0d_tensor():
    x = f64(3.0)
    y = x.var(correction=0)
    y.backward()
    assert y.item() == 0.0 and x.grad.item() == 0.0


# ---------------------------------------------------------------- var(bool), dim lists (item 5)

M = [[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]


def test_var_and_std_with_a_bool_positional_mean_unbiased():
    t = nc.tensor(M, dtype=nc.float64)
    np.testing.assert_allclose(t.var(False).item(), 6.666666666666667, rtol=1e-12)
    np.testing.assert_allclose(t.var(True).item(), 8.0, rtol=1e-12)
    np.testing.assert_allclose(t.std(False).item(), 2.581988897471611, rtol=1e-12)
    np.testing.assert_allclose(nc.var(t, False).item(), 6.666666666666667, rtol=1e-12)
    np.testing.assert_allclose(t.var(0, False).numpy(), [1.0, 2.25, 6.25])   # dim 0 still


@pytest.mark.parametrize("dim", [[], ()])
def test_empty_dim_list_reduces_over_all_dims(dim):
    t = nc.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=nc.float64, requires_grad=True)
    assert t.sum(dim=dim).item() == 10.0
    assert t.mean(dim=dim).item() == 2.5
    np.testing.assert_allclose(t.var(dim=dim).item(), 1.6666666666666667, rtol=1e-12)
    np.testing.assert_allclose(t.std(dim=dim).item(), 1.2909944487358056, rtol=1e-12)
    assert t.sum(dim=dim, keepdim=True).shape == (1, 1)
    assert t.mean(dim, True).tolist() == [[2.5]]
    t.mean(dim=dim).backward()
    assert t.grad.tolist() == [[0.25, 0.25], [0.25, 0.25]]


@pytest.mark.parametrize("method,dims,named", [
    ("sum", (0, 0), 0), ("sum", (0, -2), 0), ("mean", (1, -1), 1), ("var", [1, -1], 1),
    ("std", (0, 1, 0), 0)])
def test_a_dim_named_twice_raises(method, dims, named):
    with pytest.raises(RuntimeError, match="dim %d appears multiple times in the list of dims"
                       % named):
        getattr(nc.ones(2, 3), method)(dims)


def test_dim_lists_on_a_0d_tensor():
    t = nc.tensor(3.0)
    assert t.sum([]).item() == 3.0
    assert t.sum((0,)).item() == 3.0
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        t.sum((0, -1))


# ---------------------------------------------------------------- remainder, // (item 6)

def test_remainder_is_differentiable_in_both_operands():
    x = nc.tensor([5.5, -3.2], requires_grad=True)
    c = nc.tensor([2.0, -1.5], requires_grad=True)
    y = x % c
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [1.5, -0.2], rtol=1e-6)
    assert x.grad.tolist() == [1.0, 1.0]
    assert c.grad.tolist() == [-2.0, -2.0]


def test_remainder_by_a_number_passes_the_gradient():
    x = nc.tensor([1.5, 2.5], requires_grad=True)
    (x * 2 + x % 1.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_remainder_gradient_at_multiples_and_zero_divisor():
    x = f64([4.0, -4.0, 3.0])
    c = f64([2.0, 2.0, 0.0])
    y = x % c
    y.sum().backward()
    assert_same(y, [0.0, 0.0, NAN])
    assert_same(x.grad, [1.0, 1.0, 1.0])
    assert_same(c.grad, [-2.0, 2.0, -INF])


def test_reflected_remainder_gradient():
    c = f64([1.5, 2.5, -0.5])
    y = 7.5 % c
    y.sum().backward()
    assert_same(y, [0.0, 0.0, 0.0])
    assert_same(c.grad, [-5.0, -3.0, 15.0])   # -floor(7.5 / c)


def test_remainder_gradcheck():
    rng = np.random.default_rng(0)
    # away from the jumps of x % c (where x / c is an integer)
    x = nc.tensor(rng.uniform(0.1, 0.9, (3, 4)) + rng.integers(-3, 3, (3, 4)),
                  dtype=nc.float64, requires_grad=True)
    c = f64([1.0, 1.0, 1.0, 1.0])
    assert nc.gradcheck(lambda a, b: a % b, (x, c))
    assert nc.gradcheck(lambda a: a % 1.0, (x,))
    d = f64([[2.3], [-1.7], [3.1]])
    assert nc.gradcheck(lambda a: 7.9 % a, (d,))


def test_integer_remainder_has_no_gradient_and_keeps_dtype():
    r = nc.tensor([5, -3]) % 2
    assert r.dtype == nc.int64 and r.tolist() == [1, 1] and not r.requires_grad


@pytest.mark.parametrize("expr", [
    lambda: nc.tensor([5, 3]) % 0,
    lambda: nc.tensor([5, 3]) // 0,
    lambda: nc.tensor([5, 3]) // nc.tensor([1, 0]),
    lambda: nc.tensor([5, 3]) % nc.tensor([1, 0]),
    lambda: 5 // nc.tensor([1, 0]),
    lambda: 5 % nc.tensor([1, 0]),
    lambda: nc.tensor(5) % nc.tensor(0),
    lambda: nc.tensor([5, 3], dtype=nc.uint8) % 0,
])
def test_integer_division_by_zero_raises(expr):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        expr()


def test_float_division_by_zero_follows_ieee():
    assert_same(nc.tensor([5, 3]) % 0.0, [NAN, NAN])
    assert_same(nc.tensor([5, 3]) // 0.0, [INF, INF])
    assert_same(nc.tensor([5.0, -3.0, 0.0]) // 0, [INF, -INF, NAN])
    assert_same(nc.tensor([5.0, -3.0, 0.0]) % 0, [NAN, NAN, NAN])
    assert (nc.zeros(0, dtype=nc.int64) % 0).shape == (0,)   # no zero is used: no error


def test_floordiv_and_remainder_promote_as_torch():
    r = nc.tensor([5, 3]) % 1.5
    assert r.dtype == nc.float32 and r.tolist() == [0.5, 0.0]
    r = nc.tensor([5, 3]) // 1.5
    assert r.dtype == nc.float32 and r.tolist() == [3.0, 2.0]
    assert (nc.tensor([5.0]) // nc.tensor(2.0, dtype=nc.float64)).dtype == nc.float32
    r = nc.tensor(7) // 2
    assert r.shape == () and r.item() == 3


# ---------------------------------------------------------------- clamp with Tensor bounds (item 7)

def test_clamp_tensor_bound_tie_gives_input_the_gradient():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    lo = nc.tensor([1.0, 0.0], requires_grad=True)
    nc.clamp(x, min=lo).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert lo.grad.tolist() == [0.0, 0.0]
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    hi = nc.tensor([1.0, 3.0], requires_grad=True)
    x.clamp(max=hi).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and hi.grad.tolist() == [0.0, 0.0]


def test_clamp_tensor_bounds_nan_and_min_above_max_as_torch():
    x = nc.tensor([1.0, 2.0, 3.0, NAN, 0.0], requires_grad=True)
    lo = nc.tensor([1.0, 3.0, 0.0, 0.0, NAN], requires_grad=True)
    hi = nc.tensor([2.0, 2.0, 3.0, 1.0, 1.0], requires_grad=True)
    y = nc.clamp(x, lo, hi)
    y.sum().backward()
    assert_same(y, [1.0, 2.0, 3.0, NAN, NAN])
    assert_same(x.grad, [1.0, 0.0, 1.0, 0.0, 0.0])
    assert_same(lo.grad, [0.0, 0.0, 0.0, 0.0, 0.0])
    assert_same(hi.grad, [0.0, 1.0, 0.0, 0.0, 0.0])
    # min > max everywhere: the output is max, and only max gets the gradient
    x = nc.tensor([0.0, 5.0, 2.0], requires_grad=True)
    lo = nc.tensor([3.0, 3.0, 3.0], requires_grad=True)
    hi = nc.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = x.clamp(lo, hi)
    y.sum().backward()
    assert y.tolist() == [1.0, 1.0, 1.0]
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and lo.grad.tolist() == [0.0, 0.0, 0.0]
    assert hi.grad.tolist() == [1.0, 1.0, 1.0]


def test_clamp_infinite_gradient_where_clamped_gives_zero():
    x = nc.tensor([0.0, 2.0, 5.0], requires_grad=True)
    x.clamp(1.0, 3.0).backward(nc.tensor([INF, INF, INF]))
    assert_same(x.grad, [0.0, INF, 0.0])
    x = nc.tensor([0.0, 2.0, 5.0], requires_grad=True)
    lo = nc.tensor([1.0, 1.0, 1.0], requires_grad=True)
    x.clamp(lo).backward(nc.tensor([INF, INF, INF]))
    assert_same(x.grad, [0.0, INF, INF])
    assert_same(lo.grad, [INF, 0.0, 0.0])


def test_clamp_tensor_bound_broadcasts():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = nc.clamp(x, nc.ones(2, 1))
    assert y.shape == (2, 2)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_clamp_tensor_bounds_gradcheck():
    rng = np.random.default_rng(1)
    # x, lo, hi well apart so no finite-difference step crosses a tie
    x = nc.tensor(rng.choice([-3.0, 0.0, 3.0], (3, 4)) + rng.uniform(-0.3, 0.3, (3, 4)),
                  dtype=nc.float64, requires_grad=True)
    lo = f64(np.full(4, -1.5) + rng.uniform(-0.3, 0.3, 4))
    hi = f64(np.full((3, 1), 1.5) + rng.uniform(-0.3, 0.3, (3, 1)))
    assert nc.gradcheck(lambda a, b, c: a.clamp(b, c), (x, lo, hi))
    assert nc.gradcheck(lambda a, b: a.clamp(min=b), (x, lo))
    assert nc.gradcheck(lambda a, c: a.clamp(max=c), (x, hi))
    assert nc.gradcheck(lambda a, c: a.clamp(-1.0, c), (x, hi))       # a number and a Tensor
    # bounds crossed (min > max): the output is max
    assert nc.gradcheck(lambda a, b, c: a.clamp(c, b), (x, lo, hi))


def test_clamp_dtype_promotion():
    r = nc.tensor([1, 2, 3]).clamp(min=1.5)
    assert r.dtype == nc.float32 and r.tolist() == [1.5, 2.0, 3.0]
    r = nc.tensor([1, 2, 3]).clamp(nc.tensor([2, 2, 2]), 2.5)
    assert r.dtype == nc.float32 and r.tolist() == [2.0, 2.0, 2.5]
    assert nc.tensor([1.0, 5.0]).clamp(1, 3).dtype == nc.float32
    assert nc.tensor([1.0, 2.0]).clamp(nc.tensor([1, 1])).dtype == nc.float32
    assert nc.tensor([1.0, 2.0]).clamp(nc.tensor([1.0], dtype=nc.float64)).dtype == nc.float64
    assert nc.tensor([1.0, 2.0]).clamp(nc.tensor(1.0, dtype=nc.float64)).dtype == nc.float32
    r = nc.tensor([1, 5]).clamp(2, 3)
    assert r.dtype == nc.int64 and r.tolist() == [2, 3]


def test_integer_division_by_zero_is_checked_on_numpy_only(monkeypatch):
    # the check reads a flag back to the host; on a device that would be a sync every call
    from npconv import _standin
    _standin.install()
    reads = []
    real = _standin.StandinArray.__bool__
    monkeypatch.setattr(_standin.StandinArray, "__bool__",
                        lambda self: reads.append(1) or real(self))
    x = nc.tensor(np.array([5, 7]), device="standin")
    y = nc.tensor(np.array([2, 0]), device="standin")
    with np.errstate(divide="ignore"):          # the stand-in computes with NumPy
        (x // y), (x % y)
    assert reads == []
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        nc.tensor(np.array([5, 7])) // nc.tensor(np.array([2, 0]))


def test_remainder_gradcheck_varied_divisors_and_shapes():
    # divisors of both signs and sizes, broadcast (2, 4, 3) against (4, 1); x = c * (k + u)
    # with u in [0.1, 0.9] keeps every finite-difference step away from a jump
    rng = np.random.default_rng(2)
    c = rng.choice([-2.5, -0.7, 0.6, 1.9], (4, 1)) + rng.uniform(-0.05, 0.05, (4, 1))
    k = rng.integers(-3, 3, (2, 4, 3))
    x = c * (k + rng.uniform(0.1, 0.9, (2, 4, 3)))
    xt = nc.tensor(x, dtype=nc.float64, requires_grad=True)               # (2, 4, 3)
    ct = nc.tensor(c, dtype=nc.float64, requires_grad=True)               # (4, 1)
    assert nc.gradcheck(lambda a, b: a % b, (xt, ct))
    one = nc.tensor(np.array([[[1.37]]]), dtype=nc.float64, requires_grad=True)
    assert nc.gradcheck(lambda a: a % 0.5, (one,))                          # batch of one
