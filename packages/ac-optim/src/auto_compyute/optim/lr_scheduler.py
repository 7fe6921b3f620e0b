"""Learning-rate schedulers: they set ``group["lr"]`` of an optimizer's parameter groups.

Call ``scheduler.step()`` once per epoch (or per batch, for per-step schedules such as
``OneCycleLR``), after ``optimizer.step()``. The formulas are PyTorch's, in the same
recursive form, so the learning rates agree with PyTorch's to the last bit and schedulers
can be chained on one optimizer.
"""

from __future__ import annotations

import copy
import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from auto_compyute.optim.optimizer import Optimizer

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


class LRScheduler:
    """Base class of the schedulers: ``step()`` moves to the next epoch and sets the lrs.

    Subclasses implement ``get_lr()``, the learning rates at ``last_epoch``, and may
    implement ``_closed_form_lr()`` (the same from ``base_lrs`` alone), which ``SequentialLR``
    uses when it switches to a scheduler.

    Args:
        optimizer: The optimizer whose learning rates to set.
        last_epoch: The index of the last epoch; -1 (the default) starts from the beginning.
            To resume, load the optimizer's state first, or better, load this scheduler's
            ``state_dict()``.

    Attributes:
        base_lrs: The initial learning rate of each parameter group (``group["initial_lr"]``).
        last_epoch: How many times ``step()`` was called (0 after construction).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{i}] has no 'initial_lr', which resuming with "
                        f"last_epoch={last_epoch} needs: load the optimizer's state_dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the learning rates of epoch 0."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates of epoch ``last_epoch``, one per parameter group."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def _closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The learning rates this scheduler set last, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Move to the next epoch and set its learning rates."""
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (every attribute but the optimizer), for checkpoints."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state returned by ``state_dict()``."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``.

    Args:
        optimizer: The optimizer whose learning rates to set.
        lr_lambda: A function of the epoch returning a factor, or one function per group.
        last_epoch: The index of the last epoch (-1: start from the beginning).

    Example:
        >>> warmup = optim.lr_scheduler.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 10))
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        count = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            lambdas: list[Any] = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * count
        if len(lambdas) != count:
            raise ValueError(f"expected {count} lr_lambdas (one per group), got {len(lambdas)}")
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be a function, got {type(fn).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base_lr * fn(self.last_epoch)
            for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        """The state; functions are left out, callable objects keep their ``__dict__``."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state = copy.deepcopy(state)
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else copy.deepcopy(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(copy.deepcopy(state))
        for fn, fn_state in zip(self.lr_lambdas, saved, strict=True):
            if fn_state is not None:
                fn.__dict__.update(copy.deepcopy(fn_state))


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = base_lr * gamma ** (epoch // step_size)``

    Args:
        optimizer: The optimizer whose learning rates to set.
        step_size: Epochs between two decays (>= 1).
        gamma: The decay factor.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if step_size < 1:
            raise ValueError(f"step_size must be >= 1, got {step_size}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    ``lr = base_lr * gamma ** (number of milestones <= epoch)``

    Args:
        optimizer: The optimizer whose learning rates to set.
        milestones: Epoch indices (a milestone listed twice decays twice).
        gamma: The decay factor.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        decays = bisect_right(milestones, self.last_epoch)
        return [base_lr * self.gamma**decays for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr = base_lr * gamma ** epoch``.

    Args:
        optimizer: The optimizer whose learning rates to set.
        gamma: The decay factor.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from ``base_lr`` to ``eta_min`` along a half cosine.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``; after ``T_max``
    epochs it rises again (SGDR without restarts), as in PyTorch.

    Args:
        optimizer: The optimizer whose learning rates to set.
        T_max: Epochs of one half period (>= 1).
        eta_min: The smallest learning rate.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if T_max < 1:
            raise ValueError(f"T_max must be >= 1, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # NOTE: PyTorch's expressions, operation for operation, so the lrs agree to the bit.
        epoch, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and epoch > 0:
            cosine = 1 + math.cos(epoch * math.pi / t_max)
            return [eta_min + (b - eta_min) * cosine / 2 for b in self.base_lrs]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            rise = 1 - math.cos(math.pi / t_max)
            pairs = zip(self._lrs(), self.base_lrs, strict=True)
            return [lr + (b - eta_min) * rise / 2 for lr, b in pairs]
        now = 1 + math.cos(math.pi * epoch / t_max)
        before = 1 + math.cos(math.pi * (epoch - 1) / t_max)
        return [now / before * (lr - eta_min) + eta_min for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (b - self.eta_min) * cosine / 2 for b in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor that goes linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs (a warm-up when ``start_factor < 1``).

    ``lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``

    Args:
        optimizer: The optimizer whose learning rates to set.
        start_factor: The factor at epoch 0, in (0, 1].
        end_factor: The factor from epoch ``total_iters`` on, in [0, 1].
        total_iters: Epochs the change takes.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        start, end, epoch = self.start_factor, self.end_factor, self.last_epoch
        if epoch == 0:
            return [lr * start for lr in self._lrs()]
        if self._is_initial or epoch > self.total_iters:
            return self._lrs()
        factor = 1.0 + (end - start) / (self.total_iters * start + (epoch - 1) * (end - start))
        return [lr * factor for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        done = min(total, self.last_epoch)
        return [b * (start + (end - start) * done / total) for b in self.base_lrs]


class MultiplicativeLR(LambdaLR):
    """Multiply the learning rate by ``lr_lambda(epoch)`` every epoch after the first.

    ``lr = lr_of_previous_epoch * lr_lambda(epoch)``

    Args:
        optimizer: The optimizer whose learning rates to set.
        lr_lambda: A function of the epoch returning a factor, or one function per group.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._lrs()
        return [
            lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._lrs(), strict=True)
        ]


