"""nn.ModuleDict, nn.ParameterList and nn.ParameterDict: PyTorch's semantics, written out
(the torch cross-checks at the end skip where torch is not installed)."""
import collections
import copy

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "reg": nn.Linear(2, 1, bias=False)})
        self.scales = nn.ParameterList([nc.ones(2), nn.Parameter(nc.zeros(1))])
        self.extra = nn.ParameterDict(collections.OrderedDict(
            [("w", nn.Parameter(nc.ones(3))), ("b", nc.zeros(2))]))


_KEYS = ["heads.cls.weight", "heads.cls.bias", "heads.reg.weight", "scales.0", "scales.1",
         "extra.w", "extra.b"]


# ---------------------------------------------------------------- ModuleDict
def test_module_dict_mapping_protocol():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Tanh()
    md = nn.ModuleDict({"b": b, "a": a})
    assert list(md) == ["b", "a"]                   # insertion order, not sorted
    assert list(md.keys()) == ["b", "a"]
    assert list(md.values()) == [b, a]
    assert list(md.items()) == [("b", b), ("a", a)]
    assert len(md) == 2 and "a" in md and "z" not in md
    assert md["a"] is a and md.a is a
    md["c"] = c
    assert list(md) == ["b", "a", "c"]
    md["b"] = c                                     # replacing keeps the position
    assert list(md) == ["b", "a", "c"] and md["b"] is c
    del md["a"]
    assert list(md) == ["b", "c"]
    assert md.pop("c") is c and list(md) == ["b"]
    with pytest.raises(KeyError):
        md["zz"]
    with pytest.raises(KeyError):
        md.pop("zz")
    with pytest.raises(KeyError):
        del md["zz"]
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []
    assert len(nn.ModuleDict()) == 0


def test_module_dict_update_forms():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    md = nn.ModuleDict([("x", a), ["y", b]])        # an iterable of pairs
    md.update(collections.OrderedDict([("z", c), ("x", b)]))
    assert list(md.items()) == [("x", b), ("y", b), ("z", c)]
    other = nn.ModuleDict({"w": a})
    md.update(other)
    assert list(md) == ["x", "y", "z", "w"] and md["w"] is a
    md.update((k, v) for k, v in [("v", c)])        # a generator of pairs
    assert list(md)[-1] == "v"


@pytest.mark.parametrize("arg, exc, msg", [
    (5, TypeError, "ModuleDict.update should be called with an iterable of key/value pairs, "
                   "but got int"),
    ([1], TypeError, "ModuleDict update sequence element #0 should be Iterable; isint"),
    ([("a",)], ValueError, "ModuleDict update sequence element #0 has length 1; 2 is required"),
    ([("a", nn.ReLU()), ("b", nn.ReLU(), 3)], ValueError,
     "ModuleDict update sequence element #1 has length 3; 2 is required"),
    ({1: nn.ReLU()}, TypeError, "module name should be a string. Got int"),
    ({"a": 3}, TypeError, "int is not a Module subclass"),
    ({"a.b": nn.ReLU()}, KeyError, "module name can't contain \".\", got: a.b"),
    ({"keys": nn.ReLU()}, KeyError, "attribute 'keys' already exists"),
])
def test_module_dict_errors(arg, exc, msg):
    md = nn.ModuleDict()
    with pytest.raises(exc) as e:
        md.update(arg)
    assert (e.value.args[0] if exc is KeyError else str(e.value)) == msg
    with pytest.raises(exc):
        nn.ModuleDict(arg)


def test_module_dict_setitem_errors():
    md = nn.ModuleDict()
    with pytest.raises(TypeError, match="^module name should be a string. Got int$"):
        md[1] = nn.ReLU()
    with pytest.raises(TypeError, match="^float is not a Module subclass$"):
        md["a"] = 1.5
    assert len(md) == 0
    with pytest.raises(NotImplementedError):
        md(nc.ones(1))


