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
    for s, p, d, g in itertools.product(
        [1, 2, (2, 1)], [0, 1, (2, 0), "same", "valid"], [1, 2], [1, 2]
    )
    if not (p == "same" and s != 1)
]


# the three column layouts: narrow (batch last), wider (batch first), large (per sample);
# the large one on the undilated half of the grid
CONV_CASES = [(size, *case) for size in [(8, 9), (8, 21)] for case in CONV_GRID] + [
    ((26, 24), *case) for case in CONV_GRID if case[2] == 1
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels
@pytest.mark.parametrize(("size", "stride", "padding", "dilation", "groups"), CONV_CASES)
def test_conv2d_matches_torch(rng, size, stride, padding, dilation, groups):
    arrays = [
        rng.standard_normal((3, 4, *size)),
        rng.standard_normal((6, 4 // groups, 3, 2)),
        rng.standard_normal(6),
    ]
    compare(
        lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
        lambda x, w, b: TF.conv2d(x, w, b, stride, padding, dilation, groups),
        arrays,
        rng,
    )


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "groups"),
    [g for g in CONV_GRID if not isinstance(g[0], tuple)],
)
def test_conv1d_matches_torch(rng, stride, padding, dilation, groups):
    padding = 2 if padding == (2, 0) else padding
    arrays = [
        rng.standard_normal((3, 4, 20)),
        rng.standard_normal((6, 4 // groups, 4)),
        rng.standard_normal(6),
    ]
    compare(
        lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups),
        lambda x, w, b: TF.conv1d(x, w, b, stride, padding, dilation, groups),
        arrays,
        rng,
    )


# one input and one output channel per group (depthwise, as in MobileNets and Conformers),
# and with a channel multiplier; narrow, wide (weight gradient along the rows) and large outputs
DEPTHWISE_CASES = [
    (size, s, p, d)
    for size in [(8, 9), (6, 70), (26, 24)]
    for s, p, d in itertools.product([1, 2, (2, 1)], [0, 1, "same"], [1, 2])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize(("size", "stride", "padding", "dilation"), DEPTHWISE_CASES)
def test_depthwise_conv2d_matches_torch(rng, size, stride, padding, dilation, multiplier):
    arrays = [
        rng.standard_normal((3, 4, *size)),
        rng.standard_normal((4 * multiplier, 1, 3, 3)),
        rng.standard_normal(4 * multiplier),
    ]
    compare(
        lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, 4),
        lambda x, w, b: TF.conv2d(x, w, b, stride, padding, dilation, 4),
        arrays,
        rng,
    )


@pytest.mark.parametrize("kernel", [3, 5, 7])
@pytest.mark.parametrize(
    ("length", "stride", "padding", "dilation"),
    [(80, 1, "same", 1), (80, 1, 1, 2), (80, 2, 3, 1), (9, 1, "same", 1), (9, 2, 2, 1)],
)
def test_depthwise_conv1d_matches_torch(rng, kernel, length, stride, padding, dilation):
    arrays = [
        rng.standard_normal((3, 4, length)),
        rng.standard_normal((4, 1, kernel)),
        rng.standard_normal(4),
    ]
    compare(
        lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, 4),
        lambda x, w, b: TF.conv1d(x, w, b, stride, padding, dilation, 4),
        arrays,
        rng,
    )


TRANSPOSE_GRID = [  # stride, padding, output_padding, dilation, groups
    (s, p, op, d, g)
    for s, p, op, d, g in itertools.product([1, 2, 3], [0, 1, 2], [0, 1], [1, 2], [1, 2])
    if op < s or op < d
]


TRANSPOSE_CASES = [(size, *case) for size in [(5, 6), (5, 17)] for case in TRANSPOSE_GRID] + [
    ((23, 23), *case) for case in TRANSPOSE_GRID if case[3] == 1 and case[2] == 0
]


@pytest.mark.parametrize(
    ("size", "stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE_CASES
)
def test_conv_transpose2d_matches_torch(
    rng, size, stride, padding, output_padding, dilation, groups
):
    # NOTE: the largest outputs (up to 2 x 71 x 71 per channel) are compared in float64: the
    # float32 bias gradient sums ~10^4 terms, and torch's own float32 sum then differs from
    # the exact one by more than the float32 tolerance.
    check = compare if size[0] < 10 else compare_float64
    arrays = [
        rng.standard_normal((2, 4, *size)),
        rng.standard_normal((4, 6 // groups, 3, 2)),
        rng.standard_normal(6),
    ]
    check(
        lambda x, w, b: F.conv_transpose2d(
            x, w, b, stride, padding, output_padding, groups, dilation
        ),
        lambda x, w, b: TF.conv_transpose2d(
            x, w, b, stride, padding, output_padding, groups, dilation
        ),
        arrays,
        rng,
    )


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE_GRID
)
def test_conv_transpose1d_matches_torch(rng, stride, padding, output_padding, dilation, groups):
    arrays = [
        rng.standard_normal((2, 4, 7)),
        rng.standard_normal((4, 6 // groups, 3)),
        rng.standard_normal(6),
    ]
    compare(
        lambda x, w, b: F.conv_transpose1d(
            x, w, b, stride, padding, output_padding, groups, dilation
        ),
        lambda x, w, b: TF.conv_transpose1d(
            x, w, b, stride, padding, output_padding, groups, dilation
        ),
        arrays,
        rng,
    )


@pytest.mark.parametrize("size", [(5, 6), (5, 17)])
@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation"),
    [(s, p, op, d) for s, p, op, d, g in TRANSPOSE_GRID if g == 1],
)
def test_depthwise_conv_transpose2d_matches_torch(
    rng, size, stride, padding, output_padding, dilation
):
    arrays = [
        rng.standard_normal((2, 4, *size)),
        rng.standard_normal((4, 1, 3, 2)),
        rng.standard_normal(4),
    ]
    compare(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding, 4, dilation),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, stride, padding, output_padding, 4, dilation),
        arrays,
        rng,
    )


def compare_float64(ours, theirs, arrays, rng):
    """``compare`` in float64, with float64 tolerances."""
    inputs = [ac.tensor(a, dtype=ac.float64, req_grad=True) for a in arrays]
    references = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, expected = ours(*inputs), theirs(*references)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for i, (a, b) in enumerate(zip(inputs, references, strict=True)):
        np.testing.assert_allclose(
            a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=f"input {i}"
        )


def test_conv_without_bias_and_unbatched_match_torch(rng):
    arrays = [rng.standard_normal((4, 7, 9)), rng.standard_normal((5, 4, 3, 3))]
    compare(
        lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), arrays, rng
    )
    arrays = [rng.standard_normal((4, 7, 9)), rng.standard_normal((4, 2, 3, 3))]
    compare(
        lambda x, w: F.conv_transpose2d(x, w, stride=2),
        lambda x, w: TF.conv_transpose2d(x, w, stride=2),
        arrays,
        rng,
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (
            lambda: nn.Conv2d(3, 8, 3, padding=1),
            lambda: torch.nn.Conv2d(3, 8, 3, padding=1),
            (2, 3, 6, 7),
        ),
        (
            lambda: nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
            lambda: torch.nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
            (2, 4, 9, 20),
        ),
        (
            lambda: nn.Conv1d(3, 4, 3, padding="same"),
            lambda: torch.nn.Conv1d(3, 4, 3, padding="same"),
            (2, 3, 11),
        ),
        (
            lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2),
            lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2),
            (2, 4, 5, 6),
        ),
        (
            lambda: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1),
            lambda: torch.nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1),
            (2, 4, 5),
        ),
    ],
)
def test_conv_layers_match_torch_after_loading_its_state(rng, ours, theirs, shape):
    ours, theirs = ours(), theirs()
    load_from(ours, theirs)
    assert repr(ours) == repr(theirs).replace("padding=same", "padding='same'")
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


