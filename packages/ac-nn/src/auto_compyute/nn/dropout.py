"""``Dropout``: random zeroing during training (see ``F.dropout``)."""

from __future__ import annotations

from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.module import Module

__all__ = [
    "AlphaDropout",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "FeatureAlphaDropout",
]


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    In evaluation mode (``eval()``) the input passes unchanged. Masks come from ``ac``'s
    global generator (``ac.manual_seed``).

    Args:
        p: The probability of zeroing an element, in [0, 1].
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Example:
        >>> drop = nn.Dropout(0.1)
        >>> y = drop(ac.randn(4, 8))  # training mode
        >>> drop.eval()(ac.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """In training mode, zero whole channels of ``(N, C, L)`` inputs (see ``F.dropout1d``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """In training mode, zero whole channels of ``(N, C, H, W)`` inputs (see ``F.dropout2d``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(Dropout):
    """In training mode, zero whole channels of ``(N, C, D, H, W)`` inputs."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training)


class AlphaDropout(Dropout):
    """In training mode, alpha dropout, which keeps SELU activations' zero mean and unit
    variance (see ``F.alpha_dropout``); in evaluation mode the input passes unchanged.

    Args:
        p: The probability of dropping an element, in [0, 1].
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Example:
        >>> nn.AlphaDropout(0.2).eval()(ac.ones(2)).tolist()
        [1.0, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """In training mode, alpha dropout of whole channels of ``(N, C, *)`` inputs (see
    ``F.feature_alpha_dropout``); in evaluation mode the input passes unchanged.

    Args:
        p: The probability of dropping a channel, in [0, 1].
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)
