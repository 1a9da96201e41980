"""DataLoader: batches of Tensors from a dataset.

For in-memory datasets (those with ``__getitems__``: ``TensorDataset``, ``MNIST``...) a batch
is one fancy-indexing operation on index arrays - no per-sample Python work. Other datasets
are read sample by sample and stacked.

Batches are tuples of Tensors: uint8 images become float32 in [0, 1] (unless the dataset's
transform already made floats), integer labels become int64.
"""
import numpy as np

from .. import random as _random
from ..factory import from_numpy
from ..tensor import Tensor

__all__ = ["DataLoader", "default_convert"]


def default_convert(x, device=None):
    """Array -> Tensor: uint8 to float32 in [0, 1], other integers to int64, float64 to
    float32; Tensors pass through."""
    if isinstance(x, Tensor):
        t = x
    else:
        a = np.asarray(x)
        if a.dtype == np.uint8:
            a = a.astype(np.float32) * np.float32(1 / 255)
        elif a.dtype.kind in "iub":
            a = a.astype(np.int64, copy=False)
        elif a.dtype == np.float64:
            a = a.astype(np.float32)
        t = from_numpy(np.ascontiguousarray(a))
    if device is not None:
        t = t.to(device)
    return t


def _host(x):
    return x.detach().to("cpu").numpy() if isinstance(x, Tensor) else np.asarray(x)


def _collate(samples):
    """A list of per-sample tuples -> a tuple of stacked arrays."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(np.stack([_host(s[k]) for s in samples]) for k in range(len(first)))
    return (np.stack([_host(s) for s in samples]),)


class DataLoader:
    """Iterate over ``dataset`` in batches.

    ``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
    device=None)``. With ``shuffle``, each epoch draws a new permutation from a generator
    seeded with ``seed`` (or, when ``seed`` is None, from npconv's global generator, which
    ``npconv.manual_seed`` resets). ``device`` moves each batch there.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 device=None, collate_fn=None, convert=True):
        if int(batch_size) < 1:
            raise ValueError("batch_size must be a positive integer, got %r" % (batch_size,))
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.device = device
        self.collate_fn = collate_fn
        self.convert = convert
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self._rng if self._rng is not None else _random.generator(np)
        return rng.permutation(n)

    def _fetch(self, idx):
        ds = self.dataset
        if self.collate_fn is None and hasattr(ds, "__getitems__"):
            batch = ds.__getitems__(idx)
            if isinstance(batch, list):      # a generic __getitems__ may return samples
                batch = _collate(batch)
        else:
            samples = [ds[int(i)] for i in idx]
            batch = (self.collate_fn or _collate)(samples)
        if not isinstance(batch, tuple):
            batch = (batch,)
        return batch

    def __iter__(self):
        order = self._order()
        bs = self.batch_size
        n = len(order)
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            batch = self._fetch(order[start:start + bs])
            if self.convert:
                batch = tuple(default_convert(b, self.device) for b in batch)
            yield batch if len(batch) > 1 else batch[0]

    def __repr__(self):
        return "DataLoader(%r, batch_size=%d, shuffle=%s, drop_last=%s)" % (
            self.dataset, self.batch_size, self.shuffle, self.drop_last)
