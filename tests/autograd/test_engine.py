"""The engine and the Tensor layer's autograd rules: order, accumulation, freeing, modes,
the version counter, and the errors a user sees."""
import gc
import sys
import weakref

import numpy as np
import pytest

import npconv as nc
from npconv.autograd import Function


def test_gradients_accumulate_into_leaves_across_uses_and_calls():
    x = nc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x + x * 3).sum()      # x used by three ops
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 5)


def test_diamond_graph_visits_each_node_once_after_all_consumers():
    x = nc.tensor(2.0, requires_grad=True)
    a = x * 3
    b = a.exp()
    c = a * a
    d = (b + c) * a            # a reaches d along three paths
    d.backward()
    a_ = 6.0
    dd_da = (np.exp(a_) + 2 * a_) * a_ + np.exp(a_) + a_ * a_
    np.testing.assert_allclose(x.grad.item(), 3 * dd_da, rtol=1e-5)


def test_wide_graph_many_branches():
    x = nc.tensor(np.ones(4), requires_grad=True)
    total = sum((x * float(i)).sum() for i in range(2000))
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(4, sum(range(2000))))


def test_deep_chain_of_100000_ops_backward_without_recursion():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    limit = sys.getrecursionlimit()
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(y.detach().numpy(), [100001.0, 100002.0])
    del y           # freeing the 100,000-node graph must not overflow the C stack either
    gc.collect()


def test_graph_frees_itself_when_output_dropped():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


def test_saved_buffers_freed_after_backward_and_second_backward_raises():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    mul = y.grad_fn._edges[0][0]
    assert mul._saved is None


def test_retain_graph_allows_second_backward_and_accumulates():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_non_scalar_backward_needs_gradient():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    y.backward(nc.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(nc.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nc.tensor([1.0]).sum().backward()


def test_one_element_non_scalar_backward_is_allowed():
    x = nc.tensor([3.0], requires_grad=True)
    (x * x).backward()
    assert x.grad.tolist() == [6.0]


def test_no_grad_context_and_decorator_and_enable_grad():
    x = nc.tensor([1.0], requires_grad=True)
    with nc.no_grad():
        assert not nc.is_grad_enabled()
        y = x * 2
        with nc.enable_grad():
            assert nc.is_grad_enabled()
            z = x * 2
    assert nc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @nc.no_grad()
    def f(t):
        return t * 2

    @nc.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad and nc.is_grad_enabled()
    with nc.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    assert nc.is_grad_enabled()
    nc.set_grad_enabled(False)
    assert not nc.is_grad_enabled()
    nc.set_grad_enabled(True)
    assert nc.is_grad_enabled()


def test_no_grad_restores_state_after_exception():
    with pytest.raises(ValueError):
        with nc.no_grad():
            raise ValueError
    assert nc.is_grad_enabled()


def test_backward_inside_no_grad_works():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with nc.no_grad():
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_inplace_on_saved_input_raises_version_error():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    w = nc.tensor([3.0, 4.0])           # does not require grad; saved by Mul
    y = (x * w).sum()
    w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; "
                                           "expected version 0.*MulBackward"):
        y.backward()


def test_inplace_on_saved_output_raises():
    x = nc.tensor([1.0, -2.0], requires_grad=True)
    y = x.exp()                        # Exp saves its output
    z = (y * 1.0).sum()
    with nc.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="inplace operation"):
        z.backward()


def test_inplace_through_a_view_is_detected():
    x = nc.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = nc.tensor([1.0, 2.0, 3.0, 4.0])
    y = (x * w).sum()
    w.reshape(2, 2)[0].add_(1.0)         # changes w's data through views
    with pytest.raises(RuntimeError, match="inplace operation"):
        y.backward()
    v = nc.tensor([1.0, 2.0])
    z = (x[:2] * v).sum()
    with nc.no_grad():
        v[0:1].mul_(3.0)
    with pytest.raises(RuntimeError, match="inplace operation"):
        z.backward()


def test_inplace_under_no_grad_allowed_after_backward():
    p = nc.tensor([1.0, 2.0], requires_grad=True)
    loss = (p * p).sum()
    loss.backward()
    with nc.no_grad():
        p -= p.grad * 0.1
        p.add_(1.0)
        p.mul_(2.0)
    np.testing.assert_allclose(p.detach().numpy(), [(1 - 0.2 + 1) * 2, (2 - 0.4 + 1) * 2])
    assert p.requires_grad and p.is_leaf


def test_leaf_inplace_raises_and_non_leaf_inplace_raises():
    p = nc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p += 1
    y = p * 2
    with pytest.raises(RuntimeError, match="in-place"):
        y.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        nc.zeros(2).add_(p)     # would need to record a gradient for p


def test_inplace_on_plain_tensor_when_recording():
    t = nc.tensor([1.0, 2.0])
    t += 1
    t *= nc.tensor([2.0, 3.0])
    t -= 0.5
    t /= 2
    t.add_(nc.tensor([1.0, 1.0]), alpha=2)
    np.testing.assert_allclose(t.numpy(), [(4 - 0.5) / 2 + 2, (9 - 0.5) / 2 + 2])
    assert t.dtype == np.float32 and t._version[0] == 5


def test_detach_shares_data_and_cuts_graph():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.data, y.data)
    z = (d * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_requires_grad_():
    x = nc.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nc.tensor([1, 2]).requires_grad_()
    y = nc.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_retain_grad_and_non_leaf_grad_is_none_by_default():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    k = x * 5
    (h * h + k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * np.array([3.0, 6.0]))
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert k.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([3.0, 6.0]) + 5)


