"""``axpy`` (y += alpha x in one pass through NumPy's OpenBLAS, or two NumPy passes),
``transpose`` (a transposed copy through OpenBLAS, or NumPy's copy) and ``row_dots``."""

import numpy as np
import pytest

from auto_compyute._core import blas


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "mixed dtypes"])
def test_axpy_adds_a_multiple_in_place(dtype, layout: str) -> None:
    rng = np.random.default_rng(0)
    y = rng.standard_normal((500, 80)).astype(dtype)  # large enough for BLAS
    x = rng.standard_normal((500, 80)).astype(np.float64 if layout == "mixed dtypes" else dtype)
    if layout == "strided":
        y, x = y[:, ::2], x[:, ::2]
    base = y.base
    expected = y.astype(np.float64) - 0.3 * x.astype(np.float64)
    blas.axpy(-0.3, x, y)
    assert y.dtype == dtype and y.base is base  # in place, in its own dtype
    tolerance = 1e-6 if dtype == np.float32 else 1e-14  # of values about 1 in size
    np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance)


def test_axpy_on_overlapping_views_reads_x_before_changing_y() -> None:
    data = np.arange(1 << 16, dtype=np.float32)  # large enough for BLAS
    expected = data.copy()
    expected[1:] += 2 * data[:-1]
    blas.axpy(2.0, data[:-1], data[1:])
    np.testing.assert_array_equal(data, expected)


def test_axpy_goes_through_numpys_openblas_when_it_is_there() -> None:
    blas.axpy(1.0, np.ones(3), np.ones(3))
    if not any(hasattr(lib, "scipy_cblas_daxpy64_") for lib in blas.openblas_libraries()):
        pytest.skip("NumPy here does not use its own OpenBLAS build (or this is not Linux)")
    assert blas._axpy is not None
    assert set(blas._axpy) == {np.dtype(np.float32), np.dtype(np.float64)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.float16])
@pytest.mark.parametrize("layout", ["contiguous", "column-major", "strided", "small"])
def test_transpose_gives_a_row_major_array(dtype, layout: str) -> None:
    rng = np.random.default_rng(0)
    matrix = (rng.standard_normal((520, 130)) * 100).astype(dtype)  # large enough for BLAS
    if layout == "column-major":
        matrix = np.asfortranarray(matrix)
    elif layout == "strided":
        matrix = matrix[::2, 1:]
    elif layout == "small":
        matrix = matrix[:7, :5].copy()
    out = blas.transpose(matrix)
    assert out.dtype == matrix.dtype and out.flags.c_contiguous
    # a column-major matrix's transpose is already row-major: no copy, as ascontiguousarray
    assert np.shares_memory(out, matrix) == (layout == "column-major")
    np.testing.assert_array_equal(out, matrix.T)  # copied: exact


def test_transpose_goes_through_numpys_openblas_when_it_is_there() -> None:
    blas.transpose(np.ones((2, 3)))
    if not any(hasattr(lib, "scipy_cblas_domatcopy64_") for lib in blas.openblas_libraries()):
        pytest.skip("NumPy here does not use its own OpenBLAS build (or this is not Linux)")
    assert blas._omatcopy is not None
    assert set(blas._omatcopy) == {np.dtype(np.float32), np.dtype(np.float64)}


@pytest.mark.parametrize("columns", [5, 63, 64, 3000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_dots_are_the_dot_products_of_matching_rows(columns: int, dtype) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 7, columns)).astype(dtype)
    dots = blas.row_dots(a, b)
    assert dots.shape == (7,) and dots.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    expected = (a.astype(np.float64) * b).sum(axis=1)
    np.testing.assert_allclose(dots, expected, rtol=tolerance, atol=tolerance)


def test_row_dots_keep_their_precision_along_long_float32_rows() -> None:
    rows = (np.random.default_rng(0).standard_normal((4, 135_200)) * 3 + 2).astype(np.float32)
    exact = (rows.astype(np.float64) ** 2).sum(axis=1)
    np.testing.assert_allclose(blas.row_dots(rows, rows), exact, rtol=5e-7)
