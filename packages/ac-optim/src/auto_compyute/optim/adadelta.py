"""Adadelta."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running root mean squares of past steps and of
    gradients, so that a step has the units of the parameter.

    For a parameter ``p`` with gradient ``g``, each step does (PyTorch's rule)::

        g = -g                                   if maximize
        g = g + weight_decay * p
        s = rho * s + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(s + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    with ``s`` (``square_avg``) and ``u`` (``acc_delta``) starting at zero.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate: a factor on ``delta`` (1 in the original method).
        rho: Smoothing constant of the running averages, in [0, 1].
        eps: Added inside both square roots for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay", "rho"):
            check_range(group, name)
        if not group["rho"] <= 1:
            raise ValueError(f"invalid rho: {group['rho']} (must be in [0, 1])")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            hyper = tuple(group[key] for key in _HYPER)
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = new_state(param)
                    state["acc_delta"] = new_state(param)
                state["step"] += 1
                arrays = (param.data, grad, state["square_avg"], state["acc_delta"])
                updates.append((_adadelta, arrays, hyper))
        run_updates(updates)
        return loss


_HYPER = ("lr", "rho", "eps", "weight_decay", "maximize")


def _adadelta(
    p: Array,
    g: Array,
    square_avg: Array,
    acc_delta: Array,
    tmp: Array,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One Adadelta update of ``p``, ``square_avg`` and ``acc_delta`` in place."""
    xp = get_array_module(p)
    g = effective_grad(p, g, weight_decay, maximize)
    square_avg *= rho
    xp.square(g, tmp)
    tmp *= 1 - rho
    square_avg += tmp
    std = xp.add(square_avg, eps)
    xp.sqrt(std, std)
    xp.add(acc_delta, eps, tmp)
    xp.sqrt(tmp, tmp)
    tmp /= std
    tmp *= g  # tmp is delta from here on
    acc_delta *= rho
    xp.square(tmp, std)
    std *= 1 - rho
    acc_delta += std
    tmp *= lr
    p -= tmp
