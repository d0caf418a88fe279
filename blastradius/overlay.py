"""Overlays: small files that change an inventory by id, leaving its files as they are.

An overlay says what a scenario changes: gate or block a plugin's tools, make a
connector read-only, cap its rows, allow only some tables, mask columns, give a
kill switch or a revocation time, set alert thresholds, and lay settings
(``assumptions:``, ``weights:``) over the inventory's own. It is how a what-if
agreed in a workshop, or a calibration of the assumptions, is kept and replayed:
``blastradius score DIR --overlay FILE`` gives the figures of the inventory
with the overlay laid over it, and the inventory's files are never touched.

The format (version 2; a version-1 file, which cannot change a plugin's users, reads as before)::

    overlay: 2                                   # format version: 1 or 2
    description: Gate sends on renewal-campaigns  # what the scenario is
    base: acme                                    # optional: the inventory it was made for
    plugins:
      renewal-campaigns:
        requires_approval: {add: [send]}          # add/remove selectors (action, CONNECTOR.TOOL, CONNECTOR.*)
        blocked: {add: [email.send_campaign]}
        kill_switch: {can_pause: true, time_to_pause_seconds: 600}
        users:                                    # version 2: a team entry the plugin already has
          marketing: {runs_per_user_per_day: 3.5, users: 40}
    connectors:
      hris:
        access: read-only
        row_limit: 5000
        allowed_tables: {set: [employees]}       # set, add or remove tables
        denied_columns: {add: [ssn]}
        audit: {alert_if_rows_returned_over: 1000}
        revocation: {can_revoke: true, time_to_revoke_seconds: 60}
    assumptions:
      controls: {approval_gate_catch_rate: 0.8}

:func:`apply_overlays` reads overlay files through the input boundary
(:mod:`blastradius.settings.files`), checks each against the inventory (every
id, selector, table and setting, with "did you mean") and returns the changed
inventory; :func:`overlay_from_changes` writes the overlay that turns one
inventory into another, and :func:`write_overlay` saves it without
overwriting a file unless asked. :func:`write_inventory` writes an inventory
(an overlaid one, say) as one file that :func:`blastradius.load_inventory`
reads back to the same inventory, for commands that read a directory.

Examples
--------
>>> from blastradius import load_inventory
>>> inv = load_inventory("inventories/acme")
>>> doc = {"overlay": 1, "description": "hris read-only", "connectors": {"hris": {"access": "read-only"}}}
>>> apply_overlay_data(inv, doc).connector_by_id["hris"].access.value
'read-only'
>>> inv.connector_by_id["hris"].access.value
'read-write'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from blastradius.errors import BlastRadiusError, OverlayError, Problem, suggest
from blastradius.model import (
    Access,
    ActionClass,
    Audit,
    Connector,
    Inventory,
    Limit,
    People,
    Plugin,
    PluginKillSwitch,
    PluginUsers,
    Rate,
    Revocation,
    Seconds,
    Selector,
    SettingsSource,
    Text,
)
from blastradius.settings import check_section
from blastradius.settings.files import (
    Document,
    deep_merge,
    format_path,
    parse_text,
    problems_from_validation,
    read_text,
)

__all__ = [
    "FORMAT_VERSION",
    "OverlayFile",
    "apply_overlay_data",
    "apply_overlays",
    "overlay_from_changes",
    "read_overlay",
    "render_overlay",
    "write_inventory",
    "write_overlay",
]

#: The newest overlay format this version reads and writes (the ``overlay:`` key of every overlay file).
FORMAT_VERSION = 2
#: Every format this version reads: 1 (no ``plugins.ID.users``) and 2.
FORMAT_VERSIONS = (1, 2)
#: What an overlay may change that version 1 cannot say, by the key path of its plugin change.
_SINCE_VERSION_2 = ("users",)

#: Settings sections an overlay may lay over the inventory's own.
_SETTINGS = ("assumptions", "weights")


class _Patch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SelectorChange(_Patch):
    """Selectors to add to, or remove from, a plugin's ``requires_approval`` or ``blocked`` list."""

    add: tuple[Selector, ...] = ()
    remove: tuple[Selector, ...] = ()


