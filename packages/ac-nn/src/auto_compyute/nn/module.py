"""``Module``, the base class of every layer and model, ``Parameter`` and ``Buffer``.

A module registers what is assigned to it: a ``Parameter`` becomes a parameter, a
``Module`` a submodule, and a ``Buffer`` (or ``register_buffer``) a tensor that is state
but not trained (running statistics, masks). Everything else (ints, plain tensors, lists) stays
an ordinary attribute. The registries drive ``parameters()``, ``state_dict()``,
``to()``, ``train()`` and the nested ``repr``, exactly as in PyTorch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.autograd import is_grad_enabled
from auto_compyute._core.devices import Device, get_array_module, move_array, to_device
from auto_compyute._core.hooks import RemovableHandle
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn._backward_hooks import _HookState
from auto_compyute.nn._state_dict import (
    EXTRA_STATE_KEY,
    IncompatibleKeys,
    StateDictLoader,
    runs_user_code,
)

__all__ = [
    "Buffer",
    "IncompatibleKeys",
    "Module",
    "Parameter",
    "RemovableHandle",
    "UninitializedBuffer",
    "UninitializedParameter",
]

M = TypeVar("M", bound="Module")


class Parameter(Tensor):
    """A tensor that a ``Module`` registers as a trainable parameter when assigned to it.

    ``Parameter(t)`` shares ``t``'s data (no copy) and is always a leaf of the graph.

    Args:
        data: A Tensor, an array or nested numbers; an empty float32 tensor if omitted.
        req_grad: Whether the parameter requires gradients (True by default).
        requires_grad: PyTorch's name for ``req_grad``; wins if given.

    Example:
        >>> w = nn.Parameter(ac.randn(3))
        >>> w.req_grad, w.is_leaf
        (True, True)
    """

    # NOTE: Tensor uses __slots__; an empty tuple keeps Parameter dict-free and as small.
    __slots__ = ()

    def __init__(
        self, data: Any = None, req_grad: bool = True, *, requires_grad: bool | None = None
    ) -> None:
        if requires_grad is not None:
            req_grad = requires_grad
        if data is None:
            data = np.empty(0, dtype=dtypes.get_default_dtype())
        super().__init__(data.data if isinstance(data, Tensor) else data, req_grad=req_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that a ``Module`` registers as a buffer when assigned to it, as
    ``register_buffer(name, tensor, persistent)`` does.

    ``Buffer(t)`` shares ``t``'s data (no copy), is a leaf of the graph and keeps
    ``t.req_grad``.

    Args:
        data: A Tensor, an array or nested numbers; an empty tensor of the default dtype if
            omitted.
        persistent: Whether the buffer is part of the module's ``state_dict()``.

    Example:
        >>> class Model(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.mask = nn.Buffer(ac.ones(3), persistent=False)
        >>> [name for name, _ in Model().named_buffers()], list(Model().state_dict())
        (['mask'], [])
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=dtypes.get_default_dtype())
        if isinstance(data, Tensor):
            super().__init__(data.data, req_grad=data.req_grad)
        else:
            super().__init__(data)
        self.persistent = persistent


class UninitializedParameter(Parameter):
    """A parameter of a lazy module whose shape is not known yet (see ``nn.LazyLinear``).

    It holds an empty array that keeps the dtype and device to create the parameter with.
    ``materialize(shape)`` gives it an (uninitialized) array of that shape and turns it into
    a ``Parameter``: the object stays the same, so references to it stay valid.

    Args:
        req_grad: Whether the parameter will require gradients.
        device: Where to create the parameter.
        dtype: Its floating-point dtype (the default dtype if None).
    """

    __slots__ = ()
    cls_to_become: type[Tensor] = Parameter

    def __init__(self, req_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        super().__init__(Tensor(np.empty(0, dtype=dtype), device=device), req_grad)

    def materialize(self, shape: tuple[int, ...]) -> None:
        """Give the parameter an array of ``shape`` (uninitialized memory) and make it a
        regular one of its class ``cls_to_become``."""
        _materialize(self, shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedBuffer(Tensor):
    """A buffer of a lazy module whose shape is not known yet; see ``UninitializedParameter``."""

    __slots__ = ()
    cls_to_become: type[Tensor] = Tensor

    def __init__(self, device: Any = None, dtype: Any = None) -> None:
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        super().__init__(np.empty(0, dtype=dtype), device=device)

    def materialize(self, shape: tuple[int, ...]) -> None:
        """Give the buffer an array of ``shape`` (uninitialized memory) and make it a
        ``Tensor``."""
        _materialize(self, shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _materialize(tensor: UninitializedParameter | UninitializedBuffer, shape: Any) -> None:
    """Give ``tensor`` an empty array of ``shape`` and its final class, in place."""
    tensor.data = get_array_module(tensor.data).empty(tuple(shape), dtype=tensor.data.dtype)
    tensor.__class__ = tensor.cls_to_become  # type: ignore[assignment]


_UNINITIALIZED = (UninitializedParameter, UninitializedBuffer)


def _check_name(module: Module, name: Any, kind: str) -> None:
    """Validate the name of a new parameter, buffer or submodule."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if not name:
        raise ValueError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise ValueError(f'{kind} name can\'t contain ".", got "{name}"')
    if "_parameters" not in module.__dict__:
        raise AttributeError(
            f"cannot add a {kind} before Module.__init__() call; "
            f"call super().__init__() first in {type(module).__name__}.__init__"
        )


