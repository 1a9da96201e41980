"""One-launch CUDA kernels for the scatter-shaped backward passes (CuPy only).

On the GPU, the array-module code of ``col2im`` and of max-pool backward issues one small
kernel per kernel offset (kH*kW slab-adds, several launches each for max-pool). Here each is
a single gather kernel: one thread per input-gradient element sums the column / output-
gradient entries that map to it, so there are no atomics and the result is deterministic
(and equal to the array-module code's up to float summation order).

* ``col2im(col, x_shape, kernel, stride, padding, dilation, order)`` - the adjoint of
  ``npconv.nn.im2col.im2col`` for both column orders ('nhw', 'hwn').
* ``max_pool_backward(gy, code, x_shape, kernel, stride, padding, dilation)`` - the
  gradient of ``MaxPool2d`` given the offset code (i*kW + j) of each window's winner.
* ``max_pool2x2_backward(x, y, gy)`` - the 2x2/stride-2 fast path (winner recomputed as the
  first position in scan order equal to the window max).

``use_kernels(xp)`` says whether to call them: only for real CuPy (the stand-in test device
and NumPy run the array-module code) and unless ``NPCONV_CUDA_KERNELS=0``. The kernel sources
are plain CUDA C that ``tests/test_cuda_kernels.py`` also compiles with a host C++ compiler
(the CUDA built-ins emulated by one sequential thread) and with ``nvcc`` when present, so
their index arithmetic is tested without a GPU.
"""
import os

import numpy

__all__ = ["use_kernels", "col2im", "max_pool_backward", "max_pool2x2_backward", "SOURCES"]

_DTYPES = {numpy.dtype(numpy.float32): "float", numpy.dtype(numpy.float64): "double"}

# The body of both gather kernels: for input pixel (h, w), every kernel offset (i, j) and the
# output position (ho, wo) whose window puts that offset on the pixel (the inverse of
# im2col's map h = ho*sH + i*dH - pH), then BODY. Offsets are visited in scan order.
_COVERING_WINDOWS = r"""        const int hp = h + pH, wp = w + pW;
        for (int i = 0; i < kH; ++i) {
            const int hh = hp - i * dH;
            if (hh < 0) break;
            if (hh % sH != 0) continue;
            const int ho = hh / sH;
            if (ho >= Ho) continue;
            for (int j = 0; j < kW; ++j) {
                const int ww = wp - j * dW;
                if (ww < 0) break;
                if (ww % sW != 0) continue;
                const int wo = ww / sW;
                if (wo >= Wo) continue;
BODY
            }
        }
"""


def _windows(body):
    return _COVERING_WINDOWS.replace("BODY", body)


# One thread per element of the gradient buffer, grid-stride loop. ``T`` is substituted.
_COL2IM = r"""
extern "C" __global__ void npconv_col2im_{order}_{tname}(
        const T* col, T* dx, long long total, int N, int C, int H, int W,
        int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int Ho, int Wo)
{{
    for (long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {{
        long long t = idx;
        int n, c, h, w;
{decompose}
        T acc = 0;
{windows}        dx[idx] = acc;
    }}
}}
"""
# 'nhw': col (C, kH, kW, N, Ho, Wo), dx buffer (C, N, H, W)
_NHW = dict(
    decompose="""        w = (int)(t % W); t /= W;
        h = (int)(t % H); t /= H;
        n = (int)(t % N); c = (int)(t / N);""",
    colindex="((r * N + n) * Ho + ho) * Wo + wo")
# 'hwn': col (C, kH, kW, Ho, Wo, N), dx buffer (C, H, W, N)
_HWN = dict(
    decompose="""        n = (int)(t % N); t /= N;
        w = (int)(t % W); t /= W;
        h = (int)(t % H); c = (int)(t / H);""",
    colindex="((r * Ho + ho) * Wo + wo) * N + n")

