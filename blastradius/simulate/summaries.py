"""Figures read off a simulation: percentiles per plugin, department or the enterprise, and loss-exceedance curves.

Every figure is read off one :class:`~blastradius.simulate.SimulationResult`
(simulate once, read many times); a percentile is of a group's total in each
trial, never a sum of percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from blastradius.errors import BlastRadiusError, suggest
from blastradius.simulate.result import FAILURE_MODES, METRICS, SimulationResult, _check_metric

__all__ = ["exceedance_by_class", "exceedance_curve", "summarize"]


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
    at what it can touch in a period, and a group's total over its plugins at
    what they can touch together (each dataset and group of people once), so
    no figure exceeds what the inventory holds. Recoverable figures are the
    capped total less the capped permanent part.
    """
    labels, members = _groups(result, by)
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
    totals = np.zeros((per_plugin.shape[0], len(labels)))
    for j, index in enumerate(members):
        totals[:, j] = per_plugin[:, index].sum(axis=1)
        if metric in _CAPPED:
            totals[:, j] = np.minimum(totals[:, j], result.reachable(index)[_CAPPED[metric][1]])
    return labels, totals


def _stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and percentiles over trials (axis 0) of a ``(trials, groups)`` array."""
    qs = np.quantile(values, [q for _, q in _STATS[1:]], axis=0)
    out = {"mean": values.mean(axis=0)}
    out.update({name: qs[i] for i, (name, _) in enumerate(_STATS[1:])})
    return out


def summarize(
    result: SimulationResult,
    by: Literal["plugin", "department", "enterprise"] = "plugin",
    *,
    classes: Sequence[str] | str | None = None,
    by_class: bool = False,
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
    for cls in per_class:
        columns: dict[str, Any] = {}
        labels: list[str] = []
        for metric in METRICS:
            labels, values = _grouped(result, metric, by, cls)
            for stat, arr in _stats(values).items():
                columns[f"{metric}_{stat}"] = arr
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
    order = summarize(result, by, classes=classes).group.tolist()  # groups as without classes, classes in order
    rank = df.group.map({g: i for i, g in enumerate(order)}) * len(FAILURE_MODES) + df.failure_class.map(
        FAILURE_MODES.index
    )
    return df.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


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
