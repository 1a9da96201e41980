"""Optimizers and schedulers side by side with PyTorch (skipped where torch is not installed;
tests/optim/test_optim_reference.py holds written-out values that run without it)."""
import warnings

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn

torch = pytest.importorskip("torch")

STEPS = 8
SHAPES = [(3, 4), (5,), (2, 2)]


def _pair(rng, groups, n_cls, t_cls, kw, skip):
    w0 = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    pn = [nn.Parameter(nc.tensor(w.copy())) for w in w0]
    pt = [torch.nn.Parameter(torch.tensor(w.copy())) for w in w0]
    on = n_cls([dict(g, params=[pn[i] for i in g["params"]]) for g in groups], **kw)
    ot = t_cls([dict(g, params=[pt[i] for i in g["params"]]) for g in groups], **kw)
    for s in range(STEPS):
        for i in range(len(SHAPES)):
            none = skip(s, i)
            pn[i].grad = None if none else nc.tensor(grads[s][i])
            pt[i].grad = None if none else torch.tensor(grads[s][i])
        on.step()
        ot.step()
        for a, b in zip(pn, pt):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(),
                                       rtol=2e-6, atol=2e-7)
    return pn, pt, on, ot


SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9,
                                                              dampening=0.3),
             dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
             dict(lr=0.1, momentum=0.8, weight_decay=0.2, maximize=True)]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_torch(rng, kw):
    groups = [dict(params=[0]), dict(params=[1], lr=0.02, weight_decay=0.1),
              dict(params=[2], momentum=0.5, maximize=not kw.get("maximize", False),
                   nesterov=False)]
    pn, pt, on, ot = _pair(rng, groups, nc.optim.SGD, torch.optim.SGD, kw,
                           lambda s, i: (s + i) % 3 == 0)
    sn, st = on.state_dict(), ot.state_dict()
    assert sorted(sn["state"]) == sorted(st["state"])
    for k, s in st["state"].items():
        assert set(sn["state"][k]) == set(s)
        for name, v in s.items():
            np.testing.assert_allclose(sn["state"][k][name], v.numpy(), rtol=2e-6, atol=2e-7)
    for gn, gt in zip(sn["param_groups"], st["param_groups"]):
        assert {k: v for k, v in gt.items() if k not in ("foreach", "differentiable",
                                                        "fused")} == gn


ADAM_CASES = [dict(lr=0.01), dict(lr=0.01, amsgrad=True, weight_decay=0.05),
              dict(lr=0.02, betas=(0.3, 0.8), maximize=True), dict(lr=0.01, eps=1e-3)]


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_torch(rng, name, kw):
    groups = [dict(params=[0]), dict(params=[1], lr=0.05, weight_decay=0.1, betas=(0.5, 0.9)),
              dict(params=[2], amsgrad=True, maximize=True, eps=1e-3)]
    pn, pt, on, ot = _pair(rng, groups, getattr(nc.optim, name), getattr(torch.optim, name),
                           kw, lambda s, i: (s * i) % 4 == 1)
    sn, st = on.state_dict(), ot.state_dict()
    for k, s in st["state"].items():
        assert set(sn["state"][k]) == set(s)
        assert sn["state"][k]["step"] == s["step"].item()
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if key in s:
                np.testing.assert_allclose(sn["state"][k][key], s[key].numpy(), rtol=2e-5,
                                           atol=1e-8)
    for gn, gt in zip(sn["param_groups"], st["param_groups"]):
        assert {k: v for k, v in gt.items() if k not in ("foreach", "differentiable", "fused",
                                                        "capturable")} == gn


def test_adam_decoupled_weight_decay_per_group_matches_torch(rng):
    groups = [dict(params=[0]), dict(params=[1], decoupled_weight_decay=True),
              dict(params=[2])]
    _pair(rng, groups, nc.optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.3),
          lambda s, i: False)


