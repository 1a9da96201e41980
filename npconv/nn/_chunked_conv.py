"""conv2d's GEMMs over the patch matrix in cache-sized chunks (NumPy, one group).

The plain im2col conv writes the whole patch matrix, then one GEMM reads it back: for a
(64, 32, 28, 28) input under a 5x5/stride-2 kernel that is 40 MB written out to memory and
read back. Here the columns are cut into chunks of ~1,000 (one or a few output rows for the
'hwn' order, a few images for 'nhw'); a thread unfolds one chunk into a small buffer of its
own and multiplies it at once, while the buffer is still in its cache::

    for each chunk c (columns m0:m1), on any of npconv's threads:
        buf = im2col of x restricted to those columns          # (K [+ 1], m1 - m0)
        Y[:, m0:m1] = [W | b] @ buf                            # forward
        dW_thread  += gY[:, m0:m1] @ buf.T                     # weight gradient (backward)

Each GEMM runs on its own thread with OpenBLAS set to one thread meanwhile
(``npconv._blas_threads``). A chunk unfolds by one NumPy copy per stride phase of the
zero-padded input (``Plan``). The patch matrix is not kept for the backward: the weight
gradient unfolds the chunks again from the same sources, which the forward keeps instead.
With O <= C the input gradient skips col2im as well: it is computed as a correlation of the
padded output gradient, one GEMM per stride phase of the input, chunked the same way
(``input_grad``).

Measured with ``benchmarks/conv.py`` (2-core box, two threads, one run; in brackets this
path off): 5x5/stride-2 layer forward 66% of the GEMM bound from NCHW input (52%), 77% from
a conv-stored input, forward + backward 72% of the 3-GEMM bound (58%); 56x56 layer 87%
(77%) and 90% (82%). Whole training steps: ResNet 8-10% faster, LeNet-5 and the seed CNN
unchanged (small layers).

Used on NumPy with OpenBLAS and two or more npconv threads, for groups == 1, kernels larger
than 1x1, C*kH*kW >= 64 and patch matrices of 8 MB and more, when OpenBLAS's idle threads
sleep soon (``npconv._blas_env.short_spin``: ``OPENBLAS_THREAD_TIMEOUT`` at most 20, as
``import npconv`` sets it unless the user has); ``NPCONV_CHUNKED_CONV=0`` turns it off (the
one-big-GEMM path then runs).
"""
import os
import threading
from math import gcd

import numpy
from numpy.lib.stride_tricks import as_strided

from .. import _blas_env, _blas_threads
from . import im2col as _im

# None: decide per call (``usable``); True / False force it (tests, benchmarks)
FORCE = None
ENABLED = os.environ.get("NPCONV_CHUNKED_CONV", "1") != "0"
_CHUNK_COLS = 1024          # columns a chunk aims at (measured best: 800-1,000)
_CHUNK_BYTES = 4 << 20      # a chunk buffer at most this big (when K is large)
_RUNS = 16                  # runs of consecutive chunks handed to threads (balance)
_MIN_K = 64                 # patch-matrix rows (C*kH*kW) below which one GEMM is faster
_MIN_BYTES = 8 << 20        # patch matrices smaller than this stay in cache anyway


def usable(xp, groups, pointwise, K, M, itemsize):
    """Whether conv2d should take the chunked path (patch matrix K = C*kH*kW by M). With
    fewer than ~64 rows the patch matrix is thin and cheap to write, and the chunks' small
    GEMMs cost more than they save (a 1-channel 3x3 layer: forward 53% of the GEMM bound
    chunked, 72% not); below ~8 MB it largely stays in the cache by itself (a 7 MB one,
    64x64x7x7 -> 128: forward 72% chunked, 75% not; 14 MB, 64x32x14x14 -> 64: 75% and 68%)."""
    if xp is not numpy or groups != 1 or pointwise:
        return False
    if FORCE is not None:
        return FORCE
    return (ENABLED and K >= _MIN_K and K * M * itemsize >= _MIN_BYTES and _im._NTHREADS >= 2
            and _blas_env.short_spin() and _blas_threads.available())


