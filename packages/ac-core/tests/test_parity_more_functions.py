"""Shape, indexing, logic and statistics functions against PyTorch: results without
gradient, and gradients where ties or NaN make the table in op_cases.py unfit."""

import math

import numpy as np
import pytest

import auto_compyute as ac

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


def _same(ours: ac.Tensor, theirs, exact: bool = True) -> None:
    expected = theirs.detach().numpy()
    assert ours.shape == tuple(expected.shape)
    assert ours.dtype == expected.dtype
    if exact:
        np.testing.assert_array_equal(ours.numpy(), expected)
    else:
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_comparisons_bitwise_and_membership_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    a_np = rng.integers(-4, 4, (3, 4)).astype(np.int32)
    b_np = rng.integers(-4, 4, (4,)).astype(np.int64)
    a, b, ta, tb = ac.tensor(a_np), ac.tensor(b_np), torch.tensor(a_np), torch.tensor(b_np)
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal"):
        _same(getattr(ac, name)(a, b), getattr(torch, name)(ta, tb))
    for name in ("less_equal", "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor"):
        _same(getattr(ac, name)(a, b), getattr(torch, name)(ta, tb))
        _same(getattr(a, name)(3), getattr(ta, name)(3))
    _same(ac.bitwise_not(a), torch.bitwise_not(ta))
    _same(5 ^ a, 5 ^ ta)
    _same(ac.isin(a, b), torch.isin(ta, tb))
    _same(ac.isin(a, b, invert=True), torch.isin(ta, tb, invert=True))
    x = np.array([-math.inf, 1.0, math.inf, math.nan], dtype=np.float32)
    for name in ("isneginf", "isposinf", "isreal"):
        _same(getattr(ac, name)(ac.tensor(x)), getattr(torch, name)(torch.tensor(x)))
    assert ac.equal(a, ac.tensor(a_np)) == torch.equal(ta, torch.tensor(a_np))
    assert ac.is_nonzero(ac.tensor([0.0])) == torch.is_nonzero(torch.tensor([0.0]))


def test_shapes_and_indices_match_pytorch() -> None:
    assert ac.broadcast_shapes((2, 1, 3), (4, 1), 3) == torch.broadcast_shapes((2, 1, 3), (4, 1), 3)
    flat = np.array([0, 7, 11, 5])
    for ours, theirs in zip(
        ac.unravel_index(ac.tensor(flat), (3, 4)),
        torch.unravel_index(torch.tensor(flat), (3, 4)),
        strict=True,
    ):
        _same(ours, theirs)
    x_np = np.arange(24).reshape(2, 3, 4)
    x, t = ac.tensor(x_np), torch.tensor(x_np)
    for sections, dim in ((3, 2), ([1, -1, 2], 2), (5, 1), ([0, 4], 0)):
        pieces = zip(x.tensor_split(sections, dim), t.tensor_split(sections, dim), strict=True)
        for ours, theirs in pieces:
            _same(ours, theirs)
    for name, arg in (("hsplit", [2]), ("vsplit", 2), ("dsplit", [1, 3])):
        for ours, theirs in zip(
            getattr(ac, name)(x, arg), getattr(torch, name)(t, arg), strict=True
        ):
            _same(ours, theirs)
    _same(
        ac.repeat_interleave(ac.tensor([2, 0, 3])), torch.repeat_interleave(torch.tensor([2, 0, 3]))
    )
    _same(x.repeat_interleave(2, dim=-1), t.repeat_interleave(2, dim=-1))
    _same(
        ac.combinations(ac.tensor([1, 2, 3, 4]), 3),
        torch.combinations(torch.tensor([1, 2, 3, 4]), 3),
    )
    _same(
        ac.cartesian_prod(ac.tensor([1, 2]), ac.tensor([3, 4, 5]), ac.tensor([6])),
        torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5]), torch.tensor([6])),
    )
    _same(
        ac.block_diag(ac.tensor(1), ac.tensor([2.0, 3.0]), ac.ones(2, 2, dtype=ac.int64)),
        torch.block_diag(torch.tensor(1), torch.tensor([2.0, 3.0]), torch.ones(2, 2).long()),
    )
    _same(ac.vander(ac.tensor([1, 2, 3]), 4), torch.vander(torch.tensor([1, 2, 3]), 4))
    _same(ac.diag_embed(x, -2, 0, 3), torch.diag_embed(t, -2, 0, 3))
    _same(ac.take(x, ac.tensor([[-1, 3]])), torch.take(t, torch.tensor([[-1, 3]])))


