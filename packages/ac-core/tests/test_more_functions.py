"""Shape, indexing, logic and statistics functions: exact values, NumPy, and errors (the
differentiable ones also have cases in op_cases.py)."""

import math

import numpy as np
import pytest

import auto_compyute as ac


def test_comparison_functions_and_aliases(rng: np.random.Generator) -> None:
    a_np, b_np = rng.integers(0, 3, (3, 4)), rng.integers(0, 3, (4,))
    a, b = ac.tensor(a_np), ac.tensor(b_np)
    pairs = [
        (ac.eq, np.equal),
        (ac.ne, np.not_equal),
        (ac.not_equal, np.not_equal),
        (ac.lt, np.less),
        (ac.less, np.less),
        (ac.le, np.less_equal),
        (ac.less_equal, np.less_equal),
        (ac.gt, np.greater),
        (ac.greater, np.greater),
        (ac.ge, np.greater_equal),
        (ac.greater_equal, np.greater_equal),
    ]
    for ours, theirs in pairs:
        result = ours(a, b)
        assert result.dtype == ac.bool_ and not result.req_grad
        np.testing.assert_array_equal(result.numpy(), theirs(a_np, b_np))
    assert (a.greater(1) == (a > 1)).all().item() and (a.less_equal(b) == (a <= b)).all().item()
    assert ac.all(a >= 0).item() and not ac.any(a > 5).item()
    np.testing.assert_array_equal(ac.any(a == 2, 1).numpy(), (a_np == 2).any(1))
    x = ac.tensor([[1.0, -2.0]], req_grad=True)
    np.testing.assert_array_equal(ac.masked_fill(x, x < 0, 0.0).numpy(), [[1.0, 0.0]])
    assert ac.clone(x).grad_fn is not None and ac.unflatten(ac.zeros(6), 0, (2, 3)).shape == (2, 3)


