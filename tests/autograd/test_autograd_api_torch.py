"""The autograd API cross-checked against PyTorch itself: the same program written once for
each framework (``F`` is ``npconv`` or ``torch``), run on both, and the gradients, the
``.grad`` fields and the error messages compared. Skipped where torch is not installed."""
import threading
import warnings

import numpy as np
import pytest

import npconv as nc

torch = pytest.importorskip("torch")


def leaf(F, values):
    return F.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def val(t):
    if t is None:
        return None
    if isinstance(t, (tuple, list)):
        return [val(x) for x in t]
    return np.asarray(t.detach().numpy(), dtype=np.float64).tolist()


def run_both(program):
    """``program(F)`` for both frameworks: what it returns, or the exception it raised."""
    out = []
    for F in (nc, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(("ok", program(F)))
        except Exception as e:          # the outcome is what is compared
            out.append((type(e).__name__, str(e)))
    return out


def same(program, message_prefix=None):
    """Both frameworks give the same values, or both raise the same exception type (with
    messages starting alike up to ``message_prefix`` characters when given)."""
    (kn, vn), (kt, vt) = run_both(program)
    assert kn == kt, (vn, vt)
    if kn == "ok":
        assert vn == vt
    elif message_prefix:
        assert vn[:message_prefix] == vt[:message_prefix], (vn, vt)
    return vn


# ---------------------------------------------------------------- backward

BACKWARD_PROGRAMS = {
    "implicit gradient, not scalar": lambda F: (leaf(F, [1.0, 2.0]) * 2).backward(),
    "does not require grad (0-d)": lambda F: F.ones(()).backward(),
    "does not require grad (1-d)": lambda F: F.ones(3).backward(),
    "second backward": lambda F: [y.backward(), y.backward()] if (
        y := (leaf(F, [1.0]) ** 2).sum()) is not None else None,
    "inputs empty": lambda F: (leaf(F, [1.0]) * 2).sum().backward(inputs=[]),
    "inputs not requiring grad": lambda F: (leaf(F, [1.0]) * 2).sum().backward(
        inputs=[F.ones(1)]),
}


@pytest.mark.parametrize("name", sorted(BACKWARD_PROGRAMS))
def test_backward_errors_match_torch(name):
    msg = same(BACKWARD_PROGRAMS[name], message_prefix=48)
    assert msg                                             # an error on both


def test_backward_gradient_dtype_is_cast_as_in_torch():
    def program(F):
        a = leaf(F, [1.0, 2.0])
        (a * 3).backward(F.tensor([1, 2]))
        return val(a.grad), str(a.grad.dtype).split(".")[-1]
    assert same(program) == ([3.0, 6.0], "float64")


def test_backward_inputs_match_torch():
    def program(F):
        a, b, c = leaf(F, [1.0, 2.0]), leaf(F, [3.0, 4.0]), leaf(F, [5.0])
        h = a * b
        k = (h * h).sum()
        k.backward(inputs=[h], retain_graph=True)
        first = (val(h.grad), val(a.grad), val(b.grad), h.retains_grad)
        k.backward(inputs=[a, c], retain_graph=True)
        second = (val(h.grad), val(a.grad), val(b.grad), val(c.grad))
        (a * 3).sum().backward(inputs=[a, a])
        return first, second, val(a.grad)
    same(program)


def test_retain_graph_accumulates_as_in_torch():
    def program(F):
        a = leaf(F, [1.0, -2.0])
        y = (a * a * a).sum()
        y.backward(retain_graph=True)
        y.backward()
        z = (a + 1).sum()                   # no saved tensors: may run backward again
        z.backward()
        z.backward()
        return val(a.grad)
    assert same(program) == [8.0, 26.0]


# ---------------------------------------------------------------- autograd.grad

def _grad(F):
    return nc.autograd.grad if F is nc else torch.autograd.grad


GRAD_PROGRAMS = {
    "two inputs": lambda F: val(_grad(F)((leaf(F, [1.0, 2.0]) ** 3).sum(), [leaf(F, [1.0])])),
    "unused": lambda F: (lambda a, c: val(_grad(F)((a * 3).sum(), [a, c])))(
        leaf(F, [1.0, 2.0]), leaf(F, [3.0])),
    "allow_unused": lambda F: (lambda a, c: val(_grad(F)((a * 3).sum(), [a, c],
                                                         allow_unused=True)))(
        leaf(F, [1.0, 2.0]), leaf(F, [3.0])),
    "materialize_grads": lambda F: (lambda a, c: val(_grad(F)((a * 3).sum(), [a, c],
                                                              materialize_grads=True)))(
        leaf(F, [1.0, 2.0]), leaf(F, [3.0])),
    "materialize without allow_unused": lambda F: (lambda a: _grad(F)(
        (a * 3).sum(), a, allow_unused=False, materialize_grads=True))(leaf(F, [1.0])),
    "input does not require grad": lambda F: (lambda a: _grad(F)(
        (a * 3).sum(), [a, F.ones(1)]))(leaf(F, [1.0])),
    "non-scalar output": lambda F: (lambda a: _grad(F)(a * 3, a))(leaf(F, [1.0, 2.0])),
    "empty inputs": lambda F: (lambda a: _grad(F)((a * 3).sum(), []))(leaf(F, [1.0])),
    "grad_outputs count": lambda F: (lambda a: _grad(F)([a * 2, a * 3], a,
                                                        grad_outputs=[F.ones(2)]))(
        leaf(F, [1.0, 2.0])),
    "grad_outputs shape": lambda F: (lambda a: _grad(F)(a * 2, a, F.ones(3)))(
        leaf(F, [1.0, 2.0])),
}


@pytest.mark.parametrize("name", sorted(GRAD_PROGRAMS))
def test_grad_matches_torch(name):
    # messages differ only in how shapes print (torch.Size([3]) against (3,))
    same(GRAD_PROGRAMS[name], message_prefix=40)


def test_grad_values_non_leaf_inputs_and_no_accumulation_match_torch():
    def program(F):
        a, b = leaf(F, [1.0, 2.0]), leaf(F, [3.0, 4.0])
        h = a * b
        h.retain_grad()
        y = (h * h).exp().sum() * 1e-3
        g = _grad(F)(y, [h, a, b], retain_graph=True)
        several = _grad(F)([(a * b).sum(), (a * a).sum()], a)
        weighted = _grad(F)([a * b, a * a], a, grad_outputs=[F.ones(2), F.tensor([0.0, 1.0],
                                                                                dtype=F.float64)])
        return [round(x, 6) for gi in val(g) for x in gi], val(h.grad) is not None, \
            val(a.grad), val(several), val(weighted)
    same(program)


def test_grad_leaf_hooks_match_torch():
    def program(F):
        a, b = leaf(F, [1.0, 2.0]), leaf(F, [3.0, 4.0])
        seen = []
        a.register_hook(lambda g: g * 10)
        b.register_hook(lambda g: seen.append(1))
        (ga,) = _grad(F)((a * a * b).sum(), a)
        return val(ga), seen, val(a.grad)
    same(program)


# ---------------------------------------------------------------- leaf / non-leaf rules

def test_non_leaf_grad_warning_matches_torch():
    for F in (nc, torch):
        a = leaf(F, [1.0])
        h = a * 2
        with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf "
                                             "Tensor is being accessed"):
            assert h.grad is None
        h.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert h.grad is None


