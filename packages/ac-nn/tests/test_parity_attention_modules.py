"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against PyTorch:
state-dict keys, outputs, attention weights and the gradients of inputs and parameters."""

import itertools

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


@pytest.fixture
def rng():
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


def load_into(ours, reference, rng=None):
    """Copy PyTorch's weights into ours via the state dict (optionally perturbed in both)."""
    state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    if rng is not None:  # NOTE: zero biases and unit norms at init would hide mistakes
        state = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in state.items()}
        reference.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    ours.load_state_dict(state)


def compare(outputs_a, outputs_t, inputs_a, inputs_t, ours, reference, rng, atol=1e-10):
    for a, t in zip(outputs_a, outputs_t, strict=True):
        np.testing.assert_allclose(a.numpy(), t.detach().numpy(), rtol=atol, atol=atol)
    cotangents = [rng.standard_normal(t.shape) for t in outputs_t]
    sum((t * torch.tensor(c)).sum() for t, c in zip(outputs_t, cotangents, strict=True)).backward()
    sum((a * ac.Tensor(c)).sum() for a, c in zip(outputs_a, cotangents, strict=True)).backward()
    for a, t in zip(inputs_a, inputs_t, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=atol, atol=atol)
    reference_params = dict(reference.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad, reference_params[name].grad.numpy(), rtol=atol, atol=atol, err_msg=name
        )


def masks(rng, length, source, batch):
    attn = rng.random((length, source)) < 0.3
    attn[:, 0] = False
    padding = rng.random((batch, source)) < 0.3
    padding[:, 0] = False
    return attn, padding


@pytest.mark.parametrize(
    ("batch_first", "need_weights", "average", "with_masks", "self_attention"),
    list(itertools.product([False, True], repeat=5)),
)
def test_mha_matches_torch(rng, batch_first, need_weights, average, with_masks, self_attention):
    e, heads, length, batch = 8, 2, 4, 3
    source = length if self_attention else 5
    reference = torch.nn.MultiheadAttention(e, heads, batch_first=batch_first).double()
    ours = nn.MultiheadAttention(e, heads, batch_first=batch_first, dtype=ac.float64)
    load_into(ours, reference, rng)

    def make(n):
        return rng.standard_normal((batch, n, e) if batch_first else (n, batch, e))

    arrays = [make(length)] if self_attention else [make(length), make(source), make(source)]
    inputs_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    inputs_a = [ac.Tensor(a, req_grad=True) for a in arrays]
    if self_attention:  # one tensor as query, key and value
        inputs_t, inputs_a = inputs_t * 3, inputs_a * 3
    kwargs_t, kwargs_a = {}, {}
    if with_masks:
        attn, padding = masks(rng, length, source, batch)
        kwargs_t = {"attn_mask": torch.tensor(attn), "key_padding_mask": torch.tensor(padding)}
        kwargs_a = {"attn_mask": ac.Tensor(attn), "key_padding_mask": ac.Tensor(padding)}
    out_t, w_t = reference(
        *inputs_t, need_weights=need_weights, average_attn_weights=average, **kwargs_t
    )
    out_a, w_a = ours(
        *inputs_a, need_weights=need_weights, average_attn_weights=average, **kwargs_a
    )
    assert (w_a is None) == (w_t is None)
    outputs_t = [out_t] + ([w_t] if need_weights else [])
    outputs_a = [out_a] + ([w_a] if need_weights else [])
    compare(outputs_a, outputs_t, inputs_a, inputs_t, ours, reference, rng)


