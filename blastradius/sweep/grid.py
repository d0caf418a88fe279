"""The grid file of a sweep: its schema, how it is read and checked, and its expansion into scenarios.

A grid names *dimensions*: levers (a control that is off, or on at one of
several settings) and assumptions (each at the value in use, or at listed
values, or at both ends of its sourced range). The grid is expanded to
scenarios, every combination of the dimensions' options (``expand:
cartesian``, the default) or each option alone with everything else as it
is (``expand: one-at-a-time``). docs/sweeps.md gives the format with an
example.

The file is read through the project's input boundary
(:func:`blastradius.settings.files.read_settings_document`: size, depth and
alias limits, duplicate keys refused), checked against the pydantic models
below, then against the inventory (every plugin, connector, department,
table and assumption key it names must exist, every value must be valid);
every problem is reported at once with the grid file's name, line and key
path, and a suggestion where one helps.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from blastradius.analysis import Analysis
from blastradius.errors import BlastRadiusError, ConfigError, Problem, suggest
from blastradius.model import ActionClass, Inventory
from blastradius.settings import Assumptions
from blastradius.settings.files import Document, format_path, problems_from_validation, read_settings_document
from blastradius.simulate.result import METRICS
from blastradius.sweep.scenarios import LeverStep, Scenario, Setting, assumptions_at, weights_at

__all__ = [
    "EXPANSIONS",
    "FRONT_STATISTICS",
    "MAX_SCENARIOS",
    "Grid",
    "LeverDimension",
    "expand_grid",
    "load_grid",
]

#: How a grid becomes scenarios.
EXPANSIONS = ("cartesian", "one-at-a-time")
#: Statistics a grid's ``front`` may name (``METRIC_STAT``, e.g. ``records_p95``).
FRONT_STATISTICS = ("mean", "p50", "p90", "p95", "p99")
#: Most scenarios one grid may expand to: far beyond what a cluster runs in a day on the large enterprise.
MAX_SCENARIOS = 100_000
#: Most options one dimension may list.
_MAX_OPTIONS = 1_000

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
LeverName = Annotated[str, Field(pattern=_NAME, max_length=100)]
Ids = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=10_000)]
Seconds = Annotated[StrictFloat, Field(ge=0, le=1e9, allow_inf_nan=False)]

#: Lever kinds, what each may target, and what it needs.
_TARGETS = {
    "gate": ("plugin", "department", "connector"),
    "block": ("plugin", "department", "connector"),
    "read-only": ("connector", "department"),
    "scope": ("connector",),
    "row-limit": ("connector", "department"),
    "halt-time": ("plugin", "department", "connector"),
}


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LeverDimension(_Strict):
    """One lever of a grid: a control that is off (as the inventory has it) or on, at each of ``values``."""

    kind: Literal["gate", "block", "read-only", "scope", "row-limit", "halt-time"] = Field(
        description="gate: approval needed; block: never called; read-only: the connector only reads; scope: "
        "only the listed tables; row-limit: at most N rows per query; halt-time: a kill switch (plugin, "
        "department) or revocation (connector) that halts in the given seconds."
    )
    plugin: Ids | None = Field(default=None, description="Plugin id(s) the lever applies to.")
    connector: Ids | None = Field(default=None, description="Connector id(s) the lever applies to.")
    department: Ids | None = Field(
        default=None, description="Department(s): every plugin they own, or every connector their plugins use."
    )
    actions: Ids | None = Field(
        default=None, description="gate/block: action classes (send, pay ...) or CONNECTOR.TOOL selectors."
    )
    tables: Ids | None = Field(default=None, description="scope: the tables the connector may still touch.")
    values: Annotated[list[Seconds], Field(max_length=_MAX_OPTIONS)] | None = Field(
        default=None, description="row-limit: rows; halt-time: seconds. One option per value, beside 'off'."
    )

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: _as_list(v) if k != "kind" else v for k, v in data.items()}
        return data

    @property
    def target_kind(self) -> str:
        return next(t for t in ("plugin", "connector", "department") if getattr(self, t) is not None)

    def problems(self) -> list[str]:
        """What is missing or out of place for its kind (every lever kind needs other keys)."""
        allowed = _TARGETS[self.kind]
        given = [t for t in ("plugin", "connector", "department") if getattr(self, t) is not None]
        if len(given) != 1:
            return [f"a {self.kind} lever needs exactly one target: {' or '.join(allowed)}"]
        if given[0] not in allowed:
            return [f"a {self.kind} lever applies to a {' or '.join(allowed)}, not a {given[0]}"]
        needs = {"gate": "actions", "block": "actions", "scope": "tables", "row-limit": "values", "halt-time": "values"}
        need = needs.get(self.kind)
        out = [
            f"a {self.kind} lever takes no '{extra}'"
            for extra in ("actions", "tables", "values")
            if extra != need and getattr(self, extra) is not None
        ]
        if need is not None and not getattr(self, need):
            out.append(f"a {self.kind} lever needs '{need}'" + (" (seconds)" if self.kind == "halt-time" else ""))
        if self.kind == "row-limit" and any(not float(v).is_integer() or v < 1 for v in self.values or ()):
            out.append("row limits are whole numbers of at least 1")
        return out

    @property
    def targets(self) -> list[str]:
        return list(getattr(self, self.target_kind))


def _assumption_values(value: Any) -> Any:
    """'range', or a list of numbers (one number is a list of one)."""
    if value == "range":
        return value
    values = _as_list(value)
    ok = (
        isinstance(values, list)
        and 0 < len(values) <= _MAX_OPTIONS
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    )
    if not ok:
        raise PydanticCustomError(
            "assumption_values",
            f"give 'range' (both ends of its sourced range) or a list of up to {_MAX_OPTIONS:,} numbers, "
            "e.g. [0.5, 0.9]",
        )
    return [float(v) for v in values]


AssumptionValues = Annotated[Literal["range"] | list[float], BeforeValidator(_assumption_values)]


class Grid(_Strict):
    """A sweep's grid, as written in its file (docs/sweeps.md)."""

    expand: Literal["cartesian", "one-at-a-time"] = Field(
        default="cartesian", description="Every combination of the options, or each option alone."
    )
    trials: Annotated[StrictInt, Field(ge=1, le=10_000_000)] | None = Field(
        default=None, description="Periods simulated per scenario (the command line's --trials wins)."
    )
    seed: Annotated[StrictInt, Field(ge=0, lt=2**64)] | None = Field(
        default=None, description="The sweep's seed (the command line's --seed wins)."
    )
    common_random_numbers: bool = Field(
        default=True,
        description="Every scenario on the same random numbers (differences are effects, not noise); false: "
        "each scenario on its own stream, derived from the seed and its key.",
    )
    front: str = Field(
        default="records_p95",
        description="The figure whose reduction is the risk removed on the Pareto front (METRIC_STAT).",
    )
    levers: dict[LeverName, LeverDimension] = Field(default_factory=dict, description="Lever dimensions by name.")
    assumptions: dict[Annotated[str, Field(min_length=1, max_length=200)], AssumptionValues] = Field(
        default_factory=dict,
        description="Assumption keys (or stand-ins of the weights) and their values, or 'range' for both ends of "
        "the sourced range.",
    )

    @model_validator(mode="after")
    def _front(self) -> Grid:
        metric, _, stat = self.front.rpartition("_")
        if metric not in METRICS or stat not in FRONT_STATISTICS:
            choices = [f"{m}_{s}" for m in ("records", "people") for s in ("p50", "p95", "p99")]
            hint = suggest(self.front, choices)
            raise PydanticCustomError(
                "grid",
                f"front must be METRIC_STAT, e.g. records_p95, got {self.front!r}" + (f"; {hint}" if hint else ""),
            )
        return self


