"""``Module`` and ``Parameter``: the base of every layer, as in ``torch.nn``.

Parameters, buffers and submodules are registered by attribute assignment
(``self.weight = Parameter(...)``, ``self.fc = Linear(...)``) or with ``register_buffer``;
``state_dict`` keys are the dotted attribute paths PyTorch uses (``features.0.weight``).
"""
import collections
import itertools

import numpy

from ... import backend as _backend
from ...autograd import grad_mode as _grad_mode
from ...tensor import Tensor

__all__ = ["Module", "Parameter", "IncompatibleKeys"]


class Parameter(Tensor):
    """A Tensor that is a module parameter: a leaf that requires grad by default and that a
    Module registers when assigned as an attribute. ``Parameter(tensor_or_array)`` shares the
    data of a Tensor or array it is given."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = numpy.empty((0,), numpy.float32)
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):  # copy/pickle as a Parameter
        return (Parameter, (self.data.copy(), self.requires_grad))


IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _RemovableHandle:
    _next_id = itertools.count()

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = next(self._next_id)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _as_array(value):
    """The raw array inside a Tensor, a NumPy/CuPy array, or anything NumPy can convert
    (a torch CPU tensor, a list)."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "shape") and hasattr(value, "dtype") and not hasattr(value, "detach"):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):   # a torch tensor
        return value.detach().cpu().numpy()
    return numpy.asarray(value)


