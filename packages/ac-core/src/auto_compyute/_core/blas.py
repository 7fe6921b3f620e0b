"""Array work that BLAS does faster than NumPy's own loops.

``axpy``: ``y += alpha x`` in one pass, through the OpenBLAS that NumPy loaded. NumPy has
no fused multiply-add for arrays: ``y -= lr * x`` is two passes over memory and a
temporary. OpenBLAS's ``saxpy``/``daxpy`` make one, on OpenBLAS's threads: a plain SGD
step over a 784-512-512-10 MLP's parameters took 100 instead of 295 us (PyTorch:
185 us). Only NumPy's own OpenBLAS build (64-bit integers, ``scipy_`` prefix) is used;
anything else gets the two NumPy passes.

``sum_by_product``: the sums of a matrix's rows or columns as a product with a vector of
ones, which NumPy hands to BLAS. ``row_dots``: the dot products of two matrices' matching
rows as a batched product.

``transpose``: a matrix's transpose as a row-major array, copied by OpenBLAS's
``somatcopy``/``domatcopy`` in cache-sized tiles.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from auto_compyute._core.devices import filled, get_array_module
from auto_compyute._core.parallel import openblas_libraries

_AXPY_SYMBOLS: dict[np.dtype[Any], tuple[str, Any]] = {
    np.dtype(np.float32): ("scipy_cblas_saxpy64_", ctypes.c_float),
    np.dtype(np.float64): ("scipy_cblas_daxpy64_", ctypes.c_double),
}
_OMATCOPY_SYMBOLS: dict[np.dtype[Any], tuple[str, Any]] = {
    np.dtype(np.float32): ("scipy_cblas_somatcopy64_", ctypes.c_float),
    np.dtype(np.float64): ("scipy_cblas_domatcopy64_", ctypes.c_double),
}
BLAS_FLOATS = frozenset(_AXPY_SYMBOLS)  # the dtypes that BLAS products take
# dtype -> the BLAS function, found on first use
_axpy: dict[np.dtype[Any], Any] | None = None
_omatcopy: dict[np.dtype[Any], Any] | None = None
# NOTE: a call through ctypes costs about 3.5 us; below this many elements NumPy's own
# loops are faster for axpy (5,120: 2.0 against 4.0 us; 65,536: 13.5 against 7.5 us).
# A transpose gains from smaller sizes on ((128, 128): 6.4 against 9.1 us), but little.
_MIN_SIZE = 1 << 15
_ROW_MAJOR, _TRANSPOSED = 101, 112  # CBLAS's enum values


def axpy(alpha: float, x: Any, y: Any) -> None:
    """``y += alpha * x`` in place, for arrays of the same shape and dtype."""
    global _axpy
    if _axpy is None:
        _axpy = _find(_AXPY_SYMBOLS, [ctypes.c_int64, None] + [ctypes.c_void_p, ctypes.c_int64] * 2)
    function = _axpy.get(y.dtype)
    if (
        function is None
        or y.size < _MIN_SIZE
        or type(x) is not np.ndarray
        or type(y) is not np.ndarray
        or x.dtype != y.dtype
        or x.shape != y.shape
        or not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)
        or np.may_share_memory(x, y)  # NOTE: BLAS would read elements it already changed
    ):
        y += get_array_module(y).multiply(x, alpha, dtype=y.dtype)
        return
    function(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


def transpose(matrix: Any) -> Any:
    """``matrix.T`` as a C-contiguous array, like ``ascontiguousarray(matrix.T)`` (a copy
    unless that transpose already is one).

    NOTE: NumPy copies a transpose element by element down the columns of the source: a
    (512, 128) float32 matrix took 67 us, against 13 us for OpenBLAS's tiled ``somatcopy``.
    """
    global _omatcopy
    if _omatcopy is None:
        _omatcopy = _find(
            _OMATCOPY_SYMBOLS,
            [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64, None]
            + [ctypes.c_void_p, ctypes.c_int64] * 2,
        )
    function = _omatcopy.get(matrix.dtype)
    if (
        function is None
        or type(matrix) is not np.ndarray
        or matrix.ndim != 2
        or matrix.size < _MIN_SIZE
        or not matrix.flags.c_contiguous
    ):
        return get_array_module(matrix).ascontiguousarray(matrix.T)
    rows, columns = matrix.shape
    out = np.empty((columns, rows), dtype=matrix.dtype)
    source, target = matrix.ctypes.data, out.ctypes.data
    function(_ROW_MAJOR, _TRANSPOSED, rows, columns, 1.0, source, columns, target, rows)
    return out


def sum_by_product(matrix: Any, axis: int) -> Any:
    """A 2-D array's sums over ``axis`` (0: down each column, 1: along each row), as a
    product with a vector of ones.

    NOTE: NumPy sums along short rows one row at a time, and down the columns of a
    column-major matrix slowly: a (2048, 65) matrix's row sums took 54 us with ``sum`` and
    10 us as a product, a column-major (128, 512) one's column sums 18 against 4 us.
    """
    ones = filled(get_array_module(matrix), matrix.shape[axis], 1, matrix.dtype)
    return ones @ matrix if axis == 0 else matrix @ ones


def row_dots(a: Any, b: Any) -> Any:
    """The dot products of the matching rows of two 2-D arrays of the same shape.

    NOTE: as a batched matrix product (a BLAS dot per row) for rows of 64 elements or
    more, einsum for shorter ones. einsum's running sums lose precision along long rows:
    over 135,200 float32 elements its relative error reached 4e-6, the product's 1e-7; and
    the product took 11 against 18 us on a (20, 6272) float32 matrix. Along rows of 16,
    einsum took 39 against 104 us.
    """
    if a.shape[1] < 64:
        return get_array_module(a).einsum("ij,ij->i", a, b)
    return (a[:, None, :] @ b[:, :, None]).reshape(-1)


def is_one_matrix(array: Any) -> bool:
    """Whether ``array`` is a C-contiguous array, or a column-major 2-D one, of a float
    dtype that BLAS products take: one matrix for ``sum_by_product`` without a copy."""
    flags = array.flags
    return array.dtype in BLAS_FLOATS and (
        flags.c_contiguous or (array.ndim == 2 and flags.f_contiguous)
    )


def _find(
    symbols: dict[np.dtype[Any], tuple[str, Any]], argtypes: list[Any]
) -> dict[np.dtype[Any], Any]:
    """dtype -> the function of NumPy's OpenBLAS named in ``symbols``; ``None`` in
    ``argtypes`` stands for the function's scalar type."""
    found: dict[np.dtype[Any], Any] = {}
    for library in openblas_libraries():
        for dtype, (name, scalar) in symbols.items():
            function = getattr(library, name, None)
            if function is None or dtype in found:
                continue
            function.argtypes = [scalar if kind is None else kind for kind in argtypes]
            function.restype = None
            found[dtype] = function
    return found
