"""The main job (npconv.train) on tiny data: outputs, reproducibility, Ctrl-C and resume."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import npconv as nc
from npconv import train as T
from npconv.data import FashionMNIST
from npconv.models import simple_cnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--dataset", "bundled", "--limit-train", "256", "--limit-test", "128",
        "--batch-size", "64", "--no-plots"]


def _run(tmp_path, *extra, name="run", step_hook=None, log=None):
    args = T.build_parser().parse_args(TINY + ["--out", str(tmp_path / name)] + list(extra))
    lines = [] if log is None else log
    doc = T.train(args, log=lines.append, step_hook=step_hook)
    return doc, lines


def _curves(doc):
    return [(h["epoch"], h["train_loss"], h["train_acc"], h["test_loss"], h["test_acc"])
            for h in doc["history"]]


def test_tiny_run_outputs(tmp_path):
    doc, lines = _run(tmp_path, "--epochs", "2")
    out = tmp_path / "run"
    for f in ("best.npz", "last.npz", "metrics.json"):
        assert (out / f).is_file(), f
    assert (out / "metrics.json").stat().st_mode & 0o044    # readable by others too
    m = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in m["history"]] == [1, 2]
    assert m["dataset"] == "bundled" and m["model"] == "simple_cnn"
    conf = np.array(m["confusion_matrix"])
    assert conf.shape == (10, 10) and conf.sum() == 128
    assert np.isclose(np.trace(conf) / 128, m["history"][-1]["test_acc"])
    assert m["best"]["test_acc"] == max(h["test_acc"] for h in m["history"])
    assert all(h["images_per_s"] > 0 for h in m["history"])
    model = simple_cnn()
    model.load_state_dict(nc.load(str(out / "best.npz")))       # best.npz holds weights
    assert any("epoch 2/2" in line for line in lines)


def test_same_seed_same_metrics(tmp_path):
    a, _ = _run(tmp_path, "--epochs", "2", "--augment", name="a")
    b, _ = _run(tmp_path, "--epochs", "2", "--augment", name="b")
    c, _ = _run(tmp_path, "--epochs", "2", "--augment", "--seed", "1", name="c")
    assert _curves(a) == _curves(b)
    assert _curves(a) != _curves(c)


@pytest.mark.parametrize("model, optimizer", [("simple_cnn", "adam"), ("lenet5", "sgd")])
def test_interrupt_then_resume_equals_uninterrupted(tmp_path, model, optimizer):
    common = ["--epochs", "2", "--model", model, "--optimizer", optimizer]
    full, _ = _run(tmp_path, *common, name="full")

    def hook(step):                     # a real SIGINT in the middle of epoch 1
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    part, lines = _run(tmp_path, *common, name="cut", step_hook=hook)
    assert part["interrupted"] and part["history"] == []
    assert any("interrupted" in line and "last.npz" in line for line in lines)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # restored
    ckpt = str(tmp_path / "cut" / "last.npz")
    args = T.build_parser().parse_args(["--resume", ckpt, "--no-plots"])
    resumed = T.train(args, log=lambda s: None)
    assert not resumed["interrupted"]
    assert _curves(resumed) == _curves(full)


def test_fallback_to_bundled_with_message(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    monkeypatch.setenv("NPCONV_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))
    args = T.build_parser().parse_args(["--limit-train", "64", "--limit-test", "64",
                                        "--epochs", "1", "--out", str(tmp_path / "o"),
                                        "--no-plots", "--model", "lenet5"])
    lines = []
    doc = T.train(args, log=lines.append)
    assert doc["dataset"] == "bundled"
    assert "bundled subset" in lines[0] and "apt-get install" in lines[0]


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NPCONV_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))
    rc = T.main(["--dataset", "mnist", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "MNIST was not found" in err and "download" in err


def test_progress_plain_lines_when_not_a_tty():
    import io
    s = io.StringIO()
    p = T.Progress(10, "epoch 1/1", stream=s)
    for i in range(1, 11):
        p.update(i, {"loss": "0.5"}, final=i == 10)
    out = s.getvalue()
    assert "\r" not in out and out.strip().splitlines()[-1].startswith("epoch 1/1 10/10")


def test_lr_schedules():
    lrs = [T._lr_at(s, 100, 1.0, "onecycle") for s in range(100)]
    assert lrs[0] < 0.1 and max(lrs) == pytest.approx(1.0, abs=0.02) and lrs[-1] < 0.01
    assert T._lr_at(99, 100, 1.0, "cosine") == pytest.approx(0.0, abs=1e-12)
    assert T._lr_at(50, 100, 0.3, "constant") == 0.3


def test_plots_written_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    hist = [{"epoch": 1, "train_loss": 1.0, "test_loss": 1.1, "train_acc": .5, "test_acc": .4},
            {"epoch": 2, "train_loss": .5, "test_loss": .6, "train_acc": .8, "test_acc": .7}]
    conf = np.eye(10, dtype=np.int64) * 5
    files = T._plot(str(tmp_path), hist, conf, [str(i) for i in range(10)], print)
    assert [os.path.basename(f) for f in files] == ["curves.png", "confusion_matrix.png"]
    assert all(os.path.getsize(f) > 1000 for f in files)


def test_cli_sigint_exits_cleanly_and_resumes(tmp_path):
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "npconv.train", "--dataset", "bundled", "--model", "lenet5",
           "--limit-train", "4096", "--limit-test", "128", "--epochs", "30", "--no-plots",
           "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()                     # the header: training has started
    assert first.startswith("npconv-train: lenet5"), first
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted: resumable checkpoint saved" in stdout
    assert "\r" not in stdout                       # plain lines on a pipe
    meta = nc.load(str(out / "last.npz"))["meta"]
    assert meta["epoch"] < 30
    r = subprocess.run([sys.executable, "-m", "npconv.train", "--resume",
                        str(out / "last.npz"), "--help"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--resume" in r.stdout


def test_runs_on_gpu_like_devices(tmp_path):
    from devices import GPU_LIKE      # the stand-in GPU (always), cuda when present
    for dev in GPU_LIKE:
        doc, _ = _run(tmp_path, "--epochs", "1", "--augment", "--device", dev, name=dev)
        assert not doc["interrupted"] and len(doc["history"]) == 1
        assert 0.0 <= doc["history"][0]["test_acc"] <= 1.0
        meta = nc.load(str(tmp_path / dev / "last.npz"))["meta"]
        assert meta["args"]["device"] == dev and meta["epoch"] == 1
