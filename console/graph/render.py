"""SVG of a graph from `console.graph.build`, laid out by Graphviz (`dot`); PNG or PDF for a file.

Parallel states and Map states are clusters holding one sub-cluster per branch (or the
iterator), entered through the state's own node and left through a join point, as the AWS
console draws them. Each state's SVG element has id `state-<n>` and class `state <status>`, and
`data` in the JSON maps those ids back to names, so the web console can make them clickable.
"""

from __future__ import annotations

from typing import Any

import graphviz

# fill, border, text: one colour per status (the web console's legend uses the same ones)
COLOURS = {
    "succeeded": ("#dcf5e3", "#2f9e55", "#14532d"),
    "failed": ("#fde2e1", "#d93025", "#7f1d1d"),
    "caught": ("#ffe8cc", "#e8710a", "#7c2d12"),
    "retried": ("#fff4c2", "#c69500", "#713f12"),
    "running": ("#dbeafe", "#1a73e8", "#1e3a8a"),
    "aborted": ("#eceff1", "#607d8b", "#37474f"),
    "cancelled": ("#f1f3f4", "#9aa0a6", "#5f6368"),
    "not_reached": ("#ffffff", "#b8bec6", "#4b5563"),
}
_EDGE_STYLE = {
    "next": {},
    "branch": {},
    "join": {},
    "choice": {"color": "#5f6368"},
    "default": {"style": "dashed", "color": "#5f6368"},
    "catch": {"style": "dashed", "color": "#d93025", "fontcolor": "#b3261e"},
}
_FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"


def node_ids(graph: dict[str, Any]) -> dict[str, str]:
    """State name -> the id of its element in the SVG (names may hold any character)."""
    return {name: f"state_{index}" for index, name in enumerate(graph["states"])}


def _label(state: dict[str, Any]) -> str:
    extra = []
    if state.get("retries"):
        extra.append(f"{state['retries']} retr{'y' if state['retries'] == 1 else 'ies'}")
    if state.get("runs", 0) > 1:
        extra.append(f"{state['runs']} runs")
    suffix = f"\n{state['type']}" + (f" · {' · '.join(extra)}" if extra else "")
    return state["name"] + suffix


def _add_state(g: graphviz.Digraph, graph: dict[str, Any], ids: dict[str, str], name: str) -> None:
    state = graph["states"][name]
    status = state.get("status", "not_reached")
    fill, border, text = COLOURS.get(status, COLOURS["not_reached"])
    shape = "diamond" if state["type"] == "Choice" else "box"
    style = "filled,rounded" if shape == "box" else "filled"
    if status in ("cancelled", "aborted"):
        style += ",dashed"
    g.node(
        ids[name],
        _label(state),
        id=ids[name],
        **{"class": f"state {status}"},
        shape=shape,
        style=style,
        fillcolor=fill,
        color=border,
        fontcolor=text,
        penwidth="2" if status != "not_reached" else "1.2",
        tooltip=f"{name}: {status.replace('_', ' ')}",
    )


def _add_scope(
    g: graphviz.Digraph, graph: dict[str, Any], ids: dict[str, str], scope: dict[str, Any]
) -> None:
    subs: dict[str, list[dict[str, Any]]] = {}
    for sub in scope["scopes"]:
        subs.setdefault(sub["owner"], []).append(sub)
    for name in scope["states"]:
        if name not in subs:
            _add_state(g, graph, ids, name)
            continue
        state = graph["states"][name]
        border = COLOURS.get(state.get("status", "not_reached"), COLOURS["not_reached"])[1]
        with g.subgraph(name=f"cluster_{ids[name]}") as box:
            box.attr(label="", style="rounded,dashed", color=border, bgcolor="#fafbfc")
            _add_state(box, graph, ids, name)
            for sub in subs[name]:
                with box.subgraph(name=f"cluster_{ids[name]}_{len(sub['id'])}_{sub['id'][-1]}") as inner:
                    inner.attr(label=sub["label"], style="rounded", color="#d0d5dc", bgcolor="#ffffff")
                    inner.attr(fontsize="10", fontcolor="#5f6368", labeljust="l")
                    _add_scope(inner, graph, ids, sub)
            box.node(f"{ids[name]}_join", "", shape="point", width="0.12", color=border)


def to_dot(graph: dict[str, Any]) -> graphviz.Digraph:
    ids = node_ids(graph)
    g = graphviz.Digraph("execution", format="svg")
    g.attr(rankdir="TB", nodesep="0.35", ranksep="0.45", fontname=_FONT, bgcolor="transparent")
    g.attr("node", fontname=_FONT, fontsize="11", margin="0.18,0.08", height="0.5")
    g.attr("edge", fontname=_FONT, fontsize="9", color="#80868b", arrowsize="0.7")
    ended = graph.get("execution") and graph["execution"].get("status") not in (None, "RUNNING")
    terminal = {"shape": "oval", "style": "filled", "fillcolor": "#f1f3f4", "color": "#9aa0a6"}
    g.node("start", "Start", id="start", **terminal)
    g.node("end", "End", id="end", **(terminal | ({"fillcolor": "#e8eaed"} if ended else {})))
    _add_scope(g, graph, ids, graph["scopes"])

    def node(ref: str) -> str:
        if ref == graph["start"]:
            return "start"
        if ref == graph["end"]:
            return "end"
        if ref.endswith("__join") and ref[: -len("__join")] in ids:
            return f"{ids[ref[: -len('__join')]]}_join"
        return ids[ref]

    for edge in graph["edges"]:
        attrs = dict(_EDGE_STYLE.get(edge["kind"], {}))
        if edge["label"]:
            attrs["label"] = " " + edge["label"] + " "
        g.edge(node(edge["from"]), node(edge["to"]), **attrs)
    return g


class GraphvizMissing(RuntimeError):
    """Graphviz's `dot` program is not installed."""


# the formats a graph is drawn in for a file (`graph --out`), named by its extension
FILE_FORMATS = ("svg", "png", "pdf")


def _drawn(graph: dict[str, Any], format: str) -> bytes:
    try:
        drawn: bytes = to_dot(graph).pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing("Graphviz's dot is not installed (Debian: apt-get install graphviz)") from None
    return drawn


def to_file_format(graph: dict[str, Any], format: str) -> bytes:
    """The graph as a file of one of FILE_FORMATS: an SVG as to_svg gives it, else as dot draws it."""
    return to_svg(graph).encode() if format == "svg" else _drawn(graph, format)


def to_svg(graph: dict[str, Any]) -> str:
    text = _drawn(graph, "svg").decode("utf-8")
    # Drop the XML prolog and DOCTYPE so the SVG can be inlined in a page.
    return text[text.index("<svg") :]
