"""Keep big freed blocks in the process heap (glibc), so that fresh arrays stop page-faulting.

glibc's malloc serves a block above its mmap threshold (128 KiB at first; raised as big
blocks are freed, up to 32 MiB) with a fresh ``mmap`` and unmaps it on ``free``, and it
gives free memory at the top of the heap back to the kernel beyond a trim threshold. NumPy
allocates every result with malloc, so a training step whose activations and gradients are
new arrays of a few MiB each (ReLU outputs, masks, elementwise results) maps new pages every
step and takes one page fault per 4 KiB page it writes, each costing more than the
arithmetic that fills the page. (npconv's own big scratch arrays come from a reusing
workspace, ``npconv/nn/im2col.py``; this covers everything else.) Measured on the seed CNN
(2-core box, NumPy 2.4, batch 64, ``/tmp/exp``-style step loop): its three ReLU forwards took
4.0 ms per step with glibc's defaults and 0.8 ms with the settings below, its ReLU backwards
5.4 and 2.5 ms; whole steps 64-67 ms and 51-56 ms (noisy machine, interleaved runs).

So ``import npconv`` sets, through ``mallopt``, the mmap threshold to 32 MiB (the most glibc
accepts) and the trim threshold to 256 MiB: blocks up to 32 MiB come from the heap and are
reused from one step to the next. The price: up to 256 MiB of freed memory may stay with
the process instead of going back to the kernel (a training process's footprint is set by
its peak anyway). Unlike OpenBLAS's setting (``_blas_env``) this works whenever npconv is
imported. It is skipped off glibc, when the user tunes malloc themselves
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, or ``malloc`` tunables in
``GLIBC_TUNABLES``), and with ``NPCONV_MALLOC_TUNING=0``. This module must stay free of
NumPy imports.
"""
import ctypes
import os
import sys

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3          # glibc's <malloc.h> parameter numbers


def _users_own(environ):
    return ("MALLOC_MMAP_THRESHOLD_" in environ or "MALLOC_TRIM_THRESHOLD_" in environ
            or "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""))


def _glibc():
    """The C library's handle when it is glibc, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version        # glibc only (not musl)
        libc.mallopt
    except (OSError, AttributeError):
        return None
    return libc


def apply(environ=os.environ, libc=None):
    """Set the two thresholds unless told not to. Returns whether both were set."""
    if environ.get("NPCONV_MALLOC_TUNING", "1") == "0" or _users_own(environ):
        return False
    libc = libc if libc is not None else _glibc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(ok) and bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


APPLIED = apply()
