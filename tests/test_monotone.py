"""Controls never add risk (issue 13): a lever that only removes access or adds oversight never raises a figure.

For inventories drawn at random (:func:`strategies.small_inventories`) and every kind of lever (gate, block a
tool, read-only, narrow a scope to fewer tables or masked columns, lower a row limit, remove a connector from
a plugin, retire a plugin, add an anomaly alert or lower its threshold or log every query, pause a plugin or
revoke a connector faster, add a kill switch or a revocation), the changed inventory's figures are compared
with the original's, plugin by plugin (a retired plugin drops out; the others are compared):

- scores (:func:`blastradius.scores.score_plugins` and every action's :class:`~blastradius.scores.ActionScore`):
  blast radius and its three classes, capability, autonomy, reach and the records and people reached. Records
  reached are a lower bound while a dataset is unbounded (no size, and no row limit for a read), so a row
  limit may bound one and count its rows: the pair (unbounded datasets, records) never rises, in that order.
  A plugin's autonomy is how many of its actions run with no human (each by the share of its capability that
  does), compared always; an action's autonomy is a share of its capability, so capability x autonomy is
  compared;
- the simulation, on common random numbers (the same seed: each path's draws are named by its plugin and
  path, so both sides share them): every trial's records, people (in total and for good), incidents and runs
  affected, per plugin and failure class, and the records and people each plugin can touch in a period (the
  ceiling of every figure). Each trial no higher means no percentile and no mean is higher;
  :func:`blastradius.simulate.summarize` (per plugin, department and the enterprise and per class, and the
  enterprise's total) is compared as well, on a twentieth as many examples.

Not risk figures, and free to rise: ``records_recoverable`` and ``people_recoverable`` (damage that is undone:
a soft-delete tool left usable when an immediate one is blocked) and ``caught`` (events a human check stopped:
a gate adds them).

``MONOTONE_EXAMPLES`` sets the examples per kind of lever (default 2,000). Every kind draws the same
inventories (one test function with a fixed seed, and the same draws for every lever: :class:`Picks`), so
each inventory's figures are computed once for all kinds (:func:`baseline`). Inventories are built in memory
(:func:`strategies.inventory_of`, pinned to the loader below) and simulated for 64 trials on one thread.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from blastradius import load_inventory
from blastradius.analysis import Analysis
from blastradius.errors import BlastRadiusError, UnknownIdError
from blastradius.levers import (
    access_changes,
    with_alert,
    with_allowed_tables,
    with_approval_gate,
    with_audit_log,
    with_denied_columns,
    with_kill_switch,
    with_read_only,
    with_revocation,
    with_row_limit,
    with_tool_blocked,
    without_connector,
    without_plugin,
)
from blastradius.model import ActionClass, Inventory, SettingsSource
from blastradius.reach import ToolStatus, tool_status
from blastradius.scores import Scorer
from blastradius.simulate import default_assumptions, simulate_failures, summarize

from conftest import ACME, ACME_GOVERNED, write_inventory
from strategies import inventory_of, small_inventories

EXAMPLES = int(os.environ.get("MONOTONE_EXAMPLES", "2000"))
TRIALS = 64
SEED = 13
#: Slack for rounding: a sum over fewer paths is added up in another order.
TINY = 1e-6

ASSUMPTIONS = default_assumptions()

MONOTONE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Figures of the simulation that measure damage, trial by trial. Not among them: records_recoverable and
#: people_recoverable (damage undone) and caught (events a human check stopped), which a control may raise.
RISK_ARRAYS = ("records", "records_permanent", "people", "people_permanent", "incidents", "runs_affected")
RISK_SUMMARY = ("records", "records_permanent", "people", "people_permanent", "incidents")
STATS = ("mean", "p50", "p90", "p95", "p99")
#: summarize per plugin, department and the enterprise, per failure class; and the enterprise in total.
SUMMARIES = (("plugin", True), ("department", True), ("enterprise", True), ("enterprise", False))

#: Columns of score_plugins that never rise (``reach_records`` and ``sensitive_records`` apart: see the module's
#: docstring).
PLUGIN_SCORES = (
    "autonomy",
    "blast_radius",
    "wrong_action",
    "data_leakage",
    "wrong_output",
    "capability",
    "reach_people",
    "external_people",
)
#: Figures of every action's score that never rise. Its autonomy is a share of its capability (a gated tool
#: blocked leaves a lesser ungated one, all of the little that is left): capability x autonomy never rises.
ACTION_SCORES = ("blast_radius", "capability", "reach", "exposure", "reach_people", "external_people")


# --- the figures of one inventory -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Every figure of an inventory that a control must never raise."""

    plugins: dict[str, dict[str, float]]  # score_plugins: plugin -> column -> value
    actions: dict[tuple[str, str, str], dict[str, float]]  # (plugin, connector, action) -> figure -> value
    outputs: dict[str, float]  # plugin -> its output's blast radius
    plugin_ids: tuple[str, ...]  # the simulation's plugins, in the order of its arrays
    simulated: dict[str, np.ndarray]  # RISK_ARRAYS -> (trials, plugins, classes)
    reachable: np.ndarray  # (plugins, 2): records and people each can touch in a period, every figure's ceiling
    summaries: dict[tuple[str, bool], pd.DataFrame]  # (by, by_class) -> summarize, by group (and class)


