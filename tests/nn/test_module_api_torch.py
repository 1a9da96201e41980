"""The Module API cross-checked against torch.nn.Module: each scenario runs the same code on
both libraries and must give the same values, or the same exception type and message (with
"torch"/"npconv" in messages normalized). Skipped without torch."""
import collections
import re
import warnings

import pytest

torch = pytest.importorskip("torch")

import npconv as nc  # noqa: E402
import npconv.nn as nn  # noqa: E402

LIBS = {"torch": (torch, torch.nn), "npconv": (nc, nn)}


def _norm(text):
    """The text with the library's name made neutral, dtypes without the ``torch.`` prefix
    (npconv's are NumPy's), and npconv's longer IndexError text (it adds the length) cut to
    PyTorch's."""
    text = str(text).replace("torch.", "LIB.").replace("npconv.", "LIB.").replace(
        "torch ", "LIB ").replace("npconv ", "LIB ").replace("_IncompatibleKeys",
                                                             "IncompatibleKeys")
    text = re.sub(r"LIB\.(?=(float|int|uint|complex|bool)\d*\b)", "", text)
    return re.sub(r"(is out of range) for \w+ of length \d+", r"\1", text)


def _outcome(fn):
    try:
        return ("ok", _norm(repr(fn())))
    except Exception as e:          # the exception is the result being compared
        return (type(e).__name__, _norm(e.args[0] if e.args else ""))


def _both(scenario):
    """``scenario(lib, nn)`` -> list of outcomes, for each library."""
    return {name: scenario(*mods) for name, mods in LIBS.items()}


def _same(scenario):
    got = _both(scenario)
    assert got["npconv"] == got["torch"]
    return got["torch"]


def _net(lib, nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.zeros(2))
            self.register_buffer("b", lib.zeros(2))
            self.sub = nn.Linear(2, 2)
            self.plain = 5

        def forward(self, x):
            return x
    return Net()


def test_registration_errors_match():
    def scenario(lib, nn):
        net = _net(lib, nn)
        p = nn.Parameter(lib.ones(1))
        out = []
        for name in ("plain", "b", "sub", "forward", "w", "a.b", "", 1):
            out.append(_outcome(lambda: net.register_parameter(name, p)))
        for name in ("plain", "w", "sub", "b", "a.b", "", 1):
            out.append(_outcome(lambda: net.register_buffer(name, lib.ones(1))))
        for name in ("plain", "w", "b", "sub", "eval", "a.b", "", 1):
            out.append(_outcome(lambda: net.add_module(name, nn.ReLU())))
            out.append(_outcome(lambda: net.register_module(name, nn.ReLU())))
        out.append(_outcome(lambda: net.add_module("", 3)))
        out.append(_outcome(lambda: net.register_buffer("q", 3)))
        out.append(_outcome(lambda: setattr(net, "sub", 3)))
        out.append(_outcome(lambda: setattr(net, "w", 3)))
        out.append(list(net.state_dict()))
        out.append([n for n, _ in net.named_parameters()])
        return out
    res = _same(scenario)
    assert res[0] == ("KeyError", "attribute 'plain' already exists")
    assert res[-1] == ["w"]


def test_setattr_slots_and_moves_match():
    def scenario(lib, nn):
        net = _net(lib, nn)
        out = []
        net.w = None
        net.sub = None
        out.append((list(net.state_dict()), list(net._parameters), list(net._modules),
                    repr(net)))
        net.b = nn.Parameter(lib.ones(2))
        net.plain = nn.ReLU()
        net.t = lib.ones(1)
        out.append((list(net._parameters), list(net._buffers), list(net._modules),
                    "plain" in net.__dict__, "t" in net.__dict__))
        del net.plain
        out.append(_outcome(lambda: net.plain))
        out.append(_outcome(lambda: delattr(net, "nothere")))
        out.append([k for k in dir(net) if k in ("w", "b", "sub", "t", "training")])
        out.append([k for k in dir(nn.Sequential(nn.ReLU())) if k[0].isdigit()])
        return out
    _same(scenario)


def test_traversal_with_sharing_matches():
    def scenario(lib, nn):
        lin = nn.Linear(2, 2)
        seq = nn.Sequential(lin, nn.ReLU(), lin, nn.Sequential(lin, nn.BatchNorm1d(2)))
        seq.register_buffer("np", lib.zeros(1), persistent=False)
        return [
            [n for n, _ in seq.named_modules()],
            [n for n, _ in seq.named_modules(remove_duplicate=False)],
            [n for n, _ in seq.named_modules(prefix="p")],
            [n for n, _ in seq.named_children()],
            [n for n, _ in seq.named_parameters()],
            [n for n, _ in seq.named_parameters(prefix="m", remove_duplicate=False)],
            [n for n, _ in seq.named_parameters(recurse=False)],
            [n for n, _ in seq.named_buffers()],
            [n for n, _ in seq.named_buffers(remove_duplicate=False, recurse=False)],
            len(list(seq.parameters())), len(list(seq.buffers())), len(list(seq.modules())),
            list(seq.state_dict(prefix="z.")),
            [type(v).__name__ for v in seq.state_dict(keep_vars=True).values()],
            [type(m).__name__ for m in seq.children()],
        ]
    res = _same(scenario)
    assert res[0] == ["", "0", "1", "3", "3.1"]


