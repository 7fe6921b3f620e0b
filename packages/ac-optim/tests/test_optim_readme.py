"""The README's example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_trains():
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    predicting_zero = (namespace["y"] ** 2).mean().item()
    assert namespace["loss"].item() < predicting_zero
    assert namespace["sched"].get_last_lr() == [0.0]  # the cosine reached its end
