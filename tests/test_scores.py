"""Scores, explanations and levers: the figures, the invariants, and the example's story."""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blastradius import ConfigError, InventoryError, load_inventory
from blastradius.analysis import Analysis
from blastradius.domain import untrusted_inputs
from blastradius.explain import approval_prompt, explain_plugin, format_explanation
from blastradius.levers import (
    WidenedAccessError,
    access_changes,
    recommend,
    recommendations,
    with_allowed_tables,
    with_approval_gate,
    with_connector_split,
    with_denied_columns,
    with_read_only,
    with_row_limit,
    with_tool_blocked,
    without_connector,
)
from blastradius.model import ActionClass, Connector, Inventory, Plugin, Team, Tool
from blastradius.reach import ScopeIndex, ToolStatus, plugin_reach, tool_reach, tool_status, tool_statuses
from blastradius.scores import Scorer, action_scores, is_high_impact, load_weights, score_plugin, score_plugins

from conftest import ACME, ACME_GOVERNED, mini_inventory, write_inventory
from strategies import inventories

W = load_weights()


# --- the figures, by hand ------------------------------------------------------------------------


def test_a_gated_send_scores_capability_times_reach_times_autonomy(mini: Path) -> None:
    ps = score_plugin(load_inventory(mini), "outreach")
    send = next(a for a in ps.actions if a.action is ActionClass.SEND)
    # send weight 4, immediate x1, fan-out 2,310 -> 1 + 0.5 log10(2310), leaves the org x1.5
    capability = 4.0 * (1 + 0.5 * math.log10(2310)) * 1.5
    reach = math.log10(1) + math.log10(1 + 2310 * 1.0)  # no records, 2,310 external people
    assert send.capability == pytest.approx(capability)
    assert send.reach == pytest.approx(reach)
    assert send.autonomy == pytest.approx(0.2) and send.status is ToolStatus.GATED
    # outreach reads an inbox (untrusted content): its actions count twice
    assert ps.untrusted_inputs == ("email.read_inbox",) and send.untrusted_factor == ps.untrusted_factor == 2.0
    assert send.blast_radius == pytest.approx(capability * reach * 0.2 * 2.0)
    assert send.failure_class == "wrong_action" and send.high_impact and send.irreversible


def test_reads_count_sensitive_records_times_the_way_out(tmp_path: Path) -> None:
    files = mini_inventory()
    files["plugins.yaml"]["plugins"][1]["output"] = "internal"  # its only way out is then the gated send
    inv = load_inventory(write_inventory(tmp_path, files))
    fin = score_plugin(inv, "fin-analyst")
    read = next(a for a in fin.actions if a.action is ActionClass.READ)
    # deals capped at 50,000 rows (financial, x3) + forecasts 800 (confidential, x2); regions is internal
    weighted = 50_000 * 3.0 + 800 * 2.0
    assert read.reach == pytest.approx(math.log10(1 + weighted))
    assert read.sensitive_records == 50_800 and read.reach_records == 50_812
    assert fin.way_out == "no channel out of the organisation"
    assert read.autonomy == pytest.approx(0.3)  # ungated read x internal leak factor
    # outreach can send out, but only through a gate (miss rate 0.2): colleagues seeing the data stays the more
    # open way, so the gated channel does not lower the read's leak below the internal factor
    outreach = score_plugin(inv, "outreach")
    out_read = next(a for a in outreach.actions if a.action is ActionClass.READ and a.connector == "finance-warehouse")
    assert out_read.autonomy == pytest.approx(0.3)
    assert outreach.way_out == "colleagues inside the organisation (no channel out is more open)"
    # ungated, the send is the way out and the read leaks in full
    ungated = inv.replace(
        plugins=[p.model_copy(update={"requires_approval": ()}) if p.id == "outreach" else p for p in inv.plugins]
    )
    free = score_plugin(ungated, "outreach")
    assert free.way_out.startswith("email.send_campaign")
    assert next(a for a in free.actions if a.action is ActionClass.READ).autonomy == pytest.approx(1.0)


def test_wrong_output_follows_audience_and_review_tier(tmp_path: Path) -> None:
    files = mini_inventory()
    files["plugins.yaml"]["plugins"][1].update(output_audience=99, review_tier=2)
    ps = score_plugin(load_inventory(write_inventory(tmp_path, files)), "outreach")
    assert ps.output.blast_radius == pytest.approx(2.0 * 2.0 * math.log10(100) * 0.4)  # untrusted input: not output
    assert ps.by_class["wrong_output"] == pytest.approx(ps.output.blast_radius)


# --- untrusted input ---------------------------------------------------------------------------


def _trusting(inv: Inventory) -> Inventory:
    """``inv`` with no tool marked as taking in untrusted content."""
    return inv.replace(
        connectors=[
            c.model_copy(update={"tools": tuple(t.model_copy(update={"untrusted_content": False}) for t in c.tools)})
            for c in inv.connectors
        ]
    )


