"""Pooling: gradients against finite differences, values, tie-breaking, errors and the layers."""

import itertools

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute.autograd import gradcheck


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _input(rng, *shape):
    return ac.tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=True)


# kernel, stride, padding, dilation, ceil_mode; padding is at most half the kernel
WINDOW_GRID = [
    (k, s, p, d, c)
    for k, s, p, d, c in itertools.product(
        [2, 3, (2, 3)], [None, 1, 2, (1, 2)], [0, 1], [1, 2], [False, True]
    )
    if p <= min(k if isinstance(k, tuple) else (k,)) // 2
]


# ------------------------------------------------------------------------------ max pool
def _max_pool2d_reference(x, kernel, stride, padding, dilation):
    """Direct maximum over each window (no ceil mode)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    oh = (x.shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.empty((*x.shape[:2], oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        window = xp[
            :, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw
        ]
        out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation"),
    [
        ((2, 2), (2, 2), (0, 0), (1, 1)),
        ((3, 2), (1, 2), (1, 0), (1, 1)),
        ((2, 3), (2, 1), (1, 1), (2, 1)),
    ],
)
def test_max_pool2d_matches_direct_maximum(rng, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, 3, 7, 8))
    out = F.max_pool2d(ac.tensor(x), kernel, stride, padding, dilation)
    np.testing.assert_array_equal(
        out.numpy(), _max_pool2d_reference(x, kernel, stride, padding, dilation)
    )


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), WINDOW_GRID)
def test_max_pool2d_gradcheck(rng, kernel, stride, padding, dilation, ceil_mode):
    x = _input(rng, 2, 2, 5, 6)
    assert gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode), [x])


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil_mode"),
    [
        (2, None, 0, 1, False),
        (3, 2, 1, 1, True),
        (2, 1, 1, 2, False),
        (3, 3, 0, 1, True),
    ],
)
def test_max_pool1d_gradcheck(rng, kernel, stride, padding, dilation, ceil_mode):
    x = _input(rng, 2, 3, 8)
    assert gradcheck(lambda t: F.max_pool1d(t, kernel, stride, padding, dilation, ceil_mode), [x])


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = ac.tensor([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [2.0, 0.0, 2.0]]]], req_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    # windows [[1,1],[1,1]] -> (0,0); [[1,0],[1,2]] -> (1,2); [[1,1],[2,0]] -> (2,0);
    # [[1,2],[0,2]] -> (1,2)
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0, 0], [0, 0, 2], [1, 0, 0]])
    _, indices = F.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(indices.numpy()[0, 0], [[0, 5], [6, 5]])
    assert indices.dtype == ac.int64 and not indices.req_grad


def test_max_pool_return_indices_with_padding_and_dilation(rng):
    x = rng.standard_normal((2, 3, 7, 8))
    out, indices = F.max_pool2d(
        ac.tensor(x), 3, stride=2, padding=1, dilation=(1, 2), return_indices=True
    )
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, indices.numpy().reshape(2, 3, -1), 2),
        out.numpy().reshape(2, 3, -1),
    )
    out1, indices1 = F.max_pool1d(ac.tensor(x[:, :, 0]), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(np.take_along_axis(x[:, :, 0], indices1.numpy(), 2), out1.numpy())


def test_max_pool_works_on_integers_and_keeps_nan():
    x = ac.tensor(np.arange(16, dtype=np.int64).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(
        F.max_pool2d(x, 2, padding=1).numpy()[0, 0], [[0, 2, 3], [8, 10, 11], [12, 14, 15]]
    )
    y = ac.tensor([[[[1.0, np.nan], [0.0, 2.0]]]])
    assert np.isnan(F.max_pool2d(y, 2).item())


NAN = float("nan")


def test_max_pool_gradient_and_index_go_to_the_last_nan():
    # PyTorch's rule: a window with a NaN has maximum NaN at the position of its last NaN
    x = ac.tensor([[[1.0, NAN, 2.0, 0.0]]], req_grad=True)
    out, indices = F.max_pool1d(x, 2, 1, return_indices=True)
    out.sum().backward()
    assert indices.tolist() == [[[1, 1, 2]]] and x.grad.tolist() == [[[0, 2, 1, 0]]]
    x = ac.tensor([[[NAN, 1.0, NAN, 5.0, NAN, 2.0, 3.0]]], req_grad=True)
    assert F.max_pool1d(x, 3, 1, return_indices=True)[1].tolist() == [[[2, 2, 4, 4, 4]]]
    out, indices = F.adaptive_max_pool1d(x, 2, return_indices=True)
    out.sum().backward()
    assert indices.tolist() == [[[2, 4]]] and x.grad.tolist() == [[[0, 0, 1, 0, 1, 0, 0]]]
    plane = ac.tensor([[[[NAN, 1.0], [NAN, 5.0]]]])
    assert F.max_pool2d(plane, 2, return_indices=True)[1].item() == 2
    assert F.adaptive_max_pool2d(plane, 1, return_indices=True)[1].item() == 2


@pytest.mark.parametrize(
    "pool",
    [
        lambda v: F.max_pool3d(v, 2, return_indices=True),
        lambda v: F.adaptive_max_pool3d(v, 1, return_indices=True),
    ],
    ids=["max_pool3d", "adaptive_max_pool3d"],
)
def test_max_pool3d_index_and_gradient_go_to_the_last_nan(pool):
    # the last NaN in (depth, row, column) order: PyTorch's index 4, not 3 (nor the 7)
    data = np.zeros((1, 1, 2, 2, 2))
    data[0, 0, 0, 1, 1] = data[0, 0, 1, 0, 0] = NAN
    data[0, 0, 1, 1, 1] = 7.0
    x = ac.tensor(data, req_grad=True)
    out, indices = pool(x)
    out.sum().backward()
    assert np.isnan(out.item()) and indices.item() == 4
    assert x.grad.reshape(-1).tolist() == [0, 0, 0, 0, 1, 0, 0, 0]


def test_max_pool_layer_and_aliases(rng):
    x = ac.tensor(rng.standard_normal((2, 3, 6, 7)), dtype=ac.float32)
    layer = nn.MaxPool2d(2)
    np.testing.assert_array_equal(layer(x).numpy(), F.max_pool2d(x, 2).numpy())
    assert (
        repr(layer) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    out, indices = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    assert out.shape == indices.shape == (2, 3, 4, 4)
    assert nn.MaxPool1d(3, stride=2)(ac.randn(2, 3, 10)).shape == (2, 3, 4)
    assert nn.MaxPooling2D is nn.MaxPool2d and nn.MaxPooling2D(window_size=3).kernel_size == 3
    assert F.maxpool2d is F.max_pool2d and F.maxpool1d is F.max_pool1d
    with pytest.raises(TypeError, match="missing required argument 'kernel_size'"):
        nn.MaxPool2d()


# ------------------------------------------------------------------------------ avg pool
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil_mode"), [g for g in WINDOW_GRID if g[3] == 1]
)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_gradcheck(rng, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = _input(rng, 2, 2, 5, 6)
    assert gradcheck(
        lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x]
    )


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "ceil_mode", "count_include_pad"),
    [
        (2, None, 0, False, True),
        (3, 2, 1, True, True),
        (3, 2, 1, True, False),
        (4, 1, 2, False, False),
    ],
)
def test_avg_pool1d_gradcheck(rng, kernel, stride, padding, ceil_mode, count_include_pad):
    x = _input(rng, 2, 3, 9)
    assert gradcheck(
        lambda t: F.avg_pool1d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x]
    )


def test_avg_pool_divisors():
    x = ac.ones(1, 1, 4, 5)
    # count_include_pad counts the zero padding: corners see 4 of 9 ones
    out = F.avg_pool2d(x, 3, stride=1, padding=1)
    assert out.numpy()[0, 0, 0, 0] == pytest.approx(4 / 9) and out.numpy()[0, 0, 1, 1] == 1
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).numpy(), 1)
    np.testing.assert_allclose(F.avg_pool2d(x, 2, divisor_override=1).numpy(), 4)
    # ceil mode: the last window hangs over the input and only its real elements count
    np.testing.assert_allclose(F.avg_pool2d(x, 2, ceil_mode=True).numpy()[0, 0], np.ones((2, 3)))
    x1 = ac.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    np.testing.assert_allclose(F.avg_pool1d(x1, 2, ceil_mode=True).numpy()[0, 0], [1.5, 3.5, 5.0])


def test_avg_pool_gradcheck_with_divisor_override(rng):
    x = _input(rng, 1, 2, 5, 5)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, True, True, 2), [x])


def test_avg_pool_layers(rng):
    x = ac.tensor(rng.standard_normal((2, 3, 6, 7)), dtype=ac.float32)
    layer = nn.AvgPool2d(3, stride=1, padding=1)
    assert layer(x).shape == (2, 3, 6, 7)
    np.testing.assert_array_equal(layer(x).numpy(), F.avg_pool2d(x, 3, 1, 1).numpy())
    assert repr(layer) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert nn.AvgPool1d(2)(ac.randn(2, 3, 10)).shape == (2, 3, 5)


# ------------------------------------------------------------------------- adaptive pool
def _adaptive_reference(x, out_h, out_w):
    """PyTorch's windows: [floor(i * H / OH), ceil((i + 1) * H / OH))."""
    h, w = x.shape[-2:]
    out = np.empty((*x.shape[:-2], out_h, out_w))
    for i, j in itertools.product(range(out_h), range(out_w)):
        rows = slice(i * h // out_h, -(-(i + 1) * h // out_h))
        cols = slice(j * w // out_w, -(-(j + 1) * w // out_w))
        out[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
    return out


@pytest.mark.parametrize("size", [1, 2, (3, 5), (7, 8), (4, 3), (10, 11), (None, 2)])
def test_adaptive_avg_pool2d_values_and_gradcheck(rng, size):
    x = _input(rng, 2, 2, 7, 8)
    out = F.adaptive_avg_pool2d(x, size)
    pair = size if isinstance(size, tuple) else (size, size)
    out_h, out_w = (7 if pair[0] is None else pair[0]), pair[1]
    np.testing.assert_allclose(
        out.numpy(), _adaptive_reference(x.numpy(), out_h, out_w), rtol=1e-12
    )
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])


def test_adaptive_avg_pool1d_and_layers(rng):
    x = _input(rng, 2, 3, 9)
    np.testing.assert_allclose(
        F.adaptive_avg_pool1d(x, 4).numpy(),
        _adaptive_reference(x.numpy()[:, :, None], 1, 4)[:, :, 0],
        rtol=1e-12,
    )
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 4), [x])
    assert nn.AdaptiveAvgPool2d((1, 1))(ac.randn(8, 3, 6, 7)).shape == (8, 3, 1, 1)
    assert nn.AdaptiveAvgPool1d(4)(ac.randn(3, 10)).shape == (3, 4)
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == "AdaptiveAvgPool2d(output_size=(2, None))"


