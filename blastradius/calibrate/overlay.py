"""Writing what the logs calibrated: settings every command reads, never an edit of the inventory.

:func:`write_overlay` writes two files:

- ``OUT``, an **overlay** (:mod:`blastradius.overlay`, format 1) whose
  ``assumptions:`` section holds the calibrated per-plugin settings
  (``plugins: {ID: {controls: {approval_gate_catch_rate: ...}, magnitude:
  {...}}}``), each written ``{value, range, source}``: the posterior median,
  its interval and how many events it rests on. ``validate DIR --overlay
  OUT`` checks it and every command that takes ``--overlay`` uses it;
- ``OUT-usage.yaml``, the calibrated **usage**: runs per user per working
  day of each plugin's team entries, in the shape of the inventory
  (``plugins: {ID: {users: {TEAM: {runs_per_user_per_day: {value, range,
  source}}}}}``). Overlay format 1 changes no plugin's users, so this half
  is its own file, read by :func:`load_usage` and laid over an inventory by
  :func:`apply_usage`.

Only what the logs speak to is written: a setting with no events behind it
is left out, so an overlay of an empty log is the priors themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from blastradius.calibrate.estimate import Estimate
from blastradius.errors import BlastRadiusError, ConfigError, Problem
from blastradius.model import Inventory, PluginUsers
from blastradius.settings.files import read_settings_document

__all__ = ["apply_usage", "load_usage", "overlay_data", "usage_path", "write_overlay"]


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


def overlay_data(
    estimates: Iterable[Estimate], *, window: tuple[dt.date, dt.date] | None = None, level: float = 0.9
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(assumptions, usage)``: the two documents :func:`write_overlay` writes, as data."""
    assumptions: dict[str, Any] = {"plugins": {}}
    usage: dict[str, Any] = {"plugins": {}}
    for e in estimates:
        if not e.setting or e.events == 0:
            continue
        if e.quantity == "runs_per_user_per_day":
            entry = usage["plugins"].setdefault(e.plugin, {"users": {}})
            entry["users"][e.team or "*"] = {"runs_per_user_per_day": _noted(e, "runs", window, level)}
            continue
        section = "controls" if e.quantity == "approval_gate_catch_rate" else "magnitude"
        what = "human decisions on gated calls" if section == "controls" else "calls with a logged size"
        plugin = assumptions["plugins"].setdefault(e.plugin, {})
        plugin.setdefault(section, {})[e.quantity] = _noted(e, what, window, level)
    return assumptions, usage


def usage_path(out: Path) -> Path:
    """Where the usage half of the overlay ``out`` goes: ``calibrated.yaml`` -> ``calibrated-usage.yaml``."""
    return out.with_name(f"{out.stem}-usage{out.suffix or '.yaml'}")


_USAGE_HEADER = """\
# Calibrated usage (runs per user per working day) written by `blastradius calibrate` from {inventory}'s own logs
# ({window}, {level:.0%} intervals). docs/calibration.md explains every number.
# Team '*' stands for every team entry of the plugin, each scaled by the same factor.
# Use: blastradius.calibrate.apply_usage(inventory, this file)
"""

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
    *,
    inventory: str | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    level: float = 0.9,
) -> tuple[Path, Path]:
    """Write the overlay of the calibrated assumptions to ``out`` and the calibrated usage beside it.

    Returns both paths. A file already there is replaced only when an
    earlier calibration wrote it.

    Raises
    ------
    BlastRadiusError
        ``out`` or the usage file exists and is not an earlier calibration's.
    """
    from blastradius.overlay import write_overlay as write_overlay_file

    out = Path(out)
    usage_file = usage_path(out)
    for path in (out, usage_file):
        if not _replaceable(path):
            raise BlastRadiusError(
                f"refusing to overwrite {path}: it is not an earlier calibration; choose another name"
            )
    assumptions, usage = overlay_data(estimates, window=window, level=level)
    span = f"{window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}" if window else "no dated events"
    document: dict[str, Any] = {
        "overlay": 1,
        "description": f"{DESCRIPTION}, {span} ({level:.0%} intervals); docs/calibration.md",
    }
    if inventory:
        document["base"] = Path(inventory).name
    document["assumptions"] = assumptions
    write_overlay_file(document, out, overwrite=True)
    usage_file.write_text(
        _USAGE_HEADER.format(inventory=inventory or "the inventory", window=span, level=level)
        + yaml.safe_dump(usage, sort_keys=True, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    return out, usage_file


def load_usage(path: str | Path) -> dict[str, dict[str, float]]:
    """``{plugin: {team or '*': runs per user per day}}`` of a usage file.

    Raises
    ------
    ConfigError
        Not a usage file, with the key path of each problem.
    """
    doc = read_settings_document(path)
    problems: list[Problem] = []
    out: dict[str, dict[str, float]] = {}
    plugins = doc.data.get("plugins", {})
    if not isinstance(plugins, Mapping):
        plugins = {}
        problems.append(
            Problem(file=Path(path), path="plugins", line=doc.line_of("plugins"), message="expected a mapping")
        )
    for plugin, entry in plugins.items():
        users = entry.get("users") if isinstance(entry, Mapping) else None
        for team, value in (users or {}).items():
            key = f"plugins.{plugin}.users.{team}.runs_per_user_per_day"
            rate = value.get("runs_per_user_per_day") if isinstance(value, Mapping) else None
            rate = rate.get("value") if isinstance(rate, Mapping) else rate
            if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 10_000:
                problems.append(
                    Problem(file=Path(path), path=key, line=doc.line_of(key), message=f"not a rate: {rate!r}")
                )
                continue
            out.setdefault(str(plugin), {})[str(team)] = float(rate)
    if problems:
        raise ConfigError(problems)
    return out


def apply_usage(inventory: Inventory, usage: str | Path | Mapping[str, Mapping[str, float]]) -> Inventory:
    """``inventory`` with each plugin's runs per user per day set to the calibrated ones (a new inventory).

    Team ``*`` scales every team entry of the plugin so that their users'
    average is the calibrated rate.

    Raises
    ------
    ConfigError
        A usage file naming a plugin or team the inventory does not have.
    """
    rates = load_usage(usage) if isinstance(usage, str | Path) else usage
    problems = [
        Problem(
            file=Path(str(usage)) if isinstance(usage, str | Path) else None,
            path=f"plugins.{p}",
            message=f"no plugin '{p}' in the inventory",
        )
        for p in rates
        if p not in inventory.plugin_by_id
    ]
    if problems:
        raise ConfigError(problems)
    plugins = []
    for p in inventory.plugins:
        given = rates.get(p.id)
        if not given:
            plugins.append(p)
            continue
        entries = inventory.users_of(p)
        users = sum(n for _, n in entries)
        mean = sum(n * u.runs_per_user_per_day for u, n in entries) / users if users else 0.0
        new = []
        for u, _ in entries:
            if u.team in given:
                rate = given[u.team]
            elif "*" in given:
                rate = u.runs_per_user_per_day * given["*"] / mean if mean > 0 else given["*"]
            else:
                rate = u.runs_per_user_per_day
            new.append(PluginUsers(team=u.team, users=u.users, runs_per_user_per_day=min(float(rate), 10_000.0)))
        plugins.append(p.model_copy(update={"users": tuple(new)}))
    return inventory.replace(plugins=plugins)
