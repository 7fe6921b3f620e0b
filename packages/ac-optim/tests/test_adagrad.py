"""Adagrad: steps computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0]), np.array([-1.0, 1e-3, 2.0])]
START = np.array([0.3, -0.1, 2.0])


def run(device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.Adagrad([p], **kwargs)
    trajectory = []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def reference(lr, lr_decay=0.0, weight_decay=0.0, initial=0.0, eps=1e-10, sign=1):
    p, s, out = START.copy(), initial, []
    for t, g in enumerate(GRADS, start=1):
        g = sign * g + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def test_adagrad(device, as_grad):
    np.testing.assert_allclose(run(device, as_grad, lr=0.1), reference(0.1), rtol=1e-14)


def test_decay_initial_value_and_maximize(device, as_grad):
    kwargs = {"lr_decay": 0.5, "weight_decay": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-3}
    result = run(device, as_grad, lr=0.1, maximize=True, **kwargs)
    expected = reference(0.1, 0.5, 0.1, 0.3, 1e-3, sign=-1)
    np.testing.assert_allclose(result, expected, rtol=1e-14)


def test_each_group_uses_its_own_initial_accumulator_value(device, as_grad):
    a, b = (ac.zeros(2, device=device, req_grad=True) for _ in range(2))
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 4.0}])
    a.grad, b.grad = as_grad(np.zeros(2, np.float32)), as_grad(np.zeros(2, np.float32))
    opt.step()
    np.testing.assert_array_equal(ac.Tensor(opt.state[a]["sum"]), [0.0, 0.0])
    np.testing.assert_array_equal(ac.Tensor(opt.state[b]["sum"]), [4.0, 4.0])


@pytest.mark.parametrize(
    "name", ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"]
)
def test_invalid_hyper_parameters(name):
    with pytest.raises(ValueError, match=f"invalid {name}: -1"):
        optim.Adagrad([ac.zeros(2, req_grad=True)], **{name: -1})
