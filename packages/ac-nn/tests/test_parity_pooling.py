"""Pooling against PyTorch (float32): outputs, input gradients, indices, ties and layers."""

import itertools

import numpy as np
import pytest
from parity_helpers import compare, compare_layers

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


WINDOW_GRID = [  # kernel, stride, padding, dilation, ceil_mode
    (k, s, p, d, c)
    for k, s, p, d, c in itertools.product(
        [2, 3, (2, 3)], [None, 1, 2, (1, 2)], [0, 1], [1, 2], [False, True]
    )
    if p <= min(k if isinstance(k, tuple) else (k,)) // 2
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), WINDOW_GRID)
def test_max_pool2d_matches_torch(rng, kernel, stride, padding, dilation, ceil_mode):
    compare(
        lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
        lambda x: TF.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
        [rng.standard_normal((2, 3, 7, 8))],
        rng,
    )
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    _, ours = F.max_pool2d(
        ac.tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True
    )
    _, theirs = TF.max_pool2d(
        torch.tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True
    )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil_mode"),
    [g for g in WINDOW_GRID if not isinstance(g[0], tuple) and not isinstance(g[1], tuple)],
)
def test_max_pool1d_matches_torch(rng, kernel, stride, padding, dilation, ceil_mode):
    compare(
        lambda x: F.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode),
        lambda x: TF.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode),
        [rng.standard_normal((2, 3, 11))],
        rng,
    )


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), (3, 1), (3, 2)])
def test_max_pool_ties_route_gradients_like_torch(rng, kernel, stride):
    # ReLU outputs and small integers repeat a lot: the gradient must go to the same element
    for x in (
        np.maximum(rng.standard_normal((2, 3, 8, 9)), 0),
        rng.integers(0, 3, (2, 3, 8, 9)).astype(float),
    ):
        compare(
            lambda t: F.max_pool2d(t, kernel, stride),
            lambda t: TF.max_pool2d(t, kernel, stride),
            [x],
            rng,
        )


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil_mode"), [g for g in WINDOW_GRID if g[3] == 1]
)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(
    rng, kernel, stride, padding, dilation, ceil_mode, count_include_pad
):
    compare(
        lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad),
        lambda x: TF.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad),
        [rng.standard_normal((2, 3, 7, 8))],
        rng,
    )


@pytest.mark.parametrize("divisor_override", [1, 5])
def test_avg_pool2d_divisor_override_matches_torch(rng, divisor_override):
    compare(
        lambda x: F.avg_pool2d(x, 3, 2, 1, True, True, divisor_override),
        lambda x: TF.avg_pool2d(x, 3, 2, 1, True, True, divisor_override),
        [rng.standard_normal((2, 3, 7, 8))],
        rng,
    )


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "ceil_mode", "count_include_pad"),
    itertools.product([2, 3], [None, 2], [0, 1], [False, True], [True, False]),
)
def test_avg_pool1d_matches_torch(rng, kernel, stride, padding, ceil_mode, count_include_pad):
    compare(
        lambda x: F.avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad),
        lambda x: TF.avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad),
        [rng.standard_normal((2, 3, 11))],
        rng,
    )


@pytest.mark.parametrize("size", [1, 2, 3, (3, 5), (7, 8), (4, 3), (10, 11), (None, 2), (2, None)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 9, 5)])
def test_adaptive_avg_pool2d_matches_torch(rng, size, shape):
    compare(
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: TF.adaptive_avg_pool2d(x, size),
        [rng.standard_normal(shape)],
        rng,
    )


