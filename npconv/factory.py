"""Tensor factories (``zeros``, ``randn``, ...) and the module-level ops (``cat``, ``where``,
...) that PyTorch users call as ``torch.<name>``."""
import numpy

from . import backend as _backend
from . import random as _random
from .ops import arithmetic as _ar
from .ops import shape as _sh
from .ops import shape_errors as _se
from .tensor import (Tensor, _coerce, _dim, _failed, _operand,
                     _result_dtype, _shape_args)

__all__ = ["zeros", "ones", "full", "empty", "arange", "linspace", "eye", "randn", "rand",
           "randint", "empty_like", "zeros_like", "ones_like", "full_like", "randn_like",
           "rand_like", "cat", "stack", "where", "maximum", "minimum", "clamp", "exp", "log",
           "sqrt", "abs", "matmul", "sum", "mean", "var", "std", "max", "min", "argmax",
           "argmin", "amax", "amin", "clip", "relu", "sigmoid", "tanh", "softmax",
           "log_softmax", "flatten", "flip", "reshape", "transpose", "permute", "squeeze",
           "unsqueeze", "from_numpy", "is_tensor", "sin", "cos", "floor", "ceil", "round",
           "trunc", "log1p", "expm1", "reciprocal", "rsqrt", "isnan", "isinf", "isfinite",
           "nan_to_num", "masked_fill", "prod", "cumsum", "norm", "sort", "argsort", "topk",
           "t", "split", "chunk", "unbind", "gather", "index_select", "mm", "bmm", "mv", "dot",
           "outer", "ger", "allclose", "equal"]


def _make(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _on(device, requires_grad, make):
    """A tensor from ``make(xp)``, run with ``device``'s array module: made on the device,
    never built on the host and copied."""
    return _make(_backend.create(device, make), requires_grad)


def _size(size):
    """A factory's size argument (``zeros(2, 3)``, ``zeros((2, 3))``), refusing negative
    sizes with PyTorch's message (NumPy's names no size)."""
    size = _shape_args(size)
    for n in size:
        if n < 0:
            raise RuntimeError("Trying to create tensor with negative dimension %d: %s"
                               % (n, list(size)))
    return size


def _dt(dtype, default=numpy.float32):
    return numpy.dtype(default if dtype is None else dtype)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _on(device, requires_grad, lambda xp: xp.zeros(_size(size), _dt(dtype)))


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _on(device, requires_grad, lambda xp: xp.ones(_size(size), _dt(dtype)))


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _on(device, requires_grad, lambda xp: xp.empty(_size(size), _dt(dtype)))


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = (numpy.bool_ if isinstance(fill_value, bool) else
                 numpy.int64 if isinstance(fill_value, int) else numpy.float32)
    return _on(device, requires_grad,
               lambda xp: xp.full(_size((size,)), fill_value, _dt(dtype)))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    if dtype is None:
        # NumPy integers count as ints (PyTorch: arange(np.int64(3)) is int64)
        ints = all(isinstance(v, (int, numpy.integer)) for v in (start, end, step))
        dtype = numpy.int64 if ints else numpy.float32
    return _on(device, requires_grad, lambda xp: xp.arange(start, end, step).astype(dtype))


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _on(device, requires_grad,
               lambda xp: xp.linspace(start, end, steps).astype(_dt(dtype)))


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _on(device, requires_grad, lambda xp: xp.eye(n, m, dtype=_dt(dtype)))


def _float_dt(dtype, fn):
    """``dtype`` (default float32) for a random float factory; PyTorch has no integer
    kernel for these and raises NotImplementedError (NumPy's would be a TypeError, CuPy's
    its own)."""
    dt = _dt(dtype)
    if dt.kind != "f":
        raise NotImplementedError("%s(): expected a floating-point dtype, but got %s"
                                  % (fn, dt))
    return dt


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Standard normal samples from the framework's generator (seeded by ``manual_seed``)."""
    dt = _float_dt(dtype, "randn")
    return _on(device, requires_grad, lambda xp: _random.generator(xp).standard_normal(
        _size(size), dtype=dt))


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1)."""
    dt = _float_dt(dtype, "rand")
    return _on(device, requires_grad, lambda xp: _random.generator(xp).random(
        _size(size), dtype=dt))


def randint(low, high=None, size=(), dtype=None, device=None):
    """Integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if isinstance(high, (tuple, list)):     # randint(high, size), as PyTorch
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _on(device, False, lambda xp: _random.generator(xp).integers(
        low, high, size=_size((size,))).astype(_dt(dtype, numpy.int64)))


