"""Arguments and errors of the conv / pool / activation / linear API, as PyTorch has them.

Expected values were taken from torch 2.13 (which CI does not install): each test states
what PyTorch does, and npconv must do the same or raise a clear error, never compute a
silently different answer.
"""
import numpy as np
import pytest

import npconv as nc
import npconv.nn as nn
import npconv.nn.functional as F


def T(a, grad=False):
    return nc.tensor(a, requires_grad=grad)


def test_one_element_tuples_are_pairs():
    x = T(np.arange(2 * 3 * 7 * 7, dtype=np.float64).reshape(2, 3, 7, 7))
    w = T(np.ones((4, 3, 3, 3)))
    np.testing.assert_array_equal(F.conv2d(x, w, stride=(2,), padding=(1,)).data,
                                  F.conv2d(x, w, stride=2, padding=1).data)
    np.testing.assert_array_equal(F.max_pool2d(x, (2,), (2,)).data, F.max_pool2d(x, 2).data)
    np.testing.assert_array_equal(F.avg_pool2d(x, (3,), padding=(1,)).data,
                                  F.avg_pool2d(x, 3, padding=1).data)
    assert nn.Conv2d(3, 4, (2,)).kernel_size == (2, 2)
    with pytest.raises(ValueError, match=r"stride must be an int or a pair of ints, but got "
                                         r"\(1, 2, 3\)"):
        F.conv2d(x, w, stride=(1, 2, 3))


def test_conv_modules_check_their_arguments_when_built():
    # PyTorch rejects a float stride (at the call) instead of truncating it; a bad padding
    # string or 'same' with a stride already in the constructor
    with pytest.raises(ValueError, match="Conv2d: stride must be an int or a pair of ints, "
                                         "but got 1.7"):
        nn.Conv2d(4, 2, 3, stride=1.7)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(4, 2, 2.9)
    with pytest.raises(ValueError, match="invalid padding string 'foo'"):
        nn.Conv2d(4, 2, 3, padding="foo")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(4, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="ConvTranspose2d: padding must be an int or a pair"):
        nn.ConvTranspose2d(4, 2, 3, padding="same")
    c = nn.Conv2d(4, 2, 3, padding="same")
    assert c(nc.ones(1, 4, 5, 6)).shape == (1, 2, 5, 6)


def test_conv_transpose2d_module_output_size():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2)
    x = nc.ones(1, 2, 4, 4)
    assert m(x).shape == (1, 3, 9, 9)
    assert m(x, output_size=(10, 10)).shape == (1, 3, 10, 10)
    assert m(x, output_size=[1, 3, 10, 9]).shape == (1, 3, 10, 9)     # (N, C, H, W) too
    y = m(x, output_size=(10, 9))
    ref = F.conv_transpose2d(x, m.weight, m.bias, 2, 0, (1, 0))
    np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy())
    assert m.output_padding == (0, 0)                   # the module's own setting is kept
    with pytest.raises(ValueError, match=r"requested an output size of \[11, 11\], but valid "
                                         r"sizes range from \[9, 9\] to \[10, 10\]"):
        m(x, output_size=(11, 11))
    # the range is stride - 1 wide, as PyTorch's, whatever the dilation
    d = nn.ConvTranspose2d(1, 1, 3, stride=1, dilation=3)
    assert d(nc.ones(1, 1, 4, 4), output_size=(10, 10)).shape == (1, 1, 10, 10)
    with pytest.raises(ValueError, match=r"range from \[10, 10\] to \[10, 10\]"):
        d(nc.ones(1, 1, 4, 4), output_size=(11, 11))


def test_avg_pool2d_module_divisor_override():
    x = T(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    y = nn.AvgPool2d(2, divisor_override=3)(x)
    np.testing.assert_allclose(y.data.ravel(), np.array([10, 18, 42, 50]) / 3, rtol=1e-6)
    np.testing.assert_array_equal(y.data, F.avg_pool2d(x, 2, divisor_override=3).data)


def test_linear_refuses_mixed_dtypes():
    # PyTorch: "expected m1 and m2 to have the same dtype"; no silent float64 upcast
    x = T(np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="expected input and weight to have the same dtype, "
                                           "but got float32 and float64"):
        F.linear(x, T(np.ones((4, 3))))
    with pytest.raises(RuntimeError, match="input and bias"):
        F.linear(x, T(np.ones((4, 3), np.float32)), T(np.ones(4)))
    assert F.linear(x, T(np.ones((4, 3), np.float32))).dtype == np.float32


def test_integer_inputs_where_pytorch_has_no_integer_kernel():
    xi = T(np.arange(16).reshape(1, 1, 4, 4))
    with pytest.raises(TypeError, match="leaky_relu.*floating-point input, but got int64"):
        F.leaky_relu(T(np.array([-1, 2])))
    for fn in (lambda: F.avg_pool2d(xi, 2), lambda: F.adaptive_avg_pool2d(xi, 2),
               lambda: F.global_avg_pool2d(xi)):
        with pytest.raises(TypeError, match="floating-point input, but got int64"):
            fn()
    # max-pool and relu do have integer kernels in PyTorch: same values, the dtype kept,
    # the padding the smallest integer (not -inf cast to an integer)
    y = F.max_pool2d(xi, 3, 1, 1)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.data.ravel()[:5], [5, 6, 7, 7, 9])
    assert F.relu(T(np.array([-1, 2]))).data.tolist() == [0, 2]


def test_functions_want_tensors():
    x = np.ones((1, 1, 4, 4), np.float32)
    w = T(np.ones((1, 1, 2, 2), np.float32))
    with pytest.raises(TypeError, match="conv2d\\(\\): argument 'input' must be a Tensor, not "
                                        "ndarray"):
        F.conv2d(x, w)
    with pytest.raises(TypeError, match="argument 'weight' must be a Tensor"):
        F.conv2d(T(x), np.ones((1, 1, 2, 2), np.float32))
    with pytest.raises(TypeError, match="max_pool2d\\(\\): argument 'input' must be a Tensor"):
        F.max_pool2d(x, 2)
    with pytest.raises(TypeError, match="relu\\(\\): argument 'input' must be a Tensor"):
        F.relu(x)


def test_dropout_takes_numpy_probabilities():
    x = nc.ones(100)
    nc.manual_seed(0)
    a = F.dropout(x, np.float32(0.5)).data
    nc.manual_seed(0)
    b = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, b)
    assert nn.Dropout(np.float64(0.25)).p == 0.25
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, np.float32(1.5))


def test_inplace_arguments_are_accepted_and_leave_the_input_alone():
    # documented difference: npconv has no in-place autograd, so inplace=True returns a new
    # tensor (PyTorch would overwrite the input)
    x = T(np.array([-1.0, 2.0], np.float32))
    assert F.leaky_relu(x, 0.1, inplace=True).data.tolist() == pytest.approx([-0.1, 2.0])
    assert F.relu(x, inplace=True).data.tolist() == [0.0, 2.0]
    assert x.data.tolist() == [-1.0, 2.0]
