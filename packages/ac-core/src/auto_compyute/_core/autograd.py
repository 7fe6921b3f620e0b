"""The autograd engine: the ``Op`` base class, grad mode and reverse-mode differentiation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from auto_compyute._core.devices import check_same_device, get_array_module, move_array

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor

Array = Any  # a numpy.ndarray or a cupy.ndarray
F = TypeVar("F", bound=Callable[..., Any])

# NOTE: a ContextVar (not a module global) keeps grad mode per thread and per task.
_grad_enabled: ContextVar[bool] = ContextVar("grad_enabled", default=True)


def is_grad_enabled() -> bool:
    """Return True if ops currently record the graph for backward."""
    return _grad_enabled.get()


class set_grad_enabled:
    """Switch graph recording on or off; as a context manager, restore the previous mode on exit.

    Args:
        mode: True to record operations for backward, False not to.
    """

    def __init__(self, mode: bool) -> None:
        self._token = _grad_enabled.set(bool(mode))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._token)


class _GradMode:
    """Base of ``no_grad`` and ``enable_grad``: a context manager that is also a decorator."""

    mode = True

    def __init__(self) -> None:
        self._tokens: list[Any] = []

    def __enter__(self) -> None:
        self._tokens.append(_grad_enabled.set(self.mode))

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Do not record operations for backward (context manager or decorator).

    Example:
        >>> with ac.no_grad():
        ...     y = x * 2  # y.req_grad is False
    """

    mode = False


class enable_grad(_GradMode):
    """Record operations for backward again, e.g. inside ``no_grad`` (also a decorator)."""

    mode = True


no_autograd_tracking = no_grad


# NOTE: Tensor's constructor for op results; tensor.py sets it, as it imports this module.
_new_tensor: Callable[[Any, Op | None, tuple[Tensor, ...]], Tensor] = None  # type: ignore[assignment]


class Op:
    """A differentiable operation on raw arrays.

    Subclasses implement ``forward(*arrays, **kwargs)``, which returns the result array
    and keeps on ``self`` what backward needs, and ``backward(grad)``, which returns one
    gradient (or ``None``) per input array, as a tuple, or a single array for one input.
    ``self.needs_grad[i]`` tells whether input ``i`` needs a gradient, so expensive
    gradients can be skipped. The engine reduces broadcast gradients back to each input's
    shape and casts them to its dtype.

    This is also how users write their own differentiable operation:

    Example:
        >>> class Cube(ac.Op):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x**3
        ...
        ...     def backward(self, grad):
        ...         return 3 * self.x**2 * grad
        >>> x = ac.randn(3, dtype=ac.float64, req_grad=True)
        >>> ac.autograd.gradcheck(Cube.apply, (x,))
        True
    """

    # NOTE: the engine's bookkeeping lives in slots, so that backward can drop everything
    # forward cached (the instance __dict__) in one call.
    __slots__ = ("__dict__", "freed", "kwargs", "needs_grad")
    kwargs: dict[str, Any]
    needs_grad: tuple[bool, ...]
    freed: bool

    @classmethod
    def apply(cls, *srcs: Tensor, **kwargs: Any) -> Tensor:
        """Run the op on tensors and, if any input requires grad, record it in the graph."""
        # NOTE: this is the hot path of every op: one- and two-input ops skip generic code.
        op = cls.__new__(cls)
        op.kwargs, op.freed = kwargs, False
        needs_grad: tuple[bool, ...]
        count = len(srcs)
        try:
            if count == 1:
                data = op.forward(srcs[0].data, **kwargs) if kwargs else op.forward(srcs[0].data)
                needs_grad = (srcs[0]._req_grad,)
            elif count == 2:
                a, b = srcs
                if type(a.data) is not np.ndarray or type(b.data) is not np.ndarray:
                    check_same_device(srcs)
                if kwargs:
                    data = op.forward(a.data, b.data, **kwargs)
                else:
                    data = op.forward(a.data, b.data)
                needs_grad = (a._req_grad, b._req_grad)
            else:
                for src in srcs:
                    if type(src.data) is not np.ndarray:
                        check_same_device(srcs)
                        break
                data = op.forward(*[s.data for s in srcs], **kwargs)
                needs_grad = tuple([s._req_grad for s in srcs])
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            shapes = " and ".join(str(s.shape) for s in srcs)
            raise ValueError(f"{op.name}: shapes {shapes} cannot be broadcast together") from None
        if True in needs_grad and _grad_enabled.get():
            op.needs_grad = needs_grad
            return _new_tensor(data, op, srcs)
        return _new_tensor(data, None, ())

    @property
    def name(self) -> str:
        """The op's name as shown in ``grad_fn=...`` and graph drawings."""
        return type(self).__name__

    def forward(self, *arrays: Array, **kwargs: Any) -> Array:
        raise NotImplementedError(f"{self.name} does not implement forward")

    def backward(self, grad: Array) -> Array | tuple[Array | None, ...]:
        raise NotImplementedError(f"{self.name} does not implement backward")


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum a gradient over the axes along which an input of ``shape`` was broadcast."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad if grad.shape == shape else grad.reshape(shape)


def _topological_order(roots: Iterable[Tensor]) -> list[Tensor]:
    """The tensors of the graph that require grad, each after all of its sources."""
    nodes = list(roots)
    seen = {id(t) for t in nodes}
    stack = nodes.copy()
    pop, push, keep, mark = stack.pop, stack.append, nodes.append, seen.add
    while stack:
        for src in pop().src:
            if src._req_grad and id(src) not in seen:
                mark(id(src))
                keep(src)
                push(src)
    nodes.sort(key=_creation_number)
    return nodes


