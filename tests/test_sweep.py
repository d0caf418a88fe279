"""Scenario sweeps: the grid file, its expansion, the table, resume, failures, and the same numbers on Dask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from blastradius import load_inventory
from blastradius.analysis import Analysis
from blastradius.cli import main
from blastradius.decision import pareto_front
from blastradius.errors import ConfigError
from blastradius.simulate import sensitivity, simulate_failures, summarize
from blastradius.sweep import (
    LeverStep,
    Scenario,
    evaluate_scenarios,
    expand_grid,
    load_grid,
    run_sweep,
    scenario_seed,
)

from conftest import ACME

TRIALS, SEED = 300, 11

#: A small grid on the example: a gate, a department's connectors read-only, a halt time, one assumption.
GRID: dict[str, Any] = {
    "levers": {
        "gate-pay": {"kind": "gate", "plugin": "ap-autopilot", "actions": ["pay"]},
        "finance-read-only": {"kind": "read-only", "department": "finance"},
        "crm-rows": {"kind": "row-limit", "connector": "crm", "values": [1000]},
    },
    "assumptions": {"controls.approval_gate_catch_rate": [0.5]},
}


@pytest.fixture(scope="module")
def acme() -> Analysis:
    return Analysis(load_inventory(ACME))


@pytest.fixture(scope="module")
def in_process(acme: Analysis) -> Any:
    return run_sweep(acme, GRID, trials=TRIALS, seed=SEED)


@pytest.fixture(scope="module")
def cluster() -> Any:
    """A real local Dask cluster of two worker processes, started by the test (never skipped)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


# --- the same table wherever it runs ------------------------------------------------------------------


def test_two_workers_one_worker_and_this_process_give_the_same_table(acme: Analysis, in_process: Any, cluster: Any):
    seen: list[Any] = []
    two = run_sweep(
        acme,
        GRID,
        trials=TRIALS,
        seed=SEED,
        scheduler=cluster.scheduler_address,
        batch_size=3,  # batches cut differently from the default
        on_cluster=seen.append,
    )
    assert seen and seen[0].workers == 2
    one = run_sweep(acme, GRID, trials=TRIALS, seed=SEED, workers=1)
    assert len(in_process.table) == 2 * 2 * 2 * 2 and in_process.failures.empty
    pd.testing.assert_frame_equal(two.table, in_process.table, check_exact=True)
    pd.testing.assert_frame_equal(one.table, in_process.table, check_exact=True)
    pd.testing.assert_frame_equal(two.front, in_process.front, check_exact=True)


