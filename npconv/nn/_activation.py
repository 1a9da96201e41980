"""Functional activations: ``leaky_relu``, ``sigmoid``, ``tanh``, ``softmax``,
``log_softmax`` (the Functions are in ``npconv.ops.activation``)."""
import warnings

from ..ops import activation as _act
from ..tensor import Tensor

__all__ = ["leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"]


def _tensor(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError("%s(): argument 'input' must be a Tensor, not %s"
                        % (fn, type(x).__name__))
    return x


def _dim(dim, ndim, fn, stacklevel):
    if dim is None:   # PyTorch's legacy implicit choice, with its deprecation warning
        warnings.warn("Implicit dimension choice for %s has been deprecated. Change the call to "
                      "include dim=X as an argument." % fn, stacklevel=stacklevel)
        dim = 0 if ndim in (0, 1, 3) else 1
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError("%s(): dimension out of range (expected to be in range of [%d, %d], "
                         "but got %d)" % (fn, -n, n - 1, dim))
    return dim % n


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x, for floating-point x. (``inplace`` is accepted
    for PyTorch compatibility and ignored: a new tensor is returned.)"""
    _tensor(input, "leaky_relu")
    if input.dtype.kind != "f":
        raise TypeError("leaky_relu(): expected a floating-point input, but got %s"
                        % input.dtype)
    return _act.LeakyReLU.apply(input, float(negative_slope))


def sigmoid(input):
    return _act.Sigmoid.apply(_tensor(input, "sigmoid"))


def tanh(input):
    return _act.Tanh.apply(_tensor(input, "tanh"))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, same shape as ``input`` (PyTorch's signature:
    ``dim=None`` picks dim 0 for 0-, 1- and 3-D input, else 1, and warns; ``dtype`` casts the
    input first; ``_stacklevel`` places that warning)."""
    _tensor(input, "softmax")
    dim = _dim(dim, input.ndim, "softmax", _stacklevel)
    if dtype is not None:
        input = input.to(dtype=dtype)
    return _act.Softmax.apply(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - log(sum(exp(x))) along ``dim``, same shape as ``input``; arguments as ``softmax``."""
    _tensor(input, "log_softmax")
    dim = _dim(dim, input.ndim, "log_softmax", _stacklevel)
    if dtype is not None:
        input = input.to(dtype=dtype)
    return _act.LogSoftmax.apply(input, dim)
