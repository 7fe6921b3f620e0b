"""nn.utils: hook-based weight/spectral norm, fusion, skip_init, functional_call, norms."""

import math

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn import utils
from auto_compyute.nn.utils.stateless import functional_call


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


# ------------------------------------------------------- hook-based weight norm
def test_weight_norm_hook_structure_values_and_removal():
    layer = nn.Linear(3, 4)
    w = layer.weight.numpy().copy()
    with pytest.warns(FutureWarning, match="deprecated"):
        utils.weight_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert layer.weight_g.shape == (4, 1) and not isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.numpy(), w, rtol=1e-6)
    with ac.no_grad():
        layer.weight_g.copy_(ac.full((4, 1), 2.0))
    x = ac.randn(5, 3)
    out = layer(x)  # the pre-hook recomputes the weight
    expected_w = 2 * w / np.linalg.norm(w, axis=1, keepdims=True)
    np.testing.assert_allclose(layer.weight.numpy(), expected_w, rtol=1e-5)
    np.testing.assert_allclose(
        out.numpy(), x.numpy() @ expected_w.T + layer.bias.numpy(), rtol=1e-5
    )
    out.sum().backward()
    assert layer.weight_g.grad.shape == (4, 1) and layer.weight_v.grad.shape == (4, 3)
    utils.remove_weight_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    assert isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.numpy(), expected_w, rtol=1e-5)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        utils.remove_weight_norm(layer)


def test_weight_norm_hook_gradcheck_float64_and_errors():
    layer = nn.Linear(3, 2).double()
    with pytest.warns(FutureWarning):
        utils.weight_norm(layer, dim=None)
    assert layer.weight_g.shape == ()
    x = ac.randn(4, 3, dtype=ac.float64)
    g = ac.tensor(1.5, dtype=ac.float64, req_grad=True)
    v = ac.randn(2, 3, dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(
        lambda g, v: functional_call(layer, {"weight_g": g, "weight_v": v}, (x,)), (g, v)
    )
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), pytest.warns(FutureWarning):
        utils.weight_norm(layer)


# ----------------------------------------------------- hook-based spectral norm
def test_spectral_norm_hook_structure_training_and_removal():
    layer = utils.spectral_norm(nn.Linear(6, 5))
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert layer.weight_u.shape == (5,) and layer.weight_v.shape == (6,)
    x = ac.randn(2, 6)
    for _ in range(40):
        layer(x)
    sigma = np.linalg.svd(layer.weight.numpy(), compute_uv=False)
    np.testing.assert_allclose(sigma[0], 1.0, rtol=1e-4)
    layer.eval()
    u = layer.weight_u.numpy().copy()
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)  # frozen in evaluation mode
    assert layer.weight_orig.grad.shape == (5, 6)
    w = layer.weight.numpy().copy()
    utils.remove_spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.numpy(), w, rtol=1e-6)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        utils.remove_spectral_norm(layer)


def test_spectral_norm_hook_gradcheck_float64_and_errors():
    conv = utils.spectral_norm(nn.ConvTranspose1d(2, 3, 2).double()).eval()
    assert conv.weight_u.shape == (3,)  # dim 1: the output channels of a transposed conv
    x = ac.randn(1, 2, 4, dtype=ac.float64)
    W = ac.randn(2, 3, 2, dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(lambda W: functional_call(conv, {"weight_orig": W}, (x,)), (W,))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        utils.spectral_norm(conv)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="parameter `bias` is None"):
        utils.spectral_norm(nn.Linear(2, 2, bias=False), "bias")


# ---------------------------------------------------------------------- fusion
def _trained_bn(bn, channels):
    with ac.no_grad():
        bn.running_mean.copy_(ac.randn(channels))
        bn.running_var.copy_(ac.rand(channels) + 0.5)
        bn.weight.copy_(ac.randn(channels))
        bn.bias.copy_(ac.randn(channels))
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_matches_the_pair(bias):
    conv = nn.Conv2d(3, 4, 3, bias=bias).eval()
    bn = _trained_bn(nn.BatchNorm2d(4), 4)
    fused = utils.fuse_conv_bn_eval(conv, bn)
    assert fused is not conv and (conv.bias is None) == (not bias)
    x = ac.randn(2, 3, 6, 6)
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-5, atol=1e-5)
    assert isinstance(fused.bias, nn.Parameter)


