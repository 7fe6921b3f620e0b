"""Every op: forward against NumPy, gradients against finite differences (float64)."""

import math
import warnings
import weakref
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import CASES, Case

import auto_compyute as ac


def _tensors(
    case: Case, arrays: list[np.ndarray], device: str, dtype=ac.float64
) -> list[ac.Tensor]:
    return [
        ac.tensor(a, dtype=dtype, device=device, req_grad=i not in case.constant)
        for i, a in enumerate(arrays)
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_forward_matches_numpy(case: Case, rng: np.random.Generator, device: str) -> None:
    arrays = case.inputs(rng)
    result = case.ours(*_tensors(case, arrays, device))
    expected = case.numpy(*arrays)
    assert result.shape == np.shape(expected)
    assert result.dtype == ac.float64
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradients_match_finite_differences(
    case: Case, rng: np.random.Generator, device: str
) -> None:
    tensors = _tensors(case, case.inputs(rng), device)
    assert ac.autograd.gradcheck(case.ours, tensors)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_float32_stays_float32(case: Case, rng: np.random.Generator, device: str) -> None:
    tensors = _tensors(case, case.inputs(rng), device, dtype=ac.float32)
    result = case.ours(*tensors)
    assert result.dtype == ac.float32
    result.sum().backward()
    for i, t in enumerate(tensors):
        if i not in case.constant:
            assert t.grad is not None and t.grad.dtype == np.float32 and t.grad.shape == t.shape


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: ac.maximum(a, b) if isinstance(a, ac.Tensor) else np.maximum(a, b),
}


@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_binary_ops(shapes, name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a_np, b_np = (rng.uniform(0.5, 2.0, s) * rng.choice([-1, 1], s) for s in shapes.input_shapes)
    op = BINARY[name]
    a = ac.tensor(a_np, dtype=ac.float64, req_grad=True)
    b = ac.tensor(b_np, dtype=ac.float64, req_grad=True)
    out = op(a, b)
    np.testing.assert_allclose(out.numpy(), op(a_np, b_np), rtol=1e-12)
    assert out.shape == shapes.result_shape
    assert ac.autograd.gradcheck(op, [a, b])


@settings(max_examples=30, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4),
    data=st.data(),
)
def test_reductions_over_any_dims(shape, data) -> None:
    ndim = len(shape)
    dims = data.draw(
        st.lists(
            st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique_by=lambda d: d % ndim
        )
    )
    keepdim = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x_np = rng.standard_normal(shape)
    x = ac.tensor(x_np, dtype=ac.float64, req_grad=True)
    axes = tuple(dims)
    np.testing.assert_allclose(
        x.sum(dims, keepdim).numpy(), x_np.sum(axes, keepdims=keepdim), atol=1e-12
    )
    np.testing.assert_allclose(
        x.mean(dims, keepdim).numpy(), x_np.mean(axes, keepdims=keepdim), atol=1e-12
    )
    assert ac.autograd.gradcheck(lambda t: t.sum(dims, keepdim) * t.mean(dims, keepdim), [x])


def test_repeated_integer_indices_accumulate() -> None:
    x = ac.zeros(3, req_grad=True)
    x[ac.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_scatters_read_a_transposed_gradient_at_their_places() -> None:
    index = np.array([[[1, 0, 1]], [[2, 2, 0]]])  # along dim 1 of (2, 3, 3)
    src = ac.arange(6.0).reshape(2, 1, 3).requires_grad_()
    weights = np.arange(18.0).reshape(3, 3, 2)
    expected = np.take_along_axis(weights.transpose(2, 1, 0), index, 1)
    for scatter in (ac.scatter, ac.scatter_add):
        src.grad = None
        out = scatter(ac.ones(2, 3, 3), 1, ac.tensor(index), src).permute(2, 1, 0)
        (out * ac.tensor(weights)).sum().backward()  # the scatter's gradient: a strided view
        np.testing.assert_array_equal(src.grad, expected)


def test_boolean_mask_gradient() -> None:
    x = ac.tensor([1.0, -2.0, 3.0], req_grad=True)
    (x[x > 0] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 2.0])