def test_untrusted_input_multiplies_wrong_action_and_leakage_by_the_factor(mini: Path) -> None:
    inv = load_inventory(mini)
    untrusted, trusted = score_plugin(inv, "outreach"), score_plugin(_trusting(inv), "outreach")
    factor = W.untrusted_input_factor
    assert factor > 1 and untrusted.untrusted_inputs == ("email.read_inbox",) and untrusted.untrusted_factor == factor
    assert trusted.untrusted_inputs == () and trusted.untrusted_factor == 1.0
    for a, b in zip(untrusted.actions, trusted.actions, strict=True):  # every action, by exactly the factor
        assert a.blast_radius == b.blast_radius * factor and a.untrusted_factor == factor
        assert (a.capability, a.reach, a.autonomy) == (b.capability, b.reach, b.autonomy)  # the factors it shows
    for failure_class in ("wrong_action", "data_leakage"):
        assert trusted.by_class[failure_class] > 0
        assert untrusted.by_class[failure_class] == pytest.approx(trusted.by_class[failure_class] * factor, rel=1e-12)
    assert untrusted.by_class["wrong_output"] == trusted.by_class["wrong_output"]  # not its output
    # a plugin with no untrusted input keeps its score
    assert score_plugin(inv, "fin-analyst") == score_plugin(_trusting(inv), "fin-analyst")
    row = score_plugins(inv).set_index("plugin").loc["outreach"]
    assert (row.untrusted_inputs, row.untrusted_factor) == (1, factor)
    assert row.wrong_action == pytest.approx(untrusted.by_class["wrong_action"], rel=1e-12)


def test_blocking_the_untrusted_tool_drops_the_factor_and_gating_it_does_not(mini: Path) -> None:
    inv = load_inventory(mini)
    before = score_plugin(inv, "outreach")
    blocked = score_plugin(with_tool_blocked(inv, "outreach", "email.read_inbox"), "outreach")
    assert blocked.untrusted_inputs == () and blocked.untrusted_factor == 1.0
    send_before, send_after = (next(a for a in ps.actions if a.action is ActionClass.SEND) for ps in (before, blocked))
    assert send_after.blast_radius * W.untrusted_input_factor == send_before.blast_radius
    assert blocked.by_class["wrong_action"] < before.by_class["wrong_action"]
    assert blocked.by_class["data_leakage"] < before.by_class["data_leakage"]
    assert blocked.blast_radius < before.blast_radius
    # a gate leaves the content coming in: the factor stays, and the read's own autonomy falls
    gated = score_plugin(with_approval_gate(inv, "outreach", "email.read_inbox"), "outreach")
    assert gated.untrusted_factor == W.untrusted_input_factor
    assert gated.blast_radius <= before.blast_radius


def test_the_factor_is_a_weight_and_never_below_one(mini: Path) -> None:
    inv = load_inventory(mini)
    loud = score_plugin(inv, "outreach", weights={"untrusted_input_factor": 10.0})
    assert loud.untrusted_factor == 10.0
    assert loud.by_class["wrong_action"] == pytest.approx(
        score_plugin(_trusting(inv), "outreach").by_class["wrong_action"] * 10.0
    )
    with pytest.raises(ConfigError, match=r"untrusted_input_factor: input should be greater than or equal to 1"):
        load_weights({"untrusted_input_factor": 0.5})


def _synthetic() -> Inventory:
    from blastradius.synth import write_enterprise

    tmp = Path(tempfile.mkdtemp())
    return load_inventory(
        write_enterprise(tmp / "a", seed=3, people=3000, plugins=80, connectors=30, systems=15, datasets=600)
    )


@pytest.mark.parametrize("which", ["acme", "acme-governed", "synthetic"])
def test_the_lethal_trifecta_rule_and_the_score_agree_on_untrusted_input(which: str) -> None:
    from blastradius.rules import lint
    from blastradius.scores import NO_WAY_OUT

    inv = {"acme": lambda: load_inventory(ACME), "acme-governed": lambda: load_inventory(ACME_GOVERNED)}.get(
        which, _synthetic
    )()
    scores = {ps.plugin: ps for ps in action_scores(inv)}
    findings = lint(inv, rules=["BR116", "BR117"])
    untrusted = {p for p, ps in scores.items() if ps.untrusted_inputs}
    assert untrusted, "the example reads no untrusted content"
    for f in findings:  # a rule on untrusted input fires only where the score sees it, naming the same tools
        ps = scores[f.subject]
        assert f.subject in untrusted and ps.untrusted_factor == W.untrusted_input_factor, (f.rule, f.subject)
        assert f.evidence[0].detail == "untrusted: " + ", ".join(ps.untrusted_inputs[:3]), (f.rule, f.subject)
    # BR116 fires on exactly the plugins the score multiplies that can also leak sensitive data through a way out
    trifecta = {f.subject for f in findings if f.rule == "BR116"}
    assert trifecta == {
        p for p in untrusted if scores[p].by_class["data_leakage"] > 0 and scores[p].way_out != NO_WAY_OUT
    }
    assert all(scores[p].untrusted_factor == 1.0 for p in set(scores) - untrusted)


