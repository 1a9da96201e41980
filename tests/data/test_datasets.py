import os

import numpy as np
import pytest

from npconv.data import (KMNIST, MNIST, BundledFashionMNIST, ConcatDataset, DataLoader,
                         Dataset, DatasetNotFoundError, FashionMNIST, Subset, TensorDataset,
                         bundled_path, random_split)
from npconv.data import datasets as ds_mod
from npconv.data import transforms as T


def test_root_is_searched_first(mnist_files, tmp_path, isolated_data_env):
    arrs = mnist_files(tmp_path / "r")
    d = MNIST(root=tmp_path / "r", train=True)
    assert len(d) == 60 and d.data.dtype == np.uint8 and d.targets.dtype == np.int64
    np.testing.assert_array_equal(d.data, arrs["train"][0])
    img, lab = d[3]
    assert img.shape == (28, 28) and img.dtype == np.uint8 and lab == 3
    t = MNIST(root=tmp_path / "r", train=False)
    assert len(t) == 20


def test_uncompressed_and_subfolders(mnist_files, tmp_path, isolated_data_env):
    mnist_files(tmp_path / "r" / "kmnist", compress=False)
    assert len(KMNIST(root=tmp_path / "r")) == 60
    mnist_files(tmp_path / "r2" / "FashionMNIST" / "raw")
    assert len(FashionMNIST(root=tmp_path / "r2", train=False)) == 20


def test_dotted_file_names(mnist_files, tmp_path, isolated_data_env):
    """``train-images.idx3-ubyte`` (a dot before idx, as many copies of MNIST spell it)."""
    arrs = mnist_files(tmp_path / "r", compress=False)
    for f in os.listdir(tmp_path / "r"):
        os.rename(tmp_path / "r" / f, tmp_path / "r" / f.replace("-idx", ".idx"))
    assert MNIST.available(tmp_path / "r")
    d = MNIST(root=tmp_path / "r")
    np.testing.assert_array_equal(d.data, arrs["train"][0])


def test_env_then_cache_order(mnist_files, tmp_path, isolated_data_env, monkeypatch):
    mnist_files(isolated_data_env / ".cache" / "npconv" / "mnist", n_train=30)
    assert len(MNIST()) == 30                           # ~/.cache/npconv
    mnist_files(tmp_path / "env" / "mnist", n_train=40)
    monkeypatch.setenv("NPCONV_DATA", str(tmp_path / "env"))
    assert len(MNIST()) == 40                           # $NPCONV_DATA before the cache
    mnist_files(tmp_path / "root", n_train=50)
    assert len(MNIST(root=tmp_path / "root")) == 50     # root before both
    dirs = MNIST.search_dirs(tmp_path / "root")
    assert dirs[0] == str(tmp_path / "root")
    assert dirs.index(str(tmp_path / "env" / "mnist")) < dirs.index(
        str(isolated_data_env / ".cache" / "npconv" / "mnist"))


def test_system_folder_only_for_fashion(isolated_data_env):
    assert FashionMNIST.search_dirs()[-1] == "/usr/share/datasets/fashion-mnist"
    assert "/usr/share/datasets/fashion-mnist" not in MNIST.search_dirs()
    assert "/usr/share/datasets/fashion-mnist" not in KMNIST.search_dirs()


