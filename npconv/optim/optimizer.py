"""``Optimizer``: parameter groups, ``zero_grad``, ``state_dict``/``load_state_dict``."""
import copy
from collections import defaultdict

import numpy

from .. import backend as _backend
from ..autograd import grad_mode as _grad_mode
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _Required:
    """Marks a default that every parameter group must give itself (PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _split_names(params):
    """(tensors, names) from a group's params, which may be (name, tensor) pairs as
    ``model.named_parameters()`` gives (PyTorch accepts both); names None without them."""
    named = [isinstance(p, tuple) for p in params]
    if not any(named):
        return params, None
    if not all(named):
        raise ValueError("all optimizer params should be with/without names. Some param "
                         "names are missing")
    return [p[1] for p in params], [p[0] for p in params]


class Optimizer:
    """Base class: ``Optimizer(params, defaults)`` where ``params`` is an iterable of
    Parameters, of (name, Parameter) pairs (``model.named_parameters()``; the names are kept
    in the group as ``'param_names'``) or of dicts (parameter groups:
    ``{'params': [...], 'lr': ...}``); options a group does not give come from ``defaults``.

    ``state`` is a ``defaultdict(dict)`` keyed by parameter, as PyTorch's (``state[p]`` of a
    parameter that has no state yet is ``{}``); it holds each parameter's buffers as raw
    backend arrays (on the parameter's device, in its dtype). Parameter groups are the dicts
    given (PyTorch's, so ``param_groups[i]`` is the caller's dict, filled in with
    defaults). Subclasses implement ``step()``; updates are made in place on ``p.data`` and
    never write into ``p.grad`` (gradient arrays may be shared)."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got %s" % type(params).__name__)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        """Add a group (``{'params': [...], option: value, ...}``) to ``param_groups``; options
        it does not give come from ``defaults``. As PyTorch's, the dict itself is stored (and
        filled in). A parameter may belong to one group only."""
        if not isinstance(param_group, dict):
            raise TypeError("param_group must be a dict, but got %s"
                            % type(param_group).__name__)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params, names = _split_names(list(params))
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for k, v in self.defaults.items():
            if v is required and k not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 "optimization parameter " + k)
        if len({id(p) for p in params}) != len(params):
            # PyTorch only warns; an error here, as such a parameter would be updated twice
            raise ValueError("optimizer contains a parameter group with duplicate parameters "
                             "(%d parameters, %d distinct): each must appear once"
                             % (len(params), len({id(p) for p in params})))
        has_names = names is not None or "param_names" in param_group
        for g in self.param_groups:
            if ("param_names" in g) != has_names:
                raise ValueError("all optimizer param groups should be with/without names. "
                                 "cannot add param group %s names to the optimizer"
                                 % ("with" if has_names else "without"))
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        # only now that every check passed is the caller's dict changed
        param_group["params"] = params
        if names is not None:
            param_group["param_names"] = names   # PyTorch's key: kept in state_dict's groups
        for k, v in self.defaults.items():
            param_group.setdefault(k, v)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset gradients: to None (default) or to fresh zero arrays (never written into the
        old gradient arrays, which may be shared)."""
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    xp = _backend.get_array_module(p.grad.data)
                    p.grad = Tensor._wrap(xp.zeros_like(p.grad.data))

    def _state(self, p):
        """``state[p]``, with its arrays moved to ``p``'s device and cast to its dtype when
        the model was moved or cast after the state was made (``model.to('cuda')`` or
        ``model.double()`` after some steps), as the buffers must live where, and as, the
        parameter does."""
        s = self.state.get(p)
        if s is None:
            s = self.state[p] = {}
            return s
        pd = p.data
        for k, v in s.items():
            if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, numpy.generic):
                if type(v) is not type(pd) or (not isinstance(pd, numpy.ndarray) and
                                               _backend.device_of(v) != _backend.device_of(pd)):
                    v = s[k] = _backend.move_array(v, _backend.device_of(pd))
                if (v.dtype != pd.dtype and v.shape == pd.shape and pd.dtype.kind == "f"
                        and v.dtype.kind == "f"):
                    s[k] = v.astype(pd.dtype)       # moment buffers follow the parameter
        return s

    def _tmp(self, like, k=0):
        """A scratch array shaped like ``like`` (the k-th of its kind), reused across steps
        and parameters so that steps allocate nothing once warm."""
        key = (like.shape, like.dtype.str, type(like), k)
        if not isinstance(like, numpy.ndarray):
            key += (str(_backend.device_of(like)),)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = _backend.get_array_module(like).empty_like(like)
        return buf

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; ``closure`` (optional) recomputes and
        returns the loss, which ``step`` returns. Implemented by each optimizer."""
        raise NotImplementedError

    def _closure(self, closure):
        if closure is None:
            return None
        with _grad_mode.enable_grad():
            return closure()

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index]}]}``
        as PyTorch's: parameters are numbered in the order of the groups. Buffers are copies
        (NumPy arrays on the CPU backend); ``npconv.save`` writes it as is."""
        index = {}
        groups = []
        for g in self.param_groups:
            entry = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            entry["params"] = ids
            groups.append(entry)
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: (v.copy() if hasattr(v, "shape") and
                                           hasattr(v, "dtype") else copy.deepcopy(v))
                                       for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore groups' options and per-parameter state from ``state_dict()`` output (or
        its ``npconv.load`` round trip). Arrays are copied and moved to each parameter's
        device; floating point buffers take the parameter's dtype."""
        groups = self.param_groups
        saved = state_dict["param_groups"]
        if len(groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             "(%d, the optimizer has %d)" % (len(saved), len(groups)))
        for i, (g, sg) in enumerate(zip(groups, saved)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group (group %d: %d saved, "
                                 "%d in the optimizer)" % (i, len(sg["params"]),
                                                           len(g["params"])))
        id_map = {}
        for g, sg in zip(groups, saved):
            for p, k in zip(g["params"], sg["params"]):
                id_map[k] = p
        saved_state = state_dict["state"]
        self.state = defaultdict(dict)
        for k, s in saved_state.items():
            key = int(k) if isinstance(k, str) else k
            p = id_map.get(key)
            if p is None:
                continue
            self.state[p] = {name: self._cast_state(p, name, v) for name, v in s.items()}
        for g, sg in zip(groups, saved):
            for k, v in sg.items():
                if k == "params":
                    continue
                v = copy.deepcopy(v)       # the group must not share lists with the dict
                g[k] = tuple(v) if isinstance(g.get(k), tuple) and isinstance(v, list) else v

    @staticmethod
    def _cast_state(p, name, v):
        """A loaded state value as ``p``'s state: arrays copied to ``p``'s device, floating
        ones in ``p``'s dtype; a 0-d ``step`` as a Python number."""
        if isinstance(v, Tensor):
            v = v.data
        if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, numpy.generic):
            v = _backend.move_array(v, _backend.device_of(p.data))
            xp = _backend.get_array_module(v)
            if v.ndim == 0 and name == "step":
                return v.item()
            if v.ndim and tuple(v.shape) != tuple(p.data.shape):
                raise ValueError("optimizer state %r has shape %s but its parameter has shape "
                                 "%s: the state dict belongs to a different model"
                                 % (name, tuple(v.shape), tuple(p.data.shape)))
            if v.dtype.kind == "f":
                v = v.astype(p.data.dtype, copy=True)
            else:
                v = xp.array(v, copy=True)
            return v
        if isinstance(v, numpy.generic):
            return v.item()
        return copy.deepcopy(v)

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, g in enumerate(self.param_groups):
            s += "\nParameter Group %d" % i
            for k in sorted(g):
                if k != "params":
                    s += "\n    %s: %s" % (k, g[k])
        return s + "\n)"
