"""Checkpoints: ``npconv.save(obj, path)`` and ``npconv.load(path)``.

The file is a NumPy ``.npz`` archive: every array is one entry (``a0``, ``a1``, ...) and the
entry ``__npconv__`` holds the object's structure as JSON (nested dicts, lists, tuples, sets,
numbers, strings, bytes, None, devices and dtypes, with tags that keep Tensors, arrays, NumPy
scalars, tuples and non-string dict keys apart). Loading uses ``allow_pickle=False``: reading
a checkpoint never runs code. Writes are atomic (a temporary file in the same folder, flushed
and fsynced, then renamed over the target), so a crash never leaves a half-written checkpoint
under the name. The round trip is bit-exact (arrays keep dtype and bytes; floats go through
``repr``).

As with ``torch.save``, a Tensor or array that occurs several times (under two keys: tied
weights) is stored once and loads as one object, and Tensors that share one array share the
loaded one; views of one another (``t`` and ``t[1:]``) are stored as separate values, and so
is a list or dict that occurs twice (``torch.save`` keeps those one object too).
"""
import errno
import io
import json
import math
import os
import tempfile
import zipfile

import numpy

from . import backend as _backend
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

_STRUCT = "__npconv__"
_FORMAT = "npconv-checkpoint"
_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read (truncated, corrupt, or not an npconv file)."""


def _host(arr):
    return _backend.backend_of(arr).to_host(arr)


def _is_array(obj):
    # duck-typed (NumPy, CuPy); a class such as numpy.float32 has these names as descriptors
    return (hasattr(obj, "shape") and hasattr(obj, "dtype") and hasattr(obj, "ndim")
            and not hasattr(obj, "detach") and not isinstance(obj, type))


class _Encoder:
    """obj -> JSON-able node; arrays are collected in ``arrays`` and referenced by index."""

    def __init__(self):
        self.arrays = []
        self._index = {}        # id(source array) -> (index in arrays, the source, kept alive)
        self._seen = {}         # id(Tensor or array) -> (its node, the object, kept alive)
        self._refs = 0
        self._open = set()      # ids of the containers being encoded: a cycle check

    def _array(self, src):
        """The index of ``src``'s host copy in ``arrays`` (made once per source array: two
        Tensors over one device array cost one transfer)."""
        hit = self._index.get(id(src))
        if hit is not None:
            return hit[0]
        host = numpy.asarray(_host(src))
        if host.dtype.hasobject:
            raise TypeError("npconv.save: arrays of Python objects cannot be saved "
                            "(they would need pickle)")
        self.arrays.append(host)
        self._index[id(src)] = (len(self.arrays) - 1, src)
        return len(self.arrays) - 1

    def _new_node(self, obj, data, kind):
        """The node of a Tensor or array ``obj`` (its data ``data``) met for the first time:
        ``{kind: array index}``, plus the device it was saved from when not the CPU."""
        node = {kind: self._array(data)}
        loc = str(_backend.device_of(data))
        if loc != "cpu":
            node["loc"] = loc
        self._seen[id(obj)] = (node, obj)
        return node

    def _shared(self, obj):
        """The node already made for ``obj``, marked with a reference id so that its
        occurrences load as one object; None the first time."""
        hit = self._seen.get(id(obj))
        if hit is None:
            return None
        node = hit[0]
        if "ref" not in node:
            node["ref"] = self._refs
            self._refs += 1
        return node

    def encode(self, obj):
        enc = self.encode
        # NumPy scalars first: numpy.float64 is a float and numpy.bool_ is no bool, and both
        # should come back as the NumPy type they were
        if isinstance(obj, numpy.generic):
            arr = numpy.asarray(obj)
            if arr.dtype.hasobject:
                raise TypeError("npconv.save: a NumPy object scalar cannot be saved (it "
                                "would need pickle)")
            self.arrays.append(arr)
            return {"scalar": len(self.arrays) - 1}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return {"int": str(obj)} if abs(obj) >= 2 ** 53 else obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, complex):
            return {"complex": [enc(obj.real), enc(obj.imag)]}
        if isinstance(obj, (bytes, bytearray)):
            self.arrays.append(numpy.frombuffer(bytes(obj), numpy.uint8))
            return {"bytearray" if isinstance(obj, bytearray) else "bytes":
                    len(self.arrays) - 1}
        if isinstance(obj, Tensor):
            node = self._shared(obj)
            if node is None:
                node = self._new_node(obj, obj.data, "tensor")
                if obj.requires_grad:
                    node["requires_grad"] = True
                if type(obj).__name__ == "Parameter":
                    node["parameter"] = True
            return node
        if _is_array(obj):
            return self._shared(obj) or self._new_node(obj, obj, "array")
        if isinstance(obj, _backend.Device):
            return {"device": str(obj)}
        if isinstance(obj, numpy.dtype):
            return {"dtype": obj.str if obj.fields is None else _unsupported(obj)}
        if isinstance(obj, type) and issubclass(obj, numpy.generic) \
                and obj is not numpy.object_:
            return {"scalar_type": numpy.dtype(obj).str}
        if isinstance(obj, (dict, list, tuple, set, frozenset)):
            if id(obj) in self._open:
                raise ValueError("npconv.save: the object contains itself (a %s inside "
                                 "itself): a checkpoint holds trees, not cycles"
                                 % type(obj).__name__)
            self._open.add(id(obj))
            try:
                return self._container(obj)
            finally:
                self._open.discard(id(obj))
        if hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy"):
            # a torch tensor: save its data
            self.arrays.append(numpy.asarray(obj.detach().cpu().numpy()))
            return {"tensor": len(self.arrays) - 1}
        return _unsupported(obj)

    def _container(self, obj):
        enc = self.encode
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, complex, bool, tuple, frozenset,
                                      numpy.generic, bytes, _backend.Device)) \
                        and k is not None:
                    raise TypeError("npconv.save: dict keys must be strings, numbers, None, "
                                    "bytes, devices or tuples of these, got %s"
                                    % type(k).__name__)
                items.append([enc(k), enc(v)])
            node = {"dict": items}
            if type(obj) is not dict:
                node["ordered"] = True
            return node
        if isinstance(obj, list):
            return {"list": [enc(v) for v in obj]}
        if isinstance(obj, tuple):
            return {"tuple": [enc(v) for v in obj]}
        return {"frozenset" if isinstance(obj, frozenset) else "set": [enc(v) for v in obj]}


def _unsupported(obj):
    raise TypeError("npconv.save: cannot save an object of type %s (supported: dicts, lists, "
                    "tuples, sets, str, bytes, int, float, complex, bool, None, devices, "
                    "dtypes, Tensors, arrays and NumPy scalars)" % type(obj).__name__)


class _Placement(Exception):
    """Carries an error raised while putting an array where ``map_location`` says: it is no
    fault of the file, so ``load`` re-raises the original instead of a CheckpointError."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _placer(map_location):
    """``place(array, saved_location) -> array`` for a ``map_location`` argument (checked
    here, before the file is read, so that a bad argument is not blamed on the file)."""
    def device(d, what):
        if isinstance(d, _backend.Device):
            return d
        if not isinstance(d, str):
            raise TypeError("npconv.load: %s must be a device string or an npconv.device, "
                            "got %s" % (what, type(d).__name__))
        try:
            return _backend.Device(d)
        except ValueError as e:
            raise ValueError("npconv.load: %s %r is not a device: %s" % (what, d, e)) from None

    if map_location is None:            # the host (a file records no device to return to)
        return lambda arr, loc: arr
    if isinstance(map_location, (str, _backend.Device)):
        dev = device(map_location, "map_location")
        return lambda arr, loc: _backend.move_array(arr, dev)
    if isinstance(map_location, dict):
        table = {}
        for k, v in map_location.items():
            table[str(device(k, "a map_location key"))] = device(v, "a map_location value")

        def by_table(arr, loc):
            # 'cuda:0' matches the key 'cuda:0', or else 'cuda'; unmapped stays on the host
            dev = table.get(loc, table.get(loc.partition(":")[0]))
            return arr if dev is None else _backend.move_array(arr, dev)
        return by_table
    if callable(map_location):
        def by_call(arr, loc):
            out = map_location(arr, loc)
            if out is None:
                return arr
            if isinstance(out, Tensor):
                out = out.data
            if not _is_array(out):
                raise TypeError("npconv.load: map_location(array, location) must return an "
                                "array or None, got %s" % type(out).__name__)
            return out
        return by_call
    raise TypeError("npconv.load: map_location must be None, a device string ('cpu', "
                    "'cuda:0'), an npconv.device, a dict {saved location: device} or a "
                    "callable (array, location) -> array, got %s" % type(map_location).__name__)


