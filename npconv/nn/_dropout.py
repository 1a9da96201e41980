"""Dropout as a Function: inverted dropout with a mask drawn from the framework generator."""
from ..autograd.function import Function
from ..backend import get_array_module
from ..random import generator

__all__ = ["Dropout"]


class Dropout(Function):
    """Training-time dropout: each element is zeroed with probability ``p`` and the survivors
    are scaled by 1/(1-p), so the expectation is unchanged; ``p == 1`` gives zeros (not NaN).
    The mask comes from ``npconv.random.generator(xp)``, so ``manual_seed`` controls it."""

    @staticmethod
    def forward(ctx, x, p):
        xp = get_array_module(x)
        if p >= 1:
            scale = xp.zeros(x.shape, x.dtype)
        else:
            rdt = x.dtype if x.dtype in (xp.float32, xp.float64) else xp.float32
            r = generator(xp).random(x.shape, dtype=rdt)
            # scale = (r >= p) / (1 - p), made directly in x's dtype (Python float: no upcast)
            scale = xp.multiply(r >= p, 1.0 / (1.0 - p), dtype=x.dtype)
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return g * scale
