"""Similarity, distance, padding modes and nearest resizing: NumPy forward, gradcheck, errors."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

gradcheck = ac.autograd.gradcheck


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _t(array, req_grad: bool = False) -> ac.Tensor:
    return ac.tensor(array, dtype=ac.float64, req_grad=req_grad)


def test_normalize_cosine_similarity_and_pairwise_distance(rng: np.random.Generator) -> None:
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    norm_a, norm_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(F.normalize(_t(a)).numpy(), a / norm_a[:, None], rtol=1e-12)
    cosine = (a * b).sum(1) / (norm_a * norm_b)
    np.testing.assert_allclose(F.cosine_similarity(_t(a), _t(b)).numpy(), cosine, rtol=1e-12)
    distance = np.abs(a - b + 1e-6) ** 3
    np.testing.assert_allclose(
        F.pairwise_distance(_t(a), _t(b), p=3).numpy(), distance.sum(1) ** (1 / 3), rtol=1e-12
    )
    x, y = _t(a, True), _t(b, True)
    assert gradcheck(lambda u: F.normalize(u, dim=0), [x])
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v, dim=1), [x, y])
    assert gradcheck(lambda u, v: F.pairwise_distance(u, v, keepdim=True), [x, y])
    # zero vectors: no division by zero
    assert F.normalize(ac.zeros(2, 3)).tolist() == [[0.0] * 3] * 2
    assert F.cosine_similarity(ac.zeros(2, 3), ac.ones(2, 3)).tolist() == [0.0, 0.0]


def test_distance_modules(rng: np.random.Generator) -> None:
    a, b = _t(rng.standard_normal((2, 5))), _t(rng.standard_normal((2, 5)))
    assert nn.CosineSimilarity(dim=0)(a, b).shape == (5,)
    np.testing.assert_array_equal(
        nn.PairwiseDistance(p=1.0)(a, b).numpy(), F.pairwise_distance(a, b, 1.0).numpy()
    )
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"


NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD_MODES))
def test_pad_modes_match_numpy(mode: str, rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    result = F.pad(_t(x), (2, 1, 0, 3), mode=mode)
    expected = np.pad(x, ((0, 0), (0, 0), (0, 3), (2, 1)), mode=NUMPY_PAD_MODES[mode])
    np.testing.assert_array_equal(result.numpy(), expected)
    assert gradcheck(lambda u: F.pad(u, (3, 2), mode=mode), [_t(x[0, 0], True)])


def test_pad_constant_and_errors() -> None:
    x = ac.ones(2, 3)
    assert F.pad(x, (1, 0), value=5.0).tolist() == [[5.0, 1.0, 1.0, 1.0]] * 2
    assert F.pad(x, (0, 0, 1, 0)).shape == (3, 3)
    with pytest.raises(ValueError, match="pad mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match=r"reflect padding of \(3, 0\) along dim 1 needs widths"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="circular padding of"):
        F.pad(x, (0, 4), mode="circular")
    assert F.pad(x, (5, 0), mode="replicate").shape == (2, 8)  # any width
    with pytest.raises(ValueError, match="pairs of non-negative widths"):
        F.pad(x, (1, -1), mode="replicate")
    with pytest.raises(ValueError, match="constant padding only"):
        F.pad(x, (1, 1), mode="circular", value=1.0)


def test_interpolate_nearest(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    doubled = F.interpolate(_t(x), scale_factor=2)
    np.testing.assert_array_equal(doubled.numpy(), x.repeat(2, axis=2).repeat(2, axis=3))
    resized = F.interpolate(_t(x), size=(3, 7))
    rows, cols = np.floor(np.arange(3) * 4 / 3).astype(int), np.floor(np.arange(7) * 5 / 7)
    np.testing.assert_array_equal(resized.numpy(), x[:, :, rows][:, :, :, cols.astype(int)])
    assert F.interpolate(_t(x[:, :, 0]), size=8).shape == (2, 3, 8)
    assert gradcheck(lambda u: F.interpolate(u, size=(5, 3)), [_t(x[:1, :1], True)])
    upsample = nn.Upsample(scale_factor=2)
    np.testing.assert_array_equal(upsample(_t(x)).numpy(), doubled.numpy())
    assert repr(upsample) == "Upsample(scale_factor=2.0, mode='nearest')"  # as PyTorch


def test_interpolate_errors() -> None:
    x = ac.zeros(1, 1, 4, 4)
    with pytest.raises(NotImplementedError, match="supports modes 'nearest', 'linear'"):
        F.interpolate(x, size=2, mode="lanczos")
    with pytest.raises(ValueError, match="mode 'bicubic' needs 2 spatial axes"):
        F.interpolate(ac.zeros(1, 1, 4), size=2, mode="bicubic")
    with pytest.raises(ValueError, match="not to 'area'"):
        F.interpolate(x, size=2, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.interpolate(x, scale_factor=0.2, mode="area")
    with pytest.raises(ValueError, match="mode 'linear' needs 1 spatial axes"):
        F.interpolate(x, size=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners applies to the interpolating modes only"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(ValueError, match="size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="not both"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="needs 2 output sizes"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="3 to 5 axes"):
        F.interpolate(ac.zeros(4, 4), size=2)


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_bilinear(align_corners, rng: np.random.Generator) -> None:
    x = rng.standard_normal((1, 2, 3, 4))
    doubled = F.interpolate(_t(x), scale_factor=2, mode="bilinear", align_corners=align_corners)
    assert doubled.shape == (1, 2, 6, 8)
    if align_corners:  # the corners stay, and the middle is the mean of its neighbours
        np.testing.assert_allclose(doubled.numpy()[..., 0, 0], x[..., 0, 0])
        np.testing.assert_allclose(doubled.numpy()[..., -1, -1], x[..., -1, -1])
    else:  # an image of one value stays that value
        flat = F.interpolate(ac.full((1, 1, 3, 3), 2.5), size=(5, 4), mode="bilinear")
        np.testing.assert_allclose(flat.numpy(), 2.5)
    assert gradcheck(
        lambda u: F.interpolate(u, size=(5, 3), mode="bilinear", align_corners=align_corners),
        [_t(x, True)],
    )
    assert gradcheck(lambda u: F.interpolate(u, scale_factor=1.5, mode="linear"), [_t(x[0], True)])


def test_pixel_shuffle_round_trip_and_errors(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 8, 3, 5)), True)
    shuffled = F.pixel_shuffle(x, 2)
    assert shuffled.shape == (2, 2, 6, 10)
    # channel 1 of the first group lands right of channel 0 within each 2x2 block
    assert shuffled.numpy()[0, 0, 0, 1] == x.numpy()[0, 1, 0, 0]
    np.testing.assert_array_equal(F.pixel_unshuffle(shuffled, 2).numpy(), x.numpy())
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), [x])
    assert nn.PixelUnshuffle(2)(ac.ones(3, 4, 4)).shape == (12, 2, 2)
    with pytest.raises(ValueError, match="pixel_shuffle needs"):
        F.pixel_shuffle(ac.ones(1, 3, 2, 2), 2)


@pytest.mark.parametrize("shape", [(2, 6, 3), (1, 6, 2, 2), (2, 4, 1, 2, 1)])
def test_channel_shuffle_interleaves_groups(shape, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape)
    n, c = shape[:2]
    result = F.channel_shuffle(_t(x), 2)
    expected = x.reshape(n, 2, c // 2, *shape[2:]).swapaxes(1, 2).reshape(shape)
    np.testing.assert_array_equal(result.numpy(), expected)
    np.testing.assert_array_equal(nn.ChannelShuffle(2)(_t(x)).numpy(), expected)
    assert F.channel_shuffle(_t(x), 1).tolist() == x.tolist()
    assert gradcheck(lambda u: F.channel_shuffle(u, 2), [_t(x, True)])


def test_channel_shuffle_errors_and_repr() -> None:
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    with pytest.raises(ValueError, match="got 5 channels and 2 groups"):
        F.channel_shuffle(ac.zeros(1, 5, 2), 2)
    with pytest.raises(ValueError, match=r"at least 3 axes, got shape \(2, 4\)"):
        F.channel_shuffle(ac.zeros(2, 4), 2)
    with pytest.raises(ValueError, match="positive integer groups, got 0"):
        nn.ChannelShuffle(0)(ac.zeros(1, 4, 2))


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_bicubic(align_corners, rng: np.random.Generator) -> None:
    x = rng.standard_normal((1, 2, 3, 4))
    same = F.interpolate(_t(x), size=(3, 4), mode="bicubic", align_corners=align_corners)
    np.testing.assert_allclose(same.numpy(), x, atol=1e-12)  # the weights at offset 0 are 1, 0
    # cubic convolution reproduces a linear ramp away from the clamped borders
    ramp = np.arange(8.0)[None, None, None].repeat(2, axis=2)
    wider = F.interpolate(_t(ramp), size=(2, 15), mode="bicubic", align_corners=True).numpy()
    np.testing.assert_allclose(wider[0, 0, 0, 2:-2], np.arange(2, 13) * 7 / 14, atol=1e-12)
    for kwargs in ({"size": (5, 3)}, {"scale_factor": 1.5}):
        assert gradcheck(
            lambda u, kw=kwargs: F.interpolate(
                u, mode="bicubic", align_corners=align_corners, **kw
            ),
            [_t(x, True)],
        )


def test_interpolate_area_is_adaptive_average_pooling(rng: np.random.Generator) -> None:
    x = rng.standard_normal((1, 2, 6, 4))
    halved = F.interpolate(_t(x), scale_factor=0.5, mode="area").numpy()
    np.testing.assert_allclose(halved, x.reshape(1, 2, 3, 2, 2, 2).mean(axis=(3, 5)))
    for shape, size in (((1, 2, 7), 3), ((1, 2, 5, 4), (3, 3)), ((1, 1, 3, 4, 3), (2, 3, 2))):
        u = _t(rng.standard_normal(shape), True)
        assert gradcheck(lambda v, s=size: F.interpolate(v, size=s, mode="area"), [u])
    layer = nn.Upsample(size=(3, 2), mode="area")
    np.testing.assert_allclose(layer(_t(x)).numpy(), halved)


# ------------------------------------------------------------------------------ pdist
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, np.inf])
def test_pdist_values_and_gradcheck(p: float, rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, 3))
    rows, cols = np.triu_indices(5, 1)
    diff = x[rows] - x[cols]
    if p == 0:
        expected = (diff != 0).sum(1).astype(float)
    elif p == np.inf:
        expected = np.abs(diff).max(1)
    else:
        expected = (np.abs(diff) ** p).sum(1) ** (1 / p)
    np.testing.assert_allclose(F.pdist(_t(x), p).numpy(), expected, rtol=1e-12)
    if p >= 1:  # below 1 the norm's kinks at 0 are too sharp for finite differences
        assert gradcheck(lambda t: F.pdist(t, p), [_t(x, True)])


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, np.inf])
def test_pdist_gradient_of_repeated_rows_is_finite(p: float, rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 3))
    x[2] = x[0]
    t = _t(x, True)
    F.pdist(t, p).sum().backward()
    assert np.isfinite(t.grad).all()


def test_pdist_errors_and_small_inputs() -> None:
    assert F.pdist(_t(np.ones((1, 3)))).shape == (0,)
    with pytest.raises(ValueError, match="2-D"):
        F.pdist(_t(np.ones(3)))
    with pytest.raises(ValueError, match="non-negative"):
        F.pdist(_t(np.ones((2, 3))), -1.0)
    with pytest.raises(TypeError, match="floating-point"):
        F.pdist(ac.tensor([[1, 2], [3, 4]]))


# ------------------------------------------------------ deprecated upsample and its layers
def test_upsample_aliases_warn_and_interpolate(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((1, 2, 3, 4)))
    with pytest.warns(UserWarning, match="upsample` is deprecated"):
        out = F.upsample(x, scale_factor=2, mode="bilinear")
    np.testing.assert_array_equal(
        out.numpy(), F.interpolate(x, scale_factor=2, mode="bilinear").numpy()
    )
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        out = F.upsample_nearest(x, size=(5, 6))
    np.testing.assert_array_equal(out.numpy(), F.interpolate(x, (5, 6)).numpy())
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        out = F.upsample_bilinear(x, scale_factor=2)
    expected = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    # align_corners keeps the corner elements
    np.testing.assert_array_equal(
        out.numpy()[..., [0, -1], :][..., [0, -1]], x.numpy()[..., [0, -1], :][..., [0, -1]]
    )


def test_upsampling_layers(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((1, 2, 3, 4)))
    nearest, bilinear = nn.UpsamplingNearest2d(scale_factor=2), nn.UpsamplingBilinear2d((6, 5))
    np.testing.assert_array_equal(
        nearest(x).numpy(), F.interpolate(x, scale_factor=2.0, mode="nearest").numpy()
    )
    np.testing.assert_array_equal(
        bilinear(x).numpy(),
        F.interpolate(x, (6, 5), mode="bilinear", align_corners=True).numpy(),
    )
    assert isinstance(nearest, nn.Upsample) and bilinear.align_corners is True
