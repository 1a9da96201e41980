"""Reverse-mode traversal: ``backward(tensors, grads, retain_graph, inputs, capture)``
(``inputs``/``capture`` serve ``backward(inputs=...)`` and ``autograd.grad``).

Nodes are visited in decreasing *generation* (a node's generation is one more than the
largest of its inputs'), so every node runs after all the nodes that consume its outputs,
without recursion and without re-sorting: a heap keyed on generation.

Broadcasting is undone here, in one place: a gradient whose shape differs from its input's is
summed back to the input's shape, and every gradient's shape is then asserted equal to its
input's. Gradient arrays are never modified in place (several edges may share one array).
"""
import heapq
import itertools
import weakref

import numpy

from . import function as _function

_generic = numpy.generic

__all__ = ["backward", "sum_to_shape", "register_hook"]


def sum_to_shape(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise RuntimeError("gradient of shape %s cannot be reduced to shape %s"
                           % (tuple(g.shape), tuple(shape)))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g


def _accumulate_leaf(leaf, g):
    T = _function._Tensor
    if leaf._grad is None:
        # a fresh, writable array the leaf owns: g may be a read-only broadcast view, or
        # shared with another edge or with a saved buffer (optimizers update .grad in place)
        leaf._grad = T._wrap(g.copy())
    else:
        # out of place: the old grad may be in use elsewhere
        s = leaf._grad.data + g
        leaf._grad = T._wrap(numpy.asarray(s) if isinstance(s, _generic) else s)


def _as_array(g, node):
    """Normalise what a backward returned: a Tensor's data, a NumPy scalar as a 0-d array."""
    if isinstance(g, _function._Tensor):
        return g.data
    if isinstance(g, _generic):
        return numpy.asarray(g)
    if not hasattr(g, "shape"):
        raise TypeError("%s.backward returned a %s as a gradient; expected an array"
                        % (node._fn.__name__, type(g).__name__))
    return g


def backward(tensors, grads, retain_graph=False, inputs=None, capture=False):
    """Accumulate d(sum_i <tensors[i], grads[i]>)/d(leaf) into every leaf's ``.grad``.

    ``tensors`` are Tensors that require grad; ``grads`` raw arrays of the same shapes.

    ``inputs`` (Tensors that require grad) restricts the work to them: only the nodes on a
    path to one of them run, and only they receive gradients: into ``.grad`` (a non-leaf
    among them must already retain its grad), or, with ``capture=True``, nowhere: the
    gradients are returned instead, one per input (None for an input the outputs do not
    depend on). That is ``autograd.grad``.
    """
    pending = {}        # node -> list of output gradients (None until one arrives)
    heap = []
    counter = 0         # tie-break so the heap never compares nodes
    push = heapq.heappush
    pop = heapq.heappop
    leaf_hooks = _LEAF_HOOKS
    held = {}           # id(leaf) -> [leaf, summed gradient]: leaves with hooks (see _hold)
    if inputs is None:
        visit = run = wanted = captured = None
    else:
        # run: the nodes to execute; visit: those, plus the nodes whose outputs are inputs
        # (reached to read their gradient, not executed unless also in run); wanted: id of
        # each leaf input; out_keys: (node, output_nr) of each non-leaf input
        wanted, out_keys, run = _restrict(tensors, inputs)
        visit = run.union(k[0] for k in out_keys)
        captured = {} if capture else None
    for t, g in zip(tensors, grads):
        node = t.grad_fn
        if node is None:
            if t._requires_grad and (wanted is None or id(t) in wanted):
                if (leaf_hooks and id(t) in leaf_hooks) or wanted is not None:
                    _hold(held, t, g)
                else:
                    _accumulate_leaf(t, g)
            continue
        if visit is not None and node not in visit:
            continue
        slot = pending.get(node)
        if slot is None:
            slot = pending[node] = [None] * node._n_outputs
            push(heap, (-node._generation, counter, node))
            counter += 1
        i = t._output_nr
        slot[i] = g if slot[i] is None else slot[i] + g

    anomaly = _function._anomaly
    ndarray = numpy.ndarray
    while heap:
        node = pop(heap)[2]
        gouts = pending.pop(node)
        if node._hooks:
            _run_node_hooks(node, gouts)
        if node._retain:
            _retain_grads(node, gouts)
        if visit is not None:
            if captured is not None:
                for nr, g in enumerate(gouts):
                    if g is not None and (node, nr) in out_keys:
                        captured[(node, nr)] = g
            if node not in run:
                continue            # only its outputs' gradients were wanted
        if node._freed:
            node.saved_tensors  # raises the "backward a second time" error
        fn = node._fn
        if node._n_outputs == 1:
            gin = fn.backward(node, gouts[0])
        else:
            # zeros for outputs without a gradient, as PyTorch; npconv's own multi-output ops
            # (max and max-pool with indices) take None for their index outputs: no allocation
            if node._materialize_grads and not fn._npconv_op and any(g is None for g in gouts):
                gouts = _fill_zeros(node, gouts)
            gin = fn.backward(node, *gouts)
        edges = node._edges
        if type(gin) is not tuple:
            gin = (gin,)
        if len(gin) != len(edges):
            gin = _check_count(fn, gin, edges)
        if not retain_graph and node._saved:
            # only a node that saved something fails a later backward: PyTorch lets a
            # second backward through nodes without saved tensors (add, sum) accumulate
            node._saved = node._saved_versions = None
            node._freed = True
        for edge, g in zip(edges, gin):
            if g is None:
                continue
            if not edge:
                if edge is False and not fn._npconv_op:   # the argument was not a Tensor
                    _gradient_for_non_tensor(fn, edges, gin)
                continue
            if type(g) is not ndarray:
                g = _as_array(g, node)
            target, nr, shape, dtype = edge
            if g.shape != shape:
                g = _sum_to_input(g, fn, edges, edge)
            if g.dtype is not dtype and g.dtype != dtype:
                g = g.astype(dtype)
            if anomaly.enabled:
                from .anomaly import _check_finite
                _check_finite(g, node, "backward")
            if nr is None:
                if visit is not None:
                    if id(target) in wanted:
                        _hold(held, target, g)
                elif leaf_hooks and id(target) in leaf_hooks:
                    _hold(held, target, g)
                else:
                    _accumulate_leaf(target, g)
                continue
            if visit is not None and target not in visit:
                continue
            slot = pending.get(target)
            if slot is None:
                slot = pending[target] = [None] * target._n_outputs
                push(heap, (-target._generation, counter, target))
                counter += 1
            slot[nr] = g if slot[nr] is None else slot[nr] + g

    # leaves with hooks: as in PyTorch, the hooks see the leaf's whole gradient (summed over
    # every use) once, and what they return is what accumulates into .grad
    for leaf, g in held.values():
        entry = leaf_hooks.get(id(leaf))
        if entry is not None:
            g = _call_hooks(entry[1], g)
        if captured is not None:
            captured[id(leaf)] = g
        else:
            _accumulate_leaf(leaf, g)
    if captured is not None:
        return [captured.get(id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr))
                for t in inputs]
    return None