@dataclass(frozen=True, kw_only=True)
class _Option:
    label: str
    steps: tuple[LeverStep, ...] = ()
    setting: Setting | None = None
    value: float | None = None  # an assumption's number, None for as in use


@dataclass(frozen=True, kw_only=True)
class _Dimension:
    name: str
    kind: str  # "lever" or "assumption"
    options: tuple[_Option, ...]  # the first is the default: off, or as in use


def load_grid(path: str | Path) -> tuple[Grid, Document]:
    """Read and check a grid file (not yet against an inventory: :func:`expand_grid` does that).

    Raises
    ------
    ConfigError
        No such file, unreadable YAML/JSON, or every problem of its schema, with line and key path.
    """
    doc = read_settings_document(path)
    try:
        return Grid.model_validate(doc.data), doc
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, Grid, doc.file, document=doc)) from None


def _validated(data: Mapping[str, Any]) -> Grid:
    """A grid given in code, checked as a file is."""
    try:
        return Grid.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, Grid, Path("<grid given in code>"))) from None


def _departments(inv: Inventory) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in inv.plugins:
        out.setdefault(inv.department_of(p), []).append(p.id)
    return out


def _connector_tools_of_class(inv: Inventory, connector: str, actions: Sequence[str]) -> list[str]:
    conn = inv.connector_by_id[connector]
    return [f"{connector}.{t.name}" for t in conn.tools if t.action.value in actions]


