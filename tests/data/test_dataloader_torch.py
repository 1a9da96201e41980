"""npconv.data against torch.utils.data, where PyTorch is installed (CI has no torch).

Transforms are compared with their torchvision definitions written out in torch ops
(``ToTensor``: HWC uint8 -> CHW float32 / 255; ``Normalize``: ``(x - mean) / std`` per
channel), since torchvision itself is usually absent."""
import warnings
from collections import namedtuple

import numpy as np
import pytest

from npconv import data as nd
from npconv.data import transforms as T

torch = pytest.importorskip("torch")
td = torch.utils.data


def _pair(n):
    x = np.arange(n, dtype=np.int64)
    return nd.TensorDataset(x, x * 10), td.TensorDataset(torch.from_numpy(x),
                                                         torch.from_numpy(x * 10))


def _tolist(batches):
    return [[np.asarray(t.numpy() if hasattr(t, "numpy") else t).tolist() for t in b]
            for b in batches]


@pytest.mark.parametrize("n", [7, 8, 9, 13])       # the samplers below use indices < 7
@pytest.mark.parametrize("kwargs", [
    dict(batch_size=1), dict(batch_size=4), dict(batch_size=4, drop_last=True),
    dict(batch_size=3, sampler=[6, 0, 5, 1, 4]), dict(batch_size=None),
    dict(batch_size=None, sampler=[0, 0]),
    dict(batch_sampler=[[0], [0, 0, 0]]),
    dict(batch_size=2, sampler=nd.SequentialSampler(range(5)), drop_last=True),
])
def test_same_batches_and_len(n, kwargs):
    ours, theirs = _pair(n)
    tkw = dict(kwargs)
    if isinstance(tkw.get("sampler"), nd.SequentialSampler):
        tkw["sampler"] = td.SequentialSampler(range(5))
    a, b = nd.DataLoader(ours, **kwargs), td.DataLoader(theirs, **tkw)
    assert len(a) == len(b)
    assert _tolist(a) == _tolist(b)


@pytest.mark.parametrize("n", [1, 3, 4, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_small_datasets_like_torch(n, drop_last):
    ours, theirs = _pair(n)
    a = nd.DataLoader(ours, batch_size=4, drop_last=drop_last)
    b = td.DataLoader(theirs, batch_size=4, drop_last=drop_last)
    assert len(a) == len(b) and _tolist(a) == _tolist(b)


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=0), dict(batch_size=-2), dict(batch_size=2.5), dict(batch_size=True),
    dict(shuffle=True, sampler=[0]), dict(batch_sampler=[[0]], batch_size=3),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(num_workers=-1), dict(timeout=-1), dict(persistent_workers=True),
])
def test_same_argument_errors(kwargs):
    ours, theirs = _pair(4)
    with pytest.raises(ValueError) as want:
        td.DataLoader(theirs, **kwargs)
    with pytest.raises(ValueError) as got:
        nd.DataLoader(ours, **kwargs)
    assert str(got.value).startswith(str(want.value))


def test_shuffle_covers_every_index_each_epoch_like_torch():
    ours, theirs = _pair(10)
    a = nd.DataLoader(ours, batch_size=3, shuffle=True, generator=np.random.default_rng(0))
    b = td.DataLoader(theirs, batch_size=3, shuffle=True, generator=torch.Generator())
    assert len(a) == len(b) == 4
    for _ in range(2):
        ea, eb = _tolist(a), _tolist(b)
        assert [len(x[0]) for x in ea] == [len(x[0]) for x in eb] == [3, 3, 3, 1]
        assert sorted(sum((x[0] for x in ea), [])) == sorted(sum((x[0] for x in eb), []))


Pt = namedtuple("Pt", "x y")


