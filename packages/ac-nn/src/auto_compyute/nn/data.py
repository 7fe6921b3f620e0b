"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``random_split``, ``DataLoader``, ...

A map-style dataset is anything with ``__getitem__(i)`` and ``__len__``. ``DataLoader``
draws indices (in order, shuffled, from a sampler such as ``WeightedRandomSampler``, or
whole batches from a ``batch_sampler``), fetches the samples and merges them into batches
with a collate function. An ``IterableDataset`` is a stream instead: the loader iterates
it, and its worker threads can split it with ``get_worker_info()``.

Example:
    >>> ac.manual_seed(0)
    >>> data = nn.TensorDataset(ac.randn(100, 4), ac.randint(0, 3, (100,)))
    >>> train, val = nn.random_split(data, [0.8, 0.2])
    >>> loader = nn.DataLoader(train, batch_size=32, shuffle=True)
    >>> for x, y in loader:
    ...     pass  # x: (32, 4) float32, y: (32,) int64; the last batch holds 16
"""

from __future__ import annotations

import itertools
import math
import numbers
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any, cast

import numpy as np

from auto_compyute._core.functions import stack
from auto_compyute._core.random import Generator, drawing_from, numpy_generator
from auto_compyute._core.tensor import Tensor

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataloader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]

GeneratorLike = Generator | np.random.Generator | int | None


def _rng(generator: GeneratorLike) -> np.random.Generator:
    """A NumPy generator from an ``ac.Generator``, a NumPy generator, an int seed, or None
    (``ac``'s global generator)."""
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if generator is None or isinstance(generator, Generator | np.random.Generator):
        return numpy_generator(generator)
    raise TypeError(
        f"generator must be an ac.Generator, a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )


def _keep(generator: GeneratorLike) -> Generator | np.random.Generator | None:
    """What a sampler or loader keeps to draw from later: an ``ac.Generator`` itself (so
    that seeding it afterwards takes effect, as in PyTorch), else ``_rng``'s generator."""
    if generator is None or isinstance(generator, Generator):
        return generator
    return _rng(generator)


class Dataset:
    """Base class of map-style datasets: define ``__getitem__(index)`` and ``__len__()``.

    Datasets can be concatenated with ``+``.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def _get_batch(self, indices: np.ndarray) -> Any:
        """A whole collated batch at once, or NotImplemented (then samples are collated one by one).

        ``DataLoader`` uses it when no ``collate_fn`` is given.
        """
        return NotImplemented


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension.

    ``dataset[i]`` is ``(t1[i], t2[i], ...)``.

    Args:
        *tensors: Tensors (or arrays) with the same size of axis 0.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        for t in self.tensors:
            if t.ndim == 0:
                raise ValueError("TensorDataset needs tensors with at least one dimension")
        sizes = {t.shape[0] for t in self.tensors}
        if len(sizes) != 1:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise ValueError(
                f"size mismatch between tensors: the first dimensions differ ({shapes})"
            )

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        # NOTE: one indexing op per tensor instead of one per sample plus a stack.
        return tuple(
            t[indices if type(t.data) is np.ndarray else indices.tolist()] for t in self.tensors
        )


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: The full dataset.
        indices: Indices into it.
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        self._index_array = np.asarray(self.indices, dtype=np.int64)

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def _get_batch(self, indices: np.ndarray) -> Any:
        get_batch = getattr(self.dataset, "_get_batch", None)
        if get_batch is None:
            return NotImplemented
        return get_batch(self._index_array[indices])


class ConcatDataset(Dataset):
    """Several datasets one after another.

    Args:
        datasets: The datasets to concatenate.
    """

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; use ChainDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        length = len(self)
        if not -length <= index < length:
            raise IndexError(f"index {index} is out of range for a dataset of length {length}")
        index %= length
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - offset]


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: GeneratorLike = None
) -> list[Subset]:
    """Split a dataset into non-overlapping random subsets.

    Args:
        dataset: The dataset to split.
        lengths: The size of each part, or fractions that sum to 1 (the sizes are then
            rounded down and the remainder given one by one to the first parts, as in PyTorch).
        generator: An ``ac.Generator``, a NumPy generator or an int seed for the
            permutation; ``ac``'s global generator if None.

    Returns:
        One ``Subset`` per entry of ``lengths``.
    """
    total = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(n, numbers.Integral) for n in lengths):
        sizes = [int(n) for n in lengths]
    elif math.isclose(sum(lengths), 1.0) and all(0 <= f <= 1 for f in lengths):
        sizes = [math.floor(total * f) for f in lengths]
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        raise ValueError(
            f"lengths must be integers summing to the dataset length {total} or fractions "
            f"summing to 1, got {lengths}"
        )
    if any(n < 0 for n in sizes) or sum(sizes) != total:
        raise ValueError(
            f"the lengths {sizes} do not add up to the length of the dataset ({total})"
        )
    permutation = _rng(generator).permutation(total)
    parts, start = [], 0
    for size in sizes:
        parts.append(Subset(dataset, permutation[start : start + size].tolist()))
        start += size
    return parts


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, recursively.

    Tensors, NumPy arrays and NumPy scalars are stacked along a new first axis (keeping
    their dtype); Python numbers become a tensor with ``ac.tensor``'s dtypes (bool, int64,
    float32); strings stay a list; tuples, lists and dicts are collated element by element
    (``[(x, y), ...]`` becomes ``(xs, ys)``).

    Args:
        batch: The samples.

    Returns:
        The batch, with the samples' structure.
    """
    elem = batch[0]
    if isinstance(elem, Tensor | np.ndarray | np.generic):
        shapes = {tuple(np.shape(b.data if isinstance(b, Tensor) else b)) for b in batch}
        if len(shapes) != 1:
            raise ValueError(
                f"default_collate: samples must have one shape to be stacked, got {sorted(shapes)}"
            )
        if isinstance(elem, Tensor):
            return stack([b if isinstance(b, Tensor) else Tensor(b) for b in batch])
        return Tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool | numbers.Number):
        return Tensor(list(batch))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple | list):
        if any(len(sample) != len(elem) for sample in batch):
            raise ValueError("default_collate: each sample in a batch must have the same length")
        columns = [default_collate(list(column)) for column in zip(*batch, strict=True)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
            return type(elem)(*columns)
        return tuple(columns) if isinstance(elem, tuple) else columns
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(elem).__name__}; "
        "pass a collate_fn to the DataLoader"
    )


