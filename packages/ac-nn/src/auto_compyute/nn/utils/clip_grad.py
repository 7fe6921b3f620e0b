"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (from
``auto_compyute.optim``), and the two halves of ``clip_grad_norm_``: ``get_total_norm``
and ``clip_grads_with_norm_``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor
from auto_compyute.optim import clip_grad_norm_, clip_grad_value_

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]


def _tensors(tensors: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one vector).

    Pass ``[p.grad for p in params]`` to get what ``clip_grad_norm_`` would clip by.

    Args:
        tensors: A tensor or tensors (None entries are skipped).
        norm_type: The p of the p-norm (> 0), or ``inf`` for the largest absolute value.
        error_if_nonfinite: Raise if the norm is nan or inf.
        foreach: Accepted for PyTorch compatibility; it changes nothing here.

    Returns:
        The norm, a 0-d tensor (0.0 for no tensors).
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 or inf, got {norm_type}")
    arrays = [t.data if isinstance(t, Tensor) else t for t in _tensors(tensors) if t is not None]
    if not arrays:
        return Tensor(0.0)
    xp = get_array_module(arrays[0])
    if math.isinf(norm_type):
        norms = xp.stack([xp.abs(a).max() for a in arrays])
        total = norms.max()
    else:
        norms = xp.stack([(xp.abs(a) ** norm_type).sum() ** (1.0 / norm_type) for a in arrays])
        total = (norms**norm_type).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor(xp.asarray(total))


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Scale every gradient by ``min(1, max_norm / (total_norm + 1e-6))``, in place.

    Args:
        parameters: A tensor or tensors whose ``grad`` to scale (those without are skipped).
        max_norm: The largest allowed total norm.
        total_norm: The norm to clip by, e.g. from ``get_total_norm``.
        foreach: Accepted for PyTorch compatibility; it changes nothing here.
    """
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    norm = total_norm.data if isinstance(total_norm, Tensor) else total_norm
    xp = get_array_module(grads[0])
    coef = xp.minimum(max_norm / (xp.asarray(norm) + 1e-6), 1.0)
    for g in grads:
        g *= coef.astype(g.dtype)


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_`` (PyTorch warns the same way)."""
    warnings.warn(
        "`nn.utils.clip_grad_norm` is now deprecated in favor of `nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)
