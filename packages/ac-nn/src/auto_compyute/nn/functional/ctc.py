"""Connectionist temporal classification (CTC) loss (Graves et al., 2006).

The loss of a sequence is ``-log p(target | input)``, the probability summed over every
alignment of the target to the input frames (labels may repeat over frames and be
separated by blanks). The sum runs over the "extended" target ``blank, l1, blank, l2,
..., blank`` (``2S + 1`` states) with the forward (alpha) and backward (beta)
recursions in log space.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module, move_array
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional.losses import _check_reduction

__all__ = ["ctc_loss"]


def _log_sum_exp3(a: Array, b: Array, c: Array) -> Array:
    """``log(exp(a) + exp(b) + exp(c))`` elementwise; ``-inf`` where all three are."""
    xp = get_array_module(a)
    top = xp.maximum(xp.maximum(a, b), c)
    top = xp.where(top == -xp.inf, 0.0, top)  # NOTE: keeps -inf - (-inf) = NaN out
    return xp.log(xp.exp(a - top) + xp.exp(b - top) + xp.exp(c - top)) + top


class CtcLoss(Op):
    """Per-sequence CTC loss ``-log p``; d/d log_probs[t, c] = exp(log_probs[t, c]) - occ[t, c].

    ``occ[t, c]`` is the posterior probability that frame ``t`` emits label ``c`` (the sum
    over its extended states ``s`` of ``alpha_t(s) beta_t(s) / (p y_t(s))``). As in
    PyTorch, the ``exp(log_probs)`` term makes this the gradient of the loss through a
    ``log_softmax`` over the classes rather than the partial derivative with respect to
    free log-probabilities (the two differ by ``exp(log_probs)`` per frame); it is exact
    when ``log_probs`` is the output of ``log_softmax``, which is how CTC is used.

    NOTE: a primitive: the recursions over frames are a loop of vectorized steps, far
    cheaper than recording them as tensor ops.
    """

    def forward(
        self,
        log_probs: Array,
        *,
        labels: Array,
        input_lengths: Array,
        target_lengths: Array,
        blank: int,
        zero_infinity: bool,
    ) -> Array:
        xp = get_array_module(log_probs)
        _, batch, _ = log_probs.shape
        states = 2 * labels.shape[1] + 1
        # the extended targets: blank, l1, blank, l2, ..., blank
        ext = xp.full((batch, states), blank, dtype=labels.dtype)
        ext[:, 1::2] = labels
        # NOTE: only frames before the longest input matter; the rest get gradient 0.
        used = int(input_lengths.max())
        lp_ext = log_probs[:used, xp.arange(batch)[:, None], ext]  # (used, N, states)
        neg_inf = log_probs.dtype.type(-np.inf)
        # a skip from state s - 2 to s: between different labels, never onto a blank
        skip = xp.zeros((batch, states), dtype=log_probs.dtype)
        skip[:, :2] = neg_inf
        skip[:, 2:][ext[:, 2:] == ext[:, :-2]] = neg_inf
        # log alpha, with two -inf states in front so that s - 1 and s - 2 are views
        alpha = xp.full((used, batch, states + 2), neg_inf, dtype=log_probs.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            if used:
                alpha[0, :, 2:4] = lp_ext[0, :, :2]
            for t in range(1, used):
                prev = alpha[t - 1]
                total = _log_sum_exp3(prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip)
                alpha[t, :, 2:] = total + lp_ext[t]
            if used:
                last, rows = xp.maximum(input_lengths - 1, 0), xp.arange(batch)
                end = 2 + 2 * target_lengths  # the final blank; the final label is one before
                log_p = xp.logaddexp(alpha[last, rows, end], alpha[last, rows, end - 1])
        empty = xp.where(target_lengths > 0, np.inf, 0.0).astype(log_probs.dtype)
        nll = xp.where(input_lengths > 0, -log_p, empty) if used else empty
        self.log_probs, self.ext, self.lp_ext, self.alpha = log_probs, ext, lp_ext, alpha
        self.nll, self.skip = nll, skip
        if zero_infinity:
            return xp.where(nll == np.inf, 0.0, nll).astype(log_probs.dtype, copy=False)
        return nll

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        kw = self.kwargs
        input_lengths, target_lengths = kw["input_lengths"], kw["target_lengths"]
        log_probs, ext, lp_ext, alpha = self.log_probs, self.ext, self.lp_ext, self.alpha
        nll = self.nll
        _, batch, classes = log_probs.shape
        used, _, states = lp_ext.shape
        neg_inf = log_probs.dtype.type(-np.inf)
        # a skip from state s + 2 back to s: the same rule as forward's, shifted
        skip_back = xp.full((batch, states), neg_inf, dtype=log_probs.dtype)
        skip_back[:, :-2] = self.skip[:, 2:]
        states_index = xp.arange(states)
        end = 2 * target_lengths[:, None]
        final = (states_index == end) | (states_index == end - 1)  # where beta starts
        # log beta (it includes the frame's own log-probability, as alpha does), with two
        # -inf states behind so that s + 1 and s + 2 are views
        beta = xp.full((used + 1, batch, states + 2), neg_inf, dtype=log_probs.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            for t in range(used - 1, -1, -1):
                nxt = beta[t + 1]
                total = _log_sum_exp3(nxt[:, :-2], nxt[:, 1:-1], nxt[:, 2:] + skip_back)
                start = final & (input_lengths - 1 == t)[:, None]
                beta[t, :, :-2] = xp.where(start, lp_ext[t], total + lp_ext[t])
            # occupancy of each state, alpha beta / (p y): in [0, 1], no overflow
            occupancy = xp.exp(alpha[:, :, 2:] + beta[:used, :, :-2] - lp_ext + nll[:, None])
        # NOTE: bincount sums the states that share a label, one bin per (t, n, c)
        bins = (xp.arange(used) * (batch * classes))[:, None, None]
        bins = bins + (xp.arange(batch)[:, None] * classes + ext)[None]
        occupied = xp.bincount(
            bins.ravel(), weights=occupancy.ravel(), minlength=used * batch * classes
        )
        occupied = occupied.reshape(used, batch, classes).astype(log_probs.dtype, copy=False)
        used_lp = log_probs[:used]
        infinite = nll == np.inf
        with np.errstate(invalid="ignore"):
            grad_lp = (xp.exp(used_lp) - occupied) * grad[:, None]
        # NOTE: PyTorch's formula exp(lp) - exp(log(sum alpha beta) + nll - lp) is NaN where
        # lp = -inf or the loss is infinite; so is ours
        grad_lp = xp.where((used_lp == -np.inf) | infinite[:, None], np.nan, grad_lp)
        counted = xp.arange(used)[:, None] < input_lengths
        if kw["zero_infinity"]:
            counted = counted & ~infinite
        result = xp.zeros_like(log_probs)
        result[:used] = xp.where(counted[:, :, None], grad_lp, 0.0)
        return result


def _lengths(name: str, lengths: Tensor | Sequence[int], batch: int) -> np.ndarray:
    """Lengths (a tensor or a sequence of ints) as a CPU int64 array of one per sequence."""
    if isinstance(lengths, Tensor):
        array = lengths.numpy()
    elif isinstance(lengths, Sequence | np.ndarray) and not isinstance(lengths, str):
        array = np.asarray(lengths)
    else:
        raise TypeError(
            f"ctc_loss: {name} must be a tensor or a sequence of ints, got {type(lengths).__name__}"
        )
    if array.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {name} must hold integers, got dtype {array.dtype}")
    array = array.reshape(-1).astype(np.int64)
    if array.size != batch:
        raise ValueError(
            f"ctc_loss: {name} must hold one length per sequence: {batch}, got {array.size}"
        )
    return array


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss``.

    Each sequence's loss is ``-log p(target | input)``: the probability of the target,
    summed over all its alignments to the first ``input_length`` frames. An alignment
    emits one class per frame; merging repeats and then dropping blanks must give the
    target, so a repeated label needs a blank between its two frames. A target that no
    alignment fits (an input too short for it) has an infinite loss.

    The gradient is PyTorch's: ``exp(log_probs) - occupancy``, the gradient through a
    ``log_softmax`` over the classes (see ``CtcLoss``), 0 for frames past each input's
    length; NaN where the loss is infinite or ``log_probs`` is ``-inf`` (within the input
    length), as in PyTorch.

    Cost: the forward and backward recursions are a Python loop over the frames, each
    step vectorized over the batch and the ``2S + 1`` extended target states; backward
    keeps arrays of ``T * N * (2S + 1)`` elements (log-alpha and the log-probabilities
    of the extended targets), as PyTorch does.

    Args:
        log_probs: Log-probabilities ``(T, N, C)`` (frames, batch, classes with the blank),
            or ``(T, C)`` for one sequence; float32 or float64. Usually a ``log_softmax``
            over the classes.
        targets: Integer class indices, not the blank: padded ``(N, S)`` (each row holds
            its target in the first ``target_length`` places; the rest is ignored), or the
            targets of the batch concatenated, ``(sum(target_lengths),)``.
        input_lengths: The number of frames of each sequence, ``<= T``: a tensor of ``N``
            integers (``()`` for one sequence) or a sequence of ints.
        target_lengths: The length of each target, as ``input_lengths``.
        blank: The class index of the blank.
        reduction: ``"none"``, ``"sum"`` or ``"mean"``: each loss divided by its target
            length (at least 1), then the mean over the batch.
        zero_infinity: Make infinite losses, and their gradients, 0.

    Returns:
        The loss: a scalar, or ``(N,)`` for ``"none"`` (``()`` for one sequence).

    Example:
        >>> log_probs = ac.randn(50, 16, 20).log_softmax(2).detach().requires_grad_()
        >>> targets = ac.randint(1, 20, (16, 30))
        >>> input_lengths = ac.full((16,), 50, dtype=ac.int64)
        >>> target_lengths = ac.randint(10, 30, (16,))
        >>> loss = F.ctc_loss(log_probs, targets, input_lengths, target_lengths)
        >>> loss.backward()
    """
    _check_reduction(reduction)
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("ctc_loss: log_probs and targets must be tensors")
    if log_probs.ndim not in (2, 3):
        raise ValueError(
            f"ctc_loss expects log_probs of shape (T, N, C) or (T, C), got {log_probs.shape}"
        )
    if log_probs.dtype not in (np.float32, np.float64):
        raise TypeError(f"ctc_loss expects float32 or float64 log_probs, got {log_probs.dtype}")
    if log_probs.numel() == 0:
        raise ValueError(f"ctc_loss: log_probs must not be empty, got shape {log_probs.shape}")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss expects integer class indices as targets, got {targets.dtype}")
    if targets.ndim not in (1, 2):
        raise ValueError(
            "ctc_loss expects targets of shape (N, S) or (sum(target_lengths),), got "
            f"{targets.shape}"
        )
    unbatched = log_probs.ndim == 2
    x = log_probs.unsqueeze(1) if unbatched else log_probs
    steps, batch, classes = x.shape
    if not 0 <= blank < classes:
        raise ValueError(
            f"ctc_loss: blank must be in [0, {classes}) for C = {classes}, got {blank}"
        )
    inputs = _lengths("input_lengths", input_lengths, batch)
    lengths = _lengths("target_lengths", target_lengths, batch)
    if inputs.size and (inputs.min() < 0 or inputs.max() > steps):
        raise ValueError(
            f"ctc_loss: input_lengths must lie in [0, {steps}] for log_probs of shape "
            f"{log_probs.shape}, got {inputs.tolist()}"
        )
    if lengths.size and lengths.min() < 0:
        raise ValueError(f"ctc_loss: target_lengths must be >= 0, got {lengths.tolist()}")
    longest = int(lengths.max()) if lengths.size else 0
    xp = get_array_module(x.data)
    data = move_array(targets.data, x.device)
    positions = np.arange(longest)
    valid = positions < lengths[:, None]  # (N, S): the places that hold a label
    if targets.ndim == 1:
        if targets.shape[0] != lengths.sum():
            raise ValueError(
                f"ctc_loss: concatenated targets of shape {targets.shape} must hold "
                f"sum(target_lengths) = {int(lengths.sum())} labels"
            )
        starts = np.cumsum(lengths) - lengths
        index = np.where(valid, starts[:, None] + positions, 0)
        labels = data[xp.asarray(index)] if data.size else xp.zeros(index.shape, np.int64)
    else:
        if targets.shape[0] != batch or targets.shape[1] < longest:
            raise ValueError(
                f"ctc_loss: padded targets must have shape ({batch}, S) with S >= the longest "
                f"target length {longest}, got {targets.shape}"
            )
        labels = data[:, :longest]
    labels = xp.where(xp.asarray(valid), labels.astype(np.int64), blank)
    if bool(((labels < 0) | (labels >= classes)).any()):
        raise ValueError(
            f"ctc_loss: target labels must lie in [0, {classes}) for C = {classes}, got "
            f"values from {int(labels.min())} to {int(labels.max())}"
        )
    loss = CtcLoss.apply(
        x,
        labels=labels,
        input_lengths=xp.asarray(inputs),
        target_lengths=xp.asarray(lengths),
        blank=int(blank),
        zero_infinity=bool(zero_infinity),
    )
    if reduction == "mean":
        divisor = Tensor(np.maximum(lengths, 1), dtype=loss.dtype, device=loss.device)
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.reshape(()) if unbatched else loss
