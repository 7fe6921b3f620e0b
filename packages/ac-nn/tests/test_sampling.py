"""affine_grid and grid_sample: exact values, a NumPy reference, gradcheck, errors."""

import itertools

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F

gradcheck = ac.autograd.gradcheck
PADDING_MODES = ("zeros", "border", "reflection")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _t(array, req_grad: bool = False) -> ac.Tensor:
    return ac.tensor(array, dtype=ac.float64, req_grad=req_grad)


def _identity(n: int, dims: int) -> np.ndarray:
    return np.tile(np.eye(dims, dims + 1), (n, 1, 1))


def _grid_off_kinks(
    rng: np.random.Generator, n: int, out: tuple[int, ...], sizes: tuple[int, ...], align: bool
) -> np.ndarray:
    """Normalized points (N, *out, d) whose pixel coordinates lie 0.1 to 0.4 away from every
    integer and half-integer (where the weights, the clipping and the mirroring have kinks),
    some of them outside the input."""
    points = []
    for size in reversed(sizes):  # x walks the last axis
        whole = rng.integers(-2, size + 1, (n, *out))
        frac = rng.uniform(0.1, 0.4, (n, *out)) + 0.5 * rng.integers(0, 2, (n, *out))
        pixel = whole + frac
        points.append(pixel * 2 / (size - 1) - 1 if align else (2 * pixel + 1) / size - 1)
    return np.stack(points, axis=-1)


def _bilinear_reference(image: np.ndarray, grid: np.ndarray, align: bool) -> np.ndarray:
    """grid_sample(bilinear, zeros) of one (C, H, W) image, one point at a time."""
    channels, height, width = image.shape
    out = np.zeros((channels, *grid.shape[:2]))
    for i, j in itertools.product(range(grid.shape[0]), range(grid.shape[1])):
        gx, gy = grid[i, j]
        x = (gx + 1) / 2 * (width - 1) if align else ((gx + 1) * width - 1) / 2
        y = (gy + 1) / 2 * (height - 1) if align else ((gy + 1) * height - 1) / 2
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        for xi, yi in itertools.product((x0, x0 + 1), (y0, y0 + 1)):
            if 0 <= xi < width and 0 <= yi < height:
                out[:, i, j] += (1 - abs(x - xi)) * (1 - abs(y - yi)) * image[:, yi, xi]
    return out


def test_affine_grid_identity_and_values() -> None:
    grid = F.affine_grid(_t(_identity(1, 2)), (1, 3, 2, 3), align_corners=True).numpy()
    assert grid.shape == (1, 2, 3, 2)
    np.testing.assert_array_equal(grid[0, :, :, 0], [[-1, 0, 1], [-1, 0, 1]])
    np.testing.assert_array_equal(grid[0, :, :, 1], [[-1, -1, -1], [1, 1, 1]])
    grid = F.affine_grid(_t(_identity(1, 2)), (1, 3, 1, 2), align_corners=False).numpy()
    np.testing.assert_allclose(grid[0, 0], [[-0.5, 0.0], [0.5, 0.0]])
    # 3-D: theta maps (x, y, z, 1); a translation moves every point
    theta = _identity(2, 3)
    theta[:, :, 3] = [0.5, -0.25, 1.0]
    grid = F.affine_grid(_t(theta), (2, 1, 2, 3, 4), align_corners=True).numpy()
    assert grid.shape == (2, 2, 3, 4, 3)
    np.testing.assert_allclose(grid[1, 1, 2, 3], [1.5, 0.75, 2.0])


def test_affine_grid_gradcheck(rng: np.random.Generator) -> None:
    for size in [(2, 1, 3, 4), (2, 1, 2, 3, 2)]:
        dims = len(size) - 2
        theta = _t(rng.standard_normal((2, dims, dims + 1)), True)
        for align in (False, True):
            assert gradcheck(lambda t, s=size, a=align: F.affine_grid(t, s, a), [theta])


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_identity_grid_returns_input(
    mode: str, align: bool, rng: np.random.Generator
) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    grid = F.affine_grid(_t(_identity(2, 2)), x.shape, align_corners=align)
    out = F.grid_sample(_t(x), grid, mode=mode, align_corners=align)
    np.testing.assert_allclose(out.numpy(), x, atol=1e-12)


