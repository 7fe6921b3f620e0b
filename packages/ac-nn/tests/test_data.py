"""Datasets, random_split, default_collate and DataLoader."""

import threading
import time
from collections import namedtuple

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn import data


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


@pytest.fixture
def dataset():
    x = ac.tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
    y = ac.arange(10)
    return nn.TensorDataset(x, y)


def _epoch(loader):
    return [tuple(t.numpy().copy() for t in batch) for batch in loader]


def test_exports():
    assert nn.DataLoader is data.DataLoader and nn.Dataloader is nn.DataLoader
    assert nn.TensorDataset is data.TensorDataset and nn.random_split is data.random_split


def test_tensor_dataset(dataset):
    x, y = dataset[3]
    assert np.array_equal(x.data, [6, 7]) and y.item() == 3
    assert len(dataset) == 10
    assert len(nn.TensorDataset(np.zeros((4, 2)))) == 4
    with pytest.raises(ValueError, match=r"\(3, 2\), \(4,\)"):
        nn.TensorDataset(ac.zeros(3, 2), ac.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        nn.TensorDataset()


def test_loader_in_order_with_last_partial_batch(dataset):
    loader = nn.DataLoader(dataset, batch_size=4)
    assert len(loader) == 3
    batches = _epoch(loader)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == np.float32
    assert batches[0][1].dtype == np.int64


def test_drop_last(dataset):
    loader = nn.DataLoader(dataset, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in _epoch(loader)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(nn.DataLoader(dataset, batch_size=5, drop_last=True)) == 2
    assert len(nn.DataLoader(dataset, batch_size=11, drop_last=True)) == 0
    assert _epoch(nn.DataLoader(dataset, batch_size=11, drop_last=True)) == []


def test_shuffle_covers_every_sample_once_and_differs_between_epochs(dataset):
    loader = nn.DataLoader(dataset, batch_size=3, shuffle=True, generator=0)
    first, second = _epoch(loader), _epoch(loader)
    order = np.concatenate([b[1] for b in first])
    assert sorted(order.tolist()) == list(range(10))
    assert not np.array_equal(order, np.concatenate([b[1] for b in second]))
    # samples stay aligned across tensors
    for x, y in first:
        assert np.array_equal(x[:, 0], 2 * y)


def test_shuffle_is_reproducible(dataset):
    def orders(**kwargs):
        loader = nn.DataLoader(dataset, batch_size=4, shuffle=True, **kwargs)
        return [np.concatenate([b[1] for b in _epoch(loader)]).tolist() for _ in range(2)]

    assert orders(generator=7) == orders(generator=7)
    assert orders(generator=np.random.default_rng(7)) == orders(generator=np.random.default_rng(7))
    ac.manual_seed(1)
    global_a = orders()
    ac.manual_seed(1)
    assert orders() == global_a


def test_a_passed_generator_leaves_the_global_one_alone(dataset):
    ac.manual_seed(2)
    expected = ac.randn(3).numpy()
    ac.manual_seed(2)
    _epoch(nn.DataLoader(dataset, batch_size=4, shuffle=True, generator=np.random.default_rng(0)))
    assert np.array_equal(ac.randn(3).numpy(), expected)


def test_fast_path_equals_per_sample_collation(dataset):
    fast = _epoch(nn.DataLoader(dataset, batch_size=4, shuffle=True, generator=3))
    slow = _epoch(
        nn.DataLoader(
            dataset, batch_size=4, shuffle=True, generator=3, collate_fn=data.default_collate
        )
    )
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        for s, t in zip(a, b, strict=True):
            assert s.dtype == t.dtype and np.array_equal(s, t)


def test_loader_over_a_plain_list_and_custom_dataset():
    samples = [(np.full(2, i, dtype=np.float32), i) for i in range(5)]
    x, y = next(iter(nn.DataLoader(samples, batch_size=5)))
    assert x.shape == (5, 2) and x.dtype == ac.float32 and y.tolist() == [0, 1, 2, 3, 4]

    class Squares(nn.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": float(i), "y": i * i}

    batch = next(iter(nn.DataLoader(Squares(), batch_size=4)))
    assert batch["x"].dtype == ac.float32 and batch["y"].tolist() == [0, 1, 4, 9]


def test_collate_function_is_used(dataset):
    loader = nn.DataLoader(dataset, batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(loader) == [4, 4, 2]


def test_default_collate_structures():
    assert data.default_collate([1, 2]).dtype == ac.int64
    assert data.default_collate([1.0, 2]).dtype == ac.float32
    assert data.default_collate([True, False]).dtype == ac.bool
    assert data.default_collate([np.float64(1), np.float64(2)]).dtype == ac.float64
    assert data.default_collate(["a", "b"]) == ["a", "b"]
    lists = data.default_collate([[1, 2.0], [3, 4.0]])
    assert isinstance(lists, list) and lists[0].tolist() == [1, 3]
    Pair = namedtuple("Pair", "a b")
    pair = data.default_collate([Pair(ac.zeros(2), 1), Pair(ac.ones(2), 2)])
    assert isinstance(pair, Pair) and pair.a.shape == (2, 2) and pair.b.tolist() == [1, 2]
    nested = data.default_collate([{"img": (ac.zeros(3), "x")}, {"img": (ac.ones(3), "y")}])
    assert nested["img"][0].shape == (2, 3) and nested["img"][1] == ["x", "y"]
    with pytest.raises(ValueError, match="one shape"):
        data.default_collate([ac.zeros(2), ac.zeros(3)])
    with pytest.raises(ValueError, match="same length"):
        data.default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="collate_fn"):
        data.default_collate([object(), object()])


def test_collate_keeps_autograd_through_stack():
    x = ac.randn(2, req_grad=True)
    batch = data.default_collate([x * 2, x * 3])
    batch.sum().backward()
    assert np.allclose(x.grad, 5)


def test_device_argument_moves_batches(dataset):
    batches = list(nn.DataLoader(dataset, batch_size=5, device="cpu"))
    assert all(t.device == "cpu" for b in batches for t in b)
    assert data._to_device({"a": [ac.zeros(1)], "b": 3}, "cpu")["b"] == 3


def test_loader_argument_checks(dataset):
    with pytest.raises(ValueError, match="positive"):
        nn.DataLoader(dataset, batch_size=0)
    with pytest.raises(TypeError, match="positive integer"):
        nn.DataLoader(dataset, batch_size=2.0)
    with pytest.raises(TypeError, match="generator"):
        nn.DataLoader(dataset, shuffle=True, generator="seed")
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        nn.DataLoader(iter([1, 2]))


def test_random_split_with_lengths_and_fractions(dataset):
    train, val = nn.random_split(dataset, [7, 3], generator=0)
    assert isinstance(train, nn.Subset) and len(train) == 7 and len(val) == 3
    assert sorted(train.indices + val.indices) == list(range(10))
    again, _ = nn.random_split(dataset, [7, 3], generator=np.random.default_rng(0))
    assert again.indices == train.indices
    parts = nn.random_split(dataset, [0.5, 0.3, 0.2], generator=1)
    assert [len(p) for p in parts] == [5, 3, 2]
    # 11 samples by thirds: 3 each, the 2 left over go to the first parts (PyTorch's rule)
    assert [len(p) for p in nn.random_split(list(range(11)), [1 / 3] * 3, generator=1)] == [4, 4, 3]
    _, y = train[0]
    assert y.item() == train.indices[0]
    with pytest.raises(ValueError, match="do not add up"):
        nn.random_split(dataset, [5, 4])
    with pytest.raises(ValueError, match="fractions"):
        nn.random_split(dataset, [0.5, 0.6])


def test_random_split_uses_global_generator_by_default(dataset):
    ac.manual_seed(4)
    a = nn.random_split(dataset, [5, 5])[0].indices
    ac.manual_seed(4)
    assert nn.random_split(dataset, [5, 5])[0].indices == a


def test_loader_over_subset_uses_subset_indices(dataset):
    subset = nn.Subset(dataset, [9, 2, 5])
    assert subset[[0, 2]][1][1].item() == 5
    ((x, y),) = list(nn.DataLoader(subset, batch_size=3))
    assert y.tolist() == [9, 2, 5] and np.array_equal(x.data[:, 1], [19, 5, 11])


def test_concat_dataset(dataset):
    both = dataset + nn.TensorDataset(ac.zeros(3, 2), ac.full((3,), 99))
    assert len(both) == 13
    assert both[10][1].item() == 99 and both[9][1].item() == 9 and both[-1][1].item() == 99
    with pytest.raises(IndexError):
        both[13]
    assert len(list(nn.DataLoader(both, batch_size=5))) == 3


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        len(nn.Dataset())
    with pytest.raises(NotImplementedError):
        nn.Dataset()[0]


def test_samplers() -> None:
    data = nn.TensorDataset(ac.arange(10.0))
    assert list(nn.SequentialSampler(data)) == list(range(10))
    once = list(nn.RandomSampler(data, generator=0))
    assert sorted(once) == list(range(10)) and once != list(range(10))
    drawn = list(nn.RandomSampler(data, replacement=True, num_samples=25, generator=1))
    assert len(drawn) == 25 and set(drawn) <= set(range(10))
    assert sorted(nn.SubsetRandomSampler([7, 2, 5], generator=0)) == [2, 5, 7]
    weighted = nn.WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=2)
    counts = np.bincount(list(weighted), minlength=3) / 4000
    np.testing.assert_allclose(counts, [0.0, 0.25, 0.75], atol=0.03)
    distinct = list(nn.WeightedRandomSampler([1.0, 1.0, 5.0], 2, replacement=False, generator=3))
    assert len(set(distinct)) == 2
    with pytest.raises(ValueError, match="without replacement from 2 of positive weight"):
        nn.WeightedRandomSampler([1.0, 0.0, 1.0], 3, replacement=False)


def test_loader_with_a_sampler() -> None:
    data = nn.TensorDataset(ac.arange(6.0))
    loader = nn.DataLoader(data, batch_size=4, sampler=nn.SubsetRandomSampler([1, 3, 5], 0))
    (batch,) = list(loader)
    assert len(loader) == 1 and sorted(batch[0].tolist()) == [1.0, 3.0, 5.0]
    with pytest.raises(ValueError, match="sampler and shuffle=True exclude each other"):
        nn.DataLoader(data, sampler=nn.SequentialSampler(data), shuffle=True)


def test_worker_threads_give_the_same_batches_in_order() -> None:
    class Slow(nn.Dataset):
        def __len__(self) -> int:
            return 23

        def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
            return np.full(3, i, dtype=np.float32), i

    plain = [b[1].tolist() for b in nn.DataLoader(Slow(), batch_size=4, shuffle=True, generator=5)]
    loader = nn.DataLoader(Slow(), batch_size=4, shuffle=True, generator=5, num_workers=3)
    assert [b[1].tolist() for b in loader] == plain
    assert next(iter(loader))[0].shape == (4, 3)  # stopping early is fine
    with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
        nn.DataLoader(Slow(), num_workers=-1)

    class Broken(Slow):
        def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
            raise KeyError(i)

    with pytest.raises(KeyError):
        list(nn.DataLoader(Broken(), batch_size=4, num_workers=2))


def test_batch_size_none_turns_batching_off() -> None:
    dataset = data.TensorDataset(ac.arange(5.0), ac.arange(5) * 2)
    loader = data.DataLoader(dataset, batch_size=None)
    samples = list(loader)
    assert len(loader) == 5 and len(samples) == 5
    x, y = samples[3]
    assert x.shape == () and x.item() == 3.0 and y.item() == 6
    with pytest.raises(ValueError, match="drop_last"):
        data.DataLoader(dataset, batch_size=None, drop_last=True)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_batch_size_none_with_a_shuffle_and_workers(num_workers: int) -> None:
    dataset = data.TensorDataset(ac.arange(6.0))
    loader = data.DataLoader(dataset, batch_size=None, shuffle=True, num_workers=num_workers)
    assert sorted(x.item() for (x,) in loader) == [0, 1, 2, 3, 4, 5]


def test_worker_init_fn_runs_once_in_every_worker_thread() -> None:
    seen: list[tuple[int, str]] = []
    dataset = data.TensorDataset(ac.arange(40.0))

    def init(worker_id: int) -> None:
        seen.append((worker_id, threading.current_thread().name))

    batches = list(data.DataLoader(dataset, batch_size=4, num_workers=3, worker_init_fn=init))
    assert len(batches) == 10
    assert sorted(worker for worker, _ in seen) == [0, 1, 2]
    assert all(name.startswith("DataLoader") for _, name in seen)


def test_timeout_turns_a_slow_worker_into_an_error() -> None:
    class Slow(data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, index: int):
            time.sleep(0.5)
            return ac.tensor(float(index))

    loader = data.DataLoader(Slow(), batch_size=2, num_workers=1, timeout=0.05)
    with pytest.raises(RuntimeError, match=r"timed out after 0\.05 seconds"):
        next(iter(loader))
    with pytest.raises(ValueError, match="timeout"):
        data.DataLoader(Slow(), timeout=-1)


def test_pytorchs_other_loader_options_are_accepted() -> None:
    dataset = data.TensorDataset(ac.arange(8.0))
    loader = data.DataLoader(
        dataset,
        batch_size=4,
        num_workers=2,
        persistent_workers=True,
        multiprocessing_context="spawn",
        pin_memory_device="",
        in_order=True,
        prefetch_factor=None,
    )
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="persistent_workers"):
        data.DataLoader(dataset, persistent_workers=True)


def test_random_draws_in_worker_threads_repeat_under_manual_seed() -> None:
    class Noisy(nn.Dataset):
        def __len__(self) -> int:
            return 64

        def __getitem__(self, i: int) -> ac.Tensor:
            return ac.randn(3) + i

    def run(workers: int) -> np.ndarray:
        ac.manual_seed(0)
        loader = nn.DataLoader(Noisy(), batch_size=8, num_workers=workers)
        return np.stack([batch.numpy() for batch in loader])

    first = run(2)
    for workers in (2, 2, 3):  # each batch draws from its own seed: any thread may fetch it
        np.testing.assert_array_equal(run(workers), first)
    ac.manual_seed(1)
    assert not np.array_equal(np.stack([b.numpy() for b in nn.DataLoader(Noisy(), 8)]), first)
