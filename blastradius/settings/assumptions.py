"""Assumptions of the failure simulation: every number it draws from, with where each came from.

The defaults are ``blastradius/data/assumptions.yaml`` (docs/simulation.md
explains each); an inventory's ``assumptions:`` section and a file or mapping
given by the caller are laid over them, in that order. Per-plugin overrides
(``plugins: {ID: {...}}``) must name plugins of the inventory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, cast

import numpy as np
import yaml
from pydantic import BeforeValidator, Field, PrivateAttr, StrictFloat, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from blastradius.errors import BlastRadiusError, ConfigError, Problem, suggest
from blastradius.model import Record, Reversibility, SettingsSource
from blastradius.settings.files import Document, deep_merge, read_settings_document, validate_settings
from blastradius.settings.provenance import Provenance, layer_notes, note_of
from blastradius.settings.weights import review_tier_key

if TYPE_CHECKING:
    from blastradius.model import Inventory

__all__ = [
    "Assumptions",
    "Controls",
    "Detection",
    "FailureRates",
    "Halt",
    "Interval",
    "Magnitude",
    "Period",
    "PluginAssumptions",
    "PluginOverride",
    "ProbabilityInterval",
    "Systematic",
    "UntrustedInput",
    "WrongOutput",
    "check_assumptions",
    "default_assumptions",
    "load_assumptions",
]

_Z90 = 1.6448536269514722  # standard normal 95th percentile: a 90% interval spans ±_Z90 sigma
#: A plugin id, as the inventory writes it.
_PLUGIN_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"

#: Most any count, hour, second or factor of the assumptions may be: finite, and far above any that means something.
_MAX_AMOUNT = 1e15
_MAX_FACTOR = 1e6
#: Most an interval's upper bound may be, as a multiple of its lower one.
_MAX_SPREAD = 1e12

Probability = Annotated[StrictFloat, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[StrictFloat, Field(ge=0, le=_MAX_AMOUNT, allow_inf_nan=False)]


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
            raise PydanticCustomError(
                "interval", f"the lower bound {self.low:g} is above the upper bound {self.high:g}"
            )
        if self._upper is not None and self.high > self._upper:
            raise PydanticCustomError("interval", f"the upper bound {self.high:g} is above {self._upper:g}")
        if self.low == 0 and self.high > 0:
            raise PydanticCustomError(
                "interval", "a 90% interval is drawn lognormally: its lower bound must be above 0 (or give one number)"
            )
        if self.high > self.low * _MAX_SPREAD:  # says nothing; far wider, its draws overflow to infinity
            raise PydanticCustomError(
                "interval", f"the upper bound {self.high:g} is more than {_MAX_SPREAD:g} times the lower {self.low:g}"
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
        """Mean of the lognormal, ``median * exp(sigma**2 / 2)``.

        For a probability, this is before draws above 1 are clipped.
        """
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
    working_days: Annotated[StrictFloat, Field(gt=0, le=366)] = Field(description="Working days in the period.")
    hours_per_day: Annotated[StrictFloat, Field(gt=0, le=24)] = Field(
        description="Working hours per day: runs happen, and faults are noticed, in working hours."
    )

    @property
    def hours(self) -> float:
        return self.working_days * self.hours_per_day


class FailureRates(Record):
    """Probability that one run fails in each way (D5), before any control."""

    wrong_action: ProbabilityInterval = Field(
        description="Per run and action: the right kind of action on the wrong target."
    )
    data_leakage: ProbabilityInterval = Field(
        description="Per run and connector read: records reach someone who should not see them."
    )
    wrong_output: ProbabilityInterval = Field(description="Per run: a confidently wrong answer that people act on.")


class Systematic(Record):
    """Faults that repeat on every run until halted (D5 'any, at scale')."""

    onsets_per_period: Interval = Field(
        description="Systematic faults starting per period on each action and output of a plugin."
    )
    share_of_runs_affected: Probability = Field(
        description="Share of the plugin's runs that hit the fault while it lasts."
    )


class Magnitude(Record):
    """What one wrong call touches within its bound: its whole bound with some probability, else a lognormal."""

    wrong_action_targets: Interval = Field(
        description="Targets one wrong action touches (90% interval), within its fan-out and reach."
    )
    data_leakage_records: Interval = Field(
        description="Records one leak exposes (90% interval), within what one call returns."
    )
    wrong_action_full_share: Probability = Field(
        description="Share of wrong actions that use their whole fan-out (a bulk send to the whole list)."
    )
    data_leakage_full_share: Probability = Field(
        description="Share of leaks that pull everything one call can return (up to the row limit)."
    )
    records_per_result: Annotated[StrictFloat, Field(ge=1, le=_MAX_AMOUNT)] = Field(
        description="Most records one tool result carries into a run, where neither the connector's row limit "
        "nor the tool's fan-out says."
    )

    def full_share(self, failure_class: str) -> float:
        """For a path of ``failure_class`` (a wrong output always reaches its whole audience)."""
        return {"wrong_action": self.wrong_action_full_share, "data_leakage": self.data_leakage_full_share}.get(
            failure_class, 1.0
        )

    def law(self, failure_class: str) -> tuple[float, float, float]:
        """``(mu, sigma, full)``: log-median and log-sd of one event's size, and the share that is its whole bound."""
        size = {"wrong_action": self.wrong_action_targets, "data_leakage": self.data_leakage_records}.get(failure_class)
        if size is None:
            return 0.0, 0.0, 1.0
        return math.log(max(size.median, 1e-300)), size.sigma, self.full_share(failure_class)


