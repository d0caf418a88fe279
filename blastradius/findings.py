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
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from blastradius.loader import LocatedOrigin, read_document
from blastradius.settings.acceptances import Acceptance, AcceptanceFile, load_acceptances
from blastradius.settings.files import parent_paths, yaml_line_index

if TYPE_CHECKING:
    from blastradius.model import Inventory

__all__ = [
    "Acceptance",
    "AcceptanceFile",
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


_probes = parent_paths


def _child(path: str, part: str | int) -> str:
    """The key path of ``part`` below ``path``, written as the loader writes key paths."""
    if isinstance(part, int):
        return f"{path}[{part}]"
    if part and all(ch.isalnum() or ch in "_-" for ch in part):
        return f"{path}.{part}" if path else part
    return f"{path}[{json.dumps(part)}]"


def _line_index(text: str, wanted: set[str]) -> dict[str, int]:
    """The line of every key path in ``wanted`` that a YAML (or JSON) text holds.

    The lines the loader's index gives (a mapping entry at its key, a list
    item where it starts), read off the parser's events without building the
    document and skipping every part no wanted path goes through.
    """
    index: dict[str, int] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    stack: list[list[Any]] = []  # [path, next list index] or [path, child path, key line, awaiting key]
    skip = 0  # depth inside a part no wanted path goes through (or a mapping used as a key)
    documents = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if skip:
                if isinstance(event, yaml.CollectionStartEvent):
                    skip += 1
                elif isinstance(event, yaml.CollectionEndEvent):
                    skip -= 1
                    if not skip:
                        _value_done(stack, index)
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:  # not one document: the loader finds no lines either
                    return {}
                continue
            if isinstance(event, yaml.AliasEvent):  # an alias repeats a part elsewhere: let the loader walk it
                return _full_line_index(text)
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                _value_done(stack, index)
                continue
            if not isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent) or event.start_mark is None:
                continue
            line = event.start_mark.line + 1
            top = stack[-1] if stack else None
            if top is not None and len(top) == 4 and top[3]:  # a key of a mapping
                key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                top[1], top[2], top[3] = _child(top[0], key), line, False
                if top[1] in wanted:
                    index[top[1]] = line
                if isinstance(event, yaml.CollectionStartEvent):
                    skip = 1  # a mapping or list as a key: its inside has no key paths
                    top[3] = None  # its value comes once the key is skipped
                continue
            if top is None:
                path = ""
            elif len(top) == 4:
                path = top[1]
            else:
                path = _child(top[0], top[1])
                top[1] += 1
            relevant = path in wanted or top is None
            if relevant:
                index.setdefault(path, line)
            if isinstance(event, yaml.MappingStartEvent):
                if relevant:
                    stack.append([path, None, 0, True])
                else:
                    skip = 1
            elif isinstance(event, yaml.SequenceStartEvent):
                if relevant:
                    stack.append([path, 0])
                else:
                    skip = 1
            else:
                _value_done(stack, index)
    except yaml.YAMLError:
        return {}
    return index


def _value_done(stack: list[list[Any]], index: dict[str, int]) -> None:
    """A node ended: if it was the value of a mapping entry, the entry's line is its key's again; next, a key."""
    if not stack or len(stack[-1]) != 4:
        return
    top = stack[-1]
    if top[3] is None:  # the skipped key ended: its value follows
        top[3] = False
        return
    if top[1] in index:
        index[top[1]] = top[2]
    top[3] = True


def _full_line_index(text: str) -> dict[str, int]:
    return yaml_line_index(text)  # the loader's own index, for texts with aliases


class _Lines:
    """Lines of key paths in one inventory file, read once for all the paths asked for."""

    def __init__(self, file: str, paths: set[str]):
        self.index: dict[str, int] | None = None
        self.csv: Any = None
        path = Path(file)
        try:
            if path.suffix.lower() == ".csv":
                self.csv = read_document(path)
            else:
                text = path.read_bytes().decode("utf-8-sig")
                self.index = _line_index(text, {p for path in paths for p in _probes(path)})
        except Exception:
            self.index, self.csv = None, None

    def line_of(self, path: str) -> int | None:
        if self.csv is not None:
            return self.csv.line_of(path)
        if self.index is None:
            return None
        return next((self.index[p] for p in _probes(path) if p in self.index), None)


def _recorded_lines(inventory: Inventory) -> Any:
    """A function giving the line of a piece of evidence from the lines the loader recorded for each record."""
    origins = {(o.file, o.path): o for o in inventory.origins.values() if isinstance(o, LocatedOrigin)}

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


def _read_lines(findings: list[Finding]) -> Any:
    """A function giving the line of a piece of evidence by reading its file (each file once)."""
    wanted: dict[str, set[str]] = {}
    for f in findings:
        for e in f.evidence:
            if e.line is None and e.file:
                wanted.setdefault(e.file, set()).add(e.path)
    lines = {file: _Lines(file, paths) for file, paths in wanted.items()}
    return lambda e: lines[e.file].line_of(e.path)


def locate(findings: Iterable[Finding], *, inventory: Inventory | None = None) -> list[Finding]:
    """The findings with the line of each piece of evidence filled in.

    Parameters
    ----------
    findings : iterable of Finding
    inventory : Inventory, optional
        The inventory the findings are about: lines come from what the
        loader recorded for each of its records, and no file is read.
        Without it, each file named by the evidence is read once (for
        findings whose inventory is not at hand).

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
    >>> locate([f])[0].evidence[0].line
    15
    """
    findings = list(findings)
    line_of = _recorded_lines(inventory) if inventory is not None else _read_lines(findings)
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
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{f.accepted_reason} (owner {f.accepted_by}, until {f.accepted_until})",
                }
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
