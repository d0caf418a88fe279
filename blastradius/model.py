"""The inventory model: typed, immutable records of an AI-agent rollout.

An inventory describes who runs which plugin (teams), what each plugin can call
(connectors and their tools), and what those calls can reach (systems, their
datasets with record counts and column classifications, and the people they
hold). See ``docs/inventory-format.md`` for the file format and DOMAIN.md D3.

Every record is a frozen pydantic model with keyword-only construction. Files
are validated once, at the boundary (:mod:`blastradius.loader`); code past it
trusts these objects.

Every number is bounded: finite, never negative, and at most a documented
cap (:data:`MAX_RECORDS`, :data:`MAX_PEOPLE`, :data:`MAX_RUNS_PER_USER_PER_DAY`,
:data:`MAX_SECONDS`, :data:`MAX_DAYS`), far above any real rollout and low
enough that every figure computed from them stays in range: sums of records
(at most :data:`MAX_TOTAL_RECORDS` in all) and of people within a 64-bit
integer, a plugin's runs in a period (at most
:data:`MAX_RUNS_PER_PLUGIN_PER_DAY` a day) below 2**31; the loader checks the
two totals. Booleans and whole numbers are strict: ``true`` is not ``1``,
``2.0`` is not ``2`` (docs/inventory-format.md, "Input limits").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from blastradius.errors import Problem, UnknownIdError

__all__ = [
    "Access",
    "ActionClass",
    "Audit",
    "Classification",
    "Column",
    "Connector",
    "ConnectorPolicy",
    "Dataset",
    "Governance",
    "GovernedConnector",
    "HIGH_IMPACT_ACTIONS",
    "Inventory",
    "MAX_DAYS",
    "MAX_PEOPLE",
    "MAX_RECORDS",
    "MAX_RUNS_PER_PLUGIN_PER_DAY",
    "MAX_RUNS_PER_USER_PER_DAY",
    "MAX_SECONDS",
    "MAX_TOTAL_RECORDS",
    "Origin",
    "OutputDestination",
    "PeopleGroup",
    "PeopleKind",
    "Plugin",
    "PluginConnector",
    "PluginKillSwitch",
    "PluginUsers",
    "Reversibility",
    "Revocation",
    "ReviewTier",
    "SENSITIVE_CLASSIFICATIONS",
    "SettingsSource",
    "Skill",
    "System",
    "Team",
    "Tool",
    "WRITE_ACTIONS",
]


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


class ActionClass(StrEnum):
    """What one tool call does (DOMAIN.md D2).

    ``unknown`` is allowed so that a draft inventory can say so; analyses treat
    it conservatively, never as harmless.
    """

    READ = "read"
    WRITE = "write"
    SEND = "send"
    DELETE = "delete"
    PAY = "pay"
    SIGN = "sign"
    SHARE = "share"
    EXECUTE = "execute"
    UNKNOWN = "unknown"


#: Actions that change something outside the agent: everything but ``read``.
WRITE_ACTIONS = frozenset(a for a in ActionClass if a is not ActionClass.READ)

#: Actions the seeds single out for a human gate (D4): send, delete, pay, sign,
#: plus sharing, code execution and anything unknown. Bulk ``write`` is
#: high-impact too, decided by its fan-out.
HIGH_IMPACT_ACTIONS = frozenset(
    {
        ActionClass.SEND,
        ActionClass.DELETE,
        ActionClass.PAY,
        ActionClass.SIGN,
        ActionClass.SHARE,
        ActionClass.EXECUTE,
        ActionClass.UNKNOWN,
    }
)


class Access(StrEnum):
    """What a connector's credentials allow on its system."""

    READ_ONLY = "read-only"
    READ_WRITE = "read-write"


class Reversibility(StrEnum):
    """Whether a tool's effect can be undone (D2)."""

    IMMEDIATE = "immediate"
    SOFT_DELETE = "soft-delete"
    STAGED = "staged"


