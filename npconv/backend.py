"""Array backends and devices: the one place that knows which array libraries exist.

Every kernel asks ``get_array_module(x)`` for ``xp`` (NumPy or CuPy, or a test stand-in)
and writes ``xp.<name>`` so that the same code runs on every backend.
"""
import numpy

__all__ = ["get_array_module", "register_backend", "backends", "Backend"]


class Backend:
    """One array library: ``name`` ('cpu', 'cuda', ...), its module ``xp`` and array type.

    ``from_host(ndarray, device_index)`` and ``to_host(array)`` are the only ways data crosses
    between the host and the backend's memory.
    """

    def __init__(self, name, xp, array_type, from_host, to_host, device_of=None):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self.from_host = from_host
        self.to_host = to_host
        self.device_of = device_of or (lambda a: 0)

    def __repr__(self):
        return "Backend(%r)" % self.name


_CPU = Backend("cpu", numpy, numpy.ndarray,
               from_host=lambda a, index=0: numpy.asarray(a),
               to_host=lambda a: a)

# name -> Backend; the CPU first. Other backends (CuPy, test stand-ins) are registered later.
_BACKENDS = {"cpu": _CPU}
# array type -> Backend, for the fast lookup in get_array_module.
_BY_TYPE = {numpy.ndarray: _CPU}


def register_backend(backend):
    """Make ``backend`` known to every op (used for CuPy and for test stand-ins)."""
    _BACKENDS[backend.name] = backend
    _BY_TYPE[backend.array_type] = backend
    return backend


def unregister_backend(name):
    b = _BACKENDS.pop(name, None)
    if b is not None:
        _BY_TYPE.pop(b.array_type, None)


def backends():
    """The registered backends, by name."""
    return dict(_BACKENDS)


def backend_of(array):
    """The Backend an array belongs to (NumPy scalars and Python numbers count as CPU)."""
    b = _BY_TYPE.get(type(array))
    if b is not None:
        return b
    for t, b in _BY_TYPE.items():
        if isinstance(array, t):
            return b
    return _CPU


def get_array_module(*arrays):
    """The array module (``numpy``, ``cupy``, ...) of the first array in ``arrays`` that
    is not a host array; ``numpy`` when all are host arrays or scalars."""
    for a in arrays:
        a = getattr(a, "data", a) if not isinstance(a, numpy.ndarray) else a
        b = _BY_TYPE.get(type(a))
        if b is None:
            b = backend_of(a)
        if b is not _CPU:
            return b.xp
    return numpy


class Device:
    """Where a tensor's data lives: ``Device('cpu')``, ``Device('cuda')``, ``Device('cuda:1')``
    or ``Device('cuda', 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        type = str(type)
        if ":" in type:
            type, _, idx = type.partition(":")
            try:
                index = int(idx)
            except ValueError:
                raise ValueError("Invalid device string: %r" % (type + ":" + idx)) from None
        if type not in _BACKENDS and type != "cuda":
            raise ValueError("Expected one of %s device type at start of device string: %r"
                             % (", ".join(sorted(set(_BACKENDS) | {"cuda"})), type))
        if type == "cpu":
            index = None
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
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


def device_of(array):
    """The Device holding ``array``."""
    b = backend_of(array)
    if b is _CPU:
        return Device("cpu")
    return Device(b.name, b.device_of(array))


def _backend_for(device):
    b = _BACKENDS.get(device.type)
    if b is None:
        raise RuntimeError("device %r is not available: no backend for %r is installed "
                           "(for CUDA: pip install npconv[cuda] on a machine with an NVIDIA GPU)"
                           % (str(device), device.type))
    return b


def move_array(array, device):
    """``array`` on ``device`` (the same object when it is already there)."""
    device = Device(device)
    src = backend_of(array)
    dst = _backend_for(device)
    if src is dst and (src is _CPU or src.device_of(array) == (device.index or 0)):
        return array
    host = src.to_host(array)
    return dst.from_host(host, device.index or 0)


def move(tensor, device):
    """A tensor on ``device``; differentiable (the gradient moves back)."""
    from .autograd.function import Function

    class _To(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.src = device_of(x)
            return move_array(x, device)

        @staticmethod
        def backward(ctx, g):
            return move_array(g, ctx.src)

    if device_of(tensor.data) == Device(device):
        return tensor
    return _To.apply(tensor)
