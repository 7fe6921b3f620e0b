"""Scaled dot-product attention against PyTorch: outputs and the gradients of q, k, v and masks."""

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


def _qkv(rng, batch=(2, 3), length=4, source=6, width=8, value_width=5):
    return [
        rng.standard_normal((*batch, length, width)),
        rng.standard_normal((*batch, source, width)),
        rng.standard_normal((*batch, source, value_width)),
    ]


def test_plain_and_scaled(rng: np.random.Generator) -> None:
    compare(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, _qkv(rng), rng)
    compare(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.25),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=0.25),
        _qkv(rng, batch=(5,)),
        rng,
    )


@pytest.mark.parametrize("square", [True, False])
def test_causal(square: bool, rng: np.random.Generator) -> None:
    arrays = _qkv(rng, source=4 if square else 7)
    compare(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
        arrays,
        rng,
    )


def test_bool_mask_with_a_fully_masked_row(rng: np.random.Generator) -> None:
    mask = rng.random((3, 4, 6)) > 0.5
    mask[:, :, 0] = True
    mask[1, 2] = False
    compare(
        F.scaled_dot_product_attention, TF.scaled_dot_product_attention, [*_qkv(rng), mask], rng
    )


def test_float_mask_gets_its_gradient(rng: np.random.Generator) -> None:
    mask = rng.standard_normal((1, 4, 6))
    compare(
        F.scaled_dot_product_attention,
        TF.scaled_dot_product_attention,
        [*_qkv(rng), mask],
        rng,
        differentiable=[0, 1, 2, 3],
    )


def test_grouped_query_attention(rng: np.random.Generator) -> None:
    q = rng.standard_normal((2, 6, 4, 8))
    k, v = rng.standard_normal((2, 2, 5, 8)), rng.standard_normal((2, 2, 5, 3))
    compare(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        [q, k, v],
        rng,
    )
