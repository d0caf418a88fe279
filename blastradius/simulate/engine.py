"""Driving the compiled kernel: the plan as flat arrays, random streams, and the result filled in blocks of trials.

:func:`simulate_failures` builds the plan of an inventory
(:mod:`blastradius.simulate.plan`), lays it out as the tables the kernel
reads (one row per plugin, one per path), names each path's random streams
from the seed, the plugin and the path (so that two inventories sharing a
path share its random numbers), and lets :mod:`blastradius.simulate._kernel`
fill a :class:`~blastradius.simulate.SimulationResult`, one block of trials
at a time.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numba
import numpy as np

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.defaults import DEFAULT_TRIALS
from blastradius.errors import BlastRadiusError
from blastradius.model import Inventory
from blastradius.settings import Assumptions, Interval, PluginAssumptions
from blastradius.simulate import _kernel as kernel
from blastradius.simulate.plan import _Path, _plan, _PluginPlan, _replan
from blastradius.simulate.result import FAILURE_MODES, SimulationResult

__all__ = ["simulate_failures"]

_ONE_OFF = FAILURE_MODES[:3]
_FLOAT_FIELDS = ("records", "records_permanent", "people", "people_permanent")
_COUNT_FIELDS = ("incidents", "caught")
_FIELDS = _FLOAT_FIELDS + _COUNT_FIELDS  # in the kernel's order (R_RECORDS ... R_CAUGHT)


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


_GLOBAL = _key("<global>")
_BLOCK = 1024  # trials per call of the kernel: paces progress; the numbers do not depend on it
_KERNEL_LOCK = threading.Lock()
#: The compiled kernel; numba's dispatcher type does not describe its arguments.
_simulate_block = cast(Callable[..., None], kernel.simulate_block)


def _root(seed: int | np.random.Generator | np.random.SeedSequence | None) -> int:
    """The one door for randomness: an int seed is used as is; anything else draws one from default_rng."""
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if seed < 0:
            raise BlastRadiusError(f"seed must be 0 or more, got {seed}")
        if seed >= 2**64:
            raise BlastRadiusError(f"seed must be below 2**64, got {seed}")
        return int(seed)
    return int(np.random.default_rng(seed).integers(0, 2**63 - 1))


def _interval(interval: Interval) -> tuple[float, float]:
    return interval.median, interval.sigma


def _plugin_row(plan: _PluginPlan) -> list[float]:
    """The kernel's per-plugin columns (see :mod:`blastradius.simulate._kernel`)."""
    a = plan.assumptions
    rates = [getattr(a.failure_rates, c) for c in _ONE_OFF]
    d = a.detection
    row = [0.0] * kernel.PLUGIN_COLUMNS
    row[kernel.P_RUNS] = plan.runs
    for j, rate in enumerate(rates):
        median, row[kernel.P_RATE_SIGMA + j] = _interval(rate)
        row[kernel.P_RATE_MEDIAN + j] = median * (plan.rate_factor if j < 2 else 1.0)  # untrusted input: not output
    row[kernel.P_ONSET_MEDIAN], row[kernel.P_ONSET_SIGMA] = _interval(a.systematic.onsets_per_period)
    row[kernel.P_SHARE] = a.systematic.share_of_runs_affected
    row[kernel.P_ALERT_FIRES] = d.alert_fires
    row[kernel.P_ALERT_MEDIAN], row[kernel.P_ALERT_SIGMA] = _interval(d.alert_response_hours)
    row[kernel.P_AUDIT_MEDIAN], row[kernel.P_AUDIT_SIGMA] = _interval(d.audit_review_hours)
    row[kernel.P_UNAIDED_MEDIAN], row[kernel.P_UNAIDED_SIGMA] = _interval(d.unaided_hours)
    row[kernel.P_CAP_RECORDS] = plan.cap_records
    row[kernel.P_CAP_PEOPLE] = plan.cap_people
    for path in plan.paths:
        row[kernel.P_CATCH + _ONE_OFF.index(path.failure_class)] += path.catch
    return row


