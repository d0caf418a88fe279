"""Reading YAML and JSON files with the line of every key path, and validation errors as problems.

The one place where text becomes data: inventory files (through
:mod:`blastradius.loader`) and settings files alike are parsed here, once,
with a safe loader that rejects a key given twice. A :class:`Document` keeps
the parsed data and where each key path of it is written, so that every
problem, record and finding can name its file, line and key path without
reading the file again.

Key paths are written as the loader writes them: ``connectors[2].audit.row_limit``
(``[i]`` indexes a list, ``.`` enters a mapping, a key that is not a plain
word is quoted: ``["a.b"]``).

Limits on what is read (docs/inventory-format.md, "Input limits"), so that
no file, however written, takes unbounded time or memory:

- **Size.** A file of more than :data:`DEFAULT_MAX_FILE_MB` megabytes is
  refused before it is parsed, saying by how much it is over; the
  environment variable ``BLASTRADIUS_MAX_FILE_MB`` raises (or lowers) the
  limit. The inventory as a whole has its own limit,
  ``BLASTRADIUS_MAX_INVENTORY_MB`` (see :func:`size_limit`).
- **Aliases.** YAML anchors and aliases (``&a`` / ``*a``) and merge keys
  (``<<``) are refused, each with its line and key path. Inventories and
  settings never need them: every record is short and written once, and a
  value shared through an alias would hide from the reader of a record
  what it says. Refusing them outright, rather than capping how far they
  expand, rules out the "billion laughs" (a few hundred bytes that expand
  to billions of values in every walk of the data, the line indexer
  included) and the alias that contains itself (``teams: &a [*a]``), at no
  cost to any real inventory.
- **Depth.** At most :data:`MAX_DEPTH` levels of nesting (an inventory needs
  eight), so that no walk of the data runs out of stack.
- **Numbers.** An integer of more than :data:`MAX_DIGITS` digits is refused
  before Python is asked to convert it. How large each field may be is the
  schema's business (:mod:`blastradius.model`).
- **Keys and dates.** A key given twice in one mapping is refused, in JSON as
  in YAML; a date that is not a date (``2026-13-45``) is kept as text, so the
  schema reports it at its key and line and the rest of the file is read.
"""

from __future__ import annotations

import json
import os
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import UnionType
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from blastradius.errors import ConfigError, InputError, InventoryError, Problem, suggest
from blastradius.model import SettingsSource
from blastradius.settings.provenance import split_provenance

__all__ = [
    "DEFAULT_MAX_FILE_MB",
    "DEFAULT_MAX_INVENTORY_MB",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_FILE_MB_VARIABLE",
    "MAX_INVENTORY_MB_VARIABLE",
    "Document",
    "deep_merge",
    "format_path",
    "join_path",
    "key_lines",
    "megabytes",
    "parent_paths",
    "parse_text",
    "problems_from_validation",
    "read_settings",
    "read_settings_document",
    "read_text",
    "short_repr",
    "size_limit",
    "too_big",
    "validate_settings",
    "yaml_line_index",
]

try:  # the C parser is several times faster on large inventories
    _BaseSafeLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseSafeLoader = yaml.SafeLoader


