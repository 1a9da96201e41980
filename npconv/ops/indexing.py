"""``x[index]``: basic (slices, ints, None, Ellipsis) and advanced (integer/boolean arrays)
indexing. Backward writes the gradient into zeros: a plain slice-assignment for basic
indices, and for advanced ones a scatter that adds duplicates (``x[[0, 0]]`` sends two
gradients to row 0)."""
from ..autograd.function import Function
from ..backend import get_array_module


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def _scatter_add(xp, out, index, g):
    """out[index] += g with duplicates accumulated."""
    items = index if isinstance(index, tuple) else (index,)
    # the hot case: one integer array on the first axis (embedding-like, batch gather)
    if (len(items) == 1 and hasattr(items[0], "dtype") and items[0].dtype.kind in "iu"
            and items[0].ndim == 1):
        idx = items[0]
        n = out.shape[0]
        if idx.size and (idx.size <= 2 * n):
            uniq = xp.unique(idx)
            if uniq.size == idx.size:        # no duplicates: a plain assignment is exact
                out[idx] = g
                return out
        # duplicates: sum rows with a one-hot matmul-free reduction via bincount per column
        flat = g.reshape(g.shape[0], -1)
        res = xp.zeros((n, flat.shape[1]), dtype=g.dtype)
        idx = idx % n
        xp.add.at(res, idx, flat)
        return res.reshape(out.shape)
    xp.add.at(out, index, g)
    return out


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.dtype = x.dtype
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic(ctx.index):
            out[ctx.index] = g
            return out
        return _scatter_add(xp, out, ctx.index, g)
