"""Operations that move, select or combine elements without arithmetic."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor


class Reshape(Op):
    """x viewed with a new shape; the gradient is reshaped back."""

    def forward(self, x: Array, *, shape: tuple[int, ...]) -> Array:
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad: Array) -> Array:
        return grad.reshape(self.shape)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.reshape(self.shape)


class Permute(Op):
    """x with its axes reordered; the gradient is permuted back."""

    def forward(self, x: Array, *, dims: tuple[int, ...]) -> Array:
        return x.transpose(dims)

    def backward(self, grad: Array) -> Array:
        return grad.transpose(_inverse(self.kwargs["dims"]))

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.permute(*_inverse(self.kwargs["dims"]))


def _inverse(dims: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation that undoes ``dims``.

    NOTE: in Python: ``np.argsort`` on a tuple took 25 us inside an LSTM's training step
    (3 us alone), and a transpose by an array of axes 11 us more than by a tuple.
    """
    return tuple(sorted(range(len(dims)), key=dims.__getitem__))


class Expand(Op):
    """x broadcast to a larger shape (a view); the engine sums the gradient back."""

    def forward(self, x: Array, *, shape: tuple[int, ...]) -> Array:
        return get_array_module(x).broadcast_to(x, shape)

    def backward(self, grad: Array) -> Array:
        return grad

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad


class Index(Op):
    """x[key] for slices, integers, integer arrays and boolean masks.

    The gradient is scattered back; repeated integer indices accumulate.
    """

    def forward(self, x: Array, *, key: Any) -> Array:
        self.shape, self.dtype = x.shape, x.dtype
        return x[key]

    def backward(self, grad: Array) -> Array:
        return _put(grad, self.kwargs["key"], self.shape)

    def graph_backward(self, grad: Tensor) -> Tensor:
        return PutAt.apply(grad, key=self.kwargs["key"], shape=self.shape)


class PutAt(Op):
    """Zeros with x added at ``key`` (repeated integer indices accumulate): the gradient of
    ``Index`` and ``Gather``, as an op, so that it can be differentiated again."""

    def forward(self, x: Array, *, key: Any, shape: tuple[int, ...]) -> Array:
        return _put(x, key, shape)

    def backward(self, grad: Array) -> Array:
        return grad[self.kwargs["key"]]

    def graph_backward(self, grad: Tensor) -> Tensor:
        return Index.apply(grad, key=self.kwargs["key"])


def _put(values: Array, key: Any, shape: tuple[int, ...]) -> Array:
    """Zeros of ``shape`` with ``values`` added at ``key``."""
    xp = get_array_module(values)
    if type(key) is slice and key.step in (None, 1):
        # NOTE: a slice of the leading axis (a recurrent layer's outputs without its final
        # state, say): only the rows outside it are zeroed, not the whole array first.
        start, stop, _ = key.indices(shape[0])
        full = xp.empty(shape, dtype=values.dtype)
        full[:start] = 0
        full[start:stop] = values
        full[max(start, stop) :] = 0
        return full
    places = _key_places(key, shape)
    if places is not None:
        return _put_places(values.reshape(places.shape), places, shape)
    full = xp.zeros(shape, dtype=values.dtype)
    if _has_integer_array(key):
        ufunc_at("add", full, key, values)
    else:
        full[key] = values
    return full


def _put_places(values: Array, places: Array, shape: tuple[int, ...]) -> Array:
    """Zeros of ``shape`` with ``values`` added at the flat ``places`` (see ``_places``)."""
    full = get_array_module(values).zeros(shape, dtype=values.dtype)
    ufunc_at("add", full.reshape(-1), places, values)  # (a view: full is new)
    return full


