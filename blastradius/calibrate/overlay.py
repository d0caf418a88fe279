"""Writing what the logs calibrated: one overlay every command reads, never an edit of the inventory.

:func:`write_overlay` writes an **overlay** (:mod:`blastradius.overlay`,
format 2) holding

- ``plugins: {ID: {users: {TEAM: {runs_per_user_per_day: ...}}}}``: the
  calibrated runs per user per working day of each team entry the plugin
  has (an estimate for the whole plugin scales its teams alike);
- ``assumptions: {plugins: {ID: {controls: {approval_gate_catch_rate: ...}}}}``:
  the gate catch where the logs bound it below the prior.

Each value is written ``{value, range, source}``: the estimate, its interval
and what it rests on. ``validate DIR --overlay OUT`` checks it, and
``score``, ``simulate`` and every command that takes ``--overlay`` use it.
Only what the logs moved is written: a setting with no events behind it is
left out, so an overlay of an empty log is the priors themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from blastradius.calibrate.estimate import Estimate
from blastradius.errors import BlastRadiusError
from blastradius.model import MAX_RUNS_PER_USER_PER_DAY, Inventory

__all__ = ["overlay_data", "write_overlay"]


def _num(x: float) -> float:
    return float(f"{x:.6g}")


def _noted(e: Estimate, what: str, window: tuple[dt.date, dt.date] | None, level: float) -> dict[str, Any]:
    value = _num(e.estimate)
    low, high = min(_num(e.low), value), max(_num(e.high), value)
    span = f" {window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}" if window else ""
    prior = f"{e.prior:.4g}" if e.prior is not None else "none"
    if e.prior_low is not None and e.prior_high is not None:
        prior += f" [{e.prior_low:.4g}, {e.prior_high:.4g}]"
    if e.events == 1:  # "1 run", "1 human decision on gated calls", "1 call with a logged size"
        what = what.replace("runs", "run").replace("decisions", "decision").replace("calls with", "call with")
    source = (
        f"blastradius calibrate: {e.events:,} {what} in the logs{span}; posterior median and {level:.0%} "
        f"interval over the prior {prior}"
    )
    return {"value": value, "range": [low, high], "source": source}


def _runs(e: Estimate, inventory: Inventory, window: tuple[dt.date, dt.date] | None, level: float) -> dict[str, Any]:
    """``{TEAM: {runs_per_user_per_day: {value, range, source}}}`` of one estimate of runs per user per day.

    An estimate of a team entry patches that entry; one of the whole plugin
    (the logs named no team) scales every team entry by the same factor, so
    that their users' average is the estimate and the teams keep their
    proportions.
    """
    noted = _noted(e, "runs", window, level)
    plugin = inventory.plugin_by_id[e.plugin]
    if e.team:
        return {e.team: {"runs_per_user_per_day": noted}}
    out: dict[str, Any] = {}
    for u in plugin.users:
        factor = u.runs_per_user_per_day / e.prior if e.prior else 1.0
        low, high = noted["range"]
        out[u.team] = {
            "runs_per_user_per_day": {
                "value": _rate(noted["value"] * factor),
                "range": [_rate(low * factor), _rate(high * factor)],
                "source": noted["source"] + ("; the plugin's teams scaled alike" if len(plugin.users) > 1 else ""),
            }
        }
    return out


def _rate(x: float) -> float:
    return min(_num(x), float(MAX_RUNS_PER_USER_PER_DAY))


def _unchanged(e: Estimate) -> bool:
    """Whether the estimate is its prior as the setting gives it (a gate catch the logs are consistent with)."""
    return (e.estimate, e.low, e.high) == (e.prior, e.prior_low, e.prior_high)


def overlay_data(
    estimates: Iterable[Estimate],
    inventory: Inventory,
    *,
    window: tuple[dt.date, dt.date] | None = None,
    level: float = 0.9,
) -> dict[str, Any]:
    """The changes :func:`write_overlay` writes, as data: ``{"plugins": {...}, "assumptions": {...}}``.

    Only settings with events behind them that the logs moved: a plugin's
    users (runs per user per day, format 2) and its settings under
    ``assumptions.plugins.ID``.
    """
    plugins: dict[str, Any] = {}
    assumptions: dict[str, Any] = {"plugins": {}}
    for e in estimates:
        if not e.setting or e.events == 0 or _unchanged(e):
            continue
        if e.quantity == "runs_per_user_per_day":
            plugins.setdefault(e.plugin, {"users": {}})["users"].update(_runs(e, inventory, window, level))
            continue
        section = "controls" if e.quantity == "approval_gate_catch_rate" else "magnitude"
        what = "human decisions on gated calls" if section == "controls" else "calls with a logged size"
        plugin = assumptions["plugins"].setdefault(e.plugin, {})
        entry = _noted(e, what, window, level)
        if e.quantity == "approval_gate_catch_rate":
            entry["source"] = f"blastradius calibrate: {e.note}"
        plugin.setdefault(section, {})[e.quantity] = entry
    return {"plugins": plugins, "assumptions": assumptions}


#: The description of every overlay :func:`write_overlay` writes; an existing file with it may be replaced.
DESCRIPTION = "Calibrated from the organisation's own logs by blastradius calibrate"


def _replaceable(path: Path) -> bool:
    """Whether ``path`` is new, or an earlier output of :func:`write_overlay` (which a new calibration replaces)."""
    if not path.exists():
        return True
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False
    return DESCRIPTION in head or "written by `blastradius calibrate`" in head


def write_overlay(
    estimates: Iterable[Estimate],
    out: str | Path,
    inventory: Inventory,
    *,
    base: str | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    level: float = 0.9,
) -> Path:
    """Write the overlay (format 2) of the calibrated settings of ``inventory`` to ``out``.

    ``base`` names the inventory (its directory) in the overlay. A file
    already there is replaced only when an earlier calibration wrote it.

    Raises
    ------
    BlastRadiusError
        ``out`` exists and is not an earlier calibration's.
    """
    from blastradius.overlay import write_overlay as write_overlay_file

    out = Path(out)
    if not _replaceable(out):
        raise BlastRadiusError(f"refusing to overwrite {out}: it is not an earlier calibration; choose another name")
    data = overlay_data(estimates, inventory, window=window, level=level)
    span = f"{window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}" if window else "no dated events"
    document: dict[str, Any] = {
        "overlay": 2,
        "description": f"{DESCRIPTION}, {span} ({level:.0%} intervals); docs/calibration.md",
    }
    if base:
        document["base"] = Path(base).name
    if data["plugins"]:
        document["plugins"] = data["plugins"]
    document["assumptions"] = data["assumptions"]
    write_overlay_file(document, out, overwrite=True)
    return out
