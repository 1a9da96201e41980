"""Array backends and devices: the one place that knows which array libraries exist.

Every kernel asks ``get_array_module(x)`` for ``xp`` (NumPy or CuPy, or a test stand-in)
and writes ``xp.<name>`` so that the same code runs on every backend.

Backends: ``'cpu'`` (NumPy) always; ``'cuda'`` (CuPy), registered lazily the first time a
CUDA device is asked for (``Device('cuda')`` data moves, ``npconv.cuda.is_available()``) or a
CuPy array is seen, and only when CuPy imports and finds a GPU. Importing npconv never
imports CuPy. Tests add a stand-in GPU (``npconv._standin``, device ``'standin'``).
"""

import numpy

__all__ = ["get_array_module", "register_backend", "unregister_backend", "backends",
           "backend_of", "Backend", "Device", "device_of", "move_array", "move",
           "check_same_device", "cuda_available", "cuda_device_count", "device_guard"]


class Backend:
    """One array library: ``name`` ('cpu', 'cuda', ...), its module ``xp`` and array type.

    ``from_host(ndarray, device_index)`` and ``to_host(array)`` are the only ways data crosses
    between the host and the backend's memory; ``device_of(array)`` is the index of the
    device holding ``array``; ``get_device()`` / ``set_device(index)`` read and set the
    backend's current device (where kernels run and new arrays are allocated, as CuPy's
    ``cupy.cuda.Device(i).use()``).
    """

    def __init__(self, name, xp, array_type, from_host, to_host, device_of=None,
                 device_count=1, get_device=None, set_device=None):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self.from_host = from_host
        self.to_host = to_host
        self.device_of = device_of or (lambda a: 0)
        self.device_count = device_count
        self.get_device = get_device or (lambda: 0)
        self.set_device = set_device or (lambda index: None)

    def __repr__(self):
        return "Backend(%r)" % self.name


_CPU = Backend("cpu", numpy, numpy.ndarray,
               from_host=lambda a, index=0: numpy.asarray(a),
               to_host=lambda a: a)

# name -> Backend; the CPU first. Other backends (CuPy, test stand-ins) are registered later.
_BACKENDS = {"cpu": _CPU}
# array type -> Backend, for the fast lookup in get_array_module.
_BY_TYPE = {numpy.ndarray: _CPU}
_ndarray = numpy.ndarray


# other types (Python and NumPy scalars, None, subclasses) -> the Backend they resolved to
_RESOLVED = {}


def register_backend(backend):
    """Make ``backend`` known to every op (used for CuPy and for test stand-ins)."""
    _BACKENDS[backend.name] = backend
    _BY_TYPE[backend.array_type] = backend
    _RESOLVED.clear()
    return backend


def unregister_backend(name):
    b = _BACKENDS.pop(name, None)
    if b is not None:
        _BY_TYPE.pop(b.array_type, None)
    _RESOLVED.clear()


def backends():
    """The registered backends, by name."""
    return dict(_BACKENDS)


# ------------------------------------------------------------------------------ CuPy, lazily
_cuda_state = {"checked": False, "backend": None, "reason": None}


def _load_cuda():
    """Register CuPy as backend 'cuda' when it imports and sees a GPU; once per process.
    Returns the Backend or None."""
    st = _cuda_state
    if st["checked"]:
        return st["backend"]
    st["checked"] = True
    try:
        import cupy
    except Exception as e:          # not installed, or a broken CUDA install
        st["reason"] = "CuPy is not importable (%s: %s)" % (type(e).__name__, e)
        return None
    try:
        n = cupy.cuda.runtime.getDeviceCount() if cupy.cuda.is_available() else 0
    except Exception as e:
        st["reason"] = "CuPy found no usable GPU (%s: %s)" % (type(e).__name__, e)
        return None
    if n < 1:
        st["reason"] = "CuPy is installed but finds no CUDA GPU"
        return None

    def from_host(a, index=0):
        with cupy.cuda.Device(index):
            return cupy.asarray(a)

    st["backend"] = register_backend(Backend(
        "cuda", cupy, cupy.ndarray, from_host=from_host, to_host=cupy.asnumpy,
        device_of=lambda a: a.device.id, device_count=n,
        get_device=lambda: cupy.cuda.Device().id,
        set_device=lambda index: cupy.cuda.Device(index).use()))
    return st["backend"]


