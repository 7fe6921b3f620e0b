"""Adam and AdamW: steps computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0]), np.array([-1.0, 1e-3, 2.0])]
START = np.array([0.3, -0.1, 2.0])


def run(cls, device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = cls([p], **kwargs)
    trajectory = []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def reference(lr, beta1, beta2, eps, weight_decay=0.0, decoupled=False, amsgrad=False, sign=1):
    """Adam as written in the paper (with bias-corrected moments), in float64.

    ``beta1`` and ``beta2`` may be lists: one value per step.
    """
    p, m, v, v_max, out = START.copy(), 0.0, 0.0, 0.0, []
    betas1 = beta1 if isinstance(beta1, list) else [beta1] * len(GRADS)
    betas2 = beta2 if isinstance(beta2, list) else [beta2] * len(GRADS)
    for t, (g, beta1, beta2) in enumerate(zip(GRADS, betas1, betas2, strict=True), start=1):
        g = sign * g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        second = v_max if amsgrad else v
        m_hat, v_hat = m / (1 - beta1**t), second / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def test_adam(device, as_grad):
    expected = reference(0.01, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(run(optim.Adam, device, as_grad, lr=0.01), expected, rtol=1e-13)


def test_adam_with_l2_weight_decay_amsgrad_and_maximize(device, as_grad):
    kwargs = {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1, "amsgrad": True}
    result = run(optim.Adam, device, as_grad, maximize=True, **kwargs)
    expected = reference(0.01, 0.8, 0.9, 1e-3, weight_decay=0.1, amsgrad=True, sign=-1)
    np.testing.assert_allclose(result, expected, rtol=1e-13)


def test_betas_changed_between_steps_apply_from_the_next_step(device, as_grad):
    """As OneCycleLR changes beta1 every step; the state keeps sums scaled by 1 - beta."""
    betas = [(0.9, 0.999), (0.8, 0.99), (0.95, 0.9)]
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.Adam([p], lr=0.01, amsgrad=True)
    result = []
    for g, group_betas in zip(GRADS, betas, strict=True):
        opt.param_groups[0]["betas"] = group_betas
        p.grad = as_grad(g)
        opt.step()
        result.append(p.numpy().copy())
    expected = reference(0.01, [b for b, _ in betas], [b for _, b in betas], 1e-8, amsgrad=True)
    np.testing.assert_allclose(result, expected, rtol=1e-13)


def test_adamw_decays_the_weights_directly(device, as_grad):
    result = run(optim.AdamW, device, as_grad, lr=0.01, weight_decay=0.5)
    expected = reference(0.01, 0.9, 0.999, 1e-8, weight_decay=0.5, decoupled=True)
    np.testing.assert_allclose(result, expected, rtol=1e-13)
    same = run(optim.Adam, device, as_grad, lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)
    np.testing.assert_array_equal(result, same)


def test_adamw_defaults_to_a_weight_decay_of_0_01():
    opt = optim.AdamW([ac.zeros(2, req_grad=True)])
    assert opt.defaults["weight_decay"] == 0.01
    assert opt.defaults["decoupled_weight_decay"] is True


def test_the_first_step_moves_each_element_by_about_lr(device, as_grad):
    """Adam's hallmark: bias correction makes the first step lr * sign(g)."""
    (step,) = run(optim.Adam, device, as_grad, lr=0.01)[:1]
    np.testing.assert_allclose(START - step, 0.01 * np.sign(GRADS[0]), rtol=1e-6)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_float16_parameters_keep_moving(device, as_grad, cls):
    p = ac.ones(4, dtype=ac.float16, device=device, req_grad=True)
    opt = cls([p], lr=0.01, weight_decay=0)
    for _ in range(200):
        p.grad = as_grad(np.full(4, 30.0, np.float16))
        opt.step()
    # NOTE: a constant gradient moves every element by about lr a step; a float16 sum of its
    # squares (up to 900 / (1 - beta2)) would overflow after 73 steps and stop them.
    np.testing.assert_allclose(p.numpy(), -1.0, atol=0.05)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1e-3}, "invalid lr"),
        ({"eps": -1.0}, "invalid eps"),
        ({"betas": (1.0, 0.999)}, r"invalid betas\[0\]: 1.0 \(must be in \[0, 1.0\)\)"),
        ({"betas": (0.9, -0.1)}, r"invalid betas\[1\]"),
        ({"betas": (0.9,)}, "betas must be a pair"),
        ({"weight_decay": -0.1}, "invalid weight_decay"),
    ],
)
def test_invalid_hyper_parameters(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([ac.zeros(2, req_grad=True)], **kwargs)
