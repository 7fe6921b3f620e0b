"""ac.utils.checkpoint against torch.utils.checkpoint: outputs and the gradients of inputs
and of parameters the segment uses through a closure, in float32."""

from typing import Any

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute.utils.checkpoint import checkpoint, checkpoint_sequential

pytestmark = [
    pytest.mark.parity,
    pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad=True:UserWarning"),
    pytest.mark.filterwarnings("ignore:checkpoint. none of the inputs requires grad:UserWarning"),
]
torch = pytest.importorskip("torch")
torch_checkpoint = pytest.importorskip("torch.utils.checkpoint")

RTOL, ATOL = 1e-5, 1e-6


def _setup(seed: int, input_grad: bool) -> tuple[list[Any], list[Any]]:
    """Input and three weights, in both libraries."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((2, 4))] + [rng.standard_normal((4, 4)) / 2 for _ in range(3)]
    ours = [
        ac.tensor(a, dtype=ac.float32, req_grad=i > 0 or input_grad) for i, a in enumerate(arrays)
    ]
    theirs = [
        torch.tensor(a, dtype=torch.float32, requires_grad=i > 0 or input_grad)
        for i, a in enumerate(arrays)
    ]
    return ours, theirs


def _layers(weights: list[Any]) -> list[Any]:
    return [lambda x, w=w: (x @ w).tanh() * 2 for w in weights]


def _segment(weights: list[Any]):
    def run(x: Any) -> Any:
        for layer in _layers(weights):
            x = layer(x)
        return x

    return run


def _assert_grads(ours: list[ac.Tensor], theirs: list[Any]) -> None:
    for o, t in zip(ours, theirs, strict=True):
        if t.grad is None:
            assert o.grad is None
        else:
            np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("input_grad", [True, False])
def test_checkpoint(use_reentrant: bool, input_grad: bool) -> None:
    ours, theirs = _setup(0, input_grad)
    y = checkpoint(_segment(ours[1:]), ours[0] * 1.5, use_reentrant=use_reentrant)
    ty = torch_checkpoint.checkpoint(
        _segment(theirs[1:]), theirs[0] * 1.5, use_reentrant=use_reentrant
    )
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert y.req_grad == ty.requires_grad
    if ty.requires_grad:
        (y**2).sum().backward()
        (ty**2).sum().backward()
    _assert_grads(ours, theirs)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential(use_reentrant: bool) -> None:
    ours, theirs = _setup(1, input_grad=True)
    weights, tweights = ours[1:] * 2, theirs[1:] * 2  # six layers, each weight used twice
    y = checkpoint_sequential(_layers(weights), 3, ours[0], use_reentrant=use_reentrant)
    ty = torch_checkpoint.checkpoint_sequential(
        _layers(tweights), 3, theirs[0], use_reentrant=use_reentrant
    )
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=RTOL, atol=ATOL)
    y.sum().backward()
    ty.sum().backward()
    _assert_grads(ours, theirs)


def test_several_outputs_with_keyword_arguments() -> None:
    ours, theirs = _setup(2, input_grad=True)

    def f(x: Any, w: Any, *, scale: float) -> Any:
        h = (x @ w).sin()
        return h * scale, h.sum(dim=0), 7

    y = checkpoint(f, ours[0], ours[1], scale=3.0, use_reentrant=False)
    ty = torch_checkpoint.checkpoint(f, theirs[0], theirs[1], scale=3.0, use_reentrant=False)
    assert y[2] == ty[2]
    (y[0].sum() + (y[1] ** 2).sum()).backward()
    (ty[0].sum() + (ty[1] ** 2).sum()).backward()
    _assert_grads(ours, theirs)
