"""Losses against PyTorch itself: values, gradients, dtypes and exception types over varied
shapes and options (skipped where torch is not installed, e.g. in CI)."""
import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# input shape -> class-index target shape
SHAPES = {"NC": ((5, 4), (5,)), "N1": ((1, 4), (1,)), "NCdd": ((2, 4, 3, 2), (2, 3, 2)),
          "NCd": ((3, 4, 5), (3, 5)), "C": ((4,), ())}


def _pair(a, dtype=np.float64, grad=True):
    a = np.asarray(a, dtype)
    return (nc.tensor(a, requires_grad=grad),
            torch.tensor(a, requires_grad=grad))


def _labels(rng, shape, c, ignore=None):
    y = rng.integers(0, c, shape)
    if ignore is not None and y.size > 1:
        y.reshape(-1)[1] = ignore
    return y


def _close(n, t, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(n.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def _backward(nl, tl, seed=3):
    """Backprop a random upstream gradient through both (a 'none' loss is not scalar)."""
    gw = np.random.default_rng(seed).standard_normal(tuple(tl.shape))
    (nl * nc.tensor(gw)).sum().backward()
    (tl * torch.tensor(gw)).sum().backward()


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ls", [0.0, 0.25])
@pytest.mark.parametrize("ignore", [None, -100, 2])
def test_cross_entropy_class_indices(shape, reduction, weighted, ls, ignore):
    rng = np.random.default_rng(0)
    xs, ys = SHAPES[shape]
    x = rng.standard_normal(xs) * 2
    y = _labels(rng, ys, 4, ignore)
    w = rng.uniform(0.3, 2.0, 4) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=ls,
              ignore_index=-100 if ignore is None else ignore)
    xn, xt = _pair(x)
    nl = F.cross_entropy(xn, nc.tensor(y), None if w is None else nc.tensor(w), **kw)
    tl = TF.cross_entropy(xt, torch.tensor(y), None if w is None else torch.tensor(w), **kw)
    assert tuple(nl.shape) == tuple(tl.shape)
    _close(nl, tl)
    _backward(nl, tl)
    _close(xn.grad, xt.grad)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [-100, 1])
def test_nll_loss(shape, reduction, weighted, ignore):
    rng = np.random.default_rng(1)
    xs, ys = SHAPES[shape]
    x = -rng.uniform(0.1, 3.0, xs)
    y = _labels(rng, ys, 4, ignore)
    w = rng.uniform(0.3, 2.0, 4) if weighted else None
    xn, xt = _pair(x)
    nl = F.nll_loss(xn, nc.tensor(y), None if w is None else nc.tensor(w),
                    ignore_index=ignore, reduction=reduction)
    tl = TF.nll_loss(xt, torch.tensor(y), None if w is None else torch.tensor(w),
                     ignore_index=ignore, reduction=reduction)
    assert tuple(nl.shape) == tuple(tl.shape)
    _close(nl, tl)
    _backward(nl, tl)
    _close(xn.grad, xt.grad)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ls", [0.0, 0.3])
