"""Adam and AdamW."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute.optim._updates import effective_grad, new_state, run_updates
from auto_compyute.optim.optimizer import Optimizer, Params, check_range


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square.

    For a parameter ``p`` with gradient ``g``, step ``t`` (from 1) does (PyTorch's rule)::

        g = -g                                  if maximize
        p = p * (1 - lr * weight_decay)         if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p                otherwise
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                   if amsgrad, and v_max replaces v below
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    with ``m`` and ``v`` starting at zero.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        betas: Decay rates ``(beta1, beta2)`` of the running averages, each in [0, 1).
        eps: Added to the denominator for numerical stability.
        weight_decay: Weight decay: an L2 penalty on the gradient, or decoupled (see above).
        amsgrad: Use the maximum of past second moments (the AMSGrad variant).
        maximize: Maximize the objective instead of minimizing it.
        decoupled_weight_decay: Decay the weights directly (this makes Adam AdamW).
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_range(group, name)
        betas = group["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            check_range(group, f"betas[{i}]", beta, below=1.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            lr, (beta1, beta2), amsgrad = group["lr"], group["betas"], group["amsgrad"]
            hyper = {
                "lr": lr,
                "beta1": beta1,
                "beta2": beta2,
                "weight_decay": group["weight_decay"],
                "decoupled": group["decoupled_weight_decay"],
                "maximize": group["maximize"],
            }
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    state.update(step=0, exp_avg=new_state(param), exp_avg_sq=new_state(param))
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = new_state(param)
                state["step"] += 1
                # NOTE: with c1, c2 the bias corrections, lr / c1 * m / (sqrt(v) / sqrt(c2) + eps)
                # = (lr * sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)): one array op fewer.
                root_c2 = (1 - beta2 ** state["step"]) ** 0.5
                step_size = lr * root_c2 / (1 - beta1 ** state["step"])
                kernel = partial(_adam, step_size=step_size, eps=group["eps"] * root_c2, **hyper)
                v_max = state["max_exp_avg_sq"] if amsgrad else None
                arrays = (param.data, grad, state["exp_avg"], state["exp_avg_sq"], v_max)
                updates.append((kernel, arrays))
        run_updates(updates)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p = p * (1 - lr * weight_decay)`` before each step.

    The update is ``Adam``'s with ``decoupled_weight_decay=True``; see ``Adam`` for the math.

    Args:
        params: Tensors to optimize, or dicts of parameter groups.
        lr: Learning rate.
        betas: Decay rates ``(beta1, beta2)`` of the running averages, each in [0, 1).
        eps: Added to the denominator for numerical stability.
        weight_decay: Decoupled weight decay coefficient.
        amsgrad: Use the maximum of past second moments (the AMSGrad variant).
        maximize: Maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )


def _adam(
    p: Array,
    g: Array,
    m: Array,
    v: Array,
    v_max: Array | None,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
    maximize: bool,
    step_size: float,
) -> None:
    """One Adam update of ``p``, ``m``, ``v`` (and ``v_max``) in place."""
    xp = get_array_module(p)
    if decoupled and weight_decay != 0:
        p *= 1 - lr * weight_decay
        weight_decay = 0
    g = effective_grad(p, g, weight_decay, maximize)
    tmp = xp.empty_like(p)
    m *= beta1
    xp.multiply(g, 1 - beta1, tmp)
    m += tmp
    v *= beta2
    xp.square(g, tmp)
    tmp *= 1 - beta2
    v += tmp
    if v_max is not None:
        xp.maximum(v_max, v, out=v_max)  # NOTE: np.maximum deprecates a positional out
        v = v_max
    xp.sqrt(v, tmp)
    tmp += eps
    xp.divide(m, tmp, tmp)
    tmp *= step_size
    p -= tmp
