"""Turn what the readers found into draft inventory records, each inference with its reason.

The draft is plain data in the inventory format (``docs/inventory-format.md``):
records by kind and id, comments to write above them, and an import log of
inferences, of the credentials replaced by placeholders (where, never what) and
of what only the analyst can fill in. It is kept between imports
(in the output directory's ``.blastradius-import/state.json``) so that a tool
listing or permission settings imported later refine the same draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blastradius.importers.actions import classify_tool
from blastradius.importers.catalog import ConnectorCatalog, match_server, words
from blastradius.importers.secrets import Replacement, describe_replacements
from blastradius.importers.sources import (
    PermissionRule,
    PluginSource,
    ServerSource,
    ToolListing,
)
from blastradius.model import ActionClass

__all__ = ["TODO_GROUPS", "UNASSIGNED_TEAM", "Draft", "Inference", "TodoItem", "draft_id"]

#: Owner of every imported plugin until the analyst names the real team.
UNASSIGNED_TEAM = "unassigned"
#: The system built-in tools and hooks reach: the machine of whoever runs the plugin.
WORKSTATION = "workstation"
KINDS = ("teams", "systems", "connectors", "plugins")
_PEOPLE_ACTIONS = {ActionClass.SEND.value, ActionClass.SHARE.value}


@dataclass(frozen=True, kw_only=True)
class Inference:
    """One thing the importer inferred rather than read, for the analyst to check.

    Attributes
    ----------
    subject : str
        What it is about: ``connector:crm``, ``tool:crm.delete_contact``, ``plugin:revenue-ops``.
    field : str
        The inventory field it sets (``action``, ``tools``, ``requires_approval`` …).
    value : Any
        The value set.
    reason : str
        Why, in words.
    source : str
        The file it comes from.
    """

    subject: str
    field: str
    value: Any
    reason: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
            "source": self.source,
        }


#: The groups of the TODO list, in the order that matters: what makes figures non-zero first.
TODO_GROUPS: Mapping[str, str] = {
    "figures": "Make the figures non-zero: who runs the plugins",
    "reach": "Size what they reach",
    "tools": "Replace stand-in tools with the servers' real ones",
    "scope": "Record the controls that exist",
    "remote": "Plugins not imported (remote sources)",
    "skipped": "Left out because of a problem: fix and import again",
    "check": "Check",
}


@dataclass(frozen=True, kw_only=True)
class TodoItem:
    """One thing the analyst must fill in, and the group of :data:`TODO_GROUPS` it belongs to."""

    group: str
    text: str


def _count(items: Sequence[str], noun: str) -> str:
    return f"{len(items):,} {noun}{'s' if len(items) != 1 else ''}"


def _names(items: Sequence[str], limit: int = 8) -> str:
    """The first ``limit`` names and how many more."""
    shown = ", ".join(items[:limit])
    return shown + (f" (and {len(items) - limit:,} more)" if len(items) > limit else "")


def draft_id(name: str, fallback: str = "item") -> str:
    """A valid inventory id for a name from a config.

    Examples
    --------
    >>> draft_id("google drive")
    'google-drive'
    >>> draft_id("Ünïcode & Co")
    'n-code-co'
    """
    slug = words(name)[:128].strip("-")
    return slug or fallback


def _one_line(text: str | None, limit: int = 400) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(kw_only=True)
class Draft:
    """Draft records by kind and id, with comments, connector facts and the import log.

    Built up by :meth:`add_plugins`, :meth:`add_tool_listings` and
    :meth:`apply_permissions`, completed by :meth:`finish`; stored between
    imports with :meth:`to_state` / :meth:`from_state`.
    """

    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {k: {} for k in KINDS})
    #: "kind:id" -> comment lines above the record; "tool:conn.name" -> comment above a tool
    comments: dict[str, list[str]] = field(default_factory=dict)
    #: connector id -> facts the importer keeps (tools_from, aliases, url host, categories, users)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    inferences: list[Inference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: credentials replaced by placeholders, one entry per server or file: where they were, never what
    credentials: list[dict[str, Any]] = field(default_factory=list)
    #: the entries of ``credentials`` this import added (not stored between imports)
    replaced_now: list[dict[str, Any]] = field(default_factory=list)
    #: marketplace entries from remote sources, not imported: name -> "source @ commit"
    remote: dict[str, str] = field(default_factory=dict)

    # -- storage -------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "comments": self.comments,
            "facts": self.facts,
            "inferences": [i.as_dict() for i in self.inferences],
            "notes": self.notes,
            "credentials": self.credentials,
            "remote": self.remote,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> Draft:
        if not state:
            return cls()
        records = {k: dict(state.get("records", {}).get(k, {})) for k in KINDS}
        return cls(
            records=records,
            comments={k: list(v) for k, v in state.get("comments", {}).items()},
            facts={k: dict(v) for k, v in state.get("facts", {}).items()},
            inferences=[Inference(**i) for i in state.get("inferences", [])],
            notes=list(state.get("notes", [])),
            credentials=[dict(c) for c in state.get("credentials", [])],
            remote=dict(state.get("remote", {})),
        )

    def infer(self, subject: str, field_: str, value: Any, reason: str, source: Path | str) -> None:
        self.inferences = [i for i in self.inferences if not (i.subject == subject and i.field == field_)]
        self.inferences.append(Inference(subject=subject, field=field_, value=value, reason=reason, source=str(source)))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def record_credentials(
        self, subject: str, replacements: Sequence[Replacement], source: Path | str, key: str = ""
    ) -> None:
        """Log that ``subject``'s credentials were replaced by placeholders: where and what kind, never the value.

        Examples
        --------
        >>> d = Draft()
        >>> d.record_credentials(
        ...     "server 'crm'",
        ...     [Replacement(where="args[3]", what="value of --token", placeholder="${TOKEN}")],
        ...     "a.json",
        ... )
        >>> [c["message"] for c in d.replaced_now]
        ["replaced 1 credential in server 'crm' (a.json) with placeholders: args[3] (value of --token → ${TOKEN})"]
        """
        if not replacements:
            return
        n = len(replacements)
        where = f"{source}: {key}" if key else str(source)
        message = (
            f"replaced {n} credential{'s' if n != 1 else ''} in {subject} ({where}) with placeholders: "
            + describe_replacements(replacements)
        )
        entry = {
            "subject": subject,
            "source": str(source),
            "key": key,
            "count": n,
            "replaced": [{"where": r.where, "what": r.what, "placeholder": r.placeholder} for r in replacements],
            "message": message,
        }
        self.credentials = [
            c for c in self.credentials if (c["subject"], c["source"], c["key"]) != (subject, str(source), key)
        ]
        self.credentials.append(entry)
        self.replaced_now.append(entry)

    # -- plugins and clients -------------------------------------------------

    def add_plugins(self, plugins: Iterable[PluginSource], catalog: ConnectorCatalog) -> None:
        """Each plugin (or MCP client) becomes a plugin, each of its servers a connector shared by name."""
        for source in plugins:
            for text in source.notes:
                self.note(text)
            pid = draft_id(source.name, "plugin")
            if source.remote is not None:  # noted and counted, not imported: it would look harmless with no connectors
                self.remote[source.name] = source.remote
                continue
            self.remote.pop(source.name, None)
            self.record_credentials(
                f"{'MCP client' if source.client else 'plugin'} '{source.name}'", source.credentials, source.file
            )
            connector_ids = []
            for server in source.servers:
                cid = self._add_server(server, pid, source, catalog)
                if cid not in connector_ids:
                    connector_ids.append(cid)
            gated: list[str] = []
            if source.builtin:
                cid, gated = self._add_local_tools(pid, source)
                connector_ids.append(cid)
            record: dict[str, Any] = {"id": pid}
            if source.name != pid:
                record["name"] = source.name
            if source.description:
                record["description"] = _one_line(source.description)
            record["owner"] = UNASSIGNED_TEAM
            record["connectors"] = connector_ids
            if source.skills:
                record["skills"] = [
                    {"name": s.name, "description": _one_line(s.description)} if s.description else s.name
                    for s in source.skills
                ]
            if gated:
                record["requires_approval"] = gated
            old = self.records["plugins"].get(pid)
            if old:  # keep what a permissions import added
                for key in ("requires_approval", "blocked"):
                    if key in old:
                        record[key] = sorted(set(old[key]) | set(record.get(key, [])))
            self.records["plugins"][pid] = record
            what = "MCP client" if source.client else "plugin"
            made = [f"{what} imported from {source.file}" + (f" (version {source.version})" if source.version else "")]
            if source.author:
                made.append(f"author: {source.author}")
            if source.category:
                made.append(f"marketplace category: {source.category}")
            for kind in ("commands", "agents"):
                if getattr(source, kind):
                    made.append(f"{kind}: {_one_line(', '.join(getattr(source, kind)), 200)}")
            self.comments[f"plugins:{pid}"] = [
                "; ".join(made),
                f"TODO: owner (a team id; '{UNASSIGNED_TEAM}' is a placeholder), "
                "users (teams, how many people, runs per day),",
                "      output (internal or external), output_audience, review_tier, kill_switch",
            ]
            self.infer(f"plugin:{pid}", "owner", UNASSIGNED_TEAM, "no config names the team that owns it", source.file)

    def _add_local_tools(self, plugin_id: str, source: PluginSource) -> tuple[str, list[str]]:
        """The built-in tools a plugin pre-approves or uses, and its hooks, as a connector to the user's machine.

        Returns the connector id and the selectors of tools that need a human (used, never pre-approved).
        """
        cid = draft_id(f"{plugin_id}-local", "local")
        tools: dict[str, dict[str, Any]] = {}
        approved: dict[str, bool] = {}
        where: dict[str, list[str]] = {}
        for use in source.builtin:
            tool = builtin_tool(use)
            if tool is None:
                continue
            tools.setdefault(tool["name"], tool)
            approved[tool["name"]] = approved.get(tool["name"], False) or use.approved
            where.setdefault(tool["name"], []).append(use.where)
        if not tools:
            return cid, []
        self.records["connectors"][cid] = {
            "id": cid,
            "name": f"Built-in tools of {source.name}",
            "system": WORKSTATION,
            "access": "read-write",
            "tools": list(tools.values()),
        }
        self.facts[cid] = {
            "tools_from": "plugin",
            "aliases": [],
            "plugins": [plugin_id],
            "categories": [],
            "files": sorted({w.split(": ")[0] for ws in where.values() for w in ws}),
            "classification": "confidential",
        }
        for name, tool in tools.items():
            how = "pre-approved (runs with no human asking)" if approved[name] else "used, not pre-approved (asks)"
            reason = f"{how}: " + "; ".join(where[name])
            self.comments[f"tool:{cid}.{name}"] = [f"{tool['action']}: {reason}"]
            self.infer(f"tool:{cid}.{name}", "action", tool["action"], reason, where[name][0].split(": ")[0])
        if WORKSTATION not in self.records["systems"]:
            self.records["systems"][WORKSTATION] = {
                "id": WORKSTATION,
                "name": "The user's machine (files, shell, network)",
                "kind": "workstation",
                "datasets": [
                    {
                        "id": f"{WORKSTATION}-files",
                        "name": "Files on the user's machine",
                        "classification": "confidential",
                    }
                ],
            }
            self.comments[f"systems:{WORKSTATION}"] = [
                "what built-in tools (Bash, Write, WebFetch) and hooks reach: the machine of whoever runs the plugin.",
                "TODO: the files and repositories a user's machine holds (records left out are unknown, never zero)",
            ]
        return cid, sorted(f"{cid}.{n}" for n in tools if not approved[n])

    def _add_server(self, server: ServerSource, plugin_id: str, source: PluginSource, catalog: ConnectorCatalog) -> str:
        cid = draft_id(server.name, "server")
        if server.url and cid not in self.records["connectors"]:
            address = _server_address(server.url)
            same = sorted(
                c
                for c, f in self.facts.items()
                if c in self.records["connectors"] and f.get("url") and _server_address(f["url"]) == address
            )
            alike = [
                c
                for c in same
                if self.facts[c].get("headers", {}) == dict(server.headers)
                and self.facts[c].get("env", {}) == dict(server.env)
            ]
            if alike:
                self.note(
                    f"server '{server.name}' ({server.file}) has the URL and credentials of connector '{alike[0]}' "
                    f"({address}): imported as that one connector; split it if they are different servers"
                )
                cid = alike[0]
            elif same:
                self.note(
                    f"server '{server.name}' ({server.file}) has the URL of connector '{same[0]}' ({address}) but "
                    "other credentials: kept as a connector of its own (another account may have other access); "
                    "merge them if they are one"
                )
        facts = self.facts.setdefault(
            cid, {"tools_from": None, "aliases": [], "plugins": [], "categories": [], "files": []}
        )
        if server.name not in facts["aliases"]:
            facts["aliases"].append(server.name)
        if plugin_id not in facts["plugins"]:
            facts["plugins"].append(plugin_id)
        category = source.categories.get(server.name)
        if category and category not in facts["categories"]:
            facts["categories"].append(category)
        if str(server.file) not in facts["files"]:
            facts["files"].append(str(server.file))
        if server.url and facts.get("url") and _server_address(facts["url"]) != _server_address(server.url):
            self.note(
                f"server '{server.name}' has URL {server.url} in {server.file} but {facts['url']} elsewhere: "
                f"connector '{cid}' keeps the first; split it into two connectors if they are different servers"
            )
        if server.url and not facts.get("url"):
            facts["url"] = server.url
            facts["url_host"] = server.url_host
        facts.setdefault("transport", server.transport)
        if server.transport == "stdio":
            facts["command"] = list(server.command)
        for key, values in (("env", server.env), ("headers", server.headers)):
            facts[key] = {**values, **facts.get(key, {})}  # the first config to name a variable wins
            facts.pop(f"{key.rstrip('s')}_names", None)  # the names-only form of earlier drafts
        facts["oauth"] = facts.get("oauth", False) or server.oauth
        self.record_credentials(f"server '{server.name}'", server.credentials, server.file, server.key)
        if cid in self.records["connectors"]:
            return cid
        packages = [w for w in server.command if "${" not in w]  # a placeholder's name is not a package
        match = match_server(catalog, name=server.name, url_host=server.url_host, packages=packages)
        record: dict[str, Any] = {
            "id": cid,
            "name": match.entry.name if match and draft_id(server.name) == match.entry.id else server.name,
        }
        record["system"] = cid
        record["access"] = "read-write"
        self.infer(
            f"connector:{cid}",
            "access",
            "read-write",
            "no config states what the server's credentials allow: read-write assumed (conservative); "
            "set read-only if they only read",
            server.file,
        )
        if match:
            facts["catalog"] = match.entry.id
            facts["tools_from"] = "catalog"
            facts["kind"] = match.entry.category
            facts["classification"] = match.entry.classification.value
            facts["people"] = match.entry.people.value if match.entry.people else None
            if match.entry.leaves_org:
                record["leaves_org"] = True
            record["tools"] = [t.model_dump(mode="json", exclude_defaults=True) for t in match.entry.tools]
            self.infer(
                f"connector:{cid}",
                "tools",
                [t.name for t in match.entry.tools],
                f"typical tools of {match.reason}; import its tool listing to replace them",
                server.file,
            )
        else:
            facts["tools_from"] = "unknown"
            record["tools"] = [_unknown_tool(server.name)]
            self.infer(
                f"connector:{cid}",
                "tools",
                ["unknown_tools"],
                "no tool listing and not in the connector catalog: what its tools do is unknown",
                server.file,
            )
        self.records["connectors"][cid] = record
        return cid

    # -- tool listings -------------------------------------------------------

    def _find_connector(self, server: str) -> tuple[str | None, str]:
        cid = draft_id(server, "server")
        if cid in self.records["connectors"]:
            return cid, f"its file names connector '{cid}'"
        key = words(server)
        hits = []
        for other, facts in self.facts.items():
            if not facts.get("plugins"):  # a connector of another listing names a server of its own
                continue
            haystacks = [words(a) for a in facts.get("aliases", [])] + [words(facts.get("url_host") or "")]
            haystacks += [words(c) for c in facts.get("categories", [])] + [words(facts.get("kind") or "")]
            if any(re.search(rf"(^|-){re.escape(key)}(-|$)", h) for h in haystacks if h):
                hits.append(other)
        if len(hits) == 1:
            return hits[0], (
                f"no connector is named '{server}'; '{hits[0]}' is the only one whose name, URL host or category says "
                f"'{server}' — rename the file {hits[0]}.tools.json to make it explicit"
            )
        if len(hits) > 1:
            self.note(
                f"tool listing for '{server}' could belong to connectors {', '.join(sorted(hits))}: "
                "imported as a connector of its own; rename the file to CONNECTOR.tools.json and import it again"
            )
        return None, ""

    def add_tool_listings(self, listings: Iterable[ToolListing]) -> None:
        """Each listing replaces the tools of its connector, each tool classified with its reasons."""
        for listing in listings:
            self.record_credentials(f"tool listing '{listing.server}'", listing.credentials, listing.file)
            cid, why = self._find_connector(listing.server)
            if cid is None:
                cid = draft_id(listing.server, "server")
                self.records["connectors"][cid] = {
                    "id": cid,
                    "name": listing.server,
                    "system": cid,
                    "access": "read-write",
                    "tools": [],
                }
                self.facts[cid] = {
                    "tools_from": None,
                    "aliases": [listing.server],
                    "plugins": [],
                    "categories": [],
                    "files": [],
                }
                self.infer(
                    f"connector:{cid}",
                    "access",
                    "read-write",
                    "no config states what the server's credentials allow: read-write assumed (conservative)",
                    listing.file,
                )
                self.note(
                    f"connector '{cid}' (tools from {listing.file}) is used by no plugin: "
                    "add it to the plugins that call it"
                )
            else:
                self.infer(
                    f"connector:{cid}",
                    "tools",
                    [t.name for t in listing.tools],
                    f"from {listing.file.name}: {why}",
                    listing.file,
                )
            record = self.records["connectors"][cid]
            facts = self.facts[cid]
            facts["tools_from"] = "listing"
            facts["files"] = sorted(set(facts.get("files", [])) | {str(listing.file)})
            for key in list(self.comments):
                if key.startswith(f"tool:{cid}."):
                    del self.comments[key]
            tools = []
            for tool in listing.tools:
                name = re.sub(r"\s+", "_", tool.name)
                c = classify_tool(tool.name, tool.description, tool.annotations, tool.input_schema)
                entry: dict[str, Any] = {"name": name, "action": c.action.value}
                if _one_line(tool.description):
                    entry["description"] = _one_line(tool.description)
                if c.reversibility.value != "immediate":
                    entry["reversibility"] = c.reversibility.value
                if c.fan_out > 1:
                    entry["fan_out"] = c.fan_out
                if c.leaves_org is not None:
                    entry["leaves_org"] = c.leaves_org
                if c.untrusted_content:
                    entry["untrusted_content"] = True
                tools.append(entry)
                reason = c.reason + (
                    f"; renamed from '{tool.name}' (no spaces in tool names)" if name != tool.name else ""
                )
                self.comments[f"tool:{cid}.{name}"] = [f"{c.action.value}: {reason}"]
                self.infer(f"tool:{cid}.{name}", "action", c.action.value, reason, listing.file)
            record["tools"] = tools
            record.pop("leaves_org", None)  # each listed tool says it
            for plugin in self.records["plugins"].values():  # selectors naming tools that are gone
                for key in ("requires_approval", "blocked"):
                    kept = [
                        s
                        for s in plugin.get(key, [])
                        if not s.startswith(f"{cid}.")
                        or s == f"{cid}.*"
                        or any(s == f"{cid}.{t['name']}" for t in tools)
                    ]
                    if key in plugin:
                        plugin[key] = kept

    # -- permissions ---------------------------------------------------------

    def apply_permissions(self, rules: list[PermissionRule]) -> dict[str, dict[str, int]]:
        """Turn allow/ask/deny rules into the plugins' ``requires_approval`` and ``blocked`` selectors.

        A denied tool is blocked, an ask rule gates it, an allow rule leaves it
        ungated; deny beats ask beats allow. Returns, per plugin, how many
        tools became gated and blocked.
        """
        used: set[int] = set()
        counts: dict[str, dict[str, int]] = {}
        for pid, plugin in self.records["plugins"].items():
            gated: list[str] = list(plugin.get("requires_approval", []))
            blocked: list[str] = list(plugin.get("blocked", []))
            for cid in plugin.get("connectors", []):
                cid = cid if isinstance(cid, str) else cid.get("connector")
                conn = self.records["connectors"].get(cid)
                if conn is None:
                    continue
                names = {words(cid)} | {words(a) for a in self.facts.get(cid, {}).get("aliases", [])}
                names |= {f"plugin-{words(pid)}-{n}" for n in list(names)}
                mine = [(i, r) for i, r in enumerate(rules) if words(r.server) in names]
                if not mine:
                    continue
                used.update(i for i, _ in mine)
                tools = [t["name"] for t in conn.get("tools", [])]
                state = {}
                for tool in tools:
                    states = {r.state for _, r in mine if r.matches_tool(tool)}
                    state[tool] = next((s for s in ("deny", "ask", "allow") if s in states), None)
                for _, r in mine:
                    if r.tool not in (None, "*") and not any(r.matches_tool(t) for t in tools):
                        self.note(
                            f"{r.file}: {r.key}: rule '{r.rule}' names no tool of connector '{cid}' "
                            f"(its tools: {', '.join(tools) or 'none known'}); import its tool listing first"
                        )
                for target, wanted in ((blocked, "deny"), (gated, "ask")):
                    hit = [t for t in tools if state[t] == wanted]
                    for t in hit:
                        for s in (f"{cid}.{t}",):
                            if s not in target and f"{cid}.*" not in target:
                                target.append(s)
                    if tools and hit and len(hit) == len(tools):
                        target[:] = [s for s in target if not s.startswith(f"{cid}.")] + [f"{cid}.*"]
                c = counts.setdefault(pid, {"gated": 0, "blocked": 0, "allowed": 0, "unmatched": 0})
                c["gated"] += sum(v == "ask" for v in state.values())
                c["blocked"] += sum(v == "deny" for v in state.values())
                c["allowed"] += sum(v == "allow" for v in state.values())
                c["unmatched"] += sum(v is None for v in state.values())
                for t in tools:
                    tool_state = state[t]
                    if tool_state is None:
                        continue
                    rule = next(r for _, r in mine if r.matches_tool(t) and r.state == tool_state)
                    self.infer(
                        f"tool:{cid}.{t}",
                        f"autonomy of plugin {pid}",
                        {"deny": "blocked", "ask": "gated", "allow": "ungated"}[tool_state],
                        f"{rule.rule} ({rule.state}) in {rule.file.name}",
                        rule.file,
                    )
            blocked_set = set(blocked)
            gated = [s for s in gated if s not in blocked_set]
            for key, value in (("requires_approval", gated), ("blocked", blocked)):
                if value:
                    plugin[key] = value
                else:
                    plugin.pop(key, None)
            unmatched = counts.get(pid, {}).get("unmatched", 0)
            if unmatched:
                self.note(
                    f"plugin '{pid}': {unmatched} tools match no permission rule; the draft counts them as ungated "
                    "(a user may have answered 'always allow'); add them to requires_approval if approval is enforced"
                )
        for i, r in enumerate(rules):
            if i not in used:
                self.note(
                    f"{r.file}: {r.key}: rule '{r.rule}' names server '{r.server}', which no plugin of the draft uses"
                )
        return counts

    # -- completing the draft ------------------------------------------------

    def finish(self) -> None:
        """Add the placeholder team and a system (with unknown-size data) per connector."""
        teams = self.records["teams"]
        if UNASSIGNED_TEAM not in teams and self.records["plugins"]:
            teams[UNASSIGNED_TEAM] = {"id": UNASSIGNED_TEAM, "name": "Unassigned (placeholder owner)", "headcount": 0}
            self.comments[f"teams:{UNASSIGNED_TEAM}"] = [
                "placeholder owner of every imported plugin: add the real teams with their headcounts,",
                "make them the plugins' owners and users, then remove this team",
            ]
        for cid, conn in self.records["connectors"].items():
            facts = self.facts.setdefault(cid, {})
            sid = conn.get("system") or cid
            if sid in self.records["systems"]:
                system = self.records["systems"][sid]
            else:
                kind = facts.get("kind") or (draft_id(facts["categories"][0]) if facts.get("categories") else None)
                system = {"id": sid, "name": conn.get("name", sid)}
                if kind:
                    system["kind"] = kind
                classification = facts.get("classification") or "confidential"
                system["datasets"] = [
                    {
                        "id": f"{sid}-records",
                        "name": f"Records of {conn.get('name', sid)}",
                        "classification": classification,
                    }
                ]
                self.records["systems"][sid] = system
                how = (
                    "typical of its catalog entry"
                    if facts.get("classification")
                    else "unknown system: confidential assumed (conservative)"
                )
                self.comments[f"systems:{sid}"] = [
                    f"system reached by connector '{cid}'. TODO: owner; replace the placeholder dataset with its real",
                    "tables (records, columns and their classification); records left out are unknown, never zero",
                    f"placeholder classification {classification}: {how}",
                ]
                self.infer(
                    f"system:{sid}",
                    "datasets",
                    f"{sid}-records",
                    "no config knows the tables a system holds",
                    ", ".join(facts.get("files", [])),
                )
            actions = {t.get("action") for t in conn.get("tools", [])}
            if (actions & _PEOPLE_ACTIONS or facts.get("people")) and not system.get("people"):
                kind = facts.get("people") or "other"
                system["people"] = [
                    {"id": f"{sid}-people", "kind": kind, "name": f"People reachable through {conn.get('name', sid)}"}
                ]
                self.infer(
                    f"system:{sid}",
                    "people",
                    f"{sid}-people",
                    "it has send/share tools: the people it can address, count unknown",
                    ", ".join(facts.get("files", [])),
                )
            facts["shared_by"] = sorted(facts.get("plugins", []))
            self.comments[f"connectors:{cid}"] = _connector_comment(cid, conn, facts)
            for tool in conn.get("tools", []):
                key = f"tool:{cid}.{tool['name']}"
                if key not in self.comments:
                    origin = (
                        "typical tool from the connector catalog" if facts.get("tools_from") == "catalog" else "unknown"
                    )
                    self.comments[key] = [f"{tool['action']}: {origin}"]

    # -- summary -------------------------------------------------------------

    def todo(self, out: Path | str = "DIR", *, skipped: Sequence[str] = ()) -> list[TodoItem]:
        """What the analyst must still fill in, grouped by what it unlocks, what makes figures non-zero first.

        Parameters
        ----------
        out : Path or str
            The draft directory, named in the suggested commands.
        skipped : sequence of str
            Sources left out because of a problem (file, key, what is wrong).
        """
        items: list[TodoItem] = []

        def add(group: str, text: str) -> None:
            items.append(TodoItem(group=group, text=text))

        plugins = sorted(self.records["plugins"])
        unowned = [p for p in plugins if self.records["plugins"][p].get("owner") == UNASSIGNED_TEAM]
        if unowned:
            add(
                "figures",
                "teams: add the teams that run the plugins, with their headcounts "
                f"(the placeholder team '{UNASSIGNED_TEAM}' has 0 people, so nothing runs and every figure is 0)",
            )
            add(
                "figures",
                f"plugins: give {_count(unowned, 'plugin')} an owner team and users (teams, how many "
                f"people, runs per day) in place of '{UNASSIGNED_TEAM}': {_names(unowned)}",
            )
        if self.records["systems"]:
            systems = sorted(self.records["systems"])
            add(
                "reach",
                f"systems: give the placeholder dataset of {_count(systems, 'system')} its tables with record "
                f"counts and column classifications, and each people group its count: {_names(systems)}",
            )
        unknown = sorted(
            c for c, f in self.facts.items() if c in self.records["connectors"] and f.get("tools_from") == "unknown"
        )
        catalog = sorted(
            c for c, f in self.facts.items() if c in self.records["connectors"] and f.get("tools_from") == "catalog"
        )
        listing = f"{Path(out) / 'tools'}"
        if unknown or catalog:
            add(
                "tools",
                f"capture the real tools of {_count(unknown + catalog, 'connector')} from the running servers: "
                f"`blastradius probe CONFIG --out {listing}` (CONFIG: the .mcp.json or client config starting them), "
                f"then `blastradius import mcp-tools {listing} --out {out} --merge`",
            )
        for cid in unknown:
            add(
                "tools",
                f"connector '{cid}': no tool listing and not in the catalog, so its tools are unknown "
                f"(one stand-in tool of action unknown, scored as high-impact); "
                f"import its tools/list result: `blastradius import mcp-tools {cid}.tools.json --out {out} --merge`",
            )
        if catalog:
            add(
                "tools",
                f"{_count(catalog, 'connector')} use the catalog's typical tools, not their own: {_names(catalog)}",
            )
        for cid, facts in sorted(self.facts.items()):
            if cid in self.records["connectors"] and facts.get("transport") in ("http", "sse") and not facts.get("url"):
                add(
                    "tools",
                    f'connector \'{cid}\': its URL is not configured yet ("url": ""); check which server it will be',
                )
        if self.records["connectors"]:
            add(
                "scope",
                "connectors: check access (read-write assumed), add allowed_tables, denied_columns, "
                "row_limit, audit and revocation where they exist",
            )
            add("scope", f"plugins: add output, output_audience, review_tier and kill_switch for {_names(plugins)}")
        for name, where in sorted(self.remote.items()):
            add(
                "remote",
                f"plugin '{name}' comes from {where}: not imported; check it out and import again with --checkouts DIR",
            )
        for line in skipped:
            add("skipped", line)
        for text in self.notes:
            if " comes from " in text and "not imported" in text:
                continue  # listed above, with its source
            add("check", text)
        return items

    def unknown_tools(self) -> list[str]:
        return sorted(
            f"{cid}.{t['name']}"
            for cid, c in self.records["connectors"].items()
            for t in c.get("tools", [])
            if t.get("action") == ActionClass.UNKNOWN.value
        )

    def shared_connectors(self) -> dict[str, tuple[str, ...]]:
        users: dict[str, set[str]] = {}
        for pid, plugin in self.records["plugins"].items():
            for c in plugin.get("connectors", []):
                users.setdefault(c if isinstance(c, str) else c.get("connector"), set()).add(pid)
        return {cid: tuple(sorted(p)) for cid, p in sorted(users.items()) if len(p) > 1}


#: Built-in tools of Claude Code: (tool name, action, leaves the organisation, untrusted content, what it does).
_BUILTINS: dict[str, tuple[str, str, bool | None, bool, str]] = {
    "write": ("write", "write", False, False, "writes files on the user's machine"),
    "edit": ("edit", "write", False, False, "edits files on the user's machine"),
    "multiedit": ("multiedit", "write", False, False, "edits files on the user's machine"),
    "notebookedit": ("notebookedit", "write", False, False, "edits notebooks on the user's machine"),
    "read": ("read", "read", None, False, "reads files on the user's machine"),
    "glob": ("glob", "read", None, False, "lists files on the user's machine"),
    "grep": ("grep", "read", None, False, "searches files on the user's machine"),
    "ls": ("ls", "read", None, False, "lists files on the user's machine"),
    "notebookread": ("notebookread", "read", None, False, "reads notebooks on the user's machine"),
    "webfetch": ("webfetch", "read", None, True, "fetches web pages: content from outside"),
    "websearch": ("websearch", "read", None, True, "searches the web: content from outside"),
}


def builtin_tool(use: Any) -> dict[str, Any] | None:
    """The draft tool for a built-in tool use (a :class:`~blastradius.importers.sources.BuiltinUse`), or None.

    ``Bash`` runs any command (``execute``), ``Bash(git push:*)`` the commands it names;
    ``Write``/``Edit`` write files, ``Read``/``Grep`` read them, ``WebFetch`` reads
    content from outside; a hook runs its command on every matching event. MCP tools
    (``mcp__…``) belong to their server's connector, and tools of Claude Code itself
    (``Task``, ``TodoWrite``) reach nothing: both give None.

    Examples
    --------
    >>> from blastradius.importers.sources import BuiltinUse
    >>> builtin_tool(BuiltinUse(tool="Bash(git push:*)", approved=True, where="c.md"))["name"]
    'bash-git-push'
    >>> builtin_tool(BuiltinUse(tool="mcp__github__create_issue", approved=True, where="c.md")) is None
    True
    """
    tool: str = use.tool.strip()
    if tool.startswith("hook:"):
        event = draft_id(tool[len("hook:") :], "event")
        return {
            "name": f"hook-{event}",
            "action": "execute",
            "description": _one_line(f"runs on {tool[len('hook:') :]}: {use.detail or 'a command'}"),
        }
    bash = re.fullmatch(r"Bash(?:\((.*)\))?", tool, re.S)
    if bash:
        pattern = (bash.group(1) or "").strip()
        command = draft_id(pattern.replace(":*", " ").replace("*", " "), "any") if pattern else ""
        return {
            "name": f"bash-{command}"[:128] if command and command != "any" else "bash",
            "action": "execute",
            "description": _one_line(f"shell commands {pattern}" if pattern else "any shell command"),
        }
    base = re.sub(r"\(.*\)$", "", tool).strip().lower()
    if base in _BUILTINS:
        name, action, leaves, untrusted, what = _BUILTINS[base]
        out: dict[str, Any] = {"name": name, "action": action, "description": what}
        if leaves is not None:
            out["leaves_org"] = leaves
        if untrusted:
            out["untrusted_content"] = True
        return out
    return None


def _server_address(url: str) -> str:
    """A URL without user info, query or fragment: two configs of one server may differ only in their credentials."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{re.split(r'[?#]', path)[0]}"