def test_softmax_is_stable_for_huge_inputs() -> None:
    x = ac.tensor([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(x.softmax(-1).numpy(), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.log_softmax(-1).numpy(), [[0.0, -1000.0, -2000.0]])


def test_comparisons_and_argmax_have_no_grad() -> None:
    a = ac.tensor([1.0, 2.0, 3.0], req_grad=True)
    b = ac.tensor([3.0, 2.0, 1.0])
    results = {
        "==": (a == b, [False, True, False]),
        "!=": (a != b, [True, False, True]),
        "<": (a < b, [True, False, False]),
        "<=": (a <= b, [True, True, False]),
        ">": (a > b, [False, False, True]),
        ">=": (a >= 2, [False, True, True]),
    }
    for name, (result, expected) in results.items():
        assert result.dtype == ac.bool, name
        assert not result.req_grad, name
        assert result.tolist() == expected, name
    assert a.argmax().item() == 2 and a.argmin().item() == 0
    assert a.argmax().dtype == ac.int64 and not a.argmax().req_grad
    m = ac.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert m.argmax(dim=1).tolist() == [1, 0]
    assert m.argmin(dim=0, keepdim=True).tolist() == [[0, 1]]


def test_split_and_chunk_shapes() -> None:
    x = ac.arange(10.0)
    assert [p.shape for p in x.split(4)] == [(4,), (4,), (2,)]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    assert [p.tolist() for p in ac.split(x, [3, 7])] == [
        [0.0, 1.0, 2.0],
        list(map(float, range(3, 10))),
    ]


def test_einsum_trace_like_repeats_are_refused() -> None:
    with pytest.raises(ValueError, match="repeated index"):
        ac.einsum("ii->i", ac.ones(3, 3))


@pytest.mark.parametrize("shape", [(), (0, 3), (7,), (8,), (9,), (3, 5, 2)])
def test_relu_gradient_is_one_where_the_input_is_positive(shape) -> None:
    x_np = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x_np.reshape(-1)[::3] = 0.0  # some exact zeros
    x = ac.tensor(x_np, req_grad=True)
    y = x.relu()
    y.backward(ac.ones(*shape))
    np.testing.assert_array_equal(y.numpy(), np.maximum(x_np, 0))
    # zero is not positive: no gradient there, as in PyTorch
    np.testing.assert_array_equal(x.grad, (x_np > 0).astype(np.float32))


def test_relu_does_not_keep_its_result_alive() -> None:
    x = ac.randn(4, 5, req_grad=True)
    y = x.relu()
    loss = y.sum()  # Sum keeps only a shape
    result = weakref.ref(y.data)
    del y
    assert result() is None
    loss.backward()
    np.testing.assert_array_equal(x.grad, (x.numpy() > 0).astype(np.float32))


# ------------------------------------------------------------- selection and sorting


def test_sort_and_topk_give_indices_and_keep_ties_in_order() -> None:
    x = ac.tensor([3, 1, 3, 2, 1])
    values, indices = x.sort()
    assert values.tolist() == [1, 1, 2, 3, 3] and indices.tolist() == [1, 4, 3, 0, 2]
    values, indices = ac.sort(x, descending=True)
    assert values.tolist() == [3, 3, 2, 1, 1] and indices.tolist() == [0, 2, 3, 1, 4]
    assert indices.dtype == ac.int64 and not indices.req_grad
    top = ac.tensor([[0.5, 2.0, -1.0], [4.0, 3.0, 5.0]]).topk(2, dim=1, largest=False)
    assert top.values.tolist() == [[-1.0, 0.5], [3.0, 4.0]]
    assert top.indices.tolist() == [[2, 0], [1, 0]]
    unsigned = ac.tensor([0, 255, 7], dtype=ac.uint8)
    assert unsigned.topk(1).values.tolist() == [255]  # no negation: unsigned values stay right
    assert ac.tensor([1.0, float("nan"), 0.0]).sort(descending=True).indices.tolist() == [1, 0, 2]


def test_sort_and_topk_values_carry_the_gradient() -> None:
    x = ac.tensor([[0.3, -1.0, 2.0]], req_grad=True)
    top = x.topk(2)
    (top.values * ac.tensor([[10.0, 1.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 10.0]])
    with pytest.raises(ValueError, match="k=4 is out of range for dim 1 of size 3"):
        x.topk(4)


def test_gather_checks_its_index() -> None:
    x = ac.zeros(2, 3)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dim 1 of size 3"):
        x.gather(1, ac.tensor([[3]]))
    with pytest.raises(IndexError, match="index -1"):
        x.gather(1, ac.tensor([[-1]]))
    with pytest.raises(ValueError, match=r"as many axes as the input of shape \(2, 3\)"):
        x.gather(1, ac.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer index, got dtype float32"):
        x.gather(1, ac.tensor([[0.0]]))
    with pytest.raises(ValueError, match=r"index of shape \(3, 1\) is larger"):
        x.gather(1, ac.zeros(3, 1, dtype=ac.int64))
    assert x.gather(1, ac.zeros(2, 0, dtype=ac.int64)).shape == (2, 0)


def test_argsort_keeps_ties_in_order_and_has_no_gradient() -> None:
    x = ac.tensor([[3.0, 1.0, 3.0, 2.0, 1.0]], req_grad=True)
    indices = x.argsort()
    assert indices.tolist() == [[1, 4, 3, 0, 2]] and indices.dtype == ac.int64
    assert not indices.req_grad and indices.ctx is None
    assert ac.argsort(x, dim=1, descending=True).tolist() == [[0, 2, 3, 1, 4]]
    values = np.random.default_rng(0).integers(0, 3, (4, 6))
    np.testing.assert_array_equal(
        ac.tensor(values).argsort(0, stable=True).numpy(), np.argsort(values, 0, kind="stable")
    )


def test_unique_values_inverse_and_counts() -> None:
    values = np.array([[3, 1, 3], [2, 1, 1]])
    x = ac.tensor(values)
    expected, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    assert x.unique().tolist() == expected.tolist()
    result, result_inverse, result_counts = ac.unique(x, return_inverse=True, return_counts=True)
    assert result.tolist() == [1, 2, 3] and result_counts.tolist() == counts.tolist()
    assert result_inverse.shape == (2, 3) and result_counts.dtype == ac.int64
    assert result_inverse.tolist() == inverse.reshape(2, 3).tolist()
    only_counts = x.unique(return_counts=True)
    assert len(only_counts) == 2 and only_counts[1].tolist() == [3, 1, 2]
    with pytest.raises(NotImplementedError, match="only dim=None is supported, got dim=0"):
        x.unique(dim=0)


def test_count_nonzero() -> None:
    values = np.array([[0.0, 1.5, 0.0], [2.0, -1.0, 0.0]])
    x = ac.tensor(values)
    assert x.count_nonzero().item() == 3 and x.count_nonzero().dtype == ac.int64
    assert ac.count_nonzero(x, dim=0).tolist() == [1, 2, 0]
    assert x.count_nonzero((0, 1)).tolist() == 3
    assert x.count_nonzero(-1).tolist() == np.count_nonzero(values, axis=-1).tolist()


def test_searchsorted_and_bucketize_match_numpy() -> None:
    boundaries = np.array([1.0, 3.0, 5.0, 7.0])
    values = np.array([[0.0, 3.0, 6.0], [7.0, 8.0, 5.0]])
    for side in ("left", "right"):
        expected = np.searchsorted(boundaries, values, side=side)
        result = ac.searchsorted(ac.tensor(boundaries), ac.tensor(values), side=side)
        assert result.tolist() == expected.tolist() and result.dtype == ac.int64
        bucket = ac.bucketize(ac.tensor(values), ac.tensor(boundaries), right=side == "right")
        assert bucket.tolist() == expected.tolist()
    rows = ac.tensor([[1, 3, 5], [2, 4, 6]])
    found = ac.searchsorted(rows, ac.tensor([[3, 0], [3, 7]]), right=True, out_int32=True)
    assert found.tolist() == [[2, 0], [1, 3]] and found.dtype == ac.int32
    assert ac.searchsorted(ac.tensor([1, 3]), 2).tolist() == 1
    unsorted = ac.tensor([5.0, 1.0, 3.0])
    assert ac.searchsorted(unsorted, ac.tensor([2.0]), sorter=unsorted.argsort()).tolist() == [1]
    with pytest.raises(ValueError, match="right=True and side='left' contradict"):
        ac.searchsorted(rows, rows, right=True, side="left")
    with pytest.raises(ValueError, match="needs input with the same leading axes"):
        ac.searchsorted(rows, ac.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"1-D boundaries, got shape \(2, 3\)"):
        ac.bucketize(ac.tensor([1]), rows)


def test_median_is_the_lower_middle_value() -> None:
    x = ac.tensor([[4.0, 1.0, 3.0, 2.0], [0.0, 0.0, 5.0, 5.0]], req_grad=True)
    assert x.median().item() == 2.0  # eight values: the fourth smallest
    values, indices = x.median(1)
    assert values.tolist() == [2.0, 0.0] and indices.tolist() == [3, 1]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 1], [0, 1, 0, 0]])
    assert ac.median(x, 0, keepdim=True).values.shape == (1, 4)
    with pytest.raises(ValueError, match="median\\(\\) of an empty tensor"):
        ac.zeros(0).median()


def test_kthvalue_checks_k() -> None:
    x = ac.tensor([[5.0, 1.0, 3.0]])
    assert x.kthvalue(2).values.tolist() == [3.0] and x.kthvalue(2).indices.tolist() == [2]
    assert ac.kthvalue(ac.tensor(4.0), 1).values.item() == 4.0
    with pytest.raises(ValueError, match="k=4 is out of range for dim 1 of size 3"):
        x.kthvalue(4)
    with pytest.raises(ValueError, match="k=0 is out of range"):
        x.kthvalue(0)


def test_scatter_checks_its_arguments() -> None:
    x = ac.zeros(2, 3)
    with pytest.raises(IndexError, match="scatter: index 3 is out of bounds for dim 1 of size 3"):
        x.scatter(1, ac.tensor([[3]]), 1.0)
    with pytest.raises(TypeError, match="scatter_add needs an integer index, got dtype float32"):
        x.scatter_add(1, ac.tensor([[0.0]]), ac.ones(1, 1))
    with pytest.raises(TypeError, match="src of the input's dtype float32, got float64"):
        x.scatter(0, ac.tensor([[0]]), ac.ones(1, 1, dtype=ac.float64))
    with pytest.raises(ValueError, match=r"index of shape \(1, 2\) is larger than src"):
        x.scatter(0, ac.tensor([[0, 1]]), ac.ones(1, 1))
    with pytest.raises(ValueError, match=r"index of shape \(3, 1\) is larger than the input"):
        x.scatter(1, ac.zeros(3, 1, dtype=ac.int64), 1.0)
    with pytest.raises(TypeError, match="exactly one of src and value"):
        x.scatter(1, ac.tensor([[0]]))
    with pytest.raises(TypeError, match="scatter_add needs src as a Tensor"):
        x.scatter_add(1, ac.tensor([[0]]), 1.0)
    with pytest.raises(ValueError, match=r"source of shape \(2, 2\) does not fit"):
        x.index_add(1, ac.tensor([0, 1, 2]), ac.ones(2, 2))
    with pytest.raises(ValueError, match="index_add needs a 1-D index"):
        x.index_add(1, ac.tensor([[0]]), ac.ones(2, 1))
    counts = ac.zeros(4, dtype=ac.int64).scatter_add(0, ac.tensor([1, 1, 3]), ac.ones(3).long())
    assert counts.tolist() == [0, 2, 0, 1]  # integer tensors scatter too


def test_shape_functions_check_their_arguments() -> None:
    x = ac.zeros(2, 3)
    with pytest.raises(IndexError, match="start 3 is out of range for dim 0 of size 2"):
        x.narrow(0, 3, 0)
    with pytest.raises(ValueError, match="start 1 \\+ length 3 exceeds the size 3 of dim 1"):
        x.narrow(1, 1, 3)
    with pytest.raises(ValueError, match="as many distinct source as destination dims"):
        x.movedim((0, 1), 0)
    with pytest.raises(ValueError, match="diff needs n >= 0, got -1"):
        x.diff(-1)
    assert ac.tensor([True, True, False]).diff().tolist() == [False, True]
    assert x.diff(0) is x
    with pytest.raises(ValueError, match=r"trace needs a 2-D tensor, got shape \(2,\)"):
        ac.zeros(2).trace()
    assert ac.tensor([[1, 2], [3, 4]], dtype=ac.int32).trace().dtype == ac.int64
    with pytest.raises(ValueError, match="dim 1 of a \\(size 3\\) and dim 0 of b \\(size 2\\)"):
        ac.tensordot(x, x, ([1], [0]))
    with pytest.raises(ValueError, match="dims=3 is out of range"):
        ac.tensordot(x, x, 3)
    assert ac.tensordot(x, x, 0).shape == (2, 3, 2, 3)
    with pytest.raises(ValueError, match="indices of shape \\(3, 1\\) do not broadcast"):
        x.take_along_dim(ac.zeros(3, 1, dtype=ac.int64), 1)
    with pytest.raises(ValueError, match="meshgrid needs 0-D or 1-D tensors"):
        ac.meshgrid(x, x)
    with pytest.raises(ValueError, match="indexing must be 'ij' or 'xy', got 'yx'"):
        ac.meshgrid(ac.zeros(2), indexing="yx")
    with pytest.raises(ValueError, match=r"shapes \(2, 3\), \(2,\) do not broadcast"):
        ac.broadcast_tensors(x, ac.zeros(2))
    with pytest.raises(ValueError, match=r"cdist needs x1 \(..., P, M\) and x2"):
        ac.cdist(x, ac.zeros(2, 2))
    assert ac.hstack([ac.tensor(1.0), ac.tensor([2.0, 3.0])]).tolist() == [1.0, 2.0, 3.0]
    assert ac.vstack([ac.tensor([1, 2]), ac.tensor([[3, 4]])]).tolist() == [[1, 2], [3, 4]]


def test_norm_of_zero_has_zero_gradient_and_bad_p_is_refused() -> None:
    x = ac.zeros(3, req_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert ac.tensor([3, 4]).norm().item() == 5.0  # integers are normed as floats
    assert ac.tensor([0.0, 2.0, -1.0]).norm(0).item() == 2  # the count of nonzeros
    with pytest.raises(ValueError, match="p must be a number"):
        x.norm("nuc")


def test_logsumexp_is_stable_and_handles_rows_of_minus_infinity() -> None:
    x = ac.tensor([[1000.0, 1000.0], [-np.inf, -np.inf]])
    with np.errstate(divide="ignore"):
        result = x.logsumexp(1).tolist()
    assert result[0] == pytest.approx(1000 + np.log(2)) and result[1] == -np.inf


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_slopes_at_huge_and_infinite_inputs(name: str) -> None:
    # NOTE: d/da = 1 / (1 + base**(b - a)): 1/2 for a = b however large, 1 and 0 where only
    # a is inf; undefined (NaN) where both are
    a = ac.tensor([1e308, -1e308, np.inf, np.inf, -np.inf], dtype=ac.float64, req_grad=True)
    b = ac.tensor([1e308, -1e308, 1.0, np.inf, -np.inf], dtype=ac.float64, req_grad=True)
    with np.errstate(invalid="ignore", over="ignore"):
        getattr(a, name)(b).backward(np.ones(5))
    np.testing.assert_array_equal(a.grad, [0.5, 0.5, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(b.grad, [0.5, 0.5, 0.0, np.nan, np.nan])


def test_expm1_slope_is_exp_where_the_result_rounds_to_minus_one() -> None:
    x = ac.tensor([-700.0, -40.0, -1e-9, 0.0, 3.0], dtype=ac.float64, req_grad=True)
    x.expm1().sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(x.numpy()), rtol=1e-15)


def test_cumsum_of_integers_is_int64_like_pytorch() -> None:
    x = ac.tensor([[1, 2], [3, 4]], dtype=ac.int32)
    assert x.cumsum(0).dtype == ac.int64 and x.cumsum(0).tolist() == [[1, 2], [4, 6]]
    assert ac.tensor([True, True]).cumsum(0).tolist() == [1, 2]


def test_roll_repeat_and_unbind_shapes() -> None:
    x = ac.arange(6.0).reshape(2, 3)
    assert x.roll(1).tolist() == [[5.0, 0.0, 1.0], [2.0, 3.0, 4.0]]  # flattened, as PyTorch
    assert x.roll(0, 1) is x
    with pytest.raises(ValueError, match="one shift per dim"):
        x.roll((1, 2), 1)
    assert x.repeat(2, 2).shape == (4, 6)
    with pytest.raises(ValueError, match="at least 2 sizes"):
        x.repeat(2)
    assert [t.tolist() for t in x.unbind(1)] == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_from_numpy_shares_memory_and_closeness() -> None:
    array = np.arange(3.0)
    t = ac.from_numpy(array)
    array[0] = 7.0
    assert t.dtype == ac.float64 and t.tolist() == [7.0, 1.0, 2.0]
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        ac.from_numpy([1.0])
    assert ac.allclose(t, t + 1e-9) and not ac.allclose(t, t + 1e-3)
    assert ac.isclose(t, ac.tensor([7.0, 1.0, 0.0], dtype=ac.float64)).tolist() == [
        True,
        True,
        False,
    ]


def test_max_and_min_take_pytorchs_forms() -> None:
    x = ac.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], req_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]  # first of ties
    assert x.max(1)[1].tolist() == [1, 0] and x.min(0, keepdim=True).indices.tolist() == [[0, 1, 0]]
    values.sum().backward()  # the gradient goes to the element picked, not split among ties
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.max().backward()  # over everything, ties share it
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [0.5, 0, 0.5]])
    assert x.max(dim=(0, 1)).item() == 7.0 and ac.amax(x, 0).tolist() == [7.0, 5.0, 7.0]
    assert ac.max(x, ac.full((2, 3), 4.0)).tolist() == [[4.0, 5.0, 5.0], [7.0, 4.0, 7.0]]
    assert ac.min(ac.tensor(3.0), 0).indices.item() == 0
    nan = ac.tensor([1.0, float("nan"), 3.0]).max(0)
    assert np.isnan(nan.values.item()) and nan.indices.item() == 1  # NaN wins, as in PyTorch


