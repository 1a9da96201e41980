"""The Tensor API against PyTorch's behaviour (found by differential testing): dim checks,
views for same-shape reshapes, ``where``/``matmul`` argument checks, iteration, dtype
promotion, the small API items and the shape errors (broadcasting, in place, cat, stack,
reshape/view, expand). Expected values and messages are PyTorch's, written out."""
import re

import numpy as np
import pytest

import npconv as nc


def _range_error(lo, hi, got):
    return r"Dimension out of range \(expected to be in range of \[%d, %d\], but got %d\)" % (
        lo, hi, got)


# ------------------------------------------------------------------ dims out of range
@pytest.mark.parametrize("call, lo, hi, got", [
    pytest.param(lambda x: x.softmax(2), -2, 1, 2, id="x.softmax(2)"),
    pytest.param(lambda x: x.log_softmax(-3), -2, 1, -3, id="x.log_softmax(-3)"),
    pytest.param(lambda x: x.unsqueeze(5), -3, 2, 5, id="x.unsqueeze(5)"),
    pytest.param(lambda x: x.unsqueeze(-4), -3, 2, -4, id="x.unsqueeze(-4)"),
    pytest.param(lambda x: x.squeeze(2), -2, 1, 2, id="x.squeeze(2)"),
    pytest.param(lambda x: x.squeeze((0, 5)), -2, 1, 5, id="x.squeeze((0, 5))"),
    pytest.param(lambda x: x.permute(0, 3), -2, 1, 3, id="x.permute(0, 3)"),
    pytest.param(lambda x: x.permute(0, -3), -2, 1, -3, id="x.permute(0, -3)"),
    pytest.param(lambda x: x.transpose(0, 2), -2, 1, 2, id="x.transpose(0, 2)"),
    pytest.param(lambda x: x.argmax(5), -2, 1, 5, id="x.argmax(5)"),
    pytest.param(lambda x: nc.cat([x, x], 2), -2, 1, 2, id="nc.cat([x, x], 2)"),
    pytest.param(lambda x: nc.cat([x, x], -3), -2, 1, -3, id="nc.cat([x, x], -3)"),
    pytest.param(lambda x: nc.stack([x, x], 3), -3, 2, 3, id="nc.stack([x, x], 3)"),
    pytest.param(lambda x: nc.stack([x, x], -4), -3, 2, -4, id="nc.stack([x, x], -4)"),
])
def test_out_of_range_dims_raise_index_error(call, lo, hi, got):
    with pytest.raises(IndexError, match=_range_error(lo, hi, got)):
        call(nc.ones(2, 3))


def test_dims_at_the_edges_of_the_range():
    x = nc.ones(2, 3)
    assert x.unsqueeze(2).shape == (2, 3, 1) and x.unsqueeze(-3).shape == (1, 2, 3)
    assert nc.stack([x, x], 2).shape == (2, 3, 2) and nc.stack([x, x], -3).shape == (2, 2, 3)
    assert nc.cat([x, x], -2).shape == (4, 3)
    assert x.permute(-1, 0).shape == (3, 2) and x.transpose(-1, -2).shape == (3, 2)
    # a 0-d tensor takes dims 0 and -1 (unsqueeze and stack too: [-1, 0])
    s = nc.tensor(3.0)
    assert s.unsqueeze(0).shape == (1,) and s.unsqueeze(-1).shape == (1,)
    assert s.squeeze(0).shape == () and s.transpose(0, -1).shape == ()
    assert nc.stack([s, s], -1).shape == (2,)
    with pytest.raises(IndexError, match=_range_error(-1, 0, 1)):
        s.unsqueeze(1)
    with pytest.raises(IndexError, match=_range_error(-1, 0, 1)):
        nc.stack([s, s], 1)


def test_permute_needs_a_permutation():
    x = nc.ones(2, 3)
    with pytest.raises(RuntimeError, match="duplicate dims are not allowed"):
        x.permute(0, 0)
    with pytest.raises(RuntimeError, match="duplicate dims are not allowed"):
        x.permute(1, -1)
    with pytest.raises(RuntimeError, match=r"input.dim\(\) = 2 is not equal to len\(dims\) = 1"):
        x.permute(0)
    assert nc.ones(2, 3, 4).permute((2, 0, 1)).shape == (4, 2, 3)


def test_squeeze_dims_named_twice_raise():
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times"):
        nc.ones(2, 1, 3).squeeze((1, 1))
    assert nc.ones(2, 1, 3).squeeze((0, 1)).shape == (2, 3)


# ------------------------------------------------------------------ same-shape views
def test_reshape_to_the_same_shape_is_a_new_view():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    for y in (x.reshape(2), x.reshape(x.shape), x.squeeze(), x.squeeze(0), x.view(2)):
        assert y is not x and not y.is_leaf and y.requires_grad
        with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
            y.requires_grad_(False)
    assert x.requires_grad
    # no copy: the view shares memory and the version counter
    c = nc.tensor([1.0, 2.0])
    v = c.reshape(2)
    v[0] = 5.0
    assert c.tolist() == [5.0, 2.0] and c._version is v._version and c._version[0] == 1
    # the gradient flows through it
    y = x.reshape(2)
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