def _unknown_tool(server: str) -> dict[str, Any]:
    return {
        "name": "unknown_tools",
        "action": "unknown",
        "description": f"Stands for every tool of '{server}', which no listing or catalog entry describes.",
    }


def _connector_comment(cid: str, conn: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    lines = []
    transport = facts.get("transport")
    if transport == "stdio":
        lines.append(f"stdio server: {' '.join(facts.get('command', []))}")
    elif transport:
        lines.append(f"{transport} server: {facts.get('url') or 'URL not configured yet (TODO)'}")
    auth = []
    if facts.get("oauth"):
        auth.append("OAuth")
    for key, label, sep in (("headers", "headers", ": "), ("env", "env", "=")):
        values = facts.get(key) or dict.fromkeys(facts.get(f"{key.rstrip('s')}_names", []), "")
        if values:
            auth.append(f"{label} " + ", ".join(f"{k}{sep}{v}" if v else k for k, v in sorted(values.items())))
    if auth:
        lines.append("credentials: " + "; ".join(auth) + " (values not copied)")
    plugins = facts.get("plugins", [])
    if plugins:
        lines.append(f"used by {len(plugins)} plugin{'s' if len(plugins) != 1 else ''}: {', '.join(sorted(plugins))}")
    if facts.get("categories"):
        lines.append("category (CONNECTORS.md): " + ", ".join(facts["categories"]))
    tools_from = facts.get("tools_from")
    lines.append(
        {
            "listing": "tools from its tool listing; each action inferred from annotations (reason above each tool)",
            "catalog": f"tools: typical of catalog entry '{facts.get('catalog')}', "
            "not its real listing (TODO: import it)",
            "unknown": "tools unknown: not in the catalog and no listing (TODO: import its tools/list result)",
        }.get(tools_from or "", "tools: as given")
    )
    lines.append("TODO: access is assumed read-write; add allowed_tables, denied_columns, row_limit, audit, revocation")
    return lines
