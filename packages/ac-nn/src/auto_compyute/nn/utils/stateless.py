"""``functional_call``: run a module with other tensors in place of its parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.module import Module

__all__ = ["functional_call"]


def _owner(module: Module, key: str) -> tuple[Module, str]:
    path, _, name = key.rpartition(".")
    try:
        return module.get_submodule(path), name
    except AttributeError:
        raise ValueError(
            f"functional_call: '{key}' names no submodule of {type(module).__name__}"
        ) from None


def functional_call(
    module: Module,
    parameters_and_buffers: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module(*args, **kwargs)`` with some parameters and buffers replaced.

    Each key (a dotted name as in ``state_dict()``) names the parameter or buffer that
    the given tensor stands in for during the call; the module's own tensors are put back
    afterwards, also when the call raises. Gradients flow to the given tensors, not to the
    module's parameters. With ``tie_weights``, a parameter shared under several names is
    replaced under all of them when one of the names is given.

    Args:
        module: The module to call.
        parameters_and_buffers: Maps names to tensors (or a sequence of such dicts, which
            must not share keys).
        args: The positional arguments (a tuple, or a single argument).
        kwargs: The keyword arguments.
        tie_weights: Replace tied parameters under every name they have.
        strict: Require a tensor for every parameter and buffer of the module.

    Returns:
        What the module returns.

    Raises:
        ValueError: If a key names nothing in the module, keys repeat across dicts, or
            (``strict``) some names are missing.

    Example:
        >>> model = nn.Linear(3, 2)
        >>> w = ac.zeros(2, 3, req_grad=True)
        >>> out = nn.utils.stateless.functional_call(model, {"weight": w}, (ac.ones(4, 3),))
        >>> out.sum().backward()  # w.grad is set; model.weight.grad is not
    """
    if isinstance(parameters_and_buffers, Mapping):
        replacements = dict(parameters_and_buffers)
    else:
        replacements = {}
        for mapping in parameters_and_buffers:
            repeated = replacements.keys() & mapping.keys()
            if repeated:
                raise ValueError(f"functional_call: {sorted(repeated)} appeared in multiple dicts")
            replacements.update(mapping)
    names = {
        **dict(module.named_parameters(remove_duplicate=False)),
        **dict(module.named_buffers(remove_duplicate=False)),
    }
    unknown = [key for key in replacements if key not in names]
    if unknown:
        raise ValueError(
            f"functional_call: {unknown} are not parameters or buffers of {type(module).__name__}"
        )
    if tie_weights:
        for key, value in list(replacements.items()):
            for other, tensor in names.items():
                if tensor is names[key] and other not in replacements:
                    replacements[other] = value
    if strict:
        missing = [key for key in names if key not in replacements]
        if missing:
            raise ValueError(f"functional_call (strict): missing tensors for {missing}")
    swapped: list[tuple[dict[str, Any], str, Any]] = []
    try:
        for key, value in replacements.items():
            owner, name = _owner(module, key)
            registry: dict[str, Any] = (
                owner._parameters if name in owner._parameters else owner._buffers
            )
            swapped.append((registry, name, registry[name]))
            registry[name] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for registry, name, original in reversed(swapped):
            registry[name] = original
