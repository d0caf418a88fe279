"""The assumptions of the simulation, and the table of every one in use.

The models live in :mod:`blastradius.settings` (below the loader, which
checks an inventory's ``assumptions:`` section against them); they are
re-exported here, where the simulation's users look for them.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import pandas as pd

from blastradius.settings.assumptions import (
    _ASSUMPTIONS_FILE,
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
    "WrongOutput",
    "assumptions_table",
    "default_assumptions",
    "load_assumptions",
]


def assumptions_table(assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Every assumption in use, one row each: key, value, where it came from and what it means.

    Columns
    -------
    key
        Dotted key path, as written in an assumptions file (``plugins.ID.…`` for overrides).
    value
        As text: one number, or ``low to high (90%)`` for an interval.
    low, high
        The number (both equal when known exactly); empty for text.
    source
        ``default`` (blastradius/data/assumptions.yaml), ``inventory`` (its
        ``assumptions:`` section) or ``override`` (a file or mapping given).
    file
        The file it was read from, where there is one.
    meaning
        What the number is.

    Examples
    --------
    >>> t = assumptions_table()
    >>> t.set_index("key").loc["controls.approval_gate_catch_rate", ["value", "source"]].tolist()
    ['0.9', 'default']
    """
    if assumptions is None:
        assumptions = default_assumptions()
    sources = assumptions.sources
    default_file = str(resources.files("blastradius.data").joinpath(_ASSUMPTIONS_FILE))
    rows: list[dict[str, Any]] = []
    for path, value, meaning in _leaves(assumptions):
        source, file = sources.get(path, ("default", None))
        if source == "default":
            file = default_file
        if isinstance(value, Interval):
            text, low, high = value.text(), value.low, value.high
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
                "source": source,
                "file": file,
                "meaning": meaning or "",
            }
        )
    rows.sort(key=lambda r: not r["key"].startswith("period."))  # the period first, then as in the file
    return pd.DataFrame(rows, columns=["key", "value", "low", "high", "source", "file", "meaning"])
