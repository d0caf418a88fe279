"""Counting what the logs show, per plugin, connector and tool, in memory that does not grow with the log.

:func:`observe` reads events (:mod:`blastradius.calibrate.readers`), matches
each to the inventory (:mod:`blastradius.calibrate.matching`) and keeps
counts only: calls, failures, decisions, rows and recipients against the
modelled per-call bound, distinct runs (recent run ids in a bounded window:
a run's events arrive close together), distinct users, and what could not
be mapped. Memory grows with the inventory, not with the number of lines.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from blastradius.calibrate.matching import Match, Matcher
from blastradius.calibrate.readers import HUMAN_ACCEPTS, HUMAN_REJECTS, LogEvent, LogMapping, ReadStats, read_events
from blastradius.domain import is_recipient_action, per_call_limit
from blastradius.model import Inventory
from blastradius.reach import tool_reach, union_reach
from blastradius.settings import Assumptions, default_assumptions

__all__ = ["Observations", "ToolCounts", "call_bounds", "observe"]

#: Distinct run ids remembered at once per plugin: a run whose events are further apart than this is counted twice.
RUN_WINDOW = 100_000
#: Distinct users remembered per plugin (beyond it, users are no longer counted).
MAX_USERS = 1_000_000
#: A call "approaches" its modelled bound at this share of it or more.
NEAR_BOUND = 0.9
#: Distinct unmapped names kept (the rest are counted under one key).
MAX_UNMAPPED = 10_000


def call_bounds(
    inventory: Inventory, connector: str, tool: str, assumptions: Assumptions | None = None
) -> dict[str, int | None]:
    """The modelled most one call of ``tool`` returns (``rows``) and addresses (``recipients``); None: not bounded.

    ``per_call`` is the simulation's per-call limit,
    :func:`blastradius.domain.per_call_limit` (the tool's fan-out, or for a
    read what one tool result carries within the connector's row limit);
    ``rows`` and ``recipients`` cap it by what the tool reaches after the
    connector's scope (every record of the datasets it reaches, the people it
    reaches), where the inventory gives their sizes. A read bounds ``rows``, a
    send or share ``recipients``, any other action the ``rows`` it touches.
    """
    inv = inventory
    a = assumptions or default_assumptions()
    conn = inv.connector_by_id[connector]
    t = conn.tool(tool)
    if t is None:
        return {"rows": None, "recipients": None, "per_call": None}
    system = conn.system or ""
    reach = union_reach(
        [(conn.id, tool_reach(conn, t, inv.datasets_by_system.get(system, ()), inv.people_by_system.get(system, ())))]
    )
    limit = per_call_limit(conn, t, records_per_result=a.magnitude.records_per_result)
    if is_recipient_action(t.action):
        people = reach.people if reach.unknown_people == 0 else math.inf
        return {"rows": None, "recipients": int(min(limit, people)), "per_call": int(limit)}
    records = reach.records if reach.unbounded_datasets == 0 else math.inf
    return {"rows": int(min(limit, records)), "recipients": None, "per_call": int(limit)}


@dataclass
class ToolCounts:
    """What the logs show of one tool, for one plugin (or for calls no single plugin could make)."""

    calls: int = 0
    known: int = 0  # calls whose success is logged
    failures: int = 0
    rows_bound: int | None = None
    recipients_bound: int | None = None
    rows_n: int = 0
    rows_at_bound: int = 0
    rows_near: int = 0  # at 90% of the bound or more
    rows_above: int = 0
    rows_max: int = 0
    recipients_n: int = 0
    recipients_at_bound: int = 0
    recipients_near: int = 0
    recipients_above: int = 0
    recipients_max: int = 0
    human_accepts: int = 0
    human_rejects: int = 0
    automatic: Counter[str] = field(default_factory=Counter)  # decisions made without a person: config, hook
    status: str | None = None  # gated, ungated ... for the plugin
    first_above: dt.datetime | None = None


@dataclass
class Shadow:
    """Calls the inventory does not allow or does not know, of one kind."""

    outcome: str
    reason: str
    calls: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None


@dataclass
class Observations:
    """Counts of one read of the logs, keyed by inventory ids; what :func:`blastradius.calibrate.calibrate` reads."""

    stats: ReadStats = field(default_factory=ReadStats)
    tools: dict[tuple[str, str, str], ToolCounts] = field(default_factory=dict)  # (plugin or "", connector, tool)
    runs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (plugin, team or "") -> distinct runs
    calls_without_run: Counter[str] = field(default_factory=Counter)  # plugin -> calls with no run id
    users: dict[str, set[str]] = field(default_factory=dict)
    shadow: dict[tuple[str, str, str, str], Shadow] = field(default_factory=dict)  # (outcome, plugin, server, tool)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (outcome, name) of calls not counted
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def window(self) -> tuple[dt.date, dt.date] | None:
        """The first and last day the counts cover: ``since``/``until`` where given, else the events' own."""
        first = self.since or (self.stats.first.date() if self.stats.first else None)
        last = self.until or (self.stats.last.date() if self.stats.last else None)
        return (first, last) if first is not None and last is not None and first <= last else None

    @property
    def working_days(self) -> int:
        """Weekdays in :attr:`window` (at least 1 when there is a window, 0 without)."""
        window = self.window
        if window is None:
            return 0
        first, last = window
        days = (last - first).days + 1
        weeks, rest = divmod(days, 7)
        extra = sum((first.weekday() + i) % 7 < 5 for i in range(rest))
        return max(1, weeks * 5 + extra)


