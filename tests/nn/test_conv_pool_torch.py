"""Differential cross-check of npconv.nn.functional's convolution and pooling functions (and
their modules) against torch.nn.functional (skipped when torch is not installed): outputs,
max-pool indices and input/weight/bias gradients over grids of random float64 cases, and
that the same invalid arguments are refused (npconv raises ValueError where PyTorch raises
RuntimeError; see ``test_errors``)."""
import itertools

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F
from npconv.nn import _chunked_conv, _conv

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = dict(rtol=1e-10, atol=1e-11)


def _sample(grid, n, seed):
    """n configurations drawn (without repeats) from the product of the grid's values."""
    combos = list(itertools.product(*grid.values()))
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(combos), size=min(n, len(combos)), replace=False)
    return [dict(zip(grid, combos[i])) for i in sorted(pick)]


def _pair(a, b):
    """(npconv Tensor, torch tensor) with the same float64 data, both requiring grad."""
    return nc.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)


def _compare(n_out, t_out, n_leaves, t_leaves, rng):
    """Same output; same gradients of every leaf for a random upstream gradient."""
    assert tuple(n_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(n_out.data, t_out.detach().numpy(), **TOL)
    gy = rng.standard_normal(tuple(t_out.shape))
    n_out.backward(nc.tensor(gy))
    t_out.backward(torch.tensor(gy))
    for nl, tl in zip(n_leaves, t_leaves):
        if nl is None:
            continue
        np.testing.assert_allclose(nl.grad.data, tl.grad.numpy(), **TOL)


# ----------------------------------------------------------------------------- conv2d
CONV_GRID = dict(
    chans=[(1, 1, 1), (3, 4, 1), (4, 6, 2), (4, 4, 4), (2, 6, 2), (6, 3, 3)],  # C, O, groups
    N=[1, 2],
    hw=[(5, 7), (8, 8), (3, 3)],
    k=[(1, 1), (3, 3), (2, 3), (1, 3), (3, 2)],
    stride=[1, 2, (1, 2)],
    padding=[0, 1, (0, 2), "same", "valid"],
    dilation=[1, 2, (2, 1)],
    bias=[True, False],
)


def _conv_cases(n, seed):
    out = []
    for c in _sample(CONV_GRID, 3 * n, seed):
        C, O, G = c["chans"]
        H, W = c["hw"]
        kH, kW = c["k"]
        s = c["stride"] if isinstance(c["stride"], tuple) else (c["stride"],) * 2
        d = c["dilation"] if isinstance(c["dilation"], tuple) else (c["dilation"],) * 2
        p = c["padding"]
        if p == "same" and s != (1, 1):
            continue
        pp = (0, 0) if isinstance(p, str) else (p if isinstance(p, tuple) else (p, p))
        if p != "same" and (H + 2 * pp[0] < d[0] * (kH - 1) + 1
                            or W + 2 * pp[1] < d[1] * (kW - 1) + 1):
            continue
        out.append(c)
    return out[:n]


CONV_CASES = _conv_cases(240, 0)


@pytest.mark.parametrize("path", [(None, None), (True, "nhw"), (False, "hwn")])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d(path):
    """conv2d's values and gradients, on its one-GEMM path in each column order and on the
    chunked path (forced)."""
    rng = np.random.default_rng(1)
    cases = CONV_CASES if path == (None, None) else CONV_CASES[::3]
    _chunked_conv.FORCE, _conv.FORCE_ORDER = path
    try:
        for c in cases:
            C, O, G = c["chans"]
            H, W = c["hw"]
            xn, xt = _pair(rng.standard_normal((c["N"], C, H, W)), None)
            wn, wt = _pair(rng.standard_normal((O, C // G) + c["k"]), None)
            bn = bt = None
            if c["bias"]:
                bn, bt = _pair(rng.standard_normal(O), None)
            kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=G)
            try:
                _compare(F.conv2d(xn, wn, bn, **kw), TF.conv2d(xt, wt, bt, **kw),
                         (xn, wn, bn), (xt, wt, bt), rng)
            except AssertionError as e:
                raise AssertionError("%s: %s" % (c, e)) from None
    finally:
        _chunked_conv.FORCE = _conv.FORCE_ORDER = None
    assert len(cases) >= 60


# --------------------------------------------------------------------- conv_transpose2d
CT_GRID = dict(
    chans=[(1, 1, 1), (3, 4, 1), (4, 6, 2), (4, 4, 4), (6, 3, 3)],  # C_in, C_out, groups
    N=[1, 2],
    hw=[(4, 5), (3, 3), (1, 2)],
    k=[(1, 1), (3, 3), (2, 3), (4, 1)],
    stride=[1, 2, (3, 1)],
    padding=[0, 1, (2, 0)],
    output_padding=[0, 1, (1, 0), (0, 2)],
    dilation=[1, 2, (1, 3)],
    bias=[True, False],
)


def _ct_valid(c):
    s = c["stride"] if isinstance(c["stride"], tuple) else (c["stride"],) * 2
    d = c["dilation"] if isinstance(c["dilation"], tuple) else (c["dilation"],) * 2
    p = c["padding"] if isinstance(c["padding"], tuple) else (c["padding"],) * 2
    op = c["output_padding"]
    op = op if isinstance(op, tuple) else (op, op)
    for a in range(2):
        if op[a] >= max(s[a], d[a]):
            return False
        if (c["hw"][a] - 1) * s[a] - 2 * p[a] + d[a] * (c["k"][a] - 1) + op[a] + 1 < 1:
            return False
    return True


CT_ALL = _sample(CT_GRID, 900, 2)
CT_CASES = [c for c in CT_ALL if _ct_valid(c)][:200]
CT_BAD = [c for c in CT_ALL if not _ct_valid(c)][:60]


def test_conv_transpose2d():
    rng = np.random.default_rng(3)
    for c in CT_CASES:
        C, O, G = c["chans"]
        xn, xt = _pair(rng.standard_normal((c["N"], C) + c["hw"]), None)
        wn, wt = _pair(rng.standard_normal((C, O // G) + c["k"]), None)
        bn = bt = None
        if c["bias"]:
            bn, bt = _pair(rng.standard_normal(O), None)
        kw = dict(stride=c["stride"], padding=c["padding"], output_padding=c["output_padding"],
                  groups=G, dilation=c["dilation"])
        try:
            _compare(F.conv_transpose2d(xn, wn, bn, **kw), TF.conv_transpose2d(xt, wt, bt, **kw),
                     (xn, wn, bn), (xt, wt, bt), rng)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (c, e)) from None
    assert len(CT_CASES) >= 150


def test_conv_transpose2d_refused_alike():
    """output_padding not below stride or dilation, and outputs padded away: both refuse."""
    rng = np.random.default_rng(4)
    for c in CT_BAD:
        C, O, G = c["chans"]
        x = rng.standard_normal((c["N"], C) + c["hw"])
        w = rng.standard_normal((C, O // G) + c["k"])
        kw = dict(stride=c["stride"], padding=c["padding"], output_padding=c["output_padding"],
                  groups=G, dilation=c["dilation"])
        with pytest.raises(RuntimeError):
            TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw)
        with pytest.raises(ValueError):
            F.conv_transpose2d(nc.tensor(x), nc.tensor(w), **kw)
    assert len(CT_BAD) >= 30


# --------------------------------------------------------------------------- max_pool2d
MP_GRID = dict(
    N=[1, 2],
    hw=[(5, 7), (8, 8), (4, 3), (6, 5)],
    k=[1, 2, 3, (2, 3), (3, 1)],
    stride=[None, 1, 2, (2, 3)],
    padding=[0, 1, (1, 0)],
    dilation=[1, 2, (1, 2)],
    ceil_mode=[False, True],
    values=["normal", "ties", "-inf"],
)


def _pool_valid(c, dil=True):
    k = c["k"] if isinstance(c["k"], tuple) else (c["k"],) * 2
    p = c["padding"] if isinstance(c["padding"], tuple) else (c["padding"],) * 2
    d = (1, 1)
    if dil:
        d = c["dilation"] if isinstance(c["dilation"], tuple) else (c["dilation"],) * 2
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        return False
    return all(c["hw"][a] + 2 * p[a] >= d[a] * (k[a] - 1) + 1 for a in range(2))


MP_CASES = [c for c in _sample(MP_GRID, 450, 5) if _pool_valid(c)][:300]


def test_max_pool2d():
    """Values, gradients and (exactly) the indices, also with ties (integer-valued inputs)
    and with windows whose real pixels are all -inf (tied with the padding)."""
    rng = np.random.default_rng(6)
    for c in MP_CASES:
        shape = (c["N"], 3) + c["hw"]
        x = rng.standard_normal(shape)
        if c["values"] == "ties":
            x = rng.integers(-2, 3, shape).astype(float)
        elif c["values"] == "-inf":
            x[rng.random(shape) < 0.8] = -np.inf
        kw = dict(kernel_size=c["k"], stride=c["stride"], padding=c["padding"],
                  dilation=c["dilation"], ceil_mode=c["ceil_mode"])
        xn, xt = _pair(x, None)
        yn, in_ = F.max_pool2d(xn, return_indices=True, **kw)
        yt, it = TF.max_pool2d(xt, return_indices=True, **kw)
        try:
            np.testing.assert_array_equal(in_.data, it.numpy())
            assert in_.dtype == np.int64
            _compare(yn, yt, (xn,), (xt,), rng)
            # without indices (the 2x2 fast path among them)
            xn2, xt2 = _pair(x, None)
            _compare(F.max_pool2d(xn2, **kw), TF.max_pool2d(xt2, **kw), (xn2,), (xt2,), rng)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (c, e)) from None
    assert len(MP_CASES) >= 200


def test_max_pool2d_ceil_mode_sizes():
    """Output sizes in ceil mode (the last window starts inside the input or its left
    padding), over every small geometry."""
    n = 0
    for H, k, s, p, d in itertools.product(range(1, 9), range(1, 5), range(1, 5), range(3),
                                           range(1, 3)):
        if p > k // 2 or H + 2 * p < d * (k - 1) + 1:
            continue
        x = np.zeros((1, 1, H, 2))
        kw = dict(kernel_size=(k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1),
                  ceil_mode=True)
        assert (F.max_pool2d(nc.tensor(x), **kw).shape
                == tuple(TF.max_pool2d(torch.tensor(x), **kw).shape)), kw
        n += 1
    assert n > 300


# --------------------------------------------------------------------------- avg_pool2d
AP_GRID = dict(
    N=[1, 2],
    hw=[(5, 7), (8, 8), (4, 3), (6, 5)],
    k=[1, 2, 3, (2, 3), (3, 1)],
    stride=[None, 1, 2, (2, 3)],
    padding=[0, 1, (1, 0)],
    ceil_mode=[False, True],
    count_include_pad=[True, False],
    divisor_override=[None, 1, 5],
)

AP_CASES = [c for c in _sample(AP_GRID, 300, 7) if _pool_valid(c, dil=False)][:200]


def test_avg_pool2d():
    rng = np.random.default_rng(8)
    for c in AP_CASES:
        xn, xt = _pair(rng.standard_normal((c["N"], 3) + c["hw"]), None)
        kw = dict(kernel_size=c["k"], stride=c["stride"], padding=c["padding"],
                  ceil_mode=c["ceil_mode"], count_include_pad=c["count_include_pad"],
                  divisor_override=c["divisor_override"])
        try:
            _compare(F.avg_pool2d(xn, **kw), TF.avg_pool2d(xt, **kw), (xn,), (xt,), rng)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (c, e)) from None
    assert len(AP_CASES) >= 120


# ------------------------------------------------------- adaptive / global pools, relu, dropout
@pytest.mark.parametrize("hw,size", [((6, 8), 1), ((6, 8), 2), ((6, 8), (3, 4)), ((6, 8), (2, 8)),
                                     ((6, 8), (None, 2)), ((6, 8), (3, None)), ((5, 7), 1),
                                     ((5, 7), (None, None)), ((5, 7), (5, 1)), ((1, 1), 1),
                                     ((4, 4), [2, 2])])
def test_adaptive_avg_pool2d(hw, size):
    rng = np.random.default_rng(9)
    xn, xt = _pair(rng.standard_normal((2, 3) + hw), None)
    _compare(F.adaptive_avg_pool2d(xn, size), TF.adaptive_avg_pool2d(xt, size), (xn,), (xt,),
             rng)
    xn, xt = _pair(rng.standard_normal((2, 3) + hw), None)
    _compare(nn.AdaptiveAvgPool2d(size)(xn), torch.nn.AdaptiveAvgPool2d(size)(xt), (xn,), (xt,),
             rng)


@pytest.mark.parametrize("hw", [(1, 1), (5, 7), (8, 8)])
def test_global_avg_pool2d(hw):
    rng = np.random.default_rng(10)
    for f in (F.global_avg_pool2d, nn.GlobalAvgPool2d()):
        xn, xt = _pair(rng.standard_normal((2, 3) + hw), None)
        _compare(f(xn), xt.mean(dim=(2, 3), keepdim=True), (xn,), (xt,), rng)


def test_relu_and_dropout():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4, 5))
    x[0, 0, 0, :2] = 0.0                          # relu's gradient at 0 is 0, as PyTorch's
    for f, g in ((F.relu, TF.relu), (nn.ReLU(), torch.nn.ReLU()),
                 (lambda t: F.dropout(t, 0.0), lambda t: TF.dropout(t, 0.0)),
                 (lambda t: F.dropout(t, 0.7, training=False),
                  lambda t: TF.dropout(t, 0.7, training=False)),
                 (lambda t: F.dropout(t, 1.0), lambda t: TF.dropout(t, 1.0))):
        xn, xt = _pair(x, None)
        _compare(f(xn), g(xt), (xn,), (xt,), rng)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            TF.dropout(torch.tensor(x), p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(nc.tensor(x), p)


# ------------------------------------------------------------------------------ modules
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_modules():
    rng = np.random.default_rng(12)
    pairs = [
        (nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2,
                   dtype=np.float64),
         torch.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2,
                         dtype=torch.float64)),
        (nn.Conv2d(4, 4, 4, padding="same", groups=4, bias=False, dtype=np.float64),
         torch.nn.Conv2d(4, 4, 4, padding="same", groups=4, bias=False, dtype=torch.float64)),
        (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                            dtype=np.float64),
         torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                  dtype=torch.float64)),
        (nn.ConvTranspose2d(4, 2, 2, dilation=3, output_padding=2, bias=False, dtype=np.float64),
         torch.nn.ConvTranspose2d(4, 2, 2, dilation=3, output_padding=2, bias=False,
                                  dtype=torch.float64)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (nn.MaxPool2d(2, dilation=2), torch.nn.MaxPool2d(2, dilation=2)),
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
         torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
        (nn.AvgPool2d((2, 3), divisor_override=4), torch.nn.AvgPool2d((2, 3), divisor_override=4)),
        (nn.AdaptiveAvgPool2d((None, 3)), torch.nn.AdaptiveAvgPool2d((None, 3))),
    ]
    for n, t in pairs:
        if hasattr(t, "weight"):
            n.load_state_dict(t.state_dict())
        x = rng.standard_normal((2, 4, 7, 9))
        xn, xt = _pair(x, None)
        nl = [xn] + list(n.parameters())
        tl = [xt] + list(t.parameters())
        try:
            _compare(n(xn), t(xt), nl, tl, rng)
        except AssertionError as e:
            raise AssertionError("%r: %s" % (t, e)) from None
    n, t = nn.MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1,
                                                                            return_indices=True)
    x = rng.integers(0, 3, (2, 3, 7, 6)).astype(float)
    np.testing.assert_array_equal(n(nc.tensor(x))[1].data, t(torch.tensor(x))[1].numpy())
    assert repr(n) == repr(t)


