"""What each tool of each plugin reaches: the one home of reach and access.

The connector, not the prompt, is the security boundary (DOMAIN.md D6): this
module decides, for a tool used by a plugin, whether it can run at all
(blocked, gated, unusable on a read-only connector) and which datasets and
people it reaches after allowed tables, denied columns and the row limit; and,
per plugin, what each of its actions (an action class through one connector)
and all of them together reach. Every other module — graph, scores, explain,
levers, rules, runbook, diff, simulation, plots and widgets — reads reach from
here and computes none of its own.

Two implementations live here and nowhere else:

- the **reference**: :func:`tool_status`, :func:`tool_reach` and
  :func:`plugin_reach`, plain loops over the records, written to be read;
- the **fast path**: :class:`ScopeIndex` (each connector's scope applied once
  for every tool and plugin) and :func:`tool_statuses`, which the scorer's
  vectorised score table builds on. A differential test
  (``tests/test_reach.py``) pins it to the reference on generated inventories.

Sizes an inventory does not give are one explicit state: a
:class:`DatasetScope` whose ``records`` is None touches an unknown number of
records that nothing bounds (no size given and, for a read, no row limit). A
:class:`Reach` counts the records it can bound in ``records`` and the datasets
it cannot in ``unbounded_datasets``, so ``records`` is then a lower bound;
nothing here substitutes a guess. (Scoring uses documented stand-ins for
unknown sizes in its reach *term*; the figures it reports are these.)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any, TypeVar

from blastradius.domain import is_recipient_action
from blastradius.model import (
    SENSITIVE_CLASSIFICATIONS,
    Access,
    ActionClass,
    Classification,
    Connector,
    Dataset,
    Inventory,
    PeopleGroup,
    Plugin,
    Tool,
)

__all__ = [
    "STATUS_ORDER",
    "USABLE",
    "ActionReach",
    "ConnectorCache",
    "DatasetScope",
    "PluginReach",
    "Reach",
    "ScopeIndex",
    "ScopedDatasets",
    "ToolAccess",
    "ToolReach",
    "ToolStatus",
    "changed_connectors",
    "datasets_in_scope",
    "people_in_scope",
    "plugin_reach",
    "tool_reach",
    "tool_status",
    "tool_statuses",
    "union_reach",
]


class ToolStatus(StrEnum):
    """Whether a plugin can run a tool, and with whom in the loop (D4)."""

    UNGATED = "ungated"  # runs with no human
    GATED = "gated"  # a human approves each call
    BLOCKED = "blocked"  # the plugin must never call it
    UNUSABLE = "unusable"  # a write tool on a read-only connector


_UNGATED, _GATED, _BLOCKED, _UNUSABLE = ToolStatus.UNGATED, ToolStatus.GATED, ToolStatus.BLOCKED, ToolStatus.UNUSABLE
_READ = ActionClass.READ
_READ_ONLY = Access.READ_ONLY


@lru_cache(maxsize=4096)
def _selector_set(selectors: tuple[str, ...]) -> frozenset[str]:
    return frozenset(selectors)


def _selected(selectors: tuple[str, ...], connector: Connector, tool: Tool) -> str | None:
    """The selector naming this tool (its action class, ``conn.tool`` or ``conn.*``), if any."""
    if not selectors:
        return None
    names = _selector_set(selectors)
    if tool.action in names:  # an action class is the string of its value
        return tool.action.value
    for candidate in (f"{connector.id}.{tool.name}", f"{connector.id}.*"):
        if candidate in names:
            return candidate
    return None


def tool_status(plugin: Plugin, connector: Connector, tool: Tool) -> tuple[ToolStatus, str]:
    """Whether ``plugin`` can call ``tool`` of ``connector``, and why.

    Returns
    -------
    (ToolStatus, str)
        The status and the inventory setting that causes it, in words.

    Examples
    --------
    >>> from blastradius.model import Connector, Plugin, Tool
    >>> conn = Connector(id="email", access="read-write", tools=[Tool(name="send", action="send")])
    >>> tool_status(Plugin(id="p", owner="t", connectors=["email"], requires_approval=["send"]), conn, conn.tools[0])
    (<ToolStatus.GATED: 'gated'>, "plugin 'p' requires approval for 'send'")
    """
    blocked = _selected(plugin.blocked, connector, tool) if plugin.blocked else None
    if blocked:
        return _BLOCKED, f"plugin '{plugin.id}' blocks '{blocked}'"
    for pc in plugin.connectors:
        if pc.tools is not None and pc.connector == connector.id and tool.name not in pc.tools:
            return _BLOCKED, f"plugin '{plugin.id}' is not given tool '{tool.name}' of '{connector.id}'"
    if tool.action is not _READ and connector.access is _READ_ONLY:
        return _UNUSABLE, f"connector '{connector.id}' is read-only"
    if connector.requires_approval:
        return _GATED, f"connector '{connector.id}' requires approval for every call"
    gated = _selected(plugin.requires_approval, connector, tool) if plugin.requires_approval else None
    if gated:
        return _GATED, f"plugin '{plugin.id}' requires approval for '{gated}'"
    return _UNGATED, "no approval gate"


def tool_statuses(plugin: Plugin, connector: Connector) -> tuple[ToolStatus, ...]:
    """:func:`tool_status` of every tool of ``connector`` for ``plugin``, in tool order, without the reasons.

    The same rules, applied once per connector rather than once per tool.

    Examples
    --------
    >>> from blastradius.model import Connector, Plugin, Tool
    >>> conn = Connector(
    ...     id="email", access="read-write", tools=[Tool(name="read", action="read"), Tool(name="send", action="send")]
    ... )
    >>> [
    ...     s.value
    ...     for s in tool_statuses(Plugin(id="p", owner="t", connectors=["email"], requires_approval=["send"]), conn)
    ... ]
    ['ungated', 'gated']
    """
    cid = connector.id
    blocked = _selector_set(plugin.blocked) if plugin.blocked else None
    gated = _selector_set(plugin.requires_approval) if plugin.requires_approval else None
    given: frozenset[str] | None = None  # tools the plugin may call: in every tool list it gives the connector
    for pc in plugin.connectors:
        if pc.tools is not None and pc.connector == cid:
            given = frozenset(pc.tools) if given is None else given & frozenset(pc.tools)
    read_only = connector.access is _READ_ONLY
    every = f"{cid}.*"
    out = []
    for tool in connector.tools:
        named = f"{cid}.{tool.name}"
        if (blocked and (tool.action in blocked or every in blocked or named in blocked)) or (
            given is not None and tool.name not in given
        ):
            out.append(_BLOCKED)
        elif read_only and tool.action is not _READ:
            out.append(_UNUSABLE)
        elif connector.requires_approval or (gated and (tool.action in gated or every in gated or named in gated)):
            out.append(_GATED)
        else:
            out.append(_UNGATED)
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class DatasetScope:
    """One dataset as a tool sees it through a connector's scope.

    ``records`` is what one call can touch (capped by the row limit for reads).
    When the dataset's size is unknown, ``size_known`` is False and ``records``
    is the row limit that bounds a read, or None when nothing bounds it.
    """

    dataset: str
    records: int | None
    size_known: bool
    classification: Classification
    masked_columns: tuple[str, ...]

    @property
    def sensitive(self) -> bool:
        return self.classification in SENSITIVE_CLASSIFICATIONS


def _targeted(tool: Tool, name: str) -> bool:
    return tool.targets is None or name in tool.targets


def datasets_in_scope(connector: Connector, tool: Tool, datasets: Iterable[Dataset]) -> list[DatasetScope]:
    """Datasets of the connector's system that ``tool`` can touch, after the connector's scope.

    ``send`` and ``share`` tools touch the people they address, not tables,
    unless they name tables in ``targets``. Allowed tables and the tool's
    targets select datasets; denied columns lower a dataset's classification
    and hide a fully masked dataset; the row limit caps what one read returns.

    Examples
    --------
    >>> from blastradius.model import Connector, Dataset, Tool
    >>> conn = Connector(id="wh", access="read-only", allowed_tables=["deals"], denied_columns=["ssn"], row_limit=100)
    >>> q = Tool(name="query", action="read")
    >>> data = [
    ...     Dataset(id="deals", records=5000, columns={"amount": "financial"}),
    ...     Dataset(id="payroll", records=4000, columns={"ssn": "pii"}),
    ... ]
    >>> [(s.dataset, s.records) for s in datasets_in_scope(conn, q, data)]
    [('deals', 100)]
    """
    if is_recipient_action(tool.action) and tool.targets is None:
        return []
    denied = frozenset(connector.denied_columns)
    allowed = None if connector.allowed_tables is None else frozenset(connector.allowed_tables)
    out = []
    for ds in datasets:
        table = ds.table_name
        if allowed is not None and table not in allowed:
            continue
        if not _targeted(tool, table) or ds.fully_masked(denied):
            continue
        records = ds.records
        if tool.action is ActionClass.READ and connector.row_limit is not None and records is not None:
            records = min(records, connector.row_limit)
        elif tool.action is ActionClass.READ and connector.row_limit is not None:
            records = connector.row_limit  # unknown size, but one query returns at most the row limit
        out.append(
            DatasetScope(
                dataset=ds.id,
                records=records,
                size_known=ds.records is not None,
                classification=ds.effective_classification(denied),
                masked_columns=tuple(c.name for c in ds.columns if c.name in denied),
            )
        )
    return out


def people_in_scope(tool: Tool, people: Iterable[PeopleGroup], reachable_datasets: Iterable[str]) -> list[PeopleGroup]:
    """People groups ``tool`` touches.

    A ``send``/``share`` tool addresses the system's people groups (or the ones
    it targets); any other tool touches the people whose records sit in a
    dataset it can reach; a tool of unknown action, conservatively, both.
    """
    reachable = set(reachable_datasets)
    if is_recipient_action(tool.action):
        return [g for g in people if _targeted(tool, g.id)]
    unknown = tool.action is ActionClass.UNKNOWN
    return [
        g for g in people if (g.dataset is not None and g.dataset in reachable) or (unknown and _targeted(tool, g.id))
    ]


@dataclass(frozen=True, kw_only=True)
class ToolReach:
    """Everything one tool of a connector touches: datasets (as scoped) and people groups."""

    datasets: tuple[DatasetScope, ...]
    people: tuple[PeopleGroup, ...]


def tool_reach(
    connector: Connector, tool: Tool, datasets: Iterable[Dataset], people: Iterable[PeopleGroup]
) -> ToolReach:
    """What ``tool`` touches among the ``datasets`` and ``people`` of the connector's system.

    A tool that cannot act on a read-only connector touches nothing.
    """
    if tool.action is not ActionClass.READ and connector.is_read_only:
        return ToolReach(datasets=(), people=())
    scoped = datasets_in_scope(connector, tool, datasets)
    groups = people_in_scope(tool, people, (s.dataset for s in scoped))
    return ToolReach(datasets=tuple(scoped), people=tuple(groups))


# ---------------------------------------------------------------------------
# The reference: what a plugin's actions reach, one by one and together
# ---------------------------------------------------------------------------

#: Statuses under which a tool can run (with or without a human approving it).
USABLE = frozenset({ToolStatus.UNGATED, ToolStatus.GATED})

#: Statuses from least to most restricted: an action takes its least restricted tool's.
STATUS_ORDER = (ToolStatus.UNGATED, ToolStatus.GATED, ToolStatus.BLOCKED, ToolStatus.UNUSABLE)


@dataclass(frozen=True, kw_only=True)
class Reach:
    """What a set of tools touches together, each dataset and people group counted once.

    A dataset reached through several scopes counts at its widest: unbounded
    over any number, else the most records. A bounded one counts as sensitive
    when some scope that reaches it leaves it sensitive, with the most records
    any such scope touches (so ``sensitive_records`` never exceeds ``records``).

    Attributes
    ----------
    records : int
        Records of the datasets whose reach is bounded (a size given or, for a
        read, a row limit). A lower bound when ``unbounded_datasets`` > 0.
    sensitive_records : int
        The part of ``records`` in datasets classified sensitive (after masking).
    people, external_people : int
        Members of the people groups reached whose size is given; outside the organisation.
    datasets, people_groups, connectors : frozenset of str
        Ids of what is reached, and through which connectors.
    unknown_records : int
        Datasets reached whose size the inventory does not give.
    unbounded_datasets : int
        Of those, the ones nothing bounds (no size, no row limit): ``records`` leaves them out.
    unknown_people : int
        People groups reached whose size is not given: ``people`` leaves them out.
    """

    action: ActionClass | None = None
    records: int = 0
    sensitive_records: int = 0
    people: int = 0
    external_people: int = 0
    datasets: frozenset[str] = frozenset()
    people_groups: frozenset[str] = frozenset()
    connectors: frozenset[str] = frozenset()
    unknown_records: int = 0
    unbounded_datasets: int = 0
    unknown_people: int = 0

    @property
    def unknowns(self) -> int:
        """Datasets and people groups whose size is not given."""
        return self.unknown_records + self.unknown_people

    @property
    def bounded(self) -> bool:
        """Whether ``records`` and ``people`` are exact bounds (nothing unbounded or of unknown size)."""
        return self.unbounded_datasets == 0 and self.unknown_people == 0


def _wider(a: int | None, b: int | None) -> bool:
    """Is a scope touching ``a`` records wider than one touching ``b``? None (unbounded) is the widest."""
    if a is None:
        return b is not None
    return b is not None and a > b


def union_reach(parts: Iterable[tuple[str, ToolReach]], *, action: ActionClass | None = None) -> Reach:
    """:class:`Reach` of several tools together: ``(connector id, ToolReach)`` pairs, each dataset and group once.

    Examples
    --------
    >>> from blastradius.model import Connector, Dataset, Tool
    >>> conn = Connector(id="wh", row_limit=100)
    >>> data = [Dataset(id="deals", records=5000, columns={"amount": "financial"}), Dataset(id="notes")]
    >>> read = tool_reach(conn, Tool(name="q", action="read"), data, [])
    >>> write = tool_reach(conn, Tool(name="w", action="write"), data, [])
    >>> r = union_reach([("wh", read), ("wh", write)])
    >>> r.records, r.sensitive_records, r.unknown_records, r.unbounded_datasets
    (5000, 5000, 1, 1)
    >>> union_reach([("wh", read)]).records, union_reach([("wh", read)]).unbounded_datasets
    (200, 0)
    """
    widest: dict[str, DatasetScope] = {}
    sensitive: dict[str, int] = {}
    groups: dict[str, PeopleGroup] = {}
    connectors: set[str] = set()
    for connector, reach in parts:
        connectors.add(connector)
        for s in reach.datasets:
            prev = widest.get(s.dataset)
            if prev is None or _wider(s.records, prev.records):
                widest[s.dataset] = s
            if s.sensitive and s.records is not None:
                sensitive[s.dataset] = max(sensitive.get(s.dataset, 0), s.records)
        for g in reach.people:
            groups.setdefault(g.id, g)
    scopes = widest.values()
    return Reach(
        action=action,
        records=sum(s.records for s in scopes if s.records is not None),
        sensitive_records=sum(n for d, n in sensitive.items() if widest[d].records is not None),
        people=sum(g.count for g in groups.values() if g.count is not None),
        external_people=sum(g.count for g in groups.values() if g.count is not None and g.is_external),
        datasets=frozenset(widest),
        people_groups=frozenset(groups),
        connectors=frozenset(connectors),
        unknown_records=sum(not s.size_known for s in scopes),
        unbounded_datasets=sum(s.records is None for s in scopes),
        unknown_people=sum(g.count is None for g in groups.values()),
    )


@dataclass(frozen=True, kw_only=True)
class ToolAccess:
    """One tool of a connector as a plugin has it: whether it can run, why, and what it touches if it runs."""

    tool: Tool
    status: ToolStatus
    reason: str
    reach: ToolReach

    @property
    def usable(self) -> bool:
        return self.status in USABLE


@dataclass(frozen=True, kw_only=True)
class ActionReach:
    """One action of a plugin: an action class through one connector, the tools of that class and what they reach.

    ``status`` is that of its least restricted tool (and ``reason`` why);
    ``reach`` is what its usable tools (ungated or gated) touch together,
    computed when first asked for. ``tools`` lists them once per time the
    plugin lists the connector.
    """

    plugin: str
    connector: str
    system: str | None
    action: ActionClass
    tools: tuple[ToolAccess, ...]
    status: ToolStatus
    reason: str

    @cached_property
    def reach(self) -> Reach:
        return union_reach(((self.connector, t.reach) for t in self.tools if t.usable), action=self.action)

    @property
    def usable_tools(self) -> tuple[str, ...]:
        return tuple(t.tool.name for t in self.tools if t.usable)

    @property
    def unavailable_tools(self) -> tuple[str, ...]:
        return tuple(t.tool.name for t in self.tools if not t.usable)

    @cached_property
    def datasets(self) -> tuple[DatasetScope, ...]:
        """The datasets its usable tools touch, each at its widest scope, by id."""
        widest: dict[str, DatasetScope] = {}
        for t in self.tools:
            if t.usable:
                for s in t.reach.datasets:
                    if s.dataset not in widest or _wider(s.records, widest[s.dataset].records):
                        widest[s.dataset] = s
        return tuple(widest[k] for k in sorted(widest))

    @cached_property
    def people_groups(self) -> tuple[str, ...]:
        return tuple(sorted({g.id for t in self.tools if t.usable for g in t.reach.people}))


@dataclass(frozen=True, kw_only=True)
class PluginReach:
    """Every action of one plugin (by connector, then action class) and what they reach."""

    plugin: str
    actions: tuple[ActionReach, ...]

    def tools(self, *, include_gated: bool = True) -> list[tuple[str, ToolAccess]]:
        """``(connector id, tool)`` of every tool that can run (only ungated ones unless ``include_gated``)."""
        allowed = USABLE if include_gated else {ToolStatus.UNGATED}
        return [(a.connector, t) for a in self.actions for t in a.tools if t.status in allowed]

    def by_action(self, *, include_gated: bool = True) -> dict[ActionClass, Reach]:
        """Per action class the plugin can use, what its tools of that class reach together, over all connectors."""
        parts: dict[ActionClass, list[tuple[str, ToolReach]]] = {}
        for cid, t in self.tools(include_gated=include_gated):
            parts.setdefault(t.tool.action, []).append((cid, t.reach))
        return {a: union_reach(parts[a], action=a) for a in sorted(parts)}

    def total(self, *, include_gated: bool = True) -> Reach:
        """What all the tools that can run reach together: the plugin's reach."""
        return union_reach((cid, t.reach) for cid, t in self.tools(include_gated=include_gated))