def _key_places(key: Any, shape: tuple[int, ...]) -> Array | None:
    """The flat places (see ``_places``) that ``key`` picks if it is whole axes and then one
    integer array (``x[rows]``, ``index_select``), else None.

    NOTE: the gradient of 2,000 rows picked from (1000, 256) took 3.6 ms through ``add.at``
    under such a key, 1.3 ms through the flat places.
    """
    parts, whole = key if isinstance(key, tuple) else (key,), slice(None)
    if not parts or not _has_integer_array(parts[-1]):
        return None
    if any(type(part) is not slice or part != whole for part in parts[:-1]):
        return None
    xp, axis, index = get_array_module(parts[-1]), len(parts) - 1, parts[-1].reshape(-1)
    index = xp.where(index < 0, index + shape[axis], index)  # from the end, as NumPy's
    lines = xp.broadcast_to(
        index.reshape([-1 if a == axis else 1 for a in range(len(shape))]),
        (*shape[:axis], index.size, *shape[axis + 1 :]),
    )
    return _places(lines, axis, shape)


# NOTE: CuPy's ufuncs have ``at`` only for these (its ufunc reference), and of the integer
# dtypes its scatter (CUDA's atomics) takes only these: int64 counts go in rounds there
_DEVICE_AT = frozenset({"add", "subtract", "maximum", "minimum"})
_DEVICE_AT_INTS = frozenset({np.dtype(np.int32), np.dtype(np.uint32), np.dtype(np.uint64)})


def ufunc_at(ufunc: str, out: Array, key: Any, values: Any) -> None:
    """``xp.<ufunc>.at(out, key, values)``: ``out[key] = ufunc(out[key], values)`` in place,
    with repeated places of ``key`` applied one after another.

    On NumPy, and for what CuPy's ``at`` covers, the array module's own ``at``; otherwise
    ``_at_in_rounds``.
    """
    xp = get_array_module(out)
    if out.ndim == 1 and getattr(key, "ndim", 1) > 1:
        # NOTE: NumPy's ``at`` is 8x as fast with the places and values flattened (1.6
        # against 13 ms to add 524,288 values into 2,097,152 places)
        if getattr(values, "ndim", 0):
            values = xp.broadcast_to(values, key.shape).reshape(-1)
        key = key.reshape(-1)
    if xp is np or (
        ufunc in _DEVICE_AT and (out.dtype.kind in "fc" or out.dtype in _DEVICE_AT_INTS)
    ):
        getattr(xp, ufunc).at(out, key, values)
    else:
        _at_in_rounds(xp, getattr(xp, ufunc), out, key, values)