class Module:
    """Base class of every layer and model: subclass it, assign parameters and submodules in
    ``__init__`` and define ``forward``; call the module (``model(x)``) to run it."""

    training: bool

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = collections.OrderedDict()
        d["_buffers"] = collections.OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = collections.OrderedDict()
        d["_forward_hooks"] = collections.OrderedDict()
        d["_forward_pre_hooks"] = collections.OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError('Module [%s] is missing the required "forward" function'
                                  % type(self).__name__)

    def __call__(self, *args, **kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in tuple(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after every forward; a non-None return value
        replaces the output. Returns a handle with ``remove()``."""
        h = _RemovableHandle(self._forward_hooks)
        self._forward_hooks[h.id] = hook
        return h

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before every forward."""
        h = _RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[h.id] = hook
        return h

    # ------------------------------------------------------------ registration
    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameters, buffers or modules before "
                                 "Module.__init__() call")

    def register_parameter(self, name, param):
        """Add a parameter (or None, a declared-but-absent parameter such as a missing bias)."""
        self._check_init()
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError("cannot assign '%s' object to parameter '%s' "
                            "(npconv.nn.Parameter or None required)"
                            % (type(param).__name__, name))
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not a parameter (running statistics). Persistent
        buffers are part of ``state_dict``."""
        self._check_init()
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError("cannot assign '%s' object to buffer '%s' (npconv Tensor or None "
                            "required)" % (type(tensor).__name__, name))
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        self._check_init()
        if module is not None and not isinstance(module, Module):
            raise TypeError("%s is not a Module subclass" % type(module).__name__)
        _check_name(self, name, "module")
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError("cannot assign '%s' as parameter '%s' (npconv.nn.Parameter or "
                                "None expected)" % (type(value).__name__, name))
            params[name] = None
            return
        if isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, keep="_modules")
            self._modules[name] = value
            return
        mods = d.get("_modules")
        if mods is not None and name in mods:
            if value is not None:
                raise TypeError("cannot assign '%s' as child module '%s' (npconv.nn.Module or "
                                "None expected)" % (type(value).__name__, name))
            mods[name] = None
            return
        bufs = d.get("_buffers")
        if bufs is not None and name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError("cannot assign '%s' as buffer '%s' (npconv Tensor or None "
                                "expected)" % (type(value).__name__, name))
            bufs[name] = value
            return
        object.__setattr__(self, name, value)

    def _remove_from(self, name, keep):
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                d[key].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def __getattr__(self, name):
        # only called when normal lookup fails
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))

    def __delattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name,
                                       remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mprefix + ("." if mprefix else "") + name, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs; a parameter shared by two modules appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        m = self
        if target == "":
            return m
        for part in target.split("."):
            if part not in m._modules or m._modules[part] is None:
                raise AttributeError("%s has no attribute `%s`" % (type(m).__name__, part))
            m = m._modules[part]
        return m

    # ------------------------------------------------------------ modes, grads
    def train(self, mode=True):
        """Training mode (batch statistics, dropout on) or evaluation mode (``mode=False``)
        for this module and every descendant. Returns self.

        Recurses through each child's own ``train`` (as PyTorch), so a subclass that
        overrides it (say a BatchNorm kept frozen in eval mode) is respected."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.__dict__["training"] = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (the default), or to zeros. Gradient
        arrays may be shared, so zeros are fresh arrays, never written into the old ones."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                xp = _backend.get_array_module(p.grad.data)
                p.grad = Tensor._wrap(xp.zeros_like(p.grad.data))

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ device and dtype
    def _apply(self, fn):
        """Replace the raw array of every parameter, gradient and buffer by ``fn(array)``.

        The Parameter objects stay the same (an optimizer built before keeps working); this
        is the hook ``to(device)`` and ``double()`` go through."""
        for m in self.children():
            m._apply(fn)
        for p in self._parameters.values():
            if p is None:
                continue
            new = fn(p.data)
            if new is not p.data:
                p.data = new
                p._version[0] += 1
            if p.grad is not None:
                g = fn(p.grad.data)
                if g is not p.grad.data:
                    p.grad = Tensor._wrap(g)
        for name, b in self._buffers.items():
            if b is None:
                continue
            new = fn(b.data)
            if new is not b.data:
                b.data = new
                b._version[0] += 1
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)`` (its device
        and dtype): moves (and casts floating point) parameters and buffers in place; returns
        self. A dtype applies to floating point arrays only, as in PyTorch; a device is a
        string, a ``Device`` or a GPU index (as ``.cuda(i)``)."""
        for a in args:
            if isinstance(a, (str, _backend.Device)):
                device = a
            elif _backend._is_index(a):
                device = _backend.cuda_device(a)
            elif isinstance(a, Tensor):
                device = _backend.device_of(a.data)
                dtype = a.data.dtype
            else:
                dtype = a
        if device is not None:
            device = _backend.as_device(device)      # device=0 as well as to(0)
        if dtype is not None:
            dtype = numpy.dtype(dtype)
            if dtype.kind not in "fc":
                raise TypeError("nn.Module.to only accepts floating point dtypes, but got "
                                "desired dtype=%s" % dtype)

        def convert(a):
            if device is not None:
                a = _backend.move_array(a, device)
            if dtype is not None and a.dtype.kind == "f" and a.dtype != dtype:
                a = a.astype(dtype)
            return a
        return self._apply(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(_backend.cuda_device(device))

    def double(self):
        return self.to(dtype=numpy.float64)

    def float(self):
        return self.to(dtype=numpy.float32)

    def half(self):
        return self.to(dtype=numpy.float16)

    # ------------------------------------------------------------ state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict from dotted names to Tensors (parameters, then persistent
        buffers, module by module: PyTorch's keys and order). The Tensors share memory with
        the module (detached unless ``keep_vars``)."""
        if destination is None:
            destination = collections.OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _own_state(self):
        """name -> Tensor for every entry ``state_dict`` would hold (the live objects)."""
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values (npconv Tensors, NumPy/CuPy arrays, or anything NumPy converts) into
        the parameters and buffers in place. ``strict``: the keys must match exactly.
        Shape mismatches are always an error. The error names every missing key, unexpected
        key and mismatched shape, and nothing is loaded. Returns ``(missing_keys,
        unexpected_keys)``.

        ``assign=True`` (as PyTorch) replaces each parameter and buffer by the loaded value
        instead of copying into it: the module then shares memory with the state dict and
        takes its dtype and device. A parameter stays a Parameter with the module's
        ``requires_grad`` (a Parameter in the state dict is used as is, its ``requires_grad``
        set to the module's); a buffer becomes the given Tensor (an array is wrapped).
        An optimizer built before holds the old parameters: build it after loading."""
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError("Expected state_dict to be dict-like, got %s."
                            % type(state_dict).__name__)
        # a copy, as PyTorch: modules may fill in entries of older formats, never in the
        # caller's dict
        state_dict = collections.OrderedDict(state_dict)
        for prefix, m in self.named_modules(remove_duplicate=False):
            m._upgrade_state_dict(state_dict, prefix + "." if prefix else "")
        own = self._own_state()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        plan = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            value = state_dict[k]
            src = _as_array(value)
            if target.data.ndim == 0 and tuple(src.shape) == (1,):
                # PyTorch's backward compatibility: a 0-d entry saved by PyTorch < 0.4 (or
                # by code that kept it 1-d) has shape (1,)
                src = src.reshape(())
                value = src
            if tuple(src.shape) != tuple(target.data.shape):
                errors.append("size mismatch for %s: copying a param with shape %s from "
                              "checkpoint, the shape in current model is %s."
                              % (k, _fmt_shape(src.shape), _fmt_shape(target.data.shape)))
                continue
            if assign:
                # built now, so that a value that cannot be assigned (integers for a
                # parameter that requires grad) is reported before anything is replaced
                try:
                    src = _assigned(target, value, src)
                except RuntimeError as e:
                    errors.append('While copying the parameter named "%s", whose dimensions '
                                  "in the model are %s and whose dimensions in the checkpoint "
                                  "are %s, an exception occurred : %s."
                                  % (k, _fmt_shape(target.data.shape), _fmt_shape(src.shape),
                                     e.args))
                    continue
            plan.append((k, target, src))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: %s. "
                              % ", ".join('"%s"' % k for k in unexpected))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: %s. "
                              % ", ".join('"%s"' % k for k in missing))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for %s:\n\t%s"
                               % (type(self).__name__, "\n\t".join(errors)))
        with _grad_mode.no_grad():
            for k, target, src in plan:
                if assign:
                    if isinstance(target, Parameter):
                        src.requires_grad_(target.requires_grad)
                    owner, _, name = k.rpartition(".")
                    setattr(self.get_submodule(owner), name, src)
                    continue
                src = _backend.move_array(src, _backend.device_of(target.data))
                xp = _backend.get_array_module(target.data)
                xp.copyto(target.data, src, casting="unsafe")
                target._version[0] += 1
        return IncompatibleKeys(missing, unexpected)

    def _upgrade_state_dict(self, state_dict, prefix):
        """Adapt, in place, the entries under ``prefix`` of a ``state_dict`` about to be
        loaded into this module (keys of an older format, say); by default nothing. Called
        by ``load_state_dict`` on every submodule, before keys are matched."""

    # ------------------------------------------------------------ repr
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (subclasses override)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append("(" + name + "): " + body)
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _assigned(target, value, array):
    """What ``load_state_dict(assign=True)`` puts in place of ``target`` (PyTorch's rules):
    for a parameter, a Parameter with ``target``'s requires_grad (the given one if it is a
    Parameter, else one sharing the loaded data); for a buffer, the given Tensor (or the
    array wrapped, sharing its memory)."""
    if isinstance(target, Parameter):
        if isinstance(value, Parameter):
            # checked on a stand-in: the caller's Parameter changes only once loading succeeds
            Tensor._wrap(array).requires_grad_(target.requires_grad)
            return value
        return Parameter(Tensor._wrap(array), requires_grad=target.requires_grad)
    return value if isinstance(value, Tensor) else Tensor._wrap(array)


def _fmt_shape(shape):
    return "npconv.Size([%s])" % ", ".join(str(int(s)) for s in shape)


def _check_name(module, name, what):
    if not isinstance(name, str):
        raise TypeError("%s name should be a string. Got %s" % (what, type(name).__name__))
    if name == "":
        raise KeyError('%s name can\'t be empty string ""' % what)
    if "." in name:
        raise KeyError('%s name can\'t contain ".", got: %s' % (what, name))
    if hasattr(type(module), name) and not isinstance(getattr(type(module), name, None),
                                                       property):
        raise KeyError("attribute '%s' already exists" % name)
