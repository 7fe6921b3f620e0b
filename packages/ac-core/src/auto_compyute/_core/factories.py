"""Functions that create tensors: from data, filled with constants, ranges and random values."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from auto_compyute._core import devices, dtypes
from auto_compyute._core.autograd import accepts_requires_grad
from auto_compyute._core.devices import Device
from auto_compyute._core.random import GeneratorLike, numpy_generator
from auto_compyute._core.tensor import Tensor, _shape_args

DeviceLike = str | Device | None


def _make(array: np.ndarray, dtype: Any, device: DeviceLike, req_grad: bool) -> Tensor:
    if device is None:
        device = devices.default_device
    return Tensor(array, dtype=dtype, device=device, req_grad=req_grad)


@accepts_requires_grad
def tensor(
    data: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested sequence, array or Tensor)."""
    if isinstance(data, Tensor):
        data = data.data
    copied = data.copy() if hasattr(data, "copy") and hasattr(data, "dtype") else data
    return _make(copied, dtype, device, req_grad)


def _float(dtype: Any) -> np.dtype:
    return dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


@accepts_requires_grad
def zeros(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A tensor of zeros, e.g. ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape_args(shape), _float(dtype)), None, device, req_grad)


@accepts_requires_grad
def ones(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A tensor of ones."""
    return _make(np.ones(_shape_args(shape), _float(dtype)), None, device, req_grad)


@accepts_requires_grad
def empty(
    *shape: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A tensor with unspecified values."""
    return _make(np.empty(_shape_args(shape), _float(dtype)), None, device, req_grad)


@accepts_requires_grad
def full(
    shape: Any,
    fill_value: Any,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value if not given)."""
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.infer_dtype(fill_value)
    return _make(np.full(_shape_args((shape,)), fill_value, dtype), None, device, req_grad)


def _like(x: Tensor, dtype: Any, device: DeviceLike) -> dict[str, Any]:
    return {
        "dtype": dtype if dtype is not None else x.dtype,
        "device": device if device is not None else x.device,
    }


@accepts_requires_grad
def zeros_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Zeros with the shape (and by default dtype and device) of ``x``."""
    return zeros(x.shape, **_like(x, dtype, device), req_grad=req_grad)


@accepts_requires_grad
def ones_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """Ones with the shape (and by default dtype and device) of ``x``."""
    return ones(x.shape, **_like(x, dtype, device), req_grad=req_grad)


@accepts_requires_grad
def empty_like(
    x: Tensor, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """An uninitialised tensor with the shape (and by default dtype and device) of ``x``."""
    return empty(x.shape, **_like(x, dtype, device), req_grad=req_grad)


@accepts_requires_grad
def full_like(
    x: Tensor, fill_value: Any, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """``fill_value`` with the shape (and by default dtype and device) of ``x``."""
    return full(x.shape, fill_value, **_like(x, dtype, device), req_grad=req_grad)


@accepts_requires_grad
def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """Values from ``start`` (included) to ``end`` (excluded) by ``step``; ``arange(n)``: 0..n-1."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if dtype is None:
        is_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), None, device, req_grad)


@accepts_requires_grad
def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    return _make(np.linspace(start, end, steps, dtype=_float(dtype)), None, device, req_grad)


@accepts_requires_grad
def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """``steps`` values from ``base**start`` to ``base**end``, evenly spaced in the exponent."""
    values = np.logspace(start, end, steps, base=base, dtype=np.float64).astype(_float(dtype))
    return _make(values, None, device, req_grad)


def tril_indices(
    row: int, col: int, offset: int = 0, dtype: Any = None, device: DeviceLike = None
) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col``
    matrix, on and below diagonal ``offset``, row by row."""
    return _triangle(np.tril_indices(row, offset, col), dtype, device)


def triu_indices(
    row: int, col: int, offset: int = 0, dtype: Any = None, device: DeviceLike = None
) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col``
    matrix, on and above diagonal ``offset``, row by row."""
    return _triangle(np.triu_indices(row, offset, col), dtype, device)


def _triangle(indices: tuple[np.ndarray, np.ndarray], dtype: Any, device: DeviceLike) -> Tensor:
    stacked = np.stack(indices).astype(dtypes.to_dtype(dtype or dtypes.int64))
    return _make(stacked, None, device, False)


@accepts_requires_grad
def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """A 2-D tensor with ones on the diagonal and zeros elsewhere."""
    return _make(np.eye(n, m, dtype=_float(dtype)), None, device, req_grad)


@accepts_requires_grad
def rand(
    *shape: Any,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """Uniform random values in [0, 1) (from ``generator``, an ``ac.Generator``, if given)."""
    dtype = _float(dtype)
    array = numpy_generator(generator).random(_shape_args(shape), dtype=np.float64).astype(dtype)
    return _make(array, None, device, req_grad)


@accepts_requires_grad
def randn(
    *shape: Any,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """Standard normal random values (from ``generator``, an ``ac.Generator``, if given)."""
    dtype = _float(dtype)
    array = (
        numpy_generator(generator)
        .standard_normal(_shape_args(shape), dtype=np.float64)
        .astype(dtype)
    )
    return _make(array, None, device, req_grad)


@accepts_requires_grad
def rand_like(
    x: Tensor,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Uniform random values with the shape (and by default dtype and device) of ``x``."""
    return rand(x.shape, generator=generator, **_like(x, dtype, device), req_grad=req_grad)


@accepts_requires_grad
def randn_like(
    x: Tensor,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Standard normal random values with the shape (and by default dtype and device) of ``x``."""
    return randn(x.shape, generator=generator, **_like(x, dtype, device), req_grad=req_grad)


def randint(
    low: int = 0,
    high: Any = None,
    size: Any = (),
    *,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
) -> Tensor:
    """Random integers in ``[low, high)``; ``randint(high, size)`` draws from ``[0, high)``
    (from ``generator``, an ``ac.Generator``, if given)."""
    if high is None:
        low, high = 0, low
    elif isinstance(high, tuple | list):  # randint(high, size), as in PyTorch
        low, high, size = 0, low, high
    if low >= high:
        raise ValueError(f"randint needs low < high, got {low} and {high}")
    if isinstance(size, int):
        size = (size,)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    array = numpy_generator(generator).integers(low, high, size).astype(dtype)
    return _make(array, None, device, False)


def randint_like(
    x: Tensor,
    low: int = 0,
    high: int | None = None,
    dtype: Any = None,
    device: DeviceLike = None,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Random integers in ``[low, high)`` with the shape (and by default dtype and device) of
    ``x``; ``randint_like(x, high)`` draws from ``[0, high)``."""
    if high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint_like needs low < high, got {low} and {high}")
    values = numpy_generator(generator).integers(low, high, x.shape)
    return _make(values, req_grad=False, **_like(x, dtype, device))


def poisson(input: Tensor, generator: GeneratorLike = None) -> Tensor:
    """A draw from the Poisson distribution of rate ``input`` (non-negative) per element, in
    the input's dtype, without gradient."""
    rates = np.asarray(input.numpy(), dtype=np.float64)
    if not (rates >= 0).all():
        raise ValueError("poisson needs non-negative rates")
    draws = numpy_generator(generator).poisson(rates)
    return Tensor(draws.astype(input.dtype), device=input.device)


def randperm(
    n: int, *, generator: GeneratorLike = None, dtype: Any = None, device: DeviceLike = None
) -> Tensor:
    """A random permutation of ``0 .. n-1`` (from ``generator``, an ``ac.Generator``, if
    given)."""
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    array = numpy_generator(generator).permutation(n).astype(dtype)
    return _make(array, None, device, False)


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator: GeneratorLike = None
) -> Tensor:
    """Draw category indices with probabilities proportional to the rows of ``input``.

    Args:
        input: Non-negative weights, ``(C,)`` or ``(N, C)``; each row needs a positive sum.
        num_samples: Draws per row; at most C without replacement.
        replacement: Whether a category may be drawn more than once per row.
        generator: An ``ac.Generator`` to draw from instead of the global one.

    Returns:
        int64 indices, ``(num_samples,)`` or ``(N, num_samples)``, on the input's device.
    """
    weights = np.asarray(input.numpy(), dtype=np.float64)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial needs weights of shape (C,) or (N, C), got {input.shape}")
    rows = weights.reshape(-1, weights.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any() or not (rows.sum(1) > 0).all():
        raise ValueError("multinomial needs finite, non-negative weights with a positive sum")
    if not replacement and num_samples > int((rows > 0).sum(1).min()):
        raise ValueError(
            f"multinomial cannot draw {num_samples} samples without replacement from "
            f"{int((rows > 0).sum(1).min())} categories of positive weight"
        )
    rng = numpy_generator(generator)
    if replacement:  # inverse CDF; dividing by the total makes the last step exactly 1
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        draws = rng.random((len(rows), num_samples))
        picks = np.stack(
            [np.searchsorted(c, d, side="right") for c, d in zip(cdf, draws, strict=True)]
        )
    else:  # NOTE: the top keys log(w) + Gumbel noise are a draw without replacement
        with np.errstate(divide="ignore"):
            keys = np.log(rows) + rng.gumbel(size=rows.shape)
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.reshape(*weights.shape[:-1], num_samples).astype(np.int64)
    return Tensor(picks, device=input.device)


def bernoulli(input: Tensor, p: float | None = None, *, generator: GeneratorLike = None) -> Tensor:
    """0 or 1 per element, 1 with probability ``input`` (or ``p``), in the input's dtype
    (from ``generator``, an ``ac.Generator``, if given)."""
    probs = input.numpy() if p is None else np.full(input.shape, p)
    draws = numpy_generator(generator).random(input.shape) < probs
    return Tensor(draws.astype(input.dtype), device=input.device)


def normal(
    mean: Any,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
) -> Tensor:
    """Normal random values: ``mean + std * randn``, with ``mean`` and ``std`` numbers or
    tensors (broadcast); ``size`` gives the shape when both are numbers. ``generator`` (an
    ``ac.Generator``) is drawn from instead of the global generator if given."""
    means = mean.numpy() if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    stds = std.numpy() if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    if (stds < 0).any():
        raise ValueError("normal needs std >= 0")
    shape = np.broadcast_shapes(means.shape, stds.shape) if size is None else _shape_args((size,))
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    if dtype is None:
        dtype = like.dtype if like is not None else dtypes.get_default_dtype()
    if device is None and like is not None:
        device = like.device
    values = means + stds * numpy_generator(generator).standard_normal(shape)
    return _make(values.astype(dtypes.to_dtype(dtype)), None, device, False)


@accepts_requires_grad
def empty_strided(
    size: Any,
    stride: Any,
    *,
    dtype: Any = None,
    device: DeviceLike = None,
    req_grad: bool = False,
) -> Tensor:
    """An uninitialised tensor of shape ``size``, as ``torch.empty_strided``.

    Tensors here are always laid out contiguously, so ``stride`` (one int per axis) is
    checked for its length and otherwise ignored.
    """
    shape, strides = tuple(size), tuple(stride)
    if len(shape) != len(strides):
        raise ValueError(f"empty_strided: size {shape} and stride {strides} need the same length")
    return empty(shape, dtype=dtype, device=device, req_grad=req_grad)


@accepts_requires_grad
def frombuffer(
    buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, req_grad: bool = False
) -> Tensor:
    """A 1-D CPU tensor that shares memory with ``buffer`` (any object with the buffer
    protocol: ``bytearray``, ``memoryview``, ``array.array``, ...), as ``torch.frombuffer``.

    Args:
        buffer: The memory to read; writes to either side show in the other. A read-only
            buffer (``bytes``) gives a read-only tensor, with a warning, as PyTorch.
        dtype: The dtype of the elements.
        count: How many elements to read; -1 reads to the end of the buffer.
        offset: How many bytes to skip at the start.
        req_grad: Whether the tensor requires gradients.
    """
    resolved = dtypes.to_dtype(dtype)
    view = memoryview(buffer)
    length, item = view.nbytes, resolved.itemsize
    if length == 0 or count == 0:
        raise ValueError(
            f"frombuffer: both buffer length ({length}) and count ({count}) must not be 0"
        )
    if not 0 <= offset < length:
        raise ValueError(f"frombuffer: offset ({offset} bytes) must lie in [0, {length})")
    if count < 0:
        if (length - offset) % item:
            raise ValueError(
                f"frombuffer: buffer length ({length - offset} bytes) after offset ({offset} "
                f"bytes) must be a multiple of the element size ({item} bytes) of {resolved}"
            )
        count = (length - offset) // item
    elif offset + count * item > length:
        raise ValueError(
            f"frombuffer: {count} elements of {resolved} ({count * item} bytes) after offset "
            f"({offset} bytes) do not fit in a buffer of {length} bytes"
        )
    if view.readonly:
        warnings.warn(
            "frombuffer: the buffer is not writable, so the tensor is read-only and writing to "
            "it raises; copy the buffer (bytearray(...)) for a writable tensor",
            UserWarning,
            stacklevel=2,
        )
    array = np.frombuffer(buffer, dtype=resolved, count=count, offset=offset)
    return Tensor(array, req_grad=req_grad)


@accepts_requires_grad
def asarray(
    obj: Any,
    *,
    dtype: Any = None,
    device: DeviceLike = None,
    copy: bool | None = None,
    req_grad: bool | None = None,
) -> Tensor:
    """A tensor of ``obj`` (a Tensor, an array, a number or a nested sequence), as
    ``torch.asarray``.

    Args:
        obj: The data.
        dtype: The dtype; by default the one of ``obj`` (inferred as in ``tensor`` for
            Python data).
        device: The device; by default ``obj``'s for tensors and arrays, else the default
            device.
        copy: None shares memory with ``obj`` when its dtype and device already match (a
            tensor comes back as itself), True always copies, False never copies and raises
            ValueError when it would have to.
        req_grad: Whether the result requires gradients; None keeps ``obj``'s flag (False for
            anything but a tensor).

    Returns:
        The tensor.
    """
    if isinstance(obj, Tensor):
        source: Any = obj.data
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_namespace__"):
        source = obj
    else:
        if copy is False:
            raise ValueError("asarray: a Python number or sequence cannot be shared, only copied")
        if device is None:
            device = devices.default_device
        return Tensor(obj, dtype=dtype, device=device, req_grad=bool(req_grad))
    target_dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.infer_dtype(source)
    target_device = devices.to_device(device) if device is not None else devices.device_of(source)
    if (
        target_dtype != source.dtype or target_device != devices.device_of(source)
    ) and copy is False:
        raise ValueError(
            f"asarray: cannot share memory when converting from dtype {source.dtype} on "
            f"{devices.device_of(source)} to dtype {target_dtype} on {target_device}; "
            "pass copy=None or copy=True"
        )
    if isinstance(obj, Tensor):
        result = obj.to(device=target_device, dtype=target_dtype)
        if copy and result is obj:
            result = obj.clone()
        if req_grad is None or req_grad == result.req_grad:
            return result
        result = result.detach()
        result.req_grad = req_grad
        return result
    array = source.copy() if copy else source
    return Tensor(array, dtype=target_dtype, device=target_device, req_grad=bool(req_grad))


@accepts_requires_grad
def scalar_tensor(
    s: Any, *, dtype: Any = None, device: DeviceLike = None, req_grad: bool = False
) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default float dtype unless ``dtype`` is
    given (as ``torch.scalar_tensor``, also for ints and bools)."""
    return _make(np.asarray(s, dtype=_float(dtype)), None, device, req_grad)
