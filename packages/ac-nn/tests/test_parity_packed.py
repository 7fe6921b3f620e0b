"""PackedSequence, its packing functions and RNN, LSTM and GRU on packed input against
PyTorch: packed data, padded results, outputs, final states and every gradient."""

import itertools

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.nn.utils import rnn as rnn_utils

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
torch_rnn = torch.nn.utils.rnn

# (lengths, enforce_sorted): sorted, unsorted, with ties, all full, a single sequence
LENGTHS = [
    ([5, 3, 2], True),
    ([2, 5, 1, 3], False),
    ([3, 5, 3, 5], False),
    ([5, 5], True),
    ([4], True),
]


@pytest.fixture
def rng():
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


def padded_input(rng, lengths, batch_first, features=3, extra=0):
    """Random padded sequences (zeros past each length), time-major or batch-first."""
    x = rng.standard_normal((max(lengths) + extra, len(lengths), features))
    for b, length in enumerate(lengths):
        x[length:, b] = 0
    return x.transpose(1, 0, 2).copy() if batch_first else x


def assert_same_packing(ours, theirs):
    np.testing.assert_allclose(ours.data.numpy(), theirs.data.detach().numpy(), rtol=1e-12)
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert ours.batch_sizes.dtype == ac.int64
    for name in ("sorted_indices", "unsorted_indices"):
        mine, reference = getattr(ours, name), getattr(theirs, name)
        assert (mine is None) == (reference is None), name
        if mine is not None:
            assert mine.tolist() == reference.tolist(), name


@pytest.mark.parametrize(("lengths", "enforce_sorted"), LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 8])
def test_pack_pad_round_trip_matches_torch(rng, lengths, enforce_sorted, batch_first, total_length):
    x = padded_input(rng, lengths, batch_first, extra=1)
    x_a = ac.Tensor(x, req_grad=True)
    x_t = torch.tensor(x, requires_grad=True)
    packed_a = rnn_utils.pack_padded_sequence(x_a, lengths, batch_first, enforce_sorted)
    packed_t = torch_rnn.pack_padded_sequence(x_t, lengths, batch_first, enforce_sorted)
    assert_same_packing(packed_a, packed_t)
    out_a, lengths_a = rnn_utils.pad_packed_sequence(packed_a, batch_first, -2.0, total_length)
    out_t, lengths_t = torch_rnn.pad_packed_sequence(packed_t, batch_first, -2.0, total_length)
    np.testing.assert_allclose(out_a.numpy(), out_t.detach().numpy(), rtol=1e-12)
    assert lengths_a.tolist() == lengths_t.tolist() == list(lengths)
    cotangent = rng.standard_normal(out_t.shape)
    (out_a * ac.Tensor(cotangent)).sum().backward()
    (out_t * torch.tensor(cotangent)).sum().backward()
    np.testing.assert_allclose(x_a.grad, x_t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("form", ["list", "numpy", "tensor"])
def test_lengths_forms_match_torch(rng, form):
    lengths = [2, 4, 3]
    x = padded_input(rng, lengths, batch_first=True)
    given = {
        "list": lengths,
        "numpy": np.array(lengths),
        "tensor": ac.Tensor(np.array(lengths), dtype=ac.int64),
    }[form]
    packed_a = rnn_utils.pack_padded_sequence(
        ac.Tensor(x), given, batch_first=True, enforce_sorted=False
    )
    packed_t = torch_rnn.pack_padded_sequence(
        torch.tensor(x), torch.tensor(lengths), batch_first=True, enforce_sorted=False
    )
    assert_same_packing(packed_a, packed_t)


@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_sequence_matches_torch(rng, enforce_sorted):
    shapes = [(5, 2), (3, 2), (1, 2)] if enforce_sorted else [(2, 2), (5, 2), (3, 2)]
    arrays = [rng.standard_normal(shape) for shape in shapes]
    ours = [ac.Tensor(a, req_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    packed_a = rnn_utils.pack_sequence(ours, enforce_sorted)
    packed_t = torch_rnn.pack_sequence(theirs, enforce_sorted)
    assert_same_packing(packed_a, packed_t)
    cotangent = rng.standard_normal(packed_t.data.shape)
    (packed_a.data * ac.Tensor(cotangent)).sum().backward()
    (packed_t.data * torch.tensor(cotangent)).sum().backward()
    for a, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-12)


def twins(kind, *args, **kwargs):
    """A float64 PyTorch layer and ours with the same weights, loaded through the state dict."""
    reference = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(nn, kind)(*args, dtype="float64", **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, ours


CONFIGS = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True], [False, True]))


