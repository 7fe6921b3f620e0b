"""Tensor methods against PyTorch: in-place twins, views and scatters (values and
gradients), and the misc methods with deterministic results."""

import numpy as np
import pytest
from test_tensor_methods import BINARY_TWINS, UNARY_TWINS

import auto_compyute as ac

pytestmark = [
    pytest.mark.parity,
    # NOTE: PyTorch marks index_reduce as beta and says so once
    pytest.mark.filterwarnings(r"ignore:index_reduce\(\) is in beta"),
    pytest.mark.filterwarnings("ignore:torch.qr is deprecated"),
]
torch = pytest.importorskip("torch")


def _pair(array: np.ndarray, req_grad: bool = False):
    return ac.tensor(array, req_grad=req_grad), torch.tensor(array, requires_grad=req_grad)


def _close(ours: ac.Tensor, theirs, exact: bool = False) -> None:
    expected = theirs.detach().numpy()
    assert ours.shape == tuple(expected.shape)
    assert ours.dtype == expected.dtype
    if exact:
        np.testing.assert_array_equal(ours.numpy(), expected)
    else:
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-6)


# name, args, kwargs; argument names are made below
TWINS = [
    *((name, (), {}) for name in (*UNARY_TWINS, "logical_not")),
    ("logit", (0.2,), {}),
    ("triu", (-1,), {}),
    ("cumsum", (1,), {}),
    ("cumprod", (0,), {}),
    ("clamp_min", (0.4,), {}),
    ("clamp_max", (0.4,), {}),
    ("renorm", (2, 0, 1.0), {}),
    ("pow", (2.5,), {}),
    ("lerp", ("other", 0.3), {}),
    ("lerp", ("other", "other"), {}),
    ("addcmul", ("other", "row"), {"value": 2.0}),
    ("addcdiv", ("other", "row"), {"value": 0.5}),
    ("addmm", ("tall", "wide"), {"beta": 0.5, "alpha": 2.0}),
    *((name, ("other",), {}) for name in BINARY_TWINS),
    ("masked_fill", ("mask", 0.5), {}),
    ("masked_scatter", ("mask", "other"), {}),
    ("index_fill", (1, "index", -1.0), {}),
    ("index_copy", (1, "index", "columns"), {}),
    ("index_add", (1, "index", "columns"), {"alpha": 2.0}),
    ("scatter", (0, "scatter_index", "other"), {}),
    ("scatter", (0, "scatter_index", 2.0), {}),
    ("scatter_add", (0, "scatter_index", "other"), {}),
    ("scatter_reduce", (0, "scatter_index", "other", "amax"), {}),
    ("scatter_reduce", (0, "scatter_index", "other", "mean"), {"include_self": False}),
    ("index_reduce", (1, "index", "columns", "prod"), {}),
    ("index_reduce", (1, "index", "columns", "amin"), {"include_self": False}),
    ("put", ("flat_index", "four"), {}),
    ("put", ("flat_index", "four"), {"accumulate": True}),
]


def _arguments(args, kwargs, rng: np.random.Generator):
    arrays = {
        "other": lambda: rng.uniform(0.1, 0.9, (3, 3)).astype(np.float32),
        "row": lambda: rng.uniform(0.1, 0.9, (3,)).astype(np.float32),
        "tall": lambda: rng.uniform(0.1, 0.9, (3, 2)).astype(np.float32),
        "wide": lambda: rng.uniform(0.1, 0.9, (2, 3)).astype(np.float32),
        "mask": lambda: rng.random((3, 3)) < 0.5,
        "index": lambda: np.array([2, 0]),
        "columns": lambda: rng.uniform(0.1, 0.9, (3, 2)).astype(np.float32),
        "scatter_index": lambda: np.array([[2, 0, 1], [0, 1, 2]]),
        "flat_index": lambda: np.array([0, 5, -1, 5]),
        "four": lambda: rng.uniform(0.1, 0.9, (4,)).astype(np.float32),
    }
    ours, theirs = [], []
    for arg in args:
        if isinstance(arg, str) and arg in arrays:
            array = arrays[arg]()
            ours.append(ac.tensor(array))
            theirs.append(torch.tensor(array))
        else:
            ours.append(arg)
            theirs.append(arg)
    return ours, theirs


