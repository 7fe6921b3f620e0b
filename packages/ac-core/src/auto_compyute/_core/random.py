"""The global random number generator behind ``rand``, ``randn``, dropout and friends."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the global generator so that runs are reproducible."""
    global _generator
    _generator = np.random.default_rng(seed)


def seed() -> int:
    """Seed the global generator from fresh OS entropy and return the seed used."""
    value = int(np.random.default_rng().integers(2**63))
    manual_seed(value)
    return value


def get_generator() -> np.random.Generator:
    """Return the global NumPy generator (random arrays are drawn on the CPU, then moved)."""
    return _generator


set_random_seed = manual_seed
