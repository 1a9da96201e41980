"""BatchNorm1d/2d: batch statistics, running statistics, eval mode, fused backward."""
import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F


def test_training_forward_and_running_stats(rng):
    bn = nn.BatchNorm2d(3, momentum=0.2)
    x = rng.standard_normal((4, 3, 5, 6)).astype(np.float32) * 2 + 1
    y = bn(nc.tensor(x))
    mean = x.mean((0, 2, 3))
    var = x.var((0, 2, 3))
    ref = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), ref, atol=1e-5)
    n = 4 * 5 * 6
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.8 + 0.2 * var * n / (n - 1),
                               rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    assert bn.running_mean.dtype == np.float32 and y.dtype == np.float32
    bn(nc.tensor(x))
    assert bn.num_batches_tracked.item() == 2
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.8 * 0.2 * mean + 0.2 * mean,
                               rtol=1e-5)


def test_eval_uses_running_stats(rng):
    bn = nn.BatchNorm1d(4)
    with nc.no_grad():
        bn.weight.copy_(nc.tensor([1.0, 2.0, 3.0, 4.0]))
        bn.bias.copy_(nc.tensor([0.5, 0.0, -1.0, 2.0]))
        bn.running_mean.copy_(nc.tensor([1.0, -1.0, 0.0, 2.0]))
        bn.running_var.copy_(nc.tensor([4.0, 1.0, 0.25, 9.0]))
    bn.eval()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = bn(nc.tensor(x)).detach().numpy()
    ref = (x - [1, -1, 0, 2]) / np.sqrt(np.array([4, 1, 0.25, 9]) + 1e-5) * [1, 2, 3, 4] \
        + [0.5, 0, -1, 2]
    np.testing.assert_allclose(y, ref, rtol=1e-5)
    before = bn.running_mean.numpy().copy()
    bn(nc.tensor(x))
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    assert bn.num_batches_tracked.item() == 0
    # a single sample is fine in eval mode, an error in training mode
    assert bn(nc.randn(1, 4)).shape == (1, 4)
    bn.train()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(nc.randn(1, 4))


def test_batchnorm1d_3d_input_and_dim_checks(rng):
    bn = nn.BatchNorm1d(3)
    x = rng.standard_normal((4, 3, 7)).astype(np.float32)
    y = bn(nc.tensor(x)).detach().numpy()
    m, v = x.mean((0, 2)), x.var((0, 2))
    np.testing.assert_allclose(y, (x - m[:, None]) / np.sqrt(v[:, None] + 1e-5), atol=1e-5)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(nc.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(nc.randn(2, 3))
    # PyTorch's type and wording (F.batch_norm checks the running statistics first)
    with pytest.raises(RuntimeError, match=r"^running_mean should contain 4 elements not 3 "
                                           r"\(one per channel of the input, of shape "
                                           r"\(2, 4, 2, 2\)"):
        nn.BatchNorm2d(3)(nc.randn(2, 4, 2, 2))


def test_momentum_none_is_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [rng.standard_normal((5, 2)).astype(np.float32) for _ in range(3)]
    for x in xs:
        bn(nc.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var(0, ddof=1) for x in xs], 0), rtol=1e-5)


def test_no_affine_no_tracking(rng):
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    bn.eval()                    # without running stats, eval still uses batch statistics
    x = rng.standard_normal((3, 2, 2, 2))
    y = bn(nc.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y.mean((0, 2, 3)), 0, atol=1e-6)


