"""One place for every random source of the framework: ``manual_seed(seed)`` reseeds them all.

Ops draw from ``generator(xp)``, the generator of the array library their data lives in, so
random numbers are made where they are used (on the GPU for CuPy data).
"""
import numpy

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
    """The framework's generator for array module ``xp`` (a ``numpy.random.Generator`` or its
    CuPy counterpart), created from the current seed on first use."""
    gens = _state["generators"]
    g = gens.get(xp.__name__)
    if g is None:
        g = gens[xp.__name__] = xp.random.default_rng(_state["seed"])
    return g
