"""Optimizers against their update equations written out by hand (float64 NumPy), in-place
float32 updates that allocate nothing once warm, parameter groups, state_dict resume."""
import tracemalloc

import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.optim import SGD, Adam, AdamW

STEPS = 5


def setup(rng, dtype=np.float64, shape=(3, 4)):
    w0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(STEPS)]
    return w0, grads


def run(opt_cls, w0, grads, **kw):
    p = nn.Parameter(nc.tensor(w0.copy()))
    opt = opt_cls([p], **kw)
    out = []
    for g in grads:
        p.grad = nc.tensor(g)
        opt.step()
        out.append(p.detach().numpy().copy())
    return out, p, opt


def sgd_ref(w0, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    p, buf, out = w0.copy(), None, []
    for g in grads:
        d = (-g if maximize else g) + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p.copy())
    return out


def adam_ref(w0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False, maximize=False):
    p = w0.copy()
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        mhat = m / (1 - betas[0] ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vv = vmax
        else:
            vv = v
        p = p - lr * mhat / (np.sqrt(vv) / np.sqrt(1 - betas[1] ** t) + eps)
        out.append(p.copy())
    return out


SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.5),
             dict(lr=0.1, momentum=0.8, nesterov=True), dict(lr=0.1, weight_decay=0.1),
             dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
             dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True)]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_equations(rng, kw):
    w0, grads = setup(rng)
    got, _, _ = run(SGD, w0, grads, **kw)
    for a, b in zip(got, sgd_ref(w0, grads, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


ADAM_CASES = [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
              dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, amsgrad=True),
              dict(lr=0.02, weight_decay=0.05, amsgrad=True), dict(lr=0.01, betas=(0.3, 0.9)),
              dict(lr=0.01, weight_decay=0.1, maximize=True)]


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_equations(rng, kw):
    w0, grads = setup(rng)
    got, _, _ = run(Adam, w0, grads, **kw)
    for a, b in zip(got, adam_ref(w0, grads, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1),
                                dict(lr=0.01, weight_decay=0.1, amsgrad=True)])
def test_adamw_matches_equations(rng, kw):
    w0, grads = setup(rng)
    got, _, _ = run(AdamW, w0, grads, **kw)
    kw.setdefault("weight_decay", 1e-2)          # AdamW's default, as PyTorch
    for a, b in zip(got, adam_ref(w0, grads, decoupled=True, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls,kw", [(SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1,
                                              nesterov=True)),
                                    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.1)),
                                    (Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
                                    (AdamW, dict(lr=0.01, amsgrad=True))])
def test_float32_in_place_and_close_to_float64(rng, cls, kw):
    w0, grads = setup(rng, np.float32)
    got, p, opt = run(cls, w0, grads, **kw)
    ref = (sgd_ref if cls is SGD else adam_ref)(
        w0.astype(np.float64), [g.astype(np.float64) for g in grads],
        **dict(kw, **({"decoupled": True, "weight_decay": 1e-2} if cls is AdamW else {})))
    np.testing.assert_allclose(got[-1], ref[-1], rtol=1e-5, atol=1e-6)
    assert p.dtype == np.float32
    for s in opt.state[p].values():
        if hasattr(s, "dtype"):
            assert s.dtype == np.float32


@pytest.mark.parametrize("cls,kw", [(SGD, dict(lr=0.1)),
                                    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1,
                                               nesterov=True, dampening=0.0)),
                                    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.2)),
                                    (Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
                                    (AdamW, dict(lr=0.01))])
def test_steps_allocate_nothing_once_warm(rng, cls, kw):
    n = 1 << 18      # 1 MiB of float32 per array
    p = nn.Parameter(nc.tensor(rng.standard_normal(n).astype(np.float32)))
    q = nn.Parameter(nc.tensor(rng.standard_normal(n).astype(np.float32)))
    opt = cls([p, q], **kw)
    data = p.data
    g = rng.standard_normal(n).astype(np.float32)
    p.grad = nc.tensor(g)
    q.grad = nc.tensor(g)
    grad_before = g.copy()
    opt.step()
    opt.step()                      # warm: state and scratch buffers exist
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, "a warm step allocated %d bytes" % peak
    assert p.data is data and p.dtype == np.float32          # updated in place
    np.testing.assert_array_equal(p.grad.numpy(), grad_before)   # grad never written


def test_step_skips_params_without_grad_and_zero_grad(rng):
    a = nn.Parameter(nc.ones(2))
    b = nn.Parameter(nc.ones(2))
    opt = SGD([a, b], lr=1.0, momentum=0.9)
    a.grad = nc.tensor([1.0, 2.0])
    opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [0, -1])
    np.testing.assert_array_equal(b.detach().numpy(), [1, 1])
    assert b not in opt.state
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert np.all(a.grad.numpy() == 0) and a.grad is not g and b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_param_groups(rng):
    a = nn.Parameter(nc.ones(2))
    b = nn.Parameter(nc.ones(2))
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    a.grad = nc.ones(2)
    b.grad = nc.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.5, 0.5])
    c = nn.Parameter(nc.ones(1))
    opt.add_param_group({"params": [c], "lr": 2.0})
    assert opt.param_groups[2]["dampening"] == 0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError):
        SGD(a, lr=0.1)
    with pytest.raises(ValueError):
        SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        Adam([a], betas=(1.0, 0.9))
    with pytest.raises(ValueError):
        SGD([a], lr=-1)


