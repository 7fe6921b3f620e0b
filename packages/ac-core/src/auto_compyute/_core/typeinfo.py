"""Facts about dtypes (``finfo``, ``iinfo``) and the type promotion of binary ops
(``promote_types``, ``result_type``, ``can_cast``), as PyTorch's functions of those names."""

from __future__ import annotations

from typing import Any

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.tensor import Tensor

# NOTE: the order of the categories PyTorch promotes and casts by: bool < integer < float.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


class finfo:
    """Machine limits of a floating-point dtype (the default float dtype if none is given).

    Attributes:
        bits: Bits per value.
        eps: The gap between 1.0 and the next larger value.
        max: The largest finite value.
        min: The most negative finite value (``-max``).
        tiny: The smallest positive normal value (same as ``smallest_normal``).
        smallest_normal: The smallest positive normal value.
        resolution: ``10 ** -precision``, the approximate decimal resolution.
        dtype: The dtype's name, e.g. ``"float32"``.
    """

    def __init__(self, type: Any = None) -> None:
        dtype = dtypes.get_default_dtype() if type is None else dtypes.to_dtype(type)
        if dtype.kind != "f":
            raise TypeError(f"finfo needs a floating-point dtype, got {dtype}; use iinfo")
        info = np.finfo(dtype)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.smallest_normal = float(info.smallest_normal)
        self.tiny = self.smallest_normal
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
            f"tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:
    """Machine limits of an integer dtype.

    Attributes:
        bits: Bits per value.
        max: The largest value.
        min: The smallest value.
        dtype: The dtype's name, e.g. ``"int64"``.
    """

    def __init__(self, type: Any) -> None:
        dtype = dtypes.to_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo needs an integer dtype, got {dtype}; use finfo for floats")
        info = np.iinfo(dtype)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The dtype a binary op between tensors of ``type1`` and ``type2`` computes in: the
    higher category (bool < integer < float) wins without widening, and within one
    category the smallest dtype that holds both (``uint8`` and ``int8`` give ``int16``)."""
    return dtypes.promote_types(dtypes.to_dtype(type1), dtypes.to_dtype(type2))


def _operand_dtype(value: Any, name: str) -> np.dtype:
    if isinstance(value, Tensor):
        return value.dtype
    if isinstance(value, bool | int | float):
        return dtypes.infer_dtype(value)
    raise TypeError(f"result_type: {name} must be a Tensor or a number, got {type(value).__name__}")


def result_type(tensor1: Any, tensor2: Any) -> np.dtype:
    """The dtype of ``tensor1 <op> tensor2`` for an arithmetic op, each a Tensor or a
    Python number, exactly as this library's binary ops promote.

    Two tensors promote with ``promote_types``. A number next to a tensor takes the tensor's
    dtype unless it is of a higher category (a float next to an integer tensor gives the
    default float dtype; an int next to a bool tensor gives int64). Two numbers give the
    dtype of the higher category's default (int64 or the default float dtype).
    """
    first = _operand_dtype(tensor1, "tensor1")
    second = _operand_dtype(tensor2, "tensor2")
    first_is_tensor, second_is_tensor = isinstance(tensor1, Tensor), isinstance(tensor2, Tensor)
    if first_is_tensor and not second_is_tensor:
        return dtypes.scalar_dtype(tensor2, first)
    if second_is_tensor and not first_is_tensor:
        return dtypes.scalar_dtype(tensor1, second)
    return dtypes.promote_types(first, second)


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to be cast to ``to`` in an op with an
    output of dtype ``to``: only never down a category (bool < integer < float); within a
    category any cast is allowed (``float64`` to ``float16``, ``int8`` to ``uint8``)."""
    source, target = dtypes.to_dtype(from_), dtypes.to_dtype(to)
    return _CATEGORY[source.kind] <= _CATEGORY[target.kind]
