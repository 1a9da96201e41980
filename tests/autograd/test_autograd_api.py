"""The autograd API against PyTorch's semantics, with the expected values and messages written
out (PyTorch 2.x's, checked by hand and by test_autograd_api_torch.py): ``Tensor.backward``
and ``autograd.backward`` (implicit gradients, checks, retain_graph, ``inputs=``,
create_graph), ``autograd.grad``, leaf and non-leaf rules (``.grad``, ``retain_grad``,
``requires_grad``, ``detach``/``detach_``), hooks, grad modes (thread-local), user Functions
and gradcheck. Runs without torch."""
import threading
import warnings

import numpy as np
import pytest

import npconv as nc
from npconv.autograd import Function, GradcheckError, grad as autograd_grad

from devices import on_devices, to_host


def leaf(values, dtype=np.float64, device="cpu"):
    return nc.tensor(np.asarray(values, dtype=dtype), device=device, requires_grad=True)


def host(t):
    return to_host(t).tolist()


class Counted(Function):
    """y = 2x, counting its backward calls (to see which nodes the engine runs)."""
    calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        Counted.calls += 1
        ctx.saved_tensors
        return 2 * g


# ---------------------------------------------------------------- Tensor.backward

def test_implicit_gradient_only_for_one_element_outputs():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar "
                                           "outputs$"):
        (a * 2).backward()
    assert a.grad is None
    (a * 2).sum().backward()
    assert host(a.grad) == [2.0, 2.0]
    b = leaf([3.0])                     # one element, not 0-d: allowed, as in PyTorch
    (b * b).backward()
    assert host(b.grad) == [6.0]


def test_backward_on_tensor_that_does_not_require_grad():
    msg = "^element 0 of tensors does not require grad and does not have a grad_fn$"
    with pytest.raises(RuntimeError, match=msg):
        nc.ones(()).backward()
    with pytest.raises(RuntimeError, match=msg):       # PyTorch checks this before the shape
        nc.ones(3).backward()
    with pytest.raises(RuntimeError, match=msg.replace("element 0", "element 1")):
        nc.autograd.backward([leaf(1.0) * 2, nc.ones(())])


def test_backward_gradient_checks():
    a = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "
                                           r"\(2,\) and output\[0\] has a shape of \(3,\)\."):
        (a * 2).backward(nc.ones(2))
    assert a.grad is None
    # another dtype is cast to the output's, as PyTorch does
    (a * 2).backward(nc.tensor([1, 2, 3]))
    assert a.grad.dtype == np.float64 and host(a.grad) == [2.0, 4.0, 6.0]
    # a raw array is accepted (npconv's .data is one)
    a.grad = None
    (a * 2).backward(np.array([1.0, 0.0, 0.0]))
    assert host(a.grad) == [2.0, 0.0, 0.0]


def test_backward_gradient_on_another_device():
    a = leaf([1.0, 2.0], device="standin")
    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - expected device "
                                           "standin.* but got cpu"):
        (a * 2).backward(nc.ones(2))


def test_second_backward_error_and_retain_graph():
    a = leaf([1.0, 2.0])
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward()                         # kept: runs again and accumulates
    assert host(a.grad) == [4.0, 8.0]
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second time "
                                           r"\(or directly access saved tensors after they have "
                                           r"already been freed\)\. Saved intermediate values of "
                                           r"the graph are freed when you call \.backward\(\) or "
                                           r"autograd\.grad\(\)\. Specify retain_graph=True"):
        y.backward()
    assert host(a.grad) == [4.0, 8.0]


def test_create_graph_is_refused_not_ignored():
    a = leaf([1.0, 2.0])
    y = (a ** 3).sum()
    with pytest.raises(NotImplementedError, match=r"backward\(create_graph=True\): npconv has no "
                                                  "higher-order gradients"):
        y.backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="no higher-order gradients"):
        nc.autograd.backward(y, create_graph=True)
    with pytest.raises(NotImplementedError, match=r"grad\(create_graph=True\)"):
        autograd_grad(y, a, create_graph=True)
    assert a.grad is None
    y.backward()                         # nothing was run or freed by the refused calls
    assert host(a.grad) == [3.0, 12.0]


