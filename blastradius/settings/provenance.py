"""Where a setting comes from: a public source and an uncertainty range, written beside the value.

Every default in ``blastradius/data/assumptions.yaml`` and
``blastradius/data/weights.yaml`` says why it is what it is, and how far it
could plausibly be from it. A settings file may do the same for its own
values, in one of three forms::

    approval_gate_catch_rate:          # a number, with its source and range
      value: 0.9
      range: [0.7, 0.98]
      source: "judgement: ..."
    wrong_action:                      # an interval is its own range
      low: 0.0001
      high: 0.001
      source: "tau-bench (Yao et al. 2024) ..."
    action_weights:                    # a source for every setting below it
      source: "judgement: ..."
      read: 3.0

:func:`split_provenance` takes these notes off the data, which is then
validated as usual, and returns them keyed by the setting's key path. Plain
values (``approval_gate_catch_rate: 0.5``) stay valid: they have no source
and no range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastradius.errors import ConfigError, Problem

__all__ = ["NOTE_KEYS", "Provenance", "layer_notes", "note_of", "split_provenance"]

#: Keys of a settings mapping that annotate a value rather than set one.
NOTE_KEYS = ("value", "range", "source")

_OPAQUE = ("plugins",)  # mappings keyed by ids, where a key named "source" would be an id


@dataclass(frozen=True)
class Provenance:
    """Why a setting has its value: a public reference (or reasoned judgement), and a plausible range."""

    source: str | None = None
    range: tuple[float, float] | None = None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def split_provenance(
    data: Mapping[str, Any],
    *,
    file: Path | str,
    prefix: str = "",
    line_of: Callable[[str], int | None] | None = None,
) -> tuple[dict[str, Any], dict[str, Provenance]]:
    """``data`` without its notes, and the notes: ``{key path: Provenance}`` of every setting that has one.

    ``prefix`` is the key path of ``data`` in its file (an inventory's
    section), used in problems only; key paths returned are relative to
    ``data``.

    Raises
    ------
    ConfigError
        A source that is not text, a range that is not two ordered numbers or
        does not hold the value, or a note beside keys it cannot annotate.

    Examples
    --------
    >>> plain, notes = split_provenance(
    ...     {"gate": {"value": 0.9, "range": [0.7, 0.98], "source": "judgement"}, "k": 1}, file="w.yaml"
    ... )
    >>> plain, notes["gate"]
    ({'gate': 0.9, 'k': 1}, Provenance(source='judgement', range=(0.7, 0.98)))
    """
    problems: list[Problem] = []
    notes: dict[str, Provenance] = {}

    def problem(path: str, message: str, hint: str | None = None) -> None:
        full = f"{prefix}.{path}" if prefix and path else (prefix or path)
        problems.append(
            Problem(
                file=Path(file),
                path=full,
                line=line_of(full) if line_of is not None else None,
                message=message,
                hint=hint,
            )
        )

    def walk(node: Any, path: str, inherited: str | None, depth: int) -> Any:
        if not isinstance(node, Mapping):
            if inherited is not None and path:
                notes[path] = Provenance(inherited)
            return node
        keyed = {str(k): v for k, v in node.items()}
        if depth == 0 or path in _OPAQUE or not any(k in keyed for k in NOTE_KEYS):
            return {k: walk(v, f"{path}.{k}" if path else k, inherited, depth + 1) for k, v in node.items()}
        source = keyed.pop("source", None)
        if source is not None and (not isinstance(source, str) or not source.strip()):
            problem(f"{path}.source", f"a source must be text, got {source!r}", "name the reference or the reasoning")
            source = None
        source = source if source is not None else inherited
        span = keyed.pop("range", None)
        bounds: tuple[float, float] | None = None
        if span is not None:
            if not (isinstance(span, list | tuple) and len(span) == 2 and all(_number(x) for x in span)):
                problem(f"{path}.range", f"a range is two numbers [low, high], got {span!r}")
            elif span[0] > span[1]:
                problem(f"{path}.range", f"the range's low end {span[0]:g} is above its high end {span[1]:g}")
            else:
                bounds = (float(span[0]), float(span[1]))
        if "value" in keyed:
            value = keyed.pop("value")
            if keyed:
                problem(path, f"unexpected {', '.join(sorted(keyed))} beside 'value'", "keep value, range and source")
            if bounds is not None and _number(value) and not bounds[0] <= value <= bounds[1]:
                problem(path, f"the value {value:g} is outside its range [{bounds[0]:g}, {bounds[1]:g}]")
            notes[path] = Provenance(source, bounds)
            return value
        if "low" in keyed or "high" in keyed:  # an interval: its own 90% range
            if bounds is not None:
                problem(f"{path}.range", "an interval {low, high} is its own range", "drop 'range'")
            notes[path] = Provenance(source)
            return keyed
        if bounds is not None:
            problem(f"{path}.range", "a range needs a value beside it", "write {value: V, range: [L, H]}")
        return {k: walk(v, f"{path}.{k}", source, depth + 1) for k, v in keyed.items()}

    plain = walk(data, "", None, 0)
    if problems:
        raise ConfigError(problems)
    return plain, notes


def layer_notes(data: Mapping[str, Any], file: str | Path | None) -> dict[str, Provenance]:
    """The notes of one settings layer that has already been validated (so its notes are well formed)."""
    return split_provenance(data, file=file or "<settings>")[1]


def note_of(notes: Mapping[str, Provenance], path: str) -> Provenance:
    """The note of the setting at ``path``; an interval noted bound by bound (by a group's source) counts too."""
    note = notes.get(path)
    if note is None:
        note = notes.get(f"{path}.low") or notes.get(f"{path}.high")
    return note or Provenance()
