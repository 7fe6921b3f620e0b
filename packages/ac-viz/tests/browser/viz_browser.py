"""Rendering pages in headless Chromium and reading back the SVG that mermaid drew.

Environment variables:
    AC_VIZ_CHROMIUM: the Chromium binary (default: ``chromium`` etc. on PATH).
    AC_VIZ_MERMAID_DIR: a ``node_modules`` folder that already holds ``mermaid11`` and
        ``mermaid10`` (default: install them with npm into a temporary folder).
    AC_VIZ_SCREENSHOT_DIR: where to keep the PNG screenshots (default: a pytest tmp dir).
    AC_VIZ_REQUIRE_BROWSER: ``1`` makes missing tools an error instead of a skip (CI).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

# What npm installs: mermaid 11 for save_graph's page, and the mermaid that
# mermaid-python's Jupyter output imports from its CDN (10.1.0).
MERMAID_PACKAGES = {"mermaid11": "mermaid@11", "mermaid10": "mermaid@10.1.0"}
MERMAID_ESM = "dist/mermaid.esm.min.mjs"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SETUP_HINT = "run packages/ac-viz/tests/browser/setup_browser.sh"


def find_chromium() -> str | None:
    """The Chromium binary named by AC_VIZ_CHROMIUM or found on PATH."""
    if os.environ.get("AC_VIZ_CHROMIUM"):
        return shutil.which(os.environ["AC_VIZ_CHROMIUM"])
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def install_mermaid(target: Path) -> tuple[Path | None, str]:
    """Install mermaid.js with npm under ``target``; the node_modules folder, or None and why."""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed"
    specs = [f"{alias}@npm:{spec}" for alias, spec in MERMAID_PACKAGES.items()]
    command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(target), *specs]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return None, "npm install timed out after 600 s"
    modules = target / "node_modules"
    if result.returncode != 0 or not all_installed(modules):
        return None, f"npm install failed: {(result.stderr or result.stdout)[-800:]}"
    return modules, ""


def all_installed(modules: Path) -> bool:
    return all((modules / alias / MERMAID_ESM).is_file() for alias in MERMAID_PACKAGES)


# ------------------------------------------------------------------------------ DOM
@dataclass
class Element:
    """An element of the dumped DOM (tag and attribute names lower-cased)."""

    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        """This element and all elements below it, in document order."""
        stack: list[Element] = [self]
        while stack:
            element = stack.pop()
            yield element
            stack.extend(c for c in reversed(element.children) if isinstance(c, Element))

    def text(self) -> str:
        parts = []
        stack: list[Element | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            else:
                stack.extend(reversed(item.children))
        return "".join(parts)


class _TreeBuilder(HTMLParser):
    # HTML elements that have no end tag
    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
        | {"source", "track", "wbr"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_dom(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass
class Rendered:
    """What mermaid drew on a page."""

    dom: Element

    @property
    def status(self) -> str | None:
        """``data-status`` of the body (set by save_graph's page), or None."""
        body = next((e for e in self.dom.iter() if e.tag == "body"), None)
        return None if body is None else body.attrs.get("data-status")

    @property
    def svgs(self) -> list[Element]:
        return [
            e for e in self.dom.iter() if e.tag == "svg" and e.attrs.get("aria-roledescription")
        ]

    @property
    def svg(self) -> Element:
        (svg,) = self.svgs
        return svg

    def nodes(self) -> list[Element]:
        return [e for e in self.svg.iter() if e.tag == "g" and "node" in e.classes]

    def edges(self) -> list[Element]:
        return [e for e in self.svg.iter() if e.tag == "path" and "flowchart-link" in e.classes]

    def clusters(self) -> list[Element]:
        return [e for e in self.svg.iter() if e.tag == "g" and "cluster" in e.classes]

    def errors(self) -> list[str]:
        """Mermaid's error diagrams, parse errors and our page's error box."""
        found = []
        for e in self.dom.iter():
            if e.attrs.get("aria-roledescription") == "error":
                found.append("mermaid drew an error diagram: " + e.text()[:300])
            if e.attrs.get("id") == "error" and "hidden" not in e.attrs:
                found.append("page error: " + e.text()[:500])
        text = self.dom.text()
        for marker in ("Syntax error", "Parse error", "Lexical error"):
            if marker in text:
                found.append(f"{marker!r} in the page text")
        return found


# --------------------------------------------------------------------- the browser
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
    }

    def log_message(self, format: str, *args: object) -> None:
        return None


class Browser:
    """Serves a folder over HTTP on 127.0.0.1 and opens its pages in headless Chromium."""

    def __init__(self, chromium: str, root: Path, modules: Path) -> None:
        self.chromium, self.root = chromium, root
        for alias in MERMAID_PACKAGES:
            link = root / alias
            if not link.exists():
                link.symlink_to(modules / alias, target_is_directory=True)
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.profile = root / "chromium-profile"

    def mermaid_url(self, alias: str) -> str:
        """Where the page finds the ES module of an installed mermaid (a same-origin path)."""
        return f"/{alias}/{MERMAID_ESM}"

    def _run(self, page: str, *options: str) -> subprocess.CompletedProcess[str]:
        command = [
            self.chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={self.profile}",
            "--virtual-time-budget=20000",
            *options,
            f"{self.base}/{page}",
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)

    def render(self, name: str, html: str) -> Rendered:
        """Write ``html`` as page ``name``, open it, and parse the DOM once mermaid is done."""
        (self.root / name).write_text(html, encoding="utf-8")
        result = self._run(name, "--dump-dom")
        if result.returncode != 0 or "<html" not in result.stdout:
            raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
        return Rendered(parse_dom(result.stdout))

    def screenshot(self, name: str, path: Path, size: tuple[int, int] = (1600, 900)) -> Path:
        """A PNG of page ``name`` (written by ``render`` before)."""
        result = self._run(name, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}")
        if not path.is_file():
            raise RuntimeError(f"chromium wrote no screenshot: {result.stderr[-2000:]}")
        return path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
