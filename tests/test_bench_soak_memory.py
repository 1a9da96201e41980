"""benchmarks/soak.py and benchmarks/memory.py run (a few tiny steps; no timing or memory
thresholds: those are benchmark figures, not tests)."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name):
    spec = importlib.util.spec_from_file_location(
        "bench_" + name, os.path.join(ROOT, "benchmarks", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_soak_smoke(capsys, tmp_path):
    res = _load("soak").main(["--steps", "6", "--warmup", "2", "--every", "2", "--batch", "8",
                              "--json", str(tmp_path / "soak.json")])
    assert [s["step"] for s in res["samples"]] == [0, 2, 4, 6]
    assert res["growth_mib"] is not None and (tmp_path / "soak.json").is_file()
    assert "RSS growth after warm-up" in capsys.readouterr().out


def test_memory_smoke(capsys):
    rows = _load("memory").main(["--models", "lenet", "--frameworks", "npconv", "--steps", "1",
                                 "--batch", "4"])
    assert len(rows) == 1 and rows[0]["peak_mib"] > 0, rows
    assert "| lenet | npconv |" in capsys.readouterr().out
