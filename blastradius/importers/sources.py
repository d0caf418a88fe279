"""Readers of what an enterprise already has: plugin folders, MCP client configs, tool listings, permissions.

Each reader takes paths and returns plain frozen records of what it found,
collecting every problem (file, key path, what is wrong, how to fix it) and
raising one :class:`~blastradius.importers.errors.ImportSourceError` at the
end. Secrets never leave this module: every string a reader copies from a
server (command, arguments, URL, ``env`` and ``headers`` values) and the free
text it keeps (descriptions) goes through one
:class:`~blastradius.importers.secrets.Scrubber`, which replaces each credential
with a ``${…}`` placeholder and records where it was, never what; ``${ENV}``
placeholders already there are kept and never resolved. Error messages are
scrubbed too.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from blastradius.errors import Problem
from blastradius.importers.errors import ImportSourceError
from blastradius.importers.secrets import Replacement, Scrubber, scrub_text, url_host
from blastradius.settings.files import (
    DEFAULT_MAX_FILE_MB,
    MAX_FILE_MB_VARIABLE,
    parse_text,
    size_limit,
    too_big,
)

__all__ = [
    "BuiltinUse",
    "ListedTool",
    "PermissionRule",
    "PluginSource",
    "ServerSource",
    "SkillSource",
    "ToolListing",
    "read_mcp_configs",
    "read_permissions",
    "read_plugin_sources",
    "read_tool_listings",
]

_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


@dataclass(frozen=True, kw_only=True)
class ServerSource:
    """One MCP server as a config declares it, every credential replaced by a ``${…}`` placeholder.

    Attributes
    ----------
    name : str
        Its name in the config (may hold spaces: ``"google drive"``).
    transport : str
        ``http``, ``sse`` or ``stdio``.
    url : str or None
        Its URL, credentials replaced; ``""`` when not configured yet, None for stdio.
    command : tuple of str
        Command (split into words when it is a command line) and arguments of a stdio server,
        credentials replaced.
    env, headers : mapping of str to str
        Its environment variables and headers; every literal value is a placeholder
        (``${NAME}``, ``Bearer ${AUTHORIZATION}``), placeholders of the config are kept.
    credentials : tuple of Replacement
        Every credential replaced: where it was and what kind, never the value.
    oauth : bool
        It authenticates with OAuth.
    file : Path
        The config it was read from.
    key : str
        Its key path in that file.
    """

    name: str
    transport: str
    url: str | None = None
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: tuple[Replacement, ...] = ()
    oauth: bool = False
    file: Path
    key: str

    @property
    def configured(self) -> bool:
        return self.transport == "stdio" or bool(self.url)

    @property
    def url_host(self) -> str | None:
        return url_host(self.url)

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.env))

    @property
    def header_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.headers))


@dataclass(frozen=True, kw_only=True)
class SkillSource:
    """A skill of a plugin (``skills/<name>/SKILL.md``)."""

    name: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class BuiltinUse:
    """A built-in tool a plugin uses (``Bash(git push:*)``, ``Write``, ``WebFetch``) or a hook's command.

    Attributes
    ----------
    tool : str
        As written (``Bash(git push:*)``), or ``hook:EVENT`` for a hook.
    approved : bool
        Runs with no human asking: a command's ``allowed-tools`` and every hook.
    where : str
        File and key it comes from.
    detail : str or None
        A hook's command, credentials replaced.
    """

    tool: str
    approved: bool
    where: str
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class PluginSource:
    """A plugin (or an MCP client, which reaches its servers the same way) found in the sources.

    Attributes
    ----------
    name : str
    servers : tuple of ServerSource
    categories : mapping of str to str
        Server name -> category from ``CONNECTORS.md`` ("Data warehouse").
    notes : tuple of str
        What the analyst should know about this plugin's sources.
    credentials : tuple of Replacement
        Credentials replaced in its own text (description, author); its servers keep theirs.
    commands, agents : tuple of str
        Names of its commands and agents.
    builtin : tuple of BuiltinUse
        Built-in tools its commands pre-approve (``allowed-tools``) or its agents use, and its hooks.
    remote : str or None
        For a marketplace entry from a remote source: where it comes from and its pinned commit; not imported.
    """

    name: str
    description: str | None = None
    version: str | None = None
    author: str | None = None
    category: str | None = None
    servers: tuple[ServerSource, ...] = ()
    categories: Mapping[str, str] = field(default_factory=dict)
    skills: tuple[SkillSource, ...] = ()
    commands: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    builtin: tuple[BuiltinUse, ...] = ()
    file: Path
    folder: Path | None = None
    client: bool = False
    remote: str | None = None
    notes: tuple[str, ...] = ()
    credentials: tuple[Replacement, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ListedTool:
    """One tool of a ``tools/list`` result."""

    name: str
    description: str | None = None
    annotations: Mapping[str, Any] = field(default_factory=dict)
    input_schema: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass(frozen=True, kw_only=True)
class ToolListing:
    """The tools one server lists; ``server`` comes from the file name (``crm.tools.json`` -> ``crm``).

    ``credentials`` are those replaced in the tools' descriptions.
    """

    server: str
    tools: tuple[ListedTool, ...]
    file: Path
    credentials: tuple[Replacement, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PermissionRule:
    """One permission rule over MCP tools.

    Attributes
    ----------
    state : str
        ``allow`` (runs with no human), ``ask`` (a human approves each call) or ``deny`` (blocked).
    server : str
        Server name pattern (``crm``, ``plugin_revenue-ops_slack``).
    tool : str or None
        Tool name pattern (``delete_*``); None for every tool of the server.
    rule : str
        The rule as written (``mcp__crm__delete_*``).
    """

    state: str
    server: str
    tool: str | None
    rule: str
    file: Path
    key: str

    def matches_tool(self, tool: str) -> bool:
        return self.tool is None or self.tool == "*" or fnmatch.fnmatchcase(tool, self.tool)


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------


def _strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (VS Code's mcp.json) as plain JSON."""
    out, i, n, in_string = [], 0, len(text), False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            chunk = text[i : end + 2 if end >= 0 else n]
            out.append("\n" * chunk.count("\n"))
            i = end + 2 if end >= 0 else n
            continue
        else:
            out.append(ch)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


#: What :func:`_read_json` returns when the file could not be read (JSON ``null`` reads as None).
FAILED: Any = object()


