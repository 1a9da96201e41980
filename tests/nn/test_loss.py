"""Losses: values against NumPy references, gradcheck (float64), validation, stability."""
import re
import warnings

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F


def t64(a, grad=True):
    return nc.tensor(np.asarray(a, np.float64), requires_grad=grad)


def ref_ce(x, y, weight=None, ignore_index=-100, reduction="mean", ls=0.0):
    """PyTorch's cross entropy written out in float64 (class axis 1)."""
    x = np.moveaxis(np.asarray(x, np.float64), 1, -1).reshape(-1, x.shape[1])
    y = np.asarray(y).reshape(-1)
    c = x.shape[1]
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    keep = y != ignore_index
    yy = np.where(keep, y, 0)
    nll = np.where(keep, -w[yy] * logp[np.arange(len(y)), yy], 0.0)
    smooth = np.where(keep, -(logp * w).sum(1), 0.0)
    if reduction == "mean":
        d = (w[yy] * keep).sum()
        return (1 - ls) * nll.sum() / d + ls / c * smooth.sum() / d
    if reduction == "sum":
        return (1 - ls) * nll.sum() + ls / c * smooth.sum()
    return (1 - ls) * nll + ls / c * smooth


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_reference_and_gradchecks(rng, reduction, ls, weighted):
    x = rng.standard_normal((6, 4))
    y = np.array([0, 3, 1, -100, 2, 3])
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    out = F.cross_entropy(t64(x, False), nc.tensor(y), None if w is None else nc.tensor(w),
                          reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(out.numpy().reshape(-1), np.reshape(
        ref_ce(x, y, w, reduction=reduction, ls=ls), -1), rtol=1e-12, atol=1e-12)
    wt = None if w is None else nc.tensor(w)
    nc.gradcheck(lambda a: F.cross_entropy(a, nc.tensor(y), wt, reduction=reduction,
                                           label_smoothing=ls), (t64(x),))


def test_cross_entropy_spatial_and_1d(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    y = rng.integers(0, 3, (2, 4, 5))
    y[0, 0, 0] = -100
    out = F.cross_entropy(t64(x, False), nc.tensor(y))
    np.testing.assert_allclose(out.item(), ref_ce(x, y), rtol=1e-12)
    none = F.cross_entropy(t64(x, False), nc.tensor(y), reduction="none")
    assert none.shape == (2, 4, 5) and none.numpy()[0, 0, 0] == 0
    nc.gradcheck(lambda a: F.cross_entropy(a, nc.tensor(y), label_smoothing=0.1), (t64(x),))
    v = rng.standard_normal(5)
    out1 = F.cross_entropy(t64(v, False), nc.tensor(np.array(2)))
    np.testing.assert_allclose(out1.item(), ref_ce(v[None], np.array([2])), rtol=1e-12)


def test_cross_entropy_float32_and_module_form(rng):
    x = nc.tensor(rng.standard_normal((8, 5)).astype(np.float32), requires_grad=True)
    y = nc.tensor(rng.integers(0, 5, 8))
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(x, y)
    assert loss.dtype == np.float32 and loss.shape == ()
    loss.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), ref_ce(x.detach().numpy(), y.numpy(), ls=0.1),
                               rtol=1e-5)
    # gradient of the mean loss: rows sum to 0 (softmax minus a distribution)
    np.testing.assert_allclose(x.grad.numpy().sum(1), 0, atol=1e-6)


def test_cross_entropy_stable_for_huge_logits():
    for dt in (np.float32, np.float64):
        x = nc.tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dt), requires_grad=True)
        y = nc.tensor([0, 2])
        loss = F.cross_entropy(x, y)
        loss.backward()
        assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.numpy()))
        np.testing.assert_allclose(loss.item(), np.log(2) / 2, rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [0, 0.25, -0.25]], atol=1e-6)
        x2 = nc.tensor(np.array([[1e4, -1e4]], dt))
        np.testing.assert_allclose(F.cross_entropy(x2, nc.tensor([1])).item(), 2e4, rtol=1e-6)