def test_every_default_weight_says_where_it_comes_from_and_mirrors_the_simulation() -> None:
    from blastradius.settings import default_assumptions

    notes = W.provenance
    leaves = set(notes)
    assert "untrusted_input_factor" in leaves and "review_miss_rate.2" in leaves and len(leaves) >= 40
    for path, note in notes.items():
        assert note.source, path
    a = default_assumptions()
    mirrored = {
        "gate_miss_rate": ("controls.approval_gate_catch_rate", lambda x: 1 - x),
        "leak_internal_factor": ("controls.internal_exposure_share", lambda x: x),
        "untrusted_input_factor": ("untrusted_input.rate_factor", lambda x: x),
        **{f"review_miss_rate.{k}": (f"controls.review_catch_rate.{k}", lambda x: 1 - x) for k in ("1", "2", "3")},
    }
    values = {
        "controls.approval_gate_catch_rate": a.controls.approval_gate_catch_rate,
        "controls.internal_exposure_share": a.controls.internal_exposure_share,
        "untrusted_input.rate_factor": a.untrusted_input.rate_factor,
        **{f"controls.review_catch_rate.{k}": a.controls.review_catch(int(k)) for k in ("1", "2", "3")},
    }
    weight = {
        "gate_miss_rate": W.gate_miss_rate,
        "leak_internal_factor": W.leak_internal_factor,
        "untrusted_input_factor": W.untrusted_input_factor,
        **{f"review_miss_rate.{k}": W.review_miss(int(k)) for k in ("1", "2", "3")},
    }
    for path, (other, convert) in mirrored.items():
        assert weight[path] == pytest.approx(convert(values[other])), path
        ours, theirs = notes[path].range, a.provenance[other].range
        assert ours is not None and theirs is not None, path
        assert sorted(ours) == pytest.approx(sorted(convert(x) for x in theirs)), path
    assert W.review_miss(None) == 1 - a.controls.review_catch(None) == 1.0
    # a stand-in for a size not given is uncertain: it has a range; a convention of the score has its reasoning
    for path in ("unknown_dataset_records", "unknown_people_count", "unknown_output_audience"):
        assert notes[path].range is not None, path
    for group in ("action_weights", "classification_weights", "people_weights", "reversibility", "lever_cost"):
        for path in (p for p in notes if p.startswith(group + ".")):
            assert notes[path].source.startswith("judgement: ") and notes[path].range is None, path


def test_score_table_has_the_documented_columns_and_adds_up(mini: Path) -> None:
    df = score_plugins(load_inventory(mini))
    for col in ("plugin", "capability", "reach_records", "reach_people", "autonomy", "blast_radius"):
        assert col in df.columns
    assert (df.blast_radius == df.wrong_action + df.data_leakage + df.wrong_output).all()
    assert list(df.blast_radius) == sorted(df.blast_radius, reverse=True)
    assert df.index[0] == 1


def test_unknowns_are_counted_and_scored_conservatively(tmp_path: Path) -> None:
    files = mini_inventory()
    files["connectors.yaml"]["connectors"][1]["tools"].append({"name": "mystery", "action": "unknown"})
    del files["systems.yaml"]["systems"][1]["people"][0]["count"]
    inv = load_inventory(write_inventory(tmp_path, files))
    row = score_plugins(inv).set_index("plugin").loc["outreach"]
    assert row.unknowns >= 2  # the contact list's size and the output audience
    assert row.reach_people == 0  # a size not given is never made up in a figure: it is counted as unknown ...
    known = score_plugins(load_inventory(write_inventory(tmp_path / "known", mini_inventory()))).set_index("plugin")
    send = next(a for a in score_plugin(inv, "outreach").actions if a.action is ActionClass.SEND)
    known_send = next(
        a for a in score_plugin(load_inventory(tmp_path / "known"), "outreach").actions if a.action is ActionClass.SEND
    )
    assert send.reach > known_send.reach  # ... and scored at the stand-in (10,000 > 2,310 contacts)
    assert known.reach_people["outreach"] == 2_310
    mystery = next(a for a in score_plugin(inv, "outreach").actions if a.action is ActionClass.UNKNOWN)
    assert W.action_weights[ActionClass.UNKNOWN] == max(W.action_weights.values())
    assert mystery.capability >= W.action_weights[ActionClass.UNKNOWN]
    assert mystery.high_impact and mystery.blast_radius > 0


