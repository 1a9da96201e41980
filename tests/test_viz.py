"""npconv.viz: DOT text of autograd graphs, rendering (when Graphviz is installed), plots."""
import importlib.util
import re
import shutil

import numpy as np
import pytest

import npconv as nc
from npconv import viz


def _edges(dot):
    return re.findall(r"^\s*(\w+) -> (\w+)", dot, flags=re.M)


def _labels(dot):
    return dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, flags=re.M))


def test_dot_names_every_function_and_leaf_with_shapes():
    x = nc.randn(2, 3, requires_grad=True)
    w = nc.randn(3, 4, requires_grad=True)
    b = nc.zeros(4, requires_grad=True)
    loss = (x @ w + b).relu().mean()
    dot = viz.to_dot(loss, params={"x": x, "w": w, "b": b})
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    labels = _labels(dot)
    names = sorted(labels.values())
    for fn in ("MeanBackward", "ReLUBackward", "AddBackward", "MatMulBackward"):
        assert fn in names
    assert "x\\n(2, 3)" in names and "w\\n(3, 4)" in names and "b\\n(4)" in names
    assert "output\\n()" in names
    # edges run from inputs to consumers and carry the gradient's shape
    by_label = {v: k for k, v in labels.items()}
    assert (by_label["b\\n(4)"], by_label["AddBackward"]) in _edges(dot)
    assert '[label="(4)"]' in dot and '[label="(2, 4)"]' in dot
    # every node that appears in an edge is declared
    for a, c in _edges(dot):
        assert a in labels and c in labels


def test_dot_matches_next_functions():
    x = nc.randn(3, requires_grad=True)
    y = x * x
    z = y.exp() + y
    dot = viz.to_dot(z.sum())
    # y feeds two consumers: MulBackward is declared once and has two outgoing edges
    labels = _labels(dot)
    mul = [k for k, v in labels.items() if v == "MulBackward"]
    assert len(mul) == 1
    assert sum(1 for a, _ in _edges(dot) if a == mul[0]) == 2
    # the leaf shows up once, with the two edges of x * x
    leaf = [k for k, v in labels.items() if v.startswith("leaf")]
    assert len(leaf) == 1 and sum(1 for a, c in _edges(dot) if a == leaf[0]) == 2
    nodes = z.sum().grad_fn.next_functions
    assert nodes[0].name() == "AddBackward"


def test_dot_without_graph_and_without_shapes():
    t = nc.ones(2)
    dot = viz.to_dot(t)
    assert "->" not in dot and "output" in dot
    leaf = nc.ones(2, requires_grad=True)
    assert "leaf" in viz.to_dot(leaf)
    dot = viz.to_dot((leaf * 3).sum(), show_shapes=False)
    assert "(2)" not in dot and "MulBackward" in dot


def test_dot_still_drawable_after_backward():
    x = nc.randn(2, 2, requires_grad=True)
    loss = (x * 2).sum()
    loss.backward()
    assert "MulBackward" in viz.to_dot(loss)


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz 'dot' is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("ext", ["svg", "png"])
def test_render_writes_file(tmp_path, ext):
    x = nc.randn(2, 3, requires_grad=True)
    path = tmp_path / ("g." + ext)
    assert viz.render((x * x).sum(), path) == path
    data = path.read_bytes()
    if ext == "svg":
        assert b"<svg" in data and b"MulBackward" in data
    else:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_clear_error_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    x = nc.randn(2, requires_grad=True)
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        viz.render((x * 2).sum(), tmp_path / "g.svg")


def test_filter_grid_layout():
    w = np.arange(2 * 1 * 3 * 3, dtype=np.float32).reshape(2, 1, 3, 3)
    g = viz.filter_grid(w, ncols=2)
    assert g.shape == (1 * 4 + 1, 2 * 4 + 1)
    assert g[1:4, 1:4].min() == 0.0 and g[1:4, 1:4].max() == 1.0   # each tile normalized
    assert (g[0] == 1).all() and (g[:, 4] == 1).all()              # white padding
    rgb = viz.filter_grid(nc.randn(5, 3, 2, 2), ncols=4)
    assert rgb.shape == (2 * 3 + 1, 4 * 3 + 1, 3)
    with pytest.raises(ValueError, match="C_out, C_in, kH, kW"):
        viz.filter_grid(np.zeros((3, 3)))