def plugin_reach(
    inventory: Inventory,
    plugin: str | Plugin,
    *,
    reach_of: Callable[[Connector, Tool], ToolReach] | None = None,
) -> PluginReach:
    """What ``plugin`` reaches, action by action: the reference computation.

    For each connector the plugin lists and each action class among its
    tools, every tool's status (:func:`tool_status`) and reach
    (:func:`tool_reach` over the connector's system), grouped into an
    :class:`ActionReach`. A connector listed twice offers its tools twice.
    ``reach_of(connector, tool)`` replaces :func:`tool_reach` by an equal,
    faster one (``ScopeIndex.tool_reach``, as :class:`~blastradius.analysis.Analysis` does).

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the inventory.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> r = plugin_reach(inv, "renewal-campaigns")
    >>> send = r.by_action()[ActionClass.SEND]
    >>> sorted(send.people_groups)
    ['external-correspondents', 'm365-employees', 'renewal-contacts-2026']
    >>> send.people, send.unknown_people
    (6310, 1)
    """
    p = inventory.require("plugin", plugin) if isinstance(plugin, str) else plugin
    listed: dict[str, int] = {}
    for cid in p.connector_ids:
        listed[cid] = listed.get(cid, 0) + 1
    actions = []
    for cid in sorted(listed):
        conn = inventory.connector_by_id[cid]
        system = conn.system or ""
        datasets = inventory.datasets_by_system.get(system, ())
        people = inventory.people_by_system.get(system, ())
        by_class: dict[ActionClass, list[ToolAccess]] = {}
        for _ in range(listed[cid]):
            for tool in conn.tools:
                status, reason = tool_status(p, conn, tool)
                if status not in USABLE:
                    reach = ToolReach(datasets=(), people=())
                elif reach_of is not None:
                    reach = reach_of(conn, tool)
                else:
                    reach = tool_reach(conn, tool, datasets, people)
                by_class.setdefault(tool.action, []).append(
                    ToolAccess(tool=tool, status=status, reason=reason, reach=reach)
                )
        for action in sorted(by_class, key=lambda a: a.value):
            tools = tuple(by_class[action])
            first = min(tools, key=lambda t: STATUS_ORDER.index(t.status))
            actions.append(
                ActionReach(
                    plugin=p.id,
                    connector=cid,
                    system=conn.system,
                    action=action,
                    tools=tools,
                    status=first.status,
                    reason=first.reason,
                )
            )
    return PluginReach(plugin=p.id, actions=tuple(actions))


