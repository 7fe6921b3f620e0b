"""Inverses, determinants and decompositions of batches of matrices (the last two axes).

Ops with several results (``Eigh``, ``Svd``, ``Qr``) return them packed side by side in one
array, ``(..., size_1 + size_2 + ...)``, which ``unpack`` splits into views again: the
gradient of each result comes back through its slice (zeros where a result went unused).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.ops.movement import Cat

if TYPE_CHECKING:
    from auto_compyute._core.tensor import Tensor

T = TypeVar("T")


class LinAlgError(RuntimeError):
    """A matrix function failed on its input: a singular matrix, one that is not
    positive-definite, or an algorithm that did not converge (``torch.linalg.LinAlgError``)."""


def _lapack(name: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args)``, with NumPy's LinAlgError raised as ours, naming the function.

    NOTE: CuPy's linalg raises no error by default (cuSOLVER's failures give NaN or inf
    results) unless ``cupyx.errstate(linalg="raise")`` is set; then it raises NumPy's
    LinAlgError, which becomes ours here as on the CPU.
    """
    try:
        return function(*args, **kwargs)
    except np.linalg.LinAlgError as error:
        raise LinAlgError(f"linalg.{name}: {_REASONS.get(str(error), str(error))}") from None


_REASONS = {
    "Singular matrix": "the input is singular (a matrix of the batch has no inverse)",
    "Matrix is not positive definite": (
        "the input is not positive-definite (a matrix of the batch has no Cholesky factor)"
    ),
}


def _mT(x: Array) -> Array:
    return get_array_module(x).swapaxes(x, -1, -2)


def pack(xp: Any, arrays: Sequence[Array], batch: tuple[int, ...]) -> Array:
    """Arrays with one batch shape, flattened and joined along a last axis."""
    return xp.concatenate([a.reshape(*batch, math.prod(a.shape[len(batch) :])) for a in arrays], -1)


