"""conv2d's chunked path (npconv/nn/_chunked_conv.py) and the OpenBLAS thread switch it uses
(npconv/_blas_threads.py): same results as the one-GEMM path, the patch matrix not kept,
OpenBLAS's thread count restored, and the cases that keep the one-GEMM path."""
import sys
import threading

import numpy as np
import pytest

import npconv as nc
import npconv.nn.functional as F
from npconv import _blas_threads
from npconv.nn import _chunked_conv, _conv
from npconv.nn import im2col as I
from npconv.nn import reference as R


def _run(x, w, b, gy, chunked, order, **kw):
    """(y, dx, dw, db) from one path and column order."""
    _chunked_conv.FORCE, _conv.FORCE_ORDER = chunked, order
    try:
        xt = nc.from_numpy(x).requires_grad_()
        wt = nc.tensor(w, requires_grad=True)
        bt = None if b is None else nc.tensor(b, requires_grad=True)
        y = F.conv2d(xt, wt, bt, **kw)
        y.backward(nc.tensor(gy))
        return (y.data.copy(), xt.grad.data.copy(), wt.grad.data.copy(),
                None if b is None else bt.grad.data.copy())
    finally:
        _chunked_conv.FORCE = _conv.FORCE_ORDER = None


@pytest.fixture
def threads(monkeypatch):
    """Split even small problems between two threads."""
    monkeypatch.setattr(I, "_PAR_MIN", 0)
    monkeypatch.setattr(I, "_NTHREADS", 2)
    monkeypatch.setattr(I, "_BUSY_LOAD", 0)


@pytest.mark.parametrize("order", ["hwn", "nhw"])
@pytest.mark.parametrize("stored", [(0, 1, 2, 3), (1, 0, 2, 3), (1, 2, 3, 0)])
@pytest.mark.parametrize("chunk_cols", [1, 50, 1024])
@pytest.mark.parametrize("shape,k,kw", [
    ((5, 8, 13, 11), (5, 5), dict(stride=2, padding=2)),                 # the 5x5/s2 layer
    ((3, 7, 9, 10), (3, 3), dict(padding=1)),
    ((4, 6, 12, 9), (3, 2), dict(stride=(3, 2), padding=(2, 0), dilation=(2, 3))),
    ((2, 16, 6, 7), (2, 2), dict(stride=2)),                             # no padding
    ((2, 3, 8, 9), (3, 3), dict(stride=2, padding=1)),   # O > C: col2im for the input grad
    ((1, 9, 5, 5), (3, 3), dict(padding="same", dilation=2)),
])
def test_chunked_path_equals_one_gemm_path(order, stored, chunk_cols, shape, k, kw, rng,
                                           threads, monkeypatch):
    """Outputs and all three gradients equal the one-GEMM path's (float32, a few ulps), for
    chunks of one output row or image up to the whole, inputs stored in any layout,
    strides, dilations, asymmetric padding; with and without bias, twice (reused
    buffers)."""
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", chunk_cols)
    for bias in (True, False):
        x = rng.standard_normal(shape).astype(np.float32)
        xs = np.ascontiguousarray(x.transpose(stored)).transpose(np.argsort(stored))
        w = rng.standard_normal((6, shape[1]) + k).astype(np.float32)
        b = rng.standard_normal(6).astype(np.float32) if bias else None
        y = F.conv2d(nc.from_numpy(x), nc.from_numpy(w), None, **kw)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        got = _run(xs, w, b, gy, True, order, **kw)
        want = _run(x, w, b, gy, False, order, **kw)
        for g, e in zip(got, want):
            if e is not None:
                np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5)


def test_chunked_path_matches_loop_reference_in_float64(rng, threads, monkeypatch):
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 1)
    x = rng.standard_normal((3, 4, 9, 8))
    w = rng.standard_normal((5, 4, 3, 3))
    b = rng.standard_normal(5)
    y, *_ = _run(x, w, b, np.ones((3, 5, 5, 4)), True, "hwn", stride=2, padding=1)
    np.testing.assert_allclose(y, R.conv2d(x, w, b, 2, 1), rtol=1e-12, atol=1e-12)


