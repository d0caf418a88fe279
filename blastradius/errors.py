"""The toolkit's exceptions: one base class, and errors that say where.

Every error a user can cause (a bad inventory file, a wrong command-line
argument) derives from :class:`BlastRadiusError`, so a caller can catch the
toolkit's errors and nothing else.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BlastRadiusError",
    "ConfigError",
    "ImportSourceError",
    "InputError",
    "InventoryError",
    "MissingExtraError",
    "OverlayError",
    "OutputError",
    "PolicyError",
    "Problem",
    "ReportError",
    "UnknownIdError",
    "WidenedAccessError",
    "import_extra",
    "suggest",
]


class BlastRadiusError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class UnknownIdError(BlastRadiusError, LookupError):
    """An id (of a plugin, connector, rule ...) that the inventory or the toolkit does not have.

    Attributes
    ----------
    kind : str
        What was looked up: ``plugin``, ``connector``, ``rule`` ...
    id : str
        The id asked for.
    hint : str or None
        "did you mean 'x'?", when a close id exists.

    Examples
    --------
    >>> err = UnknownIdError("plugin", "ap-autopliot", ["ap-autopilot", "deal-desk"])
    >>> str(err)
    "no plugin 'ap-autopliot' in the inventory; did you mean 'ap-autopilot'?"
    >>> isinstance(err, LookupError)
    True
    """

    def __init__(self, kind: str, id: str, known: Iterable[str] = (), *, where: str = "in the inventory"):
        self.kind, self.id = kind, id
        self.hint = suggest(id, known)
        super().__init__(f"no {kind} '{id}' {where}" + (f"; {self.hint}" if self.hint else ""))

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0])


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with one place in an inventory.

    Attributes
    ----------
    file : Path or None
        The file the problem is in (None when it concerns the inventory as a whole).
    path : str
        Key path inside the file, e.g. ``connectors[2].audit.alert_if_rows_returned_over``.
    message : str
        What is wrong, in words.
    line : int or None
        1-based line in the file, where the format has lines and it is known.
    hint : str or None
        How to fix it, where a suggestion helps ("did you mean 'crm'?").
    """

    file: Path | None
    path: str
    message: str
    line: int | None = None
    hint: str | None = None

    def location(self) -> str:
        """``file:line: key.path`` as far as it is known."""
        where = str(self.file) if self.file is not None else "<inventory>"
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f": {self.path}"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class MissingExtraError(BlastRadiusError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def import_extra(module: str, *, extra: str, purpose: str) -> Any:
    """Import ``module`` of an optional extra, or raise :class:`MissingExtraError` saying what to install.

    Examples
    --------
    >>> import_extra("json", extra="report", purpose="the report").__name__
    'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{purpose} needs {module.split('.')[0]}: install the {extra} extra, pip install 'blastradius[{extra}]'"
        ) from None


class InputError(BlastRadiusError):
    """An input file is invalid; ``problems`` lists every problem found.

    The message names each problem's file, line, key path, what is wrong and,
    where one helps, how to fix it.
    """

    what = "input"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], *, source: Path | None = None):
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.what}"
        if self.source is not None:
            head += f" {self.source}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


class InventoryError(InputError):
    """An inventory could not be loaded; ``problems`` lists every problem found."""

    what = "inventory"


class ConfigError(InputError):
    """A settings file (scoring weights, assumptions) is invalid; ``problems`` says where."""

    what = "settings file"


class OverlayError(InputError):
    """An overlay file (changes laid over an inventory by id) is invalid, or does not fit the inventory;
    ``problems`` lists every problem found."""

    what = "overlay"


class PolicyError(ConfigError):
    """A policy export read back (managed settings, connector policies) is invalid; ``problems`` says where."""

    what = "policy export"


class ImportSourceError(InputError):
    """A source file of an import (plugin folder, MCP config, tool listing, permissions) is invalid,
    or the output directory cannot take the draft; ``problems`` lists every problem found.

    Examples
    --------
    >>> err = ImportSourceError([Problem(file=Path("a/.mcp.json"), path="mcpServers", message="expected a mapping")])
    >>> print(err)
    1 problem in import source:
      - a/.mcp.json: mcpServers: expected a mapping
    """

    what = "import source"


class ReportError(BlastRadiusError):
    """The rollout report could not be produced; the message says which step and what to do."""


class OutputError(BlastRadiusError):
    """A command refuses to write where it was asked to: over an input file, into an inventory, or over an
    existing file without ``--force``; the message names every such path."""


class WidenedAccessError(BlastRadiusError):
    """A proposed change would give some plugin access it did not have (a lever must only remove access)."""


def suggest(word: Any, choices: Iterable[str]) -> str | None:
    """A "did you mean 'x'?" hint for ``word`` among ``choices``, or None.

    Examples
    --------
    >>> suggest("finance-warehous", ["crm", "finance-warehouse"])
    "did you mean 'finance-warehouse'?"
    """
    if not isinstance(word, str):
        return None
    choices = list(choices)
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
        else:  # 'crm' for 'crm-main': one is the start of the other
            matches = sorted((c for c in choices if word and (c.startswith(word) or word.startswith(c))), key=len)[:1]
    return f"did you mean '{matches[0]}'?" if matches else None
