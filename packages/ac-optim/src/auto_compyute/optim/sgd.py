"""Stochastic gradient descent with momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.blas import axpy
from auto_compyute._core.devices import get_array_module
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    For a parameter ``p`` with gradient ``g``, each step does (PyTorch's rule)::

        g = -g                                       if maximize
        g = g + weight_decay * p
        if momentum != 0:
            b = g                                    on the first step
            b = momentum * b + (1 - dampening) * g   on later steps
            g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        momentum: Momentum factor (0: plain SGD).
        dampening: Dampening of the momentum.
        weight_decay: L2 penalty added to the gradient.
        nesterov: Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: Maximize the objective instead of minimizing it.

    Example:
        >>> w = ac.zeros(3, req_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> ((w - 1) ** 2).sum().backward()
        >>> opt.step()
        >>> opt.zero_grad()
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "momentum", "weight_decay"):
            check_range(group, name)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening == 0")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            if group["momentum"] == 0 and group["weight_decay"] == 0:
                # NOTE: p -= lr g in one pass (BLAS axpy), not the kernel's two
                alpha = group["lr"] if group["maximize"] else -group["lr"]
                for param, grad in self._with_grads(group):
                    axpy(alpha, grad, param.data)
                continue
            hyper = tuple(group[key] for key in _HYPER)
            for param, grad in self._with_grads(group):
                buffer, first = None, False
                if group["momentum"] != 0:
                    state = self.state[param]
                    first = "momentum_buffer" not in state
                    if first:
                        state["momentum_buffer"] = new_state(param)
                    buffer = state["momentum_buffer"]
                updates.append((_sgd, (param.data, grad, buffer), (first, *hyper)))
        run_updates(updates)
        return loss


_HYPER = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")


def _sgd(
    p: Array,
    g: Array,
    buffer: Array | None,
    tmp: Array,
    first: bool,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """One SGD update of ``p`` (and ``buffer``) in place."""
    xp = get_array_module(p)
    g = effective_grad(p, g, weight_decay, maximize)
    if buffer is not None:
        if first:
            buffer[...] = g
        else:
            buffer *= momentum
            xp.multiply(g, 1 - dampening, tmp)
            buffer += tmp
        if nesterov:
            xp.multiply(buffer, momentum, tmp)
            tmp += g
            g = tmp
        else:
            g = buffer
    xp.multiply(g, lr, tmp)
    p -= tmp
