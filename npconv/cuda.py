"""``npconv.cuda``: is a CUDA GPU usable (through CuPy), how many, and its random seed.

Nothing here imports CuPy until asked: ``is_available()`` imports it on first call (and
says False when CuPy is missing or finds no GPU). Install with ``pip install 'npconv[cuda]'``.
"""
from . import backend as _backend
from . import random as _random

__all__ = ["is_available", "device_count", "current_device", "set_device", "device",
           "manual_seed", "manual_seed_all", "synchronize"]


def is_available():
    """True when CuPy imports and sees at least one CUDA GPU."""
    return _backend.cuda_available()


def device_count():
    """The number of CUDA GPUs CuPy sees (0 without CuPy or a GPU)."""
    return _backend.cuda_device_count()


def current_device():
    """The index of the current CUDA device (where npconv's kernels run and allocate;
    moving data to ``cuda:i`` makes ``i`` current)."""
    return _cuda_backend().get_device()


def set_device(device):
    """Make ``device`` (an index, ``'cuda:1'`` or ``npconv.device``) the current CUDA device."""
    _cuda_backend().set_device(_index(device))


class device(_backend.device_guard):
    """``with npconv.cuda.device(1):`` runs the block on GPU 1 (for programs that drive
    several GPUs at once)."""

    def __init__(self, device):
        super().__init__(_backend.Device("cuda", _index(device)))


def _index(device):
    if isinstance(device, int):
        return device
    d = _backend.Device(device)
    if d.type != "cuda":
        raise ValueError("expected a CUDA device, got %r" % str(d))
    return d.index or 0


def _cuda_backend():
    if not is_available():
        raise RuntimeError("CUDA is not available: %s"
                           % (_backend._cuda_state["reason"] or "no GPU"))
    return _backend._backend_for(_backend.Device("cuda"))


def manual_seed(seed):
    """Seed the GPU random streams. npconv keeps one seed for every device, so this is
    ``npconv.manual_seed(seed)`` (device generators restart from it on next use)."""
    return _random.manual_seed(seed)


manual_seed_all = manual_seed


def synchronize(device=None):
    """Wait for the GPU's queued work to finish (a no-op without CUDA)."""
    if not is_available():
        return
    import cupy
    if device is None:
        cupy.cuda.Device().synchronize()
    else:
        cupy.cuda.Device(_backend.Device(device).index or 0).synchronize()