@pytest.mark.parametrize(("kind", "num_layers", "bidirectional", "with_state"), CONFIGS)
@pytest.mark.parametrize(("lengths", "enforce_sorted"), [LENGTHS[0], LENGTHS[1]])
def test_packed_layers_match_torch(
    rng, kind, num_layers, bidirectional, with_state, lengths, enforce_sorted
):
    reference, ours = twins(kind, 3, 4, num_layers, bidirectional=bidirectional)
    x = padded_input(rng, lengths, batch_first=False)
    x_a, x_t = ac.Tensor(x, req_grad=True), torch.tensor(x, requires_grad=True)
    packed_a = rnn_utils.pack_padded_sequence(x_a, lengths, enforce_sorted=enforce_sorted)
    packed_t = torch_rnn.pack_padded_sequence(x_t, lengths, enforce_sorted=enforce_sorted)
    shape = (num_layers * (2 if bidirectional else 1), len(lengths), 4)
    states = [rng.standard_normal(shape) for _ in range(2 if kind == "LSTM" else 1)]
    states_a = [ac.Tensor(s, req_grad=True) for s in states]
    states_t = [torch.tensor(s, requires_grad=True) for s in states]
    args_a, args_t = [packed_a], [packed_t]
    if with_state:
        args_a.append(tuple(states_a) if kind == "LSTM" else states_a[0])
        args_t.append(tuple(states_t) if kind == "LSTM" else states_t[0])
    out_a, final_a = ours(*args_a)
    out_t, final_t = reference(*args_t)
    assert isinstance(out_a, rnn_utils.PackedSequence)
    assert_same_packing(out_a, out_t)
    final_a = list(final_a) if kind == "LSTM" else [final_a]
    final_t = list(final_t) if kind == "LSTM" else [final_t]
    for a, t in zip(final_a, final_t, strict=True):
        np.testing.assert_allclose(a.numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
    results_t = [out_t.data, *final_t]
    cotangents = [rng.standard_normal(t.shape) for t in results_t]
    results_a = [out_a.data, *final_a]
    loss_a = sum((a * ac.Tensor(c)).sum() for a, c in zip(results_a, cotangents, strict=True))
    loss_t = sum((t * torch.tensor(c)).sum() for t, c in zip(results_t, cotangents, strict=True))
    loss_a.backward()
    loss_t.backward()
    np.testing.assert_allclose(x_a.grad, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    if with_state:
        for a, t in zip(states_a, states_t, strict=True):
            np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    reference_params = dict(reference.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad, reference_params[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_packed_float32_batch_first_lstm_matches_torch(rng):
    reference = torch.nn.LSTM(5, 8, 2, batch_first=True, bidirectional=True)
    ours = nn.LSTM(5, 8, 2, batch_first=True, bidirectional=True)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    lengths = [7, 12, 3, 9, 12, 1]
    x = padded_input(rng, lengths, batch_first=True, features=5).astype(np.float32)
    packed_a = rnn_utils.pack_padded_sequence(ac.Tensor(x), lengths, True, False)
    packed_t = torch_rnn.pack_padded_sequence(torch.tensor(x), lengths, True, False)
    out_a, (h_a, c_a) = ours(packed_a)
    out_t, (h_t, c_t) = reference(packed_t)
    padded_a, _ = rnn_utils.pad_packed_sequence(out_a, batch_first=True)
    padded_t, _ = torch_rnn.pad_packed_sequence(out_t, batch_first=True)
    np.testing.assert_allclose(padded_a.numpy(), padded_t.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(h_a.numpy(), h_t.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(c_a.numpy(), c_t.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("packed", [False, True])
def test_projected_lstm_matches_torch(rng, num_layers, bidirectional, bias, packed):
    reference, ours = twins(
        "LSTM", 3, 5, num_layers, bias=bias, bidirectional=bidirectional, proj_size=2
    )
    assert list(ours.state_dict()) == list(reference.state_dict())
    for name, value in reference.state_dict().items():
        assert getattr(ours, name).shape == tuple(value.shape), name
    assert repr(ours) == repr(reference)
    lengths = [4, 2, 5]
    x = padded_input(rng, lengths, batch_first=False)
    x_a, x_t = ac.Tensor(x, req_grad=True), torch.tensor(x, requires_grad=True)
    directions = num_layers * (2 if bidirectional else 1)
    states = [rng.standard_normal((directions, 3, 2)), rng.standard_normal((directions, 3, 5))]
    states_a = [ac.Tensor(s, req_grad=True) for s in states]
    states_t = [torch.tensor(s, requires_grad=True) for s in states]
    input_a, input_t = x_a, x_t
    if packed:
        input_a = rnn_utils.pack_padded_sequence(x_a, lengths, enforce_sorted=False)
        input_t = torch_rnn.pack_padded_sequence(x_t, lengths, enforce_sorted=False)
    out_a, (h_a, c_a) = ours(input_a, tuple(states_a))
    out_t, (h_t, c_t) = reference(input_t, tuple(states_t))
    if packed:
        out_a, out_t = out_a.data, out_t.data
    results_a, results_t = [out_a, h_a, c_a], [out_t, h_t, c_t]
    for a, t in zip(results_a, results_t, strict=True):
        np.testing.assert_allclose(a.numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
    cotangents = [rng.standard_normal(t.shape) for t in results_t]
    sum((a * ac.Tensor(c)).sum() for a, c in zip(results_a, cotangents, strict=True)).backward()
    sum((t * torch.tensor(c)).sum() for t, c in zip(results_t, cotangents, strict=True)).backward()
    np.testing.assert_allclose(x_a.grad, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for a, t in zip(states_a, states_t, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    reference_params = dict(reference.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad, reference_params[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )
