"""im2col / col2im: the documented layout, adjointness, threads and buffer reuse."""
import sys

import numpy as np
import pytest

from npconv.nn import im2col as I


def loop_im2col(x, k, s, p, d):
    N, C, H, W = x.shape
    Ho = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    Wo = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    col = np.zeros((C, k[0], k[1], N, Ho, Wo), x.dtype)
    for c in range(C):
        for i in range(k[0]):
            for j in range(k[1]):
                for n in range(N):
                    for ho in range(Ho):
                        for wo in range(Wo):
                            col[c, i, j, n, ho, wo] = xp[n, c, ho * s[0] + i * d[0],
                                                         wo * s[1] + j * d[1]]
    return col


CASES = [((2, 3, 5, 6), (3, 3), (1, 1), (1, 1), (1, 1)),
         ((1, 2, 7, 7), (2, 3), (2, 1), (0, 1), (1, 2)),
         ((3, 1, 6, 5), (1, 1), (1, 1), (0, 0), (1, 1)),
         ((2, 2, 9, 8), (3, 2), (3, 2), (2, 1), (2, 1))]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("order", ["nhw", "hwn"])
def test_im2col_layout_and_col2im_adjoint(case, order):
    shape, k, s, p, d = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    ref = loop_im2col(x, k, s, p, d)
    col = I.im2col(x, k, s, p, d, order=order)
    assert col.flags.c_contiguous
    if order == "hwn":
        col = col.transpose(0, 1, 2, 5, 3, 4)
    np.testing.assert_array_equal(col, ref)
    # col2im is the adjoint: <im2col(x), c> == <x, col2im(c)>
    c = rng.standard_normal(ref.shape)
    cc = c if order == "nhw" else np.ascontiguousarray(c.transpose(0, 1, 2, 4, 5, 3))
    back = I.col2im(cc, shape, k, s, p, d, order=order)
    assert back.shape == shape
    np.testing.assert_allclose((ref * c).sum(), (x * back).sum(), rtol=1e-12)
    # the 2-D GEMM form is accepted too
    back2 = I.col2im(cc.reshape(ref.shape[0] * k[0] * k[1], -1), shape, k, s, p, d, order=order)
    np.testing.assert_array_equal(back, back2)


