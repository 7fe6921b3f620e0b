"""TransformerEncoderLayer, TransformerEncoder and the causal mask helper (no PyTorch needed)."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute.autograd import gradcheck


@pytest.fixture
def rng():
    ac.manual_seed(0)
    return np.random.default_rng(0)


def test_submodule_names_match_pytorch():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    assert [name for name, _ in layer.named_children()] == [
        "self_attn",
        "linear1",
        "dropout",
        "linear2",
        "norm1",
        "norm2",
        "dropout1",
        "dropout2",
    ]
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight",
        "self_attn.in_proj_bias",
        "self_attn.out_proj.weight",
        "self_attn.out_proj.bias",
        "linear1.weight",
        "linear1.bias",
        "linear2.weight",
        "linear2.bias",
        "norm1.weight",
        "norm1.bias",
        "norm2.weight",
        "norm2.bias",
    ]
    no_bias = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, bias=False)
    assert not any(key.endswith("bias") for key in no_bias.state_dict())


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_forward_matches_the_equations(rng, norm_first, activation):
    layer = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    )
    x = ac.randn(2, 5, 8)
    act = F.relu if activation == "relu" else F.gelu

    def sa(t):
        return layer.self_attn(t, t, t, need_weights=False)[0]

    def ff(t):
        return layer.linear2(act(layer.linear1(t)))

    if norm_first:
        h = x + sa(layer.norm1(x))
        expected = h + ff(layer.norm2(h))
    else:
        h = layer.norm1(x + sa(x))
        expected = layer.norm2(h + ff(h))
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_gelu_keeps_the_input_of_a_module_put_in_linear1s_place(rng):
    """GELU writes over linear1's result only when linear1 is a Linear (a new array)."""
    layer = nn.TransformerEncoderLayer(8, 2, 8, dropout=0.0, activation="gelu", batch_first=True)
    layer.linear1 = nn.Identity()  # post-norm: its input is the residual stream, used later
    x = ac.randn(2, 5, 8)
    h = layer.norm1(x + layer._sa_block(x, None, None, False))
    expected = layer.norm2(h + layer.linear2(F.gelu(h))).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_residual_sum_keeps_the_branch_of_a_module_put_in_linear2s_place(rng):
    """The feed-forward sum is written over the branch only when linear2 is a Linear."""
    layer = nn.TransformerEncoderLayer(
        8, 2, 8, dropout=0.0, activation=lambda t: t.tanh(), batch_first=True
    )
    layer.linear2 = nn.Identity()  # the branch is tanh's result, which tanh keeps
    x = ac.randn(2, 5, 8)
    layer(x).sum().backward()
    got = layer.linear1.weight.grad.copy()
    layer.zero_grad()
    h = layer.norm1(x + layer._sa_block(x, None, None, False))
    layer.norm2(h + layer.linear1(h).tanh()).sum().backward()
    np.testing.assert_allclose(got, layer.linear1.weight.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradcheck(rng, norm_first):
    layer = nn.TransformerEncoderLayer(
        4, 2, 6, dropout=0.0, activation="gelu", norm_first=norm_first, dtype=ac.float64
    )
    x = ac.Tensor(rng.standard_normal((3, 2, 4)), req_grad=True)
    padding = ac.Tensor(np.array([[False, False, True], [False, False, False]]))
    assert gradcheck(lambda t: layer(t, src_key_padding_mask=padding), [x])
    assert gradcheck(lambda t: layer(t, is_causal=True), [x])


def test_layout_and_unbatched(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    layer_bf = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    layer_bf.load_state_dict(layer.state_dict())
    x = ac.randn(5, 2, 8)
    seq_first = layer(x).numpy()
    np.testing.assert_allclose(
        layer_bf(x.transpose(0, 1)).numpy(), seq_first.transpose(1, 0, 2), atol=1e-6
    )
    np.testing.assert_allclose(layer(x[:, 0]).numpy(), seq_first[:, 0], atol=1e-6)


def test_causal_flag_equals_the_causal_mask(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x = ac.randn(2, 6, 8)
    mask = nn.generate_square_subsequent_mask(6)
    by_mask = layer(x, src_mask=mask).numpy()
    np.testing.assert_allclose(layer(x, is_causal=True).numpy(), by_mask, atol=1e-6)
    np.testing.assert_allclose(layer(x, src_mask=mask, is_causal=True).numpy(), by_mask, atol=1e-6)
    changed = x.numpy().copy()
    changed[:, 4:] = 0
    np.testing.assert_allclose(
        layer(ac.Tensor(changed), is_causal=True).numpy()[:, :4], by_mask[:, :4], atol=1e-6
    )


def test_generate_square_subsequent_mask():
    mask = nn.generate_square_subsequent_mask(3, dtype=ac.float64)
    expected = np.array([[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    np.testing.assert_array_equal(mask.numpy(), expected)
    assert mask.dtype == ac.float64


def test_dropout_in_training_only(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)
    x = ac.randn(5, 2, 8)
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_dropout_of_everything_leaves_the_norms_of_the_input():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=1.0)
    x = ac.randn(5, 2, 8)
    expected = layer.norm2(layer.norm1(x))  # both branches dropped entirely
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_activation_callable_and_module(rng):
    with_module = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=nn.GELU())
    with_name = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu")
    with_name.load_state_dict(with_module.state_dict())
    x = ac.randn(4, 2, 8)
    np.testing.assert_allclose(with_module(x).numpy(), with_name(x).numpy(), atol=1e-6)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation must be"):
        nn.TransformerEncoderLayer(8, 2, activation=3)


def test_encoder_stacks_independent_copies(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(8))
    keys = list(encoder.state_dict())
    assert keys[0] == "layers.0.self_attn.in_proj_weight" and keys[-1] == "norm.bias"
    assert len([k for k in keys if k.endswith("linear1.weight")]) == 3
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second and np.array_equal(first.numpy(), second.numpy())
    x = ac.randn(2, 5, 8, req_grad=True)
    y = encoder(x, is_causal=True)
    expected = x
    for sub in encoder.layers:
        expected = sub(expected, is_causal=True)
    np.testing.assert_allclose(y.numpy(), encoder.norm(expected).numpy(), atol=1e-6)
    y.sum().backward()
    assert all(p.grad is not None for p in encoder.parameters())
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        nn.TransformerEncoder(layer, 0)


def test_decoder_layer_names_and_equations(rng):
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    assert [name for name, _ in layer.named_children()] == [
        "self_attn",
        "multihead_attn",
        "linear1",
        "dropout",
        "linear2",
        "norm1",
        "norm2",
        "norm3",
        "dropout1",
        "dropout2",
        "dropout3",
    ]
    tgt, memory = ac.randn(2, 3, 8), ac.randn(2, 6, 8)
    x = layer.norm1(tgt + layer.self_attn(tgt, tgt, tgt, need_weights=False)[0])
    x = layer.norm2(x + layer.multihead_attn(x, memory, memory, need_weights=False)[0])
    x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
    np.testing.assert_allclose(layer(tgt, memory).numpy(), x.numpy(), atol=1e-6)


def test_decoder_gradcheck_and_transformer_shapes(rng):
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True, dtype=ac.float64)
    tgt = ac.Tensor(rng.standard_normal((3, 2, 4)), req_grad=True)
    memory = ac.Tensor(rng.standard_normal((5, 2, 4)), req_grad=True)
    assert gradcheck(lambda t, m: layer(t, m, tgt_is_causal=True), [tgt, memory])
    model = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0)
    assert model(ac.randn(7, 3, 8), ac.randn(4, 3, 8)).shape == (4, 3, 8)
    assert len(model.decoder.layers) == 2 and isinstance(model.encoder.norm, nn.LayerNorm)
    with pytest.raises(ValueError, match="different batch sizes"):
        model(ac.randn(7, 3, 8), ac.randn(4, 2, 8))
    with pytest.raises(ValueError, match="d_model=8"):
        model(ac.randn(7, 3, 6), ac.randn(4, 3, 6))
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        nn.TransformerDecoder(layer, 0)


@pytest.mark.parametrize("norm_first", [False, True])
def test_second_derivatives_through_an_encoder_layer_with_relu(norm_first) -> None:
    layer = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation="relu", batch_first=True, norm_first=norm_first
    ).to(ac.float64)
    x = ac.randn(2, 3, 8, dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t: layer(t).sum(), [x])


@pytest.mark.parametrize("name", ["linear1", "linear2", "dropout2"])
@pytest.mark.parametrize("training", [False, True])
def test_a_hooked_feed_forward_result_is_not_written_over(name, training) -> None:
    ac.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True)
    layer.train(training)
    kept, copies = [], []
    getattr(layer, name).register_forward_hook(lambda m, args, out: kept.append(out))
    getattr(layer, name).register_forward_hook(
        lambda m, args, out: copies.append(out.numpy().copy())
    )
    layer(ac.randn(1, 3, 8))
    np.testing.assert_array_equal(kept[0].numpy(), copies[0])
