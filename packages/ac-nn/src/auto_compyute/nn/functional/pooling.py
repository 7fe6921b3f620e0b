"""Pooling: ``max_pool1d/2d/3d``, ``avg_pool1d/2d/3d``, ``adaptive_avg/max_pool1d/2d/3d``,
``lp_pool1d/2d/3d``.

NOTE: pooling is a primitive for speed. Windowed pools loop over the KH*KW kernel
offsets, each handling that offset of every window at once through a strided view (NumPy
reduces tiny trailing window axes slowly; whole-array elementwise ops are fast); no loop
runs over pixels or samples. Max pooling copies the windows once so that the loop reads
contiguous memory, and keeps only a small integer argmax per output for backward.
Adaptive pooling is two matrix products with averaging matrices. 1-D ops run the 2-D
kernels on a unit height. 3-D ops are composed: the 2-D kernels pool every depth plane,
then tensor ops pool over depth (see ``_max_pool3d``), so they have their derivatives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.functions import pad as constant_pad
from auto_compyute._core.functions import stack
from auto_compyute._core.ops.movement import PutAt
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional._windows import (
    Ints,
    Padding2d,
    Pair,
    crop2d,
    pad2d,
    tuple_arg,
    windows,
)
from auto_compyute.nn.functional.conv import ConvolutionTranspose

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
    "maxpool1d",
    "maxpool2d",
]


def _lowest(dtype: Any) -> Any:
    """The padding value that never wins a maximum."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _disjoint(kernel: Pair, stride: Pair, dilation: Pair) -> bool:
    """True if no input element belongs to two windows, so per-offset writes never collide."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation, strict=True))


def _max_argmax(
    x: Array, kernel: Pair, stride: Pair, padding: Padding2d, dilation: Pair, out_size: Pair
) -> tuple[Array, Array]:
    """The maximum of each window of x (N, C, H, W) and its first position there (row-major),
    or the position of its last NaN."""
    xp = get_array_module(x)
    count = kernel[0] * kernel[1]
    x = pad2d(x, padding, _lowest(x.dtype))
    view = windows(x, kernel, stride, dilation, out_size)  # NOTE: indexed, never reshaped (a copy)
    if _disjoint(kernel, stride, dilation):
        # NOTE: one copy gathers each kernel offset's elements into a contiguous slab (all
        # of them no larger than x): NumPy runs the comparisons below on strided slices of
        # x row by row, 25-30% slower in all for 2x2 windows of a small CNN.
        view = view.copy()
    out = view[0, 0].copy()
    index = xp.zeros(out.shape, dtype=np.int8 if count < 128 else np.int32)
    for k in range(1, count):
        offset = view[k // kernel[1], k % kernel[1]]
        better = offset > out
        xp.maximum(out, offset, out=out)
        # NOTE: k only grows, so the maximum keeps the last strict improvement: the first
        # position of the window's maximum.
        xp.maximum(index, better * index.dtype.type(k), out=index)
    if out.dtype.kind == "f" and out.size and xp.isnan(out.max()):
        # NOTE: as PyTorch, a window's last NaN wins; found only when the (small) output
        # holds a NaN, so that inputs without one pay a single reduction
        for k in range(count):
            index[xp.isnan(view[k // kernel[1], k % kernel[1]])] = k
    return out, index


class MaxPool(Op):
    """Maximum over each window of x (N, C, [H,] W).

    d/dx: each output's gradient goes to the first maximum of its window (row-major), or
    to its last NaN (as PyTorch).
    """

    def forward(
        self,
        x: Array,
        *,
        kernel: Pair,
        stride: Pair,
        padding: Padding2d,
        dilation: Pair,
        out_size: Pair,
    ) -> Array:
        self.one_d = x.ndim == 3
        x = x[:, :, None] if self.one_d else x
        self.shape = x.shape
        out, self.index = _max_argmax(x, kernel, stride, padding, dilation, out_size)
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: Array) -> Array:
        kw = self.kwargs
        grad = grad[:, :, None] if self.one_d else grad
        (kh, kwd), ((top, bottom), (left, right)) = kw["kernel"], kw["padding"]
        xp = get_array_module(grad)
        n, c, h, w = self.shape
        dx = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=grad.dtype)
        view = windows(dx, kw["kernel"], kw["stride"], kw["dilation"], kw["out_size"])
        disjoint = _disjoint(kw["kernel"], kw["stride"], kw["dilation"])
        for k in range(kh * kwd):
            target = view[k // kwd, k % kwd]
            if disjoint:
                xp.multiply(grad, self.index == k, out=target)
            else:
                target += grad * (self.index == k)
        dx = crop2d(dx, kw["padding"])
        return dx[:, :, 0] if self.one_d else dx

    def graph_backward(self, grad: Tensor) -> Tensor:
        kw = self.kwargs
        xp = get_array_module(self.index)
        (sh, sw), (dh, dw), kernel_w = kw["stride"], kw["dilation"], kw["kernel"][1]
        (top, _), (left, _) = kw["padding"]
        n, c, out_h, out_w = self.index.shape
        # NOTE: a maximum is never in the padding (-inf), so each lands inside x.
        key = (
            xp.arange(n).reshape(-1, 1, 1, 1),
            xp.arange(c).reshape(1, -1, 1, 1),
            xp.arange(out_h).reshape(-1, 1) * sh + (self.index // kernel_w) * dh - top,
            xp.arange(out_w) * sw + (self.index % kernel_w) * dw - left,
        )
        dx = PutAt.apply(grad.unsqueeze(2) if self.one_d else grad, key=key, shape=self.shape)
        return dx.squeeze(2) if self.one_d else dx


class AvgPool(Op):
    """Sum over each window of zero-padded x (N, C, [H,] W) divided by ``divisor``.

    d/dx: each output's gradient, divided by its divisor, goes to every element of its window.
    """

    def forward(
        self,
        x: Array,
        *,
        kernel: Pair,
        stride: Pair,
        padding: Padding2d,
        out_size: Pair,
        divisor: Any,
    ) -> Array:
        self.one_d = x.ndim == 3
        x = pad2d(x[:, :, None] if self.one_d else x, padding)
        self.shape = x.shape
        view = windows(x, kernel, stride, (1, 1), out_size)
        out = view[0, 0].copy()
        for k in range(1, kernel[0] * kernel[1]):
            out += view[k // kernel[1], k % kernel[1]]
        out /= divisor
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: Array) -> Array:
        kw = self.kwargs
        kernel = kw["kernel"]
        xp = get_array_module(grad)
        grad = (grad[:, :, None] if self.one_d else grad) / kw["divisor"]
        dx = xp.zeros(self.shape, dtype=grad.dtype)
        view = windows(dx, kernel, kw["stride"], (1, 1), kw["out_size"])
        disjoint = _disjoint(kernel, kw["stride"], (1, 1))
        for k in range(kernel[0] * kernel[1]):
            if disjoint:
                view[k // kernel[1], k % kernel[1]] = grad
            else:
                view[k // kernel[1], k % kernel[1]] += grad
        dx = crop2d(dx, kw["padding"])
        return dx[:, :, 0] if self.one_d else dx

    def graph_backward(self, grad: Tensor) -> Tensor:
        kw = self.kwargs
        divisor = kw["divisor"]
        if not isinstance(divisor, int | float):
            divisor = self._constant(divisor)
        grad = (grad.unsqueeze(2) if self.one_d else grad) / divisor
        (top, bottom), (left, right) = kw["padding"]
        _, c, h, w = self.shape
        ones = self._constant(get_array_module(grad.data).ones((c, 1, *kw["kernel"]), grad.dtype))
        # NOTE: spreading each gradient over its window is a transposed convolution with a
        # kernel of ones per channel.
        dx = ConvolutionTranspose.apply(
            grad,
            ones,
            stride=kw["stride"],
            padding=kw["padding"],
            dilation=(1, 1),
            groups=c,
            out_size=(h - top - bottom, w - left - right),
        )
        return dx.squeeze(2) if self.one_d else dx


def _averaging_matrix(size: int, out: int) -> np.ndarray:
    """(out, size) matrix averaging PyTorch's adaptive windows.

    Row i averages [floor(i * size / out), ceil((i + 1) * size / out)).
    """
    matrix = np.zeros((out, size))
    for i, (start, end) in enumerate(_windows(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _both_axes(x: Array, rows: Array, cols: Array) -> Array:
    """``rows @ x @ cols^T`` over the last two axes of x (N, C, H, W), as two 2-D BLAS products."""
    n, c, h, w = x.shape
    out_h, out_w = rows.shape[0], cols.shape[0]
    t = (x.reshape(n * c * h, w) @ cols.T).reshape(n * c, h, out_w)
    t = t.transpose(0, 2, 1).reshape(n * c * out_w, h) @ rows.T
    return t.reshape(n, c, out_w, out_h).transpose(0, 1, 3, 2).copy()


class AdaptiveAvgPool(Op):
    """Average over PyTorch's adaptive windows: out = A_h @ x @ A_w^T; d/dx = A_h^T @ g @ A_w."""

    def forward(self, x: Array, *, out_size: Pair) -> Array:
        self.one_d = x.ndim == 3
        x = x[:, :, None] if self.one_d else x
        xp = get_array_module(x)
        self.rows = xp.asarray(_averaging_matrix(x.shape[2], out_size[0]), dtype=x.dtype)
        self.cols = xp.asarray(_averaging_matrix(x.shape[3], out_size[1]), dtype=x.dtype)
        out = _both_axes(x, self.rows, self.cols)
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: Array) -> Array:
        dx = _both_axes(grad[:, :, None] if self.one_d else grad, self.rows.T, self.cols.T)
        return dx[:, :, 0] if self.one_d else dx

    def graph_backward(self, grad: Tensor) -> Tensor:
        grad = grad.unsqueeze(2) if self.one_d else grad
        dx = self._constant(self.rows.T) @ (grad @ self._constant(self.cols))
        return dx.squeeze(2) if self.one_d else dx