def _to_device(batch: Any, device: Any) -> Any:
    if isinstance(batch, Tensor):
        return batch.to(device=device)
    if isinstance(batch, Mapping):
        return {key: _to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_to_device(value, device) for value in batch))
    if isinstance(batch, tuple | list):
        return type(batch)(_to_device(value, device) for value in batch)
    return batch


class Sampler:
    """Base class of samplers: iterables of dataset indices, with a length."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} does not implement __iter__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement __len__")


class SequentialSampler(Sampler):
    """The indices ``0 .. len(data_source) - 1`` in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices into ``data_source``: a new permutation each pass, or with
    ``replacement`` ``num_samples`` independent draws.

    Args:
        data_source: The dataset.
        replacement: Draw with replacement.
        num_samples: Indices per pass (``len(data_source)`` if None).
        generator: An ``ac.Generator``, a NumPy generator, an int seed, or None (``ac``'s
            global generator).
    """

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: GeneratorLike = None,
    ) -> None:
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = num_samples
        self._generator = _keep(generator)
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples < 1):
            raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        rng, n = _rng(self._generator), len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        passes = -(-self.num_samples // max(n, 1))
        order = [i for _ in range(passes) for i in rng.permutation(n).tolist()]
        return iter(order[: self.num_samples])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a new random order each pass.

    Args:
        indices: The dataset indices to draw from.
        generator: An ``ac.Generator``, a NumPy generator, an int seed, or None (``ac``'s
            global generator).
    """

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None) -> None:
        self.indices = list(indices)
        self._generator = _keep(generator)

    def __iter__(self) -> Iterator[int]:
        order = _rng(self._generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (one per
    sample), e.g. to balance classes.

    Args:
        weights: A non-negative weight per dataset index (a sequence, array or tensor).
        num_samples: Indices per pass.
        replacement: Draw with replacement (without, no index appears twice in a pass).
        generator: An ``ac.Generator``, a NumPy generator, an int seed, or None (``ac``'s
            global generator).
    """

    def __init__(
        self,
        weights: Any,
        num_samples: int,
        replacement: bool = True,
        generator: GeneratorLike = None,
    ) -> None:
        values = weights.numpy() if isinstance(weights, Tensor) else np.asarray(weights)
        self.weights = np.asarray(values, dtype=np.float64).reshape(-1)
        if (self.weights < 0).any() or not self.weights.sum() > 0:
            raise ValueError("WeightedRandomSampler needs non-negative weights with a positive sum")
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
        if not replacement and num_samples > int((self.weights > 0).sum()):
            raise ValueError(
                f"cannot draw {num_samples} samples without replacement from "
                f"{int((self.weights > 0).sum())} of positive weight"
            )
        self.num_samples, self.replacement = num_samples, replacement
        self._generator = _keep(generator)

    def __iter__(self) -> Iterator[int]:
        draws = _rng(self._generator).choice(
            len(self.weights),
            self.num_samples,
            replace=self.replacement,
            p=self.weights / self.weights.sum(),
        )
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


# --------------------------------------------------------------- iterable datasets
class IterableDataset(Dataset):
    """Base class of iterable-style datasets: define ``__iter__`` (a stream of samples).

    ``DataLoader`` iterates such a dataset instead of indexing it (no sampler, no
    shuffling): it takes ``batch_size`` samples at a time. With ``num_workers > 0`` each
    worker thread iterates the dataset on its own, so a dataset that does not split its
    stream would yield every sample once per worker; split it in ``__iter__`` with
    ``get_worker_info()`` as in PyTorch. Datasets can be chained with ``+``.

    Example:
        >>> class Range(nn.IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...
        ...     def __iter__(self):
        ...         info = nn.get_worker_info()
        ...         if info is None:  # loading in the caller's thread
        ...             return iter(range(self.n))
        ...         return iter(range(info.id, self.n, info.num_workers))
        >>> sorted(int(x) for batch in nn.DataLoader(Range(10), 4, num_workers=2) for x in batch)
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """

    # NOTE: None (not Dataset's raising method): len() raises TypeError and the dataset is
    # not Sized unless a subclass defines __len__, as with PyTorch's IterableDataset.
    __len__: Any = None

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])  # type: ignore[list-item]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another (chained lazily, as they are iterated).

    Args:
        datasets: The iterable datasets.
    """

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError(
                    f"ChainDataset only supports IterableDataset, got {type(dataset).__name__}"
                )
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError(
                    f"ChainDataset only supports IterableDataset, got {type(dataset).__name__}"
                )
            total += len(dataset)
        return total


class StackDataset(Dataset):
    """Datasets of one length side by side: sample ``i`` holds sample ``i`` of each.

    Pass the datasets positionally for tuple samples, or by keyword for dict samples.

    Example:
        >>> images, labels = nn.TensorDataset(ac.zeros(5, 3)), list(range(5))
        >>> nn.StackDataset(image=images, label=labels)[2]["label"]
        2
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset takes datasets either positionally (tuple samples) or by "
                "keyword (dict samples), not both"
            )
        if not args and not kwargs:
            raise ValueError("StackDataset needs at least one dataset")
        self.datasets: tuple[Any, ...] | dict[str, Any] = args or kwargs
        parts = args or tuple(kwargs.values())
        lengths = [len(dataset) for dataset in parts]
        if len(set(lengths)) != 1:
            raise ValueError(f"size mismatch between datasets: lengths {lengths}")
        self._length = lengths[0]

    def __getitem__(self, index: int) -> tuple[Any, ...] | dict[str, Any]:
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self) -> int:
        return self._length


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a ``DataLoader`` worker thread.

    Attributes:
        id: The worker's number, ``0 .. num_workers - 1``.
        num_workers: How many workers the loader runs.
        seed: A seed for this worker (the loader's base seed, new for every pass, plus ``id``).
        dataset: The dataset (the same object in every worker: workers are threads).
    """

    __slots__ = ("dataset", "id", "num_workers", "seed")
    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:
        # NOTE: read-only afterwards, as in PyTorch (see __setattr__).
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "num_workers", num_workers)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "dataset", dataset)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        return (
            f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
            f"dataset={self.dataset!r})"
        )


