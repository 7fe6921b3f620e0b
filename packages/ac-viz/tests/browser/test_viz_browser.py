"""Diagrams rendered by mermaid.js in headless Chromium: nodes, edges, colours, no errors.

save_graph's page is rendered with mermaid 11; draw_graph's Jupyter output (mermaid-python)
with mermaid 10.1.0, the version it imports. Needs Chromium and npm (see setup_browser.sh).
"""

from __future__ import annotations

import html
import json
import re
import struct

import pytest
from viz_browser import Browser, Element, Rendered
from viz_models import Model, labelled, transformer_loss
from viz_source_parser import WORD_JOINER, Diagram, graph_of, parse

import auto_compyute as ac
from auto_compyute.viz._source import COLORS

MERMAID_PYTHON_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/mermaid@10\.1\.0/\+esm")


def save_graph_page(browser: Browser, name: str, y, **options) -> tuple[Rendered, Diagram]:
    """Render save_graph's HTML page (mermaid 11); also parse the source it embeds."""
    path = browser.root / name
    ac.viz.save_graph(y, path, mermaid_js=browser.mermaid_url("mermaid11"), **options)
    page = path.read_text(encoding="utf-8")
    source = json.loads(re.search(r"^const source = (.*);$", page, re.MULTILINE).group(1))
    return browser.render(name, page), parse(source)


def jupyter_page(browser: Browser, name: str, y, **options) -> tuple[Rendered, Diagram]:
    """Render draw_graph's object as Jupyter would: its _repr_html_ with mermaid 10.1.0."""
    snippet = ac.viz.draw_graph(y, **options)._repr_html_()
    assert MERMAID_PYTHON_CDN.search(snippet), "mermaid-python no longer loads mermaid 10.1.0"
    snippet = MERMAID_PYTHON_CDN.sub(browser.mermaid_url("mermaid10"), snippet)
    page = f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{snippet}</body></html>'
    return browser.render(name, page), parse(ac.viz.to_mermaid(y, **options))


def source_id(node: Element) -> str:
    """The flowchart id (n3, g0) of a rendered node (``...flowchart-n3-12``)."""
    match = re.search(r"flowchart-([ng]\d+)-\d+$", node.attrs.get("id", ""))
    assert match, f"unexpected node id {node.attrs.get('id')!r}"
    return match.group(1)


def translate(node: Element) -> tuple[float, float]:
    match = re.search(r"translate\(([-\d.e]+),\s*([-\d.e]+)\)", node.attrs.get("transform", ""))
    assert match, node.attrs
    return float(match.group(1)), float(match.group(2))


def check_drawing(rendered: Rendered, diagram: Diagram, status: str | None = "rendered") -> None:
    """The SVG has the diagram's nodes and edges, labels, colours, and no error."""
    assert rendered.errors() == []
    assert rendered.status == status
    nodes = rendered.nodes()
    assert len(nodes) == len(diagram.nodes)
    assert len(rendered.edges()) == len(diagram.edges)
    drawn = {source_id(n): n for n in nodes}
    # NOTE: the DOM dump escapes ">" inside the SVG's <style>; the parser keeps it raw.
    css = html.unescape("".join(e.text() for e in rendered.svg.iter() if e.tag == "style"))
    css = css.lower()
    class_rules = {
        kind: " ".join(re.findall(rf"\.{kind.lower()}\s*>\s*\*\s*{{([^}}]*)}}", css))
        for kind in COLORS
    }
    assert set(drawn) == set(diagram.nodes)
    for node_id, node in drawn.items():
        kind = diagram.classes[node_id]
        assert kind in node.classes
        fill = f"fill:{COLORS[kind][0]}".lower()
        inline = "".join(e.attrs.get("style", "") for e in node.iter()).lower().replace(" ", "")
        # mermaid 11 styles each node inline; mermaid 10 through a rule per class
        assert fill in inline or fill in class_rules.get(kind, ""), (node_id, inline)
        text = " ".join(node.text().replace(WORD_JOINER, "").split())
        expected = " ".join(" ".join(diagram.lines(node_id)).split())
        assert text.replace(" ", "") == expected.replace(" ", ""), (node_id, text, expected)


def check_left_to_right(rendered: Rendered, diagram: Diagram) -> None:
    """In an LR flowchart every edge points right."""
    x = {source_id(n): translate(n)[0] for n in rendered.nodes()}
    for a, b in diagram.edges:
        assert x[a] < x[b], (a, b)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# ------------------------------------------------------------------------ the tests
def test_readme_expression(browser, readme_graph, screenshot_dir):
    rendered, diagram = save_graph_page(browser, "readme.html", readme_graph)
    tensors, links = graph_of(readme_graph)
    assert (len(diagram.nodes), len(diagram.edges)) == (len(tensors), links) == (10, 9)
    check_drawing(rendered, diagram)
    check_left_to_right(rendered, diagram)
    png = browser.screenshot("readme.html", screenshot_dir / "readme_graph.png")
    assert png_size(png) == (1600, 900)


