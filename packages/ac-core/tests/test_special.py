"""Special functions against known values and independent formulas, and the new elementwise
and product functions' special cases and errors (float64 unless said)."""

import decimal
import math
from typing import Any

import numpy as np
import pytest

import auto_compyute as ac

EULER_GAMMA = 0.57721566490153286061
CATALAN = 0.91596559417721901505
ZETA_ODD = {3: 1.2020569031595942854, 5: 1.0369277551433699263, 7: 1.0083492773819228268}
ZETA_DECIMAL = {
    3: decimal.Decimal("1.2020569031595942853997381615114499907649862923405"),
    5: decimal.Decimal("1.0369277551433699263313654864570341680570809195019"),
}
PI_DECIMAL = decimal.Decimal("3.1415926535897932384626433832795028841971693993751")


def _f64(values) -> ac.Tensor:
    return ac.tensor(np.asarray(values, dtype=np.float64), dtype=ac.float64)


def _zeta(s: int) -> float:
    """The Riemann zeta function at an integer s >= 2."""
    if s % 2 == 0:
        return abs(_bernoulli_even(s)) * (2 * math.pi) ** s / (2 * math.factorial(s))
    if s in ZETA_ODD:
        return ZETA_ODD[s]
    return math.fsum(k**-s for k in range(1, 200))  # s >= 9: the rest is below 1e-20


def _bernoulli_even(s: int) -> float:
    return {2: 1 / 6, 4: -1 / 30, 6: 1 / 42, 8: -1 / 30}[s]


# ----------------------------------------------------------------------------- lgamma
def test_lgamma_matches_math_over_a_wide_range() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-60, 60, 4000),
            rng.uniform(0, 3, 2000),
            10 ** rng.uniform(-300, 305, 500),  # tiny to huge
            -(10 ** rng.uniform(-10, 12, 500)) + 0.37,  # negative, far out
        ]
    )
    x = x[x != np.round(x)]
    expected = np.array([math.lgamma(v) for v in x])
    result = ac.lgamma(_f64(x)).numpy()
    # NOTE: near the zeros of lgamma (1, 2, and between negative integers) the error is
    # absolute, in both implementations
    np.testing.assert_allclose(result, expected, rtol=1e-13, atol=4e-15)


def test_lgamma_exact_values_and_poles() -> None:
    n = np.arange(1, 171)
    factorials = np.array([math.log(math.factorial(k - 1)) for k in n])
    np.testing.assert_allclose(ac.lgamma(_f64(n)).numpy(), factorials, rtol=1e-14, atol=0)
    assert ac.lgamma(_f64(0.5)).item() == pytest.approx(0.5 * math.log(math.pi), rel=1e-15)
    special = ac.lgamma(_f64([0.0, -0.0, -1.0, -7.0, math.inf, -math.inf, math.nan])).numpy()
    assert np.isposinf(special[:6]).all() and np.isnan(special[6])
    assert ac.lgamma(_f64(3e305)).item() == math.inf


def test_lgamma_keeps_float32_and_turns_integers_into_floats() -> None:
    assert ac.lgamma(ac.tensor([1.5], dtype=ac.float32)).dtype == ac.float32
    result = ac.tensor([1, 2, 5]).lgamma()
    assert result.dtype == ac.float32
    np.testing.assert_allclose(result.numpy(), [0.0, 0.0, math.log(24)], rtol=1e-6)


# ---------------------------------------------------------------------------- digamma
def _digamma_rational(m: int, n: int) -> float:
    """Gauss's digamma theorem: digamma(m / n) for 0 < m < n, in closed form."""
    terms = [
        2 * math.cos(2 * math.pi * k * m / n) * math.log(math.sin(math.pi * k / n))
        for k in range(1, (n + 1) // 2)
    ]
    return math.fsum(
        [-EULER_GAMMA, -math.log(2 * n), -math.pi / 2 / math.tan(math.pi * m / n), *terms]
    )


def _digamma_shifted(m: int, n: int, shift: int) -> float:
    """digamma(m / n + shift) from the closed form and digamma(x + 1) = digamma(x) + 1/x."""
    base = m / n
    if shift >= 0:
        steps = [1 / (base + k) for k in range(shift)]
    else:
        steps = [-1 / (base + k) for k in range(shift, 0)]
    return math.fsum([_digamma_rational(m, n), *steps])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 12])
def test_digamma_at_rationals_with_gauss_theorem(n: int) -> None:
    points, expected = [], []
    for m in range(1, n):
        for shift in (-9, -4, -1, 0, 1, 2, 5, 11, 40):
            points.append(m / n + shift)
            expected.append(_digamma_shifted(m, n, shift))
    np.testing.assert_allclose(ac.digamma(_f64(points)).numpy(), expected, rtol=1e-13, atol=0)


