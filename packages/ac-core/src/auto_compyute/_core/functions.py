"""Functions on tensors, as in ``torch.<name>``: ``ac.exp(x)``, ``ac.cat([a, b])``, ..."""

from __future__ import annotations

import builtins
import itertools
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from auto_compyute._core import devices, dtypes
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.ops import elementwise as ew
from auto_compyute._core.ops import linalg, movement
from auto_compyute._core.tensor import Scalar, Tensor, _dim, _variance_args


def _method(name: str) -> Any:
    def function(x: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(x, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``ac.{name}(x, ...)`` is ``x.{name}(...)``; see ``Tensor.{name}``."
    return function


exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, square = (
    _method(n)
    for n in ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "square")
)
# NOTE: max, min, abs, sum, pow and round shadow the builtins in this module: use
# builtins.max and the like there.
max, min, amax, amin, cumsum, logsumexp, norm = (
    _method(n) for n in ("max", "min", "amax", "amin", "cumsum", "logsumexp", "norm")
)
gather, flip, roll, unbind, sort, topk = (
    _method(n) for n in ("gather", "flip", "roll", "unbind", "sort", "topk")
)
sum, mean, var, std, numel = (_method(n) for n in ("sum", "mean", "var", "std", "numel"))
add, sub, mul, div, pow, neg, mm, bmm = (
    _method(n) for n in ("add", "sub", "mul", "div", "pow", "neg", "mm", "bmm")
)
log1p, expm1, reciprocal, rsqrt, sign, floor, ceil, round, trunc = (
    _method(n)
    for n in ("log1p", "expm1", "reciprocal", "rsqrt", "sign", "floor", "ceil", "round", "trunc")
)
isnan, isinf, isfinite = (_method(n) for n in ("isnan", "isinf", "isfinite"))
reshape, flatten, squeeze, unsqueeze, permute, transpose, t = (
    _method(n) for n in ("reshape", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "t")
)
subtract, multiply, divide, negative = sub, mul, div, neg
tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh = (
    _method(n) for n in ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh")
)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
log2, log10, exp2, erf, atan2, hypot, logaddexp = (
    _method(n) for n in ("log2", "log10", "exp2", "erf", "atan2", "hypot", "logaddexp")
)
arctan2 = atan2
remainder, fmod, floor_divide, lerp, clamp_min, clamp_max, nan_to_num = (
    _method(n)
    for n in ("remainder", "fmod", "floor_divide", "lerp", "clamp_min", "clamp_max", "nan_to_num")
)
logical_not, logical_and, logical_or, logical_xor = (
    _method(n) for n in ("logical_not", "logical_and", "logical_or", "logical_xor")
)
erfc, logit, xlogy, sinc, deg2rad, rad2deg, copysign, frac, signbit, heaviside = (
    _method(n)
    for n in (
        "erfc",
        "logit",
        "xlogy",
        "sinc",
        "deg2rad",
        "rad2deg",
        "copysign",
        "frac",
        "signbit",
        "heaviside",
    )
)
addcmul, addcdiv, addmm, tile, rot90, diagonal, cummax, cummin = (
    _method(n)
    for n in ("addcmul", "addcdiv", "addmm", "tile", "rot90", "diagonal", "cummax", "cummin")
)


det, inverse, logdet, slogdet, cholesky, pinverse, matrix_power, matrix_exp, cross, svd = (
    _method(n)
    for n in (
        "det",
        "inverse",
        "logdet",
        "slogdet",
        "cholesky",
        "pinverse",
        "matrix_power",
        "matrix_exp",
        "cross",
        "svd",
    )
)
index_select, masked_select, nonzero = (
    _method(n) for n in ("index_select", "masked_select", "nonzero")
)
lgamma, digamma, erfinv, i0, mvlgamma = (
    _method(n) for n in ("lgamma", "digamma", "erfinv", "i0", "mvlgamma")
)
logaddexp2, fmax, fmin, ldexp, frexp, gcd, lcm, nextafter = (
    _method(n) for n in ("logaddexp2", "fmax", "fmin", "ldexp", "frexp", "gcd", "lcm", "nextafter")
)
sgn, absolute, true_divide = (_method(n) for n in ("sgn", "absolute", "true_divide"))
mv, addmv, addr, baddbmm, addbmm, inner, vdot, kron = (
    _method(n) for n in ("mv", "addmv", "addr", "baddbmm", "addbmm", "inner", "vdot", "kron")
)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma, elementwise (see ``Tensor.polygamma``)."""
    return input.polygamma(n)


def float_power(input: Tensor | Scalar, exponent: Tensor | Scalar) -> Tensor:
    """Elementwise ``input**exponent`` computed in float64 (the result is float64); either
    may be a number."""
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("float_power needs at least one of input and exponent to be a Tensor")
        input = Tensor(input, dtype=dtypes.float64, device=exponent.device)
    return input.float_power(exponent)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D tensors, multiplied in the order that takes the fewest scalar
    multiplications (PyTorch deprecated it for ``linalg.multi_dot``, which is the same)."""
    matrices = tuple(_tensor_list(matrices))
    if not matrices:
        raise ValueError("chain_matmul needs at least one matrix")
    for i, m in enumerate(matrices):
        if m.ndim != 2:
            raise ValueError(f"chain_matmul needs 2-D tensors, got shape {m.shape} at {i}")
    for i in range(1, len(matrices)):
        if matrices[i - 1].shape[1] != matrices[i].shape[0]:
            raise ValueError(
                f"chain_matmul: matrices {i - 1} and {i} of shapes {matrices[i - 1].shape} and "
                f"{matrices[i].shape} cannot be multiplied"
            )
    if len(matrices) == 1:
        return matrices[0].clone()
    sizes = [matrices[0].shape[0], *(m.shape[1] for m in matrices)]
    count = len(matrices)
    # NOTE: the textbook dynamic program over sub-chains [i, j]: cost and best split
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = builtins.min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j)
            )

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return matrices[i]
        k = split[i][j]
        return product(i, k).matmul(product(k + 1, j))

    return product(0, count - 1)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two 1-D tensors: ``out[i, j] = a[i] * b[j]``."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer needs two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of one length."""
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot needs two 1-D tensors of one length, got {a.shape} and {b.shape}")
    return a.matmul(b)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A square matrix with ``x`` (1-D) on a diagonal, or the diagonal of a matrix ``x`` (2-D).

    ``diagonal`` picks it: 0 the main one, positive above, negative below.
    """
    if x.ndim == 1:
        n, k = x.shape[0], builtins.abs(diagonal)
        square = Tensor(np.eye(n, dtype=x.dtype), device=x.device) * x
        # above the main diagonal: k columns before, k rows after; below: the reverse
        return pad(square, (k, 0, 0, k) if diagonal >= 0 else (0, k, k, 0))
    if x.ndim == 2:
        start_row, start_col = builtins.max(-diagonal, 0), builtins.max(diagonal, 0)
        length = builtins.max(builtins.min(x.shape[0] - start_row, x.shape[1] - start_col), 0)
        steps = np.arange(length)
        rows, cols = (Tensor(steps + start, device=x.device) for start in (start_row, start_col))
        return x[rows, cols]
    raise ValueError(f"diag needs a 1-D or 2-D tensor, got shape {x.shape}")


def is_tensor(obj: Any) -> bool:
    """True if ``obj`` is a ``Tensor``."""
    return isinstance(obj, Tensor)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor of ``data``, sharing its memory when the dtype and device already match
    (data that is not a tensor goes to the default device if no device is given)."""
    if isinstance(data, Tensor):
        return data if dtype is None and device is None else Tensor(data, dtype, device)
    return Tensor(data, dtype, device if device is not None else devices.default_device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor that shares memory with ``array`` and keeps its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def isclose(
    a: Tensor, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|a - b| <= atol + rtol * |b|``, as a bool tensor."""
    other = b.data if isinstance(b, Tensor) else b
    xp = get_array_module(a.data)
    return Tensor._from_op(xp.isclose(a.data, other, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(
    a: Tensor, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    """True if ``isclose`` holds for every element."""
    return bool(isclose(a, b, rtol, atol, equal_nan).data.all())


def clamp(x: Tensor, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
    """Limit values to ``[min, max]``."""
    return x.clamp(min, max)


clip = clamp


def maximum(a: Tensor, b: Any) -> Tensor:
    """Elementwise maximum of two tensors (broadcast)."""
    return a.maximum(b)


def minimum(a: Tensor, b: Any) -> Tensor:
    """Elementwise minimum of two tensors (broadcast)."""
    return a.minimum(b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product (``a @ b``)."""
    return a.matmul(b)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim``, computed stably."""
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Log of the softmax along ``dim``, computed stably."""
    return x.log_softmax(dim)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value along ``dim``."""
    return x.argmax(dim, keepdim)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value along ``dim``."""
    return x.argmin(dim, keepdim)


def where(condition: Any, a: Any = None, b: Any = None) -> Any:
    """Elements of ``a`` where ``condition`` is True, else of ``b``; either or both may be
    numbers. ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``."""
    if not isinstance(condition, Tensor):
        condition = Tensor(condition)
    if a is None and b is None:
        return condition.nonzero(as_tuple=True)
    if condition.dtype != dtypes.bool_:
        condition = condition.bool()
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):  # two numbers: a tensor of the first, as in PyTorch
            b = Tensor(b, device=condition.device)
        b, a = b._other(a)
    else:
        a, b = a._other(b)
    return ew.Where.apply(condition, a, b)


def _same_dtype(tensors: Sequence[Tensor]) -> list[Tensor]:
    if not tensors:
        raise ValueError("expected a non-empty sequence of tensors")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    return [t.to(dtype=dtype) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis ``dim``."""
    tensors = _same_dtype(tensors)
    dim = _dim(dim, tensors[0].ndim)
    for i, t in enumerate(tensors):
        if t.ndim != tensors[0].ndim or t.shape[:dim] + t.shape[dim + 1 :] != (
            tensors[0].shape[:dim] + tensors[0].shape[dim + 1 :]
        ):
            raise ValueError(
                f"cat along dim {dim}: tensor {i} has shape {t.shape}, tensor 0 has shape "
                f"{tensors[0].shape}; all sizes but dim {dim} must match"
            )
    return movement.Cat.apply(*tensors, dim=dim)


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis ``dim``."""
    tensors = _same_dtype(tensors)
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack needs tensors of one shape: tensor {i} has shape {t.shape}, "
                f"tensor 0 has shape {tensors[0].shape}"
            )
    return movement.Stack.apply(*tensors, dim=_dim(dim, tensors[0].ndim + 1))


def split(x: Tensor, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Cut ``x`` along ``dim`` into pieces (see ``Tensor.split``)."""
    return x.split(split_size, dim)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Cut ``x`` along ``dim`` into ``chunks`` pieces."""
    return x.chunk(chunks, dim)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle of the last two axes."""
    return x.tril(diagonal)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """Upper triangle of the last two axes."""
    return x.triu(diagonal)


def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Pad with a constant, PyTorch style: ``pad = (last_left, last_right, prev_left, ...)``."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad needs pairs for at most {x.ndim} dimensions, got {tuple(pad)}")
    if builtins.any(p < 0 for p in pad):
        raise ValueError(f"negative padding is not supported, got {tuple(pad)}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return movement.Pad.apply(x, widths=tuple(widths), value=value)


def einsum(subscripts: str, *operands: Tensor) -> Tensor:
    """Einstein summation such as ``einsum("bij,bjk->bik", a, b)``; ``...`` allowed."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    operands = tuple(_same_dtype(operands))
    explicit = _explicit_subscripts(subscripts.replace(" ", ""), [o.ndim for o in operands])
    return linalg.Einsum.apply(*operands, subscripts=explicit)


def _explicit_subscripts(subscripts: str, ndims: list[int]) -> str:
    """Rewrite subscripts into the ``"ab,bc->ac"`` form: ellipses spelled out, output explicit."""
    inputs, arrow, output = subscripts.partition("->")
    specs = inputs.split(",")
    if len(specs) != len(ndims):
        raise ValueError(f"einsum subscripts name {len(specs)} operands, got {len(ndims)}")
    free = [c for c in string.ascii_letters if c not in subscripts]
    spelled = [n - len(s) + 3 for s, n in zip(specs, ndims, strict=True) if "..." in s]
    ellipsis_dims = builtins.max(spelled, default=0)
    batch = "".join(free[:ellipsis_dims])
    expanded = []
    for spec, n in zip(specs, ndims, strict=False):
        if "..." in spec:  # broadcast batch axes align from the right
            spec = spec.replace("...", batch[len(batch) - (n - len(spec) + 3) :])
        expanded.append(spec)
    specs = expanded
    for s, n in zip(specs, ndims, strict=False):
        if len(s) != n:
            raise ValueError(f"einsum subscripts '{s}' do not match an operand with {n} dimensions")
        if len(set(s)) != len(s):
            raise ValueError(
                f"einsum with a repeated index in one operand ('{s}') is not supported"
            )
    if arrow:
        output = output.replace("...", batch)
    else:
        counts = {c: "".join(specs).count(c) for c in "".join(specs)}
        output = batch + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in batch))
    return f"{','.join(specs)}->{output}"


