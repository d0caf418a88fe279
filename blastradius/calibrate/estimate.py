"""From counts to calibrated settings: each estimate a posterior over the sourced prior, with its interval.

==================================  ============================  ======================================
quantity                            prior                         setting it calibrates
==================================  ============================  ======================================
``runs_per_user_per_day``           Gamma, mean the inventory's   ``plugins[].users[].runs_per_user_per_day``
                                    figure, worth 2 runs
``approval_gate_catch_rate``        Beta fitted to the            ``assumptions.plugins.ID.controls.``
                                    assumption's value and range  ``approval_gate_catch_rate``
``data_leakage_full_share``         likewise                      ``…magnitude.data_leakage_full_share``
``wrong_action_full_share``         likewise                      ``…magnitude.wrong_action_full_share``
``tool_failure_rate``               Jeffreys Beta(½, ½)           none: the model has no tool-error rate
``rows_per_call``,                  Jeffreys, for the share at    none: a call above the bound is a
``recipients_per_call``             the modelled bound            finding (BR202)
==================================  ============================  ======================================

The gate's observed catch is the share of human decisions on gated calls
that reject the call: how often a person at the prompt stops a gated
action. Every rejection counts as a catch, so for wrong calls, which a
person is likelier to stop, it is a lower bound. A full share is the share
of calls that returned (or addressed) everything the modelled bound allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from blastradius.calibrate.observe import Observations, ToolCounts
from blastradius.calibrate.stats import BetaPosterior, GammaPosterior, beta_prior
from blastradius.model import Inventory, PluginUsers
from blastradius.settings import Assumptions, default_assumptions

__all__ = ["COLUMNS", "Estimate", "RUNS_PRIOR_EVENTS", "estimates", "estimates_frame"]

#: Strength of the prior on runs per user per day: the inventory's figure is worth this many runs.
RUNS_PRIOR_EVENTS = 2.0
#: Floor of the prior mean of runs per user per day (an inventory may say 0).
_MIN_RATE = 0.01
_JEFFREYS = BetaPosterior(a=0.5, b=0.5)

#: Columns of the calibration table, in order.
COLUMNS = [
    "plugin",
    "team",
    "connector",
    "tool",
    "quantity",
    "events",
    "observed",
    "prior",
    "prior_low",
    "prior_high",
    "estimate",
    "low",
    "high",
    "bound",
    "max_observed",
    "near_bound",
    "above_bound",
    "setting",
    "note",
]


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One calibrated quantity: the prior, what the logs show, and the posterior with its interval."""

    quantity: str
    plugin: str = ""
    team: str = ""
    connector: str = ""
    tool: str = ""
    events: int  # trials (decisions, calls) or runs behind the estimate
    observed: float | None  # the raw share or rate, None without events
    prior: float | None
    prior_low: float | None
    prior_high: float | None
    estimate: float
    low: float
    high: float
    setting: str = ""  # key path it calibrates, "" when it only informs
    bound: float | None = None
    max_observed: float | None = None
    near_bound: int = 0  # calls at 90% of the bound or more
    above_bound: int = 0
    note: str = ""


def _share(
    quantity: str,
    prior: BetaPosterior,
    k: int,
    n: int,
    *,
    level: float,
    value: float | None,
    span: tuple[float, float] | None,
    **where: object,
) -> Estimate:
    """A Beta estimate of ``k`` of ``n``; with no events, the prior as the setting gives it."""
    post = prior.update(k, n)
    if n == 0 and value is not None:
        low, high = span if span is not None else (value, value)
        est, lo, hi = value, low, high
    else:
        est = post.median
        lo, hi = post.interval(level)
    plow, phigh = span if span is not None else prior.interval(level) if value is None else (None, None)
    return Estimate(
        quantity=quantity,
        events=n,
        observed=k / n if n else None,
        prior=value,
        prior_low=plow,
        prior_high=phigh,
        estimate=est,
        low=lo,
        high=hi,
        **where,  # type: ignore[arg-type]
    )