_MAXPOOL = r"""
extern "C" __global__ void npconv_maxpool_backward_{tname}_{csuffix}(
        const T* gy, const {ctype}* code, T* dx, long long total, int H, int W,
        int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int Ho, int Wo)
{{
    for (long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {{
        const int w = (int)(idx % W);
        const int h = (int)((idx / W) % H);
        const long long plane = idx / ((long long)H * W);      /* n * C + c */
        const long long obase = plane * Ho * Wo;
        T acc = 0;
{windows}        dx[idx] = acc;
    }}
}}
"""

_MAX2X2 = r"""
extern "C" __global__ void npconv_maxpool2x2_backward_{tname}(
        const T* x, const T* y, const T* gy, T* dx, long long total, int H, int W,
        int Ho, int Wo)
{{
    for (long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {{
        const int w = (int)(idx % W);
        const int h = (int)((idx / W) % H);
        const long long plane = idx / ((long long)H * W);
        const int ho = h / 2, wo = w / 2;
        T g = 0;
        if (ho < Ho && wo < Wo) {{
            const long long o = (plane * Ho + ho) * Wo + wo;
            const T m = y[o];
            const T v = x[idx];
            const long long base = (plane * H + 2 * ho) * W + 2 * wo;
            const int k = (h - 2 * ho) * 2 + (w - 2 * wo);
            if (m != m) {{
                /* a NaN max: the gradient goes to the window's last NaN (PyTorch's rule) */
                if (v != v) {{
                    int last = 1;
                    for (int q = k + 1; q < 4; ++q) {{
                        const T u = x[base + (q / 2) * W + (q % 2)];
                        if (u != u) {{ last = 0; break; }}
                    }}
                    if (last) g = gy[o];
                }}
            }} else if (v == m) {{
                /* the gradient goes to the first maximum in scan order */
                int first = 1;
                for (int q = 0; q < k; ++q) {{
                    if (x[base + (q / 2) * W + (q % 2)] == m) {{ first = 0; break; }}
                }}
                if (first) g = gy[o];
            }}
        }}
        dx[idx] = g;
    }}
}}
"""


def _col2im_source(order, tname):
    parts = _NHW if order == "nhw" else _HWN
    windows = _windows("""                const long long r = ((long long)c * kH + i) * kW + j;
                acc += col[%s];""" % parts["colindex"])
    return ("#define T %s\n" % tname) + _COL2IM.format(
        order=order, tname=tname, decompose=parts["decompose"], windows=windows) + "#undef T\n"


def _maxpool_source(tname, csuffix, ctype):
    windows = _windows("""                const long long o = obase + (long long)ho * Wo + wo;
                if ((int)code[o] == i * kW + j) acc += gy[o];""")
    return ("#define T %s\n" % tname) + _MAXPOOL.format(
        tname=tname, csuffix=csuffix, ctype=ctype, windows=windows) + "#undef T\n"


def _max2x2_source(tname):
    return ("#define T %s\n" % tname) + _MAX2X2.format(tname=tname) + "#undef T\n"


# offset-code dtype -> (kernel-name suffix, C type)
_CODE_TYPES = {numpy.dtype(numpy.int8): ("i8", "signed char"),
               numpy.dtype(numpy.int32): ("i32", "int")}


def sources():
    """{kernel name: CUDA C source} for every kernel and dtype (used by the tests)."""
    out = {}
    for tname in ("float", "double"):
        for order in ("nhw", "hwn"):
            out["npconv_col2im_%s_%s" % (order, tname)] = _col2im_source(order, tname)
        for csuffix, ctype in _CODE_TYPES.values():
            out["npconv_maxpool_backward_%s_%s" % (tname, csuffix)] = \
                _maxpool_source(tname, csuffix, ctype)
        out["npconv_maxpool2x2_backward_%s" % tname] = _max2x2_source(tname)
    return out


SOURCES = sources()
_cache = {}


def use_kernels(xp, dtype=None):
    """True when ``xp`` is real CuPy (not NumPy, not the stand-in), the dtype has a kernel,
    and ``NPCONV_CUDA_KERNELS`` is not '0'."""
    if getattr(xp, "__name__", "") != "cupy":
        return False
    if os.environ.get("NPCONV_CUDA_KERNELS", "1") == "0":
        return False
    return dtype is None or numpy.dtype(dtype) in _DTYPES


