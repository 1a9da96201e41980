"""``npconv.cuda``: is a CUDA GPU usable (through CuPy), how many, and its random seed.

Nothing here imports CuPy until asked: ``is_available()`` imports it on first call (and
says False when CuPy is missing or finds no GPU). Install with ``pip install 'npconv[cuda]'``.
"""
from . import backend as _backend
from . import random as _random

__all__ = ["is_available", "device_count", "current_device", "manual_seed",
           "manual_seed_all", "synchronize"]


def is_available():
    """True when CuPy imports and sees at least one CUDA GPU."""
    return _backend.cuda_available()


def device_count():
    """The number of CUDA GPUs CuPy sees (0 without CuPy or a GPU)."""
    return _backend.cuda_device_count()


def current_device():
    """The index of CuPy's current device."""
    if not is_available():
        raise RuntimeError("CUDA is not available")
    import cupy
    return cupy.cuda.Device().id


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
