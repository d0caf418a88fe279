"""Scenarios and how one is evaluated: levers applied, settings set, simulated, summarised.

A :class:`Scenario` is plain data (picklable, sent to Dask workers): the
lever steps it applies to the inventory, the assumption or weight settings
it changes, and its key. :func:`evaluate` is the one computation behind a
sweep's row and a sensitivity run alike: the inventory with the levers
applied (:mod:`blastradius.levers`), the settings laid over the analysis's
own, :func:`blastradius.simulate.simulate_failures` on the scenario's seed,
and the enterprise's figures read off it by :func:`blastradius.simulate.summarize`
with their 95% Monte Carlo intervals; for a scenario with levers, what they
cost the plugins' users (:func:`blastradius.levers.access_changes`, counted
by :func:`blastradius.decision.collateral`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blastradius.analysis import Analysis
from blastradius.decision import COLLATERAL_COLUMNS
from blastradius.errors import BlastRadiusError, WidenedAccessError
from blastradius.model import Inventory
from blastradius.settings import Assumptions, Interval, Weights

__all__ = [
    "COLLATERAL_COLUMNS",
    "LeverStep",
    "Outcome",
    "Scenario",
    "Setting",
    "assumptions_at",
    "evaluate",
    "scenario_seed",
    "weights_at",
]


@dataclass(frozen=True, kw_only=True)
class LeverStep:
    """One change to the inventory, by a function of :mod:`blastradius.levers`."""

    kind: str  # gate, block, read-only, scope, row-limit, kill-switch, revocation
    target: str  # the plugin or connector changed
    selector: str | None = None
    tables: tuple[str, ...] = ()
    number: float | None = None

    def apply(self, inv: Inventory) -> Inventory:
        from blastradius import levers

        if self.kind == "gate":
            return levers.with_approval_gate(inv, self.target, str(self.selector))
        if self.kind == "block":
            return levers.with_tool_blocked(inv, self.target, str(self.selector))
        if self.kind == "read-only":
            return levers.with_read_only(inv, self.target)
        if self.kind == "scope":
            return levers.with_allowed_tables(inv, self.target, self.tables)
        if self.kind == "row-limit":
            return levers.with_row_limit(inv, self.target, int(self._number()))
        if self.kind == "kill-switch":
            return levers.with_kill_switch(inv, self.target, self._number())
        if self.kind == "revocation":
            return levers.with_revocation(inv, self.target, self._number())
        raise BlastRadiusError(f"no lever '{self.kind}'")

    def _number(self) -> float:
        if self.number is None:
            raise BlastRadiusError(f"a {self.kind} lever needs a number")
        return self.number


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One assumption (``kind='assumption'``) or stand-in of the weights (``kind='weight'``) set to a number."""

    kind: str
    key: str
    value: float


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One what-if: levers applied to the inventory, settings changed; plain data, sent to workers as it is.

    ``labels`` are the table's columns of the grid's dimensions (``lever:NAME``
    -> its option, ``assumption:KEY`` -> the number, None where as in use);
    ``world`` names the assumption settings alone (the scenarios of one world
    share its baseline: every lever off).
    """

    key: str
    levers: tuple[LeverStep, ...] = ()
    settings: tuple[Setting, ...] = ()
    labels: Mapping[str, Any] = field(default_factory=dict)
    world: str = "as in use"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What evaluating one scenario gave: its figures, or the error that stopped it."""

    key: str
    row: dict[str, Any] | None
    error: str | None
    seconds: float


def _set(data: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    for part in parts[:-1]:
        data = data[part]
    data[parts[-1]] = value


def assumptions_at(base: Assumptions, key: str, value: float) -> Assumptions:
    """``base`` with the assumption at ``key`` set to ``value`` (an interval fixed there: ``{low: v, high: v}``).

    Raises
    ------
    pydantic.ValidationError
        ``value`` is not valid there (a probability above 1 ...).

    Examples
    --------
    >>> from blastradius.settings import default_assumptions
    >>> assumptions_at(default_assumptions(), "failure_rates.wrong_action", 0.001).failure_rates.wrong_action
    ProbabilityInterval(low=0.001, high=0.001)
    """
    parts = key.split(".")
    current: Any = base
    for part in parts:
        current = current[part] if isinstance(current, Mapping) else getattr(current, part)
    data = base.model_dump(mode="json", exclude_none=True)
    _set(data, parts, {"low": value, "high": value} if isinstance(current, Interval) else float(value))
    return Assumptions.model_validate(data)


def weights_at(base: Weights, key: str, value: float) -> Weights:
    """``base`` with the stand-in ``key`` set to ``value`` (a whole number, as the weights hold it)."""
    if value < 0:
        raise BlastRadiusError(f"{key} must be 0 or more, got {value:g}")
    return base.model_copy(update={key: round(value)})


def scenario_seed(seed: int, key: str, *, common_random_numbers: bool = True) -> int:
    """The root of a scenario's random streams: the sweep's seed, or one derived from it and the scenario's key.

    With common random numbers (the default) every scenario draws from the
    same seed: each failure path's stream depends on the seed, its plugin and
    itself only, so two scenarios differ only by their levers and settings.
    Without, the seed is derived from the sweep's seed and a stable hash of the
    key (``numpy.random.SeedSequence``): independent samples per scenario. Either
    way it depends on nothing but the seed and the key, never on the batch,
    the worker or a retry.

    Examples
    --------
    >>> scenario_seed(7, "gate=on")
    7
    >>> scenario_seed(7, "gate=on", common_random_numbers=False) == scenario_seed(
    ...     7, "gate=on", common_random_numbers=False
    ... )
    True
    """
    if common_random_numbers:
        return int(seed)
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:16], "little")
    state = np.random.SeedSequence(entropy=int(seed), spawn_key=(digest,)).generate_state(2, dtype=np.uint32)
    return int(state[0]) | (int(state[1] & 0x7FFFFFFF) << 32)


