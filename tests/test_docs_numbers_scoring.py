"""Every default weight docs/scoring.md quotes is the code's, and its table of sources lists every one of them.

A weight is quoted in three ways, each checked here against ``default_weights()``:

- in the table of §8, one row per weight or per group of weights, with its range and source;
- in prose, as ```key` (value)`` (``key`` a weight or ``group.key``, the value with an optional ``×``);
- in the tables of action weights, classification weights and review tiers.

So a default changed in ``weights.yaml`` and not in the documentation fails a test, and so does a
weight added to ``weights.yaml`` and missing from §8.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blastradius.settings import Weights, default_weights

DOC = (Path(__file__).resolve().parents[1] / "docs" / "scoring.md").read_text(encoding="utf-8")
FLAT = " ".join(DOC.split())  # prose wraps: patterns read the text as one line
W = default_weights()
NUMBER = r"\d[\d,]*(?:\.\d+)?"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{path}.{key}" if path else str(key))
    else:
        yield path, float(value)


#: ``{key path: default}`` of every weight, e.g. ``review_miss_rate.2`` or ``action_weights.pay``.
DEFAULTS = dict(_leaves(W.model_dump(mode="json")))


def _tables(text: str) -> Iterator[list[list[str]]]:
    """Every markdown table of ``text``, as rows of cells (the header first, the separator left out)."""
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif rows:
            yield rows
            rows = []


def _table(first_header: str) -> list[list[str]]:
    found = [t for t in _tables(DOC) if t[0][0] == first_header]
    assert len(found) == 1, f"docs/scoring.md should have one table headed {first_header!r}"
    return found[0]


def _sources_table() -> dict[str, tuple[float, tuple[float, float] | None, str]]:
    """§8, as ``{key path: (default, range, source)}``, a row of a group giving each of its keys."""
    rows = _table("weight")
    assert rows[0] == ["weight", "default", "plausible range", "source"]
    out: dict[str, tuple[float, tuple[float, float] | None, str]] = {}
    for key_cell, value_cell, range_cell, source in rows[1:]:
        key = re.fullmatch(r"`([\w.-]+)`", key_cell)
        assert key, f"§8: {key_cell!r} is not a weight in backticks"
        if range_cell == "—":
            span = None
        else:
            bounds = re.fullmatch(rf"({NUMBER}) – ({NUMBER})", range_cell)
            assert bounds, f"§8 {key_cell}: the range {range_cell!r} is not 'low – high'"
            span = (_number(bounds.group(1)), _number(bounds.group(2)))
        if re.fullmatch(NUMBER, value_cell):
            values = {key.group(1): _number(value_cell)}
        else:
            pairs = [re.fullmatch(rf"([\w-]+) ({NUMBER})", p) for p in value_cell.split(", ")]
            assert all(pairs), f"§8 {key_cell}: {value_cell!r} is not 'name value, name value ...'"
            values = {f"{key.group(1)}.{m.group(1)}": _number(m.group(2)) for m in pairs if m}
        for path, value in values.items():
            assert path not in out, f"§8 lists {path} twice"
            out[path] = (value, span, source)
    return out


def test_the_table_of_sources_lists_every_weight_with_its_default() -> None:
    table = _sources_table()
    assert set(table) == set(DEFAULTS), {
        "in weights.yaml, not in §8": sorted(set(DEFAULTS) - set(table)),
        "in §8, not a weight": sorted(set(table) - set(DEFAULTS)),
    }
    for path, (value, _, _) in table.items():
        assert value == DEFAULTS[path], f"docs/scoring.md §8 says {path} is {value:g}, weights.yaml {DEFAULTS[path]:g}"


def test_the_table_of_sources_gives_each_weights_range_and_kind_of_source() -> None:
    for path, (_, span, source) in _sources_table().items():
        note = W.provenance.get(path)
        assert note is not None and note.source, f"weights.yaml gives no source for {path}"
        assert span == note.range, f"docs/scoring.md §8 gives {path} the range {span}, weights.yaml {note.range}"
        kind = note.source.split(":")[0] if note.source.startswith(("judgement:", "definition:")) else None
        quoted = source.split(":")[0] if source.startswith(("judgement", "definition")) else None
        assert quoted == kind, f"§8 calls the source of {path} {quoted or 'a reference'}, weights.yaml {kind}"


def _mentions() -> list[tuple[str, float]]:
    """Every ```key` (value)`` of the prose and the tables whose key is a weight or a group's key."""
    found = []
    for m in re.finditer(rf"`([a-z_]+(?:\.[\w-]+)?)` \(×?({NUMBER})\)", FLAT):
        key, value = m.group(1), _number(m.group(2))
        if key.split(".")[0] in Weights.model_fields:
            found.append((key, value))
    return found


def test_every_weight_quoted_by_name_is_its_default() -> None:
    mentions = _mentions()
    named = {key for key, _ in mentions}
    # the weights the prose explains by name: if one is no longer quoted, its sentence went missing
    for key in (
        "gate_miss_rate",
        "leak_internal_factor",
        "untrusted_input_factor",
        "fan_out_slope",
        "leaves_org",
        "bulk_write_fan_out",
        "unknown_dataset_records",
        "unknown_people_count",
        "unknown_output_audience",
        "output_weight",
        "output_external",
        "recommended_row_limit",
        "reversibility.soft-delete",
        "people_weights.internal",
    ):
        assert key in named, f"docs/scoring.md no longer quotes `{key}` (value)"
    for key, value in mentions:
        assert key in DEFAULTS, f"docs/scoring.md quotes `{key}`, which is not one weight (name a key of a group)"
        assert value == DEFAULTS[key], f"docs/scoring.md says `{key}` is {value:g}, weights.yaml {DEFAULTS[key]:g}"


def test_the_action_weight_table_is_the_defaults() -> None:
    rows = _table("action")
    assert rows[0][:2] == ["action", "weight"]
    seen = {}
    for cells in rows[1:]:
        for action in cells[0].split(", "):
            seen[f"action_weights.{action}"] = _number(cells[1])
    assert seen == {k: v for k, v in DEFAULTS.items() if k.startswith("action_weights.")}


def test_the_classification_weight_table_is_the_defaults() -> None:
    header, values = _table("classification")
    assert values[0] == "weight"
    seen = {f"classification_weights.{c}": _number(v) for c, v in zip(header[1:], values[1:], strict=True)}
    assert seen == {k: v for k, v in DEFAULTS.items() if k.startswith("classification_weights.")}


def test_the_review_tier_table_is_the_defaults() -> None:
    header, values = _table("review tier (D7)")
    tiers = [cell.split()[0] for cell in header[1:]]  # "none", "1 spot-check" ...
    seen = {f"review_miss_rate.{t}": _number(v) for t, v in zip(tiers, values[1:], strict=True)}
    assert seen == {k: v for k, v in DEFAULTS.items() if k.startswith("review_miss_rate.")}


def test_the_fan_out_examples_follow_the_slope() -> None:
    bullet = re.search(r"\*\*Fan-out\*\*(.*?)\(`fan_out_slope`", FLAT)
    assert bullet, "the fan-out bullet of §2 is missing"
    examples = re.findall(rf"×({NUMBER}) for ({NUMBER})", bullet.group(1))
    assert len(examples) >= 3, "the fan-out examples of §2 are missing"
    for multiplier, fan_out in examples:
        expected = 1 + W.fan_out_slope * math.log10(_number(fan_out))
        assert _number(multiplier) == pytest.approx(expected), (multiplier, fan_out)
