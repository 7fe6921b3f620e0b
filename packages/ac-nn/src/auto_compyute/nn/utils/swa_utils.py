"""``AveragedModel`` and ``update_bn`` of PyTorch's ``torch.optim.swa_utils``.

They work on modules, so they live in ac-nn; ``auto_compyute.optim.swa_utils`` (where the
``SWALR`` schedule and the averaging functions are) gives them under PyTorch's names.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from auto_compyute._core import dtypes
from auto_compyute._core.autograd import no_grad
from auto_compyute._core.factories import tensor
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.module import Module
from auto_compyute.nn.normalization import _BatchNorm, _InstanceNorm
from auto_compyute.optim.swa_utils import AvgFn, MultiAvgFn, get_swa_avg_fn

__all__ = ["AveragedModel", "update_bn"]


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


class AveragedModel(Module):
    """A copy of a model whose parameters are a running average of the model's.

    Stochastic weight averaging (SWA, the default: every update weighs the same) or an
    exponential moving average (EMA, with ``get_ema_multi_avg_fn``). The first
    ``update_parameters(model)`` copies the model's parameters; each later one averages them
    in. Calling the averaged model runs the copy (``self.module``). Its state dict holds
    ``n_averaged`` (the number of updates so far) and the copy's entries as
    ``module.<name>``, as in PyTorch.

    Args:
        model: The model to average; it is deep-copied.
        device: Where to keep the copy (and ``n_averaged``); the model's device if None.
        avg_fn: ``fn(averaged, current, n_averaged) -> new averaged``, called per parameter
            with detached tensors; the equally weighted average if neither it nor
            ``multi_avg_fn`` is given.
        multi_avg_fn: ``fn(averaged_list, current_list, n_averaged)``, which updates the
            tensors of ``averaged_list`` in place; called once per device and dtype.
        use_buffers: Average the buffers too (running statistics of batch norm, for one).
            If False, the buffers are copied from ``model`` at each update.

    Raises:
        ValueError: If both ``avg_fn`` and ``multi_avg_fn`` are given.

    Example:
        >>> swa_model = optim.swa_utils.AveragedModel(model)
        >>> ema_model = optim.swa_utils.AveragedModel(
        ...     model, multi_avg_fn=optim.swa_utils.get_ema_multi_avg_fn(0.999)
        ... )
        >>> swa_model.update_parameters(model)  # after each epoch (or step) of training
    """

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel expects an nn.Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average the parameters of ``model`` (and its buffers if ``use_buffers``) in.

        The first call copies them. Parameters are paired in the order of ``parameters()``
        (then ``buffers()``), so ``model`` must have the structure of the averaged one.
        """
        own: list[tuple[str, Tensor]] = list(self.module.named_parameters(prefix="module"))
        theirs: list[Tensor] = list(model.parameters())
        synced: list[tuple[tuple[str, Tensor], Tensor]] = []
        if self.use_buffers:
            own += self.module.named_buffers(prefix="module")
            theirs += model.buffers()
        else:
            own_buffers = list(self.module.named_buffers(prefix="module"))
            buffers = list(model.buffers())
            if len(own_buffers) != len(buffers):
                raise ValueError(
                    "the buffers are copied from the model (use_buffers=False), but the "
                    f"averaged model has {len(own_buffers)} and {type(model).__name__} "
                    f"has {len(buffers)}"
                )
            synced = list(zip(own_buffers, buffers, strict=True))
        # NOTE: zip without strict, as PyTorch: extra tensors on either side are left alone.
        pairs = list(zip(own, theirs, strict=False))
        for (name, mine), other in pairs + synced:
            if mine.shape != other.shape:
                raise ValueError(
                    f"cannot average {name} of shape {mine.shape} with the tensor of shape "
                    f"{other.shape} in its place in {type(model).__name__}: the models differ"
                )
        averaged = [mine.detach() for (_, mine), _ in pairs]
        current = [other.detach().to(mine.device) for (_, mine), other in pairs]
        count = int(self.n_averaged.item())
        with no_grad():
            if count == 0:
                for mine, other in zip(averaged, current, strict=True):
                    mine.data[...] = other.data
            elif self.avg_fn is None and self.multi_avg_fn is not None:
                groups: dict[tuple[str, Any], tuple[list[Tensor], list[Tensor]]] = {}
                for mine, other in zip(averaged, current, strict=True):
                    group = groups.setdefault((str(mine.device), mine.dtype), ([], []))
                    group[0].append(mine)
                    group[1].append(other)
                for mines, others in groups.values():
                    self.multi_avg_fn(mines, others, self.n_averaged.to(mines[0].device))
            else:
                # NOTE: without an averaging function, PyTorch's CPU path: avg + (current -
                # avg) / (n + 1), integer buffers through the default floating dtype, then
                # truncated.
                avg_fn = get_swa_avg_fn() if self.avg_fn is None else self.avg_fn
                for mine, other in zip(averaged, current, strict=True):
                    n_averaged = self.n_averaged.to(mine.device)
                    mine.data[...] = _data(avg_fn(mine, other, n_averaged))
            for (_, mine), other in synced:
                mine.data[...] = other.detach().to(mine.device).data
            self.n_averaged.data += 1


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running statistics of every batch-norm layer of ``model`` from data.

    Resets ``running_mean``, ``running_var`` and ``num_batches_tracked`` and runs ``model``
    in training mode over ``loader`` once, with each layer's ``momentum`` set to None (a
    cumulative average over the batches), without gradients; then restores the momenta and
    the training mode. Instance norms are left alone, as in PyTorch.

    Args:
        loader: Batches: tensors, or lists/tuples whose first element is the input.
        model: The model (for example an ``AveragedModel``) to update.
        device: If given, each batch is moved there first.

    Example:
        >>> optim.swa_utils.update_bn(train_loader, swa_model)
    """
    layers = [
        module
        for module in model.modules()
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm)
    ]
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
    was_training = model.training
    model.train()
    for layer in layers:
        layer.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, list | tuple):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        model.train(was_training)
