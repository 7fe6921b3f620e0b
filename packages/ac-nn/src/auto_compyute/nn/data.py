"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``random_split``, ``DataLoader``, ...

A dataset is anything with ``__getitem__(i)`` and ``__len__``. ``DataLoader`` draws
indices (in order, shuffled, or from a sampler such as ``WeightedRandomSampler``), fetches
the samples and merges them into batches with a collate function.

Example:
    >>> ac.manual_seed(0)
    >>> data = nn.TensorDataset(ac.randn(100, 4), ac.randint(0, 3, (100,)))
    >>> train, val = nn.random_split(data, [0.8, 0.2])
    >>> loader = nn.DataLoader(train, batch_size=32, shuffle=True)
    >>> for x, y in loader:
    ...     pass  # x: (32, 4) float32, y: (32,) int64; the last batch holds 16
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from auto_compyute._core.functions import stack
from auto_compyute._core.random import Generator, numpy_generator
from auto_compyute._core.tensor import Tensor

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "Dataloader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
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


class DataLoader:
    """Iterate over a dataset in batches.

    Each pass (``for batch in loader``) visits every sample once: in order, or in a new
    random order if ``shuffle``.

    Args:
        dataset: Anything with ``__getitem__`` and ``__len__``.
        batch_size: Samples per batch.
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
        prefetch_factor: Batches each worker may prepare ahead (with ``num_workers > 0``).
        pin_memory: Accepted for PyTorch compatibility; has no effect (``device`` moves
            batches).
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
        prefetch_factor: int = 2,
        pin_memory: bool = False,
    ) -> None:
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be an integer >= 0, got {num_workers!r}")
        if not isinstance(prefetch_factor, int) or prefetch_factor < 1:
            raise ValueError(f"prefetch_factor must be a positive integer, got {prefetch_factor!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader needs a dataset with __getitem__ and __len__, "
                f"got {type(dataset).__name__}"
            )
        self.dataset: Any = dataset
        self.batch_size: int = int(batch_size)
        self.shuffle: bool = shuffle
        self.drop_last: bool = drop_last
        self.collate_fn: Callable[[list[Any]], Any] | None = collate_fn
        self.device: Any = device
        self.sampler: Iterable[int] | None = sampler
        self.num_workers: int = num_workers
        self.prefetch_factor: int = prefetch_factor
        self.pin_memory: bool = pin_memory
        self._generator: Generator | np.random.Generator | None = _keep(generator)

    def __len__(self) -> int:
        if self.sampler is not None and not isinstance(self.sampler, Sized):
            raise TypeError("this DataLoader's sampler has no length, so neither has the loader")
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            for indices in self._index_batches():
                yield self._fetch(indices)
            return
        # NOTE: up to num_workers * prefetch_factor batches are fetched ahead, in order.
        with ThreadPoolExecutor(self.num_workers, thread_name_prefix="DataLoader") as pool:
            pending: deque[Future[Any]] = deque()
            for indices in self._index_batches():
                pending.append(pool.submit(self._fetch, indices))
                if len(pending) >= self.num_workers * self.prefetch_factor:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _index_batches(self) -> Iterator[np.ndarray]:
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
        elif self.shuffle:
            order = _rng(self._generator).permutation(len(self.dataset))
        else:
            order = np.arange(len(self.dataset))
        end = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, end, self.batch_size):
            yield order[start : start + self.batch_size]

    def _fetch(self, indices: np.ndarray) -> Any:
        batch = NotImplemented
        get_batch = getattr(self.dataset, "_get_batch", None)
        if self.collate_fn is None and get_batch is not None:
            batch = get_batch(indices)
        if batch is NotImplemented:
            samples = [self.dataset[int(i)] for i in indices]
            batch = (self.collate_fn or default_collate)(samples)
        return batch if self.device is None else _to_device(batch, self.device)


# Seed spellings, kept as aliases of the PyTorch names.
Dataloader = DataLoader