def _jsonc_spot(text: str) -> tuple[int, str] | None:
    """The line and kind of the first comment or trailing comma of JSON text (strings skipped), if any."""
    i, n, in_string, line = 0, len(text), False, 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif text.startswith("//", i) or text.startswith("/*", i):
            return line, "a comment"
        elif ch == ",":
            rest = re.match(r"\s*[}\]]", text[i + 1 :])
            if rest:
                return line, "a trailing comma"
        i += 1
    return None


def _limited_bytes(file: Path, problems: list[Problem]) -> bytes | None:
    """The bytes of ``file``, or None and a problem when it is over the input size limit (docs/inventory-format.md)."""
    limit = size_limit(MAX_FILE_MB_VARIABLE, DEFAULT_MAX_FILE_MB, error=ImportSourceError)
    try:
        size = file.stat().st_size
        if size > limit:
            problems.append(too_big(file, size, limit, variable=MAX_FILE_MB_VARIABLE))
            return None
        with file.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        problems.append(Problem(file=file, path="", message=f"cannot read file: {exc.strerror or exc}"))
        return None


def _read_json(file: Path, problems: list[Problem], *, jsonc: bool = False) -> Any:
    """The JSON data of ``file``, or :data:`FAILED` with the problem added to ``problems``."""
    raw = _limited_bytes(file, problems)
    if raw is None:
        return FAILED
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(file=file, path="", message=f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8")
        )
        return FAILED
    if not text.strip():
        problems.append(Problem(file=file, path="", line=1, message="empty file", hint="export the config again"))
        return FAILED
    try:
        data = json.loads(_strip_jsonc(text) if jsonc else text)
    except json.JSONDecodeError as exc:
        spot = None if jsonc else _jsonc_spot(text)
        if spot is not None:
            try:
                json.loads(_strip_jsonc(text))
            except (json.JSONDecodeError, RecursionError, ValueError):
                spot = None
        if spot is not None:
            problems.append(
                Problem(
                    file=file,
                    path="",
                    line=spot[0],
                    message=f"JSON does not allow comments or trailing commas, and this file has {spot[1]} here",
                    hint="remove it (and any other comment or trailing comma); "
                    "only VS Code's mcp.json and settings.json are read as JSON with comments",
                )
            )
            return FAILED
        truncated = exc.pos >= len(text.rstrip()) or _open_brackets(text) > 0
        problems.append(
            Problem(
                file=file,
                path="",
                line=exc.lineno,
                message=f"invalid JSON: {exc.msg} (column {exc.colno})"
                + (": the file ends too early" if truncated else ""),
                hint="the file looks truncated; export it again"
                if truncated
                else "check brackets, commas and quotes on that line",
            )
        )
    except (RecursionError, ValueError):  # nested too deeply; an integer too long to convert
        problems.append(Problem(file=file, path="", message="invalid JSON: nested too deeply or a number too long"))
    else:
        try:  # the input boundary's rules too: a key given twice, nesting, long integers
            parse_text(file.with_suffix(".json"), _strip_jsonc(text) if jsonc else text, error=ImportSourceError)
        except ImportSourceError as exc:
            problems.extend(_shifted(p, file, 0) for p in exc.problems)
            return FAILED
        return data
    return FAILED