def test_cross_entropy_probability_targets(shape, reduction, weighted, ls):
    rng = np.random.default_rng(2)
    xs, _ = SHAPES[shape]
    x = rng.standard_normal(xs) * 2
    p = rng.uniform(0, 1, xs)
    p = p / p.sum(axis=1 if len(xs) > 1 else 0, keepdims=True)
    w = rng.uniform(0.3, 2.0, 4) if weighted else None
    xn, xt = _pair(x)
    pn, pt = _pair(p)
    kw = dict(reduction=reduction, label_smoothing=ls)
    nl = F.cross_entropy(xn, pn, None if w is None else nc.tensor(w), **kw)
    tl = TF.cross_entropy(xt, pt, None if w is None else torch.tensor(w), **kw)
    assert tuple(nl.shape) == tuple(tl.shape)
    _close(nl, tl)
    _backward(nl, tl)
    _close(xn.grad, xt.grad)
    _close(pn.grad, pt.grad)                # the target's gradient too, as PyTorch


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2, 2), (5,), ()])
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both", "col"])
def test_bce_with_logits(reduction, shape, weights):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 3
    t = rng.uniform(0, 1, shape)
    w = rng.uniform(0.3, 2.0, shape) if weights in ("weight", "both") else None
    if weights == "col" and len(shape) >= 2:
        w = rng.uniform(0.3, 2.0, shape[:-1] + (1,))
    pw = rng.uniform(0.3, 3.0, shape[-1:]) if weights in ("pos_weight", "both") else None
    xn, xt = _pair(x)
    tn, tt = _pair(t)
    nl = F.binary_cross_entropy_with_logits(
        xn, tn, None if w is None else nc.tensor(w), reduction=reduction,
        pos_weight=None if pw is None else nc.tensor(pw))
    tl = TF.binary_cross_entropy_with_logits(
        xt, tt, None if w is None else torch.tensor(w), reduction=reduction,
        pos_weight=None if pw is None else torch.tensor(pw))
    assert tuple(nl.shape) == tuple(tl.shape)
    _close(nl, tl)
    _backward(nl, tl)
    _close(xn.grad, xt.grad)
    _close(tn.grad, tt.grad)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4), (1,), ()])
def test_mse_l1(name, reduction, shape):
    rng = np.random.default_rng(4)
    an, at = _pair(rng.standard_normal(shape))
    bn, bt = _pair(rng.standard_normal(shape))
    nl = getattr(F, name)(an, bn, reduction=reduction)
    tl = getattr(TF, name)(at, bt, reduction=reduction)
    assert tuple(nl.shape) == tuple(tl.shape)
    _close(nl, tl)
    _backward(nl, tl)
    _close(an.grad, at.grad)
    _close(bn.grad, bt.grad)


@pytest.mark.parametrize("case", ["ce", "ce_ls", "ce_prob", "nll", "bce"])
def test_float32_matches_torch_and_stays_float32(case):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((6, 5, 3)) * 4).astype(np.float32)
    y = rng.integers(0, 5, (6, 3))
    xn, xt = _pair(x, np.float32)
    if case == "ce_prob":
        p = rng.dirichlet(np.ones(5), (6, 3)).transpose(0, 2, 1).astype(np.float32)
        nl, tl = F.cross_entropy(xn, nc.tensor(p)), TF.cross_entropy(xt, torch.tensor(p))
    elif case == "nll":
        nl = F.nll_loss(F.log_softmax(xn, dim=1), nc.tensor(y))
        tl = TF.nll_loss(TF.log_softmax(xt, dim=1), torch.tensor(y))
    elif case == "bce":
        t = rng.uniform(0, 1, x.shape).astype(np.float32)
        nl = F.binary_cross_entropy_with_logits(xn, nc.tensor(t))
        tl = TF.binary_cross_entropy_with_logits(xt, torch.tensor(t))
    else:
        ls = 0.2 if case == "ce_ls" else 0.0
        nl = F.cross_entropy(xn, nc.tensor(y), label_smoothing=ls)
        tl = TF.cross_entropy(xt, torch.tensor(y), label_smoothing=ls)
    nl.backward()
    tl.backward()
    assert nl.dtype == np.float32 and xn.grad.dtype == np.float32
    _close(nl, tl, rtol=1e-5, atol=1e-6)
    _close(xn.grad, xt.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_match_torch(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [3.0, 1e4, -1e4]], dtype)
    y = np.array([1, 2, 0])
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5]], dtype)
    for target_n, target_t in ((nc.tensor(y), torch.tensor(y)),
                               (nc.tensor(p), torch.tensor(p))):
        for ls in (0.0, 0.1):
            xn, xt = _pair(x, dtype)
            nl = F.cross_entropy(xn, target_n, label_smoothing=ls)
            tl = TF.cross_entropy(xt, target_t, label_smoothing=ls)
            nl.backward()
            tl.backward()
            assert np.isfinite(nl.item()) and np.all(np.isfinite(xn.grad.numpy()))
            _close(nl, tl, rtol=1e-6)
            _close(xn.grad, xt.grad, atol=1e-6)
    xn, xt = _pair(x, dtype)
    tgt = (p > 0.25).astype(dtype)
    nl = F.binary_cross_entropy_with_logits(xn, nc.tensor(tgt), reduction="sum")
    tl = TF.binary_cross_entropy_with_logits(xt, torch.tensor(tgt), reduction="sum")
    nl.backward()
    tl.backward()
    _close(nl, tl, rtol=1e-6)
    _close(xn.grad, xt.grad, atol=1e-6)


