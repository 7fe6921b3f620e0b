"""The autograd engine: the ``Op`` base class, grad mode and reverse-mode differentiation."""

from __future__ import annotations

import functools
import gc
import itertools
import math
import sys
import types
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import ref

import numpy as np

from auto_compyute._core import blas
from auto_compyute._core.devices import check_same_device, get_array_module, move_array

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor

Array = Any  # a numpy.ndarray or a cupy.ndarray
F = TypeVar("F", bound=Callable[..., Any])

# NOTE: a ContextVar (not a module global) keeps grad mode per thread and per task.
_grad_enabled: ContextVar[bool] = ContextVar("grad_enabled", default=True)
# whether the backward pass running in this thread keeps the graph's buffers
_retaining_graph: ContextVar[bool] = ContextVar("retaining_graph", default=True)


def accepts_requires_grad(function: F) -> F:
    """Let ``function`` take PyTorch's spelling ``requires_grad=`` for its ``req_grad=``."""

    @functools.wraps(function)
    def wrapper(*args: Any, requires_grad: bool | None = None, **kwargs: Any) -> Any:
        if requires_grad is not None:
            if "req_grad" in kwargs:
                raise TypeError(
                    f"{function.__name__}() got req_grad and requires_grad: give one of them"
                )
            kwargs["req_grad"] = requires_grad
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """Return True if ops currently record the graph for backward."""
    return _grad_enabled.get()


def is_graph_retained() -> bool:
    """Return False while a backward pass runs that frees the graph's buffers as it goes.

    An op's ``backward`` may then write its result over an array that its forward kept
    for backward alone (it is dropped right after), which lowers the peak memory of
    backward. True outside backward and under ``retain_graph=True``.
    """
    return _retaining_graph.get()


def may_overwrite(grad: Array) -> bool:
    """Whether an op's ``backward`` may write its result over ``grad``, the gradient of its
    result that the engine handed it: True when nothing else holds that array (another
    op's waiting gradient, a leaf's, a hook's, the caller of ``backward()``) or shares its
    memory. NumPy arrays only; it saves an allocation, and a pass over fresh memory.

    NOTE: told by reference counts, compared with those of a gradient that nothing but
    the engine holds, measured at import on calls of the same shape (``_ReferenceProbe``).
    A view counts when nothing else holds its base.
    """
    if type(grad) is not np.ndarray or not grad.flags.writeable:
        return False
    refs, base_refs = _reference_counts(grad)
    if base_refs and (type(grad.base) is not np.ndarray or grad.base.base is not None):
        return False
    return refs <= _SOLE_REFS and base_refs <= _SOLE_BASE_REFS


# NOTE: without reference counts (other Pythons than CPython), nothing is overwritten
_refcount = getattr(sys, "getrefcount", lambda _: sys.maxsize)


def _reference_counts(array: Array) -> tuple[int, int]:
    """The reference counts of ``array`` and of its base (0 without one)."""
    base = array.base
    return _refcount(array), 0 if base is None else _refcount(base)


class _ReferenceProbe:
    """Calls shaped like the engine's: ``Op._propagate`` -> ``backward`` -> ``may_overwrite``."""

    def propagate(self, shared: bool) -> tuple[int, int]:
        grad = np.empty(1)[:]  # a view, held by this frame alone
        holders = [grad, grad.base] if shared else []  # noqa: F841 (held while counted)
        return self.backward(grad)

    def backward(self, grad: Array) -> tuple[int, int]:
        return self.may_overwrite(grad)

    def may_overwrite(self, grad: Array) -> tuple[int, int]:
        return _reference_counts(grad)


_SOLE_REFS, _SOLE_BASE_REFS = _ReferenceProbe().propagate(shared=False)
if _ReferenceProbe().propagate(shared=True) != (_SOLE_REFS + 1, _SOLE_BASE_REFS + 1):
    _SOLE_REFS = _SOLE_BASE_REFS = -1  # NOTE: counts that miss a holder: overwrite nothing


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
_inference_mode: ContextVar[bool] = ContextVar("inference_mode", default=False)