def test_fuse_conv_transpose_bn_eval_matches_the_pair():
    conv = nn.ConvTranspose2d(3, 4, 2).eval()
    bn = _trained_bn(nn.BatchNorm2d(4), 4)
    fused = utils.fuse_conv_bn_eval(conv, bn, transpose=True)
    x = ac.randn(2, 3, 5, 5)
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("features", [4, 1])
def test_fuse_linear_bn_eval_matches_the_pair(features):
    linear = nn.Linear(3, 4).eval()
    bn = _trained_bn(nn.BatchNorm1d(features), features)
    fused = utils.fuse_linear_bn_eval(linear, bn)
    x = ac.randn(5, 3)
    expected = bn(linear(x)) if features == 4 else bn(linear(x).unsqueeze(1)).squeeze(1)
    np.testing.assert_allclose(fused(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_fusion_errors():
    with pytest.raises(RuntimeError, match="Fusion only for eval"):
        utils.fuse_conv_bn_eval(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2).eval())
    with pytest.raises(RuntimeError, match="running statistics"):
        utils.fuse_conv_bn_eval(
            nn.Conv2d(1, 2, 1).eval(), nn.BatchNorm2d(2, track_running_stats=False).eval()
        )
    with pytest.raises(ValueError, match="out_features=4 and num_features=3"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 4).eval(), nn.BatchNorm1d(3).eval())


# ------------------------------------------------------------------- skip_init
def test_skip_init_draws_nothing():
    ac.manual_seed(1)
    layer = utils.skip_init(nn.Linear, 5, 3, bias=False)
    assert isinstance(layer, nn.Linear) and layer.weight.shape == (3, 5)
    # no random numbers were consumed: the next draw is the first one after seeding
    first = ac.rand(3).numpy()
    ac.manual_seed(1)
    np.testing.assert_array_equal(first, ac.rand(3).numpy())
    nn.init.ones_(nn.Linear(2, 2).weight)  # initialisers work again afterwards
    with pytest.raises(RuntimeError, match="Expected a Module"):
        utils.skip_init(int)
    with pytest.raises(RuntimeError, match="'device' arg"):
        utils.skip_init(nn.ReLU)


# ------------------------------------------------------------- functional_call
def test_functional_call_replaces_for_the_call_only():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    w = ac.zeros(2, 3, req_grad=True)
    mean = ac.ones(2)
    x = ac.randn(4, 3)
    out = functional_call(model.eval(), {"0.weight": w, "1.running_mean": mean}, x)
    bias, bn = model[0].bias.numpy(), model[1]
    expected = (bias - 1) / np.sqrt(bn.running_var.numpy() + bn.eps) * bn.weight.numpy()
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(expected + bn.bias.numpy(), (4, 2)))
    out.sum().backward()
    assert w.grad is not None and weight.grad is None
    assert model[0].weight is weight and model[1].running_mean is not mean


def test_functional_call_restores_on_error_and_checks_keys():
    class Fails(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ac.ones(2))

        def forward(self, x):
            raise RuntimeError("boom")

    module = Fails()
    w = module.w
    with pytest.raises(RuntimeError, match="boom"):
        functional_call(module, {"w": ac.zeros(2)}, (ac.ones(2),))
    assert module.w is w
    with pytest.raises(ValueError, match=r"\['v'\] are not parameters or buffers"):
        functional_call(module, {"v": ac.zeros(2)}, ())
    with pytest.raises(ValueError, match="appeared in multiple dicts"):
        functional_call(module, ({"w": ac.zeros(2)}, {"w": ac.ones(2)}), ())
    with pytest.raises(ValueError, match=r"missing tensors for \['w'\]"):
        functional_call(module, {}, (), strict=True)


def test_functional_call_ties_shared_parameters_and_kwargs():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x, scale=1.0):
            return self.b(self.a(x)) * scale

    model = Tied()
    eye = ac.eye(2)
    x = ac.randn(3, 2)
    out = functional_call(model, {"a.weight": eye}, (x,), {"scale": 2.0})
    np.testing.assert_allclose(out.numpy(), 2 * x.numpy(), rtol=1e-6)
    untied = functional_call(model, {"a.weight": eye}, (x,), tie_weights=False)
    np.testing.assert_allclose(untied.numpy(), x.numpy() @ model.a.weight.numpy().T, rtol=1e-6)


