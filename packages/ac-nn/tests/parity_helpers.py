"""Shared helpers of the PyTorch parity tests of functional ops and layers (float32)."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import auto_compyute as ac

# float32 tolerances, the same as ac-core's parity tests: outputs, then gradients.
OUT_TOL = {"rtol": 1e-5, "atol": 1e-6}
GRAD_TOL = {"rtol": 1e-4, "atol": 1e-5}


def compare(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    arrays: Sequence[np.ndarray],
    rng: np.random.Generator,
    differentiable: Sequence[int] | None = None,
) -> None:
    """Run ``ours`` on ac tensors and ``theirs`` on torch tensors made from the same arrays.

    Compares the outputs, then the gradients of every differentiable input after
    backpropagating the same random cotangent through both. Float arrays become float32.
    """
    import torch

    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays]
    if differentiable is None:
        differentiable = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    ours_in = [ac.tensor(a, req_grad=i in differentiable) for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a, requires_grad=i in differentiable) for i, a in enumerate(arrays)]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **OUT_TOL)
    cotangent = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for i in differentiable:
        np.testing.assert_allclose(
            ours_in[i].grad, theirs_in[i].grad.numpy(), **GRAD_TOL, err_msg=f"input {i}"
        )


def load_from(ours: ac.nn.Module, theirs: Any) -> None:
    """Give our layer the torch layer's state (same keys required)."""
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict(state)


def compare_layers(
    ours: ac.nn.Module, theirs: Any, x: np.ndarray, rng: np.random.Generator
) -> None:
    """Same output, input gradient and parameter gradients (by name) for one float32 batch."""
    import torch

    x = x.astype(np.float32)
    x_ours, x_theirs = ac.tensor(x, req_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **OUT_TOL)
    cotangent = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **GRAD_TOL, err_msg="input")
    reference = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad, reference[name].grad.numpy(), **GRAD_TOL, err_msg=name
        )