def is_inference_mode_enabled() -> bool:
    """Return True inside ``inference_mode()``."""
    return _inference_mode.get()


class inference_mode(_GradMode):
    """PyTorch's stricter ``no_grad``; here ``no_grad`` that ``is_inference_mode_enabled``
    reports (context manager or decorator).

    Args:
        mode: True to stop recording and enter inference mode; False to leave it (grad
            mode stays as it was), as PyTorch.
    """

    mode = False

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self.inference = bool(mode)
        self._inference_tokens: list[Any] = []

    def __enter__(self) -> None:
        if self.inference:
            super().__enter__()
        self._inference_tokens.append(_inference_mode.set(self.inference))

    def __exit__(self, *exc: object) -> None:
        _inference_mode.reset(self._inference_tokens.pop())
        if self.inference:
            super().__exit__(*exc)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(self.inference):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


# NOTE: the Tensor class; tensor.py sets it, as it imports this module.
_Tensor: type[Tensor] = None  # type: ignore[assignment]
_new_object = object.__new__
_ndarray = np.ndarray
_is_grad_enabled = _grad_enabled.get
_next_seq = itertools.count().__next__  # creation order of ops
# NOTE: shared needs_grad tuples for one and two inputs: every op that survives in the
# graph adds to the work of Python's cyclic garbage collector, and a new tuple would too.
_ONE_INPUT = ((False,), (True,))
_TWO_INPUTS = (((False, False), (False, True)), ((True, False), (True, True)))
_THREE_INPUTS = tuple(
    tuple(tuple((a, b, c) for c in (False, True)) for b in (False, True)) for a in (False, True)
)


