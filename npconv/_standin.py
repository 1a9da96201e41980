"""A stand-in GPU for tests: device ``'standin'`` (``'standin:0'``, ``'standin:1'``).

CI and most machines have no GPU, yet the device code paths must not rot. This backend holds
its data in NumPy arrays but behaves, at the API boundary, like CuPy is strictest:

* ``StandinArray`` refuses implicit conversion to ``numpy.ndarray`` (``__array__`` raises, as
  CuPy's does), refuses every NumPy function and ufunc (``numpy.exp(a)``, ``numpy.sum(a)``,
  ``numpy.asarray(a)`` raise ``TypeError``), and refuses to mix with host ndarrays in
  arithmetic, assigned values and ``xp`` calls (host *index* arrays are allowed: CuPy copies
  them to the device). A hard-coded ``numpy.`` call on device data fails.
* Its array module ``xp`` exposes only the names real CuPy has (the list in
  ``npconv._cupy_names``, generated from CuPy), with CuPy's restrictions where they differ
  from NumPy: reductions return 0-d arrays, ``ufunc.at`` only for CuPy's scatter ufuncs
  (add, subtract, maximum, minimum, bitwise and/or/xor), ``ufunc.reduce``/``accumulate`` only
  for add and multiply, ``xp.random.default_rng`` Generators with CuPy's methods only, and a
  legacy ``xp.random`` state that ``numpy.random.seed`` does not touch; keyword arguments
  CuPy's function or method does not take (``where=``, ``initial=``...) are refused.
* CuPy's results where its kernels compute differently: reductions refuse an axis on a 0-d
  array, float ``//`` and ``%`` are ``floor(a / b)`` and ``a - floor(a / b) * b``, integer
  ``**`` of a negative exponent gives 0 (no error), ``add.reduceat`` is a difference of
  running sums, ``broadcast_to`` views are writable (CuPy has no read-only arrays),
  out-of-range integer-array indices wrap around, and copies to the host are C-contiguous.
* Arrays live on a device index (two stand-in devices); mixing indices raises, and new
  arrays are made on the current device (``with xp.cuda.Device(1): ...``), as in CuPy.
* Pickling a stand-in array raises: checkpoints must bring arrays to the host explicitly.

Test-only: nothing registers it unless ``install()`` is called (``tests/devices.py`` does).
"""
import operator
import types

import numpy

from . import _cupy_names as _names
from . import backend as _backend

__all__ = ["NAME", "StandinArray", "xp", "install", "uninstall", "DEVICE_COUNT"]

NAME = "standin"
DEVICE_COUNT = 2
_current = [0]          # the current stand-in device, as cupy.cuda.Device sets it


def _err(msg):
    return TypeError("standin device: " + msg)


class _MemoryPointer:
    """What ``a.data`` is on CuPy: a pointer, not an array (so ``getattr(x, 'data', x)``
    style unwrapping of raw device arrays is caught)."""
    __slots__ = ("_owner",)

    def __init__(self, owner):
        self._owner = owner

    def __repr__(self):
        return "<standin MemoryPointer>"


class _Flags:
    """``a.flags`` as CuPy has it: c_contiguous, f_contiguous, owndata (and ['C_CONTIGUOUS']
    style lookups); NumPy-only flags such as ``writeable`` are refused."""
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")
    _KEYS = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
             "OWNDATA": "owndata"}

    def __init__(self, f):
        self.c_contiguous = f.c_contiguous
        self.f_contiguous = f.f_contiguous
        self.owndata = f.owndata

    @property
    def fnc(self):
        return self.f_contiguous and not self.c_contiguous

    @property
    def forc(self):
        return self.f_contiguous or self.c_contiguous

    def __getitem__(self, name):
        try:
            return getattr(self, self._KEYS[name])
        except KeyError:
            raise KeyError("%s is not defined for cupy.ndarray.flags" % name) from None

    def __repr__(self):
        return "  C_CONTIGUOUS : %s\n  F_CONTIGUOUS : %s\n  OWNDATA : %s" % (
            self.c_contiguous, self.f_contiguous, self.owndata)


