"""Plain-text rendering of result tables for the terminal, and text made safe for where it goes.

Inventory text is written by whoever wrote the inventory, or by whatever an
importer read: names and descriptions may hold control characters (which a
terminal obeys), or begin with ``=``, ``+``, ``-`` or ``@`` (which a
spreadsheet runs as a formula when it opens a CSV). :func:`printable` and
:func:`csv_text` are the one place such text is neutralised for the
terminal and for CSV files; :func:`xml_text` for XML (GraphML).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a table is written: printable() alone needs none of it
    import pandas as pd


__all__ = ["csv_text", "frame_to_json", "printable", "text_table", "xml_text"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    r"""``text`` with control characters (which a terminal would obey) shown as ``\xNN`` escapes.

    New lines and tabs stay.

    Examples
    --------
    >>> printable("ok\x1b[31m red\x07")
    'ok\\x1b[31m red\\x07'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def xml_text(text: str) -> str:
    r"""``text`` without the characters XML 1.0 cannot hold (as ``\xNN`` escapes), so a GraphML file stays well formed.

    Examples
    --------
    >>> xml_text("tool\x00name")
    'tool\\x00name'
    """
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def csv_text(df: pd.DataFrame, **to_csv: Any) -> str:
    """``df`` as CSV, a text cell that a spreadsheet would run as a formula prefixed with ``'`` (OWASP's advice).

    Numbers are left as they are; text that begins with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return is not.

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"name": ["=HYPERLINK(1)", "ok"], "n": [-1, 2]}), index=False), end="")
    name,n
    '=HYPERLINK(1),-1
    ok,2
    """
    from pandas.api.types import is_string_dtype

    safe = df.copy()
    for column in safe.columns:
        if safe[column].dtype == object or is_string_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA) else v)
    if safe.index.dtype == object or is_string_dtype(safe.index):
        safe.index = safe.index.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA) else v)
    return safe.to_csv(**to_csv)


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
    from pandas.api.types import is_numeric_dtype

    formats, headers, max_width = formats or {}, headers or {}, max_width or {}
    names = ([index] if index else []) + [headers.get(c, c) for c in columns]
    rows = []
    for idx, record in zip(df.index, df[list(columns)].itertuples(index=False), strict=True):
        cells = [str(idx)] if index else []
        for col, value in zip(columns, record, strict=True):
            text = printable(_cell(value, formats.get(col)))
            limit = max_width.get(col)
            if limit and len(text) > limit:
                text = text[: limit - 1] + "…"
            cells.append(text)
        rows.append(cells)
    numeric = [True] * (1 if index else 0) + [is_numeric_dtype(df[c]) for c in columns]
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
