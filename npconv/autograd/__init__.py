"""Reverse-mode automatic differentiation: Function, the engine, grad modes, gradcheck."""
from .anomaly import detect_anomaly
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, GradcheckError

__all__ = ["Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "gradcheck", "GradcheckError", "detect_anomaly", "backward"]


def backward(tensors, grad_tensors=None, retain_graph=False):
    """Like ``Tensor.backward`` for several outputs at once."""
    from ..tensor import Tensor
    from . import engine
    if isinstance(tensors, Tensor):
        tensors = [tensors]
        grad_tensors = [grad_tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    gs = []
    for t, g in zip(tensors, grad_tensors):
        if g is None:
            if t.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            from ..backend import get_array_module
            g = get_array_module(t.data).ones_like(t.data)
        elif isinstance(g, Tensor):
            g = g.data
        gs.append(g)
    engine.backward(list(tensors), gs, retain_graph=retain_graph)
