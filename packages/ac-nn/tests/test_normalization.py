"""Batch, layer, group and RMS normalization: NumPy forward, finite-difference gradients, layers."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute.nn.functional import normalization

gradcheck = ac.autograd.gradcheck


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def _t(array: np.ndarray, req_grad: bool = False) -> ac.Tensor:
    return ac.tensor(array, dtype=ac.float64, req_grad=req_grad)


def _np_batch_norm(x, weight, bias, eps=1e-5):
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


# ------------------------------------------------------------------------- batch norm
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 2)])
def test_batch_norm_training_forward_and_running_stats(shape, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape) * 2 + 1
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = _t(np.full(3, 0.5)), _t(np.full(3, 2.0))
    y = F.batch_norm(_t(x), running_mean, running_var, _t(w), _t(b), training=True, momentum=0.2)
    np.testing.assert_allclose(y.numpy(), _np_batch_norm(x, w, b), rtol=1e-12, atol=1e-12)
    axes = (0, *range(2, x.ndim))
    count = x.size // 3
    np.testing.assert_allclose(running_mean.numpy(), 0.8 * 0.5 + 0.2 * x.mean(axis=axes))
    unbiased = x.var(axis=axes) * count / (count - 1)
    np.testing.assert_allclose(running_var.numpy(), 0.8 * 2.0 + 0.2 * unbiased)


def test_batch_norm_eval_uses_running_stats(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 3, 2))
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    y = F.batch_norm(_t(x), _t(mean), _t(var), _t(w), _t(b), training=False, eps=1e-3)
    expected = (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-3) * w[:, None] + b[:, None]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients(shape, training: bool, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal(shape), req_grad=True)
    w, b = _t(rng.standard_normal(3), True), _t(rng.standard_normal(3), True)
    mean, var = _t(rng.standard_normal(3)), _t(rng.uniform(0.5, 2, 3))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=training), [x, w, b])


def test_batch_norm_gradients_without_affine(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((4, 2, 3)), req_grad=True)
    b = _t(rng.standard_normal(2), True)
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])
    assert gradcheck(lambda x, b: F.batch_norm(x, None, None, None, b, training=True), [x, b])


def test_batch_norm_errors() -> None:
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(ac.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean and running_var"):
        F.batch_norm(ac.randn(4, 3), None, None, training=False)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\).*got \(4,\)"):
        F.batch_norm(ac.randn(4, 3), None, None, ac.ones(4), training=True)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(ac.randn(4, 3), ac.zeros(2), ac.ones(3))
    with pytest.raises(ValueError, match=r"\(N, C, \*\)"):
        F.batch_norm(ac.randn(4), None, None, training=True)


# ------------------------------------------------------------------------- layer norm
def _np_layer_norm(x, ndim, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


@pytest.mark.parametrize("normalized_shape", [4, (4,), (3, 4)])
def test_layer_norm_forward(normalized_shape, rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4)) * 3 - 1
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    w, b = rng.standard_normal(shape), rng.standard_normal(shape)
    y = F.layer_norm(_t(x), normalized_shape, _t(w), _t(b), eps=1e-4)
    expected = _np_layer_norm(x, len(shape), w, b, eps=1e-4)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    bare = F.layer_norm(_t(x), normalized_shape)
    np.testing.assert_allclose(bare.numpy(), _np_layer_norm(x, len(shape)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("normalized_shape", [(4,), (3, 4)])
def test_layer_norm_gradients(normalized_shape, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 3, 4)), req_grad=True)
    w = _t(rng.standard_normal(normalized_shape), True)
    b = _t(rng.standard_normal(normalized_shape), True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized_shape, w, b), [x, w, b])
    assert gradcheck(lambda x: F.layer_norm(x, normalized_shape), [x])
    assert gradcheck(lambda x, w: F.layer_norm(x, normalized_shape, w), [x, w])
    assert gradcheck(lambda x, b: F.layer_norm(x, normalized_shape, None, b), [x, b])


def test_layer_norm_errors_name_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\).*input shape \(2, 4\)"):
        F.layer_norm(ac.randn(2, 4), (5,))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\).*got \(3,\)"):
        F.layer_norm(ac.randn(2, 4), 4, ac.ones(3))
    with pytest.raises(TypeError, match="normalized_shape must be an int"):
        F.layernorm(ac.randn(2, 4), ac.ones(4), ac.zeros(4))


# ------------------------------------------------------------------------- group norm
def _np_group_norm(x, groups, weight, bias, eps=1e-5):
    n, c = x.shape[:2]
    grouped = x.reshape(n, groups, -1)
    mean, var = grouped.mean(-1, keepdims=True), grouped.var(-1, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (c,) + (1,) * (x.ndim - 2)
    return y * weight.reshape(shape) + bias.reshape(shape)


GROUPINGS = [
    ((2, 6, 3), 3),
    ((2, 4, 2, 2), 2),
    ((3, 4), 1),
    ((4, 6), 3),
    ((2, 4, 5), 4),
    ((2, 6, 2, 3, 2), 3),
    ((1, 4, 3, 2), 1),
]


@pytest.mark.parametrize(("shape", "groups"), GROUPINGS)
def test_group_norm_forward_and_gradients(shape, groups, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape) * 2 + 3
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    y = F.group_norm(_t(x), groups, _t(w), _t(b))
    np.testing.assert_allclose(y.numpy(), _np_group_norm(x, groups, w, b), rtol=1e-12, atol=1e-12)
    args = [_t(x, True), _t(w, True), _t(b, True)]
    assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), args)
    assert gradcheck(lambda x, w: F.group_norm(x, groups, w), args[:2])
    assert gradcheck(lambda x, b: F.group_norm(x, groups, None, b), [args[0], args[2]])
    assert gradcheck(lambda x: F.group_norm(x, groups), args[:1])


def _composed_group_norm(x, groups, weight, bias):
    """Group norm as a layer norm over each sample's groups, a scale and a shift."""
    shape = (x.shape[1],) + (1,) * (x.ndim - 2)
    grouped = x.reshape(x.shape[0], groups, -1)
    out = F.layer_norm(grouped, grouped.shape[-1:]).reshape(x.shape)
    return out * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("shape", "groups"), [((3, 8, 30, 30), 4), ((2, 6, 7000), 3)])
