"""nn with optim: gradient clipping re-exports and a full checkpoint of model and optimizer."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn, optim


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


def test_clip_functions_are_reexported():
    assert nn.utils.clip_grad_norm_ is optim.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is optim.clip_grad_value_


def test_clip_grad_norm_on_module_parameters():
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    (model(ac.randn(16, 4)) * 100).sum().backward()
    before = np.sqrt(sum((p.grad.astype(np.float64) ** 2).sum() for p in model.parameters()))
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    after = np.sqrt(sum((p.grad.astype(np.float64) ** 2).sum() for p in model.parameters()))
    assert total.item() == pytest.approx(before, rel=1e-5)
    assert after == pytest.approx(1.0, rel=1e-4)
    nn.utils.clip_grad_value_(model.parameters(), 0.01)
    assert all(np.abs(p.grad).max() <= 0.01 for p in model.parameters())


def _step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def test_checkpoint_of_model_and_optimizer_resumes_bit_for_bit(tmp_path):
    x, y = ac.randn(32, 4), ac.randn(32, 2)

    def make():
        model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
        return model, optim.Adam(model.parameters(), lr=0.01)

    model, optimizer = make()
    for _ in range(3):
        _step(model, optimizer, x, y)
    path = tmp_path / "ckpt.safetensors"
    ac.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    expected = [_step(model, optimizer, x, y) for _ in range(3)]

    restored_model, restored_optimizer = make()
    checkpoint = ac.load(path)
    restored_model.load_state_dict(checkpoint["model"])
    restored_optimizer.load_state_dict(checkpoint["optimizer"])
    assert [_step(restored_model, restored_optimizer, x, y) for _ in range(3)] == expected
    for a, b in zip(restored_model.parameters(), model.parameters(), strict=True):
        assert np.array_equal(a.data, b.data)


def test_module_to_keeps_optimizer_working():
    model = nn.Linear(3, 1)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model.double()
    x, y = ac.randn(8, 3, dtype=ac.float64), ac.randn(8, 1, dtype=ac.float64)
    before = model.weight.data.copy()
    _step(model, optimizer, x, y)
    assert model.weight.dtype == ac.float64 and not np.array_equal(model.weight.data, before)
