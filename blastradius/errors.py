"""The toolkit's exceptions: one base class, and errors that say where.

Every error a user can cause (a bad inventory file, a wrong command-line
argument) derives from :class:`BlastRadiusError`, so a caller can catch the
toolkit's errors and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BlastRadiusError", "InventoryError", "Problem"]


class BlastRadiusError(Exception):
    """Base class of every error the toolkit raises on purpose."""


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


class InventoryError(BlastRadiusError):
    """An inventory could not be loaded; ``problems`` lists every problem found.

    The message names each problem's file, line, key path, what is wrong and,
    where one helps, how to fix it.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], *, source: Path | None = None):
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in inventory"
        if self.source is not None:
            head += f" {self.source}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)
