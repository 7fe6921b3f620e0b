"""Checkpoints: ``ac.save(obj, path)`` and ``ac.load(path)`` in the safetensors format.

The format (https://github.com/huggingface/safetensors), read and written here with
NumPy alone (no pickle, so loading a file never runs code):

- 8 bytes: ``N``, the length of the header, an unsigned little-endian 64-bit integer;
- ``N`` bytes: a UTF-8 JSON object ``{name: {"dtype": "F32", "shape": [2, 3],
  "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}``, padded with spaces;
- the tensors' bytes, C order, little-endian, back to back; offsets count from the
  first byte after the header.

A flat ``{str: tensor}`` dict (a module's ``state_dict()``) is stored as exactly that,
so files are interchangeable with ``safetensors.torch.save_file`` / ``load_file``.

Any other object (an optimizer's ``state_dict()``: ``{"state": {0: {"grad_sum": t,
"step": 3}}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}``) is stored as:

- every tensor (or NumPy array) in it under its dotted path (``state.0.grad_sum``; a
  ``#1``, ``#2``, ... suffix if two paths would collide), and
- the structure as JSON in ``__metadata__["auto_compyute.structure"]``, where a tensor
  is ``{"__tensor__": name}``, a dict with non-string (or reserved) keys is
  ``{"__dict__": [[key, value], ...]}`` (so int keys stay ints), a tuple is
  ``{"__tuple__": [...]}``, a non-finite float is ``{"__float__": "nan"}``, and strings,
  numbers, bools, None, lists and string-keyed dicts are plain JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from auto_compyute._core.devices import Device, to_device
from auto_compyute._core.tensor import Tensor

__all__ = ["load", "save"]

DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("bool"),
    "U8": np.dtype("<u1"),
    "I8": np.dtype("<i1"),
    "I16": np.dtype("<i2"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
STRUCTURE_KEY = "auto_compyute.structure"
_MAX_HEADER = 100_000_000  # the limit of the reference implementation
_RESERVED = frozenset({"__tensor__", "__dict__", "__tuple__", "__float__"})

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------- save
def save(obj: Any, f: PathLike | BinaryIO, metadata: dict[str, str] | None = None) -> None:
    """Write a state dict (or any nest of dicts, lists and tensors) to a safetensors file.

    The file is written to a temporary file next to ``f`` and then renamed, so a crash
    never leaves a half-written checkpoint under the final name.

    Args:
        obj: A module's ``state_dict()``, an optimizer's ``state_dict()``, or any nest of
            dicts, lists and tuples holding tensors, NumPy arrays, numbers, strings,
            bools and None.
        f: A file path, or a binary file object to write to.
        metadata: Extra string pairs to store in the header's ``__metadata__``.

    Example:
        >>> ac.save(model.state_dict(), "model.safetensors")
        >>> model.load_state_dict(ac.load("model.safetensors"))
    """
    tensors: dict[str, np.ndarray] = {}
    meta = dict(metadata or {})
    for key, value in meta.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata must map strings to strings, got {key!r}: {value!r}")
    if _is_flat(obj):
        for name, value in obj.items():
            tensors[name] = _host_array(value, name)
    else:
        if STRUCTURE_KEY in meta:
            raise ValueError(f"the metadata key '{STRUCTURE_KEY}' is reserved")
        meta[STRUCTURE_KEY] = json.dumps(_encode(obj, "", tensors), allow_nan=False)
    header = _header(tensors, meta)
    if not isinstance(f, str | os.PathLike):
        _write(f, header, tensors)
        return
    path = os.fspath(f)
    directory, base = os.path.split(os.path.abspath(path))
    # NOTE: open(..., "xb") rather than mkstemp, whose files are private (mode 0600).
    temp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as out:
            _write(out, header, tensors)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _is_flat(obj: Any) -> bool:
    return isinstance(obj, dict) and all(
        isinstance(k, str) and isinstance(v, Tensor | np.ndarray) for k, v in obj.items()
    )


def _host_array(value: Tensor | np.ndarray, name: str) -> np.ndarray:
    array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if name == "__metadata__":
        raise ValueError("a tensor cannot be named '__metadata__' (reserved by the format)")
    if array.dtype.newbyteorder("=") not in _CODES:
        supported = ", ".join(str(d.newbyteorder("=")) for d in DTYPES.values())
        raise TypeError(
            f"cannot save tensor '{name}' of dtype {array.dtype}; supported dtypes: {supported}"
        )
    return array


def _encode(obj: Any, path: str, tensors: dict[str, np.ndarray]) -> Any:
    """The JSON form of ``obj``; its tensors go into ``tensors`` under dotted paths."""
    if isinstance(obj, Tensor | np.ndarray):
        name, n = path or "tensor", 0
        while name in tensors or name == "__metadata__":
            n += 1
            name = f"{path}#{n}"
        tensors[name] = _host_array(obj, name)
        return {"__tensor__": name}
    if obj is None or isinstance(obj, bool | str | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), path, tensors)

    def child(key: Any) -> str:
        return f"{path}.{key}" if path else str(key)

    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not _RESERVED.intersection(obj):
            return {k: _encode(v, child(k), tensors) for k, v in obj.items()}
        pairs = []
        for k, v in obj.items():
            if k is not None and not isinstance(k, str | int | float | bool):
                raise TypeError(f"cannot save a dict key of type {type(k).__name__} ({k!r})")
            pairs.append([k, _encode(v, child(k), tensors)])
        return {"__dict__": pairs}
    if isinstance(obj, list):
        return [_encode(v, child(i), tensors) for i, v in enumerate(obj)]
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, child(i), tensors) for i, v in enumerate(obj)]}
    raise TypeError(
        f"cannot save an object of type {type(obj).__name__} at '{path or '<root>'}'; "
        "checkpoints hold tensors, arrays, numbers, strings, bools, None, lists, tuples and dicts"
    )


def _header(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The length-prefixed, space-padded JSON header for tensors stored back to back in order."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, array in tensors.items():
        header[name] = {
            "dtype": _CODES[array.dtype.newbyteorder("=")],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (-len(text) % 8)  # NOTE: keeps the data 8-byte aligned, as the reference does
    return struct.pack("<Q", len(text)) + text


def _write(out: BinaryIO, header: bytes, tensors: dict[str, np.ndarray]) -> None:
    out.write(header)
    for array in tensors.values():
        little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        out.write(little.reshape(-1).view(np.uint8).data)


# --------------------------------------------------------------------------- load
def load(
    f: PathLike | BinaryIO, map_location: str | Device | None = None, device: Any = None
) -> Any:
    """Read a file written by ``ac.save`` or by any safetensors writer (e.g. PyTorch's).

    The whole header is checked before any tensor is built: a truncated file, a header
    that does not match the data, or an unsupported dtype (BF16, F8, ...) raises
    ``ValueError`` naming the file and the problem.

    Args:
        f: A file path or a binary file object.
        map_location: The device for the tensors (the CPU if None); same as ``device``.
        device: The device for the tensors.

    Returns:
        A flat ``{name: Tensor}`` dict in file order for plain safetensors files, or the
        saved structure (dicts, lists, numbers, ...) with every array as a Tensor.
    """
    target = to_device(device if device is not None else map_location)
    if not isinstance(f, str | os.PathLike):
        name = str(getattr(f, "name", "<file object>"))
        content = f.read()
        entries, metadata, start = _parse_header(content[:8], content, len(content), name)
        arrays = {
            key: _read_array(
                memoryview(content)[start + begin : start + end], dtype, shape, key, name
            )
            for key, (dtype, shape, begin, end) in entries.items()
        }
    else:
        name = os.fspath(f)
        with open(name, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            entries, metadata, start = _parse_header(file.read(8), file, size, name)
            arrays = dict(_read_file(file, entries, start, name))
    tensors = {key: Tensor(array, device=target) for key, array in arrays.items()}
    structure = metadata.get(STRUCTURE_KEY)
    if structure is None:
        return tensors
    try:
        return _decode(json.loads(structure), tensors)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"cannot load '{name}': invalid structure in __metadata__: {error}"
        ) from None


def _parse_header(
    prefix: bytes, source: Any, size: int, name: str
) -> tuple[dict[str, tuple[np.dtype, tuple[int, ...], int, int]], dict[str, str], int]:
    """Read and validate the header: ``(entries by name, metadata, start of the data)``."""

    def fail(problem: str) -> ValueError:
        return ValueError(f"cannot load '{name}' as safetensors: {problem}")

    if len(prefix) < 8:
        raise fail(f"the file has {size} bytes, fewer than the 8-byte header length (truncated?)")
    (length,) = struct.unpack("<Q", prefix)
    if length > _MAX_HEADER:
        raise fail(f"the header length {length} is implausibly large (not a safetensors file?)")
    if 8 + length > size:
        raise fail(
            f"the header needs {length} bytes but the file has only {size - 8} after the length "
            "(truncated)"
        )
    raw = source[8 : 8 + length] if isinstance(source, bytes | bytearray) else source.read(length)
    try:
        header = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise fail(f"the header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise fail("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise fail("__metadata__ must map strings to strings")
    entries: dict[str, tuple[np.dtype, tuple[int, ...], int, int]] = {}
    for key, info in header.items():
        entries[key] = _check_entry(key, info, fail)
    position = 0
    for key, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if begin != position:
            raise fail(
                f"tensor '{key}' starts at byte {begin} of the data, expected {position} "
                "(tensors must be stored back to back)"
            )
        position = end
    data_size = size - 8 - length
    if position > data_size:
        raise fail(
            f"the header describes {position} bytes of tensor data but the file holds only "
            f"{data_size} (truncated)"
        )
    if position < data_size:
        raise fail(
            f"{data_size - position} bytes after the last tensor are not described by the header"
        )
    return entries, metadata, 8 + length


def _check_entry(key: str, info: Any, fail: Any) -> tuple[np.dtype, tuple[int, ...], int, int]:
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise fail(f"entry '{key}' needs 'dtype', 'shape' and 'data_offsets'")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code not in DTYPES:
        raise fail(
            f"tensor '{key}' has dtype {code}, which auto_compyute does not support "
            f"(supported: {', '.join(DTYPES)})"
        )
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise fail(f"tensor '{key}' has an invalid shape {shape!r}")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise fail(f"tensor '{key}' has invalid data_offsets {offsets!r}")
    dtype = DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != expected:
        raise fail(
            f"tensor '{key}' ({code}, shape {tuple(shape)}) needs {expected} bytes but its "
            f"data_offsets {offsets} span {offsets[1] - offsets[0]}"
        )
    return dtype, tuple(shape), offsets[0], offsets[1]


def _read_file(
    file: io.BufferedReader,
    entries: dict[str, tuple[np.dtype, tuple[int, ...], int, int]],
    start: int,
    name: str,
) -> Iterator[tuple[str, np.ndarray]]:
    """Read each tensor straight into a fresh (aligned, writable) array, in header order."""
    for key, (dtype, shape, begin, end) in entries.items():
        array = np.empty(shape, dtype=dtype)
        file.seek(start + begin)
        buffer = array.reshape(-1).view(np.uint8).data
        if file.readinto(buffer) != end - begin:
            raise ValueError(
                f"cannot load '{name}': the file ended inside tensor '{key}' (truncated)"
            )
        yield key, _native(array, key, name)


def _read_array(
    data: memoryview, dtype: np.dtype, shape: tuple[int, ...], key: str, name: str
) -> np.ndarray:
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return _native(array, key, name)


def _native(array: np.ndarray, key: str, name: str) -> np.ndarray:
    if array.dtype == np.bool_ and array.size and array.view(np.uint8).max() > 1:
        raise ValueError(
            f"cannot load '{name}': BOOL tensor '{key}' holds bytes other than 0 and 1"
        )
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _decode(node: Any, tensors: dict[str, Tensor]) -> Any:
    if isinstance(node, list):
        return [_decode(v, tensors) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((tag, value),) = node.items()
        if tag == "__tensor__":
            return tensors[value]
        if tag == "__dict__":
            return {k: _decode(v, tensors) for k, v in value}
        if tag == "__tuple__":
            return tuple(_decode(v, tensors) for v in value)
        if tag == "__float__":
            return float(value)
    return {k: _decode(v, tensors) for k, v in node.items()}
