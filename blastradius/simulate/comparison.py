"""What controls buy: a baseline and changed inventories simulated on the same random numbers.

Each path's random numbers depend only on the seed, its plugin and itself, so
two inventories that share a plugin's path draw the same numbers for it
(common random numbers): a difference between them is the controls' effect,
not sampling noise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.defaults import DEFAULT_TRIALS
from blastradius.errors import BlastRadiusError
from blastradius.model import Inventory
from blastradius.settings import Assumptions, Weights
from blastradius.settings.assumptions import _check_plugins, _load
from blastradius.simulate.engine import _check_trials, _root, _simulate
from blastradius.simulate.result import SimulationResult
from blastradius.simulate.summaries import _grouped, _groups, _stats

__all__ = ["compare", "compare_levers", "compare_results"]


_COMPARE_STATS = (("mean", None), ("p50", 0.5), ("p95", 0.95))


def compare_results(
    baseline: SimulationResult,
    controlled: SimulationResult,
    *,
    by: Literal["plugin", "department", "enterprise"] | Sequence[str] = "enterprise",
    metrics: Sequence[str] = ("records", "people"),
    classes: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """What the controls of ``controlled`` buy over ``baseline``: the reduction at mean, P50 and P95.

    Both results must come from the same seed and number of trials (common
    random numbers), so that a plugin's draws line up trial by trial. A
    plugin present in only one counts zero in the other.

    Returns
    -------
    DataFrame
        ``level`` (plugin, department or enterprise), ``group``, ``metric``,
        then ``baseline_S``, ``controlled_S``, ``reduction_S`` (baseline less
        controlled) and ``reduction_share_S`` for S in mean, p50, p95.
    """
    if baseline.trials != controlled.trials or baseline.seed != controlled.seed:
        raise BlastRadiusError(
            "results to compare must share seed and trials (common random numbers); "
            f"got seed {baseline.seed} with {baseline.trials} trials "
            f"and seed {controlled.seed} with {controlled.trials}"
        )
    levels = [by] if isinstance(by, str) else list(by)
    rows = []
    for level in levels:
        for metric in metrics:
            lb, lc = _groups(baseline, level)[0], _groups(controlled, level)[0]
            labels = lb + [g for g in lc if g not in lb]
            # one result's totals at a time
            sb = _stats(_aligned(baseline, metric, level, classes, labels))
            sc = _stats(_aligned(controlled, metric, level, classes, labels))
            for j, g in enumerate(labels):
                row: dict[str, Any] = {"level": level, "group": g, "metric": metric}
                for stat, _ in _COMPARE_STATS:
                    b, c = float(sb[stat][j]), float(sc[stat][j])
                    row[f"baseline_{stat}"] = b
                    row[f"controlled_{stat}"] = c
                    row[f"reduction_{stat}"] = b - c
                    row[f"reduction_share_{stat}"] = (b - c) / b if b > 0 else 0.0
                rows.append(row)
    return pd.DataFrame(rows)


def _aligned(
    result: SimulationResult, metric: str, level: str, classes: Sequence[str] | str | None, labels: list[str]
) -> np.ndarray:
    """``(trials, labels)`` totals of ``result``: a group it does not have counts zero."""
    own, values = _grouped(result, metric, level, classes)
    if own == labels:
        return values
    out = np.zeros((result.trials, len(labels)))
    out[:, [labels.index(g) for g in own]] = values
    return out


def compare(
    baseline: Inventory | Analysis,
    controlled: Inventory | Analysis,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int | np.random.Generator | None = None,
    weights: WeightsLike = None,
    by: Sequence[str] = ("plugin", "enterprise"),
    metrics: Sequence[str] = ("records", "people"),
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """Risk reduction of ``controlled`` over ``baseline`` (e.g. acme vs acme-governed), on the same trials.

    Both inventories are simulated with the same random numbers; the
    baseline's assumptions and weights (its own sections, then
    ``assumptions``/``weights``) apply to both, so that only the controls
    differ. Per-plugin overrides may name a plugin of either inventory.

    Returns
    -------
    DataFrame
        As :func:`compare_results`, per plugin then for the enterprise.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> acme = load_inventory("inventories/acme")
    >>> df = compare(acme, acme, trials=200, seed=5)
    >>> float(df.reduction_p95.abs().max())
    0.0
    """
    trials = _check_trials(trials)
    base = analysis_of(baseline, weights=weights)
    other = controlled.inventory if isinstance(controlled, Analysis) else controlled
    a = _load_for(_own(baseline, assumptions), base.inventory, [base.inventory, other])
    root = _root(seed)
    b = _simulate(_with(base, base.weights, a), trials=trials, root=root, progress=progress, total=2 * trials)
    c = _simulate(
        _with(controlled, base.weights, a), trials=trials, root=root, progress=progress, offset=trials, total=2 * trials
    )
    return compare_results(b, c, by=by, metrics=metrics)


def _own(source: Inventory | Analysis, assumptions: Any) -> Any:
    """The assumptions to use: those given, else an analysis's own (an inventory's come from its section)."""
    if assumptions is None and isinstance(source, Analysis):
        return source.assumptions
    return assumptions


def _with(source: Inventory | Analysis, weights: Weights, assumptions: Assumptions) -> Analysis:
    """``source`` with these settings (what it has derived kept, as reach does not depend on them)."""
    if isinstance(source, Analysis):
        return source.with_settings(weights=weights, assumptions=assumptions)
    return Analysis(source, weights=weights, assumptions=assumptions)


def _load_for(source: Any, inventory: Inventory, inventories: Sequence[Inventory]) -> Assumptions:
    """Assumptions of ``inventory`` (its section, then ``source``).

    Per-plugin overrides may name a plugin of any of ``inventories``.
    """
    a = source if isinstance(source, Assumptions) else _load(source, inventory.settings.get("assumptions"))
    _check_plugins(a, {p for inv in inventories for p in inv.plugin_by_id})
    return a


def compare_levers(
    source: Inventory | Analysis,
    levers: Mapping[str, Callable[[Inventory], Inventory]],
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int | np.random.Generator | None = None,
    weights: WeightsLike = None,
    by: Literal["plugin", "department", "enterprise"] | Sequence[str] = "enterprise",
    metrics: Sequence[str] = ("records", "people"),
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """What each lever buys on its own: the inventory, then each lever applied to it, on the same trials.

    Parameters
    ----------
    levers : mapping of name to callable
        Each returns a changed inventory, e.g.
        ``{"gate ap-autopilot pay": lambda inv: with_approval_gate(inv, "ap-autopilot", "pay")}``
        (see :mod:`blastradius.levers`).

    Returns
    -------
    DataFrame
        As :func:`compare_results`, with a first column ``lever``, ordered as
        the levers are; the baseline is simulated once.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.levers import with_approval_gate
    >>> inv = load_inventory("inventories/acme")
    >>> df = compare_levers(
    ...     inv, {"gate pay": lambda i: with_approval_gate(i, "ap-autopilot", "pay")}, trials=300, seed=2
    ... )
    >>> row = df[df.metric == "records"].iloc[0]
    >>> bool(row.reduction_mean > 0)
    True
    """
    trials = _check_trials(trials)
    analysis = analysis_of(source, weights=weights)
    inventory, w = analysis.inventory, analysis.weights
    a = _load_for(_own(source, assumptions), inventory, [inventory])
    root = _root(seed)
    total = trials * (1 + len(levers))
    base = _simulate(_with(analysis, w, a), trials=trials, root=root, progress=progress, total=total)
    frames = []
    for k, (name, lever) in enumerate(levers.items(), start=1):
        changed = lever(inventory)
        if not isinstance(changed, Inventory):
            raise BlastRadiusError(f"lever '{name}' returned {type(changed).__name__}, not an Inventory")
        result = _simulate(
            Analysis(changed, weights=w, assumptions=a),
            trials=trials,
            root=root,
            progress=progress,
            offset=k * trials,
            total=total,
        )
        df = compare_results(base, result, by=by, metrics=metrics)
        df.insert(0, "lever", name)
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