class AdaptiveMaxPool(Op):
    """Maximum over PyTorch's adaptive windows; the gradient goes to each window's first
    maximum, or last NaN (windows may overlap, so gradients add up). ``self.indices`` holds
    the flat position of each maximum in its input plane, as ``return_indices`` gives it."""

    def forward(self, x: Array, *, out_size: Pair) -> Array:
        self.shape = x.shape
        out, self.indices = _adaptive_max_argmax(x, out_size, last_nan=False)
        if out.dtype.kind == "f" and out.size and get_array_module(x).isnan(out.max()):
            out, self.indices = _adaptive_max_argmax(x, out_size, last_nan=True)
        return out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        n, c, h, w = self.shape
        dx = xp.zeros((n, c, h * w), dtype=grad.dtype)
        batch, channel = xp.meshgrid(xp.arange(n), xp.arange(c), indexing="ij")
        count = self.indices.shape[2] * self.indices.shape[3]
        flat = self.indices.reshape(n, c, count)
        xp.add.at(dx, (batch[..., None], channel[..., None], flat), grad.reshape(n, c, count))
        return dx.reshape(self.shape)

    def graph_backward(self, grad: Tensor) -> Tensor:
        xp = get_array_module(self.indices)
        n, c, h, w = self.shape
        key = (
            xp.arange(n).reshape(-1, 1, 1),
            xp.arange(c).reshape(1, -1, 1),
            self.indices.reshape(n, c, self.indices.shape[2] * self.indices.shape[3]),
        )
        dx = PutAt.apply(grad.reshape(*key[2].shape), key=key, shape=(n, c, h * w))
        return dx.reshape(self.shape)