class ConstantLR(LRScheduler):
    """Scale the learning rate by ``factor`` until epoch ``total_iters``, then restore it.

    Args:
        optimizer: The optimizer whose learning rates to set.
        factor: The scale of the first ``total_iters`` epochs, in [0, 1].
        total_iters: Epochs at the reduced learning rate.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"factor must be in [0, 1], got {factor}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [b * (self.factor + done * (1 - self.factor)) for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the learning rate to 0 over ``total_iters`` epochs along a polynomial.

    ``lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power``

    Args:
        optimizer: The optimizer whose learning rates to set.
        total_iters: Epochs the decay takes.
        power: The polynomial's power (1: linear).
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1
    ) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch, total = self.last_epoch, self.total_iters
        if self._is_initial or epoch > total:
            return self._lrs()
        decay = ((1.0 - epoch / total) / (1.0 - (epoch - 1) / total)) ** self.power
        return [lr * decay for lr in self._lrs()]

    def _closed_form_lr(self) -> list[float]:
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * left**self.power for b in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from ``base_lr`` to ``eta_min`` that restarts (SGDR).

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where
    ``T_cur`` counts the epochs since the last restart and ``T_i`` (first ``T_0``) grows
    by ``T_mult`` at each restart. ``step(epoch)`` also takes a fractional epoch, to
    step after every batch: ``scheduler.step(epoch + i / batches)``.

    Args:
        optimizer: The optimizer whose learning rates to set.
        T_0: Epochs until the first restart (>= 1).
        T_mult: The factor of each period over the previous one (an int >= 1).
        eta_min: The smallest learning rate.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(T_0, int) or T_0 < 1:
            raise ValueError(f"T_0 must be a positive int, got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"T_mult must be an int >= 1, got {T_mult}")
        self.T_0, self.T_i, self.T_mult = T_0, T_0, T_mult
        self.eta_min = eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (b - self.eta_min) * cosine / 2 for b in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Move to the next epoch, or to ``epoch`` (which may be fractional)."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: float | None = None) -> None:
        # NOTE: PyTorch's step(), so that fractional epochs give the same lrs.
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        elif epoch >= self.T_0 and self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        elif epoch >= self.T_0:
            restarts = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**restarts - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**restarts
        else:
            self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self._lrs()


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm the learning rate up to ``max_lr``, then anneal it far below the
    start; momentum (or Adam's beta1) cycles the opposite way. Step it after every batch.

    The lr starts at ``max_lr / div_factor``, reaches ``max_lr`` after ``pct_start`` of
    ``total_steps`` and ends at ``max_lr / div_factor / final_div_factor``, following cosine
    (or linear) segments, as in PyTorch.

    Args:
        optimizer: The optimizer whose learning rates to set.
        max_lr: The peak learning rate, or one per group.
        total_steps: Steps in the cycle; or give ``epochs`` and ``steps_per_epoch``.
        epochs: Number of epochs (with ``steps_per_epoch``).
        steps_per_epoch: Steps per epoch (with ``epochs``).
        pct_start: The fraction of the cycle spent warming up.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: Cycle ``momentum`` (or ``betas[0]``) between the two values below.
        base_momentum: The lowest momentum (at the peak lr), or one per group.
        max_momentum: The highest momentum, or one per group.
        div_factor: ``initial_lr = max_lr / div_factor``.
        final_div_factor: ``min_lr = initial_lr / final_div_factor``.
        three_phase: Anneal back to ``initial_lr`` before annihilating the lr (fast.ai style).
        last_epoch: The index of the last step (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"total_steps must be a positive int, got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"{name} must be a positive int, got {value}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("give either total_steps, or epochs and steps_per_epoch")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start must be a float in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        last = self.total_steps - 1
        warm_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._phases = [
                (warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]  # fmt: skip
        else:
            self._phases = [
                (warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, _per_group("max_lr", max_lr, groups), strict=True):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer, "OneCycleLR")
            highs = _per_group("max_momentum", max_momentum, groups)
            lows = _per_group("base_momentum", base_momentum, groups)
            if last_epoch == -1:
                for group, high, low in zip(groups, highs, lows, strict=True):
                    _set_momentum(group, high, self.use_beta1)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"stepped {step} times, but total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, mom0, mom1) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        _set_momentum(
                            group, self._anneal(group[mom0], group[mom1], pct), self.use_beta1
                        )
                    break
                start_step = end_step
        return lrs


class CyclicLR(LRScheduler):
    """Cycle the learning rate between ``base_lr`` and ``max_lr`` (Smith's cyclical learning
    rates); momentum (or Adam's beta1) cycles the opposite way. Step it after every batch.

    Each cycle rises for ``step_size_up`` steps and falls for ``step_size_down``. The
    height is scaled by ``mode``: ``"triangular"`` (1), ``"triangular2"`` (halved each
    cycle), ``"exp_range"`` (``gamma ** step``), or by ``scale_fn(cycle or step)``, as in
    PyTorch.

    Args:
        optimizer: The optimizer whose learning rates to set.
        base_lr: The lowest learning rate, or one per group (set at construction).
        max_lr: The highest learning rate, or one per group.
        step_size_up: Steps from ``base_lr`` up to ``max_lr``.
        step_size_down: Steps back down (``step_size_up`` if None).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: The decay of ``"exp_range"``.
        scale_fn: A custom height scale (overrides ``mode``).
        scale_mode: Whether ``scale_fn`` takes the cycle (``"cycle"``) or the step
            (``"iterations"``).
        cycle_momentum: Cycle ``momentum`` (or ``betas[0]``) between the two values below.
        base_momentum: The lowest momentum (at the peak lr), or one per group.
        max_momentum: The highest momentum, or one per group.
        last_epoch: The index of the last step (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | Sequence[float],
        max_lr: float | Sequence[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.8,
        max_momentum: float | Sequence[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"mode must be triangular, triangular2 or exp_range, got {mode!r}")
        groups = optimizer.param_groups
        base_lrs = _per_group("base_lr", base_lr, groups)
        if last_epoch == -1:
            for group, lr in zip(groups, base_lrs, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", max_lr, groups)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size, self.step_ratio = up + down, up / (up + down)
        self.mode, self.gamma, self._scale_fn_custom = mode, gamma, scale_fn
        if scale_fn is None:
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer, "CyclicLR")
            self.base_momentums = _per_group("base_momentum", base_momentum, groups)
            self.max_momentums = _per_group("max_momentum", max_momentum, groups)
            if last_epoch == -1:
                for group, high in zip(groups, self.max_momentums, strict=True):
                    _set_momentum(group, high, self.use_beta1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The height's scale at cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return float(self.gamma**x)

    def get_lr(self) -> list[float]:
        # NOTE: PyTorch's expressions, operation for operation, so the lrs agree to the bit.
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base + (top - base) * scale_factor * scale
            for base, top in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            groups = self.optimizer.param_groups
            for low, high, group in zip(
                self.base_momentums, self.max_momentums, groups, strict=True
            ):
                _set_momentum(group, high - (high - low) * scale_factor * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """The state; a custom ``scale_fn`` is left out (a callable object keeps its
        ``__dict__``), as in ``LambdaLR``."""
        fn = self._scale_fn_custom
        state = {
            k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_scale_fn_custom")
        }
        state = copy.deepcopy(state)
        custom = fn is not None and not isinstance(fn, types.FunctionType)
        state["_scale_fn_custom"] = copy.deepcopy(fn.__dict__) if custom else None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_scale_fn_custom")
        self.__dict__.update(copy.deepcopy(state))
        if saved is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(copy.deepcopy(saved))


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the milestone epochs.

    At a milestone the next scheduler starts from its epoch 0 (its closed form), as in
    PyTorch. Typical use: a ``LinearLR`` warm-up, then ``CosineAnnealingLR``.

    Args:
        optimizer: The optimizer all the schedulers belong to.
        schedulers: The schedulers, in order (not ``ReduceLROnPlateau``; a ``ChainedScheduler``
            or ``SequentialLR`` only first).
        milestones: The epochs at which to switch; one fewer than schedulers.
        last_epoch: The index of the last epoch (-1: start from the beginning).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR needs at least one scheduler")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR cannot run ReduceLROnPlateau (scheduler {i}): its step() "
                    "needs a metric"
                )
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"scheduler {i} belongs to another optimizer than SequentialLR's")
            if i > 0 and isinstance(scheduler, SequentialLR | ChainedScheduler):
                # NOTE: PyTorch takes them and fails at their milestone.
                raise ValueError(
                    f"scheduler {i} is a {type(scheduler).__name__}, which can only come first "
                    "in SequentialLR: it cannot restart from epoch 0 at a milestone"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR needs one milestone fewer than schedulers, got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        self.optimizer = optimizer
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        # NOTE: each scheduler took its initial step when it was built; undo those and
        # start again from the first scheduler's epoch 0, as PyTorch does.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            _undo_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state = copy.deepcopy(state)
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(copy.deepcopy(state))
        for scheduler, scheduler_state in zip(self._schedulers, saved, strict=True):
            scheduler.load_state_dict(scheduler_state)


class ChainedScheduler(LRScheduler):
    """Step several schedulers of one optimizer together: their changes compose.

    Args:
        schedulers: The schedulers (not ``ReduceLROnPlateau``).
        optimizer: Their optimizer (that of the first scheduler if None).
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler needs at least one scheduler")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"ChainedScheduler cannot run ReduceLROnPlateau (scheduler {i})")
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"ChainedScheduler needs schedulers of one optimizer; scheduler {i} has another"
                )
        self.optimizer, self._schedulers = optimizer, schedulers
        self._last_lr = self._lrs()

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._lrs()

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric stops improving.

    ``step(metric)`` after each evaluation. After more than ``patience`` epochs in a row
    without improvement by more than ``threshold``, each lr becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by less than ``eps``), and
    ``cooldown`` epochs follow in which bad epochs are not counted.

    Args:
        optimizer: The optimizer whose learning rates to set.
        mode: ``"min"`` if a lower metric is better, ``"max"`` if higher is.
        factor: The decay factor (< 1).
        patience: Bad epochs tolerated before a decay.
        threshold: The smallest change that counts as an improvement.
        threshold_mode: ``"rel"`` (relative to the best value) or ``"abs"``.
        cooldown: Epochs to wait after a decay before counting bad epochs again.
        min_lr: The smallest learning rate, or one per group.
        eps: Decays smaller than this are skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise ValueError(f"factor must be < 1, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.min_lrs = _per_group("min_lr", min_lr, optimizer.param_groups)
        self.default_min_lr = None if isinstance(min_lr, list | tuple) else min_lr
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = self._lrs()

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record the metric of one more epoch and decay the lrs if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _is_better(self, current: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return current < self.best * (1.0 - self.threshold)
            return current < self.best - self.threshold
        if self.threshold_mode == "rel":
            return current > self.best * (self.threshold + 1.0)
        return current > self.best + self.threshold

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups) and self.default_min_lr is not None:
            self.min_lrs = [self.default_min_lr] * len(groups)
        if len(self.min_lrs) != len(groups):
            raise RuntimeError(
                f"the optimizer has {len(groups)} parameter groups, but min_lr was given for "
                f"{len(self.min_lrs)}; set this scheduler's min_lrs to one value per group"
            )
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new


def _per_group(name: str, value: Any, groups: list[dict[str, Any]]) -> list[Any]:
    """``value`` for every group, or the given per-group list after checking its length."""
    if isinstance(value, list | tuple):
        if len(value) != len(groups):
            raise ValueError(
                f"{name} needs one value per parameter group ({len(groups)}), got {len(value)}"
            )
        return list(value)
    return [value] * len(groups)


def _set_momentum(group: dict[str, Any], value: float, use_beta1: bool) -> None:
    """Set a group's momentum, or the first of its betas (Adam-like optimizers)."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _momentum_key(optimizer: Optimizer, scheduler: str) -> bool:
    """Whether momentum cycling sets ``betas[0]`` (True) or ``momentum`` (False)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"cycle_momentum needs an optimizer with momentum or betas; "
            f"{type(optimizer).__name__} has neither: pass cycle_momentum=False to {scheduler}"
        )
    return "betas" in optimizer.defaults


def _undo_step(scheduler: LRScheduler) -> None:
    """Take back the initial step of ``scheduler`` (and of those it contains)."""
    if isinstance(scheduler, SequentialLR | ChainedScheduler):
        for inner in scheduler._schedulers:
            _undo_step(inner)
    else:
        scheduler.last_epoch -= 1
