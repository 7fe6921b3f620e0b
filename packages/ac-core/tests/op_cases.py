"""One table of differentiable ops, shared by the NumPy, gradcheck and PyTorch-parity tests.

Each case names the op, the shapes of its inputs, how to draw them, and the same
computation written three ways: with our tensors, with NumPy and with PyTorch
(``xp`` is ``numpy`` or ``torch`` where the spelling is the same).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import auto_compyute as ac


@dataclass
class Case:
    name: str
    shapes: list[tuple[int, ...]]
    ours: Callable[..., Any]
    numpy: Callable[..., Any]
    torch: Callable[..., Any] | None = None
    low: float = -2.0
    high: float = 2.0
    # indices of inputs that are not differentiated (e.g. a boolean condition)
    constant: list[int] = field(default_factory=list)
    make: Callable[[np.random.Generator], list[np.ndarray]] | None = None

    def inputs(self, rng: np.random.Generator) -> list[np.ndarray]:
        if self.make is not None:
            return self.make(rng)
        return [rng.uniform(self.low, self.high, s) for s in self.shapes]


def _same(fn: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    return {"ours": fn, "numpy": fn, "torch": fn}


def _no_ties(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct values at least 0.01 apart, so max/min/relu have a unique, stable derivative."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size / 2) * 0.05 + 0.013


# rows pick columns 0-4 of a (3, 5) input, with repeats (their gradients add up)
_GATHER_INDEX = np.array([[0, 4, 4, 1], [2, 2, 2, 2], [3, 0, 1, 0]])


def _math(name: str, numpy: Callable[..., Any], low: float = -2.0, high: float = 2.0) -> Case:
    """A case for a unary math method with the same name in PyTorch."""
    method = lambda a: getattr(a, name)()  # noqa: E731
    return Case(name, [(3, 4)], ours=method, numpy=numpy, torch=method, low=low, high=high)


def _signed(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> Any:
    """Values in ±[low, high]."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# distinct places per column (dim 0) or per row (dim 1), so that scatter writes each once
_SCATTER_ROWS = np.array([[0, 4, 2, 1], [3, 0, 1, 2]])
_SCATTER_COLUMNS = np.array([[0, 2, 1], [2, 0, 0]])
_INDEX_ADD = np.array([0, 2, 0, 3, 1])
_TAKE_INDEX = np.array([[[3, 0, 1], [1, 1, 2]]])
# inner axes of a (3, 4, 5) input: more picks than places along dim 1 (so repeats), distinct
# places along dim 1 for scatter, and an index read along dim 0 of a (2, 1, 5) expanded
_INNER_INDEX = np.random.default_rng(11).integers(0, 4, (3, 6, 5))
_INNER_DISTINCT = np.argsort(np.random.default_rng(12).random((3, 4, 5)), axis=1)[:, :3]
_INNER_COLUMNS = np.array([[[0, 2, 1, 2, 0]], [[1, 1, 0, 2, 2]]])


def _scattered(a: np.ndarray, index: np.ndarray, src: Any, dim: int, add: bool) -> np.ndarray:
    out = a.copy()
    key = list(np.indices(index.shape, sparse=True))
    key[dim] = index
    src = np.broadcast_to(src, index.shape) if np.ndim(src) == 0 else src
    if add:
        np.add.at(out, tuple(key), src[tuple(slice(n) for n in index.shape)])
    else:
        out[tuple(key)] = src[tuple(slice(n) for n in index.shape)]
    return out


def _with_zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Values with one zero in the first row and two in the second (prod's special cases)."""
    a = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    a[0, 1] = 0.0
    a[1, 0] = a[1, 2] = 0.0
    return [a]


def _torch() -> Any:
    return __import__("torch")


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Bernoulli numbers B_2, B_4, ..., B_12, for the Euler-Maclaurin tails below
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)


