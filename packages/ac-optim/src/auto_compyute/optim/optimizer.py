"""The ``Optimizer`` base class: parameter groups, per-parameter state and checkpoints."""

from __future__ import annotations

import copy
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array, enable_grad
from auto_compyute._core.devices import device_of, move_array
from auto_compyute._core.tensor import Tensor

ParamGroup = dict[str, Any]
Params = Iterable[Tensor] | Iterable[ParamGroup]


class Optimizer:
    """Base class of the optimizers: parameter groups and per-parameter state.

    Parameters are leaf floating-point tensors (any ``Tensor``; usually with ``req_grad=True``).
    ``step()`` updates ``param.data`` in place, outside the autograd graph, on the parameter's
    device; a parameter whose ``grad`` is ``None`` is skipped.

    Args:
        params: The tensors to optimize, or dicts that each hold a group of tensors under
            ``"params"`` and hyper-parameters that override ``defaults`` for that group.
        defaults: The hyper-parameters of groups that do not set their own.

    Attributes:
        param_groups: One dict per group: ``"params"`` (a list of tensors) and its
            hyper-parameters (``"lr"``, ...). Learning-rate schedulers change these values.
        state: The state of each parameter (a dict keyed by the tensor): step counts as ints,
            running sums and averages as arrays on the parameter's device.
        defaults: The default hyper-parameters.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self._check(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[ParamGroup] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of tensors or of dicts, got a single Tensor; "
                "pass [tensor] instead"
            )
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError if a hyper-parameter of ``group`` is out of range."""

    def _state_shape(self, name: str, param: Tensor) -> tuple[int, ...]:
        """The shape of the state array ``name`` of ``param``: the parameter's own shape."""
        return param.shape

    def _state_dtype(self, name: str, param: Tensor) -> Any:
        """The dtype of the floating state array ``name`` of ``param``: the parameter's own."""
        return param.dtype

    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group of parameters, e.g. layers unfrozen during fine-tuning.

        Args:
            param_group: ``{"params": tensors, **hyper_parameters}``; missing hyper-parameters
                take the optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs the key 'params' (a list of tensors)")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise TypeError(
                "parameters must be given in an ordered collection such as a list: "
                "the order of a set changes between runs"
            )
        else:
            params = list(params)
        index = len(self.param_groups)
        for i, param in enumerate(params):
            _check_param(param, f"parameter {i} of group {index}")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a parameter appears more than once in parameter group {index}")
        if {id(p) for group in self.param_groups for p in group["params"]} & set(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters.

        Args:
            set_to_none: Set ``grad`` to None (saves memory; the next backward allocates a new
                array) instead of filling the existing array with zeros.
        """
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient once.

        Args:
            closure: Optional function that recomputes the loss (clears the gradients, runs
                forward and backward) and returns it; it is called first, with grad enabled.

        Returns:
            What ``closure`` returned, or None.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # The seed's spellings.
    def update_params(self) -> None:
        """Alias of ``step()``."""
        self.step()

    def reset_param_grads(self) -> None:
        """Alias of ``zero_grad()``."""
        self.zero_grad()

    def _evaluate(self, closure: Callable[[], Any] | None) -> Any:
        """Run ``closure`` (if given) with grad enabled, then check every gradient, so that a
        step refuses a bad gradient before it changes anything."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        return loss

    def _check_grads(self) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if isinstance(grad, Tensor):
                    raise TypeError(
                        "a parameter's .grad is an array (as backward leaves it), got a Tensor: "
                        "assign its array, p.grad = t.data"
                    )
                if grad.shape != param.data.shape:
                    raise RuntimeError(
                        f"a parameter of shape {param.shape} has a gradient of shape {grad.shape}"
                    )

    @staticmethod
    def _with_grads(group: ParamGroup) -> Iterator[tuple[Tensor, Array]]:
        """The parameters of ``group`` that have a gradient (checked by ``_evaluate``), each
        with its gradient array."""
        for param in group["params"]:
            if param.grad is not None:
                yield param, param.grad

    # --------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, for checkpoints.

        Parameters are numbered in order through the groups, as in PyTorch. Array state comes
        as Tensors that share memory with the optimizer's state (like PyTorch: save the dict or
        ``copy.deepcopy`` it to keep a snapshot that later steps do not change).

        Returns:
            ``{"state": {index: {name: Tensor or number}},
            "param_groups": [{**hyper_parameters, "params": [index, ...]}]}``.
        """
        indices: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = []
            for param in group["params"]:
                indices[id(param)] = len(indices)
                packed["params"].append(indices[id(param)])
            groups.append(packed)
        state = {
            indices[id(param)]: {name: _to_tensor(value) for name, value in values.items()}
            for param, values in self.state.items()
            if id(param) in indices
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()``; stepping on then continues bit for bit.

        Everything is checked before anything changes: a state for another set of parameters
        (other group count, group sizes or shapes) is refused and leaves the optimizer as it
        was. Arrays are copied to each parameter's device, floating ones cast to the dtype the
        optimizer keeps its state in (the parameter's; see ``_state_dtype``).

        Args:
            state_dict: A dict returned by ``state_dict()`` (possibly saved and loaded).
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(
                "expected a dict with the keys 'state' and 'param_groups', as returned by "
                "Optimizer.state_dict()"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state dict has {len(saved_groups)} parameter group(s), but this optimizer "
                f"has {len(self.param_groups)}"
            )
        by_index: dict[Any, Tensor] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {i} has {len(saved['params'])} parameter(s) in the state "
                    f"dict, but {len(group['params'])} in this optimizer"
                )
            by_index.update(zip(saved["params"], group["params"], strict=True))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in by_index:
                raise ValueError(
                    f"the state dict has state for parameter {index}, which no group lists"
                )
            param = by_index[index]
            state[param] = {
                name: _load(
                    name,
                    value,
                    param,
                    index,
                    self._state_shape(name, param),
                    self._state_dtype(name, param),
                )
                for name, value in values.items()
            }
        groups = []
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            hyper = copy.deepcopy({key: value for key, value in saved.items() if key != "params"})
            groups.append({**hyper, "params": group["params"]})
        for group in groups:
            self._check(group)
        self.state, self.param_groups = state, groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [
                f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"
            ]
        return "\n".join([*lines, ")"])


def _check_param(param: Any, where: str) -> None:
    if not isinstance(param, Tensor):
        raise TypeError(f"optimizers update Tensors, but {where} is a {type(param).__name__}")
    if not param.is_leaf:
        op = type(param.ctx).__name__
        raise ValueError(
            f"can't optimize a non-leaf tensor: {where} was computed by {op}; "
            "optimize the leaf tensors it comes from, or x.detach().requires_grad_()"
        )
    if param.dtype.kind != "f":
        raise TypeError(
            f"optimizers update floating-point tensors, but {where} has dtype {param.dtype}"
        )


def _to_tensor(value: Any) -> Any:
    """Arrays (also in a list, as LBFGS's history) as Tensors, as PyTorch's state holds."""
    if isinstance(value, list):
        return [_to_tensor(item) for item in value]
    is_array = isinstance(value, np.ndarray) or hasattr(value, "__array_namespace__")
    return Tensor(value) if is_array and not isinstance(value, np.generic) else value


def _load(
    name: str, value: Any, param: Tensor, index: Any, shape: tuple[int, ...], float_dtype: Any
) -> Any:
    """A saved state value, checked against its parameter (``shape``: the state's expected
    shape), placed like it and, if floating, cast to ``float_dtype``."""
    if isinstance(value, Tensor):
        value = value.data
    if name == "step":
        return int(value)
    if isinstance(value, list):  # LBFGS's history: arrays of their own shapes
        return [_placed(item, param, float_dtype) for item in value]
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        return copy.deepcopy(value)
    if tuple(value.shape) != shape:
        expected = "that parameter has" if shape == param.shape else "it should have"
        raise ValueError(
            f"state '{name}' of parameter {index} has shape {tuple(value.shape)}, but "
            f"{expected} shape {shape}"
        )
    return _placed(value, param, float_dtype)


def _placed(value: Any, param: Tensor, float_dtype: Any) -> Any:
    """A copy of a saved array (or Tensor) on ``param``'s device, floating ones cast to
    ``float_dtype``; anything else deep-copied."""
    if isinstance(value, Tensor):
        value = value.data
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        return copy.deepcopy(value)
    dtype = float_dtype if value.dtype.kind == "f" else value.dtype
    return move_array(value, device_of(param.data)).astype(dtype, copy=True)


def check_range(
    group: dict[str, Any], name: str, value: Any = None, *, below: float | None = None
) -> None:
    """Raise unless ``group[name]`` (or ``value``) is a number >= 0 (and < ``below``)."""
    value = group[name] if value is None else value
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    number = float(value)
    if not number >= 0 or (below is not None and not number < below):
        bounds = f"in [0, {below})" if below is not None else ">= 0"
        raise ValueError(f"invalid {name}: {value} (must be {bounds})")
