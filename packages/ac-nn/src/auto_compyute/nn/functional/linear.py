"""The affine map of ``nn.Linear``."""

from auto_compyute import Tensor

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, with ``weight`` of shape (out_features, in_features).

    Args:
        input: Tensor of shape (*, in_features).
        weight: Tensor of shape (out_features, in_features).
        bias: Optional tensor of shape (out_features,).

    Returns:
        Tensor of shape (*, out_features).
    """
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear expects inputs of shape (*, {weight.shape[-1]}), got {input.shape} "
            f"(weight of shape {weight.shape})"
        )
    output = input @ weight.mT
    return output if bias is None else output + bias
