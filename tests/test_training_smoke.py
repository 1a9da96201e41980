"""End to end: a tiny CNN overfits 64 fixed samples to 100% training accuracy, with every
piece of issue 4 in the loop (layers, BatchNorm, Dropout, cross entropy, optimizer,
scheduler, checkpoint resume)."""
import numpy as np

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    return nc.tensor(x), nc.tensor(y)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(64, 4))


def accuracy(model, x, y):
    model.eval()
    with nc.no_grad():
        pred = model(x).argmax(1)
    model.train()
    return float((pred.numpy() == y.numpy()).mean())


def test_tiny_cnn_overfits_64_samples(tmp_path):
    nc.manual_seed(0)
    x, y = data()
    model = cnn()
    opt = nc.optim.AdamW(model.parameters(), lr=0.02, weight_decay=1e-4)
    epochs, steps = 60, 4
    sched = nc.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.03, epochs=epochs,
                                             steps_per_epoch=steps)
    losses = []
    for epoch in range(epochs):
        perm = np.random.default_rng(epoch).permutation(64)
        for b in range(steps):
            idx = perm[b * 16:(b + 1) * 16]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        if epoch == 29:     # checkpoint mid-way and resume from disk
            nc.save({"model": model.state_dict(), "opt": opt.state_dict(),
                     "sched": sched.state_dict()}, tmp_path / "ck.npz")
            ck = nc.load(tmp_path / "ck.npz")
            lr_before = opt.param_groups[0]["lr"]
            # PyTorch's resume order: build everything, then load every state
            model = cnn()
            opt = nc.optim.AdamW(model.parameters(), lr=0.02, weight_decay=1e-4)
            sched = nc.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.03, epochs=epochs,
                                                     steps_per_epoch=steps)
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            sched.load_state_dict(ck["sched"])
            assert opt.param_groups[0]["lr"] == lr_before
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert np.mean(losses[-8:]) < 0.2 * np.mean(losses[:8])
    assert accuracy(model, x, y) == 1.0


def test_sgd_momentum_mlp_converges():
    nc.manual_seed(1)
    rng = np.random.default_rng(1)
    x = nc.tensor(rng.standard_normal((64, 10)).astype(np.float32))
    y = nc.tensor(rng.integers(0, 3, 64))
    model = nn.Sequential(nn.Linear(10, 32), nn.BatchNorm1d(32), nn.Tanh(), nn.Linear(32, 3))
    opt = nc.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, nesterov=True)
    sched = nc.optim.lr_scheduler.StepLR(opt, 100, 0.5)
    for _ in range(200):
        loss = nn.CrossEntropyLoss()(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    assert accuracy(model, x, y) == 1.0


from devices import on_devices, reset_current_device, to_host  # noqa: E402,F401


@on_devices
def test_training_step_and_checkpoint_on_every_device(device, tmp_path):
    """Modules, losses, optimizers, init and checkpoints keep data on the device (the
    stand-in device refuses NumPy calls on its arrays and names CuPy lacks)."""
    nc.manual_seed(0)
    model = cnn().to(device)
    nn.init.kaiming_normal_(model[0].weight, nonlinearity="relu")
    x, y = data()
    x, y = x[:16].to(device), y[:16].to(device)
    for cls, kw in [(nc.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True,
                                        weight_decay=1e-3)),
                    (nc.optim.Adam, dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
                    (nc.optim.AdamW, dict(lr=1e-2))]:
        opt = cls(model.parameters(), **kw)
        sched = nc.optim.lr_scheduler.OneCycleLR(opt, 0.05, total_steps=5)
        for _ in range(2):
            out = model(x)
            loss = (F.cross_entropy(out, y, label_smoothing=0.1, weight=nc.ones(4).to(device))
                    + F.nll_loss(F.log_softmax(out, 1), y)
                    + F.mse_loss(out, nc.zeros(16, 4).to(device))
                    + F.binary_cross_entropy_with_logits(out, nc.ones(16, 4).to(device)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        assert np.isfinite(loss.item())
        st = next(iter(opt.state.values()))
        arrays = [v for v in st.values() if hasattr(v, "shape")]
        assert arrays and all(type(a) is type(model[0].weight.data) for a in arrays)
    assert type(model[1].running_mean.data) is type(model[0].weight.data)
    nc.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck")
    ck = nc.load(tmp_path / "ck")
    m2 = cnn().to(device)
    m2.load_state_dict(ck["model"])
    o2 = nc.optim.AdamW(m2.parameters())
    o2.load_state_dict(ck["opt"])
    model.eval(), m2.eval()
    np.testing.assert_array_equal(to_host(model(x)), to_host(m2(x)))
    assert "Total params" in str(nc.summary(m2, (1, 8, 8)))
