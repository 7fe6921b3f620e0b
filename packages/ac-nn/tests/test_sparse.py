"""Embedding (function and layer) and one_hot."""

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def test_embedding_forward_and_accumulated_gradient(rng: np.random.Generator) -> None:
    table = rng.standard_normal((6, 3))
    indices = np.array([[1, 4, 1], [5, 1, 0]])
    weight = ac.tensor(table, dtype=ac.float64, req_grad=True)
    out = F.embedding(ac.tensor(indices), weight)
    np.testing.assert_array_equal(out.numpy(), table[indices])
    upstream = rng.standard_normal((2, 3, 3))
    out.backward(upstream)
    expected = np.zeros_like(table)
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, 3))
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-15)
    assert ac.autograd.gradcheck(lambda w: F.embedding(ac.tensor(indices), w), [weight])


@pytest.mark.parametrize("padding_idx", [1, -5])
def test_embedding_padding_row_gets_no_gradient(padding_idx: int, rng: np.random.Generator) -> None:
    weight = ac.tensor(rng.standard_normal((6, 2)), dtype=ac.float64, req_grad=True)
    indices = ac.tensor([1, 2, 1, 3])
    out = F.embedding(indices, weight, padding_idx=padding_idx)
    np.testing.assert_array_equal(out.numpy(), weight.numpy()[[1, 2, 1, 3]])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad[:, 0], [0, 0, 1, 1, 0, 0])


@pytest.mark.parametrize("dtype", [ac.uint8, ac.int16, ac.int32, ac.int64])
def test_embedding_accepts_integer_dtypes(dtype) -> None:
    weight = ac.randn(4, 2)
    out = F.embedding(ac.tensor([3, 0], dtype=dtype), weight)
    np.testing.assert_array_equal(out.numpy(), weight.numpy()[[3, 0]])


def test_embedding_errors() -> None:
    weight = ac.randn(4, 2)
    with pytest.raises(IndexError, match=r"index 4 is out of range for a weight of shape \(4, 2\)"):
        F.embedding(ac.tensor([0, 4]), weight)
    with pytest.raises(IndexError, match="index -1"):
        F.embedding(ac.tensor([-1]), weight)
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(ac.tensor([0.0]), weight)
    with pytest.raises(ValueError, match=r"\(num_embeddings, embedding_dim\)"):
        F.embedding(ac.tensor([0]), ac.randn(4))
    with pytest.raises(ValueError, match="padding_idx 4"):
        F.embedding(ac.tensor([0]), weight, padding_idx=4)
    with pytest.raises(ValueError, match="padding_idx -5"):
        nn.Embedding(4, 2, padding_idx=-5)


def test_embedding_layer_initialisation_and_padding() -> None:
    emb = nn.Embedding(400, 50, padding_idx=3)
    values = np.delete(emb.weight.numpy(), 3, axis=0)
    assert abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.02
    assert (emb.weight.numpy()[3] == 0).all()
    assert emb.weight.dtype == ac.float32 and emb.weight.req_grad
    assert list(emb.state_dict()) == ["weight"]
    out = emb(ac.tensor([[3, 7]]))
    assert out.shape == (1, 2, 50)
    out.sum().backward()
    assert (emb.weight.grad[3] == 0).all() and (emb.weight.grad[7] == 1).all()
    assert repr(emb) == "Embedding(400, 50, padding_idx=3)"
    ac.manual_seed(1)
    first = nn.Embedding(5, 2).weight.numpy()
    ac.manual_seed(1)
    np.testing.assert_array_equal(nn.Embedding(5, 2).weight.numpy(), first)


def test_embedding_from_pretrained() -> None:
    table = ac.randn(3, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.req_grad and frozen.weight.data is table.data
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.req_grad and trainable.padding_idx == 0
    assert nn.Embedding(3, 2, dtype=ac.float64).weight.dtype == ac.float64
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(ac.randn(3))


def test_one_hot() -> None:
    out = F.one_hot(ac.tensor([[0, 2], [1, 0]]))
    assert out.dtype == ac.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[[0, 2], [1, 0]]])
    assert F.one_hot(ac.tensor([1], dtype=ac.uint8), num_classes=4).tolist() == [[0, 1, 0, 0]]
    assert F.one_hot(ac.tensor(2), 3).tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match=r"class values in \[0, 2\), got values from 0 to 2"):
        F.one_hot(ac.tensor([0, 2]), 2)
    with pytest.raises(ValueError, match="from -1"):
        F.one_hot(ac.tensor([-1, 1]))
    with pytest.raises(ValueError, match="empty tensor"):
        F.one_hot(ac.zeros(0, dtype=ac.int64))
    with pytest.raises(TypeError, match="integer indices"):
        F.one_hot(ac.tensor([1.0]))