def test_module_dict_repr():
    md = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    assert repr(md) == ("ModuleDict(\n"
                        "  (a): Linear(in_features=2, out_features=3, bias=True)\n"
                        "  (b): ReLU()\n)")
    assert repr(nn.ModuleDict()) == "ModuleDict()"


# ---------------------------------------------------------------- all three in a model
def test_names_state_dict_and_round_trip():
    m = _Model()
    assert [n for n, _ in m.named_parameters()] == _KEYS
    assert list(m.state_dict()) == _KEYS
    assert [n for n, _ in m.named_modules()] == ["", "heads", "heads.cls", "heads.reg",
                                                "scales", "extra"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    src = _Model()
    for i, p in enumerate(src.parameters()):
        p.data[...] = np.arange(p.data.size, dtype=np.float32).reshape(p.shape) + 10 * i
    res = m.load_state_dict(src.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k1, v1), (k2, v2) in zip(m.state_dict().items(), src.state_dict().items()):
        assert k1 == k2 and np.array_equal(v1.numpy(), v2.numpy())
    sd = src.state_dict()
    del sd["extra.b"]
    sd["heads.nope.weight"] = nc.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key.*"extra.b".*\n.*Unexpected key.*'
                                           '"heads.nope.weight"'):
        m.load_state_dict(sd)
    clone = copy.deepcopy(m)
    assert list(clone.state_dict()) == _KEYS and len(clone.scales) == 2
    assert list(clone.extra) == ["w", "b"]


def test_optimizer_sees_container_parameters():
    m = _Model()
    opt = nc.optim.SGD(m.parameters(), lr=0.5)
    x = nc.ones(4, 2)
    loss = (m.heads["cls"](x).sum() + m.heads["reg"](x).sum() + (m.scales[0] * 2).sum()
            + (m.scales[-1] * 3).sum() + m.extra["w"].sum() + (m.extra["b"] * 4).sum())
    before = [p.detach().numpy().copy() for p in m.parameters()]
    opt.zero_grad()
    loss.backward()
    opt.step()
    after = [p.detach().numpy() for p in m.parameters()]
    # dloss/dp for the container-held parameters is a known constant
    np.testing.assert_allclose(after[3], before[3] - 0.5 * 2)
    np.testing.assert_allclose(after[4], before[4] - 0.5 * 3)
    np.testing.assert_allclose(after[5], before[5] - 0.5 * 1)
    np.testing.assert_allclose(after[6], before[6] - 0.5 * 4)
    np.testing.assert_allclose(after[1], before[1] - 0.5 * 4)     # cls bias: 4 rows
    assert len(opt.param_groups[0]["params"]) == 7


# ---------------------------------------------------------------- ParameterList
def test_parameter_list():
    p0 = nn.Parameter(nc.ones(2))
    t1 = nc.zeros(3, 4)
    pl = nn.ParameterList([p0, t1])
    assert len(pl) == 2 and pl[0] is p0
    assert type(pl[1]) is nn.Parameter and pl[1].requires_grad
    t1.data[0, 0] = 7                               # the Parameter shares the tensor's data
    assert pl[1].detach().numpy()[0, 0] == 7
    assert pl[-1] is pl[1] and pl[-2] is p0
    with pytest.raises(IndexError):
        pl[2]
    with pytest.raises(IndexError):
        pl[-3]
    with pytest.raises(TypeError):
        pl["a"]
    sl = pl[-1:]
    assert type(sl) is nn.ParameterList and len(sl) == 1 and sl[0] is pl[1]
    assert len(pl[5:]) == 0
    assert pl.append(nc.ones(1)) is pl and len(pl) == 3 and isinstance(pl[2], nn.Parameter)
    pl.extend([nc.ones(5)])
    pl += (nn.Parameter(nc.ones(6)),)
    assert [tuple(p.shape) for p in pl] == [(2,), (3, 4), (1,), (5,), (6,)]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3", "4"]
    pl.extend(pl)                                   # a snapshot: doubles it
    assert len(pl) == 10 and pl[9] is pl[4]
    assert len(list(pl.parameters())) == 5          # shared ones are listed once
    q = nn.Parameter(nc.ones(1))
    pl[0] = q
    assert pl[0] is q and list(pl.parameters())[0] is q
    for bad in (3, nc.ones(2)):
        with pytest.raises(TypeError, match="^ParameterList.extend should be called with an "
                                            "iterable, but got "):
            pl.extend(bad)
    with pytest.raises(TypeError, match="but got int$"):
        nn.ParameterList(3)
    assert len(nn.ParameterList()) == 0
    with pytest.raises(NotImplementedError):
        pl(nc.ones(1))


