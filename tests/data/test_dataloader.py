import re
from collections import namedtuple

import numpy as np
import pytest

import npconv as nc
from npconv.data import (BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler,
                         SubsetRandomSampler, TensorDataset, default_collate, default_convert)
from npconv.data import transforms as T


def _ds(n=10):
    x = np.arange(n * 4, dtype=np.uint8).reshape(n, 1, 2, 2)
    return TensorDataset(x, np.arange(n))


def test_batches_are_tensors_scaled_and_int64():
    dl = DataLoader(_ds(), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    x, y = batches[0]
    assert isinstance(x, nc.Tensor) and isinstance(y, nc.Tensor)
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x.numpy(), np.arange(16).reshape(4, 1, 2, 2) / 255, rtol=1e-6)


def test_drop_last():
    dl = DataLoader(_ds(), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [len(b[1]) for b in dl] == [4, 4]


def test_shuffle_seeded_covers_everything_and_repeats():
    a = [b[1].numpy().tolist() for b in DataLoader(_ds(), 3, shuffle=True, seed=5)]
    b = [b[1].numpy().tolist() for b in DataLoader(_ds(), 3, shuffle=True, seed=5)]
    assert a == b and sorted(sum(a, [])) == list(range(10)) and sum(a, []) != list(range(10))
    dl = DataLoader(_ds(), 10, shuffle=True, seed=5)
    e1, e2 = [next(iter(dl))[1].numpy().tolist() for _ in range(2)]
    assert e1 != e2                                   # a new permutation each epoch


def test_shuffle_without_seed_follows_manual_seed():
    nc.manual_seed(3)
    a = [b[1].numpy().tolist() for b in DataLoader(_ds(), 10, shuffle=True)]
    nc.manual_seed(3)
    b = [b[1].numpy().tolist() for b in DataLoader(_ds(), 10, shuffle=True)]
    assert a == b


def test_bulk_path_used_no_per_sample_getitem():
    class Counting(TensorDataset):
        def __getitem__(self, i):
            raise AssertionError("per-sample access on an in-memory dataset")

    list(DataLoader(Counting(*_ds().arrays), batch_size=4, shuffle=True, seed=0))


def test_generic_dataset_is_collated():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((2,), i, np.float64), i * i

    x, y = next(iter(DataLoader(Squares(), batch_size=5)))
    assert x.shape == (5, 2) and x.dtype == np.float32
    assert y.numpy().tolist() == [0, 1, 4, 9, 16] and y.dtype == np.int64


@pytest.mark.parametrize("bad", [0, -1, 2.7, 3.0, True, "2"])
def test_invalid_batch_size(bad):
    # as PyTorch: a positive int only; 2.7 is not truncated to 2, True is not 1
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, "
                                         "but got batch_size=%s" % re.escape(repr(bad))):
        DataLoader(_ds(), batch_size=bad)
    assert DataLoader(_ds(), batch_size=np.int64(3)).batch_size == 3


def test_uint8_labels_stay_integers(tmp_path):
    """IDX label files are uint8: only the first field (the images) is scaled to [0, 1]."""
    from npconv.data import read_idx, write_idx
    labels = read_idx(write_idx(tmp_path / "labels-idx1-ubyte", np.arange(10, dtype=np.uint8)))
    assert labels.dtype == np.uint8
    x = np.full((10, 1, 2, 2), 255, np.uint8)
    xb, yb = next(iter(DataLoader(TensorDataset(x, labels), batch_size=10)))
    assert yb.dtype == np.int64 and yb.numpy().tolist() == list(range(10))
    assert xb.dtype == np.float32 and np.all(xb.numpy() == 1.0)

    class Samples(Dataset):             # the per-sample path: numpy uint8 scalars as labels
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full((2, 2), 255, np.uint8), np.uint8(i + 5)

    xb, yb = next(iter(DataLoader(Samples(), batch_size=4)))
    assert yb.dtype == np.int64 and yb.numpy().tolist() == [5, 6, 7, 8]
    assert xb.dtype == np.float32 and np.all(xb.numpy() == 1.0)


def test_batch_has_the_structure_of_a_sample():
    x = np.arange(10, dtype=np.float32)
    batches = list(DataLoader(TensorDataset(x), batch_size=4))
    assert all(isinstance(b, list) and len(b) == 1 for b in batches)     # as PyTorch
    got = [xb.numpy().tolist() for (xb,) in DataLoader(TensorDataset(x), batch_size=4)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    xb, yb = next(iter(DataLoader(_ds(), batch_size=4)))
    assert isinstance(xb, nc.Tensor) and isinstance(yb, nc.Tensor)

    class Bare(Dataset):                # a sample that is one array: batches are Tensors
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i, np.float32)

    b = next(iter(DataLoader(Bare(), batch_size=3)))
    assert isinstance(b, nc.Tensor) and b.shape == (3, 2)


