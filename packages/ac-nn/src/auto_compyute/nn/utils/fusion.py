"""Fold an evaluation-mode batch norm into the convolution or linear layer before it."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.module import Module, Parameter

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]

M = TypeVar("M", bound=Module)


def _check_eval(layer: Module, bn: Module) -> None:
    if layer.training or bn.training:
        raise RuntimeError(
            f"Fusion only for eval: put {type(layer).__name__} and {type(bn).__name__} in "
            "evaluation mode (.eval()) first"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise RuntimeError(
            f"Fusion needs the running statistics of {type(bn).__name__} "
            "(it was created with track_running_stats=False)"
        )


def fuse_conv_bn_eval(conv: M, bn: Module, transpose: bool = False) -> M:
    """A copy of ``conv`` that computes ``bn(conv(x))`` (both in evaluation mode).

    Args:
        conv: A convolution (or transposed convolution with ``transpose=True``).
        bn: The batch norm that follows it.
        transpose: Whether ``conv`` is transposed (its output channels are axis 1).

    Returns:
        A new convolution with fused weight and bias; ``conv`` and ``bn`` are unchanged.

    Raises:
        RuntimeError: If either module is in training mode or ``bn`` has no running stats.
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight,
        fused.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
        transpose,
    )
    return fused


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution followed by batch norm, as one convolution.

    ``w' = w * γ / sqrt(var + eps)`` (per output channel) and
    ``b' = (b - mean) * γ / sqrt(var + eps) + β``.

    Args:
        conv_w: The convolution's weight.
        conv_b: Its bias (None: zeros).
        bn_rm: The batch norm's running mean.
        bn_rv: Its running variance.
        bn_eps: Its eps.
        bn_w: Its weight γ (None: ones).
        bn_b: Its bias β (None: zeros).
        transpose: Whether the weight is a transposed convolution's (channels on axis 1).

    Returns:
        ``(weight, bias)`` as new parameters, in the dtypes of ``conv_w`` and ``conv_b``.
    """
    bias_dtype = conv_b.dtype if conv_b is not None else conv_w.dtype
    shape = [1, -1] if transpose else [-1, 1]
    shape += [1] * (conv_w.ndim - 2)
    with no_grad():
        rsqrt = (bn_rv + bn_eps).rsqrt()
        scale = rsqrt if bn_w is None else bn_w * rsqrt
        fused_w = (conv_w * scale.reshape(shape)).to(conv_w.dtype)
        shifted = -bn_rm if conv_b is None else conv_b - bn_rm
        fused_b = shifted * scale if bn_b is None else shifted * scale + bn_b
    return (
        Parameter(fused_w, conv_w.req_grad),
        Parameter(fused_b.to(bias_dtype), True if conv_b is None else conv_b.req_grad),
    )


def fuse_linear_bn_eval(linear: M, bn: Module) -> M:
    """A copy of ``linear`` that computes ``bn(linear(x))`` (both in evaluation mode).

    ``bn.num_features`` must equal ``linear.out_features`` or be 1.

    Returns:
        A new linear layer with fused weight and bias; ``linear`` and ``bn`` are unchanged.

    Raises:
        RuntimeError: If either module is in training mode or ``bn`` has no running stats.
        ValueError: If the feature counts do not match.
    """
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise ValueError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1; got "
            f"out_features={linear.out_features} and num_features={bn.num_features}"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a linear layer followed by batch norm, as one linear layer.

    ``W' = W * (γ / sqrt(var + eps))[:, None]`` and
    ``b' = (b - mean) * γ / sqrt(var + eps) + β``. The batch norm may have one feature
    (its statistics then apply to every output) or ``out_features``.

    Returns:
        ``(weight, bias)`` as new parameters, in the dtypes of ``linear_w`` and ``linear_b``.
    """
    bias_dtype = linear_b.dtype if linear_b is not None else linear_w.dtype
    with no_grad():
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        fused_w = linear_w * scale.unsqueeze(-1).to(linear_w.dtype)
        if linear_b is None:
            # NOTE: (out_features,) even for a one-feature batch norm, whose statistics would
            # give PyTorch's bias of shape (1,), which ``linear`` here does not broadcast.
            linear_b = linear_w.new_zeros(linear_w.shape[0])
            req_grad: Any = True
        else:
            req_grad = linear_b.req_grad
        fused_b = (linear_b - bn_rm) * scale + bn_b
    return Parameter(fused_w, linear_w.req_grad), Parameter(fused_b.to(bias_dtype), req_grad)
