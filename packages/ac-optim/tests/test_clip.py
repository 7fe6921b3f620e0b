"""Gradient clipping: norms computed by hand, in-place scaling, errors."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim


@pytest.fixture
def params(device, as_grad):
    """Gradients [3, 4] and [[12]]: joint 2-norm 13, 1-norm 19, inf-norm 12; one without grad."""
    a = ac.zeros(2, dtype=ac.float64, device=device, req_grad=True)
    b = ac.zeros((1, 1), dtype=ac.float64, device=device, req_grad=True)
    c = ac.zeros(3, dtype=ac.float64, device=device, req_grad=True)
    a.grad, b.grad = as_grad(np.array([3.0, 4.0])), as_grad(np.array([[12.0]]))
    return a, b, c


@pytest.mark.parametrize(("norm_type", "norm"), [(2, 13.0), (1, 19.0), (float("inf"), 12.0)])
def test_clip_grad_norm_scales_the_gradients_in_place(params, norm_type, norm):
    a, b, c = params
    a_grad = a.grad
    total = optim.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, ac.Tensor) and total.shape == ()
    assert total.item() == pytest.approx(norm, rel=1e-15)
    scale = 1.0 / (norm + 1e-6)
    assert a.grad is a_grad
    np.testing.assert_allclose(ac.Tensor(a.grad), [3 * scale, 4 * scale], rtol=1e-15)
    np.testing.assert_allclose(ac.Tensor(b.grad), [[12 * scale]], rtol=1e-15)
    assert c.grad is None


def test_gradients_within_the_limit_are_unchanged(params):
    a, b, _ = params
    total = optim.clip_grad_norm_(params, max_norm=100.0)
    assert total.item() == pytest.approx(13.0)
    np.testing.assert_array_equal(ac.Tensor(a.grad), [3.0, 4.0])
    np.testing.assert_array_equal(ac.Tensor(b.grad), [[12.0]])


def test_a_p_norm(params):
    total = optim.clip_grad_norm_(params, max_norm=1e9, norm_type=3)
    assert total.item() == pytest.approx((27 + 64 + 12**3) ** (1 / 3), rel=1e-14)


def test_a_single_tensor_and_no_gradients(params):
    a, _, c = params
    assert optim.clip_grad_norm_(a, 1.0).item() == pytest.approx(5.0)
    assert optim.clip_grad_norm_([c], 1.0).item() == 0.0


def test_float32_gradients_stay_float32(device, as_grad):
    p = ac.zeros(4, device=device, req_grad=True)
    p.grad = as_grad(np.full(4, 2.0, dtype=np.float32))
    total = optim.clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float32 and p.grad.dtype == np.float32
    np.testing.assert_allclose(ac.Tensor(p.grad), np.full(4, 0.5), rtol=1e-6)


@pytest.mark.parametrize(("norm_type", "norm"), [(2, 316.25), (3, 100.0), (1, 1e4)])
def test_float16_norms_are_summed_in_float32(device, as_grad, norm_type, norm):
    p = ac.zeros(1000, dtype=ac.float16, device=device, req_grad=True)
    p.grad = as_grad(np.full(1000, 10, np.float16))  # the sum of squares overflows float16
    total = optim.clip_grad_norm_([p], 1.0, norm_type)
    assert total.dtype == np.float16 and p.grad.dtype == np.float16
    assert total.item() == norm  # rounded to float16 (2-norm: 316.23)
    np.testing.assert_allclose(ac.Tensor(p.grad).numpy(), 10 / norm, rtol=1e-3)


def test_a_nonfinite_norm_can_be_an_error(params):
    a, _, _ = params
    a.grad[0] = np.nan
    with pytest.raises(RuntimeError, match=r"total norm of order 2\.0 of the gradients is nan"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert ac.Tensor(a.grad).numpy()[1] == 4.0  # nothing was scaled
    total = optim.clip_grad_norm_(params, 1.0)  # allowed by default, as in PyTorch
    assert np.isnan(total.item()) and np.isnan(ac.Tensor(a.grad).numpy()).all()


@pytest.mark.parametrize("norm_type", [0, -1, float("-inf")])
def test_unsupported_norm_types(params, norm_type):
    with pytest.raises(ValueError, match="norm_type must be > 0 or inf"):
        optim.clip_grad_norm_(params, 1.0, norm_type=norm_type)


def test_clip_grad_value_clamps_in_place(params):
    a, b, c = params
    a_grad = a.grad
    optim.clip_grad_value_(params, 3.5)
    assert a.grad is a_grad
    np.testing.assert_array_equal(ac.Tensor(a.grad), [3.0, 3.5])
    np.testing.assert_array_equal(ac.Tensor(b.grad), [[3.5]])
    assert c.grad is None
