"""Shape ops: reshape, transpose/permute, expand, cat, stack. Their backwards move the
gradient back without arithmetic. (PyTorch's shape errors for them: ``shape_errors``.)"""
from ..autograd.function import Function
from ..backend import get_array_module


class Reshape(Function):
    """(any) -> ``shape``; a view when the layout allows (NumPy decides)."""
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Contiguous(Function):
    """A C-contiguous copy; the gradient passes through."""
    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


class Permute(Function):
    """Axis permutation ``dims``; backward applies the inverse permutation."""
    _is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.transpose(inv)


class Flip(Function):
    """Reverse the order along ``dims`` (a copy, as PyTorch's; negative-step slicing, which
    NumPy would use, is refused on Tensors as in PyTorch); backward flips the gradient back."""
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        xp = get_array_module(x)
        return xp.ascontiguousarray(xp.flip(x, dims)) if dims else x.copy()

    @staticmethod
    def backward(ctx, g):
        return get_array_module(g).flip(g, ctx.dims) if ctx.dims else g


class Expand(Function):
    """Broadcast to ``shape`` (a read-only view); backward sums over the stretched axes."""
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return get_array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g   # the engine's sum_to_shape reduces it back to the input's shape


class Cat(Function):
    """Concatenate ``n`` arrays along ``dim``; backward slices the gradient apart."""
    @staticmethod
    def forward(ctx, dim, *xs):
        xp = get_array_module(*xs)
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        index = [slice(None)] * g.ndim
        for n, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            if need:
                index[ctx.dim] = slice(start, start + n)
                out.append(g[tuple(index)])
            else:
                out.append(None)
            start += n
        return tuple(out)


class Stack(Function):
    """Stack ``n`` same-shape arrays along a new axis ``dim``."""
    @staticmethod
    def forward(ctx, dim, *xs):
        xp = get_array_module(*xs)
        ctx.dim = dim
        return xp.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        parts = [xp.take(g, i, axis=ctx.dim) if need else None
                 for i, need in enumerate(ctx.needs_input_grad[1:])]
        return (None,) + tuple(parts)


class Repeat(Function):
    """x (viewed with leading size-1 axes up to ``len(reps)`` dims) tiled ``reps[i]`` times
    along axis i: (n_0, ..) -> (r_0 n_0, ..);  dx = g summed over the copies."""
    @staticmethod
    def forward(ctx, x, reps):
        full = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
        ctx.shape = x.shape
        ctx.full = full
        ctx.reps = reps
        return get_array_module(x).tile(x.reshape(full), reps)

    @staticmethod
    def backward(ctx, g):
        if not ctx.reps:
            return g
        # output axis i is (copy, element) = (r_i, n_i): split it and sum over the copies
        split = []
        for r, n in zip(ctx.reps, ctx.full):
            split += [r, n]
        g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return g.reshape(ctx.shape)
