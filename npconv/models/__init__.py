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
from .cnn import seed_cnn, simple_cnn
from .lenet import lenet5
from .resnet import BasicBlock, ResNet, resnet

MODELS = {"lenet5": lenet5, "seed_cnn": seed_cnn, "simple_cnn": simple_cnn, "resnet": resnet}


def get_model(name, **kwargs):
    """A model by name (``lenet5``, ``seed_cnn``, ``simple_cnn``, ``resnet``, or
    ``resnetD`` for ``resnet(depth=D)``)."""
    key = name.lower().replace("-", "_")
    if key.startswith("resnet") and key[6:].isdigit():
        return resnet(depth=int(key[6:]), **kwargs)
    if key not in MODELS:
        raise ValueError("unknown model %r; choose one of %s (or resnetD, e.g. resnet14)"
                         % (name, ", ".join(MODELS)))
    return MODELS[key](**kwargs)


__all__ = ["lenet5", "seed_cnn", "simple_cnn", "resnet", "ResNet", "BasicBlock", "get_model",
           "MODELS"]