def test_the_patch_matrix_is_not_kept(rng, threads):
    """The chunked forward saves its plan (the padded, phase-split input), not the
    (K, M) patch matrix; the one-GEMM forward saves the matrix."""
    x = nc.tensor(rng.standard_normal((4, 8, 10, 10)).astype(np.float32), requires_grad=True)
    w = nc.tensor(rng.standard_normal((6, 8, 3, 3)).astype(np.float32), requires_grad=True)
    saved = {}
    for chunked in (True, False):
        _chunked_conv.FORCE = chunked
        try:
            saved[chunked] = F.conv2d(x, w, padding=1).grad_fn.saved_tensors[0]
        finally:
            _chunked_conv.FORCE = None
    plan = saved[True]
    assert isinstance(plan, _chunked_conv.Plan)
    assert sum(a.size for a in plan.sources.values()) == 4 * 8 * 12 * 12   # padded x
    assert saved[False].size == 8 * 9 * 4 * 10 * 10                         # (K, M)


def test_input_changed_in_place_before_backward_raises(rng):
    """The chunked backward unfolds x again, so x is guarded like any saved input."""
    x = nc.tensor(rng.standard_normal((2, 8, 6, 6)).astype(np.float32))   # data, no grad
    w = nc.tensor(rng.standard_normal((3, 8, 3, 3)).astype(np.float32), requires_grad=True)
    _chunked_conv.FORCE = True
    try:
        y = F.conv2d(x, w, padding=1)
        x.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    finally:
        _chunked_conv.FORCE = None


@pytest.mark.parametrize("k,s,d", [(k, s, d) for k in (1, 2, 3, 5) for s in (1, 2, 3)
                                   for d in (1, 2, 3)])
def test_offset_groups_cover_every_offset_once(k, s, d):
    """Offset i reads stride phase (i*d) % s at index o + (i*d) // s: the groups list each
    offset once with exactly that phase and index."""
    seen = {}
    for a, (i0, q, n, r0, step) in _chunked_conv._offset_groups(k, s, d).items():
        for t in range(n):
            seen[i0 + t * q] = (a, r0 + t * step)
    assert seen == {i: ((i * d) % s, (i * d) // s) for i in range(k)}


def test_which_convs_take_the_chunked_path(monkeypatch):
    monkeypatch.setattr(_chunked_conv, "FORCE", None)
    monkeypatch.setattr(_chunked_conv, "ENABLED", True)
    monkeypatch.setattr(I, "_NTHREADS", 2)
    monkeypatch.setattr(_blas_threads, "available", lambda: True)
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "4")
    use = _chunked_conv.usable
    assert use(np, 1, False, 288, 12544, 4)
    assert not use(np, 2, False, 288, 12544, 4)  # groups: one GEMM per group
    assert not use(np, 1, True, 288, 12544, 4)  # 1x1: no patch matrix to unfold
    assert not use(np, 1, False, 27, 131072, 4)  # thin patch matrix
    assert not use(np, 1, False, 576, 3136, 4)  # 7 MB: stays in the cache anyway
    assert not use(object(), 1, False, 288, 12544, 4)  # CuPy
    monkeypatch.setattr(I, "_NTHREADS", 1)
    assert not use(np, 1, False, 288, 12544, 4)  # one npconv thread: BLAS keeps its own
    monkeypatch.setattr(I, "_NTHREADS", 2)
    monkeypatch.setattr(_blas_threads, "available", lambda: False)
    assert not use(np, 1, False, 288, 12544, 4)  # no OpenBLAS to switch
    monkeypatch.setattr(_blas_threads, "available", lambda: True)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT")   # OpenBLAS's idle threads spin ~0.1 s
    assert not use(np, 1, False, 288, 12544, 4)
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "28")
    assert not use(np, 1, False, 288, 12544, 4)
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "16")
    assert use(np, 1, False, 288, 12544, 4)
    monkeypatch.setattr(_chunked_conv, "ENABLED", False)      # NPCONV_CHUNKED_CONV=0
    assert not use(np, 1, False, 288, 12544, 4)


class _FakeBlas:
    def __init__(self, n):
        self.n, self.calls = n, []

    def set(self, n):
        self.calls.append(n)
        self.n = n

    def get(self):
        return self.n


def test_single_threaded_restores_the_count_even_on_error(monkeypatch):
    fake = _FakeBlas(4)
    monkeypatch.setitem(_blas_threads._state, "fns", ((fake.set, fake.get),))
    with _blas_threads.single_threaded():
        assert fake.n == 1
        with _blas_threads.single_threaded():       # nested: no change, no early restore
            assert fake.n == 1
        assert fake.n == 1
    assert fake.n == 4 and fake.calls == [1, 4]
    with pytest.raises(ZeroDivisionError):
        with _blas_threads.single_threaded():
            1 / 0
    assert fake.n == 4