@pytest.mark.parametrize("size", [1, (3, 2), (7, 8), (10, 4)])
def test_adaptive_max_pool2d_values_indices_and_gradcheck(rng, size):
    x = _input(rng, 2, 2, 7, 8)
    out, indices = F.adaptive_max_pool2d(x, size, return_indices=True)
    pair = size if isinstance(size, tuple) else (size, size)
    data = x.numpy()
    for i in range(pair[0]):
        rows = slice(i * 7 // pair[0], -(-(i + 1) * 7 // pair[0]))
        for j in range(pair[1]):
            cols = slice(j * 8 // pair[1], -(-(j + 1) * 8 // pair[1]))
            window = data[:, :, rows, cols]
            np.testing.assert_array_equal(out.numpy()[:, :, i, j], window.max(axis=(2, 3)))
            flat = data.reshape(2, 2, -1)
            picked = np.take_along_axis(flat, indices.numpy()[:, :, i, j][..., None], -1)
            np.testing.assert_array_equal(picked[..., 0], window.max(axis=(2, 3)))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, size), [x])


def test_adaptive_max_pool_gradient_goes_to_the_first_maximum_and_layers():
    x = ac.tensor([[[1.0, 3.0, 3.0, 2.0]]], req_grad=True)
    F.adaptive_max_pool1d(x, 1).sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0, 0.0, 0.0]]]
    assert nn.AdaptiveMaxPool2d(1)(ac.randn(2, 3, 5, 4)).shape == (2, 3, 1, 1)
    out, indices = nn.AdaptiveMaxPool1d(2, return_indices=True)(ac.randn(3, 6))
    assert out.shape == indices.shape == (3, 2) and indices.dtype == ac.int64
    with ac.no_grad():  # indices without a recorded graph
        assert F.adaptive_max_pool2d(ac.randn(1, 4, 4), 2, return_indices=True)[1].shape == (
            1,
            2,
            2,
        )