class Plan:
    """One conv's geometry and the sources its chunks are unfolded from.

    The sources are x zero-padded and split into its stride phases,
    ``xpad[..., a::sH, b::sW]``, stored in the column order's layout ((C, H', W', N) for
    'hwn', (C, N, H', W') for 'nhw'), in buffers kept per geometry whose padding stays zero
    (only the interior is copied in). Kernel offsets i whose ``i*dH`` falls in the same
    row phase read that phase at rows advancing in equal steps, and likewise for columns,
    so one strided view of a phase covers all its offsets: a chunk is unfolded by one NumPy
    copy per phase (one in all at stride 1), whatever its edges. ``rows``: K, or K + 1 with
    the bias's row of ones under the patch matrix."""

    def __init__(self, x, ksize, stride, padding, dilation, order, out_hw, rows):
        N, C, H, W = x.shape
        Ho, Wo = out_hw
        self.shape = (N, C, Ho, Wo)
        self.ksize = ksize
        self.K, self.rows, self.dtype = C * ksize[0] * ksize[1], rows, x.dtype
        self.hwn = order == "hwn"
        # per phase (a, b): (the kernel offsets i0::qi, j0::qj reading it, their count,
        # the phase row and column of their first window, the steps between offsets)
        hgroups = _offset_groups(ksize[0], stride[0], dilation[0])
        wgroups = _offset_groups(ksize[1], stride[1], dilation[1])
        self.groups = [((a, b), gh, gw) for a, gh in hgroups.items() for b, gw in wgroups.items()]
        self.axes = ((H, Ho, padding[0], stride[0], hgroups),
                     (W, Wo, padding[1], stride[1], wgroups))
        self.xshape, self.layout = x.shape, _im._ORDER_LAYOUT[order]
        # the columns: chunks of `per` units of the outermost column axis (output rows for
        # 'hwn', images for 'nhw'), each unit `inner` columns
        self.outer, self.inner = (Ho, Wo * N) if self.hwn else (N, Ho * Wo)
        per = max(1, round(_CHUNK_COLS / self.inner))
        per = max(1, min(per, _CHUNK_BYTES // (x.dtype.itemsize * rows * self.inner)))
        self.per = min(per, self.outer)
        self.nchunks = -(-self.outer // self.per)
        self.sources = _phases(x, self.layout, padding, stride,
                               [ab for ab, _, _ in self.groups])
        self.windows = self._windows()

    def buffer(self, units):
        """A chunk buffer (rows, units*inner), its row of ones (if any) set."""
        buf = _im._workspace.empty(numpy, "chunk", (self.rows, units * self.inner),
                                   self.dtype)
        if self.rows > self.K:
            buf[self.K] = 1
        return buf

    def _windows(self):
        """Per phase group: (i0, qi, j0, qj, the 6-D view of all its patch rows), the view
        (C, ni, nj, Ho, Wo, N) for 'hwn' or (C, ni, nj, N, Ho, Wo) for 'nhw' (made once,
        before any thread fills a chunk: ``as_strided`` costs microseconds, slicing it per
        chunk almost nothing)."""
        N, C, Ho, Wo = self.shape
        windows = []
        for ab, (i0, qi, ni, r0, ri), (j0, qj, nj, c0, cj) in self.groups:
            P = self.sources[ab]
            if self.hwn:        # P (C, H', W', N): [c, ., ., o, wo, n] at row o + r
                sC, sh, sw, sn = P.strides
                v = as_strided(P[:, r0:, c0:], (C, ni, nj, Ho, Wo, N),
                               (sC, ri * sh, cj * sw, sh, sw, sn))
            else:               # P (C, N, H', W'): [c, ., ., n, ho, wo]
                sC, sn, sh, sw = P.strides
                v = as_strided(P[:, :, r0:, c0:], (C, ni, nj, N, Ho, Wo),
                               (sC, ri * sh, cj * sw, sn, sh, sw))
            windows.append((i0, qi, j0, qj, v))
        return windows

    def fill(self, buf, lo, hi):
        """buf[:K] = the patch-matrix columns of outer units lo:hi (output rows for 'hwn',
        images for 'nhw'): ``[c, i, j, ...] = xpad[n, c, ho*sH + i*dH, wo*sW + j*dW]``."""
        N, C, Ho, Wo = self.shape
        kH, kW = self.ksize
        n = hi - lo
        B = buf[:self.K].reshape((C, kH, kW, n, Wo, N) if self.hwn else (C, kH, kW, n, Ho, Wo))
        for i0, qi, j0, qj, v in self.windows:
            B[:, i0::qi, j0::qj] = v[:, :, :, lo:hi]

    def run(self, chunk_fn):
        """``acc = chunk_fn(buf, m0, m1, acc)`` for every chunk (patch-matrix columns
        m0:m1, unfolded into ``buf``), in runs of consecutive chunks on npconv's threads with
        OpenBLAS on one thread meanwhile. Returns each run's last ``acc``, in chunk order.
        The runs are fixed by the problem alone, not by how many threads take part, so
        partial sums (the weight gradient's) add up alike on a busy machine and an idle one:
        bit-identical results from call to call."""
        nruns = min(self.nchunks, _RUNS)
        bounds = [self.nchunks * r // nruns for r in range(nruns + 1)]
        results = [None] * nruns
        # one buffer per thread and chunk length, fetched once: a thread reuses the same
        # one, still in its cache, from run to run
        bufs = {}

        def runs(lo, hi):
            me = threading.get_ident()
            for r in range(lo, hi):
                acc = None
                for c in range(bounds[r], bounds[r + 1]):
                    u0, u1 = c * self.per, min(self.outer, (c + 1) * self.per)
                    buf = bufs.get((me, u1 - u0))
                    if buf is None:
                        buf = bufs[me, u1 - u0] = self.buffer(u1 - u0)
                    self.fill(buf, u0, u1)
                    acc = chunk_fn(buf, u0 * self.inner, u1 * self.inner, acc)
                results[r] = acc
        with _blas_threads.single_threaded():
            # each run its own part, taken in turn by whichever thread is free: with the
            # default split of ~8 parts, 14 chunks went 8 to one thread and 6 to the other
            # (the 5x5/stride-2 layer's forward 0.5 ms slower)
            _im._parallel(numpy, nruns, self.rows * self.outer * self.inner, runs,
                          parts=nruns)
        return results


def forward(plan, wm, Y):
    """Y (O, M) = wm (O, rows) @ the patch matrix, chunk by chunk."""
    def chunk(buf, m0, m1, acc):
        numpy.matmul(wm, buf, out=Y[:, m0:m1])
    plan.run(chunk)
    return Y


def weight_grad(plan, gYm):
    """gYm (O, M) @ the patch matrix.T -> (O, rows), chunk by chunk (one partial sum per
    run of chunks, added in order at the end)."""
    def chunk(buf, m0, m1, acc):
        prod = numpy.matmul(gYm[:, m0:m1], buf.T)
        if acc is None:
            return prod
        acc += prod
        return acc
    total, *rest = plan.run(chunk)          # every run has at least one chunk
    for p in rest:
        total += p
    return total


def _input_phases(size, out, pad, s, groups):
    """Along one axis, the input gradient as a correlation of the output gradient, per
    stride phase a of the padded input: padded index q*s + a (an input pixel when in
    [pad, pad + size)) gets, from offset i0 + t*step of the phase's group, output
    q - r0 - t*r. Returns ({a: (q0, nq, group or None)} over the phases holding input
    pixels, q0..q0+nq-1 their indices), and the zero padding the output gradient needs
    before and after so that every such read is in range."""
    phases, before, after = {}, 0, 0
    for a in range(s):
        q0 = -(-(pad - a) // s)
        q1 = (pad + size - 1 - a) // s            # inclusive
        if q1 < q0:
            continue
        g = groups.get(a)
        phases[a] = (q0, q1 - q0 + 1, g)
        if g is not None:
            i0, qi, ni, r0, r = g
            before = max(before, r0 + (ni - 1) * r - q0)
            after = max(after, q1 - r0 - (out - 1))
    return phases, max(before, 0), max(after, 0)


def grad_as_conv(O, C):
    """Whether the chunked input gradient (``input_grad``) beats W.T @ gY + col2im: its
    copies move O*kH*kW values per input pixel where col2im adds C*kH*kW, and a copy costs
    a third to a quarter of an add here. Measured (fwd+bwd % of the 3-GEMM bound, one
    run): 64 vs 58% with O = C (5x5/s2 layer), 67 vs 71% and 70 vs 81% with O = 2C."""
    return O <= C


def input_grad(plan, w, gy):
    """dx of conv2d, with no col2im: the input gradient is itself a correlation, of the
    zero-padded output gradient with the kernel's offsets taken backwards. With stride s,
    the input pixels of one stride phase (padded index q*s + a) get gradient from the
    offsets of one group only (those with (i*d) % s == a, see ``_offset_groups``), each at
    output q - (i*d)//s. So per phase (a, b) the gradient is one GEMM::

        dx_ab (C, Qa*Qb*N) = W_ab (C, O*ni*nj) @ gpatch_ab (O*ni*nj, Qa*Qb*N)

    where gpatch_ab is unfolded from the padded gradient by one strided view (steps
    backwards over the offsets), in chunks like the forward's. Copies instead of col2im's
    additions (each input pixel is written once), and no (K, M) gradient matrix.
    w: (O, C, kH, kW); gy: (N, O, Ho, Wo), any storage. Returns dx (N, C, H, W) stored in
    the plan's layout."""
    N, C, H, W = plan.xshape
    O = w.shape[0]
    (_, Ho, _, _, _), (_, Wo, _, _, _) = plan.axes
    (pH, sH), (pW, sW) = plan.axes[0][2:4], plan.axes[1][2:4]
    hph, hb, ha = _input_phases(*plan.axes[0])
    wph, wb, wa = _input_phases(*plan.axes[1])
    perm = _im._LAYOUTS[plan.layout]
    # the output gradient zero-padded by (hb, ha) rows and (wb, wa) columns, stored in the
    # layout (the physical array)
    g = _im.pad_into(numpy, gy, (hb, wb), tag="gpad", extra=(ha - hb, wa - wb),
                     layout=plan.layout).transpose(perm)
    dx = _im._empty_stored(numpy, "dxChunked", (N, C, H, W), plan.dtype, perm)
    dxs = dx.transpose(perm)              # (C, H, W, N) or (C, N, H, W)
    tasks = []
    zero = False
    for a, (qa, na, gh) in hph.items():
        for b, (qb, nb, gw) in wph.items():
            if gh is None or gw is None:
                zero = True                 # no offset reads these pixels: gradient 0
                continue
            h0, w0 = qa * sH + a - pH, qb * sW + b - pW      # first input row / column
            dst = (dxs[:, h0::sH, w0::sW][:, :na, :nb] if plan.hwn else
                   dxs[:, :, h0::sH, w0::sW][:, :, :na, :nb])
            i0, qi, ni, r0, ri = gh
            j0, qj, nj, c0, cj = gw
            wab = numpy.ascontiguousarray(
                w[:, :, i0::qi, j0::qj].transpose(1, 0, 2, 3)).reshape(C, O * ni * nj)
            # chunks: rows of the phase ('hwn') or images ('nhw'), ~_CHUNK_COLS columns
            inner = nb * N if plan.hwn else na * nb
            outer = na if plan.hwn else N
            per = max(1, min(outer, round(_CHUNK_COLS / inner),
                             _CHUNK_BYTES // max(1, plan.dtype.itemsize * O * ni * nj * inner)))
            # the phase's whole gradient patch matrix as one view of g, offsets backwards:
            # [o, ti, tj, q, q', n] = g[o, row + q - ti*ri, col + q' - tj*cj, n] ('hwn')
            row, col = qa - r0 + hb, qb - c0 + wb
            if plan.hwn:        # g (O, Hg, Wg, N)
                sO, sh, sw, sn = g.strides
                v = as_strided(g[:, row:, col:], (O, ni, nj, na, nb, N),
                               (sO, -ri * sh, -cj * sw, sh, sw, sn))
            else:               # g (O, N, Hg, Wg)
                sO, sn, sh, sw = g.strides
                v = as_strided(g[:, :, row:, col:], (O, ni, nj, N, na, nb),
                               (sO, -ri * sh, -cj * sw, sn, sh, sw))
            for u0 in range(0, outer, per):
                tasks.append((dst, wab, v, u0, min(outer, u0 + per), inner))
    if zero:
        dx[...] = 0
    bufs = {}               # per thread and shape, kept from task to task (see Plan.run)

    def part(lo, hi):
        me = threading.get_ident()
        for dst, wab, vall, u0, u1, inner in tasks[lo:hi]:
            shape = (wab.shape[1], (u1 - u0) * inner)
            buf = bufs.get((me, shape))
            if buf is None:
                buf = bufs[me, shape] = _im._workspace.empty(numpy, "gchunk", shape,
                                                             plan.dtype)
            v = vall[:, :, :, u0:u1]
            out = dst[:, u0:u1]
            buf.reshape(v.shape)[...] = v
            if out[0].flags.c_contiguous:       # stride 1: the GEMM writes dx in place
                numpy.matmul(wab, buf, out=as_strided(out, (C, buf.shape[1]),
                                                      (out.strides[0], out.itemsize)))
            else:                               # a stride phase: every s-th pixel
                out[...] = numpy.matmul(wab, buf).reshape(out.shape)
    with _blas_threads.single_threaded():
        _im._parallel(numpy, len(tasks), plan.rows * N * Ho * Wo, part, parts=len(tasks))
    return dx


def _offset_groups(k, s, d):
    """Kernel offsets along one axis grouped by the stride phase they read: {phase a:
    (first offset i0, offset step q, count, phase index of output 0's tap, its step)}.
    Offset i reads padded index o*s + i*d, i.e. phase (i*d) % s at index o + (i*d) // s;
    the offsets of one phase are i0, i0 + q, ... with q = s / gcd(d, s), whose indices
    advance by q*d / s."""
    q = s // gcd(d, s)
    groups = {}
    for i in range(k):
        a = (i * d) % s
        if a not in groups:
            groups[a] = (i, q, len(range(i, k, q)), (i * d) // s, q * d // s)
    return groups


def _phases(x, layout, padding, stride, needed):
    """x (N, C, H, W) zero-padded and split into the stride phases in ``needed``: {(a, b):
    xpad[:, :, a::sH, b::sW] stored in ``layout``} (x itself, or its copy into the
    layout, without padding or stride). The buffers are kept per geometry and only their
    interior is written, so their padding stays zero."""
    (pH, pW), (sH, sW) = padding, stride
    perm = _im._LAYOUTS[layout]
    if (sH, sW) == (1, 1):              # one phase: x itself, or x padded
        if (pH, pW) == (0, 0):
            return {(0, 0): _im.as_layout(numpy, x, layout, "stage")}
        return {(0, 0): _im.pad_into(numpy, x, padding, tag="phase",
                                     layout=layout).transpose(perm)}
    phases, copy = _im._stride_phases(numpy, x, layout, padding, stride, needed)
    _im._parallel(numpy, x.shape[1], x.size, copy)
    return phases
