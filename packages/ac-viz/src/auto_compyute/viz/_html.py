"""A standalone HTML page that renders a mermaid diagram with mermaid.js."""

from __future__ import annotations

import html
import json

MERMAID_JS = "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 16px; }}
#error {{ color: #b00020; white-space: pre-wrap; }}
</style>
</head>
<body>
<div id="graph"></div>
<pre id="error" hidden></pre>
<script type="module">
const source = {source};
const url = {url};
const config = {config};
function fail(message) {{
  const element = document.getElementById("error");
  element.hidden = false;
  element.textContent = message;
  document.body.dataset.status = "error";
}}
try {{
  const mermaid = (await import(url)).default;
  mermaid.initialize(config);
  const {{ svg }} = await mermaid.render("ac-graph", source);
  document.getElementById("graph").innerHTML = svg;
  document.body.dataset.status = "rendered";
}} catch (error) {{
  const reason = error && error.message || error;
  fail("could not render the graph with mermaid.js from " + url + ": " + reason);
}}
</script>
</body>
</html>
"""


def _js(value: object) -> str:
    # NOTE: "<" escaped so that no "</script>" can end the script early.
    return json.dumps(value).replace("<", "\\u003c")


def html_page(
    source: str,
    mermaid_js: str = MERMAID_JS,
    title: str = "Compute graph",
    max_edges: int | None = None,
    max_text_size: int | None = None,
) -> str:
    """A page that imports mermaid.js from ``mermaid_js`` and renders ``source``.

    ``max_edges`` and ``max_text_size`` raise mermaid's limits (500 edges, 50000
    characters) when they are larger. On failure the page shows the error and sets
    ``data-status="error"`` on its body; on success ``data-status="rendered"``.
    """
    config: dict[str, object] = {"startOnLoad": False, "securityLevel": "strict"}
    if max_edges is None or max_edges > 500:
        config["maxEdges"] = max_edges if max_edges is not None else 10**9
    if max_text_size is None or max_text_size > 50_000:
        config["maxTextSize"] = max_text_size if max_text_size is not None else 10**9
    return _PAGE.format(
        title=html.escape(title),
        source=_js(source),
        url=_js(mermaid_js),
        config=_js(config),
    )
