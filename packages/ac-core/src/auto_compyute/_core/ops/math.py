"""More elementwise math: trigonometric and hyperbolic functions and their inverses,
logarithms and powers of 2 and 10, the error function, and two-argument functions."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor


class Tan(Op):
    """tan(x); d/dx = 1 + tan(x)**2."""

    def forward(self, x: Array) -> Array:
        self.out = get_array_module(x).tan(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad * (1 + self.out * self.out)

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return grad * (1 + out * out)


class Asin(Op):
    """arcsin(x); d/dx = 1 / sqrt(1 - x**2)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).arcsin(x)

    def backward(self, grad: Array) -> Array:
        return grad / get_array_module(grad).sqrt(1 - self.x * self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad / (1 - x * x).sqrt()


class Acos(Op):
    """arccos(x); d/dx = -1 / sqrt(1 - x**2)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).arccos(x)

    def backward(self, grad: Array) -> Array:
        return -grad / get_array_module(grad).sqrt(1 - self.x * self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return -grad / (1 - x * x).sqrt()


class Atan(Op):
    """arctan(x); d/dx = 1 / (1 + x**2)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).arctan(x)

    def backward(self, grad: Array) -> Array:
        return grad / (1 + self.x * self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad / (1 + x * x)


class Sinh(Op):
    """sinh(x); d/dx = cosh(x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).sinh(x)

    def backward(self, grad: Array) -> Array:
        return grad * get_array_module(grad).cosh(self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._input(0, self.x).cosh()


class Cosh(Op):
    """cosh(x); d/dx = sinh(x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).cosh(x)

    def backward(self, grad: Array) -> Array:
        return grad * get_array_module(grad).sinh(self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._input(0, self.x).sinh()


class Asinh(Op):
    """arsinh(x); d/dx = 1 / sqrt(x**2 + 1)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).arcsinh(x)

    def backward(self, grad: Array) -> Array:
        return grad / get_array_module(grad).sqrt(self.x * self.x + 1)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad / (x * x + 1).sqrt()


class Acosh(Op):
    """arcosh(x); d/dx = 1 / sqrt(x**2 - 1)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).arccosh(x)

    def backward(self, grad: Array) -> Array:
        return grad / get_array_module(grad).sqrt(self.x * self.x - 1)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad / (x * x - 1).sqrt()


class Atanh(Op):
    """artanh(x); d/dx = 1 / (1 - x**2)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).arctanh(x)

    def backward(self, grad: Array) -> Array:
        return grad / (1 - self.x * self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad / (1 - x * x)


class Log2(Op):
    """log2(x); d/dx = 1 / (x ln 2)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).log2(x)

    def backward(self, grad: Array) -> Array:
        return grad / (self.x * math.log(2))

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad / (self._input(0, self.x) * math.log(2))


