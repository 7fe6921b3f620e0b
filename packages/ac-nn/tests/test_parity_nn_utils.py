"""nn.utils (hook-based norms, fusion, functional_call, grad norms) and the nn.init
additions against PyTorch."""

import math
import warnings

import numpy as np
import pytest
from parity_helpers import GRAD_TOL, OUT_TOL, compare_layers, load_from

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn import utils

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


@pytest.fixture
def rng():
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook(rng, dim):
    ours, theirs = nn.Conv1d(3, 4, 2), torch.nn.Conv1d(3, 4, 2)
    _quiet(utils.weight_norm, ours, dim=dim)
    _quiet(torch.nn.utils.weight_norm, theirs, dim=dim)
    with torch.no_grad():
        theirs.weight_g.mul_(1.5)
    load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, 3, 5)), rng)
    utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **OUT_TOL)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("cls", "shape"), [("Linear", (5, 4)), ("ConvTranspose2d", (3, 2, 2))])
def test_spectral_norm_hook(rng, training, cls, shape):
    ours, theirs = getattr(nn, cls)(*shape), getattr(torch.nn, cls)(*shape)
    utils.spectral_norm(ours, n_power_iterations=2)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=2)
    load_from(ours, theirs)
    ours.train(training)
    theirs.train(training)
    x = rng.standard_normal((2, 5) if cls == "Linear" else (2, 3, 3, 3))
    compare_layers(ours, theirs, x, rng)
    for name in ("weight_u", "weight_v"):  # moved in training mode only, the same way
        np.testing.assert_allclose(
            getattr(ours, name).numpy(), getattr(theirs, name).numpy(), **OUT_TOL
        )
    utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **OUT_TOL)


def _random_bn(ours, theirs, rng):
    n = theirs.num_features
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor(rng.standard_normal(n)))
        theirs.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, n)))
        theirs.weight.copy_(torch.tensor(rng.standard_normal(n)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(n)))
    load_from(ours, theirs)
    ours.eval()
    theirs.eval()


def _check_fused(fused, fused_theirs, x):
    assert list(fused.state_dict()) == list(fused_theirs.state_dict())
    theirs_state = fused_theirs.state_dict()
    for key, value in fused.state_dict().items():
        # NOTE: a linear layer without bias fused with a one-feature batch norm gets a bias
        # of shape (out_features,) here, of shape (1,) in PyTorch (broadcast there).
        expected = np.broadcast_to(theirs_state[key].numpy(), value.shape)
        np.testing.assert_allclose(value.numpy(), expected, **OUT_TOL)
    out = fused(ac.tensor(x.astype(np.float32))).numpy()
    expected = fused_theirs(torch.tensor(x.astype(np.float32))).detach().numpy()
    np.testing.assert_allclose(out, expected, **GRAD_TOL)


@pytest.mark.parametrize(
    ("cls", "args", "transpose", "x_shape"),
    [
        ("Conv2d", (3, 4, 3), False, (2, 3, 5, 5)),
        ("Conv1d", (3, 4, 2), False, (2, 3, 5)),
        ("ConvTranspose2d", (3, 4, 2), True, (2, 3, 4, 4)),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval(rng, cls, args, transpose, x_shape, bias):
    conv, conv_theirs = getattr(nn, cls)(*args, bias=bias), getattr(torch.nn, cls)(*args, bias=bias)
    load_from(conv, conv_theirs)
    bn_cls = "BatchNorm2d" if len(x_shape) == 4 else "BatchNorm1d"
    bn, bn_theirs = getattr(nn, bn_cls)(4), getattr(torch.nn, bn_cls)(4)
    _random_bn(bn, bn_theirs, rng)
    fused = utils.fuse_conv_bn_eval(conv.eval(), bn, transpose=transpose)
    fused_theirs = torch.nn.utils.fuse_conv_bn_eval(conv_theirs.eval(), bn_theirs, transpose)
    _check_fused(fused, fused_theirs, rng.standard_normal(x_shape))


@pytest.mark.parametrize("features", [4, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_eval(rng, features, bias):
    linear, linear_theirs = nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias)
    load_from(linear, linear_theirs)
    bn, bn_theirs = nn.BatchNorm1d(features), torch.nn.BatchNorm1d(features)
    _random_bn(bn, bn_theirs, rng)
    fused = utils.fuse_linear_bn_eval(linear.eval(), bn)
    fused_theirs = torch.nn.utils.fuse_linear_bn_eval(linear_theirs.eval(), bn_theirs)
    _check_fused(fused, fused_theirs, rng.standard_normal((5, 3)))


def test_functional_call(rng):
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    w_ours, w_theirs = ac.tensor(w, req_grad=True), torch.tensor(w, requires_grad=True)
    load_from(ours, theirs)
    out = utils.stateless.functional_call(ours, {"weight": w_ours}, (ac.tensor(x),))
    expected = torch.func.functional_call(theirs, {"weight": w_theirs}, (torch.tensor(x),))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **OUT_TOL)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(w_ours.grad, w_theirs.grad.numpy(), **GRAD_TOL)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), **GRAD_TOL)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_grad_norm_split(rng, norm_type):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3,), (2, 4), (5,)]]
    ours = [ac.tensor(a, req_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for o, t, a in zip(ours, theirs, arrays, strict=True):
        o.grad, t.grad = a.copy(), torch.tensor(a)
    total = utils.get_total_norm([p.grad for p in ours], norm_type)
    expected = torch.nn.utils.get_total_norm([p.grad for p in theirs], norm_type)
    np.testing.assert_allclose(total.numpy(), expected.numpy(), **OUT_TOL)
    utils.clip_grads_with_norm_(ours, 1.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.5, expected)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), **OUT_TOL)


@pytest.mark.parametrize(
    ("shape", "groups"), [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((4, 4, 1, 2, 3), 4)]
)
def test_dirac(shape, groups):
    ours = nn.init.dirac_(ac.empty(*shape), groups)
    np.testing.assert_array_equal(ours.numpy(), torch.nn.init.dirac_(torch.empty(shape), groups))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye(shape):
    ours = nn.init.eye_(ac.empty(*shape))
    np.testing.assert_array_equal(ours.numpy(), torch.nn.init.eye_(torch.empty(shape)).numpy())


def test_sparse_structure():
    ours = nn.init.sparse_(ac.empty(9, 40), sparsity=0.3, std=0.02).numpy()
    theirs = torch.nn.init.sparse_(torch.empty(9, 40), sparsity=0.3, std=0.02).numpy()
    np.testing.assert_array_equal((ours == 0).sum(0), (theirs == 0).sum(0))
