"""Padding layers against PyTorch: reprs, outputs and input gradients (float32)."""

import numpy as np
import pytest
from parity_helpers import compare_layers

from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


PADDINGS = {1: (3, 1), 2: (1, 3, 2, 0), 3: (1, 2, 0, 1, 2, 1)}


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kind", ["Zero", "Constant", "Reflection", "Replication", "Circular"])
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers_match_pytorch(kind: str, dims: int, batched: bool, rng) -> None:
    name = f"{kind}Pad{dims}d"
    args = (PADDINGS[dims], -0.5) if kind == "Constant" else (PADDINGS[dims],)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    shape = (2, 3) + (4,) * dims if batched else (3,) + (4,) * dims
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


@pytest.mark.parametrize("kind", ["Zero", "Reflection", "Circular"])
def test_int_padding_matches_pytorch(kind: str, rng) -> None:
    ours, theirs = getattr(nn, f"{kind}Pad2d")(2), getattr(torch.nn, f"{kind}Pad2d")(2)
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal((1, 2, 3, 5)), rng)