# ------------------------------------------------------------------ where
@pytest.mark.parametrize("cond, name", [(nc.tensor([1.0, 0.0]), "float32"),
                                        (nc.tensor([1, 0]), "int64"),
                                        ([1.0, 0.0], "float64")])
def test_where_wants_a_boolean_condition(cond, name):
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, "
                                           "but got a tensor with dtype " + name):
        nc.where(cond, nc.tensor([1.0, 2.0]), nc.tensor([3.0, 4.0]))


def test_where_takes_bool_and_uint8_conditions():
    a, b = nc.tensor([1.0, 2.0]), nc.tensor([3.0, 4.0])
    assert nc.where(nc.tensor([True, False]), a, b).tolist() == [1.0, 4.0]
    # uint8: deprecated in PyTorch but still accepted
    assert nc.where(nc.tensor(np.array([0, 1], np.uint8)), a, b).tolist() == [3.0, 2.0]


# ------------------------------------------------------------------ matmul
@pytest.mark.parametrize("da, db, msg", [(nc.float32, nc.float64, "float32 != float64"),
                                         (nc.float64, nc.float32, "float64 != float32"),
                                         (nc.float32, nc.int64, "float32 != int64")])
def test_matmul_refuses_mixed_dtypes(da, db, msg):
    a, b = nc.ones(2, 2, dtype=da), nc.ones(2, 2, dtype=db)
    for f in (lambda: a @ b, lambda: nc.matmul(a, b), lambda: a.matmul(b),
              lambda: a.data @ b, lambda: a @ b.data):
        with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, "
                                               "but got: " + msg):
            f()


def test_matmul_same_dtypes_still_work():
    a = nc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert (a @ a).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert nc.matmul(a, [1.0, 1.0]).tolist() == [3.0, 7.0]
    assert (nc.ones(2, 2, dtype=nc.int64) @ nc.ones(2, 2, dtype=nc.int64)).tolist() == [[2, 2]] * 2


_BATCH2 = "Expected size for first two dimensions of batch2 tensor to be: "


@pytest.mark.parametrize("sa, sb, msg", [
    ((2, 3), (4, 5), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ((0, 3), (4, 5), "mat1 and mat2 shapes cannot be multiplied (0x3 and 4x5)"),
    ((3,), (2, 3), "mat1 and mat2 shapes cannot be multiplied (1x3 and 2x3)"),
    ((2, 2, 3), (4, 5), "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)"),
    ((3,), (4,), "inconsistent tensor size, expected tensor [3] and src [4] to have the same "
                 "number of elements, but got 3 and 4 elements respectively"),
    ((2, 3), (4,), "size mismatch, got input (2), mat (2x3), vec (4)"),
    ((2, 2, 3), (2,), "size mismatch, got input (4), mat (4x3), vec (2)"),
    ((4,), (2, 3, 5), _BATCH2 + "[2, 4] but got: [2, 3]."),
    ((2, 3), (2, 4, 5), _BATCH2 + "[2, 3] but got: [2, 4]."),
    ((5, 2, 3), (1, 4, 5), _BATCH2 + "[5, 3] but got: [5, 4]."),
    ((2, 1, 2, 3), (3, 4, 5), _BATCH2 + "[6, 3] but got: [6, 4]."),
    ((3, 2, 3), (2, 3, 5), "The size of tensor a (3) must match the size of tensor b (2) at "
                           "non-singleton dimension 0"),
    ((), (3,), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ((2, 3), (), "both arguments to matmul need to be at least 1D, but they are 2D and 0D"),
])
def test_matmul_shape_errors_are_pytorchs(sa, sb, msg):
    """PyTorch's message for each route its matmul takes (dot, mv, mm of the folded first
    operand, bmm after broadcasting the batch), whichever spelling is used."""
    a, b = nc.ones(*sa), nc.ones(*sb)
    for f in (lambda: a @ b, lambda: nc.matmul(a, b), lambda: a.matmul(b),
              lambda: a.data @ b, lambda: nc.matmul(a.numpy(), b)):
        with pytest.raises(RuntimeError, match="^" + re.escape(msg) + "$"):
            f()


def test_matmul_refuses_numbers_as_pytorch():
    for f, names in ((lambda: nc.ones(3) @ 2, "'Tensor' and 'int'"),
                     (lambda: 2.0 @ nc.ones(3), "'float' and 'Tensor'"),
                     (lambda: nc.matmul(nc.ones(3), 2), "'Tensor' and 'int'"),
                     (lambda: nc.matmul(2, nc.ones(3)), "'int' and 'Tensor'")):
        with pytest.raises(TypeError, match="unsupported operand type\\(s\\) for @: " + names):
            f()


# ------------------------------------------------------------------ iteration and len
def test_iterating_or_len_of_a_0d_tensor_raises():
    s = nc.tensor(3.0)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(s)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(s)
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(s)


def test_iteration_yields_rows_with_autograd():
    x = nc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and all(isinstance(r, nc.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * 1 + rows[1] * 2).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0]]
    assert list(nc.ones(0, 3)) == []


# ------------------------------------------------------------------ dtypes as PyTorch
@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "sigmoid", "tanh"])
def test_float_functions_of_int_and_bool_tensors_are_float32(op):
    for t in (nc.tensor([1, 4]), nc.tensor([True, True]),
              nc.tensor(np.array([1, 4], np.int32))):
        assert getattr(t, op)().dtype == np.float32
    if op in ("sigmoid", "tanh"):
        assert getattr(nc.nn.functional, op)(nc.tensor([1, 4])).dtype == np.float32
    assert getattr(nc.tensor([1.0, 4.0], dtype=nc.float64), op)().dtype == np.float64
    np.testing.assert_allclose(nc.tensor([1, 4]).exp().numpy(), [2.7182817, 54.59815],
                               rtol=1e-6)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_of_int_and_bool_tensors_raises_as_pytorch(op):
    for t in (nc.tensor([1, 2]), nc.tensor([True, False])):
        with pytest.raises(NotImplementedError, match="expected a floating-point input"):
            getattr(t, op)(0)
        with pytest.raises(NotImplementedError):
            getattr(nc.nn.functional, op)(t, 0)
    assert getattr(nc.nn.functional, op)(nc.tensor([1, 2]), 0, dtype=nc.float32).dtype \
        == np.float32