# ---------------------------------------------------------------------------
# The fast path: every tool of an inventory, each connector's scope applied once
# ---------------------------------------------------------------------------

_CLASSIFICATIONS = tuple(Classification)
_RANK = {c: i for i, c in enumerate(_CLASSIFICATIONS)}
_MISSING = object()
_V = TypeVar("_V")


class ConnectorCache(dict[Hashable, _V]):
    """What an analysis derived per connector, keyed by the connector's id or a tuple that starts with it.

    A what-if changes a few connectors at most: the cache of its analysis
    (:meth:`derived`) holds what it computes itself and reads every other
    entry through from the cache it was derived from, for connectors the two
    inventories share unchanged (the same record). Only :meth:`get` reads
    through: the caches here are read with it.

    Examples
    --------
    >>> base = ConnectorCache({("crm", "query"): 1, ("email", "send"): 2})
    >>> what_if = base.derived(changed={"email"})
    >>> what_if.get(("crm", "query")), what_if.get(("email", "send"))
    (1, None)
    """

    __slots__ = ("_changed", "_parent")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parent: ConnectorCache[_V] | None = None
        self._changed: Collection[str] = ()

    def get(self, key: Hashable, default: Any = None) -> Any:
        hit = dict.get(self, key, _MISSING)
        if hit is not _MISSING:
            return hit
        if self._parent is not None and (key if isinstance(key, str) else key[0]) not in self._changed:  # type: ignore[index]
            return self._parent.get(key, default)
        return default

    def derived(self, *, changed: Collection[str]) -> ConnectorCache[_V]:
        """An empty cache reading through to this one, except for the connectors ``changed`` (their ids)."""
        out: ConnectorCache[_V] = ConnectorCache()
        out._parent, out._changed = self, frozenset(changed)
        return out