def unpack(packed: Any, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """The arrays (or tensors) that ``pack`` joined, given their shapes without the batch."""
    batch, start, parts = tuple(packed.shape[:-1]), 0, []
    for shape in shapes:
        size = math.prod(shape)
        parts.append(packed[..., start : start + size].reshape((*batch, *shape)))
        start += size
    return parts


class Inv(Op):
    """A^-1; dA = -A^-T g A^-T."""

    def forward(self, a: Array) -> Array:
        self.out = _lapack("inv", get_array_module(a).linalg.inv, a)
        return self.out

    def backward(self, grad: Array) -> Array:
        inv_t = _mT(self.out)
        return -(inv_t @ grad @ inv_t)

    def graph_backward(self, grad: Tensor) -> Tensor:
        inv_t = self._result_tensor(self.out).mT
        return -(inv_t @ grad @ inv_t)


class Det(Op):
    """det(A); dA = g adj(A)^T (= g det(A) A^-T), through the SVD so that it also holds for
    singular A: adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T."""

    def forward(self, a: Array) -> Array:
        self.a = a
        self.out = get_array_module(a).linalg.det(a)
        return self.out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        u, s, vh = _lapack("det", xp.linalg.svd, self.a)
        ones = xp.ones_like(s[..., :1])
        before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], -1), -1)
        after = xp.cumprod(xp.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        adjugate_t = (u * (before * after)[..., None, :]) @ vh
        return (grad * sign)[..., None, None] * adjugate_t

    def graph_backward(self, grad: Tensor) -> Tensor:
        scale = (grad * self._result_tensor(self.out)).unsqueeze(-1).unsqueeze(-1)
        try:
            return scale * Inv.apply(self._input(0, self.a)).mT
        except LinAlgError:
            raise LinAlgError(
                "linalg.det: higher derivatives (create_graph=True) go through the inverse "
                "and need invertible matrices; a matrix of the batch is singular"
            ) from None


class SlogDet(Op):
    """sign(det(A)) and log|det(A)|, stacked on a last axis; only the latter has a gradient,
    dA = g A^-T."""

    def forward(self, a: Array) -> Array:
        self.a = a
        xp = get_array_module(a)
        return xp.stack(xp.linalg.slogdet(a), -1)

    def backward(self, grad: Array) -> Array:
        inverse = _lapack("slogdet", get_array_module(grad).linalg.inv, self.a)
        return grad[..., 1, None, None] * _mT(inverse)

    def graph_backward(self, grad: Tensor) -> Tensor:
        scale = grad[..., 1].unsqueeze(-1).unsqueeze(-1)
        return scale * Inv.apply(self._input(0, self.a)).mT


class Solve(Op):
    """X = A^-1 B for matrices B (batch axes broadcast); dB = A^-T g, dA = -dB X^T."""

    def forward(self, a: Array, b: Array) -> Array:
        self.a = a
        self.out = _lapack("solve", get_array_module(a).linalg.solve, a, b)
        return self.out

    def backward(self, grad: Array) -> tuple[Array | None, Array]:
        grad_b = _lapack("solve", get_array_module(grad).linalg.solve, _mT(self.a), grad)
        return (-(grad_b @ _mT(self.out)) if self.needs_grad[0] else None), grad_b

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        grad_b = Solve.apply(self._input(0, self.a).mT, grad)
        return -(grad_b @ self._result_tensor(self.out).mT), grad_b


class Cholesky(Op):
    """L with A = L L^T (from A's lower triangle); dA = sym(L^-T phi(L^T g) L^-1), where phi
    keeps the lower triangle with its diagonal halved and sym(X) = (X + X^T) / 2."""

    def forward(self, a: Array) -> Array:
        self.out = _lapack("cholesky", get_array_module(a).linalg.cholesky, a)
        return self.out

    def backward(self, grad: Array) -> Array:
        return _cholesky_backward(self.out, grad, get_array_module(grad).linalg.solve)

    def graph_backward(self, grad: Tensor) -> Tensor:
        lower = self._result_tensor(self.out)
        mask = _half_diagonal_tril(get_array_module(grad.data), grad.shape[-1], grad.dtype)
        phi = (lower.mT @ grad) * self._constant(mask)
        inverse = Inv.apply(lower)
        grad_a = inverse.mT @ phi @ inverse
        return 0.5 * (grad_a + grad_a.mT)


def _cholesky_backward(lower: Array, grad: Array, solve: Callable[[Array, Array], Array]) -> Array:
    """``Cholesky``'s gradient, with ``solve(T, B)`` = T^-1 B for the upper triangular L^T."""
    xp = get_array_module(grad)
    lower_t = _mT(lower)
    phi = (lower_t @ grad) * _half_diagonal_tril(xp, grad.shape[-1], grad.dtype)
    left = solve(lower_t, phi)  # L^-T phi
    grad_a = _mT(solve(lower_t, _mT(left)))  # L^-T phi L^-1
    return 0.5 * (grad_a + _mT(grad_a))


class CholeskyEx(Op):
    """L with A = L L^T and LAPACK's info (packed), for batches that hold matrices that are
    not positive-definite: info is the order of the first leading minor that is not
    (0 if none), and such a matrix keeps the columns computed before it. The gradient is
    ``Cholesky``'s."""

    def forward(self, a: Array) -> Array:
        xp = get_array_module(a)
        self.lower, info = _cholesky_ex(xp, a)
        return pack(xp, (self.lower, info[..., None].astype(a.dtype)), a.shape[:-2])

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        n = self.lower.shape[-1]
        grad_lower = unpack(grad, ((n, n), (1,)))[0]

        def solve(upper: Array, b: Array) -> Array:
            return _triangular_solve(xp, upper, b, upper=True)

        return _cholesky_backward(self.lower, grad_lower, solve)


def _cholesky_ex(xp: Any, a: Array) -> tuple[Array, Array]:
    """The Cholesky factors of a batch column by column (LAPACK's potf2), and the info of each
    matrix: the order of the first leading minor that is not positive-definite, or 0."""
    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    lower = xp.tril(flat)
    info = xp.zeros(flat.shape[0], dtype=np.int32)
    for j in range(n):
        done = lower[:, j, :j]
        pivot = flat[:, j, j] - (done * done).sum(-1)
        # NOTE: "not > 0" also catches NaN, as LAPACK does
        info = xp.where((info == 0) & ~(pivot > 0), j + 1, info)
        active, failed_here = info == 0, info == j + 1
        root = xp.sqrt(xp.where(active, pivot, 1))
        lower[:, j, j] = xp.where(active, root, xp.where(failed_here, pivot, lower[:, j, j]))
        column = flat[:, j + 1 :, j] - (lower[:, j + 1 :, :j] @ done[..., None])[..., 0]
        lower[:, j + 1 :, j] = xp.where(
            active[:, None], column / root[:, None], lower[:, j + 1 :, j]
        )
    return lower.reshape(a.shape), info.reshape(a.shape[:-2])


def _half_diagonal_tril(xp: Any, n: int, dtype: Any) -> Array:
    return xp.tril(xp.ones((n, n), dtype=dtype)) - 0.5 * xp.eye(n, dtype=dtype)


class Qr(Op):
    """Q and R (packed) with A = Q R; for m >= n:
    dA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q, copyltu(M) = tril(M) + tril(M, -1)^T.
    For m < n, A = [X | Y] = Q [U | V]: dY = Q gV, and dX as above with gQ + Y gV^T, gU."""

    def forward(self, a: Array, *, mode: str) -> Array:
        xp = get_array_module(a)
        if mode == "r":  # R alone; Q is empty, as in PyTorch
            q, r = xp.zeros((*a.shape[:-2], 0, 0), a.dtype), _lapack("qr", xp.linalg.qr, a, "r")
        else:
            q, r = _lapack("qr", xp.linalg.qr, a, mode)
        self.a, self.q, self.r = a, q, r
        self.out = pack(xp, (q, r), a.shape[:-2])
        return self.out

    def _check_differentiable(self) -> None:
        m, n = self.a.shape[-2:]
        if self.kwargs["mode"] == "r":
            raise RuntimeError(
                "linalg.qr: the derivative depends on Q, which mode='r' does not compute; "
                "use mode='reduced' to differentiate through qr"
            )
        if self.kwargs["mode"] == "complete" and m > n:
            raise RuntimeError(
                "linalg.qr: the QR decomposition is not differentiable when mode='complete' "
                f"and nrows > ncols (input shape {self.a.shape}); use mode='reduced'"
            )

    def backward(self, grad: Array) -> Array:
        self._check_differentiable()
        xp = get_array_module(grad)
        q, r = self.q, self.r
        m, n = self.a.shape[-2:]
        grad_q, grad_r = unpack(grad, (q.shape[-2:], r.shape[-2:]))
        if m >= n:
            return _qr_backward(xp, q, r, grad_q, grad_r)
        grad_u, grad_v = grad_r[..., :m], grad_r[..., m:]
        grad_x = _qr_backward(xp, q, r[..., :m], grad_q + self.a[..., m:] @ _mT(grad_v), grad_u)
        return xp.concatenate([grad_x, q @ grad_v], -1)

    def graph_backward(self, grad: Tensor) -> Tensor:
        self._check_differentiable()
        shapes = (self.q.shape[-2:], self.r.shape[-2:])
        q, r = unpack(self._result_tensor(self.out), shapes)
        grad_q, grad_r = unpack(grad, shapes)
        m, n = self.a.shape[-2:]
        if m >= n:
            return _qr_graph_backward(q, r, grad_q, grad_r)
        grad_u, grad_v = grad_r[..., :m], grad_r[..., m:]
        right = self._input(0, self.a)[..., m:]
        grad_x = _qr_graph_backward(q, r[..., :m], grad_q + right @ grad_v.mT, grad_u)
        return Cat.apply(grad_x, q @ grad_v, dim=grad_x.ndim - 1)


def _qr_backward(xp: Any, q: Array, r: Array, grad_q: Array, grad_r: Array) -> Array:
    m = r @ _mT(grad_r) - _mT(grad_q) @ q
    copied = xp.tril(m) + _mT(xp.tril(m, -1))
    return _mT(xp.linalg.solve(r, _mT(grad_q + q @ copied)))


def _qr_graph_backward(q: Tensor, r: Tensor, grad_q: Tensor, grad_r: Tensor) -> Tensor:
    m = r @ grad_r.mT - grad_q.mT @ q
    copied = m.tril() + m.tril(-1).mT
    return Solve.apply(r, (grad_q + q @ copied).mT).mT


class Eigh(Op):
    """Eigenvalues w (ascending) and eigenvectors Q (packed) of a symmetric A, from one triangle;
    dA = Q (diag(gw) + F o skew(Q^T gQ)) Q^T, with F_ij = 1 / (w_j - w_i), skew(X) = (X - X^T)/2.
    """

    def forward(self, a: Array, *, uplo: str) -> Array:
        xp = get_array_module(a)
        self.w, self.q = _lapack("eigh", xp.linalg.eigh, a, UPLO=uplo)
        self.out = pack(xp, (self.w, self.q), a.shape[:-2])
        return self.out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        w, q = self.w, self.q
        n = w.shape[-1]
        grad_w, grad_q = unpack(grad, ((n,), (n, n)))
        steps = xp.arange(n)
        inner = xp.zeros_like(q)
        if grad_q.any():  # NOTE: an unused Q adds nothing (and no 0/0 for repeated eigenvalues)
            projected = _mT(q) @ grad_q
            gaps = w[..., None, :] - w[..., :, None]
            gaps[..., steps, steps] = 1
            inner = 0.5 * (projected - _mT(projected)) / gaps
        inner[..., steps, steps] = grad_w
        return q @ inner @ _mT(q)

    def graph_backward(self, grad: Tensor) -> Tensor:
        n = self.w.shape[-1]
        w, q = unpack(self._result_tensor(self.out), ((n,), (n, n)))
        grad_w, grad_q = unpack(grad, ((n,), (n, n)))
        eye = self._constant(get_array_module(grad.data).eye(n, dtype=grad.dtype))
        inner = grad_w.unsqueeze(-1) * eye
        # NOTE: a zero gradient that depends on the graph (jvp's and hvp's placeholders, a
        # factor that is 0 at this point) still has a derivative: only a constant 0 is skipped
        if grad_q.data.any() or grad_q.requires_grad:
            projected = q.mT @ grad_q
            gaps = w.unsqueeze(-2) - w.unsqueeze(-1) + eye
            inner = inner + 0.5 * (projected - projected.mT) / gaps
        return q @ inner @ q.mT


class EigvalsH(Op):
    """Eigenvalues w (ascending) of a symmetric A, from one triangle; dA = Q diag(g) Q^T."""

    def forward(self, a: Array, *, uplo: str) -> Array:
        self.a = a
        w, self.q = _lapack("eigvalsh", get_array_module(a).linalg.eigh, a, UPLO=uplo)
        return w

    def backward(self, grad: Array) -> Array:
        return (self.q * grad[..., None, :]) @ _mT(self.q)

    def graph_backward(self, grad: Tensor) -> Tensor:
        n = self.q.shape[-1]
        packed = Eigh.apply(self._input(0, self.a), uplo=self.kwargs["uplo"])
        q = unpack(packed, ((n,), (n, n)))[1]  # Q, as a function of A
        return (q * grad.unsqueeze(-2)) @ q.mT


class Svd(Op):
    """U, S and V^T (packed) with A = U diag(S) V^T; PyTorch's gradient (k = min(m, n)):
    dA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T
         + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),
    with skew(X) = X - X^T and E_ij = S_j^2 - S_i^2. With ``full_matrices`` the columns of U
    and rows of V^T past k, any bases of their spaces, get no gradient (as in PyTorch)."""

    def forward(self, a: Array, *, full_matrices: bool) -> Array:
        xp = get_array_module(a)
        self.u, self.s, self.vh = _lapack("svd", xp.linalg.svd, a, full_matrices=full_matrices)
        self.out = pack(xp, (self.u, self.s, self.vh), a.shape[:-2])
        return self.out

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        u, s, vh = self.u, self.s, self.vh
        grad_u, grad_s, grad_vh = unpack(grad, (u.shape[-2:], s.shape[-1:], vh.shape[-2:]))
        k = s.shape[-1]
        steps = xp.arange(k)
        u, vh, grad_u, grad_vh = u[..., :k], vh[..., :k, :], grad_u[..., :k], grad_vh[..., :k, :]
        v, grad_v = _mT(vh), _mT(grad_vh)
        uses_u, uses_v = bool(grad_u.any()), bool(grad_v.any())
        inner = xp.zeros((*grad_s.shape, k), grad_s.dtype)
        if uses_u or uses_v:  # NOTE: unused vectors add nothing (and no 0/0 for equal values)
            squares = s * s
            gaps = squares[..., None, :] - squares[..., :, None]
            gaps[..., steps, steps] = 1
            if uses_u:
                projected = _mT(u) @ grad_u
                inner = inner + (projected - _mT(projected)) * s[..., None, :]
            if uses_v:
                projected = _mT(v) @ grad_v
                inner = inner + s[..., :, None] * (projected - _mT(projected))
            inner = inner / gaps
        inner[..., steps, steps] += grad_s
        grad_a = u @ inner @ vh
        m, n = self.u.shape[-2], self.vh.shape[-1]
        if m > k and uses_u:
            scaled = grad_u / s[..., None, :]
            grad_a = grad_a + (scaled - u @ (_mT(u) @ scaled)) @ vh
        if n > k and uses_v:
            scaled = grad_v / s[..., None, :]
            grad_a = grad_a + u @ (_mT(scaled) - (_mT(scaled) @ v) @ vh)
        return grad_a

    def graph_backward(self, grad: Tensor) -> Tensor:
        shapes = (self.u.shape[-2:], self.s.shape[-1:], self.vh.shape[-2:])
        u, s, vh = unpack(self._result_tensor(self.out), shapes)
        grad_u, grad_s, grad_vh = unpack(grad, shapes)
        k = s.shape[-1]
        u, vh, grad_u, grad_vh = u[..., :k], vh[..., :k, :], grad_u[..., :k], grad_vh[..., :k, :]
        v, grad_v = vh.mT, grad_vh.mT
        # NOTE: as in Eigh's, only a constant zero gradient is skipped
        uses_u = bool(grad_u.data.any()) or grad_u.requires_grad
        uses_v = bool(grad_v.data.any()) or grad_v.requires_grad
        eye = self._constant(get_array_module(grad.data).eye(k, dtype=grad.dtype))
        inner = grad_s.unsqueeze(-1) * eye
        if uses_u or uses_v:
            squares = s * s
            gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1) + eye
            if uses_u:
                projected = u.mT @ grad_u
                inner = inner + (projected - projected.mT) * s.unsqueeze(-2) / gaps
            if uses_v:
                projected = v.mT @ grad_v
                inner = inner + s.unsqueeze(-1) * (projected - projected.mT) / gaps
        grad_a = u @ inner @ vh
        m, n = self.u.shape[-2], self.vh.shape[-1]
        if m > k and uses_u:
            scaled = grad_u / s.unsqueeze(-2)
            grad_a = grad_a + (scaled - u @ (u.mT @ scaled)) @ vh
        if n > k and uses_v:
            scaled = grad_v / s.unsqueeze(-2)
            grad_a = grad_a + u @ (scaled.mT - (scaled.mT @ v) @ vh)
        return grad_a


