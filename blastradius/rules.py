"""The governance rules: one small function per pitfall of DOMAIN.md D8, and review-tier routing (D7).

Each rule takes a :class:`Context` (an inventory with its scores, computed
once) and yields :class:`~blastradius.findings.Finding` records. :func:`lint`
runs them all. docs/rules.md documents every rule id.

Examples
--------
>>> import datetime as dt
>>> from blastradius import load_inventory
>>> findings = lint(load_inventory("inventories/acme"), as_of=dt.date(2026, 11, 21))
>>> sorted({f.rule for f in findings})[:3]
['BR101', 'BR102', 'BR103']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.domain import (
    HALT_TARGET_SECONDS,
    is_channel_out,
    is_external_commitment,
    is_recipient_action,
    output_leaves_unreviewed,
    plugins_by_connector,
    untrusted_inputs,
)
from blastradius.errors import BlastRadiusError, UnknownIdError
from blastradius.findings import Acceptance, Evidence, Finding, Severity, apply_acceptances, load_acceptances, locate
from blastradius.model import (
    SENSITIVE_CLASSIFICATIONS,
    Access,
    ActionClass,
    Classification,
    Connector,
    Inventory,
    OutputDestination,
    Plugin,
    Reversibility,
    Tool,
)
from blastradius.reach import USABLE, ToolStatus, tool_status, tool_statuses, union_reach
from blastradius.scores import ActionScore, PluginScore, Scorer, is_high_impact
from blastradius.standards import references, rule_references

__all__ = [
    "DIFF_RULES",
    "RULES",
    "Context",
    "acceptances_of",
    "Routing",
    "lint",
    "route_plugin",
    "route_task",
    "rule_catalog",
    "tier_table",
]


_USABLE = USABLE


# ---------------------------------------------------------------------------
# Review-tier routing (D7)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Routing:
    """The review tier the work calls for, and why."""

    tier: int
    reasons: tuple[str, ...]


def route_task(*, sensitive_data: bool, writes_system: bool, leaves_org: bool) -> Routing:
    """Route a described task: sensitive data or a system write → 3; else leaving the org → 2; else 1.

    The tier is decided by the work, never by the person (D7).

    Examples
    --------
    >>> route_task(sensitive_data=False, writes_system=False, leaves_org=True).tier
    2
    >>> route_task(sensitive_data=True, writes_system=False, leaves_org=False).reasons
    ('touches sensitive data',)
    """
    reasons = []
    if sensitive_data:
        reasons.append("touches sensitive data")
    if writes_system:
        reasons.append("writes to a system")
    if reasons:
        return Routing(tier=3, reasons=tuple(reasons))
    if leaves_org:
        return Routing(tier=2, reasons=("leaves the organisation",))
    return Routing(tier=1, reasons=("internal, non-sensitive",))


def route_plugin(source: Inventory | Analysis, plugin: str, *, score: PluginScore | None = None) -> Routing:
    """The review tier ``plugin``'s output should get, from what its usable tools can do.

    Raises
    ------
    UnknownIdError
        When ``plugin`` is not in the inventory.
    """
    analysis = analysis_of(source)
    p = analysis.inventory.require("plugin", plugin)
    ps = score or Scorer(analysis).plugin(p)
    usable = [a for a in ps.actions if a.status in _USABLE]
    sensitive = any(a.sensitive_records > 0 for a in usable if a.action is ActionClass.READ)
    writes = any(
        a.action is not ActionClass.READ and not is_recipient_action(a.action) and (a.reach_records or a.reach_people)
        for a in usable
    )
    leaves = p.output is OutputDestination.EXTERNAL or any(a.channel_out for a in usable)
    return route_task(sensitive_data=sensitive, writes_system=writes, leaves_org=leaves)


def tier_table(source: Inventory | Analysis, *, weights: WeightsLike = None) -> pd.DataFrame:
    """Every plugin's declared and routed review tier, and whether the declared one falls short."""
    analysis = analysis_of(source, weights=weights)
    scorer = Scorer(analysis)
    rows = []
    for p in analysis.inventory.plugins:
        r = route_plugin(analysis, p.id, score=scorer.plugin(p))
        rows.append(
            {
                "plugin": p.id,
                "declared": p.review_tier,
                "routed": r.tier,
                "short": (p.review_tier or 0) < r.tier,
                "why": "; ".join(r.reasons),
            }
        )
    return pd.DataFrame(rows, columns=["plugin", "declared", "routed", "short", "why"])


# ---------------------------------------------------------------------------
# Rule registry and context
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RuleInfo:
    id: str
    title: str
    severity: Severity  # the usual severity; a finding may be raised or lowered by what it finds
    domain: str
    description: str
    check: Callable[[Context], Iterable[Finding]] | None  # None: raised by another command (see ``raised_by``)
    raised_by: str = "lint"


#: Rules :func:`lint` runs on one inventory, by id.
RULES: dict[str, RuleInfo] = {}

#: Rules that compare two snapshots, raised by :func:`blastradius.diff.diff_inventories`, not by :func:`lint`.
DIFF_RULES: dict[str, RuleInfo] = {
    "BR118": RuleInfo(
        id="BR118",
        title="scope expansion without re-approval",
        severity=Severity.HIGH,
        domain="D7, D8",
        description="Between two snapshots a connector's scope widened (access, tables, columns, row limit, alert, "
        "approval gate) while its approver and approval date stayed the same. Raised by `blastradius diff`.",
        check=None,
        raised_by="diff",
    )
}


