"""How ``Module.load_state_dict`` checks a state dict and writes it, all or nothing.

The walk mirrors PyTorch's ``Module._load_from_state_dict``: each module runs its load
pre-hooks, checks its own parameters, persistent buffers and extra state against its
part of the dict, then its children do the same, then it runs its load post-hooks.

Two ways to stay all or nothing:

- no load hooks and no ``set_extra_state`` in the model (no user code runs during the
  load): the walk only checks, and everything is written after it if all is well;
- otherwise each module is written as the walk passes it, as in PyTorch (so hooks see
  what they would see there), keeping the old values aside; a failure at any point
  (an error, a hook that raises, the final strict check) puts them back.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.devices import move_array
from auto_compyute._core.tensor import Tensor

if TYPE_CHECKING:
    from auto_compyute.nn.module import Module

EXTRA_STATE_KEY = "_extra_state"
_NO_STATE = object()


class IncompatibleKeys(NamedTuple):
    """What ``Module.load_state_dict`` found: keys the dict lacks, and keys the model lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class _Update(NamedTuple):
    module: Module
    registry: str  # "_parameters" or "_buffers"
    name: str
    target: Tensor
    value: Any  # the state dict's value
    array: Any  # that value as an array (checked)


def runs_user_code(root: Module) -> bool:
    """Whether loading into ``root`` calls hooks or ``set_extra_state``."""
    return any(
        module._load_state_dict_pre_hooks
        or module._load_state_dict_post_hooks
        or module._overrides("set_extra_state")
        for module in root.modules()
    )


