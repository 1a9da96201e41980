"""The PyTorch-named functional API (``npconv.nn.functional``, imported as ``F``).

This is where user input is validated (clear errors naming what was expected and what was
got); the Functions behind it may assume valid input.
"""
# --- convolution, pooling, relu, dropout (nn/_conv.py, nn/_pool.py, nn/_dropout.py) ---

# --- activations, linear, losses, batch norm (nn/_activation.py, nn/_linear.py, nn/_loss.py,
#     nn/_norm.py) ---
from ._activation import leaky_relu, log_softmax, sigmoid, softmax, tanh  # noqa: E402,F401
from ._linear import linear  # noqa: E402,F401
from ._loss import (binary_cross_entropy_with_logits, cross_entropy, l1_loss,  # noqa: E402,F401
                    mse_loss, nll_loss)
from ._norm import batch_norm  # noqa: E402,F401
