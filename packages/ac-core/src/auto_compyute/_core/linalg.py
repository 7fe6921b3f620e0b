"""The functions of ``ac.linalg`` (see ``auto_compyute.linalg``), on tensors."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from auto_compyute._core import dtypes
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.ops import decompositions as dec
from auto_compyute._core.ops.movement import Cat
from auto_compyute._core.tensor import Tensor

Dims = int | Sequence[int] | None


class SlogdetResult(NamedTuple):
    """What ``slogdet`` returns: the sign of the determinant (without gradient) and the log
    of its absolute value."""

    sign: Tensor
    logabsdet: Tensor


class QRResult(NamedTuple):
    """What ``qr`` returns: Q (orthonormal columns) and R (upper triangular)."""

    Q: Tensor
    R: Tensor


class EighResult(NamedTuple):
    """What ``eigh`` returns: the eigenvalues (ascending) and the eigenvectors (columns)."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """What ``svd`` returns: U, the singular values S (descending), and V^T."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class SVDUSVResult(NamedTuple):
    """What ``ac.svd`` (``torch.svd``) returns: U, S and V (not transposed)."""

    U: Tensor
    S: Tensor
    V: Tensor


class LstsqResult(NamedTuple):
    """What ``lstsq`` returns. Only ``solution`` is computed here; as with PyTorch's CPU
    default driver ('gelsy'), ``residuals`` and ``singular_values`` are empty, and ``rank``
    is the rank of each matrix of ``A``."""

    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


class LUFactorResult(NamedTuple):
    """What ``lu_factor`` returns: L and U in one matrix (L's unit diagonal left out) and the
    row swaps, as LAPACK's getrf gives them (int32, 1-based: row i with row pivots[i] - 1)."""

    LU: Tensor
    pivots: Tensor


class LUFactorExResult(NamedTuple):
    """What ``lu_factor_ex`` returns: ``lu_factor``'s results and ``info`` (int32), the
    1-based place of the first zero on U's diagonal, or 0."""

    LU: Tensor
    pivots: Tensor
    info: Tensor


class LUResult(NamedTuple):
    """What ``lu`` returns: the permutation matrix P, unit lower triangular L and upper
    triangular U with A = P L U."""

    P: Tensor
    L: Tensor
    U: Tensor


class InvExResult(NamedTuple):
    """What ``inv_ex`` returns: the inverse and ``info`` (int32, 0 where it exists)."""

    inverse: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    """What ``solve_ex`` returns: the solution and ``info`` (int32, 0 where it exists)."""

    result: Tensor
    info: Tensor


class CholeskyExResult(NamedTuple):
    """What ``cholesky_ex`` returns: the Cholesky factor and ``info`` (int32), the order of
    the first leading minor that is not positive-definite, or 0."""

    L: Tensor
    info: Tensor


def _check(name: str, A: Tensor, square: bool = True) -> None:
    """A float32 or float64 tensor of (batches of) matrices, square if ``square``."""
    if A.dtype not in (np.float32, np.float64):
        raise TypeError(f"linalg.{name}: expected a float32 or float64 tensor, got {A.dtype}")
    if A.ndim < 2:
        raise ValueError(
            f"linalg.{name}: expected a matrix or a batch of matrices, got shape {A.shape}"
        )
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(
            f"linalg.{name}: expected square matrices (the last two axes of one size), "
            f"got shape {A.shape}"
        )


def _check_float(name: str, *tensors: Tensor) -> None:
    for x in tensors:
        if x.dtype not in (np.float32, np.float64):
            raise TypeError(f"linalg.{name}: expected float32 or float64 tensors, got {x.dtype}")
    if len({x.dtype for x in tensors}) > 1:
        dtypes = " and ".join(str(x.dtype) for x in tensors)
        raise TypeError(f"linalg.{name}: expected tensors of one dtype, got {dtypes}")


def _constant(like: Tensor, array: Any) -> Tensor:
    return Tensor._from_op(get_array_module(like.data).asarray(array, dtype=like.dtype))


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix: ``A @ inv(A) = I``.

    Args:
        A: Square matrices, shape (..., n, n).

    Returns:
        The inverses, shape (..., n, n); ``LinAlgError`` if a matrix is singular.
    """
    _check("inv", A)
    return dec.Inv.apply(A)


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix, shape (...); its gradient, the transposed
    adjugate, is also defined for singular matrices."""
    _check("det", A)
    return dec.Det.apply(A)