scatter, scatter_add, index_add, take_along_dim, narrow, diff, trace = (
    _method(n)
    for n in ("scatter", "scatter_add", "index_add", "take_along_dim", "narrow", "diff", "trace")
)
movedim, moveaxis, swapaxes, swapdims = (
    _method(n) for n in ("movedim", "moveaxis", "swapaxes", "swapdims")
)
prod, cumprod, median, kthvalue, count_nonzero, argsort, unique = (
    _method(n)
    for n in ("prod", "cumprod", "median", "kthvalue", "count_nonzero", "argsort", "unique")
)


def var_mean(
    x: Tensor,
    dim: Any = None,
    correction: int = 1,
    keepdim: bool = False,
    *,
    unbiased: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """The variance (divided by ``N - correction``; see ``Tensor.var``) and the mean over
    ``dim``, as a tuple."""
    dim, correction = _variance_args(dim, correction, unbiased)
    return x.var(dim, correction, keepdim), x.mean(dim, keepdim)


def std_mean(
    x: Tensor,
    dim: Any = None,
    correction: int = 1,
    keepdim: bool = False,
    *,
    unbiased: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """The standard deviation (of the variance divided by ``N - correction``) and the mean
    over ``dim``, as a tuple."""
    dim, correction = _variance_args(dim, correction, unbiased)
    return x.std(dim, correction, keepdim), x.mean(dim, keepdim)


def tensordot(a: Tensor, b: Tensor, dims: int | Sequence[Sequence[int]] = 2) -> Tensor:
    """Sum of products over pairs of axes of ``a`` and ``b``.

    Args:
        a: The first tensor.
        b: The second tensor.
        dims: An int ``d`` pairs the last ``d`` axes of ``a`` with the first ``d`` of ``b``;
            two sequences ``(dims_a, dims_b)`` name the paired axes.

    Returns:
        A tensor with the unpaired axes of ``a``, then those of ``b``.
    """
    if isinstance(dims, int):
        if not 0 <= dims <= builtins.min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: dims={dims} is out of range for shapes {a.shape} and {b.shape}"
            )
        pairs_a, pairs_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if len(dims) != 2 or len(dims[0]) != len(dims[1]):
            raise ValueError(
                f"tensordot needs dims as an int or two sequences of one length, got {dims}"
            )
        pairs_a = [d % builtins.max(a.ndim, 1) for d in dims[0]]
        pairs_b = [d % builtins.max(b.ndim, 1) for d in dims[1]]
    for i, j in zip(pairs_a, pairs_b, strict=True):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: dim {i} of a (size {a.shape[i]}) and dim {j} of b "
                f"(size {b.shape[j]}) differ"
            )
    letters = iter(string.ascii_letters)
    spec_a = [next(letters) for _ in range(a.ndim)]
    spec_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(pairs_a, pairs_b, strict=True):
        spec_b[j] = spec_a[i]
    free_a = [c for i, c in enumerate(spec_a) if i not in pairs_a]
    free_b = [c for j, c in enumerate(spec_b) if j not in pairs_b]
    subscripts = f"{''.join(spec_a)},{''.join(spec_b)}->{''.join(free_a + free_b)}"
    a, b = _same_dtype([a, b])
    return linalg.Einsum.apply(a, b, subscripts=subscripts)


