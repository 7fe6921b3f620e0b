"""Activation layers: module forms of the functions in ``nn.functional`` (only ``PReLU``
learns a parameter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.factories import full
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn.module import Module, Parameter

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "RReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanh",
    "Tanhshrink",
    "Threshold",
]


class ReLU(Module):
    """``max(x, 0)`` elementwise (see ``F.relu``).

    Args:
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (see ``F.leaky_relu``).

    Args:
        negative_slope: The slope for negative inputs.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (see ``F.elu``).

    Args:
        alpha: The value the negative part saturates at (as ``-alpha``).
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """``x * Φ(x)``, exact or with the tanh approximation (see ``F.gelu``).

    Args:
        approximate: ``"none"`` or ``"tanh"``.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` (swish; see ``F.silu``).

    Args:
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class Tanh(Module):
    """Hyperbolic tangent elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class Softmax(Module):
    """Softmax along ``dim`` (see ``F.softmax``).

    Args:
        dim: The dimension the result sums to 1 over.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log of the softmax along ``dim`` (see ``F.log_softmax``).

    Args:
        dim: The dimension the softmax is taken over.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold`` (see ``F.softplus``).

    Args:
        beta: Sharpness of the transition.
        threshold: Above this value of ``beta * x`` the result is ``x`` itself.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``x`` limited to ``[min_val, max_val]`` (see ``F.hardtanh``).

    Args:
        min_val: The lower limit.
        max_val: The upper limit.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)`` (see ``F.relu6``).

    Args:
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Elementwise(Module):
    """A parameter-free activation: ``function``, one of ``F``'s, applied to the input."""

    function: Callable[[Tensor], Tensor]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch compatibility: results are new tensors

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input)


class Hardsigmoid(_Elementwise):
    """``relu6(x + 3) / 6`` (see ``F.hardsigmoid``)."""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_Elementwise):
    """``x * relu6(x + 3) / 6`` (see ``F.hardswish``)."""

    function = staticmethod(F.hardswish)


class Mish(_Elementwise):
    """``x * tanh(softplus(x))`` (see ``F.mish``)."""

    function = staticmethod(F.mish)


class LogSigmoid(_Elementwise):
    """``log(sigmoid(x))``, computed stably (see ``F.log_sigmoid``)."""

    function = staticmethod(F.log_sigmoid)


class Softsign(_Elementwise):
    """``x / (1 + |x|)`` (see ``F.softsign``)."""

    function = staticmethod(F.softsign)


class GLU(Module):
    """Gated linear unit over ``dim`` (see ``F.glu``).

    Args:
        dim: The axis split in two halves: values and gates.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class SELU(_Elementwise):
    """Scaled ELU with the self-normalizing constants (see ``F.selu``)."""

    function = staticmethod(F.selu)


class CELU(ELU):
    """Continuously differentiable ELU (see ``F.celu``); the arguments are ``ELU``'s."""

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha)


class PReLU(Module):
    """Leaky ReLU whose negative slope is learned: one, or one per channel (see ``F.prelu``).

    Args:
        num_parameters: 1, or the number of channels (axis 1 of the input).
        init: The slopes' starting value.
        device: Where to create the parameter.
        dtype: The floating-point dtype of the parameter.
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype, device=device))

    def reset_parameters(self) -> None:
        """Set the slopes back to ``init``."""
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmin(Softmax):
    """Softmax of ``-x`` along ``dim`` (see ``F.softmin``); the arguments are ``Softmax``'s."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0 (see ``F.hardshrink``).

    Args:
        lambd: The half-width of the band set to zero.
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``x`` moved ``lambd`` towards 0, and 0 within ``lambd`` of it (see ``F.softshrink``).

    Args:
        lambd: The half-width of the band set to zero; at least 0.
    """

    def __init__(self, lambd: float = 0.5) -> None:
        if lambd < 0:
            raise ValueError(f"Softshrink needs lambd >= 0, got {lambd}")
        super().__init__(lambd)

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class Tanhshrink(_Elementwise):
    """``x - tanh(x)`` (see ``F.tanhshrink``)."""

    function = staticmethod(F.tanhshrink)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value`` (see ``F.threshold``).

    Args:
        threshold: The value an element must exceed to be kept.
        value: What replaces the other elements.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace}"


class Softmax2d(Module):
    """Softmax over the channels of each position: ``(C, H, W)`` or ``(N, C, H, W)`` inputs."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d expects a 3D or 4D input, got shape {input.shape}")
        return F.softmax(input, -3)


class RReLU(Module):
    """Leaky ReLU with random slopes from ``U(lower, upper)`` in training and their mean in
    evaluation (see ``F.rrelu``).

    Args:
        lower: The smallest slope.
        upper: The largest slope.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(
        self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, inplace: bool = False
    ) -> None:
        super().__init__()
        if lower > upper:
            raise ValueError(f"RReLU needs lower <= upper, got {lower} and {upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"
