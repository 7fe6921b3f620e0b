"""ac.distributions: densities, moments and entropies against closed forms and quadrature,
sample statistics, reparameterized gradients, argument validation, transforms and KL."""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import distributions as D

F64 = ac.float64


def t(*values: float) -> ac.Tensor:
    """A float64 tensor of the values (0-d for a single value)."""
    return ac.tensor(np.array(values if len(values) != 1 else values[0], dtype=float), dtype=F64)


def P(*values: float) -> np.ndarray:
    """A float array of the values, for a parameter made into a fresh tensor in the test."""
    return np.array(values, dtype=float)


# ---------------------------------------------------------------- closed forms
def test_normal_matches_closed_forms() -> None:
    d = D.Normal(t(0.5, -1.0), t(2.0, 0.5))
    x = np.array([1.5, -0.25])
    loc, scale = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    expected = -((x - loc) ** 2) / (2 * scale**2) - np.log(scale) - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(d.log_prob(t(*x)).numpy(), expected, rtol=1e-14)
    cdf = [
        0.5 * (1 + math.erf((a - m) / (s * math.sqrt(2))))
        for a, m, s in zip(x, loc, scale, strict=True)
    ]
    np.testing.assert_allclose(d.cdf(t(*x)).numpy(), cdf, rtol=1e-14)
    np.testing.assert_allclose(d.icdf(d.cdf(t(*x))).numpy(), x, rtol=1e-12)
    np.testing.assert_allclose(
        d.entropy().numpy(), 0.5 * np.log(2 * math.pi * math.e * scale**2), rtol=1e-14
    )
    np.testing.assert_allclose(d.stddev.numpy(), scale)


def _lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


LOG_PROBS: list[tuple[str, Callable[[], Any], list[float], Callable[[float], float]]] = [
    (
        "exponential",
        lambda: D.Exponential(t(1.5)),
        [0.0, 0.3, 2.0],
        lambda x: math.log(1.5) - 1.5 * x,
    ),
    (
        "laplace",
        lambda: D.Laplace(t(0.5), t(2.0)),
        [-1.0, 0.5, 3.0],
        lambda x: -math.log(4.0) - abs(x - 0.5) / 2.0,
    ),
    (
        "cauchy",
        lambda: D.Cauchy(t(0.5), t(2.0)),
        [-1.0, 0.5, 3.0],
        lambda x: -math.log(math.pi * 2.0 * (1 + ((x - 0.5) / 2.0) ** 2)),
    ),
    (
        "gamma",
        lambda: D.Gamma(t(2.5), t(1.5)),
        [0.1, 1.0, 4.0],
        lambda x: 2.5 * math.log(1.5) + 1.5 * math.log(x) - 1.5 * x - math.lgamma(2.5),
    ),
    (
        "chi2",
        lambda: D.Chi2(t(3.0)),
        [0.1, 1.0, 4.0],
        lambda x: 0.5 * math.log(x) - x / 2 - 1.5 * math.log(2) - math.lgamma(1.5),
    ),
    (
        "beta",
        lambda: D.Beta(t(2.5), t(1.5)),
        [0.1, 0.5, 0.9],
        lambda x: 1.5 * math.log(x) + 0.5 * math.log(1 - x) - _lbeta(2.5, 1.5),
    ),
    (
        "student_t",
        lambda: D.StudentT(t(4.0), t(1.0), t(2.0)),
        [-1.0, 0.5, 3.0],
        lambda x: (
            math.lgamma(2.5)
            - math.lgamma(2.0)
            - 0.5 * math.log(4 * math.pi)
            - math.log(2)
            - 2.5 * math.log1p(((x - 1) / 2) ** 2 / 4)
        ),
    ),
    (
        "lognormal",
        lambda: D.LogNormal(t(0.5), t(0.8)),
        [0.2, 1.0, 3.0],
        lambda x: -math.log(x * 0.8 * math.sqrt(2 * math.pi)) - (math.log(x) - 0.5) ** 2 / 1.28,
    ),
    ("uniform", lambda: D.Uniform(t(-1.0), t(3.0)), [-1.0, 0.5, 2.9], lambda x: -math.log(4)),
    (
        "bernoulli",
        lambda: D.Bernoulli(probs=t(0.3)),
        [0.0, 1.0],
        lambda x: math.log(0.3 if x else 0.7),
    ),
    (
        "geometric",
        lambda: D.Geometric(probs=t(0.3)),
        [0.0, 1.0, 5.0],
        lambda x: x * math.log(0.7) + math.log(0.3),
    ),
    (
        "binomial",
        lambda: D.Binomial(10, probs=t(0.3)),
        [0.0, 3.0, 10.0],
        lambda x: math.log(math.comb(10, int(x)) * 0.3**x * 0.7 ** (10 - x)),
    ),
    (
        "poisson",
        lambda: D.Poisson(t(2.5)),
        [0.0, 3.0, 10.0],
        lambda x: x * math.log(2.5) - 2.5 - math.lgamma(x + 1),
    ),
    (
        "relaxed_bernoulli",
        lambda: D.RelaxedBernoulli(t(0.5), probs=t(0.3)),
        [0.2, 0.7],
        lambda x: math.log(
            0.5 * (3 / 7) * (x * (1 - x)) ** -1.5 / ((3 / 7) * x**-0.5 + (1 - x) ** -0.5) ** 2
        ),
    ),
]


@pytest.mark.parametrize(
    ("make", "values", "expected"), [c[1:] for c in LOG_PROBS], ids=[c[0] for c in LOG_PROBS]
)
def test_log_prob_matches_closed_form(make, values: list[float], expected) -> None:
    d = make()
    out = d.log_prob(ac.tensor(values, dtype=F64))
    np.testing.assert_allclose(out.numpy(), [expected(x) for x in values], rtol=1e-12)


def test_categorical_family_matches_closed_forms() -> None:
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    cat = D.Categorical(probs=ac.tensor(probs * 4))  # normalized by the distribution
    np.testing.assert_allclose(cat.probs.numpy(), probs, rtol=1e-6)
    index = np.array([2, 0])
    np.testing.assert_allclose(
        cat.log_prob(ac.tensor(index)).numpy(), np.log(probs[[0, 1], index]), rtol=1e-6
    )
    np.testing.assert_allclose(cat.entropy().numpy(), -(probs * np.log(probs)).sum(-1), 1e-6)
    one_hot = D.OneHotCategorical(logits=ac.tensor(np.log(probs)))
    np.testing.assert_allclose(
        one_hot.log_prob(ac.tensor(np.eye(3)[index])).numpy(), np.log(probs[[0, 1], index]), 1e-6
    )
    np.testing.assert_array_equal(one_hot.mode.numpy(), np.eye(3)[[2, 0]])
    counts = np.array([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]])
    multinomial = D.Multinomial(6, probs=ac.tensor(probs, dtype=F64))
    expected = [
        math.log(math.factorial(6) / math.prod(math.factorial(int(c)) for c in row))
        + (row * np.log(p)).sum()
        for row, p in zip(counts, probs, strict=True)
    ]
    np.testing.assert_allclose(multinomial.log_prob(ac.tensor(counts)).numpy(), expected, 1e-12)


