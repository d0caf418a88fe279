"""Defaults shared by the command line, the report, the widgets and the notebooks.

One place for each, so that ``blastradius simulate``, ``blastradius report`` and a notebook
run with no options give the same numbers.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SEED", "DEFAULT_TRIALS"]

#: Seed of every random draw when the user gives none (simulation, report, synthetic enterprises).
DEFAULT_SEED = 20261121

#: Simulated periods when the user gives no number.
DEFAULT_TRIALS = 10_000
