"""The generated mermaid source: one node per tensor, one edge per parent link, safe labels."""

from __future__ import annotations

import sys

import mermaid
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from viz_models import Model, labelled
from viz_source_parser import WORD_JOINER, decode, graph_of, parse, strip_entities

import auto_compyute as ac
from auto_compyute.viz._source import COLORS, escape, format_value


def test_readme_expression_has_one_node_per_tensor_and_one_edge_per_link(readme_graph):
    tensors, links = graph_of(readme_graph)
    diagram = parse(ac.viz.to_mermaid(readme_graph))
    assert diagram.header == "flowchart LR"
    assert len(diagram.nodes) == len(tensors) == 10
    assert len(diagram.edges) == links == 9
    assert set(diagram.classes) == set(diagram.nodes)
    kinds = sorted(diagram.classes.values())
    assert kinds == sorted(["acLeaf"] * 3 + ["acConst"] * 2 + ["acOp"] * 5)


def test_edges_go_from_inputs_to_outputs():
    x1 = labelled(ac.randn(2, 3, req_grad=True), "x1")
    x2 = labelled(ac.randn(2, 3, req_grad=True), "x2")
    y = x1 * x2
    y.label = "y"
    z = y.exp()
    diagram = parse(ac.viz.to_mermaid(z))
    titles = diagram.titles()
    named = {(titles[a], titles[b]) for a, b in diagram.edges}
    assert named == {("x1", "y"), ("x2", "y"), ("y", "Exp")}


def test_label_shows_op_name_arguments_shape_and_dtype():
    x = ac.randn(4, 6, dtype=ac.float64, req_grad=True)
    y = x.sum(dim=1, keepdim=True)
    diagram = parse(ac.viz.to_mermaid(y))
    labels = {diagram.classes[n]: label for n, label in diagram.nodes.items()}
    assert labels["acOp"] == "<b>Sum</b><br>dim=(1,), keepdim=True<br>(4, 1) float64"
    assert labels["acLeaf"] == "<b>Tensor</b><br>(4, 6) float64"


def test_op_arguments_can_be_left_out():
    y = ac.randn(4, 6, req_grad=True).sum(dim=1)
    y.label = "total"
    diagram = parse(ac.viz.to_mermaid(y, show_args=False))
    assert diagram.lines("n1") == ["total", "Sum", "(4,) float32"]
    assert parse(ac.viz.to_mermaid(y.exp(), show_args=False)).lines("n2") == ["Exp", "(4,) float32"]


def test_labelled_op_result_keeps_the_op_name_and_scalar_constants_show_their_value():
    x = ac.randn(3, req_grad=True)
    y = x * 0.5
    y.label = "half"
    diagram = parse(ac.viz.to_mermaid(y))
    by_class = {diagram.classes[n]: diagram.lines(n) for n in diagram.nodes}
    assert by_class["acOp"] == ["half", "Mul", "(3,) float32"]
    assert by_class["acConst"] == ["0.5", "() float32"]


def test_op_arguments_are_formatted_compactly():
    x = ac.randn(4, 5, req_grad=True)
    y = x[1:3, [0, 2, 4]]
    label = parse(ac.viz.to_mermaid(y)).lines("n1")
    assert label[:2] == ["Index", "key=(1:3, int64[3])"]
    assert (
        format_value((slice(None), Ellipsis, None, slice(None, None, 2))) == "(:, ..., None, ::2)"
    )
    assert format_value(np.dtype("float16")) == "float16"
    assert format_value(np.float32) == "float32"
    assert format_value(1e-5) == "1e-05"
    assert format_value("ab" * 40, limit=10) == "abababa..."


def test_an_input_used_twice_gives_two_edges():
    x = ac.randn(3, req_grad=True)
    diagram = parse(ac.viz.to_mermaid(x * x))
    assert len(diagram.nodes) == 2
    assert diagram.edges == [("n0", "n1"), ("n0", "n1")]


def test_several_roots_share_one_diagram():
    x = ac.randn(3, req_grad=True)
    a, b = x.exp(), x.sin()
    diagram = parse(ac.viz.to_mermaid([a, b]))
    assert sorted(diagram.titles().values()) == ["Exp", "Sin", "Tensor"]
    assert len(diagram.edges) == 2


