"""The Module API against PyTorch's behaviour, written out (runs without torch): attribute
registration and its errors, traversal with shared members, get_/set_submodule, state_dict
loading (key order, messages, the returned keys), forward hooks, repr, containers."""
import collections
import copy
import pickle
import warnings

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(nc.zeros(2))
        self.register_buffer("b", nc.zeros(2))
        self.sub = nn.Linear(2, 2)
        self.plain = 5

    def forward(self, x):
        return x


def _raises(exc, fn):
    with pytest.raises(exc) as e:
        fn()
    return e.value.args[0]


# ------------------------------------------------------------------ registration
def test_register_refuses_names_of_other_attributes_and_changes_nothing():
    net = Net()
    p = nn.Parameter(nc.ones(1))
    for name in ("plain", "b", "sub", "forward", "training"):
        assert _raises(KeyError, lambda: net.register_parameter(name, p)) == \
            "attribute '%s' already exists" % name
    for name in ("plain", "w", "sub", "state_dict"):
        assert _raises(KeyError, lambda: net.register_buffer(name, nc.ones(1))) == \
            "attribute '%s' already exists" % name
    for name in ("plain", "w", "b", "eval"):
        assert _raises(KeyError, lambda: net.add_module(name, nn.ReLU())) == \
            "attribute '%s' already exists" % name
        assert _raises(KeyError, lambda: net.register_module(name, nn.ReLU())) == \
            "attribute '%s' already exists" % name
    # these used to register "plain", "b" and "sub" as parameters as well
    assert list(net.state_dict()) == ["w", "b", "sub.weight", "sub.bias"]
    assert [n for n, _ in net.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert net.plain == 5 and "plain" in net.__dict__


def test_register_same_kind_again_replaces():
    net = Net()
    p = nn.Parameter(nc.ones(3))
    net.register_parameter("w", p)
    assert net.w is p
    t = nc.ones(4)
    net.register_buffer("b", t, persistent=False)
    assert net.b is t and "b" not in net.state_dict()
    net.register_buffer("b", t)                  # persistent again
    assert list(net.state_dict())[:2] == ["w", "b"]
    relu = nn.ReLU()
    net.add_module("sub", relu)
    assert net.sub is relu and list(net.state_dict()) == ["w", "b"]


def test_register_name_errors_word_for_word():
    net = Net()
    p = nn.Parameter(nc.ones(1))
    assert _raises(KeyError, lambda: net.register_parameter("a.b", p)) == \
        'parameter name can\'t contain "."'
    assert _raises(KeyError, lambda: net.register_parameter("", p)) == \
        'parameter name can\'t be empty string ""'
    assert _raises(TypeError, lambda: net.register_parameter(1, p)) == \
        "parameter name should be a string. Got int"
    assert _raises(TypeError, lambda: net.register_parameter("q", nc.ones(1))) == \
        "cannot assign 'npconv.Tensor' object to parameter 'q' (npconv.nn.Parameter or None " \
        "required)"
    assert _raises(KeyError, lambda: net.register_buffer("a.b", nc.ones(1))) == \
        'buffer name can\'t contain "."'
    assert _raises(KeyError, lambda: net.register_buffer("", nc.ones(1))) == \
        'buffer name can\'t be empty string ""'
    assert _raises(TypeError, lambda: net.register_buffer(None, nc.ones(1))) == \
        "buffer name should be a string. Got NoneType"
    assert _raises(TypeError, lambda: net.register_buffer("q", np.ones(1))) == \
        "cannot assign 'numpy.ndarray' object to buffer 'q' (npconv Tensor or None required)"
    assert _raises(KeyError, lambda: net.add_module("a.b", nn.ReLU())) == \
        'module name can\'t contain ".", got: a.b'
    assert _raises(KeyError, lambda: net.add_module("", nn.ReLU())) == \
        'module name can\'t be empty string ""'
    assert _raises(TypeError, lambda: net.add_module(1, nn.ReLU())) == \
        "module name should be a string. Got int"
    assert _raises(TypeError, lambda: net.add_module("q", 3)) == "int is not a Module subclass"
    # the module's type is checked before its name, as PyTorch
    assert _raises(TypeError, lambda: net.add_module("", [])) == "list is not a Module subclass"
    assert list(net.state_dict()) == ["w", "b", "sub.weight", "sub.bias"]


def test_setattr_type_errors_and_none_slots():
    net = Net()
    assert _raises(TypeError, lambda: setattr(net, "w", nc.ones(2))) == \
        "cannot assign 'npconv.Tensor' as parameter 'w' (npconv.nn.Parameter or None expected)"
    assert _raises(TypeError, lambda: setattr(net, "sub", 3)) == \
        "cannot assign 'int' as child module 'sub' (npconv.nn.Module or None expected)"
    assert _raises(TypeError, lambda: setattr(net, "b", 3.0)) == \
        "cannot assign 'float' as buffer 'b' (npconv Tensor or None expected)"
    net.w = None            # the slot stays, empty: not listed, not saved
    net.sub = None
    net.b = None
    assert net.w is None and net.sub is None and net.b is None
    assert "w" in net._parameters and "sub" in net._modules and "b" in net._buffers
    assert list(net.state_dict()) == [] and list(net.parameters()) == []
    assert repr(net) == "Net(\n  (sub): None\n)"
    net.w = nn.Parameter(nc.ones(1))             # and can be filled again
    assert list(net.state_dict()) == ["w"]


def test_setattr_moves_a_name_between_kinds():
    net = Net()
    net.b = nn.Parameter(nc.ones(2))                 # a Parameter replaces a buffer
    assert list(net._parameters) == ["w", "b"] and "b" not in net._buffers
    net.sub = nn.Parameter(nc.ones(1))               # ... and a module
    assert "sub" not in net._modules and list(net._parameters) == ["w", "b", "sub"]
    net.plain = nn.ReLU()                            # a module replaces a plain attribute
    assert "plain" not in net.__dict__ and net._modules["plain"] is net.plain
    net.t = nc.ones(3)                               # a plain Tensor is not registered
    assert "t" in net.__dict__ and "t" not in net._buffers
    assert list(net.state_dict()) == ["w", "b", "sub"]
    bare = nn.Module.__new__(nn.Module)
    assert _raises(AttributeError, lambda: setattr(bare, "w", nn.Parameter(nc.ones(1)))) == \
        "cannot assign parameters before Module.__init__() call"
    assert _raises(AttributeError, lambda: setattr(bare, "m", nn.ReLU())) == \
        "cannot assign module before Module.__init__() call"
    assert _raises(AttributeError, lambda: bare.register_buffer("x", None)) == \
        "cannot assign buffer before Module.__init__() call"
    assert _raises(AttributeError, lambda: bare.register_parameter("x", None)) == \
        "cannot assign parameter before Module.__init__() call"


def test_delattr_and_getattr():
    net = Net()
    net.register_buffer("np_buf", nc.ones(1), persistent=False)
    del net.np_buf
    assert "np_buf" not in net._non_persistent_buffers
    net.register_buffer("np_buf", nc.ones(1))        # re-registered: persistent by default
    assert "np_buf" in net.state_dict()
    del net.w, net.sub, net.b, net.plain
    assert list(net.state_dict()) == ["np_buf"]
    assert _raises(AttributeError, lambda: net.w) == "'Net' object has no attribute 'w'"
    with pytest.raises(AttributeError, match="nothere"):
        del net.nothere


def test_dir_lists_members_but_not_numeric_names():
    seq = nn.Sequential(nn.Linear(2, 2))
    d = dir(seq)
    assert "0" not in d and "forward" in d and "training" in d and d == sorted(d)
    d = dir(Net())
    assert {"w", "b", "sub", "plain", "state_dict"} <= set(d)
    assert "0" not in dir(nn.ModuleList([nn.ReLU()]))


# ------------------------------------------------------------------ traversal
def test_shared_modules_and_parameters_listed_once_unless_asked():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in seq.named_modules(prefix="p")] == ["p", "p.0", "p.1"]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in seq.named_parameters(prefix="m")] == ["m.0.weight", "m.0.bias"]
    assert list(seq.parameters(False)) == []
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(nc.ones(1))
            self.q = self.p

    t = Tied()
    assert [n for n, _ in t.named_parameters()] == ["p"]
    assert [n for n, _ in t.named_parameters(remove_duplicate=False)] == ["p", "q"]
    assert list(t.state_dict()) == ["p", "q"]            # under each name, as PyTorch


