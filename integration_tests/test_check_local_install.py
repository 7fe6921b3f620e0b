"""scripts/check_local_install.py: every ac-* distribution must come from this repository."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from check_local_install import find_problems

ROOT = Path(__file__).resolve().parent.parent


def fake_dist(site: Path, name: str, source: str | None, *, editable: bool = False) -> None:
    """Write a minimal ``*.dist-info`` for ``name``, installed from ``source`` (a URL)."""
    info = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    if source is not None:
        direct_url = {"url": source, "dir_info": {"editable": editable}}
        (info / "direct_url.json").write_text(json.dumps(direct_url))


def problems_in(site: Path, *expected: str, allow_editable: bool = True) -> list[str]:
    """Run the guard on the fake site-packages folder ``site``."""
    dists = metadata.distributions(path=[str(site)])
    return find_problems(ROOT, expected, allow_editable=allow_editable, dists=dists)


def test_local_installs_pass(tmp_path: Path) -> None:
    fake_dist(tmp_path, "ac-core", (ROOT / "packages/ac-core").as_uri())
    fake_dist(tmp_path, "AC_Optim", (ROOT / "packages/ac-optim").as_uri(), editable=True)
    fake_dist(tmp_path, "numpy", None)
    assert problems_in(tmp_path, "ac-core", "ac_optim") == []


def test_index_install_fails(tmp_path: Path) -> None:
    fake_dist(tmp_path, "ac-core", None)
    assert problems_in(tmp_path) == ["ac-core 0.1.0 was not installed from a local path"]


def test_install_from_outside_the_repository_fails(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "ac-core"
    fake_dist(tmp_path / "site", "ac-core", elsewhere.as_uri())
    (problem,) = problems_in(tmp_path / "site")
    assert "outside" in problem


def test_remote_url_fails(tmp_path: Path) -> None:
    fake_dist(tmp_path, "ac-nn", "https://example.org/ac_nn-0.1.0-py3-none-any.whl")
    assert problems_in(tmp_path) == ["ac-nn 0.1.0 was not installed from a local path"]


def test_missing_expected_distribution_fails(tmp_path: Path) -> None:
    fake_dist(tmp_path, "ac-core", (ROOT / "packages/ac-core").as_uri())
    assert problems_in(tmp_path, "ac-core", "ac-nn") == ["ac-nn is not installed"]


def test_editable_install_can_be_rejected(tmp_path: Path) -> None:
    fake_dist(tmp_path, "ac-core", (ROOT / "packages/ac-core").as_uri(), editable=True)
    assert problems_in(tmp_path) == []
    (problem,) = problems_in(tmp_path, allow_editable=False)
    assert "editable" in problem


def test_command_line_exit_status() -> None:
    script = str(ROOT / "scripts" / "check_local_install.py")
    result = subprocess.run(
        [sys.executable, script, "ac-not-installed"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "ac-not-installed is not installed" in result.stderr
