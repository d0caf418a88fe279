"""From counts to calibrated settings: each estimate a posterior over the sourced prior, with its interval.

==================================  ============================  ======================================
quantity                            prior                         setting it calibrates
==================================  ============================  ======================================
``runs_per_user_per_day``           Gamma, mean the inventory's   ``plugins.ID.users.TEAM.``
                                    figure, worth 2 runs          ``runs_per_user_per_day`` (overlay)
``gate_approval_rate``,             Jeffreys Beta(½, ½)           none: what the gate's decisions are
``gate_rejection_rate``
``approval_gate_catch_rate``        the assumption, kept unless   ``assumptions.plugins.ID.controls.``
                                    the rejections bound it lower ``approval_gate_catch_rate``
``data_leakage_full_share``,        the assumption, kept          none: a share of failures, and the
``wrong_action_full_share``                                       logs do not say which calls failed
``tool_failure_rate``               Jeffreys Beta(½, ½)           none: the model has no tool-error rate
``rows_per_call``,                  Jeffreys, for the share of    none: a call above the bound is a
``recipients_per_call``             calls near the bound (≥ 90%)  finding (BR202)
==================================  ============================  ======================================

**The gate's catch is bounded, not measured.** ``approval_gate_catch_rate``
is P(a person stops the call | the call is a bad one). The share of gated
calls a person rejects is not that: most gated calls are fine, so it says how
much attention the gate gets. What the logs do bound: every caught bad call
is a rejection, so with bad calls a share ``p`` of runs (the model's rate of
the failure class, an assumption with a range) and rejections a share ``r``
of human decisions, the catch ``c`` satisfies ``p·c ≤ r``, that is
``c ≤ r / p``. The loosest such bound, ``r_high / p_low`` (the upper end of
``r``'s interval over the low end of ``p``'s range), lowers the catch where it
is below the prior (BR203, gates rubber-stamped); otherwise the prior stands
and the logs are consistent with it. ``p`` is per run while ``r`` is per
gated call: where runs make several gated calls the bound is tighter than
the truth (docs/calibration.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from blastradius.calibrate.observe import NEAR_BOUND, Observations, ToolCounts
from blastradius.calibrate.stats import BetaPosterior, GammaPosterior, beta_prior
from blastradius.model import ActionClass, Inventory, PluginUsers
from blastradius.settings import Assumptions, PluginAssumptions, default_assumptions

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
        out.extend(_gate(inventory, p.id, tools, pa, notes, level))
        for quantity in ("data_leakage_full_share", "wrong_action_full_share"):
            value = getattr(pa.magnitude, quantity)
            span = _note(f"magnitude.{quantity}", notes)
            out.append(
                _share(
                    quantity,
                    beta_prior(value, *(span or (None, None)), level=level),
                    0,
                    0,
                    level=level,
                    value=value,
                    span=span,
                    plugin=p.id,
                    setting=f"assumptions.plugins.{p.id}.magnitude.{quantity}",
                    note="left at the prior: a share of failures, and the logs do not say which calls failed",
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


def _gate(
    inventory: Inventory,
    plugin: str,
    tools: list[tuple[str, str, ToolCounts]],
    pa: PluginAssumptions,
    notes: dict,
    level: float,
) -> Iterator[Estimate]:
    """The decisions on the plugin's gated calls, and the gate catch they bound (module docstring)."""
    gated = [(conn, tool, c) for conn, tool, c in tools if c.status == "gated"]
    rejects = sum(c.human_rejects for _, _, c in gated)
    human = rejects + sum(c.human_accepts for _, _, c in gated)
    automatic = sum(sum(c.automatic.values()) for _, _, c in gated)
    approvals = sum(c.human_accepts for _, _, c in gated) + sum(
        n for _, _, c in gated for key, n in c.automatic.items() if key.endswith(":accept")
    )
    if human + automatic:
        yield _share(
            "gate_approval_rate",
            _JEFFREYS,
            approvals,
            human + automatic,
            level=level,
            value=None,
            span=None,
            plugin=plugin,
            note=f"approvals of gated calls, {automatic:,} of the decisions without a person (an allow rule, a hook)"
            if automatic
            else "approvals of gated calls",
        )
    rejection = _share(
        "gate_rejection_rate",
        _JEFFREYS,
        rejects,
        human,
        level=level,
        value=None,
        span=None,
        plugin=plugin,
        note="human rejections of gated calls",
    )
    if human:
        yield rejection
    value = pa.controls.approval_gate_catch_rate
    span = _note("controls.approval_gate_catch_rate", notes)
    classes = {_failure_class(inventory, conn, tool) for conn, tool, _ in gated}
    rates = [getattr(pa.failure_rates, c) for c in sorted(classes)]
    low, high = span if span is not None else (value, value)

    def catch(estimate: float, low: float, high: float, note: str, bound: float | None = None) -> Estimate:
        return Estimate(
            quantity="approval_gate_catch_rate",
            plugin=plugin,
            setting=f"assumptions.plugins.{plugin}.controls.approval_gate_catch_rate",
            events=human,
            observed=None,
            prior=value,
            prior_low=span[0] if span else None,
            prior_high=span[1] if span else None,
            estimate=estimate,
            low=low,
            high=high,
            bound=bound,
            note=note,
        )

    if not human or not rates:
        yield catch(
            value,
            low,
            high,
            "no human decision on a gated call: the prior stands" if gated else "no gated call in the logs",
        )
        return
    p_low = min(r.low for r in rates)
    r_high = rejection.high
    bound = min(r_high / p_low, 1.0) if p_low > 0 else 1.0
    said = (
        f"{_pct(rejection.observed or 0.0)} of {human:,} human decisions on gated calls reject them "
        f"({level:.0%} interval up to {_pct(r_high)}); with bad calls at least {_pct(p_low)} of runs "
        f"({' and '.join(sorted(classes)).replace('_', ' ')}, the low end of the assumption), "
        f"at most {bound:.1%} of bad calls can be caught"
    )
    if bound >= value:
        yield catch(value, low, high, f"{said}: the logs are consistent with the prior", bound)
        return
    scale = bound / value if value > 0 else 0.0
    yield catch(
        bound,
        min(low * scale, bound),
        bound,
        f"gates rubber-stamped: {said}, below the prior {value:.0%}; the catch is lowered to that bound",
        bound,
    )


