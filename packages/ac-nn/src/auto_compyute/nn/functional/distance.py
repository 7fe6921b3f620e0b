"""Similarity and distance between vectors: ``cosine_similarity``, ``pairwise_distance``,
and ``normalize``, composed from Tensor ops; ``pdist``, a primitive (see its ``NOTE``)."""

from __future__ import annotations

import math

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor, float16_in_float32
from auto_compyute.nn.functional.sparse import _add_rows

__all__ = ["cosine_similarity", "normalize", "pairwise_distance", "pdist"]


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


@float16_in_float32
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


class PDist(Op):
    """p-norm distances ``d_k = ‖x_i - x_j‖_p`` of the row pairs ``i < j`` of x (N, M).

    d/dx_i = -d/dx_j = g_k * sign(u) |u|^(p-1) / d_k^(p-1) with u = x_i - x_j (for p = inf:
    g_k sign(u) where |u| = d_k; for p = 0: 0); 0 where d_k = 0, and for p < 1 also where
    u = 0, as in PyTorch.

    NOTE: a primitive for those zero gradients: composed from Tensor ops, a zero distance
    (a repeated row) would give NaN gradients.
    """

    def forward(self, x: Array, *, p: float) -> Array:
        xp = get_array_module(x)
        self.n = x.shape[0]
        rows, cols = np.triu_indices(self.n, 1)
        self.rows, self.cols = xp.asarray(rows), xp.asarray(cols)
        # NOTE: backward recomputes the differences (N (N - 1) / 2 by M) rather than keep them.
        self.x = x
        size = abs(x[self.rows] - x[self.cols])
        if p == 0:
            self.dist = (size != 0).sum(axis=1).astype(x.dtype)
        elif p == math.inf:
            self.dist = size.max(axis=1) if x.shape[1] else xp.zeros(len(size), x.dtype)
        elif p == 1:
            self.dist = size.sum(axis=1)
        elif p == 2:
            self.dist = xp.sqrt((size * size).sum(axis=1))
        else:
            self.dist = (size**p).sum(axis=1) ** (1.0 / p)
        return self.dist

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        p, dist = self.kwargs["p"], self.dist[:, None]
        diff = self.x[self.rows] - self.x[self.cols]
        if p == 0:
            pair = xp.zeros_like(diff)
        elif p == math.inf:
            pair = xp.sign(diff) * (abs(diff) == dist) * grad[:, None]
        elif p == 1:
            pair = xp.sign(diff) * grad[:, None]
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                if p == 2:
                    pair = diff * (grad[:, None] / dist)
                else:
                    pair = xp.sign(diff) * abs(diff) ** (p - 1) * (grad[:, None] / dist ** (p - 1))
            zero = (dist == 0) | ((diff == 0) if p < 1 else False)
            pair = xp.where(zero, 0, pair)
        # pair k's gradient adds to row i and subtracts from row j
        first, second = xp.zeros_like(self.x), xp.zeros_like(self.x)
        _add_rows(first, self.rows, pair)
        _add_rows(second, self.cols, pair)
        return first - second


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between every pair of rows of ``input``: the upper triangle of
    ``cdist(input, input)`` without the diagonal, row by row.

    Args:
        input: A floating-point tensor (N, M).
        p: The norm's exponent, in [0, inf].

    Returns:
        A tensor of the ``N (N - 1) / 2`` distances ``‖x_i - x_j‖_p`` for ``i < j`` in
        order (0, 1), (0, 2), ..., (N - 2, N - 1).

    Example:
        >>> F.pdist(ac.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        Tensor([5.0000, 1.0000, 4.2426])
    """
    if input.ndim != 2:
        raise ValueError(f"pdist needs a 2-D input (N, M), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"pdist needs a floating-point input, got dtype {input.dtype}")
    if not p >= 0:
        raise ValueError(f"pdist needs a non-negative p, got {p}")
    return PDist.apply(input, p=float(p))
