"""``Function``: one differentiable op with a hand-written forward and backward.

The pattern PyTorch users know::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):            # raw arrays in (numpy or cupy), raw array out
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):          # one gradient per forward input (None if not needed)
            (x,) = ctx.saved_tensors
            return 2 * x * gy

    y = Square.apply(t)                 # Tensors in, Tensors out; the graph is recorded

Unlike PyTorch, ``forward`` and ``backward`` see raw backend arrays, not Tensors: each op's
math then reads as plain NumPy, and the Tensor layer alone records the graph.
"""
import numpy

from .grad_mode import _get as _grad_enabled   # the ContextVar.get itself: a C call

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` of one call of a Function; once recorded, it is also the graph node
    (``tensor.grad_fn``).

    Attributes for the Function's use: ``save_for_backward(*arrays)``, ``saved_tensors``,
    ``needs_input_grad`` (one bool per forward argument: whether it is a Tensor that requires
    grad, also under ``no_grad`` as in PyTorch), ``mark_non_differentiable(*arrays)``,
    ``set_materialize_grads(value)`` and any attribute it sets itself.
    """

    # Hot attributes are slots; the rest are class-level defaults, written to the instance
    # dict only when a node needs them (keeps apply cheap: it sets two attributes).
    __slots__ = ("__dict__", "__weakref__", "_fn", "needs_input_grad")
    _saved = None
    _saved_versions = None
    _freed = False
    _trace = None
    _retain = None
    _edges = ()
    _generation = 0
    _n_outputs = 1
    _outputs = ()               # multi-output nodes: (shape, dtype) of each output
    _non_differentiable = ()
    _materialize_grads = True
    _hooks = None               # Tensor.register_hook on an output: {output_nr: {id: hook}}

    def __init__(self, fn, needs_input_grad):
        self._fn = fn
        self.needs_input_grad = needs_input_grad

    # -- what a Function's forward/backward use -------------------------------------------
    def save_for_backward(self, *arrays):
        """Keep arrays for backward. Saved inputs and outputs are guarded by their version
        counter: modifying one in place before backward raises instead of giving wrong
        gradients."""
        self._saved = arrays

    def mark_non_differentiable(self, *arrays):
        """Outputs (e.g. indices) that never carry a gradient: they are returned as Tensors
        that do not require grad, and backward gets zeros for them (see
        ``set_materialize_grads``). Pass the very arrays forward returns."""
        self._non_differentiable = {id(a) for a in arrays}

    def set_materialize_grads(self, value):
        """Whether a multi-output backward gets zero arrays (True, the default, as in
        PyTorch) or None for the outputs that received no gradient (unused, freed or
        non-differentiable outputs). None lets a backward skip work for them."""
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")
        if self._saved_versions:
            # (counter, version at save, what was saved): the counter is the Tensor's
            # ``_version`` list, shared with its views and detach()ed aliases
            for counter, version, what in self._saved_versions:
                if counter[0] != version:
                    kind = type(what).__name__ if isinstance(what, _Tensor) else "Tensor"
                    raise RuntimeError(
                        "one of the variables needed for gradient computation has been modified "
                        "by an inplace operation: [%s of shape %s] is at version %d; expected "
                        "version %d instead (it was saved by %s). Hint: do the in-place update "
                        "after backward(), or use the out-of-place op."
                        % (kind, tuple(what.shape), counter[0], version, self.name()))
        return self._saved if self._saved is not None else ()

    # -- graph node -------------------------------------------------------------------------
    def name(self):
        """The name PyTorch shows for a node: ``MulBackward``."""
        return self._fn.__name__ + "Backward"

    @property
    def next_functions(self):
        """The nodes this one sends gradients to (leaf tensors stand for themselves)."""
        return tuple(e[0] if e else None for e in self._edges)

    def __repr__(self):
        return "<%s>" % self.name()


class _UnrecordedCtx(FunctionCtx):
    """The ctx of a call under ``no_grad`` with inputs that require grad: nothing is recorded
    and only forward can read ``needs_input_grad``, so it is computed on demand."""
    __slots__ = ("_args",)

    def __init__(self, fn, args):
        self._fn = fn
        self._args = args

    @property
    def needs_input_grad(self):
        return tuple([isinstance(a, _Tensor) and a.requires_grad for a in self._args])


_Tensor = None          # set by npconv.tensor (the Tensor layer imports this module)
_generic = numpy.generic
_ndarray = numpy.ndarray
_asarray = numpy.asarray
_ndarray = numpy.ndarray


def _device_clash(args, name, err):
    """``forward`` raised: when its Tensors live on different devices, replace the backend's
    error by one naming both devices. Only the failure path pays for the check."""
    from ..backend import check_same_device
    try:
        check_same_device(args, name)
    except RuntimeError as clash:
        raise clash from err


class Function:
    """Base class of every differentiable op. Subclasses define static ``forward(ctx, *args)``
    and ``backward(ctx, *grad_outputs)``; users call ``apply``.

    ``forward`` gets the raw arrays inside Tensor arguments (other arguments as given) and
    returns an array or a tuple of arrays; ``backward`` gets one gradient array per output
    and returns one gradient (or None) per forward argument (trailing Nones beyond them are
    accepted; a gradient for a non-Tensor argument is an error). Gradients may have the
    broadcast shape of the output: the engine sums them back to each input's shape.

    Tensors must be passed positionally: they are the Function's inputs. Keyword arguments
    are for options (``stride=2``) and reach ``forward`` as given.
    """

    # A view's output shares its input's version counter (so an in-place change through the
    # view is seen by whoever saved the base).
    _is_view = False
    # npconv's own ops take Python numbers as plain arguments (``t + 1``) and may return a
    # (discarded) gradient for them; only user Functions get the "not a Tensor" error.
    _npconv_op = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._npconv_op = cls.__module__.split(".")[0] == "npconv"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays inside the Tensor arguments and wrap the result in
        Tensors; when any input requires grad (and recording is on), record the graph."""
        # This is the hot path of every op: keep it free of needless work.
        T = _Tensor
        if kwargs:
            _check_kwargs(cls, kwargs, T)
        raw = []
        record = False
        for a in args:
            if isinstance(a, T):
                raw.append(a.data)
                if a._requires_grad:
                    record = True
            else:
                raw.append(a)
        if not record:
            ctx = FunctionCtx(cls, _no_needs(len(args)))
        elif _grad_enabled():
            needs = tuple([isinstance(a, T) and a._requires_grad for a in args])
            ctx = FunctionCtx(cls, needs)
        else:
            # under no_grad nothing is recorded, but needs_input_grad still tells which
            # inputs require grad (as in PyTorch): worked out only if forward asks
            record = False
            ctx = _UnrecordedCtx(cls, args)
        try:
            out = cls.forward(ctx, *raw, **kwargs)
        except Exception as e:
            _device_clash(args, cls.__name__, e)   # tensors on two devices: say which
            raise
        wrap = T._wrap

        if type(out) is not tuple:                   # the common case: one output
            if type(out) is not _ndarray:
                out = _check_output(cls, out, T, args)
            if not record or out.dtype.kind not in "fc" or (
                    ctx._non_differentiable and id(out) in ctx._non_differentiable):
                t = wrap(out)
                if cls._is_view and isinstance(args[0], T):
                    t._version = args[0]._version
                return t
            multi = False
        else:
            out = tuple([o if type(o) is _ndarray else _check_output(cls, o, T, args)
                         for o in out])
            multi = True
            if not record:
                tensors = tuple([wrap(o) for o in out])
                if cls._is_view and isinstance(args[0], T):
                    for t in tensors:
                        t._version = args[0]._version
                return tensors

        edges = []
        gen = 0
        for a, need in zip(args, needs):
            if need:
                node = a.grad_fn
                d = a.data
                if node is None:           # a leaf: gradients accumulate into it
                    edges.append((a, None, d.shape, d.dtype))
                else:
                    edges.append((node, a._output_nr, d.shape, d.dtype))
                    if node._generation >= gen:
                        gen = node._generation + 1
            else:
                # None: a Tensor that needs no gradient; False: not a Tensor at all (a
                # backward returning a gradient for it is an error, as in PyTorch)
                edges.append(None if isinstance(a, T) else False)
        ctx._edges = tuple(edges)
        ctx._generation = gen
        saved = ctx._saved
        if saved:
            # guard the saved arrays that belong to input tensors by their version counters
            versions = []
            for a in args:
                if isinstance(a, T):
                    d = a.data
                    for s in saved:
                        if s is d:
                            c = a._version
                            versions.append((c, c[0], a))
                            break
            ctx._saved_versions = versions
        anomaly = _anomaly.enabled
        if anomaly:
            _anomaly.record(ctx)
        view_version = args[0]._version if (cls._is_view and isinstance(args[0], T)) else None

        if not multi:
            t = wrap(out, True)
            t.grad_fn = ctx
            if view_version is not None:
                t._version = view_version
            if saved:
                for s in saved:
                    if s is out:
                        # a saved output is guarded by its counter list, not the Tensor (that
                        # would be a cycle through grad_fn): views and detach() share the list,
                        # so a change through them is seen even once the output itself is gone
                        c = t._version
                        versions.append((c, c[0], out))
                        break
            if anomaly:
                _anomaly.check_forward(ctx, (out,))
            return t

        ctx._n_outputs = len(out)
        tensors = []
        nondiff = ctx._non_differentiable
        for i, o in enumerate(out):
            if o.dtype.kind not in "fc" or id(o) in nondiff:
                tensors.append(wrap(o))   # indices, masks: no gradient flows
                continue
            t = wrap(o, True)
            t.grad_fn = ctx
            t._output_nr = i
            if view_version is not None:
                t._version = view_version
            tensors.append(t)
        # shapes and dtypes, for the zeros a backward gets for outputs without a gradient
        ctx._outputs = tuple([(o.shape, o.dtype) for o in out])
        if saved:
            out_ids = {id(s) for s in saved}
            for t in tensors:
                if id(t.data) in out_ids:
                    c = t._version         # as above: the counter, not the Tensor
                    versions.append((c, c[0], t.data))
        if anomaly:
            _anomaly.check_forward(ctx, out)
        return tuple(tensors)


def _check_kwargs(cls, kwargs, T):
    """A Tensor passed by keyword would reach forward as a Tensor and never be an input of
    the graph (its gradient would be silently lost): refuse it."""
    for k, v in kwargs.items():
        if isinstance(v, T):
            raise TypeError("%s.apply: pass Tensor arguments positionally (they are the "
                            "Function's inputs; keyword arguments are for options): got a "
                            "Tensor for keyword '%s'" % (cls.__name__, k))


def _check_output(cls, out, T, args):
    """A forward output that is not a NumPy array: NumPy scalars (what reductions return)
    become 0-d arrays, other backends' arrays pass, anything else is an error."""
    if isinstance(out, _generic):
        return _asarray(out)
    if isinstance(out, T):
        for i, a in enumerate(args):
            if isinstance(a, T) and isinstance(a.data, T):
                # the usual cause: ``p.data = p.data - lr * p.grad`` (a Tensor, in npconv)
                raise TypeError(
                    "%s: the .data of argument %d is a Tensor; npconv's .data must be a raw "
                    "NumPy/CuPy array (assign p.data = p.data - lr * p.grad.data, or update "
                    "in place under no_grad: p.sub_(lr * p.grad))" % (cls.__name__, i))
        raise TypeError("%s.forward returned a Tensor; built-in style Functions compute on raw "
                        "arrays: return its .data (or an array)" % cls.__name__)
    if not (hasattr(out, "dtype") and hasattr(out, "shape")):
        raise TypeError("%s.forward returned %s; expected an array or a tuple of arrays"
                        % (cls.__name__, type(out).__name__))
    return out


_NO_NEEDS = [()]


def _no_needs(n):
    """``(False,) * n``, cached."""
    while len(_NO_NEEDS) <= n:
        _NO_NEEDS.append((False,) * len(_NO_NEEDS))
    return _NO_NEEDS[n]


class _Anomaly:
    """State of ``detect_anomaly`` (kept here so apply pays one attribute read when off)."""
    enabled = False

    @staticmethod
    def record(ctx):
        import traceback
        # drop this frame and Function.apply's; _where skips npconv's own wrappers, so the
        # innermost remaining frame is the line that called the op (apply or a method)
        ctx._trace = traceback.extract_stack()[:-2]

    @staticmethod
    def check_forward(ctx, outs):
        from .anomaly import _check_finite
        for o in outs:
            _check_finite(o, ctx, "forward")


_anomaly = _Anomaly
