"""ac.save / ac.load: the safetensors layout, every dtype, nested state, and broken files.

The conftest provides ``rng`` (seeded) and ``device`` (the device under test)."""

import io
import json
import os
import struct

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute._core import serialization

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _array(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def _header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return n, json.loads(f.read(n))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_round_trip_of_every_dtype_and_shape(tmp_path, rng, device, dtype, shape):
    array = _array(rng, dtype, shape)
    path = tmp_path / "t.safetensors"
    ac.save({"x": ac.Tensor(array, device=device)}, path)
    loaded = ac.load(path, device=device)
    assert list(loaded) == ["x"]
    out = loaded["x"]
    assert isinstance(out, ac.Tensor) and out.dtype == np.dtype(dtype) and out.shape == shape
    assert out.device == device
    host = out.numpy()
    assert np.array_equal(host, array)
    if device == "cpu":
        assert host.flags.writeable and host.flags.aligned
    assert not out.req_grad


def test_layout_follows_the_format(tmp_path):
    path = tmp_path / "m.safetensors"
    ac.save({"b": ac.ones(2, dtype=ac.float64), "a": ac.zeros(3, dtype=ac.int8)}, path)
    n, header = _header(path)
    assert n % 8 == 0
    assert header == {
        "b": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
        "a": {"dtype": "I8", "shape": [3], "data_offsets": [16, 19]},
    }
    raw = path.read_bytes()
    assert len(raw) == 8 + n + 19
    assert np.array_equal(np.frombuffer(raw[8 + n : 8 + n + 16], "<f8"), [1, 1])
    assert list(ac.load(path)) == ["b", "a"]


def test_numpy_arrays_and_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    ac.save({"w": np.arange(4, dtype=np.int32)}, path, metadata={"author": "me"})
    _, header = _header(path)
    assert header["__metadata__"] == {"author": "me"}
    assert ac.load(path)["w"].tolist() == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="strings to strings"):
        ac.save({}, path, metadata={"n": 1})


def test_optimizer_like_nested_state_round_trip(tmp_path, rng):
    state = {
        "state": {
            0: {"step": 3, "exp_avg": ac.Tensor(rng.standard_normal((2, 3)).astype(np.float32))},
            1: {"step": ac.tensor(3.0), "momentum_buffer": None},
        },
        "param_groups": [
            {
                "lr": 0.001,
                "betas": (0.9, 0.999),
                "eps": float("inf"),
                "amsgrad": False,
                "params": [0, 1],
                "name": "all",
                "nan": float("nan"),
                "np": np.float64(0.5),
            }
        ],
    }
    path = tmp_path / "opt.safetensors"
    ac.save(state, path)
    loaded = ac.load(path)
    assert set(loaded) == {"state", "param_groups"}
    assert list(loaded["state"]) == [0, 1]  # int keys stay ints
    s0 = loaded["state"][0]
    assert s0["step"] == 3 and isinstance(s0["step"], int)
    assert np.array_equal(s0["exp_avg"].data, state["state"][0]["exp_avg"].data)
    assert (
        isinstance(loaded["state"][1]["step"], ac.Tensor) and loaded["state"][1]["step"].item() == 3
    )
    assert loaded["state"][1]["momentum_buffer"] is None
    group = loaded["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and isinstance(group["betas"], tuple)
    assert group["eps"] == float("inf") and np.isnan(group["nan"]) and group["np"] == 0.5
    assert group["params"] == [0, 1] and group["amsgrad"] is False and group["name"] == "all"
    # tensors are stored under dotted paths; the structure lives in the metadata
    _, header = _header(path)
    assert set(header) == {"__metadata__", "state.0.exp_avg", "state.1.step"}
    assert serialization.STRUCTURE_KEY in header["__metadata__"]


def test_reserved_keys_and_colliding_paths_round_trip(tmp_path):
    obj = {"a.b": ac.ones(1), "a": {"b": ac.zeros(1)}, "n": 1, "__tensor__": "x", "t": ac.ones(2)}
    path = tmp_path / "odd.safetensors"
    ac.save(obj, path)
    loaded = ac.load(path)
    assert loaded["a.b"].tolist() == [1] and loaded["a"]["b"].tolist() == [0]
    assert loaded["__tensor__"] == "x" and loaded["n"] == 1 and loaded["t"].tolist() == [1, 1]
    single = tmp_path / "single.safetensors"
    ac.save(ac.arange(3), single)
    assert ac.load(single).tolist() == [0, 1, 2]


def test_unsupported_values_are_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="dtype complex128"):
        ac.save({"c": np.zeros(2, dtype=np.complex128)}, path)
    with pytest.raises(TypeError, match="cannot save an object of type object at 'o'"):
        ac.save({"o": object()}, path)
    with pytest.raises(ValueError, match="__metadata__"):
        ac.save({"__metadata__": np.zeros(1)}, path)
    assert not path.exists()