def _path_rows(path: _Path, a: PluginAssumptions) -> tuple[list[float], list[int]]:
    floats = [0.0] * kernel.PATH_COLUMNS
    floats[kernel.F_CATCH] = path.catch
    floats[kernel.F_ESCAPE] = path.escape
    floats[kernel.F_RECOVERY] = path.recovery
    floats[kernel.F_BOUND_RECORDS] = path.bound_records
    floats[kernel.F_BOUND_PEOPLE] = path.bound_people
    floats[kernel.F_CAP_RECORDS] = path.cap_records
    floats[kernel.F_CAP_PEOPLE] = path.cap_people
    floats[kernel.F_ALERT_RECORDS] = path.alert_records
    floats[kernel.F_ALERT_PEOPLE] = path.alert_people
    floats[kernel.F_HALT_HOURS] = path.halt_hours
    floats[kernel.F_MU], floats[kernel.F_SIGMA], floats[kernel.F_FULL] = a.magnitude.law(path.failure_class)
    ints = [0] * kernel.PATH_INT_COLUMNS
    ints[kernel.I_CLASS] = _ONE_OFF.index(path.failure_class)
    ints[kernel.I_FIXED] = int(path.fixed)
    ints[kernel.I_AUDIT] = int(path.audit)
    return floats, ints


@dataclass(frozen=True, kw_only=True)
class _Tables:
    """The plan as the kernel reads it: one row per plugin, one per path (paths grouped by plugin)."""

    plugins: np.ndarray
    plugin_keys: np.ndarray
    path_start: np.ndarray
    keys: np.ndarray
    path_f: np.ndarray
    path_i: np.ndarray


def _tables(plans: Sequence[_PluginPlan]) -> _Tables:
    plugin_rows, floats, ints, keys, start = [], [], [], [], [0]
    for plan in plans:
        plugin_rows.append(_plugin_row(plan))
        pkey = _key(plan.plugin)
        for path in plan.paths:
            if path.harmless:  # reaches nothing: only its caught events count, drawn per plugin and class
                continue
            f, i = _path_rows(path, plan.assumptions)
            floats.append(f)
            ints.append(i)
            keys.append(kernel.stream_key(pkey, _key(path.key)))
        start.append(len(keys))
    return _Tables(
        plugins=np.array(plugin_rows, dtype=np.float64).reshape(len(plans), kernel.PLUGIN_COLUMNS),
        plugin_keys=np.array([kernel.stream_key(_key(p.plugin), _GLOBAL) for p in plans], dtype=np.uint64),
        path_start=np.array(start, dtype=np.int64),
        keys=np.array(keys, dtype=np.uint64),
        path_f=np.array(floats, dtype=np.float64).reshape(len(keys), kernel.PATH_COLUMNS),
        path_i=np.array(ints, dtype=np.int64).reshape(len(keys), kernel.PATH_INT_COLUMNS),
    )


def _columns(plans: Sequence[_PluginPlan], tables: _Tables) -> np.ndarray:
    """``(fields, plugins, classes)``: the column of each figure, -1 where the plan makes it always zero.

    A permanent part (``records_permanent``, ``people_permanent``) has a column only where one of the paths can be
    undone; at -1 it is the figure itself (most damage is never undone: storing it would hold the figure twice).
    """
    can = np.zeros((len(_FIELDS), len(plans), len(FAILURE_MODES)), dtype=bool)
    field = {name: i for i, name in enumerate(_FIELDS)}
    sy = FAILURE_MODES.index("systematic")
    for i, plan in enumerate(plans):
        if plan.runs <= 0:
            continue
        for path in plan.paths:
            if path.harmless:
                continue
            for j in (_ONE_OFF.index(path.failure_class), sy):
                can[field["incidents"], i, j] = True
                if path.bound_records > 0:
                    can[field["records"], i, j] = True
                    can[field["records_permanent"], i, j] |= path.recovery > 0  # else: the figure itself
                if path.bound_people > 0:
                    can[field["people"], i, j] = True
                    can[field["people_permanent"], i, j] |= path.recovery > 0
            can[field["caught"], i, sy] |= path.catch > 0
        can[field["caught"], i, : len(_ONE_OFF)] |= (
            tables.plugins[i, kernel.P_CATCH : kernel.P_CATCH + len(_ONE_OFF)] > 0
        )
    return _numbered(can)


