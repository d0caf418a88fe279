"""The agreed controls as configuration the platform enforces (docs/enforcement.md).

Two shapes, both built from what :mod:`blastradius.reach` decides for every
tool of every plugin, so the export says what the analyses count and nothing
else:

- **Claude Code / Cowork managed settings** (:func:`claude_settings`): the
  ``permissions`` rules an administrator deploys as ``managed-settings.json``.
  Every MCP tool of every plugin gets one rule in the platform's own syntax,
  ``mcp__<server>__<tool>``: ``deny`` when the inventory blocks it (or the
  connector is read-only and it writes), ``ask`` when a human approves each
  call, ``allow`` only when the inventory lets it run with no human. A tool no
  rule names is not pre-approved: the platform asks. Plugin servers are named
  as Claude Code names them, ``plugin_<plugin>_<connector>``, so that each
  plugin gets exactly its own rules (``server_names="connector"`` writes one
  rule per connector tool instead, the strictest any plugin has). Bypass mode,
  which would skip every ``ask``, is disabled.
- **Connector policies** (:func:`connector_policies`): one JSON document per
  connector in the shape of DOMAIN.md D6 (access, allowed tables, denied
  columns, row limit, approval, audit), with its tier and approval, for the
  gateway in front of the system.

:func:`read_policy` reads either back (a file or an export folder), checked
at the input boundary, for ``blastradius diff`` and for round-trip tests.

Examples
--------
>>> from blastradius import load_inventory
>>> inv = load_inventory("inventories/acme-governed")
>>> settings = claude_settings(inv)
>>> "mcp__plugin_renewal-campaigns_email-campaigns__send_bulk_email" in settings["permissions"]["ask"]
True
>>> connector_policies(inv)["finance-warehouse"]["row_limit"]
50000
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from blastradius.analysis import Analysis, analysis_of
from blastradius.errors import ConfigError, PolicyError, Problem
from blastradius.model import Access, Connector, ConnectorPolicy, Inventory
from blastradius.reach import ToolStatus, tool_status
from blastradius.settings.files import parse_text, problems_from_validation, read_text

__all__ = [
    "CLAUDE_SETTINGS_SCHEMA",
    "CONNECTOR_POLICY_DIR",
    "MANAGED_SETTINGS_FILE",
    "POLICY_FORMATS",
    "SERVER_NAMES",
    "STATES",
    "PolicySnapshot",
    "ToolRule",
    "claude_settings",
    "connector_policies",
    "connector_policy",
    "is_policy_export",
    "permission_rules",
    "policy_files",
    "read_policy",
    "server_name",
    "snapshot_of",
]

#: What ``export-policy --format`` takes.
POLICY_FORMATS = ("claude-settings", "connector-policy", "all")
#: How MCP servers are named in the rules: per plugin (exact) or per connector (the strictest of its plugins).
SERVER_NAMES = ("plugin", "connector")
#: Permission states, strictest first (deny beats ask beats allow, as in Claude Code).
STATES = ("deny", "ask", "allow")
#: The file name Claude Code reads managed settings from, and the folder of connector policies, in an export folder.
MANAGED_SETTINGS_FILE = "managed-settings.json"
CONNECTOR_POLICY_DIR = "connector-policies"
CLAUDE_SETTINGS_SCHEMA = "https://json.schemastore.org/claude-code-settings.json"

_STATE_OF = {
    ToolStatus.BLOCKED: "deny",
    ToolStatus.UNUSABLE: "deny",
    ToolStatus.GATED: "ask",
    ToolStatus.UNGATED: "allow",
}


@dataclass(frozen=True, kw_only=True)
class ToolRule:
    """One permission rule: the rule as the platform reads it, its state, and the inventory setting behind it."""

    rule: str
    state: str  # deny, ask or allow
    connector: str
    tool: str
    plugins: tuple[str, ...]
    why: str


def server_name(connector: str, *, plugin: str | None = None) -> str:
    """The MCP server name in a rule: ``plugin_<plugin>_<connector>`` for a plugin's server, else the connector id.

    Examples
    --------
    >>> server_name("crm", plugin="deal-desk"), server_name("crm")
    ('plugin_deal-desk_crm', 'crm')
    """
    return f"plugin_{plugin}_{connector}" if plugin else connector


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def permission_rules(source: Inventory | Analysis, *, server_names: str = "plugin") -> list[ToolRule]:
    """A rule for every MCP tool of every plugin, sorted by rule; with ``server_names="connector"``, one per
    connector tool, in the strictest state any of its plugins has (so no plugin gets more than its inventory gives).

    Raises
    ------
    ValueError
        For a ``server_names`` other than ``plugin`` or ``connector``.
    """
    if server_names not in SERVER_NAMES:
        raise ValueError(f"server_names must be one of {', '.join(SERVER_NAMES)}, got {server_names!r}")
    inv = analysis_of(source).inventory
    per_plugin: list[ToolRule] = []
    for p in inv.plugins:
        for cid in _unique(p.connector_ids):
            conn = inv.connector_by_id[cid]
            for tool in conn.tools:
                status, why = tool_status(p, conn, tool)
                per_plugin.append(
                    ToolRule(
                        rule=f"mcp__{server_name(cid, plugin=p.id)}__{tool.name}",
                        state=_STATE_OF[status],
                        connector=cid,
                        tool=tool.name,
                        plugins=(p.id,),
                        why=why,
                    )
                )
    if server_names == "plugin":
        return sorted(per_plugin, key=lambda r: r.rule)
    merged: dict[tuple[str, str], list[ToolRule]] = {}
    for r in per_plugin:
        merged.setdefault((r.connector, r.tool), []).append(r)
    out = []
    for (cid, name), rules in merged.items():
        strictest = min(rules, key=lambda r: STATES.index(r.state))
        states = sorted({r.state for r in rules}, key=STATES.index)
        why = strictest.why if len(states) == 1 else f"plugins differ ({', '.join(states)}): the strictest is kept"
        out.append(
            ToolRule(
                rule=f"mcp__{server_name(cid)}__{name}",
                state=strictest.state,
                connector=cid,
                tool=name,
                plugins=tuple(p for r in rules for p in r.plugins),
                why=why,
            )
        )
    return sorted(out, key=lambda r: r.rule)


def claude_settings(source: Inventory | Analysis, *, server_names: str = "plugin") -> dict[str, Any]:
    """Managed settings for Claude Code / Cowork: ``permissions.allow``, ``ask`` and ``deny`` from the inventory.

    ``disableBypassPermissionsMode`` is set to ``"disable"``: bypass mode would
    run every ``ask`` tool with no human, undoing the inventory's gates.
    """
    rules = permission_rules(source, server_names=server_names)
    permissions: dict[str, Any] = {state: [r.rule for r in rules if r.state == state] for state in STATES[::-1]}
    permissions["disableBypassPermissionsMode"] = "disable"
    return {"$schema": CLAUDE_SETTINGS_SCHEMA, "permissions": permissions}


def connector_policy(connector: Connector) -> dict[str, Any]:
    """One connector's policy in the shape of DOMAIN.md D6, every scope field written out.

    A value the inventory leaves out is written as what every analysis takes
    it to mean: access read-write (the connector's credentials are not known
    to be limited), ``null`` allowed tables (every table of the system),
    ``null`` row limit (none), no audit logging.
    """
    audit = connector.audit
    policy: dict[str, Any] = {
        "connector": connector.id,
        "access": (connector.access or Access.READ_WRITE).value,
        "allowed_tables": list(connector.allowed_tables) if connector.allowed_tables is not None else None,
        "denied_columns": list(connector.denied_columns),
        "row_limit": connector.row_limit,
        "requires_approval": connector.requires_approval,
        "audit": {
            "log_every_query": bool(audit and audit.log_every_query),
            "alert_if_rows_returned_over": audit.alert_if_rows_returned_over if audit else None,
            "alert_if_sends_over": audit.alert_if_sends_over if audit else None,
        },
    }
    for key in ("tier", "approved_by", "approved_on"):
        value = getattr(connector, key)
        if value is not None:
            policy[key] = value.isoformat() if key == "approved_on" else value
    return policy


def connector_policies(source: Inventory | Analysis) -> dict[str, dict[str, Any]]:
    """Every connector's D6 policy, by connector id."""
    inv = analysis_of(source).inventory
    return {c.id: connector_policy(c) for c in inv.connectors}


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def policy_files(
    source: Inventory | Analysis, *, format: str, out: Path, server_names: str = "plugin"
) -> dict[Path, str]:
    """The files an export writes, ``{path: text}``: ``out`` itself for ``claude-settings``; ``out/<connector>.json``
    for ``connector-policy``; ``out/managed-settings.json`` and ``out/connector-policies/<connector>.json`` for
    ``all``.

    Raises
    ------
    ValueError
        For a format not in :data:`POLICY_FORMATS`.
    """
    if format not in POLICY_FORMATS:
        raise ValueError(f"format must be one of {', '.join(POLICY_FORMATS)}, got {format!r}")
    out = Path(out)
    files: dict[Path, str] = {}
    if format == "claude-settings":
        files[out] = _json(claude_settings(source, server_names=server_names))
        return files
    folder = out if format == "connector-policy" else out / CONNECTOR_POLICY_DIR
    if format == "all":
        files[out / MANAGED_SETTINGS_FILE] = _json(claude_settings(source, server_names=server_names))
    for cid, policy in connector_policies(source).items():
        files[folder / f"{cid}.json"] = _json(policy)
    return files


