"""Convolutions: gradients against finite differences, shapes, errors and the layers."""

import importlib
import itertools
import math
import tracemalloc

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute.autograd import gradcheck
from auto_compyute.nn.functional import _windows

conv_module = importlib.import_module("auto_compyute.nn.functional.conv")


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _tensors(rng, *shapes):
    return [ac.tensor(rng.standard_normal(s), dtype=ac.float64, req_grad=True) for s in shapes]


def _conv2d_reference(x, w, b, stride, padding, dilation, groups):
    """Direct sum over output pixels (float64, slow, for small inputs only)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc, i, j in itertools.product(range(o), range(oh), range(ow)):
        g = oc // og
        patch = xp[
            :,
            g * cg : (g + 1) * cg,
            i * sh : i * sh + dh * (kh - 1) + 1 : dh,
            j * sw : j * sw + dw * (kw - 1) + 1 : dw,
        ]
        out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3)) + (0 if b is None else b[oc])
    return out


# ------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("stride", [1, 2, (2, 1)])
@pytest.mark.parametrize("padding", [0, 1, (0, 2)])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("groups", [1, 2])
# the three column layouts: narrow (batch last), wider (batch first), large (per sample)
@pytest.mark.parametrize("size", [(6, 7), (6, 19), (26, 24)])
def test_conv2d_matches_direct_sum(rng, stride, padding, dilation, groups, size):
    x = rng.standard_normal((3, 4, *size))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    b = rng.standard_normal(6)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    expected = _conv2d_reference(x, w, b, pair(stride), pair(padding), pair(dilation), groups)
    out = F.conv2d(ac.tensor(x), ac.tensor(w), ac.tensor(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_rectangular_shapes():
    assert F.conv2d(ac.randn(2, 3, 5, 7), ac.randn(4, 3, 3, 3)).shape == (2, 4, 3, 5)
    assert F.conv2d(ac.randn(2, 3, 5, 7), ac.randn(4, 3, 1, 3)).shape == (2, 4, 5, 5)
    assert F.conv2d(ac.randn(2, 3, 5, 7), ac.randn(4, 3, 3, 3), stride=(1, 2)).shape == (2, 4, 3, 3)
    assert F.conv1d(ac.randn(2, 3, 10), ac.randn(4, 3, 3), stride=2).shape == (2, 4, 4)


@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (4, 1)])
@pytest.mark.parametrize("dilation", [1, 2])
def test_same_and_valid_padding(kernel, dilation):
    x = ac.randn(1, 2, 5, 7)
    w = ac.randn(3, 2, *kernel)
    assert F.conv2d(x, w, padding="same", dilation=dilation).shape == (1, 3, 5, 7)
    np.testing.assert_array_equal(F.conv2d(x, w, padding="valid").numpy(), F.conv2d(x, w).numpy())
    assert F.conv1d(ac.randn(1, 2, 9), ac.randn(3, 2, kernel[1]), padding="same").shape == (1, 3, 9)


def test_unbatched_inputs():
    w = ac.randn(4, 3, 3, 3)
    x = ac.randn(3, 5, 7)
    np.testing.assert_allclose(F.conv2d(x, w).numpy(), F.conv2d(x.unsqueeze(0), w).numpy()[0])
    assert F.conv1d(ac.randn(3, 9), ac.randn(4, 3, 3)).shape == (4, 7)
    assert F.conv_transpose2d(ac.randn(3, 4, 5), ac.randn(3, 2, 3, 3)).shape == (2, 6, 7)


def test_conv_transpose_is_the_adjoint_of_conv(rng):
    # <conv(x, w), y> == <x, conv_transpose(y, w)> for every stride/padding/dilation/groups
    for stride, padding, dilation, groups in itertools.product([1, 2], [0, 1], [1, 2], [1, 2]):
        x = rng.standard_normal((2, 4, 7, 18))
        w = rng.standard_normal((6, 4 // groups, 3, 2))
        out = F.conv2d(ac.tensor(x), ac.tensor(w), None, stride, padding, dilation, groups)
        y = rng.standard_normal(out.shape)
        size = x.shape[2:]
        extra = tuple(
            n - ((m - 1) * stride - 2 * padding + dilation * (k - 1) + 1)
            for n, m, k in zip(size, out.shape[2:], w.shape[2:], strict=True)
        )
        back = F.conv_transpose2d(
            ac.tensor(y), ac.tensor(w), None, stride, padding, extra, groups, dilation
        )
        assert back.shape == x.shape
        np.testing.assert_allclose((out.numpy() * y).sum(), (x * back.numpy()).sum(), rtol=1e-10)


def test_dtype_is_kept_and_no_graph_without_grad():
    x, w = ac.randn(2, 3, 5, 7), ac.randn(4, 3, 3, 3, req_grad=True)
    assert F.conv2d(x, w).dtype == ac.float32
    with ac.no_grad():
        out = F.conv2d(x, w)
    assert not out.req_grad and out.grad_fn is None


def test_only_the_needed_gradients_are_computed():
    x, w = ac.randn(2, 3, 5, 7), ac.randn(4, 3, 3, 3, req_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == w.shape


# ---------------------------------------------------------------------------- gradients
CONV_GRID = [  # stride, padding, dilation, groups; 'same' needs stride 1
    (s, p, d, g)
    for s, p, d, g in itertools.product([1, 2], [0, 1, "same", (1, 0)], [1, 2], [1, 2])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), CONV_GRID)
def test_conv2d_gradcheck(rng, stride, padding, dilation, groups):
    x, w, b = _tensors(rng, (2, 4, 5, 6), (4, 4 // groups, 3, 2), (4,))
    assert gradcheck(lambda *t: F.conv2d(*t, stride, padding, dilation, groups), [x, w, b])


def test_conv2d_gradcheck_other_layouts(rng):
    # outputs wider than the batch-last threshold, and large ones (one product per sample)
    x, w = _tensors(rng, (2, 2, 3, 20), (3, 2, 2, 3))
    assert gradcheck(lambda a, b: F.conv2d(a, b, padding=(0, 1)), [x, w])
    x, w = _tensors(rng, (1, 2, 3, 40), (4, 1, 2, 3))
    assert gradcheck(lambda a, b: F.conv2d(a, b, stride=(1, 2), groups=2), [x, w])
    x, w, b = _tensors(rng, (2, 2, 23, 24), (4, 1, 2, 2), (4,))
    assert gradcheck(lambda *t: F.conv2d(*t, groups=2, padding=(1, 0)), [x, w, b])
    x, w, b = _tensors(rng, (2, 1, 520), (2, 1, 3), (2,))
    assert gradcheck(lambda *t: F.conv1d(*t, padding="same"), [x, w, b])


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), CONV_GRID)
def test_conv1d_gradcheck(rng, stride, padding, dilation, groups):
    padding = 2 if padding == (1, 0) else padding
    x, w, b = _tensors(rng, (2, 4, 9), (4, 4 // groups, 3), (4,))
    assert gradcheck(lambda *t: F.conv1d(*t, stride, padding, dilation, groups), [x, w, b])


TRANSPOSE_GRID = [
    (s, p, op, d, g)
    for s, p, op, d, g in itertools.product([1, 2, 3], [0, 1], [0, 1], [1, 2], [1, 2])
    if op < s or op < d
]


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE_GRID
)
def test_conv_transpose2d_gradcheck(rng, stride, padding, output_padding, dilation, groups):
    x, w, b = _tensors(rng, (2, 4, 3, 4), (4, 4 // groups, 2, 3), (4,))
    assert gradcheck(
        lambda *t: F.conv_transpose2d(*t, stride, padding, output_padding, groups, dilation),
        [x, w, b],
    )


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation", "groups"), TRANSPOSE_GRID
)
def test_conv_transpose1d_gradcheck(rng, stride, padding, output_padding, dilation, groups):
    x, w, b = _tensors(
        rng, (2, 4, 5), (4, 6 // groups if groups == 2 else 3, 3), (6 if groups == 2 else 3,)
    )
    assert gradcheck(
        lambda *t: F.conv_transpose1d(*t, stride, padding, output_padding, groups, dilation),
        [x, w, b],
    )


def test_conv_transpose2d_gradcheck_other_layouts(rng):
    x, w = _tensors(rng, (2, 2, 2, 17), (2, 3, 2, 2))
    assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=(0, 1)), [x, w])
    x, w, b = _tensors(rng, (2, 2, 23, 23), (2, 2, 2, 2), (4,))
    assert gradcheck(lambda *t: F.conv_transpose2d(*t, groups=2, padding=1), [x, w, b])


# one input and one output channel per group: the input gradient as a convolution per phase
# of the stride, the weight gradient along the output rows where they are long
DEPTHWISE_GRID = [  # stride, padding (wider than the kernel reaches: (3, 0)), dilation
    (s, p, d)
    for s, p, d in itertools.product([1, 2, (3, 1)], [0, 1, (3, 0), "same"], [1, (2, 1)])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize(("stride", "padding", "dilation"), DEPTHWISE_GRID)
def test_depthwise_conv2d_gradcheck(rng, stride, padding, dilation):
    x, w, b = _tensors(rng, (2, 3, 6, 7), (3, 1, 3, 2), (3,))
    assert gradcheck(lambda *t: F.conv2d(*t, stride, padding, dilation, 3), [x, w, b])


@pytest.mark.parametrize(("stride", "padding", "dilation"), DEPTHWISE_GRID)
def test_depthwise_weight_gradient_along_rows(rng, monkeypatch, stride, padding, dilation):
    calls: list[int] = []
    helper = conv_module._depthwise_weight_gradient
    monkeypatch.setattr(conv_module, "_depthwise_weight_gradient", _counted(helper, calls))
    monkeypatch.setattr(conv_module, "WEIGHT_BY_ROWS_FROM_WIDTH", 16)
    x, w, b = _tensors(rng, (1, 2, 4, 24), (2, 1, 2, 3), (2,))
    assert gradcheck(lambda *t: F.conv2d(*t, stride, padding, dilation, 2), [x, w, b])
    assert bool(calls) == (stride != 2)  # rows of unit stride only


@pytest.mark.parametrize("rows_from_width", [64, 16])  # from columns, or along the rows
@pytest.mark.parametrize(
    ("stride", "padding", "dilation"),
    [
        (s, p, d)
        for s, p, d in itertools.product([1, 2, 3], [0, 1, 4, "same"], [1, 2])
        if not (p == "same" and s != 1)
    ],
)
def test_depthwise_conv1d_gradcheck(rng, monkeypatch, stride, padding, dilation, rows_from_width):
    monkeypatch.setattr(conv_module, "WEIGHT_BY_ROWS_FROM_WIDTH", rows_from_width)
    x, w, b = _tensors(rng, (2, 3, 20), (3, 1, 3), (3,))
    assert gradcheck(lambda *t: F.conv1d(*t, stride, padding, dilation, 3), [x, w, b])


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation"),
    [(s, p, op, d) for s, p, op, d, g in TRANSPOSE_GRID if g == 1],
)
def test_depthwise_conv_transpose_gradcheck(rng, stride, padding, output_padding, dilation):
    # a 2-wide kernel with stride 3 leaves some outputs unreached
    x, w, b = _tensors(rng, (2, 3, 3, 4), (3, 1, 2, 3), (3,))
    assert gradcheck(
        lambda *t: F.conv_transpose2d(*t, stride, padding, output_padding, 3, dilation),
        [x, w, b],
    )
    x, w = _tensors(rng, (2, 3, 5), (3, 1, 2))
    assert gradcheck(
        lambda a, b: F.conv_transpose1d(a, b, None, stride, padding, output_padding, 3, dilation),
        [x, w],
    )


def test_depthwise_layouts_gradcheck(rng):
    # outputs wider than the batch-last threshold, large ones, and a single channel
    x, w, b = _tensors(rng, (2, 2, 4, 20), (2, 1, 3, 3), (2,))
    assert gradcheck(lambda *t: F.conv2d(*t, stride=(2, 1), padding=1, groups=2), [x, w, b])
    x, w = _tensors(rng, (2, 2, 23, 24), (2, 1, 2, 2))
    assert gradcheck(lambda *t: F.conv2d(*t, padding=(1, 0), groups=2), [x, w])
    x, w = _tensors(rng, (2, 1, 5, 6), (1, 1, 3, 3))
    assert gradcheck(lambda *t: F.conv2d(*t, stride=2, dilation=(1, 2)), [x, w])


@pytest.mark.parametrize("size", [(5, 7), (5, 20), (30, 30)])  # the three column layouts
def test_retained_graph_gives_the_same_gradients_twice(size):
    x = ac.randn(2, 3, *size, dtype=ac.float64, req_grad=True)
    w = ac.randn(4, 3, 3, 3, dtype=ac.float64, req_grad=True)
    y = (F.conv2d(x, w, padding=1) ** 2).sum()
    first = ac.autograd.grad(y, [x, w], retain_graph=True)
    second = ac.autograd.grad(y, [x, w])
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("size", [(5, 7), (5, 20), (30, 30)])
def test_backward_leaves_the_input_untouched(size):
    # a 1x1 kernel on one channel unfolds to a view of the input itself
    x = ac.randn(2, 1, *size, req_grad=True)
    before = x.numpy().copy()
    w = ac.randn(3, 1, 1, 1, req_grad=True)
    F.conv2d(x, w).sum().backward()
    np.testing.assert_array_equal(x.numpy(), before)
    np.testing.assert_allclose(x.grad, np.broadcast_to(w.numpy().sum(), x.shape), rtol=1e-6)


def test_second_backward_is_refused():
    x, w = ac.randn(1, 2, 4, 4, req_grad=True), ac.randn(3, 2, 3, 3, req_grad=True)
    y = F.conv2d(x, w).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


# ------------------------------------------------------------------------------- errors
def test_wrong_channel_count_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"weight of shape \(4, 3, 3, 3\).*input of shape \(2, 5, 7, 7\)"
    ):
        F.conv2d(ac.randn(2, 5, 7, 7), ac.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(6, 2, 3\).*groups=2.*4 channels.*\(2, 3, 9\)"):
        F.conv1d(ac.randn(2, 3, 9), ac.randn(6, 2, 3), groups=2)
    with pytest.raises(
        ValueError, match=r"weight of shape \(4, 2, 3, 3\).*input of shape \(1, 3, 5, 5\)"
    ):
        F.conv_transpose2d(ac.randn(1, 3, 5, 5), ac.randn(4, 2, 3, 3))


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"groups=2 must divide.*\(5, 2, 3, 3\)"):
        F.conv2d(ac.randn(1, 4, 5, 5), ac.randn(5, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"groups=2 must divide.*in_channels"):
        F.conv_transpose2d(ac.randn(1, 3, 5, 5), ac.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        F.conv2d(ac.randn(1, 4, 5, 5), ac.randn(4, 4, 3, 3), groups=0)
    with pytest.raises(ValueError, match="divisible by groups=3"):
        nn.Conv2d(4, 6, 3, groups=3)


def test_argument_errors():
    x, w = ac.randn(1, 2, 5, 5), ac.randn(3, 2, 3, 3)
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be 'same', 'valid'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="non-negative"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(TypeError, match="tuple of 2 ints"):
        F.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(ValueError, match=r"kernel \(5, 5\).*larger than the padded input \(3, 3\)"):
        F.conv2d(ac.randn(1, 2, 3, 3), ac.randn(3, 2, 3, 3), dilation=2)
    with pytest.raises(ValueError, match="4-D input"):
        F.conv2d(ac.randn(5, 5), w)
    with pytest.raises(ValueError, match="4-D weight"):
        F.conv2d(x, ac.randn(3, 2, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.conv2d(x, w, ac.randn(2))
    with pytest.raises(TypeError, match="input float64, weight float32"):
        F.conv2d(x.double(), w)
    with pytest.raises(TypeError, match="floating-point"):
        F.conv2d(ac.zeros(1, 2, 5, 5, dtype=ac.int64), ac.zeros(3, 2, 3, 3, dtype=ac.int64))


def test_transpose_argument_errors():
    x, w = ac.randn(1, 2, 5, 5), ac.randn(2, 3, 3, 3)
    with pytest.raises(ValueError, match="smaller than either stride"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="an int or a tuple"):
        F.conv_transpose2d(x, w, padding="same")
    with pytest.raises(ValueError, match="empty output"):
        F.conv_transpose2d(ac.randn(1, 2, 1, 1), w, padding=2)


# ------------------------------------------------------------------------------- layers
def test_conv_layers_parameters_and_init():
    conv = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2)  # kaiming_uniform_(a=sqrt(5)) on fan_in = in/groups * KH * KW
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert np.abs(conv.weight.numpy()).max() > 0.8 * bound
    up = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert up.weight.shape == (4, 3, 3, 3)
    assert np.abs(up.bias.numpy()).max() <= 1 / math.sqrt(3 * 9)
    assert nn.Conv1d(3, 5, 4, bias=False).bias is None
    assert nn.ConvTranspose1d(3, 5, 4).weight.shape == (3, 5, 4)
    assert nn.Conv2d(1, 2, 3, dtype=ac.float64).weight.dtype == ac.float64


def test_conv_layers_forward_use_the_functional_ops(rng):
    x = ac.tensor(rng.standard_normal((2, 4, 6, 7)), dtype=ac.float32)
    conv = nn.Conv2d(4, 6, 3, stride=(1, 2), padding=1, dilation=(2, 1), groups=2)
    expected = F.conv2d(x, conv.weight, conv.bias, (1, 2), 1, (2, 1), 2)
    np.testing.assert_array_equal(conv(x).numpy(), expected.numpy())
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1)
    np.testing.assert_array_equal(
        up(x).numpy(), F.conv_transpose2d(x, up.weight, up.bias, 2, 0, 1).numpy()
    )
    assert up(x).shape == (2, 2, 14, 16)
    assert up(x, output_size=(13, 15)).shape == (2, 2, 13, 15)
    with pytest.raises(ValueError, match=r"axis 0 must lie in \[13, 14\]"):
        up(x, output_size=(12, 15))
    x1 = ac.randn(2, 3, 10)
    assert nn.Conv1d(3, 5, 3, padding="same")(x1).shape == (2, 5, 10)
    assert nn.ConvTranspose1d(3, 5, 3, stride=2)(x1, output_size=[22]).shape == (2, 5, 22)


def test_conv_layer_training_step_reduces_loss(rng):
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = ac.tensor(rng.standard_normal((4, 2, 5, 5)), dtype=ac.float32)
    target = ac.tensor(rng.standard_normal((4, 3, 5, 5)), dtype=ac.float32)
    optimizer = ac.optim.SGD(conv.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        loss = ((conv(x) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_conv_layer_repr_and_aliases():
    assert repr(nn.Conv2d(1, 16, 5)) == "Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv1d(2, 4, 3, padding="same", dilation=2, bias=False)) == (
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding='same', dilation=(2,), bias=False)"
    )
    assert repr(nn.ConvTranspose2d(4, 2, 2, stride=2, output_padding=1, groups=2)) == (
        "ConvTranspose2d(4, 2, kernel_size=(2, 2), stride=(2, 2), output_padding=(1, 1), groups=2)"
    )
    assert nn.Conv1D is nn.Conv1d and nn.Conv2D is nn.Conv2d
    assert nn.ConvTranspose2D is nn.ConvTranspose2d
    conv = nn.Conv2D(in_dim=3, out_dim=4, kernel_size=3)
    assert conv.in_channels == 3 and conv.out_channels == 4


def test_conv_layer_bad_arguments():
    with pytest.raises(TypeError, match="missing required argument 'kernel_size'"):
        nn.Conv2d(3, 4)
    with pytest.raises(TypeError, match="missing required argument 'in_channels'"):
        nn.Conv2d(out_channels=4, kernel_size=3)
    with pytest.raises(TypeError, match="both in_channels=3 and in_dim=4"):
        nn.Conv2d(3, 4, 3, in_dim=4)
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros', 'reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros', got 'reflect'"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int or a tuple"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.Conv1d(3, 4, 0)
    with pytest.raises(TypeError, match="floating-point dtype"):
        nn.Conv2d(3, 4, 3, dtype=ac.int32)


# ------------------------------------------------------------------- columns in pieces
def _counted(helper, calls):
    def counting(*args, **kwargs):
        calls.append(1)
        return helper(*args, **kwargs)

    return counting


def _calls_in_pieces(monkeypatch, op, tensors, helpers):
    """Check ``op(*tensors)`` and its gradients come out the same with the columns whole and
    in pieces of 256 bytes; return how often each of conv's ``helpers`` ran in pieces."""

    def forward_backward():
        for t in tensors:
            t.grad = None
        out = op(*tensors)
        (out * out).sum().backward()
        return [out.numpy(), *(t.grad for t in tensors)]

    whole = forward_backward()
    calls: dict[str, list[int]] = {name: [] for name in helpers}
    for name in helpers:
        monkeypatch.setattr(conv_module, name, _counted(getattr(conv_module, name), calls[name]))
    monkeypatch.setattr(_windows, "COLUMNS_PIECE_BYTES", 256)
    pieces = forward_backward()
    for expected, actual in zip(whole, pieces, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
    return {name: len(c) for name, c in calls.items()}


@pytest.mark.parametrize("size", [(6, 7), (6, 19), (26, 24)])  # the three column layouts
@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "groups"), [(1, 0, 1, 1), (2, (1, 2), (2, 1), 2)]
)
def test_columns_in_pieces_give_the_same_results(
    rng, monkeypatch, size, stride, padding, dilation, groups
):
    tensors = _tensors(rng, (3, 4, *size), (6, 4 // groups, 3, 2), (6,))

    def conv(x, w, b):
        return F.conv2d(x, w, b, stride, padding, dilation, groups)

    calls = _calls_in_pieces(monkeypatch, conv, tensors, ["im2col"])
    assert calls["im2col"] >= 4  # at least two pieces in forward and in backward


@pytest.mark.parametrize("size", [(6, 7), (6, 19), (26, 24)])  # the three column layouts
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), [(1, 0, 1, 1), (2, 1, 2, 2)])
def test_transposed_columns_in_pieces_give_the_same_results(
    rng, monkeypatch, size, stride, padding, dilation, groups
):
    tensors = _tensors(rng, (3, 4, *size), (4, 6 // groups, 3, 2), (6,))

    def conv(x, w, b):
        return F.conv_transpose2d(x, w, b, stride, padding, 0, groups, dilation)

    calls = _calls_in_pieces(monkeypatch, conv, tensors, ["input_columns", "im2col"])
    # pieces in forward (columns folded) and in backward (the gradient unfolded)
    assert calls["input_columns"] >= 2 and calls["im2col"] >= 2


@pytest.mark.parametrize("size", [(4, 5), (4, 17), (23, 23)])  # the three column layouts
def test_columns_in_pieces_gradcheck(rng, monkeypatch, size):
    monkeypatch.setattr(_windows, "COLUMNS_PIECE_BYTES", 256)
    x, w, b = _tensors(rng, (3, 2, *size), (2, 1, 2, 2), (2,))
    assert gradcheck(lambda *t: F.conv2d(*t, padding=1, groups=2), [x, w, b])
    assert gradcheck(lambda *t: F.conv_transpose2d(*t, stride=2, padding=1, groups=2), [x, w, b])


# the three column layouts, with 2.3 to 5.3 MiB of columns if unfolded at once
@pytest.mark.parametrize(("batch", "size"), [(64, 10), (32, 18), (16, 26)])
def test_columns_take_bounded_memory(monkeypatch, batch, size):
    budget = 1 << 20
    monkeypatch.setattr(_windows, "COLUMNS_PIECE_BYTES", budget)
    x = ac.randn(batch, 16, size, size, req_grad=True)
    w = ac.randn(16, 16, 3, 3, req_grad=True)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        out = F.conv2d(x, w)
        forward_peak = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        out.backward(ac.ones_like(out))
        backward_peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    # besides a piece of columns: the output, in column order and as an image, and the
    # input as the columns are read from it (padded, or transposed), kept for backward
    assert forward_peak <= 2 * out.data.nbytes + x.data.nbytes + budget
    # the output's gradient and its copy in column order; the input's gradient, in column
    # order and as an image
    assert backward_peak <= 2 * out.data.nbytes + 2 * x.data.nbytes + budget


@pytest.mark.parametrize("size", [(5, 7), (5, 20), (30, 30)])
def test_empty_batch(size):
    x, w = ac.randn(0, 3, *size, req_grad=True), ac.randn(4, 3, 3, 3, req_grad=True)
    b = ac.randn(4, req_grad=True)
    out = F.conv2d(x, w, b)
    assert out.shape == (0, 4, size[0] - 2, size[1] - 2)
    out.sum().backward()
    assert x.grad.shape == x.shape and np.all(w.grad == 0) and np.all(b.grad == 0)
    assert F.conv_transpose2d(x, ac.randn(3, 2, 3, 3)).shape == (0, 2, size[0] + 2, size[1] + 2)


def test_unfold_and_fold(rng):
    x = ac.Tensor(rng.standard_normal((2, 3, 5, 6)), req_grad=True)
    columns = F.unfold(x, (2, 3), stride=(1, 2), padding=1)
    assert columns.shape == (2, 3 * 6, 6 * 3)
    # column 0 is the top-left window of the zero-padded image
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_allclose(columns.numpy()[:, :, 0], padded[:, :, :2, :3].reshape(2, -1))
    assert gradcheck(lambda t: F.unfold(t, 2, dilation=2), [x])
    ones = F.fold(F.unfold(ac.ones(1, 1, 4, 4), 2), (4, 4), 2)
    assert ones.numpy()[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    assert gradcheck(lambda t: F.fold(t, (5, 6), (2, 3), stride=(1, 2), padding=1), [columns])
    assert nn.Unfold(2)(ac.ones(3, 4, 4)).shape == (12, 9)  # unbatched
    assert nn.Fold((4, 4), 2)(ac.ones(4, 9)).shape == (1, 4, 4)
    with pytest.raises(ValueError, match=r"fold needs an input \(N, C \* 4, 9\)"):
        F.fold(ac.ones(1, 4, 8), (4, 4), 2)


# ----------------------------------------------------------------- second derivatives
SECOND_ORDER_SETTINGS = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"dilation": 2},
    {"groups": 2},
    {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
]


def _second_order_inputs(rng, x_shape, w_shape, bias: bool):
    tensors = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if bias:
        tensors.append(rng.standard_normal(w_shape[0]))
    return [ac.tensor(t, dtype=ac.float64, req_grad=True) for t in tensors]


@pytest.mark.parametrize("settings", SECOND_ORDER_SETTINGS, ids=str)
@pytest.mark.parametrize("spatial", [1, 2])
def test_conv_has_second_derivatives(settings, spatial: int, rng) -> None:
    size = (5,) * spatial
    kernel = (2,) * spatial
    inputs = _second_order_inputs(
        rng, (2, 4, *size), (2, 4 // settings.get("groups", 1), *kernel), True
    )
    conv = F.conv1d if spatial == 1 else F.conv2d
    assert ac.autograd.gradgradcheck(lambda x, w, b: conv(x, w, b, **settings), inputs)


def test_conv_with_same_padding_has_second_derivatives(rng) -> None:
    inputs = _second_order_inputs(rng, (1, 2, 4, 3), (2, 2, 2, 2), False)
    assert ac.autograd.gradgradcheck(lambda x, w: F.conv2d(x, w, padding="same"), inputs)


@pytest.mark.parametrize("settings", SECOND_ORDER_SETTINGS[:4], ids=str)
@pytest.mark.parametrize("spatial", [1, 2])
@pytest.mark.parametrize("batch", [1, 2])  # one sample: the weight's gradient is depthwise too
def test_depthwise_conv_has_second_derivatives(settings, spatial: int, batch: int, rng) -> None:
    size, kernel = (5,) * spatial, (3,) * spatial
    inputs = _second_order_inputs(rng, (batch, 3, *size), (3, 1, *kernel), True)
    conv = F.conv1d if spatial == 1 else F.conv2d
    assert ac.autograd.gradgradcheck(lambda x, w, b: conv(x, w, b, **settings, groups=3), inputs)
    inputs = _second_order_inputs(rng, (batch, 3, *size), (3, 1, *kernel), False)
    transposed = F.conv_transpose1d if spatial == 1 else F.conv_transpose2d
    assert ac.autograd.gradgradcheck(lambda x, w: transposed(x, w, **settings, groups=3), inputs)


@pytest.mark.parametrize(
    "settings", [*SECOND_ORDER_SETTINGS, {"stride": 2, "output_padding": 1}], ids=str
)
@pytest.mark.parametrize("spatial", [1, 2])
def test_conv_transpose_has_second_derivatives(settings, spatial: int, rng) -> None:
    size = (3,) * spatial
    kernel = (2,) * spatial
    groups = settings.get("groups", 1)
    inputs = _second_order_inputs(rng, (2, 4, *size), (4, 4 // groups, *kernel), False)
    inputs.append(ac.tensor(rng.standard_normal(4), dtype=ac.float64, req_grad=True))
    conv = F.conv_transpose1d if spatial == 1 else F.conv_transpose2d
    assert ac.autograd.gradgradcheck(lambda x, w, b: conv(x, w, b, **settings), inputs)


# ------------------------------------------------------------------------------ 3-D
CONV3D_GRID = [
    (s, p, d, g)
    for s, p, d, g in itertools.product(
        [1, (2, 1, 2)], [0, (1, 0, 1), "same"], [1, (2, 1, 1)], [1, 2]
    )
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), CONV3D_GRID)
def test_conv3d_gradcheck(rng, stride, padding, dilation, groups):
    x, w, b = _tensors(rng, (1, 2, 5, 3, 4), (2, 2 // groups, 2, 2, 1), (2,))
    assert gradcheck(lambda *t: F.conv3d(*t, stride, padding, dilation, groups), [x, w, b])


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation", "groups"),
    [
        (1, 0, 0, 1, 1),
        (2, 1, 1, 1, 2),
        ((2, 1, 1), (0, 1, 0), (1, 0, 0), (1, 2, 1), 1),
        (1, 1, 1, 2, 2),
    ],
)
def test_conv_transpose3d_gradcheck(rng, stride, padding, output_padding, dilation, groups):
    x, w, b = _tensors(rng, (1, 2, 3, 2, 3), (2, 4 // groups, 2, 2, 2), (4,))
    assert gradcheck(
        lambda *t: F.conv_transpose3d(*t, stride, padding, output_padding, groups, dilation),
        [x, w, b],
    )


def test_conv3d_matches_a_sum_of_conv2d_over_depth(rng):
    x, w = rng.standard_normal((2, 3, 4, 5, 6)), rng.standard_normal((4, 3, 2, 3, 3))
    out = F.conv3d(ac.tensor(x), ac.tensor(w), padding=(0, 1, 1)).numpy()
    expected = sum(
        F.conv2d(
            ac.tensor(x[:, :, k : k + 3]).permute(0, 2, 1, 3, 4).reshape(6, 3, 5, 6),
            ac.tensor(w[:, :, k]),
            padding=1,
        )
        .numpy()
        .reshape(2, 3, 4, 5, 6)
        for k in range(2)
    ).transpose(0, 2, 1, 3, 4)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert F.conv3d(ac.tensor(x[0]), ac.tensor(w)).shape == (4, 3, 3, 4)


def test_conv_transpose3d_is_the_adjoint_of_conv3d(rng):
    x, w = rng.standard_normal((2, 4, 5, 4, 5)), rng.standard_normal((6, 2, 3, 2, 2))
    g = rng.standard_normal(F.conv3d(ac.tensor(x), ac.tensor(w), None, 2, 1, 1, 2).shape)
    lhs = (F.conv3d(ac.tensor(x), ac.tensor(w), None, 2, 1, 1, 2).numpy() * g).sum()
    back = F.conv_transpose3d(ac.tensor(g), ac.tensor(w), None, 2, 1, (0, 0, 1), 2)
    assert back.shape == x.shape
    np.testing.assert_allclose(lhs, (back.numpy() * x).sum(), rtol=1e-10)


@pytest.mark.parametrize("settings", [{}, {"stride": 2, "padding": 1, "groups": 2}], ids=str)
def test_conv3d_has_second_derivatives(settings, rng) -> None:
    inputs = _second_order_inputs(
        rng, (1, 2, 3, 3, 3), (2, 2 // settings.get("groups", 1), 2, 2, 2), True
    )
    assert ac.autograd.gradgradcheck(lambda x, w, b: F.conv3d(x, w, b, **settings), inputs)


@pytest.mark.parametrize("settings", [{}, {"stride": 2, "output_padding": 1, "groups": 2}], ids=str)
def test_conv_transpose3d_has_second_derivatives(settings, rng) -> None:
    groups = settings.get("groups", 1)
    inputs = _second_order_inputs(rng, (1, 2, 2, 2, 2), (2, 2 // groups, 2, 2, 2), False)
    inputs.append(ac.tensor(rng.standard_normal(2), dtype=ac.float64, req_grad=True))
    assert ac.autograd.gradgradcheck(
        lambda x, w, b: F.conv_transpose3d(x, w, b, **settings), inputs
    )


def test_conv3d_empty_batch_unbatched_transpose_and_dtype():
    x, w = ac.randn(0, 2, 3, 4, 4, req_grad=True), ac.randn(3, 2, 2, 2, 2, req_grad=True)
    out = F.conv3d(x, w)
    assert out.shape == (0, 3, 2, 3, 3)
    out.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape
    assert F.conv_transpose3d(ac.randn(3, 2, 2, 2), ac.randn(3, 2, 2, 2, 2)).shape == (2, 3, 3, 3)
    x64 = ac.randn(1, 2, 3, 3, 3, dtype=ac.float64)
    assert F.conv3d(x64, ac.randn(1, 2, 2, 2, 2, dtype=ac.float64)).dtype == ac.float64


def test_conv3d_argument_errors():
    x, w = ac.randn(1, 2, 4, 4, 4), ac.randn(3, 2, 2, 2, 2)
    with pytest.raises(ValueError, match=r"conv3d: expected a 5-D input \(N, C, D, H, W\)"):
        F.conv3d(ac.randn(2, 4, 4), w)
    with pytest.raises(ValueError, match="conv3d: expected a 5-D weight"):
        F.conv3d(x, ac.randn(3, 2, 2, 2))
    with pytest.raises(ValueError, match="expects input with 4 channels"):
        F.conv3d(x, ac.randn(3, 4, 2, 2, 2))
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 3 ints"):
        F.conv3d(x, w, stride=(1, 2))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv3d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv3d(ac.randn(1, 2, 1, 4, 4), w)
    with pytest.raises(ValueError, match="conv_transpose3d: output_padding"):
        F.conv_transpose3d(ac.randn(1, 3, 2, 2, 2), w, output_padding=1)
    with pytest.raises(ValueError, match="conv_transpose3d: padding must be an int"):
        F.conv_transpose3d(ac.randn(1, 3, 2, 2, 2), w, padding="same")


def test_conv3d_layers_shapes_repr_and_errors():
    conv = nn.Conv3d(4, 6, (3, 2, 1), stride=2, padding=1, groups=2, bias=False)
    assert conv.weight.shape == (6, 2, 3, 2, 1) and conv.bias is None
    assert repr(conv) == (
        "Conv3d(4, 6, kernel_size=(3, 2, 1), stride=(2, 2, 2), padding=(1, 1, 1), groups=2, "
        "bias=False)"
    )
    assert conv(ac.randn(2, 4, 5, 4, 3)).shape == (2, 6, 3, 3, 3)
    up = nn.ConvTranspose3d(4, 2, 2, stride=2)
    assert up.weight.shape == (4, 2, 2, 2, 2) and up.bias.shape == (2,)
    assert up(ac.randn(1, 4, 2, 3, 1), output_size=(5, 7, 3)).shape == (1, 2, 5, 7, 3)
    with pytest.raises(ValueError, match="must both be divisible by groups=3"):
        nn.Conv3d(4, 6, 3, groups=3)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 3 ints"):
        nn.Conv3d(4, 6, (3, 3))
    with pytest.raises(ValueError, match="ConvTranspose3d: padding_mode must be one of 'zeros'"):
        nn.ConvTranspose3d(4, 6, 3, padding_mode="reflect")
