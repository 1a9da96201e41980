"""Containers: ``Sequential`` and ``ModuleList``."""
import collections
import collections.abc
import operator

from .activation import ReLU
from .module import Module, _addindent
from .pooling import MaxPool2d

__all__ = ["Sequential", "ModuleList"]


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
