"""Device arguments as PyTorch takes them, and clear errors when devices are mixed (on the
stand-in device, which imitates a GPU without one)."""
import numpy
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F
from npconv import _standin
from npconv import backend as B


@pytest.fixture(autouse=True)
def standin():
    _standin.install()


def test_to_another_tensor_takes_its_device_and_dtype():
    a = nc.randn(3)
    b = nc.randn(3, device="standin").double()
    c = a.to(b)
    assert str(c.device) == "standin:0" and c.dtype == numpy.float64
    numpy.testing.assert_allclose(c.cpu().numpy(), a.numpy(), rtol=1e-6)
    assert a.to(a) is a                                   # nothing to change: itself


def test_to_copy_and_non_blocking():
    a = nc.randn(3, requires_grad=True)
    assert a.to("cpu", non_blocking=True) is a
    c = a.to(copy=True)
    assert c is not a and not numpy.shares_memory(c.data, a.data)
    c.sum().backward()                                    # a differentiable copy
    assert a.grad.tolist() == [1.0, 1.0, 1.0]


def test_cuda_takes_an_index_a_string_or_a_device():
    # no GPU here: each form must reach the availability check, not fail parsing it
    for dev in (None, 0, "cuda:0", nc.device("cuda:0")):
        for obj in (nc.ones(2), nn.Linear(2, 2)):
            with pytest.raises(RuntimeError, match="is not available"):
                obj.cuda(dev)
        with pytest.raises(RuntimeError, match="is not available"):
            nc.ones(2).to(0)                              # an int is a GPU index
        with pytest.raises(RuntimeError, match="is not available"):
            nn.Linear(2, 2).to(0)
    with pytest.raises(ValueError, match="must be cuda device"):
        nc.ones(2).cuda("cpu")
    with pytest.raises(ValueError, match="must not include an index because index was passed"):
        nc.device("cuda:1", 0)
    assert B.cuda_device(1) == nc.device("cuda:1")


def test_optimizer_state_follows_the_parameters_dtype():
    m = nn.Linear(3, 2)
    opt = nc.optim.Adam(m.parameters(), lr=0.1)
    x = nc.randn(4, 3)
    m(x).sum().backward()
    opt.step()
    m.double()
    opt.zero_grad()
    m(x.double()).sum().backward()
    opt.step()
    for p in m.parameters():
        assert p.dtype == numpy.float64
        assert all(v.dtype == numpy.float64 for v in opt.state[p].values()
                   if hasattr(v, "shape") and v.shape == p.shape)


def test_losses_name_the_devices_of_targets_and_weights():
    x = nc.randn(4, 5, device="standin")
    t = nc.tensor([0, 1, 2, 3])
    msg = r"found at least two devices, standin:0 and cpu! \(cross_entropy\(\) got input on " \
          r"standin:0 and target on cpu"
    with pytest.raises(RuntimeError, match=msg):
        F.cross_entropy(x, t)
    with pytest.raises(RuntimeError, match="nll_loss.*target on cpu"):
        F.nll_loss(x, t)
    with pytest.raises(RuntimeError, match="weight on cpu"):
        F.cross_entropy(x, t.to("standin"), weight=nc.ones(5))
    with pytest.raises(RuntimeError, match="pos_weight on cpu"):
        F.binary_cross_entropy_with_logits(x, nc.rand(4, 5, device="standin"),
                                           pos_weight=nc.ones(5))
    loss = F.cross_entropy(x, t.to("standin"), weight=nc.ones(5, device="standin"))
    assert str(loss.device) == "standin:0"


@pytest.mark.parametrize("op", ["eq", "lt", "and", "where", "add_", "mul_", "setitem"])
def test_ops_outside_functions_name_both_devices(op):
    # comparisons, logical ops, where's condition and in-place ops are no Function (or pass
    # raw arrays), so they need their own check: PyTorch's message, not the backend's
    x = nc.randn(3, device="standin")
    c = nc.randn(3)
    calls = {"eq": lambda: x == c, "lt": lambda: x < c, "and": lambda: (x > 0) & (c > 0),
             "where": lambda: nc.where(c > 0, x, x), "add_": lambda: x.add_(c),
             "mul_": lambda: x.mul_(c), "setitem": lambda: x.__setitem__(slice(None), c)}
    with pytest.raises(RuntimeError, match="found at least two devices, (standin:0 and cpu|"
                                           "cpu and standin:0)"):
        calls[op]()
    assert (x == x).data.dtype == numpy.bool_            # same device: unchanged


def test_device_indices_in_every_form():
    for call in (lambda: nc.ones(2).to(device=0), lambda: nc.ones(2).to(numpy.int64(0)),
                 lambda: nn.Linear(2, 2).to(device=0), lambda: nc.ones(2).cuda(numpy.int64(0))):
        with pytest.raises(RuntimeError, match="is not available"):
            call()
    x = nc.ones(2)
    assert x.to(numpy.float64, False, True).dtype == numpy.float64      # non_blocking, copy
    c = x.to("cpu", numpy.float32, False, True)
    assert c is not x and not numpy.shares_memory(c.data, x.data)
    assert x.to(x, False) is x
    with pytest.raises(TypeError, match="another tensor or a device/dtype, not both"):
        x.to(x, dtype=numpy.float64)


def test_in_place_add_with_alpha_names_both_devices():
    x = nc.randn(3, device="standin")
    with pytest.raises(RuntimeError, match="found at least two devices"):
        x.add_(nc.randn(3), alpha=2)
    with pytest.raises(RuntimeError, match="found at least two devices"):
        x.sub_(nc.randn(3), alpha=2)
    x.add_(nc.ones(3, device="standin"), alpha=2)


def test_optimizer_state_cast_leaves_non_float_buffers_alone():
    class Counting(nc.optim.SGD):
        def step(self):
            for g in self.param_groups:
                for p in g["params"]:
                    s = self._state(p)
                    s.setdefault("frozen", numpy.zeros(p.shape, bool))
                    s.setdefault("hits", numpy.zeros(p.shape, numpy.int64))
                    s["hits"] += 1
                    s["frozen"] = ~s["frozen"]
    p = nn.Parameter(numpy.zeros(3, numpy.float32))
    opt = Counting([p], lr=0.1)
    opt.step()
    opt.step()
    assert opt.state[p]["frozen"].dtype == numpy.bool_
    assert opt.state[p]["hits"].tolist() == [2, 2, 2]
