"""Training curves against PyTorch: the same character models, initial weights (through the
state dict), batches and Adam settings give the same losses step after step."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn, optim

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from sequence_tasks import batches, char_lstm, encode, load_text, tiny_gpt  # noqa: E402


def loss_curves(ours, reference, vocab, data, lr):
    """Train both models on ``data`` with Adam; return both lists of losses."""
    state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict(state)
    optimizer_a = optim.Adam(ours.parameters(), lr=lr)
    optimizer_t = torch.optim.Adam(reference.parameters(), lr=lr)
    curve_a, curve_t = [], []
    for x, y in data:
        loss_a = F.cross_entropy(ours(ac.tensor(x)).reshape(-1, vocab), ac.tensor(y).reshape(-1))
        optimizer_a.zero_grad()
        loss_a.backward()
        optimizer_a.step()
        curve_a.append(loss_a.item())
        logits = reference(torch.tensor(x))
        loss_t = torch.nn.functional.cross_entropy(
            logits.reshape(-1, vocab), torch.tensor(y).reshape(-1)
        )
        optimizer_t.zero_grad()
        loss_t.backward()
        optimizer_t.step()
        curve_t.append(loss_t.item())
    return np.array(curve_a), np.array(curve_t)


@pytest.fixture
def text():
    torch.manual_seed(0)
    ac.manual_seed(0)
    return encode(load_text())


def test_lstm_loss_curve_matches_torch(text):
    ids, vocab = text
    reference = char_lstm(torch.nn, vocab).double()
    ours = char_lstm(nn, vocab).double()
    curve_a, curve_t = loss_curves(ours, reference, vocab, batches(ids, 16, 24, 12, seed=0), 1e-2)
    np.testing.assert_allclose(curve_a, curve_t, rtol=1e-9)
    assert curve_a[-1] < curve_a[0] - 0.5  # the curve really moves


def test_transformer_loss_curve_matches_torch(text):
    ids, vocab = text

    def torch_mask(n):
        return torch.nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)

    reference = tiny_gpt(torch.nn, torch_mask, vocab, context=16, width=32).double()
    ours = tiny_gpt(nn, nn.generate_square_subsequent_mask, vocab, context=16, width=32).double()
    curve_a, curve_t = loss_curves(ours, reference, vocab, batches(ids, 8, 16, 12, seed=0), 3e-3)
    np.testing.assert_allclose(curve_a, curve_t, rtol=1e-9)
    assert curve_a[-1] < curve_a[0] - 0.5


def test_float32_lstm_loss_curve_stays_close(text):
    ids, vocab = text
    reference = char_lstm(torch.nn, vocab)
    ours = char_lstm(nn, vocab)
    curve_a, curve_t = loss_curves(ours, reference, vocab, batches(ids, 16, 24, 8, seed=0), 1e-2)
    np.testing.assert_allclose(curve_a, curve_t, rtol=1e-4)
