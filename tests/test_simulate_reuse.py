"""A simulation drawn like another (only the plugins whose inputs differ drawn again) is the simulation afresh.

The sensitivity and the report's package reuse what a baseline simulation drew: the plan of the plugins whose
paths a setting leaves alone, and the figures of the plugins whose kernel inputs it leaves alone. Every figure
must be the one each run simulated afresh gives, on the example and on a synthetic enterprise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blastradius import load_inventory
from blastradius.analysis import Analysis
from blastradius.simulate import sensitivity, simulate_failures, summarize
from blastradius.simulate.engine import _changed, _draw, _Drawn
from blastradius.simulate.plan import _plan, _replan
from blastradius.simulate.sensitivity import _ranged_assumptions, _ranged_stand_ins
from blastradius.sweep.scenarios import Setting, _with_settings

from conftest import ACME

TRIALS, SEED = 150, 5


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from blastradius.synth import write_enterprise

    root = tmp_path_factory.mktemp("reuse")
    return write_enterprise(root / "corp", people=1_500, plugins=40, connectors=15, systems=10, datasets=300, seed=3)


@pytest.fixture(scope="module", params=["acme", "synthetic"])
def analysis(request: pytest.FixtureRequest, synthetic: Path) -> Analysis:
    return Analysis(load_inventory(ACME if request.param == "acme" else synthetic))


def settings_of(an: Analysis) -> list[Setting]:
    """Every setting the sensitivity tries: each ranged assumption and stand-in at both ends of its range."""
    varied = _ranged_assumptions(an.assumptions) + _ranged_stand_ins(an.weights)
    return [Setting(kind=v.kind, key=v.key, value=end) for v in varied for end in (v.low, v.high)]


def assert_same(a: _Drawn, b: _Drawn) -> None:
    ra, rb = a.result, b.result
    assert ra.plugins == rb.plugins and ra.trials == rb.trials
    for name in rb.values:
        np.testing.assert_array_equal(ra.columns[name], rb.columns[name], err_msg=name)
        np.testing.assert_array_equal(ra.values[name], rb.values[name], err_msg=name)
    np.testing.assert_array_equal(ra.systematic_runs_affected, rb.systematic_runs_affected)
    np.testing.assert_array_equal(ra.runs, rb.runs)
    assert ra.reachable_records == rb.reachable_records and ra.reachable_people == rb.reachable_people


def test_every_sensitivity_row_is_each_run_simulated_afresh(analysis: Analysis) -> None:
    df = sensitivity(analysis, trials=TRIALS, seed=SEED, statistics=("mean", "p50", "p95", "p99"), metric="incidents")
    assert len(df) == len(settings_of(analysis)) // 2 > 20
    rows = df.set_index("key")
    figures = [f"{m}_{s}" for m in ("records", "people", "incidents") for s in ("mean", "p50", "p95", "p99")]

    def afresh(an: Analysis) -> pd.Series:
        return summarize(simulate_failures(an, trials=TRIALS, seed=SEED), "enterprise").iloc[0]

    base = afresh(analysis)
    for setting in settings_of(analysis):
        side = "low" if setting.value == rows.loc[setting.key, "range_low"] else "high"
        ent = afresh(_with_settings(analysis, [setting]))
        for figure in figures:
            assert rows.loc[setting.key, f"{figure}_at_{side}"] == ent[figure], (setting, figure)
            assert rows.loc[setting.key, f"{figure}_baseline"] == base[figure], figure


def test_every_setting_drawn_like_the_baseline_is_drawn_afresh(analysis: Analysis) -> None:
    base = _draw(analysis, trials=TRIALS + 100, root=SEED)
    assert_same(base.head(TRIALS), _draw(analysis, trials=TRIALS, root=SEED))  # trial t does not depend on trials
    some_reused, faults_alone = False, set()
    for i, setting in enumerate(settings_of(analysis)):
        changed = _with_settings(analysis, [setting])
        like = base if i % 2 else base.head(TRIALS)  # from more trials, or as many
        fresh = _draw(changed, trials=TRIALS, root=SEED)
        assert_same(_draw(changed, trials=TRIALS, root=SEED, like=like), fresh)
        some_reused |= any(
            a.paths is b.paths for a, b in zip(_replan(changed, analysis, base.plans), base.plans, strict=True)
        )
        chosen, faults = _changed(base, fresh.tables, fresh.columns)
        if faults.size and faults.size == chosen.size:
            faults_alone.add(setting.key)
    assert some_reused
    # the settings of faults alone draw the plugins' faults again, and copy their one-off figures
    assert {"detection.unaided_hours", "detection.audit_review_hours", "systematic.onsets_per_period"} <= faults_alone
    assert not faults_alone & {"failure_rates.wrong_action", "magnitude.wrong_action_targets"}


def test_the_plan_taken_from_another_is_the_plan(analysis: Analysis) -> None:
    plans = _plan(analysis)
    for setting in settings_of(analysis):
        changed = _with_settings(analysis, [setting])
        assert _replan(changed, analysis, plans) == _plan(changed), setting


def test_a_changed_inventory_drawn_like_its_baseline_is_drawn_afresh(analysis: Analysis) -> None:
    from blastradius import levers

    inv = analysis.inventory
    conn = next(c for p in inv.plugins for c in map(inv.connector_by_id.get, p.connector_ids) if not c.is_read_only)
    changed_inv = levers.with_kill_switch(levers.with_read_only(inv, conn.id), inv.plugins[-1].id, 30.0)
    changed = Analysis(changed_inv, weights=analysis.weights, assumptions=analysis.assumptions)
    base = _draw(analysis, trials=TRIALS, root=SEED)
    fresh = _draw(changed, trials=TRIALS, root=SEED)
    chosen, _ = _changed(base, fresh.tables, fresh.columns)
    assert 0 < len(chosen) < len(inv.plugins)  # some drawn again, some copied
    assert_same(_draw(changed, trials=TRIALS, root=SEED, like=base), fresh)


def test_nothing_is_reused_across_seeds_or_from_fewer_trials() -> None:
    an = Analysis(load_inventory(ACME))
    other = _with_settings(an, [Setting(kind="assumption", key="halt.manual_hours", value=2.0)])
    short = _draw(an, trials=50, root=SEED)
    assert_same(_draw(other, trials=80, root=SEED, like=short), _draw(other, trials=80, root=SEED))
    assert_same(_draw(other, trials=50, root=SEED + 1, like=short), _draw(other, trials=50, root=SEED + 1))
