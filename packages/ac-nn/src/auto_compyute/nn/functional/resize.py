"""Padding and resizing: ``pad`` with PyTorch's modes and ``interpolate``.

The non-constant padding modes and resizing pick input elements by index along each axis
(Tensor indexing), so their gradients add up wherever one input element was picked
several times; linear resizing mixes two picks per output element, cubic four. ``area``
resizing is adaptive average pooling, as in PyTorch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import cast

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.functions import pad as constant_pad
from auto_compyute._core.ops.movement import PutAt
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
)
from auto_compyute.nn.functional.sparse import run_starts

__all__ = [
    "channel_shuffle",
    "interpolate",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]

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
        size, widest = input.shape[dim], max(left, right)
        if widest and size == 0:
            raise ValueError(f"{mode} padding needs a non-empty dim {dim}, got shape {input.shape}")
        if mode == "reflect" and widest >= size:
            raise ValueError(
                f"reflect padding of ({left}, {right}) along dim {dim} needs widths below its "
                f"size {size}"
            )
        if mode == "circular" and widest > size:
            raise ValueError(
                f"circular padding of ({left}, {right}) along dim {dim} needs widths of at most "
                f"its size {size}"
            )
        positions = np.arange(-left, size + right)
        if mode == "reflect":
            positions = np.abs(positions)
            positions = np.where(positions >= size, 2 * (size - 1) - positions, positions)
        elif mode == "replicate":
            positions = np.clip(positions, 0, size - 1)
        else:
            positions = positions % size
        result = _pick(result, dim, positions)
    return result


def _pick(x: Tensor, dim: int, positions: np.ndarray) -> Tensor:
    """``x`` indexed by integer ``positions`` along ``dim`` (repeats allowed)."""
    if type(x.data) is np.ndarray:
        return _Pick.apply(x, dim=dim, positions=positions)
    key = (*(slice(None),) * dim, Tensor(positions, device=x.device))
    return x[key]


class _Pick(Op):
    """x indexed by ``positions`` (non-negative, repeats allowed) along ``dim``; the gradient
    of each position adds up (NumPy arrays).

    NOTE: an op for its backward: the indexing op's scatter (``add.at`` under a key of
    slices and an index array) ran padding's and interpolation's backward 5-26x PyTorch's
    time; summing each run of equal positions (sorted) with ``add.reduceat`` is one pass.
    """

    def forward(self, x: Array, *, dim: int, positions: Array) -> Array:
        self.shape = x.shape
        return x.take(positions, axis=dim)

    def backward(self, grad: Array) -> Array:
        dim, positions = self.kwargs["dim"], self.kwargs["positions"]
        if (positions[1:] >= positions[:-1]).all():  # upsampling, replicate padding
            ordered = positions
        else:
            order = np.argsort(positions, kind="stable")
            ordered, grad = positions[order], grad.take(order, axis=dim)
        starts = run_starts(ordered)
        sums = np.add.reduceat(grad, starts, axis=dim)
        picked = ordered[starts]
        if len(picked) == self.shape[dim]:  # every position picked: the sums are the gradient
            return sums
        out = np.zeros(self.shape, dtype=grad.dtype)
        out[(slice(None),) * dim + (picked,)] = sums
        return out

    def graph_backward(self, grad: Tensor) -> Tensor:
        key = (slice(None),) * self.kwargs["dim"] + (self.kwargs["positions"],)
        return PutAt.apply(grad, key=key, shape=self.shape)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}  # mode -> spatial axes
_ADAPTIVE_AVG_POOLS = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Resize the spatial axes (all after batch and channel), as PyTorch's ``interpolate``.

    ``"nearest"``: output element ``i`` of an axis takes input element ``floor(i * scale)``.
    ``"linear"``, ``"bilinear"``, ``"trilinear"`` (for 1, 2, 3 spatial axes): it mixes the
    two input elements around ``(i + 0.5) * scale - 0.5`` (at least 0), linearly along each
    axis; with ``align_corners`` around ``i * (in - 1) / (out - 1)`` instead, so that the
    corner elements stay. ``scale = in / out`` for ``size``, ``1 / scale_factor`` otherwise.
    ``"bicubic"`` (2 spatial axes): the four input elements around the same source
    position (not clamped at 0 here), weighted by Keys' cubic convolution with
    ``A = -0.75``; indices past an edge read the edge element, as in PyTorch.
    ``"area"``: adaptive average pooling to the output size (``F.adaptive_avg_pool2d`` etc.).

    Args:
        input: A tensor of shape ``(N, C, *spatial)`` with one to three spatial axes.
        size: The output's spatial size (one int for all axes, or one per axis).
        scale_factor: The ratio of output to input size instead (one or one per axis).
        mode: ``"nearest"``, ``"linear"``, ``"bilinear"``, ``"bicubic"``, ``"trilinear"``
            or ``"area"``.
        align_corners: For the linear and cubic modes (False if None); must be None for
            ``"nearest"`` and ``"area"``.

    Returns:
        The resized tensor ``(N, C, *size)``.
    """
    spatial = input.ndim - 2
    if mode not in ("nearest", "area", "bicubic") and mode not in _LINEAR_MODES:
        raise NotImplementedError(
            "interpolate supports modes 'nearest', 'linear', 'bilinear', 'bicubic', "
            f"'trilinear' and 'area', got {mode!r}"
        )
    needs = _LINEAR_MODES.get(mode, 2 if mode == "bicubic" else None)
    if needs is not None and spatial != needs:
        raise ValueError(
            f"interpolate mode {mode!r} needs {needs} spatial axes, got an input "
            f"of shape {input.shape}"
        )
    if mode in ("nearest", "area") and align_corners is not None:
        raise ValueError(f"align_corners applies to the interpolating modes only, not to {mode!r}")
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
    if mode == "area":
        return _ADAPTIVE_AVG_POOLS[spatial](input, tuple(sizes))
    result = input
    for axis, (n_in, n_out, scale) in enumerate(zip(sizes_in, sizes, scales, strict=True)):
        if mode == "bicubic":
            result = _cubic_along(result, axis + 2, n_in, n_out, scale, bool(align_corners))
            continue
        if mode == "nearest":
            positions = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
            result = _pick(result, axis + 2, positions)
            continue
        if align_corners:
            source = np.arange(n_out) * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
        else:
            source = np.maximum((np.arange(n_out) + 0.5) * scale - 0.5, 0.0)
        low = np.minimum(np.floor(source).astype(np.int64), n_in - 1)
        high = np.minimum(low + 1, n_in - 1)
        # the weight of the upper neighbour, broadcast along this axis
        weight = (source - low).astype(input.dtype).reshape(-1, *(1,) * (spatial - 1 - axis))
        lower, upper = _pick(result, axis + 2, low), _pick(result, axis + 2, high)
        result = lower + (upper - lower) * Tensor(weight, device=input.device)
    return result


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Deprecated (as in PyTorch, with its warning): ``interpolate`` with the same arguments."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Deprecated (as in PyTorch, with its warning): ``interpolate(..., mode="nearest")``."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Deprecated (as in PyTorch, with its warning): ``interpolate(..., mode="bilinear",
    align_corners=True)`` of an ``(N, C, H, W)`` input."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution parameter


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """(4, L) weights of the neighbours at offsets -1, 0, 1, 2 for fractions ``t`` (L,):
    Keys' cubic convolution kernel with ``A = -0.75``, as PyTorch's ``upsample_bicubic2d``."""
    a = _CUBIC_A

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)])


