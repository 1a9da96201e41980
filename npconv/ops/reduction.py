"""Reductions: sum, mean, var, std, max, min (with ``dim`` and ``keepdim``)."""
import warnings

from ..autograd.function import Function
from ..backend import get_array_module
from .arithmetic import _errstate


def _axes(dim, ndim):
    """Normalise ``dim`` (None, int or a sequence of ints) to a sorted tuple of non-negative
    axes. As PyTorch: an empty sequence reduces over every dim, and a dim named twice raises."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        if ndim == 0 and dim in (0, -1):
            return ()
        dim = (dim,)
    elif not len(dim):
        return tuple(range(ndim))
    n = max(ndim, 1)            # a 0-d tensor accepts dim 0 and -1
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError("Dimension out of range (expected to be in range of [%d, %d], "
                             "but got %d)" % (-n, n - 1, d))
        d %= n
        if d in out:
            raise RuntimeError("dim %d appears multiple times in the list of dims" % d)
        out.append(d)
    if ndim == 0:
        return ()
    out.sort()
    return tuple(out)


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


def _var_forward(ctx, x, dim, correction, keepdim, name):
    """Shared by Var and Std: record what backward needs and return (x - mean, variance).
    The divisor is max(n - correction, 0), as PyTorch: with no degrees of freedom left the
    variance is inf (or NaN where x is constant), not an error."""
    xp = get_array_module(x)
    ctx.shape = x.shape
    ctx.axes = _axes(dim, x.ndim)
    ctx.keepdim = keepdim
    # PyTorch's backward has a special rule for a full reduction without dims (see below)
    ctx.full = dim is None or x.ndim == 0 or (not isinstance(dim, int) and not len(dim))
    n = 1
    for a in ctx.axes:
        n *= x.shape[a]
    ctx.dof = n - correction
    xc = x - x.sum(axis=ctx.axes, keepdims=True) / max(n, 1)
    ss = (xc * xc).sum(axis=ctx.axes, keepdims=keepdim)
    if ctx.dof > 0:
        return xc, ss / ctx.dof
    warnings.warn("%s(): degrees of freedom is <= 0. Correction should be strictly less than "
                  "the reduction factor (input numel divided by output numel)." % name,
                  UserWarning, stacklevel=5)   # the caller of Tensor.var / Tensor.std
    with _errstate(xp):
        return xc, ss / 0.0          # inf, and NaN where ss == 0


def _var_backward(ctx, xc, g):
    """d var / dx = 2 (x - mean) / (n - correction), times g (already expanded).
    With n - correction <= 0 this follows PyTorch: for a reduction over all elements without
    ``dim`` the gradient is g * (NaN where x == mean, else inf); with ``dim`` it is
    g * (x - mean) * 2 / (n - correction), inf / NaN at 0 and finite (negative) below."""
    xp = get_array_module(g)
    dof = ctx.dof
    if dof > 0:
        return g * xc * (2.0 / dof)
    with _errstate(xp):
        if ctx.full:
            return g * xp.where(xc == 0, xp.nan, xp.inf).astype(g.dtype, copy=False)
        return g * xc * (2.0 / dof if dof else xp.inf)


class Var(Function):
    """y = sum((x - mean)^2) / (n - correction);  dx = 2 (x - mean) g / (n - correction)."""
    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        xc, y = _var_forward(ctx, x, dim, correction, keepdim, "var")
        ctx.save_for_backward(xc)
        return y

    @staticmethod
    def backward(ctx, g):
        (xc,) = ctx.saved_tensors
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return _var_backward(ctx, xc, g)


class Std(Function):
    """y = sqrt(var);  dx = (x - mean) g / ((n - correction) y), and 0 where y == 0 (as
    PyTorch: a constant slice has a zero gradient, not the NaN of var().sqrt())."""
    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        xp = get_array_module(x)
        xc, v = _var_forward(ctx, x, dim, correction, keepdim, "std")
        y = xp.sqrt(v)
        ctx.save_for_backward(xc, y)
        return y

    @staticmethod
    def backward(ctx, g):
        xc, y = ctx.saved_tensors
        xp = get_array_module(g)
        # PyTorch's rule: the var gradient scaled by g / (2 y), with that factor 0 where y == 0
        with _errstate(xp):
            gv = xp.where(y == 0, 0, g / (2 * y)).astype(g.dtype, copy=False)
        gv = _expand_back(gv, ctx.shape, ctx.axes, ctx.keepdim)
        return _var_backward(ctx, xc, gv)


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


def _reduced(y, shape, axes, keepdim):
    """``y`` (reduced with keepdims) without its reduced axes unless ``keepdim``."""
    return y if keepdim else y.reshape([s for i, s in enumerate(shape) if i not in axes])


class Prod(Function):
    """y = prod over ``dim`` (one axis, or all);  dx = g * (product of the other elements of
    the slice): y / x where the slice has no zero, the product of the rest at the zero of a
    slice with exactly one zero, and 0 elsewhere (no 0 / 0, as PyTorch)."""
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.shape = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.save_for_backward(x)
        # CuPy refuses an axis on a 0-d array; None reduces its one element the same way
        return x.prod(axis=ctx.axes if x.ndim else None, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = get_array_module(g)
        axes = ctx.axes if x.ndim else None
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        zero = x == 0
        one = x.dtype.type(1)
        nonzero = xp.where(zero, one, x)
        # the product of the nonzero elements: dividing it by x never divides by zero
        p = nonzero.prod(axis=axes, keepdims=True)
        zeros = zero.sum(axis=axes, keepdims=True)
        others = xp.where(zeros == 0, p / nonzero,
                          xp.where(zero & (zeros == 1), p, x.dtype.type(0)))
        return g * others.astype(g.dtype, copy=False)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``dim``;  dx_j = sum_{i >= j} g_i (a reversed cumsum)."""
    @staticmethod
    def forward(ctx, x, dim, dtype=None):
        ctx.dim = dim
        return get_array_module(x).cumsum(x, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        return xp.flip(xp.cumsum(xp.flip(g, ctx.dim), axis=ctx.dim), ctx.dim)


class Norm(Function):
    """The vector p-norm over ``dim``: y = (sum |x|^p)^(1/p); p = inf / -inf: max / min |x|;
    p = 0: the number of nonzeros.  dx = g sign(x) |x|^(p-1) / y^(p-1) (p = 2: g x / y), 0
    where x == 0 or y == 0; p = 1: g sign(x); p = +-inf: g sign(x) shared evenly among the
    elements that reach y (as PyTorch); p = 0: 0."""
    @staticmethod
    def forward(ctx, x, p=2.0, dim=None, keepdim=False):
        xp = get_array_module(x)
        ctx.shape = x.shape
        ctx.axes = _axes(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.p = p
        axes = ctx.axes if x.ndim else None
        a = xp.abs(x)
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        elif p == float("inf"):
            y = a.max(axis=axes, keepdims=True)
        elif p == float("-inf"):
            y = a.min(axis=axes, keepdims=True)
        elif p == 0:
            y = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        else:
            with _errstate(xp):     # p < 0: 0 ** p is inf, and the norm 0, as PyTorch
                y = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        return _reduced(y, x.shape, ctx.axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = get_array_module(g)
        p = ctx.p
        axes = ctx.axes if x.ndim else None
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        zero = g.dtype.type(0)
        if p == 0:
            return xp.zeros(ctx.shape, dtype=g.dtype)
        if p == 1:
            return g * xp.sign(x)
        if p in (float("inf"), float("-inf")):
            a = xp.abs(x)
            hit = (a == y) | xp.isnan(a)
            share = g / hit.sum(axis=axes, keepdims=True).astype(g.dtype)   # (not float64)
            return xp.sign(x) * xp.where(hit, share, zero)
        with _errstate(xp):
            if p == 2:
                return x * xp.where(y == 0, zero, g / y)
            # sign(x) |x|^(p-1), 0 where x == 0 (not 0 * inf for p < 2), as PyTorch
            scaled = xp.where(x == 0, zero, xp.sign(x) * xp.abs(x) ** (p - 1))
            if p < 1:
                return scaled * g * y ** (1 - p)
            return scaled * xp.where(y == 0, zero, g / y ** (p - 1))


class Sort(Function):
    """(values, indices) of x sorted along ``dim`` (ascending, or descending), stably: equal
    elements keep their order; NaN sorts as the largest value, as PyTorch. With ``k``, only
    the first k (``topk``).  dx = g scattered back to the indices (each element at most
    once)."""
    @staticmethod
    def forward(ctx, x, dim, descending=False, k=None):
        xp = get_array_module(x)
        if descending:
            # the reversed axis sorted stably, read backwards: descending, and still stable
            n = x.shape[dim]
            idx = n - 1 - xp.flip(xp.argsort(xp.flip(x, dim), axis=dim, kind="stable"), dim)
        else:
            idx = xp.argsort(x, axis=dim, kind="stable")
        if k is not None:
            idx = idx[(slice(None),) * dim + (slice(0, k),)]
        idx = idx.astype("int64", copy=False)
        ctx.dim = dim
        ctx.shape = x.shape
        ctx.save_for_backward(idx)
        return xp.take_along_axis(x, idx, axis=dim), idx

    @staticmethod
    def backward(ctx, g, gidx=None):
        (idx,) = ctx.saved_tensors
        xp = get_array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, idx, g, axis=ctx.dim)
        return out