class NameChange(_Patch):
    """A list of names (tables, columns) set whole, or with names added or removed."""

    set: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] | None = None
    add: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] = ()
    remove: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] = ()


class KillSwitchChange(_Patch):
    can_pause: StrictBool | None = None
    time_to_pause_seconds: Seconds | None = None
    rehearsed_on: dt.date | None = None


class AuditChange(_Patch):
    log_every_query: StrictBool | None = None
    alert_if_rows_returned_over: Limit | None = None
    alert_if_sends_over: Limit | None = None


class RevocationChange(_Patch):
    can_revoke: StrictBool | None = None
    time_to_revoke_seconds: Seconds | None = None


class NotedRate(_Patch):
    """A rate with where it comes from: ``{value, range, source}``, as a settings file notes an assumption."""

    value: Rate
    range: tuple[Rate, Rate] | None = None
    source: Text | None = None


class UsersChange(_Patch):
    """What an overlay changes in one team entry of a plugin's users (format 2)."""

    runs_per_user_per_day: Rate | NotedRate | None = None
    users: People | None = None


class PluginChange(_Patch):
    """What an overlay changes in one plugin."""

    requires_approval: SelectorChange | None = None
    blocked: SelectorChange | None = None
    kill_switch: KillSwitchChange | None = None
    users: dict[str, UsersChange] | None = Field(
        default=None, description="Format 2: team entries the plugin already has, by team id, and what changes."
    )


class ConnectorChange(_Patch):
    """What an overlay changes in one connector."""

    access: Access | None = None
    row_limit: Limit | None = None
    allowed_tables: NameChange | None = None
    denied_columns: NameChange | None = None
    requires_approval: StrictBool | None = None
    audit: AuditChange | None = None
    revocation: RevocationChange | None = None


class OverlayFile(_Patch):
    """An overlay file: a header, then changes by id (see the module's docstring)."""

    overlay: Literal[1, 2] = Field(description="Format version of the overlay file: 1 or 2.")
    description: Text = Field(description="What the scenario is, in words.")
    base: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        default=None, description="Name of the inventory it was made for (its directory's name)."
    )
    created: dt.date | None = None
    plugins: dict[str, PluginChange] = Field(default_factory=dict)
    connectors: dict[str, ConnectorChange] = Field(default_factory=dict)
    assumptions: dict[str, Any] | None = None
    weights: dict[str, Any] | None = None


# ---------------------------------------------------------------------------
# Reading and applying
# ---------------------------------------------------------------------------


def read_overlay(path: str | Path) -> tuple[OverlayFile, Document]:
    """Parse and validate the overlay file at ``path`` (YAML or JSON), with the line of every key.

    Raises
    ------
    OverlayError
        No such file, invalid syntax, or every key that is unknown, missing or of the wrong type.
    """
    file = Path(path)
    if not file.is_file():
        hint = "give the overlay file, e.g. overlays/gate-sends.yaml" if not file.is_dir() else "give a file"
        raise OverlayError([Problem(file=file, path="", message="no such file", hint=hint)])
    doc = parse_text(file, read_text(file, error=OverlayError), error=OverlayError)
    return _validate(doc), doc


