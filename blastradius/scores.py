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
by its audience and review tier, makes up *wrong output*. The blast radius is
their sum. Every number comes from :class:`Weights` (``data/weights.yaml``),
never from code; docs/scoring.md explains them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, StrictFloat, field_validator

from blastradius.loader import validate_settings
from blastradius.model import (
    HIGH_IMPACT_ACTIONS,
    ActionClass,
    Classification,
    Connector,
    Inventory,
    OutputDestination,
    Plugin,
    Record,
    Reversibility,
    Tool,
)
from blastradius.scope import DatasetScope, ToolStatus, tool_reach, tool_status

__all__ = [
    "ActionScore",
    "FAILURE_CLASSES",
    "NO_WAY_OUT",
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

#: What :attr:`PluginScore.way_out` says of a plugin with no channel out of the organisation.
NO_WAY_OUT = "no channel out of the organisation"

#: The failure classes of DOMAIN.md D5 that a single run can cause.
FAILURE_CLASSES = ("wrong_action", "data_leakage", "wrong_output")

Weight = Annotated[StrictFloat, Field(ge=0)]
Probability = Annotated[StrictFloat, Field(ge=0, le=1)]


class Weights(Record):
    """Every number the score uses; defaults in ``blastradius/data/weights.yaml``."""

    action_weights: dict[ActionClass, Weight]
    reversibility: dict[Reversibility, Weight]
    fan_out_slope: Weight
    leaves_org: Weight
    bulk_write_fan_out: Annotated[int, Field(ge=1)]
    classification_weights: dict[Classification, Weight]
    people_weights: dict[Literal["external", "internal"], Weight]
    unknown_dataset_records: Annotated[int, Field(ge=0)]
    unknown_people_count: Annotated[int, Field(ge=0)]
    unknown_output_audience: Annotated[int, Field(ge=0)]
    gate_miss_rate: Probability
    review_miss_rate: dict[Literal["none", "1", "2", "3"], Probability]
    leak_internal_factor: Probability
    output_weight: Weight
    output_external: Weight
    lever_cost: dict[Literal["autonomy", "reach", "capability"], Annotated[StrictFloat, Field(gt=0)]]
    recommended_row_limit: Annotated[int, Field(ge=1)]

    @field_validator(
        "action_weights", "reversibility", "classification_weights", "people_weights", "review_miss_rate", "lever_cost"
    )
    @classmethod
    def _complete(cls, value: dict, info: Any) -> dict:
        expected = {
            "action_weights": set(ActionClass),
            "reversibility": set(Reversibility),
            "classification_weights": set(Classification),
            "people_weights": {"external", "internal"},
            "review_miss_rate": {"none", "1", "2", "3"},
            "lever_cost": {"autonomy", "reach", "capability"},
        }[info.field_name]
        missing = expected - set(value)
        if missing:
            raise ValueError("missing " + ", ".join(sorted(str(getattr(m, "value", m)) for m in missing)))
        return value

    def review_miss(self, tier: int | None) -> float:
        return self.review_miss_rate["none" if tier is None else str(tier)]


_WEIGHTS_FILE = "weights.yaml"


@cache
def _default_weights_data() -> dict[str, Any]:
    text = resources.files("blastradius.data").joinpath(_WEIGHTS_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["review_miss_rate"] = {str(k): v for k, v in data["review_miss_rate"].items()}
    return data


@cache
def default_weights() -> Weights:
    """The documented default weights (``blastradius/data/weights.yaml``)."""
    return Weights.model_validate(_default_weights_data())


def load_weights(
    source: str | Path | Mapping[str, Any] | Weights | None = None, *, inventory: Inventory | None = None
) -> Weights:
    """Weights: the defaults, then the inventory's ``weights:`` section, then ``source`` (a file or a mapping).

    Keys a layer leaves out keep the value below it.

    Raises
    ------
    ConfigError
        When a layer is invalid, with file, line and key path of each problem.

    Examples
    --------
    >>> load_weights({"gate_miss_rate": 0.2}).gate_miss_rate
    0.2
    >>> load_weights().action_weights[ActionClass.PAY]
    8.0
    """
    if isinstance(source, Weights):
        return source
    own = inventory.settings.get("weights") if inventory is not None else None
    if source is None and own is None:
        return default_weights()
    return validate_settings(Weights, _default_weights_data(), own, source)  # type: ignore[return-value]


def is_high_impact(tool: Tool, weights: Weights) -> bool:
    """Send, delete, pay, sign, share, execute, unknown, and writes whose fan-out makes them bulk (D4)."""
    if tool.action in HIGH_IMPACT_ACTIONS:
        return True
    return tool.action is ActionClass.WRITE and tool.fan_out >= weights.bulk_write_fan_out


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ActionScore:
    """One action of a plugin: an action class through one connector, with its three factors.

    ``tools`` are the ones it can use (``unavailable_tools`` are blocked, not
    given, or need write access the connector lacks). ``status`` is that of its
    least restricted tool; ``autonomy`` for reads
    includes the plugin's way out (see module docs). Records and people
    include conservative stand-ins for unknown sizes, counted in ``unknowns``.
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
    """All of one plugin's actions and output, with the totals per failure class."""

    plugin: str
    actions: tuple[ActionScore, ...]
    output: OutputScore
    way_out: str
    by_class: Mapping[str, float] = field(default_factory=dict)

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


_STATUS_ORDER = (ToolStatus.UNGATED, ToolStatus.GATED, ToolStatus.BLOCKED, ToolStatus.UNUSABLE)


@dataclass(frozen=True, kw_only=True)
class _GroupReach:
    """What one action of a connector (some of its tools, one action class) reaches: plugin-independent."""

    datasets: tuple[DatasetScope, ...]
    people_groups: tuple[str, ...]
    records: int
    people: int
    sensitive_records: int
    external_people: int
    reach: float
    unknowns: int


class Scorer:
    """Scores plugins of one inventory; caches what does not depend on the plugin (reach per tool).

    ``Scorer(inventory, weights).plugin(plugin)`` is :func:`score_plugin`
    without re-validating weights or recomputing shared reach.
    """

    def __init__(self, inventory: Inventory, weights: Weights):
        self.inv = inventory
        self.w = weights
        self._reach: dict[tuple[str, str], Any] = {}
        self._groups: dict[tuple, _GroupReach] = {}

    def reach(self, connector: Connector, tool: Tool):
        key = (connector.id, tool.name)
        if key not in self._reach:
            system = connector.system or ""
            self._reach[key] = tool_reach(
                connector, tool, self.inv.datasets_by_system.get(system, ()), self.inv.people_by_system.get(system, ())
            )
        return self._reach[key]

    def group_reach(self, connector: Connector, action: ActionClass, tools: tuple[Tool, ...]) -> _GroupReach:
        """Reach of one action (these usable tools of a connector): the same for every plugin, so computed once."""
        key = (connector.id, action, tuple(t.name for t in tools))
        cached = self._groups.get(key)
        if cached is not None:
            return cached
        w = self.w
        datasets: dict[str, DatasetScope] = {}
        people = {}
        for t in tools:
            r = self.reach(connector, t)
            for s in r.datasets:
                if s.dataset not in datasets or (s.records or 0) > (datasets[s.dataset].records or 0):
                    datasets[s.dataset] = s
            for g in r.people:
                people[g.id] = g
        records = {d: (s.records if s.records is not None else w.unknown_dataset_records) for d, s in datasets.items()}
        counts = {g: (p.count if p.count is not None else w.unknown_people_count) for g, p in people.items()}
        sensitive = sum(n for d, n in records.items() if datasets[d].sensitive)
        weighted_people = sum(
            n * w.people_weights["external" if people[g].is_external else "internal"] for g, n in counts.items()
        )
        counted = (
            ((d, n) for d, n in records.items() if datasets[d].sensitive) if action is ActionClass.READ else records.items()
        )
        weighted = sum(n * w.classification_weights[datasets[d].classification] for d, n in counted)
        result = _GroupReach(
            datasets=tuple(sorted(datasets.values(), key=lambda s: s.dataset)),
            people_groups=tuple(sorted(people)),
            records=sum(records.values()),
            people=sum(counts.values()),
            sensitive_records=sensitive,
            external_people=sum(n for g, n in counts.items() if people[g].is_external),
            reach=_log_reach(weighted, weighted_people),
            unknowns=sum(not s.size_known for s in datasets.values()) + sum(p.count is None for p in people.values()),
        )
        self._groups[key] = result
        return result

    def way_out(self, plugin: Plugin, tools: Iterable[tuple[Connector, Tool, ToolStatus]]) -> tuple[float, str]:
        """Autonomy of the plugin's most open channel to the outside, and what it is."""
        best, why = self.w.leak_internal_factor, NO_WAY_OUT
        if plugin.output is OutputDestination.EXTERNAL:
            miss = self.w.review_miss(plugin.review_tier)
            if miss > best or why == NO_WAY_OUT:
                best, why = miss, f"output leaves the organisation (review tier {plugin.review_tier or 'none'})"
        for conn, tool, status in tools:
            leaves = conn.leaves_org_for(tool)
            outward = tool.action in (ActionClass.SEND, ActionClass.SHARE) or (leaves and tool.action is not ActionClass.READ)
            if not outward or status not in (ToolStatus.UNGATED, ToolStatus.GATED):
                continue
            a = _autonomy(status, self.w)
            if a > best or why == NO_WAY_OUT:
                best, why = a, f"{conn.id}.{tool.name} ({status.value})"
        return best, why

    def plugin(self, plugin: Plugin) -> PluginScore:
        inv, w = self.inv, self.w
        tools = []
        for pc in plugin.connectors:
            conn = inv.connector_by_id[pc.connector]
            for tool in conn.tools:
                status, reason = tool_status(plugin, conn, tool)
                tools.append((conn, tool, status, reason))
        exfil, way_out = self.way_out(plugin, ((c, t, s) for c, t, s, _ in tools))

        groups: dict[tuple[str, ActionClass], list] = {}
        for item in tools:
            groups.setdefault((item[0].id, item[1].action), []).append(item)

        actions = []
        for (conn_id, action), items in groups.items():
            conn = items[0][0]
            usable = [i for i in items if i[2] in (ToolStatus.UNGATED, ToolStatus.GATED)]
            status, reason = min(((i[2], i[3]) for i in items), key=lambda sr: _STATUS_ORDER.index(sr[0]))
            g = self.group_reach(conn, action, tuple(t for _, t, _, _ in usable))
            capability = max((_capability(t, c, w) for c, t, _, _ in usable), default=0.0)
            autonomy = max((_autonomy(s, w) for _, _, s, _ in usable), default=0.0)
            if action is ActionClass.READ:
                failure = "data_leakage"
                autonomy *= exfil
            else:
                failure = "wrong_action"
            actions.append(
                ActionScore(
                    plugin=plugin.id,
                    connector=conn_id,
                    system=conn.system,
                    action=action,
                    tools=tuple(t.name for _, t, _, _ in usable),
                    unavailable_tools=tuple(t.name for _, t, st, _ in items if st not in (ToolStatus.UNGATED, ToolStatus.GATED)),
                    status=status,
                    reason=reason,
                    failure_class=failure,
                    capability=capability,
                    reach_records=g.records,
                    reach_people=g.people,
                    sensitive_records=g.sensitive_records,
                    external_people=g.external_people,
                    reach=g.reach,
                    autonomy=autonomy,
                    blast_radius=capability * g.reach * autonomy,
                    high_impact=any(is_high_impact(t, w) for _, t, _, _ in usable),
                    irreversible=any(t.reversibility is Reversibility.IMMEDIATE for _, t, _, _ in usable)
                    and action is not ActionClass.READ,
                    leaves_org=any(c.leaves_org_for(t) for c, t, _, _ in usable),
                    fan_out=max((t.fan_out for _, t, _, _ in usable), default=0),
                    datasets=g.datasets,
                    people_groups=g.people_groups,
                    unknowns=g.unknowns,
                )
            )
        actions.sort(key=lambda a: (a.connector, a.action.value))
        output = self.output(plugin)
        by_class = {c: 0.0 for c in FAILURE_CLASSES}
        for a in actions:
            by_class[a.failure_class] += a.blast_radius
        by_class["wrong_output"] += output.blast_radius
        return PluginScore(plugin=plugin.id, actions=tuple(actions), output=output, way_out=way_out, by_class=by_class)

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


def score_plugin(inventory: Inventory, plugin: str, weights: Weights | Mapping | str | Path | None = None) -> PluginScore:
    """Every action of one plugin with its three factors, and its totals per failure class."""
    return Scorer(inventory, load_weights(weights, inventory=inventory)).plugin(inventory.require("plugin", plugin))


def action_scores(inventory: Inventory, weights: Weights | Mapping | str | Path | None = None) -> list[PluginScore]:
    """:class:`PluginScore` of every plugin, in inventory order."""
    scorer = Scorer(inventory, load_weights(weights, inventory=inventory))
    return [scorer.plugin(p) for p in inventory.plugins]


#: Columns of :func:`score_plugins`, in order.
SCORE_COLUMNS = (
    "plugin", "name", "owner", "department", "capability", "reach_records", "reach_people", "autonomy", "blast_radius",
    "wrong_action", "data_leakage", "wrong_output", "sensitive_records", "external_people",
    "ungated_high_impact", "gated_actions", "blocked_actions", "way_out", "unknowns", "users", "runs_per_day",
)


class _DatasetUnion:
    """Distinct records over several actions' datasets, vectorised: each dataset counts once, at its widest scope.

    Actions of different plugins share the same (cached) tuples of dataset
    scopes, so each tuple is turned into arrays once.
    """

    def __init__(self, inventory: Inventory, weights: Weights):
        self.index = {d.id: i for i, d in enumerate(inventory.datasets)}
        self.stand_in = weights.unknown_dataset_records
        self._arrays: dict[int, tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def _of(self, scopes: tuple[DatasetScope, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        hit = self._arrays.get(id(scopes))
        if hit is None:
            hit = (
                scopes,  # kept so that its id stays unique while cached
                np.fromiter((self.index[s.dataset] for s in scopes), dtype=np.int64, count=len(scopes)),
                np.fromiter((self.stand_in if s.records is None else s.records for s in scopes), dtype=np.float64,
                            count=len(scopes)),
                np.fromiter((s.sensitive for s in scopes), dtype=bool, count=len(scopes)),
                np.fromiter((not s.size_known for s in scopes), dtype=bool, count=len(scopes)),
            )
            self._arrays[id(scopes)] = hit
        return hit[1:]

    def totals(self, parts: list[tuple[DatasetScope, ...]]) -> tuple[int, int, int]:
        """(records, sensitive records, datasets of unknown size) over the union of ``parts``."""
        arrays = [self._of(p) for p in parts if p]
        if not arrays:
            return 0, 0, 0
        idx, rec, sens, unknown = (np.concatenate(x) for x in zip(*arrays, strict=True))
        order = np.lexsort((-rec, idx))  # per dataset, its widest scope first
        idx, rec, sens, unknown = idx[order], rec[order], sens[order], unknown[order]
        first = np.empty(len(idx), dtype=bool)
        first[0] = True
        np.not_equal(idx[1:], idx[:-1], out=first[1:])
        return int(rec[first].sum()), int(rec[first & sens].sum()), int(unknown[first].sum())


def score_plugins(inventory: Inventory, weights: Weights | Mapping | str | Path | None = None) -> pd.DataFrame:
    """One row per plugin: the three factors, the blast radius and its breakdown, highest first.

    Columns
    -------
    capability
        Highest capability among the plugin's usable actions.
    reach_records, reach_people
        Distinct records (one query's worth for reads) and people its usable
        actions can touch, after connector scopes; unknown sizes count at
        their conservative stand-in and are counted in ``unknowns``.
    autonomy
        Capability-weighted share of its actions that run with no human
        (1 ungated, gate miss rate gated, 0 blocked).
    blast_radius
        ``wrong_action + data_leakage + wrong_output``: each the sum of
        capability × reach × autonomy of its actions (and output).

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> df = score_plugins(load_inventory("inventories/acme"))
    >>> list(df.columns[:9])
    ['plugin', 'name', 'owner', 'department', 'capability', 'reach_records', 'reach_people', 'autonomy', 'blast_radius']
    """
    w = load_weights(weights, inventory=inventory)
    rows = []
    union = _DatasetUnion(inventory, w)
    for ps in action_scores(inventory, w):
        plugin = inventory.plugin_by_id[ps.plugin]
        usable = [a for a in ps.actions if a.status in (ToolStatus.UNGATED, ToolStatus.GATED)]
        reach_records, sensitive_records, unknown_records = union.totals([a.datasets for a in usable])
        groups = {g: inventory.people_by_id[g] for a in usable for g in a.people_groups}
        people = {g: (p.count if p.count is not None else w.unknown_people_count) for g, p in groups.items()}
        weighted = [a for a in ps.actions if a.status is not ToolStatus.UNUSABLE and a.capability > 0]
        cap_sum = sum(a.capability for a in weighted)
        autonomy = sum(a.capability * _autonomy(a.status, w) for a in weighted) / cap_sum if cap_sum else 0.0
        rows.append(
            {
                "plugin": ps.plugin,
                "name": plugin.label,
                "owner": plugin.owner,
                "department": inventory.department_of(plugin),
                "capability": max((a.capability for a in usable), default=0.0),
                "reach_records": reach_records,
                "reach_people": sum(people.values()),
                "autonomy": autonomy,
                "blast_radius": ps.blast_radius,
                **ps.by_class,
                "sensitive_records": sensitive_records,
                "external_people": sum(n for g, n in people.items() if groups[g].is_external),
                "ungated_high_impact": sum(a.high_impact and a.status is ToolStatus.UNGATED for a in ps.actions),
                "gated_actions": sum(a.status is ToolStatus.GATED for a in ps.actions),
                "blocked_actions": sum(a.status is ToolStatus.BLOCKED for a in ps.actions),
                "way_out": ps.way_out,
                "unknowns": unknown_records
                + sum(g.count is None for g in groups.values())
                + (0 if ps.output.audience_known else 1),
                "users": sum(n for _, n in inventory.users_of(plugin)),
                "runs_per_day": inventory.runs_per_day(plugin),
            }
        )
    df = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    df = df.sort_values(["blast_radius", "plugin"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    df.index = pd.RangeIndex(1, len(df) + 1, name="rank")
    return df
