"""``Embedding``: a learnable lookup table of vectors; ``EmbeddingBag``: sums, means or
maxima of bags of its rows."""

from __future__ import annotations

from typing import Any

from auto_compyute._core import dtypes
from auto_compyute._core.autograd import no_grad
from auto_compyute._core.factories import empty
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn import init
from auto_compyute.nn.module import Module, Parameter

__all__ = ["Embedding", "EmbeddingBag"]


class _EmbeddingTable(Module):
    """The lookup table that ``Embedding`` and ``EmbeddingBag`` share: ``weight`` of shape
    ``(num_embeddings, embedding_dim)`` and its optional ``padding_idx`` row."""

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None

    def _init_table(
        self,
        kind: str,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None,
        _weight: Tensor | None,
        _freeze: bool,
        dtype: Any,
        device: Any,
    ) -> None:
        """Check ``padding_idx`` and set the weight: ``_weight`` as given, or a new one."""
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        if _weight is not None:
            if _weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"_weight must have shape ({num_embeddings}, {embedding_dim}), "
                    f"got {_weight.shape}"
                )
            self.weight = Parameter(_weight, req_grad=not _freeze)
            return
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"{kind} needs a floating-point dtype, got {dtype}")
        self.weight = Parameter(
            empty(num_embeddings, embedding_dim, dtype=dtype, device=device), req_grad=not _freeze
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0


class Embedding(_EmbeddingTable):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by index.

    The weight is drawn from N(0, 1) (as PyTorch); the row ``padding_idx``, if given,
    starts at zero and gets no gradient.

    Args:
        num_embeddings: The number of rows (the vocabulary size).
        embedding_dim: The size of each vector.
        padding_idx: A row that stays fixed (negative counts from the end).
        max_norm: Scale looked-up rows whose norm exceeds it down to it (in the weight).
        norm_type: The p of that norm.
        scale_grad_by_freq: Divide each row's gradient by its uses in the batch.
        sparse: Accepted for PyTorch compatibility; gradients are dense either way.
        device: Where to create the weight.
        dtype: The floating-point dtype of the weight (float32 by default).

    Example:
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(ac.tensor([[0, 2], [4, 9]])).shape
        (2, 2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        *,
        device: Any = None,
        dtype: Any = None,
        _weight: Tensor | None = None,
        _freeze: bool = False,
    ) -> None:
        super().__init__()
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self._init_table(
            "Embedding", num_embeddings, embedding_dim, padding_idx, _weight, _freeze, dtype, device
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An ``Embedding`` holding ``embeddings`` (2-D) as its weight (shared, not copied).

        Args:
            embeddings: The table, shape ``(num_embeddings, embedding_dim)``.
            freeze: Keep the weight fixed (``req_grad=False``).
            padding_idx: A row excluded from the gradient.
            max_norm: See the constructor; likewise ``norm_type``, ``scale_grad_by_freq``
                and ``sparse``.
        """
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be 2-D, got shape {embeddings.shape}")
        rows, width = embeddings.shape
        options = (padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
        return cls(rows, width, *options, _weight=embeddings, _freeze=freeze)

    def extra_repr(self) -> str:
        extra = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            extra += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            extra += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            extra += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            extra += ", scale_grad_by_freq=True"
        if self.sparse:
            extra += ", sparse=True"
        return extra


class EmbeddingBag(_EmbeddingTable):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, reduced over bags of
    indices by sum, mean or maximum (see ``F.embedding_bag``).

    ``forward(input, offsets=None, per_sample_weights=None)``: a 2-D input ``(B, L)`` is B
    bags; a 1-D input is cut into bags at ``offsets``. The weight is drawn from N(0, 1) (as
    PyTorch); the row ``padding_idx``, if given, starts at zero and is left out of bags.

    Args:
        num_embeddings: The number of rows.
        embedding_dim: The size of each vector.
        max_norm: Scale looked-up rows whose norm exceeds it down to it (in the weight).
        norm_type: The p of that norm.
        scale_grad_by_freq: Divide each row's gradient by its uses in the batch.
        mode: ``"sum"``, ``"mean"`` or ``"max"``.
        sparse: Accepted for PyTorch compatibility; gradients are dense either way.
        include_last_offset: Whether offsets has one more entry, the end of the last bag.
        padding_idx: A row left out of every bag (negative counts from the end).
        device: Where to create the weight.
        dtype: The floating-point dtype of the weight (float32 by default).

    Example:
        >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(ac.tensor([1, 2, 4, 5, 4]), ac.tensor([0, 2])).shape
        (2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
        _freeze: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        self._init_table(
            "EmbeddingBag",
            num_embeddings,
            embedding_dim,
            padding_idx,
            _weight,
            _freeze,
            dtype,
            device,
        )

    def forward(
        self,
        input: Tensor,
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An ``EmbeddingBag`` holding ``embeddings`` (2-D) as its weight (shared, not copied).

        Args:
            embeddings: The table, shape ``(num_embeddings, embedding_dim)``.
            freeze: Keep the weight fixed (``req_grad=False``).
            max_norm: See the constructor; likewise the other arguments.
        """
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be 2-D, got shape {embeddings.shape}")
        rows, width = embeddings.shape
        return cls(
            rows,
            width,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings,
            include_last_offset,
            padding_idx,
            _freeze=freeze,
        )

    def extra_repr(self) -> str:
        extra = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            extra += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            extra += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            extra += ", scale_grad_by_freq=True"
        extra += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            extra += f", padding_idx={self.padding_idx}"
        return extra
