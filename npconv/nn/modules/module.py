"""``Module`` and ``Parameter``: the base of every layer, as in ``torch.nn``.

Parameters, buffers and submodules are registered by attribute assignment
(``self.weight = Parameter(...)``, ``self.fc = Linear(...)``) or with ``register_buffer``;
``state_dict`` keys are the dotted attribute paths PyTorch uses (``features.0.weight``).
"""
import collections
import itertools
import warnings

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


class IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                              ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys the module has that the state dict lacked,
    and the keys the state dict has that the module lacks. Shown as PyTorch shows it:
    ``<All keys matched successfully>`` when both are empty."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return: ``remove()``
    (idempotent) unregisters the hook and its flags; also a context manager that removes it
    on exit. Ids are unique across all modules, as PyTorch's ``RemovableHandle.id``."""

    _next_id = itertools.count()

    def __init__(self, hooks, extra=()):
        self._hooks = hooks
        self._extra = extra          # the flag dicts (with_kwargs, always_call) keyed by id
        self.id = next(self._next_id)

    def remove(self):
        """Unregister the hook (a no-op if it already was)."""
        self._hooks.pop(self.id, None)
        for d in self._extra:
            d.pop(self.id, None)

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
    ``__init__`` and define ``forward``; call the module (``model(x)``) to run it.

    Assigning a ``Parameter`` or a ``Module`` as an attribute registers it (in
    ``_parameters`` / ``_modules``, what ``parameters()``, ``state_dict()`` and ``to()``
    walk); a plain Tensor stays an ordinary attribute (use ``register_buffer`` for state
    that is not a parameter). The rules and error messages are PyTorch's."""

    training: bool

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = collections.OrderedDict()
        d["_buffers"] = collections.OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = collections.OrderedDict()
        d.update(_hook_dicts())

    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it. Call the module, not ``forward``:
        ``model(x)`` also runs the forward hooks."""
        raise NotImplementedError('Module [%s] is missing the required "forward" function'
                                  % type(self).__name__)

    def __call__(self, *args, **kwargs):
        # the common case (no hooks) calls forward directly: this runs for every layer on
        # every step, so it does one cheap truth test of each hook dict and nothing else
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        """``__call__`` with hooks, PyTorch's rules: pre-hooks in order (each may replace the
        positional inputs, or with ``with_kwargs`` the ``(args, kwargs)`` pair), forward,
        then forward hooks in order (a non-None return replaces the output). If anything
        raises, the ``always_call`` forward hooks that have not run yet still run (an error
        they raise is turned into a warning) and the first error propagates."""
        result = None
        called = set()
        try:
            for hid, hook in tuple(self._forward_pre_hooks.items()):
                if hid in self._forward_pre_hooks_with_kwargs:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               "of (new_args, new_kwargs), but got %r." % (res,))
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            result = self.forward(*args, **kwargs)
            for hid, hook in tuple(self._forward_hooks.items()):
                if hid in self._forward_hooks_always_called:
                    called.add(hid)
                result = self._run_forward_hook(hid, hook, args, kwargs, result)
            return result
        except Exception:
            for hid, hook in tuple(self._forward_hooks.items()):
                if hid not in self._forward_hooks_always_called or hid in called:
                    continue
                try:
                    result = self._run_forward_hook(hid, hook, args, kwargs, result)
                except Exception as e:
                    warnings.warn("module forward hook with ``always_call=True`` raised an "
                                  "exception that was silenced as another error was raised "
                                  "in forward: %s" % e, stacklevel=2)
            raise

    def _run_forward_hook(self, hid, hook, args, kwargs, result):
        """One forward hook: its return value, when not None, replaces the output."""
        if hid in self._forward_hooks_with_kwargs:
            res = hook(self, args, kwargs, result)
        else:
            res = hook(self, args, result)
        return result if res is None else res

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Run ``hook(module, args)`` before every forward (``args``: the positional inputs;
        keyword arguments go to forward only). A non-None return replaces the inputs (a
        value that is not a tuple is wrapped in one). With ``with_kwargs=True`` the hook is
        ``hook(module, args, kwargs)`` and returns None or ``(new_args, new_kwargs)``.
        ``prepend=True`` runs it before the hooks already registered. Returns a handle with
        ``remove()``. As PyTorch's."""
        h = _RemovableHandle(self._forward_pre_hooks, (self._forward_pre_hooks_with_kwargs,))
        self._forward_pre_hooks[h.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[h.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(h.id, last=False)
        return h

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Run ``hook(module, args, output)`` after every forward (``args``: the positional
        inputs as the forward got them); a non-None return replaces the output. With
        ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``.
        ``prepend=True`` runs it before the hooks already registered; ``always_call=True``
        runs it even when forward (or an earlier hook) raises, with ``output`` None if
        forward did not finish. Returns a handle with ``remove()``. As PyTorch's."""
        h = _RemovableHandle(self._forward_hooks, (self._forward_hooks_with_kwargs,
                                                   self._forward_hooks_always_called))
        self._forward_hooks[h.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[h.id] = True
        if always_call:
            self._forward_hooks_always_called[h.id] = True
        if prepend:
            self._forward_hooks.move_to_end(h.id, last=False)
        return h

    # ------------------------------------------------------------ registration
    def register_parameter(self, name, param):
        """Add a parameter ``name`` (None: a declared-but-absent parameter, such as a missing
        bias: not in ``parameters()`` nor ``state_dict()``). PyTorch's checks: the name is a
        non-empty string without ``.`` that is not already another attribute."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError("cannot assign '%s' object to parameter '%s' "
                            "(npconv.nn.Parameter or None required)" % (_typename(param), name))
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not a parameter (running statistics), moved and cast
        by ``to()`` with the parameters. Persistent buffers are part of ``state_dict``; a
        ``persistent=False`` one is not (nor is a None one). Same name checks as
        ``register_parameter``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError("cannot assign '%s' object to buffer '%s' (npconv Tensor or None "
                            "required)" % (_typename(tensor), name))
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Add a child module ``name`` (None: a declared-but-absent child). Same name checks
        as ``register_parameter`` (PyTorch's order: the type first, then the name)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError("%s is not a Module subclass" % _typename(module))
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        _check_name(self, name, "module", self._modules)
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias for ``add_module`` (it calls ``add_module``, so an override applies)."""
        self.add_module(name, module)

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
                                "None expected)" % (_typename(value), name))
            params[name] = None
            return
        mods = d.get("_modules")
        if isinstance(value, Module):
            if mods is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, keep="_modules")
            mods[name] = value
            return
        if mods is not None and name in mods:
            if value is not None:
                raise TypeError("cannot assign '%s' as child module '%s' (npconv.nn.Module or "
                                "None expected)" % (_typename(value), name))
            mods[name] = None
            return
        bufs = d.get("_buffers")
        if bufs is not None and name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError("cannot assign '%s' as buffer '%s' (npconv Tensor or None "
                                "expected)" % (_typename(value), name))
            bufs[name] = value
            return
        object.__setattr__(self, name, value)

    def _remove_from(self, name, keep):
        """Drop ``name`` from the instance dict and every store but ``keep``: an attribute
        lives in one place, so assigning a Parameter over a buffer (say) replaces it."""
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                d[key].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and submodules live in
        # their stores, not in __dict__. Unrolled (no loop) since layers read their weights
        # through here on every forward.
        d = self.__dict__
        store = d.get("_parameters")
        if store is not None and name in store:
            return store[name]
        store = d.get("_buffers")
        if store is not None and name in store:
            return store[name]
        store = d.get("_modules")
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
        # as PyTorch: names that are not identifiers (Sequential's "0", "1") are left out
        keys = (set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                | set(self._modules))
        return sorted(k for k in keys if not k[:1].isdigit())

    def __setstate__(self, state):
        # a module pickled before the hook flag dicts existed gets empty ones
        for key, value in _hook_dicts().items():
            state.setdefault(key, value)
        self.__dict__.update(state)

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module (named ``prefix``) and every descendant,
        depth first in registration order. A module reachable under several names is listed
        once, under the first, unless ``remove_duplicate=False``. As PyTorch's."""
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
        """This module and every descendant, each once (see ``named_modules``)."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, child) for the direct children, a child held under two names once."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """The direct children, each once (see ``named_children``)."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        """(dotted name, tensor) of ``store`` (``"_parameters"``/``"_buffers"``) over this
        module (and, if ``recurse``, its descendants); None entries skipped, and a tensor
        held under several names listed once unless ``remove_duplicate=False`` (PyTorch's
        ``_named_members``)."""
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
        """(dotted name, Parameter) pairs, names starting with ``prefix``; only this module's
        own if ``recurse=False``. A parameter shared by two modules (or held under two
        names) appears once, under its first name, unless ``remove_duplicate=False``."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """The parameters (each once): what an optimizer is given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, buffer) pairs, non-persistent buffers included (as PyTorch); the
        arguments are those of ``named_parameters``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """The buffers (each once), non-persistent ones included."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``"features.0"``; ``""`` is self).
        AttributeError, with PyTorch's wording, names the first part of the path that does
        not exist (``Sequential has no attribute `5```) or is not a module (```weight`` is
        not an nn.Module``)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at the dotted path ``target`` (replacing the module there, or, unless
        ``strict``, adding it to the existing parent). As PyTorch's: ValueError for an empty
        target or a non-module, AttributeError for a missing parent, a missing name when
        ``strict``, or a name that holds something other than a module."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError("`module` is not an nn.Module, found %s" % type(module))
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if hasattr(parent, name):
            if not isinstance(getattr(parent, name), Module):
                raise AttributeError("`" + name + "` is not an nn.Module")
        elif strict:
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        setattr(parent, name, module)

    def get_parameter(self, target):
        """The Parameter at the dotted path ``target`` (``"features.0.weight"``).
        AttributeError, as PyTorch's, if the path does not exist or does not end at a
        Parameter."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``).
        AttributeError, as PyTorch's, if the path does not exist or does not end at a
        registered buffer."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        buf = getattr(mod, name)
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return buf

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
        """Evaluation mode: ``train(False)``. Returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter (freeze with False). Returns self."""
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
        self. A dtype must be floating point or complex and applies to floating point and
        complex arrays only (integer buffers such as ``num_batches_tracked`` keep theirs), as
        in PyTorch; a device is a string, a ``Device`` or a GPU index (as ``.cuda(i)``)."""
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
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                "but got desired dtype=%s" % dtype)

        def convert(a):
            if device is not None:
                a = _backend.move_array(a, device)
            if dtype is not None and a.dtype.kind in "fc" and a.dtype != dtype:
                a = a.astype(dtype)
            return a
        return self._apply(convert)

    def cpu(self):
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self, device=None):
        """``to`` the current GPU, or GPU ``device`` (an index or a device)."""
        return self.to(_backend.cuda_device(device))

    def double(self):
        """Cast floating point parameters and buffers to float64. Returns self."""
        return self.to(dtype=numpy.float64)

    def float(self):
        """Cast floating point parameters and buffers to float32. Returns self."""
        return self.to(dtype=numpy.float32)

    def half(self):
        """Cast floating point parameters and buffers to float16. Returns self."""
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
            raise TypeError("Expected state_dict to be dict-like, got %s." % type(state_dict))
        # a copy, as PyTorch: modules may fill in entries of older formats, never in the
        # caller's dict
        state_dict = collections.OrderedDict(state_dict)
        for prefix, m in self.named_modules(remove_duplicate=False):
            m._upgrade_state_dict(state_dict, prefix + "." if prefix else "")
        own = self._own_state()
        missing = [k for k in own if k not in state_dict]
        unexpected = self._unexpected_keys(state_dict)
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

    def _unexpected_keys(self, state_dict):
        """The keys of ``state_dict`` that name nothing in this module, in PyTorch's order:
        module by module (self, then each child depth first), each module's in the state
        dict's order. As PyTorch, a key under a child slot that holds None
        (``downsample.weight`` with ``self.downsample = None``) is not reported."""
        out = []
        for mprefix, m in self.named_modules(remove_duplicate=False):
            mprefix = mprefix + "." if mprefix else ""
            local = set(k for k, v in m._parameters.items() if v is not None)
            local.update(k for k, v in m._buffers.items()
                         if v is not None and k not in m._non_persistent_buffers)
            for key in state_dict:
                if not key.startswith(mprefix):
                    continue
                head, dot, _ = key[len(mprefix):].partition(".")
                if head not in (m._modules if dot else local):
                    out.append(key)
        return out

    def _upgrade_state_dict(self, state_dict, prefix):
        """Adapt, in place, the entries under ``prefix`` of a ``state_dict`` about to be
        loaded into this module (keys of an older format, say); by default nothing. Called
        by ``load_state_dict`` on every submodule, before keys are matched."""

    # ------------------------------------------------------------ repr
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (subclasses override)."""
        return ""

    def _get_name(self):
        """The name shown by ``repr`` and in error messages (the class name)."""
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            lines.append("(" + name + "): " + _addindent(repr(m), 2))
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


