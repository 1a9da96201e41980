"""Module, Parameter, containers: registration, traversal, modes, state_dict, repr."""
import collections

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, 3)
        self.register_buffer("scale", nc.ones(3))
        self.register_buffer("cache", nc.zeros(2), persistent=False)
        self.alpha = nn.Parameter(nc.zeros(1))
        self.plain = 5

    def forward(self, x):
        return self.head(self.features(x)) * self.scale + self.alpha


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["alpha", "features.0.weight", "features.0.bias", "features.1.weight",
                     "features.1.bias", "head.weight", "head.bias"]
    assert len(list(net.parameters())) == 7
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "scale", "cache", "features.1.running_mean", "features.1.running_var",
        "features.1.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["features", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "features", "features.0", "features.1",
                                                   "features.2", "head"]
    assert len(list(net.modules())) == 6
    assert list(net.children())[1] is net.head
    assert net.plain == 5 and "plain" not in net._parameters
    assert len(list(net.parameters(recurse=False))) == 1
    with pytest.raises(AttributeError, match="nope"):
        net.nope


def test_reassignment_and_deletion():
    net = Net()
    net.head = nn.Linear(8, 5)
    assert net.head.out_features == 5
    net.alpha = None                       # a declared-but-absent parameter
    assert "alpha" not in dict(net.named_parameters())
    with pytest.raises(TypeError):
        net.head = 3
    with pytest.raises(TypeError):
        net.scale = 3.0
    del net.head
    assert "head" not in dict(net.named_children())
    with pytest.raises(AttributeError):
        nn.Module.__new__(nn.Module).__setattr__("w", nn.Parameter(nc.zeros(1)))


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_state_dict_keys_order_and_sharing():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["alpha", "scale", "features.0.weight", "features.0.bias",
                        "features.1.weight", "features.1.bias", "features.1.running_mean",
                        "features.1.running_var", "features.1.num_batches_tracked",
                        "head.weight", "head.bias"]
    assert isinstance(sd, collections.OrderedDict)
    assert not sd["head.weight"].requires_grad
    assert sd["head.weight"].data is net.head.weight.data      # shares memory, like PyTorch
    assert sd["features.1.num_batches_tracked"].dtype == np.int64
    assert sd["features.1.num_batches_tracked"].shape == ()
    kept = net.state_dict(keep_vars=True)
    assert kept["head.weight"] is net.head.weight


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.train()
    a(nc.randn(6, 4))                       # moves the running stats
    assert not np.allclose(a.features[1].running_mean.numpy(), 0)
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert va.data.dtype == vb.data.dtype
        np.testing.assert_array_equal(va.data, vb.data, err_msg=k)
        assert va.data is not vb.data
    x = nc.randn(3, 4)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_keeps_parameter_identity_and_accepts_arrays():
    net = nn.Linear(3, 2)
    w = net.weight
    net.load_state_dict({"weight": np.ones((2, 3)), "bias": [1.0, 2.0]})
    assert net.weight is w and w.dtype == np.float32
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(net.bias.detach().numpy(), [1, 2])


def test_strict_loading_errors_name_keys_and_shapes():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    sd = {k: v for k, v in net.state_dict().items() if k != "2.bias"}
    sd["extra.weight"] = nc.zeros(1)
    sd["0.weight"] = nc.zeros(5, 5)
    before = net[0].bias.detach().numpy().copy()
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert 'Missing key(s) in state_dict: "2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for 0.weight" in msg and "[5, 5]" in msg and "[2, 3]" in msg
    # nothing was copied when loading failed
    np.testing.assert_array_equal(net[0].bias.detach().numpy(), before)
    # non-strict: missing/unexpected are reported, shapes are still checked
    del sd["0.weight"]
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["0.weight", "2.bias"]
    assert res.unexpected_keys == ["extra.weight"]
    sd["0.weight"] = nc.zeros(5, 5)
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError):
        net.load_state_dict([1, 2])