@pytest.mark.parametrize("size", [1, 3, (3, 5), (7, 8), (10, 11), (None, 2)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 9, 5)])
def test_adaptive_max_pool2d_matches_torch(rng, size, shape):
    x = rng.standard_normal(shape)
    compare(
        lambda t: F.adaptive_max_pool2d(t, size),
        lambda t: TF.adaptive_max_pool2d(t, size),
        [x],
        rng,
    )
    ours = F.adaptive_max_pool2d(ac.tensor(x), size, return_indices=True)[1]
    theirs = TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)[1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("size", [1, 4, 13])
def test_adaptive_max_pool1d_matches_torch(rng, size):
    compare(
        lambda t: F.adaptive_max_pool1d(t, size),
        lambda t: TF.adaptive_max_pool1d(t, size),
        [rng.standard_normal((2, 3, 9))],
        rng,
    )


@pytest.mark.parametrize("size", [1, 2, 4, 9, 13])
def test_adaptive_avg_pool1d_matches_torch(rng, size):
    compare(
        lambda x: F.adaptive_avg_pool1d(x, size),
        lambda x: TF.adaptive_avg_pool1d(x, size),
        [rng.standard_normal((2, 3, 9))],
        rng,
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (2, 3, 6, 7)),
        (
            lambda: nn.MaxPool2d((3, 2), (2, 1), 1, ceil_mode=True),
            lambda: torch.nn.MaxPool2d((3, 2), (2, 1), 1, ceil_mode=True),
            (2, 3, 6, 7),
        ),
        (lambda: nn.MaxPool1d(3, 2, 1), lambda: torch.nn.MaxPool1d(3, 2, 1), (2, 3, 10)),
        (lambda: nn.AvgPool2d(3, 2, 1), lambda: torch.nn.AvgPool2d(3, 2, 1), (2, 3, 6, 7)),
        (lambda: nn.AvgPool1d(2), lambda: torch.nn.AvgPool1d(2), (2, 3, 10)),
        (
            lambda: nn.AdaptiveAvgPool2d((2, 3)),
            lambda: torch.nn.AdaptiveAvgPool2d((2, 3)),
            (2, 3, 6, 7),
        ),
        (lambda: nn.AdaptiveAvgPool1d(4), lambda: torch.nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
    ],
)
def test_pooling_layers_match_torch(rng, ours, theirs, shape):
    ours, theirs = ours(), theirs()
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


def test_small_cnn_matches_torch(rng):
    """The benchmark's network on a small batch: conv-relu-pool twice, then linear."""

    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 4, 5),
            lib.ReLU(),
            lib.MaxPool2d(2),
            lib.Conv2d(4, 8, 5),
            lib.ReLU(),
            lib.MaxPool2d(2),
            lib.Flatten(),
            lib.Linear(128, 10),
        )

    ours, theirs = build(nn), build(torch.nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    compare_layers(ours, theirs, rng.standard_normal((4, 1, 28, 28)), rng)


WINDOW3D_GRID = [  # kernel, stride, padding, dilation, ceil_mode
    (k, s, p, d, c)
    for k, s, p, d, c in itertools.product(
        [2, (3, 2, 3)], [None, 1, (2, 1, 2)], [0, 1], [1, (2, 1, 1)], [False, True]
    )
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), WINDOW3D_GRID)
def test_max_pool3d_matches_torch(rng, kernel, stride, padding, dilation, ceil_mode):
    compare(
        lambda x: F.max_pool3d(x, kernel, stride, padding, dilation, ceil_mode),
        lambda x: TF.max_pool3d(x, kernel, stride, padding, dilation, ceil_mode),
        [rng.standard_normal((2, 3, 6, 7, 5))],
        rng,
    )
    x = rng.standard_normal((2, 3, 6, 7, 5)).astype(np.float32)
    _, ours = F.max_pool3d(
        ac.tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True
    )
    _, theirs = TF.max_pool3d(
        torch.tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True
    )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_max_pool3d_ties_route_gradients_like_torch(rng):
    for x in (
        np.maximum(rng.standard_normal((2, 3, 6, 6, 5)), 0),
        rng.integers(0, 3, (2, 3, 6, 6, 5)).astype(float),
    ):
        compare(lambda t: F.max_pool3d(t, 3, 1), lambda t: TF.max_pool3d(t, 3, 1), [x], rng)