# ------------------------------------------------------------------- in place


def test_in_place_update_under_no_grad_changes_the_parameter_itself() -> None:
    p = ac.tensor([1.0, 2.0], req_grad=True)
    (p * p).sum().backward()
    before = p
    with ac.no_grad():
        p -= 0.25 * p.grad  # a hand-written SGD step, as in PyTorch
        p *= 2
    assert p is before and p.req_grad and p.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p += 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p.add_(1.0)


def test_in_place_on_recorded_tensors_is_out_of_place_or_refused() -> None:
    a = ac.tensor([1.0, 2.0], req_grad=True)
    x = a * 3
    y = x
    x += a  # recorded: x now names a new tensor, and the graph stays right
    assert x is not y and x.tolist() == [4.0, 8.0] and y.tolist() == [3.0, 6.0]
    x.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])
    with pytest.raises(RuntimeError, match="computed by Mul"):
        y.mul_(2)
    b = ac.zeros(2)
    with pytest.raises(RuntimeError, match="involves a tensor that requires grad"):
        b.add_(a, alpha=2)  # the result would need recording
    with ac.no_grad():
        b.add_(a, alpha=2).clamp_(max=3.0)
    assert b.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("size", [5, 40_000])  # the second takes BLAS's axpy
@pytest.mark.parametrize("dtype", [ac.float32, ac.float64])
def test_add_and_sub_with_alpha_are_one_update(size: int, dtype: ac.dtype) -> None:
    rng = np.random.default_rng(0)
    p_np, g_np = rng.standard_normal((2, size))
    p, g = ac.tensor(p_np, dtype=dtype), ac.tensor(g_np, dtype=dtype)
    p.sub_(g, alpha=0.25).add_(g.numpy()[::-1].copy(), alpha=2)
    p_np, g_np = p_np.astype(dtype), g_np.astype(dtype)
    expected = p_np - 0.25 * g_np + 2 * g_np[::-1]
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(p.numpy(), expected, rtol=4 * eps, atol=4 * eps)
    assert p.dtype == dtype
    p[:2].add_(g[:2], alpha=2)  # a view: changed where it lies
    np.testing.assert_allclose(p.numpy()[:2], expected[:2] + 2 * g_np[:2], rtol=4 * eps)


