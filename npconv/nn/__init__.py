"""Neural-network layers (``npconv.nn``), as in ``torch.nn``."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