def test_digamma_known_values_tails_and_poles() -> None:
    assert ac.digamma(_f64(1.0)).item() == pytest.approx(-EULER_GAMMA, rel=1e-15)
    assert ac.digamma(_f64(0.5)).item() == pytest.approx(-EULER_GAMMA - 2 * math.log(2), 1e-15)
    for x in (1e6, 1e12, 1e100, 1e300):  # log x - 1/(2x) - 1/(12 x^2) is exact there
        expected = math.log(x) - 0.5 / x - 1 / (12 * x * x)
        assert ac.digamma(_f64(x)).item() == pytest.approx(expected, rel=1e-15)
    tiny = 1e-200  # digamma(x) = -1/x - gamma + O(x) near 0
    assert ac.digamma(_f64(tiny)).item() == pytest.approx(-1 / tiny, rel=1e-15)
    special = ac.digamma(_f64([0.0, -0.0, -3.0, math.inf, -math.inf, math.nan])).numpy()
    assert special[0] == -math.inf and special[1] == math.inf and special[3] == math.inf
    assert np.isnan(special[[2, 4, 5]]).all()


# -------------------------------------------------------------------------- polygamma
def _polygamma_at_half_integers(n: int, shift: int) -> float:
    """polygamma(n, 1/2 + shift) from psi_n(1/2) = (-1)^(n+1) n! (2^(n+1) - 1) zeta(n+1) and
    psi_n(x + 1) = psi_n(x) + (-1)^n n! / x^(n+1), in 50-digit decimals (the recurrence
    cancels digits)."""
    with decimal.localcontext() as context:
        context.prec = 50
        s = n + 1
        half = decimal.Decimal(1) / 2
        zeta = ZETA_DECIMAL[s] if s in ZETA_DECIMAL else _zeta_even_decimal(s)
        total = (2**s - 1) * zeta
        if shift >= 0:
            total -= sum((half + k) ** -s for k in range(shift))
        else:
            total += sum((half + k) ** -s for k in range(shift, 0))
        return float((-1) ** s * math.factorial(n) * total)


def _zeta_even_decimal(s: int) -> decimal.Decimal:
    bernoulli = {2: decimal.Decimal(1) / 6, 4: decimal.Decimal(1) / 30, 6: decimal.Decimal(1) / 42}
    return bernoulli[s] * (2 * PI_DECIMAL) ** s / (2 * math.factorial(s))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_polygamma_at_one_and_half_integers(n: int) -> None:
    at_one = (-1) ** (n + 1) * math.factorial(n) * _zeta(n + 1)
    assert ac.polygamma(n, _f64(1.0)).item() == pytest.approx(at_one, rel=1e-14)
    shifts = [-6, -3, -1, 0, 1, 4, 12, 30]
    points = [0.5 + s for s in shifts]
    expected = [_polygamma_at_half_integers(n, s) for s in shifts]
    np.testing.assert_allclose(ac.polygamma(n, _f64(points)).numpy(), expected, rtol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_polygamma_for_large_x_follows_its_asymptotic_series(n: int) -> None:
    # (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)! / ((2k)! x^(2k+n))]
    for x in (1e3, 1e6, 1e20):
        terms = [math.factorial(n - 1) / x**n, math.factorial(n) / (2 * x ** (n + 1))]
        terms += [
            b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * x ** (2 * k + n))
            for k, b in ((1, 1 / 6), (2, -1 / 30), (3, 1 / 42))
        ]
        expected = (-1) ** (n + 1) * math.fsum(terms)
        assert ac.polygamma(n, _f64(x)).item() == pytest.approx(expected, rel=1e-14)


def test_trigamma_known_values() -> None:
    x = _f64([1.0, 0.5, 0.25, 0.75])
    expected = [
        math.pi**2 / 6,
        math.pi**2 / 2,
        math.pi**2 + 8 * CATALAN,
        math.pi**2 - 8 * CATALAN,
    ]
    np.testing.assert_allclose(x.polygamma(1).numpy(), expected, rtol=1e-14)
    # the reflection psi_1(1 - x) + psi_1(x) = pi^2 / sin^2(pi x) for negative x
    x = np.array([-0.3, -2.7, -11.2, -40.45])
    sum_ = ac.polygamma(1, _f64(1 - x)) + ac.polygamma(1, _f64(x))
    np.testing.assert_allclose(sum_.numpy(), math.pi**2 / np.sin(math.pi * x) ** 2, rtol=1e-13)


def test_polygamma_large_order_and_poles() -> None:
    n = 20
    expected = -math.factorial(n) * _zeta(n + 1)
    assert ac.polygamma(n, _f64(1.0)).item() == pytest.approx(expected, rel=1e-14)
    assert ac.polygamma(0, _f64(2.5)).item() == ac.digamma(_f64(2.5)).item()
    # a large order, also through the reflection: zeta(151, -1/2) = sum_k (2 / (2k + 3))^151
    big = ac.polygamma(150, _f64([1.0, -0.5]))
    at_one = -math.factorial(150) * _zeta(151)
    at_minus_half = -math.factorial(150) * math.fsum((2 / (2 * k + 3)) ** 151 for k in range(9))
    np.testing.assert_allclose(big.numpy(), [at_one, at_minus_half], rtol=1e-13)
    poles = _f64([0.0, -1.0, -4.0])
    assert np.isposinf(ac.polygamma(1, poles).numpy()).all()
    assert np.isneginf(ac.polygamma(2, poles).numpy()).all()
    assert ac.polygamma(3, _f64(math.inf)).item() == 0.0