def test_cross_entropy_nan_handling():
    x = nc.tensor([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0]], requires_grad=True)
    loss = F.cross_entropy(x, nc.tensor([0, 1]))
    assert np.isnan(loss.item())                        # never silently dropped
    # an ignored row does not contribute, even with NaN logits (as PyTorch)
    loss = F.cross_entropy(x, nc.tensor([-100, 1]))
    assert np.isfinite(loss.item())
    loss.backward()
    assert np.all(x.grad.numpy()[0] == 0) and np.all(np.isfinite(x.grad.numpy()))
    # every row ignored: mean is 0/0 = NaN, as PyTorch
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(nc.zeros(2, 3), nc.tensor([-100, -100])).item())
    assert F.cross_entropy(nc.zeros(2, 3), nc.tensor([-100, -100]), reduction="sum").item() == 0


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_all_ignored_mean_has_nan_loss_but_zero_gradient(fn):
    # as PyTorch: 'mean' over no rows is 0/0 = NaN, yet ignored rows get exactly 0 gradient
    # (and silently: the 0/0 is intended, NumPy's RuntimeWarning is not shown)
    x = t64([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = fn(x, nc.tensor([-100, -100]))
        loss.backward()
        fn(x.float(), nc.tensor([-100, -100])).item()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    # a zero-weight kept row next to an ignored one: NaN for the kept row only (PyTorch's values)
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(x, nc.tensor([0, -100]), weight=nc.tensor([0.0, 1.0, 1.0])).backward()
    g = x.grad.numpy()
    assert np.isnan(g[0, 0]) and np.all(g[1] == 0)
    # an ignored row's gradient stays 0 even when the upstream gradient there is NaN
    x.grad = None
    (fn(x, nc.tensor([-100, 1]), reduction="none") * nc.tensor([np.nan, 1.0])).sum().backward()
    assert np.all(x.grad.numpy()[0] == 0) and np.all(np.isfinite(x.grad.numpy()[1]))


def test_cross_entropy_validation():
    # exception types are PyTorch's; messages name what was expected and what was got
    x = nc.zeros(4, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds.*\\[0, 2\\]"):
        F.cross_entropy(x, nc.tensor([0, 1, 3, 0]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(x, nc.tensor([0, -1, 1, 0]))
    with pytest.raises(RuntimeError, match="target dtype to be Long.*but got float32"):
        F.cross_entropy(x, nc.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class "
                                           "probabilities.*got int64"):
        F.cross_entropy(x, nc.tensor(np.zeros((4, 3), np.int64)))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(x, nc.full((4, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match=r"batch_size \(4\) to match target batch_size \(2\)"):
        F.cross_entropy(x, nc.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"Expected target size \(4,\).*got \(4, 1\)"):
        F.cross_entropy(x, nc.tensor([[0], [1], [2], [0]]))
    with pytest.raises(RuntimeError, match=r"Expected target size \(2, 4\).*got \(2, 5\)"):
        F.cross_entropy(nc.zeros(2, 3, 4), nc.tensor(np.zeros((2, 5), np.int64)))
    with pytest.raises(ValueError, match=r"1D target must have size 1.*got \(2,\)"):
        F.cross_entropy(nc.zeros(3), nc.tensor([0, 1]))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="None is not a valid value for reduction"):
        F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), reduction=None)
    with pytest.raises(RuntimeError, match=r"weight.*3 classes.*expected shape \(3,\), got "
                                           r"\(4,\)"):
        F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), weight=nc.ones(4))
    with pytest.raises(RuntimeError, match=r"got \(3, 1\)"):
        F.cross_entropy(x, nc.full((4, 3), 1 / 3), weight=nc.ones(3, 1))
    with pytest.raises(TypeError, match="argument 'input' must be a Tensor, not ndarray"):
        F.cross_entropy(np.zeros((4, 3)), nc.tensor([0, 1, 2, 0]))
    with pytest.raises(RuntimeError, match="floating point input, got dtype int64"):
        F.cross_entropy(nc.tensor([[1, 2], [3, 4]]), nc.tensor([0, 1]))
    with pytest.raises(ValueError, match="Expected 1 or more dimensions"):
        F.cross_entropy(nc.tensor(1.0), nc.tensor(0))
    for bad in (1.5, -0.1):
        with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0, "
                                               "got %s" % bad):
            F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), label_smoothing=bad)
    # a custom ignore_index is accepted, out-of-range values other than it are not
    F.cross_entropy(x, nc.tensor([0, 7, 2, 0]), ignore_index=7)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, nc.tensor([0, 7, 2, 0]), ignore_index=1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(rng, reduction):
    x = rng.standard_normal((5, 4))
    y = np.array([1, 0, 3, -100, 2])
    w = rng.uniform(0.5, 2, 4)
    lp = x - np.log(np.exp(x).sum(1, keepdims=True))
    out = F.nll_loss(F.log_softmax(t64(x, False), dim=1), nc.tensor(y), nc.tensor(w),
                     reduction=reduction)
    keep = y != -100
    per = np.where(keep, -w[np.where(keep, y, 0)] * lp[np.arange(5), np.where(keep, y, 0)], 0)
    ref = {"mean": per.sum() / (w[np.where(keep, y, 0)] * keep).sum(), "sum": per.sum(),
           "none": per}[reduction]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)
    nc.gradcheck(lambda a: F.nll_loss(a, nc.tensor(y), nc.tensor(w), reduction=reduction),
                 (t64(lp),))
    # cross_entropy == nll_loss(log_softmax)
    ce = F.cross_entropy(t64(x, False), nc.tensor(y), nc.tensor(w), reduction=reduction)
    np.testing.assert_allclose(ce.numpy(), out.numpy(), rtol=1e-12)
    m = nn.NLLLoss(reduction=reduction)(t64(lp, False), nc.tensor(np.array([1, 0, 3, 2, 2])))
    assert m.shape == ((5,) if reduction == "none" else ())
    with pytest.raises(IndexError):
        F.nll_loss(t64(lp, False), nc.tensor([1, 0, 4, 2, 2]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_l1(rng, reduction):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    red = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    np.testing.assert_allclose(
        F.mse_loss(t64(a, False), t64(b, False), reduction=reduction).numpy(),
        red((a - b) ** 2), rtol=1e-12)
    np.testing.assert_allclose(
        F.l1_loss(t64(a, False), t64(b, False), reduction=reduction).numpy(),
        red(np.abs(a - b)), rtol=1e-12)
    nc.gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), (t64(a), t64(b)))
    nc.gradcheck(lambda x, y: F.l1_loss(x, y, reduction=reduction), (t64(a), t64(b)))
    assert nn.MSELoss()(t64(a, False), t64(b, False)).shape == ()
    assert nn.L1Loss(reduction="none")(t64(a, False), t64(b, False)).shape == (3, 4)
    with pytest.raises(ValueError, match=r"Target size \(3, 2\) must be the same as input "
                                         r"size \(3, 4\)"):
        F.mse_loss(t64(a, False), t64(b[:, :2], False))
    with pytest.raises(ValueError, match=r"Target size \(4,\) must be the same as input"):
        F.l1_loss(t64(a, False), t64(b[0], False))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss])
