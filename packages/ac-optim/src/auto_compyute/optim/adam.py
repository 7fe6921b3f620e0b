"""Adam and AdamW."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor
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

    with ``m`` and ``v`` starting at zero. Instead of PyTorch's ``exp_avg`` and
    ``exp_avg_sq``, a parameter's state holds the decayed sums ``grad_sum = m / (1 - beta1)``
    and ``grad_sq_sum = v / (1 - beta2)`` (``max_grad_sq_sum`` with amsgrad), with the
    ``betas`` they were last updated with and ``step``: a sum takes one pass over memory less
    per step than an average, and NumPy makes each array operation a pass of its own. The
    sums of float16 parameters are float32.

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
        check_adam_group(group)

    def _state_dtype(self, name: str, param: Tensor) -> Any:
        # NOTE: the sums are up to 1 / (1 - beta2) = 1000 times PyTorch's averages, which
        # overflows float16 (a sum of squares from |g| = 8 on); they stay float32 for it.
        return np.float32 if param.dtype == np.float16 else param.dtype

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        updates = []
        for group in self.param_groups:
            lr, (beta1, beta2), amsgrad = group["lr"], group["betas"], group["amsgrad"]
            hyper = (lr, group["weight_decay"], group["decoupled_weight_decay"], group["maximize"])
            for param, grad in self._with_grads(group):
                state = self.state[param]
                if not state:
                    dtype = self._state_dtype("grad_sum", param)
                    state.update(step=0, grad_sum=new_state(param, dtype=dtype))
                    state.update(grad_sq_sum=new_state(param, dtype=dtype), betas=(beta1, beta2))
                elif "grad_sum" not in state:
                    raise KeyError(
                        f"{type(self).__name__} state has the keys {sorted(state)}, not "
                        "'step', 'grad_sum', 'grad_sq_sum' and 'betas' (see the class docstring)"
                    )
                if amsgrad and "max_grad_sq_sum" not in state:
                    state["max_grad_sq_sum"] = new_state(param, dtype=state["grad_sq_sum"].dtype)
                state["step"] += 1
                step = state["step"]
                # NOTE: with m = (1 - beta1) * grad_sum, v = (1 - beta2) * grad_sq_sum, Adam's
                # lr / c1 * m / (sqrt(v / c2) + eps) (c1, c2: the bias corrections) is
                # lr * (1 - beta1) / c1 * r * grad_sum / (sqrt(grad_sq_sum) + eps * r), with
                # r = sqrt(c2 / (1 - beta2)). Sums last scaled for other betas are rescaled
                # as they decay (factors of exactly 1 while the betas stay).
                old1, old2 = state["betas"]
                state["betas"] = (beta1, beta2)
                root = ((1 - beta2**step) / (1 - beta2)) ** 0.5
                scalars = (
                    beta1 * ((1 - old1) / (1 - beta1)),  # decay1
                    beta2 * ((1 - old2) / (1 - beta2)),  # decay2
                    (1 - old2) / (1 - beta2),  # rescale_max
                    lr * (1 - beta1) / (1 - beta1**step) * root,  # step_size
                    group["eps"] * root,  # eps
                    *hyper,
                )
                v_max = state["max_grad_sq_sum"] if amsgrad else None
                arrays = (param.data, grad, state["grad_sum"], state["grad_sq_sum"], v_max)
                updates.append((_adam, arrays, scalars))
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
    tmp: Array,
    decay1: float,
    decay2: float,
    rescale_max: float,
    step_size: float,
    eps: float,
    lr: float,
    weight_decay: float,
    decoupled: bool,
    maximize: bool,
) -> None:
    """One Adam update of ``p`` and the decayed sums ``m``, ``v`` (and ``v_max``) in place."""
    xp = get_array_module(p)
    if decoupled and weight_decay != 0:
        p *= 1 - lr * weight_decay
        weight_decay = 0
    g = effective_grad(p, g, weight_decay, maximize)
    m *= decay1
    m += g
    v *= decay2
    xp.square(g, tmp)
    v += tmp
    if v_max is not None:
        if rescale_max != 1:
            v_max *= rescale_max
        xp.maximum(v_max, v, out=v_max)  # NOTE: np.maximum deprecates a positional out
        v = v_max
    xp.sqrt(v, tmp)
    tmp += eps
    xp.divide(m, tmp, tmp)
    tmp *= step_size
    p -= tmp


def check_adam_group(group: dict[str, Any]) -> None:
    """Check the hyper-parameters Adam and its relatives share: lr, eps, weight decay, betas."""
    for name in ("lr", "eps", "weight_decay"):
        check_range(group, name)
    betas = group["betas"]
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        check_range(group, f"betas[{i}]", beta, below=1.0)