def test_polygamma_checks_n() -> None:
    x = _f64([1.0])
    with pytest.raises(ValueError, match=r"n must be in \[0, 170\]"):
        x.polygamma(-1)
    with pytest.raises(ValueError, match=r"n must be in \[0, 170\]"):
        x.polygamma(171)
    with pytest.raises(TypeError, match="n must be an int"):
        ac.polygamma(1.0, x)


# ---------------------------------------------------------------------------- mvlgamma
def test_mvlgamma_sums_lgamma_and_checks_its_domain() -> None:
    x = np.array([1.6, 2.0, 7.25])
    expected = [
        math.fsum([math.lgamma(v - j / 2) for j in range(4)]) + 3 * math.log(math.pi) for v in x
    ]
    np.testing.assert_allclose(ac.mvlgamma(_f64(x), 4).numpy(), expected, rtol=1e-14)
    with pytest.raises(ValueError, match=r"greater than \(p - 1\) / 2 = 1.5"):
        ac.mvlgamma(_f64([1.5, 2.0]), 4)
    with pytest.raises(ValueError, match="p must be an int >= 1"):
        _f64([2.0]).mvlgamma(0)


# ----------------------------------------------------------------------------- erfinv
def test_erfinv_inverts_erf_in_the_middle_and_erfc_in_the_tails() -> None:
    y = np.linspace(-0.999, 0.999, 1999)
    x = ac.erfinv(_f64(y)).numpy()
    np.testing.assert_allclose([math.erf(v) for v in x], y, rtol=2e-15, atol=1e-17)
    for rest in 10.0 ** -np.arange(1, 17):
        top = 1.0 - rest
        exact_rest = 1.0 - top  # what 1 - top is in float64 (exact)
        x = ac.erfinv(_f64([top, -top])).numpy()
        assert x[1] == -x[0]
        # NOTE: erfc's relative condition number is 2 x^2 (about 70 at x = 6)
        assert math.erfc(x[0]) == pytest.approx(exact_rest, rel=1e-13)


def test_erfinv_known_values_and_edges() -> None:
    assert ac.erfinv(_f64(0.5)).item() == pytest.approx(0.47693627620446987338, rel=1e-15)
    edges = ac.erfinv(_f64([1.0, -1.0, 0.0, 1.5, -2.0, math.nan])).numpy()
    assert edges[0] == math.inf and edges[1] == -math.inf and edges[2] == 0.0
    assert np.isnan(edges[3:]).all()


# ---------------------------------------------------------------------------------- i0
def _bessel_series(x: float, order: int) -> float:
    """I0 (order 0) or I1 (order 1) by the power series (positive terms), in 40-digit
    decimals."""
    with decimal.localcontext() as context:
        context.prec = 40
        quarter = decimal.Decimal(x) ** 2 / 4
        term = decimal.Decimal(1) if order == 0 else decimal.Decimal(x) / 2
        total, k = term, 0
        while True:
            k += 1
            term *= quarter / (k * (k + order))
            total += term
            if term <= total * decimal.Decimal("1e-30") and k * k > quarter:
                return float(total)


def test_i0_and_i1_match_their_series_up_to_overflow() -> None:
    x = np.concatenate([np.linspace(0, 20, 81), [7.999, 8.0, 8.001, 35.5, 100.0, 333.3, 705.0]])
    i0 = ac.i0(_f64(np.concatenate([x, -x]))).numpy()
    i1 = ac.special.i1(_f64(np.concatenate([x, -x]))).numpy()
    expected0 = [_bessel_series(v, 0) for v in x]
    expected1 = [_bessel_series(v, 1) for v in x]
    np.testing.assert_allclose(i0, expected0 * 2, rtol=5e-15)
    np.testing.assert_allclose(i1, expected1 + [-v for v in expected1], rtol=5e-15)
    assert ac.i0(_f64(711.0)).item() == pytest.approx(_bessel_series(711.0, 0), rel=5e-15)
    edges = ac.i0(_f64([math.inf, -math.inf])).numpy()
    assert np.isposinf(edges).all()


# ------------------------------------------------------------------- the special module
def test_normal_distribution_functions() -> None:
    assert ac.special.ndtri(_f64(0.975)).item() == pytest.approx(1.959963984540054, rel=1e-15)
    p = 10.0 ** -np.linspace(0.5, 300, 300)
    x = ac.special.ndtri(_f64(np.concatenate([p, 1 - p[:30]])))
    # NOTE: ndtr's relative condition number is about x^2 (1400 at p = 1e-300)
    back = ac.special.ndtr(x).numpy()
    np.testing.assert_allclose(back, np.concatenate([p, 1 - p[:30]]), rtol=3e-13)
    edges = ac.special.ndtri(_f64([0.0, 1.0, 0.5, -0.1])).numpy()
    assert edges[0] == -math.inf and edges[1] == math.inf and edges[2] == 0.0
    assert np.isnan(edges[3])
    # log_ndtr far in the left tail: -x^2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x^2 + 3/x^4 ...)
    for x in (-40.0, -1e3, -1e8):
        series = math.log1p(-1 / x**2 + 3 / x**4 - 15 / x**6 + 105 / x**8)
        expected = -x * x / 2 - math.log(-x * math.sqrt(2 * math.pi)) + series
        assert ac.special.log_ndtr(_f64(x)).item() == pytest.approx(expected, rel=1e-14)
    right = ac.special.log_ndtr(_f64([5.0, 20.0])).numpy()
    expected = [math.log1p(-math.erfc(v / math.sqrt(2)) / 2) for v in (5.0, 20.0)]
    np.testing.assert_allclose(right, expected, rtol=1e-14)  # no cancellation: -2.8e-89 at 20


