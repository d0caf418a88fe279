"""The assumptions of the simulation, and the table of every one in use.

The models live in :mod:`blastradius.settings` (below the loader, which
checks an inventory's ``assumptions:`` section against them); they are
re-exported here, where the simulation's users look for them.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from blastradius.settings.assumptions import (
    Assumptions,
    Controls,
    Detection,
    FailureRates,
    Halt,
    Interval,
    Magnitude,
    Period,
    PluginAssumptions,
    PluginOverride,
    ProbabilityInterval,
    Systematic,
    UntrustedInput,
    WrongOutput,
    _is_number,
    _leaves,
    default_assumptions,
    load_assumptions,
)

__all__ = [
    "Assumptions",
    "Controls",
    "Detection",
    "FailureRates",
    "Halt",
    "Interval",
    "Magnitude",
    "Period",
    "PluginAssumptions",
    "PluginOverride",
    "ProbabilityInterval",
    "Systematic",
    "UntrustedInput",
    "WrongOutput",
    "DEFAULT_ASSUMPTIONS_FILE",
    "assumptions_table",
    "default_assumptions",
    "load_assumptions",
]


def assumptions_table(assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Every assumption in use, one row each: key, value, plausible range, source, who set it and what it means.

    Columns
    -------
    key
        Dotted key path, as written in an assumptions file (``plugins.ID.…`` for overrides).
    value
        As text: one number, or ``low to high (90%)`` for an interval.
    low, high
        The number (both equal when known exactly); empty for text.
    range_low, range_high
        How far it could plausibly be from that: an interval's own bounds, or
        the ``range`` written beside a number; empty where none was given
        (known exactly). :func:`blastradius.simulate.sensitivity` tries each
        assumption at both ends.
    source
        The public reference or reasoning given beside the value
        (``blastradius/data/assumptions.yaml`` gives one for every default);
        empty where the file that set it gave none.
    set_by
        ``default`` (blastradius/data/assumptions.yaml), ``inventory`` (its
        ``assumptions:`` section) or ``override`` (a file or mapping given).
    file
        The file it was read from: the package's file for defaults (its path
        inside the package), else the file given.
    meaning
        What the number is.

    Examples
    --------
    >>> t = assumptions_table().set_index("key")
    >>> row = t.loc["controls.approval_gate_catch_rate"]
    >>> row.value, float(row.range_low), float(row.range_high), row.set_by
    ('0.8', 0.5, 0.95, 'default')
    >>> t.loc["failure_rates.wrong_action", "source"].startswith("tau-bench")
    True
    """
    if assumptions is None:
        assumptions = default_assumptions()
    sources = assumptions.sources
    provenance = assumptions.provenance
    rows: list[dict[str, Any]] = []
    for path, value, meaning in _leaves(assumptions):
        set_by, file = sources.get(path, ("default", None))
        if set_by == "default":
            file = DEFAULT_ASSUMPTIONS_FILE
        note = provenance.get(path)
        span = note.range if note is not None else None
        if isinstance(value, Interval):
            text, low, high = value.text(), value.low, value.high
            if not value.fixed:
                span = (value.low, value.high)
        elif _is_number(value):
            text, low, high = f"{value:g}", float(value), float(value)
        else:
            text, low, high = str(value), math.nan, math.nan
        rows.append(
            {
                "key": path,
                "value": text,
                "low": low,
                "high": high,
                "range_low": span[0] if span else math.nan,
                "range_high": span[1] if span else math.nan,
                "source": (note.source if note is not None else None) or "",
                "set_by": set_by,
                "file": file,
                "meaning": meaning or "",
            }
        )
    rows.sort(key=lambda r: not r["key"].startswith("period."))  # the period first, then as in the file
    return pd.DataFrame(rows, columns=list(_TABLE_COLUMNS))


_TABLE_COLUMNS = ("key", "value", "low", "high", "range_low", "range_high", "source", "set_by", "file", "meaning")
#: How the defaults' file is named in tables and reports: inside the package, the same on every machine.
DEFAULT_ASSUMPTIONS_FILE = "blastradius/data/assumptions.yaml"
