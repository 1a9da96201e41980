"""``Conv2d`` and ``ConvTranspose2d`` (the kernels are ``F.conv2d``/``F.conv_transpose2d``)."""
import math
from numbers import Integral

import numpy

from .. import functional as F
from .. import init
from .linear import _size_arg
from .module import Module, Parameter

__all__ = ["Conv2d", "ConvTranspose2d"]

# PyTorch's modes; npconv implements 'zeros' only
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pair(v, name, cls):
    """int or pair of ints -> (a, b), checked as ``F.conv2d`` checks it (a float such as
    ``stride=1.5`` is an error, not truncated)."""
    return F._pair(v, name, cls)


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        cls = type(self).__name__
        in_channels = _size_arg(in_channels, "in_channels", cls)
        out_channels = _size_arg(out_channels, "out_channels", cls)
        if isinstance(groups, bool) or not isinstance(groups, Integral) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError("padding_mode must be one of %s, but got padding_mode=%r"
                             % (_PADDING_MODES, padding_mode))
        if padding_mode != "zeros":
            if transposed:      # PyTorch's own error for a transposed convolution
                raise ValueError('Only "zeros" padding mode is supported for %s' % cls)
            # refused rather than ignored: a silent zero padding would train another model
            raise NotImplementedError(
                "%s: padding_mode=%r is not implemented in npconv (only 'zeros'); pad the input "
                "yourself and use padding=0" % (cls, padding_mode))
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", cls)
        self.stride = _pair(stride, "stride", cls)
        self.dilation = _pair(dilation, "dilation", cls)
        if isinstance(padding, str):
            # checked here as PyTorch does, not at the first forward
            if padding not in ("same", "valid"):
                raise ValueError("%s: invalid padding string %r, should be one of 'valid', "
                                 "'same' or an int / pair of ints" % (cls, padding))
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("%s: padding='same' is not supported for strided "
                                 "convolutions (got stride %s)" % (cls, self.stride))
            if transposed:
                raise ValueError("%s: padding must be an int or a pair of ints, but got %r"
                                 % (cls, padding))
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", cls)
        self.transposed = transposed
        self.output_padding = _pair(output_padding, "output_padding", cls)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dt = numpy.dtype(dtype or numpy.float32)
        if transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(numpy.empty(shape, dt))
        if bias:
            self.bias = Parameter(numpy.empty((self.out_channels,), dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), ...), with
        # fan_in computed from the weight's layout (dim 1 * kernel area) in both cases
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = "%d, %d, kernel_size=%s, stride=%s" % (self.in_channels, self.out_channels,
                                                   self.kernel_size, self.stride)
        if self.padding != (0, 0):
            s += ", padding=%s" % ((self.padding,) if isinstance(self.padding, tuple)
                                   else self.padding)      # padding='same' shows as same
        if self.dilation != (1, 1):
            s += ", dilation=%s" % (self.dilation,)
        if self.output_padding != (0, 0):
            s += ", output_padding=%s" % (self.output_padding,)
        if self.groups != 1:
            s += ", groups=%d" % self.groups
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W), as ``torch.nn.Conv2d``;
    ``weight`` is (C_out, C_in / groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution, as ``torch.nn.ConvTranspose2d``; ``weight`` is
    (C_in, C_out / groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        """``output_size``: the (H, W) (or (N, C, H, W)) wanted, as PyTorch: a stride > 1
        leaves the output size ambiguous, and this picks the ``output_padding`` for it
        (overriding the module's)."""
        op = self.output_padding
        if output_size is not None:
            op = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  op, self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        size = tuple(int(s) for s in output_size)
        if len(size) == 4:
            size = size[2:]
        if len(size) != 2 or len(input.shape) != 4:
            raise ValueError("ConvTranspose2d: output_size must have 2 or 4 elements (for a "
                             "4-D input), but got %r" % (tuple(output_size),))
        # the smallest output per axis (output_padding 0); up to stride - 1 more can be had
        # (PyTorch's range for output_size, though F.conv_transpose2d also takes an
        # output_padding below the dilation)
        least = [(input.shape[2 + a] - 1) * self.stride[a] - 2 * self.padding[a]
                 + self.dilation[a] * (self.kernel_size[a] - 1) + 1 for a in range(2)]
        most = [least[a] + self.stride[a] - 1 for a in range(2)]
        if not all(least[a] <= size[a] <= most[a] for a in range(2)):
            raise ValueError("ConvTranspose2d: requested an output size of %s, but valid sizes "
                             "range from %s to %s (for an input of %s)"
                             % (list(size), least, most, list(input.shape[2:])))
        op = [size[a] - least[a] for a in range(2)]
        return tuple(op)