def _restrict(roots, inputs):
    """For ``backward(inputs=...)`` and ``autograd.grad``: the ids of the leaf inputs, the
    (node, output_nr) of the others, and the set of nodes from which one of them can be
    reached (the only nodes worth executing)."""
    wanted = set()
    out_keys = set()
    for t in inputs:
        if t.grad_fn is None:
            wanted.add(id(t))
        else:
            out_keys.add((t.grad_fn, t._output_nr))
    # every node reachable from the roots, then decided in increasing generation: a node's
    # inputs' nodes always have a smaller generation, so they are decided before it
    seen = set()
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for e in node._edges:
            if e and e[1] is not None and e[0] not in seen:
                stack.append(e[0])
    run = set()
    for node in sorted(seen, key=_generation_of):
        for e in node._edges:
            if not e:
                continue
            if e[1] is None:
                if id(e[0]) in wanted:
                    break
            elif e[0] in run or (e[0], e[1]) in out_keys:
                break
        else:
            continue
        run.add(node)
    return wanted, out_keys, run


def _generation_of(node):
    return node._generation


def _hold(held, leaf, g):
    h = held.get(id(leaf))
    if h is None:
        held[id(leaf)] = [leaf, g]
    else:
        h[1] = h[1] + g


def _check_count(fn, gin, edges):
    """backward returned more or fewer gradients than forward had arguments: trailing Nones
    are dropped (PyTorch accepts them). Fewer is an error for a user's Function, as in
    PyTorch, even where the missing ones need no gradient; npconv's own ops may omit the
    trailing options (stride, axis) that never get one."""
    n = len(edges)
    if len(gin) > n:
        if all(g is None for g in gin[n:]):
            return gin[:n]
    elif fn._npconv_op and not any(edges[len(gin):]):
        return gin
    raise RuntimeError("function %sBackward returned an incorrect number of gradients "
                       "(expected %d, got %d)" % (fn.__name__, n, len(gin)))