@pytest.mark.parametrize(("name", "args", "kwargs"), TWINS, ids=lambda v: str(v))
def test_inplace_twins_match_pytorch(name: str, args: tuple, kwargs: dict) -> None:
    rng = np.random.default_rng(0)
    data = rng.uniform(0.1, 0.9, (3, 3)).astype(np.float32)
    data[0, 0] = 0.5  # a half, for round
    x, tx = _pair(data)
    ours, theirs = _arguments(args, kwargs, rng)
    getattr(x, f"{name}_")(*ours, **kwargs)
    getattr(tx, f"{name}_")(*theirs, **kwargs)
    if name == "put" and not kwargs:  # which of the repeated index 5 lands is unspecified
        data_mask = np.ones((3, 3), dtype=bool)
        data_mask[1, 2] = False
        np.testing.assert_allclose(x.numpy()[data_mask], tx.numpy()[data_mask], rtol=1e-6)
        return
    _close(x, tx)


def test_integer_inplace_twins_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    a_np = rng.integers(-8, 8, (3, 4)).astype(np.int32)
    b_np = rng.integers(1, 4, (4,)).astype(np.int32)
    for name in [
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_left_shift",
        "bitwise_right_shift",
        "eq",
        "lt",
        "floor_divide",
        "remainder",
        "fmod",
        "multiply",
        "subtract",
    ]:
        a, ta = _pair(a_np)
        getattr(a, f"{name}_")(ac.tensor(b_np))
        getattr(ta, f"{name}_")(torch.tensor(b_np))
        _close(a, ta, exact=True)
    for name in ("abs", "neg", "bitwise_not", "sign", "square"):
        a, ta = _pair(a_np)
        getattr(a, f"{name}_")()
        getattr(ta, f"{name}_")()
        _close(a, ta, exact=True)
    _close(ac.tensor(a_np).bitwise_left_shift(2), torch.tensor(a_np).bitwise_left_shift(2), True)


def test_shape_changing_twins_match_pytorch() -> None:
    data = np.random.default_rng(0).random((3, 1, 4)).astype(np.float32)
    for name, args in [
        ("squeeze", (1,)),
        ("squeeze", ()),
        ("unsqueeze", (-1,)),
        ("transpose", (0, 2)),
        ("swapaxes", (0, 1)),
        ("swapdims", (1, 2)),
    ]:
        x, tx = _pair(data)
        getattr(x, f"{name}_")(*args)
        getattr(tx, f"{name}_")(*args)
        _close(x, tx, exact=True)
    x, tx = _pair(data[:, 0])
    _close(x.t_(), tx.t_(), exact=True)


def test_inplace_errors_are_runtime_errors_as_in_pytorch() -> None:
    for make, call in [
        (lambda m: m.ones(3), lambda t, m: t.multiply_(m.ones(2, 3))),
        (lambda m: m.arange(3), lambda t, m: t.sqrt_()),
        (lambda m: m.ones(3).requires_grad_(), lambda t, m: t.exp_()),
    ]:
        for module in (ac, torch):
            with pytest.raises(RuntimeError):
                call(make(module), module)


