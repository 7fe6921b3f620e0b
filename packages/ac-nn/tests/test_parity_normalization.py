"""Normalization functions and layers against PyTorch: outputs, all gradients, running stats."""

import numpy as np
import pytest
from parity_helpers import OUT_TOL, compare, compare_layers, load_from

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_function(shape, training: bool, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape) * 3 + 2
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3).astype(np.float32), rng.uniform(0.5, 2, 3).astype(np.float32)
    stats_ours = [ac.tensor(mean), ac.tensor(var)]
    stats_theirs = [torch.tensor(mean), torch.tensor(var)]

    def ours(x, w, b):
        return F.batch_norm(x, *stats_ours, w, b, training=training, momentum=0.3, eps=1e-3)

    def theirs(x, w, b):
        return TF.batch_norm(x, *stats_theirs, w, b, training=training, momentum=0.3, eps=1e-3)

    compare(ours, theirs, [x, w, b], rng)
    for a, t in zip(stats_ours, stats_theirs, strict=True):
        np.testing.assert_allclose(a.numpy(), t.numpy(), **OUT_TOL)


@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5)])
def test_layer_norm_function(normalized_shape, rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4, 5)) * 2 - 1
    w, b = rng.standard_normal(normalized_shape), rng.standard_normal(normalized_shape)
    compare(
        lambda x, w, b: F.layer_norm(x, normalized_shape, w, b, 1e-4),
        lambda x, w, b: TF.layer_norm(x, normalized_shape, w, b, 1e-4),
        [x, w, b],
        rng,
    )


def test_linear_over_layer_norm_matches_torch(rng: np.random.Generator) -> None:
    # the Linear keeps the LayerNorm's x̂ instead of its result: all five gradients
    x = rng.standard_normal((3, 4, 5)) * 2 - 1
    w, b = rng.standard_normal(5), rng.standard_normal(5)
    weight, bias = rng.standard_normal((6, 5)), rng.standard_normal(6)
    compare(
        lambda x, w, b, weight, bias: F.linear(F.layer_norm(x, (5,), w, b), weight, bias),
        lambda x, w, b, weight, bias: TF.linear(TF.layer_norm(x, (5,), w, b), weight, bias),
        [x, w, b, weight, bias],
        rng,
    )


@pytest.mark.parametrize(
    ("shape", "groups"),
    [
        ((2, 6, 3, 2), 3),
        ((4, 6), 2),
        ((2, 8, 5), 4),
        ((2, 4, 3, 2, 2), 2),
        ((2, 6, 3, 2), 6),
        ((2, 6, 3, 2), 1),
        ((2, 8, 260, 260), 4),  # in pieces, across threads
    ],
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_function(shape, groups, affine, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape) * 3 + 2
    params = [rng.standard_normal(shape[1]), rng.standard_normal(shape[1])] if affine else []
    compare(
        lambda x, *p: F.group_norm(x, groups, *p, eps=1e-4),
        lambda x, *p: TF.group_norm(x, groups, *p, eps=1e-4),
        [x, *params],
        rng,
    )


def test_float16_group_norm_follows_pytorch(rng: np.random.Generator) -> None:
    # NOTE: squares past 65504: PyTorch, too, takes the statistics in float32
    x = (rng.standard_normal((2, 6, 4)) * 300 + 50).astype(np.float16)
    w, b = rng.standard_normal(6).astype(np.float16), rng.standard_normal(6).astype(np.float16)
    ours = [ac.tensor(a, req_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out, expected = F.group_norm(ours[0], 3, *ours[1:]), TF.group_norm(theirs[0], 3, *theirs[1:])
    assert out.dtype == ac.float16
    tol = {"rtol": 5e-3, "atol": 5e-3}  # NOTE: PyTorch rounds some intermediates to float16
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
    cotangent = rng.standard_normal(x.shape).astype(np.float16)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for a, t in zip(ours, theirs, strict=True):
        assert a.grad.dtype == np.float16
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol)


@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_function(eps, rng: np.random.Generator) -> None:
    x, w = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 5))
    compare(
        lambda x, w: F.rms_norm(x, (4, 5), w, eps),
        lambda x, w: TF.rms_norm(x, (4, 5), w, eps),
        [x, w],
        rng,
    )


def _randomize(module) -> None:
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn_like(param))


