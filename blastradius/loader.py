"""Read an inventory directory into a validated :class:`~blastradius.model.Inventory`.

The boundary of the toolkit: files are parsed (YAML with a safe loader only,
JSON, CSV), each record is validated with the pydantic model, records from
every file are merged (D6 connector policies and D7 governance entries into
connector definitions, by id) and cross-checked. Every problem found is
collected; if there is any, one :class:`~blastradius.errors.InventoryError`
lists them all with file, line, key path, what is wrong and a hint.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from blastradius.errors import InventoryError, Problem, suggest
from blastradius.model import (
    MAX_RUNS_PER_PLUGIN_PER_DAY,
    MAX_TOTAL_RECORDS,
    ActionClass,
    Connector,
    ConnectorPolicy,
    Dataset,
    Governance,
    GovernedConnector,
    Inventory,
    Origin,
    PeopleGroup,
    Plugin,
    SettingsSource,
    System,
    Team,
)
from blastradius.settings import SETTINGS_SECTIONS, check_section
from blastradius.settings.files import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_INVENTORY_MB,
    MAX_FILE_MB_VARIABLE,
    MAX_INVENTORY_MB_VARIABLE,
    Document,
    deep_merge,
    format_path,
    join_path,
    megabytes,
    parse_text,
    problems_from_validation,
    read_settings,
    read_text,
    short_repr,
    size_limit,
    too_big,
    validate_settings,
)
from blastradius.settings.files import yaml_line_index as _yaml_line_index  # noqa: F401 - kept for callers

__all__ = [
    "INVENTORY_SUFFIXES",
    "SECTIONS",
    "SETTINGS_SECTIONS",
    "deep_merge",
    "inventory_files",
    "load_inventory",
    "read_document",
    "read_settings",
    "validate_settings",
]

#: File suffixes read as inventory files; anything else (and `*.schema.json`, hidden files) is ignored.
INVENTORY_SUFFIXES = (".yaml", ".yml", ".json", ".csv")

#: Top-level sections of an inventory document and the record each list holds.
SECTIONS: Mapping[str, type[BaseModel]] = MappingProxyType(
    {
        "teams": Team,
        "plugins": Plugin,
        "connectors": Connector,
        "systems": System,
        "datasets": Dataset,
        "people": PeopleGroup,
        "policies": ConnectorPolicy,
    }
)
_DOCUMENT_KEYS = (*SECTIONS, "governance", *SETTINGS_SECTIONS)
_GOVERNANCE_ONLY_KEYS = frozenset(Governance.model_fields) - {"connectors", "audit"}
_CSV_SECTIONS = ("datasets", "people", "teams")
_KIND_OF_SECTION = {
    "teams": "team",
    "plugins": "plugin",
    "connectors": "connector",
    "systems": "system",
    "datasets": "dataset",
    "people": "people",
}

_format_path = format_path
_join = join_path
_short_value = short_repr


# ---------------------------------------------------------------------------
# Where records come from
# ---------------------------------------------------------------------------


def _origin(doc: Document, parts: tuple[Any, ...]) -> Origin:
    line, lines = doc.lines_at(parts)
    # made from what the loader itself read, once per record: not validated again
    return Origin.model_construct(file=str(doc.file), path=format_path(parts), line=line, lines=lines)


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------


def read_document(file: Path) -> Document:
    """Parse one inventory file; raise :class:`InventoryError` naming the file if it cannot be read."""
    file = Path(file)
    text = read_text(file)
    if file.suffix.lower() == ".csv":
        return _read_csv(file, text)
    return parse_text(file, text)


def _csv_section(file: Path) -> str | None:
    stem = file.name.lower()
    return next((s for s in _CSV_SECTIONS if stem.startswith(s)), None)


def _csv_field_types(model: type[BaseModel]) -> dict[str, set[str]]:
    """JSON types each field of ``model`` accepts, read off its JSON Schema."""
    schema = model.model_json_schema()
    out: dict[str, set[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        out[name] = {o.get("type", "object") for o in options}
    return out


def _csv_value(text: str, types: set[str], column: str) -> Any:
    """Turn one CSV cell into the value its field expects (a bad cell stays text, for the validator to report)."""
    if column == "columns":
        pairs = {}
        for item in filter(None, (s.strip() for s in text.split(";"))):
            name, sep, cls = item.partition(":")
            pairs[name.strip()] = cls.strip() if sep else ""
        return pairs
    if "integer" in types and text.isascii():  # int() would read other scripts' digits too
        try:
            return int(text.replace("_", "").replace(",", ""))
        except ValueError:  # not a number, or one of more than 4,300 digits: the validator says so
            return text
    if "number" in types and text.isascii():
        try:
            return float(text)
        except ValueError:
            return text
    if "boolean" in types:
        return {"true": True, "yes": True, "false": False, "no": False}.get(text.lower(), text)
    if "array" in types:
        return [s.strip() for s in text.split(";") if s.strip()]
    return text


def _read_csv(file: Path, text: str) -> Document:
    section = _csv_section(file)
    if section is None:
        raise InventoryError(
            [
                Problem(
                    file=file,
                    path="",
                    message="a CSV file must hold one table: datasets, people or teams",
                    hint="name it datasets*.csv, people*.csv or teams*.csv",
                )
            ]
        )
    model = SECTIONS[section]
    types = _csv_field_types(model)
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InventoryError([Problem(file=file, path="", line=1, message="empty CSV file: no header row")]) from None
    except csv.Error as exc:
        raise InventoryError([Problem(file=file, path="", line=1, message=f"invalid CSV: {exc}")]) from None
    first_column: dict[str, int] = {}
    repeated = []
    for i, column in enumerate(header):
        if column and column in first_column:
            repeated.append(
                Problem(
                    file=file,
                    path=column,
                    line=1,
                    message=f"column '{column}' given twice in the header (columns {first_column[column] + 1} "
                    f"and {i + 1})",
                    hint="keep one column per field",
                )
            )
        first_column.setdefault(column, i)
    if repeated:  # which of the two cells holds the value is anyone's guess: the rows are not read
        raise InventoryError(repeated)
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    lines: dict[int, int] = {}
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            index = len(rows)
            lines[index] = reader.line_num
            if len(values) > len(header):
                problems.append(
                    Problem(
                        file=file,
                        path=f"{section}[{index}]",
                        line=reader.line_num,
                        message=f"row has {len(values)} cells but the header has {len(header)}",
                        hint="quote cells that contain commas",
                    )
                )
            row = {
                col: _csv_value(val.strip(), types.get(col, {"string"}), col)
                for col, val in zip(header, values, strict=False)
                if col and val.strip() != ""
            }
            rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(file=file, path="", line=reader.line_num, message=f"invalid CSV: {exc}"))
    if problems:
        raise InventoryError(problems)
    return Document(file=file, data={section: rows}, rows=lines)


def inventory_files(root: str | Path, *, required: bool = True) -> list[Path]:
    """The files that make up the inventory at ``root``, in the order they are read.

    Every ``.yaml``, ``.yml``, ``.json`` and ``.csv`` file under ``root`` (a
    directory, read recursively; or one file), except hidden files and
    directories and JSON Schemas (``*.schema.json``, such as the
    ``inventory.schema.json`` that ``blastradius schema`` writes).

    With ``required=False`` a missing or empty ``root`` gives no files
    instead of an error (an import checks what a directory already holds).

    Raises
    ------
    InventoryError
        ``root`` does not exist, or holds no inventory file (when ``required``).

    Examples
    --------
    >>> [p.name for p in inventory_files("inventories/acme")][:3]
    ['connectors.yaml', 'datasets.csv', 'governance.json']
    """
    root = Path(root)
    if not root.exists() and not required:
        return []
    if not root.exists():
        raise InventoryError(
            [Problem(file=root, path="", message="no such file or directory", hint="give the inventory directory")],
            source=root,
        )
    if root.is_file():
        return [root]
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in INVENTORY_SUFFIXES
        and not p.name.lower().endswith(".schema.json")
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files and required:
        raise InventoryError(
            [
                Problem(
                    file=root,
                    path="",
                    message="no inventory files found (*.yaml, *.yml, *.json, *.csv)",
                    hint="point at the directory that holds the inventory, e.g. inventories/acme",
                )
            ],
            source=root,
        )
    return files


# ---------------------------------------------------------------------------
# Collecting records from documents
# ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Collected:
    """Validated records of all files, each with where it came from."""

    records: dict[str, list[tuple[Any, Origin]]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    #: ids of records that failed validation: references to them are not reported again
    failed_ids: set[str] = field(default_factory=set)
    #: keys dropped from records that were salvaged for cross-checks: (section, id) -> keys
    dropped: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def lacks(self, section: str, id: str, key: str) -> bool:
        """Was ``key`` of a record dropped because it was invalid (so checks that need it are skipped)?"""
        return key in self.dropped.get((section, id), ())

    governance: list[tuple[Governance, Origin]] = field(default_factory=list)
    settings: dict[str, list[SettingsSource]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _validate(model: type[BaseModel], raw: Any, file: Path, prefix: tuple, out: _Collected) -> Any | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        out.problems.extend(problems_from_validation(exc, model, file, prefix))
        return None


def _is_policy(data: Mapping) -> bool:
    return "connector" in data and not isinstance(data.get("connectors"), list)


def _is_governance(data: Mapping) -> bool:
    keys = set(map(str, data))
    inventory_sections = keys & (set(SECTIONS) - {"connectors"})
    return not inventory_sections and (isinstance(data.get("connectors"), dict) or bool(keys & _GOVERNANCE_ONLY_KEYS))


def _collect_document(doc: Document, out: _Collected) -> None:
    file, data = doc.file, doc.data
    if data is None or data == {}:
        out.problems.append(
            Problem(
                file=file, path="", message="empty file", hint="add a section such as 'plugins:' or remove the file"
            )
        )
        return
    if not isinstance(data, dict):
        out.problems.append(
            Problem(
                file=file,
                path="",
                message=f"not an inventory: the top level is a {type(data).__name__}, not a mapping",
                hint="start the file with a section such as 'plugins:' or 'connectors:'",
            )
        )
        return
    if _is_policy(data):
        policy = _validate(ConnectorPolicy, data, file, (), out)
        if policy is not None:
            out.records["policies"].append((policy, _origin(doc, ())))
        return
    if _is_governance(data):
        gov = _validate(Governance, data, file, (), out)
        if gov is not None:
            out.governance.append((gov, _origin(doc, ())))
        return
    known = [k for k in data if k in _DOCUMENT_KEYS]
    unknown = [k for k in data if k not in _DOCUMENT_KEYS]
    if not known:
        out.problems.append(
            Problem(
                file=file,
                path="",
                message="not an inventory: top-level keys "
                + ", ".join(repr(k) for k in unknown)
                + " are none of the inventory sections",
                hint=(suggest(unknown[0], _DOCUMENT_KEYS) if len(unknown) == 1 else None)
                or "an inventory file holds any of: " + ", ".join(_DOCUMENT_KEYS),
            )
        )
        return
    for key in unknown:
        out.problems.append(
            Problem(
                file=file,
                path=_format_path((key,)),
                message=f"unknown section '{key}'",
                hint=suggest(key, _DOCUMENT_KEYS) or "sections are: " + ", ".join(_DOCUMENT_KEYS),
            )
        )
    for section in known:
        value = data[section]
        if section in SETTINGS_SECTIONS:
            where = section
            if section == "acceptances" and isinstance(value, list):
                value, where = {"acceptances": value}, ""  # a list of accepted findings, validated by the linter
            if not isinstance(value, dict):
                out.problems.append(
                    Problem(
                        file=file,
                        path=section,
                        message=f"'{section}' must be a mapping of settings, got {type(value).__name__}",
                    )
                )
            else:
                out.settings.setdefault(section, []).append(
                    SettingsSource(data={str(k): v for k, v in value.items()}, file=str(file), path=where)
                )
            continue
        if section == "governance":
            gov = _validate(Governance, value, file, ("governance",), out)
            if gov is not None:
                out.governance.append((gov, _origin(doc, ("governance",))))
            continue
        if value is None:
            continue
        if not isinstance(value, list):
            out.problems.append(
                Problem(
                    file=file,
                    path=section,
                    message=f"'{section}' must be a list of records, got {type(value).__name__}",
                    hint=f"write each entry on its own line starting with '- ' under '{section}:'",
                )
            )
            continue
        model = SECTIONS[section]
        for i, raw in enumerate(value):
            record: Any  # a record of the section's model
            try:
                record = model.model_validate(raw)
            except ValidationError as exc:
                out.problems.extend(
                    problems_from_validation(
                        exc,
                        model,
                        file,
                        (section, i),
                    )
                )
                out.failed_ids.update(_ids_in(raw))
                record = _salvage(model, raw, exc)
                if record is None:
                    continue
                # keep checking its references; the inventory is invalid already
                record_id = record.connector if isinstance(record, ConnectorPolicy) else record.id  # a policy has none
                out.dropped[(section, record_id)] = frozenset(_bad_keys(exc, model))
                out.failed_ids.discard(record_id)
            origin = _origin(doc, (section, i))
            out.records[section].append((record, origin))
            if isinstance(record, System):
                _collect_nested(record, origin, out)


def _bad_keys(exc: ValidationError, model: type[BaseModel] | None = None) -> set[str]:
    """Top-level keys with an error, plus the field a misspelt key was meant to be ('acess' -> 'access')."""
    keys = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    if model is not None:
        for e in exc.errors():
            if e["type"] == "extra_forbidden" and len(e["loc"]) == 1 and isinstance(e["loc"][0], str):
                keys |= set(difflib.get_close_matches(e["loc"][0], model.model_fields, n=1, cutoff=0.6))
    return keys


def _salvage(model: type[BaseModel], raw: Any, exc: ValidationError) -> BaseModel | None:
    """The record without its invalid keys, if that is valid: its other references can still be checked."""
    bad = _bad_keys(exc)
    if not isinstance(raw, dict) or not bad or any(e["type"] == "missing" for e in exc.errors()):
        return None
    try:
        return model.model_validate({k: v for k, v in raw.items() if str(k) not in bad})
    except ValidationError:
        return None


def _ids_in(raw: Any) -> set[str]:
    """The ids a record that failed validation meant to declare (its own and nested ones)."""
    if not isinstance(raw, dict):
        return set()
    ids = {raw["id"]} if isinstance(raw.get("id"), str) else set()
    for key in ("datasets", "people"):
        if isinstance(raw.get(key), list):
            for item in raw[key]:
                ids |= _ids_in(item)
    return ids


def _collect_nested(system: System, origin: Origin, out: _Collected) -> None:
    """Datasets and people nested under a system belong to it."""
    nested_records: tuple[tuple[str, tuple[Dataset | PeopleGroup, ...]], ...] = (
        ("datasets", system.datasets),
        ("people", system.people),
    )
    for section, items in nested_records:
        for i, item in enumerate(items):
            nested = origin.below(f"{section}[{i}]")
            if item.system is not None and item.system != system.id:
                out.problems.append(
                    Problem(
                        file=Path(origin.file),
                        path=f"{nested.path}.system",
                        message=f"nested under system '{system.id}' but says system '{item.system}'",
                        hint="remove 'system' from nested entries, or move the entry",
                    )
                )
                continue
            out.records[section].append((item.model_copy(update={"system": system.id}), nested))


# ---------------------------------------------------------------------------
# Merging and cross-checking
# ---------------------------------------------------------------------------


class _Checker:
    """Cross-file checks on collected records; appends problems."""

    def __init__(self, collected: _Collected):
        self.c = collected
        self.problems = collected.problems
        self.warnings: list[Problem] = []

    def problem(
        self, origin: Origin, key: str, message: str, hint: str | None = None, *, warning: bool = False
    ) -> None:
        path = _join(origin.path, key)
        target = self.warnings if warning else self.problems
        target.append(Problem(file=Path(origin.file), path=path, message=message, hint=hint))

    def unique(self, section: str) -> dict[str, tuple[Any, Origin]]:
        seen: dict[str, tuple[Any, Origin]] = {}
        for record, origin in self.c.records[section]:
            if record.id in seen:
                first = seen[record.id][1]
                self.problem(
                    origin,
                    "id",
                    f"duplicate {_KIND_OF_SECTION[section]} id '{record.id}'",
                    f"first defined at {first.file}: {first.path}; ids must be unique",
                )
                continue
            seen[record.id] = (record, origin)
        return seen

    def ref(self, origin: Origin, key: str, value: str, known: Mapping[str, Any], what: str) -> bool:
        if value in known:
            return True
        if value in self.c.failed_ids:
            return False  # its own definition is already reported as invalid
        hint = suggest(value, known) or (
            f"known {what}s: " + ", ".join(sorted(known)[:12]) if known else f"no {what}s are defined"
        )
        self.problem(origin, key, f"unknown {what} '{value}'", hint)
        return False


def _merge_into_connectors(
    connectors: dict[str, tuple[Connector, Origin]],
    updates: Iterable[tuple[str, BaseModel, Origin, str]],
    check: _Checker,
    field_origin: dict[tuple[str, str], Origin],
) -> None:
    """Merge policy/governance fields into connector definitions; conflicts are problems."""
    for conn_id, update, origin, key in updates:
        if conn_id not in connectors:
            check.ref(origin, key, conn_id, connectors, "connector")
            continue
        connector, conn_origin = connectors[conn_id]
        changes = {}
        for name in update.model_fields_set - {"connector"}:
            value = getattr(update, name)
            current = getattr(connector, name)
            if name in connector.model_fields_set and current != value:
                check.problem(
                    origin,
                    _join(key, name),
                    f"conflicts with connector '{conn_id}': {_short_value(_plain(value))} here, "
                    f"{_short_value(_plain(current))} at {field_origin.get((conn_id, name), conn_origin).file}",
                    "set it in one place only",
                )
                continue
            changes[name] = value
            field_origin[(conn_id, name)] = origin.below(_join(key, name))
        merged = connector.model_copy(update=changes)
        # keep track of what is now set, so a later conflicting source is caught
        merged.__pydantic_fields_set__.update(changes)
        connectors[conn_id] = (merged, conn_origin)


def _plain(value: Any) -> Any:
    return (
        value.model_dump(mode="json", exclude_unset=True)
        if isinstance(value, BaseModel)
        else getattr(value, "value", value)
    )


def _parse_selector(selector: str) -> tuple[str | None, str]:
    """Split a selector: ``email.send_campaign`` -> ('email', 'send_campaign'); ``send`` -> (None, 'send')."""
    if "." in selector:
        conn, _, tool = selector.partition(".")
        return conn, tool
    return None, selector


def _check_plugins(
    plugins: dict[str, tuple[Plugin, Origin]],
    teams: Mapping[str, tuple[Team, Origin]],
    connectors: Mapping[str, tuple[Connector, Origin]],
    check: _Checker,
) -> None:
    actions = {a.value for a in ActionClass}
    for plugin, origin in plugins.values():
        check.ref(origin, "owner", plugin.owner, teams, "team")
        seen_teams: set[str] = set()
        for i, use in enumerate(plugin.users):
            if use.team in seen_teams:
                check.problem(origin, f"users[{i}].team", f"team '{use.team}' listed twice", "merge the two entries")
            seen_teams.add(use.team)
            if check.ref(origin, f"users[{i}].team", use.team, teams, "team"):
                headcount = teams[use.team][0].headcount
                if use.users is not None and use.users > headcount:
                    check.problem(
                        origin,
                        f"users[{i}].users",
                        f"{use.users} users but team '{use.team}' has a headcount of {headcount}",
                        "lower the users or raise the team's headcount",
                    )
        used: dict[str, Connector] = {}
        for i, pc in enumerate(plugin.connectors):
            if pc.connector in used:
                check.problem(origin, f"connectors[{i}]", f"connector '{pc.connector}' listed twice", "list it once")
                continue
            if not check.ref(
                origin,
                f"connectors[{i}].connector" if pc.tools is not None else f"connectors[{i}]",
                pc.connector,
                connectors,
                "connector",
            ):
                continue
            conn = connectors[pc.connector][0]
            used[pc.connector] = conn
            if check.c.lacks("connectors", conn.id, "tools"):
                continue  # its tools are invalid and reported already
            for j, tool in enumerate(pc.tools or ()):
                if conn.tool(tool) is None:
                    check.problem(
                        origin,
                        f"connectors[{i}].tools[{j}]",
                        f"connector '{conn.id}' has no tool '{tool}'",
                        suggest(tool, [t.name for t in conn.tools]),
                    )
        for key in ("requires_approval", "blocked"):
            for i, selector in enumerate(getattr(plugin, key)):
                conn_id, rest = _parse_selector(selector)
                if conn_id is None:
                    if rest not in actions:
                        check.problem(
                            origin,
                            f"{key}[{i}]",
                            f"'{selector}' is neither an action class nor CONNECTOR.TOOL",
                            suggest(rest, [*actions, *used]) or "action classes: " + ", ".join(sorted(actions)),
                        )
                    continue
                if check.c.lacks("plugins", plugin.id, "connectors") or check.c.lacks("connectors", conn_id, "tools"):
                    continue  # what it would be checked against is invalid and reported already
                if conn_id not in used:
                    check.problem(
                        origin,
                        f"{key}[{i}]",
                        f"plugin '{plugin.id}' does not use connector '{conn_id}'",
                        suggest(conn_id, used) or "name one of the plugin's connectors",
                    )
                    continue
                if rest != "*" and used[conn_id].tool(rest) is None:
                    check.problem(
                        origin,
                        f"{key}[{i}]",
                        f"connector '{conn_id}' has no tool '{rest}'",
                        suggest(rest, [t.name for t in used[conn_id].tools]),
                    )


def _check_connectors(
    connectors: Mapping[str, tuple[Connector, Origin]],
    systems: Mapping[str, tuple[System, Origin]],
    datasets_by_system: Mapping[str, list[Dataset]],
    people_by_system: Mapping[str, list[PeopleGroup]],
    field_origin: Mapping[tuple[str, str], Origin],
    check: _Checker,
) -> None:
    for conn, origin in connectors.values():
        if conn.access is None and not check.c.lacks("connectors", conn.id, "access"):
            check.problem(
                origin,
                "access",
                f"connector '{conn.id}' has no access level",
                "set access: read-only or read-write here, in its policy file or in the governance config",
            )
        names = [t.name for t in conn.tools]
        for i, name in enumerate(names):
            if name in names[:i]:
                check.problem(origin, f"tools[{i}].name", f"tool '{name}' defined twice in connector '{conn.id}'")
        threshold = conn.audit.alert_if_rows_returned_over if conn.audit else None
        if threshold is not None and conn.row_limit is not None and threshold > conn.row_limit:
            where = field_origin.get((conn.id, "audit"), origin.below("audit"))
            check.problems.append(
                Problem(
                    file=Path(where.file),
                    path=_join(where.path, "alert_if_rows_returned_over"),
                    message=f"alert threshold {threshold:,} is above the row limit {conn.row_limit:,}, "
                    "so the alert can never fire",
                    hint=f"set it below {conn.row_limit:,}, e.g. {conn.row_limit // 2:,}",
                )
            )
        if conn.system is None:
            check.problem(
                origin,
                "system",
                f"connector '{conn.id}' names no system: its reach is unknown",
                "add system: ID",
                warning=True,
            )
            continue
        if not check.ref(origin, "system", conn.system, systems, "system"):
            continue
        tables = {d.table_name for d in datasets_by_system.get(conn.system, [])}
        people_ids = {p.id for p in people_by_system.get(conn.system, [])}
        for i, table in enumerate(conn.allowed_tables or ()):
            if table not in tables:
                where = field_origin.get((conn.id, "allowed_tables"), origin.below("allowed_tables"))
                check.problems.append(
                    Problem(
                        file=Path(where.file),
                        path=_join(where.path, f"[{i}]"),
                        message=f"system '{conn.system}' has no table '{table}'",
                        hint=suggest(table, tables) or "add the dataset to the inventory, or fix the name",
                    )
                )
        columns = {c.name for d in datasets_by_system.get(conn.system, []) for c in d.columns}
        for i, col in enumerate(conn.denied_columns):
            if columns and col not in columns:
                where = field_origin.get((conn.id, "denied_columns"), origin.below("denied_columns"))
                check.warnings.append(
                    Problem(
                        file=Path(where.file),
                        path=_join(where.path, f"[{i}]"),
                        message=f"no dataset of system '{conn.system}' has a column '{col}': denying it masks nothing",
                        hint=suggest(col, columns),
                    )
                )
        for i, tool in enumerate(conn.tools):
            for j, target in enumerate(tool.targets or ()):
                if target not in tables and target not in people_ids:
                    check.problem(
                        origin,
                        f"tools[{i}].targets[{j}]",
                        f"'{target}' is neither a table nor a people group of system '{conn.system}'",
                        suggest(target, tables | people_ids),
                    )


def _check_data(
    datasets: Mapping[str, tuple[Dataset, Origin]],
    people: Mapping[str, tuple[PeopleGroup, Origin]],
    systems: Mapping[str, tuple[System, Origin]],
    check: _Checker,
) -> None:
    tables: dict[tuple[str, str], Origin] = {}
    for ds, origin in datasets.values():
        if ds.system is None:
            if not check.c.lacks("datasets", ds.id, "system"):
                check.problem(
                    origin,
                    "system",
                    f"dataset '{ds.id}' names no system",
                    "add system: ID, or nest it under its system",
                )
        elif check.ref(origin, "system", ds.system, systems, "system"):
            key = (ds.system, ds.table_name)
            if key in tables:
                check.problem(
                    origin,
                    "table",
                    f"system '{ds.system}' already has a table '{ds.table_name}'",
                    f"first at {tables[key].file}: {tables[key].path}",
                )
            tables[key] = origin
        col_names = [c.name for c in ds.columns]
        for i, name in enumerate(col_names):
            if name in col_names[:i]:
                check.problem(origin, f"columns[{i}]", f"column '{name}' listed twice")
    for group, origin in people.values():
        if group.system is None:
            if not check.c.lacks("people", group.id, "system"):
                check.problem(
                    origin,
                    "system",
                    f"people group '{group.id}' names no system",
                    "add system: ID, or nest it under its system",
                )
        else:
            check.ref(origin, "system", group.system, systems, "system")
        if group.dataset is not None:
            check.ref(origin, "dataset", group.dataset, datasets, "dataset")


def _check_settings(
    settings: Mapping[str, list[SettingsSource]], plugins: Mapping[str, tuple[Plugin, Origin]], check: _Checker
) -> None:
    """Settings sections against their models (blastradius.settings); per-plugin assumptions must name plugins."""
    known = set(plugins) | check.c.failed_ids  # a plugin that failed validation is reported already
    for section, sources in settings.items():
        for source in sources:
            check.problems.extend(check_section(section, source, plugins=known))


def _check_runs(
    plugins: Mapping[str, tuple[Plugin, Origin]], teams: Mapping[str, tuple[Team, Origin]], check: _Checker
) -> None:
    """A plugin's runs per working day, over its users, are at most model.MAX_RUNS_PER_PLUGIN_PER_DAY."""
    for plugin, origin in plugins.values():
        runs = sum(
            (teams[u.team][0].headcount if u.users is None else u.users) * u.runs_per_user_per_day
            for u in plugin.users
            if u.team in teams
        )
        if runs > MAX_RUNS_PER_PLUGIN_PER_DAY:
            check.problem(
                origin,
                "users",
                f"plugin '{plugin.id}' runs {runs:,.0f} times a working day over its users, "
                f"more than the {MAX_RUNS_PER_PLUGIN_PER_DAY:,} an inventory may give",
                "check users and runs_per_user_per_day",
            )