RULE_PROGRAMS = {
    "requires_grad_(False) on a non-leaf": lambda F: (leaf(F, [1.0]) * 2).requires_grad_(False),
    "requires_grad = False on a non-leaf": lambda F: setattr(leaf(F, [1.0]) * 2,
                                                             "requires_grad", False),
    "requires_grad_() on int": lambda F: F.tensor([1, 2]).requires_grad_(),
    "requires_grad = True on int": lambda F: setattr(F.tensor([1, 2]), "requires_grad", True),
    "requires_grad = 1": lambda F: setattr(leaf(F, [1.0]), "requires_grad", 1),
    "retain_grad without requires_grad": lambda F: F.ones(2).retain_grad(),
    "grad of a list": lambda F: setattr(leaf(F, [1.0]), "grad", [1.0]),
    "grad of another size": lambda F: setattr(leaf(F, [1.0, 2.0]), "grad",
                                              F.ones(3, dtype=F.float64)),
    "grad of another dtype": lambda F: setattr(leaf(F, [1.0, 2.0]), "grad", F.ones(2)),
    "detach_ on a view": lambda F: (leaf(F, [1.0, 2.0]) * 2)[:1].detach_(),
    "register_hook without requires_grad": lambda F: F.ones(2).register_hook(lambda g: g),
}


