"""Losses: ``cross_entropy``, ``nll_loss``, ``mse_loss``, ``l1_loss``,
``binary_cross_entropy_with_logits``.

Input is validated here (shapes, dtypes, label ranges, ``reduction``) with errors that name
what was expected and what was got; the Functions assume valid input. NaN inputs propagate
to the loss (never silently dropped), as in PyTorch.
"""
from ..autograd.function import Function
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError("%r is not a valid value for reduction (expected 'none', 'mean' or "
                         "'sum')" % (reduction,))


def _check_tensor(x, fn, name):
    if not isinstance(x, Tensor):
        raise TypeError("%s(): argument '%s' must be a Tensor, not %s"
                        % (fn, name, type(x).__name__))
    return x


def _reduce_weighted(loss, wt, reduction, shape):
    """Reduce per-row losses as PyTorch's class-index losses do: 'mean' divides by the sum of
    the rows' class weights (ignored rows weigh 0), 'sum' adds, 'none' keeps ``shape``.
    Returns (out, denom), denom None unless 'mean'."""
    if reduction == "mean":
        denom = wt.sum()
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


def _same_device(fn, input, other, name):
    """A clear error when a target or weight Tensor is not on ``input``'s device (the raw
    arrays these losses read would otherwise fail inside the backend with its own error)."""
    if isinstance(other, Tensor) and other.device != input.device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           "two devices, %s and %s! (%s() got input on %s and %s on %s; move "
                           "one with .to())" % (input.device, other.device, fn, input.device,
                                                name, other.device))


def _check_class_target(input, target, fn, ignore_index):
    """Validate (input, target) for class-index losses and return the flat int64 target
    (one label per row of ``_class_last(input)``)."""
    _check_tensor(input, fn, "input")
    if not isinstance(target, Tensor) and hasattr(target, "dtype") and hasattr(target, "shape"):
        # a raw label array (NumPy, or the input's device array) is accepted as a convenience:
        # labels straight from a dataset need no wrapping (PyTorch requires a Tensor here)
        target = Tensor._wrap(target)
    _check_tensor(target, fn, "target")
    _same_device(fn, input, target, "target")
    if input.dtype.kind != "f":
        raise TypeError("%s(): input must be floating point (logits or log-probabilities), "
                        "got %s" % (fn, input.dtype))
    if target.dtype.kind not in "iu":
        raise TypeError("%s(): target must hold integer class indices (int64), got dtype %s; "
                        "convert labels with .long() (class-probability targets are not "
                        "supported)" % (fn, target.dtype))
    if input.ndim == 0:
        raise ValueError("%s(): input must have at least 1 dimension (C,) or (N, C, ...)" % fn)
    if input.ndim == 1:
        expected = ()
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError("%s(): expected target of shape %s for input of shape %s (class axis "
                         "1), got target of shape %s" % (fn, expected, input.shape,
                                                          target.shape))
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
        wt = keep.astype(x.dtype) if weight is None else weight[tt] * keep
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
        # row sums of a: (1 - s) w[t] + s * sum(w) / C  (ignored rows: 0)
        if s:
            wsum = float(c) if weight is None else weight.sum()
            asum = wt * (1.0 - s) + keep * (s * wsum / c)
        else:
            asum = wt
        grad = p * asum[:, None]
        grad[rows, tt] -= wt * (1.0 - s)
        if s:
            if weight is None:
                grad -= keep[:, None] * (s / c)
            else:
                grad -= keep[:, None] * (weight * (s / c))[None, :]
        if ctx.reduction == "none":
            grad *= g.reshape(-1)[:, None]
        elif ctx.reduction == "mean":
            grad *= g / ctx.denom
        else:
            grad *= g
        # masked after scaling: ignored rows get exactly 0 even when the scale is inf or NaN
        # (every row ignored: denom 0), as PyTorch, whose loss is NaN but gradient 0 there
        if not bool(keep.all()):
            grad = xp.where(keep[:, None], grad, 0)
        return grad.astype(logp.dtype, copy=False), None, None, None, None, None, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy between logits ``input`` (C,), (N, C) or (N, C, d1, ...) and integer
    class labels ``target`` ((), (N,) or (N, d1, ...)), as PyTorch's ``F.cross_entropy``.

    One fused Function (log-softmax + NLL, stable for logits of any magnitude)."""
    _check_reduction(reduction)
    t, c = _check_class_target(input, target, "cross_entropy", ignore_index)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError("cross_entropy(): label_smoothing must be between 0.0 and 1.0, got %s"
                         % label_smoothing)
    w = _check_weight(weight, c, input, "cross_entropy")
    x2 = input.reshape(1, c) if input.ndim == 1 else input
    rows = _ClassLast.apply(x2) if x2.ndim > 2 else x2
    shape = tuple(target.shape)
    return CrossEntropy.apply(rows, t, w, int(ignore_index), reduction,
                              float(label_smoothing), shape)


def _check_weight(weight, c, input, fn):
    if weight is None:
        return None
    _same_device(fn, input, weight, "weight")
    w = weight.data if isinstance(weight, Tensor) else get_array_module(input.data).asarray(
        weight)
    if tuple(w.shape) != (c,):
        raise ValueError("%s(): weight should have one value per class, shape (%d,), got %s"
                         % (fn, c, tuple(w.shape)))
    return w.astype(input.dtype, copy=False)


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
        wt = keep.astype(x.dtype) if weight is None else weight[tt] * keep
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
            scale = -wt * (g / ctx.denom)
        else:
            scale = -wt * g
        # ignored rows get exactly 0 (not 0 * inf = NaN when every row is ignored), as PyTorch
        scale = xp.where(keep, scale, 0)
        grad[xp.arange(m), tt] = scale
        return grad, None, None, None, None, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood on log-probabilities ``input`` ((C,), (N, C) or
    (N, C, d1, ...)) and integer labels, as PyTorch's ``F.nll_loss``."""
    _check_reduction(reduction)
    t, c = _check_class_target(input, target, "nll_loss", ignore_index)
    w = _check_weight(weight, c, input, "nll_loss")
    x2 = input.reshape(1, c) if input.ndim == 1 else input
    rows = _ClassLast.apply(x2) if x2.ndim > 2 else x2
    return NLLLoss.apply(rows, t, w, int(ignore_index), reduction, tuple(target.shape))