def test_parameter_list_repr():
    pl = nn.ParameterList([nn.Parameter(nc.ones(2)),
                           nn.Parameter(nc.zeros(3, 4, dtype=nc.float64))])
    assert repr(pl) == ("ParameterList(\n"
                        "    (0): Parameter containing: [npconv.float32 of size 2]\n"
                        "    (1): Parameter containing: [npconv.float64 of size 3x4]\n)")
    assert repr(pl[1:]) == ("ParameterList(  (0): Parameter containing: "
                            "[npconv.float64 of size 3x4])")
    assert repr(nn.ParameterList()) == "ParameterList()"


# ---------------------------------------------------------------- ParameterDict
def test_parameter_dict():
    w = nn.Parameter(nc.ones(2))
    pd = nn.ParameterDict({"w": w, "b": nc.zeros(3)})
    assert list(pd) == ["b", "w"]                   # a plain dict: sorted keys, as PyTorch
    assert pd["w"] is w and type(pd["b"]) is nn.Parameter and pd["b"].requires_grad
    assert list(pd.keys()) == ["b", "w"] and list(pd.values()) == [pd["b"], w]
    assert list(pd.items()) == [("b", pd["b"]), ("w", w)]
    assert len(pd) == 2 and "w" in pd and "z" not in pd
    assert [n for n, _ in pd.named_parameters()] == ["b", "w"]
    pd["a"] = nc.ones(1)                            # a new key goes last
    assert list(pd) == ["b", "w", "a"] and isinstance(pd["a"], nn.Parameter)
    q = nn.Parameter(nc.ones(4))
    pd["b"] = q                                     # replacing keeps the position
    assert list(pd) == ["b", "w", "a"] and pd["b"] is q
    assert list(pd.state_dict()) == ["b", "w", "a"]
    pd.update(collections.OrderedDict([("z", nc.ones(1)), ("c", nc.ones(1))]))
    assert list(pd) == ["b", "w", "a", "z", "c"]     # an OrderedDict keeps its order
    pd.update([("y", nc.ones(1))])
    pd.update(nn.ParameterDict({"c": w}))           # another ParameterDict, as a mapping
    assert pd["c"] is w
    assert list(pd)[-1] == "y"
    assert list(reversed(pd))[0] == "y"
    assert pd.pop("z").shape == (1,) and "z" not in pd and "z" not in dict(pd.named_parameters())
    del pd["c"]
    assert list(pd) == ["b", "w", "a", "y"]
    assert pd.get("w") is w and pd.get("nope") is None and pd.get("nope", 3) == 3
    s = pd.setdefault("s", nc.ones(2))
    assert isinstance(s, nn.Parameter) and pd["s"] is s and pd.setdefault("s", None) is s
    for bad in (lambda: pd["nope"], lambda: pd.pop("nope")):
        with pytest.raises(KeyError):
            bad()
    with pytest.raises(KeyError):
        del pd["nope"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == [] and list(pd.state_dict()) == []
    with pytest.raises(NotImplementedError):
        pd(nc.ones(1))


def test_parameter_dict_errors():
    pd = nn.ParameterDict()
    with pytest.raises(TypeError, match=r"^Index given to ParameterDict cannot be used as a "
                                        r"key as it is not a string \(type is 'int'\)\.$"):
        pd[1] = nc.ones(1)
    assert len(pd) == 0 and list(pd) == []          # a refused key is not left behind
    with pytest.raises(TypeError, match="^ParametersDict.update should be called with an "
                                        "iterable of key/value pairs, but got int$"):
        pd.update(5)
    with pytest.raises(TypeError, match="^ParameterDict update sequence element #0 should be "
                                        "Iterable; isint$"):
        pd.update([1])
    with pytest.raises(ValueError, match="^ParameterDict update sequence element #0 has "
                                         "length 1; 2 is required$"):
        pd.update([("a",)])
    with pytest.raises(KeyError, match="parameter name can"):
        pd["a.b"] = nc.ones(1)
    assert len(pd) == 0


def test_parameter_dict_repr():
    pd = nn.ParameterDict({"w": nc.ones(2), "b": nc.zeros(3, dtype=nc.float64)})
    assert repr(pd) == ("ParameterDict(\n"
                        "    (b): Parameter containing: [npconv.float64 of size 3]\n"
                        "    (w): Parameter containing: [npconv.float32 of size 2]\n)")
    assert repr(nn.ParameterDict()) == "ParameterDict()"
    m = nn.Module()
    m.pd = nn.ParameterDict({"x": nc.ones(1)})
    assert repr(m) == ("Module(\n  (pd): ParameterDict(  (x): Parameter containing: "
                       "[npconv.float32 of size 1])\n)")


# ---------------------------------------------------------------- torch cross-checks
def test_torch_state_dict_keys_and_load():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TModel(tnn.Module):
        def __init__(self):
            super().__init__()
            self.heads = tnn.ModuleDict({"cls": tnn.Linear(2, 3),
                                         "reg": tnn.Linear(2, 1, bias=False)})
            self.scales = tnn.ParameterList([torch.ones(2), tnn.Parameter(torch.zeros(1))])
            self.extra = tnn.ParameterDict(collections.OrderedDict(
                [("w", tnn.Parameter(torch.ones(3))), ("b", torch.zeros(2))]))

    t = TModel()
    m = _Model()
    assert list(t.state_dict()) == list(m.state_dict())
    assert [n for n, _ in t.named_parameters()] == [n for n, _ in m.named_parameters()]
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = np.random.RandomState(0).randn(4, 2).astype(np.float32)
    np.testing.assert_allclose(m.heads["cls"](nc.tensor(x)).detach().numpy(),
                               t.heads["cls"](torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_torch_orders_errors_and_reprs():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    spec = {"w": [1.0, 2.0], "b": [3.0], "a": [0.0, 0.0, 0.0]}
    tpd = tnn.ParameterDict({k: torch.tensor(v) for k, v in spec.items()})
    npd = nn.ParameterDict({k: nc.tensor(v) for k, v in spec.items()})
    assert list(tpd) == list(npd)
    tmd = tnn.ModuleDict({"z": tnn.ReLU(), "a": tnn.Tanh()})
    nmd = nn.ModuleDict({"z": nn.ReLU(), "a": nn.Tanh()})
    assert list(tmd) == list(nmd) and repr(tmd) == repr(nmd)
    assert repr(tnn.ModuleDict()) == repr(nn.ModuleDict())
    assert repr(tnn.ParameterList()) == repr(nn.ParameterList())
    assert repr(tnn.ParameterDict()) == repr(nn.ParameterDict())
    # the ParameterList repr differs only in the dtype's module name
    assert (repr(tnn.ParameterList([torch.ones(2, 3)])).replace("torch.", "npconv.")
            == repr(nn.ParameterList([nc.ones(2, 3)])))
    for bad in (5, [1], [("a",)], [("a", 1, 2)], {1: None}):
        errs = []
        for mod in (tnn, nn):
            try:
                mod.ModuleDict().update(bad)
            except Exception as e:          # noqa: BLE001 - comparing the errors
                errs.append((type(e), str(e)))
        assert len(errs) == 2 and errs[0] == errs[1], bad
