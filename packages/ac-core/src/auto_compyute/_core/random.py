"""Random number generators: ``ac.Generator`` objects and the global one (``ac.default_generator``)
behind ``rand``, ``randn``, dropout and friends.

Every draw happens on the CPU with a NumPy ``PCG64`` generator; the values then move to the
tensor's device. A generator's state (``get_state``) is a uint8 tensor of ``STATE_SIZE`` bytes,
all little-endian: the 128-bit PCG64 state (bytes 0-15), its 128-bit increment (16-31), the
initial seed as an unsigned 64-bit integer (32-39), NumPy's "has a cached 32-bit value" flag
(40) and that cached value (41-44). It only fits generators of this library (PyTorch's
Mersenne-Twister state is another format).
"""

from __future__ import annotations

import contextlib
import numbers
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from auto_compyute._core.devices import Device, to_device

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor

# NOTE: PyTorch seeds a new ``torch.Generator`` with this constant, so fresh generators agree.
DEFAULT_SEED = 67280421310721
STATE_SIZE = 45
_UINT64 = 2**64 - 1

_generator = np.random.default_rng()
_thread = threading.local()  # ``generator``: the one this thread draws from, if set


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"a seed must be an int, got {type(seed).__name__}")
    value = int(seed)
    if not -(2**63) <= value <= _UINT64:
        raise ValueError(f"a seed must lie in [-2**63, 2**64 - 1], got {value}")
    # NOTE: as PyTorch, negative seeds are read as their unsigned 64-bit two's complement.
    return value & _UINT64


def _fresh_seed() -> int:
    entropy: Any = np.random.SeedSequence().entropy
    return int(entropy) & _UINT64


class Generator:
    """A random number generator with its own state, as ``torch.Generator``.

    Pass it as ``generator=`` to ``rand``, ``randn``, ``normal_`` and the other random
    functions to draw from it instead of the global generator; what it draws does not depend
    on ``ac.manual_seed``. A new generator starts from PyTorch's default seed
    (67280421310721), so two new generators draw the same numbers.

    Args:
        device: The device the generator is meant for (``"cpu"`` by default). Draws always
            happen on the CPU and move to the tensor's device, so this is only recorded.

    Example:
        >>> g = ac.Generator().manual_seed(0)
        >>> a = ac.rand(3, generator=g)
    """

    _rng: np.random.Generator

    def __init__(self, device: str | Device = "cpu") -> None:
        self.device = to_device(device)
        self._seed = DEFAULT_SEED
        self._rng = np.random.default_rng(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (an int in [-2**63, 2**64 - 1]) and return it."""
        self._seed = _check_seed(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed the generator from fresh OS entropy and return the seed used."""
        value = _fresh_seed()
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with."""
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (see the module docstring for its layout)."""
        from auto_compyute._core.tensor import Tensor

        state = self._rng.bit_generator.state
        if state["bit_generator"] != "PCG64":
            raise RuntimeError(f"cannot save the state of a {state['bit_generator']} generator")
        inner = state["state"]
        raw = (
            int(inner["state"]).to_bytes(16, "little")
            + int(inner["inc"]).to_bytes(16, "little")
            + self._seed.to_bytes(8, "little")
            + bytes([int(state["has_uint32"])])
            + int(state["uinteger"]).to_bytes(4, "little")
        )
        return Tensor(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state from ``get_state`` (of this or another generator) and return self."""
        from auto_compyute._core.tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a uint8 Tensor, got {type(new_state).__name__}")
        if new_state.dtype != np.uint8 or new_state.shape != (STATE_SIZE,):
            raise ValueError(
                f"expected a generator state of dtype uint8 and shape ({STATE_SIZE},), got "
                f"dtype {new_state.dtype} and shape {new_state.shape}"
            )
        raw = new_state.numpy().tobytes()
        bits = np.random.PCG64()
        bits.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[0:16], "little"),
                "inc": int.from_bytes(raw[16:32], "little"),
            },
            "has_uint32": raw[40],
            "uinteger": int.from_bytes(raw[41:45], "little"),
        }
        self._seed = int.from_bytes(raw[32:40], "little")
        self._rng = np.random.Generator(bits)
        return self

    def clone_state(self) -> Generator:
        """A new generator on the same device, in the same state."""
        clone = Generator(self.device)
        return clone.set_state(self.get_state())


class _DefaultGenerator(Generator):
    """The global generator: its NumPy generator is this module's ``_generator``, which
    ``get_generator`` returns and activation checkpointing swaps."""

    def __init__(self) -> None:
        self.device = to_device("cpu")
        self.seed()

    @property
    def _rng(self) -> np.random.Generator:
        return _generator

    @_rng.setter
    def _rng(self, value: np.random.Generator) -> None:
        global _generator
        _generator = value


default_generator: Generator = _DefaultGenerator()
# What ``generator=`` takes: an ``ac.Generator``, a NumPy generator, or None (the global one).
GeneratorLike = Generator | np.random.Generator | None


def manual_seed(seed: int) -> Generator:
    """Seed the global generator so that runs are reproducible; return it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from fresh OS entropy and return the seed used."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state as a uint8 tensor (``Generator.get_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the global generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


def get_generator() -> np.random.Generator:
    """Return the NumPy generator that draws come from (random arrays are drawn on the CPU,
    then moved): the global one, or the one this thread draws from (``drawing_from``)."""
    own = getattr(_thread, "generator", None)
    return _generator if own is None else own


@contextlib.contextmanager
def drawing_from(generator: np.random.Generator) -> Iterator[None]:
    """Make this thread's draws without an explicit generator (``randn``, dropout, ...) come
    from ``generator`` meanwhile. A DataLoader's worker thread draws each batch this way
    from a generator seeded for that batch, so that seeded runs repeat whichever thread
    fetches which batch."""
    previous = getattr(_thread, "generator", None)
    _thread.generator = generator
    try:
        yield
    finally:
        _thread.generator = previous


def numpy_generator(generator: GeneratorLike = None) -> np.random.Generator:
    """The NumPy generator to draw from: the global one for None, an ``ac.Generator``'s own,
    or a ``numpy.random.Generator`` as it is."""
    if generator is None:
        return get_generator()
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"generator must be an ac.Generator, a numpy.random.Generator or None, "
        f"got {type(generator).__name__}"
    )


set_random_seed = manual_seed
