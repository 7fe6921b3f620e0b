"""The multivariate normal distribution, parameterized by a covariance, a precision or a
lower-triangular scale matrix."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from auto_compyute._core import factories, linalg
from auto_compyute._core import functions as F
from auto_compyute._core.tensor import Tensor
from auto_compyute.distributions import constraints
from auto_compyute.distributions.distribution import Distribution
from auto_compyute.distributions.utils import as_shape, lazy_property, standard_normal

__all__ = ["MultivariateNormal"]


def batch_mahalanobis(scale_tril: Tensor, diff: Tensor) -> Tensor:
    """The squared Mahalanobis distance ``diff^T (L L^T)^-1 diff`` over batches."""
    solved = linalg.solve_triangular(scale_tril, diff.unsqueeze(-1), upper=False).squeeze(-1)
    return (solved**2).sum(-1)


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    # NOTE: the Cholesky factor of the flipped precision gives L with L L^T = P^-1 without
    # inverting P itself (as PyTorch does)
    flipped = linalg.cholesky(precision.flip((-2, -1)))
    inverse_scale = flipped.flip((-2, -1)).mT
    eye = factories.eye(precision.shape[-1], dtype=precision.dtype, device=precision.device)
    return linalg.solve_triangular(inverse_scale, eye, upper=False)


class MultivariateNormal(Distribution):
    """The multivariate normal distribution N(loc, Σ) over the last axis.

    Give exactly one of ``covariance_matrix`` (Σ), ``precision_matrix`` (Σ⁻¹) and
    ``scale_tril`` (lower-triangular L with positive diagonal, Σ = L Lᵀ); draws are
    ``loc + L ε`` with standard normal ε, so ``rsample`` carries gradients.

    Args:
        loc: The mean, shape (..., n).
        covariance_matrix: Symmetric positive-definite matrices (..., n, n).
        precision_matrix: Symmetric positive-definite matrices (..., n, n).
        scale_tril: Lower-triangular matrices (..., n, n) with a positive diagonal.
        validate_args: See :class:`Distribution`.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Tensor,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if loc.ndim < 1:
            raise ValueError(f"loc must be at least one-dimensional, got shape {loc.shape}")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        matrix = given[0]
        if matrix.ndim < 2:
            name = (
                "scale_tril"
                if scale_tril is not None
                else "covariance_matrix"
                if covariance_matrix is not None
                else "precision_matrix"
            )
            raise ValueError(
                f"{name} matrix must be at least two-dimensional, with optional leading batch "
                f"dimensions, got shape {matrix.shape}"
            )
        batch_shape = F.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        n = loc.shape[-1]
        if matrix.shape[-2:] != (n, n):
            raise ValueError(
                f"loc of shape {loc.shape} and matrix of shape {matrix.shape} disagree on the "
                "event size"
            )
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(*batch_shape, n, n)
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(*batch_shape, n, n)
        else:
            self.precision_matrix = matrix.expand(*batch_shape, n, n)
        self.loc = loc.expand(*batch_shape, n)
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape: Any, _instance: Distribution | None = None) -> MultivariateNormal:
        shape = as_shape(batch_shape)
        n = self.event_shape[0]
        params = {"loc": self.loc.expand(*shape, n)}
        params["_unbroadcasted_scale_tril"] = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                params[name] = self.__dict__[name].expand(*shape, n, n)
        return self._expanded(MultivariateNormal, shape, _instance, **params)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """L, the lower-triangular Cholesky factor of the covariance."""
        n = self.event_shape[0]
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, n, n)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        """Σ = L Lᵀ."""
        n = self.event_shape[0]
        scale = self._unbroadcasted_scale_tril
        return (scale @ scale.mT).expand(*self.batch_shape, n, n)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹ = L⁻ᵀ L⁻¹."""
        n = self.event_shape[0]
        scale = self._unbroadcasted_scale_tril
        eye = factories.eye(n, dtype=scale.dtype, device=scale.device)
        inverse = linalg.solve_triangular(scale, eye, upper=False)
        return (inverse.mT @ inverse).expand(*self.batch_shape, n, n)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril**2).sum(-1).expand(*self._extended_shape())

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self.event_shape[0] * math.log(2 * math.pi) + m) - half_log_det

    def entropy(self) -> Tensor:
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        h = 0.5 * self.event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return h.expand(*self.batch_shape) if self.batch_shape else h
