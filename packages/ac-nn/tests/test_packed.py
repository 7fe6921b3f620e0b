"""PackedSequence and the packing functions, and RNN, LSTM and GRU on packed input
(no PyTorch needed): equivalence with running each sequence alone, gradchecks, errors."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute.autograd import gradcheck, gradgradcheck
from auto_compyute.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


@pytest.fixture
def rng():
    ac.manual_seed(0)
    return np.random.default_rng(0)


def leaf(rng, *shape):
    return ac.Tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=True)


def test_pack_padded_sequence_layout(rng):
    x = ac.Tensor(np.arange(12.0).reshape(4, 3, 1))  # value = 3 * step + batch position
    packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 0, 2]
    assert packed.unsorted_indices.tolist() == [1, 0, 2]
    assert packed.data.numpy().ravel().tolist() == [1, 0, 2, 4, 3, 7, 10]


def test_packed_sequence_fills_in_unsorted_indices():
    packed = PackedSequence(
        ac.zeros(3, 2), ac.Tensor(np.array([2, 1])), ac.Tensor(np.array([1, 0]))
    )
    assert packed.unsorted_indices.tolist() == [1, 0]
    data, batch_sizes, sorted_indices, _ = packed
    assert data.shape == (3, 2) and batch_sizes.tolist() == [2, 1]
    assert sorted_indices.tolist() == [1, 0]


def test_pad_packed_sequence_restores_order_and_lengths(rng):
    sequences = [ac.Tensor(rng.standard_normal((n, 2))) for n in (2, 5, 3)]
    padded, lengths = pad_packed_sequence(
        pack_sequence(sequences, enforce_sorted=False), batch_first=True, total_length=6
    )
    assert padded.shape == (3, 6, 2)
    assert lengths.tolist() == [2, 5, 3] and lengths.dtype == ac.int64
    for b, sequence in enumerate(sequences):
        n = sequence.shape[0]
        np.testing.assert_array_equal(padded.numpy()[b, :n], sequence.numpy())
        assert not padded.numpy()[b, n:].any()


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_equals_each_sequence_alone(rng, kind, bidirectional):
    layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional, dtype="float64")
    sequences = [ac.Tensor(rng.standard_normal((n, 3))) for n in (3, 6, 1, 4)]
    output, final = layer(pack_sequence(sequences, enforce_sorted=False))
    padded, _ = pad_packed_sequence(output)
    finals = final if kind == "LSTM" else (final,)
    for b, sequence in enumerate(sequences):
        alone, alone_final = layer(sequence.unsqueeze(1))
        alone_finals = alone_final if kind == "LSTM" else (alone_final,)
        n = sequence.shape[0]
        np.testing.assert_allclose(padded.numpy()[:n, b], alone.numpy()[:, 0], rtol=1e-12)
        for state, alone_state in zip(finals, alone_finals, strict=True):
            np.testing.assert_allclose(state.numpy()[:, b], alone_state.numpy()[:, 0], rtol=1e-12)


def test_packed_lstm_gradcheck(rng):
    layer = nn.LSTM(2, 3, bidirectional=True, dtype="float64")
    x = leaf(rng, 3, 3, 2)
    h0, c0 = leaf(rng, 2, 3, 3), leaf(rng, 2, 3, 3)

    def run(x, h0, c0, *params):
        for (name, _), value in zip(layer.named_parameters(), params, strict=True):
            layer._parameters[name] = value
        packed = pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
        output, (h_n, c_n) = layer(packed, (h0, c0))
        return output.data.sum() + (h_n * h_n).sum() + (c_n * c_n).sum()

    params = [ac.Tensor(p.numpy(), req_grad=True) for p in layer.parameters()]
    assert gradcheck(run, (x, h0, c0, *params))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_packed_gradgradcheck(rng, kind):
    layer = getattr(nn, kind)(2, 3, bidirectional=True, dtype="float64")
    names = [name for name, _ in layer.named_parameters()]

    def run(x, *params):
        for name, value in zip(names, params, strict=True):
            layer._parameters[name] = value
        output, final = layer(pack_padded_sequence(x, [2, 3], enforce_sorted=False))
        finals = final if kind == "LSTM" else (final,)
        return (output.data, *finals)

    params = [ac.Tensor(p.numpy(), req_grad=True) for p in layer.parameters()]
    assert gradgradcheck(run, (leaf(rng, 3, 2, 2), *params))


@pytest.mark.parametrize("layer", [F.rnn_layer, F.gru_layer])
def test_fused_layers_gradcheck_with_batch_sizes(rng, layer):
    gates = 3 if layer is F.gru_layer else 1
    x, h0 = leaf(rng, 4, 3, 2), leaf(rng, 3, 2)
    w_ih, w_hh = leaf(rng, 2 * gates, 2), leaf(rng, 2 * gates, 2)
    for reverse in (False, True):

        def run(x, h0, w_ih, w_hh, reverse=reverse):
            out, h = layer(x, h0, w_ih, w_hh, reverse=reverse, batch_sizes=[3, 3, 2, 1])
            return out.sum() + (h * h).sum()

        assert gradcheck(run, (x, h0, w_ih, w_hh))


def test_padded_steps_leave_the_state_unchanged(rng):
    x, h0, c0 = leaf(rng, 4, 2, 3), leaf(rng, 2, 2), leaf(rng, 2, 2)
    w_ih, w_hh = leaf(rng, 8, 3), leaf(rng, 8, 2)
    out, h, _ = F.lstm_layer(x, h0, c0, w_ih, w_hh, batch_sizes=[2, 1, 1, 1])
    np.testing.assert_array_equal(out.numpy()[1:, 1], np.repeat(out.numpy()[:1, 1], 3, axis=0))
    np.testing.assert_array_equal(h.numpy()[1], out.numpy()[0, 1])
    _, h_r, _ = F.lstm_layer(x, h0, c0, w_ih, w_hh, reverse=True, batch_sizes=[2, 1, 1, 1])
    _, h_alone, _ = F.lstm_layer(x[:1, 1:], h0[1:], c0[1:], w_ih, w_hh, reverse=True)
    np.testing.assert_allclose(h_r.numpy()[1], h_alone.numpy()[0], rtol=1e-12)


def test_bad_lengths_raise(rng):
    x = ac.Tensor(rng.standard_normal((4, 3, 2)))
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match="must not exceed the input's 4 time steps"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="greater than 0"):
        pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ValueError, match="3 sequences"):
        pack_padded_sequence(x, [3, 2])
    with pytest.raises(TypeError, match="integers"):
        pack_padded_sequence(x, [3.0, 2.0, 1.0])
    packed = pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length=3"):
        pad_packed_sequence(packed, total_length=3)


def test_bad_batch_sizes_raise(rng):
    x, w_ih, w_hh = leaf(rng, 3, 2, 2), leaf(rng, 2, 2), leaf(rng, 2, 2)
    with pytest.raises(ValueError, match="one entry per time step"):
        F.rnn_layer(x, None, w_ih, w_hh, batch_sizes=[2, 1])
    with pytest.raises(ValueError, match="never grow"):
        F.rnn_layer(x, None, w_ih, w_hh, batch_sizes=[2, 1, 2])
    with pytest.raises(ValueError, match=">= 1"):
        F.rnn_layer(x, None, w_ih, w_hh, batch_sizes=[2, 1, 0])


def test_packed_input_checks_features(rng):
    layer = nn.GRU(3, 4)
    packed = pack_padded_sequence(ac.randn(3, 2, 5), [3, 1])
    with pytest.raises(RuntimeError, match="Expected 3, got 5"):
        layer(packed)


def test_projected_lstm_shapes_and_gradcheck(rng):
    layer = nn.LSTM(2, 4, num_layers=2, bidirectional=True, proj_size=3, dtype="float64")
    assert layer.weight_hr_l1_reverse.shape == (3, 4)
    assert layer.weight_hh_l0.shape == (16, 3) and layer.weight_ih_l1.shape == (16, 6)
    assert len(layer.all_weights[0]) == 5
    assert repr(layer) == "LSTM(2, 4, proj_size=3, num_layers=2, bidirectional=True)"
    x, h0, c0 = leaf(rng, 3, 2, 2), leaf(rng, 4, 2, 3), leaf(rng, 4, 2, 4)
    output, (h_n, c_n) = layer(x, (h0, c0))
    assert output.shape == (3, 2, 6) and h_n.shape == (4, 2, 3) and c_n.shape == (4, 2, 4)

    def run(x, h0, c0, *params):
        for (name, _), value in zip(layer.named_parameters(), params, strict=True):
            layer._parameters[name] = value
        packed = pack_padded_sequence(x, [3, 1], enforce_sorted=False)
        output, (h_n, c_n) = layer(packed, (h0, c0))
        return output.data.sum() + (h_n * h_n).sum() + (c_n * c_n).sum()

    params = [ac.Tensor(p.numpy(), req_grad=True) for p in layer.parameters()]
    assert gradcheck(run, (x, h0, c0, *params))


def test_projected_lstm_layer_without_bias_gradcheck(rng):
    x, h0, c0 = leaf(rng, 3, 2, 2), leaf(rng, 2, 1), leaf(rng, 2, 3)
    w_ih, w_hh, w_hr = leaf(rng, 12, 2), leaf(rng, 12, 1), leaf(rng, 1, 3)

    def run(x, h0, c0, w_ih, w_hh, w_hr):
        out, h, c = F.lstm_layer(x, h0, c0, w_ih, w_hh, weight_hr=w_hr, reverse=True)
        return out.sum() + (h * h).sum() + (c * c).sum()

    assert gradcheck(run, (x, h0, c0, w_ih, w_hh, w_hr))


def test_projected_lstm_state_shapes_are_checked(rng):
    layer = nn.LSTM(2, 4, proj_size=3)
    x = ac.randn(5, 2, 2)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 3\)"):
        layer(x, (ac.zeros(1, 2, 4), ac.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="weight_hr must have shape"):
        F.lstm_layer(x, None, None, ac.randn(16, 2), ac.randn(16, 4), weight_hr=ac.randn(4, 4))


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_and_unpack_give_the_sequences_back(rng, batch_first):
    sequences = [ac.tensor(rng.standard_normal((n, 2)), req_grad=True) for n in (3, 1, 2)]
    padded = pad_sequence(sequences, batch_first=batch_first)
    unpadded = unpad_sequence(padded, ac.tensor([3, 1, 2]), batch_first=batch_first)
    unpacked = unpack_sequence(pack_sequence(sequences, enforce_sorted=False))
    for sequence, a, b in zip(sequences, unpadded, unpacked, strict=True):
        np.testing.assert_array_equal(a.numpy(), sequence.numpy())
        np.testing.assert_array_equal(b.numpy(), sequence.numpy())
    sum((b * b).sum() for b in unpacked).backward()
    np.testing.assert_allclose(sequences[0].grad, 2 * sequences[0].numpy())