def _numbered(can: np.ndarray) -> np.ndarray:
    """Columns numbered plugin by plugin, class by class, where ``can`` is true; -1 elsewhere."""
    columns = np.full(can.shape, -1, dtype=np.int64)
    for f in range(len(_FIELDS)):
        columns[f][can[f]] = np.arange(int(can[f].sum()))
    return columns


def _check_trials(trials: Any) -> int:
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer):
        raise BlastRadiusError(f"trials must be a whole number, got {trials!r}")
    if trials < 1:
        raise BlastRadiusError(f"trials must be at least 1, got {trials}")
    return int(trials)


@dataclass(frozen=True, kw_only=True)
class _Drawn:
    """A simulation with the plan and tables it was drawn from: what the simulation of a changed analysis reuses
    (:func:`_draw` with ``like``)."""

    analysis: Analysis
    plans: Sequence[_PluginPlan]
    tables: _Tables
    columns: np.ndarray
    result: SimulationResult

    def head(self, trials: int) -> _Drawn:
        """Its first ``trials`` trials: what a simulation of ``trials`` trials on the same seed draws (trial ``t`` is
        the same however many trials are simulated)."""
        r = self.result
        if trials >= r.trials:
            return self
        result = SimulationResult(
            plugins=r.plugins,
            departments=r.departments,
            classes=r.classes,
            columns=r.columns,
            values={name: v[:trials] for name, v in r.values.items()},
            systematic_runs_affected=r.systematic_runs_affected[:trials],
            runs=r.runs,
            reachable_records=r.reachable_records,
            reachable_people=r.reachable_people,
            trials=trials,
            seed=r.seed,
            assumptions=r.assumptions,
            source=r.source,
        )
        return replace(self, result=result)


