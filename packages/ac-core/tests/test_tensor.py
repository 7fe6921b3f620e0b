"""Tensor attributes, conversions, factories, dtypes and error messages."""

import numpy as np
import pytest

import auto_compyute as ac


def test_attributes(device: str) -> None:
    x = ac.ones(2, 3, device=device, req_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == ac.float32
    assert x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6 and len(x) == 2
    assert x.device == ac.device(device) and str(x.device) == (
        "cpu" if device == "cpu" else "cuda:0"
    )
    assert x.req_grad and x.requires_grad and x.is_leaf and x.grad is None and x.ctx is None
    assert x.src == () and x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    y = x * 2
    assert y.ctx is y.grad_fn and y.ctx.name == "Mul" and y.src[0] is x and not y.is_leaf


def test_requires_grad_alias_is_settable() -> None:
    x = ac.zeros(2)
    x.requires_grad = True
    assert x.req_grad
    x.req_grad = False
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.req_grad


def test_conversions() -> None:
    x = ac.tensor([[1.5, 2.5]])
    assert x.item if x.numel() > 1 else True
    assert ac.tensor(3.5).item() == 3.5
    assert x.tolist() == [[1.5, 2.5]]
    assert isinstance(x.numpy(), np.ndarray) and x.as_numpy() is x.numpy()
    np.testing.assert_array_equal(np.asarray(x), [[1.5, 2.5]])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x.double().dtype == ac.float64 and x.half().dtype == ac.float16
    assert x.long().tolist() == [[1, 2]] and x.int().dtype == ac.int32 and x.bool().dtype == ac.bool
    assert x.to(ac.float64).dtype == ac.float64 and x.to("float64").dtype == ac.float64
    assert x.to("cpu") is x and x.cpu() is x and x.float() is x
    assert float(ac.tensor([2.0])) == 2.0 and int(ac.tensor(3)) == 3
    assert [1, 2, 3][ac.tensor(1)] == 2


def test_detach_clone_contiguous() -> None:
    x = ac.randn(3, 4, req_grad=True)
    d = x.detach()
    assert not d.req_grad and d.data is x.data
    c = x.clone()
    assert c.data is not x.data and c.req_grad
    c.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))
    t = x.T
    assert not t.data.flags.c_contiguous
    assert t.contiguous().data.flags.c_contiguous
    assert x.contiguous() is x


def test_seed_style_repr() -> None:
    x = ac.tensor([[13.89234, 11.55021, 5.24451], [15.64693, 18.80921, 16.28103]], req_grad=True)
    y = x + 0
    assert repr(y) == (
        "Tensor([[13.8923, 11.5502,  5.2445],\n        [15.6469, 18.8092, 16.2810]], grad_fn=Add)"
    )
    assert repr(ac.tensor([1, 2])) == "Tensor([1, 2])"
    assert repr(ac.tensor([1.0], dtype=ac.float64)) == "Tensor([1.], dtype=float64)"
    assert repr(ac.ones(2, req_grad=True)) == "Tensor([1., 1.], req_grad=True)"


def test_dtype_defaults_and_promotion() -> None:
    assert ac.tensor([1.0, 2.0]).dtype == ac.float32
    assert ac.tensor([1, 2]).dtype == ac.int64
    assert ac.tensor([True]).dtype == ac.bool
    assert ac.tensor(np.zeros(2)).dtype == ac.float64
    f32, f64 = ac.ones(2), ac.ones(2, dtype=ac.float64)
    i64, i32 = ac.tensor([1, 2]), ac.tensor([1, 2], dtype=ac.int32)
    assert (f32 * 2.0).dtype == ac.float32  # Python scalars never widen
    assert (f32 + 2).dtype == ac.float32
    assert (2.5 * i64).dtype == ac.float32  # ints meet floats in the default dtype
    assert (i64 + 2).dtype == ac.int64 and (i32 + 2).dtype == ac.int32
    assert (f32 + f64).dtype == ac.float64
    assert (i64 + f32).dtype == ac.float32  # not float64 as NumPy would
    assert (i64 + i32).dtype == ac.int64
    assert (i64 / 2).dtype == ac.float32
    assert (ac.tensor([True]) + 1).dtype == ac.int64
    assert (f32**2).dtype == ac.float32 and (f32**0.5).dtype == ac.float32
    assert (i64**2).dtype == ac.int64