def test_in_place_keeps_the_dtype() -> None:
    t = ac.tensor([1, 2])
    t += 1
    t *= 3
    assert t.tolist() == [6, 9] and t.dtype == ac.int64
    with pytest.raises(TypeError, match="Cannot cast"):
        t /= 2
    with pytest.raises(TypeError, match="add_\\(\\) on a int64 tensor needs an integer alpha"):
        t.add_(t, alpha=0.5)
    f = ac.ones(2)
    f.div_(ac.tensor([2.0, 4.0])).sub_(1.0)
    assert f.tolist() == [-0.5, -0.75] and f.dtype == ac.float32


def test_checks_and_matrix_forms() -> None:
    x = ac.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert x.isnan().tolist() == [False, True, False, False]
    assert ac.isinf(x).tolist() == [False, False, True, True]
    assert x.isfinite().tolist() == [True, False, False, False]
    assert ac.tensor([0.5, 1.5, 2.5, -0.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0]
    assert ac.tensor([3, -2]).floor().tolist() == [3, -2]  # integers stay
    with pytest.raises(ValueError, match=r"mm needs two 2-D tensors, got shapes \(3,\)"):
        ac.ones(3).mm(ac.ones(3, 1))
    with pytest.raises(ValueError, match="bmm needs two 3-D tensors with one batch size"):
        ac.ones(2, 3, 4).bmm(ac.ones(3, 4, 5))
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        ac.ones(2, 2, 2).t()
    assert ac.is_tensor(x) and not ac.is_tensor(1.0)
    array = np.ones(3)
    assert ac.as_tensor(array).numpy() is array or np.shares_memory(ac.as_tensor(array).data, array)
    assert ac.sum(ac.ones(2, 3), 1).tolist() == [3.0, 3.0] and ac.numel(ac.ones(2, 3)) == 6


# ------------------------------------------------------------------- sampling


def test_multinomial_draws_by_weight() -> None:
    ac.manual_seed(0)
    weights = ac.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 0.0, 2.0]])
    draws = ac.multinomial(weights, 20_000, replacement=True)
    assert draws.shape == (2, 20_000) and draws.dtype == ac.int64
    for row, w in zip(draws.numpy(), weights.numpy(), strict=True):
        frequencies = np.bincount(row, minlength=4) / len(row)
        np.testing.assert_allclose(frequencies, w / w.sum(), atol=0.015)  # ~4 sigma
    once = ac.multinomial(weights, 3).numpy()  # without replacement: distinct, weight > 0
    assert [len(set(r)) for r in once] == [3, 3] and 1 not in once[0] and 2 not in once[1]
    with pytest.raises(ValueError, match="cannot draw 4 samples without replacement from 3"):
        ac.multinomial(weights, 4)
    with pytest.raises(ValueError, match="non-negative weights with a positive sum"):
        ac.multinomial(ac.tensor([0.0, 0.0]), 1)


