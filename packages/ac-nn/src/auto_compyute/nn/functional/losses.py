"""Loss functions with PyTorch's ``reduction`` (``"none"``, ``"mean"``, ``"sum"``) semantics.

Cross-entropy with class-index targets and binary cross-entropy on probabilities are
primitives (see their ``NOTE``); the others are composed from Tensor ops.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.factories import arange
from auto_compyute._core.functions import where
from auto_compyute._core.ops.movement import PutAt
from auto_compyute._core.ops.reduce import max_keepdims, sum_keepdims
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.functional.activations import Softplus
from auto_compyute.nn.functional.distance import pairwise_distance

__all__ = [
    "bce_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "cross_entropy_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

_REDUCTIONS = ("none", "mean", "sum")
# NOTE: PyTorch clamps log-probabilities in binary_cross_entropy at -100 and divides
# its gradient by max(x (1 - x), 1e-12); we do the same so both agree at 0 and 1.
_BCE_LOG_FLOOR = -100.0
_BCE_GRAD_EPS = 1e-12


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of 'none', 'mean', 'sum', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: target shape {target.shape} differs from input shape {input.shape}; "
            "they must be equal"
        )


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """Elementwise weights (of the loss's shape); ``mean`` becomes ``sum(w l) / sum(w)``."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != loss.shape:
        raise ValueError(f"weight shape {weight.shape} must equal the input shape {loss.shape}")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", weight: Tensor | None = None
) -> Tensor:
    """Mean squared error: ``(input - target)²``, reduced.

    Args:
        input: Predictions.
        target: Targets of the same shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        weight: Optional elementwise weights of the input's shape; with ``"mean"`` the
            result is ``sum(w l) / sum(w)``.

    Returns:
        The loss: a scalar, or the input's shape for ``"none"``.
    """
    _check_reduction(reduction)
    _check_same_shape("mse_loss", input, target)
    diff = input - target
    return _weighted(diff * diff, weight, reduction)