def _note(path: str, notes: dict, fallback: tuple[float, float] | None = None) -> tuple[float, float] | None:
    note = notes.get(path)
    return note.range if note is not None and note.range is not None else fallback


def estimates(
    inventory: Inventory, obs: Observations, *, assumptions: Assumptions | None = None, level: float = 0.9
) -> list[Estimate]:
    """Every estimate the counts support, plugin by plugin, then tool by tool.

    A plugin with no events keeps its priors (estimates with ``events == 0``
    equal to the setting's own value and range).
    """
    a = assumptions or default_assumptions()
    notes = dict(a.provenance)
    days = obs.working_days
    out: list[Estimate] = []
    by_plugin: dict[str, list[tuple[str, str, ToolCounts]]] = {}
    for (plugin, conn, tool), counts in obs.tools.items():
        by_plugin.setdefault(plugin, []).append((conn, tool, counts))
    for p in inventory.plugins:
        pa = a.for_plugin(p.id)
        tools = by_plugin.get(p.id, [])
        out.extend(_runs(inventory, obs, p.id, days, level))
        gated = [c for _, _, c in tools if c.status == "gated"]
        k = sum(c.human_rejects for c in gated)
        n = k + sum(c.human_accepts for c in gated)
        auto = sum(sum(c.automatic.values()) for c in gated)
        value = pa.controls.approval_gate_catch_rate
        span = _note("controls.approval_gate_catch_rate", notes)
        out.append(
            _share(
                "approval_gate_catch_rate",
                beta_prior(value, *(span or (None, None)), level=level),
                k,
                n,
                level=level,
                value=value,
                span=span,
                plugin=p.id,
                setting=f"assumptions.plugins.{p.id}.controls.approval_gate_catch_rate",
                note=f"{auto:,} gated calls approved without a person (an allow rule, a hook, a session grant)"
                if auto
                else "",
            )
        )
        for quantity, measure in (("data_leakage_full_share", "rows"), ("wrong_action_full_share", "recipients")):
            relevant = [c for _, _, c in tools if getattr(c, f"{measure}_bound") is not None]
            k = sum(getattr(c, f"{measure}_at_bound") for c in relevant)
            n = sum(getattr(c, f"{measure}_n") for c in relevant)
            value = getattr(pa.magnitude, quantity)
            span = _note(f"magnitude.{quantity}", notes)
            out.append(
                _share(
                    quantity,
                    beta_prior(value, *(span or (None, None)), level=level),
                    k,
                    n,
                    level=level,
                    value=value,
                    span=span,
                    plugin=p.id,
                    setting=f"assumptions.plugins.{p.id}.magnitude.{quantity}",
                )
            )
        known = sum(c.known for _, _, c in tools)
        if known:
            failures = sum(c.failures for _, _, c in tools)
            out.append(
                _share("tool_failure_rate", _JEFFREYS, failures, known, level=level, value=None, span=None, plugin=p.id)
            )
    out.extend(_per_tool(obs, level))
    return out