def test_weights_can_be_overridden_from_a_file(mini: Path, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("gate_miss_rate: 0.5\n")
    inv = load_inventory(mini)
    base = score_plugins(inv).set_index("plugin").blast_radius["outreach"]
    loose = score_plugins(inv, weights=path).set_index("plugin").blast_radius["outreach"]
    assert loose > base


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gate_miss_rate: 2\n", r"w\.yaml:1: gate_miss_rate: input should be less than or equal to 1"),
        (
            "gate_mis_rate: 0.2\n",
            r"w\.yaml:1: gate_mis_rate: unknown key 'gate_mis_rate' \(did you mean 'gate_miss_rate'\?\)",
        ),
        (
            "action_weights:\n  sned: 3\n",
            r"w\.yaml:2: action_weights\.sned: 'sned' is not allowed here.*did you mean 'send'",
        ),
        ("[1, 2]\n", r"w\.yaml:1: expected a mapping of settings, got a list"),
        ("gate_miss_rate: [\n", r"w\.yaml:2: invalid YAML"),
    ],
)
def test_a_bad_weights_file_says_where(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "w.yaml").write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_weights(tmp_path / "w.yaml")


# --- explanations --------------------------------------------------------------------------------


def test_the_seed_approval_prompt() -> None:
    inv = load_inventory(ACME_GOVERNED)
    conn = inv.connector_by_id["email-campaigns"]
    assert approval_prompt(inv, conn, conn.tool("send_bulk_email")).startswith("This will email 2,310 contacts")


def test_explanation_paths_add_up_and_read_as_sentences() -> None:
    inv = load_inventory(ACME)
    e = explain_plugin(inv, "ap-autopilot")
    assert sum(p.contribution for p in e.paths) == pytest.approx(e.blast_radius)
    top = e.paths[0]
    assert (top.connector, top.action) == ("payments", "pay")
    assert "with no human approval" in top.sentence and "irreversibly" in top.sentence
    text = format_explanation(inv, e)
    assert "Where it comes from, largest first" in text and "payments" in text


def test_every_gated_action_gets_a_prompt() -> None:
    inv = load_inventory(ACME_GOVERNED)
    e = explain_plugin(inv, "renewal-campaigns")
    prompts = dict(e.prompts)
    assert prompts["email-campaigns.send_bulk_email"].startswith("This will email 2,310 contacts")
    for pid in inv.plugin_by_id:
        for tool, prompt in explain_plugin(inv, pid).prompts:
            assert prompt.startswith("This will "), (pid, tool)


# --- levers --------------------------------------------------------------------------------------


def test_levers_return_a_changed_copy_and_leave_the_original(mini: Path) -> None:
    inv = load_inventory(mini)
    before = inv.model_dump()
    changed = with_read_only(with_approval_gate(inv, "fin-analyst", "read"), "email")
    assert inv.model_dump() == before
    assert changed.connector_by_id["email"].access.value == "read-only"
    assert "read" in changed.plugin_by_id["fin-analyst"].requires_approval


def test_lever_arguments_are_checked(mini: Path) -> None:
    from blastradius import BlastRadiusError

    inv = load_inventory(mini)
    with pytest.raises(BlastRadiusError, match=r"no plugin 'outreech'.*did you mean 'outreach'"):
        with_approval_gate(inv, "outreech", "send")
    with pytest.raises(BlastRadiusError, match=r"does not use connector 'email'"):
        with_tool_blocked(inv, "fin-analyst", "email.send_campaign")
    with pytest.raises(BlastRadiusError, match=r"row limit must be at least 1"):
        with_row_limit(inv, "email", 0)


def test_split_gives_each_department_its_own_narrower_connector(mini: Path) -> None:
    inv = load_inventory(mini)
    split = with_connector_split(inv, "finance-warehouse")
    assert "finance-warehouse" not in split.connector_by_id
    sales = split.connector_by_id["finance-warehouse-sales"]
    assert [t.name for t in sales.tools] == ["query"]  # outreach is given only the query tool
    assert split.plugin_by_id["outreach"].connector_ids == ("email", "finance-warehouse-sales")
    assert not [c for c in access_changes(inv, split) if c.widens]
    assert set(score_plugins(split).plugin) == {"fin-analyst", "outreach"}


def test_a_lever_that_widened_access_would_be_refused(mini: Path) -> None:
    inv = load_inventory(mini)
    wider = inv.replace(connectors=[c.model_copy(update={"row_limit": None}) for c in inv.connectors])
    assert any(c.widens and c.what == "more rows" for c in access_changes(inv, wider))
    assert issubclass(WidenedAccessError, Exception)


# --- invariants over generated inventories ------------------------------------------------------

INVARIANTS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(files):
    tmp = tempfile.mkdtemp()
    return load_inventory(write_inventory(Path(tmp), files))


