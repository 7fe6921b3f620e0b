"""Normalization: ``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm``,
``rms_norm``, ``local_response_norm`` and ``normalize``.

Batch, layer and group normalization are primitives with their own backward (instance
normalization is group normalization with a group per channel); RMS normalization and
local response normalization are composed from Tensor ops.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

import numpy as np

from auto_compyute._core.autograd import Array, Op, may_overwrite
from auto_compyute._core.blas import row_dots, sum_by_product
from auto_compyute._core.devices import filled, get_array_module
from auto_compyute._core.parallel import PIECE_SIZE, run_split_rows
from auto_compyute._core.tensor import Tensor, float16_in_float32

__all__ = [
    "batch_norm",
    "batchnorm",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "layernorm",
    "local_response_norm",
    "rms_norm",
]


class BatchNorm(Op):
    """Normalization of each channel (axis 1) over the batch and all other axes: y = x̂ w + b.

    With ``training``, the statistics of the batch are used and the running statistics
    (if given) are updated in place; otherwise the running statistics are used. With
    statistics of the batch, dx = rstd (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = g w; with
    fixed ones, dx = rstd ĝ; dw = Σ g x̂, db = Σ g.

    NOTE: a primitive for speed: the backward is one closed formula, not a graph of ~10 ops.
    """

    def forward(
        self,
        x: Array,
        *params: Array,
        has_weight: bool,
        has_bias: bool,
        training: bool,
        momentum: float,
        eps: float,
        running_mean: Array | None,
        running_var: Array | None,
    ) -> Array:
        self.axes = (0, *range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        self.params = params
        if training:
            mean = self.mean = x.mean(axis=self.axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=self.axes, keepdims=True)
            if running_mean is not None and running_var is not None:
                count = x.size // x.shape[1]
                _update_running(running_mean, mean.reshape(-1), momentum)
                _update_running(running_var, var.reshape(-1) * (count / (count - 1)), momentum)
        else:
            if running_mean is None or running_var is None:
                raise ValueError("batch norm in evaluation needs running_mean and running_var")
            # NOTE: a copy: training steps update the running statistics in place.
            self.mean = running_mean.reshape(shape).astype(x.dtype, copy=True)
            centered = x - self.mean
            var = running_var.reshape(shape).astype(x.dtype, copy=False)
        self.rstd = (var + eps) ** -0.5
        self.x_hat = centered * self.rstd
        self.weight = params[0].reshape(shape) if has_weight else None
        out = self.x_hat if self.weight is None else self.x_hat * self.weight
        if has_bias:
            out = out + params[-1].reshape(shape)
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        x_hat, axes = self.x_hat, self.axes
        grads: list[Array | None] = [None]
        if self.needs_grad[0]:
            g_hat = grad if self.weight is None else grad * self.weight
            if self.kwargs["training"]:
                mean_g = g_hat.mean(axis=axes, keepdims=True)
                mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
                grads[0] = self.rstd * (g_hat - mean_g - x_hat * mean_gx)
            else:
                grads[0] = g_hat * self.rstd
        index = 1
        if self.kwargs["has_weight"]:
            grads.append((grad * x_hat).sum(axis=axes) if self.needs_grad[index] else None)
            index += 1
        if self.kwargs["has_bias"]:
            grads.append(grad.sum(axis=axes) if self.needs_grad[index] else None)
        return tuple(grads)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        axes = self.axes
        # NOTE: the input rebuilt from what forward kept (the mean is small; x need not live)
        x = self._input(0, self.x_hat / self.rstd + self.mean)
        if self.kwargs["training"]:
            x_hat, rstd = _graph_normalized(x, axes, self.kwargs["eps"])
        else:
            rstd = self._constant(self.rstd)
            x_hat = (x - self._constant(self.mean)) * rstd
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return _norm_graph_backward(self, grad, x_hat, rstd, axes, axes, shape)


class LayerNorm(Op):
    """Normalization over the last ``ndim`` axes of each sample: y = x̂ w + b.

    dx = rstd (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = g w, dw = Σ g x̂, db = Σ g.

    NOTE: a primitive for speed: the backward is one closed formula, not a graph of ~10
    ops. Samples are the rows of a 2-D view; the means over a row and the sums over all
    rows are products with a constant vector, which BLAS runs faster than NumPy's
    reductions.
    """

    def forward(
        self, x: Array, *params: Array, has_weight: bool, has_bias: bool, ndim: int, eps: float
    ) -> Array:
        xp = get_array_module(x)
        features = math.prod(x.shape[x.ndim - ndim :])
        rows = x.reshape(-1, features)
        x_hat = xp.empty(rows.shape, x.dtype)
        self.mean = _row_means(rows)
        var = _row_variances(rows, self.mean, x_hat)
        self.rstd = (var + eps) ** -0.5
        x_hat *= self.rstd[:, None]
        self.x_hat = x_hat
        self.shape, self.params = x.shape, params
        params = tuple(p.reshape(features) for p in params)
        self.weight = params[0] if has_weight else None
        if self.weight is not None:
            out = x_hat * self.weight
        elif has_bias:
            out = x_hat.copy()  # x_hat is kept for backward
        else:
            out = x_hat
        if has_bias:
            out += params[-1]
        return out.reshape(x.shape)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        overwrite = may_overwrite(grad)  # NOTE: asked before rows, a view of grad, exists
        x_hat, weight = self.x_hat, self.weight
        rows = grad.reshape(x_hat.shape)
        needs_x, *needs_params = self.needs_grad
        grads: list[Array | None] = [None]
        product = rows * x_hat  # g x̂
        if weight is not None:
            grads.append(sum_by_product(product, 0) if needs_params[0] else None)
        if self.kwargs["has_bias"]:
            grads.append(sum_by_product(rows, 0) if needs_params[-1] else None)
        if needs_x:
            # NOTE: the means of ĝ = g w and ĝ x̂ as products of g and g x̂ with w / features
            averager = filled(xp, rows.shape[1], 1 / rows.shape[1], rows.dtype)
            if weight is not None:
                averager *= weight
            mean_g = rows @ averager
            mean_gx = product @ averager
            if overwrite:  # NOTE: all that reads the gradient as it came has run
                g_hat = rows
                if weight is not None:
                    g_hat *= weight
            else:
                g_hat = rows * weight if weight is not None else rows.copy()
            g_hat -= mean_g[:, None]
            xp.multiply(x_hat, mean_gx[:, None], product)
            g_hat -= product
            g_hat *= self.rstd[:, None]
            grads[0] = g_hat.reshape(grad.shape)
        return tuple(grads)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        # NOTE: the input rebuilt from what forward kept (the means are small; x need not live)
        rebuilt = self.x_hat / self.rstd[:, None] + self.mean[:, None]
        x = self._input(0, rebuilt.reshape(self.shape))
        rows = x.reshape(-1, self.x_hat.shape[1])
        x_hat, rstd = _graph_normalized(rows, (1,), self.kwargs["eps"])
        grads = _norm_graph_backward(
            self, grad.reshape(rows.shape), x_hat, rstd, (1,), (0,), (1, -1)
        )
        return (grads[0].reshape(x.shape), *grads[1:])


# NOTE: GroupNorm's pieces are 4x those of elementwise kernels: a thread hands the GIL
# on at each long pass of a piece. With two threads, pieces of PIECE_SIZE took 2.0 ms
# forward on a (32, 64, 28, 28) float32 input in 8 groups, these 1.1 ms.
_GROUP_PIECE_SIZE = 4 * PIECE_SIZE


class GroupNorm(Op):
    """Normalization of each group of channels of each sample: y = x̂ w + b, per channel.

    Each sample's channels are split into ``groups`` runs of K consecutive ones, each
    normalized over its K channels and all their positions. With the per-channel sums
    s1 = Σ g and s2 = Σ g x̂ over the positions, db = Σ_n s1, dw = Σ_n s2, and
    dx = rstd (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = g w, the means over each group,
    is dx = g rstd w + x β + γ with β = -rstd² mean(ĝ x̂) and γ = -(β mean + rstd mean(ĝ)).
    With running statistics (instance normalization), the batch's averages of the groups'
    means and unbiased variances are blended into them in place.

    NOTE: a primitive for speed: composed of a layer norm, a scale and a shift, it took
    11x PyTorch's time (on two threads) forward and 9.6x forward and backward on a
    (32, 64, 28, 28) float32 input in 8 groups; as one op, 4.5x and 3.7x. Both ways run on
    pieces of whole groups at a time, across threads (see ``run_split_rows``), and only
    the input and each group's mean and rstd are kept for backward.
    """

    def forward(
        self,
        x: Array,
        *params: Array,
        groups: int,
        has_weight: bool,
        has_bias: bool,
        eps: float,
        momentum: float = 0.0,
        running_mean: Array | None = None,
        running_var: Array | None = None,
    ) -> Array:
        xp = get_array_module(x)
        n, channels = x.shape[:2]
        rows = n * groups  # a group of a sample per row: (rows, K, positions)
        self.x = x.reshape(rows, channels // groups, math.prod(x.shape[2:]))
        size = math.prod(self.x.shape[1:])
        # NOTE: the means before the pieces, in one product that BLAS runs on its own
        # threads: in the pieces, BLAS's threads and ours took 10 instead of 4 ms
        # forward on a (8, 128, 64, 64) float32 input in 32 groups.
        self.mean = _row_means(self.x.reshape(rows, size))
        var, self.rstd = xp.empty(rows, x.dtype), xp.empty(rows, x.dtype)
        out = xp.empty(x.shape, x.dtype)
        self.params = params
        self.weight = _per_row(params[0], n, groups) if has_weight else None
        run_split_rows(
            partial(_group_norm_kernel, eps=eps),
            self.x,
            out.reshape(self.x.shape),
            self.mean,
            var,
            self.rstd,
            self.weight,
            _per_row(params[-1], n, groups) if has_bias else None,
            piece_size=_GROUP_PIECE_SIZE,
        )
        if running_mean is not None:
            _update_running(running_mean, self.mean.reshape(n, groups).mean(axis=0), momentum)
        if running_var is not None:
            unbiased = var.reshape(n, groups).mean(axis=0) * (size / (size - 1))
            _update_running(running_var, unbiased, momentum)
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        overwrite = may_overwrite(grad)  # NOTE: asked before any view of grad exists
        x, groups = self.x, self.kwargs["groups"]
        shape = (x.shape[0] // groups, x.shape[1] * groups)  # (N, C)
        needs_x, *needs_params = self.needs_grad
        dx = None
        if needs_x:
            # NOTE: in the gradient's shape, not a view: a leaf takes it without a copy
            contiguous = overwrite and grad.flags.c_contiguous
            dx = grad if contiguous else xp.empty(grad.shape, grad.dtype)
        sum_g, sum_gx_hat = xp.empty(x.shape[:2], x.dtype), xp.empty(x.shape[:2], x.dtype)
        run_split_rows(
            _group_norm_backward_kernel,
            grad.reshape(x.shape),
            x,
            None if dx is None else dx.reshape(x.shape),
            self.mean,
            self.rstd,
            self.weight,
            sum_g,
            sum_gx_hat,
            piece_size=_GROUP_PIECE_SIZE,
        )
        grads: list[Array | None] = [dx]
        if self.kwargs["has_weight"]:
            grads.append(sum_gx_hat.reshape(shape).sum(axis=0) if needs_params[0] else None)
        if self.kwargs["has_bias"]:
            grads.append(sum_g.reshape(shape).sum(axis=0) if needs_params[-1] else None)
        return tuple(grads)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        rows, channels, positions = self.x.shape
        shape = (rows // self.kwargs["groups"], self.kwargs["groups"], channels, positions)
        x = self._input(0, self.x.reshape(grad.shape))
        grouped = x.reshape(shape)
        x_hat, rstd = _graph_normalized(grouped, (2, 3), self.kwargs["eps"])
        grads = _norm_graph_backward(
            self, grad.reshape(shape), x_hat, rstd, (2, 3), (0, 3), (1, *shape[1:3], 1)
        )
        return (grads[0].reshape(x.shape), *grads[1:])


def _per_row(param: Array, n: int, groups: int) -> Array:
    """A per-channel parameter as (rows, K): a row per group of each of ``n`` samples."""
    xp = get_array_module(param)
    return xp.broadcast_to(param, (n, param.size)).reshape(n * groups, param.size // groups)


def _group_norm_kernel(
    x: Array,
    out: Array,
    mean: Array,
    var: Array,
    rstd: Array,
    weight: Array | None,
    bias: Array | None,
    *,
    eps: float,
) -> None:
    """``GroupNorm``'s forward on some of its rows (groups, shaped (rows, K, positions)):
    with their means, their variances and rstd into ``var`` and ``rstd``, the result
    into ``out``."""
    with _short_buffers():
        shape = (len(x), x.shape[1] * x.shape[2])
        var[...] = _row_variances(x.reshape(shape), mean, out.reshape(shape))
        rstd[...] = (var + eps) ** -0.5
        out *= (rstd[:, None] if weight is None else rstd[:, None] * weight)[..., None]
        if bias is not None:
            out += bias[..., None]


def _group_norm_backward_kernel(
    g: Array,
    x: Array,
    dx: Array | None,
    mean: Array,
    rstd: Array,
    weight: Array | None,
    sum_g: Array,
    sum_gx_hat: Array,
) -> None:
    """``GroupNorm``'s backward on some of its rows (see ``_group_norm_kernel``): the
    per-channel sums of g and g x̂ into ``sum_g`` and ``sum_gx_hat``, and dx (which may
    be g's array) unless it is None."""
    xp = get_array_module(g)
    sum_g[...] = xp.einsum("rki->rk", g)
    by_channel = g.reshape(-1, g.shape[2])
    sum_gx_hat[...] = row_dots(by_channel, x.reshape(by_channel.shape)).reshape(sum_g.shape)
    sum_gx_hat -= mean[:, None] * sum_g
    sum_gx_hat *= rstd[:, None]
    if dx is None:
        return
    size = g.shape[1] * g.shape[2]
    if weight is None:
        mean_g, mean_gx_hat = sum_g.sum(axis=1) / size, sum_gx_hat.sum(axis=1) / size
    else:
        mean_g = (sum_g * weight).sum(axis=1) / size
        mean_gx_hat = (sum_gx_hat * weight).sum(axis=1) / size
    beta = -rstd * rstd * mean_gx_hat
    gamma = -(beta * mean + rstd * mean_g)
    with _short_buffers():
        scale = rstd[:, None] if weight is None else rstd[:, None] * weight
        xp.multiply(g, scale[..., None], out=dx)
        dx += x * beta[:, None, None]
        dx += gamma[:, None, None]


@contextmanager
def _short_buffers() -> Iterator[None]:
    """NumPy's ufuncs in the block (on this thread) with buffers of 1,024 elements.

    NOTE: NumPy copies an operand that is broadcast along rows of up to half a buffer
    (8,192 elements by default) through the buffer, for longer loops: scaling each
    channel of a (20, 8, 784) float32 piece took 31 us so, 14 us with shorter buffers.
    """
    with np.errstate():
        np.setbufsize(1024)
        yield


def _row_means(rows: Array) -> Array:
    """The means of a 2-D array's rows.

    NOTE: a product with a constant vector, which BLAS runs faster than NumPy's reductions.
    """
    size = rows.shape[1]
    return rows @ filled(get_array_module(rows), size, 1 / size, rows.dtype)


def _row_variances(rows: Array, mean: Array, centered: Array) -> Array:
    """The variances of a 2-D array's rows about their means; the rows less their means
    go into ``centered`` (``row_dots`` sums their squares without writing them out)."""
    get_array_module(rows).subtract(rows, mean[:, None], out=centered)
    return row_dots(centered, centered) / rows.shape[1]


def _graph_normalized(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor]:
    """x̂ and rstd of ``x`` over ``axes``, with tensor ops (for ``graph_backward``)."""
    centered = x - x.mean(dim=axes, keepdim=True)
    rstd = ((centered * centered).mean(dim=axes, keepdim=True) + eps) ** -0.5
    return centered * rstd, rstd


def _norm_graph_backward(
    op: BatchNorm | LayerNorm | GroupNorm,
    grad: Tensor,
    x_hat: Tensor,
    rstd: Tensor,
    axes: tuple[int, ...],
    param_axes: tuple[int, ...],
    param_shape: tuple[int, ...],
) -> tuple[Tensor, ...]:
    """The gradients of batch, layer or group norm with tensor ops.

    Args:
        op: The op.
        grad: The gradient of its result, shaped like ``x_hat``.
        x_hat: The normalized input as a tensor of the graph (a function of x).
        rstd: The reciprocal standard deviation (a function of x for batch statistics).
        axes: The axes the statistics are taken over.
        param_axes: The axes the weight and bias gradients sum over.
        param_shape: The shape that broadcasts a weight against ``x_hat``.

    Returns:
        The gradients of x, then of the weight and the bias where the op has them.
    """
    params = [op._input(i + 1, p) for i, p in enumerate(op.params)]
    g_hat = grad
    grads: list[Tensor] = []
    if op.kwargs["has_weight"]:
        g_hat = grad * params[0].reshape(param_shape)
        grads.append((grad * x_hat).sum(dim=param_axes).reshape(params[0].shape))
    if op.kwargs["has_bias"]:
        grads.append(grad.sum(dim=param_axes).reshape(params[-1].shape))
    if op.kwargs.get("training", True):
        mean_g = g_hat.mean(dim=axes, keepdim=True)
        mean_gx = (g_hat * x_hat).mean(dim=axes, keepdim=True)
        return (rstd * (g_hat - mean_g - x_hat * mean_gx), *grads)
    return (g_hat * rstd, *grads)


def _update_running(running: Array, stat: Array, momentum: float) -> None:
    """running = momentum stat + (1 - momentum) running, in place, in ``stat``'s dtype.

    NOTE: a float16 running statistic is updated from float32 statistics in float32 and
    rounded once, as in PyTorch.
    """
    running[...] = momentum * stat + (1 - momentum) * running.astype(stat.dtype, copy=False)


def _check_channel_params(input: Tensor, **params: Tensor | None) -> None:
    """Raise unless each given per-channel tensor has shape (C,) for an input (N, C, *)."""
    for name, tensor in params.items():
        _check_param(
            name, tensor, (input.shape[1],), f"the channels of an input of shape {input.shape}"
        )


def _check_param(name: str, param: Tensor | None, shape: tuple[int, ...], what: str) -> None:
    if param is not None and param.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({what}), got {param.shape}")


def _params(weight: Tensor | None, bias: Tensor | None) -> list[Tensor]:
    return [p for p in (weight, bias) if p is not None]


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization of each channel (axis 1) of an ``(N, C, *)`` input.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, per channel. With
    ``training=True`` the mean and (biased) variance of the batch are used, and the
    running statistics, if given, are updated in place:
    ``running = (1 - momentum) * running + momentum * stat``, with the unbiased
    variance for ``running_var``, as in PyTorch. With ``training=False`` the running
    statistics are used.

    Args:
        input: A tensor of shape ``(N, C)`` or ``(N, C, *)``.
        running_mean: Running mean of shape ``(C,)``, or None to track no statistics.
        running_var: Running variance of shape ``(C,)``, or None.
        weight: Per-channel scale of shape ``(C,)``, or None.
        bias: Per-channel shift of shape ``(C,)``, or None.
        training: Use the batch's statistics (and update the running ones).
        momentum: Weight of the new batch in the running statistics.
        eps: Added to the variance for numerical stability.

    Returns:
        A tensor of the input's shape.

    Example:
        >>> x = ac.randn(8, 3)
        >>> mean, var = ac.zeros(3), ac.ones(3)
        >>> y = F.batch_norm(x, mean, var, training=True)  # also updates mean and var
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm needs an input of shape (N, C, *), got shape {input.shape}")
    channels = input.shape[1]
    _check_channel_params(
        input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    if training and input.numel() // max(channels, 1) <= 1:
        raise ValueError(
            "batch_norm in training needs more than 1 value per channel, "
            f"got input shape {input.shape}"
        )
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm with training=False needs running_mean and running_var")
    return _batch_norm(
        input._floating(),
        weight,
        bias,
        training=training,
        momentum=momentum,
        eps=eps,
        running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data,
    )


@float16_in_float32
def _batch_norm(
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    *,
    training: bool,
    momentum: float,
    eps: float,
    running_mean: Array | None,
    running_var: Array | None,
) -> Tensor:
    """``batch_norm`` of a floating-point input, its running statistics as arrays (which
    ``float16_in_float32`` leaves as they are: they are updated in place)."""
    return BatchNorm.apply(
        x,
        *_params(weight, bias),
        training=training,
        momentum=momentum,
        eps=eps,
        has_weight=weight is not None,
        has_bias=bias is not None,
        running_mean=running_mean,
        running_var=running_var,
    )


def _normalized_shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, Tensor):
        raise TypeError(
            "normalized_shape must be an int or a sequence of ints, got a Tensor "
            "(the signature is layer_norm(input, normalized_shape, weight, bias, eps))"
        )
    if isinstance(normalized_shape, int | np.integer):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


@float16_in_float32
def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization over the trailing ``normalized_shape`` axes of each sample.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the mean and (biased)
    variance taken over the last ``len(normalized_shape)`` axes.

    Args:
        input: A tensor whose trailing axes equal ``normalized_shape``.
        normalized_shape: The shape of the normalized trailing axes.
        weight: Elementwise scale of shape ``normalized_shape``, or None.
        bias: Elementwise shift of shape ``normalized_shape``, or None.
        eps: Added to the variance for numerical stability.

    Returns:
        A tensor of the input's shape.

    Example:
        >>> x = ac.randn(2, 5, 8)
        >>> y = F.layer_norm(x, (8,))
    """
    shape = _normalized_shape(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape) :] != shape or input.ndim < len(shape):
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must be the trailing axes of the input, "
            f"got input shape {input.shape}"
        )
    _check_param("weight", weight, shape, "normalized_shape")
    _check_param("bias", bias, shape, "normalized_shape")
    return LayerNorm.apply(
        input._floating(),
        *_params(weight, bias),
        ndim=len(shape),
        eps=eps,
        has_weight=weight is not None,
        has_bias=bias is not None,
    )


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalization: channels split into ``num_groups`` groups, each normalized per sample.

    Args:
        input: A tensor of shape ``(N, C, *)`` with ``C`` divisible by ``num_groups``.
        num_groups: The number of channel groups.
        weight: Per-channel scale of shape ``(C,)``, or None.
        bias: Per-channel shift of shape ``(C,)``, or None.
        eps: Added to the variance for numerical stability.

    Returns:
        A tensor of the input's shape.
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm needs an input of shape (N, C, *), got shape {input.shape}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(
            f"group_norm: the {channels} channels of an input of shape {input.shape} cannot be "
            f"split into {num_groups} groups"
        )
    _check_channel_params(input, weight=weight, bias=bias)
    return _group_norm(input._floating(), weight, bias, groups=num_groups, eps=eps)


@float16_in_float32
def _group_norm(
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    *,
    groups: int,
    eps: float,
    momentum: float = 0.0,
    running_mean: Array | None = None,
    running_var: Array | None = None,
) -> Tensor:
    """``group_norm`` of a floating-point input; with running statistics as arrays (of
    instance normalization), updated in place with the batch's."""
    return GroupNorm.apply(
        x,
        *_params(weight, bias),
        groups=groups,
        eps=eps,
        has_weight=weight is not None,
        has_bias=bias is not None,
        momentum=momentum,
        running_mean=running_mean,
        running_var=running_var,
    )


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalization: each channel of each sample normalized over its own axes.

    With ``use_input_stats`` (training) the running statistics, if given, are updated in
    place with the batch's average of the per-instance means and unbiased variances, as in
    PyTorch; without, they normalize the input (as batch normalization in evaluation).

    Args:
        input: A tensor of shape ``(N, C, *)`` with at least one axis after ``C``.
        running_mean: ``(C,)`` running means, or None.
        running_var: ``(C,)`` running variances, or None.
        weight: Per-channel scale of shape ``(C,)``, or None.
        bias: Per-channel shift of shape ``(C,)``, or None.
        use_input_stats: Normalize with each instance's statistics (else the running ones).
        momentum: The weight of the new statistics in the running ones.
        eps: Added to the variance for numerical stability.

    Returns:
        A tensor of the input's shape.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm needs an input of shape (N, C, *), got {input.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm without input statistics needs running statistics")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if math.prod(input.shape[2:]) == 1:  # each instance would normalize to 0
        raise ValueError(
            f"instance_norm needs more than one spatial element per instance, got an input of "
            f"shape {input.shape}"
        )
    channels = input.shape[1]
    _check_channel_params(
        input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    return _group_norm(
        input._floating(),
        weight,
        bias,
        groups=channels,
        eps=eps,
        momentum=momentum,
        running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data,
    )


@float16_in_float32
def rms_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Root-mean-square normalization: ``x / sqrt(mean(x²) + eps) * weight``.

    The mean is taken over the trailing ``normalized_shape`` axes.

    Args:
        input: A tensor whose trailing axes equal ``normalized_shape``.
        normalized_shape: The shape of the normalized trailing axes.
        weight: Elementwise scale of shape ``normalized_shape``, or None.
        eps: Added to the mean square; the machine epsilon of the input's dtype if None.

    Returns:
        A tensor of the input's shape.
    """
    shape = _normalized_shape(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape) :] != shape or input.ndim < len(shape):
        raise ValueError(
            f"rms_norm: normalized_shape {shape} must be the trailing axes of the input, "
            f"got input shape {input.shape}"
        )
    _check_param("weight", weight, shape, "normalized_shape")
    x = input._floating()
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    out = x / ((x * x).mean(dim=axes, keepdim=True) + eps).sqrt()
    return out if weight is None else out * weight


# The seed's spellings. NOTE: their positional order differs from PyTorch's (the seed had
# batchnorm(x, w, b, rmean, rvar, ...) and layernorm(x, w, b, eps)): pass keywords.
batchnorm = batch_norm
layernorm = layer_norm


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Normalization across neighbouring channels (AlexNet's):
    ``x / (k + alpha * mean(x²))^beta``, the mean over a window of ``size`` channels
    around each one (``size // 2`` before, ``(size - 1) // 2`` after, zeros past the edges).

    Args:
        input: A tensor ``(N, C, *)`` with at least 3 axes.
        size: The number of channels in each window.
        alpha: The scale of the mean of squares.
        beta: The exponent.
        k: The additive constant.

    Returns:
        A tensor of the input's shape.
    """
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm expects an input (N, C, *) with at least 3 axes, "
            f"got shape {input.shape}"
        )
    if size < 1:
        raise ValueError(f"local_response_norm needs size >= 1, got {size}")
    if input.numel() == 0:
        return input
    n, channels = input.shape[:2]
    # NOTE: the windowed mean as one product with a banded (C, C) matrix: one op each way,
    # where a sum of `size` shifted slices would be `size` of them.
    offsets = np.arange(channels)[None, :] - np.arange(channels)[:, None]
    band = ((offsets >= -(size // 2)) & (offsets <= (size - 1) // 2)) / size
    squares = (input * input).reshape(n, channels, -1)
    mean = Tensor(band.astype(input.dtype), device=input.device) @ squares
    return input / (mean.reshape(input.shape) * alpha + k) ** beta