# -------------------------------------------------------------------------- shared parts
def test_rectangular_and_unbatched_shapes():
    x = ac.randn(3, 5, 7)
    assert F.max_pool2d(x, 2).shape == (3, 2, 3)
    assert F.max_pool2d(x, (2, 3), stride=1).shape == (3, 4, 5)
    assert F.avg_pool2d(x, (3, 2), stride=(2, 1)).shape == (3, 2, 6)
    assert F.adaptive_avg_pool2d(x, (2, 4)).shape == (3, 2, 4)
    assert F.max_pool1d(ac.randn(3, 9), 2).shape == (3, 4)
    assert F.max_pool2d(ac.randn(1, 1, 5, 7), 2, ceil_mode=True).shape == (1, 1, 3, 4)


def test_pooling_errors():
    x = ac.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match="between 0 and half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"input of shape \(1, 2, 5, 5\) is too small"):
        F.avg_pool2d(x, 6)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\)"):
        F.max_pool2d(ac.randn(5, 5), 2)
    with pytest.raises(TypeError, match="floating-point input"):
        F.avg_pool2d(ac.zeros(1, 1, 4, 4, dtype=ac.int32), 2)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(TypeError, match="tuple of 2"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 2 ints"):
        F.max_pool2d(x, 2.5)


def test_pooling_float32_and_no_graph():
    x = ac.randn(2, 3, 6, 6, req_grad=True)
    for out in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 3)):
        assert out.dtype == ac.float32 and out.req_grad
    with ac.no_grad():
        assert not F.max_pool2d(x, 2).req_grad