def _polygamma_reference(n: int, x: np.ndarray, terms: int = 200) -> np.ndarray:
    """polygamma(n, x) by direct summation over x + k for k < ``terms`` (which also steps
    over negative x: no reflection) and the Euler-Maclaurin tail at a = x + terms."""
    shifted = x[..., None] + np.arange(terms)
    a = x + terms
    if n == 0:
        tail = np.log(a) - 0.5 / a
        for j, b in enumerate(_BERNOULLI, 1):
            tail -= b / (2 * j) * a ** (-2 * j)
        return tail - (1 / shifted).sum(-1)
    s = n + 1
    zeta = (shifted**-s).sum(-1) + a ** (1 - s) / (s - 1) + 0.5 * a**-s
    rising, factorial = s, 2
    for j, b in enumerate(_BERNOULLI, 1):
        zeta += b / factorial * rising * a ** (-s - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
    return (-1) ** (n + 1) * math.factorial(n) * zeta


def _erfinv_reference(y: float) -> float:
    """erfinv by bisection on math.erf."""
    low, high = -7.0, 7.0
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        low, high = (middle, high) if math.erf(middle) < y else (low, middle)
    return (low + high) / 2


def _i0_reference(x: np.ndarray) -> np.ndarray:
    """I0 by its power series sum_k (x**2 / 4)**k / k!**2 (all terms positive)."""
    term, total = np.ones_like(x), np.ones_like(x)
    for k in range(1, 80):
        term = term * (x * x / 4) / (k * k)
        total = total + term
    return total


def _i1_reference(x: np.ndarray) -> np.ndarray:
    """I1 by its power series x/2 sum_k (x**2 / 4)**k / (k! (k + 1)!)."""
    term = total = np.ones_like(x)
    for k in range(1, 80):
        term = term * (x * x / 4) / (k * (k + 1))
        total = total + term
    return x / 2 * total


def _off_integers(rng: np.random.Generator, shape: tuple[int, ...], low: int, high: int) -> Any:
    """Values in [low, high) at least 0.15 away from every integer (poles of the gamma family)."""
    return rng.integers(low, high, shape) + rng.uniform(0.15, 0.85, shape)


def _math_special(name: str, numpy: Callable[..., Any], **kwargs: Any) -> Case:
    """A case for a unary special function that is a method in PyTorch too."""
    method = lambda a: getattr(a, name)()  # noqa: E731
    return Case(name, [(3, 4)], ours=method, numpy=numpy, torch=method, **kwargs)


CASES = [
    # elementwise binary, with broadcasting
    Case("add", [(3, 4), (4,)], **_same(lambda a, b: a + b)),
    Case("add_scalar", [(3, 4)], **_same(lambda a: a + 2.5)),
    Case("radd_scalar", [(2, 3)], **_same(lambda a: 2.5 + a)),
    Case("sub", [(2, 1, 4), (3, 1)], **_same(lambda a, b: a - b)),
    Case("rsub_scalar", [(3,)], **_same(lambda a: 1.0 - a)),
    Case("mul", [(3, 4), (3, 1)], **_same(lambda a, b: a * b)),
    Case("mul_0d", [(), (2, 3)], **_same(lambda a, b: a * b)),
    Case("div", [(3, 4), (4,)], **_same(lambda a, b: a / b), low=0.5, high=2.0),
    Case("rdiv_scalar", [(3, 4)], **_same(lambda a: 2.0 / a), low=0.5, high=2.0),
    Case("neg", [(2, 3)], **_same(lambda a: -a)),
    Case("pow_scalar", [(3, 4)], **_same(lambda a: a**3)),
    Case("pow_square", [(3, 4)], **_same(lambda a: a**2)),
    Case("pow_fractional", [(3, 4)], **_same(lambda a: a**1.5), low=0.5, high=2.0),
    Case("pow_tensor", [(3, 4), (4,)], **_same(lambda a, b: a**b), low=0.5, high=2.0),
    Case("rpow_scalar", [(3,)], **_same(lambda a: 2.0**a)),
    Case(
        "maximum",
        [(3, 4), (4,)],
        ours=lambda a, b: ac.maximum(a, b),
        numpy=np.maximum,
        torch=lambda a, b: __import__("torch").maximum(a, b),
    ),
    Case(
        "minimum",
        [(3, 4), (3, 1)],
        ours=lambda a, b: ac.minimum(a, b),
        numpy=np.minimum,
        torch=lambda a, b: __import__("torch").minimum(a, b),
    ),
    Case(
        "where",
        [(3, 4), (3, 4), (4,)],
        ours=lambda c, a, b: ac.where(c > 0, a, b),
        numpy=lambda c, a, b: np.where(c > 0, a, b),
        torch=lambda c, a, b: __import__("torch").where(c > 0, a, b),
        constant=[0],
    ),
    # elementwise unary
    Case("exp", [(3, 4)], ours=lambda a: a.exp(), numpy=np.exp, torch=lambda a: a.exp()),
    Case(
        "log",
        [(3, 4)],
        ours=lambda a: a.log(),
        numpy=np.log,
        torch=lambda a: a.log(),
        low=0.2,
        high=3.0,
    ),
    Case(
        "sqrt",
        [(3, 4)],
        ours=lambda a: a.sqrt(),
        numpy=np.sqrt,
        torch=lambda a: a.sqrt(),
        low=0.2,
        high=3.0,
    ),
    Case(
        "abs",
        [(3, 4)],
        ours=lambda a: a.abs(),
        numpy=np.abs,
        torch=lambda a: a.abs(),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case("sin", [(3, 4)], ours=lambda a: a.sin(), numpy=np.sin, torch=lambda a: a.sin()),
    Case("cos", [(3, 4)], ours=lambda a: a.cos(), numpy=np.cos, torch=lambda a: a.cos()),
    Case("tanh", [(3, 4)], ours=lambda a: a.tanh(), numpy=np.tanh, torch=lambda a: a.tanh()),
    _math("tan", np.tan, -1.2, 1.2),
    _math("asin", np.arcsin, -0.9, 0.9),
    _math("acos", np.arccos, -0.9, 0.9),
    _math("atan", np.arctan),
    _math("sinh", np.sinh),
    _math("cosh", np.cosh),
    _math("asinh", np.arcsinh),
    _math("acosh", np.arccosh, 1.1, 3.0),
    _math("atanh", np.arctanh, -0.9, 0.9),
    _math("log2", np.log2, 0.2, 3.0),
    _math("log10", np.log10, 0.2, 3.0),
    _math("exp2", np.exp2),
    _math("erf", np.vectorize(math.erf), -3.0, 3.0),
    _math("erfc", np.vectorize(math.erfc), -3.0, 3.0),
    _math("logit", lambda p: np.log(p / (1 - p)), 0.1, 0.9),
    _math("sinc", np.sinc),
    _math("deg2rad", np.deg2rad, -200.0, 200.0),
    _math("rad2deg", np.rad2deg),
    _math("frac", lambda a: a - np.trunc(a), -3.0, 3.0),
    Case(
        "logit_eps",
        [(3, 4)],
        ours=lambda a: a.logit(eps=0.2),
        numpy=lambda a: np.log(np.clip(a, 0.2, 0.8) / (1 - np.clip(a, 0.2, 0.8))),
        torch=lambda a: a.logit(eps=0.2),
        make=lambda rng: [rng.permutation(np.linspace(0.01, 0.99, 12)).reshape(3, 4) + 0.003],
    ),
    Case(
        "xlogy",
        [(3, 4), (4,)],
        ours=lambda a, b: a.xlogy(b),
        numpy=lambda a, b: a * np.log(b),
        torch=lambda a, b: a.xlogy(b),
        low=0.2,
        high=3.0,
    ),
    Case(
        "copysign",
        [(3, 4), (4,)],
        ours=lambda a, b: a.copysign(b),
        numpy=np.copysign,
        torch=lambda a, b: a.copysign(b),
        make=lambda rng: [_signed(rng, (3, 4), 0.2, 2.0), _signed(rng, (4,), 0.2, 2.0)],
        constant=[1],  # only its signs count: no gradient (PyTorch gives zeros)
    ),
    Case(
        "addcmul",
        [(3, 4), (3, 4), (4,)],
        ours=lambda a, b, c: a.addcmul(b, c, value=0.5),
        numpy=lambda a, b, c: a + 0.5 * b * c,
        torch=lambda a, b, c: a.addcmul(b, c, value=0.5),
    ),
    Case(
        "addcdiv",
        [(3, 4), (3, 4), (4,)],
        ours=lambda a, b, c: a.addcdiv(b, c, value=-2),
        numpy=lambda a, b, c: a - 2 * b / c,
        torch=lambda a, b, c: a.addcdiv(b, c, value=-2),
        low=0.5,
        high=2.0,
    ),
    Case(
        "addmm",
        [(3, 5), (3, 4), (4, 5)],
        ours=lambda a, b, c: a.addmm(b, c, beta=0.5, alpha=2),
        numpy=lambda a, b, c: 0.5 * a + 2 * (b @ c),
        torch=lambda a, b, c: a.addmm(b, c, beta=0.5, alpha=2),
    ),
    Case(
        "tile",
        [(2, 3)],
        ours=lambda a: a.tile(2, 1, 2),
        numpy=lambda a: np.tile(a, (2, 1, 2)),
        torch=lambda a: a.tile(2, 1, 2),
    ),
    Case(
        "rot90",
        [(2, 3, 4)],
        ours=lambda a: a.rot90(1, (1, 2)),
        numpy=lambda a: np.rot90(a, 1, (1, 2)),
        torch=lambda a: a.rot90(1, (1, 2)),
    ),
    Case(
        "rot90_three",
        [(2, 3, 4)],
        ours=lambda a: a.rot90(-1, (2, 0)),
        numpy=lambda a: np.rot90(a, -1, (2, 0)),
        torch=lambda a: a.rot90(-1, (2, 0)),
    ),
    Case(
        "diagonal",
        [(2, 3, 4)],
        ours=lambda a: a.diagonal(1, 2, 0),
        numpy=lambda a: np.diagonal(a, 1, 2, 0),
        torch=lambda a: a.diagonal(1, 2, 0),
    ),
    Case(
        "cummax",
        [(3, 5)],
        ours=lambda a: a.cummax(1).values,
        numpy=lambda a: np.maximum.accumulate(a, axis=1),
        torch=lambda a: a.cummax(1).values,
        make=lambda rng: [_no_ties(rng, (3, 5))],
    ),
    Case(
        "cummin",
        [(3, 5)],
        ours=lambda a: a.cummin(0).values,
        numpy=lambda a: np.minimum.accumulate(a, axis=0),
        torch=lambda a: a.cummin(0).values,
        make=lambda rng: [_no_ties(rng, (3, 5))],
    ),
    Case(
        "atan2",
        [(3, 4), (4,)],
        ours=lambda a, b: a.atan2(b),
        numpy=np.arctan2,
        torch=lambda a, b: a.atan2(b),
    ),
    Case(
        "hypot",
        [(3, 4), (3, 1)],
        ours=lambda a, b: a.hypot(b),
        numpy=np.hypot,
        torch=lambda a, b: a.hypot(b),
        make=lambda rng: [_signed(rng, (3, 4), 0.2, 2.0), _signed(rng, (3, 1), 0.2, 2.0)],
    ),
    Case(
        "logaddexp",
        [(3, 4), (4,)],
        ours=lambda a, b: a.logaddexp(b),
        numpy=np.logaddexp,
        torch=lambda a, b: a.logaddexp(b),
    ),
    Case(
        "remainder",
        [(3, 4), (4,)],
        ours=lambda a, b: a % b,
        numpy=np.remainder,
        torch=lambda a, b: a % b,
        make=lambda rng: [rng.uniform(-3, 3, (3, 4)), _signed(rng, (4,), 0.7, 1.3)],
    ),
    Case(
        "fmod",
        [(3, 4), (4,)],
        ours=lambda a, b: a.fmod(b),
        numpy=np.fmod,
        torch=lambda a, b: a.fmod(b),
        make=lambda rng: [rng.uniform(-3, 3, (3, 4)), _signed(rng, (4,), 0.7, 1.3)],
    ),
    Case(
        "lerp",
        [(3, 4), (3, 4), (4,)],
        ours=lambda a, b, w: a.lerp(b, w),
        numpy=lambda a, b, w: a + w * (b - a),
        torch=lambda a, b, w: a.lerp(b, w),
        low=0.0,
        high=1.0,
    ),
    Case(
        "lerp_scalar_weight",
        [(3, 4), (4,)],
        ours=lambda a, b: a.lerp(b, 0.3),
        numpy=lambda a, b: a + 0.3 * (b - a),
        torch=lambda a, b: a.lerp(b, 0.3),
    ),
    Case(
        "clamp_min_method",
        [(4, 5)],
        ours=lambda a: a.clamp_min(0.1),
        numpy=lambda a: np.maximum(a, 0.1),
        torch=lambda a: a.clamp_min(0.1),
        make=lambda rng: [_no_ties(rng, (4, 5))],
    ),
    Case(
        "clamp_max_method",
        [(4, 5)],
        ours=lambda a: a.clamp_max(0.1),
        numpy=lambda a: np.minimum(a, 0.1),
        torch=lambda a: a.clamp_max(0.1),
        make=lambda rng: [_no_ties(rng, (4, 5))],
    ),
    Case(
        "nan_to_num",
        [(3, 4)],
        ours=lambda a: a.nan_to_num(),
        numpy=np.nan_to_num,
        torch=lambda a: a.nan_to_num(),
    ),
    Case(
        "where_method",
        [(3, 4), (4,)],
        ours=lambda a, b: a.where(a > 0, b),
        numpy=lambda a, b: np.where(a > 0, a, b),
        torch=lambda a, b: a.where(a > 0, b),
        make=lambda rng: [_no_ties(rng, (3, 4)), rng.uniform(-2, 2, (4,))],
    ),
    Case(
        "sigmoid",
        [(3, 4)],
        ours=lambda a: a.sigmoid(),
        numpy=lambda a: 1 / (1 + np.exp(-a)),
        torch=lambda a: a.sigmoid(),
        low=-6,
        high=6,
    ),
    Case(
        "relu",
        [(3, 4)],
        ours=lambda a: a.relu(),
        numpy=lambda a: np.maximum(a, 0),
        torch=lambda a: a.relu(),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "clamp",
        [(4, 5)],
        ours=lambda a: a.clamp(-0.3, 0.4),
        numpy=lambda a: np.clip(a, -0.3, 0.4),
        torch=lambda a: a.clamp(-0.3, 0.4),
        make=lambda rng: [_no_ties(rng, (4, 5))],
    ),
    Case(
        "clamp_min",
        [(4, 5)],
        ours=lambda a: a.clamp(min=0.1),
        numpy=lambda a: np.maximum(a, 0.1),
        torch=lambda a: a.clamp(min=0.1),
        make=lambda rng: [_no_ties(rng, (4, 5))],
    ),
    # reductions
    Case("sum_all", [(3, 4)], ours=lambda a: a.sum(), numpy=np.sum, torch=lambda a: a.sum()),
    Case(
        "sum_dim",
        [(2, 3, 4)],
        ours=lambda a: a.sum(dim=1),
        numpy=lambda a: a.sum(axis=1),
        torch=lambda a: a.sum(dim=1),
    ),
    Case(
        "sum_tuple_keepdim",
        [(2, 3, 4)],
        ours=lambda a: a.sum(dim=(0, -1), keepdim=True),
        numpy=lambda a: a.sum(axis=(0, -1), keepdims=True),
        torch=lambda a: a.sum(dim=(0, -1), keepdim=True),
    ),
    Case("mean_all", [(3, 4)], ours=lambda a: a.mean(), numpy=np.mean, torch=lambda a: a.mean()),
    Case(
        "mean_dim",
        [(2, 3, 4)],
        ours=lambda a: a.mean(dim=-1, keepdim=True),
        numpy=lambda a: a.mean(axis=-1, keepdims=True),
        torch=lambda a: a.mean(dim=-1, keepdim=True),
    ),
    Case(
        "var_dim",
        [(3, 5)],
        ours=lambda a: a.var(dim=1),
        numpy=lambda a: a.var(axis=1, ddof=1),
        torch=lambda a: a.var(dim=1),
    ),
    Case(
        "var_biased_all",
        [(3, 5)],
        ours=lambda a: a.var(correction=0),
        numpy=lambda a: a.var(),
        torch=lambda a: a.var(correction=0),
    ),
    Case(
        "var_unbiased_false_positional",
        [(3, 5)],
        ours=lambda a: a.var(False),
        numpy=lambda a: a.var(),
        torch=lambda a: a.var(False),
    ),
    Case(
        "std_unbiased_keyword",
        [(3, 5)],
        ours=lambda a: a.std(1, unbiased=False),
        numpy=lambda a: a.std(axis=1),
        torch=lambda a: a.std(1, unbiased=False),
    ),
    Case(
        "std_tuple",
        [(2, 3, 4)],
        ours=lambda a: a.std(dim=(0, 2), keepdim=True),
        numpy=lambda a: a.std(axis=(0, 2), ddof=1, keepdims=True),
        torch=lambda a: a.std(dim=(0, 2), keepdim=True),
    ),
    Case(
        "max_all",
        [(3, 4)],
        ours=lambda a: a.max(),
        numpy=np.max,
        torch=lambda a: a.max(),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "amax_dims",
        [(3, 4, 2)],
        ours=lambda a: a.amax(dim=(0, 2)),
        numpy=lambda a: a.max(axis=(0, 2)),
        torch=lambda a: a.amax(dim=(0, 2)),
        make=lambda rng: [_no_ties(rng, (3, 4, 2))],
    ),
    Case(
        "amin_dim_keepdim",
        [(3, 4)],
        ours=lambda a: ac.amin(a, dim=0, keepdim=True),
        numpy=lambda a: a.min(axis=0, keepdims=True),
        torch=lambda a: a.amin(dim=0, keepdim=True),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "max_dim_values",
        [(3, 4)],
        ours=lambda a: a.max(dim=1).values,
        numpy=lambda a: a.max(axis=1),
        torch=lambda a: a.max(dim=1).values,
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "min_dim_keepdim_values",
        [(3, 4)],
        ours=lambda a: ac.min(a, 0, keepdim=True)[0],
        numpy=lambda a: a.min(axis=0, keepdims=True),
        torch=lambda a: a.min(0, keepdim=True)[0],
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "softmax",
        [(3, 5)],
        ours=lambda a: a.softmax(dim=-1),
        numpy=lambda a: _softmax(a, -1),
        torch=lambda a: a.softmax(dim=-1),
    ),
    Case(
        "softmax_dim0",
        [(4, 2, 3)],
        ours=lambda a: ac.softmax(a, dim=0),
        numpy=lambda a: _softmax(a, 0),
        torch=lambda a: a.softmax(dim=0),
    ),
    Case(
        "log_softmax",
        [(3, 5)],
        ours=lambda a: a.log_softmax(dim=1),
        numpy=lambda a: np.log(_softmax(a, 1)),
        torch=lambda a: a.log_softmax(dim=1),
    ),
    # matrix products
    Case("matmul_2d", [(3, 4), (4, 5)], **_same(lambda a, b: a @ b)),
    Case("matmul_1d_1d", [(4,), (4,)], **_same(lambda a, b: a @ b)),
    Case("matmul_1d_2d", [(4,), (4, 3)], **_same(lambda a, b: a @ b)),
    Case("matmul_2d_1d", [(3, 4), (4,)], **_same(lambda a, b: a @ b)),
    Case("matmul_batched", [(2, 3, 4), (2, 4, 5)], **_same(lambda a, b: a @ b)),
    Case("matmul_broadcast", [(2, 1, 3, 4), (3, 4, 2)], **_same(lambda a, b: a @ b)),
    Case("matmul_3d_2d", [(2, 3, 4), (4, 5)], **_same(lambda a, b: a @ b)),
    Case("matmul_1d_3d", [(4,), (2, 4, 3)], **_same(lambda a, b: a @ b)),
    Case("matmul_3d_1d", [(2, 3, 4), (4,)], **_same(lambda a, b: a @ b)),
    Case(
        "einsum_matmul",
        [(3, 4), (4, 5)],
        ours=lambda a, b: ac.einsum("ij,jk->ik", a, b),
        numpy=lambda a, b: np.einsum("ij,jk->ik", a, b),
        torch=lambda a, b: __import__("torch").einsum("ij,jk->ik", a, b),
    ),
    Case(
        "einsum_batch_ellipsis",
        [(2, 3, 4), (2, 4)],
        ours=lambda a, b: ac.einsum("...ij,...j->...i", a, b),
        numpy=lambda a, b: np.einsum("...ij,...j->...i", a, b),
        torch=lambda a, b: __import__("torch").einsum("...ij,...j->...i", a, b),
    ),
    Case(
        "einsum_broadcast_batch",
        [(1, 3, 4), (2, 4, 5)],
        ours=lambda a, b: ac.einsum("...ij,...jk->...ik", a, b),
        numpy=lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
        torch=lambda a, b: __import__("torch").einsum("...ij,...jk->...ik", a, b),
    ),
    Case(
        "einsum_broadcast_contracted",
        [(3, 1), (4, 5)],
        ours=lambda a, b: ac.einsum("ij,jk->ik", a, b),
        numpy=lambda a, b: np.einsum("ij,jk->ik", a, b),
        torch=lambda a, b: __import__("torch").einsum("ij,jk->ik", a, b),
    ),
    Case(
        "einsum_implicit_outer_sum",
        [(3, 4), (5,)],
        ours=lambda a, b: ac.einsum("ij,k", a, b),
        numpy=lambda a, b: np.einsum("ij,k", a, b),
        torch=lambda a, b: __import__("torch").einsum("ij,k", a, b),
    ),
    Case(
        "einsum_reduce_only_operand",
        [(3, 4), (4,)],
        ours=lambda a, b: ac.einsum("ij,k->k", a, b),
        numpy=lambda a, b: np.einsum("ij,k->k", a, b),
        torch=lambda a, b: __import__("torch").einsum("ij,k->k", a, b),
    ),
    # movement
    Case(
        "reshape",
        [(2, 6)],
        ours=lambda a: a.reshape(3, -1),
        numpy=lambda a: a.reshape(3, -1),
        torch=lambda a: a.reshape(3, -1),
    ),
    Case(
        "view",
        [(2, 6)],
        ours=lambda a: a.view((4, 3)),
        numpy=lambda a: a.reshape(4, 3),
        torch=lambda a: a.view(4, 3),
    ),
    Case(
        "transpose",
        [(2, 3, 4)],
        ours=lambda a: a.transpose(0, 2),
        numpy=lambda a: a.swapaxes(0, 2),
        torch=lambda a: a.transpose(0, 2),
    ),
    Case(
        "permute",
        [(2, 3, 4)],
        ours=lambda a: a.permute(1, 2, 0),
        numpy=lambda a: a.transpose(1, 2, 0),
        torch=lambda a: a.permute(1, 2, 0),
    ),
    Case("T", [(2, 3)], ours=lambda a: a.T, numpy=lambda a: a.T, torch=lambda a: a.T),
    Case(
        "squeeze",
        [(2, 1, 3, 1)],
        ours=lambda a: a.squeeze(),
        numpy=np.squeeze,
        torch=lambda a: a.squeeze(),
    ),
    Case(
        "squeeze_dim",
        [(2, 1, 3, 1)],
        ours=lambda a: a.squeeze(1),
        numpy=lambda a: a.squeeze(1),
        torch=lambda a: a.squeeze(1),
    ),
    Case(
        "unsqueeze",
        [(2, 3)],
        ours=lambda a: a.unsqueeze(-1),
        numpy=lambda a: a[..., None],
        torch=lambda a: a.unsqueeze(-1),
    ),
    Case(
        "expand",
        [(3, 1)],
        ours=lambda a: a.expand(2, 3, 4),
        numpy=lambda a: np.broadcast_to(a, (2, 3, 4)),
        torch=lambda a: a.expand(2, 3, 4),
    ),
    Case(
        "expand_keep",
        [(3, 1)],
        ours=lambda a: a.expand(-1, 5),
        numpy=lambda a: np.broadcast_to(a, (3, 5)),
        torch=lambda a: a.expand(-1, 5),
    ),
    Case(
        "flatten",
        [(2, 3, 4)],
        ours=lambda a: a.flatten(1),
        numpy=lambda a: a.reshape(2, 12),
        torch=lambda a: a.flatten(1),
    ),
    Case("index_int", [(3, 4)], **_same(lambda a: a[1])),
    Case("index_slices", [(4, 5)], **_same(lambda a: a[1:3, ::2])),
    Case(
        "index_negative_step",
        [(5,)],
        ours=lambda a: a[::-1],
        numpy=lambda a: a[::-1],
        torch=lambda a: a.flip(0),
    ),
    Case(
        "index_repeated_integers",
        [(4, 3)],
        ours=lambda a: a[[0, 2, 0, 0]],
        numpy=lambda a: a[[0, 2, 0, 0]],
        torch=lambda a: a[[0, 2, 0, 0]],
    ),
    Case(
        "index_integer_tensor_pairs",
        [(4, 3)],
        ours=lambda a: a[ac.tensor([0, 1, 1]), ac.tensor([2, 2, 2])],
        numpy=lambda a: a[np.array([0, 1, 1]), np.array([2, 2, 2])],
        torch=lambda a: a[[0, 1, 1], [2, 2, 2]],
    ),
    Case(
        "index_mask",
        [(3, 4)],
        ours=lambda a: a[a > 0],
        numpy=lambda a: a[a > 0],
        torch=lambda a: a[a > 0],
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "index_ellipsis_none",
        [(2, 3, 4)],
        **_same(lambda a: a[..., None, 1]),
    ),
    Case(
        "cat",
        [(2, 3), (4, 3)],
        ours=lambda a, b: ac.cat([a, b], dim=0),
        numpy=lambda a, b: np.concatenate([a, b], axis=0),
        torch=lambda a, b: __import__("torch").cat([a, b], dim=0),
    ),
    Case(
        "cat_last",
        [(2, 3), (2, 1), (2, 2)],
        ours=lambda a, b, c: ac.cat([a, b, c], dim=-1),
        numpy=lambda a, b, c: np.concatenate([a, b, c], axis=-1),
        torch=lambda a, b, c: __import__("torch").cat([a, b, c], dim=-1),
    ),
    Case(
        "stack",
        [(2, 3), (2, 3)],
        ours=lambda a, b: ac.stack([a, b], dim=1),
        numpy=lambda a, b: np.stack([a, b], axis=1),
        torch=lambda a, b: __import__("torch").stack([a, b], dim=1),
    ),
    Case(
        "stack_three_3d",
        [(2, 3, 4), (2, 3, 4), (2, 3, 4)],
        ours=lambda a, b, c: (
            ac.stack([a, b * 2, c], dim=2) ** 2 * ac.stack([c, a, b]).permute(1, 2, 0, 3)
        ),
        numpy=lambda a, b, c: (
            np.stack([a, b * 2, c], axis=2) ** 2 * np.stack([c, a, b]).transpose(1, 2, 0, 3)
        ),
        torch=lambda a, b, c: (
            __import__("torch").stack([a, b * 2, c], dim=2) ** 2
            * __import__("torch").stack([c, a, b]).permute(1, 2, 0, 3)
        ),
    ),
    Case(
        "split_sizes",
        [(5, 2)],
        ours=lambda a: a.split([2, 3])[1] * 2 + a.split(2)[2].sum(),
        numpy=lambda a: a[2:] * 2 + a[4:].sum(),
        torch=lambda a: a.split([2, 3])[1] * 2 + a.split(2)[2].sum(),
    ),
    Case(
        "chunk",
        [(2, 7)],
        ours=lambda a: ac.chunk(a, 3, dim=1)[2],
        numpy=lambda a: a[:, 6:],
        torch=lambda a: a.chunk(3, dim=1)[2],
    ),
    Case(
        "pad",
        [(2, 3, 4)],
        ours=lambda a: ac.pad(a, (1, 2, 0, 1), value=0.5),
        numpy=lambda a: np.pad(a, ((0, 0), (0, 1), (1, 2)), constant_values=0.5),
        torch=lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 0, 1), value=0.5),
    ),
    Case("tril", [(4, 4)], ours=lambda a: a.tril(), numpy=np.tril, torch=lambda a: a.tril()),
    Case(
        "triu_offset_batched",
        [(2, 3, 4)],
        ours=lambda a: ac.triu(a, 1),
        numpy=lambda a: np.triu(a, 1),
        torch=lambda a: a.triu(1),
    ),
    Case(
        "masked_fill",
        [(3, 4)],
        ours=lambda a: a.masked_fill(a < 0, -1.0),
        numpy=lambda a: np.where(a < 0, -1.0, a),
        torch=lambda a: a.masked_fill(a < 0, -1.0),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    # selection, reordering and running sums
    Case(
        "gather_repeated",
        [(3, 5)],
        ours=lambda a: a.gather(1, _GATHER_INDEX),
        numpy=lambda a: np.take_along_axis(a, _GATHER_INDEX, 1),
        torch=lambda a: a.gather(1, __import__("torch").tensor(_GATHER_INDEX)),
    ),
    Case(
        "gather_shorter_index",
        [(4, 3)],
        ours=lambda a: ac.gather(a, 0, _GATHER_INDEX[:, :2] % 4),
        numpy=lambda a: np.take_along_axis(a[:, :2], _GATHER_INDEX[:, :2] % 4, 0),
        torch=lambda a: a.gather(0, __import__("torch").tensor(_GATHER_INDEX[:, :2] % 4)),
    ),
    Case(
        "gather_inner_dim_repeated",
        [(3, 4, 5)],
        ours=lambda a: a.gather(1, _INNER_INDEX),
        numpy=lambda a: np.take_along_axis(a, _INNER_INDEX, 1),
        torch=lambda a: a.gather(1, _torch().tensor(_INNER_INDEX)),
    ),
    Case(
        "gather_first_dim_shorter_index",
        [(3, 4, 5)],
        ours=lambda a: a.gather(0, _INNER_INDEX[:2, :3, :4] % 3),
        numpy=lambda a: np.take_along_axis(a[:, :3, :4], _INNER_INDEX[:2, :3, :4] % 3, 0),
        torch=lambda a: a.gather(0, _torch().tensor(_INNER_INDEX[:2, :3, :4] % 3)),
    ),
    Case(
        "gather_strided_input",
        [(5, 4, 3)],
        ours=lambda a: a.permute(2, 1, 0).gather(1, _INNER_INDEX[:, :, :2] % 4),
        numpy=lambda a: np.take_along_axis(
            a.transpose(2, 1, 0)[..., :2], _INNER_INDEX[..., :2] % 4, 1
        ),
        torch=lambda a: a.permute(2, 1, 0).gather(1, _torch().tensor(_INNER_INDEX[:, :, :2] % 4)),
    ),
    Case(
        "gather_expanded_index",
        [(2, 3, 5)],
        ours=lambda a: a.gather(1, ac.tensor(_INNER_COLUMNS).expand(2, 4, 5)),
        numpy=lambda a: np.take_along_axis(a, np.broadcast_to(_INNER_COLUMNS, (2, 4, 5)), 1),
        torch=lambda a: a.gather(1, _torch().tensor(_INNER_COLUMNS).expand(2, 4, 5)),
    ),
    Case(
        "sort_descending",
        [(3, 4)],
        ours=lambda a: a.sort(dim=1, descending=True).values,
        numpy=lambda a: np.sort(a, axis=1)[:, ::-1],
        torch=lambda a: a.sort(dim=1, descending=True).values,
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "topk",
        [(4, 3)],
        ours=lambda a: ac.topk(a, 2, dim=0).values,
        numpy=lambda a: np.sort(a, axis=0)[::-1][:2],
        torch=lambda a: a.topk(2, dim=0).values,
        make=lambda rng: [_no_ties(rng, (4, 3))],
    ),
    Case(
        "flip",
        [(2, 3, 4)],
        ours=lambda a: ac.flip(a, (0, 2)) * a,
        numpy=lambda a: np.flip(a, (0, 2)) * a,
        torch=lambda a: a.flip((0, 2)) * a,
    ),
    Case(
        "roll",
        [(3, 4)],
        ours=lambda a: a.roll((1, -3), (0, 1)),
        numpy=lambda a: np.roll(a, (1, -3), (0, 1)),
        torch=lambda a: a.roll((1, -3), (0, 1)),
    ),
    Case(
        "repeat",
        [(2, 3)],
        ours=lambda a: a.repeat(2, 1, 3),
        numpy=lambda a: np.tile(a, (2, 1, 3)),
        torch=lambda a: a.repeat(2, 1, 3),
    ),
    Case(
        "unbind",
        [(2, 3)],
        ours=lambda a: ac.unbind(a, 1)[2] * a.unbind(0)[0].sum(),
        numpy=lambda a: a[:, 2] * a[0].sum(),
        torch=lambda a: a.unbind(1)[2] * a.unbind(0)[0].sum(),
    ),
    Case(
        "cumsum",
        [(3, 4)],
        ours=lambda a: ac.cumsum(a, -1) * a,
        numpy=lambda a: np.cumsum(a, -1) * a,
        torch=lambda a: a.cumsum(-1) * a,
    ),
    # scatter, products, reordering and structure
    Case(
        "scatter_src",
        [(3, 5), (2, 4)],
        ours=lambda a, b: a.scatter(1, _SCATTER_ROWS, b),
        numpy=lambda a, b: _scattered(a, _SCATTER_ROWS, b, 1, add=False),
        torch=lambda a, b: a.scatter(1, _torch().tensor(_SCATTER_ROWS), b),
    ),
    Case(
        "scatter_value",
        [(3, 5)],
        ours=lambda a: ac.scatter(a, 0, _SCATTER_COLUMNS, value=2.5) * a,
        numpy=lambda a: _scattered(a, _SCATTER_COLUMNS, 2.5, 0, add=False) * a,
        torch=lambda a: a.scatter(0, _torch().tensor(_SCATTER_COLUMNS), 2.5) * a,
    ),
    Case(
        "scatter_add_repeated",
        [(3, 5), (3, 4)],
        ours=lambda a, b: a.scatter_add(1, _GATHER_INDEX, b),
        numpy=lambda a, b: _scattered(a, _GATHER_INDEX, b, 1, add=True),
        torch=lambda a, b: a.scatter_add(1, _torch().tensor(_GATHER_INDEX), b),
    ),
    Case(
        "scatter_inner_dims",
        [(3, 4, 5), (3, 6, 5)],
        ours=lambda a, b: (
            a.scatter(1, _INNER_DISTINCT, b) * a
            + a.scatter_add(1, _INNER_INDEX, b)
            + a.scatter_add(0, _INNER_INDEX[:2, :4] % 3, b[:2, :4])
        ),
        numpy=lambda a, b: (
            _scattered(a, _INNER_DISTINCT, b, 1, add=False) * a
            + _scattered(a, _INNER_INDEX, b, 1, add=True)
            + _scattered(a, _INNER_INDEX[:2, :4] % 3, b[:2, :4], 0, add=True)
        ),
        torch=lambda a, b: (
            a.scatter(1, _torch().tensor(_INNER_DISTINCT), b[:, :3]) * a
            + a.scatter_add(1, _torch().tensor(_INNER_INDEX), b)
            + a.scatter_add(0, _torch().tensor(_INNER_INDEX[:2, :4] % 3), b[:2, :4])
        ),
    ),
    Case(
        "index_add_inner_dim",
        [(2, 4, 3), (2, 5, 3)],
        ours=lambda a, b: a.index_add(1, ac.tensor(_INDEX_ADD), b),
        numpy=lambda a, b: _scattered(
            a, np.broadcast_to(_INDEX_ADD[:, None], (2, 5, 3)), b, 1, add=True
        ),
        torch=lambda a, b: a.index_add(1, _torch().tensor(_INDEX_ADD), b),
    ),
    # src larger than the index: PyTorch 2.13 computes it but fails in backward
    Case(
        "scatter_add_larger_src",
        [(3, 5), (4, 6)],
        ours=lambda a, b: a.scatter_add(1, _GATHER_INDEX, b) + a.scatter(1, _SCATTER_ROWS, b),
        numpy=lambda a, b: (
            _scattered(a, _GATHER_INDEX, b, 1, add=True)
            + _scattered(a, _SCATTER_ROWS, b, 1, add=False)
        ),
    ),
    Case(
        "index_add_alpha",
        [(4, 3), (5, 3)],
        ours=lambda a, b: ac.index_add(a, 0, ac.tensor(_INDEX_ADD), b, alpha=2),
        numpy=lambda a, b: _scattered(
            a, np.broadcast_to(_INDEX_ADD[:, None], (5, 3)), 2 * b, 0, add=True
        ),
        torch=lambda a, b: a.index_add(0, _torch().tensor(_INDEX_ADD), b, alpha=2),
    ),
    Case(
        "prod",
        [(3, 4)],
        ours=lambda a: a.prod(1) + ac.prod(a) + a.prod(0, keepdim=True).sum(),
        numpy=lambda a: a.prod(1) + a.prod() + a.prod(0, keepdims=True).sum(),
        torch=lambda a: a.prod(1) + a.prod() + a.prod(0, keepdim=True).sum(),
    ),
    Case(
        "prod_with_zeros",
        [(3, 4)],
        ours=lambda a: a.prod(1) * 2 + a.prod(),
        numpy=lambda a: a.prod(1) * 2 + a.prod(),
        torch=lambda a: a.prod(1) * 2 + a.prod(),
        make=lambda rng: _with_zeros(rng, (3, 4)),
    ),
    Case(
        "cumprod",
        [(3, 4)],
        ours=lambda a: ac.cumprod(a, 0) + a.cumprod(-1),
        numpy=lambda a: np.cumprod(a, 0) + np.cumprod(a, -1),
        torch=lambda a: a.cumprod(0) + a.cumprod(-1),
    ),
    Case(
        "cumprod_with_zeros",
        [(3, 4)],
        ours=lambda a: a.cumprod(1),
        numpy=lambda a: np.cumprod(a, 1),
        torch=lambda a: a.cumprod(1),
        make=lambda rng: _with_zeros(rng, (3, 4)),
    ),
    Case(
        "diff_prepend",
        [(4, 3), (1, 3)],
        ours=lambda a, b: a.diff(2, 0, prepend=b) + ac.diff(a, dim=0)[:3],
        numpy=lambda a, b: np.diff(a, 2, 0, prepend=b) + np.diff(a, axis=0)[:3],
        torch=lambda a, b: a.diff(2, 0, prepend=b) + a.diff(dim=0)[:3],
    ),
    Case(
        "movedim_swapaxes",
        [(2, 3, 4)],
        ours=lambda a: a.movedim((0, 1), (2, 0)) * ac.swapaxes(a, 0, 2).swapdims(0, 1),
        numpy=lambda a: np.moveaxis(a, (0, 1), (2, 0)) * np.swapaxes(a, 0, 2).swapaxes(0, 1),
        torch=lambda a: a.movedim((0, 1), (2, 0)) * a.swapaxes(0, 2).swapdims(0, 1),
    ),
    Case(
        "narrow",
        [(3, 4)],
        ours=lambda a: a.narrow(1, -3, 2)[1:] + ac.narrow(a, 0, 1, 2)[:, :2],
        numpy=lambda a: a[1:, 1:3] + a[1:3, :2],
        torch=lambda a: a.narrow(1, -3, 2)[1:] + a.narrow(0, 1, 2)[:, :2],
    ),
    Case(
        "take_along_dim_broadcast",
        [(3, 1, 4)],
        ours=lambda a: a.take_along_dim(ac.tensor(_TAKE_INDEX), 2),
        numpy=lambda a: np.take_along_axis(
            np.broadcast_to(a, (3, 2, 4)), np.broadcast_to(_TAKE_INDEX, (3, 2, 3)), 2
        ),
        torch=lambda a: a.take_along_dim(_torch().tensor(_TAKE_INDEX), 2),
    ),
    Case(
        "take_along_dim_flat",
        [(3, 4)],
        ours=lambda a: ac.take_along_dim(a, ac.tensor([11, 0, 11])),
        numpy=lambda a: a.reshape(-1)[[11, 0, 11]],
        torch=lambda a: a.take_along_dim(_torch().tensor([11, 0, 11])),
    ),
    Case(
        "tensordot",
        [(2, 3, 4), (4, 3, 5)],
        ours=lambda a, b: (
            ac.tensordot(a, b, ([1, 2], [1, 0])) + ac.tensordot(a, b[:, :, 0], 1).sum()
        ),
        numpy=lambda a, b: (
            np.tensordot(a, b, ([1, 2], [1, 0])) + np.tensordot(a, b[:, :, 0], 1).sum()
        ),
        torch=lambda a, b: (
            _torch().tensordot(a, b, ([1, 2], [1, 0])) + _torch().tensordot(a, b[:, :, 0], 1).sum()
        ),
    ),
    Case(
        "trace",
        [(3, 4)],
        ours=lambda a: a.trace() * a,
        numpy=lambda a: np.trace(a) * a,
        torch=lambda a: a.trace() * a,
    ),
    Case(
        "var_mean_std_mean",
        [(3, 4)],
        ours=lambda a: (
            ac.var_mean(a, 1, correction=0)[0] * ac.var_mean(a, 1)[1]
            + ac.std_mean(a, 0, keepdim=True)[0].sum() * ac.std_mean(a)[1]
        ),
        numpy=lambda a: a.var(1) * a.mean(1) + a.std(0, ddof=1, keepdims=True).sum() * a.mean(),
        torch=lambda a: (
            _torch().var_mean(a, 1, correction=0)[0] * _torch().var_mean(a, 1)[1]
            + _torch().std_mean(a, 0, keepdim=True)[0].sum() * _torch().std_mean(a)[1]
        ),
    ),
    Case(
        "median_kthvalue",
        [(3, 4)],
        ours=lambda a: (
            a.median(1).values + a.kthvalue(3, 0, keepdim=True).values.sum() + a.median()
        ),
        numpy=lambda a: np.sort(a, 1)[:, 1] + np.sort(a, 0)[2:3].sum() + np.sort(a, None)[5],
        torch=lambda a: (
            a.median(1).values + a.kthvalue(3, 0, keepdim=True).values.sum() + a.median()
        ),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "meshgrid_broadcast_tensors",
        [(3,), (2,), (3, 1)],
        ours=lambda a, b, c: (
            ac.meshgrid(a, b, indexing="xy")[0] * ac.meshgrid([a, b])[1].T
            + ac.broadcast_tensors(c, b)[0].T
        ),
        numpy=lambda a, b, c: (
            np.meshgrid(a, b, indexing="xy")[0] * np.meshgrid(a, b, indexing="ij")[1].T
            + np.broadcast_arrays(c, b)[0].T
        ),
        torch=lambda a, b, c: (
            _torch().meshgrid(a, b, indexing="xy")[0]
            * _torch().meshgrid([a, b], indexing="ij")[1].T
            + _torch().broadcast_tensors(c, b)[0].T
        ),
    ),
    Case(
        "hstack_vstack",
        [(2, 3), (2, 1), (4,)],
        ours=lambda a, b, v: ac.hstack([a, b]) * ac.vstack([v, ac.hstack([b[0], a[1]])]),
        numpy=lambda a, b, v: np.hstack([a, b]) * np.vstack([v, np.hstack([b[0], a[1]])]),
        torch=lambda a, b, v: (
            _torch().hstack([a, b]) * _torch().vstack([v, _torch().hstack([b[0], a[1]])])
        ),
    ),
    Case(
        "cdist",
        [(2, 4, 3), (2, 5, 3)],
        ours=lambda a, b: ac.cdist(a, b) + ac.cdist(a, b, p=1.0),
        numpy=lambda a, b: (
            np.sqrt(((a[:, :, None] - b[:, None]) ** 2).sum(-1))
            + np.abs(a[:, :, None] - b[:, None]).sum(-1)
        ),
        torch=lambda a, b: _torch().cdist(a, b) + _torch().cdist(a, b, p=1.0),
    ),
    # more elementwise math
    Case(
        "log1p",
        [(3, 4)],
        ours=lambda a: ac.log1p(a),
        numpy=np.log1p,
        torch=lambda a: a.log1p(),
        low=-0.5,
        high=2.0,
    ),
    Case(
        "expm1",
        [(3, 4)],
        ours=lambda a: ac.expm1(a),
        numpy=np.expm1,
        torch=lambda a: a.expm1(),
    ),
    Case(
        "reciprocal",
        [(3, 4)],
        ours=lambda a: a.reciprocal(),
        numpy=np.reciprocal,
        torch=lambda a: a.reciprocal(),
        low=0.5,
        high=2.0,
    ),
    Case(
        "rsqrt",
        [(3, 4)],
        ours=lambda a: a.rsqrt(),
        numpy=lambda a: 1 / np.sqrt(a),
        torch=lambda a: a.rsqrt(),
        low=0.5,
        high=2.0,
    ),
    Case(
        "steps_have_zero_gradient",  # inputs stay 0.1 away from the jumps
        [(3, 4)],
        ours=lambda a: a * (a.floor() + a.ceil() + ac.round(a) + a.trunc() + a.sign()),
        numpy=lambda a: a * (np.floor(a) + np.ceil(a) + np.round(a) + np.trunc(a) + np.sign(a)),
        torch=lambda a: a * (a.floor() + a.ceil() + a.round() + a.trunc() + a.sign()),
        make=lambda rng: [rng.integers(-3, 3, (3, 4)) + rng.choice([0.2, 0.35, 0.65, 0.8], (3, 4))],
    ),
    Case(
        "mm_t",
        [(3, 4), (3, 5)],
        ours=lambda a, b: a.t().mm(b),
        numpy=lambda a, b: a.T @ b,
        torch=lambda a, b: a.t().mm(b),
    ),
    Case(
        "bmm",
        [(2, 3, 4), (2, 4, 5)],
        ours=lambda a, b: ac.bmm(a, b),
        numpy=lambda a, b: a @ b,
        torch=lambda a, b: a.bmm(b),
    ),
    Case(
        "index_select_repeated",
        [(3, 4)],
        ours=lambda a: a.index_select(1, ac.tensor([3, 0, 3])),
        numpy=lambda a: a[:, [3, 0, 3]],
        torch=lambda a: a.index_select(1, __import__("torch").tensor([3, 0, 3])),
    ),
    Case(
        "index_select_inner_dim_and_rows",
        [(3, 4, 2)],
        ours=lambda a: (
            a.index_select(1, ac.tensor([3, 0, 3, 1])).sum(2)
            + a[ac.tensor([[2, -1], [0, 2]])].sum((0, 1, 3))
        ),
        numpy=lambda a: a[:, [3, 0, 3, 1]].sum(2) + a[np.array([[2, -1], [0, 2]])].sum((0, 1, 3)),
        torch=lambda a: (
            a.index_select(1, _torch().tensor([3, 0, 3, 1])).sum(2)
            + a[_torch().tensor([[2, -1], [0, 2]])].sum((0, 1, 3))
        ),
    ),
    Case(
        "masked_select_broadcast",
        [(3, 4)],
        ours=lambda a: a.masked_select(ac.tensor([True, False, True, True])),
        numpy=lambda a: a[:, [True, False, True, True]].reshape(-1),
        torch=lambda a: a.masked_select(__import__("torch").tensor([True, False, True, True])),
    ),
    Case(
        "diag_of_vector_and_matrix",
        [(3,), (3, 4)],
        ours=lambda v, m: ac.diag(v, 1)[:3, :4] * m + ac.diag(m, -1).sum(),
        numpy=lambda v, m: np.diag(v, 1)[:3, :4] * m + np.diag(m, -1).sum(),
        torch=lambda v, m: (
            __import__("torch").diag(v, 1)[:3, :4] * m + __import__("torch").diag(m, -1).sum()
        ),
    ),
    Case(
        "outer_dot",
        [(3,), (4,)],
        ours=lambda a, b: ac.outer(a, b) * ac.dot(a, a),
        numpy=lambda a, b: np.outer(a, b) * np.dot(a, a),
        torch=lambda a, b: __import__("torch").outer(a, b) * __import__("torch").dot(a, a),
    ),
    # norms and logsumexp
    Case(
        "logsumexp",
        [(3, 4)],
        ours=lambda a: ac.logsumexp(a * 30, 1),
        numpy=lambda a: np.log(np.exp(a * 30).sum(1)),
        torch=lambda a: (a * 30).logsumexp(1),
    ),
    Case(
        "logsumexp_dims_keepdim",
        [(2, 3, 4)],
        ours=lambda a: a.logsumexp((0, 2), keepdim=True),
        numpy=lambda a: np.log(np.exp(a).sum((0, 2), keepdims=True)),
        torch=lambda a: a.logsumexp((0, 2), keepdim=True),
    ),
    Case(
        "norm",
        [(3, 4)],
        ours=lambda a: ac.norm(a),
        numpy=lambda a: np.sqrt((a * a).sum()),
        torch=lambda a: a.norm(),
    ),
    Case(
        "norm_dim",
        [(3, 4)],
        ours=lambda a: a.norm(dim=1, keepdim=True),
        numpy=lambda a: np.sqrt((a * a).sum(1, keepdims=True)),
        torch=lambda a: a.norm(dim=1, keepdim=True),
    ),
    Case(
        "norm_p",
        [(3, 4)],
        ours=lambda a: a.norm(3, dim=0) + a.norm(1) + a.norm(float("inf"), dim=1).sum(),
        numpy=lambda a: (
            (np.abs(a) ** 3).sum(0) ** (1 / 3) + np.abs(a).sum() + np.abs(a).max(1).sum()
        ),
        torch=lambda a: a.norm(3, dim=0) + a.norm(1) + a.norm(float("inf"), dim=1).sum(),
        make=lambda rng: [_no_ties(rng, (3, 4))],
    ),
    Case(
        "square",
        [(3, 4)],
        ours=lambda a: ac.square(a),
        numpy=np.square,
        torch=lambda a: a.square(),
    ),
    # special functions
    _math_special(
        "lgamma",
        np.vectorize(math.lgamma),
        make=lambda rng: [_off_integers(rng, (3, 4), -4, 6)],
    ),
    _math_special(
        "digamma",
        lambda a: _polygamma_reference(0, a),
        make=lambda rng: [_off_integers(rng, (3, 4), -4, 6)],
    ),
    *(
        Case(
            f"polygamma_{n}",
            [(3, 4)],
            ours=lambda a, n=n: a.polygamma(n),
            numpy=lambda a, n=n: _polygamma_reference(n, a),
            torch=lambda a, n=n: a.polygamma(n),
            make=lambda rng: [_off_integers(rng, (3, 4), -3, 5)],
        )
        for n in (1, 2, 3)
    ),
    Case(
        "mvlgamma",
        [(3, 4)],
        ours=lambda a: ac.mvlgamma(a, 3),
        numpy=lambda a: (
            np.vectorize(math.lgamma)(a[..., None] - np.arange(3) / 2).sum(-1)
            + 1.5 * math.log(math.pi)
        ),
        torch=lambda a: a.mvlgamma(3),
        low=1.2,
        high=5.0,
    ),
    _math_special("erfinv", np.vectorize(_erfinv_reference), low=-0.95, high=0.95),
    _math_special("i0", _i0_reference, low=-4.0, high=4.0),
    Case(
        "special_i1",
        [(3, 4)],
        ours=lambda a: ac.special.i1(a),
        numpy=_i1_reference,
        torch=lambda a: _torch().special.i1(a),
        low=-4.0,
        high=4.0,
    ),
    Case(
        "special_ndtr",
        [(3, 4)],
        ours=lambda a: ac.special.ndtr(a),
        numpy=np.vectorize(lambda v: math.erfc(-v / math.sqrt(2)) / 2),
        torch=lambda a: _torch().special.ndtr(a),
        low=-4.0,
        high=4.0,
    ),
    Case(
        "special_ndtri",
        [(3, 4)],
        ours=lambda a: ac.special.ndtri(a),
        numpy=np.vectorize(lambda p: math.sqrt(2) * _erfinv_reference(2 * p - 1)),
        torch=lambda a: _torch().special.ndtri(a),
        low=0.05,
        high=0.95,
    ),
    Case(
        "special_log_ndtr",
        [(3, 4)],
        ours=lambda a: ac.special.log_ndtr(a),
        numpy=np.vectorize(lambda v: math.log(math.erfc(-v / math.sqrt(2)) / 2)),
        torch=lambda a: _torch().special.log_ndtr(a),
        low=-6.0,
        high=4.0,
    ),
    Case(
        "special_xlog1py",
        [(3, 4), (4,)],
        ours=lambda a, b: ac.special.xlog1py(a, b),
        numpy=lambda a, b: a * np.log1p(b),
        torch=lambda a, b: _torch().special.xlog1py(a, b),
        low=-0.5,
        high=2.0,
    ),
    Case(
        "special_entr",
        [(3, 4)],
        ours=lambda a: ac.special.entr(a),
        numpy=lambda a: -a * np.log(a),
        torch=lambda a: _torch().special.entr(a),
        low=0.1,
        high=3.0,
    ),
    # more elementwise functions
    Case(
        "logaddexp2",
        [(3, 4), (4,)],
        ours=lambda a, b: a.logaddexp2(b),
        numpy=np.logaddexp2,
        torch=lambda a, b: a.logaddexp2(b),
    ),
    Case(
        "fmax",
        [(3, 4), (3, 4)],
        ours=lambda a, b: a.fmax(b),
        numpy=np.fmax,
        torch=lambda a, b: a.fmax(b),
        make=lambda rng: list(_no_ties(rng, (2, 3, 4))),
    ),
    Case(
        "fmin",
        [(3, 4), (4,)],
        ours=lambda a, b: ac.fmin(a, b),
        numpy=np.fmin,
        torch=lambda a, b: a.fmin(b),
        make=lambda rng: [_no_ties(rng, (3, 4)), _no_ties(rng, (4,)) + 0.002],
    ),
    # NOTE: cast back, so that the float32 table tests see float32; the float64 ones don't cast
    Case(
        "float_power",
        [(3, 4), (4,)],
        ours=lambda a, b: ac.float_power(a, b).to(a.dtype),
        numpy=np.float_power,
        torch=lambda a, b: a.float_power(b).to(a.dtype),
        low=0.5,
        high=2.0,
    ),
    Case(
        "float_power_scalar",
        [(3, 4)],
        ours=lambda a: a.float_power(3).to(a.dtype),
        numpy=lambda a: np.float_power(a, 3),
        torch=lambda a: a.float_power(3).to(a.dtype),
    ),
    Case(
        "ldexp",
        [(3, 4), (4,)],
        ours=lambda a, b: a.ldexp(b),
        numpy=lambda a, b: a * 2.0**b,
        torch=lambda a, b: a.ldexp(b),
    ),
    # products
    Case(
        "mv",
        [(3, 4), (4,)],
        ours=lambda a, b: a.mv(b),
        numpy=np.matmul,
        torch=lambda a, b: a.mv(b),
    ),
    Case(
        "addmv",
        [(3,), (3, 4), (4,)],
        ours=lambda a, b, c: ac.addmv(a, b, c, beta=0.5, alpha=-2),
        numpy=lambda a, b, c: 0.5 * a + -2 * (b @ c),
        torch=lambda a, b, c: a.addmv(b, c, beta=0.5, alpha=-2),
    ),
    Case(
        "addr",
        [(3, 1), (3,), (4,)],
        ours=lambda a, b, c: a.addr(b, c, alpha=3),
        numpy=lambda a, b, c: a + 3 * np.outer(b, c),
        torch=lambda a, b, c: a.addr(b, c, alpha=3),
    ),
    Case(
        "baddbmm",
        [(4,), (2, 3, 5), (2, 5, 4)],
        ours=lambda a, b, c: a.baddbmm(b, c, beta=2, alpha=0.5),
        numpy=lambda a, b, c: 2 * a + 0.5 * (b @ c),
        torch=lambda a, b, c: a.baddbmm(b, c, beta=2, alpha=0.5),
    ),
    Case(
        "addbmm",
        [(3, 4), (2, 3, 5), (2, 5, 4)],
        ours=lambda a, b, c: ac.addbmm(a, b, c, beta=-1),
        numpy=lambda a, b, c: -a + (b @ c).sum(0),
        torch=lambda a, b, c: a.addbmm(b, c, beta=-1),
    ),
    Case(
        "addmm_beta_0",
        [(3, 5), (3, 4), (4, 5)],
        ours=lambda a, b, c: a.addmm(b, c, beta=0),
        numpy=lambda a, b, c: b @ c,
        torch=lambda a, b, c: a.addmm(b, c, beta=0),
    ),
    Case(
        "inner",
        [(2, 3), (4, 1, 3)],
        ours=lambda a, b: ac.inner(a, b),
        numpy=np.inner,
        torch=lambda a, b: a.inner(b),
    ),
    Case(
        "inner_0d",
        [(), (2, 3)],
        ours=lambda a, b: a.inner(b),
        numpy=np.inner,
        torch=lambda a, b: a.inner(b),
    ),
    Case(
        "vdot",
        [(5,), (5,)],
        ours=lambda a, b: ac.vdot(a, b),
        numpy=np.vdot,
        torch=lambda a, b: a.vdot(b),
    ),
    Case(
        "kron",
        [(2, 3), (3, 2)],
        ours=lambda a, b: a.kron(b),
        numpy=np.kron,
        torch=lambda a, b: a.kron(b),
    ),
    Case(
        "kron_ndims",
        [(2, 1, 3), (4,)],
        ours=lambda a, b: ac.kron(a, b),
        numpy=np.kron,
        torch=lambda a, b: a.kron(b),
    ),
    Case(
        "chain_matmul",
        [(2, 6), (6, 3), (3, 5), (5, 1)],
        ours=lambda a, b, c, d: ac.chain_matmul(a, b, c, d),
        numpy=lambda a, b, c, d: a @ b @ c @ d,
        torch=lambda a, b, c, d: _torch().linalg.multi_dot([a, b, c, d]),
    ),
    # a composite expression
    Case(
        "composite",
        [(3, 4), (4,)],
        **_same(lambda a, b: ((a * b + 1) ** 2 / (b * b + 1)).sum(-1) - a.mean()),
    ),
]

_INDEX_COPY = np.array([2, 0])
_REDUCE_INDEX = np.array([[0, 1, 0, 3], [2, 2, 2, 0], [1, 3, 1, 1]])


def _with_nans(rng: np.random.Generator, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Distinct values with NaN in some places: a whole row of NaN in the last row."""
    a = _no_ties(rng, shape)
    a[0, 1] = a[1, 0] = a[1, 3] = np.nan
    a[-1] = np.nan
    return [a]


def _ties(rng: np.random.Generator) -> list[np.ndarray]:
    """Values for scatter_reduce with amax/amin: ties between src values and with x."""
    x = rng.integers(-3, 3, (3, 4)).astype(np.float64)
    src = rng.integers(-3, 3, (3, 4)).astype(np.float64)
    return [x, src]


def _np_scatter_reduce(x, index, src, dim, reduce, include_self):
    """A slow, obviously right scatter_reduce with a Python loop over the places."""
    out = x.copy()
    groups: dict[tuple[int, ...], list[float]] = {}
    for pos in np.ndindex(index.shape):
        place = list(pos)
        place[dim] = index[pos]
        groups.setdefault(tuple(place), []).append(src[pos])
    for place, values in groups.items():
        values = ([x[place]] if include_self else []) + values
        out[place] = {
            "sum": np.sum,
            "prod": np.prod,
            "mean": np.mean,
            "amax": np.max,
            "amin": np.min,
        }[reduce](values)
    return out


def _scatter_reduce_case(reduce: str, include_self: bool, **kwargs: Any) -> Case:
    return Case(
        f"scatter_reduce_{reduce}_{'with' if include_self else 'without'}_self",
        [(3, 4), (3, 4)],
        ours=lambda a, b: a.scatter_reduce(1, _REDUCE_INDEX, b, reduce, include_self=include_self),
        numpy=lambda a, b: _np_scatter_reduce(a, _REDUCE_INDEX, b, 1, reduce, include_self),
        torch=lambda a, b: a.scatter_reduce(
            1, _torch().tensor(_REDUCE_INDEX), b, reduce, include_self=include_self
        ),
        **kwargs,
    )


def _put_np(a: np.ndarray, key: Any, values: Any) -> np.ndarray:
    out = a.copy()
    out[key] = values
    return out


def _masked_scatter_np(a: np.ndarray, mask: np.ndarray, source: np.ndarray) -> np.ndarray:
    out = a.copy()
    places = np.broadcast_to(mask, a.shape)
    out[places] = source[: places.sum()]
    return out


def _np_renorm(a: np.ndarray, p: float, dim: int, maxnorm: float) -> np.ndarray:
    axes = tuple(d for d in range(a.ndim) if d != dim)
    norms = (np.abs(a) ** p).sum(axes, keepdims=True) ** (1 / p)
    return a * np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


CASES += [
    # more shapes and joining
    Case(
        "broadcast_to_ravel_select_take",
        [(3, 1), (2, 3)],
        ours=lambda a, b: (
            a.broadcast_to(2, 3, 4) * ac.ravel(b).sum()
            + ac.select(b, 1, -1).sum()
            + ac.take(b, ac.tensor([[5, 0], [-1, 2]])).sum()
            + ac.broadcast_to(a, (3, 4)).narrow_copy(1, 1, 2).sum()
        ),
        numpy=lambda a, b: (
            np.broadcast_to(a, (2, 3, 4)) * b.ravel().sum()
            + b[:, -1].sum()
            + b.reshape(-1)[[[5, 0], [-1, 2]]].sum()
            + np.broadcast_to(a, (3, 4))[:, 1:3].sum()
        ),
        torch=lambda a, b: (
            a.broadcast_to(2, 3, 4) * b.ravel().sum()
            + b.select(1, -1).sum()
            + b.take(_torch().tensor([[5, 0], [-1, 2]])).sum()
            + a.broadcast_to((3, 4)).narrow_copy(1, 1, 2).sum()
        ),
    ),
    Case(
        "tensor_split_hsplit_vsplit_dsplit",
        [(5, 4, 2)],
        ours=lambda a: (
            ac.tensor_split(a, 3)[0].sum() * ac.tensor_split(a, [1, 3, 9], dim=1)[1]
            + a.hsplit(2)[1] * ac.vsplit(a, [4])[1].sum()
            + (ac.dsplit(a, 2)[0] * a.tensor_split(ac.tensor(2), 2)[1])[:, 1:3]
        )[:2],
        numpy=lambda a: (
            np.array_split(a, 3)[0].sum() * a[:, 1:3]
            + np.hsplit(a, 2)[1] * np.vsplit(a, [4])[1].sum()
            + (np.dsplit(a, 2)[0] * a[:, :, 1:])[:, 1:3]
        )[:2],
        torch=lambda a: (
            a.tensor_split(3)[0].sum() * a.tensor_split([1, 3, 9], dim=1)[1]
            + a.hsplit(2)[1] * a.vsplit([4])[1].sum()
            + (a.dsplit(2)[0] * a.tensor_split(_torch().tensor(2), 2)[1])[:, 1:3]
        )[:2],
    ),
    Case(
        "atleast_dstack_column_stack",
        [(), (3,), (3, 2)],
        ours=lambda s, v, m: (
            ac.atleast_3d(m) * ac.atleast_1d(s)
            + ac.atleast_2d(v, s)[0].T.unsqueeze(-1)
            + ac.dstack([m, m * v.reshape(3, 1)])[..., 1:]
            + ac.column_stack([v, m])[:, :2].unsqueeze(-1)
        ),
        numpy=lambda s, v, m: (
            np.atleast_3d(m) * np.atleast_1d(s)
            + np.atleast_2d(v).T[..., None]
            + np.dstack([m, m * v.reshape(3, 1)])[..., 1:]
            + np.column_stack([v, m])[:, :2, None]
        ),
        torch=lambda s, v, m: (
            _torch().atleast_3d(m) * _torch().atleast_1d(s)
            + _torch().atleast_2d(v, s)[0].T.unsqueeze(-1)
            + _torch().dstack([m, m * v.reshape(3, 1)])[..., 1:]
            + _torch().column_stack([v, m])[:, :2].unsqueeze(-1)
        ),
    ),
    Case(
        "repeat_interleave",
        [(2, 3)],
        ours=lambda a: (
            ac.repeat_interleave(a, 2)[3:9].reshape(2, 3)
            + a.repeat_interleave(ac.tensor([2, 0, 1]), dim=1).sum(1, keepdim=True)
            + a.repeat_interleave(ac.tensor([3, 1]), dim=0, output_size=4)[1:3]
        ),
        numpy=lambda a: (
            np.repeat(a, 2)[3:9].reshape(2, 3)
            + np.repeat(a, [2, 0, 1], axis=1).sum(1, keepdims=True)
            + np.repeat(a, [3, 1], axis=0)[1:3]
        ),
        torch=lambda a: (
            a.repeat_interleave(2)[3:9].reshape(2, 3)
            + a.repeat_interleave(_torch().tensor([2, 0, 1]), dim=1).sum(1, keepdim=True)
            + a.repeat_interleave(_torch().tensor([3, 1]), dim=0, output_size=4)[1:3]
        ),
    ),
    Case(
        "block_diag_cartesian_prod_combinations",
        [(2, 3), (2,), (3,)],
        ours=lambda m, v, w: (
            ac.block_diag(m, v, w[0]).sum(0)[:5]
            + ac.cartesian_prod(v, w)[:5, 0] * ac.cartesian_prod(w).sum()
            + ac.combinations(w, 2).prod(1).sum()
            + ac.combinations(v, 2, with_replacement=True)[:, 1].sum()
        ),
        numpy=lambda m, v, w: (
            np.concatenate([m.sum(0), v, [w[0]]])[:5]
            + np.repeat(v, 3)[:5] * w.sum()
            + (w[0] * w[1] + w[0] * w[2] + w[1] * w[2])
            + (v[0] + 2 * v[1])
        ),
        torch=lambda m, v, w: (
            _torch().block_diag(m, v, w[0]).sum(0)[:5]
            + _torch().cartesian_prod(v, w)[:5, 0] * _torch().cartesian_prod(w).sum()
            + _torch().combinations(w, 2).prod(1).sum()
            + _torch().combinations(v, 2, with_replacement=True)[:, 1].sum()
        ),
    ),
    Case(
        "diag_embed_diagflat",
        [(2, 3)],
        ours=lambda a: (
            ac.diag_embed(a, 1, 0, 2).sum(1)[:2, :2]
            + a.diag_embed(-1, -1, -2)[:, :2, :2].sum(-1).T
            + ac.diagflat(a)[:2, :2]
        ),
        numpy=lambda a: (
            np.stack([np.diag(r, 1) for r in a], 1).sum(1)[:2, :2]
            + np.stack([np.diag(r, -1).T for r in a])[:, :2, :2].sum(-1).T
            + np.diagflat(a)[:2, :2]
        ),
        torch=lambda a: (
            _torch().diag_embed(a, 1, 0, 2).sum(1)[:2, :2]
            + a.diag_embed(-1, -1, -2)[:, :2, :2].sum(-1).T
            + _torch().diagflat(a)[:2, :2]
        ),
    ),
    # PyTorch 2.13 fails in vander's backward (an in-place change of a saved tensor)
    Case(
        "vander",
        [(4,)],
        ours=lambda v: ac.vander(v, 3) * 2 + ac.vander(v, increasing=True)[:, 1:],
        numpy=lambda v: np.vander(v, 3) * 2 + np.vander(v, increasing=True)[:, 1:],
        make=lambda rng: [np.array([1.5, -0.5, 0.0, 2.0])],
    ),
    # more indexing and scatter
    Case(
        "index_copy_index_fill",
        [(3, 4), (3, 2), ()],
        ours=lambda a, b, c: (
            ac.index_copy(a, 1, ac.tensor(_INDEX_COPY), b)
            + a.index_fill(0, ac.tensor([1]), -1.5) * a
            + a.index_fill(1, ac.tensor([3, 0]), c)
        ),
        numpy=lambda a, b, c: (
            np.concatenate([b[:, 1:], a[:, 1:2], b[:, :1], a[:, 3:]], 1)
            + np.where(np.arange(3)[:, None] == 1, -1.5, a) * a
            + np.where(np.isin(np.arange(4), [3, 0]), c, a)
        ),
        torch=lambda a, b, c: (
            _torch().index_copy(a, 1, _torch().tensor(_INDEX_COPY), b)
            + a.index_fill(0, _torch().tensor([1]), -1.5) * a
            + a.index_fill(1, _torch().tensor([3, 0]), c)
        ),
    ),
    Case(
        "index_put_masked_scatter",
        [(3, 4), (2,), (5,)],
        ours=lambda a, v, s: (
            ac.index_put(a, (ac.tensor([0, 2]), ac.tensor([1, 3])), v)
            + a.index_put((ac.tensor([1, 1, 0]),), v[:1], accumulate=True) * a
            + a.index_put([ac.tensor([True, False, True])], v[1], accumulate=True)
            + ac.masked_scatter(a, ac.tensor([True, False, False, True]), s[:3].repeat(3))
        ),
        numpy=lambda a, v, s: (
            _put_np(a, (np.array([0, 2]), np.array([1, 3])), v)
            + (a + np.array([[1], [2], [0]]) * v[:1]) * a
            + (a + np.array([[1], [0], [1]]) * v[1])
            + _masked_scatter_np(a, np.array([True, False, False, True]), np.tile(s[:3], 3))
        ),
        torch=lambda a, v, s: (
            a.index_put((_torch().tensor([0, 2]), _torch().tensor([1, 3])), v)
            + a.index_put((_torch().tensor([1, 1, 0]),), v[:1], accumulate=True) * a
            + a.index_put([_torch().tensor([True, False, True])], v[1], accumulate=True)
            + a.masked_scatter(_torch().tensor([True, False, False, True]), s[:3].repeat(3))
        ),
    ),
    _scatter_reduce_case("sum", True),
    _scatter_reduce_case("sum", False),
    _scatter_reduce_case("mean", True),
    _scatter_reduce_case("mean", False),
    _scatter_reduce_case(
        "amax", True, make=lambda rng: [_no_ties(rng, (3, 4)), _no_ties(rng, (3, 4))]
    ),
    _scatter_reduce_case(
        "amin", False, make=lambda rng: [_no_ties(rng, (3, 4)), _no_ties(rng, (3, 4))]
    ),
    _scatter_reduce_case("prod", True),
    _scatter_reduce_case("prod", False),
    # reductions and statistics
    Case(
        "nansum_nanmean_nanmedian",
        [(3, 4)],
        ours=lambda a: (
            ac.nansum(a, 1)[:2]
            + a[:2].nanmean(1) * ac.nansum(a)
            + a.nanmedian(1).values[:2]
            + a[:2].nanmedian()
            + ac.nanmedian(a, 0, keepdim=True)[0][0, :2]
        ),
        numpy=lambda a: (
            np.nansum(a, 1)[:2]
            + np.nanmean(a[:2], 1) * np.nansum(a)
            + np.array([np.sort(r[~np.isnan(r)])[(np.sum(~np.isnan(r)) - 1) // 2] for r in a[:2]])
            + np.sort(a[:2][~np.isnan(a[:2])])[(np.sum(~np.isnan(a[:2])) - 1) // 2]
            + np.array([np.sort(c[~np.isnan(c)])[(np.sum(~np.isnan(c)) - 1) // 2] for c in a.T[:2]])
        ),
        torch=lambda a: (
            a.nansum(1)[:2]
            + a[:2].nanmean(1) * a.nansum()
            + a.nanmedian(1).values[:2]
            + a[:2].nanmedian()
            + _torch().nanmedian(a, 0, keepdim=True)[0][0, :2]
        ),
        make=lambda rng: _with_nans(rng, (3, 4)),
    ),
    Case(
        "quantile_interpolations",
        [(3, 5)],
        ours=lambda a: (
            ac.quantile(a, 0.3, dim=1)
            + a.quantile(ac.tensor([0.2, 0.9]), dim=0, keepdim=True, interpolation="lower").sum()
            + a.quantile(0.4, interpolation="higher")
            + a.quantile(0.55, 1, interpolation="midpoint")
            + a.quantile(ac.tensor([0.625]), 1, True, interpolation="nearest")[0, :, 0]
        ),
        numpy=lambda a: (
            np.quantile(a, 0.3, axis=1)
            + np.quantile(a, [0.2, 0.9], axis=0, keepdims=True, method="lower").sum()
            + np.quantile(a, 0.4, method="higher")
            + np.quantile(a, 0.55, axis=1, method="midpoint")
            + np.quantile(a, 0.625, axis=1, method="nearest")
        ),
        torch=lambda a: (
            _torch().quantile(a, 0.3, dim=1)
            + a.quantile(
                _torch().tensor([0.2, 0.9]).to(a.dtype), dim=0, keepdim=True, interpolation="lower"
            ).sum()
            + a.quantile(0.4, interpolation="higher")
            + a.quantile(0.55, 1, interpolation="midpoint")
            + a.quantile(_torch().tensor([0.625]).to(a.dtype), 1, True, interpolation="nearest")[
                0, :, 0
            ]
        ),
        make=lambda rng: [_no_ties(rng, (3, 5))],
    ),
    Case(
        "nanquantile",
        [(3, 4)],
        ours=lambda a: ac.nanquantile(a, 0.7, dim=1)[:2] + a[:2].nanquantile(0.25),
        numpy=lambda a: np.nanquantile(a[:2], 0.7, axis=1) + np.nanquantile(a[:2], 0.25),
        torch=lambda a: a.nanquantile(0.7, dim=1)[:2] + a[:2].nanquantile(0.25),
        make=lambda rng: _with_nans(rng, (3, 4)),
    ),
    Case(
        "mode_aminmax_msort",
        [(3, 5)],
        ours=lambda a: (
            ac.mode(a, 1).values * a[:, 0]
            + a.aminmax(dim=1).min * ac.aminmax(a).max
            + ac.msort(a)[1, :3]
        ),
        numpy=lambda a: a.min(1) * a[:, 0] + a.min(1) * a.max() + np.sort(a, 0)[1, :3],
        torch=lambda a: (
            _torch().mode(a, 1).values * a[:, 0]
            + a.aminmax(dim=1).min * _torch().aminmax(a).max
            + _torch().msort(a)[1, :3]
        ),
        make=lambda rng: [_no_ties(rng, (3, 5))],
    ),
    Case(
        "cov_corrcoef",
        [(3, 6), (6,)],
        ours=lambda a, w: (
            ac.cov(a)
            + a.cov(correction=0, aweights=w) * ac.corrcoef(a)
            + ac.cov(a, fweights=ac.tensor([1, 2, 1, 3, 1, 1]), aweights=w)
            + a[0].cov()
        ),
        numpy=lambda a, w: (
            np.cov(a)
            + np.cov(a, ddof=0, aweights=w) * np.corrcoef(a)
            + np.cov(a, fweights=[1, 2, 1, 3, 1, 1], aweights=w)
            + np.cov(a[0])
        ),
        torch=lambda a, w: (
            _torch().cov(a)
            + a.cov(correction=0, aweights=w) * _torch().corrcoef(a)
            + _torch().cov(a, fweights=_torch().tensor([1, 2, 1, 3, 1, 1]), aweights=w)
            + a[0].cov()
        ),
        make=lambda rng: [rng.uniform(-2, 2, (3, 6)), rng.uniform(0.5, 2, 6)],
    ),
    Case(
        "logcumsumexp",
        [(3, 4)],
        ours=lambda a: ac.logcumsumexp(a * 30, 1) + a.logcumsumexp(0),
        numpy=lambda a: np.logaddexp.accumulate(a * 30, 1) + np.log(np.cumsum(np.exp(a), 0)),
        torch=lambda a: (a * 30).logcumsumexp(1) + a.logcumsumexp(0),
    ),
    Case(
        "trapezoid",
        [(3, 4), (4,)],
        ours=lambda y, x: (
            ac.cumulative_trapezoid(y, x)
            + ac.trapezoid(y, dx=0.5, dim=0)[1:]
            + ac.trapz(y, y * 2, dim=1).unsqueeze(1)
            + ac.trapezoid(y).unsqueeze(1)
        ),
        numpy=lambda y, x: (
            np.cumsum((y[:, 1:] + y[:, :-1]) * np.diff(x) / 2, 1)
            + np.trapezoid(y, dx=0.5, axis=0)[1:]
            + np.trapezoid(y, y * 2, axis=1)[:, None]
            + np.trapezoid(y)[:, None]
        ),
        torch=lambda y, x: (
            _torch().cumulative_trapezoid(y, x)
            + _torch().trapezoid(y, dx=0.5, dim=0)[1:]
            + _torch().trapz(y, y * 2, dim=1).unsqueeze(1)
            + _torch().trapezoid(y).unsqueeze(1)
        ),
    ),
    Case(
        "dist_renorm_positive",
        [(3, 4), (4,)],
        ours=lambda a, b: (
            ac.dist(a, b) * ac.renorm(a, 2, 0, 1.5)
            + a.dist(b, 1)
            + a.dist(b, float("inf"))
            + a.renorm(3, 1, 1.0)
            + ac.positive(a)
        ),
        numpy=lambda a, b: (
            np.sqrt(((a - b) ** 2).sum()) * _np_renorm(a, 2, 0, 1.5)
            + np.abs(a - b).sum()
            + np.abs(a - b).max()
            + _np_renorm(a, 3, 1, 1.0)
            + a
        ),
        torch=lambda a, b: (
            _torch().dist(a, b) * _torch().renorm(a, 2, 0, 1.5)
            + a.dist(b, 1)
            + a.dist(b, float("inf"))
            + a.renorm(3, 1, 1.0)
            + _torch().positive(a)
        ),
        make=lambda rng: [_no_ties(rng, (3, 4)) * 2, rng.uniform(-2, 2, 4)],
    ),
    Case(
        "gradient",
        [(4, 5), (5,)],
        ours=lambda y, x: (
            ac.gradient(y, spacing=[x], dim=1)[0]
            + ac.gradient(y, spacing=(x,), dim=-1, edge_order=2)[0] * 2
            + ac.gradient(y, spacing=2.0, edge_order=2)[0]
            + ac.gradient(y, spacing=[0.5, 3.0])[1]
            + ac.gradient(y, dim=0)[0]
        ),
        numpy=lambda y, x: (
            np.gradient(y, x, axis=1)
            + np.gradient(y, x, axis=-1, edge_order=2) * 2
            + np.gradient(y, 2.0, edge_order=2)[0]
            + np.gradient(y, 0.5, 3.0)[1]
            + np.gradient(y, axis=0)
        ),
        torch=lambda y, x: (
            _torch().gradient(y, spacing=[x], dim=1)[0]
            + _torch().gradient(y, spacing=(x,), dim=-1, edge_order=2)[0] * 2
            + _torch().gradient(y, spacing=2.0, edge_order=2)[0]
            + _torch().gradient(y, spacing=[0.5, 3.0])[1]
            + _torch().gradient(y, dim=0)[0]
        ),
        make=lambda rng: [rng.uniform(-2, 2, (4, 5)), np.cumsum(rng.uniform(0.5, 1.5, 5))],
    ),
    Case(
        "put_index_reduce_flips",
        [(4, 5), (3, 5)],
        ours=lambda a, s: (
            ac.put(a, ac.tensor([0, 5, -1]), s[0, :3], accumulate=True)
            + ac.index_reduce(a, 0, ac.tensor([1, 3, 1]), s, "amax")
            + ac.flipud(a) * ac.fliplr(a)
            + ac.row_stack([a[0], a[1:] * 2])
        ),
        numpy=lambda a, s: (
            _np_put_add(a, [0, 5, -1], s[0, :3])
            + np.stack(
                [a[0], np.maximum(a[1], np.maximum(s[0], s[2])), a[2], np.maximum(a[3], s[1])]
            )
            + np.flipud(a) * np.fliplr(a)
            + np.vstack([a[0], a[1:] * 2])
        ),
        torch=lambda a, s: (
            _torch().put(a, _torch().tensor([0, 5, -1]), s[0, :3], accumulate=True)
            + _torch().index_reduce(a, 0, _torch().tensor([1, 3, 1]), s, "amax")
            + _torch().flipud(a) * _torch().fliplr(a)
            + _torch().row_stack([a[0], a[1:] * 2])
        ),
        make=lambda rng: [_no_ties(rng, (4, 5)), _no_ties(rng, (3, 5)) + 0.02],
    ),
]


def _np_put_add(a: np.ndarray, index: list[int], values: np.ndarray) -> np.ndarray:
    out = a.copy().reshape(-1)
    np.add.at(out, index, values)
    return out.reshape(a.shape)