def slogdet(A: Tensor) -> SlogdetResult:
    """The sign and the log of the absolute value of each determinant, computed without
    over- or underflow: ``det(A) = sign * exp(logabsdet)``.

    Args:
        A: Square matrices, shape (..., n, n).

    Returns:
        ``(sign, logabsdet)``, each of shape (...); a singular matrix has sign 0 and
        logabsdet -inf. Only ``logabsdet`` has a gradient (``A^-T``).
    """
    _check("slogdet", A)
    sign, logabsdet = dec.SlogDet.apply(A).unbind(-1)
    return SlogdetResult(sign.detach(), logabsdet)


def logdet(A: Tensor) -> Tensor:
    """The log of each determinant: NaN where it is negative, -inf where it is 0."""
    sign, logabsdet = slogdet(A)
    return logabsdet.where(sign.data >= 0, math.nan)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` with ``left=False``).

    Args:
        A: Invertible square matrices, shape (..., n, n).
        B: Right-hand sides: matrices (..., n, k), or vectors (..., n) when ``B`` is 1-D or
            has one axis less than ``A`` with A's shape but the last axis (as in PyTorch).
            Batch axes broadcast.
        left: Solve ``A X = B`` (True) or ``X A = B`` (False).

    Returns:
        X, with B's shape (batch axes broadcast).
    """
    vector = _check_solve("solve", A, B, left)
    if vector:
        return dec.Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    if not left:
        return dec.Solve.apply(A.mT, B.mT).mT
    return dec.Solve.apply(A, B)


def _check_solve(name: str, A: Tensor, B: Tensor, left: bool) -> bool:
    """Check the arguments of ``solve``; whether B holds vectors."""
    _check(name, A)
    _check_float(name, A, B)
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]))
    if B.ndim < 1 or (not vector and (B.ndim < 2 or B.shape[-2 if left else -1] != A.shape[-1])):
        side = "A X = B" if left else "X A = B"
        raise ValueError(
            f"linalg.{name}: cannot solve {side} for A of shape {A.shape} and B of shape "
            f"{B.shape}; B needs {A.shape[-1]} {'rows' if left else 'columns'}"
        )
    _check_batches(name, A, B, vector)
    return vector


def solve_ex(
    A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False
) -> SolveExResult:
    """``solve`` that reports singular matrices in ``info`` instead of raising.

    Args:
        A: Square matrices, shape (..., n, n).
        B: Right-hand sides, as for ``solve``.
        left: Solve ``A X = B`` (True) or ``X A = B`` (False).
        check_errors: Raise ``LinAlgError`` for a singular matrix after all.

    Returns:
        ``(result, info)``: info (int32, A's batch shape) is ``lu_factor_ex``'s, 0 where a
        matrix is invertible; the result holds inf or NaN for the others. The gradient is
        that of ``solve``.
    """
    vector = _check_solve("solve_ex", A, B, left)
    result = _unless_failed(lambda: solve(A, B, left=left), _finite)
    if result is not None:
        return SolveExResult(result, _no_errors(A))
    LU, pivots, info = lu_factor_ex(A)
    if check_errors:
        _raise_for(info, "solve_ex", lambda _: "the solver failed because the input is singular")
    result = lu_solve(LU, pivots, B.unsqueeze(-1) if vector else B, left=left)
    return SolveExResult(result.squeeze(-1) if vector else result, info)


def _unless_failed(compute: Callable[[], Tensor], valid: Callable[[Any], Any]) -> Tensor | None:
    """``compute()`` (LAPACK's routines, the fast way), or None where it failed for a matrix
    of the batch: NumPy raises, CuPy by default gives results that are not ``valid``."""
    try:
        result = compute()
    except dec.LinAlgError:
        return None
    return result if bool(valid(result.data).all()) else None


def _finite(array: Any) -> Any:
    return get_array_module(array).isfinite(array)


def _no_errors(A: Tensor) -> Tensor:
    """A zero info for each matrix of A."""
    return Tensor._from_op(get_array_module(A.data).zeros(A.shape[:-2], dtype=np.int32))


def _raise_for(info: Tensor, name: str, reason: Callable[[int], str]) -> None:
    """Raise ``LinAlgError`` for the first matrix whose ``info`` is not 0, with
    ``reason(info)``."""
    codes = info.numpy().reshape(-1)
    failed = np.flatnonzero(codes)
    if failed.size:
        where = f" (batch element {failed[0]})" if info.ndim else ""
        raise dec.LinAlgError(f"linalg.{name}{where}: {reason(int(codes[failed[0]]))}")


def _check_batches(name: str, A: Tensor, B: Tensor, vector: bool) -> None:
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[: -1 if vector else -2])
    except ValueError:
        raise ValueError(
            f"linalg.{name}: the batch axes of A of shape {A.shape} and B of shape {B.shape} "
            "do not broadcast"
        ) from None


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """The solution X of ``A X = B`` (or ``X A = B``) for triangular A.

    Args:
        A: Square matrices (..., n, n); only the triangle named by ``upper`` is read.
        B: Matrices (..., n, k) (or (..., k, n) with ``left=False``); batch axes broadcast.
        upper: Use A's upper (True) or lower (False) triangle.
        left: Solve ``A X = B`` (True) or ``X A = B`` (False).
        unitriangular: Take A's diagonal as all ones (it is not read).

    Returns:
        X; the gradient of A is confined to the triangle read.
    """
    _check("solve_triangular", A)
    _check_float("solve_triangular", A, B)
    if B.ndim < 2 or B.shape[-2 if left else -1] != A.shape[-1]:
        raise ValueError(
            f"linalg.solve_triangular: A of shape {A.shape} and B of shape {B.shape} do not "
            f"fit; B needs {A.shape[-1]} {'rows' if left else 'columns'}"
        )
    _check_batches("solve_triangular", A, B, False)
    offset = 1 if unitriangular else 0
    triangle = A.triu(offset) if upper else A.tril(-offset)
    if unitriangular:
        triangle = triangle + _constant(A, np.eye(A.shape[-1]))
    return solve(triangle, B, left=left)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: lower triangular L with
    ``A = L L^T``, read from A's lower triangle (or, if ``upper``, upper triangular U with
    ``A = U^T U``, read from A's upper triangle). The gradient is symmetric. ``LinAlgError``
    if a matrix is not positive-definite.
    """
    _check("cholesky", A)
    return dec.Cholesky.apply(A.mT).mT if upper else dec.Cholesky.apply(A)


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """The QR decomposition ``A = Q R`` of matrices (..., m, n), k = min(m, n).

    Args:
        A: Matrices, shape (..., m, n).
        mode: ``"reduced"`` (Q (..., m, k), R (..., k, n)), ``"complete"`` (Q (..., m, m),
            R (..., m, n)) or ``"r"`` (R only; Q is empty).

    Returns:
        ``(Q, R)``. As in PyTorch, there is no gradient with ``mode="r"``, nor with
        ``mode="complete"`` when m > n.
    """
    _check("qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = A.shape[-2:]
    k = min(m, n)
    q_shape = {"reduced": (m, k), "complete": (m, m), "r": (0, 0)}[mode]
    r_shape = (m if mode == "complete" else k, n)
    q, r = dec.unpack(dec.Qr.apply(A, mode=mode), (q_shape, r_shape))
    return QRResult(q.reshape(0) if mode == "r" else q, r)


def _check_uplo(name: str, UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.{name}: UPLO must be 'L' or 'U', got {UPLO!r}")


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices.

    Args:
        A: Symmetric matrices (..., n, n); only the triangle named by ``UPLO`` is read.
        UPLO: ``"L"`` (lower) or ``"U"`` (upper).

    Returns:
        ``(eigenvalues, eigenvectors)``, shapes (..., n) and (..., n, n), with
        ``A = Q diag(w) Q^T``. Eigenvectors are unique only up to sign: the gradient is that
        of functions that do not depend on the signs, and it is infinite for repeated
        eigenvalues when the eigenvectors are used.
    """
    _check("eigh", A)
    _check_uplo("eigh", UPLO)
    n = A.shape[-1]
    w, q = dec.unpack(dec.Eigh.apply(A, uplo=UPLO), ((n,), (n, n)))
    return EighResult(w, q)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of symmetric matrices (..., n, n), from the triangle
    named by ``UPLO``; the gradient is ``Q diag(g) Q^T``."""
    _check("eigvalsh", A)
    _check_uplo("eigvalsh", UPLO)
    return dec.EigvalsH.apply(A, uplo=UPLO)


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> SVDResult:
    """The singular value decomposition ``A = U diag(S) Vh`` of matrices (..., m, n).

    Args:
        A: Matrices, shape (..., m, n); k = min(m, n).
        full_matrices: U (..., m, m) and Vh (..., n, n) if True, else (..., m, k) and
            (..., k, n).
        driver: Accepted for PyTorch compatibility (CUDA only there); must be None.

    Returns:
        ``(U, S, Vh)`` with S (..., k) descending. Singular vectors are unique only up to
        sign: the gradient is that of functions that do not depend on the signs, infinite
        for repeated singular values when the vectors are used. As in PyTorch, columns of U
        and rows of Vh past k (with ``full_matrices``) get no gradient.
    """
    _check("svd", A, square=False)
    if driver is not None:
        raise ValueError(f"linalg.svd: driver is for CUDA in PyTorch; got {driver!r}")
    m, n = A.shape[-2:]
    k = min(m, n)
    shapes = ((m, m), (k,), (n, n)) if full_matrices else ((m, k), (k,), (k, n))
    u, s, vh = dec.unpack(dec.Svd.apply(A, full_matrices=full_matrices), shapes)
    return SVDResult(u, s, vh)


def svdvals(A: Tensor) -> Tensor:
    """The singular values (descending) of matrices (..., m, n), shape (..., min(m, n));
    the gradient is ``U diag(g) V^T``."""
    _check("svdvals", A, square=False)
    return dec.SvdVals.apply(A)


def _tolerances(A: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's tolerances for small singular values, as arrays that broadcast against
    (..., 1): rtol defaults to eps * max(m, n) if neither is given, and to 0 if atol is."""
    xp = get_array_module(A.data)
    if rtol is None:
        given = atol is not None and bool((xp.asarray(_data(atol)) > 0).any())
        rtol = 0.0 if given else np.finfo(A.dtype).eps * max(A.shape[-2:])
    atol = 0.0 if atol is None else atol
    return tuple(xp.asarray(_data(t), dtype=A.dtype)[..., None] for t in (atol, rtol))


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of matrices (..., m, n), through the SVD (or, with
    ``hermitian``, the eigendecomposition of symmetric A).

    Args:
        A: Matrices, shape (..., m, n).
        atol: Singular values at most ``max(atol, rtol * largest)`` count as zero (a
            number, or a tensor that broadcasts to the batch axes).
        rtol: See ``atol``; defaults to ``eps * max(m, n)`` if neither is given, to 0 if
            only ``atol`` is.
        hermitian: A is symmetric (its lower triangle is read).

    Returns:
        The pseudo-inverses, shape (..., n, m). The gradient is PyTorch's, which also holds
        for rank-deficient A (where the pseudo-inverse keeps its rank).
    """
    _check("pinv", A, square=hermitian)
    atol, rtol = _tolerances(A, atol, rtol)
    return dec.Pinv.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)


def lstsq(
    A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None
) -> LstsqResult:
    """The least-squares solution X of ``A X = B``: the X of smallest norm among those that
    minimise ``||A X - B||``, through the pseudo-inverse of A.

    Args:
        A: Matrices, shape (..., m, n).
        B: Right-hand sides (..., m, k), or (..., m) when B has one axis less than A;
            batch axes broadcast.
        rcond: Singular values below ``rcond`` times the largest count as zero; defaults to
            ``eps * max(m, n)``.
        driver: Accepted for PyTorch compatibility; the solution does not depend on it.

    Returns:
        ``(solution, residuals, rank, singular_values)``; see ``LstsqResult``.
    """
    _check("lstsq", A, square=False)
    _check_float("lstsq", A, B)
    vector = B.ndim == A.ndim - 1
    if B.ndim < 1 or B.shape[-1 if vector else -2] != A.shape[-2]:
        raise ValueError(
            f"linalg.lstsq: A of shape {A.shape} and B of shape {B.shape} do not fit; B needs "
            f"{A.shape[-2]} rows"
        )
    _check_batches("lstsq", A, B, vector)
    pseudo_inverse = pinv(A, rtol=rcond)
    solution = (pseudo_inverse @ B.unsqueeze(-1)).squeeze(-1) if vector else pseudo_inverse @ B
    empty = _constant(A, np.zeros(0))
    return LstsqResult(solution, empty, matrix_rank(A, rtol=rcond), empty)


def matrix_rank(
    A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False
) -> Tensor:
    """The number of singular values of each matrix above ``max(atol, rtol * largest)``
    (see ``pinv``), as int64 (without gradient)."""
    _check("matrix_rank", A, square=hermitian)
    xp = get_array_module(A.data)
    if hermitian:
        values = xp.abs(dec._lapack("matrix_rank", xp.linalg.eigvalsh, A.data))
    else:
        values = dec._lapack("matrix_rank", xp.linalg.svd, A.data, compute_uv=False)
    largest = values.max(-1, keepdims=True) if values.shape[-1] else values
    atol, rtol = _tolerances(A, atol, rtol)
    kept = values > xp.maximum(atol, rtol * largest)
    return Tensor._from_op(kept.sum(-1).astype(np.int64))


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` multiplied with itself ``n`` times (by repeated squaring); ``n = 0`` gives the
    identity, a negative ``n`` the power of ``inv(A)``."""
    _check("matrix_power", A)
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        identity = _constant(A, np.broadcast_to(np.eye(A.shape[-1]), A.shape))
        return identity.where(_constant(A, np.ones(A.shape)).bool(), A)
    base, n = (inv(A), int(-n)) if n < 0 else (A, int(n))
    while not n & 1:
        base, n = base @ base, n >> 1
    result, n = base, n >> 1
    while n:
        base = base @ base
        if n & 1:
            result = result @ base
        n >>= 1
    return result


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential ``sum_k A^k / k!`` of square matrices (..., n, n)."""
    _check("matrix_exp", A)
    return dec.MatrixExp.apply(A)


