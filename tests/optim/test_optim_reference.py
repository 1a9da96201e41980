"""Optimizers against values computed once with PyTorch 2.13 (CPU, float32), written out so
that they run without torch: several parameter groups with their own options, parameters
whose ``.grad`` is None at some steps (skipped), state contents, ``state_dict`` structure,
and the ``Optimizer`` base class's PyTorch behaviour (state as a defaultdict, group dicts,
keyword-only options, loading state onto another device/dtype)."""
import warnings

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.optim import SGD, Adam, AdamW, Optimizer

from devices import array_type, on_devices, reset_current_device, to_host  # noqa: F401

W = [[0.5, -1.25], [2.0, 0.75, -0.5], [1.5]]
G = [                                    # per step, per parameter (None: no gradient)
    [[0.1, -0.2], [0.3, 0.4, -0.5], [1.0]],
    [[-0.3, 0.25], None, [-2.0]],
    [[0.05, 0.5], [-0.1, 0.2, 0.6], None],
    [[0.4, -0.6], [0.7, -0.3, 0.1], [0.5]],
]


def run(cls, groups, device="cpu", **kw):
    ps = [nn.Parameter(nc.tensor(w, device=device)) for w in W]
    opt = cls([dict(g, params=[ps[i] for i in g["params"]]) for g in groups], **kw)
    for step in G:
        for p, g in zip(ps, step):
            p.grad = None if g is None else nc.tensor(g, device=device)
        opt.step()
    return ps, opt


def check(ps, expected, device):
    for p, e in zip(ps, expected):
        assert p.dtype == np.float32
        assert isinstance(p.data, array_type(device))
        np.testing.assert_allclose(to_host(p), e, rtol=2e-6, atol=1e-7)


SGD_GROUPS = [dict(params=[0]),
              dict(params=[1], lr=0.05, momentum=0.5, dampening=0.25, weight_decay=0.1),
              dict(params=[2], momentum=0.8, nesterov=True, maximize=True)]


@on_devices
def test_sgd_groups_and_missing_grads_match_pytorch(device):
    ps, opt = run(SGD, SGD_GROUPS, device, lr=0.1, momentum=0.9)
    check(ps, [[0.497410029, -1.28397], [1.91717005, 0.701711774, -0.484919131],
               [1.39719999]], device)
    bufs = [[0.274900019, -0.0933000445], [0.833475828, 0.0487957262, 0.108820409],
            [0.460000038]]
    for p, b in zip(ps, bufs):
        buf = opt.state[p]["momentum_buffer"]
        assert buf.dtype == np.float32 and isinstance(buf, array_type(device))
        np.testing.assert_allclose(to_host(buf), b, rtol=2e-6)
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        {"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
         "maximize": False, "params": [0]},
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.25, "weight_decay": 0.1,
         "nesterov": False, "maximize": False, "params": [1]},
        {"lr": 0.1, "momentum": 0.8, "dampening": 0, "weight_decay": 0, "nesterov": True,
         "maximize": True, "params": [2]}]
    assert sorted(sd["state"]) == [0, 1, 2]


