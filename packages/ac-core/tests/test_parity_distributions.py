"""ac.distributions against torch.distributions: log_prob, entropy, cdf/icdf, moments and KL
divergences, with their gradients with respect to the parameters, in float32 and float64.

Draws cannot match PyTorch's bit for bit, so samples are not compared here.
"""

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import auto_compyute as ac

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

Arrays = Callable[[np.random.Generator], list[np.ndarray]]


class Case(NamedTuple):
    name: str
    make: Callable[[Any, Any, list[Any]], Any]  # (distributions module, lib, params) -> dist
    params: Arrays
    value: Callable[[np.random.Generator], np.ndarray] | None
    quantities: tuple[str, ...]
    fixed: tuple[int, ...] = ()  # indices of parameters without gradient
    # NOTE: PyTorch's trigamma (in the gradients of digamma terms) is good to about 1e-8
    # (see test_parity_special.py), so those float64 gradients compare at that accuracy
    trigamma_gradients: bool = False


def _pos(*shape: int, low: float = 0.5, high: float = 3.0) -> Callable[..., np.ndarray]:
    return lambda rng: rng.uniform(low, high, shape)


def _normal(*shape: int) -> Callable[..., np.ndarray]:
    return lambda rng: rng.standard_normal(shape)


def _params(*makers: Callable[..., np.ndarray]) -> Arrays:
    return lambda rng: [m(rng) for m in makers]