class _Device:
    """``a.device`` and ``xp.cuda.Device(i)``: ``.id``, ``.use()``, and a context manager
    that makes ``i`` the current device."""

    def __init__(self, device=None):
        self.id = _current[0] if device is None else int(device)
        if not 0 <= self.id < DEVICE_COUNT:
            raise ValueError("standin device %d does not exist (%d devices)"
                             % (self.id, DEVICE_COUNT))
        self._prev = []

    def use(self):
        _current[0] = self.id

    def __enter__(self):
        self._prev.append(_current[0])
        _current[0] = self.id
        return self

    def __exit__(self, *exc):
        _current[0] = self._prev.pop()

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return "<StandIn Device %d>" % self.id


# ------------------------------------------------------------------------------ unwrapping
class _Call:
    """Bookkeeping for one call: the device of the stand-in inputs and the raw arrays they
    wrap (so results that are inputs come back as the same wrapper objects)."""
    __slots__ = ("dev", "ids", "name", "allow_host")

    def __init__(self, name, allow_host=False, dev=None):
        self.dev = dev
        self.ids = {}
        self.name = name
        self.allow_host = allow_host

    def unwrap(self, v):
        t = type(v)
        if t is StandinArray:
            if self.dev is None:
                self.dev = v._dev
            elif v._dev != self.dev:
                raise _err("%s: arrays on standin:%d and standin:%d cannot be mixed"
                           % (self.name, self.dev, v._dev))
            self.ids[id(v._a)] = v
            return v._a
        if t is numpy.ndarray:
            if not self.allow_host:
                raise _err("%s got a host numpy.ndarray (shape %s) with device data: move it "
                           "to the device explicitly (xp.asarray) or compute it with xp"
                           % (self.name, v.shape))
            return v
        if t is tuple or t is list:
            if not v:
                return v
            return t(self.unwrap(x) for x in v)
        if t is slice:
            if type(v.start) is StandinArray or type(v.stop) is StandinArray:
                return slice(self.unwrap(v.start), self.unwrap(v.stop), self.unwrap(v.step))
        return v

    def wrap(self, r):
        t = type(r)
        if t is numpy.ndarray:
            w = self.ids.get(id(r))
            if w is not None and w._a is r:
                return w
            return StandinArray._wrap(r, _current[0] if self.dev is None else self.dev)
        if isinstance(r, numpy.generic):
            # CuPy's reductions and scalar indexing give 0-d device arrays, not host scalars
            return StandinArray._wrap(numpy.asarray(r), _current[0] if self.dev is None
                                      else self.dev)
        if t is list:
            return [self.wrap(x) for x in r]
        if isinstance(r, tuple):
            # NumPy's linalg results are named tuples (QRResult, SVDResult...), CuPy's plain
            # tuples of device arrays
            return tuple(self.wrap(x) for x in r)
        return r


def _check_kwargs(key, kwargs):
    """Refuse keyword arguments the CuPy callable ``key`` does not take (NumPy's ``where=``,
    ``initial=``, ...), when its parameter list is known."""
    allowed = _names.KWARGS.get(key)
    if allowed is None:
        return
    for k in kwargs:
        if k not in allowed:
            raise TypeError("cupy %s() got an unexpected keyword argument %r (the standin "
                            "device accepts only CuPy's: %s)"
                            % (key, k, ", ".join(sorted(allowed)) or "none"))


def _call(name, fn, args, kwargs, allow_host=False, dev=None):
    c = _Call(name, allow_host, dev)
    args = [c.unwrap(a) for a in args]
    if kwargs:
        kwargs = {k: c.unwrap(v) for k, v in kwargs.items()}
    return c.wrap(fn(*args, **kwargs))


# ------------------------------------------------------------------------------ the array
def _defer(other):
    """CuPy defers an operator to an operand that refuses ufuncs (``__array_ufunc__ = None``,
    e.g. npconv's Tensor): so does the stand-in."""
    t = type(other)
    return (t is not StandinArray and t is not numpy.ndarray and t not in (int, float, bool)
            and getattr(t, "__array_ufunc__", 0) is None)


def _binop(op, name):
    def f(self, other):
        if _defer(other):
            return NotImplemented
        c = _Call("operator " + name, dev=self._dev)
        c.unwrap(self)
        o = c.unwrap(other)
        return c.wrap(op(self._a, o))
    f.__name__ = name
    return f


