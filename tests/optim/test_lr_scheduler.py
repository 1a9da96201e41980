"""Learning-rate schedulers against their closed forms."""
import math

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.optim import SGD, Adam
from npconv.optim.lr_scheduler import CosineAnnealingLR, MultiStepLR, OneCycleLR, StepLR


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
    opt2 = make_opt()
    s2 = StepLR(opt2, step_size=2, gamma=0.5)
    s2.load_state_dict(sd)
    s.step()
    s2.step()
    assert s.get_last_lr() == s2.get_last_lr() == [0.125]


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