def test_mean_losses_of_empty_input_backward(fn):
    # as PyTorch: NaN loss, and the (empty) gradient has the input's shape
    a, b = t64(np.zeros((0, 3))), t64(np.zeros((0, 3)))
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = fn(a, b)
    assert np.isnan(loss.item())
    loss.backward()
    assert a.grad.shape == (0, 3) and b.grad.shape == (0, 3)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weights", [False, True])
def test_bce_with_logits(rng, reduction, weights):
    x = rng.standard_normal((4, 3)) * 3
    t = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 1)) if weights else None
    pw = rng.uniform(0.5, 3, 3) if weights else None
    sig = 1 / (1 + np.exp(-x))
    pwv = 1 if pw is None else pw
    per = -(pwv * t * np.log(sig) + (1 - t) * np.log(1 - sig))
    if w is not None:
        per = per * w
    ref = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    kw = dict(weight=None if w is None else nc.tensor(w),
              pos_weight=None if pw is None else nc.tensor(pw))
    out = F.binary_cross_entropy_with_logits(t64(x, False), t64(t, False), reduction=reduction,
                                             **kw)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10)
    nc.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                                 **kw), (t64(x), t64(t)))
    mod = nn.BCEWithLogitsLoss(reduction=reduction, **kw)
    np.testing.assert_allclose(mod(t64(x, False), t64(t, False)).numpy(), ref, rtol=1e-10)


