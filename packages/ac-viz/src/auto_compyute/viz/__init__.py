"""Drawing compute graphs as mermaid flowcharts (``ac.viz.draw_graph(y)``).

One rounded box per tensor of the graph: the op name in bold (or the tensor's label,
or the parameter's name), the op's arguments, then shape and dtype. Leaves that
require grad are green, constants blue, op results grey; edges go from inputs to
outputs. The graph is read through the public attributes of ``Tensor`` and ``Op``
only, before or after ``backward()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auto_compyute import Tensor
from auto_compyute.viz._graph import Graph, assign_groups
from auto_compyute.viz._html import MERMAID_JS, html_page
from auto_compyute.viz._source import GraphTooLargeError, build_source, check_size

if TYPE_CHECKING:
    from mermaid import Mermaid  # type: ignore[import-untyped]

ORIENTATIONS = ("LR", "TD", "TB", "RL", "BT")
MAX_EDGES = 500  # mermaid's default maxEdges
MAX_TEXT_SIZE = 50_000  # mermaid's default maxTextSize (characters)


def to_mermaid(
    y: Tensor | Sequence[Tensor],
    orientation: str = "LR",
    *,
    params: Mapping[str, Tensor] | None = None,
    show_grads: bool = False,
    show_args: bool = True,
    group_by: str | None = None,
    group_depth: int | None = None,
    collapse: bool = True,
    max_edges: int | None = MAX_EDGES,
    max_text_size: int | None = MAX_TEXT_SIZE,
) -> str:
    """The mermaid flowchart source of the compute graph of ``y``.

    Args:
        y: The tensor whose graph is drawn (or several tensors, drawn in one diagram).
        orientation: ``"LR"`` (left to right) or ``"TD"`` (top down); ``"RL"``, ``"BT"``
            and ``"TB"`` work too.
        params: Parameter names, e.g. ``dict(model.named_parameters())``; a named leaf
            shows its name (``0.weight``) as its title.
        show_grads: Add the shape of ``.grad`` to the leaves that require grad (``grad
            None`` before ``backward()``). Only leaves keep gradients.
        show_args: Show the op's keyword arguments (``dim=(1,), keepdim=True``).
        group_by: ``"module"`` groups tensors by the module of the parameters they use
            (needs ``params``): parameters by their name, ops by the parameters they
            consume or, failing that, by the module that uses their result; results used
            by several modules (residual additions) and the loss stay on their own.
        group_depth: Keep only the first ``group_depth`` parts of a module name, e.g.
            ``2`` groups ``blocks.0.attn.q.weight`` under ``blocks.0``. None: the full
            module path (``blocks.0.attn.q``).
        collapse: With ``group_by``, draw each module as one node (small diagrams of
            large graphs); if False, draw every tensor and box each module's tensors.
        max_edges: Raise ``GraphTooLargeError`` above this many edges (mermaid's default
            limit is 500); None: no check.
        max_text_size: Raise ``GraphTooLargeError`` above this many characters
            (mermaid's default limit is 50000); None: no check.

    Returns:
        The diagram source, starting with ``flowchart LR``. When a ``backward()`` has
        already freed the ops' buffers, the diagram gets a title saying so; the graph
        structure, shapes and the leaves' gradients are all still there to draw.

    Raises:
        GraphTooLargeError: The diagram is over ``max_edges`` or ``max_text_size``; the
            message says how to group or cut it.
    """
    roots = _roots(y)
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    param_names = _param_names(params)
    graph = Graph(roots)
    groups, folded = None, None
    if group_by is not None:
        if group_by != "module":
            raise ValueError(f'group_by must be None or "module", got {group_by!r}')
        if not param_names:
            raise ValueError(
                'group_by="module" needs the parameter names: pass '
                "params=dict(model.named_parameters())"
            )
        if group_depth is not None and group_depth < 1:
            raise ValueError(f"group_depth must be a positive integer or None, got {group_depth}")
        groups, folded = assign_groups(graph, param_names, group_depth)
    source, nodes, edges = build_source(
        graph, orientation, param_names, groups, folded, collapse, show_args, show_grads
    )
    check_size(source, nodes, edges, max_edges, max_text_size, grouped=groups is not None)
    return source


def draw_graph(
    y: Tensor | Sequence[Tensor],
    orientation: str = "LR",
    save_to_file: bool = False,
    *,
    params: Mapping[str, Tensor] | None = None,
    show_grads: bool = False,
    show_args: bool = True,
    group_by: str | None = None,
    group_depth: int | None = None,
    collapse: bool = True,
    max_edges: int | None = MAX_EDGES,
    max_text_size: int | None = MAX_TEXT_SIZE,
) -> Mermaid:
    """Draw the compute graph of ``y``; the result renders inline in Jupyter.

    Example:
        >>> x1 = ac.randn(2, 3, req_grad=True)
        >>> y = x1**2 + 4
        >>> ac.viz.draw_graph(y)  # shows the graph in a notebook

    Args:
        y: The tensor whose graph is drawn.
        orientation: ``"LR"`` (left to right) or ``"TD"`` (top down).
        save_to_file: Also write the page to ``compute_graph.html`` (kept from the
            original API; ``save_graph`` chooses the path).
        params, show_grads, show_args, group_by, group_depth, collapse, max_edges,
            max_text_size: As in ``to_mermaid``.

    Returns:
        A ``mermaid.Mermaid`` object (from mermaid-python), which Jupyter renders with
        mermaid.js from a CDN.

    Raises:
        ImportError: mermaid-python is not installed.
        GraphTooLargeError: The diagram is too large for mermaid; see ``to_mermaid``.
    """
    try:
        import mermaid
    except ImportError as error:
        raise ImportError(
            "ac.viz.draw_graph needs the mermaid-python package; install it with "
            "`pip install mermaid-python` (installing ac-viz installs it too)"
        ) from error
    options: dict[str, Any] = dict(
        params=params,
        show_grads=show_grads,
        show_args=show_args,
        group_by=group_by,
        group_depth=group_depth,
        collapse=collapse,
        max_edges=max_edges,
        max_text_size=max_text_size,
    )
    source = to_mermaid(y, orientation, **options)
    if save_to_file:
        save_graph(y, "compute_graph.html", orientation, **options)
    return mermaid.Mermaid(source)


def save_graph(
    y: Tensor | Sequence[Tensor],
    path: str | Path,
    orientation: str = "LR",
    *,
    mermaid_js: str = MERMAID_JS,
    title: str = "Compute graph",
    params: Mapping[str, Tensor] | None = None,
    show_grads: bool = False,
    show_args: bool = True,
    group_by: str | None = None,
    group_depth: int | None = None,
    collapse: bool = True,
    max_edges: int | None = MAX_EDGES,
    max_text_size: int | None = MAX_TEXT_SIZE,
) -> Path:
    """Write the graph of ``y`` as a standalone HTML page (``.html``) or as source (``.mmd``).

    The page loads mermaid.js (by default mermaid 11 from a CDN) when opened in a
    browser, renders the diagram and shows mermaid's error message if it cannot. It
    initializes mermaid with ``max_edges`` and ``max_text_size`` when these are raised
    above mermaid's defaults, so large graphs can be drawn in full.

    Args:
        y: The tensor whose graph is drawn.
        path: Where to write; the suffix chooses the format: ``.html``/``.htm`` or
            ``.mmd``/``.mermaid``.
        orientation: ``"LR"`` (left to right) or ``"TD"`` (top down).
        mermaid_js: The URL of mermaid's ES module (a local copy works too).
        title: The page title.
        params, show_grads, show_args, group_by, group_depth, collapse, max_edges,
            max_text_size: As in ``to_mermaid``.

    Returns:
        The path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".mmd", ".mermaid"):
        raise ValueError(
            f"save_graph writes .html (a page) or .mmd (the source), got {path.name!r}"
        )
    source = to_mermaid(
        y,
        orientation,
        params=params,
        show_grads=show_grads,
        show_args=show_args,
        group_by=group_by,
        group_depth=group_depth,
        collapse=collapse,
        max_edges=max_edges,
        max_text_size=max_text_size,
    )
    if suffix in (".mmd", ".mermaid"):
        path.write_text(source, encoding="utf-8")
    else:
        page = html_page(source, mermaid_js, title, max_edges, max_text_size)
        path.write_text(page, encoding="utf-8")
    return path


def _roots(y: Any) -> list[Tensor]:
    roots = [y] if isinstance(y, Tensor) else list(y) if isinstance(y, Sequence) else None
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError(
            f"expected a Tensor or a non-empty sequence of Tensors, got {type(y).__name__}"
        )
    return roots


def _param_names(params: Mapping[str, Tensor] | None) -> dict[int, str]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise TypeError(
            "params must map names to tensors, e.g. dict(model.named_parameters()), "
            f"got {type(params).__name__}"
        )
    names = {}
    for name, tensor in params.items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"params[{name!r}] is a {type(tensor).__name__}, not a Tensor")
        names[id(tensor)] = str(name)
    return names


__all__ = ["GraphTooLargeError", "draw_graph", "save_graph", "to_mermaid"]
