"""ac.linalg: forward values against NumPy, gradients against finite differences (float64)."""

import math

import numpy as np
import pytest

import auto_compyute as ac

gradcheck, gradgradcheck = ac.autograd.gradcheck, ac.autograd.gradgradcheck


def _t(array: np.ndarray, req_grad: bool = True) -> ac.Tensor:
    return ac.tensor(array, dtype=ac.float64, req_grad=req_grad)


def _well_conditioned(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random square matrices kept away from singular by a multiple of the identity."""
    return rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


def _sym(x: ac.Tensor) -> ac.Tensor:
    return (x + x.mT) / 2


def _spd(x: ac.Tensor) -> ac.Tensor:
    """A symmetric positive-definite matrix made from any square x."""
    return x @ x.mT + ac.eye(x.shape[-1], dtype=x.dtype)


def test_module_and_aliases_are_exposed() -> None:
    assert "linalg" in ac.__all__
    assert all(hasattr(ac.linalg, name) for name in ac.linalg.__all__)
    assert issubclass(ac.linalg.LinAlgError, RuntimeError)
    aliases = ("det", "inverse", "logdet", "slogdet", "cholesky", "pinverse", "svd")
    for name in (*aliases, "matrix_power", "matrix_exp", "cross"):
        assert name in ac.__all__ and callable(getattr(ac.Tensor, name))


# ------------------------------------------------------------------ forward vs NumPy
def test_inv_det_slogdet_logdet_forward(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 3, 4, 4))
    x = _t(a, False)
    np.testing.assert_allclose(ac.linalg.inv(x).numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(x.inverse().numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(ac.linalg.det(x).numpy(), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(ac.det(x).numpy(), np.linalg.det(a), rtol=1e-10)
    sign, logabsdet = ac.linalg.slogdet(x)
    expected_sign, expected_log = np.linalg.slogdet(a)
    np.testing.assert_array_equal(sign.numpy(), expected_sign)
    np.testing.assert_allclose(logabsdet.numpy(), expected_log, rtol=1e-10)
    logdet = ac.logdet(x).numpy()
    positive = expected_sign > 0
    assert positive.any() and (~positive).any()
    np.testing.assert_allclose(logdet[positive], expected_log[positive], rtol=1e-10)
    assert np.isnan(logdet[~positive]).all()
    singular = np.ones((3, 3))
    assert ac.logdet(_t(singular, False)).item() == -math.inf


def test_solve_forward_shapes(rng: np.random.Generator) -> None:
    a = _well_conditioned(rng, 2, 3, 3)
    b = rng.standard_normal((2, 3, 4))
    x = ac.linalg.solve(_t(a, False), _t(b, False))
    np.testing.assert_allclose(a @ x.numpy(), b, atol=1e-12)
    vector = ac.linalg.solve(_t(a, False), _t(b[..., 0], False))  # B one axis less than A
    assert vector.shape == (2, 3)
    np.testing.assert_allclose((a @ vector.numpy()[..., None])[..., 0], b[..., 0], atol=1e-12)
    broadcast = ac.linalg.solve(_t(a[0], False), _t(b, False))
    np.testing.assert_allclose(a[0] @ broadcast.numpy(), b, atol=1e-12)
    right = ac.linalg.solve(_t(a, False), _t(b.swapaxes(-1, -2), False), left=False)
    np.testing.assert_allclose(right.numpy() @ a, b.swapaxes(-1, -2), atol=1e-12)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular_forward(
    rng: np.random.Generator, upper: bool, left: bool, unitriangular: bool
) -> None:
    a = _well_conditioned(rng, 2, 4, 4)
    b = rng.standard_normal((2, 4, 3) if left else (2, 3, 4))
    triangle = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        triangle = triangle - np.diagonal(a, axis1=-2, axis2=-1)[..., None] * np.eye(4) + np.eye(4)
    x = ac.linalg.solve_triangular(
        _t(a, False), _t(b, False), upper=upper, left=left, unitriangular=unitriangular
    ).numpy()
    np.testing.assert_allclose(triangle @ x if left else x @ triangle, b, atol=1e-12)


def test_cholesky_forward(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 4, 4))
    a = x @ x.swapaxes(-1, -2) + np.eye(4)
    lower = ac.linalg.cholesky(_t(a, False)).numpy()
    np.testing.assert_allclose(lower, np.linalg.cholesky(a), rtol=1e-10)
    upper = ac.cholesky(_t(a, False), upper=True).numpy()
    np.testing.assert_allclose(upper, lower.swapaxes(-1, -2), rtol=1e-10)
    # only one triangle is read: the lower one, or the upper one with upper=True
    lower_only = ac.linalg.cholesky(_t(np.tril(a) + 5 * np.triu(a, 1), False)).numpy()
    np.testing.assert_allclose(lower_only, np.linalg.cholesky(a), rtol=1e-10)
    upper_only = ac.linalg.cholesky(_t(np.triu(a) + 5 * np.tril(a, -1), False), upper=True)
    np.testing.assert_allclose(upper_only.numpy(), upper, rtol=1e-10)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 2)])
def test_qr_svd_eigh_forward(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    a = rng.standard_normal(shape)
    q, r = ac.linalg.qr(_t(a, False))
    expected_q, expected_r = np.linalg.qr(a)
    np.testing.assert_allclose(q.numpy(), expected_q, atol=1e-12)
    np.testing.assert_allclose(r.numpy(), expected_r, atol=1e-12)
    q, r = ac.linalg.qr(_t(a, False), mode="complete")
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    q, r = ac.linalg.qr(_t(a, False), mode="r")
    assert q.shape == (0,)
    np.testing.assert_allclose(r.numpy(), expected_r, atol=1e-12)
    for full in (True, False):
        u, s, vh = ac.linalg.svd(_t(a, False), full_matrices=full)
        expected = np.linalg.svd(a, full_matrices=full)
        for ours, theirs in zip((u, s, vh), expected, strict=True):
            np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-12)
    np.testing.assert_allclose(ac.linalg.svdvals(_t(a, False)).numpy(), expected[1], atol=1e-12)
    u, s, v = ac.svd(_t(a, False))
    np.testing.assert_allclose((u.numpy() * s.numpy()[..., None, :]) @ v.mT.numpy(), a, atol=1e-12)
    u, s, v = ac.svd(_t(a, False), compute_uv=False)
    assert u.shape[-1] == shape[-2] and v.shape[-1] == shape[-1] and not u.numpy().any()
    sym = a[..., : shape[-1], :] @ a[..., : shape[-1], :].swapaxes(-1, -2)
    for uplo in ("L", "U"):
        lower_only = np.tril(sym) if uplo == "L" else np.triu(sym)  # the other triangle unread
        w, q = ac.linalg.eigh(_t(lower_only, False), UPLO=uplo)
        expected_w, expected_q = np.linalg.eigh(sym)
        np.testing.assert_allclose(w.numpy(), expected_w, atol=1e-12)
        np.testing.assert_allclose(np.abs(q.numpy()), np.abs(expected_q), atol=1e-8)
        values = ac.linalg.eigvalsh(_t(lower_only, False), UPLO=uplo).numpy()
        np.testing.assert_allclose(values, expected_w, atol=1e-12)


def test_pinv_lstsq_matrix_rank_forward(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 5, 3))
    np.testing.assert_allclose(ac.linalg.pinv(_t(a, False)).numpy(), np.linalg.pinv(a), atol=1e-12)
    np.testing.assert_allclose(ac.pinverse(_t(a, False)).numpy(), np.linalg.pinv(a), atol=1e-12)
    low_rank = a @ rng.standard_normal((2, 3, 2)) @ rng.standard_normal((2, 2, 4))  # rank 2
    np.testing.assert_allclose(
        ac.linalg.pinv(_t(low_rank, False)).numpy(), np.linalg.pinv(low_rank), atol=1e-10
    )
    sym = low_rank @ low_rank.swapaxes(-1, -2)
    np.testing.assert_allclose(
        ac.linalg.pinv(_t(sym, False), hermitian=True).numpy(),
        np.linalg.pinv(sym, hermitian=True),
        atol=1e-10,
    )
    assert ac.linalg.matrix_rank(_t(low_rank, False)).tolist() == [2, 2]
    assert ac.linalg.matrix_rank(_t(sym, False), hermitian=True).tolist() == [2, 2]
    assert ac.linalg.matrix_rank(_t(a, False)).dtype == ac.int64
    assert ac.linalg.matrix_rank(_t(a, False), atol=1e9).tolist() == [0, 0]
    b = rng.standard_normal((2, 5, 2))
    result = ac.linalg.lstsq(_t(a, False), _t(b, False))
    expected = np.stack([np.linalg.lstsq(a[i], b[i], rcond=None)[0] for i in range(2)])
    np.testing.assert_allclose(result.solution.numpy(), expected, atol=1e-12)
    assert result.rank.tolist() == [3, 3]
    vector = ac.linalg.lstsq(_t(a, False), _t(b[..., 0], False)).solution
    np.testing.assert_allclose(vector.numpy(), expected[..., 0], atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power_forward(rng: np.random.Generator, n: int) -> None:
    a = _well_conditioned(rng, 2, 3, 3) / 3
    result = ac.linalg.matrix_power(_t(a, False), n).numpy()
    np.testing.assert_allclose(result, np.linalg.matrix_power(a, n), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_t(a, False).matrix_power(n).numpy(), result)


def _expm_series(a: np.ndarray) -> np.ndarray:
    """exp(a) by its Taylor series after halving a 8 times (a reference, not fast)."""
    small = a / 256
    term, total = np.eye(a.shape[-1]), np.eye(a.shape[-1])
    for k in range(1, 30):
        term = term @ small / k
        total = total + term
    for _ in range(8):
        total = total @ total
    return total


def test_matrix_exp_forward(rng: np.random.Generator) -> None:
    a = rng.standard_normal((3, 4, 4)) * np.array([0.01, 1.0, 20.0])[:, None, None]
    result = ac.linalg.matrix_exp(_t(a, False)).numpy()
    for i in range(3):
        np.testing.assert_allclose(result[i], _expm_series(a[i]), rtol=1e-9, atol=1e-12)
    diagonal = np.diag([1.0, -2.0, 0.5])  # exp of a diagonal matrix: exp of its diagonal
    np.testing.assert_allclose(
        ac.matrix_exp(_t(diagonal, False)).numpy(), np.diag(np.exp([1, -2, 0.5]))
    )
    zeros = _t(np.zeros((2, 2)), False)
    np.testing.assert_allclose(ac.linalg.matrix_exp(zeros).numpy(), np.eye(2), rtol=1e-15)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, 0, math.inf, -math.inf, -1])
def test_vector_norm_forward(rng: np.random.Generator, ord: float) -> None:
    x = rng.standard_normal((3, 4))
    if ord >= 0:
        x[0, 0] = 0
    np.testing.assert_allclose(
        ac.linalg.vector_norm(_t(x, False), ord).numpy(), np.linalg.norm(x.ravel(), ord)
    )
    result = ac.linalg.vector_norm(_t(x, False), ord, dim=1, keepdim=True).numpy()
    np.testing.assert_allclose(result, np.linalg.norm(x, ord, axis=1, keepdims=True))


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norm_forward(rng: np.random.Generator, ord: float | str) -> None:
    a = rng.standard_normal((2, 3, 4))
    expected = np.linalg.norm(a, ord, axis=(-2, -1))
    np.testing.assert_allclose(ac.linalg.matrix_norm(_t(a, False), ord).numpy(), expected)
    result = ac.linalg.matrix_norm(_t(a, False), ord, dim=(2, 0), keepdim=True).numpy()
    np.testing.assert_allclose(result, np.linalg.norm(a, ord, axis=(2, 0), keepdims=True))
    np.testing.assert_allclose(ac.linalg.norm(_t(a[0], False), ord).numpy(), expected[0])


def test_norm_forms(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 3, 4))
    x = _t(a, False)
    np.testing.assert_allclose(ac.linalg.norm(x).numpy(), np.linalg.norm(a.ravel()))
    assert ac.linalg.norm(x, keepdim=True).shape == (1, 1, 1)
    np.testing.assert_allclose(
        ac.linalg.norm(x, 3, dim=1).numpy(), np.linalg.norm(a, 3, axis=1), rtol=1e-12
    )
    np.testing.assert_allclose(
        ac.linalg.norm(x, dim=(0, 2)).numpy(), np.linalg.norm(a, axis=(0, 2)), rtol=1e-12
    )
    with pytest.raises(ValueError, match=r"1-D or 2-D.*\(2, 3, 4\)"):
        ac.linalg.norm(x, 2)
    with pytest.raises(ValueError, match="matrix norms"):
        ac.linalg.norm(x, "fro", dim=1)


def test_cross_multi_dot_vecdot_diagonal_forward(rng: np.random.Generator) -> None:
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    np.testing.assert_allclose(ac.linalg.cross(_t(a, False), _t(b, False)).numpy(), np.cross(a, b))
    result = ac.cross(_t(a.T, False), _t(b.T, False))  # torch.cross: first axis of size 3
    np.testing.assert_allclose(result.numpy(), np.cross(a, b).T)
    np.testing.assert_allclose(_t(a, False).cross(_t(b, False), dim=1).numpy(), np.cross(a, b))
    mats = [rng.standard_normal(s) for s in ((3,), (3, 5), (5, 2), (2, 6), (6,))]
    result = ac.linalg.multi_dot([_t(m, False) for m in mats]).numpy()
    np.testing.assert_allclose(result, np.linalg.multi_dot(mats), rtol=1e-12)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        ac.linalg.vecdot(_t(x, False), _t(y, False), dim=-1).numpy(), (x * y).sum(-1)
    )
    np.testing.assert_array_equal(
        ac.linalg.diagonal(_t(x, False), offset=1).numpy(), np.diagonal(x, 1, -2, -1)
    )
    np.testing.assert_allclose(ac.linalg.matmul(_t(x, False), _t(y.T, False)).numpy(), x @ y.T)


# ------------------------------------------------------------------ gradients
def test_inv_det_slogdet_gradients(rng: np.random.Generator) -> None:
    a = _t(_well_conditioned(rng, 2, 3, 3))
    assert gradcheck(ac.linalg.inv, [a])
    assert gradcheck(ac.linalg.det, [a])
    assert gradcheck(lambda m: ac.linalg.slogdet(m).logabsdet, [a])
    assert gradcheck(ac.logdet, [a])
    singular = rng.standard_normal((4, 4))
    singular[:, 0] = singular[:, 1]  # rank 3: the gradient (the adjugate) is not zero
    assert gradcheck(ac.linalg.det, [_t(singular)])
    rank_two = singular.copy()
    rank_two[:, 2] = rank_two[:, 3]  # rank 2: the adjugate is zero
    assert gradcheck(ac.linalg.det, [_t(rank_two)])


def test_solve_gradients(rng: np.random.Generator) -> None:
    a = _t(_well_conditioned(rng, 2, 3, 3))
    b = _t(rng.standard_normal((2, 3, 2)))
    assert gradcheck(ac.linalg.solve, [a, b])
    assert gradcheck(ac.linalg.solve, [_t(_well_conditioned(rng, 3, 3)), b])  # broadcast A
    assert gradcheck(lambda m, v: ac.linalg.solve(m, v), [a, _t(rng.standard_normal((2, 3)))])
    right = _t(rng.standard_normal((2, 2, 3)))
    assert gradcheck(lambda m, c: ac.linalg.solve(m, c, left=False), [a, right])


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular_gradients(
    rng: np.random.Generator, upper: bool, unitriangular: bool
) -> None:
    a = _t(_well_conditioned(rng, 2, 3, 3))
    b = _t(rng.standard_normal((2, 3, 2)))
    assert gradcheck(
        lambda m, c: ac.linalg.solve_triangular(m, c, upper=upper, unitriangular=unitriangular),
        [a, b],
    )
    c = _t(rng.standard_normal((2, 2, 3)))
    assert gradcheck(lambda m, c: ac.linalg.solve_triangular(m, c, upper=upper, left=False), [a, c])
    ac.linalg.solve_triangular(a, b, upper=upper, unitriangular=unitriangular).sum().backward()
    outside = np.tril(a.grad, -1) if upper else np.triu(a.grad, 1)
    assert not outside.any()  # only the triangle read gets a gradient
    assert not unitriangular or not np.diagonal(a.grad, axis1=-2, axis2=-1).any()


def test_cholesky_gradients(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 3, 3)))
    assert gradcheck(lambda m: ac.linalg.cholesky(_spd(m)), [x])
    assert gradcheck(lambda m: ac.linalg.cholesky(_spd(m), upper=True), [x])
    a = _t(_spd(x).detach().numpy())
    ac.linalg.cholesky(a).sum().backward()
    np.testing.assert_allclose(a.grad, a.grad.swapaxes(-1, -2))  # symmetric, as PyTorch's


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 4, 2)])
def test_qr_gradients(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    a = _t(rng.standard_normal(shape))
    assert gradcheck(lambda m: tuple(ac.linalg.qr(m)), [a])
    assert gradcheck(lambda m: ac.linalg.qr(m).R, [a])  # Q unused
    if shape[-2] <= shape[-1]:
        assert gradcheck(lambda m: tuple(ac.linalg.qr(m, mode="complete")), [a])


def test_eigh_gradients(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 4, 4)))

    def reconstruct(m: ac.Tensor) -> ac.Tensor:
        w, q = ac.linalg.eigh(_sym(m))
        return (q * w.unsqueeze(-2) ** 2) @ q.mT  # a function of A: A^2

    assert gradcheck(reconstruct, [x])
    assert gradcheck(lambda m: ac.linalg.eigh(_sym(m)).eigenvectors.abs().sum(-2), [x])
    assert gradcheck(lambda m: ac.linalg.eigh(_sym(m)).eigenvalues, [x])
    assert gradcheck(lambda m: ac.linalg.eigvalsh(_sym(m), UPLO="U"), [x])
    # an unused Q adds nothing, even for repeated eigenvalues (no 0/0)
    repeated = _t(np.diag([1.0, 1.0, 2.0]))
    ac.linalg.eigh(repeated).eigenvalues.sum().backward()
    np.testing.assert_allclose(repeated.grad, np.eye(3))


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3)])
def test_svd_gradients(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    a = _t(rng.standard_normal(shape))

    def reconstruct(m: ac.Tensor) -> ac.Tensor:
        u, s, vh = ac.linalg.svd(m, full_matrices=False)
        return (u * s.unsqueeze(-2) ** 2) @ vh

    def signless(m: ac.Tensor) -> tuple[ac.Tensor, ac.Tensor, ac.Tensor]:
        u, s, vh = ac.linalg.svd(m, full_matrices=False)
        return u.abs().sum(-2), s, vh.abs().sum(-1)

    assert gradcheck(reconstruct, [a])
    assert gradcheck(signless, [a])
    assert gradcheck(ac.linalg.svdvals, [a])
    assert gradcheck(lambda m: ac.svd(m).S, [a])
    # full_matrices: the vectors past k get no gradient, the first k the reduced one
    k = min(shape[-2:])
    weight_u, weight_v = rng.standard_normal(shape[:-1]), rng.standard_normal(shape[-1])
    grads = []
    for full in (True, False):
        x = _t(a.numpy())
        u, s, vh = ac.linalg.svd(x, full_matrices=full)
        ((u[..., :k].abs().sum(-1) * _t(weight_u, False)).sum() + s.sum()).backward()
        grads.append(x.grad)
        x = _t(a.numpy())
        u, s, vh = ac.linalg.svd(x, full_matrices=full)
        (vh[..., :k, :].abs().sum(-2) * _t(weight_v, False)).sum().backward()
        grads.append(x.grad)
    np.testing.assert_allclose(grads[0], grads[2], atol=1e-12)
    np.testing.assert_allclose(grads[1], grads[3], atol=1e-12)


def test_pinv_lstsq_gradients(rng: np.random.Generator) -> None:
    tall = _t(rng.standard_normal((2, 5, 3)))
    assert gradcheck(ac.linalg.pinv, [tall])
    assert gradcheck(ac.linalg.pinv, [_t(rng.standard_normal((3, 5)))])
    assert gradcheck(
        lambda m: ac.linalg.pinv(_spd(m), hermitian=True), [_t(rng.standard_normal((3, 3)))]
    )
    b = _t(rng.standard_normal((2, 5, 2)))
    assert gradcheck(lambda m, c: ac.linalg.lstsq(m, c).solution, [tall, b])
    # rank 2: along changes that keep the rank, the pseudo-inverse is differentiable
    left, right = _t(rng.standard_normal((5, 2))), _t(rng.standard_normal((2, 4)))
    assert gradcheck(lambda x, y: ac.linalg.pinv(x @ y), [left, right])
    assert gradcheck(lambda x: ac.linalg.pinv(x @ x.mT, hermitian=True), [left])


@pytest.mark.parametrize("n", [2, 3, 5, -1, -2])
def test_matrix_power_gradients(rng: np.random.Generator, n: int) -> None:
    a = _t(_well_conditioned(rng, 2, 3, 3) / 3)
    assert gradcheck(lambda m: ac.linalg.matrix_power(m, n), [a])


def test_matrix_power_zero_is_the_identity_with_zero_gradient(rng: np.random.Generator) -> None:
    a = _t(rng.standard_normal((2, 3, 3)))
    result = ac.linalg.matrix_power(a, 0)
    np.testing.assert_array_equal(result.numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    result.sum().backward()
    np.testing.assert_array_equal(a.grad, np.zeros((2, 3, 3)))


def test_matrix_exp_gradients(rng: np.random.Generator) -> None:
    assert gradcheck(ac.linalg.matrix_exp, [_t(rng.standard_normal((2, 3, 3)))])
    assert gradcheck(ac.linalg.matrix_exp, [_t(rng.standard_normal((3, 3)) * 4)])  # squarings


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, math.inf, -math.inf, -1, 0])
def test_vector_norm_gradients(rng: np.random.Generator, ord: float) -> None:
    x = _t(rng.standard_normal((3, 4)))
    assert gradcheck(lambda t: ac.linalg.vector_norm(t, ord, dim=(0, 1)), [x])
    assert gradcheck(lambda t: ac.linalg.vector_norm(t, ord, dim=0, keepdim=True), [x])


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norm_gradients(rng: np.random.Generator, ord: float | str) -> None:
    a = _t(rng.standard_normal((2, 3, 4)))
    assert gradcheck(lambda m: ac.linalg.matrix_norm(m, ord), [a])
    assert gradcheck(lambda m: ac.linalg.matrix_norm(m, ord, dim=(0, 2), keepdim=True), [a])


def test_cross_multi_dot_vecdot_gradients(rng: np.random.Generator) -> None:
    a, b = _t(rng.standard_normal((4, 3))), _t(rng.standard_normal((1, 3)))
    assert gradcheck(ac.linalg.cross, [a, b])
    mats = [_t(rng.standard_normal(s)) for s in ((3,), (3, 5), (5, 2), (2, 4))]
    assert gradcheck(lambda *m: ac.linalg.multi_dot(m), mats)
    assert gradcheck(
        lambda x, y: ac.linalg.vecdot(x, y, dim=0), [a, _t(rng.standard_normal(4)).unsqueeze(-1)]
    )


# ------------------------------------------------------------------ second derivatives
def test_second_derivatives(rng: np.random.Generator) -> None:
    a = _t(_well_conditioned(rng, 2, 3, 3))
    b = _t(rng.standard_normal((2, 3, 2)))
    assert gradgradcheck(ac.linalg.inv, [a])
    assert gradgradcheck(ac.linalg.det, [a])
    assert gradgradcheck(lambda m: ac.linalg.slogdet(m).logabsdet, [a])
    assert gradgradcheck(ac.linalg.solve, [a, b])
    assert gradgradcheck(lambda m, c: ac.linalg.solve_triangular(m, c, upper=False), [a, b])
    assert gradgradcheck(lambda m: ac.linalg.cholesky(_spd(m)), [a])
    assert gradgradcheck(ac.linalg.matrix_exp, [_t(rng.standard_normal((2, 3, 3)) / 2)])
    assert gradgradcheck(lambda m: ac.linalg.matrix_power(m, -2), [a])


def test_second_derivatives_of_decompositions(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 3, 3)))

    def eigh_invariants(m: ac.Tensor) -> tuple[ac.Tensor, ac.Tensor]:
        w, q = ac.linalg.eigh(_sym(m))
        return (q * w.unsqueeze(-2) ** 2) @ q.mT, q.abs().sum(-2)

    assert gradgradcheck(eigh_invariants, [x])
    assert gradgradcheck(lambda m: ac.linalg.eigvalsh(_sym(m)), [x])
    for shape in ((4, 3), (3, 4)):
        a = _t(rng.standard_normal(shape))

        def svd_invariants(m: ac.Tensor) -> tuple[ac.Tensor, ...]:
            u, s, vh = ac.linalg.svd(m, full_matrices=False)
            return (u * s.unsqueeze(-2) ** 2) @ vh, u.abs().sum(-2), vh.abs().sum(-1)

        assert gradgradcheck(svd_invariants, [a])
        assert gradgradcheck(ac.linalg.svdvals, [a])
        assert gradgradcheck(lambda m: tuple(ac.linalg.qr(m)), [a])
        assert gradgradcheck(ac.linalg.pinv, [a])


def test_second_derivatives_of_det_need_an_invertible_matrix() -> None:
    singular = _t(np.ones((3, 3)))
    (gradient,) = ac.autograd.grad(ac.linalg.det(singular), [singular])  # first: fine
    np.testing.assert_allclose(gradient.numpy(), np.zeros((3, 3)), atol=1e-15)  # rank 1
    with pytest.raises(ac.linalg.LinAlgError, match=r"linalg\.det: higher derivatives"):
        ac.autograd.grad(ac.linalg.det(singular), [singular], create_graph=True)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "fn", [ac.linalg.inv, ac.linalg.det, ac.linalg.slogdet, ac.linalg.cholesky, ac.linalg.eigh]
)
def test_non_square_input_is_refused(fn: object) -> None:
    with pytest.raises(ValueError, match=r"square.*\(2, 3, 4\)"):
        fn(ac.zeros(2, 3, 4))  # type: ignore[operator]
    with pytest.raises(ValueError, match=r"matrix.*\(3,\)"):
        fn(ac.zeros(3))  # type: ignore[operator]


@pytest.mark.parametrize("fn", [ac.linalg.inv, ac.linalg.det, ac.linalg.svd, ac.linalg.qr])
def test_integer_input_is_refused(fn: object) -> None:
    with pytest.raises(TypeError, match=r"float32 or float64.*int64"):
        fn(ac.tensor([[1, 2], [3, 4]]))  # type: ignore[operator]


def test_solve_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(4, 2\)"):
        ac.linalg.solve(ac.eye(3), ac.zeros(4, 2))
    with pytest.raises(ValueError, match=r"\(2, 3, 3\).*\(4, 3, 1\)"):
        ac.linalg.solve(ac.zeros(2, 3, 3), ac.zeros(4, 3, 1))
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(2, 2\)"):
        ac.linalg.solve_triangular(ac.eye(3), ac.zeros(2, 2), upper=True)
    with pytest.raises(TypeError, match="float32 and float64"):
        ac.linalg.solve(ac.eye(3), ac.zeros(3, 1, dtype=ac.float64))


def test_singular_and_indefinite_inputs_raise_linalg_error() -> None:
    singular = ac.ones(2, 3, 3)
    for fn in (ac.linalg.inv, lambda m: ac.linalg.solve(m, ac.ones(2, 3, 1))):
        with pytest.raises(ac.linalg.LinAlgError, match=r"linalg\.(inv|solve):.*singular"):
            fn(singular)
    with pytest.raises(RuntimeError, match=r"linalg\.cholesky:.*positive-definite"):
        ac.linalg.cholesky(-ac.eye(3))


def test_qr_without_a_gradient_raises_on_backward() -> None:
    a = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        ac.linalg.qr(a, mode="r").R.sum().backward()
    a = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        ac.linalg.qr(a, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        ac.autograd.grad(ac.linalg.qr(a, mode="complete").Q.sum(), [a], create_graph=True)
    with pytest.raises(ValueError, match="mode"):
        ac.linalg.qr(a, mode="full")


def test_other_argument_errors() -> None:
    with pytest.raises(ValueError, match="UPLO"):
        ac.linalg.eigh(ac.eye(2), UPLO="X")
    with pytest.raises(ValueError, match="size 3"):
        ac.linalg.cross(ac.zeros(4), ac.zeros(4))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 3\) do not broadcast"):
        ac.cross(ac.zeros(2, 3), ac.zeros(4, 3))
    with pytest.raises(ValueError, match=r"tensors 0 and 1.*\(2, 3\).*\(2, 2\)"):
        ac.linalg.multi_dot([ac.zeros(2, 3), ac.zeros(2, 2)])
    with pytest.raises(ValueError, match="ord"):
        ac.linalg.matrix_norm(ac.zeros(2, 2), 3)
    with pytest.raises(TypeError, match="int"):
        ac.linalg.matrix_power(ac.eye(2), 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("order", [0.5, 1.5, 3.0, -1.0, -2.5, 0])
def test_vector_norms_have_zero_gradients_at_zeros(order: float) -> None:
    for values in ([0.0, 2.0], [0.0, 0.0], [0.0, -1.5, 3.0]):
        x = ac.tensor(values, dtype=ac.float64, req_grad=True)
        norm = ac.linalg.vector_norm(x, order)
        norm.backward()
        assert np.all(np.isfinite(x.grad)), (order, values, x.grad)
        assert x.grad[0] == 0  # a zero element (and a zero norm) passes no gradient
        expected = np.linalg.norm(np.array(values), order) if order != 0 else 2
        if order != 0:
            assert norm.item() == pytest.approx(expected)
    x = ac.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=ac.float64, req_grad=True)
    if order:
        assert ac.autograd.gradcheck(lambda t: t.norm(order, dim=1), [x])
    points = ac.tensor([[0.0, 1.0], [2.0, -1.0]], dtype=ac.float64, req_grad=True)
    if order > 0:
        ac.cdist(points, points, p=order).sum().backward()
        assert np.all(np.isfinite(points.grad))


# ------------------------------------------------------------------ LU and the _ex variants
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # U[3,3] is 0


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (5, 3), (3, 5), (2, 1, 4, 2)])
def test_lu_factor_and_lu_forward(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    a = rng.standard_normal(shape)
    m, n = shape[-2:]
    k = min(m, n)
    LU, pivots, info = ac.linalg.lu_factor_ex(_t(a, False))
    assert LU.shape == shape and pivots.shape == (*shape[:-2], k) and info.shape == shape[:-2]
    assert pivots.dtype == ac.int32 and info.dtype == ac.int32 and not info.numpy().any()
    P, L, U = ac.linalg.lu(_t(a, False))
    assert P.shape == (*shape[:-2], m, m) and L.shape == (*shape[:-2], m, k)
    assert U.shape == (*shape[:-2], k, n)
    np.testing.assert_allclose((P @ L @ U).numpy(), a, atol=1e-12)
    np.testing.assert_array_equal(np.tril(U.numpy(), -1), 0)
    np.testing.assert_array_equal(np.triu(L.numpy(), 1), 0)
    np.testing.assert_array_equal(np.diagonal(L.numpy(), axis1=-2, axis2=-1), 1)
    assert (np.abs(L.numpy()) <= 1).all()  # partial pivoting: the largest of each column
    np.testing.assert_array_equal(P.numpy().sum(-1), 1)
    np.testing.assert_array_equal(P.numpy().sum(-2), 1)
    packed = np.zeros(shape)
    packed[..., :k] += np.tril(L.numpy(), -1)
    packed[..., :k, :] += U.numpy()
    np.testing.assert_array_equal(LU.numpy(), packed)
    # the pivots replay the row swaps that P makes
    rows = np.arange(m)
    for i, p in enumerate(pivots.numpy().reshape(-1, k)[0]):
        rows[[i, p - 1]] = rows[[p - 1, i]]
    np.testing.assert_array_equal(P.numpy().reshape(-1, m, m)[0][rows, np.arange(m)], 1)
    assert ac.linalg.lu_factor(_t(a, False)).pivots.tolist() == pivots.tolist()


def test_lu_without_pivoting_and_singular_matrices() -> None:
    a = _t(np.array([[2.0, 1.0], [4.0, 5.0]]), False)
    P, L, U = ac.linalg.lu(a, pivot=False)
    assert P.shape == (0,)
    assert L.tolist() == [[1.0, 0.0], [2.0, 1.0]] and U.tolist() == [[2.0, 1.0], [0.0, 3.0]]
    assert ac.linalg.lu_factor(a, pivot=False).pivots.tolist() == [1, 2]
    LU, pivots, info = ac.linalg.lu_factor_ex(_t(SINGULAR, False))
    assert LU.tolist() == [[2.0, 4.0, 6.0], [0.5, -2.0, -2.0], [0.5, 0.0, 0.0]]
    assert pivots.tolist() == [2, 3, 3] and info.item() == 3
    batch = _t(np.stack([np.eye(3), SINGULAR]), False)
    assert ac.linalg.lu_factor_ex(batch).info.tolist() == [0, 3]
    with pytest.raises(ac.linalg.LinAlgError, match=r"lu_factor \(batch element 1\): U\[3,3\]"):
        ac.linalg.lu_factor(batch)
    with pytest.raises(ac.linalg.LinAlgError, match=r"lu_factor_ex: U\[3,3\] is zero"):
        ac.linalg.lu_factor_ex(_t(SINGULAR, False), check_errors=True)
    P, L, U = ac.linalg.lu(_t(SINGULAR, False))  # decomposed all the same
    np.testing.assert_allclose((P @ L @ U).numpy(), SINGULAR)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_forward(rng: np.random.Generator, left: bool, adjoint: bool) -> None:
    a = rng.standard_normal((2, 4, 4))
    b = rng.standard_normal((3, 1, 4, 2) if left else (3, 1, 2, 4))
    LU, pivots = ac.linalg.lu_factor(_t(a, False))
    x = ac.linalg.lu_solve(LU, pivots, _t(b, False), left=left, adjoint=adjoint).numpy()
    op = a.swapaxes(-1, -2) if adjoint else a
    assert x.shape == (3, 2, *b.shape[-2:])
    np.testing.assert_allclose(op @ x if left else x @ op, np.broadcast_to(b, x.shape), atol=1e-10)


def test_ex_variants_report_failures_in_info(rng: np.random.Generator) -> None:
    a = _well_conditioned(rng, 3, 3)
    batch = _t(np.stack([SINGULAR, a]), False)
    inverse, info = ac.linalg.inv_ex(batch)
    assert info.tolist() == [3, 0] and info.dtype == ac.int32
    np.testing.assert_allclose(inverse[1].numpy(), np.linalg.inv(a), rtol=1e-12)
    assert not np.isfinite(inverse[0].numpy()).all()
    result, info = ac.linalg.solve_ex(batch, _t(np.ones(3), False))
    assert info.tolist() == [3, 0] and result.shape == (2, 3)
    np.testing.assert_allclose(result[1].numpy(), np.linalg.solve(a, np.ones(3)), rtol=1e-12)
    inverse, info = ac.linalg.inv_ex(_t(a, False))
    assert info.shape == () and info.item() == 0
    np.testing.assert_allclose(inverse.numpy(), np.linalg.inv(a), rtol=1e-12)
    right, info = ac.linalg.solve_ex(_t(a, False), _t(np.ones((2, 3)), False), left=False)
    np.testing.assert_allclose(right.numpy() @ a, np.ones((2, 3)), atol=1e-12)
    spd = a @ a.T + np.eye(3)
    factors, info = ac.linalg.cholesky_ex(_t(np.stack([spd, -np.eye(3), SINGULAR]), False))
    assert info.tolist() == [0, 1, 2]
    np.testing.assert_allclose(factors[0].numpy(), np.linalg.cholesky(spd), rtol=1e-12)
    assert factors[2].tolist() == [[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.0, 0.0, 1.0]]
    upper, info = ac.linalg.cholesky_ex(_t(spd, False), upper=True)
    assert info.item() == 0
    np.testing.assert_allclose(upper.numpy(), np.linalg.cholesky(spd).T, rtol=1e-12)
    with pytest.raises(ac.linalg.LinAlgError, match=r"inv_ex \(batch element 0\).*singular"):
        ac.linalg.inv_ex(batch, check_errors=True)
    with pytest.raises(ac.linalg.LinAlgError, match=r"solve_ex.*singular"):
        ac.linalg.solve_ex(batch, _t(np.ones(3), False), check_errors=True)
    with pytest.raises(ac.linalg.LinAlgError, match="leading minor of order 1"):
        ac.linalg.cholesky_ex(-ac.eye(2), check_errors=True)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1])
def test_cond_forward(rng: np.random.Generator, p: float | str | None) -> None:
    a = rng.standard_normal((2, 4, 4))
    np.testing.assert_allclose(ac.linalg.cond(_t(a, False), p).numpy(), np.linalg.cond(a, p))
    singular = ac.linalg.cond(_t(SINGULAR, False), p).item()
    if p == -2:
        assert singular < 1e-15
    elif p in (None, 2, "nuc"):  # through the singular values, the smallest of them about 0
        assert singular > 1e15
    else:
        assert singular == math.inf
    assert ac.linalg.cond(ac.zeros(3, 0, 0, dtype=ac.float64), p).tolist() == [0.0] * 3


def test_cond_of_non_square_matrices_and_bad_orders() -> None:
    wide = _t(np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]), False)
    assert ac.linalg.cond(wide).item() == pytest.approx(2.0)
    assert ac.linalg.cond(wide, -2).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"square.*\(2, 3\)"):
        ac.linalg.cond(wide, 1)
    with pytest.raises(ValueError, match="p must be None, 2, -2"):
        ac.linalg.cond(wide, 3)
    with pytest.raises(ValueError, match="matrix or a batch"):
        ac.linalg.cond(ac.ones(3))


def test_tensorinv_tensorsolve_and_vander_forward(rng: np.random.Generator) -> None:
    a = rng.standard_normal((4, 6, 8, 3))
    np.testing.assert_allclose(
        ac.linalg.tensorinv(_t(a, False)).numpy(), np.linalg.tensorinv(a), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        ac.linalg.tensorinv(_t(a[:, :, 0, 0].reshape(2, 12)[:, :2], False), ind=1).numpy(),
        np.linalg.tensorinv(a[:, :, 0, 0].reshape(2, 12)[:, :2], ind=1),
    )
    b = rng.standard_normal((6, 4, 4, 3, 2))
    rhs = rng.standard_normal((4, 3, 2))
    expected = np.linalg.tensorsolve(b, rhs, axes=(0, 2))
    got = ac.linalg.tensorsolve(_t(b, False), _t(rhs, False), dims=(0, 2))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-12)
    square = rng.standard_normal((2, 3, 6))
    np.testing.assert_allclose(
        ac.linalg.tensorsolve(_t(square, False), _t(rhs[0].T, False)).numpy(),
        np.linalg.tensorsolve(square, rhs[0].T),
        rtol=1e-9,
    )
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(
        ac.linalg.vander(_t(x, False), N=4).numpy(),
        np.stack([np.vander(row, 4, increasing=True) for row in x]),
        rtol=1e-14,
    )
    integers = ac.linalg.vander(ac.tensor([1, 2, 3], dtype=ac.int32))
    assert integers.dtype == ac.int64 and integers.tolist() == [[1, 1, 1], [1, 2, 4], [1, 3, 9]]
    assert ac.linalg.vander(ac.tensor(2.0), N=3).tolist() == [[1.0, 2.0, 4.0]]


def test_lu_tensor_and_vander_argument_errors() -> None:
    with pytest.raises(TypeError, match=r"int32 pivots of shape \(\.\.\., 3\)"):
        ac.linalg.lu_solve(ac.eye(3), ac.tensor([1, 2, 3]), ac.ones(3, 1))
    with pytest.raises(ValueError, match=r"B needs 3 rows"):
        ac.linalg.lu_solve(ac.eye(3), ac.tensor([1, 2, 3], dtype=ac.int32), ac.ones(2, 1))
    with pytest.raises(ValueError, match=r"pivots must lie in \[1, 3\]"):
        ac.linalg.lu_solve(ac.eye(3), ac.tensor([0, 2, 3], dtype=ac.int32), ac.ones(3, 1))
    with pytest.raises(TypeError, match="float32 or float64"):
        ac.linalg.lu_factor(ac.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="ind must be a positive int"):
        ac.linalg.tensorinv(ac.eye(4), ind=0)
    with pytest.raises(ValueError, match=r"first 1 dims of shape \(2, 3\) \(2\).*\(3\)"):
        ac.linalg.tensorinv(ac.ones(2, 3), ind=1)
    with pytest.raises(ValueError, match=r"A of shape \(3, 4, 5\) needs B of shape \(3,\)"):
        ac.linalg.tensorsolve(ac.ones(3, 4, 5), ac.ones(3))
    with pytest.raises(ValueError, match="N must be greater than 1, got 1"):
        ac.linalg.vander(ac.ones(1))
    with pytest.raises(TypeError, match="got bool"):
        ac.linalg.vander(ac.ones(2).bool())


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (5, 3), (3, 5)])
def test_lu_gradients(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    a = _t(rng.standard_normal(shape))
    assert gradcheck(lambda m: ac.linalg.lu_factor(m).LU, [a])
    assert gradcheck(lambda m: ac.linalg.lu(m).L, [a])
    assert gradcheck(lambda m: ac.linalg.lu(m).U, [a])
    assert gradcheck(lambda m: ac.linalg.lu(m, pivot=False)[1:], [a])


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_gradients(rng: np.random.Generator, left: bool, adjoint: bool) -> None:
    a = _well_conditioned(rng, 2, 3, 3)
    LU, pivots = ac.linalg.lu_factor(_t(a, False))
    b = _t(rng.standard_normal((3, 1, 3, 2) if left else (3, 1, 2, 3)))
    assert gradcheck(
        lambda lu, rhs: ac.linalg.lu_solve(lu, pivots, rhs, left=left, adjoint=adjoint),
        [_t(LU.numpy()), b],
    )
    assert gradcheck(
        lambda m, rhs: ac.linalg.lu_solve(*ac.linalg.lu_factor(m), rhs, left=left, adjoint=adjoint),
        [_t(a), b],
    )


def test_ex_variants_cond_and_tensor_solves_gradients(rng: np.random.Generator) -> None:
    a = _t(_well_conditioned(rng, 2, 3, 3))
    assert gradcheck(lambda m: ac.linalg.inv_ex(m).inverse, [a])
    assert gradcheck(lambda m, b: ac.linalg.solve_ex(m, b).result, [a, _t(np.ones((2, 3)))])
    assert gradcheck(lambda m: ac.linalg.cholesky_ex(_spd(m)).L, [a])
    assert gradcheck(lambda m: ac.linalg.cholesky_ex(_spd(m), upper=True).L, [a])
    # a batch with a failure takes the LU and column-by-column paths: gradients as without it
    good = _well_conditioned(rng, 3, 3)
    cotangent = ac.tensor(rng.standard_normal((3, 3)))
    for function, failure in (
        (lambda m: ac.linalg.inv_ex(m).inverse, SINGULAR),
        (lambda m: ac.linalg.solve_ex(m, ac.eye(3, dtype=ac.float64) * 2).result, SINGULAR),
        (lambda m: ac.linalg.cholesky_ex(m).L, -np.eye(3)),
    ):
        spd = good @ good.T + np.eye(3)
        batch, alone = _t(np.stack([failure, spd])), _t(spd)
        (function(batch)[1] * cotangent).sum().backward()
        (function(alone) * cotangent).sum().backward()
        np.testing.assert_allclose(batch.grad[1], alone.grad, rtol=1e-10, atol=1e-12)
    for p in (None, -2, "fro", "nuc", math.inf, -1):
        assert gradcheck(lambda m, p=p: ac.linalg.cond(m, p), [a])
    square = _t(_well_conditioned(rng, 6, 6))
    assert gradcheck(lambda m: ac.linalg.tensorinv(m.reshape(3, 2, 6), ind=2), [square])
    rhs = _t(rng.standard_normal((2, 3)))
    assert gradcheck(
        lambda m, b: ac.linalg.tensorsolve(m.reshape(6, 2, 3), b, dims=(0,)), [square, rhs]
    )
    assert gradcheck(lambda x: ac.linalg.vander(x, N=4), [_t(rng.standard_normal((2, 3)))])
