"""Layer modules and nn.init against written-out PyTorch behaviour (no torch needed): reprs,
constructor checks, BatchNorm's buffers and modes, error types and wording, init bounds."""
import math
import warnings

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F
from npconv.nn import init

from devices import STANDIN, on_devices, to_host


# --- BatchNorm -------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,text", [
    (dict(), "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
             "track_running_stats=True)"),
    (dict(momentum=None), "BatchNorm2d(3, eps=1e-05, momentum=None, affine=True, bias=True, "
                          "track_running_stats=True)"),
    (dict(affine=False), "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                         "track_running_stats=True)"),
    (dict(track_running_stats=False, eps=1e-3), "BatchNorm2d(3, eps=0.001, momentum=0.1, "
                                                "affine=True, bias=True, "
                                                "track_running_stats=False)"),
    (dict(bias=False), "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=False, "
                       "track_running_stats=True)"),
])
def test_batchnorm_repr(kw, text):
    assert repr(nn.BatchNorm2d(3, **kw)) == text
    assert repr(nn.BatchNorm1d(3, **kw)) == text.replace("BatchNorm2d", "BatchNorm1d")


def test_batchnorm_parameters_and_buffers_per_flag():
    def names(m):
        return ([n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()],
                list(m.state_dict()))
    stats = ["running_mean", "running_var", "num_batches_tracked"]
    assert names(nn.BatchNorm2d(2)) == (["weight", "bias"], stats, ["weight", "bias"] + stats)
    assert names(nn.BatchNorm2d(2, affine=False)) == ([], stats, stats)
    bn = nn.BatchNorm2d(2, track_running_stats=False)
    assert names(bn) == (["weight", "bias"], [], ["weight", "bias"])
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert names(bn) == ([], [], []) and bn.weight is None and bn.bias is None


def test_num_batches_tracked_counts_training_forwards_only(rng):
    bn = nn.BatchNorm2d(2)
    x = nc.tensor(rng.standard_normal((3, 2, 2, 2)).astype(np.float32))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    for k in range(1, 4):
        bn(x)
        assert int(bn.num_batches_tracked.item()) == k
    bn.eval()
    bn(x)
    assert int(bn.num_batches_tracked.item()) == 3
    assert int(bn.state_dict()["num_batches_tracked"].item()) == 3
    bn.train()
    bn(nc.zeros(0, 2, 2, 2))                 # an empty batch counts too, as in PyTorch
    assert int(bn.num_batches_tracked.item()) == 4


