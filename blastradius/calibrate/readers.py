"""Reading agent logs as a stream of tool calls and permission decisions, line by line, in bounded memory.

Three sources, one record (:class:`LogEvent`):

- **OpenTelemetry log exports** (OTLP JSON lines, as the OpenTelemetry
  Collector's file exporter writes them: one ``{"resourceLogs": [...]}``
  object per line, each holding ``scopeLogs[].logRecords[]`` whose
  ``attributes`` are ``{"key", "value": {"stringValue" | "intValue" | ...}}``
  lists). Of the Claude Code and Cowork events, ``tool_result`` (a tool ran:
  ``tool_name``, ``success``, ``tool_parameters`` with ``mcp_server_name``
  and ``mcp_tool_name``) and ``tool_decision`` (``decision`` accept/reject,
  ``source`` config/hook/user_permanent/user_temporary/user_abort/user_reject)
  are read; every other event is counted by name and skipped.
- **Connector query audit logs** (JSON lines or CSV): one row per query with
  the connector, the tool, the rows returned (:data:`AUDIT_FIELDS`).
- **Any other CSV or JSON-lines log** through a small mapping file
  (:class:`LogMapping`, docs/calibration.md).

A line that cannot be read is counted, with its file and line, and reading
goes on; a file that is not a log at all is an :class:`InputError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field, ValidationError

from blastradius.errors import InputError, Problem
from blastradius.model import Record
from blastradius.settings.files import problems_from_validation, read_settings_document

__all__ = [
    "AUDIT_FIELDS",
    "HUMAN_ACCEPTS",
    "HUMAN_REJECTS",
    "LogError",
    "LogEvent",
    "LogMapping",
    "ReadStats",
    "load_mapping",
    "read_events",
]


class LogError(InputError):
    """A log file or a log mapping file cannot be read; ``problems`` says where and how to fix it."""

    what = "log input"


#: ``source`` values of a tool decision a person made at a permission prompt (Claude Code monitoring docs).
HUMAN_ACCEPTS = frozenset({"user_temporary", "user_permanent"})
HUMAN_REJECTS = frozenset({"user_reject", "user_abort"})

#: Field names of a connector query audit log (docs/calibration.md), read without a mapping file.
AUDIT_FIELDS = {
    "time": "timestamp",
    "user": "user",
    "run": "run_id",
    "connector": "connector",
    "tool": "tool",
    "plugin": "plugin",
    "success": "success",
    "rows": "rows_returned",
    "recipients": "recipients",
}

_MAX_EXAMPLES = 5  # problems kept per file, beyond which lines are only counted
#: Longest line read, in characters (a collector's batch of thousands of records fits many times over); a longer
#: line is counted as malformed and skipped without being held in memory.
MAX_LINE_CHARS = 256 * 1024 * 1024
_TRUE = frozenset({"true", "1", "yes", "ok", "success", "succeeded"})
_FALSE = frozenset({"false", "0", "no", "error", "failed", "failure"})


@dataclass(frozen=True, kw_only=True, slots=True)
class LogEvent:
    """One tool call (``call``) or one permission decision (``decision``), as a log wrote it."""

    kind: Literal["call", "decision"]
    time: dt.datetime | None = None
    user: str | None = None
    run: str | None = None  # one agent run: Claude Code's prompt.id
    team: str | None = None  # the team.id resource attribute, where the deployment sets one
    tool_name: str | None = None  # as written: mcp__crm__search, mcp__plugin_p_crm__search, Read, mcp_tool
    server: str | None = None  # MCP server, where the log gives it apart from the tool name
    tool: str | None = None  # MCP tool, likewise
    plugin: str | None = None
    connector: str | None = None
    success: bool | None = None
    decision: Literal["accept", "reject"] | None = None
    decided_by: str | None = None  # config, hook, user_permanent, user_temporary, user_abort, user_reject
    rows: int | None = None
    recipients: int | None = None


@dataclass
class ReadStats:
    """What reading the logs met: lines, events, what was skipped and why."""

    files: int = 0
    lines: int = 0
    records: int = 0
    events: int = 0
    malformed: int = 0
    out_of_window: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # event names not read (api_request ...)
    problems: list[Problem] = field(default_factory=list)  # the first few malformed lines of each file
    first: dt.datetime | None = None
    last: dt.datetime | None = None

    def saw(self, when: dt.datetime | None) -> None:
        if when is None:
            return
        if self.first is None or when < self.first:
            self.first = when
        if self.last is None or when > self.last:
            self.last = when


class LogMapping(Record):
    """How to read a CSV or JSON-lines log: which field holds what (dotted paths reach into nested objects)."""

    kind: Literal["call", "decision"] = Field(default="call", description="What one row records.")
    fields: dict[
        Literal[
            "time",
            "user",
            "run",
            "team",
            "tool_name",
            "server",
            "tool",
            "plugin",
            "connector",
            "success",
            "decision",
            "decided_by",
            "rows",
            "recipients",
        ],
        str,
    ] = Field(
        default_factory=dict,
        description="Event field -> the log's field (a column, or a dotted path into a JSON object); "
        "none: the mapping only renames servers and plugins of OpenTelemetry exports and audit logs.",
    )
    true_values: tuple[str, ...] = Field(
        default=tuple(sorted(_TRUE)), description="Values of `success` that mean it worked."
    )
    reject_values: tuple[str, ...] = Field(
        default=("reject", "rejected", "deny", "denied", *sorted(HUMAN_REJECTS)),
        description="Values of `decision` that mean the call was refused.",
    )
    human_values: tuple[str, ...] = Field(
        default=("user", "human", *sorted(HUMAN_ACCEPTS | HUMAN_REJECTS)),
        description="Values of `decided_by` that mean a person decided at a prompt.",
    )
    servers: dict[str, str] = Field(
        default_factory=dict, description="MCP server or connector names as the logs write them -> connector ids."
    )
    plugins: dict[str, str] = Field(
        default_factory=dict, description="Plugin names as the logs write them -> plugin ids."
    )


def load_mapping(path: str | Path) -> LogMapping:
    """A log mapping file (YAML or JSON), checked: every problem with its line and key path.

    Raises
    ------
    LogError
        No such file, bad syntax, an unknown field or a field without a source.
    """
    try:
        doc = read_settings_document(path)
    except InputError as exc:
        raise LogError(exc.problems) from None
    try:
        mapping = LogMapping.model_validate(doc.data)
    except ValidationError as exc:
        raise LogError(problems_from_validation(exc, LogMapping, Path(path), (), document=doc)) from None
    if mapping.fields and not {"tool_name", "tool", "connector", "server"} & set(mapping.fields):
        raise LogError(
            [
                Problem(
                    file=Path(path),
                    path="fields",
                    line=doc.line_of("fields"),
                    message="no field says which tool was called",
                    hint="map at least one of tool_name, tool, server, connector",
                )
            ]
        )
    return mapping


# --------------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------------


def _time(value: Any) -> dt.datetime | None:
    """An ISO 8601 text, epoch seconds/milliseconds/nanoseconds, or None."""
    if value is None or value == "":
        return None
    if (isinstance(value, int | float) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"not a time: {value!r}")
        scale = 1e9 if number > 1e17 else 1e3 if number > 1e11 else 1.0  # nanoseconds, milliseconds, seconds
        return dt.datetime.fromtimestamp(number / scale, tz=dt.UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        when = dt.datetime.fromisoformat(text)
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    raise ValueError(f"not a time: {value!r}")


def _count(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a count: {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise ValueError(f"not a count of rows or recipients: {value!r}")
    return int(number)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:512]


def _flag(value: Any, true_values: Iterable[str] = _TRUE) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return text in {v.lower() for v in true_values}


# --------------------------------------------------------------------------------------------------------------
# OTLP JSON
# --------------------------------------------------------------------------------------------------------------


def _any_value(value: Any) -> Any:
    """A plain value from an OTLP JSON ``AnyValue`` (intValue is a string in OTLP JSON)."""
    if type(value) is not dict:  # parsed JSON: a dict, never another mapping (and the check is fast)
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", ())]
    if "kvlistValue" in value:
        return _attributes(value["kvlistValue"].get("values", ()))
    return None


def _attributes(pairs: Any) -> dict[str, Any]:
    if type(pairs) is not list:
        return {}
    out: dict[str, Any] = {}
    for pair in pairs:
        if type(pair) is dict and "key" in pair:
            out[pair["key"]] = _any_value(pair.get("value"))
    return out


def _event_name(record: Mapping[str, Any], attrs: Mapping[str, Any]) -> str:
    """``tool_result`` for ``claude_code.tool_result`` and the like: the ``event.name`` attribute, else the record's
    ``eventName`` field (OTLP 1.5), else a text body."""
    name = attrs.get("event.name") or record.get("eventName")
    if not name:
        body = _any_value(record.get("body"))
        name = body if isinstance(body, str) else ""
    name = str(name)
    return name.split(".", 1)[1] if name.startswith("claude_code.") else name


def _otlp_events(data: Any) -> Iterator[tuple[str, LogEvent | None]]:
    """``(event name, event or None when not a tool event)`` of every log record of one OTLP JSON object."""
    for resource_logs in data.get("resourceLogs", ()):
        resource = _attributes((resource_logs.get("resource") or {}).get("attributes"))
        for scope_logs in resource_logs.get("scopeLogs", ()):
            for record in scope_logs.get("logRecords", ()):
                attrs = {**resource, **_attributes(record.get("attributes"))}
                name = _event_name(record, attrs)
                if name not in ("tool_result", "tool_decision"):
                    yield name or "<no event name>", None
                    continue
                when = _time(attrs.get("event.timestamp")) or _time(
                    record.get("timeUnixNano") or record.get("observedTimeUnixNano")
                )
                params: Any = attrs.get("tool_parameters")
                if isinstance(params, str):
                    try:
                        params = json.loads(params)
                    except json.JSONDecodeError:
                        params = None
                params = params if isinstance(params, Mapping) else {}
                user = attrs.get("user.email") or attrs.get("user.account_uuid") or attrs.get("enduser.id")
                common: dict[str, Any] = {
                    "time": when,
                    "user": _text(user or attrs.get("user.id")),
                    "run": _text(attrs.get("prompt.id")),
                    "team": _text(attrs.get("team.id")),
                    "tool_name": _text(attrs.get("tool_name")),
                    "server": _text(params.get("mcp_server_name")),
                    "tool": _text(params.get("mcp_tool_name")),
                    "plugin": _text(attrs.get("plugin.name")),
                }
                if name == "tool_result":
                    yield name, LogEvent(kind="call", success=_flag(attrs.get("success")), **common)
                else:
                    decision = str(attrs.get("decision", "")).lower()
                    yield (
                        name,
                        LogEvent(
                            kind="decision",
                            decision="reject" if decision == "reject" else "accept" if decision == "accept" else None,
                            decided_by=_text(attrs.get("source")),
                            **common,
                        ),
                    )


# --------------------------------------------------------------------------------------------------------------
# Rows through a mapping
# --------------------------------------------------------------------------------------------------------------


def _lookup(row: Mapping[str, Any], path: str) -> Any:
    if path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if type(value) is not dict or part not in value:
            return None
        value = value[part]
    return value


def _row_event(row: Mapping[str, Any], mapping: LogMapping) -> LogEvent:
    get = {name: _lookup(row, source) for name, source in mapping.fields.items()}
    decision = get.get("decision")
    decided = None
    if decision is not None and decision != "":
        decided = "reject" if str(decision).strip().lower() in {v.lower() for v in mapping.reject_values} else "accept"
    by = _text(get.get("decided_by"))
    if by is not None and by not in HUMAN_ACCEPTS | HUMAN_REJECTS:
        by = (
            "user_reject"
            if by.lower() in {v.lower() for v in mapping.human_values} and decided == "reject"
            else ("user_temporary" if by.lower() in {v.lower() for v in mapping.human_values} else by)
        )
    return LogEvent(
        kind=mapping.kind,
        time=_time(get.get("time")),
        user=_text(get.get("user")),
        run=_text(get.get("run")),
        team=_text(get.get("team")),
        tool_name=_text(get.get("tool_name")),
        server=_text(get.get("server")),
        tool=_text(get.get("tool")),
        plugin=_text(get.get("plugin")),
        connector=_text(get.get("connector")),
        success=_flag(get.get("success"), mapping.true_values),
        decision=decided,  # type: ignore[arg-type]
        decided_by=by,
        rows=_count(get.get("rows")),
        recipients=_count(get.get("recipients")),
    )


_AUDIT = LogMapping(fields=AUDIT_FIELDS)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------


def _open(path: Path) -> IO[bytes]:
    try:
        handle: IO[bytes] = path.open("rb")
        magic = handle.read(4)
        handle.seek(0)
    except OSError as exc:
        raise LogError([Problem(file=path, path="", message=f"cannot read file: {exc.strerror or exc}")]) from None
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(handle)  # type: ignore[return-value]
    if magic == b"\x28\xb5\x2f\xfd":
        handle.close()
        raise LogError(
            [
                Problem(
                    file=path,
                    path="",
                    message="a zstd-compressed file (the collector's `compression: zstd`)",
                    hint=f"decompress it first: zstd -d {path.name}; gzip files are read as they are",
                )
            ]
        )
    return handle


def _log_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    missing: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and not p.name.startswith(".")
                    and p.suffix.lower() in (".json", ".jsonl", ".csv", ".gz", ".log", "")
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(Problem(file=path, path="", message="no such file or directory"))
    if missing:
        raise LogError(missing)
    return files


def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """``(line number, text)`` of every line; None for a line over :data:`MAX_LINE_CHARS`, which is skipped unread."""
    with _open(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        number = 0
        while True:
            line = text.readline(MAX_LINE_CHARS)
            if not line:
                return
            number += 1
            if len(line) >= MAX_LINE_CHARS and not line.endswith("\n"):
                while True:  # the rest of an overlong line, a chunk at a time
                    more = text.readline(MAX_LINE_CHARS)
                    if not more or more.endswith("\n"):
                        break
                yield number, None
                continue
            yield number, line


def read_events(
    paths: Iterable[str | Path],
    *,
    mapping: LogMapping | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    stats: ReadStats | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LogEvent]:
    """Every tool call and permission decision in the log files (or directories of them) ``paths``, streamed.

    Each file is read as an OTLP JSON export when its first record holds
    ``resourceLogs``; otherwise as a CSV or JSON-lines log through ``mapping``
    (default: the connector query audit log's fields, :data:`AUDIT_FIELDS`).
    Events before ``since`` or after ``until`` (dates, UTC) are counted and
    dropped. ``stats`` (a :class:`ReadStats`) is filled in as lines are read;
    ``progress`` is called with the bytes of each line.

    Raises
    ------
    LogError
        A path that does not exist; a file that is not a log (its first
        readable line is neither OTLP JSON nor a row ``mapping`` can read).
    """
    stats = stats if stats is not None else ReadStats()
    for path in _log_files(paths):
        stats.files += 1
        yield from _read_file(path, mapping, since, until, stats, progress)


def _bad(stats: ReadStats, path: Path, line: int, message: str, seen: list[int]) -> None:
    stats.malformed += 1
    seen[0] += 1
    if seen[0] <= _MAX_EXAMPLES:
        stats.problems.append(Problem(file=path, path="", line=line, message=message))


def _in_window(event: LogEvent, since: dt.date | None, until: dt.date | None) -> bool:
    if event.time is None:
        return True
    day = event.time.astimezone(dt.UTC).date()
    return (since is None or day >= since) and (until is None or day <= until)


def _read_file(
    path: Path,
    mapping: LogMapping | None,
    since: dt.date | None,
    until: dt.date | None,
    stats: ReadStats,
    progress: Callable[[int], None] | None,
) -> Iterator[LogEvent]:
    if mapping is not None and not mapping.fields:  # a mapping of names only: rows are audit-log rows
        mapping = _AUDIT.model_copy(update={"servers": mapping.servers, "plugins": mapping.plugins})
    is_csv = path.suffix.lower() == ".csv" or path.name.lower().endswith(".csv.gz")
    if is_csv:
        yield from _read_csv(path, mapping or _AUDIT, since, until, stats, progress)
        return
    kind: str | None = None  # "otlp" or "rows", from the first readable line
    seen = [0]
    for number, line in _lines(path):
        stats.lines += 1
        if line is None:
            _bad(stats, path, number, f"a line longer than {MAX_LINE_CHARS:,} characters", seen)
            continue
        if progress is not None:
            progress(len(line))
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            if kind is None and number == 1 and line.strip() in ("{", "["):
                raise LogError(
                    [
                        Problem(
                            file=path,
                            path="",
                            line=1,
                            message="a pretty-printed JSON document, not JSON lines",
                            hint="write one JSON object per line (as the collector's file exporter does): jq -c . FILE",
                        )
                    ]
                ) from None
            _bad(stats, path, number, f"not JSON: {getattr(exc, 'msg', exc)}", seen)
            continue
        if not isinstance(data, dict):
            _bad(stats, path, number, f"expected a JSON object, got {type(data).__name__}", seen)
            continue
        if kind is None:
            kind = "otlp" if "resourceLogs" in data else "rows"
            if kind == "rows" and ("resourceSpans" in data or "resourceMetrics" in data):
                raise LogError(
                    [
                        Problem(
                            file=path,
                            path="",
                            line=number,
                            message="an OTLP export of traces or metrics: calibration reads the logs/events signal",
                            hint="export the logs pipeline to its own file (OTEL_LOGS_EXPORTER=otlp)",
                        )
                    ]
                )
            if kind == "rows" and mapping is None and not set(AUDIT_FIELDS.values()) & set(data):
                raise LogError(
                    [
                        Problem(
                            file=path,
                            path="",
                            line=number,
                            message="neither an OpenTelemetry log export (no resourceLogs) nor a connector audit log",
                            hint="give a mapping file with --mapping (docs/calibration.md) to read another log",
                        )
                    ]
                )
        try:
            if kind == "otlp":
                for name, event in _otlp_events(data):
                    stats.records += 1
                    if event is None:
                        stats.skipped[name] += 1
                    elif not _in_window(event, since, until):
                        stats.out_of_window += 1
                    else:
                        stats.events += 1
                        stats.saw(event.time)
                        yield event
            else:
                stats.records += 1
                event = _row_event(data, mapping or _AUDIT)
                if not _in_window(event, since, until):
                    stats.out_of_window += 1
                    continue
                stats.events += 1
                stats.saw(event.time)
                yield event
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            _bad(stats, path, number, f"unreadable record: {exc}", seen)


def _read_csv(
    path: Path,
    mapping: LogMapping,
    since: dt.date | None,
    until: dt.date | None,
    stats: ReadStats,
    progress: Callable[[int], None] | None,
) -> Iterator[LogEvent]:
    seen = [0]
    with _open(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.DictReader(text)
        header = reader.fieldnames or []
        wanted = {source.split(".", 1)[0] for source in mapping.fields.values()}
        if not wanted & set(header):
            raise LogError(
                [
                    Problem(
                        file=path,
                        path="",
                        line=1,
                        message=f"no column the mapping reads ({', '.join(sorted(wanted))}); the header is "
                        f"{', '.join(header[:8]) or 'empty'}",
                        hint="give a mapping file with --mapping whose fields name these columns (docs/calibration.md)",
                    )
                ]
            )
        for row in reader:
            stats.lines += 1
            number = reader.line_num
            if progress is not None:
                progress(sum(len(v or "") + 1 for v in row.values() if isinstance(v, str)))
            if None in row:
                _bad(stats, path, number, "more fields than the header names", seen)
                continue
            stats.records += 1
            try:
                event = _row_event(row, mapping)
            except (ValueError, TypeError, OverflowError) as exc:
                _bad(stats, path, number, f"unreadable row: {exc}", seen)
                continue
            if not _in_window(event, since, until):
                stats.out_of_window += 1
                continue
            stats.events += 1
            stats.saw(event.time)
            yield event
