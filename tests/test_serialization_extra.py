"""npconv.save / npconv.load: PyTorch's semantics (types, sharing, map_location) and clear
errors for files that are not checkpoints."""
import io
import json
import os
import pickle

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from devices import STANDIN
from npconv.serialization import CheckpointError


def _rt(obj, **kw):
    buf = io.BytesIO()
    nc.save(obj, buf)
    buf.seek(0)
    return nc.load(buf, **kw)


def test_python_and_numpy_types_keep_their_type():
    obj = {0: "int key", np.int64(3): "numpy key", b"k": "bytes key", frozenset({1}): "fs",
           "f64": np.float64(2.5), "b": np.bool_(True), "s": np.str_("x"),
           "c": 1 + 2j, "bytes": b"\x00\xff", "ba": bytearray(b"ab"), "set": {1, 2},
           "fset": frozenset({"a"}), "dtype": np.dtype("float16"), "stype": nc.float32,
           "dev": nc.device(STANDIN), "cpu": nc.device("cpu"), "tup": (1, (2.0, None))}
    got = _rt(obj)
    assert list(got) == list(obj)
    for k, v in obj.items():
        assert got[k] == v and type(got[k]) is type(v), k
    assert type(list(got)[1]) is np.int64


def test_the_same_object_saved_twice_loads_as_one():
    t = nc.ones(3, requires_grad=True)
    p = nn.Parameter(nc.zeros(2))
    a = np.arange(4.0)
    got = _rt({"t1": t, "t2": t, "p1": p, "p2": p, "a1": a, "a2": a, "d": t.detach()})
    assert got["t1"] is got["t2"] and got["p1"] is got["p2"] and got["a1"] is got["a2"]
    assert isinstance(got["p1"], nn.Parameter) and got["t1"].requires_grad
    # t.detach() is another tensor over the same data: distinct, but sharing it (as torch)
    assert got["d"] is not got["t1"] and not got["d"].requires_grad
    got["d"].data[0] = 7.0
    assert got["t1"].data.tolist() == [7.0, 1.0, 1.0]
    buf = io.BytesIO()
    nc.save([t, t, t], buf)
    with np.load(io.BytesIO(buf.getvalue())) as z:
        assert sorted(z.files) == ["__npconv__", "a0"]        # stored once


def test_views_and_non_leaf_tensors_save_their_values():
    base = nc.arange(12.0).reshape(3, 4)
    got = _rt({"v": base[:, ::2], "t": base.transpose(0, 1)})
    assert got["v"].numpy().tolist() == [[0, 2], [4, 6], [8, 10]]
    assert got["t"].shape == (4, 3) and got["t"].numpy()[1].tolist() == [1, 5, 9]
    x = nc.ones(2, requires_grad=True)
    y = _rt(x * 2)
    assert y.requires_grad and y.grad_fn is None and y.detach().numpy().tolist() == [2, 2]


def test_map_location_variants():
    g = nc.tensor([1.0, 2.0], device=STANDIN)
    c = nc.tensor([3.0])
    got = _rt([g, c])                                     # default: the host
    assert [str(t.device) for t in got] == ["cpu", "cpu"]
    assert got[0].numpy().tolist() == [1.0, 2.0]
    got = _rt([g, c], map_location=STANDIN)
    assert [t.device.type for t in got] == [STANDIN, STANDIN]
    got = _rt([g, c], map_location=nc.device("cpu"))
    assert [str(t.device) for t in got] == ["cpu", "cpu"]
    got = _rt([g, c], map_location={STANDIN: STANDIN})     # unlisted locations: the host
    assert [t.device.type for t in got] == [STANDIN, "cpu"]
    got = _rt([g, c], map_location={"cpu": STANDIN})
    assert [t.device.type for t in got] == ["cpu", STANDIN]
    seen = []

    def fn(arr, loc):
        seen.append((loc, type(arr)))
        return None if loc == "cpu" else nc.backend.move_array(arr, STANDIN)
    got = _rt([g, c], map_location=fn)
    assert [t.device.type for t in got] == [STANDIN, "cpu"]
    assert seen == [(STANDIN + ":0", np.ndarray), ("cpu", np.ndarray)]
    assert got[0].numpy().tolist() == [1.0, 2.0]


