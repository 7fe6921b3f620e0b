"""Every op's forward and gradients against PyTorch (float32, CPU)."""

import numpy as np
import pytest
from op_cases import CASES, Case

import auto_compyute as ac

pytestmark = [
    pytest.mark.parity,
    # NOTE: PyTorch marks index_reduce as beta and says so once
    pytest.mark.filterwarnings(r"ignore:index_reduce\(\) is in beta"),
]
torch = pytest.importorskip("torch")


@pytest.mark.parametrize("case", [c for c in CASES if c.torch is not None], ids=lambda c: c.name)
def test_op_matches_pytorch(case: Case) -> None:
    rng = np.random.default_rng(1)
    arrays = [a.astype(np.float32) for a in case.inputs(rng)]
    differentiable = [i not in case.constant for i in range(len(arrays))]
    ours = [ac.tensor(a, req_grad=d) for a, d in zip(arrays, differentiable, strict=False)]
    theirs = [
        torch.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable, strict=False)
    ]

    out, expected = case.ours(*ours), case.torch(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)

    cotangent = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if differentiable[i]:
            np.testing.assert_allclose(
                a.grad, b.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=f"input {i}"
            )


def test_seed_expression_matches_pytorch() -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    x1, x2, x3 = (ac.tensor(a, req_grad=True) for a in arrays)
    t1, t2, t3 = (torch.tensor(a, requires_grad=True) for a in arrays)
    y = x1**2 + 4 * x2 + x3 + 10
    z = t1**2 + 4 * t2 + t3 + 10
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    z.sum().backward()
    for ours, theirs in ((x1, t1), (x2, t2), (x3, t3)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-6)


def test_dtype_promotion_matches_pytorch() -> None:
    values = {
        "f32": (ac.ones(2), torch.ones(2)),
        "f64": (ac.ones(2, dtype=ac.float64), torch.ones(2, dtype=torch.float64)),
        "i64": (ac.tensor([1, 2]), torch.tensor([1, 2])),
        "i32": (ac.tensor([1, 2], dtype=ac.int32), torch.tensor([1, 2], dtype=torch.int32)),
        "u8": (ac.tensor([1, 2], dtype=ac.uint8), torch.tensor([1, 2], dtype=torch.uint8)),
        "bool": (ac.tensor([True, False]), torch.tensor([True, False])),
    }
    operands = [*values.values(), (2, 2), (2.5, 2.5), (True, True)]
    for a_ours, a_torch in values.values():
        for b_ours, b_torch in operands:
            for op in (lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b):
                ours, theirs = op(a_ours, b_ours), op(a_torch, b_torch)
                assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (a_ours, b_ours)


def test_sort_and_topk_indices_match_pytorch() -> None:
    values = np.random.default_rng(2).integers(0, 4, (5, 7))  # many ties
    ours, theirs = ac.tensor(values), torch.tensor(values)
    for dim in (0, 1):
        for descending in (False, True):
            expected = theirs.sort(dim=dim, descending=descending, stable=True)
            result = ours.sort(dim=dim, descending=descending)
            assert result.indices.tolist() == expected.indices.tolist(), (dim, descending)
            assert result.values.tolist() == expected.values.tolist(), (dim, descending)
    floats = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32)
    for largest in (True, False):
        expected = torch.tensor(floats).topk(3, dim=1, largest=largest)
        result = ac.tensor(floats).topk(3, dim=1, largest=largest)
        assert result.indices.tolist() == expected.indices.tolist()
        np.testing.assert_array_equal(result.values.numpy(), expected.values.numpy())


def test_max_min_with_ties_match_pytorch() -> None:
    values = np.random.default_rng(4).integers(0, 3, (4, 6)).astype(np.float32)
    for method in ("max", "min"):
        for dim in (0, 1):
            ours = ac.tensor(values, req_grad=True)
            theirs = torch.tensor(values, requires_grad=True)
            result, expected = getattr(ours, method)(dim), getattr(theirs, method)(dim)
            assert result.indices.tolist() == expected.indices.tolist(), (method, dim)
            result.values.sum().backward()
            expected.values.sum().backward()
            np.testing.assert_array_equal(ours.grad, theirs.grad.numpy(), err_msg=method)
        ours, theirs = ac.tensor(values, req_grad=True), torch.tensor(values, requires_grad=True)
        getattr(ours, method)().backward()
        getattr(theirs, method)().backward()
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy(), err_msg=method)