def test_equal_is_nonzero_isin_and_infinities() -> None:
    a = ac.tensor([1.0, 2.0])
    assert ac.equal(a, ac.tensor([1.0, 2.0])) and not ac.equal(a, ac.tensor([1.0, 3.0]))
    assert not ac.equal(a, ac.tensor([[1.0, 2.0]])) and a.equal(ac.tensor([1, 2]))
    assert ac.is_nonzero(ac.tensor([0.5])) and not ac.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match=r"one element, got shape \(2,\)"):
        ac.is_nonzero(a)
    values = ac.tensor([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(
        ac.isin(values, ac.tensor([2, 6, 9])).numpy(), [[False, True, False], [False, False, True]]
    )
    np.testing.assert_array_equal(ac.isin(values, 5, invert=True).numpy(), values.numpy() != 5)
    assert ac.isin(3, ac.tensor([1, 3])).item()
    with pytest.raises(TypeError, match="at least one"):
        ac.isin(1, [1])
    x = ac.tensor([-math.inf, math.inf, math.nan, 1.0])
    np.testing.assert_array_equal(ac.isneginf(x).numpy(), [True, False, False, False])
    np.testing.assert_array_equal(x.isposinf().numpy(), [False, True, False, False])
    assert ac.isreal(x).all().item() and ac.isposinf(ac.tensor([1, 2])).dtype == ac.bool_


def test_bitwise_functions_and_operators() -> None:
    a, b = ac.tensor([12, 10, -3], dtype=ac.int32), ac.tensor([10, 6, 5], dtype=ac.int32)
    a_np, b_np = a.numpy(), b.numpy()
    np.testing.assert_array_equal(ac.bitwise_and(a, b).numpy(), a_np & b_np)
    np.testing.assert_array_equal(a.bitwise_or(b).numpy(), a_np | b_np)
    np.testing.assert_array_equal(ac.bitwise_xor(a, 3).numpy(), a_np ^ 3)
    np.testing.assert_array_equal(ac.bitwise_not(a).numpy(), ~a_np)
    np.testing.assert_array_equal((6 & a).numpy(), 6 & a_np)
    np.testing.assert_array_equal((1 | a).numpy(), 1 | a_np)
    np.testing.assert_array_equal((5 ^ b).numpy(), 5 ^ b_np)
    assert (a & b).dtype == ac.int32 and (~a).dtype == ac.int32
    flags = ac.tensor([True, False])
    np.testing.assert_array_equal((True & flags).numpy(), [True, False])
    np.testing.assert_array_equal((~flags).numpy(), [False, True])
    with pytest.raises(TypeError, match="integer or bool operands, got float32 and int32"):
        ac.tensor([1.0]) & ac.tensor([1], dtype=ac.int32)
    with pytest.raises(TypeError, match="got int32 and float"):
        a.bitwise_and(1.5)
    with pytest.raises(TypeError, match="bitwise_not needs an integer or bool tensor"):
        ~ac.tensor([1.0])
    with pytest.raises(TypeError, match="positive does not take a bool tensor"):
        ac.positive(flags)
    assert +a is a


def test_broadcast_shapes_unravel_index_and_splits() -> None:
    assert ac.broadcast_shapes((2, 1), (3,), 3) == (2, 3)
    with pytest.raises(ValueError, match=r"\(2,\), \(3,\) do not broadcast"):
        ac.broadcast_shapes((2,), (3,))
    rows, cols = ac.unravel_index(ac.tensor([5, -1, 3]), (2, 3))
    assert rows.tolist() == [1, 1, 1] and cols.tolist() == [2, 2, 0] and rows.dtype == ac.int64
    with pytest.raises(IndexError, match=r"out of range for shape \(2, 3\)"):
        ac.unravel_index(ac.tensor([6]), (2, 3))
    x = ac.arange(7)
    assert [p.tolist() for p in ac.tensor_split(x, 3)] == [[0, 1, 2], [3, 4], [5, 6]]
    pieces = x.tensor_split([1, 5, 10, 2])
    assert [p.tolist() for p in pieces] == [[0], [1, 2, 3, 4], [5, 6], [], [2, 3, 4, 5, 6]]
    assert [p.shape for p in ac.tensor_split(ac.zeros(2, 5), ac.tensor([2]), 1)] == [
        (2, 2),
        (2, 3),
    ]
    with pytest.raises(ValueError, match="sections > 0"):
        x.tensor_split(0)
    with pytest.raises(ValueError, match="dim 0 of size 7 cannot be cut into 2 equal parts"):
        ac.hsplit(x, 2)
    with pytest.raises(ValueError, match=r"at least 2 axes, got shape \(7,\)"):
        ac.vsplit(x, 7)
    with pytest.raises(ValueError, match="at least 3 axes"):
        ac.dsplit(ac.zeros(2, 2), 1)
    assert [p.shape for p in ac.dsplit(ac.zeros(1, 2, 4), [1])] == [(1, 2, 1), (1, 2, 3)]


def test_shape_helpers_check_their_arguments() -> None:
    x = ac.arange(6).reshape(2, 3)
    assert ac.atleast_1d(ac.tensor(1.0)).shape == (1,)
    assert [t.shape for t in ac.atleast_2d(ac.tensor(1.0), ac.zeros(3))] == [(1, 1), (1, 3)]
    assert ac.atleast_3d(x).shape == (2, 3, 1) and ac.atleast_3d(ac.zeros(3)).shape == (1, 3, 1)
    assert ac.repeat_interleave(ac.tensor([2, 0, 1])).tolist() == [0, 0, 2]
    assert ac.repeat_interleave(ac.tensor(3.0), 2).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="2 repeats for dim 1 of size 3"):
        x.repeat_interleave(ac.tensor([1, 2]), dim=1)
    with pytest.raises(ValueError, match="non-negative repeats"):
        x.repeat_interleave(-1)
    with pytest.raises(TypeError, match="integer repeats"):
        x.repeat_interleave(1.5)
    with pytest.raises(ValueError, match="output_size 5 differs from the length 6"):
        x.repeat_interleave(1, output_size=5)
    with pytest.raises(IndexError, match="index 2 is out of range for dim 0 of size 2"):
        ac.select(x, 0, 2)
    with pytest.raises(IndexError, match="index 6 is out of range for a tensor of 6 elements"):
        ac.take(x, ac.tensor([6]))
    assert ac.combinations(ac.zeros(3), 0).shape == (0,)
    assert ac.combinations(ac.zeros(3), 4).shape == (0, 4)
    assert ac.combinations(ac.zeros(3), 1).shape == (3, 1)
    with pytest.raises(ValueError, match=r"1-D tensor, got shape \(2, 3\)"):
        ac.combinations(x)
    with pytest.raises(ValueError, match="1-D tensors"):
        ac.cartesian_prod(x, x)
    with pytest.raises(ValueError, match="two different dims"):
        ac.diag_embed(ac.zeros(3), 0, 0, -2)
    assert ac.diagflat(x, -1).shape == (7, 7) and ac.vander(ac.tensor([2, 3])).tolist() == [
        [2, 1],
        [3, 1],
    ]
    embedded = ac.diag_embed(ac.tensor([math.inf, 1.0]))
    assert embedded.tolist() == [[math.inf, 0.0], [0.0, 1.0]]  # zeros, not inf * 0


def test_index_put_in_place_follows_the_in_place_rules() -> None:
    x = ac.zeros(3)
    assert x.index_put_((ac.tensor([0, 0, 2]),), ac.tensor(1.0), accumulate=True) is x
    assert x.tolist() == [2.0, 0.0, 1.0]
    x.index_put_((ac.tensor([1]),), ac.tensor([5.0]))
    assert x.tolist() == [2.0, 5.0, 1.0]
    w = ac.zeros(3, req_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.index_put_((ac.tensor([0]),), ac.tensor(1.0))
    with ac.no_grad():
        w.index_put_((ac.tensor([0]),), ac.tensor(1.0))
    assert w.tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="computed by Mul"):
        (w * 2).index_put_((ac.tensor([0]),), ac.tensor(1.0))
    with pytest.raises(RuntimeError, match="involves a tensor that requires grad"):
        ac.zeros(3).index_put_((ac.tensor([0]),), ac.ones(1, req_grad=True))
    with pytest.raises(TypeError, match="values of the input's dtype float32, got float64"):
        ac.zeros(3).index_put((ac.tensor([0]),), ac.ones(1, dtype=ac.float64))
    with pytest.raises(ValueError, match=r"values of shape \(2,\) do not broadcast"):
        ac.zeros(3).index_put((ac.tensor([0, 1, 2]),), ac.ones(2))
    with pytest.raises(TypeError, match="integer or bool index tensors"):
        ac.zeros(3).index_put((ac.tensor([0.0]),), ac.ones(1))


def test_indexing_functions_check_their_arguments() -> None:
    x = ac.zeros(2, 3)
    with pytest.raises(ValueError, match="the mask selects 4 places, source has 3 elements"):
        x.masked_scatter(ac.tensor([True, False, True]), ac.ones(3))
    with pytest.raises(TypeError, match="bool mask"):
        x.masked_scatter(ac.tensor([1, 0, 1]), ac.ones(6))
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        x.index_copy(1, ac.tensor([0, 1]), ac.ones(2, 3))
    with pytest.raises(IndexError, match="out of range for dim 1 of size 3"):
        x.index_fill(1, ac.tensor([3]), 1.0)
    with pytest.raises(ValueError, match="reduce must be one of sum, prod, mean, amax, amin"):
        x.scatter_reduce(0, ac.tensor([[0]]), ac.ones(1, 1), "max")
    result = ac.scatter_reduce(
        ac.tensor([10, 10, 10]), 0, ac.tensor([0, 0, 1]), ac.tensor([1, 2, 3]), "mean"
    )
    assert result.tolist() == [4, 6, 10]  # integer means round down, as in PyTorch


def test_scatter_reduce_gradients_share_ties_and_skip_zeros() -> None:
    x = ac.tensor([1.0, 0.0], dtype=ac.float64, req_grad=True)
    src = ac.tensor([1.0, 1.0, -1.0], dtype=ac.float64, req_grad=True)
    index = ac.tensor([0, 0, 1])
    ac.scatter_reduce(x, 0, index, src, "amax").sum().backward()
    np.testing.assert_allclose(x.grad, [1 / 3, 1.0])
    np.testing.assert_allclose(src.grad, [1 / 3, 1 / 3, 0.0])
    x.grad = src.grad = None
    # without self, src's values alone make the result: the tie with x does not share it
    # (PyTorch 2.13 gives src 1/2 here, and x nothing)
    ac.scatter_reduce(x, 0, index, src, "amax", include_self=False).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0])
    np.testing.assert_allclose(src.grad, [0.5, 0.5, 1.0])
    x.grad = src.grad = None
    factors = ac.tensor([2.0, 0.0, 3.0], dtype=ac.float64, req_grad=True)
    ac.scatter_reduce(x, 0, ac.tensor([0, 0, 0]), factors, "prod").sum().backward()
    # one factor of place 0 is 0: only it gets a gradient, the product of the others
    np.testing.assert_allclose(factors.grad, [0.0, 6.0, 0.0])
    np.testing.assert_allclose(x.grad, [0.0, 1.0])


