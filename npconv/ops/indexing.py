"""``x[index]``: basic (ints, slices, None, Ellipsis) and advanced (integer/boolean arrays)
indexing.

Backward writes the gradient into zeros. Basic indices give views and a plain
slice-assignment. Advanced ones need a scatter that *adds* duplicates (``x[[0, 0]]`` sends two
gradients to row 0). ``np.add.at`` does that but is slow, so the common shapes of index -
integer arrays on the leading axes (``x[idx]``, ``x[idx, :]``, ``x[rows, cols]``) and a single
boolean mask - take a faster road: flatten the indexed axes, assign directly when no index
repeats (checked with a bincount or a sort), otherwise ``bincount`` (one column) or, on
NumPy, a sort and ``add.reduceat`` (rows; elsewhere ``add.at``).
"""
import numpy

from ..autograd.function import Function
from ..backend import get_array_module

__all__ = ["Slice", "GetItem", "scatter_add"]


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if not (i is None or i is Ellipsis or isinstance(i, (int, slice))):
            return False
        if isinstance(i, bool):     # x[True] is advanced indexing in NumPy
            return False
    return True


def _is_full_slice(i):
    return isinstance(i, slice) and i.start is None and i.stop is None and i.step is None


def _leading_int_arrays(items, ndim):
    """The number ``k`` of leading items that are integer arrays (or ints, at least one an
    array) when every later item is a full slice or a trailing Ellipsis; else None."""
    k = 0
    for i in items:
        if isinstance(i, int) and not isinstance(i, bool):
            k += 1
        elif hasattr(i, "dtype") and i.dtype.kind in "iu":
            k += 1
        else:
            break
    if k == 0 or k > ndim:
        return None
    rest = items[k:]
    if rest and rest[-1] is Ellipsis:
        rest = rest[:-1]
    if not all(_is_full_slice(i) for i in rest):
        return None
    if not any(hasattr(i, "dtype") for i in items[:k]):
        return None
    return k


def scatter_add(xp, out, index, g):
    """``out[index] += g`` with repeated indices accumulated; returns the result (``out``
    itself or a new array of its shape)."""
    items = index if isinstance(index, tuple) else (index,)
    adv = [i for i in items if hasattr(i, "dtype")]
    if len(adv) == 1 and adv[0].dtype == bool:
        out[index] = g          # a mask selects each element at most once
        return out
    k = _leading_int_arrays(items, out.ndim)
    if k is None:
        xp.add.at(out, index, g)
        return out
    shape = out.shape
    flat = None
    for a, n in zip(items[:k], shape[:k]):
        a = xp.asarray(a) % n   # negative indices name the same row as positive ones
        flat = a if flat is None else flat * n + a
    flat = flat.reshape(-1)
    m = flat.size
    rows = 1
    for n in shape[:k]:
        rows *= n
    out2 = out.reshape(rows, -1)
    g2 = g.reshape(m, out2.shape[1])
    order = s = neq = None
    if m <= 1:
        unique = True
    elif rows <= 8 * m:
        unique = int(xp.bincount(flat, minlength=rows).max()) <= 1
    else:
        order = xp.argsort(flat, kind="stable")
        s = flat[order]
        neq = s[1:] != s[:-1]
        unique = bool(neq.all())
    if unique:
        out2[flat] = g2
    elif out2.shape[1] == 1 and g.dtype.kind == "f":
        out2 = xp.bincount(flat, weights=g2.reshape(-1), minlength=rows)
        out2 = out2.astype(g.dtype).reshape(rows, 1)
    elif getattr(xp.add, "reduceat", None) == numpy.add.reduceat:
        # NumPy's reduceat only: CuPy's takes differences of a running sum
        # (cupy/_core/_routines_indexing.pyx, _add_reduceat), so in float32 a segment after
        # large rows loses its low bits (rows 1e8, 1e8 | 1, 1 sum to 2e8 | 0); its add.at
        # (atomic adds into each target row) does not
        if order is None:
            order = xp.argsort(flat, kind="stable")
            s = flat[order]
            neq = s[1:] != s[:-1]
        starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool), neq)))
        out2[s[starts]] = xp.add.reduceat(g2[order], starts, axis=0)
    else:
        xp.add.at(out2, flat, g2)
    return out2.reshape(shape)


class Slice(Function):
    """Basic indexing (ints, slices, None, Ellipsis): the output is a view of the input."""
    _is_view = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        out = get_array_module(g).zeros(ctx.shape, dtype=g.dtype)
        out[ctx.index] = g
        return out


class GetItem(Function):
    """Any index, advanced ones included (the output is a copy)."""
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic(ctx.index):
            out[ctx.index] = g
            return out
        return scatter_add(xp, out, ctx.index, g)
