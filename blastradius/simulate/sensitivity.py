"""Which assumptions move the figures most: each at both ends of its plausible range, one at a time.

Every uncertain assumption carries a plausible range (an interval ``{low,
high}`` is its own range; a number has ``range: [lo, hi]`` beside it, see
:func:`blastradius.simulate.assumptions_table`), and so may the scoring
weights' stand-ins for sizes an inventory does not give. :func:`sensitivity`
simulates the enterprise with one of them at the low end of its range, then
at the high end, every other setting as it is, all on the same seed: each
path draws the same random numbers in every run (common random numbers), so
the difference between the two ends is the assumption's effect and not
sampling noise. Sorted by how far the figure swings, the table is a tornado
(:func:`blastradius.plots.tornado`).

It shows one assumption at a time: two assumptions that are both
pessimistic at once can move a figure further than either does alone, and
that interaction is not shown. docs/sensitivity.md says how to read it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.errors import BlastRadiusError, suggest
from blastradius.model import Inventory
from blastradius.settings import Assumptions, Weights
from blastradius.simulate.assumptions import assumptions_table
from blastradius.simulate.engine import _check_trials, _draw, _Drawn, _root
from blastradius.simulate.result import METRICS, SimulationResult
from blastradius.simulate.summaries import _STATS, _grouped, _stats

__all__ = ["SENSITIVITY_TRIALS", "STAND_INS", "dominant_assumption", "sensitivity"]

#: Trials per run when the caller gives no number: a sensitivity runs the simulation twice per assumption.
SENSITIVITY_TRIALS = 2_000

#: The scoring weights the simulation uses, with what each stands for: sizes an inventory does not give.
STAND_INS = {
    "unknown_dataset_records": "Records of a dataset whose size the inventory does not give.",
    "unknown_people_count": "People in a group whose size the inventory does not give.",
    "unknown_output_audience": "People who see a plugin's output when the inventory does not say.",
}

_FIGURES = ("records", "people")  # always reported; a third metric is added when asked for
_STAT_NAMES = tuple(name for name, _ in _STATS)


@dataclass(frozen=True, kw_only=True)
class _Varied:
    """One setting tried at both ends of its range."""

    key: str
    kind: str  # "assumption" or "weight"
    value: str
    low: float
    high: float
    source: str
    meaning: str


def _ranged_assumptions(assumptions: Assumptions) -> list[_Varied]:
    """Every assumption with a plausible range, but per-plugin overrides (``plugins.*``)."""
    table = assumptions_table(assumptions)
    ranged = table[table.range_low.notna() & table.range_high.notna() & ~table.key.str.startswith("plugins.")]
    return [
        _Varied(
            key=str(row["key"]),
            kind="assumption",
            value=str(row["value"]),
            low=float(row["range_low"]),
            high=float(row["range_high"]),
            source=str(row["source"]),
            meaning=str(row["meaning"]),
        )
        for row in ranged.to_dict("records")
    ]


def _ranged_stand_ins(weights: Weights) -> list[_Varied]:
    """The weights' stand-ins for unknown sizes whose provenance gives a range."""
    out = []
    provenance = weights.provenance
    for key, meaning in STAND_INS.items():
        note = provenance.get(key)
        if note is None or note.range is None:
            continue
        out.append(
            _Varied(
                key=key,
                kind="weight",
                value=f"{getattr(weights, key):,}",
                low=float(note.range[0]),
                high=float(note.range[1]),
                source=note.source or "",
                meaning=meaning,
            )
        )
    return out


def _only(varied: list[_Varied], keys: Sequence[str]) -> list[_Varied]:
    """The settings named by ``keys``, in the order given; a key without a range is an error with a suggestion."""
    by_key = {v.key: v for v in varied}
    chosen = [keys] if isinstance(keys, str) else list(keys)
    for key in chosen:
        if key not in by_key:
            hint = suggest(key, by_key)
            raise BlastRadiusError(
                f"no assumption '{key}' with a plausible range"
                + (f"; {hint}" if hint else "; see assumptions_table() for the keys with a range")
            )
    return [by_key[k] for k in dict.fromkeys(chosen)]


