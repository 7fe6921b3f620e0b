"""Parametrizations: a parameter computed from other tensors each time it is read.

``register_parametrization(layer, "weight", P())`` moves ``layer.weight`` to
``layer.parametrizations.weight.original`` and makes ``layer.weight`` return
``P()(original)``, with PyTorch's structure and state-dict keys
(``parametrizations.weight.original``, or ``original0``, ``original1``, ... when
``P.right_inverse`` splits the tensor in several).

As in PyTorch, the module's class is swapped for a subclass (``ParametrizedLinear``, say)
that holds one property per parametrized tensor: reading the property evaluates the
parametrization, assigning to it calls ``right_inverse``. Only that module changes; other
instances of the class are untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.containers import ModuleDict, ModuleList
from auto_compyute.nn.module import Module, Parameter

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "type_before_parametrizations",
]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached() -> Iterator[None]:
    """Evaluate each parametrized tensor at most once inside the ``with`` block.

    Useful when a parametrized weight is read several times per step (in a recurrent
    layer's loop, say). The cache is dropped when the outermost block exits.

    Example:
        >>> with parametrize.cached():
        ...     output = model(x)
    """
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register_tensor(module: Module, name: str, tensor: Tensor) -> None:
    """Register ``tensor`` as a parameter if it is one, as a buffer otherwise."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_data(original: Tensor, value: Tensor) -> None:
    """Make ``original`` hold ``value``'s data (PyTorch's ``set_``): the object stays."""
    original.data = (value.data if isinstance(value, Tensor) else value).copy()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, and the original tensor(s) they are applied to.

    It lives at ``module.parametrizations[tensor_name]``; calling it computes the
    parametrized tensor. Created by ``register_parametrization``, not by hand.

    Args:
        modules: The parametrizations, applied first to last.
        original: The tensor being parametrized; it keeps its identity (as ``original``)
            and receives the value of ``right_inverse`` if the parametrization has one.
        unsafe: Skip the checks of the parametrized tensor's dtype and shape.
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if not modules:
            raise ValueError("ParametrizationList requires one or more modules")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        new: Any = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    with suppress(NotImplementedError):
                        new = module.right_inverse(new)
        if not isinstance(new, Tensor | Sequence):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if isinstance(new, Tensor):
            if new.dtype != dtype:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {dtype}\nright_inverse(original).dtype: {new.dtype}"
                )
            if new is not original:
                _set_data(original, new)
            _register_tensor(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors "
                        f"(list, tuple...). Got element {i} of the sequence with type "
                        f"{type(tensor).__name__}."
                    )
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor.detach().clone(), original.req_grad)
                _register_tensor(self, f"original{i}", tensor)
        if not self.unsafe:
            value = self()
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"A parametrization must return a tensor. Got {type(value).__name__}."
                )
            if value.dtype != dtype or value.shape != shape:
                raise ValueError(
                    "Registering a parametrization may not change the dtype or shape of the "
                    f"tensor, unless `unsafe` flag is enabled.\nunparametrized dtype: {dtype}\n"
                    f"parametrized dtype: {value.dtype}\nunparametrized shape: {shape}\n"
                    f"parametrized shape: {value.shape}"
                )

    def right_inverse(self, value: Tensor) -> None:
        """Set the original tensor(s) so that the parametrization gives ``value`` (as far as
        each parametrization's ``right_inverse`` can), in place and untracked."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse."
                    )
                value = module.right_inverse(value)
            if self.is_tensor:
                original = self._parameters.get("original", self._buffers.get("original"))
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value)}")
                if value.dtype != original.dtype:  # type: ignore[union-attr]
                    raise ValueError(
                        f"The tensor returned by `right_inverse` has dtype {value.dtype} "
                        f"while `original` has dtype {original.dtype}"  # type: ignore[union-attr]
                    )
                _set_data(original, value)  # type: ignore[arg-type]
            else:
                if not isinstance(value, Sequence) or len(value) != self.ntensors:
                    raise ValueError(
                        f"'right_inverse' must return a sequence of {self.ntensors} tensors, "
                        f"got {type(value).__name__}"
                    )
                for i, tensor in enumerate(value):
                    _set_data(getattr(self, f"original{i}"), tensor)

    def forward(self) -> Tensor:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _parametrized_property(tensor_name: str) -> property:
    def get_parametrized(self: Module) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_depth:
            return parametrization()
        key = (id(self), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    return property(get_parametrized, set_original)


def _parametrized_setattr(self: Module, name: str, value: Any) -> None:
    # NOTE: Module.__setattr__ registers a Parameter before any property could see it;
    # a parametrized name must reach its property (and so right_inverse) whatever the value.
    if name in type(self)._parametrized_names:  # type: ignore[attr-defined]
        object.__setattr__(self, name, value)
    else:
        super(type(self), self).__setattr__(name, value)


def _parametrized_deepcopy(self: Module, memo: dict[int, Any]) -> Module:
    # NOTE: the copy gets a class of its own, so that removing a parametrization from one
    # module (which deletes a property from its class) leaves the other one intact.
    cls = type(self)
    new_cls = _new_class(cls.__bases__[0])
    for name in cls._parametrized_names:  # type: ignore[attr-defined]
        setattr(new_cls, name, _parametrized_property(name))
        new_cls._parametrized_names.add(name)  # type: ignore[attr-defined]
    new: Any = object.__new__(new_cls)
    memo[id(self)] = new
    for key, value in self.__dict__.items():
        object.__setattr__(new, key, copy.deepcopy(value, memo))
    return new


def _new_class(base: type) -> type:
    return type(
        f"Parametrized{base.__name__}",
        (base,),
        {
            "__setattr__": _parametrized_setattr,
            "__deepcopy__": _parametrized_deepcopy,
            "_parametrized_names": set(),
        },
    )


def _inject_new_class(module: Module) -> None:
    module.__class__ = _new_class(module.__class__)


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def type_before_parametrizations(module: Module) -> type:
    """The class ``module`` had before ``register_parametrization`` changed it."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make ``module.<tensor_name>`` the result of ``parametrization`` applied to the tensor.

    The parameter (or buffer) moves to ``module.parametrizations[tensor_name].original``
    (trained in its place); reading ``module.<tensor_name>`` returns
    ``parametrization(original)``. If ``parametrization`` has a ``right_inverse(X)``
    method, ``original`` is initialised to ``right_inverse(tensor)``, and assigning to
    ``module.<tensor_name>`` sets ``original = right_inverse(value)``. A ``right_inverse``
    that returns several tensors gives ``original0``, ``original1``, ..., passed to
    ``forward`` as separate arguments. Registering on an already parametrized tensor
    chains the parametrizations (applied in registration order).

    Args:
        module: The module holding the tensor.
        tensor_name: The name of the parameter or buffer.
        parametrization: A module whose ``forward`` computes the tensor.
        unsafe: Allow a parametrization that changes the tensor's dtype or shape (and skip
            those checks).

    Returns:
        ``module``

    Raises:
        ValueError: If ``module`` has no such tensor, or the parametrization changes its
            dtype or shape without ``unsafe``.

    Example:
        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).mT
        >>> layer = nn.Linear(3, 3)
        >>> parametrize.register_parametrization(layer, "weight", Symmetric())
        >>> list(layer.state_dict())
        ['bias', 'parametrizations.weight.original']
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            value = parametrization(current)
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"A parametrization must return a tensor. Got {type(value).__name__}."
                )
            if value.dtype != current.dtype or value.shape != current.shape:
                raise ValueError(
                    "Registering a parametrization may not change the dtype or shape of the "
                    f"tensor, unless the `unsafe` flag is enabled: {current.dtype} "
                    f"{current.shape} became {value.dtype} {value.shape}"
                )
            if hasattr(parametrization, "right_inverse"):
                with suppress(NotImplementedError), no_grad():
                    inverse = parametrization.right_inverse(value)
                    if not isinstance(inverse, Tensor) or (inverse.dtype, inverse.shape) != (
                        current.dtype,
                        current.shape,
                    ):
                        raise ValueError(
                            "parametrization.right_inverse must return a tensor of the "
                            f"dtype and shape of the tensor it is registered on "
                            f"({current.dtype} {current.shape}), got {inverse!r:.80}"
                        )
        parametrizations = module.parametrizations[tensor_name]
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"cannot parametrize '{tensor_name}' of {module}: it is None")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        setattr(type(module), tensor_name, _parametrized_property(tensor_name))
        type(module)._parametrized_names.add(tensor_name)  # type: ignore[attr-defined]
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized "
            f"element with name '{tensor_name}'"
        )
    return module


def remove_parametrizations(
    module: Module, tensor_name: str, leave_parametrized: bool = True
) -> Module:
    """Undo ``register_parametrization``: ``tensor_name`` becomes a plain parameter again.

    Args:
        module: The parametrized module.
        tensor_name: The parametrized tensor.
        leave_parametrized: Keep the current parametrized value (True) or the value of
            ``original`` (False; impossible when there are several originals). The
            ``original`` object is reused, so an optimizer holding it stays valid.

    Returns:
        ``module`` (with its original class back once nothing is parametrized).

    Raises:
        ValueError: If ``tensor_name`` is not parametrized, or ``leave_parametrized=False``
            with several original tensors.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _set_data(original, getattr(module, tensor_name))
    else:
        if not leave_parametrized:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                "parametrized in terms of a sequence of tensors."
            )
        with no_grad():
            value = getattr(module, tensor_name)
        req_grad = parametrizations.original0.req_grad
        original = Parameter(value.detach().clone(), req_grad) if req_grad else value.detach()
    cls = type(module)
    delattr(cls, tensor_name)
    cls._parametrized_names.discard(tensor_name)  # type: ignore[attr-defined]
    del module.parametrizations[tensor_name]
    _register_tensor(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = cls.__bases__[0]
    return module
