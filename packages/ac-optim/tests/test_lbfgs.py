"""L-BFGS: convergence on a quadratic, the closure protocol, state and errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim


def _quadratic(rng: np.random.Generator):
    matrix = rng.standard_normal((5, 5))
    matrix = matrix @ matrix.T + np.eye(5)
    vector = rng.standard_normal(5)
    return matrix, vector, np.linalg.solve(matrix, vector)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_solves_a_quadratic(rng, line_search_fn):
    matrix, vector, solution = _quadratic(rng)
    x = ac.zeros(5, dtype=ac.float64, req_grad=True)
    opt = optim.LBFGS(
        [x],
        lr=1.0 if line_search_fn else 0.2,
        max_iter=50,
        tolerance_grad=1e-12,  # the defaults stop once the loss changes by less than 1e-9
        tolerance_change=1e-15,
        line_search_fn=line_search_fn,
    )
    a, b = ac.tensor(matrix), ac.tensor(vector)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ a @ x) - b @ x
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), solution, rtol=1e-6, atol=1e-8)
    assert opt.state[x]["func_evals"] > 1 and opt.state[x]["n_iter"] > 1


def test_lbfgs_resumes_from_its_state_dict(rng):
    matrix, vector, _ = _quadratic(rng)

    def run(steps, state=None):
        x = ac.tensor(np.ones(5), req_grad=True)
        opt = optim.LBFGS([x], max_iter=3, history_size=4, line_search_fn="strong_wolfe")
        if state is not None:
            x.data[...] = state[0]
            opt.load_state_dict(state[1])

        def closure():
            opt.zero_grad()
            loss = 0.5 * (x @ ac.tensor(matrix) @ x) - ac.tensor(vector) @ x
            loss.backward()
            return loss

        for _ in range(steps):
            opt.step(closure)
        return x.numpy().copy(), opt.state_dict()

    whole, _ = run(4)
    half = run(2)
    resumed, _ = run(2, half)
    np.testing.assert_array_equal(resumed, whole)


def _lbfgs_on_several_parameters():
    """An LBFGS over parameters of shapes (2, 3), (4,) and (), and its closure."""
    targets = [np.random.default_rng(0).standard_normal(s) for s in [(2, 3), (4,), ()]]
    params = [ac.tensor(np.zeros(s), dtype=ac.float64, req_grad=True) for s in [(2, 3), (4,), ()]]
    opt = optim.LBFGS(params, max_iter=3, history_size=4, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = sum(((p - ac.tensor(t)) ** 4).sum() for p, t in zip(params, targets, strict=True))
        loss.backward()
        return loss

    return params, opt, closure


@pytest.mark.parametrize("through", ["pickle", "file"])
def test_lbfgs_resumes_over_several_parameters_of_any_shapes(through, tmp_path):
    params, opt, closure = _lbfgs_on_several_parameters()
    for _ in range(2):
        opt.step(closure)
    values = [p.numpy().copy() for p in params]
    if through == "pickle":
        saved = pickle.dumps(opt.state_dict())
    else:  # a checkpoint file: the history's arrays come back as Tensors
        ac.save(opt.state_dict(), tmp_path / "lbfgs.safetensors")
    for _ in range(3):
        opt.step(closure)

    state = pickle.loads(saved) if through == "pickle" else ac.load(tmp_path / "lbfgs.safetensors")
    resumed, fresh, fresh_closure = _lbfgs_on_several_parameters()
    for p, value in zip(resumed, values, strict=True):
        p.data[...] = value
    fresh.load_state_dict(state)
    for _ in range(3):
        fresh.step(fresh_closure)
    for p, q in zip(resumed, params, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_lbfgs_refuses_a_state_of_another_total_size():
    params, opt, closure = _lbfgs_on_several_parameters()
    opt.step(closure)
    state = opt.state_dict()
    other = optim.LBFGS([ac.zeros((2, 3), dtype=ac.float64, req_grad=True), *params[1:]])
    other.load_state_dict(state)  # the same sizes
    longer = optim.LBFGS([ac.zeros(7, dtype=ac.float64, req_grad=True), *params[1:]])
    with pytest.raises(ValueError, match=r"state 'd' of parameter 0 has shape \(11,\), but it "):
        longer.load_state_dict(state)
    assert not longer.state


def test_lbfgs_errors():
    x = ac.zeros(2, req_grad=True)
    with pytest.raises(RuntimeError, match="needs a closure"):
        optim.LBFGS([x]).step()
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="one parameter group"):
        optim.LBFGS([{"params": [x]}, {"params": [ac.zeros(2, req_grad=True)]}])
