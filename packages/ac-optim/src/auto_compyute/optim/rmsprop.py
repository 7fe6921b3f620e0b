"""RMSprop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running root mean square of the gradient.

    For a parameter ``p`` with gradient ``g``, each step does (PyTorch's rule)::

        g = -g                                   if maximize
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g      (running mean of g)
            d = sqrt(s - a * a) + eps
        else:
            d = sqrt(s) + eps
        if momentum > 0:
            b = momentum * b + g / d
            p = p - lr * b
        else:
            p = p - lr * g / d

    with ``s``, ``a`` and ``b`` starting at zero.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        alpha: Smoothing constant of the running averages.
        eps: Added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        momentum: Momentum factor (0: none).
        centered: Divide by an estimate of the gradient's variance instead of its raw second
            moment.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_range(group, name)

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
                if group["momentum"] > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = new_state(param)
                if group["centered"] and "grad_avg" not in state:
                    state["grad_avg"] = new_state(param)
                state["step"] += 1
                buffer = state["momentum_buffer"] if group["momentum"] > 0 else None
                grad_avg = state["grad_avg"] if group["centered"] else None
                arrays = (param.data, grad, state["square_avg"], grad_avg, buffer)
                updates.append((_rmsprop, arrays, hyper))
        run_updates(updates)
        return loss


_HYPER = ("lr", "alpha", "eps", "weight_decay", "momentum", "maximize")


def _rmsprop(
    p: Array,
    g: Array,
    square_avg: Array,
    grad_avg: Array | None,
    buffer: Array | None,
    tmp: Array,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    maximize: bool,
) -> None:
    """One RMSprop update of ``p`` and its state arrays in place."""
    xp = get_array_module(p)
    g = effective_grad(p, g, weight_decay, maximize)
    square_avg *= alpha
    xp.square(g, tmp)
    tmp *= 1 - alpha
    square_avg += tmp
    if grad_avg is not None:
        grad_avg *= alpha
        xp.multiply(g, 1 - alpha, tmp)
        grad_avg += tmp
        xp.multiply(grad_avg, grad_avg, tmp)
        xp.subtract(square_avg, tmp, tmp)
        xp.sqrt(tmp, tmp)
    else:
        xp.sqrt(square_avg, tmp)
    tmp += eps
    xp.divide(g, tmp, tmp)
    if buffer is not None:
        buffer *= momentum
        buffer += tmp
        xp.multiply(buffer, lr, tmp)
    else:
        tmp *= lr
    p -= tmp
