"""Adagrad."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class Adagrad(Optimizer):
    """Adagrad: steps divided by the root of the sum of all past squared gradients.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g                                   if maximize
        g = g + weight_decay * p
        s = s + g * g                            (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        lr_decay: Learning-rate decay per step.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: Starting value of the sum of squares.
        eps: Added to the denominator for numerical stability.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_range(group, name)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["sum"] = new_state(param, group["initial_accumulator_value"])
                state["step"] += 1
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                scalars = (clr, group["eps"], group["weight_decay"], group["maximize"])
                updates.append((_adagrad, (param.data, grad, state["sum"]), scalars))
        run_updates(updates)
        return loss


def _adagrad(
    p: Array,
    g: Array,
    state_sum: Array,
    tmp: Array,
    clr: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One Adagrad update of ``p`` and ``state_sum`` in place, with learning rate ``clr``."""
    xp = get_array_module(p)
    g = effective_grad(p, g, weight_decay, maximize)
    xp.square(g, tmp)
    state_sum += tmp
    xp.sqrt(state_sum, tmp)
    tmp += eps
    xp.divide(g, tmp, tmp)
    tmp *= clr
    p -= tmp
