"""Sliding-window kernels shared by convolution and pooling: strided views, im2col, col2im.

Everything here works on raw NumPy or CuPy arrays (the module comes from the array) and
on 2-D images; 1-D ops use a unit height. No loop runs over pixels or samples: loops run
over the KH*KW kernel offsets at most, each touching one strided slice of every window.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array
from auto_compyute._core.blas import sum_by_product
from auto_compyute._core.devices import filled, get_array_module

Pair = tuple[int, int]
Padding2d = tuple[Pair, Pair]  # ((top, bottom), (left, right))
Ints = int | Sequence[int]  # one size for every spatial axis, or one per axis

# NOTE: below this output width the image rows an im2col copy reads are too short to be
# fast (NumPy's inner loops do little work each); such images are unfolded with the batch
# as the last, contiguous axis instead, which costs two transposes of the activations.
BATCH_LAST_BELOW_WIDTH = 16
# NOTE: from this many output pixels per image, one matrix product per sample is about as
# fast as one for the whole batch and writes NCHW directly, sparing two transposes.
PER_SAMPLE_FROM_PIXELS = 512
BATCH_FIRST, BATCH_LAST, PER_SAMPLE = "batch_first", "batch_last", "per_sample"
# NOTE: a convolution unfolds its columns (KH*KW times its input at stride 1) at most this
# many bytes at a time, so that its working memory stays bounded, as PyTorch's does, and
# a step's peak stays near that of its activations. Smaller pieces make smaller matrix
# products, which BLAS runs less efficiently: 4 MiB cost about 2% of the benchmark CNN's
# step (its second convolution in two pieces), 2 MiB about 5%.
COLUMNS_PIECE_BYTES = 4 << 20
_ALL = slice(None)


def as_strided(x: Array, shape: tuple[int, ...], strides: tuple[int, ...]) -> Array:
    """A strided view of ``x`` from its own array module (``xp.lib.stride_tricks.as_strided``).

    Callers keep every view inside ``x``'s memory and write only through views that do not
    overlap themselves.

    NOTE: NumPy's ``as_strided`` is Python code, 18 us a call inside a CNN's training step
    (12 calls a step); the array constructor over a contiguous ``x``'s memory is C code.
    """
    if type(x) is np.ndarray and x.flags.c_contiguous and x.size:
        return np.ndarray(shape, x.dtype, x, 0, strides)
    return get_array_module(x).lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def windows(
    x: Array, kernel: Pair, stride: Pair, dilation: Pair, out_size: Pair, axes: Pair = (2, 3)
) -> Array:
    """View ``(KH, KW, *shape)`` of the windows of ``x`` over two spatial ``axes``.

    ``view[i, j]`` is ``x`` with the spatial axes replaced by ``out_size``, holding kernel
    offset ``(i, j)`` of every window; ``x`` must already be padded.
    """
    shape, strides = list(x.shape), list(x.strides)
    for axis, size, step in zip(axes, out_size, stride, strict=True):
        shape[axis], strides[axis] = size, x.strides[axis] * step
    offsets = (x.strides[axes[0]] * dilation[0], x.strides[axes[1]] * dilation[1])
    return as_strided(x, (*kernel, *shape), (*offsets, *strides))


def pad2d(x: Array, padding: Padding2d, value: Any = 0, batch_last: bool = False) -> Array:
    """``x`` (N, C, H, W) padded on H and W with a constant, or, with ``batch_last``, as a
    padded ``(C, H, W, N)`` copy; ``x`` itself when neither applies."""
    (top, bottom), (left, right) = padding
    if batch_last:
        x = x.transpose(1, 2, 3, 0)
    elif not (top or bottom or left or right):
        return x
    xp = get_array_module(x)
    shape = list(x.shape)
    h, w = (1, 2) if batch_last else (2, 3)
    rows, cols = shape[h], shape[w]
    shape[h], shape[w] = rows + top + bottom, cols + left + right
    if not (top or bottom or left or right):
        return xp.ascontiguousarray(x)
    out = filled(xp, tuple(shape), value, x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
    index = [slice(None)] * 4
    index[h], index[w] = slice(top, top + rows), slice(left, left + cols)
    out[tuple(index)] = x
    return out


def crop2d(x: Array, padding: Padding2d) -> Array:
    """Undo ``pad2d`` on an (N, C, H, W) array: the view without the padding."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]


