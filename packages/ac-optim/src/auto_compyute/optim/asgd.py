"""Averaged stochastic gradient descent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.dtypes import get_default_dtype
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class ASGD(Optimizer):
    """Averaged SGD: SGD with a decaying learning rate that also keeps a running average of
    the parameter (Polyak-Ruppert averaging), to be used in its place after training.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g                                          if maximize
        g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)                         (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)

    with ``eta`` starting at ``lr``, ``mu`` at 1 and ``ax`` at zero. The state of a
    parameter holds ``step``, ``eta``, ``mu`` and the average ``ax``.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        lambd: Decay term of the learning rate (and of the parameter).
        alpha: Power of the learning rate's decay.
        t0: The step from which averaging starts.
        weight_decay: L2 penalty added to the gradient.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lambd", "alpha", "t0", "weight_decay"):
            check_range(group, name)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            lr, lambd = group["lr"], group["lambd"]
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    state.update(step=0, eta=_default_precision(lr), mu=1.0, ax=new_state(param))
                state["step"] += 1
                scalars = (
                    1 - lambd * state["eta"],  # decay
                    state["eta"],
                    state["mu"],
                    group["weight_decay"],
                    group["maximize"],
                )
                updates.append((_asgd, (param.data, grad, state["ax"]), scalars))
                step = state["step"]
                state["eta"] = _default_precision(lr / (1 + lambd * lr * step) ** group["alpha"])
                state["mu"] = _default_precision(1 / max(1, step - group["t0"]))
        run_updates(updates)
        return loss


def _default_precision(value: float) -> float:
    # NOTE: PyTorch keeps eta and mu in tensors of its default dtype (float32 unless
    # changed); rounding them the same way keeps the two updates equal to the last bits.
    return float(get_default_dtype().type(value))


def _asgd(
    p: Array,
    g: Array,
    ax: Array,
    tmp: Array,
    decay: float,
    eta: float,
    mu: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One ASGD update of ``p`` and its average ``ax`` in place."""
    xp = get_array_module(p)
    g = effective_grad(p, g, weight_decay, maximize)
    p *= decay
    xp.multiply(g, eta, tmp)
    p -= tmp
    if mu == 1:
        ax[...] = p
    else:
        xp.subtract(p, ax, tmp)
        tmp *= mu
        ax += tmp
