"""Blast-radius scores: capability × reach × autonomy per action, summed per plugin (D1, D2, D5).

For every plugin, its actions are grouped by connector and action class (two
read tools of one connector touching the same tables are one way to read, not
two). Each action gets

- a **capability**: the impact weight of its action class, raised for high
  fan-out and for effects that leave the organisation, lowered for
  soft-delete/staged effects;
- a **reach**: the records and people it can touch after the connector's scope,
  on a log scale (``log10(1 + weighted records) + log10(1 + weighted people)``);
- an **autonomy**: 1 with no human in the loop, the gate's miss rate when a
  human approves each call, 0 when blocked.

Non-read actions make up the *wrong action* class; reads of sensitive data
make up *data leakage*, scaled by the plugin's way out; the plugin's output,
by its audience and review tier, makes up *wrong output*. A plugin that takes
in untrusted content (:func:`blastradius.domain.untrusted_inputs`) meets
injected instructions: its wrong-action and data-leakage terms count
``untrusted_input_factor`` times. The blast radius is the sum of the three.
Every number comes from :class:`Weights` (``data/weights.yaml``), never from
code; docs/scoring.md explains them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.domain import NO_WAY_OUT, is_channel_out, most_open_way_out, untrusted_inputs
from blastradius.domain import is_high_impact as _is_high_impact
from blastradius.model import (
    SENSITIVE_CLASSIFICATIONS,
    ActionClass,
    Connector,
    Inventory,
    OutputDestination,
    PeopleGroup,
    Plugin,
    Reversibility,
    Tool,
)
from blastradius.reach import (
    STATUS_ORDER,
    USABLE,
    ConnectorCache,
    DatasetScope,
    ScopedDatasets,
    ScopeIndex,
    ToolReach,
    ToolStatus,
    tool_status,
    tool_statuses,
)
from blastradius.settings import Weights, default_weights, load_weights

__all__ = [
    "FAILURE_CLASSES",
    "NO_WAY_OUT",
    "ActionScore",
    "OutputScore",
    "PluginScore",
    "Scorer",
    "Weights",
    "action_scores",
    "default_weights",
    "is_high_impact",
    "load_weights",
    "score_plugin",
    "score_plugins",
]


#: The failure classes of DOMAIN.md D5 that a single run can cause.
FAILURE_CLASSES = ("wrong_action", "data_leakage", "wrong_output")


def is_high_impact(tool: Tool, *, weights: Weights) -> bool:
    """:func:`blastradius.domain.is_high_impact` with the bulk-write threshold of ``weights``."""
    return _is_high_impact(tool, bulk_write_fan_out=weights.bulk_write_fan_out)


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ActionScore:
    """One action of a plugin: an action class through one connector, with its three factors.

    ``tools`` are the ones it can use (``unavailable_tools`` are blocked, not
    given, or need write access the connector lacks). ``status`` is that of its
    least restricted tool; ``autonomy`` for reads
    includes the plugin's way out (see module docs). ``reach_records``,
    ``sensitive_records``, ``reach_people`` and ``external_people`` are the
    figures of :class:`blastradius.reach.Reach`: what the inventory bounds,
    with datasets and people groups of unknown size counted in ``unknowns``
    (only the ``reach`` term uses conservative stand-ins for them).
    """

    plugin: str
    connector: str
    system: str | None
    action: ActionClass
    tools: tuple[str, ...]
    unavailable_tools: tuple[str, ...]
    status: ToolStatus
    reason: str
    failure_class: str
    capability: float
    reach_records: int
    reach_people: int
    sensitive_records: int
    external_people: int
    reach: float
    autonomy: float
    blast_radius: float
    high_impact: bool
    irreversible: bool
    leaves_org: bool
    fan_out: int
    channel_out: bool = False  # some usable tool is a channel out of the organisation (blastradius.domain)
    gate_autonomy: float = 0.0  # its own gates' autonomy, before the way out (``autonomy`` of a non-read)
    unbounded_datasets: int = 0  # datasets of unknown size nothing bounds: ``reach_records`` is then a lower bound
    listed_capability: float = 0.0  # the highest capability of its tools, whatever their status
    untrusted_factor: float = 1.0  # the plugin's untrusted-input factor: ``blast_radius`` is the product of all four
    datasets: tuple[DatasetScope, ...] = ()
    people_groups: tuple[str, ...] = ()
    unknowns: int = 0


@dataclass(frozen=True, kw_only=True)
class OutputScore:
    """The plugin's output as a failure path: who reads it and who reviews it first."""

    plugin: str
    destination: OutputDestination
    audience: int
    audience_known: bool
    review_tier: int | None
    capability: float
    reach: float
    autonomy: float
    blast_radius: float


@dataclass(frozen=True, kw_only=True)
class PluginScore:
    """All of one plugin's actions and output, with the totals per failure class.

    ``untrusted_inputs`` are the usable tools through which it takes in
    untrusted content (:func:`blastradius.domain.untrusted_inputs`); while
    there is one, ``untrusted_factor`` is the weights'
    ``untrusted_input_factor`` and multiplies every action's blast radius
    (wrong action and data leakage, not its output), else it is 1.
    """

    plugin: str
    actions: tuple[ActionScore, ...]
    output: OutputScore
    way_out: str
    by_class: Mapping[str, float] = field(default_factory=dict)
    untrusted_inputs: tuple[str, ...] = ()
    untrusted_factor: float = 1.0

    @property
    def blast_radius(self) -> float:
        return sum(self.by_class.values())


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------


def _log_reach(records: float, people: float) -> float:
    return math.log10(1 + records) + math.log10(1 + people)


def _capability(tool: Tool, connector: Connector, weights: Weights) -> float:
    base = weights.action_weights[tool.action]
    if tool.action is ActionClass.READ:
        return base
    base *= weights.reversibility[tool.reversibility]
    base *= 1 + weights.fan_out_slope * math.log10(tool.fan_out)
    leaves = connector.leaves_org_for(tool)
    return base * (weights.leaves_org if leaves else 1.0)


