"""Large graphs: mermaid's size limits, and grouping tensors by module."""

from __future__ import annotations

import pytest
from viz_models import Model, transformer_loss
from viz_source_parser import graph_of, parse

import auto_compyute as ac
from auto_compyute.viz._graph import Graph, assign_groups, module_of


@pytest.fixture
def big_transformer() -> Model:
    ac.manual_seed(0)
    return transformer_loss(blocks=8)


def op_groups(model: Model, depth: int | None) -> list[tuple[str, str | None]]:
    """(op name, group) of every op result of the model's graph, in topological order."""
    graph = Graph([model.out])
    names = {id(t): n for n, t in model.params.items()}
    groups, _ = assign_groups(graph, names, depth)
    return [
        (t.ctx.name, g) for t, g in zip(graph.tensors, groups, strict=True) if t.ctx is not None
    ]


def test_two_block_transformer_fits_mermaids_default_limits_ungrouped(transformer: Model):
    tensors, links = graph_of(transformer.out)
    diagram = parse(ac.viz.to_mermaid(transformer.out, params=transformer.params))
    assert (len(diagram.nodes), len(diagram.edges)) == (len(tensors), links)
    assert len(diagram.edges) <= 500


def test_too_large_graph_raises_an_error_that_says_what_to_do(big_transformer: Model):
    with pytest.raises(ac.viz.GraphTooLargeError, match='group_by="module"') as error:
        ac.viz.to_mermaid(big_transformer.out, params=big_transformer.params)
    assert "max_edges=500" in str(error.value)
    assert isinstance(error.value, ValueError)
    with pytest.raises(ac.viz.GraphTooLargeError, match="max_text_size=1000"):
        ac.viz.to_mermaid(big_transformer.out, max_edges=None, max_text_size=1000)


def test_a_grouped_graph_that_is_still_too_large_asks_for_coarser_groups(big_transformer: Model):
    with pytest.raises(ac.viz.GraphTooLargeError, match="smaller group_depth"):
        ac.viz.to_mermaid(
            big_transformer.out, params=big_transformer.params, group_by="module", max_edges=50
        )


def test_grouping_by_module_makes_a_large_graph_drawable(big_transformer: Model):
    source = ac.viz.to_mermaid(
        big_transformer.out, params=big_transformer.params, group_by="module", group_depth=2
    )
    diagram = parse(source)
    titles = sorted(diagram.titles()[n] for n, kind in diagram.classes.items() if kind == "acGroup")
    assert titles == sorted(
        ["tok_emb", "pos_emb", "ln_f", "head", *(f"blocks.{i}" for i in range(8))]
    )
    assert len(diagram.edges) < 100
    assert len(source) < 10_000


def test_module_names_and_depth():
    assert module_of("blocks.0.attn.q.weight", None) == "blocks.0.attn.q"
    assert module_of("blocks.0.attn.q.weight", 2) == "blocks.0"
    assert module_of("weight", None) == ""


def test_ops_join_the_module_that_owns_their_parameters(transformer: Model):
    groups = op_groups(transformer, depth=None)
    by_op: dict[str, list[str | None]] = {}
    for name, group in groups:
        by_op.setdefault(name, []).append(group)
    # LayerNorm: mean and var join the module of its weight (two per block, then ln_f).
    expected_ln = [f"blocks.{i}.{ln}" for i in range(2) for ln in ("ln1", "ln2")] + ["ln_f"]
    assert by_op["Var"] == expected_ln
    # Attention scores and softmax join the attention module, the ReLU its MLP.
    assert by_op["Softmax"] == ["blocks.0.attn", "blocks.1.attn"]
    assert by_op["ReLU"] == ["blocks.0.mlp", "blocks.1.mlp"]
    assert by_op["Where"] == ["blocks.0.attn", "blocks.1.attn"]
    # Linear layers: matmul and bias addition in the layer's module.
    matmul_groups = [g for n, g in groups if n == "Matmul"]
    assert "blocks.0.attn.q" in matmul_groups and "head" in matmul_groups
    # The loss and the embedding sum stay on their own.
    assert by_op["LogSoftmax"] == [None]
    assert by_op["Neg"] == [None]