def test_dict_samples_are_collated_per_key():
    class Dicts(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"image": np.full((2, 2), 255, np.uint8), "label": np.uint8(i),
                    "pair": (np.float64(i), i)}

    b = next(iter(DataLoader(Dicts(), batch_size=3)))
    assert list(b) == ["image", "label", "pair"]
    assert b["image"].dtype == np.float32 and np.all(b["image"].numpy() == 1.0)
    assert b["label"].dtype == np.int64 and b["label"].numpy().tolist() == [0, 1, 2]
    assert b["pair"][0].dtype == np.float32 and b["pair"][1].dtype == np.int64

    class Ragged(Dicts):
        def __getitem__(self, i):
            return {"image": np.zeros(2)} if i else {"x": np.zeros(2)}

    with pytest.raises(TypeError, match="same keys"):
        next(iter(DataLoader(Ragged(), batch_size=3)))


def _labels(loader):
    return [b[1].numpy().tolist() for b in loader]


@pytest.mark.parametrize("n, bs, drop_last, want", [
    (10, 4, False, 3), (10, 4, True, 2), (8, 4, False, 2), (8, 4, True, 2),
    (3, 4, False, 1), (3, 4, True, 0), (10, 1, False, 10)])
def test_len_with_and_without_drop_last(n, bs, drop_last, want):
    dl = DataLoader(_ds(n), batch_size=bs, drop_last=drop_last)
    assert len(dl) == want
    batches = _labels(dl)
    assert len(batches) == want
    assert sum(batches, []) == list(range(want * bs if drop_last else n))


def test_shuffle_default_is_sequential():
    dl = DataLoader(_ds(), batch_size=4)
    assert dl.shuffle is False and isinstance(dl.sampler, SequentialSampler)
    assert _labels(dl) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert _labels(DataLoader(_ds(), batch_size=4, shuffle=None)) == _labels(dl)


def test_generator_reproducible_and_new_order_each_epoch():
    def epochs(gen, k=3):
        dl = DataLoader(_ds(), batch_size=10, shuffle=True, generator=gen)
        return [_labels(dl)[0] for _ in range(k)]

    a = epochs(np.random.default_rng(7))
    assert a == epochs(np.random.default_rng(7))
    assert all(sorted(e) == list(range(10)) for e in a)
    assert a[0] != a[1] and a[1] != a[2]                # a new permutation every epoch
    # the loader draws exactly one permutation per epoch from the generator
    g = np.random.default_rng(7)
    assert a == [g.permutation(10).tolist() for _ in range(3)]
    # seed= (npconv's shorthand) is a generator seeded with it
    assert _labels(DataLoader(_ds(), 10, shuffle=True, seed=7))[0] == a[0]


def test_generator_errors():
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(_ds(), shuffle=True, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="numpy.random.Generator.*got int"):
        DataLoader(_ds(), shuffle=True, generator=3)


def test_custom_sampler_and_batch_sampler():
    dl = DataLoader(_ds(), batch_size=3, sampler=[9, 0, 8, 1, 7])
    assert len(dl) == 2 and _labels(dl) == [[9, 0, 8], [1, 7]]
    dl = DataLoader(_ds(), batch_size=3, sampler=[9, 0, 8, 1, 7], drop_last=True)
    assert len(dl) == 1 and _labels(dl) == [[9, 0, 8]]
    dl = DataLoader(_ds(), batch_sampler=[[3, 1], [0], [9, 8, 7]])
    assert dl.batch_size is None and dl.drop_last is False
    assert _labels(dl) == [[3, 1], [0], [9, 8, 7]]
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    bs = BatchSampler(range(7), 3, drop_last=True)   # any iterable of indices
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(bs) == 2
    assert _labels(DataLoader(_ds(), batch_sampler=bs)) == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive "
     "with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching "
     "and is mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in "
     "multiprocessing"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
])
def test_argument_errors_as_pytorch(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(_ds(), **kwargs)


def test_worker_options_accepted_and_load_in_process():
    dl = DataLoader(_ds(), batch_size=4, num_workers=2, pin_memory=True, prefetch_factor=2,
                    persistent_workers=True)
    assert _labels(dl) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_size_none_yields_single_converted_samples():
    dl = DataLoader(_ds(3), batch_size=None)
    assert len(dl) == 3 and dl.batch_size is None
    out = list(dl)
    assert len(out) == 3
    x, y = out[1]
    assert x.shape == (1, 2, 2) and x.dtype == np.float32           # not stacked
    np.testing.assert_allclose(x.numpy(), np.array([4, 5, 6, 7]).reshape(1, 2, 2) / 255,
                               rtol=1e-6)
    assert y.shape == () and y.dtype == np.int64 and y.item() == 1
    dl = DataLoader(_ds(3), batch_size=None, sampler=[2, 0])
    assert [s[1].item() for s in dl] == [2, 0]


def test_random_samplers():
    g = np.random.default_rng(3)
    s = RandomSampler(range(5), generator=g)
    assert len(s) == 5 and sorted(s) == [0, 1, 2, 3, 4]
    s = RandomSampler(range(5), replacement=True, num_samples=50,
                      generator=np.random.default_rng(0))
    got = list(s)
    assert len(s) == 50 and len(got) == 50 and set(got) <= set(range(5)) and len(set(got)) > 1
    s = RandomSampler(range(3), num_samples=7, generator=np.random.default_rng(0))
    got = list(s)                          # without replacement: chained permutations
    assert len(got) == 7 and sorted(got[:3]) == [0, 1, 2] and sorted(got[3:6]) == [0, 1, 2]
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got "
                                        "replacement=1"):
        RandomSampler(range(5), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, "
                                         "but got num_samples=0"):
        RandomSampler(range(0))
    s = SubsetRandomSampler([10, 20, 30], generator=np.random.default_rng(0))
    assert len(s) == 3 and sorted(s) == [10, 20, 30]
    assert sorted(sum(_labels(DataLoader(_ds(), 2, sampler=SubsetRandomSampler([1, 5, 9]))),
                      [])) == [1, 5, 9]
    dl = DataLoader(_ds(), 10, sampler=RandomSampler(_ds(), generator=np.random.default_rng(4)))
    assert _labels(dl)[0] == np.random.default_rng(4).permutation(10).tolist()


