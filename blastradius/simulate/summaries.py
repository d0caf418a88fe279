"""Figures read off a simulation: percentiles per plugin, department or the enterprise, and loss-exceedance curves.

Every figure is read off one :class:`~blastradius.simulate.SimulationResult`
(simulate once, read many times); a percentile is of a group's total in each
trial, never a sum of percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from blastradius.errors import BlastRadiusError, suggest
from blastradius.simulate.result import FAILURE_MODES, METRICS, SimulationResult, _check_metric

__all__ = [
    "CONFIDENCE",
    "TAIL_TRIALS",
    "estimate",
    "exceedance_by_class",
    "exceedance_curve",
    "summarize",
    "too_few_trials",
]


_BY = ("plugin", "department", "enterprise")
_STATS = (("mean", None), ("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


def _class_mask(result: SimulationResult, classes: Sequence[str] | str | None) -> np.ndarray:
    if classes is None:
        return np.ones(len(result.classes), dtype=bool)
    classes = [classes] if isinstance(classes, str) else list(classes)
    for c in classes:
        if c not in result.classes:
            hint = suggest(c, result.classes)
            raise BlastRadiusError(
                f"no failure class '{c}'" + (f"; {hint}" if hint else f"; choose from {', '.join(result.classes)}")
            )
    return np.isin(np.array(result.classes), classes)


#: Figures of records or people: each capped at what its plugin, then its group, can touch in a period.
_CAPPED = {
    "records": ("records", 0),
    "records_permanent": ("records_permanent", 0),
    "people": ("people", 1),
    "people_permanent": ("people_permanent", 1),
}
_RECOVERABLE = {
    "records_recoverable": ("records", "records_permanent"),
    "people_recoverable": ("people", "people_permanent"),
}


def _groups(result: SimulationResult, by: str) -> tuple[list[str], list[np.ndarray]]:
    """Group labels and the plugin indices of each."""
    if by not in _BY:
        hint = suggest(by, _BY)
        raise BlastRadiusError(f"cannot group by '{by}'" + (f"; {hint}" if hint else f"; choose from {', '.join(_BY)}"))
    if by == "enterprise":
        return ["enterprise"], [np.arange(len(result.plugins))]
    if by == "plugin":
        return list(result.plugins), [np.array([i]) for i in range(len(result.plugins))]
    departments = sorted(set(result.departments))
    codes = np.array([departments.index(d) for d in result.departments], dtype=int)
    return departments, [np.flatnonzero(codes == j) for j in range(len(departments))]


def _grouped(
    result: SimulationResult, metric: str, by: str, classes: Sequence[str] | str | None = None
) -> tuple[list[str], np.ndarray]:
    """Group labels and the ``(trials, groups)`` totals of ``metric`` over the chosen classes.

    Records and people are distinct: a plugin's total over classes is capped
    at what it can touch in a period, a department's total over its plugins
    at what they can touch together (each dataset and group of people once),
    and the enterprise's over its departments likewise, so no figure exceeds
    what the inventory holds and a group's never exceeds the sum of its parts. Recoverable figures are the
    capped total less the capped permanent part.
    """
    labels, _ = _groups(result, by)
    mask = _class_mask(result, classes)
    _check_metric(metric)
    if metric in _RECOVERABLE:
        total, permanent = _RECOVERABLE[metric]
        return labels, _grouped(result, total, by, classes)[1] - _grouped(result, permanent, by, classes)[1]
    # summed in float64 from the stored columns: the full arrays are never built
    per_plugin = result._sum(_CAPPED.get(metric, (metric, 0))[0], mask)
    if metric in _CAPPED:
        which = _CAPPED[metric][1]
        caps = np.array([result.reachable([i])[which] for i in range(len(result.plugins))])
        per_plugin = np.minimum(per_plugin, caps)
    if by == "plugin":
        return labels, per_plugin
    # plugins make up departments, departments the enterprise: each level capped at what it can touch together
    departments, members_of = _groups(result, "department")
    per_department = np.zeros((per_plugin.shape[0], len(departments)))
    for j, index in enumerate(members_of):
        per_department[:, j] = per_plugin[:, index].sum(axis=1)
        if metric in _CAPPED:
            per_department[:, j] = np.minimum(per_department[:, j], result.reachable(index)[_CAPPED[metric][1]])
    if by == "department":
        return labels, per_department
    total = per_department.sum(axis=1)
    if metric in _CAPPED:
        total = np.minimum(total, result.reachable()[_CAPPED[metric][1]])
    return labels, total[:, None]


def _stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and percentiles over trials (axis 0) of a ``(trials, groups)`` array."""
    qs = np.quantile(values, [q for _, q in _STATS[1:]], axis=0)
    out = {"mean": values.mean(axis=0)}
    out.update({name: qs[i] for i, (name, _) in enumerate(_STATS[1:])})
    return out