def _draw_tables(
    tables: _Tables,
    columns: np.ndarray,
    *,
    trials: int,
    root: int,
    hours: float,
    progress: Callable[[int, int], Any] | None,
    offset: int,
    total: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The kernel run over every trial of the plugins of ``tables``: each figure's columns and the systematic
    runs affected."""
    # float32 figures (7 significant digits) and int32 counts, only where they can be non-zero
    values = {
        name: np.zeros((trials, int((columns[f] >= 0).sum())), dtype=np.float32 if name in _FLOAT_FIELDS else np.int32)
        for f, name in enumerate(_FIELDS)
    }
    systematic_runs = np.zeros((trials, len(tables.plugin_keys)), dtype=np.int32)
    lost = np.zeros(trials, dtype=np.uint8)
    for start in range(0, trials, _BLOCK):
        stop = min(start + _BLOCK, trials)
        with _KERNEL_LOCK:  # the kernel's thread pool runs one call at a time
            _simulate_block(
                np.uint64(root),
                np.uint64(_GLOBAL),
                start,
                stop,
                tables.plugins,
                tables.plugin_keys,
                tables.path_start,
                tables.keys,
                tables.path_f,
                tables.path_i,
                hours,
                columns,
                *(values[name][start:stop] for name in _FIELDS),
                systematic_runs[start:stop],
                lost[start:stop],
            )
        if progress is not None:
            progress(offset + stop, total)
    if lost.any():
        raise BlastRadiusError(
            "internal error: the simulation drew a figure its plan says is always zero; please report it"
        )
    return values, systematic_runs


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``starts[i] .. starts[i] + lengths[i] - 1`` of every ``i``, one after the other."""
    lengths = lengths.astype(np.int64)
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _read(tables: _Tables) -> np.ndarray:
    """``(plugins, PLUGIN_COLUMNS)``: the per-plugin columns the kernel reads for each plugin.

    A plugin with no runs is skipped whole; a class's failure rate is read only through the plugin's paths of that
    class and its events a human check stops (``P_CATCH``); a fault's onsets, its share of runs and the detection
    times only on a path. Every other column is read.
    """
    plugins = tables.plugins
    n = plugins.shape[0]
    read = np.ones((n, kernel.PLUGIN_COLUMNS), dtype=bool)
    counts = np.diff(tables.path_start)
    owner = np.repeat(np.arange(n), counts)
    for j in range(len(_ONE_OFF)):
        has = np.zeros(n, dtype=bool)
        has[owner[tables.path_i[:, kernel.I_CLASS] == j]] = True
        used = has | (plugins[:, kernel.P_CATCH + j] > 0)
        read[~used, kernel.P_RATE_MEDIAN + j] = False
        read[~used, kernel.P_RATE_SIGMA + j] = False
    for c in _SYSTEMATIC_COLUMNS:
        read[counts == 0, c] = False
    skipped = ~(plugins[:, kernel.P_RUNS] > 0)
    read[skipped] = False
    read[skipped, kernel.P_RUNS] = True
    return read


_SYSTEMATIC_COLUMNS = (
    kernel.P_ONSET_MEDIAN,
    kernel.P_ONSET_SIGMA,
    kernel.P_SHARE,
    kernel.P_ALERT_FIRES,
    kernel.P_ALERT_MEDIAN,
    kernel.P_ALERT_SIGMA,
    kernel.P_AUDIT_MEDIAN,
    kernel.P_AUDIT_SIGMA,
    kernel.P_UNAIDED_MEDIAN,
    kernel.P_UNAIDED_SIGMA,
)


def _changed(before: _Drawn, tables: _Tables, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plugins (indices) whose draws can differ from ``before``'s, and those of them whose systematic faults
    alone can.

    A plugin's draws can differ when some input the kernel reads for it (its row, its paths' rows and stream keys)
    or the columns it fills differ; every other plugin's figures are ``before``'s, since the kernel draws each
    plugin from its own inputs and streams only. When the only inputs that differ are its faults' (onsets, share
    of runs, detection: :data:`_SYSTEMATIC_COLUMNS`), its one-off figures are ``before``'s too: the kernel's one-off
    failures never read them, and its faults never read the failure rates.
    """
    b = before.tables
    counts = np.diff(tables.path_start)
    other = (np.diff(b.path_start) != counts) | (b.plugin_keys != tables.plugin_keys)
    other |= ((before.columns >= 0) != (columns >= 0)).any(axis=(0, 2))
    alike = np.flatnonzero(~other & (counts > 0))
    if alike.size:
        now = _ranges(tables.path_start[alike], counts[alike])
        then = _ranges(b.path_start[alike], counts[alike])
        same = (
            _same(b.path_f[then], tables.path_f[now]).all(axis=1)
            & (b.path_i[then] == tables.path_i[now]).all(axis=1)
            & (b.keys[then] == tables.keys[now])
        )
        other[np.repeat(alike, counts[alike])[~same]] = True
    differs = ~_same(b.plugins, tables.plugins) & (_read(b) | _read(tables))
    faults = np.zeros(kernel.PLUGIN_COLUMNS, dtype=bool)
    faults[list(_SYSTEMATIC_COLUMNS)] = True
    other |= differs[:, ~faults].any(axis=1)
    only_faults = differs[:, faults].any(axis=1) & ~other
    return np.flatnonzero(other | only_faults), np.flatnonzero(only_faults)


def _subset(tables: _Tables, columns: np.ndarray, chosen: np.ndarray, faults: np.ndarray) -> tuple[_Tables, np.ndarray]:
    """The tables and columns of the ``chosen`` plugins alone; those among ``faults`` draw their systematic
    faults alone (no one-off failure: a failure rate of 0)."""
    counts = np.diff(tables.path_start)[chosen]
    rows = _ranges(tables.path_start[chosen], counts)
    plugins = np.ascontiguousarray(tables.plugins[chosen])
    plugins[np.isin(chosen, faults), kernel.P_RATE_MEDIAN : kernel.P_RATE_MEDIAN + len(_ONE_OFF)] = 0.0
    sub = _Tables(
        plugins=plugins,
        plugin_keys=np.ascontiguousarray(tables.plugin_keys[chosen]),
        path_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        keys=np.ascontiguousarray(tables.keys[rows]),
        path_f=np.ascontiguousarray(tables.path_f[rows]),
        path_i=np.ascontiguousarray(tables.path_i[rows]),
    )
    return sub, _numbered(columns[:, chosen, :] >= 0)


@numba.njit(cache=True)
def _assemble(out: np.ndarray, old: np.ndarray, pick: np.ndarray, new: np.ndarray, fresh: np.ndarray) -> None:
    """``out[t, c]`` is ``new[t, fresh[c]]`` where ``fresh[c] >= 0``, else ``old[t, pick[c]]``: row by row, in order."""
    for t in range(out.shape[0]):
        for c in range(out.shape[1]):
            k = fresh[c]
            out[t, c] = new[t, k] if k >= 0 else old[t, pick[c]]


def _spliced(
    before: SimulationResult,
    before_columns: np.ndarray,
    columns: np.ndarray,
    chosen: np.ndarray,
    drawn: tuple[dict[str, np.ndarray], np.ndarray],
    drawn_columns: np.ndarray,
    faults: np.ndarray,
    trials: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every plugin's figures: the ``chosen`` plugins' as ``drawn`` (in ``drawn_columns``), the others' copied from
    ``before``, and the one-off figures of the ``faults`` plugins (which drew their systematic faults alone) copied
    from ``before``. A plugin copied from ``before`` fills the same cells there (:func:`_changed` checks it)."""
    taken = np.zeros(columns.shape[1:], dtype=bool)  # (plugin, class): read from what was drawn
    taken[chosen] = True
    taken[faults, : len(_ONE_OFF)] = False
    values = {}
    for f, name in enumerate(_FIELDS):
        here = columns[f]
        width = int((here >= 0).sum())
        pick = np.zeros(width, dtype=np.int64)  # the column of before each column is copied from
        kept = (here >= 0) & ~taken
        pick[here[kept]] = before_columns[f][kept]
        fresh = np.full(width, -1, dtype=np.int64)  # the column drawn, where it is read from what was drawn
        mine = (here[chosen] >= 0) & taken[chosen]
        fresh[here[chosen][mine]] = drawn_columns[f][mine]
        out = np.empty((trials, width), dtype=before.values[name].dtype)
        _assemble(out, before.values[name][:trials], pick, drawn[0][name], fresh)
        values[name] = out
    runs = np.empty((trials, columns.shape[1]), dtype=np.int32)
    kept_plugins = np.ones(columns.shape[1], dtype=bool)
    kept_plugins[chosen] = False
    runs[:, kept_plugins] = before.systematic_runs_affected[:trials, kept_plugins]
    runs[:, chosen] = drawn[1]
    return values, runs


