"""nn.init against torch.nn.init: the same distributions (two-sample Kolmogorov–Smirnov tests)."""

import math

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn import init

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

# Critical value of the two-sample KS statistic at significance 1e-4 for n = m samples:
# c(α) * sqrt(2 / n) with c(α) = sqrt(-ln(α / 2) / 2).
N = 20_000
KS_CRITICAL = math.sqrt(-math.log(1e-4 / 2) / 2) * math.sqrt(2 / N)


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)
    torch.manual_seed(0)


def _ks_statistic(a, b):
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return np.abs(cdf_a - cdf_b).max()


SHAPE = (200, 25, 2, 2)  # a conv-like weight: fan_in 100, fan_out 800, N elements

CASES = [
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("normal_", {"mean": 0.5, "std": 2.0}),
    ("xavier_uniform_", {"gain": 1.5}),
    ("xavier_normal_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"nonlinearity": "tanh"}),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("trunc_normal_", {"mean": 0.2, "std": 0.5, "a": -0.5, "b": 1.0}),
]


@pytest.mark.parametrize(
    ("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_same_distribution_as_torch(name, kwargs):
    ours = getattr(init, name)(ac.empty(*SHAPE, dtype=ac.float64), **kwargs).numpy()
    reference = getattr(torch.nn.init, name)(
        torch.empty(*SHAPE, dtype=torch.float64), **kwargs
    ).numpy()
    assert ours.size == N
    assert _ks_statistic(ours, reference) < KS_CRITICAL
    # and the supports agree: the extreme values are within a few percent of each other
    spread = reference.max() - reference.min()
    assert abs(ours.max() - reference.max()) < 0.05 * spread
    assert abs(ours.min() - reference.min()) < 0.05 * spread


def test_ks_check_detects_a_different_distribution():
    # the check above has power: kaiming_uniform with a=sqrt(5) vs a=0 differ by a factor sqrt(6)
    ours = init.kaiming_uniform_(ac.empty(*SHAPE, dtype=ac.float64)).numpy()
    reference = torch.nn.init.kaiming_uniform_(
        torch.empty(*SHAPE, dtype=torch.float64), a=math.sqrt(5)
    ).numpy()
    assert _ks_statistic(ours, reference) > KS_CRITICAL


def test_gains_and_fans_equal_torch():
    for nonlinearity, param in [
        ("relu", None),
        ("tanh", None),
        ("leaky_relu", 0.3),
        ("selu", None),
        ("conv2d", None),
    ]:
        assert init.calculate_gain(nonlinearity, param) == pytest.approx(
            torch.nn.init.calculate_gain(nonlinearity, param)
        )
    for shape in [(5, 4), (8, 3, 5), (8, 3, 5, 5), (4, 2, 3, 3, 3)]:
        assert init._calculate_fan_in_and_fan_out(ac.empty(*shape)) == (
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
        )


def test_linear_default_init_matches_torch_distribution():
    ours = nn.Linear(100, 200).weight.numpy().ravel()
    reference = torch.nn.Linear(100, 200).weight.detach().numpy().ravel()
    assert _ks_statistic(ours, reference) < KS_CRITICAL
    ours_bias = np.concatenate([nn.Linear(100, 200).bias.numpy() for _ in range(100)])
    reference_bias = np.concatenate(
        [torch.nn.Linear(100, 200).bias.detach().numpy() for _ in range(100)]
    )
    assert _ks_statistic(ours_bias, reference_bias) < KS_CRITICAL
    bound = 1 / math.sqrt(100)
    assert np.abs(ours).max() <= bound and np.abs(ours_bias).max() <= bound


def test_orthogonal_like_torch():
    ours = init.orthogonal_(ac.empty(30, 50, dtype=ac.float64), gain=2).numpy()
    reference = torch.nn.init.orthogonal_(torch.empty(30, 50, dtype=torch.float64), gain=2).numpy()
    np.testing.assert_allclose(ours @ ours.T, reference @ reference.T, atol=1e-10)
