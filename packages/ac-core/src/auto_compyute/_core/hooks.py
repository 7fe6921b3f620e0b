"""``RemovableHandle``: what registering a hook returns (tensor and module hooks)."""

from __future__ import annotations

import itertools
from typing import Any

_handle_ids = itertools.count()


class RemovableHandle:
    """What registering a hook returns: ``remove()`` unregisters it (also on leaving a
    ``with`` block).

    Args:
        hooks: The dict the hook was added to, under this handle's ``id``.
    """

    def __init__(self, hooks: dict[int, Any]) -> None:
        self.hooks, self.id = hooks, next(_handle_ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