def test_the_sensitivity_tornado_on_dask_equals_the_one_in_process(acme: Analysis, cluster: Any) -> None:
    keys = ["failure_rates.data_leakage", "halt.manual_hours"]
    here = sensitivity(acme, trials=200, seed=3, keys=keys)
    there = sensitivity(acme, trials=200, seed=3, keys=keys, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(here, there, check_exact=True)
    assert here.attrs == there.attrs


def test_batches_do_not_change_the_numbers(acme: Analysis, in_process: Any) -> None:
    other = run_sweep(acme, GRID, trials=TRIALS, seed=SEED, batch_size=1)
    pd.testing.assert_frame_equal(other.table, in_process.table, check_exact=True)


# --- the table -----------------------------------------------------------------------------------------


def test_the_baseline_is_simulate_failures_on_the_same_seed(acme: Analysis, in_process: Any) -> None:
    row = in_process.table.set_index("scenario").loc["baseline"]
    expected = summarize(simulate_failures(acme, trials=TRIALS, seed=SEED), by="enterprise", intervals=True).iloc[0]
    for column in ("records_p50", "records_p95", "records_p99", "people_p95", "people_p95_low", "people_p95_high"):
        assert row[column] == expected[column]
    assert row.records_p95_low <= row.records_p95 <= row.records_p95_high


def test_reductions_are_against_the_same_world_with_every_lever_off(in_process: Any) -> None:
    t = in_process.table.set_index("scenario")
    world = "controls.approval_gate_catch_rate=0.5"
    row = t.loc[f"gate-pay=on,{world}"]
    assert row.baseline == world and row.world == world
    base = t.loc[world]
    assert row.records_p95_reduction == base.records_p95 - row.records_p95
    assert row.records_p95_reduction_pct == pytest.approx(100 * row.records_p95_reduction / base.records_p95)
    assert t.loc["baseline", "records_p95_reduction_pct"] == 0
    assert t.loc[world, "assumption:controls.approval_gate_catch_rate"] == 0.5
    assert pd.isna(t.loc["baseline", "assumption:controls.approval_gate_catch_rate"])
    assert t.loc["crm-rows=1000", "lever:crm-rows"] == "1000" and t.loc["baseline", "lever:gate-pay"] == "off"


def test_controls_that_only_remove_access_never_raise_a_figure(in_process: Any) -> None:
    t = in_process.table
    for metric in ("records_p50", "records_p95", "records_p99", "people_p95"):
        assert (t[f"{metric}_reduction"] >= 0).all(), metric


def test_the_front_is_decisions_pareto_front_within_each_world(in_process: Any) -> None:
    t = in_process.table
    for _, part in t.groupby("world"):
        assert part.on_front.tolist() == pareto_front(part, risk="risk_removed", cost="uses_lost").tolist()
    read_only = t.set_index("scenario").loc["finance-read-only=on"]
    assert read_only.uses_lost > 0 and "tables lost" in read_only.collateral
    gate = t.set_index("scenario").loc["gate-pay=on"]
    assert gate.uses_lost == 0 and gate.tools_gated == 1
    assert set(in_process.front.scenario) == set(t[t.on_front].scenario)


def test_one_at_a_time_varies_each_option_alone(acme: Analysis) -> None:
    grid = {**GRID, "expand": "one-at-a-time"}
    keys = [s.key for s in expand_grid(grid, acme)]
    assert keys == [
        "baseline",
        "gate-pay=on",
        "finance-read-only=on",
        "crm-rows=1000",
        "controls.approval_gate_catch_rate=0.5",
    ]


def test_a_range_is_both_ends_of_the_sourced_range(acme: Analysis) -> None:
    scenarios = expand_grid({"assumptions": {"controls.approval_gate_catch_rate": "range"}}, acme)
    assert [s.key for s in scenarios] == [
        "baseline",
        "controls.approval_gate_catch_rate=0.5",
        "controls.approval_gate_catch_rate=0.95",
    ]


def test_without_common_random_numbers_each_scenario_has_its_own_stream(acme: Analysis) -> None:
    grid = {**GRID, "common_random_numbers": False}
    a = run_sweep(acme, grid, trials=100, seed=SEED, batch_size=2)
    b = run_sweep(acme, grid, trials=100, seed=SEED, batch_size=5)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.table.seed.nunique() == len(a.table)
    assert scenario_seed(SEED, "x", common_random_numbers=False) != scenario_seed(
        SEED, "y", common_random_numbers=False
    )
    assert scenario_seed(SEED, "x") == SEED


# --- files, resume, failures ----------------------------------------------------------------------------


def test_the_command_writes_parquet_and_csv_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({**GRID, "trials": 200, "seed": 5}), encoding="utf-8")
    out = tmp_path / "out"
    args = ["sweep", str(ACME), "--grid", str(grid), "--out", str(out), "--workers", "0", "--batch-size", "4"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "16 scenarios: 16 done" in text and "Pareto front (as in use)" in text
    parquet = pd.read_parquet(out / "results.parquet")
    csv = pd.read_csv(out / "results.csv")
    assert len(parquet) == len(csv) == 16 and list(parquet.columns) == list(csv.columns)
    assert (pd.read_csv(out / "front.csv").on_front).all()
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["seed"] == 5 and manifest["trials"] == 200 and "every lever off" in manifest["reduction_of"]
    parts = sorted((out / "parts").glob("part-*.parquet"))
    assert len(parts) == 4
    parts[0].unlink()  # as if interrupted before that batch was written
    assert main(args) == 0
    assert "16 scenarios: 16 done (12 read back from an earlier run)" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), parquet, check_exact=True)
    # another seed reuses nothing
    assert main([*args, "--seed", "6"]) == 0
    assert "read back" not in capsys.readouterr().out