def test_state_dict_layout_matches_pytorch():
    bn = nn.BatchNorm2d(5)
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [sd[k].shape for k in sd] == [(5,), (5,), (5,), (5,), ()]
    assert sd["num_batches_tracked"].dtype == np.int64
    nb = nn.BatchNorm2d(5, bias=False)      # PyTorch 2.13's keyword-only bias flag
    assert list(nb.state_dict()) == ["weight", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert nb(nc.randn(2, 5, 2, 2)).shape == (2, 5, 2, 2)


def test_load_state_dict_without_num_batches_tracked():
    # checkpoints from before the buffer: it is not reported missing and the count is kept,
    # as PyTorch does for a state dict without version metadata
    src = nn.Sequential(nn.BatchNorm1d(2))
    src[0].running_mean.data[:] = [1.0, 2.0]
    old = {k: v for k, v in src.state_dict().items() if k != "0.num_batches_tracked"}
    dst = nn.Sequential(nn.BatchNorm1d(2))
    dst[0].num_batches_tracked.data[...] = 4
    res = dst.load_state_dict(old)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert "0.num_batches_tracked" not in old                   # the caller's dict untouched
    assert int(dst[0].num_batches_tracked.item()) == 4
    np.testing.assert_array_equal(dst[0].running_mean.numpy(), [1.0, 2.0])
    assert dst.load_state_dict(old, strict=False).missing_keys == []
    # without running statistics there is nothing to fill in
    plain = nn.BatchNorm1d(2, track_running_stats=False)
    plain.load_state_dict({"weight": np.ones(2), "bias": np.zeros(2)})


@pytest.mark.parametrize("count", [np.array(3), np.array([3])])
def test_load_num_batches_tracked_0d_or_1_element(count):
    # a 0-d buffer accepts a shape-(1,) entry (PyTorch's rule for pre-0.4 checkpoints)
    bn = nn.BatchNorm1d(2)
    sd = dict(bn.state_dict(), num_batches_tracked=count)
    bn.load_state_dict(sd)
    assert bn.num_batches_tracked.shape == () and int(bn.num_batches_tracked.item()) == 3
    with pytest.raises(RuntimeError, match="size mismatch for num_batches_tracked"):
        bn.load_state_dict(dict(sd, num_batches_tracked=np.array([[3]])))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 5), (2, 3, 3, 4)])
def test_gradcheck_training(rng, shape):
    x = nc.tensor(rng.standard_normal(shape), requires_grad=True)
    w = nc.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = nc.tensor(rng.standard_normal(3), requires_grad=True)
    nc.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                 (x, w, b))
    nc.gradcheck(lambda x: F.batch_norm(x, None, None, None, None, training=True), (x,))


def test_gradcheck_eval(rng):
    x = nc.tensor(rng.standard_normal((3, 2, 2, 3)), requires_grad=True)
    w = nc.tensor(rng.uniform(0.5, 2, 2), requires_grad=True)
    b = nc.tensor(rng.standard_normal(2), requires_grad=True)
    rm, rv = nc.tensor(rng.standard_normal(2)), nc.tensor(rng.uniform(0.5, 2, 2))
    nc.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (5, 3)), (nn.BatchNorm2d, (2, 3, 2, 2))])
def test_gradcheck_module_float64(rng, cls, shape):
    bn = cls(3).double()
    with nc.no_grad():
        bn.weight.copy_(nc.tensor(rng.uniform(0.5, 2, 3)))
        bn.bias.copy_(nc.tensor(rng.standard_normal(3)))
    x = nc.tensor(rng.standard_normal(shape), requires_grad=True)
    nc.gradcheck(lambda x: bn(x), (x,))
    bn.eval()
    nc.gradcheck(lambda x: bn(x), (x,))


def test_module_parameter_gradients_match_functional(rng):
    bn = nn.BatchNorm2d(3).double()
    x = nc.tensor(rng.standard_normal((2, 3, 4, 4)), requires_grad=True)
    g = rng.standard_normal((2, 3, 4, 4))
    bn(x).backward(nc.tensor(g))
    w = nc.tensor(np.ones(3), requires_grad=True)
    b = nc.tensor(np.zeros(3), requires_grad=True)
    F.batch_norm(x, None, None, w, b, training=True).backward(nc.tensor(g))
    np.testing.assert_allclose(bn.weight.grad.numpy(), w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.bias.grad.numpy(), g.sum((0, 2, 3)), rtol=1e-12)
