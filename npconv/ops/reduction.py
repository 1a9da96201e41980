"""Reductions: sum, mean, var, max, min (with ``dim`` and ``keepdim``)."""
from ..autograd.function import Function
from ..backend import get_array_module


def _axes(dim, ndim):
    """Normalise ``dim`` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        if ndim == 0 and dim in (0, -1):
            return ()
        dim = (dim,)
    out = []
    for d in dim:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError("Dimension out of range (expected to be in range of [%d, %d], "
                             "but got %d)" % (-max(ndim, 1), max(ndim, 1) - 1, d))
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out)))


def _broadcast_back(xp, g, shape):
    """``g`` broadcast to ``shape`` as a new writable array for small sizes (cheaper than
    ``broadcast_to``'s Python overhead), a read-only broadcast view for large ones."""
    n = 1
    for s in shape:
        n *= s
    if n > 65536:
        return xp.broadcast_to(g, shape)
    out = xp.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _expand_back(g, shape, axes, keepdim):
    """Give a reduced gradient back its reduced axes (size 1) so it broadcasts to ``shape``."""
    if not keepdim and len(shape):
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = g.reshape(kept)
    return g


class Sum(Function):
    """y = sum over ``dim``;  dx = g broadcast back."""
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.shape = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.keepdim = keepdim
        return x.sum(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return _broadcast_back(xp, g, ctx.shape)


class Mean(Function):
    """y = mean over ``dim``;  dx = g / n broadcast back."""
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.shape = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.keepdim = keepdim
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.n = n
        # sum / n: NumPy's mean has several microseconds of Python overhead
        return x.sum(axis=ctx.axes, keepdims=keepdim) / n

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        if ctx.n == 0:
            # a mean over no elements (NaN, as PyTorch): the input is empty, so is its gradient
            return xp.zeros(ctx.shape, dtype=g.dtype)
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim) * (1.0 / ctx.n)
        return _broadcast_back(xp, g, ctx.shape)


class Var(Function):
    """y = sum((x - mean)^2) / (n - correction);  dx = 2 (x - mean) g / (n - correction)."""
    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        ctx.shape = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.keepdim = keepdim
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.denom = max(n - correction, 0)
        xc = x - x.sum(axis=ctx.axes, keepdims=True) / max(n, 1)
        ctx.save_for_backward(xc)
        return (xc * xc).sum(axis=ctx.axes, keepdims=keepdim) / ctx.denom

    @staticmethod
    def backward(ctx, g):
        (xc,) = ctx.saved_tensors
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return g * xc * (2.0 / ctx.denom)


class _Extreme(Function):
    """max/min over ``dim``. Without ``dim`` ties share the gradient evenly (as PyTorch's
    ``amax``); with an int ``dim`` it returns (values, indices) and the gradient goes to
    the returned index (one winner, as PyTorch's ``max(dim)``)."""
    _op = None

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        xp = get_array_module(x)
        ctx.shape = x.shape
        ctx.keepdim = keepdim
        if dim is None or not isinstance(dim, int):
            ctx.axes = _axes(dim, x.ndim)
            ctx.indexed = False
            red = xp.max if cls._op == "max" else xp.min
            y = red(x, axis=ctx.axes, keepdims=True)
            mask = (x == y)
            ctx.save_for_backward(mask)
            return y if keepdim else y.reshape([s for i, s in enumerate(x.shape)
                                                  if i not in ctx.axes])
        ctx.axes = _axes(dim, x.ndim)
        ctx.indexed = True
        axis = ctx.axes[0]
        arg = xp.argmax if cls._op == "max" else xp.argmin
        idx = xp.expand_dims(arg(x, axis=axis), axis)
        ctx.axis = axis
        ctx.save_for_backward(idx)
        y = xp.take_along_axis(x, idx, axis=axis)
        if not keepdim:
            y = y.squeeze(axis)
            idx = idx.squeeze(axis)
        return y, idx

    @staticmethod
    def backward(ctx, g, gidx=None):
        xp = get_array_module(g)
        if not ctx.indexed:
            (mask,) = ctx.saved_tensors
            g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
            count = mask.sum(axis=ctx.axes, keepdims=True)
            return mask * (g / count).astype(g.dtype)
        (idx,) = ctx.saved_tensors
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.axis)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, idx, g, axis=ctx.axis)
        return out


class Max(_Extreme):
    _op = "max"


class Min(_Extreme):
    _op = "min"
