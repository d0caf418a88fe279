"""The golden figures: results of scoring, linting and diffing as plain JSON data, so that two runs compare exactly.

Floats are kept as floats (JSON writes their shortest round-tripping form), enums as their
values, dates as ISO text and file names relative to the inventory directory they were read from.
A column of text is a ``str`` column whatever pandas stores it as (``object`` before pandas 3,
``str`` from pandas 3), so the figures are the same on every pandas the project allows.

``expected-figures.json`` holds the example score tables in full and every other figure as a
SHA-256 digest of its data; ``expected-figures-full.json.xz`` holds all of them in full, so that a
changed figure is shown as what changed, old and new, not as two digests.

Run as a script (``scripts/regenerate-figures``) to show what changed and write both files again.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import difflib
import enum
import hashlib
import json
import lzma
import math
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
#: The golden file: example score tables in full, the other figures as digests.
GOLDEN = DATA / "expected-figures.json"
#: Every figure in full, to show how a figure changed; in step with :data:`GOLDEN` (a test checks).
FULL = DATA / "expected-figures-full.json.xz"

#: The synthetic enterprise of the figures (``a`` is scored and linted, ``b`` is diffed against it).
SYNTHETIC = {"people": 3000, "plugins": 80, "connectors": 30, "systems": 15, "datasets": 600}
#: The date the synthetic enterprise is linted on.
AS_OF = dt.date(2026, 11, 21)
#: Every figure, as (inventory, figure).
NAMES = [
    ("acme", "scores"),
    ("acme", "actions"),
    ("acme-governed", "scores"),
    ("acme-governed", "actions"),
    ("synthetic", "scores"),
    ("synthetic", "actions"),
    ("synthetic", "lint"),
    ("synthetic", "diff"),
]
#: Figures the golden file holds in full; the others it holds as :func:`digest`.
IN_FULL = {("acme", "scores"), ("acme-governed", "scores")}


# --- figures as JSON data -----------------------------------------------------------------------


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


def is_text(column: pd.Series) -> bool:
    """Whether ``column`` holds text: pandas 3 stores it as its ``str`` dtype, pandas 2 as ``object``."""
    if isinstance(column.dtype, pd.StringDtype):
        return True
    values = column.dropna()
    return column.dtype == object and len(values) > 0 and all(isinstance(v, str) for v in values)


def dtype_name(column: pd.Series) -> str:
    """``str`` for a column of text however pandas stores it, otherwise the name of the column's dtype."""
    return "str" if is_text(column) else str(column.dtype)