_creation_number = attrgetter("_seq")


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Array],
    retain_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> list[Array | None] | None:
    """Propagate ``root_grads`` back through the graph.

    Without ``inputs``, gradients are accumulated into the ``grad`` of every leaf that
    requires grad. With ``inputs``, their gradients are returned instead and no
    ``grad`` attribute is touched.
    """
    # NOTE: gradients on their way wait in a slot of each intermediate tensor (faster than
    # a dict); leaves, which concurrent backward passes may share, use this call's dict.
    order = _topological_order(roots)
    leaf_grads: dict[int, Array] = {}
    for root, grad in zip(roots, root_grads, strict=True):
        _add_pending(root, grad, leaf_grads)
    wanted = {id(t): i for i, t in enumerate(inputs)} if inputs is not None else None
    captured: list[Array | None] = [None] * len(inputs or ())
    handed_to_leaves: set[int] = set()
    try:
        for tensor in reversed(order):
            op = tensor.ctx
            if op is None:
                grad = leaf_grads.pop(id(tensor), None)
            else:
                grad, tensor._pending_grad = tensor._pending_grad, None
            if grad is None:
                continue
            if wanted is not None and id(tensor) in wanted:
                captured[wanted[id(tensor)]] = grad
            if op is None:
                if wanted is None:
                    _accumulate_into_leaf(tensor, grad, handed_to_leaves)
                continue
            if op.freed:
                raise RuntimeError(
                    f"cannot backward through {op.name} a second time: its buffers were freed "
                    "by the first backward; pass retain_graph=True to the first backward() call"
                )
            src_grads = op.backward(grad)
            if not retain_graph:  # free what forward cached; kwargs live in a slot and stay
                op.__dict__.clear()
                op.freed = True
            if type(src_grads) is not tuple:
                src_grads = (src_grads,)
            for src, src_grad in zip(tensor.src, src_grads):  # noqa: B905  (hot loop)
                if src_grad is None or not src._req_grad:
                    continue
                data = src.data
                if src_grad.shape != data.shape:
                    src_grad = unbroadcast(src_grad, data.shape)
                if src_grad.dtype is not data.dtype and src_grad.dtype != data.dtype:
                    src_grad = src_grad.astype(data.dtype)
                _add_pending(src, src_grad, leaf_grads)
    except BaseException:
        for tensor in order:  # no half-propagated gradient may leak into a later backward
            tensor._pending_grad = None
        raise
    return captured if inputs is not None else None


def _add_pending(tensor: Tensor, grad: Array, leaf_grads: dict[int, Array]) -> None:
    if tensor.ctx is None:
        previous = leaf_grads.get(id(tensor))
        leaf_grads[id(tensor)] = grad if previous is None else previous + grad
    else:
        pending = tensor._pending_grad
        tensor._pending_grad = grad if pending is None else pending + grad


def _accumulate_into_leaf(leaf: Tensor, grad: Array, handed_to_leaves: set[int]) -> None:
    if isinstance(grad, np.generic):  # NumPy reductions to 0-d give scalars
        grad = np.asarray(grad)
    if leaf.grad is not None:
        leaf.grad = leaf.grad + grad
        return
    # NOTE: a leaf must own its grad: optimizers and clipping change it in place.
    if grad.base is not None or id(grad) in handed_to_leaves:
        grad = grad.copy()
    handed_to_leaves.add(id(grad))
    leaf.grad = grad


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Compute the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``.

    Args:
        outputs: Tensor(s) to differentiate.
        inputs: Tensor(s) to differentiate with respect to.
        grad_outputs: The gradient of each output; may be omitted for scalar outputs.
        retain_graph: Keep the graph's buffers for another backward pass.
        allow_unused: Return ``None`` for inputs that ``outputs`` do not depend on
            instead of raising.

    Returns:
        A tuple with one gradient tensor (or ``None``) per input.
    """
    from auto_compyute._core.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    root_grads = [_initial_grad(o, g) for o, g in zip(outputs, grad_outputs, strict=True)]
    for i, t in enumerate(inputs):
        if not t._req_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad")
    with no_grad():
        captured = run_backward(outputs, root_grads, retain_graph, inputs) or []
    result = []
    for i, g in enumerate(captured):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"input {i} of grad() was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(None if g is None else Tensor(g))
    return tuple(result)


def _initial_grad(output: Tensor, gradient: Any) -> Array:
    """The gradient that starts backward at ``output``, checked against its shape."""
    from auto_compyute._core.tensor import Tensor

    if not output._req_grad:
        raise RuntimeError(
            "output does not require grad and has no grad_fn: none of the tensors it was "
            "computed from has req_grad=True (or it was computed under no_grad)"
        )
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward() needs a gradient argument for a non-scalar output of shape "
                f"{output.shape}; only outputs with one element get an implicit gradient of 1"
            )
        return get_array_module(output.data).ones_like(output.data)
    data = (
        gradient.data
        if isinstance(gradient, Tensor)
        else move_array(np.asarray(gradient), output.device)
    )
    if data.shape != output.shape:
        raise RuntimeError(
            f"gradient has shape {tuple(data.shape)} but the output has shape {output.shape}"
        )
    return data.astype(output.dtype, copy=True)
