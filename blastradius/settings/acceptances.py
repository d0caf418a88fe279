"""Accepted findings: a lint finding accepted by an owner, for a reason, until a date.

An acceptance hides its finding until it expires; past its date the finding
is open again (:func:`blastradius.findings.apply_acceptances`). Acceptances
come from an inventory's ``acceptances:`` section and from a file given on
the command line (``blastradius lint --accept FILE``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints

from blastradius.errors import ConfigError, Problem
from blastradius.model import Record, SettingsSource
from blastradius.settings.files import Document, validate_settings

__all__ = ["Acceptance", "AcceptanceFile", "check_acceptances", "load_acceptances"]


class Acceptance(Record):
    """A finding accepted, by whom, why, and until when."""

    rule: Annotated[str, StringConstraints(pattern=r"^BR\d{3}$")]
    subject: Annotated[str, StringConstraints(min_length=1)]
    owner: Annotated[str, StringConstraints(min_length=1)]
    reason: Annotated[str, StringConstraints(min_length=1)]
    expires: dt.date


class AcceptanceFile(Record):
    """An acceptance file, or an inventory's ``acceptances:`` section: a list of :class:`Acceptance`."""

    acceptances: tuple[Acceptance, ...] = Field(default=())


def load_acceptances(path: str | Path | SettingsSource | Document) -> tuple[Acceptance, ...]:
    """Read an acceptance file, or an inventory's ``acceptances:`` section (rule, subject, owner, reason, expires).

    Raises
    ------
    ConfigError
        With file, line and key path of each problem.

    Examples
    --------
    >>> section = SettingsSource(
    ...     file="a.yaml",
    ...     path="",
    ...     data={
    ...         "acceptances": [
    ...             {"rule": "BR101", "subject": "clm", "owner": "GC", "reason": "by design", "expires": "2027-02-19"}
    ...         ]
    ...     },
    ... )
    >>> load_acceptances(section)[0].expires
    datetime.date(2027, 2, 19)
    """
    return validate_settings(AcceptanceFile, path).acceptances  # type: ignore[attr-defined]


def check_acceptances(source: SettingsSource) -> list[Problem]:
    """Every problem of an inventory's ``acceptances:`` section, at its file and key path (the caller adds lines).

    Examples
    --------
    >>> section = SettingsSource(
    ...     data={
    ...         "acceptances": [{"rule": "BR1", "subject": "x", "owner": "o", "reason": "r", "expires": "2027-01-01"}]
    ...     },
    ...     file="a.yaml",
    ...     path="",
    ... )
    >>> [str(p) for p in check_acceptances(section)]
    ["a.yaml: acceptances[0].rule: string should match pattern '^BR\\\\d{3}$', got 'BR1'"]
    """
    try:
        load_acceptances(source)
    except ConfigError as exc:
        return list(exc.problems)
    return []