def test_threaded_paths_equal_serial(monkeypatch):
    """Big arrays are split over threads; the result is the same as one thread's."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 16, 40, 40)).astype(np.float32)
    monkeypatch.setattr(I, "_PAR_MIN", 1)
    monkeypatch.setattr(I, "_NTHREADS", 3)
    monkeypatch.setattr(I, "_BUSY_LOAD", 0.0)      # threads even on a busy machine
    a = I.im2col(x, (3, 3), (1, 1), (1, 1)).copy()
    ca = I.col2im(a, x.shape, (3, 3), (1, 1), (1, 1)).copy()
    monkeypatch.setattr(I, "_NTHREADS", 1)
    b = I.im2col(x, (3, 3), (1, 1), (1, 1))
    cb = I.col2im(b, x.shape, (3, 3), (1, 1), (1, 1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ca, cb)


def test_parallel_covers_every_row_once_and_falls_back_when_busy(monkeypatch):
    """Chunks are taken from a shared counter by the caller and the helpers (a helper that
    has not started when the work is done is cancelled): every row is done exactly once.
    When the machine is oversubscribed everything runs on the calling thread."""
    import threading
    monkeypatch.setattr(I, "_PAR_MIN", 1)
    monkeypatch.setattr(I, "_NTHREADS", 3)
    monkeypatch.setattr(I, "_BUSY_LOAD", 0.0)
    for n in (2, 5, 12, 101):
        hits = np.zeros(n, int)
        lock = threading.Lock()

        def part(lo, hi):
            with lock:
                hits[lo:hi] += 1
        I._parallel(np, n, 10 ** 9, part)
        assert (hits == 1).all()
    with pytest.raises(ZeroDivisionError):          # a failing chunk raises in the caller
        I._parallel(np, 8, 10 ** 9, lambda lo, hi: 1 / 0)
    monkeypatch.setattr(I, "_BUSY_LOAD", 1e-9)      # any load counts as busy
    monkeypatch.setattr(I, "_busy_state", [-1.0, False])
    calls = []
    I._parallel(np, 8, 10 ** 9, lambda lo, hi: calls.append((lo, hi, threading.get_ident())))
    if I._busy():                                   # getloadavg may report exactly 0
        assert calls == [(0, 8, threading.get_ident())]


def test_parallel_takes_the_parts_it_is_given(monkeypatch):
    """``parts``: exactly that many chunks (at most n), each of consecutive rows, whatever
    ``size`` says; without it, as many as the size pays for."""
    import threading
    monkeypatch.setattr(I, "_PAR_MIN", 1)
    monkeypatch.setattr(I, "_NTHREADS", 2)
    monkeypatch.setattr(I, "_BUSY_LOAD", 0.0)
    for n, parts, expect in ((14, 14, 14), (14, 5, 5), (3, 8, 3), (14, None, 2)):
        calls, lock = [], threading.Lock()

        def part(lo, hi):
            with lock:
                calls.append((lo, hi))
        I._parallel(np, n, 10 ** 6, part, parts=parts)   # 10**6 elements: 1 chunk a thread
        assert len(calls) == expect
        assert sorted(calls)[0][0] == 0 and sorted(calls)[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(sorted(calls), sorted(calls)[1:]))


@pytest.mark.parametrize("band_bytes", [1, 3 * 16 * 5 * 8 * 4, 1 << 20])
@pytest.mark.parametrize("hw", [(5, 6), (4, 8)])      # 4x8 float32: 128 B, padded when staged
def test_channel_bands_stage_an_aliasing_input(monkeypatch, band_bytes, hw, rng):
    """A batch stride that is a multiple of 2 KiB (images 512 floats apart) goes through the
    staged channel bands when moved innermost; bands of 1, 3 and all channels give x's own
    values, in as_layout, pad_into and the chunked conv's stride phases alike, also where
    the staged images are a cache line apart more than their size."""
    from npconv.nn import _chunked_conv as CC
    monkeypatch.setattr(I, "_BAND_BYTES", band_bytes)
    x = rng.standard_normal((16, 512)).astype(np.float32)[:, :5 * hw[0] * hw[1]]
    x = x.reshape((16, 5) + hw)
    assert I._staged(np, x, "chwn") and not I._staged(np, x, "cnhw")
    bands = list(I._channel_bands(x, 1, 5))
    assert bands[0][0] == 1 and bands[-1][1] == 5
    for c0, c1, xb in bands:
        np.testing.assert_array_equal(xb, x[:, c0:c1])
    np.testing.assert_array_equal(I.as_layout(np, x, "chwn", "t"), x.transpose(1, 2, 3, 0))
    padded = I.pad_into(np, x, (2, 1), tag="tpad%d" % hw[0], layout="chwn")
    np.testing.assert_array_equal(padded, np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1))))
    phases = CC._phases(x, "chwn", (2, 1), (2, 3), [(0, 0), (1, 2)])
    xpad = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)))
    for (a, b), P in phases.items():
        np.testing.assert_array_equal(P.transpose(3, 0, 1, 2), xpad[:, :, a::2, b::3])


def test_workspace_reuses_only_free_arrays():
    ws = I._Workspace()
    a = ws.empty(np, "t", (512, 512), np.float32)
    b = ws.empty(np, "t", (512, 512), np.float32)
    assert not np.shares_memory(a, b)            # a is still referenced
    view = a[1:]
    del a
    c = ws.empty(np, "t", (512, 512), np.float32)
    assert not np.shares_memory(c, view)         # a view keeps its memory alive
    del view, b
    d = ws.empty(np, "t", (256, 1024), np.float32)   # any shape of a fitting size
    e = ws.empty(np, "t", (300, 512), np.float32)    # a larger free array, <= 2x, fits
    assert not np.shares_memory(d, e) and not np.shares_memory(c, d)
    assert len(ws._flat["<f4"]) == 3
    ws.clear()
    small = ws.empty(np, "t", (4,), np.float32)   # small arrays are never pooled
    assert sys.getrefcount(small) == 2


def _vm_flags(address):
    """The VmFlags of the mapping holding ``address`` (Linux /proc/self/smaps)."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                lo, hi = (int(v, 16) for v in head.split("-"))
                inside = lo <= address < hi
            elif inside and line.startswith("VmFlags:"):
                return line.split()[1:]
    return None


def test_big_scratch_arrays_are_on_aligned_huge_page_memory(monkeypatch):
    if not I._huge_pages or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux's madvise(MADV_HUGEPAGE)")
    ws = I._Workspace()
    a = ws.empty(np, "t", (700, 1000), np.float32)          # 2.8 MB: one mapping of its own
    assert a.shape == (700, 1000) and a.dtype == np.float32 and a.flags.writeable
    assert a.flags.c_contiguous and a.ctypes.data % (2 << 20) == 0
    assert "hg" in _vm_flags(a.ctypes.data)                 # marked for huge pages
    a[...] = 3
    assert a.sum() == 3 * a.size
    view, at = a[5:, 2:], a.ctypes.data    # a view still holds it: not handed out again
    del a
    b = ws.empty(np, "t", (700, 1000), np.float32)
    assert not np.shares_memory(b, view)
    del view                               # now free: handed out again
    assert ws.empty(np, "t", (1000, 700), np.float32).ctypes.data == at
    assert len(ws._flat["<f4"]) == 2
    # the keyed pool's filled buffers too, their views keeping them alike
    f = ws.empty(np, "pad", (3, 512, 512), np.float32, init=0)
    assert f.ctypes.data % (2 << 20) == 0 and "hg" in _vm_flags(f.ctypes.data)
    assert f.shape == (3, 512, 512) and not f.any()
    f[1:, 1:-1] = 7
    inner, at = f[1:, 1:-1], f.ctypes.data
    del f
    g = ws.empty(np, "pad", (3, 512, 512), np.float32, init=0)
    assert g.ctypes.data != at and not g.any()
    del inner, g
    h = ws.empty(np, "pad", (3, 512, 512), np.float32, init=0)
    assert h.ctypes.data == at and h.sum() == 7 * 2 * 512 * 510     # the first, as left
    small = I._host_empty((200_000,), np.dtype(np.float32))  # < 1 MiB: NumPy's own memory
    assert small.flags.owndata and small.shape == (200_000,)
    monkeypatch.setattr(I, "_huge_pages", False)            # no THP: NumPy's memory too
    assert I._host_empty((1 << 20,), np.dtype(np.float64)).flags.owndata


