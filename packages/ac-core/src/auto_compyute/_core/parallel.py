"""Elementwise kernels over large NumPy arrays, split across worker threads.

NumPy runs each ufunc on one core, but it releases the GIL while it loops over an array,
so a chain of ufuncs over separate pieces of the arrays runs in parallel in threads. Ops
whose cost is many elementwise passes over big activations (GELU, attention) use this; a
kernel is a function that reads its input pieces and writes its output pieces in place.

NOTE: this pays off for long chains of passes only. After each matrix product, OpenBLAS's
threads spin for a while and share the cores with these threads; a single pass (ReLU, a
bias) split this way measured slower than one call. The first use of these threads
shortens that spinning (see ``shorten_blas_spin``).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import Any

import numpy as np

# NOTE: below this many elements a piece costs more in thread hand-offs than it saves;
# pieces of about this size also stay in the cores' L2 caches through a kernel's passes,
# and a kernel's temporaries (a few pieces per thread) stay small next to activations.
PIECE_SIZE = 1 << 17

# OpenBLAS's idle threads spin for 2**28 CPU cycles (about 0.1 s) after a matrix product
# by default; 2**20 (under a millisecond) still covers the gap between back-to-back products.
_BLAS_SPIN_EXPONENT = "20"
_OPENBLAS_FUNCTIONS = (
    "openblas_thread_timeout",
    "openblas_read_env",
    "blas_thread_shutdown_",
    "blas_thread_init",
)
_blas_spin_checked = False

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


def run_split_rows(kernel: Callable[..., None], *arrays: Any, piece_size: int = PIECE_SIZE) -> None:
    """Call ``kernel(*pieces)`` on aligned slices of the leading axis of arrays of the same
    length there, in parallel: ``run_split`` for kernels that need whole rows (the
    statistics of a row, say). A slice holds about ``piece_size`` elements of the first
    array, and each thread gets as many; ``None`` is passed on as it is. Small or
    non-NumPy arrays give one call.
    """
    present = [a for a in arrays if a is not None]
    rows, size = present[0].shape[0], present[0].size
    if size < 2 * piece_size or rows < 2 or not all(type(a) is np.ndarray for a in present):
        kernel(*arrays)
        return
    threads = get_num_threads()
    step = -(-rows // min(rows, threads * -(-size // (threads * piece_size))))
    run_calls(
        [
            partial(kernel, *(None if a is None else a[i : i + step] for a in arrays))
            for i in range(0, rows, step)
        ]
    )


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
        shorten_blas_spin()
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


def shorten_blas_spin() -> bool:
    """Have NumPy's OpenBLAS threads go to sleep soon after a matrix product; return whether done.

    By default they spin for about 0.1 s after each product, and OpenBLAS 0.3 spins without
    yielding its core, so a thread of ours that lands there stalls for a scheduler slice
    (a small Transformer's step ran 12-15% slower). OpenBLAS reads its spin time from
    ``OPENBLAS_THREAD_TIMEOUT`` only when it starts its threads: this makes it read its
    environment again with that variable set and restarts its threads (as OpenBLAS itself
    does before every fork). Tried once per
    process, when the first kernel goes to threads, and only on Linux. Nothing changes when
    the user set ``OPENBLAS_THREAD_TIMEOUT``, when NumPy uses another BLAS, or when other
    Python threads run (one of them could be inside a product, and OpenBLAS cannot restart
    its threads under a running product).
    """
    global _blas_spin_checked
    if _blas_spin_checked or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    _blas_spin_checked = True
    if threading.active_count() > 1:
        return False
    # NOTE: a timeout above 0 was set through the environment when OpenBLAS started
    libraries = [lib for lib in openblas_libraries() if lib.openblas_thread_timeout() == 0]
    for library in libraries:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = _BLAS_SPIN_EXPONENT
        try:
            library.openblas_read_env()
        finally:
            del os.environ["OPENBLAS_THREAD_TIMEOUT"]
        library.blas_thread_shutdown_()
        library.blas_thread_init()
    return bool(libraries)


def openblas_libraries() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries loaded in this process that can restart their threads."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1]}
    except OSError:  # not Linux
        return []
    libraries = []
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
            for name in _OPENBLAS_FUNCTIONS:
                getattr(library, name)
        except (OSError, AttributeError):
            continue
        libraries.append(library)
    return libraries
