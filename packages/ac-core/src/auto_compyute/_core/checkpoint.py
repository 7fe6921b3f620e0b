"""Activation checkpointing: trade compute for memory by re-running a segment in backward."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import Any

import numpy as np

from auto_compyute._core import random as _random
from auto_compyute._core.autograd import (
    Array,
    Op,
    _add_pending,
    _next_seq,
    enable_grad,
    is_grad_enabled,
    no_grad,
)
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.tensor import Tensor


class Checkpoint(Op):
    """The outputs of a function run without a graph; backward re-runs it with one.

    Built by ``checkpoint``, not by ``apply``. It keeps the function, its arguments (the
    arrays of its tensor arguments) and, if asked, the state of the random generator. Its
    result is the function's one floating-point output, or all of them flattened and
    joined (``checkpoint`` splits them again with tensor ops).
    """

    function: Callable[..., Any]
    args: tuple[Any, ...]  # with a _Slot for each tensor argument
    call_kwargs: dict[str, Any]
    arrays: list[Array]  # of the tensor arguments
    generator: np.random.Generator | None  # a copy, as it was before forward
    layout: list[tuple[tuple[int, ...], Any]]  # shapes and dtypes of the outputs

    def _propagate(
        self,
        retain_graph: bool,
        queue: list[tuple[int, Op]],
        leaf_grads: dict[int, tuple[Tensor, Array]],
    ) -> None:
        # NOTE: the recomputed graph reaches leaves that are not inputs of this op (the
        # parameters a module's function uses): their gradients join those of the running
        # backward pass, so that .grad and ac.autograd.grad(..., inputs) both see them.
        self.__dict__["outer_leaf_grads"] = leaf_grads
        Op._propagate(self, retain_graph, queue, leaf_grads)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        outer_leaf_grads = self.__dict__.pop("outer_leaf_grads")
        with enable_grad(), _generator_state(self.generator):
            copies = [
                Tensor._from_op(array).requires_grad_(needed)
                for array, needed in zip(self.arrays, self.needs_grad, strict=False)
            ]
            args, kwargs = _fill(self.args, self.call_kwargs, copies)
            _, outputs = _differentiable_outputs(self.function(*args, **kwargs))
        layout = [(o.shape, o.dtype) for o in outputs]
        if layout != self.layout:
            raise RuntimeError(
                "checkpoint: the recomputed outputs (shapes and dtypes "
                f"{[(s, str(d)) for s, d in layout]}) differ from those of the forward pass "
                f"({[(s, str(d)) for s, d in self.layout]}); the function must be deterministic "
                "(pass preserve_rng_state=True if it draws random numbers)"
            )
        grads = _split(grad, layout) if len(outputs) > 1 else [grad]
        leaf_grads = _backward_into_dict(outputs, grads)
        index = {id(c): i for i, c in enumerate(copies)}
        for i, parent in enumerate(self.parents[len(copies) :], len(copies)):
            index[id(parent)] = i
        input_grads: list[Array | None] = [None] * len(self.parents)
        for key, (leaf, leaf_grad) in leaf_grads.items():
            if key in index:
                input_grads[index[key]] = leaf_grad
            else:
                previous = outer_leaf_grads.get(key)
                total = leaf_grad if previous is None else previous[1] + leaf_grad
                outer_leaf_grads[key] = (leaf, total)
        return tuple(input_grads)


def _backward_into_dict(
    outputs: Sequence[Tensor], grads: Sequence[Array]
) -> dict[int, tuple[Tensor, Array]]:
    """Backward through a freshly recorded graph; the leaves' gradients, by id."""
    queue: list[tuple[int, Op]] = []
    leaf_grads: dict[int, tuple[Tensor, Array]] = {}
    for output, grad in zip(outputs, grads, strict=True):
        if not output._req_grad:
            continue
        node = output.ctx or output
        if isinstance(node, Op) and node._grad is None:
            heappush(queue, (-node._seq, node))
        _add_pending(node, grad, leaf_grads)
    try:
        while queue:
            heappop(queue)[1]._propagate(False, queue, leaf_grads)
    except BaseException:
        for _, op in queue:
            op._grad = None
        raise
    return leaf_grads


