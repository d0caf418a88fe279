"""The compiled summaries give the figures of the plain numpy computation, to the last bit.

The plain computation builds the dense ``(trials, plugins, classes)`` arrays, sums them with numpy,
caps each level at what it can touch and reads ``np.quantile``, ``mean``, ``std`` and ``np.sort`` off
the ``(trials, groups)`` totals. :mod:`blastradius.simulate.summaries` reads the stored columns with
compiled reductions (:mod:`blastradius.simulate._reduce`); every figure must be the same float.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blastradius import load_inventory
from blastradius.simulate import (
    FAILURE_MODES,
    METRICS,
    SimulationResult,
    compare_results,
    exceedance_by_class,
    exceedance_curve,
    simulate_failures,
    summaries,
    summarize,
)
from blastradius.simulate._reduce import pairwise_sum, row_statistics, row_statistics_serial
from blastradius.simulate.summaries import _grouped, _stats
from blastradius.synth import write_enterprise

ROOT = Path(__file__).resolve().parents[1]
QUANTILES = [0.5, 0.9, 0.95, 0.99]
Z = 1.959963984540054


# --- the plain computation -------------------------------------------------------------------------


def plain_totals(r: SimulationResult, metric: str, by: str, classes: list[str] | None = None) -> np.ndarray:
    """``(trials, groups)`` totals from the dense arrays, numpy sums and a cap at each level."""
    if metric.endswith("_recoverable"):
        field = metric.removesuffix("_recoverable")
        return plain_totals(r, field, by, classes) - plain_totals(r, f"{field}_permanent", by, classes)
    mask = np.isin(np.array(r.classes), classes if classes is not None else r.classes)
    per_plugin = r.metric(metric)[:, :, mask].astype(np.float64).sum(axis=2)
    ceiling = {"records": 0, "people": 1}.get(metric.split("_")[0])
    if ceiling is not None:
        per_plugin = np.minimum(per_plugin, [r.reachable([i])[ceiling] for i in range(len(r.plugins))])
    if by == "plugin":
        return per_plugin
    departments = sorted(set(r.departments))
    members = [np.array([i for i, d in enumerate(r.departments) if d == name], dtype=int) for name in departments]
    per_department = np.zeros((r.trials, len(departments)))
    for j, index in enumerate(members):
        per_department[:, j] = per_plugin[:, index].sum(axis=1)
        if ceiling is not None:
            per_department[:, j] = np.minimum(per_department[:, j], r.reachable(index)[ceiling])
    if by == "department":
        return per_department
    total = per_department.sum(axis=1)
    if ceiling is not None:
        total = np.minimum(total, r.reachable()[ceiling])
    return total[:, None]


def plain_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, percentiles and their 95% intervals of a ``(trials, groups)`` array, with numpy as it comes."""
    n = values.shape[0]
    qs = np.quantile(values, QUANTILES, axis=0)
    out = {"mean": values.mean(axis=0)} | {f"p{round(q * 100)}": qs[i] for i, q in enumerate(QUANTILES)}
    ordered = np.sort(values, axis=0)
    half = Z * values.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(values.shape[1], math.inf)
    out["mean_low"], out["mean_high"] = out["mean"] - half, out["mean"] + half
    for q in QUANTILES:
        spread = Z * math.sqrt(n * q * (1 - q))
        lo = int(min(max(math.floor(n * q - spread) - 1, 0), n - 1))
        hi = int(min(max(math.ceil(n * q + spread), 0), n - 1))
        out[f"p{round(q * 100)}_low"], out[f"p{round(q * 100)}_high"] = ordered[lo], ordered[hi]
    return out


def groups_of(r: SimulationResult, by: str) -> list[str]:
    return {"plugin": list(r.plugins), "department": sorted(set(r.departments)), "enterprise": ["enterprise"]}[by]


def check_summary(r: SimulationResult, by: str, *, by_class: bool, intervals: bool) -> None:
    """Every figure of ``summarize`` is the plain computation's, as the same float."""
    df = summarize(r, by, by_class=by_class, intervals=intervals)
    labels = groups_of(r, by)
    for classes in [[c] for c in r.classes] if by_class else [None]:
        rows = df[df.failure_class == classes[0]] if classes else df
        rows = rows.set_index("group").loc[labels]
        for metric in METRICS:
            for stat, expected in plain_stats(plain_totals(r, metric, by, classes)).items():
                if stat.endswith(("_low", "_high")) and not intervals:
                    continue
                got = rows[f"{metric}_{stat}"].to_numpy(dtype=float)
                np.testing.assert_array_equal(got, expected, err_msg=f"{by} {classes} {metric}_{stat}")


# --- results ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme_result() -> SimulationResult:
    return simulate_failures(load_inventory(ROOT / "inventories" / "acme"), trials=1_200, seed=11)