def _lever_steps(inv: Inventory, dim: LeverDimension, value: float | None) -> tuple[list[LeverStep], list[str]]:
    """The lever as steps on the inventory, and the problems of its targets (messages)."""
    problems: list[str] = []
    departments = _departments(inv)
    known = {"plugin": inv.plugin_by_id, "connector": inv.connector_by_id, "department": departments}[dim.target_kind]
    for target in dim.targets:
        if target not in known:
            hint = suggest(target, known)
            problems.append(f"no {dim.target_kind} '{target}' in the inventory" + (f" ({hint})" if hint else ""))
    if problems:
        return [], problems
    steps: list[LeverStep] = []
    if dim.kind in ("gate", "block"):
        actions = list(dim.actions or ())
        classes = {a.value for a in ActionClass}
        if dim.target_kind == "connector":
            for target in dim.targets:
                for a in actions:
                    if a not in classes:
                        problems.append(f"'{a}' is not an action class" + _hint(a, classes))
                selectors = _connector_tools_of_class(inv, target, actions)
                if not selectors and not problems:
                    problems.append(f"connector '{target}' has no tool of {', '.join(actions)}")
                for pid in (p.id for p in inv.plugins if target in p.connector_ids):
                    steps.extend(LeverStep(kind=dim.kind, target=pid, selector=s) for s in selectors)
        else:
            plugins = dim.targets if dim.target_kind == "plugin" else [p for d in dim.targets for p in departments[d]]
            for a in actions:
                if "." not in a and a not in classes:
                    problems.append(f"'{a}' is neither an action class nor CONNECTOR.TOOL" + _hint(a, classes))
            for a in actions:
                conn, _, tool = a.partition(".")
                if tool and conn not in inv.connector_by_id:
                    problems.append(f"no connector '{conn}' in '{a}'" + _hint(conn, inv.connector_by_id))
                elif tool and tool != "*" and inv.connector_by_id[conn].tool(tool) is None:
                    names = [t.name for t in inv.connector_by_id[conn].tools]
                    problems.append(f"connector '{conn}' has no tool '{tool}'" + _hint(tool, names))
            for pid in plugins:
                plugin = inv.plugin_by_id[pid]
                for a in actions:
                    if "." in a and a.partition(".")[0] not in plugin.connector_ids:
                        if dim.target_kind == "plugin":
                            problems.append(f"plugin '{pid}' does not use connector '{a.partition('.')[0]}'")
                        continue  # a department's plugins that do not use the connector are not concerned
                    steps.append(LeverStep(kind=dim.kind, target=pid, selector=a))
        return steps, problems
    connectors = dim.targets
    if dim.target_kind == "department":
        connectors = sorted(
            {c for d in dim.targets for pid in departments[d] for c in inv.plugin_by_id[pid].connector_ids}
        )
    if dim.kind == "read-only":
        steps = [LeverStep(kind="read-only", target=c) for c in connectors]
    elif dim.kind == "row-limit":
        steps = [LeverStep(kind="row-limit", target=c, number=value) for c in connectors]
    elif dim.kind == "scope":
        for c in connectors:
            system = inv.connector_by_id[c].system
            table_names = {d.table_name for d in inv.datasets_by_system.get(system or "", ())}
            for t in dim.tables or ():
                if t not in table_names:
                    problems.append(f"no table '{t}' on connector '{c}'" + _hint(t, table_names))
            steps.append(LeverStep(kind="scope", target=c, tables=tuple(dim.tables or ())))
    elif dim.kind == "halt-time":
        if dim.target_kind == "connector":
            steps = [LeverStep(kind="revocation", target=c, number=value) for c in connectors]
        else:
            plugins = dim.targets if dim.target_kind == "plugin" else [p for d in dim.targets for p in departments[d]]
            steps = [LeverStep(kind="kill-switch", target=p, number=value) for p in plugins]
    return steps, problems