def test_a_tensor_without_history_is_a_single_node():
    with ac.no_grad():
        y = ac.randn(2, req_grad=True) * 2
    diagram = parse(ac.viz.to_mermaid(y))
    assert len(diagram.nodes) == 1
    assert diagram.edges == []
    assert list(diagram.classes.values()) == ["acConst"]


def test_colours_follow_the_seed():
    source = ac.viz.to_mermaid(ac.randn(2, req_grad=True).exp())
    assert "classDef acLeaf fill:#C6EFCE,stroke:#4EA72E" in source
    assert "classDef acConst fill:#CAEDFB,stroke:#4D93D9" in source
    assert "classDef acOp fill:#F2F2F2,stroke:#808080" in source
    assert set(COLORS) == {"acLeaf", "acConst", "acOp", "acGroup"}


def test_orientation():
    y = ac.randn(2, req_grad=True).exp()
    assert ac.viz.to_mermaid(y, "TD").startswith("flowchart TD\n")
    with pytest.raises(ValueError, match="orientation must be one of"):
        ac.viz.to_mermaid(y, "diagonal")


def test_bad_arguments_raise_typed_errors():
    y = ac.randn(2, req_grad=True).exp()
    with pytest.raises(TypeError, match="expected a Tensor"):
        ac.viz.to_mermaid(np.ones(2))
    with pytest.raises(TypeError, match="params must map names to tensors"):
        ac.viz.to_mermaid(y, params=[y])
    with pytest.raises(TypeError, match=r"params\['w'\] is a ndarray"):
        ac.viz.to_mermaid(y, params={"w": np.ones(2)})


# ------------------------------------------------------------------------ escaping
HOSTILE = [
    'say "hi"',
    "it's",
    "<script>alert(1)</script>",
    "a & b &amp; c",
    "#quot; #35; # ;",
    "[x] {y} (z) |w|",
    "back\\slash \\n",
    "`md` **bold** $$x^2$$",
    "%% comment",
    "style a fill:#f00;",
    "classDef x fill:#f00;",
    "line\nbreak\ttab",
    "ﬂ°°60¶ß",
    "-->",
    "λ → ∑",
    "fa:fa-car fab:fa-x",
    "$$$",
]


def test_sequences_mermaid_would_interpret_are_broken_up():
    for text, shown in [("$$x", "#36;#8288;#36;x"), ("fa:fa-car", "fa#58;#8288;fa-car")]:
        assert escape(text) == shown
    assert escape("a\\nb") == "a#92;#8288;nb"


@pytest.mark.parametrize("label", HOSTILE)
def test_any_tensor_label_is_escaped_and_decodes_back(label):
    x = labelled(ac.randn(2, req_grad=True), label)
    source = ac.viz.to_mermaid(x.exp())
    diagram = parse(source)  # one node per line, nothing else injected
    assert len(diagram.nodes) == 2
    assert diagram.titles()["n0"] == label
    raw = diagram.nodes["n0"].split("</b>")[0].removeprefix("<b>")
    assert not set(strip_entities(raw)) & set("\"'<>&\\#`$%:;\n\t|{}")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40).filter(lambda t: WORD_JOINER not in t))
def test_escape_round_trips_any_text(text):
    escaped = escape(text)
    assert decode(escaped) == text
    assert all(c.isascii() for c in escaped)
    assert not set(strip_entities(escaped)) & set("\"'<>&\\#;:`$%\n\r")


def test_parameter_names_are_escaped_too():
    w = ac.randn(2, req_grad=True)
    diagram = parse(ac.viz.to_mermaid(w.exp(), params={'m["a"]<b>.weight': w}))
    assert diagram.titles()["n0"] == 'm["a"]<b>.weight'


def test_long_labels_are_shortened():
    x = labelled(ac.randn(2, req_grad=True), "a" * 100)
    title = parse(ac.viz.to_mermaid(x.exp())).titles()["n0"]
    assert title == "a" * 37 + "..."


def test_source_survives_mermaid_python_processing():
    x = labelled(ac.randn(2, req_grad=True), 'it\'s a \\ "test"')
    diagram = ac.viz.draw_graph(x.exp())
    assert isinstance(diagram, mermaid.Mermaid)
    processed = diagram._diagram
    # mermaid-python turns ' into " and newlines into \n inside a JavaScript string literal.
    assert processed == ac.viz.to_mermaid(x.exp()).replace("\n", "\\n")
    assert "\\" not in processed.replace("\\n", "")
    assert "'" not in processed