def test_all_ignored_and_empty_match_torch():
    x = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
    for red in ("mean", "sum", "none"):
        xn, xt = _pair(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            nl = F.cross_entropy(xn, nc.tensor([-100, -100]), reduction=red,
                                 label_smoothing=0.1)
        tl = TF.cross_entropy(xt, torch.tensor([-100, -100]), reduction=red,
                              label_smoothing=0.1)
        np.testing.assert_array_equal(nl.detach().numpy(), tl.detach().numpy())  # NaN == NaN
        with np.errstate(invalid="ignore", divide="ignore"):
            nl.sum().backward()
        tl.sum().backward()
        np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())
    # no samples at all: 'mean' is NaN for both target kinds
    e = np.zeros((0, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        n1 = F.cross_entropy(nc.tensor(e), nc.tensor(np.zeros(0, np.int64)))
        n2 = F.cross_entropy(nc.tensor(e), nc.tensor(e))
    t1 = TF.cross_entropy(torch.tensor(e), torch.zeros(0, dtype=torch.long))
    t2 = TF.cross_entropy(torch.tensor(e), torch.tensor(e))
    assert np.isnan(n1.item()) and np.isnan(t1.item())
    assert np.isnan(n2.item()) and np.isnan(t2.item())


def _raises_like_torch(nfn, tfn):
    """Both raise, with the same exception type (npconv's message is its own)."""
    with pytest.raises(Exception) as te:
        tfn()
    with pytest.raises(Exception) as ne:
        nfn()
    want = type(te.value)
    if want is NotImplementedError:       # PyTorch's "... not implemented for 'Long'"
        want = RuntimeError               # (its base class): npconv names the dtype instead
    assert isinstance(ne.value, want), (ne.value, te.value)
    return ne.value


X = np.zeros((4, 3), np.float32)
Y = np.array([0, 1, 2, 0])
ERRORS = {
    "ce_float_indices": (lambda m, f: f.cross_entropy(m(X), m(Y.astype(np.float32)))),
    "ce_int_probabilities": (lambda m, f: f.cross_entropy(m(X), m(np.zeros((4, 3),
                                                                            np.int64)))),
    "ce_batch_mismatch": (lambda m, f: f.cross_entropy(m(X), m(Y[:2]))),
    "ce_multi_target": (lambda m, f: f.cross_entropy(m(X), m(Y[:, None]))),
    "ce_spatial_mismatch": (lambda m, f: f.cross_entropy(m(np.zeros((2, 3, 4), np.float32)),
                                                         m(np.zeros((2, 5), np.int64)))),
    "ce_1d_input_2_targets": (lambda m, f: f.cross_entropy(m(X[0]), m(Y[:2]))),
    "ce_out_of_range": (lambda m, f: f.cross_entropy(m(X), m(np.array([0, 3, 1, 0])))),
    "ce_negative": (lambda m, f: f.cross_entropy(m(X), m(np.array([0, -1, 1, 0])))),
    "ce_weight_size": (lambda m, f: f.cross_entropy(m(X), m(Y), m(np.ones(4, np.float32)))),
    "ce_prob_weight_size": (lambda m, f: f.cross_entropy(m(X), m(X), m(np.ones(2, np.float32)))),
    "ce_reduction": (lambda m, f: f.cross_entropy(m(X), m(Y), reduction="avg")),
    "ce_reduction_none": (lambda m, f: f.cross_entropy(m(X), m(Y), reduction=None)),
    "ce_label_smoothing": (lambda m, f: f.cross_entropy(m(X), m(Y), label_smoothing=1.5)),
    "ce_prob_ignore_index": (lambda m, f: f.cross_entropy(m(X), m(X), ignore_index=1)),
    "ce_int_input": (lambda m, f: f.cross_entropy(m(Y.reshape(2, 2)), m(Y[:2]))),
    "ce_not_tensor": (lambda m, f: f.cross_entropy(X, m(Y))),
    "nll_0d": (lambda m, f: f.nll_loss(m(np.float32(1.0)), m(np.int64(0)))),
    "nll_float_target": (lambda m, f: f.nll_loss(m(X), m(Y.astype(np.float32)))),
    "nll_batch_mismatch": (lambda m, f: f.nll_loss(m(X), m(Y[:3]))),
    "nll_weight_size": (lambda m, f: f.nll_loss(m(X), m(Y), m(np.ones(2, np.float32)))),
    "nll_out_of_range": (lambda m, f: f.nll_loss(m(X), m(np.array([0, 1, 5, 0])))),
    "mse_reduction": (lambda m, f: f.mse_loss(m(X), m(X), reduction="avg")),
    "l1_reduction": (lambda m, f: f.l1_loss(m(X), m(X), reduction="avg")),
    "bce_shape": (lambda m, f: f.binary_cross_entropy_with_logits(m(X), m(X[0]))),
    "bce_reduction": (lambda m, f: f.binary_cross_entropy_with_logits(m(X), m(X),
                                                                      reduction="x")),
    "bce_pos_weight_shape": (lambda m, f: f.binary_cross_entropy_with_logits(
        m(X), m(X), pos_weight=m(np.ones(4, np.float32)))),
    "bce_weight_shape": (lambda m, f: f.binary_cross_entropy_with_logits(
        m(X), m(X), m(np.ones(2, np.float32)))),
    "bce_weight_grows_output": (lambda m, f: f.binary_cross_entropy_with_logits(
        m(X), m(X), m(np.ones((2, 4, 3), np.float32)))),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_have_torch_types(case):
    make = ERRORS[case]
    err = _raises_like_torch(lambda: make(nc.tensor, F),
                             lambda: make(lambda a: torch.tensor(a), TF))
    assert str(err)


def test_modules_match_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 2, 1])
    w = rng.uniform(0.5, 2, 4)
    pairs = [
        (nn.CrossEntropyLoss(nc.tensor(w), ignore_index=1, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=1, label_smoothing=0.1), y),
        (nn.NLLLoss(nc.tensor(w), reduction="sum"),
         torch.nn.NLLLoss(torch.tensor(w), reduction="sum"), y),
        (nn.MSELoss(reduction="none"), torch.nn.MSELoss(reduction="none"), x[::-1].copy()),
        (nn.L1Loss(), torch.nn.L1Loss(), x[::-1].copy()),
        (nn.BCEWithLogitsLoss(nc.tensor(w), pos_weight=nc.tensor(w[::-1].copy())),
         torch.nn.BCEWithLogitsLoss(torch.tensor(w), pos_weight=torch.tensor(w[::-1].copy())),
         rng.uniform(0, 1, (5, 4))),
    ]
    for mn, mt, t in pairs:
        assert type(mn).__name__ == type(mt).__name__
        assert mn.reduction == mt.reduction
        _close(mn(nc.tensor(x), nc.tensor(t)), mt(torch.tensor(x), torch.tensor(t)))
        assert sorted(dict(mn.named_buffers())) == sorted(dict(mt.named_buffers()))
