"""Activation functions and layers against PyTorch: outputs and input gradients (float32)."""

import numpy as np
import pytest
from parity_helpers import compare, compare_layers

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute._core.random import get_generator

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


FUNCTIONS = {
    "relu": (F.relu, TF.relu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "softmax": (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1)),
    "log_softmax": (lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 5.0), lambda x: TF.softplus(x, 2.0, 5.0)),
    "hardtanh": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0)),
    "relu6": (F.relu6, TF.relu6),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "log_sigmoid": (F.log_sigmoid, TF.logsigmoid),
    "mish": (F.mish, TF.mish),
    "softsign": (F.softsign, TF.softsign),
    "glu": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
    "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7)),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "hardshrink": (F.hardshrink, TF.hardshrink),
    "hardshrink_lambd": (lambda x: F.hardshrink(x, 2.5), lambda x: TF.hardshrink(x, 2.5)),
    "softshrink": (F.softshrink, TF.softshrink),
    "softshrink_lambd": (lambda x: F.softshrink(x, 1.5), lambda x: TF.softshrink(x, 1.5)),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "threshold": (lambda x: F.threshold(x, 0.7, -3.0), lambda x: TF.threshold(x, 0.7, -3.0)),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.4), lambda x: TF.rrelu(x, 0.1, 0.4)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_match_pytorch(name: str, rng: np.random.Generator) -> None:
    ours, theirs = FUNCTIONS[name]
    x = rng.uniform(-6, 6, (4, 5, 3))
    x[0, 0, :] = [-30.0, 30.0, 0.5]  # far tails
    compare(ours, theirs, [x], rng)


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "hardsigmoid", "hardswish"])
def test_hard_activations_at_their_corners_match_pytorch(name: str, rng) -> None:
    ours, theirs = FUNCTIONS[name]
    compare(ours, theirs, [np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 3.0, 6.0])], rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hardswish_at_infinities_matches_pytorch(dtype) -> None:
    values = np.array([-np.inf, -1e30, -3.0, 3.0, 1e30, np.inf], dtype)
    with np.errstate(invalid="ignore"):  # NOTE: hardswish(-inf) is NaN (0 * -inf) in both
        _compare_tails(F.hardswish, TF.hardswish, values)


@pytest.mark.parametrize("name", ["hardshrink", "hardshrink_lambd", "threshold"])
def test_shrinks_and_threshold_keep_nan_as_pytorch(name: str) -> None:
    ours, theirs = FUNCTIONS[name]
    x = np.array([np.nan, -np.inf, -0.5, 0.7, 2.5, np.inf], np.float32)
    # NOTE: no slope at NaN: PyTorch's hardshrink has 1 or 0 there by where in the array it is
    np.testing.assert_array_equal(ours(ac.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    _compare_tails(ours, theirs, x[1:])


LAYERS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(), torch.nn.ELU()),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.SiLU(), torch.nn.SiLU()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
    (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    (nn.Softplus(beta=0.5, threshold=4.0), torch.nn.Softplus(beta=0.5, threshold=4.0)),
    (nn.Hardtanh(-0.5, 0.5), torch.nn.Hardtanh(-0.5, 0.5)),
    (nn.ReLU6(), torch.nn.ReLU6()),
    (nn.Hardsigmoid(), torch.nn.Hardsigmoid()),
    (nn.Hardswish(), torch.nn.Hardswish()),
    (nn.LogSigmoid(), torch.nn.LogSigmoid()),
    (nn.Mish(), torch.nn.Mish()),
    (nn.Softsign(), torch.nn.Softsign()),
    (nn.GLU(dim=1), torch.nn.GLU(dim=1)),
    (nn.SELU(), torch.nn.SELU()),
    (nn.CELU(0.5), torch.nn.CELU(0.5)),
    (nn.Softmin(dim=1), torch.nn.Softmin(dim=1)),
    (nn.Hardshrink(0.3), torch.nn.Hardshrink(0.3)),
    (nn.Softshrink(), torch.nn.Softshrink()),
    (nn.Tanhshrink(), torch.nn.Tanhshrink()),
    (nn.Threshold(0.5, -1.0), torch.nn.Threshold(0.5, -1.0)),
    (nn.RReLU(0.2, 0.3).eval(), torch.nn.RReLU(0.2, 0.3).eval()),
]


@pytest.mark.parametrize(("ours", "theirs"), LAYERS, ids=lambda m: repr(m))
def test_layers_match_pytorch(ours, theirs, rng: np.random.Generator) -> None:
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.uniform(-4, 4, (3, 6)), rng)


