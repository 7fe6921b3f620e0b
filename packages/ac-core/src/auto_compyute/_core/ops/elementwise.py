"""Elementwise operations: arithmetic, math functions and activations.

Binary ops broadcast; the engine sums each gradient back to its input's shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from auto_compyute._core.autograd import Array, Op, may_overwrite
from auto_compyute._core.devices import get_array_module

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor


class Add(Op):
    """a + b; d/da = 1, d/db = 1."""

    def forward(self, a: Array, b: Array) -> Array:
        return a + b

    def backward(self, grad: Array) -> tuple[Array, Array]:
        return grad, grad

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


class Sub(Op):
    """a - b; d/da = 1, d/db = -1."""

    def forward(self, a: Array, b: Array) -> Array:
        return a - b

    def backward(self, grad: Array) -> tuple[Array, Array | None]:
        return grad, -grad if self.needs_grad[1] else None

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, -grad


class Mul(Op):
    """a * b; d/da = b, d/db = a."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        needs_a, needs_b = self.needs_grad
        return grad * self.b if needs_a else None, grad * self.a if needs_b else None

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad * self._input(1, self.b), grad * self._input(0, self.a)


class Div(Op):
    """a / b; d/da = 1 / b, d/db = -a / b**2."""

    def forward(self, a: Array, b: Array) -> Array:
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        grad_a = grad / self.b
        return grad_a, -grad_a * self.out if self.needs_grad[1] else None

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        grad_a = grad / self._input(1, self.b)
        return grad_a, -grad_a * self._result_tensor(self.out)


class Pow(Op):
    """a ** b for tensor exponents; d/da = b * a**(b-1), d/db = a**b * log(a)."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        needs_a, needs_b = self.needs_grad
        xp = get_array_module(self.a)
        grad_a = None
        if needs_a:  # NOTE: 0 where b == 0, as in PyTorch (not 0 * 0**-1 = NaN at a == 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_a = xp.where(self.b == 0, 0, grad * self.b * self.a ** (self.b - 1))
        if not needs_b:
            return grad_a, None
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a = xp.where(self.a > 0, xp.log(xp.where(self.a > 0, self.a, 1)), 0)
        return grad_a, grad * self.out * log_a

    def graph_backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_a, needs_b = self.needs_grad
        a, b = self._input(0, self.a), self._input(1, self.b)
        grad_a = None
        if needs_a:
            exponent = self._constant(self.b != 0)
            grad_a = (grad * b * a ** (b - 1).where(exponent, 1.0)).where(exponent, 0.0)
        if not needs_b:
            return grad_a, None
        positive = self._constant(self.a > 0)
        log_a = a.where(positive, 1.0).log().where(positive, 0.0)
        return grad_a, grad * self._result_tensor(self.out) * log_a


class PowScalar(Op):
    """x ** exponent for a constant exponent; d/dx = exponent * x**(exponent-1)."""

    def forward(self, x: Array, *, exponent: float) -> Array:
        self.x = x
        return x**exponent

    def backward(self, grad: Array) -> Array:
        exponent = self.kwargs["exponent"]
        if exponent == 2:
            return grad * 2 * self.x
        if exponent == 0:  # NOTE: as in PyTorch, not 0 * 0**-1 = NaN at x == 0
            return get_array_module(grad).zeros_like(grad)
        return grad * exponent * self.x ** (exponent - 1)

    def graph_backward(self, grad: Tensor) -> Tensor:
        exponent = self.kwargs["exponent"]
        if exponent == 0:
            return grad * 0
        return grad * exponent * self._input(0, self.x) ** (exponent - 1)


class Maximum(Op):
    """max(a, b); the gradient goes to the larger input, split evenly on ties."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        return get_array_module(a).maximum(a, b)

    def backward(self, grad: Array) -> tuple[Array, Array]:
        share = (self.a > self.b) + 0.5 * (self.a == self.b)
        return grad * share, grad * (1 - share)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        share = self._constant(((self.a > self.b) + 0.5 * (self.a == self.b)).astype(self.a.dtype))
        return grad * share, grad * (1 - share)


class Minimum(Op):
    """min(a, b); the gradient goes to the smaller input, split evenly on ties."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        return get_array_module(a).minimum(a, b)

    def backward(self, grad: Array) -> tuple[Array, Array]:
        share = (self.a < self.b) + 0.5 * (self.a == self.b)
        return grad * share, grad * (1 - share)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        share = self._constant(((self.a < self.b) + 0.5 * (self.a == self.b)).astype(self.a.dtype))
        return grad * share, grad * (1 - share)


class Where(Op):
    """condition ? a : b; the gradient flows to the input that was chosen."""

    def forward(self, condition: Array, a: Array, b: Array) -> Array:
        self.condition = condition
        return get_array_module(a).where(condition, a, b)

    def backward(self, grad: Array) -> tuple[None, Array, Array]:
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        return None, xp.where(self.condition, grad, zero), xp.where(self.condition, zero, grad)

    def graph_backward(self, grad: Tensor) -> tuple[None, Tensor, Tensor]:
        condition = self._constant(self.condition)
        return None, grad.where(condition, 0.0), grad.where(~condition, 0.0)


class Neg(Op):
    """-x; d/dx = -1."""

    def forward(self, x: Array) -> Array:
        return -x

    def backward(self, grad: Array) -> Array:
        return -grad

    def graph_backward(self, grad: Tensor) -> Tensor:
        return -grad


class Exp(Op):
    """exp(x); d/dx = exp(x)."""

    def forward(self, x: Array) -> Array:
        self.out = get_array_module(x).exp(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad * self.out

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._result_tensor(self.out)


class Log(Op):
    """log(x); d/dx = 1 / x."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, grad: Array) -> Array:
        return grad / self.x

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad / self._input(0, self.x)