def _validate(doc: Document) -> OverlayFile:
    data = doc.data
    if not isinstance(data, dict):
        raise OverlayError(
            [
                Problem(
                    file=doc.file,
                    path="",
                    line=1,
                    message=f"expected a mapping starting with 'overlay: {FORMAT_VERSION}', got "
                    + ("an empty file" if data is None else f"a {type(data).__name__}"),
                )
            ]
        )
    if "overlay" not in data:
        hint = suggest("overlay", [str(k) for k in data]) or f"start the file with 'overlay: {FORMAT_VERSION}'"
        raise OverlayError(
            [Problem(file=doc.file, path="", line=1, message="not an overlay: no 'overlay:' format version", hint=hint)]
        )
    try:
        overlay = OverlayFile.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, OverlayFile, doc.file, document=doc)
        raise OverlayError(problems) from None
    if overlay.overlay < 2:
        newer = [
            format_path(("plugins", pid, key))
            for pid, change in overlay.plugins.items()
            for key in _SINCE_VERSION_2
            if getattr(change, key) is not None
        ]
        if newer:
            raise OverlayError(
                [
                    Problem(
                        file=doc.file,
                        path=path,
                        line=doc.line_of(path),
                        message="format 1 cannot change a plugin's users",
                        hint="write 'overlay: 2' at the top of the file",
                    )
                    for path in newer
                ]
            )
    return overlay


def apply_overlays(inv: Inventory, files: Iterable[str | Path] | str | Path | None) -> Inventory:
    """``inv`` with each overlay file of ``files`` laid over it, in order; ``inv`` is not changed.

    Raises
    ------
    OverlayError
        Listing every problem of the first overlay that is invalid or does not fit the inventory
        (file, line, key path, what is wrong and, for an unknown id, "did you mean").
    """
    if files is None:
        return inv
    for path in [files] if isinstance(files, str | Path) else files:
        overlay, doc = read_overlay(path)
        inv = _apply(inv, overlay, doc)
    return inv


def apply_overlay_data(inv: Inventory, data: Mapping[str, Any], *, file: str | Path = "<overlay>") -> Inventory:
    """``inv`` with the overlay ``data`` (the parsed content of an overlay file) laid over it."""
    doc = Document(file=Path(file), data=dict(data))
    return _apply(inv, _validate(doc), doc)


class _Problems:
    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, parts: Sequence[Any], message: str, hint: str | None = None, *, warning: bool = False) -> None:
        path = format_path(parts)
        problem = Problem(file=self.doc.file, path=path, line=self.doc.line_of(path), message=message, hint=hint)
        (self.warnings if warning else self.problems).append(problem)


def _unknown(out: _Problems, parts: Sequence[Any], kind: str, value: str, known: Iterable[str]) -> None:
    known = list(known)
    hint = suggest(value, known) or (f"known {kind}s: " + ", ".join(sorted(known)[:12]) if known else None)
    out.add(parts, f"no {kind} '{value}' in the inventory", hint)


def _check_selector(out: _Problems, parts: Sequence[Any], inv: Inventory, plugin: Plugin, selector: str) -> None:
    """A selector names an action class, or a connector the plugin uses and one of its tools (as the loader checks)."""
    conn_id, _, tool = selector.partition(".")
    if not tool:
        actions = [a.value for a in ActionClass]
        if selector not in actions:
            out.add(
                parts,
                f"'{selector}' is neither an action class nor CONNECTOR.TOOL",
                suggest(selector, [*actions, *plugin.connector_ids]) or "action classes: " + ", ".join(actions),
            )
        return
    if conn_id not in plugin.connector_ids:
        out.add(
            parts,
            f"plugin '{plugin.id}' does not use connector '{conn_id}'",
            suggest(conn_id, plugin.connector_ids) or "its connectors: " + ", ".join(plugin.connector_ids),
        )
        return
    conn = inv.connector_by_id[conn_id]
    if tool != "*" and conn.tool(tool) is None:
        names = [t.name for t in conn.tools]
        out.add(
            parts,
            f"connector '{conn_id}' has no tool '{tool}'",
            suggest(tool, names) or "its tools: " + ", ".join(names),
        )


