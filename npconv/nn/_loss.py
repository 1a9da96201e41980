"""Losses: ``cross_entropy``, ``nll_loss``, ``mse_loss``, ``l1_loss``,
``binary_cross_entropy_with_logits``.

Input is validated here (shapes, dtypes, label ranges, ``reduction``) with PyTorch's exception
types and errors that name what was expected and what was got; the Functions assume valid
input. NaN inputs propagate to the loss (never silently dropped), as in PyTorch.

Deliberate differences from PyTorch: the loss keeps ``input``'s floating dtype (a float64
target, weight or pos_weight is cast to float32 for a float32 input, where PyTorch promotes
or refuses); ``mse_loss``, ``l1_loss`` and ``binary_cross_entropy_with_logits`` refuse a
target of another shape (PyTorch broadcasts ``mse_loss``/``l1_loss`` with a warning); class
labels may be any integer dtype, and a raw label array; an integer ``input`` is refused
(PyTorch promotes one for ``mse_loss``/``l1_loss`` with a float target);
``label_smoothing`` < 0 is refused (PyTorch ignores it); the arguments after ``weight`` are
keyword-only, since PyTorch's positional slots there hold the legacy ``size_average`` and
``reduce``, which npconv does not take.
"""
import numpy

from ..autograd.function import Function
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction):
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError("%s is not a valid value for reduction (expected 'none', 'mean' or "
                         "'sum')" % (reduction,))


def _check_tensor(x, fn, name):
    if not isinstance(x, Tensor):
        raise TypeError("%s(): argument '%s' must be a Tensor, not %s"
                        % (fn, name, type(x).__name__))
    return x


def _check_input(input, fn):
    _check_tensor(input, fn, "input")
    if input.dtype.kind != "f":
        # PyTorch: NotImplementedError ("... not implemented for 'Long'"), a RuntimeError
        raise RuntimeError("%s(): expected a floating point input, got dtype %s"
                           % (fn, input.dtype))
    return input


def _as_tensor(x, input):
    """A Tensor for a target/weight given as a Tensor or a raw array (or list). Raw data is a
    convenience (labels straight from a dataset need no wrapping; PyTorch requires a Tensor)
    and is moved to ``input``'s device; a Tensor is never moved (a Tensor on another device
    is an error, as in PyTorch)."""
    if isinstance(x, Tensor) or x is None:
        return x
    return Tensor(x).to(input.device)


def _reduce_weighted(loss, wt, reduction, shape):
    """Reduce per-row losses as PyTorch's class-index losses do: 'mean' divides by the sum of
    the rows' class weights (ignored rows weigh 0), 'sum' adds, 'none' keeps ``shape``.
    Returns (out, denom), denom None unless 'mean'."""
    if reduction == "mean":
        denom = wt.sum()
        # denom 0 (every row ignored): NaN as PyTorch's, without NumPy's RuntimeWarning
        with numpy.errstate(divide="ignore", invalid="ignore"):
            return loss.sum() / denom, denom
    if reduction == "sum":
        return loss.sum(), None
    return loss.reshape(shape), None