def figures(inv: Inventory, *, summaries: bool = False, trials: int = TRIALS) -> Figures:
    """The figures of ``inv``: scores, and a simulation of ``trials`` periods from :data:`SEED`."""
    analysis = Analysis(inv, assumptions=ASSUMPTIONS)
    scorer = Scorer(analysis)
    actions: dict[tuple[str, str, str], dict[str, float]] = {}
    outputs = {}
    for p in inv.plugins:
        ps = scorer.plugin(p)
        outputs[p.id] = ps.output.blast_radius
        for a in ps.actions:
            actions[(p.id, a.connector, a.action.value)] = {
                **{name: float(getattr(a, name)) for name in ACTION_SCORES if name != "exposure"},
                "exposure": a.capability * a.autonomy,
                "reach_records": float(a.reach_records),
                "sensitive_records": float(a.sensitive_records),
                "unbounded_datasets": float(a.unbounded_datasets),
            }
    table = scorer.table()
    columns = [*PLUGIN_SCORES, "reach_records", "sensitive_records", "unbounded_datasets"]
    result = simulate_failures(analysis, trials=trials, seed=SEED)
    return Figures(
        plugins={row.plugin: {c: float(getattr(row, c)) for c in columns} for row in table.itertuples()},
        actions=actions,
        outputs=outputs,
        plugin_ids=result.plugins,
        simulated={name: getattr(result, name) for name in RISK_ARRAYS},
        reachable=np.array([result.reachable([i]) for i in range(len(result.plugins))]).reshape(-1, 2),
        summaries={
            (by, by_class): summarize(result, by=by, by_class=by_class).set_index(
                ["group", "failure_class"] if by_class else "group"
            )
            for by, by_class in (SUMMARIES if summaries else ())
        },
    )


def _rose(after: float, before: float) -> bool:
    return after > before + TINY * max(1.0, abs(before))


def _bound_widened(after: dict[str, float], before: dict[str, float]) -> bool:
    """Records reached rose with no unbounded dataset bounded: the pair (unbounded, records) rose, in that order."""
    if after["unbounded_datasets"] != before["unbounded_datasets"]:
        return after["unbounded_datasets"] > before["unbounded_datasets"]
    return _rose(after["reach_records"], before["reach_records"])