def test_autograd_backward_several_outputs():
    a = leaf([1.0, 2.0])
    nc.autograd.backward([(a * a).sum(), a * 3], [None, nc.tensor([1.0, 10.0])])
    assert host(a.grad) == [2.0 + 3.0, 4.0 + 30.0]
    with pytest.raises(RuntimeError, match="^got 2 tensors and 1 gradients$"):
        nc.autograd.backward([(a * a).sum(), a * 3], [None])
    with pytest.raises(TypeError, match="expected a Tensor or a sequence of Tensors, got float"):
        nc.autograd.backward(1.0)


# ---------------------------------------------------------------- backward(inputs=...)

def test_backward_inputs_restricts_accumulation():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    assert host(a.grad) == [3.0, 4.0]
    assert b.grad is None
    (a * b).sum().backward(inputs=b)              # a single Tensor is accepted
    assert host(b.grad) == [1.0, 2.0] and host(a.grad) == [3.0, 4.0]
    (a * 3).sum().backward(inputs=[a, a])          # a repeated input accumulates once
    assert host(a.grad) == [6.0, 7.0]


def test_backward_inputs_non_leaf_gets_grad_and_retains_it():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = a * b                                       # (3, 8)
    (h * h).sum().backward(inputs=[h], retain_graph=True)
    assert host(h.grad) == [6.0, 16.0] and h.retains_grad
    assert a.grad is None and b.grad is None
    (h * h).sum().backward(inputs=[a])             # h retains its grad from now on
    assert host(h.grad) == [12.0, 32.0]
    assert host(a.grad) == [18.0, 64.0] and b.grad is None


def test_backward_inputs_errors_and_unreachable_inputs():
    a, c = leaf([1.0, 2.0]), leaf([5.0])
    with pytest.raises(RuntimeError, match=r"^`inputs` argument to `backward\(\)` cannot be "
                                           r"empty\.$"):
        (a * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="^can't retain_grad on Tensor that has "
                                           "requires_grad=False$"):
        (a * 2).sum().backward(inputs=[nc.ones(2)])
    (a * 2).sum().backward(inputs=[c])             # not in the graph: nothing, no error
    assert c.grad is None and a.grad is None


def test_backward_inputs_runs_only_the_nodes_that_lead_to_them():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    Counted.calls = 0
    y = (Counted.apply(b) + a * 1.0).sum()          # CountedBackward leads only to b
    y.backward(inputs=[a])
    assert Counted.calls == 0 and host(a.grad) == [1.0, 1.0]
    y.backward(inputs=[b])                          # its saved input was not freed
    assert Counted.calls == 1 and host(b.grad) == [2.0, 2.0]


# ---------------------------------------------------------------- autograd.grad

def test_grad_values_and_no_accumulation():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = a * b
    h.retain_grad()
    ga, gb = autograd_grad((h * h).sum(), [a, b])
    assert host(ga) == [18.0, 64.0] and host(gb) == [6.0, 32.0]
    assert a.grad is None and b.grad is None
    assert not ga.requires_grad and ga.grad_fn is None
    assert host(h.grad) == [6.0, 16.0]              # retain_grad still fires, as in PyTorch


def test_grad_unused_inputs():
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"^The differentiated Tensor at index 1 appears to "
                                           r"not have been used in the graph\. Set "
                                           r"allow_unused=True if this is the desired behavior\.$"):
        autograd_grad((a * 3).sum(), [a, c])
    ga, gc = autograd_grad((a * 3).sum(), [a, c], allow_unused=True)
    assert host(ga) == [3.0, 3.0] and gc is None
    ga, gc = autograd_grad((a * 3).sum(), [a, c], materialize_grads=True)
    assert host(gc) == [0.0, 0.0] and gc.dtype == np.float64
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed when "
                                         "materialize_grads=True"):
        autograd_grad((a * 3).sum(), [a, c], allow_unused=False, materialize_grads=True)


def test_grad_argument_errors():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="^One of the differentiated Tensors does not require "
                                           "grad$"):
        autograd_grad((a * a).sum(), [a, nc.ones(2)])
    with pytest.raises(RuntimeError, match=r"^`inputs` argument to `grad\(\)` cannot be empty\.$"):
        autograd_grad((a * a).sum(), [])
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar"):
        autograd_grad(a * a, a)
    with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad"):
        autograd_grad(nc.ones(()), a)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        autograd_grad((a * a).sum(), a, is_grads_batched=True)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        autograd_grad((a * a).sum(), a, only_inputs=False)