def test_bce_with_logits_stable():
    x = nc.tensor([1e4, -1e4, 0.0], requires_grad=True)
    t = nc.tensor([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 1e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, -1, -0.5], atol=1e-6)
    with pytest.raises(ValueError, match=r"Target size \(3, 1\) must be the same as input "
                                         r"size \(3,\)"):
        F.binary_cross_entropy_with_logits(nc.zeros(3), nc.zeros(3, 1))
    assert np.isnan(F.binary_cross_entropy_with_logits(nc.tensor([np.nan]),
                                                       nc.tensor([1.0])).item())


def test_losses_keep_float32(rng):
    x = nc.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    t64_ = nc.tensor(rng.uniform(0, 1, (3, 2)))          # float64 target
    w64 = nc.tensor(rng.uniform(0, 1, (3, 2)))
    for loss in (F.mse_loss(x, t64_), F.l1_loss(x, t64_),
                 F.binary_cross_entropy_with_logits(x, t64_, weight=w64,
                                                    pos_weight=np.ones(2)),
                 F.cross_entropy(x, nc.tensor([0, 1, 1]), weight=np.ones(2))):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


def test_loss_module_validation():
    with pytest.raises(ValueError):
        nn.MSELoss(reduction="bad")
    ce = nn.CrossEntropyLoss(weight=nc.ones(3), ignore_index=0)
    assert "weight" in ce.state_dict()


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(1, 6), shift=st.floats(-1e4, 1e4),
       scale=st.floats(0.1, 1e3), seed=st.integers(0, 2 ** 31), ls=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_properties(n, c, shift, scale, seed, ls):
    """Shifting every logit of a row leaves loss and gradient unchanged; the loss is
    non-negative and finite; the gradient of each row sums to 0."""
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, c)) * scale
    y = nc.tensor(r.integers(0, c, n))
    a = t64(x)
    b = t64(x + shift)
    la = F.cross_entropy(a, y, label_smoothing=ls)
    lb = F.cross_entropy(b, y, label_smoothing=ls)
    la.backward()
    lb.backward()
    assert np.isfinite(la.item()) and la.item() >= -1e-12
    np.testing.assert_allclose(lb.item(), la.item(), rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=1e-6)
    np.testing.assert_allclose(a.grad.numpy().sum(1), 0, atol=1e-12)


def test_cross_entropy_accepts_raw_label_array():
    """Labels straight from a dataset (a NumPy int array) work like an int64 Tensor."""
    import numpy as np
    import npconv as nc
    import npconv.nn.functional as F
    logits = nc.tensor(np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32))
    labels = np.array([0, 3, 1, 1, 2])
    a = F.cross_entropy(logits, labels)
    b = F.cross_entropy(logits, nc.tensor(labels))
    assert a.item() == b.item()
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(logits, np.array([0, 4, 1, 1, 2]))


# ------------------------------------------------------------------ values written out
# computed once with PyTorch 2.13 (float64), so these run without torch
X4 = [[1.0, -0.5, 2.0], [0.3, 0.3, -1.2], [-2.0, 0.0, 0.5], [0.7, 1.4, -0.1]]
W3 = [0.5, 2.0, 1.5]


def test_cross_entropy_values_from_torch():
    x = t64(X4)
    loss = F.cross_entropy(x, nc.tensor([2, 0, -100, 1]), nc.tensor(W3), label_smoothing=0.2)
    loss.backward()
    np.testing.assert_allclose(loss.item(), 0.6948911387789964, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [
        [0.08469593326617594, -0.012575698178493858, -0.07212023508768202],
        [-0.03336396372362098, 0.041636036276379025, -0.008272072552758056],
        [0.0, 0.0, 0.0],
        [0.1264214056309132, -0.1619706128996046, 0.03554920726869149]], rtol=1e-10)
    none = F.cross_entropy(t64(X4, False), nc.tensor([2, 0, -100, 1]), nc.tensor(W3),
                           reduction="none")
    np.testing.assert_allclose(none.numpy(), [0.5573085477790243, 0.39945809242086283, 0.0,
                                              1.084317698397393], rtol=1e-12)


