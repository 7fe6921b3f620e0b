"""CTC loss: brute-force alignments, finite-difference gradients, infinite losses, errors."""

import itertools
import math
import warnings

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

gradcheck = ac.autograd.gradcheck
REDUCTIONS = ["none", "mean", "sum"]


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _brute_force(lp: np.ndarray, target: list[int], blank: int) -> float:
    """-log of the summed probability of every path over ``lp`` (T, C) that collapses to
    ``target`` (merge repeats, then drop blanks)."""
    steps, classes = lp.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [k for k, _ in itertools.groupby(path) if k != blank]
        if collapsed == target:
            total += math.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return -math.log(total) if total else math.inf


def _concatenated(targets: np.ndarray, lengths: list[int]) -> np.ndarray:
    return np.concatenate([row[:n] for row, n in zip(targets, lengths, strict=True)])


# ------------------------------------------------------------------------ values
@pytest.mark.parametrize("blank", [0, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_brute_force_enumeration(
    blank: int, reduction: str, rng: np.random.Generator
) -> None:
    lp = _log_softmax(rng.standard_normal((5, 4, 3)))
    labels = [k for k in range(3) if k != blank]
    a, b = labels
    # a repeat (needs a blank between), two labels, one label, the empty target
    targets = np.array([[a, a], [a, b], [b, blank], [blank, blank]])
    input_lengths, target_lengths = [5, 4, 3, 5], [2, 2, 1, 0]
    losses = np.array(
        [
            _brute_force(lp[:il, n], list(targets[n, :tl]), blank)
            for n, (il, tl) in enumerate(zip(input_lengths, target_lengths, strict=True))
        ]
    )
    expected = {
        "none": losses,
        "sum": losses.sum(),
        "mean": (losses / np.maximum(target_lengths, 1)).mean(),
    }[reduction]
    # lengths as tensors, tuples, lists or NumPy arrays
    for tg, il in (
        (targets, ac.tensor(input_lengths)),
        (_concatenated(targets, target_lengths), np.array(input_lengths)),
    ):
        ours = F.ctc_loss(
            ac.tensor(lp),
            ac.tensor(tg),
            il,
            tuple(target_lengths),
            blank=blank,
            reduction=reduction,
        )
        assert ours.shape == np.shape(expected) and ours.dtype == np.float64
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)


def test_repeated_label_needs_a_blank_between(rng: np.random.Generator) -> None:
    lp = _log_softmax(rng.standard_normal((3, 1, 4)))
    loss = F.ctc_loss(ac.tensor(lp), ac.tensor([[2, 2]]), [3], [2], reduction="none")
    # the only path of three frames: 2, blank, 2
    np.testing.assert_allclose(loss.numpy(), [-(lp[0, 0, 2] + lp[1, 0, 0] + lp[2, 0, 2])])
    too_short = F.ctc_loss(ac.tensor(lp), ac.tensor([[2, 2]]), [2], [2], reduction="none")
    assert too_short.numpy()[0] == math.inf
    distinct = F.ctc_loss(ac.tensor(lp), ac.tensor([[2, 3]]), [2], [2], reduction="none")
    np.testing.assert_allclose(distinct.numpy(), [-(lp[0, 0, 2] + lp[1, 0, 3])])


def test_unbatched_equals_a_batch_of_one(rng: np.random.Generator) -> None:
    lp = _log_softmax(rng.standard_normal((6, 5)))
    target = np.array([1, 3, 3])
    batched = F.ctc_loss(
        ac.tensor(lp[:, None]), ac.tensor(target[None]), [5], [3], reduction="none"
    )
    for reduction in REDUCTIONS:
        ours = F.ctc_loss(
            ac.tensor(lp), ac.tensor(target), ac.tensor(5), ac.tensor(3), reduction=reduction
        )
        assert ours.shape == ()
        scale = 3 if reduction == "mean" else 1
        np.testing.assert_allclose(ours.numpy() * scale, batched.numpy()[0], rtol=1e-12)


def test_float32_stays_float32(rng: np.random.Generator) -> None:
    lp = ac.tensor(_log_softmax(rng.standard_normal((4, 2, 3))), dtype=ac.float32, req_grad=True)
    loss = F.ctc_loss(lp, ac.tensor([[1, 2], [2, 0]]), [4, 3], [2, 1])
    loss.backward()
    assert loss.dtype == np.float32 and lp.grad.dtype == np.float32


# ------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_through_log_softmax(
    concatenated: bool, reduction: str, rng: np.random.Generator
) -> None:
    logits = ac.tensor(rng.standard_normal((5, 3, 4)), req_grad=True)
    targets = np.array([[1, 1, 2], [3, 2, 0], [2, 0, 0]])
    input_lengths, target_lengths = [5, 4, 3], [3, 2, 1]
    tg = ac.tensor(_concatenated(targets, target_lengths) if concatenated else targets)

    def fn(x: ac.Tensor) -> ac.Tensor:
        return F.ctc_loss(x.log_softmax(2), tg, input_lengths, target_lengths, reduction=reduction)

    assert gradcheck(fn, (logits,))