def test_empty_batch():
    x = ac.randn(0, 3, 6, 7, req_grad=True)
    for out in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, (2, 5))):
        assert out.shape[:2] == (0, 3)
        out.sum().backward()
        assert x.grad.shape == x.shape


# ----------------------------------------------------------------- second derivatives
SECOND_ORDER_POOLS = {
    "max2d": lambda x: F.max_pool2d(x, 2),
    "max2d_overlap_padding": lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
    "max2d_dilation_ceil": lambda x: F.max_pool2d(x, 2, stride=2, dilation=2, ceil_mode=True),
    "max1d": lambda x: F.max_pool1d(x.flatten(2), 3, stride=2),
    "avg2d": lambda x: F.avg_pool2d(x, 2),
    "avg2d_overlap_padding": lambda x: F.avg_pool2d(x, 3, stride=1, padding=1),
    "avg2d_no_pad_count_ceil": lambda x: F.avg_pool2d(
        x, 2, stride=2, padding=1, ceil_mode=True, count_include_pad=False
    ),
    "avg2d_divisor": lambda x: F.avg_pool2d(x, (2, 3), divisor_override=4),
    "avg1d": lambda x: F.avg_pool1d(x.flatten(2), 3, stride=2, padding=1),
    "adaptive_avg2d": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "adaptive_avg1d": lambda x: F.adaptive_avg_pool1d(x.flatten(2), 4),
    "adaptive_max2d": lambda x: F.adaptive_max_pool2d(x, (3, 2)),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER_POOLS))