def _autonomy(status: ToolStatus, weights: Weights) -> float:
    return {ToolStatus.UNGATED: 1.0, ToolStatus.GATED: weights.gate_miss_rate}.get(status, 0.0)


_ALL_TOOLS = (None,)  # a connector listed once, with all its tools
_STATUS_ORDER = STATUS_ORDER
_USABLE = USABLE

# The records below are private to scoring and never changed once built; they are not frozen because
# building a frozen dataclass costs several times more, and scoring a large inventory builds thousands.


@dataclass(kw_only=True, eq=False)
class _GroupReach:
    """What one action of a connector reaches and can do: the same for every plugin.

    One action is some of the connector's tools, of one action class.

    Datasets and people are kept in the order the tools first reach them,
    which is the order the weighted sums add them in; the sorted tuples an
    :class:`ActionScore` shows are built when first asked for.
    """

    index: ScopeIndex = field(repr=False)
    connector: Connector
    read: bool
    positions: tuple[int, ...]  # in ``index.scoped(connector)``
    people_list: tuple[PeopleGroup, ...]
    records: int
    people: int
    sensitive_records: int
    external_people: int
    reach: float
    unknowns: int
    datasets_unknown: int
    datasets_unbounded: int
    dataset_keys: tuple[int, ...]  # ``ScopedDatasets.keys``: unique to each dataset
    dataset_records: tuple[float, ...]  # records touched at this scope (for reads: row-capped), inf when unbounded
    dataset_sensitive: tuple[bool, ...]
    dataset_unknown: tuple[bool, ...]
    capability: float
    high_impact: bool
    irreversible: bool
    leaves_org: bool
    fan_out: int
    failure_class: str
    channel_out: bool

    @cached_property
    def datasets(self) -> tuple[DatasetScope, ...]:
        ids = self.index.scoped(self.connector).ids
        return self.index.dataset_scopes(self.connector, sorted(self.positions, key=ids.__getitem__), read=self.read)

    @cached_property
    def people_groups(self) -> tuple[str, ...]:
        return tuple(sorted(g.id for g in self.people_list))


@dataclass(kw_only=True, eq=False)
class _DatasetTerms:
    """Per dataset a connector's scope lets through, what it adds to an action's reach, for reads or other actions.

    Records carry the unknown-size stand-in; ``weighted`` is records ×
    classification weight, ``weighted_read`` the same for sensitive datasets
    and 0.0 for the others (a read leaks only sensitive data; adding 0.0
    leaves a sum unchanged), ``sensitive_records`` likewise.
    """

    keys: tuple[int, ...]
    records: tuple[int, ...]  # bounded records; 0 where unbounded (counted in ``unbounded``)
    widths: tuple[float, ...]  # records, inf where unbounded: orders scopes of one dataset
    sensitive: tuple[bool, ...]
    sensitive_records: tuple[int, ...]
    weighted: tuple[float, ...]  # with the stand-in for unbounded sizes
    weighted_read: tuple[float, ...]
    unknown: tuple[bool, ...]

    @classmethod
    def of(cls, scoped: ScopedDatasets, *, read: bool, w: Weights) -> _DatasetTerms:
        stand_in = w.unknown_dataset_records
        sizes = scoped.read_records if read else scoped.records
        records = tuple(0 if n is None else n for n in sizes)
        weight = {c: w.classification_weights[c] for c in set(scoped.classification)}
        sensitive = tuple(c in SENSITIVE_CLASSIFICATIONS for c in scoped.classification)
        # a size not given counts as the stand-in; a row limit above it does not make the table larger
        weighted = tuple(
            (stand_in if n is None or (not known and n > stand_in) else n) * weight[c]
            for n, known, c in zip(sizes, scoped.size_known, scoped.classification, strict=True)
        )
        return cls(
            keys=scoped.keys,
            records=records,
            widths=tuple(math.inf if n is None else float(n) for n in sizes),
            sensitive=sensitive,
            sensitive_records=tuple(n if s else 0 for n, s in zip(records, sensitive, strict=True)),
            weighted=weighted,
            weighted_read=tuple(x if s else 0.0 for x, s in zip(weighted, sensitive, strict=True)),
            unknown=tuple(not k for k in scoped.size_known),
        )