class Op:
    """A differentiable operation on raw arrays, and a node of the graph.

    Subclasses implement ``forward(*arrays, **kwargs)``, which returns the result array
    and keeps on ``self`` what backward needs, and ``backward(grad)``, which returns one
    gradient (or ``None``) per input array, as a tuple, or a single array for one input.
    ``self.needs_grad[i]`` tells whether input ``i`` needs a gradient, so expensive
    gradients can be skipped. The engine reduces broadcast gradients back to each input's
    shape and casts them to its dtype. An optional ``graph_backward(grad)`` gives the same
    gradients computed with tensor ops, for higher derivatives (see its docstring).

    The graph links ops, not tensors: ``parents[i]`` is the op that produced input ``i``,
    or the input tensor itself when it is a leaf. An op holds no reference to its result,
    so an intermediate tensor that nothing else uses is freed during forward, as in
    PyTorch; what backward needs is what the ops kept.

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
    __slots__ = (
        "__dict__",
        "_dtype",
        "_grad",
        "_output",
        "_seq",
        "_shape",
        "freed",
        "kwargs",
        "needs_grad",
        "parents",
    )
    kwargs: dict[str, Any]
    needs_grad: tuple[bool, ...]
    parents: tuple[Op | Tensor, ...]
    freed: bool
    _output: ref[Tensor]  # the result (weakly), set only once ``src`` looked for it
    _shape: tuple[int, ...]  # the result's shape and dtype
    _dtype: Any
    _grad: Array | None  # the result's gradient while backward runs
    _seq: int  # creation order: backward runs newest first

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # NOTE: every op class runs its own copy of the engine's per-op code. CPython
        # specializes attribute access per code location for one type at a time: shared by
        # all op types, the `op.<slot>` lines fell back to generic lookups. The copies took
        # 12% off a chain of small ops.
        for name in _PER_CLASS_CODE:
            function = getattr(cls, name)
            function = getattr(function, "__func__", function)
            if function.__code__ == _PER_CLASS_CODE[name].__code__:  # not overridden
                copy = _own_copy(_PER_CLASS_CODE[name])
                setattr(cls, name, classmethod(copy) if name == "apply" else copy)

    @classmethod
    def apply(cls, *srcs: Tensor, **kwargs: Any) -> Tensor:
        """Run the op on tensors and, if any input requires grad, record it in the graph."""
        # NOTE: this is the hot path of every op: ops of up to three inputs skip generic code,
        # and module-level aliases save attribute lookups.
        op = _new_object(cls)
        op.kwargs = kwargs
        needs_grad: tuple[bool, ...]
        count = len(srcs)
        try:
            if count == 1:
                data = op.forward(srcs[0].data, **kwargs) if kwargs else op.forward(srcs[0].data)
                needs_grad = _ONE_INPUT[srcs[0]._req_grad]
            elif count == 2:
                a, b = srcs
                if type(a.data) is not _ndarray or type(b.data) is not _ndarray:
                    check_same_device(srcs)
                if kwargs:
                    data = op.forward(a.data, b.data, **kwargs)
                else:
                    data = op.forward(a.data, b.data)
                needs_grad = _TWO_INPUTS[a._req_grad][b._req_grad]
            elif count == 3:  # e.g. a linear layer with its bias
                a, b, c = srcs
                if (
                    type(a.data) is not _ndarray
                    or type(b.data) is not _ndarray
                    or type(c.data) is not _ndarray
                ):
                    check_same_device(srcs)
                if kwargs:
                    data = op.forward(a.data, b.data, c.data, **kwargs)
                else:
                    data = op.forward(a.data, b.data, c.data)
                needs_grad = _THREE_INPUTS[a._req_grad][b._req_grad][c._req_grad]
            else:
                for src in srcs:
                    if type(src.data) is not _ndarray:
                        check_same_device(srcs)
                        break
                data = op.forward(*[s.data for s in srcs], **kwargs)
                needs_grad = tuple([s._req_grad for s in srcs])
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            shapes = " and ".join(str(s.shape) for s in srcs)
            raise ValueError(f"{op.name}: shapes {shapes} cannot be broadcast together") from None
        # NOTE: the result tensor is built here, not by a Tensor method: one call less per op.
        if type(data) is not _ndarray and isinstance(data, np.generic):
            data = np.asarray(data)  # NumPy returns scalars for 0-d results
        tensor = _new_object(_Tensor)
        tensor.data, tensor.grad, tensor.label = data, None, None
        if True in needs_grad and _is_grad_enabled():
            tensor.ctx, tensor._req_grad = op, True
            op.needs_grad = needs_grad
            if count == 1:
                op.parents = (srcs[0].ctx or srcs[0],)
            elif count == 2:
                op.parents = (a.ctx or a, b.ctx or b)
            elif count == 3:
                op.parents = (a.ctx or a, b.ctx or b, c.ctx or c)
            else:
                op.parents = tuple([s.ctx or s for s in srcs])
            op._shape, op._dtype = data.shape, data.dtype
            op._grad, op._seq, op.freed = None, _next_seq(), False
        else:
            tensor.ctx, tensor._req_grad = None, False
        return tensor

    @property
    def src(self) -> tuple[Tensor, ...]:
        """The tensors the op was applied to.

        An intermediate result that nothing references any more has been freed; it is
        stood in for by a tensor with its op, shape and dtype, filled with NaN, on the
        device of this op's result. Live intermediate results are found by one scan of
        the interpreter's objects after new ops were recorded (see ``_find_results``).
        """
        result = self._result()
        xp = np if result is None else get_array_module(result.data)
        return tuple(p._result_or_stand_in(xp) if isinstance(p, Op) else p for p in self.parents)

    def _result(self) -> Tensor | None:
        """The op's result tensor, or None if it was freed."""
        output = getattr(self, "_output", None)
        if output is None and self._seq >= _results_found_below:
            _find_results()
            output = getattr(self, "_output", None)
        return None if output is None else output()

    def _result_or_stand_in(self, xp: Any) -> Tensor:
        tensor = self._result()
        if tensor is None:
            tensor = _Tensor(xp.broadcast_to(xp.asarray(np.nan, self._dtype), self._shape))
            tensor.ctx, tensor._req_grad, self._output = self, True, ref(tensor)
        return tensor

    @property
    def name(self) -> str:
        """The op's name as shown in ``grad_fn=...`` and graph drawings."""
        return type(self).__name__

    def forward(self, *arrays: Array, **kwargs: Any) -> Array:
        raise NotImplementedError(f"{self.name} does not implement forward")

    def backward(self, grad: Array) -> Array | tuple[Array | None, ...]:
        raise NotImplementedError(f"{self.name} does not implement backward")

    def graph_backward(self, grad: Tensor) -> Tensor | tuple[Tensor | None, ...]:
        """``backward`` written with tensor ops, so that the gradients it gives can be
        differentiated again (``ac.autograd.grad(..., create_graph=True)``).

        Ops without it support first derivatives only. It builds the input tensors it needs
        with ``self._input`` and the result with ``self._result_tensor``.
        """
        raise NotImplementedError(
            f"{self.name} has no differentiable backward: create_graph=True (higher "
            "derivatives) does not work through it yet"
        )

    def _input(self, i: int, array: Array) -> Tensor:
        """Input ``i`` as a tensor of the graph, from the ``array`` that forward kept of it."""
        parent = self.parents[i]
        if not isinstance(parent, Op):
            return parent
        tensor = _Tensor._from_op(array)
        tensor.ctx, tensor._req_grad = parent, True
        return tensor

    @staticmethod
    def _constant(array: Array) -> Tensor:
        """An array as a tensor outside the graph (a mask, say), for ``graph_backward``."""
        return _Tensor._from_op(array)

    def _result_tensor(self, array: Array) -> Tensor:
        """This op's result as a tensor of the graph, from the ``array`` that forward kept."""
        tensor = _Tensor._from_op(array)
        tensor.ctx, tensor._req_grad = self, True
        return tensor

    def _propagate(
        self,
        retain_graph: bool,
        queue: list[tuple[int, Op]],
        leaf_grads: dict[int, tuple[Tensor, Array]],
    ) -> None:
        """Run backward on the waiting gradient and pass the results on to the parents."""
        grad, self._grad = self._grad, None
        if self.freed:
            raise RuntimeError(
                f"cannot backward through {self.name} a second time: its buffers were freed "
                "by the first backward; pass retain_graph=True to the first backward() call"
            )
        src_grads = self.backward(grad)
        if not retain_graph:  # free what forward cached; kwargs live in a slot and stay
            self.__dict__.clear()
            self.freed = True
        if type(src_grads) is not tuple:
            src_grads = (src_grads,)
        for parent, needed, src_grad in zip(self.parents, self.needs_grad, src_grads):  # noqa: B905
            if not needed or src_grad is None:
                continue
            if not isinstance(parent, Op):
                _add_to_leaf(parent, src_grad, leaf_grads)
                continue
            # NOTE: _add_pending inlined for ops: this loop runs once per graph edge.
            if src_grad.shape != parent._shape:
                src_grad = unbroadcast(src_grad, parent._shape)
            if src_grad.dtype is not parent._dtype and src_grad.dtype != parent._dtype:
                src_grad = src_grad.astype(parent._dtype)
            pending = parent._grad
            if pending is None:
                parent._grad = src_grad
                heappush(queue, (-parent._seq, parent))
            else:
                parent._grad = pending + src_grad


