"""Reach has one home: the reference computation, the fast path pinned to it, and every reader agreeing with it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from blastradius import build_graph, load_inventory
from blastradius.analysis import Analysis, analysis_of
from blastradius.errors import BlastRadiusError, UnknownIdError
from blastradius.graph import reach_by_action
from blastradius.levers import without_connector
from blastradius.model import ActionClass, Connector, Inventory
from blastradius.reach import (
    USABLE,
    ActionReach,
    Reach,
    ScopeIndex,
    ToolStatus,
    plugin_reach,
    tool_reach,
    tool_status,
    tool_statuses,
    union_reach,
)
from blastradius.runbook import runbook
from blastradius.scores import action_scores, score_plugins
from blastradius.synth import write_enterprise

from conftest import ACME, ACME_GOVERNED, mini_inventory, write_inventory
from strategies import inventories

SYNTH = {"people": 3_000, "plugins": 40, "connectors": 25, "systems": 12, "datasets": 300}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return load_inventory(write_enterprise(tmp_path_factory.mktemp("synth") / "corp", seed=11, **SYNTH))


def _figures(r: Reach) -> tuple:
    return (r.records, r.sensitive_records, r.people, r.external_people, r.unknown_records, r.unknown_people)


def assert_one_reach(inv: Inventory) -> None:
    """The graph, the score table, every action score and the runbook give the reference's figures."""
    analysis = Analysis(inv)
    G = build_graph(analysis)
    table = score_plugins(analysis).set_index("plugin")
    scores = {ps.plugin: ps for ps in action_scores(analysis)}
    halts = {e.plugin: e for e in runbook(analysis)}
    for p in inv.plugins:
        ref = plugin_reach(inv, p)  # the readable reference, no fast path involved
        assert analysis.reach(p) == ref  # the context's (fast tool reach) equals it
        assert reach_by_action(G, p.id) == ref.by_action()
        assert reach_by_action(G, p.id, include_gated=False) == ref.by_action(include_gated=False)
        total = ref.total()
        assert total.sensitive_records <= total.records and total.external_people <= total.people
        row = table.loc[p.id]
        assert (row.reach_records, row.sensitive_records, row.reach_people, row.external_people) == (
            total.records,
            total.sensitive_records,
            total.people,
            total.external_people,
        ), p.id
        assert row.unknowns == total.unknowns + (p.output_audience is None)
        assert row.unbounded_datasets == total.unbounded_datasets
        assert (halts[p.id].records_at_risk, halts[p.id].people_at_risk) == (total.records, total.people)
        by_key = {(a.connector, a.action): a for a in ref.actions}
        assert len(by_key) == len(scores[p.id].actions)
        for a in scores[p.id].actions:
            r: ActionReach = by_key[(a.connector, a.action)]
            assert a.status is r.status and a.reason == r.reason
            assert sorted(a.tools) == sorted(r.usable_tools)
            assert sorted(a.unavailable_tools) == sorted(r.unavailable_tools)
            assert (a.reach_records, a.sensitive_records, a.reach_people, a.external_people) == (
                r.reach.records,
                r.reach.sensitive_records,
                r.reach.people,
                r.reach.external_people,
            ), (p.id, a.connector, a.action)
            assert a.unknowns == r.reach.unknowns
            assert a.unbounded_datasets == r.reach.unbounded_datasets
            assert a.datasets == r.datasets
            assert a.people_groups == r.people_groups


@pytest.mark.parametrize("inventory", [ACME, ACME_GOVERNED], ids=["acme", "acme-governed"])
def test_graph_scores_and_runbook_agree_with_the_reference_on_the_examples(inventory: Path) -> None:
    assert_one_reach(load_inventory(inventory))


def test_graph_scores_and_runbook_agree_with_the_reference_on_a_synthetic_enterprise(synthetic: Inventory) -> None:
    assert_one_reach(synthetic)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=inventories())
def test_the_fast_path_equals_the_reference_on_any_inventory(files) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inv = load_inventory(write_inventory(Path(tmp), files))
    assert_one_reach(inv)
    index = ScopeIndex(inv)
    for p in inv.plugins:
        for cid in p.connector_ids:
            conn = inv.connector_by_id[cid]
            assert tool_statuses(p, conn) == tuple(tool_status(p, conn, t)[0] for t in conn.tools)
    for conn in inv.connectors:
        datasets = inv.datasets_by_system.get(conn.system or "", ())
        people = inv.people_by_system.get(conn.system or "", ())
        for tool in conn.tools:
            assert index.tool_reach(conn, tool) == tool_reach(conn, tool, datasets, people)


