"""Spatial transformers: ``affine_grid`` and ``grid_sample``.

``affine_grid`` is composed from tensor ops (its gradient to ``theta`` comes for free).
``grid_sample`` is a primitive: every output point reads a few input elements ("taps":
2 per axis for bilinear, 4 for bicubic, 1 for nearest) with weights that depend on the
point's coordinates, so one ``Op`` gathers all taps of all points at once in forward and
scatters the input gradient in one sorted reduction in backward.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional.sparse import _add_rows

__all__ = ["affine_grid", "grid_sample"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDING_MODES = ("zeros", "border", "reflection")
_CUBIC_A = -0.75  # PyTorch's cubic convolution parameter


def _base_coordinates(size: int, align_corners: bool) -> np.ndarray:
    """The normalized coordinates of the ``size`` pixel centres of one axis (0 if size 1)."""
    if size <= 1:
        return np.zeros(size)
    points = np.linspace(-1.0, 1.0, size)
    return points if align_corners else points * (size - 1) / size


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps, for ``grid_sample``.

    For 2-D ``size = (N, C, H, W)``, output point ``(h, w)`` of sample ``n`` holds
    ``theta[n] @ (x_w, y_h, 1)``, where ``x_w`` and ``y_h`` are the normalized coordinates
    (in ``[-1, 1]``) of the output pixel: the pixel centres spread evenly over ``[-1, 1]``
    with ``align_corners``, over ``[-1 + 1/W, 1 - 1/W]`` without. 3-D sizes
    ``(N, C, D, H, W)`` take ``theta`` of shape ``(N, 3, 4)`` and ``(x, y, z, 1)``.

    Args:
        theta: Affine matrices ``(N, 2, 3)`` (2-D) or ``(N, 3, 4)`` (3-D), floating-point.
        size: The target output size ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        align_corners: Whether -1 and 1 are the centres of the corner pixels (False if None).

    Returns:
        The grid ``(N, H, W, 2)`` or ``(N, D, H, W, 3)``.

    Example:
        >>> theta = ac.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # the identity
        >>> F.affine_grid(theta, (1, 3, 4, 5), align_corners=False).shape
        (1, 4, 5, 2)
    """
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise ValueError(
            f"affine_grid supports 4-D (N, C, H, W) and 5-D (N, C, D, H, W) sizes, got {size}"
        )
    spatial = len(size) - 2
    if theta.dtype.kind != "f":
        raise TypeError(f"affine_grid needs a floating-point theta, got dtype {theta.dtype}")
    if theta.shape != (size[0], spatial, spatial + 1):
        raise ValueError(
            f"affine_grid needs theta of shape {(size[0], spatial, spatial + 1)} for size "
            f"{size}, got {theta.shape}"
        )
    if min(size[2:]) <= 0:
        raise ValueError(f"affine_grid needs a non-empty spatial size, got {size}")
    # the coordinates (x, y[, z]) walk the last input axis first
    axes = [_base_coordinates(n, bool(align_corners)) for n in reversed(size[2:])]
    mesh = np.meshgrid(*axes[::-1], indexing="ij")  # (D,) H, W arrays of (z,) y, x
    base = np.stack([*mesh[::-1], np.ones(size[2:])], axis=-1).reshape(-1, spatial + 1)
    base_tensor = Tensor(base.astype(theta.dtype), device=theta.device)
    grid = base_tensor @ theta.transpose(1, 2)  # (N, points, spatial)
    return grid.reshape(size[0], *size[2:], spatial)


def _unnormalize(coord: Array, size: int, align_corners: bool) -> tuple[Array, float]:
    """Pixel coordinates of normalized ones, and the derivative of that map."""
    if align_corners:  # NOTE: PyTorch's order of operations, for the same float32 rounding
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _reflect(coord: Array, size: int, align_corners: bool) -> tuple[Array, Array]:
    """Coordinates mirrored at the borders into ``[0, size - 1]`` (PyTorch's reflection
    padding: at the corner centres with ``align_corners``, else at the image edges), and the
    derivative (+1, -1 or 0)."""
    xp = get_array_module(coord)
    low, span = (0.0, size - 1.0) if align_corners else (-0.5, float(size))
    if span <= 0:
        return xp.zeros_like(coord), xp.zeros_like(coord)
    shifted = coord - low
    sign = xp.where(shifted < 0, -1.0, 1.0)
    shifted = xp.abs(shifted)
    extra = xp.fmod(shifted, span)
    even = xp.floor(shifted / span) % 2 == 0
    reflected = xp.where(even, extra + low, span - extra + low)
    return _clip(reflected, size, xp.where(even, sign, -sign))


