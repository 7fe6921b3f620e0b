"""Similarity and distance between vectors: ``cosine_similarity``, ``pairwise_distance``,
and ``normalize``, composed from Tensor ops."""

from __future__ import annotations

from auto_compyute._core.tensor import Tensor

__all__ = ["cosine_similarity", "normalize", "pairwise_distance"]


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(‖x‖_p, eps)`` along ``dim``: vectors of unit p-norm.

    Args:
        input: A floating-point tensor.
        p: The norm's exponent (see ``Tensor.norm``).
        dim: The axis the vectors lie along.
        eps: The smallest norm divided by, so that zero vectors stay zero.

    Returns:
        A tensor of the input's shape.
    """
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast).

    ``sum(x1 * x2) / (max(‖x1‖, eps) * max(‖x2‖, eps))``, as PyTorch computes it.

    Args:
        x1: A floating-point tensor.
        x2: A tensor broadcastable with ``x1``.
        dim: The axis the vectors lie along; it is removed.
        eps: The smallest norm divided by.

    Returns:
        The similarities, in [-1, 1].
    """
    norms = x1.norm(dim=dim).clamp(min=eps) * x2.norm(dim=dim).clamp(min=eps)
    return (x1 * x2).sum(dim) / norms


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """The p-norm distance ``‖x1 - x2 + eps‖_p`` along the last axis (broadcast).

    Args:
        x1: A floating-point tensor of vectors along its last axis.
        x2: A tensor broadcastable with ``x1``.
        p: The norm's exponent.
        eps: Added to the difference, as in PyTorch, to keep the norm's gradient finite.
        keepdim: Keep the last axis, with size 1.

    Returns:
        The distances.
    """
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)
