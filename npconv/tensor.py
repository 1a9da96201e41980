"""``Tensor``: an array of the active backend plus what autograd needs.

A Tensor holds ``data`` (a raw NumPy or CuPy array), ``grad`` (a Tensor or None),
``requires_grad`` and ``grad_fn`` (the node that made it, None for leaves). Every operator is a
``Function`` from ``npconv.ops``; the Tensor layer only records the graph.
"""
import collections
import itertools
import numbers
import operator
import warnings
import weakref

import numpy

from . import autograd as _autograd
from . import backend as _backend
from .autograd import engine as _engine
from .autograd import grad_mode as _grad_mode
from .autograd import function as _function
from .autograd.function import Function
from .ops import activation as _act
from .ops import arithmetic as _ar
from .ops import indexing as _ix
from .ops import reduction as _red
from .ops import shape as _sh
from .ops import shape_errors as _se

__all__ = ["Tensor", "tensor"]

_DEFAULT_FLOAT = numpy.float32


def _to_array(data, dtype=None, xp=None):
    """Make a backend array: Python numbers and lists become float32 (ints stay int64,
    bools bool); arrays keep their dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        data = data.data
    if xp is None:
        xp = _backend.get_array_module(data)
    if dtype is not None:
        dtype = numpy.dtype(dtype)
        if isinstance(data, (numpy.ndarray, numpy.generic)) or xp is not numpy:
            return xp.asarray(data).astype(dtype, copy=False)
        return xp.asarray(data, dtype=dtype)
    if isinstance(data, numpy.generic):
        return numpy.asarray(data)
    if hasattr(data, "dtype") and hasattr(data, "shape"):
        return data
    arr = numpy.asarray(data)
    if arr.dtype == numpy.float64 or (arr.dtype.kind in "iu" and arr.dtype != numpy.int64):
        arr = arr.astype(_list_dtype(data, arr.dtype))
    return arr if xp is numpy else xp.asarray(arr)


_PY_DTYPES = {float: numpy.dtype(_DEFAULT_FLOAT), int: numpy.dtype(numpy.int64),
              bool: numpy.dtype(numpy.bool_)}
_SEQUENCES = {list, tuple}


def _shape_of(x):
    """The shape of a Tensor or raw array operand; None for a number (it broadcasts)."""
    if isinstance(x, Tensor):
        return x.data.shape
    s = getattr(x, "shape", None)
    return None if s is None else tuple(s)


def _failed(operands, what=None, shapes=_se.broadcast_error, inplace=False):
    """An op on ``operands`` failed in the backend; called from its ``except`` clause, so
    only the failure path pays. Raises PyTorch's error when ``shapes(*operand shapes)`` (a
    rule of ``npconv.ops.shape``) gives one, instead of NumPy's or CuPy's. Returns the
    operands with their 0-d CPU tensors moved to the others' device when that is what
    stopped the op (PyTorch takes a 0-d CPU tensor in an op on another device as a scalar):
    the caller retries with them. Else, for ops that are no ``Function`` (``what`` names
    them; ``Function.apply`` checks its own), raises the same-device error when the devices
    differ, and otherwise re-raises the backend's error (the one being handled: so this must
    be called from the ``except`` clause). ``inplace``: the first operand is the target,
    which cannot move."""
    if shapes is not None:
        msg = shapes(*[_shape_of(o) for o in operands])
        if msg is not None:
            raise RuntimeError(msg) from None
    moved = _cpu_scalars_moved(operands, inplace)
    if moved is None:
        if what is not None:
            _backend.check_same_device(operands, what)
        raise                   # the caller's exception, unchanged
    return moved


def _cpu_scalars_moved(operands, inplace=False):
    """``operands`` with each 0-d CPU Tensor moved (differentiably: its gradient comes back
    to the CPU) to the device of the other operands, when all of those are on one device
    that is not the CPU; None otherwise (a dimensioned CPU tensor with a device one is an
    error in PyTorch too, as is a 0-d CPU target of an in-place op)."""
    target = None
    found = False
    for i, o in enumerate(operands):
        if isinstance(o, Tensor):
            d = o.data
        elif (hasattr(o, "shape") and hasattr(o, "dtype")
              and not isinstance(o, (numpy.ndarray, numpy.generic))):
            d = o                       # a raw device array (a condition, a mask)
        else:
            continue                    # numbers; raw host arrays are indices, masks
        dev = _backend.device_of(d)
        if dev.type == "cpu":
            if d.ndim or not isinstance(o, Tensor) or (inplace and i == 0):
                return None
            found = True
        elif target is None:
            target = dev
        elif dev != target:
            return None
    if not found or target is None:
        return None
    return tuple(_backend.move(o, target) if isinstance(o, Tensor) and not o.data.ndim
                 and _backend.device_of(o.data).type == "cpu" else o for o in operands)


def _list_dtype(data, found):
    """The dtype PyTorch infers for ``data`` (a number or nested list) that NumPy read as
    ``found``: Python floats count as float32 and ints as int64, but NumPy scalars and arrays
    inside keep their own dtype (``tensor([np.float64(1.5)])`` is float64 in PyTorch)."""
    dtypes = set()
    level = data if isinstance(data, (list, tuple)) else [data]
    while level:               # one depth of the nesting at a time (C-speed scans)
        types = set(map(type, level))
        nested = types & _SEQUENCES
        for tp in types - nested:
            if tp in _PY_DTYPES:
                dtypes.add(_PY_DTYPES[tp])
            elif issubclass(tp, numpy.generic):
                dtypes.add(numpy.dtype(tp))
            else:              # arrays, Tensors; else the default of NumPy's kind
                dtypes.update(getattr(s, "dtype", None) for s in level if type(s) is tp)
        if not nested:
            break
        if len(nested) < len(types):
            level = [s for s in level if type(s) in nested]
        level = list(itertools.chain.from_iterable(level))
    dtypes.discard(None)
    if not dtypes:
        return _PY_DTYPES[float] if found.kind == "f" else _PY_DTYPES[int]
    return _result_dtype(dtypes)


def _operand(x):
    """Prepare the other operand of a binary op: Tensors as they are, Python numbers as
    Python numbers (so they never upcast float32), NumPy scalars as Python numbers, arrays
    and lists as constant Tensors."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numpy.generic):   # before float: numpy.float64 subclasses float
        return x.item()
    if isinstance(x, (bool, int, float)):
        return x
    if isinstance(x, numbers.Number):
        return x
    return Tensor(x)


MinMax = collections.namedtuple("MinMax", ["values", "indices"])
MinMax.__doc__ = "What ``max(dim)``/``min(dim)`` return: ``values`` and ``indices``."
SortResult = collections.namedtuple("sort", ["values", "indices"])
SortResult.__doc__ = "What ``sort`` returns: ``values`` and ``indices``."
TopKResult = collections.namedtuple("topk", ["values", "indices"])
TopKResult.__doc__ = "What ``topk`` returns: ``values`` and ``indices``."


def _coerce(t, o, true_div=False):
    """``(t, other operand)`` promoted as PyTorch does where NumPy differs: an integer or
    bool tensor meeting a float tensor takes that tensor's dtype; meeting a Python float (or
    a true division) it becomes float32, the default dtype, never float64. Float tensors
    with Python numbers keep their dtype (NEP 50 weak scalars)."""
    o = _operand(o)
    kt = t.data.dtype.kind
    if o.__class__ is Tensor or isinstance(o, Tensor):
        dt, do = t.data.dtype, o.data.dtype
        ct, co = _CATEGORY.get(kt, 1), _CATEGORY.get(do.kind, 1)
        if ct == co:
            if dt != do and (o.data.ndim == 0) != (t.data.ndim == 0):
                # as PyTorch: a 0-d tensor of the same category does not widen a
                # dimensioned one (x32 * tensor(0.5, float64) stays float32, int32 + tensor(1)
                # stays int32)
                if o.data.ndim == 0:
                    o = o.to(dt)
                else:
                    t = t.to(do)
        elif ct >= 2 > co:          # float/complex meets int/bool: the float dtype wins
            o = Tensor._wrap(o.data.astype(dt))
        elif co >= 2 > ct:
            t = Tensor._wrap(t.data.astype(do))
        if true_div and ct < 2 and co < 2:
            return (Tensor._wrap(t.data.astype(_DEFAULT_FLOAT)),
                    Tensor._wrap(o.data.astype(_DEFAULT_FLOAT)))
        return t, o
    if kt == "f" or kt == "c":
        return t, o
    if true_div or isinstance(o, float):
        return Tensor._wrap(t.data.astype(_DEFAULT_FLOAT)), o
    return t, o


