"""The affine map of ``nn.Linear`` and the bilinear map of ``nn.Bilinear``."""

import math

from auto_compyute import Tensor
from auto_compyute._core.autograd import Array, Op, is_graph_retained
from auto_compyute._core.blas import sum_by_product
from auto_compyute._core.ops.linalg import is_column_major, product_2d
from auto_compyute.nn.functional.normalization import LayerNorm

__all__ = ["bilinear", "linear"]


class Linear(Op):
    """x W^T + b; dx = g W, dW = g^T x, db = sum(g) over all but the last axis.

    NOTE: a primitive for speed and memory: one 2-D product each way, weight gradients
    come out contiguous, and no unbiased product is kept alive for the graph. Backward
    takes the weight's gradient first and then lets go of x (unless the graph is
    retained), so that x's array may be freed before the input's gradient is allocated.
    """

    def forward(self, x: Array, weight: Array, *bias: Array) -> Array:
        self.x, self.weight, self.shape = x, weight, x.shape
        self.x_column_major = x.ndim == 2 and is_column_major(x)
        out = product_2d(x, weight.T) if x.ndim == 2 else _matrix(x) @ weight.T
        if bias:
            out += bias[0]
        return out if x.ndim == 2 else out.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        needs_grad, shape = self.needs_grad, self.shape
        grad_2d = grad if grad.ndim == 2 else _matrix(grad)
        grad_bias = sum_by_product(grad_2d, 0) if len(needs_grad) == 3 and needs_grad[2] else None
        grad_weight = self._weight_grad(grad_2d, grad_bias) if needs_grad[1] else None
        if not is_graph_retained():
            del self.x
        grad_x = None
        if needs_grad[0]:
            if len(shape) == 2:
                grad_x = product_2d(grad_2d, self.weight, self.x_column_major)
            else:
                grad_x = (grad_2d @ self.weight).reshape(shape)
        if len(needs_grad) == 2:
            return grad_x, grad_weight
        return grad_x, grad_weight, grad_bias

    def _weight_grad(self, grad_2d: Array, grad_bias: Array | None) -> Array:
        """dW; ``grad_bias`` is the sum of the rows of ``grad_2d`` if it was needed anyway."""
        x = self.x
        return grad_2d.T @ (x if x.ndim == 2 else _matrix(x))

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        x, weight = self._input(0, self._input_array()), self._input(1, self.weight)
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_x = (grad_2d @ weight).reshape(x.shape)
        grad_weight = grad_2d.T @ x.reshape(-1, x.shape[-1])
        if len(self.needs_grad) == 2:
            return grad_x, grad_weight
        return grad_x, grad_weight, grad_2d.sum(dim=0)

    def _input_array(self) -> Array:
        return self.x


class _LinearOfNormalized(Linear):
    """``Linear`` over the result y = x̂ w + b of a LayerNorm (over the last axis) that
    keeps x̂: dW = (g^T x̂) w + (sum of g) ⊗ b.

    NOTE: for memory: x̂ is kept by the LayerNorm for its own backward anyway, so keeping
    it instead of y lets y's array go right after forward. In a pre-norm Transformer
    every LayerNorm feeds a Linear layer: this saves one activation-sized array each.
    """

    @property
    def name(self) -> str:
        return "Linear"  # NOTE: in reprs and graph drawings it is the Linear it computes

    def forward(  # type: ignore[override]
        self, x: Array, weight: Array, *bias: Array, norm: LayerNorm
    ) -> Array:
        out = super().forward(x, weight, *bias)
        self.x, self.kwargs = None, {}  # NOTE: graph drawings show no op among its arguments
        self.x_hat, self.norm_weight = norm.x_hat, norm.weight
        self.norm_bias = norm.params[-1].reshape(-1) if norm.kwargs["has_bias"] else None
        return out

    def _weight_grad(self, grad_2d: Array, grad_bias: Array | None) -> Array:
        grad_weight = grad_2d.T @ self.x_hat
        if self.norm_weight is not None:
            grad_weight *= self.norm_weight
        if self.norm_bias is not None:
            if grad_bias is None:
                grad_bias = sum_by_product(grad_2d, 0)
            grad_weight += grad_bias[:, None] * self.norm_bias  # NOTE: xp.outer is Python code
        return grad_weight

    def _input_array(self) -> Array:
        out = self.x_hat if self.norm_weight is None else self.x_hat * self.norm_weight
        if self.norm_bias is not None:
            out = out + self.norm_bias
        return out.reshape(self.shape)


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
    if bias is not None and bias.data.dtype != input.data.dtype:
        bias = bias.to(dtype=input.dtype)
    params = (weight,) if bias is None else (weight, bias)
    norm = input.ctx
    # NOTE: a LayerNorm op whose x̂ is still kept (its backward has not freed it)
    if type(norm) is LayerNorm and norm.kwargs["ndim"] == 1 and "x_hat" in norm.__dict__:
        return _LinearOfNormalized.apply(input, *params, norm=norm)
    return Linear.apply(input, *params)


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
