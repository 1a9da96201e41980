"""The index-gradient scatter avoids ``add.at`` in the common cases (one integer array on
the leading axis, several on the leading axes, a boolean mask) and stays exact with
duplicates and negative indices."""
import numpy as np
import pytest

import npconv as nc
from npconv.ops.indexing import scatter_add


class _NoAddAt:
    """An array module like NumPy whose ``add`` has no ``at``: any use of it fails."""

    class _Add:
        reduceat = staticmethod(np.add.reduceat)

        def at(self, *a):
            raise AssertionError("add.at used in a hot case")

    add = _Add()

    def __getattr__(self, name):
        return getattr(np, name)


@pytest.mark.parametrize("shape,index", [
    ((10, 4), np.array([3, 1, 7])),                        # unique: plain assignment
    ((10, 4), np.array([3, 3, -7, 1, 3])),                 # duplicates (-7 == 3): reduceat
    ((10,), np.array([9, 9, 0, -1])),                      # one column: bincount
    ((5, 6), (np.arange(5), np.array([1, 1, 0, 5, 5]))),   # cross-entropy style pick
    ((5, 6), (np.array([0, 0, 4]), np.array([2, 2, -1]))), # repeated pairs
    ((4, 3, 2), (np.array([1, 1]), slice(None))),          # trailing full slice
    ((4, 3), np.array([True, False, True, True])),          # mask
    ((50, 3), np.array([[1, 2], [2, 49]])),                # 2-D index array, sparse rows
])
def test_scatter_add_without_add_at_matches_reference(shape, index):
    rng = np.random.default_rng(0)
    out_shape = np.zeros(shape)[index].shape
    g = rng.standard_normal(out_shape)
    got = scatter_add(_NoAddAt(), np.zeros(shape), index, g)
    ref = np.zeros(shape)
    np.add.at(ref, index, g)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_scatter_add_falls_back_to_add_at_for_other_indices():
    index = (slice(None), np.array([2, 2, 0]))
    g = np.ones((4, 3))
    got = scatter_add(np, np.zeros((4, 3)), index, g)
    np.testing.assert_array_equal(got, [[1, 0, 2]] * 4)


def test_embedding_style_gradient_float32():
    w = nc.randn(100, 8, requires_grad=True)
    idx = nc.tensor(np.array([5, 5, 5, 99, 0, 5]))
    w[idx].sum().backward()
    assert w.grad.dtype == np.float32
    assert w.grad[5].tolist() == [4.0] * 8 and w.grad[99].tolist() == [1.0] * 8
    assert w.grad.sum().item() == 6 * 8
