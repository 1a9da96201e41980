"""``detect_anomaly()``: find the op that first produced a NaN or Inf.

Inside the context every Function remembers where it was created (file:line), and every
forward output and backward gradient is checked for non-finite values; the first one raises
an error naming the Function and that place.
"""
import os

from ..backend import get_array_module
from . import function as _function

__all__ = ["detect_anomaly"]


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _where(ctx):
    if not ctx._trace:
        return "unknown location"
    # the innermost frame outside npconv's own package is the user's line
    frames = [f for f in ctx._trace if not os.path.abspath(f.filename).startswith(_PKG_DIR)]
    f = (frames or ctx._trace)[-1]
    return "%s:%d" % (f.filename, f.lineno)


def _check_finite(a, ctx, phase):
    xp = get_array_module(a)
    if not hasattr(a, "dtype") or a.dtype.kind not in "fc":
        return
    if not bool(xp.isfinite(a).all()):
        what = "nan" if bool(xp.isnan(a).any()) else "inf"
        raise RuntimeError("Function '%s' returned %s values in its %s (created at %s)"
                           % (ctx.name() if phase == "backward" else ctx._fn.__name__,
                              what, "output" if phase == "forward" else "gradient",
                              _where(ctx)))


class detect_anomaly:
    """Context manager: raise at the first NaN/Inf produced in forward or backward, naming
    the Function and the file:line where it was called. Slow; for debugging only."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _function._Anomaly.enabled
        _function._Anomaly.enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        _function._Anomaly.enabled = self._prev
        return False
