"""Pooling layers: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, ``AdaptiveAvg/MaxPool1d/2d/3d``,
``LPPool1d/2d/3d`` and ``MaxUnpool1d/2d/3d``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.functional._windows import Ints, tuple_arg
from auto_compyute.nn.module import Module

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxPooling2D",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size: Any = None,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
        *,
        window_size: Any = None,
    ) -> None:
        super().__init__()
        if kernel_size is None and window_size is None:
            raise TypeError(f"{type(self).__name__}() missing required argument 'kernel_size'")
        if kernel_size is not None and window_size is not None and kernel_size != window_size:
            raise TypeError(
                f"{type(self).__name__}() got both kernel_size={kernel_size} and "
                f"window_size={window_size}"
            )
        self.kernel_size = kernel_size if kernel_size is not None else window_size
        self.stride = stride if stride is not None else self.kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    @property
    def window_size(self) -> Any:
        """The seed's name for ``kernel_size``."""
        return self.kernel_size

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over inputs (N, C, H, W); see ``F.max_pool2d``.

    Args:
        kernel_size: Window size, an int or (KH, KW) (also accepted as ``window_size``).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Implicit padding on both sides (never a maximum), at most half the kernel.
        dilation: Spacing between window elements.
        return_indices: Also return the flat index of each maximum in its input plane.
        ceil_mode: Round the output size up instead of down.
        window_size: The seed's name for ``kernel_size``.

    Example:
        >>> nn.MaxPool2d(2)(ac.randn(8, 3, 6, 7)).shape
        (8, 3, 3, 3)
    """

    def forward(self, x: Tensor) -> Any:
        return F.max_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over inputs (N, C, L); see ``F.max_pool1d``.

    Args:
        kernel_size: Window size (also accepted as ``window_size``).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Implicit padding on both sides (never a maximum), at most half the kernel.
        dilation: Spacing between window elements.
        return_indices: Also return the index of each maximum along L.
        ceil_mode: Round the output size up instead of down.
        window_size: The seed's name for ``kernel_size``.

    Example:
        >>> nn.MaxPool1d(3, stride=2)(ac.randn(2, 3, 10)).shape
        (2, 3, 4)
    """

    def forward(self, x: Tensor) -> Any:
        return F.max_pool1d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class AvgPool2d(Module):
    """2-D average pooling over inputs (N, C, H, W); see ``F.avg_pool2d``.

    Args:
        kernel_size: Window size, an int or (KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Zero padding on both sides, at most half the kernel.
        ceil_mode: Round the output size up instead of down.
        count_include_pad: Count padding zeros in the divisor (PyTorch's default).
        divisor_override: Divide every window sum by this number instead.

    Example:
        >>> nn.AvgPool2d(3, stride=1, padding=1)(ac.randn(8, 3, 6, 7)).shape
        (8, 3, 6, 7)
    """

    def __init__(
        self,
        kernel_size: Ints,
        stride: Ints | None = None,
        padding: Ints = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """1-D average pooling over inputs (N, C, L); see ``F.avg_pool1d``.

    Args:
        kernel_size: Window size.
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Zero padding on both sides, at most half the kernel.
        ceil_mode: Round the output size up instead of down.
        count_include_pad: Count padding zeros in the divisor (PyTorch's default).

    Example:
        >>> nn.AvgPool1d(2)(ac.randn(2, 3, 10)).shape
        (2, 3, 5)
    """

    def __init__(
        self,
        kernel_size: Ints,
        stride: Ints | None = None,
        padding: Ints = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        # NOTE: stored as 1-tuples, as PyTorch's AvgPool1d does (its repr shows them).
        self.kernel_size = tuple_arg(kernel_size, 1, "kernel_size")
        self.stride = tuple_arg(stride, 1, "stride") if stride is not None else self.kernel_size
        self.padding = tuple_arg(padding, 1, "padding")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """2-D average pooling to a fixed output size; see ``F.adaptive_avg_pool2d``.

    Args:
        output_size: (OH, OW), or one int for both; ``None`` keeps that input size.

    Example:
        >>> nn.AdaptiveAvgPool2d((1, 1))(ac.randn(8, 3, 6, 7)).shape
        (8, 3, 1, 1)
    """

    def __init__(self, output_size: int | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """2-D max pooling to a fixed output size; see ``F.adaptive_max_pool2d``.

    Args:
        output_size: (OH, OW), or one int for both; ``None`` keeps that input size.
        return_indices: Also return each maximum's flat position in its input plane.
    """

    def __init__(
        self, output_size: int | Sequence[int | None], return_indices: bool = False
    ) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x: Tensor) -> Any:
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """1-D max pooling to a fixed output length; see ``F.adaptive_max_pool1d``."""

    def forward(self, x: Tensor) -> Any:
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(Module):
    """1-D average pooling to a fixed output length; see ``F.adaptive_avg_pool1d``.

    Args:
        output_size: The output length.

    Example:
        >>> nn.AdaptiveAvgPool1d(4)(ac.randn(2, 3, 10)).shape
        (2, 3, 4)
    """

    def __init__(self, output_size: Ints) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over inputs (N, C, D, H, W); see ``F.max_pool3d``.

    Args:
        kernel_size: Window size, an int or (KD, KH, KW) (also accepted as ``window_size``).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Implicit padding on both sides (never a maximum), at most half the kernel.
        dilation: Spacing between window elements.
        return_indices: Also return the flat index of each maximum in its input volume.
        ceil_mode: Round the output size up instead of down.
        window_size: The seed's name for ``kernel_size``.

    Example:
        >>> nn.MaxPool3d(2)(ac.randn(2, 3, 4, 6, 7)).shape
        (2, 3, 2, 3, 3)
    """

    def forward(self, x: Tensor) -> Any:
        return F.max_pool3d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class AvgPool3d(AvgPool2d):
    """3-D average pooling over inputs (N, C, D, H, W); see ``F.avg_pool3d``.

    Args:
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        padding: Zero padding on both sides, at most half the kernel.
        ceil_mode: Round the output size up instead of down.
        count_include_pad: Count padding zeros in the divisor (PyTorch's default).
        divisor_override: Divide every window sum by this number instead.

    Example:
        >>> nn.AvgPool3d(2)(ac.randn(2, 3, 4, 6, 7)).shape
        (2, 3, 2, 3, 3)
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool3d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """3-D average pooling to a fixed output size; see ``F.adaptive_avg_pool3d``.

    Args:
        output_size: (OD, OH, OW), or one int for all; ``None`` keeps that input size.

    Example:
        >>> nn.AdaptiveAvgPool3d(1)(ac.randn(2, 3, 4, 6, 7)).shape
        (2, 3, 1, 1, 1)
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(x, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """3-D max pooling to a fixed output size; see ``F.adaptive_max_pool3d``.

    Args:
        output_size: (OD, OH, OW), or one int for all; ``None`` keeps that input size.
        return_indices: Also return each maximum's flat position in its input volume.
    """

    def forward(self, x: Tensor) -> Any:
        return F.adaptive_max_pool3d(x, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _spatial = 2

    def __init__(self, kernel_size: Ints, stride: Ints | None = None, padding: Ints = 0) -> None:
        super().__init__()
        # NOTE: stored as tuples, as PyTorch's MaxUnpool layers do (their repr shows them).
        n = self._spatial
        self.kernel_size = tuple_arg(kernel_size, n, "kernel_size")
        self.stride = tuple_arg(stride, n, "stride") if stride is not None else self.kernel_size
        self.padding = tuple_arg(padding, n, "padding")

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self._spatial - 1]
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``; see ``F.max_unpool1d``.

    ``forward(input, indices, output_size=None)`` takes the pooled values and the indices
    that ``MaxPool1d(..., return_indices=True)`` returned.

    Args:
        kernel_size: The pooling window size.
        stride: The pooling step; defaults to ``kernel_size``.
        padding: The pooling padding.

    Example:
        >>> pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
        >>> unpool(*pool(ac.randn(1, 2, 8))).shape
        (1, 2, 8)
    """

    _spatial = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d``; see ``F.max_unpool2d``.

    ``forward(input, indices, output_size=None)`` takes the pooled values and the indices
    that ``MaxPool2d(..., return_indices=True)`` returned.

    Args:
        kernel_size: The pooling window size, an int or (KH, KW).
        stride: The pooling step; defaults to ``kernel_size``.
        padding: The pooling padding.
    """

    _spatial = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d``; see ``F.max_unpool3d``.

    Args:
        kernel_size: The pooling window size, an int or (KD, KH, KW).
        stride: The pooling step; defaults to ``kernel_size``.
        padding: The pooling padding.
    """

    _spatial = 3


class _LPPoolNd(Module):
    _spatial = 2

    def __init__(
        self,
        norm_type: float,
        kernel_size: Ints,
        stride: Ints | None = None,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        pool = (F.lp_pool1d, F.lp_pool2d, F.lp_pool3d)[self._spatial - 1]
        return pool(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling over inputs (N, C, L); see ``F.lp_pool1d``.

    Args:
        norm_type: The power p.
        kernel_size: Window size.
        stride: Step between windows; defaults to ``kernel_size``.
        ceil_mode: Round the output size up instead of down.

    Example:
        >>> nn.LPPool1d(2, 3, stride=2)(ac.randn(2, 3, 10)).shape
        (2, 3, 4)
    """

    _spatial = 1


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling over inputs (N, C, H, W); see ``F.lp_pool2d``.

    Args:
        norm_type: The power p.
        kernel_size: Window size, an int or (KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        ceil_mode: Round the output size up instead of down.
    """

    _spatial = 2


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling over inputs (N, C, D, H, W); see ``F.lp_pool3d``.

    Args:
        norm_type: The power p.
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Step between windows; defaults to ``kernel_size``.
        ceil_mode: Round the output size up instead of down.
    """

    _spatial = 3


# NOTE: spelling of the original AutoCompyute API, kept as an alias.
MaxPooling2D = MaxPool2d