def test_group_norm_split_across_threads(shape, groups, threads, rng, monkeypatch) -> None:
    """Inputs of many pieces (of whole groups) give the results of the composed ops."""
    monkeypatch.setattr(normalization, "_GROUP_PIECE_SIZE", 2000)
    arrays = [rng.standard_normal(shape) - 1, rng.uniform(0.5, 2, shape[1])]
    arrays.append(rng.standard_normal(shape[1]))
    cotangent = rng.standard_normal(shape)
    before = ac.get_num_threads()
    ac.set_num_threads(threads)
    try:
        results = []
        for function in (F.group_norm, _composed_group_norm):
            inputs = [_t(a, True) for a in arrays]
            out = function(inputs[0], groups, *inputs[1:])
            out.backward(cotangent)
            results.append([out.numpy(), *(t.grad for t in inputs)])
    finally:
        ac.set_num_threads(before)
    for ours, expected in zip(*results, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)


def test_group_norm_backward_leaves_a_shared_gradient_intact() -> None:
    """Its backward may write over a gradient it alone holds, never over one it shares."""
    data = np.random.default_rng(0).standard_normal((4, 6, 5))
    weight, bias = ac.randn(6, dtype=ac.float64), ac.randn(6, dtype=ac.float64)
    x = ac.tensor(data, req_grad=True)
    (F.group_norm(x, 3, weight, bias) * 3).sum().backward()
    expected = x.grad
    x, v = ac.tensor(data, req_grad=True), ac.tensor(data, req_grad=True)
    older = v * 1.0  # its op waits with the same gradient while the GroupNorm's runs
    ((F.group_norm(x, 3, weight, bias) + older) * 3).sum().backward()
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(v.grad, np.full((4, 6, 5), 3.0))


def test_group_norm_errors() -> None:
    with pytest.raises(ValueError, match=r"6 channels .*\(2, 6, 3\).*4 groups"):
        F.group_norm(ac.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="num_channels"):
        nn.GroupNorm(4, 6)