_HAS_MPL = importlib.util.find_spec("matplotlib") is not None


@pytest.mark.skipif(not _HAS_MPL, reason="matplotlib is not installed (optional)")
def test_plots_with_matplotlib():
    fig = viz.plot_filters(nc.randn(6, 1, 3, 3), ncols=3, title="filters")
    assert len(fig.axes) == 6
    fig2 = viz.plot_feature_maps(nc.randn(2, 5, 8, 8), index=1, ncols=4)
    assert len(fig2.axes) == 8
    import matplotlib.pyplot as plt
    plt.close(fig)
    plt.close(fig2)


def test_plots_clear_error_without_matplotlib(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        viz.plot_filters(np.zeros((2, 1, 3, 3)))
    with pytest.raises(ImportError, match="pip install matplotlib"):
        viz.plot_feature_maps(np.zeros((1, 2, 3, 3)))


def test_figure_script_makes_the_docs_svgs(tmp_path, monkeypatch):
    """scripts/make_figures.py keeps working as the code changes (the cheap figures only;
    the training figures need minutes and matplotlib)."""
    import importlib.util
    from pathlib import Path
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", script)
    mf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mf)
    monkeypatch.setattr(mf, "IMG", str(tmp_path))
    mf.main(["autograd", "im2col", "col2im", "benchmarks"])
    im2col_svg = (tmp_path / "im2col.svg").read_text()
    assert im2col_svg.startswith("<svg") and "(8, 4)" in im2col_svg
    assert (tmp_path / "col2im.svg").read_text().startswith("<svg")
    assert "MatMulBackward" in (tmp_path / "autograd_graph.dot").read_text()
    with pytest.raises(SystemExit, match="unknown figure"):
        mf.main(["nonsense"])


class _FakeAxes:
    def __init__(self, shown):
        self.shown = shown

    def axis(self, *a):
        pass

    def imshow(self, img, **kw):
        assert isinstance(img, np.ndarray)
        self.shown.append(img)


class _FakePlt:
    """Enough of matplotlib.pyplot for plot_filters/plot_feature_maps (matplotlib is
    optional)."""

    def __init__(self):
        self.shown = []

    def subplots(self, nrows, ncols, **kw):
        fig = type("Fig", (), {"suptitle": lambda self, t: None})()
        axes = np.array([[_FakeAxes(self.shown) for _ in range(ncols)] for _ in range(nrows)])
        return fig, axes


def test_viz_accepts_raw_device_arrays(monkeypatch):
    """A raw device array (CuPy's, here the stand-in's: its ``.data`` is a MemoryPointer, as
    on CuPy) is brought to the host explicitly, as a Tensor on that device is."""
    from devices import STANDIN
    w = nc.randn(6, 1, 3, 3)
    raw = w.to(STANDIN).data
    assert not isinstance(raw, np.ndarray)
    expected = viz.filter_grid(w.numpy(), ncols=4)
    np.testing.assert_allclose(viz.filter_grid(raw, ncols=4), expected)
    np.testing.assert_allclose(viz.filter_grid(w.to(STANDIN), ncols=4), expected)
    np.testing.assert_allclose(viz.filter_grid(w.numpy().tolist(), ncols=4), expected)
    plt = _FakePlt()
    monkeypatch.setattr(viz, "_pyplot", lambda: plt)
    viz.plot_filters(raw, ncols=3)
    assert len(plt.shown) == 6
    maps = nc.randn(2, 5, 4, 4)
    viz.plot_feature_maps(maps.to(STANDIN).data, index=1)
    np.testing.assert_allclose(plt.shown[-1], maps.numpy()[1, 4])
