"""Convolution layers: ``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d`` and their lazy forms."""

from __future__ import annotations

import math
from typing import Any

from auto_compyute._core import dtypes
from auto_compyute._core.factories import empty
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn import init
from auto_compyute.nn.functional._windows import Ints, tuple_arg
from auto_compyute.nn.lazy import LazyModuleMixin
from auto_compyute.nn.module import Module, Parameter, UninitializedParameter

__all__ = [
    "Conv1D",
    "Conv1d",
    "Conv2D",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2D",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
]


def _channels(
    name: str, alias: str, value: int | None, alias_value: int | None, cls: str, least: int = 1
) -> int:
    """A channel count under its PyTorch name or its seed name (``in_channels`` / ``in_dim``)."""
    if value is None and alias_value is None:
        raise TypeError(f"{cls}() missing required argument '{name}' (or '{alias}')")
    if value is not None and alias_value is not None and value != alias_value:
        raise TypeError(f"{cls}() got both {name}={value} and {alias}={alias_value}")
    count = value if value is not None else alias_value
    if isinstance(count, bool) or not isinstance(count, int) or count < least:
        raise ValueError(f"{cls}() needs a positive integer {name}, got {count!r}")
    return count


class _ConvNd(Module):
    """What convolutions and transposed convolutions share: arguments, parameters, init, repr."""

    transposed = False
    spatial = 2
    _least_in_channels = 1  # 0 for lazy convolutions until their first call

    def __init__(
        self,
        in_channels: int | None,
        out_channels: int | None,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Any,
        dtype: Any,
        output_padding: Any = 0,
        in_dim: int | None = None,
        out_dim: int | None = None,
    ) -> None:
        super().__init__()
        cls, n = type(self).__name__, self.spatial
        self.in_channels = _channels(
            "in_channels", "in_dim", in_channels, in_dim, cls, self._least_in_channels
        )
        self.out_channels = _channels("out_channels", "out_dim", out_channels, out_dim, cls)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{cls}: groups must be a positive integer, got {groups!r}")
        if self.in_channels % groups or self.out_channels % groups:
            raise ValueError(
                f"{cls}: in_channels={self.in_channels} and out_channels={self.out_channels} "
                f"must both be divisible by groups={groups}"
            )
        modes = ("zeros",) if self.transposed else ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in modes:
            raise ValueError(
                f"{cls}: padding_mode must be one of {', '.join(map(repr, modes))}, "
                f"got {padding_mode!r}"
            )
        if kernel_size is None:
            raise TypeError(f"{cls}() missing required argument 'kernel_size'")
        self.kernel_size = tuple_arg(kernel_size, n, "kernel_size")
        self.stride = tuple_arg(stride, n, "stride")
        self.dilation = tuple_arg(dilation, n, "dilation")
        for name in ("kernel_size", "stride", "dilation"):
            if any(v < 1 for v in getattr(self, name)):
                raise ValueError(f"{cls}: {name} must be positive, got {getattr(self, name)}")
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self.transposed:
                allowed = (
                    "an int or a tuple" if self.transposed else "'same', 'valid', an int or a tuple"
                )
                raise ValueError(f"{cls}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{cls}: padding='same' needs stride 1, got stride={self.stride}")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = tuple_arg(padding, n, "padding")
        self.output_padding = tuple_arg(output_padding, n, "output_padding")
        self.groups, self.padding_mode = groups, padding_mode
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"{cls} needs a floating-point dtype, got {dtype}")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(self.out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new weights and bias with PyTorch's default initialisation.

        The weight comes from ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(fan_in),
        1/sqrt(fan_in)), and the bias from the same range, where ``fan_in`` is
        ``weight.shape[1] * prod(kernel_size)``.
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.spatial:
            text += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self.spatial:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.spatial:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    """The constructor and forward of ``Conv1d`` and ``Conv2d`` (PyTorch's argument order)."""

    function: Any  # F.conv1d or F.conv2d

    def __init__(
        self,
        in_channels: int | None = None,
        out_channels: int | None = None,
        kernel_size: Ints | None = None,
        stride: Ints = 1,
        padding: Ints | str = 0,
        dilation: Ints = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        in_dim: int | None = None,
        out_dim: int | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            in_dim=in_dim,
            out_dim=out_dim,
        )

    def forward(self, x: Tensor) -> Tensor:
        padding: Any = self.padding
        if self.padding_mode != "zeros":  # pad first, in that mode, then convolve unpadded
            x = F.pad(x, self._pad_widths(), mode=self.padding_mode)
            padding = 0
        return self.function(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )

    def _pad_widths(self) -> tuple[int, ...]:
        """``F.pad`` widths (last axis first) for the padding; ``'same'`` puts the odd one
        after, as PyTorch does."""
        widths: list[int] = []
        for axis in reversed(range(self.spatial)):
            if self.padding == "same":
                total = self.dilation[axis] * (self.kernel_size[axis] - 1)
                widths += [total // 2, total - total // 2]
            elif isinstance(self.padding, tuple):
                widths += [self.padding[axis]] * 2
            else:  # "valid"
                widths += [0, 0]
        return tuple(widths)


class Conv2d(_Conv):
    """2-D convolution over inputs (N, C_in, H, W) -> (N, C_out, OH, OW); see ``F.conv2d``.

    The weight has shape ``(out_channels, in_channels / groups, KH, KW)`` and the bias
    ``(out_channels,)``, as in PyTorch, so state dicts are interchangeable. Initialisation
    is PyTorch's (see ``reset_parameters``).

    Args:
        in_channels: Channels of the input (also accepted as ``in_dim``).
        out_channels: Channels of the output (also accepted as ``out_dim``).
        kernel_size: Window size, an int or (KH, KW).
        stride: Step between windows.
        padding: Zeros added on both sides: an int, (pH, pW), ``'valid'`` or ``'same'``.
        dilation: Spacing between kernel elements.
        groups: Split channels into this many independent groups.
        bias: Whether to add a learnable bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_channels``.
        out_dim: The seed's name for ``out_channels``.

    Example:
        >>> conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
        >>> conv(ac.randn(2, 3, 5, 7)).shape
        (2, 8, 5, 7)
    """

    function = staticmethod(F.conv2d)


class Conv1d(_Conv):
    """1-D convolution over inputs (N, C_in, L) -> (N, C_out, OL); see ``F.conv1d``.

    The weight has shape ``(out_channels, in_channels / groups, K)``; arguments as in
    ``Conv2d`` with single ints.

    Args:
        in_channels: Channels of the input (also accepted as ``in_dim``).
        out_channels: Channels of the output (also accepted as ``out_dim``).
        kernel_size: Window size.
        stride: Step between windows.
        padding: Zeros added on both sides: an int, ``'valid'`` or ``'same'``.
        dilation: Spacing between kernel elements.
        groups: Split channels into this many independent groups.
        bias: Whether to add a learnable bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_channels``.
        out_dim: The seed's name for ``out_channels``.

    Example:
        >>> nn.Conv1d(3, 8, kernel_size=3)(ac.randn(2, 3, 10)).shape
        (2, 8, 8)
    """

    spatial = 1
    function = staticmethod(F.conv1d)


class _ConvTransposeNd(_ConvNd):
    """The constructor and forward of the transposed convolutions (PyTorch's argument order)."""

    transposed = True
    function: Any  # F.conv_transpose1d or F.conv_transpose2d

    def __init__(
        self,
        in_channels: int | None = None,
        out_channels: int | None = None,
        kernel_size: Ints | None = None,
        stride: Ints = 1,
        padding: Ints = 0,
        output_padding: Ints = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Ints = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        in_dim: int | None = None,
        out_dim: int | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding,
            in_dim=in_dim,
            out_dim=out_dim,
        )

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        """Transposed convolution of ``x``; ``output_size`` picks ``output_padding``."""
        return self.function(
            x,
            self.weight,
            self.bias,
            self.stride,
            tuple_arg(self.padding, self.spatial, "padding"),
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """PyTorch's rule: the output_padding that makes the output ``output_size``."""
        if output_size is None:
            return self.output_padding
        n = self.spatial
        sizes = tuple(output_size)[-n:]
        padding = tuple_arg(self.padding, n, "padding")
        extra = []
        for i in range(n):
            length = x.shape[x.ndim - n + i]
            smallest = (
                (length - 1) * self.stride[i]
                - 2 * padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            largest = smallest + self.stride[i] - 1
            if not smallest <= sizes[i] <= largest:
                raise ValueError(
                    f"{type(self).__name__}: requested output size {tuple(output_size)} is not "
                    f"reachable from input {x.shape}: axis {i} must lie in [{smallest}, {largest}]"
                )
            extra.append(sizes[i] - smallest)
        return tuple(extra)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (N, C_in, H, W) -> (N, C_out, OH, OW); see ``F.conv_transpose2d``.

    The weight has shape ``(in_channels, out_channels / groups, KH, KW)``, as in PyTorch.

    Args:
        in_channels: Channels of the input (also accepted as ``in_dim``).
        out_channels: Channels of the output (also accepted as ``out_dim``).
        kernel_size: Window size, an int or (KH, KW).
        stride: Stride of the convolution this layer transposes.
        padding: Padding of the convolution this layer transposes.
        output_padding: Extra rows/columns on one side of the output.
        groups: Split channels into this many independent groups.
        bias: Whether to add a learnable bias.
        dilation: Spacing between kernel elements.
        padding_mode: Only ``'zeros'`` is supported.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_channels``.
        out_dim: The seed's name for ``out_channels``.

    Example:
        >>> up = nn.ConvTranspose2d(8, 3, kernel_size=2, stride=2)
        >>> up(ac.randn(2, 8, 5, 7)).shape
        (2, 3, 10, 14)
    """

    function = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (N, C_in, L) -> (N, C_out, OL); see ``F.conv_transpose1d``.

    The weight has shape ``(in_channels, out_channels / groups, K)``; arguments as in
    ``ConvTranspose2d`` with single ints.

    Args:
        in_channels: Channels of the input (also accepted as ``in_dim``).
        out_channels: Channels of the output (also accepted as ``out_dim``).
        kernel_size: Window size.
        stride: Stride of the convolution this layer transposes.
        padding: Padding of the convolution this layer transposes.
        output_padding: Extra elements at the end of the output.
        groups: Split channels into this many independent groups.
        bias: Whether to add a learnable bias.
        dilation: Spacing between kernel elements.
        padding_mode: Only ``'zeros'`` is supported.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_channels``.
        out_dim: The seed's name for ``out_channels``.

    Example:
        >>> nn.ConvTranspose1d(4, 2, kernel_size=3, stride=2)(ac.randn(1, 4, 5)).shape
        (1, 2, 11)
    """

    spatial = 1
    function = staticmethod(F.conv_transpose1d)


class Conv3d(_Conv):
    """3-D convolution over inputs (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW); see ``F.conv3d``.

    The weight has shape ``(out_channels, in_channels / groups, KD, KH, KW)``; arguments as
    in ``Conv2d`` with triples.

    Args:
        in_channels: Channels of the input (also accepted as ``in_dim``).
        out_channels: Channels of the output (also accepted as ``out_dim``).
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Step between windows.
        padding: Zeros added on both sides: an int, (pD, pH, pW), ``'valid'`` or ``'same'``.
        dilation: Spacing between kernel elements.
        groups: Split channels into this many independent groups.
        bias: Whether to add a learnable bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_channels``.
        out_dim: The seed's name for ``out_channels``.

    Example:
        >>> nn.Conv3d(3, 8, kernel_size=3, padding=1)(ac.randn(2, 3, 4, 5, 6)).shape
        (2, 8, 4, 5, 6)
    """

    spatial = 3
    function = staticmethod(F.conv3d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW); see
    ``F.conv_transpose3d``.

    The weight has shape ``(in_channels, out_channels / groups, KD, KH, KW)``, as in PyTorch.

    Args:
        in_channels: Channels of the input (also accepted as ``in_dim``).
        out_channels: Channels of the output (also accepted as ``out_dim``).
        kernel_size: Window size, an int or (KD, KH, KW).
        stride: Stride of the convolution this layer transposes.
        padding: Padding of the convolution this layer transposes.
        output_padding: Extra planes/rows/columns on one side of the output.
        groups: Split channels into this many independent groups.
        bias: Whether to add a learnable bias.
        dilation: Spacing between kernel elements.
        padding_mode: Only ``'zeros'`` is supported.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_channels``.
        out_dim: The seed's name for ``out_channels``.

    Example:
        >>> nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)(ac.randn(1, 4, 2, 3, 3)).shape
        (1, 2, 4, 6, 6)
    """

    spatial = 3
    function = staticmethod(F.conv_transpose3d)


class _LazyConvMixin(LazyModuleMixin):
    """What lazy convolutions add: ``in_channels`` read off the first input (axis 1, or 0
    for an unbatched input), then the regular layer's parameters and initialisation."""

    _least_in_channels = 0
    in_channels: int
    out_channels: int
    groups: int
    kernel_size: tuple[int, ...]
    spatial: int
    transposed: bool
    weight: Any
    bias: Any

    def _uninitialize(self, bias: bool, device: Any) -> None:
        dtype = self.weight.dtype
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor) -> None:
        if input.ndim not in (self.spatial + 1, self.spatial + 2):
            raise RuntimeError(
                f"Expected {self.spatial + 1}D (unbatched) or {self.spatial + 2}D (batched) "
                f"input to {type(self).__name__}, but got input of size: {input.shape}"
            )
        self.in_channels = input.shape[1 if input.ndim == self.spatial + 2 else 0]
        if self.in_channels % self.groups:
            raise ValueError(
                f"{type(self).__name__}: in_channels={self.in_channels} (from input "
                f"{input.shape}) must be divisible by groups={self.groups}"
            )
        if self.has_uninitialized_params():
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize((*shape, *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class _LazyConv(_LazyConvMixin):
    """The constructor of ``LazyConv1d/2d/3d``: ``Conv``'s without ``in_channels``."""

    def __init__(
        self,
        out_channels: int,
        kernel_size: Ints,
        stride: Ints = 1,
        padding: Ints | str = 0,
        dilation: Ints = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            0,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            False,
            padding_mode,
            device,
            dtype,
        )
        self._uninitialize(bias, device)


class _LazyConvTranspose(_LazyConvMixin):
    """The constructor of ``LazyConvTranspose1d/2d/3d``: ``ConvTranspose``'s without
    ``in_channels``."""

    def __init__(
        self,
        out_channels: int,
        kernel_size: Ints,
        stride: Ints = 1,
        padding: Ints = 0,
        output_padding: Ints = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Ints = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            0,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            False,
            dilation,
            padding_mode,
            device,
            dtype,
        )
        self._uninitialize(bias, device)


class LazyConv1d(_LazyConv, Conv1d):
    """A ``Conv1d`` whose ``in_channels`` is read off its first input; it becomes a
    ``Conv1d`` then. The arguments are ``Conv1d``'s without ``in_channels``."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A ``Conv2d`` whose ``in_channels`` is read off its first input; it becomes a
    ``Conv2d`` then. The arguments are ``Conv2d``'s without ``in_channels``.

    Example:
        >>> conv = nn.LazyConv2d(8, kernel_size=3)
        >>> conv(ac.randn(2, 3, 5, 5)).shape, conv.weight.shape
        ((2, 8, 3, 3), (8, 3, 3, 3))
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A ``Conv3d`` whose ``in_channels`` is read off its first input; it becomes a
    ``Conv3d`` then. The arguments are ``Conv3d``'s without ``in_channels``."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A ``ConvTranspose1d`` whose ``in_channels`` is read off its first input; it becomes a
    ``ConvTranspose1d`` then. The arguments are ``ConvTranspose1d``'s without
    ``in_channels``."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A ``ConvTranspose2d`` whose ``in_channels`` is read off its first input; it becomes a
    ``ConvTranspose2d`` then. The arguments are ``ConvTranspose2d``'s without
    ``in_channels``."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A ``ConvTranspose3d`` whose ``in_channels`` is read off its first input; it becomes a
    ``ConvTranspose3d`` then. The arguments are ``ConvTranspose3d``'s without
    ``in_channels``."""

    cls_to_become = ConvTranspose3d


# NOTE: spellings of the original AutoCompyute API, kept as aliases.
Conv1D = Conv1d
Conv2D = Conv2d
ConvTranspose2D = ConvTranspose2d
