import numpy as np
import pytest

import npconv as nc
import npconv.nn.functional as F
from npconv import optim
from npconv.models import get_model, lenet5, resnet, seed_cnn, simple_cnn


def _count(m):
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_reference_designs():
    # lenet / seedcnn: the same counts as ../shared/bench/peers.py (and PyTorch)
    assert _count(lenet5()) == 61706
    assert _count(seed_cnn()) == 93962
    assert _count(simple_cnn()) == 34258
    assert _count(simple_cnn(widths=(32, 64))) == 50282
    assert _count(resnet(8)) == 77754


def test_seed_cnn_blocks():
    kinds = [type(m).__name__ for m in seed_cnn()]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Conv2d",
                     "ReLU", "AdaptiveAvgPool2d", "Flatten", "Dropout", "Linear"]


@pytest.mark.parametrize("make", [lenet5, seed_cnn, simple_cnn, lambda **k: resnet(8, **k),
                                  lambda **k: resnet(14, **k)])
@pytest.mark.parametrize("in_channels, num_classes", [(1, 10), (3, 7)])
def test_forward_backward_shapes(make, in_channels, num_classes):
    m = make(num_classes=num_classes, in_channels=in_channels)
    x = nc.randn(3, in_channels, 28, 28)
    y = m(x)
    assert y.shape == (3, num_classes)
    F.cross_entropy(y, nc.tensor(np.array([0, 1, 2]))).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
    m.eval()
    with nc.no_grad():
        assert m(x).shape == (3, num_classes)


def test_resnet_depth_validation_and_names():
    with pytest.raises(ValueError, match="6n"):
        resnet(10)
    assert _count(get_model("resnet14")) == _count(resnet(14))
    assert _count(get_model("resnet8w32")) == _count(resnet(8, width=32)) == 308074
    assert get_model("resnet14w24").fc.weight.shape == (10, 96)
    for bad in ("vgg", "resnet8w", "resnetw32"):
        with pytest.raises(ValueError, match="unknown model"):
            get_model(bad)


def test_simple_cnn_learns_a_tiny_problem():
    # two separable classes of 28x28 images: a few Adam steps must fit them
    g = np.random.default_rng(0)
    x = g.normal(size=(32, 1, 28, 28)).astype(np.float32)
    t = np.arange(32) % 2
    x[t == 1, :, :14] += 1.5
    m = simple_cnn(num_classes=2)
    opt = optim.Adam(m.parameters(), lr=1e-2)
    X, T = nc.tensor(x), nc.tensor(t)
    for _ in range(15):
        loss = F.cross_entropy(m(X), T)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    acc = (m(X).detach().numpy().argmax(1) == t).mean()
    assert acc == 1.0
