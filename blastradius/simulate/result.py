"""The result of a simulation: figures per trial, plugin and failure class, stored where they can be non-zero.

:class:`SimulationResult` holds what the kernel drew; :mod:`blastradius.simulate.summaries`
and :mod:`blastradius.simulate.comparison` read every figure off it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blastradius.errors import BlastRadiusError, suggest
from blastradius.settings import Assumptions

__all__ = ["FAILURE_MODES", "METRICS", "PARTS", "SimulationResult"]

#: Permanent parts, and the figure each is part of: stored only where some damage can be undone, else the figure.
PARTS = {"records_permanent": "records", "people_permanent": "people"}

#: Failure classes simulated, in the order of the last axis of every result array:
#: the three of :data:`blastradius.scores.FAILURE_CLASSES` and the systematic fault (D5).
FAILURE_MODES = ("wrong_action", "data_leakage", "wrong_output", "systematic")

#: Figures :func:`blastradius.simulate.summarize` reports. Records and people are distinct: never more than the
#: group can touch in a period; recoverable is the part of them that is undone (records - records_permanent).
METRICS = (
    "records",
    "records_permanent",
    "records_recoverable",
    "people",
    "people_permanent",
    "people_recoverable",
    "incidents",
    "caught",
)


def _check_metric(name: str) -> str:
    if name not in METRICS:
        hint = suggest(name, METRICS)
        raise BlastRadiusError(f"no metric '{name}'" + (f"; {hint}" if hint else f"; choose from {', '.join(METRICS)}"))
    return name


@dataclass(frozen=True, kw_only=True, eq=False)
class SimulationResult:
    """Simulated periods: figures per trial, plugin and class, read by :func:`summarize` and friends.

    Each figure is stored only where it can be non-zero (a plugin that
    cannot touch records has no records column): ``values[name]`` is
    ``(trials, columns)`` and ``columns[name]`` maps ``(plugin, class)`` to
    its column, -1 where the figure is always zero. A permanent part
    (:data:`PARTS`) is stored only where some of the damage can be undone:
    at -1 it is the figure itself (most damage never is undone). The attributes below build the full
    ``(trials, plugins, classes)`` array on each access; :func:`summarize`,
    :func:`exceedance_curve` and :func:`compare_results` read the columns.

    Attributes
    ----------
    plugins, departments : tuple of str
        Plugin ids (inventory order) and each plugin's owning department.
    classes : tuple of str
        :data:`FAILURE_MODES`: the last axis of every array.
    records, records_permanent, records_recoverable : ndarray of float32
        Distinct records affected per trial, plugin and class; those
        affected for good; and those whose damage is undone (soft-delete,
        staged): ``records - records_permanent``. Never more than the plugin
        can touch in a period (:meth:`reachable`).
    people, people_permanent, people_recoverable : ndarray of float32
        People affected, likewise.
    incidents : ndarray of int32
        Events that did damage (for ``systematic``: faults that did).
    caught : ndarray of int32
        Events a human check (gate, review) stopped; for ``systematic``,
        faults a human check detected before any other channel.
    runs_affected : ndarray of int32
        Runs that did damage: ``incidents`` for one-off classes; for
        ``systematic``, every run in a fault's window that did damage
        (stored as ``systematic_runs_affected``, ``(trials, plugins)``).
    runs : ndarray of float
        Runs per period of each plugin.
    reachable_records, reachable_people : tuple of mappings
        Per plugin, every dataset (and its full size) and every group of
        people (and its count; its output's audience apart) it can touch in a
        period, stand-ins for unknown sizes: the ceilings of every figure
        (:meth:`reachable`).
    trials, seed : int
        Trials simulated, and the seed that reproduces them
        (``simulate_failures(..., seed=result.seed)``).
    assumptions : Assumptions
        The assumptions used (see :func:`~blastradius.simulate.assumptions_table`).
    source : str or None
        The inventory's directory.
    """

    plugins: tuple[str, ...]
    departments: tuple[str, ...]
    classes: tuple[str, ...]
    columns: Mapping[str, np.ndarray]
    values: Mapping[str, np.ndarray]
    systematic_runs_affected: np.ndarray
    runs: np.ndarray
    reachable_records: tuple[Mapping[str, float], ...]
    reachable_people: tuple[Mapping[str, float], ...]
    trials: int
    seed: int
    assumptions: Assumptions
    source: str | None = None
    _ceilings: dict[tuple[int, ...] | None, tuple[float, float]] = field(default_factory=dict, repr=False)

    def _dense(self, name: str) -> np.ndarray:
        values, columns = self.values[name], self.columns[name].reshape(-1)
        whole = PARTS.get(name)
        if whole is not None:  # a permanent part without a column is the figure itself
            out = np.array(self._dense(whole).reshape(self.trials, -1))
        else:
            out = np.zeros((self.trials, columns.shape[0]), dtype=values.dtype)
        kept = np.flatnonzero(columns >= 0)
        out[:, kept] = values[:, columns[kept]]
        out = out.reshape(self.trials, len(self.plugins), len(self.classes))
        out.setflags(write=False)
        return out

    @property
    def records(self) -> np.ndarray:
        """Distinct records affected."""
        return self._dense("records")

    @property
    def records_permanent(self) -> np.ndarray:
        return self._dense("records_permanent")

    @property
    def records_recoverable(self) -> np.ndarray:
        """Records affected whose damage is undone: ``records - records_permanent``."""
        return self.records - self.records_permanent

    @property
    def people(self) -> np.ndarray:
        """Distinct people affected."""
        return self._dense("people")

    @property
    def people_permanent(self) -> np.ndarray:
        return self._dense("people_permanent")

    @property
    def people_recoverable(self) -> np.ndarray:
        """People affected whose damage is undone: ``people - people_permanent``."""
        return self.people - self.people_permanent

    @property
    def incidents(self) -> np.ndarray:
        return self._dense("incidents")

    @property
    def caught(self) -> np.ndarray:
        return self._dense("caught")

    def reachable(self, plugins: Sequence[int] | np.ndarray | None = None) -> tuple[float, float]:
        """Distinct records and people the plugins (indices; default all) can touch in a period: every figure's ceiling.

        Each dataset and group of people counts once however many plugins
        reach it, at its full size (stand-ins where the inventory does not
        give one).
        """
        key = None if plugins is None else tuple(sorted(int(i) for i in plugins))
        if key not in self._ceilings:  # read many times by the summaries: computed once per group
            chosen = range(len(self.plugins)) if key is None else key
            if len(chosen) == 1:
                i = chosen[0]
                ceiling = sum(self.reachable_records[i].values()), sum(self.reachable_people[i].values())
            else:
                records: dict[str, float] = {}
                people: dict[str, float] = {}
                for i in chosen:
                    records.update(self.reachable_records[i])
                    people.update(self.reachable_people[i])
                ceiling = sum(records.values()), sum(people.values())
            self._ceilings[key] = (float(ceiling[0]), float(ceiling[1]))
        return self._ceilings[key]

    @property
    def runs_affected(self) -> np.ndarray:
        """Runs that did damage: ``incidents`` for one-off classes, every damaging run of a fault for ``systematic``."""
        out = self.incidents.copy()
        out[:, :, FAILURE_MODES.index("systematic")] = self.systematic_runs_affected
        return out

    @property
    def nbytes(self) -> int:
        """Memory held by the simulated figures."""
        return sum(v.nbytes for v in self.values.values()) + self.systematic_runs_affected.nbytes

    @property
    def period(self) -> str:
        return self.assumptions.period.name

    def metric(self, name: str) -> np.ndarray:
        """The ``(trials, plugins, classes)`` array of one of :data:`METRICS`."""
        return getattr(self, _check_metric(name))

    def to_frame(self) -> pd.DataFrame:
        """The tidy table: one row per trial, plugin and class, with every figure."""
        t, c = self.trials, len(self.classes)
        index = pd.MultiIndex.from_product(
            [range(t), self.plugins, self.classes], names=["trial", "plugin", "failure_class"]
        )
        df = pd.DataFrame({m: self.metric(m).reshape(-1) for m in METRICS}, index=index).reset_index()
        df.insert(2, "department", np.tile(np.repeat(np.array(self.departments, dtype=object), c), t))
        return df