def _check_name(module, name, what, store):
    """PyTorch's checks (and order, and messages) on the name given to ``register_parameter``
    / ``register_buffer`` / ``add_module``. A name already in ``store`` may be re-registered;
    one that is any other attribute (a plain attribute, a method, a parameter when adding a
    buffer) is refused rather than shadowed or left registered twice."""
    if not isinstance(name, str):
        raise TypeError("%s name should be a string. Got %s" % (what, _typename(name)))
    exists = hasattr(module, name) and name not in store
    if what == "module" and exists:
        raise KeyError("attribute '%s' already exists" % name)
    if "." in name:
        if what == "module":
            raise KeyError('module name can\'t contain ".", got: %s' % name)
        raise KeyError('%s name can\'t contain "."' % what)
    if name == "":
        raise KeyError('%s name can\'t be empty string ""' % what)
    if exists:
        raise KeyError("attribute '%s' already exists" % name)


def _typename(obj):
    """The type of ``obj`` as PyTorch's error messages name it (``torch.typename``): the
    qualified class name, builtins bare (``int``), npconv tensors as ``npconv.Tensor``."""
    if isinstance(obj, Tensor):
        return "npconv.nn.Parameter" if isinstance(obj, Parameter) else "npconv.Tensor"
    cls = type(obj)
    module = cls.__module__ or ""
    if module in ("", "builtins"):
        return cls.__qualname__
    return "%s.%s" % (module, cls.__qualname__)


def _hook_dicts():
    """Fresh hook stores of a Module: the hooks, and the ids of those registered with
    ``with_kwargs`` / ``always_call`` (PyTorch's layout)."""
    return {"_forward_hooks": collections.OrderedDict(),
            "_forward_hooks_with_kwargs": collections.OrderedDict(),
            "_forward_hooks_always_called": collections.OrderedDict(),
            "_forward_pre_hooks": collections.OrderedDict(),
            "_forward_pre_hooks_with_kwargs": collections.OrderedDict()}


def _addindent(text, spaces):
    """PyTorch's ``_addindent``: indent every line but the first by ``spaces``, leaving blank
    lines empty."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return "\n".join([lines[0]] + [pad + l if l.strip() else "" for l in lines[1:]])