def test_multinomial_and_binomial_entropy_by_enumeration() -> None:
    probs = np.array([0.2, 0.3, 0.5])
    total = 0.0
    for a in range(5):
        for b in range(5 - a):
            c = 4 - a - b
            p = math.factorial(4) / (math.factorial(a) * math.factorial(b) * math.factorial(c))
            p *= probs[0] ** a * probs[1] ** b * probs[2] ** c
            total -= p * math.log(p)
    d = D.Multinomial(4, probs=ac.tensor(probs, dtype=F64))
    assert d.entropy().item() == pytest.approx(total, rel=1e-12)
    pmf = [math.comb(7, k) * 0.3**k * 0.7 ** (7 - k) for k in range(8)]
    binomial = D.Binomial(7, probs=t(0.3))
    assert binomial.entropy().item() == pytest.approx(-sum(p * math.log(p) for p in pmf), 1e-12)


def test_dirichlet_and_multivariate_normal_match_numpy() -> None:
    alpha = np.array([1.5, 2.0, 3.5])
    x = np.array([0.2, 0.3, 0.5])
    expected = math.lgamma(alpha.sum()) - sum(math.lgamma(a) for a in alpha)
    expected += ((alpha - 1) * np.log(x)).sum()
    assert D.Dirichlet(ac.tensor(alpha)).log_prob(ac.tensor(x)).item() == pytest.approx(expected)

    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    loc, value = rng.standard_normal(3), rng.standard_normal((4, 3))
    d = D.MultivariateNormal(ac.tensor(loc), covariance_matrix=ac.tensor(cov))
    diff = value - loc
    maha = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
    _, logdet = np.linalg.slogdet(cov)
    np.testing.assert_allclose(
        d.log_prob(ac.tensor(value)).numpy(), -0.5 * (3 * math.log(2 * math.pi) + logdet + maha)
    )
    assert d.entropy().item() == pytest.approx(0.5 * (3 * (1 + math.log(2 * math.pi)) + logdet))
    np.testing.assert_allclose(d.covariance_matrix.numpy(), cov)
    np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov))
    np.testing.assert_allclose(d.variance.numpy(), np.diag(cov))
    for other in (
        D.MultivariateNormal(ac.tensor(loc), precision_matrix=ac.tensor(np.linalg.inv(cov))),
        D.MultivariateNormal(ac.tensor(loc), scale_tril=ac.tensor(np.linalg.cholesky(cov))),
    ):
        np.testing.assert_allclose(
            other.log_prob(ac.tensor(value)).numpy(), d.log_prob(ac.tensor(value)).numpy()
        )


# NOTE: the moments and entropy of each univariate density are integrated numerically on a
# fine grid, an oracle independent of the closed forms in the code
QUADRATURE = [
    ("normal", lambda: D.Normal(t(0.5), t(1.5)), (-15.0, 16.0), "mvec"),
    ("lognormal", lambda: D.LogNormal(t(0.2), t(0.5)), (1e-9, 40.0), "mvec"),
    ("uniform", lambda: D.Uniform(t(-1.0), t(2.0)), (-1.0, 2.0 - 1e-12), "mvec"),
    ("exponential", lambda: D.Exponential(t(2.0)), (0.0, 30.0), "mvec"),
    ("laplace", lambda: D.Laplace(t(0.5), t(0.7)), (-30.0, 30.0), "mvec"),
    ("cauchy", lambda: D.Cauchy(t(0.5), t(0.7)), (-1e5, 1e5), "ec"),
    ("gamma", lambda: D.Gamma(t(3.0), t(2.0)), (0.0, 40.0), "mve"),
    ("chi2", lambda: D.Chi2(t(4.0)), (0.0, 120.0), "mve"),
    ("beta", lambda: D.Beta(t(2.5), t(3.5)), (0.0, 1.0), "mve"),
    ("student_t", lambda: D.StudentT(t(7.0), t(0.5), t(1.2)), (-4000.0, 4000.0), "mve"),
    ("relaxed_bernoulli", lambda: D.RelaxedBernoulli(t(2.0), probs=t(0.3)), (1e-9, 1 - 1e-9), ""),
    (
        "mixture",
        lambda: D.MixtureSameFamily(
            D.Categorical(probs=t(0.3, 0.7)), D.Normal(t(-1.0, 2.0), t(0.5, 1.0))
        ),
        (-15.0, 16.0),
        "mvc",
    ),
]


@pytest.mark.parametrize(
    ("make", "bounds", "checks"), [c[1:] for c in QUADRATURE], ids=[c[0] for c in QUADRATURE]
)
def test_moments_entropy_and_cdf_by_quadrature(
    make, bounds: tuple[float, float], checks: str
) -> None:
    """The density integrates to 1; (m)ean, (v)ariance, (e)ntropy and (c)df match integrals."""
    d = make()
    low, high = bounds
    # NOTE: a geometric grid towards each bound resolves heavy tails, a uniform one the body
    tails = np.geomspace(1e-6, max(abs(low), abs(high)), 20_000)
    grid = np.unique(
        np.clip(np.concatenate([np.linspace(low, high, 200_001), tails, -tails]), low, high)
    )
    x = grid[1:-1]
    with np.errstate(divide="ignore"):
        log_p = d.log_prob(ac.tensor(x)).numpy()
    p = np.exp(log_p)

    def integrate(f: np.ndarray) -> float:
        return float(np.trapezoid(f, x))

    assert integrate(p) == pytest.approx(1.0, abs=2e-4)
    mean = integrate(x * p)
    if "m" in checks:
        assert d.mean.item() == pytest.approx(mean, rel=1e-3, abs=1e-4)
    if "v" in checks:
        assert d.variance.item() == pytest.approx(integrate((x - mean) ** 2 * p), rel=2e-3)
    if "e" in checks:
        plogp = np.where(p > 0, p * log_p, 0.0)
        assert d.entropy().item() == pytest.approx(-integrate(plogp), rel=1e-3, abs=1e-4)
    if "c" in checks:
        for point in np.quantile(x[p > 1e-3], [0.3, 0.7]):
            inside = x <= point
            area = float(np.trapezoid(p[inside], x[inside]))
            assert d.cdf(t(point)).item() == pytest.approx(area, abs=1e-3)