def _draw(
    analysis: Analysis,
    *,
    trials: int,
    root: int,
    progress: Callable[[int, int], Any] | None = None,
    offset: int = 0,
    total: int | None = None,
    like: _Drawn | None = None,
) -> _Drawn:
    """Simulate ``analysis``; with ``like`` (a simulation of another analysis on the same seed, at least as many
    trials), only the plugins whose inputs differ are drawn, the others' figures copied from it.

    The figures are those a simulation afresh gives (each plugin is drawn from its own inputs and random streams,
    which is what common random numbers rest on): tests pin it on the example and on a synthetic enterprise.
    """
    assumptions = analysis.assumptions
    total = trials if total is None else total
    hours = assumptions.period.hours
    if like is not None and (
        like.result.seed != root
        or like.result.trials < trials
        or like.analysis.assumptions.period.hours != hours
        or like.result.plugins != tuple(p.id for p in analysis.inventory.plugins)
    ):
        like = None

    def run(tables: _Tables, columns: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        return _draw_tables(
            tables, columns, trials=trials, root=root, hours=hours, progress=progress, offset=offset, total=total
        )

    if like is None:
        plans = _plan(analysis)
        tables = _tables(plans)
        columns = _columns(plans, tables)
        values, systematic_runs = run(tables, columns)
    else:
        plans = _replan(analysis, like.analysis, like.plans)
        tables = _tables(plans)
        same_paths = all(a.paths is b.paths and a.runs == b.runs for a, b in zip(plans, like.plans, strict=True))
        columns = like.columns if same_paths else _columns(plans, tables)
        chosen, faults = _changed(like, tables, columns)
        if chosen.size == len(plans) and not faults.size:
            values, systematic_runs = run(tables, columns)
        else:
            sub_tables, sub_columns = _subset(tables, columns, chosen, faults)
            if chosen.size:
                drawn = run(sub_tables, sub_columns)
            else:  # nothing the kernel reads differs: every figure is like's
                drawn = (
                    {name: like.result.values[name][:trials, :0] for name in _FIELDS},
                    np.zeros((trials, 0), np.int32),
                )
                if progress is not None:
                    progress(offset + trials, total)
            values, systematic_runs = _spliced(
                like.result, like.columns, columns, chosen, drawn, sub_columns, faults, trials
            )
    for array in (*values.values(), systematic_runs, columns):
        array.setflags(write=False)
    runs = np.array([p.runs for p in plans])
    runs.setflags(write=False)
    result = SimulationResult(
        plugins=tuple(p.plugin for p in plans),
        departments=tuple(p.department for p in plans),
        classes=FAILURE_MODES,
        columns={name: columns[f] for f, name in enumerate(_FIELDS)},
        values=values,
        systematic_runs_affected=systematic_runs,
        runs=runs,
        reachable_records=tuple(p.records for p in plans),
        reachable_people=tuple(p.people for p in plans),
        trials=trials,
        seed=root,
        assumptions=assumptions,
        source=analysis.inventory.source,
    )
    return _Drawn(analysis=analysis, plans=plans, tables=tables, columns=columns, result=result)


def _simulate(
    analysis: Analysis,
    *,
    trials: int,
    root: int,
    progress: Callable[[int, int], Any] | None,
    offset: int = 0,
    total: int | None = None,
) -> SimulationResult:
    return _draw(analysis, trials=trials, root=root, progress=progress, offset=offset, total=total).result


def simulate_failures(
    source: Inventory | Analysis,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int | np.random.Generator | None = None,
    weights: WeightsLike = None,
    progress: Callable[[int, int], Any] | None = None,
) -> SimulationResult:
    """Simulate ``trials`` periods of every plugin's failures, with the inventory's controls.

    Parameters
    ----------
    source : Inventory or Analysis
        An analysis shares the reach it has computed (e.g. for scoring) with the simulation.
    assumptions : Assumptions, mapping, file or None
        Laid over the defaults and the inventory's ``assumptions:`` section
        (see :func:`load_assumptions`).
    trials : int
        Periods to simulate. Memory and time grow linearly with trials × plugins.
    seed : int, Generator or None
        The one source of randomness. The same int gives the same numbers;
        each plugin's draws depend on the seed and its id only, so two
        inventories sharing plugins share their random numbers (what
        :func:`compare` relies on).
    weights : optional
        Scoring weights: only their stand-ins for unknown sizes are used.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block of trials.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ConfigError
        Invalid assumptions (file, line, key).
    BlastRadiusError
        ``trials`` below 1, a negative seed.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> a = simulate_failures(inv, trials=100, seed=7)
    >>> b = simulate_failures(inv, trials=100, seed=7)
    >>> bool((a.people_permanent == b.people_permanent).all())
    True
    """
    trials = _check_trials(trials)
    analysis = analysis_of(source, weights=weights, assumptions=assumptions)
    analysis.assumptions  # noqa: B018 -- validated before any work
    return _simulate(analysis, trials=trials, root=_root(seed), progress=progress)
