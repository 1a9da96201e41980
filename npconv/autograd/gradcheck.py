"""Finite-difference gradient checking for any function of Tensors.

For outputs ``y_k = fn(*inputs)`` and fixed random weights ``r_k`` the scalar
``L = sum_k <r_k, y_k>`` is differentiated twice: analytically (one ``backward``) and
numerically by central differences ``(L(x + eps e_i) - L(x - eps e_i)) / (2 eps)`` for every
element ``i`` of every input that requires grad. A random projection of the outputs checks
the whole Jacobian-vector product at the cost of one backward.
"""
import numpy

from ..backend import backend_of
from . import grad_mode

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree (or backward gave none)."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check ``fn``'s backward against central differences, in float64.

    ``inputs``: a Tensor or a tuple of arguments; Tensors with ``requires_grad`` are checked
    (float32 ones are promoted to float64 copies so the differences are meaningful).
    Returns True, or raises ``GradcheckError`` naming the input, the worst element's index and
    both values (returns False instead when ``raise_exception=False``)."""
    from ..tensor import Tensor

    args = []
    for a in _as_tuple(inputs):
        if isinstance(a, Tensor) and a.requires_grad:
            d = a.data.astype(numpy.float64) if a.data.dtype != numpy.float64 else a.data.copy()
            a = Tensor._wrap(d, requires_grad=True)
        args.append(a)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")

    xp = backend_of(args[checked[0]].data).xp
    rng = numpy.random.default_rng(seed)

    with grad_mode.enable_grad():
        outs = _as_tuple(fn(*args))
        outs = [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]
        if not outs:
            raise ValueError("gradcheck: fn returned no floating-point Tensor")
        weights = [xp.asarray(rng.standard_normal(o.shape)) for o in outs]

        def objective():
            with grad_mode.no_grad():
                res = _as_tuple(fn(*args))
                res = [o for o in res if isinstance(o, Tensor) and o.data.dtype.kind == "f"]
                return sum(float((o.data.astype(numpy.float64) * w).sum())
                           for o, w in zip(res, weights))

        loss = None
        for o, w in zip(outs, weights):
            if not o.requires_grad:
                continue
            term = (o.to(dtype=numpy.float64) * Tensor._wrap(w)).sum()
            loss = term if loss is None else loss + term
        for i in checked:
            args[i].grad = None
        if loss is not None:
            loss.backward()

    for i in checked:
        x = args[i]
        analytic = x.grad.data if x.grad is not None else xp.zeros_like(x.data)
        analytic = backend_of(analytic).to_host(analytic).astype(numpy.float64)
        numeric = numpy.zeros(x.data.shape)
        flat = x.data.reshape(-1)   # a view: perturb in place, restore after
        for j in range(x.data.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            up = objective()
            flat[j] = orig - eps
            down = objective()
            flat[j] = orig
            numeric.reshape(-1)[j] = (up - down) / (2 * eps)
        err = numpy.abs(analytic - numeric) - (atol + rtol * numpy.abs(numeric))
        if err.size and err.max() > 0:
            k = numpy.unravel_index(int(err.argmax()), err.shape)
            if x.grad is None:
                msg = ("gradcheck: input %d got no gradient from backward, but its numerical "
                       "gradient at index %s is %.6g" % (i, tuple(int(v) for v in k), numeric[k]))
            else:
                msg = ("gradcheck: Jacobian mismatch for input %d (shape %s) at index %s: "
                       "analytical %.6g, numerical %.6g (atol=%g, rtol=%g)"
                       % (i, tuple(x.shape), tuple(int(v) for v in k), analytic[k],
                          numeric[k], atol, rtol))
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