def test_mixed_dtype_gradients_keep_each_inputs_dtype() -> None:
    a = ac.ones(3, req_grad=True)
    b = ac.ones(3, dtype=ac.float64, req_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_factories(device: str) -> None:
    kw = {"device": device}
    assert ac.zeros(2, 3, **kw).tolist() == [[0.0] * 3] * 2
    assert ac.ones((2,), dtype=ac.int64, **kw).tolist() == [1, 1]
    assert (
        ac.full((2, 2), 7, **kw).tolist() == [[7, 7], [7, 7]] and ac.full((1,), 7).dtype == ac.int64
    )
    assert ac.full((1,), 0.5).dtype == ac.float32
    assert ac.empty(4, **kw).shape == (4,)
    assert ac.arange(5, **kw).tolist() == [0, 1, 2, 3, 4] and ac.arange(5).dtype == ac.int64
    assert ac.arange(1, 2, 0.5).tolist() == [1.0, 1.5] and ac.arange(0.0, 1).dtype == ac.float32
    assert ac.linspace(0, 1, 5, **kw).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ac.eye(2, 3, **kw).tolist() == [[1, 0, 0], [0, 1, 0]]
    x = ac.randn(2, 3, dtype=ac.float64, **kw)
    for like in (ac.zeros_like, ac.ones_like, ac.empty_like, ac.rand_like, ac.randn_like):
        y = like(x)
        assert (y.shape, y.dtype, y.device) == (x.shape, x.dtype, x.device)
    assert ac.full_like(x, 3.0).tolist() == [[3.0] * 3] * 2
    assert ac.zeros_like(x, dtype=ac.int32).dtype == ac.int32
    r = ac.rand(1000)
    assert r.min().item() >= 0 and r.max().item() < 1 and r.dtype == ac.float32
    i = ac.randint(3, 7, (100,))
    assert i.dtype == ac.int64 and set(i.tolist()) <= {3, 4, 5, 6}
    assert ac.randint(5, size=(2, 2)).shape == (2, 2)
    assert sorted(ac.randperm(6).tolist()) == list(range(6))
    t = ac.randn(2, req_grad=True, **kw)
    assert t.req_grad and t.is_leaf


def test_tensor_copies_but_constructor_shares() -> None:
    array = np.zeros(3, dtype=np.float32)
    assert ac.Tensor(array).data is array
    assert ac.tensor(array).data is not array


def test_manual_seed_reproducible() -> None:
    ac.manual_seed(42)
    a = (
        ac.randn(5).tolist(),
        ac.rand(2).tolist(),
        ac.randint(0, 10, (3,)).tolist(),
        ac.randperm(4).tolist(),
    )
    ac.set_random_seed(42)
    b = (
        ac.randn(5).tolist(),
        ac.rand(2).tolist(),
        ac.randint(0, 10, (3,)).tolist(),
        ac.randperm(4).tolist(),
    )
    assert a == b


def test_req_grad_on_integer_tensor_is_refused() -> None:
    with pytest.raises(RuntimeError, match="int64"):
        ac.tensor([1, 2], req_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        ac.arange(3).req_grad = True


def test_matmul_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        ac.ones(2, 3) @ ac.ones(4, 5)


def test_broadcast_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        ac.ones(2, 3) + ac.ones(4)


def test_reshape_and_cat_errors() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        ac.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(2, 4\)"):
        ac.cat([ac.ones(2, 3), ac.ones(2, 4)])
    with pytest.raises(IndexError, match="dim 2"):
        ac.ones(2, 3).sum(2)


def test_unknown_dtype() -> None:
    with pytest.raises(TypeError, match="complex128"):
        ac.zeros(2, dtype=np.complex128)


def test_in_place_changes_refused_while_tracking() -> None:
    x = ac.zeros(3, req_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 1.0
    with ac.no_grad():
        x[0] = 1.0
        x.fill_(2.0)
    assert x.tolist() == [2.0, 2.0, 2.0]
    y = ac.zeros(2)
    y.copy_([1.0, 2.0])
    assert y.tolist() == [1.0, 2.0]


def test_truth_value_of_many_elements_is_ambiguous() -> None:
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ac.ones(2))
    assert bool(ac.ones(1))


def test_iteration_and_len() -> None:
    rows = list(ac.arange(6).reshape(3, 2))
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError, match="0-d"):
        len(ac.tensor(1.0))


def test_numpy_arrays_on_the_left() -> None:
    x = ac.ones(2, req_grad=True)
    y = np.array([2.0, 3.0], dtype=np.float32) * x
    assert isinstance(y, ac.Tensor) and y.tolist() == [2.0, 3.0] and y.req_grad


def test_set_default_dtype_changes_new_float_tensors() -> None:
    try:
        ac.set_default_dtype(ac.float64)
        assert ac.get_default_dtype() == ac.float64
        assert ac.tensor([1.5]).dtype == ac.float64 and ac.randn(2).dtype == ac.float64
        assert (ac.tensor([1, 2]) / 2).dtype == ac.float64  # integers divide into it
        assert ac.tensor([1.0], dtype=ac.float32).dtype == ac.float32  # explicit wins
        with pytest.raises(TypeError, match="floating-point dtype, got int64"):
            ac.set_default_dtype(ac.int64)
    finally:
        ac.set_default_dtype(ac.float32)
    assert ac.tensor([1.5]).dtype == ac.float32


def test_inference_mode_is_no_grad() -> None:
    x = ac.ones(2, req_grad=True)
    with ac.inference_mode():
        assert not (x * 2).req_grad
    assert (x * 2).req_grad


def test_new_tensors_take_dtype_and_device_from_self(device: str) -> None:
    x = ac.ones(2, dtype=ac.float64, device=device, req_grad=True)
    zeros = x.new_zeros(2, 3)
    assert zeros.shape == (2, 3) and zeros.dtype == ac.float64 and zeros.device == x.device
    assert zeros.numpy().sum() == 0 and not zeros.req_grad and zeros.is_leaf
    assert x.new_ones((3,)).tolist() == [1.0, 1.0, 1.0]
    assert x.new_empty(4, dtype=ac.int32).dtype == ac.int32
    full = x.new_full((2,), 7, req_grad=True)
    assert full.tolist() == [7.0, 7.0] and full.dtype == ac.float64 and full.req_grad
    assert x.new_zeros(1, device="cpu").device == ac.device("cpu")
    data = ac.tensor([1, 2])
    copied = x.new_tensor(data)
    assert copied.dtype == ac.float64 and copied.device == x.device and copied.tolist() == [1, 2]
    assert x.new_tensor([3], dtype=ac.int64).dtype == ac.int64
    source = np.array([1.0, 2.0])
    x.new_tensor(source).data[0] = 5.0
    assert source[0] == 1.0  # new_tensor copies


def test_memory_layout_attributes() -> None:
    x = ac.zeros(2, 3, 4)
    assert x.is_contiguous() and x.stride() == (12, 4, 1) and x.stride(-2) == 4
    assert x.element_size() == 4 and x.itemsize == 4 and x.nbytes == 96
    moved = x.permute(2, 0, 1)
    assert not moved.is_contiguous() and moved.stride() == (1, 12, 4)
    assert moved.contiguous().is_contiguous()
    assert ac.zeros(3, dtype=ac.float64).expand(2, 3).stride() == (0, 1)
    assert ac.zeros(5, dtype=ac.int16).nbytes == 10


def test_view_as_and_reshape_as() -> None:
    x, other = ac.arange(6), ac.zeros(2, 3)
    assert x.view_as(other).shape == (2, 3) and x.reshape_as(other).tolist() == [
        [0, 1, 2],
        [3, 4, 5],
    ]


def test_random_fills_in_place_and_follow_the_in_place_rules() -> None:
    ac.manual_seed(0)
    x = ac.zeros(20000, dtype=ac.float64)
    assert x.normal_(2.0, 0.5) is x
    assert abs(x.numpy().mean() - 2.0) < 0.02 and abs(x.numpy().std() - 0.5) < 0.02
    x.uniform_(-3.0, -1.0)
    assert x.numpy().min() >= -3.0 and x.numpy().max() < -1.0
    assert abs(x.numpy().mean() + 2.0) < 0.02
    ac.manual_seed(1)
    first = ac.zeros(3).normal_().tolist()
    ac.manual_seed(1)
    assert ac.zeros(3).normal_().tolist() == first
    assert x.zero_().numpy().max() == 0 and x.fill_(1.5).numpy().min() == 1.5
    weight = ac.zeros(3, req_grad=True)
    with pytest.raises(RuntimeError, match="normal_\\(\\) on a leaf tensor that requires grad"):
        weight.normal_()
    with ac.no_grad():
        weight.uniform_(0.5, 1.0)
    assert weight.numpy().min() >= 0.5 and weight.req_grad
    with pytest.raises(RuntimeError, match="uniform_\\(\\) would change a tensor in place"):
        (weight * 2).uniform_()
    with pytest.raises(
        TypeError, match="normal_\\(\\) needs a floating-point tensor, got dtype int64"
    ):
        ac.tensor([1, 2]).normal_()


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: ac.tensor([1.0, 2.0], **kw),
        lambda **kw: ac.zeros(2, 3, **kw),
        lambda **kw: ac.ones((2,), **kw),
        lambda **kw: ac.empty(2, **kw),
        lambda **kw: ac.full((2,), 1.5, **kw),
        lambda **kw: ac.arange(3.0, **kw),
        lambda **kw: ac.linspace(0, 1, 5, **kw),
        lambda **kw: ac.eye(3, **kw),
        lambda **kw: ac.rand(2, **kw),
        lambda **kw: ac.randn(2, **kw),
        lambda **kw: ac.zeros_like(ac.ones(2), **kw),
        lambda **kw: ac.randn_like(ac.ones(2), **kw),
        lambda **kw: ac.ones(2).new_zeros(3, **kw),
        lambda **kw: ac.ones(2).new_tensor([1.0], **kw),
    ],
)
def test_factories_take_pytorchs_requires_grad(make) -> None:
    assert make(requires_grad=True).req_grad
    assert not make(requires_grad=False).req_grad
    assert make(req_grad=True).req_grad
    with pytest.raises(TypeError, match="req_grad and requires_grad"):
        make(req_grad=True, requires_grad=True)


