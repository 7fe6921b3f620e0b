"""One version everywhere, exact sibling pins, and packages that build with the right files."""

from __future__ import annotations

import ast
import email.parser
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from bump_version import bump
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CORE = "ac-core"
CORE_INIT = Path("packages/ac-core/src/auto_compyute/__init__.py")
PACKAGE_DIRS = sorted(path.parent for path in ROOT.glob("packages/*/pyproject.toml"))
INIT_VERSION_RE = re.compile(r'^__version__\s*=\s*"([^"]*)"', re.MULTILINE)


def load_projects(root: Path) -> dict[str, dict]:
    """Map each package folder name to the ``[project]`` table of its pyproject.toml."""
    return {
        path.parent.name: tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        for path in sorted(root.glob("packages/*/pyproject.toml"))
    }


def requirements(project: dict, *, extras: bool = True) -> list[Requirement]:
    """A project's requirements: its dependencies and, if ``extras``, those of every extra."""
    groups = [project.get("dependencies", [])]
    if extras:
        groups += project.get("optional-dependencies", {}).values()
    return [Requirement(text) for group in groups for text in group]


def version_problems(root: Path) -> list[str]:
    """List every break of the one-version rule under ``root``."""
    projects = load_projects(root)
    version = projects[CORE]["version"]
    problems = [
        f"{name}: version {project.get('version')!r}, but ac-core has {version!r}"
        for name, project in projects.items()
        if project.get("version") != version
    ]
    for name, project in projects.items():
        for req in requirements(project):
            if canonicalize_name(req.name) in projects and str(req.specifier) != f"=={version}":
                problems.append(f"{name}: requirement '{req}' must pin exactly =={version}")
    found = INIT_VERSION_RE.findall((root / CORE_INIT).read_text(encoding="utf-8"))
    if found != [version]:
        problems.append(f"{CORE_INIT}: __version__ {found}, expected [{version!r}]")
    return problems


def sibling_closure(projects: dict[str, dict], name: str) -> set[str]:
    """The local packages that ``name`` needs, directly or not (extras left out)."""
    needed: set[str] = set()
    todo = [name]
    while todo:
        for req in requirements(projects[todo.pop()], extras=False):
            dep = canonicalize_name(req.name)
            if dep in projects and dep not in needed:
                needed.add(dep)
                todo.append(dep)
    return needed


def nox_packages_table() -> dict[str, list[str]]:
    """Read the ``PACKAGES`` table from noxfile.py without importing nox."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "PACKAGES" for t in targets):
                assert node.value is not None
                return ast.literal_eval(node.value)
    raise AssertionError("noxfile.py has no PACKAGES table")


# --- the rules, on the real repository ----------------------------------------------------


def test_each_folder_is_named_after_its_distribution() -> None:
    for name, project in load_projects(ROOT).items():
        assert canonicalize_name(project["name"]) == name
        assert name.startswith("ac-")


def test_one_version_and_exact_sibling_pins() -> None:
    assert version_problems(ROOT) == []


def test_nox_table_lists_every_package_with_its_local_dependencies() -> None:
    projects = load_projects(ROOT)
    table = nox_packages_table()
    assert sorted(table) == sorted(projects), "add each packages/<name> to PACKAGES in noxfile.py"
    for name, closure in table.items():
        assert set(closure) <= set(projects) - {name}
        assert sibling_closure(projects, name) <= set(closure), f"{name}: closure incomplete"


def test_every_package_carries_the_license() -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    for package_dir in PACKAGE_DIRS:
        assert (package_dir / "LICENSE").read_text(encoding="utf-8") == license_text


# --- building sdists and wheels -------------------------------------------------------------


def hatchling_build(source: Path, target: str, out: Path) -> Path:
    """Build one ``target`` (sdist or wheel) of the project in ``source`` with hatchling."""
    command = [sys.executable, "-m", "hatchling", "build", "-t", target, "-d", str(out)]
    result = subprocess.run(command, cwd=source, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (artifact,) = out.glob("*.tar.gz" if target == "sdist" else "*.whl")
    return artifact


@pytest.fixture(scope="module", params=PACKAGE_DIRS, ids=lambda path: path.name)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Build the sdist from the package folder, then the wheel from the unpacked sdist."""
    package_dir: Path = request.param
    tmp = tmp_path_factory.mktemp(package_dir.name)
    sdist = hatchling_build(package_dir, "sdist", tmp / "sdist")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (unpacked,) = (tmp / "unpacked").iterdir()
    wheel = hatchling_build(unpacked, "wheel", tmp / "wheel")
    return package_dir, sdist, wheel


