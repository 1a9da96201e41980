"""A small model zoo for 28x28 images (``npconv.models``).

Every constructor takes ``num_classes`` and ``in_channels`` and returns an ``nn.Module``
that maps ``(N, in_channels, 28, 28)`` to ``(N, num_classes)`` logits.

=============  =========================================================================
``lenet5``     LeNet-5 (ReLU and max-pool version), 61,706 parameters
``seed_cnn``   the seed notebook's CNN: conv32/64/128, global average pool, dropout, linear
``simple_cnn`` conv-BatchNorm-ReLU-maxpool blocks, dropout, linear: the main job's default
``resnet``     a small ResNet (BatchNorm basic blocks, d2l-style) for 28x28 inputs
=============  =========================================================================
"""
import re

from .cnn import seed_cnn, simple_cnn
from .lenet import lenet5
from .resnet import BasicBlock, ResNet, resnet

MODELS = {"lenet5": lenet5, "seed_cnn": seed_cnn, "simple_cnn": simple_cnn, "resnet": resnet}


def get_model(name, **kwargs):
    """A model by name (``lenet5``, ``seed_cnn``, ``simple_cnn``, ``resnet``, ``resnetD``
    for ``resnet(depth=D)``, or ``resnetDwW`` for ``resnet(depth=D, width=W)``, e.g.
    ``resnet8w32``)."""
    key = name.lower().replace("-", "_")
    m = re.fullmatch(r"resnet(\d+)(?:w(\d+))?", key)
    if m:
        if m.group(2):
            kwargs.setdefault("width", int(m.group(2)))
        return resnet(depth=int(m.group(1)), **kwargs)
    if key not in MODELS:
        raise ValueError("unknown model %r; choose one of %s (or resnetD / resnetDwW, e.g. "
                         "resnet14, resnet8w32)" % (name, ", ".join(MODELS)))
    return MODELS[key](**kwargs)


__all__ = ["lenet5", "seed_cnn", "simple_cnn", "resnet", "ResNet", "BasicBlock", "get_model",
           "MODELS"]