def _simplex(*shape: int) -> Callable[..., np.ndarray]:
    def make(rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(0.1, 1.0, shape)
        return x / x.sum(-1, keepdims=True)

    return make


def _ints(high: int, *shape: int) -> Callable[..., np.ndarray]:
    return lambda rng: rng.integers(0, high, shape)


def _spd(lib: Any, m: Any) -> Any:
    return m @ m.mT + lib.eye(m.shape[-1], dtype=m.dtype)


def _counts(rng: np.random.Generator) -> np.ndarray:
    return np.stack([rng.multinomial(6, [0.2, 0.3, 0.5]) for _ in range(4)]).astype(float)


CONT = ("log_prob", "entropy", "mean", "variance", "stddev")
CASES = [
    Case(
        "normal",
        lambda D, lib, p: D.Normal(*p),
        _params(_normal(4), _pos(4)),
        _normal(3, 4),
        (*CONT, "mode", "cdf", "icdf"),
    ),
    Case(
        "normal_broadcast",
        lambda D, lib, p: D.Normal(p[0], p[1]),
        _params(_normal(2, 1), _pos(3)),
        _normal(2, 3),
        ("log_prob", "entropy", "cdf"),
    ),
    Case(
        "lognormal",
        lambda D, lib, p: D.LogNormal(*p),
        _params(_normal(4), _pos(4)),
        _pos(3, 4, low=0.1, high=5.0),
        (*CONT, "mode", "cdf", "icdf"),
    ),
    Case(
        "uniform",
        lambda D, lib, p: D.Uniform(p[0], p[0] + p[1]),
        _params(_pos(4, low=-1.0, high=0.0), _pos(4, low=2.0, high=3.0)),
        _pos(3, 4, low=0.05, high=0.95),
        (*CONT, "cdf", "icdf"),
    ),
    Case(
        "exponential",
        lambda D, lib, p: D.Exponential(*p),
        _params(_pos(4)),
        _pos(3, 4),
        (*CONT, "mode", "cdf", "icdf"),
    ),
    Case(
        "laplace",
        lambda D, lib, p: D.Laplace(*p),
        _params(_normal(4), _pos(4)),
        _normal(3, 4),
        (*CONT, "mode", "cdf", "icdf"),
    ),
    Case(
        "cauchy",
        lambda D, lib, p: D.Cauchy(*p),
        _params(_normal(4), _pos(4)),
        _normal(3, 4),
        ("log_prob", "entropy", "mode", "cdf", "icdf", "mean", "variance"),
    ),
    Case(
        "gamma",
        lambda D, lib, p: D.Gamma(*p),
        _params(_pos(4, low=0.5, high=3.0), _pos(4)),
        _pos(3, 4),
        (*CONT, "mode"),
    ),
    Case(
        "chi2",
        lambda D, lib, p: D.Chi2(*p),
        _params(_pos(4, low=1.0, high=5.0)),
        _pos(3, 4),
        (*CONT, "mode"),
    ),
    Case(
        "beta",
        lambda D, lib, p: D.Beta(*p),
        _params(_pos(4, low=1.2), _pos(4, low=1.2)),
        _pos(3, 4, low=0.05, high=0.95),
        (*CONT, "mode"),
        trigamma_gradients=True,
    ),
    Case(
        "dirichlet",
        lambda D, lib, p: D.Dirichlet(*p),
        _params(_pos(2, 3, low=1.2)),
        _simplex(4, 2, 3),
        (*CONT, "mode"),
        trigamma_gradients=True,
    ),
    Case(
        "student_t",
        lambda D, lib, p: D.StudentT(*p),
        _params(lambda rng: np.array([0.7, 1.5, 3.0, 8.0]), _normal(4), _pos(4)),
        _normal(3, 4),
        ("log_prob", "entropy", "mean", "variance", "mode"),
        trigamma_gradients=True,
    ),
    Case(
        "bernoulli_probs",
        lambda D, lib, p: D.Bernoulli(probs=p[0]),
        _params(_pos(4, low=0.1, high=0.9)),
        _ints(2, 3, 4),
        CONT,
    ),
    Case(
        "bernoulli_logits",
        lambda D, lib, p: D.Bernoulli(logits=p[0]),
        _params(_normal(4)),
        _ints(2, 3, 4),
        (*CONT, "mode"),
    ),
    Case(
        "geometric_probs",
        lambda D, lib, p: D.Geometric(probs=p[0]),
        _params(_pos(4, low=0.1, high=0.9)),
        _ints(6, 3, 4),
        (*CONT, "mode"),
    ),
    Case(
        "geometric_logits",
        lambda D, lib, p: D.Geometric(logits=p[0]),
        _params(_normal(4)),
        _ints(6, 3, 4),
        CONT,
    ),
    Case(
        "binomial_probs",
        lambda D, lib, p: D.Binomial(p[0], probs=p[1]),
        _params(lambda rng: np.array([5.0, 8.0, 10.0, 10.0]), _pos(4, low=0.1, high=0.9)),
        _ints(6, 3, 4),
        ("log_prob", "mean", "variance", "mode"),
        fixed=(0,),
    ),
    Case(
        "binomial_logits",
        lambda D, lib, p: D.Binomial(7, logits=p[0]),
        _params(_normal(4)),
        _ints(8, 3, 4),
        (*CONT, "mode"),
    ),
    Case(
        "poisson",
        lambda D, lib, p: D.Poisson(*p),
        _params(_pos(4)),
        _ints(6, 3, 4),
        ("log_prob", "mean", "variance", "mode"),
    ),
    Case(
        "categorical_probs",
        lambda D, lib, p: D.Categorical(probs=p[0]),
        _params(_pos(2, 5)),
        _ints(5, 3, 2),
        ("log_prob", "entropy", "mean", "mode"),
    ),
    Case(
        "categorical_logits",
        lambda D, lib, p: D.Categorical(logits=p[0]),
        _params(_normal(2, 5)),
        _ints(5, 3, 2),
        ("log_prob", "entropy", "variance"),
    ),
    Case(
        "one_hot_categorical",
        lambda D, lib, p: D.OneHotCategorical(logits=p[0]),
        _params(_normal(2, 4)),
        lambda rng: np.eye(4)[rng.integers(0, 4, (3, 2))],
        (*CONT, "mode"),
    ),
    Case(
        "multinomial",
        lambda D, lib, p: D.Multinomial(6, probs=p[0]),
        _params(_pos(4, 3)),
        _counts,
        ("log_prob", "mean", "variance"),
    ),
    Case(
        "mvn_covariance",
        lambda D, lib, p: D.MultivariateNormal(p[0], covariance_matrix=_spd(lib, p[1])),
        _params(_normal(2, 3), _normal(2, 3, 3)),
        _normal(4, 2, 3),
        ("log_prob", "entropy", "mean", "variance", "scale_tril", "precision_matrix"),
    ),
    Case(
        "mvn_precision",
        lambda D, lib, p: D.MultivariateNormal(p[0], precision_matrix=_spd(lib, p[1])),
        _params(_normal(3), _normal(2, 3, 3)),
        _normal(4, 2, 3),
        ("log_prob", "entropy", "variance", "scale_tril", "covariance_matrix"),
    ),
    Case(
        "mvn_scale_tril",
        lambda D, lib, p: D.MultivariateNormal(
            p[0], scale_tril=lib.linalg.cholesky(_spd(lib, p[1]))
        ),
        _params(_normal(2, 3), _normal(3, 3)),
        _normal(4, 2, 3),
        ("log_prob", "entropy", "variance", "covariance_matrix", "precision_matrix"),
    ),
    Case(
        "independent",
        lambda D, lib, p: D.Independent(D.Normal(*p), 1),
        _params(_normal(2, 3), _pos(2, 3)),
        _normal(4, 2, 3),
        ("log_prob", "entropy", "mean"),
    ),
    Case(
        "transformed_affine_tanh",
        lambda D, lib, p: D.TransformedDistribution(
            D.Normal(p[0], p[1]), [D.AffineTransform(p[2], p[3]), D.TanhTransform()]
        ),
        _params(_normal(4), _pos(4), _normal(4), _pos(4, low=0.5, high=1.0)),
        _pos(3, 4, low=-0.9, high=0.9),
        ("log_prob",),
    ),
    Case(
        "transformed_compose_sigmoid",
        lambda D, lib, p: D.TransformedDistribution(
            D.Normal(p[0], p[1]),
            D.ComposeTransform([D.AffineTransform(0.5, p[2]), D.SigmoidTransform()]),
        ),
        _params(_normal(4), _pos(4), _pos(4)),
        _pos(3, 4, low=0.05, high=0.95),
        ("log_prob", "cdf", "icdf"),
    ),
    Case(
        "transformed_negative_affine",
        lambda D, lib, p: D.TransformedDistribution(
            D.Laplace(p[0], p[1]), [D.AffineTransform(p[2], -p[3]), D.ExpTransform()]
        ),
        _params(_normal(4), _pos(4), _normal(4), _pos(4)),
        _pos(3, 4, low=0.2, high=3.0),
        ("log_prob", "cdf", "icdf"),
    ),
    Case(
        "transformed_event_affine",
        lambda D, lib, p: D.TransformedDistribution(
            D.Normal(p[0], p[1]), D.AffineTransform(p[2], p[3], event_dim=1)
        ),
        _params(_normal(2, 3), _pos(2, 3), _normal(3), _pos(3)),
        _normal(4, 2, 3),
        ("log_prob",),
    ),
    Case(
        "relaxed_bernoulli",
        lambda D, lib, p: D.RelaxedBernoulli(p[0], logits=p[1]),
        _params(_pos(4, low=0.3, high=2.0), _normal(4)),
        _pos(3, 4, low=0.05, high=0.95),
        ("log_prob",),
    ),
    Case(
        "relaxed_one_hot",
        lambda D, lib, p: D.RelaxedOneHotCategorical(p[0], probs=p[1]),
        _params(lambda rng: np.array(0.7), _pos(2, 4)),
        _simplex(3, 2, 4),
        ("log_prob",),
    ),
    Case(
        "mixture",
        lambda D, lib, p: D.MixtureSameFamily(D.Categorical(logits=p[0]), D.Normal(p[1], p[2])),
        _params(_normal(2, 3), _normal(2, 3), _pos(2, 3)),
        _normal(4, 2),
        ("log_prob", "mean", "variance", "cdf"),
    ),
    Case(
        "mixture_mvn",
        lambda D, lib, p: D.MixtureSameFamily(
            D.Categorical(probs=p[0]), D.Independent(D.Normal(p[1], p[2]), 1)
        ),
        _params(_pos(3), _normal(3, 2), _pos(3, 2)),
        _normal(4, 2),
        ("log_prob", "mean", "variance"),
    ),
]


def _pair(make: Callable[[Any, Any, list[Any]], Any], n: int) -> Callable[..., Any]:
    """KL(p || q) with p built from the first n parameters and q from the rest."""
    return lambda D, lib, p: D.kl_divergence(make(D, lib, p[:n]), make(D, lib, p[n:]))


KL_CASES = [
    Case(
        "kl_normal",
        _pair(lambda D, lib, p: D.Normal(*p), 2),
        _params(_normal(4), _pos(4), _normal(4), _pos(4)),
        None,
        ("call",),
    ),
    Case(
        "kl_bernoulli",
        _pair(lambda D, lib, p: D.Bernoulli(probs=p[0]), 1),
        _params(_pos(4, low=0.1, high=0.9), _pos(4, low=0.1, high=0.9)),
        None,
        ("call",),
    ),
    Case(
        "kl_bernoulli_logits",
        _pair(lambda D, lib, p: D.Bernoulli(logits=p[0]), 1),
        _params(_normal(4), _normal(4)),
        None,
        ("call",),
    ),
    Case(
        "kl_bernoulli_edges",
        _pair(lambda D, lib, p: D.Bernoulli(probs=p[0]), 1),
        _params(lambda rng: np.array([0.0, 1.0, 0.3]), lambda rng: np.array([0.4, 0.6, 0.7])),
        None,
        ("call",),
    ),
    Case(
        "kl_categorical_zero_probs",
        _pair(lambda D, lib, p: D.Categorical(probs=p[0]), 1),
        _params(lambda rng: np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]), _pos(2, 3)),
        None,
        ("call",),
    ),
    Case(
        "kl_categorical",
        _pair(lambda D, lib, p: D.Categorical(logits=p[0]), 1),
        _params(_normal(2, 5), _normal(2, 5)),
        None,
        ("call",),
    ),
    Case(
        "kl_one_hot_categorical",
        _pair(lambda D, lib, p: D.OneHotCategorical(probs=p[0]), 1),
        _params(_pos(2, 5), _pos(5)),
        None,
        ("call",),
    ),
    Case(
        "kl_mvn",
        _pair(lambda D, lib, p: D.MultivariateNormal(p[0], covariance_matrix=_spd(lib, p[1])), 2),
        _params(_normal(2, 3), _normal(2, 3, 3), _normal(3), _normal(3, 3)),
        None,
        ("call",),
    ),
    Case(
        "kl_independent",
        _pair(lambda D, lib, p: D.Independent(D.Normal(*p), 1), 2),
        _params(_normal(2, 3), _pos(2, 3), _normal(2, 3), _pos(2, 3)),
        None,
        ("call",),
    ),
    Case(
        "kl_uniform",
        _pair(lambda D, lib, p: D.Uniform(p[0], p[0] + p[1]), 2),
        _params(
            lambda rng: np.array([0.0, 0.0, 1.0]),
            lambda rng: np.array([1.0, 1.0, 1.0]),
            lambda rng: np.array([-1.0, 0.5, 0.0]),
            lambda rng: np.array([3.0, 3.0, 3.0]),
        ),
        None,
        ("call",),
    ),
    Case(
        "kl_exponential",
        _pair(lambda D, lib, p: D.Exponential(*p), 1),
        _params(_pos(4), _pos(4)),
        None,
        ("call",),
    ),
    Case(
        "kl_gamma",
        _pair(lambda D, lib, p: D.Gamma(*p), 2),
        _params(_pos(4), _pos(4), _pos(4), _pos(4)),
        None,
        ("call",),
        trigamma_gradients=True,
    ),
    Case(
        "kl_beta",
        _pair(lambda D, lib, p: D.Beta(*p), 2),
        _params(_pos(4), _pos(4), _pos(4), _pos(4)),
        None,
        ("call",),
        trigamma_gradients=True,
    ),
    Case(
        "kl_dirichlet",
        _pair(lambda D, lib, p: D.Dirichlet(*p), 1),
        _params(_pos(2, 3), _pos(2, 3)),
        None,
        ("call",),
        trigamma_gradients=True,
    ),
    Case(
        "kl_poisson",
        _pair(lambda D, lib, p: D.Poisson(*p), 1),
        _params(_pos(4), _pos(4)),
        None,
        ("call",),
    ),
    Case(
        "kl_laplace",
        _pair(lambda D, lib, p: D.Laplace(*p), 2),
        _params(_normal(4), _pos(4), _normal(4), _pos(4)),
        None,
        ("call",),
    ),
    Case(
        "kl_cauchy",
        _pair(lambda D, lib, p: D.Cauchy(*p), 2),
        _params(_normal(4), _pos(4), _normal(4), _pos(4)),
        None,
        ("call",),
    ),
    Case(
        "kl_geometric",
        _pair(lambda D, lib, p: D.Geometric(probs=p[0]), 1),
        _params(_pos(4, low=0.1, high=0.9), _pos(4, low=0.1, high=0.9)),
        None,
        ("call",),
    ),
    Case(
        "kl_binomial",
        _pair(lambda D, lib, p: D.Binomial(5, probs=p[0]), 1),
        _params(_pos(4, low=0.1, high=0.9), _pos(4, low=0.1, high=0.9)),
        None,
        ("call",),
    ),
    Case(
        "kl_lognormal",
        _pair(lambda D, lib, p: D.LogNormal(*p), 2),
        _params(_normal(4), _pos(4), _normal(4), _pos(4)),
        None,
        ("call",),
    ),
]