def test_momentum_none_cumulative_average_exact(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [rng.standard_normal((4, 2)).astype(np.float32) * (k + 1) + k for k in range(4)]
    for k, x in enumerate(xs, 1):
        bn(nc.tensor(x))
        # the running statistics are the plain means of the batch statistics so far
        np.testing.assert_allclose(bn.running_mean.numpy(),
                                   np.mean([a.mean(0) for a in xs[:k]], 0), rtol=1e-5)
        np.testing.assert_allclose(bn.running_var.numpy(),
                                   np.mean([a.var(0, ddof=1) for a in xs[:k]], 0), rtol=1e-5)
    # a fixed momentum would have weighted the first batch by 0.1 * 0.9 ** 3 instead of 1/4
    assert abs(bn.running_mean.numpy()[0] - xs[3].mean(0)[0]) > 0.5


def test_running_var_unbiased_normalisation_biased(rng):
    bn = nn.BatchNorm2d(1, momentum=1.0)         # momentum 1: the buffers are the batch's
    x = np.array([1.0, 2.0, 4.0, 9.0], np.float32).reshape(2, 1, 1, 2)
    y = bn(nc.tensor(x)).detach().numpy().ravel()
    assert bn.running_mean.numpy()[0] == pytest.approx(4.0)
    assert bn.running_var.numpy()[0] == pytest.approx(38 / 3, rel=1e-6)     # sum sq / (n - 1)
    np.testing.assert_allclose(y, (np.array([1, 2, 4, 9]) - 4) / math.sqrt(9.5 + 1e-5),
                               rtol=1e-6)                                    # var = 38 / 4


def test_eps_enters_the_normalisation():
    x = nc.tensor(np.array([0.0, 2.0], np.float32).reshape(2, 1))
    y = nn.BatchNorm1d(1, eps=3.0)(x).detach().numpy().ravel()
    np.testing.assert_allclose(y, [-1 / 2, 1 / 2], rtol=1e-6)            # 1 / sqrt(1 + 3)
    bn = nn.BatchNorm1d(1, eps=3.0).eval()                               # rv 1, rm 0
    np.testing.assert_allclose(bn(x).detach().numpy().ravel(), [0.0, 1.0], rtol=1e-6)


def test_track_running_stats_false_uses_batch_statistics_in_eval():
    bn = nn.BatchNorm1d(1, track_running_stats=False).eval()
    x = nc.tensor(np.array([[1.0], [3.0]], np.float32))
    np.testing.assert_allclose(bn(x).detach().numpy().ravel(),
                               np.array([-1.0, 1.0]) / math.sqrt(1 + 1e-5), rtol=1e-6)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(nc.ones(1, 1))


def test_training_with_one_value_per_channel_is_pytorchs_error():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"^Expected more than 1 value per channel when "
                                         r"training, got input size \(1, 3, 1, 1\)$"):
        bn(nc.randn(1, 3, 1, 1))
    assert bn.eval()(nc.randn(1, 3, 1, 1)).shape == (1, 3, 1, 1)
    bn.train()
    assert bn(nc.randn(2, 3, 1, 1)).shape == (2, 3, 1, 1)
    assert bn(nc.randn(1, 3, 1, 2)).shape == (1, 3, 1, 2)


def test_empty_batch_gives_empty_output_and_zero_gradients():
    bn = nn.BatchNorm2d(3)
    x = nc.zeros(0, 3, 2, 2, requires_grad=True)
    y = bn(x)
    assert y.shape == (0, 3, 2, 2) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 3, 2, 2)
    np.testing.assert_array_equal(bn.weight.grad.numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(bn.bias.grad.numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(3))    # untouched
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(3))


def test_batchnorm_input_errors():
    with pytest.raises(ValueError, match=r"^expected 4D input \(got 3D input\)$"):
        nn.BatchNorm2d(3)(nc.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"^expected 2D or 3D input \(got 4D input\)$"):
        nn.BatchNorm1d(3)(nc.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"^running_mean should contain 4 elements not 3"):
        nn.BatchNorm1d(3)(nc.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"^weight should contain 4 elements not 3"):
        nn.BatchNorm1d(3, track_running_stats=False)(nc.randn(2, 4))
    # nothing per channel to check against: any channel count goes, as in PyTorch
    bare = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert bare(nc.randn(2, 4)).shape == (2, 4)
    with pytest.raises(RuntimeError, match="expected running_mean to have the input's dtype "
                                           "float64, but got float32"):
        nn.BatchNorm1d(3)(nc.randn(2, 3, dtype=np.float64))
    with pytest.raises(NotImplementedError, match="expected a floating-point input, but got "
                                                  "int64"):
        nn.BatchNorm1d(3)(nc.ones(2, 3, dtype=np.int64))
    with pytest.raises(TypeError, match="num_features must be an int, but got 2.5"):
        nn.BatchNorm2d(2.5)
    with pytest.raises(RuntimeError, match="num_features must be >= 0, but got -1"):
        nn.BatchNorm2d(-1)