def _open_brackets(text: str) -> int:
    """How many ``{``/``[`` are left open at the end (strings skipped): more than 0 means the file was cut off."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            in_string = not (ch == '"' and not escaped)
            escaped = ch == "\\" and not escaped
        elif ch == '"':
            in_string, escaped = True, False
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return depth + (1 if in_string else 0)


def _kind_of(value: Any) -> str:
    """What a JSON value is, in words: ``an integer``, ``a mapping``, ``null``."""
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "true or false",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }.get(type(value), f"a value of type {type(value).__name__}")


def _key(*parts: Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def _scrubbed(problems: list[Problem]) -> list[Problem]:
    """Problems with any credential in their text replaced: an error never shows a secret."""
    out = []
    for p in problems:
        message = scrub_text(p.message, free=True)[0]
        hint = scrub_text(p.hint, free=True)[0] if p.hint else p.hint
        out.append(dataclasses.replace(p, message=message, hint=hint))
    return out


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ImportSourceError(_scrubbed(problems))


def _read_server(name: str, raw: Any, file: Path, key: str, problems: list[Problem]) -> ServerSource | None:
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                file=file,
                path=key,
                message=f"server '{name}' must be a mapping, got {_kind_of(raw)}",
                hint='write {"type": "http", "url": "…"} or {"command": "…", "args": […]}',
            )
        )
        return None
    before = len(problems)
    transport = raw.get("type", raw.get("transport"))
    if transport is not None and not isinstance(transport, str):
        problems.append(Problem(file=file, path=f"{key}.type", message=f"expected a string, got {_kind_of(transport)}"))
    url = raw.get("url", raw.get("serverUrl"))
    if url is not None and not isinstance(url, str):
        problems.append(Problem(file=file, path=f"{key}.url", message=f"expected a string, got {_kind_of(url)}"))
        url = None
    command = raw.get("command")
    if command is not None and not isinstance(command, str):
        problems.append(
            Problem(file=file, path=f"{key}.command", message=f"expected a string, got {_kind_of(command)}")
        )
        command = None
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str | int | float) for a in args):
        problems.append(
            Problem(file=file, path=f"{key}.args", message=f"expected a list of strings, got {_kind_of(args)}")
        )
        args = []
    blocks: dict[str, dict[Any, Any]] = {}
    for block in ("env", "headers"):
        value = raw.get(block, {})
        if value is None:
            value = {}
        if not isinstance(value, dict):
            problems.append(
                Problem(file=file, path=f"{key}.{block}", message=f"expected a mapping of names, got {_kind_of(value)}")
            )
            value = {}
        blocks[block] = value
    oauth = raw.get("oauth")
    if len(problems) > before:
        return None
    scrub = Scrubber()
    transport = (transport or "").lower()
    if transport in ("streamable-http", "streamablehttp", "http-stream"):
        transport = "http"
    if not transport:
        transport = "stdio" if command else ("sse" if url and url.rstrip("/").endswith("/sse") else "http")
    if transport not in ("http", "sse", "stdio"):
        problems.append(
            Problem(
                file=file,
                path=f"{key}.type",
                message=f"unknown server type '{scrub.text(str(raw.get('type', raw.get('transport'))), where='type')}'",
                hint="use http, sse or stdio",
            )
        )
        return None
    if transport == "stdio" and not command:
        problems.append(
            Problem(
                file=file, path=key, message=f"stdio server '{name}' has no command", hint='add "command" and "args"'
            )
        )
        return None
    return ServerSource(
        name=name,
        transport=transport,
        url=None if transport == "stdio" else scrub.url(url.strip()) if url and url.strip() else "",
        command=tuple(scrub.command(command, [str(a) for a in args])) if transport == "stdio" and command else (),
        env=scrub.env(blocks["env"]),
        headers=scrub.headers(blocks["headers"]),
        credentials=scrub.replacements,
        oauth=oauth is not None and oauth is not False,
        file=file,
        key=key,
    )


def _read_servers(
    data: Any, file: Path, problems: list[Problem], *, keys: tuple[str, ...] = ("mcpServers",), bare: bool = True
) -> tuple[ServerSource, ...] | None:
    """Servers of a config: under one of ``keys`` or, when ``bare``, the top-level mapping itself.

    ``{}`` and ``null`` are a config with no server yet.
    """
    if data is None or data == {}:
        return ()
    if not isinstance(data, dict):
        problems.append(
            Problem(
                file=file,
                path="",
                message=f"expected a JSON object with '{keys[0]}', got {_kind_of(data)}",
                hint=f'write {{"{keys[0]}": {{"NAME": {{"type": "http", "url": "…"}}}}}}',
            )
        )
        return None
    prefix: tuple[str, ...] = ()
    servers: Any = None
    for k in keys:
        parts = k.split(".")
        node: Any = data
        present = True
        for part in parts:
            present = isinstance(node, dict) and part in node
            node = node.get(part) if isinstance(node, dict) else None
        if present:
            prefix, servers = tuple(parts), {} if node is None else node
            break
    if servers is None:
        if bare and data and all(isinstance(v, dict) and ({"url", "command", "type"} & set(v)) for v in data.values()):
            servers = data
        else:
            problems.append(
                Problem(
                    file=file,
                    path="",
                    message="no MCP servers found: expected " + " or ".join(f"'{k}'" for k in keys),
                    hint="mcpServers (Claude Desktop, Claude Code .mcp.json, Cursor) "
                    "or servers (VS Code .vscode/mcp.json)",
                )
            )
            return None
    if not isinstance(servers, dict):
        problems.append(
            Problem(
                file=file,
                path=_key(*prefix),
                message=f"expected a mapping of server name -> server, got {_kind_of(servers)}",
            )
        )
        return None
    out = []
    for name, raw in servers.items():
        server = _read_server(str(name), raw, file, _key(*prefix, name), problems)
        if server is not None:
            out.append(server)
    return tuple(out)


# ---------------------------------------------------------------------------
# Plugin folders and marketplaces
# ---------------------------------------------------------------------------


def _shifted(problem: Problem, file: Path, lines: int, *, prefix: str = "") -> Problem:
    """``problem`` found in a part of ``file`` that starts ``lines`` lines down."""
    message = problem.message
    if prefix and message.startswith("invalid YAML"):
        message = "invalid YAML front matter" + message[len("invalid YAML") :]
    elif prefix:
        message = prefix + message
    return Problem(
        file=file,
        path=problem.path,
        line=problem.line + lines if problem.line is not None else None,
        message=message,
        hint=problem.hint,
    )


def _plain_front_matter(text: str) -> dict[str, Any] | None:
    """Front matter of ``key: text`` lines whose text holds colons (not YAML, but what plugins write), else None.

    Each line starting with a key holds its text to the end of the line (a flow list such
    as ``["Read", "Grep"]`` is read as a list); a line without a key continues the text
    before it. Block syntax (``|``, ``>``), anchors and tags are not plain: None.
    """
    out: dict[str, Any] = {}
    last = None
    for line in text.strip("\n").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z][\w-]*):(?:\s+(.*))?", line.rstrip())
        if match is None or match.group(1) in out:
            if last is None or not isinstance(out[last], str):
                return None
            out[last] = f"{out[last]} {line.strip()}".strip()
            continue
        value: Any = (match.group(2) or "").strip()
        if value[:1] in ("&", "*", "|", ">", "!"):
            return None
        if value[:1] in ("[", "{", '"', "'"):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:  # "argument-hint: [name] [--force]": text
                pass
        last = match.group(1)
        out[last] = value
    return out or None


def _front_matter(file: Path, problems: list[Problem]) -> dict[str, Any]:
    raw = _limited_bytes(file, problems)
    if raw is None:
        return {}
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(file=file, path="", message=f"cannot read file: {exc}"))
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        problems.append(
            Problem(
                file=file,
                path="",
                line=1,
                message="front matter opened with '---' is never closed",
                hint="end it with a line '---'",
            )
        )
        return {}
    try:
        data = parse_text(file.with_suffix(".yaml"), text[3:end], error=ImportSourceError).data
    except ImportSourceError as exc:  # anchors, aliases, nesting, a key given twice: one line below the '---'
        plain = _plain_front_matter(text[3:end]) if all("YAML" in p.message for p in exc.problems) else None
        if plain is not None:  # "description: Use when … Example: …": plain text with colons, as Claude Code reads it
            return plain
        problems.extend(_shifted(p, file, 1, prefix="front matter: ") for p in exc.problems)
        return {}
    except yaml.YAMLError as exc:
        plain = _plain_front_matter(text[3:end])
        if plain is not None:  # "description: Use when … Example: …": plain text with colons, as Claude Code reads it
            return plain
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            Problem(
                file=file,
                path="",
                line=mark.line + 2 if mark else None,
                message=f"invalid YAML front matter: {getattr(exc, 'problem', exc)}",
            )
        )
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(
            Problem(
                file=file,
                path="",
                line=2,
                message=f"front matter must be a mapping (name:, description:), got {_kind_of(data)}",
            )
        )
        return {}
    return data


def _text_field(data: Mapping, key: str, file: Path, path: str, problems: list[Problem]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, dict) and key == "author":
        value = value.get("name")
        if value is None:
            return None
    if not isinstance(value, str):
        problems.append(
            Problem(file=file, path=_key(path, key) if path else key, message=f"expected text, got {_kind_of(value)}")
        )
        return None
    return value.strip() or None


def _connectors_md(file: Path, problems: list[Problem]) -> dict[str, str]:
    """Server display name (lower-case words) -> category, from the table of a CONNECTORS.md."""
    raw = _limited_bytes(file, problems)
    if raw is None:
        return {}
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        problems.append(Problem(file=file, path="", message=f"cannot read file: {exc}"))
        return {}
    out: dict[str, str] = {}
    header: list[str] | None = None
    for line in lines:
        if not line.strip().startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        category = row.get("category")
        servers = next((v for k, v in row.items() if "server" in k and "other" not in k), None)
        if not category or not servers:
            continue
        for name in re.split(r",|/|;", servers):
            name = name.replace("\\*", "").replace("*", "").replace("`", "").strip()
            if name and name not in ("—", "-"):
                out[_words(name)] = category
    return out


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _component_files(folder: Path, manifest: Mapping[str, Any], key: str, default: str) -> list[Path]:
    """The ``commands``/``agents`` Markdown files of a plugin: its default folder plus paths its manifest adds."""
    found = sorted((folder / default).glob("**/*.md")) if (folder / default).is_dir() else []
    extra = manifest.get(key)
    for item in [extra] if isinstance(extra, str) else extra if isinstance(extra, list) else []:
        if not isinstance(item, str):
            continue
        path = (folder / item).resolve()
        if path.is_file() and path.suffix == ".md":
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(path.glob("**/*.md")))
    return list(dict.fromkeys(found))


def _tool_list(value: Any) -> list[str]:
    """``allowed-tools``/``tools`` of a front matter: a comma-separated string or a list, as tool patterns."""
    if isinstance(value, str):
        parts, depth, current = [], 0, ""
        for ch in value:  # commas inside Bash(…) patterns do not split
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 0:
                parts.append(current)
                current = ""
            else:
                current += ch
        parts.append(current)
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, str | int | float) and str(v).strip()]
    return []


def _hooks(file: Path, problems: list[Problem], data: Any = FAILED) -> list[BuiltinUse]:
    """Commands that hooks run on their own, from a plugin's ``hooks/hooks.json`` (or its manifest's ``hooks``)."""
    if data is FAILED:
        data = _read_json(file, problems)
        if data is FAILED:
            return []
    if data is None or data == {}:
        return []
    hooks = data.get("hooks", data) if isinstance(data, dict) else None
    if not isinstance(hooks, dict):
        problems.append(
            Problem(
                file=file,
                path="hooks",
                message=f"expected a mapping of events to hooks, got {_kind_of(hooks)}",
                hint='write {"hooks": {"PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", …}]}]}}',
            )
        )
        return []
    out = []
    for event, groups in hooks.items():
        for i, group in enumerate(groups if isinstance(groups, list) else []):
            inner = group.get("hooks") if isinstance(group, dict) else None
            for j, hook in enumerate(inner if isinstance(inner, list) else []):
                if isinstance(hook, dict) and hook.get("type") == "command" and isinstance(hook.get("command"), str):
                    out.append(
                        BuiltinUse(
                            tool=f"hook:{event}",
                            approved=True,
                            where=f"{file}: {_key('hooks', str(event), i, 'hooks', j)}",
                            detail=scrub_text(hook["command"], free=True)[0],
                        )
                    )
    return out


def _read_plugin(
    folder: Path,
    problems: list[Problem],
    entry: Mapping[str, Any] | None = None,
    entry_file: Path | None = None,
    entry_key: str = "",
    *,
    strict: bool = True,
) -> PluginSource | None:
    """One plugin folder; a bad skill, command, agent or hooks file is left out with a note unless ``strict``."""
    manifest = folder / ".claude-plugin" / "plugin.json"

    def left_out(what: str, found: list[Problem]) -> None:
        if strict:
            problems.extend(found)
        else:
            notes.extend(f"{what} left out: {p.location()}: {p.message}" for p in _scrubbed(found))

    data: dict[str, Any] = {}
    notes: list[str] = []
    entry = entry or {}
    if manifest.is_file():
        raw = _read_json(manifest, problems)
        if raw is FAILED:
            return None
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            problems.append(
                Problem(
                    file=manifest,
                    path="",
                    message=f"expected a JSON object, got {_kind_of(raw)}",
                    hint='write {"name": "…", "description": "…"}',
                )
            )
            return None
        data = raw
        if "name" not in data:
            fallback = entry.get("name") if isinstance(entry.get("name"), str) else folder.name
            notes.append(f"{manifest} has no 'name': the plugin is called '{fallback}' (add \"name\" to be explicit)")
    before = len(problems)
    name = (
        _text_field(data, "name", manifest, "", problems)
        or (entry.get("name") if isinstance(entry.get("name"), str) else None)
        or folder.name
    )
    description = _text_field(data, "description", manifest, "", problems) or (
        entry.get("description") if isinstance(entry.get("description"), str) else None
    )
    version = _text_field(data, "version", manifest, "", problems)
    author = _text_field(data, "author", manifest, "", problems)
    if len(problems) > before:
        return None
    scrub = Scrubber()
    description, version, author = (
        scrub.text(text, where=where, free=True) if text else text
        for text, where in ((description, "description"), (version, "version"), (author, "author"))
    )
    servers: list[ServerSource] = []
    mcp_file = folder / ".mcp.json"
    if mcp_file.is_file():
        raw = _read_json(mcp_file, problems)
        if raw is FAILED:
            return None
        found = _read_servers(raw, mcp_file, problems)
        if found is None:
            return None
        servers.extend(found)
    inline = data.get("mcpServers")
    for source, where, at in (
        (inline, manifest, "mcpServers"),
        (entry.get("mcpServers"), entry_file, f"{entry_key}.mcpServers"),
    ):
        if source is None or where is None:
            continue
        if isinstance(source, str):  # a path to a JSON file of servers, relative to the plugin
            path = (folder / source).resolve()
            raw = _read_json(path, problems)
            found = _read_servers(raw, path, problems) if raw is not FAILED else None
        elif isinstance(source, dict):
            found = _read_servers({"mcpServers": source}, where, problems)
        else:
            problems.append(
                Problem(
                    file=where, path=at, message=f"expected a mapping of servers or a file name, got {_kind_of(source)}"
                )
            )
            found = None
        if found is None:
            return None
        servers.extend(s for s in found if s.name not in {x.name for x in servers})
    categories: dict[str, str] = {}
    if (folder / "CONNECTORS.md").is_file():
        categories = _connectors_md(folder / "CONNECTORS.md", problems)
        known = {_words(s.name) for s in servers}
        for display in sorted(set(categories) - known):
            notes.append(
                f"{folder / 'CONNECTORS.md'} lists '{display}' ({categories[display]}), "
                "which no .mcp.json of the plugin defines"
            )
    skills = []
    for skill_file in sorted(folder.glob("skills/*/SKILL.md")):
        skill_problems: list[Problem] = []
        meta = _front_matter(skill_file, skill_problems)
        if skill_problems:  # one bad skill is left out, the plugin is kept
            left_out("skill", skill_problems)
            continue
        meta_name, meta_desc = meta.get("name"), meta.get("description")
        skill_name = meta_name if isinstance(meta_name, str) else skill_file.parent.name
        skill_desc = meta_desc if isinstance(meta_desc, str) else None
        if skill_desc:
            skill_desc = scrub.text(skill_desc, where=f"skills.{skill_name}.description", free=True)
        skills.append(SkillSource(name=skill_name, description=skill_desc))
    uses: list[BuiltinUse] = []
    commands: list[str] = []
    agents: list[str] = []
    for kind, default, names in (("commands", "commands", commands), ("agents", "agents", agents)):
        for file in _component_files(folder, data, kind, default):
            part_problems: list[Problem] = []
            meta = _front_matter(file, part_problems)
            if part_problems:
                left_out(kind[:-1], part_problems)
                continue
            names.append(file.stem)
            # a command's allowed-tools run without asking; an agent's tools are what it may ask to use
            key = "allowed-tools" if kind == "commands" else "tools"
            for tool in _tool_list(meta.get(key)):
                uses.append(
                    BuiltinUse(
                        tool=scrub.text(tool, where=f"{kind}.{file.stem}.{key}", free=True),
                        approved=kind == "commands",
                        where=f"{file}: {key}",
                    )
                )
    hooks_file = folder / "hooks" / "hooks.json"
    if isinstance(data.get("hooks"), dict):
        uses.extend(_hooks(manifest, problems, data["hooks"]))
    elif isinstance(data.get("hooks"), str) and (folder / data["hooks"]).is_file():
        hooks_file = folder / data["hooks"]
    if hooks_file.is_file():
        hook_problems: list[Problem] = []
        found_hooks = _hooks(hooks_file, hook_problems)
        if hook_problems:
            left_out("hooks", hook_problems)
        else:
            uses.extend(found_hooks)
    if not servers and not uses:
        notes.append(
            f"plugin '{name}' ({folder}) declares no MCP server and pre-approves no tool: "
            "it can call no connector, or its servers are configured elsewhere"
        )
    return PluginSource(
        name=name,
        description=description,
        version=version,
        author=author,
        category=scrub.text(entry["category"], where="category", free=True)
        if isinstance(entry.get("category"), str)
        else None,
        servers=tuple(servers),
        categories={s.name: categories[_words(s.name)] for s in servers if _words(s.name) in categories},
        skills=tuple(skills),
        commands=tuple(commands),
        agents=tuple(agents),
        builtin=tuple(uses),
        notes=tuple(notes),
        file=manifest if manifest.is_file() else mcp_file if mcp_file.is_file() else (entry_file or folder),
        folder=folder,
        credentials=scrub.replacements,
    )


def _remote_source(source: Any) -> tuple[str, str | None, str | None] | None:
    """``(where, commit, repo)`` of a marketplace entry's remote source, None for a local folder."""
    if isinstance(source, str):
        return (source, None, None) if re.match(r"^[a-z+]+://", source) else None
    if not isinstance(source, dict):
        return (_kind_of(source), None, None)
    kind = source.get("source")
    repo = source.get("repo") if isinstance(source.get("repo"), str) else None
    url = source.get("url") if isinstance(source.get("url"), str) else None
    where = f"github:{repo}" if repo else url or (f"{kind}" if isinstance(kind, str) else "unknown source")
    if isinstance(source.get("path"), str):
        where += f" ({source['path']})"
    commit = next((source[k] for k in ("sha", "commit", "ref") if isinstance(source.get(k), str)), None)
    name = repo or (
        re.sub(r"\.git$", "", url.rstrip("/").rsplit("/", 2)[-2] + "/" + url.rstrip("/").rsplit("/", 1)[-1])
        if url and url.count("/") >= 3
        else None
    )
    return where, commit, name