def changed_connectors(before: Inventory, after: Inventory) -> frozenset[str]:
    """Ids of the connectors that are not the same record in both inventories (changed, added or removed)."""
    if before.connectors is after.connectors:
        return frozenset()
    old, new = before.connector_by_id, after.connector_by_id
    return frozenset([c.id for c in after.connectors if old.get(c.id) is not c] + [i for i in old if i not in new])


class _SystemDatasets:
    """A system's datasets as plain columns, each dataset read once: ids, tables, sizes, classification.

    ``keys`` number the datasets from ``first``: unique within the inventory
    when each system starts where the previous one ended. Column names are
    read in the same pass when ``names`` (some connector to the system denies
    columns), else when first asked for.
    """

    def __init__(self, datasets: tuple[Dataset, ...], first: int, *, names: bool):
        ids, tables, records, classes = [], [], [], []
        column_names = []
        for d in datasets:
            ids.append(d.id)
            tables.append(d.table or d.id)
            records.append(d.records)
            columns = d.columns
            if names:
                column_names.append(tuple([c.name for c in columns]))
            rank = max([_RANK[c.classification] for c in columns], default=-1)
            if d.classification is not None:
                rank = max(rank, _RANK[d.classification])
            classes.append(_CLASSIFICATIONS[rank] if rank >= 0 else Classification.INTERNAL)
        self.datasets = datasets
        self.ids = tuple(ids)
        self.keys = tuple(range(first, first + len(datasets)))
        self.tables = tuple(tables)
        self.records = tuple(records)
        self.size_known = tuple(n is not None for n in records)
        self.classification = tuple(classes)  # with nothing masked: ``effective_classification()``
        self._names = tuple(column_names) if names else None

    @property
    def column_names(self) -> tuple[tuple[str, ...], ...]:
        if self._names is None:
            self._names = tuple(tuple([c.name for c in d.columns]) for d in self.datasets)
        return self._names


