"""Rprop: steps computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

# Across the elements, the gradient keeps its sign, flips it, and reaches zero.
GRADS = [
    np.array([1.0, -2.0, 0.5, 3.0, -1.0]),
    np.array([0.5, 1.0, 2.0, -1.0, -2.0]),
    np.array([2.0, 1e-3, 0.0, 2.0, -3.0]),
    np.array([1.0, -1.0, 1.0, -1.0, -0.5]),
    np.array([0.1, 0.2, 0.3, 0.4, -0.5]),
]
START = np.array([0.3, -0.17, 2.0, 0.0, -1.0])


def run(device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.Rprop([p], **kwargs)
    trajectory = []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def reference(lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), sign=1):
    p, prev, s, out = START.copy(), np.zeros_like(START), np.full_like(START, lr), []
    for g in GRADS:
        g = sign * g
        same, flipped = g * prev > 0, g * prev < 0
        s = np.clip(s * np.where(same, etas[1], np.where(flipped, etas[0], 1.0)), *step_sizes)
        g = np.where(flipped, 0.0, g)
        p = p - np.sign(g) * s
        prev = g
        out.append(p)
    return out


def test_rprop(device, as_grad):
    np.testing.assert_allclose(run(device, as_grad), reference(), rtol=1e-15)


def test_etas_step_size_bounds_and_maximize(device, as_grad):
    kwargs = {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.05, 0.2)}
    result = run(device, as_grad, maximize=True, **kwargs)
    np.testing.assert_allclose(result, reference(**kwargs, sign=-1), rtol=1e-15)


def test_step_sizes_start_at_lr_and_ignore_later_lr_changes(device, as_grad):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.Rprop([p], lr=0.25)
    p.grad = as_grad(GRADS[0])
    opt.step()
    np.testing.assert_array_equal(ac.Tensor(opt.state[p]["step_size"]).numpy(), 0.25)
    opt.param_groups[0]["lr"] = 1.0
    p.grad = as_grad(np.zeros(5))
    opt.step()
    np.testing.assert_array_equal(ac.Tensor(opt.state[p]["step_size"]).numpy(), 0.25)
    assert sorted(opt.state[p]) == ["prev", "step", "step_size"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1.0}, "invalid lr: -1.0"),
        ({"etas": (1.0, 1.2)}, r"invalid etas: \(1.0, 1.2\)"),
        ({"etas": (0.0, 1.2)}, r"invalid etas: \(0.0, 1.2\)"),
        ({"etas": (0.5, 1.0)}, r"invalid etas: \(0.5, 1.0\)"),
        ({"etas": (0.5,)}, r"etas must be a pair of numbers \(eta_minus, eta_plus\)"),
        ({"step_sizes": (-1.0, 5.0)}, r"invalid step_sizes\[0\]: -1.0"),
        ({"step_sizes": (2.0, 1.0)}, r"invalid step_sizes: \(2.0, 1.0\)"),
        ({"step_sizes": 1.0}, "step_sizes must be a pair of numbers"),
    ],
)
def test_invalid_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Rprop([ac.zeros(2, req_grad=True)], **kwargs)
