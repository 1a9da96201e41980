"""The two reference models of ``../shared/bench/peers.py`` (LeNet-5 and the seed CNN), built
the same way in npconv and in PyTorch, and one training step (zero_grad, forward,
cross-entropy, backward, SGD-momentum update), for the soak and memory benchmarks."""
import numpy as np


def npconv_step(model_name, seed=0, lr=0.01, momentum=0.9):
    """(model, step(x, t) -> float loss) for npconv."""
    import npconv as nc
    import npconv.nn.functional as F
    from npconv import nn, optim
    nc.manual_seed(seed)
    if model_name == "lenet":
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, 10))
    model.train()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(x, t):
        opt.zero_grad()
        loss = F.cross_entropy(model(nc.tensor(x)), t)
        loss.backward()
        opt.step()
        return loss.item()
    return model, step


def torch_step(model_name, seed=0, lr=0.01, momentum=0.9, threads=None):
    """(model, step(x, t) -> float loss) for PyTorch (same layers and update)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    if model_name == "lenet":
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, 10))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(x, t):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        opt.step()
        return loss.item()
    return model, step


def batches(batch, pool=4, seed=0):
    """``pool`` random (x, labels) batches: x (batch, 1, 28, 28) float32, labels int64."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32),
             rng.integers(0, 10, batch).astype(np.int64)) for _ in range(pool)]


def rss_mib():
    """Current resident set size of this process (MiB), from /proc (None elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os
        return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mib():
    """Peak resident set size of this process so far (MiB)."""
    import resource
    import sys
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2 ** 20 if sys.platform == "darwin" else r / 1024
