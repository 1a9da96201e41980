"""Plain-loop reference implementations: slow, obviously correct, and kept as test oracles
(and as the baseline ``benchmarks/conv.py`` shows im2col's speed-up against).

They take and return raw NumPy arrays (N, C, H, W) and follow PyTorch's definitions directly.
"""
import math

import numpy

__all__ = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, ho, wo] = b[o] + sum_{c, i, j} w[o, c, i, j] *
    xpad[n, g*Cg + c, ho*sH + i*dH, wo*sW + j*dW], g = o // (O/groups)."""
    sH, sW = _pair(stride)
    pH, pW = _pair(padding)
    dH, dW = _pair(dilation)
    N, C, H, W = x.shape
    O, Cg, kH, kW = w.shape
    Og = O // groups
    Ho = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    Wo = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    xp = numpy.zeros((N, C, H + 2 * pH, W + 2 * pW), x.dtype)
    xp[:, :, pH:pH + H, pW:pW + W] = x
    y = numpy.zeros((N, O, Ho, Wo), x.dtype)
    for n in range(N):
        for o in range(O):
            g = o // Og
            for ho in range(Ho):
                for wo in range(Wo):
                    acc = 0.0
                    for c in range(Cg):
                        for i in range(kH):
                            for j in range(kW):
                                acc += (w[o, c, i, j]
                                        * xp[n, g * Cg + c, ho * sH + i * dH, wo * sW + j * dW])
                    y[n, o, ho, wo] = acc + (b[o] if b is not None else 0.0)
    return y


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Scatter form: every input pixel x[n, c, h, w] adds x * w[c, o, i, j] to
    out[n, g*Og + o, h*sH + i*dH - pH, w*sW + j*dW - pW] (when inside the output)."""
    sH, sW = _pair(stride)
    pH, pW = _pair(padding)
    oH, oW = _pair(output_padding)
    dH, dW = _pair(dilation)
    N, C, H, W = x.shape
    _, Og, kH, kW = w.shape
    Cg = C // groups
    Ho = (H - 1) * sH - 2 * pH + dH * (kH - 1) + oH + 1
    Wo = (W - 1) * sW - 2 * pW + dW * (kW - 1) + oW + 1
    y = numpy.zeros((N, Og * groups, Ho, Wo), x.dtype)
    for n in range(N):
        for c in range(C):
            g = c // Cg
            for h in range(H):
                for ww in range(W):
                    for o in range(Og):
                        for i in range(kH):
                            for j in range(kW):
                                r = h * sH + i * dH - pH
                                q = ww * sW + j * dW - pW
                                if 0 <= r < Ho and 0 <= q < Wo:
                                    y[n, g * Og + o, r, q] += x[n, c, h, ww] * w[c, o, i, j]
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _pool_out(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Returns (y, indices): the max of each window (pixels outside the input are skipped)
    and the flat index h*W + w of its first maximum in row-major scan order; a window
    holding a NaN gives NaN and the index of its last NaN (PyTorch's rule)."""
    kH, kW = _pair(kernel_size)
    sH, sW = _pair(stride if stride is not None else kernel_size)
    pH, pW = _pair(padding)
    dH, dW = _pair(dilation)
    N, C, H, W = x.shape
    Ho = _pool_out(H, kH, sH, pH, dH, ceil_mode)
    Wo = _pool_out(W, kW, sW, pW, dW, ceil_mode)
    y = numpy.zeros((N, C, Ho, Wo), x.dtype)
    idx = numpy.zeros((N, C, Ho, Wo), numpy.int64)
    for n in range(N):
        for c in range(C):
            for ho in range(Ho):
                for wo in range(Wo):
                    best, arg = -numpy.inf, -1
                    for i in range(kH):
                        for j in range(kW):
                            h = ho * sH - pH + i * dH
                            w = wo * sW - pW + j * dW
                            if not (0 <= h < H and 0 <= w < W):
                                continue
                            v = x[n, c, h, w]
                            if v > best or math.isnan(v):
                                best, arg = v, h * W + w
                    y[n, c, ho, wo] = best
                    idx[n, c, ho, wo] = arg
    return y, idx


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean of each window; the divisor as PyTorch: the window clipped to the padded input
    (count_include_pad) or the number of real pixels in it."""
    kH, kW = _pair(kernel_size)
    sH, sW = _pair(stride if stride is not None else kernel_size)
    pH, pW = _pair(padding)
    N, C, H, W = x.shape
    Ho = _pool_out(H, kH, sH, pH, 1, ceil_mode)
    Wo = _pool_out(W, kW, sW, pW, 1, ceil_mode)
    y = numpy.zeros((N, C, Ho, Wo), x.dtype)
    for n in range(N):
        for c in range(C):
            for ho in range(Ho):
                for wo in range(Wo):
                    h0, w0 = ho * sH - pH, wo * sW - pW
                    h1, w1 = min(h0 + kH, H + pH), min(w0 + kW, W + pW)
                    div = (h1 - h0) * (w1 - w0)
                    acc, cnt = 0.0, 0
                    for h in range(max(h0, 0), min(h1, H)):
                        for w in range(max(w0, 0), min(w1, W)):
                            acc += x[n, c, h, w]
                            cnt += 1
                    y[n, c, ho, wo] = acc / (div if count_include_pad else cnt)
    return y
