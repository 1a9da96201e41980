"""DataLoader and samplers: batches of Tensors from a dataset, as ``torch.utils.data``.

For in-memory datasets (those with ``__getitems__``: ``TensorDataset``, ``MNIST``...) a batch
is one fancy-indexing operation on index arrays - no per-sample Python work. Other datasets
are read sample by sample and collated as PyTorch's ``default_collate`` does: a batch has the
structure of a sample. A sample that is a tuple or list gives a list with one batch per field
(``TensorDataset(x)`` gives ``[x_batch]``, so ``for (x,) in loader`` works), a namedtuple a
namedtuple, a dict a dict of batches, a single array one batch; strings are kept as a list.

Conversion to Tensors differs from PyTorch on purpose, to give a model what it expects
without a transform: the **first field** of a sample (element 0, the first key of a dict, or
the whole sample) is the input, and uint8 there means images: it becomes float32 in [0, 1]
(unless the dataset's transform already made floats). Every other integer field (labels,
indices: uint8 ones too) becomes int64, bool stays bool, and float64 (Python floats included,
which PyTorch collates to float64) becomes float32, npconv's working precision.
"""
import collections.abc
import itertools
import numbers
import re

import numpy as np

from .. import random as _random
from ..factory import from_numpy
from ..ops import shape_errors as _se
from ..tensor import Tensor

__all__ = ["DataLoader", "default_collate", "default_convert", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler"]

# NumPy dtypes that cannot become Tensors (bytes, str, object): PyTorch's pattern
_STR_OBJ = re.compile(r"[SaUO]")
_COLLATE_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                "lists; found %s")


# --------------------------------------------------------------------------- samplers
class Sampler:
    """Base class of index samplers: iterating gives dataset indices (or, for a batch
    sampler, lists of them). Any iterable of indices can serve as a sampler, as in PyTorch.

    Built-in samplers also have ``_indices()``, the whole epoch's order as one int64 array,
    which lets the DataLoader slice batches without a Python loop over indices."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _indices(self):
        return np.arange(len(self.data_source))

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _check_generator(generator):
    # npconv's random sources are NumPy generators (as in npconv.nn.init); a torch.Generator
    # has no permutation() and would fail later with a less clear message
    if generator is not None and not hasattr(generator, "permutation"):
        raise TypeError("generator should be a numpy.random.Generator (npconv draws from "
                        "NumPy generators), got %s" % type(generator).__name__)
    return generator


class RandomSampler(Sampler):
    """A random order of ``data_source``'s indices, new at each iteration.

    ``RandomSampler(data_source, replacement=False, num_samples=None, generator=None)``, as in
    PyTorch: ``num_samples`` (default ``len(data_source)``) indices drawn with or without
    ``replacement`` (without, more than ``len`` samples chains whole permutations).
    ``generator`` is a ``numpy.random.Generator``; when None, npconv's generator is used, so
    ``npconv.manual_seed`` makes the order repeatable."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator(generator)
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got replacement=%r"
                            % (replacement,))
        n = self.num_samples
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             "num_samples=%r" % (n,))

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self):
        n, k = len(self.data_source), int(self.num_samples)
        rng = self.generator if self.generator is not None else _random.generator(np)
        if n == 0:
            raise ValueError("RandomSampler: cannot draw num_samples=%d samples from an empty "
                             "data_source" % k)
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        perms = [rng.permutation(n) for _ in range(-(-k // n))]
        return np.concatenate(perms)[:k] if len(perms) != 1 else perms[0][:k]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return int(self.num_samples)


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new one at each iteration)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = _check_generator(generator)

    def _indices(self):
        rng = self.generator if self.generator is not None else _random.generator(np)
        return np.asarray(self.indices, dtype=np.int64)[rng.permutation(len(self.indices))]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return len(self.indices)


def _check_batch_size(batch_size):
    # as PyTorch: a positive int, and nothing else (a float such as 2.7 is not truncated,
    # True is not 1); NumPy integers are accepted too, which PyTorch refuses
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size <= 0:
        raise ValueError("batch_size should be a positive integer value, but got "
                         "batch_size=%r (%s)" % (batch_size, type(batch_size).__name__))
    return int(batch_size)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``), as PyTorch's ``BatchSampler``."""

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _check_batch_size(batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got drop_last=%r"
                             % (drop_last,))
        self.sampler = sampler
        self.drop_last = drop_last

    def _batches(self):
        """The batches as int64 arrays: slices of one index array for built-in samplers."""
        bs = self.batch_size
        if _fast(self.sampler, _SAMPLER_ITERS):
            order = self.sampler._indices()
            n = len(order)
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield order[start:start + bs]
            return
        for batch in self:
            yield np.asarray(batch, dtype=np.int64)

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# the built-in samplers' iteration, which their ``_indices()`` / ``_batches()`` give whole
_SAMPLER_ITERS = (SequentialSampler.__iter__, RandomSampler.__iter__,
                  SubsetRandomSampler.__iter__)


def _fast(sampler, builtin):
    """Whether ``sampler`` iterates as a built-in one (its ``__iter__`` is one of
    ``builtin``), so its index arrays can be taken whole: a subclass that overrides
    ``__iter__`` must be iterated, not bypassed."""
    return getattr(type(sampler), "__iter__", None) in builtin


# --------------------------------------------------------------------------- collate / convert
def _to_tensor(a, device, scale_uint8):
    if a.dtype == np.uint8 and scale_uint8:
        a = a.astype(np.float32) * np.float32(1 / 255)
    elif a.dtype.kind in "iu":
        a = a.astype(np.int64, copy=False)
    elif a.dtype == np.float64:
        a = a.astype(np.float32)
    # not np.ascontiguousarray: it turns a 0-d array (a single label) into shape (1,)
    t = from_numpy(a if a.flags.c_contiguous else np.array(a, order="C"))
    return t.to(device) if device is not None else t


def default_convert(data, device=None, scale_uint8=True):
    """Arrays in ``data`` (nested in dicts, lists, tuples) -> Tensors, as PyTorch's
    ``default_convert``: tuples become lists (namedtuples stay namedtuples), strings, Python
    numbers and other objects are returned unchanged, Tensors pass through.

    npconv's dtype rules (see the module docstring): uint8 becomes float32 in [0, 1] when
    ``scale_uint8`` (the DataLoader passes False for every field but the first, so uint8
    labels stay integers), other integers int64, float64 float32; bool is kept. ``device``
    moves every Tensor there."""
    if isinstance(data, Tensor):
        return data.to(device) if device is not None else data
    if isinstance(data, (np.ndarray, np.generic)):
        if isinstance(data, (np.str_, np.bytes_)) or _STR_OBJ.search(data.dtype.str):
            return data
        return _to_tensor(np.asarray(data), device, scale_uint8)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v, device, scale_uint8) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v, device, scale_uint8) for v in data))
    if isinstance(data, collections.abc.Sequence):
        return [default_convert(v, device, scale_uint8) for v in data]
    return data