# ---------------------------------------------------------------------------
# Reading an export back
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PolicySnapshot:
    """What a policy export says: permission states by rule, settings flags, and connector policies by id.

    ``permissions`` is None when the export holds no managed settings;
    ``connectors`` is None when it holds no connector policies.
    """

    source: str
    permissions: dict[str, str] | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    connectors: dict[str, ConnectorPolicy] | None = None


def _read_json(file: Path) -> tuple[Any, Any]:
    doc = parse_text(file, read_text(file, error=PolicyError), error=PolicyError)
    return doc.data, doc


def _kind(data: Any) -> str | None:
    if isinstance(data, dict) and "permissions" in data:
        return "settings"
    if isinstance(data, dict) and "connector" in data:
        return "connector"
    return None


def _permissions(file: Path, data: dict[str, Any], doc: Any, problems: list[Problem]) -> tuple[dict, dict]:
    perms = data.get("permissions")
    states: dict[str, str] = {}
    if not isinstance(perms, dict):
        problems.append(
            Problem(file=file, path="permissions", line=doc.line_of("permissions"), message="expected a mapping")
        )
        return states, {}
    for state in STATES:
        items = perms.get(state, [])
        if not isinstance(items, list):
            path = f"permissions.{state}"
            problems.append(Problem(file=file, path=path, line=doc.line_of(path), message="expected a list of rules"))
            continue
        for i, rule in enumerate(items):
            if not isinstance(rule, str) or not rule:
                path = f"permissions.{state}[{i}]"
                problems.append(
                    Problem(file=file, path=path, line=doc.line_of(path), message=f"expected a rule, got {rule!r}")
                )
                continue
            old = states.get(rule)
            states[rule] = state if old is None else min(old, state, key=STATES.index)
    flags = {k: v for k, v in perms.items() if k not in STATES}
    flags.update({k: v for k, v in data.items() if k not in ("permissions", "$schema")})
    return states, flags


