"""Transformer blocks with PyTorch's structure and submodule names.

``TransformerEncoderLayer`` holds ``self_attn``, ``linear1``, ``dropout``, ``linear2``,
``norm1``, ``norm2``, ``dropout1`` and ``dropout2`` exactly as PyTorch's does (the decoder
layer adds ``multihead_attn``, ``norm3`` and ``dropout3``), so their state dicts are
interchangeable; ``TransformerEncoder`` and ``TransformerDecoder`` stack copies of a layer
under ``layers.0``, ``layers.1``, ...; ``Transformer`` joins an encoder and a decoder.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from auto_compyute import Tensor
from auto_compyute._core import dtypes
from auto_compyute._core.autograd import Array, Op
from auto_compyute.nn import functional as F
from auto_compyute.nn import init
from auto_compyute.nn.attention import MultiheadAttention
from auto_compyute.nn.containers import ModuleList
from auto_compyute.nn.dropout import Dropout
from auto_compyute.nn.functional.activations import GELU
from auto_compyute.nn.linear import Linear
from auto_compyute.nn.module import Module
from auto_compyute.nn.normalization import LayerNorm

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "generate_square_subsequent_mask",
]

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
    """A causal mask for a sequence of length ``sz``: 0 on and below the diagonal, -inf above.

    Args:
        sz: The sequence length.
        device: Where to create the mask.
        dtype: A floating-point dtype (float32 by default).

    Returns:
        A float tensor (sz, sz) to pass as ``attn_mask`` / ``src_mask``.

    Example:
        >>> nn.generate_square_subsequent_mask(3)
        Tensor([[0., -inf, -inf],
                [0., 0., -inf],
                [0., 0., 0.]])
    """
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return Tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1), device=device)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each with a residual connection and LayerNorm.

    Post-norm (default): ``x = norm1(x + SA(x)); x = norm2(x + FF(x))``; with ``norm_first``:
    ``x = x + SA(norm1(x)); x = x + FF(norm2(x))``, where
    ``FF(x) = dropout2(linear2(dropout(activation(linear1(x)))))`` and
    ``SA(x) = dropout1(self_attn(x, x, x))``.

    Args:
        d_model: Width of the inputs and outputs.
        nhead: Number of attention heads.
        dim_feedforward: Width of the feed-forward network's hidden layer.
        dropout: Dropout probability (attention weights, feed-forward, residual branches).
        activation: ``"relu"``, ``"gelu"`` or a callable (a function or a module).
        layer_norm_eps: The ``eps`` of both LayerNorms.
        batch_first: Inputs and outputs are (batch, seq, feature) instead of (seq, batch, feature).
        norm_first: Normalize before attention and feed-forward (pre-norm) instead of after.
        bias: Whether the linear layers, the attention and the LayerNorms have biases.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Example:
        >>> layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, batch_first=True)
        >>> layer(ac.randn(2, 10, 32)).shape
        (2, 10, 32)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    @property
    def batch_first(self) -> bool:
        return self.self_attn.batch_first

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """Encode ``src``.

        Args:
            src: (S, N, E) ((N, S, E) if ``batch_first``; (S, E) unbatched).
            src_mask: (S, S) or (N * nhead, S, S) attention mask (see ``MultiheadAttention``).
            src_key_padding_mask: (N, S); True marks positions to ignore.
            is_causal: Attend causally (``src_mask`` is then taken to be the causal mask,
                and may be omitted).

        Returns:
            A tensor shaped like ``src``.
        """
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = self._add_ff_block(x, self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(self._add_ff_block(x, x))
        return x

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        return _attend(self.self_attn, self.dropout1, x, x, attn_mask, key_padding_mask, is_causal)

    def _add_ff_block(self, residual: Tensor, x: Tensor) -> Tensor:
        """``residual + FF(x)``."""
        branch = self._ff_block(x)
        # NOTE: as with GELU below, the array of a Linear's (or Dropout's) result is new and
        # no op keeps it, so the sum may be written over it: one activation-sized array
        # less at the end of forward, where a step's memory peaks. Not where a hook may
        # have kept that result.
        new = _fresh(self.linear2, Linear) and _fresh(self.dropout2, Dropout)
        if new and (branch.shape, branch.dtype) == (residual.shape, residual.dtype):
            return _AddInto.apply(residual, branch)
        return residual + branch

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(_ff_hidden(self, x))))


def _attend(
    attention: MultiheadAttention,
    dropout: Module,
    x: Tensor,
    memory: Tensor,
    attn_mask: Tensor | None,
    key_padding_mask: Tensor | None,
    is_causal: bool,
) -> Tensor:
    """``dropout(attention(x, memory, memory))``: a layer's attention branch."""
    out, _ = attention(
        x,
        memory,
        memory,
        attn_mask=attn_mask,
        key_padding_mask=key_padding_mask,
        need_weights=False,
        is_causal=is_causal,
    )
    return dropout(out)


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _fresh(module: Module, kind: type) -> bool:
    """Whether ``module``'s result is a new array that nothing else holds: a plain ``kind``
    module (not a subclass, whose forward might return a kept array) without hooks (which
    may keep the result)."""
    return type(module) is kind and not module._hooked


