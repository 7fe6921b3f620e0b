"""Discrete distributions of counts and trials: Bernoulli, Geometric, Binomial, Poisson."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from auto_compyute._core import factories
from auto_compyute._core import functions as F
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.utils import (
    as_shape,
    broadcast_all,
    draw,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
    uniform,
)

__all__ = ["Bernoulli", "Binomial", "Geometric", "Poisson"]


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), exact for large |x|."""
    return F.logaddexp(x, 0.0)


def bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """The binary cross-entropy of ``target`` under Bernoulli(sigmoid(logits)), elementwise."""
    return softplus(logits) - logits * target


class _ProbsOrLogits(Distribution):
    """A distribution parameterized by exactly one of ``probs`` and ``logits``."""

    _is_binary = True

    def _set_param(self, probs: Any, logits: Any, *others: Any) -> tuple[Tensor, ...]:
        if (probs is None) == (logits is None):
            raise ValueError(
                f"{type(self).__name__} needs either `probs` or `logits`, but not both"
            )
        if probs is not None:
            *rest, self.probs = broadcast_all(*others, probs)
            self._param = self.probs
        else:
            *rest, self.logits = broadcast_all(*others, logits)
            self._param = self.logits
        return tuple(rest)

    @lazy_property
    def logits(self) -> Tensor:
        """The log-odds."""
        return probs_to_logits(self.probs, is_binary=self._is_binary)

    @lazy_property
    def probs(self) -> Tensor:
        """The probabilities."""
        return logits_to_probs(self.logits, is_binary=self._is_binary)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of the parameter tensor."""
        return tuple(self._param.shape)

    def _expanded_params(self, shape: tuple[int, ...]) -> dict[str, Tensor]:
        name = "probs" if "probs" in self.__dict__ else "logits"
        param = self.__dict__[name].expand(shape)
        return {name: param, "_param": param}


class Bernoulli(_ProbsOrLogits):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0.

    Args:
        probs: The probability of 1, in [0, 1].
        logits: The log-odds of 1 (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(
        self, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        self._set_param(probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Bernoulli:
        shape = as_shape(batch_shape)
        return self._expanded(Bernoulli, shape, _instance, **self._expanded_params(shape))

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(dtype=self.probs.dtype)
        return F.where(self.probs == 0.5, np.nan, mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach().expand(shape)
        return (uniform(shape, probs) < probs).to(dtype=probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -bce_with_logits(logits, value)

    def entropy(self) -> Tensor:
        return bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = factories.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape(-1, *(1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values


class Geometric(_ProbsOrLogits):
    """The number of failures before the first success in Bernoulli(probs) trials.

    Args:
        probs: The success probability, in (0, 1].
        logits: The log-odds of success (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        self._set_param(probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None and not bool((self.probs > 0).all()):
            raise ValueError(
                f"Expected parameter probs ({type(self.probs).__name__} of shape "
                f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but "
                f"found invalid values:\n{self.probs}"
            )

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Geometric:
        shape = as_shape(batch_shape)
        return self._expanded(Geometric, shape, _instance, **self._expanded_params(shape))

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return factories.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach()
        tiny = float(np.finfo(probs.dtype).tiny)
        u = uniform(shape, probs).clamp(min=tiny)
        return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # NOTE: 0 * log(0) is 0 here: certain success gives probability 1 to no failures
        probs = F.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return bce_with_logits(self.logits, self.probs) / self.probs


class Binomial(_ProbsOrLogits):
    """The number of successes in ``total_count`` Bernoulli(probs) trials.

    Args:
        total_count: The number of trials (a non-negative integer, or a tensor of them).
        probs: The success probability, in [0, 1].
        logits: The log-odds of success (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(
        self,
        total_count: Any = 1,
        probs: Any = None,
        logits: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        (total,) = self._set_param(probs, logits, total_count)
        self.total_count = total.to(dtype=self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Binomial:
        shape = as_shape(batch_shape)
        params = self._expanded_params(shape)
        return self._expanded(
            Binomial, shape, _instance, total_count=self.total_count.expand(shape), **params
        )

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().minimum(self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        counts = np.broadcast_to(self.total_count.numpy().astype(np.int64), shape)
        probs = np.broadcast_to(self.probs.numpy().astype(np.float64), shape)
        return draw(get_generator().binomial(counts, probs), self._param)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_factorial_n = (n + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (n - value + 1).lgamma()
        # NOTE: n * log(1 + exp(logits)) written to stay finite for logits of either sign
        clamped = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalize_term = n * clamped + n * (-logits.abs()).exp().log1p() - log_factorial_n
        return value * logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> Tensor:
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = int(self.total_count.max().item())
        if int(self.total_count.min().item()) != total:
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`."
            )
        values = factories.arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape(-1, *(1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values


class Poisson(Distribution):
    """The Poisson distribution of counts with mean ``rate``.

    Args:
        rate: The mean (>= 0).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Poisson:
        shape = as_shape(batch_shape)
        return self._expanded(Poisson, shape, _instance, rate=self.rate.expand(shape))

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        rates = np.broadcast_to(self.rate.numpy().astype(np.float64), shape)
        return draw(get_generator().poisson(rates), self.rate)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return F.xlogy(value, rate) - rate - (value + 1).lgamma()
