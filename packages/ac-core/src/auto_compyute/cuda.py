"""CUDA availability, answerable with ac-core alone.

CUDA arrays come from a separate package that registers the ``cuda`` device backend;
without it, or without a GPU, ``is_available()`` is False.
"""

from auto_compyute._core.devices import get_backend, is_backend_installed


def is_available() -> bool:
    """Return True if CUDA support is installed and at least one GPU is present."""
    return device_count() > 0


def device_count() -> int:
    """Return the number of usable GPUs (0 without CUDA support or without a GPU)."""
    if not is_backend_installed("cuda"):
        return 0
    try:
        backend = get_backend("cuda")
        return backend.device_count() if backend.is_available() else 0
    except Exception:  # a broken driver or toolkit means: no usable GPU
        return 0


__all__ = ["device_count", "is_available"]