def _check_total_records(datasets: Mapping[str, tuple[Dataset, Origin]], check: _Checker) -> None:
    """All the records of an inventory, added up, must fit the analyses' 64-bit integers (model.MAX_TOTAL_RECORDS)."""
    total = sum(ds.records or 0 for ds, _ in datasets.values())
    if total > MAX_TOTAL_RECORDS:
        largest, origin = max(datasets.values(), key=lambda item: item[0].records or 0)
        check.problem(
            origin,
            "records",
            f"the datasets hold {total:,} records in all, more than the {MAX_TOTAL_RECORDS:,} an inventory may hold",
            f"the largest is this one, '{largest.id}', with {largest.records or 0:,}",
        )


def _check_total_size(root: Path, files: list[Path]) -> None:
    """Refuse files over the size limit of one file, then an inventory over its own, before any file is read.

    A file may hold at most ``BLASTRADIUS_MAX_FILE_MB`` megabytes (10 by
    default); the inventory as a whole ``BLASTRADIUS_MAX_INVENTORY_MB`` (20 by
    default, and never less than the limit of one file).
    """
    file_limit = size_limit(MAX_FILE_MB_VARIABLE, DEFAULT_MAX_FILE_MB)
    limit = max(size_limit(MAX_INVENTORY_MB_VARIABLE, DEFAULT_MAX_INVENTORY_MB), file_limit)
    sizes: dict[Path, int] = {}
    for file in files:
        try:
            sizes[file] = file.stat().st_size
        except OSError:
            sizes[file] = 0  # reading it says why
    over = [too_big(f, n, file_limit, variable=MAX_FILE_MB_VARIABLE) for f, n in sizes.items() if n > file_limit]
    if over:
        raise InventoryError(over, source=root)
    total = sum(sizes.values())
    if total > limit:
        largest = sorted(sizes, key=lambda f: -sizes[f])[:3]
        advice = "its largest files are " + ", ".join(f"{f.name} ({megabytes(sizes[f])})" for f in largest)
        what = f"the inventory ({len(files)} files)"
        problem = too_big(root, total, limit, variable=MAX_INVENTORY_MB_VARIABLE, what=what, advice=advice)
        raise InventoryError([problem], source=root)


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while an inventory is built, as it was before afterwards.

    Loading makes hundreds of thousands of objects that all stay alive (parsed
    values, records, the line of every key); each collection the allocations
    trigger would walk all of them again, which took more time than the
    parsing (2.5 of 3.8 s on a 2,000-plugin inventory). Nothing made while
    loading is cyclic garbage, so nothing is left for the collector to free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_inventory(path: str | Path, *, cache: bool = True) -> Inventory:
    """Load, validate and cross-check the inventory at ``path`` (a directory or one file).

    Parameters
    ----------
    path : str or Path
        Directory of ``.yaml``/``.yml``/``.json``/``.csv`` files (read
        recursively, hidden files ignored), or a single file.
    cache : bool
        Read back the inventory an earlier load of exactly the same files
        built, and keep this one for the next (:mod:`blastradius.cache`:
        outside the inventory, keyed by the files' bytes; also off when
        ``BLASTRADIUS_NO_CACHE`` is set). The result is the same either way.

    Returns
    -------
    Inventory
        Immutable, with records sorted by id and the origin of each.

    Raises
    ------
    InventoryError
        Listing every problem found, each with file, line, key path and hint.

    Examples
    --------
    >>> inv = load_inventory("inventories/acme")
    >>> inv.summary()["people"] >= 4000
    True
    """
    root = Path(path)
    files = inventory_files(root)
    _check_total_size(root, files)
    with _collector_paused():
        if not cache:
            return _load(root, files)
        from blastradius.cache import cached_load

        return cached_load(root, files, lambda: _load(root, files), Inventory)