def test_mixed_int_and_float32_promote_to_float32():
    i, f = nc.tensor([1, 2]), nc.tensor([1.5, 0.5])
    c = nc.tensor([True, False])
    for r, values in ((nc.maximum(i, f), [1.5, 2.0]), (nc.minimum(i, f), [1.0, 0.5]),
                      (nc.maximum(f, i), [1.5, 2.0]), (i.maximum(f), [1.5, 2.0]),
                      (f.minimum(i), [1.0, 0.5]),
                      (nc.where(c, i, f), [1.0, 0.5]), (nc.where(c, f, i), [1.5, 2.0]),
                      (nc.where(c, i, 1.5), [1.0, 1.5]), (nc.where(c, 1.5, i), [1.5, 2.0]),
                      (nc.where(c, 1, 2.5), [1.0, 2.5]),
                      (nc.cat([i, f]), [1.0, 2.0, 1.5, 0.5]),
                      (nc.stack([i, f]), [[1.0, 2.0], [1.5, 0.5]])):
        assert r.dtype == np.float32 and r.tolist() == values, (r.dtype, r.tolist())
    assert nc.where(c, 1, 2).dtype == np.int64
    assert nc.where(c, i, 3).dtype == np.int64
    assert nc.stack([nc.tensor(1), nc.tensor(1.5)]).dtype == np.float32
    # widths within a category follow NumPy (and PyTorch)
    i32 = nc.tensor(np.array([1], np.int32))
    assert nc.cat([i32, nc.tensor([2])]).dtype == np.int64
    assert nc.cat([nc.tensor([True]), nc.tensor([2])]).dtype == np.int64
    assert nc.cat([nc.tensor(np.array([1], np.int8)),
                   nc.tensor(np.array([1], np.uint8))]).dtype == np.int16
    assert nc.cat([f, nc.tensor([1.0], dtype=nc.float64)]).dtype == np.float64


