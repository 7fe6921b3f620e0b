"""Reading back the flowchart source that ac.viz writes, independently of its code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import auto_compyute as ac

NODE = re.compile(r'^([ng]\d+)\("(.*)"\)$')
EDGE = re.compile(r"^([ng]\d+)-->([ng]\d+)$")
CLASS = re.compile(r"^class ([\w,]+) (\w+)$")
ENTITY = re.compile(r"#(\d+);")


@dataclass
class Diagram:
    """Nodes (id -> label source), edges and node classes of a flowchart."""

    header: str
    nodes: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)
    subgraphs: list[str] = field(default_factory=list)
    title: str | None = None

    def titles(self) -> dict[str, str]:
        """The decoded bold title of every node."""
        return {
            n: decode(label.split("</b>")[0].removeprefix("<b>")) for n, label in self.nodes.items()
        }

    def lines(self, node: str) -> list[str]:
        """The decoded lines of a node's label."""
        return [decode(re.sub(r"</?b>", "", part)) for part in self.nodes[node].split("<br>")]


def strip_entities(text: str) -> str:
    """``text`` without its ``#<code>;`` entities."""
    return ENTITY.sub("", text)


WORD_JOINER = "\u2060"


def decode(text: str) -> str:
    """The text a label shows: entities decoded, invisible word joiners dropped."""
    return ENTITY.sub(lambda m: chr(int(m.group(1))), text).replace(WORD_JOINER, "")


def parse(source: str) -> Diagram:
    """Parse the subset of mermaid flowchart syntax that ac.viz writes; fail on anything else."""
    lines = source.splitlines()
    title = None
    if lines[0] == "---":
        end = lines.index("---", 1)
        title = lines[1].removeprefix("title: ")
        lines = lines[end + 1 :]
    diagram = Diagram(header=lines[0], title=title)
    in_subgraph = False
    for line in lines[1:]:
        if line.startswith("classDef "):
            continue
        if line.startswith("subgraph "):
            diagram.subgraphs.append(line)
            in_subgraph = True
            continue
        if line == "end":
            in_subgraph = False
            continue
        if in_subgraph:
            continue
        if m := NODE.match(line):
            diagram.nodes[m.group(1)] = m.group(2)
        elif m := EDGE.match(line):
            diagram.edges.append((m.group(1), m.group(2)))
        elif m := CLASS.match(line):
            for node in m.group(1).split(","):
                diagram.classes[node] = m.group(2)
        else:
            raise AssertionError(f"unexpected line in the diagram: {line!r}")
    return diagram


def graph_of(y: ac.Tensor) -> tuple[list[ac.Tensor], int]:
    """Every tensor ``y`` depends on (by identity) and the number of parent links."""
    seen: dict[int, ac.Tensor] = {}
    stack = [y]
    links = 0
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        links += len(t.src)
        stack.extend(t.src)
    return list(seen.values()), links