class SvdVals(Op):
    """The singular values S of A, descending; dA = U diag(g) V^T."""

    def forward(self, a: Array) -> Array:
        self.a = a
        self.u, s, self.vh = _lapack(
            "svdvals", get_array_module(a).linalg.svd, a, full_matrices=False
        )
        return s

    def backward(self, grad: Array) -> Array:
        return (self.u * grad[..., None, :]) @ self.vh

    def graph_backward(self, grad: Tensor) -> Tensor:
        shapes = (self.u.shape[-2:], self.u.shape[-1:], self.vh.shape[-2:])
        packed = Svd.apply(self._input(0, self.a), full_matrices=False)
        u, _, vh = unpack(packed, shapes)  # U and V^T, as functions of A
        return (u * grad.unsqueeze(-2)) @ vh


class Pinv(Op):
    """The pseudo-inverse A^+ of A (m x n), through the SVD (the eigendecomposition if
    ``hermitian``), with singular values at most max(atol, rtol * largest) taken as zero.
    PyTorch's gradient (Golub and Pereyra, 1973), for m <= n with K = g^T A^+:
    dA = -(A^+ K)^T + K A^+^T - A A^+ K A^+^T + A^+^T A^+ (g^T - K A); for m > n the
    same with the roles of rows and columns swapped."""

    def forward(self, a: Array, *, atol: Array, rtol: Array, hermitian: bool) -> Array:
        xp = get_array_module(a)
        if hermitian:
            w, q = _lapack("pinv", xp.linalg.eigh, a)
            size = xp.abs(w)
            left, right = q, _mT(q)
        else:
            left, w, right = _lapack("pinv", xp.linalg.svd, a, full_matrices=False)
            size = w
        largest = size.max(-1, keepdims=True) if size.shape[-1] else size
        kept = size > xp.maximum(atol, rtol * largest)
        inverse = xp.where(kept, 1 / xp.where(kept, w, 1), 0).astype(a.dtype)
        self.a = a
        self.out = (_mT(right) * inverse[..., None, :]) @ _mT(left)
        return self.out

    def backward(self, grad: Array) -> Array:
        return _pinv_backward(self.a, self.out, grad, _mT)

    def graph_backward(self, grad: Tensor) -> Tensor:
        a, pinv = self._input(0, self.a), self._result_tensor(self.out)
        return _pinv_backward(a, pinv, grad, lambda x: x.mT)