def test_get_submodule_parameter_buffer_and_set_submodule():
    net = nn.Sequential(collections.OrderedDict([
        ("a", nn.Linear(2, 2)), ("s", nn.Sequential(nn.BatchNorm1d(2)))]))
    assert net.get_submodule("") is net and net.get_submodule("s.0") is net.s[0]
    assert _raises(AttributeError, lambda: net.get_submodule("s.5")) == \
        "Sequential has no attribute `5`"
    assert _raises(AttributeError, lambda: net.get_submodule("a.weight")) == \
        "`weight` is not an nn.Module"
    assert _raises(AttributeError, lambda: net.get_submodule("a.in_features")) == \
        "`in_features` is not an nn.Module"
    assert net.get_parameter("a.weight") is net.a.weight
    assert net.get_parameter("s.0.bias") is net.s[0].bias
    assert _raises(AttributeError, lambda: net.get_parameter("a.nope")) == \
        "Linear has no attribute `nope`"
    assert _raises(AttributeError, lambda: net.get_parameter("a.in_features")) == \
        "`in_features` is not an nn.Parameter"
    assert _raises(AttributeError, lambda: net.get_parameter("zz.weight")) == \
        "Sequential has no attribute `zz`"
    assert net.get_buffer("s.0.running_var") is net.s[0].running_var
    assert _raises(AttributeError, lambda: net.get_buffer("s.0.weight")) == \
        "`weight` is not a buffer"
    assert _raises(AttributeError, lambda: net.get_buffer("s.0.x")) == \
        "BatchNorm1d has no attribute `x`"
    relu = nn.ReLU()
    net.set_submodule("s.0", relu)
    assert net.s[0] is relu
    net.set_submodule("s.act", nn.Tanh())               # not strict: added to the parent
    assert [n for n, _ in net.s.named_children()] == ["0", "act"]
    assert _raises(AttributeError, lambda: net.set_submodule("s.new", relu, strict=True)) == \
        "Sequential has no attribute `new`"
    assert _raises(AttributeError, lambda: net.set_submodule("a.weight", relu)) == \
        "`weight` is not an nn.Module"
    assert _raises(ValueError, lambda: net.set_submodule("", relu)) == \
        "Cannot set the submodule without a target name!"
    assert _raises(ValueError, lambda: net.set_submodule("a", 3)) == \
        "`module` is not an nn.Module, found <class 'int'>"