LAYERS = {
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), lambda: torch.nn.BatchNorm1d(4), (6, 4, 3)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(4), lambda: torch.nn.BatchNorm2d(4), (3, 4, 2, 3)),
    "LayerNorm": (lambda: nn.LayerNorm((3, 5)), lambda: torch.nn.LayerNorm((3, 5)), (2, 3, 5)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4), (3, 4, 5)),
    "GroupNorm2d": (lambda: nn.GroupNorm(4, 8), lambda: torch.nn.GroupNorm(4, 8), (2, 8, 3, 4)),
    "RMSNorm": (lambda: nn.RMSNorm(5), lambda: torch.nn.RMSNorm(5), (2, 3, 5)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_match_pytorch(name: str, rng: np.random.Generator) -> None:
    make_ours, make_theirs, shape = LAYERS[name]
    ours, theirs = make_ours(), make_theirs()
    _randomize(theirs)
    load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal(shape) * 2 + 1, rng)
    compare_layers(ours.eval(), theirs.eval(), rng.standard_normal(shape), rng)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_follow_pytorch(momentum, rng: np.random.Generator) -> None:
    ours, theirs = nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum)
    _randomize(theirs)
    load_from(ours, theirs)
    for _ in range(4):
        x = (rng.standard_normal((4, 3, 2, 2)) * rng.uniform(0.5, 3) + 1).astype(np.float32)
        np.testing.assert_allclose(
            ours(ac.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), **OUT_TOL
        )
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), **OUT_TOL)
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(
        ours(ac.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), **OUT_TOL
    )


@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("InstanceNorm1d", (3, 4, 6)),
        ("InstanceNorm2d", (2, 4, 3, 5)),
        ("InstanceNorm3d", (2, 4, 3, 2, 3)),
    ],
)
def test_instance_norm_layers_match_torch(name, shape, affine, track, rng):
    ours = getattr(nn, name)(4, affine=affine, track_running_stats=track)
    theirs = getattr(torch.nn, name)(4, affine=affine, track_running_stats=track)
    assert repr(ours) == repr(theirs)
    if affine:
        load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)
    if track:
        np.testing.assert_allclose(
            ours.running_mean.numpy(), theirs.running_mean.numpy(), **OUT_TOL
        )
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), **OUT_TOL)
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(
            ours.eval()(ac.tensor(x)).numpy(),
            theirs.eval()(torch.tensor(x)).detach().numpy(),
            **OUT_TOL,
        )


def test_norm_layer_reprs_match_torch():
    for name, args, kwargs in [
        ("BatchNorm1d", (4,), {}),
        ("BatchNorm2d", (4,), {"affine": False}),
        ("BatchNorm2d", (4,), {"bias": False}),
        ("LayerNorm", (4,), {"bias": False}),
        ("GroupNorm", (2, 4), {}),
        ("RMSNorm", (4,), {}),
    ]:
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(
            getattr(torch.nn, name)(*args, **kwargs)
        )


@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 7, 3, 3), (1, 4, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 2, 5])
def test_local_response_norm_matches_pytorch(shape, size: int, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape) * 3
    compare(
        lambda u: F.local_response_norm(u, size, 0.2, 0.9, 0.5),
        lambda u: TF.local_response_norm(u, size, 0.2, 0.9, 0.5),
        [x],
        rng,
    )
    ours, theirs = nn.LocalResponseNorm(size), torch.nn.LocalResponseNorm(size)
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, x, rng)


def test_batch_norm3d_matches_torch(rng):
    ours, theirs = nn.BatchNorm3d(3), torch.nn.BatchNorm3d(3)
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, 3, 4, 5, 3)), rng)
    np.testing.assert_allclose(
        ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5, atol=1e-6
    )
    ours.eval(), theirs.eval()
    compare_layers(ours, theirs, rng.standard_normal((2, 3, 4, 5, 3)), rng)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize(
    ("name", "shape"), [("BatchNorm1d", (16, 3)), ("BatchNorm2d", (4, 3, 2, 3))]
)
def test_float16_batchnorm_follows_pytorch(name, shape, momentum, rng) -> None:
    # NOTE: PyTorch takes float16 statistics in float32; these batches' sums of squares
    # overflow float16 (65504), and the running variance reaches 1e4
    ours = getattr(nn, name)(3, momentum=momentum).half()
    theirs = getattr(torch.nn, name)(3, momentum=momentum).half()
    _randomize(theirs)
    load_from(ours, theirs)
    scale = np.array([0.5, 30.0, 150.0]).reshape((1, 3) + (1,) * (len(shape) - 2))
    # NOTE: PyTorch rounds some intermediates to float16: a few float16 ulps off
    tol = {"rtol": 5e-3, "atol": 5e-3}
    for train in (True, True, True, False):
        ours.train(train), theirs.train(train)
        x = (rng.standard_normal(shape) * scale + 2 * scale).astype(np.float16)
        x_ours, x_theirs = ac.tensor(x, req_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(x_ours), theirs(x_theirs)
        assert out.dtype == ac.float16
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
        cotangent = rng.standard_normal(shape).astype(np.float16)
        out.backward(cotangent)
        expected.backward(torch.tensor(cotangent))
        np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **tol)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), **tol)
    for key, value in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, key).grad, value.grad.numpy(), **tol)


def test_float16_instance_norm_running_stats_follow_pytorch(rng) -> None:
    ours = nn.InstanceNorm1d(3, track_running_stats=True).half()
    theirs = torch.nn.InstanceNorm1d(3, track_running_stats=True).half()
    for _ in range(3):
        x = rng.standard_normal((2, 3, 8)) * np.array([[[0.5], [30.0], [300.0]]]) + 100.0
        ours(ac.tensor(x.astype(np.float16)))
        theirs(torch.tensor(x.astype(np.float16)))
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-3)
