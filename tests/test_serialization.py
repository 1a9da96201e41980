"""npconv.save / npconv.load: bit-exact round trips, atomic writes, clear errors."""
import collections
import json
import os
import zipfile

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.serialization import CheckpointError


def model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_round_trip_bit_exact(tmp_path):
    m = model()
    m(nc.randn(5, 3))
    path = tmp_path / "model.pt"
    nc.save(m.state_dict(), path)
    sd = nc.load(path)
    assert isinstance(sd, collections.OrderedDict)
    assert list(sd) == list(m.state_dict())
    for k, v in m.state_dict().items():
        assert isinstance(sd[k], nc.Tensor)
        assert sd[k].dtype == v.dtype and sd[k].shape == v.shape
        assert sd[k].numpy().tobytes() == v.numpy().tobytes(), k
    m2 = model()
    m2.load_state_dict(sd)
    x = nc.randn(2, 3)
    m.eval(), m2.eval()
    assert m(x).detach().numpy().tobytes() == m2(x).detach().numpy().tobytes()


def test_nested_structures_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    obj = {
        "epoch": 7, "big": 2 ** 70, "neg": -3, "lr": 0.1 + 0.2, "tiny": 5e-324,
        "inf": float("inf"), "nan": float("nan"), "flag": True, "none": None, "name": "résumé",
        "betas": (0.9, 0.999), "milestones": [1, 2, [3, {"x": 4}]],
        "arrays": {"f32": rng.standard_normal((3, 2)).astype(np.float32),
                   "f64": rng.standard_normal(4), "i64": np.arange(5), "u8": np.arange(3,
                                                                                   dtype=np.uint8),
                   "bool": np.array([True, False]), "empty": np.zeros((0, 3), np.float16),
                   "scalar0d": np.array(3.5, np.float32), "f16": np.array([1e-4], np.float16),
                   "noncontig": np.arange(12.0).reshape(3, 4)[:, ::2]},
        "np_scalar": np.float32(1.25), "np_int": np.int64(9),
        "state": {0: {"step": 3, "exp_avg": rng.standard_normal(3).astype(np.float32)}},
        1.5: "float key", (1, "a"): "tuple key",
        "tensor": nc.tensor([1.0, 2.0], requires_grad=True),
        "param": nn.Parameter(nc.ones(2)),
    }
    nc.save(obj, tmp_path / "x.ckpt")
    got = nc.load(tmp_path / "x.ckpt")
    assert set(got) == set(obj)
    for k in ("epoch", "big", "neg", "lr", "tiny", "inf", "flag", "none", "name", "betas",
              "milestones", 1.5, (1, "a")):
        assert got[k] == obj[k] and type(got[k]) is type(obj[k]), k
    assert np.isnan(got["nan"])
    for k, a in obj["arrays"].items():
        b = got["arrays"][k]
        assert isinstance(b, np.ndarray) and b.dtype == a.dtype and b.shape == a.shape, k
        assert b.tobytes() == np.ascontiguousarray(a).tobytes(), k
    assert type(got["np_scalar"]) is np.float32 and got["np_scalar"] == 1.25
    assert type(got["np_int"]) is np.int64
    assert list(got["state"]) == [0] and got["state"][0]["step"] == 3
    assert isinstance(got["tensor"], nc.Tensor) and got["tensor"].requires_grad
    assert isinstance(got["param"], nn.Parameter)


