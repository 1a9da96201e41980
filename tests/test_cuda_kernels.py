"""The one-launch CUDA kernels of ``npconv._cuda_kernels``, tested without a GPU.

Each kernel's CUDA C source is compiled by the host C++ compiler with the CUDA built-ins
emulated (one block of one thread: the grid-stride loop then visits every element in turn)
and its results are compared with npconv's array-module implementations on random inputs.
The sources are also compiled by ``nvcc`` when it is installed (PTX only: no GPU needed).
With CuPy and a GPU present, the real launches are compared too.
"""
import ctypes
import shutil
import subprocess

import numpy
import pytest

import npconv as nc
import npconv.nn.functional as F
from npconv import _cuda_kernels as K
from npconv import _standin
from npconv.nn import im2col as I

CXX = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
NVCC = shutil.which("nvcc")

_PRELUDE = """
struct npconv_dim3 { unsigned int x; };
static npconv_dim3 blockIdx = {0}, blockDim = {1}, threadIdx = {0}, gridDim = {1};
#define __global__
"""


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    """All kernel sources compiled for the host as one shared library (ctypes)."""
    if CXX is None:
        pytest.skip("no host C++ compiler to emulate the CUDA kernels")
    d = tmp_path_factory.mktemp("kernels")
    src = d / "kernels.cpp"
    src.write_text(_PRELUDE + "\n".join(K.SOURCES.values()))
    lib = d / "libkernels.so"
    r = subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-Wall", "-o", str(lib), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return ctypes.CDLL(str(lib))


def _ptr(a):
    assert a.flags.c_contiguous
    return ctypes.c_void_p(a.ctypes.data)


def _ints(*v):
    return [ctypes.c_int(int(x)) for x in v]


_TNAME = {numpy.float32: "float", numpy.float64: "double"}

GEOMETRIES = [  # (N, C, H, W), (kH, kW), stride, padding, dilation
    ((2, 3, 7, 7), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 2, 8, 9), (3, 2), (2, 2), (0, 1), (1, 1)),
    ((2, 1, 9, 8), (3, 3), (2, 1), (2, 1), (2, 1)),
    ((3, 2, 5, 6), (1, 1), (1, 1), (0, 0), (1, 1)),
    ((1, 1, 10, 10), (2, 2), (3, 3), (0, 0), (1, 1)),      # stride > kernel: gaps
    ((2, 2, 6, 6), (5, 5), (1, 1), (2, 2), (1, 1)),
]


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("order", ["nhw", "hwn"])
@pytest.mark.parametrize("geom", GEOMETRIES, ids=[str(g[0]) + str(g[1:]) for g in GEOMETRIES])
def test_col2im_kernel_matches_array_code(host_lib, geom, order, dtype):
    (N, C, H, W), k, s, p, d = geom
    Ho = I.conv_output_size(H, k[0], s[0], p[0], d[0])
    Wo = I.conv_output_size(W, k[1], s[1], p[1], d[1])
    shape = (C, k[0], k[1], Ho, Wo, N) if order == "hwn" else (C, k[0], k[1], N, Ho, Wo)
    col = numpy.random.default_rng(0).standard_normal(shape).astype(dtype)
    ref = numpy.asarray(I.col2im(col, (N, C, H, W), k, s, p, d, order=order))
    buf = numpy.empty((C, H, W, N) if order == "hwn" else (C, N, H, W), dtype)
    fn = getattr(host_lib, "npconv_col2im_%s_%s" % (order, _TNAME[dtype]))
    fn(_ptr(col), _ptr(buf), ctypes.c_longlong(buf.size),
       *_ints(N, C, H, W, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], Ho, Wo))
    got = buf.transpose(3, 0, 1, 2) if order == "hwn" else buf.transpose(1, 0, 2, 3)
    numpy.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == numpy.float32 else 1e-12,
                                  atol=1e-5 if dtype == numpy.float32 else 1e-12)


def _max_code(x, k, s, p, d, out_hw):
    """The offset code (i*kW + j) of each window's first maximum, on the -inf padded x."""
    N, C, H, W = x.shape
    Ho, Wo = out_hw
    Hb = max(H + 2 * p[0], (Ho - 1) * s[0] + (k[0] - 1) * d[0] + 1)
    Wb = max(W + 2 * p[1], (Wo - 1) * s[1] + (k[1] - 1) * d[1] + 1)
    xp = numpy.full((N, C, Hb, Wb), -numpy.inf, x.dtype)
    xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
    best = numpy.full((N, C, Ho, Wo), -numpy.inf, x.dtype)
    code = numpy.zeros((N, C, Ho, Wo), numpy.int8 if k[0] * k[1] < 127 else numpy.int32)
    for i in range(k[0]):
        for j in range(k[1]):
            v = xp[:, :, i * d[0]:i * d[0] + (Ho - 1) * s[0] + 1:s[0],
                   j * d[1]:j * d[1] + (Wo - 1) * s[1] + 1:s[1]]
            m = v > best
            best = numpy.where(m, v, best)
            code[m] = i * k[1] + j
    return code