def test_bernoulli_and_normal() -> None:
    ac.manual_seed(1)
    bits = ac.bernoulli(ac.full((20_000,), 0.25))
    assert bits.dtype == ac.float32 and set(np.unique(bits.numpy())) <= {0.0, 1.0}
    assert abs(bits.numpy().mean() - 0.25) < 0.015
    values = ac.normal(2.0, 3.0, (20_000,))
    assert values.dtype == ac.float32 and abs(values.numpy().mean() - 2) < 0.1
    assert abs(values.numpy().std() - 3) < 0.1
    assert ac.normal(ac.zeros(2, 3, dtype=ac.float64), 0.5).dtype == ac.float64
    with pytest.raises(ValueError, match="std >= 0"):
        ac.normal(0.0, -1.0, (2,))


def test_nonzero_type_as_and_selection_errors() -> None:
    x = ac.tensor([[0.0, 1.5], [2.0, 0.0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]] and x.nonzero().dtype == ac.int64
    assert x.type_as(ac.tensor([1])).dtype == ac.int64
    with pytest.raises(ValueError, match="1-D integer index"):
        x.index_select(0, ac.tensor([[0]]))
    with pytest.raises(ValueError, match=r"outer needs two 1-D tensors, got shapes \(2, 2\)"):
        ac.outer(x, x)
    with pytest.raises(ValueError, match="dot needs two 1-D tensors of one length"):
        ac.dot(ac.ones(2), ac.ones(3))


def test_nan_to_num_replaces_and_gives_no_gradient_there() -> None:
    x = ac.tensor([1.5, np.nan, np.inf, -np.inf], req_grad=True)
    y = x.nan_to_num(nan=-1.0, posinf=7.0)
    np.testing.assert_array_equal(y.numpy(), [1.5, -1.0, 7.0, np.finfo(np.float32).min])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0, 0.0])
    integers = ac.tensor([1, 2])
    assert integers.nan_to_num().tolist() == [1, 2]


