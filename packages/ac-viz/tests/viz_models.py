"""Graphs to draw, built from raw ac-core tensors (ac-viz must not depend on ac-nn)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import auto_compyute as ac


@dataclass
class Model:
    """A result to draw and the parameters (by name) it was computed from."""

    out: ac.Tensor
    params: dict[str, ac.Tensor]


def labelled(tensor: ac.Tensor, label: str) -> ac.Tensor:
    """``tensor`` with its ``label`` set (the title of its node)."""
    tensor.label = label
    return tensor


def readme_expression() -> ac.Tensor:
    """The seed README's ``x1 ** 2 + 4 * x2 + x3 + 10``."""
    x1 = ac.randn(2, 3, req_grad=True)
    x2 = ac.randn(2, 3, req_grad=True)
    x3 = ac.randn(2, 3, req_grad=True)
    return x1**2 + 4 * x2 + x3 + 10


def _param(*shape: int) -> ac.Tensor:
    return ac.Tensor(ac.randn(*shape).numpy() * 0.1, req_grad=True)


def _linear(x: ac.Tensor, p: dict[str, ac.Tensor], name: str) -> ac.Tensor:
    return x @ p[f"{name}.weight"] + p[f"{name}.bias"]


def mlp_loss(sizes: tuple[int, ...] = (4, 8, 3), batch: int = 5) -> Model:
    """Cross-entropy loss of a small MLP, parameters named like an ``nn.Sequential``."""
    p: dict[str, ac.Tensor] = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        p[f"{2 * i}.weight"], p[f"{2 * i}.bias"] = _param(n_in, n_out), _param(n_out)
    x = ac.randn(batch, sizes[0])
    x.label = "x"
    targets = ac.randint(0, sizes[-1], (batch,))
    h = x
    for i in range(len(sizes) - 1):
        h = _linear(h, p, str(2 * i))
        if i < len(sizes) - 2:
            h = h.relu()
    loss = -h.log_softmax(-1)[ac.arange(batch), targets].mean()
    return Model(loss, p)


def _layer_norm(x: ac.Tensor, p: dict[str, ac.Tensor], name: str) -> ac.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, correction=0, keepdim=True)
    return (x - mean) / (var + 1e-5).sqrt() * p[f"{name}.weight"] + p[f"{name}.bias"]


def _attention(x: ac.Tensor, p: dict[str, ac.Tensor], name: str, heads: int) -> ac.Tensor:
    b, t, d = x.shape
    q, k, v = (
        _linear(x, p, f"{name}.{n}").reshape(b, t, heads, d // heads).transpose(1, 2) for n in "qkv"
    )
    scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(d // heads))
    causal = ac.tril(ac.ones(t, t)).bool()
    weights = ac.where(causal, scores, float("-inf")).softmax(-1)
    out = (weights @ v).transpose(1, 2).reshape(b, t, d)
    return _linear(out, p, f"{name}.out")


def transformer_loss(
    blocks: int = 2, vocab: int = 11, dim: int = 8, heads: int = 2, batch: int = 2, seq: int = 5
) -> Model:
    """The training loss of a GPT-style decoder written with raw tensors.

    Token and position embeddings by indexing, pre-norm blocks (LayerNorm from mean and
    var, causal softmax attention masked with tril/where, a ReLU MLP), residual
    additions, a final LayerNorm and head, cross-entropy from log_softmax and indexing.
    """
    p = {"tok_emb.weight": _param(vocab, dim), "pos_emb.weight": _param(seq, dim)}
    for i in range(blocks):
        for ln in ("ln1", "ln2"):
            p[f"blocks.{i}.{ln}.weight"], p[f"blocks.{i}.{ln}.bias"] = _param(dim), _param(dim)
        for n in ("q", "k", "v", "out"):
            p[f"blocks.{i}.attn.{n}.weight"] = _param(dim, dim)
            p[f"blocks.{i}.attn.{n}.bias"] = _param(dim)
        p[f"blocks.{i}.mlp.fc1.weight"], p[f"blocks.{i}.mlp.fc1.bias"] = (
            _param(dim, 4 * dim),
            _param(4 * dim),
        )
        p[f"blocks.{i}.mlp.fc2.weight"], p[f"blocks.{i}.mlp.fc2.bias"] = (
            _param(4 * dim, dim),
            _param(dim),
        )
    p["ln_f.weight"], p["ln_f.bias"] = _param(dim), _param(dim)
    p["head.weight"] = _param(dim, vocab)

    tokens = ac.randint(0, vocab, (batch, seq))
    targets = ac.randint(0, vocab, (batch * seq,))
    x = p["tok_emb.weight"][tokens] + p["pos_emb.weight"][ac.arange(seq)]
    for i in range(blocks):
        x = x + _attention(_layer_norm(x, p, f"blocks.{i}.ln1"), p, f"blocks.{i}.attn", heads)
        h = _linear(_layer_norm(x, p, f"blocks.{i}.ln2"), p, f"blocks.{i}.mlp.fc1").relu()
        x = x + _linear(h, p, f"blocks.{i}.mlp.fc2")
    logits = _layer_norm(x, p, "ln_f") @ p["head.weight"]
    logp = logits.log_softmax(-1).reshape(batch * seq, vocab)
    loss = -logp[ac.arange(batch * seq), targets].mean()
    return Model(loss, p)