def test_get_set_submodule_parameter_buffer_match():
    def scenario(lib, nn):
        net = nn.Sequential(collections.OrderedDict([
            ("a", nn.Linear(2, 2)), ("s", nn.Sequential(nn.BatchNorm1d(2)))]))
        out = [_outcome(lambda: type(net.get_submodule(t)).__name__)
               for t in ("", "s.0", "s.5", "a.weight", "a.in_features", "x.y")]
        out += [_outcome(lambda: tuple(net.get_parameter(t).shape))
                for t in ("a.weight", "s.0.bias", "a.nope", "a.in_features", "zz.weight",
                          "s.0.running_mean")]
        out += [_outcome(lambda: tuple(net.get_buffer(t).shape))
                for t in ("s.0.running_var", "s.0.weight", "s.0.x", "a.bias")]
        out += [_outcome(lambda: net.set_submodule(t, m, strict=st))
                for t, m, st in (("s.0", nn.ReLU(), False), ("s.act", nn.Tanh(), False),
                                 ("s.new", nn.ReLU(), True), ("a.weight", nn.ReLU(), False),
                                 ("", nn.ReLU(), False), ("a", 3, False),
                                 ("q.r", nn.ReLU(), False))]
        out.append([n for n, _ in net.named_modules()])
        return out
    _same(scenario)


def test_train_eval_requires_grad_zero_grad_match():
    def scenario(lib, nn):
        net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
        out = [_outcome(lambda: net.train(v)) for v in ("x", 1, None)]
        out.append(type(net.eval()).__name__)
        out.append([m.training for m in net.modules()])
        net[1].train()
        out.append([m.training for m in net.modules()])
        out.append(type(net.requires_grad_(False)).__name__)
        out.append([p.requires_grad for p in net.parameters()])
        net.requires_grad_()
        net(lib.ones(3, 2)).sum().backward()
        out.append([p.grad is None for p in net.parameters()])
        net.zero_grad()
        out.append([p.grad is None for p in net.parameters()])
        seen = []
        out.append(type(net.apply(lambda m: seen.append(type(m).__name__))).__name__)
        out.append(seen)
        return out
    _same(scenario)


def test_load_state_dict_results_and_messages_match():
    def scenario(lib, nn):
        s = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 3)))
        s.register_buffer("cache", lib.zeros(1), persistent=False)
        s.add_module("empty", None)
        sd = dict(s.state_dict())
        bad = dict(sd)
        bad.update({"1.0.extra": lib.zeros(1), "zzz": lib.zeros(1), "0.q": lib.zeros(1),
                    "cache": lib.zeros(1), "empty.weight": lib.zeros(1), "1": lib.zeros(1)})
        del bad["0.bias"]
        big = dict(sd)
        big["1.0.bias"] = lib.zeros(4)
        big["0.weight"] = lib.zeros(2, 3)
        del big["0.bias"]
        return [list(sd), _outcome(lambda: s.load_state_dict(bad, strict=False)),
                _outcome(lambda: s.load_state_dict(bad)),
                _outcome(lambda: s.load_state_dict(sd)),
                _outcome(lambda: str(s.load_state_dict(sd))),
                _outcome(lambda: s.load_state_dict(big)),
                _outcome(lambda: s.load_state_dict(big, strict=False)),
                _outcome(lambda: s.load_state_dict([1]))]
    res = _same(scenario)
    assert res[3] == ("ok", "<All keys matched successfully>")