def test_bad_map_location_is_not_blamed_on_the_file(tmp_path):
    nc.save({"w": nc.ones(2)}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match="map_location must be .* got int"):
        nc.load(tmp_path / "c.npz", map_location=3)
    with pytest.raises(ValueError, match="map_location 'gpu' is not a device"):
        nc.load(tmp_path / "c.npz", map_location="gpu")
    with pytest.raises(ValueError, match="map_location key 'tpu'"):
        nc.load(tmp_path / "c.npz", map_location={"tpu": "cpu"})
    with pytest.raises(TypeError, match="must return an array or None, got str"):
        nc.load(tmp_path / "c.npz", map_location=lambda a, loc: "cpu")
    with pytest.raises(ZeroDivisionError):               # the callable's own error, as is
        nc.load(tmp_path / "c.npz", map_location=lambda a, loc: 1 / 0)


def test_paths_folders_and_file_objects(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder") as e:
        nc.load(tmp_path)
    assert e.value.filename == str(tmp_path)
    with pytest.raises(IsADirectoryError, match="expected a file name"):
        nc.save({"a": 1}, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nc.save({"a": 1}, tmp_path / "no" / "c.npz")
    assert os.listdir(tmp_path) == []
    with pytest.raises(TypeError, match="expected a path .* got int"):
        nc.load(3)
    (tmp_path / "t.txt").write_text("hello")
    with open(tmp_path / "t.txt") as fh, pytest.raises(TypeError, match="binary mode"):
        nc.load(fh)
    with pytest.raises(CheckpointError, match="BytesIO object"):
        nc.load(io.BytesIO(b"PK\x03\x04 broken"))
    nc.save({"a": (1, 2)}, str(tmp_path / "s"))            # str and pathlib.Path alike
    assert nc.load(tmp_path / "s") == {"a": (1, 2)}
    with open(tmp_path / "s", "rb") as fh:
        assert nc.load(fh) == {"a": (1, 2)}


@pytest.mark.parametrize("kind, message", [
    ("pickle", "it is a pickle"), ("torch", "PyTorch checkpoint"),
    ("npy", "single NumPy array"), ("npz", r"\.npz archive without the __npconv__ entry"),
    ("text", "not a zip archive"), ("empty", "the file is empty")])
def test_foreign_files_say_what_they_are(tmp_path, kind, message):
    path = tmp_path / ("f." + kind)
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"a": 1}))
    elif kind == "torch":
        torch = pytest.importorskip("torch")
        torch.save({"w": torch.ones(2)}, str(path))
    elif kind == "npy":
        with open(path, "wb") as fh:
            np.save(fh, np.ones(2))
    elif kind == "npz":
        with open(path, "wb") as fh:
            np.savez(fh, a=np.ones(2))
    elif kind == "text":
        path.write_text("hello")
    else:
        path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=message) as e:
        nc.load(path)
    assert str(path) in str(e.value)


def test_structure_with_bad_array_index_is_corrupt(tmp_path):
    for i, index in enumerate((-1, 5, True, "0")):
        struct = json.dumps({"format": "npconv-checkpoint", "version": 1,
                             "root": {"tensor": index}})
        path = tmp_path / ("bad%d.npz" % i)
        np.savez(path, a0=np.arange(3.0), __npconv__=np.frombuffer(struct.encode(), np.uint8))
        with pytest.raises(CheckpointError, match="bad%d.npz.*array index" % i):
            nc.load(path)


def test_failed_save_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "ck.npz"
    nc.save({"epoch": 1}, path)
    before = path.read_bytes()
    cyc = [1]
    cyc.append(cyc)
    with pytest.raises(ValueError, match="contains itself"):
        nc.save({"epoch": 2, "x": cyc}, path)
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        nc.save({"epoch": 2, "deep": [{"a": (1, object())}]}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ck.npz"]
    shared = [1, 2]                                       # shared, not a cycle: fine
    assert _rt([shared, shared]) == [[1, 2], [1, 2]]
