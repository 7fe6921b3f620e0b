"""Linear, Identity, Flatten and Unflatten."""

import itertools
import math

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


def test_linear_signatures():
    for layer in (
        nn.Linear(4, 5),
        nn.Linear(in_dim=4, out_dim=5),
        nn.Linear(in_features=4, out_features=5),
    ):
        assert layer.weight.shape == (5, 4) and layer.bias.shape == (5,)
        assert layer.in_features == layer.in_dim == 4 and layer.out_features == layer.out_dim == 5
    assert nn.Linear(4, 5, bias=False).bias is None
    assert nn.Linear(4, 5, False).bias is None


def test_linear_bad_arguments():
    with pytest.raises(TypeError, match="missing required argument 'in_features'"):
        nn.Linear(out_features=3)
    with pytest.raises(TypeError, match="both in_features=4 and in_dim=5"):
        nn.Linear(4, 3, in_dim=5)
    with pytest.raises(ValueError, match="non-negative integer"):
        nn.Linear(2.5, 3)
    with pytest.raises(TypeError, match="floating-point"):
        nn.Linear(2, 3, dtype=ac.int64)


def test_linear_dtype_and_device():
    layer = nn.Linear(3, 2, dtype=ac.float64, device="cpu")
    assert layer.weight.dtype == ac.float64 and layer.bias.dtype == ac.float64
    assert layer.weight.device == "cpu"
    assert layer(ac.randn(4, 3, dtype=ac.float64)).dtype == ac.float64


def test_linear_forward_matches_numpy_for_any_leading_shape():
    layer = nn.Linear(3, 2)
    w, b = layer.weight.data, layer.bias.data
    for shape in [(3,), (4, 3), (2, 5, 3)]:
        x = ac.randn(*shape)
        np.testing.assert_allclose(layer(x).data, x.data @ w.T + b, rtol=1e-6, atol=1e-6)
    no_bias = nn.Linear(3, 2, bias=False)
    x = ac.randn(4, 3)
    np.testing.assert_allclose(no_bias(x).data, x.data @ no_bias.weight.data.T, rtol=1e-6)


def test_linear_shape_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(\*, 3\), got \(4, 2\)"):
        nn.Linear(3, 2)(ac.randn(4, 2))


def test_linear_gradcheck_float64():
    layer = nn.Linear(3, 2, dtype=ac.float64)
    x = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    w = ac.randn(2, 3, dtype=ac.float64, req_grad=True)
    b = ac.randn(2, dtype=ac.float64, req_grad=True)

    def through_module(x, w, b):
        # NOTE: gradcheck passes fresh tensors; put them where forward reads the parameters.
        layer._parameters["weight"], layer._parameters["bias"] = w, b
        return layer(x)

    assert ac.autograd.gradcheck(through_module, (x, w, b))
    x3 = ac.randn(2, 2, 3, dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(through_module, (x3, w, b))


def test_linear_backward_fills_parameter_grads():
    layer = nn.Linear(3, 2, dtype=ac.float64)
    x = ac.randn(4, 3, dtype=ac.float64)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, np.ones((2, 4)) @ x.data, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, np.full(2, 4.0), rtol=1e-12)


def test_linear_default_init_bounds():
    layer = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.bias.data).max() <= bound
    # U(-b, b) has standard deviation b / sqrt(3); 20000 draws pin it to about 1%
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_linear_init_is_reproducible_with_manual_seed():
    ac.manual_seed(3)
    a = nn.Linear(4, 4)
    ac.manual_seed(3)
    b = nn.Linear(4, 4)
    assert np.array_equal(a.weight.data, b.weight.data) and np.array_equal(a.bias.data, b.bias.data)


def test_linear_zero_in_features():
    with pytest.warns(UserWarning, match="zero-element"):
        layer = nn.Linear(0, 3)
    assert np.array_equal(layer(ac.zeros(2, 0)).data, np.broadcast_to(layer.bias.data, (2, 3)))


def test_identity_ignores_arguments_and_returns_input():
    x = ac.randn(2)
    assert nn.Identity(3, foo=1)(x) is x
    assert repr(nn.Identity()) == "Identity()"