def _pct(x: float) -> str:
    """A share as a percentage with two significant digits: 0.0038%, 1.1%, 30%."""
    return f"{x * 100:.2g}%" if x > 0 else "0%"


def _failure_class(inventory: Inventory, connector: str, tool: str) -> str:
    """The failure class a bad call of the tool is (D5): a read leaks data, any other action is a wrong action."""
    t = inventory.connector_by_id[connector].tool(tool)
    return "data_leakage" if t is not None and t.action is ActionClass.READ else "wrong_action"


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
    """Tool failures per connector tool; per plugin and tool, how often calls come near the modelled bound."""
    merged: dict[tuple[str, str], ToolCounts] = {}
    for (_, conn, tool), c in sorted(obs.tools.items()):
        m = merged.setdefault((conn, tool), ToolCounts())
        m.known += c.known
        m.failures += c.failures
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
    for (plugin, conn, tool), c in sorted(obs.tools.items()):
        for measure in ("rows", "recipients"):
            n = getattr(c, f"{measure}_n")
            bound = getattr(c, f"{measure}_bound")
            if not n:
                continue
            yield _share(
                f"{measure}_per_call",
                _JEFFREYS,
                getattr(c, f"{measure}_near") if bound is not None else 0,
                n,
                level=level,
                value=None,
                span=None,
                plugin=plugin,
                connector=conn,
                tool=tool,
                bound=float(bound) if bound is not None else None,
                max_observed=float(getattr(c, f"{measure}_max")),
                near_bound=getattr(c, f"{measure}_near"),
                above_bound=getattr(c, f"{measure}_above"),
                note=f"share of calls at {NEAR_BOUND:.0%} of the modelled bound or more"
                if bound is not None
                else "no modelled bound",
            )


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