@pytest.mark.parametrize(
    "options",
    [
        {"kdim": 6, "vdim": 7},
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"add_bias_kv": True, "add_zero_attn": True, "bias": False},
    ],
)
@pytest.mark.parametrize("with_masks", [False, True])
def test_mha_options_match_torch(rng, options, with_masks):
    e, heads, length, source, batch = 8, 2, 4, 5, 3
    reference = torch.nn.MultiheadAttention(e, heads, **options).double()
    ours = nn.MultiheadAttention(e, heads, dtype=ac.float64, **options)
    load_into(ours, reference, rng)
    widths = (e, options.get("kdim", e), options.get("vdim", e))
    arrays = [
        rng.standard_normal((n, batch, w))
        for n, w in zip((length, source, source), widths, strict=True)
    ]
    inputs_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    inputs_a = [ac.Tensor(a, req_grad=True) for a in arrays]
    kwargs_t, kwargs_a = {}, {}
    if with_masks:
        attn, padding = masks(rng, length, source, batch)
        kwargs_t = {"attn_mask": torch.tensor(attn), "key_padding_mask": torch.tensor(padding)}
        kwargs_a = {"attn_mask": ac.Tensor(attn), "key_padding_mask": ac.Tensor(padding)}
    out_t, w_t = reference(*inputs_t, **kwargs_t)
    out_a, w_a = ours(*inputs_a, **kwargs_a)
    compare([out_a, w_a], [out_t, w_t], inputs_a, inputs_t, ours, reference, rng)


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_causal_unbatched_and_float_masks(rng, need_weights):
    e, heads, length = 8, 2, 5
    reference = torch.nn.MultiheadAttention(e, heads).double()
    ours = nn.MultiheadAttention(e, heads, dtype=ac.float64)
    load_into(ours, reference, rng)
    x = rng.standard_normal((length, e))
    inputs_t = [torch.tensor(x, requires_grad=True)]
    inputs_a = [ac.Tensor(x, req_grad=True)]
    causal = torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=torch.float64)
    out_t, w_t = reference(
        *inputs_t * 3, attn_mask=causal, is_causal=True, need_weights=need_weights
    )
    out_a, w_a = ours(*inputs_a * 3, is_causal=True, need_weights=need_weights)
    outputs_t = [out_t] + ([w_t] if need_weights else [])
    outputs_a = [out_a] + ([w_a] if need_weights else [])
    compare(outputs_a, outputs_t, inputs_a, inputs_t, ours, reference, rng)
    # a float key padding mask with finite penalties, unbatched
    penalty = rng.standard_normal(length)
    out_t, w_t = reference(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(penalty))
    out_a, w_a = ours(*[ac.Tensor(x)] * 3, key_padding_mask=ac.Tensor(penalty))
    np.testing.assert_allclose(out_a.numpy(), out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(w_a.numpy(), w_t.detach().numpy(), atol=1e-10)


@pytest.mark.parametrize(
    ("batch_first", "norm_first", "activation", "with_masks"),
    list(itertools.product([False, True], [False, True], ["relu", "gelu"], [False, True])),
)
def test_encoder_layer_matches_torch(rng, batch_first, norm_first, activation, with_masks):
    e, heads, ff, length, batch = 8, 2, 16, 5, 3
    options = {
        "dropout": 0.1,
        "activation": activation,
        "batch_first": batch_first,
        "norm_first": norm_first,
    }
    reference = torch.nn.TransformerEncoderLayer(e, heads, ff, **options).double().eval()
    ours = nn.TransformerEncoderLayer(e, heads, ff, dtype=ac.float64, **options).eval()
    load_into(ours, reference, rng)
    x = rng.standard_normal((batch, length, e) if batch_first else (length, batch, e))
    inputs_t, inputs_a = [torch.tensor(x, requires_grad=True)], [ac.Tensor(x, req_grad=True)]
    kwargs_t, kwargs_a = {}, {}
    if with_masks:
        attn, padding = masks(rng, length, length, batch)
        kwargs_t = {"src_mask": torch.tensor(attn), "src_key_padding_mask": torch.tensor(padding)}
        kwargs_a = {"src_mask": ac.Tensor(attn), "src_key_padding_mask": ac.Tensor(padding)}
    out_t = reference(*inputs_t, **kwargs_t)
    out_a = ours(*inputs_a, **kwargs_a)
    compare([out_a], [out_t], inputs_a, inputs_t, ours, reference, rng)


@pytest.mark.parametrize("causal", [False, True])
def test_encoder_stack_matches_torch(rng, causal):
    e, heads, ff, length, batch = 8, 2, 16, 6, 2
    layer_t = torch.nn.TransformerEncoderLayer(
        e, heads, ff, batch_first=True, norm_first=True, activation="gelu"
    )
    reference = (
        torch.nn.TransformerEncoder(
            layer_t, 2, norm=torch.nn.LayerNorm(e), enable_nested_tensor=False
        )
        .double()
        .eval()
    )
    layer_a = nn.TransformerEncoderLayer(
        e, heads, ff, batch_first=True, norm_first=True, activation="gelu"
    )
    ours = nn.TransformerEncoder(layer_a, 2, norm=nn.LayerNorm(e)).double().eval()
    load_into(ours, reference, rng)
    x = rng.standard_normal((batch, length, e))
    inputs_t, inputs_a = [torch.tensor(x, requires_grad=True)], [ac.Tensor(x, req_grad=True)]
    kwargs_t, kwargs_a = {}, {}
    if causal:
        kwargs_t = {
            "mask": torch.nn.Transformer.generate_square_subsequent_mask(
                length, dtype=torch.float64
            ),
            "is_causal": True,
        }
        kwargs_a = {
            "mask": nn.generate_square_subsequent_mask(length, dtype=ac.float64),
            "is_causal": True,
        }
    compare(
        [ours(*inputs_a, **kwargs_a)],
        [reference(*inputs_t, **kwargs_t)],
        inputs_a,
        inputs_t,
        ours,
        reference,
        rng,
    )


def test_self_attention_seed_layer_matches_torch(rng):
    reference = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    ours = nn.MultiHeadSelfAttention(8, 2, causal=True, dtype=ac.float64)
    load_into(ours, reference, rng)
    x = rng.standard_normal((2, 5, 8))
    inputs_t, inputs_a = [torch.tensor(x, requires_grad=True)], [ac.Tensor(x, req_grad=True)]
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    out_t, _ = reference(*inputs_t * 3, attn_mask=mask, need_weights=False)
    compare([ours(*inputs_a)], [out_t], inputs_a, inputs_t, ours, reference, rng)


@pytest.mark.parametrize(
    ("batch_first", "norm_first", "activation", "with_masks"),
    list(itertools.product([False, True], [False, True], ["relu", "gelu"], [False, True])),
)
def test_decoder_layer_matches_torch(rng, batch_first, norm_first, activation, with_masks):
    e, heads, ff, length, source, batch = 8, 2, 16, 4, 6, 3
    options = {"activation": activation, "batch_first": batch_first, "norm_first": norm_first}
    reference = torch.nn.TransformerDecoderLayer(e, heads, ff, **options).double().eval()
    ours = nn.TransformerDecoderLayer(e, heads, ff, dtype=ac.float64, **options).eval()
    load_into(ours, reference, rng)
    layout = (lambda n: (batch, n, e)) if batch_first else (lambda n: (n, batch, e))
    tgt, memory = rng.standard_normal(layout(length)), rng.standard_normal(layout(source))
    inputs_t = [torch.tensor(a, requires_grad=True) for a in (tgt, memory)]
    inputs_a = [ac.Tensor(a, req_grad=True) for a in (tgt, memory)]
    kwargs_t, kwargs_a = {}, {}
    if with_masks:
        tgt_attn, tgt_padding = masks(rng, length, length, batch)
        mem_attn, mem_padding = masks(rng, length, source, batch)
        arrays = {
            "tgt_mask": tgt_attn,
            "tgt_key_padding_mask": tgt_padding,
            "memory_mask": mem_attn,
            "memory_key_padding_mask": mem_padding,
        }
        kwargs_t = {k: torch.tensor(v) for k, v in arrays.items()}
        kwargs_a = {k: ac.Tensor(v) for k, v in arrays.items()}
    out_t = reference(*inputs_t, **kwargs_t)
    out_a = ours(*inputs_a, **kwargs_a)
    compare([out_a], [out_t], inputs_a, inputs_t, ours, reference, rng)


def test_transformer_matches_torch(rng):
    e, heads, ff, batch = 8, 2, 16, 2
    options = {"num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": ff}
    reference = torch.nn.Transformer(e, heads, batch_first=True, **options).double().eval()
    ours = nn.Transformer(e, heads, batch_first=True, dtype=ac.float64, **options).eval()
    load_into(ours, reference, rng)
    src, tgt = rng.standard_normal((batch, 7, e)), rng.standard_normal((batch, 5, e))
    inputs_t = [torch.tensor(a, requires_grad=True) for a in (src, tgt)]
    inputs_a = [ac.Tensor(a, req_grad=True) for a in (src, tgt)]
    causal_t = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    causal_a = nn.Transformer.generate_square_subsequent_mask(5, dtype=ac.float64)
    out_t = reference(*inputs_t, tgt_mask=causal_t, tgt_is_causal=True)
    out_a = ours(*inputs_a, tgt_mask=causal_a, tgt_is_causal=True)
    compare([out_a], [out_t], inputs_a, inputs_t, ours, reference, rng)


def test_transformer_initialises_weights_like_torch():
    ours = nn.Transformer(16, 2, 1, 1, 32, batch_first=True)
    reference = torch.nn.Transformer(16, 2, 1, 1, 32, batch_first=True)
    for (name, a), (_, t) in zip(
        ours.named_parameters(), reference.named_parameters(), strict=True
    ):
        a, t = a.numpy(), t.detach().numpy()
        if a.ndim > 1:  # xavier_uniform_: the same bound
            bound = np.sqrt(6 / (a.shape[0] + a.shape[1]))
            assert np.abs(a).max() <= bound and np.abs(t).max() <= bound, name
            assert np.abs(a).max() > 0.8 * bound, name
        elif "linear" in name:  # a Linear's bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            fan_in = dict(ours.named_parameters())[name.replace("bias", "weight")].shape[1]
            assert np.abs(a).max() <= 1 / np.sqrt(fan_in), name
        else:  # norms and attention biases: ones and zeros
            np.testing.assert_array_equal(a, t, err_msg=name)


@pytest.mark.parametrize(
    ("self_attention", "with_masks"), [(True, False), (True, True), (False, True)]
)
def test_mha_gradient_penalty_matches_torch(rng, self_attention, with_masks):
    e, heads, length, batch = 6, 2, 4, 2
    source = length if self_attention else 3
    reference = torch.nn.MultiheadAttention(e, heads, batch_first=True).double()
    ours = nn.MultiheadAttention(e, heads, batch_first=True, dtype=ac.float64)
    load_into(ours, reference, rng)
    arrays = [rng.standard_normal((batch, n, e)) for n in (length, source, source)]
    arrays = arrays[:1] * 3 if self_attention else arrays
    kwargs_t, kwargs_a = {}, {}
    if with_masks:
        attn, padding = masks(rng, length, source, batch)
        kwargs_t = {"attn_mask": torch.tensor(attn), "key_padding_mask": torch.tensor(padding)}
        kwargs_a = {"attn_mask": ac.Tensor(attn), "key_padding_mask": ac.Tensor(padding)}
    results = []
    for lib, module, tensor, kwargs in (
        (torch, reference, lambda a: torch.tensor(a, requires_grad=True), kwargs_t),
        (ac, ours, lambda a: ac.Tensor(a, req_grad=True), kwargs_a),
    ):
        inputs = [tensor(arrays[0])] * 3 if self_attention else [tensor(a) for a in arrays]
        # NOTE: PyTorch's fused CPU kernel has no double backward; its math kernel has
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
            out = module(*inputs, need_weights=False, **kwargs)[0]
            (grad_x,) = lib.autograd.grad((out * out).sum(), inputs[0], create_graph=True)
            params = [p for _, p in module.named_parameters()]
            penalty_grads = lib.autograd.grad((grad_x * grad_x).sum(), [inputs[0], *params])
        results.append([np.asarray(g.detach()) for g in (grad_x, *penalty_grads)])
    for theirs, ours_ in zip(*results, strict=True):
        np.testing.assert_allclose(ours_, theirs, rtol=1e-9, atol=1e-10)


def test_mha_second_derivatives(rng):
    module = nn.MultiheadAttention(4, 2, batch_first=True, dtype=ac.float64)
    x = ac.Tensor(rng.standard_normal((2, 3, 4)), req_grad=True)
    memory = ac.Tensor(rng.standard_normal((2, 2, 4)), req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t: module(t, t, t, need_weights=False)[0], [x])
    assert ac.autograd.gradgradcheck(
        lambda t, m: module(t, m, m, need_weights=False)[0], [x, memory]
    )
