"""Higher-level autograd, as ``torch.autograd.functional``: ``vjp``, ``jvp``, ``jacobian``,
``hessian``, ``hvp`` and ``vhp`` of functions of tensors.

Every function takes ``func`` and ``inputs`` (a tensor or a tuple of tensors, passed as
``func(*inputs)``) and returns results shaped and nested as PyTorch's do. They are built
on ``ac.autograd.grad``; the Hessian functions and ``jvp`` differentiate twice, so the ops
in ``func`` need differentiable backwards (``graph_backward``).

Example:
    >>> from auto_compyute.autograd.functional import hessian, jacobian
    >>> x = ac.randn(3, dtype=ac.float64)
    >>> jacobian(lambda t: t.sin(), x)  # diag(cos x)
    >>> hessian(lambda t: (t**3).sum(), x)  # diag(6 x)
"""

from auto_compyute._core.functional import hessian, hvp, jacobian, jvp, vhp, vjp

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
