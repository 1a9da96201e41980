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


class GradcheckError(RuntimeError, AssertionError):
    """The analytic and numeric gradients disagree (or backward gave none). A RuntimeError,
    as PyTorch's GradcheckError, and an AssertionError, so a test that catches either
    sees it."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check ``fn``'s backward against central differences, in float64.

    ``inputs``: a Tensor or a tuple of arguments; Tensors with ``requires_grad`` are checked.
    Every floating-point Tensor argument (requiring grad or not) is replaced by a float64
    copy, so float32 tensors can be passed and the caller's tensors are never touched; but
    tensors ``fn`` reaches by other ways (a layer's parameters) are not converted: build such
    layers in float64 (``module.double()``) or pass their tensors as arguments. Complex
    inputs are not supported.

    As in PyTorch, only the outputs that require grad are checked. When none does, the
    numerical gradient of the floating-point outputs must be zero (a detached output that
    depends on an input is an error), and a function with integer outputs only passes.

    Returns True, or raises ``GradcheckError`` naming the input, the worst element's index and
    both values (returns False instead when ``raise_exception=False``)."""
    from ..tensor import Tensor

    args = []
    converted = set()
    for i, a in enumerate(_as_tuple(inputs)):
        if isinstance(a, Tensor):
            kind = a.data.dtype.kind
            if kind == "c" and a.requires_grad:
                raise ValueError("gradcheck: input %d is complex (%s): complex inputs are not "
                                 "supported, only real floating-point ones" % (i, a.data.dtype))
            if kind == "f":
                if a.data.dtype != numpy.float64:
                    converted.add(str(a.data.dtype))
                # a fresh C-contiguous copy: the perturbations below write into it, and they
                # must reach what fn reads (astype keeps a transposed layout by default)
                a = Tensor._wrap(a.data.astype(numpy.float64, order="C"),
                                 requires_grad=a.requires_grad)
        args.append(a)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")

    xp = backend_of(args[checked[0]].data).xp
    rng = numpy.random.default_rng(seed)

    with grad_mode.enable_grad():
        try:
            outs = _as_tuple(fn(*args))
        except (TypeError, ValueError, RuntimeError) as e:
            # say that the inputs were converted: a dtype clash would otherwise look like a
            # bug in fn (same exception type, so callers catching it still do)
            if not converted or type(e) not in (TypeError, ValueError, RuntimeError):
                raise
            raise type(e)("%s\n(gradcheck ran fn on float64 copies of its %s Tensor arguments; "
                          "if this error is about dtypes: tensors fn uses from elsewhere, such "
                          "as a layer's parameters, must be float64 too: build the layer with "
                          ".double() or pass float64 tensors)"
                          % (e, "/".join(sorted(converted)))) from e
        tensors = [k for k, o in enumerate(outs) if isinstance(o, Tensor)]
        if not tensors:
            raise ValueError("gradcheck: fn returned no Tensor")
        # the outputs to differentiate, the same on the analytic and the numerical side
        keep = [k for k in tensors if outs[k].requires_grad]
        for k in keep:
            if outs[k].data.dtype.kind == "c":
                raise ValueError("gradcheck: output %d is complex (%s): complex outputs are not "
                                 "supported, only real floating-point ones"
                                 % (k, outs[k].data.dtype))
        constant = not keep
        if constant:
            # nothing requires grad: the floating outputs must not depend on the inputs
            keep = [k for k in tensors if outs[k].data.dtype.kind == "f"]
            if not keep:
                return True           # integer or bool outputs only: nothing to check
        weights = [xp.asarray(rng.standard_normal(outs[k].shape)) for k in keep]

        def objective():
            with grad_mode.no_grad():
                res = _as_tuple(fn(*args))
                return sum(float((res[k].data.astype(numpy.float64) * w).sum())
                           for k, w in zip(keep, weights))

        for i in checked:
            args[i].grad = None
        if not constant:
            loss = None
            for k, w in zip(keep, weights):
                term = (outs[k].to(dtype=numpy.float64) * Tensor._wrap(w)).sum()
                loss = term if loss is None else loss + term
            loss.backward()

    for i in checked:
        x = args[i]
        analytic = x.grad.data if x.grad is not None else xp.zeros_like(x.data)
        analytic = backend_of(analytic).to_host(analytic).astype(numpy.float64)
        numeric = numpy.zeros(x.data.shape)
        for j in numpy.ndindex(*x.data.shape):
            # indexing x.data itself: the write always lands in the array fn reads
            orig = float(x.data[j])
            x.data[j] = orig + eps
            up = objective()
            x.data[j] = orig - eps
            down = objective()
            x.data[j] = orig
            numeric[j] = (up - down) / (2 * eps)
        err = numpy.abs(analytic - numeric) - (atol + rtol * numpy.abs(numeric))
        if err.size and err.max() > 0:
            k = numpy.unravel_index(int(err.argmax()), err.shape)
            where = tuple(int(v) for v in k)
            if constant:
                msg = ("gradcheck: no output of fn requires grad (detached or marked "
                       "non-differentiable), but the numerical gradient for input %d is not zero: "
                       "%.6g at index %s" % (i, numeric[k], where))
            elif x.grad is None:
                msg = ("gradcheck: input %d got no gradient from backward, but its numerical "
                       "gradient at index %s is %.6g" % (i, where, numeric[k]))
            else:
                msg = ("gradcheck: Jacobian mismatch for input %d (shape %s) at index %s: "
                       "analytical %.6g, numerical %.6g (atol=%g, rtol=%g)"
                       % (i, tuple(x.shape), where, analytic[k], numeric[k], atol, rtol))
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
