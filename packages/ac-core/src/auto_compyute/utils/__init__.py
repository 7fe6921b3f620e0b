"""Utilities, as ``torch.utils``: ``checkpoint`` (activation checkpointing)."""

from auto_compyute.utils import checkpoint

__all__ = ["checkpoint"]
