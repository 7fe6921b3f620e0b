"""Normalization layers: ``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d/3d`` (and their lazy
forms), ``LayerNorm``, ``GroupNorm``, ``RMSNorm`` and ``LocalResponseNorm``.

Parameters, buffers and state-dict keys are PyTorch's (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``), so weights load both ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.autograd import no_grad
from auto_compyute._core.factories import ones, tensor, zeros
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.lazy import LazyModuleMixin
from auto_compyute.nn.module import Module, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Batchnorm",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "Layernorm",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "LocalResponseNorm",
    "RMSNorm",
]


def _float_dtype(name: str, dtype: Any) -> np.dtype:
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{name} needs a floating-point dtype, got {dtype}")
    return dtype


def _shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, int | np.integer):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


class _BatchNorm(Module):
    """Batch normalization of axis 1 of ``(N, C, *)`` inputs; subclasses fix the input rank."""

    _ranks: tuple[int, ...] = ()
    # NOTE: absent from checkpoints of PyTorch before 0.4.1, which PyTorch still loads.
    _optional_state = ("num_batches_tracked",)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        dtype = _float_dtype(type(self).__name__, dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Set the running mean to 0, the running variance to 1 and the batch count to 0."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, the weight to 1 and the bias to 0."""
        self.reset_running_stats()
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def _check_input_dim(self, input: Tensor) -> None:
        if self._ranks and input.ndim not in self._ranks:
            expected = " or ".join(f"{n}D" for n in self._ranks)
            raise ValueError(
                f"{type(self).__name__} expects {expected} input, got shape {input.shape}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep_stats else None,
            self.running_var if keep_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _InstanceNorm(_BatchNorm):
    """Instance normalization of ``(N, C, *)`` or unbatched ``(C, *)`` inputs (see
    ``F.instance_norm``); the arguments are BatchNorm's, with ``affine`` and
    ``track_running_stats`` off by default, as in PyTorch."""

    _spatial = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self._spatial + 1, self._spatial + 2):
            raise ValueError(
                f"{type(self).__name__} expects {self._spatial + 1}D (unbatched) or "
                f"{self._spatial + 2}D input, got shape {input.shape}"
            )
        unbatched = input.ndim == self._spatial + 1
        out = F.instance_norm(
            input.unsqueeze(0) if unbatched else input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of ``(N, C, L)`` (or ``(C, L)``) inputs over ``L``."""


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of ``(N, C, H, W)`` (or ``(C, H, W)``) inputs over ``H, W``."""

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of ``(N, C, D, H, W)`` inputs over ``D, H, W``."""

    _spatial = 3


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs over all axes but ``C``.

    In training mode the batch's statistics normalize the input and update the running
    statistics in place (with ``momentum``, or a cumulative average if it is None); in
    evaluation mode (``eval()``) the running statistics are used. Without
    ``track_running_stats`` the batch's statistics are used in both modes.

    Args:
        num_features: The number of channels ``C``.
        eps: Added to the variance for numerical stability.
        momentum: Weight of each new batch in the running statistics; None for a
            cumulative average over all batches so far.
        affine: Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
        track_running_stats: Keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers.
        device: Where to create parameters and buffers.
        dtype: The floating-point dtype of parameters and buffers (float32 by default).
        bias: With ``affine``, whether to learn the bias too.

    Example:
        >>> bn = nn.BatchNorm1d(3)
        >>> bn(ac.randn(8, 3)).shape  # training mode: running stats are updated
        (8, 3)
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs over all axes but ``C``.

    The arguments are those of ``BatchNorm1d``; the output has the input's shape.
    """

    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of ``(N, C, D, H, W)`` inputs over all axes but ``C``.

    The arguments are those of ``BatchNorm1d``; the output has the input's shape.
    """

    _ranks = (5,)


class _LazyNorm(LazyModuleMixin):
    """What lazy batch and instance norms add: ``num_features`` read off the first input
    (axis 1, or 0 for an unbatched instance-norm input), then the regular layer's
    parameters and buffers. The arguments are the regular layer's without
    ``num_features``; as in PyTorch, ``affine`` and ``track_running_stats`` default to True
    for the instance norms too."""

    num_features: int
    weight: Any
    bias: Any
    _unbatched_ndim = -1  # the rank of an unbatched input (instance norms)

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)  # type: ignore[call-arg]
        dtype = _float_dtype(type(self).__name__, dtype)
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(
                f"{type(self).__name__} needs an input (N, C, *) to infer C, got {input.shape}"
            )
        self.num_features = input.shape[0 if input.ndim == self._unbatched_ndim else 1]
        if self.has_uninitialized_params():
            for name in ("weight", "bias"):
                member = self._parameters[name]
                if member is not None:
                    member.materialize((self.num_features,))
            for name in ("running_mean", "running_var"):
                member = self._buffers[name]
                if member is not None:
                    member.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    """A ``BatchNorm1d`` whose ``num_features`` is axis 1 of its first input; it becomes a
    ``BatchNorm1d`` then.

    Example:
        >>> bn = nn.LazyBatchNorm1d()
        >>> bn(ac.randn(8, 3)).shape, type(bn).__name__
        ((8, 3), 'BatchNorm1d')
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    """A ``BatchNorm2d`` whose ``num_features`` is axis 1 of its first input; it becomes a
    ``BatchNorm2d`` then."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    """A ``BatchNorm3d`` whose ``num_features`` is axis 1 of its first input; it becomes a
    ``BatchNorm3d`` then."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNorm, InstanceNorm1d):
    """An ``InstanceNorm1d`` whose ``num_features`` is the channel axis of its first input;
    it becomes an ``InstanceNorm1d`` then."""

    cls_to_become = InstanceNorm1d
    _unbatched_ndim = 2


class LazyInstanceNorm2d(_LazyNorm, InstanceNorm2d):
    """An ``InstanceNorm2d`` whose ``num_features`` is the channel axis of its first input;
    it becomes an ``InstanceNorm2d`` then."""

    cls_to_become = InstanceNorm2d
    _unbatched_ndim = 3


class LazyInstanceNorm3d(_LazyNorm, InstanceNorm3d):
    """An ``InstanceNorm3d`` whose ``num_features`` is the channel axis of its first input;
    it becomes an ``InstanceNorm3d`` then."""

    cls_to_become = InstanceNorm3d
    _unbatched_ndim = 4


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` axes (see ``F.layer_norm``).

    Args:
        normalized_shape: The shape of the normalized trailing axes.
        eps: Added to the variance for numerical stability.
        elementwise_affine: Learn an elementwise ``weight`` (ones) and ``bias`` (zeros).
        bias: With ``elementwise_affine``, whether to learn the bias too.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).

    Example:
        >>> ln = nn.LayerNorm(8)
        >>> ln(ac.randn(2, 5, 8)).shape
        (2, 5, 8)
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dtype = _float_dtype("LayerNorm", dtype)
        self.normalized_shape = _shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def reset_parameters(self) -> None:
        """Set the weight to 1 and the bias to 0 (as at construction)."""
        _reset_affine(self)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
            f", bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalization: ``num_channels`` split into ``num_groups`` (see ``F.group_norm``).

    Args:
        num_groups: The number of channel groups; must divide ``num_channels``.
        num_channels: The number of channels ``C`` of ``(N, C, *)`` inputs.
        eps: Added to the variance for numerical stability.
        affine: Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        bias: With ``affine``, whether to learn the bias too.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                f"num_groups ({num_groups})"
            )
        dtype = _float_dtype("GroupNorm", dtype)
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(num_channels, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def reset_parameters(self) -> None:
        """Set the weight to 1 and the bias to 0 (as at construction)."""
        _reset_affine(self)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing axes (see ``F.rms_norm``).

    Args:
        normalized_shape: The shape of the normalized trailing axes.
        eps: Added to the mean square; the machine epsilon of the input's dtype if None.
        elementwise_affine: Learn an elementwise ``weight`` (ones).
        device: Where to create the parameter.
        dtype: The floating-point dtype of the parameter (float32 by default).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dtype = _float_dtype("RMSNorm", dtype)
        self.normalized_shape = _shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def reset_parameters(self) -> None:
        """Set the weight to 1 (as at construction)."""
        _reset_affine(self)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


def _reset_affine(module: Module) -> None:
    """A normalization's learned weight to 1 and bias to 0, where it has them."""
    with no_grad():
        for name, value in (("weight", 1), ("bias", 0)):
            parameter = getattr(module, name, None)
            if parameter is not None:
                parameter.fill_(value)


# The seed's names. Its Batchnorm normalized axis 1 of inputs of any rank >= 2, so it is
# the rank-agnostic batch norm (PyTorch's classes check the rank); its Layernorm is LayerNorm.
class Batchnorm(_BatchNorm):
    """The seed's name: batch normalization of axis 1 of ``(N, C, *)`` inputs of any rank."""


Layernorm = LayerNorm


class LocalResponseNorm(Module):
    """Normalization across neighbouring channels (see ``F.local_response_norm``).

    Args:
        size: The number of channels in each window.
        alpha: The scale of the mean of squares.
        beta: The exponent.
        k: The additive constant.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"LocalResponseNorm needs size >= 1, got {size}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
