"""PyTorch's shape errors, raised by the Tensor layer once the backend (NumPy or CuPy) has
refused an op, instead of the backend's own ValueError.

Each function takes shapes (tuples; None for a Python number, which broadcasts with anything)
and returns PyTorch's message for them, or None when PyTorch would accept them. They run only
on the failure path, so the ops themselves pay nothing for them.
"""


def _broadcast_pair(a, b):
    """(broadcast shape, None) of shapes ``a`` and ``b``, or (None, PyTorch's message): the
    sizes are compared from the last dimension, as its ``infer_size``."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return None, ("The size of tensor a (%d) must match the size of tensor b (%d) at "
                          "non-singleton dimension %d" % (a[i], b[i], i))
    return tuple(y if x == 1 else x for x, y in zip(a, b)), None


def broadcast_error(*shapes):
    """An elementwise op over operands of ``shapes``: they are broadcast one after the other
    (``where(cond, a, b)``: cond, then a, then b), and "tensor a" is the shape so far."""
    out = None
    for s in shapes:
        if s is None:
            continue
        if out is None:
            out = tuple(s)
            continue
        out, msg = _broadcast_pair(out, s)
        if msg is not None:
            return msg
    return None


def inplace_error(out, other):
    """``out.add_(other)`` and the like: the operands must broadcast, and to ``out``'s own
    shape (an in-place result cannot grow)."""
    if other is None:
        return None
    shape, msg = _broadcast_pair(out, other)
    if msg is None and shape != tuple(out):
        msg = ("output with shape %s doesn't match the broadcast shape %s"
               % (list(out), list(shape)))
    return msg


def fill_error(out, value):
    """``out.fill_(value)``: a Tensor value must be 0-d."""
    if value is None or not len(value):
        return None
    return ("fill_ only supports 0-dimension value tensor but got tensor with %d dimensions."
            % len(value))


def reshape_error(shape, numel):
    """``reshape``/``view`` of ``numel`` elements to ``shape`` (PyTorch's ``infer_size``)."""
    shape = list(shape)
    known = 1
    infer = None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                return "only one dimension can be inferred"
            infer = i
        elif s >= 0:
            known *= s
        else:
            return "invalid shape dimension %d at index %d of shape %s" % (s, i, shape)
    if numel == known or (infer is not None and known > 0 and numel % known == 0):
        if infer is not None and known == 0:
            return ("cannot reshape tensor of 0 elements into shape %s because the unspecified "
                    "dimension size -1 can be any value and is ambiguous" % shape)
        return None
    return "shape '%s' is invalid for input of size %d" % (shape, numel)


def matmul_error(a, b):
    """``a @ b`` (PyTorch's ``matmul``, by the route it takes for the dimensions): 1-D @ 1-D
    is a dot product; a 1-D or 2-D second operand multiplies the first folded to a matrix
    (rows = the product of all but its last size); a second operand of 3 or more
    dimensions makes a batched product, the batch dimensions broadcast first."""
    if a is None or b is None:
        return None
    da, db = len(a), len(b)
    if da == 0 or db == 0:
        return ("both arguments to matmul need to be at least 1D, but they are %dD and %dD"
                % (da, db))
    if da == 1 and db == 1:
        if a[0] != b[0]:
            return ("inconsistent tensor size, expected tensor [%d] and src [%d] to have the "
                    "same number of elements, but got %d and %d elements respectively"
                    % (a[0], b[0], a[0], b[0]))
        return None
    if db <= 2:
        rows = 1
        for n in a[:-1]:
            rows *= n
        if a[-1] == b[0]:
            return None
        if db == 1:
            return ("size mismatch, got input (%d), mat (%dx%d), vec (%d)"
                    % (rows, rows, a[-1], b[0]))
        return ("mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)"
                % (rows, a[-1], b[0], b[1]))
    batch, msg = _broadcast_pair(a[:-2], b[:-2])
    if msg is not None:
        return msg
    count = 1
    for n in batch:
        count *= n
    if a[-1] != b[-2]:
        return ("Expected size for first two dimensions of batch2 tensor to be: [%d, %d] but "
                "got: [%d, %d]." % (count, a[-1], count, b[-2]))
    return None


def _type_name(dtype, device_type):
    """PyTorch's legacy name of a tensor type (``FloatTensor``), as its expand error shows it:
    with ``npconv.`` in place of ``torch.`` (and the device type, when not the CPU)."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
             "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
             "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
    name = names.get(str(dtype), str(dtype).capitalize())
    prefix = "npconv." if device_type == "cpu" else "npconv.%s." % device_type
    return "%s%sTensor" % (prefix, name)


def expand_error(shape, sizes, dtype="float32", device_type="cpu"):
    """``t.expand(*sizes)`` of a tensor of ``shape`` (PyTorch's ``inferExpandGeometry``: new
    dimensions go in front; -1 keeps an existing size and is not allowed for a new one)."""
    shape, sizes = list(shape), list(sizes)
    if len(sizes) < len(shape):
        return ("expand(%s{%s}, size=%s): the number of sizes provided (%d) must be greater or "
                "equal to the number of dimensions in the tensor (%d)"
                % (_type_name(dtype, device_type), shape, sizes, len(sizes), len(shape)))
    lead = len(sizes) - len(shape)
    for i in range(len(sizes) - 1, -1, -1):
        target = sizes[i]
        size = shape[i - lead] if i >= lead else 1
        if target == -1:
            if i < lead:
                return ("The expanded size of the tensor (-1) isn't allowed in a leading, "
                        "non-existing dimension %d" % i)
            target = size
        if i >= lead and size != target and size != 1:
            return ("The expanded size of the tensor (%d) must match the existing size (%d) at "
                    "non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s"
                    % (target, size, i, sizes, shape))
    return None


def setitem_error(target, value, basic, dtype="float32", device_type="cpu"):
    """``t[index] = value`` where ``t[index]`` has shape ``target``: a basic index copies
    ``value`` expanded to it (leading 1s of ``value`` dropped first), an advanced one
    (``index_put_``) broadcasts."""
    if value is None:
        return None
    value = list(value)
    if basic:
        while value and value[0] == 1:
            value.pop(0)
        return expand_error(value, target, dtype, device_type)
    shape, msg = _broadcast_pair(target, value)
    if msg is not None or shape != tuple(target):
        return ("shape mismatch: value tensor of shape %s cannot be broadcast to indexing "
                "result of shape %s" % (value, list(target)))
    return None


def _skipped_in_cat(shape):
    """PyTorch's cat skips legacy empty tensors (shape (0,)) in its checks."""
    return len(shape) == 1 and shape[0] == 0


def cat_error(shapes, dim):
    """``cat`` of tensors of ``shapes`` along ``dim`` (already wrapped): each must have the
    dimensions of the first one (not counting legacy empty tensors) and its sizes except in
    ``dim``."""
    ref = next((s for s in shapes if not _skipped_in_cat(s)), None)
    if ref is None:
        return None
    for i, s in enumerate(shapes):
        if _skipped_in_cat(s):
            continue
        if len(s) != len(ref):
            return ("Tensors must have same number of dimensions: got %d and %d"
                    % (len(ref), len(s)))
        for d, (m, n) in enumerate(zip(ref, s)):
            if d != dim and m != n:
                return ("Sizes of tensors must match except in dimension %d. Expected size %d "
                        "but got size %d for tensor number %d in the list." % (dim, m, n, i))
    return None


def stack_error(shapes):
    """``stack`` of tensors of ``shapes``: all equal to the first one."""
    for i, s in enumerate(shapes):
        if tuple(s) != tuple(shapes[0]):
            return ("stack expects each tensor to be equal size, but got %s at entry 0 and %s "
                    "at entry %d" % (list(shapes[0]), list(s), i))
    return None
