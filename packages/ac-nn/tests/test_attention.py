"""Scaled dot-product attention: NumPy forward, finite-difference gradients, masks, errors."""

import math

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute._core.random import get_generator
from auto_compyute.nn.functional.attention import packed_self_attention

gradcheck = ac.autograd.gradcheck
attention = F.scaled_dot_product_attention


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def _t(array, req_grad: bool = False) -> ac.Tensor:
    return ac.tensor(array, dtype=ac.float64, req_grad=req_grad)


def _np_attention(q, k, v, mask=None, causal=False, scale=None, keep=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    top = scores.max(-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    exps = np.exp(scores - top)
    total = exps.sum(-1, keepdims=True)
    probs = exps / np.where(total == 0, 1, total)
    if keep is not None:
        probs = probs * keep
    return probs @ v


def _qkv(rng, batch=(2, 3), length=4, source=5, width=6, value_width=3):
    return (
        rng.standard_normal((*batch, length, width)),
        rng.standard_normal((*batch, source, width)),
        rng.standard_normal((*batch, source, value_width)),
    )


def test_forward_plain_and_scaled(rng: np.random.Generator) -> None:
    q, k, v = _qkv(rng)
    out = attention(_t(q), _t(k), _t(v))
    assert out.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v), rtol=1e-12)
    out = attention(_t(q), _t(k), _t(v), scale=0.3)
    np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v, scale=0.3), rtol=1e-12)


def test_forward_with_masks(rng: np.random.Generator) -> None:
    q, k, v = _qkv(rng)
    bool_mask = rng.random((4, 5)) > 0.4
    bool_mask[:, 0] = True
    float_mask = rng.standard_normal((3, 4, 5))
    for mask in (bool_mask, float_mask):
        mask_tensor = ac.tensor(mask) if mask.dtype == bool else _t(mask)
        out = attention(_t(q), _t(k), _t(v), attn_mask=mask_tensor)
        np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v, mask), rtol=1e-12)
    out = attention(_t(q), _t(k), _t(v), is_causal=True)
    np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v, causal=True), rtol=1e-12)


def test_leading_axes_broadcast(rng: np.random.Generator) -> None:
    q = rng.standard_normal((3, 4, 6))
    k, v = rng.standard_normal((2, 1, 5, 6)), rng.standard_normal((1, 5, 3))
    out = attention(_t(q), _t(k), _t(v))
    assert out.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v), rtol=1e-12)
    args = [_t(q, True), _t(k, True), _t(v, True)]
    assert gradcheck(attention, args)