def _load(root: Path, files: list[Path]) -> Inventory:
    """:func:`load_inventory` of ``files`` (checked for size), with the collector paused by the caller."""
    collected = _Collected()
    documents: dict[str, Document] = {}
    for file in files:
        try:
            doc = read_document(file)
        except InventoryError as exc:
            collected.problems.extend(exc.problems)
            continue
        documents[str(file)] = doc
        _collect_document(doc, collected)
        doc.node = None  # every record has its lines now; a problem's line is looked up in the text

    check = _Checker(collected)
    teams = check.unique("teams")
    systems = check.unique("systems")
    datasets = check.unique("datasets")
    people = check.unique("people")
    connectors = check.unique("connectors")
    plugins = check.unique("plugins")

    field_origin: dict[tuple[str, str], Origin] = {}
    policies = [(p.connector, p, o, "") for p, o in collected.records["policies"]]
    policy_ids = [p for p, *_ in policies]
    for i, conn_id in enumerate(policy_ids):
        if conn_id in policy_ids[:i]:
            first = policies[policy_ids.index(conn_id)][2]
            check.problem(
                policies[i][2],
                "connector",
                f"second policy for connector '{conn_id}'",
                f"the first is in {first.file}; keep one policy per connector",
            )
    _merge_into_connectors(connectors, policies, check, field_origin)

    if len(collected.governance) > 1:
        first = collected.governance[0][1]
        for _, origin in collected.governance[1:]:
            check.problem(origin, "", "a second governance config", f"the first is in {first.file}; keep one")
    governance, gov_origin = collected.governance[0] if collected.governance else (Governance(), None)
    if gov_origin is not None:
        _merge_into_connectors(
            connectors,
            [
                (
                    cid,
                    GovernedConnector.model_validate(entry.model_dump(exclude_unset=True)),
                    gov_origin,
                    _format_path(("connectors", cid)),
                )
                for cid, entry in governance.connectors.items()
            ],
            check,
            field_origin,
        )

    for section, sources in collected.settings.items():
        for extra in sources[1:]:
            check.problems.append(
                Problem(
                    file=Path(extra.file),
                    path=section,
                    message=f"a second '{section}' section",
                    hint=f"the first is in {sources[0].file}; keep one",
                )
            )

    datasets_by_system: dict[str, list[Dataset]] = {}
    for ds, _ in datasets.values():
        datasets_by_system.setdefault(ds.system or "", []).append(ds)
    people_by_system: dict[str, list[PeopleGroup]] = {}
    for group, _ in people.values():
        people_by_system.setdefault(group.system or "", []).append(group)

    _check_data(datasets, people, systems, check)
    _check_total_records(datasets, check)
    _check_connectors(connectors, systems, datasets_by_system, people_by_system, field_origin, check)
    _check_plugins(plugins, teams, connectors, check)
    _check_runs(plugins, teams, check)
    _check_settings(collected.settings, plugins, check)

    def located(problems: list[Problem]) -> list[Problem]:
        out = []
        for p in problems:
            doc = documents.get(str(p.file)) if p.file is not None else None
            if p.line is None and doc is not None:
                p = Problem(file=p.file, path=p.path, message=p.message, hint=p.hint, line=doc.line_of(p.path))
            out.append(p)
        return sorted(out, key=lambda p: (str(p.file), p.line or 0))

    if collected.problems:
        raise InventoryError(located(collected.problems), source=root)

    origins = {}
    for section, records in (
        ("team", teams),
        ("plugin", plugins),
        ("connector", connectors),
        ("system", systems),
        ("dataset", datasets),
        ("people", people),
    ):
        for rid, (_, origin) in records.items():
            origins[(section, rid)] = origin
    for (cid, name), origin in field_origin.items():
        origins[(f"connector.{name}", cid)] = origin
    if gov_origin is not None:
        origins[("governance", "governance")] = gov_origin

    def ordered(records: Mapping[str, tuple[Any, Origin]]) -> tuple:
        return tuple(records[k][0] for k in sorted(records))

    return Inventory(
        teams=ordered(teams),
        plugins=ordered(plugins),
        connectors=ordered(connectors),
        systems=tuple(s.model_copy(update={"datasets": (), "people": ()}) for s in ordered(systems)),
        datasets=ordered(datasets),
        people=ordered(people),
        governance=governance,
        origins=MappingProxyType(origins),
        settings=MappingProxyType({k: v[0] for k, v in collected.settings.items()}),
        warnings=tuple(located(check.warnings)),
        source=str(root),
    )