class Classification(StrEnum):
    """Sensitivity of a column or a dataset, least sensitive first."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    FINANCIAL = "financial"
    PII = "pii"
    HEALTH = "health"
    CREDENTIALS = "credentials"

    @property
    def rank(self) -> int:
        return _CLASSIFICATION_RANK[self]


_CLASSIFICATION_RANK = {c: i for i, c in enumerate(Classification)}

#: Classifications whose exposure is a data-leakage incident (D5).
SENSITIVE_CLASSIFICATIONS = frozenset(
    {
        Classification.CONFIDENTIAL,
        Classification.FINANCIAL,
        Classification.PII,
        Classification.HEALTH,
        Classification.CREDENTIALS,
    }
)


class PeopleKind(StrEnum):
    """Who a people group is."""

    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    EMPLOYEES = "employees"
    CANDIDATES = "candidates"
    PARTNERS = "partners"
    SUPPLIERS = "suppliers"
    PATIENTS = "patients"
    PUBLIC = "public"
    OTHER = "other"


class OutputDestination(StrEnum):
    """Where a plugin's output goes."""

    INTERNAL = "internal"
    EXTERNAL = "external"


ReviewTier = Literal[1, 2, 3]


def _whole_tier(value: Any) -> Any:
    """A review tier is the number 1, 2 or 3: ``true`` (which Python counts as 1) and ``1.0`` are not."""
    if isinstance(value, bool | float):
        raise PydanticCustomError("literal_error", "Input should be 1, 2 or 3", {"expected": "1, 2 or 3"})
    return value


_Tier = Annotated[ReviewTier, BeforeValidator(_whole_tier)]

#: Most records a dataset may hold, and most rows or recipients a limit, a threshold or one call may name
#: (a million billion).
MAX_RECORDS = 10**15
#: Most records all the datasets of an inventory may hold together: every sum of them fits a 64-bit integer.
MAX_TOTAL_RECORDS = 10**18
#: Most people a team, a people group, a plugin's users or an output's audience may count (ten billion).
MAX_PEOPLE = 10**10
#: Most runs of a plugin per user per working day.
MAX_RUNS_PER_USER_PER_DAY = 10_000
#: Most runs of one plugin per working day, over all its users (checked by the loader): over a period of at most
#: a year of working days, a plugin's runs (366 million) and the runs the simulation counts as affected by a few
#: faults at once stay below the 2**31 of its 32-bit counts.
MAX_RUNS_PER_PLUGIN_PER_DAY = 1_000_000
#: Most seconds a pause or a revocation may take: a year.
MAX_SECONDS = 365 * 24 * 3600
#: Most days between re-reviews: a century.
MAX_DAYS = 36_500

Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$"),
    Field(description="Identifier: letters, digits, '-' and '_', starting with a letter or digit."),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Records = Annotated[StrictInt, Field(ge=0, le=MAX_RECORDS)]
People = Annotated[StrictInt, Field(ge=0, le=MAX_PEOPLE)]
Limit = Annotated[StrictInt, Field(ge=1, le=MAX_RECORDS)]  # rows or recipients: a fan-out, a row limit, a threshold
Rate = Annotated[StrictFloat, Field(ge=0, le=MAX_RUNS_PER_USER_PER_DAY, allow_inf_nan=False)]
Seconds = Annotated[StrictFloat, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]

#: A tool reference used in plugin approval/block lists: an action class
#: (``send``), a tool of a connector (``email.send_campaign``) or every tool of
#: a connector (``email.*``).
Selector = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.(\*|[^\s.][^\s]*))?$"),
    Field(
        description=(
            "An action class (e.g. 'send'), 'CONNECTOR.TOOL' (e.g. 'email.send_campaign'), "
            "or 'CONNECTOR.*' for every tool of a connector."
        )
    ),
]


