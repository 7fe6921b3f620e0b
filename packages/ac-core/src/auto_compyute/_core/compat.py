"""Small top-level names of PyTorch kept for source compatibility: ``Size``, ``compile``,
the deterministic-algorithms flag, ``typename`` and ``is_complex``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, SupportsIndex, overload

from auto_compyute._core.tensor import Tensor


class _SizeMeta(type):
    # NOTE: ``Tensor.shape`` stays a plain tuple (a tuple subclass built on every access would
    # slow the hot path), so any tuple of ints counts as a Size for isinstance.
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, tuple) and all(
            isinstance(n, int) and not isinstance(n, bool) for n in instance
        )


class Size(tuple, metaclass=_SizeMeta):
    """A shape: a tuple of ints, as ``torch.Size``.

    ``Tensor.shape`` and ``Tensor.size()`` return plain tuples; ``isinstance(x.shape,
    ac.Size)`` is True for them (and for any tuple of ints), and ``ac.Size([2, 3])`` makes a
    tuple subclass with ``numel()``.
    """

    def __new__(cls, sizes: Any = ()) -> Size:
        values = tuple(sizes)
        for n in values:
            if isinstance(n, bool) or not hasattr(n, "__index__"):
                raise TypeError(f"Size needs ints, got {type(n).__name__} in {values}")
        return super().__new__(cls, (n.__index__() for n in values))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        count = 1
        for n in self:
            count *= n
        return count

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Size: ...
    def __getitem__(self, index: SupportsIndex | slice) -> int | Size:
        if isinstance(index, slice):
            return Size(super().__getitem__(index))
        return int(super().__getitem__(index))

    def __add__(self, other: tuple[Any, ...]) -> Size:
        return Size(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return f"ac.Size({list(self)})"


def compile(model: Any = None, **kwargs: Any) -> Any:
    """Return ``model`` (a module or function) unchanged: a no-op kept so that code written
    for ``torch.compile`` runs as it is. Keyword options (``mode``, ``fullgraph``,
    ``backend``, ...) are accepted and ignored; without ``model`` it returns a decorator."""
    if model is None:
        return _identity
    return model


def _identity(model: Callable[..., Any]) -> Callable[..., Any]:
    return model


_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record whether deterministic algorithms are asked for, as PyTorch does.

    Nothing else changes: every op here on the CPU is already deterministic (the same inputs
    and generator state give the same bits), so no op needs to raise or warn.

    Args:
        mode: True to ask for deterministic algorithms.
        warn_only: Recorded too (PyTorch would warn instead of raising for ops without a
            deterministic implementation).
    """
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms needs a bool, got {type(mode).__name__}")
    _deterministic["mode"] = mode
    _deterministic["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in effect."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True, warn_only=True)`` is in effect."""
    return _deterministic["warn_only"]


def typename(obj: Any) -> str:
    """A type name: ``"auto_compyute.FloatTensor"`` and the like for tensors (as
    ``Tensor.type()``), else the module-qualified name of ``obj`` or of its class."""
    if isinstance(obj, Tensor):
        return str(obj.type())
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        name = obj.__qualname__
    elif hasattr(obj, "__name__"):
        name = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        name = obj.__class__.__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def is_complex(input: Tensor) -> bool:
    """False: there are no complex dtypes here (kept for code written for PyTorch)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex needs a Tensor, got {type(input).__name__}")
    return False
