"""benchmarks/train.py runs (throughput of one model, a couple of steps)."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmark_script_smoke(capsys, tmp_path):
    spec = importlib.util.spec_from_file_location(
        "bench_train", os.path.join(ROOT, "benchmarks", "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.main(["--models", "lenet5", "--steps", "2", "--warmup", "1", "--rounds", "1",
                     "--json", str(tmp_path / "r.json")])
    assert len(rows) == 1 and rows[0]["npconv_img_s"] > 0 and rows[0]["params"] == 61706
    out = capsys.readouterr().out
    assert "| lenet5 | 61,706 |" in out
    assert (tmp_path / "r.json").is_file()
