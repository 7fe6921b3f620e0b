"""ac.linalg against torch.linalg: values and gradients, in float32 and float64.

Eigenvectors and singular vectors are unique only up to sign, so their cases compare
quantities that do not depend on the signs (reconstructions, absolute values).
"""

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import auto_compyute as ac

pytestmark = [
    pytest.mark.parity,
    pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated:UserWarning"),
    pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim:UserWarning"),
]
torch = pytest.importorskip("torch")


class Case(NamedTuple):
    name: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    inputs: Callable[[np.random.Generator], list[np.ndarray]]


def _square(*batch: int, n: int = 3) -> Callable[[np.random.Generator], list[np.ndarray]]:
    """Well-conditioned square matrices (a multiple of the identity added)."""
    return lambda rng: [rng.standard_normal((*batch, n, n)) + n * np.eye(n)]


def _spd(n: int = 3) -> Callable[[np.random.Generator], list[np.ndarray]]:
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = rng.standard_normal((2, n, n))
        return [x @ x.swapaxes(-1, -2) + np.eye(n)]

    return make


def _normal(*shapes: tuple[int, ...]) -> Callable[[np.random.Generator], list[np.ndarray]]:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def _with(
    first: Callable[[np.random.Generator], list[np.ndarray]], *shapes: tuple[int, ...]
) -> Callable[[np.random.Generator], list[np.ndarray]]:
    return lambda rng: first(rng) + [rng.standard_normal(s) for s in shapes]


def _low_rank(
    shape: tuple[int, ...], rank: int
) -> Callable[[np.random.Generator], list[np.ndarray]]:
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        left = rng.standard_normal((*shape[:-1], rank))
        return [left @ rng.standard_normal((*shape[:-2], rank, shape[-1]))]

    return make


def _eigh_invariants(lib: Any, uplo: str) -> Callable[[Any], tuple[Any, ...]]:
    def fn(a: Any) -> tuple[Any, ...]:
        w, q = lib.linalg.eigh(a, UPLO=uplo)
        return w, (q * w.unsqueeze(-2) ** 2) @ q.mT, q.abs()

    return fn


def _svd_invariants(lib: Any, full: bool) -> Callable[[Any], tuple[Any, ...]]:
    def fn(a: Any) -> tuple[Any, ...]:
        u, s, vh = lib.linalg.svd(a, full_matrices=full)
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        return s, (u * s.unsqueeze(-2) ** 2) @ vh, u.abs(), vh.abs()

    return fn


def _torch_svd_invariants(lib: Any) -> Callable[[Any], tuple[Any, ...]]:
    def fn(a: Any) -> tuple[Any, ...]:
        u, s, v = lib.svd(a)
        return s, (u * s.unsqueeze(-2)) @ v.mT, u.abs(), v.abs()

    return fn


def _both(build: Callable[[Any], Callable[..., Any]]) -> tuple[Any, Any]:
    return build(ac), build(torch)


def _case(name: str, build: Callable[[Any], Callable[..., Any]], inputs: Any) -> Case:
    return Case(name, *_both(build), inputs)


