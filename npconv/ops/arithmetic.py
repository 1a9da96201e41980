"""Elementwise arithmetic and matmul. Broadcast gradients are reduced by the engine."""
import contextlib
import math

import numpy

from ..autograd.function import Function
from ..backend import get_array_module


def _errstate(xp):
    """Silence divide/invalid warnings where a masked result is computed anyway."""
    errstate = getattr(xp, "errstate", None)
    return errstate(divide="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


class Add(Function):
    """y = a + b"""
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """y = a - b"""
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b"""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (g * b if na else None), (g * a if nb else None)


class Div(Function):
    """y = a / b;  da = g / b,  db = -g a / b^2"""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = g / b if na else None
        gb = -g * a / (b * b) if nb else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


def _int_tensor_exponent(a, b):
    return (getattr(a, "dtype", None) is not None and a.dtype.kind in "iu"
            and getattr(b, "dtype", None) is not None and b.dtype.kind in "iu")


def _int_power(a, b):
    """a ** b for integer arrays, a negative exponent giving the integer part of 1 / a**|b|
    (0, or 1 / -1 for a base of 1 / -1), as PyTorch's (and CuPy's ``integral_power``) where
    NumPy raises ValueError. (A Python-int exponent < 0 raises instead, as in PyTorch.)"""
    xp = get_array_module(a, b)
    neg = b < 0
    dt = xp.result_type(a, b)
    r = a ** xp.where(neg, 0, b).astype(dt)
    ones = xp.where(b % 2 == 0, 1, -1).astype(dt)          # (-1) ** b for a negative b
    special = xp.where(a == 1, 1, xp.where(a == -1, ones, 0)).astype(dt)
    return xp.where(neg, special, r).astype(dt)


class Pow(Function):
    """y = a ** b;  da = b a^(b-1) g (0 where b == 0),  db = y log(a) g (0 where a == 0 and
    b >= 0), as PyTorch."""
    @staticmethod
    def forward(ctx, a, b):
        if (type(b) is int and b < 0 and getattr(a, "dtype", None) is not None
                and a.dtype.kind in "biu"):
            # PyTorch's error; NumPy raises one of its own, CuPy's integer power gives 0
            # (``integral_power`` in cupy.power's preamble)
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        y = _int_power(a, b) if _int_tensor_exponent(a, b) else a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        xp = get_array_module(g)
        ga = gb = None
        if na:
            if isinstance(b, (int, float)):
                if b == 0:
                    ga = xp.zeros_like(g)
                elif b == 2:
                    ga = g * a * 2
                else:
                    ga = g * b * a ** (b - 1)
            else:
                with _errstate(xp):
                    ga = xp.where(b == 0, 0, g * b * a ** (b - 1))
        if nb:
            if isinstance(a, (int, float)):
                # a Python number: math.log keeps the constant a Python float (no upcast)
                ga_log = math.log(a) if a > 0 else (float("-inf") if a == 0 else float("nan"))
                gb = g * y * ga_log if a != 0 else xp.where(b >= 0, 0, g * y * ga_log)
            else:
                with _errstate(xp):
                    gb = xp.where((a == 0) & (b >= 0), 0, g * y * xp.log(a))
        return ga, gb


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class Abs(Function):
    """d|a|/da = sign(a) (0 at 0, as PyTorch)"""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * get_array_module(a).sign(a)


class Maximum(Function):
    """Elementwise max; ties split the gradient in half (as PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        w = (a > b) + 0.5 * (a == b)
        w = w.astype(g.dtype)
        return g * w, g * (1 - w)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        w = ((a < b) + 0.5 * (a == b)).astype(g.dtype)
        return g * w, g * (1 - w)


def _clamp_mask(a, lo, hi):
    """Where the input of clamp gets the gradient: lo <= a <= hi (False at NaNs, and
    everywhere when lo > hi), PyTorch's rule."""
    mask = None
    if lo is not None:
        mask = a >= lo
    if hi is not None:
        m = a <= hi
        mask = m if mask is None else mask & m
    return mask


class Clamp(Function):
    """y = min(max(a, lo), hi) with number bounds; gradient passes where lo <= a <= hi."""
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        xp = get_array_module(a)
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        return xp.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        mask = _clamp_mask(a, ctx.lo, ctx.hi)
        if mask is None:
            return g
        # where, not g * mask: an inf/NaN gradient where clamped still gives 0 (as PyTorch)
        return get_array_module(g).where(mask, g, g.dtype.type(0))


class ClampTensor(Function):
    """y = min(max(a, lo), hi) where a bound is a Tensor (either bound may be None or a
    number). Not maximum/minimum, whose ties split the gradient: as PyTorch, a gets g where
    lo <= a <= hi; lo gets g where a < lo < hi; hi gets g where a > hi or hi < lo (when
    lo > hi the output is hi everywhere)."""
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        xp = get_array_module(a, lo, hi)
        ctx.save_for_backward(a, lo, hi)
        return xp.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        na, nlo, nhi = ctx.needs_input_grad
        xp = get_array_module(g)
        zero = g.dtype.type(0)
        ga = glo = ghi = None
        if na:
            ga = xp.where(_clamp_mask(a, lo, hi), g, zero)
        if nlo:
            m = a < lo
            if hi is not None:
                m = m & (lo < hi)
            glo = xp.where(m, g, zero)
        if nhi:
            m = a > hi
            if lo is not None:
                m = m | (hi < lo)
            ghi = xp.where(m, g, zero)
        return ga, glo, ghi


def _int_divisor_check(out, b):
    """Integer ``//`` and ``%`` by zero: NumPy gives 0 (with a warning), PyTorch raises.
    Only a zero that is used raises (an empty result does not). On NumPy only: on a GPU the
    check would read a flag back to the host on every call (PyTorch's CUDA kernels do not
    check either)."""
    if get_array_module(out) is not numpy:
        return
    if out.dtype.kind in "iu" and out.size:
        z = b == 0
        if z if isinstance(z, bool) else z.any():
            raise RuntimeError("ZeroDivisionError: integer division or remainder by zero "
                               "(the divisor has a 0)")


def _float_floordiv_mod(xp, a, b):
    """(a // b, a % b) for float operands off NumPy, computed as NumPy does (``npy_divmod``:
    from the exact ``fmod``, the quotient snapped to a whole number), which is Python's and
    PyTorch's rule. CuPy's float loops compute ``floor(a / b)`` and ``a - floor(a / b) * b``
    (``_floor_divide`` in cupy/_core/include/cupy/carray.cuh): ``1.0 // 0.1`` is 10.0 there
    (9.0 here), ``1.0 % 0.1`` is 0.0 (0.09999999999999995) and ``1.0 % inf`` NaN (1.0)."""
    mod = xp.fmod(a, b)
    div = (a - mod) / b
    fix = (mod != 0) & ((b < 0) != (mod < 0))      # a remainder takes the divisor's sign
    rem = xp.where(fix, mod + b, mod)
    rem = xp.where(mod == 0, xp.copysign(xp.zeros_like(rem), b), rem)
    div = xp.where(fix, div - 1, div)
    q = xp.floor(div)
    q = xp.where(div - q > 0.5, q + 1, q)
    q = xp.where(div == 0, xp.copysign(xp.zeros_like(q), a / b), q)
    zero = b == 0                                  # a / 0: inf or NaN, as a / b gives it
    if hasattr(zero, "dtype"):
        q = xp.where(zero, a / b, q)
    elif zero:
        q = a / xp.zeros_like(q)
    return q, rem


def _floordiv(xp, a, b):
    out = a // b
    if xp is not numpy and out.dtype.kind == "f":
        out = _float_floordiv_mod(xp, a, b)[0]
    return out


def floor_divide(a, b):
    """``a // b`` on arrays or numbers (one an array), rounding toward -inf. No gradient (its
    derivative is 0 almost everywhere; PyTorch has none either)."""
    xp = get_array_module(a, b)
    with _errstate(xp):
        out = _floordiv(xp, a, b)
    if isinstance(out, numpy.generic):
        out = numpy.asarray(out)        # 0-d operands give a NumPy scalar
    _int_divisor_check(out, b)
    return out


class Remainder(Function):
    """y = a - floor(a / b) b (the sign of b, as Python's % and torch.remainder);
    da = g,  db = -floor(a / b) g. Integer operands give no gradient and raise on a zero
    divisor; a float zero divisor gives NaN, as IEEE (and PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a, b)
        with _errstate(xp):
            y = a % b
        if xp is not numpy and y.dtype.kind == "f":
            y = _float_floordiv_mod(xp, a, b)[1]
        if y.dtype.kind in "iu":
            _int_divisor_check(y, b)
        else:
            ctx.save_for_backward(a, b)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        gb = None
        if nb:
            xp = get_array_module(g)
            with _errstate(xp):
                gb = -g * _floordiv(xp, a, b)
        return (g if na else None), gb


class Where(Function):
    """y = cond ? a : b  (cond is a raw boolean array)"""
    @staticmethod
    def forward(ctx, cond, a, b):
        xp = get_array_module(cond, a, b)
        ctx.save_for_backward(cond)
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        ga = xp.where(cond, g, zero) if ctx.needs_input_grad[1] else None
        gb = xp.where(cond, zero, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class MatMul(Function):
    """y = a @ b with NumPy's rules: 1-D operands are promoted and the added axis removed,
    batch axes broadcast (the engine sums the gradient back over them).
    da = g @ b^T,  db = a^T @ g."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = get_array_module(g)
        na, nb = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:          # dot product: g is 0-d
            return (g * b if na else None), (g * a if nb else None)
        if b.ndim == 2 and a.ndim > 2:
            # (..., m, k) @ (k, n): fold the batch into the rows; no batched temporaries
            k, n = b.shape
            g2 = g.reshape(-1, n)
            ga = (g2 @ b.T).reshape(a.shape) if na else None
            gb = a.reshape(-1, k).T @ g2 if nb else None
            return ga, gb
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g @ xp.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
                ga = ga.reshape(-1, a.shape[0]).sum(axis=0) if ga.ndim > 1 else ga
        if ctx.needs_input_grad[1]:
            gb = xp.swapaxes(a2, -1, -2) @ g
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
                gb = gb.reshape(-1, b.shape[0]).sum(axis=0) if gb.ndim > 1 else gb
        return ga, gb


# ------------------------------------------------------------------ more elementwise ops
class Sin(Function):
    """y = sin(a);  da = g cos(a)"""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * get_array_module(a).cos(a)


class Cos(Function):
    """y = cos(a);  da = -g sin(a)"""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * get_array_module(a).sin(a)


class Log1p(Function):
    """y = log(1 + a), accurate for small a;  da = g / (1 + a)"""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (1 + a)


class Expm1(Function):
    """y = exp(a) - 1, accurate for small a;  da = g (y + 1)"""
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).expm1(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


class Reciprocal(Function):
    """y = 1 / a;  da = -g y^2"""
    @staticmethod
    def forward(ctx, a):
        with _errstate(get_array_module(a)):
            y = get_array_module(a).reciprocal(a)     # 1 / 0 is inf, as PyTorch
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -g * y * y


class Rsqrt(Function):
    """y = 1 / sqrt(a);  da = -g y^3 / 2"""
    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        with _errstate(xp):
            y = xp.reciprocal(xp.sqrt(a))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * y * y * -0.5


class _Rounding(Function):
    """floor / ceil / trunc / round (half to even, optionally to ``decimals`` places):
    piecewise constant, so the gradient is 0 everywhere (as PyTorch's, not undefined)."""
    _op = None

    @classmethod
    def forward(cls, ctx, a, decimals=0):
        xp = get_array_module(a)
        if cls._op == "round":
            # NumPy's and CuPy's round is half to even; with decimals it scales by 10**d
            # first, which overflows to inf near the dtype's maximum, as PyTorch's (silently)
            with numpy.errstate(over="ignore", invalid="ignore"):
                return xp.round(a, decimals)
        return getattr(xp, cls._op)(a)

    @staticmethod
    def backward(ctx, g):
        return get_array_module(g).zeros_like(g)


class Floor(_Rounding):
    _op = "floor"


class Ceil(_Rounding):
    _op = "ceil"


class Trunc(_Rounding):
    _op = "trunc"


class Round(_Rounding):
    _op = "round"


class NanToNum(Function):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf``, ``neginf`` (None: the dtype's
    largest / lowest finite value);  da = g where a is finite, 0 where it was replaced."""
    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        xp = get_array_module(a)
        ctx.save_for_backward(xp.isfinite(a))
        return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (finite,) = ctx.saved_tensors
        return get_array_module(g).where(finite, g, g.dtype.type(0))