def _rbinop(op, name):
    def f(self, other):
        if _defer(other):
            return NotImplemented
        c = _Call("operator " + name, dev=self._dev)
        c.unwrap(self)
        o = c.unwrap(other)
        return c.wrap(op(o, self._a))
    f.__name__ = name
    return f


def _ibinop(op, name):
    def f(self, other):
        c = _Call("operator " + name, dev=self._dev)
        o = c.unwrap(other)
        op(self._a, o)
        return self
    f.__name__ = name
    return f


# -------------------------------------------------------------- CuPy's kernels, where they differ
# These take and return raw NumPy values (operators and ufunc calls unwrap, then wrap).
def _cupy_floor_divide(a, b):
    """CuPy's floor division: on floats ``floor(a / b)`` (``_floor_divide`` in
    cupy/_core/include/cupy/carray.cuh), where NumPy derives it from ``fmod`` (Python's rule):
    they differ where ``a / b`` rounds up to a whole number (``1.0 // 0.1``: 10.0 on CuPy,
    9.0 on NumPy). Integers agree (0 for a zero divisor on both)."""
    with numpy.errstate(all="ignore"):
        q = numpy.floor_divide(a, b)          # NumPy's dtype, shape and errors
        if q.dtype.kind != "f":
            return q
        return numpy.floor(numpy.true_divide(a, b, dtype=q.dtype))


def _cupy_remainder(a, b):
    """CuPy's remainder: on floats ``a - floor(a / b) * b`` (cupy.remainder's float loops),
    where NumPy's is fmod-based and exact (``1.0 % 0.1``: 0.0 on CuPy, 0.09999999999999995
    on NumPy; ``1.0 % inf``: NaN on CuPy, 1.0 on NumPy)."""
    with numpy.errstate(all="ignore"):
        r = numpy.remainder(a, b)
        if r.dtype.kind != "f":
            return r
        a, b = numpy.asarray(a).astype(r.dtype), numpy.asarray(b).astype(r.dtype)
        return a - numpy.floor(a / b) * b


def _cupy_divmod(a, b):
    return _cupy_floor_divide(a, b), _cupy_remainder(a, b)


def _cupy_power(a, b):
    """CuPy's power on integers: ``integral_power`` (cupy.power's preamble) gives 0 for a
    negative exponent (1 for a base of 1, -1 or 1 for -1) where NumPy raises ValueError."""
    try:
        with numpy.errstate(all="ignore"):
            return numpy.power(a, b)
    except ValueError:          # "Integers to negative integer powers are not allowed."
        pass
    dt = numpy.result_type(a, b)
    a, b = numpy.asarray(a).astype(dt), numpy.asarray(b).astype(dt)
    neg = b < 0
    r = numpy.power(a, numpy.where(neg, 0, b).astype(dt))
    special = numpy.where(a == 1, 1, numpy.where(a == -1, numpy.where(b % 2, -1, 1), 0))
    return numpy.where(neg, special, r).astype(dt)


def _cupy_add_reduceat(a, indices, axis=0, dtype=None, out=None):
    """CuPy's ``add.reduceat`` (``_add_reduceat`` in cupy/_core/_routines_indexing.pyx):
    differences of a running sum, ``acc[indices[i+1]] - acc[indices[i]]`` with
    ``acc = [0, cumsum(a, axis, dtype)]`` (``a[indices[i]]`` where indices do not increase).
    The same sums as NumPy's, which adds each segment on its own, up to rounding, except that
    in float32 a segment after large values loses its low bits (rows [1e8, 1e8, 1, 1] in
    segments [0, 2): 2e8 and 0.0, where NumPy gives 2e8 and 2.0)."""
    axis = axis + a.ndim if axis < 0 else axis
    idx = numpy.append(indices, a.shape[axis])
    acc = numpy.cumsum(a, axis, dtype)
    zero = numpy.zeros(a.shape[:axis] + (1,) + a.shape[axis + 1:], acc.dtype)
    acc = numpy.concatenate((zero, acc), axis)
    mask = (idx[:-1] >= idx[1:]).reshape((-1,) + (1,) * (a.ndim - axis - 1))
    r = numpy.where(mask, a.take(idx[:-1], axis),
                    acc.take(idx[1:], axis) - acc.take(idx[:-1], axis))
    if out is None:
        return r
    out[...] = r
    return out