def _at_in_rounds(xp: Any, ufunc: Any, out: Array, key: Any, values: Any) -> None:
    """``ufunc.at(out, key, values)`` from plain indexing, for array modules without it: the
    places ``key`` addresses are sorted, and pass k applies the k-th value of every place (the
    places of one pass are distinct), as many passes as the most repeated place has values.
    """
    places = xp.arange(out.size).reshape(out.shape)[key]
    values = xp.broadcast_to(xp.asarray(values), places.shape).reshape(-1)
    places = places.reshape(-1)
    if not places.size:
        return
    order = xp.argsort(places)
    ordered = places[order]
    new = xp.ones(ordered.shape, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    rank = xp.arange(ordered.size) - xp.flatnonzero(new)[xp.cumsum(new) - 1]
    flat = out.reshape(-1)  # a view of a C-contiguous out, else a copy written back below
    for k in range(int(rank.max()) + 1):
        picked = order[rank == k]
        where = places[picked]
        flat[where] = ufunc(flat[where], values[picked])
    if not out.flags.c_contiguous:
        out[...] = flat.reshape(out.shape)


def _has_integer_array(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(getattr(p, "dtype", None) is not None and p.dtype.kind in "iu" for p in parts)


class Gather(Op):
    """Values of x picked along ``dim`` by an index array (``take_along_axis``; outside
    ``dim`` the index may be shorter than x, and reads its leading part).

    The gradient is added back at the picked places; repeated indices accumulate.

    NOTE: through flat places (``_places``): NumPy's ``take_along_axis`` and ``add.at``
    index with one broadcast array per axis, which took 2.1 and 23 ms against 1.2 (places
    and ``take``) and 1.3 ms (1-D ``add.at``) for (64, 32, 256) of (64, 128, 256) along dim 1.
    """

    def forward(self, x: Array, *, dim: int, index: Array) -> Array:
        self.shape = x.shape
        self.places = _places(index, dim, x.shape)
        return _pick(x, self.places, dim=dim, index=index)

    def backward(self, grad: Array) -> Array:
        return _put_places(grad, self.places, self.shape)

    def graph_backward(self, grad: Tensor) -> Tensor:
        size = math.prod(self.shape)
        return PutAt.apply(grad, key=self.places, shape=(size,)).reshape(self.shape)


def _places(index: Array, dim: int, shape: tuple[int, ...]) -> Array:
    """Where ``index`` (along ``dim``, each other axis counted off from 0) points in a
    C-contiguous array of ``shape``, counted in its flattened form: ``x.reshape(-1)[places]``
    is ``take_along_axis(x, index, dim)`` for an x of that shape."""
    xp = get_array_module(index)
    strides = [math.prod(shape[axis + 1 :]) for axis in range(len(shape))]
    base: Any = 0  # where each line along ``dim`` starts
    for axis, n in enumerate(index.shape):
        if axis != dim and n > 1:
            step = strides[axis]
            base = base + xp.arange(0, n * step, step).reshape(
                [-1 if a == axis else 1 for a in range(index.ndim)]
            )
    places = xp.multiply(distinct_values(index, dim), strides[dim], dtype=np.int64)
    if places.shape != index.shape:
        return places + base  # an expanded index (index_add's): one pass over its places
    # NOTE: in place: a new array for the sum took 3x as long (1.6 against 0.54 ms for
    # 524,288 places, most of it the first writes to new memory)
    places += base
    return places


def _pick(x: Array, places: Array, *, dim: int, index: Array) -> Array:
    """The values of x at ``places``, the flat places of ``index`` along ``dim``.

    NOTE: a strided x (a transposed input, a broadcast gradient) is read through the index
    instead: flattening it would copy all of it (260 us for a transposed (1000, 256),
    against 4 us to pick 256 of its values without).
    """
    if x.flags.c_contiguous:
        return x.reshape(-1).take(places)
    return x[_along(index, dim)]


def distinct_values(index: Array, keep: int | None = None) -> Array:
    """``index`` with each axis that it merely repeats (a broadcast view's stride 0) cut to
    length 1, but ``keep``: the values it holds, each once."""
    if 0 not in index.strides:
        return index
    return index[
        tuple(
            slice(1) if step == 0 and axis != keep else slice(None)
            for axis, step in enumerate(index.strides)
        )
    ]


def _along(index: Array, dim: int) -> tuple[Array, ...]:
    """The fancy-index key that addresses ``x[..., index[i, j, ...], ...]`` with ``index`` along
    ``dim`` and each other axis counted off: what ``take_along_axis`` reads."""
    xp = get_array_module(index)
    key = [
        xp.arange(n).reshape([-1 if a == axis else 1 for a in range(index.ndim)])
        for axis, n in enumerate(index.shape)
    ]
    key[dim] = index
    return tuple(key)


class Scatter(Op):
    """x with the values of src written at ``index`` along ``dim``; the overwritten places of
    x get no gradient, and src gets the gradient read back at ``index``."""

    def forward(self, x: Array, src: Array, *, dim: int, index: Array) -> Array:
        self.places = _places(index, dim, x.shape)
        out = x.copy()
        out.reshape(-1)[self.places] = src
        return out

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        grad_x = None
        if self.needs_grad[0]:
            grad_x = grad.copy()
            grad_x.reshape(-1)[self.places] = 0
        return grad_x, _pick(grad, self.places, **self.kwargs) if self.needs_grad[1] else None

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        kept = get_array_module(grad.data).ones(grad.shape, dtype=bool)
        kept.reshape(-1)[self.places] = False
        grad_src = Index.apply(grad.reshape(-1), key=self.places)
        return grad.where(self._constant(kept), 0.0), grad_src


class ScatterAdd(Op):
    """x with the values of src added at ``index`` along ``dim`` (repeats accumulate);
    d/dx = 1, and src gets the gradient read back at ``index``."""

    def forward(self, x: Array, src: Array, *, dim: int, index: Array) -> Array:
        self.places = _places(index, dim, x.shape)
        out = x.copy()
        ufunc_at("add", out.reshape(-1), self.places, src)
        return out

    def backward(self, grad: Array) -> tuple[Array, Array | None]:
        return grad, _pick(grad, self.places, **self.kwargs) if self.needs_grad[1] else None

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, Index.apply(grad.reshape(-1), key=self.places)


class Cat(Op):
    """Inputs joined along ``dim``; each gets its slice of the gradient."""

    def forward(self, *arrays: Array, dim: int) -> Array:
        self.sizes = [a.shape[dim] for a in arrays]
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    def backward(self, grad: Array) -> tuple[Array, ...]:
        xp = get_array_module(grad)
        bounds = np.cumsum(self.sizes[:-1]).tolist() if len(self.sizes) > 1 else []
        return tuple(xp.split(grad, bounds, axis=self.kwargs["dim"]))

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        dim, start, parts = self.kwargs["dim"], 0, []
        for size in self.sizes:
            parts.append(grad[(slice(None),) * dim + (slice(start, start + size),)])
            start += size
        return tuple(parts)


class Stack(Op):
    """Inputs stacked along a new axis ``dim``; each gets its slice of the gradient."""

    # NOTE: NumPy's stack and moveaxis are Python code, 12-15 us a call inside a step.
    def forward(self, *arrays: Array, dim: int) -> Array:
        new_axis = (slice(None),) * dim + (None,)
        return get_array_module(arrays[0]).concatenate([a[new_axis] for a in arrays], axis=dim)

    def backward(self, grad: Array) -> tuple[Array, ...]:
        dim = self.kwargs["dim"]
        return tuple(grad.transpose(dim, *range(dim), *range(dim + 1, grad.ndim)))

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        return tuple(grad.unbind(self.kwargs["dim"]))


class Pad(Op):
    """x padded with a constant; the gradient is the inner (unpadded) part."""

    def forward(self, x: Array, *, widths: tuple[tuple[int, int], ...], value: float) -> Array:
        return get_array_module(x).pad(x, widths, constant_values=value)

    def backward(self, grad: Array) -> Array:
        key = tuple(
            slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.kwargs["widths"])
        )
        return grad[key]

    def graph_backward(self, grad: Tensor) -> Tensor:
        widths = self.kwargs["widths"]
        return grad[tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(widths))]


