"""Adadelta: steps computed by hand, and hyper-parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0]), np.array([-1.0, 1e-3, 2.0])]
START = np.array([0.3, -0.17, 2.0])


def run(device, as_grad, **kwargs):
    p = ac.tensor(START, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.Adadelta([p], **kwargs)
    trajectory = []
    for g in GRADS:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory


def reference(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, sign=1):
    p, s, u, out = START.copy(), 0.0, 0.0, []
    for g in GRADS:
        g = sign * g + weight_decay * p
        s = rho * s + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
        out.append(p)
    return out


def test_adadelta(device, as_grad):
    np.testing.assert_allclose(run(device, as_grad), reference(), rtol=1e-13)


def test_lr_rho_eps_weight_decay_and_maximize(device, as_grad):
    kwargs = {"lr": 0.5, "rho": 0.7, "eps": 1e-3, "weight_decay": 0.1}
    result = run(device, as_grad, maximize=True, **kwargs)
    np.testing.assert_allclose(result, reference(**kwargs, sign=-1), rtol=1e-13)


def test_state_has_torchs_names(device, as_grad):
    p = ac.tensor(START, device=device, req_grad=True)
    p.grad = as_grad(np.ones(3, dtype=np.float32))
    opt = optim.Adadelta([p])
    opt.step()
    assert sorted(opt.state[p]) == ["acc_delta", "square_avg", "step"]
    assert opt.state[p]["step"] == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("lr", -0.5), ("rho", -0.5), ("rho", 1.5), ("eps", -0.5), ("weight_decay", -0.5)],
)
def test_invalid_hyper_parameters(name, value):
    with pytest.raises(ValueError, match=f"invalid {name}: {value}"):
        optim.Adadelta([ac.zeros(2, req_grad=True)], **{name: value})


def test_rho_of_one_is_allowed():
    optim.Adadelta([ac.zeros(2, req_grad=True)], rho=1.0)
