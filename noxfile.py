"""Developer and CI tasks for the AutoCompyute monorepo.

    nox                 every CPU session: lint, tests(...cpu) per package, parity, integration
    nox -t gpu          the CUDA test sessions (skipped when no GPU is visible)
    nox -l              list the sessions; `*` marks those a bare `nox` runs
    nox -s lint         one session; add `-- ARGS` to pass ARGS to pytest in test sessions

Every session runs on the interpreter that runs nox (python=None) in a fresh virtualenv,
made with uv when it is available.
"""

from __future__ import annotations

import shutil
import subprocess

import nox

# Each distribution under packages/ and the local packages it needs (its closure).
# Adding a package = creating packages/<name>/ and adding its entry here. Add-ons ship only
# their own subpackage: in their pyproject.toml use
#     [tool.hatch.build.targets.wheel]
#     only-include = ["src/auto_compyute/<sub>"]
#     sources = ["src"]
# and never ship src/auto_compyute/__init__.py (it belongs to ac-core).
PACKAGES: dict[str, list[str]] = {
    "ac-core": [],
    "ac-optim": ["ac-core"],
    "ac-nn": ["ac-core", "ac-optim"],
    "ac-viz": ["ac-core"],
    # "ac-cuda": ["ac-core"],
}
CUDA_PACKAGE = "ac-cuda"  # what the `cuda` test device needs besides the package under test

TEST_DEPS = ["pytest==9.0.3", "hypothesis==6.155.2"]
LINT_DEPS = ["ruff==0.17.6", "mypy==2.4.1", "import-linter==2.16"]
BUILD_DEPS = ["hatchling==1.33.0", "packaging>=24", "tomli>=2; python_version < '3.11'"]
SKLEARN = "scikit-learn==1.9.1"  # data sets for examples and training tests
# Test-only dependencies of one package's tests, beyond TEST_DEPS.
PACKAGE_TEST_DEPS: dict[str, list[str]] = {"ac-nn": [SKLEARN]}
SAFETENSORS = "safetensors==0.8.0"  # reference reader/writer for checkpoint parity tests
TORCH = "torch==2.13.0"  # installed with pip: pip takes the CPU build from the local disk

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_external_run = True
# A bare `nox` runs the sessions tagged "cpu"; `nox -t gpu` runs the CUDA ones.
nox.options.tags = ["cpu"]


def install_local(session: nox.Session, names: list[str], *extra: str) -> None:
    """Install local packages (regular, not editable) and ``extra`` in ONE command; verify.

    One command makes the resolver take every ``ac-*`` from its folder: left out of the
    command, a same-named package on an index could win. The check then proves it.
    """
    session.install(*[f"./packages/{name}" for name in names], *extra)
    session.run("python", "scripts/check_local_install.py", "--no-editable", *names)


def closure(name: str) -> list[str]:
    """``name`` and the local packages it needs, in table order."""
    needed = {name, *PACKAGES[name]}
    return [package for package in PACKAGES if package in needed]


CUPY_DEVICE_COUNT = """
try:
    import cupy
    print(cupy.cuda.runtime.getDeviceCount())
except Exception:
    print(0)
"""


def gpu_is_visible() -> bool:
    """Whether ``nvidia-smi`` lists at least one GPU on this machine."""
    if shutil.which("nvidia-smi") is None:
        return False
    result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and "GPU" in result.stdout


@nox.session(python=None, tags=["cpu"])
def lint(session: nox.Session) -> None:
    """Ruff (lint + format check), mypy on every package, and import layering (import-linter)."""
    # import-linter must see a regular (non-editable) install of every package.
    install_local(session, list(PACKAGES), *LINT_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files and options: [tool.mypy] in pyproject.toml
    session.run("lint-imports")  # contracts: [tool.importlinter] in pyproject.toml


@nox.session(python=None)
@nox.parametrize("device", [nox.param("cpu", tags=["cpu"]), nox.param("cuda", tags=["gpu"])])
@nox.parametrize("package", list(PACKAGES))
def tests(session: nox.Session, package: str, device: str) -> None:
    """One package's tests (parity excluded), with only its local closure installed."""
    names = closure(package)
    if device == "cuda":
        if not gpu_is_visible():
            session.skip("no CUDA GPU visible (nvidia-smi missing or lists no GPU)")
        if CUDA_PACKAGE not in PACKAGES:
            session.skip(f"{CUDA_PACKAGE} is not in the PACKAGES table yet")
        names = [p for p in PACKAGES if p in {*names, *closure(CUDA_PACKAGE)}]
    install_local(session, names, *TEST_DEPS, *PACKAGE_TEST_DEPS.get(package, []))
    if device == "cuda":
        count = session.run("python", "-c", CUPY_DEVICE_COUNT, silent=True)
        if str(count).strip().splitlines()[-1:] == ["0"]:
            session.skip("CuPy cannot see a CUDA device")
    session.run(
        "pytest",
        f"packages/{package}/tests",
        "-m",
        "not parity",
        "--ignore-glob=*/test_parity_*.py",  # they import torch; the parity session runs them
        *session.posargs,
        env={"AC_TEST_DEVICE": device},
    )


@nox.session(python=None, tags=["cpu"])
def parity(session: nox.Session) -> None:
    """The tests marked `parity`, which compare results with PyTorch, for every package."""
    install_local(session, list(PACKAGES), *TEST_DEPS, SKLEARN, SAFETENSORS)
    if session.venv_backend == "uv":
        session.install("pip")  # uv venvs have no pip
    session.run("python", "-m", "pip", "install", "--quiet", TORCH)
    for package in PACKAGES:
        # One pytest per package: test file names may repeat across packages. Exit status 5
        # (no test selected) is fine: not every package has parity tests.
        session.run(
            "pytest",
            f"packages/{package}/tests",
            "-m",
            "parity",
            *session.posargs,
            env={"AC_TEST_DEVICE": "cpu", "AC_REQUIRE_ALL": "1"},
            success_codes=[0, 5],
        )


@nox.session(python=None, tags=["cpu"])
def integration(session: nox.Session) -> None:
    """Repository-wide tests with every package installed: versions, pins, builds, helper
    scripts, and the README's snippets and Quickstart as a new user runs them."""
    install_local(session, list(PACKAGES), *TEST_DEPS, *BUILD_DEPS, SKLEARN)
    session.run("pytest", "integration_tests", *session.posargs, env={"AC_REQUIRE_ALL": "1"})