DISCRETE = [
    ("bernoulli", lambda: D.Bernoulli(logits=t(-0.4)), 2),
    ("geometric", lambda: D.Geometric(probs=t(0.35)), 200),
    ("binomial", lambda: D.Binomial(12, logits=t(0.3)), 13),
    ("poisson", lambda: D.Poisson(t(3.5)), 100),
]


@pytest.mark.parametrize(("make", "size"), [c[1:] for c in DISCRETE], ids=[c[0] for c in DISCRETE])
def test_discrete_moments_and_entropy_by_enumeration(make, size: int) -> None:
    d = make()
    k = np.arange(size, dtype=float)
    log_p = d.log_prob(ac.tensor(k)).numpy()
    p = np.exp(log_p)
    assert p.sum() == pytest.approx(1.0, rel=1e-12)
    mean = (k * p).sum()
    assert d.mean.item() == pytest.approx(mean, rel=1e-12)
    assert d.variance.item() == pytest.approx(((k - mean) ** 2 * p).sum(), rel=1e-10)
    assert d.mode.item() == k[np.argmax(p)]
    if not isinstance(d, D.Poisson):  # NOTE: PyTorch's Poisson has no entropy either
        assert d.entropy().item() == pytest.approx(-(p * log_p).sum(), rel=1e-10)


# ---------------------------------------------------------------- sampling
SAMPLED = [
    ("normal", lambda: D.Normal(t(0.5, -2.0), t(1.5, 0.2))),
    ("lognormal", lambda: D.LogNormal(t(0.2), t(0.4))),
    ("uniform", lambda: D.Uniform(t(-1.0), t(2.0))),
    ("exponential", lambda: D.Exponential(t(2.0, 0.5))),
    ("laplace", lambda: D.Laplace(t(0.5), t(0.7))),
    ("gamma", lambda: D.Gamma(t(0.5, 3.0), t(2.0, 1.0))),
    ("chi2", lambda: D.Chi2(t(4.0))),
    ("beta", lambda: D.Beta(t(0.5, 2.5), t(3.5, 0.8))),
    ("dirichlet", lambda: D.Dirichlet(t(0.5, 2.0, 3.0))),
    ("student_t", lambda: D.StudentT(t(9.0), t(0.5), t(1.2))),
    ("bernoulli", lambda: D.Bernoulli(probs=t(0.3, 0.9))),
    ("geometric", lambda: D.Geometric(logits=t(0.2))),
    ("binomial", lambda: D.Binomial(t(5.0, 20.0), probs=t(0.3, 0.6))),
    ("poisson", lambda: D.Poisson(t(0.5, 7.0))),
    ("one_hot_categorical", lambda: D.OneHotCategorical(probs=t(0.2, 0.3, 0.5))),
    ("multinomial", lambda: D.Multinomial(6, probs=ac.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=F64))),
    (
        "mvn",
        lambda: D.MultivariateNormal(
            t(1.0, -1.0), covariance_matrix=ac.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=F64)
        ),
    ),
    ("independent", lambda: D.Independent(D.Laplace(t(0.5, 1.0), t(0.7, 0.1)), 1)),
    (
        "mixture",
        lambda: D.MixtureSameFamily(
            D.Categorical(probs=t(0.3, 0.7)), D.Normal(t(-1.0, 2.0), t(0.5, 1.0))
        ),
    ),
    (
        "mixture_of_mvn",
        lambda: D.MixtureSameFamily(
            D.Categorical(logits=t(0.3, -0.7)),
            D.Independent(
                D.Normal(ac.tensor([[-1.0, 0.0], [2.0, 1.0]], dtype=F64), t(0.5, 1.0)), 1
            ),
        ),
    ),
]


@pytest.mark.parametrize("make", [c[1] for c in SAMPLED], ids=[c[0] for c in SAMPLED])
def test_sample_statistics_match_moments(make) -> None:
    ac.manual_seed(0)
    d = make()
    n = 40_000
    draws = d.sample((n,))
    assert draws.shape == (n, *d.batch_shape, *d.event_shape)
    assert draws.dtype == ac.float64 and not draws.req_grad
    assert bool(d.support.check(draws).all())
    x = draws.numpy()
    mean, var = d.mean.numpy(), d.variance.numpy()
    # NOTE: within 5 standard errors: sqrt(var / n) for the mean, and the spread of the
    # squared deviations (estimated from the draws) over sqrt(n) for the variance
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * np.sqrt(var / n))
    deviations = (x - mean) ** 2
    assert np.all(np.abs(deviations.mean(0) - var) <= 5 * deviations.std(0) / np.sqrt(n))


def test_categorical_and_cauchy_sample_frequencies_and_quantiles() -> None:
    ac.manual_seed(0)
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
    draws = D.Categorical(probs=ac.tensor(probs)).sample((20_000,))
    assert draws.dtype == ac.int64 and draws.shape == (20_000, 2)
    freq = np.stack([(draws.numpy() == k).mean(0) for k in range(3)], -1)
    assert np.all(np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / 20_000) + 1e-12)
    cauchy = D.Cauchy(t(0.5), t(2.0))
    x = cauchy.sample((20_000,)).numpy()
    quartiles = cauchy.icdf(t(0.25, 0.5, 0.75)).numpy()
    np.testing.assert_allclose(np.quantile(x, [0.25, 0.5, 0.75]), quartiles, atol=0.1)


def test_samples_follow_the_seed_and_the_parameters_dtype() -> None:
    d = D.Normal(ac.tensor([0.0, 1.0]), 2.0)
    ac.manual_seed(3)
    first = d.sample((5,)).numpy()
    ac.manual_seed(3)
    np.testing.assert_array_equal(d.sample((5,)).numpy(), first)
    assert d.sample().dtype == ac.float32
    assert D.Gamma(ac.tensor(2.0), 1.0).sample((3,)).dtype == ac.float32
    assert D.Poisson(ac.tensor([2.0], dtype=F64)).sample().dtype == ac.float64
    assert D.Normal(0.0, 1.0).sample((2, 3)).shape == (2, 3)
    assert str(d.sample().device) == str(d.loc.device)