def risen(before: Figures, after: Figures) -> Iterator[str]:
    """Every figure that rose from ``before`` to ``after``, in words (none when the control added no risk)."""
    assert set(after.plugin_ids) <= set(before.plugin_ids), "a lever added a plugin"
    kept = list(after.plugin_ids)
    for pid in kept:
        b, a = before.plugins[pid], after.plugins[pid]
        bounded = a["unbounded_datasets"] < b["unbounded_datasets"]  # records counted now that a limit bounds them
        for col in (
            *PLUGIN_SCORES,
            *(() if bounded else ("sensitive_records",)),
        ):
            if _rose(a[col], b[col]):
                yield f"score_plugins {col} of {pid}: {b[col]:.6g} -> {a[col]:.6g}"
        if _bound_widened(a, b):
            yield (
                f"score_plugins (unbounded_datasets, reach_records) of {pid}: "
                f"({b['unbounded_datasets']:g}, {b['reach_records']:g}) -> "
                f"({a['unbounded_datasets']:g}, {a['reach_records']:g})"
            )
        if _rose(after.outputs[pid], before.outputs[pid]):
            yield f"output blast radius of {pid}: {before.outputs[pid]:.6g} -> {after.outputs[pid]:.6g}"
    for key, a in after.actions.items():
        b = before.actions.get(key)
        if b is None:
            yield f"action {key} appeared"
            continue
        bounded = a["unbounded_datasets"] < b["unbounded_datasets"]  # records counted now that a limit bounds them
        for col in (*ACTION_SCORES, *(() if bounded else ("sensitive_records",))):
            if _rose(a[col], b[col]):
                yield f"action {key}: {col} {b[col]:.6g} -> {a[col]:.6g}"
        if _bound_widened(a, b):
            yield f"action {key}: (unbounded_datasets, reach_records) {b['reach_records']:g} -> {a['reach_records']:g}"
    # the simulation, trial by trial, on common random numbers
    rows = [before.plugin_ids.index(p) for p in kept]
    for i, what in enumerate(("records", "people")):
        for pid, b_cap, a_cap in zip(kept, before.reachable[rows, i], after.reachable[:, i], strict=True):
            if _rose(a_cap, b_cap):
                yield f"{what} {pid} can touch in a period: {b_cap:.6g} -> {a_cap:.6g}"
    for name in RISK_ARRAYS:
        b_sim, a_sim = before.simulated[name][:, rows, :].astype(np.float64), after.simulated[name]
        over = a_sim > b_sim + TINY * np.maximum(1.0, np.abs(b_sim))
        if over.any():
            t, i, c = (int(x[0]) for x in np.nonzero(over))
            yield (
                f"simulated {name} of {kept[i]}, class {c}, trial {t}: {b_sim[t, i, c]:.6g} -> {a_sim[t, i, c]:.6g} "
                f"({int(over.sum())} cells rose)"
            )
    columns = [f"{metric}_{stat}" for metric in RISK_SUMMARY for stat in STATS]
    for (by, by_class), a_df in after.summaries.items():
        b_df = before.summaries[(by, by_class)]
        common = a_df.index.intersection(b_df.index)  # a department whose plugins all retired drops out
        b_all, a_all = b_df.loc[common, columns].to_numpy(float), a_df.loc[common, columns].to_numpy(float)
        over = a_all > b_all + TINY * np.maximum(1.0, np.abs(b_all))
        if over.any():
            r, c = (int(x[0]) for x in np.nonzero(over))
            yield (
                f"summarize(by={by!r}, by_class={by_class}) {columns[c]} of {common[r]}: "
                f"{b_all[r, c]:.6g} -> {a_all[r, c]:.6g} ({int(over.sum())} figures rose)"
            )


#: Figures of each inventory drawn, computed once for every kind of lever (they all draw the same inventories).
_BASELINES: dict[str, tuple[Inventory, Figures]] = {}


def baseline(files: dict[str, Any]) -> tuple[Inventory, Figures]:
    """The inventory of ``files`` and its figures, from :data:`_BASELINES` when another lever had it already."""
    key = json.dumps(files, sort_keys=True)
    if key not in _BASELINES:
        inv = inventory_of(files)
        _BASELINES[key] = inv, figures(inv)
    return _BASELINES[key]


