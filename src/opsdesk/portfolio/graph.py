"""Lay out a service's dependency neighbourhood as a picture, drawn server-side as SVG.

Columns are depths from ``selectors.dependency_graph``: services that depend on the centre
stand to its left, what it depends on to its right, so every arrow reads "needs" from left
to right. Inside a column, nodes sit near the average height of their neighbours in the
column nearer the centre (one barycentre pass), which keeps most arrows short and uncrossed.
The template draws the result; names stay text, so autoescaping covers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from opsdesk.portfolio.selectors import Graph

NODE_WIDTH = 190
NODE_HEIGHT = 44
COLUMN_GAP = 90
ROW_GAP = 18
MARGIN = 24
LABEL_CHARS = 24


@dataclass
class Node:
    pk: int
    name: str
    label: str
    url: str
    depth: int
    x: int = 0
    y: int = 0
    center: bool = False
    stage: str = ""

    @property
    def distance(self) -> int:
        return abs(self.depth)

    @property
    def text_x(self) -> int:
        return self.x + NODE_WIDTH // 2

    @property
    def text_y(self) -> int:
        return self.y + NODE_HEIGHT // 2 - 3

    @property
    def sub_y(self) -> int:
        return self.y + NODE_HEIGHT // 2 + 12


@dataclass
class Edge:
    source: int
    target: int
    path: str
    touches_center: bool


@dataclass
class Layout:
    width: int
    height: int
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT
    upstream: int = 0
    downstream: int = 0


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1].rstrip() + "…"


def layout(graph: Graph) -> Layout:
    """Positions for every node and an SVG path for every edge of ``graph``."""
    neighbours: dict[int, set[int]] = {pk: set() for pk in graph.depth}
    for source, target in graph.edges:
        neighbours[source].add(target)
        neighbours[target].add(source)
    # Left to right: the most distant dependents first, the most distant dependencies last.
    depths = sorted(set(graph.depth.values()), reverse=True)
    columns: dict[int, list[int]] = {depth: [] for depth in depths}
    for pk, depth in graph.depth.items():
        columns[depth].append(pk)
    position: dict[int, float] = {graph.center.pk: 0.0}
    for depth in sorted(depths, key=abs):
        if depth == 0:
            continue
        nearer = depth - 1 if depth > 0 else depth + 1

        def barycentre(pk: int, nearer: int = nearer) -> float:
            around = [position[other] for other in neighbours[pk] if graph.depth.get(other) == nearer]
            return sum(around) / len(around) if around else 0.0

        columns[depth].sort(key=lambda pk: (barycentre(pk), graph.nodes[pk].name.casefold()))
        for index, pk in enumerate(columns[depth]):
            position[pk] = index - (len(columns[depth]) - 1) / 2
    tallest = max(len(items) for items in columns.values())
    height = 2 * MARGIN + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP
    width = 2 * MARGIN + len(depths) * NODE_WIDTH + (len(depths) - 1) * COLUMN_GAP
    result = Layout(width=width, height=height)
    placed: dict[int, Node] = {}
    for column, depth in enumerate(depths):
        items = columns[depth]
        top = (height - (len(items) * NODE_HEIGHT + (len(items) - 1) * ROW_GAP)) // 2
        for row, pk in enumerate(items):
            service = graph.nodes[pk]
            node = Node(
                pk=pk,
                name=service.name,
                label=_label(service.name),
                # The centre opens its sheet; any other node re-centres the picture on itself.
                url=reverse(
                    "portfolio:service_detail" if pk == graph.center.pk else "portfolio:service_graph",
                    args=[pk],
                ),
                depth=depth,
                x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
                y=top + row * (NODE_HEIGHT + ROW_GAP),
                center=pk == graph.center.pk,
                stage=service.get_stage_display(),
            )
            placed[pk] = node
            result.nodes.append(node)
    for source, target in sorted(graph.edges):
        if source in placed and target in placed:
            result.edges.append(
                Edge(
                    source=source,
                    target=target,
                    path=_curve(placed[source], placed[target]),
                    touches_center=graph.center.pk in (source, target),
                )
            )
    if any(placed[source].x == placed[target].x for source, target in graph.edges):
        # Links inside one column loop round its right side; make room for the loop.
        result.width += COLUMN_GAP // 2
    result.upstream = sum(1 for depth in graph.depth.values() if depth < 0)
    result.downstream = sum(1 for depth in graph.depth.values() if depth > 0)
    return result


def _curve(source: Node, target: Node) -> str:
    """A smooth arrow from the side of ``source`` facing ``target`` to the facing side of ``target``."""
    middle_source, middle_target = source.y + NODE_HEIGHT // 2, target.y + NODE_HEIGHT // 2
    if target.x > source.x:
        x1, x2 = source.x + NODE_WIDTH, target.x - 6
    elif target.x < source.x:
        x1, x2 = source.x, target.x + NODE_WIDTH + 6
    else:
        # Same column (two services at the same distance depend on each other): loop round the right.
        x1 = x2 = source.x + NODE_WIDTH
        bend = x1 + COLUMN_GAP // 2
        return (
            f"M{x1},{middle_source} C{bend},{middle_source} {bend},{middle_target} {x2 + 6},{middle_target}"
        )
    bend = (x1 + x2) // 2
    return f"M{x1},{middle_source} C{bend},{middle_source} {bend},{middle_target} {x2},{middle_target}"
