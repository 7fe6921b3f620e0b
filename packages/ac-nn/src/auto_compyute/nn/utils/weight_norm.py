"""Weight normalisation by a forward pre-hook (PyTorch's older ``nn.utils.weight_norm``).

Prefer ``nn.utils.parametrizations.weight_norm``; this form is kept for checkpoints and
code written for it (parameters ``weight_g`` and ``weight_v``).
"""

from __future__ import annotations

import warnings
from typing import Any

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.module import Module, Parameter, UninitializedParameter
from auto_compyute.nn.utils.parametrizations import _norm_except_dim, _weight_norm_dim

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v`` before each forward."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = dim

    def compute_weight(self, module: Module) -> Tensor:
        """``v * g / ‖v‖``, the norm over every axis but ``dim``."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Split ``module.<name>`` into ``<name>_g`` and ``<name>_v`` and register the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}"
                )
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"Module '{type(module).__name__}' has no parameter '{name}'")
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying weight normalization"
            )
        fn = WeightNorm(name, _weight_norm_dim(dim, weight.ndim))
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Turn the computed weight back into a plain parameter."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalisation ``w = g * v / ‖v‖`` by a hook (deprecated, as in PyTorch).

    Replaces the parameter ``<name>`` by ``<name>_g`` (magnitude, the norm over every axis
    but ``dim``; one number for ``dim=None`` or -1) and ``<name>_v`` (direction), and
    recomputes ``module.<name>`` before each forward.

    Args:
        module: The module holding the weight.
        name: The weight's name.
        dim: The axis that keeps one magnitude per index.

    Returns:
        ``module``

    Example:
        >>> layer = nn.utils.weight_norm(nn.Linear(20, 40))
        >>> layer.weight_g.shape
        (40, 1)
    """
    warnings.warn(
        "`nn.utils.weight_norm` is deprecated in favor of `nn.utils.parametrizations.weight_norm`.",
        FutureWarning,
        stacklevel=2,
    )
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``<name>`` becomes a plain parameter again (its current value).

    Raises:
        ValueError: If ``module`` has no weight norm on ``name``.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