# ---------------------------------------------------------------- gradients
def _fixed_noise(fn: Callable[..., ac.Tensor]) -> Callable[..., ac.Tensor]:
    """Reseed before every call so that finite differences see the same noise."""

    def wrapped(*args: ac.Tensor) -> ac.Tensor:
        ac.manual_seed(7)
        return fn(*args)

    return wrapped


def _p(*values: float) -> ac.Tensor:
    return ac.tensor(np.array(values, dtype=float), dtype=F64, req_grad=True)


def _spd(m: ac.Tensor) -> ac.Tensor:
    return m @ m.mT + ac.eye(m.shape[-1], dtype=F64)


RSAMPLE = [
    ("normal", lambda a, b: D.Normal(a, b.exp()), (P(0.5, -1.0), P(0.1, 0.3))),
    ("lognormal", lambda a, b: D.LogNormal(a, b), (P(0.5, -1.0), P(0.4, 0.7))),
    ("uniform", lambda a, b: D.Uniform(a, a + b), (P(0.5, -1.0), P(1.0, 2.0))),
    ("exponential", lambda a: D.Exponential(a), (P(0.5, 2.0),)),
    ("laplace", lambda a, b: D.Laplace(a, b), (P(0.5, -1.0), P(1.0, 2.0))),
    ("cauchy", lambda a, b: D.Cauchy(a, b), (P(0.5, -1.0), P(1.0, 2.0))),
    (
        "mvn_covariance",
        lambda a, m: D.MultivariateNormal(a, covariance_matrix=_spd(m)),
        (P(0.5, -1.0), np.array([[1.0, 0.2], [-0.3, 0.8]])),
    ),
    (
        "mvn_precision",
        lambda a, m: D.MultivariateNormal(a, precision_matrix=_spd(m)),
        (P(0.5, -1.0), np.array([[1.0, 0.2], [-0.3, 0.8]])),
    ),
    (
        "relaxed_bernoulli",
        lambda a, b: D.RelaxedBernoulli(a, logits=b),
        (P(0.5, 2.0), P(0.3, -1.0)),
    ),
    (
        "relaxed_one_hot",
        lambda a, b: D.RelaxedOneHotCategorical(a, logits=b),
        (P(0.7), P(0.3, -1.0, 0.2)),
    ),
    ("independent", lambda a, b: D.Independent(D.Normal(a, b), 1), (P(0.5, -1.0), P(1.0, 2.0))),
    (
        "transformed",
        lambda a, b: D.TransformedDistribution(
            D.Normal(a, b), [D.AffineTransform(0.3, b), D.TanhTransform()]
        ),
        (P(0.5, -1.0), P(1.0, 0.5)),
    ),
]


@pytest.mark.parametrize(("make", "params"), [c[1:] for c in RSAMPLE], ids=[c[0] for c in RSAMPLE])
def test_rsample_gradients_by_gradcheck(make, params: tuple[np.ndarray, ...]) -> None:
    params = [ac.tensor(p, dtype=F64, req_grad=True) for p in params]
    d = make(*params)
    assert d.has_rsample
    assert ac.autograd.gradcheck(_fixed_noise(lambda *p: make(*p).rsample((3,))), list(params))


def test_rsample_of_normal_is_the_location_scale_path() -> None:
    loc, scale = _p(0.5), _p(2.0)
    ac.manual_seed(0)
    x = D.Normal(loc, scale).rsample((4,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad, [4.0])
    np.testing.assert_allclose(scale.grad, [((x.detach() - 0.5) / 2.0).sum().item()])


def test_discrete_distributions_have_no_reparameterized_draws() -> None:
    for d in (D.Poisson(1.0), D.Categorical(t(0.5, 0.5)), D.Bernoulli(probs=t(0.5))):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError, match="rsample"):
            d.rsample()


# NOTE: exact -(dF/dα)/f from mpmath (incomplete gamma and beta functions to 30 digits);
# PyTorch's approximations, ported, are good to about 1e-4 (gamma) and 6e-4 (the beta
# saddle-point branch), and exact to rounding in their Taylor-series branches
GAMMA_GRADS = [  # (alpha, x, dx/dalpha)
    (0.3, 0.1, 0.7894044031182723),
    (0.5, 0.7, 1.5867249444503855),
    (2.0, 1.5, 0.9366390678772173),
    (2.0, 4.0, 1.5059739450020435),
    (5.0, 9.0, 1.367118188723254),
    (12.0, 11.5, 0.992570973430056),
    (12.0, 6.0, 0.7026667658942963),
    (30.0, 40.0, 1.15712742643314),
]
BETA_GRADS = [  # (alpha, beta, x, -(dF/dalpha) / f / (1 - x))
    (0.5, 2.0, 0.05, 0.25622937052573497),
    (2.0, 3.0, 0.4, 0.23232000008444886),
    (8.0, 9.0, 0.47, 0.061219785642766957),
    (8.0, 9.0, 0.3, 0.04838420402171428),
    (3.0, 0.3, 0.99, 0.3715075288392051),
    (1.5, 1.5, 0.6, 0.4579987206315747),
]


def test_implicit_gradients_match_the_incomplete_gamma_and_beta_functions() -> None:
    from auto_compyute.distributions.implicit import dirichlet_grad, standard_gamma_grad

    alpha, x, expected = (np.array(c) for c in zip(*GAMMA_GRADS, strict=True))
    ours = standard_gamma_grad(ac.tensor(alpha), ac.tensor(x)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-4)
    a, b, x, expected = (np.array(c) for c in zip(*BETA_GRADS, strict=True))
    ours = dirichlet_grad(ac.tensor(x), ac.tensor(a), ac.tensor(a + b)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=6e-4)


def _leaf(n: int, *values: float) -> ac.Tensor:
    """One copy of the parameters per draw, so that .grad holds per-draw gradients."""
    tiled = np.tile(np.array(values, dtype=float), (n, 1))
    return ac.tensor(tiled[:, 0] if len(values) == 1 else tiled, req_grad=True)


def _unbiased(per_draw: np.ndarray, expected: Any) -> None:
    """The mean per-draw gradient is within 5 standard errors of the exact one."""
    error = np.abs(per_draw.mean(0) - expected)
    assert np.all(error <= 5 * per_draw.std(0) / math.sqrt(len(per_draw)))


