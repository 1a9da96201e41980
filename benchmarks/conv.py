#!/usr/bin/env python3
"""conv2d / max_pool2d speed against the GEMM of the same im2col shape.

    python benchmarks/conv.py                 # all shapes, ~2 s per measurement
    python benchmarks/conv.py --only 1,2 --budget 1 --threads 2

For the layer shapes of ``../shared/bench/conv_micro.py`` (N, C, H, W, O, k, stride, pad),
with K = C*k*k and M = N*Ho*Wo, it times (float32, autograd recording on, as in training):

* conv fwd         ``F.conv2d(x, w, b)``, x, w, b requiring grad (x C-contiguous NCHW)
* conv fwd, stored the same with x stored as a conv before it would hand it on ((C, H, W, N)
                   when its column order is batch-innermost, (C, N, H, W) otherwise)
* conv fwd+bwd     forward + ``backward(gy)`` (grads reset every repetition); also with x and gy
                   stored as in a network (x as the conv before hands it on, gy as this conv
                   stores its output)
* one-GEMM fwd, fb the same two with conv2d's chunked path off (``NPCONV_CHUNKED_CONV=0``:
                   the whole patch matrix, then one GEMM; npconv/nn/_chunked_conv.py)
* GEMM fwd         ``W(O,K) @ col(K,M)``, the limit an im2col convolution can reach
* sliced GEMM fwd  the same GEMM cut into column slices, one per thread, each on a
                   single-threaded OpenBLAS at once (as the chunked conv runs its GEMMs): a
                   stricter bound where OpenBLAS's own threads scale poorly (last column)
* 3-GEMM bound     fwd GEMM + ``gY(O,M) @ col.T`` + ``W.T @ gY``, the fwd+bwd limit
* pool fwd+bwd     ``F.max_pool2d(y, 2)`` forward + its backward on that conv's output (stored
                   as the conv stores it; for a (C, H, W, N) output the gradient arrives in
                   that layout too, as from a conv after the pool)

Every quantity of a shape is measured in interleaved rounds (conv, GEMMs, pool, conv, ...)
so that a busy machine slows them alike; medians are reported (and mins, the less noisy
figure on a shared box). Each call finds the caches as the one before it left them: the
plain forward comes right after the GEMMs (40 MB written for the 5x5/stride-2 layer:
caches cold), the stored forward and the fwd+bwd columns after a conv of the same layer
(its buffers warm). ``--cold`` copies 64 MB (untimed) before every call instead, so that
every quantity, GEMMs included, starts from the same cold state. On a box that other jobs
keep busy, ``--cpu-time`` measures a contention-proof proxy instead: everything on one
thread (BLAS and npconv), timed by the thread's CPU time (min over rounds); its ratios
estimate the two-thread ones.

Targets (issue 3), for shapes with C*k*k >= 64: fwd >= 70% of the
GEMM rate, fwd+bwd >= 60% of the 3-GEMM bound, 2x2 max-pool fwd+bwd <= 15% of the conv
fwd+bwd before it. Last, the speed-up of im2col over the plain-loop reference on a small
shape.
"""
import argparse
import os
import statistics
import sys
import time

np = None     # imported in main(), after the thread settings are in the environment
_clock = time.perf_counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SHAPES = [
    (64, 1, 28, 28, 32, 3, 1, 1),
    (64, 32, 14, 14, 64, 3, 1, 1),
    (64, 64, 7, 7, 128, 3, 1, 1),
    (128, 3, 32, 32, 64, 3, 1, 1),
    (32, 64, 56, 56, 64, 3, 1, 1),
    (64, 32, 28, 28, 32, 5, 2, 2),
]


