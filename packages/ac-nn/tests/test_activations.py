"""Activation functions and layers: forward against NumPy, gradients against finite differences."""

import math
import warnings
from typing import Any

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute._core.ops.math import erf64
from auto_compyute._core.parallel import PIECE_SIZE
from auto_compyute._core.random import get_generator
from auto_compyute.nn.functional.activations import (
    GELU,
    _gelu_kernel,
    _normal_kernel,
)


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in ±[0.05, 3], so kinks at 0 are out of the finite-difference stencil."""
    return rng.uniform(0.05, 3.0, shape) * rng.choice([-1.0, 1.0], shape)


_erf_np = np.vectorize(math.erf)
_erfc_np = np.vectorize(math.erfc)

# name -> (ours, NumPy reference)
CASES = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "leaky_relu_0.2": (
        lambda x: F.leaky_relu(x, negative_slope=0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
    ),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu_alpha": (lambda x: F.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf_np(x / math.sqrt(2)))),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (F.tanh, np.tanh),
    "softmax": (
        lambda x: F.softmax(x, dim=1),
        lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True),
    ),
    "softmax_dim0": (
        lambda x: F.softmax(x, 0),
        lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True),
    ),
    "log_softmax": (
        lambda x: F.log_softmax(x, dim=-1),
        lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    ),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x))),
    "softplus_beta_threshold": (
        lambda x: F.softplus(x, beta=2.0, threshold=1.5),
        lambda x: np.where(2 * x > 1.5, x, np.log1p(np.exp(2 * x)) / 2),
    ),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: np.clip(x, -0.5, 2.0)),
    "relu6": (lambda x: F.relu6(x * 3), lambda x: np.clip(x * 3, 0, 6)),
    "hardsigmoid": (lambda x: F.hardsigmoid(x * 2), lambda x: np.clip(x * 2 + 3, 0, 6) / 6),
    "hardswish": (lambda x: F.hardswish(x * 2), lambda x: x * 2 * np.clip(x * 2 + 3, 0, 6) / 6),
    "log_sigmoid": (F.log_sigmoid, lambda x: -np.log1p(np.exp(-x))),
    "mish": (F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "selu": (
        F.selu,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    ),
    "celu": (lambda x: F.celu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x / 0.5))),
    "prelu": (
        lambda x: F.prelu(x, ac.tensor([0.1, -0.2, 0.3, 0.5], dtype=x.dtype)[: x.shape[1]]),
        lambda x: np.where(
            x > 0,
            x,
            x * np.array([0.1, -0.2, 0.3, 0.5])[: x.shape[1]].reshape(-1, *(1,) * (x.ndim - 2)),
        ),
    ),
    "softmin": (
        lambda x: F.softmin(x, dim=1),
        lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True),
    ),
    "hardshrink": (F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
    "hardshrink_lambd": (
        lambda x: F.hardshrink(x, lambd=1.2),
        lambda x: np.where(np.abs(x) > 1.2, x, 0.0),
    ),
    "softshrink": (
        lambda x: F.softshrink(x, 0.7),
        lambda x: np.where(x > 0.7, x - 0.7, np.where(x < -0.7, x + 0.7, 0.0)),
    ),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0), lambda x: np.where(x > 0.3, x, -2.0)),
    "rrelu_eval": (F.rrelu, lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2)),
    "glu": (  # the input joined to half of itself: an even size, gradients through both
        lambda x: F.glu(ac.cat([x, x * 0.5], dim=-1)),
        lambda x: x / (1 + np.exp(-0.5 * x)),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_numpy(name: str, rng: np.random.Generator) -> None:
    ours, reference = CASES[name]
    x = _away_from_zero(rng, (3, 4, 2))
    result = ours(ac.tensor(x, dtype=ac.float64))
    assert result.shape == x.shape and result.dtype == ac.float64
    np.testing.assert_allclose(result.numpy(), reference(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name: str, rng: np.random.Generator) -> None:
    ours, _ = CASES[name]
    x = ac.tensor(_away_from_zero(rng, (3, 4)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(ours, [x])


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32(name: str, rng: np.random.Generator) -> None:
    ours, _ = CASES[name]
    x = ac.tensor(_away_from_zero(rng, (2, 3)), dtype=ac.float32, req_grad=True)
    y = ours(x)
    y.sum().backward()
    assert y.dtype == ac.float32 and x.grad.dtype == np.float32


def test_erf_is_accurate_to_double_precision() -> None:
    x = np.concatenate([np.linspace(-7, 7, 20001), [-1.0, 1.0, 0.0, 1e-300, -40.0, 40.0]])
    np.testing.assert_allclose(erf64(x), _erf_np(x), rtol=1e-15, atol=3e-16)


def test_float32_normal_cdf_and_density_are_accurate_to_a_few_float32_ulps() -> None:
    x = np.concatenate([np.linspace(-12, 12, 240001), [-1e30, -50.0, 0.0, 50.0, 1e30]])
    x = x.astype(np.float32)
    cdf, pdf = np.empty(x.shape, np.float32), np.empty(x.shape, np.float32)
    with np.errstate(invalid="raise", divide="raise", over="ignore", under="ignore"):
        _normal_kernel(x, cdf, pdf)
    wide = x.astype(np.float64)
    exact = 0.5 * _erfc_np(-wide * np.sqrt(0.5))
    # A&S 7.1.26 is within 7.5e-8 of the CDF; float32 rounding adds up to about 2e-7 near
    # x = 0, where the terms of its polynomial (up to 1.45 in size) cancel to 1.
    np.testing.assert_allclose(cdf, exact, rtol=0, atol=3e-7)
    # the left tail keeps its small values (no 1 - erf rounding), to A&S's relative error
    tail = (x < -2) & (x > -11)
    np.testing.assert_allclose(cdf[tail], exact[tail], rtol=0.03)
    density = np.exp(-0.5 * np.minimum(np.abs(wide), 11.0) ** 2) / np.sqrt(2 * np.pi)
    # float32 rounds x² / 2 (up to 60) by up to 4e-6, which moves exp by as much
    np.testing.assert_allclose(pdf, density, rtol=5e-6, atol=0)


def test_float32_gelu_far_tails_are_quiet_and_flat() -> None:
    """|x| up to 1e30 and ±inf raise nothing and warn of nothing; far tails give 0 and x."""
    inf = float("inf")
    values = [-inf, -1e30, -1e4, -20.0, 20.0, 1e4, 1e30, inf]
    x = ac.tensor(values, dtype=ac.float32, req_grad=True)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.gelu(x)
        y.sum().backward()
    expected = np.float32([0.0, 0.0, 0.0, 20.0, 1e4, 1e30, inf])
    np.testing.assert_allclose(y.numpy()[1:], expected, rtol=1e-7, atol=1e-26)
    # NOTE: φ is held at φ(11), so beyond |x| = 1e20 the slope is off by |x| φ(11)
    np.testing.assert_allclose(x.grad[2:6], [0.0, 0.0, 1.0, 1.0], rtol=1e-7, atol=1e-22)


def test_float32_gelu_split_across_threads_matches_one_piece(rng: np.random.Generator) -> None:
    x = ac.tensor(4 * rng.standard_normal((8, 1 << 17)), dtype=ac.float32, req_grad=True)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    y = F.gelu(x)
    y.backward(ac.tensor(grad))
    out, slope = np.empty(x.shape, np.float32), np.empty(x.shape, np.float32)
    _gelu_kernel(x.numpy(), out, slope)
    assert x.numel() >= 4 * PIECE_SIZE
    np.testing.assert_array_equal(y.numpy(), out)
    np.testing.assert_array_equal(x.grad, grad * slope)


def test_gelu_over_its_input_gives_the_same_result_and_gradient(
    rng: np.random.Generator,
) -> None:
    x = ac.tensor(4 * rng.standard_normal((8, 1 << 17)), dtype=ac.float32, req_grad=True)
    grad = ac.tensor(rng.standard_normal(x.shape), dtype=ac.float32)
    expected = F.gelu(x)
    expected.backward(grad)
    expected_grad, x.grad = x.grad, None
    hidden = x * 1.0  # a temporary, as linear1's result in TransformerEncoderLayer
    buffer = hidden.data
    y = GELU.apply(hidden, approximate="none", reuse_input=True)
    y.backward(grad)
    assert y.data is buffer
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    np.testing.assert_array_equal(x.grad, expected_grad)


def test_kinks_take_pytorch_subgradients() -> None:
    x = ac.zeros(1, dtype=ac.float64, req_grad=True)
    for fn, slope in ((F.relu, 0.0), (lambda t: F.leaky_relu(t, 0.2), 0.2), (F.elu, 1.0)):
        x.grad = None
        fn(x).sum().backward()
        assert x.grad.tolist() == [slope]


def test_extreme_inputs_stay_finite() -> None:
    x = ac.tensor([-1000.0, -40.0, 40.0, 1000.0], dtype=ac.float64, req_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for fn in (F.gelu, F.elu, F.silu, F.softplus, lambda t: F.softplus(t, 0.5, 1e9)):
            x.grad = None
            y = fn(x)
            y.sum().backward()
            assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(F.gelu(x).numpy(), [0.0, 0.0, 40.0, 1000.0], atol=1e-300)
    expected = np.logaddexp(0, 0.5 * x.numpy()) / 0.5
    np.testing.assert_allclose(F.softplus(x, 0.5, 1e9).numpy(), expected, rtol=1e-15)


def test_softplus_and_mish_slopes_in_the_left_tail() -> None:
    # NOTE: sigmoid(x) = e^x / (1 + e^x) and mish'(x) = (1 + x) e^x to float64's precision
    # here; both rounded to 0 from x = -37 when the slope was 0.5 (tanh(x / 2) + 1)
    x = ac.tensor([-700.0, -100.0, -40.0], dtype=ac.float64, req_grad=True)
    F.softplus(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(x.numpy()), rtol=1e-15)
    x.grad = None
    F.mish(x).sum().backward()
    np.testing.assert_allclose(x.grad, (1 + x.numpy()) * np.exp(x.numpy()), rtol=1e-15)


def test_elus_keep_the_digits_of_small_negative_inputs() -> None:
    x = ac.tensor([-1e-7, -1e-5, -30.0], dtype=ac.float32, req_grad=True)
    np.testing.assert_allclose(F.elu(x).numpy(), np.expm1(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(F.celu(x, 0.5).numpy(), 0.5 * np.expm1(2 * x.numpy()), rtol=1e-6)
    F.elu(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(x.numpy()), rtol=1e-6)  # e^-30, not 0


def test_hardshrink_and_threshold_keep_nan() -> None:
    x = ac.tensor([np.nan, 0.3, -2.0], req_grad=True)
    np.testing.assert_array_equal(F.hardshrink(x).numpy(), [np.nan, 0.0, -2.0])
    np.testing.assert_array_equal(F.threshold(x, 0.5, 9.0).numpy(), [np.nan, 9.0, 9.0])


def test_softmax_without_dim_warns_and_uses_pytorch_rule() -> None:
    x = ac.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy(), F.softmax(x, 1).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.log_softmax(ac.randn(2, 3, 4))
    np.testing.assert_allclose(np.exp(y.numpy()).sum(axis=0), 1, rtol=1e-6)


def test_softmax_dtype_argument() -> None:
    assert F.softmax(ac.randn(2, 3), dim=1, dtype=ac.float64).dtype == ac.float64


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        F.gelu(ac.randn(2), approximate="erf")
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU("fast")


MODULES = [
    (nn.ReLU(), F.relu),
    (nn.LeakyReLU(0.3), lambda x: F.leaky_relu(x, 0.3)),
    (nn.ELU(alpha=2.0), lambda x: F.elu(x, 2.0)),
    (nn.GELU(), F.gelu),
    (nn.GELU(approximate="tanh"), lambda x: F.gelu(x, "tanh")),
    (nn.SiLU(), F.silu),
    (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh),
    (nn.Softmax(dim=0), lambda x: F.softmax(x, 0)),
    (nn.LogSoftmax(dim=1), lambda x: F.log_softmax(x, 1)),
    (nn.Softplus(beta=2.0, threshold=3.0), lambda x: F.softplus(x, 2.0, 3.0)),
    (nn.Hardshrink(0.3), lambda x: F.hardshrink(x, 0.3)),
    (nn.Softshrink(), F.softshrink),
    (nn.Tanhshrink(), F.tanhshrink),
    (nn.Threshold(0.1, 5.0), lambda x: F.threshold(x, 0.1, 5.0)),
    (nn.RReLU(0.1, 0.3).eval(), lambda x: F.leaky_relu(x, 0.2)),
]


@pytest.mark.parametrize(("module", "function"), MODULES, ids=lambda m: type(m).__name__)
def test_modules_apply_their_function(
    module: nn.Module, function, rng: np.random.Generator
) -> None:
    x = ac.tensor(rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(module(x).numpy(), function(x).numpy())
    assert list(module.parameters()) == [] and module.state_dict() == {}


def test_module_reprs_and_inplace_flag() -> None:
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softmax(dim=-1)) == "Softmax(dim=-1)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    x = ac.tensor([-1.0, 2.0])
    y = nn.ReLU(inplace=True)(x)
    assert y.tolist() == [0.0, 2.0] and x.tolist() == [-1.0, 2.0]


def test_glu_needs_an_even_size_and_hardtanh_ordered_limits() -> None:
    with pytest.raises(ValueError, match="size 3 is odd"):
        F.glu(ac.zeros(2, 3))
    with pytest.raises(ValueError, match="min_val <= max_val"):
        F.hardtanh(ac.zeros(2), 1.0, -1.0)


CORNERS = [-3.0, -1.0, 0.0, 1.0, 3.0, 6.0]


@pytest.mark.parametrize(
    ("function", "layer", "slopes"),
    [  # PyTorch's: 0 at the limits themselves (strict inequalities), unlike clamp
        (F.relu6, nn.ReLU6(), [0, 0, 0, 1, 1, 0]),
        (F.hardtanh, nn.Hardtanh(), [0, 0, 1, 0, 0, 0]),
        (F.hardsigmoid, nn.Hardsigmoid(), [0, 1 / 6, 1 / 6, 1 / 6, 0, 0]),
        (F.hardswish, nn.Hardswish(), [0, 1 / 6, 0.5, 5 / 6, 1, 1]),
    ],
    ids=["relu6", "hardtanh", "hardsigmoid", "hardswish"],
)
def test_hard_activations_have_no_slope_at_their_corners(function, layer, slopes) -> None:
    for fn in (function, layer):
        x = ac.tensor(CORNERS, dtype=ac.float64, req_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad, slopes, rtol=1e-15)


def test_hardswish_slopes_at_infinities() -> None:
    x = ac.tensor([-np.inf, np.inf, -1e30, 1e30], dtype=ac.float64, req_grad=True)
    with np.errstate(invalid="ignore"):  # NOTE: hardswish(-inf) is NaN (0 * -inf)
        (slope,) = ac.autograd.grad(F.hardswish(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(slope.numpy(), [0.0, 1.0, 0.0, 1.0])  # not inf * 0
    (curvature,) = ac.autograd.grad(slope.sum(), x)
    np.testing.assert_array_equal(curvature.numpy(), [0.0, 0.0, 0.0, 0.0])


def test_hard_activations_second_derivatives_at_their_corners() -> None:
    x = ac.tensor(CORNERS, dtype=ac.float64, req_grad=True)
    (slope,) = ac.autograd.grad(F.hardswish(x).sum(), x, create_graph=True)
    (curvature,) = ac.autograd.grad(slope.sum(), x)
    np.testing.assert_allclose(curvature.numpy(), [0, 1 / 3, 1 / 3, 1 / 3, 0, 0], rtol=1e-15)
    weights = ac.ones(6, dtype=ac.float64, req_grad=True)
    (slope,) = ac.autograd.grad(F.relu6(x), x, weights, create_graph=True)
    (through_weights,) = ac.autograd.grad(slope.sum(), weights)
    assert through_weights.tolist() == [0, 0, 0, 1, 1, 0]
    assert F.relu6(ac.tensor([-3, 0, 9])).tolist() == [0, 0, 6]  # integers stay integers


def test_shrink_threshold_rrelu_and_softmax2d_reprs() -> None:
    assert repr(nn.Hardshrink()) == "Hardshrink(0.5)"
    assert repr(nn.Softshrink(0.3)) == "Softshrink(0.3)"
    assert repr(nn.Tanhshrink()) == "Tanhshrink()"
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)"
    assert repr(nn.Threshold(0.1, 2.0, True)) == "Threshold(threshold=0.1, value=2.0, inplace=True)"
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    assert repr(nn.Softmax2d()) == "Softmax2d()"


def test_shrink_and_rrelu_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"softshrink needs lambd >= 0, got -0\.1"):
        F.softshrink(ac.zeros(2), -0.1)
    with pytest.raises(ValueError, match=r"Softshrink needs lambd >= 0, got -1"):
        nn.Softshrink(-1)
    with pytest.raises(ValueError, match=r"rrelu needs lower <= upper, got 0\.5 and 0\.1"):
        F.rrelu(ac.zeros(2), 0.5, 0.1)
    with pytest.raises(ValueError, match=r"RReLU needs lower <= upper"):
        nn.RReLU(0.5, 0.1)


def test_softmax2d_normalizes_channels_of_3d_and_4d_inputs(rng: np.random.Generator) -> None:
    for shape in ((2, 3, 4, 5), (3, 4, 5)):
        x = rng.standard_normal(shape)
        y = nn.Softmax2d()(ac.tensor(x))
        np.testing.assert_allclose(y.numpy(), np.exp(x) / np.exp(x).sum(-3, keepdims=True))
    with pytest.raises(ValueError, match=r"Softmax2d expects a 3D or 4D input, got shape \(2, 3\)"):
        nn.Softmax2d()(ac.zeros(2, 3))
    x = ac.tensor(rng.standard_normal((2, 3, 2, 2)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(nn.Softmax2d(), [x])


def test_rrelu_training_draws_slopes_between_lower_and_upper(rng: np.random.Generator) -> None:
    x = ac.tensor(_away_from_zero(rng, (50, 40)), dtype=ac.float64, req_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    ratio = y.numpy() / x.numpy()
    negative = x.numpy() < 0
    assert (ratio[~negative] == 1).all()
    assert (ratio[negative] >= 0.1).all() and (ratio[negative] <= 0.3).all()
    assert ratio[negative].std() > 0.05  # one slope per element, not one for all
    y.sum().backward()
    np.testing.assert_allclose(x.grad, ratio)  # the gradient is the drawn slope
    ac.manual_seed(1)
    first = F.rrelu(x, training=True).numpy()
    ac.manual_seed(1)
    np.testing.assert_array_equal(F.rrelu(x, training=True).numpy(), first)
    layer = nn.RReLU(0.1, 0.3)
    assert layer.training and not np.array_equal(layer(x).numpy(), F.rrelu(x, 0.1, 0.3).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), F.leaky_relu(x, 0.2).numpy())


def test_rrelu_training_gradcheck_with_fixed_slopes(rng: np.random.Generator) -> None:
    def seeded(u: ac.Tensor) -> ac.Tensor:
        ac.manual_seed(3)  # the same slopes on every call
        return F.rrelu(u, training=True)

    x = ac.tensor(_away_from_zero(rng, (3, 4)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(seeded, [x])


@pytest.mark.parametrize(
    "fn",
    [
        F.gelu,
        lambda x: F.gelu(x, approximate="tanh"),
        F.softplus,
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
    ],
    ids=["gelu", "gelu_tanh", "softplus", "softplus_beta_threshold"],
)
def test_fused_activations_have_second_derivatives(fn: Any, rng: np.random.Generator) -> None:
    x = ac.tensor(_away_from_zero(rng, (3, 4)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(fn, [x])


def test_gelu_over_its_input_has_no_second_derivatives() -> None:
    hidden = ac.randn(2, 3, dtype=ac.float64, req_grad=True) * 1.0
    with pytest.raises(NotImplementedError, match="reuse_input"):
        ac.autograd.grad(
            GELU.apply(hidden, approximate="none", reuse_input=True).sum(),
            hidden,
            create_graph=True,
        )


# ------------------------------------------------ PyTorch's spellings, Gumbel softmax, in place
def test_logsigmoid_is_log_sigmoid() -> None:
    assert F.logsigmoid is F.log_sigmoid


@pytest.mark.parametrize(("tau", "dim"), [(1.0, -1), (0.5, 0)])
def test_gumbel_softmax_soft_and_hard(tau: float, dim: int, rng: np.random.Generator) -> None:
    logits = rng.standard_normal((3, 4))
    ac.manual_seed(3)
    noise = get_generator().exponential(size=(3, 4))
    ac.manual_seed(3)
    soft = F.gumbel_softmax(ac.tensor(logits), tau, dim=dim).numpy()
    scaled = (logits - np.log(noise)) / tau
    expected = np.exp(scaled - scaled.max(dim, keepdims=True))
    expected /= expected.sum(dim, keepdims=True)
    np.testing.assert_allclose(soft, expected, rtol=1e-12)
    ac.manual_seed(3)
    x = ac.tensor(logits, req_grad=True)
    hard = F.gumbel_softmax(x, tau, hard=True, dim=dim)
    one_hot = expected == expected.max(dim, keepdims=True)
    np.testing.assert_array_equal(hard.numpy(), one_hot.astype(float))
    # straight through: the hard sample has the soft sample's gradient
    upstream = rng.standard_normal((3, 4))
    hard.backward(upstream)
    ac.manual_seed(3)
    y = ac.tensor(logits, req_grad=True)
    F.gumbel_softmax(y, tau, dim=dim).backward(upstream)
    np.testing.assert_allclose(x.grad, y.grad, rtol=1e-12)


def test_gumbel_softmax_gradcheck(rng: np.random.Generator) -> None:
    x = ac.tensor(rng.standard_normal((2, 5)), req_grad=True)

    def sample(t: ac.Tensor) -> ac.Tensor:
        ac.manual_seed(1)  # the same noise in every evaluation
        return F.gumbel_softmax(t, 0.7)

    assert ac.autograd.gradcheck(sample, [x])


IN_PLACE = [
    (F.relu_, F.relu, ()),
    (F.elu_, F.elu, (0.7,)),
    (F.leaky_relu_, F.leaky_relu, (0.2,)),
    (F.hardtanh_, F.hardtanh, (-0.5, 0.8)),
    (F.selu_, F.selu, ()),
    (F.celu_, F.celu, (1.3,)),
    (F.threshold_, F.threshold, (0.1, -2.0)),
    (F.rrelu_, F.rrelu, (0.1, 0.3, True)),
]


@pytest.mark.parametrize(("in_place", "function", "args"), IN_PLACE, ids=lambda f: f"{f}")
def test_in_place_activations_change_the_tensor(in_place, function, args, rng) -> None:
    values = rng.standard_normal((3, 4))
    ac.manual_seed(2)
    expected = function(ac.tensor(values), *args).numpy()
    x = ac.tensor(values)
    ac.manual_seed(2)
    assert in_place(x, *args) is x
    np.testing.assert_array_equal(x.numpy(), expected)
    leaf = ac.tensor(values, req_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        in_place(leaf, *args)
    with pytest.raises(RuntimeError, match="computed by"):
        in_place(leaf * 2.0, *args)
    with ac.no_grad():
        in_place(leaf, *args)
    assert leaf.req_grad and leaf.grad is None
    if in_place is not F.rrelu_:
        np.testing.assert_array_equal(leaf.numpy(), expected)


@pytest.mark.parametrize("retain_graph", [True, False])
def test_gelu_backward_twice_with_retain_graph_gives_the_same_gradient(
    retain_graph: bool, rng: np.random.Generator
) -> None:
    x = ac.tensor(rng.standard_normal((4, 5)), dtype=ac.float32, req_grad=True)
    y = F.gelu(x)
    slope = y.ctx.slope.copy()
    (y * 3).sum().backward(retain_graph=retain_graph)
    np.testing.assert_array_equal(x.grad, 3 * slope)
    if retain_graph:  # backward overwrote nothing that a second one needs
        (y * 3).sum().backward()
        np.testing.assert_array_equal(x.grad, 6 * slope)
