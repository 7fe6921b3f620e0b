"""Distributions over K categories: Categorical, OneHotCategorical, Multinomial."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from auto_compyute._core import dtypes, factories
from auto_compyute._core import functions as F
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.discrete import Binomial
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.utils import as_shape, broadcast_all, draw, lazy_property

__all__ = ["Categorical", "Multinomial", "OneHotCategorical"]


def _one_hot(indices: Tensor, num_classes: int, dtype: Any) -> Tensor:
    classes = factories.arange(num_classes, device=indices.device)
    return (indices.unsqueeze(-1) == classes).to(dtype=dtype)


class Categorical(Distribution):
    """A category index in ``0 .. K-1``, drawn with probabilities along the last axis.

    Args:
        probs: Non-negative weights of shape (..., K); they are normalized to sum to 1.
        logits: Unnormalized log-probabilities of shape (..., K) (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    has_enumerate_support = True

    def __init__(
        self,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(
                f"{type(self).__name__} needs either `probs` or `logits`, but not both"
            )
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            if logits is None or logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Categorical:
        shape = as_shape(batch_shape)
        name = "probs" if "probs" in self.__dict__ else "logits"
        param = self.__dict__[name].expand(*shape, self._num_events)
        return self._expanded(
            Categorical,
            shape,
            _instance,
            _param=param,
            _num_events=self._num_events,
            **{name: param},
        )

    @lazy_property
    def logits(self) -> Tensor:
        """The normalized log-probabilities."""
        eps = float(np.finfo(self.probs.dtype).eps)
        return self.probs.clamp(eps, 1 - eps).log()

    @lazy_property
    def probs(self) -> Tensor:
        """The probabilities."""
        return self.logits.softmax(-1)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of the parameter tensor, ``batch_shape + (K,)``."""
        return tuple(self._param.shape)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self) -> Tensor:
        return factories.full(
            self.batch_shape, math.nan, dtype=self._param.dtype, device=self._param.device
        )

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return self.mean

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = np.asarray(self.probs.numpy(), dtype=np.float64).reshape(-1, self._num_events)
        cdf = np.cumsum(probs, axis=-1)
        cdf /= cdf[:, -1:]
        draws = get_generator().random((math.prod(as_shape(sample_shape)), len(probs), 1))
        indices = np.minimum((cdf <= draws).sum(-1), self._num_events - 1)
        return Tensor(indices.reshape(shape).astype(np.int64), device=self._param.device)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        index = value.to(dtype=dtypes.int64).unsqueeze(-1)
        index, log_pmf = F.broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = factories.arange(self._num_events, device=self._param.device)
        values = values.reshape(-1, *(1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values


class _CategoricalParams(Distribution):
    """What distributions built on a :class:`Categorical` (kept as ``_categorical``) share:
    its parameters and their constraints."""

    _categorical: Categorical
    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }

    @property
    def probs(self) -> Tensor:
        """The probabilities."""
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        """The normalized log-probabilities."""
        return self._categorical.logits

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of the parameter tensor."""
        return self._categorical.param_shape


class OneHotCategorical(_CategoricalParams):
    """A one-hot vector of length K with its 1 at a Categorical draw.

    Args:
        probs: Non-negative weights of shape (..., K); they are normalized to sum to 1.
        logits: Unnormalized log-probabilities of shape (..., K) (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(
        self,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self._categorical = Categorical(probs, logits)
        super().__init__(
            self._categorical.batch_shape,
            self._categorical.param_shape[-1:],
            validate_args=validate_args,
        )

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> OneHotCategorical:
        shape = as_shape(batch_shape)
        return self._expanded(
            OneHotCategorical, shape, _instance, _categorical=self._categorical.expand(shape)
        )

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return _one_hot(self.probs.argmax(-1), self.event_shape[-1], self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        indices = self._categorical.sample(sample_shape)
        return _one_hot(indices, self.event_shape[-1], self.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self.event_shape[0]
        values = factories.eye(n, dtype=self._categorical._param.dtype, device=self.probs.device)
        values = values.reshape(n, *(1,) * len(self.batch_shape), n)
        return values.expand(n, *self.batch_shape, n) if expand else values


class Multinomial(_CategoricalParams):
    """Counts of ``total_count`` Categorical draws over K categories.

    Args:
        total_count: The number of draws (one int for the whole batch).
        probs: Non-negative weights of shape (..., K); they are normalized to sum to 1.
        logits: Unnormalized log-probabilities of shape (..., K) (give this or ``probs``).
        validate_args: See :class:`Distribution`.
    """

    def __init__(
        self,
        total_count: int = 1,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs, logits)
        self._binomial = Binomial(total_count, self.probs)
        super().__init__(
            self._categorical.batch_shape,
            self._categorical.param_shape[-1:],
            validate_args=validate_args,
        )

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> Multinomial:
        shape = as_shape(batch_shape)
        return self._expanded(
            Multinomial,
            shape,
            _instance,
            total_count=self.total_count,
            _categorical=self._categorical.expand(shape),
            _binomial=self._binomial.expand(shape + self.event_shape),
        )

    @property
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = np.asarray(self.probs.numpy(), dtype=np.float64)
        probs = probs / probs.sum(-1, keepdims=True)
        counts = get_generator().multinomial(self.total_count, probs, size=shape[:-1])
        return draw(counts, self.probs)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        # NOTE: a category of probability 0 that is never drawn contributes 0 * -inf = 0
        logits = F.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

    def entropy(self) -> Tensor:
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        return term1 + (binomial_probs * weights).sum((0, -1))