def test_reset_running_stats_and_parameters(rng):
    bn = nn.BatchNorm2d(2)
    with nc.no_grad():
        bn.weight.fill_(3.0)
        bn.bias.fill_(-1.0)
    bn(nc.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32) + 5))
    weight, rm = bn.weight, bn.running_mean
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.numpy(), [0, 0])
    np.testing.assert_array_equal(bn.running_var.numpy(), [1, 1])
    assert int(bn.num_batches_tracked.item()) == 0
    np.testing.assert_array_equal(bn.weight.detach().numpy(), [3, 3])    # parameters kept
    bn(nc.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32) + 5))
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.weight.detach().numpy(), [1, 1])
    np.testing.assert_array_equal(bn.bias.detach().numpy(), [0, 0])
    np.testing.assert_array_equal(bn.running_mean.numpy(), [0, 0])
    assert int(bn.num_batches_tracked.item()) == 0
    assert bn.weight is weight and bn.running_mean is rm                 # in place
    nn.BatchNorm2d(2, affine=False, track_running_stats=False).reset_parameters()


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_keeps_float32(rng, training):
    bn = nn.BatchNorm2d(3, momentum=None).train(training)
    x = nc.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32), requires_grad=True)
    y = bn(x)
    y.backward(nc.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32)))
    for t in (y, x.grad, bn.weight.grad, bn.bias.grad, bn.running_mean, bn.running_var):
        assert t.dtype == np.float32


@on_devices
@pytest.mark.parametrize("kw", [dict(), dict(momentum=None), dict(affine=False),
                                dict(track_running_stats=False)])
def test_batchnorm_on_devices_matches_cpu(rng, device, kw):
    x = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    g = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    out = []
    for dev in ("cpu", device):
        bn = nn.BatchNorm2d(2, **kw).to(dev)
        xt = nc.tensor(x).to(dev).requires_grad_(True)
        for mode in (True, True, False):
            bn.train(mode)
            bn(xt).backward(nc.tensor(g).to(dev))
        out.append([to_host(xt.grad)] + [to_host(t) for t in bn.state_dict().values()])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (2, 3, 2, 3)])
def test_batch_norm_function_gradcheck_float64(rng, shape):
    x = nc.tensor(rng.standard_normal(shape), requires_grad=True)
    w = nc.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = nc.tensor(rng.standard_normal(3), requires_grad=True)
    rm, rv = nc.zeros(3, dtype=np.float64), nc.ones(3, dtype=np.float64)
    assert nc.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), (x, w, b))
    assert nc.gradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, training=True), (x, w))
    assert nc.gradcheck(lambda x, b: F.batch_norm(x, rm, rv, None, b, training=False), (x, b))


# --- Dropout ---------------------------------------------------------------------------------

def test_dropout_module_api():
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"
    assert repr(nn.Dropout(p=1)) == "Dropout(p=1, inplace=False)"
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"^dropout probability has to be between 0 and 1, "
                                             r"but got %s$" % p):
            nn.Dropout(p)
    d = nn.Dropout(0.9).eval()
    x = nc.randn(4, 5)
    assert d(x) is x
    assert (nn.Dropout(1.0)(x).numpy() == 0).all()


# --- activations -----------------------------------------------------------------------------

def test_activation_reprs():
    assert [repr(m) for m in (nn.ReLU(), nn.ReLU(True), nn.LeakyReLU(), nn.LeakyReLU(0.2, True),
                              nn.Sigmoid(), nn.Tanh(), nn.Softmax(), nn.Softmax(dim=-1),
                              nn.LogSoftmax(1))] == [
        "ReLU()", "ReLU(inplace=True)", "LeakyReLU(negative_slope=0.01)",
        "LeakyReLU(negative_slope=0.2, inplace=True)", "Sigmoid()", "Tanh()",
        "Softmax(dim=None)", "Softmax(dim=-1)", "LogSoftmax(dim=1)"]