def test_embedding_max_norm_and_frequency_scaling():
    weight = ac.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], req_grad=True)
    out = F.embedding(ac.tensor([0, 1, 0]), weight, max_norm=1.0, scale_grad_by_freq=True)
    # rows 0 and 1 were looked up: row 0 (norm 5) shrank to norm 1 in the weight itself
    np.testing.assert_allclose(weight.numpy()[0], [0.6, 0.8], rtol=1e-6)
    assert weight.numpy()[2].tolist() == [6.0, 8.0] and out.shape == (3, 2)
    out.sum().backward()
    assert weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]  # row 0 used twice
    assert "max_norm=1.0" in repr(nn.Embedding(3, 2, max_norm=1.0))


@pytest.mark.parametrize(
    ("norm_type", "expected"),
    [  # PyTorch's values: inf is the largest |x|, -inf the smallest, 0 the nonzeros' count
        (float("inf"), [[1.0, 0.0, 0.0], [-1.0, 0.25, 0.0]]),
        (float("-inf"), [[3.0, 0.0, 0.0], [-4.0, 1.0, 0.0]]),
        (0.0, [[3.0, 0.0, 0.0], [-2.0, 0.5, 0.0]]),
    ],
)
def test_embedding_max_norm_of_special_orders(norm_type, expected):
    table = [[3.0, 0.0, 0.0], [-4.0, 1.0, 0.0]]
    layer = nn.Embedding.from_pretrained(ac.tensor(table), max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(layer(ac.tensor([0, 1])).numpy(), expected, rtol=1e-6)
    bag = nn.EmbeddingBag.from_pretrained(
        ac.tensor(table), max_norm=1.0, norm_type=norm_type, mode="sum"
    )
    np.testing.assert_allclose(
        bag(ac.tensor([[0, 1]])).numpy(), [np.sum(expected, axis=0)], rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding_idx": 1},
        {"scale_grad_by_freq": True},
        {"padding_idx": -1, "scale_grad_by_freq": True},
    ],
    ids=["plain", "padding", "scaled", "padding_scaled"],
)
def test_embedding_has_second_derivatives(options: dict) -> None:
    weight = ac.tensor(np.random.default_rng(0).standard_normal((4, 3)), req_grad=True)
    indices = ac.tensor(np.array([[0, 1, 3], [3, 3, 1]]))
    if not options.get("scale_grad_by_freq"):
        # NOTE: a lookup is linear in the table: tanh makes its gradient depend on the table.
        # Scaled by frequency, the gradient is by design not the lookup's derivative, so
        # finite differences cannot confirm it; it is compared with backward's below.
        lookup = lambda w: F.embedding(indices, w, **options).tanh()  # noqa: E731
        assert ac.autograd.gradgradcheck(lookup, [weight])
    grad = ac.tensor(np.random.default_rng(1).standard_normal((2, 3, 3)), req_grad=True)
    (table_grad,) = ac.autograd.grad(
        F.embedding(indices, weight, **options), weight, grad, create_graph=True
    )
    assert table_grad.req_grad
    (plain,) = ac.autograd.grad(F.embedding(indices, weight, **options), weight, grad)
    np.testing.assert_allclose(table_grad.numpy(), plain.numpy())
    (back,) = ac.autograd.grad((table_grad * weight).sum(), grad)
    expected = F.embedding(indices, weight, **options).detach().numpy()
    if options.get("scale_grad_by_freq"):
        counts = np.bincount(indices.numpy().reshape(-1), minlength=4)
        expected = expected / counts[indices.numpy()][..., None]
    padding = options.get("padding_idx")
    if padding is not None:
        expected[indices.numpy() == padding % 4] = 0
    np.testing.assert_allclose(back.numpy(), expected)


# ------------------------------------------------------------------------ embedding bags
def _bag_reference(table, bags, mode, padding_idx=None, weights=None):
    """Per bag (a list of positions into the flat indices), its reduced rows."""
    out = np.zeros((len(bags), table.shape[1]))
    for b, (indices, scales) in enumerate(bags):
        rows = [
            table[i] * (1.0 if weights is None else s)
            for i, s in zip(indices, scales, strict=True)
            if i != padding_idx
        ]
        if rows:
            out[b] = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](rows, axis=0)
    return out


