"""Tensor methods: the in-place twins of out-of-place methods, random in-place fills, and the
view, scatter and misc methods (exact values, NumPy, gradcheck, errors)."""

import math

import numpy as np
import pytest

import auto_compyute as ac

# ---------------------------------------------------------------- in-place twins

# The in-place twins without tensor arguments, and those of one (3, 4)-shaped "other".
UNARY_TWINS = [
    "abs",
    "neg",
    "negative",
    "sign",
    "square",
    "reciprocal",
    "rsqrt",
    "sqrt",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "atanh",
    "arcsinh",
    "arctanh",
    "sigmoid",
    "relu",
    "logit",
    "erf",
    "erfc",
    "sinc",
    "deg2rad",
    "rad2deg",
    "floor",
    "ceil",
    "round",
    "trunc",
    "fix",
    "frac",
    "nan_to_num",
    "tril",
    "triu",
]
BINARY_TWINS = [
    "pow",
    "subtract",
    "multiply",
    "divide",
    "floor_divide",
    "remainder",
    "fmod",
    "atan2",
    "arctan2",
    "hypot",
    "copysign",
    "xlogy",
    "heaviside",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
]

# name, args; applied to float64 values in (0.1, 0.9) of shape (3, 4)
FLOAT_TWINS = [
    *((name, ()) for name in UNARY_TWINS),
    ("logit", (0.2,)),
    ("tril", (1,)),
    ("cumsum", (1,)),
    ("cumprod", (0,)),
    ("clamp_min", (0.4,)),
    ("clamp_max", (0.4,)),
    ("renorm", (2, 0, 1.0)),
    ("pow", (2.5,)),
    *((name, ()) for name in ("lgamma", "digamma", "erfinv", "i0", "sgn", "absolute")),
    ("polygamma", (1,)),
    ("mvlgamma", (1,)),
    *((name, ("row",)) for name in ("true_divide", "nextafter")),
    ("addr", ("three", "four")),
    ("lerp", ("other", 0.3)),
    ("lerp", ("other", "other")),
    ("addcmul", ("other", "row")),
    ("addcdiv", ("other", "row", 0.5)),
    *((name, ("other",)) for name in BINARY_TWINS),
    *((name, ("row",)) for name in ("multiply", "subtract", "divide", "hypot")),
    ("logical_not", ()),
    ("masked_fill", ("mask", 0.5)),
    ("masked_scatter", ("mask", "other")),
    ("index_fill", (1, "index", -1.0)),
    ("index_copy", (1, "index", "columns")),
    ("index_add", (1, "index", "columns")),
    ("index_add", (1, "index", "columns", 2.0)),
    ("scatter", (0, "scatter_index", "other")),
    ("scatter", (0, "scatter_index", 2.0)),
    ("scatter_add", (0, "scatter_index", "other")),
    ("scatter_reduce", (0, "scatter_index", "other", "amax")),
    ("index_reduce", (1, "index", "columns", "prod")),
    ("put", ("flat_index", "four")),
]


def _argument(name, rng: np.random.Generator):
    """The arguments of FLOAT_TWINS by name; others are passed as they are."""
    values = {
        "other": lambda: rng.uniform(0.1, 0.9, (3, 4)),
        "row": lambda: rng.uniform(0.1, 0.9, (4,)),
        "mask": lambda: rng.random((3, 4)) < 0.5,
        "index": lambda: np.array([3, 0]),
        "columns": lambda: rng.uniform(0.1, 0.9, (3, 2)),
        "scatter_index": lambda: np.array([[2, 0, 1, 1], [0, 1, 2, 0]]),
        "flat_index": lambda: np.array([0, 5, -1, 7]),
        "four": lambda: rng.uniform(0.1, 0.9, (4,)),
        "three": lambda: rng.uniform(0.1, 0.9, (3,)),
    }
    if isinstance(name, str) and name in values:
        return ac.tensor(values[name]())
    return name