def rule(
    id: str, *, title: str, severity: Severity, domain: str, description: str
) -> Callable[[Callable[[Context], Iterable[Finding]]], Callable[[Context], Iterable[Finding]]]:
    """Register a rule function under a stable id."""

    def register(fn: Callable[[Context], Iterable[Finding]]) -> Callable[[Context], Iterable[Finding]]:
        RULES[id] = RuleInfo(id=id, title=title, severity=severity, domain=domain, description=description, check=fn)
        return fn

    return register


class Context:
    """An inventory with what the rules need, computed once: scores, tool statuses, who uses what."""

    def __init__(self, source: Inventory | Analysis, *, as_of: dt.date, weights: WeightsLike = None):
        self.analysis = analysis_of(source, weights=weights)
        self.inv = self.analysis.inventory
        self.as_of = as_of
        self.weights = self.analysis.weights
        self.scorer = Scorer(self.analysis)
        self.scope = self.analysis.scope
        self._tools: dict[str, tuple[tuple[Connector, Tool, ToolStatus], ...]] = {}
        self._sensitive_reads: dict[str, list[str]] = {}
        self._read_tables: dict[tuple[str, tuple[str, ...]], tuple[frozenset[str], frozenset[str]]] = {}

    @cached_property
    def scores(self) -> dict[str, PluginScore]:
        return {p.id: self.scorer.plugin(p) for p in self.inv.plugins}

    @cached_property
    def users_of(self) -> dict[str, list[Plugin]]:
        return {cid: [self.inv.plugin_by_id[p] for p in ids] for cid, ids in plugins_by_connector(self.inv).items()}

    def tools(self, plugin: Plugin) -> tuple[tuple[Connector, Tool, ToolStatus], ...]:
        """Every tool of the plugin's connectors, with its status for the plugin (computed once per plugin)."""
        hit = self._tools.get(plugin.id)
        if hit is None:
            hit = self._tools[plugin.id] = tuple(
                (conn, tool, status)
                for conn in (self.inv.connector_by_id[cid] for cid in plugin.connector_ids)
                for tool, status in zip(conn.tools, tool_statuses(plugin, conn), strict=True)
            )
        return hit

    def evidence(self, kind: str, id: str, key: str, detail: str) -> Evidence:
        """Evidence at ``key`` of record ``id``, in the file that set it.

        For merged fields, that is a policy or governance file.
        """
        field = key.split(".", 1)[0].split("[", 1)[0]
        origin = self.inv.origin(f"{kind}.{field}", id) if field else None
        if origin is not None:
            rest = key[len(field) :]
            return Evidence(file=origin.file, path=origin.path + rest, detail=detail)
        origin = self.inv.origin(kind, id)
        if origin is None:  # not declared in any file (e.g. no governance config at all)
            label = kind if kind == id else f"{kind} {id}"
            return Evidence(file=None, path=f"{label}.{key}" if key else label, detail=detail)
        path = origin.path + ("." + key if key and origin.path else key)
        return Evidence(file=origin.file, path=path, detail=detail)

    def reads_sensitive(self, conn: Connector) -> list[str]:
        """Sensitive tables a read through ``conn`` reaches, after its scope."""
        hit = self._sensitive_reads.get(conn.id)
        if hit is None:
            scoped = self.scope.scoped(conn)
            hit = sorted(
                {
                    scoped.tables[i]
                    for t in conn.tools
                    if t.action is ActionClass.READ
                    for i in self.scope.selection(conn, t)[0]
                    if scoped.classification[i] in SENSITIVE_CLASSIFICATIONS
                }
            )
            self._sensitive_reads[conn.id] = hit
        return hit

    def read_tables(self, a: ActionScore) -> tuple[frozenset[str], frozenset[str]]:
        """Of the datasets a read action reaches: ``connector:table`` of those it can see personal data in, and the
        table names of the sensitive ones."""
        key = (a.connector, a.tools)
        hit = self._read_tables.get(key)
        if hit is None:
            denied = self.inv.connector_by_id[a.connector].denied_columns
            pii, sensitive = set(), set()
            for s in a.datasets:
                ds = self.inv.dataset_by_id[s.dataset]
                if Classification.PII in ds.visible_classifications(denied):
                    pii.add(f"{a.connector}:{ds.table_name}")
                if s.sensitive:
                    sensitive.add(ds.table_name)
            hit = self._read_tables[key] = (frozenset(pii), frozenset(sensitive))
        return hit


def _finding(info_id: str, *, severity: Severity | None = None, **kwargs: Any) -> Finding:
    info = RULES.get(info_id) or DIFF_RULES[info_id]
    return Finding(
        rule=info.id,
        title=info.title,
        severity=severity or info.severity,
        domain=info.domain,
        references=rule_references(info.id),
        **kwargs,
    )


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------