@pytest.fixture(autouse=True, scope="module")
def one_kernel_thread() -> Iterator[None]:
    """Simulate on one thread (the inventories here are small: a pool costs more than it saves); forget baselines."""
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)
    _BASELINES.clear()


# --- the levers ---------------------------------------------------------------------------------------------
#
# Each chooses the arguments of one lever for an inventory, preferring the plugins, connectors and tools the
# lever can change (a gate on a tool no plugin uses changes nothing), and returns the call in words and the
# changed inventory.

T = TypeVar("T")

#: The numbers every example draws for its lever: one per choice the lever makes.
NUMBERS = st.tuples(*(st.integers(0, 2**32 - 1) for _ in range(5)))


class Picks:
    """A lever's arguments, each chosen by one of the example's :data:`NUMBERS`; a number 0 makes the first choice.

    Every kind of lever draws the same numbers, so every kind sees the same inventories; a failing example
    shrinks each number towards 0, the first option or the smallest value.
    """

    def __init__(self, numbers: Sequence[int]) -> None:
        self._numbers = iter(numbers)

    def _next(self) -> int:
        return next(self._numbers)

    def one(self, options: Sequence[T]) -> T:
        return options[self._next() % len(options)]

    def prefer(self, preferred: Sequence[T], every: Sequence[T]) -> T:
        """One of ``preferred``, or of ``every`` when there is none."""
        return self.one(preferred or every)

    def some(self, options: Sequence[T], *, at_least_one: bool = False) -> list[T]:
        """Option k is chosen when bit k of the number is set."""
        n = self._next()
        chosen = [o for k, o in enumerate(options) if n >> k & 1]
        return chosen if chosen or not at_least_one else [options[n % len(options)]]

    def integer(self, low: int, high: int) -> int:
        return low + self._next() % (high - low + 1)

    def seconds(self, high: float) -> float:
        return high * self._next() / (2**32 - 1)


Lever = Callable[[Picks, Inventory], tuple[str, Inventory]]


def _used_connectors(inv: Inventory) -> list[str]:
    return sorted({c for p in inv.plugins for c in p.connector_ids})


def _tables(inv: Inventory, connector: str) -> list[str]:
    return [d.table_name for d in inv.datasets_by_system.get(inv.connector_by_id[connector].system or "", ())]


def _columns(inv: Inventory, connector: str) -> list[str]:
    system = inv.connector_by_id[connector].system or ""
    return sorted({c.name for d in inv.datasets_by_system.get(system, ()) for c in d.columns})


def _with_tools(inv: Inventory, connectors: list[str], reads: bool) -> list[str]:
    """Of ``connectors``, those with a read tool (``reads``) or with a tool that changes something."""
    return [c for c in connectors if any((t.action is ActionClass.READ) == reads for t in inv.connector_by_id[c].tools)]


def _plugin_and_selector(picks: Picks, inv: Inventory) -> tuple[str, str]:
    """A plugin that runs, and what it can call: a tool, every tool of a connector, or an action class."""
    plugin = picks.prefer([p.id for p in inv.plugins if inv.runs_per_day(p) > 0], sorted(inv.plugin_by_id))
    p = inv.plugin_by_id[plugin]
    tools = [(cid, t) for cid in p.connector_ids for t in inv.connector_by_id[cid].tools]
    selectors = sorted(
        {f"{cid}.{t.name}" for cid, t in tools}
        | {f"{cid}.*" for cid in p.connector_ids}
        | {t.action.value for _, t in tools}
    )
    return plugin, picks.one(selectors)