#: Lever steps that change one plugin; the others change a connector, and so every plugin that uses it.
_PLUGIN_STEPS = ("gate", "block", "kill-switch")


def _affected(inv: Inventory, steps: Sequence[LeverStep]) -> list[str]:
    """The plugins whose access ``steps`` can change, in the inventory's order (the others' is as it was)."""
    from blastradius.domain import plugins_by_connector

    users = plugins_by_connector(inv)
    ids = {s.target for s in steps if s.kind in _PLUGIN_STEPS}
    ids.update(p for s in steps if s.kind not in _PLUGIN_STEPS for p in users.get(s.target, ()))
    return [p.id for p in inv.plugins if p.id in ids]


class _Levers:
    """A base analysis and the analyses of its lever combinations, each derived once (kept for a few)."""

    def __init__(self, base: Analysis, *, keep: int = 4):
        self.base = base
        self.keep = keep
        self._derived: dict[tuple[LeverStep, ...], tuple[Analysis, dict[str, Any]]] = {}

    def get(self, steps: tuple[LeverStep, ...]) -> tuple[Analysis, dict[str, Any]]:
        if not steps:
            return self.base, {}
        hit = self._derived.get(steps)
        if hit is None:
            from blastradius.decision import collateral
            from blastradius.levers import access_changes

            inv = self.base.inventory
            for step in steps:
                inv = step.apply(inv)
            derived = self.base.derive(inv)
            changes = access_changes(self.base, derived, plugins=_affected(self.base.inventory, steps))
            widened = [c for c in changes if c.widens]
            if widened:
                raise WidenedAccessError(
                    f"the levers widen access ({widened[0].plugin}: {widened[0].what} {widened[0].detail})"
                )
            hit = (derived, collateral(changes, self.base.inventory))
            if len(self._derived) >= self.keep:
                self._derived.pop(next(iter(self._derived)))
            self._derived[steps] = hit
        return hit


def _with_settings(analysis: Analysis, settings: Sequence[Setting]) -> Analysis:
    if not settings:
        return analysis
    assumptions, weights = analysis.assumptions, analysis.weights
    for s in settings:
        if s.kind == "weight":
            weights = weights_at(weights, s.key, s.value)
        else:
            assumptions = assumptions_at(assumptions, s.key, s.value)
    if any(s.kind == "weight" for s in settings):
        return analysis.with_settings(weights=weights, assumptions=assumptions)
    return analysis.with_settings(assumptions=assumptions)


def figures(result: Any) -> dict[str, float]:
    """The enterprise's figures of one simulation: every metric's mean and percentiles, with their intervals."""
    from blastradius.simulate import summarize

    row = summarize(result, by="enterprise", intervals=True).iloc[0].to_dict()
    row.pop("group", None)
    return {str(k): float(v) for k, v in row.items()}


def evaluate(
    levers: _Levers | Analysis,
    scenario: Scenario,
    *,
    trials: int,
    seed: int,
    common_random_numbers: bool = True,
) -> Outcome:
    """Simulate one scenario; an error is caught and returned with its key, never raised."""
    from blastradius.simulate import simulate_failures

    start = time.perf_counter()
    cache = levers if isinstance(levers, _Levers) else _Levers(levers)
    try:
        analysis, cost = cache.get(scenario.levers)
        analysis = _with_settings(analysis, scenario.settings)
        root = scenario_seed(seed, scenario.key, common_random_numbers=common_random_numbers)
        result = simulate_failures(analysis, trials=trials, seed=root)
        row: dict[str, Any] = {"seed": root, **figures(result)}
        if scenario.levers:
            row.update(cost)
        else:
            row.update({c: 0 for c in COLLATERAL_COLUMNS if c not in ("teams", "collateral")})
            row.update(teams="", collateral="nothing the plugins use changes")
        return Outcome(key=scenario.key, row=row, error=None, seconds=time.perf_counter() - start)
    except Exception as exc:
        message = str(exc) if isinstance(exc, BlastRadiusError) else f"{type(exc).__name__}: {exc}"
        return Outcome(key=scenario.key, row=None, error=message, seconds=time.perf_counter() - start)
