"""Adafactor."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor
from auto_compyute.optim._updates import new_state
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern), as PyTorch implements it: Adam-like steps without
    momentum whose second moments are factored, so that their state takes memory of order
    ``rows + columns`` instead of ``rows * columns``.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g                                            if maximize
        w = t ** beta2_decay                              (1 - beta2 of step t)
        step = max(eps2, rms(p)) * min(lr, 1 / sqrt(t))   (with p before weight decay)
        p = p * (1 - lr * weight_decay)
        if p.ndim >= 2 (factored over the last two dimensions):
            r = r + w * (mean(g * g, dim=-1) - r)        (row_var)
            c = c + w * (mean(g * g, dim=-2) - c)        (col_var)
            v = r * c / max(mean(r, dim=-2), eps1)
        else:
            v = v + w * (g * g - v)                       (variance)
        u = g / sqrt(max(v, eps1 * eps1))
        p = p - step / max(1, rms(u) / d) * u

    where ``rms(x) = sqrt(mean(x * x))`` over the whole tensor and the averages start at
    zero. Each parameter is updated as a whole: the steps depend on norms over all of it.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: The largest relative step size (``min(lr, 1 / sqrt(t))``), and the scale of the
            weight decay.
        beta2_decay: The power of ``t`` that gives the second moments' update weight
            (``<= 0``).
        eps: ``(eps1, eps2)``: ``eps1`` bounds the second moments from below (``None``: the
            machine epsilon of the parameter's dtype); ``eps2`` bounds ``rms(p)`` in the step
            size from below, so that parameters at zero still move.
        d: The clipping threshold of ``rms(u)`` (``>= 1``).
        weight_decay: Decoupled weight decay, scaled by ``lr``.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "weight_decay"):
            check_range(group, name)
        for name in ("beta2_decay", "d"):
            if not isinstance(group[name], numbers.Real):
                raise TypeError(f"{name} must be a number, got {type(group[name]).__name__}")
        if not float(group["beta2_decay"]) <= 0:
            raise ValueError(f"invalid beta2_decay: {group['beta2_decay']} (must be <= 0)")
        if not float(group["d"]) >= 1:
            raise ValueError(f"invalid d: {group['d']} (must be >= 1)")
        eps = group["eps"]
        if not isinstance(eps, tuple | list) or len(eps) != 2:
            raise ValueError(f"eps must be a pair (eps1, eps2), got {eps!r}")
        if eps[0] is not None:
            check_range(group, "eps[0]", eps[0])
        check_range(group, "eps[1]", eps[1])

    def _state_shape(self, name: str, param: Tensor) -> tuple[int, ...]:
        shape = param.shape
        if name == "row_var" and len(shape) >= 2:
            return (*shape[:-1], 1)
        if name == "col_var" and len(shape) >= 2:
            return (*shape[:-2], 1, shape[-1])
        return shape

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (eps1, eps2) = group["lr"], group["eps"]
            for param, grad in self._with_grads(group):
                state = self.state[param]
                p = param.data
                if not state:
                    state["step"] = 0
                    if p.ndim >= 2:
                        xp = get_array_module(p)
                        state["row_var"] = xp.zeros(self._state_shape("row_var", param), p.dtype)
                        state["col_var"] = xp.zeros(self._state_shape("col_var", param), p.dtype)
                    else:
                        state["variance"] = new_state(param)
                state["step"] += 1
                step = float(state["step"])
                _adafactor(
                    p,
                    grad,
                    state.get("row_var"),
                    state.get("col_var"),
                    state.get("variance"),
                    weight=step ** group["beta2_decay"],
                    rho=min(lr, 1 / step**0.5),
                    decay=1 - lr * group["weight_decay"],
                    eps1=float(get_array_module(p).finfo(p.dtype).eps) if eps1 is None else eps1,
                    eps2=eps2,
                    d=group["d"],
                    maximize=group["maximize"],
                )
        return loss


def _adafactor(
    p: Array,
    g: Array,
    row_var: Array | None,
    col_var: Array | None,
    variance: Array | None,
    *,
    weight: float,
    rho: float,
    decay: float,
    eps1: float,
    eps2: float,
    d: float,
    maximize: bool,
) -> None:
    """One Adafactor update of ``p`` and its second moments in place."""
    if p.size == 0:  # nothing to update, and its root mean square is undefined
        return
    xp = get_array_module(p)
    if maximize:
        g = xp.negative(g)
    step_size = max(eps2, _norm(p) / p.size**0.5) * rho
    if decay != 1:
        p *= decay
    if row_var is not None and col_var is not None:
        square = xp.square(g)
        _lerp(row_var, xp.mean(square, axis=-1, keepdims=True), weight)
        _lerp(col_var, xp.mean(square, axis=-2, keepdims=True), weight)
        update = xp.multiply(row_var, col_var, square)
        norm = xp.mean(row_var, axis=-2, keepdims=True)
        xp.maximum(norm, eps1, out=norm)
        update /= norm
    else:
        _lerp(variance, xp.square(g), weight)
        update = xp.copy(variance)
    xp.maximum(update, eps1 * eps1, out=update)
    xp.sqrt(update, update)
    xp.reciprocal(update, update)
    update *= g
    update *= step_size / max(1.0, _norm(update) / (update.size**0.5 * d))
    p -= update


def _norm(x: Array) -> float:
    """The 2-norm of all elements of ``x``."""
    return float(get_array_module(x).linalg.norm(x.reshape(-1)))


def _lerp(start: Array, end: Array, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounded as PyTorch's ``lerp_``."""
    weight = start.dtype.type(weight)
    diff = get_array_module(start).subtract(end, start)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        # NOTE: PyTorch's form for large weights, exact at weight 1 (the first step).
        diff *= 1 - weight
        get_array_module(start).subtract(end, diff, start)
