"""Checkpoints exchanged with PyTorch through safetensors files."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)
    torch.manual_seed(0)


def test_torch_written_file_loads_and_gives_the_same_outputs(tmp_path):
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3))
    path = tmp_path / "torch_model.safetensors"
    safetensors_torch.save_file(reference.state_dict(), str(path))

    ours = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
    loaded = ac.load(path)
    assert sorted(loaded) == sorted(reference.state_dict())
    ours.load_state_dict(loaded)

    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    tx, ax = torch.tensor(x, requires_grad=True), ac.tensor(x, req_grad=True)
    ty, ay = reference(tx), ours(ax)
    np.testing.assert_allclose(ay.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    ty.sum().backward()
    ay.sum().backward()
    np.testing.assert_allclose(ax.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ours[0].weight.grad, reference[0].weight.grad.numpy(), rtol=1e-5, atol=1e-6
    )


def test_torch_file_of_a_model_with_relu_has_matching_keys(tmp_path):
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    path = tmp_path / "relu_model.safetensors"
    safetensors_torch.save_file(reference.state_dict(), str(path))
    # an Identity holds index 1 so that the keys are 0.* and 2.*, as in the torch model
    ours = nn.Sequential(nn.Linear(4, 5), nn.Identity(), nn.Linear(5, 3))
    ours.load_state_dict(ac.load(path))
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    expected = reference(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(
        ours[2](ours[0](ac.tensor(x)).relu()).data, expected, rtol=1e-5, atol=1e-6
    )


def test_our_file_loads_in_torch(tmp_path):
    ours = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
    path = tmp_path / "ours.safetensors"
    ac.save(ours.state_dict(), path)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3))
    reference.load_state_dict(safetensors_torch.load_file(str(path)))
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ac.tensor(x)).data, reference(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_bfloat16_file_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "bf16.safetensors"
    safetensors_torch.save_file({"w": torch.zeros(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(ValueError, match=r"bf16\.safetensors.*BF16.*not support"):
        ac.load(path)
