"""The paths that ops take on array modules other than NumPy.

CuPy's ufuncs have ``at`` only for add, subtract, maximum and minimum (and its scatter-add
no int64) and ``accumulate`` only for add and multiply. ``LimitedArray``s are NumPy arrays
whose array module, ``LIMITED``, has just those methods, so these tests run the fallbacks
on the CPU and compare them with NumPy's own methods.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest

from auto_compyute._core import devices
from auto_compyute._core.ops.movement import (
    Gather,
    ScatterAdd,
    ScatterReduce,
    Unfold,
    _along,
    ufunc_at,
)
from auto_compyute._core.ops.reduce import LogCumSumExp, accumulate

_AT = {"add", "subtract", "maximum", "minimum"}
_ACCUMULATE = {"add", "multiply"}
_ATOMIC = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32))


class LimitedArray(np.ndarray):
    """An array of the limited array module."""


class _LimitedUfunc:
    """A NumPy ufunc with only the methods CuPy's namesake has."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self.ufunc = ufunc

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.ufunc(*args, **kwargs)

    def at(self, out: np.ndarray, key: Any, values: Any) -> None:
        if self.ufunc.__name__ not in _AT or out.dtype not in _ATOMIC:
            raise NotImplementedError(f"{self.ufunc.__name__}.at for {out.dtype}")
        self.ufunc.at(out, key, values)

    def accumulate(self, array: np.ndarray, axis: int = 0) -> np.ndarray:
        if self.ufunc.__name__ not in _ACCUMULATE:
            raise NotImplementedError(f"{self.ufunc.__name__}.accumulate")
        return self.ufunc.accumulate(array, axis=axis)


class _LimitedModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        value = getattr(np, name)
        return _LimitedUfunc(value) if isinstance(value, np.ufunc) else value


LIMITED = _LimitedModule("limited")


@pytest.fixture
def limited(monkeypatch):
    """Register ``LimitedArray`` as the array type of a backend whose module is LIMITED."""
    backend = types.SimpleNamespace(name="limited", xp=LIMITED, array_type=LimitedArray)
    monkeypatch.setitem(devices._by_array_type, LimitedArray, backend)
    return lambda array: np.array(array).view(LimitedArray)


def test_limited_module_refuses_what_cupy_lacks(limited) -> None:
    x = limited(np.ones(3))
    assert devices.get_array_module(x) is LIMITED
    with pytest.raises(NotImplementedError):
        LIMITED.multiply.at(x, [0], 2.0)
    with pytest.raises(NotImplementedError):
        LIMITED.maximum.accumulate(x)


@pytest.mark.parametrize("ufunc", ["maximum", "minimum"])
@pytest.mark.parametrize(("shape", "axis"), [((7,), 0), ((3, 8), 1), ((5, 1, 4), 0), ((2, 0), 0)])
def test_accumulate_extremes_match_numpy(limited, ufunc, shape, axis) -> None:
    data = np.random.default_rng(0).integers(-5, 5, shape).astype(np.float64)
    got = accumulate(ufunc, limited(data), axis)
    np.testing.assert_array_equal(got, getattr(np, ufunc).accumulate(data, axis=axis))
    np.testing.assert_array_equal(accumulate(ufunc, data, axis), got)  # the NumPy path


@pytest.mark.parametrize(("shape", "axis"), [((9,), 0), ((4, 6), 0), ((2, 3, 13), -1)])
def test_accumulate_logaddexp_matches_numpy(limited, shape, axis) -> None:
    data = np.random.default_rng(1).normal(0, 30, shape)
    data.flat[0] = -np.inf
    got = accumulate("logaddexp", limited(data), axis)
    np.testing.assert_allclose(got, np.logaddexp.accumulate(data, axis=axis), rtol=1e-12)


def test_accumulate_int_positions(limited) -> None:
    found = np.random.default_rng(2).integers(0, 10, (4, 11))
    got = accumulate("maximum", limited(found), -1)
    assert got.dtype == found.dtype
    np.testing.assert_array_equal(got, np.maximum.accumulate(found, axis=-1))


def _scatter_case(seed: int) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(3, 5))
    index = rng.integers(0, 5, (3, 9))  # many repeats along dim 1
    return out, _along(index, 1), rng.normal(size=(3, 9))


