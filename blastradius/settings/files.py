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
"""

from __future__ import annotations

import json
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
    "Document",
    "deep_merge",
    "format_path",
    "join_path",
    "key_lines",
    "parent_paths",
    "parse_text",
    "problems_from_validation",
    "read_settings",
    "read_settings_document",
    "read_text",
    "short_repr",
    "validate_settings",
    "yaml_line_index",
]

try:  # the C parser is several times faster on large inventories
    _BaseSafeLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseSafeLoader = yaml.SafeLoader


class _StrictSafeLoader(_BaseSafeLoader):
    """Safe YAML loader that rejects a key given twice in one mapping."""


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


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


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

    A mapping entry is on its key's line, a list item where it starts.

    Examples
    --------
    >>> key_lines(yaml.compose("a: 1\\nb:\\n  - x\\n  - c: 2\\n"))
    {'a': 1, 'b': 2, 'b[0]': 3, 'b[1]': 4, 'b[1].c': 4}
    """
    index: dict[str, int] = {}
    scalar, mapping, sequence = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode

    def walk(node: yaml.Node, path: str) -> None:  # the loader calls this for every record: kept lean
        kind = type(node)
        if kind is mapping or isinstance(node, mapping):
            for key_node, value_node in node.value:
                key = key_node.value if type(key_node) is scalar else "?"
                first, later = _key_part(str(key))
                child = path + later if path else first
                line = key_node.start_mark.line + 1
                index[child] = line
                if type(value_node) is not scalar:
                    walk(value_node, child)
                    index[child] = line
        elif kind is sequence or isinstance(node, sequence):
            for i, item in enumerate(node.value):
                child = f"{path}[{i}]"
                if child not in index:
                    index[child] = item.start_mark.line + 1
                if type(item) is not scalar:
                    walk(item, child)

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
    """The text of ``file`` as UTF-8 (a byte-order mark is dropped); ``error`` names the file if it cannot be read."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise error([Problem(file=file, path="", message=f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            [Problem(file=file, path="", message=f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8")]
        ) from None


def parse_text(file: Path, text: str, *, error: type[InputError] = InventoryError) -> Document:
    """Parse ``text`` of ``file`` as JSON (a ``.json`` file) or YAML (safe loader only), keeping its lines.

    Raises
    ------
    InputError
        Of type ``error``: invalid syntax, with the line and column.

    Examples
    --------
    >>> doc = parse_text(Path("w.yaml"), "# weights\\nweights:\\n  gate_miss_rate: 0.2\\n")
    >>> doc.data, doc.line_of("weights.gate_miss_rate")
    ({'weights': {'gate_miss_rate': 0.2}}, 3)
    """
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(
                [Problem(file=file, path="", line=exc.lineno, message=f"invalid JSON: {exc.msg} (column {exc.colno})")]
            ) from None
        except RecursionError:
            raise error([Problem(file=file, path="", message="invalid JSON: nested too deeply")]) from None
        return Document(file=file, data=data, text=text, node=_compose(text))
    loader = _StrictSafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise error(
            [
                Problem(
                    file=file,
                    path="",
                    line=mark.line + 1 if mark else None,
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
