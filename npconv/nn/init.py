"""Parameter initialisation (``npconv.nn.init``), as in ``torch.nn.init``.

Every function fills a Tensor in place (no gradient is recorded) and returns it. Random
numbers come from ``npconv.random.generator`` of the tensor's array library, so
``npconv.manual_seed`` makes initialisation reproducible; samples are drawn directly in the
tensor's dtype (float32 stays float32)."""
import math
import warnings

from .. import random as _random
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "eye_", "trunc_normal_", "orthogonal_"]


def _check(tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError("expected an npconv Tensor, got %s" % type(tensor).__name__)


def _fill(tensor, arr):
    """Write ``arr`` into the tensor's array (in place: Parameters keep their identity)."""
    xp = get_array_module(tensor.data)
    xp.copyto(tensor.data, arr, casting="unsafe")
    tensor._version[0] += 1
    return tensor


def _generator(generator, xp):
    """``generator`` (a Generator of the tensor's array library: ``numpy.random.Generator``
    for CPU tensors, ``cupy.random.Generator`` for CUDA ones, as PyTorch wants a generator of
    the tensor's device), or the framework's generator of ``xp``."""
    if generator is None:
        return _random.generator(xp)
    if not (hasattr(generator, "random") and hasattr(generator, "standard_normal")):
        raise TypeError("generator must be a Generator of the tensor's array library (e.g. "
                        "numpy.random.default_rng(seed)), got %s" % type(generator).__name__)
    return generator


def _on(xp, arr):
    """Check that ``generator`` made ``arr`` where the tensor lives (a host generator cannot
    fill a GPU tensor, nor the reverse: PyTorch refuses a generator of another device)."""
    if get_array_module(arr) is not xp:
        raise TypeError("generator makes %s arrays but the tensor's data is %s: pass a "
                        "generator of the tensor's array library (%s.random.default_rng)"
                        % (get_array_module(arr).__name__, xp.__name__, xp.__name__))
    return arr


def _float_dtype(tensor):
    dt = tensor.data.dtype
    if dt.kind != "f":
        raise TypeError("initialisation needs a floating point tensor, got %s" % dt)
    # the generator samples float32 or float64; half precision is sampled in float32
    return dt if dt.itemsize >= 4 else "float32"


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's values): 1 for linear, conv and
    sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope
    ``param``, default 0.01), 3/4 for selu."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError("negative_slope %s not a valid number" % param)
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError("Unsupported nonlinearity %s" % nonlinearity)


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         "2 dimensions")
    shape = tensor.shape
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError("Mode %s not supported, please use one of ['fan_in', 'fan_out']"
                         % mode)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b), a <= b."""
    _check(tensor)
    if not float(a) <= float(b):
        raise RuntimeError("uniform_ expects to return a [from, to) range, but found "
                           "from=%s > to=%s" % (a, b))
    xp = get_array_module(tensor.data)
    u = _on(xp, _generator(generator, xp).random(tensor.shape, dtype=_float_dtype(tensor)))
    # a + (b - a) u in the tensor's dtype (Python floats keep float32 float32)
    u *= float(b) - float(a)
    u += float(a)
    return _fill(tensor, u)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2), std >= 0."""
    _check(tensor)
    if not float(std) >= 0.0:
        raise RuntimeError("normal expects std >= 0.0, but found std %s" % (std,))
    xp = get_array_module(tensor.data)
    z = _on(xp, _generator(generator, xp).standard_normal(tensor.shape,
                                                          dtype=_float_dtype(tensor)))
    z *= float(std)
    z += float(mean)
    return _fill(tensor, z)


def constant_(tensor, val):
    _check(tensor)
    tensor.data.fill(val)
    tensor._version[0] += 1
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def eye_(tensor):
    """The identity matrix (2-D tensors)."""
    _check(tensor)
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    xp = get_array_module(tensor.data)
    return _fill(tensor, xp.eye(*tensor.shape, dtype=tensor.data.dtype))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is the
    leaky_relu slope used in the gain, ``mode`` picks fan_in or fan_out."""
    _check(tensor)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    _check(tensor)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


# Acklam's rational approximation of the inverse normal CDF (relative error below 1.2e-9):
# NumPy has no erfinv, which PyTorch's trunc_normal_ uses.
_PPF_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
          1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_PPF_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
          6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_PPF_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
          -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_PPF_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
          3.754408661907416e+00, 1.0)


def _polyval(coefs, x):
    y = coefs[0]
    for c in coefs[1:]:
        y = y * x + c
    return y


def _norm_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _norm_ppf(xp, p):
    """The standard normal quantile of each element of ``p`` (float64, in (0, 1))."""
    z = xp.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~(low | high)
    q = xp.sqrt(-2 * xp.log(p[low]))
    z[low] = _polyval(_PPF_C, q) / _polyval(_PPF_D, q)
    q = xp.sqrt(-2 * xp.log1p(-p[high]))
    z[high] = -_polyval(_PPF_C, q) / _polyval(_PPF_D, q)
    q = p[mid] - 0.5
    z[mid] = _polyval(_PPF_A, q * q) * q / _polyval(_PPF_B, q * q)
    return z


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples of N(mean, std^2) truncated to [a, b] (``a`` and ``b`` are absolute
    bounds, not multiples of ``std``), as PyTorch: uniform samples between the normal CDF's
    values at a and b, mapped back through the inverse CDF, then clamped to [a, b]."""
    _check(tensor)
    mean, std, a, b = float(mean), float(std), float(a), float(b)
    if not a < b:
        raise ValueError("trunc_normal_: expected a < b, got a=%g, b=%g" % (a, b))
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    xp = get_array_module(tensor.data)
    gen = _generator(generator, xp)
    lo, hi = (a - mean) / std, (b - mean) / std
    # work in the lower tail, where the CDF's values are small and keep their precision
    flip = lo > -hi
    if flip:
        lo, hi = -hi, -lo
    cl, cu = _norm_cdf(lo), _norm_cdf(hi)
    u = cl + (cu - cl) * _on(xp, gen.random(tensor.shape, dtype="float64"))
    z = _norm_ppf(xp, xp.clip(u, 1e-300, 1 - 1e-16))
    if flip:
        z = -z
    return _fill(tensor, xp.clip(mean + std * z, a, b))


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013): the tensor is
    seen as a (rows, numel / rows) matrix whose rows are orthonormal when rows <= cols, and
    whose columns are otherwise. As PyTorch: the Q of a QR decomposition of a Gaussian
    matrix, its column signs fixed by R's diagonal so that Q is uniformly distributed."""
    _check(tensor)
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.data.size == 0:
        return tensor
    _float_dtype(tensor)
    xp = get_array_module(tensor.data)
    gen = _generator(generator, xp)
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _on(xp, gen.standard_normal((rows, cols), dtype="float64"))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (float(gain) * q).reshape(tensor.shape))