def test_group_norm_of_an_empty_batch() -> None:
    x, weight = ac.zeros(0, 4, 3, req_grad=True), ac.ones(4, req_grad=True)
    out = F.group_norm(x, 2, weight)
    assert out.shape == (0, 4, 3)
    out.sum().backward()
    assert x.grad.shape == (0, 4, 3)
    np.testing.assert_array_equal(weight.grad, np.zeros(4))


# --------------------------------------------------------------------------- RMS norm
def test_rms_norm_forward_and_gradients(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((3, 4))
    y = F.rms_norm(_t(x), (3, 4), _t(w), eps=1e-3)
    expected = x / np.sqrt((x**2).mean(axis=(1, 2), keepdims=True) + 1e-3) * w
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    default = F.rms_norm(_t(x), 4)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(default.numpy(), x / np.sqrt((x**2).mean(-1, keepdims=True) + eps))
    args = [_t(x, True), _t(w, True)]
    assert gradcheck(lambda x, w: F.rms_norm(x, (3, 4), w), args)
    assert gradcheck(lambda x: F.rms_norm(x, 4, eps=0.1), args[:1])
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\).*\(2, 3, 4\)"):
        F.rms_norm(_t(x), 5)


def test_seed_aliases() -> None:
    assert F.batchnorm is F.batch_norm and F.layernorm is F.layer_norm
    assert nn.Layernorm is nn.LayerNorm
    assert issubclass(nn.Batchnorm, nn.Module)


# ---------------------------------------------------------------------------- layers
def test_batchnorm_module_state_and_modes(rng: np.random.Generator) -> None:
    bn = nn.BatchNorm1d(3, momentum=0.5)
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    x = rng.standard_normal((5, 3)).astype(np.float32)
    bn(ac.tensor(x))
    bn(ac.tensor(x))
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == ac.int64
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.75 * x.mean(0), rtol=1e-5)
    bn.eval()
    y = bn(ac.tensor(x)).numpy()
    expected = (x - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert bn.num_batches_tracked.item() == 2


def test_batchnorm_cumulative_average_when_momentum_is_none(rng: np.random.Generator) -> None:
    bn = nn.BatchNorm1d(2, momentum=None, affine=False)
    batches = [rng.standard_normal((4, 2)) for _ in range(3)]
    for batch in batches:
        bn(ac.tensor(batch, dtype=ac.float32))
    np.testing.assert_allclose(
        bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5
    )


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval(rng: np.random.Generator) -> None:
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert bn.running_mean is None and bn.state_dict() == {}
    x = rng.standard_normal((3, 2, 2, 2))
    y = bn(ac.tensor(x, dtype=ac.float64))
    np.testing.assert_allclose(y.numpy(), _np_batch_norm(x, np.ones(2), np.zeros(2)), atol=1e-12)


def test_batchnorm_rank_checks() -> None:
    with pytest.raises(
        ValueError, match=r"BatchNorm1d expects 2D or 3D input, got shape \(2, 3, 4, 4\)"
    ):
        nn.BatchNorm1d(3)(ac.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="BatchNorm2d expects 4D input"):
        nn.BatchNorm2d(3)(ac.randn(2, 3))
    assert nn.Batchnorm(3)(ac.randn(2, 3, 4, 4)).shape == (2, 3, 4, 4)
    assert nn.Batchnorm(3)(ac.randn(2, 3)).shape == (2, 3)


def test_batchnorm_reset_and_dtype() -> None:
    bn = nn.BatchNorm1d(2, dtype=ac.float64)
    assert bn.weight.dtype == ac.float64 and bn.running_var.dtype == ac.float64
    bn(ac.randn(4, 2, dtype=ac.float64) * 3)
    bn.reset_parameters()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0
    assert nn.BatchNorm1d(2, bias=False).bias is None
    with pytest.raises(TypeError, match="floating-point"):
        nn.BatchNorm1d(2, dtype=ac.int32)


def test_layernorm_groupnorm_rmsnorm_modules(rng: np.random.Generator) -> None:
    x = ac.tensor(rng.standard_normal((2, 4, 3)), dtype=ac.float32)
    ln = nn.LayerNorm(3)
    assert ln.weight.shape == (3,) and ln.normalized_shape == (3,)
    np.testing.assert_allclose(ln(x).numpy(), F.layer_norm(x, 3).numpy())
    assert nn.LayerNorm((4, 3), elementwise_affine=False).state_dict() == {}
    assert nn.LayerNorm(3, bias=False).bias is None
    gn = nn.GroupNorm(2, 4)
    np.testing.assert_allclose(gn(x).numpy(), F.group_norm(x, 2).numpy())
    rms = nn.RMSNorm([4, 3], eps=1e-6)
    assert rms.weight.shape == (4, 3)
    np.testing.assert_allclose(rms(x).numpy(), F.rms_norm(x, (4, 3), eps=1e-6).numpy())
    assert repr(ln) == "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"


def test_instance_norm(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 5))
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    layer = nn.InstanceNorm1d(3)
    np.testing.assert_allclose(layer(ac.tensor(x, dtype=ac.float64)).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(layer(ac.tensor(x[0], dtype=ac.float64)).numpy(), expected[0])
    assert list(layer.state_dict()) == []  # no affine parameters, no running statistics
    tracked = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, dtype=ac.float64)
    tracked(ac.tensor(x, dtype=ac.float64))
    np.testing.assert_allclose(tracked.running_mean.numpy(), 0.1 * x.mean(-1).mean(0))
    np.testing.assert_allclose(tracked.running_var.numpy(), 0.9 + 0.1 * x.var(-1, ddof=1).mean(0))
    weight = ac.tensor(rng.standard_normal(3), dtype=ac.float64)
    assert ac.autograd.gradcheck(
        lambda t, w: F.instance_norm(t, weight=w),
        [ac.tensor(x, dtype=ac.float64, req_grad=True), weight.requires_grad_()],
    )
    with pytest.raises(ValueError, match="expects 3D \\(unbatched\\) or 4D input"):
        nn.InstanceNorm2d(3)(ac.ones(3, 4))
    with pytest.raises(ValueError, match="needs running statistics"):
        F.instance_norm(ac.ones(1, 3, 4), use_input_stats=False)


