"""The graph: typed nodes, edges that explain themselves, reach queries and export."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from blastradius import BlastRadiusError, build_graph, load_inventory
from blastradius.graph import plugins_sharing, reach_by_action, shared_connectors, teams_using, write_graph
from blastradius.model import ActionClass

from conftest import ACME, mini_inventory, write_inventory


@pytest.fixture
def G(mini: Path) -> nx.DiGraph:
    return build_graph(load_inventory(mini))


def test_nodes_are_typed_and_layered(G: nx.DiGraph) -> None:
    kinds = {d["kind"] for _, d in G.nodes(data=True)}
    assert kinds == {"team", "plugin", "connector", "system", "dataset", "people"}
    for u, v in G.edges:
        assert G.nodes[u]["layer"] < G.nodes[v]["layer"], (u, v)
    assert G.nodes["dataset:deals"]["records"] == 120_000
    assert G.nodes["people:prospects"]["count"] == 2_310


def test_every_edge_says_why_it_exists(G: nx.DiGraph) -> None:
    assert all("relation" in d for *_, d in G.edges(data=True))
    calls = G.edges["plugin:outreach", "connector:email"]
    send = next(t for t in calls["tools"] if t["tool"] == "send_campaign")
    assert send == {
        "tool": "send_campaign",
        "action": "send",
        "status": "gated",
        "reason": "plugin 'outreach' requires approval for 'send'",
        "fan_out": 2310,
        "reversibility": "immediate",
        "leaves_org": True,
        "untrusted_content": False,
    }
    scope = G.edges["connector:finance-warehouse", "system:warehouse"]
    assert scope["relation"] == "connects"
    assert scope["allowed_tables"] == ["deals", "regions", "forecasts"]
    assert scope["row_limit"] == 50_000 and scope["alert_if_rows_returned_over"] == 25_000
    uses = G.edges["team:sales", "plugin:outreach"]
    assert uses == {"relation": "uses", "users": 900, "runs_per_user_per_day": 2.0}
    assert G.edges["dataset:employees", "people:staff"]["relation"] == "describes"


def test_reach_applies_allowed_tables_row_limit_and_read_only(G: nx.DiGraph) -> None:
    reach = reach_by_action(G, "fin-analyst")
    assert set(reach) == {ActionClass.READ}  # the write tool is unusable: the D6 policy makes it read-only
    read = reach[ActionClass.READ]
    assert read.datasets == {"deals", "regions", "forecasts"}
    assert read.records == 50_000 + 12 + 800  # deals capped by the 50,000 row limit
    assert read.sensitive_records == 50_000 + 800
    assert read.people == 0  # employees are not in the allowed tables


def test_send_reaches_people_and_gates_can_be_left_out(G: nx.DiGraph) -> None:
    reach = reach_by_action(G, "outreach")
    assert reach[ActionClass.SEND].people == reach[ActionClass.SEND].external_people == 2_310
    assert reach[ActionClass.SEND].people_groups == {"prospects"}
    assert ActionClass.SEND not in reach_by_action(G, "outreach", include_gated=False)


def test_without_a_scope_everything_is_reachable_and_denied_columns_hide_and_declassify(tmp_path: Path) -> None:
    files = mini_inventory()
    files.pop("policies/finance-warehouse.json")
    conn = files["connectors.yaml"]["connectors"][0]
    conn["access"] = "read-write"
    G = build_graph(load_inventory(write_inventory(tmp_path / "open", files)))
    reach = reach_by_action(G, "fin-analyst")
    assert reach[ActionClass.READ].records == 120_000 + 12 + 800 + 4_000 + 4_000
    assert reach[ActionClass.WRITE].people == 4_000  # writing the employees table touches the staff

    conn["denied_columns"] = ["ssn", "bank_account", "comp_individual", "name"]
    G = build_graph(load_inventory(write_inventory(tmp_path / "masked", files)))
    read = reach_by_action(G, "fin-analyst")[ActionClass.READ]
    assert "payroll" not in read.datasets  # every column of it is masked
    assert read.sensitive_records == 120_000 + 800  # employees is internal once names are masked


def test_blocked_tools_and_tool_subsets_reach_nothing(tmp_path: Path) -> None:
    files = mini_inventory()
    files["plugins.yaml"]["plugins"][1]["blocked"] = ["email.*"]
    G = build_graph(load_inventory(write_inventory(tmp_path, files)))
    statuses = {t["tool"]: t["status"] for t in G.edges["plugin:outreach", "connector:email"]["tools"]}
    assert statuses == {"send_campaign": "blocked", "read_inbox": "blocked"}
    assert ActionClass.SEND not in reach_by_action(G, "outreach")
    fw = {t["tool"]: t["status"] for t in G.edges["plugin:outreach", "connector:finance-warehouse"]["tools"]}
    assert fw == {"query": "ungated", "update_row": "blocked"}


def test_unknown_sizes_are_counted(tmp_path: Path) -> None:
    files = mini_inventory()
    del files["systems.yaml"]["systems"][0]["datasets"][2]["records"]
    del files["systems.yaml"]["systems"][1]["people"][0]["count"]
    G = build_graph(load_inventory(write_inventory(tmp_path, files)))
    assert reach_by_action(G, "fin-analyst")[ActionClass.READ].unknown_records == 1
    assert reach_by_action(G, "outreach")[ActionClass.SEND].unknown_people == 1


def test_who_shares_a_connector(G: nx.DiGraph) -> None:
    assert plugins_sharing(G, "finance-warehouse") == {"fin-analyst", "outreach"}
    assert teams_using(G, "finance-warehouse") == {"finance", "sales"}
    assert shared_connectors(G) == {
        "finance-warehouse": {
            "plugins": {"fin-analyst", "outreach"},
            "teams": {"finance", "sales"},
            "departments": {"finance", "sales"},
        }
    }


def test_asking_for_an_unknown_plugin_suggests_one(G: nx.DiGraph) -> None:
    with pytest.raises(BlastRadiusError, match=r"no plugin 'outreech' in the inventory; did you mean 'outreach'\?"):
        reach_by_action(G, "outreech")


def test_export_graphml_and_node_link_round_trip(G: nx.DiGraph, tmp_path: Path) -> None:
    H = nx.read_graphml(write_graph(G, tmp_path / "g.graphml"))
    assert set(H.nodes) == set(G.nodes) and set(H.edges) == set(G.edges)
    assert H.nodes["connector:email"]["kind"] == "connector"
    assert json.loads(H.edges["plugin:outreach", "connector:email"]["tools"])[0]["action"] == "send"
    data = json.loads(write_graph(G, tmp_path / "g.json").read_text())
    J = nx.node_link_graph(data, edges="links")
    assert set(J.edges) == set(G.edges)
    with pytest.raises(BlastRadiusError, match=r"use a \.graphml or \.json file name"):
        write_graph(G, tmp_path / "g.png")


def test_acme_graph_has_a_shared_mega_connector() -> None:
    G = build_graph(load_inventory(ACME))
    shared = shared_connectors(G)
    assert any(len(s["departments"]) >= 3 for s in shared.values())
