"""Figures read off a simulation: percentiles per plugin, department or the enterprise, and loss-exceedance curves.

Every figure is read off one :class:`~blastradius.simulate.SimulationResult`
(simulate once, read many times); a percentile is of a group's total in each
trial, never a sum of percentiles.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from blastradius.errors import BlastRadiusError, suggest
from blastradius.simulate import _reduce
from blastradius.simulate.engine import _KERNEL_LOCK
from blastradius.simulate.result import FAILURE_MODES, METRICS, PARTS, SimulationResult, _check_metric

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
#: The compiled reductions, on the thread pool and on this thread; numba's dispatcher type does not describe
#: their arguments. Below :data:`_PARALLEL_FROM` values read, waking the pool costs more than it saves.
_GROUP_TOTALS = (
    cast(Callable[..., None], _reduce.group_totals_serial),
    cast(Callable[..., None], _reduce.group_totals),
)
_ROW_STATISTICS = (
    cast(Callable[..., None], _reduce.row_statistics_serial),
    cast(Callable[..., None], _reduce.row_statistics),
)
_PARALLEL_FROM = 1_000_000
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


#: No column: the figure is always zero there.
_NONE = np.iinfo(np.int64).min


def _choices(
    result: SimulationResult, field: str, masks: Sequence[np.ndarray], plugins: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The stored columns of ``field`` each mask of classes picks for ``plugins``, plugin by plugin in class order.

    Choice ``k``'s columns of the ``p``-th plugin are ``picked[offsets[k * P + p]:offsets[k * P + p + 1]]``. For a
    permanent part (:data:`~blastradius.simulate.result.PARTS`), a class without a column of its own is the whole
    figure's column ``c``, picked as ``-1 - c``.
    """
    columns = result.columns[field][plugins]
    columns = np.where(columns >= 0, columns, _NONE)
    if field in PARTS:
        whole = result.columns[PARTS[field]][plugins]
        columns = np.where((columns == _NONE) & (whole >= 0), -1 - whole, columns)
    counts, picked = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for mask in masks:
        chosen = np.where(mask, columns, _NONE)
        counts.append((chosen != _NONE).sum(axis=1))
        picked.append(chosen[chosen != _NONE])
    offsets = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
    return offsets.astype(np.int64), np.concatenate(picked).astype(np.int64)


#: Figures read together: a field, its permanent part and their difference come from one pass over both.
_FAMILIES = (
    ("records", "records_permanent", "records_recoverable"),
    ("people", "people_permanent", "people_recoverable"),
    ("incidents",),
    ("caught",),
)


