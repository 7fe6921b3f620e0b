"""Train a character-level LSTM language model on text shipped with scikit-learn.

The text is the concatenated descriptions of scikit-learn's bundled data sets (no
download). The model (``Embedding`` -> ``LSTM`` -> ``Linear``) learns to predict the next
character; it then samples new text from a prompt (seconds on a laptop CPU). Run:
``python examples/train_lstm.py`` (needs ac-core, ac-optim, ac-nn and scikit-learn;
tqdm shows a progress bar if installed).
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


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear over the vocabulary."""

    def __init__(self, vocab: int, embed: int = 32, hidden: int = 128, layers: int = 1) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(
        self, idx: ac.Tensor, state: tuple[ac.Tensor, ac.Tensor] | None = None
    ) -> tuple[ac.Tensor, tuple[ac.Tensor, ac.Tensor]]:
        output, state = self.lstm(self.embedding(idx), state)
        return self.head(output), state


def sample(model: CharLSTM, vocab: list[str], prompt: str, length: int) -> str:
    """Generate ``length`` characters after ``prompt``, carrying the LSTM state along."""
    index = {c: i for i, c in enumerate(vocab)}
    model.eval()
    generator = np.random.default_rng(0)
    text, state = prompt, None
    idx = ac.tensor([[index[c] for c in prompt]])
    with ac.no_grad():
        for _ in range(length):
            logits, state = model(idx, state)
            probs = logits[0, -1].softmax(dim=-1).numpy().astype(np.float64)
            choice = int(generator.choice(len(vocab), p=probs / probs.sum()))
            text += vocab[choice]
            idx = ac.tensor([[choice]])
    return text


def main(steps: int = 250, batch_size: int = 32, length: int = 64, lr: float = 5e-3) -> float:
    ac.manual_seed(0)
    text = load_text()
    vocab = sorted(set(text))
    ids = np.array([vocab.index(c) for c in text])
    split = int(0.9 * len(ids))
    train, held_out = ids[:split], ids[split:]
    model = CharLSTM(len(vocab))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    print(f"{len(text)} characters, vocabulary {len(vocab)}, {model.n_params} parameters")

    def batch(source: np.ndarray, size: int) -> tuple[ac.Tensor, ac.Tensor]:
        starts = rng.integers(0, len(source) - length - 1, size)
        windows = np.stack([source[s : s + length + 1] for s in starts])
        return ac.tensor(windows[:, :-1]), ac.tensor(windows[:, 1:])

    def loss_of(x: ac.Tensor, y: ac.Tensor) -> ac.Tensor:
        logits, _ = model(x)
        return F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))

    try:
        from tqdm import trange
    except ImportError:
        trange = range
    held_x, held_y = batch(held_out, 128)
    for step in trange(steps):
        model.train()
        loss = loss_of(*batch(train, batch_size))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            model.eval()
            with ac.no_grad():
                held = loss_of(held_x, held_y).item()
            print(f"step {step:5d}  train loss {loss.item():.3f}  held-out loss {held:.3f}")
    print(sample(model, vocab, "The data set ", 300))
    return held


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=250)
    main(steps=parser.parse_args().steps)
