import numpy as np
import pytest

from npconv.data.idx import write_idx


def make_mnist_files(folder, n_train=60, n_test=20, seed=0, compress=True):
    """Four small IDX files in the MNIST layout; returns their arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    ext = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = (np.arange(n) % 10).astype(np.uint8)
        write_idx(folder / (prefix + "-images-idx3-ubyte" + ext), x)
        write_idx(folder / (prefix + "-labels-idx1-ubyte" + ext), y)
        out[prefix] = (x, y)
    return out


@pytest.fixture
def mnist_files():
    return make_mnist_files


@pytest.fixture
def isolated_data_env(tmp_path, monkeypatch):
    """No $NPCONV_DATA, HOME in tmp: the search sees only what a test puts there."""
    monkeypatch.delenv("NPCONV_DATA", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home