def choose_layout(out_size: Pair) -> str:
    """How to lay out the columns of a convolution with an output of ``out_size`` (OH, OW).

    ``BATCH_LAST`` for narrow outputs, ``PER_SAMPLE`` (one matrix product per sample,
    straight into NCHW) for large ones, ``BATCH_FIRST`` (one matrix product for the batch)
    otherwise. All three give the same numbers; they differ in speed only.
    """
    if out_size[1] < BATCH_LAST_BELOW_WIDTH:
        return BATCH_LAST
    if out_size[0] * out_size[1] >= PER_SAMPLE_FROM_PIXELS:
        return PER_SAMPLE
    return BATCH_FIRST


def column_pieces(layout: str, n: int, out_size: Pair, rows: int, itemsize: int) -> list[slice]:
    """Even ranges of the columns' leading axis, each with at most ``COLUMNS_PIECE_BYTES``
    of columns (or a single index, if one alone takes more).

    The leading axis is the output rows for ``BATCH_LAST`` and the batch otherwise (see
    ``im2col``); ``rows`` is the number of column rows, C*KH*KW.
    """
    lead = out_size[0] if layout == BATCH_LAST else n
    if lead == 0:
        return [slice(0, 0)]
    per_index = rows * n * out_size[0] * out_size[1] * itemsize // lead
    count = -(-lead // max(1, COLUMNS_PIECE_BYTES // max(per_index, 1)))
    step = -(-lead // count)
    return [slice(i, i + step) for i in range(0, lead, step)]


def unfold_input(x: Array, padding: Padding2d, layout: str) -> Array:
    """``x`` (N, C, H, W) zero-padded as ``im2col`` reads it: (C, H, W, N) for ``BATCH_LAST``."""
    return pad2d(x, padding, 0, layout == BATCH_LAST)


def zero_image(
    xp: Any, shape: tuple[int, ...], padding: Padding2d, layout: str, dtype: Any
) -> Array:
    """Zeros laid out like ``unfold_input`` of an (N, C, H, W) array of ``shape``, for
    ``col2im`` to add into."""
    n, c, h, w = shape
    (top, bottom), (left, right) = padding
    h, w = h + top + bottom, w + left + right
    return xp.zeros((c, h, w, n) if layout == BATCH_LAST else (n, c, h, w), dtype=dtype)


def fold_input(image: Array, padding: Padding2d, layout: str) -> Array:
    """Undo ``unfold_input``: the (N, C, H, W) image without its padding."""
    if layout != BATCH_LAST:
        return crop2d(image, padding)
    (top, bottom), (left, right) = padding
    cropped = image[:, top : image.shape[1] - bottom, left : image.shape[2] - right]
    return get_array_module(image).ascontiguousarray(cropped.transpose(3, 0, 1, 2))


def im2col(
    x: Array,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out_size: Pair,
    groups: int,
    layout: str,
    piece: slice = _ALL,
    ones: bool = False,
) -> Array:
    """Unfold ``x`` (from ``unfold_input``) into columns ``(groups, C/groups*KH*KW, L)``.

    Rows run over (channel, kernel row, kernel column), matching a weight reshaped to
    ``(O, C*KH*KW)``; the L columns run over (n, oh, ow), or over (oh, ow, n) for
    ``BATCH_LAST``, for the ``piece`` of the leading axis (n, or oh) only. One copy.
    With ``ones``, each group gets a last row of ones (for a bias column in the weight).
    """
    view = _piece_of_windows(x, kernel, stride, dilation, out_size, layout, piece)
    if layout == BATCH_LAST:
        view = view.transpose(2, 0, 1, 3, 4, 5)  # (C, KH, KW, oh, OW, N)
    else:
        view = view.transpose(3, 0, 1, 2, 4, 5)  # (C, KH, KW, n, OH, OW)
    rows = view.shape[0] // groups * kernel[0] * kernel[1]
    length = math.prod(view.shape[3:])
    if not ones:
        return view.reshape(groups, rows, length)
    cols = get_array_module(x).empty((groups, rows + 1, length), dtype=x.dtype)
    cols[:, -1] = 1
    grouped = (groups, view.shape[0] // groups, *view.shape[1:])
    cols[:, :-1].reshape(grouped)[...] = view.reshape(grouped)
    return cols


def col2im(
    cols: Array,
    image: Array,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out_size: Pair,
    layout: str,
    piece: slice = _ALL,
) -> None:
    """Add the columns of ``piece``, as ``input_columns`` makes them, into ``image``.

    The adjoint of ``im2col``: ``image`` is laid out and zero-padded like the result of
    ``unfold_input``, and overlapping windows add up. Loops over the KH*KW kernel offsets,
    each adding one strided slab for every window of the piece at once.
    """
    view = _piece_of_windows(image, kernel, stride, dilation, out_size, layout, piece)
    if layout == BATCH_LAST:  # view (KH, KW, C, oh, OW, N)
        c, *lead = view.shape[2:]
        cols = cols.reshape(c, *kernel, *lead).transpose(1, 2, 0, 3, 4, 5)
    else:  # view (KH, KW, n, C, OH, OW)
        n, c, *size = view.shape[2:]
        if layout == PER_SAMPLE:
            cols = cols.reshape(n, c, *kernel, *size).transpose(2, 3, 0, 1, 4, 5)
        else:
            cols = cols.reshape(c, *kernel, n, *size).transpose(1, 2, 3, 0, 4, 5)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            view[i, j] += cols[i, j]


def _piece_of_windows(
    x: Array, kernel: Pair, stride: Pair, dilation: Pair, out_size: Pair, layout: str, piece: slice
) -> Array:
    """The windows of ``piece`` of an ``unfold_input`` layout: (KH, KW, C, oh, OW, N) for
    ``BATCH_LAST``, else (KH, KW, n, C, OH, OW)."""
    if layout == BATCH_LAST:
        return windows(x, kernel, stride, dilation, out_size, (1, 2))[:, :, :, piece]
    return windows(x, kernel, stride, dilation, out_size)[:, :, piece]


def output_matrix(x: Array, groups: int, layout: str) -> Array:
    """An output (or its gradient) (N, O, OH, OW) in the form that pairs with the columns.

    ``(N, groups, O/groups, OH*OW)`` (a view) for ``PER_SAMPLE``; else ``(groups,
    O/groups, lead, rest)`` with the columns' leading axis (n or oh) third (one copy).
    ``output_piece`` cuts a piece of it, ``output_image`` turns it back.
    """
    shape = _matrix_shape(x.shape, groups, layout)
    if layout != PER_SAMPLE:
        x = x.transpose(1, 2, 3, 0) if layout == BATCH_LAST else x.transpose(1, 0, 2, 3)
        x = get_array_module(x).ascontiguousarray(x)
    return x.reshape(shape)


def empty_output_matrix(
    xp: Any, shape: tuple[int, ...], groups: int, layout: str, dtype: Any
) -> Array:
    """An uninitialized ``output_matrix`` for an output of ``shape`` (N, O, OH, OW)."""
    return xp.empty(_matrix_shape(shape, groups, layout), dtype=dtype)


def _matrix_shape(shape: tuple[int, ...], groups: int, layout: str) -> tuple[int, ...]:
    n, o, h, w = shape
    if layout == PER_SAMPLE:
        return (n, groups, o // groups, h * w)
    if layout == BATCH_LAST:
        return (groups, o // groups, h, w * n)
    return (groups, o // groups, n, h * w)


def output_piece(matrix: Array, layout: str, piece: slice = _ALL) -> Array:
    """The part of an ``output_matrix`` that pairs with the columns of ``piece`` (a view)."""
    if layout == PER_SAMPLE:
        return matrix[piece]
    part = matrix[:, :, piece]
    return part.reshape(*part.shape[:2], math.prod(part.shape[2:]))


def output_image(matrix: Array, shape: tuple[int, ...], layout: str) -> Array:
    """Undo ``output_matrix``: the contiguous (N, O, OH, OW) image of ``shape``."""
    n, o, h, w = shape
    if layout == PER_SAMPLE:
        return matrix.reshape(shape)
    xp = get_array_module(matrix)
    if layout == BATCH_LAST:
        return xp.ascontiguousarray(matrix.reshape(o, h, w, n).transpose(3, 0, 1, 2))
    return xp.ascontiguousarray(matrix.reshape(o, n, h, w).transpose(1, 0, 2, 3))


def output_sum(matrix: Array, layout: str) -> Array:
    """An ``output_matrix`` summed over all but its channels (O,): the bias gradient.

    NOTE: as products with vectors of ones, which BLAS runs several times faster than
    NumPy's reductions over these axes.
    """
    if layout == PER_SAMPLE:
        n, groups, channels, pixels = matrix.shape
        per_sample = sum_by_product(matrix.reshape(-1, pixels), 1)
        return sum_by_product(per_sample.reshape(n, groups * channels), 0)
    length = math.prod(matrix.shape[2:])
    return sum_by_product(matrix.reshape(matrix.shape[0] * matrix.shape[1], length), 1)


def weight_times_columns(w: Array, cols: Array, layout: str, out: Array) -> None:
    """``w @ cols`` per group into ``out``, an ``output_piece`` of matching size.

    ``w`` is ``(groups, O/groups, C/groups*KH*KW)`` and ``cols`` comes from ``im2col``.
    """
    if layout == PER_SAMPLE:  # one product per sample, into out (n, groups, O/groups, OH*OW)
        groups, rows = cols.shape[:2]
        cols = cols.reshape(groups, rows, out.shape[0], out.shape[-1]).transpose(2, 0, 1, 3)
    _matmul(w, cols, out)


def input_columns(w: Array, g: Array, out: Array | None = None) -> Array:
    """``w^T @ g`` per group: the columns whose ``col2im`` is the gradient of the input.

    ``g`` is an ``output_piece``; ``w`` is ``(groups, O/groups, C/groups*KH*KW)``.
    ``out``, a contiguous array of the result's size and dtype, receives the result.
    """
    w_t = w.transpose(0, 2, 1)
    if out is not None:
        out = out.reshape(*g.shape[:-3], *w_t.shape[-3:-1], g.shape[-1])
    return _matmul(w_t, g, out)


def weight_product(g: Array, cols: Array, layout: str) -> Array:
    """``g @ cols^T`` per group, summed over all pixels: the weight gradient.

    ``g`` is an ``output_piece`` and ``cols`` the columns of the same piece. Returns
    ``(groups, O/groups, C/groups*KH*KW)``.
    """
    if layout == PER_SAMPLE:
        n, groups, rows = g.shape[0], cols.shape[0], cols.shape[1]
        per_sample = cols.reshape(groups, rows, n, g.shape[3]).transpose(2, 0, 1, 3)
        return _matmul(per_sample, g.transpose(0, 1, 3, 2)).sum(axis=0).transpose(0, 2, 1)
    m, k = g.shape[1], cols.shape[1]
    # NOTE: BLAS runs ``cols @ g^T`` (then transposed) up to 1.5x faster than ``g @ cols^T``
    # for these shapes, and a product with a tiny result and a huge L faster still as a
    # batch of cache-sized chunks of L.
    chunks = _chunks(g.shape[2]) if g.shape[0] == 1 and m * k <= 2048 else 1
    if chunks == 1:
        return _matmul(cols, g.transpose(0, 2, 1)).transpose(0, 2, 1)
    g = g[0].reshape(m, chunks, -1).transpose(1, 2, 0)
    cols = cols[0].reshape(k, chunks, -1).transpose(1, 0, 2)
    return (cols @ g).sum(axis=0).T[None]


def _matmul(a: Array, b: Array, out: Array | None = None) -> Array:
    """``a @ b`` over groups on axis -3 (batched or broadcast), into ``out`` if given.

    A single-group product skips that axis so BLAS sees plain 2-D (or per-sample) matrices.
    """
    xp = get_array_module(a)
    if a.shape[-3] == 1 and b.shape[-3] == 1:
        if out is None:
            return (a[..., 0, :, :] @ b[..., 0, :, :])[..., None, :, :]
        xp.matmul(a[..., 0, :, :], b[..., 0, :, :], out=out[..., 0, :, :])
        return out
    return xp.matmul(a, b, out=out)


def _chunks(length: int, target: int = 2048) -> int:
    """The most chunks of at least ``target`` that divide ``length`` evenly, 1 if under 4."""
    for chunks in range(length // target, 3, -1):
        if length % chunks == 0:
            return chunks
    return 1


def tuple_arg(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An integer or a sequence of ``n`` integers as a tuple of ``n`` ints."""
    try:
        if isinstance(value, Sequence):
            values = tuple(operator.index(v) for v in value)
        else:
            values = (operator.index(value),) * n
    except TypeError:
        values = ()
    if len(values) != n:
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return values