def test_residual_additions_stay_visible_between_modules(transformer: Model):
    diagram = parse(
        ac.viz.to_mermaid(
            transformer.out, params=transformer.params, group_by="module", group_depth=2
        )
    )
    visible_ops = sorted(
        diagram.titles()[n] for n, kind in diagram.classes.items() if kind == "acOp"
    )
    # the embedding sum, three residual additions (the last one feeds only ln_f), the loss
    assert visible_ops == sorted(["Add"] * 4 + ["LogSoftmax", "Reshape", "Index", "Mean", "Neg"])
    titles = diagram.titles()
    named = {(titles[a], titles[b]) for a, b in diagram.edges}
    assert ("tok_emb", "Add") in named and ("pos_emb", "Add") in named
    assert ("blocks.0", "Add") in named and ("Add", "blocks.0") in named
    assert ("ln_f", "head") in named and ("head", "LogSoftmax") in named
    # shared scalar constants (the LayerNorm epsilon, the attention scale) are folded in
    assert not [n for n, kind in diagram.classes.items() if kind == "acConst"]


def test_collapsed_groups_say_what_they_hold(transformer: Model):
    diagram = parse(
        ac.viz.to_mermaid(
            transformer.out, params=transformer.params, group_by="module", group_depth=2
        )
    )
    by_title = {t: n for n, t in diagram.titles().items()}
    assert diagram.lines(by_title["blocks.0"]) == [
        "blocks.0",
        "43 ops, 16 params",
        "2 outputs (2, 5, 8) float32",
    ]
    assert diagram.lines(by_title["head"]) == ["head", "1 op, 1 param", "(2, 5, 11) float32"]


def test_collapsed_edges_join_distinct_nodes_once(transformer: Model):
    diagram = parse(
        ac.viz.to_mermaid(transformer.out, params=transformer.params, group_by="module")
    )
    assert len(set(diagram.edges)) == len(diagram.edges)
    assert all(a != b for a, b in diagram.edges)
    referenced = {n for edge in diagram.edges for n in edge}
    assert referenced == set(diagram.nodes)


def test_subgraph_boxes_keep_every_tensor(transformer: Model):
    source = ac.viz.to_mermaid(
        transformer.out,
        params=transformer.params,
        group_by="module",
        group_depth=2,
        collapse=False,
    )
    diagram = parse(source)
    tensors, links = graph_of(transformer.out)
    assert (len(diagram.nodes), len(diagram.edges)) == (len(tensors), links)
    assert [s.split('"')[1] for s in diagram.subgraphs] == [
        "tok_emb",
        "pos_emb",
        "blocks.0",
        "blocks.1",
        "ln_f",
        "head",
    ]


def test_grouping_needs_parameter_names(transformer: Model):
    with pytest.raises(ValueError, match=r"params=dict\(model.named_parameters\(\)\)"):
        ac.viz.to_mermaid(transformer.out, group_by="module")
    with pytest.raises(ValueError, match='group_by must be None or "module"'):
        ac.viz.to_mermaid(transformer.out, params=transformer.params, group_by="layer")
    with pytest.raises(ValueError, match="group_depth must be a positive integer"):
        ac.viz.to_mermaid(
            transformer.out, params=transformer.params, group_by="module", group_depth=0
        )


def test_labelled_inputs_stay_visible_in_groups():
    ac.manual_seed(0)
    w = ac.randn(3, 2, req_grad=True)
    x = ac.randn(4, 3)
    x.label = "x"
    y = (x @ w).relu()
    diagram = parse(ac.viz.to_mermaid(y, params={"fc.weight": w}, group_by="module"))
    assert sorted(diagram.titles().values()) == ["ReLU", "fc", "x"]