def test_ap_autopilot_reads_show_one_figure_and_say_what_is_unknown() -> None:
    inv = load_inventory(ACME)
    G = build_graph(inv)
    reads = reach_by_action(G, "ap-autopilot")[ActionClass.READ]
    row = score_plugins(inv).set_index("plugin").loc["ap-autopilot"]
    total = plugin_reach(inv, "ap-autopilot").total()
    assert reads.records <= total.records == row.reach_records
    # a table whose size is not given is counted as unknown, never as 0 in one place and a number in another
    assert total.unknown_records >= 1 and row.unknowns >= total.unknown_records


def test_a_dataset_of_unknown_size_is_bounded_by_a_row_limit_or_else_unbounded(tmp_path: Path) -> None:
    files = mini_inventory()
    warehouse = files["systems.yaml"]["systems"][0]
    del warehouse["datasets"][0]["records"]  # deals: size not given
    inv = load_inventory(write_inventory(tmp_path, files))
    conn = inv.connector_by_id["finance-warehouse"].model_copy(update={"row_limit": None, "access": None})
    read, write = conn.tool("query"), conn.tool("update_row")
    data = inv.datasets_by_system["warehouse"]
    unbounded = union_reach([(conn.id, tool_reach(conn, read, data, []))])
    assert unbounded.unbounded_datasets == 1 and unbounded.unknown_records == 1 and not unbounded.bounded
    limited = conn.model_copy(update={"row_limit": 500})
    bounded = union_reach([(conn.id, tool_reach(limited, read, data, []))])
    assert bounded.unbounded_datasets == 0 and bounded.unknown_records == 1
    known = sum(min(d.records, 500) for d in data if d.records is not None and d.id in bounded.datasets)
    assert bounded.records == known + 500  # the row limit bounds what one read returns, size given or not
    both = union_reach([(conn.id, tool_reach(limited, read, data, [])), (conn.id, tool_reach(conn, write, data, []))])
    assert both.unbounded_datasets == 1  # the widest scope of a dataset is the unbounded one


def test_removing_a_connector_never_widens_reach() -> None:
    inv = load_inventory(ACME)
    for p in inv.plugins:
        before = plugin_reach(inv, p).total()
        for cid in dict.fromkeys(p.connector_ids):
            after = plugin_reach(without_connector(inv, p.id, cid), p.id).total()
            assert after.datasets <= before.datasets and after.people_groups <= before.people_groups
            assert after.records <= before.records and after.people <= before.people


def test_blocked_and_unusable_tools_reach_nothing() -> None:
    inv = load_inventory(ACME)
    for p in inv.plugins:
        for a in plugin_reach(inv, p).actions:
            for t in a.tools:
                if t.status not in USABLE:
                    assert not t.reach.datasets and not t.reach.people
            if a.status in (ToolStatus.BLOCKED, ToolStatus.UNUSABLE):
                assert a.reach == Reach(action=a.action)


def test_unknown_ids_are_reported_with_a_suggestion() -> None:
    inv = load_inventory(ACME)
    with pytest.raises(UnknownIdError, match="no plugin 'ap-autopliot' in the inventory; did you mean 'ap-autopilot'"):
        plugin_reach(inv, "ap-autopliot")
    with pytest.raises(UnknownIdError, match="did you mean 'ap-autopilot'"):
        reach_by_action(build_graph(inv), "ap-autopliot")
    with pytest.raises(LookupError):
        Analysis(inv).reach("nobody")


def test_an_analysis_keeps_what_it_derives_and_the_inventory_keeps_nothing() -> None:
    inv = load_inventory(ACME)
    analysis = Analysis(inv, weights={"gate_miss_rate": 0.2})
    assert analysis.reach("ap-autopilot") is analysis.reach("ap-autopilot")
    assert analysis_of(analysis) is analysis
    other = analysis_of(analysis, weights={"gate_miss_rate": 0.3})
    assert other.weights.gate_miss_rate == 0.3 and other.scope is analysis.scope  # reach does not depend on weights
    assert score_plugins(analysis).equals(score_plugins(inv, weights={"gate_miss_rate": 0.2}))
    assert not any(k.startswith("_derived") for k in vars(inv))
    with pytest.raises(BlastRadiusError, match="expected an Inventory or an Analysis"):
        analysis_of("inventories/acme")  # type: ignore[arg-type]


def test_a_what_if_copy_of_a_connector_is_never_answered_from_the_index() -> None:
    inv = load_inventory(ACME)
    index = Analysis(inv).scope
    conn = inv.connector_by_id["finance-warehouse"]
    wider: Connector = conn.model_copy(update={"row_limit": None, "allowed_tables": None})
    data, people = inv.datasets_by_system[conn.system], inv.people_by_system[conn.system]
    for tool in conn.tools:
        assert index.tool_reach(conn, tool) == tool_reach(conn, tool, data, people)
        assert index.tool_reach(wider, tool) == tool_reach(wider, tool, data, people)


