"""Checkpoints: ``npconv.save(obj, path)`` and ``npconv.load(path)``.

The file is a NumPy ``.npz`` archive: every array is one entry (``a0``, ``a1``, ...) and the
entry ``__npconv__`` holds the object's structure as JSON (nested dicts, lists, tuples,
numbers, strings, None, with tags that keep Tensors, arrays, NumPy scalars, tuples and
non-string dict keys apart). Loading uses ``allow_pickle=False``: reading a checkpoint never
runs code. Writes are atomic (a temporary file in the same folder, flushed and fsynced, then
renamed over the target), so a crash never leaves a half-written checkpoint under the name.
The round trip is bit-exact (arrays keep dtype and bytes; floats go through ``repr``).
"""
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


def _encode(obj, arrays):
    """obj -> JSON-able node; arrays are appended to ``arrays`` and referenced by index."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return {"int": str(obj)} if abs(obj) >= 2 ** 53 else obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"float": repr(obj)}
    if isinstance(obj, Tensor):
        arrays.append(numpy.asarray(_host(obj.data)))
        node = {"tensor": len(arrays) - 1}
        if obj.requires_grad:
            node["requires_grad"] = True
        if type(obj).__name__ == "Parameter":
            node["parameter"] = True
        return node
    if isinstance(obj, numpy.generic):
        arrays.append(numpy.asarray(obj))
        return {"scalar": len(arrays) - 1}
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and hasattr(obj, "ndim") \
            and not hasattr(obj, "detach"):
        arr = _host(obj)
        if not isinstance(arr, numpy.ndarray):
            arr = numpy.asarray(arr)
        if arr.dtype.hasobject:
            raise TypeError("npconv.save: arrays of Python objects cannot be saved "
                            "(they would need pickle)")
        arrays.append(numpy.asarray(arr))
        return {"array": len(arrays) - 1}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None \
                    and not isinstance(k, tuple):
                raise TypeError("npconv.save: dict keys must be strings, numbers, None or "
                                "tuples, got %s" % type(k).__name__)
            items.append([_encode(k, arrays), _encode(v, arrays)])
        node = {"dict": items}
        if type(obj) is not dict:
            node["ordered"] = True
        return node
    if isinstance(obj, list):
        return {"list": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, tuple):
        return {"tuple": [_encode(v, arrays) for v in obj]}
    if hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy"):
        # a torch tensor: save its data
        arrays.append(numpy.asarray(obj.detach().cpu().numpy()))
        return {"tensor": len(arrays) - 1}
    raise TypeError("npconv.save: cannot save an object of type %s (supported: dicts, lists, "
                    "tuples, str, int, float, bool, None, Tensors and arrays)"
                    % type(obj).__name__)


def _decode(node, arrays, device):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict):
        if "tensor" in node:
            arr = arrays[node["tensor"]]
            if node.get("requires_grad") and arr.dtype.kind not in "fc":
                # save never writes this: Tensor would refuse it with a RuntimeError
                raise ValueError("a tensor that requires grad holds a %s array (expected "
                                 "floating point)" % arr.dtype)
            if device is not None:
                arr = _backend.move_array(arr, device)
            if node.get("parameter"):
                from .nn.modules.module import Parameter
                return Parameter(arr, requires_grad=node.get("requires_grad", False))
            t = Tensor._wrap(arr)
            if node.get("requires_grad"):
                t.requires_grad_(True)
            return t
        if "array" in node:
            arr = arrays[node["array"]]
            return arr if device is None else _backend.move_array(arr, device)
        if "scalar" in node:
            return arrays[node["scalar"]][()]
        if "int" in node:
            return int(node["int"])
        if "float" in node:
            return float(node["float"])
        if "dict" in node:
            import collections
            out = collections.OrderedDict() if node.get("ordered") else {}
            for k, v in node["dict"]:
                out[_decode(k, arrays, device)] = _decode(v, arrays, device)
            return out
        if "list" in node:
            return [_decode(v, arrays, device) for v in node["list"]]
        if "tuple" in node:
            return tuple(_decode(v, arrays, device) for v in node["tuple"])
    raise ValueError("unknown node %r in the structure" % (node,))


def save(obj, f):
    """Write ``obj`` (a state dict, an optimizer state dict, or any nesting of dicts, lists,
    tuples, numbers, strings, None, Tensors and arrays) to the path ``f``, atomically.

    ``f`` may also be a writable binary file object (then the write is not atomic)."""
    arrays = []
    structure = {"format": _FORMAT, "version": _VERSION, "root": _encode(obj, arrays)}
    blob = json.dumps(structure, allow_nan=False, separators=(",", ":")).encode("utf-8")
    entries = {"a%d" % i: a for i, a in enumerate(arrays)}
    entries[_STRUCT] = numpy.frombuffer(blob, dtype=numpy.uint8)
    if hasattr(f, "write"):
        numpy.savez(f, **entries)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
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
    """Read a checkpoint written by ``save``. Arrays saved as Tensors come back as Tensors
    (Parameters as Parameters), plain arrays as NumPy arrays. ``map_location``: a device
    ('cpu', 'cuda', ...) to put them on. A truncated, corrupt or foreign file raises
    ``CheckpointError`` naming the file."""
    name = getattr(f, "name", None) if hasattr(f, "read") else os.fspath(f)
    if not hasattr(f, "read") and not os.path.exists(name):
        raise FileNotFoundError("npconv.load: no such file: %r" % name)
    try:
        if hasattr(f, "read"):
            data = f.read()
        else:
            with open(name, "rb") as fh:
                data = fh.read()
        structure, arrays = _read_archive(data)
    except _CORRUPT + (RuntimeError,) as e:
        # zipfile refuses some damaged entries with RuntimeError (an "encrypted" flag) or
        # NotImplementedError (an unknown compression method), both RuntimeErrors
        raise _corrupt(name, e) from e
    try:
        return _decode(structure["root"], arrays, map_location)
    except _CORRUPT as e:
        # not RuntimeError in general here: a map_location device that is not available
        # raises one, and that is no fault of the file
        raise _corrupt(name, e) from e


# what a malformed file raises while read or decoded (RecursionError: absurdly deep nesting)
_CORRUPT = (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, TypeError,
            IndexError, UnicodeDecodeError, zipfile.LargeZipFile, RecursionError)


def _corrupt(name, e):
    return CheckpointError("npconv.load: %r is not a readable npconv checkpoint (truncated "
                           "or corrupt file?): %s: %s" % (name, type(e).__name__, e))


def _read_archive(data):
    """(structure, arrays) from the bytes of a checkpoint file."""
    with numpy.load(io.BytesIO(data), allow_pickle=False) as z:
        if _STRUCT not in z.files:
            raise ValueError("no %s entry: not a checkpoint written by npconv.save" % _STRUCT)
        structure = json.loads(bytes(z[_STRUCT]).decode("utf-8"))
        if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
            raise ValueError("unrecognised structure entry")
        if structure.get("version", 0) > _VERSION:
            raise ValueError("written by a newer npconv (format version %s)"
                             % structure.get("version"))
        n = sum(1 for k in z.files if k != _STRUCT)
        arrays = [z["a%d" % i] for i in range(n)]   # reads (and CRC-checks) every entry
    return structure, arrays
