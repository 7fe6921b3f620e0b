"""Linear and Sequential against PyTorch: state-dict keys, outputs and gradients."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)
    torch.manual_seed(0)


def _to_numpy(state_dict):
    return {k: v.detach().numpy() for k, v in state_dict.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4,), (7, 4), (2, 3, 4)])
def test_sequential_of_linears_matches_torch(dtype, shape):
    tdtype = getattr(torch, dtype)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3, bias=False)).to(
        tdtype
    )
    ours = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3, bias=False)).to(dtype)
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict(_to_numpy(reference.state_dict()))

    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    ax = ac.tensor(x, req_grad=True)
    ty, ay = reference(tx), ours(ax)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(ay.data, ty.detach().numpy(), **tol)

    cotangent = np.random.default_rng(1).standard_normal(ty.shape).astype(dtype)
    ty.backward(torch.tensor(cotangent))
    ay.backward(cotangent)
    np.testing.assert_allclose(ax.grad, tx.grad.numpy(), **tol)
    for (name, param), (tname, tparam) in zip(
        ours.named_parameters(), reference.named_parameters(), strict=True
    ):
        assert name == tname
        np.testing.assert_allclose(param.grad, tparam.grad.numpy(), **tol, err_msg=name)


def test_state_dict_keys_match_torch_for_relu_style_model():
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    ours = nn.Sequential(nn.Linear(4, 5), nn.Identity(), nn.Linear(5, 3))
    assert list(ours.state_dict()) == list(reference.state_dict())
    for key, value in reference.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape)


def test_torch_state_dict_tensors_load_directly():
    reference = torch.nn.Linear(3, 2)
    ours = nn.Linear(3, 2)
    ours.load_state_dict(reference.state_dict())
    np.testing.assert_array_equal(ours.weight.data, reference.weight.detach().numpy())


def test_our_weights_give_torch_the_same_outputs():
    ours = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3))
    reference.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ac.tensor(x)).data, reference(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_flatten_and_unflatten_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for ours, reference in [
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1))),
    ]:
        np.testing.assert_array_equal(ours(ac.tensor(x)).data, reference(torch.tensor(x)).numpy())
        assert repr(ours) == repr(reference)
    assert repr(nn.Linear(4, 5)) == repr(torch.nn.Linear(4, 5))
    assert repr(nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3, bias=False))) == repr(
        torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3, bias=False))
    )


@pytest.mark.parametrize("shape", [(3,), (6, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_layer_matches_torch(shape, bias: bool):
    rng = np.random.default_rng(0)
    reference, ours = torch.nn.Bilinear(3, 5, 4, bias=bias), nn.Bilinear(3, 5, 4, bias=bias)
    assert repr(ours) == repr(reference)
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict(_to_numpy(reference.state_dict()))
    x1 = rng.standard_normal(shape).astype(np.float32)
    x2 = rng.standard_normal((*shape[:-1], 5)).astype(np.float32)
    a1, a2 = ac.tensor(x1, req_grad=True), ac.tensor(x2, req_grad=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out, expected = ours(a1, a2), reference(t1, t2)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    cotangent = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for name, ours_grad, theirs_grad in [
        ("input1", a1.grad, t1.grad),
        ("input2", a2.grad, t2.grad),
        *(
            (n, p.grad, dict(reference.named_parameters())[n].grad)
            for n, p in ours.named_parameters()
        ),
    ]:
        np.testing.assert_allclose(
            ours_grad, theirs_grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name
        )


def test_bilinear_function_and_init_range_match_torch():
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    w, b = rng.standard_normal((5, 2, 3)), rng.standard_normal(5)
    ours = ac.nn.functional.bilinear(*(ac.tensor(a) for a in (x1, x2, w, b)))
    theirs = torch.nn.functional.bilinear(*(torch.tensor(a) for a in (x1, x2, w, b)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours_layer, reference = nn.Bilinear(9, 2, 300), torch.nn.Bilinear(9, 2, 300)
    for name, param in reference.state_dict().items():  # the same range, U(-1/3, 1/3)
        ours_values = ours_layer.state_dict()[name].numpy()
        assert abs(np.abs(ours_values).max() - param.abs().max().item()) < 0.02, name


def test_gradient_penalty_through_linear_layers_matches_torch():
    reference = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 1)
    ).double()
    ours = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).to(ac.float64)
    ours.load_state_dict({k: ac.tensor(v) for k, v in _to_numpy(reference.state_dict()).items()})
    data = np.random.default_rng(0).standard_normal((6, 4))
    results = []
    for model, x, grad in (
        (ours, ac.tensor(data, dtype=ac.float64, req_grad=True), ac.autograd.grad),
        (reference, torch.tensor(data, requires_grad=True), torch.autograd.grad),
    ):
        (by_x,) = grad(model(x).sum(), x, create_graph=True)
        (((by_x * by_x).sum(dim=1).sqrt() - 1) ** 2).mean().backward()
        results.append({name: p.grad for name, p in model.named_parameters()})
    # only the first layer's weight and the last layer's weight shape the input gradient
    for name in ("0.weight", "2.weight"):
        np.testing.assert_allclose(results[0][name], results[1][name].numpy(), rtol=1e-10)
    assert results[0]["2.bias"] is None and results[1]["2.bias"] is None
