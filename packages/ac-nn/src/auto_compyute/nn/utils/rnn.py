"""Batching sequences of different lengths, as ``torch.nn.utils.rnn``.

``pad_sequence`` stacks sequences with padding; ``PackedSequence`` keeps only their
real steps: ``data`` holds, step after step, the steps of the sequences still running,
longest sequence first, and ``batch_sizes`` how many sequences run at each step.
``RNN``, ``LSTM`` and ``GRU`` take and return packed sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from auto_compyute._core.functions import pad, stack
from auto_compyute._core.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """Sequences of different lengths without their padding (a named tuple, as in PyTorch).

    Build one with ``pack_padded_sequence`` or ``pack_sequence`` rather than by hand.

    Attributes:
        data: The steps ``(sum(lengths), *)``: step 0 of every sequence, then step 1 of
            those that have one, and so on; within a step, longest sequence first.
        batch_sizes: How many sequences run at each step (int64, non-increasing).
        sorted_indices: The batch positions of the sequences from longest to shortest
            (int64), or None when the batch was already sorted.
        unsorted_indices: The inverse permutation of ``sorted_indices``, or None.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if batch_sizes is None:
            raise TypeError("PackedSequence needs batch_sizes")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def _invert(permutation: Tensor) -> Tensor:
    order = np.asarray(permutation.tolist(), dtype=np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return Tensor(inverse, device=permutation.device)


def _lengths(lengths: Any, batch: int, length: int) -> np.ndarray:
    """The lengths as int64 NumPy, checked against a batch of ``batch`` and ``length`` steps."""
    if isinstance(lengths, Tensor):
        lengths = lengths.tolist()
    values = np.asarray(lengths)
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise TypeError(
            f"lengths must be a 1-D sequence of integers, got {values.dtype} with shape "
            f"{values.shape}"
        )
    values = values.astype(np.int64)
    if values.size != batch:
        raise ValueError(
            f"lengths has {values.size} entries but the input has a batch of {batch} sequences"
        )
    if values.size and values.min() <= 0:
        raise ValueError(
            "Length of all samples has to be greater than 0, but found an element in "
            f"'lengths' that is <= 0: lengths {values.tolist()}"
        )
    if values.size and values.max() > length:
        raise ValueError(
            f"lengths must not exceed the input's {length} time steps, got "
            f"lengths {values.tolist()}"
        )
    return values


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """How many of the (decreasing) lengths exceed each step."""
    steps = np.arange(int(sorted_lengths[0]))
    return (sorted_lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def _packed_rows(batch_sizes: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Step and sorted batch position of every row of packed data."""
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    offsets = np.cumsum(batch_sizes) - batch_sizes
    return steps, np.arange(steps.size) - offsets[steps]


def pack_padded_sequence(
    input: Tensor,
    lengths: Any,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch ``(L, N, *)`` (``(N, L, *)`` if ``batch_first``).

    Args:
        input: The padded sequences.
        lengths: The length of each sequence: a list, a NumPy array or an int64 tensor.
        batch_first: The input is ``(N, L, *)``.
        enforce_sorted: Require the lengths in decreasing order; otherwise the sequences
            are sorted here and ``sorted_indices`` records how.

    Returns:
        The ``PackedSequence``; its data is differentiable with respect to ``input``.

    Example:
        >>> packed = pack_padded_sequence(ac.randn(4, 2, 3), [4, 2])
        >>> packed.data.shape, packed.batch_sizes.tolist()
        ((6, 3), [2, 2, 1, 1])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence needs a Tensor input, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(
            f"pack_padded_sequence needs an input with time and batch axes, got shape {input.shape}"
        )
    if batch_first:
        input = input.transpose(0, 1)
    length, batch = input.shape[0], input.shape[1]
    values = _lengths(lengths, batch, length)
    if batch == 0:
        raise ValueError("pack_padded_sequence needs at least one sequence, got a batch of 0")
    sorted_indices = None
    order = np.arange(batch)
    if enforce_sorted:
        if np.any(values[1:] > values[:-1]):
            raise ValueError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                f"True, got {values.tolist()}; pass enforce_sorted=False to sort them here"
            )
    else:
        order = np.argsort(-values, kind="stable")
        sorted_indices = Tensor(order.astype(np.int64), device=input.device)
    batch_sizes = _batch_sizes(values[order])
    steps, positions = _packed_rows(batch_sizes, batch)
    rows = input.reshape(length * batch, *input.shape[2:])
    data = rows.index_select(0, steps * batch + order[positions])
    return PackedSequence(data, Tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: the padded batch and the lengths, in the original order.

    Args:
        sequence: The packed sequences.
        batch_first: Give ``(N, L, *)`` instead of ``(L, N, *)``.
        padding_value: The value of the padding.
        total_length: Pad to this many steps (at least the longest sequence) instead of
            the longest sequence's length.

    Returns:
        ``(padded, lengths)``: the padded tensor, differentiable with respect to
        ``sequence.data``, and the int64 lengths.
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            f"pad_packed_sequence needs a PackedSequence, got {type(sequence).__name__}"
        )
    batch_sizes = np.asarray(sequence.batch_sizes.tolist(), dtype=np.int64)
    longest, batch = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < longest:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{longest}"
            )
        longest = total_length
    unsorted = (
        np.arange(batch)
        if sequence.unsorted_indices is None
        else np.asarray(sequence.unsorted_indices.tolist(), dtype=np.int64)
    )
    padded = _padded(sequence.data, batch_sizes, longest, unsorted, padding_value)
    lengths = (batch_sizes[:, None] > np.arange(batch)[None, :]).sum(axis=0)[unsorted]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor(lengths.astype(np.int64))


def _padded(
    data: Tensor,
    batch_sizes: np.ndarray,
    length: int,
    positions: np.ndarray,
    padding_value: float = 0.0,
) -> Tensor:
    """Packed ``data`` as ``(length, N, *)``; entry ``b`` is sorted position ``positions[b]``."""
    offsets = np.cumsum(batch_sizes) - batch_sizes
    steps = np.arange(length)[:, None]
    running = np.zeros(length, dtype=np.int64)
    running[: batch_sizes.size] = batch_sizes
    inside = positions[None, :] < running[:, None]
    # NOTE: steps past a sequence's end read one row of padding appended to the data
    rows = offsets[np.minimum(steps, batch_sizes.size - 1)] + positions[None, :]
    rows = np.where(inside, rows, data.shape[0])
    trailing = data.shape[1:]
    extended = pad(data, (0, 0) * len(trailing) + (0, 1), value=padding_value)
    return extended.index_select(0, rows.reshape(-1)).reshape(length, positions.size, *trailing)


def _packed(padded: Tensor, batch_sizes: np.ndarray) -> Tensor:
    """Time-major ``padded`` (L, N, *) in sorted batch order, as packed data."""
    length, batch = padded.shape[0], padded.shape[1]
    steps, positions = _packed_rows(batch_sizes, batch)
    rows = padded.reshape(length * batch, *padded.shape[2:])
    return rows.index_select(0, steps * batch + positions)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(...))``.

    Args:
        sequences: Tensors whose shapes differ only in their first axis.
        enforce_sorted: Require them from longest to shortest.

    Returns:
        The ``PackedSequence``.
    """
    if not sequences:
        raise ValueError("pack_sequence needs at least one sequence")
    lengths = [sequence.shape[0] if sequence.ndim else 0 for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences ``(L_i, *)`` into one tensor, padding each to the longest.

    Args:
        sequences: Tensors whose shapes differ only in their first axis.
        batch_first: Give ``(N, L, *)`` instead of ``(L, N, *)``.
        padding_value: The value of the padding.
        padding_side: ``"right"`` (after each sequence) or ``"left"``.

    Returns:
        ``(L, N, *)`` (or ``(N, L, *)``), differentiable with respect to every sequence.
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
    if not sequences:
        raise ValueError("pad_sequence needs at least one sequence")
    trailing = sequences[0].shape[1:]
    for i, sequence in enumerate(sequences):
        if sequence.ndim == 0 or sequence.shape[1:] != trailing:
            raise ValueError(
                f"pad_sequence needs sequences (L, *) with one trailing shape: sequence {i} has "
                f"shape {sequence.shape}, sequence 0 has {sequences[0].shape}"
            )
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        widths = (missing, 0) if padding_side == "left" else (0, missing)
        # NOTE: ac.pad takes pairs from the last axis: the first axis's pair comes last
        padded.append(pad(sequence, (0, 0) * len(trailing) + widths, value=padding_value))
    return stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """Undo ``pad_sequence``: the sequences ``(L_i, *)`` of a padded batch, cut to ``lengths``.

    Args:
        padded_sequences: ``(L, N, *)``, or ``(N, L, *)`` if ``batch_first``.
        lengths: The length of each sequence (N of them).
        batch_first: Whether the batch axis comes first.

    Returns:
        A list of N tensors, each differentiable with respect to ``padded_sequences``.
    """
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    sizes = _lengths(lengths, padded.shape[0], padded.shape[1])
    return [padded[i, : int(n)] for i, n in enumerate(sizes)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo ``pack_sequence``: the packed sequences ``(L_i, *)``, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
