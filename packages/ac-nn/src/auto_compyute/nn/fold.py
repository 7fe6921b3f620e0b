"""``Unfold`` and ``Fold``: image patches to columns and back (see ``F.unfold``, ``F.fold``)."""

from __future__ import annotations

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.functional._windows import Ints
from auto_compyute.nn.module import Module

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """Sliding (KH, KW) patches of (N, C, H, W) inputs as columns (see ``F.unfold``).

    Args:
        kernel_size: (KH, KW), or one int.
        dilation: Spacing of the kernel positions.
        padding: Zero padding on each side.
        stride: Step between windows.
    """

    def __init__(
        self, kernel_size: Ints, dilation: Ints = 1, padding: Ints = 0, stride: Ints = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Fold(Module):
    """Columns of patches summed back into (N, C, H, W) images (see ``F.fold``).

    Args:
        output_size: (H, W) of the images.
        kernel_size: (KH, KW), or one int.
        dilation: Spacing of the kernel positions.
        padding: Padding the windows reached into.
        stride: Step between windows.
    """

    def __init__(
        self,
        output_size: Ints,
        kernel_size: Ints,
        dilation: Ints = 1,
        padding: Ints = 0,
        stride: Ints = 1,
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size, self.dilation = output_size, kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
