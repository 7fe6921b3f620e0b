"""Batching sequences of different lengths: ``pad_sequence``, as ``torch.nn.utils.rnn``."""

from __future__ import annotations

from collections.abc import Sequence

from auto_compyute._core.functions import pad, stack
from auto_compyute._core.tensor import Tensor

__all__ = ["pad_sequence"]


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