def test_not_found_message_lists_the_ways(tmp_path, isolated_data_env, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    with pytest.raises(DatasetNotFoundError) as e:
        FashionMNIST(root=tmp_path / "nowhere")
    msg = str(e.value)
    for needle in ("download=True", "NPCONV_DATA", "apt-get install dataset-fashion-mnist",
                   "--dataset bundled", "Searched"):
        assert needle in msg
    assert not MNIST.available(tmp_path / "nowhere")


def test_transform_applied_batchwise(mnist_files, tmp_path, isolated_data_env):
    mnist_files(tmp_path / "r")
    calls = []

    def t(x):
        calls.append(x.shape)
        return x.astype(np.float32) / 255

    d = MNIST(root=tmp_path / "r", transform=t)
    x, y = d.__getitems__(np.array([0, 5, 7]))
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and list(y) == [0, 5, 7]
    assert calls == [(3, 1, 28, 28)]
    img, _ = d[0]
    assert img.shape == (1, 28, 28)


def test_bundled_subset_is_stratified_and_shipped():
    assert os.path.isfile(bundled_path())
    assert os.path.getsize(bundled_path()) < 8e6
    tr, te = BundledFashionMNIST(train=True), BundledFashionMNIST(train=False)
    assert tr.data.shape == (12000, 28, 28) and te.data.shape == (2000, 28, 28)
    assert tr.targets.dtype == np.int64
    assert np.all(np.bincount(tr.targets, minlength=10) == 1200)
    assert np.all(np.bincount(te.targets, minlength=10) == 200)
    with np.load(bundled_path()) as z:
        assert len(np.unique(z["train_index"])) == 12000


@pytest.mark.skipif(not FashionMNIST.available(), reason="full Fashion-MNIST not installed")
def test_bundled_matches_full_data():
    full = FashionMNIST(train=False)
    with np.load(bundled_path()) as z:
        idx = z["test_index"]
        np.testing.assert_array_equal(full.data[idx], z["x_test"])
        np.testing.assert_array_equal(full.targets[idx], z["y_test"])


@pytest.mark.parametrize("images, labels, match", [
    (np.zeros((4, 28, 28), np.int16), np.arange(4), "images-idx3-ubyte: expected MNIST "
     "images as uint8 of shape \\(N, 28, 28\\), got int16"),
    (np.zeros((4, 32, 32), np.uint8), np.arange(4), "got uint8 of shape \\(4, 32, 32\\)"),
    (np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 200, 3]),
     "labels-idx1-ubyte: labels must be in \\[0, 10\\).*got 200 at index 2"),
    (np.zeros((4, 28, 28), np.uint8), np.array([0, 1, -3, 3]), "got -3 at index 2"),
    (np.zeros((4, 28, 28), np.uint8), np.zeros((4, 2)), "labels as integers of shape"),
    (np.zeros((4, 28, 28), np.uint8), np.arange(3), "holds 3 labels but .* holds 4 images"),
])
def test_valid_idx_files_that_are_not_mnist_are_refused(tmp_path, isolated_data_env, images,
                                                         labels, match):
    from npconv.data import write_idx
    d = tmp_path / "r"
    d.mkdir()
    write_idx(d / "t10k-images-idx3-ubyte", images)
    labels = labels.astype(np.int16 if labels.min() < 0 or labels.max() > 255 else np.uint8)
    write_idx(d / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match=match) as e:
        MNIST(root=d, train=False)
    assert str(d) in str(e.value)


def test_subset_indexing_like_torch():
    s = ds_mod.Subset(TensorDataset(np.arange(10) * 10), [1, 2, 3])
    assert s[-1][0] == 30 and s[np.int64(0)][0] == 10
    np.testing.assert_array_equal(s[0:2][0], [10, 20])
    np.testing.assert_array_equal(s[[0, 2]][0], [10, 30])


def test_tensor_dataset():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    d = TensorDataset(x, y)
    assert len(d) == 10
    a, b = d.__getitems__([1, 3])
    np.testing.assert_array_equal(a, x[[1, 3]])
    with pytest.raises(ValueError, match=r"Size mismatch between tensors.*got \[10, 5\]"):
        TensorDataset(x, y[:5])
    assert ds_mod.default_data_dir()
    a, b = d[-1]
    assert a.tolist() == [18, 19] and b == 9
    a, b = d[-10]
    assert a.tolist() == [0, 1] and b == 0


def test_dataset_base_and_add():
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        Dataset()[0]
    c = TensorDataset(np.arange(3)) + TensorDataset(np.arange(3, 5))
    assert isinstance(c, ConcatDataset) and len(c) == 5


def test_concat_dataset_indexing():
    a = TensorDataset(np.arange(5), np.arange(5) * 10)
    b = TensorDataset(np.arange(5, 8), np.arange(5, 8) * 10)
    c = ConcatDataset([a, b])
    assert len(c) == 8 and c.cumulative_sizes == [5, 8]
    assert [int(c[i][1]) for i in (0, 4, 5, 7, -1, -8)] == [0, 40, 50, 70, 70, 0]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset "
                                         "length"):
        c[-9]
    with pytest.raises(IndexError, match="index 8 is out of range .* length 8"):
        c[8]
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    x, y = c.__getitems__([7, 0, 5, -8, 3])           # requested order across the parts
    assert x.tolist() == [7, 0, 5, 0, 3] and y.tolist() == [70, 0, 50, 0, 30]
    with pytest.raises(IndexError, match="index 9 is out of range"):
        c.__getitems__([1, 9])


