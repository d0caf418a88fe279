"""Overlays: changes laid over an inventory by id, checked at the boundary, written back from a scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blastradius import load_inventory
from blastradius.defaults import DEFAULT_SEED
from blastradius.errors import BlastRadiusError, OverlayError
from blastradius.levers import with_alert, with_approval_gate, with_kill_switch, with_read_only, with_row_limit
from blastradius.model import SettingsSource
from blastradius.overlay import (
    apply_overlay_data,
    apply_overlays,
    overlay_from_changes,
    read_overlay,
    write_inventory,
    write_overlay,
)
from blastradius.scores import score_plugins
from blastradius.simulate import simulate_failures, summarize

ACME = Path(__file__).resolve().parents[1] / "inventories" / "acme"


@pytest.fixture(scope="module")
def acme():
    return load_inventory(ACME)


@pytest.fixture(scope="module")
def scenario(acme):
    """The example changed by several levers and a catch rate laid over its assumptions."""
    inv = with_approval_gate(acme, "ap-autopilot", "pay")
    inv = with_read_only(inv, "hris")
    inv = with_row_limit(inv, "company-data", 1000)
    inv = with_kill_switch(inv, "renewal-campaigns", 600)
    inv = with_alert(inv, "billing", rows_over=100)
    layer = SettingsSource(data={"controls": {"approval_gate_catch_rate": 0.5}}, file="<workshop>", path="assumptions")
    return inv.replace(settings={**inv.settings, "assumptions": layer})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from blastradius.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path: Path, text: str, name: str = "o.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_overlay_of_a_scenario_reproduces_its_scores_and_simulation(acme, scenario):
    doc = overlay_from_changes(acme, scenario, description="the agreed scenario")
    assert doc["plugins"]["ap-autopilot"] == {"requires_approval": {"add": ["pay"]}}
    assert doc["connectors"]["hris"] == {"access": "read-only"}
    assert doc["assumptions"] == {"controls": {"approval_gate_catch_rate": 0.5}}
    overlaid = apply_overlay_data(acme, doc)
    assert score_plugins(overlaid).equals(score_plugins(scenario))
    a = summarize(simulate_failures(overlaid, trials=300, seed=4), "enterprise", by_class=True)
    b = summarize(simulate_failures(scenario, trials=300, seed=4), "enterprise", by_class=True)
    assert a.equals(b)
    assert acme.connector_by_id["hris"].access.value == "read-write"  # the original is untouched


def test_saved_overlay_is_validated_and_reproduced_by_the_commands(acme, scenario, tmp_path, capsys):
    path = write_overlay(overlay_from_changes(acme, scenario, description="agreed"), tmp_path / "agreed.yaml")
    before = {p: p.read_bytes() for p in ACME.rglob("*") if p.is_file()}
    code, out, _ = run(capsys, "validate", str(ACME), "--overlay", str(path))
    assert code == 0 and "with" in out and "agreed.yaml" in out
    code, out, _ = run(capsys, "score", str(ACME), "--overlay", str(path), "--format", "json")
    assert code == 0
    shown = {r["plugin"]: r["blast_radius"] for r in json.loads(out)}
    expected = score_plugins(scenario).set_index("plugin").blast_radius
    assert shown == pytest.approx(expected.to_dict(), rel=1e-9)  # JSON keeps 10 decimals
    code, out, _ = run(capsys, "simulate", str(ACME), "--overlay", str(path), "--trials", "300", "--format", "json")
    assert code == 0
    by_class = json.loads(out)["by_class"]
    lib = summarize(simulate_failures(scenario, trials=300, seed=DEFAULT_SEED), "enterprise", by_class=True)
    assert [r["records_p95"] for r in by_class] == pytest.approx(lib.records_p95.tolist(), rel=1e-12)
    assert before == {p: p.read_bytes() for p in ACME.rglob("*") if p.is_file()}


def test_write_overlay_refuses_to_overwrite(acme, scenario, tmp_path):
    doc = overlay_from_changes(acme, scenario, description="x")
    path = write_overlay(doc, tmp_path / "x.yaml")
    with pytest.raises(BlastRadiusError, match="refusing to overwrite"):
        write_overlay(doc, path)
    assert write_overlay(doc, path, overwrite=True) == path


def test_unknown_ids_and_selectors_are_reported_with_file_line_and_a_suggestion(acme, tmp_path):
    path = _write(
        tmp_path,
        "overlay: 1\n"
        "description: typos\n"
        "plugins:\n"
        "  ap-autopliot:\n"
        "    requires_approval: {add: [pay]}\n"
        "  renewal-campaigns:\n"
        "    requires_approval: {add: [emial.send_email, sned]}\n"
        "connectors:\n"
        "  hirs: {access: read-only}\n"
        "  company-data: {allowed_tables: {set: [no_such_table]}}\n",
    )
    with pytest.raises(OverlayError) as info:
        apply_overlays(acme, [path])
    text = str(info.value)
    assert (
        f"{path}:4: plugins.ap-autopliot: no plugin 'ap-autopliot' in the inventory (did you mean 'ap-autopilot'?)"
        in text
    )
    assert "does not use connector 'emial' (did you mean 'email'?)" in text
    assert "'sned' is neither an action class nor CONNECTOR.TOOL (did you mean 'send'?)" in text
    assert f"{path}:9: connectors.hirs: no connector 'hirs'" in text and "did you mean 'hris'?" in text
    assert "no table 'no_such_table' here" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("description: no header\n", "not an overlay: no 'overlay:' format version"),
        ("overlay: 3\ndescription: x\n", "overlay: 3 is not allowed here; expected 1 or 2"),
        ("overlay: 1\ndescription: x\nconectors: {}\n", "unknown key 'conectors' (did you mean 'connectors'?)"),
        ("overlay: 1\ndescription: x\nconnectors: {hris: {row_limit: -5}}\n", "connectors.hris.row_limit"),
        ("overlay: 1\ndescription: x\nconnectors: {hris: {acess: read-only}}\n", "did you mean 'access'?"),
        (
            "overlay: 1\ndescription: x\nassumptions: {controls: {approval_gate_catch_rate: 2}}\n",
            "assumptions.controls",
        ),
        (
            "overlay: 1\ndescription: x\nconnectors: {billing: {audit: {alert_if_rows_returned_over: 20000}}}\n",
            "above the row limit 10,000",
        ),
        ("- a list\n", "expected a mapping"),
        (
            "overlay: 1\ndescription: x\nconnectors: {crm: {allowed_tables: {add: [accounts]}}}\n",
            "every table is allowed now",
        ),
        ("overlay: 1\ndescription: [unclosed\n", "invalid YAML"),
        (
            "overlay: 1\ndescription: x\nplugins: {renewal-campaigns: {blocked: {remove: [send]}}}\n",
            "'send' is not in the plugin's list",
        ),
    ],
)
def test_bad_overlays_are_refused_with_where_and_why(acme, tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(OverlayError, match="problem") as info:
        apply_overlays(acme, [path])
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_overlay_file_is_an_input_error(tmp_path, capsys):
    code, _, err = run(capsys, "score", str(ACME), "--overlay", str(tmp_path / "nope.yaml"))
    assert code == 1 and "no such file" in err and "Traceback" not in err


def test_overlays_apply_in_order_and_warn_about_another_base(acme, tmp_path):
    first = _write(
        tmp_path, "overlay: 1\ndescription: a\nbase: other\nconnectors: {crm: {row_limit: 5000}}\n", "a.yaml"
    )
    second = _write(tmp_path, "overlay: 1\ndescription: b\nconnectors: {crm: {row_limit: 2000}}\n", "b.yaml")
    inv = apply_overlays(acme, [first, second])
    assert inv.connector_by_id["crm"].row_limit == 2000
    assert any("made for inventory 'other'" in str(w) for w in inv.warnings)
    overlay, _ = read_overlay(first)
    assert overlay.base == "other"


def test_an_overlay_cannot_say_what_levers_it_does_not_know(acme):
    from blastradius.levers import without_plugin

    with pytest.raises(BlastRadiusError, match="plugins added or removed"):
        overlay_from_changes(acme, without_plugin(acme, "ap-autopilot"), description="x")


def test_an_inventory_written_whole_loads_back_to_the_same_figures(acme, scenario, tmp_path):
    overlaid = apply_overlay_data(acme, overlay_from_changes(acme, scenario, description="x"))
    loaded = load_inventory(write_inventory(overlaid, tmp_path / "whole").parent)
    assert score_plugins(loaded).equals(score_plugins(overlaid))
    a = summarize(simulate_failures(loaded, trials=200, seed=2), "plugin")
    b = summarize(simulate_failures(overlaid, trials=200, seed=2), "plugin")
    assert a.equals(b)
    with pytest.raises(BlastRadiusError, match="not empty"):
        write_inventory(overlaid, tmp_path / "whole")


# --- format 2: a plugin's users, per team entry -------------------------------------------------------------------

USERS = (
    "overlay: 2\n"
    "description: calibrated runs\n"
    "plugins:\n"
    "  ap-autopilot:\n"
    "    users:\n"
    "      finance-ap: {runs_per_user_per_day: 4.0, users: 30}\n"
    "      procurement:\n"
    "        runs_per_user_per_day: {value: 3.5, range: [2.0, 5.0], source: logs of October}\n"
)


def test_format_2_patches_the_team_entries_a_plugin_has(acme, tmp_path):
    inv = apply_overlays(acme, [_write(tmp_path, USERS)])
    users = {u.team: (u.users, u.runs_per_user_per_day) for u in inv.plugin_by_id["ap-autopilot"].users}
    assert users == {"finance-ap": (30, 4.0), "procurement": (20, 3.5)}
    assert inv.runs_per_day(inv.plugin_by_id["ap-autopilot"]) == 30 * 4.0 + 20 * 3.5
    assert inv.plugin_by_id["crm-hygiene"] == acme.plugin_by_id["crm-hygiene"]
    # the scores read the new runs: fewer runs of ap-autopilot, a lower likelihood
    before = score_plugins(acme).set_index("plugin").loc["ap-autopilot"]
    after = score_plugins(inv).set_index("plugin").loc["ap-autopilot"]
    assert after["runs_per_day"] < before["runs_per_day"]


def test_format_1_files_stay_valid_and_cannot_change_users(acme, tmp_path):
    old = _write(tmp_path, "overlay: 1\ndescription: x\nconnectors: {crm: {row_limit: 500}}\n", "old.yaml")
    assert apply_overlays(acme, [old]).connector_by_id["crm"].row_limit == 500
    with pytest.raises(OverlayError, match="format 1 cannot change a plugin's users") as info:
        apply_overlays(acme, [_write(tmp_path, USERS.replace("overlay: 2", "overlay: 1"), "v1.yaml")])
    assert "write 'overlay: 2'" in str(info.value) and ":5: plugins.ap-autopilot.users" in str(info.value)


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ("finance-ab: {users: 3}", "no users in team 'finance-ab'"),
        ("finance-ab: {users: 3}", "did you mean 'finance-ap'?"),
        ("sales-ae: {users: 3}", "team 'sales-ae' is in the inventory, but plugin 'ap-autopilot' has no users"),
        ("finance-ap: {users: 100000}", "has a headcount of"),
        ("finance-ap: {runs_per_user_per_day: -1.0}", "plugins.ap-autopilot.users.finance-ap.runs_per_user_per_day"),
        ("finance-ap: {runs_per_user_per_day: 20000.0}", "runs_per_user_per_day"),
        ("finance-ap: {runs_per_user_per_day: {value: 9.0, range: [1.0, 2.0]}}", "does not hold the value 9.0"),
        ("finance-ap: {runs: 2.0}", "unknown key 'runs'"),
    ],
)
def test_bad_users_are_refused_with_where_and_why(acme, tmp_path, users, message):
    path = _write(tmp_path, f"overlay: 2\ndescription: x\nplugins:\n  ap-autopilot:\n    users:\n      {users}\n")
    with pytest.raises(OverlayError) as info:
        apply_overlays(acme, [path])
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_change_of_users_is_written_as_format_2_and_round_trips(acme, tmp_path):
    changed = apply_overlays(acme, [_write(tmp_path, USERS)])
    doc = overlay_from_changes(acme, changed, description="runs")
    assert doc["overlay"] == 2
    assert doc["plugins"]["ap-autopilot"]["users"] == {
        "finance-ap": {"runs_per_user_per_day": 4.0, "users": 30},
        "procurement": {"runs_per_user_per_day": 3.5},
    }
    assert apply_overlay_data(acme, doc).plugins == changed.plugins
    plain = overlay_from_changes(acme, with_row_limit(acme, "crm", 100), description="x")
    assert plain["overlay"] == 1  # what format 1 can say is written as format 1, for older readers
