"""What a new user tries first: the README's snippets, the seed README's snippets and the
Quickstart example, with every package installed."""

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_README = ROOT.parent / "shared" / "seed" / "README-seed.md"
SEED_SNIPPETS = Path(__file__).resolve().parent / "seed_snippets.md"  # a verbatim copy


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```[Pp]ython\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(python_blocks(ROOT / "README.md"))))
def test_readme_snippet_runs(index: int, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # snippets may save files
    exec(python_blocks(ROOT / "README.md")[index], {"__name__": "readme"})


def test_seed_readme_snippets_run_verbatim() -> None:
    blocks = python_blocks(SEED_SNIPPETS)
    if SEED_README.exists():  # the copy in the repository must stay the seed's, verbatim
        assert python_blocks(SEED_README) == blocks
    assert len(blocks) == 3  # tensors and an expression; draw_graph(y); a custom module
    namespace: dict = {}
    exec(blocks[0], namespace)
    assert repr(namespace["y"]).endswith("grad_fn=Add)")
    for block in blocks[1:]:  # the seed runs them one after another, as in a notebook
        exec(block, namespace)
    assert namespace["y"].shape == (1, 3)
    graph = namespace["ac"].viz.draw_graph(namespace["y"])
    assert type(graph).__name__ == "Mermaid"


def test_quickstart_example_trains() -> None:
    example = runpy.run_path(str(ROOT / "examples" / "train_cnn_digits.py"))
    assert example["main"](epochs=10) > 0.95


def test_core_only_example_trains() -> None:
    example = runpy.run_path(str(ROOT / "examples" / "train_mlp_core.py"))
    assert example["main"](epochs=15) > 0.9
