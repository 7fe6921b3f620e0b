"""Resizing layers: ``Upsample``, the module form of ``F.interpolate``, and its fixed-mode
forms ``UpsamplingNearest2d`` and ``UpsamplingBilinear2d``."""

from __future__ import annotations

from collections.abc import Sequence

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    """Resize the spatial axes of ``(N, C, *spatial)`` inputs (see ``F.interpolate``).

    Args:
        size: The output's spatial size.
        scale_factor: The ratio of output to input size instead.
        mode: ``"nearest"``, ``"linear"``, ``"bilinear"``, ``"bicubic"``, ``"trilinear"``
            or ``"area"``.
        align_corners: For the linear and cubic modes (see ``F.interpolate``).
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
    ) -> None:
        super().__init__()
        if isinstance(scale_factor, int | float):
            scale_factor = float(scale_factor)
        elif scale_factor is not None:
            scale_factor = tuple(float(f) for f in scale_factor)
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners = align_corners

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour resizing of ``(N, C, H, W)`` inputs: ``Upsample(mode="nearest")``.

    Args:
        size: The output's (H, W), or one int for both.
        scale_factor: The ratio of output to input size instead.

    Example:
        >>> nn.UpsamplingNearest2d(scale_factor=2)(ac.randn(1, 3, 4, 5)).shape
        (1, 3, 8, 10)
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear resizing of ``(N, C, H, W)`` inputs with corners aligned, as PyTorch's:
    ``Upsample(mode="bilinear", align_corners=True)``.

    Args:
        size: The output's (H, W), or one int for both.
        scale_factor: The ratio of output to input size instead.
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
