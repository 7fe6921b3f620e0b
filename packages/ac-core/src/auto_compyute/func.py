"""Function transforms, as part of ``torch.func``: ``grad``, ``grad_and_value``, ``vjp``,
``jacrev`` and ``hessian`` turn a function of tensors into one that returns derivatives.

They are built on ``ac.autograd.grad`` (there is no ``vmap``, ``jvp`` or ``jacfwd``), nest
(``grad(grad(f))``), and differentiate only the arguments named by ``argnums``: a tensor a
function uses through a closure is a constant. Differentiated arguments must be tensors
(no nested containers); nesting needs differentiable backwards of the ops involved.

Example:
    >>> x = ac.randn(3, dtype=ac.float64)
    >>> ac.func.grad(lambda t: t.sin().sum())(x)  # cos x
    >>> ac.func.hessian(lambda t: (t**3).sum())(x)  # diag(6 x)
"""

from auto_compyute._core.func import grad, grad_and_value, hessian, jacrev, vjp

__all__ = ["grad", "grad_and_value", "hessian", "jacrev", "vjp"]