NAN_POOLS = {  # name: (arguments, input shape)
    "max_pool1d": ((3, 1, 1), (2, 3, 11)),
    "max_pool2d": ((3, 2, 1, 1, True), (2, 3, 8, 9)),
    "max_pool3d": ((2, 1), (2, 2, 4, 5, 3)),
    "adaptive_max_pool1d": ((2,), (2, 3, 11)),
    "adaptive_max_pool2d": (((3, 4),), (2, 3, 8, 9)),
    "adaptive_max_pool3d": (((2, 3, 2),), (2, 2, 4, 5, 3)),
}


@pytest.mark.parametrize("name", sorted(NAN_POOLS))
def test_max_pools_pick_nans_like_torch(rng, name):
    # NOTE: PyTorch's maximum is NaN where a window holds one, and its index (and gradient)
    # that window's last NaN
    args, shape = NAN_POOLS[name]
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.2] = np.nan
    compare(
        lambda t: getattr(F, name)(t, *args),
        lambda t: getattr(TF, name)(t, *args),
        [x],
        rng,
    )
    _, indices = getattr(F, name)(ac.tensor(x, dtype=ac.float32), *args, return_indices=True)
    _, expected = getattr(TF, name)(
        torch.tensor(x, dtype=torch.float32), *args, return_indices=True
    )
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil_mode"),
    [g for g in WINDOW3D_GRID if g[3] == 1],
)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 3])
def test_avg_pool3d_matches_torch(
    rng, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor_override
):
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    compare(
        lambda x: F.avg_pool3d(x, *args),
        lambda x: TF.avg_pool3d(x, *args),
        [rng.standard_normal((2, 3, 6, 7, 5))],
        rng,
    )


@pytest.mark.parametrize("size", [1, (2, 3, 4), (4, None, 2), (6, 5, 3)])
@pytest.mark.parametrize("shape", [(2, 3, 6, 7, 5), (3, 5, 4, 7)])
def test_adaptive_pool3d_match_torch(rng, size, shape):
    compare(
        lambda x: F.adaptive_avg_pool3d(x, size),
        lambda x: TF.adaptive_avg_pool3d(x, size),
        [rng.standard_normal(shape)],
        rng,
    )
    compare(
        lambda x: F.adaptive_max_pool3d(x, size),
        lambda x: TF.adaptive_max_pool3d(x, size),
        [rng.standard_normal(shape)],
        rng,
    )
    x = rng.standard_normal(shape).astype(np.float32)
    _, ours = F.adaptive_max_pool3d(ac.tensor(x), size, return_indices=True)
    _, theirs = TF.adaptive_max_pool3d(torch.tensor(x), size, return_indices=True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: nn.MaxPool3d(2), lambda: torch.nn.MaxPool3d(2)),
        (
            lambda: nn.MaxPool3d((3, 2, 2), (2, 1, 1), 1, ceil_mode=True),
            lambda: torch.nn.MaxPool3d((3, 2, 2), (2, 1, 1), 1, ceil_mode=True),
        ),
        (lambda: nn.AvgPool3d(3, 2, 1), lambda: torch.nn.AvgPool3d(3, 2, 1)),
        (
            lambda: nn.AvgPool3d(2, count_include_pad=False, padding=1, divisor_override=5),
            lambda: torch.nn.AvgPool3d(2, count_include_pad=False, padding=1, divisor_override=5),
        ),
        (lambda: nn.AdaptiveAvgPool3d((2, 3, 1)), lambda: torch.nn.AdaptiveAvgPool3d((2, 3, 1))),
        (lambda: nn.AdaptiveMaxPool3d((2, 3, 1)), lambda: torch.nn.AdaptiveMaxPool3d((2, 3, 1))),
    ],
)
def test_pooling3d_layers_match_torch(rng, ours, theirs):
    ours, theirs = ours(), theirs()
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, 3, 6, 7, 5)), rng)