_results_found_below = 0  # every op numbered below this had its live result (if any) found


def _find_results() -> None:
    """Point every op whose result tensor is alive at it, weakly: one scan of all objects.

    NOTE: forward keeps no reference from an op to its result (a weak reference per op
    cost 9% of a chain of small ops); only ``src`` needs them, and it pays here instead.
    """
    global _results_found_below
    found_below = _next_seq()
    for obj in gc.get_objects():
        if issubclass(type(obj), _Tensor) and obj.ctx is not None:
            op = obj.ctx
            if getattr(op, "_output", None) is None:
                op._output = ref(obj)
    _results_found_below = found_below


_PER_CLASS_CODE = {"apply": Op.__dict__["apply"].__func__, "_propagate": Op._propagate}


def _own_copy(function: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of a function with a code object of its own (see ``Op.__init_subclass__``)."""
    return types.FunctionType(
        function.__code__.replace(),
        function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum a gradient over the axes along which an input of ``shape`` was broadcast."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = [*range(lead)]
    axes += [lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1]
    if axes == [*range(len(axes))]:  # a bias, say: the summed axes come first
        return _sum_leading_axes(grad, len(axes)).reshape(shape)
    return grad.sum(axis=tuple(axes)).reshape(shape)


def _sum_leading_axes(array: Array, count: int) -> Array:
    """``array`` summed over its first ``count`` axes: as a product with ones
    (``blas.sum_by_product``) where those axes form one matrix without a copy."""
    kept = array.shape[count:]
    if not (kept and blas.is_one_matrix(array)):
        return array.sum(axis=tuple(range(count)))
    rows = math.prod(array.shape[:count])
    return blas.sum_by_product(array.reshape(rows, math.prod(kept)), 0)


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
    # NOTE: an op runs its backward once it is the newest op with a gradient waiting: all
    # its consumers are newer, so all their gradients have arrived (PyTorch orders by the
    # same creation numbers). A heap finds it; the graph is never walked separately.
    # Gradients on their way wait in a slot of each op (faster than a dict); those of
    # leaves, which concurrent backward passes may share, in this call's dict.
    queue: list[tuple[int, Op]] = []
    pop = heappop  # NOTE: a local name: the loop below runs once per op
    leaf_grads: dict[int, tuple[Tensor, Array]] = {}
    for root, grad in zip(roots, root_grads, strict=True):
        node = root.ctx or root
        if isinstance(node, Op) and node._grad is None:
            heappush(queue, (-node._seq, node))
        _add_pending(node, grad, leaf_grads)
    token = _retaining_graph.set(retain_graph)
    try:
        if inputs is not None:
            return _backward_to_inputs(queue, leaf_grads, retain_graph, inputs)
        while queue:
            pop(queue)[1]._propagate(retain_graph, queue, leaf_grads)
    except BaseException:
        for _, op in queue:  # no half-propagated gradient may leak into a later backward
            op._grad = None
        raise
    finally:
        _retaining_graph.reset(token)
    handed_to_leaves: set[int] = set()
    for leaf, grad in leaf_grads.values():
        _accumulate_into_leaf(leaf, grad, handed_to_leaves)
    return None


def _backward_to_inputs(
    queue: list[tuple[int, Op]],
    leaf_grads: dict[int, tuple[Tensor, Array]],
    retain_graph: bool,
    inputs: Sequence[Tensor],
) -> list[Array | None]:
    """``run_backward``'s loop for ``grad()``: capture the gradients of ``inputs``.

    On an error, ``run_backward`` clears what waits in ``queue``."""
    # an intermediate input's gradient is its op's output gradient
    wanted = {id(t.ctx or t): i for i, t in enumerate(inputs)}
    captured: list[Array | None] = [None] * len(inputs)
    while queue:
        op = heappop(queue)[1]
        if id(op) in wanted:
            captured[wanted[id(op)]] = _capture_after_hooks(op, retain_graph, queue, leaf_grads)
            continue
        op._propagate(retain_graph, queue, leaf_grads)
    for key, (leaf, grad) in leaf_grads.items():
        if key in wanted:
            hooks = getattr(leaf, "_hooks", None)
            captured[wanted[key]] = _run_grad_hooks(hooks, grad) if hooks else grad
    return captured


def _add_pending(
    node: Op | Tensor, grad: Array, leaf_grads: dict[int, tuple[Tensor, Array]]
) -> None:
    """Add ``grad`` to what waits for ``node``, reduced to its shape and cast to its dtype."""
    if not isinstance(node, Op):
        _add_to_leaf(node, grad, leaf_grads)
        return
    if grad.shape != node._shape:
        grad = unbroadcast(grad, node._shape)
    if grad.dtype is not node._dtype and grad.dtype != node._dtype:
        grad = grad.astype(node._dtype)
    node._grad = grad if node._grad is None else node._grad + grad


def _add_to_leaf(leaf: Tensor, grad: Array, leaf_grads: dict[int, tuple[Tensor, Array]]) -> None:
    """``_add_pending`` for a leaf tensor: what waits for it is kept in ``leaf_grads``."""
    data = leaf.data
    if grad.shape != data.shape:
        grad = unbroadcast(grad, data.shape)
    if grad.dtype is not data.dtype and grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    previous = leaf_grads.get(id(leaf))
    leaf_grads[id(leaf)] = (leaf, grad if previous is None else previous[1] + grad)


def _accumulate_into_leaf(leaf: Tensor, grad: Array, handed_to_leaves: set[int]) -> None:
    if type(grad) is not _ndarray and isinstance(grad, np.generic):
        grad = np.asarray(grad)  # NumPy reductions to 0-d give scalars
    hooks = getattr(leaf, "_hooks", None)
    if hooks:
        grad = _run_grad_hooks(hooks, grad)
    if leaf.grad is not None:
        leaf.grad = leaf.grad + grad
    else:
        # NOTE: a leaf must own its grad: optimizers and clipping change it in place.
        if grad.base is not None or id(grad) in handed_to_leaves:
            grad = grad.copy(order="K")  # NOTE: in the layout backward chose
        handed_to_leaves.add(id(grad))
        leaf.grad = grad
    post_hooks = getattr(leaf, "_post_hooks", None)
    if post_hooks:  # Tensor.register_post_accumulate_grad_hook
        for hook in list(post_hooks.values()):
            hook(leaf)


def _capture_after_hooks(
    op: Op, retain_graph: bool, queue: list[tuple[int, Op]], leaf_grads: dict[int, Any]
) -> Array:
    """Propagate from an op whose result is an input of ``grad()``; return the result's
    gradient after its hooks (as the leaves' are), which run once."""
    hooked = op.__dict__.pop("backward", None)
    if hooked is None:
        grad = op._grad
        op._propagate(retain_graph, queue, leaf_grads)
        return grad
    grad = op._grad = _run_output_hooks(op, op._grad)
    try:
        op._propagate(retain_graph, queue, leaf_grads)
    finally:
        if not op.freed:
            op.__dict__["backward"] = hooked
    return grad


def _run_output_hooks(op: Op, grad: Array) -> Array:
    """Pass the gradient of ``op``'s result through the result's hooks, then keep it in the
    result's ``grad`` if ``retain_grad`` asked for it."""
    grad = _run_grad_hooks(op.__dict__["_output_hooks"], grad)
    retained = op.__dict__.get("_retain")
    owner = retained() if retained is not None else None
    if owner is not None:
        kept = grad.copy()
        owner.grad = kept if owner.grad is None else owner.grad + kept
    return grad


def _run_grad_hooks(hooks: dict[int, Any], grad: Array) -> Array:
    """Pass a gradient through tensor hooks (``Tensor.register_hook``), in order."""
    for hook in list(hooks.values()):
        result = hook(_Tensor._from_op(grad))
        if result is not None:
            grad = result.data if isinstance(result, _Tensor) else result
    return grad


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Compute the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``.

    Args:
        outputs: Tensor(s) to differentiate.
        inputs: Tensor(s) to differentiate with respect to.
        grad_outputs: The gradient of each output; may be omitted for scalar outputs.
        retain_graph: Keep the graph's buffers for another backward pass.
        create_graph: Record the computation of the gradients, so that they can be
            differentiated again (higher derivatives, gradient penalties); the graph is
            kept. Every op on the way needs a ``graph_backward``.
        allow_unused: Return ``None`` for inputs that ``outputs`` do not depend on
            instead of raising.

    Tensor hooks (``register_hook``) and ``retain_grad`` run on the way, as in
    ``backward``; the gradient returned for an input is the one after its hooks. Unlike
    PyTorch, which runs only the part of the graph that leads to ``inputs``, hooks of
    intermediate tensors off that part run too (and an intermediate input's gradient is
    always the one after its hooks, where PyTorch returns it before them when the walk
    has to go on past it). Under ``create_graph=True`` hooks get and may return tensors
    of the graph.

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
    captured: list[Any]
    if create_graph:
        roots = [
            g if isinstance(g, Tensor) else Tensor(r)
            for g, r in zip(grad_outputs, root_grads, strict=True)
        ]
        with enable_grad():
            captured = _graph_backward(outputs, roots, inputs)
    else:
        with no_grad():
            captured = run_backward(outputs, root_grads, retain_graph, inputs) or []
    result = []
    for i, g in enumerate(captured):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"input {i} of grad() was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g if g is None or isinstance(g, Tensor) else Tensor(g))
    return tuple(result)


def _graph_backward(
    outputs: Sequence[Tensor], root_grads: Sequence[Tensor], inputs: Sequence[Tensor]
) -> list[Tensor | None]:
    """The gradients of ``outputs`` with respect to ``inputs``, computed with recorded tensor
    ops (each op's ``graph_backward``), in the order ``run_backward`` uses. The graph is kept."""
    queue: list[tuple[int, Op]] = []
    pending: dict[int, Tensor] = {}  # by id of op or leaf tensor

    def add(node: Op | Tensor, gradient: Tensor) -> None:
        if isinstance(node, Op):
            shape, dtype = node._shape, node._dtype
        else:
            shape, dtype = node.data.shape, node.data.dtype
        if gradient.shape != shape:
            gradient = _unbroadcast_tensor(gradient, shape)
        if gradient.data.dtype != dtype:
            gradient = gradient.to(dtype=dtype)
        key = id(node)
        if key in pending:
            pending[key] = pending[key] + gradient
            return
        pending[key] = gradient
        if isinstance(node, Op):
            heappush(queue, (-node._seq, node))

    for output, gradient in zip(outputs, root_grads, strict=True):
        add(output.ctx or output, gradient)
    while queue:
        op = heappop(queue)[1]
        if op.freed:
            raise RuntimeError(
                f"cannot backward through {op.name} a second time: its buffers were freed "
                "by an earlier backward; pass retain_graph=True to it"
            )
        gradient = pending[id(op)]
        if "_output_hooks" in op.__dict__:
            gradient = pending[id(op)] = _run_tensor_hooks(op, gradient)
        src_grads = op.graph_backward(gradient)
        if not isinstance(src_grads, tuple):
            src_grads = (src_grads,)
        for parent, needed, src_grad in zip(op.parents, op.needs_grad, src_grads):  # noqa: B905
            if needed and src_grad is not None:
                add(parent, src_grad)
    for t in {id(t): t for t in inputs}.values():
        hooks = getattr(t, "_hooks", None) if t.ctx is None else None
        if hooks and id(t) in pending:
            for hook in list(hooks.values()):
                result = hook(pending[id(t)])
                pending[id(t)] = pending[id(t)] if result is None else result
    return [pending.get(id(t.ctx or t)) for t in inputs]


def _run_tensor_hooks(op: Op, gradient: Tensor) -> Tensor:
    """``_run_output_hooks`` for a gradient tensor of ``_graph_backward``; hooks see (and
    may return) tensors of the graph, ``retain_grad`` keeps the gradient's values."""
    for hook in list(op.__dict__["_output_hooks"].values()):
        result = hook(gradient)
        if result is not None:
            gradient = result
    retained = op.__dict__.get("_retain")
    owner = retained() if retained is not None else None
    if owner is not None:
        kept = gradient.data.copy()
        owner.grad = kept if owner.grad is None else owner.grad + kept
    return gradient


def _unbroadcast_tensor(gradient: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``unbroadcast`` with tensor ops: sum over the axes an input of ``shape`` was broadcast."""
    lead = gradient.ndim - len(shape)
    if lead > 0:
        gradient = gradient.sum(dim=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and gradient.shape[i] != 1)
    if axes:
        gradient = gradient.sum(dim=axes, keepdim=True)
    return gradient if gradient.shape == shape else gradient.reshape(shape)


def _initial_grad(output: Tensor, gradient: Any) -> Array:
    """The gradient that starts backward at ``output``, checked against its shape."""
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
        ones = get_array_module(output.data).empty_like(output.data)
        ones.fill(1)  # NOTE: NumPy's ones_like is Python code, three times slower
        return ones
    data = (
        gradient.data
        if isinstance(gradient, _Tensor)
        else move_array(np.asarray(gradient), output.device)
    )
    if data.shape != output.shape:
        raise RuntimeError(
            f"gradient has shape {tuple(data.shape)} but the output has shape {output.shape}"
        )
    return data.astype(output.dtype, copy=True)
