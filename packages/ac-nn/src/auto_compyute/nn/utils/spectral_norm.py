"""Spectral normalisation by a forward pre-hook (PyTorch's older ``nn.utils.spectral_norm``).

Prefer ``nn.utils.parametrizations.spectral_norm``; this form is kept for checkpoints and
code written for it (parameter ``weight_orig``, buffers ``weight_u`` and ``weight_v``).
"""

from __future__ import annotations

from typing import Any

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional.distance import normalize
from auto_compyute.nn.module import Module, Parameter, UninitializedParameter
from auto_compyute.nn.utils.parametrizations import (
    _random_unit_vectors,
    _transpose_dim,
    _weight_matrix,
)

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name> = <name>_orig / σ`` before each
    forward, refining ``<name>_u`` and ``<name>_v`` by power iteration in training mode."""

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """``<name>_orig / σ`` with ``σ = uᵀ W v`` (after the power iteration if asked)."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = _weight_matrix(weight, self.dim)
        if do_power_iteration:
            # NOTE: the buffers are updated in place (the same objects stay registered).
            with no_grad():
                matrix = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    v.data[...] = normalize(matrix.mT @ u, dim=0, eps=self.eps).data
                    u.data[...] = normalize(matrix @ v, dim=0, eps=self.eps).data
        sigma = (u.clone() * (weight_mat @ v.clone())).sum()
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Turn the normalised weight back into a plain parameter."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(
        module: Module, name: str, n_power_iterations: int, dim: int, eps: float
    ) -> SpectralNorm:
        """Register ``<name>_orig``, ``<name>_u``, ``<name>_v`` and the hook on ``module``."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `SpectralNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying spectral normalization"
            )
        u, v = _random_unit_vectors(_weight_matrix(weight, dim), eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Spectral normalisation ``w = w_orig / σ(w_orig)`` by a hook.

    σ, the largest singular value, is estimated as ``uᵀ W v`` with ``u`` and ``v`` kept as
    buffers ``<name>_u`` and ``<name>_v`` and refined by ``n_power_iterations`` steps of
    power iteration before each forward in training mode (fixed in evaluation mode).

    Args:
        module: The module holding the weight.
        name: The weight's name.
        n_power_iterations: Power-iteration steps per training forward.
        eps: The smallest norm divided by when normalising ``u`` and ``v``.
        dim: The axis of the output channels (None: 1 for transposed convolutions, else 0).

    Returns:
        ``module``

    Example:
        >>> layer = nn.utils.spectral_norm(nn.Linear(20, 40))
        >>> list(layer.state_dict())
        ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    if dim is None:
        dim = _transpose_dim(module)
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``<name>`` becomes a plain parameter (the normalised value).

    Raises:
        ValueError: If ``module`` has no spectral norm on ``name``.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