def test_leaf_grads_are_writable_and_not_shared():
    a = nc.tensor([1.0, 2.0], requires_grad=True)
    b = nc.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()               # Add hands the same array to both edges
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]
    c = nc.tensor(3.0, requires_grad=True)
    c.sum().backward()                     # Sum's backward is a read-only broadcast view
    c.grad.mul_(2.0)
    assert c.grad.item() == 2.0


def test_scalar_results_are_zero_dim_arrays():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    s = (x * x).sum()
    assert isinstance(s.data, np.ndarray) and s.shape == () and s.dtype == np.float32
    assert np.asarray(s).shape == () and s.item() == 5.0


def test_autograd_backward_function_with_several_roots():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    nc.autograd.backward([(x * 2).sum(), x * x], [None, nc.tensor([1.0, 1.0])])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])


def test_grad_dtype_matches_leaf_dtype():
    x = nc.tensor([1.0, 2.0], requires_grad=True)              # float32
    w = nc.tensor([1.0, 2.0], dtype=nc.float64, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_multiple_outputs_only_one_used():
    x = nc.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    values, idx = x.max(dim=1)
    assert idx.tolist() == [1, 0]
    (values * 2).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [2.0, 0.0]]


def test_backward_on_leaf_itself():
    x = nc.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_grad_fn_names_and_next_functions():
    x = nc.tensor([1.0], requires_grad=True)
    y = (x * 2 + 1).relu()
    assert y.grad_fn.name() == "ReLUBackward"
    add = y.grad_fn.next_functions[0]
    assert add.name() == "AddBackward"
    mul = add.next_functions[0]
    assert mul.next_functions[0] is x


def test_same_no_grad_instance_can_be_nested():
    g = nc.no_grad()
    with g:
        with g:
            assert not nc.is_grad_enabled()
        assert not nc.is_grad_enabled()
    assert nc.is_grad_enabled()


def test_forward_returning_a_tensor_is_a_clear_error():
    class Bad(nc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return nc.tensor(x)

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="Bad.forward returned a Tensor"):
        Bad.apply(nc.ones(2))


def test_backward_may_return_a_tensor_or_numpy_scalar():
    class Half(nc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum() * 0.5          # a NumPy scalar: becomes a 0-d array

        @staticmethod
        def backward(ctx, g):
            return nc.Tensor(np.full(3, 0.5, np.float32) * g)

    x = nc.ones(3, requires_grad=True)
    y = Half.apply(x)
    assert isinstance(y.data, np.ndarray) and y.item() == 1.5
    y.backward()
    assert x.grad.tolist() == [0.5, 0.5, 0.5]


def test_zero_dim_leaf_gradients_stay_arrays_when_accumulated():
    x = nc.tensor(2.0, requires_grad=True)
    (x * x + x * 3).backward()          # two 0-d gradients are summed
    (x * 2).backward()
    assert isinstance(x.grad.data, np.ndarray) and x.grad.item() == 9.0
    x.grad.zero_()
    assert x.grad.item() == 0.0


class _TwoOutputs(Function):
    """y = (2x, 3x as float32): backward reads both gradients."""
    seen = []

    @staticmethod
    def forward(ctx, x):
        return x * 2, (x * 3).astype(np.float32)

    @staticmethod
    def backward(ctx, ga, gb):
        _TwoOutputs.seen.append(gb)
        return 2 * ga + (0 if gb is None else 3 * gb)


def test_dropped_output_of_a_multi_output_function_gets_zeros():
    x = nc.tensor(np.ones((2, 3)), dtype=nc.float64, requires_grad=True)
    _TwoOutputs.seen.clear()
    first = _TwoOutputs.apply(x)[0]      # the second output is dropped (freed) at once
    first.sum().backward()
    (gb,) = _TwoOutputs.seen
    assert gb.shape == (2, 3) and gb.dtype == np.float32 and not gb.any()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_non_differentiable_output_gets_zeros_and_materialize_grads_false_gives_none():
    seen = []

    class Split(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            s = x * 3
            ctx.mark_non_differentiable(s)
            return x * 2, s

        @staticmethod
        def backward(ctx, ga, gs):
            seen.append(gs)
            return 2 * ga, None

    x = nc.tensor([1.0, 2.0], requires_grad=True)
    a, s = Split.apply(x, True)
    assert not s.requires_grad
    a.sum().backward()
    Split.apply(x, False)[0].sum().backward()
    assert seen[0].tolist() == [0.0, 0.0] and seen[1] is None
    assert x.grad.tolist() == [4.0, 4.0]


def test_no_grad_decorator_on_a_generator_applies_to_its_body():
    x = nc.tensor([1.0], requires_grad=True)

    @nc.no_grad()
    def gen(t):
        got = yield t * 2
        assert got == "sent"
        yield t * 3
        return "done"

    it = gen(x)
    first = next(it)
    assert nc.is_grad_enabled()            # the caller's mode between steps
    second = it.send("sent")
    assert not first.requires_grad and not second.requires_grad
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done" and nc.is_grad_enabled()

    @nc.enable_grad()
    def inside(t):
        yield t * 2

    with nc.no_grad():
        assert all(y.requires_grad for y in inside(x))
        assert not nc.is_grad_enabled()

    @nc.no_grad()
    def catching():
        try:
            yield 1
        except ValueError:
            yield nc.is_grad_enabled()          # the thrown exception reaches the body

    g = catching()
    next(g)
    assert g.throw(ValueError("x")) is False and nc.is_grad_enabled()

    @nc.no_grad
    def closing():
        try:
            yield 1
        finally:
            assert not nc.is_grad_enabled()   # close() runs the body's cleanup in its mode
    c = closing()
    next(c)
    c.close()
    assert nc.is_grad_enabled()