def test_randint_takes_pytorchs_signatures() -> None:
    draws = ac.randint(5, (100,))  # randint(high, size)
    assert draws.shape == (100,) and draws.dtype == ac.int64
    assert draws.min().item() >= 0 and draws.max().item() < 5
    assert ac.randint(high=5, size=(3,)).shape == (3,)
    assert ac.randint(2, 5, (4,)).min().item() >= 2
    with pytest.raises(ValueError, match="low < high"):
        ac.randint(5, 2)


def test_a_0d_tensor_formats_as_its_number() -> None:
    assert f"{ac.tensor(0.1234):.3f}" == "0.123"
    assert format(ac.tensor(3), "d") == "3"
    assert f"{ac.tensor(2.5)}" == "2.5"
    with pytest.raises(TypeError):
        format(ac.tensor([1.0, 2.0]), ".2f")


def test_writing_a_value_that_requires_grad_is_refused() -> None:
    w = ac.tensor([2.0, 3.0], req_grad=True)
    x = ac.zeros(4)
    for write in (
        lambda: x.__setitem__(slice(1, 3), w),
        lambda: x[:2].copy_(w),
        lambda: x.fill_(w.sum()),
    ):
        with pytest.raises(RuntimeError, match="value that requires grad"):
            write()
    assert x.tolist() == [0.0] * 4
    with ac.no_grad():
        x[1:3] = w
    x[:2] = w.detach()
    assert x.tolist() == [2.0, 3.0, 3.0, 0.0]