def test_nan_reductions() -> None:
    x = ac.tensor([[1.0, math.nan, 3.0, 2.0], [math.nan] * 4])
    np.testing.assert_array_equal(ac.nansum(x, 1).numpy(), [6.0, 0.0])
    np.testing.assert_array_equal(ac.nanmean(x, 1).numpy(), [2.0, math.nan])
    values, indices = ac.nanmedian(x, 1)
    np.testing.assert_array_equal(values.numpy(), [2.0, math.nan])
    assert indices[0].item() == 3
    assert ac.nanmedian(x).item() == 2.0 and ac.nansum(ac.tensor([1, 2])).item() == 3
    with pytest.raises(TypeError, match="nanmean needs a floating-point tensor"):
        ac.nanmean(ac.tensor([1, 2]))
    assert ac.nanmedian(ac.tensor([3, 1, 2])).item() == 2


def test_quantile_matches_numpy_and_checks_its_arguments(rng: np.random.Generator) -> None:
    a = rng.standard_normal((4, 7))
    x = ac.tensor(a)
    for how in ("linear", "lower", "higher", "midpoint", "nearest"):
        q = np.array([0.0, 0.1, 0.5, 0.75, 1.0])
        np.testing.assert_allclose(
            ac.quantile(x, ac.tensor(q), dim=0, interpolation=how).numpy(),
            np.quantile(a, q, axis=0, method=how),
            rtol=1e-12,
        )
    assert ac.quantile(x, 0.5, keepdim=True).shape == (1, 1)
    assert x.quantile(ac.tensor([0.5, 0.9]), 1, keepdim=True).shape == (2, 4, 1)
    a[1, 2] = np.nan
    with_nan = ac.tensor(a)
    assert np.isnan(with_nan.quantile(0.5, 1).numpy()[1])
    np.testing.assert_allclose(
        with_nan.nanquantile(0.3, 1).numpy(), np.nanquantile(a, 0.3, axis=1), rtol=1e-12
    )
    with pytest.raises(ValueError, match=r"q in \[0, 1\]"):
        x.quantile(1.5)
    with pytest.raises(TypeError, match="floating-point tensor, got dtype int64"):
        ac.quantile(ac.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match="interpolation must be"):
        x.quantile(0.5, interpolation="cubic")