@pytest.mark.parametrize("channels", [1, 6])
def test_prelu_matches_pytorch(channels, rng: np.random.Generator) -> None:
    ours, theirs = nn.PReLU(channels, init=0.1), torch.nn.PReLU(channels, init=0.1)
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.uniform(-4, 4, (3, 6, 2)), rng)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 4)])
def test_softmax2d_matches_pytorch(shape, rng: np.random.Generator) -> None:
    ours, theirs = nn.Softmax2d(), torch.nn.Softmax2d()
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


def test_rrelu_training_slopes_lie_in_pytorchs_range(rng: np.random.Generator) -> None:
    x = rng.uniform(-4, 4, (200,)).astype(np.float32)
    ours = nn.RReLU(0.1, 0.3)(ac.tensor(x)).numpy()
    theirs = torch.nn.RReLU(0.1, 0.3)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(ours[x >= 0], theirs[x >= 0])
    for result in (ours, theirs):  # random slopes: the same range, not the same draws
        slopes = result[x < 0] / x[x < 0]
        assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("relu_", ()),
        ("elu_", (0.7,)),
        ("leaky_relu_", (0.2,)),
        ("hardtanh_", (-0.5, 0.8)),
        ("selu_", ()),
        ("celu_", (1.3,)),
        ("threshold_", (0.1, -2.0)),
        ("rrelu_", (0.1, 0.3, False)),
    ],
)
def test_in_place_activations_match_pytorch(name, args, rng: np.random.Generator) -> None:
    values = rng.standard_normal((3, 5)).astype(np.float32)
    ours, theirs = ac.tensor(values), torch.tensor(values)
    assert getattr(F, name)(ours, *args) is ours
    getattr(TF, name)(theirs, *args)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("tau", "hard", "dim"), [(1.0, False, -1), (0.5, True, 0), (2.0, True, 1)])
def test_gumbel_softmax_matches_pytorch_given_the_same_noise(
    tau, hard, dim, rng: np.random.Generator, monkeypatch
) -> None:
    logits = rng.standard_normal((4, 6)).astype(np.float32)
    ac.manual_seed(7)
    noise = get_generator().exponential(size=logits.shape)
    # NOTE: PyTorch draws its Gumbel noise with Tensor.exponential_: give it ours.
    monkeypatch.setattr(
        torch.Tensor, "exponential_", lambda self, *a, **k: self.copy_(torch.tensor(noise))
    )
    ac.manual_seed(7)
    compare(
        lambda x: F.gumbel_softmax(x, tau, hard, dim=dim),
        lambda x: TF.gumbel_softmax(x, tau, hard, dim=dim),
        [logits],
        rng,
    )


def test_logsigmoid_matches_pytorch(rng: np.random.Generator) -> None:
    compare(F.logsigmoid, TF.logsigmoid, [rng.standard_normal((3, 4)) * 20], rng)


def _compare_tails(ours, theirs, x: np.ndarray) -> None:
    """Values and gradients at far-tail inputs in x's dtype, relative to each value's size
    down to the smallest normal number (subnormal results may round to 0)."""
    x_ours, x_theirs = ac.tensor(x, req_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(x_ours), theirs(x_theirs)
    out.backward(np.ones_like(x))
    expected.backward(torch.ones_like(expected))
    tol = {"rtol": 1e-5 if x.dtype == np.float32 else 1e-12, "atol": np.finfo(x.dtype).tiny}
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **tol)


TAILS = [-1e30, -200.0, -100.0, -50.0, -30.0, -20.0, -18.0, -10.0, 0.0, 10.0, 30.0, 1e30]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softplus", "softplus_beta", "log_sigmoid", "mish", "silu"])
def test_smooth_activations_in_their_far_tails_match_pytorch(name: str, dtype) -> None:
    # NOTE: d softplus / dx = sigmoid(x) is e^x for x << 0, not 0: mish's gradient there
    # is (1 + x) e^x, and log_sigmoid's is e^-x for x >> 0
    ours, theirs = FUNCTIONS[name]
    x = np.array(TAILS + [-t for t in TAILS], dtype)
    _compare_tails(ours, theirs, x)


# NOTE: no float64 celu: PyTorch's slope takes alpha in float32 there (1.00000002 at 0)
@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("elu", np.float32),
        ("elu", np.float64),
        ("selu", np.float32),
        ("selu", np.float64),
        ("celu", np.float32),
    ],
)
def test_elus_near_zero_and_in_the_tail_match_pytorch(name: str, dtype) -> None:
    ours, theirs = FUNCTIONS[name]
    _compare_tails(ours, theirs, np.array([-1e-7, -1e-5, -1e-3, -30.0, 1e-7], dtype))
