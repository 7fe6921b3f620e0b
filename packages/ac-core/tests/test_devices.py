"""Devices: the CPU, plug-in backends found through entry points, and errors."""

import textwrap

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute._core import devices


def test_cpu_device() -> None:
    cpu = ac.device("cpu")
    assert cpu == "cpu" and str(cpu) == "cpu" and repr(cpu) == "device('cpu')"
    assert cpu.xp is np and ac.ones(1).device == cpu
    assert ac.get_available_devices()[0] == cpu
    assert ac.Device("cuda:1") == ac.Device("cuda", 1) and ac.Device("cuda:1").index == 1


def test_cuda_without_cuda_support() -> None:
    if devices.is_backend_installed("cuda"):
        pytest.skip("CUDA support is installed; this test covers its absence")
    assert ac.cuda.is_available() is False and ac.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=r"pip install \./packages/ac-cuda"):
        ac.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match=r"pip install \./packages/ac-cuda"):
        ac.ones(2).to("cuda")


def test_unknown_device_type() -> None:
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        ac.zeros(1, device="tpu")


class FakeArray(np.ndarray):
    """Arrays of a pretend accelerator: NumPy arrays of another type."""


class FakeBackend:
    name = "fake"
    xp = np
    array_type = FakeArray

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 1

    def device_index(self, array: FakeArray) -> int:
        return 0

    def from_numpy(self, array: np.ndarray, index: int) -> FakeArray:
        return np.array(array).view(FakeArray)

    def to_numpy(self, array: FakeArray) -> np.ndarray:
        return np.array(array).view(np.ndarray)


BACKEND = FakeBackend()


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """Install a distribution that registers the 'fake' backend through the entry point."""
    (tmp_path / "fake_backend_module.py").write_text(
        "from test_devices import BACKEND as backend\n"
    )
    info = tmp_path / "fake_backend-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-backend\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [auto_compyute.backends]
            fake = fake_backend_module:backend
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    devices._backends.pop("fake", None)
    devices._by_array_type.pop(FakeArray, None)


def test_plugin_backend_is_loaded_through_entry_point(fake_plugin) -> None:
    assert devices.is_backend_installed("fake")
    assert "fake" not in devices._backends  # listed, not loaded
    x = ac.ones(2, 3, device="fake", req_grad=True)
    assert isinstance(x.data, FakeArray) and x.device == "fake:0"
    assert ac.Device("fake") in ac.get_available_devices()
    y = (x * 2).sum()
    y.backward()
    assert y.device == "fake:0" and isinstance(x.grad, FakeArray)
    back = x.to("cpu")
    assert type(back.data) is np.ndarray and back.tolist() == [[1.0] * 3] * 2
    (back * 3).sum().backward()  # the gradient travels back to the fake device
    np.testing.assert_array_equal(np.asarray(x.grad), np.full((2, 3), 5.0))
    assert repr(ac.ones(1, device="fake")) == "Tensor([1.], device='fake:0')"


def test_mixing_devices_names_both(fake_plugin) -> None:
    a = ac.ones(2, device="fake")
    b = ac.ones(2)
    with pytest.raises(RuntimeError, match="input 0 on fake:0, input 1 on cpu"):
        a + b
    with pytest.raises(RuntimeError, match="does not exist"):
        ac.ones(1, device="fake:3")


def test_second_derivatives_across_devices(fake_plugin) -> None:
    x = ac.tensor([0.5, -1.0, 2.0], dtype=ac.float64, device="fake", req_grad=True)
    (first,) = ac.autograd.grad((x.to("cpu") ** 3).sum(), x, create_graph=True)
    assert first.device == "fake:0" and first.req_grad
    (second,) = ac.autograd.grad(first.sum(), x)
    assert second.device == "fake:0"
    np.testing.assert_allclose(np.asarray(second.data), [3.0, -6.0, 12.0])
