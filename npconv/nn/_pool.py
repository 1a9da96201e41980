"""Pooling Functions: max, average, adaptive average and global average pooling.

Arguments arrive validated and normalised to pairs (``functional``). Windows are visited by a
loop over the kH*kW kernel offsets, each a strided slice of the (padded) input covering all
(N, C, Ho, Wo) windows at once: a running maximum (and the offset of the first maximum, as
PyTorch picks one winner per window; a window holding a NaN is NaN and its last NaN wins) or
a running sum. Backward scatters back through the same
slices; within one offset the target pixels are distinct, so plain slice-adds are exact.

Fast path: the non-overlapping 2x2 max-pool (stride 2, no padding, no dilation) works on the
four phase slices ``x[..., a::2, b::2]`` with no padded copy and no index array; it gives the
same results as the general path (tested).
"""
import numpy

from .. import _cuda_kernels
from ..autograd.function import Function
from ..backend import get_array_module
from .im2col import (_LAYOUTS, _along, _empty_stored, _inverse, _parallel, _storage_order,
                     _to_nchw, _workspace, as_layout, pad_into)

_LAYOUT_NAMES = {perm: name for name, perm in _LAYOUTS.items()}

__all__ = ["MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "pool_output_size"]


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Output length along one axis, as PyTorch computes it (in ceil mode the last window
    must start inside the input or its left padding)."""
    eff = dilation * (kernel - 1) + 1
    num = size + 2 * padding - eff
    if ceil_mode:
        out = -(-num // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = num // stride + 1
    return out


def _extra(size, kernel, stride, padding, dilation, out):
    """Rows past the padded input that the last (ceil-mode) window reaches."""
    need = (out - 1) * stride + dilation * (kernel - 1) + 1
    return max(0, need - (size + 2 * padding))


def _offset_slice(a, i0, j0, out_hw, stride):
    Ho, Wo = out_hw
    sH, sW = stride
    return a[:, :, i0:i0 + (Ho - 1) * sH + 1:sH, j0:j0 + (Wo - 1) * sW + 1:sW]


def _is_2x2(x, kernel, stride, padding, dilation, out_hw):
    return (kernel == (2, 2) and stride == (2, 2) and padding == (0, 0) and dilation == (1, 1)
            and 2 * out_hw[0] <= x.shape[2] and 2 * out_hw[1] <= x.shape[3])


class MaxPool2d(Function):
    """y[n, c, ho, wo] = max of x over the window; the gradient goes to the window's first
    maximum (row-major scan order). With ``return_indices`` also returns, as PyTorch, the
    flat index (h*W + w) of that maximum in its input plane. A window holding a NaN gives
    NaN, and its index and gradient go to its last NaN in scan order (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
        xp = get_array_module(x)
        N, C, H, W = x.shape
        kH, kW = kernel
        Ho = pool_output_size(H, kH, stride[0], padding[0], dilation[0], ceil_mode)
        Wo = pool_output_size(W, kW, stride[1], padding[1], dilation[1], ceil_mode)
        ctx.geom = (x.shape, kernel, stride, padding, dilation, (Ho, Wo))
        if _is_2x2(x, kernel, stride, padding, dilation, (Ho, Wo)) and not return_indices:
            # the maxima are taken in x's own memory layout (a conv output may be stored
            # (C, H, W, N) or (C, N, H, W)) and handed on in it when that is (C, H, W, N):
            # the next conv reads that layout directly, and ``y.view(N, -1)`` still works
            # (C, H, W merge into one stride). A (C, N, H, W) result, which ``view(N, -1)``
            # could not flatten, is copied to NCHW (pooled maps are 4x smaller).
            layout = _layout_of(xp, x)
            perm = _LAYOUTS[layout]
            m = _empty_stored(xp, "pool2x2", (N, C, Ho, Wo), x.dtype, perm)
            ax = perm[0]

            def part(lo, hi):
                s = _along(ax, lo, hi)
                xs, ms = x[s], m[s]
                xp.maximum(_offset_slice(xs, 0, 0, (Ho, Wo), stride),
                           _offset_slice(xs, 0, 1, (Ho, Wo), stride), out=ms)
                t = xp.maximum(_offset_slice(xs, 1, 0, (Ho, Wo), stride),
                               _offset_slice(xs, 1, 1, (Ho, Wo), stride))
                xp.maximum(ms, t, out=ms)
            _parallel(xp, x.shape[ax], x.size, part)
            y = m if layout != "cnhw" else _to_nchw(xp, m.transpose(perm), None, "nhw",
                                                     "poolOut")
            ctx.fast = True
            ctx.layout = layout
            ctx.save_for_backward(x, m)
            return y
        ctx.fast = False
        y, code = _max_general(xp, x, kernel, stride, padding, dilation, (Ho, Wo))
        ctx.save_for_backward(code)
        if not return_indices:
            return y
        # flat index into the input plane: h*W + w with h = ho*s + i*d - p
        i = code // kW
        j = code - i * kW
        h = (xp.arange(Ho, dtype=xp.int64) * stride[0] - padding[0])[:, None] + i * dilation[0]
        w = (xp.arange(Wo, dtype=xp.int64) * stride[1] - padding[1]) + j * dilation[1]
        idx = h * W + w
        ctx.mark_non_differentiable(idx)
        return y, idx

    @staticmethod
    def backward(ctx, gy, gidx=None):
        (xshape, kernel, stride, padding, dilation, out_hw) = ctx.geom
        xp = get_array_module(gy)
        kernels = _cuda_kernels.use_kernels(xp, gy.dtype)   # real CuPy: one launch
        if ctx.fast:
            x, m = ctx.saved_tensors
            if kernels:
                return _cuda_kernels.max_pool2x2_backward(x, m, gy)
            return _max2x2_backward(xp, x, m, gy, out_hw, stride, ctx.layout)
        (code,) = ctx.saved_tensors
        if kernels:
            return _cuda_kernels.max_pool_backward(gy, code, xshape, kernel, stride, padding,
                                                   dilation)
        N, C, H, W = xshape
        kH, kW = kernel
        Hb = H + 2 * padding[0] + _extra(H, kH, stride[0], padding[0], dilation[0], out_hw[0])
        Wb = W + 2 * padding[1] + _extra(W, kW, stride[1], padding[1], dilation[1], out_hw[1])
        dx = _workspace.empty(xp, "pooldx", (N, C, Hb, Wb), gy.dtype)
        dx[...] = 0
        for i in range(kH):
            for j in range(kW):
                tgt = _offset_slice(dx, i * dilation[0], j * dilation[1], out_hw, stride)
                tgt += gy * (code == i * kW + j)
        return dx[:, :, padding[0]:padding[0] + H, padding[1]:padding[1] + W]


def _max_general(xp, x, kernel, stride, padding, dilation, out_hw):
    """Running max over the kernel offsets of the -inf padded input (the dtype's minimum
    for integers); also the offset code (i*kW + j) of the first maximum of each window, or
    of its last NaN when it holds one."""
    N, C, H, W = x.shape
    kH, kW = kernel
    ex = (_extra(H, kH, stride[0], padding[0], dilation[0], out_hw[0]),
          _extra(W, kW, stride[1], padding[1], dilation[1], out_hw[1]))
    if padding != (0, 0) or ex != (0, 0):
        low = float("-inf") if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        x = pad_into(xp, x, padding, fill=low, tag="maxpad", extra=ex, layout="nchw")
    y = xp.empty((x.shape[0], x.shape[1]) + tuple(out_hw), x.dtype)
    code = xp.zeros(y.shape, xp.int8 if kH * kW < 127 else xp.int32)
    # a NaN wins its window, the last one in scan order (PyTorch): one more pass per offset,
    # so NumPy first looks for any NaN at all (one pass); off NumPy that look would be a sync
    nans = x.dtype.kind == "f" and (xp is not numpy or bool(numpy.isnan(x).any()))
    for i in range(kH):
        for j in range(kW):
            v = _offset_slice(x, i * dilation[0], j * dilation[1], out_hw, stride)
            if i == 0 and j == 0:
                y[...] = v
                continue
            m = v > y
            if nans:
                m |= xp.isnan(v)
            xp.copyto(y, v, where=m)
            xp.copyto(code, i * kW + j, where=m)
    if padding != (0, 0) or ex != (0, 0):
        # a window whose real pixels all equal the fill (-inf, the integer minimum) may have
        # its first maximum in the padding: PyTorch names its first in-bounds tap instead
        # (an index into the plane, and where the gradient goes). One look at the output
        at_fill = y == low
        if xp is not numpy or bool(at_fill.any()):
            i0 = -(-(padding[0] - xp.arange(out_hw[0]) * stride[0]).clip(0) // dilation[0])
            j0 = -(-(padding[1] - xp.arange(out_hw[1]) * stride[1]).clip(0) // dilation[1])
            first = (i0[:, None] * kW + j0).astype(code.dtype)
            xp.copyto(code, first, where=at_fill)
    return y, code


def _max2x2_backward(xp, x, m, gy, out_hw, stride, layout):
    """Gradient of the 2x2/stride-2 max-pool: each window's gradient goes to its first
    maximum (scan order (0,0), (0,1), (1,0), (1,1)), or to its last NaN when it holds one,
    as the general path's argmax. x and
    its maxima m are stored in ``layout``; gy is brought to it and so is dx."""
    perm = _LAYOUTS[layout]
    gy = as_layout(xp, gy, layout, "poolG").transpose(_inverse(perm))
    dx = _empty_stored(xp, "pool2x2dx", x.shape, gy.dtype, perm)
    Ho, Wo = out_hw
    if x.shape[2] > 2 * Ho:
        dx[:, :, 2 * Ho:] = 0
    if x.shape[3] > 2 * Wo:
        dx[:, :, :, 2 * Wo:] = 0
    ax = perm[0]

    offsets = ((0, 0), (0, 1), (1, 0), (1, 1))

    def part(lo, hi):
        s = _along(ax, lo, hi)
        xs, ys, gs, ds = x[s], m[s], gy[s], dx[s]
        free = None                                  # windows whose winner is not found yet
        for k, (i, j) in enumerate(offsets):
            d = _offset_slice(ds, i, j, out_hw, stride)
            if k == 3:
                win = free
            else:
                win = _offset_slice(xs, i, j, out_hw, stride) == ys
                if free is None:
                    free = ~win
                else:
                    win &= free
                    free &= ~win
            xp.multiply(gs, win, out=d)
        # a NaN max equals nothing, so its window went to (1, 1) above; PyTorch gives it
        # to the window's last NaN. NumPy checks for NaN first (one pass over the maxima)
        if xp is not numpy or numpy.isnan(ys).any():
            nan = xp.isnan(ys)
            left = nan.copy()                        # NaN windows whose last NaN is not found
            for i, j in offsets[::-1]:
                win = left & xp.isnan(_offset_slice(xs, i, j, out_hw, stride))
                left &= ~win
                xp.copyto(_offset_slice(ds, i, j, out_hw, stride), gs * win, where=nan)
    _parallel(xp, x.shape[ax], x.size, part)
    return dx


def _layout_of(xp, x):
    """The name of the layout x (N, C, H, W) is stored in, when it is one npconv's kernels
    work in ('nchw', 'cnhw', 'chwn'); 'nchw' otherwise and off NumPy."""
    if xp is not numpy:
        return "nchw"
    return _LAYOUT_NAMES.get(_storage_order(x), "nchw")


class AvgPool2d(Function):
    """y = mean over each window. The divisor is kH*kW (count_include_pad, windows clipped
    to the padded input in ceil mode) or the number of real input pixels in the window."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad,
                divisor_override=None):
        xp = get_array_module(x)
        N, C, H, W = x.shape
        kH, kW = kernel
        Ho = pool_output_size(H, kH, stride[0], padding[0], 1, ceil_mode)
        Wo = pool_output_size(W, kW, stride[1], padding[1], 1, ceil_mode)
        ex = (_extra(H, kH, stride[0], padding[0], 1, Ho),
              _extra(W, kW, stride[1], padding[1], 1, Wo))
        # the divisor of every window, from a plane of ones over what counts
        plane = xp.zeros((1, 1, H + 2 * padding[0] + ex[0], W + 2 * padding[1] + ex[1]), x.dtype)
        if count_include_pad:
            plane[:, :, :H + 2 * padding[0], :W + 2 * padding[1]] = 1
        else:
            plane[:, :, padding[0]:padding[0] + H, padding[1]:padding[1] + W] = 1
        div = xp.zeros((1, 1, Ho, Wo), x.dtype)
        for i in range(kH):
            for j in range(kW):
                div += _offset_slice(plane, i, j, (Ho, Wo), stride)
        if divisor_override is not None:
            div[...] = divisor_override
        inv = 1 / div
        xpad = x
        if padding != (0, 0) or ex != (0, 0):
            xpad = pad_into(xp, x, padding, fill=0, tag="avgpad", extra=ex, layout="nchw")
        y = xp.empty((N, C, Ho, Wo), x.dtype)
        for i in range(kH):
            for j in range(kW):
                v = _offset_slice(xpad, i, j, (Ho, Wo), stride)
                if i == 0 and j == 0:
                    y[...] = v
                else:
                    y += v
        y *= inv
        ctx.save_for_backward(inv)
        ctx.geom = (x.shape, kernel, stride, padding, (Ho, Wo), ex)
        return y

    @staticmethod
    def backward(ctx, gy):
        (inv,) = ctx.saved_tensors
        (N, C, H, W), (kH, kW), stride, padding, out_hw, ex = ctx.geom
        xp = get_array_module(gy)
        g = gy * inv
        dx = xp.zeros((N, C, H + 2 * padding[0] + ex[0], W + 2 * padding[1] + ex[1]), gy.dtype)
        for i in range(kH):
            for j in range(kW):
                _offset_slice(dx, i, j, out_hw, stride)[...] += g
        return dx[:, :, padding[0]:padding[0] + H, padding[1]:padding[1] + W]


class GlobalAvgPool2d(Function):
    """(N, C, H, W) -> (N, C, 1, 1): the mean of every plane. The gradient is stored like
    the input (a conv output may be stored (C, H, W, N)), so the ops before it in the
    backward pass work on one layout."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.xshape = x.shape
        ctx.layout = _layout_of(xp, x)
        return xp.ascontiguousarray(x.mean(axis=(2, 3), keepdims=True))

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        N, C, H, W = ctx.xshape
        dx = _empty_stored(xp, "gapdx", ctx.xshape, gy.dtype, _LAYOUTS[ctx.layout])
        dx[...] = gy * (1.0 / (H * W))
        return dx