def test_var_std_and_their_means_take_unbiased_as_pytorch_does() -> None:
    x = ac.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert x.var(False).item() == pytest.approx(2.1875)  # a bool in place of dim
    assert x.std(unbiased=False).item() == pytest.approx(2.1875**0.5)
    assert x.var(1, True).tolist() == pytest.approx([0.5, 2.0])
    variance, mean = ac.var_mean(x, 1, False)
    assert variance.tolist() == pytest.approx([0.25, 1.0]) and mean.tolist() == [1.5, 4.0]
    std, _ = ac.std_mean(x, False)
    assert std.item() == pytest.approx(2.1875**0.5)


def test_gradients_at_a_zero_std_and_a_zero_exponent_are_zero_not_nan() -> None:
    x = ac.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], req_grad=True)
    x.std(dim=1).sum().backward()
    assert np.all(x.grad[0] == 0) and np.all(np.isfinite(x.grad))
    x = ac.tensor([0.0, 1.0], req_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    a = ac.tensor([0.0, 2.0], req_grad=True)
    (a ** ac.tensor([0.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [0.0, 12.0]


def test_integers_select_before_index_arrays_as_in_pytorch() -> None:
    x = ac.arange(24.0).reshape(2, 3, 4)
    picked = x[0, :, [0, 3]]  # NumPy's own reading would give shape (2, 3)
    assert picked.shape == (3, 2)
    assert picked.tolist() == [[0.0, 3.0], [4.0, 7.0], [8.0, 11.0]]
    assert x[ac.tensor(1), None, [0, 2], :].shape == (1, 2, 4)
    z = ac.zeros(2, 3, 3)
    z[0, :, [0, 1, 2]] = ac.arange(9.0).reshape(3, 3)
    assert z[0].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
    w = ac.arange(24.0).reshape(2, 3, 4).requires_grad_()
    w[1, :, [0, 0]].sum().backward()
    assert w.grad[1, :, 0].tolist() == [2.0] * 3 and w.grad.sum() == 6


def test_clamp_with_tensor_bounds_and_the_dtype_of_float_bounds() -> None:
    x = ac.tensor([1.0, float("nan"), 3.0, 5.0], req_grad=True)
    low = ac.tensor([2.0, 2.0, 2.0, 6.0], req_grad=True)
    high = ac.tensor(4.0, req_grad=True)
    result = x.clamp(low, high)
    assert np.allclose(result.numpy(), [2.0, np.nan, 3.0, 4.0], equal_nan=True)
    result.sum().backward()
    assert low.grad.tolist() == [1.0, 0.0, 0.0, 0.0] and high.grad.item() == 1.0
    assert ac.tensor([1, 2, 3]).clamp(0.5, 2.5).dtype == ac.float32
    assert ac.tensor([1, 2, 3]).clamp(0, 2).dtype == ac.int64


def test_masked_fill_keeps_the_tensors_dtype() -> None:
    mask = ac.tensor([True, False, True])
    filled = ac.tensor([1, 2, 3]).masked_fill(mask, 2.5)
    assert filled.dtype == ac.int64 and filled.tolist() == [2, 2, 2]
    assert ac.tensor([True, False]).masked_fill(ac.tensor([True, False]), 0).dtype == ac.bool
    value = ac.tensor(5.0, dtype=ac.float64, req_grad=True)
    filled = ac.tensor([1.0, 2.0, 3.0]).masked_fill(mask, value)
    assert filled.dtype == ac.float32
    filled.sum().backward()
    assert value.grad == 2.0


def test_running_extremes_propagate_nan_as_pytorch_does() -> None:
    values, indices = ac.tensor([1.0, float("nan"), 3.0, float("nan"), 0.0]).cummax(0)
    assert np.isnan(values.numpy()[1:]).all() and indices.tolist() == [0, 1, 1, 3, 3]
    values, indices = ac.tensor([3.0, float("nan"), 1.0]).cummin(0)
    assert values.tolist()[0] == 3.0 and indices.tolist() == [0, 1, 1]


def test_dim_0_and_minus_1_name_a_0d_tensors_only_axis() -> None:
    x = ac.tensor(2.5, req_grad=True)
    for dim in (0, -1):
        for result in (x.sum(dim), x.mean(dim), x.amax(dim), x.logsumexp(dim), x.cumsum(dim)):
            assert result.shape == () and result.item() == pytest.approx(2.5)
        values, indices = x.cummax(dim)
        assert values.shape == indices.shape == () and indices.item() == 0
        assert x.transpose(0, dim).shape == ()
    x.cumprod(0).backward()
    assert x.grad == 1.0
    with pytest.raises(IndexError, match="out of range"):
        x.sum(1)


def test_flatten_checks_its_dims() -> None:
    assert ac.zeros(0, 2, 3).flatten(1).shape == (0, 6)
    with pytest.raises(ValueError, match="start_dim"):
        ac.zeros(2, 3, 4).flatten(2, 1)
    with pytest.raises(IndexError, match="out of range"):
        ac.zeros(2, 3).flatten(0, 5)


def test_floor_division_remainder_and_power_assignments_are_in_place() -> None:
    x = ac.tensor([7.0, 8.0, -9.0])
    alias = x
    x //= 2
    assert alias.tolist() == [3.0, 4.0, -5.0]
    x %= 3
    assert alias.tolist() == [0.0, 1.0, 1.0]
    x **= 2
    assert x is alias and alias.tolist() == [0.0, 1.0, 1.0]
    w = ac.tensor([2.0, 3.0], req_grad=True)
    y = w * 1
    y **= 2  # recorded: a new tensor, as for +=
    y.sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


def test_arange_of_numpy_or_tensor_integers_and_sums_of_unsigned_integers_are_int64() -> None:
    assert ac.arange(np.int64(3)).dtype == ac.arange(ac.tensor(3)).dtype == ac.int64
    assert ac.arange(ac.tensor(3)).tolist() == [0, 1, 2]
    total = ac.tensor([200, 100], dtype=ac.uint8).sum()
    assert total.dtype == ac.int64 and total.item() == 300


def test_pytorch_spellings_abs_shifts_round_decimals_nonzero_tuples_and_where() -> None:
    x = ac.tensor([1.2345, -2.5, 15.5])
    assert abs(x).tolist() == pytest.approx([1.2345, 2.5, 15.5])
    assert x.round(decimals=2).tolist() == pytest.approx([1.23, -2.5, 15.5])
    assert x.round(decimals=-1).tolist() == [0.0, -0.0, 20.0]
    assert (ac.tensor([1, 2]) << 2).tolist() == [4, 8] and (ac.tensor([8]) >> 1).tolist() == [4]
    assert x.sort(stable=True).indices.tolist() == [1, 0, 2]
    condition = ac.tensor([[True, False], [False, True]])
    rows, columns = ac.where(condition)
    assert rows.tolist() == columns.tolist() == [0, 1]
    assert [t.tolist() for t in condition.nonzero(as_tuple=True)] == [[0, 1], [0, 1]]
    assert ac.where(condition, 1.0, 0.0).dtype == ac.float32
    assert ac.where(condition, 1, 0).tolist() == [[1, 0], [0, 1]]


def test_smaller_pytorch_readings_of_arg_extremes_squares_steps_and_empty_sums() -> None:
    x = ac.arange(6.0).reshape(2, 3)
    assert x.argmax(keepdim=True).shape == (1, 1) and x.argmax(keepdim=True).item() == 5
    assert ac.tensor([True, False]).square().dtype == ac.int64
    assert ac.tensor([1, 0, -1]).heaviside(ac.tensor([5])).tolist() == [1, 5, 0]
    assert ac.tensor([1, 0, -1]).heaviside(ac.tensor([5])).dtype == ac.int64
    assert x.take_along_dim(ac.tensor([[-1], [0]]), 1).tolist() == [[2.0], [3.0]]
    with pytest.raises(IndexError, match="out of range"):
        x.take_along_dim(ac.tensor([[-4], [0]]), 1)
    assert ac.zeros(2, 0).logsumexp(1).tolist() == [float("-inf")] * 2


@pytest.mark.parametrize(
    "call",
    [
        lambda a: ac.cat([a, a], dim=2),
        lambda a: ac.stack([a, a], dim=3),
        lambda a: a.unsqueeze(3),
        lambda a: a.unsqueeze(-4),
        lambda a: a.softmax(2),
        lambda a: a.log_softmax(-3),
        lambda a: a.split(1, dim=2),
        lambda a: a.chunk(2, dim=2),
        lambda a: a.permute(0, 2),
    ],
)
def test_an_out_of_range_dim_is_refused_not_wrapped(call) -> None:
    with pytest.raises(IndexError, match="out of range"):
        call(ac.randn(2, 3))


def test_view_refuses_a_layout_that_needs_a_copy() -> None:
    x = ac.zeros(2, 3)
    x.view(6)[0] = 1.0  # a view: the write reaches x
    assert x[0, 0].item() == 1.0
    with pytest.raises(RuntimeError, match="use reshape"):
        x.T.view(6)
    assert x.T.reshape(6).shape == (6,)


def test_to_takes_non_blocking_and_copy() -> None:
    x = ac.ones(3)
    assert x.to("cpu", non_blocking=True) is x
    copied = x.to(ac.float32, copy=True)
    assert copied is not x and copied.tolist() == x.tolist()
    copied.data[0] = 5.0
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_atan2_has_a_zero_gradient_at_the_origin() -> None:
    y = ac.tensor([0.0, 1.0], dtype=ac.float64, req_grad=True)
    x = ac.tensor([0.0, 0.0], dtype=ac.float64, req_grad=True)
    ac.atan2(y, x).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0] and x.grad.tolist() == [0.0, -1.0]


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8])
def test_topk_by_partial_selection_equals_the_full_stable_sort(largest, dtype) -> None:
    rng = np.random.default_rng(0)
    for high in (5, 10**6):  # ties across the k-th place, and almost none
        data = rng.integers(0, high, (6, 200, 3)).astype(dtype)
        x = ac.tensor(data)
        for dim in (0, 1, 2):
            k = min(4, data.shape[dim])
            values, indices = x.topk(k, dim=dim, largest=largest)
            full_values, full_indices = x.sort(dim=dim, descending=largest)
            window = (slice(None),) * dim + (slice(0, k),)
            np.testing.assert_array_equal(indices.numpy(), full_indices.numpy()[window])
            np.testing.assert_array_equal(values.numpy(), full_values.numpy()[window])
