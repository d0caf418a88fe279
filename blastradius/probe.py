"""Capture what live MCP servers offer: their ``tools/list``, annotations included, as files an import reads.

:func:`probe_servers` starts (stdio) or connects to (streamable HTTP, SSE) every
server that an MCP client config, a ``.mcp.json`` or a plugin folder names,
asks each for its tools with the official MCP Python SDK (the ``probe`` extra),
and writes one ``SERVER.tools.json`` per server that answered, in the shape
``blastradius import mcp-tools`` reads. Each server has its own timeout; one
that fails (a command not found, a URL that does not answer, credentials
missing or refused, no answer in time) gets one line saying why and does not
stop the others.

Secrets stay where they are. The configs are read through the importers'
scrubber, so every credential is a ``${NAME}`` placeholder; the probe fills
placeholders from the environment when it starts or calls a server and writes
no value anywhere: a value a server echoes back in a tool description is
replaced by its placeholder before the file is written.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastradius.errors import BlastRadiusError, Problem
from blastradius.importers.draft import draft_id
from blastradius.importers.errors import ImportSourceError
from blastradius.importers.secrets import scrub_text
from blastradius.importers.sources import PluginSource, ServerSource, read_mcp_configs, read_plugin_sources
from blastradius.importers.writer import existing_inventory_files

__all__ = [
    "DEFAULT_TIMEOUT",
    "PROBE_MARK",
    "ProbeResult",
    "probe_lines",
    "probe_servers",
    "servers_to_probe",
]

#: Seconds each server has to start (or connect), answer ``initialize`` and list its tools.
DEFAULT_TIMEOUT = 30.0
#: The key that marks a file this command wrote: only such a file is ever replaced.
PROBE_MARK = "captured_by"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MAX_PAGES = 100  # tools/list pages followed per server (a server that pages forever is cut off)


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """What probing one server gave.

    Attributes
    ----------
    server : str
        Its name in the config.
    source : Path
        The config (or plugin file) that names it.
    ok : bool
        It answered and its tools were written.
    message : str
        One line: how many tools were captured, or why it failed and what to do.
    file : Path or None
        The listing written.
    tools : int
        Tools captured.
    """

    server: str
    source: Path
    ok: bool
    message: str
    file: Path | None = None
    tools: int = 0


def servers_to_probe(paths: Sequence[str | Path]) -> list[tuple[ServerSource, PluginSource]]:
    """The servers named by client configs, ``.mcp.json`` files and plugin folders (or marketplaces), once each.

    A path that is a plugin folder or marketplace is read as plugins, any other as an
    MCP client config. A server named twice (by name and command or URL) is probed once.

    Raises
    ------
    ImportSourceError
        When a path cannot be read (every problem, each naming its file).
    """
    found: list[tuple[ServerSource, PluginSource]] = []
    for path in map(Path, paths):
        plugin_like = path.is_dir() and (
            (path / ".claude-plugin").is_dir() or any(path.glob("*/.claude-plugin/plugin.json"))
        )
        plugin_like = plugin_like or path.name in ("plugin.json", "marketplace.json")
        sources = read_plugin_sources([path]) if plugin_like else read_mcp_configs([path])
        for source in sources:
            found.extend((server, source) for server in source.servers)
    seen: set[tuple[str, str]] = set()
    out = []
    for server, source in found:
        key = (server.name, server.url or " ".join(server.command))
        if key not in seen:
            seen.add(key)
            out.append((server, source))
    return out


def _fill(text: str, env: Mapping[str, str], missing: list[str], secrets: dict[str, str]) -> str:
    """``text`` with each ``${NAME}`` (or ``${NAME:-default}``) from ``env``; names not set go to ``missing``."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            value = env[name]
        elif default is not None:
            value = default
        else:
            missing.append(name)
            return match.group(0)
        if value:
            secrets[value] = match.group(0)
        return value

    return _PLACEHOLDER.sub(one, text)


