"""Failure simulation: closed-form checks, each control's effect, seeds, common random numbers, errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blastradius import BlastRadiusError, ConfigError, InventoryError, load_inventory
from blastradius.levers import with_approval_gate, with_read_only
from blastradius.simulate import (
    FAILURE_MODES,
    METRICS,
    Interval,
    assumptions_table,
    compare,
    compare_levers,
    compare_results,
    exceedance_curve,
    failure_paths,
    load_assumptions,
    simulate_failures,
    summarize,
)
from blastradius.simulate.result import PARTS

from conftest import ACME, ACME_GOVERNED, write_inventory

WA, DL, WO, SY = (FAILURE_MODES.index(c) for c in ("wrong_action", "data_leakage", "wrong_output", "systematic"))

#: Only one class at a time: the others never fail.
QUIET = {
    "failure_rates": {"wrong_action": 0.0, "data_leakage": 0.0, "wrong_output": 0.0},
    "systematic": {"onsets_per_period": 0.0},
}


def only(**changes: Any) -> dict[str, Any]:
    """QUIET assumptions with some sections changed."""
    out: dict[str, Any] = {k: dict(v) for k, v in QUIET.items()}
    for section, values in changes.items():
        out[section] = {**out.get(section, {}), **values}
    return out


def mailer_files(
    *,
    gated: bool = False,
    access: str = "read-write",
    audit: dict | None = None,
    kill_switch: dict | None = None,
    runs_per_user_per_day: float = 1.0,
    assumptions: dict | None = None,
) -> dict[str, Any]:
    """Two plugins: `mailer` sends to up to 100 of a million customers; `reader` reads a warehouse and reports to 3."""
    connectors = [
        {
            "id": "email",
            "system": "mail",
            "access": access,
            "leaves_org": True,
            "revocation": {"can_revoke": True, "time_to_revoke_seconds": 0.0},
            "tools": [{"name": "send", "action": "send", "fan_out": 100}],
            **({"audit": audit} if audit is not None else {}),
        },
        {
            "id": "warehouse",
            "system": "wh",
            "access": "read-only",
            "row_limit": 500,
            "tools": [{"name": "query", "action": "read"}],
        },
    ]
    mailer = {
        "id": "mailer",
        "owner": "ops",
        "users": [{"team": "ops", "users": 10, "runs_per_user_per_day": runs_per_user_per_day}],
        "connectors": ["email"],
        "output": "internal",
        "output_audience": 0,  # its output reaches nobody: its failures are its sends
        "kill_switch": kill_switch or {"can_pause": True, "time_to_pause_seconds": 60.0, "rehearsed_on": "2026-11-01"},
    }
    if gated:
        mailer["requires_approval"] = ["send"]
    files: dict[str, Any] = {
        "teams.yaml": {"teams": [{"id": "ops", "headcount": 100}, {"id": "finance", "headcount": 50}]},
        "systems.yaml": {
            "systems": [
                {"id": "mail", "people": [{"id": "customers", "kind": "customers", "count": 1_000_000}]},
                {
                    "id": "wh",
                    "datasets": [{"id": "ledger", "records": 20_000, "columns": {"amount": "financial"}}],
                },
            ]
        },
        "connectors.yaml": {"connectors": connectors},
        "plugins.yaml": {
            "plugins": [
                mailer,
                {
                    "id": "reader",
                    "owner": "finance",
                    "users": [{"team": "finance", "users": 20, "runs_per_user_per_day": 2}],
                    "connectors": ["warehouse"],
                    "output": "internal",
                    "output_audience": 3,
                    "review_tier": 3,
                },
            ]
        },
    }
    if assumptions is not None:
        files["assumptions.yaml"] = {"assumptions": assumptions}
    return files


def mailer(tmp_path: Path, name: str = "inv", **kw: Any):
    return load_inventory(write_inventory(tmp_path / name, mailer_files(**kw)))


def within(sample: np.ndarray, expected: float, sigmas: float = 4.0) -> bool:
    """The sample mean is within ``sigmas`` standard errors of ``expected``."""
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    return abs(sample.mean() - expected) <= sigmas * se + 1e-12


@pytest.fixture(scope="module")
def acme():
    return load_inventory(ACME)


@pytest.fixture(scope="module")
def governed():
    return load_inventory(ACME_GOVERNED)


@pytest.fixture(scope="module")
def synthetic_small(tmp_path_factory):
    from blastradius.synth import write_enterprise

    out = tmp_path_factory.mktemp("synthetic") / "inv"
    return load_inventory(
        write_enterprise(out, people=3_000, plugins=40, connectors=15, systems=12, datasets=150, seed=3)
    )


@pytest.fixture(scope="module")
def acme_result(acme):
    return simulate_failures(acme, trials=2_000, seed=11)


# --- closed form -----------------------------------------------------------------------------------


@pytest.mark.parametrize("events_per_period", [3.0, 300.0])  # magnitudes drawn; above EXACT the rest at their mean
def test_event_rate_and_mean_magnitude_match_the_closed_form(tmp_path: Path, events_per_period: float) -> None:
    runs = 10 * 1.0 * 63  # 10 users, one run a day, 63 working days
    p = events_per_period / runs
    q = 0.1
    inv = mailer(tmp_path)
    # a fixed size: every wrong send reaches 7 recipients, or all 100 with probability q
    a = only(failure_rates={"wrong_action": p}, magnitude={"wrong_action_targets": 7.0, "wrong_action_full_share": q})
    r = simulate_failures(inv, a, trials=20_000, seed=1)
    i = r.plugins.index("mailer")
    incidents = r.incidents[:, i, WA].astype(float)
    people = r.people_permanent[:, i, WA]
    per_event = q * 100 + (1 - q) * 7
    assert within(incidents, events_per_period)
    assert incidents.var(ddof=1) == pytest.approx(events_per_period, rel=0.1)  # Poisson
    assert within(people, events_per_period * per_event)
    assert r.records[:, i, WA].sum() == 0  # a send touches people, not tables
    assert r.people_recoverable.sum() == 0  # an immediate send cannot be undone
    # failure_paths gives the same expectation in closed form
    paths = failure_paths(inv, a).set_index(["plugin", "failure_class"])
    assert paths.loc[("mailer", "wrong_action"), "expected_people"] == pytest.approx(events_per_period * per_event)


def test_one_event_touches_a_lognormal_amount_clamped_to_its_bound(tmp_path: Path) -> None:
    # the magnitude law against an independent draw: exp(mu + sigma z) clamped to [1, 100], whole bound with q
    inv = mailer(tmp_path)
    low, high, q = 2.0, 400.0, 0.05
    a = only(
        failure_rates={"wrong_action": 1 / 630},  # one event a quarter on average
        magnitude={"wrong_action_targets": {"low": low, "high": high}, "wrong_action_full_share": q},
    )
    r = simulate_failures(inv, a, trials=40_000, seed=9)
    i = r.plugins.index("mailer")
    one = r.incidents[:, i, WA] == 1
    sizes = r.people[one, i, WA]
    z = np.random.default_rng(0).standard_normal(2_000_000)
    mu, sigma = math.log(math.sqrt(low * high)), math.log(high / low) / (2 * 1.6448536269514722)
    independent = np.where(np.random.default_rng(1).random(z.size) < q, 100.0, np.clip(np.exp(mu + sigma * z), 1, 100))
    assert within(sizes, independent.mean())
    assert np.quantile(sizes, 0.5) == pytest.approx(np.quantile(independent, 0.5), rel=0.05)
    assert (sizes >= 1).all() and (sizes <= 100).all() and (sizes == 100).mean() > q  # the bound: q plus the clamp
    paths = failure_paths(inv, a).set_index(["plugin", "failure_class"])
    assert paths.loc[("mailer", "wrong_action"), "expected_people"] / (630 / 630) == pytest.approx(
        independent.mean(), rel=0.01
    )


def test_wrong_output_reaches_its_audience_past_the_review_tier(tmp_path: Path) -> None:
    inv = mailer(tmp_path)
    r = simulate_failures(inv, only(failure_rates={"wrong_output": 0.01}), trials=5_000, seed=2)
    i = r.plugins.index("reader")  # 2,520 runs, review tier 3 stops 85%
    incidents = r.incidents[:, i, WO]
    assert within(incidents.astype(float), 2_520 * 0.01 * 0.15)
    # the same 3 readers however many wrong answers reach them: people are counted once
    assert np.array_equal(r.people_permanent[:, i, WO], np.minimum(incidents * 3.0, 3.0))
    assert (r.caught[:, i, WO] + incidents).mean() == pytest.approx(25.2, rel=0.05)


def test_a_leak_is_bounded_by_the_row_limit_and_needs_a_way_out(tmp_path: Path) -> None:
    inv = mailer(tmp_path)
    a = only(failure_rates={"data_leakage": 0.01}, controls={"internal_exposure_share": 0.5})
    r = simulate_failures(inv, a, trials=3_000, seed=3)
    i = r.plugins.index("reader")
    events = r.incidents[:, i, DL]
    assert within(events.astype(float), 2_520 * 0.01 * 0.5)  # no channel out: half are seen by colleagues
    assert (r.records_permanent[:, i, DL] <= events * 500 + 1e-6).all()  # one pull: at most the row limit
    assert (r.records[:, i, DL] <= 20_000).all()  # and never more than the ledger holds
    assert r.records_permanent[:, i, DL].max() > 0


def test_a_capped_leak_touches_the_whole_table_at_most(tmp_path: Path) -> None:
    # closed form at the cap: 1,260 leaks of exactly 500 records each, far more than the 20,000-record ledger holds
    inv = mailer(tmp_path)
    a = only(
        failure_rates={"data_leakage": 1.0},
        controls={"internal_exposure_share": 0.5},
        magnitude={"data_leakage_records": 500.0},
    )
    r = simulate_failures(inv, a, trials=200, seed=3)
    i = r.plugins.index("reader")
    assert (r.records[:, i, DL] == 20_000).all()
    assert summarize(r, by="enterprise", classes="data_leakage").records_p99.iloc[0] == 20_000


def test_many_systematic_faults_on_one_path_touch_its_reach_at_most(tmp_path: Path) -> None:
    inv = mailer(tmp_path)
    a = only(systematic={"onsets_per_period": 40.0}, magnitude={"data_leakage_records": 500.0})
    a["controls"] = {"internal_exposure_share": 1.0}
    r = simulate_failures(inv, a, trials=300, seed=4)
    i = r.plugins.index("reader")
    assert r.incidents[:, i, SY].min() > 1  # several faults a quarter, each touching up to 500 a run
    assert r.records[:, i, SY].max() == 20_000  # the ledger, once


def test_interval_draws_are_lognormal_with_the_stated_percentiles() -> None:
    iv = Interval.model_validate({"low": 1e-4, "high": 1e-3})
    draws = iv.draw(np.random.default_rng(0).standard_normal(200_000))
    assert np.quantile(draws, 0.05) == pytest.approx(1e-4, rel=0.02)
    assert np.quantile(draws, 0.95) == pytest.approx(1e-3, rel=0.02)
    assert draws.mean() == pytest.approx(iv.mean, rel=0.02)


# --- controls --------------------------------------------------------------------------------------


def test_a_gate_that_catches_everything_removes_the_wrong_action_damage(tmp_path: Path) -> None:
    a = only(
        failure_rates={"wrong_action": 0.02},
        systematic={"onsets_per_period": 1.0},
        controls={"approval_gate_catch_rate": 1.0},
    )
    r = simulate_failures(mailer(tmp_path, gated=True), a, trials=2_000, seed=4)
    i = r.plugins.index("mailer")
    for cls in (WA, SY):  # a systematic send is stopped at its first approval too
        assert r.people_permanent[:, i, cls].sum() == 0 and r.incidents[:, i, cls].sum() == 0
    assert r.caught[:, i, WA].sum() > 0 and r.caught[:, i, SY].sum() > 0


def test_a_gate_that_catches_nothing_removes_nothing(tmp_path: Path) -> None:
    a = only(
        failure_rates={"wrong_action": 0.02, "data_leakage": 0.01},
        systematic={"onsets_per_period": 1.0},
        controls={"approval_gate_catch_rate": 0.0},
    )
    ungated = simulate_failures(mailer(tmp_path, "a"), a, trials=2_000, seed=4)
    gated = simulate_failures(mailer(tmp_path, "b", gated=True), a, trials=2_000, seed=4)
    for name in METRICS:
        assert np.array_equal(ungated.metric(name), gated.metric(name)), name
    assert ungated.people_permanent[:, :, WA].sum() > 0


def test_a_gate_catches_its_share(tmp_path: Path) -> None:
    a = only(failure_rates={"wrong_action": 0.05}, controls={"approval_gate_catch_rate": 0.9})
    r = simulate_failures(mailer(tmp_path, gated=True), a, trials=4_000, seed=5)
    i = r.plugins.index("mailer")
    assert within(r.incidents[:, i, WA].astype(float), 630 * 0.05 * 0.1)


def test_read_only_connectors_do_no_wrong_action_damage(tmp_path: Path, governed) -> None:
    a = only(failure_rates={"wrong_action": 0.05}, systematic={"onsets_per_period": 2.0})
    r = simulate_failures(mailer(tmp_path, access="read-only"), a, trials=1_000, seed=6)
    i = r.plugins.index("mailer")  # its send is unusable on a read-only connector: it can do nothing
    assert r.incidents[:, :, WA].sum() == 0
    assert r.people_permanent[:, i].sum() == 0 and r.records_permanent[:, i].sum() == 0
    assert simulate_failures(mailer(tmp_path, "rw"), a, trials=1_000, seed=6).people_permanent[:, i, WA].sum() > 0
    # in the governed example, month-end-close only reads
    g = simulate_failures(governed, trials=500, seed=6)
    i = g.plugins.index("month-end-close")
    assert g.incidents[:, i, WA].sum() == 0 and g.records_permanent[:, i, WA].sum() == 0


@pytest.mark.parametrize("reversibility", ["soft-delete", "staged"])
def test_reversible_damage_is_reported_recoverable_at_its_recovery_rate(tmp_path: Path, reversibility: str) -> None:
    files = mailer_files()
    files["connectors.yaml"]["connectors"][0]["tools"][0]["reversibility"] = reversibility
    inv = load_inventory(write_inventory(tmp_path / "inv", files))
    a = only(failure_rates={"wrong_action": 0.05}, recovery={reversibility: 0.75})
    r = simulate_failures(inv, a, trials=3_000, seed=7)
    i = r.plugins.index("mailer")
    rec, perm = r.people_recoverable[:, i, WA], r.people_permanent[:, i, WA]
    assert rec.sum() == pytest.approx(0.75 * (rec.sum() + perm.sum()), rel=0.05)
    assert r.records_recoverable.sum() == 0  # a send touches people only
    always = simulate_failures(
        inv, only(failure_rates={"wrong_action": 0.05}, recovery={reversibility: 1.0}), trials=500, seed=7
    )
    assert always.people_permanent[:, i, WA].sum() == 0 and always.people_recoverable[:, i, WA].sum() > 0


def test_immediate_actions_are_never_recoverable(governed) -> None:
    paths = failure_paths(governed)
    actions = paths[paths.failure_class == "wrong_action"]
    assert (actions[actions.reversibility == "immediate"].recovery_rate == 0).all()
    assert (actions[actions.reversibility == "soft-delete"].recovery_rate == 0.9).all()
    assert (paths[paths.failure_class != "wrong_action"].recovery_rate == 0).all()  # leaks and outputs


def test_instant_detection_and_halt_bound_a_systematic_fault_to_one_run(tmp_path: Path) -> None:
    instant = {"alert_fires": 1.0, "alert_response_hours": 0.0, "audit_review_hours": 0.0, "unaided_hours": 0.0}
    a = only(systematic={"onsets_per_period": 3.0}, detection=instant, failure_rates={"wrong_action": 1e-9})
    inv = mailer(
        tmp_path,
        kill_switch={"can_pause": True, "time_to_pause_seconds": 0.0, "rehearsed_on": "2026-11-01"},
        runs_per_user_per_day=500.0,
    )
    r = simulate_failures(inv, a, trials=2_000, seed=8)
    i = r.plugins.index("mailer")
    faults = r.incidents[:, i, SY]
    assert faults.sum() > 1_000
    assert np.array_equal(r.runs_affected[:, i, SY], faults)  # one run per fault
    assert (r.people_permanent[:, i, SY] <= faults * 100 + 1e-6).all()  # one send's fan-out per fault


def test_without_alerts_or_audit_a_fault_runs_longer_and_reaches_further(tmp_path: Path) -> None:
    a = only(
        systematic={"onsets_per_period": 1.0},
        failure_rates={"wrong_action": 1e-9},
        magnitude={"wrong_action_full_share": 1.0},
    )
    watched = mailer(tmp_path, "a", audit={"log_every_query": True, "alert_if_sends_over": 10})
    blind = mailer(tmp_path, "b")
    rw = simulate_failures(watched, a, trials=4_000, seed=9)
    rb = simulate_failures(blind, a, trials=4_000, seed=9)
    i = rw.plugins.index("mailer")
    assert np.array_equal(rw.incidents[:, i, SY] > 0, rb.incidents[:, i, SY] > 0)  # the same faults
    runs_w, runs_b = rw.runs_affected[:, i, SY].mean(), rb.runs_affected[:, i, SY].mean()
    assert runs_b > 5 * runs_w
    assert rb.people_permanent[:, i, SY].mean() > 5 * rw.people_permanent[:, i, SY].mean()
    # the audit log alone is faster than nobody looking, slower than an alert
    logged = simulate_failures(mailer(tmp_path, "c", audit={"log_every_query": True}), a, trials=4_000, seed=9)
    assert runs_w < logged.runs_affected[:, i, SY].mean() < runs_b


def test_a_slow_kill_switch_lets_a_fault_run_longer(tmp_path: Path) -> None:
    a = only(
        systematic={"onsets_per_period": 1.0},
        failure_rates={"wrong_action": 1e-9},
        detection={"alert_fires": 1.0, "alert_response_hours": 0.1},
    )
    audit = {"log_every_query": True, "alert_if_sends_over": 1}
    fast = mailer(tmp_path, "a", audit=audit, runs_per_user_per_day=50.0)
    slow_files = mailer_files(
        audit=audit, runs_per_user_per_day=50.0, kill_switch={"can_pause": True, "time_to_pause_seconds": 7200.0}
    )
    slow_files["connectors.yaml"]["connectors"][0]["revocation"] = {"can_revoke": False}
    slow = load_inventory(write_inventory(tmp_path / "b", slow_files))
    rf = simulate_failures(fast, a, trials=3_000, seed=10)
    rs = simulate_failures(slow, a, trials=3_000, seed=10)
    i = rf.plugins.index("mailer")
    assert rs.runs_affected[:, i, SY].mean() > 3 * rf.runs_affected[:, i, SY].mean()


# --- randomness --------------------------------------------------------------------------------------


def test_same_seed_same_numbers_other_seed_other_sample_same_mean(acme) -> None:
    a = simulate_failures(acme, trials=3_000, seed=21)
    b = simulate_failures(acme, trials=3_000, seed=21)
    c = simulate_failures(acme, trials=3_000, seed=22)
    for name in METRICS:
        assert np.array_equal(a.metric(name), b.metric(name)), name
    assert not np.array_equal(a.people_permanent, c.people_permanent)
    for name in ("incidents", "people"):
        x = a.metric(name).sum(axis=(1, 2)).astype(float)
        y = c.metric(name).sum(axis=(1, 2)).astype(float)
        se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        assert abs(x.mean() - y.mean()) < 4 * se, name


def test_the_largest_seed_is_a_seed_like_any_other(acme) -> None:
    top = simulate_failures(acme, trials=50, seed=2**64 - 1)
    assert top.seed == 2**64 - 1
    assert np.array_equal(top.incidents, simulate_failures(acme, trials=50, seed=2**64 - 1).incidents)
    assert not np.array_equal(top.incidents, simulate_failures(acme, trials=50, seed=0).incidents)


def test_a_generator_seed_is_recorded_so_the_run_can_be_repeated(acme) -> None:
    r = simulate_failures(acme, trials=200, seed=np.random.default_rng(5))
    again = simulate_failures(acme, trials=200, seed=r.seed)
    assert np.array_equal(r.records_permanent, again.records_permanent)


def test_plugin_draws_do_not_depend_on_the_other_plugins(tmp_path: Path) -> None:
    a = only(failure_rates={"wrong_action": 0.02, "wrong_output": 0.01}, systematic={"onsets_per_period": 0.5})
    files = mailer_files()
    both = load_inventory(write_inventory(tmp_path / "a", files))
    files["plugins.yaml"]["plugins"] = files["plugins.yaml"]["plugins"][:1]
    alone = load_inventory(write_inventory(tmp_path / "b", files))
    r2 = simulate_failures(both, a, trials=1_000, seed=3)
    r1 = simulate_failures(alone, a, trials=1_000, seed=3)
    assert np.array_equal(r2.people_permanent[:, r2.plugins.index("mailer")], r1.people_permanent[:, 0])


def test_memory_grows_linearly_with_trials(acme) -> None:
    per_trial = None
    for trials in (1, 10, 5_000):  # 5,000 spans two blocks of trials
        r = simulate_failures(acme, trials=trials, seed=1)
        assert r.records_permanent.shape == (trials, len(acme.plugins), len(FAILURE_MODES))
        size = r.nbytes
        if per_trial is None:
            per_trial = size
        assert size == per_trial * trials
        # figures are stored only where they can be non-zero: less than the full arrays
        assert size < sum(r.metric(m).nbytes for m in METRICS if m not in ("records", "people"))


def test_figures_stored_only_where_they_can_be_non_zero_read_back_in_full(acme) -> None:
    r = simulate_failures(acme, trials=300, seed=8)
    assert r.records[:, :, WO].sum() == 0  # an output touches people, not records
    assert r.columns["records"][:, WO].max() == -1
    assert r.records_recoverable[:, :, DL].sum() == 0  # a leak cannot be undone
    for name in ("records", "records_permanent", "people_permanent", "incidents", "caught"):
        dense, columns = getattr(r, name), r.columns[name]
        assert dense.shape == (300, len(acme.plugins), len(FAILURE_MODES))
        assert np.array_equal(dense[:, columns >= 0], r.values[name][:, columns[columns >= 0]])
        if name not in PARTS:
            assert (dense[:, columns < 0] == 0).all()
    for part, whole in PARTS.items():
        # most damage cannot be undone: there the permanent part is the figure itself, and holds no column of its own
        own = r.columns[part] >= 0
        assert own.sum() < (r.columns[whole] >= 0).sum()
        assert own.any() == (part == "records_permanent")  # acme can undo some writes, never a send
        permanent, total = getattr(r, part), getattr(r, whole)
        assert np.array_equal(permanent[:, ~own], total[:, ~own])
        assert ((permanent >= 0) & (permanent <= total)).all()


def test_more_trials_extend_the_sample_trial_by_trial(acme) -> None:
    short = simulate_failures(acme, trials=1_500, seed=2)
    long = simulate_failures(acme, trials=3_000, seed=2)
    for name in ("records_permanent", "people_recoverable", "incidents", "caught", "runs_affected"):
        assert np.array_equal(getattr(short, name), getattr(long, name)[:1_500]), name


def test_progress_is_reported_per_block_of_trials(acme) -> None:
    calls: list[tuple[int, int]] = []
    simulate_failures(acme, trials=2_500, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1024, 2500), (2048, 2500), (2500, 2500)]
    calls.clear()
    compare(acme, acme, trials=100, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(100, 200), (200, 200)]


# --- reading figures -------------------------------------------------------------------------------------


def test_summaries_are_read_off_one_sample(acme_result) -> None:
    r = acme_result
    by_plugin = summarize(r, by="plugin")
    ent = summarize(r, by="enterprise").iloc[0]
    dept = summarize(r, by="department")
    assert set(by_plugin.group) == set(r.plugins) and set(dept.group) == set(r.departments)
    # incidents add up; records and people are distinct, so a group's never exceeds the sum of its members'
    assert by_plugin.incidents_mean.sum() == pytest.approx(ent.incidents_mean)
    assert dept.incidents_mean.sum() == pytest.approx(ent.incidents_mean)
    for m in ("records", "people"):
        assert ent[f"{m}_mean"] <= dept[f"{m}_mean"].sum() + 1e-6 <= by_plugin[f"{m}_mean"].sum() + 2e-6
    for m in ("records", "people", "incidents"):
        stats = by_plugin[[f"{m}_p50", f"{m}_p90", f"{m}_p95", f"{m}_p99"]].to_numpy()
        assert (np.diff(stats, axis=1) >= 0).all()
    total = r.incidents.sum(axis=(1, 2))
    assert ent.incidents_p95 == pytest.approx(np.quantile(total, 0.95))
    assert ent.records_mean == pytest.approx(ent.records_permanent_mean + ent.records_recoverable_mean)
    assert list(by_plugin.records_mean) == sorted(by_plugin.records_mean, reverse=True)
    per_class = summarize(r, by="enterprise", by_class=True)
    assert list(per_class.failure_class) == list(FAILURE_MODES)
    assert per_class.incidents_mean.sum() == pytest.approx(ent.incidents_mean)
    assert per_class.people_mean.sum() >= ent.people_mean - 1e-6


@pytest.mark.parametrize("name", ["acme", "acme-governed", "synthetic"])
def test_no_quarter_exceeds_what_can_be_reached(name: str, acme, governed, synthetic_small) -> None:
    inv = {"acme": acme, "acme-governed": governed, "synthetic": synthetic_small}[name]
    r = simulate_failures(inv, trials=2_000, seed=17)
    records, people = r.reachable()
    held = sum(d.records or 0 for d in inv.datasets) + 1_000_000 * sum(d.records is None for d in inv.datasets)
    assert records <= held  # the ceiling itself is what the inventory holds (stand-ins for unknown sizes)
    for by in ("plugin", "department", "enterprise"):
        df = summarize(r, by=by, by_class=True)
        for group, rows in df.groupby("group"):
            index = [i for i, p in enumerate(r.plugins) if by == "enterprise" or group in (p, r.departments[i])]
            cap_r, cap_p = r.reachable(index)
            for column in ("records_p99", "records_mean", "records_permanent_p99"):
                assert (rows[column] <= cap_r * (1 + 1e-6)).all(), (by, group, column)
            assert (rows.people_p99 <= cap_p * (1 + 1e-6)).all(), (by, group)
        totals = summarize(r, by=by)
        assert (totals.records_p99 <= records * (1 + 1e-6)).all() and (totals.people_p99 <= people * (1 + 1e-6)).all()
    # every trial, not only the percentiles: the enterprise maximum
    from blastradius.simulate.summaries import _grouped

    assert _grouped(r, "records", "enterprise")[1].max() <= records * (1 + 1e-6)
    assert _grouped(r, "people", "enterprise")[1].max() <= people * (1 + 1e-6)
    per_plugin = _grouped(r, "records", "plugin")[1]
    assert all(per_plugin[:, i].max() <= r.reachable([i])[0] * (1 + 1e-6) for i in range(len(r.plugins)))


def test_monte_carlo_intervals_cover_the_figure_and_narrow_with_trials(acme) -> None:
    small = summarize(simulate_failures(acme, trials=1_000, seed=5), by="enterprise", intervals=True).iloc[0]
    large = summarize(simulate_failures(acme, trials=8_000, seed=5), by="enterprise", intervals=True).iloc[0]
    for row in (small, large):
        for stat in ("mean", "p50", "p95", "p99"):
            assert row[f"records_{stat}_low"] <= row[f"records_{stat}"] <= row[f"records_{stat}_high"]
    width = {n: row.records_p95_high - row.records_p95_low for n, row in (("small", small), ("large", large))}
    assert width["large"] < width["small"]
    # another seed's estimate falls inside the interval (95% of the time: a fixed pair of seeds that does)
    other = summarize(simulate_failures(acme, trials=8_000, seed=6), by="enterprise").iloc[0]
    assert large.records_p50_low <= other.records_p50 <= large.records_p50_high


def test_the_exceedance_curve_reads_the_same_sample(acme_result) -> None:
    r = acme_result
    curve = exceedance_curve(r, "people")
    total = r.people.sum(axis=(1, 2))
    assert curve.exceedance.is_monotonic_decreasing
    assert curve.exceedance.iloc[-1] == 0.0
    p95 = np.quantile(total, 0.95)
    assert curve[curve.value >= p95].exceedance.iloc[0] <= 0.05
    at_zero = exceedance_curve(r, "incidents", by="plugin", points=10)
    assert set(at_zero.group) == set(r.plugins)
    for g, df in at_zero.groupby("group"):
        j = r.plugins.index(g)
        assert df.exceedance.iloc[0] == pytest.approx((r.incidents[:, j].sum(axis=1) > 0).mean())


def test_the_tidy_table_has_a_row_per_trial_plugin_and_class(acme_result) -> None:
    df = acme_result.to_frame()
    assert len(df) == 2_000 * 18 * 4
    assert list(df.columns[:4]) == ["trial", "plugin", "department", "failure_class"]
    row = df[(df.trial == 7) & (df.plugin == "ap-autopilot") & (df.failure_class == "wrong_action")].iloc[0]
    i = acme_result.plugins.index("ap-autopilot")
    assert row.records_permanent == acme_result.records_permanent[7, i, WA]
    with pytest.raises(ValueError, match="read-only"):
        acme_result.records_permanent[0, 0, 0] = 1.0  # results are read-only


# --- comparisons -------------------------------------------------------------------------------------------


def test_comparing_an_inventory_with_itself_gives_exactly_zero(acme) -> None:
    df = compare(acme, acme, trials=1_000, seed=3)
    cols = [c for c in df.columns if c.startswith("reduction")]
    assert (df[cols] == 0).all().all()
    assert set(df.level) == {"plugin", "enterprise"}


def test_the_governed_example_reduces_records_and_people(acme, governed) -> None:
    df = compare(acme, governed, trials=2_000, seed=3).set_index(["level", "group", "metric"])
    for metric in ("records", "people"):
        row = df.loc[("enterprise", "enterprise", metric)]
        assert row.reduction_p50 > 0 and row.reduction_p95 > 0 and row.reduction_mean > 0
        assert row.baseline_p95 == pytest.approx(row.controlled_p95 + row.reduction_p95)
    # plugins the containment work left alone are unchanged, trial by trial
    assert df.loc[("plugin", "hr-policy-answers", "people"), "reduction_mean"] == 0


def test_each_lever_is_priced_on_the_same_trials(acme) -> None:
    levers = {
        "gate ap-autopilot pay": lambda inv: with_approval_gate(inv, "ap-autopilot", "pay"),
        "read-only payments": lambda inv: with_read_only(inv, "payments"),
        "nothing": lambda inv: inv,
    }
    df = compare_levers(acme, levers, trials=1_500, seed=4, by="plugin").set_index(["lever", "group", "metric"])
    gate = df.loc[("gate ap-autopilot pay", "ap-autopilot", "records")]
    assert gate.reduction_mean > 0
    assert (df.xs("nothing")[["reduction_mean", "reduction_p50", "reduction_p95"]] == 0).all().all()
    others = df.xs("gate ap-autopilot pay").drop(index="ap-autopilot", level="group")
    assert (others.reduction_mean == 0).all()  # a lever on one plugin leaves the others' trials untouched


def test_results_from_other_seeds_are_not_compared(acme) -> None:
    a = simulate_failures(acme, trials=50, seed=1)
    b = simulate_failures(acme, trials=50, seed=2)
    with pytest.raises(BlastRadiusError, match="common random numbers"):
        compare_results(a, b)


# --- assumptions ---------------------------------------------------------------------------------------------


def test_a_per_plugin_override_in_an_assumptions_file(tmp_path: Path) -> None:
    inv = mailer(tmp_path)
    base = only(failure_rates={"wrong_action": 0.02, "wrong_output": 0.01})
    path = tmp_path / "a.yaml"
    path.write_text(
        "failure_rates: {wrong_action: 0.02, data_leakage: 0.0, wrong_output: 0.01}\n"
        "systematic: {onsets_per_period: 0.0}\n"
        "plugins:\n"
        "  mailer:\n"
        "    failure_rates: {wrong_action: 0.0}\n"
    )
    r = simulate_failures(inv, path, trials=1_000, seed=5)
    plain = simulate_failures(inv, base, trials=1_000, seed=5)
    i, j = r.plugins.index("mailer"), r.plugins.index("reader")
    assert r.incidents[:, i, WA].sum() == 0 and plain.incidents[:, i, WA].sum() > 0
    assert np.array_equal(r.people_permanent[:, j], plain.people_permanent[:, j])
    assert np.array_equal(r.people_permanent[:, i, WO], plain.people_permanent[:, i, WO])
    table = assumptions_table(r.assumptions).set_index("key")
    assert table.loc["plugins.mailer.failure_rates.wrong_action", "set_by"] == "override"
    assert table.loc["plugins.mailer.failure_rates.wrong_action", "file"] == str(path)


def test_the_inventory_section_then_the_override_file(tmp_path: Path) -> None:
    inv = mailer(tmp_path, assumptions={"controls": {"approval_gate_catch_rate": 0.5}, "period": {"working_days": 21}})
    path = tmp_path / "more.yaml"
    path.write_text("period:\n  working_days: 42\n")
    a = load_assumptions(path, inventory=inv)
    assert a.controls.approval_gate_catch_rate == 0.5 and a.period.working_days == 42
    table = assumptions_table(a).set_index("key")
    assert table.loc["controls.approval_gate_catch_rate", "set_by"] == "inventory"
    assert table.loc["controls.approval_gate_catch_rate", "file"].endswith("assumptions.yaml")
    assert table.loc["period.working_days", "set_by"] == "override"
    assert table.loc["magnitude.data_leakage_full_share", "set_by"] == "default"
    assert table.loc["failure_rates.wrong_action", "value"] == "0.0001 to 0.003 (90%)"
    assert (table.meaning != "").all()
    # every default carries a source; a value set without one says so by an empty source
    defaults = table[table.set_by == "default"]
    assert (defaults.source != "").all()
    assert table.loc["period.working_days", "source"] == ""
    paths = failure_paths(inv).set_index(["plugin", "failure_class"])
    assert paths.loc[("mailer", "wrong_action"), "runs_per_period"] == 10 * 21  # the inventory's own period


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("failure_rates:\n  wrong_action: 1.5\n", r"a\.yaml:2: failure_rates\.wrong_action: must be between 0 and 1"),
        (
            "failure_rates:\n  data_leakage: {low: 0.002, high: 0.001}\n",
            r"a\.yaml:2: failure_rates\.data_leakage: the lower bound 0\.002 is above the upper bound 0\.001",
        ),
        (
            "detection:\n  unaided_hours: {low: 0, high: 10}\n",
            r"a\.yaml:2: detection\.unaided_hours: .*lower bound must be above 0",
        ),
        (
            "controls:\n  approval_gate_catch_rate: -0.1\n",
            r"a\.yaml:2: controls\.approval_gate_catch_rate: must not be negative",
        ),
        (
            "controls:\n  review_catch_rate: {4: 0.5}\n",
            r"a\.yaml:2: controls\.review_catch_rate\.4: .*expected 'none', '1', '2' or '3'",
        ),
        (
            "period:\n  workdays: 60\n",
            r"a\.yaml:2: period\.workdays: unknown key 'workdays' \(did you mean 'working_days'\?\)",
        ),
        (
            "plugins:\n  mailer:\n    halt: {manual_hours: -1}\n",
            r"a\.yaml:3: plugins\.mailer\.halt\.manual_hours: must not be negative",
        ),
        ("- 1\n", r"a\.yaml:1: expected a mapping of settings"),
        ("failure_rates: [\n", r"a\.yaml:2: invalid YAML"),
    ],
)
def test_a_bad_assumptions_file_says_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "a.yaml").write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_assumptions(tmp_path / "a.yaml")


def test_an_override_for_an_unknown_plugin_says_where_and_suggests(tmp_path: Path) -> None:
    inv = mailer(tmp_path)
    (tmp_path / "a.yaml").write_text(
        "magnitude:\n  wrong_action_full_share: 0.2\n"
        "plugins:\n  mailr:\n    magnitude: {wrong_action_full_share: 0.5}\n"
    )
    with pytest.raises(
        ConfigError, match=r"a\.yaml:4: plugins\.mailr: no plugin 'mailr' in the inventory \(did you mean 'mailer'\?\)"
    ):
        simulate_failures(inv, tmp_path / "a.yaml", trials=10)
    # in the inventory's own section, the loader reports it (blastradius validate says so too)
    with pytest.raises(
        InventoryError, match=r"assumptions\.yaml:\d+: assumptions\.plugins\.readr: .*did you mean 'reader'"
    ):
        mailer(tmp_path, "b", assumptions={"plugins": {"readr": {}}})


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"trials": 0}, "trials must be at least 1, got 0"),
        ({"trials": 2.5}, "trials must be a whole number"),
        ({"trials": 10, "seed": -1}, "seed must be 0 or more"),
        ({"trials": 10, "seed": 2**64}, r"seed must be below 2\*\*64"),
    ],
)
def test_bad_arguments_are_clear_errors(acme, kwargs: dict, expected: str) -> None:
    with pytest.raises(BlastRadiusError, match=expected):
        simulate_failures(acme, **kwargs)


def test_bad_reading_arguments_are_clear_errors(acme_result) -> None:
    with pytest.raises(BlastRadiusError, match="cannot group by 'plugins'; did you mean 'plugin'"):
        summarize(acme_result, by="plugins")  # type: ignore[arg-type]
    with pytest.raises(BlastRadiusError, match="no metric 'recrods'; did you mean 'records'"):
        exceedance_curve(acme_result, "recrods")
    with pytest.raises(BlastRadiusError, match="no failure class 'leak'"):
        summarize(acme_result, classes=["leak"])


def test_the_settings_keep_their_old_import_paths() -> None:
    import blastradius.findings as findings
    import blastradius.scores as scores
    import blastradius.settings as settings
    import blastradius.simulate as simulate

    assert (scores.Weights, scores.default_weights, scores.load_weights) == (
        settings.Weights,
        settings.default_weights,
        settings.load_weights,
    )
    for name in (
        "Assumptions",
        "Interval",
        "ProbabilityInterval",
        "Period",
        "FailureRates",
        "Systematic",
        "Magnitude",
        "Controls",
        "WrongOutput",
        "Detection",
        "Halt",
        "PluginAssumptions",
        "default_assumptions",
        "load_assumptions",
    ):
        assert getattr(simulate, name) is getattr(settings, name), name
    assert (findings.Acceptance, findings.AcceptanceFile, findings.load_acceptances) == (
        settings.Acceptance,
        settings.AcceptanceFile,
        settings.load_acceptances,
    )


def test_an_assumptions_file_is_read_once_and_its_plugin_lines_come_with_it(tmp_path: Path, monkeypatch) -> None:
    from blastradius.settings import files

    inv = mailer(tmp_path)
    path = tmp_path / "a.yaml"
    path.write_text("# overrides\nplugins:\n  mailer: {}\n  readr: {}\n")
    reads = []
    real = files.read_text
    monkeypatch.setattr(files, "read_text", lambda file, **kw: reads.append(file) or real(file, **kw))
    with pytest.raises(ConfigError, match=r"a\.yaml:4: plugins\.readr: no plugin 'readr'"):
        load_assumptions(path, inventory=inv)
    assert reads == [path]
