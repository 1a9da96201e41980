"""Per-op overhead of npconv's autograd layer against the same raw NumPy call.

    python benchmarks/overhead.py [--size N] [--repeat R]

For small arrays (where a training step like LeNet's is bound by Python overhead) it times,
per op: the raw NumPy forward; npconv's forward without recording (no input requires grad);
npconv's forward while recording the graph; and forward + backward, against NumPy doing the
same forward and the hand-written backward. Prints a table of microseconds and ratios.
"""
import argparse
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import npconv as nc  # noqa: E402


def _best(fn, number, repeat):
    # CPU time of this process: steadier than wall time on a shared machine
    return min(timeit.repeat(fn, number=number, repeat=repeat,
                             timer=time.process_time)) / number * 1e6


def cases(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    g = rng.standard_normal((n, n)).astype(np.float32)
    ones = np.ones((n, n), np.float32)

    def np_add_bwd():
        y = a + b
        return y, g, g

    def np_mul_bwd():
        y = a * b
        return y, g * b, g * a

    def np_matmul_bwd():
        y = a @ b
        return y, g @ b.T, a.T @ g

    def np_sum_bwd():
        y = a.sum()
        return y, np.broadcast_to(np.float32(1.0), a.shape).copy()

    def np_reshape_bwd():
        y = a.reshape(-1)
        return y, g.reshape(-1).reshape(a.shape)

    def np_relu_bwd():
        y = np.maximum(a, 0)
        return y, g * (y > 0)

    def np_mean_bwd():
        y = a.mean()
        return y, np.full(a.shape, 1.0 / a.size, np.float32)

    def np_sigmoid_bwd():
        y = 1 / (1 + np.exp(-a))
        return y, g * y * (1 - y)

    return [
        # name, numpy fwd, npconv op, numpy fwd+bwd, gradient shape (None: scalar)
        ("add", lambda: a + b, lambda x, w: x + w, np_add_bwd, True),
        ("mul", lambda: a * b, lambda x, w: x * w, np_mul_bwd, True),
        ("matmul", lambda: a @ b, lambda x, w: x @ w, np_matmul_bwd, True),
        ("sum", lambda: a.sum(), lambda x, w: x.sum(), np_sum_bwd, False),
        ("mean", lambda: a.mean(), lambda x, w: x.mean(), np_mean_bwd, False),
        ("reshape", lambda: a.reshape(-1), lambda x, w: x.reshape(-1), np_reshape_bwd, True),
        ("relu", lambda: np.maximum(a, 0), lambda x, w: x.relu(), np_relu_bwd, True),
        ("sigmoid", lambda: 1 / (1 + np.exp(-a)), lambda x, w: x.sigmoid(), np_sigmoid_bwd,
         True),
    ], (a, b, g, ones)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=32, help="arrays are size x size float32")
    p.add_argument("--number", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    table, (a, b, g, ones) = cases(args.size)
    xc, wc = nc.tensor(a), nc.tensor(b)                       # constants: no recording
    xg = nc.tensor(a, requires_grad=True)
    wg = nc.tensor(b, requires_grad=True)

    num, rep = args.number, args.repeat
    print("npconv %s, NumPy %s, arrays %dx%d float32; microseconds per call (best of %d)"
          % (nc.__version__, np.__version__, args.size, args.size, rep))
    hdr = ("op", "numpy", "fwd", "x", "fwd+rec", "x", "np f+b", "f+b", "x", "overhead")
    print("%-8s %8s %8s %6s %8s %6s %8s %8s %6s %9s" % hdr)
    for name, np_fwd, op, np_fb, has_g in table:
        t_np = _best(np_fwd, num, rep)
        t_fwd = _best(lambda: op(xc, wc), num, rep)
        t_rec = _best(lambda: op(xg, wg), num, rep)

        if has_g:
            gy = nc.tensor(g.reshape(op(xc, wc).shape))

            def fb():
                xg.grad = wg.grad = None
                op(xg, wg).backward(gy)
        else:
            def fb():
                xg.grad = wg.grad = None
                op(xg, wg).backward()
        t_npfb = _best(np_fb, num, rep)
        t_fb = _best(fb, num, rep)
        print("%-8s %8.2f %8.2f %6.1f %8.2f %6.1f %8.2f %8.2f %6.1f %8.2f"
              % (name, t_np, t_fwd, t_fwd / t_np, t_rec, t_rec / t_np, t_npfb, t_fb,
                 t_fb / t_npfb, t_fb - t_npfb))
    print("fwd: no input requires grad; fwd+rec: graph recorded; f+b: forward + backward "
          "(leaf grads written); x: ratio to NumPy; overhead: f+b minus NumPy f+b (us)")

    # engine cost per node on a long chain (tiny arrays: pure overhead)
    x = nc.tensor(np.ones(4, np.float32), requires_grad=True)
    n = 2000

    def chain():
        y = x
        for _ in range(n):
            y = y * 1.0
        return y

    t_build = _best(chain, 3, rep) / n
    ys = [chain() for _ in range(rep)]
    g1 = nc.tensor(np.ones(4, np.float32))
    t_bwd = min(_best(lambda y=y: y.backward(g1), 1, 1) for y in ys) / n
    t_np = _best(lambda: x.data * 1.0, num, rep)
    print("\nchain of %d muls on 4 floats: forward %.2f us/op (graph freed included), "
          "backward %.2f us/node "
          "(NumPy multiply alone: %.2f us)" % (n, t_build, t_bwd, t_np))

    # gradient of integer-array indexing (embedding-like rows with repeats): npconv's
    # scatter against np.add.at
    from npconv.ops.indexing import scatter_add
    rng = np.random.default_rng(0)
    print("\nindex backward (rows of %d floats)   npconv scatter    np.add.at" % 64)
    for rows, m in [(1000, 64), (1000, 4096), (100, 4096), (60000, 256)]:
        for dup in (False, True):
            if not dup and m > rows:
                continue
            idx = (rng.integers(0, rows, m) if dup else rng.permutation(rows)[:m])
            gg = rng.standard_normal((m, 64)).astype(np.float32)

            def ours():
                return scatter_add(np, np.zeros((rows, 64), np.float32), idx, gg)

            def addat():
                o = np.zeros((rows, 64), np.float32)
                np.add.at(o, idx, gg)
                return o
            np.testing.assert_allclose(ours(), addat(), rtol=1e-4, atol=1e-4)
            print("  %6d rows, %5d indices, %-9s %10.1f us %10.1f us"
                  % (rows, m, "repeats" if dup else "unique", _best(ours, 20, rep),
                     _best(addat, 20, rep)))


if __name__ == "__main__":
    main()