def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The vector ``ord``-norm ``(sum |x|^ord)^(1/ord)`` over ``dim`` (all elements if None).

    Args:
        x: A float tensor.
        ord: Any number: ``inf`` is ``max |x|``, ``-inf`` ``min |x|``, 0 the number of
            non-zero elements (with gradient 0).
        dim: An axis or axes to reduce; None for all.
        keepdim: Keep reduced axes with size 1.
        dtype: Compute in this dtype.

    Returns:
        The norms.
    """
    if dtype is not None:
        x = x.to(dtype=dtype)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"linalg.vector_norm: expected a float32 or float64 tensor, got {x.dtype}")
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return x.norm(ord, dim, keepdim)


def matrix_norm(
    A: Tensor,
    ord: float | str = "fro",
    dim: tuple[int, int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """A matrix norm of the matrices in the axes ``dim``.

    Args:
        A: A float tensor with at least 2 axes.
        ord: ``"fro"`` (Frobenius), ``"nuc"`` (sum of singular values), 2 / -2 (largest /
            smallest singular value), 1 / -1 (largest / smallest column sum of ``|A|``),
            ``inf`` / ``-inf`` (largest / smallest row sum of ``|A|``).
        dim: The two axes that hold the matrices.
        keepdim: Keep them with size 1.
        dtype: Compute in this dtype.

    Returns:
        The norms.
    """
    if dtype is not None:
        A = A.to(dtype=dtype)
    _check("matrix_norm", A, square=False)
    if len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must name two axes, got {dim}")
    rows, cols = (d % A.ndim for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.matrix_norm: dim must name two different axes, got {dim}")
    if ord == "fro":
        return A.norm(2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(A.movedim((rows, cols), (-2, -1)))
        result = (
            values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else values.amin(-1)
        )
        if keepdim:
            for axis in sorted((rows, cols)):
                result = result.unsqueeze(axis)
        return result
    sums = {1: rows, -1: rows, math.inf: cols, -math.inf: cols}
    if isinstance(ord, str) or ord not in sums:
        raise ValueError(
            f"linalg.matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or -inf, got {ord!r}"
        )
    summed, other = sums[ord], cols if sums[ord] == rows else rows
    totals = A.abs().sum(summed, keepdim=True)
    result = totals.amax(other, keepdim=True) if ord > 0 else totals.amin(other, keepdim=True)
    return result if keepdim else result.squeeze((rows, cols))


def norm(
    A: Tensor,
    ord: float | str | None = None,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """A vector or matrix norm, as ``torch.linalg.norm``.

    With ``dim`` one axis, the vector norm over it (``ord`` 2 by default); with two axes, the
    matrix norm (``ord`` ``"fro"`` by default). Without ``dim``: the 2-norm of all elements
    if ``ord`` is None, else the vector norm of a 1-D or the matrix norm of a 2-D ``A``.
    """
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise ValueError(
                f"linalg.norm: with ord and without dim, A must be 1-D or 2-D, got shape {A.shape}"
            )
        dim = tuple(range(A.ndim))
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, (dim[0], dim[1]), keepdim, dtype=dtype)
    if dim is not None and len(dim) != 1:
        raise ValueError(f"linalg.norm: dim must name one or two axes, got {dim}")
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: ord {ord!r} is for matrix norms (two axes in dim)")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cross(a: Tensor, b: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim``; other axes broadcast."""
    _check_float("cross", a, b)
    a, b = _broadcast("cross", a, b)
    if a.ndim == 0 or a.shape[dim] != 3:
        raise ValueError(
            f"linalg.cross: dim {dim} must have size 3, got shapes {a.shape} and {b.shape}"
        )
    dim %= a.ndim
    return a.roll(-1, dim) * b.roll(-2, dim) - a.roll(-2, dim) * b.roll(-1, dim)