POOLS = [  # (N, C, H, W), kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 8, 8), (3, 3), (2, 2), (1, 1), (1, 1), False),
    ((1, 2, 7, 9), (2, 3), (1, 2), (0, 1), (1, 1), False),
    ((2, 1, 9, 9), (3, 3), (2, 2), (1, 1), (2, 2), False),
    ((1, 2, 7, 7), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((2, 2, 6, 6), (3, 3), (3, 3), (0, 0), (1, 1), False),
]


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("geom", POOLS, ids=[str(g[0]) + str(g[1:]) for g in POOLS])
def test_max_pool_backward_kernel_matches_autograd(host_lib, geom, dtype):
    (N, C, H, W), k, s, p, d, ceil = geom
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    xt = nc.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, k, s, p, d, ceil_mode=ceil)
    gy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(nc.tensor(gy))
    ref = xt.grad.numpy()
    code = _max_code(x, k, s, p, d, y.shape[2:])
    csuffix = K._CODE_TYPES[code.dtype][0]
    dx = numpy.empty_like(x)
    fn = getattr(host_lib, "npconv_maxpool_backward_%s_%s" % (_TNAME[dtype], csuffix))
    fn(_ptr(gy), _ptr(code), _ptr(dx), ctypes.c_longlong(dx.size),
       *_ints(H, W, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], *y.shape[2:]))
    numpy.testing.assert_allclose(dx, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 2, 7, 9)])
def test_max_pool2x2_backward_kernel_matches_autograd(host_lib, shape, dtype):
    rng = numpy.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, 0, 1] = x[0, 0, 0, 0] = 5.0            # a tie: the first in scan order wins
    x[0, 0, 2, 3] = x[0, 0, 3, 2] = numpy.nan      # NaNs: the last NaN in scan order wins
    x[0, 1, 0, 0] = numpy.nan
    xt = nc.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, 2)
    gy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(nc.tensor(gy))
    yv = numpy.ascontiguousarray(y.detach().numpy())
    dx = numpy.empty_like(x)
    fn = getattr(host_lib, "npconv_maxpool2x2_backward_%s" % _TNAME[dtype])
    fn(_ptr(x), _ptr(yv), _ptr(gy), _ptr(dx), ctypes.c_longlong(dx.size),
       *_ints(shape[2], shape[3], *y.shape[2:]))
    numpy.testing.assert_array_equal(dx, xt.grad.numpy())
    assert dx[0, 0, 0, 0] == gy[0, 0, 0, 0] and dx[0, 0, 0, 1] == 0
    numpy.testing.assert_array_equal(dx[0, 0, 2:4, 2:4], [[0, 0], [gy[0, 0, 1, 1], 0]])
    numpy.testing.assert_array_equal(dx[0, 1, 0:2, 0:2], [[gy[0, 1, 0, 0], 0], [0, 0]])