def test_reductions_without_gradient_match_pytorch() -> None:
    rng = np.random.default_rng(1)
    ties = rng.integers(0, 4, (5, 7)).astype(np.float32)
    for dim in (0, 1):
        ours, theirs = ac.mode(ac.tensor(ties), dim), torch.mode(torch.tensor(ties), dim)
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)
    with_nan = rng.standard_normal((4, 6)).astype(np.float32)
    with_nan[0, [1, 4]] = with_nan[2, 0] = np.nan
    ours, theirs = ac.nanmedian(ac.tensor(with_nan), 1), torch.nanmedian(torch.tensor(with_nan), 1)
    _same(ours.values, theirs.values)
    _same(ours.indices, theirs.indices)
    values = rng.integers(0, 6, 20)
    weights = rng.uniform(0, 1, 20).astype(np.float32)
    _same(ac.bincount(ac.tensor(values)), torch.bincount(torch.tensor(values)))
    _same(
        ac.bincount(ac.tensor(values), ac.tensor(weights), minlength=9),
        torch.bincount(torch.tensor(values), torch.tensor(weights), minlength=9),
        exact=False,
    )
    data = rng.standard_normal(200).astype(np.float32)
    _same(ac.histc(ac.tensor(data), 7), torch.histc(torch.tensor(data), 7))
    _same(ac.histc(ac.tensor(data), 5, -1, 1), torch.histc(torch.tensor(data), 5, -1, 1))
    runs = rng.integers(0, 2, (6, 3))
    for dim in (None, 0):
        ours_all = ac.unique_consecutive(ac.tensor(runs), True, True, dim)
        theirs_all = torch.unique_consecutive(torch.tensor(runs), True, True, dim)
        for ours, theirs in zip(ours_all, theirs_all, strict=True):
            _same(ours, theirs)
    _same(
        ac.dist(ac.tensor(data[:5]), ac.tensor(data[5:10]), 0),
        torch.dist(torch.tensor(data[:5]), torch.tensor(data[5:10]), 0),
    )


