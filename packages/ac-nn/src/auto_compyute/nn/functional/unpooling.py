"""Max unpooling: ``max_unpool1d/2d/3d``, the partial inverse of ``max_pool*d``.

Each input value is written to the position its index names in a zero output; the indices
are PyTorch's (as ``max_pool*d(..., return_indices=True)`` gives them): flat positions in
each channel's output plane or volume.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional._windows import Ints, tuple_arg

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


class MaxUnpool(Op):
    """out[n, c, indices[n, c, k]] = x[n, c, k] in zeros (N, C, size); d/dx: the gradient
    gathered at the indices (every input gets its position's gradient, shared or not)."""

    def forward(self, x: Array, *, indices: Array, size: int) -> Array:
        xp = get_array_module(x)
        n, c, _ = x.shape
        out = xp.zeros((n, c, size), dtype=x.dtype)
        out[xp.arange(n).reshape(-1, 1, 1), xp.arange(c).reshape(1, -1, 1), indices] = x
        return out

    def backward(self, grad: Array) -> Array:
        return get_array_module(grad).take_along_axis(grad, self.kwargs["indices"], axis=2)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.gather(2, self.kwargs["indices"])


def _output_size(
    op: str,
    x: Tensor,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_size: Any,
) -> tuple[int, ...]:
    """PyTorch's unpooling size: ``(in - 1) * stride + kernel - 2 * padding`` per axis, or
    ``output_size`` (the trailing axes of a full shape are taken), which must lie strictly
    within ``stride`` of that."""
    spatial = len(kernel)
    default = tuple(
        (n - 1) * s + k - 2 * p
        for n, k, s, p in zip(x.shape[-spatial:], kernel, stride, padding, strict=True)
    )
    if output_size is None:
        return default
    sizes = tuple(output_size)
    if len(sizes) == spatial + 2:
        sizes = sizes[2:]
    if len(sizes) != spatial:
        raise ValueError(
            f"{op}: output_size must have {spatial} or {spatial + 2} elements, got {output_size!r}"
        )
    for size, base, s in zip(sizes, default, stride, strict=True):
        if not base - s < size < base + s:
            raise ValueError(
                f"{op}: invalid output_size {output_size!r} (each size must lie strictly "
                f"between {tuple(b - s for b, s in zip(default, stride, strict=True))} and "
                f"{tuple(b + s for b, s in zip(default, stride, strict=True))})"
            )
    return sizes


def _max_unpool(
    op: str,
    input: Tensor,
    indices: Tensor,
    kernel_size: Ints,
    stride: Ints | None,
    padding: Ints,
    output_size: Any,
    spatial: int,
) -> Tensor:
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{op}: expected a {spatial + 2}-D input (N, C, *spatial) or a {spatial + 1}-D "
            f"unbatched one, got shape {input.shape}"
        )
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    if indices.shape != input.shape:
        raise ValueError(
            f"{op}: indices of shape {indices.shape} must have the input's shape {input.shape}"
        )
    kernel = tuple_arg(kernel_size, spatial, "kernel_size")
    strides = kernel if stride is None else tuple_arg(stride, spatial, "stride")
    pads = tuple_arg(padding, spatial, "padding")
    if any(v < 1 for v in kernel + strides):
        raise ValueError(f"{op}: kernel_size {kernel} and stride {strides} must be positive")
    sizes = _output_size(op, input, kernel, strides, pads, output_size)
    if any(size < 1 for size in sizes):
        raise ValueError(f"{op}: the output size {sizes} for input {input.shape} is empty")
    unbatched = input.ndim == spatial + 1
    lead = (1, *input.shape[:1]) if unbatched else input.shape[:2]
    count = math.prod(sizes)
    flat = indices.data.reshape(*lead, -1).astype(np.int64, copy=False)
    outside = (flat < 0) | (flat >= count)
    if bool(outside.any()):
        bad = flat[outside][0]
        raise RuntimeError(
            f"{op}: index {int(bad)} is out of range for an output of size {sizes} "
            f"({count} elements per channel)"
        )
    out = MaxUnpool.apply(input.reshape(*lead, -1), indices=flat, size=count)
    return out.reshape(*input.shape[: input.ndim - spatial], *sizes)


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    output_size: Any = None,
) -> Tensor:
    """Partial inverse of ``max_pool1d``: each value goes to the position its index names
    along L of a zero output; everything else stays 0.

    Args:
        input: Pooled values (N, C, L) or unbatched (C, L).
        indices: The integer indices from ``max_pool1d(..., return_indices=True)``, of the
            input's shape.
        kernel_size: The pooling window size.
        stride: The pooling step; defaults to ``kernel_size``.
        padding: The pooling padding.
        output_size: The output length (or full shape), within ``stride`` of the default
            ``(L - 1) * stride + kernel_size - 2 * padding``.

    Returns:
        A tensor (N, C, OL) (or (C, OL)).

    Example:
        >>> out, idx = F.max_pool1d(ac.randn(1, 2, 8), 2, return_indices=True)
        >>> F.max_unpool1d(out, idx, 2).shape
        (1, 2, 8)
    """
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    output_size: Any = None,
) -> Tensor:
    """Partial inverse of ``max_pool2d``: each value goes to the flat position ``h * OW + w``
    its index names in its channel's zero output plane.

    Args:
        input: Pooled values (N, C, H, W) or unbatched (C, H, W).
        indices: The integer indices from ``max_pool2d(..., return_indices=True)``, of the
            input's shape.
        kernel_size: The pooling window size, an int or (KH, KW).
        stride: The pooling step; defaults to ``kernel_size``.
        padding: The pooling padding.
        output_size: (OH, OW) (or a full shape), each within ``stride`` of the default
            ``(in - 1) * stride + kernel_size - 2 * padding``.

    Returns:
        A tensor (N, C, OH, OW) (or (C, OH, OW)).

    Example:
        >>> out, idx = F.max_pool2d(ac.randn(1, 2, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(out, idx, 2).shape
        (1, 2, 4, 4)
    """
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(
    input: Tensor,
    indices: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    output_size: Any = None,
) -> Tensor:
    """Partial inverse of ``max_pool3d``: each value goes to the flat position
    ``(d * OH + h) * OW + w`` its index names in its channel's zero output volume.

    Args:
        input: Pooled values (N, C, D, H, W) or unbatched (C, D, H, W).
        indices: The integer indices from ``max_pool3d(..., return_indices=True)``, of the
            input's shape.
        kernel_size: The pooling window size, an int or (KD, KH, KW).
        stride: The pooling step; defaults to ``kernel_size``.
        padding: The pooling padding.
        output_size: (OD, OH, OW) (or a full shape), each within ``stride`` of the default.

    Returns:
        A tensor (N, C, OD, OH, OW) (or (C, OD, OH, OW)).
    """
    return _max_unpool("max_unpool3d", input, indices, kernel_size, stride, padding, output_size, 3)