def _uniform_in(low: float, high: float) -> Callable[[Any, Any, list[Any]], Any]:
    """A Uniform with bounds inside (low, high), made from two parameters in (0, 1)."""
    width = high - low
    return lambda D, lib, p: D.Uniform(low + p[0] * width / 2, high - p[1] * width / 2)


def _uniform_around(low: float, high: float) -> Callable[[Any, Any, list[Any]], Any]:
    """A Uniform with bounds around [low, high], made from two positive parameters."""
    return lambda D, lib, p: D.Uniform(low - p[0], high + p[1])


def _probs(*shape: int) -> Callable[..., np.ndarray]:
    return _pos(*shape, low=0.1, high=0.9)


def _fixed(*values: float) -> Callable[..., Callable[..., np.ndarray]]:
    """A parameter kind of the given values, whatever the batch shape asked for."""
    return lambda *shape: lambda rng: np.array(values)


# name -> (maker, parameter kinds); a kind maps a batch shape to a parameter maker
FAMILIES: dict[str, tuple[Callable[[Any, Any, list[Any]], Any], tuple[Callable[..., Any], ...]]] = {
    "bernoulli": (lambda D, lib, p: D.Bernoulli(probs=p[0]), (_probs,)),
    "beta": (lambda D, lib, p: D.Beta(*p), (_pos, _pos)),
    "binomial": (lambda D, lib, p: D.Binomial(5, probs=p[0]), (_probs,)),
    "chi2": (lambda D, lib, p: D.Chi2(*p), (_pos,)),
    "exponential": (lambda D, lib, p: D.Exponential(*p), (_pos,)),
    "gamma": (lambda D, lib, p: D.Gamma(*p), (_pos, _pos)),
    "laplace": (lambda D, lib, p: D.Laplace(*p), (_normal, _pos)),
    "normal": (lambda D, lib, p: D.Normal(*p), (_normal, _pos)),
    "poisson": (lambda D, lib, p: D.Poisson(*p), (_pos,)),
    "uniform_unit": (_uniform_in(0.0, 1.0), (lambda *s: _pos(*s, low=0.05, high=0.9),) * 2),
    "uniform_positive": (_uniform_in(0.1, 4.0), (lambda *s: _pos(*s, low=0.05, high=0.9),) * 2),
    "uniform_around_unit": (
        _uniform_around(0.0, 1.0),
        (lambda *s: _pos(*s, low=0.1, high=1.0),) * 2,
    ),
    "uniform": (lambda D, lib, p: D.Uniform(p[0], p[0] + p[1]), (_normal, _pos)),
    "uniform_edges": (
        lambda D, lib, p: D.Uniform(*p),
        (_fixed(0.0, -0.5, 0.2, 0.5), _fixed(1.0, 0.5, 1.0, 1.5)),
    ),
}
_DIGAMMA_OF_P = ("beta", "gamma", "chi2")