def _connector(file: Path, data: Any, doc: Any, problems: list[Problem]) -> ConnectorPolicy | None:
    try:
        return ConnectorPolicy.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, ConnectorPolicy, file, document=doc))
        return None


def _is_policy_file(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        return _kind(_read_json(path)[0]) is not None
    except ConfigError:
        return False


def is_policy_export(path: str | Path) -> bool:
    """Whether ``path`` is a policy export (a settings file, a connector policy, or a folder of them), not an
    inventory: a JSON file whose top level has ``permissions`` or ``connector``; a folder holding
    ``managed-settings.json`` or ``connector-policies/``, or nothing but such files.

    Examples
    --------
    >>> is_policy_export("inventories/acme-governed/policies"), is_policy_export("inventories/acme-governed")
    (True, False)
    """
    path = Path(path)
    if path.is_file():
        return _is_policy_file(path)
    if path.is_dir():
        if (path / MANAGED_SETTINGS_FILE).is_file() or (path / CONNECTOR_POLICY_DIR).is_dir():
            return True
        files = [p for p in path.iterdir() if not p.name.startswith(".")]
        return bool(files) and all(p.is_file() and _is_policy_file(p) for p in files)
    return False


def read_policy(path: str | Path) -> PolicySnapshot:
    """Read a policy export back: a managed-settings file, one connector policy, or an export folder.

    Raises
    ------
    PolicyError
        Listing every problem: a file that is not JSON, a rule that is not a
        string, a connector policy that does not fit the D6 shape (file, line,
        key path), or a path that holds no policy at all.
    """
    path = Path(path)
    problems: list[Problem] = []
    permissions: dict[str, str] | None = None
    flags: dict[str, Any] = {}
    connectors: dict[str, ConnectorPolicy] | None = None
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = []
        if (path / MANAGED_SETTINGS_FILE).is_file():
            files.append(path / MANAGED_SETTINGS_FILE)
        folder = path / CONNECTOR_POLICY_DIR if (path / CONNECTOR_POLICY_DIR).is_dir() else path
        files += sorted(p for p in folder.glob("*.json") if p.is_file() and p.name != MANAGED_SETTINGS_FILE)
    else:
        raise PolicyError([Problem(file=path, path="", message="no such file or directory")])
    if not files:
        raise PolicyError(
            [Problem(file=path, path="", message="no policy files found", hint="give an export-policy output")]
        )
    for file in files:
        data, doc = _read_json(file)
        kind = _kind(data)
        if kind == "settings":
            if permissions is not None:
                problems.append(Problem(file=file, path="", message="a second managed-settings file in one export"))
                continue
            permissions, flags = _permissions(file, data, doc, problems)
        elif kind == "connector":
            policy = _connector(file, data, doc, problems)
            if policy is None:
                continue
            connectors = {} if connectors is None else connectors
            if policy.connector in connectors:
                problems.append(
                    Problem(file=file, path="connector", message=f"a second policy for connector '{policy.connector}'")
                )
                continue
            connectors[policy.connector] = policy
        else:
            problems.append(
                Problem(
                    file=file,
                    path="",
                    message="not a policy: expected 'permissions' (managed settings) or 'connector' (a connector "
                    "policy) at the top",
                    hint="give a file or folder written by `blastradius export-policy`",
                )
            )
    if problems:
        raise PolicyError(problems, source=path)
    return PolicySnapshot(source=str(path), permissions=permissions, flags=flags, connectors=connectors)


def snapshot_of(source: Inventory | Analysis, *, server_names: str = "plugin") -> PolicySnapshot:
    """What an export of ``source`` would say, without writing it (to compare an inventory with a deployed policy)."""
    analysis = analysis_of(source)
    settings = claude_settings(analysis, server_names=server_names)
    perms: Mapping[str, Any] = settings["permissions"]
    return PolicySnapshot(
        source=analysis.inventory.source or "inventory",
        permissions={rule: state for state in STATES for rule in perms[state]},
        flags={k: v for k, v in perms.items() if k not in STATES},
        connectors={cid: ConnectorPolicy.model_validate(p) for cid, p in connector_policies(analysis).items()},
    )
