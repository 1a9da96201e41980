"""Layers: gradcheck (float64) of every layer with parameters through the module itself,
train/eval behaviour, shapes and equivalence with the functional forms."""
import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F


def module_gradcheck(m, x):
    """gradcheck ``m(x)`` w.r.t. x and every parameter of ``m``: the float64 copies that
    gradcheck makes are swapped into the module for the call."""
    m.double()
    names = [n for n, _ in m.named_parameters()]
    owners = []
    for n in names:
        prefix, _, leaf = n.rpartition(".")
        owners.append((m.get_submodule(prefix), leaf))
    originals = [o._parameters[leaf] for o, leaf in owners]

    def fn(x, *ps):
        for (owner, leaf), p in zip(owners, ps):
            owner._parameters[leaf] = p
        try:
            return m(x)
        finally:
            for (owner, leaf), p in zip(owners, originals):
                owner._parameters[leaf] = p
    params = [nc.tensor(p.data.copy(), requires_grad=True) for p in originals]
    return nc.gradcheck(fn, (x,) + tuple(params))


def x64(rng, *shape):
    return nc.tensor(rng.standard_normal(shape), requires_grad=True)


def test_gradcheck_linear(rng):
    module_gradcheck(nn.Linear(4, 3), x64(rng, 5, 4))
    module_gradcheck(nn.Linear(4, 3, bias=False), x64(rng, 5, 4))
    module_gradcheck(nn.Linear(4, 2), x64(rng, 2, 3, 4))        # extra leading axes
    module_gradcheck(nn.Linear(4, 2), x64(rng, 4))              # a single vector


def test_linear_forward_matches_numpy(rng):
    lin = nn.Linear(6, 3)
    x = rng.standard_normal((2, 5, 6)).astype(np.float32)
    y = lin(nc.tensor(x))
    ref = x @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-5, atol=1e-6)
    assert y.dtype == np.float32 and y.shape == (2, 5, 3)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        lin(nc.randn(2, 5))


@pytest.mark.parametrize("xshape", [(3,), (5, 3), (4, 2, 3), (0, 3)])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_with_a_1d_weight_drops_the_output_dim(rng, xshape, bias):
    # PyTorch: a weight of shape (in_features,) gives y = x @ w (+ a 0-d bias), of shape
    # x.shape[:-1]
    x, w, b = x64(rng, *xshape), x64(rng, 3), x64(rng) if bias else None
    y = F.linear(x, w, b)
    ref = x.detach().numpy() @ w.detach().numpy() + (b.item() if bias else 0.0)
    assert y.shape == xshape[:-1]
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12)
    inputs = (x, w, b) if bias else (x, w)
    assert nc.gradcheck(lambda *ts: F.linear(*ts), inputs)
    x32 = nc.tensor(x.detach().numpy().astype(np.float32))
    w32 = nc.tensor(w.detach().numpy().astype(np.float32), requires_grad=True)
    y32 = F.linear(x32, w32)
    y32.sum().backward()
    assert y32.dtype == np.float32 and w32.grad.dtype == np.float32


def test_linear_with_a_1d_weight_errors():
    x, w = nc.ones(2, 3), nc.ones(3)
    with pytest.raises(RuntimeError, match=r"with a 1-D weight, bias must be 0-d .*got shape "
                                           r"\(1,\)"):
        F.linear(x, w, nc.ones(1))
    with pytest.raises(RuntimeError, match=r"expected input's last dimension 3"):
        F.linear(nc.ones(2, 4), w)
    with pytest.raises(RuntimeError, match="expected input and weight to have the same dtype"):
        F.linear(x, w.double())
    with pytest.raises(RuntimeError, match=r"weight must be 2-D \(out_features, in_features\) "
                                           r"or 1-D \(in_features,\), got shape \(\)"):
        F.linear(x, nc.tensor(1.0))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(groups=2, bias=False),
                                dict(dilation=2, padding=2)])
def test_gradcheck_conv2d(rng, kw):
    module_gradcheck(nn.Conv2d(4, 6, 3, **kw), x64(rng, 2, 4, 6, 6))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(groups=2, bias=False)])
def test_gradcheck_conv_transpose2d(rng, kw):
    module_gradcheck(nn.ConvTranspose2d(4, 2, 3, **kw), x64(rng, 2, 4, 3, 3))


