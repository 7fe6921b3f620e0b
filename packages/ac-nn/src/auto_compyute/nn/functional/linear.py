"""The affine map of ``nn.Linear``."""

import math

from auto_compyute import Tensor
from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module

__all__ = ["linear"]


class Linear(Op):
    """x W^T + b; dx = g W, dW = g^T x, db = sum(g) over all but the last axis.

    NOTE: a primitive for speed and memory: one 2-D product each way, weight gradients
    come out contiguous, and no unbiased product is kept alive for the graph.
    """

    def forward(self, x: Array, weight: Array, *bias: Array) -> Array:
        self.x, self.weight = x, weight
        out = _matrix(x) @ weight.T
        if bias:
            out += bias[0]
        return out.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        needs_x, needs_weight, *needs_bias = self.needs_grad
        grad_2d, x_2d = _matrix(grad), _matrix(self.x)
        grad_x = (grad_2d @ self.weight).reshape(self.x.shape) if needs_x else None
        grad_weight = grad_2d.T @ x_2d if needs_weight else None
        if not needs_bias:
            return grad_x, grad_weight
        # NOTE: a product with a vector of ones: BLAS sums the rows about twice as fast.
        ones = get_array_module(grad).ones(len(grad_2d), dtype=grad.dtype)
        return grad_x, grad_weight, ones @ grad_2d if needs_bias[0] else None


def _matrix(array: Array) -> Array:
    """View (*, n) as (prod(*), n); -1 cannot be used when n is 0."""
    return array.reshape(math.prod(array.shape[:-1]), array.shape[-1])


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, with ``weight`` of shape (out_features, in_features).

    Args:
        input: Tensor of shape (*, in_features).
        weight: Tensor of shape (out_features, in_features).
        bias: Optional tensor of shape (out_features,).

    Returns:
        Tensor of shape (*, out_features).
    """
    if input.ndim == 0 or weight.ndim != 2 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear expects inputs of shape (*, {weight.shape[-1]}), got {input.shape} "
            f"(weight of shape {weight.shape})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear expects a bias of shape ({weight.shape[0]},), got {bias.shape}")
    input, weight = input._other(weight)
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias.to(dtype=input.dtype))