def test_raw_gradient_is_the_partial_derivative_plus_exp(rng: np.random.Generator) -> None:
    """On free log-probabilities the gradient is d loss / d lp + exp(lp) per counted frame
    (PyTorch's convention); frames past an input's length get 0."""
    lp = _log_softmax(rng.standard_normal((4, 2, 3)))
    targets, input_lengths, target_lengths = ac.tensor([[1, 2], [1, 0]]), [4, 3], [2, 1]
    weights = np.array([0.7, -1.3])

    def loss(array: np.ndarray) -> float:
        per_sample = F.ctc_loss(
            ac.tensor(array), targets, input_lengths, target_lengths, reduction="none"
        )
        return float((per_sample.numpy() * weights).sum())

    x = ac.tensor(lp, req_grad=True)
    F.ctc_loss(x, targets, input_lengths, target_lengths, reduction="none").backward(weights)
    eps, numeric = 1e-6, np.zeros_like(lp)
    for index in np.ndindex(lp.shape):
        step = np.zeros_like(lp)
        step[index] = eps
        numeric[index] = (loss(lp + step) - loss(lp - step)) / (2 * eps)
    counted = (np.arange(4)[:, None] < np.array(input_lengths))[:, :, None]
    expected = np.where(counted, numeric + np.exp(lp) * weights[:, None], 0.0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6, atol=1e-8)


def test_first_derivatives_only(rng: np.random.Generator) -> None:
    x = ac.tensor(_log_softmax(rng.standard_normal((3, 1, 3))), req_grad=True)
    loss = F.ctc_loss(x, ac.tensor([[1]]), [3], [1])
    with pytest.raises(NotImplementedError, match="CtcLoss has no differentiable backward"):
        ac.autograd.grad(loss, x, create_graph=True)


