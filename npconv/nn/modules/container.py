"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList`` and
``ParameterDict``."""
import collections
import collections.abc
import operator

from .activation import ReLU
from ...tensor import Tensor
from .module import Module, Parameter, _addindent
from .pooling import MaxPool2d

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _index(i, n, what):
    i = operator.index(i)
    if not -n <= i < n:
        raise IndexError("index %d is out of range for %s of length %d" % (i, what, n))
    return i % n


def _swappable(relu, pool):
    """Whether ``pool(relu(x))`` may run as ``relu(pool(x))``: plain modules without hooks
    (a hook must see the input and output it was registered for) and a pool that returns no
    indices (on windows with no positive value the argmax of x and of relu(x) may differ).
    Outputs are identical; so are gradients (each window's gradient reaches the first
    maximum, and is zeroed by the ReLU's mask when that maximum is <= 0, in both orders)."""
    return not (pool.return_indices or relu._forward_hooks or relu._forward_pre_hooks
                or pool._forward_hooks or pool._forward_pre_hooks)


def _renumber(container, modules):
    """Register ``modules`` as the container's children ``0``, ``1``, ... (PyTorch keeps
    list-like containers numbered contiguously after insertions and deletions)."""
    for m in modules:       # checked first: a bad one must not leave the container emptied
        if m is not None and not isinstance(m, Module):
            raise TypeError("%s is not a Module subclass" % type(m).__name__)
    container._modules.clear()
    for i, m in enumerate(modules):
        container.add_module(str(i), m)


class _Appendable:
    """``append``/``extend`` shared by Sequential and ModuleList."""

    def append(self, module):
        """Add ``module`` at the end (named by its position). Returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each module of ``modules`` in turn. Returns self."""
        for m in modules:
            self.append(m)
        return self


class Sequential(_Appendable, Module):
    """Modules called in order, each on the previous one's output.

    ``Sequential(m0, m1, ...)`` names the children ``0``, ``1``, ... (so the state_dict keys
    are ``0.weight``...); ``Sequential(OrderedDict([('conv', m0), ...]))`` uses the given
    names. Supports ``len``, iteration, ``seq[i]``, ``seq[a:b]`` (a new Sequential holding
    the same modules), ``append``, ``insert``, ``pop`` and ``del seq[i]`` (the last three
    renumber the children ``0``, ``1``, ..., named ones included, as PyTorch).

    As PyTorch's: ``seq + other`` is a new Sequential of both's modules (numbered ``0``,
    ``1``, ...), ``seq += other`` appends ``other``'s, ``seq * n`` (or ``n * seq``) is a new
    Sequential repeating the modules ``n`` times and ``seq *= n`` repeats them in place.
    None of these copies a module: a repeated module is the same object, its parameters
    shared (``copy.deepcopy`` each part for independent layers)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        """Each module in turn on the previous one's output."""
        mods = tuple(self._modules.values())
        n = len(mods)
        i = 0
        while i < n:
            m = mods[i]
            if (type(m) is ReLU and i + 1 < n and type(mods[i + 1]) is MaxPool2d
                    and _swappable(m, mods[i + 1])):
                # ReLU then max-pool == max-pool then ReLU, exactly (max commutes with the
                # monotone max(., 0)): the ReLU then runs on the pooled, 4x smaller map
                input = mods[i + 1](input)
                input = m(input)
                i += 2
                continue
            input = m(input)
            i += 1
        return input

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            items = list(self._modules.items())[idx]
            return type(self)(collections.OrderedDict(items))
        keys = list(self._modules)
        return self._modules[keys[_index(idx, len(keys), "Sequential")]]

    def __setitem__(self, idx, module):
        keys = list(self._modules)
        setattr(self, keys[_index(idx, len(keys), "Sequential")], module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for k in keys[idx]:
                del self._modules[k]
        else:
            del self._modules[keys[_index(idx, len(keys), "Sequential")]]
        # PyTorch renumbers the rest 0, 1, ..., even children that were given names
        _renumber(self, list(self._modules.values()))

    def _check_sequential(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but %s "
                             "is given." % type(other))

    def _check_factor(self, n):
        if not isinstance(n, int):
            raise TypeError("unsupported operand type(s) for *: %s and %s"
                            % (type(self), type(n)))
        if n <= 0:
            raise ValueError("Non-positive multiplication factor %d for %s" % (n, type(self)))

    def __add__(self, other):
        self._check_sequential(other)
        return Sequential().extend(self).extend(other)

    def __iadd__(self, other):
        self._check_sequential(other)
        return self.extend(list(other))     # a snapshot: ``seq += seq`` doubles it

    def __mul__(self, n):
        self._check_factor(n)
        return Sequential().extend(list(self) * n)

    __rmul__ = __mul__

    def __imul__(self, n):
        self._check_factor(n)
        return self.extend(list(self) * (n - 1))

    def pop(self, index):
        """Remove and return the module at ``index`` (a slice: a Sequential of them, with
        their names), renumbering the rest as ``del`` does."""
        module = self[index]
        del self[index]
        return module

    def insert(self, index, module):
        """Insert ``module`` before ``index`` (negative: from the end, as ``list.insert``;
        ``-len <= index <= len`` else IndexError, as PyTorch) and renumber. Returns self."""
        if not isinstance(module, Module):      # PyTorch's check (an AssertionError)
            raise AssertionError("module should be of type: %s, got %s"
                                 % (Module, type(module)))
        items = list(self._modules.values())
        n = len(items)
        if not -n <= index <= n:
            raise IndexError("Index out of range: %d" % index)
        # list.insert's meaning (PyTorch's): a negative index counts from the end, so
        # insert(-1, m) puts m before the last module
        items.insert(index + n if index < 0 else index, module)
        _renumber(self, items)
        return self


class ModuleList(_Appendable, Module):
    """A list of modules whose parameters are registered (names ``0``, ``1``, ...). It has
    no forward: iterate it in the parent's forward. As PyTorch's: ``ml + other`` is a new
    ModuleList of both's modules (any iterable of modules), ``ml += other`` extends it, and
    ``pop(i)`` removes and returns a module (a slice: a ModuleList), renumbering the rest.
    Its repr shows consecutive identical modules once (``(0-5): 6 x Block(...)``)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        setattr(self, str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(idx, len(mods), "ModuleList")]
        _renumber(self, mods)

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns self."""
        if not isinstance(modules, collections.abc.Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        return super().extend(modules)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def __iadd__(self, modules):
        return self.extend(list(modules))       # a snapshot: ``ml += ml`` doubles it

    def pop(self, index):
        """Remove and return the module at ``index`` (a slice: a ModuleList of them),
        renumbering the rest."""
        module = self[index]
        del self[index]
        return module

    def insert(self, index, module):
        """Insert ``module`` before ``index`` (list.insert's meaning, negative indices
        included; PyTorch's raises KeyError for a negative index) and renumber."""
        mods = list(self._modules.values())
        mods.insert(operator.index(index), module)
        _renumber(self, mods)

    def __repr__(self):
        # PyTorch's: consecutive modules with the same repr are shown once, "(0-2): 3 x ..."
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []                     # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            if start == end:
                line = "(%d): %s" % (start, r)
            else:
                line = "(%d-%d): %d x %s" % (start, end, end - start + 1, r)
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def forward(self, *args, **kwargs):
        """None: a ModuleList only holds modules (PyTorch's raises its generic "missing the
        required forward" error; this one says what to do instead)."""
        raise NotImplementedError("ModuleList has no forward; iterate over it instead")


def _update_pairs(container, values, what, update_name=None):
    """``container[k] = v`` for each pair of ``values`` (a mapping, or an iterable of
    key/value pairs), with PyTorch's checks and messages. As PyTorch, the pairs before a bad
    one are kept. A plain (unordered) mapping given to a ParameterDict is taken in sorted key
    order, as PyTorch's ``ParameterDict.update`` does; a ModuleDict or ParameterDict counts
    as a mapping."""
    if not isinstance(values, collections.abc.Iterable):
        raise TypeError("%s.update should be called with an iterable of key/value pairs, but "
                        "got %s" % (update_name or what, type(values).__name__))
    if isinstance(values, (collections.abc.Mapping, ModuleDict, ParameterDict)):
        items = values.items()
        if what == "ParameterDict" and not isinstance(values, (collections.OrderedDict,
                                                               ParameterDict)):
            items = sorted(items)
        for k, v in items:
            container[k] = v
        return
    for j, kv in enumerate(values):
        if not isinstance(kv, collections.abc.Iterable):
            raise TypeError("%s update sequence element #%d should be Iterable; is%s"
                            % (what, j, type(kv).__name__))
        kv = tuple(kv)
        if len(kv) != 2:
            raise ValueError("%s update sequence element #%d has length %d; 2 is required"
                             % (what, j, len(kv)))
        container[kv[0]] = kv[1]


class ModuleDict(Module):
    """A dict of modules (string keys), registered as children under their keys: the
    parameters of ``md['conv']`` are named ``conv.weight``... Iteration, ``keys``,
    ``values`` and ``items`` follow insertion order. As PyTorch's: ``md[k] = m`` replaces a
    module in place (keeping its position), ``update`` takes a mapping or an iterable of
    ``(key, module)`` pairs, ``pop(k)`` removes and returns one, ``clear()`` empties it.
    A key must be a string that is a valid child name (no ``.``, not empty, not a method
    name such as ``'keys'``), as for ``add_module``. It has no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def pop(self, key):
        """Remove the module under ``key`` and return it (KeyError if absent)."""
        v = self[key]
        del self[key]
        return v

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of ``(key, module)``
        pairs (PyTorch's errors for anything else)."""
        _update_pairs(self, modules, "ModuleDict")

    def forward(self, *args, **kwargs):
        """None: a ModuleDict only holds modules."""
        raise NotImplementedError("ModuleDict has no forward; index it instead")


def _as_parameter(value):
    """As PyTorch's parameter containers: a plain Tensor becomes a Parameter (sharing its
    data, requiring grad); a Parameter, None or any other object is kept as is."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _param_line(key, value):
    """One line of a ParameterList/ParameterDict repr (PyTorch's format, npconv dtypes)."""
    if isinstance(value, Tensor):
        dev = value.device
        size = "x".join(str(int(s)) for s in value.shape)
        return "  (%s): %s containing: [npconv.%s of size %s%s]" % (
            key, "Parameter" if isinstance(value, Parameter) else "Tensor",
            value.data.dtype.name, size,
            "" if dev.type == "cpu" else " (GPU %d)" % (dev.index or 0))
    return "  (%s): Object of type: %s" % (key, type(value).__name__)


class ParameterList(Module):
    """A list of parameters, registered under the names ``0``, ``1``, ... (so a parent's
    ``named_parameters`` gives ``pl.0``...). As PyTorch's: a plain Tensor given is turned
    into a Parameter (sharing its data, requiring grad); indexing takes negative indices and
    slices (a new ParameterList holding the same parameters); ``append``, ``extend``,
    ``len`` and iteration. Any other object may be stored too (not a parameter then)."""

    def __init__(self, values=None):
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self += values

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(_index(idx, len(self), "ParameterList")))

    def __setitem__(self, idx, param):
        setattr(self, str(_index(idx, len(self), "ParameterList")), _as_parameter(param))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        """Add ``value`` at the end (a plain Tensor becomes a Parameter). Returns self."""
        n = len(self)
        setattr(self, str(n), _as_parameter(value))
        self.__dict__["_size"] = n + 1
        return self

    def extend(self, values):
        """Append each value of the iterable ``values``. Returns self."""
        if not isinstance(values, collections.abc.Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for v in list(values):      # a snapshot: ``pl.extend(pl)`` doubles it
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(_param_line(i, v) for i, v in enumerate(self))

    def forward(self, *args, **kwargs):
        """None: a ParameterList only holds parameters."""
        raise NotImplementedError("ParameterList has no forward; iterate over it instead")


class ParameterDict(Module):
    """A dict of parameters (string keys), registered under their keys. As PyTorch's: a plain
    Tensor given is turned into a Parameter; ``[]`` get/set/del, ``in``, ``len``, iteration
    over the keys in insertion order, ``keys``/``items``/``values``, ``update`` (a plain
    dict is taken in sorted key order, an OrderedDict or ParameterDict in its own), ``pop``,
    ``get``, ``setdefault`` and ``clear``. A missing key raises KeyError (PyTorch's raises
    AttributeError from ``[]`` and ``pop``)."""

    def __init__(self, parameters=None):
        super().__init__()
        self.__dict__["_keys"] = {}
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not "
                            "a string (type is '%s')." % type(key).__name__)

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._check_key(key)
        setattr(self, key, _as_parameter(value))   # the name checks of register_parameter
        self._keys[key] = None

    def __delitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        delattr(self, key)
        del self._keys[key]

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """``(key, parameter)`` pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def values(self):
        """The parameters, in insertion order."""
        return [self[k] for k in self._keys]

    def get(self, key, default=None):
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        """``self[key]``, first set to ``default`` if absent (as ``dict.setdefault``)."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        """Remove the parameter under ``key`` and return it (KeyError if absent)."""
        v = self[key]
        del self[key]
        return v

    def clear(self):
        """Remove every parameter."""
        for k in list(self._keys):
            del self[k]

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of ``(key, value)`` pairs
        (PyTorch's errors for anything else)."""
        # "ParametersDict" is PyTorch's spelling in this one message
        _update_pairs(self, parameters, "ParameterDict", "ParametersDict")

    def extra_repr(self):
        return "\n".join(_param_line(k, v) for k, v in self.items())

    def forward(self, *args, **kwargs):
        """None: a ParameterDict only holds parameters."""
        raise NotImplementedError("ParameterDict has no forward; index it instead")
