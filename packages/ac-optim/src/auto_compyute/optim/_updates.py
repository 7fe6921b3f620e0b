"""Running optimizer updates: array kernels over cache-sized pieces, on a few threads."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor

# NOTE: an update is a chain of array expressions; running the chain over pieces of this many
# elements (512 KiB of float32) keeps its temporaries in the CPU cache. Smaller pieces make
# the threads below wait for each other's GIL more often than they gain.
CHUNK_SIZE = 1 << 17
# NOTE: NumPy runs an expression on one core and releases the GIL meanwhile, so the pieces
# of a step are spread over threads, as PyTorch spreads its ops over intra-op threads. The
# result is the same bit for bit: every piece is updated on its own.
NUM_THREADS = min(4, os.cpu_count() or 1)

Update = tuple[Callable[..., None], tuple[Array | None, ...]]
_pool: tuple[tuple[int, int], ThreadPoolExecutor] | None = None


def set_num_threads(threads: int) -> None:
    """Set how many threads an optimizer step may use on the CPU (default: up to 4 cores).

    Args:
        threads: A positive number; 1 keeps every update on the calling thread.
    """
    global NUM_THREADS
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"the number of threads must be a positive int, got {threads!r}")
    NUM_THREADS = threads


def get_num_threads() -> int:
    """How many threads an optimizer step may use on the CPU."""
    return NUM_THREADS


def run_updates(updates: Sequence[Update]) -> None:
    """Call ``kernel(*arrays)`` for every ``(kernel, arrays)``, piece by piece.

    NumPy pieces are shared out over up to ``NUM_THREADS`` threads; other arrays (CuPy)
    are updated whole, on the calling thread, which holds their device and stream.
    """
    pieces = [(kernel, piece) for kernel, arrays in updates for piece in chunks(*arrays)]
    cpu = [piece for piece in pieces if type(piece[1][0]) is np.ndarray]
    mine = [piece for piece in pieces if type(piece[1][0]) is not np.ndarray]
    threads = min(NUM_THREADS, sum(piece[1][0].size for piece in cpu) // CHUNK_SIZE)
    if threads <= 1:
        _run(mine + cpu)
        return
    shares: list[list[Any]] = [[] for _ in range(threads)]
    loads = [0] * threads
    for piece in sorted(cpu, key=lambda piece: -piece[1][0].size):  # biggest to least loaded
        least = loads.index(min(loads))
        shares[least].append(piece)
        loads[least] += piece[1][0].size
    futures = [_executor(threads).submit(_run, share) for share in shares[1:]]
    try:
        _run(mine + shares[0])
    finally:
        wait(futures)
    for future in futures:
        future.result()  # re-raises an error of a worker


def _run(pieces: list[tuple[Callable[..., None], tuple[Any, ...]]]) -> None:
    for kernel, arrays in pieces:
        kernel(*arrays)


def _executor(threads: int) -> ThreadPoolExecutor:
    """The worker pool, made again after a fork (a child has none of the parent's threads)."""
    global _pool
    key = (os.getpid(), threads - 1)
    if _pool is None or _pool[0] != key:
        _pool = (key, ThreadPoolExecutor(threads - 1, thread_name_prefix="ac-optim"))
    return _pool[1]


def chunks(*arrays: Array | None) -> Iterator[tuple[Any, ...]]:
    """Cut same-shaped arrays into aligned flat pieces of at most ``CHUNK_SIZE`` elements.

    The pieces are views, so in-place updates land in the arrays. Arrays that are not all
    C-contiguous NumPy arrays (CuPy arrays, strided views) come back whole, once. ``None``
    (state an optimizer does not keep) stays ``None``.
    """
    present = [a for a in arrays if a is not None]
    size = present[0].size
    if size <= CHUNK_SIZE or not all(
        type(a) is np.ndarray and a.flags.c_contiguous for a in present
    ):
        yield arrays
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    for start in range(0, size, CHUNK_SIZE):
        yield tuple(None if a is None else a[start : start + CHUNK_SIZE] for a in flat)


def new_state(param: Tensor, fill: float = 0.0) -> Array:
    """A C-contiguous state array shaped and typed like ``param``, on its device."""
    xp = get_array_module(param.data)
    return xp.full(param.data.shape, fill, dtype=param.data.dtype)


def effective_grad(param: Array, grad: Array, weight_decay: float, maximize: bool) -> Array:
    """``-grad`` if maximizing, plus ``weight_decay * param``: a new array, or ``grad`` itself.

    ``grad`` is never written to: it belongs to the parameter.
    """
    xp = get_array_module(grad)
    if weight_decay == 0:
        return xp.negative(grad) if maximize else grad
    result = xp.multiply(param, weight_decay)
    if maximize:
        result -= grad
    else:
        result += grad
    return result