# ------------------------------------------------------------------ grad norms
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
def test_get_total_norm_and_clip_grads_with_norm(norm_type):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3,), (2, 4), ()]]
    params = [ac.tensor(a, req_grad=True) for a in arrays]
    for p, a in zip(params, arrays, strict=True):
        p.grad = a.copy()
    flat = np.concatenate([a.ravel() for a in arrays])
    expected = np.linalg.norm(flat, ord=norm_type)
    total = utils.get_total_norm([p.grad for p in params], norm_type)
    assert total.shape == ()
    np.testing.assert_allclose(total.item(), expected, rtol=1e-5)
    utils.clip_grads_with_norm_(params, 1.0, total)
    for p, a in zip(params, arrays, strict=True):
        np.testing.assert_allclose(p.grad, a * min(1.0, 1.0 / (expected + 1e-6)), rtol=1e-5)
    assert utils.get_total_norm([]).item() == 0.0


def test_grad_norm_errors_and_deprecated_alias():
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([ac.tensor([1.0, np.inf])], error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        utils.get_total_norm([ac.ones(2)], norm_type=0)
    p = ac.ones(4, req_grad=True)
    p.grad = np.full(4, 2.0, dtype=np.float32)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = utils.clip_grad_norm([p], 1.0)
    assert total.item() == pytest.approx(4.0)
    np.testing.assert_allclose(p.grad, np.full(4, 0.5), rtol=1e-5)
    assert utils.clip_grad.clip_grad_norm_ is ac.optim.clip_grad_norm_


# ------------------------------------------------------------ nn.init additions
def test_dirac_and_eye():
    w = ac.empty(4, 2, 3, 3)
    nn.init.dirac_(w, groups=2)
    expected = np.zeros((4, 2, 3, 3))
    for g in range(2):
        for d in range(2):
            expected[g * 2 + d, d, 1, 1] = 1
    np.testing.assert_array_equal(w.numpy(), expected)
    conv = nn.Conv1d(3, 3, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = ac.randn(2, 3, 5)
    np.testing.assert_allclose(conv(x).numpy(), x.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac_(ac.empty(2, 2))
    with pytest.raises(ValueError, match="divisible by groups=3"):
        nn.init.dirac_(ac.empty(4, 2, 3), groups=3)


def test_sparse_zeroes_each_column():
    w = ac.empty(10, 6)
    nn.init.sparse_(w, sparsity=0.25, std=0.5)
    zeros = (w.numpy() == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, np.full(6, 3))  # ceil(0.25 * 10) per column
    assert 0.2 < w.numpy()[w.numpy() != 0].std() < 1.0
    with pytest.raises(ValueError, match="2-D tensors only"):
        nn.init.sparse_(ac.empty(2, 2, 2), 0.1)


@pytest.mark.parametrize(
    ("old", "args"),
    [
        ("uniform", ()),
        ("normal", ()),
        ("constant", (0.5,)),
        ("xavier_uniform", ()),
        ("xavier_normal", ()),
        ("kaiming_uniform", ()),
        ("kaiming_normal", ()),
        ("orthogonal", ()),
        ("eye", ()),
        ("sparse", (0.5,)),
    ],
)
def test_deprecated_init_aliases_warn_and_match(old, args):
    first, second = ac.empty(4, 6), ac.empty(4, 6)
    ac.manual_seed(3)
    with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated"):
        getattr(nn.init, old)(first, *args)
    ac.manual_seed(3)
    getattr(nn.init, old + "_")(second, *args)
    np.testing.assert_array_equal(first.numpy(), second.numpy())


def test_deprecated_dirac_alias():
    first, second = ac.empty(2, 2, 3), ac.empty(2, 2, 3)
    with pytest.warns(FutureWarning, match="`nn.init.dirac` is now deprecated"):
        nn.init.dirac(first)
    np.testing.assert_array_equal(first.numpy(), nn.init.dirac_(second).numpy())
