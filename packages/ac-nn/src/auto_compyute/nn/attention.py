"""Multi-head attention: PyTorch's ``MultiheadAttention`` and the seed's ``MultiHeadSelfAttention``.

Parameters carry PyTorch's names (``in_proj_weight``, ``in_proj_bias``,
``out_proj.weight``, ...) so state dicts load in both directions. Without attention
weights to return, the heads run through the fused ``F.scaled_dot_product_attention``;
with them, attention is composed from matmul and softmax so that the returned weights
are part of the graph too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from auto_compyute import Tensor, cat, pad, zeros
from auto_compyute._core import dtypes
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.factories import empty
from auto_compyute.nn import functional as F
from auto_compyute.nn import init
from auto_compyute.nn.functional.attention import packed_self_attention
from auto_compyute.nn.linear import Linear
from auto_compyute.nn.module import Module, Parameter

__all__ = ["MultiHeadSelfAttention", "MultiheadAttention"]


def _additive_mask(mask: Tensor, dtype: Any, what: str) -> Tensor:
    """A mask as an additive float tensor: bool True (not allowed) becomes -inf."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{what} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype.kind == "b":
        xp = get_array_module(mask.data)
        return Tensor(xp.where(mask.data, -xp.inf, 0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"{what} must be a bool or floating-point tensor, got dtype {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def _causal_mask(
    length: int, source: int | None = None, dtype: Any = None, device: Any = None
) -> Tensor:
    """A float mask (length, source), -inf above the diagonal: query ``i`` sees keys ``j <= i``."""
    source = length if source is None else source
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    array = np.triu(np.full((length, source), -np.inf, dtype=dtype), 1)
    return Tensor(array, device=device)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al.): ``concat(head_1, ..., head_h) W_O^T + b_O``.

    Each head is ``softmax(Q_i K_i^T / sqrt(d) + mask) V_i`` with ``Q_i = query W_Qi^T + b_Qi``
    (likewise K and V) and ``d = embed_dim / num_heads``.

    Args:
        embed_dim: Width of the queries and of the output.
        num_heads: Number of heads; must divide ``embed_dim``.
        dropout: Dropout probability on the attention weights (in training).
        bias: Whether the input and output projections have biases.
        add_bias_kv: Append a learned key and value (``bias_k``, ``bias_v``) to the sequence.
        add_zero_attn: Append a zero key and value to the sequence.
        kdim: Width of the keys (``embed_dim`` if None).
        vdim: Width of the values (``embed_dim`` if None).
        batch_first: Inputs and outputs are (batch, seq, feature) instead of (seq, batch, feature).
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Example:
        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = ac.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for key, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")
        if embed_dim % num_heads:
            raise ValueError(
                f"{name}: embed_dim must be divisible by num_heads, got embed_dim={embed_dim} "
                f"and num_heads={num_heads}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"{name} needs a floating-point dtype, got {dtype}")
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = embed_dim // num_heads

        def parameter(*shape: int) -> Parameter:
            return Parameter(empty(*shape, dtype=dtype, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = parameter(3 * embed_dim, embed_dim)
            for key in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(key, None)
        else:
            self.q_proj_weight = parameter(embed_dim, embed_dim)
            self.k_proj_weight = parameter(embed_dim, self.kdim)
            self.v_proj_weight = parameter(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = parameter(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = parameter(1, 1, embed_dim)
            self.bias_v = parameter(1, 1, embed_dim)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projection_weights(self) -> tuple[Tensor, Tensor, Tensor]:
        if self._qkv_same_embed_dim:
            w, e = self.in_proj_weight, self.embed_dim
            return w[:e], w[e : 2 * e], w[2 * e :]
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Input projections of batch-first (B, L, *) inputs."""
        w_q, w_k, w_v = self._projection_weights()
        b = self.in_proj_bias
        e = self.embed_dim
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])

        flat: dict[int, Tensor] = {}

        def linear(x: Tensor, w: Tensor, bias: Tensor | None) -> Tensor:
            batch, length, width = x.shape
            # NOTE: one 2-D product is much faster than NumPy's batched 3-D matmul; self-
            # attention flattens its one input once.
            if id(x) not in flat:
                flat[id(x)] = x.reshape(batch * length, width)
            y = flat[id(x)] @ w.T
            if bias is not None:
                y = y + bias
            return y.reshape(batch, length, w.shape[0])

        return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Validate shapes; return True if the inputs are unbatched (2-D)."""
        name = type(self).__name__
        for label, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: {label} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{name}: query, key and value must all be 3-D (batched) or 2-D (unbatched), got "
                f"shapes {query.shape}, {key.shape} and {value.shape}"
            )
        widths = (
            (query, self.embed_dim, "query"),
            (key, self.kdim, "key"),
            (value, self.vdim, "value"),
        )
        for t, width, label in widths:
            if t.shape[-1] != width:
                raise ValueError(f"{name}: expected {label} of width {width}, got shape {t.shape}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{name}: key and value must have the same batch and sequence sizes, got "
                f"{key.shape} and {value.shape}"
            )
        dtype = self.out_proj.weight.dtype
        for label, t in (("query", query), ("key", key), ("value", value)):
            if t.dtype != dtype:
                raise TypeError(f"{name}: {label} has dtype {t.dtype}, the parameters have {dtype}")
        return query.ndim == 2

    def _merge_masks(
        self,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        batch: int,
        length: int,
        source: int,
        dtype: Any,
    ) -> Tensor | None:
        """One additive float mask broadcastable to (B, heads, L, S), or None."""
        name, heads = type(self).__name__, self.num_heads
        mask = None
        if attn_mask is not None:
            mask = _additive_mask(attn_mask, dtype, "attn_mask")
            if mask.ndim == 2:
                if mask.shape != (length, source):
                    raise RuntimeError(
                        f"{name}: The shape of the 2D attn_mask is {mask.shape}, but should be "
                        f"{(length, source)}."
                    )
            elif mask.ndim == 3:
                if mask.shape != (batch * heads, length, source):
                    raise RuntimeError(
                        f"{name}: The shape of the 3D attn_mask is {mask.shape}, but should be "
                        f"{(batch * heads, length, source)}."
                    )
                mask = mask.reshape(batch, heads, length, source)
            else:
                raise RuntimeError(f"{name}: attn_mask's dimension {mask.ndim} is not supported")
        if key_padding_mask is not None:
            padding = _additive_mask(key_padding_mask, dtype, "key_padding_mask")
            if padding.shape != (batch, source):
                raise RuntimeError(
                    f"{name}: expected key_padding_mask of shape {(batch, source)}, "
                    f"got {padding.shape}"
                )
            padding = padding.reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` over ``key``/``value``.

        Args:
            query: (L, N, E) ((N, L, E) if ``batch_first``; (L, E) unbatched).
            key: (S, N, kdim) (or batch-first / unbatched likewise).
            value: (S, N, vdim) (or batch-first / unbatched likewise).
            key_padding_mask: (N, S) (or (S,) unbatched); True (or -inf) marks keys to ignore.
            need_weights: Also return the attention weights.
            attn_mask: (L, S) or (N * num_heads, L, S); bool True marks pairs that may not
                attend, a float mask is added to the scores.
            average_attn_weights: Average the returned weights over the heads.
            is_causal: Query ``i`` attends to keys ``j <= i`` only. As in PyTorch,
                ``attn_mask`` is taken as the causal mask if given; unlike PyTorch, it may
                be omitted and is then built here.

        Returns:
            ``(attn_output, attn_weights)``: output (L, N, E) (batch-first / unbatched
            likewise) and weights (N, L, S) averaged over heads or (N, num_heads, L, S),
            or None if ``need_weights`` is False.
        """
        unbatched = self._check_inputs(query, key, value)
        # NOTE: self-attention runs as one input projection and one attention op over
        # its packed output, with no graph ops splitting or merging heads.
        packed = (
            query is key is value
            and self._qkv_same_embed_dim
            and self.bias_k is None
            and not self.add_zero_attn
            and not need_weights
        )
        if unbatched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        batch, length, _ = query.shape
        if packed:
            out = self._packed_self_attention(
                query, key_padding_mask, attn_mask, is_causal, batch, length
            )
            return self._output(out, unbatched, None)
        q, k, v = self._project(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(batch, 1, self.embed_dim)], dim=1)
            v = cat([v, self.bias_v.expand(batch, 1, self.embed_dim)], dim=1)
            attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
        heads, head_dim = self.num_heads, self.head_dim
        q = q.reshape(batch, length, heads, head_dim).transpose(1, 2)
        k = k.reshape(batch, k.shape[1], heads, head_dim).transpose(1, 2)
        v = v.reshape(batch, v.shape[1], heads, head_dim).transpose(1, 2)
        if self.add_zero_attn:
            zero = zeros(batch, heads, 1, head_dim, dtype=q.dtype, device=q.device)
            k, v = cat([k, zero], dim=2), cat([v, zero], dim=2)
            attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
        source = k.shape[2]
        dropout = self.dropout if self.training else 0.0
        # NOTE: as in PyTorch, is_causal lets the fused kernel skip an explicit mask when
        # nothing else needs one (the given attn_mask is then taken to be causal).
        fused_causal = (
            is_causal and key_padding_mask is None and not need_weights and length == source
        )
        if is_causal and attn_mask is None and not fused_causal:
            attn_mask = _causal_mask(length, source, q.dtype, q.device)
        mask = None
        if not fused_causal:
            mask = self._merge_masks(attn_mask, key_padding_mask, batch, length, source, q.dtype)
        weights = None
        if need_weights:
            scores = (q * (1 / math.sqrt(head_dim))) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + mask
            weights = scores.softmax(dim=-1)
            if dropout:
                weights = F.dropout(weights, dropout, training=True)
            out = weights @ v
            if average_attn_weights:
                weights = weights.mean(dim=1)
        else:
            out = F.scaled_dot_product_attention(q, k, v, mask, dropout, is_causal=fused_causal)
        out = out.transpose(1, 2).reshape(batch, length, self.embed_dim)
        return self._output(out, unbatched, weights)

    def _packed_self_attention(
        self,
        x: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
        is_causal: bool,
        batch: int,
        length: int,
    ) -> Tensor:
        """Self-attention of batch-first ``x`` before the output projection, (B, L, E)."""
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        fused_causal = is_causal and key_padding_mask is None
        if is_causal and attn_mask is None and not fused_causal:
            attn_mask = _causal_mask(length, length, x.dtype, x.device)
        mask = None
        if not fused_causal:
            mask = self._merge_masks(attn_mask, key_padding_mask, batch, length, length, x.dtype)
        dropout = self.dropout if self.training else 0.0
        return packed_self_attention(qkv, self.num_heads, mask, dropout, fused_causal)

    def _output(
        self, out: Tensor, unbatched: bool, weights: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """Project the merged heads (B, L, E) and lay the result out like the input."""
        out = self.out_proj(out)
        if unbatched:
            return out.squeeze(0), None if weights is None else weights.squeeze(0)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.batch_first:
            text += ", batch_first=True"
        return text


class MultiHeadSelfAttention(MultiheadAttention):
    """Self-attention over one input ``x`` (the seed's layer), built on ``MultiheadAttention``.

    Parameters and their names are ``MultiheadAttention``'s. Inputs are batch-first by
    default, as in the seed.

    Args:
        embed_dim: Width of the input and output (the seed's ``in_dim``).
        num_heads: Number of heads (the seed's ``n_heads``).
        dropout: Dropout probability on the attention weights (in training).
        bias: Whether the projections have biases.
        batch_first: Inputs are (batch, seq, feature) (the default) or (seq, batch, feature).
        causal: Let position ``i`` attend to positions ``j <= i`` only.
        mask: A fixed attention mask (L, S) applied on every call: bool True marks pairs
            that may not attend, a float mask is added to the scores.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Example:
        >>> attn = nn.MultiHeadSelfAttention(32, 4, causal=True)
        >>> attn(ac.randn(2, 10, 32)).shape
        (2, 10, 32)
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = True,
        causal: bool = False,
        mask: Tensor | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            embed_dim, num_heads, dropout, bias, batch_first=batch_first, device=device, dtype=dtype
        )
        self.causal = bool(causal)
        self.register_buffer("mask", mask, persistent=False)

    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        attn_mask: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
    ) -> Tensor:
        """Attend from every position of ``x`` over ``x``.

        Args:
            x: (N, L, E) ((L, N, E) if not ``batch_first``; (L, E) unbatched).
            attn_mask: Overrides the fixed ``mask`` for this call (same conventions).
            key_padding_mask: (N, L); True marks positions to ignore.

        Returns:
            The output, shaped like ``x``.
        """
        mask = self.mask if attn_mask is None else attn_mask
        out, _ = super().forward(
            x,
            x,
            x,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            attn_mask=mask,
            is_causal=self.causal,
        )
        return out

    def extra_repr(self) -> str:
        return super().extra_repr() + (", causal=True" if self.causal else "")
