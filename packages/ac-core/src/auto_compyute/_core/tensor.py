"""The ``Tensor``: an array, its gradient, and the op that made it."""

from __future__ import annotations

import builtins
import functools
import itertools
import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple, ParamSpec, overload

import numpy as np

from auto_compyute._core import autograd, blas, dtypes
from auto_compyute._core.autograd import (
    Array,
    Op,
    _grad_enabled,
    _initial_grad,
    _run_output_hooks,
    accepts_requires_grad,
    run_backward,
)
from auto_compyute._core.devices import (
    CPU,
    Device,
    device_of,
    get_array_module,
    move_array,
    to_device,
)
from auto_compyute._core.hooks import RemovableHandle
from auto_compyute._core.ops import elementwise as ew
from auto_compyute._core.ops import linalg, movement, reduce, special
from auto_compyute._core.ops import math as math_ops
from auto_compyute._core.printing import format_array
from auto_compyute._core.random import GeneratorLike, numpy_generator

Scalar = int | float | bool
Dim = int | Sequence[int] | None


class ValuesIndices(NamedTuple):
    """What ``sort`` and ``topk`` return: the values (differentiable) and their indices."""

    values: Tensor
    indices: Tensor


class MinMax(NamedTuple):
    """What ``aminmax`` returns: the smallest and the largest values."""

    min: Tensor
    max: Tensor


class MantissaExponent(NamedTuple):
    """What ``frexp`` returns: mantissas in [0.5, 1) (or 0) and int32 exponents."""

    mantissa: Tensor
    exponent: Tensor


_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


class ToDevice(Op):
    """x copied to another device; the gradient is copied back."""

    def forward(self, x: Array, *, device: Device) -> Array:
        self.source = device_of(x)
        return move_array(x, device)

    def backward(self, grad: Array) -> Array:
        return move_array(grad, self.source)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.to(self.source)


def _binary(op: type[Op], floating: bool = False) -> tuple[Any, Any]:
    """A binary operator method and its reflected form, e.g. ``__add__`` and ``__radd__``.

    Operands get PyTorch's result dtype first; ``floating`` ops (true division) turn
    integer operands into the default float dtype.
    """
    apply = op.apply

    def method(self: Tensor, other: Any) -> Tensor:
        # NOTE: the two common cases, kept short: a tensor of the same dtype, and a Python
        # float next to a float tensor on the CPU.
        dtype = self.data.dtype
        if type(other) is Tensor:
            if other.data.dtype is dtype and (not floating or dtype.kind == "f"):
                return apply(self, other)
        elif type(other) is builtins.float and dtype.kind == "f" and type(self.data) is np.ndarray:
            return apply(self, _cpu_constant(other, dtype))
        a, b = self._other(other)
        if floating and a.data.dtype.kind != "f":
            a, b = a._floating(), b._floating()
        return apply(a, b)

    def reflected(self: Tensor, other: Any) -> Tensor:
        a, b = self._other(other)
        if floating and a.data.dtype.kind != "f":
            a, b = a._floating(), b._floating()
        return apply(b, a)

    return method, reflected


def _float_unary(op: type[Op], what: str) -> Any:
    """A method applying ``op`` elementwise; integer tensors become the default float first."""
    apply = op.apply

    def method(self: Tensor) -> Tensor:
        return apply(self if self.data.dtype.kind == "f" else self._floating())

    method.__doc__ = f"Elementwise {what}."
    return method


def _inplace_of(*names: str, views: bool = False) -> tuple[Any, ...]:
    """The in-place twins ``<name>_`` of the out-of-place methods ``names`` (see
    ``Tensor._inplace_twin``); with ``views``, ops that give self a new shape, such as ``t_``."""

    def twin(name: str) -> Any:
        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            return self._inplace_twin(name, args, kwargs, views)

        method.__name__, method.__qualname__ = f"{name}_", f"Tensor.{name}_"
        method.__doc__ = f"``{name}()`` in place, outside autograd (refused where ``add_`` is)."
        return method

    return tuple(twin(name) for name in names)


# NOTE: the order in which in-place results may be cast, as PyTorch allows it: bool to
# integer to float, never back.
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}

_TYPE_NAMES = {
    dtypes.float16: "HalfTensor",
    dtypes.float32: "FloatTensor",
    dtypes.float64: "DoubleTensor",
    dtypes.int8: "CharTensor",
    dtypes.int16: "ShortTensor",
    dtypes.int32: "IntTensor",
    dtypes.int64: "LongTensor",
    dtypes.uint8: "ByteTensor",
    dtypes.bool_: "BoolTensor",
}


# The coefficients of a**2, a**4, ... a**12 in sin(a) / a: (-1)**k / (2k + 1)!
_SINC_SERIES = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(1, 7))

_P = ParamSpec("_P")


def float16_in_float32(function: Callable[_P, Tensor]) -> Callable[_P, Tensor]:
    """Run ``function`` (a reduction or normalization) on a float16 first argument in
    float32, float16 tensor arguments with it, and round the result back to float16, as
    PyTorch's kernels accumulate in float32: float16 squares overflow from 256 on (a sum of
    exponentials or of squares soon after), which made norms inf and normalized values 0.
    """

    def widened(value: Any) -> Any:
        is_half = isinstance(value, Tensor) and value.data.dtype == dtypes.float16
        return value.float() if is_half else value

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Tensor:
        if not (args and isinstance(args[0], Tensor) and args[0].data.dtype == dtypes.float16):
            return function(*args, **kwargs)
        wide_args = [widened(a) for a in args]
        wide_kwargs = {key: widened(value) for key, value in kwargs.items()}
        return function(*wide_args, **wide_kwargs).half()

    return wrapper