class _SystemTables:
    """Each system's datasets as columns (:class:`_SystemDatasets`), built once per system on first use and shared
    by the scope indexes of what-ifs that keep the inventory's datasets (:meth:`ScopeIndex.derived`)."""

    def __init__(self, inventory: Inventory):
        self.inventory = inventory
        self._next_key = 0
        self._denying: set[str] | None = None
        self._systems: dict[str, _SystemDatasets] = {}

    def system(self, system: str) -> _SystemDatasets:
        hit = self._systems.get(system)
        if hit is None:
            if self._denying is None:  # systems some connector masks columns of: their names are read at once
                self._denying = {c.system or "" for c in self.inventory.connectors if c.denied_columns}
            datasets = self.inventory.datasets_by_system.get(system, ())
            hit = _SystemDatasets(datasets, self._next_key, names=system in self._denying)
            self._systems[system] = hit
            self._next_key += len(hit.ids)
        return hit


@dataclass(frozen=True, kw_only=True)
class ScopedDatasets:
    """The datasets of a connector's system that its scope lets through, in system order.

    Allowed tables select them and fully masked ones are left out; each is
    one entry of these parallel columns. A tool of the connector touches
    some of them, chosen by its targets (:meth:`ScopeIndex.selection`).
    ``records`` is a dataset's size (what a write touches), ``read_records``
    what one read returns (capped by the row limit; the row limit for a
    dataset of unknown size), None when nothing bounds it.
    """

    connector: str
    ids: tuple[str, ...]
    keys: tuple[int, ...]  # a number unique to each dataset of the inventory (for vectorised unions)
    tables: tuple[str, ...]
    records: tuple[int | None, ...]
    read_records: tuple[int | None, ...]
    size_known: tuple[bool, ...]
    classification: tuple[Classification, ...]
    masked_columns: tuple[tuple[str, ...], ...]

    def scope(self, i: int, *, read: bool) -> DatasetScope:
        """Entry ``i`` as the :class:`DatasetScope` a read (or another action) sees."""
        return DatasetScope(
            dataset=self.ids[i],
            records=(self.read_records if read else self.records)[i],
            size_known=self.size_known[i],
            classification=self.classification[i],
            masked_columns=self.masked_columns[i],
        )