class Record(BaseModel):
    """Base of every inventory record: frozen, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False, populate_by_name=True)


# ---------------------------------------------------------------------------
# Systems, datasets, people
# ---------------------------------------------------------------------------


class Column(Record):
    """One column of a dataset with its classification."""

    name: Name
    classification: Classification


def _columns_from_mapping(value: Any) -> Any:
    """Accept ``{column: classification}`` as well as a list of columns."""
    if isinstance(value, Mapping):
        return [{"name": k, "classification": v} for k, v in value.items()]
    return value


_COLUMNS_SCHEMA = {
    "description": ("Column classifications: a mapping column -> classification, or a list of {name, classification}."),
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {"enum": [c.value for c in Classification]},
        },
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "classification": {"enum": [c.value for c in Classification]},
                },
                "required": ["name", "classification"],
                "additionalProperties": False,
            },
        },
    ],
}


class Dataset(Record):
    """A table (or collection) in a system, with its size and classifications."""

    id: Id
    system: Id | None = Field(default=None, description="System holding it; implied when nested under a system.")
    table: Name | None = Field(
        default=None, description="Name connector scopes use (allowed_tables); defaults to the id."
    )
    name: Name | None = None
    description: Text | None = None
    records: Records | None = Field(
        default=None, description="Number of records (rows). Missing means unknown: treated conservatively."
    )
    classification: Classification | None = Field(
        default=None,
        description="Classification of the dataset as a whole; defaults to its most sensitive column, else internal.",
    )
    columns: Annotated[tuple[Column, ...], WithJsonSchema(_COLUMNS_SCHEMA)] = ()

    _normalise_columns = field_validator("columns", mode="before")(_columns_from_mapping)

    @property
    def table_name(self) -> str:
        return self.table or self.id

    def effective_classification(self, denied_columns: frozenset[str] = frozenset()) -> Classification:
        """Most sensitive classification still readable once ``denied_columns`` are masked.

        The declared dataset ``classification`` is a floor (masking columns of a
        confidential table leaves it confidential); without one, the visible
        columns decide, and a dataset described by neither counts as internal.
        """
        visible = [c.classification for c in self.columns if c.name not in denied_columns]
        if self.classification is not None:
            visible.append(self.classification)
        if not visible:
            return Classification.INTERNAL
        return max(visible, key=lambda c: c.rank)

    def visible_classifications(self, denied_columns: Collection[str] = ()) -> frozenset[Classification]:
        """Classifications of the columns still readable once ``denied_columns`` are masked; with no column
        described, the dataset's own classification (its effective one)."""
        if not self.columns:
            return frozenset({self.effective_classification()})
        return frozenset(c.classification for c in self.columns if c.name not in denied_columns)

    def fully_masked(self, denied_columns: frozenset[str]) -> bool:
        """True when every described column is denied, so nothing of it is readable."""
        return bool(self.columns) and all(c.name in denied_columns for c in self.columns)


class PeopleGroup(Record):
    """People a system holds and an agent could contact or expose (customers, contacts, ...)."""

    id: Id
    system: Id | None = Field(default=None, description="System holding them; implied when nested under a system.")
    kind: PeopleKind
    name: Name | None = None
    description: Text | None = None
    count: People | None = Field(default=None, description="How many people. Missing means unknown.")
    dataset: Id | None = Field(
        default=None, description="Dataset holding their records, if any: reading it exposes them."
    )
    external: StrictBool | None = Field(
        default=None, description="Outside the organisation; defaults to true for every kind but employees."
    )

    @property
    def is_external(self) -> bool:
        if self.external is not None:
            return self.external
        return self.kind is not PeopleKind.EMPLOYEES


class System(Record):
    """A system of record an agent reaches through connectors (CRM, warehouse, mail ...)."""

    id: Id
    name: Name | None = None
    kind: Name | None = Field(default=None, description="What it is, e.g. crm, warehouse, email, hris.")
    description: Text | None = None
    owner: Name | None = None
    datasets: tuple[Dataset, ...] = Field(default=(), description="Datasets may be nested here or listed at top level.")
    people: tuple[PeopleGroup, ...] = Field(
        default=(), description="People groups may be nested here or listed at top level."
    )


# ---------------------------------------------------------------------------
# Connectors and tools
# ---------------------------------------------------------------------------


