"""A small ResNet for 28x28 images (He et al. 2016; the d2l.ai basic residual block).

``resnet(depth)`` with ``depth = 6n + 2`` (8, 14, 20, ...): a 3x3 stem convolution, then three
stages of ``n`` basic blocks at widths (w, 2w, 4w) and resolutions 28, 14, 7 (the first block
of the second and third stage downsamples with stride 2 and a 1x1 projection shortcut), then
global average pooling and a linear layer.
"""
from .. import nn

__all__ = ["BasicBlock", "ResNet", "resnet"]


class BasicBlock(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))`` with 3x3 convolutions; the
    shortcut is the identity, or a 1x1 convolution + BatchNorm when the shape changes."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = None

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.shortcut is None else self.shortcut(x)
        return self.relu(y + s)


class ResNet(nn.Module):
    def __init__(self, blocks_per_stage=(1, 1, 1), widths=(16, 32, 64), num_classes=10,
                 in_channels=1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers = []
        c = widths[0]
        for i, (n, w) in enumerate(zip(blocks_per_stage, widths)):
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(BasicBlock(c, w, stride))
                c = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.layers(self.stem(x)))))


def resnet(depth=8, num_classes=10, in_channels=1, width=16):
    """A ResNet of ``depth`` = 6n + 2 layers (8, 14, 20, 32...) for 28x28 inputs, with stage
    widths (width, 2 width, 4 width). ``resnet(8)`` has 77,754 parameters.

    Measured on the full Fashion-MNIST, 10 epochs, SGD (lr 0.05, Nesterov, weight decay 5e-4,
    one-cycle), batch 128, seed 0: ``resnet(8)`` 92.8% test accuracy (92.1% with
    ``--augment``), ``resnet(8, width=32)`` (308,074 parameters; ``--model resnet8w32``)
    93.3%, in 64 minutes on a 2-core CPU."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError("resnet depth must be 6n + 2 with n >= 1 (8, 14, 20, ...), got %r"
                         % (depth,))
    n = (depth - 2) // 6
    return ResNet((n, n, n), (width, 2 * width, 4 * width), num_classes, in_channels)