def test_implicit_reparameterization_is_unbiased() -> None:
    """The mean gradient of f(draw) is the gradient of E[f] for moments with closed forms."""
    ac.manual_seed(0)
    n = 20_000
    a, r = _leaf(n, 0.3, 2.0, 15.0), _leaf(n, 2.0, 0.5, 1.0)
    (D.Gamma(a, r).rsample() ** 2).sum().backward()
    av, rv = np.array([0.3, 2.0, 15.0]), np.array([2.0, 0.5, 1.0])
    _unbiased(a.grad, (2 * av + 1) / rv**2)  # E[x^2] = a (a + 1) / r^2
    _unbiased(r.grad, -2 * av * (av + 1) / rv**3)
    concentration, w = np.array([0.5, 2.0, 7.0]), np.array([1.0, -2.0, 0.5])
    c = _leaf(n, *concentration)
    (D.Dirichlet(c).rsample() * ac.tensor(w)).sum().backward()
    total = concentration.sum()
    jacobian = (np.eye(3) * total - concentration[:, None]) / total**2  # of E[x] = c / total
    _unbiased(c.grad, jacobian.T @ w)
    c1, c0 = _leaf(n, 2.0), _leaf(n, 0.7)
    D.Beta(c1, c0).rsample().sum().backward()
    _unbiased(np.stack([c1.grad, c0.grad], -1), [0.7 / 2.7**2, -2.0 / 2.7**2])
    df = _leaf(n, 10.0)
    (D.StudentT(df).rsample() ** 2).sum().backward()
    _unbiased(df.grad, -2 / 8**2)  # E[x^2] = df / (df - 2)


SCORES = [
    ("normal", lambda a, b: D.Normal(a, b), (P(0.5, -1.0), P(1.0, 2.0)), P(0.1, 0.4), True),
    ("gamma", lambda a, b: D.Gamma(a, b), (P(0.5, 2.0), P(1.0, 2.0)), P(0.1, 0.4), True),
    ("beta", lambda a, b: D.Beta(a, b), (P(0.5, 2.0), P(1.0, 2.0)), P(0.1, 0.4), True),
    ("student_t", lambda a, b: D.StudentT(a, b), (P(2.5, 6.0), P(1.0, -2.0)), P(0.1, 0.4), True),
    ("dirichlet", lambda a: D.Dirichlet(a), (P(0.5, 1.0, 1.5),), P(0.2, 0.3, 0.5), False),
    ("binomial", lambda a: D.Binomial(6, logits=a), (P(0.5, -2.0),), P(1.0, 4.0), False),
    ("geometric", lambda a: D.Geometric(probs=a), (P(0.5, 0.2),), P(1.0, 4.0), False),
    (
        "categorical",
        lambda a: D.Categorical(logits=a),
        (P(0.5, -2.0, 0.3),),
        np.array([2, 0]),
        False,
    ),
    (
        "mvn",
        lambda a, m: D.MultivariateNormal(a, scale_tril=ac.linalg.cholesky(_spd(m))),
        (P(0.5, -1.0), np.array([[1.0, 0.2], [-0.3, 0.8]])),
        P(0.3, 0.1),
        True,
    ),
    (
        "mixture",
        lambda a, b: D.MixtureSameFamily(D.Categorical(logits=a), D.Laplace(b, 1.0)),
        (P(0.5, -2.0), P(0.2, 1.3)),
        P(0.1, 0.4),
        True,
    ),
    (
        "relaxed_one_hot",
        lambda a, b: D.RelaxedOneHotCategorical(a, logits=b),
        (P(0.7), P(0.3, -1.0, 0.2)),
        P(0.2, 0.3, 0.5),
        False,
    ),
]


@pytest.mark.parametrize(
    ("make", "params", "value", "value_grad"),
    [c[1:] for c in SCORES],
    ids=[c[0] for c in SCORES],
)
def test_log_prob_and_entropy_gradients_by_gradcheck(
    make, params: tuple[np.ndarray, ...], value: np.ndarray, value_grad: bool
) -> None:
    params = [ac.tensor(p, dtype=F64, req_grad=True) for p in params]
    value = ac.tensor(value, dtype=F64 if value.dtype.kind == "f" else None, req_grad=value_grad)
    inputs = [*params, value] if value_grad else list(params)

    def log_prob(*args: ac.Tensor) -> ac.Tensor:
        d = make(*args[: len(params)])
        return d.log_prob(args[len(params)] if value_grad else value)

    assert ac.autograd.gradcheck(log_prob, inputs)
    if not isinstance(make(*params), D.MixtureSameFamily | D.RelaxedOneHotCategorical):
        assert ac.autograd.gradcheck(lambda *p: make(*p).entropy(), list(params))


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: D.Normal(0.0, t(1.0, -1.0)), "scale"),
        (lambda: D.Exponential(t(0.0)), "rate"),
        (lambda: D.Bernoulli(probs=t(1.5)), "probs"),
        (lambda: D.Categorical(probs=t(0.75, -0.25)), "probs"),
        (lambda: D.Dirichlet(t(1.0, 0.0)), "concentration"),
        (lambda: D.Binomial(t(2.5), probs=t(0.5)), "total_count"),
        (
            lambda: D.MultivariateNormal(t(0.0, 0.0), scale_tril=ac.eye(2, dtype=F64) - 2),
            "scale_tril",
        ),
        (
            lambda: D.MultivariateNormal(
                t(0.0, 0.0), covariance_matrix=ac.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
            ),
            "covariance_matrix",
        ),
        (lambda: D.Gamma(t(1.0), t(float("nan"))), "rate"),
    ],
)
def test_invalid_parameters_raise_value_error_naming_them(build, name: str) -> None:
    with pytest.raises(ValueError, match=f"Expected parameter {name}"):
        build()


def test_invalid_values_and_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="within the support"):
        D.Exponential(1.0).log_prob(t(-1.0))
    with pytest.raises(ValueError, match="within the support"):
        D.Categorical(probs=t(0.5, 0.5)).log_prob(ac.tensor(2))
    with pytest.raises(ValueError, match="within the support"):
        D.Bernoulli(probs=t(0.5)).log_prob(t(0.5))
    with pytest.raises(ValueError, match="broadcastable"):
        D.Normal(t(0.0, 1.0), 1.0).log_prob(t(0.0, 1.0, 2.0))
    with pytest.raises(ValueError, match="event_shape"):
        D.Dirichlet(t(1.0, 1.0)).log_prob(t(0.2, 0.3, 0.5))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Bernoulli(probs=t(0.5), logits=t(0.0))
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="low >= high"):
        D.Uniform(t(1.0), t(1.0))
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(ac.zeros(1), ac.eye(1), scale_tril=ac.eye(1))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Categorical(probs=t(1.0))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(t(0.0, 1.0), 1.0), 2)
    with pytest.raises(ValueError, match="do not equal"):
        D.MixtureSameFamily(D.Categorical(logits=t(0.0, 0.0, 0.0)), D.Normal(t(0.0, 1.0), 1.0))
    with pytest.raises(ValueError, match="True or False"):
        D.Distribution.set_default_validate_args("yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Tensor or a number"):
        D.Normal([0.0], 1.0)