def _class_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C) with the class axis last (a copy only when needed)."""
    xp = get_array_module(x)
    if x.ndim <= 2:
        return x.reshape(-1, x.shape[-1])
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _class_back(g2, shape):
    """Inverse of ``_class_last`` for a gradient."""
    xp = get_array_module(g2)
    if len(shape) <= 2:
        return g2.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.ascontiguousarray(xp.moveaxis(g2.reshape(moved), -1, 1))


def _rows(x):
    """(C,), (N, C) or (N, C, d1, ...) -> rows (M, C) with the class axis last, differentiably."""
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    return _ClassLast.apply(x) if x.ndim > 2 else x


def _same_device(fn, input, other, name):
    """A clear error when a target or weight Tensor is not on ``input``'s device (the raw
    arrays these losses read would otherwise fail inside the backend with its own error)."""
    if isinstance(other, Tensor) and other.device != input.device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           "two devices, %s and %s! (%s() got input on %s and %s on %s; move "
                           "one with .to())" % (input.device, other.device, fn, input.device,
                                                name, other.device))


def _check_class_shape(input, target, fn):
    """PyTorch's shape rules for class-index targets, with its exception types: a batch-size
    mismatch is a ValueError, any other mismatch a RuntimeError."""
    if input.ndim == 0:
        raise ValueError("%s(): Expected 1 or more dimensions (got 0): input must be (C,), "
                         "(N, C) or (N, C, d1, ...)" % fn)
    tshape = tuple(target.shape)
    if input.ndim == 1:
        # PyTorch also takes a 1-element 1-D target for an unbatched input
        if tshape not in ((), (1,)):
            raise ValueError("%s(): For 1D input, 1D target must have size 1: expected "
                             "target of shape () for input of shape %s, got %s"
                             % (fn, tuple(input.shape), tshape))
        return
    if not tshape or tshape[0] != input.shape[0]:
        raise ValueError("%s(): Expected input batch_size (%d) to match target batch_size "
                         "(%s): input of shape %s, target of shape %s"
                         % (fn, input.shape[0], tshape[0] if tshape else "none",
                            tuple(input.shape), tshape))
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tshape != expected:
        raise RuntimeError("%s(): Expected target size %s for input of shape %s (class axis "
                           "1), got %s" % (fn, expected, tuple(input.shape), tshape))


def _class_target(input, target, fn, ignore_index):
    """Validate class-index ``target`` against ``input`` (already checked) and return the flat
    int64 labels (one per row of ``_rows(input)``) and C."""
    _check_class_shape(input, target, fn)
    if target.dtype.kind not in "iu":
        hint = (" (or class probabilities of the input's shape %s)" % (tuple(input.shape),)
                if fn == "cross_entropy" else "")
        raise RuntimeError("%s(): expected target dtype to be Long or Byte (integer class "
                           "indices%s), but got %s; convert labels with .long()"
                           % (fn, hint, target.dtype))
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    t = target.data.reshape(-1)
    if t.dtype != "int64":
        t = t.astype("int64")
    xp = get_array_module(t)
    if t.size:
        bad = ((t < 0) | (t >= c)) & (t != ignore_index)
        if bool(bad.any()):
            first = int(t[xp.argmax(bad)])
            raise IndexError("%s(): Target %d is out of bounds: labels must be in [0, %d] "
                             "(C=%d classes) or equal ignore_index=%d"
                             % (fn, first, c - 1, c, ignore_index))
    return t, c


def _check_weight(weight, c, input, fn):
    """Per-class ``weight`` (C,) as a raw array of ``input``'s dtype (None stays None)."""
    if weight is None:
        return None
    _same_device(fn, input, weight, "weight")
    w = _as_tensor(weight, input).data
    if tuple(w.shape) != (c,):
        raise RuntimeError("%s(): weight tensor should be defined either for all %d classes or "
                           "no classes: expected shape (%d,), got %s"
                           % (fn, c, c, tuple(w.shape)))
    return w.astype(input.dtype, copy=False)


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood on rows of x (M, C), labels t (M,).

    With p = softmax(x), per-row coefficients a[i, c] = (1 - s) w[t_i] [c == t_i] + s w[c] / C
    (s = label_smoothing, w = class weights or 1; a = 0 for ignored rows):
        loss_i = -sum_c a[i, c] log p[i, c]
        dloss_i/dx[i, c] = p[i, c] sum_c' a[i, c'] - a[i, c]
    'mean' divides by the total weight sum_i w[t_i] of the non-ignored rows (PyTorch's rule,
    NaN when every row is ignored)."""

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction, smoothing, shape):
        xp = get_array_module(x)
        m, c = x.shape
        s = x - x.max(axis=1, keepdims=True)
        e = xp.exp(s)
        sumexp = e.sum(axis=1, keepdims=True)
        logp = s
        logp -= xp.log(sumexp)               # in place: s is no longer needed
        keep = t != ignore_index
        tt = xp.where(keep, t, 0)
        rows = xp.arange(m)
        # ignored rows give exactly 0 (even when their logits hold NaN), as PyTorch
        picked = xp.where(keep, logp[rows, tt], 0)
        keepf = keep.astype(x.dtype)
        wt = keepf if weight is None else weight[tt] * keepf
        loss = -(wt * picked)
        if smoothing:
            loss *= 1.0 - smoothing
            if weight is None:
                smooth = -logp.sum(axis=1)
            else:
                smooth = -(logp * weight).sum(axis=1)
            smooth = xp.where(keep, smooth, 0)
            loss += smooth * (smoothing / c)
        out, denom = _reduce_weighted(loss, wt, reduction, shape)
        ctx.save_for_backward(logp, tt, keep, wt, weight)
        ctx.denom = denom
        ctx.reduction, ctx.smoothing = reduction, smoothing
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        logp, tt, keep, wt, weight = ctx.saved_tensors
        xp = get_array_module(logp)
        m, c = logp.shape
        s = ctx.smoothing
        p = xp.exp(logp)
        rows = xp.arange(m)
        # float masks in logp's dtype: a bool mask times a Python float would be float64
        keepf = keep.astype(logp.dtype)
        # row sums of a: (1 - s) w[t] + s * sum(w) / C  (ignored rows: 0)
        if s:
            wsum = float(c) if weight is None else weight.sum()
            asum = wt * (1.0 - s) + keepf * (s * wsum / c)
        else:
            asum = wt
        grad = p * asum[:, None]
        grad[rows, tt] -= wt * (1.0 - s)
        if s:
            if weight is None:
                grad -= keepf[:, None] * (s / c)
            else:
                grad -= keepf[:, None] * (weight * (s / c))[None, :]
        if ctx.reduction == "none":
            grad *= g.reshape(-1)[:, None]
        elif ctx.reduction == "mean":
            with numpy.errstate(divide="ignore", invalid="ignore"):     # denom 0: see below
                grad *= g / ctx.denom
        else:
            grad *= g
        # masked after scaling: ignored rows get exactly 0 even when the scale is inf or NaN
        # (every row ignored: denom 0), as PyTorch, whose loss is NaN but gradient 0 there
        if not bool(keep.all()):
            grad = xp.where(keep[:, None], grad, 0)
        return grad.astype(logp.dtype, copy=False), None, None, None, None, None, None


class CrossEntropyProb(Function):
    """Cross entropy against class probabilities: rows x (M, C), targets t (M, C).

    With q = (1 - s) t + s / C (s = label_smoothing) and a = w q (w = class weights or 1):
        loss_i = -sum_c a[i, c] log p[i, c],  p = softmax(x)
        dloss_i/dx[i, c] = p[i, c] sum_c' a[i, c'] - a[i, c]
        dloss_i/dt[i, c] = -(1 - s) w[c] log p[i, c]
    'mean' divides by M (the rows, whatever the weights: PyTorch's rule; NaN when M = 0)."""

    @staticmethod
    def forward(ctx, x, t, weight, reduction, smoothing, shape):
        xp = get_array_module(x)
        m, c = x.shape
        logp = x - x.max(axis=1, keepdims=True)
        logp -= xp.log(xp.exp(logp).sum(axis=1, keepdims=True))
        a = t * (1.0 - smoothing) + smoothing / c if smoothing else t
        if weight is not None:
            a = a * weight
        loss = -(a * logp).sum(axis=1)
        if reduction == "mean":
            out = loss.sum() / m if m else xp.asarray(float("nan"), dtype=x.dtype)
        elif reduction == "sum":
            out = loss.sum()
        else:
            out = loss.reshape(shape)
        ctx.save_for_backward(logp, a, weight)
        ctx.reduction, ctx.smoothing = reduction, smoothing
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        logp, a, weight = ctx.saved_tensors
        m = logp.shape[0]
        if ctx.reduction == "none":
            scale = g.reshape(-1)[:, None]
        elif ctx.reduction == "mean":
            scale = g / max(m, 1)            # m = 0: the gradients are empty anyway
        else:
            scale = g
        gx = gt = None
        if ctx.needs_input_grad[0]:
            xp = get_array_module(logp)
            gx = xp.exp(logp) * a.sum(axis=1, keepdims=True)
            gx -= a
            gx *= scale
        if ctx.needs_input_grad[1]:
            gt = logp * (scale * -(1.0 - ctx.smoothing))
            if weight is not None:
                gt *= weight
        return gx, gt, None, None, None, None


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy of logits ``input`` (C,), (N, C) or (N, C, d1, ...), as PyTorch's
    ``F.cross_entropy``: loss = -sum_c w_c q_c log softmax(input)_c per sample.

    ``target``: integer class indices ((), (N,) or (N, d1, ...); q one-hot, smoothed by
    ``label_smoothing``; ``ignore_index`` rows count 0 and 'mean' divides by the summed
    weights w[target] of the other rows) or, with ``input``'s shape, class probabilities
    (float; 'mean' divides by the number of samples). ``weight``: (C,) per-class weights.
    Output: a scalar, or for 'none' the target's shape less the class axis.

    One fused Function (log-softmax + NLL, stable for logits of any magnitude)."""
    fn = "cross_entropy"
    _check_reduction(reduction)
    _check_input(input, fn)
    target = _as_tensor(target, input)
    _check_tensor(target, fn, "target")
    _same_device(fn, input, target, "target")
    if label_smoothing is None or not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError("cross_entropy(): label_smoothing must be between 0.0 and 1.0, "
                           "got %s" % (label_smoothing,))
    if input.ndim >= 1 and tuple(target.shape) == tuple(input.shape):
        # PyTorch's rule: a target of the input's shape holds class probabilities
        if target.dtype.kind != "f":
            raise RuntimeError("cross_entropy(): Expected floating point type for target with "
                               "class probabilities (a target of the input's shape %s), got "
                               "%s" % (tuple(input.shape), target.dtype))
        if ignore_index >= 0:
            raise RuntimeError("cross_entropy(): ignore_index is not supported for floating "
                               "point target (class probabilities), got ignore_index=%d"
                               % ignore_index)
        c = input.shape[1] if input.ndim > 1 else input.shape[0]
        w = _check_weight(weight, c, input, fn)
        if target.dtype != input.dtype:      # keep the input's precision
            target = target.to(dtype=input.dtype)
        shape = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim > 1 else ()
        return CrossEntropyProb.apply(_rows(input), _rows(target), w, reduction,
                                      float(label_smoothing), shape)
    t, c = _class_target(input, target, fn, ignore_index)
    w = _check_weight(weight, c, input, fn)
    shape = tuple(target.shape) if input.ndim > 1 else ()
    return CrossEntropy.apply(_rows(input), t, w, int(ignore_index), reduction,
                              float(label_smoothing), shape)


class _ClassLast(Function):
    """(N, C, d1, ...) -> (N*d1*..., C), differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return _class_last(x)

    @staticmethod
    def backward(ctx, g):
        return _class_back(g, ctx.shape)


class NLLLoss(Function):
    """loss_i = -w[t_i] x[i, t_i] on log-probabilities x (M, C); d/dx[i, t_i] = -w[t_i]."""

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction, shape):
        xp = get_array_module(x)
        m, c = x.shape
        keep = t != ignore_index
        tt = xp.where(keep, t, 0)
        rows = xp.arange(m)
        keepf = keep.astype(x.dtype)
        wt = keepf if weight is None else weight[tt] * keepf
        loss = -(wt * xp.where(keep, x[rows, tt], 0))
        out, denom = _reduce_weighted(loss, wt, reduction, shape)
        ctx.save_for_backward(tt, wt, keep)
        ctx.m_c, ctx.dtype, ctx.denom, ctx.reduction = (m, c), x.dtype, denom, reduction
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        tt, wt, keep = ctx.saved_tensors
        xp = get_array_module(wt)
        m, c = ctx.m_c
        grad = xp.zeros((m, c), dtype=ctx.dtype)
        if ctx.reduction == "none":
            scale = -wt * g.reshape(-1)
        elif ctx.reduction == "mean":
            with numpy.errstate(divide="ignore", invalid="ignore"):     # denom 0: see below
                scale = -wt * (g / ctx.denom)
        else:
            scale = -wt * g
        # ignored rows get exactly 0 (not 0 * inf = NaN when every row is ignored), as PyTorch
        scale = xp.where(keep, scale, 0)
        grad[xp.arange(m), tt] = scale
        return grad, None, None, None, None, None


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (C,), (N, C) or (N, C, d1, ...)
    and integer labels ``target`` ((), (N,) or (N, d1, ...)), as PyTorch's ``F.nll_loss``:
    loss = -w[target] input[target] per sample; 'mean' divides by the summed w[target] of
    the rows not equal to ``ignore_index`` (which count 0). ``weight``: (C,)."""
    fn = "nll_loss"
    _check_reduction(reduction)
    _check_input(input, fn)
    target = _as_tensor(target, input)
    _check_tensor(target, fn, "target")
    _same_device(fn, input, target, "target")
    t, c = _class_target(input, target, fn, ignore_index)
    w = _check_weight(weight, c, input, fn)
    shape = tuple(target.shape) if input.ndim > 1 else ()
    return NLLLoss.apply(_rows(input), t, w, int(ignore_index), reduction, shape)


def _check_pair(input, target, fn):
    _check_input(input, fn)
    target = _as_tensor(target, input)
    _check_tensor(target, fn, "target")
    _same_device(fn, input, target, "target")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError("%s(): Target size %s must be the same as input size %s (npconv "
                         "does not broadcast losses: a mismatch is almost always a bug)"
                         % (fn, tuple(target.shape), tuple(input.shape)))
    if target.dtype != input.dtype:      # keep the input's precision (float32 stays float32)
        target = target.to(dtype=input.dtype)
    return target


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def mse_loss(input, target, *, reduction="mean"):
    """Squared error (input - target)^2 elementwise, ``target`` of ``input``'s shape, then
    reduced, as PyTorch's ``F.mse_loss``."""
    _check_reduction(reduction)
    target = _check_pair(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Absolute error |input - target| elementwise, ``target`` of ``input``'s shape, then
    reduced, as PyTorch's ``F.l1_loss``."""
    _check_reduction(reduction)
    target = _check_pair(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


class BCEWithLogits(Function):
    """l = (1 - t) x + (1 + (p - 1) t) softplus(-x), softplus(-x) = log1p(exp(-|x|)) + max(-x, 0)
    (p = pos_weight, 1 when absent; stable for any x).
    dl/dx = (1 - t) - (1 + (p - 1) t) sigmoid(-x);  dl/dt = -x + (p - 1) softplus(-x)."""

    @staticmethod
    def forward(ctx, x, t, pos_weight):
        xp = get_array_module(x)
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        if pos_weight is None:
            loss = (1 - t) * x + sp
        else:
            loss = (1 - t) * x + (1 + (pos_weight - 1) * t) * sp
        ctx.save_for_backward(x, t, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, t, pw = ctx.saved_tensors
        xp = get_array_module(x)
        nx, nt = ctx.needs_input_grad[:2]
        gx = gt = None
        if nx:
            e = xp.exp(-xp.abs(x))
            sig_neg = xp.where(x >= 0, e / (1 + e), 1 / (1 + e))      # sigmoid(-x)
            lw = 1 if pw is None else 1 + (pw - 1) * t
            gx = g * ((1 - t) - lw * sig_neg)
        if nt:
            if pw is None:
                gt = -g * x
            else:
                sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
                gt = g * (-x + (pw - 1) * sp)
        return gx, gt, None


def _check_broadcasts_to(shape, target_shape, fn, name):
    """``shape`` must broadcast to ``target_shape`` without growing it (PyTorch's in-place
    rule for these weights): a RuntimeError naming both shapes otherwise."""
    shape, target_shape = tuple(shape), tuple(target_shape)
    ok = len(shape) <= len(target_shape) and all(
        a == 1 or a == b for a, b in zip(reversed(shape), reversed(target_shape)))
    if not ok:
        raise RuntimeError("%s(): %s of shape %s cannot be broadcast to the input's shape %s"
                           % (fn, name, shape, target_shape))


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy on logits, as PyTorch's ``F.binary_cross_entropy_with_logits``:
    l = -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) elementwise, then reduced.

    ``target`` (probabilities in [0, 1]) has ``input``'s shape; ``weight`` w and
    ``pos_weight`` p (one per class: broadcast on the last axis) broadcast to it."""
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction)
    target = _check_pair(input, target, fn)
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        _same_device(fn, input, t, name)
    pw = None
    if pos_weight is not None:
        pw = _as_tensor(pos_weight, input).data
        _check_broadcasts_to(pw.shape, input.shape, fn, "pos_weight")
        pw = pw.astype(input.dtype, copy=False)
    if weight is not None:
        weight = _as_tensor(weight, input)
        _check_broadcasts_to(weight.shape, input.shape, fn, "weight")
    loss = BCEWithLogits.apply(input, target, pw)
    if weight is not None:
        loss = loss * weight.to(dtype=input.dtype)
    return _reduce(loss, reduction)