# The ``*_like`` factories take the options keyword-only, as PyTorch's do.
def _like(t, fn, dtype, requires_grad, device):
    """``fn(xp, shape, dtype)`` made on ``device`` (default: where ``t`` lives)."""
    dt = t.data.dtype if dtype is None else numpy.dtype(dtype)
    if device is None:
        with _backend.device_guard(_backend.device_of(t.data)):
            arr = fn(_backend.get_array_module(t.data), t.data.shape, dt)
        return _make(arr, requires_grad)
    return _on(device, requires_grad, lambda xp: fn(xp, t.data.shape, dt))


def empty_like(input, *, dtype=None, requires_grad=False, device=None):
    """Uninitialised memory of ``input``'s shape (and dtype, device unless given)."""
    return _like(input, lambda xp, s, d: xp.empty(s, d), dtype, requires_grad, device)


def zeros_like(input, *, dtype=None, requires_grad=False, device=None):
    return _like(input, lambda xp, s, d: xp.zeros(s, d), dtype, requires_grad, device)


def ones_like(input, *, dtype=None, requires_grad=False, device=None):
    return _like(input, lambda xp, s, d: xp.ones(s, d), dtype, requires_grad, device)


def full_like(input, fill_value, *, dtype=None, requires_grad=False, device=None):
    return _like(input, lambda xp, s, d: xp.full(s, fill_value, d), dtype, requires_grad,
                 device)


def randn_like(input, *, dtype=None, requires_grad=False, device=None):
    _float_dt(input.dtype if dtype is None else dtype, "randn_like")
    return _like(input, lambda xp, s, d: _random.generator(xp).standard_normal(s, dtype=d),
                 dtype, requires_grad, device)


def rand_like(input, *, dtype=None, requires_grad=False, device=None):
    _float_dt(input.dtype if dtype is None else dtype, "rand_like")
    return _like(input, lambda xp, s, d: _random.generator(xp).random(s, dtype=d),
                 dtype, requires_grad, device)


def from_numpy(a):
    """A tensor sharing memory with the NumPy array ``a`` (dtype kept)."""
    return Tensor._wrap(a)


def is_tensor(x):
    return isinstance(x, Tensor)


def _tensors(seq, name):
    seq = list(seq)
    if not seq:
        raise ValueError("%s(): expected a non-empty sequence of Tensors" % name)
    ts = [s if isinstance(s, Tensor) else Tensor(s) for s in seq]
    dt = ts[0].data.dtype
    if all(t.data.dtype == dt for t in ts):
        return ts
    # mixed dtypes promote as PyTorch's (int64 with float32 gives float32, not float64)
    dt = _result_dtype([t.data.dtype for t in ts])
    return [t if t.data.dtype == dt else t.to(dt) for t in ts]


def cat(tensors, dim=0):
    """Concatenate along an existing axis ``dim``; 0-d tensors have none (``stack`` joins
    them), so they raise, as in PyTorch."""
    ts = _tensors(tensors, "cat")
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise RuntimeError("zero-dimensional tensor (at position %d) cannot be "
                               "concatenated: cat expects tensors of at least 1 dimension, "
                               "but got shape (); use stack() to join 0-d tensors" % i)
    dim = _dim(dim, ts[0].ndim)
    try:
        return _sh.Cat.apply(dim, *ts)
    except Exception:
        msg = _se.cat_error([t.shape for t in ts], dim)
        if msg is None:
            raise
        raise RuntimeError(msg) from None


concat = cat


def stack(tensors, dim=0):
    """Stack equal-shape tensors along a new axis ``dim``."""
    ts = _tensors(tensors, "stack")
    dim = _dim(dim, ts[0].ndim, 1)           # the new axis: [-ndim-1, ndim]
    try:
        return _sh.Stack.apply(dim, *ts)
    except Exception:
        msg = _se.stack_error([t.shape for t in ts])
        if msg is None:
            raise
        raise RuntimeError(msg) from None