def test_validation_can_be_switched_off() -> None:
    D.Normal(0.0, -1.0, validate_args=False)
    D.Exponential(1.0, validate_args=False).log_prob(t(-1.0))
    previous = D.Distribution._validate_args
    D.Distribution.set_default_validate_args(False)
    try:
        assert D.Normal(0.0, -1.0).scale.item() == -1.0
        with pytest.raises(ValueError, match="scale"):
            D.Normal(0.0, -1.0, validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(previous)
    with pytest.raises(ValueError, match="scale"):
        D.Normal(0.0, -1.0)


# ---------------------------------------------------------------- shapes and expand
def test_expand_broadcasts_parameters_and_keeps_values() -> None:
    d = D.Normal(t(0.0, 1.0), 2.0)
    e = d.expand((3, 2))
    assert e.batch_shape == (3, 2) and type(e) is D.Normal
    np.testing.assert_allclose(e.log_prob(t(0.5)).numpy()[1], d.log_prob(t(0.5)).numpy())
    for dist, shape in [
        (D.Dirichlet(t(1.0, 2.0, 3.0)), (4,)),
        (D.LogNormal(t(0.0), t(1.0)), (2, 1)),
        (D.Chi2(t(3.0)), (2,)),
        (D.Beta(t(2.0), t(3.0)), (5,)),
        (D.Categorical(logits=t(0.0, 1.0)), (3,)),
        (D.MultivariateNormal(t(0.0, 1.0), scale_tril=ac.eye(2, dtype=F64)), (3,)),
        (D.RelaxedOneHotCategorical(0.5, probs=t(0.2, 0.8)), (2,)),
    ]:
        expanded = dist.expand(shape)
        assert type(expanded) is type(dist) and expanded.batch_shape == shape
        assert expanded.sample().shape == shape + dist.event_shape
    nested = D.Independent(D.Normal(ac.zeros(2, 3, dtype=F64), 1.0), 1)
    assert (nested.batch_shape, nested.event_shape) == ((2,), (3,))
    assert nested.expand((4, 2)).batch_shape == (4, 2)


# ---------------------------------------------------------------- transforms
TRANSFORMS = [
    ("exp", lambda: D.ExpTransform()),
    ("sigmoid", lambda: D.SigmoidTransform()),
    ("tanh", lambda: D.TanhTransform()),
    ("affine", lambda: D.AffineTransform(0.5, -2.0)),
    ("affine_tensor", lambda: D.AffineTransform(t(0.5, 1.0, 0.0), t(2.0, -1.0, 0.5))),
    ("compose", lambda: D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.TanhTransform()])),
    ("inverse", lambda: D.ComposeTransform([D.ExpTransform(), D.ExpTransform().inv])),
]


@pytest.mark.parametrize("make", [c[1] for c in TRANSFORMS], ids=[c[0] for c in TRANSFORMS])
def test_transforms_invert_and_give_the_log_jacobian(make) -> None:
    transform = make()
    x = t(-0.7, 0.2, 1.1)
    y = transform(x)
    np.testing.assert_allclose(transform.inv(y).numpy(), x.numpy(), rtol=1e-9)
    eps = 1e-6
    slope = (transform(x + eps).numpy() - transform(x - eps).numpy()) / (2 * eps)
    np.testing.assert_allclose(
        transform.log_abs_det_jacobian(x, y).numpy(), np.log(np.abs(slope)), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        transform.inv.log_abs_det_jacobian(y, x).numpy(),
        -transform.log_abs_det_jacobian(x, y).numpy(),
    )
    assert transform.bijective
    assert transform.inv.inv is transform


def test_transform_equality_and_event_dims() -> None:
    assert D.ExpTransform() == D.ExpTransform()
    assert D.AffineTransform(0.0, 2.0) == D.AffineTransform(0.0, 2.0)
    assert D.AffineTransform(0.0, 2.0) != D.AffineTransform(0.0, 3.0)
    compose = D.ComposeTransform(
        [D.AffineTransform(0.0, t(1.0, 2.0), event_dim=1), D.ExpTransform()]
    )
    assert compose.domain.event_dim == 1 and compose.codomain.event_dim == 1
    x = t(0.1, 0.2)
    np.testing.assert_allclose(
        compose.log_abs_det_jacobian(x, compose(x)).item(), math.log(2) + 0.1 + 0.4
    )
    assert D.AffineTransform(0.0, -1.0).sign == -1


def test_transformed_distribution_matches_a_change_of_variables() -> None:
    base = D.Normal(t(0.3), t(0.8))
    d = D.TransformedDistribution(base, [D.AffineTransform(1.0, 2.0), D.ExpTransform()])
    y = t(0.5, 2.0, 7.0)
    z = (np.log(y.numpy()) - 1.0) / 2.0
    expected = base.log_prob(ac.tensor(z)).numpy() - np.log(2.0 * y.numpy())
    np.testing.assert_allclose(d.log_prob(y).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(d.cdf(y).numpy(), base.cdf(ac.tensor(z)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.icdf(d.cdf(y)).numpy(), y.numpy(), rtol=1e-9)
    decreasing = D.TransformedDistribution(base, D.AffineTransform(0.0, -1.0))
    np.testing.assert_allclose(decreasing.cdf(t(0.2)).item(), 1 - base.cdf(t(-0.2)).item())
    assert d.support.check(t(-1.0)).item() is False


# ---------------------------------------------------------------- KL divergence
def test_kl_closed_forms_exactly() -> None:
    kl = D.kl_divergence(D.Normal(t(0.5), t(2.0)), D.Normal(t(-1.0), t(0.5)))
    expected = math.log(0.5 / 2.0) + (4.0 + 1.5**2) / (2 * 0.25) - 0.5
    assert kl.item() == pytest.approx(expected, rel=1e-14)
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.3, 0.1])
    kl = D.kl_divergence(D.Categorical(probs=ac.tensor(p)), D.Categorical(probs=ac.tensor(q)))
    assert kl.item() == pytest.approx((p * np.log(p / q)).sum(), rel=1e-12)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 3))
    s0, s1 = a @ a.T + np.eye(3), b @ b.T + np.eye(3)
    m0, m1 = rng.standard_normal((2, 3))
    kl = D.kl_divergence(
        D.MultivariateNormal(ac.tensor(m0), covariance_matrix=ac.tensor(s0)),
        D.MultivariateNormal(ac.tensor(m1), precision_matrix=ac.tensor(np.linalg.inv(s1))),
    )
    inv1 = np.linalg.inv(s1)
    expected = 0.5 * (
        np.trace(inv1 @ s0)
        + (m1 - m0) @ inv1 @ (m1 - m0)
        - 3
        + np.linalg.slogdet(s1)[1]
        - np.linalg.slogdet(s0)[1]
    )
    assert kl.item() == pytest.approx(expected, rel=1e-10)
    kl = D.kl_divergence(D.Uniform(t(0.0, 0.0), t(1.0, 1.0)), D.Uniform(t(-1.0, 0.5), t(3.0, 3.0)))
    np.testing.assert_array_equal(kl.numpy(), [math.log(4.0), math.inf])
    kl = D.kl_divergence(D.Bernoulli(probs=t(0.0, 0.5)), D.Bernoulli(probs=t(0.5, 1.0)))
    np.testing.assert_allclose(kl.numpy(), [math.log(2.0), math.inf])
    kl = D.kl_divergence(D.Poisson(t(2.0)), D.Poisson(t(3.0)))
    assert kl.item() == pytest.approx(2 * math.log(2 / 3) + 1, rel=1e-14)


