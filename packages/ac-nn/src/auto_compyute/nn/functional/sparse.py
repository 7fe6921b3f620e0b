"""Lookups by integer index: ``embedding`` and ``one_hot``."""

from __future__ import annotations

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.ops.movement import PutAt
from auto_compyute._core.tensor import Tensor

__all__ = ["embedding", "one_hot"]


class Embedding(Op):
    """weight[indices] (rows of a table); the gradient of each row sums the gradients of its uses.

    The row ``padding_idx`` (if given) gets no gradient.

    NOTE: a primitive for speed: one scatter-add into the table, and the padding row is
    skipped without copying the table.
    """

    def forward(
        self,
        weight: Array,
        *,
        indices: Array,
        padding_idx: int | None,
        scale_grad_by_freq: bool = False,
    ) -> Array:
        self.shape, self.dtype = weight.shape, weight.dtype
        return weight[indices]

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        table = xp.zeros(self.shape, dtype=self.dtype)
        indices, rows = self.kwargs["indices"].reshape(-1), grad.reshape(-1, self.shape[1])
        if self.kwargs.get("scale_grad_by_freq"):
            # each use of a row counts 1 / (the row's uses in this batch), as PyTorch
            counts = xp.bincount(indices, minlength=self.shape[0])
            rows = rows / counts[indices][:, None].astype(rows.dtype)
        _add_rows(table, indices, rows)
        padding_idx = self.kwargs["padding_idx"]
        if padding_idx is not None:
            table[padding_idx] = 0
        return table

    def graph_backward(self, grad: Tensor) -> Tensor:
        xp = get_array_module(grad.data)
        indices, rows = self.kwargs["indices"].reshape(-1), grad.reshape(-1, self.shape[1])
        if self.kwargs.get("scale_grad_by_freq"):
            counts = xp.bincount(indices, minlength=self.shape[0])
            rows = rows / self._constant(counts[indices][:, None].astype(rows.dtype))
        padding_idx = self.kwargs["padding_idx"]
        if padding_idx is not None:
            rows = rows.where(self._constant((indices != padding_idx)[:, None]), 0.0)
        return PutAt.apply(rows, key=(indices,), shape=self.shape)


def _add_rows(table: Array, indices: Array, rows: Array) -> None:
    """``table[indices[i]] += rows[i]`` for every i; repeated indices add up.

    NOTE: NumPy's ``add.at`` is slow; sorting the indices and summing each run of equal
    ones with ``add.reduceat`` was about five times faster.
    """
    xp = get_array_module(table)
    if xp is not np or len(indices) == 0:
        xp.add.at(table, indices, rows)
        return
    order = np.argsort(indices, kind="stable")
    ordered = indices[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    table[ordered[starts]] = np.add.reduceat(rows[order], starts, axis=0)


def _check_indices(name: str, input: Tensor) -> None:
    if input.dtype.kind not in "iu":
        raise TypeError(f"{name} needs integer indices, got dtype {input.dtype}")


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of an embedding table: ``weight[input]``.

    Repeated indices accumulate their gradients in the same row; the row ``padding_idx``
    gets no gradient (its value is used as it is).

    Args:
        input: Integer indices of any shape ``(*)``, each in ``[0, num_embeddings)``.
        weight: The table, shape ``(num_embeddings, embedding_dim)``.
        padding_idx: A row (negative counts from the end) excluded from the gradient.
        max_norm: If given, every row looked up whose ``norm_type``-norm exceeds it is
            first scaled down to it, in place in ``weight`` (as PyTorch does).
        norm_type: The p of that norm.
        scale_grad_by_freq: Divide each row's gradient by its number of uses in ``input``.
        sparse: Accepted for PyTorch compatibility; gradients are dense tables either way.

    Returns:
        A tensor of shape ``(*, embedding_dim)``.

    Example:
        >>> table = ac.randn(10, 3, req_grad=True)
        >>> F.embedding(ac.tensor([[1, 2], [1, 9]]), table).shape
        (2, 2, 3)
    """
    _check_indices("embedding", input)
    if weight.ndim != 2:
        raise ValueError(
            f"embedding needs a weight of shape (num_embeddings, embedding_dim), got {weight.shape}"
        )
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(
                f"padding_idx {padding_idx} is out of range for a weight of shape {weight.shape}"
            )
        padding_idx %= rows
    indices = input.data
    if indices.size and bool(((indices < 0) | (indices >= rows)).any()):
        bad = indices[(indices < 0) | (indices >= rows)].reshape(-1)[0]
        raise IndexError(
            f"embedding: index {int(bad)} is out of range for a weight of shape {weight.shape}"
        )
    if max_norm is not None:
        _renormalize_rows(weight, indices, max_norm, norm_type)
    return Embedding.apply(
        weight, indices=indices, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq
    )


def _renormalize_rows(weight: Tensor, indices: Array, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` at ``indices`` whose norm exceeds ``max_norm`` down to
    it, in place and outside autograd (PyTorch's ``embedding_renorm_``)."""
    xp = get_array_module(weight.data)
    rows = xp.unique(indices.reshape(-1))
    picked = weight.data[rows]
    norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(picked.dtype)
    weight.data[rows] = picked * scale[:, None]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encoding: ``(*)`` class indices become ``(*, num_classes)`` int64 rows of 0s and a 1.

    Args:
        tensor: Non-negative integer class indices.
        num_classes: The number of classes; ``max(tensor) + 1`` if -1.

    Returns:
        An int64 tensor of shape ``(*, num_classes)``.

    Example:
        >>> F.one_hot(ac.tensor([0, 2]), 3)
        Tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    _check_indices("one_hot", tensor)
    labels = tensor.data
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(labels.max()) + 1
    if num_classes < 0:
        raise ValueError(f"num_classes must be -1 or non-negative, got {num_classes}")
    if labels.size and (bool((labels < 0).any()) or int(labels.max()) >= num_classes):
        raise ValueError(
            f"one_hot needs class values in [0, {num_classes}), got values from "
            f"{int(labels.min())} to {int(labels.max())}"
        )
    xp = get_array_module(labels)
    encoded = labels[..., None] == xp.arange(num_classes)
    return Tensor(encoded.astype(np.int64), device=tensor.device)
