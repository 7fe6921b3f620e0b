"""Convolutions against PyTorch (float32): outputs, input/weight/bias gradients and layers."""

import itertools

import numpy as np
import pytest
from parity_helpers import compare, compare_layers, load_from

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)
    torch.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


CONV_GRID = [  # stride, padding, dilation, groups; 'same' needs stride 1
    (s, p, d, g)
    for s, p, d, g in itertools.product([1, 2, (2, 1)], [0, 1, (2, 0), "same", "valid"], [1, 2], [1, 2])
    if not (p == "same" and s != 1)
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), CONV_GRID)
@pytest.mark.parametrize("width", [9, 21])  # both unfolding layouts
def test_conv2d_matches_torch(rng, stride, padding, dilation, groups, width):
    arrays = [rng.standard_normal((3, 4, 8, width)), rng.standard_normal((6, 4 // groups, 3, 2)),
              rng.standard_normal(6)]
    compare(
        lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
        lambda x, w, b: TF.conv2d(x, w, b, stride, padding, dilation, groups),
        arrays, rng,
    )


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), [g for g in CONV_GRID if not isinstance(g[0], tuple)])
def test_conv1d_matches_torch(rng, stride, padding, dilation, groups):
    padding = 2 if padding == (2, 0) else padding
    arrays = [rng.standard_normal((3, 4, 20)), rng.standard_normal((6, 4 // groups, 4)),
              rng.standard_normal(6)]
    compare(
        lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups),
        lambda x, w, b: TF.conv1d(x, w, b, stride, padding, dilation, groups),
        arrays, rng,
    )


TRANSPOSE_GRID = [  # stride, padding, output_padding, dilation, groups
    (s, p, op, d, g)
    for s, p, op, d, g in itertools.product([1, 2, 3], [0, 1, 2], [0, 1], [1, 2], [1, 2])
    if op < s or op < d
]


@pytest.mark.parametrize(("stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE_GRID)
@pytest.mark.parametrize("width", [6, 17])
def test_conv_transpose2d_matches_torch(rng, stride, padding, output_padding, dilation, groups, width):
    arrays = [rng.standard_normal((2, 4, 5, width)), rng.standard_normal((4, 6 // groups, 3, 2)),
              rng.standard_normal(6)]
    compare(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
        arrays, rng,
    )


@pytest.mark.parametrize(("stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE_GRID)
def test_conv_transpose1d_matches_torch(rng, stride, padding, output_padding, dilation, groups):
    arrays = [rng.standard_normal((2, 4, 7)), rng.standard_normal((4, 6 // groups, 3)),
              rng.standard_normal(6)]
    compare(
        lambda x, w, b: F.conv_transpose1d(x, w, b, stride, padding, output_padding, groups, dilation),
        lambda x, w, b: TF.conv_transpose1d(x, w, b, stride, padding, output_padding, groups, dilation),
        arrays, rng,
    )


def test_conv_without_bias_and_unbatched_match_torch(rng):
    arrays = [rng.standard_normal((4, 7, 9)), rng.standard_normal((5, 4, 3, 3))]
    compare(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), arrays, rng)
    arrays = [rng.standard_normal((4, 7, 9)), rng.standard_normal((4, 2, 3, 3))]
    compare(lambda x, w: F.conv_transpose2d(x, w, stride=2),
            lambda x, w: TF.conv_transpose2d(x, w, stride=2), arrays, rng)


@pytest.mark.parametrize(("ours", "theirs", "shape"), [
    (lambda: nn.Conv2d(3, 8, 3, padding=1), lambda: torch.nn.Conv2d(3, 8, 3, padding=1), (2, 3, 6, 7)),
    (lambda: nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
     lambda: torch.nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False), (2, 4, 9, 20)),
    (lambda: nn.Conv1d(3, 4, 3, padding="same"), lambda: torch.nn.Conv1d(3, 4, 3, padding="same"), (2, 3, 11)),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2),
     lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2), (2, 4, 5, 6)),
    (lambda: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1),
     lambda: torch.nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1), (2, 4, 5)),
])
def test_conv_layers_match_torch_after_loading_its_state(rng, ours, theirs, shape):
    ours, theirs = ours(), theirs()
    load_from(ours, theirs)
    assert repr(ours) == repr(theirs).replace("padding=same", "padding='same'")
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


def test_conv_layer_init_uses_torch_fan_in():
    # weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in as torch computes it
    for ours, theirs in [(nn.Conv2d(16, 32, 5), torch.nn.Conv2d(16, 32, 5)),
                         (nn.ConvTranspose2d(16, 32, 3, groups=4), torch.nn.ConvTranspose2d(16, 32, 3, groups=4)),
                         (nn.Conv1d(8, 12, 3, groups=2), torch.nn.Conv1d(8, 12, 3, groups=2))]:
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
        bound = 1 / np.sqrt(fan_in)
        weight, bias = ours.weight.numpy(), ours.bias.numpy()
        assert weight.shape == tuple(theirs.weight.shape) and bias.shape == tuple(theirs.bias.shape)
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        assert np.abs(weight).max() > 0.9 * bound
        assert abs(weight.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3)