def _cross_case(
    name_p: str, name_q: str, shape_p: tuple[int, ...], shape_q: tuple[int, ...]
) -> Case:
    """KL(p || q) for p and q of different families, of batch shapes shape_p and shape_q."""
    make_p, kinds_p = FAMILIES[name_p]
    make_q, kinds_q = FAMILIES[name_q]
    n = len(kinds_p)
    return Case(
        f"kl_{name_p}_{name_q}",
        lambda D, lib, p: D.kl_divergence(make_p(D, lib, p[:n]), make_q(D, lib, p[n:])),
        _params(*(k(*shape_p) for k in kinds_p), *(k(*shape_q) for k in kinds_q)),
        None,
        ("call",),
        trigamma_gradients=name_p in _DIGAMMA_OF_P,
    )


BROADCAST = ((2, 1), (3,))
# NOTE: PyTorch sets the infinite entries of these through a mask of p's or q's batch shape, so
# that one must be the full batch shape there
Q_FULL, P_FULL = ((3,), (2, 3)), ((2, 3), (3,))
MASKED_SHAPES = {
    ("beta", "uniform_around_unit"): Q_FULL,
    ("uniform_unit", "beta"): P_FULL,
    ("uniform_positive", "exponential"): P_FULL,
    ("uniform_positive", "gamma"): P_FULL,
}
CROSS_KL_PAIRS = [
    ("bernoulli", "poisson"),
    ("beta", "exponential"),
    ("beta", "gamma"),
    ("beta", "normal"),
    ("beta", "uniform_around_unit"),
    ("exponential", "gamma"),
    ("exponential", "chi2"),
    ("exponential", "normal"),
    ("gamma", "exponential"),
    ("chi2", "exponential"),
    ("gamma", "normal"),
    ("laplace", "normal"),
    ("normal", "laplace"),
    ("uniform_unit", "beta"),
    ("uniform_positive", "exponential"),
    ("uniform_positive", "gamma"),
    ("uniform", "normal"),
    # infinite: p puts mass where q has none
    ("exponential", "beta"),
    ("exponential", "uniform"),
    ("gamma", "beta"),
    ("gamma", "uniform"),
    ("laplace", "beta"),
    ("laplace", "exponential"),
    ("laplace", "gamma"),
    ("laplace", "uniform"),
    ("normal", "beta"),
    ("normal", "exponential"),
    ("normal", "gamma"),
    ("normal", "uniform"),
    ("poisson", "bernoulli"),
    ("poisson", "binomial"),
]
KL_CASES += [_cross_case(p, q, *MASKED_SHAPES.get((p, q), BROADCAST)) for p, q in CROSS_KL_PAIRS]
KL_CASES += [_cross_case("laplace", "normal", (4,), (4,)), _cross_case("beta", "gamma", (4,), (4,))]
# Uniform bounds on either side of the support of the other distribution: finite and infinite
KL_CASES += [_cross_case("beta", "uniform_edges", (4,), (4,))]
KL_CASES += [_cross_case("uniform_edges", q, (4,), (4,)) for q in ("beta", "exponential", "gamma")]

