"""Batch-wise image transforms.

Every transform takes an array of shape ``(..., C, H, W)`` - one image or a whole batch - and
returns an array; random transforms draw one independent choice per image, vectorised (no
Python loop over the batch). Random numbers come from ``generator`` when given, else from
npconv's seeded generator (``npconv.manual_seed`` makes runs repeatable).
"""
import numpy as np

from .. import random as _random

__all__ = ["Compose", "ToTensor", "ScaleToFloat", "Normalize", "RandomCrop",
           "RandomHorizontalFlip", "Lambda"]


def _rng(generator):
    return generator if generator is not None else _random.generator(np)


def _to_float(x):
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1 / 255)
    if x.dtype != np.float32 and x.dtype != np.float64:
        return x.astype(np.float32)
    return x


def _as_batch(x):
    """View ``x`` as (N, C, H, W); returns the view and a function restoring the shape."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError("expected an image (..., H, W), got shape %s" % (x.shape,))
    lead = x.shape[:-3] if x.ndim >= 3 else ()
    chw = x.shape[-3:] if x.ndim >= 3 else (1,) + x.shape
    b = x.reshape((-1,) + chw)
    return b, (lambda y: y.reshape(tuple(lead) + y.shape[1:] if x.ndim >= 3
                                   else y.shape[-2:]))


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(%s)" % ", ".join(repr(t) for t in self.transforms)


class ScaleToFloat:
    """uint8 in [0, 255] -> float32 in [0, 1] (other dtypes: cast to float32)."""

    def __call__(self, x):
        return _to_float(x)

    def __repr__(self):
        return "%s()" % type(self).__name__


class ToTensor(ScaleToFloat):
    """The ``torchvision.transforms.ToTensor`` scaling: uint8 -> float32 in [0, 1]
    (``x / 255``); float arrays are kept as they are, other dtypes cast to float32.

    Two differences from torchvision, both from working on whole batches: the input is
    already channel-first (npconv's datasets give ``(C, H, W)`` images and ``(N, C, H, W)``
    batches, so there is no HWC -> CHW transpose; use ``x.transpose(2, 0, 1)`` for an HWC
    array of your own), and the result stays an array, which the DataLoader turns into a
    Tensor batch by batch."""


class Normalize:
    """``(x - mean) / std`` per channel (axis -3), as ``torchvision.transforms.Normalize``:
    ``x`` is ``(..., C, H, W)`` and ``mean``/``std`` hold one value, or one per channel.
    Unlike torchvision (which wants float input), uint8 input is first scaled to [0, 1], so
    ``Normalize`` alone can follow a uint8 dataset. float32 stays float32."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
        if np.any(self.std == 0):
            raise ValueError("std evaluated to zero after conversion to float32, leading to "
                             "division by zero (got std=%s)" % np.asarray(std).tolist())

    def __call__(self, x):
        x = _to_float(x)
        if x.ndim < 3:
            raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). "
                             "Got shape %s" % (x.shape,))
        c = x.shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError("Normalize: %s has %d values but the image has %d channels "
                                 "(shape %s); give 1 or %d" % (name, len(v), c, x.shape, c))
        return ((x - self.mean) / self.std).astype(x.dtype, copy=False)

    def __repr__(self):
        return "Normalize(mean=%s, std=%s)" % (self.mean.ravel().tolist(),
                                               self.std.ravel().tolist())


class RandomCrop:
    """Pad by ``padding`` (zeros, or ``fill``) on each side, then crop a random ``size``
    window from each image independently."""

    def __init__(self, size, padding=0, fill=0, generator=None):
        self.size = (size, size) if np.isscalar(size) else tuple(size)
        self.padding = int(padding)
        self.fill = fill
        self.generator = generator

    def __call__(self, x):
        b, restore = _as_batch(x)
        n, c, h, w = b.shape
        p = self.padding
        th, tw = self.size
        if p:
            padded = np.full((n, c, h + 2 * p, w + 2 * p), self.fill, dtype=b.dtype)
            padded[:, :, p:p + h, p:p + w] = b
        else:
            padded = b
        H, W = padded.shape[2:]
        if th > H or tw > W:
            raise ValueError("RandomCrop: crop %s larger than padded image %s"
                             % (self.size, (H, W)))
        rng = _rng(self.generator)
        oy = rng.integers(0, H - th + 1, size=n)
        ox = rng.integers(0, W - tw + 1, size=n)
        rows = (oy[:, None] + np.arange(th))[:, None, :, None]
        cols = (ox[:, None] + np.arange(tw))[:, None, None, :]
        out = padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                     rows, cols]
        return restore(out)

    def __repr__(self):
        return "RandomCrop(size=%s, padding=%d)" % (self.size, self.padding)


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p=0.5, generator=None):
        self.p = float(p)
        self.generator = generator

    def __call__(self, x):
        b, restore = _as_batch(x)
        flip = _rng(self.generator).random(len(b)) < self.p
        out = b.copy()
        out[flip] = b[flip][..., ::-1]
        return restore(out)

    def __repr__(self):
        return "RandomHorizontalFlip(p=%s)" % self.p


class Lambda:
    """Wrap any function of an array as a transform."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)