KL_PAIRS = [
    ("normal", lambda: (D.Normal(t(0.5), t(1.5)), D.Normal(t(-0.5), t(2.0)))),
    ("lognormal", lambda: (D.LogNormal(t(0.5), t(0.5)), D.LogNormal(t(0.0), t(0.7)))),
    ("laplace", lambda: (D.Laplace(t(0.5), t(1.0)), D.Laplace(t(-0.5), t(2.0)))),
    ("cauchy", lambda: (D.Cauchy(t(0.5), t(1.0)), D.Cauchy(t(-0.5), t(2.0)))),
    ("exponential", lambda: (D.Exponential(t(1.5)), D.Exponential(t(0.7)))),
    ("uniform", lambda: (D.Uniform(t(0.0), t(1.0)), D.Uniform(t(-1.0), t(2.0)))),
    ("gamma", lambda: (D.Gamma(t(2.0), t(1.5)), D.Gamma(t(3.0), t(1.0)))),
    ("beta", lambda: (D.Beta(t(2.0), t(1.5)), D.Beta(t(3.0), t(1.0)))),
    ("dirichlet", lambda: (D.Dirichlet(t(2.0, 1.5, 1.0)), D.Dirichlet(t(1.0, 1.0, 3.0)))),
    ("bernoulli", lambda: (D.Bernoulli(probs=t(0.3)), D.Bernoulli(logits=t(0.5)))),
    (
        "categorical",
        lambda: (D.Categorical(probs=t(0.2, 0.3, 0.5)), D.Categorical(logits=t(0.0, 1.0, -1.0))),
    ),
    (
        "one_hot",
        lambda: (
            D.OneHotCategorical(probs=t(0.2, 0.3, 0.5)),
            D.OneHotCategorical(logits=t(0.0, 1.0, -1.0)),
        ),
    ),
    ("poisson", lambda: (D.Poisson(t(2.0)), D.Poisson(t(3.0)))),
    ("geometric", lambda: (D.Geometric(probs=t(0.3)), D.Geometric(probs=t(0.6)))),
    ("binomial", lambda: (D.Binomial(8, probs=t(0.3)), D.Binomial(8, probs=t(0.6)))),
    (
        "mvn",
        lambda: (
            D.MultivariateNormal(
                t(0.5, 1.0), covariance_matrix=ac.tensor([[1.0, 0.3], [0.3, 2.0]], dtype=F64)
            ),
            D.MultivariateNormal(
                t(0.0, 0.0), scale_tril=ac.tensor([[1.5, 0.0], [0.4, 1.0]], dtype=F64)
            ),
        ),
    ),
    (
        "independent",
        lambda: (
            D.Independent(D.Normal(t(0.5, 1.0), t(1.0, 2.0)), 1),
            D.Independent(D.Normal(t(0.0, 0.0), t(1.5, 1.0)), 1),
        ),
    ),
    ("bernoulli_poisson", lambda: (D.Bernoulli(probs=t(0.3)), D.Poisson(t(0.8)))),
    ("beta_exponential", lambda: (D.Beta(t(2.0), t(1.5)), D.Exponential(t(1.5)))),
    ("beta_gamma", lambda: (D.Beta(t(2.0), t(1.5)), D.Gamma(t(2.0), t(3.0)))),
    ("beta_normal", lambda: (D.Beta(t(2.0), t(1.5)), D.Normal(t(0.3), t(0.5)))),
    ("beta_uniform", lambda: (D.Beta(t(2.0), t(1.5)), D.Uniform(t(-0.5), t(1.0)))),
    ("exponential_gamma", lambda: (D.Exponential(t(1.5)), D.Gamma(t(2.0), t(1.0)))),
    ("exponential_chi2", lambda: (D.Exponential(t(0.5)), D.Chi2(t(3.0)))),
    ("exponential_normal", lambda: (D.Exponential(t(1.5)), D.Normal(t(0.5), t(1.0)))),
    ("gamma_exponential", lambda: (D.Gamma(t(2.0), t(1.5)), D.Exponential(t(0.7)))),
    ("chi2_exponential", lambda: (D.Chi2(t(3.0)), D.Exponential(t(0.4)))),
    ("gamma_normal", lambda: (D.Gamma(t(2.0), t(1.5)), D.Normal(t(1.0), t(1.2)))),
    ("laplace_normal", lambda: (D.Laplace(t(0.5), t(1.0)), D.Normal(t(-0.5), t(2.0)))),
    ("normal_laplace", lambda: (D.Normal(t(0.5), t(1.0)), D.Laplace(t(-0.5), t(2.0)))),
    ("uniform_beta", lambda: (D.Uniform(t(0.2), t(0.7)), D.Beta(t(2.0), t(1.5)))),
    ("uniform_exponential", lambda: (D.Uniform(t(0.5), t(2.0)), D.Exponential(t(0.7)))),
    ("uniform_gamma", lambda: (D.Uniform(t(0.5), t(2.0)), D.Gamma(t(2.0), t(1.5)))),
    ("uniform_normal", lambda: (D.Uniform(t(-1.0), t(2.0)), D.Normal(t(0.5), t(1.5)))),
]


