"""A cache of loaded inventories, outside the inventory, keyed by what the files hold.

Loading a large inventory parses every file and validates every record (1.7 s
for 2,000 plugins); reading back the :class:`~blastradius.model.Inventory` a
previous load built takes a fifth of that. :func:`cached_load` keeps each
loaded inventory in the user's cache directory (never in the inventory's
folder, which is an input and is never written), named by a SHA-256 of

- the exact bytes of every file the inventory is made of, with its path as given
  (the paths messages and origins name),
- the versions of blastradius, Python and pydantic (a record pickled by another
  version is never read back), and the ``BLASTRADIUS_*`` settings of the
  environment (such as the size limits of files).

Any change to any file, adding or removing one, or upgrading, gives another
name: a stale entry is never read, only left to be pruned. Entries are written
to a temporary file and renamed into place, so two processes loading the same
inventory at once both get a whole entry. A missing, unreadable or corrupt
entry, or a cache directory that cannot be written, only costs the load it
would have saved. Only inventories that loaded without error are kept; their
warnings travel with them.

``BLASTRADIUS_NO_CACHE=1`` turns the cache off; ``BLASTRADIUS_CACHE_DIR``
moves it (default: the user's cache directory, ``~/.cache/blastradius``). The
entries are pickles: like any cache of Python objects, the directory must be
writable by its user only (it is created so).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

__all__ = ["NO_CACHE_VARIABLE", "cache_root", "cached_load", "inventory_cache_dir"]

#: Set to a non-empty value other than ``0`` to load every inventory afresh.
NO_CACHE_VARIABLE = "BLASTRADIUS_NO_CACHE"
#: Entries kept: the least recently used beyond this are removed when a new one is written.
KEEP = 16
_FORMAT = 1  # bump when what an entry holds changes
_SUFFIX = ".inventory.pickle"
_NOT_SETTINGS = frozenset({"BLASTRADIUS_CACHE_DIR", NO_CACHE_VARIABLE})

T = TypeVar("T")


def cache_root() -> Path:
    """``$BLASTRADIUS_CACHE_DIR``, else ``$XDG_CACHE_HOME/blastradius`` (``~/.cache/blastradius``)."""
    chosen = os.environ.get("BLASTRADIUS_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blastradius"


def inventory_cache_dir() -> Path:
    """Where loaded inventories are kept."""
    return cache_root() / "inventories"


def enabled() -> bool:
    """False when ``BLASTRADIUS_NO_CACHE`` is set (to anything but ``0`` or an empty value)."""
    return os.environ.get(NO_CACHE_VARIABLE, "").strip() in ("", "0")


def _key(root: Path, files: Sequence[Path]) -> str | None:
    """The entry's name: a SHA-256 of the versions and of every file's path and bytes; None if a file cannot be read."""
    import pydantic

    from blastradius import __version__

    digest = hashlib.sha256()
    # the limits a load reads from the environment (file sizes ...) are part of what it depends on
    settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("BLASTRADIUS_") and k not in _NOT_SETTINGS)
    for part in (str(_FORMAT), __version__, sys.version, pydantic.VERSION, repr(settings), str(root)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for file in files:
        try:
            data = file.read_bytes()
        except OSError:
            return None  # the load says why
        digest.update(str(file).encode("utf-8", "surrogateescape") + b"\0")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _read(entry: Path, kind: type[T]) -> T | None:
    try:
        with entry.open("rb") as handle:
            value = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception:
        return None
    if not isinstance(value, kind):
        return None
    try:
        os.utime(entry)  # recently used: kept by the pruning
    except OSError:
        pass
    return value


def _write(folder: Path, entry: Path, value: object) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, entry)  # atomic: a reader sees the old entry, none, or this whole one
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError, RecursionError, TypeError):
        return  # a cache that cannot be written only costs the next load
    _prune(folder)


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond :data:`KEEP`, and partial files an interrupted write left."""
    try:
        entries = [p for p in folder.iterdir() if p.name.endswith(_SUFFIX)]
        stale = sorted(entries, key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
        for path in stale:
            path.unlink(missing_ok=True)
    except OSError:
        return


def cached_load(root: Path, files: Sequence[Path], load: Callable[[], T], kind: type[T]) -> T:
    """``load()``, or what an earlier ``load()`` of the same files returned.

    ``files`` are every file ``load`` reads; ``kind`` the type it returns (an
    entry of another type is ignored).
    """
    if not enabled():
        return load()
    key = _key(root, files)
    if key is None:
        return load()
    folder = inventory_cache_dir()
    entry = folder / f"{key}{_SUFFIX}"
    found = _read(entry, kind)
    if found is not None:
        return found
    value = load()
    if _key(root, files) == key:  # a file edited while it was loading: keep nothing rather than a mismatch
        _write(folder, entry, value)
    return value
