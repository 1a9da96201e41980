"""Property tests over random shapes: broadcasting in the engine's one reduction place,
reductions over random dims, and the index scatter against np.add.at."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import npconv as nc
from npconv.testing import assert_gradcheck

SETTINGS = settings(max_examples=40, deadline=None)


def _leaf(shape, seed, low=-2.0, high=2.0):
    a = np.random.default_rng(seed).uniform(low, high, size=shape)
    return nc.tensor(a, dtype=nc.float64, requires_grad=True)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                max_side=3),
       op=st.sampled_from(["add", "sub", "mul", "div", "maximum"]),
       seed=st.integers(0, 2**16))
def test_broadcast_binary_ops_gradcheck(shapes, op, seed):
    sa, sb = shapes.input_shapes
    a = _leaf(sa, seed)
    b = _leaf(sb, seed + 1, 0.5, 2.0) if op == "div" else _leaf(sb, seed + 1)
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y, "maximum": nc.maximum}[op]
    out = fn(a, b)
    assert out.shape == shapes.result_shape
    assert_gradcheck(fn, (a, b))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4),
       data=st.data(), keepdim=st.booleans(),
       name=st.sampled_from(["sum", "mean", "amax", "var"]))
def test_reductions_over_random_dims(shape, data, keepdim, name):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda d: d % nd))
    dim = tuple(dims) if len(dims) > 1 else dims[0]
    x = _leaf(shape, len(dims))
    if name == "var":
        n = int(np.prod([shape[d] for d in dims]))
        fn = lambda t: t.var(dim=dim, keepdim=keepdim, unbiased=n > 1)  # noqa: E731
        ref = x.detach().numpy().var(axis=dim, keepdims=keepdim, ddof=1 if n > 1 else 0)
    else:
        fn = lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)  # noqa: E731
        npname = "max" if name == "amax" else name
        ref = getattr(x.detach().numpy(), npname)(axis=dim, keepdims=keepdim)
    out = fn(x)
    assert out.shape == np.shape(ref)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    assert_gradcheck(fn, (x,))


@SETTINGS
@given(rows=st.integers(1, 6), cols=st.integers(1, 3), trailing=st.integers(0, 2),
       n=st.integers(0, 12), seed=st.integers(0, 2**16), two=st.booleans())
def test_integer_index_scatter_matches_add_at(rows, cols, trailing, n, seed, two):
    rng = np.random.default_rng(seed)
    shape = (rows, cols) + (3,) * trailing
    x = nc.tensor(rng.standard_normal(shape), requires_grad=True)
    idx = rng.integers(-rows, rows, n)           # duplicates and negatives
    index = (idx, rng.integers(-cols, cols, n)) if two else idx
    y = x[index]
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy()[index])
    g = rng.standard_normal(y.shape)
    y.backward(nc.tensor(g))
    ref = np.zeros(shape)
    np.add.at(ref, index, g)
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), seed=st.integers(0, 99))
def test_reshape_permute_roundtrip_gradcheck(shape, seed):
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    x = _leaf(shape, seed)
    w = _leaf(tuple(shape[p] for p in perm), seed + 1).detach()
    fn = lambda t: (t.permute(*perm) * w).reshape(-1).unsqueeze(0)  # noqa: E731
    assert_gradcheck(fn, (x,))


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 5), (5, 1), (1, 1, 3)])
def test_batch_of_one_matmul_softmax_chain(shape):
    x = _leaf(shape, 0)
    w = _leaf((shape[-1], 4), 1)
    assert_gradcheck(lambda a, b: (a @ b).log_softmax(-1).sum(-1), (x, w))
