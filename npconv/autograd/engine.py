"""Reverse-mode traversal: ``backward(tensors, grads, retain_graph)``.

Nodes are visited in decreasing *generation* (a node's generation is one more than the
largest of its inputs'), so every node runs after all the nodes that consume its outputs,
without recursion and without re-sorting: a heap keyed on generation.

Broadcasting is undone here, in one place: a gradient whose shape differs from its input's is
summed back to the input's shape, and every gradient's shape is then asserted equal to its
input's. Gradient arrays are never modified in place (several edges may share one array).
"""
import heapq

import numpy

from . import function as _function

_generic = numpy.generic

__all__ = ["backward", "sum_to_shape"]


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
    if leaf.grad is None:
        # a fresh, writable array the leaf owns: g may be a read-only broadcast view, or
        # shared with another edge or with a saved buffer (optimizers update .grad in place)
        leaf.grad = T._wrap(g.copy())
    else:
        # out of place: the old grad may be in use elsewhere
        s = leaf.grad.data + g
        leaf.grad = T._wrap(numpy.asarray(s) if isinstance(s, _generic) else s)


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


def backward(tensors, grads, retain_graph=False):
    """Accumulate d(sum_i <tensors[i], grads[i]>)/d(leaf) into every leaf's ``.grad``.

    ``tensors`` are Tensors that require grad; ``grads`` raw arrays of the same shapes.
    """
    pending = {}        # node -> list of output gradients (None until one arrives)
    heap = []
    counter = 0         # tie-break so the heap never compares nodes
    push = heapq.heappush
    pop = heapq.heappop
    for t, g in zip(tensors, grads):
        node = t.grad_fn
        if node is None:
            if t.requires_grad:
                _accumulate_leaf(t, g)
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
        if node._retain:
            _retain_grads(node, gouts)
        if node._freed:
            node.saved_tensors  # raises the "backward a second time" error
        fn = node._fn
        if node._n_outputs == 1:
            gin = fn.backward(node, gouts[0])
        else:
            if any(g is None for g in gouts):
                gouts = _fill_zeros(node, gouts)
            gin = fn.backward(node, *gouts)
        edges = node._edges
        if type(gin) is not tuple:
            gin = (gin,)
        if len(gin) != len(edges):
            if len(gin) > len(edges) or any(e is not None for e in edges[len(gin):]):
                raise RuntimeError("function %sBackward returned an incorrect number of "
                                   "gradients (expected %d, got %d): one per forward input"
                                   % (fn.__name__, len(edges), len(gin)))
        if not retain_graph and node._saved:
            # only a node that saved something fails a later backward: PyTorch lets a
            # second backward through nodes without saved tensors (add, sum) accumulate
            node._saved = node._saved_versions = None
            node._freed = True
        for edge, g in zip(edges, gin):
            if edge is None or g is None:
                continue
            if type(g) is not ndarray:
                g = _as_array(g, node)
            target, nr, shape, dtype = edge
            if g.shape != shape:
                g = sum_to_shape(g, shape)
                if g.shape != shape:
                    raise RuntimeError(
                        "Function %sBackward returned an invalid gradient: got shape %s, "
                        "expected %s" % (fn.__name__, tuple(g.shape), tuple(shape)))
            if g.dtype is not dtype and g.dtype != dtype:
                g = g.astype(dtype)
            if anomaly.enabled:
                from .anomaly import _check_finite
                _check_finite(g, node, "backward")
            if nr is None:
                _accumulate_leaf(target, g)
                continue
            slot = pending.get(target)
            if slot is None:
                slot = pending[target] = [None] * target._n_outputs
                push(heap, (-target._generation, counter, target))
                counter += 1
            slot[nr] = g if slot[nr] is None else slot[nr] + g


def _retain_grads(node, gouts):
    T = _function._Tensor
    for nr, ref in node._retain.items():
        t = ref()
        g = gouts[nr]
        if t is not None and g is not None:
            s = g.copy() if t.grad is None else t.grad.data + g
            t.grad = T._wrap(numpy.asarray(s) if isinstance(s, _generic) else s)


def _fill_zeros(node, gouts):
    """Multi-output nodes get zeros for the live differentiable outputs that received no
    gradient; non-differentiable or freed outputs get None."""
    from ..backend import get_array_module
    out = []
    for ref, g in zip(node._outputs, gouts):
        if g is None:
            t = ref()
            if t is not None and t.grad_fn is node:
                g = get_array_module(t.data).zeros_like(t.data)
        out.append(g)
    return out