def test_an_interrupted_sweep_resumes_from_what_was_written(acme: Analysis, tmp_path: Path, in_process: Any) -> None:
    calls = []

    def stop_after_two_batches(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(acme, GRID, trials=TRIALS, seed=SEED, out=tmp_path, batch_size=3, progress=stop_after_two_batches)
    assert len(list((tmp_path / "parts").glob("*.parquet"))) == 2
    resumed = run_sweep(acme, GRID, trials=TRIALS, seed=SEED, out=tmp_path, batch_size=3)
    assert resumed.resumed == 6
    pd.testing.assert_frame_equal(resumed.table, in_process.table, check_exact=True)


def test_a_failed_scenario_is_reported_with_its_key_and_the_others_are_kept(acme: Analysis) -> None:
    good = Scenario(key="baseline")
    bad = Scenario(key="gate-ghost=on", levers=(LeverStep(kind="gate", target="ghost-plugin", selector="pay"),))
    outcomes = evaluate_scenarios(acme, [good, bad], trials=50, seed=1)
    assert outcomes["baseline"].row is not None and outcomes["baseline"].error is None
    assert outcomes["gate-ghost=on"].row is None and "no plugin 'ghost-plugin'" in str(outcomes["gate-ghost=on"].error)


def test_the_command_exits_1_naming_a_failed_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blastradius.sweep import execute

    real = execute.evaluate

    def failing(context: Any, scenario: Scenario, **kwargs: Any) -> Any:
        if scenario.key == "gate-pay=on":
            return execute.Outcome(key=scenario.key, row=None, error="the worker ran out of memory", seconds=0.0)
        return real(context, scenario, **kwargs)

    monkeypatch.setattr(execute, "evaluate", failing)
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"levers": {"gate-pay": GRID["levers"]["gate-pay"]}}), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["sweep", str(ACME), "--grid", str(grid), "--out", str(out), "--workers", "0", "--trials", "50"])
    assert code == 1
    text = capsys.readouterr().out
    assert "1 failed" in text and "failed: gate-pay=on: the worker ran out of memory" in text
    assert pd.read_csv(out / "failures.csv").scenario.tolist() == ["gate-pay=on"]
    assert pd.read_csv(out / "results.csv").scenario.tolist() == ["baseline"]