def _checkout_of(repo: str | None, source: Any, checkouts: Path | None) -> Path | None:
    """The checkout of a remote entry under ``checkouts``: ``DIR/name``, ``DIR/owner/name`` or ``DIR/owner+name``."""
    if checkouts is None or not repo or "/" not in repo:
        return None
    owner, name = repo.split("/", 1)
    sub = source.get("path") if isinstance(source, dict) and isinstance(source.get("path"), str) else ""
    for base in (checkouts / name, checkouts / owner / name, checkouts / f"{owner}+{name}"):
        folder = (base / sub).resolve() if sub else base
        if folder.is_dir() and folder.resolve().is_relative_to(checkouts.resolve()):
            return folder
    return None


def _read_marketplace(
    file: Path, problems: list[Problem], *, skipped: list[Problem] | None = None, checkouts: Path | None = None
) -> list[PluginSource]:
    root = file.parent.parent if file.parent.name == ".claude-plugin" else file.parent
    data = _read_json(file, problems)
    if data is FAILED:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("plugins"), list):
        problems.append(
            Problem(
                file=file,
                path="plugins" if isinstance(data, dict) else "",
                message="expected a JSON object with a 'plugins' list, got "
                + (_kind_of(data.get("plugins")) if isinstance(data, dict) else _kind_of(data)),
                hint='write {"name": "…", "plugins": [{"name": "…", "source": "./folder"}]}',
            )
        )
        return []
    out = []
    plugin_root = data.get("metadata", {}).get("pluginRoot") if isinstance(data.get("metadata"), dict) else None
    for i, entry in enumerate(data["plugins"]):
        key = f"plugins[{i}]"
        mine: list[Problem] = []
        if not isinstance(entry, dict):
            mine.append(
                Problem(file=file, path=key, message=f"expected a mapping with name and source, got {_kind_of(entry)}")
            )
            _keep_or_skip(mine, problems, skipped)
            continue
        source = entry.get("source")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            mine.append(Problem(file=file, path=f"{key}.name", message="every plugin needs a name (text)"))
            _keep_or_skip(mine, problems, skipped)
            continue
        remote = _remote_source(source) if source is not None else None
        checkout = _checkout_of(remote[2], source, checkouts) if remote else None
        plugin: PluginSource | None
        if isinstance(source, str) and remote is None:
            base = root / plugin_root if isinstance(plugin_root, str) and not source.startswith(("./", "../")) else root
            folder = (base / source).resolve()
            if not folder.is_dir():
                mine.append(
                    Problem(
                        file=file,
                        path=f"{key}.source",
                        message=f"plugin folder '{source}' does not exist (looked in {folder})",
                        hint="fix the path, or import the plugin folder on its own",
                    )
                )
                plugin = None
            else:
                plugin = _read_plugin(folder, mine, entry, file, key, strict=skipped is None)
        elif checkout is not None:
            plugin = _read_plugin(checkout, mine, entry, file, key, strict=skipped is None)
            if plugin is not None:
                plugin = dataclasses.replace(
                    plugin,
                    notes=(*plugin.notes, f"plugin '{name}' ({remote[0] if remote else ''}) read from {checkout}"),
                )
        elif source is None and isinstance(entry.get("mcpServers"), dict):
            plugin = _read_plugin(root / f".{name}-inline", mine, entry, file, key, strict=skipped is None)
        else:
            where, commit, _ = remote or ("no source", None, None)
            description, replaced = (
                scrub_text(entry["description"], free=True) if isinstance(entry.get("description"), str) else (None, ())
            )
            out.append(
                PluginSource(
                    name=name,
                    description=description,
                    credentials=replaced,
                    file=file,
                    remote=scrub_text(where, free=True)[0] + (f" @ {commit}" if commit else " (no pinned commit)"),
                    notes=(
                        f"plugin '{name}' ({file}: {key}) comes from {where}"
                        + (f" at commit {commit}" if commit else ", not pinned to a commit")
                        + ": not imported; check it out and import it with --checkouts DIR",
                    ),
                    servers=(),
                )
            )
            continue
        if plugin is not None and not mine:
            out.append(plugin)
        else:
            _keep_or_skip(mine, problems, skipped)
    return out