def _pinv_backward(a: Any, pinv: Any, grad: Any, transpose: Callable[[Any], Any]) -> Any:
    """PyTorch's gradient of the pseudo-inverse, for arrays or tensors (see ``Pinv``)."""
    pinv_t, grad_t = transpose(pinv), transpose(grad)
    if a.shape[-2] <= a.shape[-1]:
        k = grad_t @ pinv
        k_pinv_t = k @ pinv_t
        return (
            -transpose(pinv @ k)
            + k_pinv_t
            - (a @ pinv) @ k_pinv_t
            + (pinv_t @ pinv) @ (grad_t - k @ a)
        )
    k = pinv @ grad_t
    pinv_t_k = pinv_t @ k
    return -transpose(k @ pinv) + (grad_t - a @ k) @ pinv @ pinv_t + pinv_t_k - pinv_t_k @ pinv @ a


class MatrixExp(Op):
    """exp(A) by scaling and squaring with a degree-13 Pade approximant (Higham, 2005);
    dA is the upper right block of exp([[A^T, g], [0, A^T]])."""

    def forward(self, a: Array) -> Array:
        self.a = a
        return _expm(get_array_module(a), a)

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        a_t, n = _mT(self.a), grad.shape[-1]
        top = xp.concatenate([a_t, grad], -1)
        bottom = xp.concatenate([xp.zeros_like(a_t), a_t], -1)
        return _expm(xp, xp.concatenate([top, bottom], -2))[..., :n, n:]

    def graph_backward(self, grad: Tensor) -> Tensor:
        a_t, n, last = self._input(0, self.a).mT, grad.shape[-1], grad.ndim - 1
        zeros = self._constant(get_array_module(grad.data).zeros_like(grad.data))
        top, bottom = Cat.apply(a_t, grad, dim=last), Cat.apply(zeros, a_t, dim=last)
        return MatrixExp.apply(Cat.apply(top, bottom, dim=last - 1))[..., :n, n:]


