"""Calibration from an organisation's own logs: realised runs, failures, approvals and reach against the model.

Agent platforms log what happened: Claude Code and Cowork export an
OpenTelemetry event for every tool call and every permission decision;
connectors log every query with the rows it returned. :func:`calibrate`
reads those logs in a stream, maps each call to a plugin, connector and tool
of the inventory, and combines the counts with the sourced priors (Beta for
shares, Gamma for rates), so that little data moves little and every
estimate carries its interval and the number of events behind it.

>>> from blastradius import load_inventory
>>> cal = calibrate(load_inventory("inventories/acme"), ["tests/data/calibration/claude-code-otlp.jsonl"])
>>> cal.observations.stats.events > 0
True

What it returns (:class:`Calibration`): the calibration table
(:meth:`Calibration.table`), the findings BR201 (shadow access), BR202
(reach above the modelled bound) and BR203 (gates rubber-stamped), what could not be mapped; and
:func:`write_overlay` writes the calibrated settings (docs/calibration.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blastradius.calibrate.estimate import COLUMNS, Estimate, estimates, estimates_frame
from blastradius.calibrate.observe import Observations, call_bounds, observe
from blastradius.calibrate.overlay import overlay_data, write_overlay
from blastradius.calibrate.readers import LogError, LogEvent, LogMapping, ReadStats, load_mapping, read_events
from blastradius.calibrate.rules import CALIBRATION_RULES, calibration_findings
from blastradius.errors import BlastRadiusError
from blastradius.findings import Finding
from blastradius.model import Inventory
from blastradius.settings import Assumptions, load_assumptions

__all__ = [
    "CALIBRATION_RULES",
    "COLUMNS",
    "Calibration",
    "Estimate",
    "LogError",
    "LogEvent",
    "LogMapping",
    "Observations",
    "ReadStats",
    "appendix",
    "calibrate",
    "call_bounds",
    "calibration_findings",
    "estimates",
    "load_mapping",
    "observe",
    "overlay_data",
    "read_events",
    "read_table",
    "write_overlay",
]


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """One calibration: the counts, the estimates and the findings, for one inventory and one set of logs."""

    inventory: Inventory
    observations: Observations
    estimates: tuple[Estimate, ...]
    findings: tuple[Finding, ...]
    level: float

    def table(self) -> pd.DataFrame:
        """The calibration table (:data:`COLUMNS`): per plugin, then per connector tool."""
        return estimates_frame(list(self.estimates))

    def unmapped(self) -> pd.DataFrame:
        """Calls that count for nothing, by why and by name (built-in tools, MCP calls with no server name ...)."""
        rows = [{"outcome": o, "name": n, "calls": c} for (o, n), c in self.observations.unmapped.most_common()]
        return pd.DataFrame(rows, columns=["outcome", "name", "calls"])

    def write_overlay(self, out: str | Path, *, base: str | None = None) -> Path:
        """:func:`write_overlay` of these estimates: the overlay of the calibrated settings, at ``out``."""
        return write_overlay(
            self.estimates, out, self.inventory, base=base, window=self.observations.window, level=self.level
        )


def calibrate(
    inventory: Inventory,
    logs: Iterable[str | Path],
    *,
    mapping: str | Path | LogMapping | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    assumptions: str | Path | Assumptions | None = None,
    level: float = 0.9,
    progress: bool = False,
) -> Calibration:
    """Read the logs ``logs`` (files or directories) against ``inventory`` and calibrate its settings.

    Parameters
    ----------
    mapping : path or LogMapping, optional
        How to read a CSV or JSON-lines log that is neither an OpenTelemetry
        export nor a connector audit log (docs/calibration.md); its
        ``servers:`` and ``plugins:`` map names as the logs write them to
        inventory ids.
    since, until : date, optional
        Only events on these days (UTC) and between; the number of working
        days the rates divide by is counted over this window.
    assumptions : path or Assumptions, optional
        The priors (the defaults and the inventory's own section otherwise).
    level : float
        Of every interval (default 0.9).

    Raises
    ------
    LogError
        A log path that does not exist, a file that is not a log, a bad mapping file.
    """
    if not 0 < level < 1:
        raise BlastRadiusError(f"the interval level must be above 0% and below 100%, got {level:.0%}")
    if since is not None and until is not None and since > until:
        raise BlastRadiusError(f"--since {since} is after --until {until}: no day is left to read")
    if isinstance(mapping, str | Path):
        mapping = load_mapping(mapping)
    a = assumptions if isinstance(assumptions, Assumptions) else load_assumptions(assumptions, inventory=inventory)
    servers = dict(mapping.servers) if mapping is not None else None
    plugins = dict(mapping.plugins) if mapping is not None else None
    obs = observe(
        inventory,
        logs,
        mapping=mapping,
        servers=servers,
        plugins=plugins,
        since=since,
        until=until,
        assumptions=a,
        progress=progress,
    )
    items = estimates(inventory, obs, assumptions=a, level=level)
    return Calibration(
        inventory=inventory,
        observations=obs,
        estimates=tuple(items),
        findings=tuple(calibration_findings(inventory, obs, items)),
        level=level,
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """The calibration table that ``blastradius calibrate --table FILE`` wrote, read back (for the report's appendix).

    Read through the input boundary (size limit, UTF-8); every column of :data:`COLUMNS` must be there.

    Raises
    ------
    ConfigError
        Naming the file and what is wrong, when it cannot be read, is not CSV or lacks columns.
    """
    import io

    from blastradius.errors import ConfigError, Problem
    from blastradius.settings.files import read_text

    file = Path(path)
    text = read_text(file, error=ConfigError)
    hint = "write it with: blastradius calibrate DIR --logs ... --out OVERLAY --table FILE"
    try:
        df = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise ConfigError([Problem(file=file, path="", message=f"not a calibration table ({first}); {hint}")]) from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(
            [Problem(file=file, path="", message=f"not a calibration table: no column {', '.join(missing)}; {hint}")]
        )
    for column in ("events", "prior", "estimate", "low", "high"):
        if not pd.api.types.is_numeric_dtype(df[column]):
            raise ConfigError(
                [Problem(file=file, path=column, message=f"column {column} holds text, not figures; {hint}")]
            )
    return df


def appendix(source: Calibration | pd.DataFrame, *, top: int = 20) -> pd.DataFrame:
    """The rows of the calibration table a report appendix shows: the settings the logs moved, largest move first.

    ``source`` is a :class:`Calibration` or its table (also as read back from
    ``calibrate --table FILE``). One row per calibrated setting with events
    behind it: the modelled figure, the estimate and its interval, the
    events, and how far it moved (``moved``: estimate over prior). Draw it
    with :func:`blastradius.calibrate.plots.plot_calibration`.
    """
    df = source.table() if isinstance(source, Calibration) else source.copy()
    for column in ("setting", "team", "note"):  # a CSV reads "" back as a missing value
        df[column] = df[column].astype(object).where(df[column].notna(), "")
    df = df[(df["setting"] != "") & (df["events"] > 0)].copy()
    df["moved"] = df["estimate"] / df["prior"].where(df["prior"] > 0)
    size = df["moved"].fillna(1.0).map(lambda x: max(x, 1 / x) if x > 0 else float("inf"))
    return df.loc[size.sort_values(ascending=False, kind="stable").index].head(top).reset_index(drop=True)
