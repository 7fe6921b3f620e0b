"""Rprop."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute.optim._updates import new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class Rprop(Optimizer):
    """Resilient backpropagation: per-element step sizes that grow while the gradient keeps
    its sign and shrink when it flips; only the gradient's sign is used.

    For a parameter ``p`` with gradient ``g``, each step does (PyTorch's rule, the Rprop-
    variant without backtracking)::

        g = -g                                          if maximize
        f = eta_plus  where g * g_prev > 0
            eta_minus where g * g_prev < 0  (and g = 0 there)
            1         elsewhere
        s = clamp(s * f, step_size_min, step_size_max)
        p = p - sign(g) * s
        g_prev = g

    with ``g_prev`` (``prev``) starting at zero and ``s`` (``step_size``) at ``lr``.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: The initial step size of every element (read on a parameter's first step only).
        etas: The factors ``(eta_minus, eta_plus)`` that shrink and grow the step sizes,
            with ``0 < eta_minus < 1 < eta_plus``.
        step_sizes: The bounds ``(step_size_min, step_size_max)`` of the step sizes.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50.0),
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        check_range(group, "lr")
        eta_minus, eta_plus = _pair(group, "etas", "(eta_minus, eta_plus)")
        if not 0 < eta_minus < 1 < eta_plus:
            raise ValueError(
                f"invalid etas: {group['etas']!r} (must have 0 < eta_minus < 1 < eta_plus)"
            )
        low, high = _pair(group, "step_sizes", "(step_size_min, step_size_max)")
        check_range(group, "step_sizes[0]", low)
        if not low <= high:
            raise ValueError(
                f"invalid step_sizes: {group['step_sizes']!r} "
                "(must have 0 <= step_size_min <= step_size_max)"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            (eta_minus, eta_plus), (low, high) = group["etas"], group["step_sizes"]
            scalars = (eta_minus, eta_plus, low, high, group["maximize"])
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["prev"] = new_state(param)
                    state["step_size"] = new_state(param, group["lr"])
                state["step"] += 1
                arrays = (param.data, grad, state["prev"], state["step_size"])
                updates.append((_rprop, arrays, scalars))
        run_updates(updates)
        return loss


def _pair(group: dict[str, Any], name: str, spelled: str) -> tuple[float, float]:
    """``group[name]``, checked to be a pair of numbers."""
    pair = group[name]
    if (
        not isinstance(pair, tuple | list)
        or len(pair) != 2
        or not all(isinstance(x, numbers.Real) for x in pair)
    ):
        raise ValueError(f"{name} must be a pair of numbers {spelled}, got {pair!r}")
    return pair[0], pair[1]


def _rprop(
    p: Array,
    g: Array,
    prev: Array,
    step_size: Array,
    tmp: Array,
    eta_minus: float,
    eta_plus: float,
    step_size_min: float,
    step_size_max: float,
    maximize: bool,
) -> None:
    """One Rprop update of ``p``, ``prev`` and ``step_size`` in place."""
    xp = get_array_module(p)
    xp.multiply(g, prev, tmp)
    if maximize:  # -g * prev, with the same rounding as g * prev
        xp.negative(tmp, tmp)
    # NOTE: the factors replace sign(g * prev) in PyTorch's order, so that a NaN product
    # gives a NaN step size, as in PyTorch.
    xp.sign(tmp, tmp)
    flipped = tmp < 0
    xp.copyto(tmp, eta_plus, where=tmp > 0)
    xp.copyto(tmp, eta_minus, where=flipped)
    xp.copyto(tmp, 1, where=tmp == 0)
    step_size *= tmp
    xp.clip(step_size, step_size_min, step_size_max, step_size)
    if maximize:
        xp.negative(g, prev)
    else:
        prev[...] = g
    prev[flipped] = 0
    xp.sign(prev, tmp)
    tmp *= step_size
    p -= tmp
