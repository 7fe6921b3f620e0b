"""RMSprop: steps computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0]), np.array([-1.0, 1e-3, 2.0])]
START = np.array([0.3, -0.17, 2.0])


def run(device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.RMSprop([p], **kwargs)
    trajectory = []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def reference(lr, alpha, eps, weight_decay=0.0, momentum=0.0, centered=False, sign=1):
    p, s, a, b, out = START.copy(), 0.0, 0.0, 0.0, []
    for g in GRADS:
        g = sign * g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g
        d = np.sqrt(s - a * a if centered else s) + eps
        if momentum > 0:
            b = momentum * b + g / d
            p = p - lr * b
        else:
            p = p - lr * g / d
        out.append(p)
    return out


def test_rmsprop(device, as_grad):
    np.testing.assert_allclose(
        run(device, as_grad, lr=0.01), reference(0.01, 0.99, 1e-8), rtol=1e-13
    )


def test_centered_with_momentum_weight_decay_and_maximize(device, as_grad):
    kwargs = {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1, "momentum": 0.5}
    result = run(device, as_grad, centered=True, maximize=True, **kwargs)
    expected = reference(0.01, 0.9, 1e-4, 0.1, 0.5, centered=True, sign=-1)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_state_holds_only_what_the_options_need(device, as_grad):
    p = ac.tensor(START, device=device, req_grad=True)
    p.grad = as_grad(np.ones(3, dtype=np.float32))
    opt = optim.RMSprop([p])
    opt.step()
    assert sorted(opt.state[p]) == ["square_avg", "step"]
    opt = optim.RMSprop([p], momentum=0.9, centered=True)
    opt.step()
    assert sorted(opt.state[p]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]


@pytest.mark.parametrize("name", ["lr", "alpha", "eps", "weight_decay", "momentum"])
def test_invalid_hyper_parameters(name):
    with pytest.raises(ValueError, match=f"invalid {name}: -0.5"):
        optim.RMSprop([ac.zeros(2, req_grad=True)], **{name: -0.5})