def test_pooling_has_second_derivatives(name: str) -> None:
    x = ac.tensor(np.random.default_rng(3).standard_normal((2, 2, 5, 5)), req_grad=True)
    pool = SECOND_ORDER_POOLS[name]
    # NOTE: a pool is linear in x where its windows' maxima stay put: tanh makes the
    # gradient depend on x, so that second derivatives go through the pool's own.
    assert ac.autograd.gradgradcheck(lambda x: pool(x).tanh(), [x])
    assert ac.autograd.gradgradcheck(lambda x: pool(x * x), [x])


# ------------------------------------------------------------------------------ 3-D
WINDOW3D_GRID = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    ((2, 3, 2), 1, 1, 1, False),
    (2, (1, 2, 1), 1, (2, 1, 1), True),
    (3, 2, 1, 1, True),
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), WINDOW3D_GRID)
def test_max_pool3d_gradcheck(rng, kernel, stride, padding, dilation, ceil_mode):
    x = _input(rng, 1, 2, 4, 5, 4)
    assert gradcheck(lambda t: F.max_pool3d(t, kernel, stride, padding, dilation, ceil_mode), [x])


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), WINDOW3D_GRID)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool3d_gradcheck(rng, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = _input(rng, 1, 2, 4, 5, 4)
    assert gradcheck(
        lambda t: F.avg_pool3d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x]
    )
    assert gradcheck(lambda t: F.avg_pool3d(t, kernel, stride, divisor_override=3), [x])


@pytest.mark.parametrize("size", [1, (2, 3, 2), (3, None, 4)])
def test_adaptive_pool3d_gradcheck(rng, size):
    x = _input(rng, 1, 2, 5, 4, 4)
    assert gradcheck(lambda t: F.adaptive_avg_pool3d(t, size), [x])
    assert gradcheck(lambda t: F.adaptive_max_pool3d(t, size), [x])


def test_pool3d_values_and_indices_against_a_direct_loop(rng):
    x = rng.standard_normal((2, 3, 4, 5, 6))
    out, indices = F.max_pool3d(ac.tensor(x), 2, return_indices=True)
    mean = F.avg_pool3d(ac.tensor(x), 2).numpy()
    expected = np.zeros((2, 3, 2, 2, 3))
    for i, j, k in itertools.product(range(2), range(2), range(3)):
        window = x[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, 2 * k : 2 * k + 2]
        expected[:, :, i, j, k] = window.max(axis=(2, 3, 4))
        np.testing.assert_allclose(mean[:, :, i, j, k], window.mean(axis=(2, 3, 4)))
    np.testing.assert_array_equal(out.numpy(), expected)
    picked = np.take_along_axis(x.reshape(2, 3, -1), indices.numpy().reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(out.shape), expected)
    adaptive, where = F.adaptive_max_pool3d(ac.tensor(x), 1, return_indices=True)
    np.testing.assert_array_equal(adaptive.numpy()[..., 0, 0, 0], x.max(axis=(2, 3, 4)))
    np.testing.assert_array_equal(where.numpy()[..., 0, 0, 0], x.reshape(2, 3, -1).argmax(-1))
    np.testing.assert_allclose(
        F.adaptive_avg_pool3d(ac.tensor(x), 1).numpy()[..., 0, 0, 0], x.mean(axis=(2, 3, 4))
    )


def test_max_pool3d_gradient_goes_to_the_first_maximum_and_integers_work():
    x = ac.ones(1, 1, 2, 2, 2, req_grad=True)
    F.max_pool3d(x, 2).sum().backward()
    assert x.grad.reshape(-1).tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    ints = ac.tensor(np.arange(16).reshape(1, 1, 2, 2, 4))
    assert F.max_pool3d(ints, 2).numpy().reshape(-1).tolist() == [13, 15]


