"""Convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``.

NOTE: convolution is a primitive for speed. The input is unfolded (im2col) through a
strided view into a ``(C*KH*KW, N*OH*OW)`` column matrix with one copy, so the forward
pass and both gradients are BLAS matrix products (batched over groups, and over samples
for large images; see ``_windows.choose_layout``). The input gradient folds columns back
(col2im) with a loop over the KH*KW kernel offsets, each adding one strided slab; no loop
runs over pixels or samples. Columns are unfolded a few pieces of the batch (or of the
output rows) at a time (see ``_windows.column_pieces``), which bounds the memory they
take. A transposed convolution is the input gradient of a convolution and reuses the
same kernels. Depthwise ones (one input and one output channel per group) make the input
gradient as convolutions of the output's gradient instead (one per phase of the stride,
see ``_depthwise_input_gradient``), and sum the weight gradient along long output rows.

1-D ops run the 2-D kernels on a unit height. 3-D ops are composed from them (see
``_conv3d``): the depth offsets of the kernel become channels of one 2-D convolution.
Arrays are NCHW; weights are ``(out, in/groups, KH, KW)`` for a convolution and
``(in, out/groups, KH, KW)`` for a transposed one, as in PyTorch.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.functions import pad as constant_pad
from auto_compyute._core.functions import stack
from auto_compyute._core.ops.movement import PutAt
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional._windows import (
    BATCH_LAST,
    Ints,
    Padding2d,
    Pair,
    choose_layout,
    col2im,
    column_pieces,
    empty_output_matrix,
    fold_input,
    im2col,
    input_columns,
    output_image,
    output_matrix,
    output_piece,
    output_sum,
    tuple_arg,
    unfold_input,
    weight_product,
    weight_times_columns,
    windows,
    zero_image,
)

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "fold",
    "unfold",
]


# NOTE: see ``_weight_gradient_by_rows``
WEIGHT_BY_ROWS_FROM_WIDTH = 64


# --------------------------------------------------------------------------------- ops
class Convolution(Op):
    """Cross-correlation of x (N, C, [H,] W) with w (O, C/groups, [KH,] KW), plus bias b (O).

    With cols = im2col(x): out = w @ cols + b; d/dw = g @ cols^T; d/dx = col2im(w^T @ g);
    d/db = g summed over batch and pixels. The columns are unfolded a piece at a time (see
    ``column_pieces``), in forward and again in backward. Depthwise, d/dx is a convolution
    of g per phase of the stride, and d/dw may be summed along the output rows.
    """

    def forward(
        self,
        x: Array,
        w: Array,
        b: Array | None = None,
        *,
        stride: Pair,
        padding: Padding2d,
        dilation: Pair,
        groups: int,
    ) -> Array:
        xp = get_array_module(x)
        self.one_d = x.ndim == 3
        if self.one_d:
            x, w = x[:, :, None], w[:, :, None]
        (pt, pb), (pl, pr) = padding
        kernel = w.shape[2:]
        size = (
            (x.shape[2] + pt + pb - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1,
            (x.shape[3] + pl + pr - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1,
        )
        layout = self.layout = choose_layout(size)
        # NOTE: backward reads the input as unfolded here (padded; batch last for narrow
        # outputs), kept instead of x: no second copy, and x can go once nothing holds it.
        self.unfolded, self.x_shape = unfold_input(x, padding, layout), x.shape
        self.w, self.size, self.has_bias = w, size, b is not None
        w_g = w.reshape(groups, w.shape[0] // groups, -1)
        if b is not None:
            # NOTE: the bias as a last column of w, times a row of ones in the columns: the
            # products write it, where adding it would take one more pass over the output
            w_g = xp.concatenate((w_g, b.reshape(groups, -1, 1)), axis=2)
        shape = (x.shape[0], w.shape[0], *size)
        out = empty_output_matrix(xp, shape, groups, layout, x.dtype)
        rows = w.shape[1] * kernel[0] * kernel[1] * groups
        self.pieces = column_pieces(layout, x.shape[0], size, rows, x.itemsize)
        for piece in self.pieces:
            cols = im2col(
                self.unfolded, kernel, stride, dilation, size, groups, layout, piece, b is not None
            )
            weight_times_columns(w_g, cols, layout, output_piece(out, layout, piece))
            del cols  # NOTE: before the next piece's columns are made
        out = output_image(out, shape, layout)
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        kw, layout, size, unfolded = self.kwargs, self.layout, self.size, self.unfolded
        w, groups = self.w, kw["groups"]
        kernel, stride, padding, dilation = w.shape[2:], kw["stride"], kw["padding"], kw["dilation"]
        w_g = w.reshape(groups, w.shape[0] // groups, -1)
        image_grad = grad[:, :, None] if self.one_d else grad
        g = output_matrix(image_grad, groups, layout)
        needs_x, needs_w = self.needs_grad[:2]
        depthwise = _is_depthwise(w, groups)
        grad_x = grad_w = grad_b = image = None
        if needs_x and depthwise:
            grad_x = _depthwise_input_gradient(image_grad, w, **kw, size=self.x_shape[2:])
        elif needs_x:
            image = zero_image(xp, self.x_shape, padding, layout, grad.dtype)
        if needs_w and depthwise and _weight_gradient_by_rows(layout, stride, size):
            grad_w = _depthwise_weight_gradient(unfolded, image_grad, kernel, stride, dilation)
            needs_w = False
        for piece in self.pieces:
            g_piece, cols = output_piece(g, layout, piece), None
            if needs_w:
                cols = im2col(unfolded, kernel, stride, dilation, size, groups, layout, piece)
                product = weight_product(g_piece, cols, layout)
                grad_w = product if grad_w is None else grad_w + product
            if image is not None:
                # NOTE: the columns' buffer, no longer needed, receives the input gradient's
                # columns; a 1x1 unfold of one channel can be a view of x, which must stay.
                if cols is not None and (
                    cols.dtype != g.dtype or xp.may_share_memory(cols, unfolded)
                ):
                    cols = None
                cols = input_columns(w_g, g_piece, cols)
                col2im(cols, image, kernel, stride, dilation, size, layout, piece)
            del cols  # NOTE: before the next piece's columns are made
        if image is not None:
            grad_x = fold_input(image, padding, layout)
        if grad_w is not None:
            grad_w = grad_w.reshape(w.shape)
        if self.one_d:
            grad_x = None if grad_x is None else grad_x[:, :, 0]
            grad_w = None if grad_w is None else grad_w[:, :, 0]
        if self.has_bias and self.needs_grad[2]:
            grad_b = output_sum(g, layout)
        return (grad_x, grad_w, grad_b) if self.has_bias else (grad_x, grad_w)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        kw = self.kwargs
        x_array = fold_input(self.unfolded, kw["padding"], self.layout)
        x = _lift_1d(self._input(0, x_array[:, :, 0] if self.one_d else x_array), self.one_d)
        w = _lift_1d(self._input(1, self.w[:, :, 0] if self.one_d else self.w), self.one_d)
        grad = _lift_1d(grad, self.one_d)
        # NOTE: the input gradient is the transposed convolution with the same weight: it
        # adds into the padded input and crops the padding, as backward's col2im does.
        grad_x = ConvolutionTranspose.apply(grad, w, **kw, out_size=x.shape[2:])
        grad_w = _weight_gradient(x, grad, w.shape[2:], **kw) if self.needs_grad[1] else None
        grads = [_drop_1d(grad_x, self.one_d), _drop_1d(grad_w, self.one_d)]
        return (*grads, grad.sum(dim=(0, 2, 3))) if self.has_bias else tuple(grads)


class ConvolutionTranspose(Op):
    """Transposed convolution of x (N, C, [H,] W) with w (C, O/groups, [KH,] KW), plus bias b (O).

    The input gradient of a convolution with weight w: out = col2im(w^T @ x) + b (depthwise:
    a convolution of x per phase of the stride); d/dx = w @ im2col(g) (a convolution of g);
    d/dw = x @ im2col(g)^T; d/db = sum of g. The columns (one per input pixel) are made a
    piece at a time, as in ``Convolution``.
    """

    def forward(
        self,
        x: Array,
        w: Array,
        b: Array | None = None,
        *,
        stride: Pair,
        padding: Padding2d,
        dilation: Pair,
        groups: int,
        out_size: Pair,
    ) -> Array:
        xp = get_array_module(x)
        self.one_d = x.ndim == 3
        if self.one_d:
            x, w = x[:, :, None], w[:, :, None]
        n, _, h, wd = x.shape
        layout = self.layout = choose_layout((h, wd))
        self.x = output_matrix(x, groups, layout)
        self.w, self.size, self.has_bias = w, (h, wd), b is not None
        rows = w.shape[1] * groups * w.shape[2] * w.shape[3]
        self.pieces = column_pieces(layout, n, (h, wd), rows, x.itemsize)
        if _is_depthwise(w, groups):
            out = _depthwise_input_gradient(
                x,
                w,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                size=out_size,
            )
        else:
            w_g = w.reshape(groups, w.shape[0] // groups, -1)
            shape = (n, w.shape[1] * groups, *out_size)
            image = zero_image(xp, shape, padding, layout, x.dtype)
            for piece in self.pieces:
                cols = input_columns(w_g, output_piece(self.x, layout, piece))
                col2im(cols, image, w.shape[2:], stride, dilation, (h, wd), layout, piece)
                del cols  # NOTE: before the next piece's columns are made
            out = fold_input(image, padding, layout)
        if b is not None:
            out += b.reshape(-1, 1, 1)
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        kw, layout, size = self.kwargs, self.layout, self.size
        w, groups, n = self.w, kw["groups"], grad.shape[0]
        grad = grad[:, :, None] if self.one_d else grad
        kernel, stride, dilation = w.shape[2:], kw["stride"], kw["dilation"]
        unfolded = unfold_input(grad, kw["padding"], layout)
        w_g = w.reshape(groups, w.shape[0] // groups, -1)
        shape = (n, w.shape[0], *size)
        needs_x, needs_w = self.needs_grad[:2]
        grad_x = empty_output_matrix(xp, shape, groups, layout, grad.dtype) if needs_x else None
        grad_w = grad_b = None
        for piece in self.pieces:
            cols = im2col(unfolded, kernel, stride, dilation, size, groups, layout, piece)
            if grad_x is not None:
                weight_times_columns(w_g, cols, layout, output_piece(grad_x, layout, piece))
            if needs_w:
                product = weight_product(output_piece(self.x, layout, piece), cols, layout)
                grad_w = product if grad_w is None else grad_w + product
            del cols  # NOTE: before the next piece's columns are made
        if grad_x is not None:
            grad_x = output_image(grad_x, shape, layout)
            grad_x = grad_x[:, :, 0] if self.one_d else grad_x
        if grad_w is not None:
            grad_w = grad_w.reshape(w.shape)
            grad_w = grad_w[:, :, 0] if self.one_d else grad_w
        if self.has_bias and self.needs_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return (grad_x, grad_w, grad_b) if self.has_bias else (grad_x, grad_w)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        kw = {k: v for k, v in self.kwargs.items() if k != "out_size"}
        n, (h, wd) = grad.shape[0], self.size
        x_array = output_image(self.x, (n, self.w.shape[0], h, wd), self.layout)
        x = _lift_1d(self._input(0, x_array[:, :, 0] if self.one_d else x_array), self.one_d)
        w = _lift_1d(self._input(1, self.w[:, :, 0] if self.one_d else self.w), self.one_d)
        grad = _lift_1d(grad, self.one_d)
        # NOTE: padded by the same amounts, the convolution of grad may have positions past
        # the input's last one (output_padding); they are cropped.
        grad_x = Convolution.apply(grad, w, **kw)[:, :, :h, :wd]
        grad_w = _weight_gradient(grad, x, w.shape[2:], **kw) if self.needs_grad[1] else None
        grads = [_drop_1d(grad_x, self.one_d), _drop_1d(grad_w, self.one_d)]
        return (*grads, grad.sum(dim=(0, 2, 3))) if self.has_bias else tuple(grads)


def _is_depthwise(w: Array, groups: int) -> bool:
    """Whether a convolution's weight w (O, C/groups, KH, KW), or a transposed one's
    (C, O/groups, KH, KW), has one input and one output channel per group."""
    return w.shape[0] == groups and w.shape[1] == 1


def _weight_gradient_by_rows(layout: str, stride: Pair, size: Pair) -> bool:
    """Whether a depthwise convolution's weight gradient is summed along the output rows
    (``_depthwise_weight_gradient``) rather than made from columns.

    NOTE: the sums along rows are fast where the rows are long and contiguous: 5 ms against
    11 ms from columns for (16, 256, 512) inputs and 7 offsets, 35 against 58 ms for
    (4, 32, 224, 224) and 3x3; 15 against 15 ms at width 112, slower for narrower outputs
    and at stride 2.
    """
    return layout != BATCH_LAST and stride[1] == 1 and size[1] >= WEIGHT_BY_ROWS_FROM_WIDTH


def _depthwise_weight_gradient(
    unfolded: Array, grad: Array, kernel: Pair, stride: Pair, dilation: Pair
) -> Array:
    """The weight gradient (C, KH * KW) of a depthwise convolution of the padded input
    ``unfolded`` (N, C, H, W) whose output has the gradient ``grad`` (N, C, OH, OW): per
    kernel offset, its windows times ``grad``, summed per channel."""
    xp = get_array_module(grad)
    view = windows(unfolded, kernel, stride, dilation, grad.shape[2:])
    products = [xp.einsum("nchw,nchw->c", grad, view[i, j]) for i, j in np.ndindex(*kernel)]
    return xp.stack(products, axis=1)


def _depthwise_input_gradient(
    grad: Array,
    w: Array,
    *,
    stride: Pair,
    padding: Padding2d,
    dilation: Pair,
    groups: int,
    size: Pair,
) -> Array:
    """The input gradient (N, C, *size) of a depthwise convolution with weight w
    (C, 1, KH, KW) whose output has the gradient ``grad`` (N, C, OH, OW).

    Along an axis, input position ``y`` is reached by the kernel offsets ``i`` with
    ``i * d = y + pad - s * o`` for an output position ``o``: those of one phase of the
    stride (``y = start + s * u``) are evenly spaced, and the phase's gradient is a stride-1
    convolution of ``grad`` with them, flipped (see ``_phase``). One convolution per phase,
    a single one at stride 1, each unfolding ``grad`` as forward unfolds x.

    NOTE: col2im would add ``w^T @ g`` per kernel offset, outer products of one row that BLAS
    runs slowly: for 3x3 kernels on (32, 64, 56, 56) the input gradient took 134 ms from
    columns, 36 ms as a convolution (stride 2: 48 ms, 28 ms by phases).
    """
    xp, kernel, parts = get_array_module(grad), w.shape[2:], {}
    for a, b in itertools.product(range(stride[0]), range(stride[1])):
        rows = _phase(a, stride[0], dilation[0], kernel[0], padding[0][0], size[0], grad.shape[2])
        cols = _phase(b, stride[1], dilation[1], kernel[1], padding[1][0], size[1], grad.shape[3])
        if rows is None or cols is None:
            continue  # NOTE: no kernel offset reaches these positions: they stay zero
        # NOTE: flipped in a copy: BLAS takes no negative strides, and NumPy's matmul falls
        # back to its own loops (3x slower)
        flipped = xp.ascontiguousarray(w[:, :, rows.offsets, cols.offsets][:, :, ::-1, ::-1])
        parts[a, b] = Convolution().forward(  # NOTE: on arrays, outside the graph
            grad[:, :, rows.crop, cols.crop],
            flipped,
            stride=(1, 1),
            padding=(rows.padding, cols.padding),
            dilation=(rows.dilation, cols.dilation),
            groups=groups,
        )
    if stride == (1, 1):
        return parts[0, 0]
    grad_x = xp.zeros((grad.shape[0], groups, *size), dtype=grad.dtype)
    for (a, b), part in parts.items():
        grad_x[:, :, a :: stride[0], b :: stride[1]] = part
    return grad_x


class _Phase(NamedTuple):
    """One phase of the stride along one axis, as a stride-1 correlation of the output
    gradient (see ``_phase``)."""

    offsets: slice  # the kernel offsets that reach the phase's input positions
    dilation: int  # the spacing of their flipped copy
    crop: slice  # the output gradient's positions they read
    padding: Pair  # zeros before and after those positions


def _phase(
    start: int, stride: int, dilation: int, kernel: int, pad: int, size: int, out_size: int
) -> _Phase | None:
    """The input positions ``start + stride * u`` (0 <= u < count) of an axis of ``size``,
    padded with ``pad`` before, as a stride-1 correlation of an output gradient g of
    ``out_size``; None if no kernel offset reaches them.

    Offset ``i`` reaches ``u`` from ``g[u - e_i]``, ``e_i = (i * d - pad - start) / stride``
    where that divides: for every ``step``-th offset from the first such. So the positions'
    gradient is g, with ``e_last`` zeros before it, correlated with those offsets flipped.
    """
    step = stride // math.gcd(stride, dilation)
    reach = [i for i in range(min(step, kernel)) if (i * dilation - pad - start) % stride == 0]
    count = -(-(size - start) // stride)
    if not reach or count < 1:
        return None
    offsets = range(reach[0], kernel, step)
    first, last = ((i * dilation - pad - start) // stride for i in (offsets[0], offsets[-1]))
    after = count - out_size - first  # NOTE: as many outputs as positions; negative: cropped
    return _Phase(
        slice(offsets[0], kernel, step),
        step * dilation // stride,
        slice(max(-last, 0), out_size - max(-after, 0)),
        (max(last, 0), max(after, 0)),
    )


def _lift_1d(t: Tensor, one_d: bool) -> Tensor:
    """A 1-D convolution's (N, C, L) tensor as (N, C, 1, L), as its op runs it."""
    return t.unsqueeze(2) if one_d else t