def _root_cause(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe_failure(exc: BaseException, server: ServerSource, status: list[int], stderr: str, timeout: float) -> str:
    """One line saying why a server could not be listed and what to do about it."""
    cause = _root_cause(exc)
    name = type(cause).__name__
    if isinstance(cause, TimeoutError):
        return f"no answer within {timeout:g} s (raise --timeout if it starts slowly)"
    if status and status[-1] in (401, 403):
        names = sorted({m.group(1) for v in server.headers.values() for m in _PLACEHOLDER.finditer(v)})
        how = (
            "it signs in with OAuth, which a probe cannot do: save its tools/list from a client that is signed in"
            if server.oauth
            else f"check {', '.join(names)} in the environment (header {', '.join(server.header_names)})"
            if names
            else "its config sends no credentials: add the header it needs, with a ${NAME} taken from the environment"
        )
        return f"authentication needed (HTTP {status[-1]}): {how}"
    if status and status[-1] >= 400:
        return f"the server answered HTTP {status[-1]}: check its URL"
    if isinstance(cause, FileNotFoundError):
        return f"cannot start: command '{server.command[0] if server.command else '?'}' not found on PATH"
    if isinstance(cause, PermissionError):
        return f"cannot start: permission denied for '{server.command[0] if server.command else '?'}'"
    if "Connect" in name or isinstance(cause, ConnectionError):
        return f"unreachable: nothing answers at {server.url}"
    if (
        "Closed" in name
        or "EndOfStream" in name
        or "BrokenResource" in name
        or "connection closed" in str(cause).lower()
    ):
        last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
        return "the server stopped before answering" + (f" (its last output: {last.strip()[:200]})" if last else "")
    text = str(cause).strip().splitlines()[0][:200] if str(cause).strip() else name
    return f"failed: {text}"


async def _list_tools(
    server: ServerSource, env: Mapping[str, str], timeout: float
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The tools of one server (raw dicts as the server sent them), and the secret values used (value -> placeholder).

    Raises what the transport raises; :class:`LookupError` naming the variables not set.
    """
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.sse import sse_client
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    missing: list[str] = []
    secrets: dict[str, str] = {}
    status: list[int] = []
    stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    try:
        if server.transport == "stdio":
            command = [_fill(w, env, missing, secrets) for w in server.command]
            server_env = {k: _fill(v, env, missing, secrets) for k, v in server.env.items()}
            if missing:
                raise LookupError(sorted(set(missing)))
            params = StdioServerParameters(command=command[0], args=command[1:], env=server_env or None)
            client = Client(stdio_client(params, errlog=stderr_file), read_timeout_seconds=timeout)
            http = None
        else:
            if not server.url:
                raise LookupError([])
            url = _fill(server.url, env, missing, secrets)
            headers = {k: _fill(v, env, missing, secrets) for k, v in server.headers.items()}
            if missing:
                raise LookupError(sorted(set(missing)))

            async def remember(response: Any) -> None:
                status.append(response.status_code)

            http = httpx2.AsyncClient(
                headers=headers, timeout=httpx2.Timeout(timeout), event_hooks={"response": [remember]}
            )
            if server.transport == "sse":
                transport: Any = sse_client(url, headers=headers, timeout=timeout)
            else:
                transport = streamable_http_client(url, http_client=http)
            client = Client(transport, read_timeout_seconds=timeout)
        tools: list[dict[str, Any]] = []
        try:
            with anyio.fail_after(timeout):
                async with client:
                    cursor = None
                    for _ in range(_MAX_PAGES):
                        page = await client.list_tools(cursor=cursor)
                        tools.extend(t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools)
                        cursor = page.next_cursor
                        if not cursor:
                            break
        except BaseException as exc:
            stderr_file.seek(0)
            exc.add_note(_describe_failure(exc, server, status, stderr_file.read()[-4000:], timeout))
            raise
        finally:
            if http is not None:
                await http.aclose()
        return tools, secrets
    finally:
        stderr_file.close()


def _written_by_probe(file: Path) -> bool:
    """Whether ``file`` is a listing this command wrote (it carries :data:`PROBE_MARK`)."""
    if not file.name.endswith(".tools.json"):
        return False
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and PROBE_MARK in data


def _check_target(out: Path, server: ServerSource) -> Path:
    """The file a server's listing goes to; :class:`FileExistsError` when a file not written by the probe is there."""
    file = out / f"{draft_id(server.name, 'server')}.tools.json"
    if file.exists() and not _written_by_probe(file):
        raise FileExistsError(f"{file} exists and was not written by blastradius probe; it is left as it is")
    return file


def _write_listing(
    out: Path, server: ServerSource, source: PluginSource, tools: list[dict[str, Any]], secrets: Mapping[str, str]
) -> Path:
    file = _check_target(out, server)
    data = {
        "server": server.name,
        PROBE_MARK: "blastradius probe",
        "source": str(source.file),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tools": tools,
    }
    text = json.dumps(data, indent=1, ensure_ascii=False)
    for value in sorted(secrets, key=len, reverse=True):  # a value a server echoes back is never written
        text = text.replace(json.dumps(value)[1:-1], secrets[value])
    file.write_text(text + "\n", encoding="utf-8")
    return file


def probe_servers(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    only: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    progress: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Capture the ``tools/list`` of every server the configs name, one ``SERVER.tools.json`` each in ``out``.

    Parameters
    ----------
    paths : sequence of str or Path
        MCP client configs (``claude_desktop_config.json``, ``.mcp.json``, ``.vscode/mcp.json`` …),
        plugin folders or marketplaces.
    out : str or Path
        The folder to write the listings to (created if needed); never an inventory.
    timeout : float
        Seconds each server has to start, answer and list its tools.
    only : sequence of str
        Probe only the servers of these names.
    env : mapping, optional
        Where ``${NAME}`` placeholders are filled from; the process environment by default.
    progress : callable, optional
        Called with each result as it is known.

    Returns
    -------
    list of ProbeResult
        One per server, in the order the configs name them.

    Raises
    ------
    BlastRadiusError
        When the MCP SDK is not installed (the ``probe`` extra), ``timeout`` is not positive,
        ``out`` holds an inventory, or a config cannot be read (:class:`ImportSourceError`).
    """
    try:
        import anyio
        import mcp  # noqa: F401
    except ImportError:
        raise BlastRadiusError(
            "blastradius probe needs the MCP Python SDK, which is not installed: pip install 'blastradius[probe]'"
        ) from None
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise BlastRadiusError(f"the timeout must be a positive number of seconds, got {timeout!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ImportSourceError([Problem(file=out, path="", message="the output must be a directory")])
    if [f for f in existing_inventory_files(out) if not f.name.endswith(".tools.json")]:
        raise ImportSourceError(
            [
                Problem(
                    file=out,
                    path="",
                    message="holds an inventory: tool listings written there would be read as part of it",
                    hint="write them to a folder of their own, e.g. inventories/draft-tools",
                )
            ]
        )
    servers = servers_to_probe(paths)
    if only:
        unknown = sorted(set(only) - {s.name for s, _ in servers})
        if unknown:
            raise ImportSourceError(
                [
                    Problem(
                        file=None,
                        path="",
                        message=f"no server named {', '.join(repr(u) for u in unknown)} in the configs",
                        hint="servers found: " + (", ".join(sorted({s.name for s, _ in servers})) or "none"),
                    )
                ]
            )
        servers = [(s, p) for s, p in servers if s.name in only]
    environment = dict(os.environ if env is None else env)
    out.mkdir(parents=True, exist_ok=True)
    results: list[ProbeResult | None] = [None] * len(servers)

    async def one(i: int, server: ServerSource, source: PluginSource, limiter: Any) -> None:
        async with limiter:
            try:
                _check_target(out, server)  # before starting anything: a listing saved by hand stays
                own = dict(environment)
                if source.folder is not None and not source.client:  # what Claude Code sets for a plugin's servers
                    own.setdefault("CLAUDE_PLUGIN_ROOT", str(source.folder.resolve()))
                tools, secrets = await _list_tools(server, own, timeout)
                file = _write_listing(out, server, source, tools, secrets)
                result = ProbeResult(
                    server=server.name,
                    source=server.file,
                    ok=True,
                    message=f"{len(tools):,} tool{'s' if len(tools) != 1 else ''} captured",
                    file=file,
                    tools=len(tools),
                )
            except LookupError as exc:
                names = exc.args[0] if exc.args else []
                message = (
                    "set "
                    + ", ".join(names)
                    + " in the environment: its config takes "
                    + ("them" if len(names) != 1 else "it")
                    + " from there"
                    if names
                    else 'no URL configured yet ("url": "")'
                )
                result = ProbeResult(server=server.name, source=server.file, ok=False, message=message)
            except FileExistsError as exc:
                result = ProbeResult(server=server.name, source=server.file, ok=False, message=str(exc))
            except Exception as exc:  # any failure of one server is that server's line, not the end of the others
                notes = getattr(exc, "__notes__", None) or [f"failed: {type(_root_cause(exc)).__name__}"]
                message = scrub_text(notes[-1], free=True)[0]
                for value, placeholder in _secrets_of(server, environment).items():
                    message = message.replace(value, placeholder)
                result = ProbeResult(server=server.name, source=server.file, ok=False, message=message)
            results[i] = result
            if progress is not None:
                progress(result)

    async def main() -> None:
        limiter = anyio.CapacityLimiter(4)
        async with anyio.create_task_group() as group:
            for i, (server, source) in enumerate(servers):
                group.start_soon(one, i, server, source, limiter)

    anyio.run(main)
    return [r for r in results if r is not None]


def _secrets_of(server: ServerSource, env: Mapping[str, str]) -> dict[str, str]:
    """The values a server's placeholders take in ``env`` (value -> placeholder), to keep them out of messages."""
    secrets: dict[str, str] = {}
    texts = [*server.command, *(server.env.values()), *(server.headers.values()), server.url or ""]
    for text in texts:
        _fill(text, env, [], secrets)
    return secrets


def probe_lines(results: Sequence[ProbeResult], out: str | Path) -> list[str]:
    """What a command line prints: one line per server, then how to import what was captured.

    Examples
    --------
    >>> r = ProbeResult(
    ...     server="crm",
    ...     source=Path(".mcp.json"),
    ...     ok=True,
    ...     message="2 tools captured",
    ...     file=Path("tools/crm.tools.json"),
    ...     tools=2,
    ... )
    >>> print("\\n".join(probe_lines([r], "tools")))
      ok      crm: 2 tools captured (tools/crm.tools.json)
    <BLANKLINE>
    1 of 1 server captured; next: blastradius import mcp-tools tools --out DRAFT --merge
    """
    lines = []
    width = max((len(r.server) for r in results), default=0)
    for r in results:
        where = f" ({r.file})" if r.file else f" ({r.source})"
        lines.append(f"  {'ok' if r.ok else 'FAILED':<6}  {r.server + ':':<{width + 1}} {r.message}{where}")
    captured = sum(r.ok for r in results)
    lines.append("")
    if not results:
        lines.append("no MCP server found in the configs")
    else:
        lines.append(
            f"{captured:,} of {len(results):,} server{'s' if len(results) != 1 else ''} captured"
            + (f"; next: blastradius import mcp-tools {out} --out DRAFT --merge" if captured else "")
        )
    return lines
