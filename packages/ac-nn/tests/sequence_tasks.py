"""Next-character prediction on text shipped with scikit-learn, and the models the training
tests fit to it, written once for ``auto_compyute.nn`` and ``torch.nn`` alike."""

from __future__ import annotations

from typing import Any

import numpy as np


def load_text() -> str:
    """English prose shipped with scikit-learn (no download): its data sets' descriptions."""
    from sklearn import datasets

    loaders = (
        datasets.load_iris,
        datasets.load_wine,
        datasets.load_breast_cancer,
        datasets.load_diabetes,
        datasets.load_digits,
        datasets.load_linnerud,
    )
    return "\n".join(loader().DESCR for loader in loaders)


def encode(text: str) -> tuple[np.ndarray, int]:
    """The text as int64 character ids, and the vocabulary size."""
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    return np.array([index[c] for c in text], dtype=np.int64), len(vocab)


def batches(
    ids: np.ndarray, batch: int, length: int, steps: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``steps`` batches of random windows: inputs (batch, length) and next-character targets."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(steps):
        starts = rng.integers(0, len(ids) - length - 1, batch)
        windows = np.stack([ids[s : s + length + 1] for s in starts])
        result.append((windows[:, :-1], windows[:, 1:]))
    return result


def char_lstm(nn: Any, vocab: int, embed: int = 32, hidden: int = 128) -> Any:
    """Embedding -> LSTM -> Linear, built from ``nn`` (``auto_compyute.nn`` or ``torch.nn``)."""

    class CharLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx: Any) -> Any:
            output, _ = self.lstm(self.embedding(idx))
            return self.head(output)

    return CharLSTM()


def tiny_gpt(
    nn: Any,
    causal_mask: Any,
    vocab: int,
    context: int,
    width: int = 64,
    heads: int = 4,
    blocks: int = 2,
) -> Any:
    """A GPT-style decoder: token + position embeddings, causal pre-norm blocks, a linear head.

    ``causal_mask(length)`` must return the additive causal mask of the library.
    """

    class TinyGPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.token = nn.Embedding(vocab, width)
            self.position = nn.Embedding(context, width)
            layer = nn.TransformerEncoderLayer(
                width,
                heads,
                4 * width,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.blocks = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab)

        def forward(self, idx: Any) -> Any:
            length = idx.shape[1]
            x = self.token(idx) + self.position.weight[:length]
            x = self.blocks(x, mask=causal_mask(length), is_causal=True)
            return self.head(self.norm(x))

    return TinyGPT()
