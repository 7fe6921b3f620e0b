"""MultiheadAttention and the seed's MultiHeadSelfAttention (no PyTorch needed)."""

import os

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn
from auto_compyute.autograd import gradcheck


@pytest.fixture
def rng():
    ac.manual_seed(0)
    return np.random.default_rng(0)


@pytest.fixture
def device():
    name = os.environ.get("AC_TEST_DEVICE", "cpu")
    if name != "cpu" and not ac.cuda.is_available():
        pytest.skip(f"AC_TEST_DEVICE={name}, but no CUDA device is usable")
    return name


def leaf(rng, *shape):
    return ac.Tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=True)


def test_parameter_names_and_init():
    mha = nn.MultiheadAttention(8, 2)
    shapes = {k: v.shape for k, v in mha.state_dict().items()}
    assert shapes == {
        "in_proj_weight": (24, 8),
        "in_proj_bias": (24,),
        "out_proj.weight": (8, 8),
        "out_proj.bias": (8,),
    }
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    bound = np.sqrt(6 / (24 + 8))  # Xavier-uniform over the packed (3E, E) matrix
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    separate = nn.MultiheadAttention(8, 2, kdim=5, vdim=6, bias=False, add_bias_kv=True)
    assert {k: v.shape for k, v in separate.state_dict().items()} == {
        "q_proj_weight": (8, 8),
        "k_proj_weight": (8, 5),
        "v_proj_weight": (8, 6),
        "bias_k": (1, 1, 8),
        "bias_v": (1, 1, 8),
        "out_proj.weight": (8, 8),
    }


@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes(rng, batch_first):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first, kdim=5, vdim=3)
    q = ac.randn(2, 4, 8) if batch_first else ac.randn(4, 2, 8)
    k = ac.randn(2, 6, 5) if batch_first else ac.randn(6, 2, 5)
    v = ac.randn(2, 6, 3) if batch_first else ac.randn(6, 2, 3)
    out, weights = mha(q, k, v)
    assert out.shape == q.shape and weights.shape == (2, 4, 6)
    out, weights = mha(q, k, v, average_attn_weights=False)
    assert weights.shape == (2, 2, 4, 6)
    out, weights = mha(q, k, v, need_weights=False)
    assert weights is None
    out, weights = mha(ac.randn(4, 8), ac.randn(6, 5), ac.randn(6, 3))
    assert out.shape == (4, 8) and weights.shape == (4, 6)


def test_weights_are_distributions_and_respect_masks(rng):
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = ac.randn(3, 5, 8)
    padding = np.zeros((3, 5), dtype=bool)
    padding[:, 3:] = True
    blocked = np.zeros((5, 5), dtype=bool)
    blocked[:, 1] = True
    _, weights = mha(
        x,
        x,
        x,
        key_padding_mask=ac.Tensor(padding),
        attn_mask=ac.Tensor(blocked),
        average_attn_weights=False,
    )
    w = weights.numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    assert not w[..., 3:].any() and not w[..., 1].any()
    # a float mask of 0 / -inf is the same as the bool mask
    additive = ac.Tensor(np.where(padding, -np.inf, 0.0).astype(np.float32))
    _, weights_float = mha(
        x, x, x, key_padding_mask=additive, attn_mask=ac.Tensor(blocked), average_attn_weights=False
    )
    np.testing.assert_allclose(weights_float.numpy(), w, atol=1e-7)