def test_unfold_matches_pytorch() -> None:
    data = np.random.default_rng(0).standard_normal((2, 7, 3)).astype(np.float32)
    for dim, size, step in ((1, 3, 1), (1, 2, 3), (-1, 2, 1), (0, 1, 1), (1, 7, 2)):
        x, tx = _pair(data, req_grad=True)
        out, tout = x.unfold(dim, size, step), tx.unfold(dim, size, step)
        _close(out, tout, exact=True)
        weights = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        (out * ac.tensor(weights)).sum().backward()
        (tout * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def _check_grads(fn, arrays) -> None:
    """Values and gradients of ``fn`` applied to ac and torch tensors of ``arrays``."""
    ours = [ac.tensor(a, req_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(ac, *ours), fn(torch, *theirs)
    _close(out, tout)
    weights = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * ac.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    for a, ta in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_view_scatters_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 4, 5)).astype(np.float32)

    def src(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    _check_grads(lambda m, a, s: a.select_scatter(s, 1, -1), [data, src(3, 5)])
    _check_grads(lambda m, a, s: a.select_scatter(s, 0, 2), [data, src(4, 5)])
    _check_grads(lambda m, a, s: a.slice_scatter(s, 2, 1, None, 2), [data, src(3, 4, 2)])
    _check_grads(lambda m, a, s: a.slice_scatter(s, 0, -2), [data, src(2, 4, 5)])
    for offset, dim1, dim2 in ((0, 0, 1), (1, 1, 2), (-2, 2, 1), (1, 0, 2), (2, 2, 0)):
        length = torch.tensor(data).diagonal(offset, dim1, dim2).shape
        _check_grads(
            lambda m, a, s, o=offset, d=dim1, e=dim2: a.diagonal_scatter(s, o, d, e),
            [data, src(*length)],
        )


def test_put_and_index_reduce_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 4)).astype(np.float32)
    source = rng.standard_normal(4).astype(np.float32)

    def index(m, values):
        return m.tensor(values)

    _check_grads(lambda m, a, s: a.put(index(m, [7, 0, -3, 11]), s), [data, source])
    _check_grads(
        lambda m, a, s: a.put(index(m, [[0, 5], [-1, 5]]), s, accumulate=True), [data, source]
    )
    columns = rng.standard_normal((3, 3)).astype(np.float32)
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            _check_grads(
                lambda m, a, s, r=reduce, i=include_self: a.index_reduce(
                    1, index(m, [1, 3, 1]), s, r, include_self=i
                ),
                [data, columns],
            )


def test_misc_methods_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 3, 4)).astype(np.float32)
    _check_grads(lambda m, a: a.sum_to_size(3, 1), [data])
    _check_grads(lambda m, a: a.sum_to_size(1, 3, 4), [data])
    x, tx = _pair(data)
    for ours, theirs in zip(
        x.split_with_sizes([1, 3], 2), tx.split_with_sizes([1, 3], 2), strict=True
    ):
        _close(ours, theirs, exact=True)
    _close(x.fliplr(), tx.fliplr(), exact=True)
    _close(x.flipud(), tx.flipud(), exact=True)
    _close(x.fix(), tx.fix(), exact=True)
    _close(x.mH, tx.mH, exact=True)
    _close(x.adjoint(), tx.adjoint(), exact=True)
    _close(x[0].H, tx[0].H, exact=True)
    _close(x[0, 0].diag(-1), tx[0, 0].diag(-1), exact=True)
    _close(x[0].diag(1), tx[0].diag(1), exact=True)
    _close(x[0, 0].outer(x[1, 0]), tx[0, 0].outer(tx[1, 0]))
    _close(x[0, 0].ger(x[1, 0]), tx[0, 0].ger(tx[1, 0]))
    _close(x[0, 0].dot(x[1, 0]), tx[0, 0].dot(tx[1, 0]))
    _close(x.argwhere(), tx.argwhere(), exact=True)
    assert x.isclose(x * 1.000001).tolist() == tx.isclose(tx * 1.000001).tolist()
    assert x.allclose(x + 1e-3) == tx.allclose(tx + 1e-3)
    for name in ("ndimension", "nelement", "is_complex", "is_conj", "is_neg", "is_inference"):
        assert getattr(x, name)() == getattr(tx, name)()
    assert (x.is_cpu, x.is_cuda, x.get_device()) == (tx.is_cpu, tx.is_cuda, tx.get_device())
    for dtype in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8"):
        ours, theirs = ac.zeros(1, dtype=dtype), torch.zeros(1, dtype=getattr(torch, dtype))
        assert ours.is_signed() == theirs.is_signed()
        assert ours.type().split(".")[-1] == theirs.type().split(".")[-1]
    assert ac.zeros(1, dtype=ac.bool_).type() == "auto_compyute.BoolTensor"
    _close(x.byte(), tx.byte(), exact=True)
    _close(x.char(), tx.char(), exact=True)
    _close(x.short(), tx.short(), exact=True)


