"""Automatic differentiation: gradients, grad mode, gradient checking and custom ops.

Write a custom differentiable operation by subclassing ``Op`` (see its docstring) and
check it with ``gradcheck`` (and, if it has a ``graph_backward``, ``gradgradcheck``).
``ac.autograd.functional`` has Jacobians, Hessians and vector products of functions.
"""

from auto_compyute._core.autograd import (
    Op,
    enable_grad,
    grad,
    is_grad_enabled,
    is_graph_retained,
    no_autograd_tracking,
    no_grad,
    set_grad_enabled,
)
from auto_compyute._core.gradcheck import GradcheckError, gradcheck, gradgradcheck
from auto_compyute.autograd import functional

__all__ = [
    "GradcheckError",
    "Op",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "is_graph_retained",
    "no_autograd_tracking",
    "no_grad",
    "set_grad_enabled",
]
