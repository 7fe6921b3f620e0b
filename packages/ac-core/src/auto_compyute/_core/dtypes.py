"""Data types and PyTorch-like type promotion.

A dtype is a plain ``numpy.dtype``: NumPy and CuPy arrays share them, so a tensor's
dtype is just ``tensor.data.dtype``.
"""

from typing import Any

import numpy as np

DType = np.dtype

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_DEFAULT_FLOAT = float32
_BY_NAME: dict[str, np.dtype] = {
    "float16": float16,
    "half": float16,
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "int8": int8,
    "int16": int16,
    "int32": int32,
    "int": int32,
    "int64": int64,
    "long": int64,
    "uint8": uint8,
    "bool": bool_,
}
SUPPORTED = frozenset(_BY_NAME.values())
NAMES = frozenset(_BY_NAME)


def get_default_dtype() -> np.dtype:
    """Return the dtype of tensors made from Python floats and of new parameters."""
    return _DEFAULT_FLOAT


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of tensors made from Python floats and of new parameters (float32 at
    start): float16, float32 or float64, as ``torch.set_default_dtype``."""
    global _DEFAULT_FLOAT
    resolved = to_dtype(dtype)
    if resolved.kind != "f":
        raise TypeError(f"the default dtype must be a floating-point dtype, got {resolved}")
    _DEFAULT_FLOAT = resolved


def to_dtype(dtype: Any) -> np.dtype:
    """Turn a dtype, a NumPy type or a name such as ``"float32"`` into a supported dtype."""
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None
    if result not in SUPPORTED:
        names = ", ".join(sorted({d.name for d in SUPPORTED}))
        raise TypeError(f"dtype {result} is not supported; use one of {names}")
    return result


def is_floating_point(dtype: np.dtype) -> bool:
    """Return True for float16, float32 and float64."""
    return dtype.kind == "f"


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """Result dtype of a binary op between two tensors, as PyTorch computes it.

    Floats win over integers without widening (int64 + float32 -> float32);
    otherwise NumPy's rules apply.
    """
    if a == b:
        return a
    a_float, b_float = a.kind == "f", b.kind == "f"
    if a_float != b_float:
        return a if a_float else b
    return np.promote_types(a, b)


def scalar_dtype(value: Any, other: np.dtype) -> np.dtype:
    """Dtype that a Python scalar takes next to a tensor of dtype ``other``.

    Python scalars never widen a tensor: ``float32 * 2.0`` stays float32, while
    ``int64 * 2.5`` becomes the default float dtype.
    """
    if isinstance(value, bool):
        return other
    if isinstance(value, int):
        return other if other != bool_ else int64
    if isinstance(value, float):
        return other if other.kind == "f" else _DEFAULT_FLOAT
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


def infer_dtype(data: Any) -> np.dtype:
    """Dtype of a tensor built from Python data or an array, following PyTorch's defaults."""
    if hasattr(data, "dtype"):
        dtype = np.dtype(data.dtype)
        return dtype if dtype in SUPPORTED else to_dtype(dtype)
    kind = np.asarray(data).dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return int64
    if kind == "f":
        return _DEFAULT_FLOAT
    raise TypeError(f"cannot make a tensor from data of type {type(data).__name__}")