INF = math.inf
CASES = [
    _case("inv", lambda lib: lib.linalg.inv, _square(2)),
    _case("inverse", lambda lib: lib.inverse, _square()),
    _case("det", lambda lib: lib.linalg.det, _square(2)),
    _case("det_method", lambda lib: lambda a: a.det(), _square()),
    _case("slogdet", lambda lib: lambda a: tuple(lib.linalg.slogdet(a)), _normal((2, 3, 3))),
    _case("slogdet_top", lambda lib: lambda a: tuple(lib.slogdet(a)), _square()),
    _case("logdet", lambda lib: lib.logdet, _spd()),
    _case("logdet_method", lambda lib: lambda a: a.logdet(), _spd()),
    _case("solve", lambda lib: lib.linalg.solve, _with(_square(2), (2, 3, 4))),
    _case("solve_vector", lambda lib: lib.linalg.solve, _with(_square(2), (2, 3))),
    _case("solve_broadcast", lambda lib: lib.linalg.solve, _with(_square(), (2, 3, 2))),
    _case(
        "solve_right",
        lambda lib: lambda a, b: lib.linalg.solve(a, b, left=False),
        _with(_square(2), (2, 4, 3)),
    ),
    *[
        _case(
            f"solve_triangular_{upper}_{left}_{unit}",
            lambda lib, upper=upper, left=left, unit=unit: (
                lambda a, b: lib.linalg.solve_triangular(
                    a, b, upper=upper, left=left, unitriangular=unit
                )
            ),
            _with(_square(2), (2, 3, 2) if left else (2, 2, 3)),
        )
        for upper in (True, False)
        for left in (True, False)
        for unit in (True, False)
    ],
    _case("cholesky", lambda lib: lib.linalg.cholesky, _spd()),
    _case("cholesky_upper", lambda lib: lambda a: lib.linalg.cholesky(a, upper=True), _spd()),
    _case("cholesky_top", lambda lib: lambda a: lib.cholesky(a, upper=True), _spd()),
    _case("cholesky_method", lambda lib: lambda a: a.cholesky(), _spd()),
    *[
        _case(f"qr_{shape}", lambda lib: lambda a: tuple(lib.linalg.qr(a)), _normal(shape))
        for shape in ((4, 3), (3, 3), (3, 4), (2, 5, 2))
    ],
    _case(
        "qr_complete", lambda lib: lambda a: tuple(lib.linalg.qr(a, "complete")), _normal((3, 4))
    ),
    _case("eigh", lambda lib: _eigh_invariants(lib, "L"), _spd(4)),
    _case("eigh_upper", lambda lib: _eigh_invariants(lib, "U"), _spd(4)),
    _case("eigvalsh", lambda lib: lib.linalg.eigvalsh, _spd(4)),
    *[
        _case(
            f"svd_{shape}_{full}", lambda lib, full=full: _svd_invariants(lib, full), _normal(shape)
        )
        for shape in ((5, 3), (3, 3), (3, 5), (2, 4, 3))
        for full in (True, False)
    ],
    _case("svdvals", lambda lib: lib.linalg.svdvals, _normal((2, 3, 5))),
    _case("torch_svd", _torch_svd_invariants, _normal((5, 3))),
    _case("pinv_tall", lambda lib: lib.linalg.pinv, _normal((2, 5, 3))),
    _case("pinv_wide", lambda lib: lib.linalg.pinv, _normal((3, 5))),
    _case("pinverse", lambda lib: lib.pinverse, _normal((5, 3))),
    _case("pinverse_method", lambda lib: lambda a: a.pinverse(), _normal((3, 4))),
    _case("pinv_hermitian", lambda lib: lambda a: lib.linalg.pinv(a, hermitian=True), _spd()),
    _case("pinv_rank_deficient", lambda lib: lib.linalg.pinv, _low_rank((2, 5, 4), 2)),
    _case(
        "pinv_hermitian_rank_deficient",
        lambda lib: lambda a: lib.linalg.pinv(a @ a.mT, hermitian=True),
        _low_rank((4, 4), 2),
    ),
    _case(
        "pinv_tolerances",
        lambda lib: lambda a: lib.linalg.pinv(a, atol=0.5, rtol=0.1),
        _normal((2, 4, 3)),
    ),
    _case(
        "lstsq",
        lambda lib: lambda a, b: lib.linalg.lstsq(a, b).solution,
        _normal((2, 5, 3), (2, 5, 2)),
    ),
    *[
        _case(
            f"matrix_power_{n}",
            lambda lib, n=n: lambda a: lib.linalg.matrix_power(a, n),
            _square(2),
        )
        for n in (0, 1, 2, 3, 5, -1, -2)
    ],
    _case("matrix_power_method", lambda lib: lambda a: a.matrix_power(3), _square()),
    _case("matrix_exp", lambda lib: lib.linalg.matrix_exp, _normal((2, 3, 3))),
    _case("matrix_exp_large", lambda lib: lambda a: lib.matrix_exp(a * 5), _normal((3, 3))),
    _case("matrix_exp_method", lambda lib: lambda a: a.matrix_exp(), _normal((4, 4))),
    *[
        _case(
            f"vector_norm_{ord}",
            lambda lib, ord=ord: (
                lambda x: (
                    lib.linalg.vector_norm(x, ord),
                    lib.linalg.vector_norm(x, ord, dim=(0, 2), keepdim=True),
                )
            ),
            _normal((2, 3, 4)),
        )
        for ord in (2, 1, 3, 0.5, 0, INF, -INF, -1)
    ],
    *[
        _case(
            f"matrix_norm_{ord}",
            lambda lib, ord=ord: (
                lambda x: (
                    lib.linalg.matrix_norm(x, ord),
                    lib.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True),
                    lib.linalg.norm(x[0], ord),
                )
            ),
            _normal((2, 3, 4)),
        )
        for ord in ("fro", "nuc", 2, -2, 1, -1, INF, -INF)
    ],
    _case(
        "norm",
        lambda lib: lambda x: (lib.linalg.norm(x), lib.linalg.norm(x, 3, dim=1)),
        _normal((2, 3, 4)),
    ),
    _case("cross", lambda lib: lib.linalg.cross, _normal((4, 3), (1, 3))),
    _case("cross_top", lambda lib: lib.cross, _normal((3, 4), (3, 4))),
    _case("cross_method", lambda lib: lambda a, b: a.cross(b, dim=0), _normal((3, 2), (3, 2))),
    _case(
        "multi_dot",
        lambda lib: lambda *m: lib.linalg.multi_dot(m),
        _normal((3,), (3, 5), (5, 2), (2, 6), (6,)),
    ),
    _case("vecdot", lambda lib: lib.linalg.vecdot, _normal((2, 3, 4), (3, 4))),
    _case(
        "diagonal",
        lambda lib: lambda a: lib.linalg.diagonal(a, offset=1, dim1=0, dim2=2),
        _normal((3, 2, 4)),
    ),
    *[
        _case(
            f"lu_factor_{shape}", lambda lib: lambda a: lib.linalg.lu_factor(a).LU, _normal(shape)
        )
        for shape in ((3, 3), (2, 4, 4), (5, 3), (3, 5))
    ],
    *[
        _case(f"lu_{shape}", lambda lib: lambda a: tuple(lib.linalg.lu(a)), _normal(shape))
        for shape in ((4, 4), (2, 5, 3), (3, 5))
    ],
    _case("lu_factor_ex", lambda lib: lambda a: lib.linalg.lu_factor_ex(a).LU, _normal((2, 3, 3))),
    *[
        _case(
            f"lu_solve_{left}_{adjoint}",
            lambda lib, left=left, adjoint=adjoint: (
                lambda a, b: lib.linalg.lu_solve(
                    *lib.linalg.lu_factor(a), b, left=left, adjoint=adjoint
                )
            ),
            _with(_square(2), (3, 1, 3, 2) if left else (3, 1, 2, 3)),
        )
        for left in (True, False)
        for adjoint in (True, False)
    ],
    _case("inv_ex", lambda lib: lambda a: lib.linalg.inv_ex(a).inverse, _square(2)),
    _case(
        "solve_ex",
        lambda lib: lambda a, b: lib.linalg.solve_ex(a, b).result,
        _with(_square(2), (2, 3)),
    ),
    _case(
        "solve_ex_right",
        lambda lib: lambda a, b: lib.linalg.solve_ex(a, b, left=False).result,
        _with(_square(2), (2, 4, 3)),
    ),
    _case("cholesky_ex", lambda lib: lambda a: lib.linalg.cholesky_ex(a).L, _spd()),
    _case(
        "cholesky_ex_upper", lambda lib: lambda a: lib.linalg.cholesky_ex(a, upper=True).L, _spd()
    ),
    *[
        _case(f"cond_{p}", lambda lib, p=p: lambda a: lib.linalg.cond(a, p), _square(2))
        for p in (None, 2, -2, "nuc")
    ],
    # NOTE: PyTorch's backward of cond fails for these orders (its inverse is filled in place
    # after it was saved), so the gradient is compared with that of what cond computes
    *[
        Case(
            f"cond_{p}",
            lambda a, p=p: ac.linalg.cond(a, p),
            lambda a, p=p: (
                torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(torch.linalg.inv(a), p)
            ),
            _square(2),
        )
        for p in ("fro", INF, -INF, 1, -1)
    ],
    _case("cond_wide", lambda lib: lib.linalg.cond, _normal((2, 3, 5))),
    _case(
        "tensorinv",
        lambda lib: lambda a: lib.linalg.tensorinv(a.reshape(2, 3, 3, 2), ind=2),
        _square(n=6),
    ),
    _case(
        "tensorsolve",
        lambda lib: lambda a, b: lib.linalg.tensorsolve(a.reshape(6, 2, 3), b, dims=(0,)),
        _with(_square(n=6), (2, 3)),
    ),
    _case("vander", lambda lib: lambda x: lib.linalg.vander(x, N=4), _normal((2, 3))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_linalg_matches_pytorch(case: Case, dtype: str) -> None:
    rng = np.random.default_rng(3)
    arrays = [a.astype(dtype) for a in case.inputs(rng)]
    ours = [ac.tensor(a, req_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    results, expected = case.ours(*ours), case.theirs(*theirs)
    if not isinstance(results, tuple):
        results, expected = (results,), (expected,)
    our_loss, their_loss = 0.0, 0.0
    for i, (result, reference) in enumerate(zip(results, expected, strict=True)):
        assert str(result.dtype) == dtype, case.name
        np.testing.assert_allclose(
            result.numpy(), reference.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=f"out {i}"
        )
        if reference.requires_grad:
            cotangent = rng.standard_normal(result.shape).astype(dtype)
            our_loss = our_loss + (result * ac.tensor(cotangent)).sum()
            their_loss = their_loss + (reference * torch.tensor(cotangent)).sum()
    our_loss.backward()  # type: ignore[union-attr]
    their_loss.backward()  # type: ignore[union-attr]
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        # NOTE: PyTorch leaves the gradient of an input it does not differentiate None (ord=0)
        reference = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        np.testing.assert_allclose(a.grad, reference, rtol=1e-4, atol=1e-4, err_msg=f"input {i}")


def test_matrix_rank_matches_pytorch() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 5, 2)) @ rng.standard_normal((3, 2, 4))  # rank 2
    a[1, :, 0] *= 1e-9  # a singular value near the cut-off
    for kwargs in ({}, {"atol": 1e-3}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 1e-3}):
        expected = torch.linalg.matrix_rank(torch.tensor(a), **kwargs)
        assert ac.linalg.matrix_rank(ac.tensor(a), **kwargs).tolist() == expected.tolist()
    sym = a @ a.swapaxes(-1, -2)
    expected = torch.linalg.matrix_rank(torch.tensor(sym), hermitian=True)
    assert ac.linalg.matrix_rank(ac.tensor(sym), hermitian=True).tolist() == expected.tolist()