def _selectors(
    out: _Problems,
    parts: Sequence[Any],
    inv: Inventory,
    plugin: Plugin,
    current: tuple[str, ...],
    change: SelectorChange,
) -> tuple[str, ...]:
    for i, selector in enumerate(change.add):
        _check_selector(out, [*parts, "add", i], inv, plugin, selector)
    for i, selector in enumerate(change.remove):
        if selector not in current and selector not in change.add:
            out.add(
                [*parts, "remove", i],
                f"'{selector}' is not in the plugin's list, so it cannot be removed",
                suggest(selector, current)
                or ("the list holds: " + ", ".join(current) if current else "the list is empty"),
            )
    kept = [s for s in (*current, *change.add) if s not in change.remove]
    return tuple(dict.fromkeys(kept))


def _names(
    out: _Problems,
    parts: Sequence[Any],
    current: tuple[str, ...] | None,
    change: NameChange,
    known: set[str],
    what: str,
) -> tuple[str, ...] | None:
    base = change.set if change.set is not None else current
    if base is None and (change.add or change.remove):
        key = "remove" if change.remove else "add"
        out.add([*parts, key], f"every {what} is allowed now", f"name the {what}s to allow with 'set'")
        return None
    names = list(base or ())
    for key, values in (("set", change.set or ()), ("add", change.add)):
        for i, name in enumerate(values):
            if known and name not in known:
                out.add(
                    [*parts, key, i],
                    f"no {what} '{name}' here",
                    suggest(name, known),
                    warning=what == "column",
                )
    for i, name in enumerate(change.remove):
        if name not in names and name not in change.add:
            out.add(
                [*parts, "remove", i], f"'{name}' is not in the list, so it cannot be removed", suggest(name, names)
            )
    return tuple(dict.fromkeys(n for n in (*names, *change.add) if n not in change.remove))


def _plugin(out: _Problems, inv: Inventory, plugin: Plugin, change: PluginChange) -> Plugin:
    update: dict[str, Any] = {}
    for key in ("requires_approval", "blocked"):
        patch = getattr(change, key)
        if patch is not None:
            update[key] = _selectors(out, ("plugins", plugin.id, key), inv, plugin, getattr(plugin, key), patch)
    if change.kill_switch is not None:
        old = plugin.kill_switch.model_dump() if plugin.kill_switch else {"can_pause": False}
        new = {**old, **change.kill_switch.model_dump(exclude_unset=True)}
        if new.get("time_to_pause_seconds") is not None and "can_pause" not in change.kill_switch.model_fields_set:
            new["can_pause"] = True  # a pause time says it can pause
        update["kill_switch"] = PluginKillSwitch.model_validate(new)
    if change.users is not None:
        update["users"] = _users(out, inv, plugin, change.users)
    return plugin.model_copy(update=update)


def _users(
    out: _Problems, inv: Inventory, plugin: Plugin, change: Mapping[str, UsersChange]
) -> tuple[PluginUsers, ...]:
    """The plugin's team entries with ``change`` laid over them; a team the plugin has no entry for is a problem."""
    entries = {u.team: u for u in plugin.users}
    for team, patch in change.items():
        parts = ("plugins", plugin.id, "users", team)
        if team not in entries:
            has = ", ".join(entries) if entries else "none"
            elsewhere = f"team '{team}' is in the inventory, but " if team in inv.team_by_id else ""
            out.add(
                parts,
                f"{elsewhere}plugin '{plugin.id}' has no users in team '{team}': an overlay changes the team entries "
                "a plugin has, it adds none",
                suggest(team, list(entries)) or f"its teams: {has}; add a new team entry in the inventory itself",
            )
            continue
        headcount = inv.team_by_id[team].headcount
        if patch.users is not None and patch.users > headcount:
            out.add(
                (*parts, "users"),
                f"{patch.users:,} users but team '{team}' has a headcount of {headcount:,}",
                "lower the users or raise the team's headcount in the inventory",
            )
            continue
        runs = patch.runs_per_user_per_day
        if isinstance(runs, NotedRate) and runs.range is not None and not runs.range[0] <= runs.value <= runs.range[1]:
            out.add(
                (*parts, "runs_per_user_per_day", "range"),
                f"the range {list(runs.range)} does not hold the value {runs.value}",
                "give the range as [low, high] around the value",
            )
            continue
        fields: dict[str, Any] = {}
        if runs is not None:
            fields["runs_per_user_per_day"] = runs.value if isinstance(runs, NotedRate) else runs
        if patch.users is not None:
            fields["users"] = patch.users
        entries[team] = entries[team].model_copy(update=fields)
    return tuple(entries.values())