def _broadcast_to(array, shape):
    """``xp.broadcast_to``: a writable view, as CuPy's (``cupy.ndarray`` has no read-only
    flag: ``_core.broadcast_to`` returns a plain view with stride-0 axes, and a write through
    it lands on the shared elements, racing on a GPU), where NumPy's view is read-only."""
    if type(array) is not numpy.ndarray:          # (called with the unwrapped array)
        raise TypeError("cupy.broadcast_to needs a cupy.ndarray, got %s" % type(array).__name__)
    v = numpy.broadcast_to(array, shape)
    return numpy.lib.stride_tricks.as_strided(array, v.shape, v.strides)


def _wrapped_around(index, shape):
    """CuPy's integer-array indexing wraps out-of-range indices around (``x[[5]]`` of 5 rows
    is row 0: ``cupy/_core/_routines_indexing.pyx`` takes them modulo the size) where NumPy
    raises; integers and slices are checked as in NumPy. ``index`` is unwrapped already."""
    items = index if isinstance(index, tuple) else (index,)

    def taken(i):
        if i is None or i is Ellipsis or isinstance(i, bool):
            return 0
        if isinstance(i, numpy.ndarray) and i.dtype == bool:
            return i.ndim
        return 1
    items = [numpy.asarray(i) if isinstance(i, list) else i for i in items]   # (as CuPy)
    out, axis = [], 0
    for i in items:
        if i is Ellipsis:
            axis += len(shape) - sum(taken(j) for j in items)
        elif (isinstance(i, numpy.ndarray) and i.dtype.kind in "iu" and axis < len(shape)
              and shape[axis]):
            i = i % shape[axis]
        out.append(i)
        axis += taken(i)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _cupy_inplace(fn):
    def op(a, b):
        numpy.copyto(a, fn(a, b), casting="same_kind")
        return a
    return op


_CUPY_LOOPS = {"floor_divide": _cupy_floor_divide, "remainder": _cupy_remainder,
               "mod": _cupy_remainder, "divmod": _cupy_divmod, "power": _cupy_power,
               "pow": _cupy_power}


def _unop(op, name):
    def f(self):
        return StandinArray._wrap(numpy.asarray(op(self._a)), self._dev)
    f.__name__ = name
    return f


