"""One place for every random source of the framework: ``manual_seed(seed)`` reseeds them all.

Ops draw from ``generator(xp)``, the generator of the array library their data lives in, so
random numbers are made where they are used (on the GPU for CuPy data).
"""
import numpy

from . import backend as _backend

__all__ = ["manual_seed", "generator", "initial_seed"]

_state = {"seed": 0, "generators": {}}


def manual_seed(seed):
    """Seed every random source npconv uses (init, dropout, randn/rand, DataLoader shuffles
    that are not given their own seed)."""
    seed = int(seed)
    _state["seed"] = seed
    _state["generators"].clear()
    numpy.random.seed(seed % 2 ** 32)   # for user code that still uses the legacy global
    return seed


def initial_seed():
    return _state["seed"]


def generator(xp=numpy):
    """The framework's generator for array module ``xp`` on its current device (a
    ``numpy.random.Generator``, or its CuPy counterpart, whose state lives on one GPU and
    can be used only while that GPU is current), created from the current seed on first
    use. As PyTorch's ``manual_seed``, one seed seeds every device alike."""
    gens = _state["generators"]
    key = (xp.__name__, _backend.current_device_index(xp))
    g = gens.get(key)
    if g is None:
        g = gens[key] = xp.random.default_rng(_state["seed"])
    return g
