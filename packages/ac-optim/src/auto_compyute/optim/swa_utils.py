"""Stochastic weight averaging (SWA) and exponential moving averages (EMA) of weights.

PyTorch's ``torch.optim.swa_utils``: the ``SWALR`` schedule and the averaging functions
live here; ``AveragedModel`` and ``update_bn`` work on ``nn.Module``s, so they come from
``ac-nn`` and are imported on first use (``from auto_compyute.optim.swa_utils import
AveragedModel`` needs ``ac-nn`` installed)::

    swa_model = optim.swa_utils.AveragedModel(model)
    swa_scheduler = optim.swa_utils.SWALR(opt, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, opt)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    optim.swa_utils.update_bn(loader, swa_model)
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.dtypes import get_default_dtype
from auto_compyute._core.tensor import Tensor
from auto_compyute.optim.lr_scheduler import LRScheduler, _per_group
from auto_compyute.optim.optimizer import Optimizer

__all__ = [
    "SWALR",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
]

# NOTE: names provided by ac-nn (auto_compyute.nn sits above this package, so no static
# import): they are looked up in this module on first access, see __getattr__.
_FROM_NN = ("AveragedModel", "update_bn")
_NN_MODULE = "auto_compyute.nn.utils.swa_utils"

AvgFn = Callable[[Any, Any, Any], Any]
MultiAvgFn = Callable[[Sequence[Any], Sequence[Any], Any], None]


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def _array(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _count(num_averaged: Any) -> int:
    return int(num_averaged.item()) if isinstance(num_averaged, Tensor) else int(num_averaged)


def _lerp_(averaged: Any, current: Any, weight: float) -> None:
    """``averaged += weight * (current - averaged)`` in place, in PyTorch's ``lerp`` form."""
    w = averaged.dtype.type(weight)
    if abs(weight) < 0.5:
        averaged[...] = averaged + w * (current - averaged)
    else:
        # NOTE: for weights near 1 this form lands exactly on ``current`` at weight 1.
        averaged[...] = current - (current - averaged) * (1 - w)


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """The in-place exponential moving average of lists of parameters.

    ``ema = decay * ema + (1 - decay) * param``, computed as ``lerp(ema, param, 1 - decay)``
    for floating tensors, as PyTorch does. Integer tensors (buffers such as a batch count)
    are averaged in the default floating dtype and truncated back.

    Args:
        decay: The weight of the running average, in [0, 1].

    Returns:
        ``fn(ema_params, current_params, num_averaged)``, which updates the tensors (or
        arrays) of ``ema_params`` in place; ``num_averaged`` is unused.

    Example:
        >>> ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99))
    """
    _check_decay(decay)

    def ema_update(ema_params: Sequence[Any], current_params: Sequence[Any], _: Any) -> None:
        for ema, current in zip(ema_params, current_params, strict=True):
            ema, current = _array(ema), _array(current)
            if ema.dtype.kind == "f":
                _lerp_(ema, current, 1 - decay)
            else:
                dtype = get_default_dtype()
                blended = ema.astype(dtype) * decay + current.astype(dtype) * (1 - decay)
                ema[...] = blended.astype(ema.dtype)

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The in-place equally weighted running average (SWA) of lists of parameters.

    ``avg = avg + (param - avg) / (num_averaged + 1)``, computed as
    ``lerp(avg, param, 1 / (num_averaged + 1))`` for floating tensors, as PyTorch does.
    Integer tensors are averaged as ``get_swa_avg_fn`` does (PyTorch refuses them here).

    Returns:
        ``fn(averaged_params, current_params, num_averaged)``, which updates the tensors (or
        arrays) of ``averaged_params`` in place; ``num_averaged`` (an int or a one-element
        tensor) is the number of models averaged so far.
    """

    def swa_update(
        averaged_params: Sequence[Any], current_params: Sequence[Any], num_averaged: Any
    ) -> None:
        count = _count(num_averaged)
        for averaged, current in zip(averaged_params, current_params, strict=True):
            averaged, current = _array(averaged), _array(current)
            if averaged.dtype.kind == "f":
                _lerp_(averaged, current, 1 / (count + 1))
            else:
                averaged[...] = _swa_integer(averaged, current, count)

    return swa_update


def _swa_integer(averaged: Any, current: Any, count: int) -> Any:
    """PyTorch's ``averaged + (current - averaged) / (count + 1)`` for integer tensors."""
    dtype = get_default_dtype()
    step = (current - averaged).astype(dtype) / dtype.type(count + 1)
    return (averaged.astype(dtype) + step).astype(averaged.dtype)


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The exponential moving average of one parameter: ``decay * ema + (1 - decay) * param``.

    Args:
        decay: The weight of the running average, in [0, 1].

    Returns:
        ``fn(ema_param, current_param, num_averaged)``, which returns the new average (a
        tensor for tensors, an array for arrays); ``num_averaged`` is unused.

    Example:
        >>> ema_model = AveragedModel(model, avg_fn=get_ema_avg_fn(0.99))
    """
    _check_decay(decay)

    def ema_update(ema_param: Any, current_param: Any, num_averaged: Any) -> Any:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """The equally weighted running average of one parameter (SWA).

    Returns:
        ``fn(averaged_param, current_param, num_averaged)``, which returns
        ``averaged + (current - averaged) / (num_averaged + 1)``; ``num_averaged`` (an int or
        a one-element tensor) is the number of models averaged so far.
    """

    def swa_update(averaged_param: Any, current_param: Any, num_averaged: Any) -> Any:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class SWALR(LRScheduler):
    """Anneal the learning rate of each group to ``swa_lr``, then keep it there (for SWA).

    Over ``anneal_epochs`` steps the learning rate moves from its value when the scheduler
    is created to ``swa_lr``: ``lr = swa_lr * alpha + lr_start * (1 - alpha)`` with
    ``alpha = t`` (``"linear"``) or ``(1 - cos(pi * t)) / 2`` (``"cos"``) and
    ``t = step / anneal_epochs``. As in PyTorch, the formula is recursive: each step
    recovers ``lr_start`` from the current ``group["lr"]``, and the steps are counted from
    this scheduler's creation (also when ``last_epoch`` is given), so the learning rates
    agree with PyTorch's to the bit. ``anneal_epochs=0`` switches to ``swa_lr`` at once.

    Args:
        optimizer: The optimizer whose learning rates to set.
        swa_lr: The final learning rate, or one per group (stored as ``group["swa_lr"]``).
        anneal_epochs: Steps the annealing takes (>= 0).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        last_epoch: The index of the last epoch (-1: start from the beginning).

    Example:
        >>> swa_scheduler = optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=5)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | Sequence[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        swa_lrs = _per_group("swa_lr", swa_lr, optimizer.param_groups)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        for value, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list[float]:
        # NOTE: PyTorch's expressions (ints where it has ints, from max/min), so the lrs
        # agree to the bit, including the first step, where _step_count is 1.
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(groups, prev_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute but the optimizer and ``anneal_func``."""
        state = super().state_dict()
        del state["anneal_func"]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state returned by ``state_dict()``."""
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)


def __getattr__(name: str) -> Any:
    """``AveragedModel`` and ``update_bn`` from ac-nn, imported on first use."""
    if name in _FROM_NN:
        try:
            module = importlib.import_module(_NN_MODULE)
        except ModuleNotFoundError as error:
            if error.name not in ("auto_compyute.nn", "auto_compyute.nn.utils", _NN_MODULE):
                raise
            raise ModuleNotFoundError(
                f"auto_compyute.optim.swa_utils.{name} is provided by the 'ac-nn' package; "
                "install it from the AutoCompyute repository: `pip install ./packages/ac-nn`",
                name=error.name,
            ) from None
        return getattr(module, name)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_NN})