def test_special_compositions_at_their_edges() -> None:
    x = _f64([-1.0, 0.0, 2.0, math.nan]).requires_grad_()
    entropy = ac.special.entr(x)
    np.testing.assert_array_equal(entropy.numpy(), [-math.inf, 0.0, -2 * math.log(2), math.nan])
    entropy.sum().backward()
    np.testing.assert_array_equal(x.grad, [math.nan, math.inf, -math.log(2) - 1, math.nan])
    a = _f64([0.0, 0.0, 3.0]).requires_grad_()
    b = _f64([-1.0, 2.0, 1.0]).requires_grad_()
    out = ac.special.xlog1py(a, b)
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.0, 3 * math.log(2)])
    out.sum().backward()
    assert np.isfinite(a.grad).all() and np.isfinite(b.grad).all()
    assert ac.special.expit is ac.sigmoid and ac.special.gammaln is ac.lgamma
    assert ac.special.psi is ac.special.digamma and ac.special.multigammaln is ac.mvlgamma
    logits = _f64([[1.0, 2.0, 3.0]])
    assert ac.special.softmax(logits, 1, dtype=ac.float32).dtype == ac.float32
    np.testing.assert_allclose(
        ac.special.log_softmax(logits, 1).exp().numpy(), ac.softmax(logits, 1).numpy()
    )


@pytest.mark.parametrize(
    "fn",
    [
        ac.lgamma,
        ac.digamma,
        lambda x: ac.polygamma(2, x),
        lambda x: ac.erfinv(x / 4),
        ac.i0,
        ac.special.i1,
        ac.special.log_ndtr,
        lambda x: ac.special.ndtri(x / 4 + 0.5),
        lambda x: ac.mvlgamma(x + 1, 2),
    ],
)
def test_second_derivatives(fn) -> None:
    x = _f64(np.random.default_rng(1).uniform(0.3, 1.7, (2, 3))).requires_grad_()
    if fn is ac.special.i1:  # no differentiable backward of its own (third derivative of I0)
        assert ac.autograd.gradcheck(fn, [x])
        return
    assert ac.autograd.gradgradcheck(fn, [x])


# -------------------------------------------------------------- elementwise functions
def test_fmax_and_fmin_ignore_nan_and_route_the_gradient() -> None:
    nan = math.nan
    a = _f64([1.0, nan, nan, 2.0, 3.0]).requires_grad_()
    b = _f64([nan, 4.0, nan, 2.0, 1.0]).requires_grad_()
    high, low = ac.fmax(a, b), a.fmin(b)
    np.testing.assert_array_equal(high.numpy(), [1.0, 4.0, nan, 2.0, 3.0])
    np.testing.assert_array_equal(low.numpy(), [1.0, 4.0, nan, 2.0, 1.0])
    (high + 10 * low).sum().backward()
    # ties and NaN in b go to a, as in PyTorch
    np.testing.assert_array_equal(a.grad, [11.0, 0.0, 11.0, 11.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.0, 11.0, 0.0, 0.0, 10.0])


def test_frexp_ldexp_and_float_power() -> None:
    x = _f64([3.0, -0.375, 0.0, 1e-310, 2.0**100])
    mantissa, exponent = ac.frexp(x)
    expected_m, expected_e = np.frexp(x.numpy())
    np.testing.assert_array_equal(mantissa.numpy(), expected_m)
    assert exponent.dtype == ac.int32
    np.testing.assert_array_equal(exponent.numpy(), expected_e)
    np.testing.assert_array_equal(ac.ldexp(mantissa, exponent).numpy(), x.numpy())
    assert ac.ldexp(ac.tensor([1, 2]), ac.tensor([3, 4])).tolist() == [8.0, 32.0]
    with pytest.raises(TypeError, match="frexp needs a floating-point tensor, got int64"):
        ac.tensor([1, 2]).frexp()
    base = ac.tensor([2.0, 3.0], dtype=ac.float32)
    assert ac.float_power(base, 2).dtype == ac.float64
    assert ac.float_power(2, ac.tensor([0.5, 3])).tolist() == [math.sqrt(2), 8.0]
    assert ac.tensor([3]).float_power(ac.tensor([2])).tolist() == [9.0]


def test_gcd_lcm_and_nextafter() -> None:
    a = ac.tensor([12, -18, 0, 7, 0])
    b = ac.tensor([18, 12, 5, -3, 0])
    assert ac.gcd(a, b).tolist() == [6, 6, 5, 1, 0]
    assert a.lcm(b).tolist() == [36, 36, 0, 21, 0]
    assert ac.gcd(a, 4).tolist() == [4, 2, 4, 1, 4]
    with pytest.raises(TypeError, match="gcd needs integer tensors, got float32"):
        ac.gcd(ac.tensor([1.0]), ac.tensor([2.0]))
    x = _f64([1.0, 0.0, 1.0])
    towards = _f64([2.0, -1.0, 1.0])
    np.testing.assert_array_equal(
        ac.nextafter(x, towards).numpy(), np.nextafter(x.numpy(), towards.numpy())
    )
    with pytest.raises(TypeError, match="nextafter needs floating-point tensors"):
        ac.tensor([1]).nextafter(ac.tensor([2]))


