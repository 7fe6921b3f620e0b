"""Weight initialisation, in place: ``nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))``.

The formulas are PyTorch's (``torch.nn.init``). Values are drawn on the CPU from
``ac``'s global generator (seeded by ``ac.manual_seed``) or from the ``generator``
argument, converted to the tensor's dtype and written into it under ``no_grad``; the
tensor object (a ``Parameter``, say) stays the same.

For a weight of shape ``(out, in, *kernel)``, ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)`` (linear and convolution weights alike).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.random import Generator, numpy_generator
from auto_compyute._core.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant",
    "constant_",
    "dirac",
    "dirac_",
    "eye",
    "eye_",
    "kaiming_normal",
    "kaiming_normal_",
    "kaiming_uniform",
    "kaiming_uniform_",
    "normal",
    "normal_",
    "ones_",
    "orthogonal",
    "orthogonal_",
    "sparse",
    "sparse_",
    "trunc_normal_",
    "uniform",
    "uniform_",
    "xavier_normal",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_GAIN = frozenset(
    {
        "linear",
        "identity",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    }
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    ========================  ================================
    nonlinearity              gain
    ========================  ================================
    linear, conv*, sigmoid    1
    tanh                      5/3
    relu                      sqrt(2)
    leaky_relu                sqrt(2 / (1 + negative_slope²))
    selu                      3/4
    ========================  ================================

    Args:
        nonlinearity: The name of the function, e.g. ``"relu"``.
        param: The negative slope for ``"leaky_relu"`` (0.01 if None).
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(got shape {tensor.shape})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


calculate_fan_in_and_fan_out = _calculate_fan_in_and_fan_out


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


_skip_depth = 0


@contextmanager
def _skipped() -> Iterator[None]:
    """Make every initialiser here leave its tensor as it is (for ``nn.utils.skip_init``)."""
    global _skip_depth
    _skip_depth += 1
    try:
        yield
    finally:
        _skip_depth -= 1


def _generator(generator: Generator | np.random.Generator | None) -> np.random.Generator:
    return numpy_generator(generator)


def _write(tensor: Tensor, values: Any) -> Tensor:
    """Copy ``values`` (a CPU array or a number) into ``tensor`` in place, untracked."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a Tensor to initialise, got {type(tensor).__name__}")
    if _skip_depth:
        return tensor
    with no_grad():
        tensor.copy_(np.asarray(values).astype(tensor.dtype, copy=False))
    return tensor


