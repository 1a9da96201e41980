"""dropout: inverted scaling, p edge cases, seeding, gradient."""
import numpy as np
import pytest

import npconv as nc
import npconv.nn.functional as F


def test_dropout_scales_survivors_and_keeps_the_mean():
    x = nc.tensor(np.ones((200, 500), np.float32), requires_grad=True)
    y = F.dropout(x, 0.3)
    vals = np.unique(y.data)
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(float((y.data == 0).mean()) - 0.3) < 0.01
    assert abs(float(y.data.mean()) - 1.0) < 0.02
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, y.data)   # the gradient is the same mask


def test_dropout_p_edges():
    x = nc.tensor(np.arange(1, 13, dtype=np.float32).reshape(3, 4), requires_grad=True)
    y = F.dropout(x, 1.0)
    assert not np.isnan(y.data).any() and (y.data == 0).all()
    y.sum().backward()
    assert (x.grad.data == 0).all()
    np.testing.assert_array_equal(F.dropout(x, 0.0).data, x.data)
    assert F.dropout(x, 0.5, training=False) is x
    for p in (-0.1, 1.5, float("nan"), "0.5", True):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, p)


def test_dropout_follows_manual_seed():
    x = nc.tensor(np.ones((50, 50), np.float32))
    nc.manual_seed(7)
    a = F.dropout(x, 0.5).data
    b = F.dropout(x, 0.5).data
    nc.manual_seed(7)
    c = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, c)
    assert (a != b).any()


def test_dropout_gradcheck():
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def fn(x):
        nc.manual_seed(3)       # the same mask for every evaluation
        return F.dropout(x, 0.4)
    assert nc.gradcheck(fn, (x,))


def test_dropout_on_standin_device():
    from devices import STANDIN, to_host
    x = nc.ones(64, 64).to(STANDIN).detach().requires_grad_(True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    yh, gh = to_host(y.data), to_host(x.grad.data)
    np.testing.assert_array_equal(yh, gh)
    assert set(np.unique(yh)) <= {0.0, np.float32(1 / 0.75)}
