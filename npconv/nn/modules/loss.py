"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``L1Loss``,
``BCEWithLogitsLoss`` (thin wrappers of the functional forms, which document the math).

As in the functional forms, the arguments after ``weight`` are keyword-only: PyTorch's
positional slots there hold the legacy ``size_average``/``reduce``, which npconv does not take,
so a positional call that PyTorch would read differently fails loudly instead."""
from ...tensor import Tensor
from .. import functional as F
from .._loss import _check_reduction
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss"]


def _buffer(value):
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class _Loss(Module):
    def __init__(self, *, reduction="mean"):
        super().__init__()
        _check_reduction(reduction)          # early: PyTorch only fails on the first call
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", _buffer(weight))


class CrossEntropyLoss(_WeightedLoss):
    """``F.cross_entropy`` as a module: input (C,), (N, C) or (N, C, d1, ...); target class
    indices ((), (N,) or (N, d1, ...)) or class probabilities of the input's shape."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, reduction=reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """``F.nll_loss`` as a module: log-probabilities (C,), (N, C) or (N, C, d1, ...) and
    class indices ((), (N,) or (N, d1, ...))."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction=reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """``F.mse_loss`` as a module: (input - target)^2, same shapes, then reduced."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """``F.l1_loss`` as a module: |input - target|, same shapes, then reduced."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``F.binary_cross_entropy_with_logits`` as a module; ``weight`` and ``pos_weight`` are
    buffers (they follow ``.to()`` and appear in ``state_dict``)."""

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
