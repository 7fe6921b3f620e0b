"""Gradient clipping against torch.nn.utils."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

SHAPES = [(5, 4), (4,), (), (3, 2, 2)]


def grads_of_both(rng, dtype):
    """Tensors with gradients in both libraries (one without a gradient), the same values."""
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    ours = [ac.tensor(a, req_grad=True) for a in arrays] + [ac.zeros(3, req_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    theirs.append(torch.zeros(3, requires_grad=True))
    for mine, their, array in zip(ours, theirs, arrays, strict=False):
        grad = rng.standard_normal(array.shape).astype(dtype)
        mine.grad, their.grad = grad.copy(), torch.tensor(grad)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(rng, dtype, norm_type, max_norm):
    ours, theirs = grads_of_both(rng, dtype)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert total.dtype == dtype
    np.testing.assert_allclose(total.item(), torch_total.item(), rtol=rtol)
    for mine, their in zip(ours, theirs, strict=True):
        if their.grad is None:
            assert mine.grad is None
            continue
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad, their.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_float16_clip_grad_norm_matches_torch(rng, norm_type, scale):
    """Float16 norms are summed in float32 and rounded to float16, as in PyTorch; at scale
    30 the sums of squares and cubes would overflow float16."""
    ours, theirs = [], []
    for shape in [(1000,), (30, 20), ()]:
        grad = np.array(rng.standard_normal(shape) * scale, np.float16)
        mine, their = ac.zeros(shape, dtype=ac.float16), torch.zeros(shape, dtype=torch.float16)
        mine.grad, their.grad = grad.copy(), torch.tensor(grad)
        ours.append(mine)
        theirs.append(their)
    total = optim.clip_grad_norm_(ours, 1.0, norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert total.dtype == np.float16 and np.isfinite(total.item())
    np.testing.assert_allclose(total.item(), torch_total.item(), rtol=1e-3)
    for mine, their in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, their.grad.numpy(), rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(rng, dtype):
    ours, theirs = grads_of_both(rng, dtype)
    optim.clip_grad_value_(ours, 0.3)
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for mine, their in zip(ours, theirs, strict=True):
        if their.grad is not None:
            np.testing.assert_array_equal(mine.grad, their.grad.numpy())