def test_activation_values_written_out():
    x = nc.tensor(np.array([-2.0, 0.0, 3.0], np.float32), requires_grad=True)
    for m, y, dy in [
            (nn.ReLU(), [0, 0, 3], [0, 0, 1]),
            (nn.LeakyReLU(0.5), [-1, 0, 3], [0.5, 0.5, 1]),     # PyTorch's slope at 0
            (nn.Sigmoid(), [0.11920292, 0.5, 0.95257413], [0.10499359, 0.25, 0.04517666]),
            (nn.Tanh(), [-0.96402758, 0, 0.99505475], [0.07065082, 1, 0.00986604])]:
        x.grad = None
        out = m(x)
        out.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), y, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(x.grad.numpy(), dy, rtol=1e-5, atol=1e-7)
        assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_softmax_implicit_dim_warns_and_follows_pytorchs_choice():
    x3 = nc.tensor(np.arange(12, dtype=np.float32).reshape(2, 3, 2))
    x2 = nc.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.warns(UserWarning, match=r"Implicit dimension choice for softmax has been "
                                         r"deprecated\. Change the call to include dim=X") as w:
        y3 = F.softmax(x3)
    assert w[0].filename == __file__                       # points at the caller
    np.testing.assert_allclose(y3.numpy().sum(0), 1, rtol=1e-6)       # 3-D: dim 0
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        y2 = nn.LogSoftmax()(x2)
    np.testing.assert_allclose(np.exp(y2.numpy()).sum(1), 1, rtol=1e-6)   # 2-D: dim 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Softmax(dim=0)(x2)
        F.softmax(x2, 1, dtype=np.float64)
    assert F.softmax(x2, 1, dtype=np.float64).dtype == np.float64
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        nn.Softmax(dim=2)(x2)


def test_softmax_gradcheck_float64(rng):
    x = nc.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert nc.gradcheck(lambda t: nn.Softmax(dim=-1)(t) * nc.tensor(np.arange(4.0)), (x,))
    assert nc.gradcheck(lambda t: nn.LogSoftmax(dim=0)(t), (x,))


# --- Linear, Identity, Flatten ---------------------------------------------------------------

def test_linear_api():
    assert repr(nn.Linear(3, 4)) == "Linear(in_features=3, out_features=4, bias=True)"
    assert repr(nn.Linear(3, 4, False)) == "Linear(in_features=3, out_features=4, bias=False)"
    m = nn.Linear(3, 4, bias=False)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="in_features must be an int, but got 3.5"):
        nn.Linear(3.5, 4)
    with pytest.raises(RuntimeError, match="out_features must be >= 0, but got -2"):
        nn.Linear(3, -2)
    assert repr(nn.Identity(3, k=4)) == "Identity()"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Flatten(0, 2)) == "Flatten(start_dim=0, end_dim=2)"


def _check_uniform(a, bound):
    """Samples of U(-bound, bound): inside the bounds, reaching them, with its std."""
    a = np.asarray(a, np.float64).ravel()
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > bound * (1 - 20.0 / a.size)
    assert abs(a.std() - bound / math.sqrt(3)) < 0.02 * bound / math.sqrt(3)
    assert abs(a.mean()) < 0.03 * bound


@pytest.mark.parametrize("make,fan_in", [
    (lambda: nn.Linear(50, 4000), 50),
    (lambda: nn.Conv2d(6, 1000, 3), 54),
    (lambda: nn.Conv2d(6, 999, (1, 3), groups=3), 6),
    (lambda: nn.ConvTranspose2d(16, 2000, (1, 2), groups=2), 2000),   # fan_in from weight dim 1
])
def test_default_init_bounds(make, fan_in):
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / 6), bound gain * sqrt(3 / fan_in)
    bound = math.sqrt(2 / 6) * math.sqrt(3 / fan_in)
    assert bound == pytest.approx(1 / math.sqrt(fan_in))
    m = make()
    _check_uniform(m.weight.detach().numpy(), bound)
    b = m.bias.detach().numpy()         # 999 values or more: the extremes come near the bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.98 * bound
    assert abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3)
    assert m.weight.dtype == np.float32 and m.bias.dtype == np.float32


def test_zero_size_layers_init_like_pytorch():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        m = nn.Linear(0, 3)
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros(3))     # bound 0


# --- Conv and pooling modules ----------------------------------------------------------------

