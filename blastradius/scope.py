"""What one tool of one connector can touch, once the connector's scope is applied.

The connector, not the prompt, is the security boundary (DOMAIN.md D6): these
functions decide, for a tool used by a plugin, whether it can run at all
(blocked, gated, unusable on a read-only connector) and which datasets and
people it reaches after allowed tables, denied columns and the row limit.
They take model records and return plain values; the graph and every analysis
call them so that a reach figure is computed in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from enum import StrEnum

from blastradius.model import (
    SENSITIVE_CLASSIFICATIONS,
    ActionClass,
    Classification,
    Connector,
    Dataset,
    PeopleGroup,
    Plugin,
    Tool,
)

__all__ = [
    "DatasetScope",
    "ToolReach",
    "ToolStatus",
    "datasets_in_scope",
    "people_in_scope",
    "tool_reach",
    "tool_status",
]


class ToolStatus(StrEnum):
    """Whether a plugin can run a tool, and with whom in the loop (D4)."""

    UNGATED = "ungated"  # runs with no human
    GATED = "gated"  # a human approves each call
    BLOCKED = "blocked"  # the plugin must never call it
    UNUSABLE = "unusable"  # a write tool on a read-only connector


@lru_cache(maxsize=4096)
def _selector_set(selectors: tuple[str, ...]) -> frozenset[str]:
    return frozenset(selectors)


def _selected(selectors: tuple[str, ...], connector: Connector, tool: Tool) -> str | None:
    """The selector naming this tool (its action class, ``conn.tool`` or ``conn.*``), if any."""
    if not selectors:
        return None
    names = _selector_set(selectors)
    for candidate in (tool.action.value, f"{connector.id}.{tool.name}", f"{connector.id}.*"):
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
    blocked = _selected(plugin.blocked, connector, tool)
    if blocked:
        return ToolStatus.BLOCKED, f"plugin '{plugin.id}' blocks '{blocked}'"
    for pc in plugin.connectors:
        if pc.connector == connector.id and pc.tools is not None and tool.name not in pc.tools:
            return ToolStatus.BLOCKED, f"plugin '{plugin.id}' is not given tool '{tool.name}' of '{connector.id}'"
    if tool.action is not ActionClass.READ and connector.is_read_only:
        return ToolStatus.UNUSABLE, f"connector '{connector.id}' is read-only"
    if connector.requires_approval:
        return ToolStatus.GATED, f"connector '{connector.id}' requires approval for every call"
    gated = _selected(plugin.requires_approval, connector, tool)
    if gated:
        return ToolStatus.GATED, f"plugin '{plugin.id}' requires approval for '{gated}'"
    return ToolStatus.UNGATED, "no approval gate"


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
    >>> data = [Dataset(id="deals", records=5000, columns={"amount": "financial"}),
    ...         Dataset(id="payroll", records=4000, columns={"ssn": "pii"})]
    >>> [(s.dataset, s.records) for s in datasets_in_scope(conn, q, data)]
    [('deals', 100)]
    """
    if tool.action in (ActionClass.SEND, ActionClass.SHARE) and tool.targets is None:
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


def people_in_scope(
    tool: Tool, people: Iterable[PeopleGroup], reachable_datasets: Iterable[str]
) -> list[PeopleGroup]:
    """People groups ``tool`` touches.

    A ``send``/``share`` tool addresses the system's people groups (or the ones
    it targets), and so, conservatively, may a tool of unknown action; any
    other tool touches the people whose records sit in a dataset it can reach.
    """
    reachable = set(reachable_datasets)
    if tool.action in (ActionClass.SEND, ActionClass.SHARE, ActionClass.UNKNOWN):
        return [g for g in people if _targeted(tool, g.id)]
    return [g for g in people if g.dataset is not None and g.dataset in reachable]


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
