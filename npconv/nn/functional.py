"""The PyTorch-named functional API (``npconv.nn.functional``, imported as ``F``).

This is where user input is validated (clear errors naming what was expected and what was
got); the Functions behind it may assume valid input.
"""
# --- convolution, pooling, relu, dropout (nn/_conv.py, nn/_pool.py, nn/_dropout.py) ---
from numbers import Integral as _Integral, Real as _Real  # noqa: E402

from ..ops.activation import ReLU as _ReLU  # noqa: E402
from ..tensor import Tensor as _Tensor  # noqa: E402
from . import _conv, _dropout, _pool  # noqa: E402


def _pair(v, name, fn):
    """int, pair of ints or one int in a tuple (as PyTorch) -> (a, b); anything else is a
    ValueError naming the argument."""
    if isinstance(v, _Integral) and not isinstance(v, bool):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)) and len(v) in (1, 2) and all(
            isinstance(e, _Integral) and not isinstance(e, bool) for e in v):
        return (int(v[0]), int(v[-1]))
    raise ValueError("%s: %s must be an int or a pair of ints, but got %r" % (fn, name, v))


def _positive(v, name, fn):
    v = _pair(v, name, fn)
    if v[0] < 1 or v[1] < 1:
        raise ValueError("%s: %s must be >= 1, but got %s" % (fn, name, v))
    return v


def _nonneg(v, name, fn):
    v = _pair(v, name, fn)
    if v[0] < 0 or v[1] < 0:
        raise ValueError("%s: %s must be >= 0, but got %s" % (fn, name, v))
    return v


def _check_4d(x, fn, what="input"):
    """A Tensor of 4 dimensions. (PyTorch also takes an unbatched (C, H, W) input here;
    npconv asks for the batch axis: ``x.unsqueeze(0)``.)"""
    if not isinstance(x, _Tensor):
        raise TypeError("%s(): argument '%s' must be a Tensor, not %s"
                        % (fn, what, type(x).__name__))
    if len(x.shape) != 4:
        raise ValueError("%s: expected 4-D %s (N, C, H, W), but got %s of shape %s"
                         % (fn, what, what, list(x.shape)))


def _check_float(x, fn):
    """Average pools need floating-point input (an integer mean would be silently upcast to
    float64, or truncated)."""
    if x.dtype.kind != "f":
        raise TypeError("%s: expected a floating-point input, but got %s" % (fn, x.dtype))


def _check_dtype(fn, x, *others):
    for name, t in others:
        if t is not None and t.dtype != x.dtype:
            raise ValueError("%s: input type (%s) and %s type (%s) should be the same"
                             % (fn, x.dtype, name, t.dtype))


def _out_size_or_raise(fn, in_hw, pad, eff_kernel, out_hw):
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise ValueError(
            "%s: calculated padded input size per channel: (%d x %d); kernel size (with "
            "dilation): (%d x %d). Kernel size can't be greater than the padded input size "
            "(output would be %d x %d)" % (fn, in_hw[0] + 2 * pad[0], in_hw[1] + 2 * pad[1],
                                           eff_kernel[0], eff_kernel[1], out_hw[0], out_hw[1]))


class _PadBottomRight(_conv.Function):
    """Zero-pad rows at the bottom and columns at the right (the odd extra of
    padding='same' with an even effective kernel)."""

    @staticmethod
    def forward(ctx, x, eh, ew):
        xp = _conv.get_array_module(x)
        N, C, H, W = x.shape
        y = xp.zeros((N, C, H + eh, W + ew), x.dtype)
        y[:, :, :H, :W] = x
        ctx.hw = (H, W)
        return y

    @staticmethod
    def backward(ctx, g):
        H, W = ctx.hw
        return g[:, :, :H, :W]


