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


def test_conv_benchmark_smoke():
    # the table's every column is filled (15 cells, the last the sliced-GEMM bound's when
    # two threads and OpenBLAS are there, "-" otherwise), and the loop-reference line
    import subprocess
    import sys
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "conv.py"),
                          "--only", "0", "--budget", "0.01", "--threads", "2"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    row = [ln for ln in out.splitlines() if ln.startswith("| 0 | 64,1,28,28,32,3,1,1 |")]
    assert len(row) == 1, out
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert len(cells) == 15 and all(cells), cells
    assert "loop reference vs im2col" in out