def _keep_or_skip(mine: list[Problem], problems: list[Problem], skipped: list[Problem] | None) -> None:
    """A plugin's problems: left out with a warning when the import is not strict, else an error."""
    (problems if skipped is None else skipped).extend(mine)


#: Folders never searched for plugins.
_SKIP_DIRS = frozenset({"node_modules", ".git", "__pycache__", ".venv", "venv", "dist", "build"})
#: How deep a folder of plugins is searched.
_MAX_DEPTH = 4


def _is_plugin(folder: Path) -> bool:
    return (folder / ".claude-plugin" / "plugin.json").is_file() or (folder / ".mcp.json").is_file()


def _plugin_folders(root: Path, depth: int = 0) -> list[Path]:
    """Plugin folders under ``root`` (nested ones too, without a marketplace file), not inside another plugin."""
    out = []
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []
    for child in children:
        if child.name in _SKIP_DIRS or child.name.startswith("."):
            continue
        if (child / ".claude-plugin" / "marketplace.json").is_file():
            out.append(child / ".claude-plugin" / "marketplace.json")
        elif _is_plugin(child):
            out.append(child)
        elif depth < _MAX_DEPTH:
            out.extend(_plugin_folders(child, depth + 1))
    return out


def read_plugin_sources(
    paths: list[Path], *, skipped: list[Problem] | None = None, checkouts: Path | None = None
) -> list[PluginSource]:
    """Plugins of marketplaces and plugin folders (Claude Code / Cowork layout).

    A path may be a marketplace folder (holding ``.claude-plugin/marketplace.json``),
    the ``marketplace.json`` itself, a plugin folder (``.claude-plugin/plugin.json``
    and/or ``.mcp.json``), or a folder holding plugin folders at any depth (up to four
    levels). A marketplace entry whose folder has no ``plugin.json`` of its own is read
    from the entry; an entry from a remote source is listed as remote (with its source
    and pinned commit) unless ``checkouts`` holds a checkout of it.

    Parameters
    ----------
    paths : list of Path
    skipped : list of Problem, optional
        When given, a plugin with a problem is left out and its problems are added here;
        otherwise every problem is raised.
    checkouts : Path, optional
        A folder of local checkouts of remote entries (``DIR/name``, ``DIR/owner/name``).

    Raises
    ------
    ImportSourceError
        Listing every problem, each naming its file (with ``skipped``, only a path that
        is not a plugin source at all).
    """
    problems: list[Problem] = []
    out: list[PluginSource] = []

    def one(folder: Path) -> None:
        mine: list[Problem] = []
        plugin = _read_plugin(folder, mine, strict=skipped is None)
        if plugin is not None and not mine:
            out.append(plugin)
        else:
            _keep_or_skip(mine, problems, skipped)

    for path in map(Path, paths):
        if path.is_file():
            if path.name == "marketplace.json":
                out.extend(_read_marketplace(path, problems, skipped=skipped, checkouts=checkouts))
            elif path.name in ("plugin.json", ".mcp.json"):
                one(path.parent.parent if path.parent.name == ".claude-plugin" else path.parent)
            else:
                problems.append(
                    Problem(
                        file=path,
                        path="",
                        message="not a plugin source",
                        hint="give a marketplace or plugin folder, marketplace.json, plugin.json or .mcp.json",
                    )
                )
        elif (path / ".claude-plugin" / "marketplace.json").is_file():
            market = path / ".claude-plugin" / "marketplace.json"
            found = _read_marketplace(market, problems, skipped=skipped, checkouts=checkouts)
            out.extend(found)
            listed = {p.folder.resolve() for p in found if p.folder is not None}
            for folder in _plugin_folders(path):
                if folder.name == "marketplace.json" or folder.resolve() in listed:
                    continue
                before = len(out)
                one(folder)
                if len(out) > before:
                    out[-1] = dataclasses.replace(
                        out[-1],
                        notes=(*out[-1].notes, f"plugin folder {folder} is not listed in {market}: imported as well"),
                    )
        elif _is_plugin(path):
            one(path)
        elif path.is_dir():
            folders = _plugin_folders(path)
            if not folders:
                problems.append(
                    Problem(
                        file=path,
                        path="",
                        message="no plugin found here",
                        hint="expected .claude-plugin/marketplace.json, .claude-plugin/plugin.json or .mcp.json, "
                        "in this folder or its sub-folders",
                    )
                )
            for folder in folders:
                if folder.name == "marketplace.json":
                    out.extend(_read_marketplace(folder, problems, skipped=skipped, checkouts=checkouts))
                else:
                    one(folder)
        else:
            problems.append(Problem(file=path, path="", message="no such file or directory"))
    _raise_if(problems)
    return out


