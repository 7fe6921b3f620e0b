"""Mermaid flowchart source for a compute graph: labels, escaping, colours, groups."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from auto_compyute.viz._graph import Graph

if TYPE_CHECKING:
    from auto_compyute import Tensor

# Fill and stroke of each kind of node: leaves that require grad green, constants blue,
# op results grey (the seed's colours), collapsed modules amber.
COLORS = {
    "acLeaf": ("#C6EFCE", "#4EA72E"),
    "acConst": ("#CAEDFB", "#4D93D9"),
    "acOp": ("#F2F2F2", "#808080"),
    "acGroup": ("#FFF2CC", "#BF9000"),
}
FREED_TITLE = "drawn after backward() - the op buffers are freed"

# NOTE: any other character is written as a numeric entity ("#60;" for "<"), which mermaid
# turns into an HTML character reference. So no quote, HTML, "#", ";" or ":" (which
# mermaid's own pre-processing reacts to), backslash or apostrophe (which would break
# mermaid-python's JavaScript string literal) ever appears raw in a label.
_SAFE = frozenset(string.ascii_letters + string.digits + " .,=+-*/()[]_")
_ALL_SAFE = re.compile(r"[A-Za-z0-9 .,=+\-*/()\[\]_]*")


class GraphTooLargeError(ValueError):
    """The diagram exceeds what mermaid renders with the given limits."""


# Character sequences that mermaid turns into something else even after its entities
# are decoded: KaTeX math ($$...$$), Font Awesome icons (fa:fa-car), "\n" line breaks and
# the placeholders of its entity decoding. A WORD JOINER (invisible) breaks them up.
_DEFUSE = re.compile(
    r"(?<=\$)(?=\$)|(?<=fa:)(?=fa-)|(?<=fa[bklrs]:)(?=fa-)|(?<=\\)(?=n)|(?<=ﬂ)(?=°)|(?<=¶)(?=ß)"
)
WORD_JOINER = "\u2060"


@functools.lru_cache(maxsize=4096)
def escape(text: str) -> str:
    """Make ``text`` safe inside a quoted mermaid label: unusual characters become ``#<code>;``.

    Mermaid shows the label as ``text`` (with invisible word joiners inside ``$$``,
    ``fa:fa-``, backslash-n and its own placeholder characters, which it would interpret).
    """
    if _ALL_SAFE.fullmatch(text):
        return text
    text = _DEFUSE.sub(WORD_JOINER, text)
    return "".join(c if c in _SAFE else f"#{ord(c)};" for c in text)


def _dtype_name(dtype: Any) -> str:
    """``float32`` for a NumPy or CuPy dtype."""
    return str(getattr(dtype, "name", dtype))


def format_value(value: Any, limit: int = 40) -> str:
    """A short, readable form of an op argument (tuples, slices, arrays, dtypes, ...)."""
    text = _format(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format(value: Any) -> str:
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        parts = ["" if p is None else _format(p) for p in (value.start, value.stop, value.step)]
        return ":".join(parts if value.step is not None else parts[:2])
    if isinstance(value, tuple):
        inner = ", ".join(_format(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    if isinstance(value, type):
        return value.__name__
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:  # an array or a tensor
        if len(shape) == 0 and hasattr(value, "item"):
            return _format(value.item())
        return f"{_dtype_name(dtype)}[{', '.join(map(str, shape))}]"
    return str(value)


def _shape_line(shape: tuple[int, ...], dtype: Any, device: Any = None) -> str:
    line = f"{tuple(shape)} {_dtype_name(dtype)}"
    if device is not None and str(device) != "cpu":
        line += f" {device}"
    return line


def tensor_kind(tensor: Tensor) -> str:
    """``acOp`` for op results, ``acLeaf`` for leaves that require grad, else ``acConst``."""
    if tensor.ctx is not None:
        return "acOp"
    return "acLeaf" if tensor.req_grad else "acConst"


def tensor_label(
    tensor: Tensor,
    name: str | None = None,
    show_args: bool = True,
    show_grads: bool = False,
    limit: int = 40,
) -> str:
    """The escaped label of one tensor: a bold title, the op's arguments, shape and dtype.

    The title is ``name`` (a parameter name), else the tensor's ``label``, else the op's
    name; an unnamed leaf shows its value when it has one element, else ``Tensor``.
    """
    op = tensor.ctx
    title = name or tensor.label
    lines = []
    if op is not None:
        args = ", ".join(f"{k}={format_value(v, limit)}" for k, v in op.kwargs.items())
        args = format_value(args, limit) if show_args else ""
        if title is None:
            title = op.name
        else:
            args = f"{op.name}({args})" if args else op.name
        if args:
            lines.append(args)
    elif title is None:
        title = format_value(tensor.item(), limit) if _size(tensor.shape) == 1 else "Tensor"
    lines.append(_shape_line(tensor.shape, tensor.dtype, getattr(tensor, "device", None)))
    if show_grads and op is None and tensor.req_grad:
        grad = tensor.grad
        lines.append("grad None" if grad is None else f"grad {tuple(grad.shape)}")
    title = format_value(title, limit)
    return f"<b>{escape(title)}</b><br>" + "<br>".join(escape(line) for line in lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def build_source(
    graph: Graph,
    orientation: str,
    param_names: Mapping[int, str],
    groups: list[str | None] | None = None,
    folded: set[int] | None = None,
    collapse: bool = True,
    show_args: bool = True,
    show_grads: bool = False,
) -> tuple[str, int, int]:
    """The flowchart source of ``graph``, its number of nodes and its number of edges.

    Without ``groups`` every tensor is one node ``n<i>`` (``i`` its topological position)
    and every parent link one edge. With ``groups`` and ``collapse``, the tensors of one
    module become a single node ``g<k>`` and the ``folded`` constants are left out;
    without ``collapse`` each module's tensors are boxed in a subgraph.
    """
    tensors = graph.tensors
    lines = []
    if graph.freed:
        lines += ["---", f'title: "{FREED_TITLE}"', "---"]
    lines.append(f"flowchart {orientation}")
    lines += [f"classDef {k} fill:{f},stroke:{s},color:#000" for k, (f, s) in COLORS.items()]
    members: dict[str, list[int]] = {}
    if groups is not None:
        for i, group in enumerate(groups):
            if group is not None:
                members.setdefault(group, []).append(i)
    group_id = {group: f"g{k}" for k, group in enumerate(members)}
    collapsed = collapse and bool(members)
    hidden = folded if collapsed and folded else set()
    node_ids = [f"n{i}" for i in range(len(tensors))]
    if collapsed and groups is not None:
        for i, group in enumerate(groups):
            if group is not None:
                node_ids[i] = group_id[group]

    kinds: dict[str, list[str]] = {kind: [] for kind in COLORS}
    for i, tensor in enumerate(tensors):
        if node_ids[i][0] == "g" or i in hidden:
            continue
        label = tensor_label(tensor, param_names.get(id(tensor)), show_args, show_grads)
        lines.append(f'{node_ids[i]}("{label}")')
        kinds[tensor_kind(tensor)].append(node_ids[i])
    if collapsed:
        outputs = _group_outputs(graph, groups or [])
        for group, ids in members.items():
            label = _group_label(graph, group, ids, outputs[group], param_names)
            lines.append(f'{group_id[group]}("{label}")')
            kinds["acGroup"].append(group_id[group])
    elif members:
        for group, ids in members.items():
            lines.append(f'subgraph {group_id[group]} ["{escape(group)}"]')
            lines += [node_ids[i] for i in ids]
            lines.append("end")
    nodes = sum(len(ids) for ids in kinds.values())

    edges = 0
    drawn: set[tuple[str, str]] = set()
    for src, dst in graph.edges:
        a, b = node_ids[src], node_ids[dst]
        if a == b or src in hidden:
            continue
        if a[0] == "g" or b[0] == "g":  # one edge per pair of nodes when a module is folded
            if (a, b) in drawn:
                continue
            drawn.add((a, b))
        lines.append(f"{a}-->{b}")
        edges += 1
    lines += [f"class {','.join(ids)} {kind}" for kind, ids in kinds.items() if ids]
    return "\n".join(lines) + "\n", nodes, edges


def _group_outputs(graph: Graph, groups: list[str | None]) -> dict[str, list[int]]:
    """For each group, its tensors used outside it (or drawn as a result)."""
    outputs: dict[str, list[int]] = {g: [] for g in groups if g is not None}
    used_outside = {src for src, dst in graph.edges if groups[src] != groups[dst]}
    for i, group in enumerate(groups):
        if group is not None and (i in used_outside or i in graph.roots):
            outputs[group].append(i)
    return outputs


def _group_label(
    graph: Graph, group: str, ids: list[int], outputs: list[int], param_names: Mapping[int, str]
) -> str:
    tensors = [graph.tensors[i] for i in ids]
    ops = sum(t.ctx is not None for t in tensors)
    params = sum(id(t) in param_names for t in tensors)
    lines = [f"{_count(ops, 'op')}, {_count(params, 'param')}"]
    shapes = {
        _shape_line(t.shape, t.dtype, getattr(t, "device", None))
        for t in (graph.tensors[i] for i in outputs)
    }
    if len(outputs) == 1 or len(shapes) == 1:
        prefix = "" if len(outputs) == 1 else f"{len(outputs)} outputs "
        lines.append(prefix + shapes.pop())
    else:
        lines.append(_count(len(outputs), "output"))
    return f"<b>{escape(format_value(group))}</b><br>" + "<br>".join(escape(x) for x in lines)


def check_size(
    source: str,
    nodes: int,
    edges: int,
    max_edges: int | None,
    max_text_size: int | None,
    grouped: bool,
) -> None:
    """Raise ``GraphTooLargeError`` (saying what to do) if mermaid would refuse the diagram."""
    # NOTE: mermaid measures the text in UTF-16 code units (JavaScript's string length).
    size = len(source.encode("utf-16-le")) // 2
    too_many_edges = max_edges is not None and edges > max_edges
    too_long = max_text_size is not None and size > max_text_size
    if not (too_many_edges or too_long):
        return
    if grouped:
        advice = "pass a smaller group_depth (e.g. group_depth=1 or 2) for coarser module groups"
    else:
        advice = (
            "collapse each module into one node with params=dict(model.named_parameters()), "
            'group_by="module" (group_depth=2 for blocks such as "blocks.0")'
        )
    raise GraphTooLargeError(
        f"the diagram has {nodes} nodes, {edges} edges and {size} characters; mermaid "
        f"refuses more than max_edges={max_edges} edges or max_text_size={max_text_size} "
        f"characters (its defaults are 500 and 50000). To draw it, {advice}; or draw part of "
        "the graph (pass an intermediate tensor); or, if your mermaid is initialized with "
        "larger limits (save_graph's HTML page is), raise max_edges and max_text_size "
        "(None disables the check)."
    )