def _broadcast(name: str, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"linalg.{name}: shapes {a.shape} and {b.shape} do not broadcast"
        ) from None
    return (a if a.shape == shape else a.expand(shape)), (
        b if b.shape == shape else b.expand(shape)
    )


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices, multiplied in the order that needs the fewest
    operations; the first may be a 1-D row vector and the last a 1-D column vector."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot needs at least 2 tensors, got {len(tensors)}")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first_vector:
        tensors[0] = tensors[0].unsqueeze(0)
    if last_vector:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    for i, t in enumerate(tensors):
        if t.ndim != 2:
            raise ValueError(
                f"linalg.multi_dot: tensor {i} must be 2-D (the first and last may be 1-D), "
                f"got shape {t.shape}"
            )
    for i in range(len(tensors) - 1):
        if tensors[i].shape[1] != tensors[i + 1].shape[0]:
            raise ValueError(
                f"linalg.multi_dot: tensors {i} and {i + 1} of shapes {tensors[i].shape} and "
                f"{tensors[i + 1].shape} cannot be multiplied"
            )
    sizes = [tensors[0].shape[0], *(t.shape[1] for t in tensors)]
    split = _chain_order(sizes)

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return tensors[i]
        k = split[i][j]
        return product(i, k) @ product(k + 1, j)

    result = product(0, len(tensors) - 1)
    if first_vector:
        result = result.squeeze(0)
    return result.squeeze(-1) if last_vector else result