class Log10(Op):
    """log10(x); d/dx = 1 / (x ln 10)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return get_array_module(x).log10(x)

    def backward(self, grad: Array) -> Array:
        return grad / (self.x * math.log(10))

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad / (self._input(0, self.x) * math.log(10))


class Exp2(Op):
    """2**x; d/dx = 2**x ln 2."""

    def forward(self, x: Array) -> Array:
        self.out = get_array_module(x).exp2(x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad * self.out * math.log(2)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._result_tensor(self.out) * math.log(2)


class Erf(Op):
    """erf(x); d/dx = 2 / sqrt(pi) exp(-x**2).

    NOTE: NumPy has no erf: float64 gets Cephes' rational approximations (``erf64``),
    other dtypes are computed in float64 and rounded back.
    """

    def forward(self, x: Array) -> Array:
        self.x = x
        return erf64(x.astype("float64", copy=False)).astype(x.dtype, copy=False)

    def backward(self, grad: Array) -> Array:
        return grad * (2 / math.sqrt(math.pi)) * get_array_module(grad).exp(-self.x * self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad * (2 / math.sqrt(math.pi)) * (-x * x).exp()


class Erfc(Op):
    """erfc(x) = 1 - erf(x), exact in the right tail; d/dx = -2 / sqrt(pi) exp(-x**2)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return erfc64(x.astype("float64", copy=False)).astype(x.dtype, copy=False)

    def backward(self, grad: Array) -> Array:
        return grad * (-2 / math.sqrt(math.pi)) * get_array_module(grad).exp(-self.x * self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x = self._input(0, self.x)
        return grad * (-2 / math.sqrt(math.pi)) * (-x * x).exp()


class Atan2(Op):
    """atan2(y, x), the angle of the point (x, y); d/dy = x / r**2, d/dx = -y / r**2, and 0
    at the origin (as in PyTorch; the formula's 0 / 0 is NaN there)."""

    def forward(self, y: Array, x: Array) -> Array:
        self.y, self.x = y, x
        return get_array_module(y).arctan2(y, x)

    def backward(self, grad: Array) -> tuple[Array, Array]:
        xp = get_array_module(grad)
        squares = self.x * self.x + self.y * self.y
        scaled = grad / xp.where(squares == 0, 1, squares)
        return scaled * self.x, -scaled * self.y

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        y, x = self._input(0, self.y), self._input(1, self.x)
        origin = self._constant(self.x * self.x + self.y * self.y == 0)
        scaled = grad / (x * x + y * y).where(~origin, 1.0)
        return scaled * x, -scaled * y


class Hypot(Op):
    """sqrt(a**2 + b**2); d/da = a / hypot, d/db = b / hypot.

    NOTE: the gradients as grad times a / hypot (at most 1), not grad / hypot times a:
    1 / hypot overflows where hypot is subnormal (float32), which gave inf and NaN there.
    """

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        self.out = get_array_module(a).hypot(a, b)
        return self.out

    def backward(self, grad: Array) -> tuple[Array, Array]:
        return grad * (self.a / self.out), grad * (self.b / self.out)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        out = self._result_tensor(self.out)
        return grad * (self._input(0, self.a) / out), grad * (self._input(1, self.b) / out)


class LogAddExp(Op):
    """log(exp(a) + exp(b)) without overflow; d/da = sigmoid(a - b), d/db = sigmoid(b - a)."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        return get_array_module(a).logaddexp(a, b)

    def backward(self, grad: Array) -> tuple[Array, Array]:
        weight_a, weight_b = _log_add_exp_slopes(self.a, self.b, get_array_module(grad).exp)
        return grad * weight_a, grad * weight_b

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        difference = self._input(0, self.a) - self._input(1, self.b)
        return grad * difference.sigmoid(), grad * (-difference).sigmoid()


class LogAddExp2(Op):
    """log2(2**a + 2**b) without overflow; d/da = 1 / (1 + 2**(b - a)), d/db likewise."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a, self.b = a, b
        return get_array_module(a).logaddexp2(a, b)

    def backward(self, grad: Array) -> tuple[Array, Array]:
        weight_a, weight_b = _log_add_exp_slopes(self.a, self.b, get_array_module(grad).exp2)
        return grad * weight_a, grad * weight_b

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        difference = self._input(0, self.a) - self._input(1, self.b)
        return (
            grad * ((-difference).exp2() + 1).reciprocal(),
            grad * (difference.exp2() + 1).reciprocal(),
        )


def _log_add_exp_slopes(a: Array, b: Array, exp: Callable[[Array], Array]) -> tuple[Array, Array]:
    """1 / (1 + exp(b - a)) and 1 / (1 + exp(a - b)), the slopes of logaddexp (``exp``: exp)
    or logaddexp2 (``exp``: exp2), as PyTorch has them.

    NOTE: not exp(a - out): where a = b the result rounds to a for a huge a (1e38 in
    float32), which gave slopes 1 and 1, not 1/2 each; where a alone is infinite, inf - inf
    gave NaN, not 1 and 0. They stay NaN where both are infinite.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        difference = a - b
        return 1 / (1 + exp(-difference)), 1 / (1 + exp(difference))


class Fmax(Op):
    """The larger (``smaller``: the smaller) of a and b, ignoring a NaN unless both are NaN;
    the gradient goes to the chosen one: to a on ties and where b is NaN, as in PyTorch."""

    def forward(self, a: Array, b: Array, *, smaller: bool) -> Array:
        xp = get_array_module(a)
        self.a, self.b = a, b
        return xp.fmin(a, b) if smaller else xp.fmax(a, b)

    def _to_a(self) -> Array:
        a, b = self.a, self.b
        return ((a <= b) if self.kwargs["smaller"] else (a >= b)) | get_array_module(b).isnan(b)

    def backward(self, grad: Array) -> tuple[Array, Array]:
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        to_a = self._to_a()
        return xp.where(to_a, grad, zero), xp.where(to_a, zero, grad)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        to_a = self._to_a()
        return grad.where(self._constant(to_a), 0.0), grad.where(self._constant(~to_a), 0.0)


class Remainder(Op):
    """a mod b, with the sign of b (Python's %) or, ``truncate``d, of a (C's fmod);
    d/da = 1, d/db = -(a / b rounded down, or toward zero)."""

    def forward(self, a: Array, b: Array, *, truncate: bool) -> Array:
        xp = get_array_module(a)
        self.a, self.b = a, b
        return xp.fmod(a, b) if truncate else xp.remainder(a, b)

    def backward(self, grad: Array) -> tuple[Array, Array | None]:
        if not self.needs_grad[1]:
            return grad, None
        xp = get_array_module(grad)
        quotient = self.a / self.b
        rounded = xp.trunc(quotient) if self.kwargs["truncate"] else xp.floor(quotient)
        return grad, -grad * rounded

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        quotient = self.a / self.b
        xp = get_array_module(quotient)
        rounded = xp.trunc(quotient) if self.kwargs["truncate"] else xp.floor(quotient)
        return grad, -grad * self._constant(rounded)


# Cephes (S. L. Moshier) rational approximations of erf, relative error about 1e-16:
# erf(x) = x T(x^2) / U(x^2) for |x| < 1, and erf(x) = 1 - exp(-x^2) P(x) / Q(x) above.
# Coefficients from the highest power down; U and Q have a leading 1.
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
# Beyond |x| = 8, erfc(x) < 1e-28: erf is +-1 to double precision.
_ERF_SATURATION = 8.0


def _polynomial(x: Array, coefficients: tuple[float, ...]) -> Array:
    """Horner evaluation, coefficients from the highest power down."""
    result = x * coefficients[0] + coefficients[1]
    for c in coefficients[2:]:
        result = result * x + c
    return result


def erf64(x: Array) -> Array:
    """The error function of a float64 array, elementwise, to about 1e-16."""
    xp = get_array_module(x)
    inner = xp.clip(x, -1.0, 1.0)
    squared = inner * inner
    small = inner * _polynomial(squared, _ERF_T) / _polynomial(squared, _ERF_U)
    large = xp.copysign(1.0 - _erfc_above_1(xp.abs(x)), x)
    return xp.where(xp.abs(x) < 1.0, small, large)


def erfc64(x: Array) -> Array:
    """1 - erf(x) of a float64 array, elementwise, to about 1e-16 relative for x >= 1."""
    xp = get_array_module(x)
    tail = xp.where(x < _ERF_SATURATION, _erfc_above_1(x), _erfc_asymptotic(x))
    return xp.where(x < 1.0, 1.0 - erf64(x), tail)


def _erfc_above_1(x: Array) -> Array:
    """erfc(x) for 1 <= x <= 8 (x is clipped to that range)."""
    xp = get_array_module(x)
    x = xp.clip(x, 1.0, _ERF_SATURATION)
    return _exp_minus_square(x) * _polynomial(x, _ERFC_P) / _polynomial(x, _ERFC_Q)


def _erfc_asymptotic(x: Array) -> Array:
    """erfc(x) for x >= 8 (x is clipped below at 8) from its asymptotic series
    exp(-x**2) / (x sqrt(pi)) * sum_n (-1)**n (2n - 1)!! / (2 x**2)**n: at x = 8 its
    15th term is below 2e-16."""
    x = get_array_module(x).maximum(x, _ERF_SATURATION)
    return _exp_minus_square(x) * _erfc_scaled_asymptotic(x)


def _exp_minus_square(x: Array, sign: float = -1.0) -> Array:
    """exp(-x**2) (exp(x**2) with ``sign=1``) for x >= 0, without the rounding error of
    x**2, which exp would magnify x**2 times (Cephes' ``expx2``): x = m + f with m a
    multiple of 1/128, so that m**2 is exact."""
    xp = get_array_module(x)
    x = xp.minimum(x, 1e150)  # NOTE: exp(-x**2) is 0 long before; no inf - inf below
    m = xp.round(x * 128.0) / 128.0
    f = x - m
    return xp.exp(sign * m * m) * xp.exp(sign * (2.0 * m * f + f * f))


def _erfc_scaled_asymptotic(x: Array) -> Array:
    """exp(x**2) erfc(x) for x >= 8 (x is clipped below at 8); see ``_erfc_asymptotic``."""
    xp = get_array_module(x)
    x = xp.maximum(x, _ERF_SATURATION)
    inverse = 1.0 / (2.0 * x * x)
    term, total = xp.ones_like(x), xp.ones_like(x)
    for n in range(1, 16):
        term = term * (-(2 * n - 1) * inverse)
        total = total + term
    return total / (x * math.sqrt(math.pi))
