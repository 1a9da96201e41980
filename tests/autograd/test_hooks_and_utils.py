"""Tensor.register_hook and npconv.nn.utils (gradient clipping, parameters <-> vector).
Expected values of clip_grad_norm_ are PyTorch's (torch 2.x), for the same gradients."""
import gc
import math

import numpy as np
import pytest

import npconv as nc
from npconv.autograd import Function
from npconv.nn import utils


# -- Tensor.register_hook ---------------------------------------------------------------------

def test_hook_on_a_non_leaf_sees_and_replaces_its_gradient():
    x = nc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.register_hook(lambda g: g * 10)            # hooks run in order; this one replaces
    y.retain_grad()
    (y * y).sum().backward()
    assert seen == [[4.0, 8.0, 12.0]]
    assert y.grad.tolist() == [40.0, 80.0, 120.0]      # retain_grad sees the hooked gradient
    assert x.grad.tolist() == [80.0, 160.0, 240.0]


def test_hook_on_a_leaf_runs_once_with_the_summed_gradient_before_accumulation():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def hook(g):
        calls.append(g.tolist())
        return g.clamp(max=3.0)                  # a non-linear hook: needs the whole gradient

    x.register_hook(hook)
    (x * 2 + x * x).sum().backward()             # x used twice: grad 2 + 2x = [4, 6]
    assert calls == [[4.0, 6.0]] and x.grad.tolist() == [3.0, 3.0]
    x.backward(nc.tensor([1.0, 5.0]))            # backward on the leaf itself
    assert calls[-1] == [1.0, 5.0] and x.grad.tolist() == [4.0, 6.0]


def test_hook_handle_removes_the_hook():
    x = nc.tensor([1.0], requires_grad=True)
    y = x * 1.0
    h1 = x.register_hook(lambda g: g * 2)
    h2 = y.register_hook(lambda g: g * 3)
    h1.remove()
    h2.remove()
    h1.remove()                                  # removing twice is harmless
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
    with x.register_hook(lambda g: g * 0):      # a handle is also a context manager
        (x * 1.0).sum().backward()
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_leaf_hooks_are_dropped_with_the_leaf():
    from npconv.autograd import engine
    before = len(engine._LEAF_HOOKS)
    x = nc.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: None)
    assert len(engine._LEAF_HOOKS) == before + 1
    del x
    gc.collect()
    assert len(engine._LEAF_HOOKS) == before


def test_hook_on_one_output_of_a_multi_output_function():
    class Two(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return 2 * ga + 3 * gb

    x = nc.tensor([1.0, 1.0], requires_grad=True)
    p, q = Two.apply(x)
    q.register_hook(lambda g: g * 0)
    (p + q).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_register_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        nc.ones(2).register_hook(lambda g: g)
    x = nc.ones(2, requires_grad=True)
    x.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match=r"hook '<lambda>' has changed the size of value "
                                           r"\(was \(2,\) got \(1,\)\)"):
        (x * 2).sum().backward()
    y = nc.ones(2, requires_grad=True)
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="has changed the type of value "
                                           r"\(was float32 got float64\)"):
        (y * 2).sum().backward()
    z = nc.ones(2, requires_grad=True)
    z.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match="expected Tensor, but hook '<lambda>' returned 'int'"):
        (z * 2).sum().backward()


# -- clip_grad_norm_ / clip_grad_value_ ------------------------------------------------------

def _params():
    a = nc.zeros(2, 3, requires_grad=True)
    b = nc.zeros(3, requires_grad=True)
    c = nc.zeros(2, requires_grad=True)          # no gradient: skipped
    a.grad = nc.tensor([[0.5, -1.0, 2.0], [3.0, -0.25, 1.5]])
    b.grad = nc.tensor([-2.0, 0.75, 1.0])
    return a, b, c