def test_grad_several_outputs_grad_outputs_and_non_leaf_inputs():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (g,) = autograd_grad([(a * b).sum(), (a * a).sum()], a)
    assert host(g) == [5.0, 8.0]
    (g,) = autograd_grad([a * b, a * a], [a], grad_outputs=[nc.ones(2), nc.tensor([0.0, 1.0])])
    assert host(g) == [3.0, 8.0]
    h = a * b
    gh, ga = autograd_grad((h * h).sum(), [h, a])
    assert host(gh) == [6.0, 16.0] and host(ga) == [18.0, 64.0]
    y = a * 2
    (gy,) = autograd_grad(y, y, nc.tensor([1.0, 7.0]))      # an output is its own input
    assert host(gy) == [1.0, 7.0]
    (g,) = autograd_grad(a, a, nc.tensor([5.0, 5.0]))       # a leaf output
    assert host(g) == [5.0, 5.0] and a.grad is None
    g1, g2 = autograd_grad((a * a).sum(), [a, a])            # a repeated input: twice
    assert host(g1) == host(g2) == [2.0, 4.0]


def test_grad_retain_graph_and_result_is_a_copy():
    a = leaf([1.0, 2.0])
    y = (a * a).sum()
    (g,) = autograd_grad(y, a, retain_graph=True)
    g.data[:] = 100.0                    # the result is the caller's: the graph is unaffected
    y.backward()
    assert host(a.grad) == [2.0, 4.0]
    y = (a * a).sum()
    autograd_grad(y, a)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_grad_runs_hooks_of_leaf_inputs_only():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seen = []
    a.register_hook(lambda g: g * 10)
    b.register_hook(lambda g: seen.append("b"))
    (ga,) = autograd_grad((a * a * b).sum(), a)
    assert host(ga) == [60.0, 160.0] and seen == [] and a.grad is None


@on_devices
def test_grad_and_backward_inputs_on_devices(device):
    a = leaf([1.0, 2.0], device=device)
    b = leaf([3.0, 4.0], device=device)
    (ga,) = autograd_grad((a * b).sum(), a)
    assert type(ga.data) is type(a.data) and host(ga) == [3.0, 4.0]
    (ga, gz) = autograd_grad((a * b).sum(), [a, leaf([0.0], device=device)],
                             materialize_grads=True)
    assert type(gz.data) is type(a.data) and host(gz) == [0.0]
    (a * b).sum().backward(inputs=[b])
    assert type(b.grad.data) is type(b.data) and host(b.grad) == [1.0, 2.0] and a.grad is None


# ---------------------------------------------------------------- leaf / non-leaf rules

def test_grad_of_non_leaf_warns_unless_retained():
    a = leaf([1.0, 2.0])
    h, k = a * 3, a * 5
    h.retain_grad()
    (h * h + k).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert host(h.grad) == [6.0, 12.0]          # retained: no warning
        assert a.grad is not None                   # a leaf: no warning
        assert nc.ones(2).grad is None              # a leaf without grad: no warning
    with pytest.warns(UserWarning, match=r"The \.grad attribute of a Tensor that is not a leaf "
                                         r"Tensor is being accessed.*\.retain_grad\(\)"):
        assert k.grad is None


def test_retain_grad_rules():
    a = leaf([1.0, 2.0])
    a.retain_grad()                                  # a leaf: no-op
    assert not a.retains_grad
    with pytest.raises(RuntimeError, match="^can't retain_grad on Tensor that has "
                                           "requires_grad=False$"):
        nc.ones(2).retain_grad()
    h = a * 2
    h.retain_grad()
    h.retain_grad()                                  # twice: still one accumulation
    assert h.retains_grad
    (h * 3).sum().backward()
    assert host(h.grad) == [3.0, 3.0]