def test_division_remainders_follow_python_and_c() -> None:
    a, b = np.array([5, -5, 7, -7]), np.array([3, 3, -2, -2])
    ours_a, ours_b = ac.tensor(a), ac.tensor(b)
    assert (ours_a % ours_b).tolist() == (a % b).tolist()
    assert ours_a.fmod(ours_b).tolist() == np.fmod(a, b).tolist()
    assert (ours_a // ours_b).tolist() == (a // b).tolist()
    assert (ours_a // ours_b).dtype == ac.int64 and (7 // ours_b).tolist() == (7 // b).tolist()
    assert (7.5 % ours_b).tolist() == (7.5 % b).tolist()
    x = ac.tensor([2.5, -2.5], req_grad=True)
    quotient = x // 2
    assert quotient.tolist() == [1.0, -2.0] and not quotient.req_grad


def test_logical_functions_take_truth_values() -> None:
    a, b = np.array([0.0, 1.0, -2.0, 0.0]), np.array([True, True, False, False])
    for name in ("logical_and", "logical_or", "logical_xor"):
        result = getattr(ac.tensor(a), name)(ac.tensor(b))
        assert result.dtype == ac.bool and result.tolist() == getattr(np, name)(a, b).tolist()
        assert getattr(ac, name)(ac.tensor(a), ac.tensor(b)).tolist() == result.tolist()
    assert ac.tensor(a).logical_not().tolist() == np.logical_not(a).tolist()


def test_erf_of_float32_is_rounded_from_float64() -> None:
    x = np.linspace(-6, 6, 2001).astype(np.float32)
    expected = np.vectorize(math.erf)(x.astype(np.float64)).astype(np.float32)
    result = ac.tensor(x).erf()
    assert result.dtype == ac.float32
    np.testing.assert_array_equal(result.numpy(), expected)


def test_math_functions_have_torch_style_aliases() -> None:
    x = ac.tensor([0.25, 0.5])
    for name, alias in (("asin", "arcsin"), ("atan", "arctan"), ("atanh", "arctanh")):
        np.testing.assert_array_equal(getattr(x, alias)().numpy(), getattr(x, name)().numpy())
        np.testing.assert_array_equal(getattr(ac, alias)(x).numpy(), getattr(x, name)().numpy())
    np.testing.assert_array_equal(ac.atan2(x, x + 1).numpy(), np.arctan2(x.numpy(), x.numpy() + 1))
    assert ac.lerp(x, ac.ones(2), 0.5).tolist() == [0.625, 0.75]


def test_erfc_keeps_its_relative_precision_in_the_tail() -> None:
    x = np.concatenate([np.linspace(-6.0, 26.0, 4001), [8.0, np.nextafter(8.0, 9.0)]])
    expected = np.vectorize(math.erfc)(x)
    np.testing.assert_allclose(ac.tensor(x, dtype=ac.float64).erfc().numpy(), expected, rtol=1e-13)


def test_xlogy_and_sinc_are_defined_where_their_formulas_are_not() -> None:
    x = ac.tensor([0.0, 0.0, 2.0], dtype=ac.float64, req_grad=True)
    y = ac.tensor([0.0, np.nan, 3.0], dtype=ac.float64, req_grad=True)
    result = x.xlogy(y)
    assert result.tolist()[:2] == [0.0, 0.0] and result.tolist()[2] == 2 * math.log(3)
    result.sum().backward()
    assert x.grad.tolist()[:2] == [0.0, 0.0] and y.grad.tolist()[:2] == [0.0, 0.0]
    z = ac.tensor([0.0, 0.5], dtype=ac.float64, req_grad=True)
    z.sinc().sum().backward()
    assert z.sinc().tolist()[0] == 1.0 and z.grad.tolist()[0] == 0.0


def test_sinc_slope_near_0_keeps_its_digits() -> None:
    # NOTE: sinc'(x) = -pi**2 x / 3 (1 - (pi x)**2 / 10) to float64's precision here; the
    # quotient's slope cos(a) / a - sin(a) / a**2 lost digits, and was NaN at subnormal x
    x = ac.tensor([1e-300, -1e-40, 1e-10, 1e-4], dtype=ac.float64, req_grad=True)
    x.sinc().sum().backward()
    a = math.pi * x.numpy()
    np.testing.assert_allclose(x.grad, -math.pi * a / 3 * (1 - a * a / 10), rtol=1e-15)
    tiny = ac.tensor([1e-45, -1e-40, 1e-4], dtype=ac.float32, req_grad=True)
    tiny.sinc().sum().backward()
    expected = -(math.pi**2) * tiny.numpy() / 3
    np.testing.assert_allclose(tiny.grad, expected, rtol=1e-6, atol=1e-44)  # NOTE: subnormal
    # both sides of the switch at |pi x| = 1/2
    near_switch = ac.tensor([0.0, 0.1, -0.15, 0.17, 0.3, -2.5], dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t: t.sinc(), [near_switch])


def test_hypot_gradients_where_hypot_is_subnormal() -> None:
    a = ac.tensor([0.0, 3e-39], dtype=ac.float32, req_grad=True)
    b = ac.tensor([1e-40, 4e-39], dtype=ac.float32, req_grad=True)
    a.hypot(b).backward(np.ones(2, np.float32))
    np.testing.assert_allclose(a.grad, [0.0, 0.6], rtol=1e-5)  # not NaN and inf
    np.testing.assert_allclose(b.grad, [1.0, 0.8], rtol=1e-5)


def test_running_extremes_point_at_the_last_of_equal_values() -> None:
    x = ac.tensor([[1.0, 3.0, 3.0, 2.0, 3.0, 5.0]], req_grad=True)
    values, indices = x.cummax(1)
    assert values.tolist() == [[1.0, 3.0, 3.0, 3.0, 3.0, 5.0]]
    assert indices.tolist() == [[0, 1, 2, 2, 4, 5]] and indices.dtype == ac.int64
    values.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 2.0, 0.0, 1.0, 1.0]]
    assert ac.tensor([3, 1, 1, 2]).cummin(0).indices.tolist() == [0, 1, 2, 2]