def test_train_mode_must_be_bool():
    net = nn.Linear(1, 1)
    for bad in ("x", 1, None):
        assert _raises(ValueError, lambda: net.train(bad)) == \
            "training mode is expected to be boolean"
    assert net.training


# ------------------------------------------------------------------ state
def test_load_state_dict_key_order_repr_and_messages():
    s = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 3)))
    sd = dict(s.state_dict())
    bad = dict(sd)
    bad["1.0.extra"] = nc.zeros(1)
    bad["zzz"] = nc.zeros(1)
    bad["0.q"] = nc.zeros(1)
    del bad["0.bias"]
    # unexpected keys module by module (self first), as PyTorch: not the dict's order
    res = s.load_state_dict(bad, strict=False)
    assert res == (["0.bias"], ["zzz", "0.q", "1.0.extra"])
    assert res.missing_keys == ["0.bias"] and res.unexpected_keys == ["zzz", "0.q", "1.0.extra"]
    assert repr(res) == ("IncompatibleKeys(missing_keys=['0.bias'], "
                         "unexpected_keys=['zzz', '0.q', '1.0.extra'])")
    ok = s.load_state_dict(sd)
    assert repr(ok) == str(ok) == "<All keys matched successfully>"
    assert _raises(RuntimeError, lambda: s.load_state_dict(bad)) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "0.bias". \n'
        '\tUnexpected key(s) in state_dict: "zzz", "0.q", "1.0.extra". ')
    big = dict(sd)
    big["0.weight"] = nc.zeros(3, 3)
    assert _raises(RuntimeError, lambda: s.load_state_dict(big)) == (
        "Error(s) in loading state_dict for Sequential:\n"
        "\tsize mismatch for 0.weight: copying a param with shape npconv.Size([3, 3]) from "
        "checkpoint, the shape in current model is npconv.Size([2, 2]).")
    assert _raises(TypeError, lambda: s.load_state_dict([1])) == \
        "Expected state_dict to be dict-like, got <class 'list'>."


