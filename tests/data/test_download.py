"""download=True against a local HTTP server on 127.0.0.1 serving generated IDX files."""
import functools
import hashlib
import http.server
import os
import stat
import threading

import numpy as np
import pytest

from npconv.data import MNIST, DatasetNotFoundError, download_dataset
from npconv.data.download import DownloadError, RESOURCES



@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))

    class Quiet(handler.func):
        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(root)))
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    yield root, "http://127.0.0.1:%d/" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _table(folder):
    return [(f, "md5", hashlib.md5((folder / f).read_bytes()).hexdigest())
            for f in sorted(os.listdir(folder))]


def test_download_verifies_and_installs(mnist_files, server, tmp_path, monkeypatch,
                                        isolated_data_env):
    www, url = server
    arrs = mnist_files(www / "good")
    table = _table(www / "good")
    monkeypatch.setattr(MNIST, "mirrors", [url + "missing/", url + "good/"])  # 1st fails
    monkeypatch.setattr(MNIST, "resources", table)
    d = MNIST(root=tmp_path / "data", train=True, download=True)
    np.testing.assert_array_equal(d.data, arrs["train"][0])
    assert sorted(os.listdir(tmp_path / "data" / "mnist")) == sorted(f for f, _, _ in table)
    # no partial files left behind
    assert not [f for f in os.listdir(tmp_path / "data" / "mnist") if f.startswith(".part")]


def test_corrupt_download_rejected(mnist_files, server, tmp_path, isolated_data_env):
    www, url = server
    mnist_files(www / "good")
    table = _table(www / "good")
    # the mirror serves a corrupted training-image file: checksum must reject it
    bad = www / "bad"
    mnist_files(bad)
    blob = bytearray((www / "good" / "train-images-idx3-ubyte.gz").read_bytes())
    blob[100] ^= 0xFF
    (bad / "train-images-idx3-ubyte.gz").write_bytes(bytes(blob))
    for f, _, _ in table:
        if f != "train-images-idx3-ubyte.gz":
            (bad / f).write_bytes((www / "good" / f).read_bytes())
    dest = tmp_path / "dl"
    with pytest.raises(DownloadError, match="checksum mismatch") as e:
        download_dataset("mnist", str(dest), mirrors=[url + "bad/"], resources=table)
    assert str(e.value).count(url + "bad/train-images-idx3-ubyte.gz") == 1   # named once
    assert not (dest / "train-images-idx3-ubyte.gz").exists()
    assert not [f for f in os.listdir(dest) if f.startswith(".part")]
    # a second mirror with the right bytes rescues it
    download_dataset("mnist", str(dest), mirrors=[url + "bad/", url + "good/"],
                     resources=table)
    assert (dest / "train-images-idx3-ubyte.gz").read_bytes() == \
        (www / "good" / "train-images-idx3-ubyte.gz").read_bytes()


def test_offline_gives_one_clear_message(tmp_path, monkeypatch, isolated_data_env):
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])   # discard port: refused
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=tmp_path / "d", download=True)
    msg = str(e.value)
    assert "download failed" in msg and "NPCONV_DATA" in msg and "--dataset bundled" in msg
    assert "pass download=True" not in msg           # it was passed: say what else to do


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_downloaded_files_get_the_usual_mode(mnist_files, server, tmp_path, umask):
    www, url = server
    mnist_files(www / "good")
    old = os.umask(umask)
    try:
        download_dataset("mnist", str(tmp_path / "dl"), mirrors=[url + "good/"],
                         resources=_table(www / "good"))
    finally:
        os.umask(old)
    for f in os.listdir(tmp_path / "dl"):
        assert stat.S_IMODE(os.stat(tmp_path / "dl" / f).st_mode) == 0o666 & ~umask, f


def test_published_checksum_tables_are_well_formed():
    for key, rows in RESOURCES.items():
        assert [r[0] for r in rows] == ["train-images-idx3-ubyte.gz",
                                        "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz",
                                        "t10k-labels-idx1-ubyte.gz"]
        for _, algo, digest in rows:
            assert algo == "md5" and len(digest) == 32 and int(digest, 16) >= 0