class Tool(Record):
    """One tool a connector exposes (an MCP tool), with what a call does."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s]+$")]
    action: ActionClass
    description: Text | None = None
    reversibility: Reversibility = Field(
        default=Reversibility.IMMEDIATE,
        description="immediate, or soft-delete/staged when the effect can be undone.",
    )
    fan_out: Limit = Field(default=1, description="Records or recipients one call touches at most.")
    leaves_org: StrictBool | None = Field(
        default=None, description="Its effect or data leaves the organisation; defaults to the connector's."
    )
    targets: tuple[Name, ...] | None = Field(
        default=None,
        description="Tables or people-group ids of the system it acts on; all of them when omitted.",
    )
    untrusted_content: StrictBool = Field(
        default=False, description="Returns content from outside (inbound email, web pages, external tickets)."
    )


class Audit(Record):
    """Per-action audit logging and anomaly alerts of a connector (D6, D9 step 5)."""

    log_every_query: StrictBool = False
    alert_if_rows_returned_over: Limit | None = None
    alert_if_sends_over: Limit | None = Field(
        default=None, description="Alert when one call sends to more recipients than this."
    )


class Revocation(Record):
    """How fast a connector's access can be revoked or frozen (the kill switch, D9 step 6)."""

    can_revoke: StrictBool
    time_to_revoke_seconds: Seconds | None = None


class _ConnectorScope(Record):
    """Fields shared by a connector definition and a D6 connector policy."""

    access: Access | None = None
    allowed_tables: tuple[Name, ...] | None = Field(
        default=None, description="Tables the connector may touch; every table of the system when omitted."
    )
    denied_columns: tuple[Name, ...] = ()
    row_limit: Limit | None = Field(default=None, description="Most rows one query returns.")
    requires_approval: StrictBool = Field(
        default=False, description="Every call through this connector needs a human approval."
    )
    audit: Audit | None = None
    tier: _Tier | None = Field(default=None, description="Governance tier (D7).")
    approved_by: Name | None = None
    approved_on: dt.date | None = None


class ConnectorPolicy(_ConnectorScope):
    """A least-privilege connector policy in the shape of DOMAIN.md D6.

    A file holding exactly this shape is part of an inventory: its fields are
    merged into the connector with id ``connector``.
    """

    connector: Id


class Connector(_ConnectorScope):
    """A connector (MCP server) reaching one system, with its tools and scope."""

    id: Id
    name: Name | None = None
    description: Text | None = None
    system: Id | None = Field(default=None, description="The system it reaches. Missing means unknown.")
    tools: tuple[Tool, ...] = ()
    leaves_org: StrictBool = Field(default=False, description="Data or actions through it leave the organisation.")
    revocation: Revocation | None = None

    @property
    def is_read_only(self) -> bool:
        return self.access is Access.READ_ONLY

    def leaves_org_for(self, tool: Tool) -> bool:
        """Whether ``tool``'s effect or data leaves the organisation (the tool's own flag, else the connector's)."""
        return self.leaves_org if tool.leaves_org is None else tool.leaves_org

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)


# ---------------------------------------------------------------------------
# Teams and plugins
# ---------------------------------------------------------------------------


class Team(Record):
    """A team or department, with its headcount."""

    id: Id
    name: Name | None = None
    department: Name | None = Field(
        default=None, description="Department it belongs to; the team is its own department when omitted."
    )
    headcount: People
    description: Text | None = None

    @property
    def department_name(self) -> str:
        return self.department or self.id


class PluginUsers(Record):
    """Who in a team runs a plugin, and how often."""

    team: Id
    users: People | None = Field(
        default=None, description="People of the team who use it; the whole team when omitted."
    )
    runs_per_user_per_day: Rate = 1.0


class PluginConnector(Record):
    """A connector a plugin uses, optionally restricted to some of its tools."""

    connector: Id
    tools: tuple[Name, ...] | None = Field(default=None, description="Tools it may call; all when omitted.")


