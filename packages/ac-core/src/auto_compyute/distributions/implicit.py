"""Implicit reparameterization gradients of gamma and Dirichlet draws.

A draw x of Gamma(α, 1) has no closed-form path x(α, noise), but its derivative along the
quantile is ``dx/dα = -(∂F/∂α)(x; α) / f(x; α)`` (F the distribution function, f the
density). PyTorch computes it with the approximations of Jankowiak & Obermeyer (2018,
"Pathwise derivatives beyond the reparameterization trick"): a Taylor series for small x,
Rice saddle-point expansions for large parameters and fitted rational corrections
elsewhere. They are ported here with their published coefficients, so that ``rsample``
gradients agree with PyTorch's.

The gradient reaches the parameters through a surrogate ``x + (α - α.detach()) * dx/dα``,
which equals x in value and has the implicit derivative.
"""

from __future__ import annotations

from auto_compyute._core import dtypes
from auto_compyute._core import functions as F
from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor

__all__ = [
    "dirichlet_grad",
    "reparameterized_dirichlet",
    "reparameterized_gamma",
    "standard_gamma_grad",
]

# fmt: off
_GAMMA_RATIONAL = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07),
)

_BETA_RATIONAL = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)
# fmt: on


def _finite_or_zero(x: Tensor) -> Tensor:
    return F.where(x.isfinite(), x, 0.0)


def _gamma_grad_small_x(alpha: Tensor, x: Tensor) -> Tensor:
    """Taylor series of the incomplete gamma function, for x < 0.8."""
    numer = x * 0 + 1.0
    denom = alpha
    series1, series2 = numer / denom, numer / denom**2
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / denom**2
    pow_x_alpha = x**alpha
    gamma_pdf = x ** (alpha - 1) * (-x).exp()
    gamma_cdf = pow_x_alpha * series1
    gamma_cdf_alpha = (x.log() - alpha.digamma()) * gamma_cdf - pow_x_alpha * series2
    return _finite_or_zero(-gamma_cdf_alpha / gamma_pdf)


def _gamma_grad_large_alpha(alpha: Tensor, x: Tensor) -> Tensor:
    """Rice saddle-point expansion, for alpha > 8."""
    near = (0.9 * alpha <= x) & (x <= 1.1 * alpha)
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (
        1440 * alpha**2 + 6 * x * (53 - 120 * x) - 65 * x**2 / alpha + alpha * (107 + 3600 * x)
    )
    at_mean = numer_1 * numer_2 / (1244160 * alpha**4)
    far = F.where(near, 0.5 * alpha, x)  # NOTE: keeps the expansion below finite near the mean
    denom = (8 * alpha).sqrt()
    term2 = denom / (alpha - far)
    term3 = (far - alpha - alpha * (far / alpha).log()) ** -1.5
    term23 = F.where(far < alpha, term2 - term3, term2 + term3)
    term1 = (far / alpha).log() * term23 - (2 / alpha).sqrt() * (alpha + far) / (alpha - far) ** 2
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    return F.where(near, at_mean, -stirling * far * term1 / denom)


def _gamma_grad_rational(alpha: Tensor, x: Tensor) -> Tensor:
    """A bivariate rational approximation in log(x / alpha) and log(alpha)."""
    u, v = (x / alpha).log(), alpha.log()
    c = [
        _GAMMA_RATIONAL[0][i] + u * (_GAMMA_RATIONAL[1][i] + u * _GAMMA_RATIONAL[2][i])
        for i in range(8)
    ]
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    return (p / q).exp()


def standard_gamma_grad(alpha: Tensor, x: Tensor) -> Tensor:
    """dx/dα for draws x of Gamma(α, 1), computed in float64 (as PyTorch's CPU kernel) and
    returned in x's dtype, without gradient."""
    with no_grad():
        a, s = alpha.detach().to(dtype=dtypes.float64), x.detach().to(dtype=dtypes.float64)
        small = s < 0.8
        large = ~small & (a > 8)
        rest = ~small & ~large
        # NOTE: each branch sees harmless stand-ins where another branch applies
        s_small = F.where(small, s, 0.5)
        s_large, a_large = F.where(large, s, a), F.where(large, a, 10.0)
        s_rest, a_rest = F.where(rest, s, 1.0), F.where(rest, a, 1.0)
        result = F.where(
            small,
            _gamma_grad_small_x(a, s_small),
            F.where(
                large,
                _gamma_grad_large_alpha(a_large, s_large),
                _gamma_grad_rational(a_rest, s_rest),
            ),
        )
        return result.to(dtype=x.dtype)


def reparameterized_gamma(alpha: Tensor, x: Tensor) -> Tensor:
    """The draws x of Gamma(alpha, 1) with the implicit gradient in alpha attached."""
    if not alpha.req_grad:
        return x
    return x + (alpha - alpha.detach()) * standard_gamma_grad(alpha, x)