def test_flatten_and_unflatten():
    x = ac.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-3, -2)(x).shape == (2, 12, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    y = ac.randn(2, 60)
    assert nn.Unflatten(1, (3, 4, 5))(y).shape == (2, 3, 4, 5)
    assert nn.Unflatten(-1, (3, -1))(y).shape == (2, 3, 20)
    assert repr(nn.Unflatten(1, [3, 20])) == "Unflatten(dim=1, unflattened_size=(3, 20))"
    with pytest.raises(IndexError, match="out of range"):
        nn.Flatten(3)(ac.randn(2, 3))
    with pytest.raises(IndexError, match="out of range"):
        nn.Unflatten(2, (1, 2))(ac.randn(2, 2))
    with pytest.raises(ValueError, match="cannot reshape"):
        nn.Unflatten(1, (7, 7))(y)


def test_flatten_gradient_flows():
    x = ac.randn(2, 3, 4, dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(lambda t: nn.Flatten()(t), (x,))
    assert ac.autograd.gradcheck(lambda t: nn.Unflatten(1, (2, 6))(nn.Flatten()(t)), (x,))


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_functional_linear_gradcheck(shape, with_bias):
    x = ac.randn(*shape, dtype=ac.float64, req_grad=True)
    w = ac.randn(2, 3, dtype=ac.float64, req_grad=True)
    b = ac.randn(2, dtype=ac.float64, req_grad=True) if with_bias else None
    inputs = [x, w] + ([b] if with_bias else [])
    assert ac.autograd.gradcheck(lambda *t: F.linear(*t), inputs)
    expected = x.numpy() @ w.numpy().T + (b.numpy() if with_bias else 0)
    np.testing.assert_allclose(F.linear(*inputs).numpy(), expected, rtol=1e-12)


def test_functional_linear_weight_grad_is_contiguous():
    layer = nn.Linear(4, 3)
    layer(ac.randn(5, 4)).sum().backward()
    assert layer.weight.grad.flags.c_contiguous and layer.weight.grad.shape == (3, 4)


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bilinear_matches_numpy_and_gradcheck(lead, with_bias: bool) -> None:
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((*lead, 4)), rng.standard_normal((*lead, 3))
    w, b = rng.standard_normal((5, 4, 3)), rng.standard_normal(5)
    tensors = [ac.tensor(a, dtype=ac.float64, req_grad=True) for a in (x1, x2, w, b)]
    bias = tensors[3] if with_bias else None
    result = F.bilinear(*tensors[:3], bias)
    expected = np.einsum("...i,oij,...j->...o", x1, w, x2) + (b if with_bias else 0)
    assert result.shape == (*lead, 5)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)
    inputs = tensors if with_bias else tensors[:3]
    assert ac.autograd.gradcheck(F.bilinear, inputs)


def test_bilinear_layer_parameters_init_and_repr() -> None:
    layer = nn.Bilinear(16, 3, 200)
    assert layer.weight.shape == (200, 16, 3) and layer.bias.shape == (200,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    for param in (layer.weight, layer.bias):  # U(-1/sqrt(in1), 1/sqrt(in1)) = U(-0.25, 0.25)
        assert np.abs(param.numpy()).max() <= 0.25 and np.abs(param.numpy()).max() > 0.2
    assert repr(layer) == "Bilinear(in1_features=16, in2_features=3, out_features=200, bias=True)"
    no_bias = nn.Bilinear(2, 3, 4, bias=False, dtype=ac.float64)
    assert no_bias.bias is None and no_bias.weight.dtype == ac.float64
    assert no_bias(ac.ones(5, 2, dtype=ac.float64), ac.ones(5, 3, dtype=ac.float64)).shape == (5, 4)


def test_bilinear_errors() -> None:
    w = ac.zeros(5, 4, 3)
    with pytest.raises(ValueError, match=r"weight \(out, in1, in2\), got shape \(5, 4\)"):
        F.bilinear(ac.zeros(2, 4), ac.zeros(2, 3), ac.zeros(5, 4))
    with pytest.raises(ValueError, match=r"shapes \(\*, 4\) and \(\*, 3\).*got \(2, 3\) and"):
        F.bilinear(ac.zeros(2, 3), ac.zeros(2, 3), w)
    with pytest.raises(ValueError, match="same leading axes"):
        F.bilinear(ac.zeros(2, 4), ac.zeros(3, 3), w)
    with pytest.raises(ValueError, match=r"bias of shape \(5,\), got \(4,\)"):
        F.bilinear(ac.zeros(2, 4), ac.zeros(2, 3), w, ac.zeros(4))
    with pytest.raises(ValueError, match="non-negative integer out_features, got -1"):
        nn.Bilinear(2, 3, -1)
    with pytest.raises(TypeError, match="floating-point dtype"):
        nn.Bilinear(2, 3, 4, dtype=ac.int64)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_has_second_derivatives(bias):
    x = ac.randn(2, 3, 4, dtype=ac.float64, req_grad=True)
    weight = ac.randn(5, 4, dtype=ac.float64, req_grad=True)
    extra = [ac.randn(5, dtype=ac.float64, req_grad=True)] if bias else []
    assert ac.autograd.gradgradcheck(lambda *a: F.linear(*a).tanh(), [x, weight, *extra])


def _norm_then_linear(norm_affine: tuple[bool, bool], linear_bias: bool):
    """A function of (x, *params) that applies layer_norm over the last axis, then linear."""
    has_weight, has_bias = norm_affine

    def apply(x, *params):
        params = list(params)
        norm_weight = params.pop(0) if has_weight else None
        norm_bias = params.pop(0) if has_bias else None
        y = F.layer_norm(x, (x.shape[-1],), norm_weight, norm_bias)
        return F.linear(y, *params)

    shapes = [(4,)] * has_weight + [(4,)] * has_bias + [(3, 4)] + [(3,)] * linear_bias
    return apply, shapes


@pytest.mark.parametrize("norm_affine", list(itertools.product([True, False], repeat=2)))
@pytest.mark.parametrize("linear_bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_linear_of_a_layer_norm_keeps_its_x_hat_and_has_exact_gradients(
    norm_affine, linear_bias, shape
):
    apply, shapes = _norm_then_linear(norm_affine, linear_bias)
    x = ac.randn(*shape, dtype=ac.float64, req_grad=True)
    params = [ac.randn(*s, dtype=ac.float64, req_grad=True) for s in shapes]
    y = apply(x, *params)
    assert type(y.ctx).__name__ == "_LinearOfNormalized" and y.ctx.name == "Linear"
    assert y.ctx.kwargs == {} and y.ctx.x is None  # the LayerNorm's result is not kept
    with ac.no_grad():  # the plain path: nothing recorded, so no LayerNorm op to read x̂ from
        expected = apply(x, *params)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12)
    assert ac.autograd.gradcheck(apply, [x, *params])
    assert ac.autograd.gradgradcheck(lambda *a: apply(*a).tanh(), [x, *params])


def test_linear_of_a_layer_norm_backward_twice_with_retain_graph():
    apply, shapes = _norm_then_linear((True, True), True)
    x = ac.randn(6, 4, req_grad=True)
    params = [ac.randn(*s, req_grad=True) for s in shapes]
    loss = apply(x, *params).tanh().sum()
    loss.backward(retain_graph=True)
    first = [t.grad.copy() for t in (x, *params)]
    for t in (x, *params):
        t.grad = None
    loss.backward()
    for t, grad in zip((x, *params), first, strict=True):
        np.testing.assert_array_equal(t.grad, grad)


def test_linear_of_a_layer_norm_whose_backward_already_ran_takes_the_plain_path():
    x = ac.randn(3, 4, req_grad=True)
    y = F.layer_norm(x, (4,), ac.ones(4, req_grad=True))
    y.sum().backward()
    w = ac.randn(2, 4, req_grad=True)
    out = F.linear(y, w)  # the LayerNorm freed its x̂
    assert type(out.ctx).__name__ == "Linear"
    np.testing.assert_allclose(out.numpy(), y.numpy() @ w.numpy().T, rtol=1e-6)


def test_linear_lets_go_of_its_input_in_backward_unless_the_graph_is_retained():
    x = ac.randn(3, 4, req_grad=True)
    w = ac.randn(2, 4, req_grad=True)
    out = F.linear(x.tanh(), w)
    op = out.ctx
    out.sum().backward(retain_graph=True)
    assert op.x is not None
    first = w.grad.copy()
    out.sum().backward()
    np.testing.assert_array_equal(w.grad, 2 * first)
    assert "x" not in op.__dict__


def test_wide_linear_layers_give_column_major_results_and_row_major_weight_grads():
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 8))
    model.double()
    x = ac.randn(3, 4, dtype=ac.float64, req_grad=True)
    hidden = model[0](x)
    assert hidden.data.flags.f_contiguous and not hidden.data.flags.c_contiguous
    ac.manual_seed(0)
    dropped = model[2](model[1](hidden))
    assert dropped.data.flags.f_contiguous  # the mask is drawn in the same layout
    assert set(np.unique(dropped.numpy() / np.maximum(hidden.numpy(), 1e-300))) <= {0.0, 2.0}
    model(x).sum().backward()
    assert x.grad.flags.c_contiguous
    assert all(p.grad.flags.c_contiguous for p in model.parameters() if p.ndim == 2)
    model.eval()
    assert ac.autograd.gradcheck(model, [x])