def test_conv_layers_call_functional(rng):
    conv = nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=1)
    x = nc.tensor(rng.standard_normal((2, 3, 7, 6)).astype(np.float32))
    y = conv(x)
    ref = F.conv2d(x, conv.weight, conv.bias, (2, 1), (1, 1))
    np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy())
    assert y.shape == (2, 5, 4, 7) and y.dtype == np.float32
    up = nn.ConvTranspose2d(5, 3, 4, stride=2, padding=1)
    assert up(y).shape == (2, 3, 8, 14)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 4, 3, groups=2)
    # PyTorch's other modes are refused, not silently replaced by zero padding
    with pytest.raises(NotImplementedError, match="padding_mode='reflect' is not implemented"):
        nn.Conv2d(3, 3, 3, padding_mode="reflect")


@pytest.mark.parametrize("cls", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_gradcheck_batchnorm_modules(rng, cls):
    shape = (4, 3) if cls is nn.BatchNorm1d else (2, 3, 3, 2)
    bn = cls(3)
    with nc.no_grad():
        bn.weight.copy_(nc.tensor(rng.uniform(0.5, 2, 3)))
        bn.bias.copy_(nc.tensor(rng.standard_normal(3)))
    module_gradcheck(bn, x64(rng, *shape))
    bn.eval()
    module_gradcheck(bn, x64(rng, *shape))


def test_gradcheck_small_cnn(rng):
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.LeakyReLU(0.1),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(12, 2), nn.Tanh())
    module_gradcheck(net, x64(rng, 3, 2, 4, 4))


def test_activation_layers(rng):
    x = nc.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    a = x.numpy()
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(a, 0))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).numpy(), np.where(a > 0, a, 0.2 * a),
                               rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-a)), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(a), rtol=1e-6)
    sm = nn.Softmax(dim=1)(x).numpy()
    np.testing.assert_allclose(sm.sum(1), 1, rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).numpy(), np.log(sm), atol=1e-6)
    for m in (nn.ReLU(), nn.LeakyReLU(), nn.Sigmoid(), nn.Tanh()):
        assert m(x).dtype == np.float32 and list(m.parameters()) == []
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    nc.gradcheck(lambda t: F.leaky_relu(t, 0.3), (x64(rng, 3, 4),))
    nc.gradcheck(lambda t: F.log_softmax(t, dim=0), (x64(rng, 3, 4),))


def test_dropout_active_only_in_training(rng):
    d = nn.Dropout(0.25)
    x = nc.ones(200, 100)
    y = d(x).numpy()
    kept = y != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert y.dtype == np.float32
    d.eval()
    assert d(x) is x
    d.train()
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    net.eval()
    x = nc.randn(4, 3)
    np.testing.assert_array_equal(net(x).detach().numpy(), net(x).detach().numpy())
    assert repr(d) == "Dropout(p=0.25, inplace=False)"


def test_pooling_layers(rng):
    x = nc.tensor(rng.standard_normal((2, 3, 8, 6)).astype(np.float32))
    a = x.numpy()
    mp = nn.MaxPool2d(2)(x)
    np.testing.assert_array_equal(mp.numpy(), a.reshape(2, 3, 4, 2, 3, 2).max((3, 5)))
    ap = nn.AvgPool2d(2)(x)
    np.testing.assert_allclose(ap.numpy(), a.reshape(2, 3, 4, 2, 3, 2).mean((3, 5)),
                               rtol=1e-6)
    assert nn.MaxPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 4, 3)
    assert nn.AvgPool2d(3, 1, 1)(x).shape == (2, 3, 8, 6)
    g = nn.GlobalAvgPool2d()(x)
    np.testing.assert_allclose(g.numpy().reshape(2, 3), a.mean((2, 3)), rtol=1e-5)
    ad = nn.AdaptiveAvgPool2d((2, 3))(x)
    np.testing.assert_allclose(ad.numpy(), a.reshape(2, 3, 2, 4, 3, 2).mean((3, 5)),
                               rtol=1e-6)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy(), g.numpy(), rtol=1e-6)
    v, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert v.shape == idx.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(nn.AvgPool2d(2, divisor_override=3)(x).numpy(),
                               a.reshape(2, 3, 4, 2, 3, 2).sum((3, 5)) / 3, rtol=1e-6)
