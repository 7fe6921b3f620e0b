"""The primitive differentiable operations, grouped by kind.

Everything else (``std``, ``flatten``, ``chunk``, ...) is composed from these on
``Tensor`` and gets its gradient for free.
"""