def where(condition, input, other):
    """``condition ? input : other`` elementwise, differentiable in ``input`` and ``other``.
    ``condition`` must be boolean (uint8 is accepted, as PyTorch still does)."""
    cond = condition if isinstance(condition, Tensor) else Tensor._wrap(
        numpy.asarray(condition))
    if cond.data.dtype != numpy.bool_:
        if cond.data.dtype != numpy.uint8:
            raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                               "tensor with dtype %s" % cond.data.dtype)
        # PyTorch still takes uint8 (deprecated)
        cond = Tensor._wrap(cond.data.astype(numpy.bool_))
    a, b = _promoted(input, other)
    try:
        # the condition is a Tensor input too (it gets no gradient): Function.apply's device
        # check sees it
        return _ar.Where.apply(cond, a, b)
    except Exception:
        moved = _failed((cond, a, b))       # PyTorch's shape error, or 0-d CPU operands
        return where(*moved)


def _promoted(a, b):
    """``a, b`` as operands of one elementwise op, promoted by ``_coerce`` (PyTorch's rules)
    whichever of them is the Tensor."""
    a, b = _operand(a), _operand(b)
    if isinstance(a, Tensor):
        return _coerce(a, b)
    if isinstance(b, Tensor):
        b, a = _coerce(b, a)
        return a, b
    # two Python numbers: the default dtypes (float32, int64), not NumPy's float64
    return _coerce(Tensor(a), b)


def maximum(a, b):
    a, b = _promoted(a, b)
    try:
        return _ar.Maximum.apply(a, b)
    except Exception:
        moved = _failed((a, b))
        return maximum(*moved)


def minimum(a, b):
    a, b = _promoted(a, b)
    try:
        return _ar.Minimum.apply(a, b)
    except Exception:
        moved = _failed((a, b))
        return minimum(*moved)


def clamp(input, min=None, max=None):
    return input.clamp(min, max)


clip = clamp


def _method(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = name
    f.__doc__ = "``npconv.%s(t, ...)`` is ``t.%s(...)``." % (name, name)
    return f


exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
abs = _method("abs")
sum = _method("sum")
mean = _method("mean")
var = _method("var")
std = _method("std")
max = _method("max")
min = _method("min")
argmax = _method("argmax")
argmin = _method("argmin")
amax = _method("amax")
amin = _method("amin")
relu = _method("relu")
sigmoid = _method("sigmoid")
tanh = _method("tanh")
softmax = _method("softmax")
log_softmax = _method("log_softmax")
flatten = _method("flatten")
reshape = _method("reshape")
transpose = _method("transpose")
permute = _method("permute")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
sin = _method("sin")
cos = _method("cos")
floor = _method("floor")
ceil = _method("ceil")
round = _method("round")
trunc = _method("trunc")
log1p = _method("log1p")
expm1 = _method("expm1")
reciprocal = _method("reciprocal")
rsqrt = _method("rsqrt")
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
nan_to_num = _method("nan_to_num")
masked_fill = _method("masked_fill")
prod = _method("prod")
cumsum = _method("cumsum")
norm = _method("norm")
sort = _method("sort")
argsort = _method("argsort")
topk = _method("topk")
t = _method("t")
split = _method("split")
chunk = _method("chunk")
unbind = _method("unbind")
gather = _method("gather")
index_select = _method("index_select")
mm = _method("mm")
bmm = _method("bmm")
mv = _method("mv")
dot = _method("dot")
outer = _method("outer")
ger = outer
allclose = _method("allclose")
equal = _method("equal")


def flip(input, dims):
    """``input`` with the order reversed along ``dims`` (a tuple or list, as PyTorch's)."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError("flip(): argument 'dims' must be tuple of ints, not %s"
                        % type(dims).__name__)
    return _operand(input).flip(tuple(dims))


def matmul(a, b):
    """``a @ b`` (PyTorch's shape errors and same-dtype rule, through the operator)."""
    if isinstance(a, Tensor):
        return a.__matmul__(b)
    if isinstance(b, Tensor):
        return b.__rmatmul__(a)
    return Tensor(a).__matmul__(b)
