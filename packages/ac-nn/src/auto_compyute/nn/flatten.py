"""Reshaping layers: ``Flatten``, ``Unflatten``, ``PixelShuffle``, ``PixelUnshuffle`` and
``ChannelShuffle``."""

from __future__ import annotations

from collections.abc import Sequence

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.module import Module

__all__ = ["ChannelShuffle", "Flatten", "PixelShuffle", "PixelUnshuffle", "Unflatten"]


class Flatten(Module):
    """Merge the axes ``start_dim..end_dim`` into one (by default all but the batch axis).

    Args:
        start_dim: The first axis to merge.
        end_dim: The last axis to merge.

    Example:
        >>> nn.Flatten()(ac.zeros(32, 3, 8, 8)).shape
        (32, 192)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        for dim in (self.start_dim, self.end_dim):
            if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
                raise IndexError(
                    f"Flatten: dim {dim} is out of range for an input of shape {x.shape}"
                )
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into several axes of the given sizes (one may be -1).

    Args:
        dim: The axis to split.
        unflattened_size: The sizes of the new axes; their product must equal the old size.

    Example:
        >>> nn.Unflatten(1, (3, 64))(ac.zeros(32, 192)).shape
        (32, 3, 64)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        if not -x.ndim <= self.dim < x.ndim:
            raise IndexError(
                f"Unflatten: dim {self.dim} is out of range for an input of shape {x.shape}"
            )
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class PixelShuffle(Module):
    """``(*, C * r * r, H, W)`` to ``(*, C, H * r, W * r)`` (see ``F.pixel_shuffle``).

    Args:
        upscale_factor: ``r``.
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r)`` to ``(*, C * r * r, H, W)`` (see ``F.pixel_unshuffle``).

    Args:
        downscale_factor: ``r``.
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups (see ``F.channel_shuffle``).

    Args:
        groups: The number of groups; it must divide the channel count.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
