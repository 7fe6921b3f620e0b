"""Importing ac-core: no side effects, no add-ons imported, clear errors for missing add-ons."""

import platform
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
    with pytest.raises(ModuleNotFoundError, match=f"pip install ./packages/{package}"):
        getattr(ac, name)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ac.nothing  # noqa: B018


def test_version() -> None:
    assert ac.__version__.count(".") == 2


_FAULTS_OF_A_REUSED_BUFFER = (
    "import resource, numpy as np\n"
    "import auto_compyute\n"
    "def faults():\n"
    "    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "    array = np.ones(4_000_000, np.float32)\n"  # 16 MB
    "    del array\n"
    "    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before\n"
    "faults()\n"
    "print(faults())\n"
)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or "glibc" not in " ".join(platform.libc_ver()),
    reason="malloc tuning applies to glibc on Linux only",
)
def test_freed_buffers_are_reused_without_page_faults(monkeypatch) -> None:
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AC_KEEP_FREED_MEMORY", raising=False)
    tuned = int(_run(_FAULTS_OF_A_REUSED_BUFFER))
    monkeypatch.setenv("AC_KEEP_FREED_MEMORY", "0")
    untuned = int(_run(_FAULTS_OF_A_REUSED_BUFFER))
    # 16 MB is about 4000 pages of 4 KiB (or 8 huge pages): all fresh without tuning.
    assert tuned < 4 <= untuned


def test_malloc_settings_of_the_user_are_left_alone(monkeypatch) -> None:
    from auto_compyute._core.memory import keep_freed_memory

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert keep_freed_memory() is False