@rule(
    "BR101",
    title="mega-connector shared across departments",
    severity=Severity.HIGH,
    domain="D8",
    description="One broadly scoped connector (no allowed tables, and read-write or reading sensitive data) is used "
    "by plugins of several departments: a fault or a compromise in one reaches all of them, and it cannot be "
    "scoped or revoked for one team alone. High when three or more departments share a read-write or "
    "unlimited one.",
)
def _mega_connector(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        plugins = ctx.users_of.get(conn.id, [])
        departments = sorted({ctx.inv.department_of(p) for p in plugins})
        sensitive = ctx.reads_sensitive(conn)
        broad = conn.allowed_tables is None and (conn.access is Access.READ_WRITE or sensitive)
        if len(departments) < 2 or not broad:
            continue
        why = []
        if conn.access is Access.READ_WRITE:
            why.append("read-write")
        if conn.allowed_tables is None:
            why.append("no allowed_tables")
        if conn.row_limit is None:
            why.append("no row_limit")
        if sensitive:
            why.append(f"reads {len(sensitive)} sensitive tables")
        wide = len(departments) >= 3 and (conn.access is Access.READ_WRITE or conn.row_limit is None)
        severity = Severity.HIGH if wide else Severity.MEDIUM
        yield _finding(
            "BR101",
            severity=severity,
            subject_kind="connector",
            subject=conn.id,
            message=f"Connector '{conn.id}' ({', '.join(why)}) is shared by {len(plugins)} plugins of "
            f"{len(departments)} departments ({', '.join(departments)}).",
            fix="Split it into one connector per department, each limited to the tables and tools that department "
            "needs and read-only where nothing writes (`blastradius recommend DIR` shows what each split removes).",
            evidence=(
                ctx.evidence("connector", conn.id, "", "shared by " + ", ".join(p.id for p in plugins)),
                *(
                    ctx.evidence("connector", conn.id, k, f"{k} not set")
                    for k in ("allowed_tables",)
                    if conn.allowed_tables is None
                ),
            ),
        )


@rule(
    "BR102",
    title="ungated high-impact action",
    severity=Severity.HIGH,
    domain="D4, D8",
    description="A send, delete, pay, sign, share, execute, unknown or bulk-write tool runs with no human approval. "
    "Severity grows with its reach: irreversible actions and actions on a thousand or more records or people "
    "are critical.",
)
def _ungated_high_impact(ctx: Context) -> Iterator[Finding]:
    for p in ctx.inv.plugins:
        ps = ctx.scores[p.id]
        by_group = {(a.connector, a.action): a for a in ps.actions}
        for conn, tool, status in ctx.tools(p):
            if status is not ToolStatus.UNGATED or not is_high_impact(tool, weights=ctx.weights):
                continue
            a = by_group[(conn.id, tool.action)]
            reach = a.reach_records + a.reach_people
            # a size not given may be as large as the fan-out: only known sizes below it lower the severity
            size = min(tool.fan_out, reach) if reach and not a.unknowns else tool.fan_out
            if tool.action in (ActionClass.PAY, ActionClass.SIGN) or (
                tool.reversibility is Reversibility.IMMEDIATE and size >= 1000
            ):
                severity = Severity.CRITICAL
            elif size >= 100 or tool.reversibility is Reversibility.IMMEDIATE:
                severity = Severity.HIGH
            else:
                severity = Severity.MEDIUM
            undo = (
                "cannot be undone"
                if tool.reversibility is Reversibility.IMMEDIATE
                else f"is {tool.reversibility.value}"
            )
            yield _finding(
                "BR102",
                severity=severity,
                subject_kind="plugin",
                subject=f"{p.id}:{conn.id}.{tool.name}",
                message=f"Plugin '{p.id}' can {tool.action.value} through {conn.id}.{tool.name} with no approval: "
                f"up to {tool.fan_out:,} per call, reaching {a.reach_records:,} records and {a.reach_people:,} people"
                + (
                    f" and {a.unknowns} {'dataset or group' if a.unknowns == 1 else 'datasets or groups'} "
                    "of unknown size"
                    if a.unknowns
                    else ""
                )
                + f"; it {undo}.",
                fix=f"Require a human approval for {conn.id}.{tool.name} (or for every '{tool.action.value}' "
                "action) in the plugin's approval list (requires_approval), with a prompt that states exactly what "
                "will happen; prefer a staged or soft-delete tool.",
                evidence=(
                    ctx.evidence("plugin", p.id, "requires_approval", "does not name this tool or its action class"),
                    ctx.evidence(
                        "connector",
                        conn.id,
                        "tools",
                        f"{tool.name}: {tool.action.value}, fan_out {tool.fan_out:,}, {tool.reversibility.value}",
                    ),
                ),
            )


@rule(
    "BR103",
    title="read-write where nothing writes",
    severity=Severity.MEDIUM,
    domain="D8, D9",
    description="A connector has read-write access although no plugin using it can call a write tool: read-write "
    "'to be safe' instead of read-only by default.",
)
def _needless_write(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        if conn.access is not Access.READ_WRITE:
            continue
        plugins = ctx.users_of.get(conn.id, [])
        writers = [
            p.id
            for p in plugins
            for tool in conn.tools
            if tool.action is not ActionClass.READ and tool_status(p, conn, tool)[0] in _USABLE
        ]
        if writers:
            continue
        has_write_tools = any(t.action is not ActionClass.READ for t in conn.tools)
        yield _finding(
            "BR103",
            subject_kind="connector",
            subject=conn.id,
            message=f"Connector '{conn.id}' is read-write, but "
            + ("none of its plugins is given a write tool." if has_write_tools else "it exposes no write tool."),
            fix="Make the connector read-only (access: read-only).",
            evidence=(ctx.evidence("connector", conn.id, "access", "read-write"),),
        )


@rule(
    "BR104",
    title="no audit log",
    severity=Severity.HIGH,
    domain="D8, D9",
    description="A connector does not log every call: an agent action you cannot audit is an incident you cannot "
    "investigate.",
)
def _no_audit(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        if conn.audit is not None and conn.audit.log_every_query:
            continue
        writes = any(t.action is not ActionClass.READ for t in conn.tools) and conn.access is Access.READ_WRITE
        sensitive = ctx.reads_sensitive(conn)
        severity = Severity.HIGH if writes or sensitive else Severity.MEDIUM
        key = "audit" if conn.audit is None else "audit.log_every_query"
        yield _finding(
            "BR104",
            severity=severity,
            subject_kind="connector",
            subject=conn.id,
            message=f"Connector '{conn.id}' keeps no per-call audit record"
            + (f"; it reaches sensitive tables ({', '.join(sensitive[:4])})" if sensitive else "")
            + ("; it can write" if writes else "")
            + ".",
            fix="Log every call through the connector (log_every_query: true in its audit settings), recording the "
            "actor, connector, data scope, approver and output hash.",
            evidence=(ctx.evidence("connector", conn.id, key, "missing" if conn.audit is None else "false"),),
        )


@rule(
    "BR105",
    title="no anomaly alert",
    severity=Severity.MEDIUM,
    domain="D4, D9",
    description="A connector that reads data has no alert on large pulls (alert_if_rows_returned_over), or one "
    "that sends has no alert on high send counts (alert_if_sends_over): a systematic fault runs until a human "
    "notices.",
)
def _no_alert(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        if not ctx.users_of.get(conn.id):
            continue
        audit = conn.audit
        if (
            any(t.action is ActionClass.READ for t in conn.tools)
            and ctx.reads_sensitive(conn)
            and (audit is None or audit.alert_if_rows_returned_over is None)
        ):
            yield _finding(
                "BR105",
                subject_kind="connector",
                subject=f"{conn.id}:rows",
                message=f"Connector '{conn.id}' reads sensitive data with no alert on large pulls.",
                fix="Add an alert on large pulls below the row limit, e.g. at half of it (alert_if_rows_returned_over "
                "in its audit settings).",
                evidence=(ctx.evidence("connector", conn.id, "audit", "no alert_if_rows_returned_over"),),
            )
        senders = [t for t in conn.tools if is_recipient_action(t.action) and t.fan_out > 1]
        if senders and conn.access is Access.READ_WRITE and (audit is None or audit.alert_if_sends_over is None):
            yield _finding(
                "BR105",
                subject_kind="connector",
                subject=f"{conn.id}:sends",
                message=f"Connector '{conn.id}' can send to many recipients "
                f"({', '.join(t.name for t in senders)}) with no alert on high send counts.",
                fix="Add an alert on large sends at the largest send a person would expect (alert_if_sends_over in "
                "its audit settings).",
                evidence=(ctx.evidence("connector", conn.id, "audit", "no alert_if_sends_over"),),
            )


@rule(
    "BR106",
    title="alert threshold above the row limit",
    severity=Severity.MEDIUM,
    domain="D6",
    description="The alert on large pulls is set above the connector's row limit, so it can never fire. Files with "
    "this are rejected when loaded; the rule catches what-if changes that lower a row limit below the alert.",
)
def _alert_above_limit(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        threshold = conn.audit.alert_if_rows_returned_over if conn.audit else None
        if threshold is not None and conn.row_limit is not None and threshold > conn.row_limit:
            yield _finding(
                "BR106",
                subject_kind="connector",
                subject=conn.id,
                message=f"Connector '{conn.id}' alerts above {threshold:,} rows "
                f"but returns at most {conn.row_limit:,}.",
                fix=f"Lower the alert on large pulls below the row limit of {conn.row_limit:,} rows.",
                evidence=(ctx.evidence("connector", conn.id, "audit.alert_if_rows_returned_over", f"{threshold:,}"),),
            )


@rule(
    "BR107",
    title="no row limit on sensitive data",
    severity=Severity.HIGH,
    domain="D6, D9",
    description="A connector reads sensitive tables with no row limit: one query can pull all of them.",
)
def _no_row_limit(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        if conn.row_limit is not None or not ctx.users_of.get(conn.id):
            continue
        sensitive = ctx.reads_sensitive(conn)
        if not sensitive:
            continue
        reads = union_reach(
            (conn.id, ctx.scope.tool_reach(conn, t)) for t in conn.tools if t.action is ActionClass.READ
        )
        more = " and tables of unknown size" if reads.unbounded_datasets else ""
        yield _finding(
            "BR107",
            subject_kind="connector",
            subject=conn.id,
            message=f"Connector '{conn.id}' can read {reads.sensitive_records:,} sensitive records{more} "
            f"({', '.join(sensitive[:5])}"
            + (f" and {len(sensitive) - 5} more" if len(sensitive) > 5 else "")
            + ") with no row limit.",
            fix="Set a row limit (row_limit) at the largest result a legitimate task needs, with an alert below it.",
            evidence=(ctx.evidence("connector", conn.id, "row_limit", "not set"),),
        )


#: Column names that identify a person or open an account: masked unless a task truly needs them.
_HIGH_RISK_COLUMN = re.compile(
    r"(ssn|social_security|national_id|passport|tax_id|bank_account|iban|account_number|routing_number|card_number|"
    r"cvv|date_of_birth|\bdob\b|birth_date|password|secret|api_key|token|private_key|personal_|home_address|"
    r"comp_individual|medical|diagnosis)",
    re.IGNORECASE,
)


def _high_risk(column: Any) -> bool:
    """Credentials and health data always; other sensitive columns when their name marks a high-risk identifier."""
    return _high_risk_column(column.classification, column.name)


@lru_cache(maxsize=65536)
def _high_risk_column(classification: Classification, name: str) -> bool:
    if classification in (Classification.CREDENTIALS, Classification.HEALTH):
        return True
    return classification in SENSITIVE_CLASSIFICATIONS and bool(_HIGH_RISK_COLUMN.search(name))


@rule(
    "BR108",
    title="sensitive columns not denied",
    severity=Severity.HIGH,
    domain="D6, D9",
    description="A connector can read high-risk columns it does not deny: credentials and health data, and "
    "sensitive identifiers such as national ids, bank accounts, dates of birth, personal contact details or "
    "individual pay (the D6 policy denies ssn, bank_account, comp_individual). Names and work emails a task "
    "needs are left to the leakage rules (BR115, BR116).",
)
def _columns_not_denied(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        if not ctx.users_of.get(conn.id):
            continue
        denied = frozenset(conn.denied_columns)
        exposed: dict[str, list[str]] = {}
        scoped = ctx.scope.scoped(conn)
        reads = [ctx.scope.selection(conn, t)[0] for t in conn.tools if t.action is ActionClass.READ]
        for i in dict.fromkeys(i for positions in reads for i in positions):  # each dataset once, as first read
            ds = ctx.inv.dataset_by_id[scoped.ids[i]]
            for col in ds.columns:
                if col.name not in denied and _high_risk(col):
                    cols = exposed.setdefault(ds.table_name, [])
                    if col.name not in cols:
                        cols.append(col.name)
        if not exposed:
            continue
        listing = "; ".join(f"{t}: {', '.join(c)}" for t, c in sorted(exposed.items())[:4])
        columns = sorted({c for cols in exposed.values() for c in cols})
        yield _finding(
            "BR108",
            subject_kind="connector",
            subject=conn.id,
            message=f"Connector '{conn.id}' can read high-risk columns it does not deny ({listing}).",
            fix="Deny these columns in the connector's scope (denied_columns): "
            + ", ".join(columns[:8])
            + (" ..." if len(columns) > 8 else "")
            + ".",
            evidence=(ctx.evidence("connector", conn.id, "denied_columns", "does not list " + ", ".join(columns[:6])),),
        )


@rule(
    "BR109",
    title="plugin cannot be paused fast",
    severity=Severity.HIGH,
    domain="D8, D9",
    description=f"A plugin has no kill switch (cannot be paused for all users), or pausing it takes longer than "
    f"{HALT_TARGET_SECONDS:.0f} seconds, or it was never rehearsed.",
)
def _no_pause(ctx: Context) -> Iterator[Finding]:
    for p in ctx.inv.plugins:
        ks = p.kill_switch
        if ks is None or not ks.can_pause:
            yield _finding(
                "BR109",
                subject_kind="plugin",
                subject=p.id,
                message=f"Plugin '{p.id}' cannot be paused for all users: a bad run keeps going until each user stops.",
                fix="Give it a kill switch that pauses it for everyone in one action (can_pause: true in its "
                "kill_switch), and rehearse it.",
                evidence=(
                    ctx.evidence(
                        "plugin",
                        p.id,
                        "kill_switch" if ks is None else "kill_switch.can_pause",
                        "missing" if ks is None else "false",
                    ),
                ),
            )
        elif ks.time_to_pause_seconds is None or ks.time_to_pause_seconds > HALT_TARGET_SECONDS:
            when = "an unknown time" if ks.time_to_pause_seconds is None else f"{ks.time_to_pause_seconds:,.0f} s"
            yield _finding(
                "BR109",
                severity=Severity.MEDIUM,
                subject_kind="plugin",
                subject=p.id,
                message=f"Plugin '{p.id}' takes {when} to pause (target: {HALT_TARGET_SECONDS:.0f} s).",
                fix="Automate the pause so it takes seconds, and rehearse it.",
                evidence=(ctx.evidence("plugin", p.id, "kill_switch.time_to_pause_seconds", when),),
            )
        elif ks.rehearsed_on is None:
            yield _finding(
                "BR109",
                severity=Severity.LOW,
                subject_kind="plugin",
                subject=p.id,
                message=f"Plugin '{p.id}' has a kill switch that was never rehearsed.",
                fix="Rehearse the pause and record the date (rehearsed_on in its kill_switch).",
                evidence=(ctx.evidence("plugin", p.id, "kill_switch", "no rehearsed_on"),),
            )


@rule(
    "BR110",
    title="connector cannot be revoked fast",
    severity=Severity.MEDIUM,
    domain="D8, D9",
    description=f"A connector's access cannot be revoked or frozen, or revoking it takes longer than "
    f"{HALT_TARGET_SECONDS:.0f} seconds.",
)
def _no_revoke(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        if not ctx.users_of.get(conn.id):
            continue
        rv = conn.revocation
        if rv is None or not rv.can_revoke:
            yield _finding(
                "BR110",
                severity=Severity.HIGH if conn.access is Access.READ_WRITE else Severity.MEDIUM,
                subject_kind="connector",
                subject=conn.id,
                message=f"Connector '{conn.id}' has no way to revoke or freeze its access quickly.",
                fix="Set up a one-step revocation or freeze of its access (can_revoke: true in its revocation) and "
                "measure how long it takes.",
                evidence=(
                    ctx.evidence("connector", conn.id, "revocation", "missing" if rv is None else "can_revoke: false"),
                ),
            )
        elif rv.time_to_revoke_seconds is None or rv.time_to_revoke_seconds > HALT_TARGET_SECONDS:
            when = "an unknown time" if rv.time_to_revoke_seconds is None else f"{rv.time_to_revoke_seconds:,.0f} s"
            yield _finding(
                "BR110",
                subject_kind="connector",
                subject=conn.id,
                message=f"Connector '{conn.id}' takes {when} to revoke (target: {HALT_TARGET_SECONDS:.0f} s).",
                fix="Automate revocation so it takes seconds.",
                evidence=(ctx.evidence("connector", conn.id, "revocation.time_to_revoke_seconds", when),),
            )


@rule(
    "BR111",
    title="stale approval",
    severity=Severity.MEDIUM,
    domain="D7, D8",
    description="A connector was approved longer ago than the re-review cadence (governance re_review_days, "
    "quarterly by default): governance set once and never re-reviewed.",
)
def _stale(ctx: Context) -> Iterator[Finding]:
    cadence = ctx.inv.governance.re_review_days
    for conn in ctx.inv.connectors:
        if conn.approved_on is None:
            continue
        age = (ctx.as_of - conn.approved_on).days
        if age > cadence:
            yield _finding(
                "BR111",
                severity=Severity.HIGH if age > 2 * cadence and conn.access is Access.READ_WRITE else Severity.MEDIUM,
                subject_kind="connector",
                subject=conn.id,
                message=f"Connector '{conn.id}' was approved {age} days ago ({conn.approved_on}); re-review is due "
                f"every {cadence} days.",
                fix="Re-review its scope and record who approved it and when (approved_by, approved_on).",
                evidence=(ctx.evidence("connector", conn.id, "approved_on", str(conn.approved_on)),),
            )


@rule(
    "BR112",
    title="approval missing",
    severity=Severity.MEDIUM,
    domain="D7",
    description="A connector has no approver or no approval date: nobody owns its scope.",
)
def _missing_approval(ctx: Context) -> Iterator[Finding]:
    for conn in ctx.inv.connectors:
        missing = [k for k in ("approved_by", "approved_on") if getattr(conn, k) is None]
        if not missing:
            continue
        yield _finding(
            "BR112",
            severity=Severity.HIGH if conn.access is Access.READ_WRITE and len(missing) == 2 else Severity.MEDIUM,
            subject_kind="connector",
            subject=conn.id,
            message=f"Connector '{conn.id}' has no {' and no '.join(m.replace('_', ' ') for m in missing)}.",
            fix="Have its scope approved and record who approved it and when (approved_by, approved_on).",
            evidence=tuple(ctx.evidence("connector", conn.id, k, "not set") for k in missing),
        )


@rule(
    "BR113",
    title="review tier below the routed tier",
    severity=Severity.HIGH,
    domain="D7",
    description="A plugin declares a lower review tier than its work calls for (sensitive data or a system write → 3, "
    "leaving the org → 2, else 1): one review policy for everything.",
)
def _tier(ctx: Context) -> Iterator[Finding]:
    for p in ctx.inv.plugins:
        r = route_plugin(ctx.analysis, p.id, score=ctx.scores[p.id])
        declared = p.review_tier or 0
        if declared >= r.tier:
            continue
        yield _finding(
            "BR113",
            severity=Severity.HIGH if r.tier - declared >= 2 else Severity.MEDIUM,
            subject_kind="plugin",
            subject=p.id,
            message=f"Plugin '{p.id}' declares review tier {p.review_tier or 'none'}, but its work routes to tier "
            f"{r.tier} ({'; '.join(r.reasons)}).",
            fix=f"Raise the plugin's review tier (review_tier) to {r.tier}"
            + {3: " (dual review + audit log)", 2: " (a named reviewer signs off)", 1: " (spot-check)"}[r.tier]
            + ".",
            evidence=(ctx.evidence("plugin", p.id, "review_tier", str(p.review_tier)),),
        )


def _prohibited(ctx: Context, *words: str) -> str | None:
    for item in ctx.inv.governance.prohibited:
        text = item.lower()
        if all(w in text for w in words):
            return item
    return None


@rule(
    "BR114",
    title="external commitment sent without review",
    severity=Severity.CRITICAL,
    domain="D7",
    description="A plugin can send, sign or pay outside the organisation with no approval and no named review: the "
    "prohibited use 'auto-send external commitments without review'. Critical when the governance config "
    "prohibits it, high otherwise.",
)
def _auto_send(ctx: Context) -> Iterator[Finding]:
    listed = _prohibited(ctx, "auto-send", "external")
    for p in ctx.inv.plugins:
        tools = [
            f"{c.id}.{t.name}" for c, t, s in ctx.tools(p) if s is ToolStatus.UNGATED and is_external_commitment(c, t)
        ]
        if not tools:
            continue
        yield _finding(
            "BR114",
            severity=Severity.CRITICAL if listed else Severity.HIGH,
            subject_kind="plugin",
            subject=p.id,
            message=f"Plugin '{p.id}' can commit the organisation externally with no human in the loop "
            f"({', '.join(tools)})" + (f", which the governance config prohibits: '{listed}'." if listed else "."),
            fix="Require a human approval for these tools (requires_approval) so a named person reviews each "
            "external commitment"
            + ("" if listed else ", and add the use to the governance config's prohibited list")
            + ".",
            evidence=(
                ctx.evidence("plugin", p.id, "requires_approval", "does not cover " + ", ".join(tools)),
                *((ctx.evidence("governance", "governance", "prohibited", listed),) if listed else ()),
            ),
        )


def _pii_readers(ctx: Context, p: Plugin) -> list[str]:
    tables: set[str] = set()
    for a in ctx.scores[p.id].actions:
        if a.action is ActionClass.READ and a.status in _USABLE:
            tables |= ctx.read_tables(a)[0]
    return sorted(tables)


def _ways_out(ctx: Context, p: Plugin) -> list[tuple[str, ToolStatus]]:
    out = []
    for c, t, s in ctx.tools(p):
        if s in _USABLE and is_channel_out(c, t):
            out.append((f"{c.id}.{t.name}", s))
    return out


@rule(
    "BR115",
    title="PII export to an unapproved destination",
    severity=Severity.HIGH,
    domain="D7",
    description="A plugin can read personal data and has an ungated channel out of the organisation that is not an "
    "approved destination (governance approved_destinations): the prohibited use 'PII export to unapproved "
    "destinations'.",
)
def _pii_export(ctx: Context) -> Iterator[Finding]:
    listed = _prohibited(ctx, "pii", "export")
    approved = set(ctx.inv.governance.approved_destinations)
    for p in ctx.inv.plugins:
        pii = _pii_readers(ctx, p)
        if not pii:
            continue
        ways = [w for w, s in _ways_out(ctx, p) if s is ToolStatus.UNGATED and w.split(".")[0] not in approved]
        if output_leaves_unreviewed(p) and "output" not in approved:
            ways.append("its output (unreviewed, leaves the organisation)")
        if not ways:
            continue
        yield _finding(
            "BR115",
            severity=Severity.CRITICAL if listed else Severity.HIGH,
            subject_kind="plugin",
            subject=p.id,
            message=f"Plugin '{p.id}' reads personal data ({', '.join(pii[:4])}) and can send it out through "
            f"{', '.join(ways[:4])} with no approval"
            + (f", which the governance config prohibits: '{listed}'." if listed else "."),
            fix="Mask the personal columns, gate the channel out, or, once the destination is approved, add it to "
            "the governance config's approved destinations (approved_destinations).",
            evidence=(ctx.evidence("plugin", p.id, "connectors", "reads " + ", ".join(pii[:4])),),
        )


def _untrusted(ctx: Context, p: Plugin) -> list[str]:
    return untrusted_inputs((c, t, s in _USABLE) for c, t, s in ctx.tools(p))


@rule(
    "BR116",
    title="lethal trifecta: untrusted input, private data, a way out",
    severity=Severity.CRITICAL,
    domain="D5, D8",
    description="A plugin takes in untrusted content (inbound email, web pages, outside tickets), can read sensitive "
    "data and has a channel to the outside: one injected instruction can exfiltrate the data. Critical when the "
    "channel is ungated; low when every channel out needs a human.",
)
def _trifecta(ctx: Context) -> Iterator[Finding]:
    for p in ctx.inv.plugins:
        untrusted = _untrusted(ctx, p)
        if not untrusted:
            continue
        ps = ctx.scores[p.id]
        sensitive = sorted(
            {
                t
                for a in ps.actions
                if a.action is ActionClass.READ and a.status in _USABLE
                for t in ctx.read_tables(a)[1]
            }
        )
        ways = _ways_out(ctx, p)
        if p.output is OutputDestination.EXTERNAL:
            ways.append(("its output", ToolStatus.UNGATED if output_leaves_unreviewed(p) else ToolStatus.GATED))
        if not sensitive or not ways:
            continue
        open_ways = [w for w, s in ways if s is ToolStatus.UNGATED]
        yield _finding(
            "BR116",
            severity=Severity.CRITICAL if open_ways else Severity.LOW,
            subject_kind="plugin",
            subject=p.id,
            message=f"Plugin '{p.id}' reads untrusted content ({', '.join(untrusted[:3])}), can read sensitive data "
            f"({', '.join(sensitive[:4])}) and can reach the outside through "
            f"{', '.join(w for w, _ in ways[:4])}"
            + (
                " with no approval."
                if open_ways
                else "; every channel out needs a human approval, which is then the last defence."
            ),
            fix="Break the trifecta: drop the untrusted source, narrow the sensitive reads, or gate (better: remove) "
            "every channel out of the organisation.",
            evidence=(
                ctx.evidence("plugin", p.id, "connectors", "untrusted: " + ", ".join(untrusted[:3])),
                ctx.evidence(
                    "plugin", p.id, "requires_approval", "open channels: " + (", ".join(open_ways[:4]) or "none")
                ),
            ),
        )


@rule(
    "BR117",
    title="untrusted input next to a destructive or paying tool",
    severity=Severity.CRITICAL,
    domain="D5, D8",
    description="A plugin takes in untrusted content and can delete, pay, sign or run code: an injected instruction "
    "can trigger them. Critical when such a tool is ungated, low when each call needs a human.",
)
def _untrusted_destructive(ctx: Context) -> Iterator[Finding]:
    dangerous = (ActionClass.DELETE, ActionClass.PAY, ActionClass.SIGN, ActionClass.EXECUTE, ActionClass.UNKNOWN)
    for p in ctx.inv.plugins:
        untrusted = _untrusted(ctx, p)
        if not untrusted:
            continue
        tools = [(f"{c.id}.{t.name}", s) for c, t, s in ctx.tools(p) if s in _USABLE and t.action in dangerous]
        if not tools:
            continue
        open_tools = [n for n, s in tools if s is ToolStatus.UNGATED]
        yield _finding(
            "BR117",
            severity=Severity.CRITICAL if open_tools else Severity.LOW,
            subject_kind="plugin",
            subject=p.id,
            message=f"Plugin '{p.id}' reads untrusted content ({', '.join(untrusted[:3])}) and can call "
            f"{', '.join(n for n, _ in tools[:4])}" + (" with no approval." if open_tools else " after approval."),
            fix="Separate the plugin that reads outside content from the one that acts, "
            "or gate every destructive tool.",
            evidence=(ctx.evidence("plugin", p.id, "connectors", "untrusted: " + ", ".join(untrusted[:3])),),
        )


@rule(
    "BR119",
    title="prohibited-use list missing",
    severity=Severity.MEDIUM,
    domain="D7, D8",
    description="The governance config lists no prohibited uses: it should be written before scaling, not after the "
    "first incident.",
)
def _no_prohibited(ctx: Context) -> Iterator[Finding]:
    if not ctx.inv.governance.prohibited:
        yield _finding(
            "BR119",
            subject_kind="governance",
            subject="governance",
            message="The governance config has no prohibited-use list.",
            fix="Add a prohibited-use list to the governance config (prohibited), e.g. 'auto-send external "
            "commitments without review', "
            "'connector scope expansion without re-approval', 'PII export to unapproved destinations'.",
            evidence=(ctx.evidence("governance", "governance", "prohibited", "empty"),),
        )


@rule(
    "BR120",
    title="one review policy for everything",
    severity=Severity.MEDIUM,
    domain="D7, D8",
    description="The governance config defines no review tiers, or plugins declare none: oversight does not scale "
    "with the stakes.",
)
def _no_tiers(ctx: Context) -> Iterator[Finding]:
    if not ctx.inv.governance.review_tiers:
        yield _finding(
            "BR120",
            subject_kind="governance",
            subject="governance",
            message="The governance config defines no review tiers.",
            fix="Define review tiers in the governance config (review_tiers): 1 spot-check, 2 named reviewer, "
            "3 dual review + audit.",
            evidence=(ctx.evidence("governance", "governance", "review_tiers", "missing"),),
        )


# ---------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------


def lint(
    source: Inventory | Analysis,
    *,
    as_of: dt.date | None = None,
    weights: WeightsLike = None,
    acceptances: Iterable[Acceptance] = (),
    rules: Iterable[str] | None = None,
) -> list[Finding]:
    """Run every rule (or those named) on an inventory; findings most severe first, with lines located.

    ``as_of`` is the date approvals are aged against (today by default), and
    the date acceptances expire against. Acceptances come from the
    inventory's own ``acceptances:`` section and from ``acceptances``.

    Raises
    ------
    UnknownIdError
        When ``rules`` names a rule that does not exist.
    BlastRadiusError
        When ``rules`` names a rule that compares two snapshots (BR118: see ``blastradius diff``).
    """
    as_of = as_of or dt.date.today()
    ctx = Context(source, as_of=as_of, weights=weights)
    inventory = ctx.inv
    selected = [_lint_rule(r) for r in rules] if rules is not None else [RULES[r] for r in sorted(RULES)]
    findings = [f for info in selected for f in info.check(ctx)]  # type: ignore[misc]
    findings = apply_acceptances(findings, acceptances_of(inventory, acceptances), as_of=as_of)
    findings.sort(key=lambda f: (-f.severity.rank, f.rule, f.subject))
    return locate(findings, inventory=inventory)


def _lint_rule(rule_id: str) -> RuleInfo:
    if rule_id in RULES:
        return RULES[rule_id]
    if rule_id in DIFF_RULES:
        raise BlastRadiusError(f"rule {rule_id} compares two snapshots: run `blastradius diff OLD NEW` to check it")
    from blastradius.calibrate.rules import CALIBRATION_RULES  # raised from logs, by `blastradius calibrate`

    if rule_id in CALIBRATION_RULES:
        raise BlastRadiusError(f"rule {rule_id} reads the logs: run `blastradius calibrate DIR --logs ...` to check it")
    raise UnknownIdError("rule", rule_id, [*RULES, *DIFF_RULES], where="among the lint rules")


def acceptances_of(inventory: Inventory, extra: Iterable[Acceptance] = ()) -> list[Acceptance]:
    """The inventory's own ``acceptances:`` section, then ``extra`` (e.g. from ``--accept FILE``)."""
    own = inventory.settings.get("acceptances")
    return [*(load_acceptances(own) if own is not None else ()), *extra]


def rule_catalog(*, calibration: bool = False) -> dict[str, dict[str, Any]]:
    """Rule id -> title, description, usual severity, DOMAIN section and the framework entries it refers to
    (``standards``: framework -> entry ids, :mod:`blastradius.standards`), for SARIF and docs; with
    ``calibration``, the rules `blastradius calibrate` raises from logs too (docs/calibration.md).

    Examples
    --------
    >>> rule_catalog()["BR102"]["standards"]["owasp-llm"]
    ['LLM06']
    """
    from blastradius.calibrate.rules import CALIBRATION_RULES

    extra = [*CALIBRATION_RULES.values()] if calibration else []
    return {
        r.id: {
            "title": r.title,
            "description": r.description,
            "severity": r.severity.value,
            "domain": r.domain,
            "standards": {key: list(ids) for key, ids in references(r.id).items()},
        }
        for r in sorted([*RULES.values(), *DIFF_RULES.values(), *extra], key=lambda r: r.id)
    }