def test_cross_entropy_probability_targets_values_from_torch():
    x = t64(X4)
    p = t64([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8], [0.0, 0.6, 0.4]])
    loss = F.cross_entropy(x, p, nc.tensor(W3), label_smoothing=0.1)
    loss.backward()
    np.testing.assert_allclose(loss.item(), 1.394268114176566, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [
        [0.06456544364626117, -0.13131003128186386, 0.06674458763560277],
        [-0.05106846825816835, 0.04893153174183165, 0.002136936516336703],
        [0.0020629754745891075, 0.0674913897043045, -0.06955436517889364],
        [0.12240653457475059, -0.031779539973557196, -0.09062699460119338]], rtol=1e-10)
    # the target is differentiable too (as in PyTorch): d/dp = -(1 - s) w log_softmax(x) / N
    np.testing.assert_allclose(p.grad.numpy(), [
        [0.15429814108342682, 1.2921925643337073, 0.12539442325028047],
        [0.08987807079469413, 0.35951228317877654, 0.7758842123840823],
        [0.3401897688202396, 0.4607590752809585, 0.1768193064607189],
        [0.13974287053485338, 0.24397148213941344, 0.6892286116045601]], rtol=1e-10)


def test_unbatched_input_takes_0d_or_1_element_target():
    x = t64([0.5, -1.0, 2.0], False)
    for y in (nc.tensor(1), nc.tensor([1])):             # PyTorch takes both
        for fn in (F.cross_entropy, lambda a, b, **k: F.nll_loss(F.log_softmax(a, 0), b, **k)):
            out = fn(x, y)
            assert out.shape == ()
            np.testing.assert_allclose(out.item(), 3.241311296657157, rtol=1e-12)
            assert fn(x, y, reduction="none").shape == ()


def test_bce_with_logits_values_from_torch():
    z = t64([[3.0, -1.0], [0.0, 2.0], [-4.0, 0.5]], False)
    t = t64([[1.0, 0.0], [0.25, 1.0], [0.0, 0.5]], False)
    out = F.binary_cross_entropy_with_logits(z, t, nc.tensor([[1.0], [2.0], [0.5]]),
                                             reduction="none", pos_weight=nc.tensor([3.0, 0.5]))
    np.testing.assert_allclose(out.numpy(), [[0.1457620547212262, 0.3132616875182228],
                                             [2.0794415416798357, 0.1269280110429725],
                                             [0.009074963958904725, 0.30277886906754004]],
                               rtol=1e-12)