class Tril(Op):
    """Lower triangle of the last two axes, from ``diagonal`` down; the rest is 0."""

    def forward(self, x: Array, *, diagonal: int) -> Array:
        return get_array_module(x).tril(x, diagonal)

    def backward(self, grad: Array) -> Array:
        return get_array_module(grad).tril(grad, self.kwargs["diagonal"])

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.tril(self.kwargs["diagonal"])


class Triu(Op):
    """Upper triangle of the last two axes, from ``diagonal`` up; the rest is 0."""

    def forward(self, x: Array, *, diagonal: int) -> Array:
        return get_array_module(x).triu(x, diagonal)

    def backward(self, grad: Array) -> Array:
        return get_array_module(grad).triu(grad, self.kwargs["diagonal"])

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad.triu(self.kwargs["diagonal"])


class IndexPut(Op):
    """x with values written at ``key`` (added with ``accumulate``: repeats add up); the
    overwritten places of x get no gradient, values get the gradient read back at ``key``."""

    def forward(self, x: Array, values: Array, *, key: Any, accumulate: bool) -> Array:
        out = x.copy()
        if accumulate:
            ufunc_at("add", out, key, values)
        else:
            out[key] = values
        return out

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        key, grad_x = self.kwargs["key"], None
        if self.needs_grad[0]:
            grad_x = grad
            if not self.kwargs["accumulate"]:
                grad_x = grad.copy()
                grad_x[key] = 0
        return grad_x, grad[key] if self.needs_grad[1] else None

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        key = self.kwargs["key"]
        grad_x = grad
        if not self.kwargs["accumulate"]:
            kept = get_array_module(grad.data).ones(grad.shape, dtype=bool)
            kept[key] = False
            grad_x = grad.where(self._constant(kept), 0.0)
        return grad_x, Index.apply(grad, key=key)


