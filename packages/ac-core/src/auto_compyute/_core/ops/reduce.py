"""Reductions along dimensions, and the softmax family (reductions for numerical stability)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from auto_compyute._core import blas
from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import filled, get_array_module
from auto_compyute._core.ops.movement import Cat

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor

Dims = tuple[int, ...] | None


def _expand_reduced(grad: Array, shape: tuple[int, ...], dim: Dims, keepdim: bool) -> Array:
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts over ``shape``."""
    if keepdim or (dim is None and grad.ndim == 0):
        return grad
    if dim is None:
        return grad.reshape((1,) * len(shape))
    return get_array_module(grad).expand_dims(grad, dim)


# NOTE: up to this many elements, a whole-array reduction's gradient is written out
_SMALL_SPREAD = 4096


def _spread(grad: Array, shape: tuple[int, ...]) -> Array:
    """``broadcast_to(grad, shape)``; one number over a small NumPy array is written out.

    NOTE: ``broadcast_to`` is Python code: 19 us inside a training step, for the gradient
    of a loss's mean over 128 numbers, against 1-2 us for ``empty`` and ``fill``.
    """
    small = math.prod(shape) <= _SMALL_SPREAD
    if small and isinstance(grad, np.ndarray | np.generic) and grad.size == 1:
        return filled(np, shape, grad.item(), grad.dtype)
    return get_array_module(grad).broadcast_to(grad, shape)


# NOTE: NumPy reduces a short last axis one row at a time: the max over 10 classes took 8 us
# for 128 rows and 227 us for 4096, the max over the first axis of a transposed copy 2 and
# 20 us. From 32 columns on, the plain call is as fast.
_SHORT_ROW = 32


def max_keepdims(x: Array, dim: int) -> Array:
    """``x.max(axis=dim, keepdims=True)``, fast also over the short last axis of a matrix."""
    if type(x) is np.ndarray and x.ndim == 2 and dim in (1, -1) and x.shape[1] < _SHORT_ROW:
        return np.ascontiguousarray(x.T).max(axis=0)[:, None]
    return x.max(axis=dim, keepdims=True)


# NOTE: below this many elements NumPy's sum is as fast as a product with ones
_PRODUCT_SUM_SIZE = 1024


def sum_keepdims(x: Array, dim: int) -> Array:
    """``x.sum(axis=dim, keepdims=True)``; over the last axis of a NumPy float array, as a
    product with ones (``blas.sum_by_product``), which NumPy would sum row by row."""
    if (
        type(x) is np.ndarray
        and dim in (-1, x.ndim - 1)
        and x.size >= _PRODUCT_SUM_SIZE
        and blas.is_one_matrix(x)
    ):
        width = x.shape[-1]
        return blas.sum_by_product(x.reshape(-1, width), 1).reshape(*x.shape[:-1], 1)
    return x.sum(axis=dim, keepdims=True)


def _kept_shape(shape: tuple[int, ...], dim: Dims) -> tuple[int, ...]:
    """``shape`` with the reduced axes as 1 (all of them if ``dim`` is None)."""
    return tuple(1 if dim is None or i in dim else n for i, n in enumerate(shape))


class Sum(Op):
    """Sum over ``dim``; the gradient is copied to every summed element."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool) -> Array:
        self.shape = x.shape
        return x.sum(axis=dim, keepdims=keepdim)

    def backward(self, grad: Array) -> Array:
        grad = _expand_reduced(grad, self.shape, self.kwargs["dim"], self.kwargs["keepdim"])
        return _spread(grad, self.shape)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.reshape(_kept_shape(self.shape, self.kwargs["dim"])).expand(self.shape)


class Mean(Op):
    """Mean over ``dim``; each element gets the gradient divided by the count."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool) -> Array:
        self.shape = x.shape
        if x.size == 0 or x.dtype == np.float16:  # NumPy's mean: a warning; float32 sums
            out = x.mean(axis=dim, keepdims=keepdim)
            self.count = x.size // max(out.size, 1) if x.size else 0
            return out
        # NOTE: NumPy's mean is Python code around this sum (3 against 0.8 us on 128 numbers)
        total = x.sum(axis=dim, keepdims=keepdim)
        self.count = x.size // total.size
        return total / self.count

    def backward(self, grad: Array) -> Array:
        grad = _expand_reduced(grad, self.shape, self.kwargs["dim"], self.kwargs["keepdim"])
        return _spread(grad / self.count, self.shape)

    def graph_backward(self, grad: Tensor) -> Tensor:
        kept = grad.reshape(_kept_shape(self.shape, self.kwargs["dim"]))
        return (kept / self.count).expand(self.shape)