def test_forward_hooks_match():
    def scenario(lib, nn):
        class Add(nn.Module):
            def forward(self, x, y=0, *, scale=1):
                return (x + y) * scale

        class Bad(nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Add()
        log = []
        x, y = lib.tensor(1.0), lib.tensor(2.0)
        hs = [m.register_forward_pre_hook(lambda mod, a: log.append(("pre1", len(a)))),
              m.register_forward_pre_hook(lambda mod, a, k: log.append(("pre2", sorted(k))),
                                          with_kwargs=True),
              m.register_forward_pre_hook(lambda mod, a: log.append("pre0"), prepend=True),
              m.register_forward_hook(lambda mod, a, o: log.append(("fwd", o.item()))),
              m.register_forward_hook(lambda mod, a, k, o: log.append(("fwdk", o.item())),
                                      with_kwargs=True),
              m.register_forward_hook(lambda mod, a, o: log.append("fwd0"), prepend=True)]
        log.append(m(x, y, scale=3).item())
        for h in hs + hs:
            h.remove()
        log.append(m(x, y).item())
        for hook, kw in ((lambda mod, a: a[0] * 10, {}),
                         (lambda mod, a: (a[0], lib.tensor(5.0)), {}),
                         (lambda mod, a, k: ((a[0],), {"scale": 7}), {"with_kwargs": True}),
                         (lambda mod, a, k: 5, {"with_kwargs": True})):
            with m.register_forward_pre_hook(hook, **kw):
                log.append(_outcome(lambda: m(x, y, scale=2).item()))
        with m.register_forward_hook(lambda mod, a, o: o * 0 - 1):
            log.append(m(x).item())
        log.append(m(x).item())
        b = Bad()
        b.register_forward_hook(lambda mod, a, o: log.append(("always", a, o)),
                                always_call=True)
        b.register_forward_hook(lambda mod, a, o: log.append("normal"))
        log.append(_outcome(lambda: b(3)))
        b2 = Bad()
        b2.register_forward_hook(lambda mod, a, o: 1 / 0, always_call=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            log.append(_outcome(lambda: b2(3)))
        log.append([str(x.message) for x in w])
        log.append(_outcome(lambda: nn.Module()(x)))
        return log
    _same(scenario)


def test_repr_matches():
    def scenario(lib, nn):
        class E(nn.Module):
            def extra_repr(self):
                return "a=1\n\nb=2"

        class F(nn.Module):
            def __init__(self):
                super().__init__()
                self.e = E()
                self.l = nn.Linear(1, 1)
                self.add_module("none", None)

            def extra_repr(self):
                return "top"

        return [repr(E()), repr(F()), repr(nn.Sequential()), repr(nn.ModuleList()),
                repr(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(),
                                    nn.Linear(2, 2)])),
                repr(nn.ModuleList([nn.Sequential(nn.ReLU(), nn.Tanh())] * 3)),
                repr(nn.Sequential(nn.ModuleList([nn.ReLU(), nn.ReLU()]), nn.Identity()))]
    _same(scenario)


def test_containers_match():
    def scenario(lib, nn):
        a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
        names = {id(a): "a", id(b): "b", id(c): "c", id(d): "d"}

        def state(s):
            return list(s._modules), [names.get(id(m), type(m).__name__) for m in s]
        out = []
        for i in (-1, -3, 0, 2, 3, 4, -4):
            out.append(_outcome(lambda: state(nn.Sequential(a, b, c).insert(i, d))))
        s = nn.Sequential(collections.OrderedDict([("x", a), ("y", b), ("z", c)]))
        out.append(state(s[1:]))
        out.append(state(s[::-1]))
        out.append(names[id(s[-1])])
        out += [_outcome(lambda: s[i]) for i in (3, -4, "0")]
        out.append(_outcome(lambda: s.__setitem__(0, 5)))
        s[0] = d
        out.append(state(s))
        del s[1]
        out.append(state(s))
        out.append(names[id(s.pop(0))])
        out.append(state(s))
        s.append(a).extend([b, c])
        out.append(state(s))
        del s[0:2]
        out.append((state(s), len(s)))
        out.append(_outcome(lambda: s.append(5)))
        out.append(_outcome(lambda: nn.Sequential(a, 5)))
        ml = nn.ModuleList([a, b, c])
        out.append(state(ml[1:]))
        out += [_outcome(lambda: ml[i]) for i in (3, -4, "0")]
        out += [_outcome(lambda: ml.__delitem__(i)) for i in (5, "0")]
        out += [_outcome(lambda: nn.ModuleList(5)), _outcome(lambda: ml.extend(5)),
                _outcome(lambda: nn.ModuleList([5]))]
        ml.insert(1, d)
        out.append(state(ml))
        out.append(names[id(ml.pop(-1))])
        del ml[0:2]
        out.append(state(ml))
        out.append(state(ml + [a, b]))
        ml += [a]
        out.append(state(ml))
        out.append(type(ml.append(b)).__name__)
        return out
    _same(scenario)


def test_to_dtype_matches():
    def scenario(lib, nn):
        bn = nn.BatchNorm1d(2)
        out = [_outcome(lambda: bn.to(lib.int64))]
        bn.double()
        out.append([_norm(t.dtype) for t in bn.state_dict().values()])
        bn.half()
        out.append([_norm(t.dtype) for t in bn.state_dict().values()])
        bn.to(lib.float32)
        out.append([_norm(t.dtype) for t in bn.state_dict().values()])
        return out
    _same(scenario)