def _connector_ref(value: Any) -> Any:
    return [{"connector": v} if isinstance(v, str) else v for v in value] if isinstance(value, list | tuple) else value


def _skill_ref(value: Any) -> Any:
    return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list | tuple) else value


class Skill(Record):
    """A skill packaged with a plugin."""

    name: Name
    description: Text | None = None


class PluginKillSwitch(Record):
    """Whether a plugin can be paused for all users, and how fast (D9 step 6)."""

    can_pause: StrictBool
    time_to_pause_seconds: Seconds | None = None
    rehearsed_on: dt.date | None = None


class Plugin(Record):
    """A plugin (agent) wired to connectors, run by teams."""

    id: Id
    name: Name | None = None
    description: Text | None = None
    owner: Id = Field(description="Team that owns the plugin.")
    users: tuple[PluginUsers, ...] = ()
    connectors: Annotated[
        tuple[PluginConnector, ...],
        WithJsonSchema(
            {
                "type": "array",
                "description": "Connector ids, or {connector, tools} to allow only some tools.",
                "items": {
                    "anyOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "properties": {
                                "connector": {"type": "string"},
                                "tools": {"type": "array", "items": {"type": "string"}},
                            },
                            "required": ["connector"],
                            "additionalProperties": False,
                        },
                    ]
                },
            }
        ),
    ] = ()
    requires_approval: tuple[Selector, ...] = Field(
        default=(), description="Actions that need a human approval before they run."
    )
    blocked: tuple[Selector, ...] = Field(default=(), description="Actions the plugin must never run.")
    output: OutputDestination = Field(
        default=OutputDestination.INTERNAL, description="Where its output goes: internal, or external (leaves the org)."
    )
    output_audience: People | None = Field(
        default=None, description="People who typically read one output (forwarding included)."
    )
    review_tier: _Tier | None = Field(default=None, description="Declared review tier of its output (D7).")
    skills: Annotated[
        tuple[Skill, ...],
        WithJsonSchema(
            {
                "type": "array",
                "items": {
                    "anyOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
                            "required": ["name"],
                            "additionalProperties": False,
                        },
                    ]
                },
            }
        ),
    ] = ()
    kill_switch: PluginKillSwitch | None = None

    _normalise_connectors = field_validator("connectors", mode="before")(_connector_ref)
    _normalise_skills = field_validator("skills", mode="before")(_skill_ref)

    @property
    def connector_ids(self) -> tuple[str, ...]:
        return tuple(c.connector for c in self.connectors)

    @property
    def label(self) -> str:
        return self.name or self.id


# ---------------------------------------------------------------------------
# Governance (D7)
# ---------------------------------------------------------------------------


class GovernedConnector(Record):
    """A governance config's entry for a connector, merged with its definition by id."""

    access: Access | None = None
    tier: _Tier | None = None
    approved_by: Name | None = None
    approved_on: dt.date | None = None


class ReviewTierRule(Record):
    rule: Text
    control: Text


class GovernanceAudit(Record):
    log: tuple[Name, ...] = ()


class Governance(Record):
    """The governance config in the shape of DOMAIN.md D7, plus a re-review cadence."""

    connectors: dict[Id, GovernedConnector] = Field(default_factory=dict)
    review_tiers: dict[Literal["1", "2", "3"], ReviewTierRule] = Field(default_factory=dict)
    prohibited: tuple[Text, ...] = ()
    audit: GovernanceAudit | None = None
    re_review_days: Annotated[StrictInt, Field(ge=1, le=MAX_DAYS)] = Field(
        default=90, description="Approvals older than this are stale (quarterly)."
    )
    approved_destinations: tuple[Name, ...] = Field(default=(), description="Destinations approved for exporting PII.")

    @field_validator("review_tiers", mode="before")
    @classmethod
    def _tier_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `1:` as an integer key; the D7 shape writes "1".
        if isinstance(value, Mapping):
            return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v for k, v in value.items()}
        return value


# ---------------------------------------------------------------------------
# The inventory
# ---------------------------------------------------------------------------


