"""The devices device-facing tests run on: ``cpu``, the stand-in GPU ``standin`` (always), and
``cuda`` when CuPy and an NVIDIA GPU are present.

Use from any test module (``tests/`` is on ``sys.path`` through its conftest)::

    from devices import DEVICES, on_devices, to_host

    @on_devices
    def test_something(device):
        x = npconv.randn(3, device=device)
        ...

``NPCONV_TEST_DEVICES=cuda`` (comma-separated) narrows the list, e.g. on a GPU machine.
"""
import os

import numpy
import pytest

import npconv
from npconv import _standin
from npconv import backend as _backend

_standin.install()


def _cuda_available():
    try:
        return npconv.cuda.is_available()
    except Exception:    # a broken CUDA install counts as no GPU
        return False


CUDA = _cuda_available()
STANDIN = _standin.NAME
DEVICES = ["cpu", STANDIN] + (["cuda"] if CUDA else [])
if os.environ.get("NPCONV_TEST_DEVICES"):
    _want = [d.strip() for d in os.environ["NPCONV_TEST_DEVICES"].split(",") if d.strip()]
    DEVICES = [d for d in DEVICES if d in _want]
GPU_LIKE = [d for d in DEVICES if d != "cpu"]

on_devices = pytest.mark.parametrize("device", DEVICES)
"""Parametrise a test over every available device (the argument is named ``device``)."""

on_gpu_like = pytest.mark.parametrize("device", GPU_LIKE)
"""Only the non-CPU devices (the stand-in, and CUDA when present)."""


@pytest.fixture(params=DEVICES)
def device(request):
    """Fixture form of ``on_devices``."""
    return request.param


def xp_for(device):
    """The array module of ``device`` (numpy, the stand-in's xp, or cupy)."""
    return _backend._backend_for(_backend.Device(device)).xp


def array_type(device):
    return _backend._backend_for(_backend.Device(device)).array_type


def to_host(x):
    """A NumPy array from a Tensor or a raw array on any device (explicitly)."""
    if isinstance(x, npconv.Tensor):
        return x.detach().cpu().numpy()
    return _backend.backend_of(x).to_host(x)


def assert_on(t, device):
    """``t`` (a Tensor or raw array) lives on ``device`` and its data is that backend's type."""
    data = t.data if isinstance(t, npconv.Tensor) else t
    assert _backend.device_of(data) == npconv.device(device), (
        "expected data on %s, found it on %s" % (device, _backend.device_of(data)))
    assert isinstance(data, array_type(device)), type(data)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    numpy.testing.assert_allclose(to_host(actual) if not isinstance(actual, numpy.ndarray)
                                  else actual,
                                  to_host(expected) if not isinstance(expected, numpy.ndarray)
                                  else expected, rtol=rtol, atol=atol)


@pytest.fixture(autouse=True)
def reset_current_device():
    """Moving data to a device makes it current (npconv.backend.move_array): start and end
    every test with device 0 current on every backend. Import it into a test module to use."""
    for b in _backend.backends().values():
        b.set_device(0)
    yield
    for b in _backend.backends().values():
        b.set_device(0)
