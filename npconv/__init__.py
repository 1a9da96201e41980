"""npconv: a small deep-learning framework in pure NumPy (CuPy on the GPU).

    import npconv as nc
    x = nc.randn(4, 3, requires_grad=True)
    (x * x).sum().backward()        # x.grad == 2 x
"""
from . import _blas_env  # noqa: F401  (first: it must run before NumPy loads OpenBLAS)
from . import _malloc_env  # noqa: F401  (big arrays from the heap: no page faults per step)

import numpy as _np  # noqa: E402

from . import autograd, backend, testing
from .autograd import (Function, detect_anomaly, enable_grad, gradcheck, is_grad_enabled,
                       no_grad, set_grad_enabled)
from .backend import Device as device, get_array_module
from .factory import (abs, allclose, amax, amin, arange, argmax, argmin, argsort, bmm, cat,
                      ceil, chunk, clamp, clip, concat, cos, cumsum, dot, empty, empty_like,
                      equal, exp, expm1, eye, flatten, flip, floor, from_numpy, full,
                      full_like, gather, ger, index_select, is_tensor, isfinite, isinf, isnan,
                      linspace, log, log1p, log_softmax, masked_fill, matmul, max, maximum,
                      mean, min, minimum, mm, mv, nan_to_num, norm, ones, ones_like, outer,
                      permute, prod, rand, rand_like, randint, randn, randn_like, reciprocal,
                      relu, reshape, round, rsqrt, sigmoid, sin, softmax, sort, split, sqrt,
                      squeeze, stack, std, sum, t, tanh, topk, transpose, trunc, unbind,
                      unsqueeze, var, where, zeros, zeros_like)
from .random import manual_seed, initial_seed
from .tensor import Tensor, tensor

__version__ = "0.1.0"

float32 = _np.float32
float64 = _np.float64
float16 = _np.float16
int64 = _np.int64
int32 = _np.int32
uint8 = _np.uint8
bool = _np.bool_
from . import nn, optim  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from .summary import summary  # noqa: E402,F401
