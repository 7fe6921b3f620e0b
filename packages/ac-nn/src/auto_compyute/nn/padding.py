"""Padding layers: module forms of ``F.pad`` for 1, 2 and 3 trailing axes, one class per
mode (``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad``, ``CircularPad``)."""

from __future__ import annotations

from collections.abc import Sequence

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.module import Module

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


def _widths(name: str, padding: int | Sequence[int], count: int) -> tuple[int, ...]:
    """``padding`` as ``count`` widths: one int for all sides, or ``count`` of them."""
    if isinstance(padding, int):
        return (padding,) * count
    widths = tuple(padding)
    if len(widths) != count or not all(isinstance(w, int) for w in widths):
        raise ValueError(
            f"{name} needs one int or {count} ints (left, right, ... from the last axis), "
            f"got {padding!r}"
        )
    return widths


class _PadNd(Module):
    """Pad the last ``dims`` axes with ``F.pad`` in ``mode``."""

    mode: str
    dims: int

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _widths(type(self).__name__, padding, 2 * self.dims)

    def forward(self, input: Tensor) -> Tensor:
        # NOTE: as in PyTorch, the non-constant modes take only (C, *spatial) or
        # (N, C, *spatial); constant padding takes any input with enough axes.
        if self.mode != "constant" and input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(
                f"{type(self).__name__} expects a {self.dims + 1}D (unbatched) or "
                f"{self.dims + 2}D (batched) input, got shape {input.shape}"
            )
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with ``value`` (see ``F.pad``).

    Args:
        padding: One width for both sides, or ``(left, right)``.
        value: The fill value.

    Example:
        >>> nn.ConstantPad1d((1, 2), 3.5)(ac.zeros(1, 2, 4)).shape
        (1, 2, 7)
    """

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two axes with ``value`` (see ``F.pad``).

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom)``.
        value: The fill value.
    """

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three axes with ``value`` (see ``F.pad``).

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom, front, back)``.
        value: The fill value.
    """

    dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last axis with zeros.

    Args:
        padding: One width for both sides, or ``(left, right)``.
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two axes with zeros.

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom)``.
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three axes with zeros.

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom, front, back)``.
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last axis with its mirror image, the edge not repeated (``(C, W)`` or
    ``(N, C, W)``); widths must be below the axis' size.

    Args:
        padding: One width for both sides, or ``(left, right)``.
    """

    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pad the last two axes with their mirror image, the edge not repeated (``(C, H, W)``
    or ``(N, C, H, W)``); widths must be below the axes' sizes.

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom)``.
    """

    mode, dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pad the last three axes with their mirror image, the edge not repeated
    (``(C, D, H, W)`` or ``(N, C, D, H, W)``); widths must be below the axes' sizes.

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom, front, back)``.
    """

    mode, dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pad the last axis by repeating its edge values (``(C, W)`` or ``(N, C, W)``).

    Args:
        padding: One width for both sides, or ``(left, right)``.
    """

    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pad the last two axes by repeating their edge values (``(C, H, W)`` or ``(N, C, H, W)``).

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom)``.
    """

    mode, dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pad the last three axes by repeating their edge values (``(C, D, H, W)`` or
    ``(N, C, D, H, W)``).

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom, front, back)``.
    """

    mode, dims = "replicate", 3


class CircularPad1d(_PadNd):
    """Pad the last axis by wrapping around (``(C, W)`` or ``(N, C, W)``); widths must be
    at most the axis' size.

    Args:
        padding: One width for both sides, or ``(left, right)``.
    """

    mode, dims = "circular", 1


class CircularPad2d(_PadNd):
    """Pad the last two axes by wrapping around (``(C, H, W)`` or ``(N, C, H, W)``); widths
    must be at most the axes' sizes.

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom)``.
    """

    mode, dims = "circular", 2


class CircularPad3d(_PadNd):
    """Pad the last three axes by wrapping around (``(C, D, H, W)`` or ``(N, C, D, H, W)``);
    widths must be at most the axes' sizes.

    Args:
        padding: One width for all sides, or ``(left, right, top, bottom, front, back)``.
    """

    mode, dims = "circular", 3