def _ff_hidden(layer: Any, x: Tensor) -> Tensor:
    """``activation(linear1(x))``, the hidden layer of a transformer layer's feed-forward."""
    hidden = layer.linear1(x)
    if layer.activation is F.gelu and _fresh(layer.linear1, Linear):
        # NOTE: a Linear's result is a new array that no op keeps, so GELU may write
        # over it: one activation-sized array less at the peak of a training step.
        # (Another module in linear1's place might return an array still in use.)
        return GELU.apply(hidden, approximate="none", reuse_input=True)
    return layer.activation(hidden)


class _AddInto(Op):
    """a + b, written over b's array (which must be one no op keeps); d/da = d/db = 1."""

    @property
    def name(self) -> str:
        return "Add"  # NOTE: in reprs and graph drawings it is the sum it computes

    def forward(self, a: Array, b: Array) -> Array:
        b += a
        return b

    def backward(self, grad: Array) -> tuple[Array, Array]:
        return grad, grad

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of an encoder layer, optionally followed by a norm.

    Args:
        encoder_layer: The layer to copy (each copy gets its own parameters).
        num_layers: Number of layers.
        norm: An optional module applied to the output (e.g. a ``LayerNorm``).
        enable_nested_tensor: Accepted for PyTorch compatibility; has no effect.
        mask_check: Accepted for PyTorch compatibility; has no effect.

    Example:
        >>> layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=True)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=3)
        >>> encoder(ac.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = ModuleList(_copies(encoder_layer, num_layers, "TransformerEncoder"))
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Run ``src`` through every layer (arguments as in ``TransformerEncoderLayer.forward``)."""
        causal = bool(is_causal)
        output = src
        for layer in self.layers:
            output = layer(
                output, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=causal
            )
        return output if self.norm is None else self.norm(output)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (``memory``), then a feed-forward
    network, each with a residual connection and LayerNorm.

    Post-norm (default): ``x = norm1(x + SA(x)); x = norm2(x + MHA(x, memory));
    x = norm3(x + FF(x))``; with ``norm_first`` each block is ``x = x + block(norm(x))``,
    where ``SA``, ``MHA`` and ``FF`` end in ``dropout1``, ``dropout2`` and ``dropout3``.

    Args:
        d_model: Width of the inputs, the memory and the outputs.
        nhead: Number of attention heads.
        dim_feedforward: Width of the feed-forward network's hidden layer.
        dropout: Dropout probability.
        activation: ``"relu"``, ``"gelu"`` or a callable.
        layer_norm_eps: The ``eps`` of the LayerNorms.
        batch_first: Inputs and outputs are (batch, seq, feature).
        norm_first: Normalize before each block (pre-norm) instead of after.
        bias: Whether the linear layers, the attentions and the LayerNorms have biases.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Example:
        >>> layer = nn.TransformerDecoderLayer(d_model=32, nhead=4, batch_first=True)
        >>> layer(ac.randn(2, 7, 32), ac.randn(2, 10, 32)).shape
        (2, 7, 32)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first, **factory}
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Decode ``tgt`` attending to ``memory``.

        Args:
            tgt: (T, N, E) ((N, T, E) if ``batch_first``; (T, E) unbatched).
            memory: The encoder's output, (S, N, E) (or batch first, or unbatched).
            tgt_mask: (T, T) or (N * nhead, T, T) mask of the self-attention.
            memory_mask: (T, S) or (N * nhead, T, S) mask of the attention over memory.
            tgt_key_padding_mask: (N, T); True marks target positions to ignore.
            memory_key_padding_mask: (N, S); True marks memory positions to ignore.
            tgt_is_causal: The self-attention is causal (``tgt_mask`` may be omitted).
            memory_is_causal: The attention over memory is causal.

        Returns:
            A tensor shaped like ``tgt``.
        """
        x = tgt
        sa = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        mha = (memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *sa)
            x = x + self._mha_block(self.norm2(x), *mha)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, *sa))
            x = self.norm2(x + self._mha_block(x, *mha))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        return _attend(self.self_attn, self.dropout1, x, x, attn_mask, key_padding_mask, is_causal)

    def _mha_block(
        self,
        x: Tensor,
        memory: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool,
    ) -> Tensor:
        attention, dropout = self.multihead_attn, self.dropout2
        return _attend(attention, dropout, x, memory, attn_mask, key_padding_mask, is_causal)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(_ff_hidden(self, x))))


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of a decoder layer, optionally followed by a norm.

    Args:
        decoder_layer: The layer to copy (each copy gets its own parameters).
        num_layers: Number of layers.
        norm: An optional module applied to the output (e.g. a ``LayerNorm``).
    """

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = ModuleList(_copies(decoder_layer, num_layers, "TransformerDecoder"))
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Run ``tgt`` through every layer (arguments as in ``TransformerDecoderLayer.forward``)."""
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder-decoder Transformer ("Attention Is All You Need"), as PyTorch's.

    ``encoder`` is a ``TransformerEncoder`` and ``decoder`` a ``TransformerDecoder``, each
    ending in a ``LayerNorm``; every weight matrix starts from ``xavier_uniform_``, as in
    PyTorch. There are no embeddings or output projection: inputs are already vectors.

    Args:
        d_model: Width of the inputs and outputs.
        nhead: Number of attention heads.
        num_encoder_layers: Encoder layers.
        num_decoder_layers: Decoder layers.
        dim_feedforward: Width of the feed-forward networks' hidden layers.
        dropout: Dropout probability.
        activation: ``"relu"``, ``"gelu"`` or a callable.
        custom_encoder: A module to use as the encoder instead.
        custom_decoder: A module to use as the decoder instead.
        layer_norm_eps: The ``eps`` of the LayerNorms.
        batch_first: Inputs and outputs are (batch, seq, feature).
        norm_first: Pre-norm layers.
        bias: Whether the linear layers, the attentions and the LayerNorms have biases.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Example:
        >>> model = nn.Transformer(
        ...     d_model=16,
        ...     nhead=2,
        ...     num_encoder_layers=1,
        ...     num_decoder_layers=1,
        ...     dim_feedforward=32,
        ...     batch_first=True,
        ... )
        >>> model(ac.randn(2, 9, 16), ac.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        layer: dict[str, Any] = {
            "d_model": d_model,
            "nhead": nhead,
            "dim_feedforward": dim_feedforward,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_eps": layer_norm_eps,
            "batch_first": batch_first,
            "norm_first": norm_first,
            "bias": bias,
            "device": device,
            "dtype": dtype,
        }
        norm = {"eps": layer_norm_eps, "bias": bias, "device": device, "dtype": dtype}
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(
                TransformerEncoderLayer(**layer), num_encoder_layers, LayerNorm(d_model, **norm)
            )
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(
                TransformerDecoderLayer(**layer), num_decoder_layers, LayerNorm(d_model, **norm)
            )
        self.encoder, self.decoder = custom_encoder, custom_decoder
        for param in self.parameters():
            if param.ndim > 1:
                init.xavier_uniform_(param)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Encode ``src`` and decode ``tgt`` attending to it (masks as in the layers).

        Returns:
            A tensor shaped like ``tgt``.
        """
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise ValueError(
                f"Transformer: src {src.shape} and tgt {tgt.shape} have different batch sizes"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(
                f"Transformer: src {src.shape} and tgt {tgt.shape} need d_model={self.d_model} "
                "features"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)


def _copies(layer: Module, count: int, owner: str) -> list[Module]:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{owner}: num_layers must be a positive integer, got {count!r}")
    return [copy.deepcopy(layer) for _ in range(count)]
