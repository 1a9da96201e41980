"""Activations and (log-)softmax."""
import numpy

from ..autograd.function import Function
from ..backend import get_array_module


def _as_float(x):
    """Integer and bool input as float32, PyTorch's default dtype (NumPy would compute
    sigmoid or tanh of an int array in float64)."""
    return x if x.dtype.kind in "fc" else x.astype(numpy.float32)


def _require_float(x, name):
    # PyTorch has no integer (log_)softmax kernel: it raises NotImplementedError
    if x.dtype.kind not in "fc":
        raise NotImplementedError("%s(): expected a floating-point input, but got %s "
                                  "(convert it with .float() first)" % (name, x.dtype))


def _axis(x, dim):
    """The reduction axis of (log-)softmax: None for a 0-d ``x`` (its one element, so
    softmax is 1 and log_softmax 0, as PyTorch's), because CuPy refuses ``axis=0`` on a
    0-d array where NumPy accepts it."""
    return dim if x.ndim else None


class ReLU(Function):
    """y = max(x, 0);  dx = g * (x > 0)"""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        y = xp.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x"""
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        xp = get_array_module(x)
        ctx.slope = negative_slope
        ctx.save_for_backward(x)
        return xp.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = get_array_module(g)
        return xp.where(x > 0, g, g * ctx.slope)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), computed without overflow;  dx = g y (1 - y)"""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        x = _as_float(x)
        e = xp.exp(-xp.abs(x))          # in (0, 1]: never overflows
        y = xp.where(x >= 0, 1.0, e)    # 1/(1+e) for x >= 0, e/(1+e) below
        y /= 1 + e
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class Tanh(Function):
    """dx = g (1 - y^2)"""
    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tanh(_as_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``dim``;  dx = y (g - sum(g y))"""
    @staticmethod
    def forward(ctx, x, dim):
        _require_float(x, "softmax")
        xp = get_array_module(x)
        dim = _axis(x, dim)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max))) along ``dim``;  dx = g - softmax(x) sum(g)"""
    @staticmethod
    def forward(ctx, x, dim):
        _require_float(x, "log_softmax")
        xp = get_array_module(x)
        dim = _axis(x, dim)
        s = x - x.max(axis=dim, keepdims=True)
        y = s - xp.log(xp.exp(s).sum(axis=dim, keepdims=True))
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        xp = get_array_module(g)
        return g - xp.exp(y) * g.sum(axis=ctx.dim, keepdims=True)
