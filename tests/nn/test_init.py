"""nn.init: gains, fans, distributions, reproducibility; PyTorch's default layer init."""
import math

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.nn import init


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "x")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(nc.zeros(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(nc.zeros(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(nc.zeros(5))


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


def test_uniform_normal_constant_in_place_float32():
    t = nn.Parameter(nc.zeros(200, 300))
    data = t.data
    assert init.uniform_(t, -2.0, 3.0) is t and t.data is data and t.dtype == np.float32
    lo, hi, mean, std = _stats(t)
    assert -2 <= lo and hi < 3 and abs(mean - 0.5) < 0.03 and abs(std - 5 / math.sqrt(12)) < 0.02
    init.normal_(t, 1.0, 0.5)
    _, _, mean, std = _stats(t)
    assert abs(mean - 1.0) < 0.01 and abs(std - 0.5) < 0.01 and t.dtype == np.float32
    init.constant_(t, 0.25)
    assert np.all(t.detach().numpy() == 0.25)
    init.zeros_(t)
    assert not t.detach().numpy().any()
    init.ones_(t)
    assert np.all(t.detach().numpy() == 1)
    d = nc.zeros(3, 3, dtype=np.float64)
    init.normal_(d)
    assert d.dtype == np.float64
    init.eye_(d)
    np.testing.assert_array_equal(d.numpy(), np.eye(3))
    with pytest.raises(TypeError):
        init.normal_(nc.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(mode):
    t = nc.zeros(256, 64, 3, 3)
    fan = 64 * 9 if mode == "fan_in" else 256 * 9
    init.kaiming_uniform_(t, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    lo, hi, _, std = _stats(t)
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    assert abs(std - math.sqrt(2 / fan)) < 0.02 * math.sqrt(2 / fan)
    init.kaiming_normal_(t, a=0.1, mode=mode)
    _, _, mean, std = _stats(t)
    ref = init.calculate_gain("leaky_relu", 0.1) / math.sqrt(fan)
    assert abs(std - ref) < 0.02 * ref and abs(mean) < 0.02 * ref
    with pytest.raises(ValueError):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_xavier():
    t = nc.zeros(300, 200)
    init.xavier_uniform_(t, gain=2.0)
    a = 2.0 * math.sqrt(6 / 500)
    lo, hi, _, std = _stats(t)
    assert -a <= lo and hi <= a and hi > 0.99 * a
    init.xavier_normal_(t)
    _, _, _, std = _stats(t)
    assert abs(std - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)


def test_manual_seed_controls_init():
    nc.manual_seed(123)
    a = nn.Linear(5, 4)
    nc.manual_seed(123)
    b = nn.Linear(5, 4)
    nc.manual_seed(124)
    c = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert not np.array_equal(a.weight.detach().numpy(), c.weight.detach().numpy())


@pytest.mark.parametrize("make,fan_in", [
    (lambda: nn.Linear(400, 300), 400),
    (lambda: nn.Conv2d(32, 64, 3), 32 * 9),
    (lambda: nn.Conv2d(32, 64, (3, 5), groups=4), 8 * 15),
    (lambda: nn.ConvTranspose2d(32, 64, 4), 64 * 16),     # fan_in from weight dim 1, as torch
])
def test_default_layer_init_matches_pytorch(make, fan_in):
    """PyTorch: weight kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)); bias
    U(+-1/sqrt(fan_in))."""
    m = make()
    bound = 1 / math.sqrt(fan_in)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.8 * bound


def test_layer_shapes_match_pytorch_layouts():
    assert nn.Linear(3, 5).weight.shape == (5, 3)
    assert nn.Conv2d(4, 6, (3, 2), groups=2).weight.shape == (6, 2, 3, 2)
    assert nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    bn = nn.BatchNorm2d(7)
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(7))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(7))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(7))
    assert nn.Linear(3, 5, bias=False).bias is None
    assert nn.Linear(3, 5, dtype=np.float64).weight.dtype == np.float64


def _truncnorm_moments(mean, std, a, b):
    """Mean and standard deviation of N(mean, std^2) truncated to [a, b]."""
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)   # noqa: E731
    cdf = lambda z: 0.5 * math.erfc(-z / math.sqrt(2))               # noqa: E731
    al, be = (a - mean) / std, (b - mean) / std
    z = cdf(be) - cdf(al)
    d = (pdf(al) - pdf(be)) / z
    var = 1 + (al * pdf(al) - be * pdf(be)) / z - d * d
    return mean + std * d, std * math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b,dtype", [
    (0.0, 1.0, -2.0, 2.0, np.float32),         # the defaults
    (0.0, 0.02, -2.0, 2.0, np.float32),        # ViT style: bounds are absolute, far away
    (1.0, 2.0, 0.0, 1.0, np.float64),          # a narrow window left of the mean
    (0.0, 1.0, 5.0, 6.0, np.float64),          # far in the tail (PyTorch warns)
    (0.0, 1.0, -6.0, -5.0, np.float64),
])
def test_trunc_normal_(mean, std, a, b, dtype):
    t = nn.Parameter(nc.zeros(400, 500, dtype=dtype))
    data = t.data
    far = mean < a - 2 * std or mean > b + 2 * std
    if far:
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            init.trunc_normal_(t, mean, std, a, b)
    else:
        assert init.trunc_normal_(t, mean, std, a, b) is t
    assert t.data is data and t.dtype == dtype and t.grad_fn is None
    lo, hi, m, s = _stats(t)
    ref_mean, ref_std = _truncnorm_moments(mean, std, a, b)
    assert a <= lo and hi <= b
    assert abs(m - ref_mean) < 0.01 * ref_std and abs(s - ref_std) < 0.01 * ref_std


def test_trunc_normal_seeded_and_errors():
    nc.manual_seed(3)
    x = init.trunc_normal_(nc.zeros(50)).numpy().copy()
    nc.manual_seed(3)
    np.testing.assert_array_equal(init.trunc_normal_(nc.zeros(50)).numpy(), x)
    with pytest.raises(ValueError, match="expected a < b"):
        init.trunc_normal_(nc.zeros(3), a=1.0, b=-1.0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (6, 6), (4, 2, 3, 3), (40, 2, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_(shape, gain):
    t = nn.Parameter(nc.zeros(*shape))
    data = t.data
    assert init.orthogonal_(t, gain=gain) is t and t.data is data and t.dtype == np.float32
    w = t.detach().numpy().reshape(shape[0], -1).astype(np.float64)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w      # rows, else columns, orthonormal * gain
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-5 * gain ** 2)


def test_orthogonal_errors_and_empty():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(nc.zeros(4))
    e = nc.zeros(0, 3)
    assert init.orthogonal_(e) is e
    with pytest.raises(TypeError):
        init.orthogonal_(nc.zeros(3, 3, dtype=np.int64))
