import numpy as np
import pytest

import npconv as nc
from npconv.data import DataLoader, Dataset, TensorDataset
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


@pytest.mark.parametrize("bad", [0, -1, 2.7, 3.0, True, "2", None])
def test_invalid_batch_size(bad):
    # as PyTorch: a positive int only; 2.7 is not truncated to 2, True is not 1
    with pytest.raises(ValueError, match="batch_size"):
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
