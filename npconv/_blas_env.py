"""Let OpenBLAS's idle threads sleep soon, so that npconv's copy threads get the cores.

After each multithreaded GEMM, OpenBLAS keeps its worker threads busy-waiting for the next
one for 2**28 CPU cycles (about 0.1 s) before they sleep. npconv runs the big copies around
its GEMMs (im2col, col2im, layout changes; ``npconv/nn/im2col.py``) on threads of its own,
and on a machine with as many cores as BLAS threads those copy threads find the other cores
taken by spinning BLAS threads: they run no faster than one thread would. Measured on a
2-core box (NumPy 2.4, OpenBLAS 0.3.31), a conv2d forward of (64, 32, 14, 14) x (64, 32, 3, 3)
took 9.1 ms with OpenBLAS's default and 5.9 ms with the spin cut to 2**4 cycles (the GEMM
itself unchanged), a seed-CNN training step ~10% less; a LeNet step, made of small GEMMs
that now wake sleeping threads, ~5% more (timeouts 2**16 and 2**20 measured alike).

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` (the spin as a power of two of CPU cycles) when
it loads, and its thread pool takes the value when it starts. So ``import npconv`` sets the
variable when it is not set already (a user's value always wins, whatever it is: set it to
28 to keep OpenBLAS's default). When NumPy is not loaded yet that is all it takes. When
NumPy was imported first (the usual ``import numpy as np`` at the top of a script),
OpenBLAS has read its environment already: npconv then has every loaded OpenBLAS read it
again (``openblas_read_env``) and stops its idle thread pool (``blas_thread_shutdown_``,
what OpenBLAS itself does before a fork), and OpenBLAS starts a new pool, with the short
spin, at its next threaded call (``_restart_pools``; ~0.1 ms, once). The same makes a value
the user put in ``os.environ`` after NumPy loaded come true. Like a fork, the restart must
not happen while another thread of the program is inside a BLAS call: import npconv before
starting threads that use NumPy, or export the variable in the shell (OpenBLAS then has it
from the start and is left alone). This module must stay free of NumPy imports.
"""
import ctypes
import os
import sys

from . import _blas_threads      # NumPy-free as well

#: log2 of the CPU cycles an idle OpenBLAS thread spins before sleeping (OpenBLAS's own
#: default is 28; it accepts 4 to 30)
TIMEOUT = 4


def apply(environ=os.environ, modules=sys.modules, restart=None):
    """Set ``OPENBLAS_THREAD_TIMEOUT`` to ``TIMEOUT`` unless the user has set it. When NumPy
    (so OpenBLAS) is loaded already, OpenBLAS read its environment before either was set:
    make the loaded OpenBLAS take the value now, npconv's or the user's (``restart``, by
    default ``_restart_pools``). Returns whether npconv's own value is in force by this call
    (False when the user's rules, or when it could not be made to take effect)."""
    user = environ.get("OPENBLAS_THREAD_TIMEOUT")
    restart = restart or _restart_pools
    if "numpy" not in modules:
        if user is not None:
            return False
        environ["OPENBLAS_THREAD_TIMEOUT"] = str(TIMEOUT)
        return True
    if user is None:
        return restart(environ, TIMEOUT)
    try:
        value = int(user)
    except ValueError:
        return False            # not a number: OpenBLAS reads it as 0 (its default) anyway
    restart(environ, value)     # a value set in os.environ after NumPy loaded: make it true
    return False


def _restart_pools(environ, value):
    """Make every loaded OpenBLAS spin ``value`` (log2 cycles) after the fact: with the
    variable set to it, have each read its environment again and stop its thread pool (the
    next threaded call starts a new one, which takes the new timeout). Nothing is done when
    every one reads ``value`` already (the variable was set before NumPy loaded it), or
    unless every one has the three functions this needs (OpenBLAS's own C names, unprefixed
    even in the scipy-openblas builds of NumPy's and SciPy's wheels), runs its own pthreads
    pool and reads the value back; a variable npconv set is then removed again (``short_spin``
    stays False and the chunked convolution off). Returns whether each OpenBLAS now has it."""
    libs = []
    for lib in _blas_threads._loaded_libs():
        try:
            fns = lib.openblas_read_env, lib.openblas_thread_timeout, lib.blas_thread_shutdown_
        except AttributeError:          # (None: a library that could not be opened)
            return False
        if _parallel_kind(lib) != 1:    # 1: OpenBLAS's own pthreads pool, the one that spins
            return False                # (an OpenMP build's threads follow OMP_WAIT_POLICY)
        fns[0].restype, fns[1].restype, fns[2].restype = None, ctypes.c_uint, ctypes.c_int
        libs.append(fns)
    if not libs:
        return False
    if all(timeout() == value for _, timeout, _ in libs):
        return True
    ours = "OPENBLAS_THREAD_TIMEOUT" not in environ
    environ["OPENBLAS_THREAD_TIMEOUT"] = str(value)
    for read_env, timeout, _ in libs:
        read_env()
        if timeout() != value:          # the environment did not reach it: undo
            if ours:
                del environ["OPENBLAS_THREAD_TIMEOUT"]
            for read_env2, _, _ in libs:
                read_env2()
            return False
    for _, _, shutdown in libs:
        shutdown()
    return True


def _parallel_kind(lib):
    """``openblas_get_parallel()`` of ``lib``: 0 sequential, 1 pthreads, 2 OpenMP (None when
    it has no such function)."""
    fn = _blas_threads._symbol(lib, "openblas_get_parallel")
    if fn is None:
        return None
    fn.restype = ctypes.c_int
    return fn()


#: the longest spin (log2 cycles) under which npconv's chunked convolution pays
SHORT_SPIN = 20


def short_spin(environ=os.environ):
    """Whether OpenBLAS's idle threads go to sleep soon: ``OPENBLAS_THREAD_TIMEOUT`` set (by
    ``apply`` or by the user) to at most 2**20 cycles. npconv's chunked convolution
    (``npconv/nn/_chunked_conv.py``) runs one-thread GEMMs on npconv's own threads and is
    used only then: with OpenBLAS's default spin a worker left spinning by the last
    multithreaded GEMM holds a core for ~0.1 s while they run. Measured with
    ``../shared/bench/run_all.sh`` (NumPy imported first, which then meant the default
    spin): a seed-CNN training step took 1.47x PyTorch's time with the chunked convolution,
    0.92x without.
    (A value set in ``os.environ`` before ``import npconv`` is made true then, by ``apply``;
    one set after it is taken at its word.)"""
    try:
        return int(environ.get("OPENBLAS_THREAD_TIMEOUT", "")) <= SHORT_SPIN
    except ValueError:
        return False


APPLIED = apply()
