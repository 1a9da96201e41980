"""``batch_norm``: batch normalisation with a hand-written fused backward."""
from ..autograd import grad_mode as _grad_mode
from ..autograd.function import Function
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["batch_norm"]


def _values_per_channel(shape):
    """The number of values each channel's statistics are taken over: N times the spatial
    size (computed without dividing by C, which may be 0)."""
    n = shape[0]
    for s in shape[2:]:
        n *= s
    return n


def _shape_c(x):
    """Reduction axes (all but the channel axis 1) and the broadcast shape of (C,) arrays."""
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return axes, bshape


class BatchNormTrain(Function):
    """Training mode: normalise with the batch statistics.

    Forward: mu = mean(x), var = mean((x - mu)^2) (biased) over all axes but 1,
    xhat = (x - mu) / sqrt(var + eps), y = xhat * w + b.
    Backward (n values per channel):  db = sum(g),  dw = sum(g xhat),
    dx = w / sqrt(var + eps) * (g - db / n - xhat * dw / n).

    ``running`` is None or (running_mean, running_var, momentum): updated in place in the
    forward, with the unbiased batch variance, as PyTorch."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, running=None):
        xp = get_array_module(x)
        axes, bshape = _shape_c(x)
        n = _values_per_channel(x.shape)
        ctx.axes, ctx.bshape, ctx.n = axes, bshape, n
        if n == 0:
            # an empty batch: an empty output and the running statistics left alone, as
            # PyTorch (a mean over no values would be NaN)
            ctx.save_for_backward(None, None, weight)
            return x.copy()
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + eps)
        xhat = xc
        xhat *= invstd                      # reuse xc's memory
        if weight is not None:
            y = xhat * weight.reshape(bshape)
            if bias is not None:
                y += bias.reshape(bshape)
        elif bias is not None:
            y = xhat + bias.reshape(bshape)
        else:
            y = xhat.copy()
        if running is not None:
            rm, rv, m = running
            with _grad_mode.no_grad():
                if rm is not None:
                    rm *= 1.0 - m
                    rm += (m * mean.reshape(-1)).astype(rm.dtype, copy=False)
                if rv is not None:
                    unbiased = var.reshape(-1) * (n / (n - 1.0))
                    rv *= 1.0 - m
                    rv += (m * unbiased).astype(rv.dtype, copy=False)
        ctx.save_for_backward(xhat, invstd, weight)
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        axes, bshape, n = ctx.axes, ctx.bshape, ctx.n
        if n == 0:      # empty batch: every gradient is zero (an empty one for x)
            xp = get_array_module(g)
            zeros = None if weight is None else xp.zeros(weight.shape, g.dtype)
            return (g.copy() if nx else None, zeros if nw else None,
                    zeros if nb else None)
        db = g.sum(axis=axes, keepdims=True)
        dw = (g * xhat).sum(axis=axes, keepdims=True)
        gx = gw = gb = None
        if nx:
            scale = invstd if weight is None else invstd * weight.reshape(bshape)
            gx = g - db * (1.0 / n)
            gx -= xhat * (dw * (1.0 / n))
            gx *= scale
        if nw:
            gw = dw.reshape(-1)
        if nb:
            gb = db.reshape(-1)
        return gx, gw, gb


class BatchNormEval(Function):
    """Evaluation mode: y = (x - running_mean) / sqrt(running_var + eps) * w + b, an affine
    map per channel;  dx = g * w / sqrt(rv + eps),  dw = sum(g xhat),  db = sum(g)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps):
        xp = get_array_module(x)
        axes, bshape = _shape_c(x)
        invstd = (1.0 / xp.sqrt(running_var + eps)).astype(x.dtype, copy=False).reshape(bshape)
        xhat = (x - running_mean.reshape(bshape).astype(x.dtype, copy=False)) * invstd
        y = xhat if weight is None else xhat * weight.reshape(bshape)
        if bias is not None:
            y = y + bias.reshape(bshape)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes, ctx.bshape = axes, bshape
        return y

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if nx:
            gx = g * (invstd if weight is None else invstd * weight.reshape(ctx.bshape))
        if nw:
            gw = (g * xhat).sum(axis=ctx.axes)
        if nb:
            gb = g.sum(axis=ctx.axes)
        return gx, gw, gb, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """PyTorch's ``F.batch_norm``: input (N, C, *) normalised per channel C.

    training=True: batch statistics, and ``running_mean``/``running_var`` (when given) are
    updated in place: r = (1 - momentum) r + momentum * batch_stat (unbiased variance).
    training=False: the running statistics are used."""
    if not isinstance(input, Tensor):
        raise TypeError("batch_norm(): input must be a Tensor, not %s" % type(input).__name__)
    if input.ndim < 2:
        raise ValueError("batch_norm(): expected an input of at least 2 dimensions (N, C, ...), "
                         "got shape %s" % (input.shape,))
    if input.dtype.kind != "f":
        raise NotImplementedError("batch_norm(): expected a floating-point input, but got %s "
                                  "(convert it with .float() first)" % input.dtype)
    c = input.shape[1]
    # PyTorch's order and wording
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if tuple(t.shape) != (c,):
            raise RuntimeError("%s should contain %d elements not %d (one per channel of the "
                               "input, of shape %s; %s has shape %s)"
                               % (name, c, t.numel(), tuple(input.shape), name, tuple(t.shape)))
        if t.dtype != input.dtype:      # no silent upcast or downcast (PyTorch: mixed dtype)
            raise RuntimeError("batch_norm(): expected %s to have the input's dtype %s, but "
                               "got %s" % (name, input.dtype, t.dtype))
    if training:
        # exactly one value per channel has no variance; none at all (an empty batch) is
        # allowed, as in PyTorch
        if _values_per_channel(input.shape) == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             "size %s" % (input.shape,))
        running = None
        if running_mean is not None or running_var is not None:
            running = (None if running_mean is None else running_mean.data,
                       None if running_var is None else running_var.data, float(momentum))
        out = BatchNormTrain.apply(input, weight, bias, float(eps), running)
        for t in (running_mean, running_var):
            if t is not None:
                t._version[0] += 1
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm(): running_mean and running_var must be given when "
                           "training=False")
    return BatchNormEval.apply(input, weight, bias, running_mean.data, running_var.data,
                               float(eps))
