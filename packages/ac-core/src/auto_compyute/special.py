"""Special functions, as in ``torch.special``: ``ac.special.gammaln(x)``, ``ac.special.ndtr(x)``."""

from __future__ import annotations

import math
from typing import Any

from auto_compyute._core import functions as _functions
from auto_compyute._core.ops import special as _ops
from auto_compyute._core.tensor import Tensor

erf, erfc, erfinv, logit, xlogy, sinc, exp2, expm1, log1p, round, logsumexp = (
    _functions.erf,
    _functions.erfc,
    _functions.erfinv,
    _functions.logit,
    _functions.xlogy,
    _functions.sinc,
    _functions.exp2,
    _functions.expm1,
    _functions.log1p,
    _functions.round,
    _functions.logsumexp,
)
expit = _functions.sigmoid
gammaln = _functions.lgamma
digamma = psi = _functions.digamma
polygamma = _functions.polygamma
multigammaln = _functions.mvlgamma
i0 = _functions.i0


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1, elementwise."""
    return _ops.I1.apply(input._floating())


def i0e(input: Tensor) -> Tensor:
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0."""
    return _ops.I0e.apply(input._floating())


def i1e(input: Tensor) -> Tensor:
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1."""
    return _ops.I1e.apply(input._floating())


def erfcx(input: Tensor) -> Tensor:
    """The scaled complementary error function exp(x**2) erfc(x), without the underflow of
    erfc for large x (about 1 / (x sqrt(pi)) there); inf below about -26.6."""
    return _ops.Erfcx.apply(input._floating())


def _pair(input: Any, other: Any, name: str) -> tuple[Tensor, Tensor]:
    """The two arguments as floating tensors of one dtype; either may be a number."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError(f"special.{name} needs at least one of its arguments to be a Tensor")
        other, input = other._other(input)
    else:
        input, other = input._other(other)
    return input._floating(), other._floating()


def zeta(input: Any, other: Any) -> Tensor:
    """The Hurwitz zeta function sum_k (q + k)**-x of x = ``input`` and q = ``other``
    (tensors or numbers, broadcast): inf at x = 1 and where q is 0 or a negative integer,
    NaN for x < 1. The gradient is -x zeta(x + 1, q) in q; as in PyTorch, x has none (its
    backward raises ``NotImplementedError``)."""
    x, q = _pair(input, other, "zeta")
    return _ops.Zeta.apply(x, q)


def gammainc(input: Any, other: Any) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x) of a = ``input`` and
    x = ``other`` (tensors or numbers, broadcast; a, x >= 0): the integral of
    t**(a - 1) exp(-t) / gamma(a) from 0 to x. The gradient is that density in x; as in
    PyTorch, a has none (its backward raises ``NotImplementedError``)."""
    a, x = _pair(input, other, "gammainc")
    return _ops.Gammainc.apply(a, x, upper=False)


def gammaincc(input: Any, other: Any) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) (see
    ``gammainc``), computed without cancellation where it is small."""
    a, x = _pair(input, other, "gammaincc")
    return _ops.Gammainc.apply(a, x, upper=True)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal distribution function Phi(x) = erfc(-x / sqrt(2)) / 2."""
    return (input._floating() * (-1 / math.sqrt(2))).erfc() * 0.5


def ndtri(input: Tensor) -> Tensor:
    """The inverse of ``ndtr`` on (0, 1), exact in both tails; -inf at 0, inf at 1."""
    return _ops.Ndtri.apply(input._floating())


def log_ndtr(input: Tensor) -> Tensor:
    """log(ndtr(x)), exact in both tails (no underflow to -inf for very negative x)."""
    return _ops.LogNdtr.apply(input._floating())


def xlog1py(input: Tensor, other: Any) -> Tensor:
    """Elementwise input * log1p(other), and 0 where input is 0 (whatever other is there);
    the gradient in input is log1p(other) also where input is 0, as in PyTorch."""
    a, b = input._other(other)
    a, b = a._floating(), b._floating()
    # NOTE: log1p(0) only where input is 0 and log1p(other) is not finite, so that neither
    # the value nor a gradient is NaN there
    return a * b.where((a != 0) | ((b > -1) & (b < math.inf)), 0.0).log1p()


def entr(input: Tensor) -> Tensor:
    """Elementwise entropy term: -x log(x) for x > 0, 0 at 0 and -inf below."""
    return _ops.Entr.apply(input._floating())


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Softmax along ``dim``, computed in ``dtype`` if given."""
    return (input if dtype is None else input.to(dtype=dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Log of the softmax along ``dim``, computed in ``dtype`` if given."""
    return (input if dtype is None else input.to(dtype=dtype)).log_softmax(dim)


__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]