BAG_INDICES = np.array([1, 4, 1, 0, 5, 5, 2, 4, 3])
BAG_OFFSETS = np.array([0, 3, 3, 6])  # bags [0, 3), [3, 3) (empty), [3, 6), [6, 9)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 5])
def test_embedding_bag_with_offsets(mode, padding_idx, rng: np.random.Generator) -> None:
    table = rng.standard_normal((6, 3))
    weight = ac.tensor(table, dtype=ac.float64, req_grad=True)
    scales = rng.standard_normal(len(BAG_INDICES)) if mode == "sum" else None
    out = F.embedding_bag(
        ac.tensor(BAG_INDICES),
        weight,
        ac.tensor(BAG_OFFSETS),
        mode=mode,
        per_sample_weights=None if scales is None else ac.tensor(scales),
        padding_idx=padding_idx,
    )
    ends = [*BAG_OFFSETS[1:], len(BAG_INDICES)]
    bags = [
        (BAG_INDICES[s:e], (np.ones(e - s) if scales is None else scales[s:e]))
        for s, e in zip(BAG_OFFSETS, ends, strict=True)
    ]
    np.testing.assert_allclose(
        out.numpy(), _bag_reference(table, bags, mode, padding_idx, scales), rtol=1e-12
    )
    indices, offsets = ac.tensor(BAG_INDICES), ac.tensor(BAG_OFFSETS)
    inputs = [weight] if scales is None else [weight, ac.tensor(scales, req_grad=True)]
    assert ac.autograd.gradcheck(
        lambda w, *s: F.embedding_bag(
            indices,
            w,
            offsets,
            mode=mode,
            per_sample_weights=s[0] if s else None,
            padding_idx=padding_idx,
        ),
        inputs,
    )