class StandinArray:
    """An array on a stand-in device (NumPy memory behind CuPy's interface)."""

    __slots__ = ("_a", "_dev", "__weakref__")
    # NumPy ufuncs refuse this type and ndarray/NumPy-scalar operators defer to ours
    __array_ufunc__ = None
    __hash__ = None

    def __init__(self, shape, dtype=float, order="C"):
        self._a = numpy.empty(shape, dtype, order=order)
        self._dev = _current[0]

    @classmethod
    def _wrap(cls, a, dev):
        o = object.__new__(cls)
        o._a = a
        o._dev = dev
        return o

    # -- refusals -----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise _err("implicit conversion to a NumPy array is not allowed (as on CuPy): use "
                   "xp.asnumpy(a) / a.get(), or tensor.cpu() / tensor.numpy()")

    def __array_function__(self, func, types, args, kwargs):
        raise _err("numpy.%s was called on device data: use the array module "
                   "xp = npconv.backend.get_array_module(x) instead of numpy"
                   % getattr(func, "__name__", func))

    def __reduce_ex__(self, protocol):
        raise _err("refusing to pickle a device array: bring it to the host explicitly "
                   "(tensor.cpu() / xp.asnumpy) before saving")

    # -- attributes ---------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        v = self._a.view()
        try:
            v.shape = value          # AttributeError when a copy would be needed (as CuPy)
        except ValueError as e:
            raise ValueError(str(e)) from None
        self._a = v

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    @property
    def strides(self):
        return self._a.strides

    @property
    def itemsize(self):
        return self._a.itemsize

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def T(self):
        return StandinArray._wrap(self._a.T, self._dev)

    @property
    def data(self):
        return _MemoryPointer(self)

    @property
    def flags(self):
        return _Flags(self._a.flags)

    @property
    def device(self):
        return _Device(self._dev)

    def get(self, stream=None, order="C", out=None):
        """The explicit way to the host (a NumPy copy), as ``cupy.ndarray.get``."""
        if out is not None:
            out[...] = self._a
            return out
        return numpy.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copy a host array into this device array, as ``cupy.ndarray.set``."""
        if not isinstance(arr, numpy.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        self._a[...] = arr

    def scatter_add(self, slices, value):
        _ufunc_at("add", numpy.add, self, slices, value)

    def scatter_max(self, slices, value):
        _ufunc_at("maximum", numpy.maximum, self, slices, value)

    def scatter_min(self, slices, value):
        _ufunc_at("minimum", numpy.minimum, self, slices, value)

    def __getattr__(self, name):
        # the rest of cupy.ndarray's interface, from NumPy's; names CuPy lacks are refused
        if name not in _names.NDARRAY or name.startswith("__"):
            raise AttributeError("'cupy.ndarray' (standin) object has no attribute %r" % name)
        attr = getattr(self._a, name)
        if callable(attr):
            dev = self._dev

            def method(*args, **kwargs):
                if kwargs:
                    _check_kwargs("ndarray." + name, kwargs)
                _check_0d_axis(name, self, args, kwargs)
                c = _Call("ndarray." + name, dev=dev)
                c.ids[id(self._a)] = self
                if args:
                    args = [c.unwrap(a) for a in args]
                if kwargs:
                    kwargs = {k: c.unwrap(v) for k, v in kwargs.items()}
                return c.wrap(attr(*args, **kwargs))
            method.__name__ = name
            return method
        if isinstance(attr, numpy.ndarray):
            return StandinArray._wrap(attr, self._dev)
        return attr

    # -- Python protocols ---------------------------------------------------------------
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        for i in range(self._a.shape[0]):
            yield self[i]

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    # CuPy turns host (list/NumPy) index arrays into device arrays, so they are allowed in
    # indices; values must be device arrays or scalars.
    def __getitem__(self, index):
        c = _Call("indexing", allow_host=True, dev=self._dev)
        r = self._a[_wrapped_around(c.unwrap(index), self._a.shape)]
        return StandinArray._wrap(numpy.asarray(r) if not isinstance(r, numpy.ndarray) else r,
                                  self._dev)

    def __setitem__(self, index, value):
        idx = _Call("item assignment", allow_host=True, dev=self._dev).unwrap(index)
        idx = _wrapped_around(idx, self._a.shape)
        self._a[idx] = _Call("item assignment", dev=self._dev).unwrap(value)

    def __copy__(self):
        return StandinArray._wrap(self._a.copy(), self._dev)

    def __deepcopy__(self, memo):
        return StandinArray._wrap(self._a.copy(), self._dev)

    def __repr__(self):
        return "standin_" + repr(self._a) + ("" if self._dev == 0 else
                                             " on standin:%d" % self._dev)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a.item() if self._a.ndim == 0 else str(self._a), spec)

    __add__ = _binop(operator.add, "__add__")
    __radd__ = _rbinop(operator.add, "__radd__")
    __sub__ = _binop(operator.sub, "__sub__")
    __rsub__ = _rbinop(operator.sub, "__rsub__")
    __mul__ = _binop(operator.mul, "__mul__")
    __rmul__ = _rbinop(operator.mul, "__rmul__")
    __truediv__ = _binop(operator.truediv, "__truediv__")
    __rtruediv__ = _rbinop(operator.truediv, "__rtruediv__")
    __floordiv__ = _binop(_cupy_floor_divide, "__floordiv__")
    __rfloordiv__ = _rbinop(_cupy_floor_divide, "__rfloordiv__")
    __mod__ = _binop(_cupy_remainder, "__mod__")
    __rmod__ = _rbinop(_cupy_remainder, "__rmod__")
    __divmod__ = _binop(_cupy_divmod, "__divmod__")
    __rdivmod__ = _rbinop(_cupy_divmod, "__rdivmod__")
    __pow__ = _binop(_cupy_power, "__pow__")
    __rpow__ = _rbinop(_cupy_power, "__rpow__")
    __matmul__ = _binop(operator.matmul, "__matmul__")
    __rmatmul__ = _rbinop(operator.matmul, "__rmatmul__")
    __and__ = _binop(operator.and_, "__and__")
    __rand__ = _rbinop(operator.and_, "__rand__")
    __or__ = _binop(operator.or_, "__or__")
    __ror__ = _rbinop(operator.or_, "__ror__")
    __xor__ = _binop(operator.xor, "__xor__")
    __rxor__ = _rbinop(operator.xor, "__rxor__")
    __lshift__ = _binop(operator.lshift, "__lshift__")
    __rlshift__ = _rbinop(operator.lshift, "__rlshift__")
    __rshift__ = _binop(operator.rshift, "__rshift__")
    __rrshift__ = _rbinop(operator.rshift, "__rrshift__")
    __eq__ = _binop(operator.eq, "__eq__")
    __ne__ = _binop(operator.ne, "__ne__")
    __lt__ = _binop(operator.lt, "__lt__")
    __le__ = _binop(operator.le, "__le__")
    __gt__ = _binop(operator.gt, "__gt__")
    __ge__ = _binop(operator.ge, "__ge__")
    __iadd__ = _ibinop(operator.iadd, "__iadd__")
    __isub__ = _ibinop(operator.isub, "__isub__")
    __imul__ = _ibinop(operator.imul, "__imul__")
    __itruediv__ = _ibinop(operator.itruediv, "__itruediv__")
    __ifloordiv__ = _ibinop(_cupy_inplace(_cupy_floor_divide), "__ifloordiv__")
    __imod__ = _ibinop(_cupy_inplace(_cupy_remainder), "__imod__")
    __ipow__ = _ibinop(_cupy_inplace(_cupy_power), "__ipow__")
    __iand__ = _ibinop(operator.iand, "__iand__")
    __ior__ = _ibinop(operator.ior, "__ior__")
    __ixor__ = _ibinop(operator.ixor, "__ixor__")
    __ilshift__ = _ibinop(operator.ilshift, "__ilshift__")
    __irshift__ = _ibinop(operator.irshift, "__irshift__")
    __neg__ = _unop(operator.neg, "__neg__")
    __pos__ = _unop(operator.pos, "__pos__")
    __abs__ = _unop(operator.abs, "__abs__")
    __invert__ = _unop(operator.invert, "__invert__")


# ------------------------------------------------------------------------------ xp namespace
def _ufunc_at(name, uf, a, indices, b=None):
    if name not in _names.UFUNC_AT:
        raise NotImplementedError("`cupy_%s.at` is not supported yet" % name)
    if type(a) is not StandinArray:
        raise _err("%s.at needs a device array as its first argument, got %s"
                   % (name, type(a).__name__))
    c = _Call(name + ".at", dev=a._dev)
    c.unwrap(a)
    idx = _Call(name + ".at", allow_host=True, dev=a._dev).unwrap(indices)
    if b is None:
        uf.at(a._a, idx)
    else:
        uf.at(a._a, idx, c.unwrap(b))


class ufunc:
    """A CuPy-like ufunc over NumPy's: ``__call__``, ``at``, ``reduce``, ``accumulate``,
    ``reduceat``, ``outer`` with CuPy's support matrix."""

    def __init__(self, uf, name):
        self._uf = uf
        self.__name__ = self.name = name
        self.nin, self.nout, self.nargs, self.types = uf.nin, uf.nout, uf.nargs, uf.types

    def __call__(self, *args, **kwargs):
        if kwargs:
            _check_kwargs("ufunc", kwargs)
        elif self.name in _CUPY_LOOPS:        # CuPy's own loop (with out=, dtype=: NumPy's)
            return _call(self.name, _CUPY_LOOPS[self.name], args, kwargs)
        return _call(self.name, self._uf, args, kwargs)

    def at(self, a, indices, b=None):
        _ufunc_at(self.name, self._uf, a, indices, b)

    def _only(self, method, names):
        if self.name not in names:
            raise NotImplementedError("`cupy_%s.%s` is not supported yet" % (self.name, method))

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        self._only("reduce", ("add", "multiply"))
        return _call(self.name + ".reduce", self._uf.reduce, (array,),
                     dict(axis=axis, dtype=dtype, out=out, keepdims=keepdims))

    def accumulate(self, array, axis=0, dtype=None, out=None):
        self._only("accumulate", ("add", "multiply"))
        return _call(self.name + ".accumulate", self._uf.accumulate, (array,),
                     dict(axis=axis, dtype=dtype, out=out))

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        self._only("reduceat", ("add",))
        return _call(self.name + ".reduceat", _cupy_add_reduceat, (array, indices),
                     dict(axis=axis, dtype=dtype, out=out))

    def outer(self, A, B, **kwargs):
        return _call(self.name + ".outer", self._uf.outer, (A, B), kwargs)

    def __repr__(self):
        return "<ufunc 'cupy_%s' (standin)>" % self.name