class _Decoder:
    def __init__(self, arrays, place):
        self.arrays = arrays
        self.place = place
        self._placed = {}       # (array index, location) -> the placed array, so shared
        self._refs = {}         # data stays shared; ("tensor"/"array", ref) -> the object

    def _entry(self, node, key):
        i = node[key]
        if type(i) is not int or not 0 <= i < len(self.arrays):
            raise ValueError("array index %r out of range (%d arrays)" % (i, len(self.arrays)))
        return self.arrays[i]

    def _placed_array(self, node, key):
        arr = self._entry(node, key)
        loc = node.get("loc", "cpu")
        if not isinstance(loc, str):
            raise ValueError("a location must be a string, got %r" % (loc,))
        k = (node[key], loc)
        if k not in self._placed:
            try:
                self._placed[k] = self.place(arr, loc)
            except Exception as e:
                raise _Placement(e) from e
        return self._placed[k]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise ValueError("unknown node %r in the structure" % (node,))
        for kind in ("tensor", "array"):
            if kind in node and "ref" in node:
                key = (kind, node["ref"])
                if key not in self._refs:
                    self._refs[key] = getattr(self, "_make_" + kind)(node)
                return self._refs[key]
            if kind in node:
                return getattr(self, "_make_" + kind)(node)
        dec = self.decode
        if "scalar" in node:
            arr = self._entry(node, "scalar")
            if arr.ndim != 0:
                raise ValueError("a scalar entry holds an array of shape %s" % (arr.shape,))
            return arr[()]
        if "int" in node:
            return int(node["int"])
        if "float" in node:
            return float(node["float"])
        if "complex" in node:
            re, im = node["complex"]
            return complex(dec(re), dec(im))
        if "bytes" in node:
            return self._entry(node, "bytes").tobytes()
        if "bytearray" in node:
            return bytearray(self._entry(node, "bytearray").tobytes())
        if "device" in node:
            return _backend.Device(node["device"])
        if "dtype" in node:
            return numpy.dtype(node["dtype"])
        if "scalar_type" in node:
            return numpy.dtype(node["scalar_type"]).type
        if "dict" in node:
            import collections
            out = collections.OrderedDict() if node.get("ordered") else {}
            for k, v in node["dict"]:
                out[dec(k)] = dec(v)
            return out
        for kind, make in (("list", list), ("tuple", tuple), ("set", set),
                           ("frozenset", frozenset)):
            if kind in node:
                return make(dec(v) for v in node[kind])
        raise ValueError("unknown node %r in the structure" % (node,))

    def _make_tensor(self, node):
        arr = self._entry(node, "tensor")
        if node.get("requires_grad") and arr.dtype.kind not in "fc":
            # save never writes this: Tensor would refuse it with a RuntimeError
            raise ValueError("a tensor that requires grad holds a %s array (expected "
                             "floating point)" % arr.dtype)
        arr = self._placed_array(node, "tensor")
        if node.get("parameter"):
            from .nn.modules.module import Parameter
            return Parameter(arr, requires_grad=bool(node.get("requires_grad", False)))
        t = Tensor._wrap(arr)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t

    def _make_array(self, node):
        return self._placed_array(node, "array")


