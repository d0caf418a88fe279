"""The error an import raises, re-exported from :mod:`blastradius.errors` (the one exceptions module).

:class:`ImportSourceError` derives from :class:`blastradius.errors.InputError`
(so from :class:`~blastradius.errors.BlastRadiusError`): a caller that handles
the toolkit's errors handles it too, and it prints like an inventory error, one
problem per line with file, line, key path, what is wrong and how to fix it.
"""

from __future__ import annotations

from blastradius.errors import ImportSourceError

__all__ = ["ImportSourceError"]