def test_conv_layer_init_uses_torch_fan_in():
    # weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in as torch computes it
    for ours, theirs in [
        (nn.Conv2d(16, 32, 5), torch.nn.Conv2d(16, 32, 5)),
        (nn.ConvTranspose2d(16, 32, 3, groups=4), torch.nn.ConvTranspose2d(16, 32, 3, groups=4)),
        (nn.Conv1d(8, 12, 3, groups=2), torch.nn.Conv1d(8, 12, 3, groups=2)),
    ]:
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
        bound = 1 / np.sqrt(fan_in)
        weight, bias = ours.weight.numpy(), ours.bias.numpy()
        assert weight.shape == tuple(theirs.weight.shape) and bias.shape == tuple(theirs.bias.shape)
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        assert np.abs(weight).max() > 0.9 * bound
        assert abs(weight.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv_padding_modes_match_torch(mode, padding, rng):
    theirs = torch.nn.Conv2d(2, 3, (3, 2), padding=padding, padding_mode=mode, dilation=(1, 2))
    ours = nn.Conv2d(2, 3, (3, 2), padding=padding, padding_mode=mode, dilation=(1, 2))
    assert repr(ours) == repr(theirs).replace("padding=same", "padding='same'")
    load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, 2, 6, 7)), rng)
    theirs_1d = torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode)
    ours_1d = nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode)
    load_from(ours_1d, theirs_1d)
    compare_layers(ours_1d, theirs_1d, rng.standard_normal((2, 2, 5)), rng)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": (2, 3)},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)},
    ],
)
def test_unfold_and_fold_match_torch(kwargs, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    compare(lambda t: F.unfold(t, **kwargs), lambda t: TF.unfold(t, **kwargs), [x], rng)
    columns = TF.unfold(torch.tensor(x), **kwargs).numpy()
    compare(
        lambda t: F.fold(t, (7, 6), **kwargs),
        lambda t: TF.fold(t, (7, 6), **kwargs),
        [columns],
        rng,
    )
    assert repr(nn.Fold((7, 6), **kwargs)) == repr(torch.nn.Fold((7, 6), **kwargs))
    assert repr(nn.Unfold(**kwargs)) == repr(torch.nn.Unfold(**kwargs))


def _small_cnn(lib, norm: str):
    """conv, a norm layer, GELU, pooling, a grouped strided conv, average pooling, linear."""
    norms = {
        "batch": lambda: lib.BatchNorm2d(4),
        "layer": lambda: lib.LayerNorm([4, 6, 6]),
        "group": lambda: lib.GroupNorm(2, 4),
    }
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1),
        norms[norm](),
        lib.GELU(),
        lib.MaxPool2d(2, stride=1),
        lib.Conv2d(4, 4, 3, stride=2, padding=1, dilation=1, groups=2),
        lib.GELU(approximate="tanh"),
        lib.AvgPool2d(2, stride=1),
        lib.Flatten(),
        lib.Linear(16, 3),
    )


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("norm", ["batch", "layer", "group"])
def test_gradient_penalty_through_a_cnn_matches_torch(norm: str, training: bool, rng) -> None:
    reference = _small_cnn(torch.nn, norm).double().train(training)
    ours = _small_cnn(nn, norm).to(ac.float64).train(training)
    if norm == "batch" and not training:
        reference.train()(torch.tensor(rng.standard_normal((4, 2, 6, 6))))  # running statistics
        reference.eval()
    load_from(ours, reference)
    data = rng.standard_normal((3, 2, 6, 6))
    results = []
    for model, x, grad in (
        (ours, ac.tensor(data, dtype=ac.float64, req_grad=True), ac.autograd.grad),
        (reference, torch.tensor(data, requires_grad=True), torch.autograd.grad),
    ):
        (by_x,) = grad((model(x) ** 2).sum(), x, create_graph=True)
        (((by_x**2).sum(dim=(1, 2, 3)) + 1e-12).sqrt() - 1).square().mean().backward()
        results.append({name: p.grad for name, p in model.named_parameters()})
    compared = 0
    for name, theirs in results[1].items():
        mine = results[0][name]
        if mine is None:  # reaches the penalty only through masks: PyTorch gives zeros
            assert theirs is None or not theirs.abs().max() > 1e-12, name
            continue
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-7, atol=1e-10, err_msg=name)
        compared += 1
    assert compared >= 8


