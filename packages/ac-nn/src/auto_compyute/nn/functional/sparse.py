"""Lookups by integer index: ``embedding``, ``embedding_bag`` and ``one_hot``."""

from __future__ import annotations

from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.ops.movement import PutAt
from auto_compyute._core.tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]

_BAG_MODES = ("sum", "mean", "max")


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


def run_starts(ordered: Array) -> Array:
    """Where each run of equal values begins in the sorted 1-D ``ordered``."""
    return np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))


def _add_rows(table: Array, indices: Array, rows: Array) -> None:
    """``table[indices[i]] += rows[i]`` for every i; repeated indices add up.

    NOTE: where indices repeat a lot (each row of the table used 16 times or more on
    average), sorting them and summing each run of equal ones with ``add.reduceat`` is
    fastest (0.4 ms for 2,048 of 65 rows of 128, against 0.5 and 1.7 ms below); otherwise
    NumPy's ``add.at`` over the flat places of the elements, which runs 2-3x as fast as
    ``add.at`` over rows (5.1 against 15.7 ms for 8,192 of 30,000 rows of 256; 1.0 against
    3.4 ms for 2,000 of 1,000 rows, where ``add.reduceat`` took 3.5 ms; NumPy 2.4).
    """
    xp = get_array_module(table)
    if xp is not np or len(indices) == 0 or not table.flags.c_contiguous:
        xp.add.at(table, indices, rows)
        return
    if len(indices) < 16 * table.shape[0]:
        width = table[0].size
        places = indices.astype(np.int64, copy=False).reshape(-1, 1) * width + np.arange(width)
        np.add.at(table.reshape(-1), places.reshape(-1), rows.reshape(-1))
        return
    order = np.argsort(indices, kind="stable")
    ordered = indices[order]
    starts = run_starts(ordered)
    table[ordered[starts]] = np.add.reduceat(rows[order], starts, axis=0)


def _add_picked_rows(
    table: Array, indices: Array, source: Array, picks: Array, factor: Array | None
) -> None:
    """``table[indices[i]] += source[picks[i]] * factor[i]`` for every i (see ``_add_rows``);
    on NumPy, sorting first gathers the rows of ``source`` once, already in order."""
    xp = get_array_module(table)
    if xp is not np:
        rows = source[picks] if factor is None else source[picks] * factor[:, None]
        xp.add.at(table, indices, rows)
        return
    order = np.argsort(indices, kind="stable")
    ordered = indices[order]
    starts = run_starts(ordered)
    rows = source[picks[order]]
    if factor is not None:
        rows *= factor[order][:, None]
    table[ordered[starts]] = np.add.reduceat(rows, starts, axis=0)


def _segment_starts(bags: Array) -> Array:
    """Where each run of equal values of the sorted ``bags`` starts."""
    xp = get_array_module(bags)
    return xp.flatnonzero(xp.concatenate([xp.ones(min(len(bags), 1), bool), bags[1:] != bags[:-1]]))


