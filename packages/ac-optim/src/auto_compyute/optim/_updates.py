"""Running optimizer updates: array kernels over cache-sized pieces of the parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor

# NOTE: an update is a chain of array expressions; running the chain over pieces of this many
# elements (256 KiB of float32) keeps its temporaries in the CPU cache: an Adam step ran about
# 1.3x faster than with expressions over whole parameters. Kernels pass ``out`` by position,
# as NumPy handles a keyword argument of a ufunc call several times more slowly, and take
# their scalars by position too (keyword arguments cost about a microsecond a call).
CHUNK_SIZE = 1 << 16

Update = tuple[Callable[..., None], tuple[Array | None, ...], tuple[Any, ...]]


def run_updates(updates: Sequence[Update]) -> None:
    """Call ``kernel(*pieces, tmp, *scalars)`` for every ``(kernel, arrays, scalars)``.

    The arrays (the parameter, its gradient, then the state) come cut into pieces (see
    ``chunks``); ``tmp`` is a scratch array shaped like the first array's piece, for the
    kernel's temporary results. The pieces of one step share one scratch array, which stays
    in the CPU cache. Float16 parameters are updated in float32 (see ``_run_in_float32``).
    """
    scratch: dict[Any, Array] = {}
    for kernel, arrays, scalars in updates:
        # NOTE: the item size is the cheapest test for float16 (the only 2-byte float), and
        # every parameter pays for it.
        if arrays[0].itemsize == 2:  # type: ignore[union-attr]
            for piece in chunks(*arrays):
                _run_in_float32(kernel, piece, scalars, scratch)
        else:
            for piece in chunks(*arrays):
                kernel(*piece, _scratch_like(piece[0], scratch), *scalars)


def _run_in_float32(
    kernel: Callable[..., None],
    piece: tuple[Any, ...],
    scalars: tuple[Any, ...],
    scratch: dict[Any, Array],
) -> None:
    """Run ``kernel`` on float32 copies of a float16 piece, then round the parameter and the
    state back into their arrays (state kept in float32 is updated in place).

    NOTE: PyTorch computes float16 updates in float32 ("opmath") and rounds the results: in
    float16, a gradient's square overflows from 256 on.
    """
    wide = tuple(None if a is None else a.astype(np.float32, copy=False) for a in piece)
    kernel(*wide, _scratch_like(wide[0], scratch), *scalars)
    for i, (array, result) in enumerate(zip(piece, wide, strict=True)):
        if i != 1 and result is not array:  # the gradient (1) is only read
            array[...] = result


def _scratch_like(array: Array, scratch: dict[Any, Array]) -> Array:
    if type(array) is not np.ndarray or array.size > CHUNK_SIZE:
        return get_array_module(array).empty_like(array)
    buffer = scratch.get(array.dtype)
    if buffer is None:
        buffer = scratch[array.dtype] = np.empty(CHUNK_SIZE, array.dtype)
    return buffer[: array.size].reshape(array.shape)


def chunks(*arrays: Array | None) -> Iterator[tuple[Any, ...]]:
    """Cut same-shaped arrays into aligned flat pieces of at most ``CHUNK_SIZE`` elements.

    The pieces are views, so in-place updates land in the arrays. Arrays that are not all
    C-contiguous NumPy arrays (CuPy arrays, strided views) come back whole, once, and 0-d
    arrays as 1-element views. ``None`` (state an optimizer does not keep) stays ``None``;
    the first array, the parameter's, is never ``None``.
    """
    first: Any = arrays[0]
    size = first.size
    if first.ndim == 0:
        # NOTE: NumPy's ufuncs return scalars for 0-d inputs without ``out``, and a kernel's
        # in-place update of such a scalar would only rebind a local name.
        yield tuple(None if a is None else a.reshape(1) for a in arrays)
        return
    if size <= CHUNK_SIZE or not all(
        a is None or (type(a) is np.ndarray and a.flags.c_contiguous) for a in arrays
    ):
        yield arrays
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    for start in range(0, size, CHUNK_SIZE):
        end = start + CHUNK_SIZE
        yield tuple(None if a is None else a[start:end] for a in flat)


def new_state(param: Tensor, fill: float = 0.0, dtype: Any = None) -> Array:
    """A C-contiguous state array shaped like ``param``, on its device, of its dtype unless
    ``dtype`` is given."""
    xp = get_array_module(param.data)
    return xp.full(param.data.shape, fill, dtype=param.data.dtype if dtype is None else dtype)


def effective_grad(param: Array, grad: Array, weight_decay: float, maximize: bool) -> Array:
    """``-grad`` if maximizing, plus ``weight_decay * param``: a new array, or ``grad`` itself.

    ``grad`` is never written to: it belongs to the parameter. The result is an array, 0-d
    for 0-d inputs.
    """
    if weight_decay == 0 and not maximize:
        return grad
    if grad.ndim == 0:  # NOTE: NumPy's ufuncs make NumPy scalars of 0-d arrays
        return effective_grad(param.reshape(1), grad.reshape(1), weight_decay, maximize).reshape(())
    xp = get_array_module(grad)
    if weight_decay == 0:
        return xp.negative(grad)
    result = xp.multiply(param, weight_decay)
    if maximize:
        result -= grad
    else:
        result += grad
    return result
