"""Fixtures shared by the ac-optim tests, and the two problems the optimizers are tested on.

The problems' loss functions use only operations that auto_compyute and PyTorch spell the
same way, so one definition drives both libraries.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import auto_compyute as ac


@pytest.fixture
def device() -> str:
    """The device the tests run on: ``AC_TEST_DEVICE`` (``cpu`` unless set)."""
    return os.environ.get("AC_TEST_DEVICE", "cpu")


@pytest.fixture
def as_grad(device: str) -> Callable[[np.ndarray], Any]:
    """A copy of a NumPy array on the test device, as a raw array (what ``.grad`` holds)."""
    return lambda array: ac.tensor(array, device=device).data


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator per test."""
    return np.random.default_rng(0)


Problem = tuple[dict[str, np.ndarray], Callable[[dict[str, Any], Any, Any], Any], tuple]


def quadratic(rng: np.random.Generator) -> Problem:
    """Least squares: ``mean((x @ w.T + c - y) ** 2)``, a convex quadratic in (w, c)."""
    params = {"w": rng.standard_normal((3, 4)), "c": rng.standard_normal(3)}
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 3))

    def loss(p: dict[str, Any], x: Any, y: Any) -> Any:
        return ((x @ p["w"].T + p["c"] - y) ** 2).mean()

    return params, loss, (x, y)


def mlp(rng: np.random.Generator) -> Problem:
    """A 4-8-3 tanh network with a squared error, written with raw tensors."""
    params = {
        "w1": rng.standard_normal((8, 4)) * 0.5,
        "b1": rng.standard_normal(8) * 0.1,
        "w2": rng.standard_normal((3, 8)) * 0.5,
        "b2": rng.standard_normal(3) * 0.1,
    }
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 3))

    def loss(p: dict[str, Any], x: Any, y: Any) -> Any:
        hidden = (x @ p["w1"].T + p["b1"]).tanh()
        return ((hidden @ p["w2"].T + p["b2"] - y) ** 2).mean()

    return params, loss, (x, y)


PROBLEMS = {"quadratic": quadratic, "mlp": mlp}


@pytest.fixture
def problems() -> dict[str, Callable[[np.random.Generator], Problem]]:
    """``name -> make(rng)``, which returns ``(initial params, loss(params, x, y), (x, y))``."""
    return PROBLEMS
