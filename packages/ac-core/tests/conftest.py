"""Shared fixtures: the device under test and a seeded random generator per test."""

import os

import numpy as np
import pytest

import auto_compyute as ac


@pytest.fixture
def device() -> str:
    """The device named by AC_TEST_DEVICE (cpu by default); cuda tests skip without a GPU."""
    name = os.environ.get("AC_TEST_DEVICE", "cpu")
    if name != "cpu" and not ac.cuda.is_available():
        pytest.skip(
            f"AC_TEST_DEVICE={name}, but CUDA support is not installed or no GPU is present"
        )
    return name


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded NumPy generator; also seeds ac's global generator."""
    ac.manual_seed(0)
    return np.random.default_rng(0)