def test_load_state_dict_unexpected_under_empty_slot_and_non_persistent():
    class N(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("down", None)
            self.l = nn.Linear(1, 1)
            self.register_buffer("cache", nc.zeros(1), persistent=False)

    n = N()
    sd = dict(n.state_dict())
    assert list(sd) == ["l.weight", "l.bias"]
    # PyTorch does not look under a child slot holding None; a non-persistent buffer's name
    # is unexpected (it is not part of the state)
    sd.update({"down.weight": nc.zeros(1), "l.foo.bar": nc.zeros(1), "cache": nc.zeros(1)})
    assert n.load_state_dict(sd, strict=False) == ([], ["cache", "l.foo.bar"])


# ------------------------------------------------------------------ hooks
class Add(nn.Module):
    def forward(self, x, y=0, *, scale=1):
        return (x + y) * scale


def test_hook_order_prepend_and_kwargs():
    m = Add()
    log = []
    m.register_forward_pre_hook(lambda mod, a: log.append(("pre1", len(a))))
    m.register_forward_pre_hook(lambda mod, a, k: log.append(("pre2", dict(k))),
                                with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, a: log.append(("pre0",)), prepend=True)
    m.register_forward_hook(lambda mod, a, o: log.append(("fwd", o.item())))
    m.register_forward_hook(lambda mod, a, k, o: log.append(("fwdk", dict(k), o.item())),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, a, o: log.append(("fwd0",)), prepend=True)
    assert m(nc.tensor(1.0), nc.tensor(2.0), scale=3).item() == 9.0
    assert log == [("pre0",), ("pre1", 2), ("pre2", {"scale": 3}), ("fwd0",), ("fwd", 9.0),
                   ("fwdk", {"scale": 3}, 9.0)]


def test_hooks_replace_inputs_and_outputs():
    m = Add()
    x, y = nc.tensor(1.0), nc.tensor(2.0)
    with m.register_forward_pre_hook(lambda mod, a: a[0] * 10):      # one value: wrapped
        assert m(x, y).item() == 10.0
    with m.register_forward_pre_hook(lambda mod, a: (a[0], nc.tensor(5.0))):
        assert m(x, y).item() == 6.0
    with m.register_forward_pre_hook(lambda mod, a, k: ((a[0],), {"scale": 7}),
                                     with_kwargs=True):
        assert m(x, scale=2).item() == 7.0
    with m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True):
        assert _raises(RuntimeError, lambda: m(x)) == \
            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got 5."
    seen = []
    with m.register_forward_pre_hook(lambda mod, a: (a[0] * 2,)):
        with m.register_forward_hook(lambda mod, a, o: seen.append(a[0].item()) or o * 0 - 1):
            assert m(x).item() == -1.0
    assert seen == [2.0]                 # forward hooks see the inputs forward got
    assert m(x, y).item() == 3.0         # every hook gone with its context


def test_hook_handle_remove_cleans_flags_and_is_idempotent():
    m = Add()
    hs = [m.register_forward_pre_hook(print, with_kwargs=True),
          m.register_forward_hook(print, with_kwargs=True, always_call=True)]
    assert hs[0].id < hs[1].id
    for h in hs + hs:
        h.remove()
    assert not (m._forward_hooks or m._forward_pre_hooks or m._forward_hooks_with_kwargs
                or m._forward_pre_hooks_with_kwargs or m._forward_hooks_always_called)