@pytest.mark.parametrize("name", sorted(RULE_PROGRAMS))
def test_leaf_rules_match_torch(name):
    (kn, vn), (kt, vt) = run_both(RULE_PROGRAMS[name])
    assert kt != "ok"                                     # PyTorch refuses each of these
    assert kn == kt, (vn, vt)
    # the first words agree (npconv then names what it got; torch quotes sizes and dtypes)
    def words(msg):
        return [w.replace("'", "").rstrip(",.") for w in msg.split()]
    n = min(6 if "size" in name or "dtype" in name else 9, len(words(vn)), len(words(vt)))
    assert words(vn)[:n] == words(vt)[:n], (vn, vt)


def test_detach_and_detach_in_place_match_torch():
    def program(F):
        a = leaf(F, [1.0, 2.0])
        h = a * 2
        d = h.detach()
        with F.no_grad():
            d.add_(1.0)
        k = a * 3
        k.detach_()
        return val(h), d.requires_grad, d.is_leaf, k.requires_grad, k.is_leaf, \
            k.grad_fn is None, (k * 2).requires_grad
    same(program)


def test_hooks_match_torch():
    def program(F):
        a = leaf(F, [1.0, 2.0])
        h = a * 2
        order = []
        h.register_hook(lambda g: order.append(("first", val(g))))
        h.retain_grad()
        h.register_hook(lambda g: (order.append(("second", val(g))), g * 3)[1])
        handle = h.register_hook(lambda g: (order.append(("removed", val(g))), g * 0)[1])
        handle.remove()
        (h * h).sum().backward()
        seen = []
        a.register_hook(lambda g: seen.append(val(g)))
        (a * 5).sum().backward()
        return order, val(h.grad), val(a.grad), seen
    same(program)


def test_hook_errors_match_torch():
    def wrong_size(F):
        b = leaf(F, [1.0, 2.0, 3.0])
        b.register_hook(lambda g: g[:2])
        (b * 2).sum().backward()

    def wrong_dtype(F):
        b = F.ones(3, requires_grad=True)
        b.register_hook(lambda g: g.double())
        (b * 2).sum().backward()
    same(wrong_size, message_prefix=len("hook '<lambda>' has changed the size of value"))
    same(wrong_dtype, message_prefix=len("hook '<lambda>' has changed the type of value"))


# ---------------------------------------------------------------- grad modes

def test_grad_mode_thread_locality_matches_torch():
    def program(F):
        seen = {}
        inside, done = threading.Event(), threading.Event()

        def other():
            inside.wait()
            seen["other"] = F.is_grad_enabled()
            done.set()
        t = threading.Thread(target=other)
        t.start()
        with F.no_grad():
            inside.set()
            done.wait()
            seen["main"] = F.is_grad_enabled()
            fresh = []
            t2 = threading.Thread(target=lambda: fresh.append(F.is_grad_enabled()))
            t2.start()
            t2.join()
            seen["fresh"] = fresh[0]
        t.join()
        return seen
    assert same(program) == {"other": True, "main": False, "fresh": True}


