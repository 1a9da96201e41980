"""DataLoader: batches of Tensors from a dataset.

For in-memory datasets (those with ``__getitems__``: ``TensorDataset``, ``MNIST``...) a batch
is one fancy-indexing operation on index arrays - no per-sample Python work. Other datasets
are read sample by sample and collated as PyTorch's ``default_collate`` does: a batch has the
structure of a sample. A sample that is a tuple or list gives a list with one batch per field
(``TensorDataset(x)`` gives ``[x_batch]``, so ``for (x,) in loader`` works), a dict gives a
dict of batches, a single array gives one batch.

Conversion to Tensors: the **first field** of a sample (element 0, the first key of a dict,
or the whole sample) is the input, and uint8 there means images: it becomes float32 in
[0, 1] (unless the dataset's transform already made floats). Every other integer field
(labels, indices: uint8 ones too) becomes int64, and float64 becomes float32.
"""
import numbers

import numpy as np

from .. import random as _random
from ..factory import from_numpy
from ..tensor import Tensor

__all__ = ["DataLoader", "default_convert"]


def default_convert(x, device=None, scale_uint8=True):
    """Array -> Tensor: uint8 to float32 in [0, 1] when ``scale_uint8`` (images; the
    DataLoader passes False for every field but the first, so uint8 labels stay integers),
    other integers and bool to int64, float64 to float32; Tensors pass through."""
    if isinstance(x, Tensor):
        t = x
    else:
        a = np.asarray(x)
        if a.dtype == np.uint8 and scale_uint8:
            a = a.astype(np.float32) * np.float32(1 / 255)
        elif a.dtype.kind in "iub":
            a = a.astype(np.int64, copy=False)
        elif a.dtype == np.float64:
            a = a.astype(np.float32)
        t = from_numpy(np.ascontiguousarray(a))
    if device is not None:
        t = t.to(device)
    return t


def _convert(batch, device, scale_uint8):
    """Convert every array in a (nested) batch, keeping its structure."""
    if isinstance(batch, dict):
        return {k: _convert(v, device, scale_uint8) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return [_convert(b, device, scale_uint8) for b in batch]
    return default_convert(batch, device, scale_uint8)


def _convert_batch(batch, device):
    # the first field is the input (uint8 images are scaled), the others are targets
    if isinstance(batch, dict):
        return {k: _convert(v, device, i == 0) for i, (k, v) in enumerate(batch.items())}
    if isinstance(batch, (tuple, list)):
        return [_convert(b, device, i == 0) for i, b in enumerate(batch)]
    return _convert(batch, device, True)


def _host(x):
    return x.detach().to("cpu").numpy() if isinstance(x, Tensor) else np.asarray(x)


def _shape_of(sample):
    # what an error message shows of a sample (never the arrays themselves)
    if isinstance(sample, dict):
        return list(sample)
    if isinstance(sample, (tuple, list)):
        return len(sample)
    return type(sample).__name__


def _collate(samples):
    """A list of samples -> one batch of the same structure (PyTorch's ``default_collate``
    rule): tuples/lists are collated field by field into a list, dicts key by key, arrays and
    numbers are stacked."""
    first = samples[0]
    if isinstance(first, dict):
        for s in samples:
            if not isinstance(s, dict) or s.keys() != first.keys():
                raise TypeError("DataLoader: every dict sample must have the same keys, got "
                                "%s and %s" % (list(first), _shape_of(s)))
        return {k: _collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        for s in samples:
            if not isinstance(s, (tuple, list)) or len(s) != len(first):
                raise TypeError("DataLoader: every sample must have the same number of "
                                "fields, got %d and %s" % (len(first), _shape_of(s)))
        return [_collate([s[k] for s in samples]) for k in range(len(first))]
    return np.stack([_host(s) for s in samples])


def _check_batch_size(batch_size):
    # as PyTorch: a positive int, and nothing else (a float such as 2.7 is not truncated,
    # True is not 1); NumPy integers are accepted too
    if batch_size is None:
        raise ValueError("batch_size=None (PyTorch's mode without automatic batching) is not "
                         "supported; pass a positive integer (batch_size=1 for single "
                         "samples)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size <= 0:
        raise ValueError("batch_size should be a positive integer value, but got "
                         "batch_size=%r (%s)" % (batch_size, type(batch_size).__name__))
    return int(batch_size)


class DataLoader:
    """Iterate over ``dataset`` in batches.

    ``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
    device=None)``. With ``shuffle``, each epoch draws a new permutation from a generator
    seeded with ``seed`` (or, when ``seed`` is None, from npconv's global generator, which
    ``npconv.manual_seed`` resets). ``device`` moves each batch there.

    Each batch has the structure of a sample, as in PyTorch: ``(x, y)`` samples give a list
    ``[x_batch, y_batch]``, a one-array ``TensorDataset`` gives ``[x_batch]``, dict samples
    a dict. uint8 in the first field (images) becomes float32 in [0, 1]; integer labels
    become int64 (see the module docstring). ``batch_size`` must be a positive integer.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 device=None, collate_fn=None, convert=True):
        self.dataset = dataset
        self.batch_size = _check_batch_size(batch_size)
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
            # npconv's in-memory datasets return the batch itself: a tuple of arrays, one
            # per field; a generic __getitems__ (PyTorch's protocol) returns a list of samples
            batch = ds.__getitems__(idx)
            if isinstance(batch, list):
                batch = _collate(batch)
            elif isinstance(batch, tuple):
                batch = list(batch)
            return batch
        samples = [ds[int(i)] for i in idx]
        return (self.collate_fn or _collate)(samples)

    def __iter__(self):
        order = self._order()
        bs = self.batch_size
        n = len(order)
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            batch = self._fetch(order[start:start + bs])
            yield _convert_batch(batch, self.device) if self.convert else batch

    def __repr__(self):
        return "DataLoader(%r, batch_size=%d, shuffle=%s, drop_last=%s)" % (
            self.dataset, self.batch_size, self.shuffle, self.drop_last)