def _check_pair(input, target, fn):
    _check_tensor(input, fn, "input")
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError("%s(): target shape %s differs from input shape %s (npconv does not "
                         "broadcast losses: it is almost always a bug)"
                         % (fn, target.shape, input.shape))
    if input.dtype.kind != "f":
        raise TypeError("%s(): input must be floating point, got %s" % (fn, input.dtype))
    if target.dtype != input.dtype:      # keep the input's precision (float32 stays float32)
        target = target.to(dtype=input.dtype)
    return target


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (input - target)^2, as PyTorch's ``F.mse_loss``."""
    _check_reduction(reduction)
    target = _check_pair(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error |input - target|, as PyTorch's ``F.l1_loss``."""
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


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy on logits, as PyTorch's ``F.binary_cross_entropy_with_logits``:
    ``target`` holds probabilities in [0, 1] with ``input``'s shape; ``weight`` rescales
    elements (broadcast), ``pos_weight`` the positive term per class (broadcast on the last
    axis)."""
    _check_reduction(reduction)
    target = _check_pair(input, target, "binary_cross_entropy_with_logits")
    pw = None
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        _same_device("binary_cross_entropy_with_logits", input, t, name)
    if pos_weight is not None:
        pw = pos_weight.data if isinstance(pos_weight, Tensor) else \
            get_array_module(input.data).asarray(pos_weight, dtype=input.dtype)
        pw = pw.astype(input.dtype, copy=False)
    loss = BCEWithLogits.apply(input, target, pw)
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else Tensor(weight)
        loss = loss * weight.to(dtype=input.dtype)
    return _reduce(loss, reduction)
