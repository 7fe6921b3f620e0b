"""Gradient clipping, in place on the gradients of parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import device_of, get_array_module, move_array
from auto_compyute._core.tensor import Tensor

Parameters = Tensor | Iterable[Tensor]


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients taken together (as if
    concatenated into one vector). Every gradient is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``, as in PyTorch. The arithmetic stays on the
    gradients' device: nothing is copied to the host.

    Args:
        parameters: A tensor or tensors whose ``grad`` to clip; those without a grad are skipped.
        max_norm: The largest allowed total norm.
        norm_type: The p of the p-norm (> 0), or ``inf`` for the largest absolute value.
        error_if_nonfinite: Raise if the total norm is nan or inf (costs a device sync).

    Returns:
        The total norm of the gradients before clipping, as a 0-d tensor.

    Example:
        >>> loss.backward()
        >>> optim.clip_grad_norm_(params, max_norm=1.0)
        >>> opt.step()
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 or inf, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    first = grads[0]
    xp = get_array_module(first)
    norms = xp.stack([_on_device_of(_norm(g, norm_type), first) for g in grads])
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {float(total)}, so they "
            "cannot be clipped; pass error_if_nonfinite=False to skip this check"
        )
    coef = xp.asarray(xp.minimum(max_norm / (total + 1e-6), 1.0))
    for g in grads:
        g *= _on_device_of(coef, g)
    return Tensor(total)


def clip_grad_value_(parameters: Parameters, clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Args:
        parameters: A tensor or tensors whose ``grad`` to clip; those without a grad are skipped.
        clip_value: The largest allowed absolute value.
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        get_array_module(g).clip(g, -clip_value, clip_value, out=g)


def _grads(parameters: Parameters) -> list[Array]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _norm(array: Array, norm_type: float) -> Array:
    """The ``norm_type``-norm of all elements of ``array``, as a 0-d array on its device."""
    xp = get_array_module(array)
    if math.isinf(norm_type):
        return xp.asarray(xp.abs(array).max())
    if array.dtype == xp.float16:
        # NOTE: a float16 sum of squares overflows from a norm of 256; PyTorch sums in float32
        # and rounds the norm to float16.
        return _norm(array.astype(xp.float32), norm_type).astype(xp.float16)
    if norm_type == 2.0:
        flat = array.reshape(-1)
        return xp.asarray(xp.sqrt(xp.dot(flat, flat)))
    return xp.asarray((xp.abs(array) ** norm_type).sum() ** (1.0 / norm_type))


def _on_device_of(array: Array, like: Array) -> Array:
    """``array`` moved to the device of ``like`` (no copy when it is already there)."""
    if type(array) is type(like) and device_of(array) == device_of(like):
        return array
    return move_array(array, device_of(like))
