"""npconv sets OPENBLAS_THREAD_TIMEOUT unless the user has set it, and when NumPy was imported
first makes the loaded OpenBLAS take it (npconv/_blas_env.py explains why)."""
import os
import subprocess
import sys

import pytest

from npconv import _blas_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_apply_sets_the_timeout_before_numpy_loads():
    env = {}
    assert _blas_env.apply(env, modules={})
    assert env == {"OPENBLAS_THREAD_TIMEOUT": str(_blas_env.TIMEOUT)}
    assert 4 <= _blas_env.TIMEOUT <= 30            # the range OpenBLAS accepts


def test_apply_keeps_the_users_value():
    env = {"OPENBLAS_THREAD_TIMEOUT": "12"}
    calls = []

    def restart(environ, value):
        calls.append(value)
        return True
    assert not _blas_env.apply(env, modules={}, restart=restart)
    assert env == {"OPENBLAS_THREAD_TIMEOUT": "12"} and calls == []
    # with NumPy loaded the user's own value is what OpenBLAS is made to take
    assert not _blas_env.apply(env, modules={"numpy": object()}, restart=restart)
    assert env == {"OPENBLAS_THREAD_TIMEOUT": "12"} and calls == [12]


def test_apply_restarts_the_pools_once_numpy_is_loaded():
    calls = []

    def restart(environ, value):
        calls.append((dict(environ), value))
        return False                    # e.g. an OpenBLAS without the functions it needs
    numpy_loaded = {"numpy": object()}
    assert not _blas_env.apply({}, modules=numpy_loaded, restart=restart)
    assert calls == [({}, _blas_env.TIMEOUT)]
    # a value the user set (in os.environ, after NumPy loaded OpenBLAS) is made true as well,
    # but it is the user's, not npconv's
    calls.clear()
    assert not _blas_env.apply({"OPENBLAS_THREAD_TIMEOUT": "6"}, modules=numpy_loaded,
                               restart=lambda environ, value: calls.append(value) or True)
    assert calls == [6]
    calls.clear()
    assert not _blas_env.apply({"OPENBLAS_THREAD_TIMEOUT": "soon"}, modules=numpy_loaded,
                               restart=lambda environ, value: calls.append(value) or True)
    assert calls == []


def _child(code, **extra):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_import_order_in_a_fresh_process():
    show = "import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    assert _child("import npconv; " + show) == str(_blas_env.TIMEOUT)
    assert _child("import npconv; " + show, OPENBLAS_THREAD_TIMEOUT="20") == "20"
    assert _child("import numpy, npconv; " + show, OPENBLAS_THREAD_TIMEOUT="28") == "28"


# in a child: NumPy first, a two-thread GEMM (its pool now running), then npconv; prints
# what the loaded OpenBLAS reads as its timeout, the variable, and the process's CPU seconds
# over a 0.2 s sleep right after another two-thread GEMM (an idle worker spinning burns them)
_AFTER_NUMPY = """
import ctypes, os, time
import numpy
a = numpy.ones((600, 600), numpy.float32)
a @ a
import npconv
from npconv import _blas_threads
lib = ctypes.CDLL(_blas_threads._loaded_openblas()[0], mode=os.RTLD_NOLOAD)
lib.openblas_thread_timeout.restype = ctypes.c_uint
r = a @ a
assert r[0, 0] == 600
t = time.process_time()
time.sleep(0.2)
print(lib.openblas_thread_timeout(), os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
      npconv._blas_env.APPLIED, time.process_time() - t)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs for a two-thread GEMM")
def test_numpy_imported_first_gets_the_short_spin_too():
    from npconv import _blas_threads
    if not _blas_threads.available():
        pytest.skip("NumPy's BLAS is not OpenBLAS: npconv leaves it alone")
    timeout, var, applied, cpu = _child(_AFTER_NUMPY, OPENBLAS_NUM_THREADS="2").split()
    assert (int(timeout), var, applied) == (_blas_env.TIMEOUT, str(_blas_env.TIMEOUT), "True")
    # OpenBLAS's default spin keeps a worker busy for ~0.1 s after the GEMM (0.1 s of CPU at
    # least, measured 0.1-0.2); with the pool restarted it sleeps at once (measured 0.000)
    assert float(cpu) < 0.05
    # the user's own value is left alone, and so is OpenBLAS
    timeout, var, applied, cpu = _child(_AFTER_NUMPY, OPENBLAS_NUM_THREADS="2",
                                      OPENBLAS_THREAD_TIMEOUT="28").split()
    assert (int(timeout), var, applied) == (28, "28", "False")
    # set in os.environ after NumPy loaded OpenBLAS, before npconv: made true at its import
    code = _AFTER_NUMPY.replace("import npconv\n",
                                "os.environ['OPENBLAS_THREAD_TIMEOUT'] = '6'\nimport npconv\n")
    timeout, var, applied, cpu = _child(code, OPENBLAS_NUM_THREADS="2").split()
    assert (int(timeout), var, applied) == (6, "6", "False") and float(cpu) < 0.05


def test_short_spin_reads_the_timeout():
    """The chunked convolution runs only when OpenBLAS's idle threads sleep soon."""
    assert _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": str(_blas_env.TIMEOUT)})
    assert _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": "20"})
    assert not _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": "21"})
    assert not _blas_env.short_spin({})                   # OpenBLAS's default: 2**28 cycles
    assert not _blas_env.short_spin({"OPENBLAS_THREAD_TIMEOUT": "soon"})


def test_parallel_kind_finds_the_function_under_any_of_its_names():
    class Lib:
        pass
    lib = Lib()
    assert _blas_env._parallel_kind(lib) is None
    lib.scipy_openblas_get_parallel = lambda: 0             # SciPy's build (a sequential one)
    assert _blas_env._parallel_kind(lib) == 0
    lib.scipy_openblas_get_parallel64_ = lambda: 2          # an OpenMP build: left alone
    assert _blas_env._parallel_kind(lib) == 2
    lib.openblas_get_parallel = lambda: 1                   # the plain name comes first
    assert _blas_env._parallel_kind(lib) == 1


def test_restart_without_openblas_changes_nothing(monkeypatch):
    """No OpenBLAS loaded (another BLAS), or one that cannot be opened: the variable stays
    unset, so short_spin stays False and the chunked convolution off."""
    from npconv import _blas_threads
    for libs in ((), (None,)):
        monkeypatch.setattr(_blas_threads, "_loaded_libs", lambda: libs)
        env = {}
        assert not _blas_env._restart_pools(env, _blas_env.TIMEOUT)
        assert env == {} and not _blas_env.short_spin(env)
