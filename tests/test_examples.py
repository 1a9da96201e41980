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


_SCRIPTS = sorted(f[:-3] for f in os.listdir(EXAMPLES) if f.endswith(".py"))


@pytest.mark.parametrize("name", _SCRIPTS)
def test_every_example_takes_help(name):
    """examples/README.md: every script runs on its own and answers --help."""
    import subprocess
    import sys
    root = os.path.dirname(EXAMPLES)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name + ".py"), "--help"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: " + name + ".py") and "--help" in proc.stdout


def test_custom_function_main(capsys):
    ok, first, last, beta = _load("custom_function").main(["--steps", "3"])
    assert ok and "gradcheck: True" in capsys.readouterr().out


def test_lenet_mnist_not_found_names_its_own_options(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NPCONV_DATA", str(tmp_path / "nothing"))
    with pytest.raises(SystemExit) as e:
        _load("lenet_mnist").main(["--root", str(tmp_path / "empty"), "--epochs", "1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "MNIST was not found" in err and "--root FOLDER" in err and "--download" in err
    assert "--data-root" not in err and "--dataset" not in err and "npconv-train" not in err


def _tiny_fashion(monkeypatch, mod, n_train=64, n_test=40):
    """The script's data, cut down: no full Fashion-MNIST, a bundled subset of
    ``n_train``/``n_test`` images."""
    from npconv.data import BundledFashionMNIST, DatasetNotFoundError, Subset

    def missing(*args, **kwargs):
        raise DatasetNotFoundError("not here")

    def small(train=True, transform=None):
        return Subset(BundledFashionMNIST(train=train, transform=transform),
                      np.arange(n_train if train else n_test))
    monkeypatch.setattr(mod, "FashionMNIST", missing)
    monkeypatch.setattr(mod, "BundledFashionMNIST", small)


def test_resnet_fashion_limit_is_clamped_to_the_data(tmp_path, monkeypatch, capsys):
    mod = _load("resnet_fashion")
    _tiny_fashion(monkeypatch, mod)
    # --limit above both sizes: the whole (64-image) train and (40-image) test sets
    best = mod.main(["--epochs", "1", "--limit", "100", "--batch-size", "32",
                     "--save", str(tmp_path / "r.npz")])
    assert 0.0 <= best <= 1.0
    assert "epoch 1: loss" in capsys.readouterr().out


@pytest.mark.parametrize("argv, why", [
    (["--limit", "32", "--batch-size", "64"], "32 training images (--limit 32)"),
    (["--batch-size", "65"], "64 training images (the whole set)"),
    (["--limit", "-3"], "--limit must be a positive"),
])
def test_resnet_fashion_no_full_batch_is_a_usage_error(argv, why, tmp_path, monkeypatch,
                                                       capsys):
    mod = _load("resnet_fashion")
    _tiny_fashion(monkeypatch, mod)
    with pytest.raises(SystemExit) as e:
        mod.main(["--epochs", "1", "--save", str(tmp_path / "r.npz")] + argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and why in err
    assert not (tmp_path / "r.npz").exists()


def test_visualize_filters_limit_is_clamped(tmp_path, monkeypatch):
    mod = _load("visualize_filters")
    from npconv.data import BundledFashionMNIST, Subset
    monkeypatch.setattr(mod, "BundledFashionMNIST", lambda train=True, transform=None: Subset(
        BundledFashionMNIST(train=train, transform=transform), np.arange(40)))
    written = mod.main(["--out", str(tmp_path), "--steps", "1", "--limit", "1000"])
    assert len(written) == 2


@pytest.mark.parametrize("name,argv", [("visualize_filters", ["--limit", "-1"]),
                                       ("visualize_filters", ["--steps", "0"]),
                                       ("lenet_mnist", ["--limit", "0"]),
                                       ("lenet_mnist", ["--epochs", "-2"])])
def test_examples_refuse_non_positive_counts(name, argv, capsys):
    # --limit -1 made visualize_filters loop forever, --steps 0 crashed after training
    with pytest.raises(SystemExit) as e:
        _load(name).main(argv)
    assert e.value.code == 2
    assert "must be a positive integer" in capsys.readouterr().err
