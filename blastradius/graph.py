"""The rollout as a graph: teams → plugins → connectors → systems → datasets/people.

Nodes are typed (``kind`` is team, plugin, connector, system, dataset or
people) and keyed ``"kind:id"``; each holds its inventory record under
``record``. Every edge carries why it exists: ``relation`` plus the facts that
cause it (which tools, their action classes and gate status on plugin →
connector edges; the connector's scope on connector → system edges). Queries
are module-level functions of the graph returning plain values.

The graph computes no reach of its own: :func:`reach_by_action` reads it from
the :class:`~blastradius.analysis.Analysis` the graph was built from (kept as
``G.graph["analysis"]``), that is from :mod:`blastradius.reach`, so the graph,
the score table and every report give one figure for one fact.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from blastradius.analysis import Analysis, analysis_of
from blastradius.domain import plugins_using
from blastradius.errors import BlastRadiusError, UnknownIdError
from blastradius.model import ActionClass, Connector, Inventory
from blastradius.reach import USABLE, Reach, tool_status
from blastradius.textout import xml_text

__all__ = [
    "Reach",
    "build_graph",
    "node_key",
    "plugins_sharing",
    "reach_by_action",
    "shared_connectors",
    "teams_using",
    "to_node_link",
    "write_graph",
]

#: Node kinds, in layer order.
KINDS = ("team", "plugin", "connector", "system", "dataset", "people")


def node_key(kind: str, id: str) -> str:
    """The graph key of a record: ``node_key('plugin', 'deal-desk')`` -> ``'plugin:deal-desk'``."""
    return f"{kind}:{id}"


def build_graph(source: Inventory | Analysis) -> nx.DiGraph:
    """Build the layered graph of an inventory.

    Parameters
    ----------
    source : Inventory or Analysis
        An inventory gets an analysis of its own, kept as ``G.graph["analysis"]``.

    Returns
    -------
    networkx.DiGraph
        Nodes ``kind:id`` with attributes ``kind``, ``id``, ``label``,
        ``layer`` and ``record``; edges with ``relation`` and their reasons.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> G = build_graph(load_inventory("inventories/acme"))
    >>> G.nodes["connector:crm"]["kind"]
    'connector'
    """
    analysis = analysis_of(source)
    inventory = analysis.inventory
    G = nx.DiGraph(name=inventory.source or "inventory", analysis=analysis)

    def add(kind: str, record: Any, **attrs: Any) -> str:
        key = node_key(kind, record.id)
        label = getattr(record, "name", None) or record.id
        G.add_node(key, kind=kind, id=record.id, label=label, layer=KINDS.index(kind), record=record, **attrs)
        return key

    for team in inventory.teams:
        add("team", team, headcount=team.headcount, department=team.department_name)
    for system in inventory.systems:
        add("system", system, system_kind=system.kind)
    for ds in inventory.datasets:
        key = add("dataset", ds, records=ds.records, classification=ds.effective_classification().value)
        if ds.system is not None:  # always, once loaded: the loader refuses a dataset that names no system
            G.add_edge(node_key("system", ds.system), key, relation="holds", records=ds.records)
    for group in inventory.people:
        key = add("people", group, count=group.count, people_kind=group.kind.value, external=group.is_external)
        if group.system is not None:  # always, once loaded: the loader refuses a group that names no system
            G.add_edge(node_key("system", group.system), key, relation="holds", count=group.count)
        if group.dataset is not None:
            G.add_edge(node_key("dataset", group.dataset), key, relation="describes", count=group.count)
    for conn in inventory.connectors:
        key = add("connector", conn, access=conn.access.value if conn.access else None, leaves_org=conn.leaves_org)
        if conn.system is not None:
            G.add_edge(key, node_key("system", conn.system), relation="connects", **_scope_attrs(conn))
    for plugin in inventory.plugins:
        key = add("plugin", plugin, owner=plugin.owner, output=plugin.output.value, review_tier=plugin.review_tier)
        for use, users in inventory.users_of(plugin):
            G.add_edge(
                node_key("team", use.team),
                key,
                relation="uses",
                users=users,
                runs_per_user_per_day=use.runs_per_user_per_day,
            )
        for pc in plugin.connectors:
            conn = inventory.connector_by_id[pc.connector]
            tools = []
            for tool in conn.tools:
                status, reason = tool_status(plugin, conn, tool)
                tools.append(
                    {
                        "tool": tool.name,
                        "action": tool.action.value,
                        "status": status.value,
                        "reason": reason,
                        "fan_out": tool.fan_out,
                        "reversibility": tool.reversibility.value,
                        "leaves_org": conn.leaves_org_for(tool),
                        "untrusted_content": tool.untrusted_content,
                    }
                )
            usable = sorted({t["action"] for t in tools if t["status"] in USABLE})
            G.add_edge(key, node_key("connector", conn.id), relation="calls", tools=tools, actions=usable)
    return G


def _scope_attrs(conn: Connector) -> dict[str, Any]:
    audit = conn.audit
    return {
        "access": conn.access.value if conn.access else None,
        "allowed_tables": None if conn.allowed_tables is None else list(conn.allowed_tables),
        "denied_columns": list(conn.denied_columns),
        "row_limit": conn.row_limit,
        "requires_approval": conn.requires_approval,
        "log_every_query": bool(audit and audit.log_every_query),
        "alert_if_rows_returned_over": audit.alert_if_rows_returned_over if audit else None,
        "alert_if_sends_over": audit.alert_if_sends_over if audit else None,
    }


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def _check_node(G: nx.DiGraph, kind: str, id: str) -> str:
    key = node_key(kind, id)
    if key not in G or G.nodes[key]["kind"] != kind:
        raise UnknownIdError(kind, id, sorted(d["id"] for _, d in G.nodes(data=True) if d["kind"] == kind))
    return key


def reach_by_action(G: nx.DiGraph, plugin: str, *, include_gated: bool = True) -> dict[ActionClass, Reach]:
    """What ``plugin`` can reach per action class, after allowed tables, denied columns and row limits.

    Blocked tools and write tools on read-only connectors reach nothing.
    Gated tools count (a human approves them, but they can run) unless
    ``include_gated`` is False. Read from :mod:`blastradius.reach`
    (``PluginReach.by_action``): the same figures as the score table.

    Returns
    -------
    dict
        ActionClass -> :class:`blastradius.reach.Reach`, only for classes the plugin can use.

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the graph.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> G = build_graph(load_inventory("inventories/acme"))
    >>> reach = reach_by_action(G, "forecast-rollup")
    >>> reach[ActionClass.READ].records > 0
    True
    """
    _check_node(G, "plugin", plugin)
    return _analysis(G).reach(plugin).by_action(include_gated=include_gated)


def _analysis(G: nx.DiGraph) -> Analysis:
    analysis = G.graph.get("analysis")
    if not isinstance(analysis, Analysis):
        raise BlastRadiusError(
            "this graph was not made by blastradius.build_graph: it has no analysis to read reach from"
        )
    return analysis


def plugins_sharing(G: nx.DiGraph, connector: str) -> set[str]:
    """Ids of the plugins that use ``connector`` (:func:`blastradius.domain.plugins_using`)."""
    _check_node(G, "connector", connector)
    return set(plugins_using(_analysis(G).inventory, connector))


def teams_using(G: nx.DiGraph, connector: str) -> set[str]:
    """Ids of the teams whose plugins use ``connector`` (owners and users)."""
    teams = set()
    for plugin in plugins_sharing(G, connector):
        pkey = node_key("plugin", plugin)
        teams |= {G.nodes[t]["id"] for t in G.predecessors(pkey)}
        teams.add(G.nodes[pkey]["owner"])
    return teams


def shared_connectors(G: nx.DiGraph) -> dict[str, dict[str, set[str]]]:
    """Connectors used by more than one plugin, with the plugins, teams and departments sharing each.

    Returns
    -------
    dict
        connector id -> ``{"plugins": set, "teams": set, "departments": set}``.
    """
    out = {}
    for _, data in G.nodes(data=True):
        if data["kind"] != "connector":
            continue
        plugins = plugins_sharing(G, data["id"])
        if len(plugins) < 2:
            continue
        teams = teams_using(G, data["id"])
        departments = {G.nodes[node_key("team", t)]["department"] for t in teams if node_key("team", t) in G}
        out[data["id"]] = {"plugins": plugins, "teams": teams, "departments": departments}
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _flat(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes GraphML can hold: scalars kept, lists/dicts as JSON text, None and records dropped."""
    out = {}
    for k, v in attrs.items():
        if k == "record" or v is None:
            continue
        if isinstance(v, bool | int | float | str):
            out[k] = v
        else:
            out[k] = json.dumps(v, sort_keys=True, default=str)
    return out


