"""The kill-switch runbook: for each plugin, the one action that halts it, and what that takes (D4, D9 step 6).

For a plugin: pause it for all users, then revoke or freeze its connectors,
with the collateral (other plugins and teams sharing those connectors), the
records and people it could still be touching until it is halted, where its
audit trail is, and the expected time to halt. Plugins that cannot be halted
within the target are flagged.

Examples
--------
>>> from blastradius import load_inventory
>>> [e.plugin for e in runbook(load_inventory("inventories/acme")) if not e.fast][:2]
['renewal-campaigns', 'ap-autopilot']
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from blastradius.analysis import Analysis, analysis_of
from blastradius.domain import HALT_TARGET_SECONDS, plugins_by_connector, time_to_halt, time_to_revoke
from blastradius.model import Inventory

__all__ = ["RunbookEntry", "format_runbook", "runbook", "runbook_frame"]


@dataclass(frozen=True, kw_only=True)
class ConnectorStep:
    connector: str
    can_revoke: bool
    seconds: float | None
    shared_with: tuple[str, ...]  # other plugins that lose it too if it is revoked
    audited: bool


@dataclass(frozen=True, kw_only=True)
class RunbookEntry:
    """How to halt one plugin, and what halting it involves."""

    plugin: str
    can_pause: bool
    pause_seconds: float | None
    connectors: tuple[ConnectorStep, ...]
    collateral_plugins: tuple[str, ...]
    collateral_teams: tuple[str, ...]
    users: int
    records_at_risk: int  # its reach (blastradius.reach): a lower bound when ``lower_bound``
    people_at_risk: int
    sizes_unknown: int  # datasets and people groups it reaches whose size is not given
    lower_bound: bool  # some of them nothing bounds: records or people at risk are lower bounds
    audit_trail: tuple[str, ...]
    no_audit: tuple[str, ...]
    time_to_halt_seconds: float | None  # None: cannot be halted in a known time
    time_to_contain_seconds: float | None  # every connector revoked or frozen
    fast: bool
    issues: tuple[str, ...]
    steps: tuple[str, ...]


#: Names a text line lists before saying how many more there are: every name is in the entry and its table.
SHOWN = 5


def _some(names: tuple[str, ...] | list[str], noun: str, *, shown: int = SHOWN) -> str:
    """A readable list however long the list is: ``'a, b and c'`` or ``'412 plugins: a, b, c, d, e and 407 more'``.

    Examples
    --------
    >>> _some(("a", "b"), "plugin")
    'a and b'
    >>> _some(tuple("abcdefg"), "team", shown=3)
    '7 teams: a, b, c and 4 more'
    """
    names = list(names)
    if len(names) <= shown:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}" if names else "none"
    return f"{len(names):,} {noun}s: {', '.join(names[:shown])} and {len(names) - shown:,} more"


def _counted(names: tuple[str, ...], noun: str, *, shown: int = SHOWN) -> str:
    """``'7 plugins (a, b, c, d, e and 2 more)'``, ``'1 team (sales-ae)'``.

    Examples
    --------
    >>> _counted(("sales-ae",), "team")
    '1 team (sales-ae)'
    >>> _counted(tuple("abcdefg"), "plugin", shown=3)
    '7 plugins (a, b, c and 4 more)'
    """
    listed = ", ".join(names[:shown]) + (f" and {len(names) - shown:,} more" if len(names) > shown else "")
    if 1 < len(names) <= shown:
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"{len(names):,} {noun}{'' if len(names) == 1 else 's'} ({listed})"


def _seconds(s: float | None) -> str:
    if s is None:
        return "unknown time"
    return f"{s:,.0f} s" if s < 120 else f"{s / 60:,.0f} min"


def runbook(
    source: Inventory | Analysis,
    plugin: str | None = None,
    *,
    target_seconds: float = HALT_TARGET_SECONDS,
) -> list[RunbookEntry]:
    """The runbook entry of ``plugin``, or of every plugin (slowest to halt first).

    The time to halt is :func:`blastradius.domain.time_to_halt` over all the
    plugin's connectors, from what the inventory declares (no stand-ins): the
    faster of pausing the plugin and revoking every connector it uses. The
    records and people at risk are its reach (:mod:`blastradius.reach`).

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the inventory.
    """
    analysis = analysis_of(source)
    inv = analysis.inventory
    if plugin is not None:
        inv.require("plugin", plugin)
    # each connector's plugins sorted once, and each plugin's teams (its users' and its owner) found once
    users_of = {cid: tuple(sorted(ids)) for cid, ids in plugins_by_connector(inv).items()}
    teams_of = {x.id: frozenset(u.team for u in x.users) | {x.owner} for x in inv.plugins}
    entries = []
    for p in inv.plugins if plugin is None else [inv.plugin_by_id[plugin]]:
        ks = p.kill_switch
        can_pause = bool(ks and ks.can_pause)
        pause = ks.time_to_pause_seconds if can_pause and ks else None
        steps_c = []
        for cid in p.connector_ids:
            c = inv.connector_by_id[cid]
            rv = c.revocation
            steps_c.append(
                ConnectorStep(
                    connector=cid,
                    can_revoke=bool(rv and rv.can_revoke),
                    seconds=rv.time_to_revoke_seconds if rv and rv.can_revoke else None,
                    shared_with=tuple(x for x in users_of.get(cid, ()) if x != p.id),
                    audited=bool(c.audit and c.audit.log_every_query),
                )
            )
        collateral = sorted({x for s in steps_c for x in s.shared_with})
        teams = sorted(frozenset().union(*(teams_of[x] for x in collateral)))
        connectors = [inv.connector_by_id[cid] for cid in dict.fromkeys(p.connector_ids)]
        contain = time_to_revoke(connectors)
        halt = time_to_halt(p, connectors)
        reach = analysis.reach(p).total()
        users = sum(n for _, n in inv.users_of(p))
        issues = []
        if not can_pause:
            issues.append("cannot be paused for all users")
        elif pause is None:
            issues.append("time to pause unknown")
        elif pause > target_seconds:
            issues.append(f"pausing takes {_seconds(pause)} (target {_seconds(target_seconds)})")
        if can_pause and ks and ks.rehearsed_on is None:
            issues.append("kill switch never rehearsed")
        for s in steps_c:
            if not s.can_revoke:
                issues.append(f"{s.connector} cannot be revoked")
            elif s.seconds is not None and s.seconds > target_seconds:
                issues.append(f"revoking {s.connector} takes {_seconds(s.seconds)}")
        no_audit = tuple(s.connector for s in steps_c if not s.audited)
        if no_audit:
            issues.append("no audit trail on " + ", ".join(no_audit))
        steps = []
        if can_pause:
            steps.append(f"Pause {p.id} for all {users:,} users ({_seconds(pause)}).")
        else:
            steps.append(f"{p.id} has no pause: revoke its connectors to stop it, and tell its {users:,} users.")
        for s in steps_c:
            if s.shared_with:
                how = f"freeze {s.connector} for {p.id} only (revoking it also stops {_some(s.shared_with, 'plugin')})"
            else:
                how = f"revoke {s.connector}"
            when = (
                _seconds(s.seconds)
                if s.can_revoke
                else "no revocation path: ask the system owner to disable the credential"
            )
            steps.append(f"{how[0].upper()}{how[1:]} ({when}).")
        trail = tuple(s.connector for s in steps_c if s.audited)
        steps.append(
            ("Preserve the audit logs of " + ", ".join(trail) if trail else "No connector keeps an audit log")
            + (f"; nothing records what it did through {', '.join(no_audit)}." if no_audit and trail else ".")
        )
        entries.append(
            RunbookEntry(
                plugin=p.id,
                can_pause=can_pause,
                pause_seconds=pause,
                connectors=tuple(steps_c),
                collateral_plugins=tuple(collateral),
                collateral_teams=tuple(teams),
                users=users,
                records_at_risk=reach.records,
                people_at_risk=reach.people,
                sizes_unknown=reach.unknowns,
                lower_bound=not reach.bounded,
                audit_trail=trail,
                no_audit=no_audit,
                time_to_halt_seconds=halt,
                time_to_contain_seconds=contain,
                fast=can_pause and halt is not None and halt <= target_seconds,
                issues=tuple(issues),
                steps=tuple(steps),
            )
        )
    entries.sort(key=lambda e: (e.fast, -(e.time_to_halt_seconds or float("inf")), e.plugin))
    return entries


def runbook_frame(entries: list[RunbookEntry]) -> pd.DataFrame:
    """One row per plugin: time to halt, whether that is fast, collateral and issues."""
    return pd.DataFrame(
        [
            {
                "plugin": e.plugin,
                "can_pause": e.can_pause,
                "time_to_halt_seconds": e.time_to_halt_seconds,
                "time_to_contain_seconds": e.time_to_contain_seconds,
                "fast": e.fast,
                "users": e.users,
                "records_at_risk": e.records_at_risk,
                "people_at_risk": e.people_at_risk,
                "sizes_unknown": e.sizes_unknown,
                "collateral_plugins": ", ".join(e.collateral_plugins),
                "audit_trail": ", ".join(e.audit_trail),
                "issues": "; ".join(e.issues),
            }
            for e in entries
        ]
    )


def format_runbook(entries: list[RunbookEntry]) -> str:
    """The runbook as plain text, one section per plugin."""
    out = []
    for e in entries:
        flag = "" if e.fast else "  ⚠ NOT FAST"
        halt = "cannot be halted" if e.time_to_halt_seconds is None else f"halts in {_seconds(e.time_to_halt_seconds)}"
        out.append(f"{e.plugin}: {halt}{flag}")
        out += [f"  {i}. {s}" for i, s in enumerate(e.steps, 1)]
        out.append(
            f"  Until halted it can touch {'at least ' if e.lower_bound else ''}{e.records_at_risk:,} records and "
            f"{e.people_at_risk:,} people"
            + (
                f" ({e.sizes_unknown} dataset{'' if e.sizes_unknown == 1 else 's'} or group"
                f"{'' if e.sizes_unknown == 1 else 's'} of unknown size)."
                if e.sizes_unknown
                else "."
            )
        )
        if e.collateral_plugins:
            out.append(
                f"  Collateral if its connectors are revoked: {_counted(e.collateral_plugins, 'plugin')} "
                f"of {_counted(e.collateral_teams, 'team', shown=8)}."
            )
        if e.issues:
            out.append("  Issues: " + "; ".join(e.issues) + ".")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