class Var(Op):
    """Variance over ``dim`` with ``correction``; d/dx = 2 (x - mean) / (N - correction)."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool, correction: int) -> Array:
        self.mean = x.mean(axis=dim, keepdims=True)
        self.centered = x - self.mean
        squares = (self.centered * self.centered).sum(axis=dim, keepdims=keepdim)
        self.divisor = max(x.size // max(squares.size, 1) - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return squares / squares.dtype.type(self.divisor)

    def backward(self, grad: Array) -> Array:
        grad = _expand_reduced(
            grad, self.centered.shape, self.kwargs["dim"], self.kwargs["keepdim"]
        )
        scale = 2 / self.divisor if self.divisor else float("nan")
        return grad * self.centered * scale

    def graph_backward(self, grad: Tensor) -> Tensor:
        # NOTE: the input rebuilt from what forward kept (the mean is small; x need not live)
        dim, x = self.kwargs["dim"], self._input(0, self.centered + self.mean)
        scale = 2 / self.divisor if self.divisor else float("nan")
        kept = grad.reshape(_kept_shape(self.centered.shape, dim))
        return kept * (x - x.mean(dim=dim, keepdim=True)) * scale


class Std(Var):
    """Standard deviation: the square root of ``Var``. Where it is 0 (constant values), the
    gradient is 0, as in PyTorch, not the NaN of a square root's gradient at 0."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool, correction: int) -> Array:
        variance = super().forward(x, dim=dim, keepdim=keepdim, correction=correction)
        self.result = get_array_module(x).sqrt(variance)
        return self.result

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        zero = self.result == 0
        return super().backward(xp.where(zero, 0, grad / (2 * xp.where(zero, 1, self.result))))

    def graph_backward(self, grad: Tensor) -> Tensor:
        nonzero = self._constant(self.result != 0)
        std = self._result_tensor(self.result).where(nonzero, 1.0)
        return super().graph_backward((grad / (2 * std)).where(nonzero, 0.0))


class CumSum(Op):
    """Running sums along ``dim``; the gradient is the running sum of the gradient from the end."""

    def forward(self, x: Array, *, dim: int) -> Array:
        return get_array_module(x).cumsum(x, axis=dim)

    def backward(self, grad: Array) -> Array:
        xp, dim = get_array_module(grad), self.kwargs["dim"]
        return xp.flip(xp.cumsum(xp.flip(grad, axis=dim), axis=dim), axis=dim)

    def graph_backward(self, grad: Tensor) -> Tensor:
        dim = self.kwargs["dim"]
        return grad.flip(dim).cumsum(dim).flip(dim)


def accumulate(ufunc: str, x: Array, axis: int) -> Array:
    """``xp.<ufunc>.accumulate(x, axis=axis)`` for an associative ufunc (``maximum``,
    ``minimum``, ``logaddexp``, ...): the running result along ``axis``.

    NOTE: CuPy's ufuncs accumulate only ``add`` and ``multiply``; on other array modules the
    running result is ``_scan``'s.
    """
    xp = get_array_module(x)
    if xp is np:
        return getattr(np, ufunc).accumulate(x, axis=axis)
    return _scan(xp, getattr(xp, ufunc), x, axis)


def _scan(xp: Any, ufunc: Any, x: Array, axis: int) -> Array:
    """The running ``ufunc`` along ``axis`` in ceil(log2 n) vectorized steps (a Hillis-Steele
    scan): after the step with shift s, each place holds the result over the 2s places up to
    it. Equal to ``ufunc.accumulate`` up to the rounding of a different order of operations."""
    out = xp.moveaxis(x, axis, -1).copy()
    shift = 1
    while shift < out.shape[-1]:
        out[..., shift:] = ufunc(out[..., shift:], out[..., :-shift])
        shift *= 2
    return xp.moveaxis(out, -1, axis)


