"""Loading inventories: the examples, the seed shapes, merging, and every kind of bad input."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from blastradius import InventoryError, load_inventory
from blastradius.loader import read_document
from blastradius.model import Access, Classification

from conftest import ACME, ACME_GOVERNED, D6_POLICY, D7_GOVERNANCE, ROOT, mini_inventory, write_inventory

DOMAIN = ROOT.parent / "shared" / "DOMAIN.md"


# --- the examples ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ACME, ACME_GOVERNED], ids=["acme", "acme-governed"])
def test_examples_load(path: Path) -> None:
    inv = load_inventory(path)
    summary = inv.summary()
    assert 3_900 <= summary["people"] <= 4_200  # the seeds' 4,000 people
    assert {"finance", "sales", "legal", "hr"} <= {t.department_name for t in inv.teams}
    assert summary["plugins"] >= 8 and summary["connectors"] >= 8
    assert summary["records"] > 1_000_000
    assert any(g.count == 2_310 and g.kind.value == "contacts" for g in inv.people)


def test_example_holds_the_seed_files_verbatim() -> None:
    for inventory in (ACME, ACME_GOVERNED):
        assert (inventory / "policies" / "finance-warehouse.json").read_text(encoding="utf-8").strip() == D6_POLICY
        assert (inventory / "governance.json").read_text(encoding="utf-8").strip() == D7_GOVERNANCE


def test_loading_never_touches_the_input(tmp_path: Path) -> None:
    copy = shutil.copytree(ACME, tmp_path / "acme")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in copy.rglob("*") if p.is_file()}
    load_inventory(copy)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in copy.rglob("*") if p.is_file()}
    assert before == after


# --- the seed shapes (DOMAIN.md D6, D7) ---------------------------------------------------------


def _domain_block(section: str) -> str:
    text = DOMAIN.read_text(encoding="utf-8")
    body = text.split(f"## {section}.", 1)[1]
    return re.search(r"```json\n(.*?)\n```", body, re.S).group(1)


@pytest.mark.skipif(
    not DOMAIN.exists() and os.environ.get("CI") != "true",
    reason="DOMAIN.md is not beside this checkout (under CI=true it must be: CI clones beside shared/)",
)
def test_seed_snippets_are_byte_for_byte_those_of_domain_md() -> None:
    assert _domain_block("D6") == D6_POLICY
    assert _domain_block("D7") == D7_GOVERNANCE


def test_d6_policy_file_merges_into_its_connector(mini: Path) -> None:
    inv = load_inventory(mini)
    conn = inv.connector_by_id["finance-warehouse"]
    assert conn.access is Access.READ_ONLY
    assert conn.allowed_tables == ("deals", "regions", "forecasts")
    assert conn.denied_columns == ("ssn", "bank_account", "comp_individual")
    assert conn.row_limit == 50_000 and conn.requires_approval is False
    assert conn.audit.log_every_query and conn.audit.alert_if_rows_returned_over == 25_000
    assert conn.tools[0].name == "query"  # the definition's own fields are kept
    assert inv.origin("connector.row_limit", "finance-warehouse").file.endswith("finance-warehouse.json")


def _d7_definitions() -> dict:
    return {
        "systems": [{"id": "salesforce"}, {"id": "wiki"}, {"id": "stripe"}],
        "connectors": [
            {"id": "crm", "system": "salesforce", "tools": [{"name": "update", "action": "write"}]},
            {"id": "knowledge_base", "system": "wiki", "tools": [{"name": "search", "action": "read"}]},
            {"id": "billing", "system": "stripe", "tools": [{"name": "invoices", "action": "read"}]},
        ],
    }


def test_d7_governance_file_merges_by_connector_id(tmp_path: Path) -> None:
    inv = load_inventory(write_inventory(tmp_path, {"governance.json": D7_GOVERNANCE, "c.yaml": _d7_definitions()}))
    crm = inv.connector_by_id["crm"]
    assert (crm.access, crm.tier, crm.approved_by) == (Access.READ_WRITE, 3, "VP Ops")
    assert inv.connector_by_id["knowledge_base"].access is Access.READ_ONLY
    assert inv.connector_by_id["billing"].approved_by == "Finance"
    assert inv.governance.review_tiers["3"].control == "dual-review + audit"
    assert "PII export to unapproved destinations" in inv.governance.prohibited
    assert inv.governance.audit.log[-1] == "output_hash"


def test_governance_can_sit_in_a_yaml_section_with_integer_tier_keys(tmp_path: Path) -> None:
    doc = {
        **_d7_definitions(),
        "governance": {
            "connectors": {
                "crm": {"access": "read-write"},
                "knowledge_base": {"access": "read-only"},
                "billing": {"access": "read-only"},
            },
            "review_tiers": {1: {"rule": "internal", "control": "spot-check"}},
            "re_review_days": 30,
        },
    }
    inv = load_inventory(write_inventory(tmp_path, {"all.yaml": doc}))
    assert inv.governance.review_tiers["1"].control == "spot-check"
    assert inv.governance.re_review_days == 30


def test_governance_naming_an_undefined_connector_suggests_the_right_one(tmp_path: Path) -> None:
    defs = _d7_definitions()
    defs["connectors"][0]["id"] = "crm-main"
    with pytest.raises(
        InventoryError,
        match=r"governance\.json:2: connectors\.crm: unknown connector 'crm' \(did you mean 'crm-main'\?\)",
    ):
        load_inventory(write_inventory(tmp_path, {"governance.json": D7_GOVERNANCE, "c.yaml": defs}))


def test_conflicting_values_in_two_files_are_reported(tmp_path: Path) -> None:
    files = mini_inventory()
    files["connectors.yaml"]["connectors"][0]["access"] = "read-write"
    with pytest.raises(
        InventoryError, match=r"finance-warehouse\.json:1: access: conflicts with connector 'finance-warehouse'"
    ):
        load_inventory(write_inventory(tmp_path, files))


# --- the model --------------------------------------------------------------------------------


def test_records_are_immutable(mini: Path) -> None:
    inv = load_inventory(mini)
    with pytest.raises(ValidationError, match="frozen"):
        inv.plugins[0].owner = "sales"
    with pytest.raises(ValidationError, match="frozen"):
        inv.plugins = ()
    assert isinstance(inv.plugins, tuple)


def test_nested_and_top_level_datasets_and_csv_tables_load_alike(tmp_path: Path) -> None:
    files = mini_inventory()
    system = files["systems.yaml"]["systems"][0]
    nested = system.pop("datasets")
    files["datasets.csv"] = (
        "id,system,records,classification,columns\n"
        + "\n".join(
            f"{d['id']},warehouse,{d['records']},{d.get('classification', '')},"
            + '"'
            + ";".join(f"{k}:{v}" for k, v in d.get("columns", {}).items())
            + '"'
            for d in nested
        )
        + "\n"
    )
    from_csv = load_inventory(write_inventory(tmp_path / "csv", files))
    nested_inv = load_inventory(write_inventory(tmp_path / "nested", mini_inventory()))
    assert from_csv.datasets == nested_inv.datasets
    payroll = from_csv.dataset_by_id["payroll"]
    assert payroll.effective_classification() is Classification.PII
    assert payroll.effective_classification(frozenset({"ssn"})) is Classification.FINANCIAL


def test_results_do_not_depend_on_how_files_are_split_or_ordered(tmp_path: Path) -> None:
    files = mini_inventory()
    merged: dict = {}
    for data in files.values():
        if isinstance(data, dict):
            for key, value in data.items():
                merged[key] = list(reversed(value)) + merged.get(key, [])
    one = load_inventory(write_inventory(tmp_path / "one", {"everything.yaml": merged, "p.json": D6_POLICY}))
    many = load_inventory(write_inventory(tmp_path / "many", files))
    for field in ("teams", "plugins", "connectors", "systems", "datasets", "people"):
        assert getattr(one, field) == getattr(many, field), field


def test_a_single_file_is_an_inventory(tmp_path: Path) -> None:
    path = write_inventory(tmp_path, {"inv.yaml": {"teams": [{"id": "ops", "headcount": 3}]}}) / "inv.yaml"
    assert load_inventory(path).summary()["people"] == 3


def test_unknown_sizes_are_counted_not_zero(tmp_path: Path) -> None:
    files = mini_inventory()
    del files["systems.yaml"]["systems"][0]["datasets"][0]["records"]
    del files["systems.yaml"]["systems"][1]["people"][0]["count"]
    summary = load_inventory(write_inventory(tmp_path, files)).summary()
    assert summary["records_unknown"] == 1 and summary["people_groups_unknown"] == 1


def test_warnings_do_not_stop_loading(tmp_path: Path) -> None:
    files = mini_inventory()
    files["connectors.yaml"]["connectors"].append({"id": "mystery", "access": "read-only"})
    files["connectors.yaml"]["connectors"][1]["denied_columns"] = ["snn"]
    inv = load_inventory(write_inventory(tmp_path, files))
    messages = [str(w) for w in inv.warnings]
    assert any("connector 'mystery' names no system" in m for m in messages)
    assert not any("snn" in m for m in messages)  # the mail system describes no columns: nothing to compare
    files["connectors.yaml"]["connectors"][0]["denied_columns"] = ["snn"]
    files.pop("policies/finance-warehouse.json")
    files["connectors.yaml"]["connectors"][0]["access"] = "read-only"
    inv = load_inventory(write_inventory(tmp_path / "b", files))
    assert any("column 'snn'" in str(w) and "did you mean 'ssn'" in str(w) for w in inv.warnings)


# --- bad input: each problem, where it is and how to fix it ------------------------------------


def _broken(tmp_path: Path, mutate) -> Path:
    files = mini_inventory()
    mutate(files)
    return write_inventory(tmp_path / "broken", files)


def _teams(f):
    return f["teams.yaml"]["teams"]


def _plugins(f):
    return f["plugins.yaml"]["plugins"]


def _connectors(f):
    return f["connectors.yaml"]["connectors"]


BAD = {
    "typo in a key": (
        lambda f: _teams(f)[0].update(headcont=_teams(f)[0].pop("headcount")),
        r"teams\.yaml:\d+: teams\[0\]\.headcont: unknown key 'headcont' \(did you mean 'headcount'\?\)",
    ),
    "string where a number belongs": (
        lambda f: _teams(f)[1].update(headcount="nine hundred"),
        r"teams\.yaml:\d+: teams\[1\]\.headcount: input should be a valid integer, got 'nine hundred'",
    ),
    "number written as a string": (
        lambda f: _teams(f)[1].update(headcount="900"),
        r"teams\[1\]\.headcount: input should be a valid integer, got '900'",
    ),
    "negative count": (
        lambda f: f["systems.yaml"]["systems"][1]["people"][0].update(count=-5),
        r"systems\[1\]\.people\[0\]\.count: must not be negative, got -5",
    ),
    "dangling connector id": (
        lambda f: _plugins(f)[0].update(connectors=["finance-warehous"]),
        r"plugins\.yaml:\d+: plugins\[0\]\.connectors\[0\]: unknown connector 'finance-warehous' \(did you mean "
        r"'finance-warehouse'\?\)",
    ),
    "dangling team id": (
        lambda f: _plugins(f)[1].update(owner="sale"),
        r"plugins\[1\]\.owner: unknown team 'sale' \(did you mean 'sales'\?\)",
    ),
    "duplicate id": (
        lambda f: _teams(f).append({"id": "finance", "headcount": 3}),
        r"teams\[2\]\.id: duplicate team id 'finance' \(first defined at .*teams\.yaml: teams\[0\]",
    ),
    "alert threshold above the row limit": (
        lambda f: f.update({"policies/finance-warehouse.json": D6_POLICY.replace("25000", "75000")}),
        r"finance-warehouse\.json:5: audit\.alert_if_rows_returned_over: alert threshold 75,000 is above the row limit "
        r"50,000",
    ),
    "unknown action class": (
        lambda f: _connectors(f)[1]["tools"][0].update(action="sned"),
        r"connectors\[1\]\.tools\[0\]\.action: 'sned' is not allowed here; expected .* \(did you mean 'send'\?\)",
    ),
    "approval selector that is neither an action nor a tool": (
        lambda f: _plugins(f)[1].update(requires_approval=["snd"]),
        r"plugins\[1\]\.requires_approval\[0\]: 'snd' is neither an action class nor CONNECTOR\.TOOL \(did you mean "
        r"'send'\?\)",
    ),
    "selector naming a connector the plugin does not use": (
        lambda f: _plugins(f)[0].update(blocked=["email.send_campaign"]),
        r"plugins\[0\]\.blocked\[0\]: plugin 'fin-analyst' does not use connector 'email'",
    ),
    "selector naming a tool that does not exist": (
        lambda f: _plugins(f)[1].update(blocked=["email.send_campaing"]),
        r"connector 'email' has no tool 'send_campaing' \(did you mean 'send_campaign'\?\)",
    ),
    "tool subset naming an unknown tool": (
        lambda f: _plugins(f)[1]["connectors"][1].update(tools=["querry"]),
        r"plugins\[1\]\.connectors\[1\]\.tools\[0\]: connector 'finance-warehouse' has no tool 'querry' \(did you mean "
        r"'query'\?\)",
    ),
    "more users than the team has": (
        lambda f: _plugins(f)[0]["users"][0].update(users=401),
        r"plugins\[0\]\.users\[0\]\.users: 401 users but team 'finance' has a headcount of 400",
    ),
    "allowed table that does not exist": (
        lambda f: f.update({"policies/finance-warehouse.json": D6_POLICY.replace('"regions"', '"region"')}),
        r"finance-warehouse\.json:2: allowed_tables\[1\]: system 'warehouse' has no table 'region' \(did you mean "
        r"'regions'\?\)",
    ),
    "missing access": (
        lambda f: f.pop("policies/finance-warehouse.json"),
        r"connectors\[0\]\.access: connector 'finance-warehouse' has no access level \(set access: read-only or "
        r"read-write",
    ),
    "bad id": (
        lambda f: _teams(f)[0].update(id="fin ance"),
        r"teams\[0\]\.id: 'fin ance' is not a valid id",
    ),
    "a section that is not a list": (
        lambda f: f["teams.yaml"].update(teams={"id": "x"}),
        r"teams\.yaml:1: teams: 'teams' must be a list of records, got dict",
    ),
    "unknown section": (
        lambda f: f["teams.yaml"].update(team=[]),
        r"teams\.yaml:\d+: team: unknown section 'team' \(did you mean 'teams'\?\)",
    ),
    "YAML syntax error": (
        lambda f: f.update({"extra.yaml": "plugins:\n  - id: x\n    owner: [unclosed\n"}),
        r"extra\.yaml:4: invalid YAML: .*did not find expected ',' or ']'",
    ),
    "a key given twice": (
        lambda f: f.update({"extra.yaml": "teams:\n  - id: x\n    headcount: 1\n    headcount: 2\n"}),
        r"extra\.yaml:4: invalid YAML: .*found key 'headcount' twice \(first on line 3\)",
    ),
    "an unsafe YAML tag": (
        lambda f: f.update({"extra.yaml": "teams: !!python/object/apply:os.system ['true']\n"}),
        r"extra\.yaml:1: invalid YAML: .*could not determine a constructor",
    ),
    "JSON syntax error": (
        lambda f: f.update({"extra.json": '{"teams": [\n  {"id": "x",}\n]}'}),
        r"extra\.json:2: invalid JSON: Expecting property name",
    ),
    "a file that is not an inventory": (
        lambda f: f.update({"notes.yaml": {"title": "minutes", "attendees": 4}}),
        r"notes\.yaml: not an inventory: top-level keys 'title', 'attendees' are none of the inventory sections",
    ),
    "a list at the top level": (
        lambda f: f.update({"list.json": "[1, 2]"}),
        r"list\.json: not an inventory: the top level is a list, not a mapping",
    ),
    "an empty file": (
        lambda f: f.update({"empty.yaml": ""}),
        r"empty\.yaml: empty file",
    ),
    "CSV with a bad number": (
        lambda f: f.update({"datasets.csv": "id,system,records\nledger,warehouse,12\nnotes,warehouse,lots\n"}),
        r"datasets\.csv:3: datasets\[1\]\.records: input should be a valid integer, got 'lots'",
    ),
    "CSV with an unknown column": (
        lambda f: f.update({"datasets.csv": "id,system,recods\nledger,warehouse,12\n"}),
        r"datasets\.csv:2: datasets\[0\]\.recods: unknown key 'recods' \(did you mean 'records'\?\)",
    ),
    "CSV of an unknown table": (
        lambda f: f.update({"servers.csv": "id\nx\n"}),
        r"servers\.csv: a CSV file must hold one table: datasets, people or teams",
    ),
    "nested dataset naming another system": (
        lambda f: f["systems.yaml"]["systems"][0]["datasets"][0].update(system="mail"),
        r"systems\[0\]\.datasets\[0\]\.system: nested under system 'warehouse' but says system 'mail'",
    ),
    "two policies for one connector": (
        lambda f: f.update({"policies/again.json": D6_POLICY}),
        r"json:1: connector: second policy for connector 'finance-warehouse' \(the first is in .*json; keep one",
    ),
}


@pytest.mark.parametrize(("mutate", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_reported_with_file_key_and_fix(tmp_path: Path, mutate, expected: str) -> None:
    with pytest.raises(InventoryError, match=expected):
        load_inventory(_broken(tmp_path, mutate))


def test_every_problem_is_listed_in_one_error(tmp_path: Path) -> None:
    def mutate(f):
        _teams(f)[0]["headcont"] = _teams(f)[0].pop("headcount")
        _plugins(f)[0]["connectors"] = ["finance-warehous"]
        _teams(f)[1]["headcount"] = "many"
        f["extra.yaml"] = "plugins:\n  - id: x\n   owner: y\n"

    with pytest.raises(InventoryError) as info:
        load_inventory(_broken(tmp_path, mutate))
    text = str(info.value)
    assert text.startswith("5 problems in inventory")
    for fragment in (
        "unknown key 'headcont'",
        "missing required key 'headcount'",
        "unknown connector 'finance-warehous'",
        "got 'many'",
        "extra.yaml:3: invalid YAML",
    ):
        assert fragment in text
    assert all(p.file is not None and p.line is not None for p in info.value.problems)


def test_a_record_that_failed_is_not_reported_again_through_its_references(tmp_path: Path) -> None:
    def mutate(f):
        f["systems.yaml"]["systems"][1]["people"][0]["count"] = -1  # breaks system 'mail'

    with pytest.raises(InventoryError) as info:
        load_inventory(_broken(tmp_path, mutate))
    assert len(info.value.problems) == 1
    assert "unknown system 'mail'" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p, r"no such file or directory"),
        (lambda p: (p.mkdir(), p)[1], r"no inventory files found \(\*\.yaml, \*\.yml, \*\.json, \*\.csv\)"),
        (lambda p: (p.mkdir(), (p / "README.md").write_text("hi"), p)[2], r"no inventory files found"),
    ],
    ids=["missing directory", "empty directory", "directory without inventory files"],
)
def test_nothing_to_load_is_an_error(tmp_path: Path, make, expected: str) -> None:
    with pytest.raises(InventoryError, match=expected):
        load_inventory(make(tmp_path / "inv"))


def test_not_utf8_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"teams:\n  - id: \xff\xfe\n")
    with pytest.raises(InventoryError, match=r"a\.yaml: not UTF-8 text"):
        load_inventory(tmp_path)


def test_hidden_files_and_other_suffixes_are_ignored(mini: Path) -> None:
    (mini / ".draft.yaml").write_text("garbage: [")
    (mini / "notes.md").write_text("# notes")
    (mini / ".git").mkdir()
    (mini / ".git" / "x.json").write_text("{")
    assert load_inventory(mini).summary()["plugins"] == 2


def test_a_schema_file_beside_the_inventory_is_not_read_as_part_of_it(mini: Path) -> None:
    (mini / "inventory.schema.json").write_text('{"$schema": "https://json-schema.org/draft/2020-12/schema"}')
    assert load_inventory(mini).summary()["plugins"] == 2


def test_a_misspelt_key_is_one_problem_not_two(tmp_path: Path) -> None:
    files = mini_inventory()
    conn = files["connectors.yaml"]["connectors"][1]
    conn["acess"] = conn.pop("access")
    with pytest.raises(InventoryError) as info:
        load_inventory(write_inventory(tmp_path, files))
    assert len(info.value.problems) == 1
    assert "unknown key 'acess' (did you mean 'access'?)" in str(info.value)


# --- settings sections: checked at load, like every other section --------------------------------


SETTINGS_BAD = {
    "weights section with a typo": (
        {"weights.yaml": "weights:\n  gate_miss_rate: 0.1\n  gate_mis_rate: 0.2\n"},
        r"weights\.yaml:3: weights\.gate_mis_rate: unknown key 'gate_mis_rate' \(did you mean 'gate_miss_rate'\?\)",
    ),
    "weights section inline in an inventory file": (
        {
            "teams.yaml": {
                "teams": [{"id": "finance", "headcount": 400}, {"id": "sales", "headcount": 900}],
                "weights": {"review_miss_rate": {"2": 1.5}},
            }
        },
        r"teams\.yaml:\d+: weights\.review_miss_rate\.2: input should be less than or equal to 1, got 1\.5",
    ),
    "assumptions with a misspelt section": (
        {"assumptions.yaml": "assumptions:\n  controls:\n    approval_gate_catch_rte: 0.5\n"},
        r"assumptions\.yaml:3: assumptions\.controls\.approval_gate_catch_rte: unknown key 'approval_gate_catch_rte' "
        r"\(did you mean 'approval_gate_catch_rate'\?\)",
    ),
    "assumptions naming a plugin the inventory lacks": (
        {
            "assumptions.yaml": "assumptions:\n  plugins:\n    outreach: {}\n    fin-analist:\n      halt: "
            "{manual_hours: 2.0}\n"
        },
        r"assumptions\.yaml:4: assumptions\.plugins\.fin-analist: no plugin 'fin-analist' in the inventory "
        r"\(did you mean 'fin-analyst'\?\)",
    ),
    "an interval written backwards": (
        {"assumptions.yaml": "assumptions:\n  failure_rates:\n    wrong_action: {low: 0.01, high: 0.001}\n"},
        r"assumptions\.yaml:3: assumptions\.failure_rates\.wrong_action: the lower bound 0\.01 is above the upper "
        r"bound",
    ),
    "acceptance with a bad rule id": (
        {
            "acceptances.yaml": "acceptances:\n  - rule: BR1O1\n    subject: email\n    owner: CISO\n    reason: r\n"
            "    expires: 2027-01-01\n"
        },
        r"acceptances\.yaml:2: acceptances\[0\]\.rule: string should match pattern",
    ),
    "acceptance without an owner": (
        {
            "acceptances.yaml": "acceptances:\n  - rule: BR101\n    subject: email\n    reason: r\n    expires: "
            "2027-01-01\n"
        },
        r"acceptances\.yaml:2: acceptances\[0\]\.owner: missing required key 'owner'",
    ),
}


@pytest.mark.parametrize(("extra", "expected"), SETTINGS_BAD.values(), ids=SETTINGS_BAD.keys())
def test_settings_sections_are_checked_at_load(tmp_path: Path, extra: dict, expected: str) -> None:
    files = {**mini_inventory(), **extra}
    with pytest.raises(InventoryError, match=expected):
        load_inventory(write_inventory(tmp_path, files))


def test_settings_problems_are_listed_with_every_other_problem(tmp_path: Path) -> None:
    files = mini_inventory()
    files["teams.yaml"]["teams"][0]["headcont"] = files["teams.yaml"]["teams"][0].pop("headcount")
    files["weights.yaml"] = "weights:\n  gate_mis_rate: 0.2\n  fan_out_slope: -1.0\n"
    files["assumptions.yaml"] = "assumptions:\n  plugins:\n    outrech: {}\n"
    with pytest.raises(InventoryError) as info:
        load_inventory(write_inventory(tmp_path, files))
    text = str(info.value)
    for fragment in (
        "weights.yaml:2: weights.gate_mis_rate: unknown key",
        "weights.yaml:3: weights.fan_out_slope",
        "assumptions.yaml:3: assumptions.plugins.outrech: no plugin 'outrech'",
        "unknown key 'headcont'",
    ):
        assert fragment in text
    assert all(p.line is not None for p in info.value.problems)


def test_valid_settings_load_and_reach_the_analyses(tmp_path: Path) -> None:
    from blastradius.settings import load_assumptions, load_weights

    files = {
        **mini_inventory(),
        "settings.yaml": {
            "weights": {"gate_miss_rate": 0.2},
            "assumptions": {"plugins": {"outreach": {}}},
            "acceptances": [
                {"rule": "BR101", "subject": "email", "owner": "CISO", "reason": "r", "expires": "2027-01-01"}
            ],
        },
    }
    inv = load_inventory(write_inventory(tmp_path, files))
    assert set(inv.settings) == {"weights", "assumptions", "acceptances"}
    assert load_weights(inventory=inv).gate_miss_rate == 0.2
    assert "outreach" in load_assumptions(inventory=inv).plugins


def test_validate_rejects_a_settings_typo_with_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from blastradius.cli import main

    files = {**mini_inventory(), "weights.yaml": "weights: {gate_mis_rate: 0.2}\n"}
    root = write_inventory(tmp_path / "inv", files)
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"weights\.yaml:1: weights\.gate_mis_rate: unknown key 'gate_mis_rate' \(did you mean 'gate_miss_rate'\?\)", err
    )
    assert "Traceback" not in err


# --- lines recorded at load ------------------------------------------------------------------------


def _line(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``text``."""
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_the_loader_records_the_line_of_every_record(mini: Path) -> None:
    inv = load_inventory(mini)
    email = inv.origin("connector", "email")
    assert email.line == _line(mini / "connectors.yaml", "id: email")
    assert email.line_of("tools[0].fan_out") == _line(mini / "connectors.yaml", "fan_out: 2310")
    assert email.line_of("tools[0].nope") == _line(mini / "connectors.yaml", "name: send_campaign")
    nested = inv.origin("people", "prospects")  # nested under its system
    assert (nested.path, nested.line) == ("systems[1].people[0]", _line(mini / "systems.yaml", "id: prospects"))
    policy = inv.origin("connector.audit", "finance-warehouse")  # a field merged from the D6 policy file
    assert (policy.path, policy.line, policy.line_of("alert_if_rows_returned_over")) == ("audit", 5, 5)
    assert all(o.line is not None for kind, _ in inv.origins for o in [inv.origins[(kind, _)]] if o.path)