# CuPy's reductions normalise ``axis`` against ndim (``_reduction._get_axis``), so a 0-d
# array takes only ``axis=None``; NumPy also accepts 0 and -1 there
_REDUCTIONS = frozenset(("sum", "prod", "max", "min", "amax", "amin", "mean", "var", "std",
                         "argmax", "argmin", "all", "any", "nansum", "nanmax", "nanmin",
                         "nanmean", "nanvar", "nanstd", "ptp"))


_AxisError = getattr(getattr(numpy, "exceptions", numpy), "AxisError", IndexError)  # NumPy 1.24


def _check_0d_axis(name, a, args, kwargs):
    """Refuse an axis on a 0-d array in a reduction (``a`` its array, ``args`` the ones
    after it, where ``axis`` comes first), as CuPy does."""
    if name not in _REDUCTIONS or type(a) is not StandinArray or a._a.ndim:
        return
    axis = kwargs.get("axis", args[0] if args else None)
    if axis is not None and axis != ():
        raise _AxisError(
            "axis %s is out of bounds for array of dimension 0 (CuPy's %s takes only "
            "axis=None on a 0-d array; the standin device refuses it too)" % (axis, name))


def _function(name, fn, allow_host=False, key=None):
    key = name if key is None else key

    def f(*args, **kwargs):
        if kwargs:
            _check_kwargs(key, kwargs)
        if args:
            _check_0d_axis(name, args[0], args[1:], kwargs)
        return _call(name, fn, args, kwargs, allow_host)
    f.__name__ = name
    f.__qualname__ = name
    f.__doc__ = getattr(fn, "__doc__", None)
    return f


