"""Writing exports safely: never over an input, never into an inventory, never over a file without ``force``.

Every target is checked before anything is written, so a refused export
writes nothing; the error names every path in the way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from blastradius.errors import OutputError

__all__ = ["check_targets", "write_files"]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def check_targets(
    targets: Iterable[Path], *, inputs: Iterable[Path], force: bool = False, folders: Iterable[Path] = ()
) -> None:
    """Refuse targets that are inputs, lie inside an input directory, or exist (unless ``force``); and, in each of
    ``folders`` (folders an export fills), JSON files the export would not write, which a reader of the folder
    would take for part of it.

    Raises
    ------
    OutputError
        Naming every refused path and what to do.
    """
    targets = list(targets)
    roots = [Path(p).resolve() for p in inputs]
    refused: list[str] = []
    existing: list[str] = []
    for target in targets:
        resolved = Path(target).resolve()
        hit = next((r for r in roots if resolved == r or (r.is_dir() and _inside(resolved, r))), None)
        if hit is not None:
            refused.append(f"{target} (it is {'inside ' if resolved != hit else ''}the input {hit})")
        elif resolved.is_dir():
            refused.append(f"{target} (it is a directory)")
        elif resolved.exists() and not force:
            existing.append(str(target))
    if refused:
        raise OutputError(
            "refusing to write over an input or into an inventory: "
            + "; ".join(refused)
            + ". Choose an output outside the inventory."
        )
    mine = {Path(t).resolve() for t in targets}
    stale = sorted(
        str(p)
        for folder in folders
        if Path(folder).is_dir()
        for p in Path(folder).glob("*.json")
        if p.resolve() not in mine
    )
    if stale:
        raise OutputError(
            f"refusing to export into a folder that holds other policies: {', '.join(stale[:10])}"
            + (f" and {len(stale) - 10} more" if len(stale) > 10 else "")
            + ". Remove them or choose an empty folder: a reader would take them for part of this export."
        )
    if existing:
        raise OutputError(
            f"refusing to overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''}: "
            + ", ".join(existing[:10])
            + (f" and {len(existing) - 10} more" if len(existing) > 10 else "")
            + ". Pass --force to replace them, or choose another output."
        )


def write_files(
    files: Mapping[Path, str], *, inputs: Iterable[Path], force: bool = False, folders: Iterable[Path] = ()
) -> list[Path]:
    """Write ``{path: text}`` after :func:`check_targets` passes for all of them; the paths written, in order.

    Each file is written to a temporary name beside it and moved into place,
    so a reader never sees half a policy.
    """
    check_targets(files, inputs=inputs, force=force, folders=folders)
    written = []
    for path, text in files.items():
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    return written