def _pick(positions: tuple[int, ...]) -> Any:
    """A function taking these positions of a tuple, as a tuple (however many there are)."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if positions:
        i = positions[0]
        return lambda values: (values[i],)
    return lambda values: ()


def _group_reach(
    index: ScopeIndex, terms: Any, connector: Connector, action: ActionClass, tools: tuple[Tool, ...], w: Weights
) -> _GroupReach:
    """Datasets (each at the connector's scope) and people the ``tools`` reach together, their weighted reach,
    and what the tools can do (capability, high impact ...).

    ``terms(connector, read)`` gives the connector's :class:`_DatasetTerms`. Sums run
    over datasets and people in the order the tools first reach them.
    """
    selections = [index.selection(connector, t) for t in tools]
    if len(selections) == 1:
        positions, people = selections[0]
    else:
        positions = tuple(dict.fromkeys(i for sel, _ in selections for i in sel))
        people = tuple({g.id: g for _, groups in selections for g in groups}.values())
    read = action is ActionClass.READ
    if positions:
        t: _DatasetTerms = terms(connector, read)
        pick = _pick(positions)
        records, widths, sensitive, unknown = pick(t.records), pick(t.widths), pick(t.sensitive), pick(t.unknown)
        sensitive_records = sum(pick(t.sensitive_records))
        weighted = sum(pick(t.weighted_read if read else t.weighted))
        dataset_keys = pick(t.keys)
    else:
        records, widths, sensitive, unknown, dataset_keys = (), (), (), (), ()
        sensitive_records, weighted = 0, 0
    stand_in = w.unknown_people_count
    counts = [g.count if g.count is not None else stand_in for g in people]  # stand-ins: the reach term only
    known = [g.count if g.count is not None else 0 for g in people]
    external = [g.is_external for g in people]
    internal_weight, external_weight = w.people_weights["internal"], w.people_weights["external"]
    if read and people:  # a read leaks only sensitive data: the people of the sensitive tables it reads
        ids = index.scoped(connector).ids
        leaky = {ids[i] for i, s in zip(positions, sensitive, strict=True) if s}
        term = [g.dataset in leaky for g in people]
    else:
        term = [True] * len(people)
    weighted_people = sum(
        n * (external_weight if e else internal_weight)
        for n, e, counted in zip(counts, external, term, strict=True)
        if counted
    )
    return _GroupReach(
        index=index,
        connector=connector,
        read=read,
        positions=positions,
        people_list=people,
        records=sum(records),
        people=sum(known),
        sensitive_records=sensitive_records,
        external_people=sum(n for n, e in zip(known, external, strict=True) if e),
        reach=_log_reach(weighted, weighted_people),
        unknowns=sum(unknown) + sum(g.count is None for g in people),
        datasets_unknown=sum(unknown),
        datasets_unbounded=sum(w == math.inf for w in widths),
        dataset_keys=dataset_keys,
        dataset_records=widths,
        dataset_sensitive=sensitive,
        dataset_unknown=unknown,
        capability=max([_capability(t, connector, w) for t in tools], default=0.0),
        high_impact=any(is_high_impact(t, weights=w) for t in tools),
        irreversible=not read and any(t.reversibility is Reversibility.IMMEDIATE for t in tools),
        leaves_org=any(connector.leaves_org_for(t) for t in tools),
        channel_out=any(is_channel_out(connector, t) for t in tools),
        fan_out=max([t.fan_out for t in tools], default=0),
        failure_class="data_leakage" if read else "wrong_action",
    )


@dataclass(kw_only=True, eq=False)
class _Action:
    """One action (connector × action class) as the plugin's settings for that connector leave it.

    Plugin-independent: every plugin that lists the connector with the same
    tool subset, blocks and approvals gets the same one. ``autonomy`` is
    before the way out.
    """

    connector: Connector
    action: ActionClass
    tools: tuple[Tool, ...]  # usable
    tool_names: tuple[str, ...]
    unavailable_tools: tuple[str, ...]
    status: ToolStatus
    status_tool: Tool  # the tool whose status (and reason) the action takes
    group: _GroupReach
    capability: float
    autonomy: float
    high_impact: bool
    irreversible: bool
    leaves_org: bool
    fan_out: int
    failure_class: str
    listed_capability: float  # the highest capability of its tools, whatever their status


@dataclass(kw_only=True, eq=False)
class _ConnectorUse:
    """A plugin's actions through one connector (sorted by action class), and its usable ways out, in tool order."""

    actions: tuple[_Action, ...]
    outward: tuple[tuple[float, str], ...]  # (autonomy, "connector.tool (status)")
    untrusted: tuple[str, ...]  # "connector.tool" of its usable tools that take in untrusted content
    _columns: tuple[tuple[Any, ...], ...] | None = field(default=None, repr=False)

    def columns(self) -> tuple[tuple[Any, ...], ...]:
        """Per action, what the score table reads (:data:`_COLUMNS`), each as a tuple in action order."""
        if self._columns is None:
            rows = [
                (
                    a.group.capability,
                    a.group.reach,
                    a.autonomy,
                    a.group.read,
                    _STATUS_ORDER.index(a.status),
                    a.group.high_impact,
                    bool(a.tools) and bool(a.group.positions or a.group.people_list),
                    a.connector.system or "",
                    a.group,
                    a.listed_capability,
                )
                for a in self.actions
            ]
            self._columns = tuple(zip(*rows, strict=True)) if rows else ((),) * len(_COLUMNS)
        return self._columns


#: What :meth:`_ConnectorUse.columns` holds, in order.
_COLUMNS = (
    "capability",
    "reach",
    "autonomy",
    "read",
    "status",
    "high_impact",
    "reaches",
    "system",
    "group",
    "listed",
)


@dataclass(kw_only=True, eq=False)
class _ConnectorPlan:
    """A connector's tools by action class (sorted by class), and its channels out with their labels per status."""

    actions: tuple[tuple[ActionClass, tuple[int, ...], Any], ...]  # class, its tools, a getter of their statuses
    outward: tuple[tuple[int, dict[ToolStatus, str]], ...]


@dataclass(kw_only=True, eq=False)
class _PluginUses:
    """A plugin's connector uses, by connector id, the autonomy and name of its most open way out, and its
    untrusted inputs with the factor they put on its actions."""

    uses: tuple[_ConnectorUse, ...]
    exfil: float
    way_out: str
    untrusted: tuple[str, ...]
    untrusted_factor: float


@dataclass(kw_only=True, eq=False)
class _PluginParts:
    """The figures of one plugin's score, before they are dressed as a :class:`PluginScore`."""

    plugin: Plugin
    actions: tuple[_Action, ...]  # by connector, then action class
    autonomy: tuple[float, ...]
    blast_radius: tuple[float, ...]
    way_out: str
    output: OutputScore
    by_class: dict[str, float]
    untrusted: tuple[str, ...]
    untrusted_factor: float


class _Shared:
    """What scoring one inventory with one set of weights computes once, for every :class:`Scorer` of that pair.

    Everything but the per-plugin entries is kept per connector (:class:`~blastradius.reach.ConnectorCache`),
    so that the scorer of a what-if (:meth:`derived`) reuses it for every connector it does not change.
    """

    def __init__(self, index: ScopeIndex):
        self.index = index
        self.groups: ConnectorCache[_GroupReach] = ConnectorCache()  # by connector, action class, usable tools
        self.terms: ConnectorCache[_DatasetTerms] = ConnectorCache()  # by connector, whether a read is row-capped
        # by connector, tool subsets and selectors naming its tools
        self.settings: ConnectorCache[_ConnectorUse] = ConnectorCache()
        self.uses: ConnectorCache[_ConnectorUse] = ConnectorCache()  # by connector and its tools' statuses
        self.actions: ConnectorCache[_Action] = ConnectorCache()  # by connector, action class, tools' statuses
        self.plans: ConnectorCache[_ConnectorPlan] = ConnectorCache()
        self.names: ConnectorCache[tuple[frozenset[str], frozenset[str]]] = ConnectorCache()
        self.plugin_uses: dict[str, _PluginUses] = {}
        self.scores: dict[str, PluginScore] = {}
        self.table: pd.DataFrame | None = None

    def derived(self, index: ScopeIndex, changed: frozenset[str]) -> _Shared:
        """The shared work of a what-if's scorer (``index``: its scope index): empty, reading through to this one
        for every connector not ``changed``; nothing per plugin is carried over."""
        out = _Shared(index)
        for name in ("groups", "terms", "settings", "uses", "actions", "plans", "names"):
            setattr(out, name, getattr(self, name).derived(changed=changed))
        return out


class Scorer:
    """Scores plugins of one analysis; what does not depend on the plugin is computed once.

    ``Scorer(analysis).plugin(plugin)`` is :func:`score_plugin` without
    re-validating weights or recomputing shared reach. Every scorer of the
    same :class:`~blastradius.analysis.Analysis` and weights shares that work
    (it is kept in the analysis), so :func:`score_plugins`, the rules, the
    levers and diff compute each connector's scope once between them (the
    simulation shares the same scope index through the analysis). This is the
    fast path of :mod:`blastradius.reach`: the figures of each action equal
    those of :func:`blastradius.reach.plugin_reach` (``tests/test_reach.py``).

    Parameters
    ----------
    source : Analysis or Inventory
        An inventory gets a fresh analysis of its own.
    weights : path, mapping or Weights, keyword-only, optional
        The analysis's own weights when omitted.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.analysis import Analysis
    >>> a = Analysis(load_inventory("inventories/acme"))
    >>> ps = Scorer(a).plugin(a.inventory.plugin_by_id["ap-autopilot"])
    >>> ps is Scorer(a).plugin(a.inventory.plugin_by_id["ap-autopilot"])
    True
    """

    def __init__(self, source: Analysis | Inventory, *, weights: WeightsLike = None):
        analysis = analysis_of(source)
        self.analysis = analysis
        self.inv = analysis.inventory
        self.w = analysis.weights if weights is None else load_weights(weights, inventory=analysis.inventory)
        self._shared = analysis.memo(("scores", self.w.model_dump_json()), lambda: _Shared(analysis.scope))

    def reach(self, connector: Connector, tool: Tool) -> ToolReach:
        """What ``tool`` of ``connector`` touches (:func:`blastradius.reach.tool_reach`), computed once."""
        return self._shared.index.tool_reach(connector, tool)

    def _own(self, connector: Connector) -> bool:
        """Whether ``connector`` is the inventory's own record: only what concerns those is kept and reused."""
        return self.inv.connector_by_id.get(connector.id) is connector

    def group_reach(self, connector: Connector, action: ActionClass, tools: tuple[Tool, ...]) -> _GroupReach:
        """Reach of one action (these usable tools of a connector): the same for every plugin, so computed once."""
        key = (connector.id, action, tuple(t.name for t in tools))
        own = self._own(connector) and all(any(t is u for u in connector.tools) for t in tools)
        cached = self._shared.groups.get(key) if own else None
        if cached is None:
            cached = _group_reach(self._shared.index, self._terms, connector, action, tools, self.w)
            if own:
                self._shared.groups[key] = cached
        return cached

    def _terms(self, connector: Connector, read: bool) -> _DatasetTerms:
        scoped = self._shared.index.scoped(connector)
        if not self._shared.index.owns(connector):
            return _DatasetTerms.of(scoped, read=read, w=self.w)
        read = read and scoped.read_records != scoped.records  # the same terms when no row limit applies
        key = (connector.id, read)
        terms = self._shared.terms.get(key)
        if terms is None:
            terms = self._shared.terms[key] = _DatasetTerms.of(scoped, read=read, w=self.w)
        return terms

    def way_out(self, plugin: Plugin, tools: Iterable[tuple[Connector, Tool, ToolStatus]]) -> tuple[float, str]:
        """Autonomy of the plugin's most open channel to the outside, and what it is."""
        outward = [
            (_autonomy(status, self.w), f"{conn.id}.{tool.name} ({status.value})")
            for conn, tool, status in tools
            if is_channel_out(conn, tool) and status in _USABLE
        ]
        return self._way_out(plugin, outward)

    def _way_out(self, plugin: Plugin, outward: Iterable[tuple[float, str]]) -> tuple[float, str]:
        way = most_open_way_out(
            plugin, outward, output_miss=self.w.review_miss(plugin.review_tier), no_way_out=self.w.leak_internal_factor
        )
        return way.share, way.label

    def _names(self, connector: Connector) -> tuple[frozenset[str], frozenset[str]]:
        """The selectors that can name a tool of ``connector`` (its tools' action classes, ``conn.tool``,
        ``conn.*``), and its tool names."""
        hit = self._shared.names.get(connector.id) if self._own(connector) else None
        if hit is None:
            tools = connector.tools
            cid = connector.id
            selectors = frozenset([*(t.action for t in tools), *(f"{cid}.{t.name}" for t in tools), f"{cid}.*"])
            hit = (selectors, frozenset([t.name for t in tools]))  # an action class is the string of its value
            if self.inv.connector_by_id.get(connector.id) is connector:
                self._shared.names[connector.id] = hit
        return hit

    def _plan(self, conn: Connector) -> _ConnectorPlan:
        plan = self._shared.plans.get(conn.id) if self._own(conn) else None
        if plan is None:
            by_action: dict[ActionClass, list[int]] = {}
            for i, tool in enumerate(conn.tools):
                by_action.setdefault(tool.action, []).append(i)
            plan = _ConnectorPlan(
                actions=tuple(
                    (a, tuple(idx), _pick(tuple(idx)))
                    for a, idx in sorted(by_action.items(), key=lambda kv: kv[0].value)
                ),
                outward=tuple(
                    (i, {s: f"{conn.id}.{t.name} ({s.value})" for s in _USABLE})
                    for i, t in enumerate(conn.tools)
                    if is_channel_out(conn, t)
                ),
            )
            if self.inv.connector_by_id.get(conn.id) is conn:
                self._shared.plans[conn.id] = plan
        return plan

    def _connector_use(self, plugin: Plugin, conn: Connector, listed: int) -> _ConnectorUse:
        """The plugin's actions through ``conn`` (listed ``listed`` times), shared by every plugin whose tools there
        have the same statuses."""
        statuses = tool_statuses(plugin, conn)
        key = (conn.id, listed, statuses)
        use = self._shared.uses.get(key) if self._own(conn) else None
        if use is None:
            plan = self._plan(conn)
            w = self.w
            use = _ConnectorUse(
                actions=tuple(
                    self._action(conn, action, idx, pick(statuses), listed) for action, idx, pick in plan.actions
                ),
                outward=tuple(
                    (_autonomy(statuses[i], w), labels[statuses[i]])
                    for i, labels in plan.outward
                    if statuses[i] in _USABLE
                ),
                untrusted=tuple(
                    untrusted_inputs((conn, t, s in _USABLE) for t, s in zip(conn.tools, statuses, strict=True))
                ),
            )
            if self.inv.connector_by_id.get(conn.id) is conn:
                self._shared.uses[key] = use
        return use

    def _action(
        self, conn: Connector, action: ActionClass, idx: tuple[int, ...], statuses: tuple[ToolStatus, ...], listed: int
    ) -> _Action:
        """The action of class ``action``: tools ``idx`` of ``conn``, whose statuses are ``statuses``."""
        key = (conn.id, action, listed, statuses)
        a = self._shared.actions.get(key) if self._own(conn) else None
        if a is not None:
            return a
        # a connector the plugin lists twice offers its tools twice
        items = [(conn.tools[i], s) for _ in range(listed) for i, s in zip(idx, statuses, strict=True)]
        usable = tuple(t for t, s in items if s in _USABLE)
        status_tool, status = min(items, key=lambda ts: _STATUS_ORDER.index(ts[1]))
        g = self.group_reach(conn, action, usable)
        autonomy = _autonomy(status, self.w)  # its least restricted tool's: the most autonomous
        if g.capability > 0:
            # a tool counts with its own gate: when the most capable tools are gated and a lesser one is not, the
            # action is as dangerous as its worst tool, capability x autonomy (so a gate never fails to lower it)
            worst = max(_capability(t, conn, self.w) * _autonomy(s, self.w) for t, s in items if s in _USABLE)
            if worst < g.capability * autonomy:
                autonomy = worst / g.capability
        a = _Action(
            connector=conn,
            action=action,
            tools=usable,
            tool_names=tuple(t.name for t in usable),
            unavailable_tools=tuple(t.name for t, s in items if s not in _USABLE),
            status=status,
            status_tool=status_tool,
            group=g,
            capability=g.capability,
            autonomy=autonomy,
            high_impact=g.high_impact,
            irreversible=g.irreversible,
            leaves_org=g.leaves_org,
            fan_out=g.fan_out,
            failure_class=g.failure_class,
            listed_capability=max(_capability(t, conn, self.w) for t, _ in items),
        )
        if self.inv.connector_by_id.get(conn.id) is conn:
            self._shared.actions[key] = a
        return a

    def _uses(self, plugin: Plugin) -> _PluginUses:
        """The plugin's connector uses, by connector id, and its most open way out."""
        shared = self._shared
        own = self.inv.plugin_by_id.get(plugin.id) is plugin
        if own and plugin.id in shared.plugin_uses:
            return shared.plugin_uses[plugin.id]
        listed: dict[str, list[tuple[str, ...] | None]] = {}
        for pc in plugin.connectors:
            listed.setdefault(pc.connector, []).append(pc.tools)
        blocked, gated = frozenset(plugin.blocked), frozenset(plugin.requires_approval)
        uses = []
        for cid, subsets in listed.items():
            conn = self.inv.connector_by_id[cid]
            selectors, names = self._names(conn)
            # what its tools' statuses depend on: the connector, the plugin's tool subsets, the selectors naming them
            given = (
                _ALL_TOOLS
                if subsets == [None]
                else tuple(None if s is None else names.intersection(s) for s in subsets)
            )
            key = (cid, given, blocked & selectors, gated & selectors)
            use = shared.settings.get(key)
            if use is None:
                use = shared.settings[key] = self._connector_use(plugin, conn, len(subsets))
            uses.append((cid, use))
        exfil, way_out = self._way_out(plugin, (o for _, use in uses for o in use.outward))
        # in the order the plugin lists its connectors, each once (blastradius.domain.untrusted_inputs)
        untrusted = tuple(dict.fromkeys(name for _, use in uses for name in use.untrusted))
        found = _PluginUses(
            uses=tuple(use for _, use in sorted(uses, key=lambda u: u[0])),
            exfil=exfil,
            way_out=way_out,
            untrusted=untrusted,
            untrusted_factor=self.w.untrusted_input_factor if untrusted else 1.0,
        )
        if own:
            shared.plugin_uses[plugin.id] = found
        return found

    def _parts(self, plugin: Plugin) -> _PluginParts:
        """The plugin's actions with their autonomy and blast radius, its way out, output and totals."""
        found = self._uses(plugin)
        exfil, factor = found.exfil, found.untrusted_factor
        actions, autonomy, blast = [], [], []
        by_class = dict.fromkeys(FAILURE_CLASSES, 0.0)
        for use in found.uses:
            for a in use.actions:  # wrong action and data leakage: untrusted input makes both likelier
                aut = a.autonomy * exfil if a.action is ActionClass.READ else a.autonomy
                b = a.capability * a.group.reach * aut * factor
                actions.append(a)
                autonomy.append(aut)
                blast.append(b)
                by_class[a.failure_class] += b
        output = self.output(plugin)
        by_class["wrong_output"] += output.blast_radius
        return _PluginParts(
            plugin=plugin,
            actions=tuple(actions),
            autonomy=tuple(autonomy),
            blast_radius=tuple(blast),
            way_out=found.way_out,
            output=output,
            by_class=by_class,
            untrusted=found.untrusted,
            untrusted_factor=factor,
        )

    def plugin(self, plugin: Plugin) -> PluginScore:
        own = self.inv.plugin_by_id.get(plugin.id) is plugin
        if own and plugin.id in self._shared.scores:
            return self._shared.scores[plugin.id]
        parts = self._parts(plugin)
        actions = tuple(
            ActionScore(
                plugin=plugin.id,
                connector=a.connector.id,
                system=a.connector.system,
                action=a.action,
                tools=a.tool_names,
                unavailable_tools=a.unavailable_tools,
                status=a.status,
                reason=tool_status(plugin, a.connector, a.status_tool)[1],
                failure_class=a.failure_class,
                capability=a.capability,
                reach_records=a.group.records,
                reach_people=a.group.people,
                sensitive_records=a.group.sensitive_records,
                external_people=a.group.external_people,
                reach=a.group.reach,
                autonomy=autonomy,
                blast_radius=blast,
                high_impact=a.high_impact,
                irreversible=a.irreversible,
                leaves_org=a.leaves_org,
                fan_out=a.fan_out,
                channel_out=a.group.channel_out,
                gate_autonomy=a.autonomy,
                unbounded_datasets=a.group.datasets_unbounded,
                listed_capability=a.listed_capability,
                untrusted_factor=parts.untrusted_factor,
                datasets=a.group.datasets,
                people_groups=a.group.people_groups,
                unknowns=a.group.unknowns,
            )
            for a, autonomy, blast in zip(parts.actions, parts.autonomy, parts.blast_radius, strict=True)
        )
        score = PluginScore(
            plugin=plugin.id,
            actions=actions,
            output=parts.output,
            way_out=parts.way_out,
            by_class=dict(parts.by_class),
            untrusted_inputs=parts.untrusted,
            untrusted_factor=parts.untrusted_factor,
        )
        if own:
            self._shared.scores[plugin.id] = score
        return score

    def output(self, plugin: Plugin) -> OutputScore:
        w = self.w
        external = plugin.output is OutputDestination.EXTERNAL
        audience = plugin.output_audience if plugin.output_audience is not None else w.unknown_output_audience
        capability = w.output_weight * (w.output_external if external else 1.0)
        reach = math.log10(1 + audience)
        autonomy = w.review_miss(plugin.review_tier)
        return OutputScore(
            plugin=plugin.id,
            destination=plugin.output,
            audience=audience,
            audience_known=plugin.output_audience is not None,
            review_tier=plugin.review_tier,
            capability=capability,
            reach=reach,
            autonomy=autonomy,
            blast_radius=capability * reach * autonomy,
        )

    def table(self) -> pd.DataFrame:
        """:func:`score_plugins` of the scorer's inventory and weights (a copy of a table computed once)."""
        if self._shared.table is None:
            self._shared.table = _score_table(self)
        return self._shared.table.copy()


def score_plugin(source: Analysis | Inventory, plugin: str, *, weights: WeightsLike = None) -> PluginScore:
    """Every action of one plugin with its three factors, and its totals per failure class.

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the inventory.
    """
    a = analysis_of(source, weights=weights)
    return Scorer(a).plugin(a.inventory.require("plugin", plugin))


def action_scores(source: Analysis | Inventory, *, weights: WeightsLike = None) -> list[PluginScore]:
    """:class:`PluginScore` of every plugin, in inventory order."""
    a = analysis_of(source, weights=weights)
    scorer = Scorer(a)
    return [scorer.plugin(p) for p in a.inventory.plugins]


#: Columns of :func:`score_plugins`, in order.
SCORE_COLUMNS = (
    "plugin",
    "name",
    "owner",
    "department",
    "capability",
    "reach_records",
    "reach_people",
    "autonomy",
    "blast_radius",
    "wrong_action",
    "data_leakage",
    "wrong_output",
    "sensitive_records",
    "external_people",
    "ungated_high_impact",
    "gated_actions",
    "blocked_actions",
    "way_out",
    "untrusted_inputs",
    "untrusted_factor",
    "unknowns",
    "unbounded_datasets",
    "users",
    "runs_per_day",
)


def _dataset_union(
    n: int, owners: list[int], groups: list[_GroupReach]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per owner (0..n-1), records, sensitive records, datasets of unknown size and unbounded datasets over the union
    of its groups.

    ``owners[k]`` owns ``groups[k]``. Each dataset counts once per owner, as
    :func:`blastradius.reach.union_reach` counts it: at its widest scope
    (unbounded ones add no records), and, when that is bounded, as sensitive
    records the most that a scope leaving it sensitive touches. All owners at once, as sorts
    over the concatenated datasets of every (owner, group) pair.
    """
    if not groups:
        return np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    slot_of: dict[int, int] = {}
    table: list[_GroupReach] = []
    slots = []
    for g in groups:
        slot = slot_of.get(id(g))
        if slot is None:
            slot = slot_of[id(g)] = len(table)
            table.append(g)
        slots.append(slot)
    sizes = np.fromiter((len(g.dataset_keys) for g in table), dtype=np.int64, count=len(table))
    rows_total = int(sizes.sum())
    index = np.fromiter(chain.from_iterable(g.dataset_keys for g in table), dtype=np.int64, count=rows_total)
    records = np.fromiter(chain.from_iterable(g.dataset_records for g in table), dtype=np.float64, count=rows_total)
    sensitive = np.fromiter(chain.from_iterable(g.dataset_sensitive for g in table), dtype=bool, count=rows_total)
    unknown = np.fromiter(chain.from_iterable(g.dataset_unknown for g in table), dtype=bool, count=rows_total)
    # rows of every pair, in pair order: pair k takes table rows start[slot k] .. + size[slot k]
    slot_of_pair = np.asarray(slots, dtype=np.int64)
    size = sizes[slot_of_pair]
    ends = np.cumsum(size)
    rows = np.repeat((np.cumsum(sizes) - sizes)[slot_of_pair] - (ends - size), size) + np.arange(
        int(ends[-1]) if len(ends) else 0
    )
    owner = np.repeat(np.asarray(owners, dtype=np.int64), size)
    key = owner * (int(index.max(initial=0)) + 1) + index[rows]
    rec = records[rows]  # inf: unbounded
    pick = _widest(key, rec)  # per owner and dataset, its widest scope
    who, widest = owner[pick], rec[pick]
    bounded = np.isfinite(widest)
    leaky = sensitive[rows] & np.isfinite(rec) & np.isin(key, key[pick][bounded])  # bounded at its widest
    spick = np.flatnonzero(leaky)[_widest(key[leaky], rec[leaky])]
    return (
        np.bincount(who[bounded], weights=widest[bounded], minlength=n),
        np.bincount(owner[spick], weights=rec[spick], minlength=n),
        np.bincount(who[unknown[rows[pick]]], minlength=n),
        np.bincount(who[~bounded], minlength=n),
    )


def _widest(key: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Positions of the widest entry of each distinct ``key`` (the first such on ties)."""
    order = np.lexsort((-width, key))
    key = key[order]
    first = np.empty(len(key), dtype=bool)
    first[:1] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    return order[first]


def _count(who: np.ndarray, values: Any, n: int) -> np.ndarray:
    """Whole numbers added up per ``who`` (0..n-1): exact, as long as each total stays below 2**53."""
    return np.bincount(who, weights=np.asarray(values, dtype=np.float64), minlength=n).astype(np.int64)


def _reach_totals(
    n: int, owner: np.ndarray, reaches: np.ndarray, systems: list[str], groups: list[_GroupReach], w: Weights
) -> dict[str, np.ndarray]:
    """Per plugin, what its usable actions reach together: records, sensitive records, people, external people,
    and datasets and people groups of unknown size.

    ``owner[k]`` is the plugin of action ``k``, ``reaches[k]`` whether it is
    usable and reaches anything, ``systems[k]`` the system it reaches and
    ``groups[k]`` its reach. Datasets and people of different
    systems are distinct, so a plugin's totals are sums over the systems it
    reaches: where one action reaches a system, that action's own totals;
    where several do, their union, computed once per distinct combination of
    actions (plugins share them).
    """
    totals = {
        k: np.zeros(n, dtype=np.int64)
        for k in (
            "records",
            "sensitive_records",
            "unknown_datasets",
            "unbounded_datasets",
            "people",
            "external_people",
            "unknown_people",
        )
    }
    rows = np.flatnonzero(reaches)
    if not len(rows):
        return totals
    code: dict[str, int] = {}
    system = np.fromiter((code.setdefault(systems[k], len(code)) for k in rows.tolist()), np.int64, len(rows))
    bucket = owner[rows] * len(code) + system
    _, where, size = np.unique(bucket, return_inverse=True, return_counts=True)
    alone = size[where] == 1
    one = [groups[k] for k in rows[alone].tolist()]
    who = owner[rows[alone]]
    for name, values in (
        ("records", [g.records for g in one]),
        ("sensitive_records", [g.sensitive_records for g in one]),
        ("unknown_datasets", [g.datasets_unknown for g in one]),
        ("unbounded_datasets", [g.datasets_unbounded for g in one]),
        ("people", [g.people for g in one]),
        ("external_people", [g.external_people for g in one]),
        ("unknown_people", [g.unknowns - g.datasets_unknown for g in one]),
    ):
        totals[name] += _count(who, values, n)
    # several actions reaching one system: their union, once per combination of actions
    together: dict[int, list[_GroupReach]] = {}
    for k, b in zip(rows[~alone].tolist(), bucket[~alone].tolist(), strict=True):
        together.setdefault(b, []).append(groups[k])
    combos: dict[tuple[int, ...], int] = {}
    combo_groups: list[tuple[_GroupReach, ...]] = []
    owners_of: list[tuple[int, int]] = []
    for b, gs in together.items():
        key = tuple(id(g) for g in gs)
        if key not in combos:
            combos[key] = len(combo_groups)
            combo_groups.append(tuple(gs))
        owners_of.append((b // len(code), combos[key]))
    union = _dataset_union(
        len(combo_groups), [k for k, gs in enumerate(combo_groups) for _ in gs], [g for gs in combo_groups for g in gs]
    )
    records, sensitive, unknown, unbounded = (x.astype(np.int64) for x in union)
    people, external, unknown_people = [], [], []
    for members in combo_groups:
        groups_of = {p.id: p for g in members for p in g.people_list}.values()
        counts = [(p.count if p.count is not None else 0, p) for p in groups_of]
        people.append(sum(c for c, _ in counts))
        external.append(sum(c for c, p in counts if p.is_external))
        unknown_people.append(sum(p.count is None for p in groups_of))
    if owners_of:
        who, combo = (np.asarray(x, dtype=np.int64) for x in zip(*owners_of, strict=True))
        for name, column in (
            ("records", records),
            ("sensitive_records", sensitive),
            ("unknown_datasets", unknown),
            ("unbounded_datasets", unbounded),
            ("people", np.asarray(people, dtype=np.int64)),
            ("external_people", np.asarray(external, dtype=np.int64)),
            ("unknown_people", np.asarray(unknown_people, dtype=np.int64)),
        ):
            totals[name] += _count(who, column[combo], n)
    return totals


def _score_table(scorer: Scorer) -> pd.DataFrame:
    """The rows of :func:`score_plugins`: every plugin's actions as columns of numbers, added up per plugin at once.

    Sums run over each plugin's actions in their order (by connector, then
    action class), as :meth:`Scorer.plugin` adds them: ``np.bincount`` adds
    its weights one by one in array order.
    """
    inventory, w = scorer.inv, scorer.w
    plugins = inventory.plugins
    n = len(plugins)
    if not n:
        return _ranked(pd.DataFrame([], columns=list(SCORE_COLUMNS)))
    found = [scorer._uses(p) for p in plugins]
    uses = [use for f in found for use in f.uses]
    columns_of = [use.columns() for use in uses]
    owner = np.repeat(np.repeat(np.arange(n), [len(f.uses) for f in found]), [len(use.actions) for use in uses]).astype(
        np.int64
    )
    m = len(owner)

    def column(name: str, dtype: Any) -> np.ndarray:
        i = _COLUMNS.index(name)
        return np.fromiter(chain.from_iterable(c[i] for c in columns_of), dtype=dtype, count=m)

    def listed(name: str) -> list[Any]:
        i = _COLUMNS.index(name)
        return list(chain.from_iterable(c[i] for c in columns_of))

    capability, reach, autonomy = column("capability", float), column("reach", float), column("autonomy", float)
    read, status, high_impact = column("read", bool), column("status", np.int64), column("high_impact", bool)
    exfil = np.fromiter((f.exfil for f in found), float, n)
    factor = np.fromiter((f.untrusted_factor for f in found), float, n)  # untrusted input: every action, not output
    blast = capability * reach * np.where(read, autonomy * exfil[owner], autonomy) * factor[owner]
    outputs = [scorer.output(p) for p in plugins]
    wrong_action = np.bincount(owner[~read], weights=blast[~read], minlength=n).astype(float)  # float, even if empty
    data_leakage = np.bincount(owner[read], weights=blast[read], minlength=n).astype(float)
    wrong_output = np.fromiter((o.blast_radius for o in outputs), float, n)
    ungated, gated, blocked, _unusable = (_STATUS_ORDER.index(s) for s in _STATUS_ORDER)
    # autonomy (D2): how many of its actions run with no human in the loop. Each action counts the share of its
    # capability that does (its most dangerous usable tool's capability x autonomy over its tools' highest
    # capability whatever their status): 1 ungated, the gates' miss rate gated, 0 blocked or unusable. A count,
    # not a share of the plugin: a gate, a block, read-only access or a connector taken away can only lower it,
    # where a share of what is left could rise as access is taken away.
    listed_capability = column("listed", float)
    acts = listed_capability > 0  # actions with a tool that can do something
    free = np.where(status <= gated, autonomy, 0.0)  # each action's own autonomy, before the way out
    no_human = np.bincount(owner[acts], weights=(capability * free)[acts] / listed_capability[acts], minlength=n)
    usable = status <= gated
    most = np.zeros(n)
    np.maximum.at(most, owner[usable], capability[usable])
    reached = _reach_totals(n, owner, column("reaches", bool), listed("system"), listed("group"), w)
    users = [inventory.users_of(p) for p in plugins]
    columns = {
        "plugin": [p.id for p in plugins],
        "name": [p.label for p in plugins],
        "owner": [p.owner for p in plugins],
        "department": [inventory.department_of(p) for p in plugins],
        "capability": most,
        "reach_records": reached["records"],
        "reach_people": reached["people"],
        "autonomy": no_human,
        "blast_radius": wrong_action + data_leakage + wrong_output,
        "wrong_action": wrong_action,
        "data_leakage": data_leakage,
        "wrong_output": wrong_output,
        "sensitive_records": reached["sensitive_records"],
        "external_people": reached["external_people"],
        "ungated_high_impact": np.bincount(owner[(status == ungated) & high_impact], minlength=n),
        "gated_actions": np.bincount(owner[status == gated], minlength=n),
        "blocked_actions": np.bincount(owner[status == blocked], minlength=n),
        "way_out": [f.way_out for f in found],
        "untrusted_inputs": np.fromiter((len(f.untrusted) for f in found), np.int64, n),
        "untrusted_factor": factor,
        "unknowns": reached["unknown_datasets"]
        + reached["unknown_people"]
        + np.fromiter((not o.audience_known for o in outputs), np.int64, n),
        "unbounded_datasets": reached["unbounded_datasets"],
        "users": [sum(c for _, c in u) for u in users],
        "runs_per_day": [sum(c * use.runs_per_user_per_day for use, c in u) for u in users],  # Inventory.runs_per_day
    }
    return _ranked(pd.DataFrame(columns, columns=list(SCORE_COLUMNS)))


def _ranked(df: pd.DataFrame) -> pd.DataFrame:
    """Highest blast radius first (ties by plugin id), indexed by rank from 1."""
    df = df.sort_values(["blast_radius", "plugin"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    df.index = pd.RangeIndex(1, len(df) + 1, name="rank")
    return df


def score_plugins(source: Analysis | Inventory, *, weights: WeightsLike = None) -> pd.DataFrame:
    """One row per plugin: the three factors, the blast radius and its breakdown, highest first.

    Columns
    -------
    capability
        Highest capability among the plugin's usable actions.
    reach_records, reach_people
        Distinct records (one query's worth for reads) and people its usable
        actions can touch, after connector scopes: ``PluginReach.total()`` of
        :mod:`blastradius.reach`. Datasets and people groups of unknown size
        are counted in ``unknowns`` and left out of these figures, which are
        then lower bounds (the score's reach term prices them at stand-ins).
    unknowns
        Datasets and people groups of unknown size it reaches, and its output
        audience when not given.
    unbounded_datasets
        Of the datasets of unknown size, those nothing bounds (no size, no row
        limit for a read): while it is above 0, ``reach_records`` is a lower
        bound. A control that narrows access never raises the pair
        (``unbounded_datasets``, ``reach_records``) in that order.
    autonomy
        How many of its actions (a connector and an action class) run with no
        human in the loop (D2), each counted by the share of its capability
        that does: 1 ungated, the gates' miss rate gated, 0 blocked or
        unusable. A gate, a block, read-only access or a connector taken away
        never raises it.
    blast_radius
        ``wrong_action + data_leakage + wrong_output``: each the sum of
        capability × reach × autonomy of its actions (and output), the
        first two times ``untrusted_factor``.
    untrusted_inputs, untrusted_factor
        How many usable tools take in untrusted content
        (:func:`blastradius.domain.untrusted_inputs`, the question of rules
        BR116 and BR117); while there is one, the factor is the weights'
        ``untrusted_input_factor``, else 1.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> df = score_plugins(load_inventory("inventories/acme"))
    >>> list(df.columns[:9])
    ['plugin', 'name', 'owner', 'department', 'capability', 'reach_records', 'reach_people', 'autonomy', 'blast_radius']
    """
    return Scorer(analysis_of(source, weights=weights)).table()