def test_requires_grad_rules():
    a = leaf([1.0, 2.0])
    h = a * 2
    msg = ("^you can only change requires_grad flags of leaf variables. If you want to use a "
           "computed variable in a subgraph that doesn't require differentiation use "
           r"var_no_grad = var\.detach\(\)\.$")
    with pytest.raises(RuntimeError, match=msg):
        h.requires_grad_(False)
    with pytest.raises(RuntimeError, match=msg):
        h.requires_grad = False
    assert h.requires_grad and h.grad_fn is not None
    assert h.requires_grad_(True) is h               # True on a non-leaf: allowed, a no-op
    h.requires_grad = True
    i = nc.tensor([1, 2])
    with pytest.raises(RuntimeError, match="^only Tensors of floating point and complex dtype "
                                           "can require gradients"):
        i.requires_grad = True
    with pytest.raises(RuntimeError, match="^only Tensors of floating point dtype can require "
                                           "gradients"):
        i.requires_grad_()
    assert not i.requires_grad
    i.requires_grad_(False)                          # False on an integer tensor: fine
    with pytest.raises(RuntimeError, match="^requires_grad must be a bool, got int$"):
        a.requires_grad = 1
    w = nc.ones(2)
    w.requires_grad = True                           # a leaf: the setter is the method
    assert w.requires_grad and w.is_leaf
    (w * 2).sum().backward()
    assert host(w.grad) == [2.0, 2.0]
    w.requires_grad = False                          # frozen: no longer recorded
    assert (w * 2).grad_fn is None


def test_grad_setter_checks():
    t = leaf([1.0, 2.0, 3.0], dtype=np.float32)
    with pytest.raises(TypeError, match="^assigned grad expected to be a Tensor or None but got "
                                        "grad of type ndarray$"):
        t.grad = np.ones(3, np.float32)
    with pytest.raises(TypeError, match="got grad of type int$"):
        t.grad = 1
    with pytest.raises(RuntimeError, match=r"^attempting to assign a gradient of size \[2\] to a "
                                           r"tensor of size \[3\]"):
        t.grad = nc.ones(2)
    with pytest.raises(RuntimeError, match="^attempting to assign a gradient with dtype float64 "
                                           "to a tensor with dtype float32"):
        t.grad = nc.ones(3, dtype=nc.float64)
    with pytest.raises(RuntimeError, match="^attempting to assign a gradient located on device "
                                           "standin.* to a tensor located on device cpu"):
        t.grad = nc.ones(3, device="standin")
    assert t.grad is None
    g = nc.ones(3)
    t.grad = g
    assert t.grad is g
    (t * 2).sum().backward()                        # accumulates onto the assigned gradient
    assert host(t.grad) == [3.0, 3.0, 3.0] and host(g) == [1.0, 1.0, 1.0]
    del t.grad
    assert t.grad is None
    nc.ones(2).grad = nc.ones(2)                     # a tensor without requires_grad: allowed


def test_detach_shares_memory_and_version_counter():
    a = leaf([1.0, 2.0])
    h = a * 2
    d = h.detach()
    assert d.is_leaf and not d.requires_grad and d.data is h.data
    d.add_(1.0)                                      # seen through h, and bumps its version
    assert host(h) == [3.0, 5.0]
    y = (a * a).sum()
    with nc.no_grad():
        a.detach().mul_(2.0)                         # invalidates what a * a saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_detach_in_place():
    a = leaf([1.0, 2.0])
    h = a * 2
    h.retain_grad()
    assert h.detach_() is h
    assert h.is_leaf and h.grad_fn is None and not h.requires_grad and not h.retains_grad
    assert (h * 3).grad_fn is None
    v = (a * 2)[:1]                                  # a view made by a recorded op
    with pytest.raises(RuntimeError, match=r"^Can't detach views in-place\. Use detach\(\) "
                                           r"instead\.$"):
        v.detach_()
    b = leaf([1.0])
    b.detach_()                                      # a leaf: just stops requiring grad
    assert not b.requires_grad and b.is_leaf


def test_data_set_to_a_tensor_is_named_in_the_error():
    p = leaf([1.0, 2.0])
    (p * 2).sum().backward()
    p.data = p.data - 0.1 * p.grad                    # a Tensor: npconv's .data is an array
    with pytest.raises(TypeError, match=r"the \.data of argument 0 is a Tensor; npconv's \.data "
                                        "must be a raw NumPy/CuPy array"):
        p * 2