def _connector(out: _Problems, inv: Inventory, conn: Connector, change: ConnectorChange) -> Connector:
    parts = ("connectors", conn.id)
    update: dict[str, Any] = {
        k: getattr(change, k) for k in ("access", "row_limit", "requires_approval") if k in change.model_fields_set
    }
    datasets = inv.datasets_by_system.get(conn.system or "", ())
    if change.allowed_tables is not None:
        tables = {d.table_name for d in datasets}
        update["allowed_tables"] = _names(
            out, (*parts, "allowed_tables"), conn.allowed_tables, change.allowed_tables, tables, "table"
        )
    if change.denied_columns is not None:
        columns = {c.name for d in datasets for c in d.columns}
        update["denied_columns"] = _names(
            out, (*parts, "denied_columns"), conn.denied_columns, change.denied_columns, columns, "column"
        )
    if change.audit is not None:
        old = conn.audit.model_dump() if conn.audit else {}
        update["audit"] = Audit.model_validate({**old, **change.audit.model_dump(exclude_unset=True)})
    if change.revocation is not None:
        old = conn.revocation.model_dump() if conn.revocation else {"can_revoke": False}
        new = {**old, **change.revocation.model_dump(exclude_unset=True)}
        if new.get("time_to_revoke_seconds") is not None and "can_revoke" not in change.revocation.model_fields_set:
            new["can_revoke"] = True
        update["revocation"] = Revocation.model_validate(new)
    changed = conn.model_copy(update=update)
    threshold = changed.audit.alert_if_rows_returned_over if changed.audit else None
    if threshold is not None and changed.row_limit is not None and threshold > changed.row_limit:
        where = (*parts, "audit", "alert_if_rows_returned_over") if change.audit else (*parts, "row_limit")
        out.add(
            where,
            f"alert threshold {threshold:,} is above the row limit {changed.row_limit:,}, so the alert can never fire",
            f"set it below {changed.row_limit:,}, e.g. {changed.row_limit // 2:,}",
        )
    return changed


def _settings(out: _Problems, inv: Inventory, overlay: OverlayFile) -> dict[str, SettingsSource]:
    sections = dict(inv.settings)
    plugins = set(inv.plugin_by_id)
    for name in _SETTINGS:
        data = getattr(overlay, name)
        if data is None:
            continue
        own = SettingsSource(data=data, file=str(out.doc.file), path=name)
        problems = check_section(name, own, plugins=plugins)
        base = sections.get(name)
        if not problems:
            merged = SettingsSource(
                data=deep_merge(base.data, data) if base is not None else data,
                file=base.file if base is not None else str(out.doc.file),
                path=base.path if base is not None else name,
            )
            # the two together (a low above a high, say) are reported at the overlay
            problems = [
                Problem(
                    file=out.doc.file, path=name, message=f"laid over the inventory's own: {p.message}", hint=p.hint
                )
                for p in check_section(name, merged, plugins=plugins)
            ]
            sections[name] = merged
        for p in problems:
            out.problems.append(
                Problem(file=out.doc.file, path=p.path, line=out.doc.line_of(p.path), message=p.message, hint=p.hint)
            )
    return sections