def _adaptive_max_argmax(x: Array, out_size: Pair, last_nan: bool) -> tuple[Array, Array]:
    """The maximum of each adaptive window of x (N, C, H, W) and its flat position in its
    plane: the first maximum's, or with ``last_nan`` the last NaN's where there is one (the
    one PyTorch picks; a second pass only for outputs with a NaN)."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    out = xp.empty((n, c, *out_size), dtype=x.dtype)
    indices = xp.empty((n, c, *out_size), dtype=np.int64)
    for i, (top, bottom) in enumerate(_windows(h, out_size[0])):
        for j, (left, right) in enumerate(_windows(w, out_size[1])):
            area = (bottom - top) * (right - left)
            window = x[:, :, top:bottom, left:right].reshape(n, c, area)
            arg = window.argmax(axis=-1)  # the first maximum (or NaN)
            if last_nan:
                nan = xp.isnan(window)
                arg = xp.where(nan.any(axis=-1), area - 1 - nan[..., ::-1].argmax(axis=-1), arg)
            out[:, :, i, j] = xp.take_along_axis(window, arg[..., None], axis=-1)[..., 0]
            width = right - left
            indices[:, :, i, j] = (top + arg // width) * w + left + arg % width
    return out, indices


def _max_last_nan(x: Tensor, dim: int) -> tuple[Tensor, Any]:
    """``x.max(dim)``, except that where ``dim`` holds a NaN its last NaN is picked (as
    PyTorch's pooling does); the indices as an array."""
    out, index = x.max(dim)
    xp = get_array_module(x.data)
    if out.dtype.kind != "f" or not out.numel() or not xp.isnan(out.data.max()):
        return out, index.data
    nan = xp.isnan(x.data)
    last = x.shape[dim] - 1 - xp.flip(nan, dim).argmax(axis=dim)
    index = xp.where(nan.any(axis=dim), last, index.data)
    return x.gather(dim, xp.expand_dims(index, dim)).squeeze(dim), index


def _windows(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


# --------------------------------------------------------------------------- arguments
def _lift(op: str, x: Tensor, spatial: int) -> tuple[Tensor, bool]:
    """Check the rank and add a batch axis to an unbatched input."""
    if x.ndim == spatial + 1:
        return x.unsqueeze(0), True
    if x.ndim != spatial + 2:
        dims = {1: "L", 2: "H, W", 3: "D, H, W"}[spatial]
        raise ValueError(
            f"{op}: expected a {spatial + 2}-D input (N, C, {dims}) or a {spatial + 1}-D "
            f"unbatched one, got shape {x.shape}"
        )
    return x, False


def _out_size(length: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, including its ceil_mode rule."""
    span = length + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    # NOTE: in ceil mode the last window must start inside the input or the left padding.
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def _window_args(
    op: str,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    spatial: int,
) -> tuple[Pair, Pair, Padding2d, Pair, Pair]:
    """Validate pooling arguments; return kernel, stride, padding, dilation, output size in 2-D."""
    kernel = tuple_arg(kernel_size, spatial, "kernel_size")
    strides = (
        kernel
        if stride is None or stride == () or stride == []
        else tuple_arg(stride, spatial, "stride")
    )
    pads = tuple_arg(padding, spatial, "padding")
    dilations = tuple_arg(dilation, spatial, "dilation")
    for name, values in (("kernel_size", kernel), ("stride", strides), ("dilation", dilations)):
        if any(v < 1 for v in values):
            raise ValueError(f"{op}: {name} must be positive, got {values}")
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel, strict=True)):
        raise ValueError(
            f"{op}: padding {pads} must be between 0 and half the kernel size {kernel}"
        )
    lengths = x.shape[2:]
    sizes = tuple(
        _out_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(lengths, kernel, strides, pads, dilations, strict=True)
    )
    if any(n < 1 for n in sizes):
        raise ValueError(
            f"{op}: input of shape {x.shape} is too small for kernel_size {kernel} with padding "
            f"{pads} and dilation {dilations} (output size {sizes})"
        )
    # NOTE: ceil mode may need windows past the right padding: pad more (never read as a maximum
    # or counted in an average's divisor beyond what PyTorch counts).
    padding2d = tuple(
        (p, p + max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)))
        for n, k, s, p, d, o in zip(lengths, kernel, strides, pads, dilations, sizes, strict=True)
    )
    if spatial == 1:
        kernel, strides, dilations = (1, *kernel), (1, *strides), (1, *dilations)
        padding2d, sizes = ((0, 0), *padding2d), (1, *sizes)
    return cast(
        tuple[Pair, Pair, Padding2d, Pair, Pair], (kernel, strides, padding2d, dilations, sizes)
    )


def _divisor(
    x: Tensor,
    kernel: Pair,
    stride: Pair,
    padding: Padding2d,
    out_size: Pair,
    count_include_pad: bool,
) -> Any:
    """PyTorch's avg-pool divisor per output: the window clipped to the padded input (or input)."""
    sizes = []
    for n, k, s, (p, _), o in zip(
        x.shape[2:] if x.ndim - 2 == len(kernel) else (1, x.shape[2]),
        kernel,
        stride,
        padding,
        out_size,
        strict=True,
    ):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        sizes.append(
            end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        )
    divisor = sizes[0]
    for size in sizes[1:]:
        divisor = np.multiply.outer(divisor, size)
    if (divisor == divisor.flat[0]).all():
        return float(divisor.flat[0])
    return get_array_module(x.data).asarray(divisor, dtype=x.dtype)


def _padded_planes(x: Tensor, padding: Padding2d, value: Any) -> Tensor:
    """x (N, C, D, H, W) padded on its three spatial axes with ``value``."""
    widths = tuple(width for pair in reversed(padding) for width in pair)
    return constant_pad(x, widths, value=value) if any(widths) else x


def _depth_windows(planes: Tensor, kernel: int, stride: int, dilation: int, size: int) -> Tensor:
    """(K, N, C, OD, OH, OW): for each depth offset of the kernel, the planes it reads."""
    span = (size - 1) * stride + 1
    return stack([planes[:, :, k * dilation : k * dilation + span : stride] for k in range(kernel)])


def _max_pool3d(x: Tensor, args: tuple[Any, ...], return_indices: bool) -> tuple[Tensor, Any]:
    """3-D max pooling as 2-D max pooling of every padded depth plane, then the maximum over
    each depth window of those; the first maximum (depth, row, column order) is picked, or
    the last NaN."""
    kernel, strides, pads, dilations, sizes = args
    x = _padded_planes(x, pads, _lowest(x.dtype))
    n, c, d, h, w = x.shape
    planes = MaxPool.apply(
        x.reshape(n, c * d, h, w),
        kernel=kernel[1:],
        stride=strides[1:],
        padding=((0, 0), (0, 0)),
        dilation=dilations[1:],
        out_size=sizes[1:],
    ).reshape(n, c, d, *sizes[1:])
    out, offset = _max_last_nan(
        _depth_windows(planes, kernel[0], strides[0], dilations[0], sizes[0]), 0
    )
    if not return_indices:
        return out, None
    xp = get_array_module(planes.data)
    plane_offset = _max_argmax(
        x.data.reshape(n, c * d, h, w),
        kernel[1:],
        strides[1:],
        ((0, 0), (0, 0)),
        dilations[1:],
        sizes[1:],
    )[1].reshape(n, c, d, *sizes[1:])
    depth = xp.arange(sizes[0]).reshape(-1, 1, 1) * strides[0] + offset * dilations[0]
    within = xp.take_along_axis(plane_offset, depth, axis=2).astype(xp.int64)
    rows = xp.arange(sizes[1]).reshape(-1, 1) * strides[1] + within // kernel[2] * dilations[1]
    cols = xp.arange(sizes[2]) * strides[2] + within % kernel[2] * dilations[2]
    (front, _), (top, _), (left, _) = pads
    height, width = h - top - pads[1][1], w - left - pads[2][1]
    flat = ((depth - front) * height + rows - top) * width + cols - left
    return out, Tensor(flat)


def _avg_pool3d(
    x: Tensor, kernel: Any, stride: Any, padding: Any, out_size: Any, divisor: Any
) -> Tensor:
    """3-D average pooling as 2-D window sums of every zero-padded depth plane, summed over
    each depth window and divided by the divisor."""
    x = _padded_planes(x, padding, 0.0)
    n, c, d, h, w = x.shape
    planes = AvgPool.apply(
        x.reshape(n, c * d, h, w),
        kernel=kernel[1:],
        stride=stride[1:],
        padding=((0, 0), (0, 0)),
        out_size=out_size[1:],
        divisor=1.0,
    ).reshape(n, c, d, *out_size[1:])
    sums = _depth_windows(planes, kernel[0], stride[0], 1, out_size[0]).sum(0)
    if isinstance(divisor, float):
        return sums / divisor
    return sums / Tensor(divisor, device=x.device)


def _depth_matrix(matrix: np.ndarray, like: Tensor) -> Tensor:
    """A constant (OD, D) matrix in the dtype and on the device of ``like``."""
    return Tensor(matrix.astype(like.dtype), device=like.device)


def _max_indices(x: Tensor, args: tuple[Any, ...], spatial: int) -> Tensor:
    """Flat indices ``h * W + w`` into each input plane of the chosen maxima (like PyTorch)."""
    kernel, stride, padding, dilation, out_size = args
    data = x.data[:, :, None] if spatial == 1 else x.data
    xp = get_array_module(data)
    offset = _max_argmax(data, kernel, stride, padding, dilation, out_size)[1].astype(xp.int64)
    rows = xp.arange(out_size[0]).reshape(-1, 1) * stride[0] - padding[0][0]
    cols = xp.arange(out_size[1]) * stride[1] - padding[1][0]
    rows = rows + offset // kernel[1] * dilation[0]
    cols = cols + offset % kernel[1] * dilation[1]
    flat = rows * data.shape[3] + cols
    return Tensor(flat[:, :, 0] if spatial == 1 else flat)


def _max_pool(
    op: str,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
    spatial: int,
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched = _lift(op, x, spatial)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: expected a numeric input, got dtype {x.dtype}")
    args = _window_args(op, x, kernel_size, stride, padding, dilation, ceil_mode, spatial)
    if spatial == 3:
        out, indices = _max_pool3d(x, args, return_indices)
        if not return_indices:
            return out.squeeze(0) if unbatched else out
        return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)
    kernel, strides, pads, dilations, sizes = args
    out = MaxPool.apply(
        x, kernel=kernel, stride=strides, padding=pads, dilation=dilations, out_size=sizes
    )
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    indices = _max_indices(x, args, spatial)
    return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)


def _avg_pool(
    op: str,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
    spatial: int,
) -> Tensor:
    x, unbatched = _lift(op, x, spatial)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    kernel, strides, pads, _, sizes = _window_args(
        op, x, kernel_size, stride, padding, 1, ceil_mode, spatial
    )
    if divisor_override is not None:
        if not isinstance(divisor_override, int) or divisor_override < 1:
            raise ValueError(
                f"{op}: divisor_override must be a positive int, got {divisor_override!r}"
            )
        divisor: Any = float(divisor_override)
    else:
        divisor = _divisor(x, kernel, strides, pads, sizes, count_include_pad)
    if spatial == 3:
        out = _avg_pool3d(x, kernel, strides, pads, sizes, divisor)
        return out.squeeze(0) if unbatched else out
    out = AvgPool.apply(
        x, kernel=kernel, stride=strides, padding=pads, out_size=sizes, divisor=divisor
    )
    return out.squeeze(0) if unbatched else out


def _adaptive_avg_pool(op: str, x: Tensor, output_size: Any, spatial: int) -> Tensor:
    x, unbatched = _lift(op, x, spatial)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    sizes = _adaptive_sizes(op, x, output_size, spatial)
    if spatial == 3:
        n, c, d, h, w = x.shape
        planes = AdaptiveAvgPool.apply(x.reshape(n, c * d, h, w), out_size=sizes[1:])
        depth = _depth_matrix(_averaging_matrix(d, sizes[0]), x)
        out = (depth @ planes.reshape(n, c, d, sizes[1] * sizes[2])).reshape(n, c, *sizes)
        return out.squeeze(0) if unbatched else out
    out = AdaptiveAvgPool.apply(x, out_size=sizes if spatial == 2 else (1, *sizes))
    return out.squeeze(0) if unbatched else out


def _adaptive_sizes(op: str, x: Tensor, output_size: Any, spatial: int) -> tuple[int, ...]:
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * spatial
    if not isinstance(output_size, tuple | list) or len(output_size) != spatial:
        raise TypeError(
            f"{op}: output_size must be an int or a tuple of {spatial}, got {output_size!r}"
        )
    sizes = tuple(n if o is None else o for o, n in zip(output_size, x.shape[2:], strict=True))
    if any(not isinstance(o, int) or o < 1 for o in sizes):
        raise ValueError(f"{op}: output_size must be positive ints, got {output_size!r}")
    return sizes


# --------------------------------------------------------------------------- functions
def max_pool2d(
    input: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    dilation: Ints = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling: the maximum of each (KH, KW) window of an input (N, C, H, W).

    Output size per axis: ``(size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1``
    (rounded up with ``ceil_mode``). Padding never wins a maximum.

    Args:
        input: Tensor of shape (N, C, H, W) or unbatched (C, H, W).
        kernel_size: Window size, an int or (KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Implicit padding on both sides, at most half the kernel size.
        dilation: Spacing between window elements.
        ceil_mode: Round the output size up instead of down (PyTorch's rule: the last
            window must start inside the input or the left padding).
        return_indices: Also return, per output, the flat index ``h * W + w`` of the chosen
            maximum in its input plane.

    Returns:
        Tensor of shape (N, C, OH, OW), or the pair (output, int64 indices).

    Example:
        >>> F.max_pool2d(ac.randn(8, 3, 5, 7), 2).shape
        (8, 3, 2, 3)
    """
    return _max_pool(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2
    )


def max_pool1d(
    input: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    dilation: Ints = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """1-D max pooling over an input (N, C, L); arguments as in ``max_pool2d``.

    Args:
        input: Tensor of shape (N, C, L) or unbatched (C, L).
        kernel_size: Window size.
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Implicit padding on both sides, at most half the kernel size.
        dilation: Spacing between window elements.
        ceil_mode: Round the output size up instead of down.
        return_indices: Also return the index of each chosen maximum along L.

    Returns:
        Tensor of shape (N, C, OL), or the pair (output, int64 indices).

    Example:
        >>> F.max_pool1d(ac.randn(2, 3, 10), 3, stride=2).shape
        (2, 3, 4)
    """
    return _max_pool(
        "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1
    )


def avg_pool2d(
    input: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling: the mean of each (KH, KW) window of an input (N, C, H, W).

    Padding adds zeros. The divisor of a window is its size clipped to the padded input
    (``count_include_pad=True``, PyTorch's default) or to the input itself, unless
    ``divisor_override`` is given.

    Args:
        input: Tensor of shape (N, C, H, W) or unbatched (C, H, W).
        kernel_size: Window size, an int or (KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Zero padding on both sides, at most half the kernel size.
        ceil_mode: Round the output size up instead of down.
        count_include_pad: Count padding zeros in the divisor.
        divisor_override: Divide every window sum by this number instead.

    Returns:
        Tensor of shape (N, C, OH, OW).

    Example:
        >>> F.avg_pool2d(ac.randn(8, 3, 5, 7), 3, stride=1, padding=1).shape
        (8, 3, 5, 7)
    """
    return _avg_pool(
        "avg_pool2d",
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        2,
    )


def avg_pool1d(
    input: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over an input (N, C, L); arguments as in ``avg_pool2d``.

    Args:
        input: Tensor of shape (N, C, L) or unbatched (C, L).
        kernel_size: Window size.
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Zero padding on both sides, at most half the kernel size.
        ceil_mode: Round the output size up instead of down.
        count_include_pad: Count padding zeros in the divisor.

    Returns:
        Tensor of shape (N, C, OL).

    Example:
        >>> F.avg_pool1d(ac.randn(2, 3, 10), 2).shape
        (2, 3, 5)
    """
    return _avg_pool(
        "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1
    )


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:
    """2-D average pooling to a fixed output size, whatever the input size.

    Output row ``i`` averages input rows ``floor(i * H / OH)`` to ``ceil((i + 1) * H / OH)``
    (exclusive), and likewise for columns, as in PyTorch; windows may overlap or differ in size.

    Args:
        input: Tensor of shape (N, C, H, W) or unbatched (C, H, W).
        output_size: (OH, OW), or one int for both; ``None`` keeps that input size.

    Returns:
        Tensor of shape (N, C, OH, OW).

    Example:
        >>> F.adaptive_avg_pool2d(ac.randn(2, 3, 7, 5), (3, 2)).shape
        (2, 3, 3, 2)
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input: Tensor, output_size: Ints) -> Tensor:
    """1-D average pooling to a fixed output length (PyTorch's window formula).

    Args:
        input: Tensor of shape (N, C, L) or unbatched (C, L).
        output_size: The output length OL.

    Returns:
        Tensor of shape (N, C, OL).

    Example:
        >>> F.adaptive_avg_pool1d(ac.randn(2, 3, 10), 4).shape
        (2, 3, 4)
    """
    return _adaptive_avg_pool("adaptive_avg_pool1d", input, output_size, 1)


def _adaptive_max_pool(
    op: str, x: Tensor, output_size: Any, spatial: int, return_indices: bool
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched = _lift(op, x, spatial)
    sizes = _adaptive_sizes(op, x, output_size, spatial)
    if spatial == 3:
        return _adaptive_max_pool3d(x, sizes, unbatched, return_indices)
    plane = x if spatial == 2 else x.unsqueeze(2)
    out_size: Pair = (sizes[0], sizes[1]) if spatial == 2 else (1, sizes[0])
    pool = AdaptiveMaxPool.apply(plane, out_size=out_size)
    out = pool if spatial == 2 else pool.squeeze(2)
    out = out.squeeze(0) if unbatched else out
    if not return_indices:
        return out
    # NOTE: the op keeps the indices for backward; without a graph, one more pass finds them
    pooling = pool.ctx if isinstance(pool.ctx, AdaptiveMaxPool) else AdaptiveMaxPool()
    if pool.ctx is None:
        pooling.forward(plane.data, out_size=out_size)
    indices = pooling.indices if spatial == 2 else pooling.indices[:, :, 0]
    return out, Tensor._from_op(indices[0] if unbatched else indices)


def _adaptive_max_pool3d(
    x: Tensor, sizes: tuple[int, ...], unbatched: bool, return_indices: bool
) -> Tensor | tuple[Tensor, Tensor]:
    """Adaptive 2-D max pooling of every depth plane, then the maximum over each adaptive
    depth window; the first maximum (depth, row, column order) is picked, or the last NaN."""
    n, c, d, h, w = x.shape
    planes = x.reshape(n, c * d, h, w)
    plane_size: Pair = (sizes[1], sizes[2])
    pool = AdaptiveMaxPool.apply(planes, out_size=plane_size)
    pooled = pool.reshape(n, c, d, *sizes[1:])
    picks = [_max_last_nan(pooled[:, :, start:end], 2) for start, end in _windows(d, sizes[0])]
    out = stack([values for values, _ in picks], dim=2)
    out = out.squeeze(0) if unbatched else out
    if not return_indices:
        return out
    pooling = pool.ctx if isinstance(pool.ctx, AdaptiveMaxPool) else AdaptiveMaxPool()
    if pool.ctx is None:
        pooling.forward(planes.data, out_size=plane_size)
    xp = get_array_module(planes.data)
    starts = xp.asarray([start for start, _ in _windows(d, sizes[0])]).reshape(-1, 1, 1)
    depth = xp.stack([index for _, index in picks], axis=2) + starts
    within = pooling.indices.reshape(n, c, d, *sizes[1:])
    flat = depth * (h * w) + xp.take_along_axis(within, depth, axis=2)
    return out, Tensor._from_op(flat[0] if unbatched else flat)


def adaptive_max_pool2d(
    input: Tensor, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling to a fixed output size, over PyTorch's adaptive windows.

    Args:
        input: Tensor of shape (N, C, H, W) or unbatched (C, H, W).
        output_size: (OH, OW), or one int for both; ``None`` keeps that input size.
        return_indices: Also return each maximum's flat position in its ``H * W`` plane.

    Returns:
        Tensor of shape (N, C, OH, OW) (and the indices).
    """
    return _adaptive_max_pool("adaptive_max_pool2d", input, output_size, 2, return_indices)


def adaptive_max_pool1d(
    input: Tensor, output_size: Any, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """1-D max pooling to a fixed output length (see ``adaptive_max_pool2d``)."""
    return _adaptive_max_pool("adaptive_max_pool1d", input, output_size, 1, return_indices)


def max_pool3d(
    input: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    dilation: Ints = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """3-D max pooling: the maximum of each (KD, KH, KW) window of an input (N, C, D, H, W).

    Arguments as in ``max_pool2d``, with triples.

    Args:
        input: Tensor of shape (N, C, D, H, W) or unbatched (C, D, H, W).
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Implicit padding on both sides, at most half the kernel size.
        dilation: Spacing between window elements.
        ceil_mode: Round the output size up instead of down.
        return_indices: Also return, per output, the flat index ``(d * H + h) * W + w`` of
            the chosen maximum in its input volume.

    Returns:
        Tensor of shape (N, C, OD, OH, OW), or the pair (output, int64 indices).

    Example:
        >>> F.max_pool3d(ac.randn(2, 3, 4, 5, 6), 2).shape
        (2, 3, 2, 2, 3)
    """
    return _max_pool(
        "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3
    )


def avg_pool3d(
    input: Tensor,
    kernel_size: Ints,
    stride: Ints | None = None,
    padding: Ints = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """3-D average pooling: the mean of each (KD, KH, KW) window of an input (N, C, D, H, W).

    Arguments as in ``avg_pool2d``, with triples.

    Args:
        input: Tensor of shape (N, C, D, H, W) or unbatched (C, D, H, W).
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Zero padding on both sides, at most half the kernel size.
        ceil_mode: Round the output size up instead of down.
        count_include_pad: Count padding zeros in the divisor.
        divisor_override: Divide every window sum by this number instead.

    Returns:
        Tensor of shape (N, C, OD, OH, OW).

    Example:
        >>> F.avg_pool3d(ac.randn(2, 3, 4, 5, 6), 3, stride=1, padding=1).shape
        (2, 3, 4, 5, 6)
    """
    return _avg_pool(
        "avg_pool3d",
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        3,
    )


def adaptive_avg_pool3d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:
    """3-D average pooling to a fixed output size (PyTorch's windows along each axis).

    Args:
        input: Tensor of shape (N, C, D, H, W) or unbatched (C, D, H, W).
        output_size: (OD, OH, OW), or one int for all; ``None`` keeps that input size.

    Returns:
        Tensor of shape (N, C, OD, OH, OW).

    Example:
        >>> F.adaptive_avg_pool3d(ac.randn(2, 3, 5, 7, 4), (2, 3, 1)).shape
        (2, 3, 2, 3, 1)
    """
    return _adaptive_avg_pool("adaptive_avg_pool3d", input, output_size, 3)


def adaptive_max_pool3d(
    input: Tensor, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """3-D max pooling to a fixed output size, over PyTorch's adaptive windows.

    Args:
        input: Tensor of shape (N, C, D, H, W) or unbatched (C, D, H, W).
        output_size: (OD, OH, OW), or one int for all; ``None`` keeps that input size.
        return_indices: Also return each maximum's flat position in its ``D * H * W`` volume.

    Returns:
        Tensor of shape (N, C, OD, OH, OW) (and the indices).
    """
    return _adaptive_max_pool("adaptive_max_pool3d", input, output_size, 3, return_indices)


def _with_indices(name: str, spatial: int) -> Any:
    def max_pool_with_indices(
        input: Tensor,
        kernel_size: Ints,
        stride: Ints | None = None,
        padding: Ints = 0,
        dilation: Ints = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> tuple[Tensor, Tensor]:
        return cast(
            tuple[Tensor, Tensor],
            _max_pool(
                name, input, kernel_size, stride, padding, dilation, ceil_mode, True, spatial
            ),
        )

    pool = name.removesuffix("_with_indices")
    max_pool_with_indices.__name__ = max_pool_with_indices.__qualname__ = name
    max_pool_with_indices.__doc__ = f"""``{pool}`` returning the pair (output, int64 indices)
    whatever ``return_indices`` says (as PyTorch's ``{name}``); see ``{pool}``."""
    return max_pool_with_indices


max_pool1d_with_indices = _with_indices("max_pool1d_with_indices", 1)
max_pool2d_with_indices = _with_indices("max_pool2d_with_indices", 2)
max_pool3d_with_indices = _with_indices("max_pool3d_with_indices", 3)


def _lp_pool(
    op: str,
    x: Tensor,
    norm_type: float,
    kernel_size: Ints,
    stride: Ints | None,
    ceil_mode: bool,
    spatial: int,
) -> Tensor:
    kernel = tuple_arg(kernel_size, spatial, "kernel_size")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    if norm_type == 0:
        raise ValueError(f"{op}: norm_type must not be 0 (the 1/p-th power is undefined)")
    if math.isinf(norm_type):  # as PyTorch: the largest (or smallest) |x| of each window
        max_pool = (max_pool1d, max_pool2d, max_pool3d)[spatial - 1]
        if norm_type > 0:
            return cast(Tensor, max_pool(x.abs(), kernel, stride, 0, 1, ceil_mode))
        return -cast(Tensor, max_pool(-x.abs(), kernel, stride, 0, 1, ceil_mode))
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[spatial - 1]
    out = pool(x**norm_type, kernel, stride, 0, ceil_mode)
    # NOTE: as PyTorch: sign(s) * relu(|s|) keeps s but has slope 0 where s is 0, and the
    # window's mean times the full kernel size is its sum, also for clipped ceil_mode windows.
    return ((out.sign() * out.abs().relu()) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(
    input: Tensor,
    norm_type: float,
    kernel_size: Ints,
    stride: Ints | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """1-D power-average pooling: ``(sum of x^p over each window)^(1/p)``.

    Computed as PyTorch does: the average pool of ``x^p`` times the kernel size, then the
    ``1/p``-th power (``p = 1`` is sum pooling); ``p = inf`` is max pooling of ``|x|`` and
    ``p = -inf`` min pooling of ``|x|``. Windows cut short by ``ceil_mode`` are averaged
    over their own size and still multiplied by the full kernel size, as in PyTorch.

    Args:
        input: Tensor of shape (N, C, L) or unbatched (C, L).
        norm_type: The power p (nonzero; ``inf`` and ``-inf`` allowed).
        kernel_size: Window size.
        stride: Step between windows; defaults to ``kernel_size``.
        ceil_mode: Round the output size up instead of down.

    Returns:
        Tensor of shape (N, C, OL).

    Raises:
        ValueError: If ``norm_type`` is 0.

    Example:
        >>> F.lp_pool1d(ac.ones(1, 1, 4), 2, 2)
        Tensor([[[1.4142, 1.4142]]])
    """
    return _lp_pool("lp_pool1d", input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(
    input: Tensor,
    norm_type: float,
    kernel_size: Ints,
    stride: Ints | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """2-D power-average pooling: ``(sum of x^p over each (KH, KW) window)^(1/p)``.

    See ``lp_pool1d`` for how it is computed.

    Args:
        input: Tensor of shape (N, C, H, W) or unbatched (C, H, W).
        norm_type: The power p.
        kernel_size: Window size, an int or (KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        ceil_mode: Round the output size up instead of down.

    Returns:
        Tensor of shape (N, C, OH, OW).
    """
    return _lp_pool("lp_pool2d", input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(
    input: Tensor,
    norm_type: float,
    kernel_size: Ints,
    stride: Ints | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """3-D power-average pooling: ``(sum of x^p over each (KD, KH, KW) window)^(1/p)``.

    See ``lp_pool1d`` for how it is computed.

    Args:
        input: Tensor of shape (N, C, D, H, W) or unbatched (C, D, H, W).
        norm_type: The power p.
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        ceil_mode: Round the output size up instead of down.

    Returns:
        Tensor of shape (N, C, OD, OH, OW).
    """
    return _lp_pool("lp_pool3d", input, norm_type, kernel_size, stride, ceil_mode, 3)


# NOTE: spellings of the original AutoCompyute API, kept as aliases.
maxpool2d = max_pool2d
maxpool1d = max_pool1d