def test_single_threaded_with_concurrent_users(monkeypatch):
    """Two threads inside at once: the count is restored only when the last one leaves
    (the second must not 'restore' the first one's 1)."""
    fake = _FakeBlas(2)
    monkeypatch.setitem(_blas_threads._state, "fns", ((fake.set, fake.get),))
    inside, leave = threading.Event(), threading.Event()

    def other():
        with _blas_threads.single_threaded():
            inside.set()
            leave.wait(5)
    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(5)
    with _blas_threads.single_threaded():
        assert fake.n == 1
    assert fake.n == 1                      # the other thread is still inside
    leave.set()
    t.join()
    assert fake.n == 2


def test_every_loaded_openblas_is_switched(monkeypatch):
    """Two OpenBLAS copies loaded (NumPy's and, say, SciPy's): both go to one thread and
    both get their own count back."""
    a, b = _FakeBlas(2), _FakeBlas(4)
    monkeypatch.setitem(_blas_threads._state, "fns", ((a.set, a.get), (b.set, b.get)))
    with _blas_threads.single_threaded():
        assert a.n == b.n == 1
    assert (a.n, b.n) == (2, 4)


def test_a_numpy_built_on_another_blas_keeps_the_one_gemm_path(monkeypatch):
    fake = _FakeBlas(2)
    monkeypatch.setitem(_blas_threads._state, "fns", ((fake.set, fake.get),))
    monkeypatch.setitem(_blas_threads._state, "numpy_blas", "mkl-sdl")
    assert not _blas_threads.available()
    monkeypatch.setitem(_blas_threads._state, "numpy_blas", "scipy-openblas")
    assert _blas_threads.available()


def test_no_openblas_loaded_means_not_available(monkeypatch):
    monkeypatch.setattr(_blas_threads, "_loaded_openblas", lambda: [])
    assert _blas_threads._find() == ()
    monkeypatch.setitem(_blas_threads._state, "fns", ())
    assert not _blas_threads.available() and _blas_threads.num_threads() is None
    with _blas_threads.single_threaded():   # a no-op
        pass


@pytest.mark.skipif(not _blas_threads.available(), reason="NumPy is not linked to OpenBLAS")
def test_real_openblas_thread_count_switches_and_returns(rng, threads):
    before = _blas_threads.num_threads()
    with _blas_threads.single_threaded():
        assert _blas_threads.num_threads() == 1
    assert _blas_threads.num_threads() == before
    _chunked_conv.FORCE = True
    try:
        x = nc.tensor(rng.standard_normal((2, 8, 9, 9)).astype(np.float32), requires_grad=True)
        w = nc.tensor(rng.standard_normal((4, 8, 3, 3)).astype(np.float32), requires_grad=True)
        F.conv2d(x, w, padding=1).sum().backward()
    finally:
        _chunked_conv.FORCE = None
    assert _blas_threads.num_threads() == before


@pytest.mark.parametrize("order", ["hwn", "nhw"])
def test_input_gradient_is_a_correlation_when_O_le_C(order, rng, threads, monkeypatch):
    """With O <= C the chunked path computes dx without col2im, as a correlation of the
    padded output gradient (one GEMM per stride phase); with O > C it keeps W.T @ gY and
    col2im. Both give the loop reference's gradient (float64, gradcheck-grade)."""
    calls = []
    real = _conv.col2im
    monkeypatch.setattr(_conv, "col2im", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 7)
    for C, O, col2im_used in ((8, 8, False), (8, 3, False), (3, 8, True)):
        x = nc.tensor(rng.standard_normal((3, C, 9, 8)), requires_grad=True)
        w = nc.tensor(rng.standard_normal((O, C, 3, 2)), requires_grad=True)
        _chunked_conv.FORCE, _conv.FORCE_ORDER = True, order
        try:
            assert nc.gradcheck(lambda x, w: F.conv2d(x, w, None, (2, 3), (1, 2), (2, 1)),
                                (x, w))
        finally:
            _chunked_conv.FORCE = _conv.FORCE_ORDER = None
        assert bool(calls) == col2im_used
        calls.clear()


