"""Functions that create tensors: from data, filled with constants, ranges and random values."""

from __future__ import annotations

from typing import Any

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.devices import Device
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor, _shape_args

DeviceLike = str | Device | None


def _make(array: np.ndarray, dtype: Any, device: DeviceLike, req_grad: bool) -> Tensor:
    return Tensor(array, dtype=dtype, device=device, req_grad=req_grad)


def tensor(
    data: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested sequence, array or Tensor)."""
    if isinstance(data, Tensor):
        data = data.data
    copied = data.copy() if hasattr(data, "copy") and hasattr(data, "dtype") else data
    return Tensor(copied, dtype=dtype, device=device, req_grad=req_grad)


def _float(dtype: Any) -> np.dtype:
    return dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def zeros(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A tensor of zeros, e.g. ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape_args(shape), _float(dtype)), None, device, req_grad)


def ones(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A tensor of ones."""
    return _make(np.ones(_shape_args(shape), _float(dtype)), None, device, req_grad)


def empty(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A tensor with unspecified values."""
    return _make(np.empty(_shape_args(shape), _float(dtype)), None, device, req_grad)


def full(
    shape: Any,
    fill_value: Any,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value if not given)."""
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.infer_dtype(fill_value)
    return _make(np.full(_shape_args((shape,)), fill_value, dtype), None, device, req_grad)


def _like(x: Tensor, dtype: Any, device: DeviceLike) -> dict[str, Any]:
    return {
        "dtype": dtype if dtype is not None else x.dtype,
        "device": device if device is not None else x.device,
    }


def zeros_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Zeros with the shape (and by default dtype and device) of ``x``."""
    return zeros(x.shape, **_like(x, dtype, device), req_grad=req_grad)


def ones_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Ones with the shape (and by default dtype and device) of ``x``."""
    return ones(x.shape, **_like(x, dtype, device), req_grad=req_grad)


def empty_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """An uninitialised tensor with the shape (and by default dtype and device) of ``x``."""
    return empty(x.shape, **_like(x, dtype, device), req_grad=req_grad)


def full_like(
    x: Tensor, fill_value: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """``fill_value`` with the shape (and by default dtype and device) of ``x``."""
    return full(x.shape, fill_value, **_like(x, dtype, device), req_grad=req_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """Values from ``start`` (included) to ``end`` (excluded) by ``step``; ``arange(n)``: 0..n-1."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), None, device, req_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    return _make(np.linspace(start, end, steps, dtype=_float(dtype)), None, device, req_grad)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """A 2-D tensor with ones on the diagonal and zeros elsewhere."""
    return _make(np.eye(n, m, dtype=_float(dtype)), None, device, req_grad)


def rand(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Uniform random values in [0, 1)."""
    dtype = _float(dtype)
    array = get_generator().random(_shape_args(shape), dtype=np.float64).astype(dtype)
    return _make(array, None, device, req_grad)


def randn(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Standard normal random values."""
    dtype = _float(dtype)
    array = get_generator().standard_normal(_shape_args(shape), dtype=np.float64).astype(dtype)
    return _make(array, None, device, req_grad)


def rand_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Uniform random values with the shape (and by default dtype and device) of ``x``."""
    return rand(x.shape, **_like(x, dtype, device), req_grad=req_grad)


def randn_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Standard normal random values with the shape (and by default dtype and device) of ``x``."""
    return randn(x.shape, **_like(x, dtype, device), req_grad=req_grad)


def randint(
    low: int, high: int | None = None, size: Any = (), dtype: Any = None, device: DeviceLike = None
) -> Tensor:
    """Random integers in ``[low, high)``; ``randint(high, size)`` draws from ``[0, high)``."""
    if high is None:
        low, high = 0, low
    if isinstance(size, int):
        size = (size,)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    return _make(get_generator().integers(low, high, size).astype(dtype), None, device, False)


def randperm(n: int, dtype: Any = None, device: DeviceLike = None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    return _make(get_generator().permutation(n).astype(dtype), None, device, False)