def test_div_rounding_modes_and_aliases() -> None:
    a, b = np.array([7, -7, 7, -7, 6, 0]), np.array([2, 2, -2, -2, -3, 5])
    ta, tb = ac.tensor(a), ac.tensor(b)
    trunc = ac.div(ta, tb, rounding_mode="trunc")
    assert trunc.dtype == ac.int64
    assert trunc.tolist() == [int(p / q) for p, q in zip(a, b, strict=True)]
    assert ta.divide(tb, rounding_mode="floor").tolist() == (a // b).tolist()
    floats = _f64([7.5, -7.5, 1.0])
    assert floats.div(2.0, rounding_mode="trunc").tolist() == [3.0, -3.0, 0.0]
    assert floats.div(2.0, rounding_mode="floor").tolist() == [3.0, -4.0, 0.0]
    assert ac.true_divide(ta, tb).dtype == ac.float32
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        ta.div(tb, rounding_mode="round")
    x = _f64([-2.0, 0.0, 3.0])
    assert ac.sgn(x).tolist() == [-1.0, 0.0, 1.0]
    assert ac.absolute(x).tolist() == [2.0, 0.0, 3.0]
    assert ac.negative(x).tolist() == [2.0, -0.0, -3.0]


@pytest.mark.parametrize(
    "divide",
    [
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: a.fmod(b),
        lambda a, b: a.div(b, rounding_mode="trunc"),
        lambda a, b: ac.floor_divide(a, b),
        lambda a, b: 7 // b,
        lambda a, b: 7 % b,
        lambda a, b: a.floor_divide_(b),
        lambda a, b: a.__ifloordiv__(b),
        lambda a, b: a.__imod__(b),
        lambda a, b: a // 0,
    ],
)
def test_integer_division_by_zero_raises(divide: Any) -> None:
    # NOTE: NumPy returns 0 with a warning; PyTorch raises
    a, b = ac.tensor([7, -7, 3]), ac.tensor([2, 0, 1])
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        divide(a, b)
    assert a.tolist() == [7, -7, 3]  # in-place forms change nothing


def test_float_division_by_zero_follows_ieee() -> None:
    a = ac.tensor([7, -7, 0])
    with np.errstate(all="ignore"):
        assert (a / ac.tensor([0])).tolist()[:2] == [np.inf, -np.inf]
        assert (a.float() // 0).tolist()[:2] == [np.inf, -np.inf]
        assert ac.tensor([1.0]).fmod(0).isnan().item()


# ------------------------------------------------------------------------- products
def test_beta_zero_ignores_nan_in_the_input() -> None:
    rng = np.random.default_rng(2)
    nan_input = _f64(np.full((3, 2), math.nan)).requires_grad_()
    a, b = _f64(rng.standard_normal((3, 4))), _f64(rng.standard_normal((4, 2)))
    out = ac.addmm(nan_input, a, b, beta=0)
    np.testing.assert_allclose(out.numpy(), a.numpy() @ b.numpy())
    out.sum().backward()
    np.testing.assert_array_equal(nan_input.grad, np.zeros((3, 2)))
    vec = _f64(rng.standard_normal(4))
    assert np.isfinite(_f64([math.nan] * 3).addmv(a, vec, beta=0).numpy()).all()


def test_products_check_their_shapes() -> None:
    m, v = ac.ones(3, 4), ac.ones(4)
    with pytest.raises(ValueError, match=r"mv needs a 2-D and a 1-D tensor, got shapes"):
        v.mv(v)
    with pytest.raises(ValueError, match=r"addmv: input of shape \(4,\) does not broadcast"):
        ac.addmv(ac.ones(4), m, v)
    with pytest.raises(ValueError, match="addr needs two 1-D tensors"):
        ac.addr(m, m, v)
    with pytest.raises(ValueError, match=r"addbmm needs \(B, n, k\) and \(B, k, m\) batches"):
        ac.addbmm(m, ac.ones(2, 3, 4), ac.ones(3, 4, 4))
    with pytest.raises(ValueError, match="bmm needs two 3-D tensors"):
        ac.baddbmm(m, ac.ones(3, 4), ac.ones(4, 4))
    with pytest.raises(ValueError, match=r"inner: the last sizes of shapes \(3, 4\) and \(3,\)"):
        ac.inner(m, ac.ones(3))
    with pytest.raises(ValueError, match="vdot needs two 1-D tensors of one length"):
        ac.vdot(v, ac.ones(3))
    with pytest.raises(ValueError, match=r"chain_matmul needs 2-D tensors, got shape \(4,\)"):
        ac.chain_matmul(m, v)
    with pytest.raises(ValueError, match=r"matrices 0 and 1 of shapes \(3, 4\) and \(3, 4\)"):
        ac.chain_matmul(m, m)
    with pytest.raises(ValueError, match="at least one matrix"):
        ac.chain_matmul()


def test_chain_matmul_picks_the_cheapest_order_and_copies_a_single_matrix() -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((10, 1), (1, 10), (10, 1))]
    result = ac.chain_matmul([_f64(a) for a in arrays])
    np.testing.assert_allclose(result.numpy(), arrays[0] @ arrays[1] @ arrays[2], rtol=1e-14)
    assert result.ctx is None or result.shape == (10, 1)
    single = _f64(arrays[0]).requires_grad_()
    copy = ac.chain_matmul(single)
    assert copy is not single
    copy.sum().backward()
    np.testing.assert_array_equal(single.grad, np.ones((10, 1)))


def test_kron_of_scalars_and_mixed_dims() -> None:
    assert ac.kron(_f64(2.0), _f64(3.0)).item() == 6.0
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0)
    np.testing.assert_array_equal(ac.kron(_f64(a), _f64(b)).numpy(), np.kron(a, b))