def test_file_objects(rng):
    buffer = io.BytesIO()
    array = _array(rng, "float32", (3, 2))
    ac.save({"w": ac.Tensor(array), "step": 1}, buffer)
    buffer.seek(0)
    loaded = ac.load(buffer)
    assert np.array_equal(loaded["w"].data, array) and loaded["step"] == 1


def test_device_argument(tmp_path):
    path = tmp_path / "d.safetensors"
    ac.save({"x": ac.ones(1)}, path)
    assert ac.load(path, device="cpu")["x"].device == "cpu"
    assert ac.load(path, map_location="cpu")["x"].device == "cpu"


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    ac.save({"x": ac.ones(2)}, path)
    original = path.read_bytes()

    def broken(out, header, tensors):
        out.write(header[:5])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write", broken)
    with pytest.raises(OSError, match="disk full"):
        ac.save({"x": ac.zeros(2)}, path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_saved_file_has_default_permissions(tmp_path):
    path = tmp_path / "p.safetensors"
    ac.save({}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------- broken files
@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    ac.save({"w": ac.ones(4, 3), "b": ac.zeros(3)}, path)
    return path


def _rewrite(path, header, data=None):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    data = raw[8 + n :] if data is None else data
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize("cut", [3, 20, -1, -13])
def test_truncated_file_is_reported_with_its_name(good_file, cut):
    raw = good_file.read_bytes()
    good_file.write_bytes(raw[:cut])
    with pytest.raises(ValueError, match=r"good\.safetensors.*truncated"):
        ac.load(good_file)
    with pytest.raises(ValueError, match="truncated"):
        ac.load(io.BytesIO(raw[:cut]))


def test_extra_bytes_are_reported(good_file):
    good_file.write_bytes(good_file.read_bytes() + b"\0" * 4)
    with pytest.raises(ValueError, match="4 bytes after the last tensor"):
        ac.load(good_file)


def test_header_that_does_not_match_the_data(good_file):
    _, header = _header(good_file)
    header["w"]["shape"] = [4, 4]
    _rewrite(good_file, header)
    with pytest.raises(ValueError, match=r"'w' \(F32, shape \(4, 4\)\) needs 64 bytes"):
        ac.load(good_file)


def test_overlapping_or_gapped_offsets(good_file):
    _, header = _header(good_file)
    header["b"]["data_offsets"] = [40, 52]
    header["w"]["data_offsets"] = [0, 48]
    _rewrite(good_file, header)
    with pytest.raises(ValueError, match="back to back"):
        ac.load(good_file)


@pytest.mark.parametrize("code", ["BF16", "F8_E4M3", "U16", "C64"])
def test_unsupported_dtypes_are_refused_clearly(good_file, code):
    _, header = _header(good_file)
    header["b"]["dtype"] = code
    _rewrite(good_file, header)
    with pytest.raises(
        ValueError, match=f"'b' has dtype {code}, which auto_compyute does not support"
    ):
        ac.load(good_file)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b"{not json", "not valid JSON"),
        (b'{"x": {"dtype": "F32"}}', "needs 'dtype', 'shape' and 'data_offsets'"),
        (b'{"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}', "invalid shape"),
        (b'{"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}', "invalid data_offsets"),
        (b'{"__metadata__": {"a": 1}}', "strings to strings"),
    ],
)
def test_malformed_headers(tmp_path, header, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match=message):
        ac.load(path)


def test_huge_header_length(tmp_path):
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ValueError, match="implausibly large"):
        ac.load(path)


def test_invalid_bool_bytes(tmp_path):
    path = tmp_path / "bool.safetensors"
    ac.save({"m": np.array([True, False])}, path)
    raw = bytearray(path.read_bytes())
    raw[-1] = 7
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="other than 0 and 1"):
        ac.load(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        ac.load("/nonexistent/x.safetensors")