# ---------------------------------------------------------------- hooks

def test_hooks_chain_in_registration_order_and_retain_grad_runs_last():
    a = leaf([1.0, 2.0])
    h = a * 2
    order = []
    h.register_hook(lambda g: order.append(("first", host(g))))
    h.retain_grad()                                   # registered between, still sees the end
    h.register_hook(lambda g: (order.append(("second", host(g))), g * 3)[1])
    h.register_hook(lambda g: (order.append(("third", host(g))), g + 1)[1])
    (h * 1).sum().backward()
    assert order == [("first", [1.0, 1.0]), ("second", [1.0, 1.0]), ("third", [3.0, 3.0])]
    assert host(h.grad) == [4.0, 4.0] and host(a.grad) == [8.0, 8.0]


def test_leaf_hook_sees_each_backward_gradient_and_remove():
    a = leaf([1.0, 2.0])
    seen = []
    handle = a.register_hook(lambda g: seen.append(host(g)))
    (a * 2).sum().backward()
    (a * 3).sum().backward()
    assert seen == [[2.0, 2.0], [3.0, 3.0]] and host(a.grad) == [5.0, 5.0]
    handle.remove()
    (a * 3).sum().backward()
    assert len(seen) == 2
    handle.remove()                                   # twice: harmless


def test_register_hook_argument_checks():
    with pytest.raises(RuntimeError, match="^cannot register a hook on a tensor that doesn't "
                                           "require gradient$"):
        nc.ones(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="expected a callable, got int"):
        leaf([1.0]).register_hook(3)


# ---------------------------------------------------------------- grad modes

def test_grad_mode_is_thread_local():
    results = {}
    entered, checked = threading.Event(), threading.Event()

    def other():
        entered.wait()
        results["other while main is in no_grad"] = nc.is_grad_enabled()
        with nc.no_grad():
            results["other in its no_grad"] = nc.is_grad_enabled()
            checked.set()
            entered2.wait()
        results["other after"] = nc.is_grad_enabled()

    entered2 = threading.Event()
    t = threading.Thread(target=other)
    t.start()
    with nc.no_grad():
        entered.set()
        checked.wait()
        results["main in no_grad"] = nc.is_grad_enabled()
    results["main while other is in no_grad"] = nc.is_grad_enabled()
    a = leaf([1.0])
    results["main records"] = (a * 2).grad_fn is not None
    entered2.set()
    t.join()
    assert results == {"other while main is in no_grad": True, "other in its no_grad": False,
                       "main in no_grad": False, "main while other is in no_grad": True,
                       "main records": True, "other after": True}


def test_new_thread_starts_with_grad_enabled():
    out = []
    with nc.no_grad():
        t = threading.Thread(target=lambda: out.append(nc.is_grad_enabled()))
        t.start()
        t.join()
    assert out == [True]


def test_set_grad_enabled_forms():
    assert nc.is_grad_enabled()
    nc.set_grad_enabled(False)                        # a plain call sets it at once
    try:
        assert not nc.is_grad_enabled()
    finally:
        nc.set_grad_enabled(True)
    with nc.set_grad_enabled(False):
        assert not nc.is_grad_enabled()
        with nc.enable_grad():
            assert nc.is_grad_enabled()
        assert not nc.is_grad_enabled()
    assert nc.is_grad_enabled()

    @nc.set_grad_enabled(False)
    def f():
        return nc.is_grad_enabled()
    assert nc.is_grad_enabled()                       # decorating does not change the mode
    assert f() is False and nc.is_grad_enabled()
    with pytest.raises(TypeError, match="must be bool, not str"):
        nc.set_grad_enabled("no")
    with pytest.raises(TypeError, match="must be bool, not int"):
        nc.set_grad_enabled(0)
    assert nc.is_grad_enabled()


def test_no_grad_decorator_forms_and_errors():
    @nc.no_grad
    def bare():
        return nc.is_grad_enabled()

    @nc.no_grad()
    def called():
        return nc.is_grad_enabled()

    @nc.no_grad()
    def gen():
        yield nc.is_grad_enabled()
        yield nc.is_grad_enabled()

    assert bare() is False and called() is False
    g = gen()
    assert next(g) is False and nc.is_grad_enabled() and next(g) is False
    with pytest.raises(TypeError, match=r"no_grad\(\) takes no arguments"):
        nc.no_grad(3)
    with pytest.raises(ZeroDivisionError):
        with nc.no_grad():
            1 / 0
    assert nc.is_grad_enabled()
    ng = nc.no_grad()
    with ng:
        with ng:                                      # one instance re-entered
            pass
        assert not nc.is_grad_enabled()
    assert nc.is_grad_enabled()


