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
import re

import numpy

from ..autograd.function import Function
from ..backend import get_array_module

__all__ = ["Slice", "GetItem", "Gather", "IndexSelect", "scatter_add"]


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


def _dims_taken(item):
    """How many dimensions of the indexed array an index item consumes."""
    if item is None or isinstance(item, bool):
        return 0                    # a new axis (x[True] adds one too)
    if hasattr(item, "dtype"):
        return item.ndim if item.dtype == bool else 1
    return 1                        # int, slice


def check_bounds(shape, index):
    """Raise PyTorch's IndexError for an integer-array item of ``index`` out of range for
    the dimension of ``shape`` it indexes. For device arrays only: CuPy wraps such indices
    around (``x[[5]]`` of 5 rows is row 0) where NumPy raises, so the check costs one
    device sync per advanced indexing there, and nothing on NumPy."""
    items = index if isinstance(index, tuple) else (index,)
    free = len(shape) - sum(_dims_taken(i) for i in items if i is not Ellipsis)
    bad, checked = None, []
    axis = 0
    for i in items:
        if i is Ellipsis:
            axis += free
            continue
        if hasattr(i, "dtype") and i.dtype.kind in "iu" and i.size and axis < len(shape):
            n = shape[axis]
            out = _outside(i, n).any()
            if isinstance(i, numpy.ndarray):
                if out:
                    _raise_out_of_bounds(i, axis, n)
            else:
                bad = out if bad is None else bad | out
                checked.append((i, axis, n))
        axis += _dims_taken(i)
    if bad is not None and bool(bad):           # the one sync, on the failure path or not
        for i, axis, n in checked:
            if bool(_outside(i, n).any()):
                _raise_out_of_bounds(i, axis, n)


def _outside(i, n):
    """The entries of index array ``i`` out of range for a dimension of size ``n``
    (negative ones count from the end)."""
    if i.dtype.kind == "u":         # (no -n for an unsigned array to be compared with)
        return i >= n
    return (i < -n) | (i >= n)


_NUMPY_OUT_OF_BOUNDS = re.compile(r"index (-?\d+) is out of bounds for axis (\d+) with size "
                                  r"(\d+)$")


def pytorch_index_error(e):
    """NumPy's out-of-bounds IndexError ``e`` in PyTorch's words (those of ``check_bounds``:
    "dimension" where NumPy says "axis"), so the message is the same on every device;
    ``e`` itself for any other error."""
    m = _NUMPY_OUT_OF_BOUNDS.match(str(e))
    if m is None:
        return e
    return IndexError("index %s is out of bounds for dimension %s with size %s" % m.groups())


def _raise_out_of_bounds(i, axis, n):
    flat = i.reshape(-1)
    first = int(_outside(flat, n).argmax())
    raise IndexError("index %d is out of bounds for dimension %d with size %d"
                     % (int(flat[first]), axis, n))


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


class Gather(Function):
    """y[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (the index replaces the coordinate on
    ``dim``); y has index's shape, which may be smaller than x's on the other axes.
    dx = g scattered back to the indexed positions, repeated ones adding up."""
    @staticmethod
    def forward(ctx, x, dim, index):
        xp = get_array_module(x, index)
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.save_for_backward(index)
        if any(index.shape[d] < x.shape[d] for d in range(x.ndim) if d != dim):
            x = x[tuple(slice(None) if d == dim else slice(0, index.shape[d])
                        for d in range(x.ndim))]
        return xp.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        xp = get_array_module(g)
        nd = index.ndim
        # the full coordinates of every gathered element: index on dim, its own position on
        # the others (broadcast aranges), so scatter_add can add duplicates
        where = tuple(index if d == ctx.dim else
                      xp.arange(index.shape[d]).reshape([-1 if i == d else 1
                                                         for i in range(nd)])
                      for d in range(nd))
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        return scatter_add(xp, out, where, g), None, None


class IndexSelect(Function):
    """y = x with axis ``dim`` replaced by the entries ``index`` (1-D) picks:
    y[.., i, ..] = x[.., index[i], ..].  dx = g added back to the picked entries."""
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.save_for_backward(index)
        return get_array_module(x, index).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        xp = get_array_module(g)
        dim = ctx.dim
        # scatter_add's fast path indexes the leading axis: move dim there and back
        shape = (ctx.shape[dim],) + tuple(s for i, s in enumerate(ctx.shape) if i != dim)
        out = xp.zeros(shape, dtype=g.dtype)
        out = scatter_add(xp, out, (index,), xp.moveaxis(g, dim, 0))
        return xp.moveaxis(out, 0, dim), None, None
