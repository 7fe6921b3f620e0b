"""Dropout: zero random elements and rescale the rest (inverted dropout)."""

from __future__ import annotations

from typing import Any

from auto_compyute._core.devices import move_array
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


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
    return _dropout(input, p, training, input.shape)


def _dropout(input: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]) -> Tensor:
    """Dropout with one draw per element of ``mask_shape`` (broadcast over the input)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = get_generator().random(mask_shape) >= p
    scale = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * Tensor(move_array(scale, input.device))


def _channel_dropout(name: str, spatial: int) -> Any:
    def channel_dropout(
        input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
    ) -> Tensor:
        if input.ndim not in (spatial + 1, spatial + 2):
            raise ValueError(
                f"{name} needs an input (N, C, *spatial) or (C, *spatial) with {spatial} "
                f"spatial axes, got shape {input.shape}"
            )
        mask_shape = input.shape[: input.ndim - spatial] + (1,) * spatial
        return _dropout(input, p, training, mask_shape)

    channel_dropout.__name__ = channel_dropout.__qualname__ = name
    channel_dropout.__doc__ = f"""Zero whole channels with probability ``p`` (inputs with {spatial}
    spatial axis/axes after the channel axis), scaling the others by ``1 / (1 - p)``.

    Args:
        input: ``(N, C, *spatial)`` or ``(C, *spatial)``.
        p: The probability of zeroing a channel, in [0, 1].
        training: Apply dropout; if False the input is returned as it is.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the input's shape and dtype.
    """
    return channel_dropout


dropout1d = _channel_dropout("dropout1d", 1)
dropout2d = _channel_dropout("dropout2d", 2)
dropout3d = _channel_dropout("dropout3d", 3)