#: Confidence of the Monte Carlo intervals, and its normal quantile.
CONFIDENCE = 0.95
_Z = 1.959963984540054
#: Fewest trials beyond a percentile (above it, or below it) for its interval to be read: below, ``simulate`` warns.
TAIL_TRIALS = 50


def _intervals(values: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """95% Monte Carlo intervals of each of :data:`_STATS` over trials (axis 0) of a ``(trials, groups)`` array.

    A percentile's interval is distribution-free: the order statistics whose
    ranks are the binomial count's 95% interval (the number of trials below
    the true percentile is Binomial(trials, q)). The mean's is the normal one,
    mean ± 1.96 standard errors.
    """
    n = values.shape[0]
    ordered = np.sort(values, axis=0)
    mean = values.mean(axis=0)
    half = _Z * values.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(values.shape[1], math.inf)
    out = {"mean": (mean - half, mean + half)}
    for name, q in _STATS[1:]:
        spread = _Z * math.sqrt(n * q * (1 - q))
        lo = int(min(max(math.floor(n * q - spread) - 1, 0), n - 1))
        hi = int(min(max(math.ceil(n * q + spread), 0), n - 1))
        out[name] = (ordered[lo], ordered[hi])
    return out


def too_few_trials(trials: int, percentiles: Sequence[float] = (0.5, 0.95, 0.99)) -> list[float]:
    """The percentiles (fractions) ``trials`` cannot estimate: fewer than :data:`TAIL_TRIALS` trials beyond them.

    Examples
    --------
    >>> too_few_trials(1_000)
    [0.99]
    >>> too_few_trials(10_000)
    []
    """
    return [q for q in percentiles if trials * min(q, 1 - q) < TAIL_TRIALS]


def estimate(value: float, low: float, high: float) -> str:
    """A figure rounded to what its interval supports, with the interval: ``2.8 million (2.7-2.9 million)``.

    Rounded to the digit of the interval's half-width (at least two
    significant figures), so noise is never printed as signal.

    Examples
    --------
    >>> estimate(2_784_500.3, 2_701_000.0, 2_869_000.0)
    '2.78 million (2.70-2.87 million)'
    >>> estimate(1234.0, 1230.0, 1238.0)
    '1,234 (1,230-1,238)'
    >>> estimate(0.0, 0.0, 0.0)
    '0'
    """
    if not (math.isfinite(value) and math.isfinite(low) and math.isfinite(high)):
        return f"{value:,.0f}"
    if value == low == high:
        return _rounded(value, _digits_for(value, 0.0))
    digits = _digits_for(value, (high - low) / 2)
    unit, scale = _unit(max(abs(value), abs(high)))
    if scale > 1:
        return (
            f"{_trim(value / scale, digits, scale)} {unit} "
            f"({_trim(low / scale, digits, scale)}-{_trim(high / scale, digits, scale)} {unit})"
        )
    return f"{_rounded(value, digits)} ({_rounded(low, digits)}-{_rounded(high, digits)})"


def _digits_for(value: float, half_width: float) -> int:
    """Decimal exponent of the last digit worth printing: that of the half-width, keeping two significant figures."""
    if value == 0 and half_width == 0:
        return 0
    top = math.floor(math.log10(abs(value))) if value else 0
    noise = math.floor(math.log10(half_width)) if half_width > 0 else -100
    return min(max(noise, 0 if half_width == 0 else noise), top - 1)


def _unit(value: float) -> tuple[str, float]:
    for unit, scale in (("billion", 1e9), ("million", 1e6)):
        if value >= scale:
            return unit, scale
    return "", 1.0


def _rounded(value: float, digit: int) -> str:
    step = 10.0**digit
    x = round(value / step) * step
    return f"{x:,.{max(-digit, 0)}f}"


def _trim(value: float, digit: int, scale: float) -> str:
    step = 10.0**digit / scale
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{round(value / step) * step:,.{decimals}f}"


def summarize(
    result: SimulationResult,
    by: Literal["plugin", "department", "enterprise"] = "plugin",
    *,
    classes: Sequence[str] | str | None = None,
    by_class: bool = False,
    intervals: bool = False,
) -> pd.DataFrame:
    """Mean, P50, P90, P95 and P99 per period of every figure, per plugin, department or the enterprise.

    Percentiles are of the group's total in each trial (never sums of
    percentiles). Rows are sorted by mean records affected, then people.

    Parameters
    ----------
    by : {"plugin", "department", "enterprise"}
    classes : str or list of str, optional
        Only these failure classes (default: all of :data:`FAILURE_MODES`).
    by_class : bool
        One row per group and failure class instead of one per group.
    intervals : bool
        Add the 95% Monte Carlo interval of each figure, ``METRIC_STAT_low``
        and ``METRIC_STAT_high``: how far the figure could move with another
        seed (sampling error only, not the uncertainty of the assumptions,
        which the simulation already draws from).

    Returns
    -------
    DataFrame
        ``group`` (and ``department`` by plugin, ``failure_class`` by class),
        then ``METRIC_STAT`` for every metric of :data:`METRICS` and stat of
        mean, p50, p90, p95, p99; e.g. ``records_p95``, ``people_mean``.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.simulate import simulate_failures
    >>> r = simulate_failures(load_inventory("inventories/acme"), trials=300, seed=3)
    >>> df = summarize(r, by="department")
    >>> sorted(df.group)[:3]
    ['engineering', 'finance', 'hr']
    >>> bool((df.records_p95 >= df.records_p50).all())
    True
    """
    per_class: list[Sequence[str] | str | None] = (
        [[c] for c in result.classes if _class_mask(result, classes)[result.classes.index(c)]]
        if by_class
        else [classes]
    )
    frames = []
    parts = {part for total_and_permanent in _RECOVERABLE.values() for part in total_and_permanent}
    for cls in per_class:
        columns: dict[str, Any] = {}
        labels: list[str] = []
        kept: dict[str, np.ndarray] = {}  # a total and its permanent part, until their difference is read
        for metric in METRICS:
            total, permanent = _RECOVERABLE.get(metric, ("", ""))
            if total in kept and permanent in kept:  # each pass over the stored figures is read once
                values = kept.pop(total) - kept.pop(permanent)
            else:
                labels, values = _grouped(result, metric, by, cls)
                if metric in parts:
                    kept[metric] = values
            for stat, arr in _stats(values).items():
                columns[f"{metric}_{stat}"] = arr
            if intervals:
                for stat, (lo, hi) in _intervals(values).items():
                    columns[f"{metric}_{stat}_low"] = lo
                    columns[f"{metric}_{stat}_high"] = hi
        df = pd.DataFrame({"group": labels, **columns})
        if by == "plugin":
            df.insert(1, "department", list(result.departments))
        if by_class and cls is not None:
            df.insert(1, "failure_class", cls[0])
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    if not by_class:
        df = df.sort_values(["records_mean", "people_mean", "group"], ascending=[False, False, True], kind="mergesort")
        return df.reset_index(drop=True)
    # groups as without classes (the enterprise is one group), classes in order
    order = ["enterprise"] if by == "enterprise" else summarize(result, by, classes=classes).group.tolist()
    # as integers: an empty table's columns keep their text dtype, which (backed by pyarrow) refuses arithmetic
    groups = df.group.map({g: i for i, g in enumerate(order)}).to_numpy(dtype=np.int64)
    rank = groups * len(FAILURE_MODES) + df.failure_class.map(FAILURE_MODES.index).to_numpy(dtype=np.int64)
    return df.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def exceedance_curve(
    result: SimulationResult,
    metric: str = "records",
    *,
    by: Literal["plugin", "department", "enterprise"] = "enterprise",
    classes: Sequence[str] | str | None = None,
    points: int | None = None,
) -> pd.DataFrame:
    """Loss-exceedance curve: the probability that a period's figure exceeds each value.

    Parameters
    ----------
    metric : str
        One of :data:`METRICS`, e.g. ``records``, ``people_permanent``.
    by : {"enterprise", "plugin", "department"}
        One curve per group.
    points : int, optional
        Values at which to read the curve: ``points`` log-spaced values from
        1 to the largest simulated (and 0). By default, every distinct
        simulated value (the empirical curve).

    Returns
    -------
    DataFrame
        ``group``, ``value``, ``exceedance`` (share of trials whose figure is
        strictly above ``value``), in increasing value.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.simulate import simulate_failures
    >>> r = simulate_failures(load_inventory("inventories/acme"), trials=300, seed=3)
    >>> curve = exceedance_curve(r, "people", points=20)
    >>> bool(curve.exceedance.is_monotonic_decreasing)
    True
    """
    labels, values = _grouped(result, metric, by, classes)
    frames = []
    for j, label in enumerate(labels):
        col = np.sort(values[:, j])
        if points is None:
            grid = np.unique(col)
        else:
            if points < 2:
                raise BlastRadiusError(f"points must be at least 2, got {points}")
            top = max(float(col[-1]), 1.0)
            grid = np.unique(np.concatenate([[0.0], np.geomspace(1.0, top, points - 1)]))
        exceed = 1.0 - np.searchsorted(col, grid, side="right") / col.shape[0]
        frames.append(pd.DataFrame({"group": label, "value": grid, "exceedance": exceed}))
    return pd.concat(frames, ignore_index=True)


def exceedance_by_class(result: SimulationResult, metric: str = "records", *, points: int = 80) -> pd.DataFrame:
    """Enterprise-wide loss-exceedance curves, one per failure class (``group`` is the class).

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.simulate import simulate_failures
    >>> r = simulate_failures(load_inventory("inventories/acme"), trials=200, seed=3)
    >>> sorted(exceedance_by_class(r).group.unique()) == sorted(r.classes)
    True
    """
    return pd.concat(
        [exceedance_curve(result, metric, classes=[c], points=points).assign(group=c) for c in result.classes],
        ignore_index=True,
    )
