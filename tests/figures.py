"""Results of scoring, linting and diffing as plain JSON data, so that two runs compare exactly.

Floats are kept as floats (JSON writes their shortest round-tripping form), enums as their
values, dates as ISO text and file names relative to the inventory directory they were read from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd


def plain(value: Any, *, root: str | None = None) -> Any:
    """``value`` (records, enums, tuples, dates ...) as JSON data; files under ``root`` made relative to it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), root=root) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v, root=root) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, root=root) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    if isinstance(value, str) and root is not None and value.startswith(root):
        return Path(value).relative_to(root).as_posix()
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def table(df: pd.DataFrame) -> dict[str, Any]:
    """A frame's index, columns, dtypes and every value."""
    return {
        "index": [plain(i) for i in df.index],
        "columns": list(df.columns),
        "dtypes": [str(t) for t in df.dtypes],
        "rows": [[plain(v) for v in row] for row in df.itertuples(index=False, name=None)],
    }


def plugin_scores(scores: Iterable[Any]) -> list[Any]:
    """Every :class:`~blastradius.scores.PluginScore`, with all its actions and their datasets."""
    return [plain(ps) for ps in scores]


def findings(items: Iterable[Any], root: str) -> list[Any]:
    """Findings with their evidence, file names relative to ``root``."""
    return [plain(f, root=root) for f in items]


def inventory_diff(d: Any, root: str) -> dict[str, Any]:
    """A :class:`~blastradius.diff.InventoryDiff`: its changes, score table and findings."""
    return {
        "changes": plain(d.changes),
        "scores": table(d.scores),
        "findings": findings(d.findings, root),
    }