# ---------------------------------------------------------------------------
# MCP client configs
# ---------------------------------------------------------------------------


def _client_name(file: Path) -> str:
    parent = file.resolve().parent
    if file.name == "claude_desktop_config.json":
        return "claude-desktop"
    if parent.name in (".vscode", ".cursor") and file.name == "mcp.json":
        return f"{parent.name.lstrip('.')}-{parent.parent.name}"
    if file.name == ".mcp.json":
        return parent.name
    if parent.name == ".vscode" and file.name == "settings.json":
        return f"vscode-{parent.parent.name}"
    return file.stem


def read_mcp_configs(paths: list[Path], *, skipped: list[Problem] | None = None) -> list[PluginSource]:
    """MCP client configs, each as the plugin-like client that reaches its servers.

    Shapes: ``mcpServers`` (Claude Desktop ``claude_desktop_config.json``, Claude
    Code ``.mcp.json``, Cursor ``.cursor/mcp.json``), ``servers`` (VS Code
    ``.vscode/mcp.json``, JSON with comments) and ``mcp.servers`` (VS Code ``settings.json``).

    With ``skipped``, a config with a problem is left out and its problems added there.

    Raises
    ------
    ImportSourceError
        Listing every problem, each naming its file.
    """
    problems: list[Problem] = []
    out: list[PluginSource] = []
    for file in map(Path, paths):
        before, found_before = len(problems), len(out)
        _read_client(file, problems, out)
        _skip_file(problems, before, out, found_before, skipped)
    _raise_if(problems)
    return out