@pytest.mark.parametrize("make,text", [
    (lambda: nn.Conv2d(1, 8, 3, padding=1, bias=False),
     "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)"),
    (lambda: nn.Conv2d(1, 8, 3), "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))"),
    (lambda: nn.Conv2d(2, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=2),
     "Conv2d(2, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), "
     "groups=2)"),
    (lambda: nn.Conv2d(2, 8, 3, padding="same", dilation=2),
     "Conv2d(2, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2))"),
    (lambda: nn.Conv2d(2, 8, 3, padding="valid"),
     "Conv2d(2, 8, kernel_size=(3, 3), stride=(1, 1), padding=valid)"),
    (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
     "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
     "output_padding=(1, 1))"),
    (lambda: nn.ConvTranspose2d(4, 2, 3, dilation=2, groups=2, bias=False),
     "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), groups=2, "
     "bias=False)"),
    (lambda: nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                              "ceil_mode=False)"),
    (lambda: nn.MaxPool2d((2, 3), stride=(1, 2), ceil_mode=True),
     "MaxPool2d(kernel_size=(2, 3), stride=(1, 2), padding=0, dilation=1, ceil_mode=True)"),
    (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), "AdaptiveAvgPool2d(output_size=(2, 3))"),
    (lambda: nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d(output_size=1)"),
])
def test_conv_and_pool_reprs(make, text):
    assert repr(make()) == text


def test_conv_constructor_errors():
    for mode in ("reflect", "replicate", "circular"):
        with pytest.raises(NotImplementedError, match=r"Conv2d: padding_mode='%s' is not "
                                                      r"implemented in npconv \(only 'zeros'\)"
                                                      % mode):
            nn.Conv2d(2, 4, 3, padding=1, padding_mode=mode)
    with pytest.raises(ValueError, match=r"padding_mode must be one of \('zeros', 'reflect', "
                                         r"'replicate', 'circular'\), but got "
                                         r"padding_mode='bogus'"):
        nn.Conv2d(2, 4, 3, padding_mode="bogus")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose2d'):
        nn.ConvTranspose2d(2, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="^groups must be a positive integer$"):
        nn.Conv2d(2, 4, 3, groups=0)
    with pytest.raises(ValueError, match="^in_channels must be divisible by groups$"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="^out_channels must be divisible by groups$"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(TypeError, match="in_channels must be an int, but got 2.0"):
        nn.Conv2d(2.0, 4, 3)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(2, 4, 3, stride=2, padding="same")


# --- nn.init ---------------------------------------------------------------------------------

def test_calculate_gain_values_and_errors():
    for name in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        assert init.calculate_gain(name) == 1
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(2.0 / 6)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="^Unsupported nonlinearity gelu$"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="^negative_slope True not a valid number$"):
        init.calculate_gain("leaky_relu", True)


def test_fans_and_fan_errors():
    fans = init._calculate_fan_in_and_fan_out
    assert fans(nc.zeros(7, 3)) == (3, 7)
    assert fans(nc.zeros(8, 4, 3, 5)) == (60, 120)
    assert fans(nc.zeros(8, 4, 3)) == (12, 24)
    with pytest.raises(ValueError, match="^Fan in and fan out can not be computed for tensor "
                                         "with fewer than 2 dimensions$"):
        init.xavier_uniform_(nc.zeros(5))
    with pytest.raises(ValueError, match=r"^Mode fan_avg not supported, please use one of "
                                         r"\['fan_in', 'fan_out'\]$"):
        init.kaiming_normal_(nc.zeros(3, 3), mode="fan_avg")
    t = nc.zeros(400, 300)
    init.kaiming_uniform_(t, mode="FAN_OUT", nonlinearity="relu")       # case-insensitive
    _check_uniform(t.numpy(), math.sqrt(2) * math.sqrt(3 / 400))
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.kaiming_uniform_(t, nonlinearity="swish")


