"""Exports: managed settings and connector policies that say what the inventory says, a CycloneDX BOM, policy diffs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from blastradius import load_inventory
from blastradius.cli import main
from blastradius.errors import ConfigError, MissingExtraError, OutputError
from blastradius.export.bom import bom_json, validate_bom_json
from blastradius.export.files import write_files
from blastradius.export.policy import (
    CONNECTOR_POLICY_DIR,
    MANAGED_SETTINGS_FILE,
    claude_settings,
    permission_rules,
    read_policy,
)
from blastradius.model import Access, ConnectorPolicy
from blastradius.reach import ToolStatus, tool_status

from conftest import ACME, ACME_GOVERNED

#: What each status of a tool becomes in the platform's permission rules.
EXPECTED_STATE = {
    ToolStatus.UNGATED: "allow",
    ToolStatus.GATED: "ask",
    ToolStatus.BLOCKED: "deny",
    ToolStatus.UNUSABLE: "deny",
}


@pytest.fixture(scope="module")
def governed():
    return load_inventory(ACME_GOVERNED)


@pytest.fixture(scope="module")
def governed_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "acme-governed-policy"
    assert main(["export-policy", str(ACME_GOVERNED), "--format", "all", "--out", str(out)]) == 0
    return out


def _states(settings: dict) -> dict[str, str]:
    perms = settings["permissions"]
    seen: dict[str, str] = {}
    for state in ("allow", "ask", "deny"):
        for rule in perms[state]:
            assert rule not in seen, f"{rule} is both {seen[rule]} and {state}"
            seen[rule] = state
    return seen


def test_managed_settings_say_exactly_what_the_inventory_says(governed, governed_export: Path) -> None:
    settings = json.loads((governed_export / MANAGED_SETTINGS_FILE).read_text())
    states = _states(settings)
    expected = {}
    for p in governed.plugins:
        for cid in dict.fromkeys(p.connector_ids):
            conn = governed.connector_by_id[cid]
            for tool in conn.tools:
                status, _ = tool_status(p, conn, tool)  # the readable reference, not the exporter's path
                expected[f"mcp__plugin_{p.id}_{cid}__{tool.name}"] = EXPECTED_STATE[status]
    assert states == expected
    assert settings["permissions"]["disableBypassPermissionsMode"] == "disable"
    # the governed example's gates, in the platform's own words
    assert states["mcp__plugin_ap-autopilot_payments__release_payment_batch"] == "ask"
    assert states["mcp__plugin_ap-autopilot_payments__update_payee_bank_details"] == "deny"
    assert states["mcp__plugin_renewal-campaigns_email-campaigns__send_bulk_email"] == "ask"
    assert "allow" in states.values() and "ask" in states.values() and "deny" in states.values()


def test_connector_policies_load_back_into_the_inventory_unchanged(governed, governed_export: Path, tmp_path) -> None:
    folder = governed_export / CONNECTOR_POLICY_DIR
    assert sorted(p.stem for p in folder.glob("*.json")) == sorted(c.id for c in governed.connectors)
    for conn in governed.connectors:
        policy = ConnectorPolicy.model_validate(json.loads((folder / f"{conn.id}.json").read_text()))
        assert policy.access is (conn.access or Access.READ_WRITE)
        for key in ("allowed_tables", "denied_columns", "row_limit", "requires_approval", "tier", "approved_by"):
            assert getattr(policy, key) == getattr(conn, key), (conn.id, key)
        assert policy.approved_on == conn.approved_on
        assert bool(policy.audit and policy.audit.log_every_query) == bool(conn.audit and conn.audit.log_every_query)
        for key in ("alert_if_rows_returned_over", "alert_if_sends_over"):
            assert getattr(policy.audit, key) == (getattr(conn.audit, key) if conn.audit else None)
    # the exported policies are D6 policies the loader merges: in place of the hand-written one, same connectors
    copy = shutil.copytree(ACME_GOVERNED, tmp_path / "inv")
    shutil.rmtree(copy / "policies")
    shutil.copytree(folder, copy / "policies")
    assert load_inventory(copy).connectors == governed.connectors


def test_the_d6_policy_reads_as_the_domain_notes_write_it(governed_export: Path) -> None:
    policy = json.loads((governed_export / CONNECTOR_POLICY_DIR / "finance-warehouse.json").read_text())
    d6 = json.loads((ACME_GOVERNED / "policies" / "finance-warehouse.json").read_text())
    assert {k: policy[k] for k in d6 if k != "audit"} == {k: v for k, v in d6.items() if k != "audit"}
    assert {k: policy["audit"][k] for k in d6["audit"]} == d6["audit"]


def test_per_connector_names_keep_the_strictest_state(governed) -> None:
    per_plugin = {r.rule: r for r in permission_rules(governed)}
    for r in permission_rules(governed, server_names="connector"):
        assert r.rule == f"mcp__{r.connector}__{r.tool}"
        states = {per_plugin[f"mcp__plugin_{p}_{r.connector}__{r.tool}"].state for p in r.plugins}
        assert r.state == min(states, key=("deny", "ask", "allow").index)


def test_an_export_never_writes_over_an_input_or_an_existing_file(tmp_path: Path, capsys) -> None:
    copy = shutil.copytree(ACME_GOVERNED, tmp_path / "inv")
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert main(["export-policy", str(copy), "--out", str(copy / "teams.yaml"), "--force"]) == 1
    assert "refusing to write over an input or into an inventory" in capsys.readouterr().err
    assert main(["export-policy", str(copy), "--format", "all", "--out", str(copy / "out")]) == 1
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before
    out = tmp_path / "settings.json"
    assert main(["export-policy", str(copy), "--out", str(out)]) == 0
    assert main(["export-policy", str(copy), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite 1 existing file" in err and "Pass --force to replace" in err
    assert main(["export-policy", str(copy), "--out", str(out), "--force"]) == 0
    assert main(["export-policy", str(copy), "--format", "connector-policy"]) == 1
    assert "writes a folder: give it with --out DIR" in capsys.readouterr().err


def test_a_folder_with_other_policies_is_refused(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    with pytest.raises(OutputError, match=r"holds other policies: .*old\.json"):
        write_files({tmp_path / "crm.json": "{}"}, inputs=[ACME], force=True, folders=[tmp_path])


def test_claude_settings_to_standard_output(capsys) -> None:
    assert main(["export-policy", str(ACME_GOVERNED)]) == 0
    assert json.loads(capsys.readouterr().out) == claude_settings(load_inventory(ACME_GOVERNED))


# --- diff of exports ----------------------------------------------------------------------------------------------


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def test_diff_flags_every_widened_policy(governed_export: Path, tmp_path: Path, capsys) -> None:
    wider = shutil.copytree(governed_export, tmp_path / "wider")
    rule = "mcp__plugin_ap-autopilot_payments__update_payee_bank_details"

    def allow_it(d: dict) -> None:
        d["permissions"]["deny"].remove(rule)
        d["permissions"]["allow"].append(rule)
        d["permissions"]["ask"].remove("mcp__plugin_ap-autopilot_payments__release_payment_batch")

    def loosen(d: dict) -> None:
        d["row_limit"] = 80_000
        d["denied_columns"].remove("ssn")
        d["audit"]["log_every_query"] = False

    _edit(wider / MANAGED_SETTINGS_FILE, allow_it)
    _edit(wider / CONNECTOR_POLICY_DIR / "finance-warehouse.json", loosen)
    (wider / CONNECTOR_POLICY_DIR / "web-search.json").unlink()

    assert main(["diff", str(governed_export), str(wider)]) == 1
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if line.startswith("  WIDENED")]
    assert f"WIDENED  permission {rule}: deny → allow" in lines
    assert "WIDENED  permission mcp__plugin_ap-autopilot_payments__release_payment_batch: ask → no rule" in lines
    assert "WIDENED  connector finance-warehouse: row_limit 50000 → 80000" in lines
    assert "WIDENED  connector finance-warehouse: denied_columns -ssn" in lines
    assert "WIDENED  connector finance-warehouse: audit.log_every_query True → False" in lines
    assert "WIDENED  connector policy web-search: policy enforced → no policy" in lines
    assert len(lines) == 6 and "6 WIDENED" in out

    assert main(["diff", str(wider), str(governed_export), "--format", "json"]) == 0  # the way back only narrows
    back = json.loads(capsys.readouterr().out)
    assert back["widened"] == 0
    assert {
        "kind": "connector policy",
        "subject": "web-search",
        "field": "",
        "old": "",
        "new": "",
        "direction": "added",
    } in back["changes"]


def test_diff_of_an_inventory_and_its_own_export_is_empty(governed_export: Path, capsys) -> None:
    assert main(["diff", str(ACME_GOVERNED), str(governed_export)]) == 0
    assert ": 0 policy changes, 0 WIDENED" in capsys.readouterr().out
    assert main(["diff", str(governed_export / MANAGED_SETTINGS_FILE), str(ACME)]) == 1  # acme allows more


def test_diff_between_inventories_is_unchanged(capsys) -> None:
    assert main(["diff", str(ACME), str(ACME_GOVERNED)]) == 0
    out = capsys.readouterr().out
    assert "Blast radius per plugin, before → after" in out and "policy changes" not in out


def test_reading_a_broken_policy_says_where(tmp_path: Path) -> None:
    bad = tmp_path / "crm.json"
    bad.write_text('{"connector": "crm", "row_limit": "lots",\n "audit": {"log_every_query": 1}}')
    with pytest.raises(ConfigError) as err:
        read_policy(bad)
    text = str(err.value)
    assert "crm.json:1: row_limit" in text and "audit.log_every_query" in text
    settings = tmp_path / "settings.json"
    settings.write_text('{"permissions": {"allow": ["mcp__a__b", 3], "deny": "mcp__a"}}')
    with pytest.raises(ConfigError, match=r"permissions.allow\[1\]: expected a rule, got 3"):
        read_policy(settings)


# --- CycloneDX ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def governed_bom(governed) -> dict:
    return json.loads(bom_json(governed))


def test_the_bom_validates_against_the_cyclonedx_schema(governed_bom: dict) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(governed_bom)) is None
    assert governed_bom["bomFormat"] == "CycloneDX" and governed_bom["specVersion"] == "1.6"
    broken = dict(governed_bom, specVersion="1.6", components=[{"name": "x"}])  # a component without a type
    with pytest.raises(Exception, match="does not validate"):
        validate_bom_json(json.dumps(broken))


def test_the_bom_lists_plugins_connectors_and_systems_with_flows(governed, governed_bom: dict) -> None:
    refs = {c["bom-ref"] for c in governed_bom["components"]} | {s["bom-ref"] for s in governed_bom["services"]}
    assert {f"plugin:{p.id}" for p in governed.plugins} <= refs
    assert {f"connector:{c.id}" for c in governed.connectors} <= refs
    assert {f"system:{s.id}" for s in governed.systems} <= refs
    services = {s["bom-ref"]: s for s in governed_bom["services"]}
    crm = services["connector:crm"]
    assert {d["classification"] for d in crm["data"]} >= {"pii"} and {d["flow"] for d in crm["data"]} == {
        "bi-directional"
    }
    fw = services["connector:finance-warehouse"]  # read-only: data only flows out of the system
    assert {d["flow"] for d in fw["data"]} == {"outbound"}
    assert "financial" in {d["classification"] for d in fw["data"]}
    props = {p["name"]: p["value"] for p in fw["properties"]}
    assert (
        props["blastradius:row_limit"] == "50000"
        and props["blastradius:denied_columns"] == "ssn, bank_account, comp_individual"
    )
    deps = {d["ref"]: set(d.get("dependsOn", ())) for d in governed_bom["dependencies"]}
    ap = governed.plugin_by_id["ap-autopilot"]
    assert deps["plugin:ap-autopilot"] == {f"connector:{c}" for c in ap.connector_ids}
    assert deps["connector:finance-warehouse"] == {"system:" + governed.connector_by_id["finance-warehouse"].system}
    assert json.loads(bom_json(governed))["serialNumber"] == governed_bom["serialNumber"]  # same inventory, same serial


def test_export_bom_names_the_extra_when_the_library_is_missing(monkeypatch, tmp_path: Path, capsys) -> None:
    for name in [m for m in sys.modules if m == "cyclonedx" or m.startswith("cyclonedx.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cyclonedx", None)  # import cyclonedx... raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'blastradius\[export\]'"):
        bom_json(load_inventory(ACME_GOVERNED))
    assert main(["export-bom", str(ACME_GOVERNED), "--out", str(tmp_path / "bom.json")]) == 1
    assert "install the export extra" in capsys.readouterr().err
    assert not (tmp_path / "bom.json").exists()


def test_export_bom_writes_a_file_once(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bom.cdx.json"
    assert main(["export-bom", str(ACME_GOVERNED), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"
    assert main(["export-bom", str(ACME_GOVERNED), "--out", str(out)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err


def test_a_plugin_relieved_of_a_connector_is_one_change_per_server() -> None:
    from blastradius.diff import diff_policies
    from blastradius.export.policy import snapshot_of

    d = diff_policies(snapshot_of(load_inventory(ACME)), snapshot_of(load_inventory(ACME_GOVERNED)))
    servers = {c.subject: c for c in d.changes if c.kind == "server"}
    gone = servers["mcp__plugin_renewal-campaigns_crm"]  # its deny rules go with the connector: wider on paper
    assert (gone.old, gone.new, gone.direction) == ("10 deny, 1 allow", "no rule", "widened")
    only_allows = servers["mcp__plugin_oncall-assistant_chat"]
    assert (only_allows.new, only_allows.direction) == ("no rule", "narrowed")
    assert not any(
        c.kind == "permission" and c.subject.startswith("mcp__plugin_renewal-campaigns_crm__") for c in d.changes
    )
    assert set(d.widened()) | set(d.narrowed()) == {c for c in d.changes if c.direction in ("widened", "narrowed")}


def test_an_inventory_of_json_files_is_not_taken_for_a_policy_export(tmp_path: Path, governed_export: Path) -> None:
    from blastradius.export.policy import is_policy_export

    (tmp_path / "teams.json").write_text('{"teams": [{"id": "t", "headcount": 3}]}')
    (tmp_path / "policy.json").write_text('{"connector": "crm", "row_limit": 10}')
    assert not is_policy_export(tmp_path)
    assert is_policy_export(governed_export) and is_policy_export(governed_export / CONNECTOR_POLICY_DIR)
    assert is_policy_export(governed_export / MANAGED_SETTINGS_FILE) and not is_policy_export(ACME / "teams.yaml")