class Tensor:
    """An n-dimensional array that records the operations applied to it for autograd.

    Args:
        data: An array, a (nested) sequence of numbers, a number or a Tensor. Arrays are
            used without copying when dtype and device already match.
        dtype: The data type; inferred from ``data`` if omitted (Python floats give float32).
        device: ``"cpu"``, ``"cuda"`` or a ``Device``; the CPU if omitted.
        req_grad: Whether to accumulate gradients in ``.grad`` on ``backward()``.
        label: An optional name, shown in graph drawings.

    Attributes:
        data: The values, as a NumPy (or CuPy) array.
        grad: The accumulated gradient, an array of the same shape and dtype, or None.
        ctx: The ``Op`` that produced this tensor (None for leaves).
        src: The tensors ``ctx`` was applied to (a property: the graph links ops, and
            intermediate results that nothing else uses are freed; see ``Op``).
    """

    __slots__ = (
        "__weakref__",
        # NOTE: the two kinds of hooks of a leaf: None on tensors made by the constructor
        # (a set slot reads faster than a missing one in backward), unset on op results
        "_hooks",  # gradient hooks of a leaf
        "_post_hooks",  # post-accumulate-grad hooks of a leaf
        "_req_grad",
        "ctx",
        "data",
        "grad",
        "label",
    )
    # NOTE: makes NumPy hand ``ndarray <op> Tensor`` to the Tensor's reflected operators.
    __array_ufunc__ = None

    data: Array
    grad: Array | None
    ctx: Op | None
    _hooks: dict[int, Callable[[Tensor], Tensor | None]] | None
    _post_hooks: dict[int, Callable[[Tensor], None]] | None

    def __init__(
        self,
        data: Any,
        dtype: Any = None,
        device: str | Device | None = None,
        req_grad: builtins.bool = False,
        label: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        target = to_device(device) if device is not None else None
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.infer_dtype(data)
        if isinstance(data, np.generic):
            data = np.asarray(data)
        if hasattr(data, "__array_namespace__") or isinstance(data, np.ndarray):
            source = device_of(data)
            if target is not None and target != source:
                data = move_array(data, target)
            if data.dtype != dtype:
                data = data.astype(dtype)
        else:
            data = np.asarray(data, dtype=dtype)
            if target is not None and target != CPU:
                data = move_array(data, target)
        self.data, self.grad, self.ctx, self.label, self._req_grad = data, None, None, label, False
        self._hooks = self._post_hooks = None
        if req_grad:
            self.req_grad = True

    @staticmethod
    def _from_op(data: Array) -> Tensor:
        """Wrap the result of an untracked array operation without any checks (hot path)."""
        if type(data) is not np.ndarray and isinstance(data, np.generic):
            data = np.asarray(data)  # NumPy returns scalars for 0-d results
        tensor = object.__new__(Tensor)
        tensor.data, tensor.grad, tensor.ctx, tensor.label = data, None, None, None
        tensor._req_grad = False
        return tensor

    # ----------------------------------------------------------------- attributes
    @property
    def req_grad(self) -> builtins.bool:
        """Whether this tensor takes part in autograd (alias: ``requires_grad``)."""
        return self._req_grad

    @req_grad.setter
    def req_grad(self, value: builtins.bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        if not value and self.ctx is not None:
            raise RuntimeError(
                "req_grad can only be switched off on leaf tensors; use detach() instead"
            )
        self._req_grad = bool(value)

    requires_grad = req_grad

    def requires_grad_(self, value: builtins.bool = True) -> Tensor:
        """Set ``req_grad`` in place and return self."""
        self.req_grad = value
        return self

    @property
    def src(self) -> tuple[Tensor, ...]:
        """The tensors ``ctx`` was applied to (empty for leaves); see ``Op.src``."""
        return () if self.ctx is None else self.ctx.src

    @property
    def is_leaf(self) -> builtins.bool:
        """True if the tensor was not produced by a recorded op."""
        return self.ctx is None

    @property
    def grad_fn(self) -> Op | None:
        """The op that produced this tensor (same as ``ctx``)."""
        return self.ctx

    @property
    def shape(self) -> tuple[builtins.int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> builtins.int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> Device:
        return device_of(self.data)

    @property
    def T(self) -> Tensor:
        """The tensor with all axes reversed."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The tensor with its last two axes swapped."""
        return self.transpose(-2, -1)

    def size(self, dim: builtins.int | None = None) -> tuple[builtins.int, ...] | builtins.int:
        """The shape, or the length of axis ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> builtins.int:
        """The number of elements."""
        return int(self.data.size)

    def dim(self) -> builtins.int:
        """The number of axes (same as ``ndim``)."""
        return self.data.ndim

    def is_floating_point(self) -> builtins.bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> builtins.bool:
        """True if the elements lie in memory in row-major order without gaps."""
        return builtins.bool(self.data.flags.c_contiguous)

    def stride(self, dim: builtins.int | None = None) -> tuple[builtins.int, ...] | builtins.int:
        """The steps in memory between neighbours along each axis, in elements (not bytes).

        Args:
            dim: One axis to give the step of; all axes if None.
        """
        steps = tuple(s // self.data.itemsize for s in self.data.strides)
        return steps if dim is None else steps[_dim(dim, self.ndim)]

    def element_size(self) -> builtins.int:
        """The size of one element in bytes."""
        return builtins.int(self.data.itemsize)

    @property
    def itemsize(self) -> builtins.int:
        """The size of one element in bytes (as ``element_size()``)."""
        return builtins.int(self.data.itemsize)

    @property
    def nbytes(self) -> builtins.int:
        """The size of the elements in bytes: ``numel() * element_size()``."""
        return builtins.int(self.data.size * self.data.itemsize)

    # --------------------------------------------------------------- new tensors
    def _new(
        self, shape: Any, fill: Any, dtype: Any, device: Any, req_grad: builtins.bool
    ) -> Tensor:
        """A tensor of ``shape`` filled with ``fill`` (None: left unset), in this tensor's
        dtype and on its device unless given."""
        dtype = dtypes.to_dtype(dtype) if dtype is not None else self.data.dtype
        same = device is None or to_device(device) == self.device
        xp = get_array_module(self.data) if same else np
        data = xp.empty(shape, dtype) if fill is None else xp.full(shape, fill, dtype)
        return Tensor(data, device=None if same else device, req_grad=req_grad)

    @accepts_requires_grad
    def new_zeros(
        self, *size: Any, dtype: Any = None, device: Any = None, req_grad: builtins.bool = False
    ) -> Tensor:
        """A tensor of zeros of ``size``, with this tensor's dtype and device unless given."""
        return self._new(_shape_args(size), 0, dtype, device, req_grad)

    @accepts_requires_grad
    def new_ones(
        self, *size: Any, dtype: Any = None, device: Any = None, req_grad: builtins.bool = False
    ) -> Tensor:
        """A tensor of ones of ``size``, with this tensor's dtype and device unless given."""
        return self._new(_shape_args(size), 1, dtype, device, req_grad)

    @accepts_requires_grad
    def new_empty(
        self, *size: Any, dtype: Any = None, device: Any = None, req_grad: builtins.bool = False
    ) -> Tensor:
        """A tensor of ``size`` with unset values, with this tensor's dtype and device unless
        given."""
        return self._new(_shape_args(size), None, dtype, device, req_grad)

    @accepts_requires_grad
    def new_full(
        self,
        size: Sequence[builtins.int],
        fill_value: Scalar,
        dtype: Any = None,
        device: Any = None,
        req_grad: builtins.bool = False,
    ) -> Tensor:
        """A tensor of ``size`` filled with ``fill_value``, with this tensor's dtype and device
        unless given."""
        return self._new(tuple(size), fill_value, dtype, device, req_grad)

    @accepts_requires_grad
    def new_tensor(
        self, data: Any, dtype: Any = None, device: Any = None, req_grad: builtins.bool = False
    ) -> Tensor:
        """A copy of ``data``, with this tensor's dtype and device unless given (a leaf, not
        linked to ``data``'s graph)."""
        array = data.data if isinstance(data, Tensor) else data
        copied = array.copy() if hasattr(array, "copy") and hasattr(array, "dtype") else array
        return Tensor(
            copied,
            dtype=dtype if dtype is not None else self.data.dtype,
            device=device if device is not None else self.device,
            req_grad=req_grad,
        )

    # -------------------------------------------------------------- conversion
    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        return self.device.backend.to_numpy(self.data)

    as_numpy = numpy

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __array__(self, dtype: Any = None, copy: builtins.bool | None = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def to(
        self,
        *args: Any,
        dtype: Any = None,
        device: Any = None,
        non_blocking: builtins.bool = False,
        copy: builtins.bool = False,
    ) -> Tensor:
        """Move to a device and/or convert to a dtype: ``t.to("cuda")``, ``t.to(ac.float64)``.

        ``copy=True`` returns a new tensor even where nothing changes, as in PyTorch;
        ``non_blocking`` is accepted for PyTorch compatibility (copies complete at once).
        """
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, Device) or (isinstance(arg, str) and arg not in dtypes.NAMES):
                device = arg
            else:
                dtype = arg
        result = self
        if device is not None:
            target = to_device(device)
            if target != self.device:
                result = ToDevice.apply(result, device=target)
        if dtype is not None:
            dtype = dtypes.to_dtype(dtype)
            if dtype != result.dtype:
                result = (
                    ew.Cast.apply(result, dtype=dtype)
                    if dtype.kind == "f"
                    else Tensor(result.data.astype(dtype))
                )
        return result.clone() if copy and result is self else result

    def cpu(self) -> Tensor:
        return self.to(device="cpu")

    def cuda(self, index: builtins.int = 0, non_blocking: builtins.bool = False) -> Tensor:
        return self.to(device=Device("cuda", index))

    def float(self) -> Tensor:
        return self.to(dtype=dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtype=dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtype=dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtype=dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtype=dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtype=dtypes.bool_)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient whenever backward computes it; a
        tensor it returns replaces the gradient (for what flows on, and for a leaf's
        ``grad``).

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        if not self._req_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        hooks: dict[int, Any] | None
        if self.ctx is None:
            hooks = getattr(self, "_hooks", None)
            if hooks is None:
                hooks = self._hooks = {}
        else:
            hooks = _op_output_hooks(self.ctx)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this (non-leaf) tensor's gradient in ``grad`` during backward, as leaves do
        (after its hooks, as in PyTorch)."""
        if not self._req_grad:
            raise RuntimeError("cannot retain the grad of a tensor that does not require grad")
        if self.ctx is not None:
            _op_output_hooks(self.ctx)
            # NOTE: weakly: a strong reference would make a cycle through ctx
            self.ctx.__dict__["_retain"] = weakref.ref(self)

    def detach(self) -> Tensor:
        """The same data without graph history (shares memory)."""
        return Tensor._from_op(self.data)

    def clone(self) -> Tensor:
        """A copy of the data; gradients flow back to this tensor."""
        return ew.Copy.apply(self)

    def contiguous(self) -> Tensor:
        """A C-contiguous version (self if it already is)."""
        if self.data.flags.c_contiguous:
            return self
        return ew.Copy.apply(self)

    # --------------------------------------------------------------- autograd
    def backward(
        self,
        gradient: Any = None,
        retain_graph: builtins.bool = False,
        create_graph: builtins.bool = False,
    ) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf it depends on.

        Args:
            gradient: The gradient of this tensor; optional when it has one element.
            retain_graph: Keep the ops' buffers so that backward can run again.
            create_graph: Not supported here, as ``.grad`` holds arrays: use
                ``ac.autograd.grad(..., create_graph=True)`` for gradients that can be
                differentiated again.
        """
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True) is not supported: .grad holds arrays; use "
                "ac.autograd.grad(outputs, inputs, create_graph=True) for differentiable gradients"
            )
        run_backward([self], [_initial_grad(self, gradient)], retain_graph)

    # --------------------------------------------------------------- python protocol
    def __repr__(self) -> str:
        data = self.numpy()
        body = format_array(data, prefix="Tensor(")
        extras = []
        if data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={data.dtype}")
        if type(self.data) is not np.ndarray:
            extras.append(f"device='{self.device}'")
        if self.ctx is not None:
            extras.append(f"grad_fn={self.ctx.name}")
        elif self._req_grad:
            extras.append("req_grad=True")
        return f"Tensor({', '.join([body, *extras])})"

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self.data.ndim == 0:
            return format(self.item(), format_spec)
        return super().__format__(format_spec)

    def __len__(self) -> builtins.int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> builtins.bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> builtins.float:
        return float(self.item())

    def __int__(self) -> builtins.int:
        return int(self.item())

    def __index__(self) -> builtins.int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors with one element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    # ---------------------------------------------------------------- arithmetic
    def _other(self, other: Any) -> tuple[Tensor, Tensor]:
        """Pair self with another operand, both of the dtype PyTorch would compute in."""
        if isinstance(other, Tensor):
            if other.data.dtype is self.data.dtype or other.data.dtype == self.data.dtype:
                return self, other
            dtype = dtypes.promote_types(self.data.dtype, other.data.dtype)
            return self.to(dtype=dtype), other.to(dtype=dtype)
        if isinstance(other, builtins.bool | builtins.int | builtins.float):
            dtype = dtypes.scalar_dtype(other, self.data.dtype)
            me = self if dtype == self.data.dtype else self.to(dtype=dtype)
            if type(self.data) is np.ndarray:
                return me, _cpu_constant(other, dtype)
            constant = move_array(np.asarray(other, dtype=dtype), self.device)
            return me, Tensor._from_op(constant)
        return self._other(Tensor(other, device=self.device))

    __add__, __radd__ = _binary(ew.Add)
    __sub__, __rsub__ = _binary(ew.Sub)
    __mul__, __rmul__ = _binary(ew.Mul)
    __truediv__, __rtruediv__ = _binary(ew.Div, floating=True)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, builtins.int | builtins.float) and not isinstance(
            exponent, builtins.bool
        ):
            base = (
                self
                if self.data.dtype.kind == "f" or isinstance(exponent, builtins.int)
                else self._floating()
            )
            return ew.PowScalar.apply(base, exponent=exponent)
        return ew.Pow.apply(*self._other(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        a, b = self._other(base)
        return ew.Pow.apply(b, a)

    def __neg__(self) -> Tensor:
        return ew.Neg.apply(self)

    def __matmul__(self, other: Tensor) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return Tensor(other, device=self.device).matmul(self)

    add, sub, mul, pow = __add__, __sub__, __mul__, __pow__
    subtract, multiply, true_divide = sub, mul, __truediv__

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """Elementwise division: true division, or its quotient rounded toward zero
        (``rounding_mode="trunc"``) or down (``"floor"``, as ``//``); the rounded forms keep
        integer dtypes and have no gradient (PyTorch's is zero)."""
        if rounding_mode is None:
            return self.__truediv__(other)
        if rounding_mode == "floor":
            return self.floor_divide(other)
        if rounding_mode != "trunc":
            raise ValueError(
                f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
            )
        a, b = self._other(other)
        xp = get_array_module(a.data)
        if a.data.dtype.kind == "f":
            return Tensor._from_op(xp.trunc(a.data / b.data))
        _check_integer_divisor(a, b, "div")
        # NOTE: the floored quotient is one too low where the division is inexact and the
        # signs differ
        inexact = (xp.remainder(a.data, b.data) != 0) & ((a.data < 0) != (b.data < 0))
        return Tensor._from_op(xp.floor_divide(a.data, b.data) + inexact)

    divide = div

    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with NumPy's rules for 1-D and batched (broadcast) operands."""
        a, b = self._other(other)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                "matmul needs operands with at least one dimension, "
                f"got shapes {a.shape} and {b.shape}"
            )
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape} "
                f"(inner sizes {a.shape[-1]} and {inner_b} differ)"
            )
        return linalg.Matmul.apply(a, b)

    def mm(self, other: Tensor) -> Tensor:
        """Product of two matrices (2-D only, as in PyTorch)."""
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"mm needs two 2-D tensors, got shapes {self.shape} and {other.shape}")
        return self.matmul(other)

    def bmm(self, other: Tensor) -> Tensor:
        """Batched product of (B, n, k) and (B, k, m) tensors (3-D only, as in PyTorch)."""
        if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(
                f"bmm needs two 3-D tensors with one batch size, got shapes {self.shape} and "
                f"{other.shape}"
            )
        return self.matmul(other)

    # ------------------------------------------------------------- comparisons
    def _compare(self, other: Any, op: Any) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        return Tensor._from_op(op(self.data, other_data))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def all(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        return Tensor._from_op(self.data.all(axis=_dims(dim, self.ndim), keepdims=keepdim))

    def any(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        return Tensor._from_op(self.data.any(axis=_dims(dim, self.ndim), keepdims=keepdim))

    def argmax(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        """Index of the largest value (over the flattened tensor if ``dim`` is None)."""
        return self._arg(self.data.argmax, dim, keepdim)

    def argmin(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        """Index of the smallest value (over the flattened tensor if ``dim`` is None)."""
        return self._arg(self.data.argmin, dim, keepdim)

    def _arg(self, func: Any, dim: builtins.int | None, keepdim: builtins.bool) -> Tensor:
        if dim is None:  # over all elements; keepdim keeps every axis at size 1 (PyTorch)
            result = func().reshape((1,) * self.ndim if keepdim else ())
        else:
            result = func(axis=_dim(dim, self.ndim), keepdims=keepdim)
        return Tensor._from_op(result.astype(dtypes.int64))

    def sort(
        self,
        dim: builtins.int = -1,
        descending: builtins.bool = False,
        *,
        stable: builtins.bool = False,
    ) -> ValuesIndices:
        """Sorted values along ``dim`` and where they came from; equal values keep their order
        (``stable`` is accepted for PyTorch compatibility).

        NaN sorts as the largest value, as in PyTorch.
        """
        dim = _dim(dim, self.ndim)
        order = _stable_order(self.data, dim, descending)
        return ValuesIndices(self._take(dim, order), Tensor._from_op(order))

    def topk(
        self,
        k: builtins.int,
        dim: builtins.int = -1,
        largest: builtins.bool = True,
        sorted: builtins.bool = True,
    ) -> ValuesIndices:
        """The ``k`` largest (or smallest) values along ``dim``, in order, and their indices.

        ``sorted`` is accepted for PyTorch compatibility: the values always come sorted.
        """
        dim = _dim(dim, self.ndim)
        size = self.shape[dim] if self.ndim else 1
        if not 0 <= k <= size:
            raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {size}")
        if self.ndim:
            order = _top_order(self.data, dim, k, largest)
        else:
            order = _stable_order(self.data, dim, largest)
        return ValuesIndices(self._take(dim, order), Tensor._from_op(order))

    def _take(self, dim: builtins.int, order: Array) -> Tensor:
        return movement.Gather.apply(self, dim=dim, index=order) if self.ndim else self

    def argsort(
        self,
        dim: builtins.int = -1,
        descending: builtins.bool = False,
        stable: builtins.bool = False,
    ) -> Tensor:
        """The indices that sort the values along ``dim`` (int64, without gradient).

        Equal values always keep their order (``stable`` is accepted for PyTorch
        compatibility); NaN sorts as the largest value, as in ``sort``.
        """
        return Tensor._from_op(_stable_order(self.data, _dim(dim, self.ndim), descending))

    def unique(
        self,
        sorted: builtins.bool = True,
        return_inverse: builtins.bool = False,
        return_counts: builtins.bool = False,
        dim: builtins.int | None = None,
    ) -> Tensor | tuple[Tensor, ...]:
        """The distinct values, in ascending order (without gradient).

        Args:
            sorted: Accepted for PyTorch compatibility: the values always come sorted.
            return_inverse: Also return, for each element, the index of its value in the
                result (int64, in this tensor's shape).
            return_counts: Also return how often each value occurs (int64).
            dim: Only None (unique elements of the flattened tensor) is supported.

        Returns:
            The values, or a tuple of the values, the inverse and the counts asked for.
        """
        if dim is not None:
            raise NotImplementedError(f"unique: only dim=None is supported, got dim={dim}")
        xp = get_array_module(self.data)
        found = xp.unique(
            self.data.reshape(-1), return_inverse=return_inverse, return_counts=return_counts
        )
        if not (return_inverse or return_counts):
            return Tensor._from_op(found)
        values, *rest = found
        extra = [Tensor._from_op(a.astype(np.int64)) for a in rest]
        if return_inverse:
            extra[0] = extra[0].reshape(self.shape)
        return (Tensor._from_op(values), *extra)

    # ------------------------------------------------------------ elementwise math
    exp = _float_unary(ew.Exp, "e**x")
    log = _float_unary(ew.Log, "the natural logarithm")
    sqrt = _float_unary(ew.Sqrt, "the square root")
    sin = _float_unary(ew.Sin, "the sine")
    cos = _float_unary(ew.Cos, "the cosine")
    tanh = _float_unary(ew.Tanh, "the hyperbolic tangent")
    sigmoid = _float_unary(ew.Sigmoid, "the logistic sigmoid 1 / (1 + e**-x)")
    log1p = _float_unary(ew.Log1p, "log(1 + x), exact for small x")
    expm1 = _float_unary(ew.Expm1, "e**x - 1, exact for small x")
    reciprocal = _float_unary(ew.Reciprocal, "1 / x")
    tan = _float_unary(math_ops.Tan, "the tangent")
    asin = arcsin = _float_unary(math_ops.Asin, "the inverse sine")
    acos = arccos = _float_unary(math_ops.Acos, "the inverse cosine")
    atan = arctan = _float_unary(math_ops.Atan, "the inverse tangent")
    sinh = _float_unary(math_ops.Sinh, "the hyperbolic sine")
    cosh = _float_unary(math_ops.Cosh, "the hyperbolic cosine")
    asinh = arcsinh = _float_unary(math_ops.Asinh, "the inverse hyperbolic sine")
    acosh = arccosh = _float_unary(math_ops.Acosh, "the inverse hyperbolic cosine")
    atanh = arctanh = _float_unary(math_ops.Atanh, "the inverse hyperbolic tangent")
    log2 = _float_unary(math_ops.Log2, "the base-2 logarithm")
    log10 = _float_unary(math_ops.Log10, "the base-10 logarithm")
    exp2 = _float_unary(math_ops.Exp2, "2**x")
    erf = _float_unary(math_ops.Erf, "the error function")
    erfc = _float_unary(math_ops.Erfc, "1 - erf(x), exact for large x")
    erfinv = _float_unary(special.Erfinv, "the inverse error function (+-inf at +-1)")
    lgamma = _float_unary(special.Lgamma, "log|gamma(x)|, +inf at 0, -1, -2, ...")
    digamma = _float_unary(special.Digamma, "digamma(x) = d/dx log gamma(x)")
    i0 = _float_unary(special.I0, "the modified Bessel function of the first kind, order 0")

    def polygamma(self, n: builtins.int) -> Tensor:
        """Elementwise n-th derivative of digamma (n = 0: digamma, 1: trigamma, ...)."""
        if not isinstance(n, builtins.int) or isinstance(n, builtins.bool):
            raise TypeError(f"polygamma: n must be an int, got {type(n).__name__}")
        if not 0 <= n <= special.POLYGAMMA_MAX_ORDER:
            raise ValueError(
                f"polygamma: n must be in [0, {special.POLYGAMMA_MAX_ORDER}] (n! must fit in "
                f"float64), got {n}"
            )
        return special.Polygamma.apply(self._floating(), n=n)

    def mvlgamma(self, p: builtins.int) -> Tensor:
        """Elementwise log of the multivariate gamma function of dimension ``p``:
        ``sum_j lgamma(x - j / 2) + p (p - 1) / 4 log(pi)`` over ``j < p``, for x > (p - 1) / 2."""
        if not isinstance(p, builtins.int) or isinstance(p, builtins.bool) or p < 1:
            raise ValueError(f"mvlgamma: p must be an int >= 1, got {p!r}")
        x = self._floating()
        if (x.data <= (p - 1) / 2).any():
            raise ValueError(
                f"mvlgamma: all elements must be greater than (p - 1) / 2 = {(p - 1) / 2}"
            )
        halves = Tensor(np.arange(p) / 2, dtype=x.dtype, device=x.device)
        return (x.unsqueeze(-1) - halves).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)

    def atan2(self, other: Any) -> Tensor:
        """Elementwise angle of the point (other, self) in radians, in [-pi, pi]."""
        y, x = self._other(other)
        return math_ops.Atan2.apply(y._floating(), x._floating())

    arctan2 = atan2

    def hypot(self, other: Any) -> Tensor:
        """Elementwise sqrt(self**2 + other**2), without overflow in the squares."""
        a, b = self._other(other)
        return math_ops.Hypot.apply(a._floating(), b._floating())

    def logaddexp(self, other: Any) -> Tensor:
        """Elementwise log(exp(self) + exp(other)), without overflow."""
        a, b = self._other(other)
        return math_ops.LogAddExp.apply(a._floating(), b._floating())

    def logaddexp2(self, other: Any) -> Tensor:
        """Elementwise log2(2**self + 2**other), without overflow."""
        a, b = self._other(other)
        return math_ops.LogAddExp2.apply(a._floating(), b._floating())

    def fmax(self, other: Any) -> Tensor:
        """Elementwise maximum that ignores NaN: NaN only where both are NaN."""
        return math_ops.Fmax.apply(*self._other(other), smaller=False)

    def fmin(self, other: Any) -> Tensor:
        """Elementwise minimum that ignores NaN: NaN only where both are NaN."""
        return math_ops.Fmax.apply(*self._other(other), smaller=True)

    def float_power(self, exponent: Any) -> Tensor:
        """Elementwise self**exponent computed in float64 (the result is float64)."""
        base = self.to(dtype=dtypes.float64)
        if isinstance(exponent, Tensor):
            return base ** exponent.to(dtype=dtypes.float64)
        return base**exponent

    def ldexp(self, other: Any) -> Tensor:
        """Elementwise self * 2**other."""
        x = self._floating()
        if not isinstance(other, Tensor):
            return x * 2.0**other
        # NOTE: integer exponents in the dtype of self, so that 2**other keeps its range
        return x * (other if other.data.dtype.kind == "f" else other.to(dtype=x.dtype)).exp2()

    def frexp(self) -> MantissaExponent:
        """Mantissas in [0.5, 1) and int32 exponents with self = mantissa * 2**exponent
        (no gradient)."""
        if self.data.dtype.kind != "f":
            raise TypeError(f"frexp needs a floating-point tensor, got {self.dtype}")
        mantissa, exponent = get_array_module(self.data).frexp(self.data)
        return MantissaExponent(
            Tensor._from_op(mantissa), Tensor._from_op(exponent.astype(np.int32, copy=False))
        )

    def _integer_pair(self, other: Any, what: str) -> tuple[Array, Array]:
        a, b = self._other(other)
        if a.data.dtype.kind not in "iu":
            raise TypeError(f"{what} needs integer tensors, got {self.dtype} and {b.dtype}")
        return a.data, b.data

    def gcd(self, other: Any) -> Tensor:
        """Elementwise greatest common divisor of integers (nonnegative; gcd(0, 0) = 0)."""
        a, b = self._integer_pair(other, "gcd")
        return Tensor._from_op(get_array_module(a).gcd(a, b))

    def lcm(self, other: Any) -> Tensor:
        """Elementwise least common multiple of integers (nonnegative; 0 if either is 0)."""
        a, b = self._integer_pair(other, "lcm")
        return Tensor._from_op(get_array_module(a).lcm(a, b))

    def nextafter(self, other: Any) -> Tensor:
        """The next floating-point value after self toward ``other``, elementwise
        (no gradient)."""
        a, b = self._other(other)
        if a.data.dtype.kind != "f":
            raise TypeError(
                f"nextafter needs floating-point tensors, got {self.dtype} and {b.dtype}"
            )
        return Tensor._from_op(get_array_module(a.data).nextafter(a.data, b.data))

    def remainder(self, other: Any) -> Tensor:
        """Elementwise remainder of the division by ``other``, with the sign of ``other``
        (Python's ``%``; ``fmod`` keeps the sign of self)."""
        a, b = self._other(other)
        _check_integer_divisor(a, b, "remainder")
        return math_ops.Remainder.apply(a, b, truncate=False)

    def fmod(self, other: Any) -> Tensor:
        """Elementwise remainder of the division by ``other``, with the sign of self (C's fmod)."""
        a, b = self._other(other)
        _check_integer_divisor(a, b, "fmod")
        return math_ops.Remainder.apply(a, b, truncate=True)

    def __mod__(self, other: Any) -> Tensor:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Tensor:
        a, b = self._other(other)
        return b.remainder(a)

    def floor_divide(self, other: Any) -> Tensor:
        """Elementwise division rounded down (Python's ``//``; no gradient, as in PyTorch)."""
        a, b = self._other(other)
        _check_integer_divisor(a, b, "floor_divide")
        return Tensor._from_op(get_array_module(a.data).floor_divide(a.data, b.data))

    def __floordiv__(self, other: Any) -> Tensor:
        return self.floor_divide(other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        a, b = self._other(other)
        return b.floor_divide(a)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """Linear interpolation ``self + weight * (end - self)`` (``weight`` a number or tensor)."""
        return self + weight * (end - self)

    def clamp_min(self, min: Scalar) -> Tensor:
        """Limit values from below: ``clamp(min=min)``."""
        return self.clamp(min=min)

    def clamp_max(self, max: Scalar) -> Tensor:
        """Limit values from above: ``clamp(max=max)``."""
        return self.clamp(max=max)

    def nan_to_num(
        self,
        nan: builtins.float = 0.0,
        posinf: builtins.float | None = None,
        neginf: builtins.float | None = None,
    ) -> Tensor:
        """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and
        the dtype's largest and smallest finite values); the replaced elements get no gradient."""
        xp = get_array_module(self.data)
        if self.data.dtype.kind != "f":
            return self
        filled = xp.nan_to_num(self.data, nan=nan, posinf=posinf, neginf=neginf)
        finite = Tensor._from_op(xp.isfinite(self.data))
        return ew.Where.apply(finite, self, Tensor._from_op(filled))

    def where(self, condition: Any, other: Any) -> Tensor:
        """Elements of self where ``condition`` is True, else of ``other`` (``ac.where``)."""
        if not isinstance(condition, Tensor):
            condition = Tensor(condition, device=self.device)
        if condition.data.dtype != dtypes.bool_:
            condition = condition.bool()
        return ew.Where.apply(condition, *self._other(other))

    def logit(self, eps: builtins.float | None = None) -> Tensor:
        """Elementwise log(p / (1 - p)), with p clamped to [eps, 1 - eps] if ``eps`` is given."""
        p = self._floating() if eps is None else self._floating().clamp(eps, 1 - eps)
        # NOTE: not log(p / (1 - p)), whose slope at 0 and 1 was NaN (inf * 0), not inf
        return p.log() - (-p).log1p()

    def xlogy(self, other: Any) -> Tensor:
        """Elementwise self * log(other), and 0 where self is 0 (whatever other is there);
        the gradient in self is log(other) also where self is 0, as in PyTorch."""
        a, b = self._other(other)
        a, b = a._floating(), b._floating()
        # NOTE: log(1) only where self is 0 and log(other) is not finite, so that neither the
        # value nor a gradient is NaN there
        return a * b.where((a != 0) | ((b > 0) & (b < math.inf)), 1.0).log()

    def sinc(self) -> Tensor:
        """Elementwise sin(pi x) / (pi x), and 1 at 0."""
        angle = self._floating() * math.pi
        # NOTE: Taylor's series of sin(a) / a where |a| < 1/2 (to 1e-16): the quotient's
        # slope cos(a) / a - sin(a) / a**2 loses digits near 0, all of them for a**2 below
        # the smallest float (NaN at subnormal x), and 0 / 0 at 0 is NaN. Each branch gets
        # harmless values where the other is taken, lest their slopes be NaN there.
        near = angle.abs() < 0.5
        square = angle.where(near, 0.0) ** 2
        series = square * _SINC_SERIES[-1]
        for coefficient in _SINC_SERIES[-2::-1]:
            series = (series + coefficient) * square
        far = angle.where(~near, 1.0)
        return (far.sin() / far).where(~near, series + 1.0)

    def deg2rad(self) -> Tensor:
        """Degrees converted to radians."""
        return self._floating() * (math.pi / 180)

    def rad2deg(self) -> Tensor:
        """Radians converted to degrees."""
        return self._floating() * (180 / math.pi)

    def copysign(self, other: Any) -> Tensor:
        """The magnitude of self with the sign (bit) of ``other``, elementwise."""
        a, b = self._other(other)
        magnitude = a._floating().abs()
        return (-magnitude).where(b.signbit(), magnitude)

    def frac(self) -> Tensor:
        """The fractional part, self - trunc(self), with the sign of self."""
        return self - self.trunc()

    def signbit(self) -> Tensor:
        """Whether each element's sign bit is set (True for -0.0), as a bool tensor."""
        return Tensor._from_op(get_array_module(self.data).signbit(self.data))

    def heaviside(self, values: Any) -> Tensor:
        """0 where self < 0, 1 where self > 0 and ``values`` where self is 0 (no gradient)."""
        a, b = self._other(values)
        step = get_array_module(a.data).heaviside(a.data, b.data)
        return Tensor._from_op(step.astype(a.data.dtype, copy=False))  # NumPy: float64 of ints

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        """self + value * tensor1 * tensor2."""
        return self + value * tensor1 * tensor2

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        """self + value * tensor1 / tensor2."""
        return self + value * tensor1 / tensor2

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1) -> Tensor:
        """beta * self + alpha * (mat1 @ mat2), for 2-D ``mat1`` and ``mat2``; with beta = 0,
        self is ignored (its NaN and inf do not propagate)."""
        return _add_scaled("addmm", self, mat1.mm(mat2), beta, alpha)

    def mv(self, vec: Tensor) -> Tensor:
        """Product of a matrix (2-D) and a vector (1-D)."""
        if self.ndim != 2 or vec.ndim != 1:
            raise ValueError(
                f"mv needs a 2-D and a 1-D tensor, got shapes {self.shape} and {vec.shape}"
            )
        return self.matmul(vec)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1) -> Tensor:
        """beta * self + alpha * (mat @ vec), for a 2-D ``mat`` and a 1-D ``vec``."""
        return _add_scaled("addmv", self, mat.mv(vec), beta, alpha)

    def addr(self, vec1: Tensor, vec2: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1) -> Tensor:
        """beta * self + alpha * outer(vec1, vec2), for 1-D ``vec1`` and ``vec2``."""
        if vec1.ndim != 1 or vec2.ndim != 1:
            raise ValueError(
                f"addr needs two 1-D tensors, got shapes {vec1.shape} and {vec2.shape}"
            )
        return _add_scaled("addr", self, vec1.unsqueeze(1) * vec2.unsqueeze(0), beta, alpha)

    def baddbmm(
        self, batch1: Tensor, batch2: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1
    ) -> Tensor:
        """beta * self + alpha * (batch1 @ batch2), for (B, n, k) and (B, k, m) batches."""
        return _add_scaled("baddbmm", self, batch1.bmm(batch2), beta, alpha)

    def addbmm(
        self, batch1: Tensor, batch2: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1
    ) -> Tensor:
        """beta * self + alpha * the sum over the batch of batch1[b] @ batch2[b], for (B, n, k)
        and (B, k, m) batches."""
        if (
            batch1.ndim != 3
            or batch2.ndim != 3
            or batch1.shape[0] != batch2.shape[0]
            or batch1.shape[2] != batch2.shape[1]
        ):
            raise ValueError(
                "addbmm needs (B, n, k) and (B, k, m) batches, got shapes "
                f"{batch1.shape} and {batch2.shape}"
            )
        product = linalg.Einsum.apply(*batch1._other(batch2), subscripts="bij,bjk->ik")
        return _add_scaled("addbmm", self, product, beta, alpha)

    def inner(self, other: Tensor) -> Tensor:
        """Sum of products over the last axes of both: the shape is
        ``self.shape[:-1] + other.shape[:-1]``; a 0-D operand multiplies."""
        a, b = self._other(other)
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        if a.shape[-1] != b.shape[-1]:
            raise ValueError(f"inner: the last sizes of shapes {a.shape} and {b.shape} differ")
        letters = "abcdefghijklmnopqrstuvwxy"
        spec_a, spec_b = letters[: a.ndim - 1], letters[a.ndim - 1 : a.ndim + b.ndim - 2]
        subscripts = f"{spec_a}z,{spec_b}z->{spec_a}{spec_b}"
        return linalg.Einsum.apply(a, b, subscripts=subscripts)

    def vdot(self, other: Tensor) -> Tensor:
        """The dot product of two 1-D tensors of one length (the first conjugated; real here)."""
        if self.ndim != 1 or other.ndim != 1 or self.shape != other.shape:
            raise ValueError(
                f"vdot needs two 1-D tensors of one length, got {self.shape} and {other.shape}"
            )
        return self.matmul(other)

    def kron(self, other: Tensor) -> Tensor:
        """The Kronecker product: blocks ``self[i] * other`` (shapes padded with leading 1s to
        one number of axes; each size of the result is the product of the two)."""
        a, b = self._other(other)
        ndim = builtins.max(a.ndim, b.ndim)
        shape_a = (1,) * (ndim - a.ndim) + a.shape
        shape_b = (1,) * (ndim - b.ndim) + b.shape
        spread_a = [n for size in shape_a for n in (size, 1)]
        spread_b = [n for size in shape_b for n in (1, size)]
        product = a.reshape(spread_a) * b.reshape(spread_b)
        return product.reshape([m * n for m, n in zip(shape_a, shape_b, strict=True)])

    def logical_not(self) -> Tensor:
        """Elementwise NOT of the truth values (nonzero is True), as a bool tensor."""
        return Tensor._from_op(get_array_module(self.data).logical_not(self.data))

    def logical_and(self, other: Any) -> Tensor:
        """Elementwise AND of the truth values (nonzero is True), as a bool tensor."""
        return self._compare(other, np.logical_and)

    def logical_or(self, other: Any) -> Tensor:
        """Elementwise OR of the truth values (nonzero is True), as a bool tensor."""
        return self._compare(other, np.logical_or)

    def logical_xor(self, other: Any) -> Tensor:
        """Elementwise XOR of the truth values (nonzero is True), as a bool tensor."""
        return self._compare(other, np.logical_xor)

    def rsqrt(self) -> Tensor:
        """Elementwise 1 / sqrt(x)."""
        return self.sqrt().reciprocal()

    def neg(self) -> Tensor:
        return ew.Neg.apply(self)

    negative = neg

    def _step(self, function: str) -> Tensor:
        return ew.Step.apply(self, function=function) if self.data.dtype.kind == "f" else self

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element (gradient 0)."""
        return ew.Step.apply(self, function="sign")

    sgn = sign  # for real tensors, the sign

    def floor(self) -> Tensor:
        """Round down (gradient 0; integer tensors come back as they are)."""
        return self._step("floor")

    def ceil(self) -> Tensor:
        """Round up (gradient 0; integer tensors come back as they are)."""
        return self._step("ceil")

    def round(self, decimals: builtins.int = 0) -> Tensor:
        """Round to ``decimals`` decimal places (negative: to tens, hundreds, ...), halves to
        even as in PyTorch (gradient 0)."""
        if decimals == 0 or self.data.dtype.kind != "f":
            return self._step("round")
        if decimals > 0:  # the way PyTorch computes it, for the same float32 results
            return (self * 10.0**decimals)._step("round") / 10.0**decimals
        return (self / 10.0**-decimals)._step("round") * 10.0**-decimals

    def trunc(self) -> Tensor:
        """Round toward zero (gradient 0; integer tensors come back as they are)."""
        return self._step("trunc")

    def isnan(self) -> Tensor:
        return Tensor._from_op(get_array_module(self.data).isnan(self.data))

    def isinf(self) -> Tensor:
        return Tensor._from_op(get_array_module(self.data).isinf(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._from_op(get_array_module(self.data).isfinite(self.data))

    def abs(self) -> Tensor:
        return ew.Abs.apply(self)

    absolute = __abs__ = abs

    def relu(self) -> Tensor:
        return ew.ReLU.apply(self)

    def square(self) -> Tensor:
        return (self.long() if self.data.dtype == dtypes.bool_ else self) ** 2

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit values to ``[min, max]``: numbers, or tensors that broadcast (and get the
        gradient where they limit). Either bound may be None; where ``min > max`` the
        result is ``max``, as in PyTorch."""
        if min is None and max is None:
            raise ValueError("clamp needs at least one of min and max")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            result = self
            if min is not None:
                result = result.where(~(result < min), min)  # NOTE: NaN stays NaN
            if max is not None:
                result = result.where(~(result > max), max)
            return result
        x = self
        if isinstance(min, builtins.float) or isinstance(max, builtins.float):
            x = self._floating()  # Python floats do not widen a float tensor, nor an int one
        return ew.Clamp.apply(x, min=min, max=max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return ew.Maximum.apply(*self._other(other))

    def minimum(self, other: Any) -> Tensor:
        return ew.Minimum.apply(*self._other(other))

    def masked_fill(self, mask: Any, value: Scalar) -> Tensor:
        """Replace the values where ``mask`` (broadcast to this shape) is True by ``value``."""
        if not isinstance(mask, Tensor):
            mask = Tensor(mask, device=self.device)
        if mask.data.dtype != dtypes.bool_:
            mask = mask.bool()
        me, fill = self._other(value)
        if fill.data.dtype != self.data.dtype:  # the result keeps this dtype, as in PyTorch
            me, fill = self, fill.to(dtype=self.data.dtype)
        return ew.Where.apply(mask, fill, me)

    def _floating(self) -> Tensor:
        """This tensor, or for an integer or bool one its values in the default float dtype."""
        return self if self.data.dtype.kind == "f" else self.to(dtype=dtypes.get_default_dtype())

    # ---------------------------------------------------------------- reductions
    def sum(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        """Sum over ``dim``; integer and bool tensors sum as int64, as in PyTorch."""
        x = self.long() if self.data.dtype.kind == "u" else self  # NumPy: uint64
        return reduce.Sum.apply(x, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        return reduce.Mean.apply(self._floating(), dim=_dims(dim, self.ndim), keepdim=keepdim)

    @float16_in_float32
    def var(
        self,
        dim: Dim | builtins.bool = None,
        correction: builtins.int = 1,
        keepdim: builtins.bool = False,
        *,
        unbiased: builtins.bool | None = None,
    ) -> Tensor:
        """Variance over ``dim``, divided by ``N - correction`` (1: unbiased, like PyTorch).

        As in PyTorch, ``unbiased`` (or a bool in place of ``dim``: ``x.var(False)``) sets
        ``correction`` to 1 or 0.
        """
        dim, correction = _variance_args(dim, correction, unbiased)
        return reduce.Var.apply(
            self._floating(), dim=_dims(dim, self.ndim), keepdim=keepdim, correction=correction
        )

    @float16_in_float32
    def std(
        self,
        dim: Dim | builtins.bool = None,
        correction: builtins.int = 1,
        keepdim: builtins.bool = False,
        *,
        unbiased: builtins.bool | None = None,
    ) -> Tensor:
        """Standard deviation: the square root of ``var`` (same arguments); its gradient is
        0 where it is 0."""
        dim, correction = _variance_args(dim, correction, unbiased)
        return reduce.Std.apply(
            self._floating(), dim=_dims(dim, self.ndim), keepdim=keepdim, correction=correction
        )

    def amax(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        """Largest values over ``dim`` (an int, a tuple, or None for all): ties share the
        gradient."""
        return reduce.Max.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        """Smallest values over ``dim`` (an int, a tuple, or None for all)."""
        return reduce.Min.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The largest value, as in PyTorch: ``x.max()`` is a tensor (ties share the
        gradient); ``x.max(dim)`` gives ``(values, indices)`` along an int ``dim``, and the
        gradient goes to the element picked; ``x.max(other)`` is ``maximum``. A tuple of
        dims gives the values, as ``amax``."""
        return self._extreme(dim, keepdim, largest=True)

    def min(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The smallest value; see ``max`` for the forms."""
        return self._extreme(dim, keepdim, largest=False)

    def _extreme(self, dim: Any, keepdim: builtins.bool, largest: builtins.bool) -> Any:
        if isinstance(dim, Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        if not isinstance(dim, builtins.int):
            return self.amax(dim, keepdim) if largest else self.amin(dim, keepdim)
        dim = _dim(dim, self.ndim)
        if self.ndim == 0:
            return ValuesIndices(self, Tensor._from_op(np.zeros((), np.int64)))
        find = self.data.argmax if largest else self.data.argmin
        indices = find(axis=dim, keepdims=True).astype(np.int64)
        values = movement.Gather.apply(self, dim=dim, index=indices)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return ValuesIndices(values, Tensor._from_op(indices))

    def prod(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        """Product over ``dim`` (all elements if None); integer and bool tensors multiply as
        int64, as in PyTorch. Inputs with zeros get PyTorch's gradient."""
        x = self if self.data.dtype.kind == "f" else self.long()
        axis = None if dim is None else _dim(dim, self.ndim)
        return reduce.Prod.apply(x, dim=axis, keepdim=keepdim)

    def cumprod(self, dim: builtins.int) -> Tensor:
        """Running products along ``dim`` (integer and bool tensors as int64, as in PyTorch)."""
        x = self if self.data.dtype.kind == "f" else self.long()
        if self.ndim == 0:
            return x.reshape(1).cumprod(_dim(dim, 0)).reshape(())
        return reduce.CumProd.apply(x, dim=_dim(dim, self.ndim))

    def kthvalue(
        self, k: builtins.int, dim: builtins.int = -1, keepdim: builtins.bool = False
    ) -> ValuesIndices:
        """The ``k``-th smallest value along ``dim`` (k counts from 1) and its index.

        The value carries the gradient to the element picked; of equal values, the first
        in sorted (stable) order is picked, and NaN counts as the largest value.
        """
        return self._kth(k, dim, keepdim, nan_wins=False)

    def median(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Any:
        """The median, PyTorch style: the lower of the two middle values for an even count,
        and NaN (the first one) where there is a NaN.

        ``x.median()`` is a 0-d tensor over all elements; ``x.median(dim)`` gives
        ``(values, indices)`` along ``dim``. The gradient goes to the element picked.
        """
        if dim is None:
            if self.numel() == 0:
                raise ValueError("median() of an empty tensor has no value")
            flat = self.reshape(-1)
            return flat._kth((flat.shape[0] + 1) // 2, 0, False, nan_wins=True).values
        size = self.shape[_dim(dim, self.ndim)] if self.ndim else 1
        return self._kth((size + 1) // 2, dim, keepdim, nan_wins=True)

    def _kth(
        self, k: builtins.int, dim: builtins.int, keepdim: builtins.bool, nan_wins: builtins.bool
    ) -> ValuesIndices:
        what = "median" if nan_wins else "kthvalue"
        dim = _dim(dim, self.ndim)
        size = self.shape[dim] if self.ndim else 1
        if not 1 <= k <= size:
            raise ValueError(f"{what}: k={k} is out of range for dim {dim} of size {size}")
        if self.ndim == 0:
            return ValuesIndices(self, Tensor._from_op(np.zeros((), np.int64)))
        order = _stable_order(self.data, dim, False)
        indices = order[(slice(None),) * dim + (slice(k - 1, k),)]
        if nan_wins and self.data.dtype.kind == "f":
            xp = get_array_module(self.data)
            nans = xp.isnan(self.data)
            first = nans.argmax(axis=dim, keepdims=True)
            indices = xp.where(nans.any(axis=dim, keepdims=True), first, indices)
        values = movement.Gather.apply(self, dim=dim, index=indices)
        if not keepdim:
            return ValuesIndices(values.squeeze(dim), Tensor._from_op(indices).squeeze(dim))
        return ValuesIndices(values, Tensor._from_op(indices))

    def count_nonzero(self, dim: Dim = None) -> Tensor:
        """The number of non-zero elements over ``dim`` (all if None), as int64."""
        xp = get_array_module(self.data)
        counts = xp.count_nonzero(self.data, axis=_dims(dim, self.ndim))
        return Tensor._from_op(xp.asarray(counts, dtype=np.int64))

    def cumsum(self, dim: builtins.int) -> Tensor:
        """Running sums along ``dim`` (integer and bool tensors sum as int64, as in PyTorch)."""
        x = self if self.data.dtype.kind == "f" else self.long()
        if self.ndim == 0:
            return x.reshape(1).cumsum(_dim(dim, 0)).reshape(())
        return reduce.CumSum.apply(x, dim=_dim(dim, self.ndim))

    def logsumexp(self, dim: Dim, keepdim: builtins.bool = False) -> Tensor:
        """``log(sum(exp(x)))`` over ``dim``, computed without overflow."""
        x = self._floating()
        if x.numel() == 0:  # an empty sum: log(0) = -inf, as in PyTorch
            with np.errstate(divide="ignore"):
                return x.exp().sum(dim=dim, keepdim=keepdim).log()
        top = x.amax(dim, keepdim=True).detach()
        top.data[~get_array_module(top.data).isfinite(top.data)] = 0  # all ±inf: no shift
        out = (x - top).exp().sum(dim=dim, keepdim=True).log() + top
        return out if keepdim else out.squeeze(dim)

    @float16_in_float32
    def norm(
        self, p: builtins.float | str = 2, dim: Dim = None, keepdim: builtins.bool = False
    ) -> Tensor:
        """Vector p-norm ``(sum |x|^p)^(1/p)`` over ``dim`` (all elements if None): ``p`` is
        any number, ``inf`` (``max |x|``), ``-inf`` (``min |x|``), 0 (the count of nonzero
        elements) or ``"fro"`` (= 2). As in PyTorch, the gradient is 0 where a norm is 0 and,
        for p < 1, at zero elements (not the NaN of the formula)."""
        x, dims = self._floating(), _dims(dim, self.ndim)
        if p in (2, "fro"):
            return reduce.Norm.apply(x, dim=dims, keepdim=keepdim)
        if isinstance(p, str):
            raise ValueError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r}")
        if p == math.inf:
            return x.abs().amax(dims, keepdim)
        if p == -math.inf:
            return x.abs().amin(dims, keepdim)
        if p == 0:  # NOTE: through sign, so that the count has a (zero) gradient
            return x.sign().abs().sum(dims, keepdim)
        if p == 1:
            return x.abs().sum(dims, keepdim)
        return _power_norm(x, p, dims, keepdim)

    @float16_in_float32
    def softmax(self, dim: builtins.int = -1) -> Tensor:
        return reduce.Softmax.apply(self._floating(), dim=_dim(dim, self.ndim))

    def log_softmax(self, dim: builtins.int = -1) -> Tensor:
        return reduce.LogSoftmax.apply(self._floating(), dim=_dim(dim, self.ndim))

    # --------------------------------------------------------------- movement
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape; one size may be -1."""
        shape = _shape_args(shape)
        old = self.data.shape
        if shape != old:
            shape = _resolve_shape(shape, old)
            if shape != old:
                return movement.Reshape.apply(self, shape=shape)
        return self

    def view(self, *shape: Any) -> Tensor:
        """``reshape`` that must not copy, as in PyTorch: a view shares this tensor's memory,
        and a layout that cannot be read in the new shape without a copy (a transpose,
        say) is refused; ``reshape`` copies then."""
        result = self.reshape(*shape)
        if (
            result is not self
            and result.data.size
            and not self.data.flags.c_contiguous
            and not get_array_module(self.data).may_share_memory(result.data, self.data)
        ):
            raise RuntimeError(
                f"view: a tensor of shape {self.shape} with strides {self.data.strides} cannot "
                f"be viewed as {result.shape} without a copy; use reshape"
            )
        return result

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor:
        """Merge the axes ``start_dim..end_dim`` into one."""
        start, end = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        size = math.prod(self.shape[start : end + 1])
        return self.reshape((*self.shape[:start], size, *self.shape[end + 1 :]))

    def unflatten(self, dim: builtins.int, sizes: Sequence[builtins.int]) -> Tensor:
        """Split axis ``dim`` into several with the given sizes."""
        dim %= self.ndim
        return self.reshape((*self.shape[:dim], *sizes, *self.shape[dim + 1 :]))

    def squeeze(self, dim: Dim = None) -> Tensor:
        """Remove axes of size 1 (only those in ``dim`` if given; others stay, as in PyTorch)."""
        dims = range(self.ndim) if dim is None else _dims(dim, self.ndim) or ()
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        """Insert an axis of size 1 at ``dim``."""
        dim = _dim(dim, self.ndim + 1)
        return self.reshape((*self.shape[:dim], 1, *self.shape[dim:]))

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the axes."""
        dims = tuple(_dim(d, self.ndim) for d in _shape_args(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute needs a permutation of {self.ndim} axes, got {dims}")
        return movement.Permute.apply(self, dims=dims)

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 dimensions, as in PyTorch."""
        if self.ndim > 2:
            raise ValueError(f"t() needs at most 2 dimensions, got shape {self.shape}")
        return self.transpose(0, -1) if self.ndim == 2 else self

    def transpose(self, dim0: builtins.int = -2, dim1: builtins.int = -1) -> Tensor:
        """Swap two axes."""
        dim0, dim1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        dims = list(range(self.ndim))
        if dims:  # a 0-d tensor has nothing to swap
            dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return movement.Permute.apply(self, dims=tuple(dims))

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to a larger shape without copying; -1 keeps a size."""
        shape = _shape_args(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"cannot expand shape {self.shape} to fewer dimensions {shape}")
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise ValueError(f"cannot expand shape {self.shape} to {shape}") from None
        return movement.Expand.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def __getitem__(self, key: Any) -> Tensor:
        key = _index_key(key, self)
        split = _integers_first(key)
        if split is not None:
            return movement.Index.apply(movement.Index.apply(self, key=split[0]), key=split[1])
        return movement.Index.apply(self, key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_inplace("item assignment", value)
        key, target = _index_key(key, self), self.data
        split = _integers_first(key)
        if split is not None:
            target, key = target[split[0]], split[1]  # a view: the write lands in self
        target[key] = value.data if isinstance(value, Tensor) else value

    def split(
        self, split_size: builtins.int | Sequence[builtins.int], dim: builtins.int = 0
    ) -> tuple[Tensor, ...]:
        """Cut along ``dim`` into pieces of ``split_size`` or of the given ``sizes``."""
        dim = _dim(dim, self.ndim)
        length = self.shape[dim]
        if isinstance(split_size, builtins.int):
            if split_size <= 0:
                raise ValueError(f"split_size must be positive, got {split_size}")
            sizes = [split_size] * (length // split_size) + (
                [length % split_size] if length % split_size else []
            )
        else:
            sizes = list(split_size)
            if sum(sizes) != length:
                raise ValueError(
                    f"split sizes {sizes} do not add up to the size {length} of dim {dim}"
                )
        prefix = (slice(None),) * (dim % self.ndim)
        pieces, start = [], 0
        for size in sizes:
            key = (*prefix, slice(start, start + size))
            pieces.append(self[key])
            start += size
        return tuple(pieces)

    def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """Cut along ``dim`` into ``chunks`` nearly equal pieces (as PyTorch does)."""
        if chunks <= 0:
            raise ValueError(f"chunk needs a positive number of chunks, got {chunks}")
        dim = _dim(dim, self.ndim)
        return self.split(max(math.ceil(self.shape[dim] / chunks), 1), dim)

    def unbind(self, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, with that axis removed."""
        before = (slice(None),) * _dim(dim, self.ndim)
        keys = ((*before, i) for i in range(self.shape[dim]))
        return tuple(self[key] for key in keys)

    def gather(self, dim: builtins.int, index: Any) -> Tensor:
        """Values picked along ``dim`` by ``index``: ``out[i][j] = x[i][index[i][j]]`` for dim 1.

        ``index`` is an integer tensor with as many axes as this one; along the other axes it
        may be shorter (the leading part of each is used, as in PyTorch).
        """
        index = index.data if isinstance(index, Tensor) else np.asarray(index)
        if self.ndim == 0:
            raise ValueError("gather needs a tensor with at least one axis, got shape ()")
        dim = _dim(dim, self.ndim)
        shape = tuple(index.shape)
        if index.dtype.kind not in "iu":
            raise TypeError(f"gather needs an integer index, got dtype {index.dtype}")
        if len(shape) != self.ndim:
            raise ValueError(
                f"gather needs an index with as many axes as the input of shape {self.shape}, "
                f"got shape {shape}"
            )
        others = [
            (n, m) for d, (n, m) in enumerate(zip(shape, self.shape, strict=True)) if d != dim
        ]
        if any(n > m for n, m in others):
            raise ValueError(
                f"gather: index of shape {shape} is larger than the input of shape "
                f"{self.shape} outside dim {dim}"
            )
        if index.size:
            values = movement.distinct_values(index)
            low, high = int(values.min()), int(values.max())
            if low < 0 or high >= self.shape[dim]:
                raise IndexError(
                    f"gather: index {low if low < 0 else high} is out of bounds for dim {dim} "
                    f"of size {self.shape[dim]}"
                )
        if type(index) is not type(self.data):
            index = move_array(index, self.device)
        return movement.Gather.apply(self, dim=dim, index=index)

    def index_select(self, dim: builtins.int, index: Any) -> Tensor:
        """The slices at ``index`` (1-D integers; repeats allowed) along ``dim``."""
        index = index.data if isinstance(index, Tensor) else np.asarray(index)
        if index.ndim != 1 or index.dtype.kind not in "iu":
            raise ValueError(
                f"index_select needs a 1-D integer index, got dtype {index.dtype} and shape "
                f"{tuple(index.shape)}"
            )
        if type(index) is not type(self.data):
            index = move_array(index, self.device)
        key = (*(slice(None),) * _dim(dim, self.ndim), index)
        return self[key]

    def masked_select(self, mask: Any) -> Tensor:
        """The elements where ``mask`` (broadcast with this tensor) is True, as a 1-D tensor."""
        mask = mask if isinstance(mask, Tensor) else Tensor(mask, device=self.device)
        shape = np.broadcast_shapes(self.shape, mask.shape)
        source = self if self.shape == shape else self.expand(shape)
        return source[mask.expand(shape).bool() if mask.shape != shape else mask.bool()]

    def _index_array(self, index: Any, what: str) -> Array:
        """``index`` as an integer array on this tensor's device."""
        index = index.data if isinstance(index, Tensor) else np.asarray(index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"{what} needs an integer index, got dtype {index.dtype}")
        if type(index) is not type(self.data):
            index = move_array(index, self.device)
        return index

    def _scatter_args(self, dim: builtins.int, index: Any, src: Any, what: str) -> Any:
        """Check the arguments of ``scatter`` and ``scatter_add``: the axis, the index on this
        tensor's device, and src as a tensor of the index's shape in this dtype."""
        index = self._index_array(index, what)
        if self.ndim == 0:
            raise ValueError(f"{what} needs a tensor with at least one axis, got shape ()")
        dim, shape = _dim(dim, self.ndim), tuple(index.shape)
        if len(shape) != self.ndim:
            raise ValueError(
                f"{what} needs an index with as many axes as the input of shape {self.shape}, "
                f"got shape {shape}"
            )
        if any(n > m for d, (n, m) in enumerate(zip(shape, self.shape, strict=True)) if d != dim):
            raise ValueError(
                f"{what}: index of shape {shape} is larger than the input of shape "
                f"{self.shape} outside dim {dim}"
            )
        if index.size:
            values = movement.distinct_values(index)
            low, high = builtins.int(values.min()), builtins.int(values.max())
            if low < 0 or high >= self.shape[dim]:
                raise IndexError(
                    f"{what}: index {low if low < 0 else high} is out of bounds for dim {dim} "
                    f"of size {self.shape[dim]}"
                )
        if not isinstance(src, Tensor):
            xp = get_array_module(self.data)
            return dim, index, Tensor._from_op(xp.full(shape, src, dtype=self.data.dtype))
        if src.data.dtype != self.data.dtype:
            raise TypeError(f"{what} needs src of the input's dtype {self.dtype}, got {src.dtype}")
        if src.ndim != self.ndim or any(n > m for n, m in zip(shape, src.shape, strict=True)):
            raise ValueError(
                f"{what}: index of shape {shape} is larger than src of shape {src.shape}"
            )
        if src.shape != shape:
            src = src[tuple(slice(n) for n in shape)]
        return dim, index, src

    def scatter(self, dim: builtins.int, index: Any, src: Any = None, value: Any = None) -> Tensor:
        """A copy with ``out[i][index[i][j]] = src[i][j]`` for dim 1 (out of place).

        Args:
            dim: The axis that ``index`` points along.
            index: Integer tensor with as many axes as this one, no larger than ``src``
                anywhere nor than this tensor outside ``dim``; where it repeats a place,
                which value lands there is not specified (as in PyTorch).
            src: The values to write (a tensor of this dtype, or a number), or None to
                write ``value``.
            value: A number to write, as PyTorch's ``scatter(dim, index, value)``.

        The gradient of this tensor is 0 at the places written; ``src`` gets the gradient
        read back at ``index``.
        """
        if (src is None) == (value is None):
            raise TypeError("scatter needs exactly one of src and value")
        dim, index, src = self._scatter_args(dim, index, value if src is None else src, "scatter")
        return movement.Scatter.apply(self, src, dim=dim, index=index)

    def scatter_add(self, dim: builtins.int, index: Any, src: Tensor) -> Tensor:
        """A copy with ``out[i][index[i][j]] += src[i][j]`` for dim 1; repeats accumulate.

        Args:
            dim: The axis that ``index`` points along.
            index: As for ``scatter``.
            src: The values to add, a tensor of this dtype.
        """
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_add needs src as a Tensor, got {type(src).__name__}")
        dim, index, src = self._scatter_args(dim, index, src, "scatter_add")
        return movement.ScatterAdd.apply(self, src, dim=dim, index=index)

    def index_add(self, dim: builtins.int, index: Any, source: Tensor, alpha: Scalar = 1) -> Tensor:
        """A copy with ``alpha * source[..., i, ...]`` added at ``[..., index[i], ...]``.

        Args:
            dim: The axis that ``index`` points along.
            index: 1-D integers, one for each slice of ``source`` along ``dim``; repeats
                accumulate.
            source: A tensor of this dtype and shape except along ``dim``.
            alpha: The factor for ``source``.
        """
        dim = _dim(dim, self.ndim)
        index = self._along_index(dim, index, source.shape, "index_add")
        return self.scatter_add(dim, index, source * alpha if alpha != 1 else source)

    def take_along_dim(self, indices: Any, dim: builtins.int | None = None) -> Tensor:
        """Values picked along ``dim`` by ``indices`` (broadcast with this tensor outside
        ``dim``), as ``numpy.take_along_axis``; of the flattened tensor if ``dim`` is None."""
        index = self._index_array(indices, "take_along_dim")
        if dim is None:
            return self.reshape(-1).take_along_dim(index.reshape(-1), 0)
        dim = _dim(dim, self.ndim)
        if index.ndim != self.ndim:
            raise ValueError(
                f"take_along_dim needs indices with as many axes as the input of shape "
                f"{self.shape}, got shape {tuple(index.shape)}"
            )
        try:
            shape = [
                m if d == dim else np.broadcast_shapes((m,), (n,))[0]
                for d, (m, n) in enumerate(zip(self.shape, index.shape, strict=True))
            ]
        except ValueError:
            raise ValueError(
                f"take_along_dim: indices of shape {tuple(index.shape)} do not broadcast with "
                f"the input of shape {self.shape} outside dim {dim}"
            ) from None
        source = self.expand((*shape[:dim], self.shape[dim], *shape[dim + 1 :]))
        xp = get_array_module(index)
        if index.size and index.min() < 0:  # from the end, as in PyTorch
            if index.min() < -self.shape[dim]:
                raise IndexError(
                    f"take_along_dim: index {int(index.min())} is out of range for dim {dim} "
                    f"of size {self.shape[dim]}"
                )
            index = xp.where(index < 0, index + self.shape[dim], index)
        return source.gather(
            dim, xp.broadcast_to(index, (*shape[:dim], index.shape[dim], *shape[dim + 1 :]))
        )

    def movedim(self, source: Dim, destination: Dim) -> Tensor:
        """Move the axes ``source`` (an int or a sequence) to ``destination``; the others keep
        their order."""
        sources, targets = _dims(source, self.ndim) or (), _dims(destination, self.ndim) or ()
        if (
            len(sources) != len(targets)
            or len(set(sources)) != len(sources)
            or len(set(targets)) != len(targets)
        ):
            raise ValueError(
                f"movedim needs as many distinct source as destination dims, got {source} "
                f"and {destination}"
            )
        order = [d for d in range(self.ndim) if d not in sources]
        for target, moved in sorted(zip(targets, sources, strict=True)):
            order.insert(target, moved)
        return self.permute(order) if self.ndim else self

    moveaxis = movedim

    def swapaxes(self, axis0: builtins.int, axis1: builtins.int) -> Tensor:
        """Swap two axes (as ``transpose``)."""
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        """Swap two axes (as ``transpose``)."""
        return self.transpose(dim0, dim1)

    def narrow(self, dim: builtins.int, start: builtins.int, length: builtins.int) -> Tensor:
        """The ``length`` elements from ``start`` (negative: from the end) along ``dim``."""
        dim = _dim(dim, self.ndim)
        size = self.shape[dim]
        if not -size <= start <= size:
            raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {size}")
        start %= builtins.max(size, 1)
        if length < 0 or start + length > size:
            raise ValueError(
                f"narrow: start {start} + length {length} exceeds the size {size} of dim {dim}"
            )
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    def view_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def diff(
        self,
        n: builtins.int = 1,
        dim: builtins.int = -1,
        prepend: Tensor | None = None,
        append: Tensor | None = None,
    ) -> Tensor:
        """The ``n``-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]`` for
        n = 1 (for bool tensors, whether they differ).

        Args:
            n: How often to take the difference.
            dim: The axis.
            prepend: Values put before this tensor along ``dim`` first.
            append: Values put after it.
        """
        if n < 0:
            raise ValueError(f"diff needs n >= 0, got {n}")
        if self.ndim == 0:
            raise ValueError("diff needs a tensor with at least one axis, got shape ()")
        dim = _dim(dim, self.ndim)
        parts = [p.to(dtype=self.dtype) for p in (prepend, self, append) if p is not None]
        result = movement.Cat.apply(*parts, dim=dim) if len(parts) > 1 else self
        later_key = (slice(None),) * dim + (slice(1, None),)
        earlier_key = (slice(None),) * dim + (slice(None, -1),)
        for _ in range(n):
            later, earlier = result[later_key], result[earlier_key]
            result = later != earlier if result.dtype == dtypes.bool_ else later - earlier
        return result

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a 2-D tensor."""
        if self.ndim != 2:
            raise ValueError(f"trace needs a 2-D tensor, got shape {self.shape}")
        steps = get_array_module(self.data).arange(builtins.min(self.shape))
        diagonal = self[steps, steps]
        return diagonal.sum() if diagonal.data.dtype.kind == "f" else diagonal.long().sum()

    @overload
    def nonzero(self, *, as_tuple: Literal[False] = False) -> Tensor: ...

    @overload
    def nonzero(self, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...

    def nonzero(self, *, as_tuple: builtins.bool = False) -> Tensor | tuple[Tensor, ...]:
        """The indices of the non-zero elements, one row each: (count, ndim) int64; with
        ``as_tuple``, one 1-D tensor of indices per axis instead (as NumPy's ``nonzero``)."""
        xp = get_array_module(self.data)
        if as_tuple:
            return tuple(Tensor._from_op(i.astype(np.int64)) for i in xp.nonzero(self.data))
        return Tensor._from_op(xp.stack(xp.nonzero(self.data), axis=-1).astype(np.int64))

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s dtype."""
        return self.to(dtype=other.dtype)

    def flip(self, *dims: Any) -> Tensor:
        """The elements in reverse order along each of ``dims``."""
        flipped = _dims(_shape_args(dims), self.ndim) or ()
        return self[
            tuple(slice(None, None, -1) if d in flipped else slice(None) for d in range(self.ndim))
        ]

    def roll(self, shifts: builtins.int | Sequence[builtins.int], dims: Dim = None) -> Tensor:
        """Shift elements along ``dims`` cyclically (of the flattened tensor if dims is None)."""
        if dims is None:
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shift_list = [shifts] if isinstance(shifts, builtins.int) else list(shifts)
        dim_list = _dims(dims, self.ndim) or ()
        if len(shift_list) != len(dim_list):
            raise ValueError(f"roll needs one shift per dim, got shifts {shifts} and dims {dims}")
        result = self
        for shift, dim in zip(shift_list, dim_list, strict=True):
            cut = -shift % self.shape[dim] if self.shape[dim] else 0
            if cut:
                prefix = (slice(None),) * dim
                tail, head = (*prefix, slice(cut, None)), (*prefix, slice(0, cut))
                result = movement.Cat.apply(result[tail], result[head], dim=dim)
        return result

    def repeat(self, *sizes: Any) -> Tensor:
        """Tile the tensor ``sizes[i]`` times along axis i (new leading axes for extra sizes)."""
        sizes = _shape_args(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat needs at least {self.ndim} sizes for a tensor of shape {self.shape}, "
                f"got {sizes}"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        pairs = tuple(zip(sizes, shape, strict=True))
        tiled = self.reshape(tuple(v for _, n in pairs for v in (1, n)))
        tiled = tiled.expand(tuple(v for pair in pairs for v in pair))
        return tiled.reshape(tuple(r * n for r, n in pairs))

    def tile(self, *dims: Any) -> Tensor:
        """Repeat the tensor ``dims[i]`` times along axis i; missing leading counts are 1
        (fewer counts than axes are allowed, unlike ``repeat``)."""
        counts = _shape_args(dims)
        return self.repeat((1,) * (self.ndim - len(counts)) + tuple(counts))

    def rot90(self, k: builtins.int = 1, dims: Sequence[builtins.int] = (0, 1)) -> Tensor:
        """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first axis
        toward the second."""
        if len(dims) != 2 or self.ndim < 2:
            raise ValueError(f"rot90 needs two dims of a tensor of 2 or more axes, got {dims}")
        first, second = (_dim(d, self.ndim) for d in dims)
        if first == second:
            raise ValueError(f"rot90 needs two different dims, got {dims}")
        k %= 4
        if k == 0:
            return self
        if k == 2:
            return self.flip(first, second)
        swapped = self.transpose(first, second)
        return swapped.flip(first) if k == 1 else self.flip(first).transpose(first, second)

    def diagonal(
        self, offset: builtins.int = 0, dim1: builtins.int = 0, dim2: builtins.int = 1
    ) -> Tensor:
        """The diagonal of the planes of ``dim1`` and ``dim2`` (``offset`` > 0: above the
        main one), as a new last axis; the other axes stay in order."""
        first, second = _dim(dim1, self.ndim), _dim(dim2, self.ndim)
        if first == second:
            raise ValueError(f"diagonal needs two different dims, got {dim1} and {dim2}")
        rest = [d for d in range(self.ndim) if d not in (first, second)]
        planes = self.permute(*rest, first, second)
        rows, cols = planes.shape[-2:]
        start_row, start_col = builtins.max(-offset, 0), builtins.max(offset, 0)
        length = builtins.max(builtins.min(rows - start_row, cols - start_col), 0)
        xp = get_array_module(self.data)
        steps = xp.arange(length)
        return planes[..., steps + start_row, steps + start_col]

    def cummax(self, dim: builtins.int) -> ValuesIndices:
        """Running maxima along ``dim`` and where each was found (the last of equal values,
        as in PyTorch); the gradient goes to those elements."""
        return self._running_extreme(dim, "maximum")

    def cummin(self, dim: builtins.int) -> ValuesIndices:
        """Running minima along ``dim`` and where each was found (the last of equal values,
        as in PyTorch); the gradient goes to those elements."""
        return self._running_extreme(dim, "minimum")

    def _running_extreme(self, dim: builtins.int, ufunc: str) -> ValuesIndices:
        xp = get_array_module(self.data)
        axis = _dim(dim, self.ndim)
        if self.ndim == 0:
            values, indices = self.reshape(1)._running_extreme(axis, ufunc)
            return ValuesIndices(values.reshape(()), indices.reshape(()))
        extremes = reduce.accumulate(ufunc, self.data, axis)
        position_shape = [1] * self.ndim
        position_shape[axis] = self.shape[axis]
        positions = xp.arange(self.shape[axis]).reshape(position_shape)
        # NOTE: an element equal to the running extreme is (the last of) where it was found;
        # a NaN is the running extreme from where it is (NumPy's extremes propagate NaN)
        found = self.data == extremes
        if self.data.dtype.kind == "f":
            found |= xp.isnan(self.data)
        found = xp.where(found, positions, 0)
        indices = reduce.accumulate("maximum", found, axis).astype(np.int64)
        values = movement.Gather.apply(self, dim=axis, index=indices)
        return ValuesIndices(values, Tensor._from_op(indices))

    def tril(self, diagonal: builtins.int = 0) -> Tensor:
        return movement.Tril.apply(self, diagonal=diagonal)

    def triu(self, diagonal: builtins.int = 0) -> Tensor:
        return movement.Triu.apply(self, diagonal=diagonal)

    # ------------------------------------------------------------ more shapes and selection
    def broadcast_to(self, *shape: Any) -> Tensor:
        """This tensor expanded to ``shape`` without copying (as ``expand``; -1 keeps a size)."""
        return self.expand(*shape)

    def ravel(self) -> Tensor:
        """The elements as a 1-D tensor."""
        return self.reshape(-1)

    def select(self, dim: builtins.int, index: builtins.int) -> Tensor:
        """The slice at ``index`` (negative: from the end) along ``dim``, without that axis."""
        if self.ndim == 0:
            raise IndexError("select needs a tensor with at least one axis, got shape ()")
        dim = _dim(dim, self.ndim)
        size = self.shape[dim]
        if not -size <= index < size:
            raise IndexError(f"select: index {index} is out of range for dim {dim} of size {size}")
        return self[(slice(None),) * dim + (index,)]

    def narrow_copy(self, dim: builtins.int, start: builtins.int, length: builtins.int) -> Tensor:
        """A copy of ``narrow(dim, start, length)``."""
        return self.narrow(dim, start, length).clone()

    def take(self, index: Any) -> Tensor:
        """Elements of the flattened tensor at ``index`` (negative: from the end), in the
        index's shape; repeated indices accumulate their gradients."""
        index = self._index_array(index, "take")
        size = self.numel()
        if index.size:
            low, high = builtins.int(index.min()), builtins.int(index.max())
            if low < -size or high >= size:
                raise IndexError(
                    f"take: index {low if low < -size else high} is out of range for a tensor "
                    f"of {size} elements"
                )
        return self.reshape(-1)[index]

    def tensor_split(self, indices_or_sections: Any, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """Cut along ``dim`` into views: an int ``n`` gives ``n`` pieces whose sizes differ by
        at most one (the first ones larger); a sequence of indices gives the pieces between
        them, as Python slices would (``x[:i0], x[i0:i1], ..., x[ik:]``)."""
        if self.ndim == 0:
            raise ValueError("tensor_split needs a tensor with at least one axis, got shape ()")
        dim = _dim(dim, self.ndim)
        if isinstance(indices_or_sections, Tensor):
            if indices_or_sections.data.dtype.kind not in "iu":
                raise TypeError(
                    "tensor_split needs integer sections or indices, got dtype "
                    f"{indices_or_sections.dtype}"
                )
            indices_or_sections = (
                indices_or_sections.item()
                if indices_or_sections.ndim == 0
                else indices_or_sections.tolist()
            )
        if isinstance(indices_or_sections, builtins.int):
            if indices_or_sections <= 0:
                raise ValueError(f"tensor_split needs sections > 0, got {indices_or_sections}")
            base, extra = divmod(self.shape[dim], indices_or_sections)
            sizes = [base + 1] * extra + [base] * (indices_or_sections - extra)
            bounds = list(itertools.accumulate(sizes))[:-1]
        else:
            bounds = [builtins.int(i) for i in indices_or_sections]
        prefix = (slice(None),) * dim
        keys = [
            (*prefix, slice(a, b)) for a, b in zip([None, *bounds], [*bounds, None], strict=True)
        ]
        return tuple(self[key] for key in keys)

    def _split_evenly(
        self, sections: Any, dim: builtins.int, least: builtins.int, what: str
    ) -> tuple[Tensor, ...]:
        if self.ndim < least:
            raise ValueError(
                f"{what} needs a tensor with at least {least} axes, got shape {self.shape}"
            )
        if isinstance(sections, builtins.int) and (sections <= 0 or self.shape[dim] % sections):
            raise ValueError(
                f"{what}: dim {dim} of size {self.shape[dim]} cannot be cut into {sections} "
                "equal parts"
            )
        return self.tensor_split(sections, dim)

    def hsplit(self, sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along axis 1 (axis 0 for a 1-D tensor); an int must divide it."""
        return self._split_evenly(sections, 0 if self.ndim == 1 else 1, 1, "hsplit")

    def vsplit(self, sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along axis 0 of a tensor of 2 or more axes; an int must divide it."""
        return self._split_evenly(sections, 0, 2, "vsplit")

    def dsplit(self, sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along axis 2 of a tensor of 3 or more axes; an int must divide it."""
        return self._split_evenly(sections, 2, 3, "dsplit")

    def repeat_interleave(
        self,
        repeats: Any,
        dim: builtins.int | None = None,
        *,
        output_size: builtins.int | None = None,
    ) -> Tensor:
        """Each slice along ``dim`` (each element of the flattened tensor if None) repeated
        ``repeats`` times: an int, or one count per slice. The gradient sums the copies back.

        Args:
            repeats: A non-negative int, or a 1-D integer tensor or sequence of counts.
            dim: The axis to repeat along; None flattens first.
            output_size: The total length along ``dim``, checked if given.
        """
        x, dim = (self.reshape(-1), 0) if dim is None else (self, _dim(dim, self.ndim))
        size = x.shape[dim] if x.ndim else 1
        counts = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
        if counts.dtype.kind not in "iu" or counts.ndim > 1:
            raise TypeError(
                f"repeat_interleave needs an int or 1-D integer repeats, got dtype {counts.dtype} "
                f"and shape {counts.shape}"
            )
        if counts.ndim == 1 and counts.shape[0] not in (1, size):
            raise ValueError(
                f"repeat_interleave: {counts.shape[0]} repeats for dim {dim} of size {size}"
            )
        if (counts < 0).any():
            raise ValueError("repeat_interleave needs non-negative repeats")
        index = np.repeat(np.arange(size), counts.reshape(-1) if counts.ndim else counts)
        if output_size is not None and output_size != index.shape[0]:
            raise ValueError(
                f"repeat_interleave: output_size {output_size} differs from the length "
                f"{index.shape[0]} the repeats give"
            )
        x = x if x.ndim else x.reshape(1)
        if counts.size == 1:  # NOTE: one count: an expand, whose gradient is a sum (no scatter)
            shape, count = x.shape, int(counts.reshape(-1)[0])
            copies = x.unsqueeze(dim + 1).expand(*shape[: dim + 1], count, *shape[dim + 1 :])
            return copies.reshape(*shape[:dim], shape[dim] * count, *shape[dim + 1 :])
        return x.index_select(dim, index)

    def diag_embed(
        self, offset: builtins.int = 0, dim1: builtins.int = -2, dim2: builtins.int = -1
    ) -> Tensor:
        """Matrices with the last axis of this tensor on a diagonal (``offset`` > 0: above the
        main one) in the planes of ``dim1`` and ``dim2`` of the result; the rest is 0."""
        if self.ndim == 0:
            raise ValueError("diag_embed needs a tensor with at least one axis, got shape ()")
        first, second = _dim(dim1, self.ndim + 1), _dim(dim2, self.ndim + 1)
        if first == second:
            raise ValueError(f"diag_embed needs two different dims, got {dim1} and {dim2}")
        n, k = self.shape[-1], builtins.abs(offset)
        off_diagonal = ~get_array_module(self.data).eye(n, dtype=bool)
        square = self.unsqueeze(-1).expand(*self.shape, n).masked_fill(off_diagonal, 0)
        # NOTE: above the main diagonal: k rows after and k columns before; below: the reverse
        planes = ((0, k), (k, 0)) if offset >= 0 else ((k, 0), (0, k))
        if k:
            square = movement.Pad.apply(
                square, widths=((0, 0),) * (self.ndim - 1) + planes, value=0
            )
        return square.movedim((-2, -1), (first, second))

    def diagflat(self, offset: builtins.int = 0) -> Tensor:
        """A square matrix with the flattened tensor on a diagonal (``offset`` > 0: above)."""
        return self.reshape(-1).diag_embed(offset)

    def _along_index(
        self, dim: builtins.int, index: Any, source_shape: tuple[builtins.int, ...], what: str
    ) -> Array:
        """A 1-D ``index`` along ``dim`` broadcast to ``source_shape`` for scatter, after
        checking that the source has this tensor's shape but along ``dim``."""
        index = self._index_array(index, what)
        if index.ndim != 1:
            raise ValueError(f"{what} needs a 1-D index, got shape {tuple(index.shape)}")
        expected = (*self.shape[:dim], index.shape[0], *self.shape[dim + 1 :])
        if source_shape != expected:
            raise ValueError(
                f"{what}: source of shape {source_shape} does not fit an index of length "
                f"{index.shape[0]} into the input of shape {self.shape} (expected {expected})"
            )
        xp = get_array_module(index)
        return xp.broadcast_to(
            index.reshape([-1 if d == dim else 1 for d in range(self.ndim)]), expected
        )

    def index_copy(self, dim: builtins.int, index: Any, source: Tensor) -> Tensor:
        """A copy with the slices of ``source`` along ``dim`` written at ``index`` (1-D); the
        overwritten slices of this tensor get no gradient."""
        dim = _dim(dim, self.ndim)
        return self.scatter(dim, self._along_index(dim, index, source.shape, "index_copy"), source)

    def index_fill(self, dim: builtins.int, index: Any, value: Any) -> Tensor:
        """A copy with the slices at ``index`` (1-D) along ``dim`` set to ``value`` (a number
        or a 0-d tensor, which gets their gradient)."""
        index = self._index_array(index, "index_fill")
        dim = _dim(dim, self.ndim)
        size = self.shape[dim] if self.ndim else 1
        if index.ndim > 1:
            raise ValueError(f"index_fill needs a 1-D index, got shape {tuple(index.shape)}")
        if (
            index.size
            and not -size <= builtins.int(index.min()) <= builtins.int(index.max()) < size
        ):
            raise IndexError(f"index_fill: an index is out of range for dim {dim} of size {size}")
        mask = get_array_module(index).zeros(size, dtype=bool)
        mask[index] = True
        return self.masked_fill(
            mask.reshape([-1 if d == dim else 1 for d in range(self.ndim)]), value
        )

    def _put_key(self, indices: Any, what: str) -> tuple[Any, ...]:
        if not isinstance(indices, tuple | list):
            raise TypeError(f"{what} needs a tuple of index tensors, got {type(indices).__name__}")
        key = tuple(_index_key(Tensor(i) if isinstance(i, list) else i, self) for i in indices)
        for part in key:
            if getattr(part, "dtype", None) is None or part.dtype.kind not in "iub":
                raise TypeError(f"{what} needs integer or bool index tensors, got {part!r}")
        return key

    def _put_values(self, key: tuple[Any, ...], values: Any, what: str) -> Tensor:
        if not isinstance(values, Tensor):
            values = Tensor(values, dtype=self.dtype, device=self.device)
        if values.data.dtype != self.data.dtype:
            raise TypeError(
                f"{what} needs values of the input's dtype {self.dtype}, got {values.dtype}"
            )
        target = self.data[key].shape
        try:
            shape = np.broadcast_shapes(values.shape, target)
        except ValueError:
            shape = None
        if shape != target:
            raise ValueError(
                f"{what}: values of shape {values.shape} do not broadcast to the indexed shape "
                f"{target}"
            )
        return values

    def index_put(self, indices: Any, values: Any, accumulate: builtins.bool = False) -> Tensor:
        """A copy with ``values`` (broadcast) written at ``self[indices]``, or added there with
        ``accumulate`` (then repeated indices add up).

        Args:
            indices: A tuple of integer or bool index tensors, one per leading axis.
            values: A tensor of this dtype, or a number.
            accumulate: Add instead of overwriting.
        """
        key = self._put_key(indices, "index_put")
        values = self._put_values(key, values, "index_put")
        return movement.IndexPut.apply(self, values, key=key, accumulate=accumulate)

    def index_put_(self, indices: Any, values: Any, accumulate: builtins.bool = False) -> Tensor:
        """``index_put`` in place, outside autograd (refused where ``add_`` is)."""
        self._refuse_untracked_change("index_put_()", values)
        key = self._put_key(indices, "index_put_")
        values = self._put_values(key, values, "index_put_").data
        if accumulate:
            movement.ufunc_at("add", self.data, key, values)
        else:
            self.data[key] = values
        return self

    def masked_scatter(self, mask: Any, source: Tensor) -> Tensor:
        """A copy with the places where ``mask`` (broadcast to this shape) is True filled, in
        row-major order, with the first elements of ``source``."""
        mask = mask if isinstance(mask, Tensor) else Tensor(mask, device=self.device)
        if mask.data.dtype != dtypes.bool_:
            raise TypeError(f"masked_scatter needs a bool mask, got dtype {mask.dtype}")
        try:
            places = get_array_module(self.data).broadcast_to(mask.data, self.shape)
        except ValueError:
            raise ValueError(
                f"masked_scatter: mask of shape {mask.shape} does not broadcast to {self.shape}"
            ) from None
        count = builtins.int(places.sum())
        if source.numel() < count:
            raise ValueError(
                f"masked_scatter: the mask selects {count} places, source has {source.numel()} "
                "elements"
            )
        if source.data.dtype != self.data.dtype:
            raise TypeError(
                f"masked_scatter needs source of the input's dtype {self.dtype}, got {source.dtype}"
            )
        values = source.reshape(-1)[:count]
        return movement.IndexPut.apply(self, values, key=places, accumulate=False)

    def scatter_reduce(
        self,
        dim: builtins.int,
        index: Any,
        src: Tensor,
        reduce: str,
        *,
        include_self: builtins.bool = True,
    ) -> Tensor:
        """A copy with the values of ``src`` reduced into it at ``index`` along ``dim``.

        Args:
            dim: The axis that ``index`` points along.
            index: As for ``scatter``; repeated places all take part.
            src: A tensor of this dtype.
            reduce: ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"`` (integer
                means round down, as in PyTorch).
            include_self: Whether this tensor's values at the places written take part.

        The gradients are PyTorch's: ``amax``/``amin`` share it evenly among the values equal
        to the result that take part, ``prod`` gives each factor the product of the others.
        """
        if reduce not in _SCATTER_REDUCTIONS:
            raise ValueError(
                f"scatter_reduce: reduce must be one of {', '.join(_SCATTER_REDUCTIONS)}, "
                f"got {reduce!r}"
            )
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_reduce needs src as a Tensor, got {type(src).__name__}")
        dim, index, src = self._scatter_args(dim, index, src, "scatter_reduce")
        return movement.ScatterReduce.apply(
            self, src, dim=dim, index=index, reduce=reduce, include_self=include_self
        )

    # ------------------------------------------------------------ more comparisons and logic
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def equal(self, other: Tensor) -> builtins.bool:
        """True if ``other`` has this shape and the same values."""
        return self.shape == other.shape and builtins.bool((self.data == other.data).all())

    def is_nonzero(self) -> builtins.bool:
        """Whether the one element of this tensor is not zero."""
        if self.data.size != 1:
            raise RuntimeError(
                f"is_nonzero needs a tensor with one element, got shape {self.shape}"
            )
        return builtins.bool(self.data.reshape(()) != 0)

    def isneginf(self) -> Tensor:
        """Whether each element is -inf, as a bool tensor."""
        return Tensor._from_op(self.data == -math.inf)

    def isposinf(self) -> Tensor:
        """Whether each element is +inf, as a bool tensor."""
        return Tensor._from_op(self.data == math.inf)

    def isreal(self) -> Tensor:
        """Whether each element has no imaginary part: all True, as there are no complex
        dtypes here."""
        return Tensor._from_op(get_array_module(self.data).ones(self.shape, dtype=bool))

    def positive(self) -> Tensor:
        """This tensor (``+x``); refused for bool tensors, as in PyTorch."""
        if self.data.dtype == dtypes.bool_:
            raise TypeError("positive does not take a bool tensor")
        return self

    __pos__ = positive

    def _bitwise(self, other: Any, ufunc: Any, what: str) -> Tensor:
        kinds = (self.data.dtype.kind, other.data.dtype.kind if isinstance(other, Tensor) else "")
        if kinds[0] not in "biu" or kinds[1] not in "biu" or isinstance(other, builtins.float):
            other_type = other.dtype if isinstance(other, Tensor) else type(other).__name__
            raise TypeError(
                f"{what} needs integer or bool operands, got {self.dtype} and {other_type}"
            )
        return self._compare(other, ufunc)

    def bitwise_and(self, other: Any) -> Tensor:
        """Elementwise AND of the bits of integer or bool tensors (``&``)."""
        return self._bitwise(other, np.bitwise_and, "bitwise_and")

    def bitwise_or(self, other: Any) -> Tensor:
        """Elementwise OR of the bits of integer or bool tensors (``|``)."""
        return self._bitwise(other, np.bitwise_or, "bitwise_or")

    def bitwise_xor(self, other: Any) -> Tensor:
        """Elementwise XOR of the bits of integer or bool tensors (``^``)."""
        return self._bitwise(other, np.bitwise_xor, "bitwise_xor")

    def bitwise_not(self) -> Tensor:
        """Elementwise NOT of the bits of an integer or bool tensor (``~``)."""
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"bitwise_not needs an integer or bool tensor, got {self.dtype}")
        return Tensor._from_op(~self.data)

    __and__, __or__, __xor__, __invert__ = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    __rand__, __ror__, __rxor__ = bitwise_and, bitwise_or, bitwise_xor

    # ------------------------------------------------------------ more reductions and statistics
    def nansum(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        """``sum`` with NaN counted as 0 (NaN elements get no gradient)."""
        if self.data.dtype.kind != "f":
            return self.sum(dim, keepdim)
        return self.masked_fill(self.isnan(), 0).sum(dim, keepdim)

    def nanmean(self, dim: Dim = None, keepdim: builtins.bool = False) -> Tensor:
        """The mean of the elements that are not NaN over ``dim`` (NaN where there are none)."""
        if self.data.dtype.kind != "f":
            raise TypeError(f"nanmean needs a floating-point tensor, got dtype {self.dtype}")
        total, count = self.nansum(dim, keepdim), (~self.isnan()).sum(dim, keepdim)
        with np.errstate(invalid="ignore"):  # NOTE: 0 / 0 is NaN here
            return total / count

    def nanmedian(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Any:
        """``median`` of the elements that are not NaN (NaN where all are NaN): the lower
        middle value, a 0-d tensor if ``dim`` is None, else ``(values, indices)``."""
        if self.data.dtype.kind != "f":
            return self.median(dim, keepdim)
        if dim is None:
            if self.numel() == 0:
                raise ValueError("nanmedian() of an empty tensor has no value")
            return self.reshape(-1)._nan_median(0, False).values
        return self._nan_median(dim, keepdim)

    def _nan_median(self, dim: builtins.int, keepdim: builtins.bool) -> ValuesIndices:
        dim = _dim(dim, self.ndim)
        if self.ndim == 0:
            return ValuesIndices(self, Tensor._from_op(np.zeros((), np.int64)))
        if self.shape[dim] == 0:
            raise ValueError(f"nanmedian: dim {dim} has size 0")
        xp = get_array_module(self.data)
        order = _stable_order(self.data, dim, False)  # NaN sorts last
        valid = (~xp.isnan(self.data)).sum(axis=dim, keepdims=True)
        indices = xp.take_along_axis(order, xp.maximum((valid - 1) // 2, 0), axis=dim)
        values = movement.Gather.apply(self, dim=dim, index=indices)
        if not keepdim:
            return ValuesIndices(values.squeeze(dim), Tensor._from_op(indices).squeeze(dim))
        return ValuesIndices(values, Tensor._from_op(indices))

    def quantile(
        self,
        q: Any,
        dim: builtins.int | None = None,
        keepdim: builtins.bool = False,
        *,
        interpolation: str = "linear",
    ) -> Tensor:
        """The ``q``-quantiles over ``dim`` (all elements if None); NaN where a NaN takes part.

        Args:
            q: A number in [0, 1], or a 1-D tensor of them (its axis comes first in the
                result).
            dim: The axis to reduce; None for all elements.
            keepdim: Keep the reduced axis (all axes if ``dim`` is None) as size 1.
            interpolation: Between the two nearest sorted values: ``"linear"``, ``"lower"``,
                ``"higher"``, ``"midpoint"`` or ``"nearest"`` (ties to even).

        The gradient goes to the one or two sorted values that the result comes from.
        """
        return self._quantile(q, dim, keepdim, interpolation, "quantile")

    def nanquantile(
        self,
        q: Any,
        dim: builtins.int | None = None,
        keepdim: builtins.bool = False,
        *,
        interpolation: str = "linear",
    ) -> Tensor:
        """``quantile`` of the elements that are not NaN (NaN where all are NaN)."""
        return self._quantile(q, dim, keepdim, interpolation, "nanquantile")

    def _quantile(
        self, q: Any, dim: builtins.int | None, keepdim: builtins.bool, how: str, what: str
    ) -> Tensor:
        if self.data.dtype.kind != "f":
            raise TypeError(f"{what} needs a floating-point tensor, got dtype {self.dtype}")
        if how not in ("linear", "lower", "higher", "midpoint", "nearest"):
            raise ValueError(
                f"{what}: interpolation must be linear, lower, higher, midpoint or nearest, "
                f"got {how!r}"
            )
        qs = np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=np.float64)
        if qs.ndim > 1 or not ((qs >= 0) & (qs <= 1)).all():
            raise ValueError(f"{what} needs q in [0, 1] as a number or 1-D tensor, got {qs}")
        x = self.reshape(-1) if dim is None else self
        axis = 0 if dim is None else _dim(dim, self.ndim)
        if x.ndim == 0:
            x = x.reshape(1)
        if x.shape[axis] == 0:
            raise ValueError(f"{what} of an empty dim {axis} has no value")
        ordered = x.movedim(axis, -1).sort(-1).values  # NaN sorts last
        xp = get_array_module(self.data)
        nans = xp.isnan(ordered.data)
        size = ordered.shape[-1]
        count = (size - nans.sum(-1, keepdims=True)) if what == "nanquantile" else size
        q_array = xp.asarray(qs.reshape(-1), dtype=np.float64)
        ranks = q_array * (count - 1)  # (..., Q)
        # NOTE: a NaN that takes part (or only NaN) gives NaN: point at the last, a NaN
        last = nans.any(-1, keepdims=True) if what == "quantile" else count == 0
        ranks = xp.where(last, size - 1, ranks)
        below = xp.floor(ranks).astype(np.int64)
        above = xp.ceil(ranks).astype(np.int64)
        last_axis = ordered.ndim - 1
        if how == "lower":
            result = movement.Gather.apply(ordered, dim=last_axis, index=below)
        elif how == "higher":
            result = movement.Gather.apply(ordered, dim=last_axis, index=above)
        elif how == "nearest":
            nearest = xp.round(ranks).astype(np.int64)
            result = movement.Gather.apply(ordered, dim=last_axis, index=nearest)
        else:
            weights = ranks - below if how == "linear" else xp.full(ranks.shape, 0.5)
            low = movement.Gather.apply(ordered, dim=last_axis, index=below)
            high = movement.Gather.apply(ordered, dim=last_axis, index=above)
            step = Tensor._from_op(weights.astype(self.data.dtype))
            result = low + step * (high - low)
        result = result.movedim(-1, 0)  # (Q, ...)
        if keepdim:
            result = (
                result.reshape(result.shape[0], *(1,) * self.ndim)
                if dim is None
                else result.unsqueeze(axis + 1)
            )
        return result.squeeze(0) if qs.ndim == 0 else result

    def mode(self, dim: builtins.int = -1, keepdim: builtins.bool = False) -> ValuesIndices:
        """The most frequent value along ``dim`` (the smallest of equally frequent ones) and
        the index of its last occurrence; the gradient goes to that element."""
        dim = _dim(dim, self.ndim)
        if self.ndim == 0:
            return ValuesIndices(self, Tensor._from_op(np.zeros((), np.int64)))
        if self.shape[dim] == 0:
            raise ValueError(f"mode: dim {dim} has size 0")
        xp = get_array_module(self.data)
        order = xp.moveaxis(_stable_order(self.data, dim, False), dim, -1)
        ordered = xp.take_along_axis(xp.moveaxis(self.data, dim, -1), order, axis=-1)
        positions = xp.arange(ordered.shape[-1])
        starts = xp.ones(ordered.shape, dtype=bool)
        starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
        run_start = reduce.accumulate("maximum", xp.where(starts, positions, 0), -1)
        # NOTE: the first place where a run is longest ends the smallest most frequent value;
        # a stable sort puts its last occurrence there
        best = (positions - run_start).argmax(axis=-1)[..., None]
        indices = xp.moveaxis(xp.take_along_axis(order, best, axis=-1), -1, dim)
        values = movement.Gather.apply(self, dim=dim, index=indices)
        if not keepdim:
            return ValuesIndices(values.squeeze(dim), Tensor._from_op(indices).squeeze(dim))
        return ValuesIndices(values, Tensor._from_op(indices))

    def bincount(self, weights: Tensor | None = None, minlength: builtins.int = 0) -> Tensor:
        """How often each value 0, 1, ... occurs in this 1-D non-negative integer tensor, or
        the sum of ``weights`` there (without gradient); at least ``minlength`` long."""
        if self.ndim != 1 or self.data.dtype.kind not in "iu":
            raise ValueError(
                f"bincount needs a 1-D integer tensor, got dtype {self.dtype} and shape "
                f"{self.shape}"
            )
        if self.numel() and builtins.int(self.data.min()) < 0:
            raise ValueError("bincount needs non-negative values")
        if minlength < 0:
            raise ValueError(f"bincount needs minlength >= 0, got {minlength}")
        xp = get_array_module(self.data)
        if weights is None:
            counts = xp.bincount(self.data, minlength=minlength)
            return Tensor._from_op(counts.astype(np.int64))
        if weights.shape != self.shape:
            raise ValueError(
                f"bincount needs weights of the input's shape {self.shape}, got {weights.shape}"
            )
        dtype = weights.dtype if weights.data.dtype.kind == "f" else np.dtype(np.float64)
        sums = xp.bincount(self.data, weights=weights.data, minlength=minlength)
        return Tensor._from_op(sums.astype(dtype))

    def histc(self, bins: builtins.int = 100, min: Scalar = 0, max: Scalar = 0) -> Tensor:
        """Counts of the elements in ``bins`` equal bins between ``min`` and ``max`` (the data's
        smallest and largest values if both are equal; the last bin includes ``max``), as this
        dtype, without gradient; elements outside are left out."""
        if self.data.dtype.kind != "f":
            raise TypeError(f"histc needs a floating-point tensor, got dtype {self.dtype}")
        if bins <= 0:
            raise ValueError(f"histc needs bins > 0, got {bins}")
        xp = get_array_module(self.data)
        low, high = builtins.float(min), builtins.float(max)
        if low == high and self.numel():
            low, high = builtins.float(self.data.min()), builtins.float(self.data.max())
        if low == high:
            low, high = low - 1, high + 1
        if not low < high or not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"histc needs finite min < max, got {low} and {high}")
        values = self.data.reshape(-1)
        values = values[(values >= low) & (values <= high)]
        found = ((values - low) / (high - low) * bins).astype(np.int64)
        counts = xp.bincount(xp.minimum(found, bins - 1), minlength=bins)
        return Tensor._from_op(counts.astype(self.data.dtype))

    def cov(
        self,
        *,
        correction: builtins.int = 1,
        fweights: Tensor | None = None,
        aweights: Tensor | None = None,
    ) -> Tensor:
        """The covariance matrix of the variables in the rows (observations in the columns;
        a 1-D tensor is one variable), as ``numpy.cov``; a 0-d tensor for one variable.

        Args:
            correction: Subtracted from the number (or weight) of observations: 1 for the
                unbiased estimate, 0 for the maximum-likelihood one.
            fweights: Integer repeat counts of the observations.
            aweights: Non-negative float weights of the observations.
        """
        if self.ndim > 2:
            raise ValueError(f"cov needs a tensor of at most 2 axes, got shape {self.shape}")
        x = self._floating()
        x = x.reshape(1, -1) if x.ndim < 2 else x
        observations = x.shape[1]
        weights = None
        for name, w, kinds in (("fweights", fweights, "iu"), ("aweights", aweights, "f")):
            if w is None:
                continue
            if w.ndim != 1 or w.shape[0] != observations or w.data.dtype.kind not in kinds:
                raise ValueError(
                    f"cov: {name} must be 1-D with {observations} "
                    f"{'integers' if kinds == 'iu' else 'floats'}, got dtype {w.dtype} and "
                    f"shape {w.shape}"
                )
            if w.numel() and builtins.float(w.data.min()) < 0:
                raise ValueError(f"cov: {name} must be non-negative")
            weights = w if weights is None else weights * w
        if weights is None:
            centered = x - x.mean(1, keepdim=True)
            factor: Any = builtins.max(observations - correction, 0)
            return (centered.matmul(centered.T) / factor).squeeze()
        weights = weights.to(dtype=x.dtype)
        total = weights.sum()
        centered = x - (x * weights).sum(1, keepdim=True) / total
        if aweights is None:
            factor = total - correction
        else:
            factor = total - correction * (weights * aweights).sum() / total
        return ((centered * weights).matmul(centered.T) / factor.clamp_min(0)).squeeze()

    def corrcoef(self) -> Tensor:
        """The Pearson correlation coefficients of the variables in the rows, clipped to
        [-1, 1]."""
        covariance = self.cov()
        if covariance.ndim == 0:
            return covariance / covariance
        spread = covariance.diagonal().sqrt()
        return (covariance / spread.unsqueeze(1) / spread.unsqueeze(0)).clamp(-1, 1)

    def aminmax(self, *, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> MinMax:
        """``(amin, amax)`` over ``dim`` (all elements if None), as a named tuple."""
        return MinMax(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def msort(self) -> Tensor:
        """The values sorted along axis 0."""
        return self.sort(0).values

    def unique_consecutive(
        self,
        return_inverse: builtins.bool = False,
        return_counts: builtins.bool = False,
        dim: builtins.int | None = None,
    ) -> Tensor | tuple[Tensor, ...]:
        """The tensor with each run of equal consecutive elements (slices along ``dim``, or
        elements of the flattened tensor if None) cut to one, without gradient.

        Args:
            return_inverse: Also return, for each element (slice), the index of its run.
            return_counts: Also return the length of each run.
            dim: The axis along which slices are compared; None flattens first.

        Returns:
            The values, or a tuple of the values, the inverse and the counts asked for.
        """
        xp = get_array_module(self.data)
        data, axis = (
            (self.data.reshape(-1), 0) if dim is None else (self.data, _dim(dim, self.ndim))
        )
        size = data.shape[axis]
        rest = math.prod(n for d, n in enumerate(data.shape) if d != axis)
        rows = xp.moveaxis(data, axis, 0).reshape(size, rest)
        change = xp.ones(size, dtype=bool)
        change[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        starts = xp.flatnonzero(change)
        values = Tensor._from_op(xp.take(data, starts, axis=axis))
        if not (return_inverse or return_counts):
            return values
        extra = []
        if return_inverse:
            inverse = (xp.cumsum(change) - 1).astype(np.int64)
            extra.append(Tensor._from_op(inverse.reshape(self.shape) if dim is None else inverse))
        if return_counts:
            ends = xp.concatenate([starts[1:], xp.asarray([size])])
            extra.append(Tensor._from_op((ends - starts).astype(np.int64)))
        return (values, *extra)

    def logcumsumexp(self, dim: builtins.int) -> Tensor:
        """``log(cumsum(exp(x)))`` along ``dim``, computed without overflow or underflow."""
        if self.ndim == 0:
            return self.reshape(1).logcumsumexp(_dim(dim, 0)).reshape(())
        return reduce.LogCumSumExp.apply(self._floating(), dim=_dim(dim, self.ndim))

    def dist(self, other: Tensor, p: builtins.float = 2) -> Tensor:
        """The p-norm of ``self - other`` (broadcast); ``p = 0`` counts the differing
        elements (without gradient)."""
        difference = self - other
        if p == 0:
            count = (difference.data != 0).sum()
            return Tensor._from_op(count.astype(difference._floating().data.dtype))
        return difference.norm(p)

    def renorm(self, p: builtins.float, dim: builtins.int, maxnorm: builtins.float) -> Tensor:
        """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm
        ``maxnorm`` (by ``maxnorm / (norm + 1e-7)``, as PyTorch); the others unchanged."""
        if self.data.dtype.kind != "f":
            raise TypeError(f"renorm needs a floating-point tensor, got dtype {self.dtype}")
        if not p > 0 or maxnorm < 0:
            raise ValueError(f"renorm needs p > 0 and maxnorm >= 0, got p={p}, maxnorm={maxnorm}")
        if self.ndim < 2:
            raise ValueError(f"renorm needs a tensor of at least 2 axes, got shape {self.shape}")
        dim = _dim(dim, self.ndim)
        norms = self.norm(p, dim=[d for d in range(self.ndim) if d != dim], keepdim=True)
        scale = (maxnorm / (norms + 1e-7)).where(norms > maxnorm, 1.0)
        return self * scale

    # ------------------------------------------------------------ linear algebra
    # NOTE: _core.linalg builds on Tensor, so these import it when called.
    def inverse(self) -> Tensor:
        """The inverse of each square matrix (``ac.linalg.inv``)."""
        from auto_compyute._core import linalg as la

        return la.inv(self)

    def det(self) -> Tensor:
        """The determinant of each square matrix (``ac.linalg.det``)."""
        from auto_compyute._core import linalg as la

        return la.det(self)

    def logdet(self) -> Tensor:
        """The log of each determinant: NaN where it is negative (``ac.linalg.logdet``)."""
        from auto_compyute._core import linalg as la

        return la.logdet(self)

    def slogdet(self) -> Any:
        """The sign and log of the absolute value of each determinant (``ac.linalg.slogdet``)."""
        from auto_compyute._core import linalg as la

        return la.slogdet(self)

    def cholesky(self, upper: builtins.bool = False) -> Tensor:
        """The Cholesky factor of each positive-definite matrix (``ac.linalg.cholesky``)."""
        from auto_compyute._core import linalg as la

        return la.cholesky(self, upper=upper)

    def pinverse(self, rcond: builtins.float = 1e-15) -> Tensor:
        """The pseudo-inverse, with singular values below ``rcond`` times the largest taken
        as zero (``ac.linalg.pinv`` with ``rtol=rcond``)."""
        from auto_compyute._core import linalg as la

        return la.pinv(self, rtol=rcond)

    def matrix_power(self, n: builtins.int) -> Tensor:
        """The ``n``-th power of each square matrix (``ac.linalg.matrix_power``)."""
        from auto_compyute._core import linalg as la

        return la.matrix_power(self, n)

    def matrix_exp(self) -> Tensor:
        """The matrix exponential of each square matrix (``ac.linalg.matrix_exp``)."""
        from auto_compyute._core import linalg as la

        return la.matrix_exp(self)

    def cross(self, other: Tensor, dim: builtins.int | None = None) -> Tensor:
        """The cross product of 3-vectors along ``dim``; without ``dim``, along the first
        axis of size 3 (as ``torch.cross``)."""
        from auto_compyute._core import linalg as la

        if dim is None:
            try:
                shape = np.broadcast_shapes(self.shape, other.shape)
            except ValueError:
                raise ValueError(
                    f"cross: shapes {self.shape} and {other.shape} do not broadcast"
                ) from None
            dim = next((i for i, n in enumerate(shape) if n == 3), -1)
        return la.cross(self, other, dim=dim)

    def svd(self, some: builtins.bool = True, compute_uv: builtins.bool = True) -> Any:
        """``(U, S, V)`` with ``self = U diag(S) V^T`` (``torch.svd``: V, not V^T); U and V
        square unless ``some``. Without ``compute_uv``, U and V are square zero matrices,
        as in PyTorch."""
        from auto_compyute._core import linalg as la

        if not compute_uv:
            s, xp = la.svdvals(self), get_array_module(self.data)
            u, v = (
                Tensor._from_op(xp.zeros((*self.shape[:-2], k, k), self.dtype))
                for k in self.shape[-2:]
            )
            return la.SVDUSVResult(u, s, v)
        u, s, vh = la.svd(self, full_matrices=not some)
        return la.SVDUSVResult(u, s, vh.mT)

    # ---------------------------------------------------------------- in place (no grad)
    def _check_inplace(self, what: str, value: Any = None) -> None:
        """Refuse writing ``value`` into this tensor where autograd would have to record it."""
        if not _grad_enabled.get():
            return
        if self._req_grad:
            raise RuntimeError(
                f"{what} on a tensor that requires grad is not tracked by autograd; "
                "do it under ac.no_grad() or on a detached tensor"
            )
        if isinstance(value, Tensor) and value._req_grad:
            raise RuntimeError(
                f"{what} with a value that requires grad is not tracked by autograd (the "
                "value would get no gradient); use an out-of-place op such as "
                "x.index_put(indices, value) or ac.where, or detach the value"
            )

    def _changes_in_place(self, other: Any) -> builtins.bool:
        """Whether ``self op= other`` may change this tensor's array: autograd does not
        record in-place changes, so only for a tensor of no graph, with nothing to record."""
        recorded = self._req_grad or (isinstance(other, Tensor) and other._req_grad)
        return self.ctx is None and not (recorded and _grad_enabled.get())

    def _inplace(self, ufunc: str, other: Any, what: str, alpha: Scalar = 1) -> Tensor:
        self._refuse_untracked_change(what, other)
        xp = get_array_module(self.data)
        value = other.data if isinstance(other, Tensor) else other
        if isinstance(value, np.ndarray) and xp is not np:
            value = move_array(value, self.device)
        if isinstance(alpha, builtins.float) and self.data.dtype.kind in "biu":
            raise TypeError(f"{what} on a {self.dtype} tensor needs an integer alpha, got {alpha}")
        if alpha != 1:  # add_ or sub_: one BLAS pass where NumPy takes two and a temporary
            blas.axpy(-alpha if ufunc == "subtract" else alpha, value, self.data)
            return self
        if ufunc in ("floor_divide", "remainder"):
            _check_integer_divisor(self, value, what)
        getattr(xp, ufunc)(self.data, value, out=self.data)
        return self

    def _refuse_untracked_change(self, what: str, other: Any) -> None:
        """Refuse an in-place change with ``other`` that autograd would have to record."""
        if self._req_grad and self.ctx is None and _grad_enabled.get():
            raise RuntimeError(
                f"{what} on a leaf tensor that requires grad would change it outside autograd; "
                "do it under ac.no_grad() (as an optimizer step does) or on a detached tensor"
            )
        if not self._changes_in_place(other):
            reason = (
                f"the tensor was computed by {self.ctx.name}"
                if self.ctx is not None
                else "the change involves a tensor that requires grad"
            )
            raise RuntimeError(
                f"{what} would change a tensor in place, which autograd does not record, and "
                f"{reason}; use the out-of-place form, e.g. x = x + y"
            )

    def add_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """``self += alpha * other`` in place, outside autograd (see ``_augmented``)."""
        return self._inplace("add", other, "add_()", alpha)

    def sub_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """``self -= alpha * other`` in place, outside autograd."""
        return self._inplace("subtract", other, "sub_()", alpha)

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place, outside autograd."""
        return self._inplace("multiply", other, "mul_()")

    def div_(self, other: Any) -> Tensor:
        """``self /= other`` in place, outside autograd (integer tensors cannot hold the result)."""
        return self._inplace("true_divide", other, "div_()")

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        """Limit values to ``[min, max]`` in place, outside autograd."""
        if min is not None:
            self._inplace("maximum", min, "clamp_()")
        return self._inplace("minimum", max, "clamp_()") if max is not None else self

    clip_ = clamp_

    def _inplace_twin(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], views: builtins.bool
    ) -> Tensor:
        """``self.<name>_(*args, **kwargs)``: ``self.<name>(*args, **kwargs)`` computed without
        recording it and written into this tensor's array, refused where ``add_`` is.

        As in PyTorch, the result must broadcast to this tensor's shape and be castable to its
        dtype (bool to integer to float, not back). With ``views`` the result (a view of a new
        shape, e.g. of ``t``) becomes this tensor's array instead.
        """
        what = f"{name}_()"
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        self._refuse_untracked_change(what, next((t for t in tensors if t._req_grad), None))
        token = _grad_enabled.set(False)
        try:
            result = getattr(self, name)(*args, **kwargs)
        finally:
            _grad_enabled.reset(token)
        if views:
            self.data = result.data
            return self
        shape, dtype = self.data.shape, self.data.dtype
        if result.shape != shape:
            try:
                fits = np.broadcast_shapes(result.shape, shape) == shape
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(
                    f"{what}: the result of shape {result.shape} does not broadcast to the "
                    f"shape {shape} of the tensor changed in place"
                )
        if _KIND_RANK[result.dtype.kind] > _KIND_RANK[dtype.kind]:
            raise RuntimeError(
                f"{what}: the result of dtype {result.dtype} cannot be cast to the dtype "
                f"{dtype} of the tensor changed in place"
            )
        self.data[...] = result.data
        return self

    # NOTE: the in-place twins of out-of-place methods, made by _inplace_of
    abs_, neg_, negative_, sign_, square_, reciprocal_, rsqrt_, sqrt_ = _inplace_of(
        "abs", "neg", "negative", "sign", "square", "reciprocal", "rsqrt", "sqrt"
    )
    exp_, exp2_, expm1_, log_, log2_, log10_, log1p_ = _inplace_of(
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p"
    )
    sin_, cos_, tan_, asin_, acos_, atan_, arcsin_, arccos_, arctan_ = _inplace_of(
        "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan"
    )
    sinh_, cosh_, tanh_, asinh_, acosh_, atanh_, arcsinh_, arccosh_, arctanh_ = _inplace_of(
        "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"
    )
    sigmoid_, relu_, logit_, erf_, erfc_, sinc_, deg2rad_, rad2deg_ = _inplace_of(
        "sigmoid", "relu", "logit", "erf", "erfc", "sinc", "deg2rad", "rad2deg"
    )
    floor_, ceil_, round_, trunc_, fix_, frac_, nan_to_num_ = _inplace_of(
        "floor", "ceil", "round", "trunc", "fix", "frac", "nan_to_num"
    )
    pow_, subtract_, multiply_, divide_, floor_divide_, remainder_, fmod_ = _inplace_of(
        "pow", "subtract", "multiply", "divide", "floor_divide", "remainder", "fmod"
    )
    atan2_, arctan2_, hypot_, copysign_, xlogy_, heaviside_, lerp_ = _inplace_of(
        "atan2", "arctan2", "hypot", "copysign", "xlogy", "heaviside", "lerp"
    )
    clamp_min_, clamp_max_, addcmul_, addcdiv_, addmm_, renorm_ = _inplace_of(
        "clamp_min", "clamp_max", "addcmul", "addcdiv", "addmm", "renorm"
    )
    cumsum_, cumprod_, tril_, triu_ = _inplace_of("cumsum", "cumprod", "tril", "triu")
    eq_, ne_, lt_, le_, gt_, ge_ = _inplace_of("eq", "ne", "lt", "le", "gt", "ge")
    greater_, greater_equal_, less_, less_equal_, not_equal_ = _inplace_of(
        "greater", "greater_equal", "less", "less_equal", "not_equal"
    )
    logical_and_, logical_or_, logical_xor_, logical_not_ = _inplace_of(
        "logical_and", "logical_or", "logical_xor", "logical_not"
    )
    bitwise_and_, bitwise_or_, bitwise_xor_, bitwise_not_ = _inplace_of(
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"
    )
    bitwise_left_shift_, bitwise_right_shift_ = _inplace_of(
        "bitwise_left_shift", "bitwise_right_shift"
    )
    masked_fill_, masked_scatter_, index_fill_, index_copy_, index_add_ = _inplace_of(
        "masked_fill", "masked_scatter", "index_fill", "index_copy", "index_add"
    )
    scatter_, scatter_add_, scatter_reduce_, index_reduce_, put_ = _inplace_of(
        "scatter", "scatter_add", "scatter_reduce", "index_reduce", "put"
    )
    squeeze_, unsqueeze_, t_, transpose_, swapaxes_, swapdims_ = _inplace_of(
        "squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims", views=True
    )
    lgamma_, digamma_, polygamma_, mvlgamma_, erfinv_, i0_, sgn_, absolute_ = _inplace_of(
        "lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "sgn", "absolute"
    )
    true_divide_, ldexp_, nextafter_, gcd_, lcm_ = _inplace_of(
        "true_divide", "ldexp", "nextafter", "gcd", "lcm"
    )
    addmv_, addr_, baddbmm_, addbmm_ = _inplace_of("addmv", "addr", "baddbmm", "addbmm")

    def detach_(self) -> Tensor:
        """Detach in place: this tensor becomes a leaf that does not require grad."""
        self.ctx, self._req_grad = None, False
        return self

    def resize_(self, *size: Any) -> Tensor:
        """Give this tensor a new shape in place (refused where ``add_`` is).

        With the same number of elements, this is a reshape (of a copy where the elements
        do not lie in row-major order). Otherwise, only on a tensor that does not require
        grad: the first elements, in row-major order, are kept and new ones are 0 (PyTorch
        leaves them unset).

        Args:
            size: The new shape, as ints or one sequence.
        """
        shape = _shape_args(size)
        self._refuse_untracked_change("resize_()", None)
        count = math.prod(shape)
        if count == self.data.size:
            self.data = self.data.reshape(shape)
            return self
        if self._req_grad:
            raise RuntimeError(
                f"resize_() cannot change the number of elements of a tensor that requires "
                f"grad (shape {self.shape} to {shape})"
            )
        data = get_array_module(self.data).zeros(count, dtype=self.data.dtype)
        kept = builtins.min(count, self.data.size)
        data[:kept] = self.data.reshape(-1)[:kept]
        self.data = data.reshape(shape)
        return self

    def resize_as_(self, other: Tensor) -> Tensor:
        """``resize_`` to the shape of ``other``."""
        return self.resize_(other.shape)

    # NOTE: the ignores: mypy cannot match these with the operators that _binary builds.
    def __iadd__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self._augmented("add", other, "+=", Tensor.__add__)

    def __isub__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self._augmented("subtract", other, "-=", Tensor.__sub__)

    def __imul__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self._augmented("multiply", other, "*=", Tensor.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self._augmented("true_divide", other, "/=", Tensor.__truediv__)

    def __ifloordiv__(self, other: Any) -> Tensor:
        return self._augmented("floor_divide", other, "//=", Tensor.__floordiv__)

    def __imod__(self, other: Any) -> Tensor:
        return self._augmented("remainder", other, "%=", Tensor.__mod__)

    def __ipow__(self, other: Any) -> Tensor:
        return self._augmented("power", other, "**=", Tensor.__pow__)

    def _augmented(self, ufunc: str, other: Any, what: str, operator: Any) -> Tensor:
        """``self op= other``: in place, as in PyTorch (``p -= lr * p.grad`` under no_grad()
        updates p itself); where autograd must record the change, a new tensor, which the
        name then refers to. A leaf that requires grad is refused, as PyTorch does."""
        leaf_with_grad = self._req_grad and self.ctx is None and _grad_enabled.get()
        if leaf_with_grad or self._changes_in_place(other):
            return self._inplace(ufunc, other, what)
        return operator(self, other)

    def fill_(self, value: Scalar) -> Tensor:
        self._check_inplace("fill_()", value)
        self.data[...] = value
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def copy_(self, other: Any) -> Tensor:
        """Copy values from ``other`` (broadcast, converted to this dtype and device)."""
        self._check_inplace("copy_()", other)
        source = other.data if isinstance(other, Tensor) else np.asarray(other)
        if type(source) is not type(self.data):
            source = move_array(source, self.device)
        self.data[...] = source
        return self

    def _check_overwrite(self, what: str) -> None:
        """Refuse what ``add_`` refuses: changing a leaf that requires grad while grad is on,
        or a tensor that autograd recorded."""
        if self._req_grad and self.ctx is None and _grad_enabled.get():
            raise RuntimeError(
                f"{what} on a leaf tensor that requires grad would change it outside autograd; "
                "do it under ac.no_grad() (as an optimizer step does) or on a detached tensor"
            )
        if self.ctx is not None:
            raise RuntimeError(
                f"{what} would change a tensor in place, which autograd does not record, and "
                f"the tensor was computed by {self.ctx.name}; use the out-of-place form"
            )

    def _fill_random(self, values: np.ndarray, what: str) -> Tensor:
        if self.data.dtype.kind != "f":
            raise TypeError(f"{what} needs a floating-point tensor, got dtype {self.dtype}")
        self._check_overwrite(what)
        values = values.astype(self.data.dtype)
        self.data[...] = (
            values if type(self.data) is np.ndarray else move_array(values, self.device)
        )
        return self

    def normal_(
        self,
        mean: builtins.float = 0.0,
        std: builtins.float = 1.0,
        *,
        generator: GeneratorLike = None,
    ) -> Tensor:
        """Fill in place with draws from a normal distribution, outside autograd.

        Args:
            mean: The distribution's mean.
            std: Its standard deviation.
            generator: An ``ac.Generator`` to draw from instead of the global one.
        """
        draws = numpy_generator(generator).standard_normal(self.shape) * std + mean
        return self._fill_random(draws, "normal_()")

    def uniform_(
        self, a: builtins.float = 0.0, b: builtins.float = 1.0, *, generator: GeneratorLike = None
    ) -> Tensor:
        """Fill in place with draws from the uniform distribution on ``[a, b)``, outside
        autograd (PyTorch's ``from`` and ``to``, positionally).

        Args:
            a: The lower bound.
            b: The upper bound.
            generator: An ``ac.Generator`` to draw from instead of the global one.
        """
        draws = numpy_generator(generator).random(self.shape) * (b - a) + a
        return self._fill_random(draws, "uniform_()")

    def _fill_draws(self, draws: np.ndarray, what: str) -> Tensor:
        """Write random draws (CPU) into this tensor's array, cast to its dtype, refused where
        ``add_`` is."""
        self._refuse_untracked_change(what, None)
        values = draws.astype(self.data.dtype)
        self.data[...] = (
            values if type(self.data) is np.ndarray else move_array(values, self.device)
        )
        return self

    def bernoulli_(self, p: Any = 0.5, *, generator: GeneratorLike = None) -> Tensor:
        """Fill in place with 1 with probability ``p`` (a number or a tensor that broadcasts
        to this shape), else 0, outside autograd (drawn from ``generator``, an
        ``ac.Generator``, if given)."""
        probs = p.numpy() if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
        if not ((probs >= 0) & (probs <= 1)).all():
            raise ValueError("bernoulli_ needs probabilities in [0, 1]")
        draws = numpy_generator(generator).random(self.shape) < probs
        return self._fill_draws(draws, "bernoulli_()")

    def exponential_(
        self, lambd: builtins.float = 1.0, *, generator: GeneratorLike = None
    ) -> Tensor:
        """Fill in place with draws from the exponential distribution of rate ``lambd``
        (density ``lambd * exp(-lambd * x)``), outside autograd (drawn from ``generator``,
        an ``ac.Generator``, if given)."""
        if lambd <= 0:
            raise ValueError(f"exponential_ needs lambd > 0, got {lambd}")
        draws = numpy_generator(generator).exponential(1 / lambd, self.shape)
        return self._fill_random(draws, "exponential_()")

    def geometric_(self, p: builtins.float, *, generator: GeneratorLike = None) -> Tensor:
        """Fill in place with the number of Bernoulli(``p``) trials up to the first success
        (1, 2, ...), outside autograd (drawn from ``generator``, an ``ac.Generator``, if
        given)."""
        if not 0 < p <= 1:
            raise ValueError(f"geometric_ needs 0 < p <= 1, got {p}")
        if self.data.dtype.kind == "b":
            raise TypeError("geometric_ needs a numeric tensor, got dtype bool")
        draws = numpy_generator(generator).geometric(p, self.shape)
        return self._fill_draws(draws, "geometric_()")

    def cauchy_(
        self,
        median: builtins.float = 0.0,
        sigma: builtins.float = 1.0,
        *,
        generator: GeneratorLike = None,
    ) -> Tensor:
        """Fill in place with draws from the Cauchy distribution, outside autograd.

        Args:
            median: The location.
            sigma: The scale (half width at half maximum).
            generator: An ``ac.Generator`` to draw from instead of the global one.
        """
        draws = numpy_generator(generator).standard_cauchy(self.shape) * sigma + median
        return self._fill_random(draws, "cauchy_()")

    def log_normal_(
        self,
        mean: builtins.float = 1.0,
        std: builtins.float = 2.0,
        *,
        generator: GeneratorLike = None,
    ) -> Tensor:
        """Fill in place with ``exp`` of normal draws of ``mean`` and ``std``, outside
        autograd (drawn from ``generator``, an ``ac.Generator``, if given)."""
        draws = numpy_generator(generator).lognormal(mean, std, self.shape)
        return self._fill_random(draws, "log_normal_()")

    def random_(
        self, *bounds: builtins.int, to: builtins.int | None = None, generator: GeneratorLike = None
    ) -> Tensor:
        """Fill in place with integers drawn uniformly, outside autograd.

        ``random_(to)`` draws from ``[0, to)``, ``random_(from, to)`` from ``[from, to)``;
        ``random_()`` from ``[0, 2**(mantissa bits + 1)]`` for floats (every integer there is
        exact) and from 0 to the dtype's largest value for integers, as PyTorch. ``generator``
        (an ``ac.Generator``) is drawn from instead of the global generator if given.
        """
        dtype = self.data.dtype
        if dtype.kind == "f":
            info: Any = np.finfo(dtype)
            low_limit, top = -(2 ** (info.nmant + 1)), 2 ** (info.nmant + 1)
        elif dtype.kind == "b":
            low_limit, top = 0, 1
        else:
            info = np.iinfo(dtype)
            low_limit, top = builtins.int(info.min), builtins.int(info.max)
        if len(bounds) > 2 or (len(bounds) == 2 and to is not None):
            raise TypeError("random_ takes at most two bounds: random_(from, to)")
        if len(bounds) == 2:
            to = bounds[1]
        if to is None and len(bounds) == 1:
            low, high = 0, bounds[0] - 1
        elif to is not None:
            low, high = (bounds[0] if bounds else 0), to - 1
        else:
            low, high = 0, top
        if low > high or low < low_limit or high > top:
            raise ValueError(
                f"random_: cannot draw from [{low}, {high + 1}) into a tensor of dtype {dtype}"
            )
        rng = numpy_generator(generator)
        draws = rng.integers(low, high, self.shape, dtype=np.int64, endpoint=True)
        return self._fill_draws(draws, "random_()")

    def fill_diagonal_(self, fill_value: Scalar, wrap: builtins.bool = False) -> Tensor:
        """Set the main diagonal to ``fill_value`` in place, outside autograd.

        Args:
            fill_value: The value.
            wrap: For a matrix with more rows than columns, start again below the diagonal
                after a row of gap (NumPy's and PyTorch's ``wrap``).
        """
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise ValueError(
                "fill_diagonal_ needs a matrix or a tensor with all dims of one length, "
                f"got shape {self.shape}"
            )
        self._refuse_untracked_change("fill_diagonal_()", None)
        get_array_module(self.data).fill_diagonal(self.data, fill_value, wrap=wrap)
        return self

    def bernoulli(
        self, p: builtins.float | None = None, *, generator: GeneratorLike = None
    ) -> Tensor:
        """0 or 1 per element, 1 with probability self (or ``p``), without gradient
        (``ac.bernoulli``)."""
        from auto_compyute._core import factories

        return factories.bernoulli(self, p, generator=generator)

    def multinomial(
        self,
        num_samples: builtins.int,
        replacement: builtins.bool = False,
        *,
        generator: GeneratorLike = None,
    ) -> Tensor:
        """Category indices drawn with the probabilities proportional to the rows of self
        (``ac.multinomial``)."""
        from auto_compyute._core import factories

        return factories.multinomial(self, num_samples, replacement, generator=generator)

    # ---------------------------------------------------------------- more methods
    def unfold(self, dimension: builtins.int, size: builtins.int, step: builtins.int) -> Tensor:
        """The windows of ``size`` elements, ``step`` apart, along ``dimension``: that axis
        then counts the windows, and a new last axis of ``size`` runs along each one. A view
        (without a copy); the gradient adds up where windows overlap."""
        if step <= 0:
            raise ValueError(f"unfold needs step > 0, got {step}")
        length = self.shape[_dim(dimension, self.ndim)] if self.ndim else 1
        if not 0 <= size <= length:
            raise ValueError(
                f"unfold: size {size} does not fit dim {dimension} of length {length} "
                f"(shape {self.shape})"
            )
        if self.ndim == 0:
            return self.reshape(1)[:size]
        return movement.Unfold.apply(self, dim=_dim(dimension, self.ndim), size=size, step=step)

    def put(self, index: Any, source: Tensor, accumulate: builtins.bool = False) -> Tensor:
        """A copy with ``source`` written at the flat (row-major) positions ``index`` (negative
        ones count from the end), or added there with ``accumulate`` (repeats add up)."""
        index = self._index_array(index, "put")
        count = self.numel()
        if source.numel() != index.size:
            raise ValueError(
                f"put needs as many source elements as indices, got {source.numel()} and "
                f"{index.size}"
            )
        if index.size and not -count <= builtins.int(index.min()) <= index.max() < count:
            raise IndexError(f"put: an index is out of range for {count} elements")
        flat = Tensor._from_op(index.reshape(-1))
        put = self.reshape(-1).index_put((flat,), source.reshape(-1), accumulate)
        return put.reshape(self.shape)

    def index_reduce(
        self,
        dim: builtins.int,
        index: Any,
        source: Tensor,
        reduce: str,
        *,
        include_self: builtins.bool = True,
    ) -> Tensor:
        """A copy with the slices of ``source`` along ``dim`` reduced into the slices at
        ``index`` (1-D; repeats all take part).

        Args:
            dim: The axis that ``index`` points along.
            index: One place for each slice of ``source`` along ``dim``.
            source: A tensor of this dtype and shape except along ``dim``.
            reduce: ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``.
            include_self: Whether this tensor's values at the places reduced into take part.

        The gradients are those of ``scatter_reduce``.
        """
        if reduce not in ("prod", "mean", "amax", "amin"):
            raise ValueError(
                f"index_reduce: reduce must be one of prod, mean, amax, amin, got {reduce!r}"
            )
        dim = _dim(dim, self.ndim)
        index = self._along_index(dim, index, source.shape, "index_reduce")
        return self.scatter_reduce(dim, index, source, reduce, include_self=include_self)

    def _scatter_view(self, src: Tensor, key: Any, what: str, axis: builtins.int = -1) -> Tensor:
        """A copy with ``src`` written at ``self[key]`` (``axis``: where the last axis of
        ``src`` goes in the indexed shape); src gets the gradient read back there."""
        if not isinstance(src, Tensor):
            raise TypeError(f"{what} needs src as a Tensor, got {type(src).__name__}")
        if src.data.dtype != self.data.dtype:
            raise TypeError(f"{what} needs src of the input's dtype {self.dtype}, got {src.dtype}")
        if axis != -1:
            src = src.movedim(-1, axis)
        target = self.data[key].shape
        if src.shape != target:
            raise ValueError(f"{what}: src of shape {src.shape} does not fit the shape {target}")
        return movement.IndexPut.apply(self, src, key=key, accumulate=False)

    def select_scatter(self, src: Tensor, dim: builtins.int, index: builtins.int) -> Tensor:
        """A copy with ``src`` written at ``select(dim, index)``."""
        return self._scatter_view(
            src, (slice(None),) * _dim(dim, self.ndim) + (index,), "select_scatter"
        )

    def slice_scatter(
        self,
        src: Tensor,
        dim: builtins.int = 0,
        start: builtins.int | None = None,
        end: builtins.int | None = None,
        step: builtins.int = 1,
    ) -> Tensor:
        """A copy with ``src`` written at the slice ``start:end:step`` along ``dim``."""
        if step <= 0:
            raise ValueError(f"slice_scatter needs step > 0, got {step}")
        key = (slice(None),) * _dim(dim, self.ndim) + (slice(start, end, step),)
        return self._scatter_view(src, key, "slice_scatter")

    def diagonal_scatter(
        self, src: Tensor, offset: builtins.int = 0, dim1: builtins.int = 0, dim2: builtins.int = 1
    ) -> Tensor:
        """A copy with ``src`` written at ``diagonal(offset, dim1, dim2)`` (the diagonal along
        the last axis of ``src``)."""
        first, second = _dim(dim1, self.ndim), _dim(dim2, self.ndim)
        if first == second:
            raise ValueError(f"diagonal_scatter needs two different dims, got {dim1} and {dim2}")
        start_row, start_col = builtins.max(-offset, 0), builtins.max(offset, 0)
        rows, cols = self.shape[first], self.shape[second]
        length = builtins.max(builtins.min(rows - start_row, cols - start_col), 0)
        steps = get_array_module(self.data).arange(length)
        key: list[Any] = [slice(None)] * self.ndim
        key[first], key[second] = steps + start_row, steps + start_col
        # NOTE: NumPy puts the axis of two index arrays where they stand when they are
        # neighbours, else first
        axis = builtins.min(first, second) if builtins.abs(first - second) == 1 else 0
        return self._scatter_view(src, tuple(key), "diagonal_scatter", axis)

    def sum_to_size(self, *size: Any) -> Tensor:
        """The sum over the axes that ``size`` broadcasts along (to this shape), of ``size``."""
        shape = _shape_args(size)
        lead = self.ndim - len(shape)
        if lead < 0 or any(s not in (1, n) for s, n in zip(shape, self.shape[lead:], strict=True)):
            raise ValueError(
                f"sum_to_size: size {shape} does not broadcast to the shape {self.shape}"
            )
        dims = (*range(lead), *(lead + i for i, s in enumerate(shape) if s != self.shape[lead + i]))
        return self.sum(dims, keepdim=True).reshape(shape) if dims else self

    def split_with_sizes(
        self, split_sizes: Sequence[builtins.int], dim: builtins.int = 0
    ) -> tuple[Tensor, ...]:
        """Cut along ``dim`` into pieces of the given sizes (which must add up to its length)."""
        return self.split(list(split_sizes), dim)

    unsafe_split, unsafe_split_with_sizes = split, split_with_sizes

    def unsafe_chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """``chunk`` (PyTorch's unchecked variant; here the same)."""
        return self.chunk(chunks, dim)

    def fliplr(self) -> Tensor:
        """The columns (dim 1) in reverse order; needs at least 2 dims."""
        if self.ndim < 2:
            raise ValueError(f"fliplr needs at least 2 dims, got shape {self.shape}")
        return self.flip(1)

    def flipud(self) -> Tensor:
        """The rows (dim 0) in reverse order; needs at least 1 dim."""
        if self.ndim < 1:
            raise ValueError("flipud needs at least 1 dim, got a 0-d tensor")
        return self.flip(0)

    def fix(self) -> Tensor:
        """Round toward zero (as ``trunc``)."""
        return self.trunc()

    def bitwise_left_shift(self, other: Any) -> Tensor:
        """Elementwise ``self << other`` on integer tensors."""
        return self._bitwise(other, np.left_shift, "bitwise_left_shift")

    def bitwise_right_shift(self, other: Any) -> Tensor:
        """Elementwise ``self >> other`` on integer tensors (arithmetic for signed ones)."""
        return self._bitwise(other, np.right_shift, "bitwise_right_shift")

    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def argwhere(self) -> Tensor:
        """The indices of the non-zero elements, one row each (as ``nonzero``)."""
        return self.nonzero()

    def diag(self, diagonal: builtins.int = 0) -> Tensor:
        """A matrix with this 1-D tensor on a diagonal, or a diagonal of this matrix
        (``ac.diag``)."""
        from auto_compyute._core import functions

        return functions.diag(self, diagonal)

    def dot(self, other: Tensor) -> Tensor:
        """The dot product of two 1-D tensors of one length (``ac.dot``)."""
        from auto_compyute._core import functions

        return functions.dot(self, other)

    def outer(self, other: Tensor) -> Tensor:
        """The outer product with another 1-D tensor (``ac.outer``; alias ``ger``)."""
        from auto_compyute._core import functions

        return functions.outer(self, other)

    ger = outer

    def isclose(
        self,
        other: Any,
        rtol: builtins.float = 1e-5,
        atol: builtins.float = 1e-8,
        equal_nan: builtins.bool = False,
    ) -> Tensor:
        """Elementwise ``|self - other| <= atol + rtol * |other|`` (``ac.isclose``)."""
        from auto_compyute._core import functions

        return functions.isclose(self, other, rtol, atol, equal_nan)

    def allclose(
        self,
        other: Any,
        rtol: builtins.float = 1e-5,
        atol: builtins.float = 1e-8,
        equal_nan: builtins.bool = False,
    ) -> builtins.bool:
        """True if ``isclose`` holds everywhere (``ac.allclose``)."""
        from auto_compyute._core import functions

        return functions.allclose(self, other, rtol, atol, equal_nan)

    def is_same_size(self, other: Tensor) -> builtins.bool:
        """True if ``other`` has this shape."""
        return self.shape == other.shape

    def ndimension(self) -> builtins.int:
        """The number of axes (as ``dim()``)."""
        return self.data.ndim

    def nelement(self) -> builtins.int:
        """The number of elements (as ``numel()``)."""
        return builtins.int(self.data.size)

    # Tensors here are real: the complex-number views are the tensor itself.
    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (the transpose, for real tensors)."""
        if self.ndim not in (0, 2):
            raise ValueError(f"H needs a matrix (2-D tensor), got shape {self.shape}")
        return self if self.ndim == 0 else self.transpose(0, 1)

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of the last two axes (``mT``, for real tensors)."""
        return self.mT

    def adjoint(self) -> Tensor:
        """The conjugate transpose of the last two axes (``mT``, for real tensors)."""
        return self.mT

    @property
    def real(self) -> Tensor:
        """The real part: the tensor itself."""
        return self

    def conj(self) -> Tensor:
        """The complex conjugate: the tensor itself (for ``conj_physical``, ``resolve_conj``
        and ``resolve_neg`` too)."""
        return self

    conj_physical = resolve_conj = resolve_neg = conj

    def conj_physical_(self) -> Tensor:
        """The complex conjugate in place: nothing to do on real tensors."""
        return self

    def is_complex(self) -> builtins.bool:
        """False: tensors here are real."""
        return False

    def is_conj(self) -> builtins.bool:
        """False: no tensor here is a lazily conjugated view."""
        return False

    def is_neg(self) -> builtins.bool:
        """False: no tensor here is a lazily negated view."""
        return False

    def is_inference(self) -> builtins.bool:
        """False: ``ac.inference_mode`` makes ordinary tensors."""
        return False

    def is_signed(self) -> builtins.bool:
        """True for the signed dtypes: the floats and int8 to int64."""
        return self.data.dtype.kind in "fi"

    @property
    def is_cpu(self) -> builtins.bool:
        return type(self.data) is np.ndarray

    @property
    def is_cuda(self) -> builtins.bool:
        return self.device.type == "cuda"

    def get_device(self) -> builtins.int:
        """The index of the device, or -1 on the CPU."""
        return -1 if type(self.data) is np.ndarray else self.device.index

    def pin_memory(self) -> Tensor:
        """Self: CPU arrays here are not page-locked, so there is nothing to do on the CPU."""
        if type(self.data) is not np.ndarray:
            raise RuntimeError(f"only CPU tensors can be pinned, got one on {self.device}")
        return self

    def is_pinned(self) -> builtins.bool:
        """False: see ``pin_memory``."""
        return False

    def type(self, dtype: Any = None) -> Any:
        """The type name, or a conversion.

        Args:
            dtype: None to get the name: ``"auto_compyute.FloatTensor"`` (float32 on the CPU),
                ``"auto_compyute.cuda.LongTensor"`` (int64 on a GPU), ... (PyTorch's names
                with ``auto_compyute`` for ``torch``). Else a dtype or such a name (with
                ``torch`` too) to convert to (a name with ``cuda`` also moves to the GPU).

        Returns:
            The name, or the converted tensor (self if nothing changes).
        """
        on_gpu = type(self.data) is not np.ndarray
        if dtype is None:
            return f"auto_compyute.{'cuda.' if on_gpu else ''}{_TYPE_NAMES[self.data.dtype]}"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            *prefix, name = dtype.split(".")
            found = [d for d, n in _TYPE_NAMES.items() if n == name]
            if not found or prefix[1:] not in ([], ["cuda"]):
                raise TypeError(f"unknown tensor type {dtype!r}")
            device = "cuda" if prefix[1:] == ["cuda"] else "cpu"
            return self.to(device=device, dtype=found[0])
        return self.to(dtype=dtype)

    def byte(self) -> Tensor:
        return self.to(dtype=dtypes.uint8)

    def char(self) -> Tensor:
        return self.to(dtype=dtypes.int8)

    def short(self) -> Tensor:
        return self.to(dtype=dtypes.int16)

    @property
    def retains_grad(self) -> builtins.bool:
        """True for a non-leaf tensor whose ``retain_grad()`` was called."""
        if self.ctx is None:
            return False
        retained = self.ctx.__dict__.get("_retain")
        return retained is not None and retained() is self

    def data_ptr(self) -> builtins.int:
        """The address of the first element in memory."""
        return _address(self.data)

    const_data_ptr = data_ptr

    def storage_offset(self) -> builtins.int:
        """How many elements after the start of the array whose memory this tensor views its
        first element lies (0 for a tensor that owns its memory, or views memory that is not
        an array, as ``from_numpy`` of a buffer)."""
        base = self.data
        while isinstance(base.base, type(self.data)):
            base = base.base
        return (_address(self.data) - _address(base)) // self.data.itemsize

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:
        """Replace each element ``x`` by ``callable(x)`` (Python numbers in and out) in place,
        outside autograd. CPU only and slow: one Python call per element."""
        if type(self.data) is not np.ndarray:
            raise RuntimeError(f"apply_ works on CPU tensors only, got one on {self.device}")
        self._refuse_untracked_change("apply_()", None)
        self.data[...] = np.frompyfunc(callable, 1, 1)(self.data)
        return self

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        """Replace each element ``x`` by ``callable(x, y)``, ``y`` the element of ``tensor``
        (broadcast to this shape) in place, outside autograd. CPU only and slow: one Python
        call per element."""
        if type(self.data) is not np.ndarray or type(tensor.data) is not np.ndarray:
            raise RuntimeError("map_ works on CPU tensors only")
        self._refuse_untracked_change("map_()", tensor)
        try:
            other = np.broadcast_to(tensor.data, self.shape)
        except ValueError:
            raise ValueError(
                f"map_: a tensor of shape {tensor.shape} does not broadcast to {self.shape}"
            ) from None
        self.data[...] = np.frompyfunc(callable, 2, 1)(self.data, other)
        return self

    def map2_(self, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:
        """Replace each element ``s`` by ``callable(s, a, b)``, ``a`` and ``b`` the elements of
        ``x`` and ``y`` (broadcast to this shape), in place, outside autograd. CPU only and
        slow: one Python call per element."""
        if any(type(t.data) is not np.ndarray for t in (self, x, y)):
            raise RuntimeError("map2_ works on CPU tensors only")
        self._refuse_untracked_change("map2_()", x if x._req_grad else y)
        try:
            a, b = (np.broadcast_to(t.data, self.shape) for t in (x, y))
        except ValueError:
            raise ValueError(
                f"map2_: tensors of shapes {x.shape} and {y.shape} do not broadcast to {self.shape}"
            ) from None
        self.data[...] = np.frompyfunc(callable, 3, 1)(self.data, a, b)
        return self

    def nonzero_static(self, *, size: builtins.int, fill_value: builtins.int = -1) -> Tensor:
        """``nonzero()`` cut or padded with rows of ``fill_value`` to ``size`` rows."""
        found = self.nonzero()
        if found.shape[0] >= size:
            return found[:size]
        padding = get_array_module(self.data).full(
            (size - found.shape[0], self.ndim), fill_value, dtype=np.int64
        )
        return Tensor._from_op(get_array_module(self.data).concatenate([found.data, padding]))

    def hardshrink(self, lambd: builtins.float = 0.5) -> Tensor:
        """self where ``|self| > lambd``, else 0."""
        return self.where(self.abs() > lambd, 0.0)

    def qr(self, some: builtins.bool = True) -> Any:
        """The QR decomposition ``(Q, R)`` of each matrix: reduced, or complete with
        ``some=False`` (``ac.linalg.qr``)."""
        from auto_compyute._core import linalg as la

        return la.qr(self, mode="reduced" if some else "complete")

    def cholesky_solve(self, input2: Tensor, upper: builtins.bool = False) -> Tensor:
        """The solution X of ``A X = self``, with ``A = L L^T`` given by its Cholesky factor
        ``input2`` (lower, or upper ``U`` with ``A = U^T U`` if ``upper``)."""
        from auto_compyute._core import linalg as la

        half = la.solve_triangular(input2.mT if upper else input2, self, upper=False)
        return la.solve_triangular(input2 if upper else input2.mT, half, upper=True)

    def cholesky_inverse(self, upper: builtins.bool = False) -> Tensor:
        """The inverse of ``A = L L^T`` given by its Cholesky factor, self (lower, or upper
        ``U`` with ``A = U^T U`` if ``upper``)."""
        xp = get_array_module(self.data)
        identity = xp.broadcast_to(xp.eye(self.shape[-1], dtype=self.data.dtype), self.shape)
        return Tensor._from_op(identity).cholesky_solve(self, upper)

    def new(self, *args: Any) -> Tensor:
        """A new tensor of this dtype and device: ``new()`` is empty, ``new(2, 3)`` of that
        shape with unset values, ``new(data)`` a copy of ``data`` (PyTorch's legacy form)."""
        if not args:
            return self.new_empty(0)
        if all(isinstance(a, builtins.int) for a in args):
            return self.new_empty(*args)
        if len(args) == 1:
            return self.new_tensor(args[0])
        raise TypeError(f"new takes ints (a shape) or one sequence of data, got {args!r}")

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(tensor)`` after backward has accumulated this leaf's ``grad`` (e.g. to
        step an optimizer per parameter); what it returns is ignored.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        if self.ctx is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf tensors")
        if not self._req_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = {}
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle


autograd._Tensor = Tensor

_constants: dict[tuple[type, Scalar, np.dtype], Tensor] = {}


def _check_integer_divisor(a: Tensor, b: Tensor | Scalar | Array, what: str) -> None:
    """Raise where an integer division of ``a`` by ``b`` would divide by zero (NumPy gives 0
    and a warning; PyTorch raises)."""
    if a.data.dtype.kind not in "biu":
        return
    divisor = b.data if isinstance(b, Tensor) else get_array_module(a.data).asarray(b)
    if divisor.dtype.kind in "biu" and not divisor.all():
        raise ZeroDivisionError(f"{what}: integer division by zero")


def _cpu_constant(value: Scalar, dtype: np.dtype) -> Tensor:
    """A read-only 0-d CPU tensor for a Python scalar, cached: ``x * 0.5`` runs in loops."""
    key = (type(value), value, dtype)
    constant = _constants.get(key)
    if constant is None:
        if len(_constants) >= 1024:
            _constants.clear()
        array = np.asarray(value, dtype=dtype)
        array.flags.writeable = False
        constant = _constants[key] = Tensor._from_op(array)
    return constant


def _add_scaled(what: str, x: Tensor, product: Tensor, beta: Scalar, alpha: Scalar) -> Tensor:
    """beta * x + alpha * product, with x broadcast to the product's shape; with beta = 0, x
    only gets a zero gradient (its NaN and inf do not propagate), as in PyTorch."""
    try:
        fits = np.broadcast_shapes(x.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{what}: input of shape {x.shape} does not broadcast to the product's shape "
            f"{product.shape}"
        )
    scaled = product if alpha == 1 else alpha * product
    if beta == 0:
        return scaled + x.masked_fill(True, 0)
    return (x if beta == 1 else beta * x) + scaled


def _address(array: Array) -> int:
    """The address in memory of an array's first element (NumPy or CUDA arrays)."""
    interface = getattr(array, "__array_interface__", None)
    if interface is None:
        interface = array.__cuda_array_interface__
    return int(interface["data"][0])


def _op_output_hooks(op: Op) -> dict[int, Any]:
    """The hooks on the gradient of ``op``'s result, run before its backward (then the
    result's ``retain_grad``, if asked for).

    NOTE: they live in the op's ``__dict__`` with a ``backward`` that shadows the class's,
    so backward pays nothing for ops without hooks (and both go when the graph is freed).
    """
    hooks: dict[int, Any] | None = op.__dict__.get("_output_hooks")
    if hooks is None:
        hooks = op.__dict__["_output_hooks"] = {}
        backward = type(op).backward

        def backward_with_hooks(grad: Array) -> Any:
            return backward(op, _run_output_hooks(op, grad))

        op.__dict__["backward"] = backward_with_hooks
    return hooks


def _stable_order(data: Array, dim: int, descending: bool) -> Array:
    """Indices that sort ``data`` along ``dim``; equal values keep their order either way."""
    xp = get_array_module(data)
    if data.ndim == 0:
        return xp.zeros((), dtype=np.int64)
    if not descending:
        return xp.argsort(data, axis=dim, kind="stable")
    # NOTE: a stable ascending sort of the reversed data, reversed, is descending with ties
    # in their first order (negating would not do for unsigned integers).
    size = data.shape[dim]
    return (
        size - 1 - xp.flip(xp.argsort(xp.flip(data, axis=dim), axis=dim, kind="stable"), axis=dim)
    )


def _top_order(data: Array, dim: int, k: int, largest: bool) -> Array:
    """``_stable_order(data, dim, largest)`` cut to its first ``k``, without sorting whole rows.

    NOTE: the k-th value of each row comes from a partial sort (``partition``); the values
    beyond it and the first of those equal to it (in index order) are the k picks, and only
    they are sorted: ``topk(10)`` of 30,000 values took a full sort's 570 ms before. Rows
    with NaN, and k near the row's length, take the full sort.
    """
    xp, size = get_array_module(data), data.shape[dim]
    if (
        xp is not np
        or k * 8 > size
        or data.dtype.kind not in "iuf"
        or (data.dtype.kind == "f" and np.isnan(data).any())
    ):
        return _stable_order(data, dim, largest)[(slice(None),) * dim + (slice(0, k),)]
    rows = np.moveaxis(data, dim, -1)
    kth = size - k if largest else k - 1
    threshold = np.partition(rows, kth, axis=-1)[..., kth : kth + 1]
    beyond = rows > threshold if largest else rows < threshold
    equal = rows == threshold
    missing = k - beyond.sum(axis=-1, keepdims=True)
    if (equal.sum(axis=-1, keepdims=True) > missing).any():  # ties across the k-th place
        equal &= np.cumsum(equal, axis=-1) <= missing
    picked = beyond | equal
    indices = np.nonzero(picked)[-1].reshape(*rows.shape[:-1], k)  # ascending in each row
    order = _stable_order(np.take_along_axis(rows, indices, axis=-1), -1, largest)
    return np.moveaxis(np.take_along_axis(indices, order, axis=-1), -1, dim)


def _variance_args(dim: Dim | bool, correction: int, unbiased: bool | None) -> tuple[Dim, int]:
    """``var``'s and ``std``'s dim and correction from PyTorch's overloads: ``unbiased``, or a
    bool in place of ``dim``, sets the correction to 1 or 0."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return dim, correction if unbiased is None else int(unbiased)


def _power_norm(x: Tensor, p: float, dims: tuple[int, ...] | None, keepdim: bool) -> Tensor:
    """``(sum |x|^p)^(1/p)`` with PyTorch's gradients at zeros: the formula's own are NaN
    (0 * inf) at a zero element for p < 1 and at a zero norm for p > 1.

    NOTE: the zeros are replaced by 1 before any power (and their terms masked after), so
    that no intermediate is infinite; for p < 0 a zero element makes the norm 0.
    """
    magnitude = x.abs()
    nonzero = magnitude.data != 0
    mask = Tensor._from_op(nonzero)
    powers = magnitude.where(mask, 1.0) ** p
    if p < 0:
        has_zero = Tensor._from_op(~nonzero.all(axis=dims, keepdims=keepdim))
        return (powers.sum(dims, keepdim) ** (1 / p)).where(~has_zero, 0.0)
    total = powers.where(mask, 0.0).sum(dims, keepdim)
    positive = Tensor._from_op(total.data > 0)
    return (total.where(positive, 1.0) ** (1 / p)).where(positive, 0.0)


def _dims(dim: Dim, ndim: int) -> tuple[int, ...] | None:
    """Normalize ``dim`` (an int, a sequence or None) to a tuple of non-negative axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, builtins.int) else tuple(dim)
    axes = max(ndim, 1)
    for d in dims:
        if not -axes <= d < axes:
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimension(s)")
    if ndim == 0:  # PyTorch lets dim 0 and -1 name a 0-d tensor's only "axis": none to reduce
        return ()
    return tuple(d % axes for d in dims)


def _dim(dim: int, ndim: int) -> int:
    """Normalize one axis (a 0-d tensor has axis 0, as PyTorch lets dim 0 and -1 name it)."""
    (axis,) = _dims(dim, ndim) or (0,)
    return axis


def _shape_args(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(args) == 1 and not isinstance(args[0], builtins.int):
        return tuple(args[0])
    return tuple(args)


def _resolve_shape(shape: tuple[int, ...], old: tuple[int, ...]) -> tuple[int, ...]:
    """Check that ``old`` can be reshaped to ``shape`` and fill in a -1."""
    total = math.prod(old)
    if -1 not in shape:
        if math.prod(shape) != total:
            raise ValueError(
                f"cannot reshape a tensor of shape {old} ({total} elements) into {shape}"
            )
        return shape
    at = shape.index(-1)
    rest = shape[:at] + shape[at + 1 :]
    if -1 in rest:
        raise ValueError(f"only one size may be -1, got shape {shape}")
    known = math.prod(rest)
    if known == 0 or total % known:
        raise ValueError(f"cannot reshape a tensor of shape {old} into {shape}")
    return (*shape[:at], total // known, *shape[at + 1 :])


def _integers_first(key: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """For an index that mixes integers with index arrays, the two keys PyTorch applies one
    after the other: the integers (selecting, as ``select`` does), then the rest.

    NOTE: NumPy counts an integer as one more index array there, which moves the arrays'
    axes: ``x[0, :, [0, 3]]`` of a (2, 3, 4) array is (2, 3) in NumPy, (3, 2) in PyTorch.
    None where NumPy's reading is PyTorch's.
    """
    if not isinstance(key, tuple) or not any(map(_is_index_array, key)):
        return None
    if not any(map(_is_integer, key)):
        return None
    integers: list[Any] = []
    rest: list[Any] = []
    for k in key:
        if _is_integer(k):
            integers.append(builtins.int(k))
        elif k is None:
            integers.append(None)
            rest.append(slice(None))
        elif k is Ellipsis:
            integers.append(Ellipsis)
            rest.append(Ellipsis)
        else:  # a slice, or an array (a boolean mask covers as many axes as it has)
            mask = _is_index_array(k) and k.dtype == np.bool_
            integers += [slice(None)] * (k.ndim if mask else 1)
            rest.append(k)
    return tuple(integers), tuple(rest)


def _is_integer(k: Any) -> bool:
    """A Python or NumPy integer, or a 0-d integer array, in an index."""
    if isinstance(k, builtins.bool):
        return False
    return isinstance(k, builtins.int | np.integer) or (
        getattr(k, "ndim", None) == 0 and k.dtype.kind in "iu"
    )


def _is_index_array(k: Any) -> bool:
    """An array of indices or a boolean mask (of any number of axes) in an index."""
    return getattr(k, "ndim", 0) > 0 or getattr(k, "dtype", None) == np.bool_


def _index_key(key: Any, tensor: Tensor) -> Any:
    """Turn tensors and lists inside an index into arrays on the tensor's device."""
    if isinstance(key, builtins.int | slice) or key is None or key is Ellipsis:
        return key
    if isinstance(key, tuple):
        return tuple(_index_key(k, tensor) for k in key)
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list | np.ndarray):
        array = np.asarray(key)
        return array if type(tensor.data) is np.ndarray else move_array(array, tensor.device)
    return key