class ScatterReduce(Op):
    """x with src reduced into it at ``index`` along ``dim`` (``reduce``: sum, prod, mean,
    amax, amin; x's values take part if ``include_self``).

    Gradients as PyTorch's: sum copies it, mean divides it by the count, amax/amin share it
    evenly among the values equal to the result, prod gives each factor the product of the
    others (exact with zeros). Without self, x's values do not share it (PyTorch 2.13 counts
    them all the same, and so gives src less than the whole gradient).
    """

    def forward(
        self, x: Array, src: Array, *, dim: int, index: Array, reduce: str, include_self: bool
    ) -> Array:
        xp = get_array_module(x)
        key = self.key = _along(index, dim)
        out = x.copy()
        if not include_self:
            out[key] = _reduce_identity(reduce, x.dtype)
        ufunc_at(_REDUCE_UFUNCS[reduce], out, key, src)
        if reduce == "mean":
            counts = xp.ones(x.shape, x.dtype) if include_self else xp.zeros(x.shape, x.dtype)
            ufunc_at("add", counts, key, 1)
            self.counts = xp.maximum(counts, 1)
            out = out / self.counts if x.dtype.kind == "f" else out // self.counts
        if reduce in ("prod", "amax", "amin"):
            self.x, self.values, self.out = x, src, out
        return out

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        xp = get_array_module(grad)
        reduce, key = self.kwargs["reduce"], self.key
        kept = self._kept(grad)
        if reduce in ("sum", "mean"):
            grad = grad / self.counts if reduce == "mean" else grad
            return grad * kept if self.needs_grad[0] else None, grad[key]
        x, src = self.x, self.values
        if reduce in ("amax", "amin"):
            x_hit, src_hit, hits = self._hits(kept, grad.dtype)
            shared = grad / hits
            grad_x, grad_src = shared * x_hit, shared[key] * src_hit
        else:
            # NOTE: the product of the other factors, also where factors are 0: count the
            # zeros and multiply the non-zero factors of each place
            factors = xp.where(kept, x, 1)
            zeros = (factors == 0).astype(np.int64)
            ufunc_at("add", zeros, key, src == 0)
            product = xp.where(factors == 0, 1, factors)
            ufunc_at("multiply", product, key, xp.where(src == 0, 1, src))
            none, one = product * (zeros == 0), product * (zeros == 1)
            grad_x = grad * xp.where(x == 0, one, none / xp.where(x == 0, 1, x)) * kept
            grad_src = grad[key] * xp.where(
                src == 0, one[key], none[key] / xp.where(src == 0, 1, src)
            )
        return (
            grad_x if self.needs_grad[0] else None,
            grad_src if self.needs_grad[1] else None,
        )

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        reduce, key = self.kwargs["reduce"], self.key
        kept = self._kept(grad.data)
        if reduce in ("amax", "amin"):
            x_hit, src_hit, hits = (self._constant(a) for a in self._hits(kept, grad.data.dtype))
            shared = grad / hits
            return shared * x_hit, Index.apply(shared, key=key) * src_hit
        if reduce == "prod":
            grad_x, grad_src = self._product_graph_backward(grad)
        else:
            grad_x = grad / self._constant(self.counts) if reduce == "mean" else grad
            grad_src = Index.apply(grad_x, key=key)
        return grad_x if kept is True else grad_x * self._constant(kept), grad_src

    def _product_graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        """``graph_backward`` of ``prod`` (x's gradient before the mask of where x takes part).

        NOTE: PyTorch's formulas, of differentiable parts: x's factor is the product of the
        src values at its place; a non-zero src value's, the result over that value; a zero
        one's, the result with it taken as 1 where it is the only zero src value at its
        place. Two or more zeros at a place are refused, as PyTorch refuses them: their
        factor, 0, would lack the derivatives of a product with another zero.
        """
        xp, key = get_array_module(grad.data), self.key
        zero = self.values == 0
        zeros = xp.zeros(self.x.shape, np.int64)
        ufunc_at("add", zeros, key, zero)
        single = zero & (zeros[key] == 1)
        if self.needs_grad[1] and (zero & ~single).any():
            raise NotImplementedError(
                "scatter_reduce with 'prod' has no differentiable backward where two or more "
                "zeros of src meet at a place: create_graph=True does not work through it"
            )
        x, src = self._input(0, self.x), self._input(1, self.values)
        kwargs = {"dim": self.kwargs["dim"], "index": self.kwargs["index"], "reduce": "prod"}
        ones = self._constant(xp.ones_like(self.x))
        grad_x = grad * ScatterReduce.apply(ones, src, include_self=True, **kwargs)
        src_or_one = src.where(self._constant(~zero), 1.0)
        quotient = Index.apply(grad * self._result_tensor(self.out), key=key) / src_or_one
        without = ScatterReduce.apply(
            x, src_or_one, include_self=self.kwargs["include_self"], **kwargs
        )
        grad_src = quotient.where(self._constant(~single), Index.apply(grad * without, key=key))
        return grad_x, grad_src

    def _kept(self, grad: Array) -> Any:
        """Where x takes part in the result: True, or a mask without the places written."""
        if self.kwargs["include_self"]:
            return True
        kept = get_array_module(grad).ones(grad.shape, dtype=bool)
        kept[self.key] = False
        return kept

    def _hits(self, kept: Any, dtype: Any) -> tuple[Array, Array, Array]:
        """Where x (where it takes part) and src equal amax/amin's result, and how many of
        them do at each place (at least 1)."""
        xp = get_array_module(self.x)
        x_hit = kept & (self.x == self.out)
        src_hit = self.values == self.out[self.key]
        hits = x_hit.astype(dtype)
        ufunc_at("add", hits, self.key, src_hit)
        return x_hit, src_hit, xp.maximum(hits, 1)


