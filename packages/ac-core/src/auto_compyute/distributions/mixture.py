"""MixtureSameFamily: a mixture of components of one distribution family."""

from __future__ import annotations

from typing import Any, ClassVar

from auto_compyute._core import functions as F
from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.categorical import Categorical
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.utils import as_shape

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """A mixture whose components share a family: the rightmost batch axis of
    ``component_distribution`` indexes the K components, which ``mixture_distribution`` (a
    Categorical over K) weighs.

    Args:
        mixture_distribution: Categorical with batch shape broadcastable to the components'
            batch shape without its last axis.
        component_distribution: The components, batch shape ``(..., K)``.
        validate_args: See :class:`Distribution`.

    Example:
        >>> mix = Categorical(probs=ac.tensor([0.3, 0.7]))
        >>> comp = Normal(ac.tensor([-1.0, 2.0]), ac.tensor([0.5, 1.0]))
        >>> MixtureSameFamily(mix, comp).log_prob(ac.tensor(0.0))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                "The mixture distribution needs to be a Categorical, got "
                f"{type(mixture_distribution).__name__}"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                "The component distribution needs to be a Distribution, got "
                f"{type(component_distribution).__name__}"
            )
        mdbs = mixture_distribution.batch_shape
        cdbs = component_distribution.batch_shape[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(cdbs), strict=False):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mdbs}) is not compatible with "
                    f"`component_distribution.batch_shape` ({cdbs})"
                )
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1] if component_distribution.batch_shape else None
        if km != kc:
            raise ValueError(
                f"`mixture_distribution` components ({km}) do not equal "
                f"`component_distribution.batch_shape[-1]` ({kc})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> MixtureSameFamily:
        shape = as_shape(batch_shape)
        return self._expanded(
            MixtureSameFamily,
            shape,
            _instance,
            _component_distribution=self._component_distribution.expand(
                (*shape, self._num_component)
            ),
            _mixture_distribution=self._mixture_distribution.expand(shape),
            _num_component=self._num_component,
            _event_ndims=self._event_ndims,
        )

    @property
    def support(self) -> constraints.Constraint:
        return self._component_distribution.support

    @property
    def mixture_distribution(self) -> Categorical:
        """The Categorical over the components."""
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        """The components."""
        return self._component_distribution

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        dim = -1 - self._event_ndims
        mean_cond_var = (probs * self.component_distribution.variance).sum(dim)
        spread = (self.component_distribution.mean - self._pad(self.mean)) ** 2
        return mean_cond_var + (probs * spread).sum(dim)

    def cdf(self, value: Tensor) -> Tensor:
        cdf_x = self.component_distribution.cdf(self._pad(value))
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob_x = self.component_distribution.log_prob(self._pad(value))
        log_mix_prob = self.mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix_prob).logsumexp(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            gather_dim = len(as_shape(sample_shape)) + len(self.batch_shape)
            event_shape = self.event_shape
            mix_sample = self.mixture_distribution.sample(sample_shape)
            comp_samples = self.component_distribution.sample(sample_shape)
            index = mix_sample.reshape(*mix_sample.shape, *(1,) * (len(event_shape) + 1))
            index = index.expand(*mix_sample.shape, 1, *event_shape)
            return F.gather(comp_samples, gather_dim, index).squeeze(gather_dim)

    def _pad(self, value: Tensor) -> Tensor:
        return value.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, value: Tensor) -> Tensor:
        dist_batch_ndims = len(self.batch_shape)
        cat_batch_ndims = len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        shape = value.shape
        return value.reshape(*shape[:-1], *(1,) * pad_ndims, shape[-1], *(1,) * self._event_ndims)

    def __repr__(self) -> str:
        return (
            f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"
        )
