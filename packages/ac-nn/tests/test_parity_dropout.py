"""Alpha dropout against PyTorch (float32): the values kept and dropped elements take, and
the layers' evaluation mode and repr (the masks come from different generators)."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture(autouse=True)
def _seed() -> None:
    ac.manual_seed(0)
    torch.manual_seed(0)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_values_match_pytorch(p: float, feature: bool) -> None:
    ours_fn, theirs_fn = (
        (F.feature_alpha_dropout, TF.feature_alpha_dropout)
        if feature
        else (F.alpha_dropout, TF.alpha_dropout)
    )
    # a constant input (per channel) has exactly two output values: kept and dropped
    values = np.full((64, 32, 4), 0.75, dtype=np.float32)
    ours = ours_fn(ac.tensor(values), p, training=True).numpy()
    theirs = theirs_fn(torch.tensor(values), p, training=True).numpy()
    np.testing.assert_allclose(np.unique(ours), np.unique(theirs), rtol=1e-6)
    # and the gradient is a on kept elements, 0 on dropped ones
    x = ac.tensor(values, req_grad=True)
    y = ours_fn(x, p, training=True)
    y.sum().backward()
    kept_value = np.unique(theirs).max()
    t = torch.tensor(values, requires_grad=True)
    theirs_y = theirs_fn(t, p, training=True)
    theirs_y.sum().backward()
    np.testing.assert_allclose(
        np.unique(x.grad[y.numpy() == kept_value]), np.unique(t.grad[theirs_y == kept_value])
    )
    assert set(np.unique(x.grad[y.numpy() != kept_value])) == {0.0}


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_layers_match_pytorch(name: str) -> None:
    ours, theirs = getattr(nn, name)(0.25), getattr(torch.nn, name)(0.25)
    assert repr(ours) == repr(theirs)
    values = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        ours.eval()(ac.tensor(values)).numpy(), theirs.eval()(torch.tensor(values)).numpy()
    )
