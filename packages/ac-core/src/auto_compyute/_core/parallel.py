"""Elementwise kernels over large NumPy arrays, split across worker threads.

NumPy runs each ufunc on one core, but it releases the GIL while it loops over an array,
so a chain of ufuncs over separate pieces of the arrays runs in parallel in threads. Ops
whose cost is many elementwise passes over big activations (GELU, attention) use this; a
kernel is a function that reads its input pieces and writes its output pieces in place.

NOTE: this pays off for long chains of passes only. After each matrix product, OpenBLAS's
threads spin for a while and share the cores with these threads; a single pass (ReLU, a
bias) split this way measured slower than one call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import Any

import numpy as np

# NOTE: below this many elements a piece costs more in thread hand-offs than it saves;
# pieces of about this size also stay in the cores' L2 caches through a kernel's passes,
# and a kernel's temporaries (a few pieces per thread) stay small next to activations.
PIECE_SIZE = 1 << 17

_num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
_pool: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist there."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def get_num_threads() -> int:
    """The number of threads that elementwise kernels over large arrays use."""
    return _num_threads or 1


def set_num_threads(num_threads: int) -> None:
    """Set the number of threads for elementwise kernels over large arrays (1: no threads).

    NumPy's BLAS keeps its own thread setting (``OPENBLAS_NUM_THREADS`` and the like).
    """
    global _num_threads, _pool
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    if _pool is not None:
        _pool.shutdown()
        _pool = None
    _num_threads = num_threads


def run_split(kernel: Callable[..., None], *arrays: Any) -> None:
    """Call ``kernel(*pieces)`` on aligned flat pieces of same-sized arrays, in parallel.

    With one thread the pieces run one after another (each still stays in cache). Arrays
    that are not all C-contiguous NumPy arrays (CuPy arrays, strided views) and small
    arrays give one call on the whole arrays.
    """
    size = arrays[0].size
    if size < 2 * PIECE_SIZE or not all(
        type(a) is np.ndarray and a.flags.c_contiguous for a in arrays
    ):
        kernel(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    step = -(-size // max(get_num_threads(), -(-size // PIECE_SIZE)))
    run_calls([partial(kernel, *(a[i : i + step] for a in flat)) for i in range(0, size, step)])


def run_calls(calls: Sequence[Callable[[], None]]) -> None:
    """Run independent calls of NumPy code across threads, the calling thread included.

    Each thread takes the next call as soon as it is done with one, so a thread that
    shares its core (with OpenBLAS's spinning threads, say) takes fewer calls.
    """
    global _pool
    threads = min(get_num_threads(), len(calls))
    if threads <= 1:
        for call in calls:
            call()
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(get_num_threads() - 1, thread_name_prefix="auto_compyute")
    queue = iter(calls)  # NOTE: shared by the threads; next() on it is atomic under the GIL
    futures = [_pool.submit(_run_all, queue) for _ in range(threads - 1)]
    try:
        _run_all(queue)
    finally:  # no worker may still write into the arrays once this returns or raises
        wait(futures)
    for future in futures:
        future.result()


def _run_all(calls: Iterator[Callable[[], None]]) -> None:
    for call in calls:
        call()
