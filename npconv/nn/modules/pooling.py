"""Pooling layers (the kernels are in ``npconv.nn.functional``)."""
from .. import functional as F
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "GlobalAvgPool2d"]


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        kw = {}
        if self.dilation != 1:
            kw["dilation"] = self.dilation
        if self.return_indices:
            kw["return_indices"] = True
        if self.ceil_mode:
            kw["ceil_mode"] = True
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, **kw)

    def extra_repr(self):
        return ("kernel_size=%s, stride=%s, padding=%s, dilation=%s, ceil_mode=%s"
                % (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode))


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        kw = {}
        if self.ceil_mode:
            kw["ceil_mode"] = True
        if not self.count_include_pad:
            kw["count_include_pad"] = False
        if self.divisor_override is not None:
            kw["divisor_override"] = self.divisor_override
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, **kw)

    def extra_repr(self):
        return "kernel_size=%s, stride=%s, padding=%s" % (self.kernel_size, self.stride,
                                                          self.padding)


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return "output_size=%s" % (self.output_size,)


class GlobalAvgPool2d(Module):
    """Mean of every channel plane: (N, C, H, W) -> (N, C, 1, 1) (``F.global_avg_pool2d``;
    the same as ``AdaptiveAvgPool2d(1)``; follow it with ``Flatten()`` for (N, C))."""

    def forward(self, input):
        return F.global_avg_pool2d(input)