def _apply(inv: Inventory, overlay: OverlayFile, doc: Document) -> Inventory:
    out = _Problems(doc)
    base_name = Path(inv.source).name if inv.source else None
    if overlay.base is not None and base_name is not None and overlay.base != base_name:
        out.add(
            ("base",),
            f"made for inventory '{overlay.base}', laid over '{base_name}'",
            "check it is the overlay you meant; ids are checked all the same",
            warning=True,
        )
    plugins = dict(inv.plugin_by_id)
    for pid, change in overlay.plugins.items():
        if pid not in plugins:
            _unknown(out, ("plugins", pid), "plugin", pid, plugins)
            continue
        plugins[pid] = _plugin(out, inv, plugins[pid], change)
    connectors = dict(inv.connector_by_id)
    for cid, conn_change in overlay.connectors.items():
        if cid not in connectors:
            _unknown(out, ("connectors", cid), "connector", cid, connectors)
            continue
        connectors[cid] = _connector(out, inv, connectors[cid], conn_change)
    settings = _settings(out, inv, overlay)
    if out.problems:
        raise OverlayError(sorted(out.problems, key=lambda p: p.line or 0), source=doc.file)
    changes: dict[str, Any] = {"settings": MappingProxyType(settings), "warnings": (*inv.warnings, *out.warnings)}
    if overlay.plugins:
        changes["plugins"] = list(plugins.values())
    if overlay.connectors:
        changes["connectors"] = list(connectors.values())
    return inv.replace(**changes)


# ---------------------------------------------------------------------------
# Writing: the overlay of a scenario, and an inventory as one file
# ---------------------------------------------------------------------------


def _list_change(old: Sequence[str], new: Sequence[str]) -> dict[str, list[str]]:
    change: dict[str, list[str]] = {}
    added = [s for s in new if s not in old]
    removed = [s for s in old if s not in new]
    if added:
        change["add"] = added
    if removed:
        change["remove"] = removed
    return change


def _record_change(old: BaseModel | None, new: BaseModel | None) -> dict[str, Any] | None:
    if old == new:
        return None
    if new is None:
        raise BlastRadiusError("an overlay cannot take away a kill switch, an audit or a revocation")
    return new.model_dump(mode="json", exclude_none=True)


def _mapping_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``new`` that differ from ``old``, nested (what :func:`deep_merge` lays over ``old`` to give
    ``new``)."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = _mapping_change(before, value)
            if inner:
                out[key] = inner
        elif key not in old or before != value:
            out[key] = value
    removed = [k for k in old if k not in new]
    if removed:
        raise BlastRadiusError(f"an overlay cannot remove settings ({', '.join(map(str, removed))})")
    return out


_PLUGIN_FIELDS = frozenset(PluginChange.model_fields)


def _users_change(old: Plugin, new: Plugin) -> dict[str, Any] | None:
    """The ``users:`` change (format 2) that turns ``old``'s team entries into ``new``'s; None if teams differ."""
    if [u.team for u in old.users] != [u.team for u in new.users]:
        return None
    change: dict[str, Any] = {}
    for before, after in zip(old.users, new.users, strict=True):
        fields = {
            key: getattr(after, key)
            for key in ("runs_per_user_per_day", "users")
            if getattr(before, key) != getattr(after, key)
        }
        if fields.get("users", 0) is None:
            return None  # back to the whole team: an overlay cannot say it
        if fields:
            change[after.team] = fields
    return change


_CONNECTOR_FIELDS = frozenset(ConnectorChange.model_fields)


def _unsupported(kind: str, old: BaseModel, new: BaseModel, allowed: frozenset[str]) -> list[str]:
    return [
        f"{kind} '{getattr(new, 'id', '')}'.{name}"
        for name in type(new).model_fields
        if name not in allowed and getattr(old, name) != getattr(new, name)
    ]


