"""im2col / col2im: the heart of npconv's convolutions (NumPy and CuPy alike).

A 2-D convolution is one matrix product once every receptive field of the input has been
copied out as a column ("image to columns")::

    col = im2col(x, (kH, kW), stride, padding, dilation)          # (C, kH, kW, N, Ho, Wo)
    Y   = W.reshape(O, C*kH*kW) @ col.reshape(C*kH*kW, N*Ho*Wo)   # (O, N*Ho*Wo)
    y   = Y.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)            # (N, O, Ho, Wo)

Column layout. ``col`` is C-contiguous and its rows ``(c, i, j)`` are ordered exactly as the
flattened weight ``(O, C*kH*kW)``, so the forward, weight-gradient and input-gradient products
are single BLAS GEMMs on free reshapes (``W @ col``, ``gY @ col.T``, ``W.T @ gY``) with no
transposed copy of ``col`` (this (K, M) orientation is the GEMM the benchmarks compare with).
Channel-major rows also make grouped convolutions a free reshape to (groups, K/groups, M).
The columns (the output pixels) come in one of two orders:

* ``order='nhw'``: ``col`` is (C, kH, kW, N, Ho, Wo); the image buffers it reads and writes
  are stored (C, N, H, W). Copies run in contiguous stretches of Wo elements.
* ``order='hwn'``: ``col`` is (C, kH, kW, Ho, Wo, N), the batch innermost; buffers are
  (C, H, W, N). Stride-1 copies run in stretches of Wo*N elements, which is several times
  faster for small feature maps (NumPy pays per stretch), at the price of moving the batch
  axis when converting from and to NCHW. ``_conv.column_order`` picks one per layer.

``im2col`` is a stride trick: the (padded) input is viewed through ``as_strided`` as the 6-D
array of windows, then copied once into ``col`` (no Python loop over batch, channels or
pixels). ``col2im`` is its adjoint: a loop over the kH*kW kernel offsets, each adding one
offset's (N, C, Ho, Wo) slab into a strided slice of the padded gradient. Within one offset
the target pixels are distinct, so plain slice-adds are exact and no scatter is needed.
Measured (NumPy 2.4, one thread, float32): ``np.add.at`` with a precomputed int64 index per
column entry took 7.1 / 3.7 / 19.0 ms where these slice-adds take 1.9 / 1.6 / 10.2 ms
('hwn'; layers 64x32x14x14 k3, 64x64x7x7 k3, 64x32x28x28 k5 s2); ``np.bincount`` was slower
still. (With 'nhw' on 7x7 maps ``add.at`` did beat the slice-adds, 3.3 vs 5.7 ms: short
stretches are what 'hwn' avoids.)

A padded convolution on NumPy skips the padded copy: its patch buffer is kept per layer
geometry, so the entries that read padding are zero from the first call on, and the input
(in the column order's layout) is copied in offset by offset, the adjoint of col2im's loop
(``im2col(..., _zero_border=True)``); with a stride, the input is first split into its
stride phases so that every copy runs along whole output rows.

CPU-only speed devices (pure optimisations; results are identical, tests check it): big
copies and the col2im loop are split over channels between threads (NumPy releases the GIL
in copies and ufunc loops; ``NPCONV_NUM_THREADS`` caps them, default the CPU count, at most
4), and big scratch arrays come from a small caching workspace that hands an array out again
once nothing but the workspace refers to it, which avoids the page faults of fresh big
allocations every step (those of 1 MiB and more on 2 MiB pages where Linux allows,
``_host_empty``). On other backends (CuPy) plain allocations and one thread are used.
"""
import mmap
import os
import sys
import threading
import time

import numpy

from .. import _cuda_kernels
from ..backend import get_array_module

__all__ = ["im2col", "col2im", "conv_output_size", "clear_workspace", "set_workspace_enabled"]