def test_gradients_with_ties_and_nan_match_pytorch() -> None:
    rng = np.random.default_rng(2)
    x_np = rng.integers(-2, 2, (3, 4)).astype(np.float32)
    src_np = rng.integers(-2, 2, (3, 4)).astype(np.float32)
    index = rng.integers(0, 4, (3, 4))
    cotangent = rng.standard_normal((3, 4)).astype(np.float32)
    for reduce in ("amax", "amin", "prod", "mean"):
        for include_self in (True, False):
            # NOTE: PyTorch counts self's ties in the share of src even without self
            # (see test_more_functions); there no value of x ties with src
            shift = 0.5 if not include_self and reduce in ("amax", "amin") else 0.0
            x, src = ac.tensor(x_np + shift, req_grad=True), ac.tensor(src_np, req_grad=True)
            tx, tsrc = (
                torch.tensor(x_np + shift, requires_grad=True),
                torch.tensor(src_np, requires_grad=True),
            )
            out = x.scatter_reduce(1, index, src, reduce, include_self=include_self)
            expected = tx.scatter_reduce(
                1, torch.tensor(index), tsrc, reduce, include_self=include_self
            )
            _same(out, expected, exact=False)
            out.backward(cotangent)
            expected.backward(torch.tensor(cotangent))
            np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(src.grad, tsrc.grad.numpy(), rtol=1e-5, atol=1e-6)
    a_np = rng.standard_normal((3, 5)).astype(np.float32)
    a_np[1, 2] = np.nan
    a, t = ac.tensor(a_np, req_grad=True), torch.tensor(a_np, requires_grad=True)
    q = np.array([0.1, 0.5, 0.95], dtype=np.float32)
    out = ac.nanquantile(a, ac.tensor(q), 1) + ac.quantile(a, 0.3, 1)
    expected = torch.nanquantile(t, torch.tensor(q), 1) + torch.quantile(t, 0.3, 1)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    keep = ~np.isnan(expected.detach().numpy())  # NaN results: the gradient is NaN in both
    cotangent = np.where(keep, rng.standard_normal(keep.shape), 0).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(a.grad[[0, 2]], t.grad.numpy()[[0, 2]], rtol=1e-5, atol=1e-6)
    big = np.array([[-300.0, 5.0, 80.0, 80.0, -1e3]], dtype=np.float32)
    a, t = ac.tensor(big, req_grad=True), torch.tensor(big, requires_grad=True)
    out, expected = ac.logcumsumexp(a, 1), torch.logcumsumexp(t, 1)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-6)
    weights = np.array([[1.0, -2.0, 0.5, 3.0, -1.0]], dtype=np.float32)
    out.backward(weights)
    expected.backward(torch.tensor(weights))
    np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_index_put_in_place_and_random_like_match_pytorch() -> None:
    x, t = ac.zeros(4), torch.zeros(4)
    x.index_put_((ac.tensor([1, 1, 3]),), ac.tensor([1.0, 2.0, 3.0]), accumulate=True)
    t.index_put_((torch.tensor([1, 1, 3]),), torch.tensor([1.0, 2.0, 3.0]), accumulate=True)
    _same(x, t)
    like = ac.zeros(3, dtype=ac.int16)
    theirs = torch.randint_like(torch.zeros(3, dtype=torch.int16), 7)
    assert ac.randint_like(like, 7).dtype == theirs.numpy().dtype
    assert ac.poisson(ac.ones(3)).dtype == torch.poisson(torch.ones(3)).numpy().dtype


def test_gradient_dtypes_and_edge_cases_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    y_np = rng.standard_normal((3, 4)).astype(np.float32)
    x_np = np.array([0.0, 1.0, 3.0, 4.5])
    y, ty = ac.tensor(y_np), torch.tensor(y_np)
    cases = [
        ({}, {}),
        ({"spacing": 2}, {"spacing": 2}),
        ({"spacing": (2.0, 0.5), "edge_order": 2}, {"spacing": (2.0, 0.5), "edge_order": 2}),
        ({"spacing": [ac.tensor(x_np)], "dim": 1}, {"spacing": [torch.tensor(x_np)], "dim": 1}),
        ({"spacing": ac.tensor(3.0, dtype=ac.float64)}, {"spacing": torch.tensor(3.0).double()}),
        ({"dim": [1, 0], "edge_order": 2}, {"dim": [1, 0], "edge_order": 2}),
    ]
    for ours_kwargs, theirs_kwargs in cases:
        ours, theirs = ac.gradient(y, **ours_kwargs), torch.gradient(ty, **theirs_kwargs)
        assert len(ours) == len(theirs)
        for got, expected in zip(ours, theirs, strict=True):
            _same(got, expected, exact=False)
    integers = np.arange(12).reshape(3, 4) ** 2
    for ours, theirs in zip(
        ac.gradient(ac.tensor(integers)), torch.gradient(torch.tensor(integers)), strict=True
    ):
        _same(ours, theirs, exact=False)
    assert ac.gradient(ac.tensor(1.0)) == torch.gradient(torch.tensor(1.0)) == ()
