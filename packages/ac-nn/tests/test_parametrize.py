"""nn.utils.parametrize and nn.utils.parametrizations: structure, values, gradients, removal."""

import copy

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn.utils import parametrizations, parametrize
from auto_compyute.nn.utils.stateless import functional_call


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def forward(self, X):
        return 2 * X


class Split(nn.Module):
    """Two originals: the weight is their sum."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, W):
        return 0.25 * W, 0.75 * W


def test_register_moves_the_parameter_and_computes_on_read():
    layer = nn.Linear(3, 3)
    weight = layer.weight
    w = weight.numpy().copy()
    parametrize.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear" and isinstance(layer, nn.Linear)
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    # the same Parameter object now holds right_inverse(w), and is what gets trained
    assert layer.parametrizations.weight.original is weight
    np.testing.assert_array_equal(weight.numpy(), np.triu(w))
    np.testing.assert_array_equal(layer.weight.numpy(), np.triu(w) + np.triu(w, 1).T)
    assert {n for n, _ in layer.named_parameters()} == {"bias", "parametrizations.weight.original"}
    # other Linear instances keep their class
    assert type(nn.Linear(2, 2)) is nn.Linear


def test_gradient_reaches_the_original():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    x = ac.randn(4, 3)
    layer(x).sum().backward()
    # d/dW sum(x Wᵀ) = column sums of x for every row; Symmetric folds the upper triangle
    g = np.tile(x.numpy().sum(0), (3, 1))
    expected = np.triu(g) + np.triu(g.T, 1)
    np.testing.assert_allclose(layer.parametrizations.weight.original.grad, expected, rtol=1e-6)


def test_assignment_calls_right_inverse_and_chaining():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    A = np.arange(9.0, dtype=np.float32).reshape(3, 3)
    layer.weight = ac.tensor(A)
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(), np.triu(A))
    parametrize.register_parametrization(layer, "weight", Scale())
    assert len(layer.parametrizations.weight) == 2
    np.testing.assert_array_equal(layer.weight.numpy(), 2 * (np.triu(A) + np.triu(A, 1).T))
    # Scale has no right_inverse, so assigning is now impossible
    with pytest.raises(RuntimeError, match="Scale does not implement right_inverse"):
        layer.weight = ac.tensor(A)


def test_several_originals():
    layer = nn.Linear(2, 3)
    w = layer.weight.numpy().copy()
    parametrize.register_parametrization(layer, "weight", Split())
    keys = list(layer.state_dict())
    assert keys == [
        "bias",
        "parametrizations.weight.original0",
        "parametrizations.weight.original1",
    ]
    np.testing.assert_allclose(layer.weight.numpy(), w, rtol=1e-6)
    assert isinstance(layer.parametrizations.weight.original1, nn.Parameter)
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and list(layer.state_dict()) == ["bias", "weight"]
    assert isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.numpy(), w, rtol=1e-6)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_restores_a_plain_parameter(leave):
    layer = nn.Linear(3, 3)
    original = layer.weight
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.register_parametrization(layer, "bias", Scale())
    value = layer.weight.numpy().copy()
    stored = original.numpy().copy()
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=leave)
    assert type(layer).__name__ == "ParametrizedLinear"  # bias is still parametrized
    assert layer.weight is original  # same object: an optimizer holding it stays valid
    np.testing.assert_array_equal(layer.weight.numpy(), value if leave else stored)
    parametrize.remove_parametrizations(layer, "bias")
    assert type(layer) is nn.Linear and "parametrizations" not in layer._modules
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_buffer_can_be_parametrized():
    bn = nn.BatchNorm1d(3)
    parametrize.register_parametrization(bn, "running_var", Scale())
    assert "parametrizations.running_var.original" in bn.state_dict()
    np.testing.assert_array_equal(bn.running_var.numpy(), 2 * np.ones(3))
    assert not isinstance(bn.parametrizations.running_var.original, nn.Parameter)


def test_cached_evaluates_once():
    calls = []

    class Count(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X

    layer = nn.Linear(2, 2)
    parametrize.register_parametrization(layer, "weight", Count())
    calls.clear()
    with parametrize.cached():
        assert layer.weight is layer.weight
        with parametrize.cached():
            _ = layer.weight
    assert len(calls) == 1
    _ = layer.weight, layer.weight
    assert len(calls) == 3


def test_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(layer, "nothing", Scale())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(layer, "weight")

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:1]

    with pytest.raises(ValueError, match="may not change the dtype or shape"):
        parametrize.register_parametrization(layer, "weight", Shrink())
    assert type(layer) is nn.Linear and list(layer.state_dict()) == ["weight", "bias"]
    parametrize.register_parametrization(layer, "weight", Shrink(), unsafe=True)
    assert layer.weight.shape == (1, 3)

    class BadInverse(nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return X[:1]

    chained = nn.Linear(3, 3)
    parametrize.register_parametrization(chained, "weight", Symmetric())
    with pytest.raises(ValueError, match="right_inverse must return a tensor of the dtype"):
        parametrize.register_parametrization(chained, "weight", BadInverse())
    assert len(chained.parametrizations.weight) == 1


def test_deepcopy_is_independent():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    twin = copy.deepcopy(layer)
    assert type(twin) is not type(layer) and type(twin).__name__ == "ParametrizedLinear"
    parametrize.remove_parametrizations(twin, "weight")
    assert type(twin) is nn.Linear
    np.testing.assert_array_equal(layer.weight.numpy(), twin.weight.numpy())


# ------------------------------------------------------------------ orthogonal
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 4, 3)])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_is_orthogonal_and_trains(orthogonal_map, shape, use_trivialization):
    layer = nn.Linear(shape[-1], shape[-2])
    if len(shape) == 3:
        layer.weight = nn.Parameter(ac.randn(*shape))
    parametrizations.orthogonal(
        layer, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization
    )
    original = layer.parametrizations.weight.original
    opt = ac.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(3):  # stays orthogonal after the original moves
        opt.zero_grad()
        (layer.weight * ac.randn(*shape)).sum().backward()
        assert original.grad is not None and np.abs(original.grad).sum() > 0
        opt.step()
    W = layer.weight.numpy()
    k = min(shape[-2:])
    gram = W.swapaxes(-1, -2) @ W if shape[-2] >= shape[-1] else W @ W.swapaxes(-1, -2)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(k), gram.shape), atol=1e-5)
    keys = ["bias", "parametrizations.weight.original"]
    assert list(layer.state_dict()) == keys + ["parametrizations.weight.0.base"] * (
        use_trivialization
    )


def test_orthogonal_assignment_and_default_maps():
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0].astype(np.float32)
    layer = parametrizations.orthogonal(nn.Linear(4, 4))
    assert layer.parametrizations.weight[0].orthogonal_map == "matrix_exp"
    layer.weight = ac.tensor(Q)  # an orthogonal matrix is kept exactly (as the base)
    np.testing.assert_allclose(layer.weight.numpy(), Q, atol=1e-6)
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(), -np.eye(4))
    tall = parametrizations.orthogonal(nn.Linear(3, 5))
    assert tall.parametrizations.weight[0].orthogonal_map == "householder"
    # without the base, only the Householder map can be assigned to
    layer = parametrizations.orthogonal(
        nn.Linear(4, 4), orthogonal_map="householder", use_trivialization=False
    )
    layer.weight = ac.tensor(Q)
    np.testing.assert_allclose(layer.weight.numpy(), Q, atol=1e-5)
    layer = parametrizations.orthogonal(
        nn.Linear(4, 4), orthogonal_map="cayley", use_trivialization=False
    )
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        layer.weight = ac.tensor(Q)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_gradcheck_float64(orthogonal_map):
    layer = nn.Linear(3, 4).double()
    parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map)
    x = ac.randn(2, 3, dtype=ac.float64)
    X = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    key = "parametrizations.weight.original"
    assert ac.autograd.gradcheck(lambda X: functional_call(layer, {key: X}, (x,)), (X,))


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix"):
        parametrizations.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.orthogonal(nn.Linear(3, 3), "w")
    layer = parametrizations.orthogonal(nn.Linear(3, 3))
    with pytest.raises(ValueError, match=r"of shape \(3, 3\)"):
        layer.weight = ac.randn(2, 3)


# ----------------------------------------------------------------- weight norm
@pytest.mark.parametrize(("dim", "g_shape"), [(0, (4, 1, 1)), (1, (1, 3, 1)), (None, ())])
def test_weight_norm_structure_and_values(dim, g_shape):
    conv = nn.Conv1d(3, 4, 2)
    w = conv.weight.numpy().copy()
    parametrizations.weight_norm(conv, dim=dim)
    g = conv.parametrizations.weight.original0
    v = conv.parametrizations.weight.original1
    assert g.shape == g_shape and v.shape == w.shape
    np.testing.assert_allclose(conv.weight.numpy(), w, rtol=1e-5, atol=1e-7)
    with ac.no_grad():
        g.copy_(ac.ones(*g_shape) * 3)
    axes = tuple(a for a in range(3) if a != dim) if dim is not None else None
    expected = 3 * w / np.sqrt((w**2).sum(axis=axes, keepdims=dim is not None))
    np.testing.assert_allclose(conv.weight.numpy(), expected, rtol=1e-5)


def test_weight_norm_gradcheck_float64():
    layer = parametrizations.weight_norm(nn.Linear(3, 4).double())
    x = ac.randn(2, 3, dtype=ac.float64)
    g = ac.rand(4, 1, dtype=ac.float64, req_grad=True)
    v = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    keys = ("parametrizations.weight.original0", "parametrizations.weight.original1")

    def fn(g, v):
        return functional_call(layer, dict(zip(keys, (g, v), strict=True)), (x,))

    assert ac.autograd.gradcheck(fn, (g, v))


def test_weight_norm_errors():
    with pytest.raises(IndexError, match="out of range"):
        parametrizations.weight_norm(nn.Linear(3, 4), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'kernel'"):
        parametrizations.weight_norm(nn.Linear(3, 4), "kernel")


# --------------------------------------------------------------- spectral norm
def test_spectral_norm_divides_by_the_largest_singular_value():
    layer = parametrizations.spectral_norm(nn.Linear(6, 5), n_power_iterations=1)
    assert list(layer.state_dict()) == [
        "bias",
        "parametrizations.weight.original",
        "parametrizations.weight.0._u",
        "parametrizations.weight.0._v",
    ]
    for _ in range(30):  # power iteration converges while training-mode reads go on
        _ = layer.weight
    sigma = np.linalg.svd(layer.weight.numpy(), compute_uv=False)
    np.testing.assert_allclose(sigma[0], 1.0, rtol=1e-4)


def test_spectral_norm_updates_buffers_only_in_training():
    layer = parametrizations.spectral_norm(nn.Linear(6, 5))
    sn = layer.parametrizations.weight[0]
    u = sn._u
    before = u.numpy().copy()
    _ = layer.weight
    assert sn._u is u and not np.array_equal(u.numpy(), before)  # updated in place
    layer.eval()
    frozen = u.numpy().copy()
    w1, w2 = layer.weight.numpy(), layer.weight.numpy()
    np.testing.assert_array_equal(u.numpy(), frozen)
    np.testing.assert_array_equal(w1, w2)


def test_spectral_norm_gradcheck_float64_and_other_dims():
    layer = parametrizations.spectral_norm(nn.ConvTranspose1d(2, 3, 2).double()).eval()
    assert layer.parametrizations.weight[0].dim == 1  # output channels of a transposed conv
    assert layer.parametrizations.weight[0]._u.shape == (3,)
    x = ac.randn(1, 2, 4, dtype=ac.float64)
    W = ac.randn(2, 3, 2, dtype=ac.float64, req_grad=True)
    key = "parametrizations.weight.original"
    assert ac.autograd.gradcheck(lambda W: functional_call(layer, {key: W}, (x,)), (W,))
    vector = nn.Linear(3, 4)
    parametrizations.spectral_norm(vector, "bias")  # 1-D: divided by its norm
    np.testing.assert_allclose(np.linalg.norm(vector.bias.numpy()), 1.0, rtol=1e-6)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(3, 4), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(3, 4), dim=2)
