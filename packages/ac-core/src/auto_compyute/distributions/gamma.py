"""The gamma family: Gamma, Chi2, Beta, Dirichlet, and StudentT (a normal over a chi-square).

Draws come from NumPy's gamma sampler; ``rsample`` attaches implicit reparameterization
gradients (see :mod:`auto_compyute.distributions.implicit`), as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from auto_compyute._core import factories
from auto_compyute._core import functions as F
from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.implicit import reparameterized_dirichlet, reparameterized_gamma
from auto_compyute.distributions.utils import (
    as_shape,
    broadcast_all,
    standard_gamma,
    standard_normal,
)

__all__ = ["Beta", "Chi2", "Dirichlet", "Gamma", "StudentT"]


class Gamma(Distribution):
    """The gamma distribution with density ``rate^c x^(c-1) exp(-rate x) / Γ(c)`` on x >= 0.

    Args:
        concentration: The shape c (> 0).
        rate: The rate (> 0), one over the scale.
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Gamma:
        shape = as_shape(batch_shape)
        return self._expanded(
            Gamma,
            shape,
            _instance,
            concentration=self.concentration.expand(shape),
            rate=self.rate.expand(shape),
        )

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate**2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        concentration = self.concentration.expand(*shape)
        draws = reparameterized_gamma(concentration, standard_gamma(self.concentration, shape))
        value = draws / self.rate.expand(*shape)
        # NOTE: a draw that underflows after the division is raised to the smallest normal
        # number, without changing the gradient (as PyTorch does)
        lifted = value.detach().clamp(min=float(np.finfo(value.dtype).tiny))
        return value + (lifted - value.detach())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c, rate = self.concentration, self.rate
        return F.xlogy(c, rate) + F.xlogy(c - 1, value) - rate * value - c.lgamma()

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


class Chi2(Gamma):
    """The chi-square distribution with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2).

    Args:
        df: The degrees of freedom (> 0).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Chi2:
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)  # type: ignore[return-value]

    @property
    def df(self) -> Tensor:
        """The degrees of freedom."""
        return self.concentration * 2


class Dirichlet(Distribution):
    """The Dirichlet distribution on the probability simplex of the last axis.

    Args:
        concentration: The concentrations (> 0), shape (..., K); the last axis is the event.
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.independent(constraints.positive, 1)
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if not isinstance(concentration, Tensor) or concentration.ndim < 1:
            raise ValueError(
                "Dirichlet needs a concentration tensor of at least one dimension, got "
                f"{getattr(concentration, 'shape', concentration)}"
            )
        self.concentration = concentration
        super().__init__(
            concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args
        )

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Dirichlet:
        shape = as_shape(batch_shape)
        concentration = self.concentration.expand(shape + self.event_shape)
        return self._expanded(Dirichlet, shape, _instance, concentration=concentration)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        c = self.concentration
        shifted = (c - 1).clamp(min=0)
        mode = shifted / shifted.sum(-1, keepdim=True)
        # NOTE: where every concentration is below 1 the density peaks at the vertex of
        # the largest one, as in PyTorch
        vertex = (factories.arange(c.shape[-1], device=c.device) == c.argmax(-1, keepdim=True)).to(
            dtype=c.dtype
        )
        return F.where((c < 1).all(-1, keepdim=True), vertex, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total**2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            gammas = standard_gamma(self.concentration, shape)
            finfo = np.finfo(gammas.dtype)
            value = (gammas / gammas.sum(-1, keepdim=True)).clamp(
                float(finfo.tiny), 1 - float(finfo.eps)
            )
        return reparameterized_dirichlet(self.concentration, value)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return F.xlogy(c - 1, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (
            c.lgamma().sum(-1)
            - total.lgamma()
            - (k - total) * total.digamma()
            - ((c - 1) * c.digamma()).sum(-1)
        )


class Beta(Distribution):
    """The beta distribution on [0, 1] with density ∝ ``x^(c1-1) (1-x)^(c0-1)``.

    Args:
        concentration1: c1 (> 0), the weight of 1 (alpha).
        concentration0: c0 (> 0), the weight of 0 (beta).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self, concentration1: Any, concentration0: Any, validate_args: bool | None = None
    ) -> None:
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(F.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Beta:
        shape = as_shape(batch_shape)
        return self._expanded(Beta, shape, _instance, _dirichlet=self._dirichlet.expand(shape))

    @property
    def concentration1(self) -> Tensor:
        """c1, the weight of 1."""
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        """c0, the weight of 0."""
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        c1, c0 = self.concentration1, self.concentration0
        total = c1 + c0
        return c1 * c0 / (total**2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(F.stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


class StudentT(Distribution):
    """Student's t-distribution with ``df`` degrees of freedom, shifted and scaled.

    Args:
        df: The degrees of freedom (> 0).
        loc: The location (the mean where df > 1).
        scale: The scale (> 0).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None
    ) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> StudentT:
        shape = as_shape(batch_shape)
        return self._expanded(
            StudentT,
            shape,
            _instance,
            df=self.df.expand(shape),
            loc=self.loc.expand(shape),
            scale=self.scale.expand(shape),
            _chi2=self._chi2.expand(shape),
        )

    @property
    def mean(self) -> Tensor:
        return F.where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        finite = self.scale**2 * df / F.where(df > 2, df - 2, 1.0)
        undefined = F.where(df > 1, factories.full_like(df, math.inf), math.nan)
        return F.where(df > 2, finite, undefined)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = standard_normal(shape, self.df)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        z = (
            self.scale.log()
            + 0.5 * df.log()
            + 0.5 * math.log(math.pi)
            + (0.5 * df).lgamma()
            - (0.5 * (df + 1.0)).lgamma()
        )
        return -0.5 * (df + 1.0) * (y**2 / df).log1p() - z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (
            self.scale.log()
            + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
            + 0.5 * df.log()
            + lbeta
        )