def _hint(word: str, choices: Any) -> str:
    hint = suggest(word, choices)
    return f" ({hint})" if hint else ""


def _label(value: float) -> str:
    return f"{value:g}" if not float(value).is_integer() else f"{int(value)}"


def _lever_dimension(name: str, dim: LeverDimension, analysis: Analysis, where: _Where) -> _Dimension:
    inv = analysis.inventory
    options = [_Option(label="off")]
    shape = dim.problems()
    for message in shape:
        where.add(("levers", name), message)
    if shape:
        return _Dimension(name=name, kind="lever", options=tuple(options))
    values: list[float | None] = [None] if dim.values is None else list(dict.fromkeys(dim.values))
    for value in values:
        steps, problems = _lever_steps(inv, dim, value)
        for message in problems:
            where.add(("levers", name), message)
        if problems:
            continue
        if not steps:
            where.add(("levers", name), f"the {dim.kind} lever changes nothing: none of its targets has what it names")
            continue
        options.append(_Option(label="on" if value is None else _label(value), steps=tuple(steps)))
    return _Dimension(name=name, kind="lever", options=tuple(options))


def _ranges(analysis: Analysis) -> dict[str, tuple[float, float, str]]:
    """Every setting with a sourced range: key -> (low, high, kind), as the sensitivity tornado tries them."""
    from blastradius.simulate.sensitivity import _ranged_assumptions, _ranged_stand_ins

    varied = _ranged_assumptions(analysis.assumptions) + _ranged_stand_ins(analysis.weights)
    return {v.key: (v.low, v.high, v.kind) for v in varied}


def _numeric_keys(assumptions: Assumptions) -> set[str]:
    from blastradius.simulate.assumptions import assumptions_table

    table = assumptions_table(assumptions)
    numeric = table[table.low.notna() & ~table.key.str.startswith("plugins.")]
    return set(numeric.key)


def _assumption_dimension(key: str, spec: Any, analysis: Analysis, where: _Where) -> _Dimension | None:
    from blastradius.simulate.sensitivity import STAND_INS

    ranges = _ranges(analysis)
    numeric = _numeric_keys(analysis.assumptions)
    kind = "weight" if key in STAND_INS else "assumption"
    if kind == "assumption" and key not in numeric:
        hint = suggest(key, sorted(numeric | set(STAND_INS)))
        where.add(
            ("assumptions", key),
            f"no numeric assumption '{key}'",
            hint or "blastradius.simulate.assumptions_table() lists the keys",
        )
        return None
    if spec == "range":
        if key not in ranges:
            where.add(
                ("assumptions", key),
                f"'{key}' has no plausible range to sweep",
                "list its values instead, e.g. [0.5, 0.9], or give it a range in an assumptions file",
            )
            return None
        low, high, _ = ranges[key]
        values = [low, high]
    else:
        values = list(spec)
    options = [_Option(label="as in use")]
    for i, value in enumerate(dict.fromkeys(values)):
        setting = Setting(kind=kind, key=key, value=float(value))
        try:
            if kind == "weight":
                weights_at(analysis.weights, key, value)
            else:
                assumptions_at(analysis.assumptions, key, value)
        except (ValidationError, BlastRadiusError, ValueError) as exc:
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            path: tuple[Any, ...] = ("assumptions", key) if spec == "range" else ("assumptions", key, i)
            where.add(path, f"{_label(value)} is not a valid value: {message[:1].lower() + message[1:]}")
            continue
        options.append(_Option(label=_label(value), setting=setting, value=float(value)))
    return _Dimension(name=key, kind=kind, options=tuple(options))


