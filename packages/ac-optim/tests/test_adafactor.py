"""Adafactor: steps computed by hand, factored state, and hyper-parameter checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

SHAPES = [(5,), (3, 4), (2, 3, 4)]


def run(device, as_grad, start, grads, **kwargs):
    p = ac.tensor(start, dtype=ac.float64, device=device, req_grad=True)
    opt = optim.Adafactor([p], **kwargs)
    trajectory = []
    for g in grads:
        p.grad = as_grad(g)
        opt.step()
        trajectory.append(p.numpy().copy())
    return trajectory, opt.state[p]


def reference(
    start, grads, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, sign=1
):
    eps1 = np.finfo(np.float64).eps if eps[0] is None else eps[0]
    p, out = start.copy(), []
    row = np.zeros((*p.shape[:-1], 1))
    col = np.zeros((*p.shape[:-2], 1, p.shape[-1]))
    v = np.zeros(p.shape)
    for t, g in enumerate(grads, start=1):
        g = sign * g
        w = t**beta2_decay
        step_size = max(eps[1], np.sqrt(np.mean(p * p))) * min(lr, 1 / np.sqrt(t))
        p = p * (1 - lr * weight_decay)
        if p.ndim >= 2:
            row = (1 - w) * row + w * np.mean(g * g, axis=-1, keepdims=True)
            col = (1 - w) * col + w * np.mean(g * g, axis=-2, keepdims=True)
            v = row * col / np.maximum(np.mean(row, axis=-2, keepdims=True), eps1)
        else:
            v = (1 - w) * v + w * g * g
        u = g / np.sqrt(np.maximum(v, eps1 * eps1))
        p = p - step_size / max(1.0, np.sqrt(np.mean(u * u)) / d) * u
        out.append(p)
    return out


def problem(rng, shape, steps=4):
    start = rng.standard_normal(shape)
    return start, [rng.standard_normal(shape) for _ in range(steps)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_adafactor(device, as_grad, rng, shape):
    start, grads = problem(rng, shape)
    result, _ = run(device, as_grad, start, grads)
    np.testing.assert_allclose(result, reference(start, grads), rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_hyper_parameters_weight_decay_and_maximize(device, as_grad, rng, shape):
    start, grads = problem(rng, shape)
    kwargs = {"lr": 0.3, "beta2_decay": -0.5, "eps": (1e-2, 0.5), "d": 1.5, "weight_decay": 0.1}
    result, _ = run(device, as_grad, start, grads, maximize=True, **kwargs)
    np.testing.assert_allclose(result, reference(start, grads, **kwargs, sign=-1), rtol=1e-12)


@pytest.mark.parametrize("d", [1.0, 2.0])
def test_update_clipping_and_eps2_floor(device, as_grad, d):
    # After a zero gradient, v = w * g * g on step 2 (w = 2 ** -0.8), so u = g / sqrt(v) has
    # rms(u) = 1 / sqrt(w) ~ 1.32: clipped to 1 for d = 1, not for d = 2. The parameter
    # starts at zero, so its step size is eps2 * min(lr, 1 / sqrt(2)) = 1e-4.
    g = np.array([3.0, -0.5, 2.0, -1e-3])
    result, _ = run(device, as_grad, np.zeros(4), [np.zeros(4), g], lr=0.1, d=d)
    rms_u = 1 / np.sqrt(2**-0.8)
    np.testing.assert_allclose(result[1], -1e-4 * np.sign(g) * rms_u / max(1.0, rms_u / d))


def test_factored_state_takes_rows_plus_columns(device, as_grad, rng):
    start, grads = problem(rng, (2, 3, 4), steps=1)
    _, state = run(device, as_grad, start, grads)
    assert sorted(state) == ["col_var", "row_var", "step"]
    assert state["row_var"].shape == (2, 3, 1)
    assert state["col_var"].shape == (2, 1, 4)
    start, grads = problem(rng, (4,), steps=1)
    _, state = run(device, as_grad, start, grads)
    assert sorted(state) == ["step", "variance"]


def test_an_empty_parameter_is_left_alone(device, as_grad):
    p = ac.zeros(0, 3, device=device, req_grad=True)
    opt = optim.Adafactor([p])
    p.grad = as_grad(np.zeros((0, 3), np.float32))
    opt.step()
    assert p.shape == (0, 3)
    assert opt.state[p]["step"] == 1


def test_default_eps1_is_the_dtype_epsilon(device, as_grad):
    grads = [np.zeros((3, 2)), np.full((3, 2), 1e-9)]  # tiny second moments: eps1 matters
    start = np.ones((3, 2))
    for dtype in (ac.float32, ac.float64):
        results = []
        for eps1 in (None, float(np.finfo(dtype).eps)):
            p = ac.tensor(start, dtype=dtype, device=device, req_grad=True)
            opt = optim.Adafactor([p], eps=(eps1, 1e-3))
            for g in grads:
                p.grad = as_grad(g.astype(dtype))
                opt.step()
            results.append(p.numpy())
        np.testing.assert_array_equal(results[0], results[1])


def test_load_state_dict_checks_the_factored_shapes(device, as_grad, rng):
    p = ac.tensor(rng.standard_normal((3, 4)), device=device, req_grad=True)
    opt = optim.Adafactor([p])
    p.grad = as_grad(rng.standard_normal((3, 4)).astype(np.float32))
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    optim.Adafactor([p]).load_state_dict(saved)
    saved["state"][0]["row_var"] = ac.zeros(3, 4)
    with pytest.raises(ValueError, match=r"'row_var' of parameter 0 has shape \(3, 4\), but it"):
        optim.Adafactor([p]).load_state_dict(saved)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1.0}, "invalid lr: -1.0"),
        ({"weight_decay": -1.0}, "invalid weight_decay: -1.0"),
        ({"beta2_decay": 0.5}, r"invalid beta2_decay: 0.5 \(must be <= 0\)"),
        ({"d": 0.5}, r"invalid d: 0.5 \(must be >= 1\)"),
        ({"eps": (-1.0, 1e-3)}, r"invalid eps\[0\]: -1.0"),
        ({"eps": (None, -1.0)}, r"invalid eps\[1\]: -1.0"),
        ({"eps": 1e-3}, r"eps must be a pair \(eps1, eps2\)"),
    ],
)
def test_invalid_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Adafactor([ac.zeros(2, req_grad=True)], **kwargs)