def test_errors_are_raised_where_pytorch_raises() -> None:
    singular = np.ones((3, 3))
    with pytest.raises(RuntimeError):
        torch.linalg.inv(torch.tensor(singular))
    with pytest.raises(ac.linalg.LinAlgError):
        ac.linalg.inv(ac.tensor(singular))
    with pytest.raises(RuntimeError):
        torch.linalg.cholesky(-torch.eye(2))
    with pytest.raises(ac.linalg.LinAlgError):
        ac.linalg.cholesky(-ac.eye(2))


def test_lu_pivots_info_and_failures_match_pytorch() -> None:
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    rng = np.random.default_rng(5)
    for array in (
        np.stack([singular, rng.standard_normal((3, 3))]),
        rng.standard_normal((2, 5, 3)),
    ):
        ours, theirs = (
            ac.linalg.lu_factor_ex(ac.tensor(array)),
            torch.linalg.lu_factor_ex(torch.tensor(array)),
        )
        np.testing.assert_allclose(ours.LU.numpy(), theirs.LU.numpy(), atol=1e-12)
        for got, expected in ((ours.pivots, theirs.pivots), (ours.info, theirs.info)):
            assert got.dtype == ac.int32 and got.tolist() == expected.tolist()
    batch = np.stack([singular, 2 * np.eye(3)])
    ours_inv, theirs_inv = (
        ac.linalg.inv_ex(ac.tensor(batch)),
        torch.linalg.inv_ex(torch.tensor(batch)),
    )
    assert ours_inv.info.tolist() == theirs_inv.info.tolist()
    np.testing.assert_array_equal(ours_inv.inverse.numpy(), theirs_inv.inverse.numpy())
    ours_solve = ac.linalg.solve_ex(ac.tensor(batch), ac.ones(3, dtype=ac.float64))
    theirs_solve = torch.linalg.solve_ex(torch.tensor(batch), torch.ones(3, dtype=torch.float64))
    assert ours_solve.info.tolist() == theirs_solve.info.tolist()
    np.testing.assert_array_equal(ours_solve.result.numpy(), theirs_solve.result.numpy())
    indefinite = np.stack([singular, 4 * np.eye(3), -np.eye(3)])
    ours_chol = ac.linalg.cholesky_ex(ac.tensor(indefinite))
    theirs_chol = torch.linalg.cholesky_ex(torch.tensor(indefinite))
    assert ours_chol.info.tolist() == theirs_chol.info.tolist()
    np.testing.assert_array_equal(ours_chol.L.numpy()[1], theirs_chol.L.numpy()[1])
    square = rng.standard_normal((2, 4, 4))
    for p in (None, 2, -2, "fro", "nuc", INF, -INF, 1, -1):
        np.testing.assert_allclose(
            ac.linalg.cond(ac.tensor(square), p).numpy(),
            torch.linalg.cond(torch.tensor(square), p).numpy(),
            rtol=1e-10,
        )
    for p in (None, -2, "fro", "nuc", INF, 1):  # singular: 0 or inf, or about 1e16 from SVDs
        ours_cond = ac.linalg.cond(ac.tensor(singular[:2, :2]), p).item()
        theirs_cond = torch.linalg.cond(torch.tensor(singular[:2, :2]), p).item()
        assert ours_cond == pytest.approx(theirs_cond, rel=1e-6), p
    for failing in (
        lambda lib: lib.linalg.lu_factor(lib.tensor(singular)),
        lambda lib: lib.linalg.inv_ex(lib.tensor(singular), check_errors=True),
        lambda lib: lib.linalg.cholesky_ex(-lib.eye(2), check_errors=True),
        lambda lib: lib.linalg.cond(lib.ones(2, 3), 1),
        lambda lib: lib.linalg.tensorinv(lib.ones(2, 3), ind=1),
        lambda lib: lib.linalg.vander(lib.ones(1)),
    ):
        with pytest.raises(RuntimeError):
            failing(torch)
        with pytest.raises((RuntimeError, ValueError)):
            failing(ac)
    assert (
        ac.linalg.vander(ac.tensor([2, 3])).tolist()
        == torch.linalg.vander(torch.tensor([2, 3])).tolist()
    )
