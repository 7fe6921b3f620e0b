"""Continuous distributions on the real line and its halves: Normal, Uniform, Exponential,
Laplace, Cauchy."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from auto_compyute._core import factories
from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.utils import as_shape, broadcast_all, standard_normal, uniform

__all__ = ["Cauchy", "Exponential", "Laplace", "Normal", "Uniform"]


class _LocScale(Distribution):
    """What the location-scale families on the real line share: ``loc``, ``scale`` and the
    mode at ``loc``."""

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mode(self) -> Tensor:
        return self.loc


class Normal(_LocScale):
    """The normal (Gaussian) distribution N(loc, scale²).

    Args:
        loc: The mean.
        scale: The standard deviation (> 0).
        validate_args: See :class:`Distribution`.

    Example:
        >>> d = Normal(ac.tensor(0.0), ac.tensor(1.0))
        >>> d.log_prob(ac.tensor(0.5))
    """

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Normal:
        shape = as_shape(batch_shape)
        return self._expanded(
            Normal, shape, _instance, loc=self.loc.expand(shape), scale=self.scale.expand(shape)
        )

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale**2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.loc + standard_normal(shape, self.loc) * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (
            -((value - self.loc) ** 2) / (2 * self.scale**2)
            - self.scale.log()
            - math.log(math.sqrt(2 * math.pi))
        )

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Uniform(Distribution):
    """The uniform distribution on [low, high) (draws never reach high).

    Args:
        low: The lower bound.
        high: The upper bound (> low).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "low": constraints.dependent(is_discrete=False, event_dim=0),
        "high": constraints.dependent(is_discrete=False, event_dim=0),
    }
    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError(
                f"Uniform is not defined when low >= high, got low {self.low} and high {self.high}"
            )

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Uniform:
        shape = as_shape(batch_shape)
        return self._expanded(
            Uniform, shape, _instance, low=self.low.expand(shape), high=self.high.expand(shape)
        )

    @property
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * math.nan

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / math.sqrt(12)

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.low + uniform(shape, self.low) * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        return inside.to(dtype=self.low.dtype).log() - (self.high - self.low).log()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Exponential(Distribution):
    """The exponential distribution with density ``rate * exp(-rate * x)`` on x >= 0.

    Args:
        rate: The rate (> 0), one over the mean.
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Exponential:
        shape = as_shape(batch_shape)
        return self._expanded(Exponential, shape, _instance, rate=self.rate.expand(shape))

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return factories.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate**-2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        # NOTE: -log1p(-u) with u in [0, 1) is a standard exponential draw
        return -(-uniform(shape, self.rate)).log1p() / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Laplace(_LocScale):
    """The Laplace distribution with density ``exp(-|x - loc| / scale) / (2 scale)``.

    Args:
        loc: The mean (and median).
        scale: The scale (> 0).
        validate_args: See :class:`Distribution`.
    """

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Laplace:
        shape = as_shape(batch_shape)
        return self._expanded(
            Laplace, shape, _instance, loc=self.loc.expand(shape), scale=self.scale.expand(shape)
        )

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale**2

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        # NOTE: u in (eps - 1, 1) keeps log1p(-|u|) finite
        u = uniform(shape, self.loc, float(np.finfo(self.loc.dtype).eps) - 1, 1.0)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class Cauchy(_LocScale):
    """The Cauchy (Lorentz) distribution: the ratio of two independent standard normals,
    shifted by ``loc`` and scaled by ``scale``. Its mean and variance do not exist.

    Args:
        loc: The median (and mode).
        scale: Half the interquartile range (> 0).
        validate_args: See :class:`Distribution`.
    """

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Cauchy:
        shape = as_shape(batch_shape)
        return self._expanded(
            Cauchy, shape, _instance, loc=self.loc.expand(shape), scale=self.scale.expand(shape)
        )

    @property
    def mean(self) -> Tensor:
        return factories.full_like(self.loc, math.nan)

    @property
    def variance(self) -> Tensor:
        return factories.full_like(self.loc, math.inf)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = (math.pi * (uniform(shape, self.loc) - 0.5)).tan()
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (
            -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()
        )

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()
