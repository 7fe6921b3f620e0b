"""Padding and resizing: ``pad`` with PyTorch's modes and ``interpolate`` (nearest).

The non-constant padding modes and nearest-neighbour resizing pick input elements by
index along each axis (Tensor indexing), so their gradients add up wherever one input
element was picked several times.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from auto_compyute._core.functions import pad as constant_pad
from auto_compyute._core.tensor import Tensor

__all__ = ["interpolate", "pad"]

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last axes: ``pad = (last_left, last_right, second_last_left, ...)``.

    Args:
        input: Any tensor.
        pad: Pairs of non-negative widths, starting from the last axis.
        mode: ``"constant"`` (fill with ``value``), ``"reflect"`` (mirror without
            repeating the edge), ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap
            around).
        value: The fill value of ``"constant"`` padding (0 if None).

    Returns:
        The padded tensor.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    if mode == "constant":
        return constant_pad(input, pad, value=0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"pad value applies to constant padding only, not to mode {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim or any(p < 0 for p in pad):
        raise ValueError(
            f"pad needs pairs of non-negative widths for at most {input.ndim} dimensions, "
            f"got {tuple(pad)}"
        )
    result = input
    for i in range(len(pad) // 2):
        dim, left, right = input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        size = input.shape[dim]
        limit = size - 1 if mode == "reflect" else size
        if (left or right) and (max(left, right) > limit or size == 0):
            raise ValueError(
                f"{mode} padding of ({left}, {right}) needs more than "
                f"{'one element more' if mode == 'reflect' else 'as many elements'} along "
                f"dim {dim}, whose size is {size}"
            )
        positions = np.arange(-left, size + right)
        if mode == "reflect":
            positions = np.abs(positions)
            positions = np.where(positions >= size, 2 * (size - 1) - positions, positions)
        elif mode == "replicate":
            positions = np.clip(positions, 0, size - 1)
        else:
            positions = positions % size
        result = result[(slice(None),) * dim + (positions,)]
    return result


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
) -> Tensor:
    """Resize the spatial axes (all after batch and channel) by nearest-neighbour sampling.

    Output element ``i`` of an axis takes input element ``floor(i * scale)``, with
    ``scale = in / out`` for ``size`` and ``1 / scale_factor`` otherwise, as PyTorch's
    ``"nearest"`` mode.

    Args:
        input: A tensor of shape ``(N, C, *spatial)`` with one to three spatial axes.
        size: The output's spatial size (one int for all axes, or one per axis).
        scale_factor: The ratio of output to input size instead (one or one per axis).
        mode: Only ``"nearest"`` is available.

    Returns:
        The resized tensor ``(N, C, *size)``.
    """
    if mode != "nearest":
        raise NotImplementedError(f"interpolate supports mode='nearest' only, got {mode!r}")
    spatial = input.ndim - 2
    if not 1 <= spatial <= 3:
        raise ValueError(
            f"interpolate needs an input (N, C, *spatial) of 3 to 5 axes, got {input.shape}"
        )
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate takes size or scale_factor, not both")
    sizes_in = input.shape[2:]
    if size is not None:
        sizes = [size] * spatial if isinstance(size, int) else list(size)
        scales = [n / m if m else 0.0 for n, m in zip(sizes_in, sizes, strict=False)]
    elif scale_factor is not None:
        factors = (
            [scale_factor] * spatial
            if isinstance(scale_factor, int | float)
            else list(scale_factor)
        )
        sizes = [math.floor(n * f) for n, f in zip(sizes_in, factors, strict=False)]
        scales = [1 / f for f in factors]
    else:
        raise ValueError("interpolate needs size or scale_factor")
    if len(sizes) != spatial or len(scales) != spatial or min(sizes) < 0:
        raise ValueError(
            f"interpolate needs {spatial} output sizes for an input of shape {input.shape}, "
            f"got size={size}, scale_factor={scale_factor}"
        )
    result = input
    for axis, (n_in, n_out, scale) in enumerate(zip(sizes_in, sizes, scales, strict=True)):
        positions = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
        result = result[(slice(None),) * (axis + 2) + (positions,)]
    return result