# ------------------------------------------------------------ unpooling and LP pooling
UNPOOL_GRID = [  # kernel, stride, padding
    (k, s, p) for k, s, p in itertools.product([2, 3], [None, 1, 2], [0, 1]) if p <= k // 2
]


@pytest.mark.parametrize(("kernel", "stride", "padding"), UNPOOL_GRID)
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_unpool_matches_torch(rng, spatial, kernel, stride, padding):
    shape = {1: (2, 3, 9), 2: (2, 2, 7, 6), 3: (1, 2, 5, 4, 6)}[spatial]
    pool = getattr(TF, f"max_pool{spatial}d")
    x = torch.tensor(rng.standard_normal(shape).astype(np.float32))
    values, indices = pool(x, kernel, stride, padding, return_indices=True)
    ours_unpool = getattr(F, f"max_unpool{spatial}d")
    theirs_unpool = getattr(TF, f"max_unpool{spatial}d")
    default = [(n - 1) * (stride or kernel) + kernel - 2 * padding for n in values.shape[2:]]
    # NOTE: the default size is too small for indices of maxima near the far edges.
    sizes = [shape[2:]] + ([None] if int(indices.max()) < np.prod(default) else [])
    for size in sizes:
        compare(
            lambda v, i, size=size: ours_unpool(v, i, kernel, stride, padding, size),
            lambda v, i, size=size: theirs_unpool(v, i, kernel, stride, padding, size),
            [values.numpy(), indices.numpy()],
            rng,
        )


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_unpool_layers_and_indices_from_our_pooling(rng, spatial):
    shape = {1: (2, 3, 8), 2: (2, 3, 6, 7), 3: (1, 2, 4, 5, 6)}[spatial]
    x = rng.standard_normal(shape).astype(np.float32)
    ours_pool = getattr(nn, f"MaxPool{spatial}d")(2, return_indices=True)
    theirs_pool = getattr(torch.nn, f"MaxPool{spatial}d")(2, return_indices=True)
    values, indices = ours_pool(ac.tensor(x))
    expected_values, expected_indices = theirs_pool(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    ours, theirs = (
        getattr(nn, f"MaxUnpool{spatial}d")(2),
        getattr(torch.nn, f"MaxUnpool{spatial}d")(2),
    )
    assert repr(ours) == repr(theirs)
    out = ours(values, indices, output_size=shape)
    expected = theirs(expected_values, expected_indices, output_size=shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


LP_GRID = [  # norm_type, kernel, stride, ceil_mode
    (p, k, s, c)
    for p, k, s, c in itertools.product(
        [1, 2, 3.5, -1.5, float("inf"), float("-inf")], [2, 3], [None, 2], [False, True]
    )
]


@pytest.mark.parametrize(("norm_type", "kernel", "stride", "ceil_mode"), LP_GRID)
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_lp_pool_matches_torch(rng, spatial, norm_type, kernel, stride, ceil_mode):
    shape = {1: (2, 3, 9), 2: (2, 2, 7, 6), 3: (1, 2, 5, 4, 7)}[spatial]
    # NOTE: positive inputs: x^p of a negative x is NaN for a non-integer p in both.
    x = rng.uniform(0.1, 2.0, shape) if norm_type in (3.5, -1.5) else rng.standard_normal(shape)
    compare(
        lambda t: getattr(F, f"lp_pool{spatial}d")(t, norm_type, kernel, stride, ceil_mode),
        lambda t: getattr(TF, f"lp_pool{spatial}d")(t, norm_type, kernel, stride, ceil_mode),
        [x],
        rng,
    )


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_lp_pool_layers_match_torch(rng, spatial):
    shape = {1: (2, 3, 9), 2: (2, 2, 7, 6), 3: (1, 2, 5, 4, 7)}[spatial]
    ours = getattr(nn, f"LPPool{spatial}d")(2, 3, 2, True)
    theirs = getattr(torch.nn, f"LPPool{spatial}d")(2, 3, 2, True)
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)
