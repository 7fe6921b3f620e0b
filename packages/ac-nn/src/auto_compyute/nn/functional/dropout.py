"""Dropout: zero random elements and rescale the rest (inverted dropout); alpha dropout,
which keeps SELU activations' mean and variance."""

from __future__ import annotations

import math
from typing import Any

from auto_compyute._core.devices import move_array
from auto_compyute._core.ops.linalg import is_column_major
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

__all__ = [
    "alpha_dropout",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "feature_alpha_dropout",
]

# NOTE: SELU's scale * alpha, -SELU(-inf): the value dropped units are set to.
_SELU_NEGATIVE_SATURATION = 1.7580993408473766


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
    if mask_shape == input.shape and input.ndim == 2 and is_column_major(input.data):
        # NOTE: drawn in the input's layout (a column-major product's result): multiplying
        # arrays laid out differently runs several times slower
        draws = get_generator().random(mask_shape[::-1]).T
    else:
        draws = get_generator().random(mask_shape)
    keep = draws >= p
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


def _alpha_dropout(input: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]) -> Tensor:
    """Alpha dropout with one draw per element of ``mask_shape`` (broadcast over the input)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = _SELU_NEGATIVE_SATURATION
    a = 1.0 / math.sqrt((alpha * alpha * p + 1.0) * (1.0 - p))
    keep = (get_generator().random(mask_shape) >= p).astype(input.dtype)
    scale = Tensor(move_array(keep * input.dtype.type(a), input.device))
    shift = ((keep - 1) * (alpha * a) + alpha * a * p).astype(input.dtype)
    return input * scale + Tensor(move_array(shift, input.device))


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Dropout that keeps zero mean and unit variance of SELU activations.

    Each element is dropped with probability ``p`` and set to ``-alpha'`` (SELU's negative
    saturation, ``scale * alpha``); then all are mapped by ``a * x + b`` with
    ``a = ((1 - p) (1 + p alpha'^2))^(-1/2)`` and ``b = a alpha' p`` (PyTorch's formula), so
    that mean 0, variance 1 inputs stay so. Masks come from ``ac``'s global generator.

    Args:
        input: A floating-point tensor.
        p: The probability of dropping an element, in [0, 1].
        training: Apply it (PyTorch's default here is False); else the input comes back.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the input's shape and dtype.
    """
    return _alpha_dropout(input, p, training, input.shape)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels: one draw per (sample, channel) of ``(N, C, *)``
    inputs, otherwise as ``alpha_dropout``.

    Args:
        input: A floating-point tensor with at least 2 axes, ``(N, C, *)``.
        p: The probability of dropping a channel, in [0, 1].
        training: Apply it (PyTorch's default here is False); else the input comes back.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the input's shape and dtype.
    """
    if input.ndim < 2:
        raise RuntimeError(
            f"feature_alpha_dropout needs at least 2 axes (N, C, *), got shape {input.shape}"
        )
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, mask_shape)
