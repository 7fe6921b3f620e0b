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
        {"max_norm": 1.0, "norm_type": float("inf")},
        {"max_norm": 1.0, "norm_type": 0.0},
        {"max_norm": 1.0, "norm_type": float("-inf")},
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


BAG_INDICES = np.array([1, 4, 1, 0, 5, 5, 2, 4, 3, 2])
BAG_OFFSETS = np.array([0, 3, 3, 6])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 5, -2])
@pytest.mark.parametrize("layout", ["offsets", "last_offset", "2d"])
def test_embedding_bag_function(mode, padding_idx, layout, rng: np.random.Generator) -> None:
    table = rng.standard_normal((6, 4))
    if layout == "2d":
        indices, offsets, last = BAG_INDICES.reshape(2, 5), None, False
    elif layout == "offsets":
        indices, offsets, last = BAG_INDICES, BAG_OFFSETS, False
    else:  # NOTE: the last offset at the end: PyTorch's backward would count later indices
        indices, offsets, last = BAG_INDICES, np.array([*BAG_OFFSETS, len(BAG_INDICES)]), True

    arrays = [table, indices] + ([offsets] if offsets is not None else [np.zeros(0, int)])
    if mode == "sum":
        arrays.append(rng.standard_normal(indices.shape))
    compare(
        lambda t, i, o, *w: F.embedding_bag(
            i,
            t,
            None if offsets is None else o,
            mode=mode,
            per_sample_weights=w[0] if w else None,
            include_last_offset=last,
            padding_idx=padding_idx,
        ),
        lambda t, i, o, *w: TF.embedding_bag(
            i,
            t,
            None if offsets is None else o,
            mode=mode,
            per_sample_weights=w[0] if w else None,
            include_last_offset=last,
            padding_idx=padding_idx,
        ),
        arrays,
        rng,
    )


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "mean"},
        {"mode": "sum", "padding_idx": 0},
        {"mode": "max", "max_norm": 1.0},
        {"mode": "sum", "max_norm": 0.5, "norm_type": 1.0},
        {"mode": "sum", "max_norm": 0.5, "norm_type": float("inf")},
    ],
)
def test_embedding_bag_layer(options, rng: np.random.Generator) -> None:
    ours, theirs = nn.EmbeddingBag(8, 3, **options), torch.nn.EmbeddingBag(8, 3, **options)
    assert repr(ours) == repr(theirs)
    load_from(ours, theirs)
    indices, offsets = np.array([1, 0, 7, 7, 3, 0, 2]), np.array([0, 2, 2, 5])
    out = ours(ac.tensor(indices), ac.tensor(offsets))
    expected = theirs(torch.tensor(indices), torch.tensor(offsets))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-7)
    cotangent = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **GRAD_TOL)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)


def test_embedding_bag_from_pretrained(rng: np.random.Generator) -> None:
    table = rng.standard_normal((5, 2)).astype(np.float32)
    ours = nn.EmbeddingBag.from_pretrained(ac.tensor(table), mode="sum", padding_idx=1)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum", padding_idx=1)
    assert repr(ours) == repr(theirs)
    assert ours.weight.req_grad == theirs.weight.requires_grad
    indices = np.array([[0, 1, 4], [1, 1, 2]])
    np.testing.assert_allclose(
        ours(ac.tensor(indices)).numpy(), theirs(torch.tensor(indices)).numpy(), rtol=1e-6
    )
