"""affine_grid and grid_sample against PyTorch (float32): outputs and every gradient."""

import itertools

import numpy as np
import pytest
from parity_helpers import compare

import auto_compyute.nn.functional as F

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.mark.parametrize(
    ("size", "align"), itertools.product([(2, 3, 4, 5), (2, 1, 3, 4, 2)], [False, True])
)
def test_affine_grid(size: tuple[int, ...], align: bool, rng: np.random.Generator) -> None:
    dims = len(size) - 2
    theta = rng.standard_normal((size[0], dims, dims + 1))
    compare(
        lambda t: F.affine_grid(t, size, align_corners=align),
        lambda t: TF.affine_grid(t, size, align_corners=align),
        [theta],
        rng,
    )


@pytest.mark.parametrize(
    ("mode", "padding_mode", "align"),
    itertools.product(
        ["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"], [False, True]
    ),
)
def test_grid_sample_2d(mode: str, padding_mode: str, align: bool, rng) -> None:
    x, grid = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.3, 1.3, (2, 4, 7, 2))
    compare(
        lambda u, g: F.grid_sample(u, g, mode, padding_mode, align),
        lambda u, g: TF.grid_sample(u, g, mode, padding_mode, align),
        [x, grid],
        rng,
    )


@pytest.mark.parametrize(
    ("mode", "padding_mode", "align"),
    itertools.product(["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True]),
)
def test_grid_sample_3d(mode: str, padding_mode: str, align: bool, rng) -> None:
    x, grid = rng.standard_normal((2, 2, 3, 4, 5)), rng.uniform(-1.3, 1.3, (2, 2, 3, 4, 3))
    compare(
        lambda u, g: F.grid_sample(u, g, mode, padding_mode, align),
        lambda u, g: TF.grid_sample(u, g, mode, padding_mode, align),
        [x, grid],
        rng,
    )


def test_spatial_transformer_gradient_to_theta(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 6, 6))
    theta = np.tile(np.eye(2, 3), (2, 1, 1)) + 0.2 * rng.standard_normal((2, 2, 3))
    compare(
        lambda u, t: F.grid_sample(u, F.affine_grid(t, (2, 3, 4, 5), False), align_corners=False),
        lambda u, t: TF.grid_sample(u, TF.affine_grid(t, (2, 3, 4, 5), False), align_corners=False),
        [x, theta],
        rng,
    )