def test_mlp_loss(browser, mlp: Model, screenshot_dir):
    rendered, diagram = save_graph_page(browser, "mlp.html", mlp.out, params=mlp.params)
    tensors, links = graph_of(mlp.out)
    assert (len(diagram.nodes), len(diagram.edges)) == (len(tensors), links)
    check_drawing(rendered, diagram)
    check_left_to_right(rendered, diagram)
    by_title = {t: n for n, t in diagram.titles().items()}
    assert diagram.classes[by_title["0.weight"]] == "acLeaf"
    browser.screenshot("mlp.html", screenshot_dir / "mlp_loss_graph.png")


def test_jupyter_output_of_draw_graph_renders_with_mermaid_python_mermaid(
    browser, readme_graph, mlp: Model
):
    rendered, diagram = jupyter_page(browser, "jupyter_readme.html", readme_graph)
    check_drawing(rendered, diagram, status=None)
    rendered, diagram = jupyter_page(browser, "jupyter_mlp.html", mlp.out, params=mlp.params)
    check_drawing(rendered, diagram, status=None)


HOSTILE = [
    'say "hi" it\'s',
    "<script>alert(1)</script>",
    "a & b &amp; #quot; #35;",
    "[x] {y} (z) |w| -->",
    "back\\slash %% c: d;",
    "`md` **bold** $$x^2$$",
    "λ → ∑ ﬂ°°60¶ß",
    "fa:fa-car a\\nb",
]


@pytest.mark.parametrize("page", ["mermaid11", "jupyter"])
def test_hostile_labels_render_verbatim(browser, page):
    leaves = [labelled(ac.randn(2, req_grad=True), text) for text in HOSTILE]
    y = leaves[0]
    for leaf in leaves[1:]:
        y = y + leaf
    if page == "mermaid11":
        rendered, diagram = save_graph_page(browser, "hostile.html", y)
        check_drawing(rendered, diagram)
    else:
        rendered, diagram = jupyter_page(browser, "hostile_jupyter.html", y)
        check_drawing(rendered, diagram, status=None)
    titles = set()
    for node in rendered.nodes():
        bold = next(e for e in node.iter() if e.tag == "b")
        titles.add(bold.text().replace(WORD_JOINER, ""))
    assert set(HOSTILE) <= titles
    assert not [e for e in rendered.svg.iter() if e.tag == "script"]


@pytest.mark.parametrize("page", ["mermaid11", "jupyter"])
def test_after_backward_with_gradient_shapes(browser, mlp: Model, page):
    mlp.out.backward()
    options = {"params": mlp.params, "show_grads": True}
    if page == "mermaid11":
        rendered, diagram = save_graph_page(browser, "backward.html", mlp.out, **options)
        check_drawing(rendered, diagram)
    else:
        rendered, diagram = jupyter_page(browser, "backward_jupyter.html", mlp.out, **options)
        check_drawing(rendered, diagram, status=None)
    assert "backward()" in diagram.title
    assert "drawn after backward()" in rendered.svg.text()
    assert any("grad (4, 8)" in " ".join(n.text().split()) for n in rendered.nodes())


def test_two_block_transformer_in_full(browser, transformer: Model):
    rendered, diagram = save_graph_page(
        browser, "transformer.html", transformer.out, params=transformer.params
    )
    tensors, links = graph_of(transformer.out)
    assert (len(diagram.nodes), len(diagram.edges)) == (len(tensors), links)
    check_drawing(rendered, diagram)


@pytest.mark.parametrize("depth", [None, 2])
def test_two_block_transformer_grouped(browser, transformer: Model, depth, screenshot_dir):
    name = f"transformer_groups_{depth}.html"
    rendered, diagram = save_graph_page(
        browser,
        name,
        transformer.out,
        params=transformer.params,
        group_by="module",
        group_depth=depth,
    )
    check_drawing(rendered, diagram)
    if depth == 2:
        browser.screenshot(name, screenshot_dir / "transformer_modules.png")


def test_two_block_transformer_boxed_by_module(browser, transformer: Model):
    rendered, diagram = save_graph_page(
        browser,
        "transformer_boxes.html",
        transformer.out,
        params=transformer.params,
        group_by="module",
        group_depth=2,
        collapse=False,
    )
    check_drawing(rendered, diagram)
    assert len(rendered.clusters()) == len(diagram.subgraphs) == 6


def test_page_raises_mermaids_limits_for_large_graphs(browser):
    ac.manual_seed(0)
    model = transformer_loss(blocks=7)
    rendered, diagram = save_graph_page(
        browser, "large.html", model.out, params=model.params, max_edges=None, max_text_size=None
    )
    assert len(diagram.edges) > 500
    check_drawing(rendered, diagram)