_PADE13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152


def _expm(xp: Any, a: Array) -> Array:
    """exp of each matrix of a batch: each is scaled by 2^-s to a 1-norm of at most theta_13,
    exponentiated by the Pade approximant, and squared back s times."""
    norms = xp.abs(a).sum(-2).max(-1)
    with np.errstate(divide="ignore"):
        squarings = xp.maximum(xp.ceil(xp.log2(norms / _THETA13)), 0)
    squarings = xp.where(xp.isfinite(squarings), squarings, 0).astype(np.int64)
    a = a / (2.0 ** squarings[..., None, None]).astype(a.dtype)
    b = _PADE13
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (
        a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye
    )
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    result = xp.linalg.solve(v - u, v + u)
    for step in range(int(squarings.max()) if squarings.size else 0):
        result = xp.where((squarings > step)[..., None, None], result @ result, result)
    return result


def _triangular_solve(
    xp: Any, triangle: Array, b: Array, *, upper: bool, unit: bool = False
) -> Array:
    """T^-1 B by substitution, for triangular T (..., n, n) of which only the triangle named by
    ``upper`` is read (without the diagonal if ``unit``: ones there), and B (..., n, k); batch
    axes broadcast. A zero on the diagonal gives inf and NaN rather than an error."""
    n = triangle.shape[-1]
    batch = np.broadcast_shapes(triangle.shape[:-2], b.shape[:-2])
    x = xp.empty((*batch, *b.shape[-2:]), dtype=np.result_type(triangle.dtype, b.dtype))
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(n - 1, -1, -1) if upper else range(n):
            known = slice(i + 1, None) if upper else slice(0, i)
            row = b[..., i, :] - (triangle[..., i : i + 1, known] @ x[..., known, :])[..., 0, :]
            x[..., i, :] = row if unit else row / triangle[..., i, i, None]
    return x


