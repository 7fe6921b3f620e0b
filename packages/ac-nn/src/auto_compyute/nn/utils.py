"""Training utilities under PyTorch's names: ``nn.utils.clip_grad_norm_``, ``clip_grad_value_``.

The implementations live in ``auto_compyute.optim``; this module re-exports them where
PyTorch users look for them.
"""

from auto_compyute.optim import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