# ------------------------------------------------------------------------------- errors
def _w(*s):
    return np.zeros(s)


# (npconv function, torch function, args, kwargs, start of PyTorch's message); npconv's
# errors are ValueError (TypeError for a non-Tensor) with messages of its own
ERRORS = [
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 5, 5)), {}, "Calculated padded input size"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(dilation=2), "Calculated padded input"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(stride=0), "non-positive stride"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(stride=-1), "non-positive stride"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(padding=-1), "negative padding"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(dilation=0), "dilation should be greater"),
    ("conv2d", (_w(1, 4, 4, 4), _w(3, 2, 3, 3)), dict(groups=2), "Given groups=2, expected weight"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 1, 3, 3)), dict(groups=3), "Given groups=3, expected weight"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(groups=0), "non-positive groups"),
    ("conv2d", (_w(1, 5, 4, 4), _w(2, 3, 3, 3)), {}, "Given groups=1, weight of size"),
    ("conv2d", (_w(1, 6, 4, 4), _w(4, 2, 3, 3)), dict(groups=2), "Given groups=2, weight of size"),
    ("conv2d", (_w(1, 1, 3, 4, 4), _w(2, 3, 3, 3)), {}, "Expected 3D (unbatched) or 4D"),
    ("conv2d", (_w(3, 4), _w(2, 3, 3, 3)), {}, "Expected 3D (unbatched) or 4D"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3), _w(3)), {}, "Given weight of size"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    ("conv2d", (_w(1, 3, 4, 4), _w(2, 3, 3, 3)), dict(padding="full"), "Invalid padding string"),
    ("conv_transpose2d", (_w(1, 3, 4, 4), _w(3, 2, 3, 3)), dict(stride=2, output_padding=2),
     "output padding must be smaller than either stride or dilation"),
    ("conv_transpose2d", (_w(1, 3, 4, 4), _w(3, 2, 3, 3)), dict(output_padding=1),
     "output padding must be smaller than either stride or dilation"),
    ("conv_transpose2d", (_w(1, 3, 4, 4), _w(3, 2, 3, 3)), dict(stride=0), "non-positive stride"),
    ("conv_transpose2d", (_w(1, 3, 4, 4), _w(3, 2, 3, 3)), dict(groups=2),
     "Given groups=2, expected weight to be divisible"),
    ("conv_transpose2d", (_w(1, 4, 4, 4), _w(3, 2, 3, 3)), {}, "Given transposed=1, weight of"),
    ("conv_transpose2d", (_w(1, 3, 2, 2), _w(3, 2, 3, 3)), dict(padding=3),
     "Given input size per channel"),
    ("conv_transpose2d", (_w(3, 2), _w(3, 2, 3, 3)), {}, ""),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=5), "Given input size"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=3, dilation=2), "Given input size"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=3, padding=2), "pad should be at most half"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=(2, 3), padding=(0, 2)),
     "pad should be at most half"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=2, stride=0), "stride should not be zero"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=2, stride=-1), "stride should be greater"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=0), "stride should not be zero"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=0, stride=1), "kernel size should be"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=2, padding=-1), "pad must be non-negative"),
    ("max_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=2, dilation=0), "dilation should be"),
    ("max_pool2d", (_w(4, 4),), dict(kernel_size=2), ""),
    ("max_pool2d", (_w(1, 1, 2, 4, 4),), dict(kernel_size=2), ""),
    ("avg_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=5), "Given input size"),
    ("avg_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=3, padding=2), "pad should be at most half"),
    ("avg_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=2, stride=0), "stride should not be zero"),
    ("avg_pool2d", (_w(1, 2, 4, 4),), dict(kernel_size=2, divisor_override=0), "divisor must be"),
    ("avg_pool2d", (_w(4, 4),), dict(kernel_size=2), ""),
    ("adaptive_avg_pool2d", (_w(4, 4), 2), {}, ""),
]


@pytest.mark.parametrize("name,args,kw,tmsg", ERRORS,
                         ids=["%s-%d" % (e[0], i) for i, e in enumerate(ERRORS)])
def test_errors(name, args, kw, tmsg):
    """Both refuse the same invalid arguments: PyTorch with RuntimeError (ValueError for
    padding strings), npconv with ValueError."""
    with pytest.raises((RuntimeError, ValueError, IndexError)) as te:
        getattr(TF, name)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args],
                          **kw)
    assert str(te.value).startswith(tmsg), str(te.value)
    with pytest.raises(ValueError) as ne:
        getattr(F, name)(*[nc.tensor(a) if isinstance(a, np.ndarray) else a for a in args],
                         **kw)
    assert str(ne.value).startswith(name + ":"), str(ne.value)


@pytest.mark.parametrize("cls,args,kw", [
    ("Conv2d", (3, 4, 3), dict(groups=2)), ("Conv2d", (4, 3, 3), dict(groups=2)),
    ("Conv2d", (4, 4, 3), dict(groups=0)), ("Conv2d", (3, 4, 3), dict(padding="full")),
    ("Conv2d", (3, 4, 3), dict(padding="same", stride=2)),
    ("ConvTranspose2d", (3, 4, 3), dict(groups=2)),
])
def test_module_errors(cls, args, kw):
    """The modules refuse the same bad arguments at construction, with ValueError."""
    with pytest.raises(ValueError) as te:
        getattr(torch.nn, cls)(*args, **kw)
    with pytest.raises(ValueError) as ne:
        getattr(nn, cls)(*args, **kw)
    if "groups" in kw:
        assert str(ne.value) == str(te.value)