def _br(inv) -> dict[str, float]:
    return {ps.plugin: ps.blast_radius for ps in action_scores(inv)}


def _selectors(inv, plugin):
    p = inv.plugin_by_id[plugin]
    out = [a.value for a in ActionClass]
    for cid in p.connector_ids:
        out += [f"{cid}.{t.name}" for t in inv.connector_by_id[cid].tools] + [f"{cid}.*"]
    return out


@INVARIANTS
@given(files=inventories(), data=st.data())
def test_a_gate_or_a_block_never_raises_any_blast_radius(files, data) -> None:
    inv = _load(files)
    plugin = data.draw(st.sampled_from(sorted(inv.plugin_by_id)))
    selector = data.draw(st.sampled_from(_selectors(inv, plugin)))
    before = _br(inv)
    for lever in (with_approval_gate, with_tool_blocked):
        after = _br(lever(inv, plugin, selector))
        for pid in before:
            assert after[pid] <= before[pid] + 1e-9, (lever.__name__, pid)


@st.composite
def inventories_with_untrusted_inputs(draw: st.DrawFn) -> dict:
    """:func:`inventories` with some tools marked as taking in untrusted content."""
    files = draw(inventories())
    for conn in files["connectors.yaml"]["connectors"]:
        for tool in conn["tools"]:
            tool["untrusted_content"] = draw(st.booleans())
    return files


@INVARIANTS
@given(files=inventories_with_untrusted_inputs(), data=st.data())
def test_a_gate_or_a_block_never_raises_a_score_with_untrusted_input(files, data) -> None:
    inv = _load(files)
    plugin = data.draw(st.sampled_from(sorted(inv.plugin_by_id)))
    selector = data.draw(st.sampled_from(_selectors(inv, plugin)))
    before = score_plugins(inv).set_index("plugin")
    for lever in (with_approval_gate, with_tool_blocked):
        after = score_plugins(lever(inv, plugin, selector)).set_index("plugin").reindex(before.index)
        for column in ("blast_radius", "wrong_action", "data_leakage", "wrong_output", "untrusted_factor"):
            assert (after[column] <= before[column] + 1e-9).all(), (lever.__name__, column)
        assert (after.untrusted_inputs <= before.untrusted_inputs).all()


@INVARIANTS
@given(files=inventories(), data=st.data())
def test_a_read_only_connector_leaves_no_write_reach(files, data) -> None:
    inv = _load(files)
    conn = data.draw(st.sampled_from(sorted(inv.connector_by_id)))
    after = with_read_only(inv, conn)
    for ps in action_scores(after):
        for a in ps.actions:
            if a.connector == conn and a.action is not ActionClass.READ:
                assert a.reach_records == a.reach_people == 0 and a.blast_radius == 0
                assert a.status is ToolStatus.UNUSABLE or not a.tools


@INVARIANTS
@given(files=inventories(), data=st.data())
def test_removing_a_connector_table_or_column_never_widens_reach(files, data) -> None:
    inv = _load(files)
    conn_id = data.draw(st.sampled_from(sorted(inv.connector_by_id)))
    conn = inv.connector_by_id[conn_id]
    tables = [d.table_name for d in inv.datasets_by_system.get(conn.system, ())]
    columns = sorted({c.name for d in inv.datasets_by_system.get(conn.system, ()) for c in d.columns})
    changed = []
    users = [p for p in inv.plugins if conn_id in p.connector_ids]
    if users:
        changed.append(without_connector(inv, users[0].id, conn_id))
    if tables:
        changed.append(with_allowed_tables(inv, conn_id, tables[1:]))
    if columns:
        changed.append(with_denied_columns(inv, conn_id, [data.draw(st.sampled_from(columns))]))
    changed.append(with_row_limit(inv, conn_id, data.draw(st.integers(1, 10**7))))  # also above the stand-in size
    before = score_plugins(inv).set_index("plugin")
    for after_inv in changed:
        assert not [c for c in access_changes(inv, after_inv) if c.widens]
        after = score_plugins(after_inv).set_index("plugin").reindex(before.index)
        # records are a lower bound while some dataset is unbounded: a row limit may bound it (fewer unbounded, more
        # records counted), and otherwise never adds a record
        fewer_unbounded = after.unbounded_datasets < before.unbounded_datasets
        assert (after.unbounded_datasets <= before.unbounded_datasets).all()
        assert (fewer_unbounded | (after.reach_records <= before.reach_records)).all()
        assert (after.reach_people <= before.reach_people).all()
        assert (after.blast_radius <= before.blast_radius + 1e-9).all()


