"""npconv sets OPENBLAS_THREAD_TIMEOUT only when it can still take effect and the user has not
set it (npconv/_blas_env.py explains why)."""
import os
import subprocess
import sys

from npconv import _blas_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_apply_sets_the_timeout_before_numpy_loads():
    env = {}
    assert _blas_env.apply(env, modules={})
    assert env == {"OPENBLAS_THREAD_TIMEOUT": str(_blas_env.TIMEOUT)}
    assert 4 <= _blas_env.TIMEOUT <= 30            # the range OpenBLAS accepts


def test_apply_keeps_the_users_value_and_does_nothing_once_numpy_is_loaded():
    env = {"OPENBLAS_THREAD_TIMEOUT": "12"}
    assert not _blas_env.apply(env, modules={})
    assert env == {"OPENBLAS_THREAD_TIMEOUT": "12"}
    env = {}
    assert not _blas_env.apply(env, modules={"numpy": object()})
    assert env == {}


def _child(code, **extra):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_import_order_in_a_fresh_process():
    show = "import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    assert _child("import npconv; " + show) == str(_blas_env.TIMEOUT)
    assert _child("import numpy, npconv; " + show) == "None"
    assert _child("import npconv; " + show, OPENBLAS_THREAD_TIMEOUT="20") == "20"


def test_short_spin_reads_the_timeout():
    """The chunked convolution runs only when OpenBLAS's idle threads sleep soon."""
    assert _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": str(_blas_env.TIMEOUT)})
    assert _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": "20"})
    assert not _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": "21"})
    assert not _blas_env.short_spin({})                   # OpenBLAS's default: 2**28 cycles
    assert not _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": "soon"})