def _asnumpy(a, stream=None, order="C", out=None):
    if type(a) is StandinArray:
        return a.get(order=order, out=out)
    return numpy.asarray(a, order=order)


def _get_array_module(*args):
    for a in args:
        if type(a) is StandinArray:
            return xp
    return numpy


# Host arrays may enter the device only through these (explicit transfers, as in CuPy).
_FROM_HOST = {"array", "asarray", "asanyarray", "ascontiguousarray"}


def _to_device_fn(name, fn):
    def f(obj, *args, **kwargs):
        if kwargs:
            _check_kwargs(name, kwargs)
        c = _Call(name, allow_host=type(obj) is not StandinArray)
        raw = c.unwrap(obj)
        r = fn(raw, *args, **kwargs)
        if (type(obj) is not StandinArray and isinstance(r, numpy.ndarray)
                and isinstance(obj, numpy.ndarray) and numpy.may_share_memory(r, obj)):
            r = r.copy()       # host -> device is a transfer: never an alias of host memory
        return c.wrap(r)
    f.__name__ = name
    return f


class _Namespace(types.ModuleType):
    """A module whose attributes are CuPy's names (``allowed``) made from NumPy's
    (``source``) on first use."""

    def __init__(self, name, source, allowed, special=None, prefix=""):
        super().__init__(name)
        self._source = source
        self._allowed = allowed
        self._special = special or {}
        self._prefix = prefix          # of the keys in _cupy_names.KWARGS

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._special:
            v = self._special[name]
        elif name not in self._allowed:
            raise AttributeError("CuPy has no %s.%s (so the standin device refuses it)"
                                 % (self.__name__.replace("npconv._standin.xp", "cupy"), name))
        else:
            try:
                v = getattr(self._source, name)
            except AttributeError:
                raise AttributeError("the standin device does not implement %s.%s"
                                     % (self.__name__, name)) from None
            v = _convert(name, v, self._prefix)
        setattr(self, name, v)
        return v

    def __dir__(self):
        return sorted(set(self._allowed) | set(self._special))


def _convert(name, v, prefix=""):
    if isinstance(v, numpy.ufunc):
        return ufunc(v, name)
    if isinstance(v, type) or isinstance(v, types.ModuleType):
        return v                      # dtypes and scalar types are the same objects in CuPy
    if callable(v):
        if name in _FROM_HOST and not prefix:
            return _to_device_fn(name, v)
        return _function(name, v, key=prefix + name)
    return v                          # constants (pi, inf, newaxis)


