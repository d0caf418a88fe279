"""Where each governance rule sits in the frameworks auditors use: OWASP LLM 2025, OWASP Agentic 2026, MITRE ATLAS.

The mapping is data, ``blastradius/data/standards.yaml``, read once on first
use (nothing is read at import): each framework with its version, release
date and source, the entries the rules refer to, and for every rule id the
entries its finding leaves open. SARIF carries them as taxonomies
(:func:`sarif_taxonomies`), ``lint --group-by`` groups by them, and
docs/rules.md shows the table.

Examples
--------
>>> references("BR116")["owasp-llm"]
('LLM01', 'LLM02')
>>> framework("owasp-agentic").taxa["ASI01"]
'Agent Goal Hijack'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from blastradius.errors import UnknownIdError

__all__ = [
    "FRAMEWORKS",
    "Framework",
    "framework",
    "references",
    "rule_references",
    "sarif_taxonomies",
    "taxon_label",
    "why",
]

#: Framework keys, in the order they are shown: ``lint --group-by`` takes one of them.
FRAMEWORKS = ("owasp-llm", "owasp-agentic", "atlas")


@dataclass(frozen=True, kw_only=True)
class Framework:
    """One framework: its name, version, release date, where it is published, and the entries the rules use."""

    key: str
    name: str
    version: str
    released: dt.date
    organization: str
    url: str
    source: str
    taxa: dict[str, str]  # id -> official name
    entry_url: str | None = None  # with {id}, where one entry is published

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    def url_of(self, taxon: str) -> str:
        return self.entry_url.format(id=taxon) if self.entry_url else self.url


@dataclass(frozen=True, kw_only=True)
class _Standards:
    frameworks: dict[str, Framework]
    rules: dict[str, dict[str, tuple[str, ...]]]
    why: dict[str, str]


@lru_cache(maxsize=1)
def _standards() -> _Standards:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("blastradius").joinpath("data/standards.yaml").read_text(encoding="utf-8")
    )
    frameworks = {}
    for key in FRAMEWORKS:
        f = raw["frameworks"][key]
        frameworks[key] = Framework(
            key=key,
            name=f["name"],
            version=str(f["version"]),
            released=f["released"],
            organization=f["organization"],
            url=f["url"],
            source=" ".join(str(f["source"]).split()),
            taxa={str(k): str(v["name"]) for k, v in f["taxa"].items()},
            entry_url=f.get("entry_url"),
        )
    rules: dict[str, dict[str, tuple[str, ...]]] = {}
    why: dict[str, str] = {}
    for rid, entry in raw["rules"].items():
        refs = {key: tuple(entry.get(key) or ()) for key in FRAMEWORKS}
        for key, ids in refs.items():
            unknown = [i for i in ids if i not in frameworks[key].taxa]
            if unknown:  # a mistake in the packaged data file, caught by the suite
                raise ValueError(f"standards.yaml: {rid} refers to {unknown} not listed under {key}")
        rules[rid] = refs
        why[rid] = str(entry.get("why", ""))
    return _Standards(frameworks=frameworks, rules=rules, why=why)


def framework(key: str) -> Framework:
    """The framework ``key`` (``owasp-llm``, ``owasp-agentic`` or ``atlas``).

    Raises
    ------
    UnknownIdError
        For any other key.
    """
    found = _standards().frameworks.get(key)
    if found is None:
        raise UnknownIdError("framework", key, FRAMEWORKS, where="among the standards")
    return found


def references(rule: str) -> dict[str, tuple[str, ...]]:
    """The entries of each framework that rule ``rule`` refers to (empty tuples for a rule the data does not map)."""
    return dict(_standards().rules.get(rule) or dict.fromkeys(FRAMEWORKS, ()))


def rule_references(rule: str) -> tuple[tuple[str, str], ...]:
    """``(framework, entry)`` pairs of ``rule``, framework by framework.

    Examples
    --------
    >>> rule_references("BR103")
    (('owasp-llm', 'LLM06'), ('owasp-agentic', 'ASI03'))
    """
    return tuple((key, t) for key, ids in references(rule).items() for t in ids)


def why(rule: str) -> str:
    """The one line saying what links ``rule`` to the entries it refers to."""
    return _standards().why.get(rule, "")


def taxon_label(key: str, taxon: str) -> str:
    """``LLM06 Excessive Agency``: an entry's id and official name."""
    return f"{taxon} {framework(key).taxa[taxon]}"


def sarif_taxonomies() -> list[dict[str, Any]]:
    """The frameworks as SARIF 2.1.0 taxonomies (toolComponent objects, §3.19.3), in :data:`FRAMEWORKS` order."""
    out = []
    for key in FRAMEWORKS:
        f = framework(key)
        out.append(
            {
                "name": f.name,
                "version": f.version,
                "releaseDateUtc": f.released.isoformat(),
                "organization": f.organization,
                "informationUri": f.url,
                "shortDescription": {"text": f"{f.title}. Source: {f.source}"},
                "isComprehensive": key != "atlas",  # ATLAS: only the techniques the rules refer to
                "taxa": [
                    {
                        "id": tid,
                        "name": name,
                        "shortDescription": {"text": name},
                        "helpUri": f.url_of(tid),
                    }
                    for tid, name in f.taxa.items()
                ],
            }
        )
    return out