def test_the_simulation_plans_every_usable_action_from_the_same_reach() -> None:
    from blastradius.simulate import failure_paths, simulate_failures

    inv = load_inventory(ACME)
    analysis = Analysis(inv)
    paths = failure_paths(analysis)
    for p in inv.plugins:
        usable = [act for act in analysis.reach(p).actions if act.status in USABLE]
        rows = paths[(paths.plugin == p.id) & (paths.failure_class != "wrong_output")]
        assert sorted(rows.path) == sorted(f"{act.connector}.{act.action.value}" for act in usable)
        for act in usable:
            row = rows[rows.path == f"{act.connector}.{act.action.value}"].iloc[0]
            assert row.status == act.status.value and row.tools == ", ".join(act.usable_tools)
    a = simulate_failures(analysis, trials=200, seed=9)
    b = simulate_failures(inv, trials=200, seed=9)
    assert (a.records == b.records).all() and (a.people == b.people).all()


def test_a_what_if_copy_of_a_tool_never_poisons_the_index() -> None:
    inv = load_inventory(ACME)
    index = Analysis(inv).scope
    conn = inv.connector_by_id["finance-warehouse"]
    real = conn.tools[0]
    copy = real.model_copy(update={"targets": ("no-such-table",)})
    data, people = inv.datasets_by_system[conn.system], inv.people_by_system[conn.system]
    assert index.tool_reach(conn, copy) == tool_reach(conn, copy, data, people)
    index.selection(conn, real)  # as the scorer and the rules ask
    assert index.tool_reach(conn, real) == tool_reach(conn, real, data, people)
    assert index.tool_reach(conn, copy) == tool_reach(conn, copy, data, people)


def test_an_analysis_answers_a_what_if_plugin_as_given() -> None:
    inv = load_inventory(ACME)
    analysis = Analysis(inv)
    real = inv.plugin_by_id["ap-autopilot"]
    blocked = real.model_copy(update={"blocked": tuple(f"{c}.*" for c in real.connector_ids)})
    assert analysis.reach(blocked).total().records == 0 == plugin_reach(inv, blocked).total().records
    assert analysis.reach(real).total().records == plugin_reach(inv, real).total().records > 0


def test_settings_given_to_an_analysis_are_kept_by_what_is_derived_from_it() -> None:
    from blastradius.simulate import compare

    inv = load_inventory(ACME)
    analysis = Analysis(
        inv, weights={"gate_miss_rate": 0.3}, assumptions={"controls": {"approval_gate_catch_rate": 0.5}}
    )
    other = analysis.with_settings(assumptions={"controls": {"approval_gate_catch_rate": 0.6}})
    assert other.weights.gate_miss_rate == 0.3 and other.assumptions.controls.approval_gate_catch_rate == 0.6
    kept = compare(analysis, inv, trials=200, seed=3)
    given = compare(inv, inv, {"controls": {"approval_gate_catch_rate": 0.5}}, trials=200, seed=3)
    default = compare(inv, inv, trials=200, seed=3)
    cols = ["baseline_mean", "controlled_mean"]
    assert kept[cols].equals(given[cols])  # the analysis's own assumptions, not the inventory's defaults
    assert not kept["baseline_mean"].equals(default["baseline_mean"])


def test_the_bulk_write_threshold_has_one_default() -> None:
    from blastradius.domain import BULK_WRITE_FAN_OUT
    from blastradius.settings import default_weights

    assert default_weights().bulk_write_fan_out == BULK_WRITE_FAN_OUT


def test_a_row_limit_above_the_stand_in_never_raises_a_score_or_a_simulated_bound(tmp_path: Path) -> None:
    from blastradius.levers import with_row_limit
    from blastradius.simulate import failure_paths

    files = mini_inventory()
    for ds in files["systems.yaml"]["systems"][0]["datasets"]:
        ds.pop("records", None)  # no size given anywhere
    inv = load_inventory(write_inventory(tmp_path, files))
    unlimited = inv.replace(
        connectors=[
            c.model_copy(update={"row_limit": None}) if c.id == "finance-warehouse" else c for c in inv.connectors
        ]
    )
    limited = with_row_limit(unlimited, "finance-warehouse", 5_000_000)
    before = score_plugins(unlimited).set_index("plugin")
    after = score_plugins(limited).set_index("plugin")
    assert (after.blast_radius <= before.blast_radius + 1e-9).all()
    assert (after.unbounded_datasets <= before.unbounded_datasets).all()
    bounds = ["records_bound", "records_cap", "expected_records"]
    p0 = failure_paths(unlimited).set_index(["plugin", "path"])[bounds].fillna(0)
    p1 = failure_paths(limited).set_index(["plugin", "path"])[bounds].fillna(0)
    assert (p1 <= p0 + 1e-6).all().all()