def _np_local_response_norm(x, size, alpha, beta, k):
    channels = x.shape[1]
    padded = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    mean = sum(padded[:, j : j + channels] for j in range(size)) / size
    return x / (k + alpha * mean) ** beta


@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 6, 3, 2), (1, 4, 2, 2, 2)])
@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_local_response_norm(shape, size: int, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape)
    result = F.local_response_norm(_t(x), size, alpha=0.3, beta=0.6, k=1.5)
    np.testing.assert_allclose(
        result.numpy(), _np_local_response_norm(x, size, 0.3, 0.6, 1.5), rtol=1e-12
    )
    assert gradcheck(lambda u: F.local_response_norm(u, size, 0.3, 0.6, 1.5), [_t(x, True)])
    layer = nn.LocalResponseNorm(size, 0.3, 0.6, 1.5)
    np.testing.assert_array_equal(layer(_t(x)).numpy(), result.numpy())


def test_local_response_norm_layer_and_errors() -> None:
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"
    assert nn.LocalResponseNorm(2).state_dict() == {}
    assert F.local_response_norm(ac.zeros(0, 3, 2), 2).shape == (0, 3, 2)
    with pytest.raises(ValueError, match=r"at least 3 axes, got shape \(2, 3\)"):
        F.local_response_norm(ac.zeros(2, 3), 2)
    with pytest.raises(ValueError, match="needs size >= 1, got 0"):
        F.local_response_norm(ac.zeros(2, 3, 4), 0)
    with pytest.raises(ValueError, match="LocalResponseNorm needs size >= 1, got 0"):
        nn.LocalResponseNorm(0)