# ---------------------------------------------------------------- user Functions

class TwoInputs(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, g):
        return g                                     # one gradient for two inputs


def test_function_incorrect_number_of_gradients():
    x = leaf([1.0, 2.0])
    msg = r"^function TwoInputsBackward returned an incorrect number of gradients \(expected 2, " \
          r"got 1\)$"
    with pytest.raises(RuntimeError, match=msg):
        TwoInputs.apply(x, leaf([1.0, 1.0])).sum().backward()
    # also when the missing one would be None anyway, as in PyTorch
    with pytest.raises(RuntimeError, match=msg):
        TwoInputs.apply(x, nc.ones(2, dtype=nc.float64)).sum().backward()
    with pytest.raises(RuntimeError, match=msg):
        TwoInputs.apply(x, 2.0).sum().backward()

    class Three(TwoInputs):
        @staticmethod
        def backward(ctx, g):
            return g, g, g

    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 3\)"):
        Three.apply(x, leaf([1.0, 1.0])).sum().backward()

    class TrailingNones(TwoInputs):
        @staticmethod
        def backward(ctx, g):
            return g, None, None, None

    x.grad = None
    TrailingNones.apply(x, nc.ones(2, dtype=nc.float64)).sum().backward()
    assert host(x.grad) == [1.0, 1.0]


def test_function_wrong_gradient_shape_and_type():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return np.ones(1)                       # broadcastable to (3,), but not a sum

    with pytest.raises(RuntimeError, match=r"^Function BadBackward returned an invalid gradient at "
                                           r"index 0 - got \[1\] but expected shape compatible "
                                           r"with \[3\]$"):
        Bad.apply(leaf([1.0, 2.0, 3.0])).sum().backward()

    class Scalar(Bad):
        @staticmethod
        def backward(ctx, g):
            return 3.0

    with pytest.raises(TypeError, match="Scalar.backward returned a float as a gradient"):
        Scalar.apply(leaf([1.0])).sum().backward()


def test_function_none_gradients_and_needs_input_grad():
    class Mul(Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            ctx.seen = ctx.needs_input_grad
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return (g * y if ctx.needs_input_grad[0] else None,
                    g * x if ctx.needs_input_grad[1] else None)

    x, c = leaf([1.0, 2.0]), nc.tensor([3.0, 4.0], dtype=nc.float64)
    out = Mul.apply(x, c)
    assert out.grad_fn.seen == (True, False)
    out.sum().backward()
    assert host(x.grad) == [3.0, 4.0] and c.grad is None


# ---------------------------------------------------------------- gradcheck

def test_gradcheck_error_type_and_raise_exception():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g                                # should be 2 x g

    x = leaf([1.5, -2.0])
    with pytest.raises(RuntimeError, match="Jacobian mismatch for input 0") as err:
        nc.gradcheck(Wrong.apply, (x,))
    assert isinstance(err.value, GradcheckError) and isinstance(err.value, AssertionError)
    assert nc.gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    assert nc.gradcheck(lambda t, k: t * k, (x, 3)) is True         # non-Tensor arguments
    with pytest.raises(ValueError, match="no input requires grad"):
        nc.gradcheck(lambda t: t * 2, (nc.ones(2, dtype=nc.float64),))
    with pytest.raises(GradcheckError, match="no output of fn requires grad"):
        nc.gradcheck(lambda t: t.detach() * 2, (x,))
    assert nc.gradcheck(lambda t: t.detach() * 2, (x,), raise_exception=False) is False


def test_engine_fast_path_unchanged_by_restricted_mode():
    # the plain backward still reaches every leaf, through every node
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    Counted.calls = 0
    (Counted.apply(a) * b).sum().backward()
    assert Counted.calls == 1 and host(a.grad) == [6.0, 8.0] and host(b.grad) == [2.0, 4.0]

