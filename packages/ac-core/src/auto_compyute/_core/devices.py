"""Devices and the registry of array backends.

A backend is a tiny object (see ``Backend``): a name, its array module (``xp``), the
array type it owns and how to move arrays to and from NumPy. ``cpu`` (NumPy) is built
in; other packages register more through the entry-point group
``auto_compyute.backends``, which is read from package metadata without importing
anything until a device of that name is first asked for.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from auto_compyute._core.tensor import Tensor

ENTRY_POINT_GROUP = "auto_compyute.backends"
# Devices that other packages of the project provide, and the package to install for them.
KNOWN_PROVIDERS = {"cuda": "ac-cuda"}


class Backend(Protocol):
    """What a device backend provides. A plug-in exposes one such object as its entry point."""

    name: str
    xp: Any  # the array module: numpy, cupy, ...
    array_type: type

    def is_available(self) -> bool: ...
    def device_count(self) -> int: ...
    def device_index(self, array: Any) -> int: ...
    def from_numpy(self, array: np.ndarray, index: int) -> Any: ...
    def to_numpy(self, array: Any) -> np.ndarray: ...


class CPUBackend:
    """The built-in NumPy backend."""

    name: str = "cpu"
    xp: Any = np
    array_type: type = np.ndarray

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 1

    def device_index(self, array: Any) -> int:
        return 0

    def from_numpy(self, array: np.ndarray, index: int) -> np.ndarray:
        return array

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)


_backends: dict[str, Backend] = {"cpu": CPUBackend()}
_by_array_type: dict[type, Backend] = {np.ndarray: _backends["cpu"]}
_lock = threading.Lock()


def _plugin_names() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_backend(name: str) -> Backend:
    """Return the backend called ``name``, loading its plug-in on first use."""
    backend = _backends.get(name)
    if backend is not None:
        return backend
    with _lock:
        if name not in _backends:
            plugins = _plugin_names()
            if name not in plugins:
                if name in KNOWN_PROVIDERS:
                    raise RuntimeError(
                        f"device '{name}' needs {name.upper()} support, which is not installed: "
                        f"the '{KNOWN_PROVIDERS[name]}' package, from the AutoCompyute "
                        f"repository (`pip install ./packages/{KNOWN_PROVIDERS[name]}`)"
                    )
                known = ", ".join(sorted({"cpu", *plugins, *KNOWN_PROVIDERS}))
                raise ValueError(f"unknown device type '{name}'; known device types: {known}")
            backend = plugins[name].load()
            _backends[name] = backend
            _by_array_type[backend.array_type] = backend
    return _backends[name]


def is_backend_installed(name: str) -> bool:
    """Return True if a backend called ``name`` is built in or provided by an installed package."""
    return name in _backends or name in _plugin_names()


class Device:
    """Where a tensor's data lives: a device type (``"cpu"``, ``"cuda"``) and an index.

    Args:
        spec: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or another ``Device``.
        index: The device index, if not given in ``spec``.
    """

    __slots__ = ("index", "type")
    type: str
    index: int

    def __init__(self, spec: str | Device = "cpu", index: int | None = None) -> None:
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"expected a device name such as 'cpu' or 'cuda:0', got {spec!r}")
        name, _, number = spec.partition(":")
        if number:
            if not number.isdigit() or index is not None:
                raise ValueError(f"invalid device '{spec}'")
            index = int(number)
        self.type = name
        self.index = 0 if index is None else index

    @property
    def backend(self) -> Backend:
        """The backend that stores this device's arrays."""
        return get_backend(self.type)

    @property
    def xp(self) -> Any:
        """The array module (``numpy`` or ``cupy``) of this device."""
        return get_backend(self.type).xp

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device('{self}')"


CPU = Device("cpu")
device = Device
# Where factories (``zeros``, ``rand``, ``tensor``, ...) put tensors when no device is given;
# None stands for the CPU and keeps the factories from resolving a device at all.
default_device: Device | None = None


def to_device(value: str | Device | None) -> Device:
    """Turn a device name or ``Device`` (``None``: the CPU) into a ``Device`` that exists."""
    if value is None:
        return CPU
    result = value if isinstance(value, Device) else Device(value)
    if result.type == "cpu":
        return CPU
    backend = get_backend(result.type)
    if not backend.is_available():
        raise RuntimeError(
            f"device '{result}' was asked for, but no {result.type} device is present"
        )
    if result.index >= backend.device_count():
        raise RuntimeError(
            f"device '{result}' does not exist: "
            f"{backend.device_count()} {result.type} device(s) present"
        )
    return result


def set_default_device(device: str | Device | None) -> None:
    """Make factories (``zeros``, ``rand``, ``tensor``, ``arange``, ...) create tensors on
    ``device`` when none is given; None restores the CPU. ``*_like`` functions still follow
    their input, and ``Tensor(...)`` itself is not affected."""
    global default_device
    target = None if device is None else to_device(device)
    default_device = None if target == CPU else target


def get_default_device() -> Device:
    """The device factories create tensors on when none is given (``set_default_device``)."""
    return CPU if default_device is None else default_device


def device_of(array: Any) -> Device:
    """The device that holds ``array``."""
    if type(array) is np.ndarray:
        return CPU
    backend = _by_array_type.get(type(array))
    if backend is None:
        raise TypeError(f"no device backend owns arrays of type {type(array).__name__}")
    return Device(backend.name, backend.device_index(array))


def get_array_module(array: Any) -> Any:
    """The array module (``numpy``, ``cupy``, ...) that works on ``array``."""
    if type(array) is np.ndarray:
        return np
    backend = _by_array_type.get(type(array))
    return np if backend is None else backend.xp


def filled(xp: Any, shape: int | tuple[int, ...], value: float, dtype: Any) -> Any:
    """``xp.full(shape, value, dtype)``.

    NOTE: NumPy's ``full`` and ``ones`` are Python code; inside a training step, where that
    code is out of the caches, a small one took about 12 us, ``empty`` and ``fill`` 1-2 us.
    """
    array = xp.empty(shape, dtype=dtype)
    array.fill(value)
    return array


def move_array(array: Any, target: Device) -> Any:
    """Copy ``array`` to ``target`` (no copy when it is already there)."""
    source = device_of(array)
    if source == target:
        return array
    host = source.backend.to_numpy(array)
    return target.backend.from_numpy(host, target.index)


def check_same_device(tensors: Sequence[Tensor]) -> None:
    """Raise if the tensors do not all live on one device, naming each tensor's device."""
    for t in tensors:
        if type(t.data) is not np.ndarray:
            break
    else:
        return
    devices = [device_of(t.data) for t in tensors]
    if any(d != devices[0] for d in devices):
        names = ", ".join(f"input {i} on {d}" for i, d in enumerate(devices))
        raise RuntimeError(f"expected all tensors on one device, got {names}")


def get_available_devices() -> list[Device]:
    """All devices usable now: the CPU and every present device of installed backends."""
    result = [CPU]
    for name in sorted(_plugin_names()):
        try:
            backend = get_backend(name)
            if backend.is_available():
                result.extend(Device(name, i) for i in range(backend.device_count()))
        except Exception:
            continue
    return result