# ------------------------------------------------------------------ probability targets
def ref_ce_prob(x, p, weight=None, reduction="mean", ls=0.0):
    """Cross entropy against class probabilities (class axis 1), float64 NumPy."""
    c = x.shape[1]
    x = np.moveaxis(np.asarray(x, np.float64), 1, -1).reshape(-1, c)
    p = np.moveaxis(np.asarray(p, np.float64), 1, -1).reshape(-1, c)
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    q = p * (1 - ls) + ls / c
    per = -(w * q * logp).sum(1)
    return {"mean": per.mean() if len(per) else np.nan, "sum": per.sum(), "none": per}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ls", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(rng, reduction, ls, weighted):
    x = rng.standard_normal((3, 4, 2, 2)) * 2
    p = rng.dirichlet(np.ones(4), (3, 2, 2)).transpose(0, 3, 1, 2)
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    wt = None if w is None else nc.tensor(w)
    out = F.cross_entropy(t64(x, False), t64(p, False), wt, reduction=reduction,
                          label_smoothing=ls)
    ref = ref_ce_prob(x, p, w, reduction, ls)
    assert out.shape == ((3, 2, 2) if reduction == "none" else ())
    np.testing.assert_allclose(out.numpy().reshape(-1), np.reshape(ref, -1), rtol=1e-12)
    # 'mean' divides by the samples, not by the weights (PyTorch's rule for probabilities)
    if reduction == "mean":
        total = F.cross_entropy(t64(x, False), t64(p, False), wt, reduction="sum",
                                label_smoothing=ls)
        np.testing.assert_allclose(out.item(), total.item() / 12, rtol=1e-12)
    nc.gradcheck(lambda a, b: F.cross_entropy(a, b, wt, reduction=reduction,
                                              label_smoothing=ls), (t64(x), t64(p)))
    # one-hot probabilities give the class-index loss (when no weight changes the 'mean')
    y = rng.integers(0, 4, (3, 2, 2))
    onehot = np.moveaxis(np.eye(4)[y], -1, 1)
    a = F.cross_entropy(t64(x, False), t64(onehot, False), reduction=reduction,
                        label_smoothing=ls)
    b = F.cross_entropy(t64(x, False), nc.tensor(y), reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_cross_entropy_probability_targets_edge_cases():
    # unbatched (C,) input with (C,) probabilities: a 0-d loss
    v, q = np.array([0.5, -1.0, 2.0]), np.array([0.2, 0.5, 0.3])
    out = F.cross_entropy(t64(v, False), t64(q, False), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), ref_ce_prob(v[None], q[None]), rtol=1e-12)
    # a negative ignore_index other than the default is allowed (PyTorch: ignore_index < 0)
    np.testing.assert_allclose(
        F.cross_entropy(t64(v, False), t64(q, False), ignore_index=-1).item(), out.item())
    # no samples: 'mean' is NaN (0 / 0), 'sum' 0, and backward gives empty gradients
    x = t64(np.zeros((0, 3)))
    assert np.isnan(F.cross_entropy(x, t64(np.zeros((0, 3)), False)).item())
    assert F.cross_entropy(x, t64(np.zeros((0, 3)), False), reduction="sum").item() == 0
    F.cross_entropy(x, t64(np.zeros((0, 3)), False)).backward()
    assert x.grad.shape == (0, 3)
    # float64 probabilities for a float32 input: the loss and gradient stay float32, the
    # target's gradient comes back in the target's own dtype
    xf = nc.tensor(np.array([[1e4, -1e4, 0.0]], np.float32), requires_grad=True)
    pf = t64([[0.25, 0.25, 0.5]])
    loss = F.cross_entropy(xf, pf)
    loss.backward()
    assert loss.dtype == np.float32 and xf.grad.dtype == np.float32
    assert pf.grad.dtype == np.float64
    np.testing.assert_allclose(loss.item(), 0.25 * 2e4 + 0.5 * 1e4, rtol=1e-6)
    np.testing.assert_allclose(xf.grad.numpy(), [[0.75, -0.25, -0.5]], atol=1e-6)


# ------------------------------------------------------------------ dtypes and signatures
@pytest.mark.parametrize("case", ["ce", "ce_ls_w", "ce_prob", "ce_spatial", "nll", "bce"])
def test_float32_in_float32_out_with_float64_extras(rng, case):
    """float32 logits give a float32 loss and float32 gradients even when a target, weight
    or pos_weight is float64 (no silent upcast)."""
    shape = (4, 3, 2) if case == "ce_spatial" else (4, 3)
    x = nc.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    w64 = nc.tensor(rng.uniform(0.5, 2, 3))
    y = nc.tensor(rng.integers(0, 3, (4, 2) if case == "ce_spatial" else 4))
    if case == "ce":
        loss = F.cross_entropy(x, y)
    elif case == "ce_ls_w":
        loss = F.cross_entropy(x, nc.tensor([0, -100, 2, 1]), w64, label_smoothing=0.1)
    elif case == "ce_prob":
        loss = F.cross_entropy(x, nc.tensor(rng.dirichlet(np.ones(3), 4)), w64,
                               label_smoothing=0.1)
    elif case == "ce_spatial":
        loss = F.cross_entropy(x, y, w64, reduction="none")
    elif case == "nll":
        loss = F.nll_loss(x, y, w64, reduction="sum")
    else:
        loss = F.binary_cross_entropy_with_logits(x, nc.tensor(rng.uniform(0, 1, (4, 3))),
                                                  nc.tensor(rng.uniform(0, 1, (4, 1))),
                                                  pos_weight=w64)
    assert loss.dtype == np.float32
    loss.sum().backward()
    assert x.grad.dtype == np.float32