@pytest.mark.parametrize("fn,kw,kind,scale", [
    (init.uniform_, dict(a=-0.3, b=0.3), "u", 0.3),
    (init.xavier_uniform_, dict(gain=2.0), "u", 2.0 * math.sqrt(6 / (600 + 1500))),
    (init.kaiming_uniform_, dict(a=0.2, mode="fan_out"), "u",
     math.sqrt(2 / 1.04) * math.sqrt(3 / 1500)),
    (init.kaiming_uniform_, dict(nonlinearity="tanh"), "u", 5 / 3 * math.sqrt(3 / 600)),
    (init.normal_, dict(mean=0.0, std=0.7), "n", 0.7),
    (init.xavier_normal_, dict(gain=0.5), "n", 0.5 * math.sqrt(2 / (600 + 1500))),
    (init.kaiming_normal_, dict(nonlinearity="relu"), "n", math.sqrt(2 / 600)),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="selu"), "n",
     0.75 / math.sqrt(1500)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_distributions(fn, kw, kind, scale, dtype):
    t = nn.Parameter(nc.zeros(50, 20, 30, dtype=dtype))   # fan_in 600, fan_out 1500, 30000 values
    data = t.data
    nc.manual_seed(1)
    assert fn(t, **kw) is t
    assert t.data is data and t.dtype == dtype and t.requires_grad and t.grad_fn is None
    a = t.detach().numpy().astype(np.float64)
    if kind == "u":
        _check_uniform(a, scale)
    else:
        # (the sample std's relative error is about 1 / sqrt(2 n) = 0.4%)
        assert abs(a.std() - scale) < 0.03 * scale and abs(a.mean()) < 0.03 * scale
        # normal, not uniform: some values beyond 2 std (a U of this std stays below 1.74)
        assert np.abs(a).max() > 2.5 * scale


def test_init_generator_argument():
    t = nc.zeros(4, 5)
    a = init.kaiming_uniform_(t, generator=np.random.default_rng(7)).numpy().copy()
    b = init.kaiming_uniform_(t, generator=np.random.default_rng(7)).numpy().copy()
    c = init.kaiming_uniform_(t, generator=np.random.default_rng(8)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the generator's own stream: the global seed does not change it
    nc.manual_seed(123)
    np.testing.assert_array_equal(
        init.kaiming_uniform_(t, generator=np.random.default_rng(7)).numpy(), a)
    for fn in (init.normal_, init.trunc_normal_, init.orthogonal_, init.xavier_normal_):
        x = fn(nc.zeros(4, 5), generator=np.random.default_rng(3)).numpy()
        np.testing.assert_array_equal(fn(nc.zeros(4, 5), generator=np.random.default_rng(3))
                                      .numpy(), x)
    with pytest.raises(TypeError, match="generator must be a Generator of the tensor's array "
                                        "library .* got int"):
        init.uniform_(t, generator=7)


def test_init_host_generator_on_device_tensor_is_refused():
    t = nc.zeros(3, 4).to(STANDIN)
    with pytest.raises(TypeError, match="generator makes numpy arrays but the tensor's data is"):
        init.uniform_(t, generator=np.random.default_rng(0))
    init.uniform_(t, -1, 1)
    assert (np.abs(to_host(t)) <= 1).all() and np.abs(to_host(t)).max() > 0


def test_init_argument_errors_and_zero_element():
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range, "
                                           r"but found from=2 > to=1"):
        init.uniform_(nc.zeros(3), 2, 1)
    np.testing.assert_array_equal(init.uniform_(nc.zeros(3), 2, 2).numpy(), [2, 2, 2])
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        init.normal_(nc.zeros(3), 0, -1)
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        e = nc.zeros(0, 3)
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert fn(e) is e
    with pytest.raises(TypeError, match="expected an npconv Tensor, got ndarray"):
        init.zeros_(np.zeros(3))


def test_init_on_a_leaf_that_requires_grad():
    w = nc.zeros(3, 4, requires_grad=True)
    v = w._version[0]
    init.xavier_uniform_(w)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None and w._version[0] > v
    (w * 2).sum().backward()                         # still a usable leaf
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 2, np.float32))
    init.constant_(w, 0.5)
    assert w.grad_fn is None and (w.detach().numpy() == 0.5).all()