def test_grouped_query_attention(rng: np.random.Generator) -> None:
    q = rng.standard_normal((2, 4, 3, 5))
    k, v = rng.standard_normal((2, 2, 3, 5)), rng.standard_normal((2, 2, 3, 5))
    out = attention(_t(q), _t(k), _t(v), enable_gqa=True)
    expected = _np_attention(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    args = [_t(q[:1], True), _t(k[:1], True), _t(v[:1], True)]
    assert gradcheck(lambda a, b, c: attention(a, b, c, enable_gqa=True), args)


@pytest.mark.parametrize("variant", ["plain", "bool_mask", "float_mask", "causal", "causal_wide"])
def test_gradients(variant: str, rng: np.random.Generator) -> None:
    source = 5 if variant == "causal_wide" else 4
    q, k, v = _qkv(rng, batch=(2,), length=3, source=source, width=4, value_width=2)
    args = [_t(q, True), _t(k, True), _t(v, True)]
    if variant == "bool_mask":
        mask = ac.tensor(rng.random((3, source)) > 0.3)
        assert gradcheck(lambda a, b, c: attention(a, b, c, mask), args)
    elif variant == "float_mask":
        mask = _t(rng.standard_normal((2, 1, source)), True)  # the mask gets a gradient too
        assert gradcheck(lambda a, b, c, m: attention(a, b, c, m, scale=0.7), [*args, mask])
    elif variant.startswith("causal"):
        assert gradcheck(lambda a, b, c: attention(a, b, c, is_causal=True), args)
    else:
        assert gradcheck(attention, args)


def test_fully_masked_rows_give_zeros_not_nan(rng: np.random.Generator) -> None:
    q, k, v = _qkv(rng, batch=(1,))
    mask = np.ones((4, 5), dtype=bool)
    mask[2] = False
    args = [_t(q, True), _t(k, True), _t(v, True)]
    out = attention(*args, attn_mask=ac.tensor(mask))
    assert np.isfinite(out.numpy()).all() and (out.numpy()[:, 2] == 0).all()
    out.sum().backward()
    assert all(np.isfinite(a.grad).all() for a in args)
    assert gradcheck(lambda a, b, c: attention(a, b, c, ac.tensor(mask)), args)


def test_dropout_uses_the_global_generator(rng: np.random.Generator) -> None:
    q, k, v = _qkv(rng, batch=(2,))
    ac.manual_seed(7)
    out = attention(_t(q), _t(k), _t(v), dropout_p=0.4)
    ac.manual_seed(7)
    keep = (get_generator().random((2, 4, 5)) >= 0.4) / 0.6
    np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v, keep=keep), rtol=1e-12)

    def fn(a, b, c):
        ac.manual_seed(3)  # the same mask in every evaluation
        return attention(a, b, c, dropout_p=0.4)

    assert gradcheck(fn, [_t(q, True), _t(k, True), _t(v, True)])


def test_dropout_of_every_weight_gives_zeros(rng: np.random.Generator) -> None:
    # NOTE: as PyTorch's dropout_p=1.0: every weight dropped, no division by 1 - p
    args = [_t(a, True) for a in _qkv(rng, batch=(2,))]
    out = attention(*args, dropout_p=1.0)
    assert (out.numpy() == 0).all()
    out.sum().backward()
    assert all((a.grad == 0).all() for a in args)


def test_float32_stays_float32(rng: np.random.Generator) -> None:
    q, k, v = (ac.tensor(a, dtype=ac.float32, req_grad=True) for a in _qkv(rng))
    out = attention(q, k, v, is_causal=True)
    out.sum().backward()
    assert out.dtype == ac.float32 and q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32


def test_errors_name_the_shapes() -> None:
    q, k, v = ac.randn(2, 4, 6), ac.randn(2, 5, 6), ac.randn(2, 5, 3)
    with pytest.raises(ValueError, match=r"query \(2, 4, 6\), key \(2, 5, 7\), value \(2, 5, 3\)"):
        attention(q, ac.randn(2, 5, 7), v)
    with pytest.raises(ValueError, match=r"value \(2, 6, 3\)"):
        attention(q, k, ac.randn(2, 6, 3))
    with pytest.raises(ValueError, match="leading axes do not broadcast"):
        attention(q, ac.randn(3, 5, 6), ac.randn(3, 5, 3))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 5\).*\(2, 4, 5\)"):
        attention(q, k, v, attn_mask=ac.ones(3, 5))
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        attention(q, k, v, attn_mask=ac.ones(4, 5), is_causal=True)
    with pytest.raises(TypeError, match="one floating-point dtype"):
        attention(q, k.double(), v)
    with pytest.raises(ValueError, match=r"dropout_p must be in \[0, 1\], got 1.5"):
        attention(q, k, v, dropout_p=1.5)
    with pytest.raises(ValueError, match="enable_gqa"):
        attention(ac.randn(1, 3, 4, 6), ac.randn(1, 2, 5, 6), ac.randn(1, 2, 5, 6), enable_gqa=True)


