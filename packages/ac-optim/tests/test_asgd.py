"""ASGD: steps and averages computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

GRADS = [
    np.array([1.0, -2.0, 0.5]),
    np.array([0.5, 1.0, -1.0]),
    np.array([-1.0, 1e-3, 2.0]),
    np.array([0.2, 0.3, -0.4]),
]
START = np.array([0.3, -0.17, 2.0])


def run(device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.ASGD([p], **kwargs)
    params, averages = [], []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        params.append(p.numpy().copy())
        averages.append(ac.Tensor(opt.state[p]["ax"]).numpy().copy())
    return params, averages


def f32(x):
    """PyTorch keeps eta and mu as float32 numbers."""
    return float(np.float32(x))


def reference(lr=0.01, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, sign=1):
    p, ax, eta, mu, params, averages = START.copy(), 0.0, f32(lr), 1.0, [], []
    for t, g in enumerate(GRADS, start=1):
        g = sign * g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)
        eta = f32(lr / (1 + lambd * lr * t) ** alpha)
        mu = f32(1 / max(1, t - t0))
        params.append(p)
        averages.append(ax)
    return params, averages


def test_asgd_averages_nothing_before_t0(device, as_grad):
    params, averages = run(device, as_grad, lr=0.1)
    np.testing.assert_allclose(params, reference(lr=0.1)[0], rtol=1e-14)
    np.testing.assert_array_equal(averages, params)


def test_average_of_the_iterates_after_t0(device, as_grad):
    kwargs = {"lr": 0.1, "lambd": 0.05, "alpha": 0.5, "t0": 1, "weight_decay": 0.1}
    params, averages = run(device, as_grad, maximize=True, **kwargs)
    expected_params, expected_averages = reference(**kwargs, sign=-1)
    np.testing.assert_allclose(params, expected_params, rtol=1e-14)
    np.testing.assert_allclose(averages, expected_averages, rtol=1e-14)
    # from step t0 + 2 on, ax is the mean of the iterates since step t0 + 2
    np.testing.assert_allclose(averages[3], np.mean(params[2:4], axis=0), rtol=1e-14)


def test_state_has_torchs_names(device, as_grad):
    p = ac.tensor(START, device=device, req_grad=True)
    p.grad = as_grad(np.ones(3, dtype=np.float32))
    opt = optim.ASGD([p], lr=0.1, t0=0)
    opt.step()
    opt.step()
    state = opt.state[p]
    assert sorted(state) == ["ax", "eta", "mu", "step"]
    assert (state["step"], state["mu"]) == (2, 0.5)
    assert state["eta"] == f32(0.1 / (1 + 1e-4 * 0.1 * 2) ** 0.75)


@pytest.mark.parametrize("name", ["lr", "lambd", "alpha", "t0", "weight_decay"])
def test_invalid_hyper_parameters(name):
    with pytest.raises(ValueError, match=f"invalid {name}: -1"):
        optim.ASGD([ac.zeros(2, req_grad=True)], **{name: -1})