def test_duplicate_parameters_in_a_group_are_an_error_saying_so():
    a = nn.Parameter(nc.ones(1))
    for params in ([a, a], [{"params": [a, a]}]):
        with pytest.raises(ValueError, match="parameter group with duplicate parameters"):
            SGD(params, lr=0.1)


def test_named_parameters_are_accepted_and_names_kept(tmp_path):
    # as PyTorch 2.13: (name, Parameter) pairs; the names go to the group's 'param_names'
    model = nn.Linear(2, 1)
    opt = SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    g = opt.param_groups[0]
    assert g["param_names"] == ["weight", "bias"]
    assert g["params"][0] is model.weight and g["params"][1] is model.bias
    b0 = model.bias.detach().numpy().copy()
    model.weight.grad, model.bias.grad = nc.ones(1, 2), nc.ones(1)
    opt.step()
    np.testing.assert_allclose(model.bias.detach().numpy(), b0 - 0.1, rtol=1e-6)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["param_names"] == ["weight", "bias"]
    assert sd["param_groups"][0]["params"] == [0, 1] and set(sd["state"]) == {0, 1}
    nc.save(sd, tmp_path / "o")
    opt2 = SGD(nn.Linear(2, 1).named_parameters(), lr=1.0, momentum=0.9)
    opt2.load_state_dict(nc.load(tmp_path / "o"))
    assert opt2.param_groups[0]["lr"] == 0.1
    assert opt2.param_groups[0]["param_names"] == ["weight", "bias"]
    # names for all or none, in every group (PyTorch's errors)
    with pytest.raises(ValueError, match="Some param names are missing"):
        SGD([("w", model.weight), model.bias], lr=0.1)
    with pytest.raises(ValueError, match="with/without names"):
        SGD([{"params": [("w", model.weight)]}, {"params": [model.bias]}], lr=0.1)


@pytest.mark.parametrize("cls,kw", [(SGD, dict(lr=0.1, momentum=0.9)),
                                    (Adam, dict(lr=0.01, amsgrad=True)),
                                    (AdamW, dict(lr=0.01, betas=(0.8, 0.9)))])
def test_state_dict_resume_is_exact(rng, cls, kw, tmp_path):
    w0, grads = setup(rng, np.float32, (4,))
    full, _, _ = run(cls, w0, grads, **kw)
    # run 2 steps, checkpoint through npconv.save/load, resume in a fresh optimizer
    p = nn.Parameter(nc.tensor(w0.copy()))
    opt = cls([p], **kw)
    for g in grads[:2]:
        p.grad = nc.tensor(g)
        opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"] and sd["param_groups"][0]["params"] == [0]
    nc.save({"opt": sd, "p": p.detach()}, tmp_path / "ck")
    ck = nc.load(tmp_path / "ck")
    p2 = nn.Parameter(nc.tensor(np.zeros(4, np.float32)))
    p2.data[...] = ck["p"].data
    opt2 = cls([p2], lr=123.0)
    opt2.load_state_dict(ck["opt"])
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for g in grads[2:]:
        p2.grad = nc.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(p2.detach().numpy(), full[-1])
    # the saved state is a copy: stepping on does not change it
    before = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in sd["state"][0].items()}
    p.grad = nc.tensor(grads[2])
    opt.step()
    for k, v in before.items():
        np.testing.assert_array_equal(sd["state"][0][k], v)


def test_load_state_dict_validates_groups():
    a = nn.Parameter(nc.ones(2))
    opt = SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})
    other = SGD([nn.Parameter(nc.ones(3))], lr=0.1, momentum=0.9)
    other.param_groups[0]["params"][0].grad = nc.ones(3)
    other.step()
    opt2 = SGD([a], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="different model"):
        opt2.load_state_dict(other.state_dict())


def test_closure():
    a = nn.Parameter(nc.tensor([3.0]))
    opt = SGD([a], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(a.detach().numpy(), [1.5])


def test_repr():
    opt = Adam([nn.Parameter(nc.ones(1))])
    r = repr(opt)
    assert r.startswith("Adam (\nParameter Group 0") and "lr: 0.001" in r


from devices import on_gpu_like, reset_current_device  # noqa: E402,F401


@on_gpu_like
@pytest.mark.parametrize("cls", [SGD, Adam])
def test_state_follows_model_moved_after_steps(cls, device):
    model = nn.Linear(3, 2)
    kw = dict(lr=0.1, momentum=0.9) if cls is SGD else dict(lr=0.1)
    opt = cls(model.parameters(), **kw)
    x = nc.randn(4, 3)
    model(x).sum().backward()
    opt.step()                                    # state made on the host
    ref = {k: v.copy() for k, v in opt.state[model.weight].items() if hasattr(v, "copy")}
    model.to(device)
    opt.zero_grad()
    model(x.to(device)).sum().backward()
    opt.step()
    for k, v in opt.state[model.weight].items():
        if k in ref:
            assert type(v) is type(model.weight.data)
    assert type(model.weight.data) is not np.ndarray