# --------------------------------------------------------------------- names, grads
def test_parameter_names_label_leaves(mlp: Model):
    diagram = parse(ac.viz.to_mermaid(mlp.out, params=mlp.params))
    titles = diagram.titles()
    by_title = {t: n for n, t in titles.items()}
    for name in mlp.params:
        assert diagram.classes[by_title[name]] == "acLeaf"
    assert diagram.lines(by_title["0.weight"]) == ["0.weight", "(4, 8) float32"]
    assert diagram.classes[by_title["x"]] == "acConst"
    tensors, links = graph_of(mlp.out)
    assert (len(diagram.nodes), len(diagram.edges)) == (len(tensors), links)


def test_gradient_shapes_before_and_after_backward(mlp: Model):
    before = parse(ac.viz.to_mermaid(mlp.out, params=mlp.params, show_grads=True))
    assert before.title is None
    by_title = {t: n for n, t in before.titles().items()}
    assert before.lines(by_title["2.weight"])[-1] == "grad None"
    mlp.out.backward()
    after = parse(ac.viz.to_mermaid(mlp.out, params=mlp.params, show_grads=True))
    assert after.lines(by_title["2.weight"])[-1] == "grad (8, 3)"
    assert after.lines(by_title["0.bias"])[-1] == "grad (8,)"
    assert not any("grad" in line for line in after.lines(by_title["x"]))
    assert "backward()" in after.title
    assert len(after.nodes) == len(before.nodes)
    assert after.edges == before.edges


def test_drawing_before_backward_leaves_backward_working(mlp: Model):
    ac.viz.to_mermaid(mlp.out, params=mlp.params)
    mlp.out.backward()
    assert mlp.params["0.weight"].grad.shape == (4, 8)


def test_deep_graphs_are_walked_without_recursion():
    x = ac.randn(1, req_grad=True)
    y = x
    for _ in range(100_000):
        y = -y
    diagram = parse(ac.viz.to_mermaid(y, max_edges=None, max_text_size=None))
    assert len(diagram.nodes) == 100_001
    assert len(diagram.edges) == 100_000


# ---------------------------------------------------------------- draw_graph / save
def test_draw_graph_returns_a_mermaid_object(readme_graph):
    diagram = ac.viz.draw_graph(readme_graph, "TD")
    assert isinstance(diagram, mermaid.Mermaid)
    assert "flowchart TD" in diagram._repr_html_()


def test_missing_mermaid_python_names_the_package_to_install(monkeypatch, readme_graph):
    monkeypatch.setitem(sys.modules, "mermaid", None)
    with pytest.raises(ImportError, match="pip install mermaid-python"):
        ac.viz.draw_graph(readme_graph)


def test_save_graph_writes_source_or_page(tmp_path, readme_graph):
    source = ac.viz.to_mermaid(readme_graph)
    mmd = ac.viz.save_graph(readme_graph, tmp_path / "graph.mmd")
    assert mmd.read_text(encoding="utf-8") == source
    page = ac.viz.save_graph(readme_graph, tmp_path / "graph.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "mermaid@11" in page
    assert page.count("</script>") == 1
    with pytest.raises(ValueError, match=r"\.html \(a page\) or \.mmd"):
        ac.viz.save_graph(readme_graph, tmp_path / "graph.png")


def test_save_graph_page_cannot_be_broken_by_labels(tmp_path):
    x = labelled(ac.randn(2, req_grad=True), "</script><script>alert(1)</script>")
    page = ac.viz.save_graph(x.exp(), tmp_path / "g.html", title="</title>x").read_text()
    assert page.count("</script>") == 1
    assert "<title>&lt;/title&gt;x</title>" in page


def test_seed_save_to_file_writes_compute_graph_html(tmp_path, monkeypatch, readme_graph):
    monkeypatch.chdir(tmp_path)
    diagram = ac.viz.draw_graph(readme_graph, save_to_file=True)
    assert isinstance(diagram, mermaid.Mermaid)
    assert (tmp_path / "compute_graph.html").read_text().startswith("<!DOCTYPE html>")
