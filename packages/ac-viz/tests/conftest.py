"""Fixtures: graphs to draw, built from raw ac-core tensors (see viz_models.py)."""

from __future__ import annotations

import pytest
from viz_models import Model, mlp_loss, readme_expression, transformer_loss

import auto_compyute as ac


@pytest.fixture
def readme_graph() -> ac.Tensor:
    ac.manual_seed(0)
    return readme_expression()


@pytest.fixture
def mlp() -> Model:
    ac.manual_seed(0)
    return mlp_loss()


@pytest.fixture
def transformer() -> Model:
    ac.manual_seed(0)
    return transformer_loss()