class SettingsSource(Record):
    """An analysis settings section found in an inventory (``weights:`` or ``assumptions:``), not yet validated.

    The analysis that owns the settings validates ``data`` and reports problems
    at ``file`` and ``path``.
    """

    data: dict[str, Any]
    file: str
    path: str


_SORTED_FIELDS = frozenset({"teams", "plugins", "connectors", "systems", "datasets", "people"})


class Origin(Record):
    """Where a record was declared: file, key path inside it, and the lines the loader read it from.

    ``line`` is the line of the record's key path (None when the record is a
    whole file, such as a connector policy, or the format has no lines);
    ``lines`` maps each key path inside the record, relative to it
    (``audit.row_limit``, ``tools[0].name``), to its line. Problems and
    evidence find their lines here, without reading the file again.

    Examples
    --------
    >>> o = Origin(file="c.yaml", path="connectors[0]", line=3, lines={"audit": 9, "audit.row_limit": 10})
    >>> o.line_of("audit.row_limit"), o.line_of("audit.nope"), o.line_of("tools[2]"), o.line_of()
    (10, 9, 3, 3)
    >>> o.below("audit").path, o.below("audit").line_of("row_limit")
    ('connectors[0].audit', 10)
    """

    file: str
    path: str
    line: int | None = None
    lines: Mapping[str, int] = Field(default_factory=dict, repr=False)

    def __hash__(self) -> int:
        return hash((self.file, self.path, self.line))

    def line_of(self, key: str = "") -> int | None:
        """The line of ``key`` inside the record, or of the nearest key above it the file writes."""
        probe = key
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.line

    def below(self, key: str) -> Origin:
        """The origin of the part ``key`` of this record (e.g. ``audit`` of a connector policy)."""
        if not key:
            return self
        n = len(key)
        lines = {
            k[n + 1 :] if k[n] == "." else k[n:]: v
            for k, v in self.lines.items()
            if len(k) > n and k.startswith(key) and k[n] in ".["
        }
        path = key if not self.path else self.path + (key if key.startswith("[") else "." + key)
        return Origin(file=self.file, path=path, line=self.line_of(key), lines=lines)


#: Each lookup of an :class:`Inventory` and the field it is built from (a copy keeps those of fields it keeps).
_LOOKUP_FIELDS = {
    "team_by_id": "teams",
    "plugin_by_id": "plugins",
    "connector_by_id": "connectors",
    "system_by_id": "systems",
    "dataset_by_id": "datasets",
    "people_by_id": "people",
    "datasets_by_system": "datasets",
    "people_by_system": "people",
}