def _tensor_list(tensors: tuple[Any, ...]) -> list[Tensor]:
    """Accept both ``f(a, b)`` and ``f([a, b])``."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return list(tensors[0])
    return list(tensors)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views, differentiable)."""
    tensor_list = _tensor_list(tensors)
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensor_list))
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensor_list)
        raise ValueError(f"broadcast_tensors: shapes {shapes} do not broadcast") from None
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensor_list)


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: output ``i`` varies along axis ``i`` (``"ij"``), or
    with the first two axes swapped (``"xy"``, as NumPy's default)."""
    tensor_list = _tensor_list(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if builtins.any(t.ndim > 1 for t in tensor_list):
        shapes = ", ".join(str(t.shape) for t in tensor_list)
        raise ValueError(f"meshgrid needs 0-D or 1-D tensors, got shapes {shapes}")
    swap = indexing == "xy" and len(tensor_list) >= 2
    if swap:
        tensor_list[0], tensor_list[1] = tensor_list[1], tensor_list[0]
    shape = tuple(t.numel() for t in tensor_list)
    grids = [
        t.reshape([-1 if d == i else 1 for d in range(len(shape))]).expand(shape)
        for i, t in enumerate(tensor_list)
    ]
    if swap:
        grids = [grids[1], grids[0], *grids[2:]]
    return tuple(grids)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors column-wise: along axis 1, or axis 0 if they are 1-D (0-D count as 1-D)."""
    tensor_list = [t.reshape(1) if t.ndim == 0 else t for t in tensors]
    return cat(tensor_list, dim=0 if tensor_list and tensor_list[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors row-wise along axis 0; 0-D and 1-D tensors become rows first."""
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], dim=0)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2`` (..., R, M).

    Args:
        x1: Points as rows; leading axes are batch axes and broadcast.
        x2: Points as rows, with as many columns as ``x1``.
        p: A positive number or ``inf``; the 2-norm has gradient 0 at distance 0.

    Returns:
        The distances, shape (..., P, R).
    """
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            f"cdist needs x1 (..., P, M) and x2 (..., R, M), got shapes {x1.shape} and {x2.shape}"
        )
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, dim=-1)


def searchsorted(
    sorted_sequence: Tensor,
    input: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Any = None,
) -> Tensor:
    """Where ``input``'s values would go in ``sorted_sequence`` (sorted along its last axis)
    to keep it sorted (without gradient).

    Args:
        sorted_sequence: 1-D, or N-D with leading axes that match ``input``'s.
        input: The values to place: a tensor or a number.
        out_int32: Give int32 indices instead of int64.
        right: Place a value after equal ones (as ``side="right"``).
        side: ``"left"`` or ``"right"``; overrides ``right``.
        sorter: Indices that sort an unsorted ``sorted_sequence`` along its last axis.

    Returns:
        The indices, in ``input``'s shape.
    """
    if side is None:
        side = "right" if right else "left"
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if right and side == "left":
        raise ValueError("searchsorted: right=True and side='left' contradict each other")
    xp = get_array_module(sorted_sequence.data)
    sequence = sorted_sequence.data
    if sorter is not None:
        order = sorter.data if isinstance(sorter, Tensor) else xp.asarray(sorter)
        sequence = xp.take_along_axis(sequence, order, axis=-1)
    values = input.data if isinstance(input, Tensor) else xp.asarray(input)
    if sequence.ndim == 1:
        found = xp.searchsorted(sequence, values, side=side)
    else:
        if values.ndim != sequence.ndim or values.shape[:-1] != sequence.shape[:-1]:
            raise ValueError(
                f"searchsorted: sorted_sequence of shape {tuple(sequence.shape)} needs input "
                f"with the same leading axes, got shape {tuple(values.shape)}"
            )
        rows, row_values = (
            sequence.reshape(-1, sequence.shape[-1]),
            values.reshape(-1, values.shape[-1]),
        )
        found = xp.stack(
            [xp.searchsorted(r, v, side=side) for r, v in zip(rows, row_values, strict=True)]
        ).reshape(values.shape)
    return Tensor._from_op(xp.asarray(found).astype(np.int32 if out_int32 else np.int64))


def bucketize(
    input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """The bucket of each value of ``input`` between the sorted 1-D ``boundaries``: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]``, or ``<= x <`` with ``right=True``."""
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize needs 1-D boundaries, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# NOTE: all and any shadow the builtins in this module as well: use builtins.all there.
eq, ne, lt, le, gt, ge, all, any, clone, masked_fill = (
    _method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge", "all", "any", "clone", "masked_fill")
)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
equal, is_nonzero, isneginf, isposinf, isreal, positive = (
    _method(n) for n in ("equal", "is_nonzero", "isneginf", "isposinf", "isreal", "positive")
)
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = (
    _method(n) for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
)
broadcast_to, ravel, unflatten, select, take, narrow_copy, diag_embed, diagflat = (
    _method(n)
    for n in (
        "broadcast_to",
        "ravel",
        "unflatten",
        "select",
        "take",
        "narrow_copy",
        "diag_embed",
        "diagflat",
    )
)
tensor_split, hsplit, vsplit, dsplit = (
    _method(n) for n in ("tensor_split", "hsplit", "vsplit", "dsplit")
)
index_copy, index_fill, index_put, masked_scatter, scatter_reduce = (
    _method(n)
    for n in ("index_copy", "index_fill", "index_put", "masked_scatter", "scatter_reduce")
)
nansum, nanmean, nanmedian, quantile, nanquantile, mode, aminmax, msort = (
    _method(n)
    for n in (
        "nansum",
        "nanmean",
        "nanmedian",
        "quantile",
        "nanquantile",
        "mode",
        "aminmax",
        "msort",
    )
)
bincount, histc, cov, corrcoef, unique_consecutive, logcumsumexp, dist, renorm = (
    _method(n)
    for n in (
        "bincount",
        "histc",
        "cov",
        "corrcoef",
        "unique_consecutive",
        "logcumsumexp",
        "dist",
        "renorm",
    )
)


def repeat_interleave(
    input: Tensor,
    repeats: Any = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; with ``input`` alone (1-D counts), each
    index ``i`` repeated ``input[i]`` times."""
    if repeats is None:
        counts = input
        return Tensor(np.arange(counts.numel()), device=counts.device).repeat_interleave(
            counts, output_size=output_size
        )
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The shape that tensors of ``shapes`` (tuples, or ints for 1-D) broadcast to."""
    as_tuples = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*as_tuples))
    except ValueError:
        raise ValueError(
            f"broadcast_shapes: shapes {', '.join(map(str, as_tuples))} do not broadcast"
        ) from None


def _at_least(tensors: tuple[Any, ...], ndim: int) -> Any:
    tensor_list = _tensor_list(tensors)
    shaped = []
    for t in tensor_list:
        if t.ndim >= ndim:
            shaped.append(t)
        elif t.ndim == 0:
            shaped.append(t.reshape((1,) * ndim))
        elif t.ndim == 1:  # a row; in 3-D a (1, n, 1) one, as NumPy and PyTorch do
            shaped.append(t.reshape(1, -1) if ndim == 2 else t.reshape(1, -1, 1))
        else:
            shaped.append(t.unsqueeze(-1))
    is_one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    return shaped[0] if is_one else tuple(shaped)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 axis (0-d ones become shape (1,)); one tensor, or a tuple."""
    return _at_least(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 axes (1-D ones become rows); one tensor, or a tuple."""
    return _at_least(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 axes (n -> (1, n, 1), (m, n) -> (m, n, 1)); one tensor,
    or a tuple."""
    return _at_least(tensors, 3)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors depth-wise: along axis 2, after ``atleast_3d``."""
    return cat(list(_at_least((list(tensors),), 3)), dim=2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors as columns: 0-d and 1-D ones become columns, then along axis 1."""
    return cat([t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors], dim=1)


def block_diag(*tensors: Tensor) -> Tensor:
    """A matrix with the tensors (0-d, 1-D as rows, or 2-D) on its diagonal, zeros elsewhere."""
    blocks = _same_dtype([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors])
    for i, block in enumerate(blocks):
        if block.ndim != 2:
            raise ValueError(
                f"block_diag needs tensors of at most 2 axes, tensor {i} has shape {block.shape}"
            )
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, start = [], 0
    for block in blocks:
        end = start + block.shape[1]
        rows.append(pad(block, (start, width - end)))
        start = end
    return cat(rows, dim=0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of one element of each 1-D tensor, as rows (in order, the last
    tensor varying fastest); one tensor comes back as it is."""
    tensor_list = _tensor_list(tensors)
    if builtins.any(t.ndim != 1 for t in tensor_list):
        shapes = ", ".join(str(t.shape) for t in tensor_list)
        raise ValueError(f"cartesian_prod needs 1-D tensors, got shapes {shapes}")
    if len(tensor_list) == 1:
        return tensor_list[0]
    grids = meshgrid(*_same_dtype(tensor_list), indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The ``r``-element combinations of the elements of a 1-D tensor, as rows in
    lexicographic order of their positions (``itertools.combinations``)."""
    if input.ndim != 1:
        raise ValueError(f"combinations needs a 1-D tensor, got shape {input.shape}")
    if r < 0:
        raise ValueError(f"combinations needs r >= 0, got {r}")
    if r == 0:
        return input[:0]
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    picks = np.fromiter(
        itertools.chain.from_iterable(choose(range(input.shape[0]), r)), dtype=np.int64
    ).reshape(-1, r)
    return input[picks]


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns ``x**(N-1), ..., x, 1`` (reversed if
    ``increasing``); ``N`` defaults to the length of ``x``."""
    if x.ndim != 1:
        raise ValueError(f"vander needs a 1-D tensor, got shape {x.shape}")
    columns = x.shape[0] if N is None else N
    if columns < 0:
        raise ValueError(f"vander needs N >= 0, got {N}")
    base = x if x.dtype.kind == "f" else x.long()
    if columns == 0:
        return base.reshape(-1, 1)[:, :0]
    ones = Tensor(np.ones((x.shape[0], 1), dtype=base.dtype), device=x.device)
    powers = cat([ones, base.reshape(-1, 1).expand(x.shape[0], columns - 1)], dim=1).cumprod(1)
    return powers if increasing else powers.flip(1)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of ``shape`` of flat ``indices``, one int64 tensor per
    axis (negative indices count from the end)."""
    index = indices if isinstance(indices, Tensor) else Tensor(indices)
    if index.dtype.kind not in "iu":
        raise TypeError(f"unravel_index needs integer indices, got dtype {index.dtype}")
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    size = int(np.prod(dims))
    xp = get_array_module(index.data)
    if index.numel() and (int(index.data.min()) < -size or int(index.data.max()) >= size):
        raise IndexError(f"unravel_index: an index is out of range for shape {dims}")
    coords = xp.unravel_index(index.data % builtins.max(size, 1), dims)
    return tuple(Tensor._from_op(xp.asarray(c, dtype=np.int64)) for c in coords)


def isin(
    elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False
) -> Tensor:
    """Whether each of ``elements`` (a tensor or a number) is in ``test_elements``, as a
    bool tensor (``invert``: whether it is not)."""
    device = next((t.device for t in (elements, test_elements) if isinstance(t, Tensor)), None)
    if device is None:
        raise TypeError("isin needs at least one of elements and test_elements to be a Tensor")
    values, tests = (
        t.data if isinstance(t, Tensor) else Tensor(t, device=device).data
        for t in (elements, test_elements)
    )
    xp = get_array_module(values)
    return Tensor._from_op(xp.isin(values, tests, assume_unique=assume_unique, invert=invert))


def _spacing(y: Tensor, x: Tensor | None, dx: float | None, dim: int, what: str) -> Any:
    """The widths of the intervals along ``dim``: from sample points ``x`` or a step ``dx``."""
    if x is None:
        return 1.0 if dx is None else dx
    if dx is not None:
        raise TypeError(f"{what} takes x or dx, not both")
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise ValueError(
                f"{what}: x of length {x.shape[0]} does not match dim {dim} of y's shape {y.shape}"
            )
        widths = x.diff()
        return widths.reshape([-1 if d == dim else 1 for d in range(y.ndim)])
    return x.diff(dim=dim)


def _trapezoid_areas(y: Tensor, x: Tensor | None, dx: float | None, dim: int) -> Tensor:
    if y.ndim == 0:
        raise ValueError("trapezoid needs a tensor with at least one axis, got shape ()")
    dim %= y.ndim
    later = y[(slice(None),) * dim + (slice(1, None),)]
    earlier = y[(slice(None),) * dim + (slice(None, -1),)]
    return (later + earlier) * _spacing(y, x, dx, dim, "trapezoid") / 2


def trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The integral of the samples ``y`` along ``dim`` by the trapezoidal rule, at sample
    points ``x`` (1-D, or of ``y``'s shape) or spaced by ``dx`` (1 if neither)."""
    return _trapezoid_areas(y, x, dx, dim).sum(dim)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """``trapezoid``, by its older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The running integral of ``y`` along ``dim`` by the trapezoidal rule (one value fewer
    than ``y`` along ``dim``); ``x`` and ``dx`` as for ``trapezoid``."""
    return _trapezoid_areas(y, x, dx, dim).cumsum(dim)


argwhere, flipud, fliplr, put, index_reduce = (
    _method(n) for n in ("argwhere", "flipud", "fliplr", "put", "index_reduce")
)
row_stack = vstack


def _gradient_along(input: Tensor, dim: int, step: Any, edge_order: int) -> Tensor:
    """The differences of ``gradient`` along one dim: ``step`` is a number or 1-D coordinates."""

    def part(start: int, stop: int | None) -> Tensor:
        return input[(slice(None),) * dim + (slice(start, stop),)]

    if not isinstance(step, Tensor):
        center = (part(2, None) - part(0, -2)) / step / 2
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / step
            last = (part(-1, None) - part(-2, -1)) / step
        else:
            first = (part(0, 1) * -1.5 + part(1, 2) * 2 - part(2, 3) * 0.5) / step
            last = (part(-3, -2) * 0.5 + part(-2, -1) * -2 + part(-1, None) * 1.5) / step
        return cat([first, center, last], dim)
    widths = step.diff()
    before, after = widths[:-1], widths[1:]
    shape = [-1 if d == dim else 1 for d in range(input.ndim)]
    # NOTE: the weights of the second-order central difference on an uneven grid
    center = (
        part(0, -2) * (-after / (before * (before + after))).reshape(shape)
        + part(1, -1) * ((after - before) / (before * after)).reshape(shape)
        + part(2, None) * (before / (after * (before + after))).reshape(shape)
    )
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / widths[0]
        last = (part(-1, None) - part(-2, -1)) / widths[-1]
    else:
        h0, h1, g0, g1 = widths[0], widths[1], widths[-1], widths[-2]
        first = (
            part(0, 1) * (-(2 * h0 + h1) / (h0 * (h0 + h1)))
            + part(1, 2) * ((h0 + h1) / (h0 * h1))
            + part(2, 3) * (-h0 / (h1 * (h0 + h1)))
        )
        last = (
            part(-3, -2) * (g0 / (g1 * (g0 + g1)))
            + part(-2, -1) * (-(g0 + g1) / (g0 * g1))
            + part(-1, None) * ((2 * g0 + g1) / (g0 * (g0 + g1)))
        )
    return cat([first, center, last], dim)


def gradient(
    input: Tensor,
    *,
    spacing: Any = 1,
    dim: int | Sequence[int] | None = None,
    edge_order: int = 1,
) -> tuple[Tensor, ...]:
    """The derivative of the samples ``input`` along each of ``dim``, estimated by central
    differences inside and by one-sided ones at the two ends (``numpy.gradient``).

    Args:
        input: The values of a function on a grid; not bool or uint8.
        spacing: The grid: a number (one step along every dim), a sequence of numbers (a
            step for each dim of ``dim``) or a sequence of 1-D tensors (the coordinates of the
            samples along each dim of ``dim``, which need not be evenly spaced).
        dim: The dim or dims to differentiate along; all of them if None.
        edge_order: 1 or 2: the order of accuracy of the differences at the ends.

    Returns:
        A tuple of one tensor of ``input``'s shape per dim; gradients flow to ``input`` and
        to coordinate tensors.

    Example:
        >>> ac.gradient(ac.tensor([1.0, 4.0, 9.0, 16.0]), spacing=[ac.tensor([0.0, 1, 2, 4])])
        (Tensor([3.0, 4.0, 4.5, 3.5]),)
    """
    if input.dtype in (dtypes.bool_, dtypes.uint8):
        raise TypeError(f"gradient does not support input of dtype {input.dtype}")
    if edge_order not in (1, 2):
        raise ValueError(f"gradient supports edge_order 1 and 2, got {edge_order}")
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [_dim(d, input.ndim) for d in dims]
    if len(set(dims)) != len(dims):
        raise ValueError(f"gradient: dim {tuple(dims)} names a dim more than once")
    if isinstance(spacing, int | float) or (isinstance(spacing, Tensor) and spacing.ndim == 0):
        steps = [spacing] * len(dims)
    elif isinstance(spacing, Tensor):
        raise TypeError(
            f"gradient takes spacing as a number or a sequence, got a tensor of shape "
            f"{spacing.shape}"
        )
    else:
        steps = list(spacing)
        if len(steps) != len(dims):
            raise ValueError(
                f"gradient needs spacing as a number or with one entry per dim of {tuple(dims)}, "
                f"got {len(steps)} entries"
            )
    results = []
    for d, step in zip(dims, steps, strict=True):
        if input.shape[d] < edge_order + 1:
            raise ValueError(
                f"gradient with edge_order={edge_order} needs at least {edge_order + 1} samples "
                f"along dim {d}, got shape {input.shape}"
            )
        if isinstance(step, Tensor) and step.ndim == 0:
            step = step.item()
        elif isinstance(step, Tensor) and step.shape != (input.shape[d],):
            raise ValueError(
                f"gradient needs the coordinates along dim {d} as a 1-D tensor of length "
                f"{input.shape[d]}, got shape {step.shape}"
            )
        results.append(_gradient_along(input, d, step, edge_order))
    return tuple(results)