def test_mode_picks_the_smallest_most_frequent_value_and_its_last_index() -> None:
    x = ac.tensor([[3.0, 1.0, 3.0, 1.0, 2.0], [5.0, 5.0, 4.0, 4.0, 4.0]])
    values, indices = ac.mode(x, 1)
    assert values.tolist() == [1.0, 4.0] and indices.tolist() == [3, 4]
    values, indices = x.mode(0, keepdim=True)
    assert values.tolist() == [[3.0, 1.0, 3.0, 1.0, 2.0]] and indices.shape == (1, 5)


def test_counting_functions() -> None:
    values = ac.tensor([0, 2, 2, 5])
    assert ac.bincount(values).tolist() == [1, 0, 2, 0, 0, 1]
    assert values.bincount(minlength=8).shape == (8,)
    weighted = values.bincount(ac.tensor([0.5, 1.0, 2.0, 1.0], dtype=ac.float64))
    assert weighted.dtype == ac.float64 and weighted.tolist() == [0.5, 0, 3.0, 0, 0, 1.0]
    with pytest.raises(ValueError, match="non-negative"):
        ac.bincount(ac.tensor([-1]))
    with pytest.raises(ValueError, match="1-D integer tensor"):
        ac.bincount(ac.tensor([1.0]))
    data = ac.tensor([1.0, 2.0, 1.0, 7.0, -3.0])
    assert ac.histc(data, bins=4, min=0, max=4).tolist() == [0.0, 2.0, 1.0, 0.0]
    assert ac.histc(ac.tensor([1.0, 1.0]), bins=4).tolist() == [0.0, 0.0, 2.0, 0.0]
    np.testing.assert_array_equal(
        data.histc(5).numpy(), np.histogram(data.numpy(), 5)[0].astype(np.float32)
    )
    with pytest.raises(TypeError, match="histc needs a floating-point tensor"):
        ac.histc(values)
    runs = ac.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    found, inverse, counts = ac.unique_consecutive(runs, return_inverse=True, return_counts=True)
    assert found.tolist() == [1, 2, 3, 1, 2] and counts.tolist() == [2, 2, 1, 2, 1]
    assert inverse.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    rows = ac.tensor([[1, 2], [1, 2], [3, 4], [1, 2]])
    found, counts = rows.unique_consecutive(return_counts=True, dim=0)
    assert found.tolist() == [[1, 2], [3, 4], [1, 2]] and counts.tolist() == [2, 1, 1]
    assert ac.unique_consecutive(ac.zeros(0, 2), dim=0).shape == (0, 2)


