"""CTC loss against PyTorch: values and gradients, float32 and float64, both target formats."""

import numpy as np
import pytest
from parity_helpers import GRAD_TOL, OUT_TOL

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional
# float64: both compute the same recursions; only the order of roundings differs
TOLERANCES = {
    np.float32: (OUT_TOL, GRAD_TOL),
    np.float64: ({"rtol": 1e-10, "atol": 1e-12}, {"rtol": 1e-9, "atol": 1e-11}),
}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _batch(rng: np.random.Generator, steps: int, batch: int, classes: int, longest: int):
    """Log-probabilities, padded targets (padding -1) and lengths: every length varies, one
    target has repeats, one has no labels, one input is too short for its target."""
    lp = _log_softmax(rng.standard_normal((steps, batch, classes)) * 2)
    targets = rng.integers(1, classes, (batch, longest))
    targets[0, 1] = targets[0, 0]
    target_lengths = rng.integers(1, longest + 1, batch)
    target_lengths[0], target_lengths[1] = longest, 0
    input_lengths = rng.integers(2 * longest + 1, steps + 1, batch)
    input_lengths[0] = steps
    input_lengths[2], target_lengths[2] = 2, longest  # impossible: inf
    targets[np.arange(longest) >= target_lengths[:, None]] = -1
    return lp, targets, input_lengths, target_lengths


def _compare(ours_fn, theirs_fn, lp: np.ndarray, rng: np.random.Generator) -> None:
    out_tol, grad_tol = TOLERANCES[lp.dtype.type]
    x, y = ac.tensor(lp, req_grad=True), torch.tensor(lp, requires_grad=True)
    out, expected = ours_fn(x), theirs_fn(y)
    assert out.shape == tuple(expected.shape) and out.dtype == lp.dtype
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **out_tol)
    cotangent = rng.standard_normal(out.shape).astype(lp.dtype)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    reference = y.grad.numpy()
    np.testing.assert_array_equal(np.isnan(x.grad), np.isnan(reference))
    np.testing.assert_allclose(x.grad, reference, **grad_tol, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss(
    dtype: type, concatenated: bool, zero_infinity: bool, reduction: str, rng: np.random.Generator
) -> None:
    lp, targets, input_lengths, target_lengths = _batch(rng, 12, 6, 5, 4)
    if concatenated:
        targets = targets[targets >= 0]
    kwargs = {"reduction": reduction, "zero_infinity": zero_infinity}
    _compare(
        lambda x: F.ctc_loss(
            x, ac.tensor(targets), ac.tensor(input_lengths), ac.tensor(target_lengths), **kwargs
        ),
        lambda y: TF.ctc_loss(
            y,
            torch.tensor(targets),
            torch.tensor(input_lengths),
            torch.tensor(target_lengths),
            **kwargs,
        ),
        lp.astype(dtype),
        rng,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_longer_sequences_and_another_blank(dtype: type, rng: np.random.Generator) -> None:
    lp, targets, input_lengths, target_lengths = _batch(rng, 60, 4, 12, 15)
    targets[targets == 11] = 0  # the blank is 11: class 0 is an ordinary label
    input_lengths[2], target_lengths[2] = 30, 3  # possible now
    lengths = (input_lengths.tolist(), target_lengths.tolist())
    _compare(
        lambda x: F.ctc_loss(x, ac.tensor(targets), *lengths, blank=11, reduction="none"),
        lambda y: TF.ctc_loss(y, torch.tensor(targets), *lengths, blank=11, reduction="none"),
        lp.astype(dtype),
        rng,
    )


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_unbatched(reduction: str, rng: np.random.Generator) -> None:
    lp = _log_softmax(rng.standard_normal((9, 6)))
    target = rng.integers(1, 6, 4)
    _compare(
        lambda x: F.ctc_loss(x, ac.tensor(target), ac.tensor(7), ac.tensor(4), reduction=reduction),
        lambda y: TF.ctc_loss(
            y, torch.tensor(target), torch.tensor(7), torch.tensor(4), reduction=reduction
        ),
        lp,
        rng,
    )


def test_minus_infinity_log_probs_give_nan_gradients_as_pytorch(
    rng: np.random.Generator,
) -> None:
    lp, targets, input_lengths, target_lengths = _batch(rng, 8, 4, 5, 2)
    lp[1, 0, targets[0, 0]] = -np.inf  # a target's label
    lp[3, 1, 4] = -np.inf  # a class in no target
    lp[7, 3, 0] = -np.inf  # past that input's length (7 frames at most)
    input_lengths[3] = 7
    lengths = (input_lengths.tolist(), target_lengths.tolist())
    _compare(
        lambda x: F.ctc_loss(x, ac.tensor(targets), *lengths, reduction="none"),
        lambda y: TF.ctc_loss(y, torch.tensor(targets), *lengths, reduction="none"),
        lp,
        rng,
    )


def test_module(rng: np.random.Generator) -> None:
    lp, targets, input_lengths, target_lengths = _batch(rng, 10, 3, 4, 3)
    lengths = (input_lengths.tolist(), target_lengths.tolist())
    ours = nn.CTCLoss(blank=0, zero_infinity=True)
    theirs = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    _compare(
        lambda x: ours(x, ac.tensor(targets), *lengths),
        lambda y: theirs(y, torch.tensor(targets), *lengths),
        lp.astype(np.float32),
        rng,
    )
