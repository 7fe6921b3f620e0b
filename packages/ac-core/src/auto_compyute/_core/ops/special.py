"""Special functions: the log-gamma function, digamma and polygamma, the inverse error
function and the modified Bessel functions I0 and I1.

NumPy has none of them as ufuncs: each is computed in float64 with array code from a
published approximation (cited per function), and other dtypes are rounded back.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.ops.math import (
    _ERF_SATURATION,
    _ERFC_P,
    _ERFC_Q,
    _erfc_scaled_asymptotic,
    _polynomial,
    erf64,
    erfc64,
)

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor


def _in_float64(kernel: Callable[[Array], Array], x: Array) -> Array:
    """``kernel`` applied to ``x`` in float64, rounded back to the dtype of ``x``."""
    return kernel(x.astype("float64", copy=False)).astype(x.dtype, copy=False)


class Lgamma(Op):
    """log|gamma(x)|; d/dx = digamma(x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return _in_float64(lgamma64, x)

    def backward(self, grad: Array) -> Array:
        return grad * _in_float64(digamma64, self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * Digamma.apply(self._input(0, self.x))


class Digamma(Op):
    """digamma(x) = d/dx log gamma(x); d/dx = polygamma(1, x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return _in_float64(digamma64, x)

    def backward(self, grad: Array) -> Array:
        return grad * _in_float64(functools.partial(polygamma64, 1), self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * Polygamma.apply(self._input(0, self.x), n=1)


class Polygamma(Op):
    """The n-th derivative of digamma(x); d/dx = polygamma(n + 1, x)."""

    def forward(self, x: Array, *, n: int) -> Array:
        self.x = x
        return _in_float64(functools.partial(polygamma64, n), x)

    def backward(self, grad: Array) -> Array:
        return grad * _in_float64(functools.partial(polygamma64, self.kwargs["n"] + 1), self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * Polygamma.apply(self._input(0, self.x), n=self.kwargs["n"] + 1)


class Erfinv(Op):
    """The inverse of erf on (-1, 1); d/dx = sqrt(pi) / 2 exp(erfinv(x)**2)."""

    def forward(self, x: Array) -> Array:
        self.out = _in_float64(erfinv64, x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return grad * (math.sqrt(math.pi) / 2) * get_array_module(grad).exp(self.out * self.out)

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return grad * (math.sqrt(math.pi) / 2) * (out * out).exp()


class Ndtri(Op):
    """The inverse of the standard normal distribution function;
    d/dp = sqrt(2 pi) exp(ndtri(p)**2 / 2)."""

    def forward(self, p: Array) -> Array:
        self.out = _in_float64(ndtri64, p)
        return self.out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        return grad * math.sqrt(2 * math.pi) * xp.exp(self.out * self.out / 2)

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return grad * math.sqrt(2 * math.pi) * (out * out / 2).exp()


class LogNdtr(Op):
    """log of the standard normal distribution function, exact in both tails;
    d/dx = phi(x) / Phi(x) (see ``LogNdtrSlope``)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return _in_float64(log_ndtr64, x)

    def backward(self, grad: Array) -> Array:
        return grad * _in_float64(log_ndtr_slope64, self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * LogNdtrSlope.apply(self._input(0, self.x))


class LogNdtrSlope(Op):
    """phi(x) / Phi(x), the slope of log_ndtr; d/dx = -s (x + s) for the result s.

    NOTE: computed as sqrt(2 / pi) / erfcx(-x / sqrt(2)), not exp(-x**2 / 2 - log_ndtr(x)),
    which loses x**2 / 2 ulps of the exponent in the left tail: off by 1.4% at x = -1000
    in float32, by 30% at -1e8 in float64, and 0 beyond.
    """

    def forward(self, x: Array) -> Array:
        self.x = x
        self.out = _in_float64(log_ndtr_slope64, x)
        return self.out

    def backward(self, grad: Array) -> Array:
        return -grad * self.out * (self.x + self.out)

    def graph_backward(self, grad: Tensor) -> Tensor:
        out = self._result_tensor(self.out)
        return -grad * out * (self._input(0, self.x) + out)


class Entr(Op):
    """-x log(x) for x > 0, 0 at 0 and -inf below; d/dx = -(log(x) + 1), which is inf at 0
    and NaN below, as in PyTorch."""

    def forward(self, x: Array) -> Array:
        xp = get_array_module(x)
        self.x = x
        positive = x > 0
        inside = xp.where(positive, x, 1)
        log = xp.log(inside)
        self.log = xp.where(positive, log, xp.where(x == 0, -math.inf, math.nan))
        below = xp.where(x == 0, 0, xp.where(x < 0, -math.inf, x))  # NOTE: NaN stays NaN
        return xp.where(positive, -inside * log, below)

    def backward(self, grad: Array) -> Array:
        return -grad * (self.log + 1)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return -grad * (self._input(0, self.x).log() + 1)


class I0(Op):
    """The modified Bessel function of the first kind of order 0; d/dx = I1(x)."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return _in_float64(i0_64, x)

    def backward(self, grad: Array) -> Array:
        return grad * _in_float64(i1_64, self.x)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * I1.apply(self._input(0, self.x))


class I1(Op):
    """The modified Bessel function of the first kind of order 1;
    d/dx = I0(x) - I1(x) / x, and 1/2 at 0."""

    def forward(self, x: Array) -> Array:
        self.x = x
        return _in_float64(i1_64, x)

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        x = self.x.astype("float64", copy=False)
        with np.errstate(all="ignore"):  # NOTE: inf - inf beyond I0's overflow at 713
            slope = i0_64(x) - i1_64(x) / xp.where(x == 0, 1.0, x)
        slope = xp.where(x == 0, 0.5, xp.where(xp.abs(x) > 713.0, math.inf, slope))
        return grad * slope.astype(self.x.dtype, copy=False)

    def graph_backward(self, grad: Tensor) -> Tensor:
        x, nonzero = self._input(0, self.x), self._constant(self.x != 0)
        slope = I0.apply(x) - I1.apply(x) / x.where(nonzero, 1.0)
        return grad * slope.where(nonzero, 0.5)


# ----------------------------------------------------------------------------- log-gamma
# Cephes (S. L. Moshier, ``lgam``): log gamma(2 + r) = r B(r) / C(r) on 0 <= r < 1, reached
# by the recurrence gamma(x + 1) = x gamma(x), and Stirling's series with the coefficients
# A in 1/x**2 above 13. Coefficients from the highest power down; C has a leading 1.
_LGAMMA_A = (
    8.11614167470508450300e-4,
    -5.95061904284301438324e-4,
    7.93650340457716943945e-4,
    -2.77777777730099687205e-3,
    8.33333333333331927722e-2,
)
_LGAMMA_B = (
    -1.37825152569120859100e3,
    -3.88016315134637840924e4,
    -3.31612992738871184744e5,
    -1.16237097492762307383e6,
    -1.72173700820839662146e6,
    -8.53555664245765465627e5,
)
_LGAMMA_C = (
    1.0,
    -3.51815701436523470549e2,
    -1.70642106651881159223e4,
    -2.20528590553854454839e5,
    -1.13933444367982507207e6,
    -2.53252307177582951285e6,
    -2.01889141433532773231e6,
)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LGAMMA_OVERFLOW = 2.556348e305  # log gamma(x) > the largest float64 beyond


def lgamma64(x: Array) -> Array:
    """log|gamma(x)| of a float64 array, elementwise (Cephes' ``lgam``, relative error about
    1e-16 except near the zeros at 1 and 2 and between the negative integers, where the error
    is about 1e-16 absolute); +inf at the poles 0, -1, -2, ... and at +-inf."""
    xp = get_array_module(x)
    with np.errstate(all="ignore"):
        # NOTE: the reflection gamma(x) gamma(1 - x) = pi / sin(pi x) for x < 1/2, with the
        # sine taken of the distance to the nearest integer (exact), so large |x| keep it.
        reflect = x < 0.5
        y = xp.where(reflect, 1.0 - x, x)
        shifted = _lgamma_2_to_3(xp.clip(y, 0.5, 13.0))
        stirling = _lgamma_stirling(xp.clip(y, 13.0, _LGAMMA_OVERFLOW))
        value = xp.where(y < 13.0, shifted, stirling)
        distance = xp.abs(x - xp.round(x))
        log_sine = xp.log(xp.sin(math.pi * distance))  # -inf at the poles
        reflected = math.log(math.pi) - log_sine - value
        out = xp.where(reflect, reflected, value)
        return xp.where(xp.isinf(x) | (y > _LGAMMA_OVERFLOW), math.inf, out)


def _lgamma_2_to_3(y: Array) -> Array:
    """log gamma(y) for 0.5 <= y <= 13: shifted into [2, 3) by the recurrence."""
    xp = get_array_module(y)
    scale = xp.ones_like(y)
    for _ in range(2):  # [0.5, 2) up to [2, 3): gamma(y) = gamma(y + 1) / y
        below = y < 2.0
        scale = xp.where(below, scale / y, scale)
        y = xp.where(below, y + 1.0, y)
    for _ in range(11):  # [3, 13] down to [2, 3): gamma(y) = (y - 1) gamma(y - 1)
        above = y >= 3.0
        y = xp.where(above, y - 1.0, y)
        scale = xp.where(above, scale * y, scale)
    r = y - 2.0
    return xp.log(scale) + r * _polynomial(r, _LGAMMA_B) / _polynomial(r, _LGAMMA_C)


def _lgamma_stirling(y: Array) -> Array:
    """log gamma(y) for y >= 13 from Stirling's series."""
    xp = get_array_module(y)
    inverse = 1.0 / y
    series = _polynomial(inverse * inverse, _LGAMMA_A) * inverse
    return (y - 0.5) * xp.log(y) - y + _LOG_SQRT_2PI + series


# ------------------------------------------------------------------- digamma and polygamma
# Bernoulli numbers B_2, B_4, ..., B_24.
_BERNOULLI = (
    1 / 6,
    -1 / 30,
    1 / 42,
    -1 / 30,
    5 / 66,
    -691 / 2730,
    7 / 6,
    -3617 / 510,
    43867 / 798,
    -174611 / 330,
    854513 / 138,
    -236364091 / 2730,
)
# digamma(s) = log(s) - 1/(2s) - sum_k B_2k / (2k s**2k): B_2k / 2k for k = 7 down to 1.
_DIGAMMA_SERIES = tuple(b / (2 * k) for k, b in enumerate(_BERNOULLI[:7], 1))[::-1]
_DIGAMMA_SHIFT = 10  # the series is used from 10 up


def digamma64(x: Array) -> Array:
    """digamma(x) = gamma'(x) / gamma(x) of a float64 array, elementwise.

    Cephes' ``psi``: the recurrence digamma(x + 1) = digamma(x) + 1/x up to 10 or more, then
    the asymptotic series in Bernoulli numbers; below 0 the reflection
    digamma(x) = digamma(1 - x) - pi / tan(pi x). Relative error about 1e-15 (absolute near
    the zero at 1.4616 and those between the negative integers). -inf at +0, +inf at -0,
    NaN at the negative integers and -inf, as in PyTorch.
    """
    xp = get_array_module(x)
    with np.errstate(all="ignore"):
        reflect = x < 0
        s = xp.where(reflect, 1.0 - x, x)
        total = xp.zeros_like(s)
        for _ in range(_DIGAMMA_SHIFT):
            below = s < _DIGAMMA_SHIFT
            total = xp.where(below, total + 1.0 / s, total)
            s = xp.where(below, s + 1.0, s)
        inverse = 1.0 / s
        squared = inverse * inverse
        series = squared * _polynomial(squared, _DIGAMMA_SERIES)
        value = xp.log(s) - 0.5 * inverse - series - total
        value = xp.where(xp.isinf(s), math.inf, value)
        out = xp.where(reflect, value - math.pi * _cot_pi(x), value)
        out = xp.where(reflect & (x == xp.round(x)), math.nan, out)
        return xp.where(x == 0, xp.copysign(math.inf, -x), out)


def _cot_pi(x: Array) -> Array:
    """cot(pi x), from the distance r of x to the nearest integer (exact): 1 / tan(pi r) for
    |r| <= 1/4, and -tan(pi (r -+ 1/2)) (also exact arguments) nearer the half-integers."""
    xp = get_array_module(x)
    r = x - xp.round(x)
    return xp.where(
        xp.abs(r) <= 0.25,
        1.0 / xp.tan(math.pi * r),
        -xp.tan(math.pi * (r - xp.copysign(0.5, r))),
    )


POLYGAMMA_MAX_ORDER = 170


@functools.cache
def _cot_derivative(n: int) -> tuple[float, ...]:
    """Coefficients (lowest power first) of the polynomial P_n with
    d^n/dy^n cot(y) = P_n(cot(y)): P_0(c) = c and P_{n+1}(c) = -(1 + c**2) P_n'(c)."""
    coefficients = [0.0, 1.0]
    for _ in range(n):
        slope = [k * c for k, c in enumerate(coefficients)][1:]
        result = [0.0] * (len(slope) + 2)
        for k, c in enumerate(slope):
            result[k] -= c
            result[k + 2] -= c
        coefficients = result
    return tuple(coefficients)


def polygamma64(n: int, x: Array) -> Array:
    """The n-th derivative of digamma at a float64 array, elementwise (n >= 0).

    For n >= 1, polygamma(n, x) = (-1)**(n + 1) n! zeta(n + 1, x) with the Hurwitz zeta
    function summed as in Cephes' ``zeta``: 2n + 10 terms, then the Euler-Maclaurin tail
    with 12 Bernoulli terms (relative error about 1e-15). Below 0, the reflection
    polygamma(n, x) = (-1)**n polygamma(n, 1 - x) - pi**(n + 1) P_n(cot(pi x)), with P_n
    the polynomial of the n-th derivative of cot. At the poles 0, -1, -2, ...: +inf for odd
    n, -inf for even n >= 2 (as PyTorch). n is at most ``POLYGAMMA_MAX_ORDER`` (170), where
    n! still fits in float64.
    """
    if n == 0:
        return digamma64(x)
    xp = get_array_module(x)
    s = n + 1
    with np.errstate(all="ignore"):
        reflect = x < 0
        q = xp.where(reflect, 1.0 - x, x)
        zeta = xp.zeros_like(q)
        terms = 2 * n + 10
        for k in range(terms):
            zeta = zeta + (q + k) ** -s
        a = q + terms
        zeta = zeta + a ** (1 - s) / (s - 1) + 0.5 * a**-s
        rising, power, factorial = float(s), a**-s / a, 2.0  # s (s+1)..., a**(-s-2j+1), (2j)!
        for j, bernoulli in enumerate(_BERNOULLI, 1):
            zeta = zeta + bernoulli / factorial * rising * power
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            power = power / (a * a)
            factorial *= (2 * j + 1) * (2 * j + 2)
        sign = 1.0 if n % 2 else -1.0
        scale = float(math.factorial(n))
        value = sign * scale * zeta
        value = xp.where(xp.isinf(q), 0.0, value)
        derivative = _power_series(_cot_pi(x), _cot_derivative(n))
        reflected = -sign * value - math.pi ** (n + 1) * derivative
        out = xp.where(reflect, reflected, value)
        pole = (x <= 0) & (x == xp.round(x))
        return xp.where(pole, sign * math.inf, out)


def _power_series(x: Array, coefficients: tuple[float, ...]) -> Array:
    """Horner evaluation, coefficients from the lowest power up."""
    result = x * 0.0 + coefficients[-1]
    for c in coefficients[-2::-1]:
        result = result * x + c
    return result


# -------------------------------------------------------------- inverse error function
# M. Giles, "Approximating the erfinv function", GPU Computing Gems Jade Edition (2011): the
# single-precision polynomials in w = -log(1 - x**2), from the highest power down.
_ERFINV_CENTRAL = (
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
)
_ERFINV_TAIL = (
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
)
_ERFINV_NEWTON_STEPS = 4


def erfinv64(y: Array) -> Array:
    """The inverse error function of a float64 array, elementwise, to about 1e-16.

    Giles' single-precision approximation (relative error below 4e-7) refined by Newton
    steps: on erf(x) = y for |y| <= 1/2 and, to keep the tails exact, on
    log erfc(|x|) = log(1 - |y|) above (1 - |y| is exact there). +-inf at +-1, NaN beyond.
    """
    return _erfinv(y, 1.0 - get_array_module(y).abs(y))


def ndtri64(p: Array) -> Array:
    """The inverse of the standard normal distribution function of a float64 array,
    sqrt(2) erfinv(2p - 1), computed from 1 - |2p - 1| = 2 min(p, 1 - p) (exact) so that
    both tails keep their precision."""
    xp = get_array_module(p)
    return math.sqrt(2) * _erfinv(2.0 * p - 1.0, 2.0 * xp.minimum(p, 1.0 - p))


def _erfinv(y: Array, rest: Array) -> Array:
    """erfinv(y), with rest = 1 - |y| given to full precision (see ``erfinv64``)."""
    xp = get_array_module(y)
    with np.errstate(all="ignore"):
        w = -xp.log(rest * (2.0 - rest))
        central = _polynomial(w - 2.5, _ERFINV_CENTRAL)
        tail = _polynomial(xp.sqrt(w) - 3.0, _ERFINV_TAIL)
        # NOTE: beyond float32's range (1 - |y| < 1e-16), Giles' polynomial extrapolates
        # badly: there, x**2 + log(x sqrt(pi)) = -log(1 - |y|) solved once for x**2.
        log_rest = xp.log(rest)
        far = xp.sqrt(-log_rest - 0.5 * xp.log(-math.pi * log_rest))
        x = xp.where(w < 36.0, xp.where(w < 5.0, central, tail) * y, far * xp.sign(y))
        in_tail = xp.abs(y) > 0.5
        half_sqrt_pi = math.sqrt(math.pi) / 2
        for _ in range(_ERFINV_NEWTON_STEPS):
            distance = xp.abs(x)
            # erf' = 2/sqrt(pi) exp(-x^2); (log erfc)' = -2/sqrt(pi) / erfcx, erfcx the scaled
            # erfc(x) exp(x^2)
            step_central = (erf64(x) - y) * half_sqrt_pi * xp.exp(x * x)
            scaled = _erfc_scaled(distance)
            log_erfc = xp.log(scaled) - distance * distance
            step_tail = (log_rest - log_erfc) * scaled * half_sqrt_pi
            x = x - xp.where(in_tail, xp.where(y < 0, -step_tail, step_tail), step_central)
        x = xp.where(rest == 0.0, xp.copysign(math.inf, y), x)
        return xp.where((rest < 0.0) | xp.isnan(y), math.nan, x)


def _erfc_scaled(z: Array) -> Array:
    """exp(z**2) erfc(z) for z >= 0, without overflow or underflow (Cephes' erfc
    approximations with the factor exp(-z**2) left out)."""
    xp = get_array_module(z)
    inner = xp.minimum(z, 1.0)
    middle = xp.clip(z, 1.0, _ERF_SATURATION)
    return xp.where(
        z < 1.0,
        erfc64(inner) * xp.exp(inner * inner),
        xp.where(
            z < _ERF_SATURATION,
            _polynomial(middle, _ERFC_P) / _polynomial(middle, _ERFC_Q),
            _erfc_scaled_asymptotic(z),
        ),
    )


# ------------------------------------------------------------------ modified Bessel I0, I1
# Cephes (``i0``, ``i1``): Chebyshev series for exp(-x) I(x) on [0, 8] in x/2 - 2 and for
# exp(-x) sqrt(x) I(x) above 8 in 32/x - 2. Relative error about 1e-16.
_I0_A = (
    -4.41534164647933937950e-18,
    3.33079451882223809783e-17,
    -2.43127984654795469359e-16,
    1.71539128555513303061e-15,
    -1.16853328779934516808e-14,
    7.67618549860493561688e-14,
    -4.85644678311192946090e-13,
    2.95505266312963983461e-12,
    -1.72682629144155570723e-11,
    9.67580903537323691224e-11,
    -5.18979560163526290666e-10,
    2.65982372468238665035e-9,
    -1.30002500998624804212e-8,
    6.04699502254191894932e-8,
    -2.67079385394061173391e-7,
    1.11738753912010371815e-6,
    -4.41673835845875056359e-6,
    1.64484480707288970893e-5,
    -5.75419501008210370398e-5,
    1.88502885095841655729e-4,
    -5.76375574538582365885e-4,
    1.63947561694133579842e-3,
    -4.32430999505057594430e-3,
    1.05464603945949983183e-2,
    -2.37374148058994688156e-2,
    4.93052842396707084878e-2,
    -9.49010970480476444210e-2,
    1.71620901522208775349e-1,
    -3.04682672343198398683e-1,
    6.76795274409476084995e-1,
)
_I0_B = (
    -7.23318048787475395456e-18,
    -4.83050448594418207126e-18,
    4.46562142029675999901e-17,
    3.46122286769746109310e-17,
    -2.82762398051658348494e-16,
    -3.42548561967721913462e-16,
    1.77256013305652638360e-15,
    3.81168066935262242075e-15,
    -9.55484669882830764870e-15,
    -4.15056934728722208663e-14,
    1.54008621752140982691e-14,
    3.85277838274214270114e-13,
    7.18012445138366623367e-13,
    -1.79417853150680611778e-12,
    -1.32158118404477131188e-11,
    -3.14991652796324136454e-11,
    1.18891471078464383424e-11,
    4.94060238822496958910e-10,
    3.39623202570838634515e-9,
    2.26666899049817806459e-8,
    2.04891858946906374183e-7,
    2.89137052083475648297e-6,
    6.88975834691682398426e-5,
    3.36911647825569408990e-3,
    8.04490411014108831608e-1,
)
_I1_A = (
    2.77791411276104639959e-18,
    -2.11142121435816608115e-17,
    1.55363195773620046921e-16,
    -1.10559694773538630805e-15,
    7.60068429473540693410e-15,
    -5.04218550472791168711e-14,
    3.22379336594557470981e-13,
    -1.98397439776494371520e-12,
    1.17361862988909016308e-11,
    -6.66348972350202774223e-11,
    3.62559028155211703701e-10,
    -1.88724975172282928790e-9,
    9.38153738649577178388e-9,
    -4.44505912879632808065e-8,
    2.00329475355213526229e-7,
    -8.56872026469545474066e-7,
    3.47025130813767847674e-6,
    -1.32731636560394358279e-5,
    4.78156510755005422638e-5,
    -1.61760815825896745588e-4,
    5.12285956168575772895e-4,
    -1.51357245063125314899e-3,
    4.15642294431288815669e-3,
    -1.05640848946261981558e-2,
    2.47264490306265168283e-2,
    -5.29459812080949914269e-2,
    1.02643658689847095384e-1,
    -1.76416518357834055153e-1,
    2.52587186443633654823e-1,
)
_I1_B = (
    7.51729631084210481353e-18,
    4.41434832307170791151e-18,
    -4.65030536848935832153e-17,
    -3.20952592199342395980e-17,
    2.96262899764595013876e-16,
    3.30820231092092828324e-16,
    -1.88035477551078244854e-15,
    -3.81440307243700780478e-15,
    1.04202769841288027642e-14,
    4.27244001671195135429e-14,
    -2.10154184277266431302e-14,
    -4.08355111109219731823e-13,
    -7.19855177624590851209e-13,
    2.03562854414708950722e-12,
    1.41258074366137813316e-11,
    3.25260358301548823856e-11,
    -1.89749581235054123450e-11,
    -5.58974346219658380687e-10,
    -3.83538038596423702205e-9,
    -2.63146884688951950684e-8,
    -2.51223623787020892529e-7,
    -3.88256480887769039346e-6,
    -1.10588938762623716291e-4,
    -9.76109749136146840777e-3,
    7.78576235018280120474e-1,
)


def _chebyshev(x: Array, coefficients: tuple[float, ...]) -> Array:
    """Cephes' ``chbevl``: a Chebyshev series by Clenshaw's recurrence, highest term first."""
    b0, b1, b2 = x * 0.0 + coefficients[0], x * 0.0, x * 0.0
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _bessel_i(x: Array, small: tuple[float, ...], large: tuple[float, ...], odd: bool) -> Array:
    xp = get_array_module(x)
    with np.errstate(all="ignore"):
        distance = xp.abs(x)
        inner = xp.minimum(distance, 8.0)
        below = _chebyshev(inner / 2.0 - 2.0, small) * xp.exp(inner)
        if odd:
            below = below * inner
        outer = xp.maximum(distance, 8.0)
        # NOTE: exp(x) split in two halves: it overflows before I(x) does
        half = xp.exp(outer / 2.0)
        above = _chebyshev(32.0 / outer - 2.0, large) / xp.sqrt(outer) * half * half
        out = xp.where(distance <= 8.0, below, above)
        out = xp.where(xp.isinf(x), math.inf, out)
        return xp.copysign(out, x) if odd else out


def i0_64(x: Array) -> Array:
    """The modified Bessel function I0 of a float64 array, elementwise (Cephes' ``i0``)."""
    return _bessel_i(x, _I0_A, _I0_B, odd=False)


def i1_64(x: Array) -> Array:
    """The modified Bessel function I1 of a float64 array, elementwise (Cephes' ``i1``)."""
    return _bessel_i(x, _I1_A, _I1_B, odd=True)


# ------------------------------------------------------------------ log of the normal CDF
def log_ndtr_slope64(x: Array) -> Array:
    """phi(x) / Phi(x) = sqrt(2 / pi) / erfcx(-x / sqrt(2)) of a float64 array, elementwise,
    with erfcx(z) = exp(z**2) erfc(z): 0 where it overflows (x large), inf at x = -inf."""
    xp = get_array_module(x)
    with np.errstate(all="ignore"):
        z = -x / math.sqrt(2)
        below = xp.minimum(z, 0.0)
        scaled = xp.where(
            z >= 0.0, _erfc_scaled(xp.maximum(z, 0.0)), erfc64(below) * xp.exp(below * below)
        )
        return math.sqrt(2 / math.pi) / scaled


def log_ndtr64(x: Array) -> Array:
    """log Phi(x) = log(erfc(-x / sqrt(2)) / 2) of a float64 array, elementwise: log1p of
    -erfc(x / sqrt(2)) / 2 above 0, and below -sqrt(2) the log of the Cephes erfc
    approximations with exp(-z**2) taken out, so that it never underflows."""
    xp = get_array_module(x)
    with np.errstate(all="ignore"):
        z = -x / math.sqrt(2)
        right = xp.log1p(-0.5 * erfc64(xp.maximum(-z, 0.0)))
        middle = xp.log(0.5 * erfc64(z))
        left = xp.log(_erfc_scaled(xp.maximum(z, 1.0))) - z * z - math.log(2)
        out = xp.where(z <= 0.0, right, xp.where(z < 1.0, middle, left))
        return xp.where(x == -math.inf, -math.inf, out)