# ------------------------------------------------------------------------ infinite losses
def test_impossible_alignment_is_inf_and_zero_infinity_zeroes_it(
    rng: np.random.Generator,
) -> None:
    lp = _log_softmax(rng.standard_normal((4, 3, 3)))
    # sample 1 needs 4 frames for 1, 1, 1 (with blanks between) but has 3; sample 2 has
    # no frames for a target of one label
    targets, input_lengths, target_lengths = [[1, 2, 0], [1, 1, 1], [2, 0, 0]], [4, 3, 0], [2, 3, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no floating-point warnings from -inf arithmetic
        x = ac.tensor(lp, req_grad=True)
        loss = F.ctc_loss(x, ac.tensor(targets), input_lengths, target_lengths, reduction="none")
        loss.backward(np.ones(3))
        kept = ac.tensor(lp, req_grad=True)
        zeroed = F.ctc_loss(
            kept,
            ac.tensor(targets),
            input_lengths,
            target_lengths,
            reduction="none",
            zero_infinity=True,
        )
        zeroed.backward(np.ones(3))
    assert np.isfinite(loss.numpy()[0]) and loss.numpy()[1:].tolist() == [math.inf] * 2
    # as PyTorch: NaN gradients for the counted frames of an infinite loss
    assert np.isnan(x.grad[:3, 1]).all() and (x.grad[3, 1] == 0).all()
    np.testing.assert_array_equal(zeroed.numpy()[1:], [0.0, 0.0])
    np.testing.assert_array_equal(zeroed.numpy()[0], loss.numpy()[0])
    np.testing.assert_array_equal(kept.grad[:, 1:], 0.0)
    np.testing.assert_allclose(kept.grad[:, 0], x.grad[:, 0], rtol=1e-15)
    mean = F.ctc_loss(ac.tensor(lp), ac.tensor(targets), input_lengths, target_lengths)
    assert mean.item() == math.inf


def test_empty_input_and_empty_target(rng: np.random.Generator) -> None:
    lp = ac.tensor(_log_softmax(rng.standard_normal((3, 2, 3))), req_grad=True)
    loss = F.ctc_loss(lp, ac.tensor([[1], [1]]), [0, 2], [0, 0], reduction="none")
    loss.sum().backward()
    # no frames and no labels: probability 1; an empty target on two frames: all blanks
    np.testing.assert_allclose(loss.numpy(), [0.0, -(lp.data[0, 1, 0] + lp.data[1, 1, 0])])
    np.testing.assert_array_equal(lp.grad[:, 0], 0.0)


# ------------------------------------------------------------------------ module, errors
def test_module_matches_function(rng: np.random.Generator) -> None:
    lp = ac.tensor(_log_softmax(rng.standard_normal((5, 2, 4))))
    args = (lp, ac.tensor([[3, 1], [2, 2]]), ac.tensor([5, 5]), ac.tensor([2, 2]))
    criterion = nn.CTCLoss(blank=1, reduction="sum", zero_infinity=True)
    assert repr(criterion) == "CTCLoss(blank=1, reduction='sum', zero_infinity=True)"
    assert repr(nn.CTCLoss()) == "CTCLoss()"
    expected = F.ctc_loss(*args, blank=1, reduction="sum", zero_infinity=True)
    np.testing.assert_array_equal(criterion(*args).numpy(), expected.numpy())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"input_lengths": [4, 4, 4]}, ValueError, r"input_lengths .* 2, got 3"),
        ({"target_lengths": (1,)}, ValueError, r"target_lengths .* 2, got 1"),
        ({"input_lengths": [5, 4]}, ValueError, r"\[0, 4\] for log_probs of shape \(4, 2, 3\)"),
        ({"input_lengths": [-1, 4]}, ValueError, r"\[0, 4\]"),
        ({"target_lengths": [-1, 1]}, ValueError, "target_lengths must be >= 0"),
        ({"target_lengths": [3, 1]}, ValueError, r"\(2, S\) with S >= .* 3, got \(2, 2\)"),
        ({"targets": [[1, 2]]}, ValueError, r"\(2, S\) .* got \(1, 2\)"),
        ({"targets": [1, 2]}, ValueError, r"shape \(2,\) must hold .* = 3"),
        ({"targets": [[[1]]]}, ValueError, r"\(N, S\) .* got \(1, 1, 1\)"),
        ({"targets": [[1.0, 2.0], [1.0, 2.0]]}, TypeError, "integer class indices"),
        ({"targets": [[1, 3], [1, 2]]}, ValueError, r"\[0, 3\) for C = 3, got values from 0 to 3"),
        ({"blank": 3}, ValueError, r"blank must be in \[0, 3\)"),
        ({"input_lengths": [4.0, 4.0]}, TypeError, "input_lengths must hold integers"),
        ({"input_lengths": 4}, TypeError, "a tensor or a sequence of ints, got int"),
        ({"reduction": "batchmean"}, ValueError, "reduction must be one of"),
        ({"log_probs": np.zeros((4, 2, 3), np.int64)}, TypeError, "float32 or float64"),
        ({"log_probs": np.zeros((2, 4, 2, 3))}, ValueError, r"\(T, N, C\) or \(T, C\)"),
        ({"log_probs": np.zeros((0, 2, 3))}, ValueError, r"not be empty, got shape \(0, 2, 3\)"),
    ],
)
def test_errors_name_the_shapes(kwargs: dict, error: type, match: str) -> None:
    args = {
        "log_probs": np.zeros((4, 2, 3)),
        "targets": [[1, 2], [2, 1]],
        "input_lengths": [4, 3],
        "target_lengths": [2, 1],
    }
    args.update(kwargs)
    args["log_probs"], args["targets"] = ac.tensor(args["log_probs"]), ac.tensor(args["targets"])
    with pytest.raises(error, match=match):
        F.ctc_loss(**args)
