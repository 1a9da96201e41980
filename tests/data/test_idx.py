import gzip
import struct
import zlib

import numpy as np
import pytest

from npconv.data.idx import IDXError, idx_bytes, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_roundtrip(tmp_path, dtype, compress):
    a = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), a)
    b = read_idx(p)
    assert b.dtype == dtype and b.dtype.isnative
    np.testing.assert_array_equal(a, b)


def test_gzip_detected_by_content_not_name(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    p = tmp_path / "labels-no-extension"
    p.write_bytes(gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(p), a)


def test_header_layout():
    raw = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert struct.unpack(">3I", raw[4:16]) == (5, 28, 28)
    assert len(raw) == 16 + 5 * 784


def _raw(shape=(3, 4, 4)):
    return idx_bytes(np.ones(shape, np.uint8))


@pytest.mark.parametrize("mutate, match", [
    (lambda r: r[:-1], "truncated"),
    (lambda r: r + b"\x00", "trailing"),
    (lambda r: b"\x01" + r[1:], "magic"),
    (lambda r: r[:2] + b"\x07" + r[3:], "dtype code"),
    (lambda r: r[:10], "truncated header"),
    (lambda r: r[:2], "too short"),
    (lambda r: r[:3] + b"\x00" + r[4:], "0 dimensions"),
])
def test_corrupt_files_rejected_with_clear_error(tmp_path, mutate, match):
    p = tmp_path / "bad.idx"
    p.write_bytes(mutate(_raw()))
    with pytest.raises(IDXError, match=match) as e:
        read_idx(p)
    assert str(p) in str(e.value)


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(_raw((50, 28, 28)))
    p = tmp_path / "x.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IDXError, match="gzip"):
        read_idx(p)


def test_parse_big_endian_values():
    a = np.array([1, 256, -2], np.int32)
    raw = b"\x00\x00\x0c\x01" + struct.pack(">I", 3) + struct.pack(">3i", 1, 256, -2)
    np.testing.assert_array_equal(parse_idx(raw), a)


def test_corrupt_gzip_body(tmp_path):
    """A damaged deflate stream (zlib.error, not OSError) is an IDXError too, chained."""
    blob = gzip.compress(_raw((6, 28, 28)), mtime=0)
    p = tmp_path / "x.gz"
    causes = set()
    for pos in range(10, len(blob) - 8, 3):         # the deflate body, not header or CRC
        bad = bytearray(blob)
        bad[pos] ^= 0xFF
        p.write_bytes(bytes(bad))
        try:
            read_idx(p)
        except IDXError as e:
            assert str(p) in str(e)
            causes.add(type(e.__cause__))
    assert zlib.error in causes


def test_dimensions_overflowing_int64(tmp_path):
    # 2**22 * 2**22 * 2**20 = 2**64 wraps to 0 in int64: the 16-byte header alone looked
    # complete and reshape failed with a raw ValueError
    p = tmp_path / "huge.idx"
    p.write_bytes(struct.pack(">HBB3I", 0, 8, 3, 2 ** 22, 2 ** 22, 2 ** 20))
    with pytest.raises(IDXError, match="truncated.*needs 18446744073709551632"):
        read_idx(p)
