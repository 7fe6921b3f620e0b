"""Lazy modules against PyTorch's: state-dict keys, and outputs after loading the same weights."""

import numpy as np
import pytest
from parity_helpers import compare_layers

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

# (class name, constructor arguments, input shape)
CASES = [
    ("LazyLinear", (3,), (2, 5, 4)),
    ("LazyConv1d", (6, 3), (2, 4, 7)),
    ("LazyConv2d", (4, 3), (2, 4, 5, 6)),
    ("LazyConv3d", (2, 2), (1, 4, 3, 3, 3)),
    ("LazyConvTranspose1d", (3, 2, 2), (2, 4, 5)),
    ("LazyConvTranspose2d", (3, 3), (2, 4, 3, 3)),
    ("LazyConvTranspose3d", (2, 2), (1, 4, 2, 2, 2)),
    ("LazyBatchNorm1d", (), (6, 4)),
    ("LazyBatchNorm2d", (), (3, 4, 2, 2)),
    ("LazyBatchNorm3d", (), (2, 4, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), (2, 4, 5)),
    ("LazyInstanceNorm2d", (), (2, 4, 3, 3)),
    ("LazyInstanceNorm3d", (), (2, 4, 2, 2, 2)),
]


@pytest.mark.parametrize(("name", "args", "shape"), CASES, ids=[c[0] for c in CASES])
def test_lazy_module_matches_pytorch(name: str, args: tuple, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # loading the dry-run state of PyTorch's module materializes ours with the same shapes
    theirs(torch.zeros(shape))
    with torch.no_grad():
        for value in theirs.state_dict().values():
            if value.dtype.is_floating_point:
                value.copy_(torch.rand(value.shape) + 0.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    compare_layers(ours, theirs, x, rng)
    assert type(ours).__name__ == type(theirs).__name__
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(
            ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6, err_msg=key
        )


def test_lazy_dry_run_shapes_match_pytorch() -> None:
    for name, args, shape in CASES:
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        ours(ac.zeros(*shape))
        theirs(torch.zeros(shape))
        assert repr(ours) == repr(theirs), name
        ours_shapes = {k: v.shape for k, v in ours.state_dict().items()}
        assert ours_shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}, name