@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")
def test_kernels_compile_with_nvcc(tmp_path):
    src = tmp_path / "kernels.cu"
    src.write_text("\n".join(K.SOURCES.values()))
    r = subprocess.run([NVCC, "--ptx", "-o", str(tmp_path / "k.ptx"), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ptx = (tmp_path / "k.ptx").read_text()
    for name in K.SOURCES:
        assert name in ptx


def test_kernels_are_chosen_for_real_cupy_only(monkeypatch):
    import types
    assert not K.use_kernels(numpy)
    assert not K.use_kernels(_standin.xp)          # the stand-in runs the array-module code
    fake = types.ModuleType("cupy")
    assert K.use_kernels(fake, numpy.float32)
    assert not K.use_kernels(fake, numpy.float16)
    monkeypatch.setenv("NPCONV_CUDA_KERNELS", "0")
    assert not K.use_kernels(fake)


def _cuda_ok():
    try:
        return nc.cuda.is_available()
    except Exception:
        return False


@pytest.mark.skipif(not _cuda_ok(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize("order", ["nhw", "hwn"])
def test_kernels_on_gpu(order):
    import cupy
    (N, C, H, W), k, s, p, d = GEOMETRIES[2]
    Ho = I.conv_output_size(H, k[0], s[0], p[0], d[0])
    Wo = I.conv_output_size(W, k[1], s[1], p[1], d[1])
    shape = (C, k[0], k[1], Ho, Wo, N) if order == "hwn" else (C, k[0], k[1], N, Ho, Wo)
    col = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    ref = numpy.asarray(I.col2im(col, (N, C, H, W), k, s, p, d, order=order))
    got = K.col2im(cupy.asarray(col), (N, C, H, W), k, s, p, d, order=order)
    numpy.testing.assert_allclose(cupy.asnumpy(got), ref, rtol=1e-5, atol=1e-5)
    x = numpy.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(numpy.float32)
    xt = nc.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, 3, 2, 1)
    gy = numpy.ones(y.shape, numpy.float32)
    y.backward(nc.tensor(gy))
    code = _max_code(x, (3, 3), (2, 2), (1, 1), (1, 1), y.shape[2:])
    dx = K.max_pool_backward(cupy.asarray(gy), cupy.asarray(code), x.shape, (3, 3), (2, 2),
                             (1, 1), (1, 1))
    numpy.testing.assert_allclose(cupy.asnumpy(dx), xt.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.fixture
def host_cupy(host_lib, monkeypatch):
    """A ``cupy`` whose arrays are NumPy's and whose RawKernel launches the host-compiled
    kernel: runs the Python launch wrappers (argument order and types) without a GPU."""
    import sys
    import types

    class RawKernel:
        def __init__(self, source, name):
            assert name in source
            self.fn = getattr(host_lib, name)

        def __call__(self, grid, block, args):
            assert len(grid) == len(block) == 1 and grid[0] >= 1 and block[0] >= 1
            conv = []
            for a in args:
                if isinstance(a, numpy.ndarray):
                    conv.append(_ptr(a))
                elif isinstance(a, numpy.int64):
                    conv.append(ctypes.c_longlong(int(a)))
                elif isinstance(a, numpy.int32):
                    conv.append(ctypes.c_int(int(a)))
                else:
                    raise TypeError("kernel argument of type %s (CuPy wants numpy scalar "
                                    "types)" % type(a).__name__)
            self.fn(*conv)

    fake = types.ModuleType("cupy")
    fake.RawKernel = RawKernel
    fake.ascontiguousarray = numpy.ascontiguousarray
    fake.empty = numpy.empty
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(K, "_cache", {})
    return fake


@pytest.mark.parametrize("order", ["nhw", "hwn"])
@pytest.mark.parametrize("six_d", [False, True])
@pytest.mark.parametrize("geom", GEOMETRIES[:3], ids=[str(g[0]) for g in GEOMETRIES[:3]])
def test_col2im_launch_wrapper(host_cupy, geom, order, six_d):
    (N, C, H, W), k, s, p, d = geom
    Ho = I.conv_output_size(H, k[0], s[0], p[0], d[0])
    Wo = I.conv_output_size(W, k[1], s[1], p[1], d[1])
    shape = (C, k[0], k[1], Ho, Wo, N) if order == "hwn" else (C, k[0], k[1], N, Ho, Wo)
    col = numpy.random.default_rng(3).standard_normal(shape).astype(numpy.float32)
    ref = numpy.asarray(I.col2im(col, (N, C, H, W), k, s, p, d, order=order))
    arg = col if six_d else col.reshape(C * k[0] * k[1], -1)
    got = K.col2im(arg, (N, C, H, W), k, s, p, d, order=order)
    assert got.shape == (N, C, H, W)
    numpy.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("geom", POOLS, ids=[str(g[0]) + str(g[1:]) for g in POOLS])
def test_max_pool_launch_wrappers(host_cupy, geom):
    (N, C, H, W), k, s, p, d, ceil = geom
    rng = numpy.random.default_rng(4)
    x = rng.standard_normal((N, C, H, W)).astype(numpy.float32)
    xt = nc.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, k, s, p, d, ceil_mode=ceil)
    gy = rng.standard_normal(y.shape).astype(numpy.float32)
    y.backward(nc.tensor(gy))
    code = _max_code(x, k, s, p, d, y.shape[2:])
    dx = K.max_pool_backward(gy, code, x.shape, k, s, p, d)
    numpy.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    x2 = nc.tensor(x, requires_grad=True)
    y2 = F.max_pool2d(x2, 2)
    g2 = rng.standard_normal(y2.shape).astype(numpy.float32)
    y2.backward(nc.tensor(g2))
    dx2 = K.max_pool2x2_backward(x, y2.detach().numpy(), g2)
    numpy.testing.assert_array_equal(dx2, x2.grad.numpy())
