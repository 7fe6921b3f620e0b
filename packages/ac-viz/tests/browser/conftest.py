"""Fixtures of the real-browser tests: Chromium, mermaid.js from npm, a local web server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from viz_browser import SETUP_HINT, Browser, all_installed, find_chromium, install_mermaid


def _unavailable(reason: str) -> None:
    """Skip, or fail when AC_VIZ_REQUIRE_BROWSER=1 (CI, where the setup script ran)."""
    if os.environ.get("AC_VIZ_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (AC_VIZ_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = find_chromium()
    if chromium is None:
        _unavailable(f"Chromium not found (set AC_VIZ_CHROMIUM or {SETUP_HINT})")
    preinstalled = os.environ.get("AC_VIZ_MERMAID_DIR")
    if preinstalled:
        modules = Path(preinstalled)
        if not all_installed(modules):
            _unavailable(f"AC_VIZ_MERMAID_DIR={preinstalled} lacks mermaid10/ or mermaid11/")
    else:
        installed, why = install_mermaid(tmp_path_factory.mktemp("npm"))
        if installed is None:
            _unavailable(f"cannot install mermaid.js from npm: {why} ({SETUP_HINT})")
        modules = installed
    browser = Browser(chromium, tmp_path_factory.mktemp("pages"), modules)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AC_VIZ_SCREENSHOT_DIR if set (created), else a temporary folder."""
    chosen = os.environ.get("AC_VIZ_SCREENSHOT_DIR")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")