class StateDictLoader:
    """One ``load_state_dict`` call (see the module docstring).

    Args:
        strict: The load's ``strict``.
        assign: The load's ``assign``.
        parameter: The ``Parameter`` class (to wrap assigned values).
        uninitialized: The classes of lazy modules' uninitialized parameters and buffers.
        eager: Write each module as the walk passes it (with an undo log) instead of after.
    """

    def __init__(
        self,
        strict: bool,
        assign: bool,
        parameter: type,
        uninitialized: tuple[type, ...],
        eager: bool,
    ) -> None:
        self.strict, self.assign, self.eager = strict, assign, eager
        self.parameter, self.uninitialized = parameter, uninitialized
        self.missing: list[str] = []
        self.unexpected: list[str] = []
        self.errors: list[str] = []
        self.updates: list[_Update] = []
        self.undo: list[tuple[Any, ...]] = []

    def load(self, root: Module, state_dict: dict[str, Any]) -> IncompatibleKeys:
        """Load ``state_dict`` into ``root``; on errors raise, leaving ``root`` as it was."""
        if not self.eager:
            self.walk(root, state_dict, "")
            if self.errors or self.key_problems():
                _fail(root, self.key_problems() + self.errors)
            # NOTE: convert everything before the first write so that nothing is half-loaded.
            new_values = [self._converted(update) for update in self.updates]
            with no_grad():
                for update, new in zip(self.updates, new_values, strict=True):
                    self._write(update, new)
            return IncompatibleKeys(self.missing, self.unexpected)
        try:
            self.walk(root, state_dict, "")
            if self.errors or self.key_problems():
                _fail(root, self.key_problems() + self.errors)
        except BaseException:
            self._rollback()
            raise
        return IncompatibleKeys(self.missing, self.unexpected)

    def walk(self, module: Module, state_dict: dict[str, Any], prefix: str) -> None:
        """Load ``module`` and then its children from their part of ``state_dict``."""
        local_metadata: dict[str, Any] = {"assign_to_params_buffers": True} if self.assign else {}
        for hook in list(module._load_state_dict_pre_hooks.values()):
            hook(
                module,
                state_dict,
                prefix,
                local_metadata,
                True,  # NOTE: PyTorch always passes True here, whatever the load's strict
                self.missing,
                self.unexpected,
                self.errors,
            )
        local: dict[str, tuple[str, Tensor]] = {}
        for name, param in module._parameters.items():
            if param is not None:
                local[name] = ("_parameters", param)
        for name, buffer in module._buffers.items():
            if buffer is not None and name not in module._non_persistent_buffers:
                local[name] = ("_buffers", buffer)
        updates = []
        for name, (registry, target) in local.items():
            key = prefix + name
            if key not in state_dict:
                if name not in module._optional_state:
                    self.missing.append(key)
                continue
            value = state_dict[key]
            if isinstance(target, self.uninitialized) and isinstance(value, self.uninitialized):
                continue
            array, problem = _as_array(key, value, target, self.uninitialized)
            if problem:
                self.errors.append(problem)
            else:
                updates.append(_Update(module, registry, name, target, value, array))
        if self.eager:
            new_values = [self._converted(update) for update in updates]
            with no_grad():
                for update, new in zip(updates, new_values, strict=True):
                    self._write(update, new)
        else:
            self.updates += updates
        extra_key = prefix + EXTRA_STATE_KEY
        if module._overrides("set_extra_state"):
            if extra_key in state_dict:
                old = (
                    module.get_extra_state() if module._overrides("get_extra_state") else _NO_STATE
                )
                self.undo.append(("extra", module, old))
                module.set_extra_state(state_dict[extra_key])
            else:
                self.missing.append(extra_key)
        elif extra_key in state_dict:
            self.unexpected.append(extra_key)
        for key in state_dict:
            if key.startswith(prefix) and key != extra_key:
                head, dot, _ = key[len(prefix) :].partition(".")
                if head not in (module._modules if dot else local):
                    self.unexpected.append(key)
        for name, child in module._modules.items():
            if child is not None:
                child_prefix = f"{prefix}{name}."
                child_dict = {k: v for k, v in state_dict.items() if k.startswith(child_prefix)}
                self.walk(child, child_dict, child_prefix)
        if module._load_state_dict_post_hooks:
            keys = IncompatibleKeys(self.missing, self.unexpected)
            for hook in list(module._load_state_dict_post_hooks.values()):
                if hook(module, keys) is not None:
                    raise RuntimeError(
                        "load_state_dict post-hooks must return None; change "
                        "incompatible_keys in place instead"
                    )

    def key_problems(self) -> list[str]:
        """PyTorch's strict-mode messages for the missing and unexpected keys."""
        problems = []
        if self.strict and self.missing:
            problems.append(
                "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in self.missing)
            )
        if self.strict and self.unexpected:
            problems.append(
                "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in self.unexpected)
            )
        return problems

    def _converted(self, update: _Update) -> Any:
        """What the load writes for ``update``: the tensor to assign, or the array to copy."""
        target = update.target
        if not self.assign:
            return move_array(update.array.astype(target.dtype, copy=False), target.device)
        value = update.value if isinstance(update.value, Tensor) else Tensor(update.array)
        if update.registry == "_parameters" and not isinstance(value, self.parameter):
            return self.parameter(value, req_grad=target.req_grad)
        return value

    def _write(self, update: _Update, new: Any) -> None:
        target = update.target
        if self.assign:
            registry = getattr(update.module, update.registry)
            if self.eager:
                self.undo.append(("assign", registry, update.name, target, new, new.req_grad))
            if update.registry == "_parameters":
                new.req_grad = target.req_grad
            registry[update.name] = new
            return
        if self.eager:
            self.undo.append(("copy", target, type(target), target.data.copy()))
        if isinstance(target, self.uninitialized):
            cast(Any, target).materialize(new.shape)
        target.data[...] = new

    def _rollback(self) -> None:
        """Restore what the writes recorded in the undo log changed, newest first."""
        with no_grad():
            for entry in reversed(self.undo):
                if entry[0] == "extra":
                    _, module, state = entry
                    if state is not _NO_STATE:
                        with contextlib.suppress(Exception):
                            module.set_extra_state(state)
                elif entry[0] == "assign":
                    _, registry, name, old, new, req_grad = entry
                    new.req_grad = req_grad
                    registry[name] = old
                else:
                    _, target, cls, data = entry
                    target.__class__ = cls
                    if target.data.shape == data.shape:
                        target.data[...] = data
                    else:
                        target.data = data
        self.undo.clear()


def _fail(root: Module, problems: list[str]) -> None:
    raise RuntimeError(
        f"Error(s) in loading state_dict for {type(root).__name__}:\n\t" + "\n\t".join(problems)
    )


def _as_array(
    key: str, value: Any, target: Tensor, uninitialized: tuple[type, ...]
) -> tuple[Any, str | None]:
    """The value of a state-dict entry as an array, or a description of what is wrong with it."""
    if isinstance(value, Tensor):
        array = value.data
    else:
        try:
            array = np.asarray(value)
        except Exception as error:
            return None, f"cannot read the value for {key} ({type(value).__name__}): {error}"
    shape = tuple(array.shape)
    if shape != target.shape and not isinstance(target, uninitialized):
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
