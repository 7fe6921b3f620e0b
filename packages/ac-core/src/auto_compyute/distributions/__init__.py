"""Probability distributions, as ``torch.distributions``: densities, draws, entropies and
KL divergences, all built from differentiable tensor operations.

Each distribution has ``batch_shape`` and ``event_shape``, ``sample`` (no gradient),
``rsample`` where draws can be reparameterized (gradients flow from the draws to the
parameters), ``log_prob``, ``entropy``, ``mean``, ``mode``, ``variance``, ``stddev``,
``cdf``/``icdf`` where they have a closed form, and ``expand``. Draws come from the
generator seeded by ``ac.manual_seed`` and land on the parameters' device and dtype.
Parameters and the values given to ``log_prob`` are checked against their constraints
(``ValueError`` otherwise) unless ``validate_args=False`` or
``Distribution.set_default_validate_args(False)``.

Example:
    >>> import auto_compyute as ac
    >>> from auto_compyute.distributions import Normal, kl_divergence
    >>> loc = ac.tensor([0.0, 1.0], req_grad=True)
    >>> d = Normal(loc, ac.tensor([1.0, 2.0]))
    >>> (d.rsample((100,)).mean() + kl_divergence(d, Normal(0.0, 1.0)).sum()).backward()
"""

from auto_compyute.distributions import constraints, transforms
from auto_compyute.distributions.categorical import Categorical, Multinomial, OneHotCategorical
from auto_compyute.distributions.continuous import Cauchy, Exponential, Laplace, Normal, Uniform
from auto_compyute.distributions.discrete import Bernoulli, Binomial, Geometric, Poisson
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from auto_compyute.distributions.kl import kl_divergence, register_kl
from auto_compyute.distributions.mixture import MixtureSameFamily
from auto_compyute.distributions.multivariate_normal import MultivariateNormal
from auto_compyute.distributions.relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from auto_compyute.distributions.transformed import (
    Independent,
    LogNormal,
    TransformedDistribution,
)
from auto_compyute.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
    TanhTransform,
    Transform,
)

__all__ = [
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "Dirichlet",
    "Distribution",
    "ExpRelaxedCategorical",
    "ExpTransform",
    "Exponential",
    "Gamma",
    "Geometric",
    "Independent",
    "Laplace",
    "LogNormal",
    "LogitRelaxedBernoulli",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "SigmoidTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
    "transforms",
]