def _sched_pair(makers, n, opt="SGD", lrs=(0.5, 0.1), resume_at=None):
    """Groups' lr, momentum/beta1 and every scheduler's last lr at each of n steps, for
    npconv and torch; with resume_at, both restart from state_dicts there."""
    out = {}
    for lib, mod, param in (("nc", nc, lambda: nn.Parameter(nc.zeros(2))),
                            ("t", torch, lambda: torch.nn.Parameter(torch.zeros(2)))):
        def build():
            kw = dict(momentum=0.9) if opt == "SGD" else {}
            o = getattr(mod.optim, opt)([{"params": [param()], "lr": lr} for lr in lrs], **kw)
            return o, [m(mod.optim.lr_scheduler, o) for m in makers]
        o, ss = build()
        rows = []
        for i in range(n):
            if i == resume_at:
                osd, ssd = o.state_dict(), [s.state_dict() for s in ss]
                o, ss = build()
                o.load_state_dict(osd)
                for s, sd in zip(ss, ssd):
                    s.load_state_dict(sd)
            mom = [g["momentum"] if opt == "SGD" else g["betas"][0] for g in o.param_groups]
            rows.append([g["lr"] for g in o.param_groups] + mom
                        + [x for s in ss for x in s.get_last_lr()] + [s.last_epoch for s in ss])
            o.step()
            for s in ss:
                s.step()
        out[lib] = np.array(rows, dtype=np.float64)
    return out["nc"], out["t"]


SCHEDULES = {
    "step": [lambda L, o: L.StepLR(o, 3, 0.5)],
    "multistep": [lambda L, o: L.MultiStepLR(o, [2, 5, 5, 8, 20], 0.3)],
    "exponential": [lambda L, o: L.ExponentialLR(o, 0.9)],
    "cosine": [lambda L, o: L.CosineAnnealingLR(o, 10, 0.01)],
    "cosine_odd": [lambda L, o: L.CosineAnnealingLR(o, 7)],
    "lambda": [lambda L, o: L.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: min(1, (e + 1) / 5)])],
    "step+exp": [lambda L, o: L.StepLR(o, 4, 0.5), lambda L, o: L.ExponentialLR(o, 0.95)],
    "multistep+cosine": [lambda L, o: L.MultiStepLR(o, [10, 20], 0.5),
                         lambda L, o: L.CosineAnnealingLR(o, 15)],
    "onecycle": [lambda L, o: L.OneCycleLR(o, [1.0, 0.5], total_steps=41)],
    "onecycle_3phase": [lambda L, o: L.OneCycleLR(o, 0.4, epochs=5, steps_per_epoch=8,
                                                  anneal_strategy="linear", three_phase=True,
                                                  pct_start=0.25)],
}


@pytest.mark.parametrize("resume_at", [None, 13])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedulers_match_torch(name, resume_at):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # torch's step-order warnings
        got, ref = _sched_pair(SCHEDULES[name], 40, resume_at=resume_at)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-300)


def test_onecycle_with_adam_betas_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, ref = _sched_pair([lambda L, o: L.OneCycleLR(o, 0.4, total_steps=30,
                                                          base_momentum=[0.8, 0.7],
                                                          max_momentum=0.9)],
                               30, opt="Adam")
    np.testing.assert_allclose(got, ref, rtol=1e-13)


@pytest.mark.parametrize("epoch", [0, 5, 13])
def test_step_with_epoch_matches_torch(epoch):
    res = []
    for mod in (nc, torch):
        o = mod.optim.SGD([mod.nn.Parameter(mod.zeros(1))], lr=0.5)
        L = mod.optim.lr_scheduler
        ss = [L.StepLR(o, 3, 0.5), L.MultiStepLR(o, [2, 4, 4]), L.ExponentialLR(o, 0.9),
              L.CosineAnnealingLR(o, 10)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = []
            for s in ss:
                s.step(epoch)
                row += s.get_last_lr()
        res.append(row)
    np.testing.assert_allclose(res[0], res[1], rtol=1e-14)