@pytest.mark.parametrize(("name", "args"), FLOAT_TWINS, ids=lambda v: str(v))
def test_inplace_twin_equals_the_out_of_place_method(
    name: str, args: tuple, rng: np.random.Generator
) -> None:
    x = ac.tensor(rng.uniform(0.1, 0.9, (3, 4)))
    arguments = [_argument(a, rng) for a in args]
    expected = getattr(x, name)(*arguments)
    alias = x.numpy()  # the array the in-place form must write into
    result = getattr(x, f"{name}_")(*arguments)
    assert result is x and x.dtype == ac.float64 and x.shape == (3, 4)
    np.testing.assert_array_equal(x.numpy(), expected.numpy().astype(np.float64))
    assert np.shares_memory(x.numpy(), alias)


def test_inplace_twins_of_inverse_hyperbolic_cosine_and_addmm(rng: np.random.Generator) -> None:
    x = ac.tensor(rng.uniform(1.5, 3.0, (3, 3)))
    for name in ("acosh", "arccosh"):
        y = x.clone()
        getattr(y, f"{name}_")()
        np.testing.assert_array_equal(y.numpy(), getattr(x, name)().numpy())
    a, b = ac.tensor(rng.random((3, 2))), ac.tensor(rng.random((2, 3)))
    y = x.clone().addmm_(a, b, beta=0.5, alpha=2.0)
    np.testing.assert_allclose(y.numpy(), 0.5 * x.numpy() + 2.0 * a.numpy() @ b.numpy())


