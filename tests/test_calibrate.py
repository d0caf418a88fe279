"""Calibration from logs: sample exports shaped as the platforms document them, a synthetic month from a known
truth, the posteriors' properties, the overlay, the findings, and bad input met without a traceback."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blastradius import load_inventory
from blastradius.calibrate import (
    CALIBRATION_RULES,
    LogError,
    appendix,
    calibrate,
    load_mapping,
    read_events,
)
from blastradius.calibrate.matching import Matcher, mcp_name, split_mcp_name
from blastradius.calibrate.observe import call_bounds
from blastradius.calibrate.stats import BetaPosterior, GammaPosterior, beta_quantile, gamma_quantile, logit
from blastradius.calibrate.synthetic import synthetic_logs
from blastradius.cli import main
from blastradius.errors import BlastRadiusError
from blastradius.overlay import apply_overlays
from blastradius.rules import lint, rule_catalog
from blastradius.settings import load_assumptions

from conftest import ACME, ROOT

DATA = ROOT / "tests" / "data" / "calibration"
CLAUDE = DATA / "claude-code-otlp.jsonl"
COWORK = DATA / "cowork-otlp.jsonl"
AUDIT = DATA / "connector-audit.jsonl"
GATEWAY = DATA / "gateway.csv"
GATEWAY_MAPPING = DATA / "gateway-mapping.yaml"
MALFORMED = DATA / "malformed-otlp.jsonl"


@pytest.fixture(scope="module")
def acme():
    return load_inventory(ACME)


@pytest.fixture(scope="module")
def samples(acme):
    return calibrate(acme, [CLAUDE, COWORK, AUDIT, MALFORMED])


def _row(cal, quantity: str, **where: str):
    df = cal.table()
    mask = df["quantity"] == quantity
    for key, value in where.items():
        mask &= df[key] == value
    rows = df[mask]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- the sample exports, as documented -----------------------------------------------------------------------


def test_sample_exports_are_read_as_the_platform_documents_them(samples) -> None:
    s = samples.observations.stats
    # 3 + 1 OTLP lines hold 16 log records: 13 tool events, and user_prompt, api_request, api_error skipped
    assert s.skipped == {"user_prompt": 1, "api_request": 1, "api_error": 1}
    assert s.events == 11 + 2 + 4 and s.records == 16 + 4  # Claude Code, Cowork, the audit log
    assert s.malformed == 2 and {p.line for p in s.problems} == {2, 3}
    assert samples.observations.window == (dt.date(2026, 10, 5), dt.date(2026, 10, 8))
    assert samples.observations.working_days == 4


def test_plugin_scoped_mcp_names_attribute_calls_to_their_plugin(samples) -> None:
    counts = samples.observations.tools[("crm-hygiene", "crm", "delete_contact")]
    assert counts.status == "gated" and counts.human_accepts == 1 and counts.calls == 1
    search = samples.observations.tools[("crm-hygiene", "crm", "search_contacts")]
    assert search.known == 2 and search.failures == 1 and search.automatic == {"config:accept": 1}
    assert samples.observations.runs[("crm-hygiene", "")] == 2
    # Cowork writes event names without the claude_code. prefix; the tool name scopes the server to its plugin
    sends = samples.observations.tools[("pipeline-review", "email", "send_email")]
    assert (sends.human_accepts, sends.calls) == (1, 1)


def test_calls_of_shared_connectors_and_unmapped_calls_are_reported(samples) -> None:
    # a decision on a user-configured server names it only in tool_parameters; crm serves several plugins
    assert samples.observations.tools[("", "crm", "delete_contact")].human_rejects == 1
    assert samples.observations.unmapped == {("builtin", "Read"): 1, ("unattributed-mcp", "mcp_tool"): 1}
    assert not samples.unmapped().empty


def test_shadow_access_and_reach_above_the_bound_are_findings(samples) -> None:
    found = {(f.rule, f.subject): f for f in samples.findings}
    assert set(found) == {("BR201", "github"), ("BR201", "crm"), ("BR202", "finance-warehouse")}
    assert "MCP server 'github' is no connector" in found[("BR201", "github")].message
    assert "lists no tool 'purge_all_contacts'" in found[("BR201", "crm")].message
    above = found[("BR202", "finance-warehouse")]
    assert "61,250 rows returned" in above.message and "bound of 50,000" in above.message
    assert above.evidence[0].path.endswith("row_limit") and above.evidence[0].line is not None
    row = _row(samples, "rows_per_call", connector="finance-warehouse", tool="run_query")
    assert row["bound"] == 50_000 and row["max_observed"] == 61_250 and row["above_bound"] == 1


def test_gate_decisions_count_human_decisions_on_gated_calls_only(samples) -> None:
    rejections = _row(samples, "gate_rejection_rate", plugin="crm-hygiene")
    assert rejections["events"] == 1 and rejections["observed"] == 0.0  # one person approved; a config accept not
    assert rejections["low"] < rejections["high"] and rejections["note"] == "human rejections of gated calls"
    approvals = _row(samples, "gate_approval_rate", plugin="crm-hygiene")
    assert approvals["events"] == 1 and approvals["observed"] == 1.0
    catch = _row(samples, "approval_gate_catch_rate", plugin="crm-hygiene")
    assert catch["events"] == 1 and catch["prior"] == 0.8 and (catch["prior_low"], catch["prior_high"]) == (0.5, 0.95)
    # one decision bounds nothing: the prior stands, with the (loose) bound shown
    assert (catch["estimate"], catch["low"], catch["high"]) == (0.8, 0.5, 0.95) and catch["bound"] == 1.0
    assert "consistent with the prior" in catch["note"]


def test_mapped_gateway_csv(acme) -> None:
    cal = calibrate(acme, [GATEWAY], mapping=GATEWAY_MAPPING)
    s = cal.observations.stats
    assert s.events == 4 and s.malformed == 1 and "more fields than the header" in s.problems[0].message
    sends = cal.observations.tools[("renewal-campaigns", "email", "send_bulk_email")]
    assert (sends.recipients_n, sends.recipients_at_bound, sends.recipients_above, sends.recipients_max) == (
        2,
        2,
        1,
        2600,
    )
    assert sends.recipients_near == 2
    row = _row(cal, "recipients_per_call", connector="email", tool="send_bulk_email")
    assert (row["bound"], row["near_bound"], row["above_bound"], row["max_observed"]) == (2310, 2, 1, 2600)
    assert [f.rule for f in cal.findings] == ["BR202"]
    assert cal.observations.tools[("renewal-campaigns", "crm", "search_contacts")].failures == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mcp__crm__search_contacts", ("ok", "renewal-campaigns", "crm", "search_contacts")),
        ("mcp__plugin_crm-hygiene_crm__delete_contact", ("ok", "crm-hygiene", "crm", "delete_contact")),
        ("mcp__plugin_crm-hygiene_crm__mass_delete_records", ("ok", "crm-hygiene", "crm", "mass_delete_records")),
        ("mcp__plugin_hr-policy-answers_crm__search_contacts", ("not-given", "hr-policy-answers", "crm", None)),
        ("mcp__finance-warehouse__run_query", ("ok", "forecast-rollup", "finance-warehouse", "run_query")),
        ("mcp__knowledge_base__update_page", ("ok", None, "knowledge_base", "update_page")),
        ("Bash", ("builtin", None, None, None)),
        ("mcp__nope__x", ("unknown-server", None, None, None)),
    ],
)
def test_mcp_names_as_claude_code_writes_them(acme, name: str, expected: tuple) -> None:
    m = Matcher(acme, plugins={"renewal-campaigns": "renewal-campaigns"}).match(name, None, None, None, None)
    if name == "mcp__crm__search_contacts":  # shared by several plugins: no plugin
        expected = ("ok", None, "crm", "search_contacts")
    assert (m.outcome, m.plugin, m.connector, m.tool if m.outcome == "ok" else None) == expected


def test_mcp_name_helpers_and_the_listed_form_of_a_plugin_server(acme) -> None:
    assert split_mcp_name("mcp__a__b__c") == ("a", "b__c")
    assert mcp_name("finance-warehouse") == "finance-warehouse"
    m = Matcher(acme).match("mcp_tool", "plugin:crm-hygiene:crm", "delete_contact", None, None)
    assert (m.plugin, m.connector, m.status.value) == ("crm-hygiene", "crm", "gated")


def test_call_bounds_follow_the_scope(acme) -> None:
    assert call_bounds(acme, "finance-warehouse", "run_query") == {
        "rows": 50_000,
        "recipients": None,
        "per_call": 50_000,
    }
    assert call_bounds(acme, "email", "send_bulk_email")["recipients"] == 2310
    assert call_bounds(acme, "crm", "search_contacts")["rows"] == 200


# --- a synthetic month from a known truth -----------------------------------------------------------------------

PLUGINS = ["crm-hygiene", "offer-letters", "renewal-campaigns", "people-analytics"]


@pytest.fixture(scope="module")
def month(acme, tmp_path_factory):
    out = tmp_path_factory.mktemp("month")
    truth = synthetic_logs(acme, out, plugins=PLUGINS, seed=11)
    return truth, calibrate(acme, [out]), calibrate(acme, [out], level=0.999)


def _near_share(full: float, bound: float) -> float:
    """The true share of the synthetic sizes at 90% of the bound or more: at the bound, or uniform on 1 .. bound-1."""
    near = sum(1 for k in range(1, int(bound)) if k >= 0.9 * bound)
    return full + (1 - full) * near / (bound - 1)


def test_a_synthetic_month_recovers_the_truth_within_its_intervals(month) -> None:
    truth, cal, wide = month
    assert cal.observations.working_days == truth.working_days == 21
    checks = []
    for plugin in PLUGINS:
        rows = [
            ("runs_per_user_per_day", {}, truth.runs_per_user_per_day[plugin]),
            ("gate_rejection_rate", {}, truth.reject_share[plugin]),
        ]
        df = cal.table()
        for _, r in df[
            (df["plugin"] == plugin) & df["quantity"].isin(["rows_per_call", "recipients_per_call"])
        ].iterrows():
            if r["bound"] >= 2:
                where = {"connector": r["connector"], "tool": r["tool"]}
                rows.append((r["quantity"], where, _near_share(truth.full_share[plugin], r["bound"])))
        for quantity, where, true in rows:
            if (
                quantity == "gate_rejection_rate"
                and not ((cal.table()["quantity"] == quantity) & (cal.table()["plugin"] == plugin)).any()
            ):
                continue
            row = _row(cal, quantity, plugin=plugin, **where)
            if row["events"] == 0:
                continue
            far = _row(wide, quantity, plugin=plugin, **where)
            checks.append((plugin, quantity, row["low"] <= true <= row["high"]))
            if row["events"] >= 300:  # the data outweigh the prior: the truth lies within even the 99.9% interval
                assert far["low"] <= true <= far["high"], (plugin, quantity, true, far["low"], far["high"])
            if quantity == "runs_per_user_per_day":  # the estimate moves from the prior towards the truth
                assert abs(row["estimate"] - true) < abs(row["prior"] - true), (plugin, quantity)
    assert len(checks) >= 10
    covered = sum(ok for _, _, ok in checks)
    assert covered / len(checks) >= 0.75, checks


def test_full_shares_stay_at_their_priors(month) -> None:
    _, cal, _ = month
    df = cal.table()
    shares = df[df["quantity"].isin(["data_leakage_full_share", "wrong_action_full_share"])]
    assert len(shares) == 2 * len(cal.inventory.plugins) and (shares["events"] == 0).all()
    assert (shares["estimate"] == shares["prior"]).all() and shares["note"].str.contains("left at the prior").all()


def test_the_overlay_carries_the_calibrated_runs_and_validates(month, acme, tmp_path) -> None:
    _, cal, _ = month
    out = cal.write_overlay(tmp_path / "calibrated.yaml", base=str(ACME))
    doc = yaml.safe_load(out.read_text())
    assert doc["overlay"] == 2 and not (tmp_path / "calibrated-usage.yaml").exists()
    calibrated = apply_overlays(acme, [out])
    for plugin in PLUGINS:
        runs = _row(cal, "runs_per_user_per_day", plugin=plugin)
        p = calibrated.plugin_by_id[plugin]
        users = sum(n for _, n in calibrated.users_of(p))
        assert calibrated.runs_per_day(p) / users == pytest.approx(runs["estimate"], rel=1e-4)
        entry = doc["plugins"][plugin]["users"][p.users[0].team]["runs_per_user_per_day"]
        assert entry["source"].startswith("blastradius calibrate: ") and entry["range"][0] <= entry["value"]
    assert calibrated.plugin_by_id["hr-policy-answers"] == acme.plugin_by_id["hr-policy-answers"]  # no events
    # attentive gates (2% to 30% rejections) leave every catch at its prior: nothing of it is written
    assert not doc["assumptions"]["plugins"]
    a = load_assumptions(None, inventory=calibrated)
    assert a.model_dump() == load_assumptions(None, inventory=acme).model_dump()


def test_an_overlay_from_zero_events_equals_the_priors(acme, tmp_path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"resourceLogs": []}) + "\n")
    cal = calibrate(acme, [empty])
    assert (cal.table()["events"] == 0).all()
    for e in cal.estimates:  # with nothing to learn from, every estimate is its prior
        if e.setting and e.quantity != "runs_per_user_per_day":
            assert (e.estimate, e.low, e.high) == (e.prior, e.prior_low, e.prior_high)
    out = cal.write_overlay(tmp_path / "calibrated.yaml")
    overlaid = apply_overlays(acme, [out])
    assert (
        load_assumptions(None, inventory=overlaid).model_dump() == load_assumptions(None, inventory=acme).model_dump()
    )
    assert overlaid.plugins == acme.plugins


def test_simulate_with_the_calibrated_overlay_moves_incidents_with_the_calibrated_runs(month, tmp_path, capsys) -> None:
    _, cal, _ = month
    out = cal.write_overlay(tmp_path / "calibrated.yaml", base=str(ACME))
    common = ["--trials", "400", "--top", "100", "--format", "json"]

    def incidents(*extra: str) -> dict[str, float]:
        assert main(["simulate", str(ACME), *common, *extra]) == 0
        return {row["group"]: row["incidents_mean"] for row in json.loads(capsys.readouterr().out)["plugin"]}

    before, after = incidents(), incidents("--overlay", str(out))
    moved = 0
    for plugin in PLUGINS:
        runs = _row(cal, "runs_per_user_per_day", plugin=plugin)
        ratio = runs["estimate"] / runs["prior"]
        if abs(math.log(ratio)) < 0.15 or before[plugin] == 0:
            continue
        # the same random numbers: incidents scale with the runs, in the direction of the calibration
        assert (after[plugin] > before[plugin]) == (ratio > 1), (plugin, ratio, before[plugin], after[plugin])
        moved += 1
    assert moved >= 2
    untouched = [p for p in before if p not in PLUGINS]
    assert untouched and all(after[p] == before[p] for p in untouched)


# --- the gate's catch, bounded by the rejections -----------------------------------------------------------------


def _gate_observations(acme, accepts: int, rejects: int):
    from blastradius.calibrate.observe import Observations, ToolCounts

    obs = Observations()
    obs.tools[("crm-hygiene", "crm", "delete_contact")] = ToolCounts(
        calls=accepts, human_accepts=accepts, human_rejects=rejects, status="gated"
    )
    return obs


def _catch(acme, accepts: int, rejects: int):
    from blastradius.calibrate import estimates

    items = estimates(acme, _gate_observations(acme, accepts, rejects))
    return next(e for e in items if e.quantity == "approval_gate_catch_rate" and e.plugin == "crm-hygiene"), items


def test_rubber_stamping_gates_lower_the_catch_to_the_bound(acme) -> None:
    from blastradius.calibrate import calibration_findings

    catch, items = _catch(acme, 60_000, 0)
    rejection = next(e for e in items if e.quantity == "gate_rejection_rate" and e.plugin == "crm-hygiene")
    p_low = load_assumptions(None, inventory=acme).for_plugin("crm-hygiene").failure_rates.wrong_action.low
    assert catch.estimate == pytest.approx(rejection.high / p_low) and catch.estimate < 0.8
    assert catch.high == catch.estimate and catch.low < catch.estimate and catch.bound == catch.estimate
    assert catch.note.startswith("gates rubber-stamped: ")
    (finding,) = [
        f for f in calibration_findings(acme, _gate_observations(acme, 60_000, 0), items) if f.rule == "BR203"
    ]
    assert finding.subject == "crm-hygiene" and f"at most {catch.estimate:.1%} of bad calls" in finding.message


def test_attentive_gates_and_no_decisions_leave_the_prior(acme) -> None:
    for accepts, rejects in ((60_000, 600), (0, 0), (40, 0)):
        catch, _ = _catch(acme, accepts, rejects)
        assert (catch.estimate, catch.low, catch.high) == (0.8, 0.5, 0.95), (accepts, rejects)
    catch, _ = _catch(acme, 60_000, 600)
    assert catch.bound > 0.8 and "consistent with the prior" in catch.note


def test_a_rubber_stamped_catch_reaches_the_overlay(acme, tmp_path) -> None:
    from blastradius.calibrate import Calibration, estimates

    obs = _gate_observations(acme, 60_000, 0)
    items = tuple(estimates(acme, obs))
    cal = Calibration(inventory=acme, observations=obs, estimates=items, findings=(), level=0.9)
    out = cal.write_overlay(tmp_path / "c.yaml")
    catch = next(e for e in items if e.quantity == "approval_gate_catch_rate" and e.plugin == "crm-hygiene")
    a = load_assumptions(None, inventory=apply_overlays(acme, [out]))
    assert a.for_plugin("crm-hygiene").controls.approval_gate_catch_rate == pytest.approx(catch.estimate, rel=1e-5)
    assert a.for_plugin("offer-letters").controls.approval_gate_catch_rate == 0.8
    note = a.provenance["plugins.crm-hygiene.controls.approval_gate_catch_rate"]
    assert "gates rubber-stamped" in note.source


# --- one per-call bound for the simulation and the calibration ---------------------------------------------------


@pytest.mark.parametrize("name", ["acme", "acme-governed"])
def test_calibrate_bounds_equal_the_simulation_plans(name) -> None:
    from blastradius.analysis import analysis_of
    from blastradius.simulate.plan import _sizes, failure_paths

    inv = load_inventory(ROOT / "inventories" / name)
    analysis = analysis_of(inv)
    paths = failure_paths(analysis)
    checked = 0
    for plugin in inv.plugins:
        pa = analysis.assumptions.for_plugin(plugin.id)
        for act in analysis.reach(plugin).actions:
            rows = paths[(paths.plugin == plugin.id) & (paths.path == f"{act.connector}.{act.action.value}")]
            if rows.empty:
                continue
            row = rows.iloc[0]
            bounds = [call_bounds(inv, act.connector, t, pa) for t in act.usable_tools]
            per_call = max(b["per_call"] for b in bounds)
            size = _sizes(inv, act, analysis.weights)
            if row.failure_class == "data_leakage":
                assert row.records_bound == min(size.sensitive, per_call), (plugin.id, row.path)
            else:
                assert row.records_bound == min(size.records, per_call), (plugin.id, row.path)
                assert row.people_bound == min(size.people, per_call), (plugin.id, row.path)
            for t, b in zip(act.usable_tools, bounds, strict=True):  # the bound a logged call is held to: within it
                measure = "recipients" if b["recipients"] is not None else "rows"
                assert b[measure] <= b["per_call"], (act.connector, t)
            checked += 1
    assert checked > 20


# --- the posteriors ----------------------------------------------------------------------------------------------


def test_quantiles_agree_with_sampling() -> None:
    rng = np.random.default_rng(5)
    for a, b in ((0.5, 0.5), (3.0, 400.0), (0.2, 5000.0), (60.0, 4.0)):
        draws = rng.beta(a, b, 200_000)
        for q in (0.05, 0.5, 0.95):
            assert beta_quantile(q, a, b) == pytest.approx(np.quantile(draws, q), rel=0.03, abs=1e-6)
    for shape in (0.3, 2.0, 40.0, 3000.0):
        draws = rng.gamma(shape, 1.0, 200_000)
        for q in (0.05, 0.5, 0.95):
            assert gamma_quantile(q, shape) == pytest.approx(np.quantile(draws, q), rel=0.03, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(0.2, 200),
    b=st.floats(0.2, 200),
    k=st.integers(0, 2000),
    more=st.integers(1, 2000),
    share=st.floats(0, 1),
)
def test_more_events_never_widen_a_share_interval(a: float, b: float, k: int, more: int, share: float) -> None:
    before = BetaPosterior(a=a, b=b).update(k // 2, k)
    added = round(more * share)
    after = before.update(added, more)

    def width(p: BetaPosterior) -> float:
        low, high = p.interval()
        return logit(high) - logit(low)

    assert width(after) <= width(before) * (1 + 1e-9) + 1e-9


@settings(max_examples=60, deadline=None)
@given(
    shape=st.floats(0.5, 50),
    rate=st.floats(0.01, 100),
    n=st.integers(0, 5000),
    exposure=st.floats(0, 1e5),
    more=st.integers(0, 5000),
    more_exposure=st.floats(0, 1e5),
)
def test_more_events_never_widen_a_rate_interval(
    shape: float, rate: float, n: int, exposure: float, more: int, more_exposure: float
) -> None:
    before = GammaPosterior(shape=shape, rate=rate).update(n, exposure)
    after = before.update(more, more_exposure)

    def width(p: GammaPosterior) -> float:
        low, high = p.interval()
        return math.log(high) - math.log(low)

    assert width(after) <= width(before) * (1 + 1e-9) + 1e-9


# --- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "resourceLogs": []\n}\n', "pretty-printed JSON document"),
        ('{"resourceSpans": []}\n', "traces or metrics"),
        ('{"hello": "world"}\n', "neither an OpenTelemetry log export"),
    ],
)
def test_a_file_that_is_not_a_log_is_a_clear_error(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    with pytest.raises(LogError, match=message):
        list(read_events([path]))


def test_missing_and_compressed_files(tmp_path) -> None:
    with pytest.raises(LogError, match="no such file or directory"):
        list(read_events([tmp_path / "nope.jsonl"]))
    z = tmp_path / "logs.json.zst"
    z.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 16)
    with pytest.raises(LogError, match="zstd -d"):
        list(read_events([z]))


def test_a_bad_mapping_file_names_its_key(tmp_path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("fields:\n  tim: ts\n  tool: t\n")
    with pytest.raises(LogError, match=r"m\.yaml:2: fields\.tim"):
        load_mapping(bad)
    none = tmp_path / "n.yaml"
    none.write_text("fields:\n  time: ts\n")
    with pytest.raises(LogError, match="no field says which tool was called"):
        load_mapping(none)


def test_an_overlong_line_is_counted_and_skipped(monkeypatch, tmp_path) -> None:
    from blastradius.calibrate import readers

    monkeypatch.setattr(readers, "MAX_LINE_CHARS", 120)
    path = tmp_path / "audit.jsonl"
    row = {"connector": "crm", "tool": "search_contacts", "rows_returned": 3}
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "user": "x" * 500}) + "\n" + json.dumps(row) + "\n")
    stats = readers.ReadStats()
    assert len(list(readers.read_events([path], stats=stats))) == 2
    assert stats.malformed == 1 and "longer than 120 characters" in stats.problems[0].message


def test_bad_values_are_counted_not_fatal(acme, tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    rows = [
        {
            "timestamp": "2026-10-05T09:30:00Z",
            "connector": "finance-warehouse",
            "tool": "run_query",
            "rows_returned": 3,
        },
        {"timestamp": "yesterday", "connector": "finance-warehouse", "tool": "run_query"},
        {"timestamp": "2026-10-05T09:30:00Z", "connector": "finance-warehouse", "rows_returned": -4},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    cal = calibrate(acme, [path])
    assert cal.observations.stats.events == 1 and cal.observations.stats.malformed == 3


def test_the_command_line(tmp_path, capsys) -> None:
    out = tmp_path / "cal" / "calibrated.yaml"
    args = ["calibrate", str(ACME), "--logs", str(CLAUDE), str(AUDIT), "--out", str(out), "--since", "2026-10-01"]
    code = main([*args, "--table", str(tmp_path / "t.csv"), "--findings", str(tmp_path / "f.sarif")])
    assert code == 0
    text = capsys.readouterr()
    assert "calibrated settings (90% intervals" in text.out and "BR202 finance-warehouse" in text.out
    assert out.exists() and not (tmp_path / "cal" / "calibrated-usage.yaml").exists()
    table = pd.read_csv(tmp_path / "t.csv")  # the report reads the table back: the appendix and the plot take it
    direct = appendix(calibrate(load_inventory(ACME), [CLAUDE, AUDIT], since=dt.date(2026, 10, 1)))
    from_csv = appendix(table)
    assert list(from_csv["plugin"]) == list(direct["plugin"]) and len(direct) > 0
    assert np.allclose(from_csv["estimate"], direct["estimate"], rtol=1e-9)
    sarif = json.loads((tmp_path / "f.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"BR201", "BR202"}
    assert yaml.safe_load(out.read_text())["plugins"]["crm-hygiene"]["users"]
    assert main(["validate", str(ACME), "--overlay", str(out)]) == 0
    # a second calibration replaces the first one's files, and nothing else
    assert main(["calibrate", str(ACME), "--logs", str(AUDIT), "--out", str(out)]) == 0
    other = tmp_path / "notes.yaml"
    other.write_text("mine: true\n")
    assert main(["calibrate", str(ACME), "--logs", str(AUDIT), "--out", str(other)]) == 1
    assert other.read_text() == "mine: true\n"


def test_the_command_line_refuses_to_overwrite_an_input_or_write_into_the_inventory(tmp_path, capsys) -> None:
    log = tmp_path / "audit.jsonl"
    log.write_bytes(AUDIT.read_bytes())
    assert main(["calibrate", str(ACME), "--logs", str(log), "--out", str(log)]) == 1
    assert "one of the inputs" in capsys.readouterr().err and log.read_bytes() == AUDIT.read_bytes()
    assert main(["calibrate", str(ACME), "--logs", str(log), "--out", str(ACME / "x.yaml")]) == 1
    assert "inside the inventory" in capsys.readouterr().err
    assert main(["calibrate", str(ACME), "--logs", str(tmp_path / "missing"), "--out", str(tmp_path / "o.yaml")]) == 1
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "Traceback" not in err
    assert main(["calibrate", str(ACME), "--logs", str(log), "--out", str(tmp_path / "o.yaml"), "--level", "100"]) == 1
    args = ["--since", "2026-10-09", "--until", "2026-10-01"]
    assert main(["calibrate", str(ACME), "--logs", str(log), "--out", str(tmp_path / "o.yaml"), *args]) == 1
    assert "no day is left to read" in capsys.readouterr().err


# --- findings in the rule registry, documentation, plots ------------------------------------------------------


def test_calibration_rules_are_registered_and_documented(acme) -> None:
    assert set(CALIBRATION_RULES) <= set(rule_catalog(calibration=True)) and "BR201" not in rule_catalog()
    with pytest.raises(BlastRadiusError, match="BR201 reads the logs: run `blastradius calibrate"):
        lint(acme, rules=["BR201"])
    text = (ROOT / "docs" / "calibration.md").read_text()
    for rid, info in CALIBRATION_RULES.items():
        section = text.split(f"### {rid}", 1)[1].split("\n### ", 1)[0]
        assert info.title in section and info.domain.split(",")[0] in section
    for event in ("claude_code.tool_result", "claude_code.tool_decision", "CLAUDE_CODE_ENABLE_TELEMETRY"):
        assert event in text
    readme = (DATA / "README.md").read_text()
    assert re.search(r"https://code\.claude\.com/docs/en/monitoring-usage", readme)


def test_plot_and_appendix(samples, month) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from blastradius.calibrate.plots import plot_calibration

    _, cal, _ = month
    rows = appendix(cal, top=5)
    assert len(rows) == 5 and (rows["events"] > 0).all()
    ax = plot_calibration(cal.table())
    assert len(ax.get_yticklabels()) == min(20, len(cal.table().query("setting != '' and events > 0")))
    assert plot_calibration(calibrate(load_inventory(ACME), [DATA / "gateway.csv"], mapping=GATEWAY_MAPPING).table())


# --- streaming ---------------------------------------------------------------------------------------------------


def test_runs_are_counted_in_a_bounded_window_and_progress_is_reported(acme, monkeypatch) -> None:
    import importlib

    from blastradius.calibrate.readers import LogEvent

    observe_module = importlib.import_module("blastradius.calibrate.observe")

    monkeypatch.setattr(observe_module, "RUN_WINDOW", 3)
    name = "mcp__plugin_crm-hygiene_crm__search_contacts"

    def events():  # a generator: nothing is held but the counts
        for i in range(1000):
            yield LogEvent(kind="call", tool_name=name, run=f"run-{i // 2}", success=True)

    obs = observe_module.observe(acme, [], events=events())
    assert obs.runs[("crm-hygiene", "")] == 500 and obs.tools[("crm-hygiene", "crm", "search_contacts")].calls == 1000
    seen: list[int] = []
    observe_module.observe(acme, [CLAUDE], progress=seen.append)
    assert sum(seen) == CLAUDE.stat().st_size


def test_runs_per_team_where_the_export_names_the_team(acme) -> None:
    from blastradius.calibrate import estimates, observe
    from blastradius.calibrate.readers import LogEvent

    name = "mcp__plugin_ap-autopilot_payments__list_batches"
    when = dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC)
    events = [LogEvent(kind="call", tool_name=name, run=f"r{i}", team="finance-ap", time=when) for i in range(300)]
    events += [LogEvent(kind="call", tool_name=name, run=f"s{i}", team="procurement", time=when) for i in range(10)]
    obs = observe(acme, [], events=events)
    rows = {
        e.team: e for e in estimates(acme, obs) if e.quantity == "runs_per_user_per_day" and e.plugin == "ap-autopilot"
    }
    assert set(rows) == {"finance-ap", "procurement"}  # 60 users at 10 a day, 20 users at 2 a day, one day
    assert rows["finance-ap"].observed == pytest.approx(300 / 60) and rows["procurement"].observed == 10 / 20
    assert rows["finance-ap"].low < 5 < rows["finance-ap"].high and rows["procurement"].estimate < 2


def test_a_mapped_log_of_decisions(acme, tmp_path) -> None:
    log = tmp_path / "decisions.jsonl"
    rows = [
        {"at": "2026-10-05T10:00:00Z", "who": "person", "verdict": "deny", "tool": "mcp__crm__delete_contact"},
        {"at": "2026-10-05T10:01:00Z", "who": "person", "verdict": "allow", "tool": "mcp__crm__delete_contact"},
        {"at": "2026-10-05T10:02:00Z", "who": "policy", "verdict": "allow", "tool": "mcp__crm__delete_contact"},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "kind: decision\nfields: {time: at, decided_by: who, decision: verdict, tool_name: tool, plugin: bot}\n"
        "human_values: [person]\nplugins: {}\n"
    )
    cal = calibrate(acme, [log], mapping=mapping)
    counts = cal.observations.tools[("", "crm", "delete_contact")]
    assert (counts.human_rejects, counts.human_accepts, sum(counts.automatic.values())) == (1, 1, 1)


def test_the_report_carries_the_calibration_appendix(month, tmp_path) -> None:
    """`report --calibration TABLE` adds the appendix: the settings the logs moved, beside what was modelled."""
    from blastradius.calibrate import appendix, read_table
    from blastradius.report import render_report

    _, cal, _ = month
    table_file = tmp_path / "calibration.csv"
    cal.table().to_csv(table_file, index=False)
    table = read_table(table_file)
    rows = appendix(table)
    assert not rows.empty
    html = render_report(ACME, out=tmp_path / "out", trials=300, calibration=table_file).read_text(encoding="utf-8")
    html = re.sub(r"<wbr\s*/?>", "", html)
    assert "<h2>Appendix: calibration from the organisation's own logs</h2>" in html
    assert f"{len(rows):,} that moved most are below" in html
    for plugin in rows.plugin:
        assert f"<td>{plugin}</td>" in html
    assert "What the logs say against the model" in html  # the chart, titled in words


def test_a_table_that_is_not_a_calibration_table_is_refused_with_its_name(tmp_path) -> None:
    from blastradius.calibrate import read_table
    from blastradius.errors import ConfigError

    bad = tmp_path / "scores.csv"
    bad.write_text("plugin,blast_radius\nap-autopilot,352.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"scores\.csv.*not a calibration table: no column team"):
        read_table(bad)
    assert main(["report", str(ACME), "--calibration", str(bad), "--out", str(tmp_path / "out")]) == 1