@pytest.mark.parametrize("make", [c[1] for c in KL_PAIRS], ids=[c[0] for c in KL_PAIRS])
def test_kl_matches_a_monte_carlo_estimate(make) -> None:
    ac.manual_seed(0)
    p, q = make()
    x = p.sample((40_000,))
    ratio = (p.log_prob(x) - q.log_prob(x)).numpy()
    kl = D.kl_divergence(p, q).item()
    assert abs(ratio.mean() - kl) < 5 * ratio.std() / math.sqrt(len(ratio)) + 1e-12


def test_kl_gradients_by_gradcheck() -> None:
    def kl(a: ac.Tensor, b: ac.Tensor, c: ac.Tensor, m: ac.Tensor) -> ac.Tensor:
        normal = D.kl_divergence(D.Normal(a, b), D.Normal(c, b * 2))
        gamma = D.kl_divergence(D.Gamma(b, c.exp()), D.Gamma(c.exp(), b))
        mvn = D.kl_divergence(
            D.MultivariateNormal(a, covariance_matrix=_spd(m)),
            D.MultivariateNormal(c, precision_matrix=_spd(m.mT)),
        )
        return ac.cat([normal, gamma, mvn.reshape(1)])

    m = ac.tensor([[1.0, 0.2], [-0.3, 0.8]], dtype=F64, req_grad=True)
    assert ac.autograd.gradcheck(kl, [_p(0.5, -1.0), _p(1.0, 2.0), _p(0.3, 0.1), m])


INFINITE_KL = [
    ("exponential_beta", lambda: D.Exponential(t(1.0, 2.0)), lambda: D.Beta(t(2.0), t(1.5))),
    ("exponential_uniform", lambda: D.Exponential(t(1.0, 2.0)), lambda: D.Uniform(t(0.0), t(9.0))),
    ("gamma_beta", lambda: D.Gamma(t(1.0, 2.0), t(1.0)), lambda: D.Beta(t(2.0), t(1.5))),
    ("chi2_uniform", lambda: D.Chi2(t(1.0, 2.0)), lambda: D.Uniform(t(0.0), t(9.0))),
    ("laplace_beta", lambda: D.Laplace(t(0.5, 0.0), t(1.0)), lambda: D.Beta(t(2.0), t(1.5))),
    ("laplace_exponential", lambda: D.Laplace(t(0.5, 0.0), t(1.0)), lambda: D.Exponential(t(1.0))),
    ("laplace_gamma", lambda: D.Laplace(t(0.5, 0.0), t(1.0)), lambda: D.Gamma(t(2.0), t(1.0))),
    ("laplace_uniform", lambda: D.Laplace(t(0.5, 0.0), t(1.0)), lambda: D.Uniform(t(-9.0), t(9.0))),
    ("normal_beta", lambda: D.Normal(t(0.5, 0.0), t(1.0)), lambda: D.Beta(t(2.0), t(1.5))),
    ("normal_exponential", lambda: D.Normal(t(0.5, 0.0), t(1.0)), lambda: D.Exponential(t(1.0))),
    ("normal_gamma", lambda: D.Normal(t(0.5, 0.0), t(1.0)), lambda: D.Gamma(t(2.0), t(1.0))),
    ("normal_uniform", lambda: D.Normal(t(0.5, 0.0), t(1.0)), lambda: D.Uniform(t(-9.0), t(9.0))),
    ("poisson_bernoulli", lambda: D.Poisson(t(0.5, 2.0)), lambda: D.Bernoulli(probs=t(0.5))),
    ("poisson_binomial", lambda: D.Poisson(t(0.5, 2.0)), lambda: D.Binomial(9, probs=t(0.5))),
]


@pytest.mark.parametrize(
    ("make_p", "make_q"), [c[1:] for c in INFINITE_KL], ids=[c[0] for c in INFINITE_KL]
)
def test_kl_is_infinite_where_q_misses_the_support_of_p(make_p, make_q) -> None:
    kl = D.kl_divergence(make_p(), make_q())
    assert kl.shape == (2,)
    assert kl.dtype == F64
    np.testing.assert_array_equal(kl.numpy(), [math.inf, math.inf])


def test_kl_against_a_uniform_is_infinite_off_the_support() -> None:
    beta = D.Beta(t(2.0, 2.0, 2.0), t(1.5, 1.5, 1.5))
    kl = D.kl_divergence(beta, D.Uniform(t(0.0, 0.1, 0.0), t(1.0, 1.0, 0.9))).numpy()
    assert np.isfinite(kl[0])
    np.testing.assert_array_equal(kl[1:], [math.inf, math.inf])
    uniform = D.Uniform(t(0.0, -0.1, 0.5), t(1.0, 0.5, 1.5))
    kl = D.kl_divergence(uniform, D.Beta(t(2.0), t(1.5))).numpy()
    assert np.isfinite(kl[0])
    np.testing.assert_array_equal(kl[1:], [math.inf, math.inf])
    for q in (D.Exponential(t(1.0)), D.Gamma(t(2.0), t(1.0))):
        kl = D.kl_divergence(uniform, q).numpy()
        assert np.isfinite(kl[[0, 2]]).all()
        assert kl[1] == math.inf


def test_cross_family_kl_gradients_by_gradcheck() -> None:
    def kl(a: ac.Tensor, b: ac.Tensor) -> ac.Tensor:
        return ac.cat(
            [
                D.kl_divergence(D.Beta(a, b), D.Gamma(b, a)),
                D.kl_divergence(D.Uniform(a * 0.1, a * 0.2), D.Beta(b, a)),
                D.kl_divergence(D.Normal(a, b), D.Laplace(b, a)),
                D.kl_divergence(D.Gamma(a, b), D.Normal(b, a)),
            ]
        )

    assert ac.autograd.gradcheck(kl, [_p(0.5, 2.0), _p(1.0, 3.0)])


def test_register_kl_dispatches_to_the_most_specific_pair() -> None:
    class MyNormal(D.Normal):
        pass

    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Cauchy(0.0, 1.0), D.Normal(0.0, 1.0))
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p: Any, q: Any) -> ac.Tensor:
        return ac.tensor(-1.0)

    try:
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == -1.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(1.0, 1.0)).item() == pytest.approx(0.5)
    finally:
        from auto_compyute.distributions import kl as kl_module

        del kl_module._KL_REGISTRY[MyNormal, D.Normal]
        kl_module._KL_MEMOIZE.clear()
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


def test_distributions_namespace() -> None:
    assert ac.distributions is D
    assert D.Normal(0.0, 1.0).__repr__() == "Normal(loc: 0.0, scale: 1.0)"  # as in PyTorch
    assert D.Normal(0.0, 1.0).perplexity().item() == pytest.approx(math.sqrt(2 * math.pi * math.e))
