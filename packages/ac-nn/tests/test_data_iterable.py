"""Iterable datasets and their worker threads, ChainDataset, StackDataset, BatchSampler,
DataLoader(batch_sampler=...), DistributedSampler and default_convert."""

import threading
from collections import Counter, namedtuple
from collections.abc import Sized

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn import data


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


class Stream(nn.IterableDataset):
    """0 .. n-1, split between workers by ``get_worker_info`` (or not, if ``shard`` is False)."""

    def __init__(self, n, shard=True):
        self.n, self.shard, self.infos = n, shard, []

    def __iter__(self):
        info = nn.get_worker_info()
        self.infos.append(info)
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class SizedStream(Stream):
    def __len__(self):
        return self.n


def _items(loader):
    return [int(x) for batch in loader for x in batch.tolist()]


def test_exports():
    for name in ["IterableDataset", "ChainDataset", "StackDataset", "BatchSampler"]:
        assert getattr(nn, name) is getattr(data, name)
    assert nn.DistributedSampler is data.DistributedSampler
    assert nn.get_worker_info is data.get_worker_info
    assert nn.default_convert is data.default_convert and nn.WorkerInfo is data.WorkerInfo


@pytest.mark.parametrize("num_workers", [0, 2, 3])
@pytest.mark.parametrize("n", [0, 1, 10, 11])
def test_sharded_stream_gives_every_item_exactly_once(num_workers, n):
    loader = nn.DataLoader(Stream(n), batch_size=3, num_workers=num_workers)
    for _ in range(2):  # every pass starts anew
        items = _items(loader)
        assert Counter(items) == Counter(range(n))


def test_batches_come_round_robin_from_the_workers():
    loader = nn.DataLoader(Stream(11), batch_size=2, num_workers=2)
    batches = [batch.tolist() for batch in loader]
    assert batches == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]