#: Largest file read, in megabytes (10**6 bytes), unless ``BLASTRADIUS_MAX_FILE_MB`` says otherwise.
DEFAULT_MAX_FILE_MB = 10.0
#: Largest inventory (all its files together), in megabytes, unless ``BLASTRADIUS_MAX_INVENTORY_MB`` says otherwise.
DEFAULT_MAX_INVENTORY_MB = 20.0
#: Environment variables that set the two size limits, in megabytes.
MAX_FILE_MB_VARIABLE = "BLASTRADIUS_MAX_FILE_MB"
MAX_INVENTORY_MB_VARIABLE = "BLASTRADIUS_MAX_INVENTORY_MB"
#: Most levels of nesting in a file: the top-level mapping is level 1 (an inventory needs 8).
MAX_DEPTH = 32
#: Most digits of an integer (Python's own limit on converting text to an integer).
MAX_DIGITS = 4300
#: Most problems the structure check of one file lists (a file of aliases would list hundreds).
_MAX_STRUCTURE_PROBLEMS = 20

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictSafeLoader(_BaseSafeLoader):
    """Safe YAML loader that rejects a key given twice in one mapping and keeps a date that is no date as text."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key; the base constructor reports it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found key {key!r} twice (first on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A date or time; one that is none (``2026-13-45``) stays text, for the schema to report at its key."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------


def megabytes(n: float) -> str:
    """A size in words: bytes below a tenth of a megabyte, else megabytes.

    Examples
    --------
    >>> megabytes(52_400_000), megabytes(2_048)
    ('52.4 MB', '2,048 bytes')
    """
    return f"{n:,.0f} bytes" if n < 100_000 else f"{n / 1e6:,.1f} MB"


def size_limit(variable: str, default_mb: float, *, error: type[InputError] = InventoryError) -> int:
    """The size limit in bytes that the environment variable ``variable`` sets (in megabytes), else ``default_mb``.

    Raises
    ------
    InputError
        Of type ``error``: the variable is set to something other than a number of megabytes above 0.

    Examples
    --------
    >>> size_limit("BLASTRADIUS_NO_SUCH_LIMIT", 10)
    10000000
    """
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return int(default_mb * 1_000_000)
    try:
        given = float(raw)
    except ValueError:
        given = float("nan")
    if not 0 < given < 1e9:  # also false for NaN
        raise error(
            [
                Problem(
                    file=None,
                    path="",
                    message=f"the environment variable {variable} must be a number of megabytes above 0, got {raw!r}",
                    hint=f"e.g. {variable}={default_mb * 5:g}, or unset it for the default of {default_mb:g} MB",
                )
            ]
        )
    return max(1, int(given * 1_000_000))


def too_big(
    file: Path, size: int, limit: int, *, variable: str, what: str = "file", advice: str = "split it into smaller files"
) -> Problem:
    """The problem of ``file`` (or a whole inventory) of ``size`` bytes over ``limit``: by how much, and how to
    raise the limit (the environment variable ``variable``).

    Examples
    --------
    >>> problem = too_big(Path("big.yaml"), 52_400_000, 10_000_000, variable="BLASTRADIUS_MAX_FILE_MB")
    >>> print(problem.message)
    file is 52.4 MB, 42.4 MB over the limit of 10.0 MB
    >>> print(problem.hint)
    split it into smaller files, or raise the limit: BLASTRADIUS_MAX_FILE_MB=57.6
    """
    needed = size / 1e6 * 1.1
    return Problem(
        file=file,
        path="",
        message=f"{what} is {megabytes(size)}, {megabytes(size - limit)} over the limit of {megabytes(limit)}",
        hint=f"{advice}, or raise the limit: {variable}={needed:.3g}",
    )


def _walk_problems(root: yaml.Node, file: Path, text: str, *, json_keys: bool = False) -> list[Problem]:
    """What :mod:`blastradius.settings.files` refuses in a node tree: aliases, merge keys, nesting, long integers,
    and (``json_keys``) a key given twice, each with its key path and line.

    The walk visits each node once (an alias is not followed), iteratively: its
    time is linear in the size of the text, whatever the text holds.
    """
    problems: list[Problem] = []
    aliases: list[tuple[Any, int, bool]] = []  # (where, fallback line, report it)
    track = "*" in text  # an alias is written *name: without a '*', no node can be reached twice
    seen: set[int] = set()
    deep_reported = False
    # each entry: node, depth, where = (parent where, part, line) or None for the root, and whether it is
    # the value of a merge key (reported at the key: not walked, but an alias there is still one of the text's)
    stack: list[tuple[yaml.Node, int, Any, bool]] = [(root, 1, None, False)]
    mapping, sequence = yaml.MappingNode, yaml.SequenceNode

    def path_of(where: Any) -> str:
        parts = []
        while where is not None:
            where, part, _ = where
            parts.append(part)
        return format_path(reversed(parts))

    def add(where: Any, line: int | None, message: str, hint: str | None = None) -> None:
        problems.append(Problem(file=file, path=path_of(where), line=line, message=message, hint=hint))

    while stack:
        node, depth, where, merged = stack.pop()
        line = where[2] if where is not None else node.start_mark.line + 1
        if track:
            if id(node) in seen:
                aliases.append((where, line, not merged))
                continue
            seen.add(id(node))
        if merged:
            continue
        kind = type(node)
        if kind is yaml.ScalarNode:
            if node.tag == _INT_TAG and len(node.value) > MAX_DIGITS:
                add(
                    where,
                    node.start_mark.line + 1,
                    f"a number of {len(node.value):,} digits is too long to read (at most {MAX_DIGITS:,})",
                    "no count in an inventory needs more than 16 digits",
                )
            continue
        if depth > MAX_DEPTH:
            if not deep_reported:
                add(where, line, f"nested more than {MAX_DEPTH} levels deep", "an inventory needs 8 levels at most")
                deep_reported = True
            continue
        children: list[tuple[yaml.Node, int, Any, bool]] = []
        if kind is mapping or isinstance(node, mapping):
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                key = key_node.value if type(key_node) is yaml.ScalarNode else "?"
                here = (where, key, key_line)
                if key_node.tag == _MERGE_TAG:
                    add(
                        here,
                        key_line,
                        "YAML merge keys ('<<') are not supported",
                        "write the keys of the record out in full",
                    )
                    children.append((value_node, depth + 1, here, True))
                    continue
                if json_keys and type(key_node) is yaml.ScalarNode:
                    if key in first_line:
                        add(here, key_line, f"key {key!r} given twice (first on line {first_line[key]})")
                    first_line.setdefault(key, key_line)
                children.append((value_node, depth + 1, here, False))
        elif kind is sequence or isinstance(node, sequence):
            for i, item in enumerate(node.value):
                children.append((item, depth + 1, (where, i, item.start_mark.line + 1), False))
        stack.extend(reversed(children))
    if aliases:
        events = _alias_events(text)
        if len(events) != len(aliases):  # cannot happen for text the tree was composed from; lines are then the keys'
            events = [(None, line) for _, line, _ in aliases]
        for (where, _, report), (name, line) in zip(aliases, events, strict=True):
            if report:
                named = f"the alias '*{name}'" if name else "an alias"
                add(
                    where,
                    line,
                    f"{named}: YAML anchors and aliases are not supported",
                    "write the value out where it is used",
                )
    if len(problems) > _MAX_STRUCTURE_PROBLEMS:
        problems.sort(key=lambda p: p.line or 0)
        rest = problems[_MAX_STRUCTURE_PROBLEMS - 1 :]
        problems = problems[: _MAX_STRUCTURE_PROBLEMS - 1]
        problems.append(
            Problem(
                file=file, path="", line=rest[0].line, message=f"{len(rest):,} more such problems from this line on"
            )
        )
    return problems


def _alias_events(text: str) -> list[tuple[str | None, int]]:
    """Name and line of each alias in ``text``, in order (read only when the file has one, to say where)."""
    try:
        return [
            (event.anchor, event.start_mark.line + 1 if event.start_mark else 0)
            for event in yaml.parse(text, Loader=_BaseSafeLoader)
            if isinstance(event, yaml.AliasEvent)
        ]
    except yaml.YAMLError:  # pragma: no cover - the text was composed already
        return []


# ---------------------------------------------------------------------------
# Key paths
# ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _key_part(key: str) -> tuple[str, str]:
    """How a mapping key is written in a key path: first in the path, and after another part."""
    if key and all(ch.isalnum() or ch in "_-" for ch in key):
        return key, "." + key
    quoted = f"[{json.dumps(key)}]"
    return quoted, quoted


def _child(path: str, part: str | int) -> str:
    if isinstance(part, int) and not isinstance(part, bool):
        return f"{path}[{part}]"
    first, later = _key_part(str(part))
    return path + later if path else first


def format_path(parts: Iterable[Any]) -> str:
    """A key path from its parts: ints index lists, anything else is a mapping key.

    Examples
    --------
    >>> format_path(("connectors", 2, "audit", "row_limit"))
    'connectors[2].audit.row_limit'
    >>> format_path(("governance", "connectors", "crm main"))
    'governance.connectors["crm main"]'
    """
    out = ""
    for part in parts:
        if type(part) is int:  # the common case, a list index: no escaping to decide
            out = f"{out}[{part}]"
        else:
            out = _child(out, part)
    return out


def join_path(*parts: str) -> str:
    """Join key-path pieces: ``join_path('plugins[0]', 'users[1]', 'team')`` -> ``plugins[0].users[1].team``.

    Examples
    --------
    >>> join_path("plugins[0]", "", "users[1]", "[2]")
    'plugins[0].users[1][2]'
    """
    out = ""
    for part in parts:
        if not part:
            continue
        out += part if not out or part.startswith("[") else "." + part
    return out


def parent_paths(path: str) -> Iterator[str]:
    """``path``, then each shorter key path above it (where a line is looked for, nearest first).

    Examples
    --------
    >>> list(parent_paths("connectors[2].audit.row_limit"))
    ['connectors[2].audit.row_limit', 'connectors[2].audit', 'connectors[2]', 'connectors']
    """
    probe = path
    while probe:
        yield probe
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""


# ---------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------


def key_lines(node: yaml.Node | None) -> dict[str, int]:
    """The 1-based line of every key path below ``node``, relative to it.

    A mapping entry is on its key's line, a list item where it starts. A
    node reached a second time (through an alias) is indexed where it is
    first written and not walked again, and nothing deeper than
    :data:`MAX_DEPTH` levels is walked: the time is linear in the text.

    Examples
    --------
    >>> key_lines(yaml.compose("a: 1\\nb:\\n  - x\\n  - c: 2\\n"))
    {'a': 1, 'b': 2, 'b[0]': 3, 'b[1]': 4, 'b[1].c': 4}
    """
    index: dict[str, int] = {}
    scalar, mapping, sequence = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
    walked: set[int] = set()

    def walk(node: yaml.Node, path: str, depth: int = 1) -> None:  # the loader calls this for every record: lean
        if depth > MAX_DEPTH or id(node) in walked:
            return
        walked.add(id(node))
        kind = type(node)
        if kind is mapping or isinstance(node, mapping):
            for key_node, value_node in node.value:
                key = key_node.value if type(key_node) is scalar else "?"
                first, later = _key_part(str(key))
                child = path + later if path else first
                line = key_node.start_mark.line + 1
                index[child] = line
                if type(value_node) is not scalar:
                    walk(value_node, child, depth + 1)
                    index[child] = line
        elif kind is sequence or isinstance(node, sequence):
            for i, item in enumerate(node.value):
                child = f"{path}[{i}]"
                if child not in index:
                    index[child] = item.start_mark.line + 1
                if type(item) is not scalar:
                    walk(item, child, depth + 1)

    if node is not None:
        try:
            walk(node, "")
        except RecursionError:
            return {}
    return index


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of ``text`` (JSON is read as YAML for its lines), or None if it has no single one."""
    try:
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        return None