@contextmanager
def _generator_state(saved: np.random.Generator | None) -> Iterator[None]:
    """Draw random numbers from a copy of ``saved`` (if given) inside the block."""
    if saved is None:
        yield
        return
    outer = _random._generator
    _random._generator = copy.deepcopy(saved)
    try:
        yield
    finally:
        _random._generator = outer


class _Slot:
    """Stands for the i-th tensor argument in the arguments kept for recomputation."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i


def _fill(
    args: tuple[Any, ...], kwargs: dict[str, Any], tensors: Sequence[Tensor]
) -> tuple[list[Any], dict[str, Any]]:
    def put(value: Any) -> Any:
        return tensors[value.i] if isinstance(value, _Slot) else value

    return [put(a) for a in args], {k: put(v) for k, v in kwargs.items()}


def _differentiable_outputs(result: Any) -> tuple[list[Any], list[Tensor]]:
    """The function's outputs as a list, and those that are floating-point tensors."""
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    return items, [o for o in items if isinstance(o, Tensor) and o.data.dtype.kind == "f"]


def _split(packed: Array, layout: Sequence[tuple[tuple[int, ...], Any]]) -> list[Array]:
    parts, start = [], 0
    for shape, _ in layout:
        size = int(np.prod(shape))
        parts.append(packed[start : start + size].reshape(shape))
        start += size
    return parts


def _graph_leaves(outputs: Sequence[Tensor]) -> list[Tensor]:
    """The leaves that require grad of the graph that produced ``outputs``."""
    leaves: dict[int, Tensor] = {}
    seen: set[int] = set()
    stack: list[Op | Tensor] = [o.ctx or o for o in outputs if o._req_grad]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Op):
            stack.extend(p for p, needed in zip(node.parents, node.needs_grad) if needed)  # noqa: B905
        elif node._req_grad:
            leaves[id(node)] = node
    return list(leaves.values())


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """Run ``function(*args, **kwargs)`` without keeping its intermediate results; backward
    runs it again, this time recording the graph, and back-propagates through it.

    Forward keeps only the arguments (and the random generator's state), so the memory
    of the activations inside ``function`` is traded for a second forward pass in
    backward. Gradients reach the tensor arguments and every tensor the function uses
    otherwise (the parameters of a module it calls), through ``backward()`` and
    ``ac.autograd.grad`` alike. ``function`` must compute the same thing twice: with
    ``preserve_rng_state`` the random numbers it draws (dropout masks) are drawn again
    from the same generator state.

    Outputs: a tensor, or a tuple or list of tensors and other values; floating-point
    tensors are differentiable. Differentiating through a checkpoint twice
    (``create_graph=True``) is not supported.

    Args:
        function: The segment to run.
        *args: Its positional arguments; the tensors among them (and among ``kwargs``) are
            the inputs of the segment.
        use_reentrant: ``True`` as PyTorch's reentrant variant: when no tensor argument
            requires grad, the outputs do not either (with a warning), and ``kwargs`` are
            refused. ``False`` or ``None`` (the default): gradients also reach the
            parameters of a segment whose tensor arguments do not require grad; to learn
            which, forward then records the segment's graph once and drops it right away.
        preserve_rng_state: Recompute with the generator state of the forward pass.
        **kwargs: Keyword arguments of ``function``.

    Returns:
        What ``function`` returns.

    Example:
        >>> w = ac.randn(4, 4, req_grad=True)
        >>> x = ac.randn(2, 4, req_grad=True)
        >>> y = checkpoint(lambda t: (t @ w).tanh() @ w, x)
        >>> y.sum().backward()  # recomputes (t @ w).tanh()
    """
    if use_reentrant and kwargs:
        raise ValueError(
            "checkpoint: unexpected keyword arguments with use_reentrant=True: " + ", ".join(kwargs)
        )
    tensors: list[Tensor] = []

    def slot(value: Any) -> Any:
        if isinstance(value, Tensor):
            tensors.append(value)
            return _Slot(len(tensors) - 1)
        return value

    saved_args = tuple(slot(a) for a in args)
    saved_kwargs = {k: slot(v) for k, v in kwargs.items()}
    if not is_grad_enabled():
        return function(*args, **kwargs)
    generator = copy.deepcopy(_random.get_generator()) if preserve_rng_state else None
    extra_leaves: list[Tensor] = []
    if any(t._req_grad for t in tensors):
        with no_grad():
            result = function(*args, **kwargs)
    elif use_reentrant:
        warnings.warn(
            "checkpoint: none of the inputs requires grad, so the outputs will not either "
            "and no gradient reaches the segment's parameters; pass use_reentrant=False",
            UserWarning,
            stacklevel=2,
        )
        with no_grad():
            return function(*args, **kwargs)
    else:
        result = function(*args, **kwargs)
        _, recorded = _differentiable_outputs(result)
        known = {id(t) for t in tensors}
        extra_leaves = [leaf for leaf in _graph_leaves(recorded) if id(leaf) not in known]
        if not extra_leaves:
            return result
        result = _detached(result)
    items, outputs = _differentiable_outputs(result)
    if not outputs:
        return result
    op, data = _record(tensors, extra_leaves, outputs)
    op.function, op.args, op.call_kwargs = function, saved_args, saved_kwargs
    op.generator = generator
    op.arrays = [t.data for t in tensors]
    op.layout = [(o.shape, o.dtype) for o in outputs]
    return _outputs(result, items, outputs, op._result_tensor(data))


