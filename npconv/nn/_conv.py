"""Convolution Functions: conv2d and conv_transpose2d by im2col + one GEMM (per group).

Shapes (PyTorch's): input (N, C, H, W), conv2d weight (O, C/groups, kH, kW), conv_transpose2d
weight (C, O/groups, kH, kW), bias (O,). Arguments arrive validated (``functional``) and
normalised to pairs.

With K = C/groups*kH*kW and M = N*Ho*Wo, per group g::

    forward  Y(O_g, M)  = W_g(O_g, K) @ col_g(K, M)            then y = Y as (N, O, Ho, Wo) + b
    grad W   dW_g       = gY_g(O_g, M) @ col_g(K, M).T
    grad x   dcol_g     = W_g.T @ gY_g                          then dx = col2im(dcol)
    grad b   db         = gY summed over (N, Ho, Wo)

On NumPy (one group) the bias joins the GEMMs: col gets a last row of ones and W a last
column b, so ``[W | b] @ [col; 1]`` is the forward with its bias and the last column of
``gY @ [col; 1].T`` is db. Y is handed on in the layout the GEMM wrote it in, (O, N, Ho, Wo)
or (O, Ho, Wo, N), as an NCHW-shaped view (no transposing copy; the same for dx).
Big layers on NumPy run the same products over the patch matrix in cache-sized chunks
instead (``_chunked_conv``: the patch matrix is never whole, and with O <= C grad x is a
correlation of the padded gY, without col2im).

conv_transpose2d is the same three products with the roles of forward and grad-x swapped.
"""
import numpy

from ..autograd.function import Function
from ..backend import get_array_module
from . import _chunked_conv
from .im2col import (_ORDER_LAYOUT, _parallel, _to_nchw, _workspace, as_layout, col2im,
                     conv_output_size, copy_into, im2col)

__all__ = ["Conv2d", "ConvTranspose2d", "column_order"]

# None: choose per call; 'nhw' or 'hwn' forces a column order (tests, benchmarks)
FORCE_ORDER = None


def column_order(N, Ho, Wo, xp=numpy):
    """The column order of the GEMMs: 'nhw' (pixels of one image contiguous) or 'hwn' (the
    batch innermost). The work around the GEMMs runs in contiguous stretches of Wo elements
    for 'nhw' and of Wo*N (stride 1) or N for 'hwn', and NumPy pays per stretch. On NumPy,
    where outputs stay in the GEMM's layout, 'hwn' up to 28-wide maps (MNIST-size networks
    then keep their activations (C, H, W, N) from layer to layer: LeNet-5, seed CNN and
    simple_cnn training steps measured 5-20% faster than with 'nhw' on their 28x28 layers),
    'nhw' from 32 wide on (a 56x56 layer's forward + backward ~10% faster with it).
    Elsewhere (CuPy, outputs converted to NCHW): 'hwn' below 16, where moving the batch
    axis costs least."""
    if FORCE_ORDER is not None:
        return FORCE_ORDER
    return "hwn" if Wo < (32 if xp is numpy else 16) else "nhw"


def _matrix(xp, x, order, tag):
    """x (N, C, H, W) as a C-contiguous (C, M) matrix with columns in ``order`` (a free
    reshape when x is already stored that way)."""
    return as_layout(xp, x, _ORDER_LAYOUT[order], tag).reshape(x.shape[1], -1)


def _image(m, shape, order):
    """The inverse of ``_matrix``: a (C, M) matrix as the logical (N, C, H, W) view."""
    N, C, H, W = shape
    if order == "nhw":
        return m.reshape(C, N, H, W).transpose(1, 0, 2, 3)
    return m.reshape(C, H, W, N).transpose(3, 0, 1, 2)


def _patch_matrix(xp, x, ksize, stride, padding, dilation, order, out_hw, ones_row):
    """The im2col matrix (C*kH*kW, M) of x, plus a last row of ones with ``ones_row`` (the
    bias's row of the GEMM). On NumPy a padded conv's buffer is kept per geometry, so its
    entries that read padding are zero from the first use on and im2col copies only the
    rest (``im2col(..., _zero_border=True)``)."""
    N, C = x.shape[:2]
    kH, kW = ksize
    Ho, Wo = out_hw
    K, M = C * kH * kW, N * Ho * Wo
    rows = K + bool(ones_row)
    zero_border = xp is numpy and padding != (0, 0)
    if zero_border:
        key = ("colz", x.shape, ksize, stride, padding, dilation, order, rows)
        buf = _workspace.empty(xp, key, (rows, M), x.dtype, init=0)
    else:
        buf = _workspace.empty(xp, "col", (rows, M), x.dtype)
    shape6 = (C, kH, kW, N, Ho, Wo) if order == "nhw" else (C, kH, kW, Ho, Wo, N)
    im2col(x, ksize, stride, padding, dilation, order, out=buf[:K].reshape(shape6),
           _zero_border=zero_border)
    if ones_row:
        buf[K] = 1
    return buf


