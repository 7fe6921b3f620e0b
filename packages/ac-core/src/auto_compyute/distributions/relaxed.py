"""Continuous relaxations of discrete distributions (Concrete / Gumbel-softmax), whose draws
carry gradients: RelaxedBernoulli and RelaxedOneHotCategorical."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.categorical import Categorical, _CategoricalParams
from auto_compyute.distributions.discrete import Bernoulli
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.transformed import TransformedDistribution
from auto_compyute.distributions.transforms import ExpTransform, SigmoidTransform
from auto_compyute.distributions.utils import as_shape, broadcast_all, clamp_probs, uniform

__all__ = [
    "ExpRelaxedCategorical",
    "LogitRelaxedBernoulli",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
]


def _temperature(temperature: Any, like: Tensor) -> Tensor:
    if isinstance(temperature, Tensor):
        return temperature
    return Tensor(np.asarray(temperature, dtype=like.dtype), device=like.device)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli draw: ``(logit(u) + logits) / temperature``.

    Args:
        temperature: The relaxation temperature (> 0).
        probs: The probability of 1, in [0, 1].
        logits: The log-odds of 1 (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self,
        temperature: Any,
        probs: Any = None,
        logits: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        self._bernoulli = Bernoulli(probs, logits, validate_args=validate_args)
        self.temperature = _temperature(temperature, self._bernoulli._param)
        super().__init__(self._bernoulli.batch_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Any, _instance: Distribution | None = None
    ) -> LogitRelaxedBernoulli:
        shape = as_shape(batch_shape)
        return self._expanded(
            LogitRelaxedBernoulli,
            shape,
            _instance,
            temperature=self.temperature,
            _bernoulli=self._bernoulli.expand(shape),
        )

    @property
    def probs(self) -> Tensor:
        """The probability of 1."""
        return self._bernoulli.probs

    @property
    def logits(self) -> Tensor:
        """The log-odds of 1."""
        return self._bernoulli.logits

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(*shape))
        u = clamp_probs(uniform(shape, probs))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A relaxed Bernoulli draw in (0, 1): ``sigmoid`` of a LogitRelaxedBernoulli draw. As the
    temperature goes to 0 the draws approach Bernoulli ones.

    Args:
        temperature: The relaxation temperature (> 0).
        probs: The probability of 1, in [0, 1].
        logits: The log-odds of 1 (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self,
        temperature: Any,
        probs: Any = None,
        logits: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> RelaxedBernoulli:
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def temperature(self) -> Tensor:
        """The relaxation temperature."""
        return self.base_dist.temperature  # type: ignore[attr-defined]

    @property
    def probs(self) -> Tensor:
        """The probability of 1."""
        return self.base_dist.probs  # type: ignore[attr-defined]

    @property
    def logits(self) -> Tensor:
        """The log-odds of 1."""
        return self.base_dist.logits  # type: ignore[attr-defined]


class ExpRelaxedCategorical(_CategoricalParams):
    """The log of a RelaxedOneHotCategorical draw: ``log_softmax((logits + g) / temperature)``
    with Gumbel noise g.

    Args:
        temperature: The relaxation temperature (> 0).
        probs: Non-negative weights of shape (..., K).
        logits: Unnormalized log-probabilities of shape (..., K) (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        temperature: Any,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = _temperature(temperature, self._categorical._param)
        super().__init__(
            self._categorical.batch_shape,
            self._categorical.param_shape[-1:],
            validate_args=validate_args,
        )

    def expand(
        self, batch_shape: Any, _instance: Distribution | None = None
    ) -> ExpRelaxedCategorical:
        shape = as_shape(batch_shape)
        return self._expanded(
            ExpRelaxedCategorical,
            shape,
            _instance,
            temperature=self.temperature,
            _categorical=self._categorical.expand(shape),
        )

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(uniform(shape, self.logits))
        gumbels = -((-u.log()).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = math.lgamma(k) + self.temperature.log() * (k - 1)
        score = logits - value * self.temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A relaxed one-hot draw on the simplex (Gumbel-softmax): ``exp`` of an
    ExpRelaxedCategorical draw. As the temperature goes to 0 the draws approach one-hot ones.

    Args:
        temperature: The relaxation temperature (> 0).
        probs: Non-negative weights of shape (..., K).
        logits: Unnormalized log-probabilities of shape (..., K) (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(
        self,
        temperature: Any,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(
        self, batch_shape: Any, _instance: Distribution | None = None
    ) -> RelaxedOneHotCategorical:
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def temperature(self) -> Tensor:
        """The relaxation temperature."""
        return self.base_dist.temperature  # type: ignore[attr-defined]

    @property
    def probs(self) -> Tensor:
        """The probabilities."""
        return self.base_dist.probs  # type: ignore[attr-defined]

    @property
    def logits(self) -> Tensor:
        """The normalized log-probabilities."""
        return self.base_dist.logits  # type: ignore[attr-defined]