def _chain_order(sizes: list[int]) -> list[list[int]]:
    """Where to split each sub-chain i..j of matrices (sizes[i] x sizes[i + 1]) for the
    fewest multiplications (the textbook dynamic programme)."""
    count = len(sizes) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf  # type: ignore[call-overload]
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim``; other axes broadcast."""
    return (x * y).sum(dim)


def matmul(A: Tensor, B: Tensor) -> Tensor:
    """``A @ B`` (``torch.linalg.matmul``)."""
    return A.matmul(B)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of the matrices in the axes ``dim1`` and ``dim2``, as a last axis."""
    return A.diagonal(offset, dim1, dim2)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``inv`` that reports singular matrices in ``info`` instead of raising.

    Args:
        A: Square matrices, shape (..., n, n).
        check_errors: Raise ``LinAlgError`` for a singular matrix after all.

    Returns:
        ``(inverse, info)``: info (int32, A's batch shape) is ``lu_factor_ex``'s, 0 where a
        matrix is invertible; the inverse holds inf or NaN for the others. The gradient is
        that of ``inv``.
    """
    _check("inv_ex", A)
    inverse = _unless_failed(lambda: inv(A), _finite)
    if inverse is not None:
        return InvExResult(inverse, _no_errors(A))
    LU, pivots, info = lu_factor_ex(A)
    if check_errors:
        _raise_for(info, "inv_ex", _singular)
    identity = _constant(A, np.broadcast_to(np.eye(A.shape[-1]), A.shape))
    return InvExResult(lu_solve(LU, pivots, identity), info)


def _singular(code: int) -> str:
    return f"the diagonal element {code} is zero: the input is singular"


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """``cholesky`` that reports matrices that are not positive-definite in ``info`` instead
    of raising.

    Args:
        A: Symmetric matrices (..., n, n); the triangle named by ``upper`` is read.
        upper: Give U with ``A = U^T U`` instead of L with ``A = L L^T``.
        check_errors: Raise ``LinAlgError`` for a matrix that is not positive-definite.

    Returns:
        ``(L, info)``: info (int32, A's batch shape) is the order of the first leading minor
        that is not positive-definite (0 if none); such a matrix keeps the columns of its
        factor computed before that one. The gradient is that of ``cholesky``.
    """
    _check("cholesky_ex", A)
    source = A.mT if upper else A
    factor = _unless_failed(lambda: dec.Cholesky.apply(source), _cholesky_factor)
    info = _no_errors(A)
    if factor is None:
        n = A.shape[-1]
        factor, codes = dec.unpack(dec.CholeskyEx.apply(source), ((n, n), (1,)))
        info = codes[..., 0].detach().to(dtype=dtypes.int32)
        if check_errors:
            _raise_for(
                info,
                "cholesky_ex",
                lambda code: f"the leading minor of order {code} is not positive-definite",
            )
    return CholeskyExResult(factor.mT if upper else factor, info)


def _cholesky_factor(lower: Any) -> Any:
    """Whether ``lower`` is finite with a positive diagonal, as a factor is."""
    xp = get_array_module(lower)
    return xp.isfinite(lower).all((-2, -1)) & (xp.diagonal(lower, 0, -2, -1) > 0).all(-1)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorExResult:
    """The LU factorization ``A = P L U`` of matrices (..., m, n), packed as LAPACK's getrf
    gives it, with partial pivoting (the largest magnitude of each column).

    Args:
        A: Matrices, shape (..., m, n); singular ones are factorized all the same.
        pivot: Swap rows (partial pivoting); without, ``pivots`` are 1, ..., min(m, n).
        check_errors: Raise ``LinAlgError`` where U has a zero on its diagonal.

    Returns:
        ``(LU, pivots, info)``: LU (..., m, n) holds L below the diagonal (its unit diagonal
        left out) and U on and above it; pivots (int32, (..., min(m, n))) are the row swaps
        in order, 1-based; info (int32) is the 1-based place of the first zero on U's
        diagonal, or 0. LU has PyTorch's gradient.
    """
    _check("lu_factor_ex", A, square=False)
    m, n = A.shape[-2:]
    LU, pivots, info = dec.unpack(dec.LuFactor.apply(A, pivot=pivot), ((m, n), (min(m, n),), (1,)))
    info = info[..., 0].detach().to(dtype=dtypes.int32)
    if check_errors:
        _raise_for(info, "lu_factor_ex", _zero_pivot)
    return LUFactorExResult(LU, pivots.detach().to(dtype=dtypes.int32), info)


def _zero_pivot(code: int) -> str:
    return (
        f"U[{code},{code}] is zero, so lu_solve would divide by zero with this factorization; "
        "linalg.lu or linalg.lu_factor_ex factorize such a matrix all the same"
    )


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """``lu_factor_ex`` without ``info``: ``(LU, pivots)``, or ``LinAlgError`` where U has a
    zero on its diagonal (the matrix is singular)."""
    _check("lu_factor", A, square=False)
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    _raise_for(info, "lu_factor", _zero_pivot)
    return LUFactorResult(LU, pivots)


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """The LU decomposition ``A = P L U`` of matrices (..., m, n), k = min(m, n).

    Args:
        A: Matrices, shape (..., m, n); singular ones are decomposed all the same.
        pivot: Swap rows (partial pivoting); without, P is empty (shape (0,)).

    Returns:
        ``(P, L, U)``: the permutation matrix P (..., m, m) (without gradient), unit lower
        triangular L (..., m, k) and upper triangular U (..., k, n), with PyTorch's
        gradients.
    """
    _check("lu", A, square=False)
    m, n = A.shape[-2:]
    k = min(m, n)
    LU, pivots, _ = lu_factor_ex(A, pivot=pivot)
    xp = get_array_module(A.data)
    lower = LU[..., :, :k].tril(-1) + _constant(A, np.eye(m, k))
    upper = LU[..., :k, :].triu()
    if not pivot:
        return LUResult(_constant(A, np.zeros(0)), lower, upper)
    perm = dec.permutation(xp, pivots.data, m)
    permutation = Tensor._from_op((xp.arange(m)[:, None] == perm[..., None, :]).astype(A.dtype))
    return LUResult(permutation, lower, upper)


def lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False
) -> Tensor:
    """The solution X of ``A X = B`` from the LU factorization of A (``lu_factor``).

    Args:
        LU: ``lu_factor``'s LU of square matrices A, shape (..., n, n).
        pivots: Its pivots, int32 (..., n).
        B: Right-hand sides (..., n, k) (or (..., k, n) with ``left=False``); batch axes of
            the three broadcast.
        left: Solve ``A X = B`` (True) or ``X A = B`` (False).
        adjoint: Solve with A^T in place of A.

    Returns:
        X; gradients flow to ``LU`` and ``B``. A zero on U's diagonal gives inf and NaN.
    """
    _check("lu_solve", LU)
    _check_float("lu_solve", LU, B)
    n = LU.shape[-1]
    if pivots.dtype != np.int32 or pivots.ndim < 1 or pivots.shape[-1] != n:
        raise TypeError(
            f"linalg.lu_solve: expected int32 pivots of shape (..., {n}) for LU of shape "
            f"{LU.shape}, got {pivots.dtype} of shape {pivots.shape}"
        )
    if B.ndim < 2 or B.shape[-2 if left else -1] != n:
        raise ValueError(
            f"linalg.lu_solve: LU of shape {LU.shape} and B of shape {B.shape} do not fit; "
            f"B needs {n} {'rows' if left else 'columns'}"
        )
    try:
        np.broadcast_shapes(LU.shape[:-2], pivots.shape[:-1], B.shape[:-2])
    except ValueError:
        raise ValueError(
            f"linalg.lu_solve: the batch axes of LU of shape {LU.shape}, pivots of shape "
            f"{pivots.shape} and B of shape {B.shape} do not broadcast"
        ) from None
    xp = get_array_module(pivots.data)
    if pivots.numel() and (int(xp.min(pivots.data)) < 1 or int(xp.max(pivots.data)) > n):
        raise ValueError(f"linalg.lu_solve: pivots must lie in [1, {n}]")
    if not left:  # X A = B is A^T X^T = B^T
        return dec.LuSolve.apply(LU, B.mT, pivots=pivots.data, adjoint=not adjoint).mT
    return dec.LuSolve.apply(LU, B, pivots=pivots.data, adjoint=adjoint)


_COND_ORDERS = (2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc")


def cond(A: Tensor, p: float | str | None = None) -> Tensor:
    """The condition number of matrices (..., m, n) in a matrix norm.

    Args:
        A: Matrices; square except for p None, 2 and -2.
        p: None or 2: the largest singular value over the smallest (-2: the reverse);
            ``"nuc"``: the sum of the singular values times that of their reciprocals;
            ``"fro"``, 1, -1, inf, -inf: ``norm(A, p) * norm(inv(A), p)``, inf for a
            singular matrix.

    Returns:
        The condition numbers, shape (...); 0 for empty matrices.
    """
    if A.ndim < 2:
        raise ValueError(f"linalg.cond: expected a matrix or a batch of matrices, got {A.shape}")
    if p is not None and (isinstance(p, bool) or p not in _COND_ORDERS):
        raise ValueError(
            f"linalg.cond: p must be None, 2, -2, 1, -1, inf, -inf, 'fro' or 'nuc', got {p!r}"
        )
    _check("cond", A, square=p not in (None, 2, -2))
    if A.numel() == 0:
        return _constant(A, np.zeros(A.shape[:-2]))
    if p in (None, 2, -2, "nuc"):
        values = svdvals(A)
        if p == "nuc":
            return values.sum(-1) * values.reciprocal().sum(-1)
        largest, smallest = values[..., 0], values[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    inverse, info = inv_ex(A)
    invertible = _constant(A, info.data == 0).bool()
    # NOTE: zeros, not inf, stand in for the missing inverses: a zero matrix would give 0 * inf
    product = matrix_norm(A, p) * matrix_norm(
        inverse.where(invertible.unsqueeze(-1).unsqueeze(-1), 0.0), p
    )
    return product.where(invertible, math.inf)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The tensor T with ``tensordot(T, A, ind) = I``: the inverse of A seen as a matrix of
    ``prod(A.shape[:ind])`` rows, of shape ``A.shape[ind:] + A.shape[:ind]``."""
    if not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive int, got {ind!r}")
    rows, columns = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != columns:
        raise ValueError(
            f"linalg.tensorinv: the product of the first {ind} dims of shape {A.shape} "
            f"({rows}) must equal that of the others ({columns})"
        )
    _check_float("tensorinv", A)
    return inv(A.reshape(rows, columns)).reshape(*A.shape[ind:], *A.shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """The X with ``tensordot(A, X, X.ndim) = B``, of shape ``A.shape[B.ndim:]``.

    Args:
        A: A tensor whose first ``B.ndim`` dims match B's shape, with as many elements in
            them as in the others.
        B: The right-hand side.
        dims: Dims of A to move to its end first (in this order).

    Returns:
        X, with gradients to A and B (through ``solve``).
    """
    _check_float("tensorsolve", A, B)
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)
    shape = A.shape[B.ndim :]
    rows, columns = math.prod(A.shape[: B.ndim]), math.prod(shape)
    if A.shape[: B.ndim] != B.shape or rows != columns:
        raise ValueError(
            f"linalg.tensorsolve: A of shape {A.shape} needs B of shape {A.shape[: B.ndim]} "
            f"with as many elements as the rest of A ({columns}), got B of shape {B.shape}"
        )
    return solve(A.reshape(rows, columns), B.reshape(rows)).reshape(shape)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of the last axis of ``x``: powers ``x**0, x**1, ..., x**(N-1)``
    as columns (increasing, unlike ``ac.vander``), shape ``(..., n, N)``.

    Args:
        x: Float or integer values (..., n) (a 0-d tensor counts as one value); integers
            give int64.
        N: The number of columns, at least 2; n if None.
    """
    if x.dtype not in (np.float32, np.float64) and x.dtype.kind not in "iu":
        raise TypeError(
            f"linalg.vander: expected a float32, float64 or integer tensor, got {x.dtype}"
        )
    values = x.reshape(1) if x.ndim == 0 else x
    columns = values.shape[-1] if N is None else N
    if columns <= 1:
        raise ValueError(f"linalg.vander: N must be greater than 1, got {columns}")
    if values.dtype.kind in "iu":
        values = values.to(dtype=dtypes.int64)
    powers = values.unsqueeze(-1).expand(*values.shape, columns - 1).cumprod(-1)
    ones = _constant(powers, np.ones((*values.shape, 1)))
    return Cat.apply(ones, powers, dim=powers.ndim - 1)
