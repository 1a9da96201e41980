"""Gradient clipping and parameter/vector conversion (``npconv.nn.utils``), as in
``torch.nn.utils``.

Clipping works in place on the ``.grad`` of each parameter, between ``backward()`` and the
optimizer's step::

    loss.backward()
    npconv.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""
import contextlib
import math

import numpy

from ..autograd.grad_mode import no_grad
from ..backend import get_array_module
from ..factory import cat
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _as_list(parameters):
    """A Tensor or an iterable of them (a generator such as ``model.parameters()`` is
    consumed once) as a list."""
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _vector_norm(xp, a, p):
    """The p-norm of all elements of ``a`` as a 0-d array, summed in float64 for float64
    input and float32 otherwise (as ``torch.linalg.vector_norm``; the caller casts it to the
    gradient's dtype, so a float16 norm past 65504 is inf, as in PyTorch): inf is the largest
    absolute value, 0 the number of non-zero elements. Stays on ``a``'s device."""
    acc = xp.float64 if a.dtype == xp.float64 else xp.float32
    if a.size == 0:
        return xp.zeros((), acc)
    a = xp.abs(a.astype(acc, copy=False))
    if p == math.inf:
        r = a.max()
    elif p == -math.inf:
        r = a.min()
    elif p == 0:
        r = (a != 0).sum()
    else:
        r = (a ** p).sum() ** (1.0 / p)
    return xp.asarray(r, dtype=acc)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total norm (the
    ``norm_type``-norm of all gradients together, as if concatenated into one vector) is at
    most ``max_norm``. Returns the total norm before clipping as a 0-d Tensor.

    As PyTorch: each gradient's norm is taken in its own dtype, the total is the norm of
    those norms, and every gradient is multiplied by ``min(max_norm / (total + 1e-6), 1)``
    (so a NaN or infinite total spreads into the gradients). ``norm_type`` may be
    ``float('inf')`` (the largest absolute gradient element). Nothing is read back to the
    host, except with ``error_if_nonfinite=True``, which raises on a NaN or infinite total
    instead of scaling by it. ``foreach`` is accepted for compatibility and ignored."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    xp = get_array_module(grads[0].data)
    # (a norm past its dtype's range becomes inf, as in PyTorch: not worth a warning)
    quiet = getattr(xp, "errstate", None)
    with quiet(over="ignore") if quiet else contextlib.nullcontext():
        norms = [_vector_norm(xp, g.data, norm_type).astype(g.data.dtype) for g in grads]
    total = _vector_norm(xp, xp.stack(norms), norm_type).astype(
        numpy.result_type(*[n.dtype for n in norms]))
    if error_if_nonfinite and not bool(xp.isfinite(total)):      # an explicit, asked-for sync
        raise RuntimeError(
            "The total norm of order %s for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`" % norm_type)
    coef = xp.asarray(xp.minimum(max_norm / (total.astype(xp.float64) + 1e-6), 1.0))
    with no_grad():
        for g in grads:
            g.mul_(Tensor._wrap(coef.astype(g.data.dtype)))
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element of ``parameters`` to ``[-clip_value, clip_value]``, in
    place. Returns None. ``foreach`` is accepted for compatibility and ignored."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D Tensor (differentiable: it
    records the graph when the parameters require grad)."""
    params = _as_list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError("parameters_to_vector expected Tensors, got %s"
                            % type(p).__name__)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D Tensor ``vec`` into ``parameters`` (the inverse of
    ``parameters_to_vector``).

    Differs from PyTorch, which rebinds each ``param.data`` to a view of ``vec``: npconv
    copies the values into each parameter's own array, in place, so a parameter keeps its
    dtype and its storage (and does not change when ``vec`` is modified later)."""
    if not isinstance(vec, Tensor):
        raise TypeError("expected npconv.Tensor, but got: %s" % type(vec).__name__)
    if vec.ndim != 1:
        raise ValueError("vector_to_parameters expects a 1-D vector, got shape %s"
                         % (vec.shape,))
    params = _as_list(parameters)
    need = sum(p.numel() for p in params)
    if vec.numel() < need:
        raise ValueError("vector_to_parameters: vec has %d elements, but the parameters "
                         "have %d in total" % (vec.numel(), need))
    data = vec.data
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(Tensor._wrap(data[start:start + n].reshape(p.shape)))
            start += n
