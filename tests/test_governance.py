"""Governance: findings on the examples, every rule, acceptances, routing, SARIF, diff and runbook."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from blastradius import ConfigError, load_inventory
from blastradius.diff import diff_inventories
from blastradius.errors import BlastRadiusError, UnknownIdError
from blastradius.findings import (
    Evidence,
    Finding,
    Severity,
    apply_acceptances,
    load_acceptances,
    locate,
    to_sarif,
)
from blastradius.levers import with_row_limit
from blastradius.loader import read_document
from blastradius.rules import DIFF_RULES, RULES, lint, route_plugin, route_task, rule_catalog, tier_table
from blastradius.runbook import format_runbook, runbook

from conftest import ACME, ACME_GOVERNED, ROOT, mini_inventory, write_inventory
from test_cli import run

TODAY = dt.date(2026, 11, 21)

#: Every pitfall planted in inventories/acme (see its README), as (rule, subject).
PLANTED = {
    ("BR101", "company-data"),  # mega-connector shared by four departments
    ("BR102", "renewal-campaigns:email.send_bulk_email"),  # ungated send to 2,310 contacts
    ("BR102", "ap-autopilot:payments.release_payment_batch"),  # ungated payment
    ("BR104", "shared-drive"),  # no audit
    ("BR107", "hris"),  # alert but no row limit on sensitive data
    ("BR108", "crm"),  # sensitive columns not denied
    ("BR103", "calendar"),  # read-write where only reads are used
    ("BR111", "crm"),  # stale approvals
    ("BR111", "hris"),
    ("BR112", "web-search"),  # approval missing
    ("BR113", "prospect-outreach"),  # review tier too low
    ("BR109", "support-autoresponder"),  # no kill switch
    ("BR109", "renewal-campaigns"),
    ("BR116", "support-autoresponder"),  # lethal trifecta
    ("BR102", "crm-hygiene:crm.mass_delete_records"),  # immediate bulk delete, ungated
}


@pytest.fixture(scope="module")
def acme_findings():
    return lint(load_inventory(ACME), as_of=TODAY)


def test_lint_finds_every_planted_pitfall_with_file_and_line(acme_findings) -> None:
    found = {f.key: f for f in acme_findings}
    missing = PLANTED - set(found)
    assert not missing, missing
    for key in PLANTED:
        f = found[key]
        assert f.severity >= Severity.MEDIUM, key
        assert f.evidence and all(e.file and e.line for e in f.evidence), key
        assert f.fix and f.domain


def test_governed_example_has_no_open_finding_of_medium_or_worse() -> None:
    findings = lint(load_inventory(ACME_GOVERNED), as_of=TODAY)
    open_ = [f for f in findings if not f.accepted and f.severity >= Severity.MEDIUM]
    assert not open_, [f.key for f in open_]
    assert not PLANTED & {f.key for f in findings if not f.accepted}
    assert {f.key for f in findings if f.accepted} == {("BR108", "payments"), ("BR101", "clm"), ("BR101", "ticketing")}


def test_evidence_points_at_the_file_that_set_the_value(acme_findings) -> None:
    crm_stale = next(f for f in acme_findings if f.key == ("BR111", "crm"))
    e = crm_stale.evidence[0]
    assert e.file.endswith("connectors.yaml") and e.path.endswith(".approved_on")
    line = Path(e.file).read_text().splitlines()[e.line - 1]
    assert "approved_on: 2025-09-12" in line


def test_severity_grows_with_reach(tmp_path: Path) -> None:
    files = mini_inventory()
    files["connectors.yaml"]["connectors"][1]["tools"] += [
        {"name": "send_one", "action": "send", "targets": ["prospects"], "fan_out": 1, "reversibility": "staged"},
    ]
    files["plugins.yaml"]["plugins"][1]["requires_approval"] = []
    findings = {
        f.subject: f for f in lint(load_inventory(write_inventory(tmp_path, files)), as_of=TODAY, rules=["BR102"])
    }
    assert findings["outreach:email.send_campaign"].severity is Severity.CRITICAL  # 2,310 at once, irreversible
    assert findings["outreach:email.send_one"].severity is Severity.MEDIUM  # one recipient, staged


RULE_CASES = {
    "BR105": lambda f: None,  # the mini warehouse has no alert on its sends, the mail connector none either
    "BR106": None,
    "BR117": lambda f: f["connectors.yaml"]["connectors"][1]["tools"].append({"name": "purge", "action": "delete"}),
    "BR119": lambda f: None,  # mini inventory has no governance config
    "BR120": lambda f: None,
}


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rules_without_a_planted_example_fire_on_a_small_inventory(tmp_path: Path, rule_id: str) -> None:
    files = mini_inventory()
    files["connectors.yaml"]["connectors"][1]["audit"] = {"log_every_query": True}
    if RULE_CASES[rule_id]:
        RULE_CASES[rule_id](files)
    inv = load_inventory(write_inventory(tmp_path, files))
    if rule_id == "BR106":
        inv = with_row_limit(inv, "finance-warehouse", 10_000)  # below its 25,000-row alert
    found = [f for f in lint(inv, as_of=TODAY) if f.rule == rule_id]
    assert found, rule_id
    if rule_id == "BR106":
        assert "alerts above 25,000 rows but returns at most 10,000" in found[0].message
    if rule_id == "BR117":
        assert found[0].severity is Severity.CRITICAL and "email.purge" in found[0].message


def test_every_rule_is_documented() -> None:
    text = (ROOT / "docs" / "rules.md").read_text()
    documented = set(re.findall(r"^## (BR\d{3})", text, re.M))
    assert documented == set(RULES) | set(DIFF_RULES)
    for rid, info in {**RULES, **DIFF_RULES}.items():
        assert info.domain.split(",")[0] in text.split(f"## {rid}", 1)[1].split("\n## ", 1)[0]


def test_lint_names_an_unknown_rule_and_sends_br118_to_diff() -> None:
    inv = load_inventory(ACME)
    with pytest.raises(UnknownIdError, match="no rule 'BR999' among the lint rules"):
        lint(inv, rules=["BR999"])
    with pytest.raises(UnknownIdError, match=r"did you mean 'BR1\d\d'"):
        lint(inv, rules=["BR1O2"])
    with pytest.raises(BlastRadiusError, match="BR118 compares two snapshots: run `blastradius diff"):
        lint(inv, rules=["BR118"])
    assert "BR118" not in RULES and DIFF_RULES["BR118"].raised_by == "diff"


# --- acceptances -------------------------------------------------------------------------------


def test_accepted_findings_stop_failing_until_they_expire(acme_findings, tmp_path: Path) -> None:
    path = tmp_path / "accepted.yaml"
    path.write_text(
        "acceptances:\n"
        "  - {rule: BR104, subject: shared-drive, owner: CIO, reason: migrating to per-team drives, "
        "expires: 2026-12-31}\n"
        "  - {rule: BR112, subject: web-search, owner: CISO, reason: public data only, expires: 2026-11-01}\n"
    )
    accepted = load_acceptances(path)
    result = {f.key: f for f in apply_acceptances(acme_findings, accepted, as_of=TODAY)}
    assert result[("BR104", "shared-drive")].accepted
    expired = result[("BR112", "web-search")]
    assert not expired.accepted and expired.acceptance_expired  # expired on 2026-11-01: it comes back
    later = {f.key: f for f in apply_acceptances(acme_findings, accepted, as_of=dt.date(2027, 1, 1))}
    assert not later[("BR104", "shared-drive")].accepted


def test_a_bad_acceptance_file_says_where(tmp_path: Path) -> None:
    path = tmp_path / "accepted.yaml"
    path.write_text("acceptances:\n  - rule: BR104\n    subject: shared-drive\n    owner: CIO\n    expires: soon\n")
    with pytest.raises(ConfigError, match=r"accepted\.yaml:2: acceptances\[0\]\.reason: missing required key 'reason'"):
        load_acceptances(path)
    with pytest.raises(ConfigError, match=r"accepted\.yaml:5: acceptances\[0\]\.expires: input should be a valid date"):
        load_acceptances(path)


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sensitive", "writes", "leaves", "tier"),
    [(True, False, False, 3), (False, True, True, 3), (False, False, True, 2), (False, False, False, 1)],
)
def test_route_task(sensitive: bool, writes: bool, leaves: bool, tier: int) -> None:
    assert route_task(sensitive_data=sensitive, writes_system=writes, leaves_org=leaves).tier == tier


def test_tier_table_flags_the_plugins_that_declare_too_low() -> None:
    acme = tier_table(load_inventory(ACME)).set_index("plugin")
    assert acme.loc["prospect-outreach", "routed"] == 3 and acme.loc["prospect-outreach", "declared"] == 1
    assert bool(acme.loc["prospect-outreach", "short"])
    assert not tier_table(load_inventory(ACME_GOVERNED)).short.any()
    inv = load_inventory(ACME)
    assert route_plugin(inv, "hr-policy-answers").tier == 1


# --- SARIF ------------------------------------------------------------------------------------


def test_sarif_is_well_formed(acme_findings) -> None:
    sarif = to_sarif(acme_findings, rule_catalog(), root=ROOT, version="test")
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    rule_ids = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    assert rule_ids == set(RULES) | set(DIFF_RULES)  # BR118 is raised by diff, so SARIF of a diff names it
    for result in run_["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in ("error", "warning", "note")
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("inventories/acme/")
        assert isinstance(loc["region"]["startLine"], int) and loc["region"]["startLine"] >= 1
    json.dumps(sarif)


def test_lint_cli_exit_codes_and_formats() -> None:
    bad = run("lint", "inventories/acme", "--as-of", "2026-11-21")
    assert bad.returncode == 1 and "FAIL" in bad.stdout and "CRITICAL BR102" in bad.stdout
    good = run("lint", "inventories/acme-governed", "--as-of", "2026-11-21", "--fail-on", "medium")
    assert good.returncode == 0, good.stdout[-2000:]
    assert "3 accepted" in good.stdout
    assert run("lint", "inventories/acme", "--fail-on", "none").returncode == 0
    sarif = json.loads(run("lint", "inventories/acme", "--format", "sarif", "--as-of", "2026-11-21").stdout)
    assert sarif["runs"][0]["results"]
    rows = json.loads(run("lint", "inventories/acme", "--format", "json", "--as-of", "2026-11-21").stdout)
    assert {"rule", "severity", "subject", "evidence", "fix"} <= set(rows[0])
    assert run("lint", "inventories/acme", "--as-of", "yesterday").returncode == 2
    assert (
        "BR113" not in run("tiers", "inventories/acme").stdout
        and "prospect-outreach" in run("tiers", "inventories/acme").stdout
    )


# --- diff -------------------------------------------------------------------------------------


def test_diff_of_acme_and_governed_shows_the_containment_steps() -> None:
    d = diff_inventories(load_inventory(ACME), load_inventory(ACME_GOVERNED))
    text = [str(c) for c in d.changes]
    assert "connector company-data removed" in text
    assert "connector calendar: access read-write → read-only (narrowed)" in text
    assert any(t.startswith("connector crm: denied_columns") and "+date_of_birth" in t for t in text)
    assert (d.scores.after <= d.scores.before + 1e-9).all()
    assert (d.scores.delta < 0).sum() >= 15
    assert not d.findings  # every widened connector was re-approved


def _widened_copy(tmp_path: Path, *, reapprove: bool) -> Path:
    copy = shutil.copytree(ACME_GOVERNED, tmp_path / "next")
    path = copy / "connectors.yaml"
    text = path.read_text()
    block_start = text.index("  - id: hris")
    block_end = text.index("\n  - id:", block_start + 5)
    block = text[block_start:block_end]
    widened = re.sub(r"row_limit: \d+", "row_limit: 100000", block)
    assert widened != block
    if reapprove:
        widened = re.sub(r"approved_on: \S+", "approved_on: 2026-11-20", widened)
    path.write_text(text[:block_start] + widened + text[block_end:])
    return copy


def test_widening_a_scope_without_re_approval_is_a_finding(tmp_path: Path) -> None:
    old = load_inventory(ACME_GOVERNED)
    d = diff_inventories(old, load_inventory(_widened_copy(tmp_path / "a", reapprove=False)))
    assert [f.rule for f in d.findings] == ["BR118"]
    f = d.findings[0]
    assert f.subject == "hris" and "row_limit" in f.message
    assert f.severity is Severity.CRITICAL  # the governance config prohibits it
    assert f.evidence[0].file.endswith("connectors.yaml") and f.evidence[0].line
    reapproved = diff_inventories(old, load_inventory(_widened_copy(tmp_path / "b", reapprove=True)))
    assert not reapproved.findings
    assert any(c.field == "row_limit" and c.direction == "widened" for c in reapproved.changes)


def test_diff_cli(tmp_path: Path) -> None:
    result = run("diff", "inventories/acme", "inventories/acme-governed")
    assert result.returncode == 0, result.stderr
    assert "Blast radius per plugin, before → after" in result.stdout
    widened = run("diff", "inventories/acme-governed", str(_widened_copy(tmp_path, reapprove=False)))
    assert widened.returncode == 1 and "BR118" in widened.stdout


# --- runbook ----------------------------------------------------------------------------------


def test_runbook_flags_plugins_that_cannot_be_halted_fast() -> None:
    entries = {e.plugin: e for e in runbook(load_inventory(ACME))}
    rc = entries["renewal-campaigns"]
    assert not rc.fast and rc.time_to_halt_seconds is None  # no pause, and company-data cannot be revoked
    assert "ap-autopilot" in rc.collateral_plugins  # it shares the email connector
    assert rc.records_at_risk > 0 and rc.people_at_risk > 0
    # pausing takes an hour, but revoking its three connectors takes 15 minutes: the faster way halts it
    assert entries["ap-autopilot"].pause_seconds == 3600 and entries["ap-autopilot"].time_to_contain_seconds == 900
    assert not entries["ap-autopilot"].fast and entries["ap-autopilot"].time_to_halt_seconds == 900
    assert "shared-drive" in entries["ap-autopilot"].no_audit
    assert entries["forecast-rollup"].fast
    assert all(e.fast for e in runbook(load_inventory(ACME_GOVERNED)))
    text = format_runbook([rc])
    assert "cannot be halted" in text and "NOT FAST" in text


def test_runbook_cli() -> None:
    result = run("runbook", "inventories/acme", "ap-autopilot")
    assert result.returncode == 0 and "Pause ap-autopilot for all 80 users (60 min)" in result.stdout
    bad = run("runbook", "inventories/acme", "ap-autopilt")
    assert bad.returncode == 1 and "did you mean 'ap-autopilot'" in bad.stderr


def test_every_record_of_the_example_is_located_as_the_loader_locates_it() -> None:
    inv = load_inventory(ACME)
    evidence = tuple(
        Evidence(file=o.file, path=o.path + suffix if o.path else suffix[1:], detail="")
        for o in inv.origins.values()
        for suffix in ("", ".tools", ".tools[0].name", ".nope", ".audit.log_every_query")
    )
    finding = Finding(
        rule="BR000",
        title="t",
        severity=Severity.LOW,
        subject_kind="x",
        subject="x",
        message="m",
        fix="f",
        domain="D8",
        evidence=evidence,
    )
    docs = {e.file: read_document(Path(e.file)) for e in evidence}
    located = locate([finding], inventory=inv)[0].evidence
    assert [e.line for e in located] == [docs[e.file].line_of(e.path) for e in evidence]
    assert sum(e.line is not None for e in located) > 0.9 * len(evidence)


def test_time_to_halt_is_one_model_in_the_runbook_and_the_simulation() -> None:
    from blastradius.analysis import Analysis
    from blastradius.domain import time_to_halt
    from blastradius.model import Plugin, Team
    from blastradius.simulate import failure_paths

    inv = load_inventory(ACME)
    analysis = Analysis(inv)
    halt = analysis.assumptions.halt
    for e in runbook(analysis):
        p = inv.plugin_by_id[e.plugin]
        connectors = [inv.connector_by_id[c] for c in dict.fromkeys(p.connector_ids)]
        assert e.time_to_halt_seconds == time_to_halt(p, connectors)
    for row in failure_paths(analysis).itertuples():
        p = inv.plugin_by_id[row.plugin]
        connectors = [inv.connector_by_id[row.connector]] if isinstance(row.connector, str) else []
        seconds = time_to_halt(p, connectors, halt)
        assert row.halt_hours == (halt.manual_hours if seconds is None else seconds / 3600)
    lone = inv.replace(
        teams=(*inv.teams, Team(id="t", headcount=1)), plugins=(*inv.plugins, Plugin(id="lone", owner="t"))
    )
    entry = next(e for e in runbook(lone) if e.plugin == "lone")
    assert entry.time_to_halt_seconds is None and not entry.fast  # no pause and nothing to revoke: no known way
