"""Ready-made parametrizations (``nn.utils.parametrize``): ``orthogonal``, ``weight_norm``
and ``spectral_norm``, with PyTorch's math, buffers and state-dict keys."""

from __future__ import annotations

from typing import Any

import numpy as np

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.devices import get_array_module, move_array
from auto_compyute._core.factories import eye
from auto_compyute._core.functions import cat
from auto_compyute._core.linalg import matrix_exp, solve, vector_norm
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from auto_compyute.nn.functional.distance import normalize
from auto_compyute.nn.module import Module
from auto_compyute.nn.utils import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]

_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``k`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_iᵀ``, where
    ``v_i`` is column ``i`` of ``A`` (..., n, k) below the diagonal with a 1 on it."""
    n, k = A.shape[-2], A.shape[-1]
    unit = eye(n, k, dtype=A.dtype, device=A.device)
    v_all = A.tril(-1) + unit
    Q = unit
    # NOTE: one rank-1 update per reflector (k of them), applied right to left.
    for i in reversed(range(k)):
        v = v_all[..., :, i : i + 1]
        Q = Q - (tau[..., i : i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    return Q


def _is_orthogonal(Q: Any) -> bool:
    xp = get_array_module(Q)
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * np.finfo(Q.dtype).eps
    return bool(xp.allclose(Q.swapaxes(-1, -2) @ Q, xp.eye(k, dtype=Q.dtype), atol=eps))


def _make_orthogonal(A: Any) -> Any:
    """The Q factor of a tall ``A`` (array) with the signs making diag(R) non-negative."""
    xp = get_array_module(A)
    Q, R = xp.linalg.qr(A)
    return Q * xp.sign(xp.diagonal(R, axis1=-2, axis2=-1))[..., None, :]


class _Orthogonal(Module):
    """Maps an unconstrained matrix to an orthogonal one (see ``orthogonal``)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(*X.shape[:-1], n - k)], dim=-1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = _householder_product(A, tau)
            # NOTE: the diagonal of X holds signs (±1) that are neither differentiated nor
            # changed by training, as in PyTorch.
            Q = Q * X.detach().diagonal(0, -2, -1).int().to(Q.dtype).unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. "
                f"Got a tensor of shape {Q.shape}."
            )
        n, k = Q.shape[-2], Q.shape[-1]
        data = Q.data.swapaxes(-1, -2) if n < k else Q.data
        n, k = max(n, k), min(n, k)
        xp = get_array_module(data)
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False."
                )
            return Tensor(self._householder_inverse(data, Q.shape[-2] < Q.shape[-1]))
        if n == k:
            base = data.copy() if _is_orthogonal(data) else _make_orthogonal(data)
        else:
            noise = get_generator().standard_normal((*data.shape[:-2], n, n - k))
            noise = move_array(noise.astype(data.dtype), Q.device)
            base = _make_orthogonal(xp.concatenate([data, noise], axis=-1))
        self.base = Tensor(base)
        # NOTE: -Id, so that the Householder map of it is the identity (the base itself).
        neg_id = -xp.broadcast_to(xp.eye(*Q.shape[-2:], dtype=Q.dtype), Q.shape)
        return Tensor(neg_id.copy())

    @staticmethod
    def _householder_inverse(data: Any, transpose: bool) -> Any:
        """geqrf of ``data`` with the reflectors' signs on the diagonal (PyTorch's way)."""
        xp = get_array_module(data)
        h, tau = xp.linalg.qr(data, mode="raw")
        A = h.swapaxes(-1, -2).copy()
        i = xp.arange(A.shape[-1])
        diag = xp.sign(A[..., i, i])
        A[..., i, i] = xp.where(tau == 0.0, -diag, diag)
        return A.swapaxes(-1, -2) if transpose else A


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Constrain the matrix (or batch of matrices) ``module.<name>`` to be orthogonal.

    The weight ``W`` of shape (..., n, k) then satisfies ``Wᵀ W = I`` if n >= k, and
    ``W Wᵀ = I`` otherwise. It is computed from ``parametrizations.<name>.original`` by
    ``orthogonal_map``:

    - ``"matrix_exp"``: ``exp(A)`` of the skew-symmetric ``A = L - Lᵀ`` (``L`` the lower
      triangle of the original, padded to a square),
    - ``"cayley"``: the Cayley map ``(I - A/2)⁻¹ (I + A/2)``,
    - ``"householder"``: a product of Householder reflectors stored below the diagonal.

    The default is ``"matrix_exp"`` for square matrices and ``"householder"`` otherwise.
    With ``use_trivialization`` (the default) the result is multiplied by a buffer
    ``base`` (an orthogonal matrix) that assigning to ``module.<name>`` sets, so the
    original starts at -I and any orthogonal matrix can be assigned.

    Args:
        module: The module holding the weight.
        name: The weight's name.
        orthogonal_map: ``"matrix_exp"``, ``"cayley"`` or ``"householder"``.
        use_trivialization: Use the ``base`` buffer (False: assignment only for
            ``"householder"``).

    Returns:
        ``module``

    Example:
        >>> layer = parametrizations.orthogonal(nn.Linear(20, 40))
        >>> Q = layer.weight
        >>> ac.allclose(Q.mT @ Q, ac.eye(20), atol=1e-5)
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every axis but ``dim`` (kept as size 1); all if ``dim == -1``."""
    if dim == -1:
        return vector_norm(v)
    return vector_norm(v, dim=tuple(d for d in range(v.ndim) if d != dim), keepdim=True)


def _weight_norm_dim(dim: int | None, ndim: int) -> int:
    # NOTE: as in PyTorch, None and -1 both mean "one norm of the whole tensor".
    if dim is None or dim == -1:
        return -1
    if not -ndim <= dim < ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for a {ndim}-D weight")
    return dim % ndim


class _WeightNorm(Module):
    """``v * g / ‖v‖`` with the norm over all axes but ``dim`` (see ``weight_norm``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ‖v‖`` (weight normalisation).

    The magnitude ``g`` (``parametrizations.<name>.original0``) and the direction ``v``
    (``original1``) are trained instead of the weight. The norm is taken over every axis
    but ``dim``, so each output channel (``dim=0``) gets its own magnitude; ``dim=None``
    (or -1, as in PyTorch) uses one norm for the whole tensor.

    Args:
        module: The module holding the weight.
        name: The weight's name.
        dim: The axis that keeps one magnitude per index.

    Returns:
        ``module``

    Example:
        >>> layer = parametrizations.weight_norm(nn.Linear(20, 40))
        >>> layer.parametrizations.weight.original0.shape
        (40, 1)
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    parametrize.register_parametrization(
        module, name, _WeightNorm(_weight_norm_dim(dim, weight.ndim)), unsafe=True
    )
    return module


def _transpose_dim(module: Module) -> int:
    return 1 if isinstance(module, ConvTranspose1d | ConvTranspose2d | ConvTranspose3d) else 0


def _weight_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` with axis ``dim`` first, flattened to (size of dim, rest)."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def _random_unit_vectors(weight_mat: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """Random unit vectors ``u`` and ``v`` for the (h, w) ``weight_mat`` (of its dtype and
    device), of lengths h and w: the start of the power iteration for σ."""
    h, w = weight_mat.shape
    rng = get_generator()
    u = Tensor(rng.standard_normal(h).astype(weight_mat.dtype), device=weight_mat.device)
    v = Tensor(rng.standard_normal(w).astype(weight_mat.dtype), device=weight_mat.device)
    return normalize(u, dim=0, eps=eps), normalize(v, dim=0, eps=eps)


class _SpectralNorm(Module):
    """``W / σ(W)`` with σ estimated by power iteration (see ``spectral_norm``)."""

    def __init__(
        self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}] "
                f"but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = _weight_matrix(weight, self.dim)
            u, v = _random_unit_vectors(weight_mat, eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight_mat, 15)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # NOTE: the buffers are updated in place (the same objects stay registered).
        with no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.data[...] = normalize(weight_mat @ self._v, dim=0, eps=self.eps).data
                self._v.data[...] = normalize(weight_mat.mT @ self._u, dim=0, eps=self.eps).data

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = _weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Divide ``module.<name>`` by its spectral norm (largest singular value) σ.

    σ is estimated as ``uᵀ W v`` with vectors ``u`` and ``v`` kept as buffers
    (``parametrizations.<name>.0._u`` and ``._v``) and refined by ``n_power_iterations``
    steps of power iteration each time the weight is read in training mode (15 steps at
    registration); in evaluation mode they stay fixed. The weight is viewed as a matrix
    with axis ``dim`` as rows. A 1-D weight is divided by its norm instead.

    Args:
        module: The module holding the weight.
        name: The weight's name.
        n_power_iterations: Power-iteration steps per training-mode read.
        eps: The smallest norm divided by when normalising ``u`` and ``v``.
        dim: The axis of the output channels (None: 1 for transposed convolutions, else 0).

    Returns:
        ``module``

    Example:
        >>> layer = parametrizations.spectral_norm(nn.Linear(20, 40))
        >>> sorted(layer.parametrizations.weight[0].state_dict())
        ['_u', '_v']
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _transpose_dim(module)
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module
