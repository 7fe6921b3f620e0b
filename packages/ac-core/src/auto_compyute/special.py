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
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "i0",
    "i1",
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
]
