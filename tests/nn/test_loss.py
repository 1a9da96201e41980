"""Losses: values against NumPy references, gradcheck (float64), validation, stability."""
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
    x = t64([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = fn(x, nc.tensor([-100, -100]))
        loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    # a zero-weight kept row next to an ignored one: NaN for the kept row only (PyTorch's values)
    x.grad = None
    with np.errstate(invalid="ignore", divide="ignore"):
        fn(x, nc.tensor([0, -100]), weight=nc.tensor([0.0, 1.0, 1.0])).backward()
    g = x.grad.numpy()
    assert np.isnan(g[0, 0]) and np.all(g[1] == 0)
    # an ignored row's gradient stays 0 even when the upstream gradient there is NaN
    x.grad = None
    (fn(x, nc.tensor([-100, 1]), reduction="none") * nc.tensor([np.nan, 1.0])).sum().backward()
    assert np.all(x.grad.numpy()[0] == 0) and np.all(np.isfinite(x.grad.numpy()[1]))


def test_cross_entropy_validation():
    x = nc.zeros(4, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, nc.tensor([0, 1, 3, 0]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(x, nc.tensor([0, -1, 1, 0]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(x, nc.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(x, nc.tensor([0, 1]))
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(x, nc.tensor([[0], [1], [2], [0]]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), weight=nc.ones(4))
    with pytest.raises(TypeError):
        F.cross_entropy(np.zeros((4, 3)), nc.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, nc.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    # a custom ignore_index is accepted, out-of-range values other than it are not
    F.cross_entropy(x, nc.tensor([0, 7, 2, 0]), ignore_index=7)


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
    np.testing.assert_allclose(F.mse_loss(t64(a, False), t64(b, False), reduction).numpy(),
                               red((a - b) ** 2), rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(t64(a, False), t64(b, False), reduction).numpy(),
                               red(np.abs(a - b)), rtol=1e-12)
    nc.gradcheck(lambda x, y: F.mse_loss(x, y, reduction), (t64(a), t64(b)))
    nc.gradcheck(lambda x, y: F.l1_loss(x, y, reduction), (t64(a), t64(b)))
    assert nn.MSELoss()(t64(a, False), t64(b, False)).shape == ()
    assert nn.L1Loss(reduction="none")(t64(a, False), t64(b, False)).shape == (3, 4)
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(t64(a, False), t64(b[:, :2], False))
    with pytest.raises(ValueError, match="shape"):
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
    with pytest.raises(ValueError, match="shape"):
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
