"""Similarity, distance, padding modes and resizing against PyTorch (float32)."""

import numpy as np
import pytest
from parity_helpers import compare, compare_layers

import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_similarity_and_distance(rng: np.random.Generator) -> None:
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((1, 6))
    compare(
        lambda u: F.normalize(u, p=3.0, dim=1), lambda u: TF.normalize(u, p=3.0, dim=1), [a], rng
    )
    compare(F.cosine_similarity, TF.cosine_similarity, [a, b], rng)
    compare(
        lambda u, v: F.pairwise_distance(u, v, keepdim=True),
        lambda u, v: TF.pairwise_distance(u, v, keepdim=True),
        [a, b],
        rng,
    )


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(mode: str, rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    compare(
        lambda u: F.pad(u, (2, 3, 1, 2), mode=mode),
        lambda u: TF.pad(u, (2, 3, 1, 2), mode=mode),
        [x],
        rng,
    )


@pytest.mark.parametrize(
    "kwargs", [{"scale_factor": 2}, {"scale_factor": 1.5}, {"size": (3, 7)}, {"size": 9}]
)
def test_interpolate_nearest(kwargs, rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    compare(lambda u: F.interpolate(u, **kwargs), lambda u: TF.interpolate(u, **kwargs), [x], rng)


@pytest.mark.parametrize(
    ("shape", "mode"),
    [((2, 3, 5), "linear"), ((2, 3, 4, 5), "bilinear"), ((1, 2, 3, 4, 3), "trilinear")],
)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("how", [{"scale_factor": 2}, {"scale_factor": 1.7}, {"shrink": 1}])
def test_interpolate_linear_modes(
    shape, mode, align_corners, how, rng: np.random.Generator
) -> None:
    kwargs = dict(how)
    if "shrink" in kwargs:
        kwargs = {"size": tuple(max(n - 1, 1) for n in shape[2:])}
    kwargs.update(mode=mode, align_corners=align_corners)
    x = rng.standard_normal(shape)
    compare(lambda u: F.interpolate(u, **kwargs), lambda u: TF.interpolate(u, **kwargs), [x], rng)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(
    "how", [{"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6}, {"size": (3, 8)}]
)
def test_interpolate_bicubic(align_corners, how, rng: np.random.Generator) -> None:
    kwargs = {**how, "mode": "bicubic", "align_corners": align_corners}
    x = rng.standard_normal((2, 3, 5, 6))
    compare(lambda u: F.interpolate(u, **kwargs), lambda u: TF.interpolate(u, **kwargs), [x], rng)


@pytest.mark.parametrize(
    ("shape", "how"),
    [
        ((2, 3, 7), {"size": 3}),
        ((2, 3, 6, 7), {"scale_factor": 0.5}),
        ((2, 3, 5, 7), {"size": (3, 9)}),
        ((2, 3, 4, 5, 6), {"size": (3, 2, 4)}),
    ],
)
def test_interpolate_area(shape, how, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape)
    compare(
        lambda u: F.interpolate(u, mode="area", **how),
        lambda u: TF.interpolate(u, mode="area", **how),
        [x],
        rng,
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            lambda: nn.Upsample(scale_factor=2, mode="bicubic", align_corners=False),
            lambda: torch.nn.Upsample(scale_factor=2, mode="bicubic", align_corners=False),
        ),
        (
            lambda: nn.Upsample(size=(3, 4), mode="area"),
            lambda: torch.nn.Upsample(size=(3, 4), mode="area"),
        ),
    ],
)
def test_upsample_new_modes_match_torch(ours, theirs, rng: np.random.Generator) -> None:
    ours, theirs = ours(), theirs()
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, 3, 5, 6)), rng)


def test_layer_reprs_match_pytorch() -> None:
    pairs = [
        (nn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0)),
        (nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (nn.Upsample(size=(3, 4)), torch.nn.Upsample(size=(3, 4))),
        (
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
            torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
        ),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_pixel_shuffle_and_unshuffle(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 8, 3, 5))
    compare(lambda t: F.pixel_shuffle(t, 2), lambda t: TF.pixel_shuffle(t, 2), [x], rng)
    y = rng.standard_normal((2, 3, 6, 9))
    compare(lambda t: F.pixel_unshuffle(t, 3), lambda t: TF.pixel_unshuffle(t, 3), [y], rng)
    assert repr(nn.PixelShuffle(2)) == repr(torch.nn.PixelShuffle(2))


@pytest.mark.parametrize(
    ("shape", "groups"), [((2, 6, 5), 3), ((1, 8, 2, 3), 2), ((2, 4, 2, 1, 3), 4)]
)
def test_channel_shuffle(shape, groups: int, rng: np.random.Generator) -> None:
    compare(
        lambda u: F.channel_shuffle(u, groups),
        lambda u: TF.channel_shuffle(u, groups),
        [rng.standard_normal(shape)],
        rng,
    )
    ours, theirs = nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups)
    assert repr(ours) == repr(theirs)
    compare_layers(ours, theirs, rng.standard_normal(shape), rng)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, np.inf])
def test_pdist(p: float, rng: np.random.Generator) -> None:
    x = rng.standard_normal((6, 4))
    x[4] = x[1]  # a zero distance: PyTorch's gradient there is 0
    x[5, :2] = x[0, :2]  # equal elements: also 0 for p < 1
    compare(lambda t: F.pdist(t, p), lambda t: TF.pdist(t, p), [x], rng)


@pytest.mark.parametrize(
    ("size", "scale_factor"), [(None, 2), ((5, 7), None), (None, (1.5, 2.5)), (4, None)]
)
def test_upsample_aliases_and_layers(size, scale_factor, rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 3, 4))
    for name in ("upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning, match="deprecated"):
            compare(
                lambda t, name=name: getattr(F, name)(t, size, scale_factor),
                lambda t, name=name: getattr(TF, name)(t, size, scale_factor),
                [x],
                rng,
            )
    with pytest.warns(UserWarning):
        compare(
            lambda t: F.upsample(t, size, scale_factor, "bicubic", True),
            lambda t: TF.upsample(t, size, scale_factor, "bicubic", True),
            [x],
            rng,
        )
    compare_layers(
        nn.UpsamplingNearest2d(size, scale_factor),
        torch.nn.UpsamplingNearest2d(size, scale_factor),
        x,
        rng,
    )
    compare_layers(
        nn.UpsamplingBilinear2d(size, scale_factor),
        torch.nn.UpsamplingBilinear2d(size, scale_factor),
        x,
        rng,
    )