def test_signs_steps_and_factories() -> None:
    x = ac.tensor([-1.5, -0.0, 0.0, 2.0])
    assert x.signbit().tolist() == [True, True, False, False]
    assert x.heaviside(ac.tensor(0.5)).tolist() == [0.0, 0.5, 0.5, 1.0]
    np.testing.assert_array_equal(ac.logspace(0, 3, 4, base=2).numpy(), [1.0, 2.0, 4.0, 8.0])
    assert ac.logspace(0, 1, 2).dtype == ac.float32
    np.testing.assert_array_equal(
        ac.tril_indices(3, 4, 1).numpy(), np.stack(np.tril_indices(3, 1, 4))
    )
    np.testing.assert_array_equal(
        ac.triu_indices(4, 3, -1).numpy(), np.stack(np.triu_indices(4, -1, 3))
    )
    assert ac.triu_indices(2, 2).dtype == ac.int64


def test_rot90_and_diagonal_refuse_bad_dims() -> None:
    x = ac.ones(2, 3)
    with pytest.raises(ValueError, match="two different dims"):
        x.rot90(1, (1, 1))
    with pytest.raises(ValueError, match="two dims"):
        x.rot90(1, (0,))
    with pytest.raises(ValueError, match="two different dims"):
        x.diagonal(0, 1, -1)