class Inventory(BaseModel):
    """A validated inventory: every record, cross-checked, with where it came from.

    Build one with :func:`blastradius.load_inventory`. Lists are tuples in a
    stable order (by id), so results do not depend on how files were split.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    teams: tuple[Team, ...] = ()
    plugins: tuple[Plugin, ...] = ()
    connectors: tuple[Connector, ...] = ()
    systems: tuple[System, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    people: tuple[PeopleGroup, ...] = ()
    governance: Governance = Field(default_factory=Governance)
    origins: Mapping[tuple[str, str], Origin] = Field(default_factory=lambda: MappingProxyType({}))
    settings: Mapping[str, SettingsSource] = Field(
        default_factory=lambda: MappingProxyType({}),
        description="Per-inventory overrides of analysis settings, by section: 'weights', 'assumptions'.",
    )
    warnings: tuple[Problem, ...] = Field(
        default=(), description="Problems that do not stop loading (e.g. a connector with no system)."
    )
    source: str | None = None

    # Lookups -----------------------------------------------------------------

    @cached_property
    def team_by_id(self) -> Mapping[str, Team]:
        return MappingProxyType({t.id: t for t in self.teams})

    @cached_property
    def plugin_by_id(self) -> Mapping[str, Plugin]:
        return MappingProxyType({p.id: p for p in self.plugins})

    @cached_property
    def connector_by_id(self) -> Mapping[str, Connector]:
        return MappingProxyType({c.id: c for c in self.connectors})

    @cached_property
    def system_by_id(self) -> Mapping[str, System]:
        return MappingProxyType({s.id: s for s in self.systems})

    @cached_property
    def dataset_by_id(self) -> Mapping[str, Dataset]:
        return MappingProxyType({d.id: d for d in self.datasets})

    @cached_property
    def people_by_id(self) -> Mapping[str, PeopleGroup]:
        return MappingProxyType({p.id: p for p in self.people})

    @cached_property
    def datasets_by_system(self) -> Mapping[str, tuple[Dataset, ...]]:
        out: dict[str, list[Dataset]] = {}
        for d in self.datasets:
            out.setdefault(d.system or "", []).append(d)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def people_by_system(self) -> Mapping[str, tuple[PeopleGroup, ...]]:
        out: dict[str, list[PeopleGroup]] = {}
        for p in self.people:
            out.setdefault(p.system or "", []).append(p)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    def require(self, kind: str, id: str) -> Any:
        """The record ``id`` of ``kind`` (plugin, connector, team, system, dataset, people), or an error with a hint.

        Raises
        ------
        UnknownIdError
            "no plugin 'x' in the inventory; did you mean 'y'?"
        """
        lookup = getattr(self, f"{kind}_by_id")  # only the lookup asked for is built
        if id not in lookup:
            raise UnknownIdError(kind, id, lookup)
        return lookup[id]

    def department_of(self, plugin: Plugin) -> str:
        """The department of the team that owns ``plugin`` (its owner's id if the team is unknown)."""
        team = self.team_by_id.get(plugin.owner)
        return team.department_name if team else plugin.owner

    def users_of(self, plugin: Plugin) -> list[tuple[PluginUsers, int]]:
        """Each team entry of ``plugin`` with how many people use it (the whole team when not given)."""
        return [(u, self.team_by_id[u.team].headcount if u.users is None else u.users) for u in plugin.users]

    def runs_per_day(self, plugin: Plugin) -> float:
        """Runs of ``plugin`` per working day: users × runs per user per day, over its teams."""
        return sum(n * u.runs_per_user_per_day for u, n in self.users_of(plugin))

    def origin(self, kind: str, id: str) -> Origin | None:
        """Where record ``id`` of ``kind`` (``plugin``, ``connector`` ...) was declared."""
        return self.origins.get((kind, id))

    def replace(self, **changes: Any) -> Inventory:
        """A copy with some fields replaced (what-if levers use it); lookups of replaced fields are rebuilt.

        Collections are kept sorted by id, so a changed inventory compares and
        scores like one loaded from files.
        """
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise TypeError(f"Inventory has no field {', '.join(sorted(unknown))}")
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        for name, value in changes.items():
            if name in _SORTED_FIELDS:
                value = tuple(sorted(value, key=lambda r: r.id))
            fields[name] = value
        new = type(self).model_construct(**fields)
        for lookup, field in _LOOKUP_FIELDS.items():  # a lookup of records that did not change is the same lookup
            if field not in changes and lookup in self.__dict__:
                new.__dict__[lookup] = self.__dict__[lookup]
        return new

    # Summary -----------------------------------------------------------------

    def summary(self) -> dict[str, int]:
        """Counts a reader checks first: teams, people, plugins, connectors, systems, records, people reachable.

        ``records_unknown`` and ``people_groups_unknown`` count datasets and
        people groups whose size is not given (so the totals are lower bounds).
        """
        return {
            "teams": len(self.teams),
            "people": sum(t.headcount for t in self.teams),
            "plugins": len(self.plugins),
            "connectors": len(self.connectors),
            "tools": sum(len(c.tools) for c in self.connectors),
            "systems": len(self.systems),
            "datasets": len(self.datasets),
            "records": sum(d.records or 0 for d in self.datasets),
            "records_unknown": sum(d.records is None for d in self.datasets),
            "people_reachable": sum(p.count or 0 for p in self.people),
            "people_groups_unknown": sum(p.count is None for p in self.people),
        }