def _beta_grad_alpha_small(x: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """d/dα of a Beta(α, β) draw x close to 0: a Taylor series."""
    factor = alpha.digamma() - (alpha + beta).digamma() - x.log()
    numer = x * 0 + 1.0
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    return _finite_or_zero(x * (1 - x) ** (-beta) * series)


def _beta_grad_beta_small(x: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """d/dβ of a Beta(α, β) draw x close to 0: a Taylor series."""
    factor = (alpha + beta).digamma() - beta.digamma()
    numer, betas, dbetas = x * 0 + 1.0, x * 0 + 1.0, x * 0
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    return _finite_or_zero(-((1 - x) ** (1 - beta)) * series)


def _beta_grad_alpha_mid(x: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
    """d/dα of a Beta(α, β) draw for large α and β: a Rice saddle-point expansion."""
    total = alpha + beta
    mean = alpha / total
    std = (alpha * beta / (total + 1)).sqrt() / total
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    b2 = beta**2
    poly = 47 * x * b2**2 + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * b2 * beta
        + alpha
        * (
            3 * (59 + 180 * beta - 90 * x) * b2
            + alpha
            * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta
                + alpha * (8 * (1 - x) * (135 * beta - 11))
            )
        )
    )
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / total**2
    prefactor_den = 12960 * alpha**3 * b2 * (1 + 12 * total)
    at_mean = prefactor_num / (1 - x) * poly / prefactor_den
    far = F.where(near, mean - std, x)  # NOTE: keeps the expansion below finite at the mean
    prefactor = -far / (2 * alpha * beta / total).sqrt()
    stirling = (
        (1 + 1 / (12 * alpha) + 1 / (288 * alpha**2))
        * (1 + 1 / (12 * beta) + 1 / (288 * b2))
        / (1 + 1 / (12 * total) + 1 / (288 * total**2))
    )
    term1_num = 2 * alpha**2 * (far - 1) + alpha * beta * (far - 1) - far * b2
    axbx = alpha * (far - 1) + beta * far
    term1_den = (2 * alpha / beta).sqrt() * total**1.5 * axbx**2
    term1 = term1_num / term1_den
    term2 = 0.5 * (alpha / (total * far)).log()
    term3 = (8 * alpha * beta / total).sqrt() / (beta * far + alpha * (far - 1))
    term4_base = beta * (beta / (total * (1 - far))).log() + alpha * (alpha / (total * far)).log()
    term4 = term4_base**-1.5
    term1234 = term1 + term2 * (term3 + F.where(far < mean, term4, -term4))
    return F.where(near, at_mean, stirling * prefactor * term1234)


def _beta_grad_rational(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    """A rational correction to an analytic approximation, in log x, log α and log total."""
    u = x.log()
    a = alpha.log() - u
    b = total.log() - a
    pow_u, pow_a = (1.0, u, u * u), (1.0, a, a * a)
    p: Tensor | float = 0.0
    q: Tensor | float = 0.0
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            cp, cq = _BETA_RATIONAL[0][i][j], _BETA_RATIONAL[1][i][j]
            p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (total.digamma() - alpha.digamma()) / (total - alpha)
    return p / q * approx


def dirichlet_grad(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    """The scaled implicit derivative -(∂F/∂α) / f / (1 - x) of a Beta(α, total - α) draw x,
    in float64 and returned in x's dtype, without gradient (PyTorch's ``_dirichlet_grad``)."""
    with no_grad():
        s = x.detach().to(dtype=dtypes.float64)
        a = alpha.detach().to(dtype=dtypes.float64)
        t = total.detach().to(dtype=dtypes.float64)
        b = t - a
        boundary = t * s * (1 - s)
        near_zero = (s <= 0.5) & (boundary < 2.5)
        near_one = ~near_zero & (s >= 0.5) & (boundary < 0.75)
        mid = ~near_zero & ~near_one & (a > 6) & (b > 6)
        rest = ~near_zero & ~near_one & ~mid
        s0, s1 = F.where(near_zero, s, 0.25), F.where(near_one, s, 0.75)
        a_mid = F.where(mid, a, 10.0)
        b_mid = F.where(mid, b, 10.0)
        s_mid = F.where(mid, s, a_mid / (a_mid + b_mid))
        result = F.where(
            near_zero,
            _beta_grad_alpha_small(s0, a, b),
            F.where(
                near_one,
                -_beta_grad_beta_small(1 - s1, b, a),
                F.where(
                    mid,
                    _beta_grad_alpha_mid(s_mid, a_mid, b_mid),
                    _beta_grad_rational(
                        F.where(rest, s, 0.5), F.where(rest, a, 1.0), F.where(rest, t, 2.0)
                    ),
                ),
            ),
        )
        return result.to(dtype=x.dtype)


def reparameterized_dirichlet(concentration: Tensor, x: Tensor) -> Tensor:
    """Dirichlet draws x with the implicit gradient in the concentration attached: the
    Jacobian ``dx_j/dα_i = g_i (δ_ij - x_j)`` with g from :func:`dirichlet_grad`."""
    if not concentration.req_grad:
        return x
    total = concentration.sum(-1, keepdim=True).expand(*concentration.shape)
    g = dirichlet_grad(x, concentration.expand(*x.shape), total.expand(*x.shape))
    step = (concentration - concentration.detach()) * g
    return x + step - x * step.sum(-1, keepdim=True)