def _convert_batch(batch, device):
    # the first field is the input (uint8 images are scaled), the others are targets
    if isinstance(batch, collections.abc.Mapping):
        out = {k: default_convert(v, device, i == 0) for i, (k, v) in enumerate(batch.items())}
        try:
            return type(batch)(out)
        except TypeError:
            return out
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(default_convert(b, device, i == 0) for i, b in enumerate(batch)))
    if isinstance(batch, (tuple, list)):
        return [default_convert(b, device, i == 0) for i, b in enumerate(batch)]
    return default_convert(batch, device, True)


def _shape_of(sample):
    # what an error message shows of a sample (never the arrays themselves)
    if isinstance(sample, collections.abc.Mapping):
        return list(sample)
    if isinstance(sample, (tuple, list)):
        return len(sample)
    return type(sample).__name__


def _stack(arrays):
    try:
        return np.stack(arrays)
    except ValueError:
        msg = _se.stack_error([a.shape for a in arrays])
        if msg is None:
            raise
        raise RuntimeError(msg) from None


def _collate(samples):
    """A list of samples -> one batch of the same structure, with NumPy arrays as leaves
    (PyTorch's ``default_collate`` rule, before the conversion to Tensors)."""
    first = samples[0]
    if isinstance(first, Tensor):
        return _stack([s.detach().to("cpu").numpy() if isinstance(s, Tensor)
                       else np.asarray(s) for s in samples])
    if isinstance(first, (np.ndarray, np.generic)) and not isinstance(first, (str, bytes)):
        if _STR_OBJ.search(first.dtype.str):
            raise TypeError(_COLLATE_ERR % first.dtype)
        return _stack([np.asarray(s) for s in samples])
    if isinstance(first, bool):
        return np.array(samples, dtype=bool)
    if isinstance(first, numbers.Integral):
        return np.array(samples, dtype=np.int64)
    if isinstance(first, numbers.Real):
        return np.array(samples, dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, collections.abc.Mapping):
        for s in samples:
            if not isinstance(s, collections.abc.Mapping) or s.keys() != first.keys():
                raise TypeError("DataLoader: every dict sample must have the same keys, got "
                                "%s and %s" % (list(first), _shape_of(s)))
        out = {k: _collate([s[k] for s in samples]) for k in first}
        try:
            return type(first)(out)
        except TypeError:
            return out
    if isinstance(first, collections.abc.Sequence):
        for s in samples:
            if not isinstance(s, collections.abc.Sequence) or len(s) != len(first):
                raise RuntimeError("each element in list of batch should be of equal size, "
                                   "got %d and %s" % (len(first), _shape_of(s)))
        fields = [_collate([s[k] for s in samples]) for k in range(len(first))]
        if isinstance(first, tuple) and hasattr(first, "_fields"):
            return type(first)(*fields)
        return fields
    raise TypeError(_COLLATE_ERR % type(first))