def _cubic_along(
    x: Tensor, dim: int, n_in: int, n_out: int, scale: float, align_corners: bool
) -> Tensor:
    """Cubic interpolation of ``x`` along ``dim``: four neighbours per output element, their
    indices clamped to the input (PyTorch's border rule)."""
    if align_corners:
        source = np.arange(n_out) * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        # NOTE: unlike the linear modes, PyTorch does not clamp cubic sources at 0
        source = (np.arange(n_out) + 0.5) * scale - 0.5
    start = np.floor(source)
    weights = _cubic_weights(source - start).astype(x.dtype)
    start = start.astype(np.int64)
    shape = (-1, *(1,) * (x.ndim - 1 - dim))
    result = None
    for k in range(4):
        picked = _pick(x, dim, np.clip(start - 1 + k, 0, n_in - 1))
        term = picked * Tensor(weights[k].reshape(shape), device=x.device)
        result = term if result is None else result + term
    return cast(Tensor, result)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C * r * r, H, W)`` into ``(*, C, H * r, W * r)`` (sub-pixel convolution).

    Args:
        input: A tensor with at least 3 axes whose channel count divides by ``r * r``.
        upscale_factor: ``r``.

    Returns:
        The rearranged tensor.
    """
    r = upscale_factor
    *lead, channels, height, width = input.shape
    if input.ndim < 3 or channels % (r * r):
        raise ValueError(
            f"pixel_shuffle needs (*, C * {r * r}, H, W) for upscale_factor {r}, got {input.shape}"
        )
    blocks = input.reshape(*lead, channels // (r * r), r, r, height, width)
    k = len(lead)
    order = (*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return blocks.permute(order).reshape(*lead, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of ``pixel_shuffle``: ``(*, C, H * r, W * r)`` into ``(*, C * r * r, H, W)``."""
    r = downscale_factor
    *lead, channels, height, width = input.shape
    if input.ndim < 3 or height % r or width % r:
        raise ValueError(
            f"pixel_unshuffle needs (*, C, H * {r}, W * {r}) for downscale_factor {r}, "
            f"got {input.shape}"
        )
    blocks = input.reshape(*lead, channels, height // r, r, width // r, r)
    k = len(lead)
    order = (*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return blocks.permute(order).reshape(*lead, channels * r * r, height // r, width // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups (ShuffleNet): ``(N, C, *)`` viewed as
    ``(N, groups, C / groups, *)``, its axes 1 and 2 swapped, and flattened back.

    Args:
        input: A tensor ``(N, C, *)`` with at least 3 axes and ``C`` divisible by ``groups``.
        groups: The number of groups.

    Returns:
        A tensor of the input's shape.
    """
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"channel_shuffle needs a positive integer groups, got {groups!r}")
    if input.ndim < 3:
        raise ValueError(
            f"channel_shuffle expects an input (N, C, *) with at least 3 axes, got shape "
            f"{input.shape}"
        )
    n, channels, *rest = input.shape
    if channels % groups:
        raise ValueError(
            f"channel_shuffle needs a channel count divisible by groups, got {channels} "
            f"channels and {groups} groups"
        )
    grouped = input.reshape(n, groups, channels // groups, *rest)
    return grouped.transpose(1, 2).reshape(input.shape)