@pytest.mark.parametrize("samples", [
    [(1, 2.5, True), (3, 4.5, False)],
    [{"a": np.arange(3, dtype=np.int32), "b": [1, 2]}, {"a": np.arange(3, 6, dtype=np.int32),
                                                     "b": [3, 4]}],
    [Pt(np.float32(1.5), 2), Pt(np.float32(2.5), 3)],
    [("s", np.array([True])), ("t", np.array([False]))],
    [np.array([[1.0, 2.0]], np.float32), np.array([[3.0, 4.0]], np.float32)],
])
def test_default_collate_structure_and_values(samples):
    # the first field is the input: use non-uint8 data so npconv's image scaling is not
    # involved; float64 is compared after npconv's float32 rule
    got, want = nd.default_collate(samples), td.default_collate(samples)

    def check(g, w):
        if isinstance(w, torch.Tensor):
            dt = {torch.float64: np.float32, torch.int32: np.int64}.get(w.dtype)
            assert g.dtype == (dt or w.numpy().dtype), (g.dtype, w.dtype)
            np.testing.assert_allclose(g.numpy(), w.numpy().astype(g.dtype))
        elif isinstance(w, dict):
            assert list(g) == list(w)
            for k in w:
                check(g[k], w[k])
        elif isinstance(w, (list, tuple)) and w and not isinstance(w[0], str):
            assert type(g) is type(w) or (isinstance(g, list) and isinstance(w, list))
            assert len(g) == len(w)
            for a, b in zip(g, w):
                check(a, b)
        else:
            assert list(g) == list(w)

    check(got, want)


@pytest.mark.parametrize("samples", [
    [np.zeros(2), np.zeros(3)], [(1, 2), (1, 2, 3)], [object(), object()],
    [np.array(["a"]), np.array(["b"])],
])
def test_default_collate_same_errors(samples):
    with pytest.raises(Exception) as want:
        td.default_collate(samples)
    with pytest.raises(Exception) as got:
        nd.default_collate(samples)
    assert type(got.value) is type(want.value)
    assert str(got.value).startswith(str(want.value))


@pytest.mark.parametrize("n", [1, 2, 10, 11, 97])
@pytest.mark.parametrize("lengths", [[0.5, 0.5], [0.3, 0.3, 0.4], [1 / 3] * 3,
                                     [0.1] * 10, [0.25] * 4, [0.7, 0.2, 0.1]])
def test_random_split_lengths_like_torch(n, lengths):
    # zero-length splits warn in both libraries; the warnings are not what is compared here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [len(s) for s in td.random_split(range(n), lengths)]
        got = [len(s) for s in nd.random_split(nd.TensorDataset(np.arange(n)), lengths)]
    assert got == want


def test_concat_dataset_like_torch():
    parts = [np.arange(3), np.arange(3, 4), np.arange(4, 9)]
    ours = nd.ConcatDataset([nd.TensorDataset(p) for p in parts])
    theirs = td.ConcatDataset([td.TensorDataset(torch.from_numpy(p)) for p in parts])
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in range(-len(ours), len(ours)):
        assert int(ours[i][0]) == int(theirs[i][0])
    for i in (-len(ours) - 1, -100):
        with pytest.raises(ValueError) as want:
            theirs[i]
        with pytest.raises(ValueError) as got:
            ours[i]
        assert str(got.value).startswith(str(want.value))
    assert _tolist(nd.DataLoader(ours, batch_size=4)) == _tolist(td.DataLoader(theirs, 4))


def test_subset_like_torch():
    base = np.arange(10) * 10
    ours = nd.Subset(nd.TensorDataset(base), [7, 2, 5])
    theirs = td.Subset(td.TensorDataset(torch.from_numpy(base)), [7, 2, 5])
    assert len(ours) == len(theirs)
    for i in (0, 1, 2, -1, -3):
        assert int(ours[i][0]) == int(theirs[i][0])
    assert ours[[0, 2]][0].tolist() == theirs[[0, 2]][0].tolist()


def test_to_tensor_matches_torchvision_definition():
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    # torchvision ToTensor on an HWC uint8 array: permute to CHW, float, divide by 255
    want = torch.from_numpy(hwc).permute(2, 0, 1).contiguous().to(torch.float32).div(255)
    got = T.ToTensor()(hwc.transpose(2, 0, 1))       # npconv takes CHW already
    assert got.dtype == np.float32 and got.shape == tuple(want.shape)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=0)


def test_normalize_matches_torchvision_definition():
    rng = np.random.default_rng(1)
    x = rng.random((2, 3, 4, 5), dtype=np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    t = torch.from_numpy(x)
    m = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
    want = (t - m) / s                                # torchvision's F.normalize
    got = T.Normalize(mean, std)(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=1e-6)