def test_load_state_dict_assign_replaces_like_pytorch():
    # PyTorch 2.x: assign=True puts the state dict's tensors in place (their dtype, shared
    # memory) instead of copying; parameters keep the module's requires_grad
    net = nn.Linear(2, 3)
    net.bias.requires_grad_(False)
    old_w = net.weight
    sd = {"weight": nc.ones(3, 2).double(), "bias": np.zeros(3)}
    assert net.load_state_dict(sd, assign=True) == ([], [])
    assert isinstance(net.weight, nn.Parameter) and net.weight is not old_w
    assert net.weight.dtype == np.float64 and net.weight.data is sd["weight"].data
    assert net.weight.requires_grad and not net.bias.requires_grad
    assert isinstance(net.bias, nn.Parameter) and net.bias.data is sd["bias"]
    assert [p for p in net.parameters()] == [net.weight, net.bias]
    # a Parameter is used as is, with the module's requires_grad (PyTorch sets it)
    p = nn.Parameter(nc.ones(3))
    net.load_state_dict({"weight": nc.ones(3, 2), "bias": p}, assign=True)
    assert net.bias is p and not p.requires_grad
    # buffers become the given Tensor; a PyTorch < 0.4 style (1,) entry becomes 0-d
    bn = nn.BatchNorm1d(3)
    mean = nc.full((3,), 7.0)
    bn.load_state_dict({"weight": nc.ones(3), "bias": nc.zeros(3), "running_mean": mean,
                        "running_var": nc.ones(3), "num_batches_tracked": np.array([4])},
                       assign=True)
    assert bn.running_mean is mean and bn.num_batches_tracked.shape == ()
    assert bn.num_batches_tracked.item() == 4
    # the default still copies in place
    w = net.weight
    net.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(3)})
    assert net.weight is w


def test_load_state_dict_assign_errors_before_replacing_anything():
    net = nn.Sequential(nn.Linear(2, 3))
    w, b = net[0].weight, net[0].bias
    p = nn.Parameter(nc.zeros(3))
    with pytest.raises(RuntimeError) as e:   # integers cannot require grad (as PyTorch)
        net.load_state_dict({"0.weight": np.ones((3, 2), np.int64), "0.bias": p},
                            assign=True)
    assert ('While copying the parameter named "0.weight", whose dimensions in the model are '
            "npconv.Size([3, 2]) and whose dimensions in the checkpoint are "
            "npconv.Size([3, 2]), an exception occurred") in str(e.value)
    assert net[0].weight is w and net[0].bias is b and p.requires_grad
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.bias.*\[4\].*\[3\]"):
        net.load_state_dict({"0.weight": nc.ones(3, 2), "0.bias": nc.ones(4)}, assign=True)
    assert net[0].weight is w
    res = net.load_state_dict({"0.bias": nc.ones(3)}, strict=False, assign=True)
    assert res.missing_keys == ["0.weight"] and net[0].weight is w and net[0].bias is not b


def test_train_eval_flags():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.features.eval()
    assert net.training and not net.features[0].training
    with pytest.raises(ValueError):
        net.train("yes")


def test_train_goes_through_each_childs_train():
    # as PyTorch: train(mode) recurses via the children's own train, so overrides hold
    class FrozenBN(nn.BatchNorm1d):
        def train(self, mode=True):
            return super().train(False)

    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(FrozenBN(2), nn.ReLU()))
    assert net.train() is net
    assert net.training and net[0].training and net[1].training and net[1][1].training
    assert not net[1][0].training
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert not net[1][0].training


def test_zero_grad_and_requires_grad():
    net = nn.Linear(3, 2)
    net(nc.randn(4, 3)).sum().backward()
    g = net.weight.grad
    assert g is not None
    net.zero_grad(set_to_none=False)
    assert np.all(net.weight.grad.numpy() == 0) and net.weight.grad is not g
    assert np.any(g.numpy() != 0)            # the old gradient array was not written into
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_and_dtype_moves():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Sequential", "Linear", "Net"]
    w = net.head.weight
    net.double()
    assert net.head.weight is w and w.dtype == np.float64
    assert net.features[1].running_mean.dtype == np.float64
    assert net.features[1].num_batches_tracked.dtype == np.int64   # ints are not cast
    assert net(nc.randn(3, 4).double()).dtype == np.float64
    net.to(np.float32)
    assert w.dtype == np.float32
    net.to("cpu")
    with pytest.raises(TypeError):
        net.to(np.int64)


