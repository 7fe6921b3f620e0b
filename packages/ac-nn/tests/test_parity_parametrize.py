"""nn.utils.parametrize / parametrizations against PyTorch: same keys, outputs, gradients
and buffer updates after loading the same state dict."""

import numpy as np
import pytest
from parity_helpers import OUT_TOL, compare_layers, load_from

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn.utils import parametrizations, parametrize

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


@pytest.fixture
def rng():
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


def _linear_pair(in_features, out_features):
    theirs = torch.nn.Linear(in_features, out_features)
    ours = nn.Linear(in_features, out_features)
    return ours, theirs


def _check_buffers(ours, theirs):
    reference = dict(theirs.named_buffers())
    for name, buffer in ours.named_buffers():
        np.testing.assert_allclose(buffer.numpy(), reference[name].numpy(), **OUT_TOL, err_msg=name)


def test_custom_parametrization_keys_and_values(rng):
    class Symmetric:
        def forward(self, X):
            return X.triu() + X.triu(1).mT

        def right_inverse(self, A):
            return A.triu()

    OursSym = type("OursSym", (Symmetric, nn.Module), {})
    TheirsSym = type("TheirsSym", (Symmetric, torch.nn.Module), {})
    ours, theirs = _linear_pair(3, 3)
    load_from(ours, theirs)
    parametrize.register_parametrization(ours, "weight", OursSym())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TheirsSym())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal((4, 3)), rng)
    A = rng.standard_normal((3, 3)).astype(np.float32)
    ours.weight = ac.tensor(A)
    with torch.no_grad():
        theirs.weight = torch.tensor(A)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **OUT_TOL)
    parametrize.remove_parametrizations(ours, "weight", leave_parametrized=False)
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight", leave_parametrized=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **OUT_TOL)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm(rng, dim):
    ours, theirs = nn.Conv1d(3, 4, 2), torch.nn.Conv1d(3, 4, 2)
    parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    with torch.no_grad():  # a magnitude that is not the initial norm
        theirs.parametrizations.weight.original0.mul_(1.5)
    load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, 3, 5)), rng)
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **OUT_TOL)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("cls", "shape"), [("Linear", (5, 4)), ("ConvTranspose2d", (3, 2, 2))])
def test_spectral_norm(rng, training, cls, shape):
    ours, theirs = getattr(nn, cls)(*shape), getattr(torch.nn, cls)(*shape)
    parametrizations.spectral_norm(ours, n_power_iterations=2)
    torch.nn.utils.parametrizations.spectral_norm(theirs, n_power_iterations=2)
    load_from(ours, theirs)
    ours.train(training)
    theirs.train(training)
    x = rng.standard_normal((2, 5) if cls == "Linear" else (2, 3, 3, 3))
    compare_layers(ours, theirs, x, rng)  # in training mode, u and v moved: compare them
    _check_buffers(ours, theirs)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal(rng, orthogonal_map, shape, use_trivialization):
    ours, theirs = _linear_pair(shape[1], shape[0])
    kwargs = {"orthogonal_map": orthogonal_map, "use_trivialization": use_trivialization}
    parametrizations.orthogonal(ours, **kwargs)
    torch.nn.utils.parametrizations.orthogonal(theirs, **kwargs)
    with torch.no_grad():  # move away from the starting point, where the map is trivial
        original = theirs.parametrizations.weight.original
        original.add_(0.3 * torch.randn(original.shape))
    load_from(ours, theirs)
    compare_layers(ours, theirs, rng.standard_normal((2, shape[1])), rng)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (2, 4, 4), (3, 5)])
def test_orthogonal_assignment(rng, orthogonal_map, shape):
    """right_inverse: a non-orthogonal square matrix is replaced by its QR factor Q."""
    ours, theirs = _linear_pair(shape[-1], shape[-2])
    if len(shape) == 3:
        weight = rng.standard_normal(shape).astype(np.float32)
        ours.weight = nn.Parameter(ac.tensor(weight))
        theirs.weight = torch.nn.Parameter(torch.tensor(weight))
    parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    A = rng.standard_normal(shape).astype(np.float32)
    if shape[-2] != shape[-1]:  # completing to a square draws random numbers: make Q exact
        A = np.linalg.qr(A.T)[0].T
    ours.weight = ac.tensor(A)
    with torch.no_grad():
        theirs.weight = torch.tensor(A)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if shape[-2] == shape[-1]:
        _check_buffers(ours, theirs)
    np.testing.assert_allclose(
        ours.parametrizations.weight.original.numpy(),
        theirs.parametrizations.weight.original.detach().numpy(),
        **OUT_TOL,
    )
    np.testing.assert_allclose(
        ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-5
    )


def test_orthogonal_householder_assignment_without_trivialization(rng):
    ours, theirs = _linear_pair(3, 5)
    kwargs = {"orthogonal_map": "householder", "use_trivialization": False}
    parametrizations.orthogonal(ours, **kwargs)
    torch.nn.utils.parametrizations.orthogonal(theirs, **kwargs)
    Q = np.linalg.qr(rng.standard_normal((5, 3)))[0].astype(np.float32)
    ours.weight = ac.tensor(Q)
    with torch.no_grad():
        theirs.weight = torch.tensor(Q)
    np.testing.assert_allclose(
        ours.parametrizations.weight.original.numpy(),
        theirs.parametrizations.weight.original.detach().numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    np.testing.assert_allclose(ours.weight.numpy(), Q, atol=1e-5)