def test_concat_dataset_keeps_the_vectorized_path():
    class NoPerSample(TensorDataset):
        def __getitem__(self, i):
            raise AssertionError("per-sample access on an in-memory dataset")

    x = np.arange(12, dtype=np.uint8).reshape(6, 1, 1, 2)
    c = ConcatDataset([NoPerSample(x[:4], np.arange(4)),
                       Subset(NoPerSample(x[4:], np.arange(4, 6)), [1, 0])])
    labels = [yb.numpy().tolist() for _, yb in DataLoader(c, batch_size=4)]
    assert labels == [[0, 1, 2, 3], [5, 4]]
    xb, _ = next(iter(DataLoader(c, batch_size=6, sampler=[5, 0])))
    np.testing.assert_allclose(xb.numpy().ravel(), np.array([8, 9, 0, 1]) / 255, rtol=1e-6)

    class Plain(Dataset):                     # a part without __getitems__: per-sample
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.full((1, 1, 2), 100 + i, np.uint8), 100 + i

    mixed = ConcatDataset([TensorDataset(x[:2], np.arange(2)), Plain()])
    assert next(iter(DataLoader(mixed, batch_size=4)))[1].numpy().tolist() == [0, 1, 100, 101]


@pytest.mark.parametrize("lengths, want", [
    ([3, 7], [3, 7]), ([0.5, 0.5], [5, 5]), ([0.3, 0.3, 0.4], [3, 3, 4]),
    ([1 / 3, 1 / 3, 1 / 3], [4, 3, 3]), ([0.34, 0.33, 0.33], [4, 3, 3]),
    ([0.25, 0.25, 0.25, 0.25], [3, 3, 2, 2])])
def test_random_split_lengths(lengths, want):
    parts = random_split(TensorDataset(np.arange(10)), lengths,
                         generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == want and all(isinstance(p, Subset) for p in parts)
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))        # disjoint and covering


def test_random_split_generator_and_errors():
    ds = TensorDataset(np.arange(10))
    a = random_split(ds, [4, 6], generator=np.random.default_rng(5))
    order = np.random.default_rng(5).permutation(10)
    assert a[0].indices.tolist() == order[:4].tolist()
    assert a[1].indices.tolist() == order[4:].tolist()
    assert [int(a[0][i][0]) for i in range(4)] == order[:4].tolist()
    import npconv as nc
    nc.manual_seed(2)
    b = random_split(ds, [4, 6])
    nc.manual_seed(2)
    assert random_split(ds, [4, 6])[0].indices.tolist() == b[0].indices.tolist()
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of "
                                         "the input dataset!.*summing to 6 .* length 10"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(ds, [1.2, -0.2])
    with pytest.warns(UserWarning) as rec:
        parts = random_split(TensorDataset(np.arange(2)), [0.9, 0.05, 0.05])
    assert [len(p) for p in parts] == [2, 0, 0]
    assert [str(w.message) for w in rec] == [
        "Length of split at index %d is 0. This might result in an empty dataset." % i
        for i in (1, 2)]


def test_mnist_sample_types_and_target_transform(mnist_files, tmp_path, isolated_data_env):
    arrs = mnist_files(tmp_path / "r")
    x, y = arrs["train"]
    # torchvision's positional order: root, train, transform, target_transform, download
    d = MNIST(tmp_path / "r", True, T.ToTensor(), lambda t: t + 100)
    img, lab = d[-1]
    assert img.shape == (1, 28, 28) and img.dtype == np.float32
    np.testing.assert_allclose(img[0], x[-1] / 255, rtol=1e-6)
    assert type(lab) is int and lab == int(y[-1]) + 100
    xb, yb = d.__getitems__(np.array([2, 3]))
    assert xb.shape == (2, 1, 28, 28) and yb.tolist() == [102, 103]     # batch-wise too
    plain = MNIST(tmp_path / "r")
    img, lab = plain[7]
    assert img.shape == (28, 28) and img.dtype == np.uint8 and type(lab) is int and lab == 7
    xs, ys = plain[2:4]                                 # slices (Subset) give arrays
    assert xs.shape == (2, 28, 28) and ys.tolist() == [2, 3]
    xs, _ = MNIST(tmp_path / "r", transform=T.ToTensor())[2:4]
    assert xs.shape == (2, 1, 28, 28)                   # as a batch: one channel axis


def test_bundled_fashion_mnist_through_the_loader():
    ds = BundledFashionMNIST(train=False)
    img, lab = ds[0]
    assert img.shape == (28, 28) and img.dtype == np.uint8 and type(lab) is int
    xb, yb = next(iter(DataLoader(ds, batch_size=16)))
    assert xb.shape == (16, 1, 28, 28) and xb.dtype == np.float32
    assert yb.shape == (16,) and yb.dtype == np.int64
    np.testing.assert_allclose(xb.numpy()[:, 0], ds.data[:16] / 255, rtol=1e-6)
    assert yb.numpy().tolist() == ds.targets[:16].tolist()
    assert float(xb.numpy().max()) <= 1.0 and float(xb.numpy().min()) >= 0.0
