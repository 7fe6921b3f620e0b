"""``LazyModuleMixin``: modules whose input size is inferred at the first call.

A lazy module (``nn.LazyLinear``, ``nn.LazyConv2d``, ...) starts with
``UninitializedParameter``s. Its first call (the "dry run") reads the input size off the
input, materializes the parameters and buffers in place, initialises them as the regular
module does, and turns the module into that regular module (its ``cls_to_become``), as in
PyTorch. Loading a state dict before the dry run materializes them with the loaded shapes.
"""

from __future__ import annotations

from typing import Any

from auto_compyute._core.autograd import no_grad
from auto_compyute._core.tensor import Tensor
from auto_compyute.nn.module import Module, UninitializedBuffer, UninitializedParameter

__all__ = ["LazyModuleMixin"]


class LazyModuleMixin:
    """Mix in before a module class to infer its input size at the first call.

    Subclasses set ``cls_to_become`` (the regular class) and define
    ``initialize_parameters(input)``, which reads the input size and materializes the
    uninitialized parameters and buffers. Parameters handed to an optimizer before the dry
    run stay the same objects, so the optimizer updates them after it.

    Example:
        >>> layer = nn.LazyLinear(5)
        >>> layer(ac.randn(2, 4)).shape
        (2, 5)
        >>> type(layer).__name__, layer.weight.shape
        ('Linear', (5, 4))
    """

    cls_to_become: type[Module] | None = None
    _parameters: dict[str, Any]
    _buffers: dict[str, Any]

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module still waits for its shape."""
        members = [*self._parameters.values(), *self._buffers.values()]
        return any(isinstance(m, UninitializedParameter | UninitializedBuffer) for m in members)

    def initialize_parameters(self, input: Tensor) -> None:
        """Read the input size off ``input`` and materialize the parameters and buffers."""
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{type(self).__name__} needs an input tensor for its first call")
        with no_grad():
            self.initialize_parameters(args[0])
        if self.has_uninitialized_params():
            raise RuntimeError(
                f"{type(self).__name__} has uninitialized parameters after its first call"
            )
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become  # type: ignore[assignment]
        return Module.__call__(self, *args, **kwargs)  # type: ignore[arg-type]
