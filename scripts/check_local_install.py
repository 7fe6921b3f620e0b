"""Check that every installed ``ac-*`` distribution was installed from this repository.

Anyone can publish a package named ``ac-core`` on a public index. Installing the whole
local closure in one command picks the local folders; this guard proves it afterwards by
reading each distribution's ``direct_url.json`` (PEP 610), which records where it came from.

Usage (with the environment's interpreter)::

    python scripts/check_local_install.py [--root DIR] [--no-editable] [EXPECTED ...]

EXPECTED names must be installed. Exits 1 and lists the problems otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

PREFIX = "ac-"
REPO_ROOT = Path(__file__).resolve().parent.parent


def normalize(name: str) -> str:
    """Normalize a distribution name as PEP 503 does (``AC_Core`` -> ``ac-core``)."""
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def _source_path(dist: metadata.Distribution) -> tuple[Path | None, bool]:
    """Return the local path a distribution was installed from, and whether it is editable."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None, False
    info = json.loads(text)
    url = urlparse(info.get("url", ""))
    if url.scheme != "file":
        return None, False
    editable = bool(info.get("dir_info", {}).get("editable", False))
    return Path(unquote(url.path)).resolve(), editable


def find_problems(
    root: Path,
    expected: Iterable[str] = (),
    *,
    allow_editable: bool = True,
    dists: Iterable[metadata.Distribution] | None = None,
) -> list[str]:
    """List why the installed ``ac-*`` distributions are not all local installs from ``root``."""
    root = root.resolve()
    found: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions() if dists is None else dists:
        name = normalize(dist.metadata["Name"] or "")
        if name.startswith(PREFIX):
            found.setdefault(name, dist)

    missing = [name for name in map(normalize, expected) if name not in found]
    problems = [f"{name} is not installed" for name in missing]
    for name, dist in sorted(found.items()):
        path, editable = _source_path(dist)
        if path is None:
            problems.append(f"{name} {dist.version} was not installed from a local path")
        elif not path.is_relative_to(root):
            problems.append(f"{name} {dist.version} was installed from {path}, outside {root}")
        elif editable and not allow_editable:
            problems.append(f"{name} is an editable install; a regular install is required")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the problems and return 1 if there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("expected", nargs="*", help="distributions that must be installed")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository root")
    parser.add_argument("--no-editable", action="store_true", help="reject editable installs")
    args = parser.parse_args(argv)

    problems = find_problems(args.root, args.expected, allow_editable=not args.no_editable)
    for problem in problems:
        print(f"check_local_install: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_local_install: every ac-* distribution comes from {args.root.resolve()}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