def test_apply_hook_point_maps_params_grads_buffers():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    net(nc.randn(3, 2)).sum().backward()
    calls = []

    def fn(a):
        calls.append(a.shape)
        return a.copy()
    net._apply(fn)
    # 2 linear params + 2 grads, 2 bn params + 2 grads, 3 buffers
    assert len(calls) == 11


def test_forward_hooks():
    lin = nn.Linear(2, 3)
    shapes = []
    h = lin.register_forward_hook(lambda m, i, o: shapes.append(o.shape))
    lin(nc.randn(4, 2))
    h.remove()
    lin(nc.randn(4, 2))
    assert shapes == [(4, 3)]


def test_repr_like_pytorch():
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(8 * 14 * 14, 10, bias=False))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=1568, out_features=10, bias=False)\n"
        ")")
    # PyTorch 2.13's format (it shows the keyword-only ``bias``)
    assert repr(nn.BatchNorm2d(4)) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    inner = repr(nn.Sequential(nn.Sequential(nn.Identity())))
    assert inner == "Sequential(\n  (0): Sequential(\n    (0): Identity()\n  )\n)"
    assert repr(nn.Parameter(nc.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_parameter():
    p = nn.Parameter(nc.zeros(2, 3))
    assert p.requires_grad and p.is_leaf and isinstance(p, nc.Tensor)
    q = nn.Parameter(np.ones(3, np.float32), requires_grad=False)
    assert not q.requires_grad
    y = p * 2
    assert type(y) is nc.Tensor


def test_sequential_indexing_slicing_len_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4
    assert list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[3]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert list(sub.state_dict()) == ["2.weight", "2.bias"]     # names kept, as PyTorch
    with pytest.raises(IndexError):
        seq[4]
    seq.append(nn.Sigmoid())
    assert len(seq) == 5 and isinstance(seq[4], nn.Sigmoid)
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Tanh", "Sigmoid"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    seq[3] = nn.Identity()
    assert isinstance(seq[3], nn.Identity)
    named = nn.Sequential(collections.OrderedDict([("fc", nn.Linear(2, 2)),
                                                   ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named(nc.randn(5, 2)).shape == (5, 2)


def test_sequential_del_and_pop_renumber_like_pytorch():
    a, b, c = nn.ReLU(), nn.Linear(2, 2), nn.Tanh()
    named = nn.Sequential(collections.OrderedDict([("a", a), ("fc", b), ("c", c)]))
    del named[0]
    assert list(named._modules) == ["0", "1"] and list(named) == [b, c]
    assert list(named.state_dict()) == ["0.weight", "0.bias"]
    seq = nn.Sequential(a, b, c)
    assert seq.pop(-1) is c and list(seq._modules) == ["0", "1"] and list(seq) == [a, b]
    assert seq.pop(0) is a and list(seq._modules) == ["0"] and seq[0] is b
    with pytest.raises(IndexError):
        seq.pop(3)
    seq = nn.Sequential(a, b, c)
    head = seq.pop(slice(0, 2))
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert list(seq._modules) == ["0"] and seq[0] is c


def test_sequential_add_mul_like_pytorch():
    a, b, c = nn.ReLU(), nn.Linear(2, 2), nn.Tanh()
    seq = nn.Sequential(a, b)
    named = nn.Sequential(collections.OrderedDict([("act", a), ("fc", b)]))
    both = named + nn.Sequential(c)             # a new Sequential, renumbered 0, 1, ...
    assert isinstance(both, nn.Sequential) and both is not named
    assert list(both._modules) == ["0", "1", "2"] and list(both) == [a, b, c]
    assert list(named) == [a, b]
    # repeating shares the modules (PyTorch does not copy them): one set of parameters
    for rep in (seq * 3, 3 * seq):
        assert list(rep._modules) == ["0", "1", "2", "3", "4", "5"]
        assert list(rep) == [a, b] * 3 and len(list(rep.parameters())) == 2
    assert list(seq) == [a, b]
    x = nc.randn(4, 2)
    with nc.no_grad():
        np.testing.assert_allclose((seq * 2)(x).numpy(), seq(seq(x)).numpy())
    # in place: the same object; += takes a snapshot, so seq += seq doubles it
    same = seq
    seq += nn.Sequential(c)
    assert seq is same and list(seq._modules) == ["0", "1", "2"] and list(seq) == [a, b, c]
    seq *= 2
    assert seq is same and list(seq) == [a, b, c] * 2
    seq = nn.Sequential(a)
    seq += seq
    assert list(seq) == [a, a]
    named *= 2                                  # names kept, the repeats numbered
    assert list(named._modules) == ["act", "fc", "2", "3"]


def test_sequential_operator_errors_like_pytorch():
    seq = nn.Sequential(nn.ReLU())
    cls = "<class 'npconv.nn.modules.container.Sequential'>"
    for bad in (lambda: seq + [nn.ReLU()], lambda: seq.__iadd__(nn.ModuleList())):
        with pytest.raises(ValueError) as e:
            bad()
        assert str(e.value).startswith("add operator supports only objects of Sequential "
                                       "class, but <class '")
    for bad in (lambda: seq * 2.0, lambda: 2.0 * seq, lambda: seq.__imul__("2")):
        with pytest.raises(TypeError) as e:
            bad()
        assert str(e.value).startswith("unsupported operand type(s) for *: " + cls + " and")
    for n in (0, -1):
        with pytest.raises(ValueError) as e:
            seq * n
        assert str(e.value) == "Non-positive multiplication factor %d for %s" % (n, cls)
        with pytest.raises(ValueError, match="Non-positive multiplication factor"):
            seq *= n
    # insert checks the type first (PyTorch: an AssertionError) and leaves seq intact
    with pytest.raises(AssertionError, match="module should be of type: .*Module.*got.*int"):
        seq.insert(0, 5)
    assert len(seq) == 1 and isinstance(seq[0], nn.ReLU)
    ml = nn.ModuleList([nn.ReLU()])
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        ml.insert(0, 5)
    assert len(ml) == 1             # not emptied by the failed insert


def test_modulelist_add_iadd_pop_like_pytorch():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Linear(2, 2)
    ml = nn.ModuleList([a, b])
    both = ml + nn.ModuleList([c])              # a new ModuleList, renumbered
    assert isinstance(both, nn.ModuleList) and both is not ml
    assert list(both._modules) == ["0", "1", "2"] and list(both) == [a, b, c]
    assert list(ml + [c]) == [a, b, c]          # any iterable of modules, as PyTorch
    assert list(ml) == [a, b]
    same = ml
    ml += ml                                    # a snapshot: doubles it
    assert ml is same and list(ml) == [a, b, a, b]
    assert ml.pop(0) is a and list(ml._modules) == ["0", "1", "2"] and list(ml) == [b, a, b]
    assert ml.pop(-1) is b and list(ml) == [b, a]
    part = ml.pop(slice(0, 1))
    assert isinstance(part, nn.ModuleList) and list(part) == [b] and list(ml) == [a]
    assert list(ml._modules) == ["0"]
    with pytest.raises(IndexError):
        ml.pop(3)


def test_modulelist():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and isinstance(ml[-1], nn.Linear)
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    assert len(ml) == 5
    assert len(list(ml.parameters())) == 6
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = ml

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x
    h = Holder()
    assert "blocks.2.bias" in h.state_dict()
    assert h(nc.randn(3, 2)).shape == (3, 2)


def test_identity_and_flatten():
    x = nc.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    x.requires_grad_(True)
    nn.Flatten()(x).sum().backward()
    assert x.grad.shape == x.shape
    # dims are checked as PyTorch's (these used to give (2, 3, 1, 4, 5), (6, 4, 5), (2, 60))
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        nn.Flatten(2, 1)(x)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-4, 3\], but got 5"):
        nn.Flatten(0, 5)(x)
    with pytest.raises(IndexError, match="but got 5"):
        nn.Flatten(5)(x)
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        nn.Flatten()(nc.ones(3))
    assert nn.Flatten(0)(nc.tensor(2.0)).shape == (1,)


def test_deepcopy_and_pickle():
    import copy
    import pickle
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight.requires_grad
        assert clone.head.weight.data is not net.head.weight.data
        for (k, a), (_, b) in zip(net.state_dict().items(), clone.state_dict().items()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
