"""Scaled dot-product attention: ``softmax(Q Kᵀ · scale + mask) V`` as one primitive."""

from __future__ import annotations

import math

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import device_of, get_array_module, move_array
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


class ScaledDotProductAttention(Op):
    """out = P' V with P = softmax(S), S = Q Kᵀ · scale (+ mask), P' = P with dropout.

    dV = P'ᵀ g; dP' = g Vᵀ (dP = dP' · keep / (1 - p)); dS = P (dP - Σ dP P);
    dQ = dS K · scale; dK = dSᵀ Q · scale; an additive float mask gets dS.
    Rows whose every score is masked give 0 (as PyTorch), not NaN.

    NOTE: a primitive for speed and memory: one graph node keeps P instead of the
    five intermediate arrays a composed version would.
    """

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
        scores = (q @ xp.swapaxes(k, -1, -2)) * scale
        if mask_kind == "bool":
            scores = xp.where(mask[0], scores, -xp.inf)
        elif mask_kind == "float":
            scores = scores + mask[0]
        if is_causal:
            length, source = scores.shape[-2:]
            keep = xp.tril(xp.ones((length, source), dtype=bool))
            scores = xp.where(keep, scores, -xp.inf)
        top = scores.max(axis=-1, keepdims=True)
        top = xp.where(xp.isfinite(top), top, 0)
        exps = xp.exp(scores - top)
        total = exps.sum(axis=-1, keepdims=True)
        self.probs = exps / xp.where(total == 0, 1, total)
        self.keep = None
        weights = self.probs
        if dropout_p > 0:
            keep = get_generator().random(self.probs.shape) >= dropout_p
            self.keep = move_array(keep, device_of(q)) * q.dtype.type(1 / (1 - dropout_p))
            weights = self.probs * self.keep
        self.q, self.k, self.v, self.weights = q, k, v, weights
        return weights @ v

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        scale = self.kwargs["scale"]
        needs_q, needs_k, needs_v = self.needs_grad[:3]
        grad_v = xp.swapaxes(self.weights, -1, -2) @ grad if needs_v else None
        grad_q = grad_k = grad_mask = None
        if needs_q or needs_k or True in self.needs_grad[3:]:
            grad_p = grad @ xp.swapaxes(self.v, -1, -2)
            if self.keep is not None:
                grad_p = grad_p * self.keep
            grad_s = self.probs * (grad_p - (grad_p * self.probs).sum(axis=-1, keepdims=True))
            grad_mask = grad_s if self.kwargs["mask_kind"] == "float" else None
            if needs_q:
                grad_q = (grad_s @ self.k) * scale
            if needs_k:
                grad_k = (xp.swapaxes(grad_s, -1, -2) @ self.q) * scale
        grads = (grad_q, grad_k, grad_v)
        return grads if self.kwargs["mask_kind"] is None else (*grads, grad_mask)


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
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p}")
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