# --- bad grid files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (
            "expand: cartesain\nlevers:\n  g:\n    kind: gaet\n",
            [
                "grid.yaml:1: expand: 'cartesain' is not allowed here",
                "did you mean 'cartesian'?",
                "grid.yaml:4: levers.g.kind: 'gaet' is not allowed here",
            ],
        ),
        (
            "levers:\n  g:\n    kind: gate\n    plugin: ap-autopilto\n    actions: [pay]\n"
            "  s:\n    kind: scope\n    connector: billing\n    tables: [invoicez]\n"
            "assumptions:\n  failure_rates.wrong_actoin: range\n  controls.approval_gate_catch_rate: [1.5]\n",
            [
                "grid.yaml:2: levers.g: no plugin 'ap-autopilto' in the inventory (did you mean 'ap-autopilot'?)",
                "grid.yaml:6: levers.s: no table 'invoicez' on connector 'billing' (did you mean 'invoices'?)",
                'grid.yaml:11: assumptions["failure_rates.wrong_actoin"]: no numeric assumption',
                "did you mean 'failure_rates.wrong_action'?",
                'grid.yaml:12: assumptions["controls.approval_gate_catch_rate"][0]: 1.5 is not a valid value',
            ],
        ),
        (
            "levers:\n  h:\n    kind: halt-time\n    plugin: ap-autopilot\n"
            "  r:\n    kind: read-only\n    plugin: ap-autopilot\n",
            [
                "levers.h: a halt-time lever needs 'values' (seconds)",
                "levers.r: a read-only lever applies to a connector or department, not a plugin",
            ],
        ),
        ("levers: [1, 2]\n", ["grid.yaml:1: levers: expected a mapping of keys"]),
        ("trials: 10\n", ["the grid names no lever and no assumption"]),
        ("levers:\n  a: {kind: gate}\n  a: {kind: block}\n", ["grid.yaml:3: invalid YAML", "found key 'a' twice"]),
        ("assumptions:\n  halt.manual_hours: [high]\n", ["give 'range' (both ends of its sourced range) or a list"]),
    ],
)
def test_bad_grid_files_are_reported_with_file_line_and_key(
    text: str, messages: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(text, encoding="utf-8")
    assert main(["sweep", str(ACME), "--grid", str(grid), "--out", str(tmp_path / "out"), "--workers", "0"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for message in messages:
        assert message in err, (message, err)
    assert not (tmp_path / "out").exists()


def test_load_grid_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such file"):
        load_grid(tmp_path / "nope.yaml")


def test_the_command_refuses_to_write_into_its_inputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(GRID), encoding="utf-8")
    base = ["sweep", str(ACME), "--grid", str(grid), "--workers", "0"]
    assert main([*base, "--out", str(ACME / "sweep")]) == 1
    assert "refusing to write" in capsys.readouterr().err and not (ACME / "sweep").exists()
    assert main([*base, "--out", str(grid)]) == 1
    assert "is a file" in capsys.readouterr().err and grid.read_text() == yaml.safe_dump(GRID)
    assert main([*base, "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1", "--workers", "2"]) == 1
    assert "give one of them" in capsys.readouterr().err


def test_collateral_read_off_the_affected_plugins_equals_the_whole_inventorys(acme: Analysis) -> None:
    from blastradius.decision import collateral
    from blastradius.levers import access_changes
    from blastradius.sweep.scenarios import _affected, _Levers

    grid = {
        "levers": {
            "gate-sales": {"kind": "gate", "department": "sales", "actions": ["send", "write"]},
            "finance-read-only": {"kind": "read-only", "department": "finance"},
            "billing-scope": {"kind": "scope", "connector": "billing", "tables": ["invoices"]},
            "crm-block": {"kind": "block", "connector": "crm", "actions": ["write"]},
        }
    }
    inv = acme.inventory
    for scenario in expand_grid(grid, acme)[1:]:
        derived, cost = _Levers(acme).get(scenario.levers)
        assert cost == collateral(access_changes(acme, derived), inv), scenario.key
        assert set(_affected(inv, scenario.levers)) < {p.id for p in inv.plugins}


def test_the_grid_in_the_docs_is_valid_on_the_example(acme: Analysis, tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "sweeps.md").read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "grid.yaml").write_text(block, encoding="utf-8")
    grid, document = load_grid(tmp_path / "grid.yaml")
    assert len(expand_grid(grid, acme, document=document)) == 3_888


def test_with_pyarrow_installed_an_inventory_without_plugins_still_summarises_by_class() -> None:
    from blastradius.levers import without_plugin

    # the sweep extra (which the test extra includes) installs pyarrow, and pandas' text columns then use it
    inv = load_inventory(ACME)
    for p in list(inv.plugins):
        inv = without_plugin(inv, p.id)
    result = simulate_failures(inv, trials=10, seed=1)
    assert summarize(result, "plugin", by_class=True).empty