def gate(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    plugin, selector = _plugin_and_selector(picks, inv)
    return f"with_approval_gate(inv, {plugin!r}, {selector!r})", with_approval_gate(inv, plugin, selector)


def block(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    plugin, selector = _plugin_and_selector(picks, inv)
    return f"with_tool_blocked(inv, {plugin!r}, {selector!r})", with_tool_blocked(inv, plugin, selector)


def read_only(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    connector = picks.prefer(_with_tools(inv, _used_connectors(inv), reads=False), sorted(inv.connector_by_id))
    return f"with_read_only(inv, {connector!r})", with_read_only(inv, connector)


def narrow_scope(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    """Fewer tables for a connector, or some of its columns masked."""
    every, used = sorted(inv.connector_by_id), _used_connectors(inv)
    if picks.one(["tables", "columns"]) == "columns" and any(_columns(inv, c) for c in every):
        connector = picks.prefer([c for c in used if _columns(inv, c)], [c for c in every if _columns(inv, c)])
        columns = picks.some(_columns(inv, connector), at_least_one=True)
        return f"with_denied_columns(inv, {connector!r}, {columns!r})", with_denied_columns(inv, connector, columns)
    connector = picks.prefer([c for c in used if _tables(inv, c)], every)  # a system with no table: allow none
    tables = picks.some(_tables(inv, connector))
    return f"with_allowed_tables(inv, {connector!r}, {tables!r})", with_allowed_tables(inv, connector, tables)


def row_limit(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    """A row limit below the connector's, or a first one of any size (also above the stand-in for unknown sizes)."""
    connector = picks.prefer(_with_tools(inv, _used_connectors(inv), reads=True), sorted(inv.connector_by_id))
    current = inv.connector_by_id[connector].row_limit
    limit = picks.integer(1, current if current is not None else 10**8)
    return f"with_row_limit(inv, {connector!r}, {limit})", with_row_limit(inv, connector, limit)


def remove_connector(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    plugin = picks.one(sorted(inv.plugin_by_id))
    connector = picks.one(sorted(set(inv.plugin_by_id[plugin].connector_ids)))
    return f"without_connector(inv, {plugin!r}, {connector!r})", without_connector(inv, plugin, connector)


def remove_plugin(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    plugin = picks.one(sorted(inv.plugin_by_id))
    return f"without_plugin(inv, {plugin!r})", without_plugin(inv, plugin)


def alert(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    """Every query logged; or an alert on rows returned, recipients or both, or a lower threshold."""
    connector = picks.prefer(_used_connectors(inv), sorted(inv.connector_by_id))
    way = picks.one(["log", "rows", "sends", "both"])
    if way == "log":
        return f"with_audit_log(inv, {connector!r})", with_audit_log(inv, connector)
    c = inv.connector_by_id[connector]
    audit = c.audit
    rows_top = min(x for x in (c.row_limit, audit and audit.alert_if_rows_returned_over, 10**7) if x)
    sends_top = min(x for x in (audit and audit.alert_if_sends_over, 10**5) if x)
    rows = picks.integer(1, rows_top) if way in ("rows", "both") else None
    sends = picks.integer(1, sends_top) if way in ("sends", "both") else None
    return (
        f"with_alert(inv, {connector!r}, rows_over={rows}, sends_over={sends})",
        with_alert(inv, connector, rows_over=rows, sends_over=sends),
    )


def _pause_seconds(inv: Inventory, plugin: str) -> float | None:
    """Seconds the plugin's kill switch takes to pause it (the stand-in when not given); None without one."""
    ks = inv.plugin_by_id[plugin].kill_switch
    if ks is None or not ks.can_pause:
        return None
    given_ = ks.time_to_pause_seconds
    return given_ if given_ is not None else ASSUMPTIONS.halt.pause_seconds_if_not_given


def _revoke_seconds(inv: Inventory, connector: str) -> float | None:
    """Seconds it takes to revoke the connector (the stand-in when not given); None when it cannot be."""
    rv = inv.connector_by_id[connector].revocation
    if rv is None or not rv.can_revoke:
        return None
    given_ = rv.time_to_revoke_seconds
    return given_ if given_ is not None else ASSUMPTIONS.halt.revoke_seconds_if_not_given


def faster_halt(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    """A kill switch that pauses a plugin faster than its own, or a faster revocation of a connector."""
    plugins = [p for p in sorted(inv.plugin_by_id) if _pause_seconds(inv, p) is not None]
    connectors = [c for c in sorted(inv.connector_by_id) if _revoke_seconds(inv, c) is not None]
    ways = [way for way, ids in (("pause", plugins), ("revoke", connectors)) if ids]
    if not ways:
        return "no kill switch or revocation to make faster", inv
    if picks.one(ways) == "pause":
        plugin = picks.one(plugins)
        seconds = picks.seconds(_pause_seconds(inv, plugin) or 0.0)
        return f"with_kill_switch(inv, {plugin!r}, {seconds!r})", with_kill_switch(inv, plugin, seconds)
    connector = picks.one(connectors)
    seconds = picks.seconds(_revoke_seconds(inv, connector) or 0.0)
    return f"with_revocation(inv, {connector!r}, {seconds!r})", with_revocation(inv, connector, seconds)


def new_halt(picks: Picks, inv: Inventory) -> tuple[str, Inventory]:
    """A kill switch for a plugin that has none, or a revocation for a connector that cannot be revoked: any time."""
    plugins = [p for p in sorted(inv.plugin_by_id) if _pause_seconds(inv, p) is None]
    connectors = [c for c in sorted(inv.connector_by_id) if _revoke_seconds(inv, c) is None]
    ways = [way for way, ids in (("pause", plugins), ("revoke", connectors)) if ids]
    if not ways:
        return "every plugin has a kill switch and every connector a revocation", inv
    if picks.one(ways) == "pause":
        plugin, seconds = picks.one(plugins), picks.seconds(100_000.0)
        return f"with_kill_switch(inv, {plugin!r}, {seconds!r})", with_kill_switch(inv, plugin, seconds)
    connector, seconds = picks.one(connectors), picks.seconds(100_000.0)
    return f"with_revocation(inv, {connector!r}, {seconds!r})", with_revocation(inv, connector, seconds)


#: Every kind of lever that only removes access or adds oversight.
LEVERS: dict[str, Lever] = {
    "gate": gate,
    "block": block,
    "read-only": read_only,
    "narrow-scope": narrow_scope,
    "row-limit": row_limit,
    "remove-connector": remove_connector,
    "remove-plugin": remove_plugin,
    "alert": alert,
    "faster-halt": faster_halt,
    # however slow: with neither a kill switch nor a revocation, someone unplugs the plugin by hand
    # (halt.manual_hours), and still can once there is one
    "new-halt": new_halt,
}


def check_lever(kind: str, inv: Inventory, before: Figures, numbers: Sequence[int]) -> None:
    """The lever ``kind``, chosen by ``numbers`` for ``inv``, widens no access and raises no figure."""
    what, changed = LEVERS[kind](Picks(numbers), inv)
    note(what)
    if changed == inv:  # nothing to change (a gate already there): nothing to compare
        return
    widened = [c for c in access_changes(inv, changed) if c.widens]
    assert not widened, f"{what} widens access: {widened}"
    after = figures(changed, summaries=bool(before.summaries))
    problems = list(risen(before, after))
    assert not problems, f"{what} added risk:\n" + "\n".join(problems[:12])


# --- the properties -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LEVERS))
@seed(SEED)  # the same for every kind (derandomize would mix in each test's id), so they share baselines
@MONOTONE
@given(files=small_inventories(), numbers=NUMBERS)
def test_no_control_adds_risk(kind: str, files: dict[str, Any], numbers: tuple[int, ...]) -> None:
    inv, before = baseline(files)
    check_lever(kind, inv, before, numbers)


@settings(MONOTONE, max_examples=max(EXAMPLES // 20, 1))
@given(files=small_inventories(), kind=st.sampled_from([k for k in LEVERS if k != "new-halt"]), numbers=NUMBERS)
def test_no_control_raises_a_summarised_figure(files: dict[str, Any], kind: str, numbers: tuple[int, ...]) -> None:
    # every percentile and the mean per plugin, department and the enterprise and per class, and the enterprise's
    # total: read off the trials compared above, so on a twentieth as many examples; and the lever leaves its input be
    inv = inventory_of(files)
    check_lever(kind, inv, figures(inv, summaries=True), numbers)
    assert inv == inventory_of(files)


@settings(MONOTONE, max_examples=max(EXAMPLES // 10, 1))
@given(files=small_inventories())
def test_inventories_built_in_memory_are_the_loaders(files: dict[str, Any]) -> None:
    loaded = load_inventory(write_inventory(Path(tempfile.mkdtemp()), files))
    built = inventory_of(files)
    for section in ("teams", "plugins", "connectors", "systems", "datasets", "people", "governance", "settings"):
        assert getattr(built, section) == getattr(loaded, section), section


def test_the_comparison_sees_access_widened(acme: Inventory) -> None:
    # the other way round, a gate taken away: scores, trials and summaries all rise somewhere
    gated = with_approval_gate(acme, "renewal-campaigns", "send")
    problems = list(risen(figures(gated, summaries=True), figures(acme, summaries=True)))
    for kind in (
        "score_plugins blast_radius of renewal-campaigns",
        "action (",
        "simulated ",
        "summarize(by='department'",
    ):
        assert any(p.startswith(kind) for p in problems), kind


def test_the_levers_refuse_what_is_not_a_control(acme: Inventory) -> None:
    with pytest.raises(BlastRadiusError, match="needs a threshold"):
        with_alert(acme, "billing")
    with pytest.raises(BlastRadiusError, match="at least 1, got 0"):
        with_alert(acme, "billing", sends_over=0)
    with pytest.raises(BlastRadiusError, match=r"whole number, got 2\.5"):
        with_alert(acme, "billing", rows_over=2.5)  # type: ignore[arg-type]
    with pytest.raises(BlastRadiusError, match="could never fire: its row limit is 10,000"):
        with_alert(acme, "billing", rows_over=10_001)
    with pytest.raises(BlastRadiusError, match="0 or more seconds, got -1"):
        with_revocation(acme, "payments", -1)
    with pytest.raises(BlastRadiusError, match="0 or more seconds, got nan"):
        with_revocation(acme, "payments", float("nan"))
    with pytest.raises(UnknownIdError, match="did you mean 'ap-autopilot'"):
        without_plugin(acme, "ap-autopliot")
    with pytest.raises(UnknownIdError, match="no connector 'mail'"):
        with_audit_log(acme, "mail")


def test_retiring_a_plugin_drops_its_assumptions(acme: Inventory) -> None:
    overrides = {"plugins": {"ap-autopilot": {"failure_rates": {"wrong_action": 0.01}}, "crm-hygiene": {}}}
    inv = acme.replace(settings={"assumptions": SettingsSource(data=overrides, file="a.yaml", path="assumptions")})
    retired = without_plugin(inv, "ap-autopilot")
    assert list(retired.settings["assumptions"].data["plugins"]) == ["crm-hygiene"]
    assert "ap-autopilot" in inv.settings["assumptions"].data["plugins"]
    simulate_failures(retired, trials=10, seed=0)  # its override would name a plugin the inventory lacks


# --- the cases issue 13 measured on the example ---------------------------------------------------------------

ACME_TRIALS = 2000


@pytest.fixture(scope="module")
def acme() -> Inventory:
    return load_inventory(ACME)


@pytest.fixture(scope="module")
def acme_governed() -> Inventory:
    return load_inventory(ACME_GOVERNED)


def assert_no_risk_added(
    inv: Inventory, changed: Inventory, what: str, *, before: Figures | None = None
) -> tuple[Figures, Figures]:
    """The figures of ``inv`` (or ``before``) and ``changed``, over :data:`ACME_TRIALS`, having checked none rose."""
    before = before or figures(inv, summaries=True, trials=ACME_TRIALS)
    after = figures(changed, summaries=True, trials=ACME_TRIALS)
    problems = list(risen(before, after))
    assert not problems, f"{what} added risk:\n" + "\n".join(problems[:12])
    return before, after


def _p95(fig: Figures, plugin: str, failure_class: str, metric: str = "records") -> float:
    return float(fig.summaries[("plugin", True)].loc[(plugin, failure_class), f"{metric}_p95"])


@pytest.mark.parametrize("governed", [False, True], ids=["acme, gated", "acme-governed"])
def test_blocking_a_gated_payment_tool_raises_no_leakage(
    acme: Inventory, acme_governed: Inventory, governed: bool
) -> None:
    # measured: the plugin's leakage score rose from 2.6 to 7.7 and its P95 from 195 to 10,228 records
    gated = acme_governed if governed else with_approval_gate(acme, "ap-autopilot", "payments.release_payment_batch")
    blocked = with_tool_blocked(gated, "ap-autopilot", "payments.release_payment_batch")
    before, after = assert_no_risk_added(gated, blocked, "blocking payments.release_payment_batch")
    assert after.plugins["ap-autopilot"]["data_leakage"] <= before.plugins["ap-autopilot"]["data_leakage"]
    assert _p95(after, "ap-autopilot", "data_leakage") <= _p95(before, "ap-autopilot", "data_leakage")


def _gated_email_users(inv: Inventory) -> list[str]:
    email = inv.connector_by_id["email"]
    return [
        p.id
        for p in inv.plugins
        if "email" in p.connector_ids
        and any(tool_status(p, email, t)[0] is ToolStatus.GATED for t in email.tools if t.action is ActionClass.SEND)
    ]


@pytest.mark.parametrize("governed", [False, True], ids=["acme", "acme-governed"])
def test_removing_a_gated_email_connector_raises_no_blast_radius(
    acme: Inventory, acme_governed: Inventory, governed: bool
) -> None:
    # measured: a plugin's blast radius rose from 83.6 to 87.8 and its P95 from 176 thousand to 909 thousand
    inv = acme_governed if governed else acme
    plugins = _gated_email_users(inv)
    assert plugins
    before = figures(inv, summaries=True, trials=ACME_TRIALS)
    for plugin in plugins:
        changed = without_connector(inv, plugin, "email")
        _, after = assert_no_risk_added(inv, changed, f"removing email from {plugin}", before=before)
        assert after.plugins[plugin]["blast_radius"] <= before.plugins[plugin]["blast_radius"]
        for failure_class in ("wrong_action", "data_leakage", "systematic"):
            for metric in ("records", "people"):
                assert _p95(after, plugin, failure_class, metric) <= _p95(before, plugin, failure_class, metric)


def test_a_row_limit_on_tables_of_unknown_size_raises_no_reach(acme: Inventory) -> None:
    # measured: reach rose from 1.37 to 5.37 million (the limit was taken for the table's size). The drive's
    # legacy-exports table has no size: the limit bounds it, so its rows count in reach_records (a lower bound
    # until then); the reach the score prices and what the simulation can touch do not rise
    assert acme.dataset_by_id["drv-legacy-exports"].records is None
    assert acme.connector_by_id["shared-drive"].row_limit is None
    limited = with_row_limit(acme, "shared-drive", 5_000_000)
    before, after = assert_no_risk_added(acme, limited, "row_limit: 5000000 on shared-drive")
    # plugins that only read the drive have it bounded now; those that write to it (no row limit on writes) do not
    bounded = [
        p for p in before.plugins if after.plugins[p]["unbounded_datasets"] < before.plugins[p]["unbounded_datasets"]
    ]
    assert sorted(bounded) == ["ap-autopilot", "privacy-dsar"]
    for plugin in before.plugins:
        assert after.plugins[plugin]["blast_radius"] <= before.plugins[plugin]["blast_radius"] + TINY
    for key, action in after.actions.items():
        assert action["reach"] <= before.actions[key]["reach"] + TINY, key
    assert (after.reachable <= before.reachable).all()