class _Where:
    """Problems of a grid, at its file, key path and line."""

    def __init__(self, doc: Document | None):
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, parts: tuple[Any, ...], message: str, hint: str | None = None) -> None:
        path = format_path(parts)
        file = self.doc.file if self.doc is not None else Path("<grid given in code>")
        line = self.doc.line_of(path) if self.doc is not None else None
        self.problems.append(Problem(file=file, path=path, line=line, message=message, hint=hint))


def _dimensions(grid: Grid, analysis: Analysis, doc: Document | None) -> list[_Dimension]:
    where = _Where(doc)
    dims: list[_Dimension] = []
    for name, lever in grid.levers.items():
        dims.append(_lever_dimension(name, lever, analysis, where))
    for key, spec in grid.assumptions.items():
        dim = _assumption_dimension(key, spec, analysis, where)
        if dim is not None:
            dims.append(dim)
    if not where.problems and not dims:
        where.add((), "the grid names no lever and no assumption", "add a 'levers:' or 'assumptions:' section")
    if not where.problems:
        count = _count(grid.expand, dims)
        if count > MAX_SCENARIOS:
            where.add(
                ("expand",),
                f"the grid expands to {count:,} scenarios, more than {MAX_SCENARIOS:,}",
                "use expand: one-at-a-time, or fewer options",
            )
    if where.problems:
        raise ConfigError(where.problems)
    return dims


def _count(expand: str, dims: Sequence[_Dimension]) -> int:
    if expand == "one-at-a-time":
        return 1 + sum(len(d.options) - 1 for d in dims)
    return math.prod(len(d.options) for d in dims)


def _scenario(dims: Sequence[_Dimension], choice: Sequence[int]) -> Scenario:
    steps: list[LeverStep] = []
    settings: list[Setting] = []
    parts = []
    labels: dict[str, str | float | None] = {}
    for dim, i in zip(dims, choice, strict=True):
        option = dim.options[i]
        column = f"lever:{dim.name}" if dim.kind == "lever" else f"assumption:{dim.name}"
        labels[column] = option.label if dim.kind == "lever" else option.value
        if i == 0:
            continue
        parts.append(f"{dim.name}={option.label}")
        steps.extend(option.steps)
        if option.setting is not None:
            settings.append(option.setting)
    world = ",".join(
        f"{dim.name}={dim.options[i].label}" for dim, i in zip(dims, choice, strict=True) if i and dim.kind != "lever"
    )
    return Scenario(
        key=",".join(parts) or "baseline",
        levers=tuple(steps),
        settings=tuple(settings),
        labels=labels,
        world=world or "as in use",
    )


def _choices(expand: str, dims: Sequence[_Dimension]) -> Iterator[tuple[int, ...]]:
    if expand == "one-at-a-time":
        yield (0,) * len(dims)
        for j, dim in enumerate(dims):
            for i in range(1, len(dim.options)):
                yield tuple(i if k == j else 0 for k in range(len(dims)))
        return
    # levers outermost, assumptions innermost: a lever combination's scenarios come together (one derived inventory)
    yield from itertools.product(*(range(len(d.options)) for d in dims))


def expand_grid(
    grid: Grid | Mapping[str, Any], analysis: Analysis, *, document: Document | None = None
) -> list[Scenario]:
    """The grid's scenarios on ``analysis``'s inventory, each lever checked against it, in a stable order.

    The first option of every dimension is its default (a lever off, an
    assumption as in use); a scenario's key lists the others it sets,
    ``name=label`` joined by commas (``baseline`` when it sets none). Its
    *world* is its assumption settings alone: the scenarios of one world
    differ only by their levers, and the one with every lever off is their
    baseline.

    Raises
    ------
    ConfigError
        Every problem at once: unknown plugins, connectors, departments,
        tables or assumption keys (with "did you mean"), invalid values,
        a lever that changes nothing, too many scenarios.
    """
    if not isinstance(grid, Grid):
        grid = _validated(grid)
    dims = _dimensions(grid, analysis, document)
    scenarios = [_scenario(dims, choice) for choice in _choices(grid.expand, dims)]
    return scenarios