@pytest.fixture(scope="module")
def synthetic_result(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    sizes = {"people": 2_000, "plugins": 40, "connectors": 20, "systems": 10, "datasets": 150}
    inventory = write_enterprise(tmp_path_factory.mktemp("synth") / "enterprise", seed=5, **sizes)
    return simulate_failures(load_inventory(inventory), trials=800, seed=4)


@pytest.fixture(scope="module", params=["acme", "synthetic"])
def result(request: pytest.FixtureRequest) -> SimulationResult:
    return request.getfixturevalue(f"{request.param}_result")


def with_tight_ceilings(r: SimulationResult, share: float) -> SimulationResult:
    """The same draws, with every dataset and group of people ``share`` as large: the caps bind."""
    return dataclasses.replace(
        r,
        reachable_records=tuple({k: v * share for k, v in m.items()} for m in r.reachable_records),
        reachable_people=tuple({k: v * share for k, v in m.items()} for m in r.reachable_people),
        _ceilings={},
    )


def idle(r: SimulationResult) -> SimulationResult:
    """The same plugins with nothing drawn: every figure 0 (nobody runs them)."""
    return dataclasses.replace(r, values={k: np.zeros_like(v) for k, v in r.values.items()}, _ceilings={})


def empty(r: SimulationResult) -> SimulationResult:
    """No plugins at all."""
    return dataclasses.replace(
        r,
        plugins=(),
        departments=(),
        columns={k: np.zeros((0, len(FAILURE_MODES)), dtype=np.int64) for k in r.columns},
        values={k: np.zeros((r.trials, 0), dtype=v.dtype) for k, v in r.values.items()},
        systematic_runs_affected=np.zeros((r.trials, 0), dtype=np.int32),
        runs=np.zeros(0),
        reachable_records=(),
        reachable_people=(),
        _ceilings={},
    )


# --- totals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["plugin", "department", "enterprise"])
@pytest.mark.parametrize("classes", [None, ["wrong_action"], ["data_leakage", "systematic"]])
def test_group_totals_are_the_plain_sums_capped_at_each_level(result, by, classes) -> None:
    for metric in METRICS:
        labels, values = _grouped(result, metric, by, classes)
        assert labels == groups_of(result, by)
        np.testing.assert_array_equal(values, plain_totals(result, metric, by, classes), err_msg=f"{metric} {by}")


@pytest.mark.parametrize("by", ["plugin", "department", "enterprise"])
def test_the_thread_pool_gives_the_figures_of_one_thread(result, by, monkeypatch) -> None:
    monkeypatch.setattr(summaries, "_PARALLEL_FROM", 10**18)
    alone = summarize(result, by, by_class=True, intervals=True), exceedance_curve(result, by=by)
    monkeypatch.setattr(summaries, "_PARALLEL_FROM", 0)
    pooled = summarize(result, by, by_class=True, intervals=True), exceedance_curve(result, by=by)
    for a, b in zip(alone, pooled, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_totals_are_capped_where_the_ceilings_bind(acme_result) -> None:
    tight = with_tight_ceilings(acme_result, 0.002)
    uncapped = acme_result.records.astype(np.float64).sum(axis=2)
    capped = plain_totals(tight, "records", "plugin")
    assert (capped < uncapped).any(), "the ceilings must bind somewhere for this test to mean anything"
    for by in ("plugin", "department", "enterprise"):
        for metric in ("records", "records_permanent", "records_recoverable", "people", "people_recoverable"):
            np.testing.assert_array_equal(_grouped(tight, metric, by)[1], plain_totals(tight, metric, by))


# --- summaries ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["plugin", "department", "enterprise"])
@pytest.mark.parametrize("by_class", [False, True])
@pytest.mark.parametrize("intervals", [False, True])
def test_summaries_are_the_plain_figures(result, by, by_class, intervals) -> None:
    check_summary(result, by, by_class=by_class, intervals=intervals)


@pytest.mark.parametrize("by", ["plugin", "department", "enterprise"])
def test_summaries_with_binding_ceilings_are_the_plain_figures(synthetic_result, by) -> None:
    check_summary(with_tight_ceilings(synthetic_result, 0.01), by, by_class=by != "plugin", intervals=True)


@pytest.mark.parametrize("by", ["plugin", "department", "enterprise"])
def test_an_idle_enterprise_reads_zero_everywhere(synthetic_result, by) -> None:
    quiet = idle(synthetic_result)
    df = summarize(quiet, by, intervals=True)
    assert len(df) == len(groups_of(quiet, by))
    figures = df.drop(columns=[c for c in ("group", "department") if c in df.columns])
    assert (figures.to_numpy(dtype=float) == 0).all()
    check_summary(quiet, by, by_class=True, intervals=True)


def test_an_enterprise_without_plugins_has_no_groups_and_zero_in_total(acme_result) -> None:
    nothing = empty(acme_result)
    assert summarize(nothing, "plugin").empty
    assert summarize(nothing, "department").empty
    whole = summarize(nothing, "enterprise", intervals=True)
    assert whole.group.tolist() == ["enterprise"]
    assert (whole.drop(columns="group").to_numpy(dtype=float) == 0).all()
    check_summary(nothing, "enterprise", by_class=True, intervals=True)


def test_one_plugin_is_read_as_numpy_reads_a_one_column_table(acme_result) -> None:
    r = acme_result
    first = [i for i, p in enumerate(r.plugins) if r.plugins[i] == r.plugins[0]]
    alone = dataclasses.replace(
        r,
        plugins=r.plugins[:1],
        departments=r.departments[:1],
        columns={k: v[first] for k, v in r.columns.items()},
        reachable_records=r.reachable_records[:1],
        reachable_people=r.reachable_people[:1],
        systematic_runs_affected=r.systematic_runs_affected[:, :1],
        runs=r.runs[:1],
        _ceilings={},
    )
    for by in ("plugin", "department", "enterprise"):
        check_summary(alone, by, by_class=False, intervals=True)


def test_the_stats_of_any_table_are_numpys() -> None:
    rng = np.random.default_rng(3)
    tables = {
        "lognormal with zeros": rng.lognormal(2, 3, (3_001, 7)) * (rng.random((3_001, 7)) < 0.4),
        "counts with ties": rng.poisson(0.7, (1_000, 5)).astype(float),
        "signed": rng.standard_normal((999, 4)) * 1e6,
        "constant": np.full((500, 3), 7.25),
        "one column": rng.exponential(3.0, (2_000, 1)),
        "one trial": rng.random((1, 6)),
        "two trials": rng.random((2, 6)),
        "a few trials": rng.random((7, 9)),
    }
    for name, values in tables.items():
        got, expected = _stats(values, intervals=True), plain_stats(values)
        assert list(got) == list(expected), name
        for stat in expected:
            np.testing.assert_array_equal(got[stat], expected[stat], err_msg=f"{name}: {stat}")


def test_a_row_holding_nan_reads_nan_and_the_others_are_untouched() -> None:
    rows = np.array([[1.0, np.nan, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    ranks = np.array([0, 1, 3])
    for kernel in (row_statistics, row_statistics_serial):
        means, ordered = np.empty(2), np.empty((3, 2))
        kernel(rows, ranks, means, ordered)
        assert np.isnan(ordered[:, 0]).all() and np.isnan(means[0])
        assert ordered[:, 1].tolist() == [1.0, 2.0, 4.0] and means[1] == 2.5


@pytest.mark.parametrize("n", [*range(0, 140), 255, 256, 257, 1_000, 1_023, 4_097, 10_000, 65_537])
def test_pairwise_sum_adds_as_numpy_adds_a_row(n) -> None:
    rows = np.random.default_rng(n).lognormal(5, 4, (3, n))
    expected = rows.sum(axis=1)
    assert [pairwise_sum(row, 0, n) for row in rows] == expected.tolist()


# --- curves and comparisons ---------------------------------------------------------------------------


def test_exceedance_curves_read_the_plain_totals(result) -> None:
    for by in ("plugin", "enterprise"):
        curve = exceedance_curve(result, "people", by=by)
        for j, group in enumerate(groups_of(result, by)):
            values = np.sort(plain_totals(result, "people", by)[:, j])
            rows = curve[curve.group == group]
            np.testing.assert_array_equal(rows.value.to_numpy(), np.unique(values))
            exceed = 1.0 - np.searchsorted(values, rows.value.to_numpy(), side="right") / values.shape[0]
            np.testing.assert_array_equal(rows.exceedance.to_numpy(), exceed)
    curves = exceedance_by_class(result, "records", points=30)
    assert curves.group.unique().tolist() == list(result.classes)
    for c in result.classes:
        alone = exceedance_curve(result, "records", classes=[c], points=30).assign(group=c)
        pd.testing.assert_frame_equal(curves[curves.group == c].reset_index(drop=True), alone)
    with pytest.raises(Exception, match="points must be at least 2"):
        exceedance_by_class(result, points=1)


def test_comparisons_read_the_plain_totals(acme_result) -> None:
    governed = simulate_failures(load_inventory(ROOT / "inventories" / "acme-governed"), trials=1_200, seed=11)
    df = compare_results(acme_result, governed, by=("plugin", "department", "enterprise"), metrics=METRICS)
    for (level, metric), rows in df.groupby(["level", "metric"], sort=False):
        for side, r in (("baseline", acme_result), ("controlled", governed)):
            stats = plain_stats(plain_totals(r, metric, level))
            index = {g: j for j, g in enumerate(groups_of(r, level))}
            for stat in ("mean", "p50", "p95"):
                expected = [float(stats[stat][index[g]]) if g in index else 0.0 for g in rows.group]
                assert rows[f"{side}_{stat}"].tolist() == expected, (level, metric, side, stat)
