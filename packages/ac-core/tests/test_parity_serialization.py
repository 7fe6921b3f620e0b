"""ac.save / ac.load against the reference safetensors implementation, for every dtype."""

import numpy as np
import pytest

import auto_compyute as ac

pytestmark = pytest.mark.parity
safetensors_numpy = pytest.importorskip("safetensors.numpy")

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _arrays(rng):
    result = {}
    for i, dtype in enumerate(DTYPES):
        shape = [(), (0,), (5,), (2, 3, 4)][i % 4]
        if dtype == "bool":
            result[dtype] = np.asarray(rng.random(shape) > 0.5)
        elif np.dtype(dtype).kind == "f":
            result[dtype] = rng.standard_normal(shape).astype(dtype)
        else:
            info = np.iinfo(dtype)
            result[dtype] = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return result


def test_reference_reads_our_files(tmp_path, rng):
    arrays = _arrays(rng)
    path = tmp_path / "ours.safetensors"
    ac.save({k: ac.Tensor(v) for k, v in arrays.items()}, path, metadata={"k": "v"})
    loaded = safetensors_numpy.load_file(str(path))
    assert set(loaded) == set(arrays)
    for key, array in arrays.items():
        assert loaded[key].dtype == array.dtype and loaded[key].shape == array.shape
        assert np.array_equal(loaded[key], array)


def test_we_read_reference_files(tmp_path, rng):
    arrays = _arrays(rng)
    path = tmp_path / "reference.safetensors"
    safetensors_numpy.save_file(arrays, str(path), metadata={"format": "np"})
    loaded = ac.load(path)
    assert set(loaded) == set(arrays)
    for key, array in arrays.items():
        assert loaded[key].dtype == array.dtype and loaded[key].shape == array.shape
        assert np.array_equal(loaded[key].numpy(), array)


def test_reference_reads_our_nested_files(tmp_path, rng):
    state = {
        "state": {0: {"exp_avg": ac.Tensor(rng.standard_normal(3)), "step": 2}},
        "param_groups": [],
    }
    path = tmp_path / "nested.safetensors"
    ac.save(state, path)
    loaded = safetensors_numpy.load_file(str(path))
    assert list(loaded) == ["state.0.exp_avg"]
    assert np.array_equal(loaded["state.0.exp_avg"], state["state"][0]["exp_avg"].data)