class _Generator:
    """``xp.random.default_rng(seed)``: NumPy's PCG64 stream behind CuPy's Generator API
    (only the methods ``cupy.random.Generator`` has; results on the current device)."""

    def __init__(self, seed=None):
        self._g = numpy.random.default_rng(seed)
        self._dev = _current[0]       # CuPy keeps the generator's state on this device

    def __getattr__(self, name):
        if name.startswith("_") or name not in _names.GENERATOR:
            raise AttributeError("cupy.random.Generator has no method %r" % name)
        fn = _function("Generator." + name, getattr(self._g, name),
                       key="random.Generator." + name)
        dev = self._dev

        def call(*args, **kwargs):
            if _current[0] != dev:
                # CuPy: "Array device must be same as the current device"
                raise _err("random.Generator.%s: the generator's state is on standin:%d but "
                           "the current device is standin:%d" % (name, dev, _current[0]))
            return fn(*args, **kwargs)
        return call


_legacy = numpy.random.RandomState(0)   # CuPy's global RandomState: numpy.random.seed
                                        # does not seed it


def _legacy_fn(name):
    if name == "seed":
        return lambda seed=None: _legacy.seed(None if seed is None else int(seed) % 2 ** 32)
    fn = getattr(_legacy, name, None)
    if fn is None:
        fn = getattr(numpy.random, name)
    return _function("random." + name, fn)


def _make_xp():
    xp = _Namespace("npconv._standin.xp", numpy, _names.TOP)
    rnd_special = {"default_rng": lambda seed=None: _Generator(seed),
                   "Generator": _Generator}
    for n in _names.RANDOM:
        if n not in rnd_special and (hasattr(_legacy, n) or n in ("rand", "randn", "seed")):
            rnd_special[n] = _legacy_fn(n)
    random = _Namespace("npconv._standin.xp.random", numpy.random, (), rnd_special)
    stride_tricks = _Namespace("npconv._standin.xp.lib.stride_tricks",
                               numpy.lib.stride_tricks, _names.STRIDE_TRICKS,
                               prefix="lib.stride_tricks.")
    lib = _Namespace("npconv._standin.xp.lib", numpy.lib, (),
                     {"stride_tricks": stride_tricks})
    cuda = types.SimpleNamespace(Device=_Device, is_available=lambda: True,
                                 runtime=types.SimpleNamespace(
                                     getDeviceCount=lambda: DEVICE_COUNT))
    xp._special.update({
        "ndarray": StandinArray,
        "ufunc": ufunc,
        "broadcast_to": _function("broadcast_to", _broadcast_to),
        "asnumpy": _asnumpy,
        "get_array_module": _get_array_module,
        "random": random,
        "lib": lib,
        "linalg": _Namespace("npconv._standin.xp.linalg", numpy.linalg, _names.LINALG,
                             prefix="linalg."),
        "fft": _Namespace("npconv._standin.xp.fft", numpy.fft, _names.FFT, prefix="fft."),
        "cuda": cuda,
    })
    for n in ("ElementwiseKernel", "RawKernel", "RawModule", "ReductionKernel", "fuse"):
        # user CUDA code cannot run here: npconv selects such kernels for real CuPy only
        xp._special[n] = _no_kernels(n)
    return xp


def _no_kernels(n):
    def f(*args, **kwargs):
        raise NotImplementedError("the standin device cannot compile CUDA (%s): select custom "
                                  "kernels only for real cupy arrays" % n)
    return f


xp = _make_xp()


# ------------------------------------------------------------------------------ backend
def _from_host(a, index=0):
    if type(a) is StandinArray:
        raise _err("from_host got a device array")
    return StandinArray._wrap(numpy.array(a, copy=True), int(index))


def _to_host(a):
    # cupy.asnumpy: a.get(order='C') (cupy/__init__.py), a C-contiguous copy whatever the
    # device array's layout
    return a.get()


BACKEND = _backend.Backend(NAME, xp, StandinArray, from_host=_from_host, to_host=_to_host,
                           device_of=lambda a: a._dev, device_count=DEVICE_COUNT,
                           get_device=lambda: _current[0],
                           set_device=lambda index: _Device(index).use())


def install():
    """Register the stand-in backend (device ``'standin'``); returns it."""
    return _backend.register_backend(BACKEND)


def uninstall():
    _backend.unregister_backend(NAME)