def test_many_calls_on_two_threads_agree(rng, threads, monkeypatch):
    """Every call makes a new plan that both threads read at once: none may see it half
    built (a lazily built list once let a thread fill part of a chunk, leaving stale
    numbers in its buffer, now and then)."""
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 1)
    x = rng.standard_normal((2, 4, 9, 9))
    w = rng.standard_normal((4, 4, 3, 3))
    want = R.conv2d(x, w, None, 2, 1)
    _chunked_conv.FORCE = True
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)         # switch threads as often as Python can
    try:
        for _ in range(300):
            y = F.conv2d(nc.tensor(x), nc.tensor(w), None, stride=2, padding=1).data
            np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    finally:
        sys.setswitchinterval(interval)
        _chunked_conv.FORCE = None


def test_gradients_bit_identical_on_one_thread_or_two(rng, monkeypatch):
    """The weight gradient adds per-run partial sums; the runs depend on the problem only,
    so one thread (a busy machine) and two give the very same bits."""
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 1)
    monkeypatch.setattr(I, "_PAR_MIN", 0)
    monkeypatch.setattr(I, "_BUSY_LOAD", 0)
    x = rng.standard_normal((3, 8, 11, 10)).astype(np.float32)
    w = rng.standard_normal((6, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    gy = rng.standard_normal((3, 6, 6, 5)).astype(np.float32)
    got = []
    for nthreads in (1, 2, 2, 1):
        monkeypatch.setattr(I, "_NTHREADS", nthreads)
        got.append(_run(x, w, b, gy, True, "hwn", stride=2, padding=1))
    for other in got[1:]:
        for a, e in zip(other, got[0]):
            np.testing.assert_array_equal(a, e)


def test_each_run_of_chunks_is_a_part_of_its_own(rng, threads, monkeypatch):
    """The threads take the runs one at a time (``parts`` = runs): handed to ``_parallel``
    in its default ~8 parts, the 5x5/stride-2 layer's 14 chunks went 8 to one thread and 6
    to the other. Up to ``_RUNS`` runs; more chunks than that make longer runs."""
    seen = []
    parallel = I._parallel

    def spy(xp, n, size, fn, parts=None):
        seen.append((n, parts))
        return parallel(xp, n, size, fn, parts=parts)
    monkeypatch.setattr(I, "_parallel", spy)
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 56)      # one output row a chunk
    x = rng.standard_normal((4, 8, 28, 28)).astype(np.float32)
    plan = _chunked_conv.Plan(x, (5, 5), (2, 2), (2, 2), (1, 1), "hwn", (14, 14), 200)
    want = np.arange(plan.nchunks)
    assert plan.nchunks == 14

    def chunk(buf, m0, m1, acc):
        return (acc or []) + [m0 // (plan.per * plan.inner)]
    seen.clear()
    got = plan.run(chunk)
    assert seen == [(min(plan.nchunks, _chunked_conv._RUNS),) * 2]
    np.testing.assert_array_equal(np.concatenate(got), want)
    monkeypatch.setattr(_chunked_conv, "_RUNS", 4)
    seen.clear()
    got = plan.run(chunk)
    assert seen == [(4, 4)] and len(got) == 4
    np.testing.assert_array_equal(np.concatenate(got), want)


def test_gradients_through_one_copy_stride_phases_in_float64(rng, threads, monkeypatch):
    """A staged input (batch stride a multiple of 2 KiB) whose padding and size are
    multiples of the stride goes into its stride phases by one copy per band; the weight
    gradient unfolds the chunks again from those phases: gradcheck in float64 (w and b; x's
    gradient does not read the phases), bands of one channel, 5x5 kernel, stride 2."""
    monkeypatch.setattr(I, "_BAND_BYTES", 1)
    monkeypatch.setattr(_chunked_conv, "_CHUNK_COLS", 40)
    x = nc.tensor(rng.standard_normal((16, 2, 16, 16)))         # batch stride 4 KiB
    assert I._staged(np, x.data, "chwn")
    w = nc.tensor(rng.standard_normal((3, 2, 5, 5)), requires_grad=True)
    b = nc.tensor(rng.standard_normal(3), requires_grad=True)
    _chunked_conv.FORCE = True
    try:
        assert nc.gradcheck(lambda w, b: F.conv2d(x, w, b, stride=2, padding=2), (w, b))
        y = F.conv2d(x, w, b, stride=2, padding=2)
    finally:
        _chunked_conv.FORCE = None
    np.testing.assert_allclose(y.data, R.conv2d(x.data, w.data, b.data, 2, 2), rtol=1e-12,
                               atol=1e-12)
