"""Iterable datasets, ChainDataset, StackDataset, BatchSampler, DataLoader(batch_sampler=...),
DistributedSampler (without shuffling) and default_convert against torch.utils.data."""

from collections import namedtuple

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
tdata = pytest.importorskip("torch.utils.data")


def _stream(base, worker_info, n):
    """The same sharded stream of ``n`` numbers for both libraries."""

    class Stream(base):
        def __len__(self):
            return n

        def __iter__(self):
            info = worker_info()
            if info is None:
                return iter(range(n))
            return iter(range(info.id, n, info.num_workers))

    return Stream()


def _batches(loader):
    return [batch.tolist() for batch in loader]


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(("num_workers", "n"), [(0, 11), (2, 11), (3, 8)])
def test_iterable_loader_batches_match(num_workers, n, drop_last):
    ours = nn.DataLoader(
        _stream(nn.IterableDataset, nn.get_worker_info, n),
        batch_size=2,
        num_workers=num_workers,
        drop_last=drop_last,
    )
    theirs = tdata.DataLoader(
        _stream(tdata.IterableDataset, tdata.get_worker_info, n),
        batch_size=2,
        num_workers=num_workers,
        drop_last=drop_last,
        multiprocessing_context="fork" if num_workers else None,
    )
    assert _batches(ours) == _batches(theirs)
    assert len(ours) == len(theirs)


def test_chain_and_stack_datasets_match():
    ours = nn.ChainDataset([_stream(nn.IterableDataset, nn.get_worker_info, k) for k in (2, 3)])
    theirs = tdata.ChainDataset(
        [_stream(tdata.IterableDataset, tdata.get_worker_info, k) for k in (2, 3)]
    )
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    values, labels = list(range(10, 14)), ["a", "b", "c", "d"]
    for args, kwargs in [((values, labels), {}), ((), {"v": values, "label": labels})]:
        ours_stack, theirs_stack = (
            nn.StackDataset(*args, **kwargs),
            tdata.StackDataset(*args, **kwargs),
        )
        assert len(ours_stack) == len(theirs_stack)
        assert [ours_stack[i] for i in range(4)] == [theirs_stack[i] for i in range(4)]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (9, 3), (2, 5), (0, 2)])
def test_batch_sampler_matches(n, batch_size, drop_last):
    ours = nn.BatchSampler(nn.SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_loader_with_batch_sampler_matches():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    batches = [[3, 1], [0, 9, 4], [7]]
    ours = nn.DataLoader(nn.TensorDataset(ac.tensor(x)), batch_sampler=batches)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x)), batch_sampler=batches)
    assert len(ours) == len(theirs) and ours.batch_size is theirs.batch_size is None
    for (a,), (b,) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(("n", "replicas"), [(10, 3), (9, 3), (2, 4), (11, 4), (5, 1)])
def test_distributed_sampler_without_shuffle_matches(n, replicas, drop_last):
    for rank in range(replicas):
        kwargs = {"num_replicas": replicas, "rank": rank, "shuffle": False, "drop_last": drop_last}
        ours = nn.DistributedSampler(range(n), **kwargs)
        theirs = tdata.DistributedSampler(range(n), **kwargs)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


def test_distributed_sampler_shuffle_has_torch_structure():
    """With shuffling only the permutation differs: the padding and dealing are torch's."""
    n, replicas, seed, epoch = 10, 4, 3, 2
    permutation = np.random.default_rng(seed + epoch).permutation(n)
    for rank in range(replicas):
        theirs = tdata.DistributedSampler(range(n), replicas, rank, shuffle=False)
        ours = nn.DistributedSampler(range(n), replicas, rank, shuffle=True, seed=seed)
        ours.set_epoch(epoch)
        assert list(ours) == permutation[list(theirs)].tolist()


def test_default_convert_matches():
    Point = namedtuple("Point", "x y")
    sample = {
        "array": np.arange(3, dtype=np.int32),
        "scalar": np.float64(1.5),
        "number": 3,
        "text": "hi",
        "names": np.array(["a", "b"]),
        "pair": (np.zeros(2, np.float32), 1),
        "point": Point(np.ones(1), 2),
        "list": [np.ones(2, np.float32)],
    }
    ours = nn.default_convert(sample)
    theirs = tdata.default_convert(sample)

    def same(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, ac.Tensor)
            assert a.dtype == np.dtype(str(b.dtype).removeprefix("torch."))
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        elif isinstance(b, dict):
            assert type(a) is type(b) and list(a) == list(b)
            for key in b:
                same(a[key], b[key])
        elif isinstance(b, list | tuple):
            assert type(a) is type(b) and len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                same(x, y)
        elif isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray)
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b

    same(ours, theirs)
