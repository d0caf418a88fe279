"""A synthetic month of logs from a known truth: to test calibration against, to demonstrate it, to time it.

:func:`synthetic_logs` draws, for the plugins asked, a month of runs from a
truth (runs per user per day, how often a person rejects a gated call, how
often a query returns everything it may) and writes them as the platform
and the connectors log them: an OpenTelemetry log export (OTLP JSON lines,
``tool_decision`` and ``tool_result`` events with plugin-scoped MCP tool
names) and a connector query audit log (rows returned, recipients). The
same seed gives the same files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from blastradius.calibrate.matching import mcp_name
from blastradius.calibrate.observe import call_bounds
from blastradius.model import ActionClass, Inventory
from blastradius.reach import ToolStatus, tool_status

__all__ = ["Truth", "synthetic_logs"]

_RECORDS_PER_LINE = 50  # log records per OTLP line, as a collector's batch processor groups them


@dataclass(frozen=True, kw_only=True)
class Truth:
    """What the synthetic logs were drawn from, per plugin."""

    runs_per_user_per_day: dict[str, float]  # the plugin's users' average
    reject_share: dict[str, float]  # of human decisions on gated calls
    full_share: dict[str, float]  # of sized calls (rows or recipients) at the modelled bound
    working_days: int


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _days(start: dt.date, working_days: int) -> list[dt.date]:
    out: list[dt.date] = []
    day = start
    while len(out) < working_days:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def synthetic_logs(
    inventory: Inventory,
    out: str | Path,
    *,
    plugins: Iterable[str],
    start: dt.date = dt.date(2026, 10, 1),
    working_days: int = 21,
    seed: int | np.random.Generator | None = None,
) -> Truth:
    """Write ``out/otel-logs.jsonl`` and ``out/connector-audit.jsonl`` for ``plugins``; returns the truth.

    The truth of each plugin is drawn around its inventory: runs per user per
    day its declared figure times a factor from 0.5 to 2, a rejection share
    from 2% to 30% of human decisions, a full share from 1% to 20%.
    """
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    days = _days(start, working_days)
    rates: dict[str, float] = {}
    rejects: dict[str, float] = {}
    fulls: dict[str, float] = {}
    records: list[dict[str, Any]] = []
    audit_lines: list[str] = []
    otel = (out / "otel-logs.jsonl").open("w", encoding="utf-8")
    audit = (out / "connector-audit.jsonl").open("w", encoding="utf-8")

    def flush(force: bool = False) -> None:
        if records and (force or len(records) >= _RECORDS_PER_LINE):
            line = {
                "resourceLogs": [
                    {
                        "resource": {"attributes": [_attr("service.name", "claude-code")]},
                        "scopeLogs": [{"scope": {}, "logRecords": list(records)}],
                    }
                ]
            }
            otel.write(json.dumps(line, separators=(",", ":")) + "\n")
            records.clear()

    try:
        for plugin_id in plugins:
            p = inventory.require("plugin", plugin_id)
            factor = float(np.exp(rng.uniform(math.log(0.5), math.log(2.0))))
            rejects[p.id] = float(rng.uniform(0.02, 0.3))
            fulls[p.id] = float(rng.uniform(0.01, 0.2))
            tools = []
            for cid in p.connector_ids:
                conn = inventory.connector_by_id[cid]
                for t in conn.tools:
                    status, _ = tool_status(p, conn, t)
                    if status in (ToolStatus.GATED, ToolStatus.UNGATED):
                        tools.append((conn, t, status, call_bounds(inventory, conn.id, t.name)))
            entries = inventory.users_of(p)
            users = sum(n for _, n in entries)
            rates[p.id] = factor * sum(n * u.runs_per_user_per_day for u, n in entries) / max(users, 1)
            for day in days:
                for u, n in entries:
                    for _ in range(int(rng.poisson(n * u.runs_per_user_per_day * factor))):
                        run = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63))))
                        user = f"user{int(rng.integers(0, max(n, 1)))}@{u.team}.example.com"
                        when = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(
                            seconds=int(rng.integers(0, 8 * 3600))
                        )
                        for _ in range(int(rng.integers(1, 4))):
                            conn, t, status, bound = tools[int(rng.integers(0, len(tools)))]
                            name = f"mcp__plugin_{mcp_name(p.id)}_{mcp_name(conn.id)}__{t.name}"
                            common = [
                                _attr("session.id", run[:8]),
                                _attr("user.email", user),
                                _attr("prompt.id", run),
                                _attr("event.timestamp", when.isoformat().replace("+00:00", "Z")),
                                _attr("tool_name", name),
                            ]
                            nanos = str(int(when.timestamp()) * 10**9)
                            if status is ToolStatus.GATED:
                                reject = bool(rng.random() < rejects[p.id])
                                records.append(
                                    {
                                        "timeUnixNano": nanos,
                                        "body": {"stringValue": "claude_code.tool_decision"},
                                        "attributes": [
                                            _attr("event.name", "tool_decision"),
                                            *common,
                                            _attr("decision", "reject" if reject else "accept"),
                                            _attr("source", "user_reject" if reject else "user_temporary"),
                                        ],
                                    }
                                )
                                if reject:
                                    flush()
                                    continue
                            records.append(
                                {
                                    "timeUnixNano": nanos,
                                    "body": {"stringValue": "claude_code.tool_result"},
                                    "attributes": [
                                        _attr("event.name", "tool_result"),
                                        *common,
                                        _attr("success", "true" if rng.random() > 0.03 else "false"),
                                        _attr("duration_ms", int(rng.integers(50, 3000))),
                                    ],
                                }
                            )
                            flush()
                            measure = "rows" if t.action is ActionClass.READ else "recipients"
                            limit = bound[measure]
                            if limit is None or limit < 2:
                                continue
                            if rng.random() < fulls[p.id]:
                                size = limit
                            else:
                                size = int(rng.integers(1, limit))
                            row = {
                                "timestamp": when.isoformat().replace("+00:00", "Z"),
                                "connector": conn.id,
                                "tool": t.name,
                                "plugin": p.id,
                                "user": user,
                                "run_id": run,
                                "rows_returned" if measure == "rows" else "recipients": size,
                            }
                            audit_lines.append(json.dumps(row, separators=(",", ":")))
                            if len(audit_lines) >= 1000:
                                audit.write("\n".join(audit_lines) + "\n")
                                audit_lines.clear()
        flush(force=True)
        if audit_lines:
            audit.write("\n".join(audit_lines) + "\n")
    finally:
        otel.close()
        audit.close()
    return Truth(runs_per_user_per_day=rates, reject_share=rejects, full_share=fulls, working_days=working_days)
