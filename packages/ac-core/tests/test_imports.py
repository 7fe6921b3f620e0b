"""Importing ac-core: no side effects, no add-ons imported, clear errors for missing add-ons."""

import subprocess
import sys

import pytest

import auto_compyute as ac


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_import_has_no_side_effects_on_numpy() -> None:
    code = (
        "import numpy as np\n"
        "before = np.get_printoptions(); np.random.seed(1)\n"
        "state = np.random.get_state()[1][:4].tolist()\n"
        "np.random.seed(1)\n"
        "import auto_compyute as ac\n"
        "assert np.get_printoptions() == before\n"
        "assert np.random.get_state()[1][:4].tolist() == state\n"
        "import sys\n"
        "print(sorted(m for m in sys.modules if m.startswith('auto_compyute.') and "
        "m.split('.')[1] in ('nn', 'optim', 'viz')))\n"
        "print('cupy' in sys.modules)\n"
    )
    assert _run(code).split() == ["[]", "False"]


@pytest.mark.parametrize(
    ("name", "package"), [("nn", "ac-nn"), ("optim", "ac-optim"), ("viz", "ac-viz")]
)
def test_missing_addon_names_the_package(monkeypatch, name: str, package: str) -> None:
    if name in vars(ac):  # bound once the add-on was imported
        monkeypatch.delattr(ac, name)
    monkeypatch.setitem(sys.modules, f"auto_compyute.{name}", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=f"pip install {package}"):
        getattr(ac, name)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ac.nothing  # noqa: B018


def test_version() -> None:
    assert ac.__version__.count(".") == 2