LIBS = {
    "ac": (ac, ac.distributions, {"float32": ac.float32, "float64": ac.float64}),
    "torch": (torch, torch.distributions, {"float32": torch.float32, "float64": torch.float64}),
}
TOLERANCES = {"float32": (2e-4, 1e-5), "float64": (1e-10, 1e-12)}


def _tensor(lib: Any, array: np.ndarray, dtype: Any, grad: bool) -> Any:
    if lib is ac:
        return ac.tensor(array, dtype=dtype, req_grad=grad)
    return torch.tensor(array, dtype=dtype, requires_grad=grad)


def _evaluate(
    name: str,
    case: Case,
    quantity: str,
    dtype_name: str,
    arrays: list[np.ndarray],
    value: np.ndarray | None,
    unit: np.ndarray,
) -> tuple[Any, list[Any]]:
    """Build the case's distribution with one library and compute one quantity."""
    lib, D, dtypes = LIBS[name]
    dtype = dtypes[dtype_name]
    params = [_tensor(lib, a, dtype, i not in case.fixed) for i, a in enumerate(arrays)]
    if value is not None:
        integer = value.dtype.kind == "i" and case.name.startswith("categorical")
        value = _tensor(lib, value, lib.int64 if integer else dtype, False)
    if quantity == "call":
        out = case.make(D, lib, params)
    else:
        dist = case.make(D, lib, params)
        attribute = getattr(dist, quantity)
        if quantity == "entropy":
            out = attribute()
        elif quantity in ("log_prob", "cdf"):
            out = attribute(value)
        elif quantity == "icdf":
            out = attribute(_tensor(lib, unit, dtype, False))
        else:
            out = attribute
    return out, params


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("case", "quantity"),
    [(c, q) for c in CASES + KL_CASES for q in c.quantities],
    ids=[f"{c.name}-{q}" for c in CASES + KL_CASES for q in c.quantities],
)
def test_matches_pytorch_with_gradients(case: Case, quantity: str, dtype: str) -> None:
    rng = np.random.default_rng(0)
    arrays = case.params(rng)
    value = case.value(rng) if case.value is not None else None
    unit = rng.uniform(0.05, 0.95, value.shape) if value is not None else np.array(0.0)
    ours, our_params = _evaluate("ac", case, quantity, dtype, arrays, value, unit)
    theirs, their_params = _evaluate("torch", case, quantity, dtype, arrays, value, unit)
    rtol, atol = TOLERANCES[dtype]
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape
    assert ours.dtype == expected.dtype or quantity == "mode"
    np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=atol)
    if not theirs.requires_grad or not np.isfinite(expected).all():
        return
    cotangent = rng.standard_normal(expected.shape)
    ours.backward(ac.tensor(cotangent, dtype=ours.dtype))
    theirs.backward(torch.tensor(cotangent, dtype=theirs.dtype))
    if case.trigamma_gradients and dtype == "float64":
        rtol = 1e-7
    for mine, reference in zip(our_params, their_params, strict=True):
        if not reference.requires_grad:
            continue
        want = np.zeros(reference.shape) if reference.grad is None else reference.grad.numpy()
        got = np.zeros(reference.shape) if mine.grad is None else np.asarray(mine.grad)
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=atol * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multinomial_entropy_matches_pytorch(dtype: str) -> None:
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 3.0, (4, 3))
    ours_probs = ac.tensor(weights, dtype=getattr(ac, dtype), req_grad=True)
    their_probs = torch.tensor(weights, dtype=getattr(torch, dtype), requires_grad=True)
    ours = ac.distributions.Multinomial(6, probs=ours_probs).entropy()
    theirs = torch.distributions.Multinomial(6, probs=their_probs).entropy()
    # NOTE: PyTorch takes lgamma(total_count + 1) of an int64 tensor, which it computes in
    # float32 whatever the dtype of probs; ours is exact, so add PyTorch's rounding error back
    rounding = float(torch.lgamma(torch.tensor(7))) - math.lgamma(7)
    rtol, atol = TOLERANCES[dtype]
    np.testing.assert_allclose(ours.numpy() - rounding, theirs.detach().numpy(), rtol, atol)
    cotangent = rng.standard_normal(4)
    ours.backward(ac.tensor(cotangent, dtype=ours.dtype))
    theirs.backward(torch.tensor(cotangent, dtype=theirs.dtype))
    np.testing.assert_allclose(ours_probs.grad, their_probs.grad.numpy(), rtol * 10, atol * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_implicit_gamma_gradient_matches_pytorch(dtype: str) -> None:
    from auto_compyute.distributions.implicit import standard_gamma_grad

    rng = np.random.default_rng(0)
    alpha = np.exp(rng.uniform(math.log(0.05), math.log(200.0), 5000))  # every branch
    x = np.maximum(rng.standard_gamma(alpha), np.finfo(dtype).tiny).astype(dtype)
    ours = standard_gamma_grad(ac.tensor(alpha, dtype=dtype), ac.tensor(x)).numpy()
    theirs = torch._standard_gamma_grad(
        torch.tensor(alpha, dtype=getattr(torch, dtype)), torch.tensor(x)
    ).numpy()
    np.testing.assert_allclose(ours, theirs, *TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_implicit_dirichlet_gradient_matches_pytorch(dtype: str) -> None:
    from auto_compyute.distributions.implicit import dirichlet_grad

    rng = np.random.default_rng(0)
    a, b = np.exp(rng.uniform(math.log(0.05), math.log(100.0), (2, 5000)))  # every branch
    finfo = np.finfo(dtype)
    x = np.clip(rng.beta(a, b), finfo.tiny, 1 - finfo.eps).astype(dtype)
    ours = dirichlet_grad(
        ac.tensor(x), ac.tensor(a, dtype=dtype), ac.tensor(a + b, dtype=dtype)
    ).numpy()
    # NOTE: PyTorch's float32 kernel sums its Taylor series in float32 (its accuracy near
    # x = 1 is about 1e-3); ours sums in float64 throughout, as its float64 kernel does
    reference = [
        torch.tensor(v, dtype=torch.float64) for v in (x, a.astype(dtype), (a + b).astype(dtype))
    ]
    theirs = torch._dirichlet_grad(*reference).numpy().astype(dtype)
    np.testing.assert_allclose(ours, theirs, *TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_rsample_gradient_matches_pytorch_for_the_same_draws(dtype: str) -> None:
    rng = np.random.default_rng(0)
    concentration, rate = rng.uniform(0.2, 12.0, 6), rng.uniform(0.5, 2.0, 6)
    alpha = ac.tensor(concentration, dtype=dtype, req_grad=True)
    beta = ac.tensor(rate, dtype=dtype, req_grad=True)
    ac.manual_seed(0)
    draws = ac.distributions.Gamma(alpha, beta).rsample((4,))
    cotangent = rng.standard_normal(draws.shape)
    draws.backward(ac.tensor(cotangent, dtype=dtype))
    # NOTE: PyTorch's rsample draws x / rate with x from _standard_gamma, whose backward is
    # _standard_gamma_grad; the same x (recovered from our draws) gives the same gradients
    their_alpha = torch.tensor(concentration, dtype=getattr(torch, dtype), requires_grad=True)
    their_rate = torch.tensor(rate, dtype=getattr(torch, dtype), requires_grad=True)
    standard = torch.tensor(draws.numpy() * rate.astype(dtype))
    surrogate = standard + (their_alpha - their_alpha.detach()) * torch._standard_gamma_grad(
        their_alpha.detach().expand(4, 6), standard
    )
    (surrogate / their_rate).backward(torch.tensor(cotangent, dtype=getattr(torch, dtype)))
    rtol, atol = TOLERANCES[dtype]
    np.testing.assert_allclose(alpha.grad, their_alpha.grad.numpy(), rtol * 10, atol * 10)
    np.testing.assert_allclose(beta.grad, their_rate.grad.numpy(), rtol * 10, atol * 10)
