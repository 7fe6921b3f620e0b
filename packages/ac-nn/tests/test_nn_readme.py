"""The Python examples of packages/ac-nn/README.md run and print what the README says."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    code = BLOCKS[index]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, f"README.md example {index}", "exec"), {"__name__": "__readme__"})
    # each print(...) line is followed by its output: an inline "# value" and/or "# ..." lines
    expected: list[str] = []
    after_print = False
    for line in code.splitlines():
        if line.startswith("print("):
            after_print = True
            if "  # " in line:
                expected.append(line.split("  # ", 1)[1])
        elif after_print and line.startswith("# "):
            expected.append(line[2:])
        else:
            after_print = False
    assert output.getvalue().splitlines() == expected