def test_erfc_keeps_full_precision_in_its_tail() -> None:
    # exp(-x**2) with x**2 split exactly: the rounding of x**2 alone costs x**2 ulps
    x = np.linspace(0.5, 26.5, 2001)
    expected = [math.erfc(v) for v in x]
    np.testing.assert_allclose(ac.erfc(_f64(x)).numpy(), expected, rtol=2e-15)


def test_xlogy_gradients_in_x_at_zero_are_the_logarithms() -> None:
    x = ac.tensor([0.0, 0.0, 2.0], dtype=ac.float64, req_grad=True)
    y = ac.tensor([2.5, 0.0, 3.0], dtype=ac.float64)
    result = ac.special.xlogy(x, y)
    assert result.tolist() == pytest.approx([0.0, 0.0, 2 * math.log(3.0)])
    result.sum().backward()
    assert x.grad.tolist() == pytest.approx([math.log(2.5), 0.0, math.log(3.0)])
    x = ac.tensor([0.0, 0.0], dtype=ac.float64, req_grad=True)
    ac.special.xlog1py(x, ac.tensor([1.0, -1.0], dtype=ac.float64)).sum().backward()
    assert x.grad.tolist() == pytest.approx([math.log(2.0), 0.0])


def test_logit_slope_is_inf_at_0_and_1() -> None:
    p = ac.tensor([0.0, 1.0, 0.25], dtype=ac.float64, req_grad=True)
    with np.errstate(divide="ignore"):
        result = p.logit()
        result.backward(np.ones(3))
    np.testing.assert_allclose(result.numpy(), [-np.inf, np.inf, math.log(1 / 3)], rtol=1e-15)
    np.testing.assert_allclose(p.grad, [np.inf, np.inf, 1 / (0.25 * 0.75)], rtol=1e-15)


def test_xlogy_and_xlog1py_are_0_where_x_is_0_and_y_inf() -> None:
    x = ac.tensor([0.0, 2.0], dtype=ac.float64, req_grad=True)
    y = ac.tensor([math.inf, math.inf], dtype=ac.float64, req_grad=True)
    for function in (ac.special.xlogy, ac.special.xlog1py):
        x.grad = y.grad = None
        result = function(x, y)
        assert result.tolist() == [0.0, math.inf]  # not 0 * inf = NaN
        result.backward(np.ones(2))
        np.testing.assert_array_equal(y.grad, [0.0, 0.0])


def test_log_ndtr_slope_in_the_far_left_tail() -> None:
    # NOTE: phi(x) / Phi(x) = t + 1 / t - 2 / t**3 + 10 / t**5 - ... for t = -x >> 1
    def tail(t: float) -> float:
        return t + 1 / t - 2 / t**3 + 10 / t**5 - 74 / t**7 + 706 / t**9

    x = ac.tensor([-40.0, -1e3, -1e8, -1e30, -math.inf], dtype=ac.float64, req_grad=True)
    ac.special.log_ndtr(x).backward(np.ones(5))
    expected = [tail(40.0), tail(1e3), tail(1e8), 1e30, math.inf]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14)
    single = ac.tensor([-1e3, -1e8], dtype=ac.float32, req_grad=True)
    ac.special.log_ndtr(single).backward(np.ones(2, np.float32))
    np.testing.assert_allclose(single.grad, [tail(1e3), 1e8], rtol=1e-6)
    assert ac.autograd.gradgradcheck(
        ac.special.log_ndtr, [ac.tensor([-30.0, -3.0, 0.0, 2.0], dtype=ac.float64, req_grad=True)]
    )


# -------------------------------------- scaled Bessel and error functions, zeta, incomplete gamma
def test_i0e_and_i1e_scale_i0_and_i1_and_keep_their_tails() -> None:
    x = np.concatenate([np.linspace(-700, 700, 1401), [0.0, 7.999, 8.0, 8.001]])
    scale = np.exp(-np.abs(x))
    np.testing.assert_allclose(
        ac.special.i0e(_f64(x)).numpy(), ac.i0(_f64(x)).numpy() * scale, rtol=2e-15
    )
    np.testing.assert_allclose(
        ac.special.i1e(_f64(x)).numpy(), ac.special.i1(_f64(x)).numpy() * scale, rtol=2e-15
    )
    # far beyond the overflow of I0: 1 / sqrt(2 pi x) (1 + 1/(8x) + 9/(128x^2) + ...)
    for v in (1e4, 1e8):
        leading = 1 / math.sqrt(2 * math.pi * v)
        i0e = leading * (1 + 1 / (8 * v) + 9 / (128 * v**2))
        i1e = leading * (1 - 3 / (8 * v) - 15 / (128 * v**2))
        assert ac.special.i0e(_f64(v)).item() == pytest.approx(i0e, rel=1e-13)
        assert ac.special.i1e(_f64(-v)).item() == pytest.approx(-i1e, rel=1e-13)
    edges = _f64([math.inf, -math.inf, 0.0])
    assert ac.special.i0e(edges).tolist() == [0.0, 0.0, 1.0]
    assert ac.special.i1e(edges).tolist() == [0.0, -0.0, 0.0]


