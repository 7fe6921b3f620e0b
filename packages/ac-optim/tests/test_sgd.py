"""SGD: steps computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0]), np.array([-1.0, 0.0, 2.0])]
START = np.array([0.3, -0.1, 2.0])


def run(device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.SGD([p], **kwargs)
    trajectory = []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def test_plain_sgd(device, as_grad):
    expected = START - 0.1 * np.cumsum(GRADS, axis=0)
    np.testing.assert_allclose(run(device, as_grad, lr=0.1), expected, rtol=1e-15)


def test_momentum_with_dampening(device, as_grad):
    p, b, expected = START.copy(), None, []
    for g in GRADS:
        b = g.copy() if b is None else 0.9 * b + (1 - 0.25) * g
        p = p - 0.1 * b
        expected.append(p)
    np.testing.assert_allclose(
        run(device, as_grad, lr=0.1, momentum=0.9, dampening=0.25), expected, rtol=1e-14
    )


def test_nesterov_weight_decay_and_maximize(device, as_grad):
    p, b, expected = START.copy(), None, []
    for g in GRADS:
        d = -g + 0.01 * p
        b = d.copy() if b is None else 0.9 * b + d
        p = p - 0.1 * (d + 0.9 * b)
        expected.append(p)
    result = run(
        device, as_grad, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True
    )
    np.testing.assert_allclose(result, expected, rtol=1e-14)


def test_momentum_buffer_appears_only_with_momentum(device, as_grad):
    p = ac.tensor(START, device=device, req_grad=True)
    p.grad = as_grad(GRADS[0].astype(np.float32))
    opt = optim.SGD([p], lr=0.1)
    opt.step()
    assert opt.state[p] == {}
    opt.param_groups[0]["momentum"] = 0.9  # e.g. set by OneCycleLR
    opt.step()
    buffer = ac.Tensor(opt.state[p]["momentum_buffer"])
    np.testing.assert_array_equal(buffer, GRADS[0].astype(np.float32))


@pytest.mark.parametrize("kwargs", [{"weight_decay": 0.1}, {"maximize": True}])
def test_momentum_on_a_0d_parameter(device, as_grad, kwargs):
    p = ac.tensor(1.0, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, **kwargs)
    sign, decay = -1 if kwargs.get("maximize") else 1, kwargs.get("weight_decay", 0)
    w, b = 1.0, None
    for _ in range(3):
        p.grad = as_grad(np.array(1.0))
        opt.step()
        d = sign + decay * w
        b = d if b is None else 0.9 * b + d
        w -= 0.1 * b
    assert p.item() == pytest.approx(w, rel=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "invalid lr: -0.1"),
        ({"momentum": -0.5}, "invalid momentum"),
        ({"weight_decay": -1e-4}, "invalid weight_decay"),
        ({"nesterov": True}, "Nesterov momentum needs momentum > 0"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening == 0"),
    ],
)
def test_invalid_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([ac.zeros(2, req_grad=True)], **kwargs)