def test_arguments_after_weight_are_keyword_only():
    """PyTorch's positional slots after ``weight`` are the legacy size_average/reduce, so a
    positional call that PyTorch would read differently must fail, not mean something else."""
    x, y = nc.zeros(2, 3), nc.tensor([0, 1])
    with pytest.raises(TypeError):
        F.cross_entropy(x, y, None, 1)
    with pytest.raises(TypeError):
        F.nll_loss(x, y, None, -100)
    with pytest.raises(TypeError):
        F.mse_loss(x, x, "sum")
    with pytest.raises(TypeError):
        F.l1_loss(x, x, "sum")
    with pytest.raises(TypeError):
        F.binary_cross_entropy_with_logits(x, x, None, "sum")
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, 1)
    with pytest.raises(TypeError):
        nn.MSELoss("sum")
    assert F.mse_loss(x, x + 1, reduction="sum").item() == 6
    assert nn.L1Loss(reduction="sum")(x, x + 1).item() == 6


def test_bce_with_logits_weight_shapes():
    x, t = nc.zeros(4, 3), nc.full((4, 3), 0.5)
    for kw in ({"pos_weight": nc.ones(4)}, {"pos_weight": nc.ones(2, 4, 3)},
               {"weight": nc.ones(2)}, {"weight": nc.ones(2, 4, 3)}):
        name = next(iter(kw))
        shape = tuple(kw[name].shape)
        with pytest.raises(RuntimeError, match=r"%s of shape %s cannot be broadcast to the "
                                               r"input's shape \(4, 3\)"
                                               % (name, re.escape(str(shape)))):
            F.binary_cross_entropy_with_logits(x, t, **kw)
    # shapes that broadcast without growing the output are fine (raw arrays too)
    out = F.binary_cross_entropy_with_logits(x, t, np.full((4, 1), 2.0), reduction="none",
                                             pos_weight=np.ones(3))
    assert out.shape == (4, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), 2 * np.log(2), rtol=1e-6)


def test_float_class_labels_are_refused_not_truncated():
    # labels 0.9 would silently become class 0; PyTorch refuses float class indices too
    with pytest.raises(RuntimeError, match="but got float32"):
        F.nll_loss(nc.zeros(2, 3), nc.tensor([0.9, 1.0]))
    # integer labels of any width are accepted (PyTorch wants int64 or uint8)
    for dt in (np.int8, np.int32, np.uint8, np.int64):
        np.testing.assert_allclose(
            F.cross_entropy(nc.zeros(2, 3), nc.tensor(np.array([2, 1], dt))).item(), np.log(3),
            rtol=1e-6)


# ------------------------------------------------------------------ devices
from devices import assert_on, on_devices, to_host  # noqa: E402


@on_devices
@pytest.mark.parametrize("case", ["spatial_ls_w", "prob", "unbatched", "bce_weights"])
def test_losses_on_devices(device, case, rng):
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    p = rng.dirichlet(np.ones(4), (3, 2)).transpose(0, 2, 1).astype(np.float32)
    y = np.array([[0, 3], [-100, 1], [2, 2]])
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    out = {}
    for d in ("cpu", device):
        xt = nc.tensor(x, requires_grad=True, device=d)
        if case == "spatial_ls_w":
            loss = F.cross_entropy(xt, nc.tensor(y, device=d), nc.tensor(w, device=d),
                                   label_smoothing=0.1)
        elif case == "prob":
            loss = F.cross_entropy(xt, nc.tensor(p, device=d), nc.tensor(w, device=d),
                                   reduction="sum")
        elif case == "unbatched":
            loss = F.cross_entropy(xt[0, :, 0], nc.tensor(3, device=d))
        else:
            # raw NumPy weights are moved to the input's device explicitly
            loss = F.binary_cross_entropy_with_logits(
                xt, nc.tensor(p, device=d), np.full((3, 1, 1), 2.0, np.float32),
                pos_weight=np.array([1.0, 3.0], np.float32))
        assert_on(loss, d)
        assert loss.dtype == np.float32
        loss.backward()
        assert_on(xt.grad, d)
        out[d] = (to_host(loss), to_host(xt.grad))
    np.testing.assert_allclose(out[device][0], out["cpu"][0], rtol=1e-5)
    np.testing.assert_allclose(out[device][1], out["cpu"][1], rtol=1e-4, atol=1e-7)
    if case == "unbatched":
        v = x[0, :, 0].astype(np.float64)
        np.testing.assert_allclose(out["cpu"][0], ref_ce(v[None], np.array([3])), rtol=1e-5)