def _skip_file(
    problems: list[Problem], before: int, out: list[Any], found_before: int, skipped: list[Problem] | None
) -> None:
    """Move the problems one file added to ``skipped`` and drop what it gave, when the import is not strict."""
    if skipped is None or len(problems) == before:
        return
    skipped.extend(problems[before:])
    del problems[before:]
    del out[found_before:]


def _read_client(file: Path, problems: list[Problem], out: list[PluginSource]) -> None:
    """The MCP client config(s) at ``file`` (a file or a folder holding one), added to ``out``."""
    if file.is_dir():
        candidates = [
            file / n for n in (".mcp.json", ".vscode/mcp.json", ".cursor/mcp.json", "claude_desktop_config.json")
        ]
        found = [c for c in candidates if c.is_file()]
        if not found:
            problems.append(
                Problem(
                    file=file,
                    path="",
                    message="no MCP client config in this folder",
                    hint="expected .mcp.json, .vscode/mcp.json, .cursor/mcp.json or claude_desktop_config.json",
                )
            )
            return
    else:
        found = [file]
    for config in found:
        data = _read_json(config, problems, jsonc=True)
        if data is FAILED:
            continue
        servers = _read_servers(data, config, problems, keys=("mcpServers", "servers", "mcp.servers"))
        if servers is None:
            continue
        name = _client_name(config)
        out.append(
            PluginSource(
                name=name,
                description=f"MCP client configured in {config.name}",
                servers=servers,
                file=config,
                client=True,
                notes=() if servers else (f"{config} defines no server",),
            )
        )


# ---------------------------------------------------------------------------
# Tool listings
# ---------------------------------------------------------------------------


def _server_of_listing(file: Path) -> str:
    name = file.name
    for suffix in (".tools.json", "-tools.json", "_tools.json", ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or file.stem
    return file.stem


def read_tool_listings(paths: list[Path], *, skipped: list[Problem] | None = None) -> list[ToolListing]:
    """MCP ``tools/list`` results: ``{"tools": […]}``, a JSON-RPC response holding one, or a bare list.

    A path may be a folder: every ``*.json`` in it is a listing (``blastradius probe`` writes one per server).

    The server is named by the file (``crm.tools.json`` -> ``crm``) or a top-level ``server`` key.

    Raises
    ------
    ImportSourceError
        Listing every problem (a truncated file, a tool without a name, a hint that is not true/false …).
    """
    problems: list[Problem] = []
    out: list[ToolListing] = []
    files = []
    for path in map(Path, paths):  # a folder: every listing in it (what `blastradius probe` writes)
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    for file in files:
        before, found_before = len(problems), len(out)
        _read_listing(file, problems, out)
        _skip_file(problems, before, out, found_before, skipped)
    _raise_if(problems)
    return out


def _read_listing(file: Path, problems: list[Problem], out: list[ToolListing]) -> None:
    data = _read_json(file, problems)
    if data is FAILED:
        return
    server = _server_of_listing(file)
    prefix = "tools"
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data, prefix = data["result"], "result.tools"
    if isinstance(data, dict):
        if isinstance(data.get("server"), str) and data["server"].strip():
            server = data["server"].strip()
        tools = data.get("tools")
    else:
        tools, prefix = data, ""
    if not isinstance(tools, list):
        problems.append(
            Problem(
                file=file,
                path=prefix if isinstance(data, dict) else "",
                message=f"expected a list of tools, got {_kind_of(tools)}",
                hint='save the result of tools/list: {"tools": [{"name": …, "annotations": {…}}]}',
            )
        )
        return
    listed: list[ListedTool] = []
    seen: set[str] = set()
    scrub = Scrubber()
    for i, raw in enumerate(tools):
        key = f"{prefix}[{i}]"
        if not isinstance(raw, dict):
            problems.append(Problem(file=file, path=key, message=f"expected a tool (a mapping), got {_kind_of(raw)}"))
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(file=file, path=f"{key}.name", message="every tool needs a name (text)"))
            continue
        if name in seen:
            problems.append(Problem(file=file, path=f"{key}.name", message=f"tool '{name}' listed twice"))
            continue
        seen.add(name)
        description = raw.get("description")
        if description is not None and not isinstance(description, str):
            problems.append(
                Problem(file=file, path=f"{key}.description", message=f"expected text, got {_kind_of(description)}")
            )
            continue
        annotations = raw.get("annotations") or {}
        if not isinstance(annotations, dict):
            problems.append(
                Problem(
                    file=file,
                    path=f"{key}.annotations",
                    message=f"expected a mapping of hints, got {_kind_of(annotations)}",
                )
            )
            continue
        bad = [h for h in _HINTS if h in annotations and not isinstance(annotations[h], bool)]
        for h in bad:
            problems.append(
                Problem(
                    file=file,
                    path=f"{key}.annotations.{h}",
                    message=f"expected true or false, got {annotations[h]!r}",
                    hint="MCP hints are booleans; remove it to use the MCP default",
                )
            )
        if bad:
            continue
        schema = raw.get("inputSchema") or {}
        if not isinstance(schema, dict):
            problems.append(
                Problem(
                    file=file,
                    path=f"{key}.inputSchema",
                    message=f"expected a JSON Schema object, got {_kind_of(schema)}",
                )
            )
            continue
        if description:
            description = scrub.text(description, where=f"{key}.description", free=True)
        listed.append(
            ListedTool(
                name=name.strip(), description=description, annotations=annotations, input_schema=schema, key=key
            )
        )
    out.append(ToolListing(server=server, tools=tuple(listed), file=file, credentials=scrub.replacements))


