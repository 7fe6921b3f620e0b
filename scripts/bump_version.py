"""Set one new version for every AutoCompyute distribution.

Rewrites, in place:

* ``version`` in the ``[project]`` table of every ``packages/*/pyproject.toml``;
* every requirement on a sibling package (extras included) to ``==NEW_VERSION``;
* ``__version__`` in ``packages/ac-core/src/auto_compyute/__init__.py``.

Usage::

    python scripts/bump_version.py NEW_VERSION [--root DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INIT_FILE = Path("packages/ac-core/src/auto_compyute/__init__.py")
# A PEP 440 public version without epoch: 1.2.3, 1.2.3rc1, 1.2.3.post1, 1.2.3.dev4, ...
VERSION_RE = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")
TABLE_RE = re.compile(r"^\s*\[+([^\]]+)\]+\s*(#.*)?$")
PROJECT_VERSION_RE = re.compile(r'^(version\s*=\s*)"[^"]*"', re.MULTILINE)
INIT_VERSION_RE = re.compile(r'^(__version__\s*=\s*)"[^"]*"', re.MULTILINE)


def set_project_version(text: str, version: str) -> str:
    """Replace ``version = "..."`` inside the ``[project]`` table only."""
    lines = text.splitlines(keepends=True)
    table = None
    for i, line in enumerate(lines):
        header = TABLE_RE.match(line)
        if header:
            table = header.group(1).strip()
        elif table == "project":
            lines[i] = PROJECT_VERSION_RE.sub(rf'\g<1>"{version}"', line)
    return "".join(lines)


def pin_siblings(text: str, siblings: list[str], version: str) -> str:
    """Pin each quoted sibling requirement, e.g. ``"ac-core[x]>=0.1"``, to ``==version``."""
    names = "|".join(re.escape(name) for name in sorted(siblings, key=len, reverse=True))
    requirement = re.compile(
        rf"""(?P<head>["'](?:{names})\s*(?:\[[^\]]*\])?)\s*[=<>!~][^;"']*?(?=\s*[;"'])"""
    )
    return requirement.sub(rf"\g<head>=={version}", text)


def bump(root: Path, version: str) -> list[Path]:
    """Write ``version`` everywhere under ``root``; return the files that changed."""
    if not VERSION_RE.match(version):
        raise ValueError(f"{version!r} is not a version such as 1.2.3 or 1.2.3rc1")
    pyprojects = sorted(root.glob("packages/*/pyproject.toml"))
    if not pyprojects:
        raise FileNotFoundError(f"no packages/*/pyproject.toml under {root}")
    siblings = [path.parent.name for path in pyprojects]

    changed = []
    for path in pyprojects:
        text = path.read_text(encoding="utf-8")
        new = pin_siblings(set_project_version(text, version), siblings, version)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)

    init = root / INIT_FILE
    text = init.read_text(encoding="utf-8")
    new, count = INIT_VERSION_RE.subn(rf'\g<1>"{version}"', text)
    if count != 1:
        raise ValueError(f"expected one __version__ line in {init}, found {count}")
    if new != text:
        init.write_text(new, encoding="utf-8")
        changed.append(init)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the new version, e.g. 0.2.0")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository root")
    args = parser.parse_args(argv)
    try:
        changed = bump(args.root, args.version)
    except (ValueError, FileNotFoundError) as error:
        print(f"bump_version: {error}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
