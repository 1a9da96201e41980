"""Reverse-mode automatic differentiation: Function, the engine, grad modes, gradcheck, and
``backward``/``grad`` for several outputs at once."""
import warnings

from ..backend import device_of, get_array_module
from . import engine
from .anomaly import detect_anomaly
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, GradcheckError

__all__ = ["Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "gradcheck", "GradcheckError", "detect_anomaly", "backward",
           "grad"]


_tensor_names = None     # (Tensor, _to_array), bound on first use: npconv.tensor imports
                         # this package


def _tensor_api():
    """``Tensor`` and ``_to_array`` from ``npconv.tensor`` (a function-level import costs
    ~1 us per backward)."""
    global _tensor_names
    if _tensor_names is None:
        from ..tensor import Tensor, _to_array
        _tensor_names = Tensor, _to_array
    return _tensor_names


def _no_create_graph(what):
    raise NotImplementedError(
        "%s(create_graph=True): npconv has no higher-order gradients. A Function's backward "
        "computes on raw arrays, so the gradient it returns cannot itself be recorded and "
        "differentiated; without create_graph the gradient would be silently constant. For a "
        "second derivative, differentiate a hand-written first derivative, or use finite "
        "differences." % what)


def _tensor_seq(x, what):
    """A Tensor or a sequence of Tensors, as a list."""
    Tensor = _tensor_api()[0]
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        for i, t in enumerate(x):
            if not isinstance(t, Tensor):
                raise TypeError("%s: expected a Tensor or a sequence of Tensors, got %s at "
                                "index %d" % (what, type(t).__name__, i))
        return list(x)
    raise TypeError("%s: expected a Tensor or a sequence of Tensors, got %s"
                    % (what, type(x).__name__))


def _make_grads(outputs, grad_outputs):
    """The gradient array for each output: given (checked for shape and device, cast to the
    output's dtype) or implicit (ones, for one-element outputs only), as PyTorch does."""
    Tensor, _to_array = _tensor_api()
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]     # one Tensor, array or number, for one output
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError("got %d tensors and %d gradients"
                           % (len(outputs), len(grad_outputs)))
    gs = []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        d = t.data
        if g is None:
            if t._requires_grad:
                if d.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if d.dtype.kind != "f":
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       "outputs but got %s" % d.dtype)
            gs.append(get_array_module(d).ones(d.shape, d.dtype))
            continue
        g = g.data if isinstance(g, Tensor) else _to_array(g)
        if type(g) is not type(d):
            src, dst = device_of(g), device_of(d)
            if src != dst:
                raise RuntimeError("invalid gradient at index %d - expected device %s but got "
                                   "%s" % (i, dst, src))
        if tuple(g.shape) != tuple(d.shape):
            raise RuntimeError("Mismatch in shape: grad_output[%d] has a shape of %s and "
                               "output[%d] has a shape of %s."
                               % (i, tuple(g.shape), i, tuple(d.shape)))
        if g.dtype != d.dtype:
            g = g.astype(d.dtype)
        gs.append(g)
    return gs


def _check_outputs(outputs):
    for i, t in enumerate(outputs):
        if not t._requires_grad:
            raise RuntimeError("element %d of tensors does not require grad and does not have "
                               "a grad_fn" % i)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate into the leaves' ``.grad`` the gradient of ``sum_i <tensors[i],
    grad_tensors[i]>``: ``Tensor.backward`` for several outputs at once.

    ``grad_tensors``: one gradient (Tensor, array or None) per tensor; None is allowed only
    for one-element tensors (it stands for 1). ``retain_graph``: keep the saved values for a
    later backward (defaults to ``create_graph``). ``inputs``: only these tensors (leaves or
    not) get ``.grad``; a non-leaf among them keeps its gradient as after ``retain_grad()``.
    ``create_graph=True`` raises NotImplementedError (npconv has no higher-order gradients).
    """
    if grad_variables is not None:
        warnings.warn("'grad_variables' is deprecated. Use 'grad_tensors' instead.",
                      FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments both "
                               "passed to backward(). Please only use 'grad_tensors'.")
        grad_tensors = grad_variables
    if create_graph:
        _no_create_graph("backward")
    tensors = _tensor_seq(tensors, "backward")
    if inputs is not None:
        inputs = _tensor_seq(inputs, "backward: inputs")
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    gs = _make_grads(tensors, grad_tensors)
    _check_outputs(tensors)
    if inputs is not None:
        unique = []
        for t in inputs:
            if not any(t is u for u in unique):
                unique.append(t)
        for t in unique:
            t.retain_grad()    # a non-leaf keeps its gradient; refuses one without grad
        inputs = unique
    engine.backward(tensors, gs, retain_graph=bool(retain_graph), inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``sum_i <outputs[i], grad_outputs[i]>`` with respect to each of
    ``inputs``, returned as a tuple of Tensors (nothing accumulates into any ``.grad``).

    Only the part of the graph between the outputs and the inputs runs. An input the outputs
    do not depend on is an error, unless ``allow_unused=True`` (its result is None) or
    ``materialize_grads=True`` (its result is zeros). ``retain_graph`` defaults to
    ``create_graph``; ``create_graph=True`` and ``is_grads_batched=True`` raise
    NotImplementedError.
    """
    Tensor = _tensor_api()[0]
    if create_graph:
        _no_create_graph("grad")
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported by npconv: "
                                  "call grad once per gradient (with retain_graph=True)")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "npconv.autograd.backward.", FutureWarning, stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _tensor_seq(outputs, "grad: outputs")
    inputs = _tensor_seq(inputs, "grad: inputs")
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    gs = _make_grads(outputs, grad_outputs)
    _check_outputs(outputs)
    found = engine.backward(outputs, gs, retain_graph=bool(retain_graph), inputs=inputs,
                            capture=True)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError("The differentiated Tensor at index %d appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is "
                                   "the desired behavior." % i)
            if materialize_grads:
                result.append(Tensor._wrap(get_array_module(t.data).zeros_like(t.data)))
            else:
                result.append(None)
            continue
        # a copy: g may be a gradient array shared with the graph or with an output's .grad
        result.append(Tensor._wrap(g.copy()))
    return tuple(result)
