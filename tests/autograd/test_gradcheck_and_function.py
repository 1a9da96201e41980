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


# -- gradcheck: layouts, outputs, dtypes -----------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradcheck_perturbs_non_contiguous_inputs(dtype):
    # a transposed input: the float64 copy must be C-contiguous, else the perturbations go to
    # a temporary and the numerical gradient is 0
    a = np.random.default_rng(0).standard_normal((4, 3)).astype(dtype)
    x = nc.Tensor(a.T, requires_grad=True)        # Tensor() keeps the array's layout
    assert not x.data.flags.c_contiguous and x.dtype == dtype
    assert gradcheck(lambda t: t * t, x)
    assert gradcheck(Square.apply, nc.Tensor(a[:, ::2], requires_grad=True))


def test_gradcheck_on_a_conv_output():
    conv = nc.nn.Conv2d(2, 3, 3)
    h = conv(nc.randn(2, 2, 6, 6)).detach().requires_grad_()   # float32, stored non-contiguous
    assert gradcheck(lambda t: (t * t).sum(dim=1), h)


def test_gradcheck_checks_only_the_outputs_that_require_grad():
    x = nc.tensor(np.random.rand(2, 3), requires_grad=True)
    # a detached float output is ignored on both sides (as PyTorch)
    assert gradcheck(lambda t: (t * 2, t.detach() * 3), x)

    class MaxAndArgmax(Function):
        @staticmethod
        def forward(ctx, a):
            i = a.argmax(axis=-1)
            idx = i.astype(np.float64)                # a float output, marked non-differentiable
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(a)
            ctx.i = i
            return a.max(axis=-1), idx

        @staticmethod
        def backward(ctx, gv, gi):
            (a,) = ctx.saved_tensors
            g = np.zeros_like(a)
            g[np.arange(a.shape[0]), ctx.i] = gv
            return g

    assert gradcheck(MaxAndArgmax.apply, x)


def test_gradcheck_when_no_output_requires_grad():
    x = nc.tensor(np.random.rand(3), requires_grad=True)
    assert gradcheck(lambda t: t > 0.5, x) is True                     # integer/bool outputs only
    assert gradcheck(lambda t: nc.ones(3, dtype=nc.float64), x) is True   # constant
    # a detached output that depends on the input: its backward is missing (as PyTorch)
    with pytest.raises(GradcheckError, match="no output of fn requires grad.*input 0"):
        gradcheck(lambda t: t.detach() * 2, x)


def test_gradcheck_converts_fixed_float32_tensor_arguments_to_float64():
    x = nc.randn(2, 3, requires_grad=True)
    w = nc.randn(4, 3)                   # float32, fixed: converted along with x
    assert gradcheck(nc.nn.functional.linear, (x, w))
    assert w.dtype == np.float32 and x.grad is None


def test_gradcheck_error_explains_float64_for_float32_layers():
    lin = nc.nn.Linear(3, 2)             # float32 parameters, not arguments of fn
    x = nc.randn(4, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"(?s)same dtype.*gradcheck ran fn on float64 copies "
                                           r"of its float32 Tensor arguments.*\.double\(\)"):
        gradcheck(lambda t: lin(t), x)
    assert gradcheck(lambda t: lin.double()(t), x)


def test_gradcheck_refuses_complex_inputs():
    z = nc.Tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    with pytest.raises(ValueError, match="input 0 is complex.*not supported"):
        gradcheck(lambda t: t * t, z)
    x = nc.tensor([1.0, 2.0], dtype=nc.float64, requires_grad=True)
    with pytest.raises(ValueError, match="output 0 is complex.*not supported"):
        gradcheck(lambda t: t.to(dtype=np.complex128), x)


# -- Function: non-differentiable outputs, keyword arguments, gradient checks -----------------

def test_mark_non_differentiable_single_output():
    class Triple(Function):
        @staticmethod
        def forward(ctx, a):
            out = a * 3
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return 3 * g

    y = Triple.apply(nc.tensor([1.0, 2.0], requires_grad=True))
    assert not y.requires_grad and y.grad_fn is None


def test_tensor_passed_by_keyword_is_refused_and_options_by_keyword_work():
    class Scale(Function):
        @staticmethod
        def forward(ctx, a, w=None, factor=1.0):
            ctx.factor = factor
            return a * factor if w is None else a * w * factor

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor

    x = nc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Scale.apply: pass Tensor arguments positionally.*"
                                        "got a Tensor for keyword 'w'"):
        Scale.apply(x, w=nc.tensor([3.0, 4.0], requires_grad=True))
    Scale.apply(x, factor=2.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_invalid_gradient_shape_names_function_and_input_index():
    class G(Function):
        @staticmethod
        def forward(ctx, c, a):
            return a * c

        @staticmethod
        def backward(ctx, g):
            return None, g.sum(0)         # (4,) for a (3, 4) input: cannot be summed to it

    a = nc.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(
            "Function GBackward returned an invalid gradient at index 1 - got [4] but "
            "expected shape compatible with [3, 4]")):
        G.apply(2.0, a).sum().backward()


def test_gradient_for_a_non_tensor_argument_raises():
    class Scaled(Function):
        @staticmethod
        def forward(ctx, a, k):
            ctx.k = k
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, np.ones(1)

    x = nc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="ScaledBackward returned a gradient different than "
                                           "None at index 1.*not a Tensor"):
        Scaled.apply(x, 3.0).sum().backward()
    # a Tensor that does not require grad may get a gradient: it is dropped (as PyTorch)
    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g * 2, g * 2

    x.grad = None
    Mul.apply(x, nc.tensor([2.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_extra_trailing_none_gradients_are_accepted():
    class Extra(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return 2 * g, None, None

    x = nc.tensor([1.0, 2.0], requires_grad=True)
    Extra.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_needs_input_grad_under_no_grad():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            return None, None, None

    a = nc.tensor([1.0], requires_grad=True)
    with nc.no_grad():
        y = Probe.apply(a, nc.tensor([2.0]), 3.0)
        Probe.apply(nc.tensor([1.0]), nc.tensor([2.0]), 3.0)
    assert seen == [(True, False, False), (False, False, False)]
    assert not y.requires_grad and y.grad_fn is None


class _NaNBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * np.nan


def _model_with_user_function(x):
    h = x * 1.0
    y = _NaNBackward.apply(h)  # ANOMALY-USER-APPLY
    return y.sum()


def test_detect_anomaly_names_the_line_of_a_user_function_apply():
    x = nc.randn(3, requires_grad=True)
    with nc.detect_anomaly():
        loss = _model_with_user_function(x)
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    line = [i for i, s in enumerate(open(__file__), 1) if "# ANOMALY-USER-APPLY" in s][0]
    assert "_NaNBackwardBackward" in msg
    assert "%s:%d)" % (os.path.basename(__file__), line) in msg