class LogCumSumExp(Op):
    """Running ``log(sum(exp(x)))`` along ``dim``; d out_i / d x_j = exp(x_j - out_i) for j <= i.

    NOTE: an op rather than a composite: a running log-add-exp neither overflows nor, unlike
    a shift by the overall maximum, underflows to -inf in front of a large later value.
    """

    def forward(self, x: Array, *, dim: int) -> Array:
        self.x = x
        self.out = accumulate("logaddexp", x, dim)
        return self.out

    def backward(self, grad: Array) -> Array:
        xp, dim = get_array_module(grad), self.kwargs["dim"]
        # NOTE: sum_{i >= j} g_i exp(x_j - out_i), in log space for the positive and the
        # negative parts of g separately, as PyTorch computes it
        result = xp.zeros_like(grad)
        for sign in (1, -1):
            part = grad * sign
            logs = xp.where(part > 0, xp.log(xp.where(part > 0, part, 1)), -xp.inf) - self.out
            tail = xp.flip(accumulate("logaddexp", xp.flip(logs, dim), dim), dim)
            result += sign * xp.exp(tail + self.x)
        return result

    def graph_backward(self, grad: Tensor) -> Tensor:
        dim = self.kwargs["dim"]
        x, out = self._input(0, self.x), self._result_tensor(self.out)
        # NOTE: backward's sums with tensor ops, log 0 as the dtype's lowest value (as
        # PyTorch's): with -inf, where a part of g is 0 at the end of the axis, the running
        # log-add-exp starts at -inf, and its own backward (-inf - -inf) gave wrong second
        # derivatives
        lowest = float(np.finfo(self.x.dtype).min)
        terms = []
        for sign in (1, -1):
            part = grad * sign
            positive = self._constant(part.data > 0)
            logs = part.where(positive, 1.0).log().where(positive, lowest)
            tail = (logs - out).flip(dim).logcumsumexp(dim).flip(dim)
            terms.append((tail + x).exp())
        return terms[0] - terms[1]


