"""Findings: what a careful governance reviewer would flag, as data (D7, D8).

A :class:`Finding` has a stable rule id (``BR101`` ...), a :class:`Severity`, the
subject it is about, evidence drawn from the inventory (file, key path, line)
and the fix. Rules live in :mod:`blastradius.rules`; this module holds the
records, applies acceptances (findings accepted with an owner, a reason and
an expiry date, :mod:`blastradius.settings.acceptances`; an expired
acceptance no longer hides its finding) and exports SARIF for code-scanning
UIs. Evidence gets its line from the lines the loader recorded for each
record (:func:`locate`).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from blastradius.settings.acceptances import Acceptance, AcceptanceFile, load_acceptances
from blastradius.settings.files import parent_paths

if TYPE_CHECKING:
    from blastradius.model import Inventory

__all__ = [
    "Acceptance",
    "AcceptanceFile",
    "Evidence",
    "Finding",
    "Severity",
    "apply_acceptances",
    "GROUPINGS",
    "findings_by",
    "findings_frame",
    "load_acceptances",
    "locate",
    "to_sarif",
    "unmatched_acceptances",
]


class Severity(StrEnum):
    """How urgent a finding is, lowest first; severities compare by urgency."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    # str already orders alphabetically ("high" < "low"): order by urgency instead.
    def __lt__(self, other: object) -> bool:
        return self.rank < other.rank if isinstance(other, Severity) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= other.rank if isinstance(other, Severity) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > other.rank if isinstance(other, Severity) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= other.rank if isinstance(other, Severity) else NotImplemented

    __hash__ = StrEnum.__hash__

    @property
    def sarif_level(self) -> str:
        return {"critical": "error", "high": "error", "medium": "warning"}.get(self.value, "note")


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Where in the inventory a finding is seen: file, key path, line and what is there."""

    file: str | None
    path: str
    detail: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<inventory>"
        if self.line:
            where += f":{self.line}"
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.detail}"


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem a rule found, with the evidence and the fix."""

    rule: str
    title: str
    severity: Severity
    subject_kind: str  # plugin, connector, governance ...
    subject: str
    message: str
    fix: str
    domain: str  # the DOMAIN.md section the rule comes from, e.g. "D8"
    evidence: tuple[Evidence, ...] = ()
    #: (framework, entry) pairs the rule refers to, e.g. ("owasp-llm", "LLM06") (:mod:`blastradius.standards`)
    references: tuple[tuple[str, str], ...] = ()
    accepted_by: str | None = None
    accepted_reason: str | None = None
    accepted_until: dt.date | None = None
    acceptance_expired: bool = False

    @property
    def accepted(self) -> bool:
        return self.accepted_by is not None and not self.acceptance_expired

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.subject


# ---------------------------------------------------------------------------
# Lines for evidence
# ---------------------------------------------------------------------------


def _recorded_lines(inventory: Inventory) -> Any:
    """A function giving the line of a piece of evidence from the lines the loader recorded for each record."""
    origins = {(o.file, o.path): o for o in inventory.origins.values()}

    def line_of(e: Evidence) -> int | None:
        if e.file is None:
            return None
        for probe in (*parent_paths(e.path), ""):  # the record the path is in, nearest first; "" is a whole file
            origin = origins.get((e.file, probe))
            if origin is not None:
                rest = e.path[len(probe) :]
                return origin.line_of(rest[1:] if rest.startswith(".") else rest)
        return None

    return line_of


def locate(findings: Iterable[Finding], *, inventory: Inventory) -> list[Finding]:
    """The findings with the line of each piece of evidence filled in.

    Parameters
    ----------
    findings : iterable of Finding
    inventory : Inventory
        The inventory the findings are about: lines come from what the
        loader recorded for each of its records (no file is read again).
        Evidence in a file the inventory was not loaded from keeps no line.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> f = Finding(
    ...     rule="BR000",
    ...     title="t",
    ...     severity=Severity.LOW,
    ...     subject_kind="plugin",
    ...     subject="p",
    ...     message="m",
    ...     fix="f",
    ...     domain="D8",
    ...     evidence=(Evidence(file="inventories/acme/connectors.yaml", path="connectors[0].system", detail="d"),),
    ... )
    >>> locate([f], inventory=load_inventory("inventories/acme"))[0].evidence[0].line
    15
    """
    findings = list(findings)
    line_of = _recorded_lines(inventory)
    out = []
    for f in findings:
        if not any(e.line is None and e.file for e in f.evidence):
            out.append(f)
            continue
        evidence = tuple(replace(e, line=line_of(e)) if e.line is None and e.file else e for e in f.evidence)
        out.append(replace(f, evidence=evidence))
    return out


