"""Layer modules and nn.init cross-checked against PyTorch (skipped without torch): BatchNorm
values, gradients and buffers in every mode, reprs, error types, activations, init bounds."""
import math

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.nn import init

torch = pytest.importorskip("torch")


def _error(fn):
    try:
        fn()
    except Exception as e:          # noqa: BLE001 - the type is what is compared
        return type(e)
    return None


@pytest.mark.parametrize("kw", [dict(), dict(momentum=None), dict(affine=False),
                                dict(track_running_stats=False), dict(eps=0.1, momentum=0.3),
                                dict(bias=False),
                                dict(affine=False, track_running_stats=False)])
@pytest.mark.parametrize("dim,shape", [(1, (6, 3)), (1, (4, 3, 5)), (2, (4, 3, 5, 6))])
def test_batchnorm_matches_torch(rng, kw, dim, shape):
    t = getattr(torch.nn, "BatchNorm%dd" % dim)(3, **kw)
    n = getattr(nn, "BatchNorm%dd" % dim)(3, **kw)
    assert repr(n) == repr(t)
    if t.weight is not None:
        w = rng.uniform(0.5, 2, 3).astype(np.float32)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(w))
        n.weight.data[...] = w
    if t.bias is not None:
        b = rng.standard_normal(3).astype(np.float32)
        with torch.no_grad():
            t.bias.copy_(torch.from_numpy(b))
        n.bias.data[...] = b
    for mode in (True, True, False, True, False):
        t.train(mode)
        n.train(mode)
        x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        tx, nx = torch.from_numpy(x).requires_grad_(), nc.tensor(x, requires_grad=True)
        ty, ny = t(tx), n(nx)
        ty.backward(torch.from_numpy(g))
        ny.backward(nc.tensor(g))
        assert ny.dtype == np.float32 and nx.grad.dtype == np.float32
        np.testing.assert_allclose(ny.detach().numpy(), ty.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
        for name, p in t.named_parameters():
            np.testing.assert_allclose(getattr(n, name).grad.numpy(), p.grad.numpy(),
                                       rtol=1e-4, atol=1e-4, err_msg=name)
            p.grad = None
            getattr(n, name).grad = None
        tsd, nsd = t.state_dict(), n.state_dict()
        assert list(tsd) == list(nsd)
        for k in tsd:
            np.testing.assert_allclose(nsd[k].numpy(), tsd[k].numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=k)
            assert str(tsd[k].dtype)[6:] == nsd[k].dtype.name


@pytest.mark.parametrize("shape", [(1, 3, 1, 1), (0, 3, 2, 2), (2, 4, 2, 2), (2, 3, 4),
                                   (2, 3)])
@pytest.mark.parametrize("kw", [dict(), dict(track_running_stats=False),
                                dict(affine=False, track_running_stats=False)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_errors_match_torch(shape, kw, training):
    t = torch.nn.BatchNorm2d(3, **kw).train(training)
    n = nn.BatchNorm2d(3, **kw).train(training)
    assert _error(lambda: n(nc.randn(*shape))) is _error(lambda: t(torch.randn(*shape)))


def test_batchnorm_dtype_errors_match_torch():
    for make_t, make_n in [(lambda: torch.randn(2, 3, dtype=torch.float64),
                            lambda: nc.randn(2, 3, dtype=np.float64)),
                           (lambda: torch.ones(2, 3, dtype=torch.int64),
                            lambda: nc.ones(2, 3, dtype=np.int64))]:
        assert _error(lambda: nn.BatchNorm1d(3)(make_n())) is \
            _error(lambda: torch.nn.BatchNorm1d(3)(make_t()))


@pytest.mark.parametrize("expr", [
    "Dropout()", "Dropout(0.2, inplace=True)", "ReLU()", "ReLU(True)", "LeakyReLU()",
    "LeakyReLU(0.2, True)", "Sigmoid()", "Tanh()", "Softmax()", "Softmax(dim=1)",
    "LogSoftmax(-1)", "Linear(3, 4)", "Linear(3, 4, bias=False)", "Identity()", "Flatten()",
    "Flatten(0, 2)", "Conv2d(1, 8, 3, padding=1, bias=False)",
    "Conv2d(2, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=2)",
    "Conv2d(2, 8, 3, padding='same', dilation=2)", "Conv2d(2, 8, 3, padding='valid')",
    "ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False)",
    "ConvTranspose2d(4, 2, 3, dilation=2)", "MaxPool2d(2)", "MaxPool2d((2, 3), (1, 2), 1, 2)",
    "MaxPool2d(2, ceil_mode=True, return_indices=True)", "AvgPool2d(3, 2, 1)",
    "AvgPool2d(2, ceil_mode=True, count_include_pad=False, divisor_override=2)",
    "AdaptiveAvgPool2d(1)", "AdaptiveAvgPool2d((2, 3))", "BatchNorm1d(4, momentum=None)",
])
def test_module_repr_matches_torch(expr):
    assert repr(eval("nn." + expr)) == repr(eval("torch.nn." + expr))


@pytest.mark.parametrize("expr", [
    "Dropout(1.5)", "Dropout(-0.1)", "Conv2d(2, 8, 3, padding_mode='bogus')",
    "ConvTranspose2d(4, 2, 3, padding_mode='reflect')", "Conv2d(2, 8, 3, groups=0)",
    "Conv2d(3, 8, 3, groups=2)", "Conv2d(4, 6, 3, groups=4)", "Linear(3.5, 2)",
    "Linear(-1, 2)", "BatchNorm2d(2.5)", "BatchNorm2d(-1)",
    "Conv2d(2, 8, 3, stride=2, padding='same')", "Conv2d(2, 8, 3, padding='foo')",
])
def test_constructor_error_types_match_torch(expr):
    te = _error(lambda: eval("torch.nn." + expr))
    assert te is not None and _error(lambda: eval("nn." + expr)) is te


@pytest.mark.parametrize("name,args", [("ReLU", ()), ("LeakyReLU", ()), ("LeakyReLU", (0.3,)),
                                       ("Sigmoid", ()), ("Tanh", ()), ("Softmax", (1,)),
                                       ("Softmax", (0,)), ("LogSoftmax", (-1,)),
                                       ("LogSoftmax", (1,))])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_activations_match_torch(rng, name, args, shape):
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    tx, nx = torch.from_numpy(x).requires_grad_(), nc.tensor(x, requires_grad=True)
    ty, ny = getattr(torch.nn, name)(*args)(tx), getattr(nn, name)(*args)(nx)
    ty.backward(torch.from_numpy(g))
    ny.backward(nc.tensor(g))
    assert ny.dtype == np.float32 and nx.grad.dtype == np.float32
    np.testing.assert_allclose(ny.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (5,), (2, 3, 2, 2)])
def test_softmax_implicit_dim_matches_torch(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning) as tw:
        ty = torch.nn.Softmax()(torch.from_numpy(x))
    with pytest.warns(UserWarning) as nw:
        ny = nn.Softmax()(nc.tensor(x))
    assert str(nw[0].message) == str(tw[0].message)
    np.testing.assert_allclose(ny.numpy(), ty.numpy(), rtol=1e-5, atol=1e-7)


def test_init_formulas_match_torch():
    fans = [(torch.zeros(7, 3), nc.zeros(7, 3)), (torch.zeros(8, 4, 3, 5), nc.zeros(8, 4, 3, 5)),
            (torch.zeros(6, 2, 3), nc.zeros(6, 2, 3))]
    for t, n in fans:
        assert init._calculate_fan_in_and_fan_out(n) == \
            torch.nn.init._calculate_fan_in_and_fan_out(t)
    for name in ("linear", "conv2d", "conv_transpose2d", "sigmoid", "tanh", "relu", "selu",
                 "leaky_relu"):
        assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name)
    for p in (None, 0, 0.2, math.sqrt(5), 3):
        assert init.calculate_gain("leaky_relu", p) == \
            torch.nn.init.calculate_gain("leaky_relu", p)
    for bad in [lambda m, z: m.init.calculate_gain("gelu"),
                lambda m, z: m.init.calculate_gain("leaky_relu", "x"),
                lambda m, z: m.init.kaiming_uniform_(z(3, 3), mode="fan_avg")]:
        te = _error(lambda: bad(torch.nn, torch.zeros))
        assert te is ValueError and _error(lambda: bad(nn, nc.zeros)) is te
    for fn in ("xavier_uniform_", "kaiming_normal_"):
        assert _error(lambda: getattr(init, fn)(nc.zeros(5))) is \
            _error(lambda: getattr(torch.nn.init, fn)(torch.zeros(5)))
    assert _error(lambda: init.uniform_(nc.zeros(3), 2, 1)) is \
        _error(lambda: torch.nn.init.uniform_(torch.zeros(3), 2, 1))
    assert _error(lambda: init.normal_(nc.zeros(3), 0, -1)) is \
        _error(lambda: torch.nn.init.normal_(torch.zeros(3), 0, -1))


@pytest.mark.parametrize("fn,kw", [
    ("xavier_uniform_", dict(gain=1.5)), ("xavier_normal_", dict()),
    ("kaiming_uniform_", dict(a=math.sqrt(5))), ("kaiming_uniform_", dict(mode="fan_out")),
    ("kaiming_normal_", dict(nonlinearity="relu")),
    ("kaiming_normal_", dict(a=0.3, mode="fan_out")),
    ("trunc_normal_", dict(std=0.02)), ("uniform_", dict(a=-0.5, b=2.0)),
    ("normal_", dict(mean=1.0, std=0.3)),
])
def test_init_distributions_match_torch(fn, kw):
    """Same shape, same arguments: the samples' range and spread agree with torch's (to
    the sampling noise of 60000 values: a wrong fan, gain or bound is off by far more)."""
    shape = (60, 40, 5, 5)
    torch.manual_seed(0)
    t = getattr(torch.nn.init, fn)(torch.zeros(shape), **kw).numpy().astype(np.float64)
    n = getattr(init, fn)(nc.zeros(*shape), **kw).numpy().astype(np.float64)
    assert abs(n.std() - t.std()) < 0.02 * t.std()
    assert abs(n.mean() - t.mean()) < 0.02 * t.std() + 1e-12
    if "uniform" in fn:                           # bounded: the same bound
        assert abs(np.abs(n).max() - np.abs(t).max()) < 0.01 * np.abs(t).max()


@pytest.mark.parametrize("make", [lambda m: m.Linear(300, 200), lambda m: m.Conv2d(16, 300, 3),
                                  lambda m: m.Conv2d(16, 300, (3, 1), groups=4),
                                  lambda m: m.ConvTranspose2d(32, 300, 2)])
def test_default_layer_init_matches_torch(make):
    torch.manual_seed(0)
    t, n = make(torch.nn), make(nn)
    for name in ("weight", "bias"):
        tv = getattr(t, name).detach().numpy().astype(np.float64)
        nv = getattr(n, name).detach().numpy().astype(np.float64)
        assert nv.shape == tv.shape and getattr(n, name).dtype == np.float32
        bound = np.abs(tv).max()          # ~ 1 / sqrt(fan_in), reached by either
        assert np.abs(nv).max() <= bound * 1.02 and np.abs(nv).max() > 0.95 * bound
        assert abs(nv.std() - tv.std()) < 0.1 * tv.std()
