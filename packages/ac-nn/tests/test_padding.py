"""Padding layers: shapes and values against NumPy, gradcheck, reprs and input errors."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

gradcheck = ac.autograd.gradcheck
NUMPY_MODES = {"Reflection": "reflect", "Replication": "edge", "Circular": "wrap"}


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def _numpy_widths(padding: tuple[int, ...], ndim: int) -> list[tuple[int, int]]:
    """F.pad's (last_left, last_right, ...) as np.pad's per-axis pairs."""
    pairs = [(padding[i], padding[i + 1]) for i in range(0, len(padding), 2)][::-1]
    return [(0, 0)] * (ndim - len(pairs)) + pairs


PADDINGS = {1: (2, 1), 2: (1, 2, 0, 1), 3: (1, 0, 2, 1, 1, 2)}


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kind", ["Zero", "Constant", "Reflection", "Replication", "Circular"])
def test_padding_layers_match_numpy_and_gradcheck(kind: str, dims: int, rng) -> None:
    padding = PADDINGS[dims]
    layer_class = getattr(nn, f"{kind}Pad{dims}d")
    layer = layer_class(padding, 1.5) if kind == "Constant" else layer_class(padding)
    x = rng.standard_normal((2, 3) + (4,) * dims)
    result = layer(ac.tensor(x, dtype=ac.float64))
    widths = _numpy_widths(padding, x.ndim)
    if kind in NUMPY_MODES:
        expected = np.pad(x, widths, mode=NUMPY_MODES[kind])
    else:
        expected = np.pad(x, widths, constant_values=1.5 if kind == "Constant" else 0.0)
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result.numpy(), expected)
    unbatched = ac.tensor(x[0, :2], dtype=ac.float64, req_grad=True)
    assert gradcheck(layer, [unbatched])


def test_an_int_pads_every_side_and_reprs_are_pytorchs() -> None:
    assert nn.ZeroPad2d(1)(ac.ones(2, 2)).shape == (4, 4)
    assert nn.ReflectionPad3d(1)(ac.ones(1, 3, 3, 3)).shape == (1, 5, 5, 5)
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d((1, 2), 3.5)) == "ConstantPad1d(padding=(1, 2), value=3.5)"
    assert repr(nn.ReplicationPad2d((1, 0, 2, 1))) == "ReplicationPad2d((1, 0, 2, 1))"
    assert repr(nn.CircularPad1d(2)) == "CircularPad1d((2, 2))"
    layer = nn.ReflectionPad1d(1)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}


def test_padding_layers_reject_bad_widths_and_inputs() -> None:
    with pytest.raises(ValueError, match=r"ZeroPad2d needs one int or 4 ints.*\(1, 2\)"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match="ReflectionPad1d needs one int or 2 ints"):
        nn.ReflectionPad1d((1, 2.5))
    with pytest.raises(ValueError, match=r"ReflectionPad2d expects a 3D .* or 4D .* shape \(2,\)"):
        nn.ReflectionPad2d(1)(ac.zeros(2))
    with pytest.raises(ValueError, match=r"CircularPad1d expects a 2D .* shape \(1, 1, 1, 3\)"):
        nn.CircularPad1d(1)(ac.zeros(1, 1, 1, 3))
    with pytest.raises(ValueError, match="reflect padding of"):
        nn.ReflectionPad1d(3)(ac.zeros(1, 3))
    # constant padding takes any input with enough axes, as in PyTorch
    assert nn.ConstantPad1d(1, 2.0)(ac.zeros(1, 1, 1, 3)).shape == (1, 1, 1, 5)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_and_resizing_by_positions_have_second_derivatives(mode) -> None:
    x = ac.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 5)), req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t: F.pad(t, (2, 1, 1, 2), mode=mode) ** 2, [x])
    assert ac.autograd.gradgradcheck(
        lambda t: F.interpolate(t, scale_factor=2, mode="bilinear") ** 2, [x]
    )
