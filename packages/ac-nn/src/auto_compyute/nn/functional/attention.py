"""Scaled dot-product attention: ``softmax(Q Kᵀ · scale + mask) V`` as one primitive."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import device_of, filled, get_array_module, move_array
from auto_compyute._core.functions import stack as ac_stack
from auto_compyute._core.parallel import PIECE_SIZE, get_num_threads, run_calls
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


class _Attention(Op):
    """out = P' V with P = softmax(S), S = Q Kᵀ · scale (+ mask), P' = P with dropout.

    dV = P'ᵀ g; dP' = g Vᵀ (dP = dP' · keep / (1 - p)); dS = P (dP - Σ dP P);
    dQ = dS K · scale; dK = dSᵀ Q · scale; an additive float mask gets dS.
    Rows whose every score is masked give 0 (as PyTorch), not NaN.

    NOTE: a primitive for speed and memory: one graph node keeps only each score row's
    log-sum-exp and recomputes P from it in backward (as PyTorch's fused kernels do:
    keeping P would cost L·S numbers per head), and the work is split over the leading
    (batch) axis across threads (see ``_split_batch``). The kernels hold the scores
    transposed, (S, L), one column per query: NumPy's maximum and sum along a short last
    axis (the keys) are several times slower than along the axis before it.
    ``graph_backward`` (second derivatives) recomputes P with tensor ops from q and k, so
    forward keeps nothing more for it.
    """

    def _attend(self, q: Array, k: Array, v: Array, mask: Array | None, out: Array) -> None:
        """Run the forward into ``out`` (any strides) and keep what backward needs."""
        xp = get_array_module(q)
        kwargs = self.kwargs
        self.q, self.k, self.v, self.out = q, k, v, out
        self.additive = _additive_mask(mask, kwargs["mask_kind"], kwargs["is_causal"], q, k)
        batch, length = out.shape[:-2], out.shape[-2]
        probs = xp.empty((*batch, k.shape[-2], length), dtype=q.dtype)  # transposed
        self.log_total = xp.empty((*batch, 1, length), dtype=q.dtype)
        self.keep = _dropout_keep((*batch, length, k.shape[-2]), kwargs["dropout_p"], q)
        arrays = (q, k, v, self.additive, self.keep, probs, self.log_total, out)
        _split_batch(partial(_attend, scale=kwargs["scale"]), arrays, out.ndim - 2)

    def _attend_backward(
        self, grad: Array, grad_q: Array, grad_k: Array, grad_v: Array
    ) -> Array | None:
        """Write the gradients of q, k and v; return that of a float mask (else None)."""
        xp = get_array_module(grad)
        batch, length = self.log_total.shape[:-2], self.log_total.shape[-1]
        probs = xp.empty((*batch, self.k.shape[-2], length), dtype=grad.dtype)  # transposed
        grad_scores = None
        if self.kwargs["mask_kind"] == "float":
            grad_scores = xp.empty((*batch, length, self.k.shape[-2]), dtype=grad.dtype)
        inputs = (grad, self.q, self.k, self.v, self.additive, self.keep, self.log_total)
        arrays = (*inputs, self.out, probs, grad_q, grad_k, grad_v, grad_scores)
        kernel = partial(_attend_backward, scale=self.kwargs["scale"])
        _split_batch(kernel, arrays, probs.ndim - 2)
        return grad_scores

    def _graph_gradients(
        self, grad: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``backward`` with tensor ops, for ``graph_backward``: the gradients of q, k, v
        and the scores, from the probabilities recomputed from q and k as tensors."""
        xp = get_array_module(grad.data)
        scale = self.kwargs["scale"]
        scores = q @ k.mT * scale
        if mask is not None:
            scores = scores + mask
        elif self.additive is not None:  # a bool or causal mask: a constant
            scores = scores + self._constant(xp.swapaxes(self.additive, -1, -2))
        seen = None
        if self.additive is not None:
            seen = xp.isfinite(xp.swapaxes(self.additive, -1, -2)).any(axis=-1, keepdims=True)
        if seen is not None and not seen.all():
            # NOTE: queries that see no key get weights 0, not softmax's NaN.
            valid = self._constant(xp.broadcast_to(seen, scores.shape))
            probs = scores.where(valid, 0.0).softmax(-1).where(valid, 0.0)
        else:
            probs = scores.softmax(-1)
        keep = None if self.keep is None else self._constant(xp.swapaxes(self.keep, -1, -2))
        weights = probs if keep is None else probs * keep
        grad_probs = grad @ v.mT
        if keep is not None:
            grad_probs = grad_probs * keep
        grad_scores = probs * (grad_probs - (grad_probs * probs).sum(-1, keepdim=True))
        grad_q = grad_scores @ k * scale
        grad_k = grad_scores.mT @ q * scale
        return grad_q, grad_k, weights.mT @ grad, grad_scores


class ScaledDotProductAttention(_Attention):
    """Attention over separate q (..., L, E), k (..., S, E) and v (..., S, Ev) arrays."""

    def forward(
        self,
        q: Array,
        k: Array,
        v: Array,
        *mask: Array,
        mask_kind: str | None,
        is_causal: bool,
        scale: float,
        dropout_p: float,
    ) -> Array:
        xp = get_array_module(q)
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        out = xp.empty((*batch, q.shape[-2], v.shape[-1]), dtype=q.dtype)
        self._attend(q, k, v, mask[0] if mask else None, out)
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        shapes = (self.log_total.shape[:-2] + a.shape[-2:] for a in (self.q, self.k, self.v))
        grad_q, grad_k, grad_v = (xp.empty(shape, grad.dtype) for shape in shapes)
        grad_scores = self._attend_backward(grad, grad_q, grad_k, grad_v)
        grads = (grad_q, grad_k, grad_v)
        return grads if grad_scores is None else (*grads, grad_scores)

    def graph_backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        q, k, v = (self._input(i, a) for i, a in enumerate((self.q, self.k, self.v)))
        mask = None
        if self.kwargs["mask_kind"] == "float":
            mask = self._input(3, get_array_module(grad.data).swapaxes(self.additive, -1, -2))
        grad_q, grad_k, grad_v, grad_scores = self._graph_gradients(grad, q, k, v, mask)
        grads = (grad_q, grad_k, grad_v)
        return grads if mask is None else (*grads, grad_scores)


class PackedSelfAttention(_Attention):
    """Self-attention of ``heads`` heads from one (B, L, 3E) projection [Q | K | V].

    The output comes out with the heads merged, (B, L, E), and the gradient of the
    projection in one array, so that no op splits or merges heads in the graph.
    """

    def forward(self, qkv: Array, *mask: Array, heads: int, **kwargs: Any) -> Array:
        xp = get_array_module(qkv)
        batch, length, width = qkv.shape
        out = xp.empty((batch, length, heads, width // (3 * heads)), dtype=qkv.dtype)
        self._attend(*_split_heads(qkv, heads), mask[0] if mask else None, out.swapaxes(1, 2))
        return out.reshape(batch, length, width // 3)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        heads = self.kwargs["heads"]
        grad_qkv = xp.empty((*grad.shape[:-1], 3 * grad.shape[-1]), dtype=grad.dtype)
        grad = grad.reshape(*grad.shape[:-1], heads, -1).swapaxes(1, 2)
        grad_scores = self._attend_backward(grad, *_split_heads(grad_qkv, heads))
        return grad_qkv if grad_scores is None else (grad_qkv, grad_scores)

    def graph_backward(self, grad: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        xp = get_array_module(grad.data)
        heads = self.kwargs["heads"]
        batch, length, width = grad.shape
        # NOTE: forward kept q, k and v as views of the projection: stacked back, they are it.
        parts = [xp.swapaxes(a, 1, 2) for a in (self.q, self.k, self.v)]
        qkv = self._input(0, xp.stack(parts, axis=2).reshape(batch, length, 3 * width))
        q, k, v = qkv.reshape(batch, length, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
        mask = None
        if self.kwargs["mask_kind"] == "float":
            mask = self._input(1, xp.swapaxes(self.additive, -1, -2))
        grad = grad.reshape(batch, length, heads, width // heads).permute(0, 2, 1, 3)
        *grads, grad_scores = self._graph_gradients(grad, q, k, v, mask)
        grad_qkv = ac_stack(grads, dim=2).permute(0, 3, 2, 1, 4).reshape(batch, length, -1)
        return grad_qkv if mask is None else (grad_qkv, grad_scores)


def _split_heads(qkv: Array, heads: int) -> tuple[Array, Array, Array]:
    """Views (B, heads, L, E / heads) of the three thirds of (B, L, 3E)."""
    batch, length, width = qkv.shape
    parts = qkv.reshape(batch, length, 3, heads, width // (3 * heads))
    return (
        parts[:, :, 0].swapaxes(1, 2),
        parts[:, :, 1].swapaxes(1, 2),
        parts[:, :, 2].swapaxes(1, 2),
    )


def _additive_mask(
    mask: Array | None, mask_kind: str | None, is_causal: bool, q: Array, k: Array
) -> Array | None:
    """The mask as scores to add (0 where allowed, -inf where not), transposed to (..., S, L)."""
    xp = get_array_module(q)
    if is_causal:  # key j may be seen by query i when j <= i
        if xp is np:
            return _causal_scores(k.shape[-2], q.shape[-2], q.dtype)
        return xp.tril(filled(xp, (k.shape[-2], q.shape[-2]), -xp.inf, q.dtype), -1)
    if mask_kind == "bool":
        mask = xp.where(mask, 0, -xp.inf).astype(q.dtype)
    return None if mask is None else xp.ascontiguousarray(xp.swapaxes(mask, -1, -2))


@functools.lru_cache(maxsize=16)
def _causal_scores(keys: int, queries: int, dtype: np.dtype[Any]) -> np.ndarray:
    """The causal mask as scores to add, (keys, queries), read-only: made once per shape.

    NOTE: NumPy's ``tril`` is Python code: 58 us a call inside a Transformer's step.
    """
    scores = np.tril(np.full((keys, queries), -np.inf, dtype=dtype), -1)
    scores.flags.writeable = False
    return scores


def _dropout_keep(shape: tuple[int, ...], dropout_p: float, like: Array) -> Array | None:
    """Dropout's scaled keep mask (keep / (1 - p)) for weights of ``shape`` (..., L, S),
    transposed to (..., S, L); or None."""
    if dropout_p == 0:
        return None
    xp = get_array_module(like)
    if dropout_p == 1:  # every weight dropped, as in PyTorch: the output is 0
        return xp.zeros((*shape[:-2], shape[-1], shape[-2]), dtype=like.dtype)
    keep = get_generator().random(shape) >= dropout_p
    keep = move_array(keep, device_of(like)) * like.dtype.type(1 / (1 - dropout_p))
    return xp.ascontiguousarray(keep.swapaxes(-1, -2))


def _split_batch(
    kernel: Callable[..., None], arrays: tuple[Array | None, ...], batch_ndim: int
) -> None:
    """Call ``kernel(*arrays)`` on slices of the leading axis, across threads.

    Arrays that broadcast along that axis (fewer axes, or size 1) go whole to every call;
    ``None`` stays ``None``. Small or non-NumPy work is one call.
    """
    present = [a for a in arrays if a is not None]
    full = batch_ndim + 2
    rows = max((a.shape[0] for a in present if a.ndim == full), default=1)
    threads = get_num_threads()
    if (
        batch_ndim == 0
        or rows < 2
        or threads == 1
        or sum(a.size for a in present) < 4 * PIECE_SIZE
        or not all(type(a) is np.ndarray for a in present)
    ):
        kernel(*arrays)
        return

    def piece(array: Array | None, start: int, stop: int) -> Array | None:
        if array is None or array.ndim != full or array.shape[0] == 1:
            return array
        return array[start:stop]

    step = -(-rows // min(threads, rows))
    run_calls(
        [
            partial(kernel, *(piece(a, start, start + step) for a in arrays))
            for start in range(0, rows, step)
        ]
    )


def _attend(
    q: Array,
    k: Array,
    v: Array,
    additive: Array | None,
    keep: Array | None,
    probs: Array,
    log_total: Array,
    out: Array,
    *,
    scale: float,
) -> None:
    """out = (softmax over the keys of q kᵀ · scale + additive, times keep) v, and
    log_total (..., 1, L) the log-sum-exp of each query's scores; ``probs`` (..., S, L)
    is scratch space."""
    xp = get_array_module(q)
    _scores(q, k, additive, probs, scale)
    top = probs.max(axis=-2, keepdims=True)
    top[~xp.isfinite(top)] = 0  # queries with every key masked: their weights come out 0
    probs -= top
    xp.exp(probs, probs)
    # NOTE: sums over an axis of a few dozen run several times faster as products with
    # ones (BLAS) than as NumPy reductions.
    total = filled(xp, (1, probs.shape[-2]), 1, probs.dtype) @ probs
    total[total == 0] = 1
    xp.log(total, log_total)
    log_total += top
    if keep is not None:
        probs *= keep
    # NOTE: the output (E values per query) is normalized instead of the weights (S each).
    # NOTE: swapaxes as a method: NumPy's function is Python code, slow inside a step
    xp.matmul(probs.swapaxes(-1, -2), v, out=out)
    out /= total.swapaxes(-1, -2)


def _scores(q: Array, k: Array, additive: Array | None, scores: Array, scale: float) -> None:
    """scores = (q kᵀ)ᵀ · scale + additive = k (qᵀ · scale) + additive, (..., S, L)."""
    xp = get_array_module(q)
    # NOTE: a contiguous qᵀ makes NumPy's stacked product about twice as fast; the copy
    # scales it on the way (q has E numbers per query, the scores S).
    xp.matmul(k, _scaled_transpose(q, scale), out=scores)
    if additive is not None:
        scores += additive


def _attend_backward(
    grad: Array,
    q: Array,
    k: Array,
    v: Array,
    additive: Array | None,
    keep: Array | None,
    log_total: Array,
    out: Array,
    probs: Array,
    grad_q: Array,
    grad_k: Array,
    grad_v: Array,
    grad_scores: Array | None,
    *,
    scale: float,
) -> None:
    """The gradients of ``_attend`` for its pieces, written into ``grad_*``."""
    xp = get_array_module(grad)
    _scores(q, k, additive, probs, scale)
    probs -= log_total
    xp.exp(probs, probs)  # the probabilities again, (..., S, L)
    weights = probs if keep is None else probs * keep
    xp.matmul(weights, grad, out=grad_v)
    # NOTE: dQ and dK take dS · scale, got from g · scale (E numbers per query, not S);
    # a float mask's gradient is dS itself.
    factor = scale if grad_scores is None else 1.0
    grad_s = v @ _scaled_transpose(grad, factor)  # dP' · factor, transposed
    if keep is not None:
        grad_s *= keep
    # NOTE: Σ_j dP_ij P_ij = g_i · out_i, a sum over the (shorter) value width, taken as
    # a product with ones like the sums in ``_attend``.
    row_dots = (grad * out) @ filled(xp, out.shape[-1], 1, out.dtype)
    row_dots *= factor
    grad_s -= row_dots[..., None, :]
    grad_s *= probs
    if grad_scores is not None:
        grad_scores[...] = grad_s.swapaxes(-1, -2)
        grad_s *= scale
    xp.matmul(grad_s.swapaxes(-1, -2), k, out=grad_q)
    xp.matmul(grad_s, q, out=grad_k)


def _scaled_transpose(x: Array, scale: float) -> Array:
    """A contiguous copy of ``x`` with its last two axes swapped, times ``scale``."""
    xp = get_array_module(x)
    out = xp.empty((*x.shape[:-2], x.shape[-1], x.shape[-2]), dtype=x.dtype)
    return xp.multiply(x.swapaxes(-1, -2), scale, out=out)


def _repeat_heads(t: Tensor, repeats: int) -> Tensor:
    """Repeat each head (axis -3) ``repeats`` times in a row, like ``repeat_interleave``."""
    *lead, heads, length, width = t.shape
    expanded = t.unsqueeze(-3).expand(*lead, heads, repeats, length, width)
    return expanded.reshape(*lead, heads * repeats, length, width)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention of queries over keys and values: ``softmax(Q Kᵀ · scale + mask) V``.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``. Leading (batch, head) axes of the three broadcast.
        attn_mask: Broadcastable to ``(..., L, S)``: a bool mask where True marks the
            pairs that take part (as PyTorch), or a float mask added to the scores.
        dropout_p: Probability of dropping an attention weight (applied whenever > 0,
            as in PyTorch; pass 0 in evaluation). Masks come from ``ac``'s generator.
        is_causal: Let query ``i`` attend to keys ``j <= i`` only (a lower-triangular
            mask, aligned at the top left like PyTorch). Excludes ``attn_mask``.
        scale: The factor of the scores; ``1 / sqrt(E)`` if None.
        enable_gqa: Allow fewer key/value heads (axis -3) than query heads; each is
            shared by ``Hq / Hkv`` consecutive query heads.

    Returns:
        ``(..., L, Ev)``. Rows with no key to attend to are 0.

    Example:
        >>> q = k = v = ac.randn(2, 4, 8, 16)  # (batch, heads, length, width)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 8, 16)
    """
    shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ValueError(f"attention needs inputs with at least 2 axes, got {shapes}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"attention needs query (..., L, E), key (..., S, E) and value (..., S, Ev), "
            f"got {shapes}"
        )
    if query.dtype != key.dtype or query.dtype != value.dtype or query.dtype.kind != "f":
        raise TypeError(
            f"attention needs query, key and value of one floating-point dtype, got "
            f"{query.dtype}, {key.dtype} and {value.dtype}"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if kv_heads != value.shape[-3] or heads % kv_heads:
            raise ValueError(
                f"enable_gqa needs key and value heads that divide the query heads, got {shapes}"
            )
        key = _repeat_heads(key, heads // kv_heads)
        value = _repeat_heads(value, heads // kv_heads)
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"attention: the leading axes do not broadcast: {shapes}") from None
    scores_shape = (*batch, query.shape[-2], key.shape[-2])
    srcs = [query, key, value]
    mask_kind = None
    if attn_mask is not None:
        if is_causal:
            raise ValueError("pass either attn_mask or is_causal=True, not both")
        try:
            np.broadcast_shapes(attn_mask.shape, scores_shape)
        except ValueError:
            raise ValueError(
                f"attn_mask of shape {attn_mask.shape} does not broadcast to the scores "
                f"{scores_shape} of {shapes}"
            ) from None
        if attn_mask.dtype.kind == "b":
            mask_kind = "bool"
        else:
            mask_kind = "float"
            attn_mask = attn_mask.to(dtype=query.dtype)
        srcs.append(attn_mask)
    return ScaledDotProductAttention.apply(
        *srcs,
        mask_kind=mask_kind,
        is_causal=is_causal,
        scale=1 / math.sqrt(query.shape[-1]) if scale is None else float(scale),
        dropout_p=float(dropout_p),
    )


def packed_self_attention(
    qkv: Tensor,
    heads: int,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
) -> Tensor:
    """Self-attention from one (B, L, 3E) input projection [Q | K | V]; returns (B, L, E).

    ``scaled_dot_product_attention`` over the heads of the three thirds, with the heads
    merged back; used by ``nn.MultiheadAttention`` for self-attention. ``attn_mask`` is a
    float mask broadcastable to (B, heads, L, L).
    """
    width = qkv.shape[-1] // 3
    srcs = [qkv] if attn_mask is None else [qkv, attn_mask]
    return PackedSelfAttention.apply(
        *srcs,
        heads=heads,
        mask_kind=None if attn_mask is None else "float",
        is_causal=is_causal,
        scale=1 / math.sqrt(width // heads),
        dropout_p=float(dropout_p),
    )
