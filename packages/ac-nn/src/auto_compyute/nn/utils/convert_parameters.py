"""``parameters_to_vector`` and ``vector_to_parameters``: all parameters as one vector."""

from __future__ import annotations

from collections.abc import Iterable

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.functions import cat
from auto_compyute._core.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive pieces of the 1-D ``vec`` into ``parameters``, in place.

    Args:
        vec: A 1-D tensor with as many elements as the parameters together.
        parameters: The tensors to overwrite (their shapes cut ``vec`` into pieces).
    """
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters needs a 1-D tensor of {total} elements (the parameters' "
            f"total), got shape {vec.shape}"
        )
    start = 0
    with no_grad():
        for p in parameters:
            p.copy_(vec[start : start + p.numel()].reshape(p.shape))
            start += p.numel()