def test_outputs_with_and_without_weights_agree(rng):
    mha = nn.MultiheadAttention(8, 4)
    q, k = ac.randn(4, 2, 8), ac.randn(6, 2, 8)
    mask = ac.Tensor(rng.random((2, 6)) < 0.3)
    with_weights, _ = mha(q, k, k, key_padding_mask=mask)
    without, _ = mha(q, k, k, key_padding_mask=mask, need_weights=False)
    np.testing.assert_allclose(with_weights.numpy(), without.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("need_weights", [False, True])
def test_causal_attention_ignores_the_future(rng, need_weights):
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = rng.standard_normal((2, 6, 8)).astype(np.float32)
    changed = x.copy()
    changed[:, 4:] += 1.0
    a, _ = mha(ac.Tensor(x), ac.Tensor(x), ac.Tensor(x), is_causal=True, need_weights=need_weights)
    b, _ = mha(
        ac.Tensor(changed),
        ac.Tensor(changed),
        ac.Tensor(changed),
        is_causal=True,
        need_weights=need_weights,
    )
    np.testing.assert_allclose(a.numpy()[:, :4], b.numpy()[:, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a.numpy()[:, 4:], b.numpy()[:, 4:])


@pytest.mark.parametrize("need_weights", [False, True])
def test_gradcheck(rng, need_weights):
    mha = nn.MultiheadAttention(4, 2, dtype=ac.float64)
    with ac.no_grad():
        mha.in_proj_bias.copy_(rng.standard_normal(12))
    q, k, v = leaf(rng, 3, 2, 4), leaf(rng, 5, 2, 4), leaf(rng, 5, 2, 4)
    mask = ac.Tensor(np.array([[False, False, False, True, False]] * 2))

    def fn(q, k, v):
        out, weights = mha(q, k, v, key_padding_mask=mask, need_weights=need_weights)
        return (out, weights) if need_weights else out

    assert gradcheck(fn, [q, k, v])


def test_gradcheck_bias_kv_zero_attn_and_separate_dims(rng):
    mha = nn.MultiheadAttention(
        4, 2, kdim=3, vdim=2, add_bias_kv=True, add_zero_attn=True, dtype=ac.float64
    )
    q, k, v = leaf(rng, 2, 3, 4), leaf(rng, 2, 5, 3), leaf(rng, 2, 5, 2)
    fn = lambda q, k, v: mha(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1))  # noqa: E731
    assert gradcheck(fn, [q, k, v])


def test_dropout_only_in_training(rng):
    mha = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ac.randn(5, 2, 8)
    assert not np.allclose(mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy())
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy())


def test_dropout_of_every_weight_leaves_the_output_bias():
    mha = nn.MultiheadAttention(8, 2, dropout=1.0)
    x, memory = ac.randn(5, 2, 8), ac.randn(3, 2, 8)
    bias = mha.out_proj.bias.numpy()
    for key in (x, memory):  # the packed self-attention and the general path
        out, weights = mha(x, key, key)
        assert (weights.numpy() == 0).all()
        np.testing.assert_array_equal(out.numpy(), np.broadcast_to(bias, out.shape))
        out, _ = mha(x, key, key, need_weights=False)
        np.testing.assert_array_equal(out.numpy(), np.broadcast_to(bias, out.shape))


def test_errors():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        nn.MultiheadAttention(8, 0)
    mha = nn.MultiheadAttention(8, 2)
    x = ac.randn(4, 2, 8)
    with pytest.raises(ValueError, match=r"expected query of width 8, got shape \(4, 2, 6\)"):
        mha(ac.randn(4, 2, 6), x, x)
    with pytest.raises(ValueError, match="all be 3-D"):
        mha(ac.randn(4, 8), x, x)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(3, 4\), but should be \(4, 4\)"):
        mha(x, x, x, attn_mask=ac.zeros(3, 4))
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(2, 4\)"):
        mha(x, x, x, key_padding_mask=ac.zeros(4, 2))
    with pytest.raises(TypeError, match="query has dtype float64"):
        mha(x.double(), x, x)


def test_self_attention_seed_layer(rng):
    attn = nn.MultiHeadSelfAttention(8, 2)
    x = ac.randn(2, 5, 8)
    y = attn(x)
    expected, _ = nn.MultiheadAttention.forward(attn, x, x, x, need_weights=False)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), atol=1e-6)
    assert list(attn.state_dict()) == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    causal = nn.MultiHeadSelfAttention(8, 2, causal=True)
    causal.load_state_dict(attn.state_dict())
    changed = x.numpy().copy()
    changed[:, 3:] = 0
    a, b = causal(x).numpy(), causal(ac.Tensor(changed)).numpy()
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-6)
    fixed = nn.MultiHeadSelfAttention(8, 2, mask=ac.Tensor(np.triu(np.ones((5, 5), bool), 1)))
    fixed.load_state_dict(attn.state_dict())
    np.testing.assert_allclose(fixed(x).numpy(), a, atol=1e-6)
    assert "mask" not in fixed.state_dict()
    assert "causal=True" in repr(causal)


def test_runs_on_the_test_device(rng, device):
    mha = nn.MultiheadAttention(8, 2, batch_first=True).to(device)
    x = ac.randn(2, 5, 8).to(device)
    x.req_grad = True
    out, weights = mha(x, x, x, key_padding_mask=ac.zeros(2, 5, dtype=ac.bool).to(device))
    (out.sum() + weights.sum()).backward()
    assert out.device == device and x.grad is not None
