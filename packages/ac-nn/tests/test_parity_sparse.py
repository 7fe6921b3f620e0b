"""Embedding and one_hot against PyTorch."""

import numpy as np
import pytest
from parity_helpers import GRAD_TOL, compare, load_from

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_function(padding_idx, rng: np.random.Generator) -> None:
    indices = rng.integers(0, 7, (3, 5))
    indices[0, :3] = 2  # repeated rows accumulate
    compare(
        lambda i, w: F.embedding(i, w, padding_idx),
        lambda i, w: TF.embedding(i, w, padding_idx),
        [indices, rng.standard_normal((7, 4))],
        rng,
    )


def test_embedding_layer(rng: np.random.Generator) -> None:
    ours, theirs = nn.Embedding(9, 4, padding_idx=0), torch.nn.Embedding(9, 4, padding_idx=0)
    load_from(ours, theirs)
    indices = rng.integers(0, 9, (2, 6))
    indices[0, 0] = 0
    out = ours(ac.tensor(indices))
    expected = theirs(torch.tensor(indices))
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    cotangent = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **GRAD_TOL)
    assert repr(ours) == repr(theirs)


def test_one_hot(rng: np.random.Generator) -> None:
    labels = rng.integers(0, 5, (3, 4))
    np.testing.assert_array_equal(
        F.one_hot(ac.tensor(labels)).numpy(), TF.one_hot(torch.tensor(labels)).numpy()
    )
    np.testing.assert_array_equal(
        F.one_hot(ac.tensor(labels), 7).numpy(), TF.one_hot(torch.tensor(labels), 7).numpy()
    )


@pytest.mark.parametrize(
    "options",
    [
        {"max_norm": 1.0},
        {"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 2},
        {"scale_grad_by_freq": True},
        {"scale_grad_by_freq": True, "padding_idx": 0},
        {"sparse": True},
    ],
)
def test_embedding_options_match_torch(options):
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((6, 4)).astype(np.float32)
    indices = np.array([[1, 2, 1], [5, 0, 1]])
    ours = nn.Embedding.from_pretrained(ac.tensor(weights.copy()), freeze=False, **options)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weights), freeze=False, **options)
    assert repr(ours) == repr(theirs)
    out_a, out_t = ours(ac.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_allclose(out_a.numpy(), out_t.detach().numpy(), rtol=1e-6)
    cotangent = rng.standard_normal(out_t.shape).astype(np.float32)
    out_a.backward(ac.tensor(cotangent))
    out_t.backward(torch.tensor(cotangent))
    grad_t = theirs.weight.grad.to_dense() if theirs.weight.grad.is_sparse else theirs.weight.grad
    np.testing.assert_allclose(ours.weight.grad, grad_t.numpy(), rtol=1e-6, atol=1e-7)
    # max_norm renormalizes the looked-up rows of the weight itself, as PyTorch does
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
