"""nn.init: gains, fans, in-place fills and the distributions drawn."""

import math

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn import init


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fans_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(ac.empty(5, 4)) == (4, 5)
    assert init._calculate_fan_in_and_fan_out(ac.empty(8, 3, 5, 5)) == (75, 200)
    assert init._calculate_fan_in_and_fan_out(ac.empty(8, 3, 7)) == (21, 56)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ac.empty(5))
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_uniform_(ac.empty(2, 2), mode="fan_avg")


def test_fills_are_in_place_on_parameters_and_keep_dtype():
    p = nn.Parameter(ac.zeros(3, 4, dtype=ac.float64))
    data = p.data
    for fill in (
        lambda t: init.uniform_(t, -1, 1),
        init.normal_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.trunc_normal_,
        init.orthogonal_,
        init.zeros_,
        init.ones_,
        init.eye_,
        lambda t: init.constant_(t, 0.5),
    ):
        assert fill(p) is p
        assert p.data is data and p.dtype == ac.float64 and p.req_grad and p.ctx is None
    assert np.all(p.data == 0.5)


def test_constant_zeros_ones_eye():
    t = ac.empty(2, 3)
    assert np.all(init.zeros_(t).data == 0)
    assert np.all(init.ones_(t).data == 1)
    assert np.all(init.constant_(t, -2.5).data == -2.5)
    assert np.array_equal(init.eye_(t).data, np.eye(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        init.eye_(ac.empty(2))


def test_draws_follow_the_global_seed_and_a_generator():
    ac.manual_seed(5)
    a = init.normal_(ac.empty(10)).data.copy()
    ac.manual_seed(5)
    b = init.normal_(ac.empty(10)).data.copy()
    assert np.array_equal(a, b)
    c = init.kaiming_uniform_(ac.empty(4, 4), generator=np.random.default_rng(1)).data.copy()
    d = init.kaiming_uniform_(ac.empty(4, 4), generator=np.random.default_rng(1)).data.copy()
    assert np.array_equal(c, d)


def test_uniform_and_normal_moments():
    u = init.uniform_(ac.empty(200_000, dtype=ac.float64), -2, 4).data
    assert u.min() >= -2 and u.max() < 4
    # mean 1, std 6/sqrt(12); the standard error of the mean is about 0.004
    assert abs(u.mean() - 1) < 0.02 and abs(u.std() - 6 / math.sqrt(12)) < 0.01
    n = init.normal_(ac.empty(200_000, dtype=ac.float64), 3, 0.5).data
    assert abs(n.mean() - 3) < 0.005 and abs(n.std() - 0.5) < 0.005
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(ac.empty(2), 1, 0)
    with pytest.raises(ValueError, match="std >= 0"):
        init.normal_(ac.empty(2), 0, -1)


@pytest.mark.parametrize(
    ("shape", "kwargs", "fan"),
    [
        ((400, 300), {}, 300),
        ((400, 300), {"a": math.sqrt(5)}, 300),
        ((64, 16, 3, 3), {"mode": "fan_out", "nonlinearity": "relu"}, 576),
        ((64, 16, 3, 3), {"nonlinearity": "tanh"}, 144),
    ],
)
def test_kaiming_bounds_and_std(shape, kwargs, fan):
    gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    std = gain / math.sqrt(fan)
    u = init.kaiming_uniform_(ac.empty(*shape, dtype=ac.float64), **kwargs).data
    bound = math.sqrt(3) * std
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    assert abs(u.std() - std) < 0.02 * std
    n = init.kaiming_normal_(ac.empty(*shape, dtype=ac.float64), **kwargs).data
    assert abs(n.std() - std) < 0.02 * std and abs(n.mean()) < 0.02 * std


def test_xavier_std():
    fan_in, fan_out = 300, 400
    std = 2.0 * math.sqrt(2 / (fan_in + fan_out))
    u = init.xavier_uniform_(ac.empty(fan_out, fan_in, dtype=ac.float64), gain=2.0).data
    assert np.abs(u).max() <= math.sqrt(3) * std and abs(u.std() - std) < 0.02 * std
    n = init.xavier_normal_(ac.empty(fan_out, fan_in, dtype=ac.float64), gain=2.0).data
    assert abs(n.std() - std) < 0.02 * std


def test_trunc_normal_stays_in_bounds_with_the_right_moments():
    t = init.trunc_normal_(ac.empty(100_000, dtype=ac.float64), mean=1, std=2, a=0, b=3).data
    assert t.min() >= 0 and t.max() <= 3
    # N(1, 2²) cut to [0, 3] = standard bounds [-0.5, 1]: its mean is 1 + 2 (φ(-0.5) - φ(1)) / Z
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    z = cdf(1) - cdf(-0.5)
    assert abs(t.mean() - (1 + 2 * (phi(-0.5) - phi(1)) / z)) < 0.01
    with pytest.raises(ValueError, match="holds only"):
        init.trunc_normal_(ac.empty(3), mean=0, std=1, a=10, b=11)
    with pytest.raises(ValueError, match="std > 0"):
        init.trunc_normal_(ac.empty(3), std=0)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal(shape):
    q = init.orthogonal_(ac.empty(*shape, dtype=ac.float64), gain=2.0).data.reshape(shape[0], -1)
    small = min(q.shape)
    gram = q @ q.T if q.shape[0] == small else q.T @ q
    np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.orthogonal_(ac.empty(3))


def test_zero_element_tensor_warns_and_is_left_alone():
    t = ac.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_normal_(t) is t


def test_init_refuses_non_tensors():
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(2))