class UntrustedInput(Record):
    """Plugins that take in untrusted content (web pages, inbound email, outside tickets, shared documents)."""

    rate_factor: Annotated[StrictFloat, Field(ge=1, le=_MAX_FACTOR)] = Field(
        description="Their wrong-action and data-leakage rates are this many times the base rates "
        "(injected instructions, D5)."
    )


class Controls(Record):
    """Human checks: approval gates, review tiers, and exposure without a way out."""

    approval_gate_catch_rate: Probability = Field(
        description="Share of wrong gated calls a human stops at the approval prompt."
    )
    review_catch_rate: TierRates = Field(description="Share of wrong output each review tier stops before it spreads.")
    internal_exposure_share: Probability = Field(
        description="Share of sensitive pulls, with no channel out of the organisation, "
        "seen by colleagues who should not."
    )

    @field_validator("review_catch_rate")
    @classmethod
    def _every_tier(cls, value: dict) -> dict:
        missing = {"none", "1", "2", "3"} - set(value)
        if missing:
            raise ValueError("missing " + ", ".join(sorted(missing)))
        return value

    def review_catch(self, tier: int | None) -> float:
        return self.review_catch_rate[review_tier_key(tier)]


class WrongOutput(Record):
    """How far a wrong output travels."""

    forwarding_factor: NonNegative = Field(
        description="Multiplier on the plugin's output_audience (forwarding is already in it)."
    )


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
    unrehearsed_factor: Annotated[StrictFloat, Field(ge=1, le=_MAX_FACTOR)] = Field(
        description="A kill switch never rehearsed (no rehearsed_on) is this much slower."
    )
    manual_hours: NonNegative = Field(description="Neither a kill switch nor revocation: unplugged by hand.")


