"""Containment levers as what-ifs, and the recommendation of which to pull first (D2, D9).

Each lever is a pure function ``Inventory -> Inventory``: it returns a changed
copy and never touches the original. :func:`access_changes` compares two
inventories and lists what each plugin lost (tools that stop working or now
need a human, data no longer reachable or capped); it also refuses a change
that *adds* access. :func:`recommend` proposes levers for an inventory, checks
each removes access and adds none, and ranks them by the stated rule of the
rollout report's decision page (:func:`blastradius.decision.rank_controls`):
blast radius removed against collateral (uses lost: tool uses stopped, tables
and recipient lists lost), the levers on the Pareto front first. Each lever is
tried on what it touches only (:func:`evaluate_levers`).

Examples
--------
>>> from blastradius import load_inventory
>>> from blastradius.scores import score_plugins
>>> inv = load_inventory("inventories/acme")
>>> gated = with_approval_gate(inv, "ap-autopilot", "pay")
>>> before = score_plugins(inv).set_index("plugin").blast_radius["ap-autopilot"]
>>> after = score_plugins(gated).set_index("plugin").blast_radius["ap-autopilot"]
>>> bool(after < before)
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, Literal, NamedTuple

import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.domain import plugins_by_connector, plugins_using
from blastradius.errors import BlastRadiusError, WidenedAccessError
from blastradius.model import (
    SENSITIVE_CLASSIFICATIONS,
    Access,
    ActionClass,
    Audit,
    Classification,
    Connector,
    Inventory,
    Plugin,
    PluginConnector,
    PluginKillSwitch,
    Revocation,
    SettingsSource,
    Tool,
)
from blastradius.reach import ConnectorCache, ToolStatus, tool_status, tool_statuses
from blastradius.scores import Scorer, is_high_impact

__all__ = [
    "AccessChange",
    "Lever",
    "LeverKind",
    "WidenedAccessError",
    "access_changes",
    "LeverResult",
    "candidate_levers",
    "evaluate_levers",
    "recommend",
    "recommendations",
    "with_alert",
    "with_allowed_tables",
    "with_approval_gate",
    "with_audit_log",
    "with_connector_split",
    "with_denied_columns",
    "with_read_only",
    "with_row_limit",
    "what_if",
    "with_kill_switch",
    "with_revocation",
    "with_tool_blocked",
    "without_connector",
    "without_plugin",
]


# ---------------------------------------------------------------------------
# The levers: pure functions returning a changed inventory
# ---------------------------------------------------------------------------


def _plugin(inv: Inventory, plugin: str) -> Plugin:
    return inv.require("plugin", plugin)


def _connector(inv: Inventory, connector: str) -> Connector:
    return inv.require("connector", connector)


def _check_selector(inv: Inventory, plugin: Plugin, selector: str) -> None:
    conn_id, _, tool = selector.partition(".")
    if not tool:
        if selector not in {a.value for a in ActionClass}:
            raise BlastRadiusError(f"'{selector}' is neither an action class nor CONNECTOR.TOOL")
        return
    if conn_id not in plugin.connector_ids:
        raise BlastRadiusError(f"plugin '{plugin.id}' does not use connector '{conn_id}'")
    if tool != "*" and _connector(inv, conn_id).tool(tool) is None:
        raise BlastRadiusError(f"connector '{conn_id}' has no tool '{tool}'")


def _with_plugin(inv: Inventory, plugin: Plugin) -> Inventory:
    return inv.replace(plugins=[plugin if p.id == plugin.id else p for p in inv.plugins])


def _with_connector(inv: Inventory, connector: Connector) -> Inventory:
    return inv.replace(connectors=[connector if c.id == connector.id else c for c in inv.connectors])


def with_approval_gate(inv: Inventory, plugin: str, selector: str) -> Inventory:
    """``plugin`` needs a human approval for ``selector`` (an action class, ``conn.tool`` or ``conn.*``)."""
    p = _plugin(inv, plugin)
    _check_selector(inv, p, selector)
    if selector in p.requires_approval:
        return inv
    return _with_plugin(inv, p.model_copy(update={"requires_approval": (*p.requires_approval, selector)}))


def with_tool_blocked(inv: Inventory, plugin: str, selector: str) -> Inventory:
    """``plugin`` may never call ``selector`` (an action class, ``conn.tool`` or ``conn.*``)."""
    p = _plugin(inv, plugin)
    _check_selector(inv, p, selector)
    if selector in p.blocked:
        return inv
    return _with_plugin(inv, p.model_copy(update={"blocked": (*p.blocked, selector)}))


def with_read_only(inv: Inventory, connector: str) -> Inventory:
    """``connector`` can only read, for every plugin that uses it."""
    return _with_connector(inv, _connector(inv, connector).model_copy(update={"access": Access.READ_ONLY}))


def with_allowed_tables(inv: Inventory, connector: str, tables: list[str] | tuple[str, ...]) -> Inventory:
    """``connector`` may touch only ``tables`` (intersected with any allow-list it has)."""
    c = _connector(inv, connector)
    keep = tuple(t for t in tables if c.allowed_tables is None or t in c.allowed_tables)
    return _with_connector(inv, c.model_copy(update={"allowed_tables": keep}))


def with_denied_columns(inv: Inventory, connector: str, columns: list[str] | tuple[str, ...]) -> Inventory:
    """``connector`` masks ``columns`` as well as those it already denies."""
    c = _connector(inv, connector)
    denied = tuple(dict.fromkeys((*c.denied_columns, *columns)))
    return _with_connector(inv, c.model_copy(update={"denied_columns": denied}))


def with_row_limit(inv: Inventory, connector: str, limit: int) -> Inventory:
    """One query through ``connector`` returns at most ``limit`` rows (a lower existing limit stays)."""
    if limit < 1:
        raise BlastRadiusError(f"a row limit must be at least 1, got {limit}")
    c = _connector(inv, connector)
    limit = min(limit, c.row_limit) if c.row_limit is not None else limit
    return _with_connector(inv, c.model_copy(update={"row_limit": limit}))


def without_connector(inv: Inventory, plugin: str, connector: str) -> Inventory:
    """``plugin`` no longer uses ``connector`` (and its gates and blocks on it go too)."""
    p = _plugin(inv, plugin)
    if connector not in p.connector_ids:
        raise BlastRadiusError(f"plugin '{plugin}' does not use connector '{connector}'")
    prefix = connector + "."
    return _with_plugin(
        inv,
        p.model_copy(
            update={
                "connectors": tuple(c for c in p.connectors if c.connector != connector),
                "requires_approval": tuple(s for s in p.requires_approval if not s.startswith(prefix)),
                "blocked": tuple(s for s in p.blocked if not s.startswith(prefix)),
            }
        ),
    )


def with_connector_split(inv: Inventory, connector: str) -> Inventory:
    """Split a connector shared across departments into one copy per department.

    Each copy (``CONNECTOR-DEPARTMENT``) exposes only the tools that
    department's plugins can call, and is read-only when none of them writes;
    each plugin is rewired to its department's copy. Every copy can then be
    scoped, approved and revoked on its own, and a fault in one department's
    copy no longer reaches the others'.
    """
    c = _connector(inv, connector)
    users = [inv.plugin_by_id[p] for p in plugins_using(inv, connector)]
    departments = sorted({inv.department_of(p) for p in users})
    if len(departments) < 2:
        raise BlastRadiusError(f"connector '{connector}' is used by one department only: nothing to split")
    new_connectors = [x for x in inv.connectors if x.id != connector]
    taken = set(inv.connector_by_id)
    rename: dict[str, str] = {}
    for dept in departments:
        # a department is free text ("Finance & Accounting"); an id is not: the copy is named by its slug
        new_id = f"{connector}-{re.sub(r'[^a-z0-9_-]+', '-', dept.lower()).strip('-') or 'department'}"
        while new_id in taken:
            new_id += "-split"
        taken.add(new_id)
        rename[dept] = new_id
        plugins = [p for p in users if inv.department_of(p) == dept]
        used = {
            t.name
            for p in plugins
            for t in c.tools
            if tool_status(p, c, t)[0] in (ToolStatus.UNGATED, ToolStatus.GATED)
        }
        tools = tuple(t for t in c.tools if t.name in used)
        writes = any(t.action is not ActionClass.READ for t in tools)
        new_connectors.append(
            c.model_copy(
                update={
                    "id": new_id,
                    "name": f"{c.name or c.id} ({dept})",
                    "tools": tools,
                    "access": c.access if writes else Access.READ_ONLY,
                }
            )
        )
    new_plugins = []
    for p in inv.plugins:
        if connector not in p.connector_ids:
            new_plugins.append(p)
            continue
        new_id = rename[inv.department_of(p)]

        def moved(selector: str, new_id: str = new_id) -> str:
            return new_id + selector[len(connector) :] if selector.startswith(connector + ".") else selector

        new_plugins.append(
            p.model_copy(
                update={
                    "connectors": tuple(
                        PluginConnector(connector=new_id, tools=pc.tools) if pc.connector == connector else pc
                        for pc in p.connectors
                    ),
                    "requires_approval": tuple(moved(s) for s in p.requires_approval),
                    "blocked": tuple(moved(s) for s in p.blocked),
                }
            )
        )
    return inv.replace(connectors=new_connectors, plugins=new_plugins)


def with_kill_switch(inv: Inventory, plugin: str, seconds: float, *, rehearsed_on: Any = None) -> Inventory:
    """``plugin`` can be paused for all users in ``seconds`` (a rehearsed kill switch if ``rehearsed_on``).

    Raises
    ------
    BlastRadiusError
        ``seconds`` not a number, negative or infinite.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise BlastRadiusError(f"a pause time must be a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise BlastRadiusError(f"a pause must take 0 or more seconds, got {seconds}")
    p = _plugin(inv, plugin)
    ks = PluginKillSwitch(
        can_pause=True,
        time_to_pause_seconds=float(seconds),
        rehearsed_on=rehearsed_on
        if rehearsed_on is not None
        else (p.kill_switch.rehearsed_on if p.kill_switch else None),
    )
    return _with_plugin(inv, p.model_copy(update={"kill_switch": ks}))


def without_plugin(inv: Inventory, plugin: str) -> Inventory:
    """The inventory without ``plugin``: retired, so nobody runs it any more.

    Its connectors stay (other plugins may use them). An ``assumptions:``
    section of the inventory loses its override for the plugin, which would
    otherwise name a plugin the inventory lacks.

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the inventory.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> retired = without_plugin(inv, "ap-autopilot")
    >>> "ap-autopilot" in retired.plugin_by_id, "ap-autopilot" in inv.plugin_by_id
    (False, True)
    >>> len(retired.connectors) == len(inv.connectors)
    True
    """
    _plugin(inv, plugin)
    changes: dict[str, Any] = {"plugins": [p for p in inv.plugins if p.id != plugin]}
    section = inv.settings.get("assumptions")
    overrides = section.data.get("plugins") if section is not None else None
    if section is not None and isinstance(overrides, Mapping) and plugin in overrides:
        data = {**section.data, "plugins": {k: v for k, v in overrides.items() if k != plugin}}
        changes["settings"] = {
            **inv.settings,
            "assumptions": SettingsSource(data=data, file=section.file, path=section.path),
        }
    return inv.replace(**changes)


def _threshold(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BlastRadiusError(f"an alert threshold ({what}) must be a whole number, got {value!r}")
    if value < 1:
        raise BlastRadiusError(f"an alert threshold ({what}) must be at least 1, got {value}")
    return value


def with_alert(
    inv: Inventory, connector: str, *, rows_over: int | None = None, sends_over: int | None = None
) -> Inventory:
    """An anomaly alert on ``connector``: one call returns more than ``rows_over`` rows, or sends to more than
    ``sends_over`` recipients (``audit.alert_if_rows_returned_over``, ``audit.alert_if_sends_over``).

    A lower threshold the connector already has stays, as do its other audit settings. A systematic fault
    that trips the alert is noticed sooner, so halted sooner.

    Raises
    ------
    BlastRadiusError
        Neither threshold given, one that is not a whole number of at least 1, or ``rows_over`` above the
        connector's row limit (no call returns that many rows, so the alert could never fire).
    UnknownIdError
        When ``connector`` is not in the inventory.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> audit = with_alert(inv, "company-data", rows_over=5000).connector_by_id["company-data"].audit
    >>> audit.alert_if_rows_returned_over, audit.log_every_query
    (5000, True)
    >>> with_alert(inv, "billing", rows_over=8000).connector_by_id["billing"].audit.alert_if_rows_returned_over
    5000
    >>> with_alert(inv, "billing", rows_over=50000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    blastradius.errors.BlastRadiusError: an alert over 50,000 rows on connector 'billing' could never fire: its row...
    """
    rows = _threshold(rows_over, "rows_over")
    sends = _threshold(sends_over, "sends_over")
    if rows is None and sends is None:
        raise BlastRadiusError("an alert needs a threshold: give rows_over, sends_over or both")
    c = _connector(inv, connector)
    if rows is not None and c.row_limit is not None and rows > c.row_limit:
        raise BlastRadiusError(
            f"an alert over {rows:,} rows on connector '{connector}' could never fire: its row limit is {c.row_limit:,}"
        )
    audit = c.audit or Audit()

    def lower(new: int | None, old: int | None) -> int | None:
        return old if new is None else new if old is None else min(new, old)

    updated = Audit(
        log_every_query=audit.log_every_query,
        alert_if_rows_returned_over=lower(rows, audit.alert_if_rows_returned_over),
        alert_if_sends_over=lower(sends, audit.alert_if_sends_over),
    )
    return _with_connector(inv, c.model_copy(update={"audit": updated}))


def with_audit_log(inv: Inventory, connector: str) -> Inventory:
    """Every call through ``connector`` is logged (``audit.log_every_query``), so a fault shows in log review.

    Its alerts stay as they are.

    Raises
    ------
    UnknownIdError
        When ``connector`` is not in the inventory.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> inv.connector_by_id["shared-drive"].audit is None
    True
    >>> with_audit_log(inv, "shared-drive").connector_by_id["shared-drive"].audit.log_every_query
    True
    """
    c = _connector(inv, connector)
    audit = c.audit or Audit()
    if audit.log_every_query:
        return inv
    return _with_connector(inv, c.model_copy(update={"audit": audit.model_copy(update={"log_every_query": True})}))


def with_revocation(inv: Inventory, connector: str, seconds: float) -> Inventory:
    """``connector``'s access can be revoked (or frozen) for every plugin in ``seconds``, whatever it took before.

    Raises
    ------
    BlastRadiusError
        ``seconds`` not a number, negative or infinite.
    UnknownIdError
        When ``connector`` is not in the inventory.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> with_revocation(inv, "payments", 60).connector_by_id["payments"].revocation
    Revocation(can_revoke=True, time_to_revoke_seconds=60.0)
    >>> inv.connector_by_id["payments"].revocation.time_to_revoke_seconds
    900.0
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise BlastRadiusError(f"a revocation time must be a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise BlastRadiusError(f"a revocation time must be 0 or more seconds, got {seconds}")
    c = _connector(inv, connector)
    revocation = Revocation(can_revoke=True, time_to_revoke_seconds=float(seconds))
    return _with_connector(inv, c.model_copy(update={"revocation": revocation}))


def what_if(
    inv: Inventory,
    *,
    gate: Mapping[str, list[str] | tuple[str, ...]] | None = None,
    block: Mapping[str, list[str] | tuple[str, ...]] | None = None,
    read_only: list[str] | tuple[str, ...] = (),
    row_limit: Mapping[str, int] | None = None,
    kill_switch_seconds: Mapping[str, float] | None = None,
) -> Inventory:
    """Several levers at once: ``gate``/``block`` map a plugin to selectors, ``read_only`` lists connectors,
    ``row_limit`` maps a connector to a limit, ``kill_switch_seconds`` a plugin to its pause time.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> changed = what_if(inv, gate={"ap-autopilot": ["pay"]}, read_only=["calendar"])
    >>> changed.connector_by_id["calendar"].access.value
    'read-only'
    """
    for plugin, selectors in (gate or {}).items():
        inv = _apply_all(inv, with_approval_gate, plugin, tuple(selectors))
    for plugin, selectors in (block or {}).items():
        inv = _apply_all(inv, with_tool_blocked, plugin, tuple(selectors))
    for connector in read_only:
        inv = with_read_only(inv, connector)
    for connector, limit in (row_limit or {}).items():
        inv = with_row_limit(inv, connector, limit)
    for plugin, seconds in (kill_switch_seconds or {}).items():
        inv = with_kill_switch(inv, plugin, seconds)
    return inv


# ---------------------------------------------------------------------------
# What a change costs, and whether it only removes access
# ---------------------------------------------------------------------------


_STATUS_RANK = {ToolStatus.UNGATED: 0, ToolStatus.GATED: 1, ToolStatus.BLOCKED: 2, ToolStatus.UNUSABLE: 2}


class AccessChange(NamedTuple):
    """One thing a plugin can no longer do freely, or (if ``widens``) can now do.

    A named tuple, immutable like the other records: a lever on thousands of plugins makes millions of them, which
    a frozen dataclass builds several times slower.
    """

    plugin: str
    what: str  # "needs a human", "stops working", "loses data", "capped", "masked", "loses people"
    detail: str
    widens: bool = False


#: Records a dataset of unknown size counts as when access to it is compared: more than any known size.
_UNKNOWN_RECORDS = 10**18


def _tool_data(a: Analysis, conn: Connector, tool: Tool) -> dict[str, tuple[int, int]]:
    """Dataset -> (records, classification rank) that ``tool`` of ``conn`` reaches, from the analysis's scope index
    (the fast path of :mod:`blastradius.reach`), computed once per analysis; unbounded counts as more than any size."""

    def build() -> dict[str, tuple[int, int]]:
        index = a.scope
        scoped = index.scoped(conn)
        records = scoped.read_records if tool.action is ActionClass.READ else scoped.records
        out: dict[str, tuple[int, int]] = {}
        for i in index.selection(conn, tool)[0]:
            n = records[i]
            out[scoped.ids[i]] = (_UNKNOWN_RECORDS if n is None else n, scoped.classification[i].rank)
        return out

    if not a.scope.owns(conn):
        return build()
    cache: ConnectorCache[dict[str, tuple[int, int]]] = a.memo("access_data", ConnectorCache)
    key = (conn.id, tool.name)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = build()
    return hit


@dataclass(frozen=True, kw_only=True)
class _ConnectorAccess:
    """What the tools of one connector can do with given statuses: :func:`_access_map`'s part of one connector."""

    status: tuple[tuple[tuple, ToolStatus], ...]  # (system, action, tool) -> status, least restricted first wins
    by_class: tuple[tuple[tuple, ToolStatus], ...]  # (system, action) -> status
    data: dict[tuple, dict[str, tuple[int, int]]]  # (system, action) -> dataset -> (records, classification rank)
    people: dict[tuple, frozenset[str]]  # (system, action) -> people groups


def _least_restricted(store: dict[tuple, ToolStatus], key: tuple, st: ToolStatus) -> None:
    if key not in store or _STATUS_RANK[st] < _STATUS_RANK[store[key]]:
        store[key] = st


def _connector_access(a: Analysis, conn: Connector, statuses: tuple[ToolStatus, ...]) -> _ConnectorAccess:
    """What ``conn``'s tools with ``statuses`` can do, computed once per connector and statuses in an analysis
    (plugins that use a connector alike share it; a what-if's analysis reads it through for unchanged ones)."""

    def build() -> _ConnectorAccess:
        index = a.scope
        sys_id = conn.system or f"?{conn.id}"
        status: dict[tuple, ToolStatus] = {}
        by_class: dict[tuple, ToolStatus] = {}
        data: dict[tuple, dict[str, tuple[int, int]]] = {}
        people: dict[tuple, set[str]] = {}
        for tool, st in zip(conn.tools, statuses, strict=True):
            _least_restricted(status, (sys_id, tool.action.value, tool.name), st)
            _least_restricted(by_class, (sys_id, tool.action.value), st)
            if st not in (ToolStatus.UNGATED, ToolStatus.GATED):
                continue
            akey = (sys_id, tool.action.value)
            reached = _tool_data(a, conn, tool)
            merged = data.get(akey)
            if merged is None:
                data[akey] = dict(reached)
            else:
                for ds, value in reached.items():
                    old = merged.get(ds)
                    merged[ds] = value if old is None else (max(old[0], value[0]), max(old[1], value[1]))
            people.setdefault(akey, set()).update(g.id for g in index.selection(conn, tool)[1])
        return _ConnectorAccess(
            status=tuple(status.items()),
            by_class=tuple(by_class.items()),
            data=data,
            people={k: frozenset(v) for k, v in people.items()},
        )

    if not a.scope.owns(conn):
        return build()
    cache: ConnectorCache[_ConnectorAccess] = a.memo("access_data", ConnectorCache)
    key = (conn.id, "access", statuses)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = build()
    return hit


def _access_map(a: Analysis, plugin: Plugin) -> tuple[dict, dict, dict, dict]:
    """What a plugin can do, keyed so that renamed tools and split connectors compare like for like.

    Read from :mod:`blastradius.reach` (its fast path: each tool's status and scoped reach). Returns
    (system, action, tool) -> status; (system, action) -> least restricted status; (system, action) ->
    dataset -> (records, classification rank); (system, action) -> people groups.
    """
    status: dict[tuple, ToolStatus] = {}
    by_class: dict[tuple, ToolStatus] = {}
    data: dict[tuple, dict[str, tuple[int, int]]] = {}
    people: dict[tuple, set[str]] = {}
    copied: set[tuple] = set()  # data entries that are this map's own (the others are shared with the analysis)
    for pc in plugin.connectors:
        conn = a.inventory.connector_by_id[pc.connector]
        part = _connector_access(a, conn, tool_statuses(plugin, conn))
        for key, st in part.status:
            _least_restricted(status, key, st)
        for key, st in part.by_class:
            _least_restricted(by_class, key, st)
        for akey, reached in part.data.items():
            merged = data.get(akey)
            if merged is None:
                data[akey] = reached
                continue
            if akey not in copied:
                merged = data[akey] = dict(merged)
                copied.add(akey)
            for ds, value in reached.items():
                old = merged.get(ds)
                merged[ds] = value if old is None else (max(old[0], value[0]), max(old[1], value[1]))
        for akey, groups in part.people.items():
            people.setdefault(akey, set()).update(groups)
    return status, by_class, data, people


def _access_differences(before: Analysis, after: Analysis, pid: str) -> Iterator[tuple[str, str, bool]]:
    """(what, detail, widens) of each change in what plugin ``pid`` can do: :func:`access_changes`, unwrapped."""
    old_p, new_p = before.inventory.plugin_by_id.get(pid), after.inventory.plugin_by_id.get(pid)
    if old_p is None:
        return
    if new_p is None:
        yield "stops working", "the plugin is removed", False
        return
    s0, c0, d0, p0 = before.memo(("access_map", pid), lambda: _access_map(before, old_p))
    s1, _, d1, p1 = _access_map(after, new_p)
    for key in sorted(set(s0) | set(s1)):
        a, b = s0.get(key, ToolStatus.BLOCKED), s1.get(key, ToolStatus.BLOCKED)
        if _STATUS_RANK[b] > _STATUS_RANK[a]:
            yield ("needs a human" if b is ToolStatus.GATED else "stops working"), key[2], False
        elif _STATUS_RANK[b] < _STATUS_RANK[a] and _STATUS_RANK[b] < _STATUS_RANK[c0.get(key[:2], ToolStatus.BLOCKED)]:
            # freer than anything of its action class on that system was: not just a renamed tool
            yield f"now {b.value}", key[2], True
    tables: dict[str, str] = before.memo("table_names", lambda: {d.id: d.table_name for d in before.inventory.datasets})
    for akey in sorted(set(d0) | set(d1)):
        olds, news = d0.get(akey, {}), d1.get(akey, {})
        if olds is news or olds == news:  # most of what a plugin reaches is untouched by a lever
            continue
        for ds in sorted(olds.keys() | news.keys()):
            old, new = olds.get(ds), news.get(ds)
            name = f"{akey[1]} on {tables.get(ds, ds)}"
            if old is None:
                yield "gains data", name, True
            elif new is None:
                yield "loses data", name, False
            else:
                if new[0] < old[0]:
                    yield "capped", f"{name}: at most {new[0]:,} rows", False
                elif new[0] > old[0]:
                    yield "more rows", name, True
                if new[1] < old[1]:
                    yield "masked", f"{name}: sensitive columns hidden", False
                elif new[1] > old[1]:
                    yield "more sensitive", name, True
    for key in sorted(set(p0) | set(p1)):
        lost, gained = p0.get(key, set()) - p1.get(key, set()), p1.get(key, set()) - p0.get(key, set())
        if lost:
            yield "loses people", f"{key[1]}: {', '.join(sorted(lost))}", False
        if gained:
            yield "gains people", f"{key[1]}: {', '.join(sorted(gained))}", True


def access_changes(
    before: Inventory | Analysis, after: Inventory | Analysis, plugins: list[str] | None = None
) -> list[AccessChange]:
    """What each plugin loses (and gains, flagged ``widens``) between two inventories.

    Tools are matched by system and name; data and people by system and
    action class, so a connector split, a renamed tool or a new connector to
    the same system compares like for like: a tool counts as gained only if
    nothing of its action class on that system was as free before.
    """
    a0, a1 = analysis_of(before), analysis_of(after)
    ids = plugins if plugins is not None else [p.id for p in a0.inventory.plugins]
    return [
        AccessChange(plugin=pid, what=what, detail=detail, widens=widens)
        for pid in ids
        for what, detail, widens in _access_differences(a0, a1, pid)
    ]


def _summarise(changes: list[AccessChange], *, name_plugins: bool) -> str:
    """'release_payment_batch needs a human; 2 tools stop working (…)' — what a lever costs in use."""
    if not changes:
        return "nothing the plugins use changes"
    groups: dict[str, dict[str, None]] = {}  # each kind of change, its items in order, each once
    for c in changes:
        groups.setdefault(c.what, {})[f"{c.plugin}: {c.detail}" if name_plugins else c.detail] = None
    parts = []
    for what in ("needs a human", "stops working", "loses data", "capped", "masked", "loses people"):
        items = list(groups.get(what, ()))
        if not items:
            continue
        shown = ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
        label = {
            "needs a human": "now need a human",
            "stops working": "stop working",
            "loses data": "lose tables",
            "capped": "are row-capped",
            "masked": "are masked",
            "loses people": "lose recipients",
        }[what]
        parts.append(f"{len(items)} {label}: {shown}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------
# Candidate levers and the recommendation
# ---------------------------------------------------------------------------


class LeverKind(StrEnum):
    """Which factor a lever lowers; the cheapest (autonomy) comes first (D2: autonomy is the cheapest lever)."""

    GATE = "gate"  # autonomy
    ROW_LIMIT = "row-limit"  # reach
    DENY_COLUMNS = "deny-columns"  # reach
    RESTRICT_TABLES = "restrict-tables"  # reach
    SPLIT_CONNECTOR = "split-connector"  # reach
    READ_ONLY = "read-only"  # capability
    BLOCK = "block"  # capability
    REMOVE_CONNECTOR = "remove-connector"  # capability

    @property
    def factor(self) -> Literal["autonomy", "reach", "capability"]:
        if self is LeverKind.GATE:
            return "autonomy"
        if self in (LeverKind.READ_ONLY, LeverKind.BLOCK, LeverKind.REMOVE_CONNECTOR):
            return "capability"
        return "reach"


@dataclass(frozen=True, kw_only=True)
class Lever:
    """A proposed change: what it does, to what, and the function that applies it."""

    kind: LeverKind
    target: str  # the plugin or connector it changes
    description: str
    plugins: tuple[str, ...]  # plugins it affects
    apply: Callable[[Inventory], Inventory] = field(compare=False, repr=False)


_PERSONAL = {Classification.PII, Classification.HEALTH, Classification.CREDENTIALS}


def candidate_levers(source: Inventory | Analysis, *, weights: WeightsLike = None) -> list[Lever]:
    """Every lever worth trying on an inventory: gates and blocks per plugin, scope changes per connector."""
    analysis = analysis_of(source, weights=weights)
    inv, w = analysis.inventory, analysis.weights
    scorer = Scorer(analysis)
    levers: list[Lever] = []
    users_of = plugins_by_connector(inv)

    for p in inv.plugins:
        ps = scorer.plugin(p)
        for a in ps.actions:
            if a.action is ActionClass.READ or not a.tools:
                continue
            conn = inv.connector_by_id[a.connector]
            ungated = [t for t in a.tools if tool_status(p, conn, _tool(conn, t))[0] is ToolStatus.UNGATED]
            high = [t for t in ungated if is_high_impact(_tool(conn, t), weights=w)]
            if high:
                selectors = tuple(f"{conn.id}.{t}" for t in high)
                levers.append(
                    Lever(
                        kind=LeverKind.GATE,
                        target=p.id,
                        description=f"gate {a.action.value} on {p.id}: {', '.join(selectors)}",
                        plugins=(p.id,),
                        apply=partial(_apply_all, fn=with_approval_gate, plugin=p.id, selectors=selectors),
                    )
                )
            selectors = tuple(f"{conn.id}.{t}" for t in a.tools)
            levers.append(
                Lever(
                    kind=LeverKind.BLOCK,
                    target=p.id,
                    description=f"block {a.action.value} on {p.id}: {', '.join(selectors)}",
                    plugins=(p.id,),
                    apply=partial(_apply_all, fn=with_tool_blocked, plugin=p.id, selectors=selectors),
                )
            )
        for cid in p.connector_ids:
            levers.append(
                Lever(
                    kind=LeverKind.REMOVE_CONNECTOR,
                    target=p.id,
                    description=f"remove connector {cid} from {p.id}",
                    plugins=(p.id,),
                    apply=partial(without_connector, plugin=p.id, connector=cid),
                )
            )

    for conn in inv.connectors:
        plugins = tuple(users_of.get(conn.id, ()))
        if not plugins:
            continue
        scoped = analysis.scope.scoped(conn)  # what its scope lets through (blastradius.reach)
        datasets = [inv.dataset_by_id[d] for d in scoped.ids]
        reads = any(t.action is ActionClass.READ for t in conn.tools)
        if conn.access is Access.READ_WRITE and any(t.action is not ActionClass.READ for t in conn.tools):
            levers.append(
                Lever(
                    kind=LeverKind.READ_ONLY,
                    target=conn.id,
                    description=f"make {conn.id} read-only",
                    plugins=plugins,
                    apply=partial(with_read_only, connector=conn.id),
                )
            )
        if reads and conn.row_limit is None and datasets:
            limit = w.recommended_row_limit
            levers.append(
                Lever(
                    kind=LeverKind.ROW_LIMIT,
                    target=conn.id,
                    description=f"limit {conn.id} to {limit:,} rows per query",
                    plugins=plugins,
                    apply=partial(with_row_limit, connector=conn.id, limit=limit),
                )
            )
        personal = sorted(
            {col.name for d in datasets for col in d.columns if col.classification in _PERSONAL}
            - set(conn.denied_columns)
        )
        if reads and personal:
            levers.append(
                Lever(
                    kind=LeverKind.DENY_COLUMNS,
                    target=conn.id,
                    description=f"mask personal columns on {conn.id}: {', '.join(personal)}",
                    plugins=plugins,
                    apply=partial(with_denied_columns, connector=conn.id, columns=tuple(personal)),
                )
            )
        low = [
            table
            for table, c in zip(scoped.tables, scoped.classification, strict=True)
            if c not in SENSITIVE_CLASSIFICATIONS
        ]
        if low and len(low) < len(scoped.tables):
            levers.append(
                Lever(
                    kind=LeverKind.RESTRICT_TABLES,
                    target=conn.id,
                    description=f"allow {conn.id} only its non-sensitive tables: {', '.join(low[:5])}"
                    + (f" and {len(low) - 5} more" if len(low) > 5 else ""),
                    plugins=plugins,
                    apply=partial(with_allowed_tables, connector=conn.id, tables=tuple(low)),
                )
            )
        departments = {inv.department_of(inv.plugin_by_id[pid]) for pid in plugins}
        if len(departments) >= 2:
            levers.append(
                Lever(
                    kind=LeverKind.SPLIT_CONNECTOR,
                    target=conn.id,
                    description=f"split {conn.id} into one connector per department ({', '.join(sorted(departments))})",
                    plugins=plugins,
                    apply=partial(with_connector_split, connector=conn.id),
                )
            )
    return levers


def _tool(conn: Connector, name: str) -> Tool:
    """The tool ``name`` of ``conn``: an action score names only tools of its connector."""
    tool = conn.tool(name)
    assert tool is not None, f"connector '{conn.id}' has no tool '{name}'"
    return tool


def _apply_all(inv: Inventory, fn: Callable[..., Inventory], plugin: str, selectors: tuple[str, ...]) -> Inventory:
    for selector in selectors:
        inv = fn(inv, plugin, selector)
    return inv


#: Columns of :func:`recommend`.
RECOMMEND_COLUMNS = (
    "scope",
    "lever",
    "control",
    "kind",
    "factor",
    "target",
    "plugins",
    "before",
    "after",
    "reduction",
    "reduction_pct",
    "uses_lost",
    "tools_stopped",
    "tools_gated",
    "tables_lost",
    "recipient_lists_lost",
    "recipients_lost",
    "teams_affected",
    "on_front",
    "cost",
)


@dataclass(frozen=True, kw_only=True)
class LeverResult:
    """A lever tried on an inventory: the blast radius of each plugin it affects, before and after."""

    lever: Lever
    before: Mapping[str, float]
    after: Mapping[str, float]
    changes: tuple[AccessChange, ...]


def evaluate_levers(
    source: Inventory | Analysis,
    *,
    weights: WeightsLike = None,
    levers: Sequence[Lever] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[LeverResult]:
    """Apply each lever once (every candidate lever, or ``levers``) and rescore the plugins it affects.

    Only what a lever touches is computed again: it is applied to the inventory of the plugins it
    affects (``Lever.plugins``, which must name every plugin whose record or connectors it changes),
    and the what-if's analysis reads everything it leaves unchanged (the scope, shared scores and
    access data of every other connector) from ``source``'s (:meth:`Analysis.derive`). The figures
    are those of the lever applied to the whole inventory and scored afresh
    (``tests/test_levers.py`` checks both ways agree).

    ``progress``, if given, is called with (levers done, levers) as they are tried.

    Raises
    ------
    WidenedAccessError
        If a lever would widen some plugin's access (a defect, never expected).
    """
    analysis = analysis_of(source, weights=weights)
    inventory = analysis.inventory
    base = Scorer(analysis)
    todo = candidate_levers(analysis) if levers is None else levers
    results = []
    for done, lever in enumerate(todo):
        touched = inventory.replace(plugins=[inventory.plugin_by_id[pid] for pid in lever.plugins])
        after_inv = lever.apply(touched)
        after = analysis.derive(after_inv)
        changes = access_changes(analysis, after, list(lever.plugins))
        widened = [c for c in changes if c.widens]
        if widened:
            raise WidenedAccessError(
                f"lever '{lever.description}' would widen access: "
                + "; ".join(f"{c.plugin}: {c.what} {c.detail}" for c in widened[:5])
            )
        scorer = Scorer(after)
        results.append(
            LeverResult(
                lever=lever,
                before={pid: base.plugin(inventory.plugin_by_id[pid]).blast_radius for pid in lever.plugins},
                after={pid: scorer.plugin(after_inv.plugin_by_id[pid]).blast_radius for pid in lever.plugins},
                changes=tuple(changes),
            )
        )
        if progress is not None and (done % 64 == 63 or done == len(todo) - 1):
            progress(done + 1, len(todo))
    return results


def _ordered(rows: list[dict], n: int | None = None) -> list[dict]:
    """Rows of one scope in the order of the decision's rule (:func:`blastradius.decision.ranking`), the first
    ``n`` (all when None), each with ``on_front`` and its ``rank``."""
    import numpy as np

    from blastradius.decision import ranking  # the rule is the decision's: it builds on these levers

    order, on_front = ranking(
        np.array([r["reduction"] for r in rows], dtype=float), np.array([r["uses_lost"] for r in rows], dtype=float)
    )
    return [rows[i] | {"on_front": bool(on_front[i]), "rank": k} for k, i in enumerate(order[:n].tolist(), 1)]


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["rank", *RECOMMEND_COLUMNS])
    df["on_front"] = df["on_front"].astype(bool)
    return df.set_index("rank")


def _ranked(rows: list[dict]) -> pd.DataFrame:
    """Rows of one scope in the order of the decision's rule, as a frame indexed by rank."""
    return _frame(_ordered(rows))


def _rows(
    results: list[LeverResult],
    scope: str,
    before_total: float,
    min_reduction_pct: float,
    inv: Inventory,
    described: dict[int, dict[str, Any]] | None = None,
) -> list[dict]:
    """One row per lever of ``results`` that removes enough of ``scope``'s blast radius (a plugin, or 'overall').

    What a lever costs does not depend on the scope: ``described`` keeps it per lever across scopes.
    """
    from blastradius.decision import collateral, control_words

    described = {} if described is None else described
    rows = []
    for r in results:
        if scope == "overall":
            reduction = sum(r.before.values()) - sum(r.after.values())
        elif scope in r.before:
            reduction = r.before[scope] - r.after[scope]
        else:
            continue
        if before_total <= 0 or reduction <= 1e-9 or reduction / before_total * 100 < min_reduction_pct:
            continue
        what = described.get(id(r))
        if what is None:
            lost = collateral(r.changes, inv)
            what = described[id(r)] = {
                "lever": r.lever.description,
                "control": control_words(r.lever.kind.value, r.lever.description),
                "kind": r.lever.kind.value,
                "factor": r.lever.kind.factor,
                "target": r.lever.target,
                "plugins": ", ".join(r.lever.plugins),
                **{k: lost[k] for k in RECOMMEND_COLUMNS if k in lost},
                "cost": _summarise(list(r.changes), name_plugins=len(r.lever.plugins) > 1),
            }
        rows.append(
            {
                "scope": scope,
                "before": before_total,
                "after": before_total - reduction,
                "reduction": reduction,
                "reduction_pct": 100 * reduction / before_total,
                **what,
            }
        )
    return rows


def recommend(
    source: Inventory | Analysis,
    *,
    weights: WeightsLike = None,
    plugin: str | None = None,
    min_reduction_pct: float = 1.0,
    results: list[LeverResult] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Levers ranked by the decision's rule: risk removed against collateral, the Pareto front first.

    Parameters
    ----------
    source : Inventory or Analysis
    weights : Weights, mapping or path, optional
        Scoring weights.
    plugin : str, optional
        Rank levers for this plugin: ``before``/``after`` are its blast radius.
        Otherwise the whole inventory's (the sum over plugins).
    min_reduction_pct : float
        Leave out levers that remove less than this share of ``before``.
    results : list of LeverResult, optional
        Levers already evaluated by :func:`evaluate_levers` (to rank several ways without re-scoring).
    progress : callable, optional
        Called with (levers tried, levers) while they are evaluated.

    Returns
    -------
    pandas.DataFrame
        One row per lever (:data:`RECOMMEND_COLUMNS`), in the order of
        :func:`blastradius.decision.rank_controls` (:data:`blastradius.decision.RANKING_RULE`), the
        rule of the rollout report's decision page: ``reduction`` (``reduction_pct``: its share of
        ``before``) is the risk removed; ``uses_lost`` (tool uses stopped, tables and recipient lists
        lost), ``tools_gated`` and ``teams_affected`` the collateral (:func:`blastradius.decision.collateral`);
        ``on_front`` whether no other lever removes as much with no more uses lost. Every lever has
        been checked to remove access and add none.
    """
    analysis = analysis_of(source, weights=weights)
    inventory = analysis.inventory
    if plugin is not None:
        _plugin(inventory, plugin)
    if results is None:
        chosen = None
        if plugin is not None:  # only the levers that change what this plugin can do
            chosen = [lever for lever in candidate_levers(analysis) if plugin in lever.plugins]
        results = evaluate_levers(analysis, levers=chosen, progress=progress)
    base = Scorer(analysis)
    if plugin is not None:
        before_total = base.plugin(inventory.plugin_by_id[plugin]).blast_radius
    else:
        before_total = sum(base.plugin(p).blast_radius for p in inventory.plugins)
    return _ranked(_rows(results, plugin or "overall", before_total, min_reduction_pct, inventory))


def recommendations(
    source: Inventory | Analysis,
    *,
    weights: WeightsLike = None,
    top: int | None = 15,
    per_plugin: int | None = 3,
    min_reduction_pct: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """The overall ranking (``scope == 'overall'``) followed by each plugin's own, highest blast radius first.

    Levers are evaluated once and ranked for every scope by the rule of :func:`recommend`; ``top`` and
    ``per_plugin`` cut each ranking (None keeps all). ``progress`` is called with (levers tried, levers).
    """
    analysis = analysis_of(source, weights=weights)
    inventory = analysis.inventory
    results = evaluate_levers(analysis, progress=progress)
    scorer = Scorer(analysis)
    totals = {p.id: scorer.plugin(p).blast_radius for p in inventory.plugins}
    described: dict[int, dict[str, Any]] = {}
    overall = _rows(results, "overall", sum(totals.values()), min_reduction_pct, inventory, described)
    rows = _ordered(overall, top)
    by_plugin: dict[str, list[LeverResult]] = {}
    for r in results:
        for pid in r.lever.plugins:
            by_plugin.setdefault(pid, []).append(r)
    for pid in sorted(totals, key=lambda k: (-totals[k], k)):
        rows += _ordered(
            _rows(by_plugin.get(pid, []), pid, totals[pid], min_reduction_pct, inventory, described), per_plugin
        )
    return _frame(rows)