def test_fill_diagonal_storage_offset_and_resize_match_pytorch() -> None:
    for shape, wrap in (((7, 3), True), ((7, 3), False), ((3, 5), True), ((4, 4, 4), False)):
        _close(
            ac.zeros(*shape).fill_diagonal_(2.0, wrap=wrap),
            torch.zeros(*shape).fill_diagonal_(2.0, wrap=wrap),
            exact=True,
        )
    data = np.arange(24.0, dtype=np.float32).reshape(4, 6)
    x, tx = ac.from_numpy(data), torch.from_numpy(data)
    for view in (
        lambda t: t[1],
        lambda t: t[1:, 2:],
        lambda t: t[2][3:],
        lambda t: t.t()[4],
        lambda t: t[:, 5],
    ):
        assert view(x).storage_offset() == view(tx).storage_offset()
    x, tx = _pair(data)
    _close(x.resize_(3, 8), tx.resize_(3, 8), exact=True)
    _close(x.resize_(5), tx.resize_(5), exact=True)
    x, tx = _pair(data)
    assert x.new(2, 3).shape == tuple(tx.new(2, 3).shape)
    _close(x.new([1, 2]), tx.new([1, 2]), exact=True)
    _close(x.new(), tx.new(), exact=True)


def test_post_accumulate_grad_hook_matches_pytorch() -> None:
    seen: dict[str, list] = {"ac": [], "torch": []}
    for module, key in ((ac, "ac"), (torch, "torch")):
        w = module.ones(3).requires_grad_()
        w.register_post_accumulate_grad_hook(
            lambda t, k=key: seen[k].append(np.asarray(t.grad.tolist()))
        )
        w.register_hook(lambda g: g * 10)
        (w * 2).sum().backward()
        (w * w).sum().backward()
    for ours, theirs in zip(seen["ac"], seen["torch"], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert len(seen["ac"]) == 2


def test_linalg_methods_and_hardshrink_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    lower = np.linalg.cholesky(a @ a.T + 3 * np.eye(3)).astype(np.float32)
    b = rng.standard_normal((3, 2)).astype(np.float32)
    _check_grads(lambda m, x, f: x.cholesky_solve(f.tril()), [b, lower])
    _check_grads(lambda m, x, f: x.cholesky_solve(f.triu(), upper=True), [b, lower.T.copy()])
    _check_grads(lambda m, f: f.tril().cholesky_inverse(), [lower])
    _check_grads(lambda m, x: x.hardshrink(0.3), [b])
    x, tx = _pair(b)
    for ours, theirs in zip(x.qr(), tx.qr(), strict=True):
        _close(ours, theirs)
    flags = np.array([[0, 1], [2, 0]])
    for size in (1, 4):
        _close(
            ac.tensor(flags).nonzero_static(size=size),
            torch.tensor(flags).nonzero_static(size=size),
            exact=True,
        )
    s, ts = _pair(np.array([1.0, 2.0], dtype=np.float32))
    s.map2_(ac.tensor([3.0]), ac.tensor([1.0, 0.0]), lambda u, v, w: u * v + w)
    ts.map2_(torch.tensor([3.0]), torch.tensor([1.0, 0.0]), lambda u, v, w: u * v + w)
    _close(s, ts, exact=True)


@pytest.mark.parametrize(
    "key",
    [
        (0, slice(None), [0, 3]),
        ([0, 1], Ellipsis, 0),
        (0, None, [0, 2], slice(None)),
        (slice(None), 1, [0, 3]),
        ([[0], [1]], slice(None), 1),
        (1, [True, False, True], [0, 1]),
        (-1, slice(None), [1, 1, 2]),
    ],
    ids=str,
)
def test_integers_mixed_with_index_arrays_match_pytorch(key) -> None:
    data = np.arange(24.0).reshape(2, 3, 4)
    x, x_torch = _pair(data, req_grad=True)
    torch_key = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
    result, expected = x[key], x_torch[torch_key]
    np.testing.assert_array_equal(result.numpy(), expected.detach().numpy())
    (result * result).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_array_equal(x.grad, x_torch.grad.numpy())
    written, written_torch = ac.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    values = np.arange(expected.numel(), dtype=np.float32).reshape(expected.shape)
    written[key], written_torch[torch_key] = ac.tensor(values), torch.tensor(values)
    np.testing.assert_array_equal(written.numpy(), written_torch.numpy())
