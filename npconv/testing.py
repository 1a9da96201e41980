"""Helpers for tests of npconv code (and of user code built on it).

``assert_gradcheck(fn, inputs, **kw)`` runs ``npconv.autograd.gradcheck`` and fails with a
plain ``AssertionError`` (pytest shows the message: the input, the worst element's index and
both values). ``assert_close`` compares Tensors/arrays with NumPy's tolerances.
"""
import numpy

from .autograd.gradcheck import GradcheckError, gradcheck

__all__ = ["assert_gradcheck", "assert_close", "GradcheckError"]


def assert_gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, **kw):
    """Assert that ``fn``'s analytic gradients match central differences (in float64).

    ``inputs``: a Tensor or a tuple of arguments; Tensors with ``requires_grad`` are checked.
    """
    __tracebackhide__ = True    # pytest: point at the caller
    try:
        gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol, **kw)
    except GradcheckError as e:
        raise AssertionError(str(e)) from None


def _host(x):
    from .tensor import Tensor
    from .backend import backend_of
    if isinstance(x, Tensor):
        x = x.data
    if hasattr(x, "dtype") and not isinstance(x, (numpy.ndarray, numpy.generic)):
        x = backend_of(x).to_host(x)
    return numpy.asarray(x)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, check_dtype=False):
    """``numpy.testing.assert_allclose`` for Tensors, arrays and numbers."""
    __tracebackhide__ = True
    a, e = _host(actual), _host(expected)
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError("dtype mismatch: %s != %s" % (a.dtype, e.dtype))
    numpy.testing.assert_allclose(a, e, rtol=rtol, atol=atol)