def test_drop_last_drops_each_workers_short_batch():
    loader = nn.DataLoader(Stream(11), batch_size=4, num_workers=2, drop_last=True)
    assert [batch.tolist() for batch in loader] == [[0, 2, 4, 6], [1, 3, 5, 7]]
    loader = nn.DataLoader(Stream(11), batch_size=4, drop_last=True)
    assert [batch.tolist() for batch in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_unsharded_stream_comes_once_per_worker():
    assert Counter(_items(nn.DataLoader(Stream(5, shard=False), 2, num_workers=2))) == Counter(
        list(range(5)) * 2
    )


def test_worker_info():
    dataset = Stream(4)
    assert nn.get_worker_info() is None
    _items(nn.DataLoader(dataset, batch_size=2))
    assert dataset.infos == [None]
    dataset.infos.clear()
    _items(nn.DataLoader(dataset, batch_size=2, num_workers=2))
    infos = sorted(dataset.infos, key=lambda info: info.id)
    assert [info.id for info in infos] == [0, 1]
    assert all(info.num_workers == 2 and info.dataset is dataset for info in infos)
    assert infos[1].seed == infos[0].seed + 1
    assert "WorkerInfo(id=0, num_workers=2" in repr(infos[0])
    with pytest.raises(RuntimeError, match="Cannot assign"):
        infos[0].id = 5
    dataset.infos.clear()
    _items(nn.DataLoader(dataset, batch_size=2, num_workers=2))
    assert dataset.infos[0].seed != infos[0].seed  # a new base seed every pass
    assert nn.get_worker_info() is None


def test_worker_seed_is_reproducible_with_manual_seed():
    seeds = []
    for _ in range(2):
        ac.manual_seed(5)
        dataset = Stream(2)
        _items(nn.DataLoader(dataset, num_workers=2))
        seeds.append(sorted(info.seed for info in dataset.infos))
    assert seeds[0] == seeds[1]


def test_stream_collate_fn_and_dict_samples():
    class Records(nn.IterableDataset):
        def __iter__(self):
            return iter({"x": np.full(2, i, np.float32), "y": i} for i in range(5))

    batches = list(nn.DataLoader(Records(), batch_size=2))
    assert [b["y"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].shape == (2, 2) and batches[0]["x"].dtype == np.float32
    loader = nn.DataLoader(Stream(5), batch_size=2, collate_fn=list, num_workers=2)
    assert list(loader) == [[0, 2], [1, 3], [4]]


def test_worker_errors_reach_the_caller():
    class Broken(nn.IterableDataset):
        def __iter__(self):
            yield 1
            raise OSError("disk gone")

    for workers in (0, 2):
        with pytest.raises(OSError, match="disk gone"):
            list(nn.DataLoader(Broken(), batch_size=1, num_workers=workers))


def test_leaving_a_pass_early_stops_the_workers():
    before = threading.active_count()
    loader = nn.DataLoader(Stream(10_000), batch_size=1, num_workers=2, prefetch_factor=1)
    for i, _ in enumerate(loader):
        if i == 3:
            break
    iterator = iter(loader)
    next(iterator)
    iterator.close()
    assert threading.active_count() == before


def test_stream_length():
    assert len(nn.DataLoader(SizedStream(10), batch_size=3)) == 4
    assert len(nn.DataLoader(SizedStream(10), batch_size=3, drop_last=True)) == 3
    with pytest.raises(TypeError, match="IterableDataset has no length"):
        len(nn.DataLoader(Stream(10), batch_size=3))


def test_stream_loader_rejects_index_options():
    with pytest.raises(ValueError, match="IterableDataset"):
        nn.DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="IterableDataset"):
        nn.DataLoader(Stream(3), sampler=[0, 1])
    with pytest.raises(ValueError, match="IterableDataset"):
        nn.DataLoader(Stream(3), batch_sampler=[[0]])


def test_base_iterable_dataset():
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(nn.IterableDataset())
    assert isinstance(Stream(1), nn.Dataset)  # as in PyTorch
    assert not isinstance(Stream(1), Sized) and isinstance(SizedStream(1), Sized)
    with pytest.raises(TypeError):
        len(Stream(1))


# ---------------------------------------------------------------- chain and stack
def test_chain_dataset():
    chain = nn.ChainDataset([SizedStream(2), SizedStream(3)])
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    assert list(SizedStream(1) + SizedStream(2)) == [0, 0, 1]
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(nn.ChainDataset([SizedStream(1), [1, 2]]))
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        len(nn.ChainDataset([nn.TensorDataset(ac.zeros(2))]))
    with pytest.raises(TypeError, match="ChainDataset"):
        nn.ConcatDataset([SizedStream(1)])


def test_stack_dataset():
    x = nn.TensorDataset(ac.arange(4).float())
    labels = ["a", "b", "c", "d"]
    pairs = nn.StackDataset(x, labels)
    sample = pairs[2]
    assert len(pairs) == 4 and isinstance(sample, tuple) and sample[1] == "c"
    assert sample[0][0].item() == 2.0
    named = nn.StackDataset(x=x, label=labels)
    assert list(named[1]) == ["x", "label"] and named[1]["label"] == "b"
    batch = next(iter(nn.DataLoader(named, batch_size=3)))
    assert batch["label"] == ["a", "b", "c"] and batch["x"][0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="not both"):
        nn.StackDataset(x, label=labels)
    with pytest.raises(ValueError, match="at least one"):
        nn.StackDataset()
    with pytest.raises(ValueError, match=r"lengths \[4, 3\]"):
        nn.StackDataset(x, labels[:3])


# ------------------------------------------------------------------ batch samplers
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler(drop_last):
    sampler = nn.BatchSampler(nn.SequentialSampler(range(7)), 3, drop_last)
    expected = [[0, 1, 2], [3, 4, 5]] + ([] if drop_last else [[6]])
    assert list(sampler) == expected and len(sampler) == len(expected)
    assert list(nn.BatchSampler([5, 1, 3], 2, drop_last)) == [[5, 1]] + ([] if drop_last else [[3]])


def test_batch_sampler_checks_arguments():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            nn.BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last"):
        nn.BatchSampler(range(3), 2, 1)


def test_dataloader_batch_sampler():
    dataset = nn.TensorDataset(ac.arange(10).float(), ac.arange(10))
    sampler = nn.BatchSampler(nn.SequentialSampler(dataset), 4, drop_last=False)
    for workers in (0, 2):
        loader = nn.DataLoader(dataset, batch_sampler=sampler, num_workers=workers)
        assert loader.batch_size is None and len(loader) == 3
        assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    loader = nn.DataLoader(dataset, batch_sampler=[[9, 0], [5]], collate_fn=list)
    assert [[int(y) for _, y in batch] for batch in loader] == [[9, 0], [5]]
    for kwargs in ({"batch_size": 2}, {"shuffle": True}, {"sampler": [0]}, {"drop_last": True}):
        with pytest.raises(ValueError, match="mutually exclusive"):
            nn.DataLoader(dataset, batch_sampler=sampler, **kwargs)
    with pytest.raises(TypeError, match="batch_sampler has no length"):
        len(nn.DataLoader(dataset, batch_sampler=iter([[0]])))


# ------------------------------------------------------------- distributed sampler
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(("n", "replicas"), [(10, 3), (9, 3), (2, 4), (7, 1)])
def test_distributed_sampler_without_shuffle(n, replicas, drop_last):
    parts = [
        list(nn.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last))
        for rank in range(replicas)
    ]
    size = n // replicas if drop_last else -(-n // replicas)
    assert all(len(part) == size for part in parts)
    order = [part[i] for i in range(size) for part in parts]  # dealt round robin
    expected = (
        list(range(n))[: size * replicas] if drop_last else [i % n for i in range(size * replicas)]
    )
    assert order == expected
    assert len(nn.DistributedSampler(range(n), replicas, 0, drop_last=drop_last)) == size


