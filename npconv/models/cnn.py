"""Plain CNNs: the seed notebook's design and the main job's default."""
from .. import nn

__all__ = ["seed_cnn", "simple_cnn"]


def seed_cnn(num_classes=10, in_channels=1, dropout=0.5):
    """The CNN the project grew from (exactly its blocks):
    Conv(3x3, 32, pad 1)-ReLU-MaxPool2 - Conv(3x3, 64, pad 1)-ReLU-MaxPool2 -
    Conv(3x3, 128, pad 1)-ReLU - global average pool - Flatten - Dropout(0.5) -
    Linear(128, num_classes). 93,962 parameters for 1 channel and 10 classes.

    The global-average-pool head learns slowly (many epochs to catch up with LeNet); the
    main job defaults to ``simple_cnn``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(128, num_classes),
    )


def simple_cnn(num_classes=10, in_channels=1, widths=(24, 48), dropout=0.25, image_size=28):
    """Conv(3x3, pad 1)-BatchNorm-ReLU-MaxPool2 blocks (one per entry of ``widths``), then
    Flatten - Dropout - Linear. The default of ``python -m npconv.train``: BatchNorm lets it
    train fast at a high learning rate, and the flatten head (unlike a global average pool)
    keeps where features are, which suits 28x28 images.

    The default widths (24, 48) (34,258 parameters for 1 channel and 10 classes) were
    chosen by measurement on 2 CPU cores, bundled subset, 4 epochs of Adam: (16, 32) reached
    87.7% test accuracy, (24, 48) 89.1%, (32, 64) 89.3% for 1.6x the time of (24, 48).
    On the full Fashion-MNIST, 10 epochs of Adam (lr 0.002, one-cycle): 92.05%."""
    layers = []
    c, size = in_channels, image_size
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                   nn.MaxPool2d(2)]
        c, size = w, size // 2
    layers += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(c * size * size, num_classes)]
    return nn.Sequential(*layers)
