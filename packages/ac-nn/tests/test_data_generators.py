"""Samplers, random_split, DataLoader and nn.init drawing from an ``ac.Generator``."""

from collections.abc import Callable

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn


@pytest.fixture(autouse=True)
def _seed() -> None:
    ac.manual_seed(0)


@pytest.fixture
def dataset() -> nn.TensorDataset:
    return nn.TensorDataset(ac.arange(12))


def _orders(make: Callable[[object], object]) -> list[list[int]]:
    """Two passes of what ``make(generator)`` yields, as lists of indices."""
    source = make(ac.Generator().manual_seed(4))
    passes = []
    for _ in range(2):
        if isinstance(source, nn.DataLoader):
            passes.append([int(i) for (batch,) in source for i in batch.numpy()])
        else:
            passes.append(list(source))
    return passes


MAKERS = {
    "RandomSampler": lambda d: lambda g: nn.RandomSampler(d, generator=g),
    "RandomSampler_replacement": lambda d: (
        lambda g: nn.RandomSampler(d, replacement=True, num_samples=20, generator=g)
    ),
    "SubsetRandomSampler": lambda d: lambda g: nn.SubsetRandomSampler([1, 3, 5, 7, 9], g),
    "WeightedRandomSampler": lambda d: (
        lambda g: nn.WeightedRandomSampler([0.1, 0.5, 0.2, 0.2], 10, generator=g)
    ),
    "DataLoader": lambda d: lambda g: nn.DataLoader(d, batch_size=5, shuffle=True, generator=g),
}


@pytest.mark.parametrize("name", MAKERS)
def test_an_ac_generator_makes_orders_reproducible(name: str, dataset) -> None:
    make = MAKERS[name](dataset)
    first = _orders(make)
    ac.manual_seed(123)  # the global seed plays no part
    assert _orders(make) == first
    assert first[0] != first[1]  # the generator moves on between passes


def test_reseeding_the_generator_after_construction_takes_effect(dataset) -> None:
    g = ac.Generator().manual_seed(1)
    sampler = nn.RandomSampler(dataset, generator=g)
    first = list(sampler)
    g.manual_seed(1)
    assert list(sampler) == first


def test_random_split_with_an_ac_generator(dataset) -> None:
    def indices(seed: int) -> list[list[int]]:
        parts = nn.random_split(dataset, [0.5, 0.5], generator=ac.Generator().manual_seed(seed))
        return [list(part.indices) for part in parts]

    assert indices(2) == indices(2)
    assert sorted(indices(2)[0] + indices(2)[1]) == list(range(12))
    ac.manual_seed(2)
    expected = ac.rand(3).numpy()
    ac.manual_seed(2)
    indices(5)
    np.testing.assert_array_equal(ac.rand(3).numpy(), expected)  # global generator untouched


def test_numpy_generators_and_seeds_still_work(dataset) -> None:
    by_seed = list(nn.RandomSampler(dataset, generator=3))
    by_numpy = list(nn.RandomSampler(dataset, generator=np.random.default_rng(3)))
    assert by_seed == by_numpy
    with pytest.raises(TypeError, match=r"ac\.Generator"):
        nn.RandomSampler(dataset, generator="seed")


def test_init_takes_an_ac_generator() -> None:
    first = nn.init.normal_(ac.empty(5), generator=ac.Generator().manual_seed(0)).numpy()
    second = nn.init.normal_(ac.empty(5), generator=ac.Generator().manual_seed(0)).numpy()
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(
        first, np.random.default_rng(0).normal(0.0, 1.0, 5).astype(np.float32)
    )
