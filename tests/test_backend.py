"""The backend module (devices, array modules, lazy CuPy) and the stand-in device itself."""
import copy
import pickle
import subprocess
import sys
import types

import numpy
import pytest

import npconv as nc
from npconv import _standin
from npconv import backend as B
from devices import CUDA, reset_current_device, to_host  # noqa: F401 (autouse fixture)

xp = _standin.xp
S = _standin.StandinArray


def dev(a, index=0):
    """A stand-in device array holding a copy of ``a``."""
    return _standin.BACKEND.from_host(numpy.asarray(a), index)


# ------------------------------------------------------------------------------ import
def test_importing_npconv_does_not_import_cupy():
    code = ("import sys, npconv, npconv.nn, npconv.optim, npconv.data; "
            "import npconv as nc; nc.randn(2, 2).sum().item(); "
            "assert 'cupy' not in sys.modules, 'cupy imported'; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


def test_npconv_cuda_is_exposed_without_cupy_import():
    code = ("import sys, npconv; assert hasattr(npconv, 'cuda'); "
            "assert 'cupy' not in sys.modules; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------------------ Device
@pytest.mark.parametrize("spec, type_, index, text", [
    ("cpu", "cpu", None, "cpu"),
    ("cuda", "cuda", None, "cuda"),
    ("cuda:1", "cuda", 1, "cuda:1"),
    ("standin:1", "standin", 1, "standin:1"),
])
def test_device_parsing(spec, type_, index, text):
    d = nc.device(spec)
    assert (d.type, d.index, str(d)) == (type_, index, text)
    assert nc.device(d) == d
    assert eval(repr(d), {"device": nc.device}) == d


def test_device_equality_and_hash():
    assert nc.device("cuda") == nc.device("cuda:0") == "cuda:0" == nc.device("cuda", 0)
    assert nc.device("cuda:1") != nc.device("cuda:0")
    assert nc.device("cpu") != "cuda"
    assert nc.device("cpu") != "not a device"
    assert len({nc.device("cuda"), nc.device("cuda:0"), nc.device("cpu")}) == 2


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:-1", ""])
def test_device_rejects_bad_strings(bad):
    with pytest.raises(ValueError):
        nc.device(bad)


def test_tensor_device_property():
    t = nc.zeros(2)
    assert t.device == nc.device("cpu") and str(t.device) == "cpu"
    s = t.to("standin")
    assert s.device == nc.device("standin:0") and str(s.device) == "standin:0"
    assert t.to("standin:1").device == "standin:1"


# ------------------------------------------------------------------------------ lookups
def test_get_array_module():
    a = numpy.ones(2)
    assert B.get_array_module(a) is numpy
    assert B.get_array_module(1.0, numpy.float32(2)) is numpy
    assert B.get_array_module() is numpy
    assert B.get_array_module(dev(a)) is xp
    assert B.get_array_module(a, dev(a)) is xp
    assert B.get_array_module(nc.tensor([1.0])) is numpy
    assert B.get_array_module(nc.tensor([1.0]).to("standin")) is xp


def test_get_array_module_does_not_unwrap_a_raw_device_arrays_data_attribute():
    # cupy.ndarray.data is a MemoryPointer: unwrapping ``.data`` of anything but a Tensor
    # would take a CuPy array for a NumPy one
    a = dev(numpy.ones(2))
    assert not isinstance(a.data, (numpy.ndarray, S))
    assert B.get_array_module(a) is xp
    assert B.device_of(a) == "standin:0"


def test_device_of_and_backend_of():
    assert B.device_of(numpy.ones(1)) == "cpu"
    assert B.device_of(numpy.float32(1)) == "cpu"
    assert B.device_of(dev([1.0], 1)) == "standin:1"
    assert B.backend_of(dev([1.0])) is _standin.BACKEND
    assert B.backend_of(3.0).name == "cpu"


def test_move_array_identity_and_copies():
    a = numpy.arange(3.0)
    assert B.move_array(a, "cpu") is a
    d = B.move_array(a, "standin")
    assert type(d) is S and B.device_of(d) == "standin:0"
    assert B.move_array(d, "standin:0") is d
    d1 = B.move_array(d, "standin:1")
    assert B.device_of(d1) == "standin:1"
    back = B.move_array(d1, "cpu")
    assert type(back) is numpy.ndarray and numpy.array_equal(back, a)
    a[0] = 42                       # device memory is separate from host memory
    assert to_host(d)[0] == 0


def test_move_to_missing_device_index_is_clear():
    with pytest.raises(RuntimeError, match="standin has 2 device"):
        B.move_array(numpy.ones(1), "standin:5")


def test_check_same_device_message():
    with pytest.raises(RuntimeError, match=r"cpu and standin:0.*in MyOp"):
        B.check_same_device([nc.ones(1), 3, None, dev([1.0])], "MyOp")
    with pytest.raises(RuntimeError, match=r"standin:0 and standin:1"):
        B.check_same_device([dev([1.0]), nc.ones(1).to("standin:1")], "MyOp")
    B.check_same_device([dev([1.0]), 2.0, numpy.float32(1), dev([2.0])], "MyOp")
    # raw host arrays are indices/masks (CuPy moves them itself): not a device clash
    B.check_same_device([nc.ones(2).to("standin"), numpy.array([0, 1]), (1, 2)], "MyOp")


# ------------------------------------------------------------------------------ CUDA
@pytest.mark.skipif(CUDA, reason="a CUDA GPU is present")
def test_cuda_unavailable_here():
    assert nc.cuda.is_available() is False
    assert nc.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="not available"):
        nc.zeros(2).to("cuda")
    with pytest.raises(RuntimeError, match="not available"):
        nc.zeros(2).cuda()
    nc.cuda.synchronize()           # a no-op without CUDA
    assert nc.cuda.manual_seed(3) == 3
    for f in (nc.cuda.current_device, lambda: nc.cuda.set_device(0),
              lambda: nc.cuda.device(1).__enter__()):
        with pytest.raises(RuntimeError, match="not available"):
            f()


@pytest.fixture
def fresh_cuda_state(monkeypatch):
    """Let ``_load_cuda`` run again against a faked ``cupy`` module; restore afterwards."""
    saved = dict(B._cuda_state)
    saved_backend = B._BACKENDS.get("cuda")
    monkeypatch.setitem(B._cuda_state, "checked", False)
    monkeypatch.setitem(B._cuda_state, "backend", None)
    monkeypatch.setitem(B._cuda_state, "reason", None)
    yield monkeypatch
    B._cuda_state.update(saved)
    if saved_backend is None:
        B.unregister_backend("cuda")
    else:
        B.register_backend(saved_backend)


def test_cuda_missing_cupy_means_unavailable(fresh_cuda_state):
    fresh_cuda_state.setitem(sys.modules, "cupy", None)      # import cupy -> ImportError
    assert B.cuda_available() is False
    assert "not importable" in B._cuda_state["reason"]
    with pytest.raises(RuntimeError, match="not importable"):
        B.move_array(numpy.ones(1), "cuda")


def test_cuda_cupy_without_gpu_means_unavailable(fresh_cuda_state):
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(is_available=lambda: False)
    fresh_cuda_state.setitem(sys.modules, "cupy", fake)
    assert B.cuda_available() is False and B.cuda_device_count() == 0
    assert "no CUDA GPU" in B._cuda_state["reason"]
    assert "cuda" not in B.backends()


def test_cuda_backend_registers_lazily_with_a_gpu(fresh_cuda_state):
    # a CuPy look-alike: the stand-in's xp and array type behind cupy's device API
    class FakeDevice:
        def __init__(self, i=0):
            self.i = i

        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(is_available=lambda: True, Device=FakeDevice,
                                      runtime=types.SimpleNamespace(getDeviceCount=lambda: 2))
    fake.ndarray = type("ndarray", (), {})
    fake.asarray = lambda a: a
    fake.asnumpy = lambda a: a
    fresh_cuda_state.setitem(sys.modules, "cupy", fake)
    assert "cuda" not in B.backends()
    assert nc.cuda.is_available() and nc.cuda.device_count() == 2
    b = B.backends()["cuda"]
    assert b.xp is fake and b.array_type is fake.ndarray and b.device_count == 2


@pytest.mark.skipif(not CUDA, reason="needs CuPy and a CUDA GPU")
def test_real_cuda_roundtrip():
    import cupy
    t = nc.arange(6.0).reshape(2, 3).to("cuda")
    assert isinstance(t.data, cupy.ndarray) and t.device == "cuda:0"
    assert B.get_array_module(t) is cupy
    assert numpy.array_equal(t.cpu().numpy(), numpy.arange(6.0).reshape(2, 3))


# ------------------------------------------------------------------------------ stand-in
def test_standin_refuses_implicit_host_conversion():
    a = dev([1.0, 2.0])
    with pytest.raises(TypeError, match="implicit conversion"):
        numpy.asarray(a)
    with pytest.raises(TypeError):
        numpy.array([a, a])
    with pytest.raises(TypeError):
        numpy.exp(a)
    with pytest.raises(TypeError, match="numpy.sum"):
        numpy.sum(a)
    with pytest.raises(TypeError, match="numpy.concatenate"):
        numpy.concatenate([a, a])
    with pytest.raises(TypeError):
        numpy.lib.stride_tricks.as_strided(a, (2,), (8,))


def test_standin_refuses_host_arrays_in_arithmetic_and_calls():
    a = dev([1.0, 2.0])
    h = numpy.ones(2)
    for f in (lambda: a + h, lambda: h + a, lambda: a * h, lambda: h @ a, lambda: a < h,
              lambda: xp.maximum(a, h), lambda: xp.where(a > 0, a, h),
              lambda: xp.concatenate([a, h]), lambda: a.__iadd__(h)):
        with pytest.raises(TypeError, match="host numpy.ndarray"):
            f()
    with pytest.raises(TypeError, match="host numpy.ndarray"):
        a[0:2] = h
    # index arrays may come from the host: CuPy copies them to the device
    assert to_host(a[numpy.array([1, 0])]).tolist() == [2.0, 1.0]
    a[numpy.array([True, False])] = 7.0
    assert to_host(a).tolist() == [7.0, 2.0]


def test_standin_allows_scalars_and_explicit_transfers():
    a = dev([1.0, 2.0])
    assert to_host(numpy.float32(2) * a).tolist() == [2.0, 4.0]
    assert to_host(a * 2 + 1.5).tolist() == [3.5, 5.5]
    h = numpy.ones(2)
    d = xp.asarray(h)
    assert type(d) is S
    h[0] = 5
    assert to_host(d)[0] == 1                          # a copy, not an alias
    assert xp.asarray(a) is a                          # as CuPy: no copy of device arrays
    assert type(xp.asnumpy(a)) is numpy.ndarray and type(a.get()) is numpy.ndarray
    assert float(a[1]) == 2.0 and a[1].item() == 2.0 and bool(a[0]) and int(a[1]) == 2
    assert a.tolist() == [1.0, 2.0]
    assert to_host(a[[0, 0]]).tolist() == [1.0, 1.0]  # Python-list indices are fine


def test_standin_reductions_give_0d_device_arrays():
    a = dev([[1.0, 2.0], [3.0, 4.0]])
    for r in (xp.sum(a), a.sum(), a.max(), xp.mean(a), a[0, 1]):
        assert type(r) is S and r.ndim == 0


def test_standin_reductions_of_a_0d_array_take_no_axis():
    # CuPy normalises a reduction's axis against ndim: a 0-d array takes only axis=None
    # (NumPy also takes 0 and -1), so code that passes dim=0 through fails only on a GPU
    s = dev(2.0)
    for call in (lambda: s.sum(0), lambda: s.max(axis=-1), lambda: s.all(0),
                 lambda: xp.mean(s, axis=0), lambda: xp.argmax(s, 0),
                 lambda: s.any(axis=(0,))):
        with pytest.raises(IndexError, match="axis .* out of bounds for array of dimension 0"):
            call()
    assert to_host(s.sum()) == 2.0 and to_host(xp.amax(s, axis=None)) == 2.0
    assert to_host(s.sum(axis=())) == 2.0
    assert to_host(dev([1.0, 2.0]).sum(0)) == 3.0


def test_standin_float_floor_divide_and_remainder_follow_cupy():
    # CuPy's float loops: a // b = floor(a / b), a % b = a - floor(a / b) * b (NumPy's come
    # from fmod, exactly: 1.0 // 0.1 == 9.0 and 1.0 % 0.1 == 0.09999999999999995)
    a, b = dev([1.0, 7.5, 1.0]), dev([0.1, 2.0, numpy.inf])
    assert to_host(a // b).tolist() == [10.0, 3.0, 0.0]
    r = to_host(a % b)
    assert r[0] == 0.0 and r[1] == 1.5 and numpy.isnan(r[2])
    assert to_host(1.0 // dev([0.1])).tolist() == [10.0]
    assert to_host(xp.floor_divide(a, 0.1))[0] == 10.0 and to_host(xp.remainder(a, 0.1))[0] == 0.0
    q, m = divmod(dev([1.0]), 0.1)
    assert to_host(q)[0] == 10.0 and to_host(m)[0] == 0.0
    assert (a // b).dtype == numpy.float64 and (dev([1.0], 0).astype("f") % 0.1).dtype == "f"
    i = dev(numpy.array([7, -7, 7]))
    assert to_host(i // dev(numpy.array([2, 2, 0]))).tolist() == [3, -4, 0]     # as NumPy
    assert to_host(i % 3).tolist() == [1, 2, 1]


def test_standin_integer_power_with_a_negative_exponent_follows_cupy():
    # CuPy's integral_power: 0 (1 for base 1, +-1 for base -1) where NumPy raises ValueError
    i = dev(numpy.array([2, 1, -1, -1, 3]))
    assert to_host(i ** -1).tolist() == [0, 1, -1, -1, 0]
    assert to_host(i ** dev(numpy.array([-1, -2, -2, -3, 2]))).tolist() == [0, 1, 1, -1, 9]
    assert to_host(2 ** dev(numpy.array([-1, 3]))).tolist() == [0, 8]
    assert (i ** -1).dtype == numpy.int64 and to_host(dev([2.0]) ** -1).tolist() == [0.5]


def test_standin_add_reduceat_is_a_running_sum_difference():
    # CuPy's add.reduceat: differences of cumsum (in the input's dtype), NumPy's adds each
    # segment: after large rows a float32 segment loses its low bits
    g = numpy.array([[1e8, 1e8], [1e8, 1e8], [1, 1], [1, 1]], numpy.float32)
    r = to_host(xp.add.reduceat(dev(g), dev(numpy.array([0, 2])), axis=0))
    assert r.tolist() == [[2e8, 2e8], [0.0, 0.0]]
    assert numpy.add.reduceat(g, [0, 2], axis=0).tolist() == [[2e8, 2e8], [2.0, 2.0]]
    idx = numpy.array([0, 3, 1, 1])        # a non-increasing index takes its row as is
    exact = numpy.arange(12.0).reshape(4, 3)
    assert numpy.array_equal(to_host(xp.add.reduceat(dev(exact), dev(idx), axis=0)),
                             numpy.add.reduceat(exact, idx, axis=0))
    cols = numpy.array([0, 2])
    assert numpy.array_equal(to_host(xp.add.reduceat(dev(exact), dev(cols), axis=1)),
                             numpy.add.reduceat(exact, cols, axis=1))


def test_standin_integer_array_indices_wrap_around_like_cupys():
    # CuPy takes out-of-range integer-array indices modulo the size where NumPy raises;
    # integers and slices are checked (as NumPy)
    a = dev(numpy.arange(10.0).reshape(2, 5))
    assert to_host(a[dev(numpy.array([2, -3]))]).tolist() == [[0.0, 1, 2, 3, 4],
                                                               [5.0, 6, 7, 8, 9]]
    assert to_host(a[:, numpy.array([5, 7])]).tolist() == [[0.0, 2.0], [5.0, 7.0]]
    assert to_host(a[..., dev(numpy.array([6]))]).tolist() == [[1.0], [6.0]]
    assert to_host(a[None, numpy.array([True, False]), [9]]).tolist() == [[4.0]]
    a[numpy.array([3])] = 0.0                                   # row 1
    assert to_host(a).tolist() == [[0.0, 1, 2, 3, 4], [0.0] * 5]
    with pytest.raises(IndexError):
        a[2]
    with pytest.raises(IndexError):
        a[0, 5]


def test_standin_linalg_results_are_device_arrays_like_cupys():
    # NumPy returns named tuples (QRResult, SVDResult); CuPy plain tuples of device arrays
    a = dev(numpy.arange(12.0).reshape(4, 3) + numpy.eye(4, 3))
    for r in (xp.linalg.qr(a), xp.linalg.svd(a, full_matrices=False)):
        assert type(r) is tuple and all(type(p) is S for p in r)
    q, r = xp.linalg.qr(a)
    numpy.testing.assert_allclose(to_host(q @ r), to_host(a), atol=1e-12)


def test_standin_broadcast_views_are_writable_like_cupys():
    # cupy.ndarray has no read-only flag: a write through a broadcast view goes through (to
    # the shared elements, racing on a GPU) where NumPy's broadcast views refuse it
    a = dev([0.0, 0.0, 0.0])
    b = xp.broadcast_to(a, (2, 3))
    assert type(b) is S and b.shape == (2, 3) and b.strides == (0, 8)
    b[...] = 5.0
    assert to_host(a).tolist() == [5.0, 5.0, 5.0]
    with pytest.raises(ValueError):
        xp.broadcast_to(a, (2, 4))
    with pytest.raises(TypeError):
        xp.broadcast_to(1.0, (2,))                     # CuPy's takes only a device array


def test_standin_to_host_is_c_contiguous_like_asnumpy():
    t = dev(numpy.arange(6.0).reshape(2, 3)).T
    h = _standin.BACKEND.to_host(t)
    assert h.flags.c_contiguous and h.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_standin_inplace_and_out_keep_identity():
    a = dev([1.0, 2.0])
    b = a
    b += 1
    assert b is a and to_host(a).tolist() == [2.0, 3.0]
    r = xp.add(a, 1, out=a)
    assert r is a and to_host(a).tolist() == [3.0, 4.0]
    v = a[:1]
    v[...] = 9                                        # views share memory
    assert to_host(a)[0] == 9


def test_standin_shape_setter_like_cupy():
    a = dev(numpy.arange(6.0))
    v = a.view()
    v.shape = (2, 3)
    assert v.shape == (2, 3) and a.shape == (6,)
    t = xp.swapaxes(dev(numpy.zeros((2, 3))), 0, 1)
    with pytest.raises(AttributeError):
        t.shape = (6,)


def test_standin_xp_has_only_cupy_names():
    from npconv import _cupy_names as N
    for name in ("errstate", "matrix", "nditer", "insert", "geomspace"):
        assert name not in N.TOP
        with pytest.raises(AttributeError, match="CuPy has no"):
            getattr(xp, name)
    assert set(dir(xp)) >= {"zeros", "add", "lib", "random", "ndarray"}
    with pytest.raises(AttributeError):
        dev([1.0]).resize                              # cupy.ndarray has no resize
    with pytest.raises(AttributeError):
        dev([1.0]).ctypes


def test_standin_ufunc_methods_follow_cupy():
    a = xp.zeros(3)
    xp.add.at(a, [0, 0, 2], 1.0)
    xp.maximum.at(a, xp.asarray([1]), 5.0)
    assert to_host(a).tolist() == [2.0, 5.0, 1.0]
    m = xp.zeros((2, 2))
    xp.add.at(m, (xp.asarray([0, 0]), xp.asarray([1, 1])), dev([1.0, 2.0]))
    assert to_host(m).tolist() == [[0.0, 3.0], [0.0, 0.0]]
    with pytest.raises(NotImplementedError):
        xp.multiply.at(a, [0], 2.0)
    with pytest.raises(NotImplementedError):
        xp.maximum.reduce(a)
    assert float(xp.add.reduce(a)) == 8.0
    assert to_host(xp.multiply.outer(dev([1.0, 2.0]), dev([3.0]))).tolist() == [[3.0], [6.0]]
    with pytest.raises(TypeError):
        xp.add.at(numpy.zeros(3), [0], 1.0)            # host target


def test_standin_stride_tricks_and_linalg():
    a = dev(numpy.arange(6.0))
    w = xp.lib.stride_tricks.as_strided(a, shape=(4, 3), strides=(8, 8))
    assert type(w) is S and to_host(w)[3].tolist() == [3.0, 4.0, 5.0]
    s = xp.lib.stride_tricks.sliding_window_view(a, 2)
    assert s.shape == (5, 2)
    assert abs(float(xp.linalg.norm(dev([3.0, 4.0]))) - 5.0) < 1e-12


def test_standin_random_matches_cupy_generator_api():
    g = xp.random.default_rng(0)
    x = g.standard_normal((3,), dtype=numpy.float32)
    assert type(x) is S and x.dtype == numpy.float32
    assert type(g.random((2,), dtype=numpy.float32)) is S
    assert type(g.integers(0, 5, size=4)) is S
    for missing in ("normal", "permutation", "choice", "shuffle"):
        with pytest.raises(AttributeError):
            getattr(g, missing)
    # the legacy global stream is CuPy's own: numpy.random.seed does not reset it
    numpy.random.seed(0)
    r1 = to_host(xp.random.rand(3))
    numpy.random.seed(0)
    r2 = to_host(xp.random.rand(3))
    assert not numpy.array_equal(r1, r2)


def test_standin_devices_do_not_mix_and_current_device():
    a0, a1 = dev([1.0], 0), dev([1.0], 1)
    with pytest.raises(TypeError, match="standin:0 and standin:1"):
        a0 + a1
    assert xp.zeros(1).device.id == 0
    with xp.cuda.Device(1):
        z = xp.zeros(1)
        assert z.device.id == 1
        assert (a1 + z).device.id == 1
    assert (a1 * 2).device.id == 1 and xp.exp(a1).device.id == 1
    assert a1.sum().device.id == 1


def test_standin_refuses_pickle_but_copies():
    a = dev([1.0, 2.0])
    with pytest.raises(TypeError, match="bring it to the host"):
        pickle.dumps(a)
    assert to_host(copy.deepcopy(a)).tolist() == [1.0, 2.0]
    assert to_host(copy.copy(a)).tolist() == [1.0, 2.0]


def test_standin_custom_kernels_refused():
    with pytest.raises(NotImplementedError, match="real cupy"):
        xp.ElementwiseKernel("T x", "T y", "y = x", "k")


def test_standin_iteration_and_len():
    a = dev([[1.0, 2.0], [3.0, 4.0]])
    rows = list(a)
    assert len(a) == 2 and all(type(r) is S for r in rows)
    with pytest.raises(TypeError):
        list(dev(1.0))


def test_moving_data_makes_its_device_current_and_device_guard():
    b = _standin.BACKEND
    assert b.get_device() == 0
    t = nc.ones(2).to("standin:1")
    assert b.get_device() == 1                     # kernels now allocate on standin:1
    assert xp.zeros(1).device.id == 1
    with B.device_guard("standin:0"):
        assert xp.zeros(1).device.id == 0
        with B.device_guard("cpu"):
            assert b.get_device() == 0
    assert b.get_device() == 1
    assert t.device == "standin:1"
    with pytest.raises(RuntimeError, match="not available"):
        B.device_guard("standin:7").__enter__()


def test_standin_operators_defer_to_tensors_like_cupy():
    t = nc.ones(2, device="standin")
    r = dev([1.0, 2.0]) + t                        # -> Tensor.__radd__, stays on the device
    assert isinstance(r, nc.Tensor) and r.device == "standin:0"
    assert to_host(r).tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="standin:0 and cpu"):
        dev([1.0, 2.0]) * nc.ones(2)               # a host Tensor: a device clash, named


def test_standin_flags_like_cupy():
    a = dev(numpy.zeros((2, 3)))
    assert a.flags.c_contiguous and a.flags["C_CONTIGUOUS"] and not a.T.flags.c_contiguous
    assert a.T.flags.f_contiguous and a.flags.forc
    with pytest.raises(AttributeError):
        a.flags.writeable                          # NumPy-only
    with pytest.raises(KeyError):
        a.flags["WRITEABLE"]


def test_standin_refuses_keywords_cupy_lacks():
    a = dev([1.0, -2.0, 3.0])
    m = a > 0
    for f in (lambda: xp.maximum(a, 0.0, where=m), lambda: a.max(initial=0.0),
              lambda: xp.sum(a, where=m), lambda: a.sum(initial=1.0),
              lambda: xp.random.default_rng(0).integers(0, 3, size=2, bogus=1),
              lambda: xp.lib.stride_tricks.as_strided(a, shape=(2,), strides=(8,),
                                                      writeable=False)):
        with pytest.raises(TypeError, match="unexpected keyword"):
            f()
    # what CuPy takes goes through
    assert xp.add(a, 1.0, out=a, casting="same_kind") is a
    assert a.sum(axis=0, keepdims=True).shape == (1,)
    assert xp.random.default_rng(0).standard_normal(size=2, dtype=numpy.float32).shape == (2,)
    assert xp.asarray([1, 2], dtype=numpy.float32).dtype == numpy.float32