def test_pool3d_empty_batch():
    x = ac.randn(0, 2, 4, 4, 4, req_grad=True)
    for pool in (F.max_pool3d, F.avg_pool3d, F.adaptive_avg_pool3d, F.adaptive_max_pool3d):
        out = pool(x, 2)
        assert out.shape == (0, 2, 2, 2, 2)
        out.sum().backward()
        assert x.grad.shape == x.shape
    assert F.adaptive_max_pool2d(ac.randn(0, 2, 5, 5), 2).shape == (0, 2, 2, 2)


def test_pool3d_unbatched_and_layers(rng):
    x = ac.randn(3, 4, 6, 5)
    assert F.max_pool3d(x, 2).shape == (3, 2, 3, 2)
    assert F.avg_pool3d(x, 2, padding=1).shape == (3, 3, 4, 3)
    assert F.adaptive_avg_pool3d(x, (1, 2, 3)).shape == (3, 1, 2, 3)
    assert nn.MaxPool3d(2, return_indices=True)(x)[1].shape == (3, 2, 3, 2)
    assert repr(nn.MaxPool3d(2)) == (
        "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool3d(2, 1)) == "AvgPool3d(kernel_size=2, stride=1, padding=0)"
    assert repr(nn.AdaptiveAvgPool3d((1, 2, 3))) == "AdaptiveAvgPool3d(output_size=(1, 2, 3))"
    assert repr(nn.AdaptiveMaxPool3d(2)) == "AdaptiveMaxPool3d(output_size=2)"


def test_pool3d_errors():
    x = ac.randn(1, 2, 4, 5, 5)
    with pytest.raises(ValueError, match=r"max_pool3d: expected a 5-D input \(N, C, D, H, W\)"):
        F.max_pool3d(ac.randn(5, 5, 5), 2)
    with pytest.raises(ValueError, match="between 0 and half the kernel"):
        F.avg_pool3d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"input of shape \(1, 2, 4, 5, 5\) is too small"):
        F.max_pool3d(x, 5)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 3 ints"):
        F.max_pool3d(x, (2, 2))
    with pytest.raises(TypeError, match="avg_pool3d: expected a floating-point input"):
        F.avg_pool3d(ac.zeros(1, 1, 2, 2, 2, dtype=ac.int32), 2)
    with pytest.raises(TypeError, match="output_size must be an int or a tuple of 3"):
        F.adaptive_max_pool3d(x, (1, 2))
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.adaptive_avg_pool3d(x, (0, 1, 1))


@pytest.mark.parametrize(
    "pool",
    [
        lambda x: F.max_pool3d(x, 2, stride=1, padding=1),
        lambda x: F.avg_pool3d(x, 2, stride=1, padding=1, count_include_pad=False),
        lambda x: F.adaptive_avg_pool3d(x, (2, 1, 2)),
        lambda x: F.adaptive_max_pool3d(x, (2, 2, 1)),
    ],
    ids=["max", "avg", "adaptive_avg", "adaptive_max"],
)
def test_pool3d_has_second_derivatives(pool) -> None:
    x = ac.tensor(np.random.default_rng(3).standard_normal((1, 2, 3, 3, 3)), req_grad=True)
    assert ac.autograd.gradgradcheck(lambda x: pool(x).tanh(), [x])


