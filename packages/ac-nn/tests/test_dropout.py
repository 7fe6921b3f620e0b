"""Dropout (function and layer)."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute._core.random import get_generator


@pytest.fixture(autouse=True)
def _seed() -> None:
    ac.manual_seed(0)


def test_inverted_dropout_values_and_rate() -> None:
    x = ac.ones(100, 100)
    y = F.dropout(x, p=0.3).numpy()
    assert set(np.unique(y).tolist()) == {0.0, np.float32(1 / 0.7).item()}
    assert abs((y == 0).mean() - 0.3) < 0.02
    assert y.dtype == np.float32


def test_dropout_is_reproducible_and_gradient_is_the_mask() -> None:
    ac.manual_seed(5)
    first = F.dropout(ac.randn(6, 4), 0.5)
    ac.manual_seed(5)
    x = ac.randn(6, 4, dtype=ac.float32, req_grad=True)
    y = F.dropout(x, 0.5)
    np.testing.assert_array_equal(y.numpy(), first.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, (y.numpy() != 0) * np.float32(2.0))

    def fn(t):
        ac.manual_seed(2)
        return F.dropout(t, 0.25)

    assert ac.autograd.gradcheck(fn, [ac.randn(3, 4, dtype=ac.float64, req_grad=True)])


def test_dropout_identity_and_extremes() -> None:
    x = ac.randn(3, 3, req_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    zeros = F.dropout(x, 1.0)
    assert (zeros.numpy() == 0).all() and zeros.req_grad
    with pytest.raises(ValueError, match=r"in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5)


def test_dropout_layer_follows_training_mode() -> None:
    layer = nn.Dropout(0.5)
    x = ac.ones(50, 50)
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)


@pytest.mark.parametrize(
    ("function", "shape", "spatial"),
    [  # the last one without a batch axis
        (F.dropout1d, (4, 6, 5), 1),
        (F.dropout2d, (4, 6, 3, 2), 2),
        (F.dropout3d, (6, 2, 2, 3), 3),
    ],
)
def test_channel_dropout_zeroes_whole_channels(function, shape, spatial) -> None:
    ac.manual_seed(0)
    x = ac.ones(*shape, req_grad=True)
    y = function(x, p=0.5)
    values = y.numpy().reshape(*shape[: len(shape) - spatial], -1)  # a row per channel
    assert set(np.unique(values)) <= {0.0, 2.0}
    assert (values.min(-1) == values.max(-1)).all()  # a channel is dropped whole
    assert 0 < (values[..., 0] == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())  # the gradient is the scaled mask
    assert function(x, p=0.5, training=False) is x
    with pytest.raises(ValueError, match="spatial axes"):
        function(ac.ones(2), p=0.5)


def test_channel_dropout_layers() -> None:
    layer = nn.Dropout2d(0.3)
    assert repr(layer) == "Dropout2d(p=0.3, inplace=False)"
    assert layer.eval()(ac.ones(1, 2, 2, 2)).tolist() == ac.ones(1, 2, 2, 2).tolist()
    assert nn.Dropout1d(0.2)(ac.ones(2, 3, 4)).shape == (2, 3, 4)


ALPHA = 1.7580993408473766  # SELU's scale * alpha


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_values_gradient_and_statistics(p: float) -> None:
    ac.manual_seed(4)
    x = ac.randn(200, 100, dtype=ac.float64, req_grad=True)
    ac.manual_seed(9)
    keep = get_generator().random(x.shape) >= p
    ac.manual_seed(9)
    y = F.alpha_dropout(x, p, training=True)
    a = 1 / np.sqrt((ALPHA**2 * p + 1) * (1 - p))
    expected = np.where(keep, a * x.numpy() + ALPHA * a * p, ALPHA * a * (p - 1))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    # zero mean and unit variance stay so
    assert abs(y.numpy().mean()) < 0.03 and abs(y.numpy().var() - 1) < 0.05
    y.backward(np.ones(x.shape))
    np.testing.assert_allclose(x.grad, a * keep, rtol=1e-12)
    assert F.alpha_dropout(x, p) is x  # training is False by default, as in PyTorch
    assert F.alpha_dropout(x, 0.0, training=True) is x
    assert (F.alpha_dropout(x, 1.0, training=True).numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(x, 1.2, training=True)


def test_feature_alpha_dropout_drops_whole_channels() -> None:
    x = ac.ones(8, 6, 3, 2, req_grad=True)
    y = F.feature_alpha_dropout(x, 0.5, training=True).numpy().reshape(8, 6, -1)
    assert (y.min(-1) == y.max(-1)).all()
    assert len(np.unique(y)) == 2
    assert F.feature_alpha_dropout(x, 0.5) is x
    with pytest.raises(RuntimeError, match="at least 2 axes"):
        F.feature_alpha_dropout(ac.ones(3), 0.5, training=True)


def test_alpha_dropout_layers_follow_training_mode() -> None:
    layer = nn.AlphaDropout(0.3)
    x = ac.ones(20, 20)
    assert len(np.unique(layer(x).numpy())) == 2
    assert layer.eval()(x) is x
    assert repr(layer) == "AlphaDropout(p=0.3, inplace=False)"
    channels = nn.FeatureAlphaDropout(0.3)
    assert channels(ac.ones(4, 5, 2)).shape == (4, 5, 2)
    assert channels.eval()(x) is x