def test_embedding_bag_gradients_by_mode() -> None:
    table = ac.tensor([[1.0, 5.0], [3.0, 2.0], [3.0, 0.0]], dtype=ac.float64, req_grad=True)
    indices = ac.tensor([[0, 1, 2], [2, 2, 0]])
    F.embedding_bag(indices, table, mode="max").sum().backward()
    # each element's gradient goes to the first row holding its maximum
    np.testing.assert_array_equal(table.grad, [[0, 2], [1, 0], [1, 0]])
    table.grad = None
    F.embedding_bag(indices, table, mode="mean").sum().backward()
    np.testing.assert_allclose(table.grad, [[2 / 3] * 2, [1 / 3] * 2, [1] * 2])
    table.grad = None
    # the frequency scaling divides each use by the row's uses in the whole input
    F.embedding_bag(indices, table, mode="sum", scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(table.grad, np.ones((3, 2)))


def test_embedding_bag_2d_input_last_offset_and_empty_bags(rng: np.random.Generator) -> None:
    table = rng.standard_normal((6, 3))
    indices = np.array([[1, 2, 0], [5, 5, 4]])
    out = F.embedding_bag(ac.tensor(indices), ac.tensor(table), mode="sum")
    np.testing.assert_allclose(out.numpy(), table[indices].sum(1), rtol=1e-12)
    # include_last_offset: the last offset ends the last bag, later indices are in none
    flat = ac.tensor(indices.reshape(-1))
    out = F.embedding_bag(flat, ac.tensor(table), ac.tensor([0, 2, 5]), include_last_offset=True)
    expected = [table[[1, 2]].mean(0), table[[0, 5, 5]].mean(0)]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    # bags that are empty (or hold only padding) give zeros
    out = F.embedding_bag(flat, ac.tensor(table), ac.tensor([0, 0, 3]), mode="max", padding_idx=5)
    np.testing.assert_allclose(out.numpy()[0], 0.0)
    np.testing.assert_allclose(out.numpy()[2], table[4])
    for mode in ("sum", "mean", "max"):
        weight = ac.tensor(table, req_grad=True)
        nothing = ac.tensor(np.zeros(0, int))
        empty = F.embedding_bag(nothing, weight, ac.tensor([0, 0]), mode=mode)
        np.testing.assert_array_equal(empty.numpy(), np.zeros((2, 3)))
        empty.sum().backward()
        np.testing.assert_array_equal(weight.grad, np.zeros((6, 3)))


def test_embedding_bag_errors() -> None:
    table, indices = ac.randn(6, 3), ac.tensor([1, 2, 3])
    with pytest.raises(ValueError, match="offsets must be None"):
        F.embedding_bag(indices.reshape(1, 3), table, ac.tensor([0]))
    with pytest.raises(ValueError, match="needs 1-D offsets"):
        F.embedding_bag(indices, table)
    with pytest.raises(ValueError, match=r"offsets\[0\] must be 0"):
        F.embedding_bag(indices, table, ac.tensor([1, 2]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(indices, table, ac.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(indices, table, ac.tensor([0, 4]))
    with pytest.raises(ValueError, match="mode"):
        F.embedding_bag(indices, table, ac.tensor([0]), mode="min")
    with pytest.raises(ValueError, match="max"):
        F.embedding_bag(indices, table, ac.tensor([0]), mode="max", scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(indices, table, ac.tensor([0]), per_sample_weights=ac.ones(3))
    with pytest.raises(ValueError, match="shape"):
        F.embedding_bag(indices, table, ac.tensor([0]), mode="sum", per_sample_weights=ac.ones(2))
    with pytest.raises(TypeError, match="dtype"):
        F.embedding_bag(
            indices, table, ac.tensor([0]), mode="sum", per_sample_weights=ac.ones(3).double()
        )
    with pytest.raises(IndexError, match="out of range"):
        F.embedding_bag(ac.tensor([1, 6]), table, ac.tensor([0]))
    with pytest.raises(TypeError, match="integer"):
        F.embedding_bag(ac.ones(3), table, ac.tensor([0]))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        F.embedding_bag(ac.tensor([[[1]]]), table)


def test_embedding_bag_layer() -> None:
    ac.manual_seed(0)
    layer = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-1)
    assert layer.padding_idx == 9 and (layer.weight.numpy()[9] == 0).all()
    assert repr(layer) == "EmbeddingBag(10, 3, mode='sum', padding_idx=9)"
    out = layer(ac.tensor([1, 2, 9, 4]), ac.tensor([0, 2]))
    expected = [layer.weight.numpy()[[1, 2]].sum(0), layer.weight.numpy()[4]]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    table = ac.randn(4, 2)
    frozen = nn.EmbeddingBag.from_pretrained(table, mode="max")
    assert frozen.weight.data is table.data and not frozen.weight.req_grad
    assert nn.EmbeddingBag.from_pretrained(table, freeze=False).weight.req_grad
    with pytest.raises(ValueError, match="mode"):
        nn.EmbeddingBag(4, 2, mode="min")
    with pytest.raises(ValueError, match="2-D"):
        nn.EmbeddingBag.from_pretrained(ac.randn(4))


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "sum"},
        {"mode": "mean", "padding_idx": 3},
        {"mode": "max"},
        {"weighted": True},
        {"mode": "mean", "scale_grad_by_freq": True},
    ],
)
def test_embedding_bag_has_second_derivatives(options: dict) -> None:
    rng = np.random.default_rng(0)
    weight = ac.tensor(rng.standard_normal((5, 3)), req_grad=True)
    indices, offsets = ac.tensor([0, 1, 3, 3, 4, 1, 0]), ac.tensor([0, 3, 3])
    inputs = [weight]
    if options.pop("weighted", False):
        options["mode"] = "sum"
        inputs.append(ac.tensor(rng.standard_normal(7), req_grad=True))

    def bags(w, *scales):
        weights = scales[0] if scales else None
        return F.embedding_bag(indices, w, offsets, per_sample_weights=weights, **options)

    if not options.get("scale_grad_by_freq"):
        # NOTE: sums and means are linear in the table: tanh makes their gradients depend on
        # it. Scaled by frequency, the gradient is by design not the derivative; it is
        # compared with backward's below.
        assert ac.autograd.gradgradcheck(lambda *a: bags(*a).tanh(), inputs)
    upstream = ac.tensor(rng.standard_normal((3, 3)), req_grad=True)
    first = ac.autograd.grad(bags(*inputs), inputs, upstream, create_graph=True)
    plain = ac.autograd.grad(bags(*inputs), inputs, upstream)
    for a, b in zip(first, plain, strict=True):
        assert a.req_grad
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("rows", [5, 500])  # fewer rows than indices (repeats) and more
def test_embedding_gradients_add_up_repeated_rows(rows) -> None:
    rng = np.random.default_rng(0)
    indices = rng.integers(0, rows, (4, 30))
    weight = ac.tensor(rng.standard_normal((rows, 3)), req_grad=True)
    upstream = rng.standard_normal((4, 30, 3))
    (F.embedding(ac.tensor(indices), weight) * ac.tensor(upstream)).sum().backward()
    expected = np.zeros((rows, 3))
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, 3))
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("table_shape", "count"),
    [((40, 3), 2000), ((1000, 3), 500), ((50, 4), 60), ((30,), 10), ((8, 2, 3), 5), ((6, 2), 0)],
)
def test_add_rows_sums_repeated_rows(table_shape: tuple[int, ...], count: int) -> None:
    # NOTE: both ways of adding (sorted runs for many repeats, flat places otherwise)
    from auto_compyute.nn.functional.sparse import _add_rows

    rng = np.random.default_rng(0)
    indices = rng.integers(0, table_shape[0], count).astype(np.int32)
    rows = rng.standard_normal((*table_shape[1:][::-1], count)).T  # a transposed view
    expected = np.zeros(table_shape)
    np.add.at(expected, indices, rows)
    table = np.zeros(table_shape)
    _add_rows(table, indices, rows)
    np.testing.assert_allclose(table, expected, rtol=1e-12, atol=1e-12)