def _weight_and_bias(xp, w, b):
    """[W | b] as (1, O, K + 1): the weight matrix with the bias as its last column."""
    O = w.shape[0]
    wb = xp.empty((1, O, w[0].size + 1), w.dtype)
    wb[0, :, :-1] = w.reshape(O, -1)
    wb[0, :, -1] = b
    return wb


def _add_rows(xp, m, b):
    """m (O, M) += b[:, None] in place, split over rows between threads."""
    bb = b[:, None]

    def part(lo, hi):
        m[lo:hi] += bb[lo:hi]
    _parallel(xp, m.shape[0], m.size, part)


def _mm(xp, a, b, out=None):
    """a @ b for (G, m, k) @ (G, k, n); a plain 2-D GEMM when G == 1."""
    if a.shape[0] == 1:
        r = xp.matmul(a[0], b[0], out=None if out is None else out[0])
        return r[None]
    return xp.matmul(a, b, out=out)


class Conv2d(Function):
    """y = conv2d(x, w, b): (N, C, H, W) * (O, C/g, kH, kW) -> (N, O, Ho, Wo)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        xp = get_array_module(x)
        N, C, H, W = x.shape
        O, Cg, kH, kW = w.shape
        G = groups
        Ho = conv_output_size(H, kH, stride[0], padding[0], dilation[0])
        Wo = conv_output_size(W, kW, stride[1], padding[1], dilation[1])
        K, M = Cg * kH * kW, N * Ho * Wo
        pointwise = (kH == 1 and kW == 1 and stride == (1, 1) and padding == (0, 0))
        order = column_order(N, Ho, Wo, xp)
        # on NumPy a bias rides in the GEMM as a row of ones under the patch matrix (and
        # its gradient in the weight-gradient GEMM): no separate pass over the output
        fold = xp is numpy and b is not None and G == 1 and not pointwise
        wm = _weight_and_bias(xp, w, b) if fold else w.reshape(G, O // G, K)
        Y = _workspace.empty(xp, "convY", (G, O // G, M), x.dtype)
        plan = colm = None
        if M and _chunked_conv.usable(xp, G, pointwise, K, M, x.dtype.itemsize):
            # the patch matrix in cache-sized chunks, each multiplied as soon as it is
            # written (and not kept: the weight gradient unfolds it again)
            plan = _chunked_conv.Plan(x, (kH, kW), stride, padding, dilation, order,
                                      (Ho, Wo), K + int(fold))
            _chunked_conv.forward(plan, wm[0], Y[0])
        else:
            if pointwise:
                col = _matrix(xp, x, order, "col")    # 1x1: the input is already the matrix
            else:
                col = _patch_matrix(xp, x, (kH, kW), stride, padding, dilation, order,
                                    (Ho, Wo), ones_row=fold)
            colm = col.reshape(G, col.shape[0] // G, M)
            _mm(xp, wm, colm, out=Y)
        if xp is numpy:
            # hand on the GEMM's own layout, (O, N, Ho, Wo) or (O, Ho, Wo, N), as a view
            # with the logical NCHW shape: no transposing copy here, and the next conv's
            # im2col reads it in the order it wants (like PyTorch's channels_last)
            if b is not None and not fold:
                _add_rows(xp, Y.reshape(O, M), b)
            y = _image(Y.reshape(O, M), (N, O, Ho, Wo), order)
        else:
            Y = Y.reshape((O, N, Ho, Wo) if order == "nhw" else (O, Ho, Wo, N))
            y = _to_nchw(xp, Y, b, order, "convOut")
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        # the chunked path keeps its plan (the unfolding's sources) instead of the patch
        # matrix, and x, so that an in-place change of x before backward is caught
        if plan is not None and not need_w:
            plan.sources = plan.windows = None      # only the weight gradient unfolds x again
        ctx.save_for_backward(plan if plan is not None else colm if need_w else None,
                              w if need_x else None,
                              x if need_w and plan is not None else None)
        ctx.geom = (x.shape, (kH, kW), stride, padding, dilation, G, pointwise, (Ho, Wo),
                    order, fold)
        return y

    @staticmethod
    def backward(ctx, gy):
        saved, w, _ = ctx.saved_tensors         # saved: the patch matrix, or the chunked plan
        xshape, ksize, stride, padding, dilation, G, pointwise, (Ho, Wo), order, fold = ctx.geom
        xp = get_array_module(gy)
        N, C = xshape[:2]
        O = gy.shape[1]
        M = N * Ho * Wo
        gYm = _matrix(xp, gy, order, "gY").reshape(G, O // G, M)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = dw = db = None
        plan = saved if isinstance(saved, _chunked_conv.Plan) else None
        if need_w:
            if plan is not None:
                dwm = _chunked_conv.weight_grad(plan, gYm[0])[None]
            else:
                dwm = _mm(xp, gYm, saved.transpose(0, 2, 1))    # (G, O/G, rows)
            if fold:        # the last column is gY @ ones: the bias gradient
                db = dwm[0, :, -1].copy() if need_b else None
                dwm = dwm[..., :-1]
            dw = dwm.reshape(O, C // G, *ksize)
        if need_b and db is None:
            db = gYm.reshape(O, M).sum(axis=1)
        if need_x and plan is not None and _chunked_conv.grad_as_conv(O, C):
            dx = _chunked_conv.input_grad(plan, w, gy)
        elif need_x:
            wm = w.reshape(G, O // G, -1)
            K = wm.shape[2]
            dcol = _workspace.empty(xp, "dcol", (G, K, M), gy.dtype)
            _mm(xp, wm.transpose(0, 2, 1), gYm, out=dcol)
            if pointwise:
                dx = _image(dcol.reshape(C, M), xshape, order)
            else:
                dx = col2im(dcol.reshape(C * ksize[0] * ksize[1], M), xshape, ksize,
                            stride, padding, dilation, order)
            if order == "hwn" and xp is not numpy:
                dx = _to_nchw(xp, dx.transpose(1, 2, 3, 0), None, "hwn", "convDx")
        return dx, dw, db


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w, b): (N, C, H, W) * (C, O/g, kH, kW) -> (N, O, Ho, Wo) with
    Ho = (H-1)*sH - 2pH + dH(kH-1) + opH + 1: the adjoint (gradient w.r.t. the input) of
    conv2d, so its forward is col2im and its input gradient im2col."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, groups, dilation):
        xp = get_array_module(x)
        N, C, H, W = x.shape
        Cw, Og, kH, kW = w.shape
        G = groups
        O = Og * G
        Ho = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) + output_padding[0] + 1
        Wo = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kW - 1) + output_padding[1] + 1
        M = N * H * W
        xm = _matrix(xp, x, "nhw", "ctX").reshape(G, C // G, M)
        wm = w.reshape(G, C // G, Og * kH * kW)
        dcol = _workspace.empty(xp, "ctCol", (G, Og * kH * kW, M), x.dtype)
        _mm(xp, wm.transpose(0, 2, 1), xm, out=dcol)
        y = col2im(dcol.reshape(O, kH, kW, N, H, W), (N, O, Ho, Wo), (kH, kW), stride,
                   padding, dilation)
        out = _workspace.empty(xp, "ctOut", (N, O, Ho, Wo), x.dtype)
        if b is None:
            copy_into(out, y)
        else:
            xp.add(y, b[None, :, None, None], out=out)
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        ctx.save_for_backward(xm if need_w else None, w if need_x else None)
        ctx.geom = ((N, C, H, W), (kH, kW), stride, padding, dilation, G)
        return out

    @staticmethod
    def backward(ctx, gy):
        xm, w = ctx.saved_tensors
        (N, C, H, W), ksize, stride, padding, dilation, G = ctx.geom
        xp = get_array_module(gy)
        O = gy.shape[1]
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = dw = db = None
        if need_b:
            db = gy.sum(axis=(0, 2, 3))
        if need_x or need_w:
            col = im2col(gy, ksize, stride, padding, dilation)
            if col.shape[4:] != (H, W):      # output_padding >= stride (dilated): drop extras
                col = xp.ascontiguousarray(col[..., :H, :W])
            colm = col.reshape(G, O // G * ksize[0] * ksize[1], N * H * W)
            if need_x:
                wm = w.reshape(G, C // G, -1)
                dxm = _mm(xp, wm, colm)
                dx = dxm.reshape(C, N, H, W).transpose(1, 0, 2, 3)
            if need_w:
                dw = _mm(xp, xm, colm.transpose(0, 2, 1)).reshape(C, O // G, *ksize)
        return dx, dw, db