# ------------------------------------------------------- with_indices, unpooling, LP pooling
@pytest.mark.parametrize(
    ("function", "with_indices", "shape"),
    [
        (F.max_pool1d, F.max_pool1d_with_indices, (2, 3, 9)),
        (F.max_pool2d, F.max_pool2d_with_indices, (2, 3, 6, 7)),
        (F.max_pool3d, F.max_pool3d_with_indices, (2, 3, 4, 5, 6)),
    ],
)
def test_max_pool_with_indices_always_returns_the_pair(rng, function, with_indices, shape):
    x = _input(rng, *shape)
    expected_out, expected_indices = function(x, 2, 1, 1, return_indices=True)
    out, indices = with_indices(x, 2, 1, 1)
    np.testing.assert_array_equal(out.numpy(), expected_out.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    assert indices.dtype == np.int64


def _unpool_reference(values, indices, size):
    n, c = values.shape[:2]
    out = np.zeros((n, c, int(np.prod(size))))
    for i, j in itertools.product(range(n), range(c)):
        out[i, j, indices[i, j].reshape(-1)] = values[i, j].reshape(-1)
    return out.reshape(n, c, *size)


@pytest.mark.parametrize(
    ("pool", "unpool", "shape"),
    [
        (F.max_pool1d, F.max_unpool1d, (2, 3, 9)),
        (F.max_pool2d, F.max_unpool2d, (2, 3, 6, 7)),
        (F.max_pool3d, F.max_unpool3d, (1, 2, 4, 5, 6)),
    ],
)
def test_max_unpool_puts_each_value_at_its_index(rng, pool, unpool, shape):
    x = _input(rng, *shape)
    pooled, indices = pool(x, 2, return_indices=True)
    out = unpool(pooled, indices, 2, output_size=shape[2:])
    expected = _unpool_reference(pooled.numpy(), indices.numpy(), shape[2:])
    np.testing.assert_array_equal(out.numpy(), expected)
    # every nonzero of the result is the input's value at that position
    kept = out.numpy() != 0
    np.testing.assert_array_equal(out.numpy()[kept], x.numpy()[kept])
    values = _input(rng, *pooled.shape)
    assert gradcheck(lambda t: unpool(t, indices, 2, output_size=shape[2:]), [values])


def test_max_unpool_default_size_unbatched_and_layers(rng):
    x = _input(rng, 3, 5, 5)
    pooled, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert F.max_unpool2d(pooled, indices, 3, 2, 1).shape == (3, 5, 5)
    assert F.max_unpool2d(pooled, indices, 3, 2, 1, output_size=(1, 3, 6, 6)).shape == (3, 6, 6)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    y = unpool(*pool(_input(rng, 2, 3, 4, 4)))
    assert y.shape == (2, 3, 4, 4)
    assert repr(unpool) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert nn.MaxUnpool1d(2)(*nn.MaxPool1d(2, return_indices=True)(_input(rng, 1, 2, 6))).shape == (
        1,
        2,
        6,
    )
    out3 = nn.MaxUnpool3d(2)(*nn.MaxPool3d(2, return_indices=True)(_input(rng, 1, 2, 4, 4, 4)))
    assert out3.shape == (1, 2, 4, 4, 4)


def test_max_unpool_errors(rng):
    x = _input(rng, 1, 2, 4, 4)
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool2d(pooled, indices, 2, output_size=(6, 4))
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool2d(pooled, indices, 2, output_size=(4,))
    with pytest.raises(ValueError, match="shape"):
        F.max_unpool2d(pooled, indices[:, :1], 2)
    with pytest.raises(TypeError, match="integers"):
        F.max_unpool2d(pooled, indices.double(), 2)
    with pytest.raises(RuntimeError, match="out of range"):
        F.max_unpool2d(pooled, indices + 100, 2)
    with pytest.raises(ValueError, match="4-D input"):
        F.max_unpool2d(pooled.reshape(-1), indices.reshape(-1), 2)


def _lp_pool2d_reference(x, p, kernel, stride):
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.empty((*x.shape[:2], oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        window = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
        out[:, :, i, j] = (window**p).sum(axis=(2, 3)) ** (1 / p)
    return out


@pytest.mark.parametrize(
    ("p", "kernel", "stride"), [(2, (2, 2), (2, 2)), (3, (3, 2), (1, 2)), (1.5, (2, 3), (2, 1))]
)
def test_lp_pool2d_values_and_gradcheck(rng, p, kernel, stride):
    x = ac.tensor(rng.uniform(0.2, 2.0, (2, 3, 6, 7)), dtype=ac.float64, req_grad=True)
    out = F.lp_pool2d(x, p, kernel, stride)
    np.testing.assert_allclose(
        out.numpy(), _lp_pool2d_reference(x.numpy(), p, kernel, stride), rtol=1e-12
    )
    assert gradcheck(lambda t: F.lp_pool2d(t, p, kernel, stride), [x])


def test_lp_pool1d_3d_ceil_mode_and_layers(rng):
    x = ac.tensor(rng.uniform(0.2, 2.0, (2, 3, 7)), dtype=ac.float64, req_grad=True)
    expected = np.sqrt((x.numpy()[..., :6] ** 2).reshape(2, 3, 3, 2).sum(-1))
    np.testing.assert_allclose(F.lp_pool1d(x, 2, 2).numpy(), expected, rtol=1e-12)
    # ceil mode: the last, clipped window's mean is scaled by the full kernel size
    last = np.sqrt(x.numpy()[..., 6:] ** 2 * 2)
    np.testing.assert_allclose(F.lp_pool1d(x, 2, 2, ceil_mode=True).numpy()[..., 3:], last)
    assert gradcheck(lambda t: F.lp_pool1d(t, 3, 3, 2, True), [x])
    v = ac.tensor(rng.uniform(0.2, 2.0, (1, 2, 4, 4, 5)), dtype=ac.float64, req_grad=True)
    assert F.lp_pool3d(v, 2, 2).shape == (1, 2, 2, 2, 2)
    assert gradcheck(lambda t: F.lp_pool3d(t, 2, (2, 2, 3), 1), [v])
    layer = nn.LPPool2d(2, 3, stride=2)
    assert repr(layer) == "LPPool2d(norm_type=2, kernel_size=3, stride=2, ceil_mode=False)"
    assert layer(_input(rng, 2, 3, 7, 7)).shape == (2, 3, 3, 3)
    assert nn.LPPool1d(2, 3)(x).shape == (2, 3, 2)
    assert nn.LPPool3d(1, 2)(v).shape == (1, 2, 2, 2, 2)
    with pytest.raises(TypeError, match="floating-point"):
        F.lp_pool2d(ac.ones(1, 1, 4, 4, dtype=ac.int64), 2, 2)


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_lp_pool_of_infinite_order_pools_abs(spatial):
    # PyTorch's rule: p = inf is max pooling of |x|, p = -inf min pooling of |x|
    x = ac.tensor([0.5, -2.0, 1.0, 3.0], req_grad=True)
    pool = getattr(F, f"lp_pool{spatial}d")
    plane = x.reshape((1, 1) + (1,) * (spatial - 1) + (4,))
    kernel = (1,) * (spatial - 1) + (2,)
    assert pool(plane, float("inf"), kernel).reshape(-1).tolist() == [2.0, 3.0]
    assert pool(plane, float("-inf"), kernel).reshape(-1).tolist() == [0.5, 1.0]
    pool(plane, float("inf"), kernel).sum().backward()
    assert x.grad.tolist() == [0.0, -1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="norm_type must not be 0"):
        pool(plane, 0, kernel)


def test_max_unpool_and_lp_pool_have_second_derivatives(rng):
    x = _input(rng, 1, 2, 4, 4)
    pooled, indices = F.max_pool2d(x.detach(), 2, return_indices=True)
    values = _input(rng, *pooled.shape)
    # NOTE: unpooling is linear: tanh makes its gradient depend on the values.
    assert ac.autograd.gradgradcheck(lambda t: F.max_unpool2d(t, indices, 2).tanh(), [values])
    positive = ac.tensor(rng.uniform(0.5, 2.0, (1, 2, 4, 4)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t: F.lp_pool2d(t, 3, 2), [positive])