_REDUCE_UFUNCS = {
    "sum": "add",
    "mean": "add",
    "prod": "multiply",
    "amax": "maximum",
    "amin": "minimum",
}


def _reduce_identity(reduce: str, dtype: Any) -> Any:
    """The value that ``reduce`` starts from: 0, 1, or the dtype's lowest or highest value."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    limits = np.iinfo(dtype)
    return limits.min if reduce == "amax" else limits.max


class Unfold(Op):
    """The windows of ``size`` elements, ``step`` apart, along ``dim`` (PyTorch's
    ``Tensor.unfold``): ``dim`` counts the windows, a new last axis runs along each. The
    result is a view of x; the gradient adds up where windows overlap."""

    def forward(self, x: Array, *, dim: int, size: int, step: int) -> Array:
        xp = get_array_module(x)
        self.shape = x.shape
        if xp is np:
            windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim, writeable=True)
        else:  # NOTE: CuPy's takes no ``writeable`` (its views are always writable)
            windows = xp.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
        return windows[(slice(None),) * dim + (slice(None, None, step),)]

    def backward(self, grad: Array) -> Array:
        dim, size, step = self.kwargs["dim"], self.kwargs["size"], self.kwargs["step"]
        xp = get_array_module(grad)
        out = xp.zeros(self.shape, dtype=grad.dtype)
        count = grad.shape[dim]
        # NOTE: one pass per position in the window (not per element): the k-th elements
        # of all windows lie ``step`` apart, starting at k
        for k in range(size):
            out[_window_position(dim, k, step, count)] += grad[..., k]
        return out

    def graph_backward(self, grad: Tensor) -> Tensor:
        dim, size, step = self.kwargs["dim"], self.kwargs["size"], self.kwargs["step"]
        count = grad.shape[dim]
        total = grad.new_zeros(self.shape)
        for k in range(size):
            key = _window_position(dim, k, step, count)
            total = total + PutAt.apply(grad[..., k], key=key, shape=self.shape)
        return total


def _window_position(dim: int, k: int, step: int, count: int) -> tuple[slice, ...]:
    """Where the k-th elements of ``count`` windows ``step`` apart along ``dim`` lie."""
    return (slice(None),) * dim + (slice(k, k + step * (count - 1) + 1, step),)