# ---------------------------------------------------------------------------
# Acceptances
# ---------------------------------------------------------------------------


def apply_acceptances(
    findings: Iterable[Finding], acceptances: Iterable[Acceptance], *, as_of: dt.date
) -> list[Finding]:
    """Mark findings that an acceptance covers; an acceptance past its expiry leaves its finding open."""
    by_key: dict[tuple[str, str], Acceptance] = {}
    for acceptance in acceptances:
        by_key[(acceptance.rule, acceptance.subject)] = acceptance
    out = []
    for f in findings:
        a: Acceptance | None = by_key.get(f.key)
        if a is None:
            out.append(f)
            continue
        out.append(
            replace(
                f,
                accepted_by=a.owner,
                accepted_reason=a.reason,
                accepted_until=a.expires,
                acceptance_expired=a.expires < as_of,
            )
        )
    return out


def unmatched_acceptances(findings: Iterable[Finding], acceptances: Iterable[Acceptance]) -> list[Acceptance]:
    """Acceptances that no finding matches (a typo in the rule or subject, or the problem is gone)."""
    keys = {f.key for f in findings}
    return [a for a in acceptances if (a.rule, a.subject) not in keys]


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


FINDING_COLUMNS = (
    "rule",
    "severity",
    "subject_kind",
    "subject",
    "title",
    "message",
    "fix",
    "domain",
    "owasp_llm",
    "owasp_agentic",
    "atlas",
    "evidence",
    "accepted",
    "accepted_by",
    "accepted_until",
    "acceptance_expired",
)


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings as a table, most severe first."""
    rows = [
        {
            "rule": f.rule,
            "severity": f.severity.value,
            "subject_kind": f.subject_kind,
            "subject": f.subject,
            "title": f.title,
            "message": f.message,
            "fix": f.fix,
            "domain": f.domain,
            **{
                key.replace("-", "_"): ", ".join(t for k, t in f.references if k == key)
                for key in ("owasp-llm", "owasp-agentic", "atlas")
            },
            "evidence": "; ".join(str(e) for e in f.evidence),
            "accepted": f.accepted,
            "accepted_by": f.accepted_by,
            "accepted_until": f.accepted_until.isoformat() if f.accepted_until else None,
            "acceptance_expired": f.acceptance_expired,
        }
        for f in findings
    ]
    df = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    if not df.empty:
        df["_rank"] = df["severity"].map(lambda s: -Severity(s).rank)
        df = df.sort_values(["_rank", "rule", "subject"], kind="mergesort").drop(columns="_rank")
    return df.reset_index(drop=True)


#: What ``lint --group-by`` takes: a rule, a severity, or an entry of one of the frameworks (blastradius.standards).
GROUPINGS = ("rule", "severity", "owasp-llm", "owasp-agentic", "atlas")


def findings_by(findings: Iterable[Finding], by: str) -> pd.DataFrame:
    """Findings grouped by ``by`` (one of :data:`GROUPINGS`): one row per finding and group, groups in order.

    Grouped by a framework, a finding appears under every entry its rule
    refers to, and under ``(none)`` when its rule refers to none of that
    framework's entries. Columns: ``group`` (e.g. ``LLM06 Excessive Agency``),
    ``rule``, ``severity``, ``subject``, ``title``, ``state`` (open, accepted,
    acceptance expired); most severe first within a group.

    Raises
    ------
    ValueError
        For a grouping not in :data:`GROUPINGS`.

    Examples
    --------
    >>> f = Finding(
    ...     rule="BR116",
    ...     title="t",
    ...     severity=Severity.HIGH,
    ...     subject_kind="plugin",
    ...     subject="p",
    ...     message="m",
    ...     fix="f",
    ...     domain="D8",
    ...     references=(("owasp-llm", "LLM01"), ("owasp-llm", "LLM02")),
    ... )
    >>> findings_by([f], "owasp-llm").group.tolist()
    ['LLM01 Prompt Injection', 'LLM02 Sensitive Information Disclosure']
    """
    from blastradius.standards import framework

    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, got {by!r}")
    rows = []
    for f in findings:
        state = "accepted" if f.accepted else "acceptance expired" if f.acceptance_expired else "open"
        base = {
            "rule": f.rule,
            "severity": f.severity.value,
            "subject": f.subject,
            "title": f.title,
            "state": state,
            "_rank": -f.severity.rank,
        }
        if by == "rule":
            keys = [(f.rule, f"{f.rule} {f.title}")]
        elif by == "severity":
            keys = [(str(-f.severity.rank), f.severity.value)]
        else:
            fw = framework(by)
            ids = [t for k, t in f.references if k == by]
            order = list(fw.taxa)
            keys = [(f"{order.index(t):04d}", f"{t} {fw.taxa[t]}") for t in ids] or [("9999", "(none)")]
        for order_key, label in keys:
            rows.append({"_group": order_key, "group": label, **base})
    df = pd.DataFrame(rows, columns=["_group", "group", "rule", "severity", "subject", "title", "state", "_rank"])
    if not df.empty:
        df = df.sort_values(["_group", "_rank", "rule", "subject"], kind="mergesort")
    return df.drop(columns=["_group", "_rank"]).reset_index(drop=True)


def to_sarif(
    findings: Iterable[Finding],
    rules: Mapping[str, Mapping[str, Any]],
    *,
    root: Path | None = None,
    version: str = "",
) -> dict[str, Any]:
    """SARIF 2.1.0 log of the findings, so they show in code-scanning UIs.

    ``rules`` maps rule id -> ``{"title", "description", "severity", "domain"}``
    and, optionally, ``"standards"`` (framework -> entry ids, as
    :func:`blastradius.rules.rule_catalog` gives). The frameworks are carried
    as the run's ``taxonomies`` (SARIF §3.14.8, §3.19.3), each rule points at
    its entries through ``relationships`` (§3.49.15, §3.52) and each result
    through ``taxa``, so code-scanning UIs can group by them. File paths are
    made relative to ``root`` when given. Accepted findings are reported with
    a suppression, as SARIF intends.
    """
    from blastradius.standards import FRAMEWORKS, sarif_taxonomies

    taxonomies = sarif_taxonomies()
    taxon_index = {
        (key, taxon["id"]): (i, j) for i, key in enumerate(FRAMEWORKS) for j, taxon in enumerate(taxonomies[i]["taxa"])
    }

    def reference(key: str, taxon: str) -> dict[str, Any]:
        i, j = taxon_index[(key, taxon)]
        return {"id": taxon, "index": j, "toolComponent": {"name": taxonomies[i]["name"], "index": i}}

    def uri(file: str) -> str:
        """A relative URI reference (RFC 3986): the path, percent-encoded, as SARIF asks."""
        path = Path(file)
        if root is not None:
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return urllib.parse.quote(path.as_posix(), safe="/")

    def standard_pairs(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
        standards = meta.get("standards") or {}
        return [(key, t) for key in FRAMEWORKS for t in standards.get(key, ())]

    results = []
    for f in findings:
        locations = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(e.file)},
                    **({"region": {"startLine": e.line}} if e.line else {}),
                },
                "message": {"text": e.detail},
            }
            for e in f.evidence
            if e.file
        ]
        pairs = list(f.references) or (standard_pairs(rules[f.rule]) if f.rule in rules else [])
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": f.severity.sarif_level,
            "message": {"text": f"{f.message} Fix: {f.fix}"},
            "locations": locations[:1] or [],
            "relatedLocations": [dict(loc, id=i) for i, loc in enumerate(locations[1:], 1)],
            "properties": {"severity": f.severity.value, "subject": f.subject, "subjectKind": f.subject_kind},
        }
        if pairs:
            result["taxa"] = [reference(k, t) for k, t in pairs]
        if f.accepted:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{f.accepted_reason} (owner {f.accepted_by}, until {f.accepted_until})",
                }
            ]
        results.append(result)

    def rule_entry(rid: str, meta: Mapping[str, Any]) -> dict[str, Any]:
        pairs = standard_pairs(meta)
        entry: dict[str, Any] = {
            "id": rid,
            "name": meta["title"].title().replace(" ", "").replace("-", ""),
            "shortDescription": {"text": meta["title"]},
            "fullDescription": {"text": meta["description"]},
            "defaultConfiguration": {"level": Severity(meta["severity"]).sarif_level},
            "help": {"text": f"{meta['description']} See docs/rules.md, {rid}."},
            "properties": {
                "domain": meta["domain"],
                "tags": ["security", *(f"{k}/{t}" for k, t in pairs)],
            },
        }
        if pairs:
            entry["relationships"] = [{"target": reference(k, t), "kinds": ["relevant"]} for k, t in pairs]
        return entry

    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "blastradius",
                        "version": version,
                        "rules": [rule_entry(rid, meta) for rid, meta in sorted(rules.items())],
                        "supportedTaxonomies": [{"name": t["name"], "index": i} for i, t in enumerate(taxonomies)],
                    }
                },
                "taxonomies": taxonomies,
                "results": results,
            }
        ],
    }
