"""Snapshot diff: how two versions of an inventory differ, in scope and in risk (D7, D8).

This is how a quarterly re-review or a change request is reviewed: what was
added or removed, every scope widened or narrowed, the blast-radius change per
plugin, and the finding "scope expansion without re-approval" (BR118) when a
connector's scope widened while its approver and approval date stayed the same.

Examples
--------
>>> from blastradius import load_inventory
>>> d = diff_inventories(load_inventory("inventories/acme"), load_inventory("inventories/acme-governed"))
>>> bool((d.scores.after <= d.scores.before).all())
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from blastradius.analysis import Analysis, WeightsLike, analysis_of
from blastradius.errors import BlastRadiusError
from blastradius.export.policy import PolicySnapshot, is_policy_export, read_policy, snapshot_of
from blastradius.findings import Evidence, Finding, Severity, locate
from blastradius.levers import _access_differences
from blastradius.loader import load_inventory
from blastradius.model import Access, Connector, Inventory, OutputDestination, Reversibility
from blastradius.rules import DIFF_RULES
from blastradius.scores import score_plugins
from blastradius.standards import rule_references

__all__ = [
    "Change",
    "InventoryDiff",
    "PolicyDiff",
    "changes_frame",
    "diff_inventories",
    "diff_policies",
    "diff_policy_paths",
]

_REVERSIBILITY_RANK = {Reversibility.STAGED: 0, Reversibility.SOFT_DELETE: 1, Reversibility.IMMEDIATE: 2}


@dataclass(frozen=True, kw_only=True)
class Change:
    """One difference between two snapshots.

    ``direction`` is ``added``, ``removed``, ``widened`` (more access, less
    control), ``narrowed`` or ``changed`` (neither, e.g. a new approver).
    """

    kind: str  # connector, tool, plugin
    subject: str
    field: str
    old: str
    new: str
    direction: str

    def __str__(self) -> str:
        if self.direction in ("added", "removed"):
            return f"{self.kind} {self.subject} {self.direction}" + (f" ({self.field})" if self.field else "")
        if not self.old:
            return f"{self.kind} {self.subject}: {self.field} {self.new} ({self.direction})"
        if not self.new:
            return f"{self.kind} {self.subject}: {self.field} {self.old} ({self.direction})"
        return f"{self.kind} {self.subject}: {self.field} {self.old} → {self.new} ({self.direction})"


@dataclass(frozen=True, kw_only=True)
class InventoryDiff:
    """What changed between ``old`` and ``new``, the score of every plugin before and after, and findings."""

    old: str
    new: str
    changes: tuple[Change, ...]
    scores: pd.DataFrame
    findings: tuple[Finding, ...]

    def widened(self) -> list[Change]:
        return [c for c in self.changes if c.direction in ("widened", "added")]

    def narrowed(self) -> list[Change]:
        return [c for c in self.changes if c.direction in ("narrowed", "removed")]


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple | list | set | frozenset):
        return "[" + ", ".join(map(str, value)) + "]" if value else "[]"
    return str(getattr(value, "value", value))


def _more(old: int | None, new: int | None) -> str | None:
    """Direction of a limit changing from ``old`` to ``new`` (None = no limit)."""
    if old == new:
        return None
    if new is None:
        return "widened"
    if old is None:
        return "narrowed"
    return "widened" if new > old else "narrowed"


def _set_change(
    kind: str, subject: str, field: str, old: Iterable[str], new: Iterable[str], *, more_is_wider: bool
) -> Iterator[Change]:
    old_set, new_set = set(old), set(new)
    added, removed = sorted(new_set - old_set), sorted(old_set - new_set)
    if added:
        yield Change(
            kind=kind,
            subject=subject,
            field=field,
            old="",
            new="+" + ", +".join(added),
            direction="widened" if more_is_wider else "narrowed",
        )
    if removed:
        yield Change(
            kind=kind,
            subject=subject,
            field=field,
            old="-" + ", -".join(removed),
            new="",
            direction="narrowed" if more_is_wider else "widened",
        )


def _connector_changes(old: Connector, new: Connector) -> Iterator[Change]:
    cid = new.id
    if old.system != new.system:
        yield Change(
            kind="connector",
            subject=cid,
            field="system",
            old=_text(old.system),
            new=_text(new.system),
            direction="changed",
        )
    if old.access != new.access:
        wider = new.access is Access.READ_WRITE
        yield Change(
            kind="connector",
            subject=cid,
            field="access",
            old=_text(old.access),
            new=_text(new.access),
            direction="widened" if wider else "narrowed",
        )
    if old.allowed_tables != new.allowed_tables:
        if new.allowed_tables is None:
            yield Change(
                kind="connector",
                subject=cid,
                field="allowed_tables",
                old=_text(old.allowed_tables),
                new="every table",
                direction="widened",
            )
        elif old.allowed_tables is None:
            yield Change(
                kind="connector",
                subject=cid,
                field="allowed_tables",
                old="every table",
                new=_text(new.allowed_tables),
                direction="narrowed",
            )
        else:
            yield from _set_change(
                "connector", cid, "allowed_tables", old.allowed_tables, new.allowed_tables, more_is_wider=True
            )
    yield from _set_change(
        "connector", cid, "denied_columns", old.denied_columns, new.denied_columns, more_is_wider=False
    )
    direction = _more(old.row_limit, new.row_limit)
    if direction:
        yield Change(
            kind="connector",
            subject=cid,
            field="row_limit",
            old=_text(old.row_limit),
            new=_text(new.row_limit),
            direction=direction,
        )
    if old.requires_approval != new.requires_approval:
        yield Change(
            kind="connector",
            subject=cid,
            field="requires_approval",
            old=_text(old.requires_approval),
            new=_text(new.requires_approval),
            direction="narrowed" if new.requires_approval else "widened",
        )
    o_audit, n_audit = old.audit, new.audit
    o_log = bool(o_audit and o_audit.log_every_query)
    n_log = bool(n_audit and n_audit.log_every_query)
    if o_log != n_log:
        yield Change(
            kind="connector",
            subject=cid,
            field="audit.log_every_query",
            old=_text(o_log),
            new=_text(n_log),
            direction="narrowed" if n_log else "widened",
        )
    for key in ("alert_if_rows_returned_over", "alert_if_sends_over"):
        a, b = getattr(o_audit, key, None) if o_audit else None, getattr(n_audit, key, None) if n_audit else None
        direction = _more(a, b)
        if direction:
            yield Change(
                kind="connector", subject=cid, field=f"audit.{key}", old=_text(a), new=_text(b), direction=direction
            )
    old_tools = {t.name: t for t in old.tools}
    new_tools = {t.name: t for t in new.tools}
    for name in sorted(set(new_tools) - set(old_tools)):
        yield Change(
            kind="tool", subject=f"{cid}.{name}", field=new_tools[name].action.value, old="", new="", direction="added"
        )
    for name in sorted(set(old_tools) - set(new_tools)):
        yield Change(
            kind="tool",
            subject=f"{cid}.{name}",
            field=old_tools[name].action.value,
            old="",
            new="",
            direction="removed",
        )
    for name in sorted(set(old_tools) & set(new_tools)):
        a, b = old_tools[name], new_tools[name]
        if a.action != b.action:
            yield Change(
                kind="tool",
                subject=f"{cid}.{name}",
                field="action",
                old=a.action.value,
                new=b.action.value,
                direction="changed",
            )
        if a.fan_out != b.fan_out:
            yield Change(
                kind="tool",
                subject=f"{cid}.{name}",
                field="fan_out",
                old=_text(a.fan_out),
                new=_text(b.fan_out),
                direction="widened" if b.fan_out > a.fan_out else "narrowed",
            )
        if a.reversibility != b.reversibility:
            wider = _REVERSIBILITY_RANK[b.reversibility] > _REVERSIBILITY_RANK[a.reversibility]
            yield Change(
                kind="tool",
                subject=f"{cid}.{name}",
                field="reversibility",
                old=a.reversibility.value,
                new=b.reversibility.value,
                direction="widened" if wider else "narrowed",
            )
        if a.targets != b.targets:
            if b.targets is None:
                yield Change(
                    kind="tool",
                    subject=f"{cid}.{name}",
                    field="targets",
                    old=_text(a.targets),
                    new="everything",
                    direction="widened",
                )
            elif a.targets is None:
                yield Change(
                    kind="tool",
                    subject=f"{cid}.{name}",
                    field="targets",
                    old="everything",
                    new=_text(b.targets),
                    direction="narrowed",
                )
            else:
                yield from _set_change("tool", f"{cid}.{name}", "targets", a.targets, b.targets, more_is_wider=True)
    for key in ("tier", "approved_by", "approved_on"):
        a, b = getattr(old, key), getattr(new, key)
        if a != b:
            yield Change(kind="connector", subject=cid, field=key, old=_text(a), new=_text(b), direction="changed")


def _plugin_changes(old_a: Analysis, new_a: Analysis, pid: str) -> Iterator[Change]:
    """A plugin's changed settings (as written), then what it can actually do more or less of.

    Connectors, tool lists, gates and blocks are compared by their effect, tool
    by tool (a gate on ``delete`` replacing one on ``crm.delete_contact`` is not
    a widening), through :func:`blastradius.levers.access_changes`.
    """
    old, new = old_a.inventory.plugin_by_id[pid], new_a.inventory.plugin_by_id[pid]
    for field in ("connectors", "requires_approval", "blocked"):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            render = (
                (lambda v: _text([c.connector if c.tools is None else f"{c.connector}{list(c.tools)}" for c in v]))
                if field == "connectors"
                else _text
            )
            yield Change(kind="plugin", subject=pid, field=field, old=render(a), new=render(b), direction="changed")
    for what, detail, widens in _access_differences(old_a, new_a, pid):
        yield Change(
            kind="plugin", subject=pid, field=what, old="", new=detail, direction="widened" if widens else "narrowed"
        )
    if old.output != new.output:
        yield Change(
            kind="plugin",
            subject=pid,
            field="output",
            old=old.output.value,
            new=new.output.value,
            direction="widened" if new.output is OutputDestination.EXTERNAL else "narrowed",
        )
    if old.review_tier != new.review_tier:
        yield Change(
            kind="plugin",
            subject=pid,
            field="review_tier",
            old=_text(old.review_tier),
            new=_text(new.review_tier),
            direction="narrowed" if (new.review_tier or 0) > (old.review_tier or 0) else "widened",
        )
    o_users = sum(u.users or 0 for u in old.users)
    n_users = sum(u.users or 0 for u in new.users)
    if o_users != n_users:
        yield Change(
            kind="plugin",
            subject=pid,
            field="users",
            old=_text(o_users),
            new=_text(n_users),
            direction="widened" if n_users > o_users else "narrowed",
        )


def _expansion_findings(old: Inventory, new: Inventory, changes: list[Change]) -> list[Finding]:
    listed = next((p for p in new.governance.prohibited if "scope expansion" in p.lower()), None)
    widened: dict[str, list[Change]] = {}
    for c in changes:
        if c.direction != "widened" and not (c.kind == "tool" and c.direction == "added"):
            continue
        cid = c.subject.split(".", 1)[0] if c.kind == "tool" else c.subject
        if c.kind in ("connector", "tool") and cid in old.connector_by_id and cid in new.connector_by_id:
            widened.setdefault(cid, []).append(c)
    info = DIFF_RULES["BR118"]
    findings = []
    for cid, items in sorted(widened.items()):
        a, b = old.connector_by_id[cid], new.connector_by_id[cid]
        if (a.approved_by, a.approved_on) != (b.approved_by, b.approved_on):
            continue
        origin = new.origin("connector", cid)
        findings.append(
            Finding(
                rule=info.id,
                title=info.title,
                severity=Severity.CRITICAL if listed else info.severity,
                domain=info.domain,
                references=rule_references(info.id),
                subject_kind="connector",
                subject=cid,
                message=f"Connector '{cid}' widened "
                f"({'; '.join(f'{c.field} {c.old} → {c.new}'.strip() for c in items)}) "
                f"with the same approval as before ({b.approved_by or 'no approver'}, {b.approved_on or 'no date'})"
                + (f", which the governance config prohibits: '{listed}'." if listed else "."),
                fix="Have the wider scope re-approved and record the new approver and date (approved_by, "
                "approved_on), or revert it.",
                evidence=(
                    Evidence(
                        file=origin.file if origin else None,
                        path=(origin.path + ".approved_on") if origin else cid,
                        detail=f"unchanged: {b.approved_on}",
                    ),
                ),
            )
        )
    return locate(findings, inventory=new)


def diff_inventories(
    old: Inventory | Analysis, new: Inventory | Analysis, *, weights: WeightsLike = None
) -> InventoryDiff:
    """Everything that changed from ``old`` to ``new``, with blast-radius deltas per plugin.

    Each side is scored with ``weights`` over its own inventory's ``weights:`` section.
    """
    old_a, new_a = analysis_of(old, weights=weights), analysis_of(new, weights=weights)
    old, new = old_a.inventory, new_a.inventory
    changes: list[Change] = []
    for cid in sorted(set(new.connector_by_id) - set(old.connector_by_id)):
        changes.append(Change(kind="connector", subject=cid, field="", old="", new="", direction="added"))
    for cid in sorted(set(old.connector_by_id) - set(new.connector_by_id)):
        changes.append(Change(kind="connector", subject=cid, field="", old="", new="", direction="removed"))
    for cid in sorted(set(old.connector_by_id) & set(new.connector_by_id)):
        changes.extend(_connector_changes(old.connector_by_id[cid], new.connector_by_id[cid]))
    for pid in sorted(set(new.plugin_by_id) - set(old.plugin_by_id)):
        changes.append(Change(kind="plugin", subject=pid, field="", old="", new="", direction="added"))
    for pid in sorted(set(old.plugin_by_id) - set(new.plugin_by_id)):
        changes.append(Change(kind="plugin", subject=pid, field="", old="", new="", direction="removed"))
    for pid in sorted(set(old.plugin_by_id) & set(new.plugin_by_id)):
        changes.extend(_plugin_changes(old_a, new_a, pid))

    cols = ["plugin", "blast_radius", "reach_records", "reach_people", "unbounded_datasets", "autonomy"]
    a = score_plugins(old_a)[cols].set_index("plugin")
    b = score_plugins(new_a)[cols].set_index("plugin")
    scores = a.merge(b, how="outer", left_index=True, right_index=True, suffixes=("_before", "_after")).rename(
        columns={"blast_radius_before": "before", "blast_radius_after": "after"}
    )
    scores["delta"] = scores["after"].fillna(0) - scores["before"].fillna(0)
    scores = scores.sort_values(["delta", "before"], ascending=[True, False]).reset_index()
    return InventoryDiff(
        old=old.source or "old",
        new=new.source or "new",
        changes=tuple(changes),
        scores=scores,
        findings=tuple(_expansion_findings(old, new, changes)),
    )


def changes_frame(diff: InventoryDiff | PolicyDiff) -> pd.DataFrame:
    """The changes as a table."""
    return pd.DataFrame(
        [
            {
                "kind": c.kind,
                "subject": c.subject,
                "field": c.field,
                "old": c.old,
                "new": c.new,
                "direction": c.direction,
            }
            for c in diff.changes
        ],
        columns=["kind", "subject", "field", "old", "new", "direction"],
    )


# ---------------------------------------------------------------------------
# Policy exports (docs/enforcement.md)
# ---------------------------------------------------------------------------

#: How open a permission state leaves a tool, most closed first: no rule lets a user's own settings decide.
_OPENNESS = {"deny": 0, "ask": 1, None: 2, "allow": 3}


@dataclass(frozen=True, kw_only=True)
class PolicyDiff:
    """What changed between two policy exports (or an inventory and a deployed policy), rule by rule."""

    old: str
    new: str
    changes: tuple[Change, ...]

    def widened(self) -> list[Change]:
        """Every change that gives more than before: an allow added, a deny or ask removed, a row limit raised, a
        connector policy gone ... (a connector policy added is listed as ``added``: it limits a connector, and
        the tools it opens show as allow rules added)."""
        return [c for c in self.changes if c.direction == "widened"]

    def narrowed(self) -> list[Change]:
        return [c for c in self.changes if c.direction == "narrowed"]


def _state_text(state: str | None) -> str:
    return state or "no rule"


def _server_of(rule: str) -> str | None:
    """``mcp__plugin_p_crm__search`` -> ``mcp__plugin_p_crm``; None for a rule that names no MCP tool."""
    if not rule.startswith("mcp__"):
        return None
    head, sep, _ = rule[len("mcp__") :].partition("__")
    return f"mcp__{head}" if sep else None


def _counts(states: Iterable[str]) -> str:
    states = list(states)
    return ", ".join(f"{states.count(s)} {s}" for s in ("deny", "ask", "allow") if s in states)


def _permission_changes(old: dict[str, str], new: dict[str, str]) -> Iterator[Change]:
    """Rule by rule; a server whose rules all appear or all disappear is one change (a plugin given or relieved
    of a connector), wider when it brings an allow or takes away a deny or an ask."""
    by_server: dict[str, tuple[set[str], set[str]]] = {}
    for side, rules in ((0, old), (1, new)):
        for rule in rules:
            server = _server_of(rule)
            if server is not None:
                by_server.setdefault(server, (set(), set()))[side].add(rule)
    whole: set[str] = set()
    for server, (was, now) in sorted(by_server.items()):
        if was and now:
            continue
        whole |= was | now
        if now:
            states = [new[r] for r in now]
            yield Change(
                kind="server",
                subject=server,
                field="rules",
                old="no rule",
                new=_counts(states),
                direction="widened" if "allow" in states else "narrowed",
            )
        else:
            states = [old[r] for r in was]
            yield Change(
                kind="server",
                subject=server,
                field="rules",
                old=_counts(states),
                new="no rule",
                direction="widened" if {"deny", "ask"} & set(states) else "narrowed",
            )
    for rule in sorted((set(old) | set(new)) - whole):
        a, b = old.get(rule), new.get(rule)
        if a == b:
            continue
        yield Change(
            kind="permission",
            subject=rule,
            field="state",
            old=_state_text(a),
            new=_state_text(b),
            direction="widened" if _OPENNESS[b] > _OPENNESS[a] else "narrowed",
        )


def _flag_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "disableBypassPermissionsMode":
            direction = "widened" if a == "disable" else "narrowed" if b == "disable" else "changed"
        elif key == "allowManagedPermissionRulesOnly":
            direction = "widened" if a is True else "narrowed" if b is True else "changed"
        elif key == "defaultMode":
            direction = "widened" if b in ("bypassPermissions", "acceptEdits", "dontAsk") else "changed"
        else:
            direction = "changed"
        yield Change(kind="setting", subject=key, field="", old=_text(a), new=_text(b), direction=direction)


def _as_connector(policy: Any) -> Connector:
    fields = policy.model_dump(exclude={"connector"})
    return Connector(id=policy.connector, **fields)


def _connector_policy_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    for cid in sorted(set(new) - set(old)):
        yield Change(kind="connector policy", subject=cid, field="", old="", new="", direction="added")
    for cid in sorted(set(old) - set(new)):
        yield Change(
            kind="connector policy",
            subject=cid,
            field="policy",
            old="enforced",
            new="no policy",
            direction="widened",
        )
    for cid in sorted(set(old) & set(new)):
        yield from _connector_changes(_as_connector(old[cid]), _as_connector(new[cid]))


def diff_policies(old: PolicySnapshot, new: PolicySnapshot) -> PolicyDiff:
    """Compare two policy snapshots (:class:`blastradius.export.policy.PolicySnapshot`), rule by rule and field by
    field. A permission is wider when it moves towards ``allow`` (deny → ask → no rule → allow: with no managed
    rule, a user's own settings decide); a connector policy is wider as :func:`diff_inventories` counts it
    (access, tables, columns, row limit, approval, audit), and a policy that disappears is wider (the gateway no
    longer enforces it).

    Raises
    ------
    BlastRadiusError
        When the two hold nothing in common to compare (managed settings on one side, connector policies only
        on the other).
    """
    changes: list[Change] = []
    compared = False
    if old.permissions is not None and new.permissions is not None:
        compared = True
        changes.extend(_permission_changes(old.permissions, new.permissions))
        changes.extend(_flag_changes(old.flags, new.flags))
    if old.connectors is not None and new.connectors is not None:
        compared = True
        changes.extend(_connector_policy_changes(old.connectors, new.connectors))
    if not compared:
        raise BlastRadiusError(
            f"nothing to compare: {old.source} holds {_holds(old)} and {new.source} holds {_holds(new)}"
        )
    return PolicyDiff(old=old.source, new=new.source, changes=tuple(changes))


def _holds(snapshot: PolicySnapshot) -> str:
    parts = []
    if snapshot.permissions is not None:
        parts.append("managed settings")
    if snapshot.connectors is not None:
        parts.append("connector policies")
    return " and ".join(parts) or "no policy"


def diff_policy_paths(old: str | Path, new: str | Path) -> PolicyDiff:
    """:func:`diff_policies` of two paths, each a policy export or an inventory (exported in memory, with the
    server names the other side uses)."""
    read = {p: read_policy(p) for p in (old, new) if is_policy_export(p)}

    def side(path: str | Path, other: str | Path) -> PolicySnapshot:
        if path in read:
            return read[path]
        seen = read.get(other)
        per_connector = bool(
            seen is not None and seen.permissions and not any(r.startswith("mcp__plugin_") for r in seen.permissions)
        )
        return snapshot_of(load_inventory(path), server_names="connector" if per_connector else "plugin")

    return diff_policies(side(old, new), side(new, old))