class _Runs:
    """Distinct run ids per key, remembering the most recent :data:`RUN_WINDOW` of them."""

    def __init__(self, counts: Counter[tuple[str, str]]):
        self.counts = counts
        self.recent: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def add(self, key: tuple[str, str], run: str) -> None:
        marker = (*key, run)
        if marker in self.recent:
            self.recent.move_to_end(marker)
            return
        self.recent[marker] = None
        self.counts[key] += 1
        if len(self.recent) > RUN_WINDOW:
            self.recent.popitem(last=False)


def _progress_bar(paths: Iterable[str | Path]) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A tqdm bar of bytes read on standard error when it is a terminal, else nothing."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    total = 0
    for raw in paths:
        p = Path(raw)
        files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p] if p.is_file() else []
        total += sum(f.stat().st_size for f in files)
    bar = tqdm(total=total, unit="B", unit_scale=True, desc="reading logs", leave=False, file=sys.stderr)
    return bar.update, bar.close


def observe(
    inventory: Inventory,
    paths: Iterable[str | Path],
    *,
    mapping: LogMapping | None = None,
    servers: dict[str, str] | None = None,
    plugins: dict[str, str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    assumptions: Assumptions | None = None,
    progress: bool | Callable[[int], None] = False,
    events: Iterable[LogEvent] | None = None,
) -> Observations:
    """Read the logs ``paths`` (or count ``events`` given directly) against ``inventory``.

    ``servers`` and ``plugins`` map names as the logs write them to inventory
    ids (the log mapping file's ``servers:`` and ``plugins:``). ``progress``
    True shows a progress bar on a terminal.

    Raises
    ------
    LogError
        A path that does not exist or a file that is not a log.
    """
    paths = list(paths)
    obs = Observations(since=since, until=until)
    matcher = Matcher(inventory, servers=servers, plugins=plugins)
    runs = _Runs(obs.runs)
    teams = {p.id: {u.team for u in p.users} for p in inventory.plugins}
    bounds: dict[tuple[str, str], dict[str, int | None]] = {}
    done: Callable[[], None] = lambda: None  # noqa: E731
    tick: Callable[[int], None] | None = progress if callable(progress) else None
    if progress is True:
        tick, done = _progress_bar(paths)
    stream = (
        events
        if events is not None
        else read_events(paths, mapping=mapping, since=since, until=until, stats=obs.stats, progress=tick)
    )
    try:
        for event in stream:
            if events is not None:
                obs.stats.events += 1
                obs.stats.saw(event.time)
            m: Match = matcher.match(event.tool_name, event.server, event.tool, event.plugin, event.connector)
            _count(obs, event, m, runs, teams, bounds, inventory, assumptions)
    finally:
        done()
    return obs


def _count(
    obs: Observations,
    event: LogEvent,
    m: Match,
    runs: _Runs,
    teams: dict[str, set[str]],
    bounds: dict[tuple[str, str], dict[str, int | None]],
    inventory: Inventory,
    assumptions: Assumptions | None,
) -> None:
    if m.outcome in ("unknown-server", "unknown-tool", "not-given", "blocked"):
        where = (m.outcome, m.plugin or "", m.server or "", m.tool_name or "")
        shadow = obs.shadow.get(where)
        if shadow is None:
            if len(obs.shadow) >= MAX_UNMAPPED:
                obs.unmapped[(m.outcome, "<more>")] += 1
                return
            shadow = obs.shadow[where] = Shadow(outcome=m.outcome, reason=m.reason)
        shadow.calls += 1
        if event.time is not None:
            shadow.first = event.time if shadow.first is None else min(shadow.first, event.time)
            shadow.last = event.time if shadow.last is None else max(shadow.last, event.time)
        return
    if m.outcome != "ok" or m.connector is None or m.tool is None:
        name = m.tool_name or "<none>"
        if (m.outcome, name) not in obs.unmapped and len(obs.unmapped) >= MAX_UNMAPPED:
            name = "<more>"
        obs.unmapped[(m.outcome, name)] += 1
        return
    plugin = m.plugin or ""
    key = (plugin, m.connector, m.tool)
    counts = obs.tools.get(key)
    if counts is None:
        if (m.connector, m.tool) not in bounds:
            bounds[(m.connector, m.tool)] = call_bounds(
                inventory,
                m.connector,
                m.tool,
                assumptions.for_plugin(plugin) if assumptions and plugin else assumptions,  # type: ignore[arg-type]
            )
        b = bounds[(m.connector, m.tool)]
        counts = obs.tools[key] = ToolCounts(
            rows_bound=b["rows"], recipients_bound=b["recipients"], status=m.status.value if m.status else None
        )
    if event.kind == "decision":
        by = event.decided_by or ""
        if by in HUMAN_REJECTS or (event.decision == "reject" and by.startswith("user")):
            counts.human_rejects += 1
        elif by in HUMAN_ACCEPTS:
            counts.human_accepts += 1
        else:
            counts.automatic[f"{by or 'unknown'}:{event.decision or '?'}"] += 1
        return
    counts.calls += 1
    if event.success is not None:
        counts.known += 1
        counts.failures += not event.success
    for measure, value in (("rows", event.rows), ("recipients", event.recipients)):
        if value is None:
            continue
        bound = getattr(counts, f"{measure}_bound")
        setattr(counts, f"{measure}_n", getattr(counts, f"{measure}_n") + 1)
        setattr(counts, f"{measure}_max", max(getattr(counts, f"{measure}_max"), value))
        if bound is not None and value >= NEAR_BOUND * bound:
            setattr(counts, f"{measure}_near", getattr(counts, f"{measure}_near") + 1)
        if bound is not None and value >= bound:
            setattr(counts, f"{measure}_at_bound", getattr(counts, f"{measure}_at_bound") + 1)
        if bound is not None and value > bound:
            setattr(counts, f"{measure}_above", getattr(counts, f"{measure}_above") + 1)
            if counts.first_above is None and event.time is not None:
                counts.first_above = event.time
    if plugin:
        if event.run:
            team = event.team if event.team in teams.get(plugin, ()) else ""
            runs.add((plugin, team or ""), event.run)
        else:
            obs.calls_without_run[plugin] += 1
        if event.user:
            users = obs.users.setdefault(plugin, set())
            if len(users) < MAX_USERS:
                users.add(event.user)
