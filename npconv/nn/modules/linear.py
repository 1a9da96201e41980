"""``Linear``, ``Identity``, ``Flatten``."""
import math
from numbers import Integral

import numpy

from .. import functional as F
from .. import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten"]


def _size_arg(v, name, cls):
    """A layer size argument (features, channels) as an int >= 0: a float is refused, not
    truncated (PyTorch: TypeError; a negative size: RuntimeError)."""
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise TypeError("%s: %s must be an int, but got %r" % (cls, name, v))
    if v < 0:
        raise RuntimeError("%s: %s must be >= 0, but got %d" % (cls, name, v))
    return int(v)


class Identity(Module):
    """Returns its input (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b. ``weight`` (out_features, in_features) and ``bias`` (out_features,)
    initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) weight, bias U(-1/sqrt(in),
    1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = _size_arg(in_features, "in_features", "Linear")
        self.out_features = _size_arg(out_features, "out_features", "Linear")
        dt = numpy.dtype(dtype or numpy.float32)
        self.weight = Parameter(numpy.empty((self.out_features, self.in_features), dt))
        if bias:
            self.bias = Parameter(numpy.empty((self.out_features,), dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return "in_features=%d, out_features=%d, bias=%s" % (
            self.in_features, self.out_features, self.bias is not None)


class Flatten(Module):
    """Flattens axes ``start_dim`` .. ``end_dim`` into one (default: all but the batch)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        # as PyTorch: Tensor.flatten checks the dims against the input
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return "start_dim=%d, end_dim=%d" % (self.start_dim, self.end_dim)