@INVARIANTS
@given(files=inventories(), data=st.data())
def test_gating_every_high_impact_action_scores_below_ungated(files, data) -> None:
    inv = _load(files)
    plugin = data.draw(st.sampled_from(sorted(inv.plugin_by_id)))
    ps = score_plugin(inv, plugin)
    gated = inv
    p = inv.plugin_by_id[plugin]
    from blastradius.reach import tool_status

    for cid in p.connector_ids:
        conn = inv.connector_by_id[cid]
        for tool in conn.tools:
            if is_high_impact(tool, weights=W) and tool_status(p, conn, tool)[0] is ToolStatus.UNGATED:
                gated = with_approval_gate(gated, plugin, f"{cid}.{tool.name}")
    after = score_plugin(gated, plugin).blast_radius
    assert after <= ps.blast_radius + 1e-9
    if any(a.high_impact and a.status is ToolStatus.UNGATED and a.blast_radius > 0 for a in ps.actions):
        assert after < ps.blast_radius


@INVARIANTS
@given(files=inventories(), seed=st.integers(0, 2**32))
def test_scores_do_not_depend_on_the_order_of_files_and_entries(files, seed) -> None:
    rng = random.Random(seed)
    shuffled = {}
    for doc in files.values():
        for section, entries in doc.items():
            entries = list(entries)
            rng.shuffle(entries)
            for i, entry in enumerate(entries):  # one entry per file, in random file order
                shuffled[f"{rng.random():.12f}-{section}-{i}.yaml"] = {section: [entry]}
    a = score_plugins(_load(files))
    b = score_plugins(_load(shuffled))
    pd.testing.assert_frame_equal(a, b)


# --- the example's story -----------------------------------------------------------------------


def test_acme_ranking_puts_ungated_high_impact_plugins_first() -> None:
    df = score_plugins(load_inventory(ACME))
    # the top 8; privacy-dsar, 9th, reads untrusted requests and can leak what it finds, with no ungated
    # high-impact action
    assert (df.head(8).ungated_high_impact > 0).all()
    with_ungated = df.index[df.ungated_high_impact > 0]
    without = df.index[df.ungated_high_impact == 0]
    assert with_ungated.to_series().mean() < without.to_series().mean()
    # the lethal trifecta: support-autoresponder reads outside tickets and answers 164,000 customers unreviewed
    assert set(df.head(3).plugin) == {"ap-autopilot", "support-autoresponder", "renewal-campaigns"}


def test_acme_governed_scores_lower_wherever_a_plugin_changed() -> None:
    acme, gov = load_inventory(ACME), load_inventory(ACME_GOVERNED)
    before = score_plugins(acme).set_index("plugin").blast_radius
    after = score_plugins(gov).set_index("plugin").blast_radius.reindex(before.index)
    changed = [pid for pid in before.index if access_changes(acme, gov, [pid])]
    assert len(changed) >= 15
    assert (after <= before + 1e-9).all()
    actions_before = score_plugins(acme).set_index("plugin").eval("wrong_action + data_leakage")
    for pid in changed:
        if actions_before[pid] > 0:  # a plugin that reaches nothing sensitive and writes nothing scores 0 either way
            assert after[pid] < before[pid], pid
    assert after.sum() < before.sum() / 4


def test_recommend_proposes_the_steps_that_lead_to_acme_governed() -> None:
    inv = load_inventory(ACME)
    df = recommend(inv, min_reduction_pct=0.0)
    levers = set(df.lever)
    for expected in (
        "gate pay on ap-autopilot: payments.release_payment_batch",
        "gate delete on crm-hygiene: crm.mass_delete_records",
        "gate send on renewal-campaigns: email.send_email, email.send_bulk_email",
        "make company-data read-only",
        "limit company-data to 10,000 rows per query",
    ):
        assert expected in levers, expected
    assert any(lv.startswith("mask personal columns on crm") for lv in levers)
    assert (df.reduction > 0).all() and (df.after < df.before).all()
    # the decision's rule: the Pareto front of risk removed against uses lost first, least collateral first; the
    # largest control that loses nothing a team uses (a gate here) leads
    assert (
        df.lever.iloc[0] == "gate send on support-autoresponder: ticketing.reply_to_ticket, ticketing.bulk_macro_reply"
    )
    assert df.on_front.iloc[0] and df.uses_lost.iloc[0] == 0
    no_regret = df[df.uses_lost == 0]
    assert (no_regret.factor != "capability").all() and "autonomy" in set(no_regret.factor)


def test_recommendations_rank_overall_and_per_plugin() -> None:
    df = recommendations(load_inventory(ACME), top=5, per_plugin=2)
    assert (df[df.scope == "overall"].shape[0]) == 5
    per_plugin = df[df.scope != "overall"]
    assert per_plugin.groupby("scope").size().max() <= 2
    first = per_plugin[per_plugin.scope == "ap-autopilot"].iloc[0]
    assert first.before == pytest.approx(
        score_plugins(load_inventory(ACME)).set_index("plugin").blast_radius["ap-autopilot"]
    )
    assert "now need a human" in first.cost and first.uses_lost == 0 and first.on_front