def test_workspace_filled_buffers_keep_their_border():
    ws = I._Workspace()
    a = ws.empty(np, "pad", (256, 512), np.float32, init=-1.0)
    assert (a == -1).all()
    a[1:-1, 1:-1] = 5
    del a
    b = ws.empty(np, "pad", (256, 512), np.float32, init=-1.0)
    assert b[0, 0] == -1 and b[1, 1] == 5        # the same buffer, not refilled


def test_workspace_can_be_disabled():
    I.set_workspace_enabled(False)
    try:
        x = np.ones((4, 8, 32, 32), np.float32)
        col = I.im2col(x, (3, 3), (1, 1), (1, 1))
        assert col.shape == (8, 3, 3, 4, 32, 32)
    finally:
        I.set_workspace_enabled(True)


def test_conv_output_size():
    assert I.conv_output_size(28, 3, 1, 1) == 28
    assert I.conv_output_size(28, 5, 2, 2) == 14
    assert I.conv_output_size(7, 3, 2, 0, 2) == 2


@pytest.mark.parametrize("layout", ["chwn", "cnhw"])
@pytest.mark.parametrize("shape, padding, stride", [
    ((3, 4, 8, 6), (2, 2), (2, 2)),      # all phases, regular: one copy per band
    ((3, 4, 8, 6), (0, 0), (2, 3)),      # regular and unpadded (scratch buffer)
    ((2, 3, 7, 9), (1, 2), (2, 2)),      # odd size, padding not a multiple of the stride
    ((2, 3, 9, 8), (3, 0), (3, 2)),
    ((2, 3, 6, 6), (1, 1), (3, 3)),
])
@pytest.mark.parametrize("subset", [False, True])
def test_stride_phases_equal_the_padded_input_split(layout, shape, padding, stride, subset,
                                                    rng):
    """Every phase is xpad[:, :, a::sH, b::sW] in the layout: in one shared buffer when all
    are needed (one copy per band where padding and size are multiples of the stride, a copy
    per phase otherwise), in buffers of their own for a subset. The padding stays zero from
    call to call, and phases still held are not handed out again."""
    (pH, pW), (sH, sW) = padding, stride
    needed = [(a, b) for a in range(sH) for b in range(sW)]
    if subset:
        needed = needed[::2]
    perm = I._LAYOUTS[layout]
    for trial in range(2):
        x = rng.standard_normal(shape).astype(np.float32)
        phases, copy = I._stride_phases(np, x, layout, padding, stride, needed)
        copy(0, 1)
        copy(1, shape[1])
        xpad = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
        assert sorted(phases) == sorted(needed)
        for (a, b), P in phases.items():
            np.testing.assert_array_equal(P.transpose(I._inverse(perm)), xpad[:, :, a::sH, b::sW])
        if trial == 0:
            held = {ab: P.copy() for ab, P in phases.items()}
            kept = phases
    again, copy = I._stride_phases(np, x, layout, padding, stride, needed)
    copy(0, shape[1])
    for ab, P in kept.items():                    # still held: not overwritten
        assert not np.shares_memory(P, again[ab])
        np.testing.assert_array_equal(P, held[ab])


def test_stride_phases_of_an_aliasing_input_in_one_copy_per_band(monkeypatch, rng):
    """The staged channel bands feed the one-copy split too (batch stride a multiple of
    2 KiB, bands of 1 and 3 channels)."""
    for band_bytes in (1, 3 * 16 * 8 * 8 * 4):
        monkeypatch.setattr(I, "_BAND_BYTES", band_bytes)
        x = rng.standard_normal((16, 512)).astype(np.float32)[:, :5 * 8 * 8].reshape(16, 5, 8, 8)
        assert I._staged(np, x, "chwn")
        phases, copy = I._stride_phases(np, x, "chwn", (2, 2), (2, 2),
                                        [(0, 0), (0, 1), (1, 0), (1, 1)])
        copy(0, 5)
        xpad = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
        for (a, b), P in phases.items():
            np.testing.assert_array_equal(P.transpose(3, 0, 1, 2), xpad[:, :, a::2, b::2])