class Log1p(Op):
    """log(1 + x), exact for small x; d/dx = 1 / (1 + x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).log1p(x)

    def backward(self, grad: Array) -> Array:
        return grad / (1 + self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad / (1 + self._input(0, self.x))


class Expm1(Op):
    """exp(x) - 1, exact for small x; d/dx = exp(x).

    NOTE: exp(x), not the result + 1 (PyTorch's), which is 0 wherever the result rounds to
    -1 (x < -17 in float32, -37 in float64) while exp(x) is not.
    """

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).expm1(x)

    def backward(self, grad: Array) -> Array:
        return grad * get_array_module(grad).exp(self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._input(0, self.x).exp()


class Reciprocal(Op):
    """1 / x; d/dx = -1 / x**2."""

    def forward(self, x: Array) -> Array:
        self.out = get_array_module(x).reciprocal(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return -grad * self.out * self.out

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return -grad * out * out


class Step(Op):
    """A piecewise-constant function (``sign``, ``floor``, ``ceil``, ``round``, ``trunc``):
    its gradient is 0, as in PyTorch."""

    def forward(self, x: Array, *, function: str) -> Array:
        return getattr(get_array_module(x), function)(x)

    def backward(self, grad: Array) -> Array:
        return get_array_module(grad).zeros_like(grad)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * 0


class Sqrt(Op):
    """sqrt(x); d/dx = 1 / (2 sqrt(x))."""

    def forward(self, x: Array) -> Array:
        self.out = get_array_module(x).sqrt(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad / (2 * self.out)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad / (2 * self._result_tensor(self.out))


class Abs(Op):
    """|x|; d/dx = sign(x) (0 at 0)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).abs(x)

    def backward(self, grad: Array) -> Array:
        return grad * get_array_module(grad).sign(self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._constant(get_array_module(self.x).sign(self.x))


class Sin(Op):
    """sin(x); d/dx = cos(x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).sin(x)

    def backward(self, grad: Array) -> Array:
        return grad * get_array_module(grad).cos(self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._input(0, self.x).cos()


class Cos(Op):
    """cos(x); d/dx = -sin(x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).cos(x)

    def backward(self, grad: Array) -> Array:
        return -grad * get_array_module(grad).sin(self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return -grad * self._input(0, self.x).sin()


class Tanh(Op):
    """tanh(x); d/dx = 1 - tanh(x)**2."""

    def forward(self, x: Array) -> Array:
        self.out = get_array_module(x).tanh(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad * (1 - self.out * self.out)

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return grad * (1 - out * out)


class Sigmoid(Op):
    """1 / (1 + exp(-x)); d/dx = sigmoid(x) (1 - sigmoid(x))."""

    def forward(self, x: Array) -> Array:
        self.out = logistic(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad * self.out * (1 - self.out)

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return grad * out * (1 - out)


def logistic(x: Array) -> Array:
    """The sigmoid 1 / (1 + exp(-x)) of an array, as a new array (also for 0-d x).

    NOTE: not 0.5 (tanh(x / 2) + 1), which rounds to 0 from about x = -17 in float32
    (-37 in float64) where the true value is e^x; exp(-x) overflows to inf below that
    range, and 1 / inf is the right 0.
    """
    xp = get_array_module(x)
    out = xp.negative(x, out=xp.empty_like(x))
    with np.errstate(over="ignore"):
        xp.exp(out, out=out)
    out += 1
    return xp.reciprocal(out, out=out)


class ReLU(Op):
    """max(x, 0); d/dx = 1 where x > 0, else 0.

    NOTE: keeps where x > 0 (a bool mask, a quarter of a float32 result), not the
    result, which is then freed during forward when the next op keeps none of it (max
    pooling keeps only its argmax).
    """

    def forward(self, x: Array) -> Array:
        self.positive = x > 0
        return get_array_module(x).maximum(x, 0)

    def backward(self, grad: Array) -> Array:
        if may_overwrite(grad):
            grad *= self.positive
            return grad
        return grad * self.positive

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._constant(self.positive)


class Clamp(Op):
    """x limited to [min, max]; d/dx = 1 inside the range, 0 outside."""

    def forward(self, x: Array, *, min: float | None, max: float | None) -> Array:
        self.mask = True
        if min is not None:
            self.mask = x >= min
        if max is not None:
            self.mask = self.mask & (x <= max)
        return get_array_module(x).clip(x, min, max)

    def backward(self, grad: Array) -> Array:
        return grad * self.mask

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._constant(get_array_module(grad.data).asarray(self.mask))


class Cast(Op):
    """x converted to another dtype; the gradient is converted back."""

    def forward(self, x: Array, *, dtype: object) -> Array:
        return x.astype(dtype)

    def backward(self, grad: Array) -> Array:
        return grad  # the engine casts it to the input's dtype

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad


class Copy(Op):
    """A copy of x (``clone``, ``contiguous``); d/dx = 1."""

    def forward(self, x: Array) -> Array:
        return get_array_module(x).array(x, copy=True, order="C")

    def backward(self, grad: Array) -> Array:
        return grad

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad
