"""Failure simulation: records and people affected per period, with every control modelled (D4, D5, D9).

Scores rank plugins as if each run went wrong; this module asks how often runs
do go wrong and what that adds up to over a period (a quarter by default), the
way quantitative risk tools do (frequency × magnitude, loss-exceedance curves),
but counted in records and people affected rather than money.

A plugin fails through its *paths*: each of its actions as the scoring layer
groups them (:class:`blastradius.scores.ActionScore`: a connector and an action
class, with its reach after the connector's scope and its gate) and its output.
For every path the simulation draws, per trial,

- **frequency**: runs in the period (users × runs per user per day × working
  days) times a per-run failure probability (:func:`load_assumptions`);
- **magnitude**: what one wrong call touches, log-uniform up to a bound set by
  the action's fan-out and reach (a leak: the sensitive records one query
  returns, capped by the row limit; a wrong output: its audience);
- **controls**: approval gates and review tiers stop a share of events,
  soft-delete/staged tools make damage recoverable, a leak needs a way out;
  and a *systematic fault* repeats on every run until an anomaly alert, the
  audit log or a person notices it and the kill switch (or revocation) halts it.

The result (:class:`SimulationResult`) holds arrays of shape
``(trials, plugins, classes)``; :func:`summarize`, :func:`exceedance_curve`
and :func:`compare_results` read every figure off it (simulate once, read many
times). :func:`compare` and :func:`compare_levers` run a baseline and changed
inventories on common random numbers, so a difference is the control's effect
and not sampling noise. :func:`failure_paths` and :func:`assumptions_table`
list every input, so a reader can challenge it. docs/simulation.md gives every
formula.

Examples
--------
>>> from blastradius import load_inventory
>>> inv = load_inventory("inventories/acme")
>>> result = simulate_failures(inv, trials=200, seed=1)
>>> result.records_permanent.shape
(200, 18, 4)
>>> summarize(result, by="enterprise").loc[0, "group"]
'enterprise'
"""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, cast

import numpy as np
import pandas as pd
import yaml
from pydantic import BeforeValidator, Field, PrivateAttr, StrictFloat, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from blastradius import _kernel as kernel
from blastradius.errors import BlastRadiusError, ConfigError, InventoryError, Problem, suggest
from blastradius.loader import deep_merge, read_document, validate_settings
from blastradius.model import (
    ActionClass,
    Connector,
    Inventory,
    Plugin,
    Record,
    Reversibility,
    SettingsSource,
)
from blastradius.scope import ToolStatus
from blastradius.scores import NO_WAY_OUT, ActionScore, Scorer, Weights, load_weights

__all__ = [
    "Assumptions",
    "FAILURE_MODES",
    "Interval",
    "METRICS",
    "PluginAssumptions",
    "ProbabilityInterval",
    "SimulationResult",
    "assumptions_table",
    "compare",
    "compare_levers",
    "compare_results",
    "default_assumptions",
    "exceedance_by_class",
    "exceedance_curve",
    "failure_paths",
    "load_assumptions",
    "simulate_failures",
    "summarize",
]

#: Failure classes simulated, in the order of the last axis of every result array:
#: the three of :data:`blastradius.scores.FAILURE_CLASSES` and the systematic fault (D5).
FAILURE_MODES = ("wrong_action", "data_leakage", "wrong_output", "systematic")

#: Figures :func:`summarize` reports (records and people are permanent + recoverable).
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

_ONE_OFF = FAILURE_MODES[:3]
_Z90 = 1.6448536269514722  # standard normal 95th percentile: a 90% interval spans ±_Z90 sigma


# ---------------------------------------------------------------------------
# Assumptions
# ---------------------------------------------------------------------------

Probability = Annotated[StrictFloat, Field(ge=0, le=1)]
NonNegative = Annotated[StrictFloat, Field(ge=0)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Interval(Record):
    """An uncertain non-negative number: a 90% interval, drawn lognormally; one number means known exactly.

    Written ``{low: L, high: H}`` (L and H are the 5th and 95th percentiles,
    the median is ``sqrt(L*H)``) or as a single number.

    Examples
    --------
    >>> Interval.model_validate({"low": 1.0, "high": 100.0}).median
    10.0
    >>> Interval.model_validate(0.5)
    Interval(low=0.5, high=0.5)
    """

    low: NonNegative = Field(description="5th percentile.")
    high: NonNegative = Field(description="95th percentile.")

    _upper: ClassVar[float | None] = None

    @model_validator(mode="before")
    @classmethod
    def _one_number(cls, value: Any) -> Any:
        if _is_number(value):
            if value < 0 or (cls._upper is not None and value > cls._upper):
                limit = f"between 0 and {cls._upper:g}" if cls._upper is not None else "0 or more"
                raise PydanticCustomError("interval", f"must be {limit}")
            return {"low": float(value), "high": float(value)}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.low > self.high:
            raise PydanticCustomError("interval", f"the lower bound {self.low:g} is above the upper bound {self.high:g}")
        if self._upper is not None and self.high > self._upper:
            raise PydanticCustomError("interval", f"the upper bound {self.high:g} is above {self._upper:g}")
        if self.low == 0 and self.high > 0:
            raise PydanticCustomError(
                "interval", "a 90% interval is drawn lognormally: its lower bound must be above 0 (or give one number)"
            )
        return self

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    @property
    def median(self) -> float:
        return math.sqrt(self.low * self.high)

    @property
    def sigma(self) -> float:
        return 0.0 if self.fixed else (math.log(self.high) - math.log(self.low)) / (2 * _Z90)

    @property
    def mean(self) -> float:
        """Mean of the lognormal, ``median * exp(sigma**2 / 2)`` (for a probability, before draws above 1 are clipped)."""
        if self.fixed:
            return self.low
        return self.median * math.exp(self.sigma**2 / 2)

    def draw(self, z: np.ndarray) -> np.ndarray:
        """Values for standard normal draws ``z`` (the lognormal's quantiles), clipped to the allowed range."""
        if self.fixed:
            return np.full(np.shape(z), self.low)
        out = self.median * np.exp(self.sigma * np.asarray(z))
        return np.minimum(out, self._upper) if self._upper is not None else out

    def text(self) -> str:
        return f"{self.low:g}" if self.fixed else f"{self.low:g} to {self.high:g} (90%)"


class ProbabilityInterval(Interval):
    """An :class:`Interval` of a probability: bounds between 0 and 1; draws above 1 count as 1."""

    _upper: ClassVar[float | None] = 1.0


def _str_keys(value: Any) -> Any:
    # YAML reads `1:` as an integer key; tiers are named "1", "2", "3", "none".
    if isinstance(value, Mapping):
        return {str(k) if _is_number(k) else k: v for k, v in value.items()}
    return value


TierRates = Annotated[dict[Literal["none", "1", "2", "3"], Probability], BeforeValidator(_str_keys)]


class Period(Record):
    """The period every figure covers."""

    name: Annotated[str, Field(min_length=1, max_length=64)] = Field(description="What the period is called.")
    working_days: Annotated[StrictFloat, Field(gt=0)] = Field(description="Working days in the period.")
    hours_per_day: Annotated[StrictFloat, Field(gt=0, le=24)] = Field(
        description="Working hours per day: runs happen, and faults are noticed, in working hours."
    )

    @property
    def hours(self) -> float:
        return self.working_days * self.hours_per_day


class FailureRates(Record):
    """Probability that one run fails in each way (D5), before any control."""

    wrong_action: ProbabilityInterval = Field(description="Per run and action: the right kind of action on the wrong target.")
    data_leakage: ProbabilityInterval = Field(description="Per run and connector read: records reach someone who should not see them.")
    wrong_output: ProbabilityInterval = Field(description="Per run: a confidently wrong answer that people act on.")


class Systematic(Record):
    """Faults that repeat on every run until halted (D5 'any, at scale')."""

    onsets_per_period: Interval = Field(description="Systematic faults starting per period on each action and output of a plugin.")
    share_of_runs_affected: Probability = Field(description="Share of the plugin's runs that hit the fault while it lasts.")


class Magnitude(Record):
    """What one wrong call touches within its bound: its whole bound with some probability, else log-uniform."""

    wrong_action_full_share: Probability = Field(
        description="Share of wrong actions that use their whole fan-out (a bulk send to the whole list)."
    )
    data_leakage_full_share: Probability = Field(
        description="Share of leaks that pull everything one query can return (up to the row limit)."
    )

    def full_share(self, failure_class: str) -> float:
        """For a path of ``failure_class`` (a wrong output always reaches its whole audience)."""
        return {"wrong_action": self.wrong_action_full_share, "data_leakage": self.data_leakage_full_share}.get(
            failure_class, 1.0
        )


class Controls(Record):
    """Human checks: approval gates, review tiers, and exposure without a way out."""

    approval_gate_catch_rate: Probability = Field(description="Share of wrong gated calls a human stops at the approval prompt.")
    review_catch_rate: TierRates = Field(description="Share of wrong output each review tier stops before it spreads.")
    internal_exposure_share: Probability = Field(
        description="Share of sensitive pulls, with no channel out of the organisation, seen by colleagues who should not."
    )

    @field_validator("review_catch_rate")
    @classmethod
    def _every_tier(cls, value: dict) -> dict:
        missing = {"none", "1", "2", "3"} - set(value)
        if missing:
            raise ValueError("missing " + ", ".join(sorted(missing)))
        return value

    def review_catch(self, tier: int | None) -> float:
        return self.review_catch_rate["none" if tier is None else str(tier)]


class WrongOutput(Record):
    """How far a wrong output travels."""

    forwarding_factor: NonNegative = Field(description="Multiplier on the plugin's output_audience (forwarding is already in it).")


class Detection(Record):
    """How fast a systematic fault is noticed, in working hours from its first run."""

    alert_fires: Probability = Field(description="Share of applicable anomaly alerts that are acted on.")
    alert_response_hours: Interval = Field(description="From an alert to the decision to halt.")
    audit_review_hours: Interval = Field(description="With every query logged but no alert: found in log review.")
    unaided_hours: Interval = Field(description="With nothing but people noticing the damage.")


class Halt(Record):
    """How fast a noticed fault is halted, where the inventory does not say."""

    pause_seconds_if_not_given: NonNegative = Field(description="A kill switch that can pause, with no time given.")
    revoke_seconds_if_not_given: NonNegative = Field(description="A revocable connector, with no time given.")
    unrehearsed_factor: Annotated[StrictFloat, Field(ge=1)] = Field(
        description="A kill switch never rehearsed (no rehearsed_on) is this much slower."
    )
    manual_hours: NonNegative = Field(description="Neither a kill switch nor revocation: unplugged by hand.")


class PluginAssumptions(Record):
    """The assumptions that hold for one plugin: every section but ``period`` and ``plugins``."""

    failure_rates: FailureRates
    systematic: Systematic
    magnitude: Magnitude
    controls: Controls
    recovery: dict[Reversibility, Probability] = Field(
        description="Share of a wrong action's damage undone, by the tool's reversibility."
    )
    wrong_output: WrongOutput
    detection: Detection
    halt: Halt

    @field_validator("recovery")
    @classmethod
    def _every_reversibility(cls, value: dict) -> dict:
        missing = set(Reversibility) - set(value)
        if missing:
            raise ValueError("missing " + ", ".join(sorted(m.value for m in missing)))
        return value


def _partial(model: type[Record]) -> type[Record]:
    """``model`` with every field optional (default None), nested sections too: the shape of an override."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, Record) and not issubclass(annotation, Interval):
            annotation = _partial(annotation)
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = (annotation | None, Field(default=None, description=info.description))
    return create_model(f"Partial{model.__name__}", __base__=Record, __module__=__name__, **fields)


#: A per-plugin override: any key of :class:`PluginAssumptions`, all optional.
PluginOverride = _partial(PluginAssumptions)


class Assumptions(PluginAssumptions):
    """Every assumption of the failure simulation; defaults in ``blastradius/data/assumptions.yaml``.

    Build one with :func:`load_assumptions`, which also records where each
    value came from (:attr:`sources`, shown by :func:`assumptions_table`).
    """

    period: Period
    plugins: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")], PluginOverride] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Per-plugin overrides of any key but period."
    )

    _sources: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)
    _plugin_origins: dict[str, tuple[str | None, str]] = PrivateAttr(default_factory=dict)

    @property
    def sources(self) -> Mapping[str, tuple[str, str | None]]:
        """``{key path: (source, file)}``: source is ``default``, ``inventory`` or ``override``."""
        return dict(self._sources)

    def for_plugin(self, plugin: str) -> PluginAssumptions:
        """The assumptions that hold for ``plugin``: the global ones with its override laid over them."""
        override = self.plugins.get(plugin)
        names = set(PluginAssumptions.model_fields)
        if override is None:
            return PluginAssumptions.model_construct(**{n: getattr(self, n) for n in names})
        base = self.model_dump(mode="json", include=names)
        return PluginAssumptions.model_validate(deep_merge(base, override.model_dump(mode="json", exclude_none=True)))


_ASSUMPTIONS_FILE = "assumptions.yaml"


@cache
def _default_data() -> dict[str, Any]:
    text = resources.files("blastradius.data").joinpath(_ASSUMPTIONS_FILE).read_text(encoding="utf-8")
    return _str_keys_deep(yaml.safe_load(text))


def _str_keys_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k) if _is_number(k) else k: _str_keys_deep(v) for k, v in value.items()}
    return value


@cache
def default_assumptions() -> Assumptions:
    """The documented default assumptions (``blastradius/data/assumptions.yaml``).

    Examples
    --------
    >>> default_assumptions().period.working_days
    63.0
    """
    return load_assumptions()


def _has_path(data: Any, parts: Sequence[str]) -> bool:
    for part in parts:
        if not isinstance(data, Mapping):
            return False
        keyed = {str(k): v for k, v in data.items()}
        if part not in keyed:
            return False
        data = keyed[part]
    return True


def _leaves(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any, str | None]]:
    """``(key path, value, description)`` of every setting; an interval is one setting."""
    for name, info in type(obj).model_fields.items():
        value = getattr(obj, name)
        path = f"{prefix}{name}"
        if value is None:
            continue
        if isinstance(value, Record) and not isinstance(value, Interval):
            yield from _leaves(value, path + ".")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key = getattr(key, "value", key)
                if isinstance(item, Record) and not isinstance(item, Interval):
                    yield from _leaves(item, f"{path}.{key}.")
                else:
                    yield f"{path}.{key}", item, info.description
        else:
            yield path, value, info.description


def _layer_data(source: Any) -> tuple[dict[str, Any], str | None, str]:
    """Raw data, file and key prefix of one layer, to tell which keys it sets."""
    if isinstance(source, SettingsSource):
        return source.data, source.file, source.path + "."
    if isinstance(source, str | Path):
        try:
            data = read_document(Path(source)).data
        except InventoryError:
            data = None
        return (data if isinstance(data, dict) else {}), str(source), ""
    return dict(source), None, ""


def _check_plugins(assumptions: Assumptions, known: Iterable[str]) -> None:
    known = sorted(set(known))
    problems = []
    for plugin in assumptions.plugins:
        if plugin in known:
            continue
        file, key = assumptions._plugin_origins.get(plugin, (None, f"plugins.{plugin}"))
        line = None
        if file is not None:
            try:
                line = read_document(Path(file)).line_of(key)
            except InventoryError:
                line = None
        problems.append(
            Problem(
                file=Path(file) if file is not None else Path("<assumptions>"),
                path=key,
                line=line,
                message=f"no plugin '{plugin}' in the inventory",
                hint=suggest(plugin, known),
            )
        )
    if problems:
        raise ConfigError(problems)


def load_assumptions(
    source: str | Path | Mapping[str, Any] | Assumptions | None = None, *, inventory: Inventory | None = None
) -> Assumptions:
    """Assumptions: the defaults, then the inventory's ``assumptions:`` section, then ``source`` (a file or a mapping).

    Keys a layer leaves out keep the value below it; a ``{low, high}``
    interval may be overridden as a whole or one bound at a time. Each value
    remembers which layer set it (see :func:`assumptions_table`).

    Parameters
    ----------
    source : path, mapping or Assumptions, optional
        Overrides, e.g. from ``--assumptions FILE``.
    inventory : Inventory, optional
        Whose ``assumptions:`` section applies, and whose plugins the
        per-plugin overrides must name.

    Raises
    ------
    ConfigError
        When a layer is invalid, with file, line and key path of each problem,
        or names a plugin the inventory does not have ("did you mean ...").

    Examples
    --------
    >>> load_assumptions({"controls": {"approval_gate_catch_rate": 0.5}}).controls.approval_gate_catch_rate
    0.5
    >>> a = load_assumptions({"failure_rates": {"wrong_action": {"high": 0.002}}})
    >>> a.failure_rates.wrong_action.text(), a.sources["failure_rates.wrong_action"][0]
    ('0.0001 to 0.002 (90%)', 'override')
    >>> load_assumptions({"plugins": {"crm-hygeine": {}}}, inventory=__import__("blastradius").load_inventory("inventories/acme"))
    Traceback (most recent call last):
    ...
    blastradius.errors.ConfigError: 1 problem in settings file:
      - <assumptions>: plugins.crm-hygeine: no plugin 'crm-hygeine' in the inventory (did you mean 'crm-hygiene'?)
    """
    if isinstance(source, Assumptions):
        result = source
    else:
        result = _load(source, inventory.settings.get("assumptions") if inventory is not None else None)
    if inventory is not None:
        _check_plugins(result, inventory.plugin_by_id)
    return result


def _load(source: Any, own: SettingsSource | None) -> Assumptions:
    """Defaults, then ``own`` (an inventory's section), then ``source``, with where each value came from."""
    if source is not None and not isinstance(source, str | Path | Mapping):
        raise BlastRadiusError(f"assumptions must be a file, a mapping or Assumptions, got {type(source).__name__}")
    defaults = _default_data()
    result = cast(Assumptions, validate_settings(Assumptions, defaults, own, source))
    layers = [("default", defaults, None, "")]
    for label, layer in (("inventory", own), ("override", source)):
        if layer is not None:
            data, file, prefix = _layer_data(layer)
            layers.append((label, data, file, prefix))
    sources: dict[str, tuple[str, str | None]] = {}
    for path, _, _ in _leaves(result):
        parts = path.split(".")
        for label, data, file, _ in layers:
            if _has_path(data, parts):
                sources[path] = (label, file)
    origins: dict[str, tuple[str | None, str]] = {}
    for _, data, file, prefix in layers[1:]:
        plugins = data.get("plugins")
        for plugin in plugins if isinstance(plugins, Mapping) else ():
            origins[str(plugin)] = (file, f"{prefix}plugins.{plugin}")
    result._sources = sources
    result._plugin_origins = origins
    return result


def assumptions_table(assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Every assumption in use, one row each: key, value, where it came from and what it means.

    Columns
    -------
    key
        Dotted key path, as written in an assumptions file (``plugins.ID.…`` for overrides).
    value
        As text: one number, or ``low to high (90%)`` for an interval.
    low, high
        The number (both equal when known exactly); empty for text.
    source
        ``default`` (blastradius/data/assumptions.yaml), ``inventory`` (its
        ``assumptions:`` section) or ``override`` (a file or mapping given).
    file
        The file it was read from, where there is one.
    meaning
        What the number is.

    Examples
    --------
    >>> t = assumptions_table()
    >>> t.set_index("key").loc["controls.approval_gate_catch_rate", ["value", "source"]].tolist()
    ['0.9', 'default']
    """
    if assumptions is None:
        assumptions = default_assumptions()
    sources = assumptions.sources
    default_file = str(resources.files("blastradius.data").joinpath(_ASSUMPTIONS_FILE))
    rows = []
    for path, value, meaning in _leaves(assumptions):
        source, file = sources.get(path, ("default", None))
        if source == "default":
            file = default_file
        if isinstance(value, Interval):
            text, low, high = value.text(), value.low, value.high
        elif _is_number(value):
            text, low, high = f"{value:g}", float(value), float(value)
        else:
            text, low, high = str(value), math.nan, math.nan
        rows.append({"key": path, "value": text, "low": low, "high": high, "source": source, "file": file,
                     "meaning": meaning or ""})
    rows.sort(key=lambda r: not r["key"].startswith("period."))  # the period first, then as in the file
    return pd.DataFrame(rows, columns=["key", "value", "low", "high", "source", "file", "meaning"])


# ---------------------------------------------------------------------------
# Failure paths: what the simulation draws from, per plugin
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Path:
    """One way a plugin can fail: one of its actions (a connector and action class, as scores group tools) or its output."""

    key: str  # names the path's random streams: stable when other paths change
    failure_class: str
    connector: str | None
    action: str
    tools: tuple[str, ...]
    status: str
    reversibility: str
    catch: float  # a human check stops an event (and, in a systematic fault, raises the alarm)
    escape: float  # an event no human stopped does damage
    recovery: float  # share of damaging events undone
    bound_records: float  # most records one event touches
    bound_people: float
    cap_records: float  # most distinct records the path can touch in a period
    cap_people: float
    fixed: bool  # one event always touches its whole bound (an output reaches its audience)
    alert_records: float  # an anomaly alert fires when one call returns more rows than this
    alert_people: float  # ... or sends to more people than this
    audit: bool
    halt_hours: float
    controls: str

    @property
    def harmless(self) -> bool:
        """Reaches nothing: its events are neither incidents nor damage."""
        return self.bound_records <= 0 and self.bound_people <= 0


@dataclass(frozen=True, kw_only=True)
class _PluginPlan:
    plugin: str
    department: str
    runs: float
    assumptions: PluginAssumptions
    paths: tuple[_Path, ...]


def _halt_hours(plugin: Plugin, connector: Connector | None, a: PluginAssumptions) -> float:
    """Hours from detection to halt: the faster of pausing the plugin and revoking the connector."""
    options = []
    ks = plugin.kill_switch
    if ks is not None and ks.can_pause:
        seconds = ks.time_to_pause_seconds if ks.time_to_pause_seconds is not None else a.halt.pause_seconds_if_not_given
        if ks.rehearsed_on is None:
            seconds *= a.halt.unrehearsed_factor
        options.append(seconds / 3600)
    if connector is not None and connector.revocation is not None and connector.revocation.can_revoke:
        seconds = connector.revocation.time_to_revoke_seconds
        options.append((a.halt.revoke_seconds_if_not_given if seconds is None else seconds) / 3600)
    return min(options) if options else a.halt.manual_hours


def _control_weights(weights: Weights, a: PluginAssumptions) -> Weights:
    """Weights whose autonomies are the assumptions' miss rates, so the scorer prices gates and the way out."""
    c = a.controls
    return weights.model_copy(
        update={
            "gate_miss_rate": 1 - c.approval_gate_catch_rate,
            "review_miss_rate": {k: 1 - v for k, v in c.review_catch_rate.items()},
            "leak_internal_factor": c.internal_exposure_share,
        }
    )


def _records(scopes: Iterable[Any], w: Weights) -> float:
    return float(sum(s.records if s.records is not None else w.unknown_dataset_records for s in scopes))


def _people(inv: Inventory, groups: Iterable[str], w: Weights) -> float:
    counts = (inv.people_by_id[g].count for g in groups)
    return float(sum(c if c is not None else w.unknown_people_count for c in counts))


@dataclass(frozen=True, kw_only=True)
class _Sizes:
    """What an action reaches, in the simulation's terms: the same for every plugin that has the action."""

    records: float  # records it can touch (stand-ins for unknown sizes)
    people: float
    sensitive: float  # sensitive records one query returns (a read)
    sensitive_full: float  # sensitive records of the whole tables it reads
    sensitive_people: float  # people in the sensitive tables it reads


def _sizes(inv: Inventory, act: ActionScore, w: Weights) -> _Sizes:
    sensitive = [s for s in act.datasets if s.sensitive]
    tables = [inv.dataset_by_id[s.dataset].records for s in sensitive]
    ids = {s.dataset for s in sensitive}
    return _Sizes(
        records=_records(act.datasets, w),
        people=_people(inv, act.people_groups, w),
        sensitive=_records(sensitive, w),
        sensitive_full=float(sum(w.unknown_dataset_records if n is None else n for n in tables)),
        sensitive_people=_people(inv, (g for g in act.people_groups if inv.people_by_id[g].dataset in ids), w),
    )


def _action_path(
    inv: Inventory, plugin: Plugin, act: ActionScore, way_out: str, a: PluginAssumptions, w: Weights,
    sizes: dict[tuple, _Sizes],
) -> _Path:
    conn = inv.connector_by_id[act.connector]
    tools = [t for t in (conn.tool(name) for name in act.tools) if t is not None]
    gated = act.status is ToolStatus.GATED
    status_catch = a.controls.approval_gate_catch_rate if gated else 0.0
    audit = conn.audit
    common: dict[str, Any] = dict(
        connector=conn.id, action=act.action.value, tools=act.tools, status=act.status.value,
        audit=bool(audit is not None and audit.log_every_query), halt_hours=_halt_hours(plugin, conn, a), fixed=False,
    )
    key = (act.connector, act.action, act.tools)
    if key not in sizes:  # the stand-ins for unknown sizes are the same in every plugin's weights
        sizes[key] = _sizes(inv, act, w)
    size = sizes[key]
    if act.action is ActionClass.READ:
        bound = size.sensitive  # one query's worth per table (row-capped by the scope)
        if conn.row_limit is not None:
            bound = min(bound, conn.row_limit)
        if tools and all("fan_out" in t.model_fields_set for t in tools):
            bound = min(bound, max(t.fan_out for t in tools))  # a read's fan-out counts where the inventory gives it
        full, people = size.sensitive_full, size.sensitive_people
        if way_out == NO_WAY_OUT:  # no channel out: colleagues may see it; no human check on the way
            catch, escape = status_catch, a.controls.internal_exposure_share
        else:  # the scorer's autonomy of a read: its own gate times the way out's gate or review
            catch, escape = 1 - act.autonomy, 1.0
        threshold = audit.alert_if_rows_returned_over if audit is not None else None
        return _Path(
            key=f"data_leakage:{conn.id}.read", failure_class="data_leakage", reversibility="permanent",
            catch=catch, escape=escape, recovery=0.0, bound_records=bound, bound_people=min(people, bound),
            cap_records=float(full), cap_people=people, alert_records=float(threshold) if threshold else math.inf,
            alert_people=math.inf, controls=f"{act.status.value}; way out: {way_out}", **common,
        )
    records, people = size.records, size.people
    recovery = min((a.recovery[t.reversibility] for t in tools), default=0.0)
    worst = min(tools, key=lambda t: a.recovery[t.reversibility]).reversibility.value if tools else "immediate"
    sends = act.action in (ActionClass.SEND, ActionClass.SHARE)
    threshold = audit.alert_if_sends_over if sends and audit is not None else None
    return _Path(
        key=f"wrong_action:{conn.id}.{act.action.value}", failure_class="wrong_action", reversibility=worst,
        catch=status_catch, escape=1.0, recovery=recovery, bound_records=float(min(act.fan_out, records)),
        bound_people=float(min(act.fan_out, people)), cap_records=records, cap_people=people, alert_records=math.inf,
        alert_people=float(threshold) if threshold else math.inf, controls=f"{act.status.value}: {act.reason}", **common,
    )


def _plan_plugin(
    inv: Inventory, plugin: Plugin, a: PluginAssumptions, weights: Weights, period: Period,
    scorers: dict[str, Scorer], sizes: dict[tuple, _Sizes],
) -> _PluginPlan:
    w = _control_weights(weights, a)
    # one scorer per set of weights: plugins sharing connectors share their reach, computed once
    key = w.model_dump_json()
    if key not in scorers:
        scorers[key] = Scorer(inv, w)
    score = scorers[key].plugin(plugin)
    paths = [
        _action_path(inv, plugin, act, score.way_out, a, w, sizes)
        for act in score.actions
        if act.status in (ToolStatus.UNGATED, ToolStatus.GATED)
    ]
    out = score.output
    tier = f"review tier {out.review_tier or 'none'}"
    paths.append(
        _Path(
            key="wrong_output:output", failure_class="wrong_output", connector=None, action="output", tools=(),
            status=tier, reversibility="permanent", catch=a.controls.review_catch(out.review_tier), escape=1.0,
            recovery=0.0, bound_records=0.0, bound_people=float(out.audience * a.wrong_output.forwarding_factor),
            cap_records=math.inf, cap_people=math.inf, fixed=True, alert_records=math.inf, alert_people=math.inf,
            audit=False, halt_hours=_halt_hours(plugin, None, a), controls=f"{tier} ({out.destination.value} output)",
        )
    )
    runs = inv.runs_per_day(plugin) * period.working_days
    return _PluginPlan(plugin=plugin.id, department=inv.department_of(plugin), runs=runs, assumptions=a, paths=tuple(paths))


def _plan(inventory: Inventory, assumptions: Assumptions, weights: Weights) -> list[_PluginPlan]:
    scorers: dict[str, Scorer] = {}
    sizes: dict[tuple, _Sizes] = {}
    return [
        _plan_plugin(inventory, p, assumptions.for_plugin(p.id), weights, assumptions.period, scorers, sizes)
        for p in inventory.plugins
    ]


def _magnitude_moments(bound: float, q: float) -> tuple[float, float]:
    """Mean and variance of one event's magnitude: ``bound`` with probability q, else log-uniform on [1, bound]."""
    if bound <= 1:
        return bound, 0.0
    log = math.log(bound)
    m1 = (bound - 1) / log
    m2 = (bound * bound - 1) / (2 * log)
    mean = q * bound + (1 - q) * m1
    second = q * bound * bound + (1 - q) * m2
    return mean, max(second - mean * mean, 0.0)


_PATH_COLUMNS = (
    "plugin", "department", "failure_class", "path", "connector", "action", "tools", "status", "reversibility",
    "runs_per_period", "catch_rate", "escape_rate", "recovery_rate", "records_bound", "people_bound",
    "records_cap", "people_cap", "alert_over_rows", "alert_over_sends", "audit", "halt_hours", "controls",
    "expected_events", "expected_incidents", "expected_records", "expected_people", "expected_faults",
)


def failure_paths(
    inventory: Inventory,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    weights: Weights | Mapping[str, Any] | str | Path | None = None,
) -> pd.DataFrame:
    """Every way a plugin can fail, with every input the simulation takes from the inventory.

    One row per plugin and usable action (a connector and action class, as
    :mod:`blastradius.scores` groups tools: reads make up data leakage, other
    actions wrong action) and one per plugin output (wrong output). The
    ``expected_*`` columns are the closed-form expectations per period of the
    one-off failures on that path (before the per-period reach cap), which the
    simulated means converge to; ``expected_faults`` is the mean number of
    systematic faults starting on it. ``records_cap``, ``people_cap`` and the
    ``alert_over_*`` thresholds are empty where there is none.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> paths = failure_paths(load_inventory("inventories/acme"))
    >>> row = paths[(paths.plugin == "renewal-campaigns") & (paths.path == "email.send")].iloc[0]
    >>> float(row.people_bound), row.status, float(row.catch_rate)
    (2310.0, 'ungated', 0.0)
    """
    a = load_assumptions(assumptions, inventory=inventory)
    w = load_weights(weights, inventory=inventory)
    rows = []
    for plan in _plan(inventory, a, w):
        pa = plan.assumptions
        for path in plan.paths:
            q = pa.magnitude.full_share(path.failure_class)
            rate = getattr(pa.failure_rates, path.failure_class).mean
            events = plan.runs * min(rate, 1.0)
            incidents = 0.0 if path.harmless else events * (1 - path.catch) * path.escape
            mr = path.bound_records if path.fixed else _magnitude_moments(path.bound_records, q)[0]
            mp = path.bound_people if path.fixed else _magnitude_moments(path.bound_people, q)[0]
            rows.append({
                "plugin": plan.plugin, "department": plan.department, "failure_class": path.failure_class,
                "path": path.key.split(":", 1)[1], "connector": path.connector, "action": path.action,
                "tools": ", ".join(path.tools), "status": path.status, "reversibility": path.reversibility,
                "runs_per_period": plan.runs, "catch_rate": path.catch, "escape_rate": path.escape,
                "recovery_rate": path.recovery, "records_bound": path.bound_records, "people_bound": path.bound_people,
                "records_cap": path.cap_records, "people_cap": path.cap_people, "alert_over_rows": path.alert_records,
                "alert_over_sends": path.alert_people, "audit": path.audit, "halt_hours": path.halt_hours,
                "controls": path.controls, "expected_events": events, "expected_incidents": incidents,
                "expected_records": incidents * mr, "expected_people": incidents * mp,
                "expected_faults": pa.systematic.onsets_per_period.mean if plan.runs > 0 else 0.0,
            })
    df = pd.DataFrame(rows, columns=list(_PATH_COLUMNS))
    none = ["records_cap", "people_cap", "alert_over_rows", "alert_over_sends"]
    df[none] = df[none].replace(math.inf, math.nan)  # empty: no cap, no such alert
    return df


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------


def _check_metric(name: str) -> str:
    if name not in METRICS:
        hint = suggest(name, METRICS)
        raise BlastRadiusError(f"no metric '{name}'" + (f"; {hint}" if hint else f"; choose from {', '.join(METRICS)}"))
    return name


_FLOAT_FIELDS = ("records_permanent", "records_recoverable", "people_permanent", "people_recoverable")
_COUNT_FIELDS = ("incidents", "caught")
_FIELDS = _FLOAT_FIELDS + _COUNT_FIELDS  # in the kernel's order (R_RECORDS_PERMANENT ... R_CAUGHT)


@dataclass(frozen=True, kw_only=True, eq=False)
class SimulationResult:
    """Simulated periods: figures per trial, plugin and class, read by :func:`summarize` and friends.

    Each figure is stored only where it can be non-zero (a plugin that
    cannot touch records has no records column, a class with nothing to
    undo no recoverable column): ``values[name]`` is ``(trials, columns)``
    and ``columns[name]`` maps ``(plugin, class)`` to its column, -1 where
    the figure is always zero. The attributes below build the full
    ``(trials, plugins, classes)`` array on each access; :func:`summarize`,
    :func:`exceedance_curve` and :func:`compare_results` read the columns.

    Attributes
    ----------
    plugins, departments : tuple of str
        Plugin ids (inventory order) and each plugin's owning department.
    classes : tuple of str
        :data:`FAILURE_MODES`: the last axis of every array.
    records_permanent, records_recoverable : ndarray of float32
        Records affected per trial, plugin and class: permanent, or undone
        (soft-delete, staged).
    people_permanent, people_recoverable : ndarray of float32
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
    trials, seed : int
        Trials simulated, and the seed that reproduces them
        (``simulate_failures(..., seed=result.seed)``).
    assumptions : Assumptions
        The assumptions used (see :func:`assumptions_table`).
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
    trials: int
    seed: int
    assumptions: Assumptions
    source: str | None = None

    def _dense(self, name: str) -> np.ndarray:
        values, columns = self.values[name], self.columns[name].reshape(-1)
        out = np.zeros((self.trials, columns.shape[0]), dtype=values.dtype)
        kept = np.flatnonzero(columns >= 0)
        out[:, kept] = values[:, columns[kept]]
        out = out.reshape(self.trials, len(self.plugins), len(self.classes))
        out.setflags(write=False)
        return out

    def _sum(self, name: str, classes: np.ndarray) -> np.ndarray:
        """``(trials, plugins)`` float64 totals of one stored field over the chosen classes."""
        out = np.zeros((self.trials, len(self.plugins)))
        values, chosen = self.values[name], self.columns[name][:, classes]
        owner = np.nonzero(chosen >= 0)[0]  # columns run plugin by plugin, so the chosen ones do too
        if owner.size == 0:
            return out
        picked = chosen[chosen >= 0]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        every = picked.size == values.shape[1]
        for a in range(0, self.trials, _BLOCK):  # in blocks of trials: a gather of the chosen columns stays small
            block = values[a : a + _BLOCK] if every else values[a : a + _BLOCK, picked]
            out[a : a + _BLOCK, owner[starts]] = np.add.reduceat(block, starts, axis=1, dtype=np.float64)
        return out

    def _total(self, name: str, classes: np.ndarray) -> np.ndarray:
        """``(trials,)`` float64 totals over every plugin of one stored field over the chosen classes."""
        values, chosen = self.values[name], self.columns[name][:, classes]
        picked = np.sort(chosen[chosen >= 0])
        if picked.size == values.shape[1]:
            return values.sum(axis=1, dtype=np.float64)
        out = np.zeros(self.trials)
        for a in range(0, self.trials, _BLOCK):
            out[a : a + _BLOCK] = values[a : a + _BLOCK, picked].sum(axis=1, dtype=np.float64)
        return out

    @property
    def records_permanent(self) -> np.ndarray:
        return self._dense("records_permanent")

    @property
    def records_recoverable(self) -> np.ndarray:
        return self._dense("records_recoverable")

    @property
    def people_permanent(self) -> np.ndarray:
        return self._dense("people_permanent")

    @property
    def people_recoverable(self) -> np.ndarray:
        return self._dense("people_recoverable")

    @property
    def incidents(self) -> np.ndarray:
        return self._dense("incidents")

    @property
    def caught(self) -> np.ndarray:
        return self._dense("caught")

    @property
    def records(self) -> np.ndarray:
        """Records affected, permanent + recoverable."""
        return self.records_permanent + self.records_recoverable

    @property
    def people(self) -> np.ndarray:
        """People affected, permanent + recoverable."""
        return self.people_permanent + self.people_recoverable

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
        t, p, c = self.trials, len(self.plugins), len(self.classes)
        index = pd.MultiIndex.from_product([range(t), self.plugins, self.classes], names=["trial", "plugin", "failure_class"])
        df = pd.DataFrame({m: self.metric(m).reshape(-1) for m in METRICS}, index=index).reset_index()
        df.insert(2, "department", np.tile(np.repeat(np.array(self.departments, dtype=object), c), t))
        return df


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


_GLOBAL = _key("<global>")
_BLOCK = 1024  # trials per call of the kernel: paces progress; the numbers do not depend on it
_KERNEL_LOCK = threading.Lock()


def _root(seed: int | np.random.Generator | np.random.SeedSequence | None) -> int:
    """The one door for randomness: an int seed is used as is; anything else draws one from default_rng."""
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if seed < 0:
            raise BlastRadiusError(f"seed must be 0 or more, got {seed}")
        if seed >= 2**64:
            raise BlastRadiusError(f"seed must be below 2**64, got {seed}")
        return int(seed)
    return int(np.random.default_rng(seed).integers(0, 2**63 - 1))


def _interval(interval: Interval) -> tuple[float, float]:
    return interval.median, interval.sigma


def _plugin_row(plan: _PluginPlan) -> list[float]:
    """The kernel's per-plugin columns (see :mod:`blastradius._kernel`)."""
    a = plan.assumptions
    rates = [getattr(a.failure_rates, c) for c in _ONE_OFF]
    d = a.detection
    row = [0.0] * kernel.PLUGIN_COLUMNS
    row[kernel.P_RUNS] = plan.runs
    for j, rate in enumerate(rates):
        row[kernel.P_RATE_MEDIAN + j], row[kernel.P_RATE_SIGMA + j] = _interval(rate)
        row[kernel.P_FULL_SHARE + j] = a.magnitude.full_share(_ONE_OFF[j])
    row[kernel.P_ONSET_MEDIAN], row[kernel.P_ONSET_SIGMA] = _interval(a.systematic.onsets_per_period)
    row[kernel.P_SHARE] = a.systematic.share_of_runs_affected
    row[kernel.P_ALERT_FIRES] = d.alert_fires
    row[kernel.P_ALERT_MEDIAN], row[kernel.P_ALERT_SIGMA] = _interval(d.alert_response_hours)
    row[kernel.P_AUDIT_MEDIAN], row[kernel.P_AUDIT_SIGMA] = _interval(d.audit_review_hours)
    row[kernel.P_UNAIDED_MEDIAN], row[kernel.P_UNAIDED_SIGMA] = _interval(d.unaided_hours)
    for path in plan.paths:
        row[kernel.P_CATCH + _ONE_OFF.index(path.failure_class)] += path.catch
    return row


def _path_rows(path: _Path) -> tuple[list[float], list[int]]:
    floats = [0.0] * kernel.PATH_COLUMNS
    floats[kernel.F_CATCH] = path.catch
    floats[kernel.F_ESCAPE] = path.escape
    floats[kernel.F_RECOVERY] = path.recovery
    floats[kernel.F_BOUND_RECORDS] = path.bound_records
    floats[kernel.F_BOUND_PEOPLE] = path.bound_people
    floats[kernel.F_CAP_RECORDS] = path.cap_records
    floats[kernel.F_CAP_PEOPLE] = path.cap_people
    floats[kernel.F_ALERT_RECORDS] = path.alert_records
    floats[kernel.F_ALERT_PEOPLE] = path.alert_people
    floats[kernel.F_HALT_HOURS] = path.halt_hours
    floats[kernel.F_LOG_RECORDS] = math.log(path.bound_records) if path.bound_records > 1 else 0.0
    floats[kernel.F_LOG_PEOPLE] = math.log(path.bound_people) if path.bound_people > 1 else 0.0
    floats[kernel.F_LOG_MISS] = math.log1p(-path.catch) if 0 < path.catch < 1 else 0.0
    ints = [0] * kernel.PATH_INT_COLUMNS
    ints[kernel.I_CLASS] = _ONE_OFF.index(path.failure_class)
    ints[kernel.I_FIXED] = int(path.fixed)
    ints[kernel.I_AUDIT] = int(path.audit)
    return floats, ints


@dataclass(frozen=True, kw_only=True)
class _Tables:
    """The plan as the kernel reads it: one row per plugin, one per path (paths grouped by plugin)."""

    plugins: np.ndarray
    plugin_keys: np.ndarray
    path_start: np.ndarray
    keys: np.ndarray
    path_f: np.ndarray
    path_i: np.ndarray


def _tables(plans: Sequence[_PluginPlan]) -> _Tables:
    plugin_rows, floats, ints, keys, start = [], [], [], [], [0]
    for plan in plans:
        plugin_rows.append(_plugin_row(plan))
        pkey = _key(plan.plugin)
        for path in plan.paths:
            if path.harmless:  # reaches nothing: only its caught events count, drawn per plugin and class
                continue
            f, i = _path_rows(path)
            floats.append(f)
            ints.append(i)
            keys.append(kernel.stream_key(pkey, _key(path.key)))
        start.append(len(keys))
    return _Tables(
        plugins=np.array(plugin_rows, dtype=np.float64).reshape(len(plans), kernel.PLUGIN_COLUMNS),
        plugin_keys=np.array([kernel.stream_key(_key(p.plugin), _GLOBAL) for p in plans], dtype=np.uint64),
        path_start=np.array(start, dtype=np.int64),
        keys=np.array(keys, dtype=np.uint64),
        path_f=np.array(floats, dtype=np.float64).reshape(len(keys), kernel.PATH_COLUMNS),
        path_i=np.array(ints, dtype=np.int64).reshape(len(keys), kernel.PATH_INT_COLUMNS),
    )


def _columns(plans: Sequence[_PluginPlan], tables: _Tables) -> np.ndarray:
    """``(fields, plugins, classes)``: the column of each figure, -1 where the plan makes it always zero."""
    can = np.zeros((len(_FIELDS), len(plans), len(FAILURE_MODES)), dtype=bool)
    field = {name: i for i, name in enumerate(_FIELDS)}
    sy = FAILURE_MODES.index("systematic")
    for i, plan in enumerate(plans):
        if plan.runs <= 0:
            continue
        for path in plan.paths:
            if path.harmless:
                continue
            for j in (_ONE_OFF.index(path.failure_class), sy):
                can[field["incidents"], i, j] = True
                if path.bound_records > 0:
                    can[field["records_permanent"], i, j] = True
                    can[field["records_recoverable"], i, j] |= path.recovery > 0
                if path.bound_people > 0:
                    can[field["people_permanent"], i, j] = True
                    can[field["people_recoverable"], i, j] |= path.recovery > 0
            can[field["caught"], i, sy] |= path.catch > 0
        can[field["caught"], i, : len(_ONE_OFF)] |= tables.plugins[i, kernel.P_CATCH : kernel.P_CATCH + len(_ONE_OFF)] > 0
    columns = np.full(can.shape, -1, dtype=np.int64)
    for f in range(len(_FIELDS)):
        columns[f][can[f]] = np.arange(int(can[f].sum()))
    return columns


def _check_trials(trials: Any) -> int:
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer):
        raise BlastRadiusError(f"trials must be a whole number, got {trials!r}")
    if trials < 1:
        raise BlastRadiusError(f"trials must be at least 1, got {trials}")
    return int(trials)


def _simulate(
    inventory: Inventory,
    assumptions: Assumptions,
    weights: Weights,
    *,
    trials: int,
    root: int,
    progress: Callable[[int, int], Any] | None,
    offset: int = 0,
    total: int | None = None,
) -> SimulationResult:
    plans = _plan(inventory, assumptions, weights)
    tables = _tables(plans)
    columns = _columns(plans, tables)
    # float32 figures (7 significant digits) and int32 counts, only where they can be non-zero
    values = {
        name: np.zeros((trials, int((columns[f] >= 0).sum())), dtype=np.float32 if name in _FLOAT_FIELDS else np.int32)
        for f, name in enumerate(_FIELDS)
    }
    systematic_runs = np.zeros((trials, len(plans)), dtype=np.int32)
    lost = np.zeros(trials, dtype=np.uint8)
    total = trials if total is None else total
    for start in range(0, trials, _BLOCK):
        stop = min(start + _BLOCK, trials)
        with _KERNEL_LOCK:  # the kernel's thread pool runs one call at a time
            kernel.simulate_block(
                np.uint64(root), np.uint64(_GLOBAL), start, stop, tables.plugins, tables.plugin_keys, tables.path_start, tables.keys,
                tables.path_f, tables.path_i, assumptions.period.hours, columns,
                *(values[name][start:stop] for name in _FIELDS), systematic_runs[start:stop], lost[start:stop],
            )
        if progress is not None:
            progress(offset + stop, total)
    if lost.any():
        raise BlastRadiusError("internal error: the simulation drew a figure its plan says is always zero; please report it")
    for array in (*values.values(), systematic_runs, columns):
        array.setflags(write=False)
    runs = np.array([p.runs for p in plans])
    runs.setflags(write=False)
    return SimulationResult(
        plugins=tuple(p.plugin for p in plans),
        departments=tuple(p.department for p in plans),
        classes=FAILURE_MODES,
        columns={name: columns[f] for f, name in enumerate(_FIELDS)},
        values=values,
        systematic_runs_affected=systematic_runs,
        runs=runs,
        trials=trials,
        seed=root,
        assumptions=assumptions,
        source=inventory.source,
    )


def simulate_failures(
    inventory: Inventory,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = 10_000,
    seed: int | np.random.Generator | None = None,
    weights: Weights | Mapping[str, Any] | str | Path | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> SimulationResult:
    """Simulate ``trials`` periods of every plugin's failures, with the inventory's controls.

    Parameters
    ----------
    inventory : Inventory
    assumptions : Assumptions, mapping, file or None
        Laid over the defaults and the inventory's ``assumptions:`` section
        (see :func:`load_assumptions`).
    trials : int
        Periods to simulate. Memory and time grow linearly with trials × plugins.
    seed : int, Generator or None
        The one source of randomness. The same int gives the same numbers;
        each plugin's draws depend on the seed and its id only, so two
        inventories sharing plugins share their random numbers (what
        :func:`compare` relies on).
    weights : optional
        Scoring weights: only their stand-ins for unknown sizes are used.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block of trials.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ConfigError
        Invalid assumptions (file, line, key).
    BlastRadiusError
        ``trials`` below 1, a negative seed.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> inv = load_inventory("inventories/acme")
    >>> a = simulate_failures(inv, trials=100, seed=7)
    >>> b = simulate_failures(inv, trials=100, seed=7)
    >>> bool((a.people_permanent == b.people_permanent).all())
    True
    """
    trials = _check_trials(trials)
    a = load_assumptions(assumptions, inventory=inventory)
    w = load_weights(weights, inventory=inventory)
    return _simulate(inventory, a, w, trials=trials, root=_root(seed), progress=progress)


# ---------------------------------------------------------------------------
# Reading figures off a result
# ---------------------------------------------------------------------------

_BY = ("plugin", "department", "enterprise")
_STATS = (("mean", None), ("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


def _class_mask(result: SimulationResult, classes: Sequence[str] | str | None) -> np.ndarray:
    if classes is None:
        return np.ones(len(result.classes), dtype=bool)
    classes = [classes] if isinstance(classes, str) else list(classes)
    for c in classes:
        if c not in result.classes:
            hint = suggest(c, result.classes)
            raise BlastRadiusError(f"no failure class '{c}'" + (f"; {hint}" if hint else f"; choose from {', '.join(result.classes)}"))
    return np.isin(np.array(result.classes), classes)


_PARTS = {"records": ("records_permanent", "records_recoverable"), "people": ("people_permanent", "people_recoverable")}


def _grouped(
    result: SimulationResult, metric: str, by: str, classes: Sequence[str] | str | None = None
) -> tuple[list[str], np.ndarray]:
    """Group labels and the ``(trials, groups)`` totals of ``metric`` over the chosen classes."""
    if by not in _BY:
        hint = suggest(by, _BY)
        raise BlastRadiusError(f"cannot group by '{by}'" + (f"; {hint}" if hint else f"; choose from {', '.join(_BY)}"))
    mask = _class_mask(result, classes)
    parts = _PARTS.get(_check_metric(metric), (metric,))
    # summed in float64 from the stored columns: the full arrays are never built
    if by == "enterprise":
        return ["enterprise"], sum(result._total(name, mask) for name in parts)[:, None]
    per_plugin = sum(result._sum(name, mask) for name in parts)
    if by == "plugin":
        return list(result.plugins), per_plugin
    departments = sorted(set(result.departments))
    codes = np.array([departments.index(d) for d in result.departments], dtype=int)
    totals = np.zeros((per_plugin.shape[0], len(departments)))
    for j in range(len(departments)):
        totals[:, j] = per_plugin[:, codes == j].sum(axis=1)
    return departments, totals


def _stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and percentiles over trials (axis 0) of a ``(trials, groups)`` array."""
    qs = np.quantile(values, [q for _, q in _STATS[1:]], axis=0)
    out = {"mean": values.mean(axis=0)}
    out.update({name: qs[i] for i, (name, _) in enumerate(_STATS[1:])})
    return out


def summarize(
    result: SimulationResult,
    by: Literal["plugin", "department", "enterprise"] = "plugin",
    *,
    classes: Sequence[str] | str | None = None,
    by_class: bool = False,
) -> pd.DataFrame:
    """Mean, P50, P90, P95 and P99 per period of every figure, per plugin, department or the enterprise.

    Percentiles are of the group's total in each trial (never sums of
    percentiles). Rows are sorted by mean records affected, then people.

    Parameters
    ----------
    by : {"plugin", "department", "enterprise"}
    classes : str or list of str, optional
        Only these failure classes (default: all of :data:`FAILURE_MODES`).
    by_class : bool
        One row per group and failure class instead of one per group.

    Returns
    -------
    DataFrame
        ``group`` (and ``department`` by plugin, ``failure_class`` by class),
        then ``METRIC_STAT`` for every metric of :data:`METRICS` and stat of
        mean, p50, p90, p95, p99; e.g. ``records_p95``, ``people_mean``.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> r = simulate_failures(load_inventory("inventories/acme"), trials=300, seed=3)
    >>> df = summarize(r, by="department")
    >>> sorted(df.group)[:3]
    ['engineering', 'finance', 'hr']
    >>> bool((df.records_p95 >= df.records_p50).all())
    True
    """
    per_class = [[c] for c in result.classes if _class_mask(result, classes)[result.classes.index(c)]] if by_class else [classes]
    frames = []
    for cls in per_class:
        columns: dict[str, Any] = {}
        labels: list[str] = []
        for metric in METRICS:
            labels, values = _grouped(result, metric, by, cls)
            for stat, arr in _stats(values).items():
                columns[f"{metric}_{stat}"] = arr
        df = pd.DataFrame({"group": labels, **columns})
        if by == "plugin":
            df.insert(1, "department", list(result.departments))
        if by_class:
            df.insert(1, "failure_class", cls[0])
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    if not by_class:
        df = df.sort_values(["records_mean", "people_mean", "group"], ascending=[False, False, True], kind="mergesort")
        return df.reset_index(drop=True)
    order = summarize(result, by, classes=classes).group.tolist()  # groups as without classes, classes in order
    rank = df.group.map({g: i for i, g in enumerate(order)}) * len(FAILURE_MODES) + df.failure_class.map(FAILURE_MODES.index)
    return df.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def exceedance_curve(
    result: SimulationResult,
    metric: str = "records",
    *,
    by: Literal["plugin", "department", "enterprise"] = "enterprise",
    classes: Sequence[str] | str | None = None,
    points: int | None = None,
) -> pd.DataFrame:
    """Loss-exceedance curve: the probability that a period's figure exceeds each value.

    Parameters
    ----------
    metric : str
        One of :data:`METRICS`, e.g. ``records``, ``people_permanent``.
    by : {"enterprise", "plugin", "department"}
        One curve per group.
    points : int, optional
        Values at which to read the curve: ``points`` log-spaced values from
        1 to the largest simulated (and 0). By default, every distinct
        simulated value (the empirical curve).

    Returns
    -------
    DataFrame
        ``group``, ``value``, ``exceedance`` (share of trials whose figure is
        strictly above ``value``), in increasing value.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> r = simulate_failures(load_inventory("inventories/acme"), trials=300, seed=3)
    >>> curve = exceedance_curve(r, "people", points=20)
    >>> bool(curve.exceedance.is_monotonic_decreasing)
    True
    """
    labels, values = _grouped(result, metric, by, classes)
    frames = []
    for j, label in enumerate(labels):
        col = np.sort(values[:, j])
        if points is None:
            grid = np.unique(col)
        else:
            if points < 2:
                raise BlastRadiusError(f"points must be at least 2, got {points}")
            top = max(float(col[-1]), 1.0)
            grid = np.unique(np.concatenate([[0.0], np.geomspace(1.0, top, points - 1)]))
        exceed = 1.0 - np.searchsorted(col, grid, side="right") / col.shape[0]
        frames.append(pd.DataFrame({"group": label, "value": grid, "exceedance": exceed}))
    return pd.concat(frames, ignore_index=True)


def exceedance_by_class(result: SimulationResult, metric: str = "records", *, points: int = 80) -> pd.DataFrame:
    """Enterprise-wide loss-exceedance curves, one per failure class (``group`` is the class).

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> r = simulate_failures(load_inventory("inventories/acme"), trials=200, seed=3)
    >>> sorted(exceedance_by_class(r).group.unique()) == sorted(r.classes)
    True
    """
    return pd.concat(
        [exceedance_curve(result, metric, classes=[c], points=points).assign(group=c) for c in result.classes],
        ignore_index=True,
    )


# ---------------------------------------------------------------------------
# Comparing scenarios on common random numbers
# ---------------------------------------------------------------------------

_COMPARE_STATS = (("mean", None), ("p50", 0.5), ("p95", 0.95))


def compare_results(
    baseline: SimulationResult,
    controlled: SimulationResult,
    *,
    by: Literal["plugin", "department", "enterprise"] | Sequence[str] = "enterprise",
    metrics: Sequence[str] = ("records", "people"),
    classes: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """What the controls of ``controlled`` buy over ``baseline``: the reduction at mean, P50 and P95.

    Both results must come from the same seed and number of trials (common
    random numbers), so that a plugin's draws line up trial by trial. A
    plugin present in only one counts zero in the other.

    Returns
    -------
    DataFrame
        ``level`` (plugin, department or enterprise), ``group``, ``metric``,
        then ``baseline_S``, ``controlled_S``, ``reduction_S`` (baseline less
        controlled) and ``reduction_share_S`` for S in mean, p50, p95.
    """
    if baseline.trials != controlled.trials or baseline.seed != controlled.seed:
        raise BlastRadiusError(
            "results to compare must share seed and trials (common random numbers); "
            f"got seed {baseline.seed} with {baseline.trials} trials and seed {controlled.seed} with {controlled.trials}"
        )
    levels = [by] if isinstance(by, str) else list(by)
    rows = []
    for level in levels:
        for metric in metrics:
            lb, vb = _grouped(baseline, metric, level, classes)
            lc, vc = _grouped(controlled, metric, level, classes)
            labels = lb + [g for g in lc if g not in lb]
            tb = np.zeros((baseline.trials, len(labels)))
            tc = np.zeros_like(tb)
            tb[:, : len(lb)] = vb
            for j, g in enumerate(lc):
                tc[:, labels.index(g)] = vc[:, j]
            sb, sc = _stats(tb), _stats(tc)
            for j, g in enumerate(labels):
                row: dict[str, Any] = {"level": level, "group": g, "metric": metric}
                for stat, _ in _COMPARE_STATS:
                    b, c = float(sb[stat][j]), float(sc[stat][j])
                    row[f"baseline_{stat}"] = b
                    row[f"controlled_{stat}"] = c
                    row[f"reduction_{stat}"] = b - c
                    row[f"reduction_share_{stat}"] = (b - c) / b if b > 0 else 0.0
                rows.append(row)
    return pd.DataFrame(rows)


def compare(
    baseline: Inventory,
    controlled: Inventory,
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = 10_000,
    seed: int | np.random.Generator | None = None,
    weights: Weights | Mapping[str, Any] | str | Path | None = None,
    by: Sequence[str] = ("plugin", "enterprise"),
    metrics: Sequence[str] = ("records", "people"),
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """Risk reduction of ``controlled`` over ``baseline`` (e.g. acme vs acme-governed), on the same trials.

    Both inventories are simulated with the same random numbers; the
    baseline's assumptions and weights (its own sections, then
    ``assumptions``/``weights``) apply to both, so that only the controls
    differ. Per-plugin overrides may name a plugin of either inventory.

    Returns
    -------
    DataFrame
        As :func:`compare_results`, per plugin then for the enterprise.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> acme = load_inventory("inventories/acme")
    >>> df = compare(acme, acme, trials=200, seed=5)
    >>> float(df.reduction_p95.abs().max())
    0.0
    """
    trials = _check_trials(trials)
    a = _load_for(assumptions, baseline, [baseline, controlled])
    w = load_weights(weights, inventory=baseline)
    root = _root(seed)
    b = _simulate(baseline, a, w, trials=trials, root=root, progress=progress, total=2 * trials)
    c = _simulate(controlled, a, w, trials=trials, root=root, progress=progress, offset=trials, total=2 * trials)
    return compare_results(b, c, by=by, metrics=metrics)


def _load_for(source: Any, inventory: Inventory, inventories: Sequence[Inventory]) -> Assumptions:
    """Assumptions of ``inventory`` (its section, then ``source``); per-plugin overrides may name a plugin of any of ``inventories``."""
    a = source if isinstance(source, Assumptions) else _load(source, inventory.settings.get("assumptions"))
    _check_plugins(a, {p for inv in inventories for p in inv.plugin_by_id})
    return a


def compare_levers(
    inventory: Inventory,
    levers: Mapping[str, Callable[[Inventory], Inventory]],
    assumptions: Assumptions | Mapping[str, Any] | str | Path | None = None,
    *,
    trials: int = 10_000,
    seed: int | np.random.Generator | None = None,
    weights: Weights | Mapping[str, Any] | str | Path | None = None,
    by: Literal["plugin", "department", "enterprise"] | Sequence[str] = "enterprise",
    metrics: Sequence[str] = ("records", "people"),
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """What each lever buys on its own: the inventory, then each lever applied to it, on the same trials.

    Parameters
    ----------
    levers : mapping of name to callable
        Each returns a changed inventory, e.g.
        ``{"gate ap-autopilot pay": lambda inv: with_approval_gate(inv, "ap-autopilot", "pay")}``
        (see :mod:`blastradius.levers`).

    Returns
    -------
    DataFrame
        As :func:`compare_results`, with a first column ``lever``, ordered as
        the levers are; the baseline is simulated once.

    Examples
    --------
    >>> from blastradius import load_inventory
    >>> from blastradius.levers import with_approval_gate
    >>> inv = load_inventory("inventories/acme")
    >>> df = compare_levers(inv, {"gate pay": lambda i: with_approval_gate(i, "ap-autopilot", "pay")},
    ...                     trials=300, seed=2)
    >>> row = df[df.metric == "records"].iloc[0]
    >>> bool(row.reduction_mean > 0)
    True
    """
    trials = _check_trials(trials)
    a = _load_for(assumptions, inventory, [inventory])
    w = load_weights(weights, inventory=inventory)
    root = _root(seed)
    total = trials * (1 + len(levers))
    base = _simulate(inventory, a, w, trials=trials, root=root, progress=progress, total=total)
    frames = []
    for k, (name, lever) in enumerate(levers.items(), start=1):
        changed = lever(inventory)
        if not isinstance(changed, Inventory):
            raise BlastRadiusError(f"lever '{name}' returned {type(changed).__name__}, not an Inventory")
        result = _simulate(changed, a, w, trials=trials, root=root, progress=progress, offset=k * trials, total=total)
        df = compare_results(base, result, by=by, metrics=metrics)
        df.insert(0, "lever", name)
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