def _detached(result: Any) -> Any:
    if isinstance(result, Tensor):
        return result.detach()
    if isinstance(result, (tuple, list)):
        return _rebuild(result, [o.detach() if isinstance(o, Tensor) else o for o in result])
    return result


def _rebuild(like: tuple[Any, ...] | list[Any], items: list[Any]) -> Any:
    """A tuple, named tuple or list of the type of ``like`` with ``items``."""
    if hasattr(like, "_fields"):
        return type(like)(*items)
    return type(like)(items)


def _record(
    tensors: list[Tensor], extra_leaves: list[Tensor], outputs: list[Tensor]
) -> tuple[Checkpoint, Array]:
    """A ``Checkpoint`` op in the graph, as ``Op.apply`` records one."""
    op = object.__new__(Checkpoint)
    op.kwargs = {}
    inputs = tensors + extra_leaves
    op.needs_grad = tuple(t._req_grad for t in inputs)
    op.parents = tuple(t.ctx or t for t in inputs)
    if len(outputs) == 1:
        data = outputs[0].data
    else:
        xp = get_array_module(outputs[0].data)
        dtype = np.result_type(*[o.data.dtype for o in outputs])
        data = xp.concatenate([o.data.reshape(-1).astype(dtype, copy=False) for o in outputs])
    op._shape, op._dtype = data.shape, data.dtype
    op._grad, op._seq, op.freed = None, _next_seq(), False
    return op, data


def _outputs(result: Any, items: list[Any], outputs: list[Tensor], packed: Tensor) -> Any:
    """The function's result with its floating-point tensors replaced by graph tensors."""
    if len(outputs) == 1:
        replaced = {id(outputs[0]): packed}
    else:
        replaced, start = {}, 0
        for o in outputs:
            part = packed[start : start + o.numel()].reshape(o.shape)
            replaced[id(o)] = part if part.dtype == o.dtype else part.to(dtype=o.dtype)
            start += o.numel()
    new_items = [replaced.get(id(o), o) if isinstance(o, Tensor) else o for o in items]
    if isinstance(result, (tuple, list)):
        return _rebuild(result, new_items)
    return new_items[0]


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Tensor,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run a sequence of functions (modules) with all but the last of ``segments``
    segments checkpointed.

    Args:
        functions: A sequence of callables, or a container module (its ``children()``).
        segments: How many segments to cut the sequence into.
        input: The input of the first function.
        use_reentrant: As for ``checkpoint``.
        **kwargs: Only ``preserve_rng_state`` (as for ``checkpoint``).

    Returns:
        The output of the last function.
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError(
            "checkpoint_sequential: unexpected keyword arguments: " + ", ".join(kwargs)
        )
    if callable(getattr(functions, "children", None)):
        functions = list(functions.children())
    functions = list(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be at least 1, got {segments}")

    def run(start: int, end: int) -> Callable[[Any], Any]:
        def forward(x: Any) -> Any:
            for f in functions[start : end + 1]:
                x = f(x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(
            run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
    return run(end + 1, len(functions) - 1)(input)
