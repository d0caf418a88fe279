"""Findings: what a careful governance reviewer would flag, as data (D7, D8).

A :class:`Finding` has a stable rule id (``BR101`` ...), a :class:`Severity`, the
subject it is about, evidence drawn from the inventory (file, key path, line)
and the fix. Rules live in :mod:`blastradius.rules`; this module holds the
records, the acceptance file (findings accepted with an owner, a reason and
an expiry date; an expired acceptance no longer hides its finding) and the
SARIF export for code-scanning UIs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import Field, StringConstraints

from blastradius.loader import read_document, validate_settings
from blastradius.model import Record, SettingsSource

__all__ = [
    "Acceptance",
    "Evidence",
    "Finding",
    "Severity",
    "apply_acceptances",
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


def locate(findings: Iterable[Finding]) -> list[Finding]:
    """The findings with the line of each piece of evidence filled in (each file read once)."""
    docs: dict[str, Any] = {}
    out = []
    for f in findings:
        evidence = []
        for e in f.evidence:
            if e.line is None and e.file:
                if e.file not in docs:
                    try:
                        docs[e.file] = read_document(Path(e.file))
                    except Exception:  # noqa: BLE001 - a file that moved since loading: no line, not an error
                        docs[e.file] = None
                doc = docs[e.file]
                if doc is not None:
                    e = replace(e, line=doc.line_of(e.path))
            evidence.append(e)
        out.append(replace(f, evidence=tuple(evidence)))
    return out


# ---------------------------------------------------------------------------
# Acceptances
# ---------------------------------------------------------------------------


class Acceptance(Record):
    """A finding accepted, by whom, why, and until when."""

    rule: Annotated[str, StringConstraints(pattern=r"^BR\d{3}$")]
    subject: Annotated[str, StringConstraints(min_length=1)]
    owner: Annotated[str, StringConstraints(min_length=1)]
    reason: Annotated[str, StringConstraints(min_length=1)]
    expires: dt.date


class AcceptanceFile(Record):
    acceptances: tuple[Acceptance, ...] = Field(default=())


def load_acceptances(path: str | Path | SettingsSource) -> tuple[Acceptance, ...]:
    """Read an acceptance file, or an inventory's ``acceptances:`` section (rule, subject, owner, reason, expires).

    Raises
    ------
    ConfigError
        With file, line and key path of each problem.
    """
    return validate_settings(AcceptanceFile, path).acceptances  # type: ignore[union-attr]


def apply_acceptances(
    findings: Iterable[Finding], acceptances: Iterable[Acceptance], *, as_of: dt.date
) -> list[Finding]:
    """Mark findings that an acceptance covers; an acceptance past its expiry leaves its finding open."""
    by_key: dict[tuple[str, str], Acceptance] = {}
    for a in acceptances:
        by_key[(a.rule, a.subject)] = a
    out = []
    for f in findings:
        a = by_key.get(f.key)
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
    "rule", "severity", "subject_kind", "subject", "title", "message", "fix", "domain", "evidence",
    "accepted", "accepted_by", "accepted_until", "acceptance_expired",
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


def to_sarif(
    findings: Iterable[Finding],
    rules: Mapping[str, Mapping[str, str]],
    *,
    root: Path | None = None,
    version: str = "",
) -> dict[str, Any]:
    """SARIF 2.1.0 log of the findings, so they show in code-scanning UIs.

    ``rules`` maps rule id -> ``{"title", "description", "severity", "domain"}``;
    file paths are made relative to ``root`` when given. Accepted findings are
    reported with a suppression, as SARIF intends.
    """
    def uri(file: str) -> str:
        path = Path(file)
        if root is not None:
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return path.as_posix()

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
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": f.severity.sarif_level,
            "message": {"text": f"{f.message} Fix: {f.fix}"},
            "locations": locations[:1] or [],
            "relatedLocations": [dict(loc, id=i) for i, loc in enumerate(locations[1:], 1)],
            "properties": {"severity": f.severity.value, "subject": f.subject, "subjectKind": f.subject_kind},
        }
        if f.accepted:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted",
                 "justification": f"{f.accepted_reason} (owner {f.accepted_by}, until {f.accepted_until})"}
            ]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "blastradius",
                        "version": version,
                        "rules": [
                            {
                                "id": rid,
                                "name": meta["title"].title().replace(" ", "").replace("-", ""),
                                "shortDescription": {"text": meta["title"]},
                                "fullDescription": {"text": meta["description"]},
                                "defaultConfiguration": {"level": Severity(meta["severity"]).sarif_level},
                                "help": {"text": f"{meta['description']} See docs/rules.md, {rid}."},
                                "properties": {"domain": meta["domain"]},
                            }
                            for rid, meta in sorted(rules.items())
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