def uniform_(
    tensor: Tensor,
    a: float = 0.0,
    b: float = 1.0,
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """Fill ``tensor`` with values drawn from the uniform distribution U(a, b).

    Args:
        tensor: The tensor to fill, in place.
        a: The lower bound.
        b: The upper bound.
        generator: An ``ac.Generator`` or a NumPy generator to draw from instead of
            ``ac``'s global one.

    Returns:
        ``tensor``
    """
    if a > b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    if _skip_depth:
        return tensor
    return _write(tensor, _generator(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """Fill ``tensor`` with values drawn from the normal distribution N(mean, std²).

    Args:
        tensor: The tensor to fill, in place.
        mean: The mean.
        std: The standard deviation (>= 0).
        generator: An ``ac.Generator`` or a NumPy generator to draw from instead of
            ``ac``'s global one.

    Returns:
        ``tensor``
    """
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0, got {std}")
    if _skip_depth:
        return tensor
    return _write(tensor, _generator(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """Fill ``tensor`` from N(mean, std²) truncated to ``[a, b]`` (bounds in absolute values).

    Values outside ``[a, b]`` are redrawn (exact rejection sampling).

    Args:
        tensor: The tensor to fill, in place.
        mean: The mean of the normal distribution.
        std: Its standard deviation (> 0).
        a: The lower cut-off.
        b: The upper cut-off.
        generator: An ``ac.Generator`` or a NumPy generator to draw from instead of
            ``ac``'s global one.

    Returns:
        ``tensor``
    """
    if std <= 0 or a >= b:
        raise ValueError(f"trunc_normal_ expects std > 0 and a < b, got std={std}, a={a}, b={b}")
    lo, hi = (a - mean) / std, (b - mean) / std
    accept = 0.5 * (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2)))
    if accept < 1e-6:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds only {accept:.1e} of N({mean}, {std}²); "
            "move the bounds closer to the mean"
        )
    if _skip_depth:
        return tensor
    rng = _generator(generator)
    size = math.prod(tensor.shape)
    values = np.empty(size)
    filled = 0
    while filled < size:
        # NOTE: draw enough for all remaining values at once (on average), capped for memory.
        draws = rng.standard_normal(min(int((size - filled) / accept * 1.1) + 16, 1 << 22))
        kept = draws[(draws >= lo) & (draws <= hi)][: size - filled]
        values[filled : filled + kept.size] = kept
        filled += kept.size
    return _write(tensor, (values * std + mean).reshape(tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros."""
    return _write(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones."""
    return _write(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D ``tensor`` with the identity matrix (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {tensor.shape}")
    return _write(tensor, np.eye(tensor.shape[0], tensor.shape[1]))


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | np.random.Generator | None = None
) -> Tensor:
    """Glorot uniform: U(-bound, bound) with ``bound = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | np.random.Generator | None = None
) -> Tensor:
    """Glorot normal: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        warnings.warn("initializing a zero-element tensor is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``.

    ``Linear`` and the convolutions use ``a=math.sqrt(5)``, which gives
    ``bound = 1 / sqrt(fan_in)``.

    Args:
        tensor: The weight to fill, in place.
        a: The negative slope of the leaky ReLU that follows (for ``nonlinearity="leaky_relu"``).
        mode: ``"fan_in"`` keeps the variance of activations, ``"fan_out"`` that of gradients.
        nonlinearity: The function that follows, for ``calculate_gain``.
        generator: An ``ac.Generator`` or a NumPy generator to draw from instead of
            ``ac``'s global one.

    Returns:
        ``tensor``
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std²), ``std = gain / sqrt(fan)``; arguments as in ``kaiming_uniform_``."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | np.random.Generator | None = None
) -> Tensor:
    """Fill ``tensor`` with a (semi-)orthogonal matrix times ``gain``.

    The tensor is viewed as ``(shape[0], prod(shape[1:]))``; its rows (or columns, if
    there are fewer) are orthonormal. Drawn as the Q factor of a Gaussian matrix with
    the signs fixed so that it is uniformly distributed.
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_ needs a tensor with at least 2 dimensions, got {tensor.shape}"
        )
    if tensor.numel() == 0 or _skip_depth:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution then
    passes its input through (channel ``i`` to channel ``i`` in each of ``groups``).

    Args:
        tensor: A weight of shape (out, in, *kernel), filled in place.
        groups: The number of groups; ``out`` must be divisible by it.

    Returns:
        ``tensor``
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_ supports tensors with 3, 4, or 5 dimensions only, got shape {tensor.shape}"
        )
    if tensor.shape[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups={groups}")
    per_group = tensor.shape[0] // groups
    channels = np.arange(min(per_group, tensor.shape[1]))
    values = np.zeros(tensor.shape)
    rows = (np.arange(groups)[:, None] * per_group + channels).reshape(-1)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    index: tuple[Any, ...] = (rows, np.tile(channels, groups), *centre)
    values[index] = 1
    return _write(tensor, values)


def sparse_(
    tensor: Tensor,
    sparsity: float,
    std: float = 0.01,
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """Fill a 2-D ``tensor`` from N(0, std²) with a fraction ``sparsity`` of each column zero.

    ``ceil(sparsity * rows)`` entries of every column, picked at random, are set to 0
    (Martens, 2010).

    Args:
        tensor: The 2-D tensor to fill, in place.
        sparsity: The fraction of each column to zero, in [0, 1].
        std: The standard deviation of the non-zero values.
        generator: An ``ac.Generator`` or a NumPy generator to draw from instead of
            ``ac``'s global one.

    Returns:
        ``tensor``
    """
    if tensor.ndim != 2:
        raise ValueError(f"sparse_ supports 2-D tensors only, got shape {tensor.shape}")
    if _skip_depth:
        return tensor
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    rng = _generator(generator)
    values = rng.normal(0.0, std, (rows, cols))
    zero_rows = np.argsort(rng.random((cols, rows)), axis=1)[:, :num_zeros]
    values[zero_rows, np.arange(cols)[:, None]] = 0.0
    return _write(tensor, values)


def _deprecated(new: Callable[..., Tensor]) -> Callable[..., Tensor]:
    old_name = new.__name__[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new.__name__}`.",
            FutureWarning,
            stacklevel=2,
        )
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated alias of ``{new.__name__}`` (warns)."
    return deprecated_init


# NOTE: PyTorch's deprecated spellings without the trailing underscore.
uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
