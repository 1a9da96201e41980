"""``Dropout``: zeroes elements with probability p in training mode only."""
from numbers import Real

from .. import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training mode each element is zeroed with probability ``p`` and the rest scaled by
    1 / (1 - p); in evaluation mode the input passes through unchanged. ``inplace`` is
    accepted and ignored (a new tensor is returned, as ``F.dropout`` does)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= p <= 1.0:
            raise ValueError("dropout probability has to be between 0 and 1, but got %s" % p)
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        if not self.training or self.p == 0.0:
            return input
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return "p=%s, inplace=%s" % (self.p, self.inplace)
