"""Datasets: the ``Dataset`` protocol, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``random_split``, and the MNIST family.

In-memory datasets implement ``__getitems__(indices)`` (the bulk protocol PyTorch's DataLoader
also uses): one fancy-indexing operation per batch, no per-sample Python work. Their
``transform`` is applied to the whole batch, so transforms take arrays of shape
``(..., C, H, W)``.
"""
import bisect
import math
import os
import warnings

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from .download import DownloadError, download_dataset, offline_message
from .idx import read_idx

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "MNIST", "FashionMNIST", "KMNIST",
           "BundledFashionMNIST", "bundled_path", "DatasetNotFoundError", "default_data_dir",
           "SYSTEM_FASHION_MNIST"]

SYSTEM_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
BUNDLED_FILE = "fashion_mnist_subset.npz"


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are in none of the searched places (the message says how to get
    them)."""


def default_data_dir():
    """Where downloads go when no ``root`` is given: ``$NPCONV_DATA`` or ``~/.cache/npconv``."""
    env = os.environ.get("NPCONV_DATA")
    if env:
        return env
    return os.path.join(os.path.expanduser("~"), ".cache", "npconv")


class Dataset:
    """A map-style dataset: ``__len__`` and ``__getitem__(i)``. Subclasses holding their data
    in memory should also implement ``__getitems__(indices)`` returning a whole batch.
    ``a + b`` is ``ConcatDataset([a, b])``, as in PyTorch."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self):
        raise NotImplementedError("Subclasses of Dataset should implement __len__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _as_array(x):
    if isinstance(x, Tensor):
        x = x.detach().to("cpu").numpy()
    return np.asarray(x)


class TensorDataset(Dataset):
    """Samples are the ``i``-th rows of the given arrays/Tensors (all of the same length).
    ``transform``, if given, is applied (batch-wise) to the first array."""

    def __init__(self, *arrays, transform=None):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(_as_array(a) for a in arrays)
        n = len(self.arrays[0])
        for a in self.arrays:
            if len(a) != n:
                raise ValueError("Size mismatch between tensors: TensorDataset needs arrays "
                                 "of the same first dimension, got %s"
                                 % [len(b) for b in self.arrays])
        self.transform = transform

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        out = [a[index] for a in self.arrays]
        if self.transform is not None:
            out[0] = self.transform(out[0])
        return tuple(out)

    def __getitems__(self, indices):
        indices = np.asarray(indices)
        out = [a[indices] for a in self.arrays]
        if self.transform is not None:
            out[0] = self.transform(out[0])
        return tuple(out)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        # as PyTorch's Subset: a slice or list of positions indexes the dataset with the
        # matching indices (TensorDataset and the MNIST family accept index arrays)
        idx = self.indices[i]
        return self.dataset[int(idx) if idx.ndim == 0 else idx]

    def __getitems__(self, indices):
        inner = self.indices[np.asarray(indices)]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(inner)
        return [self.dataset[int(i)] for i in inner]


class ConcatDataset(Dataset):
    """The samples of ``datasets`` one after the other, as PyTorch's ``ConcatDataset``.

    When every part has ``__getitems__`` returning a tuple of arrays (npconv's in-memory
    datasets and their ``Subset``s), a batch is fetched with one call per part and
    concatenated, so ``train + test`` keeps the DataLoader's vectorized path."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def _locate(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("absolute value of index should not exceed dataset length "
                                 "(got index %d for length %d)" % (idx, n))
            idx += n
        if idx >= n:
            raise IndexError("index %d is out of range for a ConcatDataset of length %d"
                             % (idx, n))
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        return d, idx - (self.cumulative_sizes[d - 1] if d else 0)

    def __getitem__(self, idx):
        d, i = self._locate(int(idx))
        return self.datasets[d][i]

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError("index %d is out of range for a ConcatDataset of length %d"
                             % (bad, n))
        idx = np.where(idx < 0, idx + n, idx)
        if all(hasattr(d, "__getitems__") for d in self.datasets):
            cum = np.asarray(self.cumulative_sizes)
            which = np.searchsorted(cum, idx, side="right")
            starts = np.concatenate([[0], cum[:-1]])
            positions, parts = [], []
            for d in np.unique(which):
                sel = np.flatnonzero(which == d)
                positions.append(sel)
                parts.append(self.datasets[d].__getitems__(idx[sel] - starts[d]))
            if all(isinstance(p, tuple) and len(p) == len(parts[0]) for p in parts):
                # back from part order to the requested order
                inverse = np.empty(len(idx), dtype=np.int64)
                inverse[np.concatenate(positions)] = np.arange(len(idx))
                return tuple(np.concatenate([np.asarray(p[f]) for p in parts])[inverse]
                             for f in range(len(parts[0])))
        return [self[int(i)] for i in idx]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping ``Subset``s of the given ``lengths``, as
    PyTorch's ``random_split``: ``lengths`` are counts summing to ``len(dataset)``, or
    fractions summing to 1 (each split gets ``floor(len * fraction)``, the remainder is
    spread one by one from the first split on). ``generator`` is a ``numpy.random.Generator``;
    when None, npconv's generator (``npconv.manual_seed``) is used."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError("Fraction at index %d is not between 0 and 1 (got %r)"
                                 % (i, frac))
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn("Length of split at index %d is 0. This might result in an "
                              "empty dataset." % i, stacklevel=2)
    if any(length < 0 for length in lengths):
        raise ValueError("random_split: lengths must be non-negative, got %s" % lengths)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input "
                         "dataset! (got lengths %s summing to %s for a dataset of length %d)"
                         % (lengths, sum(lengths), n))
    rng = generator if generator is not None else _random.generator(np)
    order = rng.permutation(n)
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[end - length:end]) for end, length in zip(ends, lengths)]


class _ImageDataset(Dataset):
    """Images ``data`` (N, H, W) uint8 and ``targets`` (N,) int64, in memory.

    ``dataset[i]`` is ``(image, label)`` as in torchvision, with arrays for PIL images: the
    (H, W) uint8 array without a transform, else ``transform(image[None])`` (a (1, H, W)
    array in, as torchvision's ``ToTensor`` makes one), and the label a Python ``int``
    (``target_transform(label)`` when given). Batches (``__getitems__``) are (B, 1, H, W)
    uint8 and (B,) int64 arrays, or what ``transform`` and ``target_transform`` make of the
    whole batch; the DataLoader turns uint8 images into float32 in [0, 1]."""

    classes = [str(i) for i in range(10)]

    def __init__(self, data, targets, transform=None, target_transform=None):
        self.data = np.ascontiguousarray(data, dtype=np.uint8)
        self.targets = np.asarray(targets, dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if target.ndim == 0:
            target = int(target)
        if self.transform is not None:
            img = self.transform(img[None] if img.ndim == 2 else img[:, None])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        indices = np.asarray(indices)
        imgs = self.data[indices][:, None]
        targets = self.targets[indices]
        if self.transform is not None:
            imgs = self.transform(imgs)
        if self.target_transform is not None:
            targets = self.target_transform(targets)
        return imgs, targets

    def __repr__(self):
        return "%s(split=%s, n=%d)" % (type(self).__name__, getattr(self, "split", "?"),
                                       len(self))


class MNIST(_ImageDataset):
    """MNIST handwritten digits, read from the four IDX files.

    ``MNIST(root=None, train=True, transform=None, target_transform=None, download=False)``
    (torchvision's argument order; ``root`` may be omitted). The files
    (``train-images-idx3-ubyte[.gz]`` etc., or ``train-images.idx3-ubyte``) are looked for
    in, in order: ``root`` (and
    ``root/<key>``, ``root/<ClassName>[/raw]``), ``$NPCONV_DATA/<key>``,
    ``~/.cache/npconv/<key>`` and, for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist``
    (Debian's ``dataset-fashion-mnist`` package). With ``download=True`` missing files are
    fetched from the official mirrors into ``root/<key>`` (or ``$NPCONV_DATA/<key>``, else
    ``~/.cache/npconv/<key>``) and checked against the published checksums.
    """

    key = "mnist"
    name = "MNIST"
    image_size = (28, 28)
    system_dirs = ()
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    # injectable for tests / private mirrors: None means download.MIRRORS / RESOURCES
    mirrors = None
    resources = None

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = root
        self.train = bool(train)
        self.split = "train" if train else "test"
        prefix = "train" if train else "t10k"
        names = (prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte")
        searched = self.search_dirs(root)
        folder = self._find(searched, names)
        if folder is None and download:
            target = os.path.join(os.fspath(root) if root is not None else default_data_dir(),
                                  self.key)
            try:
                download_dataset(self.key, target, mirrors=self.mirrors,
                                 resources=self.resources)
            except DownloadError as e:
                raise DatasetNotFoundError(offline_message(self.name, target, searched,
                                                           error=e)) from None
            folder = self._find([target], names)
        if folder is None:
            raise DatasetNotFoundError(offline_message(
                self.name, os.path.join(os.fspath(root) if root is not None
                                        else default_data_dir(), self.key), searched))
        self.folder = folder
        img_path, lab_path = self._path(folder, names[0]), self._path(folder, names[1])
        images, labels = read_idx(img_path), read_idx(lab_path)
        self._check(images, labels, img_path, lab_path)
        super().__init__(images, labels, transform, target_transform)

    def _check(self, images, labels, img_path, lab_path):
        """Refuse files that are valid IDX but not this dataset (another dtype or shape,
        labels outside the classes): they would train silently on garbage."""
        h, w = self.image_size
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (h, w):
            raise ValueError("%s: expected %s images as uint8 of shape (N, %d, %d), got %s "
                             "of shape %s" % (img_path, self.name, h, w, images.dtype,
                                              images.shape))
        if labels.dtype.kind not in "iu" or labels.ndim != 1:
            raise ValueError("%s: expected %s labels as integers of shape (N,), got %s of "
                             "shape %s" % (lab_path, self.name, labels.dtype, labels.shape))
        if len(images) != len(labels):
            raise ValueError("%s holds %d labels but %s holds %d images"
                             % (lab_path, len(labels), img_path, len(images)))
        k = len(self.classes)
        bad = (labels < 0) | (labels >= k)
        if bad.any():
            raise ValueError("%s: labels must be in [0, %d) (%d classes), got %d at index %d"
                             % (lab_path, k, k, labels[bad][0], np.flatnonzero(bad)[0]))

    @classmethod
    def search_dirs(cls, root=None):
        dirs = []
        if root is not None:
            root = os.fspath(root)
            dirs += [root, os.path.join(root, cls.key), os.path.join(root, cls.__name__),
                     os.path.join(root, cls.__name__, "raw")]
        env = os.environ.get("NPCONV_DATA")
        if env:
            dirs.append(os.path.join(env, cls.key))
        dirs.append(os.path.join(os.path.expanduser("~"), ".cache", "npconv", cls.key))
        dirs += list(cls.system_dirs)
        return dirs

    @staticmethod
    def _path(folder, stem):
        # also the common ``train-images.idx3-ubyte`` spelling (a dot before ``idx``)
        dotted = stem.replace("-idx", ".idx")
        for cand in (stem + ".gz", stem, dotted + ".gz", dotted):
            p = os.path.join(folder, cand)
            if os.path.isfile(p):
                return p
        return None

    @classmethod
    def _find(cls, dirs, names):
        for d in dirs:
            if all(cls._path(d, n) for n in names):
                return d
        return None

    @classmethod
    def available(cls, root=None):
        """True when both splits' files are found (without reading them)."""
        dirs = cls.search_dirs(root)
        return all(cls._find(dirs, (p + "-images-idx3-ubyte", p + "-labels-idx1-ubyte"))
                   for p in ("train", "t10k"))


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando Research, MIT licence): 28x28 greyscale clothing images in
    10 classes; same layout and search order as ``MNIST``, plus the Debian system folder."""

    key = "fashion-mnist"
    name = "Fashion-MNIST"
    system_dirs = (SYSTEM_FASHION_MNIST,)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST (CODH, CC BY-SA 4.0): 28x28 cursive Japanese characters in 10 classes."""

    key = "kmnist"
    name = "KMNIST"
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


def bundled_path():
    """Path of the Fashion-MNIST subset shipped inside the package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), BUNDLED_FILE)


class BundledFashionMNIST(_ImageDataset):
    """The stratified Fashion-MNIST subset shipped with npconv (12,000 training and 2,000
    test images, balanced over the 10 classes; see ``scripts/make_bundled.py``). Needs
    no download: the default of ``python -m npconv.train`` when the full set is absent."""

    name = "Fashion-MNIST (bundled subset)"
    classes = FashionMNIST.classes

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        self.train = bool(train)
        self.split = "train" if train else "test"
        path = bundled_path() if root is None else os.fspath(root)
        if not os.path.isfile(path):
            raise DatasetNotFoundError("the bundled Fashion-MNIST subset %s is missing; "
                                       "rebuild it with scripts/make_bundled.py" % path)
        with np.load(path) as z:
            data = z["x_train" if train else "x_test"]
            targets = z["y_train" if train else "y_test"]
        super().__init__(data, targets, transform, target_transform)