class Prod(Op):
    """Product over ``dim`` (an int, or None for all); d/dx_i = the product of the others.

    NOTE: the others' product comes from running products from both sides, not out / x,
    so that inputs with zeros get PyTorch's gradient.
    """

    def forward(self, x: Array, *, dim: int | None, keepdim: bool) -> Array:
        self.x = x
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(self, grad: Array) -> Array:
        xp, x, dim = get_array_module(grad), self.x, self.kwargs["dim"]
        rows = x.reshape(-1) if dim is None else xp.moveaxis(x, dim, -1)
        ones = xp.ones_like(rows[..., :1])
        before = xp.cumprod(xp.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
        after = xp.cumprod(xp.concatenate([ones, xp.flip(rows[..., 1:], -1)], axis=-1), axis=-1)
        others = before * xp.flip(after, -1)
        others = others.reshape(x.shape) if dim is None else xp.moveaxis(others, -1, dim)
        dims = None if dim is None else (dim,)
        return _expand_reduced(grad, x.shape, dims, self.kwargs["keepdim"]) * others

    def graph_backward(self, grad: Tensor) -> Tensor:
        dim, x = self.kwargs["dim"], self._input(0, self.x)
        rows = x.reshape(-1) if dim is None else x.movedim(dim, -1)
        last = rows.ndim - 1
        ones = self._constant(get_array_module(self.x).ones_like(rows.data[..., :1]))
        before = Cat.apply(ones, rows[..., :-1], dim=last).cumprod(last)
        after = Cat.apply(ones, rows[..., 1:].flip(last), dim=last).cumprod(last)
        others = before * after.flip(last)
        others = others.reshape(self.x.shape) if dim is None else others.movedim(-1, dim)
        return grad.reshape(_kept_shape(self.x.shape, None if dim is None else (dim,))) * others


class CumProd(Op):
    """Running products along ``dim``; d out_i / d x_k = out_i / x_k for i >= k.

    NOTE: written for zeros too: before a slice's first zero the quotient is exact (the
    later products are 0); at the first zero, the running products with it taken as 1
    give the derivative; after it every derivative is 0.
    """

    def forward(self, x: Array, *, dim: int) -> Array:
        self.x = x
        self.out = get_array_module(x).cumprod(x, axis=dim)
        return self.out

    def backward(self, grad: Array) -> Array:
        xp, dim, x = get_array_module(grad), self.kwargs["dim"], self.x
        zeros = x == 0
        seen = xp.cumsum(zeros, axis=dim)
        before, first = seen == 0, zeros & (seen == 1)

        def from_end(a: Array) -> Array:
            return xp.flip(xp.cumsum(xp.flip(a, axis=dim), axis=dim), axis=dim)

        quotient = from_end(grad * self.out) / xp.where(before, x, 1)
        at_zero = from_end(grad * xp.cumprod(xp.where(first, 1, x), axis=dim))
        return xp.where(before, quotient, xp.where(first, at_zero, 0))

    def graph_backward(self, grad: Tensor) -> Tensor:
        # NOTE: with a zero, the derivatives after it are 0 but their own derivatives are not;
        # the quotient form below is exact only without zeros.
        if (self.x == 0).any():
            raise NotImplementedError(
                "cumprod has no differentiable backward yet for inputs with zeros: "
                "create_graph=True does not work through it (nor through a derivative of prod, "
                "which uses cumprod, so prod of such inputs has second derivatives, no higher)"
            )
        dim, x = self.kwargs["dim"], self._input(0, self.x)
        from_end = (grad * self._result_tensor(self.out)).flip(dim).cumsum(dim).flip(dim)
        return from_end / x


class Norm(Op):
    """Euclidean norm over ``dim``; d/dx = x / norm, and 0 where the norm is 0 (as PyTorch)."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool) -> Array:
        self.x = x
        self.out = get_array_module(x).sqrt((x * x).sum(axis=dim, keepdims=keepdim))
        return self.out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        dim, keepdim = self.kwargs["dim"], self.kwargs["keepdim"]
        out = _expand_reduced(self.out, self.x.shape, dim, keepdim)
        grad = _expand_reduced(grad, self.x.shape, dim, keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(out == 0, 0, grad / out)
        return self.x * scale

    def graph_backward(self, grad: Tensor) -> Tensor:
        kept = _kept_shape(self.x.shape, self.kwargs["dim"])
        out = self._result_tensor(self.out).reshape(kept)
        nonzero = self._constant(out.data != 0)
        scale = (grad.reshape(kept) / out.where(nonzero, 1.0)).where(nonzero, 0.0)
        return self._input(0, self.x) * scale


class _Extreme(Op):
    """Shared backward of Max and Min: the gradient is split evenly among tied extremes."""

    x: Array
    out: Array

    def backward(self, grad: Array) -> Array:
        dim, keepdim = self.kwargs["dim"], self.kwargs["keepdim"]
        out = _expand_reduced(self.out, self.x.shape, dim, keepdim)
        grad = _expand_reduced(grad, self.x.shape, dim, keepdim)
        mask = self.x == out
        return grad * mask / mask.sum(axis=dim, keepdims=True)

    def graph_backward(self, grad: Tensor) -> Tensor:
        dim = self.kwargs["dim"]
        out = _expand_reduced(self.out, self.x.shape, dim, self.kwargs["keepdim"])
        mask = self.x == out
        share = self._constant((mask / mask.sum(axis=dim, keepdims=True)).astype(self.x.dtype))
        return grad.reshape(_kept_shape(self.x.shape, dim)) * share


class Max(_Extreme):
    """Maximum over ``dim``."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool) -> Array:
        self.x = x
        self.out = x.max(axis=dim, keepdims=keepdim)
        return self.out


class Min(_Extreme):
    """Minimum over ``dim``."""

    def forward(self, x: Array, *, dim: Dims, keepdim: bool) -> Array:
        self.x = x
        self.out = x.min(axis=dim, keepdims=keepdim)
        return self.out


class Softmax(Op):
    """exp(x) / sum(exp(x)) along ``dim``; dx = y * (g - sum(g * y)).

    NOTE: a primitive (not exp / sum) for stability: the max is subtracted first.
    """

    def forward(self, x: Array, *, dim: int) -> Array:
        xp = get_array_module(x)
        exps = xp.exp(x - max_keepdims(x, dim))
        self.out = exps / sum_keepdims(exps, dim)
        return self.out

    def backward(self, grad: Array) -> Array:
        grad_y = grad * self.out
        return grad_y - self.out * sum_keepdims(grad_y, self.kwargs["dim"])

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        grad_y = grad * out
        return grad_y - out * grad_y.sum(dim=self.kwargs["dim"], keepdim=True)


class LogSoftmax(Op):
    """x - log(sum(exp(x))) along ``dim``; dx = g - softmax(x) * sum(g).

    NOTE: a primitive for stability: no exp of large values, no log of 0.
    """

    def forward(self, x: Array, *, dim: int) -> Array:
        xp = get_array_module(x)
        shifted = x - max_keepdims(x, dim)
        self.out = shifted - xp.log(sum_keepdims(xp.exp(shifted), dim))
        return self.out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        return grad - xp.exp(self.out) * sum_keepdims(grad, self.kwargs["dim"])

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return grad - out.exp() * grad.sum(dim=self.kwargs["dim"], keepdim=True)
