"""Dropout: zero random elements and rescale the rest (inverted dropout)."""

from __future__ import annotations

from auto_compyute._core.devices import move_array
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

__all__ = ["dropout"]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by ``1 / (1 - p)``.

    The expected value is unchanged, so nothing needs rescaling in evaluation. Masks are
    drawn from ``ac``'s global generator (``ac.manual_seed`` makes them reproducible).

    Args:
        input: A floating-point tensor.
        p: The probability of zeroing an element, in [0, 1].
        training: Apply dropout; if False the input is returned as it is.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the input's shape and dtype.

    Example:
        >>> ac.manual_seed(0)
        >>> y = F.dropout(ac.ones(4), p=0.5)  # each element 0 or 2
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = get_generator().random(input.shape) >= p
    scale = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor(move_array(scale, input.device))
