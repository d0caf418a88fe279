"""The error an import raises: every problem found in its source files, each naming its file.

:class:`ImportSourceError` derives from :class:`blastradius.errors.InputError`
(so from :class:`~blastradius.errors.BlastRadiusError`): a caller that handles
the toolkit's errors handles it too, and it prints like an inventory error, one
problem per line with file, line, key path, what is wrong and how to fix it.
"""

from __future__ import annotations

from blastradius.errors import InputError

__all__ = ["ImportSourceError"]


class ImportSourceError(InputError):
    """A source file of an import (plugin folder, MCP config, tool listing, permissions) is invalid,
    or the output directory cannot take the draft; ``problems`` lists every problem found.

    Examples
    --------
    >>> from pathlib import Path
    >>> from blastradius.errors import Problem
    >>> err = ImportSourceError([Problem(file=Path("a/.mcp.json"), path="mcpServers", message="expected a mapping")])
    >>> print(err)
    1 problem in import source:
      - a/.mcp.json: mcpServers: expected a mapping
    """

    what = "import source"