def _check_conv_args(groups, stride, dilation, fn):
    """Validate ``groups`` (a positive int) and normalise ``stride``/``dilation`` to positive
    pairs: the checks conv2d and conv_transpose2d share."""
    if not isinstance(groups, _Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError("%s: groups must be a positive integer, but got %r" % (fn, groups))
    return _positive(stride, "stride", fn), _positive(dilation, "dilation", fn)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of ``input`` (N, C, H, W) with
    ``weight`` (O, C/groups, kH, kW), plus ``bias`` (O,). ``stride``, ``dilation``: int or
    pair; ``padding``: int, pair, ``'valid'`` (0) or ``'same'`` (output size = input size;
    stride 1 only). Returns (N, O, Ho, Wo) with Ho = (H + 2p - d(kH-1) - 1) // s + 1."""
    fn = "conv2d"
    _check_4d(input, fn)
    _check_4d(weight, fn, "weight")
    stride, dilation = _check_conv_args(groups, stride, dilation, fn)
    N, C, H, W = input.shape
    O, Cg, kH, kW = weight.shape
    if C % groups:
        raise ValueError("%s: groups=%d must divide the number of input channels, but got %d "
                         "input channels" % (fn, groups, C))
    if O % groups:
        raise ValueError("%s: groups=%d must divide the number of output channels, but weight "
                         "of size %s has %d" % (fn, groups, list(weight.shape), O))
    if Cg * groups != C:
        raise ValueError("%s: Given groups=%d, weight of size %s, expected input%s to have %d "
                         "channels, but got %d channels instead"
                         % (fn, groups, list(weight.shape), list(input.shape), Cg * groups, C))
    if bias is not None and tuple(bias.shape) != (O,):
        raise ValueError("%s: expected bias of shape [%d] (one per output channel), but got %s"
                         % (fn, O, list(bias.shape)))
    _check_dtype(fn, input, ("weight", weight), ("bias", bias))
    extra = (0, 0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("%s: padding='same' is not supported for strided "
                                 "convolutions (got stride %s)" % (fn, stride))
            tot = (dilation[0] * (kH - 1), dilation[1] * (kW - 1))
            padding = (tot[0] // 2, tot[1] // 2)
            extra = (tot[0] - 2 * padding[0], tot[1] - 2 * padding[1])
        else:
            raise ValueError("%s: invalid padding string %r, should be one of 'valid', 'same' "
                             "or an int / pair of ints" % (fn, padding))
    else:
        padding = _nonneg(padding, "padding", fn)
    eff = (dilation[0] * (kH - 1) + 1, dilation[1] * (kW - 1) + 1)
    out = (_conv.conv_output_size(H + extra[0], kH, stride[0], padding[0], dilation[0]),
           _conv.conv_output_size(W + extra[1], kW, stride[1], padding[1], dilation[1]))
    _out_size_or_raise(fn, (H, W), padding, eff, out)
    if extra != (0, 0):
        input = _PadBottomRight.apply(input, extra[0], extra[1])
    return _conv.Conv2d.apply(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution (the gradient of conv2d w.r.t. its input) of ``input``
    (N, C, H, W) with ``weight`` (C, O/groups, kH, kW): output (N, O, Ho, Wo) with
    Ho = (H-1)*s - 2p + d(kH-1) + output_padding + 1. ``output_padding`` must be smaller than
    the stride or the dilation."""
    fn = "conv_transpose2d"
    _check_4d(input, fn)
    _check_4d(weight, fn, "weight")
    stride, dilation = _check_conv_args(groups, stride, dilation, fn)
    padding = _nonneg(padding, "padding", fn)
    output_padding = _nonneg(output_padding, "output_padding", fn)
    N, C, H, W = input.shape
    Cw, Og, kH, kW = weight.shape
    if C % groups:
        raise ValueError("%s: groups=%d must divide the number of input channels, but got %d "
                         "input channels" % (fn, groups, C))
    if Cw != C:
        raise ValueError("%s: Given transposed=1, weight of size %s, expected input%s to have %d "
                         "channels, but got %d channels instead"
                         % (fn, list(weight.shape), list(input.shape), Cw, C))
    for a in range(2):
        if output_padding[a] >= max(stride[a], dilation[a]):
            raise ValueError("%s: output_padding must be smaller than either stride or "
                             "dilation, but got output_padding %s, stride %s, dilation %s"
                             % (fn, output_padding, stride, dilation))
    O = Og * groups
    if bias is not None and tuple(bias.shape) != (O,):
        raise ValueError("%s: expected bias of shape [%d] (one per output channel), but got %s"
                         % (fn, O, list(bias.shape)))
    _check_dtype(fn, input, ("weight", weight), ("bias", bias))
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                zip((H, W), stride, padding, dilation, (kH, kW), output_padding))
    if out[0] < 1 or out[1] < 1:
        raise ValueError("%s: the output size %s is too small: the padding %s removes more "
                         "than the full output" % (fn, out, padding))
    return _conv.ConvTranspose2d.apply(input, weight, bias, stride, padding, output_padding,
                                       groups, dilation)


def _pool_args(fn, input, kernel_size, stride, padding, dilation=1):
    _check_4d(input, fn)
    kernel = _positive(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None or stride == () or stride == [] else _positive(
        stride, "stride", fn)
    padding = _nonneg(padding, "padding", fn)
    dilation = _positive(dilation, "dilation", fn)
    for a in range(2):
        if padding[a] > kernel[a] // 2:
            raise ValueError("%s: pad should be at most half of the kernel size, but got "
                             "padding %s for kernel_size %s" % (fn, padding, kernel))
    return kernel, stride, padding, dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kH x kW windows of (N, C, H, W) (padding counts as -inf, as the dtype's
    minimum for integers). ``stride`` defaults to ``kernel_size``. With ``return_indices``
    also returns the int64 flat index (h*W + w) of each window's maximum in its input plane
    (first maximum on ties). A window holding a NaN gives NaN, and its index and gradient
    go to its last NaN in scan order, as in PyTorch."""
    fn = "max_pool2d"
    kernel, stride, padding, dilation = _pool_args(fn, input, kernel_size, stride, padding,
                                                   dilation)
    H, W = input.shape[2:]
    out = (_pool.pool_output_size(H, kernel[0], stride[0], padding[0], dilation[0], ceil_mode),
           _pool.pool_output_size(W, kernel[1], stride[1], padding[1], dilation[1], ceil_mode))
    eff = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    _out_size_or_raise(fn, (H, W), padding, eff, out)
    return _pool.MaxPool2d.apply(input, kernel, stride, padding, dilation, bool(ceil_mode),
                                 bool(return_indices))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kH x kW windows of (N, C, H, W); ``stride`` defaults to ``kernel_size``.
    ``count_include_pad``: divide by the whole window (True) or by its real input pixels;
    ``divisor_override``: divide every window's sum by this number instead."""
    fn = "avg_pool2d"
    kernel, stride, padding, _ = _pool_args(fn, input, kernel_size, stride, padding)
    _check_float(input, fn)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(
            divisor_override, _Integral) or divisor_override == 0):
        raise ValueError("%s: divisor_override must be a non-zero integer, but got %r"
                         % (fn, divisor_override))
    H, W = input.shape[2:]
    out = (_pool.pool_output_size(H, kernel[0], stride[0], padding[0], 1, ceil_mode),
           _pool.pool_output_size(W, kernel[1], stride[1], padding[1], 1, ceil_mode))
    _out_size_or_raise(fn, (H, W), padding, kernel, out)
    return _pool.AvgPool2d.apply(input, kernel, stride, padding, bool(ceil_mode),
                                 bool(count_include_pad), divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``output_size`` (int or pair; None keeps that input size).
    Supported: output sizes that divide the input size (incl. 1, the global average), and
    0 (an empty output, as PyTorch's)."""
    fn = "adaptive_avg_pool2d"
    _check_4d(input, fn)
    _check_float(input, fn)
    N, C, H, W = input.shape
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = (H if output_size[0] is None else output_size[0],
                       W if output_size[1] is None else output_size[1])
    oh, ow = _nonneg(output_size, "output_size", fn)
    if oh == 0 or ow == 0:
        # no window to average; a corner broadcast to the empty shape keeps the result on
        # the graph, so backward gives zeros (PyTorch's backward raises here instead); cloned,
        # so the result is a tensor of its own (writable, not a view of ``input``), as PyTorch's
        return input[:, :, :1, :1].expand(N, C, oh, ow).clone()
    if H % oh or W % ow:
        raise ValueError("%s: output size (%d, %d) must divide the input size (%d, %d); "
                         "other sizes are not supported" % (fn, oh, ow, H, W))
    if (oh, ow) == (1, 1):
        return _pool.GlobalAvgPool2d.apply(input)
    k = (H // oh, W // ow)
    return _pool.AvgPool2d.apply(input, k, k, (0, 0), False, True)


def global_avg_pool2d(input):
    """The mean of every channel plane: (N, C, H, W) -> (N, C, 1, 1)."""
    _check_4d(input, "global_avg_pool2d")
    _check_float(input, "global_avg_pool2d")
    return _pool.GlobalAvgPool2d.apply(input)


def relu(input, inplace=False):
    """max(input, 0). (``inplace`` is accepted for PyTorch compatibility and ignored: a new
    tensor is returned, ``input`` is left as it is. npconv has no in-place autograd.)"""
    if not isinstance(input, _Tensor):
        raise TypeError("relu(): argument 'input' must be a Tensor, not %s"
                        % type(input).__name__)
    return _ReLU.apply(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the
    rest by 1/(1-p); ``p=1`` gives zeros. Not training (or p=0): ``input`` itself.
    (``inplace`` is accepted and ignored, as in ``relu``.)"""
    if isinstance(p, bool) or not isinstance(p, _Real) or not 0.0 <= p <= 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got %s" % (p,))
    if not training or p == 0:
        return input
    return _dropout.Dropout.apply(input, float(p))


# --- activations, linear, losses, batch norm (nn/_activation.py, nn/_linear.py, nn/_loss.py,
#     nn/_norm.py) ---
from ._activation import leaky_relu, log_softmax, sigmoid, softmax, tanh  # noqa: E402,F401
from ._linear import linear  # noqa: E402,F401
from ._loss import (binary_cross_entropy_with_logits, cross_entropy, l1_loss,  # noqa: E402,F401
                    mse_loss, nll_loss)
from ._norm import batch_norm  # noqa: E402,F401
