"""``skip_init``: create a module without initialising its parameters."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from auto_compyute.nn import init
from auto_compyute.nn.module import Module

__all__ = ["skip_init"]

M = TypeVar("M", bound=Module)


def skip_init(module_cls: type[M], *args: Any, **kwargs: Any) -> M:
    """Create ``module_cls(*args, **kwargs)`` without running its weight initialisation.

    The ``nn.init`` functions leave their tensors alone (and draw no random numbers) while
    the module is built, so parameters hold uninitialised memory, to be filled by the
    caller (e.g. from a checkpoint). As in PyTorch, the module must accept a ``device``
    argument; the module is created there (the CPU by default).

    Args:
        module_cls: A ``Module`` subclass.
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.

    Returns:
        The module, with uninitialised parameters and buffers.

    Raises:
        RuntimeError: If ``module_cls`` is no Module class or takes no ``device`` argument.

    Example:
        >>> layer = nn.utils.skip_init(nn.Linear, 5, 1)
        >>> nn.init.ones_(layer.weight)
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.setdefault("device", "cpu")
    with init._skipped():
        return module_cls(*args, **kwargs)