def _drop_1d(t: Tensor | None, one_d: bool) -> Tensor | None:
    return t.squeeze(2) if one_d and t is not None else t


def _weight_gradient(
    x: Tensor,
    grad: Tensor,
    kernel: tuple[int, ...],
    *,
    stride: Pair,
    padding: Padding2d,
    dilation: Pair,
    groups: int,
) -> Tensor:
    """The weight gradient (O, C/groups, KH, KW) of a convolution of x (N, C, H, W) whose
    result has the gradient ``grad`` (N, O, OH, OW), as a differentiable convolution.

    ``dw[o, c, i, j] = Σ_{n, y, z} grad[n, o, y, z] x_pad[n, c, y s + i d, z s + j d]`` is a
    convolution of x with the batch as channels and grad as the kernel, stride and dilation
    swapped; each group's channels take the batch axis's place in a grouped convolution.
    """
    n, c, h, w = x.shape
    channels = x.reshape(n, groups, c // groups, h, w).permute(2, 1, 0, 3, 4)
    channels = channels.reshape(c // groups, groups * n, h, w)
    out = Convolution.apply(
        channels,
        grad.permute(1, 0, 2, 3),
        stride=dilation,
        padding=padding,
        dilation=stride,
        groups=groups,
    )
    return out[:, :, : kernel[0], : kernel[1]].permute(1, 0, 2, 3)


_ALL = slice(None)


# --------------------------------------------------------------------- argument checks
_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _check_positive(values: tuple[int, ...], name: str, op: str) -> None:
    if any(v < 1 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {values}")


def _check_tensors(
    op: str, x: Tensor, w: Tensor, b: Tensor | None, spatial: int, groups: int, transposed: bool
) -> None:
    """Validate ranks, dtypes, groups and channel counts, naming the shapes involved."""
    if x.ndim != spatial + 2:
        raise ValueError(
            f"{op}: expected a {spatial + 2}-D input (N, C, {_AXES[spatial]}) "
            f"or a {spatial + 1}-D unbatched one, got shape {x.shape}"
        )
    if w.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-D weight, got shape {w.shape}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    tensors = [("input", x), ("weight", w)] + ([("bias", b)] if b is not None else [])
    if any(t.dtype.kind != "f" for _, t in tensors) or len({t.dtype for _, t in tensors}) > 1:
        names = ", ".join(f"{name} {t.dtype}" for name, t in tensors)
        raise TypeError(
            f"{op}: input, weight and bias must share one floating-point dtype, got {names}"
        )
    in_channels = w.shape[0] if transposed else w.shape[1] * groups
    out_channels = w.shape[1] * groups if transposed else w.shape[0]
    if w.shape[0] % groups:
        kind = "in_channels" if transposed else "out_channels"
        raise ValueError(
            f"{op}: groups={groups} must divide the weight's {kind}, but weight has shape {w.shape}"
        )
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{op}: weight of shape {w.shape} with groups={groups} expects input with "
            f"{in_channels} channels, but the input of shape {x.shape} has {x.shape[1]}"
        )
    if b is not None and b.shape != (out_channels,):
        raise ValueError(
            f"{op}: bias must have shape ({out_channels},) for weight of shape {w.shape} "
            f"with groups={groups}, got {b.shape}"
        )


def _padding(
    padding: Any,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    op: str,
) -> tuple[Pair, ...]:
    """Padding as (before, after) per spatial axis; 'same' splits d*(k-1) like PyTorch."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride={stride}")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(
            f"{op}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}"
        )
    values = tuple_arg(padding, n, "padding")
    if any(p < 0 for p in values):
        raise ValueError(f"{op}: padding must be non-negative, got {values}")
    return tuple((p, p) for p in values)


def _lift(x: Tensor, spatial: int) -> tuple[Tensor, bool]:
    """Add a batch axis to an unbatched input (C, [H,] W)."""
    if x.ndim == spatial + 1:
        return x.unsqueeze(0), True
    return x, False


def _conv(
    op: str,
    x: Tensor,
    w: Tensor,
    b: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    spatial: int,
) -> Tensor:
    x, unbatched = _lift(x, spatial)
    _check_tensors(op, x, w, b, spatial, groups, transposed=False)
    strides, dilations = (
        tuple_arg(stride, spatial, "stride"),
        tuple_arg(dilation, spatial, "dilation"),
    )
    _check_positive(strides, "stride", op)
    _check_positive(dilations, "dilation", op)
    kernel = w.shape[2:]
    pads = _padding(padding, kernel, dilations, strides, op)
    padded = tuple(n + p0 + p1 for n, (p0, p1) in zip(x.shape[2:], pads, strict=True))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True))
    if any(e > p for e, p in zip(extent, padded, strict=True)):
        raise ValueError(
            f"{op}: the (dilated) kernel {extent} of weight {w.shape} is larger than the padded "
            f"input {padded} of input {x.shape}"
        )
    if spatial == 3:
        out = _conv3d(x, w, b, strides, pads, dilations, groups)
        return out.squeeze(0) if unbatched else out
    if spatial == 1:
        strides, dilations, pads = (1, *strides), (1, *dilations), ((0, 0), *pads)
    srcs = (x, w) if b is None else (x, w, b)
    out = Convolution.apply(*srcs, stride=strides, padding=pads, dilation=dilations, groups=groups)
    return out.squeeze(0) if unbatched else out


def _conv_transpose(
    op: str,
    x: Tensor,
    w: Tensor,
    b: Tensor | None,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
    spatial: int,
) -> Tensor:
    x, unbatched = _lift(x, spatial)
    _check_tensors(op, x, w, b, spatial, groups, transposed=True)
    strides, dilations = (
        tuple_arg(stride, spatial, "stride"),
        tuple_arg(dilation, spatial, "dilation"),
    )
    _check_positive(strides, "stride", op)
    _check_positive(dilations, "dilation", op)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    pads = _padding(padding, w.shape[2:], dilations, strides, op)
    extra = tuple_arg(output_padding, spatial, "output_padding")
    if any(e < 0 or (e >= s and e >= d) for e, s, d in zip(extra, strides, dilations, strict=True)):
        raise ValueError(
            f"{op}: output_padding {extra} must be smaller than either stride {strides} or "
            f"dilation {dilations}"
        )
    size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, s, (p, _), d, k, e in zip(
            x.shape[2:], strides, pads, dilations, w.shape[2:], extra, strict=True
        )
    )
    if any(n < 1 for n in size):
        raise ValueError(
            f"{op}: input {x.shape} with weight {w.shape} gives an empty output {size}"
        )
    if spatial == 3:
        out = _conv_transpose3d(x, w, b, strides, pads, dilations, groups, size)
        return out.squeeze(0) if unbatched else out
    if spatial == 1:
        strides, dilations, pads, size = (1, *strides), (1, *dilations), ((0, 0), *pads), (1, *size)
    srcs = (x, w) if b is None else (x, w, b)
    out = ConvolutionTranspose.apply(
        *srcs, stride=strides, padding=pads, dilation=dilations, groups=groups, out_size=size
    )
    return out.squeeze(0) if unbatched else out


def _conv3d(
    x: Tensor,
    w: Tensor,
    b: Tensor | None,
    stride: tuple[int, ...],
    padding: tuple[Pair, ...],
    dilation: tuple[int, ...],
    groups: int,
) -> Tensor:
    """A 3-D convolution as one 2-D convolution over (H, W) of the depth windows.

    The KD depth slices each output depth reads become channels: ``(N * OD, C * KD, H, W)``
    grouped as (group, kd, channel), against the weight ``(O, KD * C/groups, KH, KW)``.
    Built from differentiable ops, it has their first and second derivatives.
    """
    n, c, depth = x.shape[:3]
    o, kd = w.shape[0], w.shape[2]
    (front, back), s, d = padding[0], stride[0], dilation[0]
    if front or back:
        x = constant_pad(x, (0, 0, 0, 0, front, back), value=0.0)
    out_depth = (depth + front + back - d * (kd - 1) - 1) // s + 1
    span = (out_depth - 1) * s + 1
    slices = stack([x[:, :, k * d : k * d + span : s] for k in range(kd)], dim=1)
    h, wd = x.shape[3:]
    columns = slices.reshape(n, kd, groups, c // groups, out_depth, h, wd)
    columns = columns.permute(0, 4, 2, 1, 3, 5, 6).reshape(n * out_depth, c * kd, h, wd)
    weight = w.permute(0, 2, 1, 3, 4).reshape(o, kd * w.shape[1], *w.shape[3:])
    srcs = (columns, weight) if b is None else (columns, weight, b)
    out = Convolution.apply(
        *srcs, stride=stride[1:], padding=padding[1:], dilation=dilation[1:], groups=groups
    )
    return out.reshape(n, out_depth, o, *out.shape[2:]).permute(0, 2, 1, 3, 4)


def _conv_transpose3d(
    x: Tensor,
    w: Tensor,
    b: Tensor | None,
    stride: tuple[int, ...],
    padding: tuple[Pair, ...],
    dilation: tuple[int, ...],
    groups: int,
    size: tuple[int, ...],
) -> Tensor:
    """A 3-D transposed convolution as one 2-D transposed convolution over (H, W) per input
    depth, whose KD depth offsets (as channels) are then added at their output depths.

    The adjoint of ``_conv3d``: the weight becomes ``(C, KD * O/groups, KH, KW)``, grouped
    as (group, kd, channel).
    """
    n, c, depth = x.shape[:3]
    per_group, kd = w.shape[1], w.shape[2]
    o = per_group * groups
    (front, _), s, d = padding[0], stride[0], dilation[0]
    planes = x.permute(0, 2, 1, 3, 4).reshape(n * depth, c, *x.shape[3:])
    weight = w.permute(0, 2, 1, 3, 4).reshape(c, kd * per_group, *w.shape[3:])
    out = ConvolutionTranspose.apply(
        planes,
        weight,
        stride=stride[1:],
        padding=padding[1:],
        dilation=dilation[1:],
        groups=groups,
        out_size=size[1:],
    )
    out = out.reshape(n, depth, groups, kd, per_group, *size[1:]).permute(0, 2, 4, 1, 3, 5, 6)
    out = out.reshape(n, o, depth, kd, *size[1:])
    span = (depth - 1) * s + 1
    # NOTE: output_padding may reach past the last offset's reach: the sum is made that long.
    full = (n, o, max(span + d * (kd - 1), front + size[0]), *size[1:])
    placed = [
        PutAt.apply(out[:, :, :, k], key=(_ALL, _ALL, slice(k * d, k * d + span, s)), shape=full)
        for k in range(kd)
    ]
    total = placed[0]
    for part in placed[1:]:
        total = total + part
    result = total[:, :, front : front + size[0]]
    return result if b is None else result + b.reshape(-1, 1, 1, 1)


# --------------------------------------------------------------------------- functions
def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Ints = 1,
    padding: Ints | str = 0,
    dilation: Ints = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) over an input of shape (N, C, H, W).

    ``out[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * x[n, g*C/G + c, i*s + p*d, j*s + q*d]``
    over the zero-padded input, where ``g`` is the group of output channel ``o``.
    Output size per axis: ``(size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1``.

    Args:
        input: Tensor of shape (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: Tensor of shape (C_out, C_in / groups, KH, KW).
        bias: Optional tensor of shape (C_out,).
        stride: Step between windows, an int or (sH, sW).
        padding: Zeros added on both sides, an int, (pH, pW), ``'valid'`` (none) or
            ``'same'`` (output as large as the input; stride 1 only; odd totals put the
            extra zero after, like PyTorch).
        dilation: Spacing between kernel elements, an int or (dH, dW).
        groups: Split input and output channels into this many independent groups.

    Returns:
        Tensor of shape (N, C_out, OH, OW).

    Example:
        >>> x = ac.randn(8, 3, 5, 7)
        >>> F.conv2d(x, ac.randn(4, 3, 3, 3)).shape
        (8, 4, 3, 5)
    """
    return _conv("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Ints = 1,
    padding: Ints | str = 0,
    dilation: Ints = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation) over an input of shape (N, C, L).

    Args:
        input: Tensor of shape (N, C_in, L) or unbatched (C_in, L).
        weight: Tensor of shape (C_out, C_in / groups, K).
        bias: Optional tensor of shape (C_out,).
        stride: Step between windows.
        padding: Zeros added on both sides, an int, ``'valid'`` or ``'same'`` (stride 1).
        dilation: Spacing between kernel elements.
        groups: Split input and output channels into this many independent groups.

    Returns:
        Tensor of shape (N, C_out, (L + 2 * padding - dilation * (K - 1) - 1) // stride + 1).

    Example:
        >>> F.conv1d(ac.randn(2, 3, 10), ac.randn(4, 3, 3), padding="same").shape
        (2, 4, 10)
    """
    return _conv("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Ints = 1,
    padding: Ints = 0,
    output_padding: Ints = 0,
    groups: int = 1,
    dilation: Ints = 1,
) -> Tensor:
    """2-D transposed convolution (the gradient of ``conv2d`` with respect to its input).

    Output size per axis:
    ``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.

    Args:
        input: Tensor of shape (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: Tensor of shape (C_in, C_out / groups, KH, KW).
        bias: Optional tensor of shape (C_out,).
        stride: Stride of the convolution this op transposes.
        padding: Padding of the convolution this op transposes (removed from the output).
        output_padding: Extra rows/columns added to one side of the output, to pick among
            the output sizes a strided convolution maps onto the same input size; each must
            be smaller than the stride or the dilation.
        groups: Split input and output channels into this many independent groups.
        dilation: Spacing between kernel elements.

    Returns:
        Tensor of shape (N, C_out, OH, OW).

    Example:
        >>> F.conv_transpose2d(ac.randn(1, 4, 5, 7), ac.randn(4, 2, 3, 3), stride=2).shape
        (1, 2, 11, 15)
    """
    return _conv_transpose(
        "conv_transpose2d",
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        2,
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Ints = 1,
    padding: Ints = 0,
    output_padding: Ints = 0,
    groups: int = 1,
    dilation: Ints = 1,
) -> Tensor:
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input).

    Args:
        input: Tensor of shape (N, C_in, L) or unbatched (C_in, L).
        weight: Tensor of shape (C_in, C_out / groups, K).
        bias: Optional tensor of shape (C_out,).
        stride: Stride of the convolution this op transposes.
        padding: Padding of the convolution this op transposes (removed from the output).
        output_padding: Extra elements added at the end of the output (smaller than the
            stride or the dilation).
        groups: Split input and output channels into this many independent groups.
        dilation: Spacing between kernel elements.

    Returns:
        Tensor of shape (N, C_out, OL) with
        ``OL = (L - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1``.

    Example:
        >>> F.conv_transpose1d(ac.randn(2, 4, 5), ac.randn(4, 3, 3), stride=2).shape
        (2, 3, 11)
    """
    return _conv_transpose(
        "conv_transpose1d",
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        1,
    )


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Ints = 1,
    padding: Ints | str = 0,
    dilation: Ints = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution (cross-correlation) over an input of shape (N, C, D, H, W).

    As ``conv2d`` with a third spatial axis. Output size per axis:
    ``(size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1``.

    Args:
        input: Tensor of shape (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: Tensor of shape (C_out, C_in / groups, KD, KH, KW).
        bias: Optional tensor of shape (C_out,).
        stride: Step between windows, an int or (sD, sH, sW).
        padding: Zeros added on both sides, an int, (pD, pH, pW), ``'valid'`` or ``'same'``
            (stride 1; odd totals put the extra zero after, like PyTorch).
        dilation: Spacing between kernel elements, an int or (dD, dH, dW).
        groups: Split input and output channels into this many independent groups.

    Returns:
        Tensor of shape (N, C_out, OD, OH, OW).

    Example:
        >>> F.conv3d(ac.randn(2, 3, 4, 5, 6), ac.randn(8, 3, 3, 3, 3), padding=1).shape
        (2, 8, 4, 5, 6)
    """
    return _conv("conv3d", input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Ints = 1,
    padding: Ints = 0,
    output_padding: Ints = 0,
    groups: int = 1,
    dilation: Ints = 1,
) -> Tensor:
    """3-D transposed convolution (the gradient of ``conv3d`` with respect to its input).

    Output size per axis:
    ``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.

    Args:
        input: Tensor of shape (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: Tensor of shape (C_in, C_out / groups, KD, KH, KW).
        bias: Optional tensor of shape (C_out,).
        stride: Stride of the convolution this op transposes.
        padding: Padding of the convolution this op transposes (removed from the output).
        output_padding: Extra planes/rows/columns added to one side of the output; each
            must be smaller than the stride or the dilation.
        groups: Split input and output channels into this many independent groups.
        dilation: Spacing between kernel elements.

    Returns:
        Tensor of shape (N, C_out, OD, OH, OW).

    Example:
        >>> F.conv_transpose3d(ac.randn(1, 4, 2, 3, 3), ac.randn(4, 2, 2, 2, 2), stride=2).shape
        (1, 2, 4, 6, 6)
    """
    return _conv_transpose(
        "conv_transpose3d",
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        3,
    )


def _patch_weights(channels: int, kernel: tuple[int, ...], like: Tensor) -> Tensor:
    """One-hot kernels (C * KH * KW, 1, KH, KW): output channel ``c * KH * KW + k`` of a
    grouped convolution copies kernel position ``k`` of input channel ``c``."""
    area = kernel[0] * kernel[1]
    ones = np.eye(area, dtype=like.dtype).reshape(area, 1, *kernel)
    return Tensor(np.tile(ones, (channels, 1, 1, 1)), device=like.device)


def unfold(
    input: Tensor, kernel_size: Ints, dilation: Ints = 1, padding: Ints = 0, stride: Ints = 1
) -> Tensor:
    """The sliding (KH, KW) patches of an (N, C, H, W) input as columns: (N, C * KH * KW, L).

    Row ``c * KH * KW + p * KW + q`` holds kernel position (p, q) of channel ``c``, column
    ``l`` the ``l``-th window in row-major order, as PyTorch's ``unfold`` (im2col). It is a
    grouped convolution with one-hot kernels, so it has that convolution's gradient.

    Args:
        input: (N, C, H, W), or unbatched (C, H, W).
        kernel_size: (KH, KW), or one int.
        dilation: Spacing of the kernel positions.
        padding: Zero padding on each side.
        stride: Step between windows.

    Returns:
        (N, C * KH * KW, L) (or (C * KH * KW, L) unbatched), L the number of windows.
    """
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != 4:
        raise ValueError(f"unfold needs an input (N, C, H, W) or (C, H, W), got {input.shape}")
    kernel = tuple_arg(kernel_size, 2, "kernel_size")
    weights = _patch_weights(x.shape[1], kernel, x._floating())
    patches = conv2d(x._floating(), weights, None, stride, padding, dilation, x.shape[1])
    columns = patches.reshape(x.shape[0], patches.shape[1], -1)
    return columns.squeeze(0) if unbatched else columns


def fold(
    input: Tensor,
    output_size: Ints,
    kernel_size: Ints,
    dilation: Ints = 1,
    padding: Ints = 0,
    stride: Ints = 1,
) -> Tensor:
    """Sum columns of patches back into an image (col2im), the adjoint of ``unfold``.

    Args:
        input: (N, C * KH * KW, L), or unbatched (C * KH * KW, L).
        output_size: (H, W) of the image.
        kernel_size: (KH, KW), or one int.
        dilation: Spacing of the kernel positions.
        padding: Padding the windows reached into (cut off here).
        stride: Step between windows.

    Returns:
        (N, C, H, W) (or (C, H, W) unbatched); where windows overlap their values add up.
    """
    unbatched = input.ndim == 2
    columns = input.unsqueeze(0) if unbatched else input
    kernel = tuple_arg(kernel_size, 2, "kernel_size")
    size = tuple_arg(output_size, 2, "output_size")
    strides, pads, dilations = (
        tuple_arg(v, 2, n)
        for v, n in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"))
    )
    counts = [
        (size[a] + 2 * pads[a] - dilations[a] * (kernel[a] - 1) - 1) // strides[a] + 1
        for a in (0, 1)
    ]
    area = kernel[0] * kernel[1]
    if columns.ndim != 3 or columns.shape[1] % area or columns.shape[2] != counts[0] * counts[1]:
        raise ValueError(
            f"fold needs an input (N, C * {area}, {counts[0] * counts[1]}) for kernel {kernel} "
            f"and output size {size}, got shape {input.shape}"
        )
    channels = columns.shape[1] // area
    patches = columns.reshape(columns.shape[0], columns.shape[1], *counts)
    weights = _patch_weights(channels, kernel, patches._floating())
    # NOTE: output_padding covers the rows and columns no window reached
    extra = [
        size[a] + 2 * pads[a] - ((counts[a] - 1) * strides[a] + dilations[a] * (kernel[a] - 1) + 1)
        for a in (0, 1)
    ]
    image = conv_transpose2d(
        patches._floating(), weights, None, strides, pads, tuple(extra), channels, dilations
    )
    return image.squeeze(0) if unbatched else image