def test_distributed_sampler_shuffle_splits_one_permutation():
    def parts(epoch, seed=0):
        samplers = [nn.DistributedSampler(range(12), 3, r, seed=seed) for r in range(3)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [list(sampler) for sampler in samplers]

    first = parts(0)
    assert sorted(i for part in first for i in part) == list(range(12))
    assert first == parts(0) and first != parts(1) and first != parts(0, seed=1)
    expected = np.random.default_rng(0 + 4).permutation(12)[1::3].tolist()
    assert parts(4)[1] == expected


def test_distributed_sampler_defaults_and_errors():
    sampler = nn.DistributedSampler(range(5), shuffle=False)
    assert (sampler.num_replicas, sampler.rank) == (1, 0) and list(sampler) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="Invalid rank 3"):
        nn.DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        nn.DistributedSampler(range(5), num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="num_replicas"):
        nn.DistributedSampler(range(5), num_replicas=0)
    loader = nn.DataLoader(
        nn.TensorDataset(ac.arange(6)),
        batch_size=2,
        sampler=nn.DistributedSampler(range(6), 2, 1, shuffle=False),
    )
    assert [b.tolist() for (b,) in loader] == [[1, 3], [5]]


# ------------------------------------------------------------------ default_convert
def test_default_convert():
    Point = namedtuple("Point", "x y")
    sample = {
        "array": np.arange(3, dtype=np.int32),
        "scalar": np.float64(1.5),
        "number": 3,
        "text": "hi",
        "names": np.array(["a", "b"]),
        "pair": (np.zeros(2), 1),
        "point": Point(np.ones(1), 2),
        "list": [np.ones(2, np.float32)],
        "tensor": ac.ones(1),
    }
    out = nn.default_convert(sample)
    assert isinstance(out["array"], ac.Tensor) and out["array"].dtype == np.int32
    assert isinstance(out["scalar"], ac.Tensor) and out["scalar"].shape == ()
    assert out["number"] == 3 and out["text"] == "hi"
    assert isinstance(out["names"], np.ndarray)
    assert isinstance(out["pair"], list) and isinstance(out["pair"][0], ac.Tensor)
    assert isinstance(out["point"], Point) and isinstance(out["point"].x, ac.Tensor)
    assert isinstance(out["list"][0], ac.Tensor) and out["tensor"] is sample["tensor"]
