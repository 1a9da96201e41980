"""Run OpenBLAS on one thread for a while, so that npconv's own threads can each run a GEMM.

The chunked convolution (``npconv/nn/_chunked_conv.py``) splits one big GEMM into many small
ones, each on a piece of the patch matrix that the same thread has just written and that
still sits in its cache; npconv's threads then run those GEMMs side by side. That only
works when every GEMM runs on its calling thread: two threads each starting a two-thread
OpenBLAS GEMM on a 2-core box took 25-90 ms for what one thread does in 10 ms (the callers
queue on OpenBLAS's thread pool and its workers spin). NumPy has no per-call setting, so
``single_threaded()`` sets OpenBLAS's thread count to 1 through its C API
(``openblas_set_num_threads``) and restores it afterwards.

The setting is process-wide (this OpenBLAS's ``openblas_set_num_threads_local`` measured
process-wide too): a GEMM that another thread of the program runs meanwhile runs on one
thread. Nested or concurrent users are counted, so the count is restored only when the
last one leaves. The libraries are found among those already loaded, and every OpenBLAS
there is switched (NumPy's own, whatever its symbol prefix, and any other copy, such as
SciPy's); with another BLAS (MKL, Accelerate) ``available()`` is False and npconv keeps its
one-big-GEMM path. This module must stay free of NumPy imports.
"""
import ctypes
import os
import sys
import threading

_lock = threading.Lock()
_state = {"fns": None, "users": 0, "saved": None, "numpy_blas": None}


def _loaded_openblas():
    """Paths of the loaded shared libraries whose name says OpenBLAS (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            # address perms offset dev inode [path]
            fields = [line.split(None, 5) for line in f]
    except OSError:
        return []
    paths = {f[5].strip() for f in fields if len(f) == 6}
    return sorted(p for p in paths if "openblas" in os.path.basename(p).lower())


def _loaded_libs():
    """A ctypes handle for each loaded OpenBLAS (None for one that cannot be opened); () off
    Linux."""
    if not sys.platform.startswith("linux"):
        return ()
    libs = []
    for path in _loaded_openblas():
        try:
            libs.append(ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY))
        except OSError:
            libs.append(None)
    return tuple(libs)


def _symbol(lib, stem):
    """OpenBLAS function ``stem`` (e.g. 'openblas_get_parallel') of ``lib`` under its own C
    name or a scipy-openblas build's (NumPy's wheels: 'scipy_' + stem + '64_'; SciPy's own
    32-bit-integer one: 'scipy_' + stem); None when it has none of them."""
    for name in (stem, stem + "64_", "scipy_" + stem + "64_", "scipy_" + stem):
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


def _find():
    """((set, get), ...): the thread-count functions of every loaded OpenBLAS (NumPy's, and
    any other, e.g. SciPy's own copy: which one NumPy calls is not known here, so all are
    set); () when there is none."""
    found = []
    for lib in _loaded_libs():
        if lib is None:
            continue
        set_ = _symbol(lib, "openblas_set_num_threads")
        get = _symbol(lib, "openblas_get_num_threads")
        if set_ is None or get is None:
            continue
        set_.argtypes, set_.restype = [ctypes.c_int], None
        get.argtypes, get.restype = [], ctypes.c_int
        found.append((set_, get))
    return tuple(found)


def _fns():
    if _state["fns"] is None:
        _state["fns"] = _find()
    return _state["fns"]


def _numpy_blas():
    """The name of the BLAS NumPy was built against ('' when NumPy does not say)."""
    try:
        import numpy
        return str(numpy.__config__.CONFIG["Build Dependencies"]["blas"]["name"]).lower()
    except Exception:           # older NumPy: no CONFIG dict
        return ""


def available():
    """Whether NumPy's BLAS is OpenBLAS and its thread count can be set (NumPy must be
    imported; another OpenBLAS loaded beside an MKL-built NumPy does not count)."""
    if _state.get("numpy_blas") is None:
        _state["numpy_blas"] = _numpy_blas()
    name = _state["numpy_blas"]
    return bool(_fns()) and (name == "" or "openblas" in name)


def num_threads():
    """The first loaded OpenBLAS's thread count (None without OpenBLAS)."""
    fns = _fns()
    return fns[0][1]() if fns else None


class single_threaded:
    """``with single_threaded(): ...`` runs the block with every loaded OpenBLAS on one
    thread (a no-op without OpenBLAS)."""

    def __enter__(self):
        fns = _fns()
        if fns:
            with _lock:
                if _state["users"] == 0:
                    _state["saved"] = [get() for _, get in fns]
                    for (set_, _), n in zip(fns, _state["saved"]):
                        if n != 1:
                            set_(1)
                _state["users"] += 1
        return self

    def __exit__(self, *exc):
        fns = _fns()
        if fns:
            with _lock:
                _state["users"] -= 1
                if _state["users"] == 0:
                    for (set_, _), n in zip(fns, _state["saved"]):
                        if n != 1:
                            set_(n)
        return False