def test_csv_records_are_on_their_row(tmp_path: Path) -> None:
    files = {**mini_inventory(), "datasets.csv": "id,system,records\n\nledger,warehouse,12\n"}
    inv = load_inventory(write_inventory(tmp_path, files))
    origin = inv.origin("dataset", "ledger")
    assert (origin.path, origin.line, origin.line_of("records")) == ("datasets[0]", 3, 3)


def test_findings_take_their_lines_from_the_load_not_from_the_files(tmp_path: Path) -> None:
    from blastradius.findings import Evidence, Finding, Severity, locate

    copy = shutil.copytree(ACME, tmp_path / "acme")
    inv = load_inventory(copy)
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
    read = [docs[e.file].line_of(e.path) for e in evidence]  # each file read again, before it changes
    for file in copy.rglob("*.*"):
        file.write_text("changed: after loading\n")  # the recorded lines must not come from here
    recorded = [e.line for e in locate([finding], inventory=inv)[0].evidence]
    assert recorded == read
    assert sum(line is not None for line in recorded) > 0.9 * len(recorded)


# --- the files of an inventory --------------------------------------------------------------------


def test_inventory_files_skip_schemas_hidden_files_and_other_suffixes(mini: Path) -> None:
    from blastradius.loader import inventory_files

    before = inventory_files(mini)
    (mini / "inventory.schema.json").write_text('{"$schema": "https://json-schema.org/draft/2020-12/schema"}')
    (mini / ".draft.yaml").write_text("garbage: [")
    (mini / "notes.md").write_text("# notes")
    assert inventory_files(mini) == before
    assert [p.relative_to(mini).as_posix() for p in before] == [
        "connectors.yaml",
        "plugins.yaml",
        "policies/finance-warehouse.json",
        "systems.yaml",
        "teams.yaml",
    ]


def test_a_schema_file_does_not_change_the_report_fingerprint(mini: Path) -> None:
    from blastradius.report import fingerprint

    before = fingerprint(mini)
    (mini / "inventory.schema.json").write_text('{"$schema": "https://json-schema.org/draft/2020-12/schema"}')
    assert fingerprint(mini) == before
    (mini / "teams.yaml").write_text((mini / "teams.yaml").read_text() + "# a comment\n")
    assert fingerprint(mini) != before
