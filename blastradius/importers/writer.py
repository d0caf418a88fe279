"""Write a draft as readable YAML inventory files, and merge it into an earlier draft without losing an edit.

Files: ``teams.yaml``, ``systems.yaml``, ``connectors.yaml``, ``plugins.yaml``
(records with the importer's comments and TODOs above them), ``IMPORT-TODO.md``
(what the analyst must still fill in; the loader ignores ``.md`` files) and the
hidden ``.blastradius-import/`` directory (the loader ignores it too): the
import log (``log.json``: imports, inferences, credentials replaced by
placeholders, TODOs) and the state the next ``--merge`` needs
(``state.json``: the draft, and the exact text of every file and record block
the importer wrote).

Merging never rewrites anything the analyst changed:

- a file byte-identical to what the importer last wrote is rewritten whole;
- otherwise only record blocks still byte-identical to what the importer wrote
  are replaced, in place; a record the analyst edited, or defined themselves,
  is kept as it is and the importer's version goes to
  ``.blastradius-import/proposals.yaml`` with a TODO;
- a new record goes to its kind's file when that file is unchanged, else to a
  new ``imported-<n>.yaml``; a record the analyst deleted is not brought back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from blastradius.errors import Problem
from blastradius.importers.draft import KINDS, TODO_GROUPS, Draft, TodoItem
from blastradius.importers.errors import ImportSourceError
from blastradius.loader import inventory_files
from blastradius.settings.files import parse_text, read_text

__all__ = [
    "STATE_DIR",
    "TODO_FILE",
    "WriteResult",
    "existing_inventory_files",
    "read_state",
    "render_record",
    "render_todo",
    "write_draft",
]

STATE_DIR = ".blastradius-import"
TODO_FILE = "IMPORT-TODO.md"
_HEADERS = {
    "teams": "Teams. Imported plugins are owned by the placeholder team 'unassigned' until you name the real ones.",
    "systems": (
        "Systems the connectors reach. Each has a placeholder dataset of unknown size: replace it with real tables."
    ),
    "connectors": "Connectors (MCP servers), one per server name, shared by every plugin that uses it.",
    "plugins": "Plugins and MCP clients, each with the connectors its config declares.",
}


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _comment(lines: list[str], indent: str) -> str:
    return "".join(f"{indent}# {' '.join(line.split())}\n" for line in lines)


def render_record(kind: str, record: Mapping[str, Any], comments: Mapping[str, list[str]]) -> str:
    """One record as a YAML list item (indented for a section), with the importer's comments.

    Examples
    --------
    >>> print(
    ...     render_record("teams", {"id": "unassigned", "headcount": 0}, {"teams:unassigned": ["placeholder"]}), end=""
    ... )
      # placeholder
      - id: unassigned
        headcount: 0
    """
    out = _comment(comments.get(f"{kind}:{record['id']}", []), "  ")
    first = True
    for key, value in record.items():
        lead = "  - " if first else "    "
        first = False
        if kind == "connectors" and key == "tools" and value:
            out += f"{lead}tools:\n"
            for tool in value:
                out += _comment(comments.get(f"tool:{record['id']}.{tool['name']}", []), "      ")
                out += f"      - {_flow(tool)}\n"
        elif kind == "systems" and key in ("datasets", "people") and value:
            out += f"{lead}{key}:\n" + "".join(f"      - {_flow(item)}\n" for item in value)
            if key == "datasets":
                out += "      # TODO: records: N  (unknown until given; never read as zero)\n"
        else:
            out += f"{lead}{key}: {_flow(value)}\n"
    return out


def _render_file(kind: str, blocks: list[str]) -> str:
    return (
        f"# {_HEADERS[kind]}\n"
        "# Written by `blastradius import`; edit freely: a later --merge keeps your edits.\n"
        f"{kind}:\n" + "\n".join(blocks)
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_import_draft(directory: str | Path) -> bool:
    """Whether ``directory`` holds a draft written by ``blastradius import`` (its import state is there)."""
    return (Path(directory) / STATE_DIR).is_dir()


def existing_inventory_files(out: Path) -> list[Path]:
    """Inventory files (those the loader would read: :func:`blastradius.loader.inventory_files`) already in ``out``."""
    if not out.is_dir():
        return []
    return inventory_files(out, required=False)


def read_state(out: Path) -> dict[str, Any] | None:
    """The state the previous import left in ``out``, or None."""
    file = out / STATE_DIR / "state.json"
    if not file.is_file():
        return None
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportSourceError(
            [
                Problem(
                    file=file,
                    path="",
                    message=f"the import state is unreadable: {exc}",
                    hint=f"remove {STATE_DIR}/ to merge as into an inventory written by hand",
                )
            ]
        ) from None
    return state if isinstance(state, dict) and state.get("version") == 1 else None


def _ids_in_files(files: Mapping[Path, str]) -> tuple[dict[str, set[str]], list[Problem]]:
    """Ids of each kind defined in the directory's YAML/JSON files (analyst records included)."""
    ids: dict[str, set[str]] = {k: set() for k in (*KINDS, "datasets", "people")}
    problems: list[Problem] = []
    for file, text in files.items():
        if file.suffix.lower() == ".csv":
            continue
        try:  # the input boundary's rules: no anchors or aliases, bounded nesting, a key once
            data = parse_text(file, text, error=ImportSourceError).data
        except ImportSourceError as exc:
            problems.extend(
                Problem(
                    file=file,
                    path=p.path,
                    line=p.line,
                    message=f"cannot merge: {p.message}",
                    hint="fix the file (blastradius validate shows where), then import again",
                )
                for p in exc.problems
            )
            continue
        if not isinstance(data, dict):
            continue
        for kind, found in ids.items():
            for item in data.get(kind) or [] if isinstance(data.get(kind), list) else []:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.add(item["id"])
        for system in data.get("systems") or [] if isinstance(data.get("systems"), list) else []:
            if isinstance(system, dict):
                for kind in ("datasets", "people"):
                    for item in system.get(kind) or [] if isinstance(system.get(kind), list) else []:
                        if isinstance(item, dict) and isinstance(item.get("id"), str):
                            ids[kind].add(item["id"])
    return ids, problems


@dataclass(frozen=True, kw_only=True)
class WriteResult:
    """What writing the draft did: files written, records kept as the analyst left them, records not brought back."""

    files: tuple[Path, ...] = ()
    kept: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    proposals: Path | None = None
    todo_file: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def render_todo(todo: list[TodoItem]) -> str:
    """``IMPORT-TODO.md``: the items grouped by what they unlock, with counts, what makes figures non-zero first.

    Examples
    --------
    >>> print(render_todo([TodoItem(group="figures", text="teams: add them")]))
    # What the imported draft still needs
    <BLANKLINE>
    1 thing to fill in, by what it unlocks:
    <BLANKLINE>
    ## Make the figures non-zero: who runs the plugins (1)
    <BLANKLINE>
    - [ ] teams: add them
    <BLANKLINE>
    """
    n = len(todo)
    text = "# What the imported draft still needs\n\n"
    text += f"{n:,} thing{'s' if n != 1 else ''} to fill in, by what {'they unlock' if n != 1 else 'it unlocks'}:\n"
    for group, title in TODO_GROUPS.items():
        items = [t.text for t in todo if t.group == group]
        if items:
            text += f"\n## {title} ({len(items):,})\n\n" + "".join(f"- [ ] {t}\n" for t in items)
    return text


def write_draft(
    draft: Draft, out: Path, *, state: Mapping[str, Any] | None, imports: list[dict[str, Any]], todo: list[TodoItem]
) -> WriteResult:
    """Write (or merge) ``draft`` into ``out``; see the module docstring for the merge rules."""
    out.mkdir(parents=True, exist_ok=True)
    prev_files: dict[str, str] = dict(state.get("files", {})) if state else {}
    prev_blocks: dict[str, dict[str, str]] = dict(state.get("blocks", {})) if state else {}
    current = {p: read_text(p, error=ImportSourceError) for p in existing_inventory_files(out)}  # size-limited
    dir_ids, problems = _ids_in_files(current)
    if problems:
        raise ImportSourceError(problems)
    texts: dict[Path, str] = {}  # files to write
    blocks: dict[str, dict[str, str]] = {}
    kept, deleted, proposals, notes = [], [], [], []
    new_by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    whole: set[Path] = set()  # files rendered whole (not spliced): their hash marks them unchanged

    for kind in KINDS:
        std = out / f"{kind}.yaml"
        rel = std.name
        unchanged = std.is_file() and prev_files.get(rel) == _sha(current.get(std, ""))
        fresh = not std.exists()
        mine_in_std: list[tuple[str, str]] = []
        text = current.get(std)
        for rid, record in draft.records[kind].items():
            key = f"{kind}:{rid}"
            block = render_record(kind, record, draft.comments)
            prev = prev_blocks.get(key)
            if rid in dir_ids[kind]:
                if prev and prev["file"] == rel and (unchanged or (text is not None and text.count(prev["text"]) == 1)):
                    if unchanged:
                        mine_in_std.append((rid, block))
                    else:
                        assert text is not None  # not unchanged: the test above found the block in the text
                        text = text.replace(prev["text"], block)
                        texts[std] = text
                    blocks[key] = {"file": rel, "text": block}
                elif (
                    prev
                    and prev["file"] != rel
                    and (out / prev["file"]).is_file()
                    and current.get(out / prev["file"], "").count(prev["text"]) == 1
                ):
                    other = out / prev["file"]
                    texts[other] = texts.get(other, current[other]).replace(prev["text"], block)
                    blocks[key] = {"file": prev["file"], "text": block}
                else:
                    if prev is None or prev["text"] != block:  # the importer has something new to say
                        kept.append(key)
                        proposals.append((kind, record, block))
                    if prev:
                        blocks[key] = prev
            elif prev is not None:
                deleted.append(key)
                blocks[key] = prev
            elif kind == "systems" and _nested_clash(record, dir_ids):
                notes.append(f"system '{rid}' not added: its placeholder dataset or people id is already used")
            elif fresh or unchanged:
                mine_in_std.append((rid, block))
                blocks[key] = {"file": rel, "text": block}
            else:
                new_by_kind[kind].append(block)
                blocks[key] = {"file": "", "text": block}  # file set below
        if (fresh or unchanged) and mine_in_std:
            texts[std] = _render_file(kind, [b for _, b in mine_in_std])
            whole.add(std)

    if any(new_by_kind.values()):
        n = 1
        while (out / f"imported-{n}.yaml").exists():
            n += 1
        name = f"imported-{n}.yaml"
        parts = [f"# New records of an import merged into an edited draft (see {TODO_FILE}).\n"]
        for kind in KINDS:
            if new_by_kind[kind]:
                parts.append(f"{kind}:\n" + "\n".join(new_by_kind[kind]))
                for key, b in blocks.items():
                    if key.startswith(f"{kind}:") and b["file"] == "":
                        b["file"] = name
        texts[out / name] = "".join(parts)
        whole.add(out / name)

    for file, text in texts.items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:  # pragma: no cover - the renderer writes valid YAML
            raise ImportSourceError(
                [Problem(file=file, path="", message=f"the draft would not be valid YAML: {exc}")]
            ) from None

    state_dir = out / STATE_DIR
    state_dir.mkdir(exist_ok=True)
    written = []
    for file, text in sorted(texts.items()):
        if current.get(file) != text:
            file.write_text(text, encoding="utf-8")
            written.append(file)
    proposal_file = None
    if proposals:
        proposal_file = state_dir / "proposals.yaml"
        body = "# The importer's version of records you have edited or defined yourself: copy what you want.\n"
        for kind in KINDS:
            items = [b for k, _, b in proposals if k == kind]
            if items:
                body += f"{kind}:\n" + "\n".join(items)
        proposal_file.write_text(body, encoding="utf-8")
        written.append(proposal_file)
    todo_file = out / TODO_FILE
    todo = [
        *todo,
        *(
            TodoItem(
                group="check",
                text=f"{k.replace(':', ' ', 1)}: kept as you edited it; the importer's version is in "
                f"{STATE_DIR}/proposals.yaml",
            )
            for k in kept
        ),
        *(
            TodoItem(group="check", text=f"{k.replace(':', ' ', 1)}: removed from the draft, not brought back")
            for k in deleted
        ),
    ]
    todo_text = render_todo(todo)
    if todo_file.exists() and prev_files.get(TODO_FILE) != _sha(todo_file.read_text(encoding="utf-8")):
        todo_file = state_dir / TODO_FILE
    todo_file.write_text(todo_text, encoding="utf-8")
    written.append(todo_file)
    files_state = dict(prev_files)  # a file the analyst changed keeps its old hash: it stays "changed"
    for file in whole:
        files_state[str(file.relative_to(out))] = _sha(texts[file])
    if todo_file.parent == out:
        files_state[TODO_FILE] = _sha(todo_text)
    new_state = {
        "version": 1,
        "draft": draft.to_state(),
        "files": files_state,
        "blocks": blocks,
        "imports": [*(state.get("imports", []) if state else []), *imports],
    }
    (state_dir / "state.json").write_text(json.dumps(new_state, indent=1, default=str), encoding="utf-8")
    log = {
        "imports": new_state["imports"],
        "inferences": [i.as_dict() for i in draft.inferences],
        "credentials": draft.credentials,
        "todo": [{"group": t.group, "text": t.text} for t in todo],
        "kept": kept,
        "deleted": deleted,
    }
    (state_dir / "log.json").write_text(json.dumps(log, indent=1, default=str), encoding="utf-8")
    written.append(state_dir / "log.json")
    return WriteResult(
        files=tuple(written),
        kept=tuple(kept),
        deleted=tuple(deleted),
        proposals=proposal_file,
        todo_file=todo_file,
        notes=tuple(notes),
    )


def _nested_clash(system: Mapping[str, Any], dir_ids: Mapping[str, set[str]]) -> bool:
    return any(item.get("id") in dir_ids[kind] for kind in ("datasets", "people") for item in system.get(kind, []))
