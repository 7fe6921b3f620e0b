"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict`` of modules, and
``ParameterList`` and ``ParameterDict`` of parameters.

Their elements are registered submodules (or parameters), so ``parameters()`` finds them
and ``state_dict()`` saves them under keys such as ``"0.weight"`` (or ``"0"``).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.module import Module, Parameter

__all__ = [
    "ModuleDict",
    "ModuleList",
    "Modulelist",
    "ParameterDict",
    "ParameterList",
    "Sequential",
]


def _index(index: Any, length: int, kind: str) -> int:
    """Normalize an integer index (negative counts from the end), checking its range."""
    try:
        i = operator.index(index)
    except TypeError:
        raise TypeError(
            f"{kind} indices must be integers or slices, not {type(index).__name__}"
        ) from None
    if not -length <= i < length:
        raise IndexError(f"index {i} is out of range for a {kind} of length {length}")
    return i % length


class _IndexedModules(Module):
    """What ``Sequential`` and ``ModuleList`` share: submodules keyed ``"0"``, ``"1"``, ..."""

    def _key(self, index: Any) -> str:
        return list(self._modules)[_index(index, len(self._modules), type(self).__name__)]

    def _renumber(self, modules: Iterable[Module]) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def __getitem__(self, index: int | slice) -> Any:
        raise NotImplementedError

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), module)

    def __delitem__(self, index: int | slice) -> None:
        if isinstance(index, slice):
            for key in list(self._modules)[index]:
                del self._modules[key]
        else:
            del self._modules[self._key(index)]
        # NOTE: keys stay "0".."n-1" after a deletion, as in PyTorch.
        self._renumber(list(self._modules.values()))  # type: ignore[arg-type]

    def append(self, module: Module) -> Any:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        """Add every module of ``modules`` at the end; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, _IndexedModules):
            raise TypeError(f"extend expects an iterable of modules, got {type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (like ``list.insert``)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)  # type: ignore[arg-type]

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (the last by default)."""
        module = self[index]
        del self[index]
        return module

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_IndexedModules):
    """Apply modules one after another: the output of each is the input of the next.

    Submodules are named ``"0"``, ``"1"``, ... or, when built from an ``OrderedDict`` (any
    mapping), by its keys, so ``nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))`` has the
    state-dict keys ``0.weight``, ``0.bias``, ``1.weight``, ``1.bias``, as in PyTorch.

    Args:
        *modules: The modules in order, or a single mapping from names to modules.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
        >>> model(ac.randn(2, 4)).shape
        (2, 3)
        >>> model[0], len(model), model[:1]
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, item in enumerate(modules):
                self.add_module(str(i), item)  # type: ignore[arg-type]

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))  # type: ignore[arg-type]
        return self._modules[self._key(index)]

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


class ModuleList(_IndexedModules):
    """A list of modules whose parameters belong to the enclosing module.

    Use it where a plain Python list would hide the modules from ``parameters()``.

    Args:
        modules: Modules to start with.

    Example:
        >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        >>> layers.append(nn.Linear(4, 2))
        >>> len(layers), layers[-1].out_features
        (4, 2)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])  # type: ignore[arg-type]
        return self._modules[self._key(index)]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(); iterate over it in the forward() of its parent module"
        )


class ModuleDict(Module):
    """A dict of modules (insertion-ordered) whose parameters belong to the enclosing module.

    Args:
        modules: A mapping from names to modules, or an iterable of ``(name, module)`` pairs.

    Example:
        >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
        >>> heads["box"].out_features
        4
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(key)
        return self._modules[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()  # type: ignore[return-value]

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(name, module)`` pairs, in insertion order."""
        return self._modules.items()  # type: ignore[return-value]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from ``(name, module)`` pairs."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleDict):
            raise TypeError(f"update expects a mapping or pairs, got {type(modules).__name__}")
        pairs = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        for i, pair in enumerate(pairs):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element {i} should be a (name, module) pair, "
                    f"got {pair!r}"
                )
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        """Remove the module ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleDict has no forward(); use its modules in the forward() of its parent module"
        )


def _parameter(value: Any) -> Parameter:
    """A parameter as it is, a tensor (or array) made one, as PyTorch's containers do."""
    return value if isinstance(value, Parameter) else Parameter(value)


class ParameterList(Module):
    """A list of parameters registered with the enclosing module (keys ``"0"``, ``"1"``, ...).

    Tensors and arrays put in become ``Parameter``s.

    Args:
        values: Parameters (or tensors) to start with.

    Example:
        >>> scales = nn.ParameterList([nn.Parameter(ac.ones(4)) for _ in range(3)])
        >>> len(list(scales.parameters()))
        3
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, index: int) -> Parameter:
        return self._parameters[str(_index(index, len(self), "ParameterList"))]  # type: ignore[return-value]

    def __setitem__(self, index: int, value: Any) -> None:
        self.register_parameter(str(_index(index, len(self), "ParameterList")), _parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())  # type: ignore[arg-type]

    def append(self, value: Any) -> ParameterList:
        """Add a parameter at the end."""
        self.register_parameter(str(len(self)), _parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add parameters at the end."""
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self._parameters.items())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterList has no forward(); use its parameters")


class ParameterDict(Module):
    """A dict of parameters (insertion-ordered) registered with the enclosing module.

    Args:
        parameters: A mapping from names to parameters (or tensors), or ``(name, value)``
            pairs.
    """

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise KeyError(key)
        return self._parameters[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._parameters.keys()

    def values(self) -> Iterable[Parameter]:
        """The parameters, in insertion order."""
        return self._parameters.values()  # type: ignore[return-value]

    def items(self) -> Iterable[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, in insertion order."""
        return self._parameters.items()  # type: ignore[return-value]

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace parameters from a mapping or from ``(name, value)`` pairs."""
        pairs = (
            parameters.items() if isinstance(parameters, Mapping | ParameterDict) else parameters
        )
        for name, value in pairs:
            self[name] = value

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self._parameters.items())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterDict has no forward(); use its parameters")


def _describe(param: Tensor | None) -> str:
    if param is None:
        return "None"
    return f"Parameter containing: [{param.dtype} of size {param.shape}]"


# Seed spellings, kept as aliases of the PyTorch names.
Modulelist = ModuleList
