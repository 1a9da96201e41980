"""npconv.train: bad --resume and --out paths fail early, in one line, before data loading."""
import pytest

import npconv as nc
from npconv import train as T


def _cli(argv, capsys):
    try:
        rc = T.main(argv)
    except SystemExit as e:
        rc = e.code
    return rc, capsys.readouterr().err


@pytest.fixture
def no_data(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the data was loaded before the options were checked")
    monkeypatch.setattr(T, "load_datasets", refuse)


def test_resume_from_a_folder_or_a_foreign_file(tmp_path, capsys, no_data):
    rc, err = _cli(["--resume", str(tmp_path)], capsys)
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "is a folder; expected the last.npz file in it" in err
    (tmp_path / "w.npz").write_bytes(b"")
    rc, err = _cli(["--resume", str(tmp_path / "w.npz")], capsys)
    assert rc == 2 and err.count("\n") == 1 and "the file is empty" in err
    nc.save({"x": 1}, tmp_path / "ck.npz")
    with open(tmp_path / "ck.npz", "r+b") as fh:     # truncate a real checkpoint
        fh.truncate(40)
    rc, err = _cli(["--resume", str(tmp_path / "ck.npz")], capsys)
    assert rc == 2 and "ck.npz" in err and "truncated or corrupt" in err


def test_out_under_a_file_fails_before_any_data_is_read(tmp_path, capsys, no_data):
    (tmp_path / "f").write_text("x")
    for out in (tmp_path / "f", tmp_path / "f" / "run"):
        rc, err = _cli(["--dataset", "bundled", "--out", str(out)], capsys)
        assert rc == 2 and err.count("\n") == 1
        assert "%s is a file, not a folder" % (tmp_path / "f") in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
