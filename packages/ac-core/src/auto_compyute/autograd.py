"""Automatic differentiation: gradients, grad mode, gradient checking and custom ops.

Write a custom differentiable operation by subclassing ``Op`` (see its docstring) and
check it with ``gradcheck``.
"""

from auto_compyute._core.autograd import (
    Op,
    enable_grad,
    grad,
    is_grad_enabled,
    no_autograd_tracking,
    no_grad,
    set_grad_enabled,
)
from auto_compyute._core.gradcheck import GradcheckError, gradcheck

__all__ = [
    "GradcheckError",
    "Op",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_autograd_tracking",
    "no_grad",
    "set_grad_enabled",
]