def cuda_available():
    """True when CuPy imports and a CUDA GPU is present (imports CuPy on first call)."""
    return _load_cuda() is not None


def cuda_device_count():
    b = _load_cuda()
    return 0 if b is None else b.device_count


# ------------------------------------------------------------------------------ lookups
_tensor_type = []


def _Tensor():
    if not _tensor_type:
        from .tensor import Tensor
        _tensor_type.append(Tensor)
    return _tensor_type[0]


def backend_of(array):
    """The Backend an array belongs to (NumPy scalars and Python numbers count as CPU)."""
    t = type(array)
    b = _BY_TYPE.get(t) or _RESOLVED.get(t)
    if b is not None:
        return b
    if t.__module__.startswith("cupy") and not _cuda_state["checked"]:
        _load_cuda()
        b = _BY_TYPE.get(t)
        if b is not None:
            return b
    b = _CPU
    for at, ab in list(_BY_TYPE.items()):
        if isinstance(array, at):
            b = ab
            break
    if t is not _Tensor():
        _RESOLVED[t] = b
    return b


def get_array_module(*arrays):
    """The array module (``numpy``, ``cupy``, ...) of the first array (or Tensor) in
    ``arrays`` that is not a host array; ``numpy`` when all are host arrays or scalars."""
    for a in arrays:
        t = type(a)
        if t is _ndarray:
            continue
        b = _BY_TYPE.get(t) or _RESOLVED.get(t)
        if b is None:
            if isinstance(a, _Tensor()):
                a = a.data
                b = _BY_TYPE.get(type(a))
            if b is None:
                b = backend_of(a)
        if b is not _CPU:
            return b.xp
    return numpy


def _is_index(a):
    """Whether ``a`` is a GPU index (a Python or NumPy integer, not a bool)."""
    return isinstance(a, (int, numpy.integer)) and not isinstance(a, (bool, numpy.bool_))


def as_device(device):
    """A device argument as PyTorch takes it: a string, a ``Device`` or a GPU index."""
    return cuda_device(device) if _is_index(device) else device


def cuda_device(device=None):
    """The device of ``.cuda(device)``: None (the current GPU), an index, ``'cuda:1'`` or a
    ``Device``, as PyTorch's ``Tensor.cuda`` takes them."""
    if device is None:
        return Device("cuda")
    if _is_index(device):
        return Device("cuda", int(device))
    d = Device(device)
    if d.type != "cuda":
        raise ValueError("Invalid device, must be cuda device (got %s)" % d)
    return d