class Module:
    """Base class of layers and models: subclass, call ``super().__init__()``, define ``forward``.

    Attributes:
        training: True in training mode (the default), False after ``eval()``. Layers such
            as dropout and batch norm read it; it never changes ``req_grad``.

    Example:
        >>> class MLP(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.lin1 = nn.Linear(4, 5)
        ...         self.lin2 = nn.Linear(5, 3)
        ...
        ...     def forward(self, x):
        ...         return self.lin2(self.lin1(x).relu())
        >>> model = MLP()
        >>> [name for name, _ in model.named_parameters()]
        ['lin1.weight', 'lin1.bias', 'lin2.weight', 'lin2.bias']
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        # NOTE: object.__setattr__ because our __setattr__ consults these very dicts.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(
            f'module [{type(self).__name__}] is missing the required "forward" method'
        )

    # NOTE: shared empty defaults (never changed): a module without hooks pays one lookup.
    _hooked = False
    _forward_pre_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _forward_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _backward_pre_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _backward_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _state_dict_pre_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _state_dict_post_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _load_state_dict_pre_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012
    _load_state_dict_post_hooks: dict[int, Callable[..., Any]] = {}  # noqa: RUF012

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._hooked:
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        state = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            state = _HookState(
                self, list(self._backward_hooks.values()), list(self._backward_pre_hooks.values())
            )
            if self._backward_hooks:
                args = tuple(state.wrap("input", args))
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output if state is None else state.wrap_output(output)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a non-None result replaces
        the positional arguments (a tuple, or a single value).

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_forward_pre_hooks", hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; a non-None result
        replaces the output (to read activations, or change them).

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_forward_hooks", hook)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        known in backward; a non-None result (a tuple with one Tensor or None per output)
        replaces them, before they flow into the module.

        ``grad_output`` has one entry per tensor output (the output itself, or the
        elements of a tuple or list it returns; None for an output without a gradient).

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_backward_pre_hooks", hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        inputs are known in backward; a non-None result (a tuple with one entry per
        ``grad_input`` entry) replaces ``grad_input`` for what flows on.

        ``grad_input`` has one entry per positional argument: the gradient of a tensor
        that requires grad, None for other arguments (and keyword arguments are not part
        of it); ``grad_output`` is what ``register_full_backward_pre_hook`` describes
        (after the pre-hooks). Gradients of parameters are not part of either. As in
        PyTorch, with no input that requires grad the hook runs with a ``grad_input`` of
        Nones when the output gradients are known. The hooks do not run under
        ``ac.autograd.grad(..., create_graph=True)``, which raises instead.

        Example:
            >>> layer = nn.Linear(3, 2)
            >>> handle = layer.register_full_backward_hook(
            ...     lambda module, grad_input, grad_output: (grad_input[0].clamp(-1, 1),)
            ... )
            >>> layer(ac.randn(4, 3, req_grad=True)).sum().backward()

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_backward_hooks", hook)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Deprecated (as in PyTorch): registers ``hook`` with ``register_full_backward_hook``
        and warns with a ``FutureWarning``.

        PyTorch's old hook saw the gradients of the module's last operation only; here it
        always gets the full-hook arguments ``(module, grad_input, grad_output)``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        warnings.warn(
            "Module.register_backward_hook is deprecated; it registers a full backward hook "
            "here: use register_full_backward_hook",
            FutureWarning,
            stacklevel=2,
        )
        return self.register_full_backward_hook(hook)

    def _add_hook(self, kind: str, hook: Callable[..., Any]) -> RemovableHandle:
        if not kind.startswith(("_state_dict", "_load_state_dict")):  # __call__ needs to know
            object.__setattr__(self, "_hooked", True)
        hooks = self.__dict__.get(kind)
        if hooks is None:  # the first hook of this kind: the module's own dict
            hooks = {}
            object.__setattr__(self, kind, hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # --------------------------------------------------------------- registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``, a declared but absent parameter such as a disabled bias).

        Args:
            name: The attribute name; it becomes the last part of the state-dict key.
            param: A ``Parameter`` or None.
        """
        _check_name(self, name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise ValueError(f"attribute '{name}' already exists in {type(self).__name__}")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: module state that is not a parameter (running statistics, masks, ...).

        Args:
            name: The attribute name; it becomes the last part of the state-dict key.
            tensor: The buffer's tensor, or None.
            persistent: Whether the buffer is part of ``state_dict()``.
        """
        _check_name(self, name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise ValueError(f"attribute '{name}' already exists in {type(self).__name__}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(Tensor or None required; wrap arrays with ac.tensor(...))"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule (or None) under ``name``; same as assigning it as an attribute."""
        _check_name(self, name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise ValueError(f"attribute '{name}' already exists in {type(self).__name__}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(
                    f"cannot assign parameter '{name}' before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            self._remove_from(name, self.__dict__, self._buffers, self._modules)
            self._non_persistent_buffers.discard(name)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError(
                    f"cannot assign module '{name}' before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            self._remove_from(name, self.__dict__, self._parameters, self._buffers)
            self._non_persistent_buffers.discard(name)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            modules[name] = None
            return
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Buffer):
            if buffers is None:
                raise AttributeError(
                    f"cannot assign buffer '{name}' before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            self.register_buffer(name, value, value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(nn.Buffer, Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name: str, *dicts: dict[str, Any]) -> None:
        for d in dicts:
            d.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # NOTE: only called when normal lookup fails, i.e. for registered members.
        state = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            members = state.get(registry)
            if members is not None and name in members:
                return members[name]
        if "_parameters" not in state:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{name}'; "
                f"did {type(self).__name__}.__init__ call super().__init__()?"
            )
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        members = [*self._parameters, *self._buffers, *self._modules]
        return sorted({*super().__dir__(), *members})

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for this module (name ``""``) and every submodule, depth first.

        Args:
            memo: Ids of modules already yielded (internal, for de-duplication).
            prefix: Prepended to every name.
            remove_duplicate: Yield a module reachable under several names only once.
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Yield this module and every submodule (each once)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct submodules (each once)."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Yield the direct submodules (each once)."""
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{module_prefix}.{name}" if module_prefix else name), member

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted name, parameter)``; a parameter shared by several modules comes once.

        Args:
            prefix: Prepended to every name.
            recurse: Include the parameters of submodules.
            remove_duplicate: Yield a shared parameter only under its first name; if False,
                under every name, also those of a module reachable under several names.
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield the parameters (of submodules too if ``recurse``), each once.

        Example:
            >>> optimizer = ac.optim.SGD(model.parameters(), lr=0.1)
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted name, buffer)`` (persistent or not), each buffer once (under every
        name if ``remove_duplicate`` is False, as ``named_parameters``)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield the buffers (of submodules too if ``recurse``), each once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """Return the submodule at a dotted path such as ``"encoder.layers.0"`` (``""``: self)."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')"
                )
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """Return the parameter at a dotted path such as ``"0.weight"``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        param = module._parameters.get(name)
        if param is None:
            raise AttributeError(f"{type(module).__name__} has no parameter '{name}' ('{target}')")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """Return the buffer at a dotted path such as ``"bn.running_mean"``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            if not hasattr(module, name):
                raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
            raise AttributeError(f"`{name}` is not a buffer ('{target}')")
        buffer = module._buffers[name]
        if buffer is None:
            raise AttributeError(f"the buffer `{name}` of {type(module).__name__} is None")
        return buffer

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at a dotted path such as ``"encoder.layers.0"``.

        Args:
            target: The path; every part but the last must name an existing submodule.
            module: The module to put there.
            strict: Only replace an existing submodule (raise if there is none).

        Raises:
            ValueError: An empty ``target``, or ``module`` not a ``Module``.
            AttributeError: A missing submodule on the way (or at the end, if ``strict``),
                or an attribute there that is not a module.
        """
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` must be an nn.Module, got {type(module).__name__}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if name in parent._modules:
            parent._modules[name] = module
            return
        if strict:
            raise AttributeError(f"{type(parent).__name__} has no submodule '{name}' ('{target}')")
        if hasattr(parent, name):
            raise AttributeError(
                f"`{name}` is an attribute of {type(parent).__name__}, not a module"
            )
        parent.add_module(name, module)

    @property
    def n_params(self) -> int:
        """The number of parameter elements (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------- state
    def train(self: M, mode: bool = True) -> M:
        """Put this module and all submodules in training (``mode=True``) or evaluation mode.

        Only ``training`` changes; parameters keep their ``req_grad``.

        Returns:
            self
        """
        if not isinstance(mode, bool):
            raise TypeError(f"training mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self: M) -> M:
        """Put this module and all submodules in evaluation mode (same as ``train(False)``)."""
        return self.train(False)

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        """Set ``req_grad`` of every parameter (e.g. ``False`` to freeze a pretrained part)."""
        for param in self.parameters():
            param.req_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters.

        Args:
            set_to_none: Drop the gradients (``grad = None``, the default) instead of
                filling them with zeros.
        """
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad[...] = 0

    def apply(self: M, fn: Callable[[Module], Any]) -> M:
        """Call ``fn`` on every submodule (children first) and then on this module.

        Example:
            >>> def init_weights(m):
            ...     if isinstance(m, nn.Linear):
            ...         nn.init.zeros_(m.bias)
            >>> model.apply(init_weights)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(
        self: M, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False
    ) -> M:
        """Move parameters and buffers to a device and/or cast floating ones to a dtype, in place.

        The ``Parameter`` objects stay the same (only their data changes), so an optimizer
        created before stays valid. Integer and bool buffers keep their dtype.

        Args:
            *args: A device (``"cuda"``, ``ac.device("cpu")``), a floating dtype, or a tensor
                whose device and dtype to take.
            dtype: A floating-point dtype.
            device: A device.
            non_blocking: Accepted for PyTorch compatibility (copies complete at once).

        Returns:
            self
        """
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, Device) or (isinstance(arg, str) and arg not in dtypes.NAMES):
                device = arg
            else:
                dtype = arg
        if dtype is not None:
            dtype = dtypes.to_dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Module.to only accepts floating-point dtypes, got {dtype}")
        target = to_device(device) if device is not None else None

        def convert(array: Any) -> Any:
            if target is not None:
                array = move_array(array, target)
            if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
                array = array.astype(dtype)
            return array

        self._apply_to_arrays(convert)
        return self

    def _apply_to_arrays(self, convert: Callable[[Any], Any], recurse: bool = True) -> None:
        """Replace the data (and grads) of every parameter and buffer by ``convert(data)``."""
        seen: set[int] = set()
        for module in self.modules() if recurse else [self]:
            for tensor in [*module._parameters.values(), *module._buffers.values()]:
                if tensor is None or id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                tensor.data = convert(tensor.data)
                if tensor.grad is not None:
                    tensor.grad = convert(tensor.grad)

    def float(self: M) -> M:
        """Convert floating-point parameters and buffers to float32."""
        return self.to(dtype=dtypes.float32)

    def double(self: M) -> M:
        """Convert floating-point parameters and buffers to float64."""
        return self.to(dtype=dtypes.float64)

    def half(self: M) -> M:
        """Convert floating-point parameters and buffers to float16."""
        return self.to(dtype=dtypes.float16)

    def bfloat16(self: M) -> M:
        """Not available: NumPy (and so this library) has no bfloat16 dtype.

        Raises:
            TypeError: Always; use ``half()`` (float16) or ``float()`` instead.
        """
        raise TypeError(
            f"{type(self).__name__}.bfloat16(): there is no bfloat16 dtype in this library "
            "(NumPy has none); use half() for float16 or float() for float32"
        )

    def type(self: M, dst_type: Any) -> M:
        """Cast every parameter and buffer (integer and bool ones too) to ``dst_type``.

        Args:
            dst_type: A dtype (``ac.float64``, ``"int32"``, ...).

        Returns:
            self
        """
        dtype = dtypes.to_dtype(dst_type)
        self._apply_to_arrays(lambda array: array.astype(dtype, copy=False))
        return self

    def to_empty(self: M, *, device: Any, recurse: bool = True) -> M:
        """Give every parameter and buffer new, uninitialized memory of the same shape and
        dtype on ``device`` (the current one if None), without copying the values.

        Args:
            device: The device for the new arrays.
            recurse: Include the parameters and buffers of submodules.

        Returns:
            self
        """
        target = to_device(device) if device is not None else None

        def empty(array: Any) -> Any:
            xp = get_array_module(array) if target is None else target.xp
            return xp.empty(array.shape, dtype=array.dtype)

        self._apply_to_arrays(empty, recurse)
        return self

    def share_memory(self: M) -> M:
        """Does nothing (there are no processes to share memory with): returns self.

        In PyTorch it moves the tensors to shared memory for ``torch.multiprocessing``;
        this library's data loaders use threads, which share memory anyway.
        """
        return self

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Does nothing: there is no compiler here (PyTorch's ``torch.compile``). The module
        runs as before; all arguments are accepted and ignored so that code written for
        PyTorch runs unchanged."""

    def cpu(self: M) -> M:
        """Move parameters and buffers to the CPU."""
        return self.to(device="cpu")

    def cuda(self: M, index: int = 0, non_blocking: bool = False) -> M:
        """Move parameters and buffers to CUDA device ``index`` (needs ``ac-cuda``)."""
        return self.to(device=Device("cuda", index))

    # -------------------------------------------------------------- state dicts
    _version: int = 1
    # NOTE: entries that a state dict may lack (added after old checkpoints were written):
    # their tensors keep their values, as PyTorch's upgrade of such checkpoints does.
    _optional_state: tuple[str, ...] = ()

    def _overrides(self, method: str) -> bool:
        """Whether the module's class defines its own ``method`` (e.g. ``get_extra_state``)."""
        return getattr(type(self), method) is not getattr(Module, method)

    def get_extra_state(self) -> Any:
        """Return extra state for ``state_dict()`` (define it, and ``set_extra_state``, to have it).

        A module whose class defines this method gets an ``"_extra_state"`` entry in its
        state dict (``"<prefix>._extra_state"`` for a submodule), after its parameters and
        buffers. ``ac.save`` writes it only if it is made of what a checkpoint holds:
        tensors, NumPy arrays, numbers, strings, bools, None and lists, tuples and dicts of
        them (a tensor or a dict of tensors comes back as such from ``ac.load``); any other
        object makes ``ac.save`` raise a ``TypeError`` naming its key, since safetensors
        files hold tensors (and, here, JSON), never pickled objects.

        Returns:
            The state.
        """
        raise RuntimeError(
            f"{type(self).__name__} does not define get_extra_state(); define it (and "
            "set_extra_state) to keep extra state in the state dict"
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore what ``get_extra_state`` returned.

        ``load_state_dict`` calls it with the module's ``"_extra_state"`` entry when the
        module's class defines it (the entry is then a missing key if absent).
        """
        raise RuntimeError(
            f"{type(self).__name__} does not define set_extra_state(); define it (and "
            "get_extra_state) to keep extra state in the state dict"
        )

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` when ``state_dict()`` reaches this module,
        before it adds its entries.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once this module and its
        submodules added their entries; the hook may change ``state_dict`` in place and must
        return None. ``local_metadata`` is ``{"version": module._version}``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_state_dict_post_hooks", hook)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` when ``load_state_dict`` reaches this module, before
        its entries are checked (parents before children).

        ``state_dict`` is this module's part of the (copied) dict, with full keys; the hook
        may change it in place (e.g. rename old keys), which the module's children see.
        ``local_metadata`` is ``{"assign_to_params_buffers": True}`` with ``assign=True``,
        else ``{}``. ``strict`` is always True, as in PyTorch (keys are always collected;
        the load's own ``strict`` decides whether they fail it). ``missing_keys`` and
        ``unexpected_keys`` hold what was found so far; strings appended to
        ``error_msgs`` make the load fail.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_load_state_dict_pre_hooks", hook)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict`` loaded the values
        (children's hooks before their parent's); it must return None.

        ``incompatible_keys`` is the ``(missing_keys, unexpected_keys)`` named tuple of the
        load, holding (as in PyTorch) the keys found so far, i.e. up to and including this
        module's subtree; the hook may change the lists in place, and ``strict`` checks
        what they hold in the end (clearing both avoids the error). The hook runs even if
        the load is going to fail, as in PyTorch; the module is restored then.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook("_load_state_dict_post_hooks", hook)

    def state_dict(
        self, prefix: str = "", keep_vars: bool = False, *, destination: Any = None
    ) -> dict[str, Any]:
        """The module's state: a flat dict from dotted names to tensors, with PyTorch's keys.

        It holds the parameters, persistent buffers and extra state (see
        ``get_extra_state``) of each module, submodules after their parent. Values share
        memory with the module (detached tensors; the ``Parameter`` objects themselves if
        ``keep_vars``, and always for the uninitialized parameters and buffers of lazy
        modules, as in PyTorch). Save it with ``ac.save(model.state_dict(), "model.safetensors")``.

        Args:
            prefix: Prepended to every key.
            keep_vars: Return the parameters and buffers themselves instead of detached tensors.
            destination: A dict to add the entries to (and return); a new dict if None.
        """
        if destination is None:
            destination = {}
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self, prefix, keep_vars)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = _detached(param, keep_vars)
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = _detached(buffer, keep_vars)
        if self._overrides("get_extra_state"):
            destination[prefix + EXTRA_STATE_KEY] = self.get_extra_state()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(f"{prefix}{name}.", keep_vars, destination=destination)
        if self._state_dict_post_hooks:
            local_metadata = {"version": self._version}
            for hook in list(self._state_dict_post_hooks.values()):
                if hook(self, destination, prefix, local_metadata) is not None:
                    raise RuntimeError("state_dict post-hooks must return None")
        return destination

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Load values from a state dict into the parameters, buffers and extra states.

        Values may be ac Tensors or NumPy arrays (anything ``numpy.asarray`` accepts). On
        any error (a missing or unexpected key with ``strict``, a wrong shape or dtype, or
        an exception from a hook or ``set_extra_state``) the module is left as it was: if
        no load hook and no ``set_extra_state`` is involved, everything is checked before
        the first write; otherwise values are written module by module as in PyTorch (so
        hooks see what they see there), and the old values, kept aside, are put back.
        Without ``assign`` the values are copied in place: floating values are converted to
        the parameter's dtype (and integer ones to an integer buffer's), but a floating
        value never goes into an integer or bool tensor and vice versa. An uninitialized
        parameter or buffer of a lazy module takes the shape of its value (it is
        materialized), as in PyTorch; an uninitialized value leaves it as it is. A batch or
        instance norm's ``num_batches_tracked`` may be absent (old checkpoints): it keeps its
        value and is not a missing key, as in PyTorch for a dict without version metadata.

        The order is PyTorch's: each module runs its load pre-hooks, then its own entries
        are loaded (``set_extra_state`` last), then its submodules', then its load
        post-hooks run.

        Args:
            state_dict: Maps dotted names (as in ``state_dict()``) to values.
            strict: Require the keys to match exactly. Shapes and dtypes are checked either way.
            assign: Make the module hold the given tensors themselves (keeping their dtype
                and device) instead of copying into its own; a value for a parameter that is
                not a ``Parameter`` is wrapped in one (sharing its data), and parameters keep
                the ``req_grad`` of the ones they replace. An optimizer must be created after
                such a load.

        Returns:
            ``(missing_keys, unexpected_keys)``, a named tuple of lists.

        Raises:
            RuntimeError: Listing missing and unexpected keys (if ``strict``), shape
                mismatches with both shapes and incompatible dtypes.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        eager = runs_user_code(self)
        loader = StateDictLoader(strict, assign, Parameter, _UNINITIALIZED, eager)
        return loader.load(self, dict(state_dict))

    # ------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The module's own settings for ``repr`` (e.g. ``in_features=4, out_features=5``)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def _detached(tensor: Tensor, keep_vars: bool) -> Tensor:
    return tensor if keep_vars or isinstance(tensor, _UNINITIALIZED) else tensor.detach()