class ScopeIndex:
    """What every tool of one inventory touches, with each connector's scope applied once.

    An :class:`~blastradius.analysis.Analysis` builds one and keeps it (``Analysis.scope``).
    Connectors are scoped lazily, the first time one of their tools is asked
    about. :meth:`tool_reach` equals :func:`tool_reach` over the connector's
    system; a connector or tool that is not the inventory's own record (a
    what-if copy) is computed afresh, never taken from the cache.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> conn = inv.connector_by_id["finance-warehouse"]
    >>> query = conn.tools[0]
    >>> direct = tool_reach(conn, query, inv.datasets_by_system["snowflake"], inv.people_by_system["snowflake"])
    >>> ScopeIndex(inv).tool_reach(conn, query) == direct
    True
    """

    def __init__(self, inventory: Inventory):
        self.inventory = inventory
        self._connectors = inventory.connector_by_id
        self._tables = _SystemTables(inventory)
        self._scoped: ConnectorCache[ScopedDatasets] = ConnectorCache()
        # (connector id, tool) -> (tool, positions, people groups)
        self._selections: ConnectorCache[tuple[Tool, tuple[int, ...], tuple[PeopleGroup, ...]]] = ConnectorCache()
        self._reach: ConnectorCache[tuple[Tool, ToolReach]] = ConnectorCache()  # (connector id, tool)
        # (connector id, read) -> the DatasetScope of each position, built on demand
        self._scopes: ConnectorCache[list[DatasetScope | None]] = ConnectorCache()

    def derived(self, inventory: Inventory) -> ScopeIndex:
        """The index of ``inventory``, a what-if of this one with the same datasets and people, sharing what
        it can: each system's datasets, and the scope of every connector both inventories hold unchanged.

        Raises
        ------
        ValueError
            ``inventory`` has other datasets or people: nothing could be shared.
        """
        if inventory.datasets is not self.inventory.datasets or inventory.people is not self.inventory.people:
            raise ValueError("a derived scope index needs the same datasets and people")
        changed = changed_connectors(self.inventory, inventory)
        out = ScopeIndex.__new__(ScopeIndex)
        out.inventory = inventory
        out._connectors = inventory.connector_by_id
        out._tables = self._tables
        out._scoped = self._scoped.derived(changed=changed)
        out._selections = self._selections.derived(changed=changed)
        out._reach = self._reach.derived(changed=changed)
        out._scopes = self._scopes.derived(changed=changed)
        return out

    def owns(self, connector: Connector) -> bool:
        """Whether ``connector`` is the inventory's own record (what-if copies are computed afresh, never cached)."""
        return self._connectors.get(connector.id) is connector

    def _system(self, system: str) -> _SystemDatasets:
        return self._tables.system(system)

    def scoped(self, connector: Connector) -> ScopedDatasets:
        """The datasets ``connector``'s scope lets through (allowed tables, not fully masked), scoped once."""
        if self.owns(connector):
            hit = self._scoped.get(connector.id)
            if hit is None:
                hit = self._scoped[connector.id] = self._build_scoped(connector)
            return hit
        return self._build_scoped(connector)

    def _build_scoped(self, connector: Connector) -> ScopedDatasets:
        sys = self._system(connector.system or "")
        allowed = None if connector.allowed_tables is None else frozenset(connector.allowed_tables)
        denied = frozenset(connector.denied_columns)
        limit = connector.row_limit
        if allowed is None:
            keep: range | list[int] = range(len(sys.ids))
        else:
            keep = [i for i, table in enumerate(sys.tables) if table in allowed]
        masks: dict[int, tuple[str, ...]] = {}
        if denied:
            names = sys.column_names
            for i in keep:
                if not denied.isdisjoint(names[i]):
                    masks[i] = tuple(n for n in names[i] if n in denied)
            if masks:  # a fully masked dataset leaves the scope: nothing of it is readable
                keep = [i for i in keep if i not in masks or len(masks[i]) < len(names[i])]
        if isinstance(keep, range):  # every dataset of the system, nothing masked
            ids, keys, tables, records, known = sys.ids, sys.keys, sys.tables, sys.records, sys.size_known
            classes = sys.classification
            masked_columns: tuple[tuple[str, ...], ...] = ((),) * len(ids)
        else:
            ids = tuple(sys.ids[i] for i in keep)
            keys = tuple(sys.keys[i] for i in keep)
            tables = tuple(sys.tables[i] for i in keep)
            records = tuple(sys.records[i] for i in keep)
            known = tuple(sys.size_known[i] for i in keep)
            classes = tuple(
                sys.classification[i] if i not in masks else sys.datasets[i].effective_classification(denied)
                for i in keep
            )
            masked_columns = tuple(masks.get(i, ()) for i in keep)
        if limit is None:
            read_records = records
        else:
            read_records = tuple(limit if n is None else min(n, limit) for n in records)
        return ScopedDatasets(
            connector=connector.id,
            ids=ids,
            keys=keys,
            tables=tables,
            records=records,
            read_records=read_records,
            size_known=known,
            classification=classes,
            masked_columns=masked_columns,
        )

    def selection(self, connector: Connector, tool: Tool) -> tuple[tuple[int, ...], tuple[PeopleGroup, ...]]:
        """Which of :meth:`scoped` ``tool`` touches (positions, in system order), and the people groups it touches.

        The same choice as :func:`tool_reach`: nothing for a write on a
        read-only connector, no tables for a send or share without targets.
        """
        key = (connector.id, tool.name)
        hit = self._selections.get(key)
        if hit is not None and hit[0] is tool and self.owns(connector):
            return hit[1], hit[2]
        people = self.inventory.people_by_system.get(connector.system or "", ())
        if tool.action is not ActionClass.READ and connector.is_read_only:
            positions: tuple[int, ...] = ()
            groups: tuple[PeopleGroup, ...] = ()
        else:
            scoped = self.scoped(connector)
            targets = None if tool.targets is None else frozenset(tool.targets)
            if is_recipient_action(tool.action) and targets is None:
                positions = ()
            elif targets is None:
                positions = tuple(range(len(scoped.ids)))
            else:
                positions = tuple(i for i, table in enumerate(scoped.tables) if table in targets)
            if is_recipient_action(tool.action):
                groups = tuple(g for g in people if targets is None or g.id in targets)
            else:  # the people whose records it reaches; a tool of unknown action may address any it targets too
                reachable = {scoped.ids[i] for i in positions}
                unknown = tool.action is ActionClass.UNKNOWN
                groups = tuple(
                    g
                    for g in people
                    if (g.dataset is not None and g.dataset in reachable)
                    or (unknown and (targets is None or g.id in targets))
                )
        if self._own_tool(connector, tool):
            self._selections[key] = (tool, positions, groups)
        return positions, groups

    def _own_tool(self, connector: Connector, tool: Tool) -> bool:
        """Whether ``tool`` is a tool record of the inventory's own ``connector`` (only those are kept)."""
        return self.owns(connector) and any(t is tool for t in connector.tools)

    def dataset_scopes(self, connector: Connector, positions: Iterable[int], *, read: bool) -> tuple[DatasetScope, ...]:
        """Entries ``positions`` of :meth:`scoped` as :class:`DatasetScope` records, each built once per connector
        and action kind."""
        scoped = self.scoped(connector)
        if not self.owns(connector):
            return tuple(scoped.scope(i, read=read) for i in positions)
        read = read and scoped.read_records != scoped.records  # the same scope when no row limit applies
        built = self._scopes.get((connector.id, read))
        if built is None:
            built = self._scopes[(connector.id, read)] = [None] * len(scoped.ids)
        out = []
        for i in positions:
            s = built[i]
            if s is None:
                s = built[i] = scoped.scope(i, read=read)
            out.append(s)
        return tuple(out)

    def tool_reach(self, connector: Connector, tool: Tool) -> ToolReach:
        """What ``tool`` of ``connector`` touches: :func:`tool_reach` over the connector's system."""
        key = (connector.id, tool.name)
        hit = self._reach.get(key)
        if hit is not None and hit[0] is tool and self.owns(connector):
            return hit[1]
        positions, groups = self.selection(connector, tool)
        read = tool.action is ActionClass.READ
        reach = ToolReach(datasets=self.dataset_scopes(connector, positions, read=read), people=groups)
        if self._own_tool(connector, tool):
            self._reach[key] = (tool, reach)
        return reach