def l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", weight: Tensor | None = None
) -> Tensor:
    """Mean absolute error: ``|input - target|``, reduced.

    Args:
        input: Predictions.
        target: Targets of the same shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        weight: Optional elementwise weights of the input's shape; with ``"mean"`` the
            result is ``sum(w l) / sum(w)``.

    Returns:
        The loss: a scalar, or the input's shape for ``"none"``.
    """
    _check_reduction(reduction)
    _check_same_shape("l1_loss", input, target)
    return _weighted((input - target).abs(), weight, reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """Smooth L1 loss: ``0.5 d² / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``.

    ``d = input - target``, elementwise.

    Args:
        input: Predictions.
        target: Targets of the same shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        beta: Where the loss changes from quadratic to linear; 0 gives the L1 loss.

    Returns:
        The loss: a scalar, or the input's shape for ``"none"``.
    """
    _check_reduction(reduction)
    _check_same_shape("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss needs beta >= 0, got {beta}")
    diff = input - target
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    loss = where(size < beta, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """Huber loss: ``0.5 d²`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    ``d = input - target``; this is ``delta * smooth_l1_loss(..., beta=delta)``.

    Args:
        input: Predictions.
        target: Targets of the same shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        delta: Where the loss changes from quadratic to linear; must be positive.

    Returns:
        The loss: a scalar, or the input's shape for ``"none"``.
    """
    if delta <= 0:
        raise ValueError(f"huber_loss needs delta > 0, got {delta}")
    return smooth_l1_loss(input, target, reduction, beta=delta) * delta


def kl_div(
    input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)``, elementwise.

    As in PyTorch, ``input`` holds log-probabilities; ``target`` holds probabilities, or
    log-probabilities with ``log_target=True``. Where a target probability is 0 its term
    is 0.

    Args:
        input: Log-probabilities.
        target: Probabilities (or log-probabilities) of the same shape.
        reduction: ``"none"``, ``"sum"``, ``"mean"`` (over all elements) or ``"batchmean"``
            (the sum divided by the batch size, the size of dim 0: the mathematical KL
            divergence per sample).
        log_target: Whether ``target`` holds log-probabilities.

    Returns:
        The divergence: a scalar, or the input's shape for ``"none"``.
    """
    if reduction not in (*_REDUCTIONS, "batchmean"):
        raise ValueError(
            f"reduction must be one of 'none', 'mean', 'sum', 'batchmean', got {reduction!r}"
        )
    _check_same_shape("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # NOTE: the clamp only keeps log(0) out; its term is 0 * finite = 0
        tiny = float(np.finfo(target.dtype).tiny) if target.dtype.kind == "f" else 1e-38
        loss = target * (target.clamp(min=tiny).log() - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ class targets
def _class_key(target: Array) -> tuple[Array, ...]:
    """Index that picks, for each position of an ``(N, *)`` target, its class on axis 1."""
    xp = get_array_module(target)
    if target.ndim == 1:
        return xp.arange(len(target)), target
    key: list[Array] = []
    for axis, size in enumerate(target.shape):
        shape = [1] * target.ndim
        shape[axis] = size
        key.append(xp.arange(size).reshape(shape))
    key.insert(1, target)
    return tuple(key)


def _class_targets(
    name: str,
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
) -> tuple[Array, Array, Array]:
    """Check class-index targets; return (safe targets, mask of counted ones, their weights).

    ``input`` is ``(N, C, *)`` and ``target`` ``(N, *)``. Ignored positions get class 0
    (so they can be gathered) and weight 0.
    """
    _check_class_target(name, input, target, weight)
    classes = input.shape[1]
    xp = get_array_module(target.data)
    labels = target.data.astype(np.int64, copy=False)
    valid = labels != ignore_index
    bad = valid & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise IndexError(
            f"{name}: target {int(labels[bad].reshape(-1)[0])} is out of bounds for "
            f"{classes} classes (input shape {input.shape})"
        )
    safe = xp.where(valid, labels, 0)
    dtype = input.dtype if input.dtype.kind == "f" else np.float32
    weights = valid.astype(dtype)
    if weight is not None:
        weights = weights * weight.data.astype(dtype, copy=False)[safe]
    return safe, valid, weights


def _check_class_target(name: str, input: Tensor, target: Tensor, weight: Tensor | None) -> None:
    """Check the shapes of class-index targets ``(N, *)`` and class weights for ``(N, C, *)``."""
    expected = (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{name}: a target of shape {expected} is needed for an input of shape "
            f"{input.shape}, got target shape {target.shape}"
        )
    classes = input.shape[1]
    if weight is not None and weight.shape != (classes,):
        raise ValueError(
            f"{name}: weight must have shape ({classes},), one per class of an input of shape "
            f"{input.shape}, got {weight.shape}"
        )


def _all_counted(labels: Array, classes: int, ignore_index: int) -> bool:
    """Whether every target is a class in [0, classes), none of them ``ignore_index``.

    NOTE: the common case, told by two reductions: then every position counts with
    weight 1, and the masks and weights of ``_class_targets`` need not be built.
    """
    if labels.size == 0 or 0 <= ignore_index < classes:
        return False
    return bool((labels.min() >= 0) & (labels.max() < classes))  # one sync on a GPU


class CrossEntropy(Op):
    """Cross-entropy of logits x (N, C, *) with class targets t, label smoothing ε and weights w.

    Per position not ignored: l = -Σ_c q_c log softmax(x)_c with
    q = (1 - ε) w_t onehot(t) + (ε / C) w, so dl/dx = (Σ_c q_c) softmax(x) - q;
    ``mean`` divides by Σ w_t over those positions. ``weights`` holds w_t (0 if ignored)
    and ``counted`` the positions not ignored; both are None when every position counts
    with weight 1.

    NOTE: a primitive for stability: log-softmax through the max-shifted logsumexp is exact
    for huge logits (no exp overflow, no log of 0).
    """

    def forward(
        self,
        x: Array,
        *,
        reduction: str,
        label_smoothing: float,
        target: Array,
        counted: Array | None,
        weights: Array | None,
        class_weight: Array | None,
    ) -> Array:
        xp = get_array_module(x)
        top = max_keepdims(x, 1)
        shifted = x - top
        log_sum = xp.log(sum_keepdims(xp.exp(shifted), 1))
        self.logp = shifted - log_sum
        self.top, self.log_sum = top, log_sum  # for graph_backward, small: one number per row
        self.key = _class_key(target)
        loss = -self.logp[self.key]
        if weights is not None:
            loss *= weights
        smoothing = label_smoothing
        if smoothing:
            logp = self.logp if class_weight is None else self.logp * self._broadcast(class_weight)
            spread = -logp.sum(axis=1)
            if counted is not None:
                spread *= counted
            loss = (1 - smoothing) * loss + (smoothing / x.shape[1]) * spread
        if reduction == "sum":
            return loss.sum()
        if reduction == "mean":
            if weights is None:  # NOTE: at least one position: the count is not 0
                self.total = x.dtype.type(target.size)
                return loss.sum() / self.total
            self.total = weights.sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                return loss.sum() / self.total
        return loss

    def _broadcast(self, class_weight: Array) -> Array:
        return class_weight.reshape((1, -1) + (1,) * (self.logp.ndim - 2))

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        kw = self.kwargs
        weights, smoothing = kw["weights"], kw["label_smoothing"]
        if kw["reduction"] == "mean":
            grad = grad / self.total if self.total else xp.zeros_like(grad)
        # per position (or one number for all): upstream gradient times w_t (0 if ignored)
        scale = grad if weights is None else grad * weights
        classes = self.logp.shape[1]
        probs = xp.exp(self.logp)
        if not smoothing:
            dx = probs * _along_classes(scale)
            dx[self.key] -= scale
            return dx
        class_weight = kw["class_weight"]
        counted = grad if kw["counted"] is None else grad * kw["counted"]
        total_w = classes if class_weight is None else class_weight.sum()
        mass = (1 - smoothing) * scale + (smoothing / classes) * total_w * counted
        dx = probs * _along_classes(mass)
        spread = _along_classes((smoothing / classes) * counted)
        dx -= spread if class_weight is None else spread * self._broadcast(class_weight)
        dx[self.key] -= (1 - smoothing) * scale
        return dx

    def graph_backward(self, grad: Tensor) -> Tensor:
        kw = self.kwargs
        smoothing, class_weight = kw["label_smoothing"], kw["class_weight"]
        if kw["reduction"] == "mean":
            grad = grad / float(self.total) if self.total else grad * 0.0
        weights, counted = kw["weights"], kw["counted"]
        if weights is None:  # every position counts with weight 1
            weights = get_array_module(self.logp).ones(self.key[1].shape, self.logp.dtype)
            counted = weights.astype(bool)
        scale = grad * self._constant(weights)
        # NOTE: the input rebuilt from what forward kept (x = log p + log Σ exp x, per row)
        x = self._input(0, self.logp + (self.top + self.log_sum))
        classes = x.shape[1]
        picked = PutAt.apply((1 - smoothing) * scale, key=self.key, shape=x.shape)
        if not smoothing:
            return x.softmax(dim=1) * scale.unsqueeze(1) - picked
        counted = grad * self._constant(counted)
        total_w = classes if class_weight is None else float(class_weight.sum())
        mass = (1 - smoothing) * scale + (smoothing / classes) * total_w * counted
        spread = ((smoothing / classes) * counted).unsqueeze(1)
        if class_weight is not None:
            spread = spread * self._constant(self._broadcast(class_weight))
        return x.softmax(dim=1) * mass.unsqueeze(1) - spread - picked


def _along_classes(values: Array) -> Array:
    """Values per position ``(N, *)`` with an axis for the classes; a 0-d array as it is."""
    return values[:, None] if values.ndim else values


def _batched(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Give an unbatched ``(C,)`` input a batch axis (and its ``()`` target)."""
    if input.ndim == 1:
        if target.ndim != 0 and target.dtype.kind != "f":
            raise ValueError(
                f"an unbatched input of shape {input.shape} needs a target of shape (), "
                f"got {target.shape}"
            )
        return input.unsqueeze(0), target.unsqueeze(0), True
    if input.ndim == 0:
        raise ValueError("the input needs a class axis: shape (C,), (N, C) or (N, C, *), got ()")
    return input, target, False


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and class targets (softmax + negative log-likelihood).

    With class indices, each position's loss is
    ``-(1 - ε) w[t] log p[t] - (ε / C) Σ_c w[c] log p[c]`` (``p = softmax(input)`` over
    axis 1, ``ε = label_smoothing``); ``"mean"`` divides the sum by ``Σ w[t]`` over the
    positions not equal to ``ignore_index``, exactly as PyTorch. With class
    probabilities (a float target of the input's shape), the loss is
    ``-Σ_c w[c] y'[c] log p[c]`` with ``y' = (1 - ε) y + ε / C``, and ``"mean"`` divides
    by the number of positions.

    Args:
        input: Logits of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: Class indices of any integer dtype, shape ``()``, ``(N,)`` or
            ``(N, d1, ...)``; or class probabilities of the input's shape.
        weight: Optional per-class weights of shape ``(C,)``.
        ignore_index: A target value that contributes neither loss nor gradient.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        label_smoothing: ε in [0, 1]: the share of the target mass spread over all classes.

    Returns:
        The loss: a scalar, or the target's positions for ``"none"``.

    Example:
        >>> logits = ac.tensor([[1000.0, 0.0]])
        >>> F.cross_entropy(logits, ac.tensor([1]))
        Tensor(1000.)
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    x, t, unbatched = _batched(input._floating(), target)
    if t.dtype.kind == "f":
        return _soft_cross_entropy(x, t, weight, reduction, label_smoothing, unbatched)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy needs integer class indices or float class probabilities as "
            f"target, got dtype {target.dtype}"
        )
    labels = t.data.astype(np.int64, copy=False)
    if weight is None and _all_counted(labels, x.shape[1], ignore_index):
        _check_class_target("cross_entropy", x, t, None)
        safe, counted, weights = labels, None, None
    else:
        safe, counted, weights = _class_targets("cross_entropy", x, t, weight, ignore_index)
    loss = CrossEntropy.apply(
        x,
        reduction=reduction,
        label_smoothing=float(label_smoothing),
        target=safe,
        counted=counted,
        weights=weights,
        class_weight=None if weight is None else weight.data.astype(x.dtype, copy=False),
    )
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def _soft_cross_entropy(
    x: Tensor,
    target: Tensor,
    weight: Tensor | None,
    reduction: str,
    label_smoothing: float,
    unbatched: bool,
) -> Tensor:
    """Cross-entropy with class-probability targets, composed (gradients reach the target too)."""
    if target.shape != x.shape:
        shape = x.shape[1:] if unbatched else x.shape
        raise ValueError(
            f"cross_entropy with class probabilities needs a target of the input's shape "
            f"{shape}, got {target.shape[1:] if unbatched else target.shape} (a {target.dtype} "
            f"target; class indices must be integers, and the input comes first)"
        )
    classes = x.shape[1]
    if weight is not None and weight.shape != (classes,):
        raise ValueError(f"cross_entropy: weight must have shape ({classes},), got {weight.shape}")
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    logp = x.log_softmax(1)
    if weight is not None:
        logp = logp * weight.reshape((classes,) + (1,) * (x.ndim - 2))
    loss = -(logp * target).sum(1)
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class targets, given log-probabilities.

    Each position's loss is ``-w[t] input[t]``; ``"mean"`` divides the sum by ``Σ w[t]``
    over the positions not equal to ``ignore_index``.

    Args:
        input: Log-probabilities of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: Class indices of any integer dtype, shape ``()``, ``(N,)`` or ``(N, d1, ...)``.
        weight: Optional per-class weights of shape ``(C,)``.
        ignore_index: A target value that contributes neither loss nor gradient.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        The loss: a scalar, or the target's positions for ``"none"``.
    """
    _check_reduction(reduction)
    x, t, unbatched = _batched(input._floating(), target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss needs integer class indices as target, got dtype {target.dtype}")
    safe, _, weights = _class_targets("nll_loss", x, t, weight, ignore_index)
    loss = -x[_class_key(safe)] * Tensor(weights, device=x.device)
    if unbatched:
        loss = loss.reshape(())
    if reduction == "mean":
        total = float(weights.sum())
        # NOTE: with nothing counted the loss is NaN (0/0, as PyTorch) but gradients are 0.
        return loss.sum() / total if total else loss.sum() * 0.0 + math.nan
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ binary targets
class BinaryCrossEntropy(Op):
    """-(y log x + (1 - y) log(1 - x)); dx = (x - y) / (x (1 - x)), dy = log(1 - x) - log x.

    NOTE: a primitive for stability: the logs are clamped at -100 and the x-gradient's
    denominator at 1e-12 (as PyTorch), so x = 0 or 1 give finite values.
    """

    def forward(self, x: Array, y: Array) -> Array:
        xp = get_array_module(x)
        with np.errstate(divide="ignore"):
            self.log_x = xp.maximum(xp.log(x), _BCE_LOG_FLOOR)
            self.log_1mx = xp.maximum(xp.log1p(-x), _BCE_LOG_FLOOR)
        self.x, self.y = x, y
        return -(y * (self.log_x - self.log_1mx) + self.log_1mx)

    def backward(self, grad: Array) -> tuple[Array | None, Array | None]:
        xp = get_array_module(grad)
        x, y = self.x, self.y
        grad_x = None
        if self.needs_grad[0]:
            grad_x = grad * (x - y) / xp.maximum(x * (1 - x), _BCE_GRAD_EPS)
        grad_y = grad * (self.log_1mx - self.log_x) if self.needs_grad[1] else None
        return grad_x, grad_y

    def graph_backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        x, y = self._input(0, self.x), self._input(1, self.y)
        grad_x = grad * (x - y) / (x * (1 - x)).clamp(min=_BCE_GRAD_EPS)
        return grad_x, grad * (_floored_log(1 - x, self.log_1mx) - _floored_log(x, self.log_x))


def _floored_log(p: Tensor, floored: Array) -> Tensor:
    """log(p) with tensor ops, ``_BCE_LOG_FLOOR`` where ``floored`` (its clamped value) is.

    NOTE: log is taken of 1 there, so that its derivative is 0 rather than NaN at p = 0.
    """
    kept = Tensor._from_op(floored > _BCE_LOG_FLOOR)
    return p.where(kept, 1.0).log().where(kept, _BCE_LOG_FLOOR)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy between probabilities and targets in [0, 1].

    ``l = -w (y log x + (1 - y) log(1 - x))`` with the logs clamped at -100 (as PyTorch);
    ``"mean"`` averages over all elements.

    Args:
        input: Probabilities in [0, 1].
        target: Targets of the same shape (hard or soft labels).
        weight: Optional weights broadcastable to the input's shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        The loss: a scalar, or the input's shape for ``"none"``.
    """
    _check_reduction(reduction)
    _check_same_shape("binary_cross_entropy", input, target)
    x = input._floating()
    if x.numel() and bool(((x.data < 0) | (x.data > 1)).any()):
        raise ValueError(
            "binary_cross_entropy needs probabilities in [0, 1] as input; "
            "use binary_cross_entropy_with_logits for logits"
        )
    loss = BinaryCrossEntropy.apply(*x._other(target))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits: ``sigmoid`` and the loss in one stable expression.

    ``l = w ((1 - y) x + (1 + (p - 1) y) softplus(-x))`` with ``p = pos_weight`` (1 if
    None), which equals ``-w (p y log σ(x) + (1 - y) log(1 - σ(x)))`` without overflow.

    Args:
        input: Logits.
        target: Targets in [0, 1] of the same shape.
        weight: Optional weights broadcastable to the input's shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        pos_weight: Optional weight of the positive class, broadcast along the last axis
            (one per class for multi-label targets).

    Returns:
        The loss: a scalar, or the input's shape for ``"none"``.
    """
    _check_reduction(reduction)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    x, y = input._floating()._other(target)
    log_sigmoid_neg = Softplus.apply(-x, beta=1.0, threshold=math.inf)  # -log σ(x)
    if pos_weight is not None:
        log_sigmoid_neg = log_sigmoid_neg * ((pos_weight - 1) * y + 1)
    loss = (1 - y) * x + log_sigmoid_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ------------------------------------------------------ margins, embeddings, likelihoods
def _softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), without overflow."""
    return Softplus.apply(x, beta=1.0, threshold=math.inf)


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: ``x1`` should rank above ``x2`` where y = 1, below
    where y = -1."""
    _check_reduction(reduction)
    return _reduce((-target * (input1 - input2) + margin).relu(), reduction)


def hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1 (x: a distance)."""
    _check_reduction(reduction)
    return _reduce(where(target == 1, input, (margin - input).relu()), reduction)


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1.

    The cosine is taken along axis 1 (of ``(N, D)`` inputs, or of ``(D,)`` unbatched).
    """
    _check_reduction(reduction)
    dim = 1 if input1.ndim > 1 else 0
    # NOTE: PyTorch's formula: the 1e-12 keeps zero vectors from dividing by zero
    squares = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cosine = (input1 * input2).sum(dim) / squares.sqrt()
    return _reduce(where(target == 1, 1 - cosine, (cosine - margin).relu()), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the p-norm pairwise distance.

    With ``swap``, ``d(a, n)`` becomes ``min(d(a, n), d(p, n))`` (the distance swap of
    Balntas et al.).
    """
    _check_reduction(reduction)
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = to_negative.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((to_positive - to_negative + margin).relu(), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-y x))`` with targets y in {1, -1}."""
    _check_reduction(reduction)
    _check_same_shape("soft_margin_loss", input, target)
    return _reduce(_softplus(-target * input), reduction)


def multilabel_soft_margin_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Multi-label one-versus-all loss on logits ``(N, C)`` and 0/1 targets: per sample,
    ``-mean_c w_c (y log σ(x) + (1 - y) log σ(-x))``."""
    _check_reduction(reduction)
    _check_same_shape("multilabel_soft_margin_loss", input, target)
    loss = target * _softplus(-input) + (1 - target) * _softplus(input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.mean(-1), reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson target: ``exp(x) - y x`` for a log-rate ``x``,
    or ``x - y log(x + eps)`` for a rate; ``full`` adds Stirling's term for ``y > 1``."""
    _check_reduction(reduction)
    _check_same_shape("poisson_nll_loss", input, target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Gaussian target with predicted mean and variance:
    ``0.5 (log(max(var, eps)) + (x - y)² / max(var, eps))`` (+ ``0.5 log(2π)`` if ``full``).

    ``var`` has the input's shape, or one axis less at the end (or size 1 there), or is a
    number. Clamping at ``eps`` does not stop its gradient, as in PyTorch.
    """
    _check_reduction(reduction)
    _check_same_shape("gaussian_nll_loss", input, target)
    variance = (
        var if isinstance(var, Tensor) else Tensor(var, dtype=input.dtype, device=input.device)
    )
    if variance.ndim == input.ndim - 1 and variance.shape == input.shape[:-1]:
        variance = variance.unsqueeze(-1)
    if bool((variance.data < 0).any()):
        raise ValueError("gaussian_nll_loss needs var >= 0")
    variance = variance + (variance.clamp(min=eps) - variance).detach()
    loss = 0.5 * (variance.log() + (input - target) ** 2 / variance)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# The seed's spellings. NOTE: the seed's bce_loss took logits (it was binary
# cross-entropy with logits), so that is what the alias points to.
cross_entropy_loss = cross_entropy
bce_loss = binary_cross_entropy_with_logits


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss on scores ``(N, C)`` and class indices ``(N,)``: per sample,
    ``sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C``.

    Args:
        input: Scores ``(N, C)``, or ``(C,)`` for one sample.
        target: Integer class indices in ``[0, C)``: ``(N,)``, or ``()`` or ``(1,)`` for one
            sample.
        p: 1 or 2: the exponent of the hinge.
        margin: The margin the target's score should lead the others by.
        weight: Optional per-class weights ``(C,)``, applied by each sample's target class.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        The loss: a scalar, or the target's shape for ``"none"``.

    Example:
        >>> F.multi_margin_loss(ac.tensor([[0.1, 0.2, 0.4, 0.8]]), ac.tensor([3]))
        Tensor(0.325)
    """
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss supports p = 1 or p = 2 only, got {p}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss expects an input (N, C) or (C,), got {input.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"multi_margin_loss expects integer class indices, got {target.dtype}")
    scores = input.unsqueeze(0) if input.ndim == 1 else input
    if target.numel() != len(scores) or target.ndim > 1 or (input.ndim == 2 and target.ndim != 1):
        raise ValueError(
            f"multi_margin_loss expects a target of shape ({len(scores)},) for an input of "
            f"shape {input.shape}, got {target.shape}"
        )
    classes = scores.shape[1]
    if weight is not None and weight.shape != (classes,):
        raise ValueError(
            f"multi_margin_loss expects a weight of shape ({classes},), got {weight.shape}"
        )
    if target.numel() and not 0 <= int(target.min()) <= int(target.max()) < classes:
        raise ValueError(
            f"multi_margin_loss: target values must lie in [0, {classes}), got values from "
            f"{int(target.min())} to {int(target.max())}"
        )
    picked = target.reshape(-1, 1) == arange(classes, device=input.device)
    one_hot = picked.to(dtype=scores.dtype)
    target_score = (scores * one_hot).sum(-1, keepdim=True)
    hinge = (scores - target_score + margin).relu()
    if p == 2:
        hinge = hinge * hinge
    hinge = hinge * (1 - one_hot)  # the target class itself does not count
    if weight is not None:
        hinge = hinge * (one_hot * weight).sum(-1, keepdim=True)
    loss = hinge.sum(-1) / classes
    return _reduce(loss.reshape(target.shape), reduction)


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label hinge loss on scores ``(N, C)`` and target class lists ``(N, C)``.

    Each row of ``target`` lists a sample's classes, ended by the first -1 (the rest is
    ignored), as in PyTorch. Per sample, over its listed classes ``j`` and the classes
    ``i`` it does not list: ``sum_j sum_i max(0, 1 - (x_j - x_i)) / C`` (a class listed
    twice counts twice).

    Args:
        input: Scores ``(N, C)``, or ``(C,)`` for one sample.
        target: Integer class lists of the input's shape, padded with -1.
        size_average: Deprecated in PyTorch and not supported; must be None.
        reduce: Deprecated in PyTorch and not supported; must be None.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        The loss: a scalar, or ``(N,)`` (``()`` for one sample) for ``"none"``.

    Example:
        >>> F.multilabel_margin_loss(ac.tensor([[0.1, 0.2, 0.4, 0.8]]), ac.tensor([[3, 0, -1, 1]]))
        Tensor(0.85)
    """
    if size_average is not None or reduce is not None:
        raise ValueError(
            "multilabel_margin_loss: size_average and reduce are deprecated; use reduction"
        )
    _check_reduction(reduction)
    if input.ndim not in (1, 2):
        raise ValueError(
            f"multilabel_margin_loss expects an input (N, C) or (C,), got {input.shape}"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(f"multilabel_margin_loss expects integer targets, got {target.dtype}")
    if target.shape != input.shape:
        raise ValueError(
            f"multilabel_margin_loss expects a target of the input's shape {input.shape}, "
            f"got {target.shape}"
        )
    scores = input.unsqueeze(0) if input.ndim == 1 else input
    labels = target.data.reshape(scores.shape).astype(np.int64)
    xp = get_array_module(labels)
    classes = scores.shape[1]
    # NOTE: a label counts only before the row's first -1.
    listed = xp.cumprod(labels != -1, axis=1).astype(bool)
    if labels.size and bool(((labels < -1) | (labels >= classes)).any()):
        raise ValueError(
            f"multilabel_margin_loss: target values must lie in [-1, {classes}), got values "
            f"from {int(labels.min())} to {int(labels.max())}"
        )
    picked = xp.where(listed, labels, 0)
    is_target = xp.zeros(scores.shape, dtype=bool)
    rows = xp.arange(len(labels))[:, None]
    is_target[xp.broadcast_to(rows, labels.shape)[listed], picked[listed]] = True
    target_scores = scores.gather(1, picked)  # (N, C): the score of each listed class
    hinge = (1.0 - target_scores.unsqueeze(2) + scores.unsqueeze(1)).relu()  # (N, j, i)
    pairs = listed[:, :, None] & ~is_target[:, None, :]
    loss = (hinge * Tensor(pairs.astype(scores.dtype), device=input.device)).sum((1, 2))
    loss = loss / classes
    return _reduce(loss.reshape(input.shape[:-1]), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with any distance function ``d``.

    Args:
        anchor: The anchors, ``(N, D)`` or ``(D,)`` for the default distance.
        positive: Samples that should lie near their anchors, of the anchor's rank.
        negative: Samples that should lie far from their anchors, of the anchor's rank.
        distance_function: Takes two tensors and returns their distances, one per
            triplet (``F.pairwise_distance`` if None).
        margin: How much farther the negative should be; greater than 0.
        swap: Use ``min(d(a, n), d(p, n))`` as the negative distance (the distance swap
            of Balntas et al.).
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        The loss: a scalar, or the distances' shape for ``"none"``.
    """
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(
            f"triplet_margin_with_distance_loss expects a margin greater than 0, got {margin}"
        )
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(
            "triplet_margin_with_distance_loss expects anchor, positive and negative of the "
            f"same rank, got shapes {anchor.shape}, {positive.shape} and {negative.shape}"
        )
    distance = pairwise_distance if distance_function is None else distance_function
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = to_negative.minimum(distance(positive, negative))
    return _reduce((to_positive - to_negative + margin).relu(), reduction)