# PyTorch's dtype categories: a higher category wins whatever the widths
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _result_dtype(dtypes):
    """The dtype of an op over dimensioned tensors of ``dtypes`` (``cat``, ``stack``, a
    list's elements), pairwise by ``_coerce``'s rule: a float or complex dtype beats an
    integer or bool one whatever the widths (int64 with float32 gives float32, not NumPy's
    float64); within a category NumPy's promotion."""
    it = iter(dtypes)
    out = numpy.dtype(next(it))
    for d in it:
        d = numpy.dtype(d)
        co, cd = _CATEGORY.get(out.kind, 1), _CATEGORY.get(d.kind, 1)
        if cd >= 2 > co:
            out = d
        elif not co >= 2 > cd:
            out = numpy.result_type(out, d)
    return out


class Tensor:
    """An n-dimensional array with reverse-mode autograd.

    ``Tensor(data, requires_grad=False)``; usually made by ``npconv.tensor`` or a factory.
    Differences from PyTorch: ``.data`` is the raw NumPy/CuPy array (not a Tensor), and a
    Function's forward/backward see raw arrays.
    """

    # ``grad`` and ``requires_grad`` are properties over ``_grad`` and ``_requires_grad``
    # (their setters check what PyTorch checks); npconv's own hot paths (Function.apply, the
    # engine) read and write the slots directly.
    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "_output_nr", "_version",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000
    # ndarray/NumPy-scalar <op> Tensor returns NotImplemented, so Python calls the Tensor's
    # reflected operator (np.float64(2) * t stays a float32 Tensor, not an ndarray)
    __array_ufunc__ = None

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = _to_array(data, dtype)
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = [0]
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """Fast constructor for arrays that are already backend arrays."""
        t = cls.__new__(cls)
        t.data = array
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._version = [0]
        t._retains_grad = False
        t._requires_grad = requires_grad
        return t

    # ---------------------------------------------------------------- properties
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def device(self):
        """Where the data lives: ``device(type='cpu')`` or ``device(type='cuda', index=0)``."""
        return _backend.device_of(self.data)

    @property
    def is_cuda(self):
        return _backend.backend_of(self.data).name == "cuda"

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(_backend.cuda_device(device))

    @property
    def T(self):
        """All axes reversed (the transpose of a matrix)."""
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim=None):
        """The shape as a tuple, or the length of axis ``dim``."""
        return self.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        # an explicit __iter__: without it Python iterates by indexing, and a 0-d tensor
        # would give an empty iteration instead of raising as PyTorch does
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))   # views: autograd flows back

    def item(self):
        """The value of a one-element tensor as a Python number (an explicit device sync)."""
        if self.data.size != 1:
            raise ValueError("a Tensor with %d elements cannot be converted to Scalar"
                             % self.data.size)
        return self.data.reshape(()).item() if hasattr(self.data, "item") else float(self.data)

    def numpy(self):
        """The data as a NumPy array (shares memory on the CPU). Raises for tensors that
        require grad, as PyTorch does: call ``.detach().numpy()``."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return _backend.backend_of(self.data).to_host(self.data)

    def tolist(self):
        return self.detach().numpy().tolist()

    def detach(self):
        """A new leaf sharing this tensor's data and version counter, cut from the graph
        (an in-place change through either is seen by whoever saved the other)."""
        t = Tensor._wrap(self.data)
        t._version = self._version
        return t

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that does not require
        grad. Refused on a view made by a recorded op, as PyTorch refuses views."""
        node = self.grad_fn
        if node is not None:
            if node._fn._is_view:
                raise RuntimeError("Can't detach views in-place. Use detach() instead.")
            if self._retains_grad and node._retain:
                node._retain.pop(self._output_nr, None)
        self.grad_fn = None
        self._output_nr = 0
        self._retains_grad = False
        self._requires_grad = False
        return self

    @property
    def requires_grad(self):
        """Whether gradients flow to this tensor. Settable on leaves only (floating-point
        ones to True); on a result of an op, use ``detach()`` instead."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, (bool, numpy.bool_)):
            raise RuntimeError("requires_grad must be a bool, got %s" % type(value).__name__)
        self._set_requires_grad(bool(value), "and complex ")

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return this tensor."""
        self._set_requires_grad(bool(requires_grad), "")
        return self

    def _set_requires_grad(self, value, complex_):
        if value and self.data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point %sdtype can require gradients "
                               "(got %s)" % (complex_, self.data.dtype))
        if not value and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        self._requires_grad = value

    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (a Tensor), or None. Populated for
        leaves, and for non-leaves that called ``retain_grad()`` or were named in
        ``backward(inputs=...)``; reading it on another non-leaf warns, as in PyTorch."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
                "mistake, make sure you access the leaf Tensor instead.", UserWarning,
                stacklevel=2)
        return g

    @grad.setter
    def grad(self, g):
        if g is not None:
            _check_assigned_grad(self, g)
        self._grad = g

    @grad.deleter
    def grad(self):
        self._grad = None

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (a no-op on a leaf, which
        keeps it anyway)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            node = self.grad_fn
            if node._retain is None:
                node._retain = {}
            node._retain[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        """True for a non-leaf on which ``retain_grad()`` was called (False for leaves)."""
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time the gradient with respect to this tensor is computed
        in backward; a non-None return value (a Tensor or array of the same shape and dtype)
        replaces the gradient. On a leaf the hook sees the whole gradient of one backward
        (summed over every use) before it accumulates into ``.grad``. Returns a handle whose
        ``remove()`` unregisters the hook."""
        return _engine.register_hook(self, hook)

    def __repr__(self):
        arr = numpy.asarray(_backend.backend_of(self.data).to_host(self.data))
        body = _format_array(arr)
        extra = []
        if arr.dtype not in (numpy.float32, numpy.int64, numpy.bool_):
            extra.append("dtype=npconv.%s" % arr.dtype.name)
        dev = _backend.backend_of(self.data).name
        if dev != "cpu":
            extra.append("device='%s'" % dev)
        if self.grad_fn is not None:
            extra.append("grad_fn=<%s>" % self.grad_fn.name())
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(%s%s)" % (body, "".join(", " + e for e in extra))

    def __format__(self, spec):
        if spec and self.data.ndim == 0:       # f"{loss:.4f}"
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted "
                            "to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __array__(self, dtype=None, copy=None):
        # NumPy may convert a CPU tensor (np.asarray(t)); a device tensor refuses.
        arr = self.data
        if not isinstance(arr, numpy.ndarray):
            raise TypeError("can't convert a %s tensor to a NumPy array implicitly: use "
                            ".cpu() or .numpy() first" % _backend.backend_of(arr).name)
        return arr if dtype is None else arr.astype(dtype)

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the leaves' ``.grad``.

        ``gradient`` is d(loss)/d(self) (a Tensor or array of this tensor's shape); it may be
        omitted only for one-element tensors. ``retain_graph=True`` keeps what the nodes saved,
        for a second backward through the same graph. ``inputs`` (a Tensor or a sequence of
        them) restricts accumulation to those tensors. ``create_graph=True`` (higher-order
        gradients) is not supported: it raises NotImplementedError."""
        if inputs is None and not create_graph and self.grad_fn is not None:
            # the common cases (loss.backward(), y.backward(g)), without the general path's
            # argument handling
            if gradient is None:
                if self.data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                g = _backend.get_array_module(self.data).ones(self.data.shape, self.data.dtype)
            else:
                g = _autograd._make_grads([self], [gradient])[0]
            _engine.backward([self], [g], retain_graph=bool(retain_graph))
            return
        _autograd.backward(self, gradient, retain_graph=retain_graph,
                           create_graph=create_graph, inputs=inputs)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, o):
        c = o.__class__
        try:
            if ((c is Tensor and self.data.dtype is o.data.dtype)
                    or (c is float and self.data.dtype.kind == "f")):
                return _ar.Add.apply(self, o)         # the common cases, no promotion
            return _ar.Add.apply(*_coerce(self, o))
        except Exception:
            moved = _failed((self, o))       # PyTorch's shape error, or a 0-d CPU operand
            return moved[0].__add__(moved[1])

    def __radd__(self, o):
        t, o = _coerce(self, o)
        return _ar.Add.apply(o, t)

    def __sub__(self, o):
        c = o.__class__
        try:
            if ((c is Tensor and self.data.dtype is o.data.dtype)
                    or (c is float and self.data.dtype.kind == "f")):
                return _ar.Sub.apply(self, o)         # the common cases, no promotion
            return _ar.Sub.apply(*_coerce(self, o))
        except Exception:
            moved = _failed((self, o))       # PyTorch's shape error, or a 0-d CPU operand
            return moved[0].__sub__(moved[1])

    def __rsub__(self, o):
        t, o = _coerce(self, o)
        return _ar.Sub.apply(o, t)

    def __mul__(self, o):
        c = o.__class__
        try:
            if ((c is Tensor and self.data.dtype is o.data.dtype)
                    or (c is float and self.data.dtype.kind == "f")):
                return _ar.Mul.apply(self, o)         # the common cases, no promotion
            return _ar.Mul.apply(*_coerce(self, o))
        except Exception:
            moved = _failed((self, o))       # PyTorch's shape error, or a 0-d CPU operand
            return moved[0].__mul__(moved[1])

    def __rmul__(self, o):
        t, o = _coerce(self, o)
        return _ar.Mul.apply(o, t)

    def __truediv__(self, o):
        c = o.__class__
        try:
            if self.data.dtype.kind == "f" and (
                    (c is Tensor and self.data.dtype is o.data.dtype) or c is float):
                return _ar.Div.apply(self, o)         # the common cases, no promotion
            return _ar.Div.apply(*_coerce(self, o, True))
        except Exception:
            moved = _failed((self, o))
            return moved[0].__truediv__(moved[1])

    def __rtruediv__(self, o):
        t, o = _coerce(self, o, True)
        return _ar.Div.apply(o, t)

    def __pow__(self, o):
        try:
            return _ar.Pow.apply(*_coerce(self, o))
        except Exception:
            moved = _failed((self, o))
            return moved[0].__pow__(moved[1])

    def __rpow__(self, o):
        t, o = _coerce(self, o)
        return _ar.Pow.apply(o, t)

    def __neg__(self):
        return _ar.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, o):
        if o.__class__ is not Tensor or o.data.dtype is not self.data.dtype:
            o = _matmul_operand(self, o, True)
        try:
            return _ar.MatMul.apply(self, o)
        except Exception:
            _failed((self, o), shapes=_se.matmul_error)
            raise       # a 0-d CPU operand was moved: matmul refuses 0-d anyway (as above)

    def __rmatmul__(self, o):
        o = _matmul_operand(self, o, False)
        try:
            return _ar.MatMul.apply(o, self)
        except Exception:
            _failed((o, self), shapes=_se.matmul_error)
            raise

    def __abs__(self):
        return _ar.Abs.apply(self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__
    matmul = __matmul__
    abs = __abs__

    def exp(self):
        return _ar.Exp.apply(_floating(self))

    def log(self):
        return _ar.Log.apply(_floating(self))

    def sqrt(self):
        return _ar.Sqrt.apply(_floating(self))

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("At least one of 'min' or 'max' must not be None")
        t = self
        if isinstance(min, numpy.generic):
            min = min.item()
        if isinstance(max, numpy.generic):
            max = max.item()
        if t.data.dtype.kind not in "fc" or isinstance(min, Tensor) or isinstance(max, Tensor):
            # promote as the binary ops do (an int tensor with a float bound becomes float32;
            # a float tensor with number bounds keeps its dtype, so needs nothing)
            if min is not None:
                t, min = _coerce(t, min)
            if max is not None:
                t, max = _coerce(t, max)
                if isinstance(min, Tensor) and min.data.dtype.kind in "biu" \
                        and t.data.dtype.kind in "fc":
                    min = Tensor._wrap(min.data.astype(t.data.dtype))   # max made t float
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            # its own Function: maximum/minimum would split the gradient at ties
            try:
                return _ar.ClampTensor.apply(t, min, max)
            except Exception:
                moved = _failed((t, min, max))
                return moved[0].clamp(moved[1], moved[2])
        return _ar.Clamp.apply(t, min, max)

    clip = clamp

    def maximum(self, other):
        try:
            return _ar.Maximum.apply(*_coerce(self, other))
        except Exception:
            moved = _failed((self, other))
            return moved[0].maximum(moved[1])

    def minimum(self, other):
        try:
            return _ar.Minimum.apply(*_coerce(self, other))
        except Exception:
            moved = _failed((self, other))
            return moved[0].minimum(moved[1])

    def square(self):
        return _ar.Mul.apply(self, self)

    def sign(self):
        """-1, 0 or 1 elementwise (no gradient flows, as its derivative is zero)."""
        return Tensor._wrap(_backend.get_array_module(self.data).sign(self.data))

    def relu(self):
        return _act.ReLU.apply(self)

    def sigmoid(self):
        return _act.Sigmoid.apply(self)

    def tanh(self):
        return _act.Tanh.apply(self)

    def softmax(self, dim):
        return _act.Softmax.apply(self, _dim(dim, self.ndim))

    def log_softmax(self, dim):
        return _act.LogSoftmax.apply(self, _dim(dim, self.ndim))

    # elementwise math: integer and bool input computes in float32 (PyTorch's default dtype)
    def sin(self):
        return _ar.Sin.apply(_floating(self))

    def cos(self):
        return _ar.Cos.apply(_floating(self))

    def log1p(self):
        return _ar.Log1p.apply(_floating(self))

    def expm1(self):
        return _ar.Expm1.apply(_floating(self))

    def reciprocal(self):
        return _ar.Reciprocal.apply(_floating(self))

    def rsqrt(self):
        return _ar.Rsqrt.apply(_floating(self))

    # rounding keeps integer tensors as they are (a copy), as PyTorch; floats get a zero
    # gradient
    def floor(self):
        return _rounded(self, _ar.Floor)

    def ceil(self):
        return _rounded(self, _ar.Ceil)

    def trunc(self):
        return _rounded(self, _ar.Trunc)

    def round(self, decimals=0):
        """Round half to even (``round(2.5) == 2``), to ``decimals`` places, as PyTorch."""
        return _rounded(self, _ar.Round, decimals=operator.index(decimals))

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN -> ``nan``, inf -> ``posinf``, -inf -> ``neginf`` (None: the dtype's largest
        and lowest finite values). The replaced elements get no gradient."""
        if self.data.dtype.kind not in "fc":
            return Tensor._wrap(self.data.copy())       # nothing to replace
        return _ar.NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def masked_fill(self, mask, value):
        """``value`` where the boolean ``mask`` is True, this tensor elsewhere (the two
        broadcast). ``value``: a number or a 0-d tensor (its gradient is the sum of the
        gradient at the filled places), cast to this tensor's dtype."""
        if not isinstance(mask, Tensor):
            mask = Tensor(mask)
        if mask.data.dtype != numpy.bool_:
            raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with "
                               "dtype %s" % mask.data.dtype)
        if isinstance(value, Tensor):
            if value.data.ndim:
                raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, "
                                   "but got tensor with %d dimension(s)." % value.data.ndim)
            if value.data.dtype != self.data.dtype:
                value = value.to(self.data.dtype)
        else:
            if isinstance(value, numpy.generic):
                value = value.item()
            if not isinstance(value, numbers.Number):
                raise TypeError("masked_fill(): argument 'value' must be a Number or a 0-d "
                                "Tensor, not %s" % type(value).__name__)
            xp = _backend.get_array_module(self.data)
            value = Tensor._wrap(xp.full((), value, dtype=self.data.dtype))
        try:
            return _ar.Where.apply(mask, value, self)
        except Exception:
            moved = _failed((mask, value, self))
            return moved[2].masked_fill(moved[0], moved[1])

    def where(self, condition, other):
        """``npconv.where(condition, self, other)``: this tensor where ``condition``."""
        from .factory import where      # (factory imports this module)
        return where(condition, self, other)

    # linear algebra with PyTorch's fixed ranks (``@`` broadcasts; these refuse)
    def mm(self, mat2):
        """(n, m) @ (m, p) -> (n, p)."""
        mat2 = _matmul_operand(self, mat2, True)
        if self.data.ndim != 2:
            raise RuntimeError("self must be a matrix")
        if mat2.data.ndim != 2:
            raise RuntimeError("mat2 must be a matrix")
        if self.data.shape[1] != mat2.data.shape[0]:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)"
                               % (self.data.shape + mat2.data.shape))
        return _ar.MatMul.apply(self, mat2)

    def bmm(self, mat2):
        """(b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting of the batch."""
        mat2 = _matmul_operand(self, mat2, True)
        if self.data.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor")
        if mat2.data.ndim != 3:
            raise RuntimeError("batch2 must be a 3D tensor")
        b, _, m = self.data.shape
        if mat2.data.shape[:2] != (b, m):
            raise RuntimeError("Expected size for first two dimensions of batch2 tensor to "
                               "be: [%d, %d] but got: [%d, %d]."
                               % ((b, m) + tuple(mat2.data.shape[:2])))
        return _ar.MatMul.apply(self, mat2)

    def mv(self, vec):
        """(n, m) @ (m,) -> (n,)."""
        vec = _matmul_operand(self, vec, True)
        if self.data.ndim != 2 or vec.data.ndim != 1:
            raise RuntimeError("vector + matrix @ vector expected, got 1, %d, %d"
                               % (self.data.ndim, vec.data.ndim))
        if self.data.shape[1] != vec.data.shape[0]:
            raise RuntimeError("size mismatch, got input (%d), mat (%dx%d), vec (%d)"
                               % ((self.data.shape[0],) + self.data.shape
                                  + vec.data.shape))
        return _ar.MatMul.apply(self, vec)

    def dot(self, other):
        """sum_i a_i b_i of two 1-D tensors of one length and dtype -> 0-d."""
        other = _operand(other)
        if not isinstance(other, Tensor):
            raise TypeError("dot(): argument 'tensor' must be Tensor, not %s"
                            % type(other).__name__)
        if self.data.ndim != 1 or other.data.ndim != 1:
            raise RuntimeError("1D tensors expected, but got %dD and %dD tensors"
                               % (self.data.ndim, other.data.ndim))
        if self.data.dtype != other.data.dtype:
            raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                               "%s and %s" % (_torch_name(self.data.dtype),
                                              _torch_name(other.data.dtype)))
        n, m = self.data.shape[0], other.data.shape[0]
        if n != m:
            raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to "
                               "have the same number of elements, but got %d and %d elements "
                               "respectively" % (n, m, n, m))
        return _ar.MatMul.apply(self, other)

    def outer(self, vec2):
        """(n,) x (m,) -> (n, m): y_ij = a_i b_j (dtypes promoted, as a product)."""
        vec2 = _operand(vec2)
        if not isinstance(vec2, Tensor):
            raise TypeError("outer(): argument 'vec2' must be Tensor, not %s"
                            % type(vec2).__name__)
        for name, t in (("self", self), ("vec2", vec2)):
            if t.data.ndim != 1:
                raise RuntimeError("outer: Expected 1-D argument %s, but got %d-D"
                                   % (name, t.data.ndim))
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    # ---------------------------------------------------------------- comparisons (no grad)
    def _compare(self, o, op):
        try:
            return Tensor._wrap(op(self.data, o.data if isinstance(o, Tensor) else o))
        except Exception:
            moved = _failed((self, o), "comparison")
            return moved[0]._compare(moved[1], op)

    def __eq__(self, o):
        return self._compare(o, lambda a, b: a == b)

    def __ne__(self, o):
        return self._compare(o, lambda a, b: a != b)

    def __lt__(self, o):
        return self._compare(o, lambda a, b: a < b)

    def __le__(self, o):
        return self._compare(o, lambda a, b: a <= b)

    def __gt__(self, o):
        return self._compare(o, lambda a, b: a > b)

    def __ge__(self, o):
        return self._compare(o, lambda a, b: a >= b)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # integer and logical elementwise ops: no gradient (piecewise constant or boolean)
    def _nograd_op(self, o, op, reflected=False):
        a = o.data if isinstance(o, Tensor) else (o.item() if isinstance(o, numpy.generic)
                                                   else o)
        try:
            return Tensor._wrap(op(a, self.data) if reflected else op(self.data, a))
        except Exception:
            moved = _failed((self, o), "elementwise op")
            return moved[0]._nograd_op(moved[1], op, reflected)

    def __floordiv__(self, o):
        t, o = _coerce(self, o)
        try:
            return Tensor._wrap(_ar.floor_divide(t.data,
                                                 o.data if isinstance(o, Tensor) else o))
        except Exception:
            moved = _failed((t, o), "floor_divide")
            return moved[0].__floordiv__(moved[1])

    def __rfloordiv__(self, o):
        t, o = _coerce(self, o)
        return Tensor._wrap(_ar.floor_divide(o.data if isinstance(o, Tensor) else o, t.data))

    # remainder is differentiable (d/da = 1, d/db = -floor(a / b)), as torch.remainder
    def __mod__(self, o):
        try:
            return _ar.Remainder.apply(*_coerce(self, o))
        except Exception:
            moved = _failed((self, o))
            return moved[0].__mod__(moved[1])

    def __rmod__(self, o):
        t, o = _coerce(self, o)
        return _ar.Remainder.apply(o, t)

    def __and__(self, o):
        return self._nograd_op(o, lambda a, b: a & b)

    def __or__(self, o):
        return self._nograd_op(o, lambda a, b: a | b)

    def __xor__(self, o):
        return self._nograd_op(o, lambda a, b: a ^ b)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        return Tensor._wrap(~self.data)

    logical_not = __invert__

    # floating-point classification: bool results, no gradient
    def isnan(self):
        return Tensor._wrap(_backend.get_array_module(self.data).isnan(self.data))

    def isinf(self):
        return Tensor._wrap(_backend.get_array_module(self.data).isinf(self.data))

    def isfinite(self):
        return Tensor._wrap(_backend.get_array_module(self.data).isfinite(self.data))

    def any(self, dim=None, keepdim=False):
        return self._logical_reduce("any", dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return self._logical_reduce("all", dim, keepdim)

    def _logical_reduce(self, name, dim, keepdim):
        # dims checked as PyTorch checks them (IndexError, duplicates); an empty list reduces
        # nothing (unlike sum's); a 0-d tensor reduces with no axis, as CuPy takes no other
        axes = None if dim is None else _dim_tuple(_dims(dim), self.ndim)
        if self.ndim == 0:
            axes = None
        return Tensor._wrap(_as_nd(getattr(self.data, name)(axis=axes, keepdims=keepdim)))

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False):
        out = _red.Sum.apply(self, _dims(dim), keepdim)
        if out.data.dtype.kind == "u":
            # PyTorch sums every integer dtype into int64; NumPy's unsigned sum is uint64
            out = Tensor._wrap(out.data.astype(numpy.int64))
        return out

    def _float_only(self, name):
        # as PyTorch: a mean of integers has no dtype to infer (NumPy would upcast to float64)
        if self.data.dtype.kind not in "fc":
            raise RuntimeError("%s(): could not infer output dtype. Input dtype must be either "
                               "a floating point or complex dtype. Got: %s"
                               % (name, self.data.dtype))

    def mean(self, dim=None, keepdim=False):
        self._float_only("mean")
        return _red.Mean.apply(self, _dims(dim), keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        self._float_only("var")
        if isinstance(dim, bool):       # PyTorch's var(unbiased) overload: a bool is no dim
            dim, unbiased = None, dim
        dim = _dims(dim)
        if correction is None:
            correction = 1 if unbiased else 0
        return _red.Var.apply(self, dim, correction, keepdim)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        self._float_only("std")
        if isinstance(dim, bool):       # std(unbiased), as var
            dim, unbiased = None, dim
        dim = _dims(dim)
        if correction is None:
            correction = 1 if unbiased else 0
        # its own Function: var().sqrt() has a NaN gradient where the spread is zero
        return _red.Std.apply(self, dim, correction, keepdim)

    def max(self, dim=None, keepdim=False):
        """Without ``dim``: the largest element. With an int ``dim``: the named tuple
        ``(values, indices)``. With a Tensor: ``maximum``."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        dim = _dims(dim)
        if dim.__class__ is int and self.data.ndim == 0:
            # PyTorch takes dim 0 or -1 on a 0-d tensor: the value, index 0 (both 0-d)
            return self.reshape(1).max(dim)
        out = _red.Max.apply(self, dim, keepdim)
        return MinMax(*out) if type(out) is tuple else out

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        dim = _dims(dim)
        if dim.__class__ is int and self.data.ndim == 0:
            return self.reshape(1).min(dim)      # as max
        out = _red.Min.apply(self, dim, keepdim)
        return MinMax(*out) if type(out) is tuple else out

    def amax(self, dim=None, keepdim=False):
        return _red.Max.apply(self, _dim_tuple(dim, self.ndim), keepdim)

    def amin(self, dim=None, keepdim=False):
        return _red.Min.apply(self, _dim_tuple(dim, self.ndim), keepdim)

    def argmax(self, dim=None, keepdim=False):
        return self._arg_extreme("argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return self._arg_extreme("argmin", dim, keepdim)

    def _arg_extreme(self, name, dim, keepdim):
        xp = _backend.get_array_module(self.data)
        find = getattr(xp, name)
        if dim is None:
            r = xp.asarray(find(self.data))          # the index into the flattened tensor
            # keepdim without dim keeps every dim, with size 1 (as PyTorch)
            return Tensor._wrap(r.reshape((1,) * self.data.ndim) if keepdim else r)
        dim = _dim(dim, self.data.ndim)
        if self.data.ndim == 0:                      # dim 0 or -1 of a 0-d tensor
            return Tensor._wrap(xp.zeros((), numpy.int64))
        r = find(self.data, axis=dim)
        return Tensor._wrap(xp.expand_dims(r, dim) if keepdim else r)

    def prod(self, dim=None, keepdim=False, dtype=None):
        """The product of all elements, or over the one axis ``dim``. Integer and bool
        tensors give int64, as PyTorch (NumPy's uint8 product would be uint64)."""
        if isinstance(dim, (tuple, list)):
            raise TypeError("prod(): argument 'dim' must be int, not %s" % type(dim).__name__)
        t = self if dtype is None else self.to(dtype)
        if dim is not None:
            dim = _dim(dim, t.data.ndim)
        out = _red.Prod.apply(t, dim, keepdim)
        if out.data.dtype.kind in "biu" and out.data.dtype != numpy.int64:
            out = Tensor._wrap(out.data.astype(numpy.int64))
        return out

    def cumsum(self, dim, dtype=None):
        """Running sums along ``dim``: y_i = x_0 + ... + x_i. Integer and bool tensors give
        int64, as PyTorch; ``dtype`` casts the input first."""
        dim = _dim(dim, self.data.ndim)
        t = self if dtype is None else self.to(dtype)
        if t.data.ndim == 0:
            return t.clone()                    # one element: its own running sum
        kind = t.data.dtype.kind
        return _red.Cumsum.apply(t, dim, numpy.int64 if kind in "biu" else None)

    def norm(self, p="fro", dim=None, keepdim=False):
        """The vector p-norm of all elements or over ``dim`` (an int or a tuple): p a number
        (``inf``, ``-inf``, 0 included) or 'fro' (the 2-norm). Floating-point tensors only,
        as PyTorch."""
        if self.data.dtype.kind not in "fc":
            raise RuntimeError("linalg.vector_norm: Expected a floating point or complex "
                               "tensor as input. Got %s" % _torch_name(self.data.dtype))
        if p == "fro" or p is None:
            p = 2.0
        elif isinstance(p, str):
            raise NotImplementedError("norm(p=%r) is not supported by npconv: p must be a "
                                      "number or 'fro'" % p)
        dim = None if dim is None else _dim_tuple(_dims(dim), self.data.ndim)
        return _red.Norm.apply(self, float(p), dim, keepdim)

    def sort(self, dim=-1, descending=False, stable=False):
        """The named tuple ``(values, indices)`` along ``dim``; always stable here (equal
        elements keep their order; ``stable`` is accepted for PyTorch's signature). NaN
        counts as the largest value."""
        dim = _dim(dim, self.data.ndim)
        if self.data.ndim == 0:
            v, i = _red.Sort.apply(self.reshape(1), 0, bool(descending))
            return SortResult(v.reshape(()), i.reshape(()))
        return SortResult(*_red.Sort.apply(self, dim, bool(descending)))

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort along ``dim`` (``sort(...).indices``)."""
        return self.detach().sort(dim, descending).indices

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The named tuple ``(values, indices)`` of the ``k`` largest (``largest=False``:
        smallest) along ``dim``, in order (``sorted`` is accepted; they are always sorted)."""
        k = operator.index(k)
        dim = _dim(dim, self.data.ndim)
        n = self.data.shape[dim] if self.data.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError("selected index k out of range")
        if self.data.ndim == 0:
            v, i = self.reshape(1).topk(k, 0, largest)
            return TopKResult(v.reshape(()), i.reshape(())) if k else TopKResult(v, i)
        return TopKResult(*_red.Sort.apply(self, dim, bool(largest), k))

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape):
        # a new view even for the same shape, as PyTorch: returning self would make the
        # result the input itself (y.requires_grad_(False) would change x)
        shape = _new_shape(shape)
        try:
            return _sh.Reshape.apply(self, shape)
        except Exception:
            msg = _se.reshape_error(shape, self.data.size)
            if msg is None:
                raise
            raise RuntimeError(msg) from None

    def view(self, *shape):
        """Like reshape, but only when no copy is needed (as PyTorch's view)."""
        shape = _new_shape(shape)
        try:
            v = self.data.reshape(shape)
        except Exception:
            msg = _se.reshape_error(shape, self.data.size)
            if msg is None:
                raise
            raise RuntimeError(msg) from None
        if v.size and not _shares_memory(v, self.data):
            raise RuntimeError("view size is not compatible with input tensor's size and "
                               "stride (at least one dimension spans across two contiguous "
                               "subspaces). Use .reshape(...) instead.")
        return _sh.Reshape.apply(self, shape)

    def contiguous(self):
        """This tensor when its data is C-contiguous, else a contiguous copy
        (differentiable)."""
        if self.data.flags.c_contiguous:
            return self
        return _sh.Contiguous.apply(self)

    def is_contiguous(self):
        return bool(self.data.flags.c_contiguous)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims ``start_dim`` .. ``end_dim`` into one; a 0-d tensor becomes shape (1,).
        Dims are checked as PyTorch's (a 0-d tensor counts as 1-d)."""
        n = max(self.ndim, 1)
        s, e = (_red._axes((d,), n)[0] for d in (start_dim, end_dim))   # IndexError if out
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after "
                               "end_dim (got start_dim=%d, end_dim=%d for a %d-d tensor)"
                               % (start_dim, end_dim, self.ndim))
        if self.ndim == 0:
            return self.reshape(1)
        if s == e:
            return self
        size = 1
        for d in self.shape[s:e + 1]:
            size *= d        # explicit, not -1: NumPy cannot infer -1 next to a 0-size dim
        return self.reshape(self.shape[:s] + (size,) + self.shape[e + 1:])

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            dims = _dim_tuple(dim, self.ndim)
            shape = tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        dim = _dim(dim, self.ndim, 1)       # the new axis may also go last: [-ndim-1, ndim]
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
        if len(dims) != self.ndim:
            raise RuntimeError("permute(): number of dimensions in the tensor input does not "
                               "match the length of the desired ordering of dimensions i.e. "
                               "input.dim() = %d is not equal to len(dims) = %d"
                               % (self.ndim, len(dims)))
        axes = tuple(_dim(d, self.ndim) for d in dims)
        if len(set(axes)) != len(axes):
            raise RuntimeError("permute(): duplicate dims are not allowed (got %s)" % list(dims))
        return _sh.Permute.apply(self, axes)

    def flip(self, *dims):
        """A copy with the order of the elements reversed along ``dims`` (PyTorch's
        ``flip``; ``t[::-1]`` raises, as in PyTorch)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
        axes = _dim_tuple(tuple(dims), self.ndim)      # range and duplicate checks
        # a 0-d tensor takes dim 0 / -1 as PyTorch, with nothing to reverse
        return _sh.Flip.apply(self, axes if self.ndim else ())

    def transpose(self, dim0, dim1):
        d0, d1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        dims = list(range(self.ndim))
        if dims:                            # a 0-d tensor takes dims 0 and -1 and stays
            dims[d0], dims[d1] = dims[d1], dims[d0]
        return _sh.Permute.apply(self, tuple(dims))

    def expand(self, *sizes):
        sizes = _shape_args(sizes)
        lead = len(sizes) - self.ndim
        # -1 keeps a size; in a new leading dimension it stays, and the backend refuses it
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                      for i, s in enumerate(sizes))
        try:
            return _sh.Expand.apply(self, shape)
        except Exception:
            msg = _se.expand_error(self.shape, sizes, self.data.dtype, self.device.type)
            if msg is None:
                raise
            raise RuntimeError(msg) from None

    def t(self):
        """The transpose of a matrix; a 0-d or 1-d tensor as it is (a view)."""
        if self.data.ndim > 2:
            raise RuntimeError("t() expects a tensor with <= 2 dimensions, but self is %dD"
                               % self.data.ndim)
        return _sh.Permute.apply(self, tuple(reversed(range(self.data.ndim))))

    @property
    def mT(self):
        """The last two axes swapped: a batch of matrices transposed."""
        if self.data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of "
                               "matrices. Got %d-D tensor." % self.data.ndim)
        return self.transpose(-2, -1)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def split(self, split_size_or_sections, dim=0):
        """A tuple of views along ``dim``: pieces of ``split_size`` (the last one smaller),
        or of the sizes listed, which must add up to the size of ``dim``."""
        if self.data.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        dim = _dim(dim, self.data.ndim)
        n = self.data.shape[dim]
        if isinstance(split_size_or_sections, (tuple, list)):
            sizes = [operator.index(s) for s in split_size_or_sections]
            if any(s < 0 for s in sizes) or sum(sizes) != n:
                if any(s < 0 for s in sizes):
                    raise RuntimeError("split_with_sizes expects split_sizes have only "
                                       "non-negative entries, but got split_sizes=%s" % sizes)
                raise RuntimeError("split_with_sizes expects split_sizes to sum exactly to %d "
                                   "(input tensor's size at dimension %d), but got "
                                   "split_sizes=%s" % (n, dim, sizes))
        else:
            size = operator.index(split_size_or_sections)
            if size < 0:
                raise RuntimeError("split expects split_size be non-negative, but got "
                                   "split_size=%d" % size)
            if size == 0 and n:
                raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                                   "dimension size of %d" % n)
            sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
        pieces = []
        start = 0
        lead = (slice(None),) * dim
        for s in sizes:
            pieces.append(_ix.Slice.apply(self, lead + (slice(start, start + s),)))
            start += s
        return tuple(pieces)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` views along ``dim``, each of ceil(size / chunks) elements (the
        last one smaller; fewer pieces when they run out first, as PyTorch)."""
        chunks = operator.index(chunks)
        if chunks <= 0:
            raise RuntimeError("chunk expects `chunks` to be greater than 0, got: %d" % chunks)
        if self.data.ndim == 0:
            raise RuntimeError("chunk expects at least a 1-dimensional tensor")
        n = self.data.shape[_dim(dim, self.data.ndim)]
        if n == 0:
            return self.split([0] * chunks, dim)
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        """The slices along ``dim``, as a tuple of views with that axis removed."""
        if self.data.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        dim = _dim(dim, self.data.ndim)
        lead = (slice(None),) * dim
        return tuple(_ix.Slice.apply(self, lead + (i,)) for i in range(self.data.shape[dim]))

    def repeat(self, *sizes):
        """This tensor tiled ``sizes[i]`` times along axis i (new leading axes when more
        sizes than dims are given): a copy, as PyTorch's repeat (NumPy's ``tile``)."""
        sizes = _shape_args(sizes)
        if len(sizes) < self.data.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        if any(s < 0 for s in sizes):
            raise RuntimeError("Trying to create tensor with negative dimension %d: %s"
                               % (min(sizes), list(sizes)))
        return _sh.Repeat.apply(self, sizes)

    def gather(self, dim, index):
        """y[..., i, ...] = x[..., index[..., i, ...], ...] along ``dim``: y has the shape of
        ``index`` (int64, the same number of dims, no larger than this tensor off ``dim``).
        Duplicate indices add their gradients."""
        dim = _dim(dim, self.data.ndim)
        index = _index_tensor(index, "gather", self)
        if index.data.dtype != numpy.int64:
            raise RuntimeError("gather(): Expected dtype int64 for index")
        if index.data.ndim != self.data.ndim and (index.data.ndim or self.data.ndim > 1) \
                and (self.data.ndim or index.data.ndim > 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as input "
                               "tensor")
        if self.data.ndim == 0 or index.data.ndim == 0:
            # PyTorch treats 0-d and 1-element 1-d alike here
            out = self.reshape(-1).gather(0, index.reshape(-1))
            return out.reshape(index.shape)
        for d in range(self.data.ndim):
            if d != dim and index.data.shape[d] > self.data.shape[d]:
                raise RuntimeError("Size does not match at dimension %d expected index %s to "
                                   "be no larger than self %s apart from dimension %d"
                                   % (d, list(index.shape), list(self.shape), dim))
        n = self.data.shape[dim]
        _check_index_range(index.data, n, lambda v: RuntimeError(
            "index %d is out of bounds for dimension %d with size %d" % (v, dim, n)))
        try:
            return _ix.Gather.apply(self, dim, index)
        except Exception:
            _backend.check_same_device((self, index), "gather")
            raise

    def index_select(self, dim, index):
        """The entries ``index`` (a 1-D int64 or int32 tensor) of axis ``dim``, in that
        order, repeats allowed (a copy; their gradients add up)."""
        dim = _dim(dim, self.data.ndim)
        index = _index_tensor(index, "index_select", self)
        if index.data.dtype not in (numpy.int64, numpy.int32):
            raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
        if index.data.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        if self.data.ndim == 0:
            if index.data.size != 1:
                raise RuntimeError("index_select(): Index to scalar can have only 1 value, "
                                   "got %d value(s)" % index.data.size)
            return self.reshape(1).index_select(0, index.reshape(1)).reshape(())
        idx = index.data.reshape(-1)
        _check_index_range(idx, self.data.shape[dim],
                           lambda v: IndexError("index out of range in self"))
        return _ix.IndexSelect.apply(self, dim, Tensor._wrap(idx))

    def __getitem__(self, index):
        index = _index_arg(index)
        try:
            if _ix._is_basic(index):
                return _ix.Slice.apply(self, index)      # a view: shares the version counter
            if self.data.__class__ is not numpy.ndarray:
                _ix.check_bounds(self.data.shape, index)    # CuPy would wrap around
            return _ix.GetItem.apply(self, index)
        except IndexError as e:
            raise _ix.pytorch_index_error(e) from None

    def __setitem__(self, index, value):
        """``t[index] = value`` in place (not recorded: under no_grad, or for tensors that
        do not require grad)."""
        index = _index_arg(index)
        if self.data.__class__ is not numpy.ndarray and not _ix._is_basic(index):
            _ix.check_bounds(self.data.shape, index)    # CuPy would wrap around

        def assign(a, b):
            a[index] = b

        def shapes(target, val):
            # PyTorch's error (only once the assignment failed): the indexed shape
            try:
                target = self.data[index].shape
            except Exception:
                return None
            return _se.setitem_error(target, val, _ix._is_basic(index),
                                     getattr(value, "dtype", "float32"), self.device.type)
        try:
            return self._inplace(assign, value, shapes)
        except IndexError as e:
            raise _ix.pytorch_index_error(e) from None

    # ---------------------------------------------------------------- types
    def astype(self, dtype):
        return self.to(dtype=dtype)

    def float(self):
        return self.to(dtype=numpy.float32)

    def double(self):
        return self.to(dtype=numpy.float64)

    def long(self):
        return self.to(dtype=numpy.int64)

    def int(self):
        return self.to(dtype=numpy.int32)

    def bool(self):
        return self.to(dtype=numpy.bool_)

    def type_as(self, other):
        """This tensor in ``other``'s dtype."""
        return self.to(dtype=other.data.dtype)

    # ``new_*``: made with this tensor's dtype and device unless told otherwise
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from .factory import zeros
        return zeros(*size, dtype=self.data.dtype if dtype is None else dtype,
                     device=self.device if device is None else device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from .factory import ones
        return ones(*size, dtype=self.data.dtype if dtype is None else dtype,
                    device=self.device if device is None else device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from .factory import empty
        return empty(*size, dtype=self.data.dtype if dtype is None else dtype,
                     device=self.device if device is None else device,
                     requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .factory import full
        return full(size, fill_value, dtype=self.data.dtype if dtype is None else dtype,
                    device=self.device if device is None else device,
                    requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new leaf holding a copy of ``data``, in this tensor's dtype (not the dtype
        ``data`` would infer: ``int_t.new_tensor([1.5])`` is int64, as PyTorch)."""
        return tensor(data, dtype=self.data.dtype if dtype is None else dtype,
                      device=self.device if device is None else device,
                      requires_grad=requires_grad)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True when |self - other| <= atol + rtol |other| everywhere (broadcast; one
        dtype, as PyTorch). A Python bool: reads the answer back from a GPU."""
        if not isinstance(other, Tensor):
            other = Tensor(other)
        if other.data.dtype != self.data.dtype:
            raise RuntimeError("%s did not match %s" % (_torch_name(self.data.dtype),
                                                        _torch_name(other.data.dtype)))
        msg = _se.broadcast_error(self.shape, other.shape)
        if msg is not None:
            raise RuntimeError(msg)
        _backend.check_same_device((self, other), "allclose")
        xp = _backend.get_array_module(self.data)
        return bool(xp.allclose(self.data, other.data, rtol=rtol, atol=atol,
                                equal_nan=equal_nan))

    def equal(self, other):
        """True when ``other`` has this shape (no broadcasting) and the same values, compared
        in the promoted dtype (NaN is never equal). A Python bool. (PyTorch 2.13 finds
        float32 0.1 equal to float64 0.1; here the float64 comparison tells them apart.)"""
        if not isinstance(other, Tensor):
            raise TypeError("equal(): argument 'other' must be Tensor, not %s"
                            % type(other).__name__)
        _backend.check_same_device((self, other), "equal")
        if self.shape != other.shape:
            return False
        a, b = _coerce(self, other)
        return bool((a.data == b.data).all())

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def clone(self):
        """A copy with its own memory; differentiable (the gradient passes through)."""
        return Clone.apply(self)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` (its
        device and dtype): a converted tensor, the same one when nothing changes (unless
        ``copy=True``). A device may be a string, a ``Device`` or a GPU index. Casting is
        differentiable. ``non_blocking`` is accepted for PyTorch's signature (copies here are
        synchronous)."""
        flags = []
        for a in args:
            if isinstance(a, bool):
                flags.append(a)             # positional non_blocking, then copy (PyTorch's order)
            elif isinstance(a, Tensor):
                if dtype is not None or device is not None:
                    raise TypeError("to() takes another tensor or a device/dtype, not both")
                device, dtype = a.device, a.data.dtype
            elif isinstance(a, (str, _backend.Device)) or _backend._is_index(a):
                device = a
            else:
                dtype = a
        if len(flags) > 2:
            raise TypeError("to() takes at most two flags (non_blocking, copy), got %d"
                            % len(flags))
        if len(flags) == 2:
            copy = flags[1]
        device = None if device is None else _backend.as_device(device)
        out = self
        if device is not None:
            out = _backend.move(out, device)
        if dtype is not None and numpy.dtype(dtype) != out.data.dtype:
            out = _Cast.apply(out, numpy.dtype(dtype))
        if copy and out is self:
            out = self.clone()
        return out

    # ---------------------------------------------------------------- in place
    def _inplace(self, op, other=None, shapes=None):
        """Mutate ``self.data`` in place with ``op(self_data, other_data)`` (an ``out=``
        ufunc call). Not recorded by autograd: allowed when no gradient is being recorded
        for this tensor; the version counter lets a pending backward detect the change.
        ``shapes(self_shape, other_shape)`` gives PyTorch's error when ``op`` fails (a rule
        of ``npconv.ops.shape``); a 0-d CPU ``other`` of a device tensor is moved there."""
        if _grad_mode.is_grad_enabled() and (
                self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            if self.grad_fn is None and self.requires_grad:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            raise RuntimeError("in-place operations on tensors that are part of a recorded "
                               "graph are not supported by npconv; use the out-of-place op "
                               "(x = x + y) or wrap the update in npconv.no_grad()")
        _check_no_internal_overlap(self.data)
        o = other.data if isinstance(other, Tensor) else other
        if isinstance(o, numpy.generic):
            o = o.item()
        try:
            op(self.data, o)
        except Exception:
            moved = _failed((self, other), "in-place op", shapes, inplace=True)
            return self._inplace(op, moved[1], shapes)
        self._version[0] += 1
        return self

    def add_(self, other, alpha=1):
        if alpha != 1:      # (a Tensor stays one: the device check on failure needs it)
            other = Tensor._wrap(other.data * alpha) if isinstance(other, Tensor) else \
                other * alpha
        xp = _backend.get_array_module(self.data)
        return self._inplace(lambda a, b: xp.add(a, b, out=a, casting="same_kind"), other,
                             _se.inplace_error)

    def sub_(self, other, alpha=1):
        if alpha != 1:
            other = Tensor._wrap(other.data * alpha) if isinstance(other, Tensor) else \
                other * alpha
        xp = _backend.get_array_module(self.data)
        return self._inplace(lambda a, b: xp.subtract(a, b, out=a, casting="same_kind"), other,
                             _se.inplace_error)

    def mul_(self, other):
        xp = _backend.get_array_module(self.data)
        return self._inplace(lambda a, b: xp.multiply(a, b, out=a, casting="same_kind"), other,
                             _se.inplace_error)

    def div_(self, other):
        xp = _backend.get_array_module(self.data)
        return self._inplace(lambda a, b: xp.divide(a, b, out=a, casting="same_kind"), other,
                             _se.inplace_error)

    def clamp_(self, min=None, max=None):
        xp = _backend.get_array_module(self.data)
        return self._inplace(lambda a, b: xp.clip(a, min, max, out=a))

    def zero_(self):
        return self._inplace(lambda a, b: a.fill(0))

    def fill_(self, value):
        return self._inplace(lambda a, b: a.fill(b), value, _se.fill_error)

    def copy_(self, src):
        """Copy ``src``'s values into this tensor (broadcast to its shape, cast to its dtype
        whatever the kinds: floats into an int tensor truncate toward zero, anything nonzero
        into a bool one is True); from any device, as PyTorch's ``copy_``: a source
        elsewhere is moved here first."""
        xp = _backend.get_array_module(self.data)
        s = src.data if isinstance(src, Tensor) else _to_array(src)
        here = _backend.device_of(self.data)
        if _backend.device_of(s) != here:
            s = _backend.move_array(s, here)
        return self._inplace(lambda a, b: xp.copyto(a, b, casting="unsafe"), Tensor._wrap(s),
                             _se.inplace_error)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


_function._Tensor = Tensor


def _check_assigned_grad(t, g):
    """``t.grad = g``: refuse what PyTorch refuses (a non-Tensor, another shape, dtype or
    device), so an optimizer never updates a parameter with a gradient that does not fit."""
    if not isinstance(g, Tensor):
        raise TypeError("assigned grad expected to be a Tensor or None but got grad of type %s"
                        % type(g).__name__)
    if tuple(g.data.shape) != tuple(t.data.shape):
        raise RuntimeError("attempting to assign a gradient of size %s to a tensor of size %s. "
                           "Please ensure that the gradient and the tensor are the same size"
                           % (list(g.data.shape), list(t.data.shape)))
    if g.data.dtype != t.data.dtype:
        raise RuntimeError("attempting to assign a gradient with dtype %s to a tensor with "
                           "dtype %s. The gradient must have the tensor's dtype"
                           % (g.data.dtype, t.data.dtype))
    if type(g.data) is not type(t.data):
        src, dst = _backend.device_of(g.data), _backend.device_of(t.data)
        if src != dst:
            raise RuntimeError("attempting to assign a gradient located on device %s to a "
                               "tensor located on device %s. Please ensure that the gradient "
                               "and the tensor are on the same device" % (src, dst))


def _as_nd(a):
    return numpy.asarray(a) if isinstance(a, numpy.generic) else a


def _check_no_internal_overlap(a):
    """PyTorch's error for a write into a tensor whose elements share memory (an ``expand``
    view: a stride-0 axis longer than 1). NumPy refuses such writes by itself (its broadcast
    views are read-only) but CuPy has no read-only arrays: there the write would go through,
    racing on the shared elements. An empty tensor has no elements to share (NumPy gives
    every axis of an empty array stride 0), so it passes, as in PyTorch."""
    for n, st in zip(a.shape, a.strides):
        if st == 0 and n > 1 and a.size:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")


def _shares_memory(a, b):
    xp = _backend.get_array_module(a)
    fn = getattr(xp, "may_share_memory", None)
    if fn is None:
        return True
    return bool(fn(a, b))


def _format_array(arr):
    """The body of a PyTorch-like repr: floats with 4 decimals (``1.`` when all values are
    whole numbers, scientific when magnitudes differ widely), aligned, summarised past
    1000 elements."""
    kw = dict(separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
              max_line_width=80)
    if arr.dtype.kind != "f" or arr.size == 0:
        return numpy.array2string(arr, **kw)
    a = arr.astype(numpy.float64)
    finite = a[numpy.isfinite(a)]
    whole = bool((finite == numpy.round(finite)).all())     # True with no finite values
    if finite.size == 0:
        fmt = "%.4f"
    else:
        mag = numpy.abs(finite)
        big = float(mag.max())
        nz = mag[mag > 0]
        small = float(nz.min()) if nz.size else 0.0
        if whole:
            fmt = "%.4e" if big > 1e8 else "%.0f."
        elif big > 1e8 or (small > 0 and (big / small > 1000 or small < 1e-4)):
            fmt = "%.4e"
        else:
            fmt = "%.4f"
    # the column width, as PyTorch's: from the finite values, and from nan/inf as well
    # unless every finite value is whole (tensor([1., nan]), tensor(nan): no padding)
    cands = [fmt % v for v in (finite.max(), finite.min())] if finite.size else []
    if not whole:
        cands += [s for s, present in (("nan", numpy.isnan(a).any()),
                                       ("inf", numpy.isposinf(a).any()),
                                       ("-inf", numpy.isneginf(a).any())) if present]
    width = max((len(c) for c in cands), default=0)

    def one(v):
        if not numpy.isfinite(v):
            return ("nan" if numpy.isnan(v) else ("inf" if v > 0 else "-inf")).rjust(width)
        return (fmt % v).rjust(width)
    return numpy.array2string(a, formatter={"float_kind": one}, **kw)


class Clone(Function):
    """A copy of the data (``Tensor.clone``); the gradient passes through."""
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class _Cast(Function):
    """dtype conversion; the gradient is cast back to the input's dtype."""
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype), None


def _dim(dim, ndim, extra=0):
    """``dim`` as an axis in [0, n) for ``n = ndim + extra`` (``extra=1`` where a new axis
    is inserted: unsqueeze, stack); IndexError as PyTorch when out of range. A 0-d tensor
    takes 0 and -1. NumPy integers and 1-element integer tensors are accepted."""
    if dim.__class__ is not int:
        dim = operator.index(dim)
    n = max(ndim + extra, 1)
    if not -n <= dim < n:
        raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but "
                         "got %d)" % (-n, n - 1, dim))
    return dim % n


def _dim_tuple(dim, ndim):
    """``dim`` (None: all, an int or a sequence) as a tuple of axes, each checked by
    ``_dim``; a dim named twice raises, as PyTorch."""
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (tuple, list)):
        return (_dim(dim, ndim),)
    axes = tuple(_dim(d, ndim) for d in dim)
    if len(set(axes)) != len(axes):
        dup = next(a for a in axes if axes.count(a) > 1)
        raise RuntimeError("dim %d appears multiple times in the list of dims" % dup)
    return axes


def _dims(dim):
    """A reduction's ``dim`` with NumPy integers (and 1-element integer tensors) as Python
    ints, as PyTorch takes them; None and sequences pass as they are."""
    if dim is None or dim.__class__ is int or isinstance(dim, (tuple, list)):
        return dim
    return operator.index(dim)


def _floating(t):
    """``t`` itself when it is floating, else converted to float32 (PyTorch's default
    dtype: exp of an int tensor is float32, where NumPy would give float64)."""
    if t.data.dtype.kind in "fc":
        return t
    return Tensor._wrap(t.data.astype(_DEFAULT_FLOAT))


_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _torch_name(dtype):
    """PyTorch's name of a dtype in its messages (Float, Double, Long...)."""
    name = numpy.dtype(dtype).name
    return _TORCH_NAMES.get(name, name)


def _rounded(t, fn, **kwargs):
    """floor/ceil/trunc/round: an integer or bool tensor is already whole (a copy, its
    dtype kept, as PyTorch); a float one goes through ``fn`` (zero gradient)."""
    if t.data.dtype.kind in "biu":
        return Tensor._wrap(t.data.copy())
    return fn.apply(t, **kwargs)


def _index_tensor(index, fn, like):
    """The ``index`` argument of gather/index_select on ``like`` as a Tensor (lists and
    arrays are accepted, and made on ``like``'s device); a float one is refused by the
    callers' dtype checks."""
    if isinstance(index, Tensor):
        return index
    if isinstance(index, (list, tuple, numbers.Integral)) or hasattr(index, "dtype"):
        t = Tensor(index)
        if like.data.__class__ is not numpy.ndarray:
            t = t.to(like.device)
        return t
    raise TypeError("%s(): argument 'index' must be Tensor, not %s"
                    % (fn, type(index).__name__))


def _check_index_range(idx, n, error):
    """Raise ``error(first bad value)`` when an entry of ``idx`` is outside [0, n) (negative
    indices are refused, as PyTorch's gather and index_select). NumPy would wrap negatives
    and CuPy every index, silently; on a GPU the check reads one flag back (a sync)."""
    if not idx.size:
        return
    bad = (idx < 0) | (idx >= n)
    if bool(bad.any()):
        flat = idx.reshape(-1)
        raise error(int(flat[int(bad.reshape(-1).argmax())]))


def _matmul_operand(t, o, right):
    """The other operand of ``t @ o`` (``right``) or of ``o @ t``, refusing mixed dtypes as
    PyTorch does (NumPy would silently promote float32 @ float64 to float64)."""
    o = _operand(o)
    if not isinstance(o, Tensor):       # a number: matmul has no scalar form
        names = ("Tensor", type(o).__name__)
        raise TypeError("unsupported operand type(s) for @: '%s' and '%s'"
                        % (names if right else names[::-1]))
    if o.data.dtype != t.data.dtype:
        a, b = (t, o) if right else (o, t)
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: %s != %s"
                           % (a.data.dtype, b.data.dtype))
    return o


def _shape_args(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _new_shape(shape):
    """The shape argument of reshape/view: NumPy infers any negative size as if -1, PyTorch
    only -1."""
    shape = _shape_args(shape)
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError("invalid shape dimension %d at index %d of shape %s"
                               % (s, i, list(shape)))
    return shape


def _index_arg(index):
    """Turn Tensors and lists inside an index into raw arrays. A negative slice step
    raises, as in PyTorch (NumPy would give a reversed view)."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, slice):
        if index.step is not None and index.step < 0:
            raise ValueError("step must be greater than zero, but got %s" % (index.step,))
        return index
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return numpy.asarray(index)
    return index


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of ``data`` (Python number, list, NumPy/CuPy array
    or Tensor). Python floats become float32, ints int64 and bools bool (a list takes the
    dtype of its elements, as PyTorch infers it); arrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    arr = _to_array(data, dtype)
    if arr is data:
        arr = arr.copy()
    t = Tensor._wrap(arr)
    if device is not None:
        t = _backend.move(t, device)
    if requires_grad:
        t.requires_grad_(True)
    return t