def test_erfcx_matches_erfc_and_its_asymptotic_series() -> None:
    x = np.linspace(-5, 5, 201)
    expected = [math.erfc(v) * math.exp(v * v) for v in x]
    np.testing.assert_allclose(ac.special.erfcx(_f64(x)).numpy(), expected, rtol=5e-14)
    for v in (30.0, 1e4, 1e200):
        # 1 / (x sqrt(pi)) sum_n (-1)^n (2n - 1)!! / (2x^2)^n
        terms = [(-1) ** n * math.prod(range(1, 2 * n, 2)) / (2 * v * v) ** n for n in range(8)]
        series = math.fsum(terms) / (v * math.sqrt(math.pi))
        assert ac.special.erfcx(_f64(v)).item() == pytest.approx(series, rel=1e-14)
    # 2 exp(x^2) - erfcx(-x): overflow a little below -26.6
    assert ac.special.erfcx(_f64(-26.0)).item() == pytest.approx(2 * math.exp(676), rel=1e-13)
    assert ac.special.erfcx(_f64([-27.0, -math.inf, math.inf, 0.0])).tolist() == [
        math.inf,
        math.inf,
        0.0,
        1.0,
    ]
    assert ac.special.erfcx(ac.tensor([40.0], dtype=ac.float32)).dtype == ac.float32


def test_zeta_known_values_identities_and_edges() -> None:
    for s in (2, 3, 4, 5, 7):
        assert ac.special.zeta(_f64(float(s)), 1.0).item() == pytest.approx(_zeta(s), rel=1e-15)
        half = ac.special.zeta(float(s), _f64(0.5)).item()
        assert half == pytest.approx((2**s - 1) * _zeta(s), rel=1e-15)
    # values from mpmath, to 20 digits
    for s, q, value in (
        (1.5, 0.25, 10.213055360466600739),
        (3.25, 7.5, 0.0055420853699168859041),
        (20.5, 0.1, 3.1622776601683757334e20),
        (1.001, 3.0, 999.07763492951640055),
    ):
        assert ac.special.zeta(_f64(s), _f64(q)).item() == pytest.approx(value, rel=1e-14)
    rng = np.random.default_rng(0)
    s, q = rng.uniform(1.01, 40, 500), 10 ** rng.uniform(-2, 3, 500)
    step = ac.special.zeta(_f64(s), _f64(q)) - ac.special.zeta(_f64(s), _f64(q + 1))
    np.testing.assert_allclose(step.numpy(), q**-s, rtol=1e-12)
    # polygamma(n, q) = (-1)^(n + 1) n! zeta(n + 1, q)
    for n in (1, 2, 5):
        expected = ac.polygamma(n, _f64(q)).numpy() * (-1) ** (n + 1) / math.factorial(n)
        np.testing.assert_allclose(ac.special.zeta(_f64(n + 1.0), _f64(q)).numpy(), expected)
    # q < 0 with an integer x: the terms up to q + k > 0 are summed as they are
    direct = math.fsum((-100.5 + k) ** -2 for k in range(101)) + (
        ac.special.zeta(_f64(2.0), _f64(0.5)).item()
    )
    assert ac.special.zeta(_f64(2.0), _f64(-100.5)).item() == pytest.approx(direct, rel=1e-14)
    edges = ac.special.zeta(
        _f64([1.0, 0.5, 2.0, 2.0, 2.5, math.inf, math.inf, 2.0]),
        _f64([1.0, 1.0, 0.0, -1.0, -1.5, 0.5, 1.0, math.inf]),
    ).numpy()
    np.testing.assert_array_equal(
        edges, [math.inf, math.nan, math.inf, math.inf, math.nan, math.inf, 1.0, 0.0]
    )


