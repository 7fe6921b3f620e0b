"""Loss layers: module forms of the losses in ``nn.functional``: ``criterion(input, target)``.

Class weights and ``pos_weight`` are buffers, as in PyTorch, so they follow ``to()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.distance import PairwiseDistance
from auto_compyute.nn.functional.losses import _check_reduction
from auto_compyute.nn.module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (see ``F.mse_loss``).

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (see ``F.l1_loss``).

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (see ``F.smooth_l1_loss``).

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        beta: Where the loss changes from quadratic to linear.
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear above, scaled by ``delta`` (see ``F.huber_loss``).

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        delta: Where the loss changes from quadratic to linear.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(Module):
    """Kullback-Leibler divergence of log-probabilities from a target (see ``F.kl_div``).

    Args:
        reduction: ``"none"``, ``"mean"``, ``"sum"`` or ``"batchmean"``.
        log_target: Whether the target holds log-probabilities.
    """

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(
                f"reduction must be one of 'none', 'mean', 'sum', 'batchmean', got {reduction!r}"
            )
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        parts = [f"reduction={self.reduction!r}"] if self.reduction != "mean" else []
        return ", ".join(parts + (["log_target=True"] if self.log_target else []))


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class indices or probabilities (see ``F.cross_entropy``).

    Args:
        weight: Optional per-class weights of shape ``(C,)``.
        ignore_index: A target value that contributes neither loss nor gradient.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        label_smoothing: The share of the target mass spread over all classes.

    Example:
        >>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
        >>> loss = criterion(ac.randn(4, 3), ac.tensor([0, 2, 1, 1]))
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities (see ``F.nll_loss``).

    Args:
        weight: Optional per-class weights of shape ``(C,)``.
        ignore_index: A target value that contributes neither loss nor gradient.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (see ``F.binary_cross_entropy``).

    Args:
        weight: Optional weights broadcastable to the input's shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits, computed stably (see ``F.binary_cross_entropy_with_logits``).

    Args:
        weight: Optional weights broadcastable to the input's shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        pos_weight: Optional weight of the positive class, broadcast along the last axis.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class _MarginLoss(_Loss):
    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin


class MarginRankingLoss(_MarginLoss):
    """Ranking loss of pairs (see ``F.margin_ranking_loss``).

    Args:
        margin: The margin.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """Hinge loss of distances with targets 1 and -1 (see ``F.hinge_embedding_loss``).

    Args:
        margin: The margin.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(margin, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """Cosine similarity loss of pairs (see ``F.cosine_embedding_loss``).

    Args:
        margin: The margin for dissimilar pairs.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(_MarginLoss):
    """Triplet loss of anchors, positives and negatives (see ``F.triplet_margin_loss``).

    Args:
        margin: The margin.
        p: The norm's exponent.
        eps: Added to the differences.
        swap: Use the distance swap.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(margin, reduction)
        self.p, self.eps, self.swap = p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction
        )


class SoftMarginLoss(_Loss):
    """Two-class logistic loss with targets 1 and -1 (see ``F.soft_margin_loss``)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss on scores and -1-padded class lists (see
    ``F.multilabel_margin_loss``).

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Example:
        >>> nn.MultiLabelMarginLoss()(ac.tensor([[0.1, 0.2, 0.4, 0.8]]), ac.tensor([[3, 0, -1, 1]]))
        Tensor(0.85)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all loss (see ``F.multilabel_soft_margin_loss``).

    Args:
        weight: Optional per-class weights (a buffer).
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of Poisson targets (see ``F.poisson_nll_loss``).

    Args:
        log_input: The input is a log-rate (else a rate).
        full: Add Stirling's approximation term.
        eps: Keeps ``log`` of a zero rate finite.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(
        self, log_input: bool = True, full: bool = False, eps: float = 1e-8, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(
            input, target, self.log_input, self.full, self.eps, self.reduction
        )


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of Gaussian targets (see ``F.gaussian_nll_loss``).

    Args:
        full: Add the constant ``0.5 log(2π)``.
        eps: The smallest variance used.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss on scores and class indices (see ``F.multi_margin_loss``).

    Args:
        p: 1 or 2: the exponent of the hinge.
        margin: The margin the target's score should lead the others by.
        weight: Optional per-class weights ``(C,)`` (a buffer).
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        reduction: str = "mean",
    ) -> None:
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss supports p = 1 or p = 2 only, got {p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss expects a weight of shape (C,), got {weight.shape}")
        super().__init__(weight, reduction)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function (see ``F.triplet_margin_with_distance_loss``).

    Args:
        distance_function: Takes two tensors and returns their distances, one per
            triplet; an ``nn.PairwiseDistance()`` if None (a module becomes a submodule).
        margin: How much farther the negative should be; greater than 0.
        swap: Use the distance swap.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Example:
        >>> criterion = nn.TripletMarginWithDistanceLoss(
        ...     distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), margin=0.5
        ... )
        >>> loss = criterion(ac.randn(4, 8), ac.randn(4, 8), ac.randn(4, 8))
    """

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss expects a margin greater than 0, got {margin}"
            )
        self.distance_function = (
            distance_function if distance_function is not None else PairwiseDistance()
        )
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see ``F.ctc_loss``).

    Called as ``criterion(log_probs, targets, input_lengths, target_lengths)``.

    Args:
        blank: The class index of the blank.
        reduction: ``"none"``, ``"mean"`` (each loss divided by its target length, then
            the mean over the batch) or ``"sum"``.
        zero_infinity: Make infinite losses, and their gradients, 0.
    """

    def __init__(
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(
        self,
        log_probs: Tensor,
        targets: Tensor,
        input_lengths: Tensor | Sequence[int],
        target_lengths: Tensor | Sequence[int],
    ) -> Tensor:
        return F.ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )

    def extra_repr(self) -> str:
        parts = [f"blank={self.blank}"] if self.blank else []
        parts += [super().extra_repr()] if self.reduction != "mean" else []
        return ", ".join(parts + (["zero_infinity=True"] if self.zero_infinity else []))