def test_grad_mode_forms_match_torch():
    def program(F):
        out = []

        @F.no_grad()
        def gen():
            yield F.is_grad_enabled()
            yield F.is_grad_enabled()

        g = gen()
        out += [next(g), F.is_grad_enabled(), next(g)]

        @F.set_grad_enabled(False)
        def f():
            return F.is_grad_enabled()
        out += [F.is_grad_enabled(), f(), F.is_grad_enabled()]
        with F.set_grad_enabled(False):
            with F.enable_grad():
                out.append(F.is_grad_enabled())
            out.append(F.is_grad_enabled())
        F.set_grad_enabled(False)
        out.append(F.is_grad_enabled())
        F.set_grad_enabled(True)
        return out
    assert same(program) == [False, True, False, True, False, True, True, False, False]
    (kn, _), (kt, _) = run_both(lambda F: F.set_grad_enabled("no"))
    assert kn == kt == "TypeError"


# ---------------------------------------------------------------- user Functions

def _function_class(F, backward):
    base = nc.autograd.Function if F is nc else torch.autograd.Function

    class Mul(base):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

    Mul.backward = staticmethod(backward)
    return Mul


FUNCTION_PROGRAMS = {
    "one gradient, both require grad": (lambda ctx, g: g, True),
    "one gradient, second needs none": (lambda ctx, g: g, False),
    "three gradients": (lambda ctx, g: (g, g, g), True),
    "trailing Nones": (lambda ctx, g: (g, g, None, None), True),
    "None for the constant": (lambda ctx, g: (g * 2, None), False),
}


@pytest.mark.parametrize("name", sorted(FUNCTION_PROGRAMS))
def test_function_gradient_count_matches_torch(name):
    backward, both = FUNCTION_PROGRAMS[name]

    def program(F):
        x = leaf(F, [1.0, 2.0])
        y = leaf(F, [3.0, 4.0]) if both else F.tensor([3.0, 4.0], dtype=F.float64)
        _function_class(F, backward).apply(x, y).sum().backward()
        return val(x.grad), val(y.grad)
    same(program, message_prefix=len("function MulBackward returned an incorrect number of "
                                      "gradients (expected 2, got 1)"))


def test_function_wrong_shape_matches_torch():
    def program(F):
        x = leaf(F, [1.0, 2.0, 3.0])
        one = (lambda g: np.ones(1)) if F is nc else (lambda g: torch.ones(1, dtype=g.dtype))
        _function_class(F, lambda ctx, g: (one(g), None)).apply(x, F.ones(3, dtype=F.float64)) \
            .sum().backward()
    same(program, message_prefix=200)


def test_function_broadcast_gradient_is_summed_as_in_torch():
    def program(F):
        x, b = leaf(F, [[1.0, 2.0], [3.0, 4.0]]), leaf(F, [10.0, 20.0])
        _function_class(F, lambda ctx, g: (g, g * 2)).apply(x, b).sum().backward()
        return val(x.grad), val(b.grad)
    assert same(program) == ([[1.0, 1.0], [1.0, 1.0]], [4.0, 4.0])


# ---------------------------------------------------------------- gradcheck

def test_gradcheck_matches_torch():
    from torch.autograd.gradcheck import GradcheckError as TorchError

    def program(F):
        gc = nc.gradcheck if F is nc else torch.autograd.gradcheck
        x = leaf(F, [1.5, -2.0, 0.5])
        return (gc(lambda t: (t * t).exp(), (x,)),
                gc(lambda t, k: t * k, (x, 3)),
                gc(lambda t: t.detach() * 2, (x,), raise_exception=False))
    assert same(program) == (True, True, False)
    assert issubclass(nc.autograd.GradcheckError, RuntimeError) and \
        issubclass(TorchError, RuntimeError)
    (kn, _), (kt, _) = run_both(lambda F: (nc.gradcheck if F is nc else torch.autograd.gradcheck)(
        lambda t: t * 2, (F.ones(2, dtype=F.float64),)))
    assert kn == kt == "ValueError"
