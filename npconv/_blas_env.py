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

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` (the spin as a power of two of CPU cycles) once,
when NumPy loads it. So ``import npconv`` sets it when NumPy is not loaded yet and the
variable is not set already (a user's value always wins). When NumPy was imported first it
is too late: set the variable in the shell (``export OPENBLAS_THREAD_TIMEOUT=4``) or import
npconv first. This module must stay free of NumPy imports.
"""
import os
import sys

#: log2 of the CPU cycles an idle OpenBLAS thread spins before sleeping (OpenBLAS's own
#: default is 28; it accepts 4 to 30)
TIMEOUT = 4


def apply(environ=os.environ, modules=sys.modules):
    """Set ``OPENBLAS_THREAD_TIMEOUT`` if it can still take effect and the user has not set
    it. Returns whether it was set by this call."""
    if "numpy" in modules or "OPENBLAS_THREAD_TIMEOUT" in environ:
        return False
    environ["OPENBLAS_THREAD_TIMEOUT"] = str(TIMEOUT)
    return True


#: the longest spin (log2 cycles) under which npconv's chunked convolution pays
SHORT_SPIN = 20


def short_spin(environ=os.environ):
    """Whether OpenBLAS's idle threads go to sleep soon: ``OPENBLAS_THREAD_TIMEOUT`` set (by
    ``apply`` or by the user) to at most 2**20 cycles. npconv's chunked convolution
    (``npconv/nn/_chunked_conv.py``) runs one-thread GEMMs on npconv's own threads and is
    used only then: with OpenBLAS's default spin a worker left spinning by the last
    multithreaded GEMM holds a core for ~0.1 s while they run. Measured with
    ``../shared/bench/run_all.sh`` (NumPy imported first, so the default spin): a seed-CNN
    training step took 1.47x PyTorch's time with the chunked convolution, 0.92x without.
    (A value set in ``os.environ`` after NumPy loaded OpenBLAS is taken at its word.)"""
    try:
        return int(environ.get("OPENBLAS_THREAD_TIMEOUT", "")) <= SHORT_SPIN
    except ValueError:
        return False


APPLIED = apply()
