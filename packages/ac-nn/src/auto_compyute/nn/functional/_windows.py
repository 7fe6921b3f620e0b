"""Sliding-window kernels shared by convolution and pooling: strided views, im2col, col2im.

Everything here works on raw NumPy or CuPy arrays (the module comes from the array) and
on 2-D images; 1-D ops use a unit height. No loop runs over pixels or samples: loops run
over the KH*KW kernel offsets at most, each touching one strided slice of every window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module

Pair = tuple[int, int]
Padding2d = tuple[Pair, Pair]  # ((top, bottom), (left, right))

# NOTE: below this output width the image rows an im2col copy reads are too short to be
# fast (NumPy's inner loops do little work each); such images are unfolded with the batch
# as the last, contiguous axis instead, which costs two transposes of the activations.
BATCH_LAST_BELOW_WIDTH = 16


def as_strided(x: Array, shape: tuple[int, ...], strides: tuple[int, ...]) -> Array:
    """A strided view of ``x`` from its own array module (``xp.lib.stride_tricks.as_strided``).

    Callers keep every view inside ``x``'s memory and write only through views that do not
    overlap themselves.
    """
    return get_array_module(x).lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def windows(
    x: Array, kernel: Pair, stride: Pair, dilation: Pair, out_size: Pair, axes: Pair = (2, 3)
) -> Array:
    """View ``(KH, KW, *shape)`` of the windows of ``x`` over two spatial ``axes``.

    ``view[i, j]`` is ``x`` with the spatial axes replaced by ``out_size``, holding kernel
    offset ``(i, j)`` of every window; ``x`` must already be padded.
    """
    shape, strides = list(x.shape), list(x.strides)
    for axis, size, step, dil in zip(axes, out_size, stride, dilation):
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
    out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
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


def im2col(
    x: Array,
    kernel: Pair,
    stride: Pair,
    padding: Padding2d,
    dilation: Pair,
    out_size: Pair,
    groups: int,
    batch_last: bool,
) -> Array:
    """Unfold ``x`` (N, C, H, W) into columns ``(groups, C/groups*KH*KW, L)`` with one copy.

    Rows run over (channel, kernel row, kernel column), matching a weight reshaped to
    ``(O, C*KH*KW)``; the L = N*OH*OW columns run over (n, oh, ow), or over (oh, ow, n)
    with ``batch_last``.
    """
    x = pad2d(x, padding, 0, batch_last)
    c = x.shape[0] if batch_last else x.shape[1]
    view = windows(x, kernel, stride, dilation, out_size, (1, 2) if batch_last else (2, 3))
    view = view.transpose(2, 0, 1, 3, 4, 5) if batch_last else view.transpose(3, 0, 1, 2, 4, 5)
    return view.reshape(groups, c // groups * kernel[0] * kernel[1], -1)


def col2im(
    cols: Array,
    shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    padding: Padding2d,
    dilation: Pair,
    out_size: Pair,
    batch_last: bool,
) -> Array:
    """Fold columns laid out as ``im2col`` makes them into an image of ``shape`` (N, C, H, W).

    Overlapping windows add up: the adjoint of ``im2col``.
    """
    xp = get_array_module(cols)
    n, c, h, w = shape
    (top, bottom), (left, right) = padding
    hp, wp = h + top + bottom, w + left + right
    out = xp.zeros((c, hp, wp, n) if batch_last else (n, c, hp, wp), dtype=cols.dtype)
    view = windows(out, kernel, stride, dilation, out_size, (1, 2) if batch_last else (2, 3))
    if batch_last:
        cols = cols.reshape(c, *kernel, *out_size, n).transpose(1, 2, 0, 3, 4, 5)
    else:
        cols = cols.reshape(c, *kernel, n, *out_size).transpose(1, 2, 3, 0, 4, 5)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            view[i, j] += cols[i, j]
    if batch_last:
        return xp.ascontiguousarray(out[:, top : top + h, left : left + w].transpose(3, 0, 1, 2))
    return crop2d(out, padding)


def to_nchw(out: Array, n: int, size: Pair, bias: Array | None, batch_last: bool) -> Array:
    """Columns ``(..., O', L)`` of a product with im2col columns as a contiguous ``(N, O, OH, OW)``,
    plus an optional bias per channel, in one copy."""
    xp = get_array_module(out)
    if batch_last:
        out = out.reshape(-1, *size, n).transpose(3, 0, 1, 2)
    else:
        out = out.reshape(-1, n, *size).transpose(1, 0, 2, 3)
    if bias is None:
        return xp.ascontiguousarray(out)
    result = xp.empty(out.shape, dtype=out.dtype)
    xp.add(out, bias.reshape(-1, 1, 1), out=result)
    return result


def from_nchw(x: Array, groups: int, batch_last: bool) -> Array:
    """``(N, O, OH, OW)`` as columns ``(groups, O/groups, L)`` laid out like im2col's (one copy)."""
    x = x.transpose(1, 2, 3, 0) if batch_last else x.transpose(1, 0, 2, 3)
    return x.reshape(groups, x.shape[0] // groups, -1)


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` batched over groups; a single 2-D BLAS product for one group."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return a @ b


def contract_columns(a: Array, b: Array) -> Array:
    """``a @ b^T`` per group for ``a`` (G, M, L) and ``b`` (G, K, L) with a long L (the pixels)."""
    m, k, length = a.shape[1], b.shape[1], a.shape[2]
    chunks = _chunks(length) if a.shape[0] == 1 and m * k <= 16384 else 1
    if chunks == 1:
        return matmul(a, b.transpose(0, 2, 1))
    # NOTE: BLAS runs a product with a tiny (M, K) result and a huge inner dimension L
    # about twice as slowly as the same work as a batch of cache-sized chunks of L.
    a = a[0].reshape(m, chunks, -1).transpose(1, 0, 2)
    b = b[0].reshape(k, chunks, -1).transpose(1, 2, 0)
    return (a @ b).sum(axis=0)[None]


def _chunks(length: int, target: int = 2048) -> int:
    """The most chunks of at least ``target`` that divide ``length`` evenly, 1 if under 4."""
    for chunks in range(length // target, 3, -1):
        if length % chunks == 0:
            return chunks
    return 1


def tuple_arg(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, Sequence) and len(value) == n and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