def _check_statistics(statistics: Sequence[str]) -> tuple[str, ...]:
    chosen = (statistics,) if isinstance(statistics, str) else tuple(statistics)
    if not chosen:
        raise BlastRadiusError(f"statistics must name at least one of {', '.join(_STAT_NAMES)}")
    for stat in chosen:
        if stat not in _STAT_NAMES:
            hint = suggest(stat, _STAT_NAMES)
            raise BlastRadiusError(
                f"no statistic '{stat}'" + (f"; {hint}" if hint else f"; choose from {', '.join(_STAT_NAMES)}")
            )
    return chosen


def sensitivity(
    source: Inventory | Analysis,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = SENSITIVITY_TRIALS,
    seed: int | np.random.Generator | None = None,
    weights: WeightsLike = None,
    statistics: Sequence[str] = ("p50", "p95"),
    metric: str = "records",
    keys: Sequence[str] | None = None,
    progress: Callable[[int, int], Any] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """How far the enterprise's figures move when each uncertain assumption is at either end of its range.

    The baseline is simulated once, with every setting as it is; then, for
    every assumption with a plausible range (but per-plugin overrides) and
    every stand-in of the weights whose provenance gives one, the simulation
    runs with that one setting at the low end of its range and at the high
    end. An interval ``{low: L, high: H}`` is fixed at ``L`` (``{low: L,
    high: L}``), then at ``H``. Every run uses the same seed, so each path
    draws the same random numbers (common random numbers) and the two ends
    differ only by the assumption.

    Parameters
    ----------
    source : Inventory or Analysis
        An analysis shares the reach it has computed with every run.
    assumptions : Assumptions, mapping, file or None
        Laid over the defaults and the inventory's ``assumptions:`` section
        (see :func:`load_assumptions`), as for :func:`simulate_failures`;
        each run changes one setting of the result.
    trials : int
        Periods simulated per run; there are ``1 + 2 × settings`` runs.
    seed : int, Generator or None
        Drawn from once; every run uses the same seed. The baseline is what
        :func:`simulate_failures` gives with the same seed and trials.
    weights : optional
        Scoring weights: only their stand-ins for unknown sizes are used.
    statistics : sequence of str
        Which of mean, p50, p90, p95, p99 to report; the table is sorted by
        the P95 if it is one of them, else by the last.
    metric : str
        The figure to sort by (one of :data:`METRICS`); records and people
        are always reported.
    keys : sequence of str, optional
        Only these settings (key paths, e.g. ``failure_rates.data_leakage``);
        by default every one with a range.
    progress : callable, optional
        Called as ``progress(done, total)`` in trials, over every run, as each run finishes.
    scheduler, workers : optional
        Run on Dask (the ``sweep`` extra): on the running cluster at ``scheduler`` (``tcp://host:8786``),
        or on a local cluster of ``workers`` processes. By default every run is in this process. The
        numbers are the same either way (:func:`blastradius.sweep.evaluate_scenarios`).

    Returns
    -------
    DataFrame
        One row per setting, sorted by the swing of ``metric`` at the P95
        (see ``statistics``), largest first: ``key``, ``kind``
        (``assumption`` or ``weight``), ``value`` (as in use), ``range_low``
        and ``range_high`` (the two ends tried), ``source``, ``meaning``, then
        for every figure M and statistic S: ``M_S_baseline`` (the same in
        every row), ``M_S_at_low`` and ``M_S_at_high`` (the figure with the
        setting at each end) and ``M_S_swing`` (their distance). ``attrs``
        holds ``trials``, ``seed``, ``metric``, ``statistics``, ``statistic``
        (the one sorted by), ``period`` and ``baseline`` (``{M_S: value}``).

    Raises
    ------
    ConfigError
        Invalid assumptions or weights (file, line, key).
    BlastRadiusError
        ``trials`` below 1, a negative seed, an unknown metric or statistic.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> acme = load_inventory("inventories/acme")
    >>> df = sensitivity(acme, trials=500, seed=1, keys=["failure_rates.data_leakage", "halt.manual_hours"])
    >>> df.key.tolist()
    ['failure_rates.data_leakage', 'halt.manual_hours']
    >>> row = df.iloc[0]
    >>> bool(row.records_p95_at_low < row.records_p95_baseline < row.records_p95_at_high)
    True
    """
    return _sensitivity(
        source,
        assumptions,
        trials=trials,
        seed=seed,
        weights=weights,
        statistics=statistics,
        metric=metric,
        keys=keys,
        progress=progress,
        scheduler=scheduler,
        workers=workers,
    )


def _sensitivity(
    source: Inventory | Analysis,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = SENSITIVITY_TRIALS,
    seed: int | np.random.Generator | None = None,
    weights: WeightsLike = None,
    statistics: Sequence[str] = ("p50", "p95"),
    metric: str = "records",
    keys: Sequence[str] | None = None,
    progress: Callable[[int, int], Any] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    baseline: _Drawn | None = None,
) -> pd.DataFrame:
    """:func:`sensitivity`; ``baseline``, a simulation of the same analysis on the same seed with at least
    ``trials`` trials (the report's own), is read instead of simulating the baseline again."""
    trials = _check_trials(trials)
    chosen = _check_statistics(statistics)
    if metric not in METRICS:
        hint = suggest(metric, METRICS)
        choices = f"; {hint}" if hint else f"; choose from {', '.join(METRICS)}"
        raise BlastRadiusError(f"no metric '{metric}'{choices}")
    metrics = (*_FIGURES, metric) if metric not in _FIGURES else _FIGURES
    root = _root(seed)  # drawn once: every run shares it
    analysis = analysis_of(source, weights=weights, assumptions=assumptions)
    base_a, base_w = analysis.assumptions, analysis.weights
    varied = _ranged_assumptions(base_a) + _ranged_stand_ins(base_w)
    if keys is not None:
        varied = _only(varied, keys)

    if scheduler is None and not workers:
        found = _in_process(
            analysis,
            varied,
            trials=trials,
            root=root,
            metrics=metrics,
            statistics=chosen,
            baseline=baseline,
            progress=progress,
        )
    else:
        found = _on_dask(
            analysis,
            varied,
            trials=trials,
            root=root,
            metrics=metrics,
            statistics=chosen,
            scheduler=scheduler,
            workers=workers,
            progress=progress,
        )

    base = found["baseline"]
    rows = []
    for v in varied:
        ends = [found[f"{v.key}=low"], found[f"{v.key}=high"]]
        row: dict[str, Any] = {
            "key": v.key,
            "kind": v.kind,
            "value": v.value,
            "range_low": v.low,
            "range_high": v.high,
            "source": v.source,
            "meaning": v.meaning,
        }
        for name, value in base.items():
            row[f"{name}_baseline"] = value
            row[f"{name}_at_low"] = ends[0][name]
            row[f"{name}_at_high"] = ends[1][name]
            row[f"{name}_swing"] = abs(ends[1][name] - ends[0][name])
        rows.append(row)
    columns = ["key", "kind", "value", "range_low", "range_high", "source", "meaning"] + [
        f"{name}_{part}" for name in base for part in ("baseline", "at_low", "at_high", "swing")
    ]
    df = pd.DataFrame(rows, columns=columns)
    statistic = "p95" if "p95" in chosen else chosen[-1]
    first = f"{metric}_{statistic}"
    order = [f"{first}_swing"] + [f"{name}_swing" for name in base if name != first]
    df = df.sort_values([*order, "key"], ascending=[False] * len(order) + [True], kind="mergesort")
    df = df.reset_index(drop=True)
    df.attrs.update(
        trials=trials,
        seed=root,
        metric=metric,
        statistics=list(chosen),
        statistic=statistic,
        period=base_a.period.name,
        baseline=base,
    )
    return df


def dominant_assumption(
    df: pd.DataFrame, *, metric: str | None = None, statistic: str | None = None
) -> pd.Series | None:
    """The row of a :func:`sensitivity` table that moves ``metric`` at ``statistic`` most, or None if none moves it.

    By default the table's own metric and the statistic it is sorted by (the P95).

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> df = sensitivity(load_inventory("inventories/acme"), trials=200, seed=1, keys=["magnitude.records_per_result"])
    >>> dominant_assumption(df).key
    'magnitude.records_per_result'
    """
    metric = metric or df.attrs.get("metric", "records")
    statistic = statistic or df.attrs.get("statistic", "p95")
    column = f"{metric}_{statistic}_swing"
    if column not in df:
        raise BlastRadiusError(f"the sensitivity table has no column '{column}'")
    if df.empty:
        return None
    best = df.iloc[int(df[column].to_numpy().argmax())]
    swing = float(best[column])
    return best if math.isfinite(swing) and swing > 0 else None


def _figures(result: SimulationResult, metrics: Sequence[str], statistics: Sequence[str]) -> dict[str, float]:
    """The enterprise's ``M_S`` figures of one run, as :func:`~blastradius.simulate.summarize` reads them (the same
    functions), for the metrics asked for only."""
    out = {}
    for m in metrics:
        stats = _stats(_grouped(result, m, "enterprise")[1])
        out.update({f"{m}_{stat}": float(stats[stat][0]) for stat in statistics})
    return out


def _in_process(
    analysis: Analysis,
    varied: Sequence[_Varied],
    *,
    trials: int,
    root: int,
    metrics: Sequence[str],
    statistics: Sequence[str],
    baseline: _Drawn | None,
    progress: Callable[[int, int], Any] | None,
) -> dict[str, dict[str, float]]:
    """Every run in this process: the baseline simulated once, and each run drawing only the plugins whose inputs
    its setting changes (:func:`blastradius.simulate.engine._draw` with ``like``), the others' figures the
    baseline's. The figures are those of each run simulated afresh (tests pin it)."""
    from blastradius.sweep.scenarios import Setting, _with_settings

    runs = 1 + 2 * len(varied)
    total = trials * runs
    if (
        baseline is None
        or baseline.analysis is not analysis
        or baseline.result.seed != root
        or baseline.result.trials < trials
    ):
        baseline = _draw(analysis, trials=trials, root=root)
    baseline = baseline.head(trials)
    if progress is not None:
        progress(trials, total)
    found = {"baseline": _figures(baseline.result, metrics, statistics)}
    done = 1
    for v in varied:
        for side, end in (("low", v.low), ("high", v.high)):
            key = f"{v.key}={side}"
            try:
                changed = _with_settings(analysis, (Setting(kind=v.kind, key=v.key, value=end),))
                result = _draw(changed, trials=trials, root=root, like=baseline).result
                found[key] = _figures(result, metrics, statistics)
            except Exception as exc:
                message = str(exc) if isinstance(exc, BlastRadiusError) else f"{type(exc).__name__}: {exc}"
                raise BlastRadiusError(f"the run with {key} failed: {message}") from None
            del result
            done += 1
            if progress is not None:
                progress(done * trials, total)
    return found


def _on_dask(
    analysis: Analysis,
    varied: Sequence[_Varied],
    *,
    trials: int,
    root: int,
    metrics: Sequence[str],
    statistics: Sequence[str],
    scheduler: str | None,
    workers: int | None,
    progress: Callable[[int, int], Any] | None,
) -> dict[str, dict[str, float]]:
    """Every run a scenario of the sweep's engine, on a Dask cluster: the same numbers as in this process."""
    from blastradius.sweep import Scenario, Setting, evaluate_scenarios

    scenarios = [Scenario(key="baseline")] + [
        Scenario(key=f"{v.key}={side}", settings=(Setting(kind=v.kind, key=v.key, value=end),))
        for v in varied
        for side, end in (("low", v.low), ("high", v.high))
    ]
    total = trials * len(scenarios)
    done = 0

    def advance(outcomes: list[Any]) -> None:
        nonlocal done
        done += len(outcomes)
        if progress is not None:
            progress(done * trials, total)

    outcomes = evaluate_scenarios(
        analysis,
        scenarios,
        trials=trials,
        seed=root,
        scheduler=scheduler,
        workers=workers,
        on_batch=advance,
    )
    failed = [o for o in outcomes.values() if o.row is None]
    if failed:
        raise BlastRadiusError(f"the run with {failed[0].key} failed: {failed[0].error}")
    return {
        key: {f"{m}_{stat}": float(row[f"{m}_{stat}"]) for m in metrics for stat in statistics}
        for key, o in outcomes.items()
        if (row := o.row) is not None
    }
