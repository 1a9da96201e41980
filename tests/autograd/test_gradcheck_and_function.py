"""gradcheck itself (it must catch wrong backwards), npconv.testing, the documented custom
Function pattern, and detect_anomaly."""
import os
import re

import numpy as np
import pytest

import npconv as nc
from npconv.autograd import Function, GradcheckError, gradcheck
from npconv.testing import assert_close, assert_gradcheck


class Square(Function):
    """The documented pattern: raw arrays in forward and backward."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return 2 * x * gy


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        wrong = 2 * x * gy
        wrong.reshape(-1)[-1] += 0.5          # one element off
        return wrong


class ScaledSum(Function):
    """Two tensor inputs and a non-tensor argument; uses needs_input_grad."""
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return (a * b).sum() * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_exports():
    assert nc.gradcheck is gradcheck and nc.autograd.gradcheck is gradcheck
    assert nc.testing.assert_gradcheck is assert_gradcheck


def test_custom_function_forward_backward_and_gradcheck():
    x = nc.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = Square.apply(x)
    assert isinstance(y, nc.Tensor) and y.grad_fn.name() == "SquareBackward"
    assert y.tolist() == [1.0, 4.0, 9.0] if not y.requires_grad else True
    y.sum().backward()
    assert x.grad.tolist() == [2.0, -4.0, 6.0]
    assert gradcheck(Square.apply, (nc.tensor(np.random.rand(3, 2), requires_grad=True),))


def test_custom_function_needs_input_grad_and_extra_args():
    a = nc.tensor([1.0, 2.0], dtype=nc.float64, requires_grad=True)
    b = nc.tensor([3.0, 4.0], dtype=nc.float64)
    out = ScaledSum.apply(a, b, 0.5)
    assert out.grad_fn.needs_input_grad == (True, False, False)
    out.backward()
    assert a.grad.tolist() == [1.5, 2.0] and b.grad is None
    assert_gradcheck(lambda x, y: ScaledSum.apply(x, y, 3.0),
                     (a.detach().requires_grad_(), b.detach().requires_grad_()))


def test_custom_function_wrong_number_of_gradients_is_a_clear_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g, g

    with pytest.raises(RuntimeError, match="BadBackward returned an incorrect number"):
        Bad.apply(nc.ones(2, requires_grad=True), nc.ones(2, requires_grad=True)).sum().backward()


def test_custom_function_wrong_gradient_shape_is_a_clear_error():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    with pytest.raises(RuntimeError, match="BadShapeBackward returned an invalid gradient"):
        BadShape.apply(nc.ones(3, 2, requires_grad=True)).sum().backward()


def test_gradcheck_passes_on_correct_ops_and_returns_true():
    x = nc.tensor(np.random.rand(3, 4), requires_grad=True)
    assert gradcheck(lambda t: (t * t).sum(dim=1).exp(), (x,)) is True
    assert gradcheck(lambda t: t.tanh(), x) is True      # a bare Tensor is accepted


def test_gradcheck_catches_wrong_backward_naming_input_index_and_values():
    x = nc.tensor(np.arange(6.0).reshape(2, 3) / 7, requires_grad=True)
    c = nc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda k, t: k.sum() * 0 + WrongSquare.apply(t), (c, x))
    msg = str(info.value)
    assert "input 1" in msg and "(1, 2)" in msg
    # gradcheck differentiates <r, y> for a random r: the values are r-weighted, and the
    # wrong backward adds exactly 0.5 at element (1, 2)
    m = re.search(r"analytical ([-\d.e+]+), numerical ([-\d.e+]+)", msg)
    assert m, msg
    assert abs(float(m.group(1)) - float(m.group(2)) - 0.5) < 1e-4
    assert gradcheck(lambda t: WrongSquare.apply(t), (x,), raise_exception=False) is False


def test_assert_gradcheck_raises_plain_assertion_error():
    x = nc.tensor(np.random.rand(4), requires_grad=True)
    with pytest.raises(AssertionError, match="Jacobian mismatch for input 0"):
        assert_gradcheck(WrongSquare.apply, (x,))
    assert_gradcheck(Square.apply, (x,))


def test_gradcheck_catches_missing_gradient():
    class Detached(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 3

        @staticmethod
        def backward(ctx, g):
            return None

    x = nc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0 got no gradient"):
        gradcheck(Detached.apply, (x,))


def test_gradcheck_uses_float64_for_float32_inputs():
    x = nc.tensor(np.random.rand(3).astype(np.float32), requires_grad=True)
    seen = []
    gradcheck(lambda t: seen.append(t.dtype) or t.exp(), (x,))
    assert set(seen) == {np.dtype(np.float64)}
    assert x.grad is None      # the caller's tensor is untouched


def test_gradcheck_without_inputs_requiring_grad_raises():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t * 2, (nc.ones(2),))


def test_assert_close():
    assert_close(nc.tensor([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError):
        assert_close(nc.tensor([1.0, 2.0]), [1.0, 2.1])
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(nc.tensor([1.0]), np.array([1.0]), check_dtype=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_function_and_line_for_nan_in_forward():
    x = nc.tensor([-1.0, 1.0], requires_grad=True)
    with nc.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            x.log()  # ANOMALY-FORWARD
    msg = str(info.value)
    line = [i for i, s in enumerate(open(__file__), 1) if "# ANOMALY-FORWARD" in s][0]
    assert "'Log'" in msg and "nan" in msg and "%s:%d" % (os.path.basename(__file__), line) in msg


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_function_and_line_for_nan_in_backward():
    x = nc.tensor([0.0, 1.0], requires_grad=True)
    with nc.detect_anomaly():
        y = x.sqrt()  # ANOMALY-BACKWARD
        z = (y * 0.0).sum()     # finite forward, but d sqrt(x)/dx at 0 is inf, times 0: nan
        with pytest.raises(RuntimeError) as info:
            z.backward()
    msg = str(info.value)
    line = [i for i, s in enumerate(open(__file__), 1) if "# ANOMALY-BACKWARD" in s][0]
    assert "SqrtBackward" in msg and "nan" in msg
    assert "%s:%d" % (os.path.basename(__file__), line) in msg


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_function_and_line_for_inf_in_forward_and_backward():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    with nc.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            (x * 100.0).exp()  # ANOMALY-INF-FORWARD
    msg = str(info.value)
    line = [i for i, s in enumerate(open(__file__), 1) if "# ANOMALY-INF-FORWARD" in s][0]
    assert "'Exp'" in msg and "inf" in msg and "nan" not in msg
    assert "%s:%d" % (os.path.basename(__file__), line) in msg
    x = nc.tensor([0.0, 4.0], requires_grad=True)
    with nc.detect_anomaly():
        y = x.sqrt()  # ANOMALY-INF-BACKWARD
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()            # d sqrt(x)/dx at 0 is inf
    msg = str(info.value)
    line = [i for i, s in enumerate(open(__file__), 1) if "# ANOMALY-INF-BACKWARD" in s][0]
    assert "SqrtBackward" in msg and "inf" in msg
    assert "%s:%d" % (os.path.basename(__file__), line) in msg


def test_without_detect_anomaly_nan_passes_silently():
    x = nc.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x.log()
    assert np.isnan(y.item())
