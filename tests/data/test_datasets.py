import os

import numpy as np
import pytest

from npconv.data import (KMNIST, MNIST, BundledFashionMNIST, DatasetNotFoundError,
                         FashionMNIST, TensorDataset, bundled_path)
from npconv.data import datasets as ds_mod



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
    with pytest.raises(ValueError):
        TensorDataset(x, y[:5])
    assert ds_mod.default_data_dir()
