"""End-to-end training on real data shipped with scikit-learn: a CNN on the 8x8 digits and,
for next-character prediction, an LSTM and a small GPT-style Transformer."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn, optim

sklearn = pytest.importorskip("sklearn")
from sequence_tasks import batches, char_lstm, encode, load_text, tiny_gpt  # noqa: E402


@pytest.fixture
def text_ids():
    ids, vocab = encode(load_text())
    split = int(0.9 * len(ids))
    return ids[:split], ids[split:], vocab


def unigram_cross_entropy(train, held_out, vocab):
    """What a model that ignores context can reach: the training character frequencies."""
    p = np.bincount(train, minlength=vocab) + 1.0
    p /= p.sum()
    return float(-np.log(p[held_out]).mean())


def fit_characters(model, train, held_out, vocab, steps, length, lr):
    """Train with Adam on random windows; return (training losses, held-out loss before, after)."""

    def loss_of(x, y):
        logits = model(ac.tensor(x))
        return F.cross_entropy(logits.reshape(-1, vocab), ac.tensor(y).reshape(-1))

    evaluation = batches(held_out, 64, length, 1, seed=1)[0]
    model.eval()
    with ac.no_grad():
        before = loss_of(*evaluation).item()
    model.train()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for x, y in batches(train, 32, length, steps, seed=0):
        loss = loss_of(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with ac.no_grad():
        after = loss_of(*evaluation).item()
    return np.array(losses), before, after


def test_cnn_learns_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    ac.manual_seed(0)
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 2 * 2, 10),
    )
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    loader = nn.DataLoader(
        nn.TensorDataset(x_train, y_train), batch_size=64, shuffle=True, generator=0
    )
    for _ in range(30):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with ac.no_grad():
        predictions = model(ac.tensor(x_test)).argmax(dim=1).numpy()
    accuracy = float((predictions == y_test).mean())
    assert accuracy >= 0.97, f"test accuracy {accuracy:.3f}"


def test_lstm_learns_characters(text_ids):
    train, held_out, vocab = text_ids
    ac.manual_seed(0)
    losses, before, after = fit_characters(
        char_lstm(nn, vocab), train, held_out, vocab, 150, 32, 1e-2
    )
    assert losses[-10:].mean() < 0.6 * losses[:5].mean()
    assert before > 4.0  # about log(vocab) at initialisation
    assert after < unigram_cross_entropy(train, held_out, vocab) - 0.4, (before, after)


def test_transformer_learns_characters(text_ids):
    train, held_out, vocab = text_ids
    ac.manual_seed(0)
    model = tiny_gpt(nn, nn.generate_square_subsequent_mask, vocab, context=32)
    losses, before, after = fit_characters(model, train, held_out, vocab, 120, 32, 3e-3)
    assert losses[-10:].mean() < 0.65 * losses[:5].mean()
    assert before > 4.0
    assert after < unigram_cross_entropy(train, held_out, vocab) - 0.3, (before, after)