@pytest.mark.parametrize(
    "options",
    [{"is_causal": True}, {"mask": "float"}, {"mask": "bool", "dropout_p": 0.25}],
)
def test_attention_split_across_threads_matches_one_thread(rng, options) -> None:
    """Large inputs take the threaded path; one thread must give the very same numbers."""
    options = dict(options)
    mask_kind = options.pop("mask", None)
    shape = (8, 4, 128, 64)  # big enough to be split over the batch axis
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    mask = None
    if mask_kind == "float":
        mask = rng.standard_normal((1, 4, 128, 128)).astype(np.float32)
    elif mask_kind == "bool":
        mask = rng.random((8, 1, 128, 128)) < 0.8
    cotangent = rng.standard_normal(shape).astype(np.float32)
    results, before = [], ac.get_num_threads()
    for threads in (1, 2):
        ac.set_num_threads(threads)
        ac.manual_seed(1)
        inputs = [ac.tensor(a, req_grad=True) for a in arrays]
        attn_mask = None if mask is None else ac.tensor(mask, req_grad=mask_kind == "float")
        out = attention(*inputs, attn_mask, **options)
        out.backward(ac.tensor(cotangent))
        grads = [t.grad for t in inputs] + ([attn_mask.grad] if mask_kind == "float" else [])
        results.append((out.numpy(), *grads))
    ac.set_num_threads(before)
    for one, split in zip(*results, strict=True):
        np.testing.assert_array_equal(one, split)


def test_packed_self_attention_matches_attention_over_split_heads(rng) -> None:
    batch, length, heads, width = 2, 5, 2, 3
    qkv = _t(rng.standard_normal((batch, length, 3 * heads * width)), req_grad=True)
    mask = _t(rng.standard_normal((1, heads, length, length)), req_grad=True)
    for options in ({"attn_mask": mask}, {"is_causal": True}):
        out = packed_self_attention(qkv, heads, **options)
        q, k, v = (
            t.reshape(batch, length, heads, width).transpose(1, 2) for t in qkv.chunk(3, dim=-1)
        )
        expected = attention(q, k, v, **options).transpose(1, 2).reshape(batch, length, -1)
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
        inputs = [qkv, mask] if "attn_mask" in options else [qkv]

        def packed(t, *m, options=options):
            return packed_self_attention(t, heads, *m, is_causal="is_causal" in options)

        assert gradcheck(packed, inputs)


@pytest.mark.parametrize("variant", ["plain", "bool_mask", "float_mask", "causal", "no_key_rows"])
def test_second_derivatives(variant: str, rng: np.random.Generator) -> None:
    q, k, v = _qkv(rng, batch=(2,), length=3, source=4, width=3, value_width=2)
    args = [_t(q, True), _t(k, True), _t(v, True)]
    gradgradcheck = ac.autograd.gradgradcheck
    if variant in ("bool_mask", "no_key_rows"):
        allowed = rng.random((3, 4)) > 0.3
        allowed[:, 0] = variant == "bool_mask"
        allowed[1] = variant == "bool_mask"  # a query that sees no key: weights 0
        mask = ac.tensor(allowed)
        assert gradgradcheck(lambda a, b, c: attention(a, b, c, mask), args)
    elif variant == "float_mask":
        mask = _t(rng.standard_normal((2, 1, 4)), True)
        assert gradgradcheck(lambda a, b, c, m: attention(a, b, c, m, scale=0.7), [*args, mask])
    elif variant == "causal":
        assert gradgradcheck(lambda a, b, c: attention(a, b, c, is_causal=True), args)
    else:
        assert gradgradcheck(lambda a, b, c: attention(a, b, c).tanh(), args)


def test_packed_self_attention_second_derivatives(rng) -> None:
    batch, length, heads, width = 2, 3, 2, 2
    qkv = _t(rng.standard_normal((batch, length, 3 * heads * width)), req_grad=True)
    mask = _t(rng.standard_normal((1, heads, length, length)), req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t, m: packed_self_attention(t, heads, m), [qkv, mask])
    assert ac.autograd.gradgradcheck(
        lambda t: packed_self_attention(t, heads, is_causal=True), [qkv]
    )
