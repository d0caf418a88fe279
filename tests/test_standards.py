"""Standard mappings: every rule in OWASP LLM 2025, OWASP Agentic 2026 and MITRE ATLAS; SARIF taxonomies; fix texts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest

from blastradius import load_inventory
from blastradius.cli import main
from blastradius.diff import diff_inventories
from blastradius.findings import Finding, findings_by, findings_frame, to_sarif
from blastradius.levers import with_row_limit
from blastradius.rules import DIFF_RULES, RULES, lint, rule_catalog
from blastradius.standards import FRAMEWORKS, framework, references, rule_references, sarif_taxonomies

from conftest import ACME, ACME_GOVERNED, ROOT, mini_inventory, write_inventory

TODAY = dt.date(2026, 11, 21)
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"

#: The official entries, as published (OWASP LLM Top 10 2025; OWASP Top 10 for Agentic Applications 2026).
OWASP_LLM_2025 = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM03": "Supply Chain",
    "LLM04": "Data and Model Poisoning",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM08": "Vector and Embedding Weaknesses",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}
ID_PATTERN = {"owasp-llm": r"LLM(0[1-9]|10)", "owasp-agentic": r"ASI(0[1-9]|10)", "atlas": r"AML\.T\d{4}(\.\d{3})?"}


@pytest.fixture(scope="module")
def acme_findings() -> list[Finding]:
    return lint(load_inventory(ACME), as_of=TODAY)


@pytest.fixture(scope="module")
def sarif_from_lint(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("sarif") / "lint.sarif"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["lint", str(ACME), "--format", "sarif", "--as-of", "2026-11-21"]) == 1  # acme has high findings
    out.write_text(buffer.getvalue())
    return json.loads(out.read_text())


def test_the_frameworks_are_the_published_editions() -> None:
    llm, agentic, atlas = (framework(k) for k in FRAMEWORKS)
    assert llm.taxa == OWASP_LLM_2025 and llm.version == "2025"
    assert list(agentic.taxa) == [f"ASI{i:02d}" for i in range(1, 11)] and agentic.version == "2026"
    assert agentic.taxa["ASI01"] == "Agent Goal Hijack" and agentic.taxa["ASI10"] == "Rogue Agents"
    assert atlas.version == "5.6.0" and atlas.taxa["AML.T0051.001"] == "LLM Prompt Injection: Indirect"
    for f in (llm, agentic, atlas):
        assert f.url.startswith("https://") and f.source and f.released.year >= 2024


@pytest.mark.parametrize("rule_id", sorted({*RULES, *DIFF_RULES}))
def test_every_rule_refers_to_both_owasp_lists_with_well_formed_ids(rule_id: str) -> None:
    refs = references(rule_id)
    assert refs["owasp-llm"] and refs["owasp-agentic"], rule_id
    for key, ids in refs.items():
        for taxon in ids:
            assert re.fullmatch(ID_PATTERN[key], taxon), (rule_id, taxon)
            assert taxon in framework(key).taxa
    assert rule_catalog()[rule_id]["standards"] == {k: list(v) for k, v in refs.items()}


def test_the_flow_rules_name_injection_and_exfiltration() -> None:
    assert "LLM01" in references("BR116")["owasp-llm"] and "ASI01" in references("BR116")["owasp-agentic"]
    assert "AML.T0086" in references("BR115")["atlas"]
    assert "AML.T0101" in references("BR117")["atlas"] and "ASI05" in references("BR117")["owasp-agentic"]
    assert rule_references("BR102")[0] == ("owasp-llm", "LLM06")


def test_findings_carry_their_references(acme_findings: list[Finding]) -> None:
    for f in acme_findings:
        assert f.references == rule_references(f.rule)
    df = findings_frame(acme_findings)
    row = df[df.rule == "BR116"].iloc[0]
    assert row.owasp_llm == "LLM01, LLM02" and row.owasp_agentic == "ASI01, ASI02" and "AML.T0086" in row.atlas


def test_sarif_from_lint_validates_against_the_official_schema_with_taxonomies(sarif_from_lint: dict) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(sarif_from_lint), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    run = sarif_from_lint["runs"][0]
    taxonomies = run["taxonomies"]
    assert [t["name"] for t in taxonomies] == [framework(k).name for k in FRAMEWORKS]
    assert run["tool"]["driver"]["supportedTaxonomies"] == [
        {"name": t["name"], "index": i} for i, t in enumerate(taxonomies)
    ]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {*RULES, *DIFF_RULES}
    for r in rules:
        targets = [rel["target"] for rel in r["relationships"]]
        assert [t["id"] for t in targets] == [t for _, t in rule_references(r["id"])]
        for t in targets:  # every reference resolves to the taxon it names
            taxonomy = taxonomies[t["toolComponent"]["index"]]
            assert taxonomy["name"] == t["toolComponent"]["name"]
            assert taxonomy["taxa"][t["index"]]["id"] == t["id"]
    trifecta = next(r for r in run["results"] if r["ruleId"] == "BR116")
    assert [t["id"] for t in trifecta["taxa"]] == [t for _, t in rule_references("BR116")]


def test_sarif_without_findings_still_carries_the_taxonomies() -> None:
    doc = to_sarif([], rule_catalog())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(doc)
    assert doc["runs"][0]["taxonomies"] == sarif_taxonomies()
    assert len(doc["runs"][0]["taxonomies"][0]["taxa"]) == 10


def test_findings_group_under_every_entry_of_their_rule(acme_findings: list[Finding]) -> None:
    df = findings_by(acme_findings, "owasp-agentic")
    expected = sum(len(references(f.rule)["owasp-agentic"]) for f in acme_findings)
    assert len(df) == expected
    asi01 = df[df.group == "ASI01 Agent Goal Hijack"]
    assert set(asi01.rule) == {f.rule for f in acme_findings if "ASI01" in references(f.rule)["owasp-agentic"]}
    atlas = findings_by(acme_findings, "atlas")
    assert "(none)" in set(atlas.group)  # e.g. stale approvals: no ATLAS technique fits
    with pytest.raises(ValueError, match="group by one of"):
        findings_by(acme_findings, "cwe")


def test_lint_table_groups_by_a_framework(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(ACME), "--format", "table", "--group-by", "owasp-llm", "--as-of", "2026-11-21"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Findings by OWASP Top 10 for LLM Applications 2025")
    assert "\nLLM06 Excessive Agency: " in out and "\nLLM01 Prompt Injection: " in out
    assert out.index("LLM01 Prompt Injection") < out.index("LLM06 Excessive Agency")


def test_every_fix_reads_as_plain_words(tmp_path: Path, acme_findings: list[Finding]) -> None:
    """At least one finding of every rule (the examples, a small inventory with what they lack, a diff): no fix
    names a Python module or a dotted key path."""
    findings = [*acme_findings, *lint(load_inventory(ACME_GOVERNED), as_of=TODAY)]
    files = mini_inventory()
    files["connectors.yaml"]["connectors"][1]["tools"].append({"name": "purge", "action": "delete"})
    mini = load_inventory(write_inventory(tmp_path / "mini", files))
    findings += lint(mini, as_of=TODAY)
    governed = load_inventory(ACME_GOVERNED)
    findings += lint(with_row_limit(governed, "finance-warehouse", 10_000), as_of=TODAY, rules=["BR106"])
    wider = [
        c.model_copy(update={"row_limit": 90_000}) if c.id == "finance-warehouse" else c for c in governed.connectors
    ]
    findings += diff_inventories(governed, governed.replace(connectors=wider)).findings  # same approval: BR118
    assert {f.rule for f in findings} == {*RULES, *DIFF_RULES}
    python_path = re.compile(r"\bblastradius\.\w+")
    dotted_key = re.compile(r"\b[a-z_]+\.[a-z_]+\b(?!\.)")  # audit.log_every_query, governance.prohibited
    for f in findings:
        assert not python_path.search(f.fix), (f.rule, f.fix)
        selector = f.subject.split(":", 1)[1] if ":" in f.subject else ""  # BR102 names the tool: email.send
        text = f.fix.replace(selector, "TOOL") if selector else f.fix
        assert not dotted_key.search(text), (f.rule, f.fix)


def test_the_rules_page_shows_the_mapping_as_the_data_holds_it() -> None:
    text = (ROOT / "docs" / "rules.md").read_text()
    rows = {
        cells[0]: cells[2:5]
        for line in text.splitlines()
        if re.match(r"^\| BR\d{3} \|", line)
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert set(rows) == {*RULES, *DIFF_RULES}
    for rule_id, cells in rows.items():
        assert cells == [", ".join(references(rule_id)[k]) or "—" for k in FRAMEWORKS], rule_id
    for key in FRAMEWORKS:
        f = framework(key)
        assert f"**{f.name} {f.version}**" in text and f.url in text