def overlay_from_changes(
    base: Inventory,
    scenario: Inventory,
    *,
    description: str,
    base_name: str | None = None,
    created: dt.date | None = None,
) -> dict[str, Any]:
    """The overlay (as data, see :func:`render_overlay`) that turns ``base`` into ``scenario``.

    ``scenario`` is ``base`` changed by levers (:mod:`blastradius.levers`) and settings; laid over
    ``base`` with :func:`apply_overlay_data`, the overlay gives an inventory that scores and
    simulates exactly as ``scenario``.

    Raises
    ------
    BlastRadiusError
        When the two differ in something an overlay cannot say (a plugin or connector added or
        removed, a tool changed ...), naming it.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.levers import with_approval_gate
    >>> inv = load_inventory("inventories/acme")
    >>> doc = overlay_from_changes(inv, with_approval_gate(inv, "ap-autopilot", "pay"), description="gate payments")
    >>> doc["plugins"]
    {'ap-autopilot': {'requires_approval': {'add': ['pay']}}}
    """
    problems: list[str] = []
    for kind in ("plugins", "connectors", "teams", "systems", "datasets", "people"):
        before = {r.id for r in getattr(base, kind)}
        after = {r.id for r in getattr(scenario, kind)}
        if before != after:
            problems.append(f"{kind} added or removed: " + ", ".join(sorted(before ^ after)[:5]))
    for kind in ("teams", "systems", "datasets", "people"):
        if getattr(base, kind) != getattr(scenario, kind) and not any(k.startswith(kind) for k in problems):
            problems.append(f"{kind} changed")
    if base.governance != scenario.governance:
        problems.append("the governance config changed")
    for name in set(base.settings) | set(scenario.settings):
        if name not in _SETTINGS and base.settings.get(name) != scenario.settings.get(name):
            problems.append(f"the '{name}' section changed")
    plugins: dict[str, Any] = {}
    for new in scenario.plugins:
        old = base.plugin_by_id.get(new.id)
        if old is None or old == new:
            continue
        problems.extend(_unsupported("plugin", old, new, _PLUGIN_FIELDS))
        change: dict[str, Any] = {}
        for key in ("requires_approval", "blocked"):
            diff = _list_change(getattr(old, key), getattr(new, key))
            if diff:
                change[key] = diff
        ks = _record_change(old.kill_switch, new.kill_switch)
        if ks is not None:
            change["kill_switch"] = ks
        if old.users != new.users:
            users = _users_change(old, new)
            if users is None:
                problems.append(f"plugin '{new.id}'.users: team entries added or removed")
            else:
                change["users"] = users
        if change:
            plugins[new.id] = change
    connectors: dict[str, Any] = {}
    for new_c in scenario.connectors:
        old_c = base.connector_by_id.get(new_c.id)
        if old_c is None or old_c == new_c:
            continue
        problems.extend(_unsupported("connector", old_c, new_c, _CONNECTOR_FIELDS))
        cchange: dict[str, Any] = {}
        if old_c.access != new_c.access:
            if new_c.access is None:
                problems.append(f"connector '{new_c.id}'.access removed")
            else:
                cchange["access"] = new_c.access.value
        if old_c.row_limit != new_c.row_limit:
            if new_c.row_limit is None:
                problems.append(f"connector '{new_c.id}'.row_limit removed")
            cchange["row_limit"] = new_c.row_limit
        if old_c.requires_approval != new_c.requires_approval:
            cchange["requires_approval"] = new_c.requires_approval
        if old_c.allowed_tables != new_c.allowed_tables:
            if new_c.allowed_tables is None:
                problems.append(f"connector '{new_c.id}'.allowed_tables widened to every table")
            else:
                cchange["allowed_tables"] = {"set": list(new_c.allowed_tables)}
        diff = _list_change(old_c.denied_columns, new_c.denied_columns)
        if diff:
            cchange["denied_columns"] = diff
        for key in ("audit", "revocation"):
            try:
                rec = _record_change(getattr(old_c, key), getattr(new_c, key))
            except BlastRadiusError as exc:
                problems.append(f"connector '{new_c.id}'.{key}: {exc}")
                continue
            if rec is not None:
                cchange[key] = rec
        if cchange:
            connectors[new_c.id] = cchange
    settings: dict[str, Any] = {}
    for name in _SETTINGS:
        old_s, new_s = base.settings.get(name), scenario.settings.get(name)
        if old_s == new_s or new_s is None:
            if new_s is None and old_s is not None:
                problems.append(f"the '{name}' section removed")
            continue
        try:
            diff_s = _mapping_change(old_s.data if old_s is not None else {}, new_s.data)
        except BlastRadiusError as exc:
            problems.append(str(exc))
            continue
        if diff_s:
            settings[name] = diff_s
    if problems:
        raise BlastRadiusError("an overlay cannot say this change: " + "; ".join(problems))
    # the oldest format that can say it, so that an older blastradius reads what it can
    version = 2 if any("users" in change for change in plugins.values()) else 1
    doc: dict[str, Any] = {"overlay": version, "description": description}
    if base_name is None and base.source:
        base_name = Path(base.source).name
    if base_name:
        doc["base"] = base_name
    doc["created"] = (created or dt.date.today()).isoformat()
    if plugins:
        doc["plugins"] = plugins
    if connectors:
        doc["connectors"] = connectors
    doc.update(settings)
    return doc