def test_sdist_is_self_contained(built) -> None:
    _, sdist, _ = built
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
    assert not [m.name for m in members if m.issym() or m.islnk()]
    names = {m.name.split("/", 1)[1] for m in members if "/" in m.name}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= names
    assert any(name.startswith("src/auto_compyute/") for name in names)


def test_wheel_contents(built) -> None:
    package_dir, _, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    project = load_projects(ROOT)[package_dir.name]
    assert (metadata["Name"], metadata["Version"]) == (project["name"], project["version"])

    files = [n for n in names if not n.split("/")[0].endswith(".dist-info")]
    assert files
    assert all(n.startswith("auto_compyute/") for n in files), files
    assert not [n for n in files if "__pycache__" in n or n.endswith(".pyc")]
    if package_dir.name == CORE:
        assert "auto_compyute/__init__.py" in files
        assert "auto_compyute/py.typed" in files
    else:
        # An add-on ships only its own subpackage: never ac-core's auto_compyute/__init__.py.
        assert not [n for n in files if n.count("/") < 2], "files directly in auto_compyute/"
        subpackages = {n.split("/")[1] for n in files}
        assert len(subpackages) == 1, subpackages
        (sub,) = subpackages
        assert {f"auto_compyute/{sub}/__init__.py", f"auto_compyute/{sub}/py.typed"} <= set(files)


# --- scripts/bump_version.py, on a copy -----------------------------------------------------

FAKE_ADDON = """\
[project]
name = "ac-fake"
version = "0.1.0"
dependencies = ["numpy>=1.26", "ac-core==0.1.0"]

[project.optional-dependencies]
extra = ["ac-core[anything] >= 0.0.1 ; python_version >= '3.10'"]

[tool.other]
version = "keep-me"
"""


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The files bump_version.py edits, copied, plus a fake add-on with loose pins."""
    for path in [*ROOT.glob("packages/*/pyproject.toml"), ROOT / CORE_INIT]:
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    fake = tmp_path / "packages/ac-fake/pyproject.toml"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_ADDON.replace("0.1.0", load_projects(ROOT)[CORE]["version"]))
    return tmp_path


def test_the_rules_catch_a_loose_sibling_pin(repo_copy: Path) -> None:
    problems = version_problems(repo_copy)
    assert len(problems) == 1
    assert "ac-core[anything]" in problems[0]


def test_bump_version_rewrites_versions_and_pins(repo_copy: Path) -> None:
    changed = bump(repo_copy, "1.2.3rc1")
    assert repo_copy / CORE_INIT in changed
    assert version_problems(repo_copy) == []
    assert {p["version"] for p in load_projects(repo_copy).values()} == {"1.2.3rc1"}
    fake = (repo_copy / "packages/ac-fake/pyproject.toml").read_text()
    assert 'name = "ac-fake"' in fake
    assert 'version = "keep-me"' in fake
    assert "\"ac-core[anything]==1.2.3rc1 ; python_version >= '3.10'\"" in fake


def test_bump_version_command_line(repo_copy: Path) -> None:
    script = ROOT / "scripts" / "bump_version.py"
    run = [sys.executable, str(script), "--root", str(repo_copy)]
    result = subprocess.run([*run, "2.0.0"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert version_problems(repo_copy) == []
    bad = subprocess.run([*run, "two"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "not a version" in bad.stderr
