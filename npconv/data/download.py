"""Fetching dataset files from their official mirrors, checked against published checksums.

Every file is downloaded to a temporary file in the destination folder, its checksum is
verified, and only then is it renamed into place (``os.replace``: atomic), so an interrupted or
corrupt download never leaves a file that looks valid.

The mirror lists and checksum tables below are plain dicts: tests (and users behind a proxy
mirror) may pass their own ``mirrors=`` / ``resources=`` to ``download_dataset``.
"""
import hashlib
import os
import tempfile
import urllib.error
import urllib.request

__all__ = ["MIRRORS", "RESOURCES", "download_file", "download_dataset", "DownloadError",
           "offline_message"]

# Official mirrors, tried in order.
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "http://yann.lecun.com/exdb/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "kmnist": ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
}

# Published MD5 checksums of the gzip files (the values torchvision and the datasets' own
# READMEs publish). Entries are (filename, algorithm, hex digest).
RESOURCES = {
    "mnist": [
        ("train-images-idx3-ubyte.gz", "md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "md5", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "md5", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "md5", "ec29112dd5afa0611ce80d1b7f02629c"),
    ],
    "fashion-mnist": [
        ("train-images-idx3-ubyte.gz", "md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "md5", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "md5", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "md5", "bb300cfdad3c16e7a12a480ee83cd310"),
    ],
    "kmnist": [
        ("train-images-idx3-ubyte.gz", "md5", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "md5", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "md5", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "md5", "7320c461ea6c1c855c0b718fb2a4b134"),
    ],
}


class DownloadError(RuntimeError):
    """No mirror delivered a file with the published checksum."""


def file_digest(path, algorithm="md5", chunk=1 << 20):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def download_file(url, dest, algorithm, digest, timeout=30):
    """Download ``url`` to ``dest`` atomically, keeping it only if its checksum matches.

    Raises ``DownloadError`` on a checksum mismatch, ``OSError``/``URLError`` when the
    network fails (the caller decides whether to try another mirror)."""
    folder = os.path.dirname(os.path.abspath(dest))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=folder)
    try:
        h = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
            while True:
                block = r.read(1 << 20)
                if not block:
                    break
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = h.hexdigest()
        if got != digest.lower():
            raise DownloadError("%s: %s checksum mismatch (got %s, published %s); the file "
                                "was discarded" % (url, algorithm, got, digest))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600 files: give the usual mode
        os.replace(tmp, dest)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def offline_message(name, folder, searched=(), error=None):
    """The one message shown when a dataset is neither found nor downloadable."""
    lines = ["%s was not found%s." % (name, " (download failed: %s)" % error if error else "")]
    if searched:
        lines.append("Searched: " + ", ".join(searched))
    if error:       # download=True was given: repeating "pass download=True" would not help
        how = ("  * the download failed: check the network connection and the errors above, "
               "or download on a machine with internet access (download=True, or --download "
               "to npconv-train) and copy the files to %s" % folder)
    else:
        how = ("  * download it: pass download=True (or --download to npconv-train) on a "
               "machine with internet access; files go to %s" % folder)
    lines += [
        "Ways to get it:",
        how,
        "  * copy the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into %s, or into any folder "
        "passed as root=FOLDER (--data-root FOLDER); $NPCONV_DATA/%s is searched too"
        % (folder, os.path.basename(os.path.normpath(folder))),
    ]
    if name.lower().startswith("fashion"):
        lines.append("  * on Debian/Ubuntu: apt-get install dataset-fashion-mnist "
                     "(installs /usr/share/datasets/fashion-mnist)")
    lines.append("  * or train on the bundled Fashion-MNIST subset: --dataset bundled")
    return "\n".join(lines)


def download_dataset(key, folder, mirrors=None, resources=None, timeout=30, log=None):
    """Fetch every file of dataset ``key`` ('mnist', 'fashion-mnist', 'kmnist') into
    ``folder``, trying each mirror in turn; files already present with the right checksum
    are kept. Returns the folder. Raises ``DownloadError`` when a file cannot be fetched."""
    mirrors = MIRRORS[key] if mirrors is None else list(mirrors)
    resources = RESOURCES[key] if resources is None else list(resources)
    os.makedirs(folder, exist_ok=True)
    for filename, algorithm, digest in resources:
        dest = os.path.join(folder, filename)
        if os.path.exists(dest) and file_digest(dest, algorithm) == digest.lower():
            continue
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + filename
            if log:
                log("downloading %s" % url)
            try:
                download_file(url, dest, algorithm, digest, timeout=timeout)
                break
            except DownloadError as e:
                errors.append(str(e))           # names the URL already
            except (OSError, urllib.error.URLError, ValueError) as e:
                errors.append("%s: %s" % (url, e))
        else:
            raise DownloadError("could not fetch %s:\n  %s" % (filename, "\n  ".join(errors)))
    return folder