def test_inplace_twins_on_integer_and_bool_tensors(rng: np.random.Generator) -> None:
    a_np = rng.integers(-8, 8, (3, 4)).astype(np.int32)
    b_np = rng.integers(0, 4, (4,)).astype(np.int32)
    for name, expected in [
        ("bitwise_and", a_np & b_np),
        ("bitwise_or", a_np | b_np),
        ("bitwise_xor", a_np ^ b_np),
        ("bitwise_left_shift", a_np << b_np),
        ("bitwise_right_shift", a_np >> b_np),
        ("eq", (a_np == b_np).astype(np.int32)),
        ("floor_divide", a_np // np.maximum(b_np, 1)),
        ("remainder", a_np % np.maximum(b_np, 1)),
        ("multiply", a_np * b_np),
    ]:
        a = ac.tensor(a_np)
        other = ac.tensor(np.maximum(b_np, 1) if name in ("floor_divide", "remainder") else b_np)
        assert getattr(a, f"{name}_")(other) is a and a.dtype == ac.int32
        np.testing.assert_array_equal(a.numpy(), expected)
    a = ac.tensor(a_np)
    for name, expected in [("abs", np.abs(a_np)), ("neg", -a_np), ("bitwise_not", ~a_np)]:
        a = ac.tensor(a_np)
        getattr(a, f"{name}_")()
        np.testing.assert_array_equal(a.numpy(), expected)
    flags = ac.tensor(a_np > 0)
    flags.logical_and_(ac.tensor(a_np < 5))
    np.testing.assert_array_equal(flags.numpy(), (a_np > 0) & (a_np < 5))


def test_inplace_twins_that_change_the_shape(rng: np.random.Generator) -> None:
    data = rng.random((3, 1, 4))
    for name, args, expected in [
        ("squeeze", (1,), data[:, 0]),
        ("squeeze", (), data[:, 0]),
        ("unsqueeze", (0,), data[None]),
        ("transpose", (0, 2), data.transpose(2, 1, 0)),
        ("swapaxes", (0, 1), data.transpose(1, 0, 2)),
        ("swapdims", (1, 2), data.transpose(0, 2, 1)),
    ]:
        x = ac.tensor(data.copy())
        assert getattr(x, f"{name}_")(*args) is x
        np.testing.assert_array_equal(x.numpy(), expected)
    m = ac.tensor(data[:, 0].copy())
    assert m.t_().shape == (4, 3)
    np.testing.assert_array_equal(m.numpy(), data[:, 0].T)


def test_inplace_twin_writes_through_a_view(rng: np.random.Generator) -> None:
    x = ac.tensor(rng.random((2, 3)))
    before = x.numpy().copy()
    x[0].exp_()
    np.testing.assert_array_equal(x.numpy()[0], np.exp(before[0]))
    np.testing.assert_array_equal(x.numpy()[1], before[1])


def test_inplace_twins_refuse_what_add_refuses() -> None:
    leaf = ac.ones(3, req_grad=True)
    for call in (lambda: leaf.exp_(), lambda: leaf.masked_fill_(ac.tensor([True] * 3), 0.0)):
        with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad"):
            call()
    with ac.no_grad():
        leaf.exp_()
    np.testing.assert_allclose(leaf.numpy(), np.e)
    computed = ac.ones(3, req_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"computed by"):
        computed.sigmoid_()
    with ac.no_grad(), pytest.raises(RuntimeError, match=r"computed by"):
        computed.t_()
    plain = ac.ones(3)
    with pytest.raises(RuntimeError, match=r"involves a tensor that requires grad"):
        plain.lerp_(ac.zeros(3), ac.full((3,), 0.5, req_grad=True))
    with ac.no_grad():
        plain.lerp_(ac.zeros(3), ac.full((3,), 0.5, req_grad=True))
    np.testing.assert_array_equal(plain.numpy(), 0.5)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad"):
        leaf.unsqueeze_(0)


def test_inplace_twins_check_the_shape_and_dtype_of_the_result() -> None:
    with pytest.raises(
        RuntimeError, match=r"shape \(2, 3\) does not broadcast to the shape \(3,\)"
    ):
        ac.ones(3).multiply_(ac.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"float32 cannot be cast to the dtype int64"):
        ac.arange(3).sqrt_()
    with pytest.raises(RuntimeError, match=r"int64 cannot be cast to the dtype bool"):
        ac.tensor([True, False]).multiply_(ac.tensor([2, 3]))
    x = ac.tensor([1.0, 2.0])
    x.eq_(1.0)  # bool results may go into a float tensor
    np.testing.assert_array_equal(x.numpy(), [1.0, 0.0])
    x = ac.ones(2, 3, dtype=ac.float32)
    x.add_(ac.ones(3, dtype=ac.float64))  # a wider float result is cast back, as in PyTorch
    assert x.dtype == ac.float32
    np.testing.assert_array_equal(x.numpy(), 2.0)


def test_detach_resize_and_no_op_conjugates(rng: np.random.Generator) -> None:
    y = ac.ones(3, req_grad=True) * 2
    assert y.detach_() is y and y.is_leaf and not y.req_grad
    y.exp_()  # a leaf now, so it may change
    x = ac.tensor(np.arange(6.0))
    assert x.resize_(2, 3) is x and x.shape == (2, 3)
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))
    x.resize_((4,))
    np.testing.assert_array_equal(x.numpy(), np.arange(4.0))
    x.resize_as_(ac.zeros(2, 3))
    np.testing.assert_array_equal(x.numpy(), [[0, 1, 2], [3, 0, 0]])
    w = ac.ones(4, req_grad=True)
    with ac.no_grad():
        w.resize_(2, 2)
        with pytest.raises(RuntimeError, match=r"number of elements .* \(2, 2\) to \(5,\)"):
            w.resize_(5)
    assert x.conj() is x and x.conj_physical() is x and x.resolve_conj() is x
    assert x.resolve_neg() is x and x.real is x and x.conj_physical_() is x


# ---------------------------------------------------------------- random fills

N = 40_000


def _close(value: float, expected: float, standard_error: float) -> None:
    assert abs(value - expected) < 5 * standard_error, (value, expected, standard_error)