def _lu_factor(xp: Any, a: Array, pivot: bool) -> tuple[Array, Array, Array]:
    """LAPACK's getrf on a batch of (m, n) matrices: L (unit lower, its diagonal left out)
    and U packed into one matrix, the 1-based row swaps (int32, row i with row pivots[i] - 1,
    in order; i + 1 without ``pivot``) and info (the 1-based place of the first zero on U's
    diagonal, or 0). Partial pivoting picks the first largest magnitude of each column."""
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = a.reshape(-1, m, n).copy()
    count = lu.shape[0]
    every = xp.arange(count)
    pivots = xp.broadcast_to(xp.arange(1, k + 1, dtype=np.int32), (count, k)).copy()
    info = xp.zeros(count, dtype=np.int32)
    for j in range(k):
        if pivot:
            rows = j + xp.abs(lu[:, j:, j]).argmax(-1)
            pivots[:, j] = rows + 1
            swapped = lu[every, rows]
            lu[every, rows] = lu[:, j]
            lu[:, j] = swapped
        diagonal = lu[:, j, j]
        zero = diagonal == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        # NOTE: like LAPACK, a zero pivot scales nothing (its column is all zeros when pivoting)
        lu[:, j + 1 :, j] /= xp.where(zero, 1, diagonal)[:, None]
        lu[:, j + 1 :, j + 1 :] -= lu[:, j + 1 :, j, None] * lu[:, None, j, j + 1 :]
    batch = a.shape[:-2]
    return lu.reshape(a.shape), pivots.reshape((*batch, k)), info.reshape(batch)