@pytest.mark.parametrize("ufunc", ["multiply", "add", "maximum", "minimum", "logaddexp"])
def test_ufunc_at_matches_numpy(limited, ufunc) -> None:
    out, key, values = _scatter_case(3)
    expected = out.copy()
    getattr(np, ufunc).at(expected, key, values)
    got = limited(out)
    ufunc_at(ufunc, got, key, limited(values))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_ufunc_at_int64_and_scalar_values(limited) -> None:
    counts = np.zeros(6, np.int64)
    key = (np.array([0, 2, 2, -1, 2, 0]),)
    expected = counts.copy()
    np.add.at(expected, key, 1)
    got = limited(counts)
    ufunc_at("add", got, key, 1)  # int64: no scatter-add on the device
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64


def test_ufunc_at_non_contiguous_out(limited) -> None:
    base = np.arange(1.0, 13.0).reshape(3, 4)
    expected = base.T.copy()
    np.multiply.at(expected, ([0, 0, 3], [1, 1, 2]), [2.0, 3.0, 5.0])
    got = limited(base).T
    assert not got.flags.c_contiguous
    ufunc_at("multiply", got, ([0, 0, 3], [1, 1, 2]), np.array([2.0, 3.0, 5.0]))
    np.testing.assert_array_equal(got, expected)


def _run(op_type: type, *inputs: np.ndarray, grad: np.ndarray, **kwargs: Any) -> tuple:
    op = op_type.__new__(op_type)
    op.kwargs = kwargs
    op.needs_grad = (True,) * len(inputs)
    out = op.forward(*inputs, **kwargs)
    return out, op.backward(grad)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "amax", "mean"])
def test_scatter_reduce_on_limited_module_matches_numpy(limited, reduce, include_self) -> None:
    rng = np.random.default_rng(4)
    x, src = rng.normal(size=(3, 5)), rng.normal(size=(3, 7))
    src[0, :3] = 0.0  # zeros for prod's gradient
    index = rng.integers(0, 5, (3, 7))
    grad = rng.normal(size=(3, 5))
    kwargs = {"dim": 1, "reduce": reduce, "include_self": include_self}
    out, (gx, gsrc) = _run(ScatterReduce, x, src, grad=grad, index=index, **kwargs)
    lim_out, (lim_gx, lim_gsrc) = _run(
        ScatterReduce, limited(x), limited(src), grad=limited(grad), index=limited(index), **kwargs
    )
    for got, expected in ((lim_out, out), (lim_gx, gx), (lim_gsrc, gsrc)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])  # int64: added in rounds
def test_scatter_add_and_gather_on_limited_module_match_numpy(limited, dtype) -> None:
    rng = np.random.default_rng(7)
    x, src = (rng.integers(-9, 9, shape).astype(dtype) for shape in ((3, 4, 5), (3, 6, 5)))
    index = rng.integers(0, 4, (3, 6, 5))  # repeats along dim 1
    out, (_, grad_src) = _run(ScatterAdd, x, src, grad=x, dim=1, index=index)
    lim_out, (_, lim_grad_src) = _run(
        ScatterAdd, limited(x), limited(src), grad=limited(x), dim=1, index=limited(index)
    )
    picked, grad_x = _run(Gather, x, grad=src, dim=1, index=index)
    lim_picked, lim_grad_x = _run(
        Gather, limited(x), grad=limited(src), dim=1, index=limited(index)
    )
    pairs = ((lim_out, out), (lim_grad_src, grad_src), (lim_picked, picked), (lim_grad_x, grad_x))
    for got, expected in pairs:
        np.testing.assert_array_equal(got, expected)


def test_logcumsumexp_on_limited_module_matches_numpy(limited) -> None:
    rng = np.random.default_rng(5)
    x, grad = rng.normal(0, 5, (4, 10)), rng.normal(size=(4, 10))
    out, dx = _run(LogCumSumExp, x, grad=grad, dim=1)
    lim_out, lim_dx = _run(LogCumSumExp, limited(x), grad=limited(grad), dim=1)
    np.testing.assert_allclose(lim_out, out, rtol=1e-12)
    np.testing.assert_allclose(lim_dx, dx, rtol=1e-10)


def test_unfold_on_limited_module_matches_numpy(limited) -> None:
    rng = np.random.default_rng(6)
    x, grad = rng.normal(size=(3, 10)), rng.normal(size=(3, 4, 3))
    out, dx = _run(Unfold, x, grad=grad, dim=1, size=3, step=2)
    lim_out, lim_dx = _run(Unfold, limited(x), grad=limited(grad), dim=1, size=3, step=2)
    np.testing.assert_array_equal(lim_out, out)
    np.testing.assert_array_equal(lim_dx, dx)