def test_incomplete_gamma_closed_forms_and_identities() -> None:
    rng = np.random.default_rng(0)
    x = 10 ** rng.uniform(-3, 2.5, 400)
    lower, upper = ac.special.gammainc, ac.special.gammaincc
    np.testing.assert_allclose(lower(1.0, _f64(x)).numpy(), -np.expm1(-x), rtol=1e-14)
    np.testing.assert_allclose(upper(1.0, _f64(x)).numpy(), np.exp(-x), rtol=1e-13)
    root = np.sqrt(x)
    erf = [math.erf(v) for v in root]
    erfc = [math.erfc(v) for v in root]
    np.testing.assert_allclose(lower(0.5, _f64(x)).numpy(), erf, rtol=1e-14)
    np.testing.assert_allclose(upper(0.5, _f64(x)).numpy(), erfc, rtol=1e-12)
    # Q(n, x) = exp(-x) sum_{k < n} x^k / k!
    for n in (2, 7, 30):
        points = x[x < 60]
        expected = [
            math.exp(-v) * math.fsum(v**k / math.factorial(k) for k in range(n)) for v in points
        ]
        np.testing.assert_allclose(upper(float(n), _f64(points)).numpy(), expected, rtol=1e-12)
    # P(a + 1, x) = P(a, x) - x^a exp(-x) / gamma(a + 1), across the methods' regions
    a = np.concatenate([10 ** rng.uniform(-1, 2.5, 300), rng.uniform(20, 300, 300)])
    z = a * rng.uniform(0.5, 1.5, 600)
    density = np.exp(a * np.log(z) - z - ac.lgamma(_f64(a + 1)).numpy())
    np.testing.assert_allclose(
        lower(_f64(a + 1), _f64(z)).numpy(),
        lower(_f64(a), _f64(z)).numpy() - density,
        rtol=1e-11,
        atol=1e-15,
    )
    both = (lower(_f64(a), _f64(z)) + upper(_f64(a), _f64(z))).numpy()
    np.testing.assert_allclose(both, 1.0, rtol=1e-14)
    # values from mpmath, to 20 digits, in Temme's region too
    for a_, x_, p, q in (
        (100.0, 105.0, 0.70024534239115626756, 0.29975465760884373244),
        (50.0, 45.0, 0.24680203440017027271, 0.75319796559982972729),
        (1000.0, 1010.0, 0.62767894473699472753, 0.37232105526300527247),
        (300.0, 260.0, 0.0081667162218190688516, 0.99183328377818093115),
        (1e6, 1e6 + 500.0, 0.69155047577149718153, 0.30844952422850281847),
        (0.5, 1e-3, 0.035670591729679885417, 0.96432940827032011458),
        (5057.388416325602, 7894.134891457911, 1.0, 1.0118556626958412238e-256),
    ):
        assert lower(_f64(a_), _f64(x_)).item() == pytest.approx(p, rel=1e-13)
        assert upper(_f64(a_), _f64(x_)).item() == pytest.approx(q, rel=1e-12)
    nan = math.nan
    edges_a = _f64([0.0, 0.0, -1.0, 1.0, 1.0, math.inf, math.inf, 1.0])
    edges_x = _f64([1.0, 0.0, 1.0, -1.0, 0.0, 1.0, math.inf, math.inf])
    np.testing.assert_array_equal(lower(edges_a, edges_x).numpy(), [1, nan, nan, nan, 0, 0, nan, 1])
    np.testing.assert_array_equal(upper(edges_a, edges_x).numpy(), [0, nan, nan, nan, 1, 1, nan, 0])


def test_new_special_functions_gradients_dtypes_and_errors() -> None:
    rng = np.random.default_rng(2)
    x = _f64(rng.uniform(-3, 3, 8)).requires_grad_()
    for fn in (ac.special.i0e, ac.special.i1e, ac.special.erfcx):
        assert ac.autograd.gradcheck(fn, [x])
        assert ac.autograd.gradgradcheck(fn, [x])
    zero = _f64([0.0]).requires_grad_()
    ac.special.i1e(zero).backward()
    assert zero.grad.tolist() == [0.5]
    a = _f64([0.3, 2.0, 3.5, 30.0, 250.0])
    z = _f64([0.2, 1.5, 2.0, 28.0, 260.0]).requires_grad_()
    assert ac.autograd.gradcheck(lambda z: ac.special.gammainc(a, z), [z])
    assert ac.autograd.gradcheck(lambda z: ac.special.gammaincc(a, z), [z])
    assert ac.autograd.gradcheck(lambda q: ac.special.zeta(a + 1.5, q), [z])
    one = _f64([1.0]).requires_grad_()
    ac.special.gammainc(1.0, one * 0).backward()  # the density of a = 1 at 0 is 1
    assert one.grad.tolist() == [0.0]
    at_zero = _f64([0.0]).requires_grad_()
    ac.special.gammainc(1.0, at_zero).backward()
    assert at_zero.grad.tolist() == [1.0]
    for fn, name in ((ac.special.gammainc, "gammainc"), (ac.special.gammaincc, "gammaincc")):
        with pytest.raises(NotImplementedError, match=f"derivative of {name} in its first"):
            fn(_f64([2.0]).requires_grad_(), _f64([1.0])).backward()
    with pytest.raises(NotImplementedError, match="derivative of zeta in its first"):
        ac.special.zeta(_f64([2.0]).requires_grad_(), 1.0).backward()
    assert ac.special.zeta(ac.tensor([2, 3]), 1).dtype == ac.float32
    assert ac.special.gammainc(ac.tensor([1.0], dtype=ac.float64), 2).dtype == ac.float64
    assert ac.special.i0e(ac.tensor([1, 2])).dtype == ac.float32
    assert ac.special.gammaincc(ac.tensor([1.0]), ac.tensor([2.0])).dtype == ac.float32
    with pytest.raises(TypeError, match="at least one of its arguments to be a Tensor"):
        ac.special.zeta(2.0, 1.0)