CONV3D_GRID = [
    (s, p, d, g)
    for s, p, d, g in itertools.product(
        [1, 2, (2, 1, 1)], [0, 1, (1, 0, 2), "same"], [1, (2, 1, 2)], [1, 2]
    )
    if not (p == "same" and s != 1)
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), CONV3D_GRID)
def test_conv3d_matches_torch(rng, stride, padding, dilation, groups):
    arrays = [
        rng.standard_normal((2, 4, 5, 6, 7)),
        # NOTE: scaled as an initialised weight, so float32 sums of 72 terms stay within OUT_TOL
        0.2 * rng.standard_normal((6, 4 // groups, 3, 2, 3)),
        rng.standard_normal(6),
    ]
    compare(
        lambda x, w, b: F.conv3d(x, w, b, stride, padding, dilation, groups),
        lambda x, w, b: TF.conv3d(x, w, b, stride, padding, dilation, groups),
        arrays,
        rng,
    )


TRANSPOSE3D_GRID = [
    (s, p, op, d, g)
    for s, p, op, d, g in itertools.product(
        [1, 2, (2, 1, 3)], [0, (1, 0, 1)], [0, 1], [1, (2, 1, 1)], [1, 2]
    )
    if all(
        o < si or o < di
        for o, si, di in zip(
            (op,) * 3,
            s if isinstance(s, tuple) else (s,) * 3,
            d if isinstance(d, tuple) else (d,) * 3,
            strict=True,
        )
    )
]


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE3D_GRID
)
def test_conv_transpose3d_matches_torch(rng, stride, padding, output_padding, dilation, groups):
    arrays = [
        rng.standard_normal((2, 4, 3, 4, 3)),
        0.2 * rng.standard_normal((4, 6 // groups, 2, 3, 2)),
        rng.standard_normal(6),
    ]
    compare(
        lambda x, w, b: F.conv_transpose3d(
            x, w, b, stride, padding, output_padding, groups, dilation
        ),
        lambda x, w, b: TF.conv_transpose3d(
            x, w, b, stride, padding, output_padding, groups, dilation
        ),
        arrays,
        rng,
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (
            lambda: nn.Conv3d(3, 4, 3, padding=1),
            lambda: torch.nn.Conv3d(3, 4, 3, padding=1),
            (2, 3, 4, 5, 6),
        ),
        (
            lambda: nn.Conv3d(4, 6, (2, 3, 1), stride=2, dilation=(1, 2, 1), groups=2, bias=False),
            lambda: torch.nn.Conv3d(
                4, 6, (2, 3, 1), stride=2, dilation=(1, 2, 1), groups=2, bias=False
            ),
            (2, 4, 5, 7, 4),
        ),
        (
            lambda: nn.Conv3d(2, 3, (3, 2, 3), padding="same", padding_mode="reflect"),
            lambda: torch.nn.Conv3d(2, 3, (3, 2, 3), padding="same", padding_mode="reflect"),
            (2, 2, 4, 5, 6),
        ),
        (
            lambda: nn.Conv3d(2, 3, 3, padding=(1, 2, 1), padding_mode="circular"),
            lambda: torch.nn.Conv3d(2, 3, 3, padding=(1, 2, 1), padding_mode="circular"),
            (1, 2, 4, 5, 3),
        ),
        (
            lambda: nn.Conv3d(2, 3, 2, padding=1, padding_mode="replicate"),
            lambda: torch.nn.Conv3d(2, 3, 2, padding=1, padding_mode="replicate"),
            (1, 2, 3, 4, 3),
        ),
        (
            lambda: nn.ConvTranspose3d(4, 6, 3, stride=2, output_padding=1, groups=2),
            lambda: torch.nn.ConvTranspose3d(4, 6, 3, stride=2, output_padding=1, groups=2),
            (2, 4, 3, 2, 3),
        ),
    ],
)
def test_conv3d_layers_match_torch_after_loading_its_state(rng, ours, theirs, shape):
    ours, theirs = ours(), theirs()
    load_from(ours, theirs)
    assert repr(ours) == repr(theirs).replace("padding=same", "padding='same'")
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


def test_conv3d_layer_init_uses_torch_fan_in():
    for ours, theirs in [
        (nn.Conv3d(8, 16, 3), torch.nn.Conv3d(8, 16, 3)),
        (nn.ConvTranspose3d(8, 16, 3, groups=4), torch.nn.ConvTranspose3d(8, 16, 3, groups=4)),
    ]:
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
        bound = 1 / np.sqrt(fan_in)
        weight, bias = ours.weight.numpy(), ours.bias.numpy()
        assert weight.shape == tuple(theirs.weight.shape) and bias.shape == tuple(theirs.bias.shape)
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        assert np.abs(weight).max() > 0.9 * bound