def test_collate_python_numbers_bools_strings():
    class Mixed(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i, np.float32), 0.5 * i, i % 2 == 0, "s%d" % i, i

    x, f, b, s, k = next(iter(DataLoader(Mixed(), batch_size=3)))
    assert f.dtype == np.float32 and f.numpy().tolist() == [0.0, 0.5, 1.0]   # not float64
    assert b.dtype == np.bool_ and b.numpy().tolist() == [True, False, True]
    assert s == ["s0", "s1", "s2"]
    assert k.dtype == np.int64 and k.numpy().tolist() == [0, 1, 2]


def test_collate_namedtuples_nested_and_tensors():
    Pair = namedtuple("Pair", "image label")
    samples = [Pair(np.full((1, 2), 255, np.uint8), (np.int64(i), [1.5, i])) for i in range(3)]
    b = default_collate(samples)
    assert isinstance(b, Pair)
    assert b.image.dtype == np.float32 and b.image.shape == (3, 1, 2)
    assert np.all(b.image.numpy() == 1.0)
    lab, (a, c) = b.label
    assert lab.numpy().tolist() == [0, 1, 2]
    assert a.numpy().tolist() == [1.5, 1.5, 1.5] and c.numpy().tolist() == [0, 1, 2]
    t = default_collate([nc.tensor([1.0, 2.0]), nc.tensor([3.0, 4.0])])
    assert isinstance(t, nc.Tensor) and t.numpy().tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("samples, exc, match", [
    ([np.zeros(2), np.zeros(3)], RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at "
     r"entry 1"),
    ([(1, 2), (1, 2, 3)], RuntimeError,
     "each element in list of batch should be of equal size, got 2 and 3"),
    ([object(), object()], TypeError, "default_collate: batch must contain tensors, numpy "
     "arrays, numbers, dicts or lists; found <class 'object'>"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
])
def test_collate_errors_as_pytorch(samples, exc, match):
    with pytest.raises(exc, match=match):
        default_collate(samples)


def test_default_convert_structure():
    out = default_convert({"x": np.arange(3, dtype=np.uint8), "n": (np.float64(2.5), 7),
                           "s": "keep"})
    assert out["x"].dtype == np.float32
    np.testing.assert_allclose(out["x"].numpy(), [0, 1 / 255, 2 / 255], rtol=1e-6)
    f, n = out["n"]
    assert f.dtype == np.float32 and f.shape == () and f.item() == 2.5
    assert n == 7 and isinstance(n, int)           # Python numbers stay, as in PyTorch
    assert out["s"] == "keep"
    lab = default_convert(np.arange(3, dtype=np.uint8), scale_uint8=False)
    assert lab.dtype == np.int64 and lab.numpy().tolist() == [0, 1, 2]


# --------------------------------------------------------------------------- transforms
def test_normalize_per_channel():
    x = np.full((2, 3, 4, 4), 255, np.uint8)
    y = T.Normalize((0.5, 0.0, 1.0), (0.5, 1.0, 2.0))(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[:, 0], 1.0)
    np.testing.assert_allclose(y[:, 1], 1.0)
    np.testing.assert_allclose(y[:, 2], 0.0)


def test_random_crop_with_padding_is_a_shifted_window():
    g = np.random.default_rng(0)
    x = g.integers(1, 255, size=(64, 1, 6, 6)).astype(np.uint8)
    y = T.RandomCrop(6, padding=2, generator=np.random.default_rng(1))(x)
    assert y.shape == x.shape and y.dtype == np.uint8
    # each output is x shifted by some (dy, dx) in [-2, 2]^2 with zero fill
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    shifts = set()
    for i in range(len(x)):
        hits = [(dy, dx) for dy in range(5) for dx in range(5)
                if np.array_equal(padded[i, :, dy:dy + 6, dx:dx + 6], y[i])]
        assert hits
        shifts.add(hits[0])
    assert len(shifts) > 5                       # independent offsets per image
    single = T.RandomCrop(4)(x[0])
    assert single.shape == (1, 4, 4)


def test_random_horizontal_flip():
    x = np.arange(2 * 8 * 3, dtype=np.float32).reshape(8, 1, 2, 3)
    y = T.RandomHorizontalFlip(p=0.5, generator=np.random.default_rng(0))(x)
    flipped = [np.array_equal(y[i], x[i, ..., ::-1]) for i in range(8)]
    same = [np.array_equal(y[i], x[i]) for i in range(8)]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])