# ----------------------------------------------------------------- second derivatives
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 3)])
def test_batch_norm_has_second_derivatives(affine, training, shape, rng) -> None:
    x = ac.tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=True)
    params = [
        ac.tensor(rng.uniform(0.5, 1.5, shape[1]), dtype=ac.float64, req_grad=True),
        ac.tensor(rng.standard_normal(shape[1]), dtype=ac.float64, req_grad=True),
    ]
    running_mean = rng.standard_normal(shape[1])
    running_var = rng.uniform(0.5, 2.0, shape[1])

    def fn(x, *params):
        # NOTE: tanh first: in evaluation without affine parameters the norm is linear.
        return F.batch_norm(
            x.tanh(),
            ac.tensor(running_mean, dtype=ac.float64),
            ac.tensor(running_var, dtype=ac.float64),
            *params,
            training=training,
        )

    assert ac.autograd.gradgradcheck(fn, [x, *params] if affine else [x])


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("normalized_shape", [(4,), (3, 4)])
def test_layer_norm_has_second_derivatives(affine, normalized_shape, rng) -> None:
    x = ac.tensor(rng.standard_normal((2, 3, 4)), dtype=ac.float64, req_grad=True)
    weight = ac.tensor(rng.uniform(0.5, 1.5, normalized_shape), dtype=ac.float64, req_grad=True)
    bias = ac.tensor(rng.standard_normal(normalized_shape), dtype=ac.float64, req_grad=True)
    if affine:
        fn = lambda x, w, b: F.layer_norm(x, normalized_shape, w, b)  # noqa: E731
        assert ac.autograd.gradgradcheck(fn, [x, weight, bias])
    else:
        assert ac.autograd.gradgradcheck(lambda x: F.layer_norm(x, normalized_shape), [x])


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize(("shape", "groups"), [((2, 4, 3), 2), ((3, 4), 2), ((2, 6, 2, 2), 3)])
def test_group_norm_has_second_derivatives(affine, shape, groups, rng) -> None:
    x = ac.tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=True)
    weight = ac.tensor(rng.uniform(0.5, 1.5, shape[1]), dtype=ac.float64, req_grad=True)
    bias = ac.tensor(rng.standard_normal(shape[1]), dtype=ac.float64, req_grad=True)
    if affine:
        fn = lambda x, w, b: F.group_norm(x, groups, w, b)  # noqa: E731
        assert ac.autograd.gradgradcheck(fn, [x, weight, bias])
    else:
        assert ac.autograd.gradgradcheck(lambda x: F.group_norm(x, groups), [x])


def test_group_and_instance_norm_have_second_derivatives(rng) -> None:
    x = ac.tensor(rng.standard_normal((2, 4, 3)), dtype=ac.float64, req_grad=True)
    weight = ac.tensor(rng.uniform(0.5, 1.5, 4), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(lambda x, w: F.group_norm(x, 2, w), [x, weight])
    assert ac.autograd.gradgradcheck(F.instance_norm, [x])
    assert ac.autograd.gradgradcheck(lambda x, w: F.instance_norm(x, weight=w), [x, weight])


def test_batch_norm3d_checks_rank_and_normalizes_each_channel():
    norm = nn.BatchNorm3d(2)
    x = ac.randn(3, 2, 4, 3, 2) * 5 + 2
    out = norm(x).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3, 4)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3, 4)), 1, atol=1e-3)
    with pytest.raises(ValueError, match="BatchNorm3d"):
        norm(ac.randn(3, 2, 4, 3))


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_backward_leaves_a_shared_gradient_intact(affine: bool) -> None:
    """Its backward may write over a gradient it alone holds, never over one it shares."""
    data = np.random.default_rng(0).standard_normal((4, 6))
    weight = ac.randn(6, dtype=ac.float64, req_grad=True) if affine else None
    bias = ac.randn(6, dtype=ac.float64, req_grad=True) if affine else None
    x = ac.tensor(data, req_grad=True)
    (F.layer_norm(x, (6,), weight, bias) * 3).sum().backward()
    expected = x.grad
    x, v = ac.tensor(data, req_grad=True), ac.tensor(data, req_grad=True)
    older = v * 1.0  # its op waits with the same gradient while the LayerNorm's runs
    ((F.layer_norm(x, (6,), weight, bias) + older) * 3).sum().backward()
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(v.grad, np.full((4, 6), 3.0))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LayerNorm(4),
        lambda: nn.GroupNorm(2, 4),
        lambda: nn.RMSNorm(4),
        lambda: nn.LayerNorm(4, bias=False),
        lambda: nn.PReLU(4, init=0.1),
    ],
)
def test_reset_parameters_restores_the_initial_values(make) -> None:
    module = make()
    initial = {name: p.numpy().copy() for name, p in module.named_parameters()}
    with ac.no_grad():
        for p in module.parameters():
            p.fill_(7.0)
    module.reset_parameters()
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(p.numpy(), initial[name])