def test_statistics_functions() -> None:
    x = ac.tensor([[1.0, 2.0, 4.0], [2.0, 1.0, 0.0]], dtype=ac.float64)
    np.testing.assert_allclose(ac.cov(x).numpy(), np.cov(x.numpy()), rtol=1e-12)
    assert ac.corrcoef(x[0]).item() == 1.0 and ac.cov(x[0]).shape == ()
    with pytest.raises(ValueError, match="fweights must be 1-D with 3 integers"):
        ac.cov(x, fweights=ac.tensor([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="aweights must be non-negative"):
        ac.cov(x, aweights=ac.tensor([1.0, -1.0, 1.0]))
    low, high = ac.aminmax(x, dim=0)
    assert low.tolist() == [1.0, 1.0, 0.0] and high.tolist() == [2.0, 2.0, 4.0]
    assert ac.aminmax(x).max.item() == 4.0
    assert ac.msort(x).tolist() == [[1.0, 1.0, 0.0], [2.0, 2.0, 4.0]]
    assert ac.dist(x[0], x[1], 0).item() == 3.0 and ac.dist(x[0], x[1]).item() == math.sqrt(18)
    with pytest.raises(ValueError, match="p > 0 and maxnorm >= 0"):
        ac.renorm(x, 0, 0, 1.0)
    with pytest.raises(TypeError, match="x or dx, not both"):
        ac.trapezoid(x, ac.tensor([0.0, 1.0, 2.0]), dx=1.0)
    assert ac.trapezoid(x, dim=0).tolist() == [1.5, 1.5, 2.0]


def test_logcumsumexp_neither_overflows_nor_underflows() -> None:
    x = ac.tensor([-1000.0, 0.0, 1000.0, 1000.0], dtype=ac.float64, req_grad=True)
    out = ac.logcumsumexp(x, 0)
    np.testing.assert_allclose(out.numpy(), [-1000.0, 0.0, 1000.0, 1000.0 + math.log(2)])
    out.sum().backward()
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.grad, [1.0, 1.0, 1.5, 0.5], atol=1e-12)
    assert ac.logcumsumexp(ac.tensor([1, 2]), 0).dtype == ac.float32


def test_random_like_and_poisson_are_seeded() -> None:
    x = ac.zeros(200, 3, dtype=ac.int32)
    ac.manual_seed(3)
    draws = ac.randint_like(x, 2, 5)
    assert draws.dtype == ac.int32 and draws.shape == (200, 3)
    assert set(np.unique(draws.numpy())) == {2, 3, 4}
    ac.manual_seed(3)
    assert (ac.randint_like(x, 2, 5) == draws).all().item()
    assert ac.randint_like(ac.zeros(4), 3).dtype == ac.float32
    rates = ac.full((4000,), 3.0, dtype=ac.float64)
    ac.manual_seed(1)
    counts = ac.poisson(rates)
    assert counts.dtype == ac.float64 and counts.grad_fn is None
    assert abs(counts.mean().item() - 3.0) < 0.15 and abs(counts.var().item() - 3.0) < 0.3
    assert (counts == counts.round()).all().item() and (counts >= 0).all().item()
    with pytest.raises(ValueError, match="non-negative rates"):
        ac.poisson(ac.tensor([-1.0]))


def test_top_level_argwhere_flips_row_stack_put_and_index_reduce() -> None:
    x = ac.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 5.0]])
    assert ac.argwhere(x).tolist() == np.argwhere(x.numpy()).tolist()
    assert ac.flipud(x).tolist() == np.flipud(x.numpy()).tolist()
    assert ac.fliplr(x).tolist() == np.fliplr(x.numpy()).tolist()
    assert ac.row_stack([x[0], x]).shape == (3, 3)
    assert ac.put(x, ac.tensor([1, -1]), ac.tensor([7.0, 8.0])).tolist() == [
        [0.0, 7.0, 2.0],
        [3.0, 0.0, 8.0],
    ]
    reduced = ac.index_reduce(x, 1, ac.tensor([0, 0]), ac.ones(2, 2) * 2, "prod")
    assert reduced.tolist() == [[0.0, 1.0, 2.0], [12.0, 0.0, 5.0]]
    with pytest.raises(ValueError, match="fliplr needs at least 2 dims"):
        ac.fliplr(ac.zeros(3))
    with pytest.raises(ValueError, match="reduce must be one of"):
        ac.index_reduce(x, 1, ac.tensor([0]), ac.ones(2, 1), "sum")


