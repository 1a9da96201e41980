"""Learning-rate schedulers against their closed forms, and against values computed once
with PyTorch 2.13 where they apply a factor to the current rate (chaining two schedulers,
a rate changed by hand)."""
import math

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.optim import SGD, Adam
from npconv.optim.lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR,
                                       MultiStepLR, OneCycleLR, StepLR)


def make_opt(lr=0.5, cls=SGD, **kw):
    return cls([nn.Parameter(nc.zeros(2))], lr=lr, **kw)


def lrs(opt, sched, n):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
        opt.step()
        sched.step()
    return out


def test_steplr():
    opt = make_opt()
    got = lrs(opt, StepLR(opt, step_size=3, gamma=0.5), 10)
    np.testing.assert_allclose(got, [0.5 * 0.5 ** (e // 3) for e in range(10)], rtol=1e-15)


def test_multisteplr():
    opt = make_opt()
    got = lrs(opt, MultiStepLR(opt, milestones=[2, 5, 5, 8], gamma=0.1), 10)
    ref = [0.5 * 0.1 ** sum(m <= e for m in [2, 5, 5, 8]) for e in range(10)]
    np.testing.assert_allclose(got, ref, rtol=1e-14)


def test_cosine():
    opt = make_opt()
    got = lrs(opt, CosineAnnealingLR(opt, T_max=10, eta_min=0.01), 11)
    ref = [0.01 + (0.5 - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    assert got[-1] == pytest.approx(0.01)


def onecycle_ref(step, total, max_lr, pct=0.3, div=25.0, final_div=1e4):
    init, low = max_lr / div, max_lr / div / final_div
    up_end = pct * total - 1
    if step <= up_end:
        pct_ = step / up_end
        return init + (max_lr - init) * (1 - math.cos(math.pi * pct_)) / 2
    pct_ = (step - up_end) / (total - 1 - up_end)
    return low + (max_lr - low) * (1 + math.cos(math.pi * pct_)) / 2


def test_onecycle_cos_and_momentum():
    opt = make_opt(lr=0.1, momentum=0.9)
    sched = OneCycleLR(opt, max_lr=1.0, total_steps=20)
    moms = []
    got = []
    for _ in range(20):
        got.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step() if len(got) < 20 else None
    np.testing.assert_allclose(got, [onecycle_ref(s, 20, 1.0) for s in range(20)], rtol=1e-12)
    assert got[0] == pytest.approx(1.0 / 25) and max(got) == pytest.approx(1.0)
    assert got[-1] == pytest.approx(1.0 / 25 / 1e4)
    # momentum goes the other way: 0.95 -> 0.85 at the peak -> 0.95
    assert moms[0] == pytest.approx(0.95) and moms[-1] == pytest.approx(0.95)
    assert min(moms) == pytest.approx(0.85, abs=1e-3)
    assert np.argmax(got) == np.argmin(moms)
    with pytest.raises(ValueError, match="Tried to step"):
        sched.step()
        sched.step()


def test_onecycle_linear_three_phase_adam_betas():
    opt = make_opt(lr=0.1, cls=Adam)
    sched = OneCycleLR(opt, max_lr=0.4, epochs=2, steps_per_epoch=5, anneal_strategy="linear",
                       three_phase=True, div_factor=4.0, final_div_factor=10.0)
    got, b1 = [], []
    for _ in range(10):
        got.append(opt.param_groups[0]["lr"])
        b1.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step() if len(got) < 10 else None
    # phases end at steps 2 (0.3*10-1), 4 (0.6*10-2), 9; linear interpolation in each
    # (min_lr = initial_lr / final_div_factor = 0.01)
    ref = [0.1, 0.25, 0.4, 0.25, 0.1] + [0.1 - 0.09 * k / 5 for k in range(1, 6)]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert opt.param_groups[0]["betas"][1] == 0.999
    np.testing.assert_allclose(b1[:3], [0.95, 0.9, 0.85], rtol=1e-12)


def test_onecycle_validation():
    opt = make_opt()
    with pytest.raises(ValueError):
        OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="momentum"):
        OneCycleLR(_NoMomentum([nn.Parameter(nc.zeros(1))], {"lr": 0.1}), max_lr=1.0,
                   total_steps=5)
    OneCycleLR(_NoMomentum([nn.Parameter(nc.zeros(1))], {"lr": 0.1}), max_lr=1.0,
               total_steps=5, cycle_momentum=False)


class _NoMomentum(nc.optim.Optimizer):
    def step(self, closure=None):
        pass


def test_scheduler_state_dict_resume():
    opt = make_opt()
    s = StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3
    # as PyTorch's, StepLR carries on from the group's current lr: resuming needs the
    # optimizer's state (which holds the rates) as well as the scheduler's
    opt2 = make_opt()
    s2 = StepLR(opt2, step_size=2, gamma=0.5)
    opt2.load_state_dict(opt.state_dict())
    s2.load_state_dict(sd)
    s.step()
    s2.step()
    assert s.get_last_lr() == s2.get_last_lr() == [0.125]
    assert opt2.param_groups[0]["lr"] == 0.125


@pytest.mark.parametrize("make", [lambda o: MultiStepLR(o, [2, 4, 4], 0.5),
                                  lambda o: OneCycleLR(o, 1.0, total_steps=12),
                                  lambda o: CosineAnnealingLR(o, 6)])
def test_scheduler_state_survives_checkpoint(make, tmp_path):
    opt = make_opt(momentum=0.9)
    s = make(opt)
    for _ in range(3):
        opt.step()
        s.step()
    nc.save({"opt": opt.state_dict(), "sched": s.state_dict()}, tmp_path / "ck")
    ck = nc.load(tmp_path / "ck")
    opt2 = make_opt(momentum=0.9)
    s2 = make(opt2)
    opt2.load_state_dict(ck["opt"])
    s2.load_state_dict(ck["sched"])
    for _ in range(5):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
        assert opt.param_groups[0]["momentum"] == opt2.param_groups[0]["momentum"]


def make_groups(lrs=(0.5, 0.1)):
    return SGD([{"params": [nn.Parameter(nc.zeros(1))], "lr": lr} for lr in lrs], momentum=0.9)


def run_all(opt, scheds, n):
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        assert scheds[-1].get_last_lr() == out[-1]
        opt.step()
        for s in scheds:
            s.step()
    return out


def test_two_schedulers_on_one_optimizer_compose_as_pytorch():
    opt = make_groups()
    s1, s2 = StepLR(opt, 3, 0.5), ExponentialLR(opt, 0.9)
    got = run_all(opt, [s1, s2], 8)
    # both decays apply (PyTorch 2.13 gives these, to the last digit)
    ref = [[b * 0.9 ** e * 0.5 ** (e // 3) for b in (0.5, 0.1)] for e in range(8)]
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    np.testing.assert_allclose(got[3], [0.18225, 0.03645], rtol=1e-14)
    assert s1.last_epoch == s2.last_epoch == 8
    assert s1.base_lrs == s2.base_lrs == [0.5, 0.1]    # initial_lr recorded once


def test_multistep_and_cosine_chained_match_pytorch_values():
    opt = make_groups((1.0,))
    got = run_all(opt, [MultiStepLR(opt, [3, 3, 6], 0.5), CosineAnnealingLR(opt, 8)], 9)
    np.testing.assert_allclose([r[0] for r in got], [
        1.0, 0.961939766256, 0.853553390593, 0.172835429046, 0.125, 0.0771645709544,
        0.0183058261758, 0.00475752921804, 0.0], rtol=1e-11, atol=1e-15)


def test_cosine_goes_back_up_after_t_max_as_pytorch():
    opt = make_groups((0.5,))
    got = [r[0] for r in run_all(opt, [CosineAnnealingLR(opt, 4, 0.1)], 12)]
    np.testing.assert_allclose(got, [0.5, 0.441421356237, 0.3, 0.158578643763, 0.1,
                                     0.158578643763, 0.3, 0.441421356237, 0.5,
                                     0.441421356237, 0.3, 0.158578643763], rtol=1e-11)


def test_rate_changed_by_hand_is_carried_on():
    opt = make_groups((1.0,))
    s = StepLR(opt, 2, 0.5)
    opt.step()
    s.step()
    opt.param_groups[0]["lr"] = 0.3       # e.g. a manual warm restart
    opt.step()
    s.step()
    assert s.get_last_lr() == [0.15]      # 0.3 * gamma at epoch 2, as PyTorch


def test_exponential_lr():
    opt = make_groups((0.8,))
    got = [r[0] for r in run_all(opt, [ExponentialLR(opt, 0.5)], 5)]
    assert got == [0.8, 0.4, 0.2, 0.1, 0.05]


def test_lambda_lr_one_per_group():
    opt = make_groups()
    sched = LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: min(1.0, (e + 1) / 4)])
    got = run_all(opt, [sched], 6)
    np.testing.assert_allclose(got, [[0.5, 0.025], [0.25, 0.05], [0.5 / 3, 0.075],
                                     [0.125, 0.1], [0.1, 0.1], [0.5 / 6, 0.1]], rtol=1e-14)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(make_groups(), [lambda e: 1.0])
    one = LambdaLR(make_groups(), lambda e: 0.5 ** e)        # one function for every group
    one.step()
    assert one.get_last_lr() == [0.25, 0.05]


class _Warmup:
    """A callable object: LambdaLR's state_dict keeps its __dict__ (PyTorch's rule)."""

    def __init__(self, n):
        self.n = n

    def __call__(self, e):
        return min(1.0, (e + 1) / self.n)


def test_lambda_lr_state_dict_keeps_no_functions_but_objects_state():
    opt = make_groups()
    fn = _Warmup(4)
    s = LambdaLR(opt, [fn, lambda e: 1.0])
    s.step()
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}, None] and sd["last_epoch"] == 1
    assert "optimizer" not in sd
    fn2 = _Warmup(10)
    s2 = LambdaLR(make_groups(), [fn2, lambda e: 1.0])
    s2.load_state_dict(sd)
    assert fn2.n == 4 and s2.last_epoch == 1 and sd["lr_lambdas"] == [{"n": 4}, None]
    s2.step()
    assert s2.get_last_lr() == [0.5 * 3 / 4, 0.1]


def test_step_with_epoch_uses_the_closed_form_and_warns():
    opt = make_groups()
    s = StepLR(opt, 3, 0.5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        s.step(7)
    assert s.last_epoch == 7 and s.get_last_lr() == [0.125, 0.025]
    c = CosineAnnealingLR(make_groups((1.0,)), 10)
    with pytest.warns(UserWarning):
        c.step(5)
    assert c.get_last_lr() == [pytest.approx(0.5)]


def test_resume_with_last_epoch_needs_initial_lr():
    opt = make_groups()
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in "
                                       r"param_groups\[0\] when resuming"):
        StepLR(opt, 2, last_epoch=3)
    first = StepLR(opt, 2, 0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.5, 0.1]
    opt.param_groups[0]["lr"] = 0.125       # where a run left it (epoch 3, say)
    resumed = StepLR(opt, 2, 0.5, last_epoch=3)     # construction steps to epoch 4
    assert resumed.last_epoch == 4 and resumed.base_lrs == [0.5, 0.1]
    assert opt.param_groups[0]["lr"] == 0.0625
    assert first.base_lrs == [0.5, 0.1]


def test_initial_lr_is_kept_by_a_second_scheduler():
    opt = make_groups((1.0,))
    StepLR(opt, 2, 0.5)
    opt.param_groups[0]["lr"] = 0.3
    s = ExponentialLR(opt, 0.5)             # last_epoch=-1: setdefault, as PyTorch
    assert opt.param_groups[0]["initial_lr"] == 1.0 and s.base_lrs == [1.0]
    assert s.get_last_lr() == [0.3]