def _totals(
    result: SimulationResult,
    metrics: Sequence[str],
    by: str,
    masks: Sequence[np.ndarray],
    plugins: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The ``(metrics, choices, groups, trials)`` totals of ``metrics`` (of one family) over each mask of classes.

    Records and people are distinct: a plugin's total over classes is capped
    at what it can touch in a period, a department's total over its plugins
    at what they can touch together (each dataset and group of people once),
    and the enterprise's over its departments likewise, so no figure exceeds
    what the inventory holds and a group's never exceeds the sum of its parts. Recoverable figures are the
    capped total less the capped permanent part, at each level.

    Summed in float64 from the stored columns in one pass over the trials
    (:func:`blastradius.simulate._reduce.group_totals`): the full
    ``(trials, plugins, classes)`` arrays are never built. ``plugins``
    (indices, by plugin only) limits the groups to those plugins; ``out``,
    a buffer at least as large, is filled rather than a new array.
    """
    _groups(result, by)  # checks by
    level = _BY.index(by)
    columns, caps, members, bounds, department_caps, enterprise_cap = _inputs(result, metrics, level, masks, plugins)
    groups = caps.shape[0] if level == 0 else (bounds.shape[0] - 1 if level == 1 else 1)
    shape = (len(metrics), len(masks), groups, result.trials)
    size = math.prod(shape)
    out = np.empty(shape) if out is None or out.size < size else out.reshape(-1)[:size].reshape(shape)
    read = result.trials * (columns[2].shape[0] + (columns[5].shape[0] if columns[6][1:].max() >= 0 else 0))
    with _KERNEL_LOCK:  # numba's thread pool runs one parallel call at a time
        _GROUP_TOTALS[read >= _PARALLEL_FROM](
            *columns, caps, members, bounds, department_caps, enterprise_cap, level, out
        )
    return out


def _inputs(
    result: SimulationResult,
    metrics: Sequence[str],
    level: int,
    masks: Sequence[np.ndarray],
    plugins: np.ndarray | None,
) -> tuple[tuple[Any, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """What the compiled reductions read to total ``metrics`` (of one family): see :func:`_totals`.

    The stored columns of the family's field and of its permanent part, the
    slots of ``metrics``; the ceilings of each plugin (of ``plugins``), and,
    at the levels summed (``level`` 1, 2), of each department and the
    enterprise; the departments' plugins.
    """
    for metric in metrics:
        _check_metric(metric)
    family = next(f for f in _FAMILIES if metrics[0] in f)
    if not set(metrics) <= set(family):
        raise ValueError(f"{metrics} are not figures of one family")
    field = family[0]
    permanent = family[1] if len(family) > 1 else field
    slots = np.array([list(metrics).index(m) if m in metrics else -1 for m in (*family, "", "")][:3], dtype=np.int64)
    ceiling = _CAPPED[field][1] if field in _CAPPED else None
    departments, members_of = _groups(result, "department")
    members = np.concatenate([np.zeros(0, dtype=np.int64), *members_of]).astype(np.int64)
    bounds = np.cumsum([0] + [len(m) for m in members_of]).astype(np.int64)
    chosen = np.arange(len(result.plugins)) if plugins is None else np.asarray(plugins, dtype=np.int64)
    n = chosen.shape[0]
    plugin_caps, department_caps, enterprise_cap = np.full(n, np.inf), np.full(len(departments), np.inf), np.inf
    if ceiling is not None:
        plugin_caps = np.array([result.reachable([i])[ceiling] for i in chosen], dtype=float).reshape(n)
        if level >= 1:
            department_caps = np.array([result.reachable(m)[ceiling] for m in members_of], dtype=float)
            department_caps = department_caps.reshape(len(departments))
        if level == 2:
            enterprise_cap = result.reachable()[ceiling]
    columns = (
        result.values[field],
        *_choices(result, field, masks, chosen),
        result.values[permanent],
        *_choices(result, permanent, masks, chosen),
        slots,
    )
    return columns, plugin_caps, members, bounds, department_caps, float(enterprise_cap)


def _grouped(
    result: SimulationResult, metric: str, by: str, classes: Sequence[str] | str | None = None
) -> tuple[list[str], np.ndarray]:
    """Group labels and the ``(trials, groups)`` totals of ``metric`` over the chosen classes (see :func:`_totals`).

    The array is the transpose of a ``(groups, trials)`` one: each group's trials lie together.
    """
    labels, _ = _groups(result, by)
    return labels, _totals(result, [metric], by, [_class_mask(result, classes)])[0, 0].T


#: Confidence of the Monte Carlo intervals, and its normal quantile.
CONFIDENCE = 0.95
_Z = 1.959963984540054
#: Fewest trials beyond a percentile (above it, or below it) for its interval to be read: below, ``simulate`` warns.
TAIL_TRIALS = 50

#: Quantiles of :data:`_STATS`; totals summed in one pass are kept below this size.
_QUANTILES = np.array([q for _, q in _STATS[1:]])
_BATCH_BYTES = 64 * 2**20


def _percentile_ranks(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranks either side of each of :data:`_QUANTILES` among ``n`` values, and the weight of the upper.

    numpy's "linear" method (``np.quantile``'s default), step for step, so
    the figures are numpy's to the last bit.
    """
    virtual = (n - 1) * _QUANTILES
    previous = np.floor(virtual)
    following = previous + 1
    above, below = virtual >= n - 1, virtual < 0
    previous[above] = following[above] = -1
    previous[below] = following[below] = 0
    gamma = virtual - previous.astype(np.intp)
    return previous.astype(np.intp) % n, following.astype(np.intp) % n, gamma


def _interval_ranks(n: int) -> list[tuple[int, int]]:
    """The order statistics bounding each of :data:`_QUANTILES` at 95% (see :func:`_stats`)."""
    out = []
    for q in _QUANTILES:
        spread = _Z * math.sqrt(n * q * (1 - q))
        lo = int(min(max(math.floor(n * q - spread) - 1, 0), n - 1))
        hi = int(min(max(math.ceil(n * q + spread), 0), n - 1))
        out.append((lo, hi))
    return out


def _stats(values: np.ndarray, *, intervals: bool = False) -> dict[str, np.ndarray]:
    """Mean and percentiles over trials (axis 0) of a ``(trials, groups)`` array; with their intervals if asked.

    See :func:`_row_stats`, which reads them off the transposed layout.
    """
    rows = values.T if values.T.flags.c_contiguous else np.ascontiguousarray(values.T)
    return _row_stats(rows, intervals=intervals, alone=rows.shape[0] == 1)


def _row_stats(rows: np.ndarray, *, intervals: bool = False, alone: bool) -> dict[str, np.ndarray]:
    """Mean and percentiles over trials of each row of a ``(groups, trials)`` array; with their intervals if asked.

    Keys are :data:`_STATS`' names, then, with ``intervals``, ``NAME_low``
    and ``NAME_high`` for each: the 95% Monte Carlo interval. A percentile's
    interval is distribution-free: the order statistics whose ranks are the
    binomial count's 95% interval (the number of trials below the true
    percentile is Binomial(trials, q)). The mean's is the normal one, mean ±
    1.96 standard errors.

    The figures are those numpy gives for the ``(trials, groups)`` table
    the rows belong to (``alone``: a table of one group): ``mean(axis=0)``,
    ``np.quantile(axis=0)``, ``std(axis=0, ddof=1)`` and ``np.sort(axis=0)``
    at the bounds' ranks, to the last bit. Percentiles and bounds are read in
    one selection of just the ranks they need
    (:func:`blastradius.simulate._reduce.row_statistics`), not a sort.
    """
    groups, n = rows.shape
    wanted = _Ranks.of(n, intervals)
    mean, ordered = np.empty(groups), np.empty((wanted.ranks.shape[0], groups))
    with _KERNEL_LOCK:
        _ROW_STATISTICS[rows.size >= _PARALLEL_FROM](rows, wanted.ranks, mean, ordered)
    # a table of one group is summed pairwise by numpy, one of several trial after trial
    table = rows.reshape(n, 1) if alone else None
    if table is not None:
        mean = table.mean(axis=0)
    half = None
    if intervals:
        if n > 1:
            table = np.ascontiguousarray(rows.T) if table is None else table
            half = _Z * table.std(axis=0, ddof=1) / math.sqrt(n)
        else:
            half = np.full(groups, math.inf)
    return wanted.read(mean, ordered, half)


@dataclass(frozen=True)
class _Ranks:
    """The order statistics a summary reads among ``n`` trials, and how percentiles and bounds come from them."""

    ranks: np.ndarray
    previous: list[int]
    following: list[int]
    gamma: np.ndarray
    bounds: list[tuple[int, int]]

    @classmethod
    def of(cls, n: int, intervals: bool) -> _Ranks:
        previous, following, gamma = _percentile_ranks(n)
        bounds = _interval_ranks(n) if intervals else []
        ranks = np.unique(np.concatenate([previous, following, np.array(bounds, dtype=np.intp).reshape(-1)]))
        at = {int(r): i for i, r in enumerate(ranks)}
        return cls(
            ranks=ranks.astype(np.int64),
            previous=[at[int(r)] for r in previous],
            following=[at[int(r)] for r in following],
            gamma=gamma,
            bounds=[(at[lo], at[hi]) for lo, hi in bounds],
        )

    def read(self, mean: np.ndarray, ordered: np.ndarray, half: np.ndarray | None) -> dict[str, np.ndarray]:
        """The figures of :func:`_row_stats` from the means, the order statistics at :attr:`ranks`, the half-widths."""
        below, above = ordered[self.previous], ordered[self.following]
        # numpy's interpolation (np.quantile's _lerp), operation for operation
        weight = self.gamma.reshape(-1, 1)
        step = above - below
        quantiles = below + step * weight
        np.subtract(above, step * (1 - weight), out=quantiles, where=weight >= 0.5)
        out = {"mean": mean}
        out.update({name: quantiles[i] for i, (name, _) in enumerate(_STATS[1:])})
        if half is not None:
            out["mean_low"], out["mean_high"] = mean - half, mean + half
            for (name, _), (lo, hi) in zip(_STATS[1:], self.bounds, strict=True):
                out[f"{name}_low"], out[f"{name}_high"] = ordered[lo], ordered[hi]
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
    mask = _class_mask(result, classes)
    chosen = [c for c in result.classes if mask[result.classes.index(c)]] if by_class else []
    masks = [np.array([c == d for d in result.classes]) for c in chosen] if by_class else [mask]
    labels, _ = _groups(result, by)
    parts: dict[tuple[int, str], dict[str, list[np.ndarray]]] = {}  # (choice, metric): each figure's pieces
    for family in _FAMILIES:
        # one family's totals at a time, in pieces of at most _BATCH_BYTES: several choices of classes together
        # while their groups are few, the plugins a block at a time (of two or more, as one table: see _row_stats)
        size = 8 * len(family) * result.trials
        batch = max(1, min(len(masks), _BATCH_BYTES // max(1, size * len(labels))))
        blocks = (
            [None]
            if by != "plugin"
            else np.array_split(
                np.arange(len(labels)), max(1, min(len(labels) // 2, -(-size * len(labels) // _BATCH_BYTES)))
            )
        )
        buffer = None  # reused: its pages are touched once
        for block in blocks:
            for first in range(0, len(masks), batch):
                totals = _totals(result, family, by, masks[first : first + batch], block, buffer)
                buffer = totals if buffer is None or totals.size > buffer.size else buffer
                for (w, metric), k in itertools.product(enumerate(family), range(totals.shape[1])):
                    stats = _row_stats(totals[w, k], intervals=intervals, alone=len(labels) == 1)
                    for stat, values in stats.items():
                        parts.setdefault((first + k, metric), {}).setdefault(stat, []).append(values)
                del totals
        del buffer
    columns = [
        {f"{metric}_{stat}": np.concatenate(values) for metric in METRICS for stat, values in parts[k, metric].items()}
        for k in range(len(masks))
    ]
    frames = []
    for k, figures in enumerate(columns):
        df = pd.DataFrame({"group": labels, **figures})
        if by == "plugin":
            df.insert(1, "department", list(result.departments))
        if by_class:
            df.insert(1, "failure_class", chosen[k])
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
    if points is not None and points < 2:
        raise BlastRadiusError(f"points must be at least 2, got {points}")
    labels, values = _grouped(result, metric, by, classes)
    return pd.concat([_curve(label, values[:, j], points) for j, label in enumerate(labels)], ignore_index=True)


def _curve(label: str, values: np.ndarray, points: int | None) -> pd.DataFrame:
    """The loss-exceedance curve of one group's figures over trials (see :func:`exceedance_curve`)."""
    col = np.sort(values)
    if points is None:
        grid = np.unique(col)
    else:
        top = max(float(col[-1]), 1.0)
        grid = np.unique(np.concatenate([[0.0], np.geomspace(1.0, top, points - 1)]))
    exceed = 1.0 - np.searchsorted(col, grid, side="right") / col.shape[0]
    return pd.DataFrame({"group": label, "value": grid, "exceedance": exceed})


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
    if points < 2:
        raise BlastRadiusError(f"points must be at least 2, got {points}")
    masks = [np.array([c == d for d in result.classes]) for c in result.classes]
    totals = _totals(result, [metric], "enterprise", masks)[0]  # every class in one pass
    return pd.concat([_curve(c, totals[k, 0], points) for k, c in enumerate(result.classes)], ignore_index=True)