def test_optimizer_state_round_trip(tmp_path):
    m = model()
    opt = nc.optim.Adam(m.parameters(), lr=1e-2, amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        m(nc.randn(4, 3)).sum().backward()
        opt.step()
    sd = opt.state_dict()
    nc.save(sd, tmp_path / "opt")
    got = nc.load(tmp_path / "opt")
    assert got["param_groups"] == sd["param_groups"]
    for i, s in sd["state"].items():
        for k, v in s.items():
            if isinstance(v, np.ndarray):
                assert got["state"][i][k].tobytes() == v.tobytes()
            else:
                assert got["state"][i][k] == v


def test_atomic_write_leaves_no_temp_and_replaces(tmp_path):
    path = tmp_path / "ck.npz"
    nc.save({"a": 1}, path)
    nc.save({"a": 2}, path)
    assert nc.load(path) == {"a": 2}
    assert os.listdir(tmp_path) == ["ck.npz"]          # no temporary files left behind
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask   # the usual mode, not 0600
    assert os.path.exists(str(path))                    # the exact name (no suffix added)
    # a failing save (unsupported object) leaves the old checkpoint intact and no temp file
    with pytest.raises(TypeError, match="cannot save"):
        nc.save({"a": object()}, path)
    assert nc.load(path) == {"a": 2} and os.listdir(tmp_path) == ["ck.npz"]


def test_truncated_and_corrupt_files_raise_naming_the_file(tmp_path):
    m = model()
    path = tmp_path / "good.npz"
    nc.save(m.state_dict(), path)
    data = path.read_bytes()
    for name, blob in [("trunc.npz", data[: len(data) // 2]), ("empty.npz", b""),
                       ("garbage.npz", b"not a zip at all" * 10),
                       ("flipped.npz", data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])]:
        bad = tmp_path / name
        bad.write_bytes(blob)
        with pytest.raises(CheckpointError) as e:
            nc.load(bad)
        assert name in str(e.value)
    assert issubclass(CheckpointError, RuntimeError)
    # an ordinary .npz without the structure entry is not a checkpoint
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(CheckpointError, match="plain.npz"):
        nc.load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        nc.load(tmp_path / "missing.npz")


def test_load_never_unpickles(tmp_path):
    # an object array (which would need pickle) inside an archive is refused
    path = tmp_path / "evil.npz"
    struct = json.dumps({"format": "npconv-checkpoint", "version": 1, "root": {"array": 0}})
    np.savez(path, a0=np.array([object()], dtype=object),
             __npconv__=np.frombuffer(struct.encode(), np.uint8))
    with pytest.raises(CheckpointError, match="evil.npz"):
        nc.load(path)
    with pytest.raises(TypeError):
        nc.save({"x": np.array([object()], dtype=object)}, tmp_path / "o.npz")


def _write_raw(path, root, **arrays):
    """A checkpoint with a hand-made structure entry (what a corrupt file could hold);
    ``root``: a JSON-able node or its JSON text."""
    text = root if isinstance(root, str) else json.dumps(root)
    struct = '{"format": "npconv-checkpoint", "version": 1, "root": %s}' % text
    np.savez(path, __npconv__=np.frombuffer(struct.encode(), np.uint8), **arrays)


@pytest.mark.parametrize("field, bit", [(8, 1), (10, 2)])
def test_corrupt_zip_directory_raises_checkpoint_error(tmp_path, field, bit):
    # the general-purpose flag's 'encrypted' bit (zipfile: RuntimeError) and the compression
    # method (zipfile: NotImplementedError) of a central-directory entry
    path = tmp_path / "good.npz"
    nc.save({"w": nc.tensor(np.arange(10.0))}, path)
    raw = bytearray(path.read_bytes())
    for cd in (raw.find(b"PK\x01\x02"), raw.rfind(b"PK\x01\x02")):   # first and last entry
        bad = bytearray(raw)
        bad[cd + field] ^= bit
        (tmp_path / "bad.npz").write_bytes(bytes(bad))
        with pytest.raises(CheckpointError, match="bad.npz") as e:
            nc.load(tmp_path / "bad.npz")
        assert isinstance(e.value.__cause__, RuntimeError)   # chained, NotImplementedError too


def test_corrupt_structure_raises_checkpoint_error(tmp_path):
    # nested 2000 deep: RecursionError, from json or from decoding
    _write_raw(tmp_path / "deep.npz", '{"list": [' * 2000 + "null" + "]}" * 2000)
    with pytest.raises(CheckpointError, match="deep.npz") as e:
        nc.load(tmp_path / "deep.npz")
    assert isinstance(e.value.__cause__, RecursionError)
    # a Parameter (requiring grad) over an int array: Tensor's RuntimeError unwrapped
    _write_raw(tmp_path / "intparam.npz", {"tensor": 0, "parameter": True,
                                           "requires_grad": True}, a0=np.arange(3))
    with pytest.raises(CheckpointError, match="intparam.npz.*int64"):
        nc.load(tmp_path / "intparam.npz")
    _write_raw(tmp_path / "ok.npz", {"tensor": 0, "parameter": True}, a0=np.arange(3))
    p = nc.load(tmp_path / "ok.npz")
    assert isinstance(p, nn.Parameter) and not p.requires_grad


def test_unavailable_map_location_is_not_blamed_on_the_file(tmp_path, monkeypatch):
    # a device error while placing arrays is no corruption: it is raised as it is
    nc.save({"w": nc.ones(2)}, tmp_path / "c.npz")

    def refuse(arr, device):
        raise RuntimeError("device %r is not available" % device)
    monkeypatch.setattr(nc.backend, "move_array", refuse)
    with pytest.raises(RuntimeError, match="not available") as e:
        nc.load(tmp_path / "c.npz", map_location="cuda")
    assert type(e.value) is RuntimeError


def test_file_is_a_plain_npz(tmp_path):
    nc.save({"w": np.ones(3, np.float32)}, tmp_path / "c")
    with zipfile.ZipFile(tmp_path / "c") as z:
        assert sorted(z.namelist()) == ["__npconv__.npy", "a0.npy"]
    with np.load(tmp_path / "c", allow_pickle=False) as z:
        assert z["a0"].tolist() == [1, 1, 1]


def test_file_objects(tmp_path):
    import io
    buf = io.BytesIO()
    nc.save({"k": [1, 2]}, buf)
    buf.seek(0)
    assert nc.load(buf) == {"k": [1, 2]}


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_leaves = (st.none() | st.booleans() | st.integers(-2 ** 80, 2 ** 80)
           | st.floats(allow_nan=False) | st.text(max_size=8)
           | hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_,
                                         np.float16]),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
_trees = st.recursive(_leaves, lambda c: st.lists(c, max_size=3)
                      | st.tuples(c, c)
                      | st.dictionaries(st.text(max_size=5) | st.integers(-5, 5), c, max_size=3),
                      max_leaves=12)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=_trees)
def test_round_trip_property(obj, tmp_path):
    nc.save({"root": obj}, tmp_path / "p.ck")
    assert _same(nc.load(tmp_path / "p.ck")["root"], obj)
