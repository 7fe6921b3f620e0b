"""Host memory: keep the buffers a training step frees for the next step.

A training step allocates tens of megabytes of activations and gradients and frees them
all at its end. With glibc's default settings most of that memory goes back to the
operating system, so the next step takes it again page by page: in a small Transformer
this page faulting costs about a sixth of the step. Raising glibc's trim and mmap
thresholds keeps those buffers in the process for reuse, which is what the caching
allocators of other deep-learning libraries do.
"""

import ctypes
import os
import sys

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems; bigger arrays are still
# mapped (and returned to the system) one by one.
_MMAP_THRESHOLD = 32 * 1024 * 1024
# Free memory at the top of the heap is returned to the system beyond this much.
_TRIM_THRESHOLD = 1024 * 1024 * 1024
_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Tune glibc's malloc to keep freed buffers for reuse; return whether it was done.

    Nothing is changed off Linux, with a C library other than glibc, when the user tuned
    malloc through its environment variables, or when ``AC_KEEP_FREED_MEMORY=0``.
    """
    if sys.platform != "linux" or os.environ.get("AC_KEEP_FREED_MEMORY") == "0":
        return False
    if any(name in os.environ for name in _USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