def _kernel(name):
    k = _cache.get(name)
    if k is None:
        import cupy
        k = _cache[name] = cupy.RawKernel(SOURCES[name], name)
    return k


def _launch(kernel, total, args):
    block = 256
    grid = int(min(max(1, -(-total // block)), 65535 * 8))
    kernel((grid,), (block,), args)


def col2im(col, x_shape, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
           order="nhw"):
    """``npconv.nn.im2col.col2im`` in one launch (CuPy arrays only): returns dx (N, C, H, W)
    as a view of a buffer stored (C, N, H, W) for 'nhw' or (C, H, W, N) for 'hwn'."""
    import cupy
    N, C, H, W = (int(s) for s in x_shape)
    kH, kW = kernel_size
    sH, sW = stride
    pH, pW = padding
    dH, dW = dilation
    hwn = order == "hwn"
    if col.ndim == 6:      # Ho, Wo as im2col made them (col2im of a transposed conv)
        Ho, Wo = (col.shape[3], col.shape[4]) if hwn else (col.shape[4], col.shape[5])
    else:
        Ho = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
        Wo = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    col = cupy.ascontiguousarray(col).reshape(
        (C, kH, kW, Ho, Wo, N) if hwn else (C, kH, kW, N, Ho, Wo))
    tname = _DTYPES[col.dtype]
    buf = cupy.empty((C, H, W, N) if hwn else (C, N, H, W), col.dtype)
    i32 = numpy.int32
    _launch(_kernel("npconv_col2im_%s_%s" % (order, tname)), buf.size,
            (col, buf, numpy.int64(buf.size), i32(N), i32(C), i32(H), i32(W), i32(kH),
             i32(kW), i32(sH), i32(sW), i32(pH), i32(pW), i32(dH), i32(dW), i32(Ho),
             i32(Wo)))
    return buf.transpose(3, 0, 1, 2) if hwn else buf.transpose(1, 0, 2, 3)


def max_pool_backward(gy, code, x_shape, kernel_size, stride, padding, dilation):
    """dx (N, C, H, W), contiguous, from gy (N, C, Ho, Wo) and the winners' offset codes."""
    import cupy
    N, C, H, W = (int(s) for s in x_shape)
    Ho, Wo = int(gy.shape[2]), int(gy.shape[3])
    gy = cupy.ascontiguousarray(gy)
    code = cupy.ascontiguousarray(code)
    tname = _DTYPES[gy.dtype]
    csuffix = _CODE_TYPES[code.dtype][0]
    dx = cupy.empty((N, C, H, W), gy.dtype)
    i32 = numpy.int32
    _launch(_kernel("npconv_maxpool_backward_%s_%s" % (tname, csuffix)), dx.size,
            (gy, code, dx, numpy.int64(dx.size), i32(H), i32(W), i32(kernel_size[0]),
             i32(kernel_size[1]), i32(stride[0]), i32(stride[1]), i32(padding[0]),
             i32(padding[1]), i32(dilation[0]), i32(dilation[1]), i32(Ho), i32(Wo)))
    return dx


def max_pool2x2_backward(x, y, gy):
    """dx for the 2x2/stride-2 max-pool (no padding), contiguous (N, C, H, W)."""
    import cupy
    N, C, H, W = (int(s) for s in x.shape)
    Ho, Wo = int(y.shape[2]), int(y.shape[3])
    x = cupy.ascontiguousarray(x)
    y = cupy.ascontiguousarray(y)
    gy = cupy.ascontiguousarray(gy)
    dx = cupy.empty(x.shape, gy.dtype)
    _launch(_kernel("npconv_maxpool2x2_backward_%s" % _DTYPES[gy.dtype]), dx.size,
            (x, y, gy, dx, numpy.int64(dx.size), numpy.int32(H), numpy.int32(W),
             numpy.int32(Ho), numpy.int32(Wo)))
    return dx