@pytest.mark.parametrize("norm_type, max_norm, total, a_grad, b_grad", [
    (2.0, 1.0, 4.703721523284912,
     [[0.1062987893819809, -0.2125975787639618, 0.4251951575279236],
      [0.637792706489563, -0.05314939469099045, 0.3188963532447815]],
     [-0.4251951575279236, 0.15944817662239075, 0.2125975787639618]),
    (math.inf, 1.0, 3.0,
     [[0.16666661202907562, -0.33333322405815125, 0.6666664481163025],
      [0.9999996423721313, -0.08333330601453781, 0.4999998211860657]],
     [-0.6666664481163025, 0.24999991059303284, 0.33333322405815125]),
    (1.0, 2.5, 12.0,
     [[0.1041666567325592, -0.2083333134651184, 0.4166666269302368],
      [0.6249999403953552, -0.0520833283662796, 0.3124999701976776]],
     [-0.4166666269302368, 0.1562499850988388, 0.2083333134651184]),
    (2.0, 100.0, 4.703721523284912,                 # below max_norm: unchanged
     [[0.5, -1.0, 2.0], [3.0, -0.25, 1.5]], [-2.0, 0.75, 1.0]),
])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm, total, a_grad, b_grad):
    a, b, c = _params()
    norm = utils.clip_grad_norm_(iter([a, b, c]), max_norm, norm_type=norm_type)
    assert isinstance(norm, nc.Tensor) and norm.ndim == 0 and norm.dtype == np.float32
    np.testing.assert_allclose(norm.item(), total, rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), a_grad, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), b_grad, rtol=1e-6)
    assert a.grad.dtype == np.float32 and c.grad is None


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_clip_grad_norm_edge_cases():
    assert utils.clip_grad_norm_([nc.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    a = nc.zeros(2, requires_grad=True)
    a.grad = nc.tensor([3.0, 4.0])
    assert utils.clip_grad_norm_(a, 10.0).item() == pytest.approx(5.0)   # a single Tensor
    a.grad = nc.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        utils.clip_grad_norm_(a, 1.0, error_if_nonfinite=True)
    assert a.grad.tolist() == [np.inf, 1.0]       # not scaled when it raises
    assert math.isinf(utils.clip_grad_norm_(a, 1.0).item())
    assert np.isnan(a.grad.numpy()[0]) and a.grad.numpy()[1] == 0   # scaled by 1/inf (torch)


def test_clip_grad_value_():
    a, b, c = _params()
    assert utils.clip_grad_value_([a, b, c], 1.0) is None
    assert a.grad.tolist() == [[0.5, -1.0, 1.0], [1.0, -0.25, 1.0]]
    assert b.grad.tolist() == [-1.0, 0.75, 1.0] and c.grad is None


# -- parameters_to_vector / vector_to_parameters ---------------------------------------------

def test_parameters_vector_round_trip():
    lin = nc.nn.Linear(3, 2)
    vec = utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,) and vec.requires_grad
    np.testing.assert_array_equal(
        vec.detach().numpy(), np.concatenate([lin.weight.data.ravel(), lin.bias.data]))
    vec.sum().backward()                         # differentiable, as in PyTorch
    assert lin.weight.grad.tolist() == [[1.0] * 3] * 2

    weight = lin.weight.data
    new = nc.arange(8, dtype=nc.float64)
    utils.vector_to_parameters(new, lin.parameters())
    assert lin.weight.data is weight and lin.weight.dtype == np.float32   # copied in place
    assert lin.weight.tolist() == [[0, 1, 2], [3, 4, 5]] and lin.bias.tolist() == [6, 7]
    with pytest.raises(TypeError, match="expected npconv.Tensor"):
        utils.vector_to_parameters(np.zeros(8), lin.parameters())
    with pytest.raises(ValueError, match="vec has 5 elements, but the parameters have 8"):
        utils.vector_to_parameters(nc.zeros(5), lin.parameters())


def test_exported_as_nn_utils():
    assert nc.nn.utils is utils and nc.nn.utils.clip_grad_norm_ is utils.clip_grad_norm_


def test_clip_grad_norm_per_dtype_as_pytorch():
    # values from torch 2.13: each gradient's norm in its own dtype (float16 overflows to
    # inf, and an inf total scales the gradients to 0), the total in the widest dtype
    from npconv.nn.utils import clip_grad_norm_
    p = nc.tensor(np.zeros(2, np.float16), requires_grad=True)
    p.grad = nc.tensor(np.array([60000.0, 60000.0], np.float16))
    total = clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float16 and np.isinf(total.item())
    assert p.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="non-finite"):
        p.grad = nc.tensor(np.array([60000.0, 60000.0], np.float16))
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    a = nc.tensor(np.zeros(2, np.float32), requires_grad=True)
    a.grad = nc.tensor(np.array([3.0, 4.0], np.float32))
    b = nc.tensor(np.zeros(1), requires_grad=True)
    b.grad = nc.tensor(np.array([12.0]))
    total = clip_grad_norm_([a, b], 1.0)
    assert total.dtype == np.float64 and total.item() == 13.0
    np.testing.assert_allclose(a.grad.data, [3 / 13, 4 / 13], rtol=1e-6)
    np.testing.assert_allclose(b.grad.data, [12 / 13], rtol=1e-6)
    assert a.grad.dtype == np.float32