class Device:
    """Where a tensor's data lives: ``Device('cpu')``, ``Device('cuda')``, ``Device('cuda:1')``
    or ``Device('cuda', 1)`` (``npconv.device``). ``Device('cuda') == Device('cuda:0')``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        type = str(type)
        if ":" in type:
            if index is not None:
                raise ValueError("Device type %r must not include an index because index was "
                                 "passed explicitly (%r)" % (type, index))
            type, _, idx = type.partition(":")
            try:
                index = int(idx)
            except ValueError:
                raise ValueError("Invalid device string: %r" % (type + ":" + idx)) from None
        if type not in _BACKENDS and type != "cuda":
            raise ValueError("Expected one of %s device type at start of device string: %r"
                             % (", ".join(sorted(set(_BACKENDS) | {"cuda"})), type))
        if index is not None:
            index = int(index)
            if index < 0:
                raise ValueError("Device index must not be negative: %d" % index)
        if type == "cpu":
            index = None
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        return (isinstance(other, Device) and self.type == other.type
                and (self.index or 0) == (other.index or 0))

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else "%s:%d" % (self.type, self.index)

    def __repr__(self):
        if self.index is None:
            return "device(type=%r)" % self.type
        return "device(type=%r, index=%d)" % (self.type, self.index)


_CPU_DEVICE = Device("cpu")


def device_of(array):
    """The Device holding ``array`` (a raw array, or a Tensor's data)."""
    if type(array) is _ndarray:
        return _CPU_DEVICE
    b = backend_of(array)
    if b is _CPU:
        return _CPU_DEVICE
    return Device(b.name, b.device_of(array))


def _backend_for(device):
    b = _BACKENDS.get(device.type)
    if b is None and device.type == "cuda":
        b = _load_cuda()
    if b is None:
        why = _cuda_state["reason"] if device.type == "cuda" else None
        raise RuntimeError("device %r is not available: %s (for CUDA: pip install "
                           "'npconv[cuda]' on a machine with an NVIDIA GPU)"
                           % (str(device), why or "no backend for %r is installed"
                              % device.type))
    if (device.index or 0) >= b.device_count:
        raise RuntimeError("device %r is not available: %s has %d device(s)"
                           % (str(device), device.type, b.device_count))
    return b


def move_array(array, device):
    """``array`` on ``device`` (the same object when it is already there).

    Moving data to a GPU makes that GPU the backend's current device (npconv's kernels run,
    and allocate, on the current device): ``.to('cuda:1')`` is all a single-GPU program on
    GPU 1 needs. To drive two GPUs at once, wrap each one's work in ``device_guard``."""
    device = Device(device)
    src = backend_of(array)
    dst = _backend_for(device)
    index = device.index or 0
    if src is dst and (src is _CPU or src.device_of(array) == index):
        return array
    host = src.to_host(array)
    out = dst.from_host(host, index)
    if dst is not _CPU and dst.get_device() != index:
        dst.set_device(index)
    return out


def create(device, make):
    """``make(xp)`` run with ``device``'s array module and, for a GPU, with that GPU current,
    so the array is made on the device directly (no host array, no copy). ``device`` None
    means the CPU. As ``move_array``, it leaves that device current."""
    if device is None:
        return make(numpy)
    device = Device(device)
    if device.type == "cpu":
        return make(numpy)
    b = _backend_for(device)
    index = device.index or 0
    if b.get_device() != index:
        b.set_device(index)
    return make(b.xp)


def current_device_index(xp):
    """The index of the current device of the backend whose array module is ``xp`` (0 for
    NumPy and unknown modules)."""
    if xp is numpy:
        return 0
    for b in _BACKENDS.values():
        if b.xp is xp:
            return b.get_device()
    return 0


class device_guard:
    """``with device_guard('cuda:1'):`` runs the block with cuda:1 as the current device of
    its backend (restored afterwards); a no-op for the CPU. ``npconv.cuda.device`` is this
    for CUDA."""

    def __init__(self, device):
        self.device = Device(device)
        self._prev = []

    def __enter__(self):
        b = _backend_for(self.device) if self.device.type != "cpu" else _CPU
        self._prev.append((b, b.get_device()))
        if b is not _CPU:
            b.set_device(self.device.index or 0)
        return self

    def __exit__(self, *exc):
        b, prev = self._prev.pop()
        if b is not _CPU:
            b.set_device(prev)


def move(tensor, device):
    """A tensor on ``device``; differentiable (the gradient moves back)."""
    device = Device(device)
    if device_of(tensor.data) == device:
        return tensor
    return _To.apply(tensor, device)


def _to_function():
    from .autograd.function import Function

    class To(Function):
        """Copy to another device; the gradient is copied back to the source device."""

        @staticmethod
        def forward(ctx, x, device):
            ctx.src = device_of(x)
            return move_array(x, device)

        @staticmethod
        def backward(ctx, g):
            return move_array(g, ctx.src), None

    To.__name__ = To.__qualname__ = "To"
    return To


class _LazyTo:
    fn = None

    def apply(self, *args):
        if _LazyTo.fn is None:
            _LazyTo.fn = _to_function()
        return _LazyTo.fn.apply(*args)


_To = _LazyTo()


def check_same_device(args, fn_name):
    """Raise a clear error when the Tensors in ``args`` live on different devices (raw
    device arrays count too; raw host arrays do not: they are indices and masks, which
    CuPy copies to the device itself). ``Function.apply`` calls this when an op's forward
    fails, so the success path costs nothing."""
    Tensor = _Tensor()
    first = None
    for a in args:
        if isinstance(a, Tensor):
            a = a.data
            if isinstance(a, numpy.generic):
                a = numpy.asarray(a)
        elif (isinstance(a, (_ndarray, numpy.generic)) or not hasattr(a, "dtype")
              or not hasattr(a, "shape")):
            continue
        d = device_of(a)
        if first is None:
            first = d
        elif d != first:
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               "least two devices, %s and %s! (in %s; move one with .to())"
                               % (first, d, fn_name))


# ``npconv.cuda`` (is_available, device_count, ...) rides on this module's import so that
# ``import npconv`` exposes it; it imports nothing of CuPy by itself.
from . import cuda as _cuda  # noqa: E402,F401
