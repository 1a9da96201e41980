"""Optimizers (``npconv.optim``) and learning-rate schedulers (``npconv.optim.lr_scheduler``)
with PyTorch's names, defaults and update equations."""
from . import lr_scheduler  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