def _runs(inventory: Inventory, obs: Observations, plugin: str, days: int, level: float) -> Iterator[Estimate]:
    p = inventory.plugin_by_id[plugin]
    entries = inventory.users_of(p)
    if not entries:
        return
    setting = f"plugins.{plugin}.users"
    by_team = {t: n for (pl, t), n in obs.runs.items() if pl == plugin}
    calls_without = obs.calls_without_run.get(plugin, 0)
    note = f"{calls_without:,} calls carried no run id (prompt.id)" if calls_without else ""
    groups: list[tuple[tuple[str, ...], list[tuple[PluginUsers, int]]]]
    if by_team and "" not in by_team and set(by_team) <= {u.team for u, _ in entries}:
        groups = [((u.team,), [(u, n)]) for u, n in entries]
    else:
        groups = [(tuple(u.team for u, _ in entries), entries)]
    for teams, members in groups:
        users = sum(n for _, n in members)
        declared = sum(n * u.runs_per_user_per_day for u, n in members) / users if users else 0.0
        mean = max(declared, _MIN_RATE)
        prior = GammaPosterior(shape=RUNS_PRIOR_EVENTS, rate=RUNS_PRIOR_EVENTS / mean)
        runs = sum(by_team.get(t, 0) for t in teams) + (by_team.get("", 0) if len(groups) == 1 else 0)
        exposure = float(users * days)
        plow, phigh = prior.interval(level)
        team = teams[0] if len(teams) == 1 and len(groups) > 1 else ""
        if exposure <= 0:
            yield Estimate(
                quantity="runs_per_user_per_day",
                plugin=plugin,
                team=team,
                events=runs,
                observed=None,
                prior=declared,
                prior_low=plow,
                prior_high=phigh,
                estimate=declared,
                low=plow,
                high=phigh,
                setting=setting,
                note=(note + "; " if note else "") + "no users or no dated events: nothing to divide by",
            )
            continue
        seen = len(obs.users.get(plugin, ()))
        if seen and seen < users / 2 and len(groups) == 1:
            note = (note + "; " if note else "") + (
                f"only {seen:,} of {users:,} users appear in the logs: if the export does not cover every user, "
                "this rate is understated"
            )
        post = prior.update(runs, exposure)
        low, high = post.interval(level)
        yield Estimate(
            quantity="runs_per_user_per_day",
            plugin=plugin,
            team=team,
            events=runs,
            observed=runs / exposure,
            prior=declared,
            prior_low=plow,
            prior_high=phigh,
            estimate=post.median,
            low=low,
            high=high,
            setting=setting,
            note=note or f"{users:,} users × {days} working days",
        )


def _per_tool(obs: Observations, level: float) -> Iterator[Estimate]:
    merged: dict[tuple[str, str], ToolCounts] = {}
    for (_, conn, tool), c in sorted(obs.tools.items()):
        m = merged.setdefault((conn, tool), ToolCounts(rows_bound=c.rows_bound, recipients_bound=c.recipients_bound))
        m.calls += c.calls
        m.known += c.known
        m.failures += c.failures
        for measure in ("rows", "recipients"):
            for part in ("n", "at_bound", "near", "above"):
                name = f"{measure}_{part}"
                setattr(m, name, getattr(m, name) + getattr(c, name))
            setattr(m, f"{measure}_max", max(getattr(m, f"{measure}_max"), getattr(c, f"{measure}_max")))
    for (conn, tool), m in merged.items():
        if m.known:
            yield _share(
                "tool_failure_rate",
                _JEFFREYS,
                m.failures,
                m.known,
                level=level,
                value=None,
                span=None,
                connector=conn,
                tool=tool,
            )
        for measure in ("rows", "recipients"):
            n = getattr(m, f"{measure}_n")
            bound = getattr(m, f"{measure}_bound")
            if not n:
                continue
            e = _share(
                f"{measure}_per_call",
                _JEFFREYS,
                getattr(m, f"{measure}_at_bound") if bound is not None else 0,
                n,
                level=level,
                value=None,
                span=None,
                connector=conn,
                tool=tool,
                bound=float(bound) if bound is not None else None,
                max_observed=float(getattr(m, f"{measure}_max")),
                near_bound=getattr(m, f"{measure}_near"),
                above_bound=getattr(m, f"{measure}_above"),
                note="share of calls at the modelled bound" if bound is not None else "no modelled bound",
            )
            yield e


def estimates_frame(items: list[Estimate]) -> pd.DataFrame:
    """The calibration table: one row per estimate, :data:`COLUMNS`."""
    rows = [{c: getattr(e, c) for c in COLUMNS} for e in items]
    df = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("observed", "prior", "prior_low", "prior_high", "bound", "max_observed"):
        df[c] = df[c].astype(float)
    df["events"] = df["events"].astype(int)
    return df


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
