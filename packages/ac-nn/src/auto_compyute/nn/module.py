"""``Module``, the base class of every layer and model, and ``Parameter``.

A module registers what is assigned to it: a ``Parameter`` becomes a parameter, a
``Module`` a submodule, and ``register_buffer`` adds a tensor that is state but not
trained (running statistics, masks). Everything else (ints, plain tensors, lists) stays
an ordinary attribute. The registries drive ``parameters()``, ``state_dict()``,
``to()``, ``train()`` and the nested ``repr``, exactly as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.autograd import is_grad_enabled, no_grad
from auto_compyute._core.devices import Device, get_array_module, move_array, to_device
from auto_compyute._core.hooks import RemovableHandle
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn._backward_hooks import _HookState

__all__ = [
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


class IncompatibleKeys(NamedTuple):
    """What ``Module.load_state_dict`` found: keys the dict lacks, and keys the model lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


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

    def _add_hook(self, kind: str, hook: Callable[..., Any]) -> RemovableHandle:
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
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor or None expected)"
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
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
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
            remove_duplicate: Yield a shared parameter only under its first name.
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
        """Yield ``(dotted name, buffer)`` (persistent or not), each buffer once."""
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

    def to(self: M, *args: Any, dtype: Any = None, device: Any = None) -> M:
        """Move parameters and buffers to a device and/or cast floating ones to a dtype, in place.

        The ``Parameter`` objects stay the same (only their data changes), so an optimizer
        created before stays valid. Integer and bool buffers keep their dtype.

        Args:
            *args: A device (``"cuda"``, ``ac.device("cpu")``), a floating dtype, or a tensor
                whose device and dtype to take.
            dtype: A floating-point dtype.
            device: A device.

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

    def _apply_to_arrays(self, convert: Callable[[Any], Any]) -> None:
        """Replace the data (and grads) of every parameter and buffer by ``convert(data)``."""
        seen: set[int] = set()
        for module in self.modules():
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

    def cpu(self: M) -> M:
        """Move parameters and buffers to the CPU."""
        return self.to(device="cpu")

    def cuda(self: M, index: int = 0) -> M:
        """Move parameters and buffers to CUDA device ``index`` (needs ``ac-cuda``)."""
        return self.to(device=Device("cuda", index))

    # -------------------------------------------------------------- state dicts
    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Yield ``(key, tensor)``: own parameters, own persistent buffers, then each child's."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + name, buffer
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(f"{prefix}{name}.")

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """The module's state: a flat dict from dotted names to tensors, with PyTorch's keys.

        It holds the parameters and persistent buffers. Values share memory with the
        module (detached tensors; the ``Parameter`` objects themselves if ``keep_vars``, and
        always for the uninitialized parameters and buffers of lazy modules, as in PyTorch).
        Save it with ``ac.save(model.state_dict(), "model.safetensors")``.

        Args:
            prefix: Prepended to every key.
            keep_vars: Return the parameters and buffers themselves instead of detached tensors.
        """
        return {
            key: tensor if keep_vars or isinstance(tensor, _UNINITIALIZED) else tensor.detach()
            for key, tensor in self._state_items(prefix)
        }

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values from a state dict into the parameters and buffers, in place.

        Values may be ac Tensors or NumPy arrays (anything ``numpy.asarray`` accepts). Every
        key, shape and dtype is checked before anything is copied: on any error the module
        is left unchanged. Floating values are converted to the parameter's dtype (and
        integer ones to an integer buffer's), but a floating value never goes into an
        integer or bool tensor and vice versa. An uninitialized parameter or buffer of a lazy
        module takes the shape of its value (it is materialized), as in PyTorch; an
        uninitialized value leaves it as it is.

        Args:
            state_dict: Maps dotted names (as in ``state_dict()``) to values.
            strict: Require the keys to match exactly. Shapes and dtypes are checked either way.

        Returns:
            ``(missing_keys, unexpected_keys)``, a named tuple of lists.

        Raises:
            RuntimeError: Listing missing and unexpected keys (if ``strict``), shape
                mismatches with both shapes and incompatible dtypes.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        targets = dict(self._state_items())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        problems: list[str] = []
        if strict:
            if missing:
                problems.append(
                    "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing)
                )
            if unexpected:
                problems.append(
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                )
        updates: list[tuple[Tensor, Any]] = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            if isinstance(target, _UNINITIALIZED) and isinstance(state_dict[key], _UNINITIALIZED):
                continue
            array, problem = _as_array(key, state_dict[key], target)
            if problem:
                problems.append(problem)
            else:
                updates.append((target, array))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        # NOTE: convert everything before the first write so that nothing is half-loaded.
        converted = [(t, move_array(a.astype(t.dtype, copy=False), t.device)) for t, a in updates]
        with no_grad():
            for target, array in converted:
                if isinstance(target, _UNINITIALIZED):
                    target.materialize(array.shape)
                target.data[...] = array
        return IncompatibleKeys(missing, unexpected)

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


def _as_array(key: str, value: Any, target: Tensor) -> tuple[Any, str | None]:
    """The value of a state-dict entry as an array, or a description of what is wrong with it."""
    if isinstance(value, Tensor):
        array = value.data
    else:
        try:
            array = np.asarray(value)
        except Exception as error:
            return None, f"cannot read the value for {key} ({type(value).__name__}): {error}"
    shape = tuple(array.shape)
    if shape != target.shape and not isinstance(target, _UNINITIALIZED):
        return None, (
            f"size mismatch for {key}: copying a param with shape {shape} from checkpoint, "
            f"the shape in current model is {target.shape}."
        )
    source_kind, target_kind = array.dtype.kind, target.dtype.kind
    if source_kind not in "fiub" or (source_kind == "f") != (target_kind == "f"):
        return None, (
            f"dtype mismatch for {key}: the checkpoint has {array.dtype}, "
            f"the current model has {target.dtype}."
        )
    return array, None
