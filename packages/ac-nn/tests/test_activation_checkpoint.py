"""ac.utils.checkpoint with modules: parameters reached through the modules, dropout masks
drawn again from the same generator state."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.utils.checkpoint import checkpoint, checkpoint_sequential


def _model() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(8, 16),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(16, 16),
        nn.Tanh(),
        nn.Dropout(0.3),
        nn.Linear(16, 4),
    )


def _grads(model: nn.Module) -> list[np.ndarray]:
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    return grads


@pytest.mark.parametrize("input_grad", [True, False])
def test_checkpoint_sequential_of_a_module_equals_the_plain_run(input_grad: bool) -> None:
    ac.manual_seed(0)
    model = _model()
    x = ac.randn(5, 8, req_grad=input_grad)
    ac.manual_seed(1)
    expected_out = model(x)
    expected_out.sum().backward()
    expected = _grads(model)
    ac.manual_seed(1)
    out = checkpoint_sequential(model, 3, x, use_reentrant=False)
    np.testing.assert_array_equal(out.numpy(), expected_out.numpy())
    out.sum().backward()
    for got, want in zip(_grads(model), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_checkpoint_of_a_module_call() -> None:
    ac.manual_seed(0)
    model = _model()
    x = ac.randn(5, 8, req_grad=True)
    ac.manual_seed(2)
    (model(x) ** 2).mean().backward()
    expected = _grads(model)
    ac.manual_seed(2)
    (checkpoint(model, x) ** 2).mean().backward()
    for got, want in zip(_grads(model), expected, strict=True):
        np.testing.assert_array_equal(got, want)