def _path(f, who):
    try:
        return os.fsdecode(os.fspath(f))
    except TypeError:
        raise TypeError("npconv.%s: expected a path (str or os.PathLike) or a binary file "
                        "object, got %s" % (who, type(f).__name__)) from None


def save(obj, f):
    """Write ``obj`` (a state dict, an optimizer state dict, or any nesting of dicts, lists,
    tuples, sets, numbers, strings, bytes, None, devices, dtypes, Tensors and arrays) to the
    path ``f`` (str or ``pathlib.Path``; the name is used as it is, no suffix is added),
    atomically: on any error the target is untouched and no temporary file is left.

    Tensors are saved by value (a view as the values it shows, a GPU tensor through the
    host) with their ``requires_grad`` flag and whether they are Parameters; ``.grad`` and
    the graph are not saved. ``f`` may also be a writable binary file object (then the write
    is not atomic). Raises ``TypeError`` for an object that would need pickle,
    ``IsADirectoryError`` for a folder and ``FileNotFoundError`` for a missing folder."""
    if not hasattr(f, "write"):
        path = _path(f, "save")
        if os.path.isdir(path):
            raise IsADirectoryError(errno.EISDIR, "npconv.save: is a folder; expected a file "
                                    "name (e.g. %s)" % os.path.join(path, "checkpoint.npz"),
                                    path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(errno.ENOENT, "npconv.save: the folder to write %r in "
                                    "does not exist" % path, folder)
    enc = _Encoder()
    structure = {"format": _FORMAT, "version": _VERSION, "root": enc.encode(obj)}
    blob = json.dumps(structure, allow_nan=False, separators=(",", ":")).encode("utf-8")
    entries = {"a%d" % i: a for i, a in enumerate(enc.arrays)}
    entries[_STRUCT] = numpy.frombuffer(blob, dtype=numpy.uint8)
    if hasattr(f, "write"):
        numpy.savez(f, **entries)
        return
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            numpy.savez(fh, **entries)
            fh.flush()
            os.fsync(fh.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)     # mkstemp makes 0600 files: use the usual mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:   # make the rename itself durable (POSIX); harmless where unsupported
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def load(f, map_location=None):
    """Read a checkpoint written by ``save`` from a path or a readable binary file object.

    Tensors come back as Tensors (Parameters as Parameters, ``requires_grad`` as saved),
    arrays as arrays, NumPy scalars as NumPy scalars, tuples as tuples and dict keys with
    their types; a Tensor or array saved several times loads as one object.

    ``map_location`` says where arrays and Tensors go: None (the default) puts them on the
    host, whatever device they were saved from, so a checkpoint from a GPU loads anywhere
    (``torch.load`` instead restores the saved device by default); a device (``'cpu'``,
    ``'cuda:0'``, ``npconv.device(...)``) puts them all there; a dict ``{saved location:
    device}`` moves those saved on a listed device (``'cuda:1'``, or ``'cuda'`` for any
    index) and leaves the others on the host; a callable ``fn(array, location)`` gets each
    host array with the location it was saved from (``'cpu'``, ``'cuda:0'``) and returns the
    array to use, or None for the host one.

    Raises ``FileNotFoundError`` / ``IsADirectoryError`` for a missing file or a folder,
    ``TypeError`` / ``ValueError`` for a bad ``map_location`` (before the file is read), and
    ``CheckpointError`` (a RuntimeError) naming the file and what is wrong for a file that is
    truncated, corrupt or not an npconv checkpoint (a pickle, a plain ``.npz``, a
    ``torch.save`` file). An error in placing the arrays (an unavailable device) is raised
    as it is."""
    place = _placer(map_location)
    if hasattr(f, "read"):
        name = getattr(f, "name", None) or "<%s object>" % type(f).__name__
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("npconv.load: the file object %s returned %s, not bytes: open "
                            "it in binary mode ('rb')" % (name, type(data).__name__))
        data = bytes(data)
    else:
        name = _path(f, "load")
        if os.path.isdir(name):
            raise IsADirectoryError(errno.EISDIR, "npconv.load: is a folder, not a checkpoint "
                                    "file", name)
        try:
            with open(name, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "npconv.load: no such file", name) from None
    try:
        structure, arrays = _read_archive(data)
    except _CORRUPT + (RuntimeError,) as e:
        # zipfile refuses some damaged entries with RuntimeError (an "encrypted" flag) or
        # NotImplementedError (an unknown compression method), both RuntimeErrors
        raise _corrupt(name, e) from e
    try:
        return _Decoder(arrays, place).decode(structure["root"])
    except _Placement as e:
        raise e.error
    except _CORRUPT as e:
        # not RuntimeError in general here: Tensor refusing a node is wrapped as ValueError
        raise _corrupt(name, e) from e


# what a malformed file raises while read or decoded (RecursionError: absurdly deep nesting)
_CORRUPT = (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, TypeError,
            IndexError, UnicodeDecodeError, zipfile.LargeZipFile, RecursionError)


def _corrupt(name, e):
    if isinstance(e, _NotACheckpoint):
        return CheckpointError("npconv.load: %r is not an npconv checkpoint: %s" % (name, e))
    return CheckpointError("npconv.load: %r is not a readable npconv checkpoint (truncated "
                           "or corrupt file?): %s: %s" % (name, type(e).__name__, e))


class _NotACheckpoint(ValueError):
    """A whole, readable file of another kind (a pickle, a plain .npz, a .npy)."""


def _read_archive(data):
    """(structure, arrays) from the bytes of a checkpoint file."""
    if not data:
        raise ValueError("the file is empty")
    if data[:1] == b"\x80":
        raise _NotACheckpoint("it is a pickle (pickle.dump, or torch.save's legacy format), "
                              "which npconv.load never unpickles: it could run code")
    if data[:6] == b"\x93NUMPY":
        raise _NotACheckpoint("it is a single NumPy array (numpy.save): read it with "
                              "numpy.load")
    if data[:2] != b"PK":
        raise _NotACheckpoint("not a zip archive (an npconv checkpoint is a .npz file): it "
                              "starts with %r" % data[:8])
    with numpy.load(io.BytesIO(data), allow_pickle=False) as z:
        if _STRUCT not in z.files:
            if any(k.endswith("data.pkl") for k in z.files):
                raise _NotACheckpoint("it is a PyTorch checkpoint (torch.save), which needs "
                                      "pickle; npconv.load never unpickles")
            raise _NotACheckpoint("it is a .npz archive without the %s entry (numpy.savez?), "
                                  "not a file written by npconv.save: read it with numpy.load"
                                  % _STRUCT)
        structure = json.loads(bytes(z[_STRUCT]).decode("utf-8"))
        if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
            raise ValueError("unrecognised structure entry")
        if structure.get("version", 0) > _VERSION:
            raise ValueError("written by a newer npconv (format version %s)"
                             % structure.get("version"))
        n = sum(1 for k in z.files if k != _STRUCT)
        arrays = [z["a%d" % i] for i in range(n)]   # reads (and CRC-checks) every entry
    return structure, arrays
