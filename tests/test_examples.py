"""Each example runs (on tiny data); the custom Function's backward passes gradcheck."""
import importlib.util
import os

import numpy as np
import pytest

import npconv as nc
from npconv.data.idx import write_idx

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location("example_" + name,
                                                  os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tiny_mnist(folder, n=128):
    g = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        y = (np.arange(n) % 10).astype(np.uint8)
        x = (g.random((n, 28, 28)) * 60).astype(np.uint8)
        for k in range(10):                        # a learnable bright bar per class
            x[y == k, 2 + 2 * k:4 + 2 * k, :] = 255
        write_idx(folder / (prefix + "-images-idx3-ubyte.gz"), x)
        write_idx(folder / (prefix + "-labels-idx1-ubyte.gz"), y)


def test_lenet_mnist(tmp_path, capsys):
    _tiny_mnist(tmp_path / "mnist")
    acc = _load("lenet_mnist").main(["--root", str(tmp_path / "mnist"), "--epochs", "2",
                                     "--batch-size", "16"])
    assert "epoch 2: train loss" in capsys.readouterr().out
    assert acc > 0.5                 # the bars make it easy; chance is 0.1


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("beta", [0.3, 1.7])
def test_custom_function_gradcheck(shape, beta):
    ex = _load("custom_function")
    g = np.random.default_rng(1)
    x = nc.tensor(g.normal(size=shape), requires_grad=True)           # float64
    b = nc.tensor(np.array([beta]), requires_grad=True)
    assert nc.gradcheck(ex.SwishFunction.apply, (x, b))


def test_custom_function_in_a_model():
    ex = _load("custom_function")
    first, last, beta = ex.demo(steps=30)
    assert last < 0.5 * first and beta != 1.0     # trained, and beta got gradients


def test_visualize_filters(tmp_path, capsys):
    written = _load("visualize_filters").main(["--out", str(tmp_path), "--steps", "3",
                                               "--limit", "128"])
    assert len(written) == 2
    for f in written:
        assert os.path.getsize(tmp_path / f) > 100


def test_resnet_fashion(tmp_path, capsys):
    best = _load("resnet_fashion").main(["--epochs", "1", "--limit", "128", "--batch-size",
                                         "32", "--save", str(tmp_path / "r.npz")])
    assert 0.0 <= best <= 1.0 and (tmp_path / "r.npz").is_file()
    assert "epoch 1: loss" in capsys.readouterr().out