def default_collate(batch):
    """A list of samples -> one batch of Tensors of the same structure, as PyTorch's
    ``default_collate`` (with npconv's dtype rules, see the module docstring)."""
    return _convert_batch(_collate(batch), None)


# --------------------------------------------------------------------------- DataLoader
class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    ``DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, multiprocessing_context=None, generator=None, *,
    prefetch_factor=None, persistent_workers=False, pin_memory_device='', in_order=True,
    seed=None, device=None, convert=True)``.

    * ``shuffle``: each epoch (each ``iter``) draws a new permutation from ``generator`` (a
      ``numpy.random.Generator``), or one seeded with ``seed`` (an npconv extension), else
      from npconv's generator, which ``npconv.manual_seed`` resets.
    * ``sampler`` (any iterable of indices) and ``batch_sampler`` (of lists of indices)
      replace the default order; the same combinations as in PyTorch are refused.
    * ``batch_size=None`` turns batching off: each sample is converted to Tensors alone.
    * ``device`` (npconv extension) moves each batch there; ``convert=False`` yields the
      NumPy arrays as collated.
    * ``num_workers``, ``pin_memory`` and the other multiprocessing options are accepted and
      checked as in PyTorch, but loading always runs in the calling process (so
      ``worker_init_fn`` is never called): batches of in-memory datasets are one indexing
      operation, which worker processes would only add copies to.

    Each batch has the structure of a sample, as in PyTorch: ``(x, y)`` samples give a list
    ``[x_batch, y_batch]``, a one-array ``TensorDataset`` gives ``[x_batch]``, dict samples
    a dict. uint8 in the first field (images) becomes float32 in [0, 1]; integer labels
    become int64 (see the module docstring).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True, seed=None, device=None, convert=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either seed or generator, not both (got seed=%r "
                             "and a generator)" % (seed,))
        if seed is not None:
            generator = np.random.default_rng(seed)
        _check_generator(generator)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")
        else:
            batch_size = _check_batch_size(batch_size)
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.seed = seed
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.device = device
        self.collate_fn = collate_fn
        self.convert = convert

    @property
    def shuffle(self):
        return isinstance(self.sampler, RandomSampler)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _fetch(self, idx):
        ds = self.dataset
        if self.collate_fn is None and hasattr(ds, "__getitems__"):
            # npconv's in-memory datasets return the batch itself: a tuple of arrays, one
            # per field; a generic __getitems__ (PyTorch's protocol) returns a list of samples
            batch = ds.__getitems__(idx)
            if isinstance(batch, list):
                batch = _collate(batch)
            elif isinstance(batch, tuple) and not hasattr(batch, "_fields"):
                batch = list(batch)
            return batch
        samples = [ds[int(i)] for i in idx]
        return (self.collate_fn or _collate)(samples)

    def _batches(self):
        if _fast(self.batch_sampler, (BatchSampler.__iter__,)):
            return self.batch_sampler._batches()
        return (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)

    def __iter__(self):
        if self.batch_sampler is None:
            # no automatic batching: one sample at a time, converted but not stacked
            for i in self.sampler:
                sample = self.dataset[i]
                if self.collate_fn is not None:
                    sample = self.collate_fn(sample)
                yield _convert_batch(sample, self.device) if self.convert else sample
            return
        for idx in self._batches():
            batch = self._fetch(idx)
            yield _convert_batch(batch, self.device) if self.convert else batch

    def __repr__(self):
        return "DataLoader(%r, batch_size=%s, shuffle=%s, drop_last=%s)" % (
            self.dataset, self.batch_size, self.shuffle, self.drop_last)
