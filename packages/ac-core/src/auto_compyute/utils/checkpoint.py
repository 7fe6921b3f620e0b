"""Activation checkpointing, as ``torch.utils.checkpoint``.

A checkpointed segment keeps only its inputs during forward and is run again, with the
graph recorded, when backward reaches it: memory for compute.

Example:
    >>> from auto_compyute.utils.checkpoint import checkpoint
    >>> w = ac.randn(4, 4, req_grad=True)
    >>> x = ac.randn(2, 4, req_grad=True)
    >>> y = checkpoint(lambda t: (t @ w).tanh() @ w, x, use_reentrant=False)
    >>> y.sum().backward()  # w.grad and x.grad as without the checkpoint
"""

from auto_compyute._core.checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential"]
