"""The affine map of ``nn.Linear`` and the bilinear map of ``nn.Bilinear``."""

import math

from auto_compyute import Tensor
from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module

__all__ = ["bilinear", "linear"]


class Linear(Op):
    """x W^T + b; dx = g W, dW = g^T x, db = sum(g) over all but the last axis.

    NOTE: a primitive for speed and memory: one 2-D product each way, weight gradients
    come out contiguous, and no unbiased product is kept alive for the graph.
    """

    def forward(self, x: Array, weight: Array, *bias: Array) -> Array:
        self.x, self.weight = x, weight
        out = (x if x.ndim == 2 else _matrix(x)) @ weight.T
        if bias:
            out += bias[0]
        return out if x.ndim == 2 else out.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        needs_grad, x = self.needs_grad, self.x
        grad_2d, x_2d = (grad, x) if x.ndim == 2 else (_matrix(grad), _matrix(x))
        grad_x = None
        if needs_grad[0]:
            grad_x = grad_2d @ self.weight
            if x.ndim != 2:
                grad_x = grad_x.reshape(x.shape)
        grad_weight = grad_2d.T @ x_2d if needs_grad[1] else None
        if len(needs_grad) == 2:
            return grad_x, grad_weight
        if not needs_grad[2]:
            return grad_x, grad_weight, None
        # NOTE: a product with a vector of ones: BLAS sums the rows about twice as fast.
        ones = get_array_module(grad).empty(len(grad_2d), dtype=grad.dtype)
        ones.fill(1)
        return grad_x, grad_weight, ones @ grad_2d

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        x, weight = self._input(0, self.x), self._input(1, self.weight)
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_x = (grad_2d @ weight).reshape(x.shape)
        grad_weight = grad_2d.T @ x.reshape(-1, x.shape[-1])
        if len(self.needs_grad) == 2:
            return grad_x, grad_weight
        return grad_x, grad_weight, grad_2d.sum(dim=0)


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
    x, w = input.data, weight.data
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[-1]:
        raise ValueError(
            f"linear expects inputs of shape (*, {weight.shape[-1]}), got {input.shape} "
            f"(weight of shape {weight.shape})"
        )
    if bias is not None and bias.data.shape != (w.shape[0],):
        raise ValueError(f"linear expects a bias of shape ({w.shape[0]},), got {bias.shape}")
    input, weight = input._other(weight)
    if bias is None:
        return Linear.apply(input, weight)
    if bias.data.dtype != input.data.dtype:
        bias = bias.to(dtype=input.dtype)
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_o = input1 @ weight[o] @ input2 + bias_o`` for each output feature ``o``.

    Args:
        input1: Tensor of shape (*, in1_features).
        input2: Tensor of shape (*, in2_features), the same leading axes as ``input1``.
        weight: Tensor of shape (out_features, in1_features, in2_features).
        bias: Optional tensor of shape (out_features,).

    Returns:
        Tensor of shape (*, out_features).

    Example:
        >>> F.bilinear(ac.ones(2, 3), ac.ones(2, 4), ac.ones(5, 3, 4)).shape
        (2, 5)
    """
    if weight.ndim != 3:
        raise ValueError(f"bilinear expects a weight (out, in1, in2), got shape {weight.shape}")
    out_features, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != in1 or input2.ndim == 0 or input2.shape[-1] != in2:
        raise ValueError(
            f"bilinear expects inputs of shapes (*, {in1}) and (*, {in2}) for a weight of "
            f"shape {weight.shape}, got {input1.shape} and {input2.shape}"
        )
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(
            f"bilinear expects inputs with the same leading axes, got {input1.shape} and "
            f"{input2.shape}"
        )
    if bias is not None and bias.shape != (out_features,):
        raise ValueError(f"bilinear expects a bias of shape ({out_features},), got {bias.shape}")
    lead = input1.shape[:-1]
    rows = math.prod(lead)
    # NOTE: one matrix product (x1 against every slice of the weight at once), then the
    # dot products with x2: the (rows, out, in2) intermediate is the only temporary.
    mixed = input1.reshape(rows, in1) @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = (mixed.reshape(rows, out_features, in2) * input2.reshape(rows, 1, in2)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_features)
