"""The plan of a simulation: every way each plugin can fail, with every input taken from the inventory.

A plugin fails through its *paths*: each of its actions as
:mod:`blastradius.reach` groups them (:class:`~blastradius.reach.ActionReach`:
a connector and an action class, with its reach after the connector's scope
and its gate) and its output. Reach is read from the analysis context, never
recomputed; gates, reviews and the way out are priced with the assumptions'
catch rates; halting follows :func:`blastradius.domain.time_to_halt`. A
path carries what one event touches at most, which human checks stop it,
how much of its damage can be undone, which anomaly alerts watch it and how
fast it is halted once noticed. :func:`failure_paths` lists
them with the closed-form expectation of each, so a reader can challenge
every input; :mod:`blastradius.simulate.engine` draws from them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.domain import (
    WayOut,
    is_channel_out,
    is_recipient_action,
    most_open_way_out,
    per_call_limit,
    time_to_halt,
    untrusted_inputs,
)
from blastradius.model import ActionClass, Connector, Inventory, Plugin, Tool
from blastradius.reach import USABLE, ActionReach, ToolStatus
from blastradius.settings import Assumptions, Period, PluginAssumptions, Weights
from blastradius.simulate import _kernel as kernel

__all__ = ["failure_paths"]

#: Failure classes whose rates untrusted input multiplies (:class:`~blastradius.settings.UntrustedInput`).
_UNTRUSTED_CLASSES = ("wrong_action", "data_leakage")

#: The key of a plugin's output audience among the people it can reach: its own, never shared with another plugin.
_AUDIENCE = "audience of plugin "


@dataclass(frozen=True, kw_only=True)
class _Path:
    """One way a plugin can fail: one of its actions or its output.

    An action is a connector and an action class, as :mod:`blastradius.reach` groups tools.
    """

    key: str  # names the path's random streams: stable when other paths change
    failure_class: str
    connector: str | None
    action: str
    tools: tuple[str, ...]
    status: str
    reversibility: str
    catch: float  # a human check stops an event (and, in a systematic fault, raises the alarm)
    escape: float  # an event no human stopped does damage
    recovery: float  # share of damaging events undone
    bound_records: float  # most records one event touches
    bound_people: float
    cap_records: float  # most distinct records the path can touch in a period
    cap_people: float
    fixed: bool  # one event always touches its whole bound (an output reaches its audience)
    alert_records: float  # an anomaly alert fires when one call returns more rows than this
    alert_people: float  # ... or sends to more people than this
    audit: bool
    halt_hours: float
    controls: str

    @property
    def harmless(self) -> bool:
        """Reaches nothing: its events are neither incidents nor damage."""
        return self.bound_records <= 0 and self.bound_people <= 0


@dataclass(frozen=True, kw_only=True)
class _PluginPlan:
    plugin: str
    department: str
    runs: float
    assumptions: PluginAssumptions
    paths: tuple[_Path, ...]
    untrusted: tuple[str, ...]  # tools through which it takes in untrusted content
    records: Mapping[str, float]  # every dataset it can touch in a period, at its full size (stand-ins for unknown)
    people: Mapping[str, float]  # every group of people it can reach, and its output's audience

    @property
    def rate_factor(self) -> float:
        """Multiplier on its wrong-action and data-leakage rates: untrusted input (:class:`UntrustedInput`)."""
        return self.assumptions.untrusted_input.rate_factor if self.untrusted else 1.0

    @property
    def cap_records(self) -> float:
        """Distinct records it can touch in a period."""
        return float(sum(self.records.values()))

    @property
    def cap_people(self) -> float:
        """Distinct people it can reach in a period (its output's audience counted apart)."""
        return float(sum(self.people.values()))


def _halt_hours(plugin: Plugin, connector: Connector | None, a: PluginAssumptions) -> float:
    """Hours from detection to halt (:func:`blastradius.domain.time_to_halt` with the assumptions' stand-ins).

    A path through a connector stops when the plugin is paused or that
    connector revoked; an output only when the plugin is paused. Unplugging
    the plugin by hand, in ``halt.manual_hours``, is always possible: it
    bounds a slower kill switch or revocation too, so adding one never makes
    halting slower.
    """
    seconds = time_to_halt(plugin, [connector] if connector is not None else [], a.halt)
    return a.halt.manual_hours if seconds is None else min(seconds / 3600, a.halt.manual_hours)


def _miss(status: ToolStatus, a: PluginAssumptions) -> float:
    """Share of events on a tool of this status that no human stops: 1 ungated, the gate's miss rate gated."""
    return {ToolStatus.UNGATED: 1.0, ToolStatus.GATED: 1 - a.controls.approval_gate_catch_rate}.get(status, 0.0)


def _usable_tools(analysis: Analysis, plugin: Plugin) -> list[tuple[Connector, Tool, ToolStatus]]:
    """Every tool of the plugin's connectors, connector by connector as it lists them, with its status."""
    status = {(act.connector, t.tool.name): t.status for act in analysis.reach(plugin).actions for t in act.tools}
    out: list[tuple[Connector, Tool, ToolStatus]] = []
    for cid in dict.fromkeys(plugin.connector_ids):
        conn = analysis.inventory.connector_by_id[cid]
        out.extend((conn, tool, status[(cid, tool.name)]) for tool in conn.tools)
    return out


def _way_out(plugin: Plugin, tools: list[tuple[Connector, Tool, ToolStatus]], a: PluginAssumptions) -> WayOut:
    """How freely what the plugin reads gets out, and through what (:func:`blastradius.domain.most_open_way_out`).

    Its usable channels out, connector by connector as the plugin lists them,
    each priced at its tool's miss rate; its output, when it leaves the
    organisation, at its review's miss rate.
    """
    channels = [
        (_miss(st, a), f"{conn.id}.{tool.name} ({st.value})")
        for conn, tool, st in tools
        if st in USABLE and is_channel_out(conn, tool)
    ]
    return most_open_way_out(
        plugin,
        channels,
        output_miss=1 - a.controls.review_catch(plugin.review_tier),
        no_way_out=a.controls.internal_exposure_share,
    )


def _records(scopes: Iterable[Any], w: Weights) -> float:
    """Records the scopes touch; a size not given counts as the stand-in, which a row limit can only lower."""
    stand_in = w.unknown_dataset_records
    return float(
        sum(s.records if s.size_known else stand_in if s.records is None else min(s.records, stand_in) for s in scopes)
    )


def _people(inv: Inventory, groups: Iterable[str], w: Weights) -> float:
    counts = (inv.people_by_id[g].count for g in groups)
    return float(sum(c if c is not None else w.unknown_people_count for c in counts))


@dataclass(frozen=True, kw_only=True)
class _Sizes:
    """What an action reaches, in the simulation's terms: the same for every plugin that has the action."""

    records: float  # records one call can touch (stand-ins for unknown sizes)
    people: float
    sensitive: float  # sensitive records one query returns (a read)
    sensitive_full: float  # sensitive records of the whole tables it reads
    sensitive_people: float  # people in the sensitive tables it reads
    tables: Mapping[str, float]  # every dataset it touches, at full size: what it can touch over a period
    groups: Mapping[str, float]  # every group of people it reaches, and its count


def _sizes(inv: Inventory, act: ActionReach, w: Weights) -> _Sizes:
    sensitive = [s for s in act.datasets if s.sensitive]
    tables = [inv.dataset_by_id[s.dataset].records for s in sensitive]
    ids = {s.dataset for s in sensitive}
    return _Sizes(
        records=_records(act.datasets, w),
        people=_people(inv, act.people_groups, w),
        sensitive=_records(sensitive, w),
        sensitive_full=float(sum(w.unknown_dataset_records if n is None else n for n in tables)),
        sensitive_people=_people(inv, (g for g in act.people_groups if inv.people_by_id[g].dataset in ids), w),
        tables={s.dataset: _full_size(inv, s.dataset, w) for s in act.datasets},
        groups={g: _people(inv, (g,), w) for g in act.people_groups},
    )


def _full_size(inv: Inventory, dataset: str, w: Weights) -> float:
    n = inv.dataset_by_id[dataset].records
    return float(w.unknown_dataset_records if n is None else n)


def _action_path(
    inv: Inventory,
    plugin: Plugin,
    act: ActionReach,
    way_out: WayOut,
    a: PluginAssumptions,
    w: Weights,
    sizes: dict[tuple, _Sizes],
) -> _Path:
    conn = inv.connector_by_id[act.connector]
    names = act.usable_tools
    tools = [t for t in (conn.tool(name) for name in names) if t is not None]
    fan_out = max(
        (per_call_limit(conn, t, records_per_result=a.magnitude.records_per_result) for t in tools), default=0
    )
    gated = act.status is ToolStatus.GATED
    status_catch = a.controls.approval_gate_catch_rate if gated else 0.0
    audit = conn.audit
    common: dict[str, Any] = {
        "connector": conn.id,
        "action": act.action.value,
        "tools": names,
        "status": act.status.value,
        "audit": bool(audit is not None and audit.log_every_query),
        "halt_hours": _halt_hours(plugin, conn, a),
        "fixed": False,
    }
    key = (act.connector, act.action, names)
    if key not in sizes:  # the stand-ins for unknown sizes are the same in every plugin's weights
        sizes[key] = _sizes(inv, act, w)
    size = sizes[key]
    if act.action is ActionClass.READ:
        # one call carries at most what its tool returns (domain.per_call_limit: fan-out or one tool result, within
        # the row limit; the largest of the action's tools), and never more than the sensitive records it reaches
        bound = min(size.sensitive, fan_out)
        full, people = size.sensitive_full, size.sensitive_people
        # a leak gets past its own gate (which raises the alarm), then out through the most open way: a channel
        # out at its gate's or review's miss rate, or colleagues inside the organisation
        threshold = audit.alert_if_rows_returned_over if audit is not None else None
        return _Path(
            key=f"data_leakage:{conn.id}.read",
            failure_class="data_leakage",
            reversibility="permanent",
            catch=status_catch,
            escape=way_out.share,
            recovery=0.0,
            bound_records=bound,
            bound_people=min(people, bound),
            cap_records=float(full),
            cap_people=people,
            alert_records=float(threshold) if threshold else math.inf,
            alert_people=math.inf,
            controls=f"{act.status.value}; way out: {way_out.label}",
            **common,
        )
    records, people = size.records, size.people
    recovery = min((a.recovery[t.reversibility] for t in tools), default=0.0)
    worst = min(tools, key=lambda t: a.recovery[t.reversibility]).reversibility.value if tools else "immediate"
    sends = is_recipient_action(act.action)
    threshold = audit.alert_if_sends_over if sends and audit is not None else None
    return _Path(
        key=f"wrong_action:{conn.id}.{act.action.value}",
        failure_class="wrong_action",
        reversibility=worst,
        catch=status_catch,
        escape=1.0,
        recovery=recovery,
        bound_records=float(min(fan_out, records)),
        bound_people=float(min(fan_out, people)),
        cap_records=records,
        cap_people=people,
        alert_records=math.inf,
        alert_people=float(threshold) if threshold else math.inf,
        controls=f"{act.status.value}: {act.reason}",
        **common,
    )


def _plan_plugin(
    analysis: Analysis, plugin: Plugin, a: PluginAssumptions, period: Period, sizes: dict[tuple, _Sizes]
) -> _PluginPlan:
    inv, w = analysis.inventory, analysis.weights
    tools = _usable_tools(analysis, plugin)
    way_out = _way_out(plugin, tools, a)
    actions = [act for act in analysis.reach(plugin).actions if act.status in USABLE]
    paths = [_action_path(inv, plugin, act, way_out, a, w, sizes) for act in actions]
    records: dict[str, float] = {}
    people: dict[str, float] = {}
    for act in actions:  # what the plugin can touch in a period: every dataset and group its usable actions reach
        size = sizes[(act.connector, act.action, act.usable_tools)]
        records.update(size.tables)
        people.update(size.groups)
    audience = plugin.output_audience if plugin.output_audience is not None else w.unknown_output_audience
    readers = float(audience * a.wrong_output.forwarding_factor)
    tier = f"review tier {plugin.review_tier or 'none'}"
    paths.append(
        _Path(
            key="wrong_output:output",
            failure_class="wrong_output",
            connector=None,
            action="output",
            tools=(),
            status=tier,
            reversibility="permanent",
            catch=a.controls.review_catch(plugin.review_tier),
            escape=1.0,
            recovery=0.0,
            bound_records=0.0,
            bound_people=readers,
            cap_records=math.inf,
            cap_people=readers,
            fixed=True,
            alert_records=math.inf,
            alert_people=math.inf,
            audit=False,
            halt_hours=_halt_hours(plugin, None, a),
            controls=f"{tier} ({plugin.output.value} output)",
        )
    )
    people[_AUDIENCE + plugin.id] = readers
    runs = inv.runs_per_day(plugin) * period.working_days
    return _PluginPlan(
        plugin=plugin.id,
        department=inv.department_of(plugin),
        runs=runs,
        assumptions=a,
        paths=tuple(paths),
        untrusted=tuple(untrusted_inputs((conn, tool, st in USABLE) for conn, tool, st in tools)),
        records=records,
        people=people,
    )


def _plan(analysis: Analysis) -> list[_PluginPlan]:
    """Every plugin's failure paths, with the analysis's assumptions.

    Sizes not given take the stand-ins of the analysis's weights.
    """
    assumptions = analysis.assumptions
    sizes: dict[tuple, _Sizes] = {}
    return [
        _plan_plugin(analysis, p, assumptions.for_plugin(p.id), assumptions.period, sizes)
        for p in analysis.inventory.plugins
    ]


#: The scoring weights a plan reads: the stand-ins for sizes the inventory does not give.
_PLAN_WEIGHTS = ("unknown_dataset_records", "unknown_people_count", "unknown_output_audience")


def _path_inputs(a: PluginAssumptions) -> tuple[Any, ...]:
    """The assumptions a plugin's paths are priced with (:func:`_plan_plugin`); the others reach the kernel only
    through :attr:`_PluginPlan.assumptions` (failure rates, faults, detection, magnitude laws, untrusted input)."""
    return (a.controls, a.recovery, a.halt, a.wrong_output, a.magnitude.records_per_result)


def _replan(analysis: Analysis, before: Analysis, plans: Sequence[_PluginPlan]) -> list[_PluginPlan]:
    """The plan of ``analysis``, taking each plugin's paths from ``plans`` (the plan of ``before``) where nothing
    they are priced with differs: the same paths, with the plugin's new assumptions.

    Equal to :func:`_plan` of ``analysis`` (a test pins it): only a plugin whose paths' inputs
    (:func:`_path_inputs`) differ is planned again, and every plugin when the inventory, the weights' stand-ins
    or the period differ.
    """
    assumptions = analysis.assumptions
    if (
        analysis.inventory is not before.inventory
        or len(plans) != len(analysis.inventory.plugins)
        or assumptions.period != before.assumptions.period
        or any(getattr(analysis.weights, k) != getattr(before.weights, k) for k in _PLAN_WEIGHTS)
    ):
        return _plan(analysis)
    sizes: dict[tuple, _Sizes] = {}
    out = []
    for p, plan in zip(analysis.inventory.plugins, plans, strict=True):
        a = assumptions.for_plugin(p.id)
        if plan.plugin == p.id and _path_inputs(a) == _path_inputs(plan.assumptions):
            out.append(replace(plan, assumptions=a))
        else:
            out.append(_plan_plugin(analysis, p, a, assumptions.period, sizes))
    return out


def _mean_magnitude(bound: float, failure_class: str, a: PluginAssumptions) -> float:
    """Mean of what one event of the class touches within ``bound``: the kernel's law, its one implementation."""
    return kernel.magnitude_moments(bound, *a.magnitude.law(failure_class))[0]


_PATH_COLUMNS = (
    "plugin",
    "department",
    "failure_class",
    "path",
    "connector",
    "action",
    "tools",
    "status",
    "reversibility",
    "runs_per_period",
    "rate_factor",
    "catch_rate",
    "escape_rate",
    "recovery_rate",
    "records_bound",
    "people_bound",
    "records_cap",
    "people_cap",
    "alert_over_rows",
    "alert_over_sends",
    "audit",
    "halt_hours",
    "controls",
    "expected_events",
    "expected_incidents",
    "expected_records",
    "expected_people",
    "expected_faults",
)


def failure_paths(
    source: Inventory | Analysis,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    weights: WeightsLike = None,
) -> pd.DataFrame:
    """Every way a plugin can fail, with every input the simulation takes from the inventory.

    One row per plugin and usable action (a connector and action class, as
    :mod:`blastradius.reach` groups tools: reads make up data leakage, other
    actions wrong action) and one per plugin output (wrong output). The
    ``expected_*`` columns are the closed-form expectations per period of the
    one-off failures on that path (before the per-period reach cap), which the
    simulated means converge to; ``expected_faults`` is the mean number of
    systematic faults starting on it. ``records_cap``, ``people_cap`` and the
    ``alert_over_*`` thresholds are empty where there is none.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> paths = failure_paths(load_inventory("inventories/acme"))
    >>> row = paths[(paths.plugin == "renewal-campaigns") & (paths.path == "email.send")].iloc[0]
    >>> float(row.people_bound), row.status, float(row.catch_rate)
    (2310.0, 'ungated', 0.0)
    """
    analysis = analysis_of(source, weights=weights, assumptions=assumptions)
    rows = []
    for plan in _plan(analysis):
        pa = plan.assumptions
        for path in plan.paths:
            rate = getattr(pa.failure_rates, path.failure_class).mean
            factor = plan.rate_factor if path.failure_class in _UNTRUSTED_CLASSES else 1.0
            events = plan.runs * min(rate * factor, 1.0)
            incidents = 0.0 if path.harmless else events * (1 - path.catch) * path.escape
            mr = path.bound_records if path.fixed else _mean_magnitude(path.bound_records, path.failure_class, pa)
            mp = path.bound_people if path.fixed else _mean_magnitude(path.bound_people, path.failure_class, pa)
            rows.append(
                {
                    "plugin": plan.plugin,
                    "department": plan.department,
                    "failure_class": path.failure_class,
                    "path": path.key.split(":", 1)[1],
                    "connector": path.connector,
                    "action": path.action,
                    "tools": ", ".join(path.tools),
                    "status": path.status,
                    "reversibility": path.reversibility,
                    "runs_per_period": plan.runs,
                    "rate_factor": factor,
                    "catch_rate": path.catch,
                    "escape_rate": path.escape,
                    "recovery_rate": path.recovery,
                    "records_bound": path.bound_records,
                    "people_bound": path.bound_people,
                    "records_cap": path.cap_records,
                    "people_cap": path.cap_people,
                    "alert_over_rows": path.alert_records,
                    "alert_over_sends": path.alert_people,
                    "audit": path.audit,
                    "halt_hours": path.halt_hours,
                    "controls": path.controls,
                    "expected_events": events,
                    "expected_incidents": incidents,
                    "expected_records": incidents * mr,
                    "expected_people": incidents * mp,
                    "expected_faults": pa.systematic.onsets_per_period.mean if plan.runs > 0 else 0.0,
                }
            )
    df = pd.DataFrame(rows, columns=list(_PATH_COLUMNS))
    none = ["records_cap", "people_cap", "alert_over_rows", "alert_over_sends"]
    df[none] = df[none].replace(math.inf, math.nan)  # empty: no cap, no such alert
    return df
