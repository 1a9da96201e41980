"""Pictures of what npconv computes: autograd graphs, filters and feature maps.

``to_dot(t)`` needs nothing but npconv: it walks ``t.grad_fn`` through ``next_functions``
and returns the graph as Graphviz DOT text, one box per Function call (its ``ctx.name()``,
e.g. ``MulBackward``), one ellipse per leaf tensor, every edge labelled with the shape of the
gradient that flows along it.

>>> import npconv as nc
>>> from npconv import viz
>>> x = nc.ones(2, 3, requires_grad=True)
>>> dot = viz.to_dot((x * 2).sum())
>>> print(dot.splitlines()[0])
digraph autograd {
>>> "MulBackward" in dot and "SumBackward" in dot and "(2, 3)" in dot
True

``render(t, path)`` turns that text into SVG/PNG/PDF with Graphviz's ``dot`` program (install
Graphviz: ``apt-get install graphviz``, ``brew install graphviz`` or ``conda install
graphviz``). ``plot_filters(weight)`` and ``plot_feature_maps(x)`` draw with matplotlib, which
is optional and imported only when they are called; ``filter_grid`` builds the same mosaic as a
plain NumPy array without matplotlib.
"""
import os
import shutil
import subprocess

import numpy

__all__ = ["to_dot", "render", "filter_grid", "plot_filters", "plot_feature_maps",
           "GraphvizNotFoundError"]


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to render a graph and was not found."""


def _shape(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _esc(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def to_dot(t, params=None, show_shapes=True, rankdir="BT"):
    """The autograd graph that produced tensor ``t``, as Graphviz DOT text.

    Nodes: the output ``t`` (a grey box), every Function call on the way back from it (a
    blue box named by ``ctx.name()``) and every leaf tensor that receives a gradient (an
    ellipse; green when named through ``params``). Edges go from input to consumer, the way
    data flows in forward, and carry the shape of the gradient sent back along them.

    Args:
        t: a Tensor (usually a loss). A tensor without ``grad_fn`` draws as a single node.
        params: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) so that
            leaves are labelled by name.
        show_shapes: label leaves and edges with shapes.
        rankdir: Graphviz layout direction; ``"BT"`` puts the inputs at the bottom.
    """
    names = {}
    if params:
        names = {id(p): n for n, p in dict(params).items()}
    ids = {}
    lines = ["digraph autograd {",
             '  graph [rankdir=%s, fontname="Helvetica", fontsize=10];' % rankdir,
             '  node [fontname="Helvetica", fontsize=10, style=filled];',
             '  edge [fontname="Helvetica", fontsize=9];']

    def node_id(obj):
        key = id(obj)
        if key not in ids:
            ids[key] = "n%d" % len(ids)
        return ids[key]

    def leaf_label(leaf):
        name = names.get(id(leaf))
        label = _esc(name) if name is not None else "leaf"
        if show_shapes:
            label += "\\n" + _shape(leaf.shape)
        return label

    def add_leaf(leaf):
        color = "#d5f5d5" if id(leaf) in names else "#f5f0c8"
        lines.append('  %s [label="%s", shape=ellipse, fillcolor="%s"];'
                     % (node_id(leaf), leaf_label(leaf), color))

    out_id = "out"
    out_label = "output" + ("\\n" + _shape(t.shape) if show_shapes else "")
    lines.append('  %s [label="%s", shape=box, fillcolor="#dddddd"];' % (out_id, out_label))

    root = t.grad_fn
    if root is None:
        if t.requires_grad:     # the output is itself a leaf
            add_leaf(t)
            lines.append("  %s -> %s;" % (node_id(t), out_id))
        lines.append("}")
        return "\n".join(lines) + "\n"

    lines.append("  %s -> %s;" % (node_id(root), out_id))
    seen = set()
    stack = [root]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        lines.append('  %s [label="%s", shape=box, fillcolor="#cfe2f3"];'
                     % (node_id(fn), _esc(fn.name())))
        edges = getattr(fn, "_edges", None) or ()
        for i, nxt in enumerate(fn.next_functions):
            if nxt is None:
                continue
            shape = edges[i][2] if i < len(edges) and edges[i] is not None else None
            if hasattr(nxt, "next_functions"):       # another Function call
                if id(nxt) not in seen:
                    stack.append(nxt)
            else:                                    # a leaf tensor stands for itself
                if id(nxt) not in seen:
                    seen.add(id(nxt))
                    add_leaf(nxt)
            label = ' [label="%s"]' % _shape(shape) if (show_shapes and shape is not None) else ""
            lines.append("  %s -> %s%s;" % (node_id(nxt), node_id(fn), label))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(t, path, params=None, format=None, show_shapes=True):
    """Draw ``t``'s autograd graph to ``path`` (``.svg``, ``.png`` or ``.pdf``) with
    Graphviz's ``dot``; returns ``path``. Raises ``GraphvizNotFoundError`` when ``dot`` is
    not installed. ``t`` may also be DOT text already made by ``to_dot``."""
    if isinstance(t, str):
        dot = t
    else:
        dot = to_dot(t, params=params, show_shapes=show_shapes)
    fmt = format or os.path.splitext(str(path))[1].lstrip(".").lower() or "svg"
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            "npconv.viz.render needs Graphviz's 'dot' program, which was not found on PATH "
            "(install it: apt-get install graphviz, brew install graphviz or conda install "
            "graphviz); npconv.viz.to_dot(t) gives the DOT text without it")
    proc = subprocess.run([exe, "-T" + fmt, "-o", str(path)], input=dot.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError("dot failed (exit %d): %s"
                           % (proc.returncode, proc.stderr.decode(errors="replace").strip()))
    return path


# ------------------------------------------------------------------- filters, feature maps
def _host(x):
    """A NumPy float array from a Tensor, a NumPy array, a device array (CuPy, or any
    registered backend's) or anything ``numpy.asarray`` takes (nested lists)."""
    from . import backend as _backend
    from .tensor import Tensor
    if isinstance(x, Tensor):
        x = x.data          # a Tensor's raw array (a CuPy array's .data is a pointer instead)
    if not isinstance(x, numpy.ndarray):
        b = _backend.backend_of(x)
        if b.name != "cpu":
            x = b.to_host(x)            # device -> host, explicitly
    return numpy.asarray(x, dtype=numpy.float64)


def _normalize(a):
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else numpy.zeros_like(a) + 0.5


def filter_grid(weight, ncols=8, pad=1, normalize=True):
    """Tile conv filters ``(C_out, C_in, kH, kW)`` into one image, one tile per
    output channel: ``(rows*(kH+pad)+pad, ncols*(kW+pad)+pad)`` for one input channel, with a
    trailing RGB axis of 3 when ``C_in == 3``; other ``C_in`` are averaged to one channel.
    Each tile is scaled to [0, 1] on its own when ``normalize``; the padding is 1.0 (white).

    >>> import numpy as np
    >>> filter_grid(np.zeros((6, 1, 3, 3)), ncols=4).shape
    (9, 17)
    """
    w = _host(weight)
    if w.ndim != 4:
        raise ValueError("filter_grid expects conv weights (C_out, C_in, kH, kW), got shape %s"
                         % (w.shape,))
    c_out, c_in, kh, kw = w.shape
    if c_in == 3:
        tiles = w.transpose(0, 2, 3, 1)          # (C_out, kH, kW, 3)
    else:
        tiles = w.mean(axis=1)                   # (C_out, kH, kW)
    if normalize:
        tiles = numpy.stack([_normalize(tile) for tile in tiles])
    ncols = max(1, min(ncols, c_out))
    nrows = -(-c_out // ncols)
    shape = (nrows * (kh + pad) + pad, ncols * (kw + pad) + pad) + tiles.shape[3:]
    grid = numpy.ones(shape)
    for k in range(c_out):
        r, c = divmod(k, ncols)
        y, x = pad + r * (kh + pad), pad + c * (kw + pad)
        grid[y:y + kh, x:x + kw] = tiles[k]
    return grid


def _pyplot():
    try:
        import matplotlib
        if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("npconv.viz plotting needs matplotlib, which is not installed: "
                          "pip install matplotlib (or pip install 'npconv[examples]')") from e
    return plt


def plot_filters(weight, ncols=8, cmap="gray", title=None):
    """One small image per output channel of conv weights ``(C_out, C_in, kH, kW)`` (RGB when
    ``C_in == 3``, the mean over input channels otherwise); returns the matplotlib Figure.
    Needs matplotlib."""
    plt = _pyplot()
    w = _host(weight)
    if w.ndim != 4:
        raise ValueError("plot_filters expects conv weights (C_out, C_in, kH, kW), got shape %s"
                         % (w.shape,))
    c_out = w.shape[0]
    ncols = max(1, min(ncols, c_out))
    nrows = -(-c_out // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.8, nrows * 0.8 + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= c_out:
            continue
        tile = w[k].transpose(1, 2, 0) if w.shape[1] == 3 else w[k].mean(axis=0)
        ax.imshow(_normalize(tile), cmap=None if tile.ndim == 3 else cmap,
                  interpolation="nearest")
    if title:
        fig.suptitle(title)
    return fig


def plot_feature_maps(x, index=0, max_maps=32, ncols=8, cmap="viridis", title=None):
    """The channels of one sample of activations ``(N, C, H, W)`` (or ``(C, H, W)``), one
    image per channel, at most ``max_maps``; returns the matplotlib Figure. Needs matplotlib."""
    plt = _pyplot()
    a = _host(x)
    if a.ndim == 4:
        a = a[index]
    if a.ndim != 3:
        raise ValueError("plot_feature_maps expects (N, C, H, W) or (C, H, W), got shape %s"
                         % (_host(x).shape,))
    a = a[:max_maps]
    c = a.shape[0]
    ncols = max(1, min(ncols, c))
    nrows = -(-c // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 1.0, nrows * 1.0 + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < c:
            ax.imshow(a[k], cmap=cmap, interpolation="nearest")
    if title:
        fig.suptitle(title)
    return fig
