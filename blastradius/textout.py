"""Plain-text rendering of result tables for the terminal (the CLI's only formatting)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["frame_to_json", "text_table"]


def _cell(value: Any, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if fmt is not None:
        return format(value, fmt)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def text_table(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    formats: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    max_width: Mapping[str, int] | None = None,
    index: str | None = "#",
) -> str:
    """Align ``columns`` of ``df`` as a text table; numbers right-aligned, text left-aligned, long text cut."""
    formats, headers, max_width = formats or {}, headers or {}, max_width or {}
    names = ([index] if index else []) + [headers.get(c, c) for c in columns]
    rows = []
    for idx, record in zip(df.index, df[list(columns)].itertuples(index=False), strict=True):
        cells = [str(idx)] if index else []
        for col, value in zip(columns, record, strict=True):
            text = _cell(value, formats.get(col))
            limit = max_width.get(col)
            if limit and len(text) > limit:
                text = text[: limit - 1] + "…"
            cells.append(text)
        rows.append(cells)
    numeric = [True] * (1 if index else 0) + [pd.api.types.is_numeric_dtype(df[c]) for c in columns]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(names), line(["-" * w for w in widths]), *map(line, rows)])


def frame_to_json(df: pd.DataFrame, **extra: Any) -> str:
    """Rows of ``df`` as JSON objects (numpy scalars made plain), with ``extra`` top-level keys if given."""
    rows = json.loads(df.to_json(orient="records"))
    return json.dumps({**extra, "rows": rows} if extra else rows, indent=2)