def test_sgd_param_that_never_gets_a_grad_is_untouched_and_has_no_state():
    a, b = nn.Parameter(nc.tensor([1.0, 2.0])), nn.Parameter(nc.tensor([3.0]))
    opt = SGD([a, b], lr=0.5, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        a.grad = nc.tensor([1.0, -1.0])
        opt.step()
    assert b.detach().numpy().tolist() == [3.0]      # weight decay needs a grad too
    assert b not in opt.state and list(opt.state_dict()["state"]) == [0]
    # p - lr (g + wd p), then the momentum buffer: worked out by hand
    p, buf = np.array([1.0, 2.0]), None
    for _ in range(3):
        g = np.array([1.0, -1.0]) + 0.1 * p
        buf = g if buf is None else 0.9 * buf + g
        p = p - 0.5 * buf
    np.testing.assert_allclose(a.detach().numpy(), p, rtol=1e-6)


ADAM_GROUPS = [dict(params=[0]),
               dict(params=[1], lr=0.05, betas=(0.5, 0.9), weight_decay=0.1, amsgrad=True),
               dict(params=[2], eps=1e-2, maximize=True, decoupled_weight_decay=True,
                    weight_decay=0.5)]


@on_devices
def test_adam_groups_and_missing_grads_match_pytorch(device):
    ps, opt = run(Adam, ADAM_GROUPS, device, lr=0.1)
    check(ps, [[0.445975751, -1.22043622], [1.86838555, 0.653962672, -0.478824645],
               [1.32729113]], device)
    # a parameter skipped at a step does not count it
    assert [opt.state[p]["step"] for p in ps] == [4, 3, 3]
    s1 = opt.state[ps[1]]
    for name, ref in [("exp_avg", [0.532164812, 0.00965557992, 0.0966555625]),
                      ("exp_avg_sq", [0.100598261, 0.0303327795, 0.0525089577]),
                      ("max_exp_avg_sq", [0.100598261, 0.0303327795, 0.0580275021])]:
        assert s1[name].dtype == np.float32 and isinstance(s1[name], array_type(device))
        np.testing.assert_allclose(to_host(s1[name]), ref, rtol=2e-6, atol=1e-7)
    assert "max_exp_avg_sq" not in opt.state[ps[0]]
    groups = opt.state_dict()["param_groups"]
    assert [g["decoupled_weight_decay"] for g in groups] == [False, False, True]
    assert groups[1]["betas"] == (0.5, 0.9) and groups[2]["eps"] == 1e-2


@on_devices
def test_adamw_groups_and_missing_grads_match_pytorch(device):
    groups = [dict(g) for g in ADAM_GROUPS]
    del groups[2]["decoupled_weight_decay"]
    ps, opt = run(AdamW, groups, device, lr=0.1)
    check(ps, [[0.444151908, -1.21565032], [1.86797965, 0.655976772, -0.480867624],
               [1.32729113]], device)
    assert all(g["decoupled_weight_decay"] for g in opt.param_groups)
    assert opt.param_groups[0]["weight_decay"] == 1e-2


def test_maximize_and_decoupled_weight_decay_are_keyword_only():
    p = nn.Parameter(nc.ones(1))
    with pytest.raises(TypeError):
        SGD([p], 0.1, 0, 0, 0, False, True)
    with pytest.raises(TypeError):
        Adam([p], 0.1, (0.9, 0.999), 1e-8, 0, False, True)
    assert SGD([p], maximize=True).defaults["maximize"] is True
    assert Adam([p], decoupled_weight_decay=True).defaults["decoupled_weight_decay"] is True


def test_adamw_stays_decoupled_after_loading_an_adam_checkpoint():
    a, b = nn.Parameter(nc.ones(1)), nn.Parameter(nc.ones(1))
    sd = Adam([a], lr=0.1).state_dict()
    opt = AdamW([b], lr=0.1, weight_decay=0.5)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    b.grad = nc.zeros(1)
    opt.step()          # the checkpoint's weight_decay=0 and a zero gradient: no change
    assert opt.param_groups[0]["weight_decay"] == 0
    np.testing.assert_array_equal(b.detach().numpy(), [1.0])
    opt.param_groups[0]["weight_decay"] = 0.5
    opt.step()          # decoupled: p (1 - lr wd), and Adam's step of a zero gradient is 0
    np.testing.assert_allclose(b.detach().numpy(), [0.95], rtol=1e-6)


# ------------------------------------------------------------------ the Optimizer base class
def test_state_is_a_defaultdict_as_pytorch():
    p = nn.Parameter(nc.ones(2))
    opt = SGD([p], lr=0.1, momentum=0.9)
    assert opt.state[p] == {}
    p.grad = nc.ones(2)
    opt.step()         # an entry made by looking it up fills in normally
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1, 1])
    assert list(opt.state_dict()["state"]) == [0]


def test_group_dicts_are_the_callers_filled_in_with_defaults():
    a, b = nn.Parameter(nc.ones(1)), nn.Parameter(nc.ones(1))
    g0 = {"params": (x for x in [a])}
    opt = SGD([g0], lr=0.1)
    assert opt.param_groups[0] is g0 and g0["params"] == [a] and g0["lr"] == 0.1
    g1 = {"params": b, "lr": 0.5}
    opt.add_param_group(g1)
    assert opt.param_groups[1] is g1 and g1["params"] == [b] and g1["momentum"] == 0
    g1["lr"] = 2.0          # changing the dict changes the optimizer, as in PyTorch
    b.grad = nc.ones(1)
    opt.step()
    np.testing.assert_allclose(b.detach().numpy(), [-1.0])
    # a group that fails a check is neither added nor changed
    bad = {"params": [a], "momentum": 0.9}
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group(bad)
    assert bad == {"params": [a], "momentum": 0.9} and len(opt.param_groups) == 2