def test_instance_norm_refuses_instances_of_one_element() -> None:
    with pytest.raises(ValueError, match="more than one spatial element"):
        nn.InstanceNorm2d(8)(ac.randn(2, 8, 1, 1))
    assert nn.InstanceNorm2d(8)(ac.randn(2, 8, 2, 1)).shape == (2, 8, 2, 1)


def test_float16_normalizations_and_softmax_are_computed_in_float32() -> None:
    row = np.array([[200.0, -200.0, 100.0, 0.0]], np.float16)  # squares sum past 65504
    x = ac.tensor(row, req_grad=True)
    out = F.layer_norm(x, (4,))
    assert out.dtype == ac.float16
    expected = (row - row.mean()) / np.sqrt(row.astype(np.float64).var() + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=2e-3)
    out.sum().backward()
    assert x.grad.dtype == np.float16 and np.all(np.isfinite(x.grad))
    groups = F.group_norm(ac.tensor(row.reshape(1, 4, 1)), 2)
    np.testing.assert_allclose(groups.numpy().ravel(), [1, -1, 1, -1], rtol=2e-3)
    small = ac.tensor(np.full((1, 4), 0.03, np.float16))
    np.testing.assert_allclose(F.rms_norm(small, (4,)).numpy(), 1.0, rtol=2e-3)  # float32 eps
    uniform = F.softmax(ac.zeros(70000, dtype=ac.float16), -1)
    assert uniform.dtype == ac.float16 and uniform.numpy()[0] == np.float16(1 / 70000)


def test_float16_batch_norm_takes_its_statistics_in_float32() -> None:
    column = np.array([[400.0], [-400.0], [100.0], [0.0]], np.float16)  # squares past 65504
    x = ac.tensor(column, req_grad=True)
    running_mean = ac.tensor(np.array([0.3], np.float16))
    running_var = ac.tensor(np.array([1000.0], np.float16))
    out = F.batch_norm(x, running_mean, running_var, training=True)
    assert out.dtype == ac.float16
    wide = column.astype(np.float64)
    expected = (wide - wide.mean()) / np.sqrt(wide.var() + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=2e-3)
    out.backward(np.array([[1.0], [0.0], [0.0], [0.0]], np.float16))
    assert x.grad.dtype == np.float16 and np.all(np.isfinite(x.grad))
    # NOTE: updated in float32 from the float32 statistics, rounded to float16 once
    mean, var = np.float32(25.0), np.float32(wide.var(ddof=1))
    decay = np.float32(0.9)
    assert running_mean.item() == np.float16(0.1 * mean + decay * np.float32(np.float16(0.3)))
    assert running_var.item() == np.float16(0.1 * var + decay * np.float32(1000.0))


def test_float16_norms_stds_and_cosines_do_not_overflow() -> None:
    big = ac.tensor(np.array([300.0, -300.0], np.float16), req_grad=True)
    std = big.std()
    assert std.dtype == ac.float16 and std.item() == pytest.approx(424.26, rel=1e-3)
    std.backward()
    np.testing.assert_allclose(big.grad, [0.7071, -0.7071], rtol=1e-3)
    assert big.norm().item() == pytest.approx(424.26, rel=1e-3)
    np.testing.assert_allclose(F.normalize(big, dim=0).numpy(), [0.7071, -0.7071], rtol=1e-3)
    other = ac.tensor(np.array([300.0, 1.0], np.float16))
    assert F.cosine_similarity(big, other, dim=0).item() == pytest.approx(0.70475, rel=1e-3)