def _gradient_for_non_tensor(fn, edges, gin):
    i = next(i for i, (e, g) in enumerate(zip(edges, gin)) if e is False and g is not None)
    raise RuntimeError("function %sBackward returned a gradient different than None at "
                       "index %d, but the corresponding forward argument was not a Tensor "
                       "(return None for it)" % (fn.__name__, i))


def _sum_to_input(g, fn, edges, edge):
    """Sum a broadcast gradient down to its input's shape; an error names the Function and
    the input's index when that is impossible."""
    shape = edge[2]
    r = sum_to_shape(g, shape) if g.ndim >= len(shape) else g
    if r.shape != shape:
        i = next(i for i, e in enumerate(edges) if e is edge)
        raise RuntimeError("Function %sBackward returned an invalid gradient at index %d - "
                           "got %s but expected shape compatible with %s"
                           % (fn.__name__, i, list(g.shape), list(shape)))
    return r


# -- Tensor.register_hook -------------------------------------------------------------------
# Hooks of a non-leaf live on its node (``node._hooks[output_nr]``, as ``_retain``); hooks of
# a leaf in _LEAF_HOOKS, keyed by id and dropped with the leaf, so a backward without leaf
# hooks pays one dict truth test per leaf edge.
_LEAF_HOOKS = {}
_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook (also usable
    as a context manager)."""

    def __init__(self, hooks, key, owner=None):
        self._hooks, self.id, self._owner = hooks, key, owner

    def remove(self):
        self._hooks.pop(self.id, None)
        if self._owner is not None and not self._hooks:
            # no hooks left on the leaf: back to the fast path (if the entry is still the
            # leaf's: a dead leaf's id may have been reused)
            entry = _LEAF_HOOKS.get(self._owner)
            if entry is not None and entry[1] is self._hooks:
                del _LEAF_HOOKS[self._owner]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_hook(t, hook):
    """``Tensor.register_hook``: ``hook(grad)`` runs when the gradient with respect to ``t``
    has been computed; a non-None return value (Tensor or array, same shape and dtype)
    replaces it."""
    if not callable(hook):
        raise TypeError("register_hook expected a callable, got %s" % type(hook).__name__)
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    key = next(_hook_ids)
    node = t.grad_fn
    if node is None:
        entry = _LEAF_HOOKS.get(id(t))
        if entry is None:
            k = id(t)
            entry = _LEAF_HOOKS[k] = (weakref.ref(t, lambda _, k=k: _LEAF_HOOKS.pop(k, None)),
                                      {})
        entry[1][key] = hook
        return RemovableHandle(entry[1], key, id(t))
    if node._hooks is None:
        node._hooks = {}
    hooks = node._hooks.setdefault(t._output_nr, {})
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def _call_hooks(hooks, g):
    T = _function._Tensor
    for hook in tuple(hooks.values()):
        r = hook(T._wrap(g))
        if r is None:
            continue
        new = r.data if isinstance(r, T) else r
        name = getattr(hook, "__name__", repr(hook))
        if not (hasattr(new, "shape") and hasattr(new, "dtype")):
            raise TypeError("expected Tensor, but hook '%s' returned '%s'"
                            % (name, type(r).__name__))
        if new.shape != g.shape:
            raise RuntimeError("hook '%s' has changed the size of value (was %s got %s)"
                               % (name, tuple(g.shape), tuple(new.shape)))
        if new.dtype != g.dtype:
            raise RuntimeError("hook '%s' has changed the type of value (was %s got %s)"
                               % (name, g.dtype, new.dtype))
        g = new
    return g


def _run_node_hooks(node, gouts):
    for nr, hooks in node._hooks.items():
        if hooks and gouts[nr] is not None:
            gouts[nr] = _call_hooks(hooks, gouts[nr])


def _retain_grads(node, gouts):
    T = _function._Tensor
    for nr, ref in node._retain.items():
        t = ref()
        g = gouts[nr]
        if t is not None and g is not None:
            s = g.copy() if t._grad is None else t._grad.data + g
            t._grad = T._wrap(numpy.asarray(s) if isinstance(s, _generic) else s)


def _fill_zeros(node, gouts):
    """A multi-output node's backward gets zeros (of the output's shape and dtype) for the
    outputs that received no gradient: unused, freed or non-differentiable ones, as
    PyTorch's default ``ctx.set_materialize_grads(True)``."""
    from ..backend import get_array_module
    xp = get_array_module(next(g for g in gouts if g is not None))
    return [xp.zeros(shape, dtype) if g is None else g
            for (shape, dtype), g in zip(node._outputs, gouts)]