def to_node_link(G: nx.DiGraph) -> dict[str, Any]:
    """The graph as node-link JSON data (records flattened to plain values)."""
    H = nx.DiGraph(name=G.graph.get("name", ""))
    for n, d in G.nodes(data=True):
        H.add_node(n, **{k: v for k, v in d.items() if k != "record"})
    for u, v, d in G.edges(data=True):
        H.add_edge(u, v, **d)
    return nx.node_link_data(H, edges="links")


def _xml_safe(attributes: dict[str, Any]) -> dict[str, Any]:
    """Text attributes without the characters XML cannot hold (:func:`blastradius.textout.xml_text`)."""
    return {k: xml_text(v) if isinstance(v, str) else v for k, v in attributes.items()}


def write_graph(G: nx.DiGraph, path: str | Path) -> Path:
    """Write ``G`` as GraphML (``.graphml``) or node-link JSON (``.json``), for Gephi or Cytoscape."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        H = nx.DiGraph()
        for n, d in G.nodes(data=True):
            H.add_node(_xml_id(n), **_xml_safe(_flat(d)))
        for u, v, d in G.edges(data=True):
            H.add_edge(_xml_id(u), _xml_id(v), **_xml_safe(_flat(d)))
        buffer = io.BytesIO()
        # the standard library's writer: nx.write_graphml picks lxml's when it is installed, which lays the same
        # graph out otherwise, so the file would depend on what else is installed
        nx.write_graphml_xml(H, buffer)
        data = buffer.getvalue()
    elif suffix == ".json":
        data = (json.dumps(to_node_link(G), indent=1, default=str) + "\n").encode("utf-8")
    else:
        raise BlastRadiusError(f"cannot write a graph to '{path.name}': use a .graphml or .json file name")
    # whole or not at all: a temporary file beside it, then renamed over it
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BlastRadiusError(f"cannot write the graph to {path}: {exc.strerror or exc}") from None
    return path


def _xml_id(node: Any) -> Any:
    return xml_text(node) if isinstance(node, str) else node