def _clip(coord: Array, size: int, slope: Array | float = 1.0) -> tuple[Array, Array]:
    """Coordinates clipped to ``[0, size - 1]`` and the derivative (0 where clipped)."""
    xp = get_array_module(coord)
    inside = (coord >= 0) & (coord <= size - 1)
    return xp.clip(coord, 0, size - 1), xp.where(inside, slope, 0.0)


def _pad(coord: Array, size: int, padding_mode: str, align_corners: bool) -> tuple[Array, Any]:
    """Apply ``padding_mode`` to pixel coordinates: the new ones and the derivative."""
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        return _reflect(coord, size, align_corners)
    return coord, 1.0


def _cubic_weights(t: Array) -> tuple[list[Array], list[Array]]:
    """Keys' cubic convolution weights of the neighbours at offsets -1, 0, 1, 2 for the
    fractions ``t``, and their derivatives in ``t`` (PyTorch's ``A = -0.75``)."""
    a = _CUBIC_A

    def near(x: Array) -> Array:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Array) -> Array:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    def near_slope(x: Array) -> Array:
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far_slope(x: Array) -> Array:
        return (3 * a * x - 10 * a) * x + 8 * a

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    slopes = [far_slope(t + 1), near_slope(t), -near_slope(1 - t), -far_slope(2 - t)]
    return weights, slopes


