"""Which plugin, connector and tool of the inventory a logged call is: MCP names as the platform writes them.

Claude Code names an MCP tool ``mcp__<server>__<tool>``, and a tool of a server
a plugin bundles ``mcp__plugin_<plugin>_<server>__<tool>``; characters of a
server name outside ``A-Z a-z 0-9 _ -`` are written as ``_``. Newer builds
write ``tool_name: mcp_tool`` on some events and give the server and the
tool in ``tool_parameters`` (``mcp_server_name``, ``mcp_tool_name``) when
``OTEL_LOG_TOOL_DETAILS=1``. A server is an inventory connector when its
name is the connector's id (as Claude Code writes it) or an alias given in
the log mapping file (``servers:``).

A call the inventory does not allow is *shadow access*: an MCP server no
connector stands for, a tool its connector does not list, or a tool the
plugin is not given or blocks. A call with no plugin named is the plugin's
when exactly one plugin of the inventory can make it; otherwise it counts
for its connector and tool only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from blastradius.model import Connector, Inventory, Plugin, Tool
from blastradius.reach import ToolStatus, tool_status

__all__ = ["Match", "Matcher", "mcp_name", "split_mcp_name"]

_SERVER_CHARS = re.compile(r"[^A-Za-z0-9_-]")

#: What a call is, once matched: the reason it is not the inventory's, if it is not.
Outcome = (
    str  # "ok", "builtin", "unattributed-mcp", "unknown-server", "unknown-tool", "not-given", "blocked", "unreadable"
)


def mcp_name(name: str) -> str:
    """A server or plugin name as Claude Code writes it inside a tool name.

    Examples
    --------
    >>> mcp_name("finance warehouse.v2")
    'finance_warehouse_v2'
    """
    return _SERVER_CHARS.sub("_", name)


def split_mcp_name(name: str) -> tuple[str, str] | None:
    """``(server, tool)`` of ``mcp__<server>__<tool>``, the server still plugin-scoped (``plugin_<p>_<s>``).

    Examples
    --------
    >>> split_mcp_name("mcp__crm__search_accounts")
    ('crm', 'search_accounts')
    >>> split_mcp_name("mcp__plugin_sales-assist_crm__update")
    ('plugin_sales-assist_crm', 'update')
    >>> split_mcp_name("Read") is None
    True
    """
    if not name.startswith("mcp__"):
        return None
    server, sep, tool = name[5:].partition("__")
    if not sep or not server or not tool:
        return None
    return server, tool


@dataclass(frozen=True, kw_only=True, slots=True)
class Match:
    """A logged call as the inventory sees it."""

    outcome: Outcome
    server: str | None = None  # the MCP server as logged
    tool_name: str | None = None  # the tool as logged
    plugin: str | None = None  # the inventory plugin, when known
    connector: str | None = None
    tool: str | None = None
    status: ToolStatus | None = None  # the tool's status for the plugin: gated, ungated ...
    reason: str = ""


class Matcher:
    """Matches logged calls to an inventory (results cached: a month of logs names few distinct tools)."""

    def __init__(
        self,
        inventory: Inventory,
        *,
        servers: Mapping[str, str] | None = None,
        plugins: Mapping[str, str] | None = None,
    ):
        self.inventory = inventory
        self._servers = {mcp_name(c.id): c.id for c in inventory.connectors}
        self._servers.update({c.id: c.id for c in inventory.connectors})
        self._servers.update(servers or {})
        self._plugins = {mcp_name(p.id): p.id for p in inventory.plugins}
        self._plugins.update({p.id: p.id for p in inventory.plugins})
        self._plugins.update(plugins or {})
        self._users: dict[tuple[str, str], tuple[str, ...]] = {}
        for p in inventory.plugins:
            for pc in p.connectors:
                conn = inventory.connector_by_id.get(pc.connector)
                for t in conn.tools if conn is not None else ():
                    self._users.setdefault((conn.id, t.name), ())  # type: ignore[union-attr]
                    self._users[(conn.id, t.name)] += (p.id,)  # type: ignore[union-attr]
        self.match = lru_cache(maxsize=65_536)(self._match)

    def _server(self, scoped: str) -> tuple[str | None, str | None, str]:
        """``(plugin id, connector id, server as logged)`` of a server name, plugin-scoped or not."""
        if scoped.startswith("plugin:") and scoped.count(":") == 2:  # a plugin's server as `/mcp` lists it
            _, plugin, server = scoped.split(":")
            return (
                self._plugins.get(plugin) or self._plugins.get(mcp_name(plugin)),
                self._servers.get(server) or self._servers.get(mcp_name(server)),
                server,
            )
        if scoped.startswith("plugin_"):
            rest = scoped[len("plugin_") :]
            # plugin and server names may hold '_' themselves: try every split, a known pair first
            splits = [(rest[:i], rest[i + 1 :]) for i in range(len(rest)) if rest[i] == "_"]
            for plugin, server in splits:
                if plugin in self._plugins and server in self._servers:
                    return self._plugins[plugin], self._servers[server], server
            for plugin, server in splits:
                if plugin in self._plugins:
                    return self._plugins[plugin], None, server
            for _, server in splits:
                if server in self._servers:
                    return None, self._servers[server], server
            return None, None, splits[0][1] if splits else rest
        return None, self._servers.get(scoped) or self._servers.get(mcp_name(scoped)), scoped

    def _match(
        self,
        tool_name: str | None,
        server: str | None,
        tool: str | None,
        plugin: str | None,
        connector: str | None,
    ) -> Match:
        inv = self.inventory
        plugin_id = self._plugins.get(plugin) if plugin and plugin not in ("third-party", "custom") else None
        conn_id: str | None = None
        logged_server = server
        if connector:  # an audit log names the connector itself
            conn_id = self._servers.get(connector, connector if connector in inv.connector_by_id else None)
            logged_server = connector
            tool = tool or tool_name
        elif server:
            scoped_plugin, conn_id, logged_server = self._server(server)
            named = split_mcp_name(tool_name) if tool_name else None
            if named is not None and scoped_plugin is None:  # the tool name may scope it to a plugin
                scoped_plugin, named_conn, _ = self._server(named[0])
                conn_id = conn_id or named_conn
            plugin_id = plugin_id or scoped_plugin
        elif tool_name:
            parts = split_mcp_name(tool_name)
            if parts is None:
                if tool_name == "mcp_tool":
                    return Match(
                        outcome="unattributed-mcp",
                        tool_name=tool_name,
                        reason="an MCP call with no server name: set OTEL_LOG_TOOL_DETAILS=1",
                    )
                return Match(outcome="builtin", tool_name=tool_name, reason="a built-in tool, not a connector's")
            scoped_plugin, conn_id, logged_server = self._server(parts[0])
            plugin_id = plugin_id or scoped_plugin
            tool = tool or parts[1]
        else:
            return Match(outcome="unreadable", reason="no tool name")
        if conn_id is None:
            return Match(
                outcome="unknown-server",
                server=logged_server,
                tool_name=tool,
                plugin=plugin_id,
                reason=f"MCP server '{logged_server}' is no connector of the inventory",
            )
        conn: Connector = inv.connector_by_id[conn_id]
        found: Tool | None = conn.tool(tool) if tool else None
        if found is None:
            return Match(
                outcome="unknown-tool",
                server=logged_server,
                tool_name=tool,
                plugin=plugin_id,
                connector=conn_id,
                reason=f"connector '{conn_id}' lists no tool '{tool}'",
            )
        if plugin_id is None:
            users = self._users.get((conn_id, found.name), ())
            if len(users) == 1:
                plugin_id = users[0]
            else:
                return Match(outcome="ok", server=logged_server, tool_name=tool, connector=conn_id, tool=found.name)
        p: Plugin = inv.plugin_by_id[plugin_id]
        if conn_id not in p.connector_ids:
            return Match(
                outcome="not-given",
                server=logged_server,
                tool_name=tool,
                plugin=plugin_id,
                connector=conn_id,
                tool=found.name,
                reason=f"plugin '{plugin_id}' is not given connector '{conn_id}'",
            )
        status, why = tool_status(p, conn, found)
        if status is ToolStatus.BLOCKED:
            outcome = "not-given" if "is not given" in why else "blocked"
            return Match(
                outcome=outcome,
                server=logged_server,
                tool_name=tool,
                plugin=plugin_id,
                connector=conn_id,
                tool=found.name,
                status=status,
                reason=why,
            )
        if status is ToolStatus.UNUSABLE:
            return Match(
                outcome="blocked",
                server=logged_server,
                tool_name=tool,
                plugin=plugin_id,
                connector=conn_id,
                tool=found.name,
                status=status,
                reason=f"{why}, yet the write tool '{found.name}' ran",
            )
        return Match(
            outcome="ok",
            server=logged_server,
            tool_name=tool,
            plugin=plugin_id,
            connector=conn_id,
            tool=found.name,
            status=status,
            reason=why,
        )