def test_an_inventory_can_carry_its_own_weights(tmp_path: Path) -> None:
    files = mini_inventory()
    base = score_plugins(load_inventory(write_inventory(tmp_path / "a", files))).set_index("plugin")
    files["weights.yaml"] = {"weights": {"gate_miss_rate": 0.5}}
    inv = load_inventory(write_inventory(tmp_path / "b", files))
    own = score_plugins(inv).set_index("plugin")
    assert own.blast_radius["outreach"] > base.blast_radius["outreach"]
    # an explicit file still wins over the inventory's section
    (tmp_path / "w.yaml").write_text(f"gate_miss_rate: {W.gate_miss_rate}\n")
    assert score_plugins(inv, weights=tmp_path / "w.yaml").set_index("plugin").blast_radius[
        "outreach"
    ] == pytest.approx(base.blast_radius["outreach"])


def test_a_bad_weights_section_in_an_inventory_says_where(tmp_path: Path) -> None:
    files = mini_inventory()
    files["weights.yaml"] = "weights:\n  gate_miss_rate: 0.1\n  fan_out_slop: 2\n"
    with pytest.raises(
        InventoryError,
        match=r"weights\.yaml:3: weights\.fan_out_slop: unknown key 'fan_out_slop' \(did you mean 'fan_out_slope'\?\)",
    ):
        load_inventory(write_inventory(tmp_path, files))  # at load, as validate does, not when first scored


# --- the figures do not depend on how they are computed ------------------------------------------


def test_scorers_of_one_analysis_share_their_work_and_other_analyses_start_afresh() -> None:
    inv = load_inventory(ACME)
    analysis = Analysis(inv)
    first = action_scores(analysis)
    table = score_plugins(analysis)
    assert all(a is b for a, b in zip(first, action_scores(analysis), strict=True))
    table.loc[1, "blast_radius"] = -1.0  # a caller's copy: the kept table is not touched
    assert score_plugins(analysis).loc[1, "blast_radius"] > 0
    assert all(a is not b and a == b for a, b in zip(first, action_scores(inv), strict=True))
    assert all(a is not b and a == b for a, b in zip(first, action_scores(inv.replace()), strict=True))
    assert score_plugins(inv.replace()).equals(score_plugins(analysis))
    assert not hasattr(inv, "derived") and "_derived" not in vars(inv)  # the inventory keeps nothing derived


def test_a_what_if_record_is_scored_as_given_never_from_the_cache() -> None:
    inv = load_inventory(ACME)
    scorer = Scorer(inv, weights=W)
    plugin = inv.plugin_by_id["ap-autopilot"]
    before = scorer.plugin(plugin)
    gated = plugin.model_copy(update={"requires_approval": ("payments.*",)})
    alone = scorer.plugin(gated)  # a copy, not the inventory's record
    assert alone == score_plugin(inv.replace(plugins=[gated if p.id == gated.id else p for p in inv.plugins]), gated.id)
    assert alone.blast_radius < before.blast_radius and scorer.plugin(plugin) is before
    conn = inv.connector_by_id["finance-warehouse"]
    wider = conn.model_copy(update={"row_limit": None})
    index = ScopeIndex(inv)
    datasets, people = inv.datasets_by_system[conn.system], inv.people_by_system[conn.system]
    for tool in conn.tools:
        assert index.tool_reach(wider, tool) == tool_reach(wider, tool, datasets, people)
        assert index.tool_reach(conn, tool) == tool_reach(conn, tool, datasets, people)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=inventories())
def test_scope_index_answers_as_tool_reach(files) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inv = load_inventory(write_inventory(Path(tmp), files))
    index = ScopeIndex(inv)
    for conn in inv.connectors:
        datasets = inv.datasets_by_system.get(conn.system or "", ())
        people = inv.people_by_system.get(conn.system or "", ())
        for tool in conn.tools:
            assert index.tool_reach(conn, tool) == tool_reach(conn, tool, datasets, people)