_worker_local = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of the current ``DataLoader`` worker, or None outside of one.

    Inside the ``__iter__`` of an ``IterableDataset`` loaded with ``num_workers > 0`` it
    tells the worker's ``id`` and ``num_workers``, so the dataset can give each worker its
    share of the stream (as in PyTorch). The workers are threads, not processes: they
    share the dataset object, so state set on it in one worker is seen by all. Map-style
    datasets are fetched by a plain thread pool, where this returns None.
    """
    return getattr(_worker_local, "info", None)


class _WorkerDone:
    """What a worker puts on its queue when its stream ends (or fails, with ``error``)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


# --------------------------------------------------------------- batch samplers
class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: An iterable of indices (a ``Sampler``, a list, ...).
        batch_size: Indices per batch.
        drop_last: Skip the last batch if it is smaller than ``batch_size``.

    Example:
        >>> list(nn.BatchSampler(nn.SequentialSampler(range(5)), 2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise ValueError(f"batch_size should be a positive integer value, got {batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, got {batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, got {drop_last!r}")
        self.sampler: Iterable[int] = sampler
        self.batch_size: int = int(batch_size)
        self.drop_last: bool = drop_last

    def __iter__(self) -> Iterator[list[int]]:  # type: ignore[override]
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """The share of the dataset indices for one of ``num_replicas`` processes (``rank``).

    Every rank gets ``num_samples`` indices: the (shuffled) index list is padded by
    repeating its start until it divides evenly (or cut, with ``drop_last``) and then
    dealt out, rank ``r`` taking positions ``r, r + num_replicas, ...``, as in PyTorch.
    Without ``shuffle`` the lists equal PyTorch's; with it, the permutation comes from
    ``numpy.random.default_rng(seed + epoch)``, so it is the same on every rank but not
    PyTorch's. Call ``set_epoch`` before each epoch for a new order.

    Args:
        dataset: The dataset (its length is used).
        num_replicas: The number of processes (1 if None: there is no process group here).
        rank: This process's number in ``0 .. num_replicas - 1`` (0 if None).
        shuffle: Shuffle the indices (the same way on all ranks).
        seed: The shuffling seed; must be the same on all ranks.
        drop_last: Drop the tail instead of padding so that every rank gets as many indices.
    """

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        num_replicas = 1 if num_replicas is None else num_replicas
        rank = 0 if rank is None else rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, numbers.Integral):
            raise TypeError(f"num_replicas must be an integer, got {num_replicas!r}")
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be at least 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset: Any = dataset
        self.num_replicas: int = int(num_replicas)
        self.rank: int = int(rank)
        self.shuffle: bool = shuffle
        self.seed: int = int(seed)
        self.drop_last: bool = drop_last
        self.epoch: int = 0
        n = len(dataset)
        self.num_samples: int
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size: int = self.num_samples * self.num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if not self.drop_last and self.total_size > n:
            indices = np.resize(indices, self.total_size)  # NOTE: repeats from the start
        indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch that (with ``seed``) decides the order when ``shuffle``."""
        self.epoch = int(epoch)


def default_convert(data: Any) -> Any:
    """Turn the NumPy arrays and scalars in a sample into tensors, recursively, without
    batching (PyTorch's ``default_convert``).

    Tensors stay as they are, string and object arrays too; dicts and namedtuples keep
    their type, other tuples become lists (as in PyTorch), other sequences keep their type
    where it can be rebuilt; anything else is returned unchanged.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSUV" else Tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, np.str_ | np.bytes_):
        return Tensor(data)
    if isinstance(data, Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            return type(data)(converted)  # type: ignore[call-arg]
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        items = [default_convert(d) for d in data]
        try:
            return type(data)(items)  # type: ignore[call-arg]
        except TypeError:
            return items
    return data


class DataLoader:
    """Iterate over a dataset in batches.

    Each pass (``for batch in loader``) visits every sample once: in order, or in a new
    random order if ``shuffle``. An ``IterableDataset`` is iterated instead of indexed,
    ``batch_size`` samples at a time (no sampler or shuffling); with ``num_workers > 0``
    each worker thread iterates it (see ``get_worker_info``), each worker's batches are
    made of its own samples (with ``drop_last``, each drops its own short last batch) and
    they come round robin, worker 0 first, skipping workers whose stream has ended, as
    in PyTorch.

    Args:
        dataset: Anything with ``__getitem__`` and ``__len__``, or an ``IterableDataset``.
        batch_size: Samples per batch; None turns batching off, as in PyTorch: every
            sample comes alone, through ``collate_fn`` (``default_convert`` if None).
        shuffle: Draw a new random order for every pass.
        drop_last: Skip the last batch if it is smaller than ``batch_size``.
        collate_fn: Merges a list of samples into a batch (``default_collate`` if None).
        generator: What shuffling draws from: an ``ac.Generator``, a NumPy generator, an int
            seed (a generator made once, so successive passes differ but the sequence is
            reproducible) or None, ``ac``'s global generator (reproducible with
            ``ac.manual_seed``).
        device: Move every tensor of each batch to this device.
        sampler: Where the indices come from instead (an iterable of indices such as a
            ``WeightedRandomSampler``); excludes ``shuffle``.
        num_workers: Threads that fetch and collate upcoming batches while the caller
            works on the current one (0: in the caller's thread). Threads, not processes:
            they overlap file reads and NumPy work that releases the GIL; batches come in
            order either way.
        prefetch_factor: Batches each worker may prepare ahead (with ``num_workers > 0``;
            None: 2).
        pin_memory: Accepted for PyTorch compatibility; has no effect (``device`` moves
            batches).
        batch_sampler: Where whole batches of indices come from instead (an iterable of
            index lists such as a ``BatchSampler``); excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``, and sets ``batch_size`` to None, as in PyTorch.
        timeout: Seconds to wait for a batch from the workers (0: no limit); a
            ``RuntimeError`` when it runs out.
        worker_init_fn: Called with each worker's id (0 to ``num_workers - 1``) in that
            worker thread before it fetches anything, on every pass.
        persistent_workers: Accepted for PyTorch compatibility (needs ``num_workers > 0``);
            worker threads are cheap and start anew on every pass.
        multiprocessing_context: Accepted for PyTorch compatibility; workers are threads.
        pin_memory_device: Accepted for PyTorch compatibility; has no effect.
        in_order: Accepted for PyTorch compatibility; batches always come in order.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: GeneratorLike = None,
        device: Any = None,
        sampler: Iterable[int] | None = None,
        num_workers: int = 0,
        prefetch_factor: int | None = None,
        pin_memory: bool = False,
        batch_sampler: Iterable[Sequence[int]] | None = None,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        persistent_workers: bool = False,
        multiprocessing_context: Any = None,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if batch_sampler is not None and (
            batch_size != 1 or shuffle or sampler is not None or drop_last
        ):
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                "sampler, and drop_last"
            )
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError(
                f"DataLoader with IterableDataset: expected no shuffle, sampler or "
                f"batch_sampler, got shuffle={shuffle}, sampler={sampler!r}, "
                f"batch_sampler={batch_sampler!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be an integer >= 0, got {num_workers!r}")
        if prefetch_factor is None:
            prefetch_factor = 2
        if not isinstance(prefetch_factor, int) or prefetch_factor < 1:
            raise ValueError(f"prefetch_factor must be a positive integer, got {prefetch_factor!r}")
        if batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None turns batching off and excludes drop_last=True")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        elif batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size}")
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0 seconds, got {timeout!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers=True needs num_workers > 0")
        if not iterable and (
            not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__")
        ):
            raise TypeError(
                f"DataLoader needs a dataset with __getitem__ and __len__, "
                f"got {type(dataset).__name__}"
            )
        self.dataset: Any = dataset
        self.batch_size: int | None = (
            None if batch_sampler is not None or batch_size is None else int(batch_size)
        )
        # NOTE: without batching (batch_size=None) every index or sample comes alone
        self._batching: bool = batch_sampler is not None or batch_size is not None
        self.shuffle: bool = shuffle
        self.drop_last: bool = drop_last
        self.collate_fn: Callable[[list[Any]], Any] | None = collate_fn
        self.device: Any = device
        self.sampler: Iterable[int] | None = sampler
        self.num_workers: int = num_workers
        self.prefetch_factor: int = prefetch_factor
        self.pin_memory: bool = pin_memory
        self.batch_sampler: Iterable[Sequence[int]] | None = batch_sampler
        self.timeout: float = timeout
        self.worker_init_fn: Callable[[int], None] | None = worker_init_fn
        self.persistent_workers: bool = persistent_workers
        self._generator: Generator | np.random.Generator | None = _keep(generator)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            if not isinstance(self.batch_sampler, Sized):
                raise TypeError("this DataLoader's batch_sampler has no length, so neither has it")
            return len(self.batch_sampler)
        if isinstance(self.dataset, IterableDataset) and not isinstance(self.dataset, Sized):
            raise TypeError("this DataLoader's IterableDataset has no length, so neither has it")
        if self.sampler is not None and not isinstance(self.sampler, Sized):
            raise TypeError("this DataLoader's sampler has no length, so neither has the loader")
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if not self._batching:
            return n
        batch_size = cast(int, self.batch_size)  # NOTE: None only with a batch_sampler
        return n // batch_size if self.drop_last else math.ceil(n / batch_size)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        # NOTE: drawn with or without workers (as PyTorch does), so that both shuffle alike
        base_seed = int(_rng(self._generator).integers(0, 2**62))
        if self.num_workers == 0:
            for indices in self._index_batches():
                yield self._fetch(indices)
            return
        # NOTE: up to num_workers * prefetch_factor batches are fetched ahead, in order. Each
        # batch draws from a generator seeded for it (base seed + its number), as threads
        # take batches in no fixed order.
        worker_ids = itertools.count()
        with ThreadPoolExecutor(
            self.num_workers,
            thread_name_prefix="DataLoader",
            initializer=self._init_worker,
            initargs=(worker_ids,),
        ) as pool:
            pending: deque[Future[Any]] = deque()
            for number, indices in enumerate(self._index_batches()):
                pending.append(pool.submit(self._fetch_seeded, indices, base_seed + number))
                if len(pending) >= self.num_workers * self.prefetch_factor:
                    yield self._result(pending.popleft())
            while pending:
                yield self._result(pending.popleft())

    def _init_worker(self, worker_ids: Iterator[int]) -> None:
        if self.worker_init_fn is not None:
            self.worker_init_fn(next(worker_ids))  # NOTE: next() on a count is atomic

    def _result(self, future: Future[Any]) -> Any:
        try:
            return future.result(timeout=self.timeout or None)
        except FutureTimeoutError:
            raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None

    def _index_batches(self) -> Iterator[Any]:
        """Arrays of indices, one per batch (single indices without batching)."""
        if self.batch_sampler is not None:
            for batch in self.batch_sampler:
                yield np.asarray(batch, dtype=np.int64).reshape(-1)
            return
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
        elif self.shuffle:
            order = _rng(self._generator).permutation(len(self.dataset))
        else:
            order = np.arange(len(self.dataset))
        if not self._batching:
            yield from order.tolist()
            return
        batch_size = cast(int, self.batch_size)
        end = len(order) - len(order) % batch_size if self.drop_last else len(order)
        for start in range(0, end, batch_size):
            yield order[start : start + batch_size]

    def _fetch_seeded(self, indices: Any, seed: int) -> Any:
        with drawing_from(np.random.default_rng(seed)):
            return self._fetch(indices)

    def _fetch(self, indices: Any) -> Any:
        if not self._batching:
            sample = (self.collate_fn or default_convert)(self.dataset[indices])
            return sample if self.device is None else _to_device(sample, self.device)
        batch = NotImplemented
        get_batch = getattr(self.dataset, "_get_batch", None)
        if self.collate_fn is None and get_batch is not None:
            batch = get_batch(indices)
        if batch is NotImplemented:
            samples = [self.dataset[int(i)] for i in indices]
            batch = (self.collate_fn or default_collate)(samples)
        return batch if self.device is None else _to_device(batch, self.device)

    def _iter_stream(self) -> Iterator[Any]:
        """The batches of an ``IterableDataset``, in the caller's thread or from workers."""
        if self.num_workers == 0:
            yield from self._stream_batches(iter(self.dataset))
            return
        base_seed = int(_rng(self._generator).integers(0, 2**63 - self.num_workers))
        stop = threading.Event()
        queues: list[queue.Queue[Any]] = [
            queue.Queue(self.prefetch_factor) for _ in range(self.num_workers)
        ]
        threads = [
            threading.Thread(
                target=self._stream_worker,
                args=(WorkerInfo(i, self.num_workers, base_seed + i, self.dataset), out, stop),
                name=f"DataLoader-worker-{i}",
                daemon=True,
            )
            for i, out in enumerate(queues)
        ]
        for thread in threads:
            thread.start()
        try:
            active = list(range(self.num_workers))
            while active:
                for worker in list(active):
                    try:
                        item = queues[worker].get(timeout=self.timeout or None)
                    except queue.Empty:
                        raise RuntimeError(
                            f"DataLoader timed out after {self.timeout} seconds"
                        ) from None
                    if isinstance(item, _WorkerDone):
                        if item.error is not None:
                            raise item.error
                        active.remove(worker)
                    else:
                        yield item
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def _stream_worker(
        self, info: WorkerInfo, out: queue.Queue[Any], stop: threading.Event
    ) -> None:
        """A worker thread: batches from its own iterator of the dataset onto ``out``."""
        _worker_local.info = info
        done = _WorkerDone()
        try:
            if self.worker_init_fn is not None:
                self.worker_init_fn(info.id)
            with drawing_from(np.random.default_rng(info.seed)):
                for batch in self._stream_batches(iter(self.dataset)):
                    if not _put(out, batch, stop):
                        return
        except BaseException as error:
            done = _WorkerDone(error)
        _put(out, done, stop)

    def _stream_batches(self, iterator: Iterator[Any]) -> Iterator[Any]:
        if not self._batching:
            convert = self.collate_fn or default_convert
            for sample in iterator:
                sample = convert(sample)
                yield sample if self.device is None else _to_device(sample, self.device)
            return
        collate = self.collate_fn or default_collate
        batch_size = cast(int, self.batch_size)  # NOTE: iterable datasets take no batch_sampler
        while True:
            samples = list(itertools.islice(iterator, batch_size))
            if not samples or (self.drop_last and len(samples) < batch_size):
                return
            batch = collate(samples)
            yield batch if self.device is None else _to_device(batch, self.device)


def _put(out: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put ``item`` on ``out``, waiting for room unless ``stop`` is set (then False)."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


# Seed spellings, kept as aliases of the PyTorch names.
Dataloader = DataLoader