def conv_output_size(size, kernel, stride, padding, dilation=1):
    """Output length of a convolution along one axis (floor mode, as PyTorch)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# ------------------------------------------------------------------ workspace (NumPy only)
class _Workspace:
    """Reusable scratch arrays: a small caching allocator for NumPy.

    An array is handed out again only when no one else holds a reference to it (no Tensor,
    saved ctx or view of it): CPython's reference count tells exactly. Big temporaries are
    then allocated once per training run instead of once per step (fresh big arrays cost a
    page fault per 4 KiB page on every use).

    * ``empty(xp, tag, shape, dtype)`` (no ``init``): best fit from one shared pool of flat
      arrays (any tag; an array at most twice the size asked for), returned as a reshaped
      view of it, so layers of different shapes share memory when their lifetimes allow.
    * with ``init`` (a fill value): an exact array per (tag, shape), filled once when made;
      used for padded buffers whose border keeps its fill because only the interior is
      ever written.
    """

    MIN_BYTES = 1 << 18          # smaller arrays come cheaply from the allocator
    MAX_PER_KEY = 6
    MAX_TOTAL_BYTES = 2 << 30

    def __init__(self):
        self.enabled = True
        self._pool = {}          # (tag, shape, dtype, init) -> [arrays]   (filled buffers)
        self._flat = {}          # dtype -> [flat arrays]                  (scratch)
        self._total = 0
        self._lock = threading.Lock()

    def empty(self, xp, tag, shape, dtype, init=None):
        """An array of ``shape``: uninitialised (``init`` None) or, for the keyed pool,
        filled with ``init`` when first made."""
        dtype = numpy.dtype(dtype)
        shape = tuple(int(s) for s in shape)
        n = 1
        for s in shape:
            n *= s
        nbytes = n * dtype.itemsize
        if xp is not numpy or not self.enabled or nbytes < self.MIN_BYTES:
            return self._fresh(xp, shape, dtype, init)
        if init is None:
            return self._scratch(xp, shape, n, dtype)
        key = (tag, shape, dtype.str, init)
        with self._lock:
            lst = self._pool.get(key)
            if lst is None:
                lst = self._pool[key] = []
            for a in lst:
                # references: the list, the loop variable, getrefcount's argument
                if sys.getrefcount(a) <= 3:
                    return a
            a = _host_empty(shape, dtype)        # itself the base of its views (refcount)
            a[...] = init
            if len(lst) < self.MAX_PER_KEY and self._total + nbytes <= self.MAX_TOTAL_BYTES:
                lst.append(a)
                self._total += nbytes
            return a

    def _scratch(self, xp, shape, n, dtype):
        with self._lock:
            lst = self._flat.setdefault(dtype.str, [])
            best = -1
            for i in range(len(lst)):
                size = lst[i].size
                if n <= size <= 2 * n and (best < 0 or size < lst[best].size):
                    # references: the list and getrefcount's argument
                    if sys.getrefcount(lst[i]) <= 2:
                        best = i
            if best >= 0:
                return lst[best][:n].reshape(shape)
            a = _host_empty((n,), dtype) if xp is numpy else xp.empty(n, dtype)
            if self._total + a.nbytes <= self.MAX_TOTAL_BYTES:
                lst.append(a)
                self._total += a.nbytes
            return a.reshape(shape)

    @staticmethod
    def _fresh(xp, shape, dtype, init):
        if init is None:
            return xp.empty(shape, dtype)
        if init == 0:
            return xp.zeros(shape, dtype)
        return xp.full(shape, init, dtype)

    def clear(self):
        with self._lock:
            self._pool.clear()
            self._flat.clear()
            self._total = 0


_workspace = _Workspace()

_HUGE_PAGE = 2 << 20        # a transparent huge page (Linux, x86-64 and most arm64)
_HUGE_MIN = 1 << 20         # scratch arrays from this size on go on huge pages
_huge_pages = hasattr(mmap, "MADV_HUGEPAGE")


def _host_empty(shape, dtype):
    """An uninitialised C-contiguous NumPy array; from 1 MiB on, on memory aligned to 2 MiB
    and marked for transparent huge pages (``madvise(MADV_HUGEPAGE)``, honoured where the
    kernel's THP mode is 'madvise' or 'always'). NumPy does that itself only from 4 MiB on,
    which leaves the conv's per-thread chunk buffers (~3 MB) and outputs (~1.6 MB) on 4 KiB
    pages: the chunks' unfolding and GEMM then walk ~700 pages each. On huge pages the
    5x5/stride-2 layer's forward from NCHW measured 0.1-0.4 ms faster (1-3%), LeNet and seed
    CNN training steps 1-3% (interleaved runs). Costs: up to 2 MiB of memory rounding per
    array (peak RSS of a seed-CNN step 99 -> 104 MiB), and each array is its own mapping,
    unmapped as soon as it dies (as NumPy's own big arrays are). The array's base is the
    mapping itself, so its views count in its refcount (the workspace's test that nothing
    else holds it)."""
    n = 1
    for s in shape:
        n *= s
    nbytes = n * dtype.itemsize
    if not _huge_pages or nbytes < _HUGE_MIN:
        return numpy.empty(shape, dtype)
    span = -(-nbytes // _HUGE_PAGE) * _HUGE_PAGE
    # private anonymous memory (a shared mapping would be shmem, which THP leaves alone),
    # page-aligned but not 2 MiB-aligned: one huge page more, and the array starts aligned
    m = mmap.mmap(-1, span + _HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        m.madvise(mmap.MADV_HUGEPAGE, 0, len(m))
    except OSError:          # THP compiled out or disabled: plain pages, still correct
        pass
    start = numpy.frombuffer(m, numpy.uint8, count=1).ctypes.data
    return numpy.ndarray(shape, dtype, buffer=m, offset=-start % _HUGE_PAGE)


def clear_workspace():
    """Drop the cached scratch arrays (they are re-made on demand)."""
    _workspace.clear()


def set_workspace_enabled(enabled):
    """Turn reuse of scratch arrays on or off (on by default; off frees them)."""
    _workspace.enabled = bool(enabled)
    if not enabled:
        _workspace.clear()


# ------------------------------------------------------------------ threads (NumPy only)
_NTHREADS = max(1, min(int(os.environ.get("NPCONV_NUM_THREADS", os.cpu_count() or 1)), 4))
_PAR_MIN = 1 << 19   # elements below which splitting costs more than it saves
_executor = None


_executor_pid = None


def _pool():
    global _executor, _executor_pid
    if _executor is None or _executor_pid != os.getpid():
        # (re)made after a fork too: a forked child has none of its parent's threads
        from concurrent.futures import ThreadPoolExecutor
        _executor = ThreadPoolExecutor(max_workers=_NTHREADS - 1,
                                       thread_name_prefix="npconv-im2col")
        _executor_pid = os.getpid()
    return _executor


_CHUNKS_PER_THREAD = 4
_CHUNK_MIN = 1 << 20      # elements: smaller chunks than this only add per-call overhead
_BUSY_LOAD = float(os.environ.get("NPCONV_BUSY_LOAD", 1.25))   # x CPU count; 0 = never busy
_busy_state = [-1.0, False]      # (time of the last look, busy)


def _busy():
    """Whether the machine is oversubscribed: 1-minute load average above ``_BUSY_LOAD``
    times the CPU count (looked at once a second). Then the copies run on the calling thread
    alone: a helper thread that the OS deschedules while it holds the GIL stalls the caller
    for whole scheduler slices. Measured on a 2-core box with another BLAS-threaded training
    job running (load ~4): a LeNet step took 1,400 ms with helper threads, 50-100 ms
    without."""
    if _BUSY_LOAD <= 0:
        return False
    now = time.monotonic()
    if now - _busy_state[0] > 1.0:
        try:
            load = os.getloadavg()[0]
        except (OSError, AttributeError):
            load = 0.0
        _busy_state[0] = now
        _busy_state[1] = load > _BUSY_LOAD * (os.cpu_count() or 1)
    return _busy_state[1]


def _parallel(xp, n, size, fn, parts=None):
    """Run ``fn(lo, hi)`` over ``range(n)`` split in chunks, on threads when worth it
    (``parts`` chunks if given, else as many as ``size``, the elements moved, pays for).

    The calling thread and the helpers take chunks from a shared counter, and a helper that
    has not started by the time the caller ran out of chunks is cancelled, not waited for.
    So on a busy machine (helpers not scheduled for milliseconds) the call costs about what
    one thread doing all the work costs, instead of a scheduler delay per call: measured on a
    2-core box running two other jobs, a LeNet training step took 1,540 ms with a plain
    split-and-wait, 35 ms with one thread."""
    if xp is not numpy or _NTHREADS < 2 or n < 2 or size < _PAR_MIN or _busy():
        fn(0, n)
        return
    # up to 4 chunks a thread (balance on a noisy machine), but none under ~1M elements: a
    # chunk of im2col or col2im runs one NumPy call per kernel offset, and on 7x7-14x14
    # layers two chunks took 10-25% less time than eight
    if parts is None:
        per_thread = max(1, min(_CHUNKS_PER_THREAD, size // (_NTHREADS * _CHUNK_MIN)))
        parts = _NTHREADS * per_thread
    parts = min(parts, n)
    bounds = [n * t // parts for t in range(parts + 1)]
    lock = threading.Lock()
    nxt = [0]

    def work():
        while True:
            with lock:
                k = nxt[0]
                if k >= parts:
                    return
                nxt[0] = k + 1
            fn(bounds[k], bounds[k + 1])

    pool = _pool()
    futs = [pool.submit(work) for _ in range(min(_NTHREADS, parts) - 1)]
    try:
        work()
    finally:
        for f in futs:
            if not f.cancel():     # started: it holds a chunk (or is about to find none)
                f.result()


def copy_into(dst, src, part=None):
    """``dst[...] = src`` (same shapes), split over the first axis between threads (or
    ``part(lo, hi)`` doing the work for rows lo:hi of dst's first axis)."""
    xp = get_array_module(dst)
    if part is None:
        def part(lo, hi):
            dst[lo:hi] = src[lo:hi]
    _parallel(xp, dst.shape[0], dst.size, part)
    return dst


# physical orders of a logical (N, C, H, W) array, as the permutation that makes it contiguous
_LAYOUTS = {"nchw": (0, 1, 2, 3), "cnhw": (1, 0, 2, 3), "chwn": (1, 2, 3, 0)}
# column orders of im2col and the layout of the image buffers they read and write
_ORDER_LAYOUT = {"nhw": "cnhw", "hwn": "chwn"}


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def as_layout(xp, x, layout, tag):
    """``x`` (N, C, H, W) copied (unless it already is) into a buffer stored in ``layout``
    ('nchw', 'cnhw' or 'chwn'); returns the contiguous buffer (physical shape)."""
    perm = _LAYOUTS[layout]
    t = x.transpose(perm)
    if t.flags.c_contiguous:
        return t
    buf = _workspace.empty(xp, tag, t.shape, x.dtype)
    if not _staged(xp, x, layout):
        return copy_into(buf, t)
    view = buf.transpose(_inverse(perm))            # (N, C, H, W), C the first axis stored

    def part(lo, hi):
        for c0, c1, xb in _channel_bands(x, lo, hi):
            view[:, c0:c1] = xb
    return copy_into(buf, None, part)


def _staged(xp, x, layout):
    """Whether moving x's batch axis innermost ('chwn') should go through ``_channel_bands``.
    Such a copy reads N values a batch-stride apart for every element it writes; when that
    stride is a multiple of 2 KiB they all fall in one or two L1 cache sets and the copy
    thrashes (measured 2x slower: a (64, 32, 28, 28) input)."""
    return (layout == "chwn" and xp is numpy and x.shape[0] >= 16 and x.strides[0] != 0
            and not x.strides[0] % 2048 and not x.transpose(1, 0, 2, 3).flags.c_contiguous)


_BAND_BYTES = 512 << 10     # a staged band of channels (at least one): about a 512 KiB L2


def _channel_bands(x, lo, hi):
    """Channels lo:hi of x (N, C, H, W) in bands: yields (c0, c1, the (N, c1 - c0, H, W)
    view of a (c1 - c0, N, H, W) copy of x[:, c0:c1]). The copy is contiguous per image
    and channel (long runs, cheap); the batch stride of what it hands on is H*W, or a
    cache line more where H*W alone would alias too (``_staged``), and the band is still in
    L2 when the transposing copy reads it. One band after the other, in scratch buffers of
    ~0.5 MB (one channel where that is more): staging the whole input first (a full
    (C, N, H, W) copy) took 1.6 ms where bands take 1.2 ms (2 threads, caches cold, the
    (64, 32, 28, 28) input split into stride-2 phases). Against the direct transposing copy
    (2 threads, warm): (64, 32, 28, 28) 0.8 vs 1.8 ms, (64, 32, 32, 32) 1.1 vs 3.4 ms (that
    one with the extra line; without it 4.5-5.2 ms, slower than the direct copy)."""
    N, _, H, W = x.shape
    # each image of the band H*W values apart, plus a cache line when that is a whole even
    # number of lines (32x32 float32: 4 KiB), which would alias again
    image = H * W + (64 // x.itemsize if (H * W * x.itemsize) % 128 == 0 else 0)
    band = max(1, _BAND_BYTES // max(1, N * image * x.itemsize))
    for c0 in range(lo, hi, band):
        c1 = min(hi, c0 + band)
        q = _workspace.empty(numpy, "band", (c1 - c0, N, image), x.dtype)
        v = q[:, :, :H * W].reshape(c1 - c0, N, H, W)
        v[...] = x[:, c0:c1].transpose(1, 0, 2, 3)
        yield c0, c1, v.transpose(1, 0, 2, 3)
        del q, v


def _stride_phases(xp, x, layout, padding, stride, needed):
    """x (N, C, H, W) zero-padded by ``padding`` and split into the stride phases in
    ``needed``: ({(a, b): xpad[:, :, a::sH, b::sW] stored in ``layout`` (physical shape)},
    ``copy``), where ``copy(lo, hi)`` writes channels lo:hi of every phase (the caller
    splits the channels between threads, or calls it inside its own loop over them).
    Padded phases are kept per geometry and only their interior is ever written, so their
    border stays zero; unpadded ones are scratch. An input whose batch stride aliases is
    staged in channel bands (``_staged``).

    When every phase is needed they lie one after the other in one buffer, (sH, sW, C, H',
    W', N) for 'chwn' (each a cache line apart), so that a staged input (moved
    batch-innermost through L2-sized bands), when the padding and the size are multiples of
    the stride, goes in by one copy per band for all phases, ``[a, b, c, q, u, n] =
    x[n, c, q*sH + a - pH, u*sW + b - pW]``: each line of the band read once instead of once
    per phase (the 5x5/stride-2 layer's forward from NCHW ~0.1 ms faster, 3 interleaved runs
    of 250; the stored input's, which is not staged, unchanged)."""
    (pH, pW), (sH, sW) = padding, stride
    perm = _LAYOUTS[layout]
    N, C, H, W = x.shape
    Hp, Wp = H + 2 * pH, W + 2 * pW
    padded = (pH, pW) != (0, 0)
    staged = _staged(xp, x, layout)
    phases, copies, whole = {}, [], None
    if len(set(needed)) == sH * sW:
        # (sH, sW) phases one after the other, each (N, C, H', W') stored in the layout and
        # a cache line after the end of the one before: blocks of a power-of-two size
        # (2 MiB for the (64, 32, 16, 16) float32 phases of a 28x28 input) would all start
        # in the same cache sets, and the chunks' unfolding, which reads all four at once,
        # measured 0.2-0.4 ms slower that way
        full = (N, C, -(-Hp // sH), -(-Wp // sW))
        size = N * C * full[2] * full[3]
        step = size + max(1, 64 // x.itemsize)
        if padded:
            flat = _workspace.empty(xp, ("phases", layout, x.shape, padding, stride),
                                    (sH * sW * step,), x.dtype, init=0)
        else:
            flat = _workspace.empty(xp, "phase", (sH * sW * step,), x.dtype)
        first = flat[:size].reshape(tuple(full[t] for t in perm))
        B = xp.lib.stride_tricks.as_strided(
            first, shape=(sH, sW) + first.shape,
            strides=(sW * step * x.itemsize, step * x.itemsize) + first.strides)
        at = [2 + perm.index(t) for t in range(4)]
        L = B.transpose(at[0], at[1], 0, at[2], 1, at[3])      # (N, C, sH, H', sW, W')
        views = {(a, b): L[:, :, a, :-(-(Hp - a) // sH), b, :-(-(Wp - b) // sW)]
                 for a, b in needed}
        if staged and pH % sH == 0 and pW % sW == 0 and H % sH == 0 and W % sW == 0:
            whole = L[:, :, :, pH // sH:(pH + H) // sH, :, pW // sW:(pW + W) // sW]
    else:
        views = {}
        for a, b in needed:
            full = (N, C, -(-(Hp - a) // sH), -(-(Wp - b) // sW))
            shape = tuple(full[t] for t in perm)
            if padded:
                P = _workspace.empty(xp, ("phase", layout, x.shape, padding, stride, a, b),
                                     shape, x.dtype, init=0)
            else:
                P = _workspace.empty(xp, "phase", shape, x.dtype)
            views[a, b] = P.transpose(_inverse(perm))
    for (a, b), V in views.items():
        phases[a, b] = V.transpose(perm)
        # padded rows r = a, a + sH, ... that hold x: pH <= r < pH + H (columns alike)
        ra = pH + (a - pH) % sH
        cb = pW + (b - pW) % sW
        nr, nc = len(range(ra, pH + H, sH)), len(range(cb, pW + W, sW))
        if nr and nc and whole is None:
            dst = V[:, :, ra // sH:ra // sH + nr, cb // sW:cb // sW + nc]
            rows_cols = (slice(ra - pH, None, sH), slice(cb - pW, None, sW))
            copies.append((dst, rows_cols, nr, nc))

    def copy(lo, hi):
        bands = _channel_bands(x, lo, hi) if staged else [(lo, hi, x[:, lo:hi])]
        for c0, c1, xb in bands:
            if whole is not None:
                whole[:, c0:c1] = xb.reshape(N, c1 - c0, H // sH, sH, W // sW,
                                             sW).transpose(0, 1, 3, 2, 5, 4)
            for dst, rc, nr, nc in copies:
                dst[:, c0:c1] = xb[(slice(None), slice(None)) + rc][:, :, :nr, :nc]
    return phases, copy


def _to_nchw(xp, src, b, order, tag):
    """A fresh C-contiguous (N, O, Ho, Wo) array from ``src``, the same data stored
    (O, N, Ho, Wo) (``order='nhw'``) or (O, Ho, Wo, N) ('hwn'), adding bias b (O,) on the
    way. (On NumPy conv outputs are handed on without this copy; it serves CuPy's convs and
    pooling results stored (C, N, H, W).)"""
    if order == "nhw":
        O, N, Ho, Wo = src.shape
        out = _workspace.empty(xp, tag, (N, O, Ho, Wo), src.dtype)
        dst = out.transpose(1, 0, 2, 3)
        bb = None if b is None else b[:, None, None, None]

        def part(lo, hi):
            if bb is None:
                dst[lo:hi] = src[lo:hi]
            else:
                xp.add(src[lo:hi], bb[lo:hi], out=dst[lo:hi])
        _parallel(xp, O, src.size, part)
        return out
    O, Ho, Wo, N = src.shape
    out = _workspace.empty(xp, tag, (N, O, Ho, Wo), src.dtype)
    out.transpose(1, 2, 3, 0)[...] = src
    if b is not None:
        out += b[None, :, None, None]
    return out


_SLAB_MIN = 40000   # elements one kernel offset's copy must move for threads to pay


def _offset_work(size, offsets):
    """The size to hand ``_parallel`` for a loop of one NumPy call per kernel offset: 0
    (one thread) when each call is small, as the threads then mostly wait for the GIL
    between calls (LeNet-5's second conv: col2im 1.45 ms on two threads, 1.07 ms on one)."""
    return size if size // offsets >= _SLAB_MIN else 0


def _storage_order(x):
    """The axes of ``x`` from outermost to innermost in memory (decreasing strides; ties
    keep the logical order): (0, 1, 2, 3) for a C-contiguous NCHW array, (1, 2, 3, 0) for
    one stored (C, H, W, N)."""
    return tuple(sorted(range(x.ndim), key=lambda a: -abs(x.strides[a])))


def _empty_stored(xp, tag, shape, dtype, order):
    """An uninitialised array of logical ``shape`` stored with its axes in ``order``
    (outermost first), from the workspace."""
    buf = _workspace.empty(xp, tag, tuple(shape[a] for a in order), dtype)
    return buf.transpose(_inverse(order))


def _along(axis, lo, hi):
    """The index selecting lo:hi on ``axis`` of a 4-D array."""
    sl = [slice(None)] * 4
    sl[axis] = slice(lo, hi)
    return tuple(sl)


def pad_into(xp, x, padding, fill=0, tag="pad", extra=(0, 0), layout="cnhw"):
    """x (N, C, H, W) padded by ``padding=(pH, pW)`` (plus ``extra`` rows/columns at the
    bottom/right; negative, down to -pH / -pW, pads less there) with ``fill``. Returns a
    view with the logical shape (N, C, H + 2pH + eH, W + 2pW + eW) of a buffer stored in
    ``layout`` (the order im2col reads it in). The border of a reused buffer is never
    written, so it keeps its fill; only the interior is copied each call."""
    N, C, H, W = x.shape
    pH, pW = padding
    Hp, Wp = H + 2 * pH + extra[0], W + 2 * pW + extra[1]
    perm = _LAYOUTS[layout]
    full = (N, C, Hp, Wp)
    buf = _workspace.empty(xp, (tag, layout, pH, pW, H, W), tuple(full[a] for a in perm),
                           x.dtype, init=fill)
    view = buf.transpose(_inverse(perm))
    if _staged(xp, x, layout):                      # C is the first axis stored

        def part(lo, hi):
            for c0, c1, xb in _channel_bands(x, lo, hi):
                view[:, c0:c1, pH:pH + H, pW:pW + W] = xb
        copy_into(buf, None, part)
    else:
        copy_into(buf, None, lambda lo, hi: _interior(view, x, perm, lo, hi, pH, pW, H, W))
    return view


def _interior(view, x, perm, lo, hi, pH, pW, H, W):
    """Copy the interior for rows lo:hi of the buffer's first physical axis (N or C)."""
    sl = [slice(None), slice(None), slice(pH, pH + H), slice(pW, pW + W)]
    src = [slice(None)] * 4
    sl[perm[0]] = src[perm[0]] = slice(lo, hi)
    view[tuple(sl)] = x[tuple(src)]


def windows(x, kernel_size, stride, dilation, out_hw, order="nhw"):
    """The strided view of the windows of x (N, C, H, W) (already padded), no copy:
    order 'nhw': shape (C, kH, kW, N, Ho, Wo), ``[c, i, j, n, ho, wo] ==
    x[n, c, ho*sH + i*dH, wo*sW + j*dW]``; order 'hwn': shape (C, kH, kW, Ho, Wo, N)."""
    xp = get_array_module(x)
    kH, kW = kernel_size
    sH, sW = stride
    dH, dW = dilation
    Ho, Wo = out_hw
    N, C = x.shape[:2]
    bN, bC, bH, bW = x.strides
    if order == "nhw":
        shape = (C, kH, kW, N, Ho, Wo)
        strides = (bC, bH * dH, bW * dW, bN, bH * sH, bW * sW)
    else:
        shape = (C, kH, kW, Ho, Wo, N)
        strides = (bC, bH * dH, bW * dW, bH * sH, bW * sW, bN)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def im2col(x, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1), order="nhw",
           out=None, _zero_border=False):
    """Unfold the receptive fields of ``x`` into columns.

    x: (N, C, H, W) array (any strides). ``kernel_size``, ``stride``, ``padding``,
    ``dilation``: pairs (rows, columns); padding is with zeros.
    Returns ``col``, C-contiguous, with ``Ho = (H + 2pH - dH(kH-1) - 1) // sH + 1`` (likewise
    Wo): for ``order='nhw'`` of shape (C, kH, kW, N, Ho, Wo) and
    ``col[c, i, j, n, ho, wo] = xpad[n, c, ho*sH + i*dH, wo*sW + j*dW]``; for ``order='hwn'``
    of shape (C, kH, kW, Ho, Wo, N) (the batch innermost: long contiguous runs when the
    feature maps are small). ``col.reshape(C*kH*kW, -1)`` is the GEMM operand (rows ordered
    like ``weight.reshape(O, C*kH*kW)``). ``out`` may give the destination array.
    (``_zero_border``: the entries of ``out`` that fall in the padding are zero already, a
    buffer reused for this geometry; then the input, stored in the order's layout or copied
    into it, is unfolded offset by offset with no padded copy.)
    """
    xp = get_array_module(x)
    N, C, H, W = x.shape
    kH, kW = kernel_size
    Ho = conv_output_size(H, kH, stride[0], padding[0], dilation[0])
    Wo = conv_output_size(W, kW, stride[1], padding[1], dilation[1])
    layout = _ORDER_LAYOUT[order]
    if _zero_border:
        perm = _LAYOUTS[layout]
        if stride == (1, 1) and not x.transpose(perm).flags.c_contiguous:
            # one (transposing) copy into the layout, as the padded copy would be; with a
            # stride the split into stride phases is that copy (5x5/s2 layer: 8.4 -> 7.6 ms
            # from NCHW, 7.4 -> 6.2 ms from (C, N, H, W))
            x = as_layout(xp, x, layout, "stage").transpose(_inverse(perm))
        _copy_offsets(out, x, kernel_size, stride, padding, dilation, order, (Ho, Wo))
        return out
    if padding[0] or padding[1] or (layout == "chwn" and not
                                    x.transpose(1, 2, 3, 0).flags.c_contiguous):
        x = pad_into(xp, x, padding, layout=layout)
    v = windows(x, kernel_size, stride, dilation, (Ho, Wo), order)
    if out is None:
        out = _workspace.empty(xp, "col", v.shape, x.dtype)
    return copy_into(out, v)


def _span(size, out, offset, step):
    """The outputs o in [o0, o1) whose input index o*step + offset lies in [0, size), and
    the input index of o0."""
    o0 = max(0, -(offset // step)) if offset < 0 else 0
    o1 = min(out, (size - 1 - offset) // step + 1) if size - 1 - offset >= 0 else 0
    return o0, max(o0, o1), o0 * step + offset


def _copy_offsets(col, x, kernel_size, stride, padding, dilation, order, out_hw):
    """col[:, i, j] = the in-image part of kernel offset (i, j), for every offset: x is stored
    in the order's layout, so each copy runs along whole rows of it; the entries that would
    read padding are left as they are (zero). With a stride, x is first split into its
    stride phases (``x[..., a::sH, b::sW]``, one pass over the input): every offset then
    reads one phase with unit steps, in runs of a whole output row instead of one pixel
    (or one batch column); measured 8.6 -> 6.7 ms on one thread for the 5x5/stride-2 layer
    of ``benchmarks/conv.py``, the phase split included."""
    xp = get_array_module(x)
    _, C, H, W = x.shape
    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = kernel_size, stride, padding, dilation
    Ho, Wo = out_hw
    hwn = order == "hwn"
    perm = _LAYOUTS[_ORDER_LAYOUT[order]]
    src = x.transpose(perm)                               # (C, H, W, N) or (C, N, H, W)
    jobs = []                # (destination index in col, phase, source rows, source cols)
    for i in range(kH):
        a0, a1, ha = _span(H, Ho, i * dH - pH, sH)
        for j in range(kW):
            b0, b1, wb = _span(W, Wo, j * dW - pW, sW)
            if a1 > a0 and b1 > b0:
                jobs.append(((i, j, slice(a0, a1), slice(b0, b1)), (ha % sH, wb % sW),
                             slice(ha // sH, ha // sH + a1 - a0),
                             slice(wb // sW, wb // sW + b1 - b0)))
    if (sH, sW) == (1, 1):
        phases, copy = {(0, 0): src}, None
    else:
        phases, copy = _stride_phases(xp, x, _ORDER_LAYOUT[order], (0, 0), stride,
                                      sorted({ab for _, ab, _, _ in jobs}))

    def part(lo, hi):
        if copy is not None:
            copy(lo, hi)
        c = col[lo:hi]
        for (i, j, ro, co), ab, rows, cols in jobs:
            s = phases[ab][lo:hi]
            if hwn:
                c[:, i, j, ro, co] = s[:, rows, cols]
            else:
                c[:, i, j, :, ro, co] = s[:, :, rows, cols]
    _parallel(xp, C, _offset_work(col.size, kH * kW), part)


def col2im(col, x_shape, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
           order="nhw"):
    """Fold columns back into an image, summing overlaps: the adjoint of ``im2col``.

    col: (C, kH, kW, N, Ho, Wo) for ``order='nhw'``, (C, kH, kW, Ho, Wo, N) for 'hwn' (or
    anything reshapeable to it, e.g. the (C*kH*kW, M) GEMM result); x_shape: (N, C, H, W),
    the shape of the image ``im2col`` was taken from (``Ho, Wo`` are read from a 6-D ``col``).
    Returns dx (N, C, H, W) with ``dx[n, c, h, w]`` = the sum of the column entries of
    (c, i, j, n, ho, wo) over h = ho*sH + i*dH - pH, w = wo*sW + j*dW - pW; dx is a view of a
    buffer stored (C, N, H, W) ('nhw') or (C, H, W, N) ('hwn').
    """
    xp = get_array_module(col)
    if _cuda_kernels.use_kernels(xp, col.dtype):      # real CuPy: one gather kernel launch
        return _cuda_kernels.col2im(col, x_shape, kernel_size, stride, padding, dilation,
                                    order)
    N, C, H, W = x_shape
    kH, kW = kernel_size
    sH, sW = stride
    pH, pW = padding
    dH, dW = dilation
    hwn = order == "hwn"
    if col.ndim != 6:
        Ho = conv_output_size(H, kH, sH, pH, dH)
        Wo = conv_output_size(W, kW, sW, pW, dW)
        col = col.reshape((C, kH, kW, Ho, Wo, N) if hwn else (C, kH, kW, N, Ho, Wo))
    Ho, Wo = (col.shape[3], col.shape[4]) if hwn else (col.shape[4], col.shape[5])
    # rows/cols beyond the last window (possible with output_padding) get no gradient
    Hb = max(H + 2 * pH, (Ho - 1) * sH + (kH - 1) * dH + 1)
    Wb = max(W + 2 * pW, (Wo - 1) * sW + (kW - 1) * dW + 1)
    if hwn:
        buf = _workspace.empty(xp, "col2im", (C, Hb, Wb, N), col.dtype)
        img = buf.transpose(3, 0, 1, 2)
    else:
        buf = _workspace.empty(xp, "col2im", (C, N, Hb, Wb), col.dtype)
        img = buf.transpose(1, 0, 2, 3)
    # img: the logical (N, C, Hb, Wb) view; slabs: the (N, C, Ho, Wo) view of one offset
    if hwn:
        def slab(c, i, j):
            return c[:, i, j].transpose(3, 0, 1, 2)
    else:
        def slab(c, i, j):
            return c[:, i, j].transpose(1, 0, 2, 3)

    def part(lo, hi):
        b = img[:, lo:hi]
        c = col[lo:hi]
        if sH == 1 and sW == 1:
            # the first offset assigns its slab; only the strips it misses are zeroed
            b[:, :, :Ho, :Wo] = slab(c, 0, 0)
            b[:, :, Ho:] = 0
            b[:, :, :Ho, Wo:] = 0
            skip_first = True
        else:
            b[...] = 0
            skip_first = False
        for i in range(kH):
            for j in range(kW):
                if skip_first and i == 0 and j == 0:
                    continue
                b[:, :, i * dH:i * dH + (Ho - 1) * sH + 1:sH,
                  j * dW:j * dW + (Wo - 1) * sW + 1:sW] += slab(c, i, j)
    _parallel(xp, C, _offset_work(col.size, kH * kW), part)
    return img[:, :, pH:pH + H, pW:pW + W]
