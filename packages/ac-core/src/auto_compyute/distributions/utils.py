"""Helpers shared by the distributions: broadcasting parameters, probabilities and logits,
and random draws on the parameters' device and dtype."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.functions import broadcast_tensors
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

lazy_property = cached_property


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Broadcast tensors and numbers against each other; numbers become tensors of the first
    tensor's dtype and device (the default float dtype when all are numbers)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        dtype, device = dtypes.get_default_dtype(), None
    else:
        dtype = like.dtype if like.dtype.kind == "f" else dtypes.get_default_dtype()
        device = like.device
    tensors = []
    for value in values:
        if isinstance(value, Tensor):
            tensors.append(value)
        elif isinstance(value, int | float | np.number):
            tensors.append(Tensor(np.asarray(value, dtype=dtype), device=device))
        else:
            raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")
    return tuple(broadcast_tensors(*tensors))


def as_shape(shape: Sequence[int] | int) -> tuple[int, ...]:
    """A shape tuple from a tuple, list or single int."""
    return (shape,) if isinstance(shape, int) else tuple(int(n) for n in shape)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost axes of ``value`` (none for ``dim <= 0``)."""
    if dim <= 0:
        return value
    return value.reshape(*value.shape[: value.ndim - dim], -1).sum(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities clamped to [eps, 1 - eps] of their dtype."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits of probabilities: log-odds if ``is_binary``, else log-probabilities."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities of logits: the sigmoid if ``is_binary``, else the softmax of the last axis."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def _on(array: np.ndarray, like: Tensor) -> Tensor:
    return Tensor(array.astype(like.dtype, copy=False), device=like.device)


def standard_normal(shape: tuple[int, ...], like: Tensor) -> Tensor:
    """Standard normal draws of ``shape`` on ``like``'s device and dtype."""
    return _on(get_generator().standard_normal(shape), like)


def uniform(shape: tuple[int, ...], like: Tensor, low: float = 0.0, high: float = 1.0) -> Tensor:
    """Uniform draws on [low, high) of ``shape`` on ``like``'s device and dtype."""
    return _on(get_generator().uniform(low, high, shape), like)


def standard_gamma(concentration: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Gamma(concentration, 1) draws of ``shape``, at least the dtype's smallest normal."""
    alpha = np.broadcast_to(np.asarray(concentration.numpy(), dtype=np.float64), shape)
    tiny = float(np.finfo(concentration.dtype).tiny)
    return _on(np.maximum(get_generator().standard_gamma(alpha), tiny), concentration)


def draw(array: np.ndarray, like: Tensor) -> Tensor:
    """A NumPy array of draws as a tensor on ``like``'s device and dtype."""
    return _on(np.asarray(array), like)
