"""L-BFGS: convergence on a quadratic, the closure protocol, state and errors."""

from __future__ import annotations

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


def test_lbfgs_errors():
    x = ac.zeros(2, req_grad=True)
    with pytest.raises(RuntimeError, match="needs a closure"):
        optim.LBFGS([x]).step()
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="one parameter group"):
        optim.LBFGS([{"params": [x]}, {"params": [ac.zeros(2, req_grad=True)]}])
