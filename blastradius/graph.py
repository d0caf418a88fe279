"""The rollout as a graph: teams → plugins → connectors → systems → datasets/people.

Nodes are typed (``kind`` is team, plugin, connector, system, dataset or
people) and keyed ``"kind:id"``; each holds its inventory record under
``record``. Every edge carries why it exists: ``relation`` plus the facts that
cause it (which tools, their action classes and gate status on plugin →
connector edges; the connector's scope on connector → system edges). Queries
are module-level functions of the graph returning plain values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from blastradius.errors import BlastRadiusError, suggest
from blastradius.model import ActionClass, Connector, Dataset, Inventory, PeopleGroup
from blastradius.scope import ToolStatus, tool_reach, tool_status

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


def build_graph(inventory: Inventory) -> nx.DiGraph:
    """Build the layered graph of an inventory.

    Parameters
    ----------
    inventory : Inventory

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
    G = nx.DiGraph(name=inventory.source or "inventory")

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
        G.add_edge(node_key("system", ds.system), key, relation="holds", records=ds.records)
    for group in inventory.people:
        key = add("people", group, count=group.count, people_kind=group.kind.value, external=group.is_external)
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
            usable = sorted({t["action"] for t in tools if t["status"] in (ToolStatus.UNGATED, ToolStatus.GATED)})
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


@dataclass(frozen=True, kw_only=True)
class Reach:
    """What one action class of a plugin can touch, after connector scopes.

    ``records`` and ``people`` count distinct datasets' records (one call's
    worth for reads, capped by the row limit) and distinct people groups'
    members. ``unknown_records``/``unknown_people`` count datasets and groups
    whose size is not given: the totals are then lower bounds.
    """

    action: ActionClass
    records: int = 0
    sensitive_records: int = 0
    people: int = 0
    external_people: int = 0
    datasets: frozenset[str] = field(default_factory=frozenset)
    people_groups: frozenset[str] = field(default_factory=frozenset)
    connectors: frozenset[str] = field(default_factory=frozenset)
    unknown_records: int = 0
    unknown_people: int = 0


def _check_node(G: nx.DiGraph, kind: str, id: str) -> str:
    key = node_key(kind, id)
    if key not in G or G.nodes[key]["kind"] != kind:
        hint = suggest(id, sorted(d["id"] for _, d in G.nodes(data=True) if d["kind"] == kind))
        raise BlastRadiusError(f"no {kind} '{id}' in the inventory" + (f"; {hint}" if hint else ""))
    return key


def reach_by_action(G: nx.DiGraph, plugin: str, *, include_gated: bool = True) -> dict[ActionClass, Reach]:
    """What ``plugin`` can reach per action class, after allowed tables, denied columns and row limits.

    Blocked tools and write tools on read-only connectors reach nothing.
    Gated tools count (a human approves them, but they can run) unless
    ``include_gated`` is False.

    Returns
    -------
    dict
        ActionClass -> :class:`Reach`, only for classes the plugin can use.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> G = build_graph(load_inventory("inventories/acme"))
    >>> reach = reach_by_action(G, "forecast-rollup")
    >>> reach[ActionClass.READ].records > 0
    True
    """
    key = _check_node(G, "plugin", plugin)
    allowed = {ToolStatus.UNGATED.value} | ({ToolStatus.GATED.value} if include_gated else set())
    per_action: dict[ActionClass, dict[str, Any]] = {}
    for _, conn_key, edge in G.out_edges(key, data=True):
        conn: Connector = G.nodes[conn_key]["record"]
        system_key = node_key("system", conn.system) if conn.system else None
        datasets: list[Dataset] = []
        people: list[PeopleGroup] = []
        if system_key in G:
            for _, child in G.out_edges(system_key):
                node = G.nodes[child]
                (datasets if node["kind"] == "dataset" else people).append(node["record"])
        for info in edge["tools"]:
            if info["status"] not in allowed:
                continue
            tool = conn.tool(info["tool"])
            action = tool.action
            acc = per_action.setdefault(action, {"datasets": {}, "people": {}, "connectors": set()})
            acc["connectors"].add(conn.id)
            reach = tool_reach(conn, tool, datasets, people)
            for s in reach.datasets:
                prev = acc["datasets"].get(s.dataset)
                if prev is None or _more(s.records, prev.records):
                    acc["datasets"][s.dataset] = s
            for group in reach.people:
                acc["people"][group.id] = group
    out = {}
    for action, acc in sorted(per_action.items()):
        scopes = acc["datasets"].values()
        groups = acc["people"].values()
        out[action] = Reach(
            action=action,
            records=sum(s.records or 0 for s in scopes),
            sensitive_records=sum(s.records or 0 for s in scopes if s.sensitive),
            people=sum(g.count or 0 for g in groups),
            external_people=sum(g.count or 0 for g in groups if g.is_external),
            datasets=frozenset(acc["datasets"]),
            people_groups=frozenset(acc["people"]),
            connectors=frozenset(acc["connectors"]),
            unknown_records=sum(not s.size_known for s in scopes),
            unknown_people=sum(g.count is None for g in groups),
        )
    return out


def _more(a: int | None, b: int | None) -> bool:
    """Is ``a`` a larger reach than ``b``? Unknown (None) counts as the largest."""
    if a is None:
        return b is not None
    return b is not None and a > b


def plugins_sharing(G: nx.DiGraph, connector: str) -> set[str]:
    """Ids of the plugins that use ``connector``."""
    key = _check_node(G, "connector", connector)
    return {G.nodes[p]["id"] for p in G.predecessors(key) if G.nodes[p]["kind"] == "plugin"}


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


def write_graph(G: nx.DiGraph, path: str | Path) -> Path:
    """Write ``G`` as GraphML (``.graphml``) or node-link JSON (``.json``), for Gephi or Cytoscape."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        H = nx.DiGraph()
        for n, d in G.nodes(data=True):
            H.add_node(n, **_flat(d))
        for u, v, d in G.edges(data=True):
            H.add_edge(u, v, **_flat(d))
        nx.write_graphml(H, path)
    elif suffix == ".json":
        path.write_text(json.dumps(to_node_link(G), indent=1, default=str) + "\n", encoding="utf-8")
    else:
        raise BlastRadiusError(f"cannot write a graph to '{path.name}': use a .graphml or .json file name")
    return path