@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_bilinear_matches_numpy(align: bool, rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    grid = rng.uniform(-1.3, 1.3, (2, 3, 4, 2))
    out = F.grid_sample(_t(x), _t(grid), align_corners=align).numpy()
    for n in range(2):
        np.testing.assert_allclose(out[n], _bilinear_reference(x[n], grid[n], align), atol=1e-12)


def test_grid_sample_padding_and_nearest_values() -> None:
    x = _t(np.arange(4.0).reshape(1, 1, 1, 4))  # one row: 0 1 2 3
    # align_corners: pixel x = (g + 1) * 1.5; points at pixels -1, 0.5, 4 and 2.6
    xs = np.array([-5 / 3, -2 / 3, 5 / 3, 11 / 15])
    grid = _t(np.stack([xs, np.zeros(4)], axis=-1).reshape(1, 1, 4, 2))
    sample = lambda **kw: F.grid_sample(x, grid, align_corners=True, **kw).numpy().ravel()  # noqa: E731
    np.testing.assert_allclose(sample(), [0, 0.5, 0, 2.6], atol=1e-12)
    np.testing.assert_allclose(sample(padding_mode="border"), [0, 0.5, 3, 2.6], atol=1e-12)
    # reflection at the corner centres: -1 -> 1, 4 -> 2
    np.testing.assert_allclose(sample(padding_mode="reflection"), [1, 0.5, 2, 2.6], atol=1e-12)
    np.testing.assert_allclose(sample(mode="nearest"), [0, 0, 0, 3], atol=1e-12)  # 0.5 -> 0


@pytest.mark.parametrize(
    "mode,padding_mode", itertools.product(["bilinear", "nearest", "bicubic"], PADDING_MODES)
)
def test_grid_sample_gradcheck_2d(mode: str, padding_mode: str, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 2, 3, 4)), True)
    for align in (False, True):
        grid = _t(_grid_off_kinks(rng, 2, (2, 3), (3, 4), align), True)
        assert gradcheck(
            lambda u, g, a=align: F.grid_sample(u, g, mode, padding_mode, a), [x, grid]
        )


@pytest.mark.parametrize(
    "mode,padding_mode", itertools.product(["bilinear", "nearest"], PADDING_MODES)
)
def test_grid_sample_gradcheck_3d(mode: str, padding_mode: str, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((1, 2, 2, 3, 3)), True)
    for align in (False, True):
        grid = _t(_grid_off_kinks(rng, 1, (2, 2, 2), (2, 3, 3), align), True)
        assert gradcheck(
            lambda u, g, a=align: F.grid_sample(u, g, mode, padding_mode, a), [x, grid]
        )


def test_grid_sample_nearest_grid_gradient_is_zero(rng: np.random.Generator) -> None:
    x, grid = (
        _t(rng.standard_normal((1, 2, 3, 3)), True),
        _t(rng.uniform(-1, 1, (1, 2, 2, 2)), True),
    )
    F.grid_sample(x, grid, mode="nearest").sum().backward()
    np.testing.assert_array_equal(grid.grad, np.zeros((1, 2, 2, 2)))
    assert x.grad.sum() == 2 * 4  # each of the 4 points reads one pixel of each channel


def test_affine_grid_into_grid_sample_gradcheck(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((1, 2, 4, 4)), True)
    theta = _t(_identity(1, 2) + 0.1 * rng.standard_normal((1, 2, 3)), True)
    assert gradcheck(
        lambda u, t: F.grid_sample(u, F.affine_grid(t, (1, 2, 3, 3), False), align_corners=False),
        [x, theta],
    )


def test_errors_name_shapes() -> None:
    x, grid = ac.randn(2, 3, 4, 5), ac.randn(2, 3, 3, 2)
    with pytest.raises(ValueError, match=r"\(2, 3, 3\)"):
        F.grid_sample(ac.randn(2, 3, 3), grid)
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 3\)"):
        F.grid_sample(x, ac.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(1, 3, 3, 2\)"):
        F.grid_sample(x, ac.randn(1, 3, 3, 2))
    with pytest.raises(ValueError, match="bicubic"):
        F.grid_sample(ac.randn(1, 1, 2, 2, 2), ac.randn(1, 1, 1, 1, 3), mode="bicubic")
    with pytest.raises(ValueError, match="mode"):
        F.grid_sample(x, grid, mode="area")
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, grid, padding_mode="circular")
    with pytest.raises(TypeError, match="float64"):
        F.grid_sample(x, grid.double())
    with pytest.raises(ValueError, match=r"\(2, 2, 3\).*\(2, 3, 3\)"):
        F.affine_grid(ac.randn(2, 3, 3), (2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"\(2, 1, 4\)"):
        F.affine_grid(ac.randn(2, 2, 3), (2, 1, 4))
    with pytest.raises(TypeError, match="int64"):
        F.affine_grid(ac.zeros(1, 2, 3, dtype=ac.int64), (1, 1, 2, 2))
