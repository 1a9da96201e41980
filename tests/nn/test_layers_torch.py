"""Optional cross-checks against PyTorch (skipped when torch is not installed): weights move
both ways through state_dict, and the same model with the same weights and data takes the
same steps (to float32 rounding)."""
import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")


def pair():
    # no bias before BatchNorm: its gradient is zero up to rounding noise, which Adam's
    # normalisation would blow up into full-size (incomparable) steps
    t = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1, bias=False), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.ConvTranspose2d(4, 3, 2, stride=2),
        torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Dropout(0.0),
        torch.nn.Linear(12, 5))
    n = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.ConvTranspose2d(4, 3, 2, stride=2), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Dropout(0.0), nn.Linear(12, 5))
    return t, n


def test_state_dict_interchange_and_repr():
    t, n = pair()
    tsd, nsd = t.state_dict(), n.state_dict()
    assert list(tsd) == list(nsd)
    for k in tsd:
        assert tuple(tsd[k].shape) == nsd[k].shape and str(tsd[k].dtype)[6:] == nsd[k].dtype.name
    assert repr(t) == repr(n)
    n.load_state_dict(tsd)                                   # torch -> npconv
    t2, _ = pair()
    t2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in nsd.items()})
    for k in tsd:                                            # npconv -> torch
        np.testing.assert_array_equal(t2.state_dict()[k].numpy(), tsd[k].numpy())


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw"])
def test_same_training_steps(opt):
    t, n = pair()
    n.load_state_dict(t.state_dict())
    if opt == "sgd":
        to = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                             weight_decay=1e-3)
        no = nc.optim.SGD(n.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=1e-3)
    elif opt == "adam":
        to = torch.optim.Adam(t.parameters(), lr=1e-2, amsgrad=True, weight_decay=1e-3)
        no = nc.optim.Adam(n.parameters(), lr=1e-2, amsgrad=True, weight_decay=1e-3)
    else:
        to = torch.optim.AdamW(t.parameters(), lr=1e-2)
        no = nc.optim.AdamW(n.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal((6, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 5, 6)
        tl = torch.nn.functional.cross_entropy(t(torch.from_numpy(x)), torch.from_numpy(y),
                                               label_smoothing=0.1)
        nl = F.cross_entropy(n(nc.tensor(x)), nc.tensor(y), label_smoothing=0.1)
        np.testing.assert_allclose(nl.item(), tl.item(), rtol=1e-5)
        to.zero_grad()
        tl.backward()
        to.step()
        no.zero_grad()
        nl.backward()
        no.step()
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(n.state_dict()[k].numpy(), v.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=k)
