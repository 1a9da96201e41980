"""LeNet-5 (LeCun et al. 1998) with the modern ReLU and max-pool choices."""
from .. import nn

__all__ = ["lenet5"]


def lenet5(num_classes=10, in_channels=1):
    """Conv(5x5, 6, pad 2)-ReLU-MaxPool2 - Conv(5x5, 16)-ReLU-MaxPool2 - Flatten -
    Linear(400, 120)-ReLU - Linear(120, 84)-ReLU - Linear(84, num_classes).

    61,706 parameters for 1 input channel and 10 classes (the ``lenet`` model of the
    reference benchmark)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )
