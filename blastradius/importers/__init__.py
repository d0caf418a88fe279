"""Draft an inventory from what an enterprise already has (plugin folders, MCP configs, tool listings, permissions).

One verb, :func:`import_sources`, reads sources of one kind and writes (or
merges) a draft inventory directory that loads with
:func:`blastradius.load_inventory` and scores, with comments and TODOs where
the analyst must fill in what no config knows (owners, users, record counts,
people reached). The returned :class:`ImportReport` holds the summary, every
inference with its reason, and the TODO list.

========================  =================================================================
kind                      paths
========================  =================================================================
``plugins``               marketplace folders, plugin folders, ``marketplace.json``, ``plugin.json``
``mcp-config``            ``claude_desktop_config.json``, ``.mcp.json``, ``.vscode/mcp.json``, ``.cursor/mcp.json``
``mcp-tools``             ``tools/list`` results, one server per file (``crm.tools.json``)
``permissions``           Claude Code settings (``permissions.allow/ask/deny``), ``toolPermissions``
========================  =================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blastradius.errors import Problem
from blastradius.importers.catalog import ConnectorCatalog, load_catalog
from blastradius.importers.draft import TODO_GROUPS, UNASSIGNED_TEAM, Draft, Inference
from blastradius.importers.errors import ImportSourceError
from blastradius.importers.sources import (
    read_mcp_configs,
    read_permissions,
    read_plugin_sources,
    read_tool_listings,
)
from blastradius.importers.writer import (
    STATE_DIR,
    TODO_FILE,
    existing_inventory_files,
    is_import_draft,
    read_state,
    write_draft,
)
from blastradius.model import Inventory

__all__ = [
    "IMPORT_KINDS",
    "ImportReport",
    "ImportSourceError",
    "Inference",
    "draft_banner",
    "draft_stand_ins",
    "import_sources",
    "is_import_draft",
    "open_todos",
    "report_lines",
    "todo_lines",
]

#: The kinds of source :func:`import_sources` reads.
IMPORT_KINDS = ("plugins", "mcp-config", "mcp-tools", "permissions")


@dataclass(frozen=True, kw_only=True)
class ImportReport:
    """What an import did and what the draft still needs.

    Attributes
    ----------
    kind : str
        The kind of source imported.
    out : Path
        The draft directory.
    files : tuple of Path
        Files written (inventory files, ``IMPORT-TODO.md``, the log).
    plugins, connectors : tuple of str
        Ids in the draft after this import.
    shared_connectors : mapping of str to tuple of str
        Connector id -> the plugins sharing it (two or more).
    tools : int
        Tools in the draft.
    unknown_tools : tuple of str
        ``connector.tool`` of every tool whose action is ``unknown``.
    inferences : tuple of Inference
        Everything inferred rather than read, with its reason.
    todo : tuple of str
        What the analyst must still fill in (also in ``IMPORT-TODO.md``).
    kept : tuple of str
        Records (``kind:id``) the analyst had edited, left as they were.
    permissions : mapping of str to mapping of str to int
        For a permissions import: per plugin, tools gated, blocked, allowed and unmatched.
    ignored_rules : int
        Permission rules not about MCP tools (Bash, Read …), ignored.
    credentials : tuple of str
        One line per server (or file) of this import whose credentials were replaced by
        ``${…}`` placeholders: how many, where and what kind, never the values (also in
        the log, ``.blastradius-import/log.json``).
    credentials_replaced : int
        How many credentials this import replaced.
    remote : mapping of str to str
        Marketplace entries from remote sources, not imported: name -> source and pinned commit.
    skipped : tuple of str
        Problems of sources left out (a plugin or file with a problem, in a partial import).
    todo_groups : mapping of str to int
        How many TODO items per group of :data:`~blastradius.importers.draft.TODO_GROUPS`.
    todo_file : Path or None
        Where the TODO list was written.
    """

    kind: str
    out: Path
    files: tuple[Path, ...]
    plugins: tuple[str, ...]
    connectors: tuple[str, ...]
    shared_connectors: Mapping[str, tuple[str, ...]]
    tools: int
    unknown_tools: tuple[str, ...]
    inferences: tuple[Inference, ...]
    todo: tuple[str, ...]
    kept: tuple[str, ...] = ()
    permissions: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    ignored_rules: int = 0
    credentials: tuple[str, ...] = ()
    credentials_replaced: int = 0
    remote: Mapping[str, str] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    todo_groups: Mapping[str, int] = field(default_factory=dict)
    todo_file: Path | None = None

    def summary(self) -> dict[str, int]:
        """Counts for a one-screen summary."""
        return {
            "plugins": len(self.plugins),
            "connectors": len(self.connectors),
            "shared_connectors": len(self.shared_connectors),
            "tools": self.tools,
            "unknown_tools": len(self.unknown_tools),
            "inferences": len(self.inferences),
            "todo": len(self.todo),
            "credentials_replaced": self.credentials_replaced,
            "remote": len(self.remote),
            "skipped": len(self.skipped),
        }


def report_lines(report: ImportReport, *, top: int = 10) -> list[str]:
    """The summary a command line prints after an import, one line per item, and the first ``top`` TODO items.

    Examples
    --------
    >>> r = ImportReport(
    ...     kind="plugins",
    ...     out=Path("draft"),
    ...     files=(),
    ...     plugins=("a", "b"),
    ...     connectors=("crm",),
    ...     shared_connectors={"crm": ("a", "b")},
    ...     tools=3,
    ...     unknown_tools=(),
    ...     inferences=(),
    ...     todo=(),
    ...     remote={"c": "github:acme/c @ 1a2b3c"},
    ... )
    >>> print("\\n".join(report_lines(r)))
    draft: draft inventory (plugins import)
      plugins            2 imported, 1 remote (not imported)
      connectors         1 (1 shared)
      tools              3 (0 of unknown action)
      shared connectors  crm: a, b
      remote plugins     c: github:acme/c @ 1a2b3c
    """
    s = report.summary()
    plugins = f"{s['plugins']:,}"
    if s["remote"] or s["skipped"]:
        plugins += " imported"
        plugins += f", {s['remote']:,} remote (not imported)" if s["remote"] else ""
        plugins += f", {s['skipped']:,} problem{'s' if s['skipped'] != 1 else ''} left out" if s["skipped"] else ""
    lines = [
        f"{report.out}: draft inventory ({report.kind} import)",
        f"  plugins            {plugins}",
        f"  connectors         {s['connectors']:,} ({s['shared_connectors']} shared)",
        f"  tools              {s['tools']:,} ({s['unknown_tools']} of unknown action)",
    ]
    shared = sorted(report.shared_connectors.items(), key=lambda kv: (-len(kv[1]), kv[0]))  # widest first
    for i, (cid, plugins_of) in enumerate(shared[:top]):
        users = ", ".join(plugins_of[:6]) + (f" (and {len(plugins_of) - 6} more)" if len(plugins_of) > 6 else "")
        lines.append(f"  {'shared connectors' if i == 0 else '':<17}  {cid}: {users}")
    if len(shared) > top:
        lines.append(f"{'':<21}… {len(shared) - top:,} more in connectors.yaml")
    for i, (name, where) in enumerate(list(report.remote.items())[:top]):
        lines.append(f"  {'remote plugins' if i == 0 else '':<17}  {name}: {where}")
    if len(report.remote) > top:
        lines.append(f"{'':<21}… {len(report.remote) - top:,} more in IMPORT-TODO.md")
    if report.unknown_tools:
        shown = ", ".join(report.unknown_tools[:top])
        more = len(report.unknown_tools) - top
        lines.append("  unknown actions    " + shown + (f" (and {more:,} more)" if more > 0 else ""))
    for pid, c in report.permissions.items():
        lines.append(
            f"  permissions        {pid}: {c['gated']} gated, {c['blocked']} blocked, {c['allowed']} allowed, "
            f"{c['unmatched']} unmatched"
        )
    if report.credentials:
        lines.append(
            f"  credentials        {s['credentials_replaced']:,} replaced with placeholders, values not copied "
            f"(where: {STATE_DIR}/log.json)"
        )
        lines.extend(f"                     {line}" for line in report.credentials[:top])
        if len(report.credentials) > top:
            lines.append(f"                     … {len(report.credentials) - top:,} more in {STATE_DIR}/log.json")
    if report.ignored_rules:
        lines.append(f"  ignored rules      {report.ignored_rules} (not about MCP tools)")
    if report.kept:
        lines.append(
            f"  kept as edited     {', '.join(report.kept)} (importer's version in {STATE_DIR}/proposals.yaml)"
        )
    if report.skipped:
        lines.append(f"\nLeft out because of a problem ({len(report.skipped):,}; the rest was imported):")
        lines.extend(f"  - {line}" for line in report.skipped[:top])
        if len(report.skipped) > top:
            lines.append(f"  … {len(report.skipped) - top:,} more in IMPORT-TODO.md")
    if report.todo:
        todo_path = report.todo_file or report.out / TODO_FILE
        groups = "; ".join(f"{_GROUP_LABELS[g]} {n:,}" for g, n in report.todo_groups.items() if n)
        lines.append(f"\n{len(report.todo):,} things to fill in" + (f" ({groups})" if groups else "") + ";")
        lines.append(f"the first {min(top, len(report.todo))}, what makes figures non-zero first (all in {todo_path}):")
        lines.extend(f"  - {t}" for t in report.todo[:top])
    return lines


#: Short names of the TODO groups for the one-line count.
_GROUP_LABELS = {
    "figures": "to make figures non-zero",
    "reach": "reach",
    "tools": "tools",
    "scope": "controls",
    "remote": "remote plugins",
    "skipped": "left out",
    "check": "to check",
}


def import_sources(
    kind: str,
    paths: list[Path],
    out: Path,
    *,
    merge: bool = False,
    catalog: ConnectorCatalog | str | Path | None = None,
    strict: bool = False,
    checkouts: str | Path | None = None,
) -> ImportReport:
    """Read sources of one kind and write (or merge) a draft inventory into ``out``.

    Parameters
    ----------
    kind : {'plugins', 'mcp-config', 'mcp-tools', 'permissions'}
        What ``paths`` hold.
    paths : list of Path
        The source files or folders.
    out : Path
        The draft directory. Without ``merge`` it must not hold an inventory yet.
    merge : bool
        Merge into the draft (or hand-written inventory) in ``out``: records and
        fields the analyst edited win, new records are added, nothing is lost.
    catalog : ConnectorCatalog, str or Path, optional
        The connector catalog; the one shipped with the package by default.
    strict : bool
        Fail on any problem. By default a plugin (or file) with a problem is left out with a
        warning (in the report and the TODO list) and the rest is imported.
    checkouts : str or Path, optional
        A folder of local checkouts of remote marketplace entries (``DIR/name``,
        ``DIR/owner/name`` or ``DIR/owner+name``): those found are imported too.

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportSourceError
        When a source is invalid (every problem, each naming its file), ``out``
        already holds an inventory and ``merge`` is False, or permissions are
        imported before any plugin.

    Examples
    --------
    >>> import tempfile
    >>> from blastradius import load_inventory
    >>> out = Path(tempfile.mkdtemp()) / "draft"
    >>> report = import_sources(
    ...     "mcp-tools", [Path("/work/shared/samples/mcp-tools/crm.tools.json")], out
    ... )  # doctest: +SKIP
    """
    if kind not in IMPORT_KINDS:
        raise ImportSourceError(
            [
                Problem(
                    file=None,
                    path="",
                    message=f"unknown import kind '{kind}'",
                    hint="use one of: " + ", ".join(IMPORT_KINDS),
                )
            ]
        )
    paths = [Path(p) for p in paths]
    out = Path(out)
    if not paths:
        raise ImportSourceError(
            [Problem(file=None, path="", message=f"nothing to import: give at least one {kind} path")]
        )
    if out.exists() and not out.is_dir():
        raise ImportSourceError(
            [
                Problem(
                    file=out,
                    path="",
                    message="the output must be a directory",
                    hint="give a new directory, e.g. inventories/draft",
                )
            ]
        )
    existing = existing_inventory_files(out)
    if existing and not merge:
        raise ImportSourceError(
            [
                Problem(
                    file=out,
                    path="",
                    message=f"already holds an inventory ({len(existing)} file{'s' if len(existing) != 1 else ''}, "
                    f"e.g. {existing[0].name}); "
                    "refusing to overwrite it",
                    hint="merge into it with --merge (your edits are kept), or choose a new directory",
                )
            ]
        )
    cat = catalog if isinstance(catalog, ConnectorCatalog) else load_catalog(catalog)
    state = read_state(out) if merge else None
    draft = Draft.from_state(state.get("draft") if state else None)
    if kind == "permissions" and not draft.records["plugins"]:
        raise ImportSourceError(
            [
                Problem(
                    file=out,
                    path="",
                    message="no imported plugin to apply permissions to",
                    hint=f"import plugins or an MCP config into {out} first, then the permissions with --merge",
                )
            ]
        )
    permissions: dict[str, dict[str, int]] = {}
    ignored = 0
    skipped: list[Problem] | None = None if strict else []
    found: list[Any] = []
    if kind == "plugins":
        found = read_plugin_sources(paths, skipped=skipped, checkouts=Path(checkouts) if checkouts else None)
    elif kind == "mcp-config":
        found = read_mcp_configs(paths, skipped=skipped)
    elif kind == "mcp-tools":
        found = read_tool_listings(paths, skipped=skipped)
    else:
        rules, ignored = read_permissions(paths)
    if skipped and not found and kind != "permissions":  # nothing left to import: the problems are the answer
        raise ImportSourceError(skipped)
    if kind in ("plugins", "mcp-config"):
        draft.add_plugins(found, cat)
    elif kind == "mcp-tools":
        draft.add_tool_listings(found)
    else:
        permissions = draft.apply_permissions(rules)
    draft.finish()
    left_out = tuple(_problem_line(p) for p in skipped or [])
    todo = draft.todo(out, skipped=left_out)
    stamp = {
        "kind": kind,
        "paths": [str(p) for p in paths],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    result = write_draft(draft, out, state=state, imports=[stamp], todo=todo)
    return ImportReport(
        kind=kind,
        out=out,
        files=result.files,
        plugins=tuple(sorted(draft.records["plugins"])),
        connectors=tuple(sorted(draft.records["connectors"])),
        shared_connectors=draft.shared_connectors(),
        tools=sum(len(c.get("tools", [])) for c in draft.records["connectors"].values()),
        unknown_tools=tuple(draft.unknown_tools()),
        inferences=tuple(draft.inferences),
        todo=tuple([t.text for t in todo] + list(result.notes)),
        remote=dict(draft.remote),
        skipped=left_out,
        todo_groups={g: sum(t.group == g for t in todo) for g in TODO_GROUPS},
        todo_file=result.todo_file,
        kept=result.kept,
        permissions=permissions,
        ignored_rules=ignored,
        credentials=tuple(c["message"] for c in draft.replaced_now),
        credentials_replaced=sum(c["count"] for c in draft.replaced_now),
    )


def draft_stand_ins(directory: str | Path, inventory: Inventory) -> dict[str, int]:
    """What of a draft is a stand-in, by kind (only kinds present): a draft's figures are bounds, not facts.

    The facts the inventory leaves open (:func:`blastradius.domain.stand_ins`: datasets of
    unknown size, people groups of unknown count, tools of unknown action), the connectors
    whose tools are the catalog's typical ones rather than their own listing, and the
    placeholder owner team. Empty for an inventory that is not an import draft.
    """
    if not is_import_draft(directory):
        return {}
    from blastradius.domain import stand_ins

    found = stand_ins(inventory)
    try:
        state = read_state(Path(directory)) or {}
    except ImportSourceError:
        state = {}
    facts = (state.get("draft") or {}).get("facts") or {}
    present = {c.id for c in inventory.connectors}
    counts = {
        "datasets of unknown size": len(found.datasets),
        "people groups of unknown count": len(found.people),
        "tools of unknown action": len(found.tools),
        "connectors with the catalog's typical tools": sum(
            f.get("tools_from") == "catalog" for c, f in facts.items() if c in present
        ),
        "placeholder owner team": int(any(t.id == UNASSIGNED_TEAM for t in inventory.teams)),
    }
    return {k: v for k, v in counts.items() if v}


def draft_banner(directory: str | Path, inventory: Inventory) -> str | None:
    """One line saying a draft is a draft and how many stand-ins it holds, or None when it is not a draft.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> draft_banner("inventories/acme", load_inventory("inventories/acme")) is None
    True
    """
    if not is_import_draft(directory):
        return None
    counts = draft_stand_ins(directory, inventory)
    total = sum(counts.values())
    parts = ", ".join(f"{n:,} {_singular(what) if n == 1 else what}" for what, n in counts.items())
    return (
        f"DRAFT: {total:,} stand-in{'s' if total != 1 else ''}" + (f" ({parts})" if parts else "") + "; figures "
        "resting on them are bounds, not facts, until IMPORT-TODO.md is worked through"
    )


def _singular(what: str) -> str:
    """``datasets of unknown size`` -> ``dataset of unknown size``; ``connectors with …`` -> ``connector with …``."""
    head, _, rest = what.partition(" of ") if " of " in what else what.partition(" with ")
    sep = " of " if " of " in what else " with " if " with " in what else ""
    words = head.split(" ")
    words[-1] = words[-1].removesuffix("s") if words[-1] != "team" else words[-1]
    return " ".join(words) + (sep + rest if sep else "")


def _problem_line(problem: Problem) -> str:
    """One line for a problem of a source left out: where, what, and how to fix it."""
    return f"{problem.location()}: {problem.message}" + (f" ({problem.hint})" if problem.hint else "")


def todo_lines(directory: str | Path, *, top: int = 10) -> list[str]:
    """What a command prints about a draft's open TODO items: how many, the first ``top`` and where the rest are.

    Empty when ``directory`` holds no import TODO list.
    """
    todo = open_todos(directory)
    if not todo:
        return []
    path = Path(directory) / TODO_FILE
    lines = [
        f"Draft: {len(todo):,} thing{'s' if len(todo) != 1 else ''} still to fill in; "
        f"the first {min(top, len(todo))}, what makes figures non-zero first (all in {path}; tick them off there):"
    ]
    lines.extend(f"  - {item}" for item in todo[:top])
    return lines


def open_todos(directory: str | Path) -> list[str]:
    """What an imported draft still needs: the unchecked items of its IMPORT-TODO.md (empty when there is none)."""
    path = Path(directory) / TODO_FILE
    if not path.is_file():
        return []
    return [
        line[len("- [ ] ") :].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("- [ ] ")
    ]