@pytest.mark.parametrize("inventory", [ACME, ACME_GOVERNED], ids=["acme", "acme-governed"])
def test_taking_a_connector_or_a_tool_away_never_raises_a_score_or_an_expected_loss(inventory: Path) -> None:
    from blastradius.levers import with_tool_blocked
    from blastradius.simulate import failure_paths

    inv = load_inventory(inventory)
    scores = score_plugins(inv).set_index("plugin").blast_radius
    expected = failure_paths(inv).groupby("plugin")[["expected_records", "expected_people"]].sum()
    for p in inv.plugins:
        changed = [without_connector(inv, p.id, cid) for cid in dict.fromkeys(p.connector_ids)]
        changed += [with_tool_blocked(inv, p.id, f"{cid}.*") for cid in dict.fromkeys(p.connector_ids)]
        for after in changed:
            assert score_plugins(after).set_index("plugin").blast_radius[p.id] <= scores[p.id] + 1e-9, p.id
            paths = failure_paths(after)
            got = paths[paths.plugin == p.id][["expected_records", "expected_people"]].sum()
            assert (got <= expected.loc[p.id] * (1 + 1e-12) + 1e-9).all(), p.id


def test_a_tool_of_unknown_action_reaches_at_least_what_a_write_to_the_same_tables_reaches() -> None:
    from blastradius.model import Connector, Dataset, PeopleGroup, Tool

    conn = Connector(id="hr", access="read-write")
    data = [Dataset(id="employees", records=4_000, columns={"name": "pii"})]
    people = [PeopleGroup(id="staff", kind="employees", count=4_000, dataset="employees")]
    write = tool_reach(conn, Tool(name="w", action="write", targets=("employees",)), data, people)
    unknown = tool_reach(conn, Tool(name="u", action="unknown", targets=("employees",)), data, people)
    assert [g.id for g in write.people] == [g.id for g in unknown.people] == ["staff"]
    index = ScopeIndex(Inventory(connectors=(conn,), datasets=tuple(data), people=tuple(people)))
    assert index.tool_reach(conn, Tool(name="u", action="unknown", targets=("employees",))) == unknown


def test_a_read_scores_only_the_people_of_the_sensitive_tables_it_reads(tmp_path: Path) -> None:
    files = mini_inventory()
    del files["policies/finance-warehouse.json"]  # every table readable
    files["connectors.yaml"]["connectors"][0]["access"] = "read-only"
    warehouse = files["systems.yaml"]["systems"][0]
    for ds in warehouse["datasets"]:
        if ds["id"] == "employees":
            ds["columns"] = {"title": "internal"}  # the staff table is not sensitive
    inv = load_inventory(write_inventory(tmp_path, files))
    read = next(a for a in action_scores(inv)[0].actions if a.action is ActionClass.READ)
    assert "staff" in read.people_groups  # the read touches them (a figure) ...
    without_people = inv.replace(people=[g for g in inv.people if g.id != "staff"])
    same = next(
        a
        for a in action_scores(without_people)[0].actions
        if a.action is ActionClass.READ and a.connector == read.connector
    )
    assert read.reach == same.reach  # ... but they do not add to its leak: their records are not sensitive


@pytest.mark.parametrize("inventory", [ACME, ACME_GOVERNED], ids=["acme", "acme-governed"])
def test_explain_counts_each_size_not_given_once_as_the_score_table_does(inventory: Path) -> None:
    from blastradius.explain import explain_plugin

    inv = load_inventory(inventory)
    table = score_plugins(inv).set_index("plugin")
    for p in inv.plugins:
        assert explain_plugin(inv, p.id).unknowns == table.unknowns[p.id], p.id


@pytest.mark.parametrize("inventory", [ACME, ACME_GOVERNED], ids=["acme", "acme-governed"])
def test_gating_blocking_read_only_or_removing_a_connector_never_raises_the_displayed_autonomy(inventory: Path) -> None:
    from blastradius.levers import with_approval_gate, with_read_only, with_tool_blocked

    inv = load_inventory(inventory)
    autonomy = score_plugins(inv).set_index("plugin").autonomy
    for p in inv.plugins:
        for cid in dict.fromkeys(p.connector_ids):
            for tool in inv.connector_by_id[cid].tools:
                for lever in (with_approval_gate, with_tool_blocked):
                    after = score_plugins(lever(inv, p.id, f"{cid}.{tool.name}")).set_index("plugin").autonomy
                    assert after[p.id] <= autonomy[p.id] + 1e-12, (p.id, lever.__name__, cid, tool.name)
            # taking the connector away, or making it read-only, never raises it either (it is a count of actions)
            for changed in (without_connector(inv, p.id, cid), with_read_only(inv, cid)):
                after = score_plugins(changed).set_index("plugin").autonomy
                assert (after <= autonomy.loc[after.index] + 1e-12).all(), (p.id, cid)
