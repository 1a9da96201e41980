"""``linear(input, weight, bias=None)``: y = x W^T + b as one fused Function."""
from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["linear"]


class Linear(Function):
    """y = x W^T + b for x of shape (*, in), W (out, in), b (out,).

    Backward on the flattened (M, in) view: dx = g W, dW = g^T x, db = sum_rows(g); each is
    one matmul (or one reduction), computed only when needed."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ w.T
        if b is not None:
            y += b            # y is a fresh array: adding in place allocates nothing
        ctx.save_for_backward(x, w)
        ctx.xshape = x.shape
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nx, nw, nb = (tuple(ctx.needs_input_grad) + (False, False, False))[:3]
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx = gw = gb = None
        if nx:
            gx = (g2 @ w).reshape(ctx.xshape)
        if nw:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if nb:
            gb = g2.sum(axis=0)
        return (gx, gw, gb) if len(ctx.needs_input_grad) == 3 else (gx, gw)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (PyTorch's ``F.linear``); ``input`` is (*, in_features),
    ``weight`` (out_features, in_features), ``bias`` (out_features,) or None. A 1-D
    ``weight`` (in_features,) is one output feature with its axis dropped, as in PyTorch:
    y = input @ weight (+ a 0-d ``bias``), of shape ``input.shape[:-1]``."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError("linear(): argument '%s' must be a Tensor, not %s"
                            % (name, type(t).__name__))
    if weight.ndim not in (1, 2):
        raise RuntimeError("linear(): weight must be 2-D (out_features, in_features) or 1-D "
                           "(in_features,), got shape %s" % (weight.shape,))
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (input of shape %s, "
                           "weight of shape %s: expected input's last dimension %d)"
                           % (input.shape, weight.shape, weight.shape[-1]))
    if weight.ndim == 1:
        # (PyTorch's own path refuses some of these biases, with a 2-D input for one, a
        # quirk of its addmm route; npconv takes any 0-d bias)
        if bias is not None and bias.ndim != 0:
            raise RuntimeError("linear(): with a 1-D weight, bias must be 0-d (one output "
                               "feature), got shape %s" % (bias.shape,))
        # one row of a 2-D weight; the reshapes are differentiable, so is the result
        y = linear(input, weight.reshape(1, -1), None if bias is None else bias.reshape(1))
        return y.reshape(input.shape[:-1])
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError("linear(): bias must have shape (%d,), got %s"
                           % (weight.shape[0], bias.shape))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:     # no silent upcast (as PyTorch)
            raise RuntimeError("linear(): expected input and %s to have the same dtype, but "
                               "got %s and %s" % (name, input.dtype, t.dtype))
    if input.ndim == 1:
        return Linear.apply(input.reshape(1, -1), weight, bias).reshape(weight.shape[0])
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
