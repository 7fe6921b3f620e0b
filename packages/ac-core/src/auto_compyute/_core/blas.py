"""Array work that BLAS does faster than NumPy's own loops.

``axpy``: ``y += alpha x`` in one pass, through the OpenBLAS that NumPy loaded. NumPy has
no fused multiply-add for arrays: ``y -= lr * x`` is two passes over memory and a
temporary. OpenBLAS's ``saxpy``/``daxpy`` make one, on OpenBLAS's threads: a plain SGD
step over a 784-512-512-10 MLP's parameters took 100 instead of 295 us (PyTorch:
185 us). Only NumPy's own OpenBLAS build (64-bit integers, ``scipy_`` prefix) is used;
anything else gets the two NumPy passes.

``sum_by_product``: the sums of a matrix's rows or columns as a product with a vector of
ones, which NumPy hands to BLAS.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from auto_compyute._core.devices import get_array_module
from auto_compyute._core.parallel import openblas_libraries

_AXPY_SYMBOLS: dict[np.dtype[Any], tuple[str, Any]] = {
    np.dtype(np.float32): ("scipy_cblas_saxpy64_", ctypes.c_float),
    np.dtype(np.float64): ("scipy_cblas_daxpy64_", ctypes.c_double),
}
BLAS_FLOATS = frozenset(_AXPY_SYMBOLS)  # the dtypes that BLAS products take
_axpy: dict[np.dtype[Any], Any] | None = None  # dtype -> the BLAS function, found on first use
# NOTE: a call through ctypes costs about 3.5 us; below this many elements NumPy's two
# passes are faster (5,120: 2.0 against 4.0 us; 65,536: 13.5 against 7.5 us)
_MIN_SIZE = 1 << 15


def axpy(alpha: float, x: Any, y: Any) -> None:
    """``y += alpha * x`` in place, for arrays of the same shape and dtype."""
    global _axpy
    if _axpy is None:
        _axpy = _find_axpy()
    function = _axpy.get(y.dtype)
    if (
        function is None
        or y.size < _MIN_SIZE
        or type(x) is not np.ndarray
        or type(y) is not np.ndarray
        or x.dtype != y.dtype
        or x.shape != y.shape
        or not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)
    ):
        y += get_array_module(y).multiply(x, alpha, dtype=y.dtype)
        return
    function(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


def sum_by_product(matrix: Any, axis: int) -> Any:
    """A 2-D array's sums over ``axis`` (0: down each column, 1: along each row), as a
    product with a vector of ones.

    NOTE: NumPy sums along short rows one row at a time, and down the columns of a
    column-major matrix slowly: a (2048, 65) matrix's row sums took 54 us with ``sum`` and
    10 us as a product, a column-major (128, 512) one's column sums 18 against 4 us.
    """
    ones = get_array_module(matrix).empty(matrix.shape[axis], dtype=matrix.dtype)
    ones.fill(1)
    return ones @ matrix if axis == 0 else matrix @ ones


def is_one_matrix(array: Any) -> bool:
    """Whether ``array`` is a C-contiguous array, or a column-major 2-D one, of a float
    dtype that BLAS products take: one matrix for ``sum_by_product`` without a copy."""
    flags = array.flags
    return array.dtype in BLAS_FLOATS and (
        flags.c_contiguous or (array.ndim == 2 and flags.f_contiguous)
    )


def _find_axpy() -> dict[np.dtype[Any], Any]:
    found: dict[np.dtype[Any], Any] = {}
    for library in openblas_libraries():
        for dtype, (name, scalar) in _AXPY_SYMBOLS.items():
            function = getattr(library, name, None)
            if function is None or dtype in found:
                continue
            function.argtypes = [
                ctypes.c_int64,
                scalar,
                ctypes.c_void_p,
                ctypes.c_int64,
                ctypes.c_void_p,
                ctypes.c_int64,
            ]
            function.restype = None
            found[dtype] = function
    return found
