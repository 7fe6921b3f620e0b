"""Linear algebra, as ``torch.linalg``: inverses, determinants, solvers, decompositions, norms.

Every function works on batches: a "matrix" argument is a tensor whose last two axes are
the matrix, and leading axes are batch axes (they broadcast where two matrices meet).
Inputs must be float32 or float64. Where a matrix has no inverse or no decomposition (a
singular matrix for ``inv`` or ``solve``, one that is not positive-definite for
``cholesky``), a ``LinAlgError`` (a ``RuntimeError``) names the function.

Example:
    >>> A = ac.randn(3, 3, dtype=ac.float64, req_grad=True)
    >>> x = ac.linalg.solve(A, ac.ones(3, dtype=ac.float64))
    >>> ac.linalg.vector_norm(x).backward()
"""

from auto_compyute._core.linalg import (
    EighResult,
    LstsqResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    SVDUSVResult,
    cholesky,
    cross,
    det,
    diagonal,
    eigh,
    eigvalsh,
    inv,
    logdet,
    lstsq,
    matmul,
    matrix_exp,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)
from auto_compyute._core.ops.decompositions import LinAlgError

__all__ = [
    "EighResult",
    "LinAlgError",
    "LstsqResult",
    "QRResult",
    "SVDResult",
    "SVDUSVResult",
    "SlogdetResult",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "logdet",
    "lstsq",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]