# ---------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------

_STATES = {
    "allow": "allow",
    "always allow": "allow",
    "always_allow": "allow",
    "allowed": "allow",
    "auto": "allow",
    "ask": "ask",
    "needs approval": "ask",
    "needs_approval": "ask",
    "approval": "ask",
    "confirm": "ask",
    "deny": "deny",
    "blocked": "deny",
    "block": "deny",
    "never": "deny",
    "disabled": "deny",
}


def _parse_rule(rule: str) -> tuple[str, str | None] | None:
    """``mcp__crm__delete_*`` -> ('crm', 'delete_*'); ``mcp__crm`` -> ('crm', None); other rules -> None."""
    if not rule.startswith("mcp__"):
        return None
    rest = rule[len("mcp__") :]
    server, sep, tool = rest.partition("__")
    if not server:
        return None
    return server, (tool if sep and tool else None)


def read_permissions(paths: list[Path]) -> tuple[list[PermissionRule], int]:
    """Permission rules over MCP tools, and how many rules were not about MCP tools (ignored).

    Shapes: Claude Code settings (``permissions.allow`` / ``ask`` / ``deny``, lists of
    ``mcp__SERVER``, ``mcp__SERVER__*`` or ``mcp__SERVER__TOOL`` with ``*`` wildcards)
    and per-tool states (``toolPermissions: {SERVER: {TOOL or "*": "always allow" |
    "needs approval" | "blocked"}}``).

    Raises
    ------
    ImportSourceError
        Listing every problem, each naming its file.
    """
    problems: list[Problem] = []
    rules: list[PermissionRule] = []
    ignored = 0
    for file in map(Path, paths):
        data = _read_json(file, problems, jsonc=True)
        if data is FAILED:
            continue
        if not isinstance(data, dict) or not ({"permissions", "toolPermissions"} & set(data)):
            problems.append(
                Problem(
                    file=file,
                    path="",
                    message="no permission settings found: expected 'permissions' or 'toolPermissions'",
                    hint='e.g. {"permissions": {"allow": ["mcp__crm__search_contacts"], '
                    '"deny": ["mcp__crm__delete_*"]}}',
                )
            )
            continue
        perms = data.get("permissions")
        if perms is not None:
            if not isinstance(perms, dict):
                problems.append(
                    Problem(
                        file=file,
                        path="permissions",
                        message=f"expected a mapping with allow/ask/deny, got {_kind_of(perms)}",
                    )
                )
                perms = {}
            for state in ("allow", "ask", "deny"):
                items = perms.get(state, [])
                if not isinstance(items, list):
                    problems.append(
                        Problem(
                            file=file,
                            path=f"permissions.{state}",
                            message=f"expected a list of rules, got {_kind_of(items)}",
                        )
                    )
                    continue
                for i, item in enumerate(items):
                    if not isinstance(item, str):
                        problems.append(
                            Problem(
                                file=file,
                                path=f"permissions.{state}[{i}]",
                                message=f"expected a rule (text), got {_kind_of(item)}",
                            )
                        )
                        continue
                    parsed = _parse_rule(item.strip())
                    if parsed is None:
                        ignored += 1
                        continue
                    rules.append(
                        PermissionRule(
                            state=state,
                            server=parsed[0],
                            tool=parsed[1],
                            rule=item.strip(),
                            file=file,
                            key=f"permissions.{state}[{i}]",
                        )
                    )
        states = data.get("toolPermissions")
        if states is not None:
            if not isinstance(states, dict):
                problems.append(
                    Problem(
                        file=file,
                        path="toolPermissions",
                        message=f"expected a mapping server -> tool -> state, got {_kind_of(states)}",
                    )
                )
                continue
            for server, tools in states.items():
                if not isinstance(tools, dict):
                    problems.append(
                        Problem(
                            file=file,
                            path=_key("toolPermissions", server),
                            message=f"expected a mapping tool -> state, got {_kind_of(tools)}",
                        )
                    )
                    continue
                for tool, state in tools.items():
                    key = _key("toolPermissions", server, tool)
                    norm = _STATES.get(str(state).strip().lower()) if isinstance(state, str) else None
                    if norm is None:
                        problems.append(
                            Problem(
                                file=file,
                                path=key,
                                message=f"unknown permission state {state!r}",
                                hint="use 'always allow', 'needs approval' or 'blocked'",
                            )
                        )
                        continue
                    rules.append(
                        PermissionRule(
                            state=norm,
                            server=str(server),
                            tool=None if tool == "*" else str(tool),
                            rule=f"{server}.{tool}: {state}",
                            file=file,
                            key=key,
                        )
                    )
    _raise_if(problems)
    return rules, ignored