_HEADER = """\
# A blastradius overlay: changes laid over an inventory by id; the inventory's files stay as they are.
# Use it with any command that reads an inventory, e.g.
#   blastradius score DIR --overlay {name}
#   blastradius simulate DIR --overlay {name}
# (docs/workshop.md describes the format).
"""


def render_overlay(data: Mapping[str, Any], *, name: str = "FILE") -> str:
    """The overlay ``data`` as the text of an overlay file (YAML), with a header saying how to use it."""
    body = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return _HEADER.format(name=name) + body


def write_overlay(data: Mapping[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the overlay ``data`` to ``path`` (checked first: it must read back as a valid overlay).

    Raises
    ------
    BlastRadiusError
        ``path`` exists and ``overwrite`` is false, or it cannot be written.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise BlastRadiusError(f"refusing to overwrite {path}: choose another name, or allow overwriting it")
    if path.is_dir():
        raise BlastRadiusError(f"{path} is a directory: give a file name ending in .yaml")
    text = render_overlay(data, name=str(path))
    _validate(Document(file=path, data=yaml.safe_load(text)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise BlastRadiusError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _dump(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def write_inventory(inv: Inventory, directory: str | Path, *, note: str = "") -> Path:
    """Write ``inv`` as one inventory file, ``DIRECTORY/inventory.yaml``, that loads back to the same inventory.

    For a command that reads an inventory directory (the rollout report) given an overlaid
    inventory. Connector policies and governance entries are written as merged into their
    connectors; ``directory`` must be new or empty.

    Raises
    ------
    BlastRadiusError
        ``directory`` holds files already.
    """
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BlastRadiusError(f"refusing to write an inventory into {directory}: it is not empty")
    directory.mkdir(parents=True, exist_ok=True)
    governance = inv.governance.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    if inv.governance.connectors:
        # the loader merges these into the connectors, which hold them already: written to agree with them
        entries = {}
        for cid, entry in inv.governance.connectors.items():
            fields = entry.model_dump(mode="json", exclude_unset=True)
            conn = inv.connector_by_id.get(cid)
            if conn is not None:
                current = conn.model_dump(mode="json")
                fields = {k: current[k] for k in fields}
            entries[cid] = fields
        governance["connectors"] = entries
    data: dict[str, Any] = {
        "teams": [_dump(t) for t in inv.teams],
        "systems": [_dump(s) for s in inv.systems],
        "datasets": [_dump(d) for d in inv.datasets],
        "people": [_dump(p) for p in inv.people],
        "connectors": [_dump(c) for c in inv.connectors],
        "plugins": [_dump(p) for p in inv.plugins],
    }
    if governance:
        data["governance"] = governance
    for name, section in inv.settings.items():
        data[name] = section.data["acceptances"] if name == "acceptances" and not section.path else section.data
    data = {k: v for k, v in data.items() if v != []}
    head = "# An inventory written whole by blastradius" + (f": {note}" if note else "") + "\n"
    path = directory / "inventory.yaml"
    text = head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(text, encoding="utf-8")
    return path
