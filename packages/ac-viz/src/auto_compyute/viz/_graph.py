"""Reading a compute graph through the public attributes of ``Tensor`` and ``Op``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auto_compyute import Tensor

# A node's group while groups are propagated: None (no module seen), a module name,
# or _MANY (several different modules).
_MANY = object()


class Graph:
    """The tensors a result depends on, sources before consumers, and one edge per parent link.

    Attributes:
        tensors: Every tensor of the graph in topological order (inputs first).
        edges: ``(source, consumer)`` positions in ``tensors``, one per entry of
            ``consumer.src`` (an op that uses a tensor twice gives two edges).
    """

    def __init__(self, roots: Sequence[Tensor]) -> None:
        self.tensors = _topological_order(roots)
        self.position = {id(t): i for i, t in enumerate(self.tensors)}
        self.roots = [self.position[id(r)] for r in roots]
        self.edges = [
            (self.position[id(src)], i) for i, t in enumerate(self.tensors) for src in t.src
        ]

    @property
    def freed(self) -> bool:
        """Whether a backward pass has released the buffers of any op in the graph."""
        return any(t.ctx is not None and getattr(t.ctx, "freed", False) for t in self.tensors)


def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor reachable through ``src``, each after its sources (iterative DFS).

    NOTE: iterative, not recursive: unrolled graphs can be 100k tensors deep.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        stack.extend((src, False) for src in reversed(tensor.src) if id(src) not in seen)
    return order


def module_of(name: str, depth: int | None) -> str:
    """The module path of a parameter name (``"blocks.0.attn.q.weight"`` -> ``"blocks.0.attn.q"``).

    With ``depth``, only the first ``depth`` parts are kept (2 -> ``"blocks.0"``). A
    top-level parameter (no dot) belongs to no module and gives ``""``.
    """
    parts = name.split(".")[:-1]
    if depth is not None:
        parts = parts[:depth]
    return ".".join(parts)


def assign_groups(
    graph: Graph, param_names: Mapping[int, str], depth: int | None
) -> tuple[list[str | None], set[int]]:
    """The module of each tensor of ``graph`` (None: drawn on its own), and the folded constants.

    - A parameter belongs to its module (its name without the last part, cut to ``depth``).
    - An op that consumes parameters of exactly one module belongs to that module.
    - Any other op belongs to the module ``m`` of the nearest parameter-using ops that
      consume its result, when they all agree; so a LayerNorm's mean and variance join
      the module that owns its weight. If the op's inputs come (through such ops only)
      from sibling modules of ``m`` (attn.q/k/v before attn.out, mlp.fc1 before
      mlp.fc2), it joins their parent module instead: attention scores and activations
      belong to the attention or MLP module. Siblings numbered like list items
      (``blocks.0`` and ``blocks.1``) do not merge. Ops whose result feeds several
      modules (residual additions) or none (the loss) stay on their own.
    - An unlabelled constant whose consumers all belong to one module joins it; an
      unlabelled one-element constant (``1e-05``, shared by every LayerNorm) whose
      consumers all belong to modules is folded into them (returned in the set: not
      drawn). Labelled tensors and leaves that require grad but are not parameters
      stay on their own.
    """
    tensors, position = graph.tensors, graph.position
    consumers: list[list[int]] = [[] for _ in tensors]
    for src, dst in graph.edges:
        consumers[src].append(dst)
    modules: list[str | None] = [None] * len(tensors)
    for i, tensor in enumerate(tensors):
        name = param_names.get(id(tensor))
        if name is not None:
            modules[i] = module_of(name, depth) or None

    # direct: the modules whose parameters an op consumes; down: those of the nearest
    # parameter-using ops downstream (a module name, _MANY or None).
    direct: list[object] = [None] * len(tensors)
    down: list[object] = [None] * len(tensors)
    for i in reversed(range(len(tensors))):
        if tensors[i].ctx is None:
            continue
        direct[i] = _merge(modules[position[id(s)]] for s in tensors[i].src)
        down[i] = direct[i] if direct[i] is not None else _merge(down[c] for c in consumers[i])

    groups: list[str | None] = [None] * len(tensors)
    # up: the common module prefix of the parameter-using ops an op's inputs come from,
    # following only inputs that lead to the same downstream module.
    up: list[str | None] = [None] * len(tensors)
    for i, tensor in enumerate(tensors):
        if tensor.ctx is None:
            continue
        own = direct[i]
        if own is not None:
            groups[i] = up[i] = own if isinstance(own, str) else None
            continue
        target = down[i]
        if not isinstance(target, str):
            continue
        sources = [position[id(s)] for s in tensor.src]
        up[i] = _common_prefix(
            module
            for s, module in zip(sources, (up[s] for s in sources), strict=True)
            if module is not None and (direct[s] is not None or down[s] == target)
        )
        groups[i] = _parent_if_sibling(target, up[i])

    folded: set[int] = set()
    for i, tensor in enumerate(tensors):
        if tensor.ctx is not None:
            continue
        if modules[i] is not None:
            groups[i] = modules[i]
        elif not tensor.req_grad and tensor.label is None and consumers[i]:
            used_by = [groups[c] for c in consumers[i]]
            if None in used_by:
                continue
            if len(set(used_by)) == 1:
                groups[i] = used_by[0]
            elif _size(tensor.shape) == 1:
                folded.add(i)
    return groups, folded


def _common_prefix(modules: Iterable[str]) -> str | None:
    """The longest common dotted prefix of module names (None for none, "" if nothing shared)."""
    prefix: list[str] | None = None
    for module in modules:
        parts = module.split(".")
        if prefix is None:
            prefix = parts
            continue
        n = 0
        while n < min(len(prefix), len(parts)) and prefix[n] == parts[n]:
            n += 1
        prefix = prefix[:n]
    return None if prefix is None else ".".join(prefix)


def _parent_if_sibling(target: str, up: str | None) -> str:
    """``target``'s parent if ``up`` lies in that parent but not in ``target``, else ``target``."""
    parent, _, last = target.rpartition(".")
    if up is None or not parent or last.isdigit():
        return target
    if up == target or up.startswith(target + "."):
        return target
    if up == parent or up.startswith(parent + "."):
        return parent
    return target


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def _merge(values: Iterable[object]) -> object:
    """None if every value is None, the value if all non-None values agree, else _MANY."""
    result: object = None
    for value in values:
        if value is None:
            continue
        if value is _MANY or (result is not None and value != result):
            return _MANY
        result = value
    return result