class PluginAssumptions(Record):
    """The assumptions that hold for one plugin: every section but ``period`` and ``plugins``."""

    failure_rates: FailureRates
    systematic: Systematic
    magnitude: Magnitude
    untrusted_input: UntrustedInput
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
        annotation: Any = info.annotation
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
    value came from (:attr:`sources`, shown by
    :func:`blastradius.simulate.assumptions_table`).
    """

    period: Period
    plugins: dict[Annotated[str, Field(pattern=_PLUGIN_ID)], PluginOverride] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Per-plugin overrides of any key but period."
    )

    _sources: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)
    _provenance: dict[str, Provenance] = PrivateAttr(default_factory=dict)
    _plugin_origins: dict[str, tuple[str | None, str, int | None]] = PrivateAttr(default_factory=dict)

    @property
    def sources(self) -> Mapping[str, tuple[str, str | None]]:
        """``{key path: (source, file)}``: source is ``default``, ``inventory`` or ``override``."""
        return dict(self._sources)

    @property
    def provenance(self) -> Mapping[str, Provenance]:
        """``{key path: Provenance}``: the public source and plausible range given with each value, where one was."""
        return dict(self._provenance)

    def for_plugin(self, plugin: str) -> PluginAssumptions:
        """The assumptions that hold for ``plugin``: the global ones with its override laid over them."""
        override: Any = self.plugins.get(plugin)  # a PluginOverride, a model built at import
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
        return source.data, source.file, source.path + "." if source.path else ""
    if isinstance(source, Document):
        return source.data, str(source.file), ""
    return dict(source), None, ""


def _unknown_plugins(named: Mapping[str, tuple[str | None, str, int | None]], known: Iterable[str]) -> list[Problem]:
    """A problem for each plugin in ``named`` (id -> file, key path, line) that is not ``known``."""
    known = sorted(set(known))
    return [
        Problem(
            file=Path(file) if file is not None else Path("<assumptions>"),
            path=key,
            line=line,
            message=f"no plugin '{plugin}' in the inventory",
            hint=suggest(plugin, known),
        )
        for plugin, (file, key, line) in named.items()
        if plugin not in known
    ]


def _check_plugins(assumptions: Assumptions, known: Iterable[str]) -> None:
    problems = _unknown_plugins(
        {p: assumptions._plugin_origins.get(p, (None, f"plugins.{p}", None)) for p in assumptions.plugins}, known
    )
    if problems:
        raise ConfigError(problems)


def load_assumptions(
    source: str | Path | Mapping[str, Any] | Assumptions | None = None, *, inventory: Inventory | None = None
) -> Assumptions:
    """Assumptions: the defaults, then the inventory's ``assumptions:`` section, then ``source`` (a file or a mapping).

    Keys a layer leaves out keep the value below it; a ``{low, high}``
    interval may be overridden as a whole or one bound at a time. Each value
    remembers which layer set it (see :func:`blastradius.simulate.assumptions_table`).

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
    >>> from blastradius import load_inventory
    >>> load_assumptions({"plugins": {"crm-hygeine": {}}}, inventory=load_inventory("inventories/acme"))
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
    if isinstance(source, str | Path):
        source = read_settings_document(source)  # read once: validated, then asked which keys it sets
    defaults = _default_data()
    result = cast(Assumptions, validate_settings(Assumptions, defaults, own, source))
    layers: list[tuple[str, Mapping[str, Any], str | None, str, Document | None]] = [
        ("default", defaults, None, "", None)
    ]
    for label, layer in (("inventory", own), ("override", source)):
        if layer is not None:
            layer_data, layer_file, layer_prefix = _layer_data(layer)
            document = layer if isinstance(layer, Document) else None
            layers.append((label, layer_data, layer_file, layer_prefix, document))
    sources: dict[str, tuple[str, str | None]] = {}
    provenance: dict[str, Provenance] = {}
    notes = [layer_notes(data, file) for _, data, file, _, _ in layers]
    for path, _, _ in _leaves(result):
        parts = path.split(".")
        for (label, data, file, _, _), layer in zip(layers, notes, strict=True):
            if _has_path(data, parts):
                sources[path] = (label, file)
                provenance[path] = note_of(layer, path)
    origins: dict[str, tuple[str | None, str, int | None]] = {}
    for _, data, file, prefix, document in layers[1:]:
        plugins = data.get("plugins")
        for plugin in plugins if isinstance(plugins, Mapping) else ():
            key = f"{prefix}plugins.{plugin}"
            origins[str(plugin)] = (file, key, document.line_of(key) if document is not None else None)
    result._sources = sources
    result._provenance = provenance
    result._plugin_origins = origins
    return result


def check_assumptions(source: SettingsSource, *, plugins: Collection[str]) -> list[Problem]:
    """Every problem of an inventory's ``assumptions:`` section: invalid values, and plugins ``plugins`` lacks.

    Problems carry file and key path; the caller, who holds the file's lines, adds them.

    Examples
    --------
    >>> section = SettingsSource(data={"plugins": {"crm-hygeine": {}}}, file="a.yaml", path="assumptions")
    >>> [str(p) for p in check_assumptions(section, plugins=["crm-hygiene"])]
    ["a.yaml: assumptions.plugins.crm-hygeine: no plugin 'crm-hygeine' in the inventory (did you mean 'crm-hygiene'?)"]
    """
    problems: list[Problem] = []
    try:
        _load(None, source)
    except ConfigError as exc:
        problems.extend(exc.problems)
    named = source.data.get("plugins")
    if isinstance(named, Mapping):
        prefix = source.path + "." if source.path else ""
        ids = {str(p): (source.file, f"{prefix}plugins.{p}", None) for p in named if re.match(_PLUGIN_ID, str(p))}
        problems.extend(_unknown_plugins(ids, plugins))
    return problems