def test_tensor_hooks_and_retain_grad_match_pytorch() -> None:
    values = np.random.default_rng(5).standard_normal((3, 4))
    results = []
    for x in (ac.tensor(values, req_grad=True), torch.tensor(values, requires_grad=True)):
        h = (x * 2).tanh()
        h.retain_grad()
        h.register_hook(lambda g: g.clamp(-0.5, 0.5))
        x.register_hook(lambda g: g * 2)
        ((h * h).sum() + h.sum()).backward()
        results.append([np.asarray(h.grad), np.asarray(x.grad)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_tensor_hooks_run_under_autograd_grad_as_in_pytorch() -> None:
    values = np.random.default_rng(7).standard_normal((3, 4))
    for create_graph in (False, True):
        results = []
        for lib, x in ((ac, ac.tensor(values, req_grad=True)), (torch, None)):
            x = x if x is not None else torch.tensor(values, requires_grad=True)
            seen = []
            h = (x * 2).tanh()
            h.retain_grad()
            h.register_hook(lambda g, seen=seen: seen.append(np.asarray(g.detach())) or g * 3)
            x.register_hook(lambda g: g + 1)
            y = (h * h).sum() + h.sum()
            grad_x = lib.autograd.grad(y, x, retain_graph=True, create_graph=create_graph)[0]
            grad_h = lib.autograd.grad(y, h, retain_graph=True)[0]  # after h's hook
            values_x = np.asarray(grad_x.detach())
            kept = h.grad if isinstance(h.grad, np.ndarray) else h.grad.detach().numpy()
            results.append([*seen, values_x, np.asarray(grad_h), kept])
            if create_graph:  # the hooks' ops are part of the recorded gradient
                results[-1].append(np.asarray(lib.autograd.grad(grad_x.sum(), x)[0]))
        for ours, theirs in zip(*results, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_special_values_and_integer_division_match_pytorch() -> None:
    values = np.array([1.5, np.nan, np.inf, -np.inf], dtype=np.float32)
    ours, theirs = ac.tensor(values, req_grad=True), torch.tensor(values, requires_grad=True)
    ours.nan_to_num().sum().backward()
    theirs.nan_to_num().sum().backward()
    np.testing.assert_array_equal(ours.nan_to_num().numpy(), theirs.nan_to_num().detach().numpy())
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())
    a, b = np.array([5, -5, 7, -7, 0]), np.array([3, 3, -2, -2, 4])
    for op in (lambda x, y: x % y, lambda x, y: x.fmod(y), lambda x, y: x // y):
        result, expected = op(ac.tensor(a), ac.tensor(b)), op(torch.tensor(a), torch.tensor(b))
        assert result.tolist() == expected.tolist()
        assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")


def test_running_extremes_and_index_factories_match_pytorch() -> None:
    values = np.random.default_rng(6).integers(0, 3, (4, 7)).astype(np.float32)  # many ties
    for method in ("cummax", "cummin"):
        for dim in (0, 1):
            result = getattr(ac.tensor(values), method)(dim)
            expected = getattr(torch.tensor(values), method)(dim)
            assert result.indices.tolist() == expected.indices.tolist(), (method, dim)
            assert result.values.tolist() == expected.values.tolist(), (method, dim)
    for row, col, offset in ((3, 4, 1), (4, 3, -2), (2, 2, 0)):
        assert (
            ac.tril_indices(row, col, offset).tolist()
            == torch.tril_indices(row, col, offset).tolist()
        )
        assert (
            ac.triu_indices(row, col, offset).tolist()
            == torch.triu_indices(row, col, offset).tolist()
        )
    np.testing.assert_allclose(
        ac.logspace(-1, 2, 5, base=3).numpy(), torch.logspace(-1, 2, 5, base=3).numpy(), rtol=1e-6
    )


def test_gradient_penalty_and_hessian_match_pytorch() -> None:
    rng = np.random.default_rng(8)
    weights = [rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal((6, 1))]
    inputs = rng.standard_normal((5, 4))
    results = []
    for lib, make, grad in (
        (ac, lambda a: ac.tensor(a, dtype=ac.float64, req_grad=True), ac.autograd.grad),
        (torch, lambda a: torch.tensor(a, requires_grad=True), torch.autograd.grad),
    ):
        w1, b1, w2 = (make(w) for w in weights)
        x = make(inputs)
        score = ((x @ w1 + b1).tanh() @ w2).sum()
        (by_x,) = grad(score, x, create_graph=True)
        penalty = (((by_x * by_x).sum(dim=1).sqrt() - 1) ** 2).mean()
        penalty.backward()
        # the Hessian-vector product of a scalar function of one vector
        v = make(inputs[0])
        (first,) = grad((v.exp() * v.sin()).sum() + (v * v).softmax(dim=0)[0], v, create_graph=True)
        (hvp,) = grad((first * lib.arange(4, dtype=first.dtype)).sum(), v)
        results.append([np.asarray(t.grad) for t in (w1, b1, w2, x)] + [np.asarray(hvp)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_second_derivatives_of_reductions_powers_einsum_and_matmul_match_pytorch() -> None:
    rng = np.random.default_rng(11)
    arrays = [rng.uniform(0.5, 1.5, (3, 4)), rng.uniform(-1.0, 1.0, (3, 4))]
    vector = rng.standard_normal((3, 4))
    results = []
    for lib, make, grad in (
        (ac, lambda a: ac.tensor(a, dtype=ac.float64, req_grad=True), ac.autograd.grad),
        (torch, lambda a: torch.tensor(a, requires_grad=True), torch.autograd.grad),
    ):
        a, b = (make(x) for x in arrays)
        y = (
            (a.var(dim=1, keepdim=True) * b.std(dim=0, keepdim=True)).sum()
            + (a * b).norm(dim=0).sum()
            + a.prod(dim=1).sum() * b.prod()
            + (a**b).sum()
            + lib.einsum("ij,kj->ik", a, b * b).sin().sum()
            + ((a @ b[0]).tanh() @ a.cumprod(dim=0)).sum()
        )
        first = grad(y, [a, b], create_graph=True)
        v = lib.tensor(vector, dtype=first[0].dtype)
        hvp = grad((first[0] * v).sum() + (first[1] * v * v).sum(), [a, b])
        results.append([np.asarray(t.detach()) for t in (*first, *hvp)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("include_self", [True, False])
def test_second_derivatives_of_scatter_reduce_and_logcumsumexp_match_pytorch(
    include_self: bool,
) -> None:
    rng = np.random.default_rng(12)
    arrays = [rng.uniform(-1.5, 1.5, (3, 4)), rng.uniform(0.5, 1.5, (3, 4))]
    arrays[0][0, 0] = arrays[1][1, 3] = arrays[1][2, 1] = 0.0  # one zero factor at a place
    index = np.array([[0, 1, 0, 3], [2, 2, 2, 0], [1, 3, 1, 1]])
    vector = rng.standard_normal((3, 4))
    results = []
    for lib, make, grad in (
        (ac, lambda a: ac.tensor(a, dtype=ac.float64, req_grad=True), ac.autograd.grad),
        (torch, lambda a: torch.tensor(a, requires_grad=True), torch.autograd.grad),
    ):
        a, b = (make(x) for x in arrays)
        at = lib.tensor(index)
        # NOTE: logcumsumexp's cotangent b + 1 has no zeros: PyTorch's second derivative
        # is NaN there (the derivative of log |g| at 0), ours is finite
        y = (a * 3).logcumsumexp(1) * (b + 1) + (a * b).logcumsumexp(0).sin()
        for reduce in ("sum", "mean", "amax", "amin", "prod"):
            y = y + a.scatter_reduce(1, at, b * a + 1, reduce, include_self=include_self).sin()
        y = y + a.scatter_reduce(1, at, b, "prod", include_self=include_self) * a
        first = grad(y.sum(), [a, b], create_graph=True)
        v = lib.tensor(vector, dtype=first[0].dtype)
        hvp = grad((first[0] * v).sum() + (first[1] * v * v).sum(), [a, b])
        results.append([np.asarray(t.detach()) for t in (*first, *hvp)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_argsort_unique_and_count_nonzero_match_pytorch() -> None:
    values = np.random.default_rng(6).integers(0, 4, (5, 7))  # many ties
    ours, theirs = ac.tensor(values), torch.tensor(values)
    for dim in (0, 1):
        for descending in (False, True):
            expected = theirs.argsort(dim=dim, descending=descending, stable=True)
            assert ours.argsort(dim, descending).tolist() == expected.tolist(), (dim, descending)
    result = ours.unique(return_inverse=True, return_counts=True)
    expected = theirs.unique(return_inverse=True, return_counts=True)
    for a, b in zip(result, expected, strict=True):
        assert a.tolist() == b.tolist() and a.shape == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
    for dim in (None, 0, (0, 1)):
        assert ours.count_nonzero(dim).tolist() == theirs.count_nonzero(dim).tolist()


def test_median_and_kthvalue_match_pytorch() -> None:
    rng = np.random.default_rng(7)
    for shape in ((4, 6), (5, 3)):  # even and odd counts along both dims
        values = rng.standard_normal(shape).astype(np.float32)
        ours, theirs = ac.tensor(values), torch.tensor(values)
        assert ours.median().item() == theirs.median().item()
        for dim in (0, 1, -1):
            result, expected = ours.median(dim), theirs.median(dim)
            assert result.values.tolist() == expected.values.tolist(), (shape, dim)
            assert result.indices.tolist() == expected.indices.tolist(), (shape, dim)
            for k in range(1, shape[dim] + 1):
                result, expected = ours.kthvalue(k, dim, True), theirs.kthvalue(k, dim, True)
                assert result.values.tolist() == expected.values.tolist(), (shape, dim, k)
                assert result.indices.tolist() == expected.indices.tolist(), (shape, dim, k)
    nan = float("nan")
    values = np.array([[1.0, nan, 2.0, nan], [3.0, 1.0, 2.0, 0.0]], dtype=np.float32)
    ours, theirs = ac.tensor(values), torch.tensor(values)
    assert np.isnan(ours.median().item()) and np.isnan(theirs.median().item())
    result, expected = ours.median(1), theirs.median(1)
    assert result.indices.tolist() == expected.indices.tolist() == [1, 1]
    np.testing.assert_array_equal(result.values.numpy(), expected.values.numpy())
    for k in (2, 4):  # kthvalue sorts NaN last instead
        result, expected = ours.kthvalue(k, 1), theirs.kthvalue(k, 1)
        assert result.indices.tolist() == expected.indices.tolist(), k
        np.testing.assert_array_equal(result.values.numpy(), expected.values.numpy())
    ties = ac.tensor([[1.0, 0.0, 1.0, 0.0]])
    assert (
        ties.median(1).values.tolist()
        == torch.tensor([[1.0, 0.0, 1.0, 0.0]]).median(1).values.tolist()
    )


def test_searchsorted_and_bucketize_match_pytorch() -> None:
    rng = np.random.default_rng(8)
    rows = np.sort(rng.integers(0, 10, (3, 6)), axis=1)
    values = rng.integers(-1, 11, (3, 4))
    for right in (False, True):
        result = ac.searchsorted(ac.tensor(rows), ac.tensor(values), right=right)
        expected = torch.searchsorted(torch.tensor(rows), torch.tensor(values), right=right)
        assert result.tolist() == expected.tolist(), right
        result = ac.bucketize(ac.tensor(values), ac.tensor(rows[0]), right=right)
        expected = torch.bucketize(torch.tensor(values), torch.tensor(rows[0]), right=right)
        assert result.tolist() == expected.tolist() and result.dtype == ac.int64, right


def test_new_tensors_and_strides_match_pytorch() -> None:
    ours, theirs = ac.zeros(2, 3, 4, dtype=ac.float64), torch.zeros(2, 3, 4, dtype=torch.float64)
    assert ours.permute(2, 0, 1).stride() == theirs.permute(2, 0, 1).stride()
    assert ours.nbytes == theirs.nbytes and ours.element_size() == theirs.element_size()
    assert str(ours.new_tensor([1, 2]).dtype) == str(theirs.new_tensor([1, 2]).dtype).removeprefix(
        "torch."
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_at_huge_and_infinite_inputs_matches_pytorch(name: str, dtype) -> None:
    huge, inf = np.finfo(dtype).max / 2, np.inf
    pairs = [(huge, huge), (-huge, -huge), (huge, -huge), (inf, inf), (-inf, -inf)]
    pairs += [(inf, 1.0), (1.0, inf), (-inf, 1.0), (1.0, -inf), (inf, -inf), (np.nan, 1.0)]
    pairs += [(0.0, 0.0), (3.0, -2.0), (-90.0, 20.0)]
    a, b = (np.array(column, dtype) for column in zip(*pairs, strict=True))
    ours = [ac.tensor(a, req_grad=True), ac.tensor(b, req_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    with np.errstate(invalid="ignore", over="ignore"):
        out = getattr(ours[0], name)(ours[1])
    expected = getattr(theirs[0], name)(theirs[1])
    out.backward(np.ones_like(a))
    expected.backward(torch.ones_like(expected))
    tol = {"rtol": 1e-6 if dtype == np.float32 else 1e-15}
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
    for mine, torchs in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, torchs.grad.numpy(), **tol)


def test_hypot_gradients_at_subnormal_inputs_match_pytorch() -> None:
    a = np.array([0.0, 1e-40, 3e-39, 3.0], np.float32)
    b = np.array([1e-40, 1e-40, 4e-39, 4.0], np.float32)
    ours = [ac.tensor(a, req_grad=True), ac.tensor(b, req_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    ours[0].hypot(ours[1]).backward(np.ones(4, np.float32))
    theirs[0].hypot(theirs[1]).backward(torch.ones(4))
    for mine, torchs in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, torchs.grad.numpy(), rtol=1e-5)