class EmbeddingBag(Op):
    """Per bag, the sum (optionally of rows scaled by per-sample weights), mean or maximum
    of the rows ``weight[indices]`` that belong to it; empty bags give zeros.

    d/dweight: each use of a row gets its bag's gradient (times its per-sample weight, or
    divided by the bag's size for the mean); for the maximum only the row holding each
    element's (first) maximum gets it. d/dper_sample_weights: the row dotted with its
    bag's gradient.

    NOTE: a primitive for speed: the bags are runs of a sorted bag index, reduced with one
    ``reduceat`` each way instead of a gather and a scatter of (uses, dim) tensors.
    """

    def forward(
        self,
        weight: Array,
        *per_sample_weights: Array,
        indices: Array,
        bags: Array,
        count: int,
        mode: str,
        scale_grad_by_freq: bool,
    ) -> Array:
        xp = get_array_module(weight)
        self.shape, self.dtype = weight.shape, weight.dtype
        rows = weight[indices]
        self.scales = per_sample_weights[0] if per_sample_weights else None
        # NOTE: backward needs the rows only for the gradient of the per-sample weights.
        self.weight, self.rows = weight, (None if self.scales is None else rows)
        self.starts = _segment_starts(bags)
        self.filled = bags[self.starts]  # the bags that are not empty
        out = xp.zeros((count, weight.shape[1]), dtype=weight.dtype)
        if not len(indices):
            return out
        if mode == "max":
            out[self.filled] = _reduce_runs(xp.maximum, rows, self.starts, bags, count)
            found = rows == out[bags]
            # NOTE: int32 positions halve the memory the search for the first maximum reads.
            order = xp.arange(len(indices), dtype=np.int32 if len(indices) < 2**31 else np.int64)
            position = xp.where(found, order[:, None], order.dtype.type(len(indices)))
            first = _reduce_runs(xp.minimum, position, self.starts, bags, count)
            self.argmax = indices[first]  # (filled bags, dim): the row of each maximum
            return out
        if self.scales is not None:
            rows = rows * self.scales[:, None]
        out[self.filled] = _reduce_runs(xp.add, rows, self.starts, bags, count)
        if mode == "mean":
            self.sizes = xp.bincount(bags, minlength=count).astype(weight.dtype)
            out /= xp.maximum(self.sizes, 1)[:, None]
        return out

    def backward(self, grad: Array) -> Array | tuple[Array | None, Array | None]:
        xp = get_array_module(grad)
        kw = self.kwargs
        indices, bags, dim = kw["indices"], kw["bags"], self.shape[1]
        table = xp.zeros(self.shape, dtype=self.dtype)
        if not len(indices):
            return table if self.scales is None else (table, xp.zeros(0, dtype=grad.dtype))
        if kw["mode"] == "max":
            flat = (self.argmax * dim + xp.arange(dim)).reshape(-1)
            _add_rows(table.reshape(-1), flat, grad[self.filled].reshape(-1))
            return table
        factor = self.scales  # each use's scale of its bag's gradient
        if kw["mode"] == "mean":
            factor = 1 / xp.maximum(self.sizes, 1)[bags]
        if kw["scale_grad_by_freq"]:
            uses = xp.bincount(indices, minlength=self.shape[0])[indices].astype(self.dtype)
            factor = 1 / uses if factor is None else factor / uses
        if self.needs_grad[0]:
            _add_picked_rows(table, indices, grad, bags, factor)
        if self.scales is None:
            return table
        dscales = (self.rows * grad[bags]).sum(axis=1) if self.needs_grad[1] else None
        return table, dscales

    def graph_backward(self, grad: Tensor) -> Tensor | tuple[Tensor | None, ...]:
        xp = get_array_module(grad.data)
        kw = self.kwargs
        indices, bags, dim = kw["indices"], kw["bags"], self.shape[1]
        if not len(indices):
            table = self._constant(xp.zeros(self.shape, dtype=self.dtype))
            empty = self._constant(xp.zeros(0, dtype=self.dtype))
            return table if self.scales is None else (table, empty)
        if kw["mode"] == "max":
            columns = xp.broadcast_to(xp.arange(dim), self.argmax.shape)
            return PutAt.apply(grad[self.filled], key=(self.argmax, columns), shape=self.shape)
        used = grad[bags]
        dscales = None
        if self.scales is not None and self.needs_grad[1]:
            dscales = (self._input(0, self.weight)[indices] * used).sum(1)
        if kw["mode"] == "mean":
            used = used / self._constant(xp.maximum(self.sizes, 1)[bags][:, None])
        if self.scales is not None:
            used = used * self._input(1, self.scales).unsqueeze(1)
        if kw["scale_grad_by_freq"]:
            uses = xp.bincount(indices, minlength=self.shape[0])[indices]
            used = used / self._constant(uses[:, None].astype(self.dtype))
        table = PutAt.apply(used, key=(indices,), shape=self.shape)
        return table if self.scales is None else (table, dscales)


def _reduce_runs(ufunc: Any, values: Array, starts: Array, bags: Array, count: int) -> Array:
    """``ufunc`` over each run of rows of ``values`` that starts at ``starts`` (one result
    per non-empty bag, in order)."""
    if isinstance(values, np.ndarray):
        return ufunc.reduceat(values, starts, axis=0)
    xp = get_array_module(values)
    identity = 0 if ufunc is xp.add else (-xp.inf if ufunc is xp.maximum else len(values))
    out = xp.full((count, values.shape[1]), identity, dtype=values.dtype)
    ufunc.at(out, bags, values)
    return out[bags[starts]]


def _check_indices(name: str, input: Tensor) -> None:
    if input.dtype.kind not in "iu":
        raise TypeError(f"{name} needs integer indices, got dtype {input.dtype}")


def _padding_row(padding_idx: int | None, weight: Tensor) -> int | None:
    """``padding_idx`` checked against the rows of ``weight`` and made non-negative."""
    if padding_idx is None:
        return None
    rows = weight.shape[0]
    if not -rows <= padding_idx < rows:
        raise ValueError(
            f"padding_idx {padding_idx} is out of range for a weight of shape {weight.shape}"
        )
    return padding_idx % rows


