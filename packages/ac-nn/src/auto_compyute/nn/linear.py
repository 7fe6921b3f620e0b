"""Affine layers: ``Linear`` (and ``LazyLinear``), ``Bilinear`` and the do-nothing ``Identity``."""

from __future__ import annotations

import math
from typing import Any, cast

from auto_compyute._core import dtypes
from auto_compyute._core.factories import empty
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn import functional as F
from auto_compyute.nn import init
from auto_compyute.nn.lazy import LazyModuleMixin
from auto_compyute.nn.module import Module, Parameter, UninitializedParameter

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]


class Identity(Module):
    """Return the input unchanged; accepts and ignores any constructor arguments.

    Useful as a placeholder, e.g. to remove the head of a model: ``model.head = nn.Identity()``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


def _resolve_dim(name: str, alias: str, value: int | None, alias_value: int | None) -> int:
    """One size given under its PyTorch name or its seed name (``in_features`` / ``in_dim``)."""
    if value is None and alias_value is None:
        raise TypeError(f"Linear() missing required argument '{name}' (or '{alias}')")
    if value is not None and alias_value is not None and value != alias_value:
        raise TypeError(f"Linear() got both {name}={value} and {alias}={alias_value}")
    size = value if value is not None else alias_value
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"Linear() needs a non-negative integer {name}, got {size!r}")
    return size


class Linear(Module):
    """An affine map of the last axis: ``y = x @ weight.T + bias``.

    Input ``(*, in_features)``, output ``(*, out_features)``. The weight has shape
    ``(out_features, in_features)`` and the bias ``(out_features,)``, as in PyTorch, so
    state dicts are interchangeable. Initialisation is PyTorch's: weight from
    ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)),
    and bias from the same range.

    Args:
        in_features: The size of each input sample (also accepted as ``in_dim``).
        out_features: The size of each output sample (also accepted as ``out_dim``).
        bias: Whether to add a learnable bias.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).
        in_dim: The seed's name for ``in_features``.
        out_dim: The seed's name for ``out_features``.

    Example:
        >>> layer = nn.Linear(4, 5)  # or nn.Linear(in_dim=4, out_dim=5)
        >>> layer(ac.randn(2, 4)).shape
        (2, 5)
    """

    def __init__(
        self,
        in_features: int | None = None,
        out_features: int | None = None,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        in_dim: int | None = None,
        out_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.in_features = _resolve_dim("in_features", "in_dim", in_features, in_dim)
        self.out_features = _resolve_dim("out_features", "out_dim", out_features, out_dim)
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"Linear needs a floating-point dtype, got {dtype}")
        self.weight = Parameter(
            empty(self.out_features, self.in_features, dtype=dtype, device=device)
        )
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @property
    def in_dim(self) -> int:
        """The seed's name for ``in_features``."""
        return self.in_features

    @property
    def out_dim(self) -> int:
        """The seed's name for ``out_features``."""
        return self.out_features

    def reset_parameters(self) -> None:
        """Draw new weights and bias with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """A bilinear map of two inputs: ``y_o = x1 @ weight[o] @ x2 + bias_o``.

    Inputs ``(*, in1_features)`` and ``(*, in2_features)``, output ``(*, out_features)``.
    The weight has shape ``(out_features, in1_features, in2_features)`` and the bias
    ``(out_features,)``, both drawn from U(-1/sqrt(in1_features), 1/sqrt(in1_features)),
    as in PyTorch.

    Args:
        in1_features: The size of each sample of the first input.
        in2_features: The size of each sample of the second input.
        out_features: The size of each output sample.
        bias: Whether to add a learnable bias.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).

    Example:
        >>> layer = nn.Bilinear(3, 4, 5)
        >>> layer(ac.randn(2, 3), ac.randn(2, 4)).shape
        (2, 5)
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        sizes = {"in1_features": in1_features, "in2_features": in2_features}
        sizes["out_features"] = out_features
        for name, size in sizes.items():
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"Bilinear() needs a non-negative integer {name}, got {size!r}")
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"Bilinear needs a floating-point dtype, got {dtype}")
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new weights and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last axis of its first input.

    Until then ``weight`` and ``bias`` are ``UninitializedParameter``s; the first call
    creates them with PyTorch's initialisation and turns the module into a ``Linear``.

    Args:
        out_features: The size of each output sample.
        bias: Whether to add a learnable bias.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).

    Example:
        >>> layer = nn.LazyLinear(5)
        >>> layer(ac.randn(2, 4)).shape, type(layer).__name__
        ((2, 5), 'Linear')
    """

    cls_to_become = Linear

    def __init__(
        self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(0, out_features, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=self.weight.dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=self.weight.dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        self.in_features = input.shape[-1]
        if self.has_uninitialized_params():
            cast(UninitializedParameter, self.weight).materialize(
                (self.out_features, self.in_features)
            )
            if self.bias is not None:
                cast(UninitializedParameter, self.bias).materialize((self.out_features,))
            self.reset_parameters()
