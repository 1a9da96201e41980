"""``npconv.summary(model, input_size)``: a table of layers, output shapes and parameter
counts (like torchsummary/torchinfo)."""
import numpy

from . import backend as _backend
from .autograd import grad_mode as _grad_mode
from .tensor import Tensor

__all__ = ["summary", "ModelSummary"]


class ModelSummary:
    """The result of ``summary``: ``rows`` (name, type, output shape, #params), totals, and
    the table as ``str(summary)`` (also its repr, so it prints itself in a REPL).

    Each parameter is counted once, on the first row that uses it, so the counts add up to
    the parameters the forward used: a module called twice (a shared layer) has a row per
    call, the later ones counting 0 (printed ``(recursive)`` for a layer with parameters,
    as torchinfo), and a layer whose weight is tied to an earlier layer's counts only its
    own others. ``total_params`` counts every parameter of the model once.

    An output shape is a tuple for a tensor, a list of shapes for a tuple or list of outputs
    and a dict of shapes for a dict; the table prints every shape as a list, torchinfo style
    (``[2, 3]``, ``[[2, 3], [2, 2]]``, ``{'y': [2, 2]}``)."""

    def __init__(self, rows, total_params, trainable_params, input_shape, output_shape):
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.non_trainable_params = total_params - trainable_params
        self.input_shape = input_shape
        self.output_shape = output_shape

    def __str__(self):
        head = ("Layer (type)", "Output Shape", "Param #")
        first = {}              # name -> the parameter count on that module's first row
        body = []
        for name, typ, shape, n in self.rows:
            # a later call of a layer with parameters: they were counted on its first row
            repeat = first.get(name, 0) > 0
            first.setdefault(name, n)
            body.append(("%s (%s)" % (name, typ) if name else typ, _format_shape(shape),
                         "(recursive)" if repeat else "{:,}".format(n)))
        w0 = max([len(head[0])] + [len(r[0]) for r in body]) + 2
        w1 = max([len(head[1])] + [len(r[1]) for r in body]) + 2
        w2 = max([len(head[2])] + [len(r[2]) for r in body])
        width = w0 + w1 + w2
        line = "-" * width
        out = [line, "%-*s%-*s%*s" % (w0, head[0], w1, head[1], w2, head[2]), "=" * width]
        for r in body:
            out.append("%-*s%-*s%*s" % (w0, r[0], w1, r[1], w2, r[2]))
        out += ["=" * width,
                "Input shape: %s" % _format_shape(self.input_shape),
                "Output shape: %s" % _format_shape(self.output_shape),
                "Total params: {:,}".format(self.total_params),
                "Trainable params: {:,}".format(self.trainable_params),
                "Non-trainable params: {:,}".format(self.non_trainable_params),
                line]
        return "\n".join(out)

    __repr__ = __str__


def _shape_of(out):
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    if isinstance(out, dict):
        return {k: _shape_of(v) for k, v in out.items()}
    return ()


def _format_shape(shape):
    """A shape as printed in the table: every shape a list (``[2, 3]``), nested for several
    outputs (``[[2, 3], [2, 2]]``), per key for a dict (``{'y': [2, 2]}``)."""
    if isinstance(shape, dict):
        return "{" + ", ".join("%r: %s" % (k, _format_shape(v))
                               for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str([int(d) for d in shape])


def _input_shapes(input_size, batch_size):
    """``input_size`` (a shape without the batch axis, an int for a 1-d input, or a list of
    shapes for a model taking several inputs) -> (list of full input shapes, several?)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, numpy.integer)) \
            or batch_size < 1:
        raise ValueError("summary: batch_size must be a positive integer, got %r"
                         % (batch_size,))

    def one(shape):
        if isinstance(shape, (int, numpy.integer)) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)) or not all(
                isinstance(d, (int, numpy.integer)) and not isinstance(d, bool) and d >= 0
                for d in shape):
            raise ValueError("summary: input_size must be a shape without the batch axis "
                             "(a tuple of non-negative ints such as (1, 28, 28)), or a list "
                             "of such shapes for several inputs, got %r" % (input_size,))
        return (int(batch_size),) + tuple(int(d) for d in shape)

    several = (isinstance(input_size, (tuple, list)) and len(input_size) > 0
               and all(isinstance(s, (tuple, list)) for s in input_size))
    if several:
        return [one(s) for s in input_size], True
    return [one(input_size)], False


def summary(model, input_size, batch_size=2, dtype=None, device=None):
    """Run ``model`` once on zeros of shape ``(batch_size, *input_size)`` (``input_size``
    excludes the batch axis, as torchsummary; a list of shapes calls ``model`` with one input
    per shape) in evaluation mode and without recording the graph, and list every layer that
    is not a container: its qualified name and type, its output shape and its own parameter
    count (a model that has no submodules is itself the one row; parameters the model holds
    itself, beside its submodules, get a last row named after its type). A layer called
    several times has a row per call; each parameter is counted once, on the first row that
    uses it. The model's training flag is restored.

    Returns a ``ModelSummary`` (``print(npconv.summary(model, (1, 28, 28)))``)."""
    from .nn.modules.container import ModuleList, Sequential

    shapes, several = _input_shapes(input_size, batch_size)
    rows = []
    handles = []

    counted = set()         # ids of the parameters already counted on a row

    def make_hook(name):
        def hook(module, inputs, output):
            new = [p for p in module.parameters(recurse=False) if id(p) not in counted]
            counted.update(id(p) for p in new)
            rows.append((name, type(module).__name__, _shape_of(output),
                         sum(p.numel() for p in new)))
        return hook

    unhooked = [model]      # modules that get no row: their own parameters go on the last
    for name, m in model.named_modules():
        if m is model or isinstance(m, (Sequential, ModuleList)):
            if m is not model:
                unhooked.append(m)
            continue
        handles.append(m.register_forward_hook(make_hook(name)))
    leaf = not any(True for _ in model.children())
    if leaf:                # a single layer: it is the one row
        handles.append(model.register_forward_hook(make_hook("")))
    was_training = model.training
    modes = {m: m.training for m in model.modules()}
    params = list(model.parameters())
    dt = numpy.dtype(dtype) if dtype is not None else (
        params[0].data.dtype if params else numpy.float32)
    if device is None and params:
        device = _backend.device_of(params[0].data)
    xs = []
    for shape in shapes:
        x = numpy.zeros(shape, dt)
        xs.append(Tensor._wrap(x if device is None else _backend.move_array(x, device)))
    try:
        model.eval()
        with _grad_mode.no_grad():
            out = model(*xs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
        for m, mode in modes.items():
            m.__dict__["training"] = mode
    if not leaf:
        # a parameter of the model itself (or of a Sequential) is used by code no hook sees:
        # count it on a row of its own, as torchinfo counts it on the model's row
        own = {}
        for m in unhooked:
            for p in m.parameters(recurse=False):
                if id(p) not in counted:
                    own[id(p)] = p
        if own:
            counted.update(own)
            rows.append(("", type(model).__name__, _shape_of(out),
                         sum(p.numel() for p in own.values())))
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return ModelSummary(rows, total, trainable, shapes if several else shapes[0],
                        _shape_of(out))