def table(df: pd.DataFrame) -> dict[str, Any]:
    """A frame's index, columns, dtypes and every value; a missing text is ``None`` on every pandas."""
    text = [is_text(df[c]) for c in df.columns]
    return {
        "index": [plain(i) for i in df.index],
        "columns": list(df.columns),
        "dtypes": [dtype_name(df[c]) for c in df.columns],
        "rows": [
            [None if is_text and pd.isna(v) else plain(v) for v, is_text in zip(row, text, strict=True)]
            for row in df.itertuples(index=False, name=None)
        ],
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


def digest(data: Any) -> str:
    """SHA-256 of ``data`` as JSON with sorted keys."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# --- computing, storing and comparing them ------------------------------------------------------


def compute(workdir: Path) -> dict[str, dict[str, Any]]:
    """Every figure in full, ``{inventory: {figure: data}}``; the synthetic enterprise is written under ``workdir``."""
    from blastradius import load_inventory
    from blastradius.diff import diff_inventories
    from blastradius.rules import lint
    from blastradius.scores import action_scores, score_plugins
    from blastradius.synth import write_enterprise

    from conftest import ACME, ACME_GOVERNED

    out: dict[str, dict[str, Any]] = {}
    for path in (ACME, ACME_GOVERNED):
        inv = load_inventory(path)
        out[path.name] = {"scores": table(score_plugins(inv)), "actions": plugin_scores(action_scores(inv))}
    a = load_inventory(write_enterprise(workdir / "a", seed=3, **SYNTHETIC))
    b = load_inventory(write_enterprise(workdir / "b", seed=4, **SYNTHETIC))
    root = str(workdir)
    out["synthetic"] = {
        "scores": table(score_plugins(a)),
        "actions": plugin_scores(action_scores(a)),
        "lint": findings(lint(a, as_of=AS_OF), root),
        "diff": inventory_diff(diff_inventories(a, b), root),
    }
    return out


def golden(full: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The golden file's form of ``full``: the figures of :data:`IN_FULL` as they are, the others as digests."""
    return {
        inv: {fig: data if (inv, fig) in IN_FULL else digest(data) for fig, data in figs.items()}
        for inv, figs in full.items()
    }


def load_golden() -> dict[str, dict[str, Any]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def load_full() -> dict[str, dict[str, Any]] | None:
    """The stored figures in full, or None when the file is missing."""
    if not FULL.exists():
        return None
    return json.loads(lzma.decompress(FULL.read_bytes()))


def write(full: dict[str, dict[str, Any]]) -> None:
    """Write :data:`GOLDEN` and :data:`FULL` from ``full``; the same figures give the same bytes."""
    GOLDEN.write_text(json.dumps(golden(full), indent=1, sort_keys=True), encoding="utf-8")
    text = json.dumps(full, sort_keys=True, separators=(",", ":")).encode()
    FULL.write_bytes(lzma.compress(text, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9))


def stored(inv: str, fig: str, expected: dict[str, Any], full: dict[str, Any] | None) -> Any:
    """The stored data of a figure: from the golden file, or from the full file when it matches the golden digest."""
    entry = expected[inv][fig]
    if (inv, fig) in IN_FULL:
        return entry
    if full is not None and fig in full.get(inv, {}) and digest(full[inv][fig]) == entry:
        return full[inv][fig]
    return None


def mismatch(
    inv: str, fig: str, new: Any, expected: dict[str, Any], full: dict[str, Any] | None, *, limit: int = 40
) -> str | None:
    """None when figure ``inv/fig`` is as the golden file has it, otherwise what changed, old and new."""
    entry = expected.get(inv, {}).get(fig)
    if entry is None:
        return f"{inv}/{fig}: not in {GOLDEN.name}"
    if ((inv, fig) in IN_FULL and new == entry) or ((inv, fig) not in IN_FULL and digest(new) == entry):
        return None
    old = stored(inv, fig, expected, full)
    if old is None:
        return (
            f"{inv}/{fig}: digest {digest(new)} instead of {entry}; {FULL.name} does not hold this figure's "
            f"old data, so only the digests can be compared"
        )
    lines = differences(old, new, f"{inv}/{fig}")
    if not lines:  # equal data that digests differently cannot happen, but say so if it does
        lines = [f"{inv}/{fig}: equal data, digest {digest(new)} instead of {entry}"]
    shown = lines[:limit] + ([f"... and {len(lines) - limit} more differences"] if len(lines) > limit else [])
    return f"{inv}/{fig} changed (old -> new):\n" + "\n".join("  " + line for line in shown)


# --- readable differences -----------------------------------------------------------------------

#: Fields that name a record in a list of records, most specific first; the first that names every
#: record on both sides, each once, is used to pair old and new records.
_KEYS: Sequence[tuple[str, ...]] = (
    ("plugin", "connector", "action"),
    ("connector", "action"),
    ("rule", "subject"),
    ("kind", "subject", "field", "direction"),
    ("plugin",),
    ("dataset",),
    ("file", "line", "path"),
)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def _keyed(old: list[Any], new: list[Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Pair the records of two lists by the first field set of :data:`_KEYS` that names each uniquely."""
    if not all(isinstance(x, dict) for x in (*old, *new)):
        return None
    for fields in _KEYS:
        if not all(f in x for x in (*old, *new) for f in fields):
            continue
        a = {", ".join(f"{f}={x[f]}" for f in fields): x for x in old}
        b = {", ".join(f"{f}={x[f]}" for f in fields): x for x in new}
        if len(a) == len(old) and len(b) == len(new):
            return a, b
    return None


def _table_differences(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    """Cells of two :func:`table` data, each row named by its first column when that names every row once."""
    if old["columns"] != new["columns"]:
        return [f"{path}.columns: {_show(old['columns'])} -> {_show(new['columns'])}"]
    out = [
        f"{path}.dtypes[{c}]: {_show(x)} -> {_show(y)}"
        for c, x, y in zip(new["columns"], old["dtypes"], new["dtypes"], strict=True)
        if x != y
    ]

    def rows(t: dict[str, Any]) -> dict[str, list[Any]]:
        first = [r[0] for r in t["rows"]] if t["columns"] else []
        if len(set(map(str, first))) == len(first):
            return {f"{t['columns'][0]}={r[0]}": r for r in t["rows"]}
        return {f"index={i}": r for i, r in zip(t["index"], t["rows"], strict=True)}

    a, b = rows(old), rows(new)
    for key in a.keys() - b.keys():
        out.append(f"{path}[{key}]: removed")
    for key in b.keys() - a.keys():
        out.append(f"{path}[{key}]: added")
    for key in a.keys() & b.keys():
        for column, x, y in zip(new["columns"], a[key], b[key], strict=True):
            if x != y:
                out.append(f"{path}[{key}].{column}: {_show(x)} -> {_show(y)}")
    if not out and old.get("index") != new.get("index"):
        out.append(f"{path}.index: {_show(old.get('index'))} -> {_show(new.get('index'))}")
    if not out and list(a) != list(b):
        out.append(f"{path}: row order {_show(list(a))} -> {_show(list(b))}")
    return sorted(out)


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Every difference between two JSON data, one line each: where, the old value and the new one.

    Records in lists are paired by the fields that name them (plugin, connector and action; rule and
    subject ...), score tables are compared cell by cell with rows named by plugin.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        if {"columns", "dtypes", "rows"} <= old.keys() and {"columns", "dtypes", "rows"} <= new.keys():
            return _table_differences(old, new, path)
        out = [f"{path}.{k}: removed (was {_show(old[k])})" for k in sorted(old.keys() - new.keys())]
        out += [f"{path}.{k}: added ({_show(new[k])})" for k in sorted(new.keys() - old.keys())]
        for k in sorted(old.keys() & new.keys()):
            out += differences(old[k], new[k], f"{path}.{k}")
        return out
    if isinstance(old, list) and isinstance(new, list):
        keyed = _keyed(old, new)
        if keyed is not None:
            a, b = keyed
            out = [f"{path}[{k}]: removed" for k in a if k not in b]
            out += [f"{path}[{k}]: added" for k in b if k not in a]
            for k in a:
                if k in b:
                    out += differences(a[k], b[k], f"{path}[{k}]")
            if not out and list(a) != list(b):
                out.append(f"{path}: order {_show(list(a))} -> {_show(list(b))}")
            return out
        # unnamed items: pair them as a line diff pairs lines, then compare each pair
        out = []
        left, right = [_canonical(x) for x in old], [_canonical(x) for x in new]
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
            if op == "replace" and i2 - i1 == j2 - j1:
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    out += differences(old[i], new[j], f"{path}[{j}]")
            elif op != "equal":
                out += [f"{path}[{i}]: removed {_show(old[i])}" for i in range(i1, i2)]
                out += [f"{path}[{j}]: added {_show(new[j])}" for j in range(j1, j2)]
        return out
    if old != new or type(old) is not type(new):
        return [f"{path}: {_show(old)} -> {_show(new)}"]
    return []


# --- scripts/regenerate-figures -----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/regenerate-figures",
        description=f"Compute the golden figures, show how they differ from {GOLDEN.relative_to(DATA.parents[1])}, "
        "and write it (and the full figures beside it) again. A changed figure must be explained in the "
        "commit that changes it.",
    )
    parser.add_argument("--check", action="store_true", help="only show the differences; exit 1 if there are any")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        new = compute(Path(tmp))
    expected, full = (load_golden(), load_full()) if GOLDEN.exists() else ({}, None)
    reports = [m for inv, fig in NAMES if (m := mismatch(inv, fig, new[inv][fig], expected, full, limit=200))]
    for report in reports:
        print(report)
    in_step = full is not None and all(stored(inv, fig, expected, full) is not None for inv, fig in NAMES)
    if args.check:
        print(f"{len(reports)} of {len(NAMES)} figures changed" if reports else "every figure is unchanged")
        return 1 if reports else 0
    if not reports and in_step:
        print("every figure is unchanged; nothing to write")
        return 0
    write(new)
    changed = f"{len(reports)} of {len(NAMES)} figures changed" if reports else "figures unchanged"
    print(f"wrote {GOLDEN.relative_to(DATA.parents[1])} and {FULL.name} ({changed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