def test_add_param_group_errors_name_what_was_given():
    opt = SGD([nn.Parameter(nc.ones(1))], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        opt.add_param_group([nn.Parameter(nc.ones(1))])
    with pytest.raises(KeyError, match="params"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="one of the params is float"):
        opt.add_param_group({"params": [1.0]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {nn.Parameter(nc.ones(1))}})

    class Needs(Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": nc.optim.optimizer.required, "beta": 0.5})
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Needs([nn.Parameter(nc.ones(1))])
    assert Needs([{"params": [nn.Parameter(nc.ones(1))], "lr": 0.1}]).param_groups[0][
        "beta"] == 0.5


def test_non_leaf_is_refused_unless_it_retains_grad():
    w = nn.Parameter(nc.ones(2))
    y = w * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        SGD([y], lr=0.1)
    y.retain_grad()
    SGD([y], lr=0.1)           # PyTorch allows a non-leaf that retains its grad


def test_empty_and_exhausted_parameter_lists():
    model = nn.Linear(2, 1)
    params = model.parameters()          # a generator: the first optimizer uses it up
    SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        Adam([])
    opt = SGD([{"params": []}], lr=0.1)   # an empty group is allowed, as in PyTorch
    assert opt.param_groups[0]["params"] == [] and opt.step() is None


def test_zero_grad_set_to_none_false_gives_zeros_of_the_grads_dtype():
    p = nn.Parameter(nc.ones(3))
    p.grad = nc.tensor([1.0, 2.0, 3.0])
    opt = SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.dtype == np.float32 and p.grad.numpy().tolist() == [0, 0, 0]
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad(set_to_none=False)   # None stays None
    assert p.grad is None


@on_devices
def test_load_state_dict_moves_state_to_the_parameters_device_and_dtype(device):
    src = nn.Parameter(nc.tensor(np.array([1.0, -2.0])))          # float64, on the host
    opt = Adam([src], lr=0.1, amsgrad=True)
    src.grad = nc.tensor(np.array([0.5, 0.25]))
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["exp_avg"].dtype == np.float64
    dst = nn.Parameter(nc.tensor([1.0, -2.0], device=device))     # float32 on device
    opt2 = Adam([dst], lr=1.0)
    opt2.load_state_dict(sd)
    st = opt2.state[dst]
    assert st["step"] == 1 and isinstance(st["step"], int)
    for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert st[k].dtype == np.float32 and isinstance(st[k], array_type(device))
    np.testing.assert_allclose(to_host(st["exp_avg"]), [0.05, 0.025], rtol=1e-6)
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["amsgrad"] is True
    dst.grad = nc.tensor([0.5, 0.25], device=device)
    opt2.step()
    assert dst.dtype == np.float32 and opt2.state[dst]["exp_avg"].dtype == np.float32


def test_load_state_dict_copies_the_groups_values():
    model = nn.Linear(2, 1)
    opt = SGD(model.named_parameters(), lr=0.1)
    sd = opt.state_dict()
    opt2 = SGD(nn.Linear(2, 1).named_parameters(), lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["param_names"] == ["weight", "bias"]
    opt2.param_groups[0]["param_names"].append("x")
    assert sd["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_load_state_dict_mismatch_errors_start_as_pytorchs():
    opt = SGD([nn.Parameter(nc.ones(1)), nn.Parameter(nc.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match=r"^loaded state dict has a different number of "
                                         r"parameter groups \(2, the optimizer has 1\)"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]})
    with pytest.raises(ValueError, match=r"^loaded state dict contains a parameter group that "
                                         r"doesn't match the size of optimizer's group "
                                         r"\(group 0: 1 saved, 2 in the optimizer\)"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0]}]})
    with pytest.raises(KeyError):
        opt.load_state_dict({"param_groups": [{"params": [0, 1]}]})


@pytest.mark.parametrize("kw,match", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(momentum=-1), "Invalid momentum value: -1"),
    (dict(weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening")])
def test_sgd_argument_errors_as_pytorch(kw, match):
    with pytest.raises(ValueError, match="^%s$" % match):
        SGD([nn.Parameter(nc.ones(1))], **kw)


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("kw,match", [
    (dict(lr=-1), "Invalid learning rate: -1"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-1), "Invalid weight_decay value: -1")])
def test_adam_argument_errors_as_pytorch(cls, kw, match):
    with pytest.raises(ValueError, match="^%s$" % match):
        cls([nn.Parameter(nc.ones(1))], **kw)


def test_step_with_closure_returns_its_loss_and_runs_it_with_grad_enabled():
    a = nn.Parameter(nc.tensor([3.0]))
    opt = Adam([a], lr=0.5)
    seen = []

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        seen.append(loss.requires_grad)
        loss.backward()
        return loss
    with nc.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and loss.item() == 9.0
    np.testing.assert_allclose(a.detach().numpy(), [2.5], rtol=1e-6)   # Adam's first step


def test_no_warnings_in_a_plain_step():
    p = nn.Parameter(nc.ones(2))
    opt = AdamW([p])
    p.grad = nc.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