def test_bernoulli_fill(rng: np.random.Generator) -> None:
    x = ac.empty(N, dtype=ac.float64).bernoulli_(0.3)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0}
    _close(x.numpy().mean(), 0.3, math.sqrt(0.3 * 0.7 / N))
    p = ac.tensor(np.repeat([[0.1], [0.8]], N // 2, axis=1))
    draws = ac.zeros(2, N // 2, dtype=ac.int64).bernoulli_(p)
    assert draws.dtype == ac.int64
    for row, q in zip(draws.numpy(), (0.1, 0.8), strict=True):
        _close(row.mean(), q, math.sqrt(q * (1 - q) / (N // 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ac.zeros(3).bernoulli_(1.5)


def test_exponential_cauchy_and_log_normal_fills(rng: np.random.Generator) -> None:
    lam = 2.0
    x = ac.empty(N, dtype=ac.float64).exponential_(lam).numpy()
    assert (x >= 0).all()
    _close(x.mean(), 1 / lam, (1 / lam) / math.sqrt(N))
    _close(x.var(), 1 / lam**2, math.sqrt(8) / lam**2 / math.sqrt(N))
    c = ac.empty(N, dtype=ac.float64).cauchy_(median=1.0, sigma=2.0).numpy()
    for at, share in ((1.0, 0.5), (3.0, 0.75), (-1.0, 0.25)):  # the quartiles: median -+ sigma
        _close((c < at).mean(), share, math.sqrt(share * (1 - share) / N))
    logs = np.log(ac.empty(N, dtype=ac.float64).log_normal_(1.0, 0.5).numpy())
    _close(logs.mean(), 1.0, 0.5 / math.sqrt(N))
    _close(logs.std(), 0.5, 0.5 / math.sqrt(2 * N))
    with pytest.raises(TypeError, match=r"floating-point"):
        ac.zeros(3, dtype=ac.int64).exponential_()
    with pytest.raises(ValueError, match=r"lambd > 0"):
        ac.zeros(3).exponential_(0.0)


def test_geometric_fill(rng: np.random.Generator) -> None:
    p = 0.25
    x = ac.empty(N, dtype=ac.int64).geometric_(p).numpy()
    assert x.min() >= 1
    _close(x.mean(), 1 / p, math.sqrt((1 - p) / p**2 / N))
    f = ac.empty(100, dtype=ac.float32).geometric_(0.5).numpy()
    assert (f == np.round(f)).all() and f.min() >= 1
    with pytest.raises(ValueError, match=r"0 < p <= 1"):
        ac.zeros(3).geometric_(0.0)


def test_random_fill(rng: np.random.Generator) -> None:
    x = ac.empty(N, dtype=ac.float64).random_(0, 10).numpy()
    assert set(np.unique(x)) == set(range(10))
    _close(x.mean(), 4.5, math.sqrt(8.25 / N))
    assert set(np.unique(ac.empty(1000, dtype=ac.int8).random_(5).numpy())) == set(range(5))
    assert set(np.unique(ac.empty(1000, dtype=ac.int64).random_(-3, to=2).numpy())) == set(
        range(-3, 2)
    )
    f32 = ac.empty(N, dtype=ac.float32).random_().numpy()
    assert f32.min() >= 0 and f32.max() <= 2**24 and (f32 == np.round(f32)).all()
    assert f32.max() > 2**23  # the whole range is used
    u8 = ac.empty(N, dtype=ac.uint8).random_().numpy()
    assert u8.min() == 0 and u8.max() == 255
    assert set(np.unique(ac.empty(100, dtype=ac.bool_).random_().numpy())) == {False, True}
    with pytest.raises(ValueError, match=r"\[5, 2\)"):
        ac.zeros(3).random_(5, 2)
    with pytest.raises(ValueError, match=r"uint8"):
        ac.zeros(3, dtype=ac.uint8).random_(300)


def test_random_fills_follow_the_seed_and_the_refusals() -> None:
    ac.manual_seed(3)
    first = ac.empty(5).exponential_().numpy().copy()
    ac.manual_seed(3)
    np.testing.assert_array_equal(ac.empty(5).exponential_().numpy(), first)
    leaf = ac.zeros(3, req_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad"):
        leaf.bernoulli_()
    with ac.no_grad():
        leaf.cauchy_()
    with pytest.raises(RuntimeError, match=r"computed by"):
        (leaf * 1).random_()


def test_fill_diagonal(rng: np.random.Generator) -> None:
    tall = ac.zeros(7, 3).fill_diagonal_(1.0, wrap=True).numpy()
    expected = np.zeros((7, 3))
    np.fill_diagonal(expected, 1.0, wrap=True)
    np.testing.assert_array_equal(tall, expected)
    assert tall[4:].trace() == 3  # it wraps after a row of gap
    np.testing.assert_array_equal(ac.zeros(7, 3).fill_diagonal_(1.0).numpy()[3:], 0)
    cube = ac.zeros(3, 3, 3).fill_diagonal_(2).numpy()
    assert cube.sum() == 6 and cube[1, 1, 1] == 2
    with pytest.raises(ValueError, match=r"\(2, 3, 3\)"):
        ac.zeros(2, 3, 3).fill_diagonal_(1)


def test_bernoulli_and_multinomial_methods(rng: np.random.Generator) -> None:
    probs = ac.full((N,), 0.25, dtype=ac.float64)
    _close(probs.bernoulli().numpy().mean(), 0.25, math.sqrt(0.25 * 0.75 / N))
    _close(probs.bernoulli(0.75).numpy().mean(), 0.75, math.sqrt(0.25 * 0.75 / N))
    draws = ac.tensor([0.0, 1.0, 3.0]).multinomial(N, replacement=True).numpy()
    assert draws.min() >= 1
    _close((draws == 2).mean(), 0.75, math.sqrt(0.25 * 0.75 / N))


# ---------------------------------------------------------------- views and scatters


def test_unfold_values_and_gradient(rng: np.random.Generator) -> None:
    data = rng.standard_normal((2, 7, 3))
    x = ac.tensor(data, req_grad=True)
    for size, step in ((3, 1), (2, 2), (2, 3), (7, 1)):
        windows = x.unfold(1, size, step)
        starts = range(0, 7 - size + 1, step)
        expected = np.stack([data[:, s : s + size].transpose(0, 2, 1) for s in starts], axis=1)
        np.testing.assert_array_equal(windows.numpy(), expected)
        assert ac.autograd.gradcheck(lambda t, s=size, k=step: t.unfold(1, s, k), [x])
    assert np.shares_memory(x.unfold(0, 1, 1).numpy(), x.numpy())  # a view
    x.unfold(-1, 2, 1).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [1, 2, 1])  # the middle one is in 2 windows
    assert ac.tensor(3.0).unfold(0, 1, 1).shape == (1,)
    with pytest.raises(ValueError, match=r"size 8 does not fit dim 1 of length 7"):
        x.unfold(1, 8, 1)
    with pytest.raises(ValueError, match=r"step > 0"):
        x.unfold(1, 2, 0)


def test_put(rng: np.random.Generator) -> None:
    data = rng.standard_normal((3, 4))
    x = ac.tensor(data, req_grad=True)
    source = ac.tensor(rng.standard_normal(4), req_grad=True)
    index = ac.tensor([[0, 5], [-1, 5]])
    expected = data.copy().reshape(-1)
    expected[[0, 5, -1]] = source.numpy()[[0, 3, 2]]
    expected[5] = source.numpy()[3]  # (PyTorch leaves which repeat lands unspecified)
    np.testing.assert_array_equal(x.put(index, source).numpy(), expected.reshape(3, 4))
    added = data.copy().reshape(-1)
    np.add.at(added, [0, 5, -1, 5], source.numpy())
    np.testing.assert_allclose(x.put(index, source, accumulate=True).numpy(), added.reshape(3, 4))
    unique = ac.tensor([7, 0, 3, 11])
    assert ac.autograd.gradcheck(lambda a, b: a.put(unique, b), [x, source])
    assert ac.autograd.gradcheck(lambda a, b: a.put(index, b, accumulate=True), [x, source])
    y = x.detach().clone()
    y.put_(index, source.detach(), accumulate=True)
    np.testing.assert_allclose(y.numpy(), added.reshape(3, 4))
    with pytest.raises(IndexError, match=r"12 elements"):
        x.put(ac.tensor([12]), source[:1])
    with pytest.raises(ValueError, match=r"got 4 and 2"):
        x.put(ac.tensor([0, 1]), source)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce: str, include_self: bool, rng: np.random.Generator) -> None:
    data, source_np = rng.standard_normal((3, 4)), rng.standard_normal((3, 3))
    index = [1, 3, 1]
    expected = data.copy()
    for column in (1, 3):
        taken = [source_np[:, i] for i, j in enumerate(index) if j == column]
        parts = ([data[:, column]] if include_self else []) + taken
        combine = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
        expected[:, column] = combine(np.stack(parts), axis=0)
    x, source = ac.tensor(data, req_grad=True), ac.tensor(source_np, req_grad=True)
    out = x.index_reduce(1, ac.tensor(index), source, reduce, include_self=include_self)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert ac.autograd.gradcheck(
        lambda a, b: a.index_reduce(1, ac.tensor(index), b, reduce, include_self=include_self),
        [x, source],
    )
    with pytest.raises(ValueError, match=r"reduce must be one of"):
        x.index_reduce(1, ac.tensor(index), source, "sum")


def test_select_slice_and_diagonal_scatter(rng: np.random.Generator) -> None:
    data = rng.standard_normal((3, 4, 5))
    x = ac.tensor(data, req_grad=True)
    cases = [
        (lambda a, s: a.select_scatter(s, 1, -1), (3, 5), (slice(None), -1)),
        (lambda a, s: a.slice_scatter(s, 2, 1, None, 2), (3, 4, 2), (..., slice(1, None, 2))),
        (lambda a, s: a.slice_scatter(s), (3, 4, 5), (slice(None),)),
    ]
    for scatter, shape, key in cases:
        src = ac.tensor(rng.standard_normal(shape), req_grad=True)
        expected = data.copy()
        expected[key] = src.numpy()
        np.testing.assert_array_equal(scatter(x, src).numpy(), expected)
        assert ac.autograd.gradcheck(scatter, [x, src])
    for offset, dim1, dim2 in ((0, 0, 1), (1, 1, 2), (-2, 2, 1), (1, 0, 2), (2, 2, 0)):
        diagonal = x.diagonal(offset, dim1, dim2)
        src = ac.tensor(rng.standard_normal(diagonal.shape), req_grad=True)
        out = x.diagonal_scatter(src, offset, dim1, dim2)
        np.testing.assert_array_equal(out.diagonal(offset, dim1, dim2).numpy(), src.numpy())
        outside = np.ones(data.shape, dtype=bool)
        marks = ac.tensor(np.zeros(data.shape)).diagonal_scatter(
            ac.ones(*diagonal.shape, dtype=ac.float64), offset, dim1, dim2
        )
        outside[marks.numpy() == 1] = False
        assert outside.sum() == data.size - src.numel()
        np.testing.assert_array_equal(out.numpy()[outside], data[outside])
        assert ac.autograd.gradcheck(
            lambda a, s, o=offset, d=dim1, e=dim2: a.diagonal_scatter(s, o, d, e), [x, src]
        )
    with pytest.raises(ValueError, match=r"src of shape \(3, 4\) does not fit the shape \(3, 5\)"):
        x.select_scatter(ac.zeros(3, 4, dtype=ac.float64), 1, 0)
    with pytest.raises(TypeError, match=r"dtype float64, got float32"):
        x.slice_scatter(ac.zeros(3, 4, 5))
    with pytest.raises(ValueError, match=r"two different dims"):
        x.diagonal_scatter(ac.zeros(3, dtype=ac.float64), 0, 1, 1)


def test_sum_to_size(rng: np.random.Generator) -> None:
    data = rng.standard_normal((2, 3, 4))
    x = ac.tensor(data, req_grad=True)
    np.testing.assert_allclose(x.sum_to_size(3, 1).numpy(), data.sum((0, 2)).reshape(3, 1))
    np.testing.assert_allclose(x.sum_to_size((1, 1, 4)).numpy(), data.sum((0, 1), keepdims=True))
    assert x.sum_to_size(2, 3, 4) is x
    assert ac.autograd.gradcheck(lambda t: t.sum_to_size(1, 3, 1), [x])
    with pytest.raises(ValueError, match=r"size \(2, 4\) does not broadcast"):
        x.sum_to_size(2, 4)


# ---------------------------------------------------------------- misc methods


def test_small_shape_and_math_methods(rng: np.random.Generator) -> None:
    data = rng.standard_normal((3, 4))
    x = ac.tensor(data)
    pieces = x.split_with_sizes([1, 3], dim=1)
    assert [p.shape for p in pieces] == [(3, 1), (3, 3)]
    assert len(x.unsafe_split(2, 1)) == 2 and len(x.unsafe_chunk(3)) == 3
    with pytest.raises(ValueError, match=r"do not add up"):
        x.split_with_sizes([1, 2], 1)
    np.testing.assert_array_equal(x.fliplr().numpy(), np.fliplr(data))
    np.testing.assert_array_equal(x.flipud().numpy(), np.flipud(data))
    with pytest.raises(ValueError, match=r"at least 2 dims"):
        ac.ones(3).fliplr()
    np.testing.assert_array_equal(x.fix().numpy(), np.trunc(data))
    np.testing.assert_array_equal(x.diag(1).numpy(), np.diag(data, 1))
    v, w = ac.tensor(data[0]), ac.tensor(data[1])
    np.testing.assert_allclose(v.dot(w).numpy(), data[0] @ data[1])
    np.testing.assert_allclose(v.outer(w).numpy(), np.outer(data[0], data[1]))
    np.testing.assert_allclose(v.ger(w).numpy(), np.outer(data[0], data[1]))
    np.testing.assert_array_equal(x.argwhere().numpy(), np.argwhere(data))
    np.testing.assert_array_equal(x.H.numpy(), data.T)
    batch = ac.tensor(rng.standard_normal((2, 3, 4)))
    np.testing.assert_array_equal(batch.mH.numpy(), batch.numpy().swapaxes(-1, -2))
    np.testing.assert_array_equal(batch.adjoint().numpy(), batch.numpy().swapaxes(-1, -2))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        _ = batch.H
    assert x.isclose(x + 1e-9).numpy().all() and x.allclose(x + 1e-9)
    assert not x.allclose(x + 1e-3)
    assert x.is_same_size(ac.zeros(3, 4)) and not x.is_same_size(ac.zeros(4, 3))
    assert x.ndimension() == 2 and x.nelement() == 12


def test_type_flags_and_conversions() -> None:
    x = ac.zeros(2, dtype=ac.float32)
    assert x.type() == "auto_compyute.FloatTensor"
    assert x.long().type() == "auto_compyute.LongTensor"
    assert x.type("torch.DoubleTensor").dtype == ac.float64
    assert x.type("auto_compyute.ShortTensor").dtype == ac.int16
    assert x.type(ac.int8).dtype == ac.int8 and x.type(ac.float32) is x
    with pytest.raises(TypeError, match=r"unknown tensor type"):
        x.type("torch.ComplexTensor")
    assert (x.byte().dtype, x.char().dtype, x.short().dtype) == (ac.uint8, ac.int8, ac.int16)
    assert x.is_signed() and ac.zeros(1, dtype=ac.int8).is_signed()
    assert (
        not ac.zeros(1, dtype=ac.uint8).is_signed() and not ac.zeros(1, dtype=ac.bool_).is_signed()
    )
    assert not x.is_complex() and not x.is_conj() and not x.is_neg() and not x.is_inference()
    assert x.is_cpu and not x.is_cuda and x.get_device() == -1
    assert x.pin_memory() is x and not x.is_pinned()


def test_memory_addresses() -> None:
    base = np.arange(12.0).reshape(3, 4)
    x = ac.from_numpy(base)
    assert x.data_ptr() == base.ctypes.data == x.const_data_ptr()
    assert x.storage_offset() == 0
    assert x[1].storage_offset() == 4 and x[1:, 2:].storage_offset() == 6
    assert x[1][1:].storage_offset() == 5
    assert x[1].data_ptr() == x.data_ptr() + 4 * 8
    assert x.t()[2].storage_offset() == 2


def test_apply_map_and_new() -> None:
    x = ac.tensor([1.0, 2.0, 3.0])
    assert x.apply_(lambda v: v * 10 + 1) is x
    np.testing.assert_array_equal(x.numpy(), [11.0, 21.0, 31.0])
    x.map_(ac.tensor([1.0]), lambda a, b: a - b)
    np.testing.assert_array_equal(x.numpy(), [10.0, 20.0, 30.0])
    with pytest.raises(ValueError, match=r"\(2,\) does not broadcast to \(3,\)"):
        x.map_(ac.ones(2), lambda a, b: a)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad"):
        ac.ones(2, req_grad=True).apply_(abs)
    ints = ac.tensor([1, 2], dtype=ac.int16)
    assert ints.new().shape == (0,) and ints.new().dtype == ac.int16
    assert ints.new(2, 3).shape == (2, 3) and ints.new(2, 3).dtype == ac.int16
    copied = ints.new([5, 6])
    assert copied.dtype == ac.int16 and copied.tolist() == [5, 6]


def test_retains_grad() -> None:
    leaf = ac.ones(2, req_grad=True)
    middle = leaf * 2
    assert not leaf.retains_grad and not middle.retains_grad
    middle.retain_grad()
    assert middle.retains_grad and not (middle * 1).retains_grad


def test_post_accumulate_grad_hook() -> None:
    w = ac.ones(3, req_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.copy()))
    w.register_hook(lambda g: g * 10)  # runs before the grad is accumulated
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], 20.0)
    np.testing.assert_array_equal(seen[1], 50.0)  # after accumulating the second one
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match=r"leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        ac.ones(2).register_post_accumulate_grad_hook(print)
    # an optimizer step per parameter, in backward, as the hook is meant for
    p = ac.ones(2, req_grad=True)

    def step(t: ac.Tensor) -> None:
        with ac.no_grad():
            t.sub_(ac.tensor(t.grad) * 0.5)
        t.grad = None

    p.register_post_accumulate_grad_hook(step)
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.numpy(), [0.0, 0.0])
    assert p.grad is None


def test_cholesky_solve_inverse_qr_and_hardshrink(rng: np.random.Generator) -> None:
    a = rng.standard_normal((3, 3))
    spd = a @ a.T + 3 * np.eye(3)
    lower = np.linalg.cholesky(spd)
    b = ac.tensor(rng.standard_normal((3, 2)), req_grad=True)
    factor = ac.tensor(lower, req_grad=True)
    np.testing.assert_allclose(
        b.cholesky_solve(factor).numpy(), np.linalg.solve(spd, b.numpy()), rtol=1e-10
    )
    np.testing.assert_allclose(
        b.cholesky_solve(factor.mT, upper=True).numpy(), np.linalg.solve(spd, b.numpy())
    )
    np.testing.assert_allclose(factor.cholesky_inverse().numpy(), np.linalg.inv(spd), rtol=1e-10)
    np.testing.assert_allclose(factor.mT.cholesky_inverse(upper=True).numpy(), np.linalg.inv(spd))
    assert ac.autograd.gradcheck(lambda x, f: x.cholesky_solve(f.tril()), [b, factor])
    q, r = b.qr()
    assert q.shape == (3, 2) and r.shape == (2, 2)
    np.testing.assert_allclose((q @ r).numpy(), b.numpy(), atol=1e-12)
    assert b.qr(some=False).Q.shape == (3, 3)
    x = ac.tensor([-1.0, -0.3, 0.2, 0.7], dtype=ac.float64, req_grad=True)
    np.testing.assert_array_equal(x.hardshrink().numpy(), [-1.0, 0.0, 0.0, 0.7])
    assert ac.autograd.gradcheck(lambda t: t.hardshrink(0.25), [x])


def test_map2_and_nonzero_static() -> None:
    x = ac.tensor([1.0, 2.0])
    x.map2_(ac.tensor([10.0]), ac.tensor([[1.0], [2.0]])[0], lambda s, a, b: s * a + b)
    np.testing.assert_array_equal(x.numpy(), [11.0, 21.0])
    flags = ac.tensor([[0, 1], [2, 0]])
    np.testing.assert_array_equal(flags.nonzero_static(size=3).numpy(), [[0, 1], [1, 0], [-1, -1]])
    np.testing.assert_array_equal(flags.nonzero_static(size=1, fill_value=9).numpy(), [[0, 1]])
