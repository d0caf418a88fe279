"""Sensitivity: every ranged assumption at both ends of its range, on common random numbers; its tornado and command."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from blastradius import BlastRadiusError, load_inventory, plots
from blastradius.analysis import Analysis
from blastradius.cli import main
from blastradius.settings import default_weights
from blastradius.simulate import (
    SENSITIVITY_TRIALS,
    assumptions_table,
    dominant_assumption,
    sensitivity,
    simulate_failures,
    summarize,
)
from blastradius.simulate.sensitivity import STAND_INS

from conftest import ACME, mini_inventory, write_inventory

matplotlib.use("Agg")  # draw without a display

TRIALS, SEED = 400, 13
FIXED = {"controls": {"approval_gate_catch_rate": {"value": 0.8, "range": [0.8, 0.8], "source": "a test"}}}


@pytest.fixture(scope="module")
def acme() -> Analysis:
    return Analysis(load_inventory(ACME))


@pytest.fixture(scope="module")
def swings(acme: Analysis) -> pd.DataFrame:
    return sensitivity(acme, trials=TRIALS, seed=SEED)


def ranged_keys(assumptions, weights) -> set[str]:
    """What the table should hold: every ranged assumption but per-plugin ones, every ranged stand-in."""
    table = assumptions_table(assumptions)
    ranged = table[table.range_low.notna() & ~table.key.str.startswith("plugins.")]
    stand_ins = {k for k in STAND_INS if (n := weights.provenance.get(k)) is not None and n.range is not None}
    return set(ranged.key) | stand_ins


def test_a_row_per_ranged_assumption(swings: pd.DataFrame, acme: Analysis) -> None:
    assert len(swings) == swings.key.nunique()
    assert set(swings.key) == ranged_keys(acme.assumptions, acme.weights)
    assert "failure_rates.data_leakage" in set(swings.key) and "period.working_days" not in set(swings.key)
    # the stand-ins the weights give a range for are varied too
    assert {k for k in STAND_INS if default_weights().provenance[k].range} <= set(swings.key)
    assert list(swings.columns[:7]) == ["key", "kind", "value", "range_low", "range_high", "source", "meaning"]
    for figure in ("records_p50", "records_p95", "people_p50", "people_p95"):
        for part in ("baseline", "at_low", "at_high", "swing"):
            assert f"{figure}_{part}" in swings.columns
        assert swings[f"{figure}_baseline"].nunique() == 1  # the baseline is simulated once
        assert (swings[f"{figure}_swing"] == (swings[f"{figure}_at_high"] - swings[f"{figure}_at_low"]).abs()).all()
    assert swings.records_p95_swing.is_monotonic_decreasing
    assert (swings.range_low <= swings.range_high).all() and (swings.source != "").all()
    gate = swings.set_index("key").loc["controls.approval_gate_catch_rate"]
    assert (gate.range_low, gate.range_high, gate.kind) == (0.5, 0.95, "assumption")


def test_an_assumption_fixed_at_both_ends_does_not_swing(acme: Analysis) -> None:
    key = "controls.approval_gate_catch_rate"
    df = sensitivity(acme, FIXED, trials=TRIALS, seed=SEED, keys=[key])
    row = df.iloc[0]
    assert (row.key, row.range_low, row.range_high, row.source) == (key, 0.8, 0.8, "a test")
    for figure in ("records_p50", "records_p95", "people_p50", "people_p95"):
        assert row[f"{figure}_swing"] == 0
        assert row[f"{figure}_at_low"] == row[f"{figure}_at_high"] == row[f"{figure}_baseline"]
    assert dominant_assumption(df) is None


@pytest.mark.parametrize("figure", ["records_p95", "records_p50", "people_p95"])
def test_a_higher_leak_rate_raises_the_figures(swings: pd.DataFrame, figure: str) -> None:
    row = swings.set_index("key").loc["failure_rates.data_leakage"]
    assert (row.range_low, row.range_high) == (0.00002, 0.0005)  # its own 90% interval
    assert row[f"{figure}_at_low"] <= row[f"{figure}_baseline"] < row[f"{figure}_at_high"]


def test_the_baseline_is_simulate_failures_on_the_same_seed(swings: pd.DataFrame, acme: Analysis) -> None:
    ent = summarize(simulate_failures(acme.inventory, trials=TRIALS, seed=SEED), "enterprise").iloc[0]
    for figure in ("records_p50", "records_p95", "people_p50", "people_p95"):
        assert swings[f"{figure}_baseline"].iloc[0] == pytest.approx(ent[figure], rel=1e-12)
        assert swings.attrs["baseline"][figure] == swings[f"{figure}_baseline"].iloc[0]
    assert swings.attrs["trials"] == TRIALS and swings.attrs["seed"] == SEED
    keys = ["failure_rates.wrong_action", "halt.manual_hours"]
    again = sensitivity(acme.inventory, trials=TRIALS, seed=SEED, keys=keys)  # the same numbers, run alone
    pd.testing.assert_frame_equal(again.set_index("key").loc[keys], swings.set_index("key").loc[keys])


def test_each_end_is_the_simulation_with_that_value(acme: Analysis) -> None:
    df = sensitivity(acme, trials=TRIALS, seed=SEED, keys=["failure_rates.wrong_action", "halt.manual_hours"])
    rows = df.set_index("key")
    for key, section, name, end, value in (
        ("failure_rates.wrong_action", "failure_rates", "wrong_action", "high", {"low": 0.003, "high": 0.003}),
        ("halt.manual_hours", "halt", "manual_hours", "low", 2.0),
    ):
        result = simulate_failures(acme, {section: {name: value}}, trials=TRIALS, seed=SEED)
        ent = summarize(result, "enterprise").iloc[0]
        assert rows.loc[key, f"records_p95_at_{end}"] == pytest.approx(ent.records_p95, rel=1e-12)
        assert rows.loc[key, f"people_p50_at_{end}"] == pytest.approx(ent.people_p50, rel=1e-12)


def test_the_inventorys_own_assumptions_still_apply(tmp_path: Path) -> None:
    files = mini_inventory()
    files["assumptions.yaml"] = {
        "assumptions": {
            "failure_rates": {"data_leakage": {"low": 0.001, "high": 0.004, "source": "our incident log"}},
            "controls": {"approval_gate_catch_rate": 0.9},  # plain: known exactly, not varied
        }
    }
    inv = load_inventory(write_inventory(tmp_path / "own", files))
    df = sensitivity(inv, trials=TRIALS, seed=SEED)
    ent = summarize(simulate_failures(inv, trials=TRIALS, seed=SEED), "enterprise").iloc[0]
    assert df.records_p95_baseline.iloc[0] == pytest.approx(ent.records_p95, rel=1e-12)
    rows = df.set_index("key")
    assert "controls.approval_gate_catch_rate" not in rows.index
    leak = rows.loc["failure_rates.data_leakage"]
    assert (leak.range_low, leak.range_high, leak.source) == (0.001, 0.004, "our incident log")
    # and an override given to the call is laid over the inventory's section, not instead of it
    over = sensitivity(
        inv, {"halt": {"manual_hours": 4.0}}, trials=TRIALS, seed=SEED, keys=["failure_rates.wrong_action"]
    )
    alone = summarize(
        simulate_failures(inv, {"halt": {"manual_hours": 4.0}}, trials=TRIALS, seed=SEED), "enterprise"
    ).iloc[0]
    assert over.records_p95_baseline.iloc[0] == pytest.approx(alone.records_p95, rel=1e-12)


def test_a_stand_in_is_varied_with_the_range_its_weights_give(acme: Analysis) -> None:
    weights = {"unknown_dataset_records": {"value": 1_000_000, "range": [100, 500_000_000], "source": "a test"}}
    df = sensitivity(acme, trials=TRIALS, seed=SEED, weights=weights, keys=["unknown_dataset_records"])
    row = df.iloc[0]
    assert (row.kind, row.range_low, row.range_high, row.source) == ("weight", 100, 500_000_000, "a test")
    assert row.records_p95_at_high > row.records_p95_at_low  # acme has a table of unknown size


def test_progress_counts_every_run(acme: Analysis) -> None:
    seen: list[tuple[int, int]] = []
    sensitivity(acme, trials=100, seed=1, keys=["halt.manual_hours"], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (300, 300) and all(t == 300 for _, t in seen)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"keys": ["failure_rates.data_leak"]},
            "no assumption 'failure_rates.data_leak' with a plausible range; did you mean 'failure_rates.data_leakage'",
        ),
        ({"keys": ["period.working_days"]}, "no assumption 'period.working_days' with a plausible range"),
        ({"metric": "recrods"}, "no metric 'recrods'; did you mean 'records'"),
        ({"statistics": ["p97"]}, "no statistic 'p97'"),
        ({"trials": 0}, "trials must be at least 1"),
        ({"seed": -1}, "seed must be 0 or more"),
    ],
)
def test_bad_arguments_say_what_is_wrong(acme: Analysis, kwargs: dict, message: str) -> None:
    with pytest.raises(BlastRadiusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sensitivity(acme, **{"trials": 10, "seed": 1, **kwargs})


def test_dominant_assumption_is_the_largest_swing(swings: pd.DataFrame) -> None:
    top = dominant_assumption(swings)
    assert top is not None and top.key == swings.key.iloc[0]
    people = dominant_assumption(swings, metric="people")
    assert people is not None and people.people_p95_swing == swings.people_p95_swing.max()


# --- the tornado ------------------------------------------------------------------------------------


def test_tornado_draws_one_bar_pair_per_assumption(swings: pd.DataFrame, tmp_path: Path) -> None:
    ax = plots.tornado(swings, top=12)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 12 and labels[0].split("\n")[0] == swings.key.iloc[0]
    assert f"12 of {len(swings)}" in ax.get_title()
    colours = {to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours <= {c.lower() for c in plots.RANGE_COLORS.values()}
    baseline = swings.records_p95_baseline.iloc[0]
    assert any(list(line.get_xdata()) == [baseline, baseline] for line in ax.get_lines())
    ax.figure.savefig(tmp_path / "tornado.png")
    assert (tmp_path / "tornado.png").stat().st_size > 10_000
    everything = plots.tornado(swings, top=None, metric="people")
    assert len(everything.get_yticklabels()) == len(swings) and "that move it most" not in everything.get_title()
    plt.close("all")


# --- the command ------------------------------------------------------------------------------------


def test_the_command_prints_a_tornado_and_names_the_dominant_assumption() -> None:
    from test_cli import run

    result = run("sensitivity", "inventories/acme", "--trials", "200", "--seed", "5")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "200 trials per run, seed 5" in out and "Interactions between assumptions are not shown" in out
    assert "fewer than 50 trials beyond the P95" in result.stderr and "use --trials 1,000 or more" in result.stderr
    assert "failure_rates.data_leakage" in out and "2e-05 → 0.0005" in out and "│" in out
    df = sensitivity(load_inventory(ACME), trials=200, seed=5)
    assert f"The figures depend most on {df.key.iloc[0]}" in out.replace("\n", " ")


def test_the_commands_help_gives_the_librarys_default() -> None:
    from test_cli import run

    assert f"(default: {SENSITIVITY_TRIALS:,})" in run("sensitivity", "--help").stdout.replace("\n", " ")


def test_the_command_writes_csv_and_json(capsys, tmp_path: Path) -> None:
    assert main(["sensitivity", str(ACME), "--trials", "100", "--seed", "2", "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert csv.splitlines()[0].startswith("key,kind,value,range_low,range_high,source,meaning,records_p50_baseline")
    out = tmp_path / "out" / "sensitivity.json"
    args = ["sensitivity", str(ACME), "--trials", "100", "--seed", "2", "--metric", "people", "--format", "json"]
    assert main([*args, "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["trials"] == 100 and data["seed"] == 2 and data["metric"] == "people"
    assert data["rows"][0]["people_p95_swing"] == max(r["people_p95_swing"] for r in data["rows"])
    assert set(data["baseline"]) == {"records_p50", "records_p95", "people_p50", "people_p95"}


def test_the_command_reports_bad_input_without_a_traceback(tmp_path: Path) -> None:
    from test_cli import run

    missing = run("sensitivity", str(tmp_path / "nope"))
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr
    assert "Traceback" not in missing.stderr + missing.stdout
    zero = run("sensitivity", "inventories/acme", "--trials", "0")
    assert zero.returncode == 2 and "argument --trials: must be from 1" in zero.stderr
    weights = tmp_path / "w.yaml"
    weights.write_text("gate_miss_rate: 0.2\n")
    clobber = run("sensitivity", "inventories/acme", "--weights", str(weights), "--out", str(weights))
    assert clobber.returncode == 1 and "refusing to overwrite" in clobber.stderr
    assert weights.read_text() == "gate_miss_rate: 0.2\n"
    inside = run("sensitivity", "inventories/acme", "--out", "inventories/acme/sensitivity.txt")
    assert (
        inside.returncode == 1 and "refusing to write" in inside.stderr and "reports/sensitivity.txt" in inside.stderr
    )
    assert not (ACME / "sensitivity.txt").exists()
    bad = tmp_path / "a.yaml"
    bad.write_text("controls:\n  approval_gate_catch_rate: 1.5\n")
    invalid = run("sensitivity", "inventories/acme", "--assumptions", str(bad))
    assert invalid.returncode == 1 and "a.yaml:2: controls.approval_gate_catch_rate" in invalid.stderr
    assert "Traceback" not in invalid.stderr