def test_row_maxima_of_short_rows_equal_numpys() -> None:
    from auto_compyute._core.ops.reduce import max_keepdims

    rng = np.random.default_rng(10)
    for shape in ((128, 10), (3, 31), (0, 10), (4, 32), (2, 3, 4)):
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(max_keepdims(x, -1), x.max(axis=-1, keepdims=True))
    x = rng.standard_normal((6, 5))
    x[2, 3] = np.nan
    assert np.isnan(max_keepdims(x, 1)[2, 0]) and not np.isnan(max_keepdims(x, 1)[1, 0])


@pytest.mark.parametrize("dtype", [ac.float32, ac.float64])
def test_sigmoid_keeps_its_relative_precision_in_the_left_tail(dtype) -> None:
    x = np.array([-80.0, -40.0, -20.0, -10.0, -1.0, 0.0, 5.0, 40.0, 1000.0, -1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from exp(-x)
        out = ac.tensor(x, dtype=dtype).sigmoid().numpy()
    expected = 1 / (1 + np.exp(-x[:-1]))  # float64; the last one underflows to 0
    normal = expected > np.finfo(dtype).tiny
    np.testing.assert_allclose(out[:-1][normal], expected[normal], rtol=1e-6)
    assert out[-1] == 0.0 and out[-2] == 1.0


@pytest.mark.parametrize("x_order", ["C", "F"])
def test_matrix_products_lay_out_results_for_speed_and_gradients_like_their_inputs(
    x_order: str,
) -> None:
    rng = np.random.default_rng(11)
    x_np = np.asarray(rng.standard_normal((4, 6)), order=x_order)
    x = ac.from_numpy(x_np).requires_grad_()  # shares the array, so keeps its layout
    assert x.data.flags[f"{x_order}_CONTIGUOUS"]
    wide, narrow = (ac.randn(6, n, dtype=ac.float64, req_grad=True) for n in (8, 3))
    hidden = x @ wide  # more columns than rows: column-major
    assert hidden.data.flags.f_contiguous and not hidden.data.flags.c_contiguous
    out = (hidden.relu() @ wide.T) @ narrow  # (4, 6) then (4, 3): row-major
    assert out.data.flags.c_contiguous
    np.testing.assert_allclose(
        out.numpy(), (np.maximum(x_np @ wide.numpy(), 0) @ wide.numpy().T) @ narrow.numpy()
    )
    out.sum().backward()
    assert x.grad.flags[f"{x_order}_CONTIGUOUS"]
    assert wide.grad.flags.c_contiguous and narrow.grad.flags.c_contiguous
    assert ac.autograd.gradcheck(lambda a, b: (a @ b).relu() @ b.T, [x, wide])


def test_relu_of_a_column_major_array_keeps_its_mask_in_that_order() -> None:
    x_np = np.asfortranarray(np.random.default_rng(12).standard_normal((5, 7)))
    x = ac.from_numpy(x_np).requires_grad_()
    grad = np.arange(35.0).reshape(5, 7)
    x.relu().backward(ac.tensor(grad))
    np.testing.assert_array_equal(x.grad, grad * (x_np > 0))
    assert x.data.flags.f_contiguous and x.relu().data.flags.f_contiguous
    assert ac.autograd.gradcheck(lambda t: t.relu() * t, [x])


@pytest.mark.parametrize(
    "key",
    [slice(1, 3), slice(None, -1), slice(-2, None), slice(3, 1), slice(7, 9), slice(-9, 2, 1)],
)
def test_gradient_of_a_leading_slice_is_zero_outside_it(key: slice) -> None:
    x = ac.ones(5, 3, dtype=ac.float64, req_grad=True)
    grad = np.arange(15.0).reshape(3, 5).T[key]  # a strided gradient, as a permute's
    x[key].backward(ac.tensor(grad))
    expected = np.zeros((5, 3))
    expected[key] = grad
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize("size", [7, 5000])  # written out, or a broadcast view
@pytest.mark.parametrize("dtype", [ac.float16, ac.float32, ac.float64])
def test_whole_reductions_spread_their_gradient_in_its_dtype(size: int, dtype: Any) -> None:
    x = ac.ones(size, dtype=dtype, req_grad=True)
    (x.mean() * 3).backward()
    assert x.grad.dtype == x.data.dtype and x.grad.shape == (size,)
    np.testing.assert_allclose(x.grad, np.full(size, 3 / size), rtol=1e-3)
    x.grad = None
    (x.sum() * 3).backward()
    np.testing.assert_array_equal(x.grad, np.full(size, 3.0))
