"""Adamax, NAdam and RAdam: Adam's relatives, with PyTorch's update rules.

Their state is PyTorch's (``step``, ``exp_avg``, ``exp_avg_sq`` or ``exp_inf``, and NAdam's
``mu_product``); the updates run as kernels over cache-sized pieces, like Adam's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.dtypes import get_default_dtype
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.adam import check_adam_group
from auto_compyute.optim.optimizer import Optimizer, Params, check_range

__all__ = ["Adamax", "NAdam", "RAdam"]


class _AdamLike(Optimizer):
    """Arguments, checks and the step loop the three share."""

    kernel: Callable[..., None]
    state_names: tuple[str, ...] = ("exp_avg", "exp_avg_sq")

    def _check(self, group: dict[str, Any]) -> None:
        check_adam_group(group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state.update({name: new_state(param) for name in self.state_names})
                state["step"] += 1
                scalars = self._scalars(group, state)
                kernel = partial(type(self).kernel, **scalars)
                arrays = (param.data, grad, *(state[name] for name in self.state_names))
                updates.append((kernel, arrays, ()))
        run_updates(updates)
        return loss

    def _scalars(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class Adamax(_AdamLike):
    """Adam with the infinity norm: steps divided by a decaying maximum of ``|g|``.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g                                  if maximize
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        betas: Decay rates ``(beta1, beta2)``, each in [0, 1).
        eps: Added to ``|g|`` for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        maximize: Maximize the objective instead of minimizing it.
    """

    state_names = ("exp_avg", "exp_inf")

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, {**defaults, "maximize": maximize})

    def _scalars(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return {
            "beta1": beta1,
            "beta2": beta2,
            "eps": group["eps"],
            "step_size": group["lr"] / (1 - beta1 ** state["step"]),
            "weight_decay": group["weight_decay"],
            "maximize": group["maximize"],
        }

    @staticmethod
    def kernel(
        p: Array,
        g: Array,
        m: Array,
        u: Array,
        tmp: Array,
        *,
        beta1: float,
        beta2: float,
        eps: float,
        step_size: float,
        weight_decay: float,
        maximize: bool,
    ) -> None:
        xp = get_array_module(p)
        g = effective_grad(p, g, weight_decay, maximize)
        _lerp(m, g, 1 - beta1, tmp)
        u *= beta2
        xp.absolute(g, tmp)
        tmp += eps
        xp.maximum(u, tmp, out=u)
        xp.divide(m, u, tmp)
        tmp *= step_size
        p -= tmp


class NAdam(_AdamLike):
    """Adam with Nesterov momentum (Dozat), with PyTorch's momentum decay schedule.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g                                  if maximize
        p = p * (1 - lr * weight_decay)         if decoupled_weight_decay
        g = g + weight_decay * p                otherwise
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)); P_t = mu_1 ... mu_t
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / d - lr * mu_(t+1) / (1 - P_(t+1)) * m / d

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        betas: Decay rates ``(beta1, beta2)``, each in [0, 1).
        eps: Added to the denominator for numerical stability.
        weight_decay: Weight decay (an L2 penalty, or decoupled).
        momentum_decay: The momentum schedule's decay.
        decoupled_weight_decay: Decay the weights directly, as AdamW does.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults.update(momentum_decay=momentum_decay, maximize=maximize)
        super().__init__(params, {**defaults, "decoupled_weight_decay": decoupled_weight_decay})

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        check_range(group, "momentum_decay")

    def _scalars(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        step, decay = state["step"], group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        # NOTE: PyTorch keeps this product in a tensor of its default dtype (float32 unless
        # changed): rounding it the same way keeps the two updates equal to the last bits.
        scalar = get_default_dtype().type
        state["mu_product"] = float(scalar(state.get("mu_product", 1.0)) * scalar(mu))
        lr = group["lr"]
        return {
            "beta1": beta1,
            "beta2": beta2,
            "eps": group["eps"],
            "root_correction2": math.sqrt(1 - beta2**step),
            "grad_scale": lr * (1.0 - mu) / (1.0 - state["mu_product"]),
            "avg_scale": lr * mu_next / (1.0 - state["mu_product"] * mu_next),
            "maximize": group["maximize"],
            **_weight_decay(group),
        }

    @staticmethod
    def kernel(
        p: Array,
        g: Array,
        m: Array,
        v: Array,
        tmp: Array,
        *,
        beta1: float,
        beta2: float,
        eps: float,
        root_correction2: float,
        grad_scale: float,
        avg_scale: float,
        decay: float,
        weight_decay: float,
        maximize: bool,
    ) -> None:
        xp = get_array_module(p)
        g = _moments(p, g, m, v, tmp, beta1, beta2, decay, weight_decay, maximize)
        # d = sqrt(v) / sqrt(1 - beta2**t) + eps, then two steps along g / d and m / d
        denom = xp.sqrt(v)
        denom /= root_correction2
        denom += eps
        xp.divide(g, denom, tmp)
        tmp *= grad_scale
        p -= tmp
        xp.divide(m, denom, tmp)
        tmp *= avg_scale
        p -= tmp


class RAdam(_AdamLike):
    """Rectified Adam: plain momentum steps while the variance estimate is unreliable, then
    Adam steps scaled by a rectification term.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g (maximize); weight decay as in NAdam
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        p = p - lr * m / (1 - beta1**t) * (r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)
                                           if rho_t > 5 else 1)
        r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        betas: Decay rates ``(beta1, beta2)``, each in [0, 1).
        eps: Added to the denominator for numerical stability.
        weight_decay: Weight decay (an L2 penalty, or decoupled).
        decoupled_weight_decay: Decay the weights directly, as AdamW does.
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults.update(decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _scalars(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        step, lr = state["step"], group["lr"]
        correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / correction2
        rectified = rho_t > 5.0
        rect = (
            ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            if rectified
            else 0.0
        )
        return {
            "beta1": beta1,
            "beta2": beta2,
            "eps": group["eps"],
            "step_size": lr / (1 - beta1**step),
            "scale": rect * correction2**0.5 if rectified else None,
            "maximize": group["maximize"],
            **_weight_decay(group),
        }

    @staticmethod
    def kernel(
        p: Array,
        g: Array,
        m: Array,
        v: Array,
        tmp: Array,
        *,
        beta1: float,
        beta2: float,
        eps: float,
        step_size: float,
        scale: float | None,
        decay: float,
        weight_decay: float,
        maximize: bool,
    ) -> None:
        xp = get_array_module(p)
        _moments(p, g, m, v, tmp, beta1, beta2, decay, weight_decay, maximize)
        if scale is None:  # early steps: momentum alone
            xp.multiply(m, step_size, tmp)
        else:
            xp.sqrt(v, tmp)
            tmp += eps
            xp.divide(m, tmp, tmp)
            tmp *= step_size * scale
        p -= tmp


def _weight_decay(group: dict[str, Any]) -> dict[str, float]:
    """The kernel's ``decay`` factor of ``p`` (decoupled) or ``weight_decay`` of the gradient."""
    if group["decoupled_weight_decay"]:
        return {"decay": 1 - group["lr"] * group["weight_decay"], "weight_decay": 0.0}
    return {"decay": 1.0, "weight_decay": group["weight_decay"]}


def _moments(
    p: Array,
    g: Array,
    m: Array,
    v: Array,
    tmp: Array,
    beta1: float,
    beta2: float,
    decay: float,
    weight_decay: float,
    maximize: bool,
) -> Array:
    """Decay ``p`` (decoupled weight decay), then update the running averages ``m`` of the
    effective gradient and ``v`` of its square; return that gradient."""
    if decay != 1.0:
        p *= decay
    g = effective_grad(p, g, weight_decay, maximize)
    _lerp(m, g, 1 - beta1, tmp)
    v *= beta2
    get_array_module(v).square(g, tmp)
    tmp *= 1 - beta2
    v += tmp
    return g


def _lerp(m: Array, g: Array, weight: float, tmp: Array) -> None:
    """``m += weight * (g - m)`` in place (PyTorch's ``lerp_``)."""
    get_array_module(m).subtract(g, m, tmp)
    tmp *= weight
    m += tmp