def table_from_plugin_scores(inv, weights) -> pd.DataFrame:
    """The score table added up plugin by plugin from its :class:`PluginScore` and the reference reach: what
    score_plugins must equal."""
    usable_status = (ToolStatus.UNGATED, ToolStatus.GATED)
    rows = []
    for ps in action_scores(inv, weights=weights):
        plugin = inv.plugin_by_id[ps.plugin]
        usable = [a for a in ps.actions if a.status in usable_status]
        reach = plugin_reach(inv, plugin).total()  # the reference computation of reach
        untrusted = untrusted_inputs(
            (conn, tool, tool_status(plugin, conn, tool)[0] in usable_status)
            for conn in (inv.connector_by_id[cid] for cid in dict.fromkeys(plugin.connector_ids))
            for tool in conn.tools
        )
        assert tuple(untrusted) == ps.untrusted_inputs, ps.plugin
        acts = [a for a in ps.actions if a.listed_capability > 0]  # blocked and unusable ones too, at 0
        rows.append(
            {
                "plugin": ps.plugin,
                "name": plugin.label,
                "owner": plugin.owner,
                "department": inv.department_of(plugin),
                "capability": max((a.capability for a in usable), default=0.0),
                "reach_records": reach.records,
                "reach_people": reach.people,
                # how many actions run with no human, each by the share of its capability that does
                "autonomy": sum(
                    a.capability * (a.gate_autonomy if a.status in usable_status else 0.0) / a.listed_capability
                    for a in acts
                ),
                "blast_radius": ps.blast_radius,
                **ps.by_class,
                "sensitive_records": reach.sensitive_records,
                "external_people": reach.external_people,
                "ungated_high_impact": sum(a.high_impact and a.status is ToolStatus.UNGATED for a in ps.actions),
                "gated_actions": sum(a.status is ToolStatus.GATED for a in ps.actions),
                "blocked_actions": sum(a.status is ToolStatus.BLOCKED for a in ps.actions),
                "way_out": ps.way_out,
                "untrusted_inputs": len(untrusted),
                "untrusted_factor": weights.untrusted_input_factor if untrusted else 1.0,
                "unknowns": reach.unknowns + (0 if ps.output.audience_known else 1),
                "unbounded_datasets": reach.unbounded_datasets,
                "users": sum(n for _, n in inv.users_of(plugin)),
                "runs_per_day": inv.runs_per_day(plugin),
            }
        )
    df = pd.DataFrame(rows, columns=list(score_plugins(inv, weights=weights).columns))
    df = df.sort_values(["blast_radius", "plugin"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    df.index = pd.RangeIndex(1, len(df) + 1, name="rank")
    return df


@pytest.mark.parametrize("inventory", [ACME, ACME_GOVERNED], ids=["acme", "acme-governed"])
def test_the_score_table_adds_up_the_plugin_scores(inventory: Path) -> None:
    inv = load_inventory(inventory)
    pd.testing.assert_frame_equal(score_plugins(inv), table_from_plugin_scores(inv, W), check_exact=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=inventories())
def test_the_score_table_adds_up_the_plugin_scores_of_any_inventory(files) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inv = load_inventory(write_inventory(Path(tmp), files))
    pd.testing.assert_frame_equal(score_plugins(inv), table_from_plugin_scores(inv, W), check_exact=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=inventories_with_untrusted_inputs())
def test_the_score_table_adds_up_the_plugin_scores_with_untrusted_input(files) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inv = load_inventory(write_inventory(Path(tmp), files))
    pd.testing.assert_frame_equal(score_plugins(inv), table_from_plugin_scores(inv, W), check_exact=True)


def test_an_empty_inventory_and_a_plugin_without_connectors_score_as_before() -> None:
    empty = score_plugins(Inventory())
    assert empty.empty and empty.index.name == "rank"
    assert empty.equals(table_from_plugin_scores(Inventory(), W))
    alone = Inventory(teams=(Team(id="t", headcount=3),), plugins=(Plugin(id="p", owner="t"),))
    pd.testing.assert_frame_equal(score_plugins(alone), table_from_plugin_scores(alone, W), check_exact=True)


_ACTIONS = [a.value for a in ActionClass]


@st.composite
def plugin_and_connector(draw: st.DrawFn) -> tuple[Plugin, Connector]:
    """A connector and a plugin using it (once or twice, with or without tool lists), blocks and gates of every kind."""
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True))
    conn = Connector(
        id="conn",
        access=draw(st.sampled_from(["read-only", "read-write"])),
        requires_approval=draw(st.booleans()),
        tools=[Tool(name=n, action=draw(st.sampled_from(_ACTIONS))) for n in names],
    )
    selectors = st.lists(
        st.sampled_from([*_ACTIONS, "conn.*", "other.*", "other.a", *(f"conn.{n}" for n in ["a", "b", "c", "d"])]),
        max_size=3,
    )
    some_tools = st.lists(st.sampled_from(["a", "b", "c", "x"]), max_size=3).map(
        lambda tools: {"connector": "conn", "tools": tools}
    )
    uses = draw(st.lists(st.one_of(st.just("conn"), some_tools), min_size=1, max_size=2))  # twice: only in a what-if
    plugin = Plugin(id="p", owner="t", connectors=uses, blocked=draw(selectors), requires_approval=draw(selectors))
    return plugin, conn


@settings(max_examples=300, deadline=None)
@given(case=plugin_and_connector())
def test_tool_statuses_are_tool_status_for_every_tool(case) -> None:
    plugin, conn = case
    assert tool_statuses(plugin, conn) == tuple(tool_status(plugin, conn, t)[0] for t in conn.tools)