def permutation(xp: Any, pivots: Array, m: int) -> Array:
    """The rows of P^T A as rows of A, ``perm`` with (P^T A)[i] = A[perm[i]], where
    A = P L U and ``pivots`` are LAPACK's 1-based row swaps of the factorization."""
    count = math.prod(pivots.shape[:-1])
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    swaps = pivots.reshape(count, -1).astype(np.int64) - 1
    every = xp.arange(count)
    for i in range(swaps.shape[-1]):
        rows = swaps[:, i]
        swapped = perm[every, rows]
        perm[every, rows] = perm[:, i]
        perm[:, i] = swapped
    return perm.reshape((*pivots.shape[:-1], m))


def _take_rows(xp: Any, x: Array, rows: Array) -> Array:
    """``x[..., rows[...,  i], :]`` for each i, with the batch axes of both broadcast."""
    batch = np.broadcast_shapes(x.shape[:-2], rows.shape[:-1])
    shape = (*batch, rows.shape[-1], x.shape[-1])
    index = xp.broadcast_to(rows[..., None], shape)
    return xp.take_along_axis(xp.broadcast_to(x, (*batch, *x.shape[-2:])), index, -2)


class LuFactor(Op):
    """The LU factorization A = P L U of (m, n) matrices, k = min(m, n): LU (L's strict lower
    and U's upper triangle in one matrix), the pivots and info, packed. PyTorch's gradient,
    with L = [L1; L2] (L1 k x k), U = [U1, U2] (U1 k x k), gL and gU the lower and upper
    parts of g:
    dA = P [[L1^-T K U1^-T, L1^-T gU2], [gL2 U1^-T, 0]],
    K = tril(L1^T gL1 - gU2 U2^T, -1) + triu(gU1 U1^T - L2^T gL2)."""

    def forward(self, a: Array, *, pivot: bool) -> Array:
        xp = get_array_module(a)
        self.lu, pivots, info = _lu_factor(xp, a, pivot)
        self.perm = permutation(xp, pivots, a.shape[-2])
        parts = (self.lu, pivots.astype(a.dtype), info[..., None].astype(a.dtype))
        return pack(xp, parts, a.shape[:-2])

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        lu = self.lu
        m, n = lu.shape[-2:]
        k = min(m, n)
        grad = unpack(grad, ((m, n),))[0]
        square, grad_square = lu[..., :k, :k], grad[..., :k, :k]
        lower_2, upper_2 = lu[..., k:, :k], lu[..., :k, k:]
        grad_lower_2, grad_upper_2 = grad[..., k:, :k], grad[..., :k, k:]
        # NOTE: L1^T gL1 as gL1 + N^T g with N = L1 - I: the product with U's part of g adds
        # nothing below the diagonal
        lower_t, upper_1 = _mT(xp.tril(square, -1)), xp.triu(square)
        below = grad_square + lower_t @ grad_square - grad_upper_2 @ _mT(upper_2)
        inner = xp.tril(below, -1) + xp.triu(
            grad_square @ _mT(upper_1) - _mT(lower_2) @ grad_lower_2
        )
        top = _triangular_solve(xp, _mT(square), inner, upper=True, unit=True)  # L1^-T K
        top = _mT(_triangular_solve(xp, upper_1, _mT(top), upper=True))  # ... U1^-T
        grad_a = xp.zeros_like(grad)
        grad_a[..., :k, :k] = top
        if m > k:  # gL2 U1^-T
            grad_a[..., k:, :k] = _mT(_triangular_solve(xp, upper_1, _mT(grad_lower_2), upper=True))
        if n > k:  # L1^-T gU2
            grad_a[..., :k, k:] = _triangular_solve(
                xp, _mT(square), grad_upper_2, upper=True, unit=True
            )
        return _take_rows(xp, grad_a, xp.argsort(self.perm, -1))


