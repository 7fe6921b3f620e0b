"""Train a small GPT-style Transformer on characters of text shipped with scikit-learn.

Token and position embeddings, a stack of causal pre-norm ``TransformerEncoderLayer``
blocks (``nn.TransformerEncoder`` with ``is_causal=True``), a final ``LayerNorm`` and a
linear head predict the next character; AdamW with warm-up trains it, then it samples
text (a few minutes on a laptop CPU). Run: ``python examples/train_transformer.py``
(needs ac-core, ac-optim, ac-nn and scikit-learn; tqdm shows a progress bar if installed).
"""

import argparse

import numpy as np
from sklearn import datasets

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn, optim


def load_text() -> str:
    loaders = (
        datasets.load_iris,
        datasets.load_wine,
        datasets.load_breast_cancer,
        datasets.load_diabetes,
        datasets.load_digits,
        datasets.load_linnerud,
    )
    return "\n".join(loader().DESCR for loader in loaders)


class GPT(nn.Module):
    """A decoder-only Transformer over characters."""

    def __init__(
        self, vocab: int, context: int, width: int = 128, heads: int = 4, blocks: int = 2
    ) -> None:
        super().__init__()
        self.context = context
        self.token = nn.Embedding(vocab, width)
        self.position = nn.Embedding(context, width)
        block = nn.TransformerEncoderLayer(
            width,
            heads,
            4 * width,
            dropout=0.1,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(block, blocks)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)

    def forward(self, idx: ac.Tensor) -> ac.Tensor:
        length = idx.shape[1]
        x = self.token(idx) + self.position.weight[:length]
        x = self.blocks(x, is_causal=True)  # position i attends to positions <= i only
        return self.head(self.norm(x))


def sample(model: GPT, vocab: list[str], prompt: str, length: int) -> str:
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in prompt]
    generator = np.random.default_rng(0)
    model.eval()
    with ac.no_grad():
        for _ in range(length):
            logits = model(ac.tensor([ids[-model.context :]]))
            probs = logits[0, -1].softmax(dim=-1).numpy().astype(np.float64)
            ids.append(int(generator.choice(len(vocab), p=probs / probs.sum())))
    return "".join(vocab[i] for i in ids)


def main(steps: int = 500, batch_size: int = 32, context: int = 64, lr: float = 1e-3) -> float:
    ac.manual_seed(0)
    text = load_text()
    vocab = sorted(set(text))
    ids = np.array([vocab.index(c) for c in text])
    split = int(0.9 * len(ids))
    train, held_out = ids[:split], ids[split:]
    model = GPT(len(vocab), context)
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(0)
    print(f"{len(text)} characters, vocabulary {len(vocab)}, {model.n_params} parameters")

    def batch(source: np.ndarray, size: int) -> tuple[ac.Tensor, ac.Tensor]:
        starts = rng.integers(0, len(source) - context - 1, size)
        windows = np.stack([source[s : s + context + 1] for s in starts])
        return ac.tensor(windows[:, :-1]), ac.tensor(windows[:, 1:])

    def loss_of(x: ac.Tensor, y: ac.Tensor) -> ac.Tensor:
        return F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))

    try:
        from tqdm import trange
    except ImportError:
        trange = range
    held_x, held_y = batch(held_out, 64)
    warmup = 100
    for step in trange(steps):
        for group in optimizer.param_groups:  # linear warm-up, then constant
            group["lr"] = lr * min(1.0, (step + 1) / warmup)
        model.train()
        loss = loss_of(*batch(train, batch_size))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == steps - 1:
            model.eval()
            with ac.no_grad():
                held = loss_of(held_x, held_y).item()
            print(f"step {step:5d}  train loss {loss.item():.3f}  held-out loss {held:.3f}")
    print(sample(model, vocab, "The data set ", 300))
    return held


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    main(steps=parser.parse_args().steps)