def _check_rows(op: str, indices: Array, weight: Tensor) -> None:
    """Raise an IndexError naming the first of ``indices`` that is not a row of ``weight``."""
    outside = (indices < 0) | (indices >= weight.shape[0])
    if bool(outside.any()):
        raise IndexError(
            f"{op}: index {int(indices[outside][0])} is out of range for a weight of shape "
            f"{weight.shape}"
        )


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
        norm_type: The p of that norm (``inf``: the largest ``|x|``, 0: the nonzeros' count).
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
    padding_idx = _padding_row(padding_idx, weight)
    indices = input.data
    _check_rows("embedding", indices, weight)
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
    norms = xp.linalg.norm(picked, ord=norm_type, axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(picked.dtype)
    weight.data[rows] = picked * scale[:, None]


def _bags(
    input: Tensor, offsets: Tensor | None, include_last_offset: bool
) -> tuple[Array, Array, int]:
    """The flat indices, the bag of each (sorted) and the number of bags."""
    xp = get_array_module(input.data)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: with a 2-D input (B, L) (B bags of L indices), offsets must "
                f"be None, got a tensor of shape {offsets.shape}"
            )
        count, length = input.shape
        return input.data.reshape(-1), xp.repeat(xp.arange(count), length), count
    if input.ndim != 1:
        raise ValueError(f"embedding_bag needs a 1-D or 2-D input, got shape {input.shape}")
    if offsets is None or offsets.ndim != 1:
        shape = None if offsets is None else offsets.shape
        raise ValueError(f"embedding_bag: a 1-D input needs 1-D offsets, got {shape}")
    _check_indices("embedding_bag offsets", offsets)
    starts, total = offsets.data.astype(np.int64), input.shape[0]
    count = len(starts) - 1 if include_last_offset else len(starts)
    if len(starts) and int(starts[0]) != 0:
        raise ValueError(f"embedding_bag: offsets[0] must be 0, got {int(starts[0])}")
    if bool((starts[1:] < starts[:-1]).any()) or (len(starts) and int(starts[-1]) > total):
        raise ValueError(
            f"embedding_bag: offsets must be non-decreasing and at most the input's length "
            f"{total}, got {starts.tolist()}"
        )
    bags = xp.searchsorted(starts, xp.arange(total), side="right") - 1
    return input.data, bags, max(count, 0)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without building the ``(*, dim)``
    lookup of ``embedding``.

    A 2-D input ``(B, L)`` is B bags of L indices. A 1-D input is cut into bags at
    ``offsets`` (bag i runs from ``offsets[i]`` to ``offsets[i + 1]``, the last one to the
    end, or, with ``include_last_offset``, the last offset ends the last bag). Indices equal
    to ``padding_idx`` are left out of their bags (and of a mean's count); empty bags give
    zeros. The weight's gradient is PyTorch's: every use of a row gets its bag's gradient
    (scaled as the forward scaled the row), and in ``"max"`` mode only the row holding each
    element's first maximum gets it.

    Args:
        input: Integer indices, ``(B, L)`` or 1-D with ``offsets``.
        weight: The table, shape ``(num_embeddings, embedding_dim)``.
        offsets: The start of each bag in a 1-D input (``offsets[0]`` is 0).
        max_norm: If given, every looked-up row whose ``norm_type``-norm exceeds it is
            first scaled down to it, in place in ``weight`` (as PyTorch does).
        norm_type: The p of that norm (``inf``: the largest ``|x|``, 0: the nonzeros' count).
        scale_grad_by_freq: Divide each row's gradient by its number of uses in ``input``
            (not with ``"max"``).
        mode: ``"sum"``, ``"mean"`` or ``"max"``.
        sparse: Accepted for PyTorch compatibility; gradients are dense tables either way
            (not with ``"max"``, as in PyTorch).
        per_sample_weights: Weights of the input's shape that scale each row before the
            sum (``"sum"`` mode only); differentiable.
        include_last_offset: Whether ``offsets`` has one more entry, the end of the last bag.
        padding_idx: A row (negative counts from the end) left out of every bag.

    Returns:
        A tensor ``(B, embedding_dim)``.

    Example:
        >>> table = ac.randn(10, 3, req_grad=True)
        >>> F.embedding_bag(ac.tensor([1, 2, 4, 5, 4]), table, ac.tensor([0, 2])).shape
        (2, 3)
    """
    _check_indices("embedding_bag", input)
    if weight.ndim != 2:
        raise ValueError(
            "embedding_bag needs a weight of shape (num_embeddings, embedding_dim), got "
            f"{weight.shape}"
        )
    if mode not in _BAG_MODES:
        raise ValueError(f"embedding_bag: mode must be one of 'sum', 'mean', 'max', got {mode!r}")
    if mode == "max" and (scale_grad_by_freq or sparse):
        raise ValueError("embedding_bag: mode 'max' supports neither scale_grad_by_freq nor sparse")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights is only supported for mode='sum', got {mode!r}"
            )
        if per_sample_weights.shape != input.shape:
            raise ValueError(
                f"embedding_bag: per_sample_weights of shape {per_sample_weights.shape} must "
                f"have the input's shape {input.shape}"
            )
        if per_sample_weights.dtype != weight.dtype:
            raise TypeError(
                f"embedding_bag: per_sample_weights ({per_sample_weights.dtype}) must have the "
                f"weight's dtype ({weight.dtype})"
            )
    padding_idx = _padding_row(padding_idx, weight)
    indices, bags, count = _bags(input, offsets, include_last_offset)
    _check_rows("embedding_bag", indices, weight)
    if max_norm is not None:
        _renormalize_rows(weight, indices, max_norm, norm_type)
    # NOTE: padding and, with include_last_offset, indices past the last offset are in no bag.
    kept = bags < count
    if padding_idx is not None:
        kept &= indices != padding_idx
    weights = () if per_sample_weights is None else (per_sample_weights.reshape(-1)[kept],)
    return EmbeddingBag.apply(
        weight,
        *weights,
        indices=indices[kept].astype(np.int64),
        bags=bags[kept],
        count=count,
        mode=mode,
        scale_grad_by_freq=scale_grad_by_freq,
    )


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