def test_cat_of_mixed_dtypes_keeps_the_gradient():
    f = nc.tensor([1.0, 2.0], requires_grad=True)
    out = nc.cat([nc.tensor([3]), f])
    (out * nc.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert out.dtype == np.float32 and f.grad.tolist() == [2.0, 3.0]
    d = nc.tensor([1.0], dtype=nc.float64, requires_grad=True)
    out = nc.stack([f[:1], d])           # float32 and float64: float64, grads cast back
    out.sum().backward()
    assert out.dtype == np.float64 and f.grad.dtype == np.float32
    assert f.grad.tolist() == [3.0, 3.0] and d.grad.tolist() == [1.0]


def test_a_0d_tensor_does_not_widen_within_its_category():
    i32 = nc.tensor(np.array([1, 2], np.int32))
    for r in (i32 + nc.tensor(1), nc.tensor(1) + i32, i32 * nc.tensor(3), i32 - nc.tensor(1),
              i32.maximum(nc.tensor(1)), nc.maximum(nc.tensor(1), i32)):
        assert r.dtype == np.int32, r.dtype
    assert (i32 + nc.tensor(1)).tolist() == [2, 3]
    u8 = nc.tensor(np.array([1, 2], np.uint8))
    assert (u8 + nc.tensor(np.array(1, np.int8))).dtype == np.uint8
    f32 = nc.tensor([1.0, 2.0])
    assert nc.where(nc.tensor([True, False]), f32,
                    nc.tensor(1.5, dtype=nc.float64)).dtype == np.float32
    # another category does promote: to the 0-d tensor's dtype
    assert (nc.tensor([1, 2]) + nc.tensor(1.5, dtype=nc.float64)).dtype == np.float64
    assert (nc.tensor(1, dtype=nc.int32) + nc.tensor(1)).dtype == np.int64   # both 0-d
    assert (i32 / nc.tensor(2)).dtype == np.float32
    assert (i32 / nc.tensor(2)).tolist() == [0.5, 1.0]


# ------------------------------------------------------------------ smaller API items
def test_argmax_argmin_keepdim_without_dim_keeps_every_dim():
    x = nc.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert x.argmax(keepdim=True).shape == (1, 1) and x.argmax(keepdim=True).tolist() == [[2]]
    assert x.argmin(keepdim=True).tolist() == [[0]]
    assert x.argmax().shape == () and x.argmax(0, keepdim=True).tolist() == [[1, 0]]
    assert nc.tensor(3.0).argmax(keepdim=True).shape == ()
    assert nc.tensor(3.0).argmax(0).tolist() == 0 and nc.tensor(3.0).argmin(-1).tolist() == 0
    assert nc.argmin(nc.tensor([3.0, 1.0, 2.0])).tolist() == 1


def test_numpy_integer_dims_are_accepted():
    x = nc.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert x.sum(np.int64(1)).tolist() == [6.0, 9.0]
    assert x.mean(np.int32(0)).tolist() == [4.0, 3.5]
    assert x.max(np.int64(1)).values.tolist() == [5.0, 7.0]
    assert x.min(np.int64(0)).indices.tolist() == [0, 1]
    assert x.amax(np.int64(1)).tolist() == [5.0, 7.0]
    assert x.argmax(np.int64(1)).tolist() == [1, 0]
    assert x.softmax(np.int64(1)).shape == (2, 2) and x.unsqueeze(np.int64(0)).shape == (1, 2, 2)
    assert x.sum(nc.tensor(0)).tolist() == [8.0, 7.0]      # a 0-d int tensor, as PyTorch


def test_max_min_with_dim_on_a_0d_tensor():
    x = nc.tensor(3.0, requires_grad=True)
    for r in (x.max(0), x.max(-1), x.min(0), x.max(0, keepdim=True)):
        assert r.values.shape == () and r.values.item() == 3.0 and r.indices.tolist() == 0
    x.max(0).values.backward()
    assert x.grad.tolist() == 1.0
    with pytest.raises(IndexError, match=_range_error(-1, 0, 1)):
        x.max(1)


def test_amax_amin_dim_forms():
    x = nc.tensor([[3.0, 1.0], [2.0, 5.0]])
    assert x.amax([0, 1]).tolist() == 5.0 and x.amin((0, 1), keepdim=True).tolist() == [[1.0]]
    assert nc.amax(x, 0).tolist() == [3.0, 5.0] and nc.amin(x, 1).tolist() == [1.0, 2.0]
    assert nc.tensor(3.0).amax(0).tolist() == 3.0


def test_clone_is_a_differentiable_copy():
    x = nc.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name() == "CloneBackward"
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    c = nc.tensor([1.0, 2.0])
    d = c.clone()
    d[0] = 5.0
    assert c.tolist() == [1.0, 2.0] and d.tolist() == [5.0, 2.0] and d.dtype == np.float32


def test_type_helpers():
    x = nc.tensor([0.0, 2.5])
    assert x.int().dtype == np.int32 and x.int().tolist() == [0, 2]
    assert x.long().dtype == np.int64 and x.bool().tolist() == [False, True]
    assert x.is_floating_point() and x.double().is_floating_point()
    assert not nc.tensor([1]).is_floating_point() and not nc.tensor([True]).is_floating_point()
    assert nc.clip(nc.tensor([-1.0, 0.5, 2.0]), 0.0, 1.0).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("data, dtype", [
    ([np.float64(1.5)], np.float64), (np.float64(1.5), np.float64),
    ([1.5, np.float64(2)], np.float64), ([[np.float64(1.5)], [2.0]], np.float64),
    ([np.float32(1.5), 2.5], np.float32), ([np.float16(1.5), 2.5], np.float32),
    ([np.int32(1)], np.int32), ([np.int32(1), 2], np.int64), ([np.int32(1), 2.5], np.float32),
    ([np.uint8(1)], np.uint8), ([np.bool_(True)], np.bool_),
    ([np.array([1.0, 2.0]), np.array([3.0, 4.0])], np.float64),
    ([1.5, 2.5], np.float32), ([[1, 2], [3, 4]], np.int64), (1.5, np.float32), (3, np.int64),
    ([], np.float32),
])
def test_tensor_from_lists_with_numpy_scalars(data, dtype):
    assert nc.tensor(data).dtype == dtype


def test_arange_with_numpy_scalars():
    r = nc.arange(np.int64(3))
    assert r.dtype == np.int64 and r.tolist() == [0, 1, 2]
    assert nc.arange(np.int32(3)).dtype == np.int64
    assert nc.arange(0, np.int64(3), 1).dtype == np.int64
    assert nc.arange(np.float64(3)).dtype == np.float32


def test_integer_sums_are_int64():
    u8 = nc.tensor(np.array([200, 100], np.uint8))
    assert u8.sum().dtype == np.int64 and u8.sum().tolist() == 300
    assert u8.sum(0).dtype == np.int64
    assert nc.tensor(np.array([1, 2], np.int32)).sum().dtype == np.int64
    assert nc.tensor([True, True]).sum().tolist() == 2
    assert u8.max().dtype == np.uint8


@pytest.mark.parametrize("name", ["mean", "var", "std"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_mean_var_std_of_integers_raise_as_pytorch(name, dtype):
    # PyTorch: "mean(): could not infer output dtype..."; NumPy would return float64
    t = nc.tensor(np.array([1, 0, 1], dtype))
    with pytest.raises(RuntimeError, match=name + r"\(\): could not infer output dtype"):
        getattr(t, name)()
    assert getattr(t.float(), name)().dtype == np.float32


def test_var_and_std_take_numpy_integer_dims():
    x = nc.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(x.var(np.int64(0)).data, [4.5, 4.5, 4.5])
    np.testing.assert_allclose(x.std(np.int32(1)).data, [1.0, 1.0])


@pytest.mark.parametrize("make", [lambda r: r.standard_normal((3, 5)),
                                  lambda r: r.standard_normal((4, 6))[::2, 1::2],   # strided
                                  lambda r: r.standard_normal((2, 1, 3)).transpose(2, 0, 1),
                                  lambda r: np.array(r.standard_normal())])        # 0-d
def test_clone_gradcheck_float64(make):
    a = make(np.random.default_rng(3))
    x = nc.tensor(a, dtype=nc.float64, requires_grad=True)
    assert nc.gradcheck(lambda t: t.clone() * t, (x,))


# ------------------------------------------------------------------ cat of 0-d tensors
@pytest.mark.parametrize("tensors, pos", [
    pytest.param(lambda: [nc.tensor(1.0), nc.tensor(2.0)], 0, id="two 0-d"),
    pytest.param(lambda: [nc.ones(2), nc.tensor(2.0)], 1, id="1-d then 0-d"),
    pytest.param(lambda: [nc.tensor(1.0)], 0, id="one 0-d"),
])
@pytest.mark.parametrize("dim", [0, -1, 1])
def test_cat_of_a_0d_tensor_raises_as_pytorch(tensors, pos, dim):
    # PyTorch checks this before the dim (cat([s], dim=1) gives the same error); NumPy
    # would fail with an IndexError from inside the op
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position %d\) cannot "
                                           r"be concatenated.*got shape \(\)" % pos):
        nc.cat(tensors(), dim)
    s = nc.tensor(2.0)
    assert nc.stack([s, s]).tolist() == [2.0, 2.0]                  # stack joins 0-d tensors
    assert nc.cat([nc.ones(1), s.reshape(1)]).tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ slice steps
@pytest.mark.parametrize("index", [
    pytest.param(slice(None, None, -1), id="[::-1]"),
    pytest.param(slice(3, 0, -2), id="[3:0:-2]"),
    pytest.param((Ellipsis, slice(None, None, -1)), id="[..., ::-1]"),
    pytest.param((0, slice(None, None, -1)), id="[0, ::-1]"),
    pytest.param((slice(None), slice(None, None, np.int64(-1))), id="[:, ::np.int64(-1)]"),
])
def test_negative_slice_steps_raise_as_pytorch(index):
    # NumPy would return a reversed view; PyTorch has no negative strides
    t = nc.arange(12.0).reshape(4, 3)
    with pytest.raises(ValueError, match="step must be greater than zero, but got -"):
        t[index]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[index] = 0.0
    assert t.sum().item() == 66.0                      # the failed assignment changed nothing


def test_positive_and_zero_slice_steps_as_pytorch():
    t = nc.arange(12.0).reshape(4, 3)
    assert t[::2].tolist() == [[0, 1, 2], [6, 7, 8]]
    assert t[1::2, ::2].tolist() == [[3, 5], [9, 11]]
    assert t[nc.tensor([3, 0])].tolist() == [[9, 10, 11], [0, 1, 2]]    # reversing: an index
    with pytest.raises(ValueError, match="slice step cannot be zero"):  # PyTorch's words too
        t[::0]


# ------------------------------------------------------------------ shape errors
# PyTorch's RuntimeError and words (run against torch, written out) where NumPy's ValueError
# ("operands could not be broadcast together ...") used to come through.
_O = nc.ones
_BROADCAST = "The size of tensor a (%d) must match the size of tensor b (%d) at " \
             "non-singleton dimension %d"
_B34 = _BROADCAST % (3, 4, 1)


@pytest.mark.parametrize("call, msg", [
    pytest.param(lambda: _O(2, 3) + _O(2, 4), _B34, id="a + b"),
    pytest.param(lambda: _O(2, 3) - _O(2, 4), _B34, id="a - b"),
    pytest.param(lambda: _O(2, 3) * _O(2, 4), _B34, id="a * b"),
    pytest.param(lambda: _O(2, 3) / _O(2, 4), _B34, id="a / b"),
    pytest.param(lambda: _O(2, 3) ** _O(2, 4), _B34, id="a ** b"),
    pytest.param(lambda: _O(2, 3) % _O(2, 4), _B34, id="a % b"),
    pytest.param(lambda: _O(2, 3) // _O(2, 4), _B34, id="a // b"),
    pytest.param(lambda: _O(2, 3) == _O(2, 4), _B34, id="a == b"),
    pytest.param(lambda: _O(2, 3) != _O(2, 4), _B34, id="a != b"),
    pytest.param(lambda: _O(2, 3) < _O(2, 4), _B34, id="a < b"),
    pytest.param(lambda: _O(2, 3) >= _O(2, 4), _B34, id="a >= b"),
    pytest.param(lambda: _O(2, 3).bool() & _O(2, 4).bool(), _B34, id="a & b"),
    pytest.param(lambda: nc.maximum(_O(2, 3), _O(2, 4)), _B34, id="maximum"),
    pytest.param(lambda: nc.minimum(_O(2, 3), _O(2, 4)), _B34, id="minimum"),
    pytest.param(lambda: _O(2, 3).maximum(_O(2, 4)), _B34, id="a.maximum(b)"),
    pytest.param(lambda: _O(2, 3).max(_O(2, 4)), _B34, id="a.max(b)"),
    pytest.param(lambda: _O(2, 3).clamp(min=_O(4)), _B34, id="clamp(min=)"),
    pytest.param(lambda: _O(2, 3).clamp(_O(4), _O(5)), _B34, id="clamp(min, max)"),
    pytest.param(lambda: nc.where(_O(2, 3) > 0, _O(2, 3), _O(2, 4)), _B34, id="where"),
    pytest.param(lambda: nc.where(_O(5) > 0, _O(2, 3), _O(2, 3)), _BROADCAST % (5, 3, 1),
                 id="where condition"),
    # the operands broadcast one after the other: "tensor a" is the shape so far
    pytest.param(lambda: nc.where(_O(1, 3) > 0, _O(2, 1), _O(3, 2)), _BROADCAST % (3, 2, 1),
                 id="where, three shapes"),
    pytest.param(lambda: _O(2, 3, 4) + _O(5, 4), _BROADCAST % (3, 5, 1), id="3-d + 2-d"),
    pytest.param(lambda: _O(2, 3, 4) + _O(3, 5), _BROADCAST % (4, 5, 2), id="last dim"),
    pytest.param(lambda: _O(2, 3) + _O(4, 5), _BROADCAST % (3, 5, 1), id="last mismatch"),
    pytest.param(lambda: _O(3) + _O(4), _BROADCAST % (3, 4, 0), id="1-d"),
    pytest.param(lambda: _O(4) * _O(2, 3), _BROADCAST % (4, 3, 1), id="1-d * 2-d"),
    pytest.param(lambda: _O(0, 3) + _O(2, 3), _BROADCAST % (0, 2, 0), id="0-size"),
    pytest.param(lambda: _O(2, 3).double() + _O(2, 4), _B34, id="promoted"),
    pytest.param(lambda: _O(2, 3).add(_O(2, 4)), _B34, id="a.add(b)"),
    # in place: the operands broadcast, and to the target's own shape
    pytest.param(lambda: _O(2, 3).add_(_O(2, 4)), _B34, id="add_"),
    pytest.param(lambda: _O(2, 3).sub_(_O(2, 4)), _B34, id="sub_"),
    pytest.param(lambda: _O(2, 3).mul_(_O(2, 4)), _B34, id="mul_"),
    pytest.param(lambda: _O(2, 3).div_(_O(2, 4)), _B34, id="div_"),
    pytest.param(lambda: _O(2, 3).copy_(_O(2, 4)), _B34, id="copy_"),
    pytest.param(lambda: _O(3).add_(_O(2, 3)),
                 "output with shape [3] doesn't match the broadcast shape [2, 3]",
                 id="add_ grows"),
    pytest.param(lambda: _O(1, 3).mul_(_O(2, 3)),
                 "output with shape [1, 3] doesn't match the broadcast shape [2, 3]",
                 id="mul_ grows"),
    pytest.param(lambda: _O(3).copy_(_O(2, 3)),
                 "output with shape [3] doesn't match the broadcast shape [2, 3]",
                 id="copy_ grows"),
    pytest.param(lambda: nc.tensor(1.0).add_(_O(3)),
                 "output with shape [] doesn't match the broadcast shape [3]", id="0-d add_"),
    pytest.param(lambda: _O(3).fill_(_O(2)), "fill_ only supports 0-dimension value tensor but "
                 "got tensor with 1 dimensions.", id="fill_"),
    pytest.param(lambda: _O(2, 3).__setitem__(0, _O(4)),
                 "The expanded size of the tensor (3) must match the existing size (4) at "
                 "non-singleton dimension 0.  Target sizes: [3].  Tensor sizes: [4]",
                 id="t[0] = v"),
    pytest.param(lambda: _O(2, 3).__setitem__(slice(None), _O(2, 4)),
                 "The expanded size of the tensor (3) must match the existing size (4) at "
                 "non-singleton dimension 1.  Target sizes: [2, 3].  Tensor sizes: [2, 4]",
                 id="t[:] = v"),
    pytest.param(lambda: _O(2, 3).__setitem__(0, _O(1, 1, 4)),
                 "The expanded size of the tensor (3) must match the existing size (4) at "
                 "non-singleton dimension 0.  Target sizes: [3].  Tensor sizes: [4]",
                 id="t[0] = v with leading 1s"),
    pytest.param(lambda: _O(2, 3).__setitem__(0, _O(2, 3)),
                 "expand(npconv.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided "
                 "(1) must be greater or equal to the number of dimensions in the tensor (2)",
                 id="t[0] = bigger v"),
    pytest.param(lambda: _O(2, 3).__setitem__(nc.tensor([True, False]), _O(4)),
                 "shape mismatch: value tensor of shape [4] cannot be broadcast to indexing "
                 "result of shape [1, 3]", id="t[mask] = v"),
    pytest.param(lambda: _O(4, 3).__setitem__(nc.tensor([0, 1]), _O(3, 3)),
                 "shape mismatch: value tensor of shape [3, 3] cannot be broadcast to indexing "
                 "result of shape [2, 3]", id="t[idx] = v"),
    # cat, stack
    pytest.param(lambda: nc.cat([_O(2, 3), _O(2, 3, 4)]),
                 "Tensors must have same number of dimensions: got 2 and 3", id="cat ndim"),
    pytest.param(lambda: nc.cat([_O(2, 3, 4), _O(2, 3)]),
                 "Tensors must have same number of dimensions: got 3 and 2", id="cat ndim 2"),
    pytest.param(lambda: nc.cat([_O(2, 3), _O(2, 4)]),
                 "Sizes of tensors must match except in dimension 0. Expected size 3 but got "
                 "size 4 for tensor number 1 in the list.", id="cat sizes"),
    pytest.param(lambda: nc.cat([_O(2, 3), _O(4, 3)], dim=-1),
                 "Sizes of tensors must match except in dimension 1. Expected size 2 but got "
                 "size 4 for tensor number 1 in the list.", id="cat sizes dim=-1"),
    pytest.param(lambda: nc.cat([_O(2, 3), _O(2, 3), _O(2, 5)]),
                 "Sizes of tensors must match except in dimension 0. Expected size 3 but got "
                 "size 5 for tensor number 2 in the list.", id="cat sizes third"),
    pytest.param(lambda: nc.stack([_O(2, 3), _O(2, 4)]),
                 "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and "
                 "[2, 4] at entry 1", id="stack"),
    pytest.param(lambda: nc.stack([_O(2), _O(2), _O(3)], dim=-1),
                 "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] "
                 "at entry 2", id="stack third"),
    pytest.param(lambda: nc.stack([nc.tensor(1.0), _O(1)]),
                 "stack expects each tensor to be equal size, but got [] at entry 0 and [1] at "
                 "entry 1", id="stack 0-d and 1-d"),
    # reshape, view
    pytest.param(lambda: _O(6).reshape(2, 5), "shape '[2, 5]' is invalid for input of size 6",
                 id="reshape"),
    pytest.param(lambda: _O(6).reshape(-1, 4), "shape '[-1, 4]' is invalid for input of size 6",
                 id="reshape -1"),
    pytest.param(lambda: _O(6).reshape(()), "shape '[]' is invalid for input of size 6",
                 id="reshape ()"),
    pytest.param(lambda: nc.reshape(_O(6), (4, -1)),
                 "shape '[4, -1]' is invalid for input of size 6", id="nc.reshape"),
    pytest.param(lambda: _O(6).reshape(-1, -1), "only one dimension can be inferred",
                 id="reshape -1 -1"),
    pytest.param(lambda: _O(0).reshape(0, -1), "cannot reshape tensor of 0 elements into shape "
                 "[0, -1] because the unspecified dimension size -1 can be any value and is "
                 "ambiguous", id="reshape 0 -1"),
    pytest.param(lambda: _O(6).reshape(-2, 3), "invalid shape dimension -2 at index 0 of "
                 "shape [-2, 3]", id="reshape -2"),      # NumPy infers any negative size
    pytest.param(lambda: _O(6).view(3, -3), "invalid shape dimension -3 at index 1 of shape "
                 "[3, -3]", id="view -3"),
    pytest.param(lambda: _O(6).view(2, 5), "shape '[2, 5]' is invalid for input of size 6",
                 id="view"),
    pytest.param(lambda: _O(6).view(-1, 4), "shape '[-1, 4]' is invalid for input of size 6",
                 id="view -1"),
    pytest.param(lambda: _O(6).view(-1, -1), "only one dimension can be inferred",
                 id="view -1 -1"),
    # expand
    pytest.param(lambda: _O(2, 3).expand(2, 4),
                 "The expanded size of the tensor (4) must match the existing size (3) at "
                 "non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [2, 3]",
                 id="expand"),
    pytest.param(lambda: _O(2, 3).expand((-1, 4)),
                 "The expanded size of the tensor (4) must match the existing size (3) at "
                 "non-singleton dimension 1.  Target sizes: [-1, 4].  Tensor sizes: [2, 3]",
                 id="expand -1"),
    pytest.param(lambda: _O(2, 1, 3).expand(4, 2, 5, 4),
                 "The expanded size of the tensor (4) must match the existing size (3) at "
                 "non-singleton dimension 3.  Target sizes: [4, 2, 5, 4].  Tensor sizes: "
                 "[2, 1, 3]", id="expand new dims"),
    pytest.param(lambda: _O(2, 3).expand(3),
                 "expand(npconv.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided "
                 "(1) must be greater or equal to the number of dimensions in the tensor (2)",
                 id="expand fewer sizes"),
    pytest.param(lambda: _O(2, 3, dtype=nc.int64).expand(()),
                 "expand(npconv.LongTensor{[2, 3]}, size=[]): the number of sizes provided "
                 "(0) must be greater or equal to the number of dimensions in the tensor (2)",
                 id="expand no sizes"),
    pytest.param(lambda: _O(3).expand(-1, 3),
                 "The expanded size of the tensor (-1) isn't allowed in a leading, "
                 "non-existing dimension 0", id="expand -1 new dim"),
])
def test_shape_errors_are_pytorchs(call, msg):
    with pytest.raises(RuntimeError, match="^%s$" % re.escape(msg)) as e:
        call()
    # NumPy's error is not chained on: the message is the whole story
    assert e.value.__cause__ is None
    assert e.value.__context__ is None or e.value.__suppress_context__


@pytest.mark.parametrize("make", [lambda: nc.zeros(2, -1), lambda: nc.ones((2, -1)),
                                  lambda: nc.empty(2, -1), lambda: nc.full((2, -1), 1.0),
                                  lambda: nc.randn(2, -1), lambda: nc.rand([2, -1]),
                                  lambda: nc.randint(0, 5, (2, -1))],
                         ids=["zeros", "ones", "empty", "full", "randn", "rand", "randint"])
def test_factories_refuse_negative_sizes(make):
    with pytest.raises(RuntimeError, match=re.escape(
            "Trying to create tensor with negative dimension -1: [2, -1]")):
        make()


def test_copy_casts_across_kinds_as_pytorch():
    """copy_ converts whatever the dtypes (PyTorch's, not NumPy's same-kind rule): floats
    into ints truncate toward zero, nonzero into bool is True, bool into float is 0/1."""
    i = nc.zeros(3, dtype=nc.int64)
    assert i.copy_(nc.tensor([1.5, -2.5, 3.7])).tolist() == [1, -2, 3]
    assert i.dtype == nc.int64
    b = nc.zeros(3, dtype=nc.bool)
    assert b.copy_(nc.tensor([0.0, 2.0, -1.0])).tolist() == [False, True, True]
    f = nc.zeros(3)
    assert f.copy_(nc.tensor([True, False, True])).tolist() == [1.0, 0.0, 1.0]
    assert f.dtype == nc.float32
    assert f.copy_(nc.tensor([7, 8, 9])).tolist() == [7.0, 8.0, 9.0]


def test_ops_that_broadcast_or_fit_still_work():
    a = nc.arange(6.0).reshape(2, 3)
    assert (a + nc.ones(3)).shape == (2, 3) and (a * nc.ones(2, 1)).shape == (2, 3)
    assert (nc.ones(4, 1, 3) - a).shape == (4, 2, 3) and (a == nc.ones(1)).shape == (2, 3)
    assert nc.where(nc.ones(2, 1) > 0, a, nc.ones(3)).shape == (2, 3)
    assert (nc.ones(0, 3) + nc.ones(1, 3)).shape == (0, 3)
    assert nc.ones(2, 3).add_(nc.ones(3)).tolist() == [[2.0] * 3] * 2
    assert nc.ones(3).copy_(nc.ones(1, 3)).shape == (3,)
    t = nc.ones(2, 3)
    t[0] = nc.full((1, 3), 5.0)                       # leading 1s of the value are dropped
    assert t.tolist() == [[5.0] * 3, [1.0] * 3]
    assert a.reshape(-1, 2).shape == (3, 2) and a.view(3, -1).shape == (3, 2)
    assert nc.ones(2, 1).expand(3, -1, 4).shape == (3, 2, 4)
    assert nc.ones(3).expand(0, 3).shape == (0, 3)
    assert nc.tensor(1.0).expand(3).tolist() == [1.0] * 3
    assert nc.cat([nc.ones(2, 3), nc.ones(4, 3)]).shape == (6, 3)
    assert nc.cat([nc.ones(2, 3), nc.ones(2, 4)], dim=1).shape == (2, 7)


def test_a_failed_in_place_op_changes_nothing():
    t = nc.ones(2, 3)
    for f in (lambda: t.add_(nc.ones(2, 4)), lambda: t.mul_(nc.ones(4, 3)),
              lambda: t.copy_(nc.ones(3, 3))):
        v = t._version[0]
        with pytest.raises(RuntimeError, match="must match the size"):
            f()
        assert t.tolist() == [[1.0] * 3] * 2 and t._version[0] == v


@pytest.mark.parametrize("index, msg", [
    (5, "index 5 is out of bounds for dimension 0 with size 4"),
    ((0, 9), "index 9 is out of bounds for dimension 1 with size 5"),
    (-5, "index -5 is out of bounds for dimension 0 with size 4"),
    ([4], "index 4 is out of bounds for dimension 0 with size 4"),
    ((slice(None), [7]), "index 7 is out of bounds for dimension 1 with size 5")])
def test_out_of_range_indices_raise_pytorchs_index_error(index, msg):
    # PyTorch's words ("dimension"; NumPy says "axis"), as on a GPU (check_bounds). The
    # dimension named is the source's indexed one; PyTorch numbers advanced indices after a
    # leading basic index or slice after its own restriding (t[:, [7]] says dimension 0)
    t = nc.arange(20.0).reshape(4, 5)
    with pytest.raises(IndexError, match="^%s$" % re.escape(msg)):
        t[index]
    with pytest.raises(IndexError, match="^%s$" % re.escape(msg)):
        t[index] = 1.0
    assert t.tolist() == np.arange(20.0).reshape(4, 5).tolist()