def out_hw(H, W, k, s, p):
    return (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1


_flush = None      # --cold: a function run (untimed) before every timed call


def interleaved(fns, budget, max_rounds=60, min_rounds=3):
    """Run every fn once per round until the budget is spent; per fn (median, min) s."""
    for f in fns.values():
        f()
        f()
    ts = {k: [] for k in fns}
    t0 = time.perf_counter()
    for r in range(max_rounds):
        for k, f in fns.items():
            if _flush is not None:
                _flush()
            s = _clock()
            f()
            ts[k].append(_clock() - s)
        if r + 1 >= min_rounds and time.perf_counter() - t0 > budget * len(fns):
            break
    return {k: (statistics.median(v), min(v)) for k, v in ts.items()}


def bench_shape(shape, budget):
    import npconv as nc
    import npconv.nn.functional as F
    N, C, H, W, O, k, s, p = shape
    Ho, Wo = out_hw(H, W, k, s, p)
    K, M = C * k * k, N * Ho * Wo
    rng = np.random.default_rng(0)
    x = nc.tensor(rng.standard_normal((N, C, H, W), dtype=np.float32), requires_grad=True)
    w = nc.tensor(rng.standard_normal((O, C, k, k), dtype=np.float32) / np.float32(K ** 0.5),
                  requires_grad=True)
    b = nc.tensor(rng.standard_normal(O, dtype=np.float32), requires_grad=True)
    gy = nc.tensor(rng.standard_normal((N, O, Ho, Wo), dtype=np.float32))
    Wm = rng.standard_normal((O, K), dtype=np.float32)
    col = rng.standard_normal((K, M), dtype=np.float32)
    gY = rng.standard_normal((O, M), dtype=np.float32)
    Yb, dWb, dcolb = (np.empty((O, M), np.float32), np.empty((O, K), np.float32),
                      np.empty((K, M), np.float32))
    y0 = nc.tensor(rng.standard_normal((N, O, Ho, Wo), dtype=np.float32), requires_grad=True)
    gp = nc.tensor(rng.standard_normal((N, O, Ho // 2, Wo // 2), dtype=np.float32))

    def _as_stored(t, perm, grad):
        a = np.ascontiguousarray(t.data.transpose(perm)).transpose(np.argsort(perm))
        return nc.from_numpy(a).requires_grad_(grad)

    # the same input stored as a conv layer with an H x W output would hand it on: (C, H, W,
    # N) when that conv's column order is batch-innermost, (C, N, H, W) otherwise
    # (npconv.nn._conv.column_order); perm: how this conv stores its own output
    from npconv.nn import _conv
    from npconv.nn.im2col import _LAYOUTS, _ORDER_LAYOUT
    xs = _as_stored(x, _LAYOUTS[_ORDER_LAYOUT[_conv.column_order(N, H, W)]], True)
    perm = _LAYOUTS[_ORDER_LAYOUT[_conv.column_order(N, Ho, Wo)]]

    def conv_fwd():
        return F.conv2d(x, w, b, stride=s, padding=p)

    def conv_fwd_stored():
        return F.conv2d(xs, w, b, stride=s, padding=p)

    def conv_fb():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, stride=s, padding=p).backward(gy)

    # in a network the gradient arrives stored as this conv stores its output (the op after
    # it, ReLU, pooling or batch norm, hands its input gradient on in its input's layout)
    gys = _as_stored(gy, perm, False)

    def conv_fb_stored():
        xs.grad = w.grad = b.grad = None
        F.conv2d(xs, w, b, stride=s, padding=p).backward(gys)

    from npconv.nn import _chunked_conv

    def one_gemm(f):
        def g():
            _chunked_conv.FORCE = False
            try:
                return f()
            finally:
                _chunked_conv.FORCE = None
        return g

    from npconv.nn._pool import MaxPool2d
    # the pool's input stored as this conv hands on its output; its gradient, for a
    # (C, H, W, N) output, as the conv after it hands on an input gradient (the same layout)
    y0 = _as_stored(y0, perm, True)
    if perm == (1, 2, 3, 0):
        gp = _as_stored(gp, perm, False)

    def pool_fb():
        # the pool's own forward and backward; in a network its input is a ReLU output, so
        # the copy the engine makes of a leaf's gradient is no part of it (not timed)
        yp = F.max_pool2d(y0, 2)
        MaxPool2d.backward(yp.grad_fn, gp.data)

    # the forward GEMM cut into column slices, one per thread, each on a single-threaded
    # OpenBLAS at once, as the chunked conv runs its GEMMs: a stricter bound where OpenBLAS's
    # own threads scale poorly (the 5x5/stride-2 layer's skinny O = 32 GEMM: ~11% faster
    # sliced on a busy day of the 2-core EPYC VM)
    from concurrent.futures import ThreadPoolExecutor
    from npconv import _blas_threads
    from npconv.nn import im2col as I
    T = I._NTHREADS
    cuts = [M * t // T for t in range(T + 1)]
    sl = [slice(cuts[t], cuts[t + 1]) for t in range(T)]
    pool = ThreadPoolExecutor(T)

    def gemm_fwd_sliced():
        with _blas_threads.single_threaded():
            list(pool.map(lambda t: np.matmul(Wm, col[:, sl[t]], out=Yb[:, sl[t]]), range(T)))

    fns = {"conv_fwd": conv_fwd, "conv_fwd_stored": conv_fwd_stored, "conv_fb": conv_fb,
           "conv_fb_stored": conv_fb_stored, "pool_fb": pool_fb,
           "conv_fwd_1g": one_gemm(conv_fwd), "conv_fb_1g": one_gemm(conv_fb),
           # into preallocated outputs, as the conv's own GEMMs write into reused buffers
           # (a fresh output of tens of MiB would add page faults to the bound)
           "gemm_fwd": lambda: np.matmul(Wm, col, out=Yb),
           "gemm_dw": lambda: np.matmul(gY, col.T, out=dWb),
           "gemm_dx": lambda: np.matmul(Wm.T, gY, out=dcolb)}
    if T > 1 and _blas_threads.available():
        fns["gemm_fwd_sliced"] = gemm_fwd_sliced
    r = interleaved(fns, budget)
    pool.shutdown()
    r["bound"] = tuple(r["gemm_fwd"][i] + r["gemm_dw"][i] + r["gemm_dx"][i] for i in range(2))
    r["flops"] = 2.0 * O * K * M
    return r


def bench_reference(budget):
    import npconv as nc
    import npconv.nn.functional as F
    from npconv.nn import reference as R
    shape = (4, 3, 12, 12, 8, 3, 1, 1)
    N, C, H, W, O, k, s, p = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((O, C, k, k), dtype=np.float32)
    t0 = _clock()
    R.conv2d(x, w, None, s, p)
    t_ref = _clock() - t0
    xt, wt = nc.tensor(x), nc.tensor(w)
    r = interleaved({"im2col": lambda: F.conv2d(xt, wt, None, s, p)}, min(budget, 0.5))
    t0 = _clock()
    R.max_pool2d(x, 2)
    t_pref = _clock() - t0
    rp = interleaved({"pool": lambda: F.max_pool2d(xt, 2)}, min(budget, 0.5))
    return shape, t_ref, r["im2col"][0], t_pref, rp["pool"][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma list of shape indices")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per quantity")
    ap.add_argument("--threads", type=int, default=0, help="limit BLAS/npconv threads")
    ap.add_argument("--cpu-time", action="store_true",
                    help="one thread, timed by thread CPU time (a proxy for busy machines)")
    ap.add_argument("--cold", action="store_true",
                    help="before every timed call, copy 64 MB (untimed): each quantity starts "
                         "with caches cold and full of dirty lines, the same for all (the "
                         "copies count against --budget: fewer rounds)")
    args = ap.parse_args()
    global np, _clock, _flush
    if args.cpu_time:
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                  "NPCONV_NUM_THREADS"):
            os.environ[v] = "1"
        _clock = time.thread_time
    import npconv  # noqa: F401  (before NumPy: it sets OpenBLAS's idle-thread timeout)
    import numpy
    np = numpy
    if args.threads:
        try:
            import threadpoolctl
            threadpoolctl.threadpool_limits(args.threads)
        except ImportError:
            pass
    import npconv.nn.im2col as I
    if args.cold:
        big = (np.ones(16 << 20, np.float32), np.empty(16 << 20, np.float32))
        _flush = lambda: np.copyto(big[1], big[0])          # noqa: E731
    idxs = [int(i) for i in args.only.split(",")] if args.only else range(len(SHAPES))
    print("numpy %s, %d CPUs, npconv threads %d%s%s" % (
        np.__version__, os.cpu_count(), I._NTHREADS,
        ", single-thread CPU-time proxy (min-based columns are the ones to read)"
        if args.cpu_time else "", ", caches flushed before every timed call" if args.cold
        else ""))
    print("| # | N,C,H,W,O,k,s,p | K | GEMM fwd ms (GF/s) | conv fwd ms (GF/s) | fwd %GEMM "
          "(min-based) | fwd %GEMM, input stored as a conv hands it on | 3-GEMM ms "
          "| conv fwd+bwd ms (GF/s) | fb %bound (min-based) | fb %bound, input and gradient "
          "stored as in a network | one-GEMM path: fwd %GEMM, fb %bound "
          "| pool2x2 fwd+bwd ms | pool/conv fb | sliced GEMM fwd ms, conv fwd % of it "
          "(min-based) |")
    print("|" + "---|" * 15)
    for i in idxs:
        shape = SHAPES[i]
        r = bench_shape(shape, args.budget)
        f = r["flops"]
        N, C, H, W, O, k, s, p = shape
        K = C * k * k
        mark = "" if K >= 64 else " (K<64: no target)"
        print("| %d | %s | %d%s | %.2f (%.0f) | %.2f (%.0f) | %.0f%% (%.0f%%) | %.0f%% (%.0f%%) "
              "| %.2f | %.2f (%.0f) | %.0f%% (%.0f%%) | %.0f%% (%.0f%%) | %.0f%%, %.0f%% "
              "| %.2f | %.0f%% | %s |" % (
                  i, ",".join(map(str, shape)), K, mark,
                  r["gemm_fwd"][0] * 1e3, f / r["gemm_fwd"][0] / 1e9,
                  r["conv_fwd"][0] * 1e3, f / r["conv_fwd"][0] / 1e9,
                  100 * r["gemm_fwd"][0] / r["conv_fwd"][0],
                  100 * r["gemm_fwd"][1] / r["conv_fwd"][1],
                  100 * r["gemm_fwd"][0] / r["conv_fwd_stored"][0],
                  100 * r["gemm_fwd"][1] / r["conv_fwd_stored"][1],
                  r["bound"][0] * 1e3, r["conv_fb"][0] * 1e3, 3 * f / r["conv_fb"][0] / 1e9,
                  100 * r["bound"][0] / r["conv_fb"][0], 100 * r["bound"][1] / r["conv_fb"][1],
                  100 * r["bound"][0] / r["conv_fb_stored"][0],
                  100 * r["bound"][1] / r["conv_fb_stored"][1],
                  100 * r["gemm_fwd"][0] / r["conv_fwd_1g"][0],
                  100 * r["bound"][0] / r["conv_fb_1g"][0],
                  r["pool_fb"][0] * 1e3, 100 * r["pool_fb"][0] / r["conv_fb"][0],
                  "%.2f, %.0f%% (%.0f%%)" % (
                      r["gemm_fwd_sliced"][0] * 1e3,
                      100 * r["gemm_fwd_sliced"][0] / r["conv_fwd"][0],
                      100 * r["gemm_fwd_sliced"][1] / r["conv_fwd"][1])
                  if "gemm_fwd_sliced" in r else "-"), flush=True)
    shape, t_ref, t_im, t_pref, t_pool = bench_reference(args.budget)
    print("\nloop reference vs im2col, conv2d fwd %s: %.1f ms vs %.3f ms (%.0fx); "
          "max_pool2d 2x2: %.1f ms vs %.3f ms (%.0fx)"
          % (",".join(map(str, shape)), t_ref * 1e3, t_im * 1e3, t_ref / t_im,
             t_pref * 1e3, t_pool * 1e3, t_pref / t_pool))


if __name__ == "__main__":
    main()