def yaml_line_index(text: str) -> dict[str, int]:
    """Map every key path of a YAML/JSON text to the 1-based line it starts on.

    Examples
    --------
    >>> yaml_line_index("teams:\\n  - id: x\\n    headcount: 3\\n")["teams[0].headcount"]
    3
    """
    root = _compose(text)
    if root is None:
        return {}
    index = key_lines(root)
    index.setdefault("", root.start_mark.line + 1)
    return index


@dataclass(kw_only=True)
class Document:
    """One parsed file: its data, and the line of each key path in it.

    ``node`` (the YAML node tree) is kept while records are built from the
    document and may then be dropped: :meth:`line_of` falls back to the text.
    A CSV table has ``rows``: the line of each record, by index.
    """

    file: Path
    data: Any
    text: str = ""
    node: yaml.Node | None = None
    rows: dict[int, int] | None = None
    _lines: dict[str, int] | None = field(default=None, repr=False)

    @property
    def lines(self) -> dict[str, int]:
        """Every key path of the file and its line (built on first use)."""
        if self._lines is None:
            if self.node is not None:
                self._lines = key_lines(self.node)
                self._lines.setdefault("", self.node.start_mark.line + 1)
            else:
                self._lines = yaml_line_index(self.text) if self.text else {}
        return self._lines

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of the nearest key path above it that the file writes."""
        if self.rows is not None:
            _, _, rest = path.partition("[")
            return self.rows.get(int(rest.split("]", 1)[0])) if rest else 1
        lines = self.lines
        return next((lines[p] for p in parent_paths(path) if p in lines), None)

    def lines_at(self, parts: tuple[Any, ...]) -> tuple[int | None, dict[str, int]]:
        """The line of the key path ``parts`` and the lines of every key path below it, relative to it."""
        if self.rows is not None:
            row = parts[1] if len(parts) > 1 and isinstance(parts[1], int) else None
            return (self.rows.get(row) if row is not None else 1), {}
        node = self.node if self.node is not None else _compose(self.text) if self.text else None
        line = None
        for part in parts:
            found = None
            if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                found = node.value[part]
                line = found.start_mark.line + 1
            elif isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                        found, line = value_node, key_node.start_mark.line + 1
            if found is None:
                return None, {}
            node = found
        return line, key_lines(node)


def read_text(file: Path, *, error: type[InputError] = InventoryError) -> str:
    """The text of ``file`` as UTF-8 (a byte-order mark is dropped); ``error`` names the file if it cannot be read.

    A file over the size limit (``BLASTRADIUS_MAX_FILE_MB``, :func:`size_limit`)
    is refused before it is read, saying by how much it is over; no more than
    the limit is ever read, whatever the file system says of its size.
    """
    limit = size_limit(MAX_FILE_MB_VARIABLE, DEFAULT_MAX_FILE_MB, error=error)
    try:
        size = file.stat().st_size
        if size > limit:
            raise error([too_big(file, size, limit, variable=MAX_FILE_MB_VARIABLE)])
        with file.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise error([Problem(file=file, path="", message=f"cannot read file: {exc.strerror or exc}")]) from None
    if len(raw) > limit:  # a file that grew, or a device whose size is not known in advance
        raise error(
            [
                Problem(
                    file=file,
                    path="",
                    message=f"file is over the limit of {megabytes(limit)}",
                    hint=f"split it into smaller files, or raise the limit with {MAX_FILE_MB_VARIABLE}",
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            [Problem(file=file, path="", message=f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8")]
        ) from None


class _DuplicateKeyError(ValueError):
    """A JSON object gives a key twice (found while parsing; :func:`_walk_problems` then says where)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (``json.loads`` would keep the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(f"key {key!r} given twice")
        out[key] = value
    return out


def _too_deep(data: Any) -> bool:
    """Is ``data`` nested more than :data:`MAX_DEPTH` levels deep (for a JSON file that YAML cannot read for lines)?"""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _parse_json(file: Path, text: str, error: type[InputError]) -> Document:
    failure: ValueError | None = None
    data = None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise error(
            [Problem(file=file, path="", line=exc.lineno, message=f"invalid JSON: {exc.msg} (column {exc.colno})")]
        ) from None
    except RecursionError:
        raise error([Problem(file=file, path="", message="invalid JSON: nested too deeply")]) from None
    except ValueError as exc:  # a key given twice, or an integer too long to convert
        failure = exc
    node = _compose(text)
    problems = _walk_problems(node, file, text, json_keys=True) if node is not None else []
    if not problems and failure is not None:  # YAML could not read the text for lines: say what, and where if we can
        long_number = re.search(rf"\d{{{MAX_DIGITS + 1},}}", text)
        if isinstance(failure, _DuplicateKeyError) or long_number is None:
            problems = [Problem(file=file, path="", message=f"invalid JSON: {failure}")]
        else:
            problems = [
                Problem(
                    file=file,
                    path="",
                    line=text.count("\n", 0, long_number.start()) + 1,
                    message=f"a number of {len(long_number.group()):,} digits is too long to read "
                    f"(at most {MAX_DIGITS:,})",
                )
            ]
    if not problems and node is None and _too_deep(data):
        problems = [Problem(file=file, path="", message=f"nested more than {MAX_DEPTH} levels deep")]
    if problems:
        raise error(problems)
    return Document(file=file, data=data, text=text, node=node)


def parse_text(file: Path, text: str, *, error: type[InputError] = InventoryError) -> Document:
    """Parse ``text`` of ``file`` as JSON (a ``.json`` file) or YAML (safe loader only), keeping its lines.

    What is refused besides invalid syntax, and why, is in the module's
    docstring: YAML anchors, aliases and merge keys, nesting deeper than
    :data:`MAX_DEPTH`, integers longer than :data:`MAX_DIGITS` digits, a key
    given twice.

    Raises
    ------
    InputError
        Of type ``error``: invalid syntax, with the line and column; or every
        alias, merge key, key given twice, long integer and the first place
        nested too deeply, each with its line and key path.

    Examples
    --------
    >>> doc = parse_text(Path("w.yaml"), "# weights\\nweights:\\n  gate_miss_rate: 0.2\\n")
    >>> doc.data, doc.line_of("weights.gate_miss_rate")
    ({'weights': {'gate_miss_rate': 0.2}}, 3)
    >>> try:
    ...     parse_text(Path("t.yaml"), "teams: &a [*a]\\n")
    ... except InventoryError as exc:
    ...     print(exc.problems[0].location(), exc.problems[0].message, sep="\\n")
    t.yaml:1: teams[0]
    the alias '*a': YAML anchors and aliases are not supported
    """
    if file.suffix.lower() == ".json":
        return _parse_json(file, text, error)
    loader = _StrictSafeLoader(text)
    try:
        node = loader.get_single_node()
        problems = _walk_problems(node, file, text) if node is not None else []
        if problems:
            raise error(problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise error(
            [
                Problem(
                    file=file,
                    path="",
                    # a file cut short is found wanting one line past its end: name its last line
                    line=min(mark.line + 1, text.count("\n") + 1) if mark else None,
                    message=f"invalid YAML: {what}" + (f" (column {mark.column + 1})" if mark else ""),
                    hint="check indentation, colons and quotes on that line",
                )
            ]
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise error([Problem(file=file, path="", message=f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return Document(file=file, data=data, text=text, node=node)


# ---------------------------------------------------------------------------
# Validation errors -> problems
# ---------------------------------------------------------------------------


def _unwrap(annotation: Any) -> list[Any]:
    """Candidate model/element types of an annotation (through Annotated, Optional, unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that the location ``loc`` inside ``model`` points into."""
    current: Any = model
    for part in loc:
        candidates = _unwrap(current)
        nxt = None
        for cand in candidates:
            origin = typing.get_origin(cand)
            if isinstance(part, str) and isinstance(cand, type) and issubclass(cand, BaseModel):
                info = cand.model_fields.get(part)
                if info is not None:
                    nxt = info.annotation
                    break
            elif isinstance(part, int) and origin in (tuple, list):
                nxt = typing.get_args(cand)[0]
                break
            elif isinstance(part, str) and origin is dict:
                nxt = typing.get_args(cand)[1]
                break
        if nxt is None:
            return None
        current = nxt
    for cand in _unwrap(current):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            return cand
    return None


#: Keys whose value is an id: a pattern mismatch there is an invalid id.
_ID_KEYS = ("id", "system", "owner", "team", "connector", "dataset")
#: Location parts pydantic adds for its own validators, not keys of the file.
_INTERNAL_LOC = re.compile(r"^function-(before|after|wrap|plain)\[")


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to 60 characters: how a problem quotes a value."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _upper_bound(err: Any) -> Any:
    """The bound a ``less_than(_equal)`` error of pydantic names."""
    ctx = err.get("ctx") or {}
    return ctx.get("le", ctx.get("lt"))


def problems_from_validation(
    exc: ValidationError, model: type[BaseModel], file: Path, prefix: tuple = (), *, document: Document | None = None
) -> list[Problem]:
    """One :class:`Problem` per error of ``exc``, at ``file`` and the key path ``prefix`` + the error's location.

    Lines come from ``document`` when given; otherwise the caller fills them in.
    """
    problems = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and _INTERNAL_LOC.match(p)))
        if loc and loc[-1] == "[key]" and kind != "extra_forbidden":
            loc = loc[:-1]  # the error is about a mapping key, reported at that key
        value = err.get("input")
        hint = None
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            message = f"unknown key '{loc[-1] if loc else ''}'"
            if parent is not None and loc:
                hint = suggest(loc[-1], parent.model_fields) or "allowed keys: " + ", ".join(parent.model_fields)
        elif kind == "missing":
            message = f"missing required key '{loc[-1] if loc else ''}'"
        elif kind in ("enum", "literal_error"):
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{short_repr(value)} is not allowed here; expected {expected}"
            hint = suggest(value, [s.strip(" '") for s in expected.replace(" or ", ",").split(",")])
        elif kind == "greater_than_equal" and err.get("ctx", {}).get("ge") == 0:
            message = f"must not be negative, got {short_repr(value)}"
            hint = "counts and rates are zero or more"
        elif kind in ("less_than_equal", "less_than") and isinstance(bound := _upper_bound(err), int | float):
            relation = "less than or equal to" if kind == "less_than_equal" else "less than"
            shown = f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"  # 10**15 with its commas
            message = f"input should be {relation} {shown}, got {short_repr(value)}"
            hint = "the input limits are in docs/inventory-format.md" if float(bound) > 1 else None
        elif kind == "finite_number":
            message = f"must be a finite number, got {short_repr(value)}"
        elif kind == "string_pattern_mismatch" and loc and loc[-1] in _ID_KEYS:
            message = f"{short_repr(value)} is not a valid id"
            hint = "use letters, digits, '-' and '_' only, e.g. 'finance-warehouse'"
        elif kind == "model_type" or kind == "dict_type":
            message = f"expected a mapping of keys, got {short_repr(value)}"
        else:
            text = err["msg"]
            text = text[:1].lower() + text[1:]
            message = f"{text}, got {short_repr(value)}" if "input" in err else text
        path = format_path((*prefix, *loc))
        line = document.line_of(path) if document is not None else None
        problems.append(Problem(file=file, path=path, line=line, message=message, hint=hint))
    return problems


# ---------------------------------------------------------------------------
# Settings laid over each other
# ---------------------------------------------------------------------------


def deep_merge(base: dict[str, Any], override: Mapping[Any, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, mappings merged key by key (neither is changed).

    Examples
    --------
    >>> deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, 4: 5})
    {'a': {'b': 1, 'c': 3}, '4': 5}
    """
    out = dict(base)
    for key, value in override.items():
        key = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def read_settings_document(path: str | Path) -> Document:
    """A settings file (YAML or JSON) parsed once, with its lines.

    Raises
    ------
    ConfigError
        No such file, invalid syntax, or not a mapping at the top.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError([Problem(file=file, path="", message="no such file")])
    doc = parse_text(file, read_text(file, error=ConfigError), error=ConfigError)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise ConfigError(
            [
                Problem(
                    file=file,
                    path="",
                    line=1,
                    message=f"expected a mapping of settings, got a {type(doc.data).__name__}",
                )
            ]
        )
    return doc


def validate_settings(
    model: type[BaseModel], *layers: Mapping[str, Any] | SettingsSource | Document | str | Path | None
) -> BaseModel:
    """Validate settings laid over each other, first to last: mappings, files, or sections of an inventory.

    Each layer's notes (a ``source`` and ``range`` beside a value,
    :mod:`blastradius.settings.provenance`) are taken off first. A layer
    that is a file or an inventory's section is validated (over the
    layers below it) on its own first, so a problem is reported at its file
    and key path, with its line where the file's lines are known (a file or
    :class:`Document`); the merged result is then validated as a whole.
    Each file is read once.

    Raises
    ------
    ConfigError
        Listing every problem of the first invalid layer.

    Examples
    --------
    >>> from blastradius.settings import Weights, default_weights
    >>> base = default_weights().model_dump(mode="json")
    >>> validate_settings(Weights, base, {"gate_miss_rate": 0.3}).gate_miss_rate
    0.3
    >>> validate_settings(Weights, base, {"gate_mis_rate": 0.3})
    Traceback (most recent call last):
    ...
    blastradius.errors.ConfigError: 1 problem in settings file:
      - <weights given in code>: gate_mis_rate: unknown key 'gate_mis_rate' (did you mean 'gate_miss_rate'?)
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        document: Document | None = None
        prefix: tuple[str, ...]
        if isinstance(layer, str | Path):
            layer = read_settings_document(layer)
        if isinstance(layer, Document):
            document, file, prefix = layer, layer.file, ()
            data = split_provenance(layer.data, file=file, line_of=layer.line_of)[0]
        elif isinstance(layer, SettingsSource):
            file, prefix = Path(layer.file), ((layer.path,) if layer.path else ())
            data = split_provenance(layer.data, file=file, prefix=layer.path)[0]
        else:
            in_code = Path(f"<{model.__name__.lower()} given in code>")
            merged = deep_merge(merged, split_provenance(layer, file=in_code)[0])
            continue
        candidate = deep_merge(merged, data)
        try:
            model.model_validate(candidate)
        except ValidationError as exc:
            raise ConfigError(problems_from_validation(exc, model, file, prefix, document=document)) from None
        merged = candidate
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        # only settings given as a mapping (in code) reach this point: file layers were checked above
        in_code = Path(f"<{model.__name__.lower()} given in code>")
        raise ConfigError(problems_from_validation(exc, model, in_code)) from None


def read_settings(path: str | Path, model: type[BaseModel], *, defaults: Mapping[str, Any] | None = None) -> BaseModel:
    """Read one YAML/JSON settings file into ``model``, over ``defaults`` (keys left out keep them).

    Raises
    ------
    ConfigError
        Listing every problem with file, line, key path and hint.
    """
    return validate_settings(model, defaults, path)
