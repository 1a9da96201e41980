"""Reading and writing IDX files, the format of MNIST, Fashion-MNIST and KMNIST.

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian uint32 dimensions, then the values in C order (big-endian for multi-byte types).
Files may be gzip-compressed (recognised by their first two bytes, whatever their name).
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "IDXError"]

# dtype code -> big-endian NumPy dtype
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.str[1:]: code for code, dt in _DTYPES.items()}


class IDXError(ValueError):
    """A file is not a valid IDX file (wrong magic, unknown type code, truncated, ...)."""


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            # zlib.error: a damaged deflate body (OSError/BadGzipFile: a bad header or CRC,
            # EOFError: a truncated stream)
            raise IDXError("%s: corrupt or truncated gzip stream (%s); delete the file and "
                           "fetch it again" % (path, e)) from e
    return raw


def parse_idx(raw, name="<bytes>"):
    """Parse the bytes of an (uncompressed) IDX file into a native-endian array."""
    if len(raw) < 4:
        raise IDXError("%s: too short to be an IDX file (%d bytes)" % (name, len(raw)))
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0:
        raise IDXError("%s: bad magic number 0x%08x (an IDX file starts with two zero bytes)"
                       % (name, struct.unpack(">I", raw[:4])[0]))
    if code not in _DTYPES:
        raise IDXError("%s: unknown IDX dtype code 0x%02x (expected one of %s)"
                       % (name, code, ", ".join("0x%02x" % c for c in sorted(_DTYPES))))
    if ndim == 0:
        raise IDXError("%s: IDX header declares 0 dimensions" % name)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError("%s: truncated header (%d bytes, %d needed for %d dimensions)"
                       % (name, len(raw), header, ndim))
    dims = struct.unpack(">%dI" % ndim, raw[4:header])
    dtype = _DTYPES[code]
    # Python ints: np.prod would wrap around for absurd dimensions and let a short file pass
    expected = header + math.prod(dims) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise IDXError("%s: file %s: %d bytes, but the header (shape %s, %s) needs %d"
                       % (name, what, len(raw), tuple(dims), dtype.newbyteorder("=").name,
                          expected))
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path):
    """Read an IDX file (raw or gzip) into a NumPy array; raises ``IDXError`` when the file
    is corrupt or truncated, naming the file and what is wrong."""
    path = os.fspath(path)
    return parse_idx(_read_bytes(path), name=path)


def idx_bytes(array):
    """The IDX encoding of ``array`` (uint8, int8, int16, int32, float32 or float64)."""
    a = np.ascontiguousarray(array)
    code = _CODES.get(a.dtype.str[1:])          # 'u1', 'i4', 'f8', ... whatever the order
    if code is None:
        raise TypeError("IDX cannot store dtype %s" % a.dtype)
    head = struct.pack(">HBB", 0, code, a.ndim) + struct.pack(">%dI" % a.ndim, *a.shape)
    return head + a.astype(_DTYPES[code], copy=False).tobytes()


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file; gzip-compressed when ``compress`` is true, or when it
    is None and ``path`` ends in ``.gz``."""
    path = os.fspath(path)
    data = idx_bytes(array)
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
    return path