class GridSample(Op):
    """Input ``(N, C, *in)`` sampled at the points of ``grid`` ``(N, *out, d)``.

    Each output point mixes taps ``v_t`` with weights ``w_t(coords)``: ``y = sum_t w_t v_t``.
    d/d input: every tap's element gets ``w_t * grad``; d/d coordinate ``k``:
    ``sum_t grad * v_t * dw_t/dk``, times the derivative of the normalized-to-pixel map (and
    of the padding, except for bicubic, whose padding moves the taps, not the point).
    Nearest sampling's weights are piecewise constant: its grid gradient is 0.
    """

    def forward(
        self, x: Array, grid: Array, *, mode: str, padding_mode: str, align_corners: bool
    ) -> Array:
        xp = get_array_module(x)
        n, channels, *sizes_in = x.shape
        dims = len(sizes_in)
        points = grid.reshape(n, -1, dims)
        self.x_shape, self.grid_shape = x.shape, grid.shape
        self.flat = x.reshape(n, channels, -1)
        # per grid component k (x, y[, z]): the input axis it walks, its size and stride
        sizes = sizes_in[::-1]
        strides = [math.prod(sizes[:k]) for k in range(dims)]
        options, self.slopes = [], []
        for k in range(dims):
            coord, slope = _unnormalize(points[..., k], sizes[k], align_corners)
            if mode == "bicubic":
                start = xp.floor(coord)
                weights, dweights = _cubic_weights(coord - start)
                taps = [
                    _pad(start + o - 1, sizes[k], padding_mode, align_corners)[0] for o in range(4)
                ]
                options.append(list(zip(taps, weights, dweights, strict=True)))
            else:
                coord, pad_slope = _pad(coord, sizes[k], padding_mode, align_corners)
                slope = slope * pad_slope
                if mode == "nearest":
                    options.append([(xp.rint(coord), 1.0, 0.0)])
                else:
                    low = xp.floor(coord)
                    frac = coord - low
                    options.append([(low, 1 - frac, -1.0), (low + 1, frac, 1.0)])
            self.slopes.append(slope)
        # every tap: the flat input index, its weight, and the weight's derivatives
        self.taps = []
        for combo in itertools.product(*options):
            index = xp.zeros(points.shape[:2], dtype=xp.int64)
            valid = xp.ones(points.shape[:2], dtype=bool)
            for k, (position, _, _) in enumerate(combo):
                valid &= (position >= 0) & (position <= sizes[k] - 1)
                index += xp.clip(position, 0, sizes[k] - 1).astype(xp.int64) * strides[k]
            weight = valid.astype(x.dtype)
            for _, w, _ in combo:
                weight = weight * w
            dweights = []
            if mode != "nearest":
                for k in range(dims):
                    dweight = valid * combo[k][2]
                    for j, (_, w, _) in enumerate(combo):
                        if j != k:
                            dweight = dweight * w
                    dweights.append(dweight.astype(x.dtype))
            self.taps.append((index, weight.astype(x.dtype), dweights))
        out = sum(weight[:, None] * self._gather(index) for index, weight, _ in self.taps)
        return xp.asarray(out, dtype=x.dtype).reshape(n, channels, *grid.shape[1:-1])

    def _gather(self, index: Array) -> Array:
        """The input elements at flat spatial ``index`` (N, Q) of every channel: (N, C, Q)."""
        xp = get_array_module(index)
        return xp.take_along_axis(self.flat, index[:, None, :], axis=2)

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        xp = get_array_module(grad)
        n, channels, spatial = self.flat.shape
        grad = grad.reshape(n, channels, -1)
        dx = dgrid = None
        if self.needs_grad[0]:
            # NOTE: the taps of all points add into rows (sample, input element) of channel
            # values at once: sorting the row indices beat xp.add.at and a bincount per channel
            base = (xp.arange(n) * spatial)[:, None]
            rows = grad.transpose(0, 2, 1)  # (N, Q, C)
            indices = xp.concatenate([(base + index).ravel() for index, _, _ in self.taps])
            values = xp.concatenate(
                [(rows * weight[..., None]).reshape(-1, channels) for _, weight, _ in self.taps]
            )
            table = xp.zeros((n * spatial, channels), dtype=grad.dtype)
            _add_rows(table, indices, values)
            dx = table.reshape(n, spatial, channels).transpose(0, 2, 1).reshape(self.x_shape)
        if self.needs_grad[1]:
            dgrid = xp.zeros((n, grad.shape[2], len(self.slopes)), dtype=grad.dtype)
            if self.kwargs["mode"] != "nearest":
                for index, _, dweights in self.taps:
                    tap_grad = (grad * self._gather(index)).sum(axis=1)
                    for k, dweight in enumerate(dweights):
                        dgrid[..., k] += tap_grad * dweight
                for k, slope in enumerate(self.slopes):
                    dgrid[..., k] *= slope
            dgrid = dgrid.reshape(self.grid_shape)
        return dx, dgrid


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample ``input`` at the normalized coordinates of ``grid`` (spatial transformers).

    ``grid[n, h, w] = (x, y)`` picks the point of ``input[n]`` at ``x`` along the width and
    ``y`` along the height, both normalized to ``[-1, 1]``: -1 and 1 are the centres of the
    corner pixels with ``align_corners``, the outer edges of the corner pixels without.
    ``"bilinear"`` mixes the 2x2 (trilinear for 5-D input: 2x2x2) pixels around the point,
    ``"nearest"`` takes the nearest one (ties to even), ``"bicubic"`` (4-D only) mixes 4x4
    with Keys' cubic kernel (``A = -0.75``). Points outside read zeros (``"zeros"``), the
    border pixels (``"border"``) or the image mirrored at its borders (``"reflection"``).
    Gradients flow to ``input`` and ``grid`` (nearest sampling's grid gradient is 0).

    Args:
        input: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        grid: ``(N, H_out, W_out, 2)`` or ``(N, D_out, H_out, W_out, 3)``, same dtype.
        mode: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.
        align_corners: See above (False if None).

    Returns:
        ``(N, C, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``.

    Example:
        >>> image = ac.randn(1, 3, 8, 8)
        >>> theta = ac.tensor([[[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]])  # zoom in 2x
        >>> grid = F.affine_grid(theta, (1, 3, 8, 8), align_corners=False)
        >>> F.grid_sample(image, grid, align_corners=False).shape
        (1, 3, 8, 8)
    """
    if mode not in _MODES:
        raise ValueError(f"grid_sample mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(
            f"grid_sample padding_mode must be one of {', '.join(_PADDING_MODES)}, "
            f"got {padding_mode!r}"
        )
    if input.ndim not in (4, 5):
        raise ValueError(
            f"grid_sample needs a 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, got {input.shape}"
        )
    dims = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != dims or grid.shape[0] != input.shape[0]:
        raise ValueError(
            f"grid_sample needs a grid (N, *out, {dims}) with N = {input.shape[0]} and "
            f"{input.ndim} axes for input {input.shape}, got {grid.shape}"
        )
    if mode == "bicubic" and dims != 2:
        raise ValueError(f"grid_sample's bicubic mode needs a 4-D input, got {input.shape}")
    if input.dtype.kind != "f" or grid.dtype != input.dtype:
        raise TypeError(
            f"grid_sample needs floating-point input and grid of the same dtype, got "
            f"{input.dtype} and {grid.dtype}"
        )
    if min(input.shape[2:]) <= 0:
        raise ValueError(f"grid_sample needs non-empty spatial axes, got input {input.shape}")
    return GridSample.apply(
        input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners)
    )
