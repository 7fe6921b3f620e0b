"""Saving and loading module state through ac.save / ac.load files."""

import json
import struct

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
        self.register_buffer("running_mean", ac.zeros(3))
        self.register_buffer("num_batches_tracked", ac.tensor(0))
        self.register_buffer("cache", ac.zeros(2), persistent=False)

    def forward(self, x):
        return self.body(x) - self.running_mean


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_module_round_trip_through_a_file(tmp_path):
    source = WithBuffers()
    with ac.no_grad():
        source.running_mean.copy_(np.array([1.0, 2.0, 3.0]))
        source.num_batches_tracked.fill_(7)
    path = tmp_path / "model.safetensors"
    ac.save(source.state_dict(), path)
    loaded = ac.load(path)
    assert list(loaded) == list(source.state_dict())
    assert "cache" not in loaded
    target = WithBuffers()
    params = list(target.parameters())
    target.load_state_dict(loaded)
    assert all(a is b for a, b in zip(target.parameters(), params, strict=True))
    x = ac.randn(2, 4)
    assert np.array_equal(target(x).data, source(x).data)
    assert target.num_batches_tracked.dtype == ac.int64 and target.num_batches_tracked.item() == 7
    # the loaded values are copies: training the target leaves the file's tensors alone
    with ac.no_grad():
        target.body[0].weight.fill_(0)
    assert loaded["body.0.weight"].data.any()


def test_float64_checkpoint_into_float32_model(tmp_path):
    source = nn.Linear(3, 2).double()
    path = tmp_path / "m.safetensors"
    ac.save(source.state_dict(), path)
    target = nn.Linear(3, 2)
    target.load_state_dict(ac.load(path))
    assert target.weight.dtype == ac.float32
    np.testing.assert_array_equal(target.weight.data, source.weight.data.astype(np.float32))


def test_truncated_file_raises_and_leaves_the_model_unchanged(tmp_path):
    path = tmp_path / "model.safetensors"
    ac.save(WithBuffers().state_dict(), path)
    path.write_bytes(path.read_bytes()[:-10])
    model = WithBuffers()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"model\.safetensors.*truncated"):
        model.load_state_dict(ac.load(path))
    assert all(np.array_equal(v, before[k]) for k, v in _snapshot(model).items())


def test_file_for_another_architecture_raises_and_leaves_the_model_unchanged(tmp_path):
    path = tmp_path / "other.safetensors"
    ac.save(nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 3)).state_dict(), path)
    model = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
    before = _snapshot(model)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(ac.load(path))
    message = str(info.value)
    assert "size mismatch for 0.weight" in message and "(6, 4)" in message and "(5, 4)" in message
    assert "size mismatch for 1.weight" in message and "size mismatch for 0.bias" in message
    assert "1.bias" not in message
    assert all(np.array_equal(v, before[k]) for k, v in _snapshot(model).items())


def test_file_with_a_corrupt_header_leaves_the_model_unchanged(tmp_path):
    path = tmp_path / "bad.safetensors"
    ac.save(nn.Linear(2, 2).state_dict(), path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header["bias"]["dtype"] = "BF16"
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n :])
    model = nn.Linear(2, 2)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"bad\.safetensors.*BF16"):
        model.load_state_dict(ac.load(path))
    assert all(np.array_equal(v, before[k]) for k, v in _snapshot(model).items())


def test_training_checkpoint_with_model_and_optimizer_like_state(tmp_path):
    model = nn.Linear(3, 2)
    optimizer_state = {
        "state": {
            i: {"step": 4, "exp_avg": ac.zeros_like(p)} for i, p in enumerate(model.parameters())
        },
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1]}],
    }
    path = tmp_path / "ckpt.safetensors"
    ac.save({"model": model.state_dict(), "optimizer": optimizer_state, "epoch": 12}, path)
    checkpoint = ac.load(path)
    restored = nn.Linear(3, 2)
    restored.load_state_dict(checkpoint["model"])
    assert np.array_equal(restored.weight.data, model.weight.data)
    assert checkpoint["epoch"] == 12
    assert checkpoint["optimizer"]["state"][1]["exp_avg"].shape == (2,)
    assert checkpoint["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