def test_always_call_hook_runs_when_forward_raises():
    class Bad(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    b = Bad()
    seen = []
    b.register_forward_hook(lambda mod, a, o: seen.append(("always", a, o)), always_call=True)
    b.register_forward_hook(lambda mod, a, o: seen.append(("normal", o)))
    assert _raises(ValueError, lambda: b(3)) == "boom"
    assert seen == [("always", (3,), None)]
    b2 = Bad()
    b2.register_forward_hook(lambda mod, a, o: 1 / 0, always_call=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert _raises(ValueError, lambda: b2(3)) == "boom"
    assert [str(x.message) for x in w] == [
        "module forward hook with ``always_call=True`` raised an exception that was "
        "silenced as another error was raised in forward: division by zero"]
    # an always_call hook that already ran is not run again when a later hook raises
    m = Add()
    calls = []
    m.register_forward_hook(lambda mod, a, o: calls.append(o.item()), always_call=True)
    m.register_forward_hook(lambda mod, a, o: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        m(nc.tensor(1.0))
    assert calls == [1.0]


def test_hooks_survive_deepcopy_and_old_pickles_get_flag_dicts():
    m = Add()
    m.register_forward_hook(lambda mod, a, o: o * 2)
    c = copy.deepcopy(m)
    assert c(nc.tensor(1.0)).item() == 2.0
    plain = nn.Linear(2, 2)
    state = pickle.loads(pickle.dumps(plain)).__dict__.copy()
    for k in ("_forward_hooks_with_kwargs", "_forward_hooks_always_called",
              "_forward_pre_hooks_with_kwargs"):
        del state[k]                        # as pickled before these existed
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    old.register_forward_hook(lambda mod, a, k, o: o * 0, with_kwargs=True)
    assert np.all(old(nc.ones(1, 2)).detach().numpy() == 0)


# ------------------------------------------------------------------ repr, to
def test_repr_indents_nested_and_keeps_blank_lines_empty():
    class E(nn.Module):
        def extra_repr(self):
            return "a=1\n\nb=2"

    class F(nn.Module):
        def __init__(self):
            super().__init__()
            self.e = E()
            self.l = nn.Linear(1, 1)

        def extra_repr(self):
            return "top"

    assert repr(E()) == "E(\n  a=1\n  \n  b=2\n)"        # PyTorch's own lines: joined as is
    assert repr(F()) == ("F(\n  top\n  (e): E(\n    a=1\n\n    b=2\n  )\n"
                         "  (l): Linear(in_features=1, out_features=1, bias=True)\n)")


def test_modulelist_repr_collapses_repeats():
    lin = "Linear(in_features=2, out_features=2, bias=True)"
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    assert repr(ml) == ("ModuleList(\n  (0-1): 2 x %s\n  (2): ReLU()\n  (3): %s\n)"
                        % (lin, lin))
    nested = nn.ModuleList([nn.Sequential(nn.ReLU())] * 3)
    assert repr(nested) == "ModuleList(\n  (0-2): 3 x Sequential(\n    (0): ReLU()\n  )\n)"
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_to_dtype_rules():
    bn = nn.BatchNorm1d(2)
    assert _raises(TypeError, lambda: bn.to(np.int64)) == \
        "nn.Module.to only accepts floating point or complex dtypes, but got desired " \
        "dtype=int64"
    bn.to(np.complex128)
    assert bn.weight.dtype == np.complex128 and bn.running_mean.dtype == np.complex128
    assert bn.num_batches_tracked.dtype == np.int64
    bn = nn.BatchNorm1d(2).half()
    assert bn.weight.dtype == np.float16 and bn.num_batches_tracked.dtype == np.int64


# ------------------------------------------------------------------ containers
def test_sequential_insert_negative_index_like_list_insert():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    assert list(nn.Sequential(a, b, c).insert(-1, d)) == [a, b, d, c]
    assert list(nn.Sequential(a, b, c).insert(-3, d)) == [d, a, b, c]
    assert list(nn.Sequential(a, b, c).insert(3, d)) == [a, b, c, d]
    s = nn.Sequential(a, b, c).insert(1, d)
    assert list(s._modules) == ["0", "1", "2", "3"] and list(s) == [a, d, b, c]
    for i in (4, -4):
        assert _raises(IndexError, lambda: nn.Sequential(a, b, c).insert(i, d)) == \
            "Index out of range: %d" % i


def test_modulelist_errors_and_insert():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    for bad in (lambda: nn.ModuleList(5), lambda: nn.ModuleList([a]).extend(5)):
        assert _raises(TypeError, bad) == \
            "ModuleList.extend should be called with an iterable, but got int"
    assert _raises(TypeError, lambda: nn.ModuleList([5])) == "int is not a Module subclass"
    ml = nn.ModuleList([a])
    assert _raises(IndexError, lambda: ml.__delitem__(5)).startswith("index 5 is out of range")
    with pytest.raises(TypeError):
        del ml["0"]
    assert list(ml) == [a]
    ml = nn.ModuleList([a, b])
    ml.insert(-1, c)                        # PyTorch raises KeyError('-1') here
    assert list(ml) == [a, c, b] and list(ml._modules) == ["0", "1", "2"]
    ml.insert(0, c)
    assert list(ml) == [c, a, c, b]
    del ml[1:3]
    assert list(ml) == [c, b] and list(ml._modules) == ["0", "1"]
    assert ml.extend([a]) is ml and ml.append(a) is ml and len(ml) == 4