def test_compose_and_to_tensor_in_loader():
    t = T.Compose([T.RandomHorizontalFlip(0.0), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    x = np.zeros((4, 1, 2, 2), np.uint8)
    ds = TensorDataset(x, np.arange(4), transform=t)
    xb, _ = next(iter(DataLoader(ds, 4)))
    np.testing.assert_allclose(xb.numpy(), -1.0)
    assert "Normalize" in repr(t)


def test_to_tensor_values():
    x = np.array([0, 51, 102, 255], np.uint8).reshape(1, 2, 2)
    y = T.ToTensor()(x)
    assert y.dtype == np.float32 and y.shape == (1, 2, 2)
    np.testing.assert_allclose(y.ravel(), [0.0, 0.2, 0.4, 1.0], rtol=1e-6)
    f = np.array([[[0.25, 2.0]]], np.float32)
    out = T.ToTensor()(f)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, f)        # floats are not rescaled


def test_normalize_values_and_dtype():
    x = np.array([[[0.0, 1.0]], [[0.5, 0.25]]], np.float32)           # (C=2, H=1, W=2)
    y = T.Normalize((0.5, 0.25), (0.5, 0.25))(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[[-1.0, 1.0]], [[1.0, 0.0]]], rtol=1e-6)
    y1 = T.Normalize(0.5, 0.25)(x)                 # one value for every channel
    np.testing.assert_allclose(y1, [[[-2.0, 2.0]], [[0.0, -1.0]]], rtol=1e-6)
    yb = T.Normalize((0.5, 0.25), (0.5, 0.25))(np.stack([x, x]))
    np.testing.assert_allclose(yb, np.stack([y, y]), rtol=1e-6)


@pytest.mark.parametrize("std", [0, (1.0, 0.0), 1e-50])
def test_normalize_std_zero(std):
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to float32, "
                                         "leading to division by zero"):
        T.Normalize(0.5, std)


def test_normalize_shape_errors():
    with pytest.raises(ValueError, match=r"mean has 3 values but the image has 1 channels "
                                         r"\(shape \(4, 1, 2, 2\)\)"):
        T.Normalize((0.1, 0.2, 0.3), (1, 1, 1))(np.zeros((4, 1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="std has 2 values but the image has 3 channels"):
        T.Normalize(0.1, (1, 2))(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"size \(\.\.\., C, H, W\). Got shape \(2, 2\)"):
        T.Normalize(0.5, 0.5)(np.zeros((2, 2), np.float32))


def test_subclassed_samplers_that_override_iter_are_iterated():
    # the built-in samplers hand the loader whole index arrays; a subclass with its own
    # __iter__ must be iterated instead (it was silently bypassed)
    ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(10, 1))

    class Reversed(SequentialSampler):
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

    class Pairs(BatchSampler):
        def __iter__(self):
            yield [0, 9]
            yield [5]

    got = [b[0].reshape(-1).tolist() for b in DataLoader(ds, batch_size=4, sampler=Reversed(ds))]
    assert got == [[9.0, 8.0, 7.0, 6.0], [5.0, 4.0, 3.0, 2.0], [1.0, 0.0]]
    got = [b[0].reshape(-1).tolist()
           for b in DataLoader(ds, batch_sampler=Pairs(SequentialSampler(ds), 2, False))]
    assert got == [[0.0, 9.0], [5.0]]


def test_random_sampler_of_an_empty_dataset_with_num_samples_raises():
    empty = TensorDataset(np.zeros((0, 1), np.float32))
    with pytest.raises(ValueError, match="cannot draw num_samples=3 samples from an empty"):
        list(RandomSampler(empty, num_samples=3))