class LuSolve(Op):
    """X = A^-1 B (A^-T B with ``adjoint``) from the LU factorization A = P L U (LU and its
    ``pivots``); batch axes broadcast. Without ``adjoint``, with H = U^-T g and W = L^-T H:
    dB = P W, dLU = -(triu(H X^T) + tril(W (U X)^T, -1)); with it, for Z = U^-T B,
    Y = L^-T Z, W = L^-1 P^T g and dB = U^-1 W: dLU = -(tril(Y W^T, -1) + triu(Z dB^T))."""

    def forward(self, lu: Array, b: Array, *, pivots: Array, adjoint: bool) -> Array:
        xp = get_array_module(lu)
        self.lu, self.perm = lu, permutation(xp, pivots, lu.shape[-1])
        if adjoint:
            self.z = _triangular_solve(xp, _mT(lu), b, upper=False)
            self.y = _triangular_solve(xp, _mT(lu), self.z, upper=True, unit=True)
            return _take_rows(xp, self.y, xp.argsort(self.perm, -1))
        self.ux = _triangular_solve(xp, lu, _take_rows(xp, b, self.perm), upper=False, unit=True)
        self.x = _triangular_solve(xp, lu, self.ux, upper=True)
        return self.x

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        xp = get_array_module(grad)
        lu = self.lu
        # NOTE: a singular U's inf and NaN go on into the gradient, as in PyTorch, unannounced
        with np.errstate(invalid="ignore"):
            if self.kwargs["adjoint"]:
                rows = _take_rows(xp, grad, self.perm)
                w = _triangular_solve(xp, lu, rows, upper=False, unit=True)
                grad_b = _triangular_solve(xp, lu, w, upper=True)
                grad_lu = xp.tril(self.y @ _mT(w), -1) + xp.triu(self.z @ _mT(grad_b))
            else:
                h = _triangular_solve(xp, _mT(lu), grad, upper=False)
                w = _triangular_solve(xp, _mT(lu), h, upper=True, unit=True)
                grad_b = _take_rows(xp, w, xp.argsort(self.perm, -1))
                grad_lu = xp.triu(h @ _mT(self.x)) + xp.tril(w @ _mT(self.ux), -1)
        return (-grad_lu if self.needs_grad[0] else None), grad_b