def test_gradient_matches_numpy_and_flows_to_the_coordinates(rng: np.random.Generator) -> None:
    y_np = rng.standard_normal((3, 6))
    x_np = np.cumsum(rng.uniform(0.5, 1.5, 6))
    for edge_order in (1, 2):
        ours = ac.gradient(ac.tensor(y_np), spacing=[ac.tensor(x_np)], dim=1, edge_order=edge_order)
        assert len(ours) == 1
        np.testing.assert_allclose(
            ours[0].numpy(), np.gradient(y_np, x_np, axis=1, edge_order=edge_order), rtol=1e-12
        )
        every = ac.gradient(ac.tensor(y_np), spacing=[0.5, 2], edge_order=edge_order)
        expected_every = np.gradient(y_np, 0.5, 2, edge_order=edge_order)
        for got, expected in zip(every, expected_every, strict=True):
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    y = ac.tensor(y_np, req_grad=True)
    x = ac.tensor(x_np, req_grad=True)
    assert ac.autograd.gradcheck(
        lambda y, x: ac.gradient(y, spacing=[x], dim=1, edge_order=2)[0], [y, x]
    )
    assert ac.autograd.gradcheck(lambda y: ac.gradient(y, spacing=ac.tensor(0.5))[0], [y])
    assert ac.gradient(ac.tensor(2.0)) == ()
    assert ac.gradient(ac.arange(4))[0].dtype == ac.float32


def test_gradient_checks_its_arguments() -> None:
    y = ac.zeros(3, 4)
    with pytest.raises(ValueError, match="one entry per dim of"):
        ac.gradient(y, spacing=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one entry per dim of"):
        ac.gradient(y, spacing=[1.0], dim=(0, 1))
    with pytest.raises(ValueError, match="names a dim more than once"):
        ac.gradient(y, dim=[0, -2])
    with pytest.raises(ValueError, match="edge_order 1 and 2, got 3"):
        ac.gradient(y, edge_order=3)
    with pytest.raises(ValueError, match=r"at least 3 samples along dim 0, got shape \(2, 4\)"):
        ac.gradient(ac.zeros(2, 4), edge_order=2)
    with pytest.raises(ValueError, match=r"1-D tensor of length 4, got shape \(3,\)"):
        ac.gradient(y, spacing=[ac.arange(3.0)], dim=1)
    with pytest.raises(TypeError, match=r"a number or a sequence, got a tensor of shape \(4,\)"):
        ac.gradient(y, spacing=ac.arange(4.0))
    with pytest.raises(TypeError, match="dtype uint8"):
        ac.gradient(ac.zeros(3, dtype=ac.uint8))
