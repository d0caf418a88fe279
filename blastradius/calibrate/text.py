"""The calibration in words, for the terminal: what was read, what was learnt, what was found."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from blastradius.calibrate import Calibration
from blastradius.textout import text_table

__all__ = ["calibration_lines", "check_outputs"]

_NAMES = {
    "runs_per_user_per_day": "runs / user / day",
    "approval_gate_catch_rate": "gate catch",
    "gate_approval_rate": "gated calls approved",
    "gate_rejection_rate": "human rejections of gated calls",
    "rows_per_call": "calls near the row bound",
    "recipients_per_call": "calls near the send bound",
    "tool_failure_rate": "tool failures",
}
_OBSERVED = ("gate_approval_rate", "gate_rejection_rate", "rows_per_call", "recipients_per_call")
_OUTCOMES = {
    "builtin": "built-in tools (not connectors)",
    "unattributed-mcp": "MCP calls with no server name (set OTEL_LOG_TOOL_DETAILS=1)",
    "unreadable": "events with no tool name",
}


def _fmt(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def check_outputs(outputs: list[Path], inputs: list[Path]) -> str | None:
    """Why writing ``outputs`` would touch an input (a log, a mapping, an assumptions file), or None."""
    given = {p.resolve() for p in inputs}
    for out in outputs:
        target = out.resolve()
        if target in given or any(p.is_dir() and p in target.parents for p in given):
            return f"refusing to write {out}: it is one of the inputs; choose another path"
        if out.is_dir():
            return f"{out} is a directory: give a file name, e.g. calibrated.yaml"
    return None


def calibration_lines(cal: Calibration, *, top: int = 30) -> list[str]:
    """What was read, the calibrated settings with events behind them, what was not mapped, and the findings."""
    obs, s = cal.observations, cal.observations.stats
    window = obs.window
    span = f"{window[0]} to {window[1]}, {obs.working_days} working days" if window else "no dated events"
    lines = [
        f"read {s.files:,} file(s), {s.lines:,} lines, {s.records:,} log records: {s.events:,} tool calls and "
        f"decisions ({span})"
    ]
    if s.malformed:
        lines.append(f"  {s.malformed:,} malformed line(s) skipped, e.g.:")
        lines.extend(f"    - {p}" for p in s.problems[:5])
    if s.out_of_window:
        lines.append(f"  {s.out_of_window:,} event(s) outside --since/--until left out")
    if s.skipped:
        other = ", ".join(f"{name} {n:,}" for name, n in s.skipped.most_common(6))
        lines.append(f"  other events not used: {other}")
    by_outcome: Counter[str] = Counter()
    for (outcome, _), n in obs.unmapped.items():
        by_outcome[outcome] += n
    for outcome, n in by_outcome.most_common():
        names = ", ".join(f"{name} {c:,}" for (o, name), c in obs.unmapped.most_common() if o == outcome)
        lines.append(f"  not mapped: {n:,} {_OUTCOMES.get(outcome, outcome)}: {names[:200]}")
    shared = sum(c.calls for (plugin, _, _), c in obs.tools.items() if not plugin)
    if shared:
        lines.append(
            f"  {shared:,} call(s) of connectors several plugins share, with no plugin named: counted per tool only"
        )
    df = cal.table()
    moved = df[(df["setting"] != "") & (df["events"] > 0)]
    lines.append("")
    if moved.empty:
        lines.append("no setting has events behind it: the overlay keeps every prior")
    else:
        shown = moved.head(top).reset_index(drop=True)
        shown["what"] = shown["quantity"].map(lambda q: _NAMES.get(q, q))
        shown["modelled"] = shown["prior"].map(_fmt)
        shown["calibrated"] = [
            f"{_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
            for e, lo, hi in zip(shown["estimate"], shown["low"], shown["high"], strict=True)
        ]
        shown["observed "] = shown["observed"].map(_fmt)
        lines.append(f"calibrated settings ({cal.level:.0%} intervals; {len(moved):,} with events behind them):")
        lines.append(
            text_table(
                shown,
                ["plugin", "team", "what", "events", "observed ", "modelled", "calibrated", "note"],
                formats={"events": ",d"},
                max_width={"note": 60},
                index=None,
            )
        )
        if len(moved) > top:
            lines.append(f"... and {len(moved) - top:,} more (--table FILE writes them all)")
    observed = df[df["quantity"].isin(_OBSERVED) & (df["events"] > 0)].copy()
    if not observed.empty:
        shown = observed.head(top).reset_index(drop=True)
        shown["what"] = shown["quantity"].map(lambda q: _NAMES.get(q, q))
        shown["where"] = [
            ".".join(x for x in (c, t) if x) or "gated calls"
            for p, c, t in zip(shown["plugin"], shown["connector"], shown["tool"], strict=True)
        ]
        shown["share"] = [
            f"{_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
            for e, lo, hi in zip(shown["estimate"], shown["low"], shown["high"], strict=True)
        ]
        shown["largest"] = [
            f"{_fmt(m)} of {_fmt(b)}" if b == b else ""
            for m, b in zip(shown["max_observed"], shown["bound"], strict=True)
        ]
        lines.append("")
        lines.append("what the logs show (these inform; they set nothing):")
        lines.append(
            text_table(
                shown,
                ["plugin", "where", "what", "events", "share", "largest"],
                formats={"events": ",d"},
                index=None,
            )
        )
        if len(observed) > top:
            lines.append(f"... and {len(observed) - top:,} more (--table FILE writes them all)")
    above = df[df["above_bound"] > 0]
    if len(cal.findings):
        lines.append("")
        lines.append(f"{len(cal.findings)} finding(s) from the logs:")
        for f in cal.findings:
            lines.append(f"{f.severity.value.upper():8} {f.rule} {f.subject}")
            lines.append(f"         {f.message}")
            for e in f.evidence:
                lines.append(f"         at {e}")
            lines.append(f"         fix: {f.fix}")
    elif above.empty:
        lines.append("")
        lines.append("no shadow access and no call above its modelled bound")
    return lines
